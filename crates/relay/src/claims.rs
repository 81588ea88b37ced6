//! The built-in queue's book: who waits, who holds which conversation, and for how long.
//!
//! [`QueueBook`] is the whole state of one site's queue as plain data. The worker's
//! `SiteQueue` Durable Object loads it, calls one method, and stores it again, so every
//! rule about claims and leases lives here and is tested natively. Time is always a
//! parameter.

use std::collections::BTreeMap;

use baton_protocol::{AgentProfile, ClaimInfo, PreviousHolder, QueueStatus, Returned};
use serde::{Deserialize, Serialize};

use crate::error::{RelayError, RelayErrorKind};
use crate::presence::CustomerChannel;
use crate::queue::{estimate_wait_seconds, QueueOrder, WaitingConversation};
use crate::signed_request::HELPDESK_AGENT_ID;

/// How long a claim lasts unless the agent's console renews it.
pub const DEFAULT_LEASE_MS: u64 = 60_000;

/// How long an agent counts as online after they last showed up: their console asked
/// for the queue (it does every few seconds while open, and about once a minute in a
/// background tab) or they acted on a conversation.
pub const DEFAULT_PRESENCE_MS: u64 = 120_000;

/// The lease of a claim that never lapses: the helpdesk's (see [`lease_end`]). The
/// largest integer a JavaScript number holds exactly, so the book still stores as JSON
/// in the worker (about 285,000 years from now).
const NEVER_MS: u64 = (1 << 53) - 1;

/// When a claim `agent` takes or renews at `now_ms` lapses. An external helpdesk's claim
/// does not: it has no console to renew it, and its people answer on their own schedule,
/// so it holds the conversation until it closes, releases or transfers it, or the
/// customer ends the chat.
fn lease_end(agent_id: &str, now_ms: u64, lease_ms: u64) -> u64 {
    if agent_id == HELPDESK_AGENT_ID {
        NEVER_MS
    } else {
        now_ms.saturating_add(lease_ms)
    }
}

/// How many recent handling times feed the wait estimate.
const HANDLING_HISTORY: usize = 20;

/// One site's queue.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct QueueBook {
    /// Waiting conversations, next to serve first.
    pub waiting: Vec<WaitingConversation>,
    /// Claimed conversations, by id.
    pub claimed: BTreeMap<String, Claim>,
    /// Seconds from escalation to close of recent conversations, newest last.
    pub recent_handling_seconds: Vec<u32>,
    /// The site's id (known from its first escalation).
    #[serde(default)]
    pub site: String,
    /// Agents online, by id: when each one's presence lapses unless they show up
    /// again, ms since the Unix epoch.
    #[serde(default)]
    pub present: BTreeMap<String, u64>,
}

/// A conversation an agent holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Claim {
    /// The conversation as it waited, so a release puts it back where it was.
    pub conversation: WaitingConversation,
    /// Who holds it.
    pub agent: AgentProfile,
    /// When the current agent took it, ms since the Unix epoch.
    #[serde(default)]
    pub claimed_at_ms: u64,
    /// When the claim lapses, ms since the Unix epoch.
    pub lease_until_ms: u64,
    /// When a person first replied, if anyone has.
    pub first_reply_at_ms: Option<u64>,
    /// When the customer last wrote while a person held it, so a console can show a
    /// conversation that is not on screen has something new (stored before there was
    /// this: nothing heard).
    #[serde(default)]
    pub last_customer_message_at_ms: Option<u64>,
    /// Who passed the conversation to its holder, if it came by a transfer.
    #[serde(default)]
    pub transferred_by: Option<String>,
}

impl Claim {
    /// The claim as the API reports it.
    pub fn info(&self) -> ClaimInfo {
        ClaimInfo {
            agent_id: self.agent.id.clone(),
            agent_name: self.agent.name.clone(),
            lease_until_ms: (self.lease_until_ms != NEVER_MS).then_some(self.lease_until_ms),
            transferred_by: self.transferred_by.clone(),
        }
    }

    /// The conversation as it goes back to the queue, saying who had it and how it
    /// came back.
    fn returned(&self, returned: Returned, at_ms: u64) -> WaitingConversation {
        WaitingConversation {
            previous_holder: Some(PreviousHolder {
                agent_id: self.agent.id.clone(),
                agent_name: self.agent.name.clone(),
                returned,
                returned_at_ms: at_ms,
            }),
            ..self.conversation.clone()
        }
    }
}

/// What a claim changed, so the worker can tell the customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimChange {
    /// A new agent took the conversation: announce them.
    Joined,
    /// The same agent renewed their lease: nothing to announce.
    Renewed,
}

impl QueueBook {
    /// Adds a new waiting conversation in its place in the order.
    pub fn enqueue(&mut self, conversation: WaitingConversation) {
        if self.contains(&conversation.conversation_id) {
            return;
        }
        self.waiting.push(conversation);
        QueueOrder::sort(&mut self.waiting);
    }

    /// Whether the conversation is waiting or claimed.
    pub fn contains(&self, conversation_id: &str) -> bool {
        self.claimed.contains_key(conversation_id)
            || self
                .waiting
                .iter()
                .any(|w| w.conversation_id == conversation_id)
    }

    /// Where a waiting conversation stands, as its customer is told it, or `None` if it
    /// is not waiting. `sees_every_agent`: whether everyone who may answer the site's
    /// customers uses the console (not when the site relays to a helpdesk, whose people
    /// the queue does not see); only then is nobody online said (`Some(0)`).
    pub fn status(&self, conversation_id: &str, sees_every_agent: bool) -> Option<QueueStatus> {
        let index = self
            .waiting
            .iter()
            .position(|w| w.conversation_id == conversation_id)?;
        Some(self.status_at(index, self.agents_online(), sees_every_agent))
    }

    /// Every waiting conversation's status, in the order they are served (see
    /// [`QueueBook::status`]).
    pub fn statuses(&self, sees_every_agent: bool) -> Vec<(String, QueueStatus)> {
        let online = self.agents_online();
        self.waiting
            .iter()
            .enumerate()
            .map(|(index, w)| {
                let status = self.status_at(index, online, sees_every_agent);
                (w.conversation_id.clone(), status)
            })
            .collect()
    }

    /// How many agents are online, as a customer is told it: "nobody" only when the
    /// queue sees everyone who could answer (see [`QueueBook::status`]).
    pub fn agents_online_as_told(&self, sees_every_agent: bool) -> Option<u32> {
        online_as_told(self.agents_online(), sees_every_agent)
    }

    fn status_at(&self, index: usize, online: u32, sees_every_agent: bool) -> QueueStatus {
        let position = u32::try_from(index + 1).unwrap_or(u32::MAX);
        QueueStatus {
            position,
            estimated_wait_seconds: estimate_wait_seconds(
                position,
                &self.recent_handling_seconds,
                online,
            ),
            agents_online: online_as_told(online, sees_every_agent),
        }
    }

    /// Distinct agents online: present, or holding a claim (which they renew).
    fn agents_online(&self) -> u32 {
        let mut ids: Vec<&str> = self
            .claimed
            .values()
            .map(|c| c.agent.id.as_str())
            .chain(self.present.keys().map(String::as_str))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        u32::try_from(ids.len()).unwrap_or(u32::MAX)
    }

    /// An agent takes a waiting conversation, or renews their own claim on it.
    pub fn claim(
        &mut self,
        conversation_id: &str,
        agent: &AgentProfile,
        now_ms: u64,
        lease_ms: u64,
    ) -> Result<ClaimChange, RelayError> {
        if let Some(claim) = self.claimed.get_mut(conversation_id) {
            if claim.agent.id != agent.id {
                return Err(conflict(RelayErrorKind::AlreadyClaimed));
            }
            claim.lease_until_ms = lease_end(&agent.id, now_ms, lease_ms);
            return Ok(ClaimChange::Renewed);
        }
        self.check_capacity(agent)?;
        let index = self
            .waiting
            .iter()
            .position(|w| w.conversation_id == conversation_id)
            .ok_or_else(|| conflict(RelayErrorKind::NotInQueue))?;
        let conversation = self.waiting.remove(index);
        self.claimed.insert(
            conversation_id.to_owned(),
            Claim {
                conversation,
                agent: agent.clone(),
                claimed_at_ms: now_ms,
                lease_until_ms: lease_end(&agent.id, now_ms, lease_ms),
                first_reply_at_ms: None,
                last_customer_message_at_ms: None,
                transferred_by: None,
            },
        );
        Ok(ClaimChange::Joined)
    }

    /// Refuses a new conversation to an agent who already holds as many as their
    /// capacity allows.
    fn check_capacity(&self, agent: &AgentProfile) -> Result<(), RelayError> {
        let Some(capacity) = agent.capacity else {
            return Ok(());
        };
        let held = self
            .claimed
            .values()
            .filter(|c| c.agent.id == agent.id)
            .count();
        if held >= usize::try_from(capacity).unwrap_or(usize::MAX) {
            return Err(RelayError::new(RelayErrorKind::AtCapacity, "agent"));
        }
        Ok(())
    }

    /// The holding agent extends their lease. Unlike [`QueueBook::claim`] it never takes
    /// a waiting conversation, so a console renewing late cannot take back one its agent
    /// released or lost.
    pub fn renew(
        &mut self,
        conversation_id: &str,
        agent_id: &str,
        now_ms: u64,
        lease_ms: u64,
    ) -> Result<(), RelayError> {
        self.held_by(conversation_id, agent_id)?;
        if let Some(claim) = self.claimed.get_mut(conversation_id) {
            claim.lease_until_ms = lease_end(agent_id, now_ms, lease_ms);
        }
        Ok(())
    }

    /// The claim `agent` holds on the conversation, or why they may not act on it.
    pub fn held_by(&self, conversation_id: &str, agent_id: &str) -> Result<&Claim, RelayError> {
        match self.claimed.get(conversation_id) {
            Some(claim) if claim.agent.id == agent_id => Ok(claim),
            Some(_) => Err(conflict(RelayErrorKind::AlreadyClaimed)),
            None => Err(conflict(RelayErrorKind::NotClaimed)),
        }
    }

    /// The agent gives the conversation back to the queue at `now_ms`, in its old
    /// place; the queue says they had it.
    pub fn release(
        &mut self,
        conversation_id: &str,
        agent_id: &str,
        now_ms: u64,
    ) -> Result<Claim, RelayError> {
        self.held_by(conversation_id, agent_id)?;
        let claim = self
            .claimed
            .remove(conversation_id)
            .ok_or_else(|| conflict(RelayErrorKind::NotClaimed))?;
        self.enqueue(claim.returned(Returned::Released, now_ms));
        Ok(claim)
    }

    /// The agent hands the conversation to another agent, who gets a fresh lease.
    pub fn transfer(
        &mut self,
        conversation_id: &str,
        from_agent_id: &str,
        to: &AgentProfile,
        now_ms: u64,
        lease_ms: u64,
    ) -> Result<AgentProfile, RelayError> {
        self.held_by(conversation_id, from_agent_id)?;
        if to.id != from_agent_id {
            self.check_capacity(to)?;
        }
        let claim = self
            .claimed
            .get_mut(conversation_id)
            .ok_or_else(|| conflict(RelayErrorKind::NotClaimed))?;
        let previous = std::mem::replace(&mut claim.agent, to.clone());
        if previous.id != to.id {
            claim.transferred_by = Some(previous.name.clone());
        }
        claim.claimed_at_ms = now_ms;
        claim.lease_until_ms = lease_end(&to.id, now_ms, lease_ms);
        Ok(previous)
    }

    /// Records that the holding agent replied, renewing the lease. Returns whether it
    /// was the first human reply.
    pub fn record_reply(
        &mut self,
        conversation_id: &str,
        agent_id: &str,
        now_ms: u64,
        lease_ms: u64,
    ) -> Result<bool, RelayError> {
        self.held_by(conversation_id, agent_id)?;
        let claim = self
            .claimed
            .get_mut(conversation_id)
            .ok_or_else(|| conflict(RelayErrorKind::NotClaimed))?;
        claim.lease_until_ms = claim
            .lease_until_ms
            .max(lease_end(agent_id, now_ms, lease_ms));
        let first = claim.first_reply_at_ms.is_none();
        if first {
            claim.first_reply_at_ms = Some(now_ms);
        }
        Ok(first)
    }

    /// Records that the customer wrote at `now_ms`. Only a held conversation keeps it
    /// (a waiting one shows its messages when it is opened); returns whether it did.
    pub fn record_customer_message(&mut self, conversation_id: &str, now_ms: u64) -> bool {
        match self.claimed.get_mut(conversation_id) {
            Some(claim) => {
                claim.last_customer_message_at_ms = Some(
                    claim
                        .last_customer_message_at_ms
                        .map_or(now_ms, |before| before.max(now_ms)),
                );
                true
            }
            None => false,
        }
    }

    /// The holding agent closes the conversation; it leaves the queue for good.
    pub fn close(
        &mut self,
        conversation_id: &str,
        agent_id: &str,
        now_ms: u64,
    ) -> Result<Claim, RelayError> {
        self.held_by(conversation_id, agent_id)?;
        let claim = self
            .claimed
            .remove(conversation_id)
            .ok_or_else(|| conflict(RelayErrorKind::NotClaimed))?;
        // Handling time: from the agent taking it to the close, the part more agents
        // would shorten.
        let seconds = now_ms.saturating_sub(claim.claimed_at_ms) / 1000;
        self.recent_handling_seconds
            .push(u32::try_from(seconds).unwrap_or(u32::MAX));
        let excess = self
            .recent_handling_seconds
            .len()
            .saturating_sub(HANDLING_HISTORY);
        self.recent_handling_seconds.drain(..excess);
        Ok(claim)
    }

    /// The customer left (ended the chat): the conversation leaves the queue, whoever
    /// held it. Returns the claim, if an agent had one.
    pub fn withdraw(&mut self, conversation_id: &str) -> Option<Claim> {
        self.waiting
            .retain(|w| w.conversation_id != conversation_id);
        self.claimed.remove(conversation_id)
    }

    /// Puts every claim whose lease ran out back in the queue and returns them, so the
    /// customer can be told the agent left.
    pub fn expire_leases(&mut self, now_ms: u64) -> Vec<Claim> {
        let expired: Vec<String> = self
            .claimed
            .iter()
            .filter(|(_, claim)| claim.lease_until_ms <= now_ms)
            .map(|(id, _)| id.clone())
            .collect();
        let mut lapsed = Vec::with_capacity(expired.len());
        for id in expired {
            if let Some(claim) = self.claimed.remove(&id) {
                self.enqueue(claim.returned(Returned::LeaseLapsed, claim.lease_until_ms));
                lapsed.push(claim);
            }
        }
        lapsed
    }

    /// Records what the conversation says of its customer's live channel (see
    /// [`CustomerChannel::record`]), waiting or held. Returns whether the book changed.
    pub fn record_customer_channel(
        &mut self,
        conversation_id: &str,
        report: CustomerChannel,
    ) -> bool {
        let conversation = match self.claimed.get_mut(conversation_id) {
            Some(claim) => Some(&mut claim.conversation),
            None => self
                .waiting
                .iter_mut()
                .find(|w| w.conversation_id == conversation_id),
        };
        conversation.is_some_and(|conversation| {
            CustomerChannel::record(&mut conversation.customer_channel, report)
        })
    }

    /// Records that an agent showed up. Returns whether the book changed enough to be
    /// stored: the agent was not online, or half their presence has passed (so a
    /// console asking every few seconds writes about once per half `presence_ms`).
    pub fn agent_seen(&mut self, agent_id: &str, now_ms: u64, presence_ms: u64) -> bool {
        let until = now_ms.saturating_add(presence_ms);
        match self.present.get_mut(agent_id) {
            Some(current) if *current >= now_ms.saturating_add(presence_ms / 2) => false,
            Some(current) => {
                *current = until;
                true
            }
            None => {
                self.present.insert(agent_id.to_owned(), until);
                true
            }
        }
    }

    /// The agent says they are away (the console is open, but nobody is at it): they
    /// are no longer online, unless they hold a conversation. Returns whether they were.
    pub fn agent_away(&mut self, agent_id: &str) -> bool {
        self.present.remove(agent_id).is_some()
    }

    /// Forgets the agents whose presence lapsed; returns whether anyone was forgotten.
    pub fn forget_absent(&mut self, now_ms: u64) -> bool {
        let before = self.present.len();
        self.present.retain(|_, until| *until > now_ms);
        self.present.len() != before
    }

    /// When the book next changes by itself: a lease or an agent's presence runs out.
    pub fn next_deadline_ms(&self) -> Option<u64> {
        self.claimed
            .values()
            .map(|c| c.lease_until_ms)
            .filter(|&until| until != NEVER_MS)
            .chain(self.present.values().copied())
            .min()
    }
}

/// "Nobody is online" is said only when the queue sees everyone who could answer.
fn online_as_told(online: u32, sees_every_agent: bool) -> Option<u32> {
    (sees_every_agent || online > 0).then_some(online)
}

fn conflict(kind: RelayErrorKind) -> RelayError {
    RelayError::new(kind, "conversation")
}

#[cfg(test)]
mod tests {
    use baton_protocol::EscalationReason;

    use super::*;

    fn agent(id: &str) -> AgentProfile {
        AgentProfile {
            id: id.into(),
            name: format!("Agent {id}"),
            ..AgentProfile::default()
        }
    }

    fn book_with(ids: &[(&str, u64, &[EscalationReason])]) -> QueueBook {
        let mut book = QueueBook::default();
        for (id, at, reasons) in ids {
            book.enqueue(WaitingConversation {
                conversation_id: (*id).into(),
                created_at_ms: *at,
                reasons: reasons.to_vec(),
                ..WaitingConversation::default()
            });
        }
        book
    }

    #[test]
    fn one_agent_at_a_time_and_the_holder_renews() {
        let mut book = book_with(&[("c1", 0, &[])]);
        assert_eq!(
            book.claim("c1", &agent("a"), 1_000, 60_000),
            Ok(ClaimChange::Joined)
        );
        let refused = book.claim("c1", &agent("b"), 2_000, 60_000).unwrap_err();
        assert_eq!(refused.kind, RelayErrorKind::AlreadyClaimed);
        assert_eq!(
            book.claim("c1", &agent("a"), 30_000, 60_000),
            Ok(ClaimChange::Renewed)
        );
        assert_eq!(book.claimed["c1"].lease_until_ms, 90_000);
        assert!(
            book.status("c1", true).is_none(),
            "a claimed conversation is not waiting"
        );
    }

    #[test]
    fn renewing_extends_only_a_claim_still_held() {
        let mut book = book_with(&[("c1", 0, &[])]);
        let refused = book.renew("c1", "a", 500, 60_000).unwrap_err();
        assert_eq!(refused.kind, RelayErrorKind::NotClaimed);
        assert!(
            book.status("c1", true).is_some(),
            "renewing never takes a waiting one"
        );
        book.claim("c1", &agent("a"), 1_000, 60_000).unwrap();
        book.renew("c1", "a", 20_000, 60_000).unwrap();
        assert_eq!(book.claimed["c1"].lease_until_ms, 80_000);
        let other = book.renew("c1", "b", 20_000, 60_000).unwrap_err();
        assert_eq!(other.kind, RelayErrorKind::AlreadyClaimed);
        book.release("c1", "a", 20_500).unwrap();
        let late = book.renew("c1", "a", 21_000, 60_000).unwrap_err();
        assert_eq!(late.kind, RelayErrorKind::NotClaimed);
        assert_eq!(
            book.status("c1", true).unwrap().position,
            1,
            "still waiting"
        );
    }

    #[test]
    fn release_puts_it_back_in_its_old_place() {
        let mut book = book_with(&[("old", 0, &[]), ("new", 5, &[])]);
        book.claim("old", &agent("a"), 10, 60_000).unwrap();
        assert_eq!(book.status("new", true).unwrap().position, 1);
        book.release("old", "a", 20).unwrap();
        assert_eq!(book.status("old", true).unwrap().position, 1);
        assert_eq!(book.status("new", true).unwrap().position, 2);
    }

    #[test]
    fn only_the_holder_may_reply_release_transfer_or_close() {
        let mut book = book_with(&[("c", 0, &[])]);
        book.claim("c", &agent("a"), 0, 60_000).unwrap();
        for result in [
            book.record_reply("c", "b", 1, 60_000).map(|_| ()),
            book.release("c", "b", 1).map(|_| ()),
            book.transfer("c", "b", &agent("c"), 1, 60_000).map(|_| ()),
            book.close("c", "b", 1).map(|_| ()),
        ] {
            assert_eq!(result.unwrap_err().kind, RelayErrorKind::AlreadyClaimed);
        }
        let unclaimed = book.record_reply("nope", "a", 1, 60_000).unwrap_err();
        assert_eq!(unclaimed.kind, RelayErrorKind::NotClaimed);
    }

    #[test]
    fn first_reply_is_recorded_once_and_renews_the_lease() {
        let mut book = book_with(&[("c", 0, &[])]);
        book.claim("c", &agent("a"), 0, 60_000).unwrap();
        assert_eq!(book.record_reply("c", "a", 50_000, 60_000), Ok(true));
        assert_eq!(book.record_reply("c", "a", 70_000, 60_000), Ok(false));
        let claim = &book.claimed["c"];
        assert_eq!(claim.first_reply_at_ms, Some(50_000));
        assert_eq!(claim.lease_until_ms, 130_000);
    }

    #[test]
    fn a_customer_message_is_recorded_on_a_held_conversation_only() {
        let mut book = book_with(&[("c", 0, &[]), ("w", 0, &[])]);
        book.claim("c", &agent("a"), 0, 60_000).unwrap();
        assert!(book.record_customer_message("c", 20_000));
        // Out of order (two messages at once): the latest time stays.
        assert!(book.record_customer_message("c", 10_000));
        assert_eq!(book.claimed["c"].last_customer_message_at_ms, Some(20_000));
        // It stays with the conversation when it changes hands.
        book.transfer("c", "a", &agent("b"), 30_000, 60_000)
            .unwrap();
        assert_eq!(book.claimed["c"].last_customer_message_at_ms, Some(20_000));
        assert_eq!(
            book.claimed["c"].info().transferred_by.as_deref(),
            Some("Agent a"),
            "the new holder hears who passed it"
        );
        assert!(!book.record_customer_message("w", 20_000), "waiting");
        assert!(!book.record_customer_message("nope", 20_000));
    }

    #[test]
    fn a_helpdesk_claim_holds_until_the_helpdesk_lets_go() {
        let mut book = book_with(&[("c", 0, &[])]);
        book.claim("c", &agent(HELPDESK_AGENT_ID), 0, 60_000)
            .unwrap();
        book.record_reply("c", HELPDESK_AGENT_ID, 30_000, 60_000)
            .unwrap();
        let a_week_later = 7 * 24 * 3_600_000;
        assert!(book.expire_leases(a_week_later).is_empty(), "still held");
        assert_eq!(book.claimed["c"].info().lease_until_ms, None);
        assert_eq!(book.next_deadline_ms(), None, "no alarm for it");
        // Handed to a console agent, it lapses like any of theirs.
        book.transfer("c", HELPDESK_AGENT_ID, &agent("a"), a_week_later, 60_000)
            .unwrap();
        assert_eq!(
            book.claimed["c"].info().lease_until_ms,
            Some(a_week_later + 60_000)
        );
        assert_eq!(book.expire_leases(a_week_later + 60_000).len(), 1);
    }

    #[test]
    fn transfer_moves_the_claim_with_a_fresh_lease() {
        let mut book = book_with(&[("c", 0, &[])]);
        book.claim("c", &agent("a"), 0, 60_000).unwrap();
        let previous = book
            .transfer("c", "a", &agent("b"), 10_000, 60_000)
            .unwrap();
        assert_eq!(previous.id, "a");
        assert_eq!(book.held_by("c", "b").unwrap().lease_until_ms, 70_000);
        assert!(book.held_by("c", "a").is_err());
    }

    #[test]
    fn an_agent_at_capacity_takes_no_more_conversations() {
        let mut book = book_with(&[("c1", 0, &[]), ("c2", 1, &[]), ("c3", 2, &[])]);
        let two = AgentProfile {
            capacity: Some(2),
            ..agent("a")
        };
        book.claim("c1", &two, 0, 60_000).unwrap();
        book.claim("c2", &two, 0, 60_000).unwrap();
        let err = book.claim("c3", &two, 0, 60_000).unwrap_err();
        assert_eq!(err.kind, RelayErrorKind::AtCapacity);
        assert_eq!(err.code(), "at_capacity");
        assert!(err.kind.is_conflict());
        // Renewing one held is not taking a new one.
        assert!(book.claim("c1", &two, 10_000, 60_000).is_ok());
        // Nor may another agent hand them a third; once one is released, they may.
        book.claim("c3", &agent("b"), 0, 60_000).unwrap();
        let err = book.transfer("c3", "b", &two, 0, 60_000).unwrap_err();
        assert_eq!(err.kind, RelayErrorKind::AtCapacity);
        assert!(book.held_by("c3", "b").is_ok());
        book.release("c1", "a", 20_500).unwrap();
        book.transfer("c3", "b", &two, 0, 60_000).unwrap();
        assert_eq!(
            book.claim("c1", &two, 0, 60_000).unwrap_err().kind,
            RelayErrorKind::AtCapacity
        );
        // Without a capacity there is no limit.
        book.claim("c1", &agent("b"), 0, 60_000).unwrap();
    }

    #[test]
    fn lapsed_leases_go_back_to_the_queue() {
        let mut book = book_with(&[("c1", 0, &[]), ("c2", 1, &[])]);
        book.claim("c1", &agent("a"), 0, 60_000).unwrap();
        book.claim("c2", &agent("b"), 0, 120_000).unwrap();
        assert_eq!(book.next_deadline_ms(), Some(60_000));
        assert!(book.expire_leases(59_999).is_empty());
        let lapsed = book.expire_leases(60_000);
        assert_eq!(lapsed.len(), 1);
        assert_eq!(lapsed[0].agent.id, "a");
        assert_eq!(book.status("c1", true).unwrap().position, 1);
        assert_eq!(book.next_deadline_ms(), Some(120_000));
    }

    /// The previous holder of a waiting conversation, as the queue reports it.
    fn previous(book: &QueueBook, id: &str) -> Option<(String, Returned, u64)> {
        let waiting = book.waiting.iter().find(|w| w.conversation_id == id)?;
        let holder = waiting.previous_holder.as_ref()?;
        Some((
            holder.agent_name.clone(),
            holder.returned,
            holder.returned_at_ms,
        ))
    }

    #[test]
    fn a_conversation_back_in_the_queue_says_who_had_it_and_how_it_came_back() {
        let mut book = book_with(&[("c1", 0, &[]), ("c2", 1, &[])]);
        assert_eq!(previous(&book, "c1"), None, "new: nobody had it");
        book.claim("c1", &agent("a"), 1_000, 60_000).unwrap();
        book.release("c1", "a", 5_000).unwrap();
        assert_eq!(
            previous(&book, "c1"),
            Some(("Agent a".to_owned(), Returned::Released, 5_000))
        );
        // Taken by b, passed to c, whose claim runs out: c had it last, until the lease
        // ended.
        book.claim("c1", &agent("b"), 6_000, 60_000).unwrap();
        book.transfer("c1", "b", &agent("c"), 7_000, 60_000)
            .unwrap();
        book.claim("c2", &agent("a"), 7_000, 600_000).unwrap();
        assert_eq!(book.expire_leases(70_000).len(), 1);
        assert_eq!(
            previous(&book, "c1"),
            Some(("Agent c".to_owned(), Returned::LeaseLapsed, 67_000))
        );
        assert_eq!(previous(&book, "c2"), None, "still held");
    }

    #[test]
    fn the_customer_channel_is_kept_waiting_and_held() {
        let mut book = book_with(&[("c", 0, &[])]);
        let report = |connected, at_ms| CustomerChannel { connected, at_ms };
        assert!(book.record_customer_channel("c", report(true, 1_000)));
        book.claim("c", &agent("a"), 2_000, 60_000).unwrap();
        assert!(book.record_customer_channel("c", report(false, 3_000)));
        book.release("c", "a", 4_000).unwrap();
        assert_eq!(
            book.waiting[0].customer_presence(3_000 + 30_000, 30_000),
            Some(baton_protocol::CustomerPresence::Left { left_at_ms: 3_000 }),
            "kept through the claim and the release"
        );
        assert!(
            !book.record_customer_channel("gone", report(true, 5_000)),
            "a conversation not in the book"
        );
    }

    #[test]
    fn agents_are_online_while_they_show_up_and_for_a_while_after() {
        let mut book = book_with(&[("c1", 0, &[]), ("c2", 1, &[])]);
        let online = |book: &QueueBook| book.status("c2", true).unwrap().agents_online;
        assert_eq!(online(&book), Some(0), "nobody has shown up");
        let alone = book.status("c2", true).unwrap().estimated_wait_seconds;

        assert!(
            book.agent_seen("a", 1_000, 120_000),
            "a new agent is stored"
        );
        assert!(
            !book.agent_seen("a", 3_000, 120_000),
            "asking again soon changes nothing worth a write"
        );
        assert!(book.agent_seen("a", 62_000, 120_000), "half-way: refreshed");
        assert!(book.agent_seen("b", 62_000, 120_000));
        assert_eq!(online(&book), Some(2));
        assert!(
            book.status("c2", true).unwrap().estimated_wait_seconds < alone,
            "two agents serve the line faster than one assumed"
        );

        // A claim holder counts once, present or not.
        book.claim("c1", &agent("a"), 63_000, 600_000).unwrap();
        assert_eq!(online(&book), Some(2));
        assert_eq!(
            book.next_deadline_ms(),
            Some(182_000),
            "presence lapses first"
        );

        assert!(book.agent_away("b"), "b steps away");
        assert!(!book.agent_away("b"));
        assert_eq!(online(&book), Some(1), "a still is, and holds c1");
        assert!(!book.forget_absent(181_999));
        assert!(book.forget_absent(182_000));
        assert_eq!(
            online(&book),
            Some(1),
            "a, holding a conversation, is still online"
        );
        book.close("c1", "a", 200_000).unwrap();
        assert_eq!(online(&book), Some(0));
        assert_eq!(book.next_deadline_ms(), None);
    }

    #[test]
    fn nobody_online_is_said_only_where_the_queue_sees_everyone() {
        let mut book = book_with(&[("c", 0, &[])]);
        assert_eq!(book.status("c", false).unwrap().agents_online, None);
        assert_eq!(book.agents_online_as_told(false), None);
        assert_eq!(book.agents_online_as_told(true), Some(0));
        book.agent_seen("a", 0, 120_000);
        assert_eq!(book.statuses(false)[0].1.agents_online, Some(1));
        assert_eq!(
            book.statuses(true),
            vec![("c".to_owned(), book.status("c", true).unwrap())]
        );
    }

    #[test]
    fn books_stored_before_presence_still_load() {
        let book: QueueBook = serde_json::from_str(
            r#"{"waiting":[{"conversation_id":"c","created_at_ms":1,"reasons":[]}],"claimed":{},"recent_handling_seconds":[]}"#,
        )
        .unwrap();
        assert!(book.present.is_empty());
        assert_eq!(book.status("c", true).unwrap().agents_online, Some(0));
    }

    #[test]
    fn close_records_handling_time_for_the_estimate() {
        let mut book = book_with(&[("c", 0, &[]), ("d", 1, &[])]);
        book.claim("c", &agent("a"), 100_000, 60_000).unwrap();
        book.close("c", "a", 700_000).unwrap();
        assert_eq!(book.recent_handling_seconds, vec![600]);
        assert!(!book.contains("c"));
        assert_eq!(book.status("d", true).unwrap().estimated_wait_seconds, 300);
    }

    #[test]
    fn withdraw_removes_waiting_and_claimed() {
        let mut book = book_with(&[("w", 0, &[]), ("c", 1, &[])]);
        book.claim("c", &agent("a"), 0, 60_000).unwrap();
        assert!(book.withdraw("w").is_none());
        assert!(book.withdraw("c").is_some());
        assert!(!book.contains("w") && !book.contains("c"));
    }

    #[test]
    fn sensitive_conversations_jump_ahead() {
        let book = book_with(&[
            ("first", 0, &[]),
            ("fraud", 9, &[EscalationReason::SensitiveIntent]),
        ]);
        assert_eq!(book.status("fraud", true).unwrap().position, 1);
        assert_eq!(book.status("first", true).unwrap().position, 2);
    }
}
