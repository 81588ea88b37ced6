//! `cargo xtask size`: what a customer downloads for the widget, raw and compressed.

use std::io::Write;
use std::path::Path;

use crate::build::{self, site_dir};
use crate::error::io_error;
use crate::tools::Tools;
use crate::Result;

/// The files a customer's browser fetches until the chat is interactive (a browser
/// with WebAssembly SIMD, as nearly all are).
const CUSTOMER_DOWNLOADS: [(&str, &str); 4] = [
    ("widget.js", "loader (the embed tag)"),
    ("widget/baton.js", "wasm-bindgen glue"),
    (
        "widget/baton_simd_bg.wasm",
        "the chat (Yew + triage engine)",
    ),
    ("sites/demo/model.bin", "demo model + knowledge base"),
];

/// What a browser without SIMD fetches instead of the chat above.
const WITHOUT_SIMD: (&str, &str) = (
    "widget/baton_bg.wasm",
    "the chat without SIMD, instead of the above",
);

/// Builds the widget and assets, then prints a table of sizes.
pub(crate) fn report(tools: &Tools) -> Result<()> {
    let toolchain = build::widget(tools)?;
    build::assets(tools)?;
    println!("widget built with {toolchain}");
    let site = site_dir();
    println!(
        "{:<24} {:>9} {:>9} {:>9}  what",
        "file", "raw", "gzip -9", "brotli 11"
    );
    let mut totals = [0usize; 3];
    for (file, what) in CUSTOMER_DOWNLOADS {
        let sizes = sizes_of(&site.join(file))?;
        for (total, size) in totals.iter_mut().zip(sizes) {
            *total += size;
        }
        print_row(file, sizes, what);
    }
    print_row("total", totals, "until the panel is interactive");
    let (file, what) = WITHOUT_SIMD;
    print_row(file, sizes_of(&site.join(file))?, what);
    Ok(())
}

fn print_row(file: &str, [raw, gzip, brotli]: [usize; 3], what: &str) {
    println!("{file:<24} {raw:>9} {gzip:>9} {brotli:>9}  {what}");
}

/// Raw, gzip (level 9) and brotli (quality 11) sizes in bytes.
pub(crate) fn sizes_of(path: &Path) -> Result<[usize; 3]> {
    let bytes = std::fs::read(path).map_err(io_error("read", path))?;
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gzip.write_all(&bytes).map_err(io_error("compress", path))?;
    let gzip = gzip.finish().map_err(io_error("compress", path))?;
    let mut brotli = Vec::new();
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        lgwin: 22,
        ..Default::default()
    };
    brotli::BrotliCompress(&mut bytes.as_slice(), &mut brotli, &params)
        .map_err(io_error("compress", path))?;
    Ok([bytes.len(), gzip.len(), brotli.len()])
}
