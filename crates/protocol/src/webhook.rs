//! Webhooks: the events Baton relays to an external human queue, and the agent API's
//! view of deliveries.

use serde::{Deserialize, Serialize};

use crate::escalation::HandoffPacket;
use crate::live::ConversationEvent;

/// The `type` of the event sent when a new conversation is escalated.
pub const ESCALATION_CREATED: &str = "escalation.created";

/// One webhook delivery's body: `{"type","timestamp","data"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookEvent<T> {
    /// The event type, e.g. [`ESCALATION_CREATED`].
    #[serde(rename = "type")]
    pub event_type: String,
    /// When the event happened, RFC 3339 in UTC.
    pub timestamp: String,
    /// The event's data; its shape depends on `type`.
    pub data: T,
}

/// The data of an [`ESCALATION_CREATED`] event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EscalationCreated {
    /// The site the conversation belongs to.
    pub site: String,
    /// The conversation's id, as in the agent API.
    pub conversation_id: String,
    /// When the edge accepted it, milliseconds since the Unix epoch.
    pub created_at_ms: u64,
    /// The handoff packet, redacted.
    pub packet: HandoffPacket,
}

/// The `type` of the event sent when the customer writes in a relayed conversation.
pub const CONVERSATION_MESSAGE: &str = "conversation.message";

/// The `type` of the event sent when a relayed conversation ends (customer or agent).
pub const CONVERSATION_CLOSED: &str = "conversation.closed";

/// The data of a [`CONVERSATION_MESSAGE`] or [`CONVERSATION_CLOSED`] event: the event as
/// the conversation's log holds it (customer text redacted), so a helpdesk can follow
/// the conversation after the escalation and read it back in order by `seq`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConversationRelayed {
    /// The site the conversation belongs to.
    pub site: String,
    /// The conversation's id, as in the agent API.
    pub conversation_id: String,
    /// The event, with its place in the conversation's log.
    pub event: ConversationEvent,
}

/// One delivery as the agent API lists it: ids, counts and outcomes, never customer text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookDeliverySummary {
    /// The delivery's `webhook-id`, the same on every attempt.
    pub id: String,
    /// The event type.
    pub event_type: String,
    /// The conversation the event is about.
    pub conversation_id: String,
    /// Attempts made so far.
    pub attempts: u32,
    /// When the next attempt is due (ms since the Unix epoch); `None` for dead letters.
    pub next_due_ms: Option<u64>,
    /// The last attempt's outcome: an HTTP status such as `"500"`, `"timeout"`,
    /// `"connect error"` or `"not configured"`; `None` before the first attempt.
    pub last_outcome: Option<String>,
}

/// `GET /v1/agent/webhooks`: a site's pending and dead-lettered deliveries.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct WebhookDeliveries {
    /// Deliveries still being attempted, soonest first.
    pub pending: Vec<WebhookDeliverySummary>,
    /// Deliveries that ran out of attempts or were refused with 410 Gone.
    pub dead_letters: Vec<WebhookDeliverySummary>,
}

/// `POST /v1/agent/webhooks/replay`: re-queue one dead letter from attempt 1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookReplay {
    /// The site.
    pub site: String,
    /// The delivery's id.
    pub id: String,
}
