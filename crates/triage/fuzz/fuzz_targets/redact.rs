//! Redaction never panics, is idempotent, and its spans point at masks.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let once = baton_triage::redact_pii(text);
    for span in &once.spans {
        let mask = &once.text[span.start..span.end];
        assert!(mask.starts_with('[') && mask.ends_with(']'), "{mask}");
    }
    let twice = baton_triage::redact_pii(&once.text);
    assert_eq!(once.text, twice.text, "redaction is not idempotent");
});
