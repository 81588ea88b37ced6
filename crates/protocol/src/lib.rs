//! The wire types Baton's parts exchange: the widget in the customer's browser, the
//! edge worker, the agent console and external helpdesks.
//!
//! Invariants:
//! - Every type here is plain data (serde), with no web or worker dependency, so the
//!   widget (wasm32), the edge (wasm32 on workerd) and native tools share one
//!   definition.
//! - Requests that come from outside (the widget, agents, integrators) reject unknown
//!   fields, so a typo in a client is an error instead of silently lost data.
//! - Text in a [`HandoffPacket`] is already redacted by the widget; the edge redacts it
//!   again before storing it. No type here is ever written to a log.
//! - Field names are `snake_case` on the wire and the API is versioned under `/v1`.

mod escalation;
mod live;
mod message;
mod rich_text;
pub mod webhook;

pub use escalation::{
    ApiError, ApiErrorBody, ConversationPacket, CustomerIdentity, CustomerPresence,
    EarlierConversation, EscalationAccepted, EscalationReason, EscalationRequest,
    EscalationWithdrawal, EscalationWithdrawn, HandoffPacket, IntentGuess, Outcome, PreviousHolder,
    QueueEntry, QueueSnapshot, Returned, VerifiedCustomer,
};
pub use live::{
    offers_live_subprotocol, token_in_subprotocols, token_subprotocol, ActiveEntry,
    AgentActionResult, AgentClose, AgentProfile, AgentReply, AgentTarget, AgentTransfer,
    Availability, ClaimInfo, ConversationEvent, ConversationUpdate, CsatRating, CustomerClose,
    CustomerClosed, CustomerMessage, CustomerTyping, EventBody, MessageStored, QueueStatus,
    SiteAnalytics, LIVE_SUBPROTOCOL,
};
pub use message::{Author, TranscriptEntry};
pub use rich_text::{is_safe_url, Block, Inline, RefusedLink, RichText};
pub use webhook::{
    ConversationRelayed, EscalationCreated, WebhookDeliveries, WebhookDeliverySummary,
    WebhookEvent, WebhookReplay, CONVERSATION_CLOSED, CONVERSATION_MESSAGE, ESCALATION_CREATED,
};

/// The API version prefix every edge route lives under.
pub const API_PREFIX: &str = "/v1";

/// Largest request body the edge accepts, in bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Longest id the edge accepts (site, visitor, conversation, `client_id`, …), in bytes.
pub const MAX_ID_BYTES: usize = 64;

/// Longest message the edge accepts from a customer or an agent, in bytes.
pub const MAX_MESSAGE_BYTES: usize = 4_000;

/// Whether `byte` may appear in an id: an ASCII letter or digit, `-` or `_`.
pub fn is_id_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_'
}
