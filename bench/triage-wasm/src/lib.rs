//! The triage engine as the widget runs it, exported to JavaScript for timing in real
//! browsers (`cargo xtask bench triage`).
//!
//! The page (`www/bench.js`) times these calls with `performance.now()`. Each call
//! repeats its work `repeats` times so that timer resolution (5 µs to 1 ms, depending on
//! the browser and cross-origin isolation) does not limit precision, and so that the
//! JavaScript-to-wasm call and string copy are paid once per batch, not per message.
//!
//! [`DecisionBench::decide`] makes exactly the engine call the widget makes per customer
//! message (`Engine::respond`, which redacts, classifies and decides on escalation), on
//! a fresh conversation each time.

use baton_triage::{redact_pii, Conversation, Engine};
use wasm_bindgen::prelude::*;

/// A loaded engine.
#[wasm_bindgen]
pub struct DecisionBench {
    engine: Engine,
}

#[wasm_bindgen]
impl DecisionBench {
    /// Loads a model file, as the widget does after fetching it.
    #[wasm_bindgen(constructor)]
    pub fn new(model: &[u8]) -> Result<DecisionBench, JsError> {
        Engine::from_bytes(model)
            .map(|engine| DecisionBench { engine })
            .map_err(|e| JsError::new(&e.to_string()))
    }

    /// Runs the whole per-message decision `repeats` times; returns how many of the
    /// runs offered a person (so that the work cannot be optimised away).
    pub fn decide(&self, message: &str, repeats: u32) -> u32 {
        let mut escalated = 0;
        for i in 0..repeats {
            let mut conversation = Conversation::new();
            let turn = self
                .engine
                .respond(&mut conversation, message, u64::from(i));
            escalated += u32::from(turn.escalation.is_some());
        }
        escalated
    }

    /// Only the classifier's part (`Engine::predict`: redact, features, intent scores,
    /// heads and cues) `repeats` times, for the breakdown; returns how many were in scope.
    pub fn classify(&self, message: &str, repeats: u32) -> u32 {
        (0..repeats)
            .map(|_| u32::from(self.engine.predict(message).in_scope))
            .sum()
    }

    /// Only the redaction `repeats` times, for the breakdown; returns the masked spans.
    pub fn redact(&self, message: &str, repeats: u32) -> u32 {
        (0..repeats)
            .map(|_| redact_pii(message).spans.len() as u32)
            .sum()
    }

    /// The engine's top intent for a message (for accuracy), empty when it has none.
    pub fn top_intent(&self, message: &str) -> String {
        self.engine
            .predict(message)
            .best
            .map(|guess| guess.intent)
            .unwrap_or_default()
    }
}
