//! `cargo xtask`: the project's commands.
//!
//! - `cargo xtask dev`: install what is missing, build everything, run Baton on
//!   <http://127.0.0.1:8787> under `wrangler dev`.
//! - `cargo xtask test`: install what is missing, then every check and test, one line a
//!   stage; exits non-zero on the first failure.
//! - `cargo xtask build`: build the widget, the site assets and the worker.
//! - `cargo xtask deploy [--dry-run]`: build, then `wrangler deploy`.
//! - `cargo xtask bench triage`: the triage engine timed as wasm in headless browsers,
//!   next to nlp.js on the same split.
//!
//! Every install step is idempotent: it checks first and does nothing when the tool is
//! already there at the right version. Tools from npm live in `xtask/node_modules`.

mod bench;
mod build;
mod dev;
mod error;
mod load;
mod models;
mod process;
mod size;
mod test;
mod tools;
mod wrangler;

use std::path::PathBuf;
use std::process::ExitCode;

pub(crate) use error::{Result, XtaskError};

const USAGE: &str = "usage: cargo xtask <command>

commands:
  dev                 install what is missing, build, and run Baton on http://127.0.0.1:8787
  test                install what is missing, then run every check and test
  build               build the widget, the site assets and the worker
  deploy [--dry-run]  build, then `wrangler deploy` (--dry-run prints the bundle size)
  size                build the widget, then print what a customer downloads (raw, gzip, brotli)
  install             only install what is missing
  bench edge          load on the edge under wrangler dev: escalations, messages, a trivial route
  bench widget        what the widget costs a host page in Chromium: launcher time, long tasks
  bench triage        time the triage engine as wasm in headless Chromium and Firefox,
                      next to nlp.js on the same BANKING77 split (prints numbers)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|arg| arg == "--help" || arg == "-h") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let result = check_arguments(&args).and_then(|()| run(&args));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("xtask: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Refuses arguments a command does not take, so that `cargo xtask test --help` prints
/// the usage instead of running every test for minutes.
fn check_arguments(args: &[String]) -> Result<()> {
    let Some((command, rest)) = args.split_first() else {
        return Ok(());
    };
    let allowed: &[&str] = match command.as_str() {
        "dev" | "test" | "build" | "size" | "install" => &[],
        "deploy" => &["--dry-run"],
        // `bench` reads its own options and says what is wrong with them.
        _ => return Ok(()),
    };
    match rest.iter().find(|arg| !allowed.contains(&arg.as_str())) {
        Some(arg) => Err(XtaskError::Usage(format!(
            "`cargo xtask {command}` does not take `{arg}`\n\n{USAGE}"
        ))),
        None => Ok(()),
    }
}

fn run(args: &[String]) -> Result<()> {
    match args.first().map(String::as_str) {
        Some("dev") => dev::run(),
        Some("test") => test::run(),
        Some("build") => tools::ensure_build_tools().and_then(|tools| build::all(&tools)),
        Some("deploy") => dev::deploy(args.iter().any(|a| a == "--dry-run")),
        Some("size") => tools::ensure_build_tools().and_then(|tools| size::report(&tools)),
        Some("install") => tools::ensure_test_tools().map(|_| ()),
        Some("bench") => match args.get(1).map(String::as_str) {
            Some("edge") => load::edge(),
            Some("widget") => load::widget(),
            _ => bench::run(&args[1..]),
        },
        Some("help") | None => {
            println!("{USAGE}");
            Ok(())
        }
        Some(other) => Err(XtaskError::Usage(format!(
            "unknown command `{other}`\n\n{USAGE}"
        ))),
    }
}

/// The workspace root (the parent of `xtask/`).
pub(crate) fn workspace_root() -> PathBuf {
    let manifest_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .parent()
        .map(PathBuf::from)
        .unwrap_or(manifest_dir)
}

/// Where cargo puts build output (`CARGO_TARGET_DIR`, default `target/`).
pub(crate) fn cargo_target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
}
