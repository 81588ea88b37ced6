//! Starting `wrangler dev` (workerd) on loopback.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::process::{free_port, wait_for_http, Cmd, ProcessGroup};
use crate::tools::Tools;
use crate::Result;

/// A running `wrangler dev`, stopped when dropped.
pub(crate) struct WranglerDev {
    /// The port it serves on, on 127.0.0.1.
    pub(crate) port: u16,
    /// Its process group.
    pub(crate) process: ProcessGroup,
}

/// How to start it.
pub(crate) struct WranglerOptions<'a> {
    /// Port on 127.0.0.1.
    pub(crate) port: u16,
    /// Where Durable Object state lives (kept across restarts).
    pub(crate) persist_to: Option<&'a Path>,
    /// Extra `--var NAME:VALUE` bindings.
    pub(crate) vars: Vec<(String, String)>,
    /// Where its output goes; `None` means this terminal.
    pub(crate) log: Option<PathBuf>,
}

impl WranglerDev {
    /// Starts `wrangler dev` and waits until `/v1/health` answers.
    pub(crate) fn start(tools: &Tools, options: WranglerOptions<'_>) -> Result<WranglerDev> {
        let inspector_port = free_port()?;
        let mut cmd = Cmd::new(&tools.wrangler)
            .args([
                "dev",
                "--ip",
                "127.0.0.1",
                "--port",
                &options.port.to_string(),
            ])
            .args([
                "--inspector-port",
                &inspector_port.to_string(),
                "--log-level",
                "warn",
            ])
            .args(["--show-interactive-dev-session=false"])
            .env("PATH", &tools.path)
            .env("WRANGLER_SEND_METRICS", "false")
            .env("CLOUDFLARE_CF_FETCH_ENABLED", "false")
            .env("WASM_BINDGEN_BIN", &tools.wasm_bindgen)
            .env("WASM_OPT_BIN", &tools.wasm_opt)
            .env("NO_COLOR", "1");
        if let Some(dir) = options.persist_to {
            cmd = cmd.args(["--persist-to".as_ref(), dir.as_os_str()]);
        }
        for (name, value) in &options.vars {
            cmd = cmd.args(["--var", &format!("{name}:{value}")]);
        }
        let log = options.log.clone();
        let mut process = cmd.spawn_group(log.as_deref())?;
        let log_name = log.unwrap_or_else(|| PathBuf::from("(this terminal)"));
        wait_for_http(
            options.port,
            "/v1/health",
            Duration::from_secs(180),
            &mut process,
            &log_name,
        )?;
        Ok(WranglerDev {
            port: options.port,
            process,
        })
    }

    /// `http://127.0.0.1:PORT`.
    pub(crate) fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}
