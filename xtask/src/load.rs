//! Benchmarks that need a running Baton: each builds everything, starts `wrangler dev`
//! on loopback with a fresh state directory, and runs a program from `tests/src/bin`.
//!
//! - `cargo xtask bench edge` (`edge-load`): 10,000 requests to a trivial route, 1,000
//!   escalations over four sites and 10,000 customer messages, 32 in flight.
//! - `cargo xtask bench widget` (`widget-perf`): long tasks on a page with and without
//!   the widget, when the launcher appears, and click-to-usable, in Chromium.
//!
//! Numbers go to BENCHMARKS.md with the command that produced them.

use crate::dev::random_hex;
use crate::error::io_error;
use crate::process::{free_port, Cmd};
use crate::tools::ensure_test_tools;
use crate::wrangler::{WranglerDev, WranglerOptions};
use crate::{build, workspace_root, Result};

const SITES: [&str; 4] = ["bench-a", "bench-b", "bench-c", "bench-d"];
const ESCALATIONS: &str = "1000";
const MESSAGES_PER_CONVERSATION: &str = "10";
const CONCURRENCY: &str = "32";
/// Cold page loads per variant in the widget benchmark.
const WIDGET_RUNS: &str = "5";

/// Runs the edge load benchmark and prints its table.
pub(crate) fn edge() -> Result<()> {
    let sites = SITES
        .iter()
        .map(|site| format!(r#""{site}":{{"allowed_origins":[]}}"#))
        .collect::<Vec<_>>()
        .join(",");
    run_against_wrangler("edge-load", &format!("{{{sites}}}"), |base_url| {
        vec![
            base_url.to_owned(),
            SITES.join(","),
            ESCALATIONS.to_owned(),
            MESSAGES_PER_CONVERSATION.to_owned(),
            CONCURRENCY.to_owned(),
        ]
    })
}

/// `cargo xtask bench widget`: what the widget costs a host page in Chromium.
pub(crate) fn widget() -> Result<()> {
    run_against_wrangler(
        "widget-perf",
        r#"{"demo":{"allowed_origins":["*"]}}"#,
        |base_url| vec![base_url.to_owned(), WIDGET_RUNS.to_owned()],
    )
}

/// Builds everything and the bench program, starts `wrangler dev` with a fresh state
/// directory and `sites`, and runs the program with the arguments `args(base_url)`.
fn run_against_wrangler(
    program: &str,
    sites: &str,
    args: impl FnOnce(&str) -> Vec<String>,
) -> Result<()> {
    let tools = ensure_test_tools()?;
    build::all(&tools)?;
    Cmd::new("cargo")
        .args([
            "build",
            "--quiet",
            "--release",
            "-p",
            "baton-tests",
            "--bin",
            program,
        ])
        .run()?;
    let state_dir = workspace_root().join(format!("target/bench-state/{}", random_hex(4)?));
    std::fs::create_dir_all(&state_dir).map_err(io_error("create", &state_dir))?;
    let server = WranglerDev::start(
        &tools,
        WranglerOptions {
            port: free_port()?,
            persist_to: Some(&state_dir),
            vars: vec![
                ("BATON_SITES".to_owned(), sites.to_owned()),
                ("BATON_AGENT_TOKEN".to_owned(), random_hex(16)?),
            ],
            log: Some(workspace_root().join(format!("target/wrangler-{program}.log"))),
        },
    )?;
    let result = Cmd::new("cargo")
        .args([
            "run",
            "--quiet",
            "--release",
            "-p",
            "baton-tests",
            "--bin",
            program,
            "--",
        ])
        .args(args(&server.base_url()))
        .env("PATH", &tools.path)
        .run();
    drop(server);
    result
}
