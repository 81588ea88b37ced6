//! Per-message cost of the engine (redact + classify + escalate) and of loading the model.
//!
//! Run: `cargo bench -p baton-triage --bench decide`.
#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;

use baton_triage::{redact_pii, Conversation, Engine};
use criterion::{criterion_group, criterion_main, Criterion};

const MODEL: &[u8] = include_bytes!("../data/demo/model.bin");

const MESSAGES: &[&str] = &[
    "I am still waiting on my card?",
    "My card 4111 1111 1111 1111 was charged twice, email me at jane@example.com",
    "can I talk to someone please, this is ridiculous!!!",
    "What is the weather like in Paris tomorrow?",
    "Why was I charged a fee for topping up with my card?",
];

fn decide(c: &mut Criterion) {
    let engine = Engine::from_bytes(MODEL).unwrap();
    c.bench_function("model_load", |b| {
        b.iter(|| Engine::from_bytes(black_box(MODEL)).unwrap())
    });
    c.bench_function("respond_per_message", |b| {
        let mut i = 0;
        b.iter(|| {
            let mut conversation = Conversation::new();
            i = (i + 1) % MESSAGES.len();
            engine.respond(&mut conversation, black_box(MESSAGES[i]), 0)
        })
    });
    c.bench_function("redact_per_message", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % MESSAGES.len();
            redact_pii(black_box(MESSAGES[i]))
        })
    });
}

criterion_group!(benches, decide);
criterion_main!(benches);
