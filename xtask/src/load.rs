//! `cargo xtask bench edge`: load on the edge under real `wrangler dev` on loopback.
//!
//! Builds, starts `wrangler dev` with a fresh state directory and four sites, then runs
//! the `edge-load` program (in `tests/`): 10,000 requests to a trivial route, 1,000
//! escalations and 10,000 customer messages, 32 in flight. Numbers go to
//! BENCHMARKS.md by hand, with this command.

use crate::dev::random_hex;
use crate::error::io_error;
use crate::process::{free_port, Cmd};
use crate::tools::ensure_build_tools;
use crate::wrangler::{WranglerDev, WranglerOptions};
use crate::{build, workspace_root, Result};

const SITES: [&str; 4] = ["bench-a", "bench-b", "bench-c", "bench-d"];
const ESCALATIONS: &str = "1000";
const MESSAGES_PER_CONVERSATION: &str = "10";
const CONCURRENCY: &str = "32";

/// Runs the edge load benchmark and prints its table.
pub(crate) fn edge() -> Result<()> {
    let tools = ensure_build_tools()?;
    build::all(&tools)?;
    Cmd::new("cargo")
        .args([
            "build",
            "--quiet",
            "--release",
            "-p",
            "baton-tests",
            "--bin",
            "edge-load",
        ])
        .run()?;
    let state_dir = workspace_root().join(format!("target/bench-state/{}", random_hex(4)?));
    std::fs::create_dir_all(&state_dir).map_err(io_error("create", &state_dir))?;
    let sites = SITES
        .iter()
        .map(|site| format!(r#""{site}":{{"allowed_origins":[]}}"#))
        .collect::<Vec<_>>()
        .join(",");
    let server = WranglerDev::start(
        &tools,
        WranglerOptions {
            port: free_port()?,
            persist_to: Some(&state_dir),
            vars: vec![
                ("BATON_SITES".to_owned(), format!("{{{sites}}}")),
                ("BATON_AGENT_TOKEN".to_owned(), random_hex(16)?),
            ],
            log: Some(workspace_root().join("target/wrangler-bench.log")),
        },
    )?;
    let base_url = server.base_url();
    let result = Cmd::new("cargo")
        .args([
            "run",
            "--quiet",
            "--release",
            "-p",
            "baton-tests",
            "--bin",
            "edge-load",
            "--",
        ])
        .args([
            base_url.as_str(),
            &SITES.join(","),
            ESCALATIONS,
            MESSAGES_PER_CONVERSATION,
            CONCURRENCY,
        ])
        .run();
    drop(server);
    result
}
