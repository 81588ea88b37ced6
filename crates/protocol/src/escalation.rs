//! Escalation: the widget hands a conversation to a person.

use serde::{Deserialize, Serialize};

use crate::live::ActiveEntry;
use crate::message::TranscriptEntry;

/// Why a conversation should go to a person. Each reason is shown, in plain words, to
/// the customer and to the agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EscalationReason {
    /// The customer asked for a person, in any phrasing.
    ExplicitRequest,
    /// The customer is angry, distressed or sarcastic.
    Frustration,
    /// The topic is one the site always wants a person for (fraud, a lost card, ...).
    SensitiveIntent,
    /// The question is not one the knowledge base can answer with confidence.
    OutOfScope,
    /// The customer rephrased the same need, or said an answer did not help.
    RepeatedFailure,
}

impl EscalationReason {
    /// Every reason, in priority order (most urgent first).
    pub const ALL: [EscalationReason; 5] = [
        EscalationReason::SensitiveIntent,
        EscalationReason::Frustration,
        EscalationReason::ExplicitRequest,
        EscalationReason::RepeatedFailure,
        EscalationReason::OutOfScope,
    ];

    /// `reasons` most urgent first (the order of [`EscalationReason::ALL`]), each once.
    ///
    /// ```
    /// use baton_protocol::EscalationReason::{ExplicitRequest, SensitiveIntent};
    /// let ordered = baton_protocol::EscalationReason::most_urgent_first(&[
    ///     ExplicitRequest,
    ///     SensitiveIntent,
    ///     ExplicitRequest,
    /// ]);
    /// assert_eq!(ordered, [SensitiveIntent, ExplicitRequest]);
    /// ```
    pub fn most_urgent_first(reasons: &[EscalationReason]) -> Vec<EscalationReason> {
        EscalationReason::ALL
            .into_iter()
            .filter(|reason| reasons.contains(reason))
            .collect()
    }

    /// The stable wire name, as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            EscalationReason::ExplicitRequest => "explicit_request",
            EscalationReason::Frustration => "frustration",
            EscalationReason::SensitiveIntent => "sensitive_intent",
            EscalationReason::OutOfScope => "out_of_scope",
            EscalationReason::RepeatedFailure => "repeated_failure",
        }
    }
}

/// The triage engine's best guess at what the customer needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntentGuess {
    /// The knowledge-base intent id, e.g. `card_arrival`.
    pub intent: String,
    /// Calibrated probability that the intent is right, in `0.0..=1.0`.
    pub confidence: f32,
}

/// Everything an agent needs so the customer never repeats themselves.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HandoffPacket {
    /// The most likely intent, if the engine had one.
    #[serde(default)]
    pub intent: Option<IntentGuess>,
    /// Why a person is needed. Empty means the customer simply chose a person.
    #[serde(default)]
    pub reasons: Vec<EscalationReason>,
    /// Sentiment of each customer message in order, from -1.0 (upset) to 1.0 (happy).
    #[serde(default)]
    pub sentiment: Vec<f32>,
    /// Intent ids of the knowledge-base answers the customer has already seen.
    #[serde(default)]
    pub answers_shown: Vec<String>,
    /// A short extractive summary of the customer's need.
    #[serde(default)]
    pub summary: String,
    /// The conversation so far, redacted.
    #[serde(default)]
    pub transcript: Vec<TranscriptEntry>,
    /// The customer's language, as a BCP 47 tag such as `en` or `ar`.
    #[serde(default)]
    pub language: String,
}

/// `POST /v1/escalations`: the widget asks for a person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EscalationRequest {
    /// The site id from the embed tag's `data-site`.
    pub site: String,
    /// A random id the widget keeps per browser, for rate limits and continuity.
    pub visitor_id: String,
    /// A random key per escalation attempt; a retry with the same key creates nothing new.
    pub idempotency_key: String,
    /// What the agent needs to know.
    pub packet: HandoffPacket,
    /// Who the customer is, when the site signed them in (`Baton.identify`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<CustomerIdentity>,
}

/// `POST /v1/escalations/withdraw`: the customer ended the chat while the edge's answer
/// to an escalation was still unknown (the request failed, or the page changed, and the
/// edge may have created the conversation all the same). The escalation with this key
/// ends as if the customer had ended it, and if it never arrived, it is refused when it
/// does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EscalationWithdrawal {
    /// The site id, as in the escalation.
    pub site: String,
    /// The escalation's `visitor_id`.
    pub visitor_id: String,
    /// The escalation's `idempotency_key`.
    pub idempotency_key: String,
}

/// The edge's answer to a withdrawal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EscalationWithdrawn {
    /// The conversation the escalation had created, now ended; `None` when none had
    /// been created (the key is then refused from now on).
    pub conversation_id: Option<String>,
}

/// A signed-in customer, as the site tells the widget. `hash` is the hex
/// HMAC-SHA256 of `id` under the site's identity secret, computed on the site's server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomerIdentity {
    /// The site's own user id.
    pub id: String,
    /// Display name, if the site gives one.
    #[serde(default)]
    pub name: String,
    /// Email, if the site gives one.
    #[serde(default)]
    pub email: String,
    /// `hex(HMAC-SHA256(identity_secret, id))`.
    #[serde(default)]
    pub hash: String,
}

/// A customer whose identity the edge verified, as the agent sees them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifiedCustomer {
    /// The site's own user id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Email.
    pub email: String,
}

/// The edge's answer to an accepted escalation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EscalationAccepted {
    /// The conversation's id.
    pub conversation_id: String,
    /// A secret the widget presents to read and write this conversation.
    pub customer_token: String,
    /// 1 means next in line.
    pub queue_position: u32,
    /// Estimated seconds until a person joins.
    pub estimated_wait_seconds: u32,
    /// How many of the site's people are online now; see
    /// [`crate::QueueStatus::agents_online`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agents_online: Option<u32>,
}

/// One waiting conversation as the agent console lists it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct QueueEntry {
    /// The conversation's id.
    pub conversation_id: String,
    /// When the escalation arrived, in milliseconds since the Unix epoch.
    pub created_at_ms: u64,
    /// Why a person is needed.
    pub reasons: Vec<EscalationReason>,
    /// The engine's intent guess.
    pub intent: Option<IntentGuess>,
    /// The short summary from the handoff packet.
    pub summary: String,
    /// The customer's language.
    pub language: String,
    /// The skill the conversation needs, from the site's `skills` setting and the
    /// intent; absent when the site names none for this intent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skill: Option<String>,
    /// Whether the customer still has the chat open; absent until their chat first
    /// connected to the conversation's live channel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_presence: Option<CustomerPresence>,
    /// The agent who last had the conversation before it came back to the queue, if
    /// one did: the next agent knows the customer has already been spoken to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_holder: Option<PreviousHolder>,
}

/// Whether the customer still has the chat open, as agents are told it.
///
/// ```
/// use baton_protocol::CustomerPresence;
/// let left = serde_json::to_string(&CustomerPresence::Left { left_at_ms: 7 }).unwrap();
/// assert_eq!(left, r#"{"state":"left","left_at_ms":7}"#);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum CustomerPresence {
    /// Their chat is connected, or was a moment ago (a page change or a reload drops
    /// it for a few seconds).
    Here,
    /// Their chat has been gone for longer than a page change takes: the tab was closed,
    /// or the browser went offline.
    Left {
        /// When it disconnected, in milliseconds since the Unix epoch.
        left_at_ms: u64,
    },
}

/// The agent who had a conversation before it came back to the queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviousHolder {
    /// The agent's id.
    pub agent_id: String,
    /// The agent's display name.
    pub agent_name: String,
    /// How it came back.
    pub returned: Returned,
    /// When, in milliseconds since the Unix epoch.
    pub returned_at_ms: u64,
}

/// How a conversation came back to the queue from an agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Returned {
    /// The agent released it.
    Released,
    /// The agent's claim ran out (their console stopped renewing it).
    LeaseLapsed,
}

/// `GET /v1/agent/packet`: everything the customer handed over, for the agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConversationPacket {
    /// The conversation's id.
    pub conversation_id: String,
    /// When the escalation arrived, in milliseconds since the Unix epoch.
    pub created_at_ms: u64,
    /// The handoff packet, redacted by the widget and again by the edge.
    pub packet: HandoffPacket,
    /// The signed-in customer, when the site verified who they are.
    #[serde(default)]
    pub customer: Option<VerifiedCustomer>,
    /// That customer's conversations on the site before this one, newest first (at most
    /// five): what they needed before. Empty when the customer is not signed in.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub earlier: Vec<EarlierConversation>,
}

/// One of a signed-in customer's earlier conversations, as the agent sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EarlierConversation {
    /// The conversation's id (its packet and thread open with it).
    pub conversation_id: String,
    /// When it was handed to a person, in milliseconds since the Unix epoch.
    pub created_at_ms: u64,
    /// Why a person was needed then.
    pub reasons: Vec<EscalationReason>,
    /// The engine's intent guess then.
    pub intent: Option<IntentGuess>,
    /// The short summary from its handoff packet.
    pub summary: String,
    /// How it ended, as far as the site's queue heard: an agent closed it (with their
    /// closing note, if they left one), and the customer's rating and comment.
    #[serde(default)]
    pub outcome: Outcome,
}

/// How a conversation ended: what the agent who closed it and the customer said.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Outcome {
    /// Whether an agent closed it.
    #[serde(default)]
    pub resolved: bool,
    /// The closing agent's note, when they left one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<String>,
    /// The customer's rating, 1 to 5, when they gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rating: Option<u8>,
    /// The comment the customer wrote with their rating (masked), when they wrote one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// `GET /v1/agent/queue`: a site's waiting conversations, next first.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct QueueSnapshot {
    /// The site id.
    pub site: String,
    /// Waiting conversations, in the order agents should take them.
    pub waiting: Vec<QueueEntry>,
    /// Conversations an agent holds now.
    #[serde(default)]
    pub active: Vec<ActiveEntry>,
}

/// The body of every error response: `{"error":{"code","message"}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiError {
    /// The error.
    pub error: ApiErrorBody,
}

/// A stable machine-readable code and a readable message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiErrorBody {
    /// Stable, `snake_case`, safe to branch on, e.g. `unknown_field`.
    pub code: String,
    /// For people: what was wrong and where. Never contains customer text.
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escalation_request_rejects_unknown_fields() {
        let json =
            r#"{"site":"demo","visitor_id":"v","idempotency_key":"k","packet":{},"extra":1}"#;
        let err = serde_json::from_str::<EscalationRequest>(json).unwrap_err();
        assert!(err.to_string().contains("unknown field `extra`"), "{err}");
    }

    #[test]
    fn reasons_use_snake_case_wire_names() {
        for reason in EscalationReason::ALL {
            let json = serde_json::to_string(&reason).unwrap();
            assert_eq!(json, format!("\"{}\"", reason.as_str()));
        }
    }
}
