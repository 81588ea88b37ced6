//! The chat's state and every way it can change, as a pure reducer.
//!
//! [`ChatState::apply`] takes an [`Action`] and returns the [`Effect`]s the shell must
//! carry out (network calls, events for the host page). It touches no browser API, so
//! the whole conversation logic is tested natively.

use std::rc::Rc;

use baton_protocol::{
    Author, ConversationUpdate, CustomerIdentity, EscalationAccepted, EscalationReason,
    EscalationRequest, EscalationWithdrawal, EventBody, HandoffPacket, QueueStatus, RichText,
};
use baton_triage::{Conversation, Engine, KbLink, SmallTalk, Turn};
use serde::{Deserialize, Serialize};

/// One bubble in the chat.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatMessage {
    /// Position in the conversation, stable for rendering.
    pub id: usize,
    /// Who wrote it.
    pub author: Author,
    /// What it says.
    pub body: MessageBody,
}

/// What a bubble shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum MessageBody {
    /// Plain text (the customer's own words, already redacted, or a system note).
    Text(String),
    /// A knowledge-base answer, with links and a "did this help?" question.
    Answer {
        /// The intent it answers.
        intent: String,
        /// The answer, formatted.
        body: RichText,
        /// Follow-up links.
        links: Vec<KbLink>,
        /// `None` until the customer says whether it helped.
        helpful: Option<bool>,
        /// When the bot was unsure: the next likeliest questions, one tap each.
        #[serde(default)]
        alternatives: Vec<Alternative>,
    },
    /// The bot suggests a person, saying why.
    OfferPerson {
        /// Why, in the order the engine gave.
        reasons: Vec<EscalationReason>,
        /// When the message was in another language than the knowledge base's: that
        /// language (a BCP 47 tag), which the bot names instead of saying it is unsure.
        #[serde(default)]
        only_answers_in: Option<String>,
    },
    /// The bot does not know, and says so.
    DontKnow,
    /// The bot's reply to small talk ("thanks!", "hi").
    SmallTalk(SmallTalk),
    /// A person's message, in the safe rich-text subset.
    Agent {
        /// The agent's display name.
        name: String,
        /// What they wrote.
        body: RichText,
    },
    /// Something happened in the conversation (an agent joined, left, closed it).
    Note(Note),
}

/// A question the customer may have meant instead, offered beside an unsure answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alternative {
    /// Its intent, answered directly when tapped.
    pub intent: String,
    /// Its question, as the chip shows it.
    pub title: String,
}

/// A line the widget itself writes into the conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Note {
    /// A person joined.
    AgentJoined(String),
    /// The person left; the customer is back in the queue.
    AgentLeft(String),
    /// One person passed the conversation to another, who can see all of it.
    PassedOn {
        /// Who had it.
        from: String,
        /// Who has it now.
        to: String,
    },
    /// The conversation was closed by the agent, with their note.
    Resolved(Option<String>),
    /// The customer ended the conversation with the person ("End chat").
    CustomerEnded,
    /// The customer wrote again after a conversation ended: a new one starts below.
    NewChat,
}

/// The most messages an end carries (as many as the edge takes with it).
const END_MAX_MESSAGES: usize = 20;

/// The most bytes of messages an end carries, below the edge's 64 KiB for a body.
const END_MAX_BYTES: usize = 48 * 1024;

/// The [`Outgoing::message_id`] of a message no bubble shows any more (the chat was
/// forgotten while it was still on its way).
const NO_BUBBLE: usize = usize::MAX;

/// A customer message on its way to the person: kept until the edge confirms it, and
/// sent again with the same `client_id` (which the edge stores once) until then.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outgoing {
    /// The id the edge deduplicates by.
    pub client_id: String,
    /// The redacted text.
    pub text: String,
    /// The bubble that shows it.
    pub message_id: usize,
}

/// Why a customer bubble never reached the person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum NotDelivered {
    /// The conversation had ended (the person closed it, or the edge no longer has it).
    Ended,
    /// The customer said "Not now" to the hand-off it was written for.
    NoPerson,
    /// The edge refused it for another reason (a site misconfigured, say).
    Refused,
}

impl NotDelivered {
    /// Sorts the edge's final refusal of a message (see [`SendProblem::of`]).
    fn of(problem: &str) -> NotDelivered {
        match problem {
            "conversation_closed" | "unknown_conversation" => NotDelivered::Ended,
            _ => NotDelivered::Refused,
        }
    }
}

/// A customer bubble that never reached the person, and why. Saved as `[bubble,
/// "Why"]`; earlier versions saved the bubble alone, for a conversation that had ended,
/// and that still loads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Undelivered {
    /// The bubble.
    pub message_id: usize,
    /// Why it was not delivered.
    pub why: NotDelivered,
}

impl Serialize for Undelivered {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        (self.message_id, self.why).serialize(serializer)
    }
}

// By hand rather than `#[serde(untagged)]`, whose buffering costs the download
// kilobytes.
impl<'de> Deserialize<'de> for Undelivered {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Either;
        impl<'de> serde::de::Visitor<'de> for Either {
            type Value = Undelivered;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a bubble's number, or [number, reason]")
            }
            fn visit_u64<E: serde::de::Error>(self, bubble: u64) -> Result<Undelivered, E> {
                let message_id = usize::try_from(bubble).map_err(E::custom)?;
                Ok(Undelivered {
                    message_id,
                    why: NotDelivered::Ended,
                })
            }
            fn visit_i64<E: serde::de::Error>(self, bubble: i64) -> Result<Undelivered, E> {
                self.visit_u64(u64::try_from(bubble).map_err(E::custom)?)
            }
            fn visit_f64<E: serde::de::Error>(self, bubble: f64) -> Result<Undelivered, E> {
                if bubble.fract() != 0.0 || bubble < 0.0 {
                    return Err(E::custom("not a bubble's number"));
                }
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                self.visit_u64(bubble as u64)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Undelivered, A::Error> {
                use serde::de::Error;
                let message_id = seq
                    .next_element()?
                    .ok_or_else(|| A::Error::invalid_length(0, &self))?;
                let why = seq
                    .next_element()?
                    .ok_or_else(|| A::Error::invalid_length(1, &self))?;
                Ok(Undelivered { message_id, why })
            }
        }
        deserializer.deserialize_any(Either)
    }
}

/// A conversation with a person the customer ended, until the edge has heard of it: kept,
/// and told again after a failure and on every page. The messages still on their way go
/// with the end, stored first, in one request that outlives the page (nothing the
/// customer wrote is lost, and nobody waits in the queue for a customer who left).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ending {
    /// The conversation.
    pub accepted: EscalationAccepted,
    /// Its messages not yet confirmed by the edge.
    pub outbox: Vec<Outgoing>,
}

/// What came of telling the edge the customer ended a conversation.
#[derive(Debug, Clone, PartialEq)]
pub enum EndOutcome {
    /// Ended; the messages that went with it are stored, except these (`client_id`s),
    /// which came after an agent had closed it.
    Ended {
        /// The messages not stored.
        undelivered: Vec<String>,
    },
    /// The way to the edge was down: try again after a pause.
    Retry,
    /// Refused for good, for this reason (see [`SendProblem::of`]): the messages it
    /// carried are given up, and the end goes again without them.
    Refused(String),
}

/// The conversation with a person, after the edge accepted the hand-off.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct LiveState {
    /// The last event seen; a reconnect asks for everything after it.
    pub last_seq: u64,
    /// The place in the queue while nobody has the conversation.
    pub queue: Option<QueueStatus>,
    /// The person who has the conversation now.
    pub agent_name: Option<String>,
    /// Messages not yet confirmed by the edge, oldest first.
    pub outbox: Vec<Outgoing>,
    /// Ids of the messages this browser sent, to recognise their echo.
    pub sent_ids: Vec<String>,
    /// Whether the live channel is connected now (not saved).
    #[serde(skip)]
    pub connected: bool,
    /// Whether the live channel was lost and is not back yet (not saved): the customer
    /// is told, as news may be waiting.
    #[serde(skip)]
    pub dropped: bool,
}

/// Where the hand-off to a person stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Handoff {
    /// Only the bot so far.
    None,
    /// Showing the customer what would be sent, asking for consent.
    Consent {
        /// Exactly what will be sent.
        packet: HandoffPacket,
        /// How many of the team are online, once the edge has said.
        #[serde(default)]
        agents_online: Option<u32>,
    },
    /// Sending the packet.
    Sending {
        /// The packet being sent.
        packet: HandoffPacket,
        /// The idempotency key of this attempt; a retry reuses it.
        idempotency_key: String,
    },
    /// The edge could not be reached or refused; the customer can retry.
    Failed {
        /// The packet to resend.
        packet: HandoffPacket,
        /// Reused on retry, so nothing is created twice.
        idempotency_key: String,
        /// A short explanation for the customer.
        problem: String,
    },
    /// With the human team: waiting in the queue, or talking with a person.
    Queued(EscalationAccepted),
    /// The conversation with a person is over; asking for a rating.
    Ended {
        /// The conversation it was.
        accepted: EscalationAccepted,
        /// Where the rating stands.
        rating: RatingStage,
    },
}

/// The customer-satisfaction question after a conversation with a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RatingStage {
    /// Asking: 1 to 5 and an optional comment.
    Asking,
    /// Sent; thanking the customer.
    Sent,
}

/// Whether the triage engine is available.
#[derive(Clone, Default)]
pub enum EngineState {
    /// Still downloading the model.
    #[default]
    Loading,
    /// Ready to answer.
    Ready(Rc<Engine>),
    /// The model could not load; the customer can still reach a person.
    Failed,
}

impl PartialEq for EngineState {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (EngineState::Ready(a), EngineState::Ready(b)) => Rc::ptr_eq(a, b),
            (EngineState::Loading, EngineState::Loading)
            | (EngineState::Failed, EngineState::Failed) => true,
            _ => false,
        }
    }
}

/// Everything that can happen to the chat.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Open the panel.
    Open,
    /// Close the panel.
    Close,
    /// Open if closed, close if open (the launcher).
    Toggle,
    /// "End chat": asks the customer to confirm first.
    EndChat,
    /// The customer confirmed (`true`) or took back (`false`) "End chat". With a person
    /// the conversation ends at the edge and its transcript stays for the rating;
    /// otherwise everything is forgotten (and a hand-off whose answer is unknown is
    /// withdrawn).
    ConfirmEnd(bool),
    /// "Start a new chat" after a conversation with a person ended: a new chat with the
    /// bot starts below it, as writing again does.
    NewChat,
    /// The site forgets the customer (`Baton.reset()`, on sign-out on a shared computer):
    /// a conversation with a person ends at the edge (a hand-off whose answer is unknown
    /// is withdrawn), and the transcript and identity go.
    Reset,
    /// Reopen the panel after a reload, without moving keyboard focus.
    Reopen,
    /// The engine finished loading (`Ready`) or could not load (`Failed`).
    EngineLoaded(EngineState),
    /// The customer sent a message.
    CustomerSent {
        /// The raw text as typed; it is redacted before it is stored or shown.
        text: String,
        /// When.
        now_ms: u64,
        /// A fresh random id, used if the message goes to a person.
        client_id: String,
        /// The intent of the suggestion the customer tapped (the text is its title):
        /// the bot answers that entry rather than classifying the title again.
        chosen: Option<String>,
    },
    /// The customer answered "did this help?".
    Feedback {
        /// The message the answer is in.
        message_id: usize,
        /// Yes or no.
        helpful: bool,
        /// When.
        now_ms: u64,
    },
    /// The customer asked for a person (the header button or an offer).
    RequestPerson,
    /// The customer agreed to send the preview.
    ConsentGiven {
        /// A fresh random key for this escalation.
        idempotency_key: String,
    },
    /// The customer declined the preview.
    ConsentDeclined,
    /// The edge said how many of the team are online (while asking for consent).
    Availability(Option<u32>),
    /// Another tab of the same site saved the conversation (`None`: it ended a chat
    /// the bot alone had): this tab shows the same one.
    Synced(Option<Box<SavedChat>>),
    /// Try sending again after a failure (a timer, the browser back online, a new page).
    Retry,
    /// The customer pressed "Try again": as [`Action::Retry`], saying "Connecting you…"
    /// meanwhile.
    TryAgain,
    /// The edge accepted the escalation sent with `idempotency_key`.
    Escalated {
        /// The edge's answer.
        accepted: EscalationAccepted,
        /// The key the request carried.
        idempotency_key: String,
    },
    /// The edge could not be reached or refused.
    EscalationFailed(String),
    /// News from the live channel (or a catch-up read).
    LiveUpdate(ConversationUpdate),
    /// The live channel connected (`true`) or dropped (`false`).
    LiveConnection(bool),
    /// The page is being left, or put away for the Back button: the shell lets go of
    /// the live channel (so the agent sees the customer leave) and connects again if
    /// the page comes back. Not news for the customer: the chat does not say the
    /// connection was lost.
    PageHidden,
    /// The edge stored an outgoing message.
    MessageDelivered {
        /// Its id.
        client_id: String,
    },
    /// Sending a message failed.
    MessageFailed {
        /// Its id.
        client_id: String,
        /// What went wrong, as for [`SendProblem::of`]: the way to the edge was down (it
        /// goes again), or the edge refused it (the conversation has ended, say), which
        /// is final, and the message leaves the outbox.
        problem: String,
    },
    /// The edge answered "the customer ended the conversation" ([`Effect::EndConversation`]).
    EndAnswered {
        /// The conversation.
        conversation_id: String,
        /// The `client_id`s of the messages that went with it.
        sent: Vec<String>,
        /// What came of it.
        outcome: EndOutcome,
    },
    /// The live channel dropped a while ago: connect again and resend the outbox.
    ReconnectLive,
    /// The site told us who the customer is (`Baton.identify`), or that nobody is signed
    /// in any more.
    Identify(Option<CustomerIdentity>),
    /// Try the outbox and the withdrawals again (a timer).
    FlushOutbox,
    /// The edge answered a withdrawal: done with it (`settled`: withdrawn, or refused
    /// for good), or to try again after a pause (the way to the edge was down).
    WithdrawalAnswered {
        /// The withdrawn escalation's key.
        idempotency_key: String,
        /// Whether it is done with.
        settled: bool,
    },
    /// The browser is back online: a failed hand-off, the live channel and the outbox
    /// go again at once.
    BackOnline,
    /// The agent's last "typing" notice is old: stop saying they are typing.
    TypingOver,
    /// The customer typed in the message box (the shell tells the agent, see
    /// [`ChatState::tells_agent_typing`]; nothing changes here).
    CustomerTyping,
    /// The message box reached (`true`) or left (`false`) its length limit: what the
    /// customer types or pastes beyond it is not taken, and they are told.
    InputFull(bool),
    /// The customer picked a rating (1 to 5) in the rating form, before sending it.
    ChooseRating(u8),
    /// The customer rated the conversation.
    Rate {
        /// 1 to 5.
        rating: u8,
        /// Optional comment, as typed (redacted before it is sent).
        comment: String,
    },
}

impl std::fmt::Debug for EngineState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            EngineState::Loading => "Loading",
            EngineState::Ready(_) => "Ready",
            EngineState::Failed => "Failed",
        })
    }
}

/// What the shell must do after an action.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// POST this escalation to the edge.
    SendEscalation(Box<EscalationRequest>),
    /// Keep a live channel open to this conversation, resuming after `after`.
    OpenLive {
        /// The conversation and its token.
        accepted: EscalationAccepted,
        /// The last event already seen.
        after: u64,
    },
    /// Close the live channel.
    CloseLive,
    /// POST a customer message (again: the edge stores each `client_id` once).
    SendMessage {
        /// The conversation and its token.
        accepted: EscalationAccepted,
        /// The message.
        message: Outgoing,
    },
    /// Tell the edge the customer ended the conversation, with the messages still on
    /// their way (see [`ChatState::endings`]).
    EndConversation(Ending),
    /// Withdraw a hand-off whose answer never came (see [`ChatState::withdrawals`]).
    WithdrawEscalation(EscalationWithdrawal),
    /// POST the customer's rating.
    SendRating {
        /// The conversation and its token.
        accepted: EscalationAccepted,
        /// 1 to 5.
        rating: u8,
        /// The redacted comment.
        comment: String,
    },
    /// Count a "did this help?" answer (yes or no only) in the site's analytics.
    SendFeedback(bool),
    /// Ask the edge whether anyone from the team is online.
    CheckAvailability,
    /// Send [`Action::FlushOutbox`] after a pause.
    RetryLater,
    /// Send [`Action::TypingOver`] after a pause, instead of any pause already running.
    TypingOverLater,
    /// Tell the host page (for `Baton.on(event, fn)`).
    Emit(HostEvent),
    /// Move keyboard focus (the control that had it is gone, or a question needs an
    /// answer).
    Focus(FocusTarget),
    /// Send [`Action::Retry`] after a pause that grows with each failure.
    RetryHandoffLater,
}

/// What "End chat?" asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndQuestion {
    /// End the conversation with the team, for good.
    WithPerson,
    /// Forget the chat in this browser.
    Forget,
}

/// Where keyboard focus goes after an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FocusTarget {
    /// The message input.
    Input,
    /// The consent question's "send" button.
    Consent,
    /// The "End chat?" question's confirming button.
    EndQuestion,
    /// The rating form, or its thanks once sent.
    Rating,
}

/// Why sending to the edge failed (a hand-off, a message), as far as the customer needs
/// to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendProblem {
    /// The browser is offline: it goes as soon as the browser is back online.
    Offline,
    /// The network or the edge was down, or the page changed mid-request: it is tried
    /// again by itself.
    Unreachable,
    /// Too many requests from this browser: try again in a minute.
    Busy,
    /// The edge refused, and repeating will not help (a site misconfigured, say).
    Refused,
}

impl SendProblem {
    /// Whether the hand-off goes again by itself: the way to the edge was down.
    pub fn retries(self) -> bool {
        matches!(self, SendProblem::Offline | SendProblem::Unreachable)
    }

    /// Whether a message or a withdrawal is given up: only a refusal is final (they
    /// wait out a slow-down too, unlike the hand-off).
    pub fn is_final(self) -> bool {
        self == SendProblem::Refused
    }

    /// Sorts the shell's problem text (`offline`, `network unreachable`, an edge error
    /// code, or `HTTP <status>`).
    pub fn of(problem: &str) -> SendProblem {
        match problem.strip_prefix("HTTP ") {
            Some("429") => SendProblem::Busy,
            Some(status) if status.starts_with('5') || status == "408" => SendProblem::Unreachable,
            Some(_) => SendProblem::Refused,
            None => match problem {
                "rate_limited" => SendProblem::Busy,
                "offline" => SendProblem::Offline,
                "network unreachable" | "internal" | "interrupted" => SendProblem::Unreachable,
                _ => SendProblem::Refused,
            },
        }
    }
}

/// Events the host page can listen to.
#[derive(Debug, Clone, PartialEq)]
pub enum HostEvent {
    /// The panel opened.
    Open,
    /// The panel closed; focus should return to the launcher.
    Close,
    /// A message was added (author only: never the text).
    Message(Author),
    /// The conversation went to a person; the conversation id.
    Escalated(String),
    /// A person joined; their display name.
    AgentJoined(String),
    /// The conversation with a person was closed.
    Resolved,
    /// How many messages from the team the customer has not seen (they came while the
    /// panel was closed); the launcher shows it. Also sent once when the chat loads.
    Unread(u32),
}

/// The chat: messages, the conversation the engine tracks, and the hand-off.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatState {
    /// Whether the panel is open.
    pub open: bool,
    /// The site id.
    pub site: String,
    /// The customer's language.
    pub language: String,
    /// A random id for this browser, for the edge's rate limits.
    pub visitor_id: String,
    /// The engine, once loaded.
    pub engine: EngineState,
    /// What the panel shows.
    pub messages: Vec<ChatMessage>,
    /// The engine's memory of the conversation.
    pub conversation: ConversationMemory,
    /// Where the hand-off stands.
    pub handoff: Handoff,
    /// The conversation with a person.
    pub live: LiveState,
    /// Who the customer is, if the site said so with `Baton.identify`.
    pub identity: Option<CustomerIdentity>,
    /// The rating picked in the rating form so far, 0 for none (not saved).
    pub rating_choice: u8,
    /// Messages from the team that came while the panel was closed, not seen yet.
    pub unread: u32,
    /// The agent writing a reply right now, as the live channel last said (not saved).
    pub agent_typing: Option<String>,
    /// Whether the message box is at its length limit (not saved).
    pub input_full: bool,
    /// The "End chat?" question being asked, if any (not saved). It lapses when the
    /// conversation changes under it (the agent closes it, the hand-off goes out).
    pub confirming_end: Option<EndQuestion>,
    /// Customer bubbles that never reached the person (the conversation ended first,
    /// or the edge refused them).
    pub undelivered: Vec<Undelivered>,
    /// Hand-offs the customer ended the chat on before the edge's answer came: each is
    /// withdrawn at the edge (again after a failure, on every page) until it says so.
    pub withdrawals: Vec<EscalationWithdrawal>,
    /// Conversations with a person the customer ended that the edge has not heard the
    /// end of yet, each with the messages still to deliver first.
    pub endings: Vec<Ending>,
    /// Questions sent before the model arrived, answered when it does. The raw text
    /// stays in memory; a page change keeps it redacted ([`SavedChat::waiting`]).
    pub waiting_for_engine: Vec<Question>,
    /// Why the hand-off's last attempt failed, while it is tried again (not saved): the
    /// chat keeps saying so, rather than "Connecting you…" and the failure read out
    /// again at every attempt.
    pub handoff_problem: Option<String>,
}

/// A customer's message for the bot, as sent.
#[derive(Debug, Clone, PartialEq)]
pub struct Question {
    /// The raw text; redacted before it is stored or shown.
    pub text: String,
    /// When it was sent.
    pub now_ms: u64,
    /// The intent of the suggestion the customer tapped, if they tapped one.
    pub chosen: Option<String>,
}

/// Wraps the engine's conversation so the state can compare itself cheaply.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ConversationMemory(pub Conversation);

/// What the widget keeps in the browser's storage so a conversation survives reloads
/// and page changes on the same site. Holds only redacted text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedChat {
    /// Format version; a saved chat of another version is ignored.
    pub version: u32,
    /// Whether the panel was open.
    pub open: bool,
    /// The bubbles.
    pub messages: Vec<ChatMessage>,
    /// The engine's memory.
    pub conversation: ConversationMemory,
    /// The hand-off.
    pub handoff: Handoff,
    /// The conversation with a person.
    #[serde(default)]
    pub live: LiveState,
    /// Messages from the team not seen yet.
    #[serde(default)]
    pub unread: u32,
    /// Customer bubbles that never reached the person.
    #[serde(default)]
    pub undelivered: Vec<Undelivered>,
    /// Hand-offs still to withdraw at the edge.
    #[serde(default)]
    pub withdrawals: Vec<EscalationWithdrawal>,
    /// Ends still to tell the edge, with their messages.
    #[serde(default)]
    pub endings: Vec<Ending>,
    /// Questions sent before the model arrived, redacted: the next page answers them.
    #[serde(default)]
    pub waiting: Vec<String>,
}

impl SavedChat {
    /// The current format version.
    pub const VERSION: u32 = 1;
}

impl PartialEq for ConversationMemory {
    fn eq(&self, other: &Self) -> bool {
        self.0.transcript() == other.0.transcript()
    }
}

impl ChatState {
    /// A fresh chat for `site`.
    pub fn new(site: String, language: String, visitor_id: String) -> Self {
        ChatState {
            open: false,
            site,
            language,
            visitor_id,
            engine: EngineState::Loading,
            messages: Vec::new(),
            conversation: ConversationMemory::default(),
            handoff: Handoff::None,
            live: LiveState::default(),
            identity: None,
            rating_choice: 0,
            unread: 0,
            agent_typing: None,
            input_full: false,
            confirming_end: None,
            undelivered: Vec::new(),
            withdrawals: Vec::new(),
            endings: Vec::new(),
            waiting_for_engine: Vec::new(),
            handoff_problem: None,
        }
    }

    /// Whether the agent should hear that the customer is typing: someone has joined the
    /// conversation (nobody reads a queue's typing).
    pub fn tells_agent_typing(&self) -> bool {
        matches!(self.handoff, Handoff::Queued(_)) && self.live.agent_name.is_some()
    }

    /// Whether a person has the conversation (or is about to, a failed hand-off being
    /// tried again included): the bot stays silent, and what the customer writes waits
    /// for the person.
    pub fn with_person(&self) -> bool {
        matches!(self.handoff, Handoff::Queued(_) | Handoff::Sending { .. })
            || self.retries_handoff()
    }

    /// Applies one action and returns what the shell must do.
    pub fn apply(&mut self, action: Action) -> Vec<Effect> {
        match action {
            Action::Open if !self.open => {
                let mut effects = self.opened();
                effects.push(Effect::Focus(FocusTarget::Input));
                effects
            }
            Action::Close if self.open => {
                self.open = false;
                self.confirming_end = None;
                vec![Effect::Emit(HostEvent::Close)]
            }
            Action::Open | Action::Close => Vec::new(),
            Action::Reopen if !self.open => self.opened(),
            Action::Reopen => Vec::new(),
            Action::EndChat => self.ask_to_end(),
            Action::ConfirmEnd(confirmed) => {
                let still_asked = self.end_question_asked().is_some();
                self.confirming_end = None;
                if confirmed && still_asked {
                    self.end_chat()
                } else {
                    vec![Effect::Focus(FocusTarget::Input)]
                }
            }
            Action::NewChat => {
                if matches!(self.handoff, Handoff::Ended { .. }) {
                    self.start_over();
                }
                vec![Effect::Focus(FocusTarget::Input)]
            }
            Action::Reset => {
                // Someone else may use this browser next: nothing of this customer's stays
                // in it, not even what was still on its way to the person. Each end is
                // told once, and not kept (it holds the conversation's token).
                let mut ends: Vec<EscalationAccepted> = std::mem::take(&mut self.endings)
                    .into_iter()
                    .map(|ending| ending.accepted)
                    .collect();
                let mut effects = match &self.handoff {
                    Handoff::Queued(accepted) => {
                        ends.push(accepted.clone());
                        vec![Effect::Emit(HostEvent::Resolved)]
                    }
                    _ => self.withdraw_unanswered_handoff(),
                };
                effects.extend(ends.into_iter().map(|accepted| {
                    Effect::EndConversation(Ending {
                        accepted,
                        outbox: Vec::new(),
                    })
                }));
                if self.unread > 0 {
                    effects.push(Effect::Emit(HostEvent::Unread(0)));
                }
                self.clear();
                self.identity = None;
                effects.push(Effect::CloseLive);
                effects
            }
            Action::Toggle => {
                let next = if self.open {
                    Action::Close
                } else {
                    Action::Open
                };
                self.apply(next)
            }
            // A model that arrives after the chat stopped waiting for it still answers
            // what comes next; nothing replaces a loaded one.
            Action::EngineLoaded(_) if matches!(self.engine, EngineState::Ready(_)) => Vec::new(),
            Action::EngineLoaded(engine) => {
                self.engine = engine;
                self.answer_waiting_questions()
            }
            Action::CustomerSent {
                text,
                now_ms,
                client_id,
                chosen,
            } => self.customer_sent(
                Question {
                    text,
                    now_ms,
                    chosen,
                },
                client_id,
            ),
            Action::Feedback {
                message_id,
                helpful,
                now_ms,
            } => self.feedback(message_id, helpful, now_ms),
            Action::RequestPerson => {
                if matches!(self.handoff, Handoff::Ended { .. }) {
                    self.start_over();
                }
                if matches!(self.handoff, Handoff::None) {
                    let packet = self.packet();
                    self.handoff = Handoff::Consent {
                        packet,
                        agents_online: None,
                    };
                    // The button that was pressed is disabled now; keyboard users land
                    // on the question they must answer.
                    return vec![
                        Effect::Focus(FocusTarget::Consent),
                        Effect::CheckAvailability,
                    ];
                }
                Vec::new()
            }
            Action::Availability(online) => {
                if let Handoff::Consent { agents_online, .. } = &mut self.handoff {
                    *agents_online = online;
                }
                Vec::new()
            }
            Action::ConsentGiven { idempotency_key } => match &self.handoff {
                Handoff::Consent { packet, .. } => {
                    let packet = packet.clone();
                    self.handoff_problem = None;
                    let mut effects = self.send(packet, idempotency_key);
                    effects.push(Effect::Focus(FocusTarget::Input));
                    effects
                }
                _ => Vec::new(),
            },
            // "Not now" on the consent question, or on a hand-off the edge refused.
            Action::ConsentDeclined => {
                if matches!(
                    self.handoff,
                    Handoff::Consent { .. } | Handoff::Failed { .. }
                ) {
                    self.handoff = Handoff::None;
                    self.handoff_problem = None;
                    // Written for a person who is not coming: they say so.
                    self.give_up_on(|_| true, NotDelivered::NoPerson);
                }
                vec![Effect::Focus(FocusTarget::Input)]
            }
            Action::TryAgain => {
                self.handoff_problem = None;
                self.apply(Action::Retry)
            }
            // A hand-off another tab was sending goes again from here (same key, so
            // nothing is created twice) in case that tab went away before the answer.
            Action::Retry => match &self.handoff {
                Handoff::Failed {
                    packet,
                    idempotency_key,
                    ..
                }
                | Handoff::Sending {
                    packet,
                    idempotency_key,
                } => {
                    let (packet, key) = (packet.clone(), idempotency_key.clone());
                    self.send(packet, key)
                }
                _ => Vec::new(),
            },
            Action::Escalated {
                accepted,
                idempotency_key,
            } => {
                // The answer to the hand-off being sent, or to one that looked lost (a
                // page change, another tab's copy).
                let awaited = matches!(&self.handoff,
                    Handoff::Sending { idempotency_key: key, .. }
                    | Handoff::Failed { idempotency_key: key, .. } if *key == idempotency_key);
                if !awaited {
                    // This browser asked, then moved on before the answer came (a reset,
                    // say): nobody would ever answer the customer there, so it ends.
                    let known = matches!(&self.handoff,
                        Handoff::Queued(held) | Handoff::Ended { accepted: held, .. }
                            if held.conversation_id == accepted.conversation_id);
                    return if known {
                        Vec::new()
                    } else {
                        self.end_at_edge(accepted, Vec::new())
                    };
                }
                let id = accepted.conversation_id.clone();
                self.live = LiveState {
                    queue: Some(QueueStatus {
                        position: accepted.queue_position,
                        estimated_wait_seconds: accepted.estimated_wait_seconds,
                        agents_online: accepted.agents_online,
                    }),
                    // Messages typed while the hand-off was on its way go now.
                    outbox: std::mem::take(&mut self.live.outbox),
                    sent_ids: std::mem::take(&mut self.live.sent_ids),
                    ..LiveState::default()
                };
                self.handoff = Handoff::Queued(accepted);
                self.handoff_problem = None;
                let mut effects = vec![Effect::Emit(HostEvent::Escalated(id))];
                effects.extend(self.resume_effects());
                effects
            }
            Action::EscalationFailed(problem) => {
                let Handoff::Sending {
                    packet,
                    idempotency_key,
                } = &self.handoff
                else {
                    return Vec::new();
                };
                let retry = SendProblem::of(&problem).retries();
                self.handoff_problem = Some(problem.clone());
                self.handoff = Handoff::Failed {
                    packet: packet.clone(),
                    idempotency_key: idempotency_key.clone(),
                    problem,
                };
                if retry {
                    vec![Effect::RetryHandoffLater]
                } else {
                    Vec::new()
                }
            }
            Action::LiveUpdate(update) => self.live_update(update),
            Action::LiveConnection(connected) => {
                self.live.connected = connected;
                self.live.dropped = !connected;
                Vec::new()
            }
            Action::PageHidden => {
                self.live.connected = false;
                Vec::new()
            }
            Action::MessageDelivered { client_id } => {
                self.live.outbox.retain(|m| m.client_id != client_id);
                self.ending_message_answered(&client_id, None);
                Vec::new()
            }
            Action::MessageFailed { client_id, problem } => {
                if !SendProblem::of(&problem).is_final() {
                    return vec![Effect::RetryLater];
                }
                let why = NotDelivered::of(&problem);
                self.give_up_on(|m| m.client_id == client_id, why);
                self.ending_message_answered(&client_id, Some(why));
                Vec::new()
            }
            Action::EndAnswered {
                conversation_id,
                sent,
                outcome,
            } => self.end_answered(&conversation_id, &sent, outcome),
            // A hand-off interrupted by a page change goes again (same key) as the
            // next page loads; so do the ends still to tell.
            Action::ReconnectLive if self.retries_handoff() => {
                let mut effects = self.ending_effects();
                effects.extend(self.apply(Action::Retry));
                effects
            }
            Action::ReconnectLive => self.resume_effects(),
            Action::Synced(saved) => self.sync(saved.map(|saved| *saved)),
            Action::Identify(identity) => {
                self.identity = identity;
                Vec::new()
            }
            Action::FlushOutbox => {
                let mut effects = self.withdrawal_effects();
                effects.extend(self.ending_effects());
                effects.extend(self.flush_outbox());
                effects
            }
            Action::WithdrawalAnswered {
                idempotency_key,
                settled,
            } => {
                if settled {
                    self.withdrawals
                        .retain(|w| w.idempotency_key != idempotency_key);
                    Vec::new()
                } else {
                    vec![Effect::RetryLater]
                }
            }
            Action::BackOnline if self.retries_handoff() => self.apply(Action::Retry),
            Action::BackOnline => self.resume_effects(),
            Action::TypingOver => {
                self.agent_typing = None;
                Vec::new()
            }
            Action::CustomerTyping => Vec::new(),
            Action::InputFull(full) => {
                self.input_full = full;
                Vec::new()
            }
            Action::ChooseRating(rating) => {
                let asking = matches!(
                    self.handoff,
                    Handoff::Ended {
                        rating: RatingStage::Asking,
                        ..
                    }
                );
                if asking && (1..=5).contains(&rating) {
                    self.rating_choice = rating;
                }
                Vec::new()
            }
            Action::Rate { rating, comment } => match &self.handoff {
                Handoff::Ended {
                    accepted,
                    rating: RatingStage::Asking,
                } if (1..=5).contains(&rating) => {
                    let accepted = accepted.clone();
                    self.handoff = Handoff::Ended {
                        accepted: accepted.clone(),
                        rating: RatingStage::Sent,
                    };
                    let comment = baton_triage::redact_pii(comment.trim()).text;
                    vec![
                        Effect::SendRating {
                            accepted,
                            rating,
                            comment,
                        },
                        Effect::Focus(FocusTarget::Rating),
                    ]
                }
                _ => Vec::new(),
            },
        }
    }

    /// What the shell must start after the page loads with a saved conversation: the
    /// withdrawals still to send, the live channel, and the messages still waiting in the
    /// outbox.
    pub fn resume_effects(&self) -> Vec<Effect> {
        let mut effects = self.withdrawal_effects();
        effects.extend(self.ending_effects());
        if let Handoff::Queued(accepted) = &self.handoff {
            effects.push(Effect::OpenLive {
                accepted: accepted.clone(),
                after: self.live.last_seq,
            });
            effects.extend(self.flush_outbox());
        }
        effects
    }

    fn withdrawal_effects(&self) -> Vec<Effect> {
        self.withdrawals
            .iter()
            .cloned()
            .map(Effect::WithdrawEscalation)
            .collect()
    }

    /// The ends still to tell the edge, each with its messages.
    fn ending_effects(&self) -> Vec<Effect> {
        self.endings
            .iter()
            .cloned()
            .map(Effect::EndConversation)
            .collect()
    }

    /// Ends a conversation at the edge, with `outbox`, its messages still on their way
    /// (added to those of an end already waiting for it); kept until the edge has heard.
    fn end_at_edge(&mut self, accepted: EscalationAccepted, outbox: Vec<Outgoing>) -> Vec<Effect> {
        let id = &accepted.conversation_id;
        let at = match self
            .endings
            .iter()
            .position(|e| e.accepted.conversation_id == *id)
        {
            Some(at) => at,
            None => {
                self.endings.push(Ending {
                    accepted,
                    outbox: Vec::new(),
                });
                self.endings.len() - 1
            }
        };
        let ending = &mut self.endings[at];
        for message in outbox {
            if !ending
                .outbox
                .iter()
                .any(|m| m.client_id == message.client_id)
            {
                ending.outbox.push(message);
            }
        }
        // What one request can carry (the edge takes 20 messages and 64 KiB); the rest,
        // written offline at length, is said not to have been delivered.
        let mut bytes = 0;
        let fits = ending
            .outbox
            .iter()
            .take_while(|m| {
                bytes += m.text.len() + 64;
                bytes <= END_MAX_BYTES
            })
            .count()
            .min(END_MAX_MESSAGES);
        let over = ending.outbox.split_off(fits);
        let effect = Effect::EndConversation(ending.clone());
        self.mark_undelivered(&over, NotDelivered::Refused);
        vec![effect]
    }

    /// The edge answered an end: done with it (the messages it stored delivered, the
    /// others marked), or to try again.
    /// Only the messages that went with the answered request are settled: one added to
    /// the end since (another tab's) goes with the next.
    fn end_answered(
        &mut self,
        conversation_id: &str,
        sent: &[String],
        outcome: EndOutcome,
    ) -> Vec<Effect> {
        let Some(at) = self
            .endings
            .iter()
            .position(|e| e.accepted.conversation_id == conversation_id)
        else {
            return Vec::new();
        };
        // The end went through (but for these messages), or it did not, and goes again
        // without what it carried. An end refused on its own (the conversation gone) is
        // done with.
        let (lost, why, ended) = match outcome {
            EndOutcome::Retry => return vec![Effect::RetryLater],
            EndOutcome::Ended { undelivered } => (undelivered, NotDelivered::Ended, true),
            EndOutcome::Refused(_) if sent.is_empty() => {
                self.endings.remove(at);
                return Vec::new();
            }
            EndOutcome::Refused(problem) => (sent.to_vec(), NotDelivered::of(&problem), false),
        };
        let (answered, waiting): (Vec<Outgoing>, Vec<Outgoing>) =
            std::mem::take(&mut self.endings[at].outbox)
                .into_iter()
                .partition(|m| sent.contains(&m.client_id));
        let lost: Vec<Outgoing> = answered
            .into_iter()
            .filter(|m| lost.contains(&m.client_id))
            .collect();
        self.mark_undelivered(&lost, why);
        if ended && waiting.is_empty() {
            self.endings.remove(at);
            return Vec::new();
        }
        self.endings[at].outbox = waiting;
        vec![Effect::EndConversation(self.endings[at].clone())]
    }

    /// Marks the bubbles of `messages` as never delivered, and why (those a forgotten chat
    /// showed have no bubble any more).
    fn mark_undelivered(&mut self, messages: &[Outgoing], why: NotDelivered) {
        self.undelivered.extend(
            messages
                .iter()
                .filter(|m| m.message_id != NO_BUBBLE)
                .map(|m| Undelivered {
                    message_id: m.message_id,
                    why,
                }),
        );
    }

    /// A message of an ended conversation, sent before the customer ended it, was
    /// delivered (`lost`: `None`) or refused for good: it need not go with the end.
    fn ending_message_answered(&mut self, client_id: &str, lost: Option<NotDelivered>) {
        for at in 0..self.endings.len() {
            let outbox = &mut self.endings[at].outbox;
            let Some(position) = outbox.iter().position(|m| m.client_id == client_id) else {
                continue;
            };
            let message = outbox.remove(position);
            if let Some(why) = lost {
                self.mark_undelivered(&[message], why);
            }
        }
    }

    /// The chat ends while the hand-off is on its way, or after it failed in a way that
    /// leaves the edge's answer unknown (the request may have arrived, and only the
    /// answer got lost): it is withdrawn, so that no conversation waits in the queue for
    /// a customer who has gone. A refused hand-off created nothing.
    fn withdraw_unanswered_handoff(&mut self) -> Vec<Effect> {
        let idempotency_key = match &self.handoff {
            Handoff::Sending {
                idempotency_key, ..
            } => idempotency_key,
            Handoff::Failed {
                idempotency_key,
                problem,
                ..
            } if SendProblem::of(problem).retries() => idempotency_key,
            _ => return Vec::new(),
        };
        let withdrawal = EscalationWithdrawal {
            site: self.site.clone(),
            visitor_id: self.visitor_id.clone(),
            idempotency_key: idempotency_key.clone(),
        };
        self.withdrawals.push(withdrawal.clone());
        vec![Effect::WithdrawEscalation(withdrawal)]
    }

    /// Takes the conversation another tab saved, so two tabs never show (or save) two
    /// different ones. Only the tab that wrote the conversation sends what it holds; this
    /// one follows the live channel if a person has the conversation.
    fn sync(&mut self, saved: Option<SavedChat>) -> Vec<Effect> {
        let followed = self.queued_conversation().map(str::to_owned);
        let (connected, dropped) = (self.live.connected, self.live.dropped);
        let mut effects = Vec::new();
        match saved {
            Some(saved) => {
                // The other tab's request is still on its way: this one waits for its
                // answer too, and sends it again later if that tab went away first.
                self.take(saved);
                if matches!(self.handoff, Handoff::Sending { .. }) {
                    effects.push(Effect::RetryHandoffLater);
                }
            }
            None => {
                // Nothing saved means nothing left to withdraw or end either.
                self.clear();
                self.withdrawals.clear();
                self.endings.clear();
            }
        }
        if followed.is_some() && followed.as_deref() == self.queued_conversation() {
            // The same live channel stays open here: whether it is up is this tab's.
            self.live.connected = connected;
            self.live.dropped = dropped;
        }
        if self.open {
            // Whatever the other tab had not shown, this one does.
            self.unread = 0;
        }
        let live = match &self.handoff {
            Handoff::Queued(accepted) => Effect::OpenLive {
                accepted: accepted.clone(),
                after: self.live.last_seq,
            },
            _ => Effect::CloseLive,
        };
        effects.extend([live, Effect::Emit(HostEvent::Unread(self.unread))]);
        effects.extend(self.answer_waiting_questions());
        effects
    }

    /// The conversation a person has (or will have) and the live channel follows.
    fn queued_conversation(&self) -> Option<&str> {
        match &self.handoff {
            Handoff::Queued(accepted) => Some(&accepted.conversation_id),
            _ => None,
        }
    }

    fn flush_outbox(&self) -> Vec<Effect> {
        let Handoff::Queued(accepted) = &self.handoff else {
            return Vec::new();
        };
        self.live
            .outbox
            .iter()
            .map(|message| Effect::SendMessage {
                accepted: accepted.clone(),
                message: message.clone(),
            })
            .collect()
    }

    /// "End chat" asks first: with a person it cannot be undone, and otherwise the
    /// conversation is forgotten. Not while the hand-off is on its way (the edge may be
    /// creating the conversation this very moment).
    fn ask_to_end(&mut self) -> Vec<Effect> {
        self.confirming_end = self.end_question();
        match self.confirming_end {
            Some(_) => vec![Effect::Focus(FocusTarget::EndQuestion)],
            None => Vec::new(),
        }
    }

    /// "End chat", confirmed: with a person, the conversation ends at the edge too, its
    /// transcript stays and the customer is asked for a rating; otherwise everything is
    /// forgotten at once.
    fn end_chat(&mut self) -> Vec<Effect> {
        match std::mem::replace(&mut self.handoff, Handoff::None) {
            Handoff::Queued(accepted) => {
                // What is still on its way to the person goes before the end does.
                let outbox = std::mem::take(&mut self.live.outbox);
                let mut effects = self.end_at_edge(accepted.clone(), outbox);
                self.live.agent_name = None;
                self.agent_typing = None;
                self.push(Author::System, MessageBody::Note(Note::CustomerEnded));
                self.rating_choice = 0;
                self.handoff = Handoff::Ended {
                    accepted,
                    rating: RatingStage::Asking,
                };
                effects.extend([
                    Effect::CloseLive,
                    Effect::Emit(HostEvent::Resolved),
                    Effect::Focus(FocusTarget::Rating),
                ]);
                effects
            }
            handoff => {
                self.handoff = handoff;
                let mut effects = self.withdraw_unanswered_handoff();
                self.clear();
                effects.extend([Effect::CloseLive, Effect::Focus(FocusTarget::Input)]);
                effects
            }
        }
    }

    /// The customer writes again (or asks for a person) after a conversation with a
    /// person ended: what was said stays above a divider, and a new chat with the bot
    /// starts below it.
    fn start_over(&mut self) {
        self.push(Author::System, MessageBody::Note(Note::NewChat));
        self.conversation = ConversationMemory::default();
        self.handoff = Handoff::None;
        self.live = LiveState::default();
        self.rating_choice = 0;
        self.agent_typing = None;
    }

    /// Takes the outbox's messages that match out of it for good, marking their bubbles
    /// as never delivered, and why.
    fn give_up_on(&mut self, lost: impl Fn(&Outgoing) -> bool, why: NotDelivered) {
        let (gone, kept): (Vec<Outgoing>, _) = std::mem::take(&mut self.live.outbox)
            .into_iter()
            .partition(|m| lost(m));
        self.live.outbox = kept;
        self.mark_undelivered(&gone, why);
    }

    /// Whether the hand-off failed in a way that trying again at once may fix.
    fn retries_handoff(&self) -> bool {
        matches!(&self.handoff, Handoff::Failed { problem, .. }
            if SendProblem::of(problem).retries())
    }

    /// The "End chat?" question that fits the conversation now: none while the hand-off
    /// is on its way (the edge may be creating the conversation at this moment).
    fn end_question(&self) -> Option<EndQuestion> {
        match self.handoff {
            Handoff::Queued(_) => Some(EndQuestion::WithPerson),
            Handoff::Sending { .. } => None,
            Handoff::None if self.messages.is_empty() => None,
            _ => Some(EndQuestion::Forget),
        }
    }

    /// The "End chat?" question being asked, if it still fits the conversation.
    pub fn end_question_asked(&self) -> Option<EndQuestion> {
        self.confirming_end
            .filter(|&asked| Some(asked) == self.end_question())
    }

    /// Why a customer bubble never reached the person, if it did not.
    pub fn not_delivered(&self, message_id: usize) -> Option<NotDelivered> {
        self.undelivered
            .iter()
            .find(|u| u.message_id == message_id)
            .map(|u| u.why)
    }

    /// Whether a customer bubble never reached the person.
    pub fn is_undelivered(&self, message_id: usize) -> bool {
        self.not_delivered(message_id).is_some()
    }

    /// Applies what the live channel reported, each event once, in order.
    fn live_update(&mut self, update: ConversationUpdate) -> Vec<Effect> {
        let Handoff::Queued(accepted) = &self.handoff else {
            return Vec::new();
        };
        let accepted = accepted.clone();
        let mut effects = Vec::new();
        let unread = self.unread;
        self.live.queue = update.queue;
        for event in update.events {
            if event.seq <= self.live.last_seq {
                continue;
            }
            self.live.last_seq = event.seq;
            match event.event {
                EventBody::Message {
                    author: Author::Customer,
                    text,
                    client_id,
                    ..
                } => {
                    self.live.outbox.retain(|m| m.client_id != client_id);
                    if !self.live.sent_ids.contains(&client_id) {
                        // Sent from another tab of the same site.
                        self.push(Author::Customer, MessageBody::Text(text));
                    }
                }
                EventBody::Message {
                    text, agent_name, ..
                } => {
                    let name = agent_name
                        .or_else(|| self.live.agent_name.clone())
                        .unwrap_or_default();
                    let body = RichText::parse(&text);
                    self.push(Author::Agent, MessageBody::Agent { name, body });
                    self.agent_typing = None;
                    self.note_unseen();
                    effects.push(Effect::Emit(HostEvent::Message(Author::Agent)));
                }
                EventBody::AgentJoined { agent_name } => {
                    self.live.agent_name = Some(agent_name.clone());
                    // "Sam passed you to Noor" already said who joins.
                    let passed_on = matches!(
                        self.messages.last().map(|m| &m.body),
                        Some(MessageBody::Note(Note::PassedOn { to, .. })) if *to == agent_name
                    );
                    if !passed_on {
                        self.push(
                            Author::System,
                            MessageBody::Note(Note::AgentJoined(agent_name.clone())),
                        );
                    }
                    self.note_unseen();
                    effects.push(Effect::Emit(HostEvent::AgentJoined(agent_name)));
                }
                EventBody::AgentLeft {
                    agent_name,
                    transferred_to,
                } => {
                    self.live.agent_name = None;
                    self.agent_typing = None;
                    let note = match transferred_to {
                        Some(to) => Note::PassedOn {
                            from: agent_name,
                            to,
                        },
                        None => Note::AgentLeft(agent_name),
                    };
                    self.push(Author::System, MessageBody::Note(note));
                }
                EventBody::Resolved { resolution, .. } => {
                    self.agent_typing = None;
                    self.push(
                        Author::System,
                        MessageBody::Note(Note::Resolved(resolution)),
                    );
                    self.handoff = Handoff::Ended {
                        accepted: accepted.clone(),
                        rating: RatingStage::Asking,
                    };
                    self.rating_choice = 0;
                    self.give_up_on(|_| true, NotDelivered::Ended);
                    effects.push(Effect::CloseLive);
                    effects.push(Effect::Emit(HostEvent::Resolved));
                    break;
                }
            }
        }
        if let Some(name) = update.typing.filter(|_| self.with_person()) {
            self.agent_typing = Some(name);
            effects.push(Effect::TypingOverLater);
        }
        if self.unread != unread {
            effects.push(Effect::Emit(HostEvent::Unread(self.unread)));
        }
        effects
    }

    /// Counts news from the team the customer cannot see: the panel is closed.
    fn note_unseen(&mut self) {
        if !self.open {
            self.unread = self.unread.saturating_add(1);
        }
    }

    /// The panel opens: the host hears it, and everything in it has been seen.
    fn opened(&mut self) -> Vec<Effect> {
        self.open = true;
        let mut effects = vec![Effect::Emit(HostEvent::Open)];
        if self.unread > 0 {
            self.unread = 0;
            effects.push(Effect::Emit(HostEvent::Unread(0)));
        }
        effects
    }

    /// A message for the person: shown at once, kept in the outbox until the edge
    /// confirms it.
    fn send_to_person(&mut self, text: &str, client_id: String) -> Vec<Effect> {
        let redacted = baton_triage::redact_pii(text).text;
        let message_id = self.messages.len();
        self.push(Author::Customer, MessageBody::Text(redacted.clone()));
        let message = Outgoing {
            client_id,
            text: redacted,
            message_id,
        };
        self.live.sent_ids.push(message.client_id.clone());
        self.live.outbox.push(message.clone());
        let mut effects = vec![Effect::Emit(HostEvent::Message(Author::Customer))];
        if let Handoff::Queued(accepted) = &self.handoff {
            effects.push(Effect::SendMessage {
                accepted: accepted.clone(),
                message,
            });
        }
        effects
    }

    /// Whether a customer bubble is still waiting in an outbox (the conversation's, or
    /// one the customer ended with it on its way).
    pub fn is_pending(&self, message_id: usize) -> bool {
        self.live
            .outbox
            .iter()
            .chain(self.endings.iter().flat_map(|e| &e.outbox))
            .any(|m| m.message_id == message_id)
    }

    fn customer_sent(&mut self, mut question: Question, client_id: String) -> Vec<Effect> {
        question.text = question.text.trim().to_owned();
        if question.text.is_empty() {
            return Vec::new();
        }
        // Sent: the box is empty again.
        self.input_full = false;
        if self.with_person() {
            return self.send_to_person(&question.text, client_id);
        }
        if matches!(self.handoff, Handoff::Ended { .. }) {
            self.start_over();
        }
        let tapped = question.chosen.is_some();
        // While the consent question is open the customer is telling the person what
        // they need: it joins the preview, and the bot does not offer a person again.
        let consenting = self.consenting();
        let mut effects = self.answer(question, consenting);
        if consenting {
            self.refresh_consent_preview();
        }
        if tapped {
            // The tapped chip is gone (or no longer current): keyboard users go on
            // typing where they would.
            effects.push(Effect::Focus(FocusTarget::Input));
        }
        effects
    }

    /// Whether the consent question is open.
    fn consenting(&self) -> bool {
        matches!(self.handoff, Handoff::Consent { .. })
    }

    /// The consent question's preview, again with everything the customer wrote.
    fn refresh_consent_preview(&mut self) {
        let fresh = self.packet();
        if let Handoff::Consent { packet, .. } = &mut self.handoff {
            *packet = fresh;
        }
    }

    /// The bot's turn: the customer's redacted bubble, then an answer, small talk, "I
    /// don't know", or an offer of a person (`quiet_offers`: none of the last two).
    /// Before the model has arrived the question waits for it.
    fn answer(&mut self, question: Question, quiet_offers: bool) -> Vec<Effect> {
        let mut effects = vec![Effect::Emit(HostEvent::Message(Author::Customer))];
        let EngineState::Ready(engine) = &self.engine else {
            // Nothing leaves the browser unredacted: the bubble shows the redacted text.
            let redacted = baton_triage::redact_pii(&question.text).text;
            self.push(Author::Customer, MessageBody::Text(redacted));
            if matches!(self.engine, EngineState::Loading) {
                self.waiting_for_engine.push(question);
            } else {
                effects.extend(self.offer_person_without_engine(quiet_offers));
            }
            return effects;
        };
        let engine = Rc::clone(engine);
        let turn = self.respond(&engine, &question);
        self.push(
            Author::Customer,
            MessageBody::Text(turn.redacted.text.clone()),
        );
        effects.extend(self.reply(&engine, turn, quiet_offers));
        effects
    }

    /// Without a model the bot cannot answer: it offers a person (unless `quiet`).
    fn offer_person_without_engine(&mut self, quiet: bool) -> Vec<Effect> {
        if quiet {
            return Vec::new();
        }
        self.push(
            Author::Bot,
            MessageBody::OfferPerson {
                reasons: vec![EscalationReason::OutOfScope],
                only_answers_in: None,
            },
        );
        vec![Effect::Emit(HostEvent::Message(Author::Bot))]
    }

    /// The engine's turn for `question`, recorded in the conversation.
    fn respond(&mut self, engine: &Engine, question: &Question) -> Turn {
        let conversation = &mut self.conversation.0;
        let chosen = question.chosen.as_deref();
        match chosen
            .and_then(|intent| engine.respond_to_choice(conversation, intent, question.now_ms))
        {
            Some(turn) => turn,
            None => engine.respond(conversation, &question.text, question.now_ms),
        }
    }

    /// The model has arrived (or failed to): the questions sent while it loaded are
    /// answered in order, below their bubbles. Not once a person has the conversation:
    /// the bot stays silent then.
    fn answer_waiting_questions(&mut self) -> Vec<Effect> {
        let waiting = std::mem::take(&mut self.waiting_for_engine);
        if waiting.is_empty() || self.with_person() {
            return Vec::new();
        }
        let consenting = self.consenting();
        let mut effects = Vec::new();
        match &self.engine {
            EngineState::Ready(engine) => {
                let engine = Rc::clone(engine);
                for question in &waiting {
                    let turn = self.respond(&engine, question);
                    effects.extend(self.reply(&engine, turn, consenting));
                }
                if consenting {
                    self.refresh_consent_preview();
                }
            }
            EngineState::Failed => effects = self.offer_person_without_engine(consenting),
            EngineState::Loading => self.waiting_for_engine = waiting,
        }
        effects
    }

    /// The bot's reply to a turn whose customer bubble is shown.
    fn reply(&mut self, engine: &Engine, turn: Turn, quiet_offers: bool) -> Vec<Effect> {
        let mut effects = Vec::new();
        if let Some(answer) = turn.answer {
            let body = RichText::parse(&answer.body);
            let alternatives = turn
                .alternatives
                .iter()
                .filter_map(|guess| engine.kb_entry(&guess.intent))
                .map(|entry| Alternative {
                    intent: entry.id.clone(),
                    title: entry.title.clone(),
                })
                .collect();
            // The engine has already put the answer into its transcript.
            self.push(
                Author::Bot,
                MessageBody::Answer {
                    intent: answer.intent,
                    body,
                    links: answer.links,
                    helpful: None,
                    alternatives,
                },
            );
        } else if let Some(kind) = turn.small_talk {
            self.push(Author::Bot, MessageBody::SmallTalk(kind));
        } else if turn.escalation.is_none() && !quiet_offers {
            self.push(Author::Bot, MessageBody::DontKnow);
        }
        if let Some(escalation) = turn.escalation.filter(|_| !quiet_offers) {
            self.push(
                Author::Bot,
                MessageBody::OfferPerson {
                    reasons: escalation.reasons,
                    only_answers_in: turn.in_other_language.then(|| engine.language().to_owned()),
                },
            );
        }
        if self
            .messages
            .last()
            .is_some_and(|m| m.author == Author::Bot)
        {
            effects.push(Effect::Emit(HostEvent::Message(Author::Bot)));
        }
        effects
    }

    fn feedback(&mut self, message_id: usize, helpful: bool, now_ms: u64) -> Vec<Effect> {
        let Some(ChatMessage {
            body:
                MessageBody::Answer {
                    intent,
                    helpful: slot @ None,
                    ..
                },
            ..
        }) = self.messages.get_mut(message_id)
        else {
            return Vec::new();
        };
        *slot = Some(helpful);
        let intent = intent.clone();
        self.conversation
            .0
            .record_feedback(&intent, helpful, now_ms);
        let mut effects = vec![Effect::SendFeedback(helpful)];
        if helpful {
            // The question's buttons are gone; keyboard users go on in the input.
            effects.push(Effect::Focus(FocusTarget::Input));
        } else {
            // "No, talk to a person" goes straight to the consent preview.
            effects.extend(self.apply(Action::RequestPerson));
        }
        effects
    }

    fn send(&mut self, packet: HandoffPacket, idempotency_key: String) -> Vec<Effect> {
        let request = EscalationRequest {
            site: self.site.clone(),
            visitor_id: self.visitor_id.clone(),
            idempotency_key: idempotency_key.clone(),
            packet: packet.clone(),
            identity: self.identity.clone(),
        };
        self.handoff = Handoff::Sending {
            packet,
            idempotency_key,
        };
        vec![Effect::SendEscalation(Box::new(request))]
    }

    fn packet(&self) -> HandoffPacket {
        match &self.engine {
            EngineState::Ready(engine) => {
                self.conversation.0.handoff_packet(engine, &self.language)
            }
            _ => HandoffPacket {
                transcript: self.messages[self.current_chat_start()..]
                    .iter()
                    .filter_map(|m| match &m.body {
                        MessageBody::Text(text) if m.author == Author::Customer => {
                            Some(baton_protocol::TranscriptEntry {
                                author: Author::Customer,
                                text: text.clone(),
                                at_ms: 0,
                            })
                        }
                        _ => None,
                    })
                    .collect(),
                language: self.language.clone(),
                ..HandoffPacket::default()
            },
        }
    }

    /// Where the current chat starts in [`ChatState::messages`]: after the last
    /// "new conversation" divider.
    fn current_chat_start(&self) -> usize {
        self.messages
            .iter()
            .rposition(|m| m.body == MessageBody::Note(Note::NewChat))
            .map_or(0, |divider| divider + 1)
    }

    /// A snapshot for the browser's storage.
    pub fn save(&self) -> SavedChat {
        SavedChat {
            version: SavedChat::VERSION,
            open: self.open,
            messages: self.messages.clone(),
            conversation: self.conversation.clone(),
            handoff: self.handoff.clone(),
            live: self.live.clone(),
            unread: self.unread,
            undelivered: self.undelivered.clone(),
            withdrawals: self.withdrawals.clone(),
            endings: self.endings.clone(),
            waiting: self
                .waiting_for_engine
                .iter()
                .map(|question| baton_triage::redact_pii(&question.text).text)
                .collect(),
        }
    }

    /// Restores a snapshot. An escalation that was being sent when the page went away
    /// comes back as failed, so the customer can retry it with the same idempotency key
    /// (the edge then creates nothing twice).
    pub fn restore(&mut self, saved: SavedChat) {
        self.take(saved);
        self.handoff = match std::mem::replace(&mut self.handoff, Handoff::None) {
            Handoff::Sending {
                packet,
                idempotency_key,
            } => Handoff::Failed {
                packet,
                idempotency_key,
                problem: "interrupted".to_owned(),
            },
            other => other,
        };
    }

    /// Takes a snapshot as it is (a saved chat of another version is ignored).
    fn take(&mut self, saved: SavedChat) {
        if saved.version != SavedChat::VERSION {
            return;
        }
        // The panel reopens through `Action::Reopen`, so the host page hears about it.
        // A failure this tab saw is not the hand-off it takes now.
        self.handoff_problem = None;
        self.messages = saved.messages;
        self.conversation = saved.conversation;
        self.live = saved.live;
        self.unread = saved.unread;
        self.undelivered = saved.undelivered;
        self.withdrawals = saved.withdrawals;
        self.endings = saved.endings;
        self.handoff = saved.handoff;
        self.waiting_for_engine = saved
            .waiting
            .into_iter()
            .map(|text| Question {
                text,
                now_ms: 0,
                chosen: None,
            })
            .collect();
    }

    /// Forgets the conversation ("End chat").
    pub fn clear(&mut self) {
        self.messages.clear();
        self.conversation = ConversationMemory::default();
        self.handoff = Handoff::None;
        self.live = LiveState::default();
        self.unread = 0;
        self.rating_choice = 0;
        self.agent_typing = None;
        self.confirming_end = None;
        self.undelivered.clear();
        self.waiting_for_engine.clear();
        self.handoff_problem = None;
        // Messages of an ended conversation still go, but no bubble shows them now (and
        // the next chat's bubbles reuse their numbers).
        for message in self.endings.iter_mut().flat_map(|e| &mut e.outbox) {
            message.message_id = NO_BUBBLE;
        }
    }

    fn push(&mut self, author: Author, body: MessageBody) {
        let id = self.messages.len();
        self.messages.push(ChatMessage { id, author, body });
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    const DEMO_MODEL: &[u8] = include_bytes!("../../crates/triage/data/demo/model.bin");

    fn ready_chat() -> ChatState {
        let mut chat = ChatState::new("demo".into(), "en".into(), "visitor".into());
        let engine = Rc::new(Engine::from_bytes(DEMO_MODEL).unwrap());
        chat.apply(Action::EngineLoaded(EngineState::Ready(engine)));
        chat.apply(Action::Open);
        chat
    }

    fn sent(chat: &mut ChatState, text: &str) -> Vec<Effect> {
        chat.apply(Action::CustomerSent {
            text: text.into(),
            now_ms: 1_000,
            client_id: format!("m{}", chat.messages.len()),
            chosen: None,
        })
    }

    #[test]
    fn a_routine_question_gets_a_knowledge_base_answer() {
        let mut chat = ready_chat();
        sent(&mut chat, "When will my new card arrive?");
        let answer = chat.messages.iter().find_map(|m| match &m.body {
            MessageBody::Answer { intent, .. } => Some(intent.clone()),
            _ => None,
        });
        assert_eq!(answer.as_deref(), Some("card_arrival"));
    }

    fn loading_chat() -> ChatState {
        let mut chat = ChatState::new("demo".into(), "en".into(), "visitor".into());
        chat.apply(Action::Open);
        chat
    }

    fn model_arrives(chat: &mut ChatState) -> Vec<Effect> {
        let engine = Rc::new(Engine::from_bytes(DEMO_MODEL).unwrap());
        chat.apply(Action::EngineLoaded(EngineState::Ready(engine)))
    }

    fn bodies(chat: &ChatState) -> Vec<&MessageBody> {
        chat.messages.iter().map(|m| &m.body).collect()
    }

    #[test]
    fn a_question_sent_while_the_model_loads_is_answered_when_it_arrives() {
        let mut chat = loading_chat();
        sent(
            &mut chat,
            "When will my new card arrive? My email is ann@example.com",
        );
        sent(&mut chat, "I want to return my order");
        // Two bubbles, redacted at once, and no verdict on either yet.
        assert_eq!(chat.messages.len(), 2);
        assert!(chat.messages.iter().all(|m| m.author == Author::Customer));
        assert!(matches!(&chat.messages[0].body, MessageBody::Text(t) if !t.contains("ann@")));

        let effects = model_arrives(&mut chat);
        let answered: Vec<_> = bodies(&chat)
            .into_iter()
            .filter_map(|body| match body {
                MessageBody::Answer { intent, .. } => Some(intent.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(answered, ["card_arrival", "return_item"]);
        assert_eq!(chat.messages.len(), 4, "{:?}", bodies(&chat));
        assert!(effects.contains(&Effect::Emit(HostEvent::Message(Author::Bot))));
        assert!(
            !effects.contains(&Effect::Emit(HostEvent::Message(Author::Customer))),
            "the customer's messages were announced when sent"
        );
        // The engine remembers both, for a hand-off later.
        let customer_lines = chat.conversation.0.transcript().iter();
        assert_eq!(
            customer_lines
                .filter(|e| e.author == Author::Customer)
                .count(),
            2
        );
        assert!(model_arrives(&mut chat).is_empty(), "answered once");
    }

    #[test]
    fn a_model_that_fails_to_load_offers_a_person_for_the_waiting_questions() {
        let mut chat = loading_chat();
        sent(&mut chat, "When will my new card arrive?");
        sent(&mut chat, "Hello?");
        let effects = chat.apply(Action::EngineLoaded(EngineState::Failed));
        assert_eq!(effects, [Effect::Emit(HostEvent::Message(Author::Bot))]);
        let offers = bodies(&chat)
            .into_iter()
            .filter(|body| matches!(body, MessageBody::OfferPerson { .. }))
            .count();
        assert_eq!(offers, 1, "{:?}", bodies(&chat));
    }

    #[test]
    fn the_bot_stays_silent_if_a_person_took_the_waiting_questions() {
        let mut chat = loading_chat();
        sent(&mut chat, "When will my new card arrive?");
        chat.apply(Action::RequestPerson);
        chat.apply(Action::ConsentGiven {
            idempotency_key: "k1".into(),
        });
        assert!(chat.with_person());
        let before = chat.messages.clone();
        assert!(model_arrives(&mut chat).is_empty());
        assert_eq!(chat.messages, before);
    }

    #[test]
    fn a_waiting_question_joins_the_consent_preview_without_a_second_offer() {
        let mut chat = loading_chat();
        sent(&mut chat, "My card was stolen");
        chat.apply(Action::RequestPerson);
        model_arrives(&mut chat);
        assert!(
            !bodies(&chat)
                .iter()
                .any(|body| matches!(body, MessageBody::OfferPerson { .. })),
            "the consent question is open: no second offer"
        );
        let Handoff::Consent { packet, .. } = &chat.handoff else {
            panic!("still asking for consent: {:?}", chat.handoff)
        };
        assert!(packet.transcript.iter().any(|e| e.text.contains("stolen")));
        assert!(
            packet.intent.is_some(),
            "the preview is the engine's now, with the intent"
        );
    }

    #[test]
    fn a_tapped_suggestion_answers_its_own_question() {
        let mut chat = ready_chat();
        let EngineState::Ready(engine) = &chat.engine else {
            panic!("engine ready")
        };
        let suggestions = engine.suggestions(4);
        let (intent, title) = suggestions.first().expect("a suggestion").clone();
        let effects = chat.apply(Action::CustomerSent {
            text: title.clone(),
            now_ms: 1_000,
            client_id: "m0".into(),
            chosen: Some(intent.clone()),
        });
        assert!(
            effects.contains(&Effect::Focus(FocusTarget::Input)),
            "the chip is gone: focus goes on to the input"
        );
        assert_eq!(chat.messages[0].body, MessageBody::Text(title));
        assert!(
            matches!(&chat.messages[1].body, MessageBody::Answer { intent: answered, .. } if *answered == intent)
        );
    }

    #[test]
    fn an_unsure_answer_offers_alternatives_that_answer_themselves() {
        let mut chat = ready_chat();
        sent(&mut chat, "my card");
        let MessageBody::Answer {
            intent,
            alternatives,
            ..
        } = &chat.messages[1].body
        else {
            panic!("an answer: {:?}", chat.messages[1].body)
        };
        let first = alternatives
            .first()
            .expect("alternatives beside an unsure answer")
            .clone();
        assert!(alternatives.iter().all(|a| a.intent != *intent));
        chat.apply(Action::CustomerSent {
            text: first.title.clone(),
            now_ms: 2_000,
            client_id: "m2".into(),
            chosen: Some(first.intent.clone()),
        });
        assert!(
            matches!(&chat.messages[3].body, MessageBody::Answer { intent, .. } if *intent == first.intent)
        );
        // A saved chat from before alternatives existed still loads.
        let mut saved = serde_json::to_value(chat.save()).unwrap();
        saved["messages"][1]["body"]["Answer"]
            .as_object_mut()
            .unwrap()
            .remove("alternatives");
        let mut reloaded = ChatState::new("demo".into(), "en".into(), "visitor".into());
        reloaded.restore(serde_json::from_value(saved).unwrap());
        assert!(
            matches!(&reloaded.messages[1].body, MessageBody::Answer { alternatives, .. } if alternatives.is_empty())
        );
    }

    #[test]
    fn thanks_gets_a_reply_not_an_offer_of_a_person() {
        let mut chat = ready_chat();
        sent(&mut chat, "When will my new card arrive?");
        sent(&mut chat, "thanks, that helped!");
        let last = &chat.messages[chat.messages.len() - 1];
        assert_eq!(last.author, Author::Bot);
        assert_eq!(last.body, MessageBody::SmallTalk(SmallTalk::Thanks));
        assert!(!chat.messages.iter().any(|m| matches!(
            m.body,
            MessageBody::OfferPerson { .. } | MessageBody::DontKnow
        )));
        // It survives a reload like every other bubble.
        let mut reloaded = ChatState::new("demo".into(), "en".into(), "visitor".into());
        reloaded
            .restore(serde_json::from_str(&serde_json::to_string(&chat.save()).unwrap()).unwrap());
        assert_eq!(reloaded.messages, chat.messages);
    }

    /// "Quand vais-je recevoir ma carte ?" got the English answer to how to pay.
    #[test]
    fn a_question_in_another_language_gets_a_person_and_the_reason() {
        let mut chat = ready_chat();
        sent(&mut chat, "Quand vais-je recevoir ma carte ?");
        assert!(!chat
            .messages
            .iter()
            .any(|m| matches!(m.body, MessageBody::Answer { .. })));
        assert!(chat.messages.iter().any(|m| matches!(
            &m.body,
            MessageBody::OfferPerson { reasons, only_answers_in: Some(language) }
                if *reasons == [EscalationReason::OutOfScope] && language == "en"
        )));
        assert_eq!(
            crate::i18n::FR.only_answers_in("en"),
            "Je ne sais répondre seul qu'en anglais, et je préfère ne pas deviner."
        );
        // The agent is told the customer writes French, though the chat is in English.
        chat.apply(Action::RequestPerson);
        let Handoff::Consent { packet, .. } = &chat.handoff else {
            panic!("consent expected")
        };
        assert_eq!(packet.language, "fr");
    }

    #[test]
    fn customer_text_is_shown_and_sent_redacted() {
        let mut chat = ready_chat();
        sent(&mut chat, "my card 4242 4242 4242 4242 was charged twice");
        let MessageBody::Text(shown) = &chat.messages[0].body else {
            panic!("customer bubble first")
        };
        assert!(!shown.contains("4242 4242 4242 4242"), "{shown}");
        chat.apply(Action::RequestPerson);
        let Handoff::Consent { packet, .. } = &chat.handoff else {
            panic!("consent expected")
        };
        assert!(packet
            .transcript
            .iter()
            .all(|e| !e.text.contains("4242 4242 4242 4242")));
    }

    #[test]
    fn a_person_needs_consent_and_a_retry_reuses_the_idempotency_key() {
        let mut chat = ready_chat();
        sent(&mut chat, "I want to talk to a real person");
        assert!(chat.messages.iter().any(|m| matches!(&m.body, MessageBody::OfferPerson { reasons, .. } if reasons.contains(&EscalationReason::ExplicitRequest))));
        assert_eq!(
            chat.apply(Action::RequestPerson),
            vec![Effect::Focus(FocusTarget::Consent), Effect::CheckAvailability],
            "nothing of the conversation is sent before consent (asking who is online sends only the site)"
        );
        chat.apply(Action::Availability(Some(0)));
        assert!(
            matches!(
                chat.handoff,
                Handoff::Consent {
                    agents_online: Some(0),
                    ..
                }
            ),
            "the consent question knows nobody is online"
        );
        let effects = chat.apply(Action::ConsentGiven {
            idempotency_key: "k1".into(),
        });
        let [Effect::SendEscalation(first), Effect::Focus(FocusTarget::Input)] = effects.as_slice()
        else {
            panic!("one send expected: {effects:?}")
        };
        assert_eq!(first.idempotency_key, "k1");
        chat.apply(Action::EscalationFailed("network unreachable".into()));
        assert!(matches!(chat.handoff, Handoff::Failed { .. }));
        let effects = chat.apply(Action::Retry);
        let [Effect::SendEscalation(second)] = effects.as_slice() else {
            panic!("retry sends again")
        };
        assert_eq!(second.idempotency_key, "k1");
        assert_eq!(second.packet, first.packet);
    }

    #[test]
    fn the_bot_is_silent_once_a_person_has_the_conversation() {
        let mut chat = ready_chat();
        chat.apply(Action::RequestPerson);
        chat.apply(Action::ConsentGiven {
            idempotency_key: "k".into(),
        });
        chat.apply(Action::Escalated {
            accepted: EscalationAccepted {
                conversation_id: "c".into(),
                customer_token: "t".into(),
                queue_position: 1,
                estimated_wait_seconds: 60,
                agents_online: Some(1),
            },
            idempotency_key: "k".into(),
        });
        let before = chat.messages.len();
        sent(&mut chat, "When will my card arrive?");
        assert_eq!(
            chat.messages.len(),
            before + 1,
            "only the customer's own message is added"
        );
    }

    #[test]
    fn saying_an_answer_did_not_help_offers_the_consent_preview() {
        let mut chat = ready_chat();
        sent(&mut chat, "When will my new card arrive?");
        let answer_id = chat
            .messages
            .iter()
            .position(|m| matches!(m.body, MessageBody::Answer { .. }))
            .unwrap();
        chat.apply(Action::Feedback {
            message_id: answer_id,
            helpful: false,
            now_ms: 2_000,
        });
        assert!(matches!(chat.handoff, Handoff::Consent { .. }));
    }

    #[test]
    fn a_saved_chat_restores_and_an_interrupted_send_can_be_retried_with_the_same_key() {
        let mut chat = ready_chat();
        sent(&mut chat, "I want to talk to a real person");
        chat.apply(Action::RequestPerson);
        chat.apply(Action::ConsentGiven {
            idempotency_key: "k7".into(),
        });
        let saved: SavedChat =
            serde_json::from_str(&serde_json::to_string(&chat.save()).unwrap()).unwrap();

        let mut reloaded = ready_chat();
        reloaded.restore(saved);
        assert_eq!(reloaded.messages, chat.messages);
        assert!(
            matches!(&reloaded.handoff, Handoff::Failed { idempotency_key, .. } if idempotency_key == "k7")
        );
        // The next page sends it again by itself, with the same key.
        let effects = reloaded.apply(Action::ReconnectLive);
        let [Effect::SendEscalation(request)] = effects.as_slice() else {
            panic!("the next page sends: {effects:?}")
        };
        assert_eq!(request.idempotency_key, "k7");
    }

    #[test]
    fn a_failed_hand_off_says_why_and_is_tried_again_unless_refused() {
        for (problem, kind) in [
            ("offline", SendProblem::Offline),
            ("network unreachable", SendProblem::Unreachable),
            ("HTTP 503", SendProblem::Unreachable),
            ("internal", SendProblem::Unreachable),
            ("rate_limited", SendProblem::Busy),
            ("HTTP 429", SendProblem::Busy),
            ("origin_not_allowed", SendProblem::Refused),
            ("HTTP 404", SendProblem::Refused),
        ] {
            assert_eq!(SendProblem::of(problem), kind, "{problem}");
        }
        let mut chat = ready_chat();
        sent(&mut chat, "I want to talk to a real person");
        chat.apply(Action::RequestPerson);
        chat.apply(Action::ConsentGiven {
            idempotency_key: "k1".into(),
        });
        let effects = chat.apply(Action::EscalationFailed("network unreachable".into()));
        assert_eq!(effects, vec![Effect::RetryHandoffLater]);
        // Back online: at once, with the same key.
        let effects = chat.apply(Action::BackOnline);
        let [Effect::SendEscalation(request)] = effects.as_slice() else {
            panic!("back online sends: {effects:?}")
        };
        assert_eq!(request.idempotency_key, "k1");
        // Meanwhile the chat still says why the last attempt failed (not "Connecting
        // you…", then the failure again); pressing "Try again" says "Connecting you…".
        assert!(matches!(chat.handoff, Handoff::Sending { .. }));
        assert_eq!(chat.handoff_problem.as_deref(), Some("network unreachable"));
        chat.apply(Action::EscalationFailed("network unreachable".into()));
        let effects = chat.apply(Action::TryAgain);
        assert!(matches!(effects.as_slice(), [Effect::SendEscalation(_)]));
        assert_eq!(chat.handoff_problem, None);
        let effects = chat.apply(Action::EscalationFailed("rate_limited".into()));
        assert!(
            effects.is_empty(),
            "too many requests: not repeated by itself"
        );
        assert!(chat.apply(Action::BackOnline).is_empty());
        chat.apply(Action::Retry);
        let effects = chat.apply(Action::EscalationFailed("origin_not_allowed".into()));
        assert!(effects.is_empty(), "a refusal is not repeated");
        assert!(chat.apply(Action::BackOnline).is_empty());
        assert!(chat.apply(Action::ReconnectLive).is_empty());
        assert!(
            matches!(&chat.handoff, Handoff::Failed { problem, .. } if problem == "origin_not_allowed")
        );
    }

    #[test]
    fn each_answer_appears_once_in_the_handoff_transcript() {
        let mut chat = ready_chat();
        sent(&mut chat, "When will my new card arrive?");
        chat.apply(Action::RequestPerson);
        let Handoff::Consent { packet, .. } = &chat.handoff else {
            panic!("consent expected")
        };
        let bot_lines = packet
            .transcript
            .iter()
            .filter(|e| e.author == Author::Bot)
            .count();
        assert_eq!(bot_lines, 1, "{:?}", packet.transcript);
    }

    #[test]
    fn ending_the_chat_asks_first_then_forgets_it() {
        let mut chat = ready_chat();
        sent(&mut chat, "When will my new card arrive?");
        let asked = chat.apply(Action::EndChat);
        assert_eq!(asked, vec![Effect::Focus(FocusTarget::EndQuestion)]);
        assert_eq!(chat.end_question_asked(), Some(EndQuestion::Forget));
        chat.apply(Action::ConfirmEnd(false));
        assert_eq!(chat.end_question_asked(), None);
        assert_eq!(chat.messages.len(), 2, "taking it back keeps the chat");
        chat.apply(Action::EndChat);
        chat.apply(Action::ConfirmEnd(true));
        assert!(chat.messages.is_empty());
        assert!(chat.conversation.0.transcript().is_empty());
        assert_eq!(chat.handoff, Handoff::None);
    }

    #[test]
    fn toggling_opens_and_closes_and_tells_the_host() {
        let mut chat = ChatState::new("demo".into(), "en".into(), "v".into());
        assert_eq!(
            chat.apply(Action::Toggle),
            vec![
                Effect::Emit(HostEvent::Open),
                Effect::Focus(FocusTarget::Input)
            ]
        );
        assert_eq!(
            chat.apply(Action::Toggle),
            vec![Effect::Emit(HostEvent::Close)]
        );
        assert!(!chat.open);
    }

    #[test]
    fn a_conversation_another_tab_saved_replaces_this_tabs_and_its_end_too() {
        let mut other_tab = with_person();
        sent(&mut other_tab, "Is anyone there?");
        let mut chat = ready_chat();
        chat.apply(Action::Close);
        let effects = chat.apply(Action::Synced(Some(Box::new(other_tab.save()))));
        assert_eq!(chat.messages, other_tab.messages);
        assert_eq!(chat.handoff, other_tab.handoff);
        assert_eq!(chat.live, other_tab.live);
        assert!(!chat.open, "this tab's panel stays as it was");
        assert!(
            matches!(
                effects.as_slice(),
                [
                    Effect::OpenLive { after: 0, .. },
                    Effect::Emit(HostEvent::Unread(0))
                ]
            ),
            "follows the person live, and leaves sending to the tab that wrote: {effects:?}"
        );

        let effects = chat.apply(Action::Synced(None));
        assert!(chat.messages.is_empty());
        assert_eq!(chat.handoff, Handoff::None);
        assert_eq!(
            effects,
            vec![Effect::CloseLive, Effect::Emit(HostEvent::Unread(0))]
        );
    }

    fn accepted(conversation_id: &str) -> EscalationAccepted {
        EscalationAccepted {
            conversation_id: conversation_id.into(),
            customer_token: "t".into(),
            queue_position: 1,
            estimated_wait_seconds: 60,
            agents_online: Some(1),
        }
    }

    #[test]
    fn a_hand_off_on_its_way_in_one_tab_is_not_ended_by_another_tab() {
        let mut sending_tab = handing_off();
        let mut other_tab = ready_chat();
        let effects = other_tab.apply(Action::Synced(Some(Box::new(sending_tab.save()))));
        assert!(
            matches!(other_tab.handoff, Handoff::Sending { .. }),
            "still on its way, not failed: {:?}",
            other_tab.handoff
        );
        assert!(
            effects.contains(&Effect::RetryHandoffLater),
            "sent again from here if the other tab goes away"
        );
        // The other tab saves (its model loaded, say); the sending tab takes that in,
        // then its answer comes.
        sending_tab.apply(Action::Synced(Some(Box::new(other_tab.save()))));
        let effects = sending_tab.apply(Action::Escalated {
            accepted: accepted("c1"),
            idempotency_key: "k".into(),
        });
        assert!(matches!(&sending_tab.handoff, Handoff::Queued(a) if a.conversation_id == "c1"));
        assert!(
            !effects
                .iter()
                .any(|e| matches!(e, Effect::EndConversation(_))),
            "{effects:?}"
        );
        // The other tab's own retry, answered with the same conversation, changes nothing.
        other_tab.apply(Action::Synced(Some(Box::new(sending_tab.save()))));
        let effects = other_tab.apply(Action::Escalated {
            accepted: accepted("c1"),
            idempotency_key: "k".into(),
        });
        assert!(effects.is_empty(), "{effects:?}");
        assert!(matches!(other_tab.handoff, Handoff::Queued(_)));
    }

    #[test]
    fn the_answer_to_an_interrupted_hand_off_is_taken_after_a_reload() {
        let chat = handing_off();
        let mut next_page = ChatState::new("demo".into(), "en".into(), "visitor".into());
        next_page.restore(chat.save());
        assert!(matches!(next_page.handoff, Handoff::Failed { .. }));
        next_page.apply(Action::Escalated {
            accepted: accepted("c2"),
            idempotency_key: "k".into(),
        });
        assert!(matches!(&next_page.handoff, Handoff::Queued(a) if a.conversation_id == "c2"));
    }

    #[test]
    fn what_the_customer_writes_while_a_hand_off_is_retried_goes_to_the_person() {
        let mut chat = handing_off();
        chat.apply(Action::EscalationFailed("offline".into()));
        let bubbles = chat.messages.len();
        sent(&mut chat, "order 4471, the parcel is damaged");
        assert_eq!(chat.messages.len(), bubbles + 1, "the bot stays silent");
        assert_eq!(chat.live.outbox.len(), 1, "kept for the person");
        chat.apply(Action::Retry);
        let effects = chat.apply(Action::Escalated {
            accepted: accepted("c3"),
            idempotency_key: "k".into(),
        });
        let sent_now: Vec<_> = effects
            .iter()
            .filter_map(|e| match e {
                Effect::SendMessage { message, .. } => Some(message.text.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(sent_now, ["order 4471, the parcel is damaged"]);
    }

    #[test]
    fn messages_for_a_refused_hand_off_say_they_were_not_delivered() {
        let mut chat = handing_off();
        sent(&mut chat, "are you there?");
        let bubble = chat.messages.len() - 1;
        chat.apply(Action::EscalationFailed("origin_not_allowed".into()));
        chat.apply(Action::ConsentDeclined);
        assert!(chat.live.outbox.is_empty());
        assert_eq!(chat.not_delivered(bubble), Some(NotDelivered::NoPerson));
        assert!(!chat.is_pending(bubble));
    }

    #[test]
    fn a_question_waiting_for_the_model_is_answered_on_the_next_page() {
        let mut chat = loading_chat();
        sent(
            &mut chat,
            "When will my new card arrive? Mail me at ann@example.com",
        );
        let saved = chat.save();
        assert_eq!(saved.waiting.len(), 1);
        assert!(!saved.waiting[0].contains("ann@"), "saved redacted");
        let mut next_page = ChatState::new("demo".into(), "en".into(), "visitor".into());
        next_page.restore(saved);
        model_arrives(&mut next_page);
        assert!(matches!(
            &next_page.messages[1].body,
            MessageBody::Answer { intent, .. } if intent == "card_arrival"
        ));
        assert!(next_page.save().waiting.is_empty());
    }

    #[test]
    fn a_model_arriving_after_the_chat_stopped_waiting_still_answers() {
        let mut chat = loading_chat();
        sent(&mut chat, "When will my new card arrive?");
        chat.apply(Action::EngineLoaded(EngineState::Failed)); // it took too long
        model_arrives(&mut chat);
        sent(&mut chat, "When will my new card arrive?");
        assert!(matches!(
            &chat.messages.last().unwrap().body,
            MessageBody::Answer { intent, .. } if intent == "card_arrival"
        ));
        chat.apply(Action::EngineLoaded(EngineState::Failed));
        assert!(
            matches!(chat.engine, EngineState::Ready(_)),
            "a loaded model stays"
        );
    }

    #[test]
    fn a_tab_following_another_keeps_its_own_live_connection_state() {
        let mut chat = with_person();
        chat.apply(Action::LiveConnection(true));
        let mut other_tab = chat.clone();
        sent(&mut other_tab, "one more thing");
        chat.apply(Action::Synced(Some(Box::new(other_tab.save()))));
        assert!(chat.live.connected, "this tab's channel is still up");
        assert!(!chat.live.dropped);
    }

    /// A customer who asked for a person and agreed: the hand-off is on its way.
    fn handing_off() -> ChatState {
        let mut chat = ready_chat();
        sent(&mut chat, "I want to talk to a real person");
        chat.apply(Action::RequestPerson);
        chat.apply(Action::ConsentGiven {
            idempotency_key: "k".into(),
        });
        chat
    }

    fn with_person() -> ChatState {
        let mut chat = ready_chat();
        chat.apply(Action::RequestPerson);
        chat.apply(Action::ConsentGiven {
            idempotency_key: "k".into(),
        });
        let effects = chat.apply(Action::Escalated {
            accepted: EscalationAccepted {
                conversation_id: "c".into(),
                customer_token: "t".into(),
                queue_position: 3,
                estimated_wait_seconds: 600,
                agents_online: Some(2),
            },
            idempotency_key: "k".into(),
        });
        assert!(effects
            .iter()
            .any(|e| matches!(e, Effect::OpenLive { after: 0, .. })));
        chat
    }

    #[test]
    fn a_chat_ended_before_the_hand_offs_answer_withdraws_it_until_the_edge_confirms() {
        let withdrawal = EscalationWithdrawal {
            site: "demo".into(),
            visitor_id: "visitor".into(),
            idempotency_key: "k".into(),
        };
        // The request failed on the way: it may have reached the edge all the same.
        let mut chat = handing_off();
        chat.apply(Action::EscalationFailed("network unreachable".into()));
        chat.apply(Action::EndChat);
        let effects = chat.apply(Action::ConfirmEnd(true));
        assert!(effects.contains(&Effect::WithdrawEscalation(withdrawal.clone())));
        assert!(chat.messages.is_empty(), "the chat is forgotten");
        assert_eq!(chat.withdrawals, std::slice::from_ref(&withdrawal));

        // Kept on the next page until the edge answers.
        let mut next_page = ChatState::new("demo".into(), "en".into(), "visitor".into());
        next_page.restore(chat.save());
        assert_eq!(
            next_page.resume_effects(),
            [Effect::WithdrawEscalation(withdrawal.clone())]
        );
        let answered = |settled| Action::WithdrawalAnswered {
            idempotency_key: "k".into(),
            settled,
        };
        assert_eq!(next_page.apply(answered(false)), [Effect::RetryLater]);
        assert_eq!(
            next_page.apply(Action::FlushOutbox),
            [Effect::WithdrawEscalation(withdrawal.clone())]
        );
        next_page.apply(answered(true));
        assert!(next_page.withdrawals.is_empty());
        assert!(next_page.resume_effects().is_empty());
        // Another tab holds it while it is pending, and lets it go when the tab that sent
        // it has nothing left to save.
        let mut other_tab = ready_chat();
        other_tab.apply(Action::Synced(Some(Box::new(chat.save()))));
        assert_eq!(other_tab.withdrawals, chat.withdrawals);
        other_tab.apply(Action::Synced(None));
        assert!(other_tab.withdrawals.is_empty());

        // Signing out while the hand-off is on its way withdraws it too.
        let mut chat = handing_off();
        let effects = chat.apply(Action::Reset);
        assert!(effects.contains(&Effect::WithdrawEscalation(withdrawal)));

        // A refused hand-off created nothing: nothing to withdraw.
        let mut chat = handing_off();
        chat.apply(Action::EscalationFailed("unknown_site".into()));
        chat.apply(Action::EndChat);
        let effects = chat.apply(Action::ConfirmEnd(true));
        assert!(!effects
            .iter()
            .any(|e| matches!(e, Effect::WithdrawEscalation(_))));
        assert!(chat.withdrawals.is_empty());
    }

    fn event(seq: u64, event: EventBody) -> baton_protocol::ConversationEvent {
        baton_protocol::ConversationEvent {
            seq,
            at_ms: seq,
            event,
        }
    }

    /// The live channel says the agent closed the conversation, with `resolution`.
    fn agent_closes(seq: u64, resolution: Option<&str>) -> Action {
        update(vec![event(
            seq,
            EventBody::Resolved {
                by: Author::Agent,
                resolution: resolution.map(str::to_owned),
            },
        )])
    }

    fn update(events: Vec<baton_protocol::ConversationEvent>) -> Action {
        Action::LiveUpdate(ConversationUpdate {
            events,
            queue: None,
            ..ConversationUpdate::default()
        })
    }

    #[test]
    fn the_agent_hears_the_customer_typing_only_once_they_joined() {
        assert!(!ready_chat().tells_agent_typing(), "the bot reads nothing");
        let mut chat = with_person();
        assert!(!chat.tells_agent_typing(), "nobody reads the queue");
        let joined = |seq| {
            event(
                seq,
                EventBody::AgentJoined {
                    agent_name: "Sam".into(),
                },
            )
        };
        chat.apply(update(vec![joined(1)]));
        assert!(chat.tells_agent_typing());
        assert!(
            chat.apply(Action::CustomerTyping).is_empty(),
            "the shell sends it"
        );
        chat.apply(agent_closes(2, None));
        assert!(!chat.tells_agent_typing(), "the conversation is over");
    }

    #[test]
    fn the_customer_sees_the_agent_typing_until_the_reply_or_a_pause() {
        let typing = |name: &str| {
            Action::LiveUpdate(ConversationUpdate {
                typing: Some(name.into()),
                ..ConversationUpdate::default()
            })
        };
        let mut chat = with_person();
        assert_eq!(chat.apply(typing("Sam")), vec![Effect::TypingOverLater]);
        assert_eq!(chat.agent_typing.as_deref(), Some("Sam"));
        // The reply replaces the notice.
        chat.apply(update(vec![event(
            1,
            EventBody::Message {
                author: Author::Agent,
                text: "Here it is".into(),
                agent_name: Some("Sam".into()),
                client_id: "a1".into(),
            },
        )]));
        assert_eq!(chat.agent_typing, None);
        // Or the pause after the last notice ends it.
        chat.apply(typing("Sam"));
        chat.apply(Action::TypingOver);
        assert_eq!(chat.agent_typing, None);
        // It is never saved: a reload does not bring it back.
        chat.apply(typing("Sam"));
        let mut reloaded = ChatState::new("demo".into(), "en".into(), "v".into());
        reloaded
            .restore(serde_json::from_str(&serde_json::to_string(&chat.save()).unwrap()).unwrap());
        assert_eq!(reloaded.agent_typing, None);
        // Without a person on the conversation, nobody is typing to the customer.
        let mut bot_only = ready_chat();
        assert!(bot_only.apply(typing("Sam")).is_empty());
        assert_eq!(bot_only.agent_typing, None);
    }

    #[test]
    fn news_from_the_team_while_the_panel_is_closed_counts_until_it_opens() {
        let mut chat = with_person();
        chat.apply(Action::Close);
        let reply = |seq: u64| {
            event(
                seq,
                EventBody::Message {
                    author: Author::Agent,
                    text: "Hi".into(),
                    agent_name: Some("Sam".into()),
                    client_id: format!("r{seq}"),
                },
            )
        };
        let joined = event(
            1,
            EventBody::AgentJoined {
                agent_name: "Sam".into(),
            },
        );
        let effects = chat.apply(update(vec![joined, reply(2)]));
        assert_eq!(chat.unread, 2);
        assert!(effects.contains(&Effect::Emit(HostEvent::Unread(2))));
        let effects = chat.apply(update(vec![reply(2)]));
        assert_eq!(chat.unread, 2, "a repeated event is not news");
        assert!(!effects
            .iter()
            .any(|e| matches!(e, Effect::Emit(HostEvent::Unread(_)))));

        let mut next_page = ready_chat();
        next_page
            .restore(serde_json::from_str(&serde_json::to_string(&chat.save()).unwrap()).unwrap());
        assert_eq!(next_page.unread, 2, "the count survives a page change");

        let effects = chat.apply(Action::Open);
        assert_eq!(chat.unread, 0);
        assert!(effects.contains(&Effect::Emit(HostEvent::Unread(0))));
        chat.apply(update(vec![reply(3)]));
        assert_eq!(chat.unread, 0, "seen as it arrives");
    }

    #[test]
    fn agent_messages_arrive_once_in_order_and_the_join_is_announced() {
        let mut chat = with_person();
        let joined = event(
            1,
            EventBody::AgentJoined {
                agent_name: "Sam".into(),
            },
        );
        let reply = event(
            2,
            EventBody::Message {
                author: Author::Agent,
                text: "Hi, **Sam** here".into(),
                agent_name: Some("Sam".into()),
                client_id: "r1".into(),
            },
        );
        let effects = chat.apply(update(vec![joined.clone(), reply.clone()]));
        assert!(effects.contains(&Effect::Emit(HostEvent::AgentJoined("Sam".into()))));
        // A reconnect may deliver the same events again.
        chat.apply(update(vec![joined, reply]));
        let agent_bubbles: Vec<_> = chat
            .messages
            .iter()
            .filter(|m| matches!(m.body, MessageBody::Agent { .. }))
            .collect();
        assert_eq!(agent_bubbles.len(), 1);
        assert_eq!(chat.live.agent_name.as_deref(), Some("Sam"));
        assert_eq!(chat.live.last_seq, 2);
        assert_eq!(
            chat.resume_effects()[0],
            Effect::OpenLive {
                accepted: match &chat.handoff {
                    Handoff::Queued(accepted) => accepted.clone(),
                    other => panic!("{other:?}"),
                },
                after: 2,
            }
        );
    }

    #[test]
    fn a_message_for_the_person_waits_in_the_outbox_until_the_edge_has_it() {
        let mut chat = with_person();
        let effects = sent(&mut chat, "my card is 4111 1111 1111 1111");
        let Some(Effect::SendMessage { message, .. }) = effects
            .iter()
            .find(|e| matches!(e, Effect::SendMessage { .. }))
        else {
            panic!("no send: {effects:?}");
        };
        assert!(!message.text.contains("4111 1111"), "sent unredacted");
        let id = message.client_id.clone();
        let bubble = message.message_id;
        assert!(chat.is_pending(bubble));

        // The edge is down: the message stays, and a retry sends the same id.
        let retry = chat.apply(Action::MessageFailed {
            client_id: id.clone(),
            problem: "network unreachable".into(),
        });
        assert_eq!(retry, vec![Effect::RetryLater]);
        let again = chat.apply(Action::FlushOutbox);
        assert!(
            matches!(&again[..], [Effect::SendMessage { message, .. }] if message.client_id == id)
        );

        // Its echo on the live channel confirms it without a second bubble.
        let count = chat.messages.len();
        chat.apply(update(vec![event(
            1,
            EventBody::Message {
                author: Author::Customer,
                text: "my card is ****".into(),
                agent_name: None,
                client_id: id,
            },
        )]));
        assert_eq!(chat.messages.len(), count);
        assert!(!chat.is_pending(bubble));
        assert!(chat.apply(Action::FlushOutbox).is_empty());
    }

    #[test]
    fn a_refused_message_leaves_the_outbox() {
        let mut chat = with_person();
        let effects = sent(&mut chat, "hello?");
        let Some(Effect::SendMessage { message, .. }) = effects.last() else {
            panic!("no send");
        };
        let bubble = message.message_id;
        chat.apply(Action::MessageFailed {
            client_id: message.client_id.clone(),
            problem: "origin_not_allowed".into(),
        });
        assert!(chat.live.outbox.is_empty());
        assert_eq!(chat.not_delivered(bubble), Some(NotDelivered::Refused));
    }

    fn sent_message(effects: &[Effect]) -> Outgoing {
        effects
            .iter()
            .find_map(|e| match e {
                Effect::SendMessage { message, .. } => Some(message.clone()),
                _ => None,
            })
            .unwrap_or_else(|| panic!("no message sent: {effects:?}"))
    }

    /// The end sent, if any: the conversation and the messages going with it.
    fn end_sent(effects: &[Effect]) -> Option<(&str, Vec<&str>)> {
        effects.iter().find_map(|e| match e {
            Effect::EndConversation(ending) => Some((
                ending.accepted.conversation_id.as_str(),
                ending.outbox.iter().map(|m| m.text.as_str()).collect(),
            )),
            _ => None,
        })
    }

    fn ids(ids: &[&str]) -> Vec<String> {
        ids.iter().map(|&id| id.to_owned()).collect()
    }

    /// The edge's answer to the end of conversation `c` that carried `sent`.
    fn end_answer(sent: &[&str], outcome: EndOutcome) -> Action {
        Action::EndAnswered {
            conversation_id: "c".into(),
            sent: ids(sent),
            outcome,
        }
    }

    fn ended(sent: &[&str], undelivered: &[&str]) -> Action {
        end_answer(
            sent,
            EndOutcome::Ended {
                undelivered: ids(undelivered),
            },
        )
    }

    #[test]
    fn ending_the_chat_takes_what_is_still_on_its_way_with_it() {
        let mut chat = with_person();
        let first = sent_message(&sent(&mut chat, "the order number is 4471"));
        let second = sent_message(&sent(&mut chat, "and the parcel is damaged"));
        // The first arrived; the second's answer has not come.
        chat.apply(Action::MessageDelivered {
            client_id: first.client_id,
        });
        chat.apply(Action::EndChat);
        let effects = chat.apply(Action::ConfirmEnd(true));
        assert_eq!(
            end_sent(&effects),
            Some(("c", vec!["and the parcel is damaged"])),
            "one request, the message before the end"
        );
        assert!(
            matches!(chat.handoff, Handoff::Ended { .. }),
            "rating asked at once"
        );
        assert!(chat.is_pending(second.message_id));

        chat.apply(ended(&[&second.client_id], &[]));
        assert!(chat.endings.is_empty());
        assert!(!chat.is_pending(second.message_id));
        assert!(!chat.is_undelivered(second.message_id));
        assert!(chat.apply(Action::FlushOutbox).is_empty());
    }

    #[test]
    fn messages_that_came_after_an_agent_closed_say_so() {
        let mut chat = with_person();
        let message = sent_message(&sent(&mut chat, "are you there?"));
        chat.apply(Action::EndChat);
        chat.apply(Action::ConfirmEnd(true));
        chat.apply(ended(&[&message.client_id], &[&message.client_id]));
        assert_eq!(
            chat.not_delivered(message.message_id),
            Some(NotDelivered::Ended)
        );
    }

    #[test]
    fn a_message_added_to_an_end_on_its_way_goes_with_the_next() {
        let mut chat = with_person();
        let first = sent_message(&sent(&mut chat, "first"));
        chat.apply(Action::EndChat);
        chat.apply(Action::ConfirmEnd(true));
        // Another tab ended it too, with a message this one never sent.
        let later = Outgoing {
            client_id: "later".into(),
            text: "later".into(),
            message_id: 99,
        };
        let accepted = chat.endings[0].accepted.clone();
        chat.end_at_edge(accepted, vec![later]);
        let next = chat.apply(ended(&[&first.client_id], &[]));
        assert_eq!(end_sent(&next), Some(("c", vec!["later"])));
        assert!(chat.apply(ended(&["later"], &[])).is_empty());
        assert!(chat.endings.is_empty());
    }

    #[test]
    fn an_end_carries_what_one_request_can() {
        let mut chat = with_person();
        let long = "x".repeat(3_000);
        for _ in 0..25 {
            sent(&mut chat, &long);
        }
        chat.apply(Action::EndChat);
        let effects = chat.apply(Action::ConfirmEnd(true));
        let (_, carried) = end_sent(&effects).unwrap();
        assert_eq!(carried.len(), 16, "48 KiB of 3,000-character messages");
        let refused = chat
            .messages
            .iter()
            .filter(|m| chat.not_delivered(m.id) == Some(NotDelivered::Refused))
            .count();
        assert_eq!(refused, 9, "the rest said not delivered");
    }

    #[test]
    fn an_end_refused_with_its_messages_goes_again_without_them() {
        let mut chat = with_person();
        let message = sent_message(&sent(&mut chat, "a very long message"));
        chat.apply(Action::EndChat);
        chat.apply(Action::ConfirmEnd(true));
        let refused = EndOutcome::Refused("payload_too_large".into());
        let again = chat.apply(end_answer(&[&message.client_id], refused.clone()));
        assert_eq!(end_sent(&again), Some(("c", vec![])));
        assert_eq!(
            chat.not_delivered(message.message_id),
            Some(NotDelivered::Refused)
        );
        let given_up = chat.apply(end_answer(&[], refused));
        assert!(given_up.is_empty());
        assert!(
            chat.endings.is_empty(),
            "refused without messages: nothing to retry"
        );
    }

    #[test]
    fn an_end_the_edge_did_not_hear_is_told_again_until_it_does() {
        let mut chat = with_person();
        chat.apply(Action::EndChat);
        assert!(end_sent(&chat.apply(Action::ConfirmEnd(true))).is_some());
        let failed = chat.apply(end_answer(&[], EndOutcome::Retry));
        assert_eq!(failed, vec![Effect::RetryLater]);
        assert!(end_sent(&chat.apply(Action::FlushOutbox)).is_some());

        // The next page tells it too, and forgetting the chat does not drop it.
        let mut next_page = ChatState::new("demo".into(), "en".into(), "visitor".into());
        next_page.restore(chat.save());
        assert!(end_sent(&next_page.resume_effects()).is_some());
        next_page.apply(Action::EndChat);
        next_page.apply(Action::ConfirmEnd(true));
        assert!(next_page.messages.is_empty(), "forgotten");
        assert!(end_sent(&next_page.apply(Action::BackOnline)).is_some());
    }

    #[test]
    fn a_forgotten_chat_does_not_lend_its_bubbles_state_to_the_next_one() {
        let mut chat = with_person();
        let message = sent_message(&sent(&mut chat, "one more thing"));
        chat.apply(Action::EndChat);
        chat.apply(Action::ConfirmEnd(true));
        chat.apply(Action::EndChat);
        chat.apply(Action::ConfirmEnd(true));
        assert!(chat.messages.is_empty(), "forgotten");
        sent(&mut chat, "hello");
        sent(&mut chat, "hello again");
        assert!(
            end_sent(&chat.apply(Action::FlushOutbox)).is_some(),
            "the end still goes"
        );
        chat.apply(ended(&[&message.client_id], &[&message.client_id]));
        assert!(chat
            .messages
            .iter()
            .all(|m| !chat.is_pending(m.id) && !chat.is_undelivered(m.id)));
    }

    #[test]
    fn signing_out_keeps_nothing_not_even_an_end_still_to_tell() {
        let mut chat = with_person();
        sent(&mut chat, "my address is 1 Main Street");
        let effects = chat.apply(Action::Reset);
        assert_eq!(
            end_sent(&effects),
            Some(("c", vec![])),
            "the message stays unsent"
        );
        assert!(chat.endings.is_empty(), "the token is not kept");
        assert!(chat.apply(Action::FlushOutbox).is_empty());
    }

    #[test]
    fn undelivered_bubbles_saved_by_earlier_versions_still_load() {
        let saved: Vec<Undelivered> = serde_json::from_str(r#"[3, [5, "Refused"]]"#).unwrap();
        assert_eq!(
            saved,
            [
                Undelivered {
                    message_id: 3,
                    why: NotDelivered::Ended
                },
                Undelivered {
                    message_id: 5,
                    why: NotDelivered::Refused
                }
            ]
        );
    }

    #[test]
    fn the_outbox_survives_a_reload() {
        let mut chat = with_person();
        sent(&mut chat, "are you there?");
        let saved = chat.save();
        let mut reloaded = ChatState::new("demo".into(), "en".into(), "visitor".into());
        reloaded.restore(serde_json::from_str(&serde_json::to_string(&saved).unwrap()).unwrap());
        let effects = reloaded.resume_effects();
        assert!(matches!(effects[0], Effect::OpenLive { .. }));
        assert!(
            matches!(&effects[1], Effect::SendMessage { message, .. } if message.text == "are you there?")
        );
    }

    #[test]
    fn when_the_agent_closes_the_customer_is_asked_for_a_rating() {
        let mut chat = with_person();
        let effects = chat.apply(agent_closes(1, Some("Refund issued")));
        assert!(effects.contains(&Effect::Emit(HostEvent::Resolved)));
        assert!(effects.contains(&Effect::CloseLive));
        assert!(matches!(
            chat.handoff,
            Handoff::Ended {
                rating: RatingStage::Asking,
                ..
            }
        ));
        let rated = chat.apply(Action::Rate {
            rating: 5,
            comment: "call me on +44 7700 900123".into(),
        });
        let [Effect::SendRating {
            rating, comment, ..
        }, Effect::Focus(FocusTarget::Rating)] = &rated[..]
        else {
            panic!("{rated:?}");
        };
        assert_eq!(*rating, 5);
        assert!(
            !comment.contains("7700 900123"),
            "comment not redacted: {comment}"
        );
        assert!(
            chat.apply(Action::Rate {
                rating: 1,
                comment: String::new()
            })
            .is_empty(),
            "one rating per conversation"
        );
    }

    #[test]
    fn the_rating_picked_is_kept_until_a_new_conversation_ends() {
        let mut chat = with_person();
        chat.apply(Action::ChooseRating(4));
        assert_eq!(chat.rating_choice, 0, "no rating form yet");
        chat.apply(Action::EndChat);
        chat.apply(Action::ConfirmEnd(true));
        chat.apply(Action::ChooseRating(9));
        assert_eq!(chat.rating_choice, 0, "1 to 5 only");
        chat.apply(Action::ChooseRating(4));
        chat.apply(Action::ChooseRating(2));
        assert_eq!(chat.rating_choice, 2);

        let mut chat = with_person();
        chat.rating_choice = 3;
        chat.apply(agent_closes(1, None));
        assert_eq!(chat.rating_choice, 0, "each rating form starts empty");
    }

    #[test]
    fn ending_a_chat_with_a_person_ends_it_at_the_edge_then_asks_for_a_rating() {
        let mut chat = with_person();
        chat.apply(update(vec![event(
            1,
            EventBody::Message {
                author: Author::Agent,
                text: "Your tracking number is LK-77".into(),
                client_id: "a1".into(),
                agent_name: Some("Sam".into()),
            },
        )]));
        chat.apply(Action::EndChat);
        let effects = chat.apply(Action::ConfirmEnd(true));
        assert!(matches!(effects[0], Effect::EndConversation(_)));
        assert!(effects.contains(&Effect::Focus(FocusTarget::Rating)));
        assert!(
            chat.messages
                .iter()
                .any(|m| matches!(&m.body, MessageBody::Agent { name, .. } if name == "Sam")),
            "what the person said stays readable"
        );
        assert_eq!(
            chat.messages.last().map(|m| &m.body),
            Some(&MessageBody::Note(Note::CustomerEnded))
        );
        assert!(matches!(chat.handoff, Handoff::Ended { .. }));
        // "Start a new chat" begins one below, the old one still readable above.
        let before = chat.messages.len();
        chat.apply(Action::NewChat);
        assert_eq!(chat.handoff, Handoff::None);
        assert_eq!(chat.messages.len(), before + 1);
        assert_eq!(
            chat.messages.last().map(|m| &m.body),
            Some(&MessageBody::Note(Note::NewChat))
        );
    }

    #[test]
    fn a_reset_ends_the_conversation_and_forgets_the_customer() {
        let mut chat = with_person();
        chat.apply(Action::Identify(Some(CustomerIdentity {
            id: "8412".into(),
            name: "Jane".into(),
            email: String::new(),
            hash: "ab".into(),
        })));
        let effects = chat.apply(Action::Reset);
        assert!(end_sent(&effects).is_some());
        assert!(effects.contains(&Effect::CloseLive));
        assert!(chat.messages.is_empty());
        assert_eq!(chat.handoff, Handoff::None);
        assert_eq!(chat.identity, None);
        assert_eq!(chat.save().messages, Vec::new());
    }

    #[test]
    fn a_full_message_box_is_said_until_the_message_goes() {
        let mut chat = ready_chat();
        chat.apply(Action::InputFull(true));
        assert!(chat.input_full);
        sent(&mut chat, "When will my new card arrive?");
        assert!(!chat.input_full, "the box is empty again");
    }

    #[test]
    fn a_transfer_says_who_passed_the_customer_to_whom() {
        let mut chat = with_person();
        let before = chat.messages.len();
        chat.apply(update(vec![
            event(
                1,
                EventBody::AgentJoined {
                    agent_name: "Sam".into(),
                },
            ),
            event(
                2,
                EventBody::AgentLeft {
                    agent_name: "Sam".into(),
                    transferred_to: Some("Noor".into()),
                },
            ),
            event(
                3,
                EventBody::AgentJoined {
                    agent_name: "Noor".into(),
                },
            ),
        ]));
        let notes: Vec<&MessageBody> = chat.messages[before..].iter().map(|m| &m.body).collect();
        assert_eq!(
            notes,
            [
                &MessageBody::Note(Note::AgentJoined("Sam".into())),
                &MessageBody::Note(Note::PassedOn {
                    from: "Sam".into(),
                    to: "Noor".into()
                }),
            ],
            "not \"Sam had to step away\", and Noor's joining is said once"
        );
        assert_eq!(chat.live.agent_name.as_deref(), Some("Noor"));
    }

    #[test]
    fn writing_after_the_end_keeps_the_conversation_above_a_new_one() {
        let mut chat = with_person();
        chat.apply(agent_closes(1, Some("Replacement sent")));
        let before = chat.messages.clone();
        sent(&mut chat, "When will my new card arrive?");
        assert_eq!(chat.messages[..before.len()], before[..], "history kept");
        assert_eq!(
            chat.messages[before.len()].body,
            MessageBody::Note(Note::NewChat)
        );
        assert!(chat.messages.iter().skip(before.len()).any(
            |m| matches!(&m.body, MessageBody::Answer { intent, .. } if intent == "card_arrival")
        ));
        assert_eq!(chat.handoff, Handoff::None);
        // The new chat's hand-off carries only the new chat.
        chat.apply(Action::RequestPerson);
        assert_eq!(
            consent_customer_lines(&chat),
            ["When will my new card arrive?"]
        );
    }

    /// The customer's lines in the preview the consent question shows.
    fn consent_customer_lines(chat: &ChatState) -> Vec<String> {
        let Handoff::Consent { packet, .. } = &chat.handoff else {
            panic!("asking for consent: {:?}", chat.handoff)
        };
        packet
            .transcript
            .iter()
            .filter(|e| e.author == Author::Customer)
            .map(|e| e.text.clone())
            .collect()
    }

    #[test]
    fn what_the_customer_writes_while_asked_for_consent_joins_the_preview() {
        let mut chat = ready_chat();
        chat.apply(Action::RequestPerson);
        let Handoff::Consent { packet, .. } = &chat.handoff else {
            panic!("consent")
        };
        assert!(packet.transcript.is_empty());
        sent(
            &mut chat,
            "my lamp arrived broken, card 4111 1111 1111 1111",
        );
        let customer_lines = consent_customer_lines(&chat);
        assert_eq!(customer_lines.len(), 1, "{customer_lines:?}");
        assert!(customer_lines[0].starts_with("my lamp arrived broken"));
        assert!(!customer_lines[0].contains("4111 1111"), "redacted");
        assert!(
            !chat.messages.iter().any(|m| matches!(
                m.body,
                MessageBody::OfferPerson { .. } | MessageBody::DontKnow
            )),
            "no second offer of a person while the question is open"
        );
        let Handoff::Consent { packet, .. } = chat.handoff.clone() else {
            panic!("still asking")
        };
        let effects = chat.apply(Action::ConsentGiven {
            idempotency_key: "k".into(),
        });
        let Some(Effect::SendEscalation(request)) = effects.first() else {
            panic!("{effects:?}")
        };
        assert_eq!(request.packet, packet, "what was previewed is sent");
    }

    #[test]
    fn the_chat_cannot_be_ended_while_the_hand_off_is_on_its_way() {
        let mut chat = handing_off();
        assert!(chat.apply(Action::EndChat).is_empty());
        assert_eq!(chat.end_question_asked(), None);
    }

    #[test]
    fn the_end_question_lapses_when_the_conversation_changes_under_it() {
        // Asked while the consent question was open; then the customer sent it.
        let mut chat = ready_chat();
        sent(&mut chat, "I want to talk to a real person");
        chat.apply(Action::RequestPerson);
        chat.apply(Action::EndChat);
        chat.apply(Action::ConsentGiven {
            idempotency_key: "k".into(),
        });
        assert_eq!(chat.end_question_asked(), None, "not shown any more");
        let effects = chat.apply(Action::ConfirmEnd(true));
        assert!(
            matches!(chat.handoff, Handoff::Sending { .. }),
            "{effects:?}"
        );

        // Asked while with a person; then the agent closed the conversation.
        let mut chat = with_person();
        chat.apply(Action::EndChat);
        assert_eq!(chat.end_question_asked(), Some(EndQuestion::WithPerson));
        chat.apply(agent_closes(1, None));
        assert_eq!(chat.end_question_asked(), None);
        chat.apply(Action::ConfirmEnd(true));
        assert!(
            matches!(chat.handoff, Handoff::Ended { .. }) && !chat.messages.is_empty(),
            "the transcript and the rating form stay"
        );

        // Closing the panel takes the question back.
        let mut chat = ready_chat();
        sent(&mut chat, "When will my new card arrive?");
        chat.apply(Action::EndChat);
        chat.apply(Action::Close);
        assert_eq!(chat.end_question_asked(), None);
    }

    #[test]
    fn a_hand_off_answered_after_a_reset_is_ended_not_left_waiting() {
        let mut chat = handing_off();
        chat.apply(Action::Reset);
        let accepted = EscalationAccepted {
            conversation_id: "late".into(),
            customer_token: "t".into(),
            queue_position: 1,
            estimated_wait_seconds: 60,
            agents_online: Some(1),
        };
        let effects = chat.apply(Action::Escalated {
            accepted: accepted.clone(),
            idempotency_key: "k9".into(),
        });
        assert_eq!(
            effects,
            vec![Effect::EndConversation(Ending {
                accepted,
                outbox: Vec::new()
            })]
        );
        assert_eq!(chat.handoff, Handoff::None);
    }

    #[test]
    fn a_message_that_never_reached_the_person_says_so() {
        let mut chat = with_person();
        chat.apply(Action::LiveConnection(true));
        chat.apply(Action::LiveConnection(false));
        assert!(chat.live.dropped, "the lost connection shows");
        sent(&mut chat, "one more thing, reference R-1234");
        let waiting = chat.messages.len() - 1;
        assert!(chat.is_pending(waiting));
        chat.apply(agent_closes(1, None));
        assert!(chat.is_undelivered(waiting));
        assert!(!chat.is_pending(waiting));
        let saved: SavedChat =
            serde_json::from_str(&serde_json::to_string(&chat.save()).unwrap()).unwrap();
        let mut reloaded = ready_chat();
        reloaded.restore(saved);
        assert!(reloaded.is_undelivered(waiting), "kept over a reload");
    }

    #[test]
    fn saying_an_answer_helped_is_counted_without_content() {
        let mut chat = ready_chat();
        sent(&mut chat, "When will my new card arrive?");
        let answer = chat
            .messages
            .iter()
            .find(|m| matches!(m.body, MessageBody::Answer { .. }))
            .unwrap()
            .id;
        let effects = chat.apply(Action::Feedback {
            message_id: answer,
            helpful: true,
            now_ms: 2_000,
        });
        assert_eq!(
            effects,
            vec![
                Effect::SendFeedback(true),
                Effect::Focus(FocusTarget::Input)
            ]
        );
    }
}
