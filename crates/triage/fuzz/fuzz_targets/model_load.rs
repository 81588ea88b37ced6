//! Loading arbitrary bytes as a model never panics; a model that loads answers
//! messages without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(engine) = baton_triage::Engine::from_bytes(data) {
        let mut conversation = baton_triage::Conversation::new();
        let _ = engine.respond(&mut conversation, "my card has not arrived", 0);
        let _ = conversation.handoff_packet(&engine, "en");
        let _ = engine.suggestions(3);
    }
});
