//! What the widget says, per language.

use baton_protocol::EscalationReason;

/// Every string the widget shows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Strings {
    /// The panel's accessible name and title.
    pub title: &'static str,
    /// Subtitle under the title.
    pub subtitle: &'static str,
    /// The always-visible button to reach a person.
    pub talk_to_person: &'static str,
    /// The person button once a person has the conversation.
    pub person_on_the_way: &'static str,
    /// Button that forgets the conversation.
    pub end_chat: &'static str,
    /// Close button label.
    pub close: &'static str,
    /// Placeholder of the message box.
    pub placeholder: &'static str,
    /// Label of the message box.
    pub message_label: &'static str,
    /// Send button.
    pub send: &'static str,
    /// Greeting when no site greeting is set.
    pub greeting: &'static str,
    /// Shown while the model loads.
    pub loading: &'static str,
    /// Shown when the bot cannot answer.
    pub dont_know: &'static str,
    /// The question after an answer.
    pub did_this_help: &'static str,
    /// Yes.
    pub yes: &'static str,
    /// No, talk to a person.
    pub no_person: &'static str,
    /// Thanks after "yes".
    pub glad: &'static str,
    /// Lead-in of the offer of a person.
    pub offer_person: &'static str,
    /// Heading of the consent preview.
    pub consent_title: &'static str,
    /// Explanation of the consent preview.
    pub consent_body: &'static str,
    /// Consent button.
    pub consent_send: &'static str,
    /// Decline button.
    pub consent_cancel: &'static str,
    /// While sending.
    pub sending: &'static str,
    /// When sending failed.
    pub send_failed: &'static str,
    /// Retry button.
    pub retry: &'static str,
    /// Queue position, `{position}` replaced.
    pub queue_position: &'static str,
    /// Estimated wait, `{minutes}` replaced.
    pub queue_wait: &'static str,
    /// Label of the "Suggested questions" list.
    pub suggestions: &'static str,
    /// Caption of masked personal data.
    pub masked_note: &'static str,
}

/// English.
pub const EN: Strings = Strings {
    title: "Help",
    subtitle: "Instant answers · a person is always one tap away",
    talk_to_person: "Talk to a person",
    person_on_the_way: "A person is on the way",
    end_chat: "End chat",
    close: "Close chat",
    placeholder: "Ask a question…",
    message_label: "Your message",
    send: "Send",
    greeting: "Hi! Ask me anything about your order, card or payments. If you'd rather talk to a person, tap \"Talk to a person\" at any time.",
    loading: "Getting ready…",
    dont_know: "I'm not sure I can answer that well, and I'd rather not guess. A person can help.",
    did_this_help: "Did this answer your question?",
    yes: "Yes",
    no_person: "No, talk to a person",
    glad: "Glad that helped.",
    offer_person: "A person can help with this:",
    consent_title: "Send this to a person?",
    consent_body: "This is what they will see, so you don't have to repeat yourself. Personal details are masked.",
    consent_send: "Send to a person",
    consent_cancel: "Not now",
    sending: "Connecting you with a person…",
    send_failed: "We couldn't reach our team just now. Your conversation is safe here.",
    retry: "Try again",
    queue_position: "You're number {position} in line.",
    queue_wait: "Estimated wait: about {minutes} min. You can keep this page open or come back later.",
    suggestions: "Common questions",
    masked_note: "masked",
};

/// The plain words a customer reads for each reason a person was offered.
pub fn reason_text(reason: EscalationReason) -> &'static str {
    match reason {
        EscalationReason::ExplicitRequest => "You asked for a person.",
        EscalationReason::Frustration => "This seems frustrating, and a person can sort it out.",
        EscalationReason::SensitiveIntent => "This is something a person should handle.",
        EscalationReason::OutOfScope => "I'm not sure I can answer that well.",
        EscalationReason::RepeatedFailure => "My answers haven't helped so far.",
    }
}

/// The strings for a BCP 47 language tag (falls back to English).
pub fn strings_for(_language: &str) -> &'static Strings {
    &EN
}
