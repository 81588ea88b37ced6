//! Building what `wrangler dev` serves: the widget (wasm + loader), the site's static
//! assets, the per-site models, and the worker.
//!
//! Layout of the assets directory (`target/site/`, what `wrangler.toml` serves):
//! - everything under `www/` (demo shop, agent console, docs),
//! - `widget.js`, the loader a site embeds, from `widget/loader/widget.js`,
//! - `widget/baton.js` + `widget/baton_bg.wasm`, the Yew app, and
//!   `widget/baton_simd_bg.wasm`, the same app with WebAssembly SIMD instructions (the
//!   loader fetches it where the browser validates SIMD: faster triage),
//! - `sites/<site>/model.bin`, each site's model and knowledge base.

use std::path::{Path, PathBuf};

use crate::error::io_error;
use crate::models;
use crate::process::Cmd;
use crate::tools::{cargo_bin_dir, is_newer_or_same, Tools};
use crate::{cargo_target_dir, workspace_root, Result, XtaskError};

/// Where the built static assets go.
pub(crate) fn site_dir() -> PathBuf {
    workspace_root().join("target/site")
}

/// Builds everything.
pub(crate) fn all(tools: &Tools) -> Result<()> {
    println!("widget: built with {}", widget(tools)?);
    assets(tools)?;
    edge(tools)?;
    Ok(())
}

/// Compiles the widget to wasm with and without SIMD, binds both builds, shrinks them
/// with wasm-opt and minifies the glue (one file for both: the bindings are the same);
/// says which toolchain compiled them.
pub(crate) fn widget(tools: &Tools) -> Result<WidgetToolchain> {
    let out_dir = site_dir().join("widget");
    std::fs::create_dir_all(&out_dir).map_err(io_error("create", &out_dir))?;
    let mut toolchain = WidgetToolchain::NightlyWithStd;
    // The scalar build's glue before minifying, to compare the SIMD build's with.
    let scalar_glue = cargo_target_dir().join("widget-glue.js");
    for instructions in [Instructions::Scalar, Instructions::Simd] {
        if compile_for_browsers(tools, "baton-widget", instructions)? == WidgetToolchain::Stable {
            toolchain = WidgetToolchain::Stable;
        }
        let wasm = instructions.wasm("baton_widget");
        let served = out_dir.join(instructions.widget_file());
        if is_newer_or_same(&served, &wasm)
            && out_dir.join("baton.js").exists()
            && scalar_glue.exists()
        {
            continue;
        }
        // Both bound under the name `baton`: the module names the wasm imports from
        // are the glue's, so one glue serves both.
        match instructions {
            Instructions::Scalar => {
                bind_and_shrink(tools, &wasm, &out_dir, "baton", instructions)?;
                let glue = out_dir.join("baton.js");
                copy_file(&glue, &scalar_glue)?;
                minify(tools, &glue, &glue, &["--format=esm"])?;
            }
            Instructions::Simd => {
                let bound_dir = cargo_target_dir().join("widget-simd");
                bind_and_shrink(tools, &wasm, &bound_dir, "baton", instructions)?;
                let read = |path: &Path| std::fs::read(path).map_err(io_error("read", path));
                if read(&bound_dir.join("baton.js"))? != read(&scalar_glue)? {
                    return Err(XtaskError::BuildsDisagree(
                        "the widget's SIMD build has other bindings than its scalar build, \
                         so they cannot share `widget/baton.js`"
                            .into(),
                    ));
                }
                copy_file(&bound_dir.join("baton_bg.wasm"), &served)?;
            }
        }
    }
    Ok(toolchain)
}

/// Runs wasm-bindgen on `wasm` (writing `name.js` and `name_bg.wasm` into `out_dir`),
/// then wasm-opt on the bound module, as customers get it.
pub(crate) fn bind_and_shrink(
    tools: &Tools,
    wasm: &Path,
    out_dir: &Path,
    name: &str,
    instructions: Instructions,
) -> Result<()> {
    Cmd::new(&tools.wasm_bindgen)
        .args([
            "--target",
            "web",
            "--no-typescript",
            "--remove-name-section",
            "--remove-producers-section",
        ])
        .args(["--out-name", name, "--out-dir"])
        .args([out_dir, wasm])
        .run()?;
    let bound = out_dir.join(format!("{name}_bg.wasm"));
    Cmd::new(&tools.wasm_opt)
        .args([
            "-Oz",
            "--converge",
            "--enable-bulk-memory",
            "--enable-nontrapping-float-to-int",
            "--enable-sign-ext",
        ])
        .args([
            "--enable-mutable-globals",
            "--enable-reference-types",
            "--enable-multivalue",
        ])
        .args(instructions.wasm_opt_features())
        .args([bound.as_os_str(), "-o".as_ref(), bound.as_os_str()])
        .env("PATH", &tools.path)
        .run()
}

/// Which WebAssembly instructions a browser build may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Instructions {
    /// Without SIMD: loads in every browser the widget supports.
    Scalar,
    /// With 128-bit SIMD (Chromium 91, Firefox 89, Safari 16.4 and later). LLVM
    /// vectorises the triage engine's loops: a decision takes about a quarter less time
    /// (BENCHMARKS.md). A module with SIMD does not load at all where SIMD is missing,
    /// hence the scalar build beside it.
    Simd,
}

impl Instructions {
    /// The compiled module of `crate_name` (its name with underscores).
    pub(crate) fn wasm(self, crate_name: &str) -> PathBuf {
        self.target_dir()
            .join(format!("wasm32-unknown-unknown/widget/{crate_name}.wasm"))
    }

    /// Each build has its own target directory: one directory would rebuild everything
    /// each time the flags change.
    fn target_dir(self) -> PathBuf {
        match self {
            Instructions::Scalar => cargo_target_dir(),
            Instructions::Simd => cargo_target_dir().join("simd"),
        }
    }

    fn rustflags(self) -> &'static str {
        match self {
            Instructions::Scalar => "",
            Instructions::Simd => "-Ctarget-feature=+simd128",
        }
    }

    fn wasm_opt_features(self) -> &'static [&'static str] {
        match self {
            Instructions::Scalar => &[],
            Instructions::Simd => &["--enable-simd"],
        }
    }

    /// The widget's wasm file under `widget/` for this build.
    fn widget_file(self) -> &'static str {
        match self {
            Instructions::Scalar => "baton_bg.wasm",
            Instructions::Simd => "baton_simd_bg.wasm",
        }
    }
}

/// How the widget's wasm is compiled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WidgetToolchain {
    /// `cargo +nightly` rebuilding the standard library with the widget, panics as traps.
    NightlyWithStd,
    /// The machine's stable toolchain and its prebuilt standard library.
    Stable,
}

impl std::fmt::Display for WidgetToolchain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            WidgetToolchain::NightlyWithStd => {
                "nightly Rust, the standard library compiled with it"
            }
            WidgetToolchain::Stable => {
                "stable Rust (with a nightly toolchain installed it would be about 19 KB smaller)"
            }
        })
    }
}

/// Flags for the nightly build: panics abort at once, without formatting anything, and
/// neither panic locations nor `Debug` output are compiled in (the widget formats
/// nothing with `Debug`; its tests run on the stable build).
const NIGHTLY_WIDGET_RUSTFLAGS: &str =
    "-Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none -Zfmt-debug=none";

/// The rebuilt standard library takes the widget profile's `opt-level = "z"`, except
/// `alloc`: at `"z"` its vector growth made the triage engine's decision 1-3 µs slower
/// (BENCHMARKS.md); at 3 it costs 83 bytes. (Not in `Cargo.toml`: stable cargo would warn
/// that no package is called `alloc`.) The standard library's `optimize_for_size`
/// feature is not used either: its heapsort made the decision 4 µs slower.
const NIGHTLY_ALLOC_AT_FULL_SPEED: &str = "profile.widget.package.alloc.opt-level=3";

/// Compiles `package` to wasm with the widget's profile, as customers get it.
///
/// Where the machine has the nightly toolchain and the standard library's source, the
/// standard library is compiled with the package, at the widget's size settings, and a
/// panic is a bare trap (no message, file name or `Debug` text is kept): about 19 KB
/// brotli less for every customer, as fast (BENCHMARKS.md). Otherwise, or if that build fails,
/// stable Rust builds the same code.
pub(crate) fn compile_for_browsers(
    tools: &Tools,
    package: &str,
    instructions: Instructions,
) -> Result<WidgetToolchain> {
    let smallest = tools.nightly_with_std_source
        && compile_wasm(package, WidgetToolchain::NightlyWithStd, instructions)
            .inspect_err(|error| {
                println!(
                    "{package}: the nightly build failed ({error}); building with stable Rust"
                );
            })
            .is_ok();
    if smallest {
        Ok(WidgetToolchain::NightlyWithStd)
    } else {
        compile_wasm(package, WidgetToolchain::Stable, instructions)?;
        Ok(WidgetToolchain::Stable)
    }
}

fn compile_wasm(
    package: &str,
    toolchain: WidgetToolchain,
    instructions: Instructions,
) -> Result<()> {
    let target_dir = instructions.target_dir();
    let build = [
        "build",
        "--quiet",
        "--profile",
        "widget",
        "--target",
        "wasm32-unknown-unknown",
        "-p",
        package,
    ];
    let rustflags = "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS";
    match toolchain {
        WidgetToolchain::Stable => Cmd::new("cargo")
            .args(build)
            .args(["--target-dir".as_ref(), target_dir.as_os_str()])
            .env(rustflags, instructions.rustflags())
            .run(),
        WidgetToolchain::NightlyWithStd => Cmd::new("cargo")
            .args(["+nightly"])
            .args(build)
            .args([
                "-Zbuild-std=std,panic_abort",
                "--config",
                NIGHTLY_ALLOC_AT_FULL_SPEED,
            ])
            .args(["--target-dir".as_ref(), target_dir.as_os_str()])
            .env(
                rustflags,
                format!("{NIGHTLY_WIDGET_RUSTFLAGS} {}", instructions.rustflags()),
            )
            .run(),
    }
}

/// Minifies JavaScript for the browsers Baton supports (the current Chromium and
/// Firefox ESR); `/*!` licence comments stay.
fn minify(tools: &Tools, from: &Path, to: &Path, options: &[&str]) -> Result<()> {
    let mut outfile = std::ffi::OsString::from("--outfile=");
    outfile.push(to);
    Cmd::new(&tools.esbuild)
        .args([from.as_os_str(), outfile.as_os_str()])
        .args([
            "--minify",
            "--target=es2022",
            "--allow-overwrite",
            "--log-level=warning",
        ])
        .args(options)
        .env("PATH", &tools.path)
        .run()
}

/// Copies `www/` and the site models (the demo's, then each `models/<site>.bin`) into the
/// assets directory, and the widget loader minified.
pub(crate) fn assets(tools: &Tools) -> Result<()> {
    let root = workspace_root();
    let site = site_dir();
    copy_tree(&root.join("www"), &site)?;
    minify(
        tools,
        &root.join("widget/loader/widget.js"),
        &site.join("widget.js"),
        &[],
    )?;
    copy_file(
        &root.join("crates/triage/data/demo/model.bin"),
        &site.join("sites/demo/model.bin"),
    )?;
    let own = models::read_site_models(&models::site_models_dir())?;
    models::publish(&own, &site)?;
    let wrangler_toml = root.join("wrangler.toml");
    let config =
        std::fs::read_to_string(&wrangler_toml).map_err(io_error("read", &wrangler_toml))?;
    let mut published: Vec<&str> = own.iter().map(|model| model.site.as_str()).collect();
    published.push("demo");
    for site in models::sites_without_model(&config, &published)? {
        println!(
            "note: site `{site}` (BATON_SITES) has no model, so its widget answers nothing \
             itself and offers a person for every question; train one with \
             `baton train … --out models/{site}.bin`"
        );
    }
    Ok(())
}

/// Serves the demo model as these sites' models too (test sites that need a working
/// widget).
pub(crate) fn demo_model_for(sites: &[&str]) -> Result<()> {
    let models = site_dir().join("sites");
    for site in sites {
        copy_file(
            &models.join("demo/model.bin"),
            &models.join(site).join("model.bin"),
        )?;
    }
    Ok(())
}

/// Builds the worker with worker-build unless its output is newer than the sources.
pub(crate) fn edge(tools: &Tools) -> Result<()> {
    let root = workspace_root();
    Cmd::new("cargo")
        .args([
            "build",
            "--quiet",
            "--release",
            "--target",
            "wasm32-unknown-unknown",
            "-p",
            "baton-edge",
        ])
        .run()?;
    let wasm = cargo_target_dir().join("wasm32-unknown-unknown/release/baton_edge.wasm");
    if is_newer_or_same(&root.join("edge/build/index.js"), &wasm) {
        return Ok(());
    }
    Cmd::new(cargo_bin_dir().join("worker-build"))
        .args(["--release", "edge"])
        .env("WASM_BINDGEN_BIN", &tools.wasm_bindgen)
        .env("WASM_OPT_BIN", &tools.wasm_opt)
        .env("PATH", &tools.path)
        .run()
}

pub(crate) fn copy_file(from: &Path, to: &Path) -> Result<()> {
    if let Some(parent) = to.parent() {
        std::fs::create_dir_all(parent).map_err(io_error("create", parent))?;
    }
    std::fs::copy(from, to).map_err(io_error("copy", from))?;
    Ok(())
}

fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to).map_err(io_error("create", to))?;
    for entry in std::fs::read_dir(from).map_err(io_error("read", from))? {
        let entry = entry.map_err(io_error("read", from))?;
        let path = entry.path();
        let target = to.join(entry.file_name());
        if path.is_dir() {
            copy_tree(&path, &target)?;
        } else {
            copy_file(&path, &target)?;
        }
    }
    Ok(())
}
