//! The pure decisions behind Baton's edge worker.
//!
//! The worker (`edge/`) is a thin shell: it reads requests, talks to Durable Objects and
//! the network, and asks this crate what to do. Everything here is deterministic and
//! takes time and randomness as parameters, so it is tested natively.
//!
//! Invariants:
//! - [`validate_escalation`] is the only gate between the network and storage: a request
//!   it accepts is within every size limit and carries well-formed ids.
//! - Errors describe what was wrong and where (a field path), never the customer's text.
//! - [`QueueOrder`] is a total order: sensitive and frustrated conversations first, then
//!   the oldest, then by id, so every agent sees the same queue.

mod agents;
mod claims;
mod customers;
mod error;
mod identity;
mod json;
mod outbox;
mod presence;
mod queue;
mod rate;
mod retry;
mod signed_request;
mod sites;
mod stats;
mod token;
mod validate;
mod webhook;

pub use agents::AgentDirectory;
pub use claims::{Claim, ClaimChange, QueueBook, DEFAULT_LEASE_MS, DEFAULT_PRESENCE_MS};
pub use customers::CustomerConversations;
pub use error::{RelayError, RelayErrorKind};
pub use identity::verify_identity;
pub use json::describe_json_error;
pub use outbox::{
    dead_letters_over_limit, site_webhook_secrets, validate_webhook_url, Delivery, LastOutcome,
    WebhookSettings, DEFAULT_TIMEOUT_MS, MAX_DEAD_LETTERS,
};
pub use presence::{CustomerChannel, DEFAULT_CUSTOMER_GRACE_MS};
pub use queue::{
    estimate_wait_seconds, priority_of, route_for_agent, QueueOrder, WaitingConversation,
};
pub use rate::{KeyedBuckets, RateLimit, TokenBucket};
pub use retry::{parse_retry_after, AttemptOutcome, NextStep, RetrySchedule};
pub use signed_request::{
    helpdesk_agent_name, signed_request_payload, SeenRequests, AGENT_NAME_HEADER,
    DEFAULT_HELPDESK_AGENT_NAME, HELPDESK_AGENT_ID, MAX_AGENT_NAME_CHARS, SITE_HEADER,
};
pub use sites::{SiteConfig, SiteDirectory};
pub use stats::SiteStats;
pub use token::tokens_match;
pub use validate::{
    validate_csat, validate_escalation, validate_id, validate_message, validate_resolution,
    validate_withdrawal, Limits,
};
pub use webhook::{
    SiteSecrets, WebhookRejection, WebhookSecret, MAX_SECRETS_PER_SITE, MAX_SIGNATURES,
    TOLERANCE_SECONDS,
};
