//! A conversation after the hand-off: its event log, the live channel, and the agent
//! and customer requests that add to it.
//!
//! Every conversation keeps an append-only log of [`ConversationEvent`]s, numbered
//! from one. Clients remember the last `seq` they saw and ask for everything after it, over
//! the WebSocket or `GET .../events?after=N`, so a reconnect neither loses nor repeats
//! a message. Writes carry a client-chosen `client_id`: sending the same one twice adds
//! one event, which is how the widget's outbox delivers exactly once.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::escalation::{EscalationReason, QueueEntry};
use crate::message::Author;

/// One numbered entry of a conversation's log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConversationEvent {
    /// Position in the log, from 1, without gaps.
    pub seq: u64,
    /// When the edge recorded it, in milliseconds since the Unix epoch.
    pub at_ms: u64,
    /// What happened.
    pub event: EventBody,
}

/// What happened in a conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventBody {
    /// A message from the customer or an agent, redacted by the edge.
    Message {
        /// The customer or an agent.
        author: Author,
        /// The text. An agent's uses the safe [`crate::RichText`] syntax.
        text: String,
        /// The agent's display name, for agent messages.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        agent_name: Option<String>,
        /// The id the sender chose, so it can recognise its own message.
        client_id: String,
    },
    /// An agent took the conversation.
    AgentJoined {
        /// The agent's display name.
        agent_name: String,
    },
    /// The agent let go of the conversation (released, transferred, or their lease ran
    /// out); it is back in the queue or with another agent.
    AgentLeft {
        /// The agent's display name.
        agent_name: String,
        /// Set when they passed the conversation to another agent: that agent's display
        /// name (an `agent_joined` for them follows).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        transferred_to: Option<String>,
    },
    /// The conversation is over.
    Resolved {
        /// Who ended it.
        by: Author,
        /// The agent's short resolution note, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        resolution: Option<String>,
    },
}

/// Where a waiting conversation stands in the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueStatus {
    /// 1 means next in line.
    pub position: u32,
    /// Estimated seconds until a person joins.
    pub estimated_wait_seconds: u32,
    /// How many of the site's people are online now (their console open, or holding a
    /// conversation). `Some(0)`: nobody is, and the customer is told so rather than
    /// given a wait. `None` when the queue cannot know: the site relays escalations to
    /// a helpdesk, whose people it does not see, and nobody is in the console.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agents_online: Option<u32>,
}

/// `GET /v1/availability?site=…`: whether anyone could answer now, which the widget asks
/// before the customer decides to send their conversation to a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Availability {
    /// How many of the site's people are online now; see
    /// [`QueueStatus::agents_online`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agents_online: Option<u32>,
}

/// The WebSocket subprotocol of the customer's live channel. A browser cannot set headers
/// on a WebSocket, so the customer token goes as a second subprotocol
/// ([`token_subprotocol`]) rather than in the URL, which proxies and request logs keep.
pub const LIVE_SUBPROTOCOL: &str = "baton.live";

const TOKEN_SUBPROTOCOL_PREFIX: &str = "baton.token.";

/// The subprotocol that carries a customer token (hexadecimal digits, as the edge makes
/// them, all a subprotocol may hold).
pub fn token_subprotocol(token: &str) -> String {
    format!("{TOKEN_SUBPROTOCOL_PREFIX}{token}")
}

/// The customer token among the subprotocols a client offered (a
/// `Sec-WebSocket-Protocol` header's comma-separated list), if any.
pub fn token_in_subprotocols(offered: &str) -> Option<&str> {
    offered
        .split(',')
        .find_map(|protocol| protocol.trim().strip_prefix(TOKEN_SUBPROTOCOL_PREFIX))
}

/// Whether a client offered the live channel's subprotocol (it must hear it chosen).
pub fn offers_live_subprotocol(offered: &str) -> bool {
    offered
        .split(',')
        .any(|protocol| protocol.trim() == LIVE_SUBPROTOCOL)
}

/// What the live channel sends, and what `GET .../events` answers: the events after
/// the client's last seen `seq`, and the queue position while the customer waits.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ConversationUpdate {
    /// New events, in order.
    pub events: Vec<ConversationEvent>,
    /// The queue position, while nobody has the conversation; `None` otherwise.
    #[serde(default)]
    pub queue: Option<QueueStatus>,
    /// The display name of the agent writing a reply right now. Sent on the live channel
    /// only, when the agent's console says they are typing (at most every few seconds
    /// while they do); never stored, so a reconnect does not bring it back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub typing: Option<String>,
    /// For agents (`GET /v1/agent/events`): the customer is writing a message right now
    /// (their chat said so within the last few seconds). Only that, never what they
    /// write; never set on the customer's own channel.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub customer_typing: bool,
}

/// What the widget may send on its live channel: that the customer is typing, at most
/// every few seconds while they do. Anything else sent there is ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomerTyping {
    /// Always `true`: the customer is typing.
    pub typing: bool,
}

/// `POST /v1/conversations/{id}/messages` from the widget.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomerMessage {
    /// A random id per message; the same id twice is stored once.
    pub client_id: String,
    /// What the customer wrote, already redacted by the widget.
    pub text: String,
}

/// `POST /v1/conversations/{id}/close` from the widget: the customer ends the
/// conversation, with the messages still on their way, stored first (each once, as
/// `POST …/messages` stores them) so that one request, which survives the page being
/// closed, carries both. No body, or `{}`, ends it without any.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomerClose {
    /// Messages not yet confirmed by the edge, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub messages: Vec<CustomerMessage>,
}

/// The edge's answer to [`CustomerClose`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerClosed {
    /// Always `true`: the conversation is over.
    pub closed: bool,
    /// The `client_id`s of the messages that were not stored: the conversation had
    /// ended before they came (an agent closed it). Absent when there are none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub undelivered: Vec<String>,
}

/// The edge's answer to a stored message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessageStored {
    /// The message's place in the log.
    pub seq: u64,
}

/// `POST /v1/conversations/{id}/csat`: the customer's rating after the end.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CsatRating {
    /// 1 (bad) to 5 (great).
    pub rating: u8,
    /// An optional comment, redacted.
    #[serde(default)]
    pub comment: String,
}

/// `POST /v1/agent/claim`, `/renew`, `/release`, `/typing`: an agent acts on one
/// conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentTarget {
    /// The site id.
    pub site: String,
    /// The conversation id.
    pub conversation: String,
}

/// `POST /v1/agent/transfer`: hand a claimed conversation to another agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentTransfer {
    /// The site id.
    pub site: String,
    /// The conversation id.
    pub conversation: String,
    /// The id of the agent who takes it over.
    pub to_agent: String,
}

/// `POST /v1/agent/reply`: an agent writes to the customer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentReply {
    /// The site id.
    pub site: String,
    /// The conversation id.
    pub conversation: String,
    /// A random id per reply; the same id twice is stored once.
    pub client_id: String,
    /// The reply in the safe [`crate::RichText`] syntax (bold, links, lists).
    pub text: String,
}

/// `POST /v1/agent/close`: the agent ends the conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentClose {
    /// The site id.
    pub site: String,
    /// The conversation id.
    pub conversation: String,
    /// A short note on how it was resolved, shown to the customer.
    #[serde(default)]
    pub resolution: Option<String>,
}

/// Who has a conversation, as the queue reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClaimInfo {
    /// The agent's id.
    pub agent_id: String,
    /// The agent's display name.
    pub agent_name: String,
    /// When the claim lapses unless the agent renews it, ms since the Unix epoch;
    /// `None` for a claim that does not lapse (an external helpdesk's, held until it
    /// closes, releases or transfers the conversation).
    pub lease_until_ms: Option<u64>,
    /// The display name of the agent who passed the conversation to this one, when it
    /// came by a transfer: the console tells its agent, however quickly it happened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transferred_by: Option<String>,
}

/// One conversation an agent holds, as the console lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActiveEntry {
    /// What the queue showed while it waited.
    #[serde(flatten)]
    pub entry: QueueEntry,
    /// Who has it.
    pub claim: ClaimInfo,
    /// When a person first replied, if anyone has.
    pub first_reply_at_ms: Option<u64>,
    /// When the customer last wrote while a person held it, if they have: a console
    /// marks a conversation with something new that its agent has not seen.
    #[serde(default)]
    pub last_customer_message_at_ms: Option<u64>,
}

/// The answer to every agent action: the conversation's state afterwards.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentActionResult {
    /// The conversation id.
    pub conversation_id: String,
    /// Who has it now, if anyone.
    pub claim: Option<ClaimInfo>,
    /// Whether it is closed.
    pub closed: bool,
}

/// An agent, as the edge knows it from its token.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct AgentProfile {
    /// Stable id.
    pub id: String,
    /// The name the customer sees.
    pub name: String,
    /// Languages the agent answers in (BCP 47), first the best; empty means any.
    #[serde(default)]
    pub languages: Vec<String>,
    /// Skills the agent has (names from the sites' `skills` settings, e.g. `cards`);
    /// conversations needing one of them come first in the agent's queue.
    #[serde(default)]
    pub skills: Vec<String>,
    /// At most this many conversations at once on a site; `None` is no limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<u32>,
    /// The only sites the agent works on; empty: every site this edge serves.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sites: Vec<String>,
}

impl AgentProfile {
    /// Whether the agent works on `site`.
    pub fn works_on(&self, site: &str) -> bool {
        self.sites.is_empty() || self.sites.iter().any(|own| own == site)
    }
}

/// Content-free numbers for a site: what the bot and the people did.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SiteAnalytics {
    /// Knowledge-base answers the customer rated "yes, this helped".
    pub bot_answers_helpful: u64,
    /// Knowledge-base answers the customer rated "no".
    pub bot_answers_unhelpful: u64,
    /// Conversations handed to a person.
    pub escalated: u64,
    /// Of those, how many per reason (a conversation can have several reasons).
    pub escalated_by_reason: BTreeMap<EscalationReason, u64>,
    /// Conversations an agent closed.
    pub resolved: u64,
    /// Median seconds from escalation to the first human reply, if any reply yet.
    pub median_first_reply_seconds: Option<u64>,
    /// CSAT ratings received.
    pub csat_count: u64,
    /// Their mean, if any.
    pub csat_average: Option<f32>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_read_back_from_the_offered_subprotocols() {
        let offered = format!("{LIVE_SUBPROTOCOL}, {}", token_subprotocol("a1b2-c3"));
        assert_eq!(token_in_subprotocols(&offered), Some("a1b2-c3"));
        assert!(offers_live_subprotocol(&offered));
        assert_eq!(token_in_subprotocols(LIVE_SUBPROTOCOL), None);
        assert!(!offers_live_subprotocol("chat, baton.lively"));
    }

    #[test]
    fn events_are_tagged_by_type() {
        let event = ConversationEvent {
            seq: 3,
            at_ms: 10,
            event: EventBody::AgentJoined {
                agent_name: "Sam".into(),
            },
        };
        let json = serde_json::to_string(&event).unwrap();
        assert_eq!(
            json,
            r#"{"seq":3,"at_ms":10,"event":{"type":"agent_joined","agent_name":"Sam"}}"#
        );
        assert_eq!(
            serde_json::from_str::<ConversationEvent>(&json).unwrap(),
            event
        );
    }

    #[test]
    fn customer_message_rejects_unknown_fields() {
        let json = r#"{"client_id":"a","text":"hi","author":"agent"}"#;
        let err = serde_json::from_str::<CustomerMessage>(json).unwrap_err();
        assert!(err.to_string().contains("unknown field `author`"), "{err}");
    }
}
