//! The order of the built-in human queue and the wait a customer is told.

use std::cmp::Ordering;

use baton_protocol::{
    AgentProfile, CustomerPresence, EscalationReason, PreviousHolder, QueueEntry,
};
use serde::{Deserialize, Serialize};

use crate::presence::CustomerChannel;

/// What the queue needs to know about one conversation, waiting or (inside its
/// [`crate::Claim`]) held, so a release puts it back as it was.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct WaitingConversation {
    /// The conversation's id.
    pub conversation_id: String,
    /// When it arrived, in milliseconds since the Unix epoch.
    pub created_at_ms: u64,
    /// Why a person is needed.
    pub reasons: Vec<EscalationReason>,
    /// The customer's live channel as last reported; `None` until it first connected
    /// (stored before there was this: nothing heard).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_channel: Option<CustomerChannel>,
    /// The agent who last had it, when one released it or their claim ran out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_holder: Option<PreviousHolder>,
}

impl WaitingConversation {
    /// Whether its customer still has the chat open at `now_ms` (see
    /// [`CustomerChannel::presence`]); `None` when their chat never connected.
    pub fn customer_presence(&self, now_ms: u64, grace_ms: u64) -> Option<CustomerPresence> {
        self.customer_channel
            .map(|channel| channel.presence(now_ms, grace_ms))
    }
}

/// Priority from the reasons: 0 is most urgent.
///
/// Sensitive topics (fraud, a lost card) come first, then upset customers, then everyone
/// else who asked or was offered a person.
pub fn priority_of(reasons: &[EscalationReason]) -> u8 {
    if reasons.contains(&EscalationReason::SensitiveIntent) {
        0
    } else if reasons.contains(&EscalationReason::Frustration) {
        1
    } else {
        2
    }
}

/// Sorts waiting conversations into the order agents should take them.
#[derive(Debug, Clone, Copy, Default)]
pub struct QueueOrder;

impl QueueOrder {
    /// Compares two waiting conversations: priority, then age, then id.
    pub fn compare(a: &WaitingConversation, b: &WaitingConversation) -> Ordering {
        priority_of(&a.reasons)
            .cmp(&priority_of(&b.reasons))
            .then(a.created_at_ms.cmp(&b.created_at_ms))
            .then_with(|| a.conversation_id.cmp(&b.conversation_id))
    }

    /// Sorts in place, next-to-serve first.
    pub fn sort(waiting: &mut [WaitingConversation]) {
        waiting.sort_by(Self::compare);
    }
}

/// Orders the waiting list for one agent: still most urgent first, but within the same
/// urgency the conversations in a language the agent speaks come first, and among those
/// the ones needing a skill the agent has (each group keeps its age order). Nothing is
/// hidden: an agent sees every waiting conversation, theirs first. An agent with no
/// languages and no skills sees the plain order.
pub fn route_for_agent(waiting: &mut [QueueEntry], agent: &AgentProfile) {
    let speaks = |language: &str| {
        let primary = language.split(['-', '_']).next().unwrap_or_default();
        agent.languages.is_empty()
            || agent
                .languages
                .iter()
                .any(|spoken| spoken.eq_ignore_ascii_case(primary))
    };
    let skilled = |skill: &Option<String>| {
        skill
            .as_ref()
            .is_some_and(|needed| agent.skills.iter().any(|has| has == needed))
    };
    waiting.sort_by_key(|entry| {
        (
            priority_of(&entry.reasons),
            !speaks(&entry.language),
            !skilled(&entry.skill),
        )
    });
}

/// Whether `name` can name a skill: 1 to 40 of `a-z`, `0-9`, `_` and `-`.
pub(crate) fn is_skill_name(name: &str) -> bool {
    (1..=40).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// Seconds a customer at `position` (1 = next) should expect to wait, given recent
/// handling times in seconds and how many agents are online. With no history, assumes
/// four minutes a conversation; with no agent online, assumes one will come.
pub fn estimate_wait_seconds(
    position: u32,
    recent_handling_seconds: &[u32],
    agents_online: u32,
) -> u32 {
    const DEFAULT_HANDLING_SECONDS: u64 = 240;
    // Nobody helps a customer in under a minute; a shorter history is noise (a test,
    // a customer who left) and would promise a wait of zero.
    const MIN_HANDLING_SECONDS: u64 = 60;
    let average = if recent_handling_seconds.is_empty() {
        DEFAULT_HANDLING_SECONDS
    } else {
        recent_handling_seconds
            .iter()
            .map(|&s| u64::from(s))
            .sum::<u64>()
            / recent_handling_seconds.len() as u64
    }
    .max(MIN_HANDLING_SECONDS);
    let agents = u64::from(agents_online.max(1));
    let ahead = u64::from(position.saturating_sub(1));
    // Everyone ahead is served `agents` at a time; the customer then waits for the
    // first agent to free up, on average half a conversation.
    let seconds = ahead * average / agents + average / 2;
    u32::try_from(seconds).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn waiting(id: &str, at: u64, reasons: &[EscalationReason]) -> WaitingConversation {
        WaitingConversation {
            conversation_id: id.into(),
            created_at_ms: at,
            reasons: reasons.to_vec(),
            ..WaitingConversation::default()
        }
    }

    #[test]
    fn sensitive_then_frustrated_then_oldest() {
        let mut queue = vec![
            waiting("a", 1, &[EscalationReason::ExplicitRequest]),
            waiting("b", 5, &[EscalationReason::Frustration]),
            waiting("c", 9, &[EscalationReason::SensitiveIntent]),
            waiting("d", 0, &[]),
        ];
        QueueOrder::sort(&mut queue);
        let ids: Vec<_> = queue.iter().map(|w| w.conversation_id.as_str()).collect();
        assert_eq!(ids, ["c", "b", "d", "a"]);
    }

    fn entry(id: &str, language: &str, reasons: &[EscalationReason]) -> QueueEntry {
        QueueEntry {
            conversation_id: id.into(),
            reasons: reasons.to_vec(),
            language: language.into(),
            ..QueueEntry::default()
        }
    }

    fn agent(languages: &[&str], skills: &[&str]) -> AgentProfile {
        AgentProfile {
            id: "a".into(),
            name: "A".into(),
            languages: languages.iter().map(|&l| l.to_owned()).collect(),
            skills: skills.iter().map(|&s| s.to_owned()).collect(),
            ..AgentProfile::default()
        }
    }

    #[test]
    fn agents_see_their_languages_first_within_the_same_urgency() {
        let sensitive = [EscalationReason::SensitiveIntent];
        let mut waiting = vec![
            entry("fr-sensitive", "fr", &sensitive),
            entry("en-old", "en", &[]),
            entry("ar-new", "ar-EG", &[]),
            entry("en-new", "en", &[]),
        ];
        route_for_agent(&mut waiting, &agent(&["ar"], &[]));
        let ids: Vec<_> = waiting.iter().map(|e| e.conversation_id.as_str()).collect();
        assert_eq!(ids, ["fr-sensitive", "ar-new", "en-old", "en-new"]);
        let before = waiting.clone();
        route_for_agent(&mut waiting, &agent(&[], &[]));
        assert_eq!(waiting, before, "no languages, no change");
    }

    #[test]
    fn skilled_agents_see_their_conversations_first_and_everything_else_after() {
        let with_skill = |id: &str, language: &str, skill: Option<&str>| QueueEntry {
            skill: skill.map(str::to_owned),
            ..entry(id, language, &[])
        };
        let sensitive = QueueEntry {
            reasons: vec![EscalationReason::SensitiveIntent],
            ..entry("sensitive", "en", &[])
        };
        let mut waiting = vec![
            with_skill("plain-old", "en", None),
            with_skill("refunds", "en", Some("refunds")),
            with_skill("cards-fr", "fr", Some("cards")),
            with_skill("cards", "en", Some("cards")),
            sensitive,
        ];
        route_for_agent(&mut waiting, &agent(&["en"], &["cards"]));
        let ids: Vec<_> = waiting.iter().map(|e| e.conversation_id.as_str()).collect();
        // Urgency first, then language, then skill; age order inside each group.
        assert_eq!(
            ids,
            ["sensitive", "cards", "plain-old", "refunds", "cards-fr"]
        );
        route_for_agent(&mut waiting, &agent(&[], &["refunds"]));
        let ids: Vec<_> = waiting.iter().map(|e| e.conversation_id.as_str()).collect();
        assert_eq!(ids[..2], ["sensitive", "refunds"]);
        assert_eq!(ids.len(), 5, "nothing is hidden");
    }

    #[test]
    fn skill_names_are_plain_lowercase_words() {
        assert!(is_skill_name("cards"));
        assert!(is_skill_name("vip-2"));
        assert!(!is_skill_name(""));
        assert!(!is_skill_name("Cards"));
        assert!(!is_skill_name("a b"));
        assert!(!is_skill_name(&"x".repeat(41)));
    }

    #[test]
    fn wait_grows_with_position_and_shrinks_with_agents() {
        let history = [120, 180, 300];
        let first = estimate_wait_seconds(1, &history, 1);
        let fifth = estimate_wait_seconds(5, &history, 1);
        let fifth_two_agents = estimate_wait_seconds(5, &history, 2);
        assert_eq!(first, 100);
        assert!(fifth > first);
        assert!(fifth_two_agents < fifth);
    }

    #[test]
    fn instant_closes_do_not_promise_a_zero_wait() {
        assert_eq!(estimate_wait_seconds(1, &[0, 0, 1], 1), 30);
    }

    #[test]
    fn wait_without_history_assumes_four_minutes() {
        assert_eq!(estimate_wait_seconds(1, &[], 0), 120);
        assert_eq!(estimate_wait_seconds(2, &[], 0), 360);
    }
}
