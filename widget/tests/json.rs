//! JSON through the browser (`baton_widget::json`) against serde_json, which earlier
//! versions of the widget used and the edge still uses: each reads what the other wrote.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use baton_protocol::{ConversationUpdate, EscalationRequest, HandoffPacket};
use baton_triage::Engine;
use baton_widget::json;
use baton_widget::state::{Action, ChatState, EngineState, SavedChat};
use std::rc::Rc;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const DEMO_MODEL: &[u8] = include_bytes!("../../crates/triage/data/demo/model.bin");

/// A chat with an answer, an offer of a person and a consent preview: every shape the
/// saved conversation has (enums, options, floats, nested packets).
fn busy_chat() -> ChatState {
    let mut chat = ChatState::new("demo".into(), "en".into(), "visitor".into());
    let engine = Rc::new(Engine::from_bytes(DEMO_MODEL).unwrap());
    chat.apply(Action::EngineLoaded(EngineState::Ready(engine)));
    chat.apply(Action::Open);
    for (i, text) in [
        "When will my new card arrive?",
        "this is useless, I want a real person",
    ]
    .into_iter()
    .enumerate()
    {
        chat.apply(Action::CustomerSent {
            text: text.into(),
            now_ms: 1_000 + i as u64,
            client_id: format!("m{i}"),
            chosen: None,
        });
    }
    chat.apply(Action::RequestPerson);
    chat
}

#[wasm_bindgen_test]
fn a_chat_saved_by_serde_json_loads_and_one_saved_now_reads_with_serde_json() {
    let saved = busy_chat().save();
    let old_text = serde_json::to_string(&saved).unwrap();
    assert_eq!(json::from_text::<SavedChat>(&old_text).unwrap(), saved);

    let new_text = json::to_text(&saved).unwrap();
    assert_eq!(serde_json::from_str::<SavedChat>(&new_text).unwrap(), saved);
}

#[wasm_bindgen_test]
fn requests_read_the_same_at_the_edge() {
    let chat = busy_chat();
    let baton_widget::state::Handoff::Consent { packet, .. } = chat.handoff.clone() else {
        panic!("consent expected");
    };
    assert_ne!(packet, HandoffPacket::default());
    let request = EscalationRequest {
        site: "demo".into(),
        visitor_id: "visitor".into(),
        idempotency_key: "k".into(),
        packet,
        identity: None,
    };
    // The edge denies unknown fields and reads floats as `f32`: the same request arrives.
    let text = json::to_text(&request).unwrap();
    assert_eq!(
        serde_json::from_str::<EscalationRequest>(&text).unwrap(),
        request
    );
}

#[wasm_bindgen_test]
fn live_updates_from_the_edge_parse() {
    let text = r#"{"events":[{"seq":1,"at_ms":5,"event":{"type":"agent_joined","agent_name":"Sam"}},{"seq":2,"at_ms":6,"event":{"type":"message","author":"agent","text":"Hi","agent_name":"Sam","client_id":"r1"}}],"queue":{"position":2,"estimated_wait_seconds":90}}"#;
    let by_browser = json::from_text::<ConversationUpdate>(text).unwrap();
    assert_eq!(
        by_browser,
        serde_json::from_str::<ConversationUpdate>(text).unwrap()
    );
    assert!(json::from_text::<ConversationUpdate>(r#"{"events":[{"seq":-1}]}"#).is_none());
}
