//! The shipped demo model (`data/demo/model.bin`) behaves as the widget expects.
#![allow(clippy::unwrap_used)]

use baton_protocol::EscalationReason;
use baton_triage::{Conversation, Engine, SmallTalk};

const MODEL: &[u8] = include_bytes!("../data/demo/model.bin");

fn engine() -> Engine {
    Engine::from_bytes(MODEL).unwrap()
}

fn reasons(text: &str) -> Vec<EscalationReason> {
    engine()
        .respond(&mut Conversation::new(), text, 0)
        .escalation
        .map(|e| e.reasons)
        .unwrap_or_default()
}

#[test]
fn loads_with_the_demo_site_and_all_intents() {
    let e = engine();
    assert_eq!(e.site_name(), "Larkspur");
    assert_eq!(e.kb_entries().len(), 88);
    assert!(e.kb_entry("card_arrival").is_some());
    assert_eq!(e.suggestions(4).len(), 4);
}

/// A customer tester typed "When will my card arrive?", the suggestion's own words, and
/// got another entry's answer than tapping the suggestion gives.
#[test]
fn a_suggestion_typed_as_it_reads_gets_the_answer_tapping_it_gives() {
    let e = engine();
    for entry in e.kb_entries() {
        let typed = entry.title.to_lowercase().replace('?', "");
        let t = e.respond(&mut Conversation::new(), &typed, 0);
        assert_eq!(
            t.answer.map(|a| a.intent).as_deref(),
            Some(entry.id.as_str()),
            "{typed}"
        );
    }
}

/// A probe of shoppers' messages: "WHERE IS MY ORDER", a suggestion's own words in
/// capitals, got its answer and nothing else, while "WHERE IS MY PARCEL" was heard as
/// angry.
#[test]
fn a_suggestion_typed_angrily_is_still_heard_as_angry() {
    for text in ["WHERE IS MY ORDER", "where is my order!!!"] {
        let t = engine().respond(&mut Conversation::new(), text, 0);
        assert_eq!(t.answer.map(|a| a.intent).as_deref(), Some("order_status"));
        let reasons = t.escalation.map(|e| e.reasons).unwrap_or_default();
        assert!(reasons.contains(&EscalationReason::Frustration), "{text}");
    }
    assert!(reasons("Where is my order?").is_empty());
}

#[test]
fn answers_a_plain_question_without_escalating() {
    let t = engine().respond(&mut Conversation::new(), "my card still hasn't arrived", 0);
    assert_eq!(t.answer.unwrap().intent, "card_arrival");
    assert!(t.escalation.is_none());
}

#[test]
fn explicit_requests_escalate() {
    for text in [
        "can I talk to someone",
        "agent pls",
        "HUMAN!!!",
        "I want a real person, not a bot",
    ] {
        assert!(
            reasons(text).contains(&EscalationReason::ExplicitRequest),
            "{text}"
        );
    }
}

#[test]
fn customers_writing_french_or_arabic_are_heard_though_the_model_is_english() {
    // The demo model answers English only; the reasons the chat gives (and the queue's
    // order: sensitive first, then frustrated) still come from what the customer said.
    for (text, reason) in [
        (
            "Je voudrais parler à un conseiller",
            EscalationReason::ExplicitRequest,
        ),
        ("أريد التحدث مع موظف", EscalationReason::ExplicitRequest),
        (
            "C'est inadmissible, j'en ai marre !",
            EscalationReason::Frustration,
        ),
        ("هذا غير مقبول", EscalationReason::Frustration),
        ("On m'a volé ma carte", EscalationReason::SensitiveIntent),
        ("بطاقتي مسروقة", EscalationReason::SensitiveIntent),
    ] {
        assert!(
            reasons(text).contains(&reason),
            "{text}: {:?}",
            reasons(text)
        );
    }
    // Any other question in those languages is offered a person, not guessed at.
    assert_eq!(
        reasons("Où en est mon remboursement ?"),
        [EscalationReason::OutOfScope]
    );
}

#[test]
fn lost_card_is_answered_and_sensitive() {
    let t = engine().respond(&mut Conversation::new(), "I think my card was stolen", 0);
    assert_eq!(t.answer.unwrap().intent, "lost_or_stolen_card");
    assert!(t
        .escalation
        .unwrap()
        .reasons
        .contains(&EscalationReason::SensitiveIntent));
}

#[test]
fn the_shops_own_questions_are_answered_and_suggested_first() {
    // Orders, delivery, returns and paying are not BANKING77 intents: the demo shop trains them
    // from its own examples (none of these phrasings is among them).
    for (text, intent) in [
        ("where is my order", "order_status"),
        ("cancel my order please", "change_order"),
        ("my lamp arrived broken", "damaged_or_wrong_item"),
        ("how does pay in 4 work", "pay_in_4"),
        ("when is my next payment due", "instalment_dates"),
        ("can i pay off my plan early", "manage_instalments"),
        ("i want to send my vase back", "return_item"),
        ("do you deliver to finland", "delivery_options"),
        ("what ways can i pay", "payment_methods"),
        ("i need an invoice for my company", "invoice"),
    ] {
        let t = engine().respond(&mut Conversation::new(), text, 0);
        assert_eq!(
            t.answer.map(|a| a.intent).as_deref(),
            Some(intent),
            "{text}"
        );
        assert!(t.escalation.is_none(), "{text}");
    }
    // Struggling to pay is answered, and a person is offered.
    let missed = "i missed an instalment";
    let t = engine().respond(&mut Conversation::new(), missed, 0);
    assert_eq!(t.answer.unwrap().intent, "late_instalment");
    assert!(reasons(missed).contains(&EscalationReason::SensitiveIntent));

    let titles: Vec<String> = engine()
        .suggestions(4)
        .into_iter()
        .map(|(_, title)| title)
        .collect();
    assert_eq!(
        titles,
        [
            "Where is my order?",
            "How does pay in 4 work?",
            "When is my next instalment?",
            "When will my card arrive?"
        ]
    );
}

#[test]
fn a_polite_question_gets_the_same_answer_as_a_plain_one() {
    // Greetings and thanks around a question are not evidence of another topic: before
    // they were left out, these were judged out of scope and offered a person instead.
    for (question, intent) in [
        (
            "I would like to know the status of my order no. 58213.",
            "order_status",
        ),
        ("my card still hasn't arrived", "card_arrival"),
        ("how do I top up by card?", "topping_up_by_card"),
    ] {
        let plain = engine().respond(&mut Conversation::new(), question, 0);
        assert_eq!(plain.answer.map(|a| a.intent).as_deref(), Some(intent));
        for polite in [
            format!("Good afternoon, {question} Thank you in advance."),
            format!("Dear Larkspur team, {question} Kind regards"),
            format!("Hi there! {question} Many thanks!"),
        ] {
            let t = engine().respond(&mut Conversation::new(), &polite, 0);
            assert_eq!(
                t.answer.map(|a| a.intent).as_deref(),
                Some(intent),
                "{polite}"
            );
            assert!(t.escalation.is_none(), "{polite}");
        }
    }
    // A message that is only courtesy is still small talk, answered in kind.
    let hello = engine().respond(&mut Conversation::new(), "Hi, thanks!", 0);
    assert!(hello.answer.is_none() && hello.escalation.is_none());
}

#[test]
fn off_topic_questions_are_out_of_scope() {
    let t = engine().respond(&mut Conversation::new(), "what is the weather in paris", 0);
    assert!(t.answer.is_none());
    assert!(t
        .escalation
        .unwrap()
        .reasons
        .contains(&EscalationReason::OutOfScope));
}

#[test]
fn card_numbers_never_reach_the_transcript() {
    let e = engine();
    let mut c = Conversation::new();
    e.respond(&mut c, "card 4111 1111 1111 1111 was declined", 0);
    let json = serde_json::to_string(&c.handoff_packet(&e, "en")).unwrap();
    assert!(!json.contains("4111 1111"));
}

#[test]
fn small_talk_gets_a_reply_in_kind_not_an_offer_of_a_person() {
    let e = engine();
    let mut c = Conversation::new();
    e.respond(&mut c, "When will my card arrive?", 0);
    for (text, kind) in [
        ("thanks, that helped!", SmallTalk::Thanks),
        ("hi", SmallTalk::Greeting),
        ("what can you do?", SmallTalk::Capabilities),
        ("bye", SmallTalk::Goodbye),
    ] {
        let t = e.respond(&mut c, text, 1);
        assert_eq!(t.small_talk, Some(kind), "{text}");
        assert!(t.answer.is_none() && t.escalation.is_none(), "{text}");
    }
    // The agent's transcript shows what the bot said back.
    let packet = c.handoff_packet(&e, "en");
    assert!(packet
        .transcript
        .iter()
        .any(|entry| entry.text == SmallTalk::Thanks.reply()));
    // A question in a friendly wrapper is still a question.
    let t = e.respond(
        &mut Conversation::new(),
        "hi, my card still hasn't arrived",
        0,
    );
    assert_eq!(t.answer.unwrap().intent, "card_arrival");
    assert_eq!(t.small_talk, None);
}

#[test]
fn a_question_picked_from_the_bots_list_answers_its_own_entry() {
    let e = engine();
    for entry in e.kb_entries() {
        let mut c = Conversation::new();
        let t = e.respond_to_choice(&mut c, &entry.id, 0).unwrap();
        assert_eq!(t.answer.unwrap().intent, entry.id);
        assert_eq!(t.redacted.text, entry.title);
        // A sensitive entry still offers a person beside its first step.
        assert_eq!(t.escalation.is_some(), entry.sensitive, "{}", entry.id);
    }
    // Classifying a title can land on a near-synonym ("When will my card arrive?" is
    // also how people ask for a delivery estimate); picking it cannot.
    assert!(e
        .respond_to_choice(&mut Conversation::new(), "no_such_intent", 0)
        .is_none());
}

#[test]
fn an_unsure_answer_comes_with_alternatives_a_sure_one_without() {
    let e = engine();
    // "my card" could be many things: the answer is a guess.
    let t = e.respond(&mut Conversation::new(), "my card", 0);
    let answer = t.answer.unwrap();
    assert!(t.intent.unwrap().confidence < 0.7);
    assert!(
        (1..=2).contains(&t.alternatives.len()),
        "{:?}",
        t.alternatives
    );
    for alternative in &t.alternatives {
        assert_ne!(alternative.intent, answer.intent);
        assert!(alternative.confidence >= 0.1);
        assert!(e.kb_entry(&alternative.intent).is_some());
    }
    let t = e.respond(&mut Conversation::new(), "I think my card was stolen", 0);
    assert!(t.intent.unwrap().confidence >= 0.7);
    assert!(t.alternatives.is_empty());
    // No answer, no alternatives.
    let t = e.respond(&mut Conversation::new(), "what is the weather in paris", 0);
    assert!(t.answer.is_none() && t.alternatives.is_empty());
}

#[test]
fn a_bare_no_after_an_answer_means_it_did_not_help() {
    let e = engine();
    let reasons = |c: &mut Conversation, text: &str| {
        e.respond(c, text, 0)
            .escalation
            .map(|x| x.reasons)
            .unwrap_or_default()
    };
    let mut c = Conversation::new();
    e.respond(&mut c, "When will my new card arrive?", 0);
    assert_eq!(reasons(&mut c, "nope"), [EscalationReason::RepeatedFailure]);
    // Out of the blue, "no" is just not a question the bot can answer.
    assert_eq!(
        reasons(&mut Conversation::new(), "no"),
        [EscalationReason::OutOfScope]
    );
}

/// French and Arabic customers got confident English answers from the words their
/// questions share with English ("PIN", "Apple Pay"), or to other questions: 16 of the
/// 240 messages in other languages of `other-languages.csv` (written by the project),
/// and none of its English ones may be taken for another language.
#[cfg(feature = "train")]
#[test]
fn the_english_demo_model_does_not_answer_other_languages() {
    let e = engine();
    assert_eq!(e.language(), "en");
    let rows = baton_triage::train::read_language_rows(
        "other-languages.csv",
        include_str!("../data/demo/other-languages.csv"),
    )
    .unwrap();
    let (mut english, mut other, mut answered_other) = (0, 0, 0);
    let mut recognised = std::collections::BTreeMap::<&str, usize>::new();
    for row in &rows {
        let t = e.respond(&mut Conversation::new(), &row.text, 0);
        if row.label == "en" {
            english += 1;
            assert!(!t.in_other_language, "line {} is English", row.line);
        } else {
            other += 1;
            answered_other += usize::from(t.answer.is_some());
            *recognised.entry(&row.label).or_default() += usize::from(t.in_other_language);
        }
    }
    assert_eq!((english, other), (160, 240));
    assert!(
        answered_other <= 3,
        "{answered_other} of {other} answered in English"
    );
    // Every Arabic message; French ones but for greetings, thanks and single words.
    assert_eq!(recognised["ar"], 80);
    assert!(
        recognised["fr"] >= 110,
        "{} of 120 French",
        recognised["fr"]
    );
}
