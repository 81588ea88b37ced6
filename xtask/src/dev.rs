//! `cargo xtask dev` and `cargo xtask deploy`.

use std::io::Read;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::error::io_error;
use crate::process::Cmd;
use crate::tools::ensure_build_tools;
use crate::wrangler::{WranglerDev, WranglerOptions};
use crate::{build, workspace_root, Result, XtaskError};

const DEV_PORT: u16 = 8787;

/// Installs, builds and runs the whole system until Ctrl-C.
pub(crate) fn run() -> Result<()> {
    let tools = ensure_build_tools()?;
    println!("build: widget, site assets, worker");
    build::all(&tools)?;
    let token = ensure_dev_agent_token(&workspace_root().join(".dev.vars"))?;

    let stop = Arc::new(AtomicBool::new(false));
    let stop_flag = Arc::clone(&stop);
    ctrlc::set_handler(move || stop_flag.store(true, Ordering::SeqCst))
        .map_err(|err| XtaskError::Missing(format!("cannot catch Ctrl-C: {err}")))?;

    println!("start: wrangler dev on 127.0.0.1:{DEV_PORT} (state kept in .wrangler/)");
    let mut server = WranglerDev::start(
        &tools,
        WranglerOptions {
            port: DEV_PORT,
            persist_to: None,
            vars: webhook_vars(),
            log: None,
        },
    )?;
    let base = server.base_url();
    println!();
    println!("Baton is running:");
    println!("  demo site      {base}/");
    println!("  agent console  {base}/agent/#token={token}");
    println!("  docs           {base}/docs/");
    println!("  API            {base}/v1/health");
    println!();
    println!("Ctrl-C stops everything.");
    while !stop.load(Ordering::SeqCst) {
        if server.process.has_exited() {
            return Err(XtaskError::ServerNotReady("wrangler dev exited".to_owned()));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    println!("\nstopping wrangler dev");
    server.process.stop();
    Ok(())
}

/// When `BATON_WEBHOOK_URL` and `BATON_WEBHOOK_SECRET` are set, the demo site also
/// relays its escalations there (Standard Webhooks), besides the built-in queue.
fn webhook_vars() -> Vec<(String, String)> {
    let (Ok(url), Ok(secret)) = (
        std::env::var("BATON_WEBHOOK_URL"),
        std::env::var("BATON_WEBHOOK_SECRET"),
    ) else {
        return Vec::new();
    };
    // Never print the secret.
    println!("webhooks: the demo site relays escalations to {url}");
    let sites = serde_json::json!({
        "demo": {
            "allowed_origins": [
                format!("http://127.0.0.1:{DEV_PORT}"),
                format!("http://localhost:{DEV_PORT}"),
            ],
            "webhook_url": url,
        }
    });
    let secrets = serde_json::json!({ "demo": secret });
    vec![
        ("BATON_SITES".to_owned(), sites.to_string()),
        ("BATON_WEBHOOK_SECRETS".to_owned(), secrets.to_string()),
    ]
}

/// Builds, then `wrangler deploy` (or `--dry-run`, which prints the bundle size).
pub(crate) fn deploy(dry_run: bool) -> Result<()> {
    let tools = ensure_build_tools()?;
    build::all(&tools)?;
    let out_dir = workspace_root().join("target/deploy");
    let mut cmd = Cmd::new(&tools.wrangler)
        .args(["deploy"])
        .env("PATH", &tools.path)
        .env("WRANGLER_SEND_METRICS", "false")
        .env("CLOUDFLARE_CF_FETCH_ENABLED", "false")
        .env("WASM_BINDGEN_BIN", &tools.wasm_bindgen)
        .env("WASM_OPT_BIN", &tools.wasm_opt);
    if dry_run {
        cmd = cmd.args([
            "--dry-run".as_ref(),
            "--outdir".as_ref(),
            out_dir.as_os_str(),
        ]);
    }
    cmd.run()
}

/// Reads the development agent token from `.dev.vars`, creating one if there is none.
fn ensure_dev_agent_token(dev_vars: &Path) -> Result<String> {
    const KEY: &str = "BATON_AGENT_TOKEN=";
    let existing = std::fs::read_to_string(dev_vars).unwrap_or_default();
    if let Some(token) = existing.lines().find_map(|line| line.strip_prefix(KEY)) {
        return Ok(token.trim_matches('"').to_owned());
    }
    let token = format!("dev-{}", random_hex(16)?);
    let mut contents = existing;
    if !contents.is_empty() && !contents.ends_with('\n') {
        contents.push('\n');
    }
    contents.push_str(&format!(
        "# Written by `cargo xtask dev`: the local agent console's token.\n{KEY}{token}\n"
    ));
    std::fs::write(dev_vars, contents).map_err(io_error("write", dev_vars))?;
    Ok(token)
}

/// `bytes` random bytes from the OS, as hex.
pub(crate) fn random_hex(bytes: usize) -> Result<String> {
    let mut buffer = vec![0u8; bytes];
    let path = Path::new("/dev/urandom");
    std::fs::File::open(path)
        .and_then(|mut file| file.read_exact(&mut buffer))
        .map_err(io_error("read", path))?;
    Ok(buffer.iter().map(|b| format!("{b:02x}")).collect())
}
