//! One line of a conversation and who wrote it.

use serde::{Deserialize, Serialize};

/// Who wrote a line of the conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Author {
    /// The customer, in the widget.
    Customer,
    /// The triage engine, answering from the site's knowledge base.
    Bot,
    /// A human agent, in the console or an external helpdesk.
    Agent,
    /// Baton itself: queue updates, "an agent joined", and so on.
    System,
}

/// One line of a conversation, as shown to customer and agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TranscriptEntry {
    /// Who wrote it.
    pub author: Author,
    /// The text, with personal data already masked.
    pub text: String,
    /// When it was written, in milliseconds since the Unix epoch.
    pub at_ms: u64,
}
