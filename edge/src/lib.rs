//! Baton's edge: a Cloudflare Worker between the customer's widget and the people who
//! help.
//!
//! This crate is a thin shell. Validation, queue order and wait estimates are pure
//! decisions in `baton-relay`; redaction is `baton-triage`'s, the same code the widget
//! runs. Here we only read requests, call those crates, and keep state in Durable
//! Objects:
//!
//! - [`SiteQueue`], one per site (named by site id): the built-in human queue. It owns
//!   every conversation of the site, idempotency keys, and the waiting order.
//! - [`WebhookOutbox`], one per site: relays events to the site's external queue
//!   (Standard Webhooks), at least once, on a schedule kept in storage.
//!
//! Invariants:
//! - Every error becomes `{"error":{"code","message"}}` in one place,
//!   [`EdgeError::into_response`]; customer text never reaches a log or an error.
//! - Text from the widget is redacted again here before it is stored.
//! - A request the validator refuses stores nothing.

mod agent;
mod conversation;
mod error;
mod routes;
mod site_queue;
mod webhook;

pub use conversation::Conversation;
pub use error::EdgeError;
pub use site_queue::SiteQueue;
pub use webhook::WebhookOutbox;

use worker::{event, Context, Env, Request, Response, Result};

/// The worker's entry point for HTTP requests that no static asset answered.
#[event(fetch)]
pub async fn fetch(request: Request, env: Env, _ctx: Context) -> Result<Response> {
    Ok(routes::handle(request, &env).await)
}
