//! Which conversations each signed-in customer has had on a site, so the agent who
//! takes one sees what the customer needed before and nobody asks them again.
//!
//! Only customers the site verified (`Baton.identify` with the site's HMAC) are
//! recorded: an id anyone can type would let one customer's history show under
//! another's name.

use serde::{Deserialize, Serialize};

/// One verified customer's conversations on one site, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CustomerConversations {
    ids: Vec<String>,
}

impl CustomerConversations {
    /// How many conversations are remembered per customer; the oldest go first.
    pub const KEPT: usize = 20;
    /// How many earlier conversations an agent is shown.
    pub const SHOWN: usize = 5;

    /// Records a new conversation (again: no change).
    pub fn record(&mut self, conversation_id: &str) {
        if self.ids.iter().any(|id| id == conversation_id) {
            return;
        }
        self.ids.push(conversation_id.to_owned());
        let excess = self.ids.len().saturating_sub(Self::KEPT);
        self.ids.drain(..excess);
    }

    /// The conversations the customer had before `conversation_id`, newest first, at
    /// most [`Self::SHOWN`]; none if it is not one of theirs.
    pub fn before(&self, conversation_id: &str) -> Vec<&str> {
        let Some(position) = self.ids.iter().position(|id| id == conversation_id) else {
            return Vec::new();
        };
        self.ids[..position]
            .iter()
            .rev()
            .take(Self::SHOWN)
            .map(String::as_str)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn earlier_conversations_come_newest_first_and_never_include_later_ones() {
        let mut customer = CustomerConversations::default();
        for id in ["a", "b", "c", "b"] {
            customer.record(id);
        }
        assert_eq!(customer.before("c"), ["b", "a"]);
        assert_eq!(customer.before("b"), ["a"]);
        assert!(customer.before("a").is_empty());
        assert!(customer.before("someone else's").is_empty());
    }

    #[test]
    fn only_the_latest_are_kept_and_shown() {
        let mut customer = CustomerConversations::default();
        let ids: Vec<String> = (0..30).map(|n| format!("c{n}")).collect();
        for id in &ids {
            customer.record(id);
        }
        assert_eq!(customer.before("c29"), ["c28", "c27", "c26", "c25", "c24"]);
        // The oldest were forgotten: c10 is now the first kept.
        assert!(customer.before("c10").is_empty());
        assert!(customer.before("c9").is_empty());
        assert_eq!(customer.before("c11"), ["c10"]);
    }
}
