//! Real browsers over WebDriver: headless Chromium (chromedriver) and Firefox ESR
//! (geckodriver), each started on a free loopback port for one test.

use std::future::Future;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use fantoccini::elements::{Element, ShadowRoot};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

/// Which browser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BrowserKind {
    /// Debian's Chromium with chromedriver.
    Chromium,
    /// Firefox ESR with geckodriver.
    Firefox,
}

impl BrowserKind {
    /// Both, for tests that run in each.
    pub const ALL: [BrowserKind; 2] = [BrowserKind::Chromium, BrowserKind::Firefox];

    /// A short name for file names and messages.
    pub fn name(self) -> &'static str {
        match self {
            BrowserKind::Chromium => "chromium",
            BrowserKind::Firefox => "firefox",
        }
    }
}

/// A browser session and the driver process behind it.
pub struct Browser {
    /// The WebDriver client.
    pub client: Client,
    /// Which browser it is.
    pub kind: BrowserKind,
    driver: tokio::process::Child,
    _profile: TempDir,
}

impl Browser {
    /// Starts the driver and a headless browser with a fresh profile.
    pub async fn start(kind: BrowserKind) -> Browser {
        let port = free_port();
        let profile = TempDir::new(kind.name());
        let (program, args): (&str, Vec<String>) = match kind {
            BrowserKind::Chromium => ("chromedriver", vec![format!("--port={port}")]),
            BrowserKind::Firefox => (
                "geckodriver",
                vec![
                    "--host".into(),
                    "127.0.0.1".into(),
                    "--port".into(),
                    port.to_string(),
                ],
            ),
        };
        let driver = tokio::process::Command::new(program)
            .args(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Its own process group, with the browser it starts: see `Drop`.
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|err| {
                panic!("cannot start {program} (run `cargo xtask install`): {err}")
            });
        let capabilities = match kind {
            BrowserKind::Chromium => json!({
                "browserName": "chrome",
                "goog:chromeOptions": {
                    "binary": "/usr/bin/chromium",
                    "args": [
                        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                        "--no-first-run", "--disable-background-networking", "--disable-component-update",
                        "--disable-sync", "--disable-quic", "--window-size=1280,900",
                        format!("--user-data-dir={}", profile.0.display()),
                    ]
                }
            }),
            BrowserKind::Firefox => json!({
                "browserName": "firefox",
                "moz:firefoxOptions": {
                    "binary": firefox_binary(),
                    "args": ["-headless", "-profile", profile.0.display().to_string()],
                    "prefs": {
                        "app.update.enabled": false,
                        "browser.shell.checkDefaultBrowser": false,
                        "datareporting.policy.dataSubmissionEnabled": false,
                        "toolkit.telemetry.enabled": false,
                        "network.captive-portal-service.enabled": false,
                        "network.connectivity-service.enabled": false,
                        "browser.safebrowsing.malware.enabled": false,
                        "browser.safebrowsing.phishing.enabled": false,
                        "extensions.update.enabled": false
                    }
                }
            }),
        };
        let capabilities = match capabilities {
            serde_json::Value::Object(map) => map,
            _ => unreachable!("capabilities are an object"),
        };
        let url = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        let client = loop {
            let mut builder =
                ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new());
            builder.capabilities(capabilities.clone());
            match builder.connect(&url).await {
                Ok(client) => break client,
                Err(err) if started.elapsed() < Duration::from_secs(60) => {
                    let _ = err;
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
                Err(err) => panic!("{} did not start a session: {err}", kind.name()),
            }
        };
        client.set_window_size(1280, 900).await.unwrap();
        Browser {
            client,
            kind,
            driver,
            _profile: profile,
        }
    }

    /// The widget's shadow root on the current page, once the loader has drawn it.
    pub async fn widget(&self) -> ShadowRoot {
        let host = self
            .client
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css("baton-chat"))
            .await;
        let host = host.unwrap_or_else(|err| {
            panic!(
                "{}: the widget's host element never appeared: {err}",
                self.kind.name()
            )
        });
        host.shadow_root().await.unwrap()
    }

    /// Waits until `css` matches inside the widget, and returns the element.
    pub async fn find_in_widget(&self, css: &str) -> Element {
        let what = format!("`{css}` in the widget");
        eventually(&what, || async {
            let root = self.widget().await;
            root.find(Locator::Css(css)).await.ok()
        })
        .await
    }

    /// Waits until `css` matches inside the widget, and clicks it.
    pub async fn click_in_widget(&self, css: &str) {
        self.find_in_widget(css).await.click().await.unwrap();
    }

    /// Clicks the element matching `css` on the page itself (the agent console, say).
    pub async fn click_on_page(&self, css: &str) {
        let element = self.client.find(Locator::Css(css)).await.unwrap();
        element.click().await.unwrap();
    }

    /// Waits until some element matching `css` in the widget contains `text`.
    pub async fn wait_for_text(&self, css: &str, text: &str) -> Element {
        let what = format!("`{css}` containing {text:?} in the widget");
        eventually(&what, || async {
            let root = self.widget().await;
            for element in root.find_all(Locator::Css(css)).await.ok()? {
                if element.text().await.ok()?.contains(text) {
                    return Some(element);
                }
            }
            None
        })
        .await
    }

    /// Waits until the end of the element matching `css` is within the visible part of
    /// the conversation: the customer sees it without scrolling.
    pub async fn wait_until_in_view(&self, css: &str) {
        let script = "const root = document.querySelector('baton-chat').shadowRoot;
            const log = root.querySelector('.log'), element = root.querySelector(arguments[0]);
            return !!log && !!element &&
              element.getBoundingClientRect().bottom <= log.getBoundingClientRect().bottom + 1;";
        let what = format!("the end of `{css}` in view in the conversation");
        eventually(&what, || async {
            let in_view = self.client.execute(script, vec![css.into()]).await.ok()?;
            in_view.as_bool().filter(|&yes| yes)
        })
        .await;
    }

    /// Waits until some displayed element matching `css` on the page (outside the
    /// widget) contains `text`.
    pub async fn wait_for_page_text(&self, css: &str, text: &str) -> Element {
        let what = format!("`{css}` showing {text:?} ({})", self.kind.name());
        eventually(&what, || async {
            for element in self.client.find_all(Locator::Css(css)).await.ok()? {
                if element.is_displayed().await.ok()? && element.text().await.ok()?.contains(text) {
                    return Some(element);
                }
            }
            None
        })
        .await
    }

    /// Opens the chat with the launcher, waits until the model has loaded (the suggested
    /// questions appear), and returns the message box.
    pub async fn open_chat(&self) -> Element {
        self.find_in_widget("button.launcher")
            .await
            .click()
            .await
            .unwrap();
        self.find_in_widget(".suggestions .chip").await;
        self.find_in_widget("#baton-input").await
    }

    /// What has keyboard focus in the widget: the element's id, or its class names when
    /// it has none; `None` when nothing in the widget has focus.
    pub async fn focus_in_widget(&self) -> Option<String> {
        let script = "const h = document.querySelector('baton-chat'); \
                      const a = h && h.shadowRoot.activeElement; \
                      return a ? (a.id || a.className) : null;";
        let focused = self.client.execute(script, vec![]).await.ok()?;
        focused.as_str().map(str::to_owned)
    }

    /// Runs `script` in the page, which must `return` a number, and gives that number.
    pub async fn number(&self, script: &str) -> f64 {
        let value = self.client.execute(script, vec![]).await.unwrap();
        value
            .as_f64()
            .unwrap_or_else(|| panic!("`{script}` gave {value}, not a number"))
    }

    /// Escalates from the widget (question, "Talk to a person", consent) and returns the
    /// conversation id the widget shows.
    pub async fn escalate_in_widget(&self, question: &str) -> String {
        self.ask_for_a_person(question).await;
        self.send_to_a_person().await
    }

    /// Asks a question, then "Talk to a person": the consent question shows.
    pub async fn ask_for_a_person(&self, question: &str) {
        self.open_chat().await;
        self.ask(question).await;
        self.find_in_widget(".message.from-bot").await;
        self.click_in_widget("button.person").await;
    }

    /// Agrees to send the conversation; returns the conversation id once queued.
    pub async fn send_to_a_person(&self) -> String {
        self.agree_to_send().await;
        let queued = self.wait_for_text(".queued", "in line").await;
        queued.attr("data-conversation").await.unwrap().unwrap()
    }

    /// "End chat", confirmed, on a chat with the bot alone: it is forgotten, and a new
    /// one starts with its suggestions.
    pub async fn forget_chat(&self) {
        self.click_in_widget("button.end").await;
        self.click_in_widget(".end-question button.primary").await;
        self.find_in_widget(".suggestions .chip").await;
    }

    /// Presses "Send to a person" under the consent question.
    pub async fn agree_to_send(&self) {
        self.wait_for_text(".consent button.primary", "Send to a person")
            .await
            .click()
            .await
            .unwrap();
    }

    /// Types a message into the chat and presses Enter.
    pub async fn ask(&self, text: &str) {
        let input = self.find_in_widget("#baton-input").await;
        input.send_keys(&format!("{text}\u{e007}")).await.unwrap();
    }

    /// Runs axe-core (from npm, installed by xtask) on the current page, Shadow DOM
    /// included, and returns its violations as readable lines (empty when clean).
    pub async fn axe_violations(&self) -> serde_json::Value {
        let axe_path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../xtask/node_modules/axe-core/axe.min.js"
        );
        let axe = std::fs::read_to_string(axe_path)
            .expect("axe-core is installed by `cargo xtask install`");
        self.client.execute(&axe, vec![]).await.unwrap();
        self.client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document, { resultTypes: ['violations'] }).then(
                   (r) => done(r.violations.map((v) => v.id + ': ' + v.help + ' at ' +
                     v.nodes.map((n) => JSON.stringify(n.target)).join(', '))),
                   (e) => done(['axe failed: ' + e]));",
                vec![],
            )
            .await
            .unwrap()
    }

    /// Saves a PNG of the viewport to `BATON_SCREENSHOT_DIR` (default `target/screenshots`).
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let dir = std::env::var_os("BATON_SCREENSHOT_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("target/screenshots"));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{}-{name}.png", self.kind.name()));
        let png = self.client.screenshot().await.unwrap();
        std::fs::write(&path, png).unwrap();
        path
    }

    /// Ends the session and stops the driver.
    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill().await;
    }
}

impl Drop for Browser {
    /// A test that fails never reaches [`Browser::close`], and killing the driver alone
    /// left its browser running (and writing to its profile as it was removed): the
    /// driver's whole process group goes.
    fn drop(&mut self) {
        if let Some(group) = self.driver.id() {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", "--", &format!("-{group}")])
                .stderr(Stdio::null())
                .status();
        }
    }
}

/// Clicks the element matching `css` inside `element` (a queue entry's button, say).
pub async fn click_inside(element: &Element, css: &str) {
    let inner = element.find(Locator::Css(css)).await.unwrap();
    inner.click().await.unwrap();
}

/// Polls `check` until it yields a value or 30 seconds pass, then panics naming `what`.
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after 30s waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn firefox_binary() -> &'static str {
    if std::path::Path::new("/usr/bin/firefox-esr").exists() {
        "/usr/bin/firefox-esr"
    } else {
        "/usr/bin/firefox"
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind(("127.0.0.1", 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A directory removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(prefix: &str) -> TempDir {
        let path = std::env::temp_dir().join(crate::unique_id(&format!("baton-{prefix}-profile")));
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
