//! `cargo xtask test`: every check and test, in order, one line a stage.

use std::time::{Duration, Instant};

use crate::dev::random_hex;
use crate::error::io_error;
use crate::process::{free_port, Cmd};
use crate::tools::{ensure_test_tools, Tools};
use crate::wrangler::{WranglerDev, WranglerOptions};
use crate::{build, cargo_target_dir, models, workspace_root, Result};

/// Sites whose queue only the tests of who is online open (one per browser, as the two
/// browsers' runs may overlap); their widget uses the demo model.
const AFTER_HOURS_SITES: [&str; 3] = ["after-hours", "after-hours-chromium", "after-hours-firefox"];
/// Sites where the console test of an agent's capacity runs, one per browser: Kim takes
/// one conversation at a time on each site, and both browsers run at once.
const CAPACITY_SITES: [&str; 2] = ["capacity-chromium", "capacity-firefox"];

/// The site of a shop on another origin (`http://localhost:<port>`, while the edge is
/// `http://127.0.0.1:<port>`), which embeds the widget from the edge as the docs say.
const ELSEWHERE_SITE: &str = "elsewhere";

/// The site whose model a site owner trained themselves: the test fixtures' knowledge
/// base (site id `test`), trained and published as the docs tell site owners to.
const OWN_MODEL_SITE: &str = "test";

/// `BATON_SITES` for the tests: every site allows pages from the test server.
fn test_sites(port: u16) -> serde_json::Value {
    let origins = serde_json::json!([format!("http://127.0.0.1:{port}")]);
    let mut sites = serde_json::json!({
        "demo": { "allowed_origins": origins },
        "isolated": { "allowed_origins": origins },
        "verified": { "allowed_origins": origins, "require_identity": true },
        "skilled": {
            "allowed_origins": origins,
            "skills": { "cards": ["card_arrival", "lost_or_stolen_card"] }
        },
    });
    for site in AFTER_HOURS_SITES
        .iter()
        .chain(&CAPACITY_SITES)
        .chain([&OWN_MODEL_SITE])
    {
        sites[site] = serde_json::json!({ "allowed_origins": origins });
    }
    sites[ELSEWHERE_SITE] =
        serde_json::json!({ "allowed_origins": [format!("http://localhost:{port}")] });
    sites
}

/// Trains a model from the test fixtures with `baton train`, as a site owner would, into
/// a models folder of its own, and publishes it with the build's own step.
fn publish_own_model_site() -> Result<()> {
    let dir = cargo_target_dir().join("test-models");
    std::fs::create_dir_all(&dir).map_err(io_error("create", &dir))?;
    let fixtures = workspace_root().join("crates/triage/tests/fixtures");
    Cmd::new("cargo")
        .args([
            "run",
            "--quiet",
            "--bin",
            "baton",
            "--",
            "train",
            "--examples",
        ])
        .args([fixtures.join("examples.csv")])
        .args(["--kb".as_ref(), fixtures.join("kb.toml").as_os_str()])
        .args([
            "--out".as_ref(),
            dir.join(format!("{OWN_MODEL_SITE}.bin")).as_os_str(),
        ])
        .run()?;
    models::publish(&models::read_site_models(&dir)?, &build::site_dir())
}

/// Runs all stages; the first failure stops the run and fails the command.
pub(crate) fn run() -> Result<()> {
    let started = Instant::now();
    let tools = timed("install", ensure_test_tools)?;
    let mut report = Report::default();
    report.stage("fmt", || {
        Cmd::new("cargo").args(["fmt", "--all", "--check"]).run()
    })?;
    report.stage("clippy (host)", || {
        Cmd::new("cargo")
            .args([
                "clippy",
                "--quiet",
                "--workspace",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ])
            .run()
    })?;
    report.stage("clippy (wasm32)", clippy_wasm)?;
    report.stage("unit tests (host)", || {
        Cmd::new("cargo")
            .args(["test", "--quiet", "--workspace", "--exclude", "baton-tests"])
            .run()
    })?;
    report.stage("widget tests (Chromium, Firefox)", || {
        widget_browser_tests(&tools)
    })?;
    report.stage("build (widget, assets, worker)", || {
        build::all(&tools)?;
        let demo_model_sites: Vec<&str> = AFTER_HOURS_SITES
            .into_iter()
            .chain([ELSEWHERE_SITE])
            .collect();
        build::demo_model_for(&demo_model_sites)?;
        publish_own_model_site()
    })?;
    let state_dir = workspace_root().join(format!("target/test-state/{}", random_hex(4)?));
    std::fs::create_dir_all(&state_dir).map_err(io_error("create", &state_dir))?;
    let token = format!("test-{}", random_hex(16)?);
    // Named agents with their own tokens, for claims, transfers and conflicts; Kim takes
    // one conversation at a time, and Lee works on the other site only.
    let agents = format!(
        r#"[{{"id":"sam","name":"Sam","token":"sam-{}","languages":["en"]}},{{"id":"noor","name":"Noor","token":"noor-{}","languages":["ar","en"],"skills":["cards"]}},{{"id":"kim","name":"Kim","token":"kim-{}","capacity":1}},{{"id":"lee","name":"Lee","token":"lee-{}","sites":["{ELSEWHERE_SITE}"]}}]"#,
        random_hex(16)?,
        random_hex(16)?,
        random_hex(16)?,
        random_hex(16)?
    );
    let identity_secrets = format!(
        r#"{{"demo":"{}","verified":"{}"}}"#,
        random_hex(16)?,
        random_hex(16)?
    );
    // The demo site's webhook secrets, mid-rotation (newest first): it relays nowhere
    // here, but an external helpdesk signs its agent API calls with the old one
    // (tests/helpdesk.rs).
    let webhook_secrets = format!(
        r#"{{"demo":["whsec_{}","whsec_{}"]}}"#,
        random_hex(16)?,
        random_hex(16)?
    );
    let port = free_port()?;
    let log = workspace_root().join("target/wrangler-test.log");
    let server = report.stage("start wrangler dev", || {
        WranglerDev::start(
            &tools,
            WranglerOptions {
                port,
                persist_to: Some(&state_dir),
                vars: vec![
                    ("BATON_AGENT_TOKEN".to_owned(), token.clone()),
                    ("BATON_AGENTS".to_owned(), agents.clone()),
                    (
                        "BATON_IDENTITY_SECRETS".to_owned(),
                        identity_secrets.clone(),
                    ),
                    ("BATON_WEBHOOK_SECRETS".to_owned(), webhook_secrets.clone()),
                    // Short leases and presence so a test can watch them lapse.
                    ("BATON_CLAIM_LEASE_MS".to_owned(), "15000".to_owned()),
                    ("BATON_PRESENCE_MS".to_owned(), "8000".to_owned()),
                    // A customer counts as gone 3 s after their chat's page closed.
                    ("BATON_CUSTOMER_GRACE_MS".to_owned(), "3000".to_owned()),
                    ("BATON_SITES".to_owned(), test_sites(port).to_string()),
                ],
                log: Some(log.clone()),
            },
        )
    })?;
    let base_url = server.base_url();
    let integration = |tests: &[&str]| {
        let tests: Vec<String> = tests
            .iter()
            .flat_map(|test| ["--test".to_owned(), (*test).to_owned()])
            .collect();
        let base_url = base_url.clone();
        let token = token.clone();
        let agents = agents.clone();
        let identity_secrets = identity_secrets.clone();
        let webhook_secrets = webhook_secrets.clone();
        let tools = tools.clone();
        move || {
            Cmd::new("cargo")
                .args(["test", "--quiet", "-p", "baton-tests"])
                .args(&tests)
                .args(["--", "--test-threads=2"])
                .env("BATON_BASE_URL", &base_url)
                .env("BATON_AGENT_TOKEN", &token)
                .env("BATON_AGENTS", &agents)
                .env("BATON_IDENTITY_SECRETS", &identity_secrets)
                .env("BATON_WEBHOOK_SECRETS", &webhook_secrets)
                .env(
                    "BATON_SCREENSHOT_DIR",
                    workspace_root().join("target/screenshots"),
                )
                .env("PATH", &tools.path)
                .run()
        }
    };
    report.stage(
        "edge API tests (wrangler dev)",
        integration(&["edge_api", "conversation", "helpdesk", "openapi"]),
    )?;
    report.stage(
        "end-to-end tests (Chromium, Firefox)",
        integration(&["browser", "live_chat", "console"]),
    )?;
    drop(server);
    report.stage("webhook tests (own wrangler dev, receivers)", || {
        Cmd::new("cargo")
            .args(["test", "--quiet", "-p", "baton-tests", "--test", "webhooks"])
            .env("BATON_WRANGLER", &tools.wrangler)
            .env("BATON_TOOL_PATH", &tools.path)
            .env("PATH", &tools.path)
            .run()
    })?;
    println!(
        "xtask test: {} stages passed in {}",
        report.passed,
        seconds(started.elapsed())
    );
    Ok(())
}

#[derive(Default)]
struct Report {
    passed: usize,
}

impl Report {
    fn stage<T>(&mut self, name: &str, action: impl FnOnce() -> Result<T>) -> Result<T> {
        let value = timed(name, action)?;
        self.passed += 1;
        Ok(value)
    }
}

fn timed<T>(name: &str, action: impl FnOnce() -> Result<T>) -> Result<T> {
    println!("stage: {name} ...");
    let started = Instant::now();
    let result = action();
    let outcome = if result.is_ok() { "ok" } else { "FAILED" };
    println!("stage: {name}: {outcome} in {}", seconds(started.elapsed()));
    result
}

fn seconds(duration: Duration) -> String {
    format!("{:.1}s", duration.as_secs_f64())
}

fn clippy_wasm() -> Result<()> {
    let wasm = ["--target", "wasm32-unknown-unknown"];
    let crates = [
        "-p",
        "baton-protocol",
        "-p",
        "baton-relay",
        "-p",
        "baton-triage",
        "-p",
        "baton-edge",
        "-p",
        "baton-widget",
    ];
    Cmd::new("cargo")
        .args(["clippy", "--quiet", "--lib"])
        .args(wasm)
        .args(crates)
        .args(["--", "-D", "warnings"])
        .run()?;
    Cmd::new("cargo")
        .args(["clippy", "--quiet", "--tests", "-p", "baton-widget"])
        .args(wasm)
        .args(["--", "-D", "warnings"])
        .run()
}

fn widget_browser_tests(tools: &Tools) -> Result<()> {
    // The drivers give each browser a profile in the temporary directory and leave it
    // there (Chromium's is about 32 MB a run): this stage's own directory goes after it.
    let temp = cargo_target_dir().join("widget-browser-tmp");
    let _ = std::fs::remove_dir_all(&temp);
    std::fs::create_dir_all(&temp).map_err(io_error("create", &temp))?;
    let result = Cmd::new("wasm-pack")
        .args(["test", "--headless", "--chrome", "--firefox", "widget"])
        .env("PATH", &tools.path)
        .env("WASM_BINDGEN_TEST_TIMEOUT", "120")
        .env("TMPDIR", &temp)
        .run();
    let _ = std::fs::remove_dir_all(&temp);
    result
}
