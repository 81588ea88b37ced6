//! Parsing arbitrary text as a knowledge base or example CSV never panics, and
//! errors never echo more than the file name back.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(e) = baton_triage::train::parse_kb("kb.toml", text) {
        assert!(e.to_string().starts_with("kb.toml"), "{e}");
    }
    if let Err(e) = baton_triage::train::read_examples("examples.csv", text) {
        assert!(e.to_string().starts_with("examples.csv"), "{e}");
    }
});
