//! Knowledge-base entries as the engine carries them (parsed from TOML only when training).

use serde::{Deserialize, Serialize};

/// A link shown under an answer. The url is `https:` or `mailto:`, checked at load.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KbLink {
    /// The text the customer sees.
    pub label: String,
    /// Where it goes: `https:` or `mailto:` only.
    pub url: String,
}

/// One intent of the site's knowledge base: the question and the answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KbEntry {
    /// The intent id, e.g. `card_arrival`.
    pub id: String,
    /// The short canonical question, e.g. "When will my card arrive?".
    pub title: String,
    /// The answer in KB markup: blank-line paragraphs, `- ` items, `**bold**`, `[label](https://..)`.
    pub answer: String,
    /// Links shown under the answer.
    pub links: Vec<KbLink>,
    /// True when a person should always be offered for this intent (fraud, lost card, ...).
    pub sensitive: bool,
}

/// True when `url` may be shown as a link: `https:` or `mailto:` with a target.
pub(crate) fn is_allowed_url(url: &str) -> bool {
    baton_protocol::is_safe_url(url)
}
