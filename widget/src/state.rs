//! The chat's state and every way it can change, as a pure reducer.
//!
//! [`ChatState::apply`] takes an [`Action`] and returns the [`Effect`]s the shell must
//! carry out (network calls, events for the host page). It touches no browser API, so
//! the whole conversation logic is tested natively.

use std::rc::Rc;

use baton_protocol::{
    Author, EscalationAccepted, EscalationReason, EscalationRequest, HandoffPacket, RichText,
};
use baton_triage::{Conversation, Engine, KbLink};
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
    },
    /// The bot suggests a person, saying why.
    OfferPerson {
        /// Why, in the order the engine gave.
        reasons: Vec<EscalationReason>,
    },
    /// The bot does not know, and says so.
    DontKnow,
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
    /// Waiting for a person.
    Queued(EscalationAccepted),
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
    /// "End chat": forget the conversation in this browser.
    EndChat,
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
    /// Try sending again after a failure.
    Retry,
    /// The edge accepted the escalation.
    Escalated(EscalationAccepted),
    /// The edge could not be reached or refused.
    EscalationFailed(String),
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
    /// Tell the host page (for `Baton.on(event, fn)`).
    Emit(HostEvent),
    /// Move keyboard focus to the message input.
    FocusInput,
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
        }
    }

    /// Whether a person has the conversation (or is about to): the bot stays silent.
    pub fn with_person(&self) -> bool {
        matches!(self.handoff, Handoff::Queued(_) | Handoff::Sending { .. })
    }

    /// Applies one action and returns what the shell must do.
    pub fn apply(&mut self, action: Action) -> Vec<Effect> {
        match action {
            Action::Open if !self.open => {
                self.open = true;
                vec![Effect::Emit(HostEvent::Open), Effect::FocusInput]
            }
            Action::Close if self.open => {
                self.open = false;
                vec![Effect::Emit(HostEvent::Close)]
            }
            Action::Open | Action::Close => Vec::new(),
            Action::Reopen if !self.open => {
                self.open = true;
                vec![Effect::Emit(HostEvent::Open)]
            }
            Action::Reopen => Vec::new(),
            Action::EndChat => {
                self.clear();
                vec![Effect::FocusInput]
            }
            Action::Toggle => {
                let next = if self.open {
                    Action::Close
                } else {
                    Action::Open
                };
                self.apply(next)
            }
            Action::EngineLoaded(engine) => {
                self.engine = engine;
                Vec::new()
            }
            Action::CustomerSent { text, now_ms } => self.customer_sent(&text, now_ms),
            Action::Feedback {
                message_id,
                helpful,
                now_ms,
            } => self.feedback(message_id, helpful, now_ms),
            Action::RequestPerson => {
                if matches!(self.handoff, Handoff::None) {
                    let packet = self.packet();
                    self.handoff = Handoff::Consent { packet };
                }
                Vec::new()
            }
            Action::ConsentGiven { idempotency_key } => match &self.handoff {
                Handoff::Consent { packet } => {
                    let packet = packet.clone();
                    self.send(packet, idempotency_key)
                }
                _ => Vec::new(),
            },
            Action::ConsentDeclined => {
                if matches!(self.handoff, Handoff::Consent { .. }) {
                    self.handoff = Handoff::None;
                }
                vec![Effect::FocusInput]
            }
            Action::Retry => match &self.handoff {
                Handoff::Failed {
                    packet,
                    idempotency_key,
                    ..
                } => {
                    let (packet, key) = (packet.clone(), idempotency_key.clone());
                    self.send(packet, key)
                }
                _ => Vec::new(),
            },
            Action::Escalated(accepted) => {
                let id = accepted.conversation_id.clone();
                self.handoff = Handoff::Queued(accepted);
                vec![Effect::Emit(HostEvent::Escalated(id))]
            }
            Action::EscalationFailed(problem) => {
                if let Handoff::Sending {
                    packet,
                    idempotency_key,
                } = &self.handoff
                {
                    self.handoff = Handoff::Failed {
                        packet: packet.clone(),
                        idempotency_key: idempotency_key.clone(),
                        problem,
                    };
                }
                Vec::new()
            }
        }
    }

    fn customer_sent(&mut self, text: &str, now_ms: u64) -> Vec<Effect> {
        let text = text.trim();
        if text.is_empty() {
            return Vec::new();
        }
        let EngineState::Ready(engine) = &self.engine else {
            // Without the engine nothing leaves the browser unredacted: keep only the
            // redacted text and offer a person.
            let redacted = baton_triage::redact_pii(text).text;
            self.push(Author::Customer, MessageBody::Text(redacted));
            self.push(
                Author::Bot,
                MessageBody::OfferPerson {
                    reasons: vec![EscalationReason::OutOfScope],
                },
            );
            return vec![Effect::Emit(HostEvent::Message(Author::Customer))];
        };
        let engine = Rc::clone(engine);
        let turn = engine.respond(&mut self.conversation.0, text, now_ms);
        self.push(
            Author::Customer,
            MessageBody::Text(turn.redacted.text.clone()),
        );
        let mut effects = vec![Effect::Emit(HostEvent::Message(Author::Customer))];
        if self.with_person() {
            return effects;
        }
        if let Some(answer) = turn.answer {
            let body = RichText::parse(&answer.body);
            // The engine has already put the answer into its transcript.
            self.push(
                Author::Bot,
                MessageBody::Answer {
                    intent: answer.intent,
                    body,
                    links: answer.links,
                    helpful: None,
                },
            );
        } else if turn.escalation.is_none() {
            self.push(Author::Bot, MessageBody::DontKnow);
        }
        if let Some(escalation) = turn.escalation {
            self.push(
                Author::Bot,
                MessageBody::OfferPerson {
                    reasons: escalation.reasons,
                },
            );
        }
        effects.push(Effect::Emit(HostEvent::Message(Author::Bot)));
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
        if helpful {
            Vec::new()
        } else {
            // "No, talk to a person" goes straight to the consent preview.
            self.apply(Action::RequestPerson)
        }
    }

    fn send(&mut self, packet: HandoffPacket, idempotency_key: String) -> Vec<Effect> {
        let request = EscalationRequest {
            site: self.site.clone(),
            visitor_id: self.visitor_id.clone(),
            idempotency_key: idempotency_key.clone(),
            packet: packet.clone(),
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
                transcript: self
                    .messages
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

    /// A snapshot for the browser's storage.
    pub fn save(&self) -> SavedChat {
        SavedChat {
            version: SavedChat::VERSION,
            open: self.open,
            messages: self.messages.clone(),
            conversation: self.conversation.clone(),
            handoff: self.handoff.clone(),
        }
    }

    /// Restores a snapshot. An escalation that was being sent when the page went away
    /// comes back as failed, so the customer can retry it with the same idempotency key
    /// (the edge then creates nothing twice).
    pub fn restore(&mut self, saved: SavedChat) {
        if saved.version != SavedChat::VERSION {
            return;
        }
        // The panel reopens through `Action::Reopen`, so the host page hears about it.
        self.messages = saved.messages;
        self.conversation = saved.conversation;
        self.handoff = match saved.handoff {
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

    /// Forgets the conversation ("End chat").
    pub fn clear(&mut self) {
        self.messages.clear();
        self.conversation = ConversationMemory::default();
        self.handoff = Handoff::None;
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

    #[test]
    fn customer_text_is_shown_and_sent_redacted() {
        let mut chat = ready_chat();
        sent(&mut chat, "my card 4242 4242 4242 4242 was charged twice");
        let MessageBody::Text(shown) = &chat.messages[0].body else {
            panic!("customer bubble first")
        };
        assert!(!shown.contains("4242 4242 4242 4242"), "{shown}");
        chat.apply(Action::RequestPerson);
        let Handoff::Consent { packet } = &chat.handoff else {
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
        assert!(chat.messages.iter().any(|m| matches!(&m.body, MessageBody::OfferPerson { reasons } if reasons.contains(&EscalationReason::ExplicitRequest))));
        assert!(
            chat.apply(Action::RequestPerson).is_empty(),
            "nothing is sent before consent"
        );
        let effects = chat.apply(Action::ConsentGiven {
            idempotency_key: "k1".into(),
        });
        let [Effect::SendEscalation(first)] = effects.as_slice() else {
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
        chat.apply(Action::Escalated(EscalationAccepted {
            conversation_id: "c".into(),
            customer_token: "t".into(),
            queue_position: 1,
            estimated_wait_seconds: 60,
        }));
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
        let effects = reloaded.apply(Action::Retry);
        let [Effect::SendEscalation(request)] = effects.as_slice() else {
            panic!("retry sends")
        };
        assert_eq!(request.idempotency_key, "k7");
    }

    #[test]
    fn each_answer_appears_once_in_the_handoff_transcript() {
        let mut chat = ready_chat();
        sent(&mut chat, "When will my new card arrive?");
        chat.apply(Action::RequestPerson);
        let Handoff::Consent { packet } = &chat.handoff else {
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
    fn ending_the_chat_forgets_it() {
        let mut chat = ready_chat();
        sent(&mut chat, "When will my new card arrive?");
        chat.apply(Action::EndChat);
        assert!(chat.messages.is_empty());
        assert!(chat.conversation.0.transcript().is_empty());
        assert_eq!(chat.handoff, Handoff::None);
    }

    #[test]
    fn toggling_opens_and_closes_and_tells_the_host() {
        let mut chat = ChatState::new("demo".into(), "en".into(), "v".into());
        assert_eq!(
            chat.apply(Action::Toggle),
            vec![Effect::Emit(HostEvent::Open), Effect::FocusInput]
        );
        assert_eq!(
            chat.apply(Action::Toggle),
            vec![Effect::Emit(HostEvent::Close)]
        );
        assert!(!chat.open);
    }
}
