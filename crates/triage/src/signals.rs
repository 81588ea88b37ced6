//! Cue-based detectors that do not depend on the site: asking for a person,
//! frustration, sentiment, "that did not help" and small talk.
//!
//! They work on the normalised words of a message (see [`crate::features::normalize`])
//! plus a few surface cues (capitals, repeated `!`/`?`) read from the raw text.

/// Surface and lexical signals of one customer message.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub(crate) struct Signals {
    /// The customer asked for a person.
    pub(crate) explicit_request: bool,
    /// Anger, distress or sarcasm, in `0.0..=1.0`.
    pub(crate) frustration: f32,
    /// From -1.0 (upset) to 1.0 (happy).
    pub(crate) sentiment: f32,
    /// The customer said the previous answer did not help.
    pub(crate) not_helped: bool,
    /// The whole message is a bare "no" ("nope", "not really"): after an answer, the
    /// reply to "Did this answer your question?".
    pub(crate) bare_no: bool,
    /// Words of a topic that always deserves a person: fraud, theft, being locked
    /// out, hardship, bereavement, complaints.
    pub(crate) sensitive_topic: bool,
    /// The whole message is a greeting, thanks, goodbye, "ok" or "what can you do":
    /// no question for the knowledge base, and nothing a person is needed for.
    pub(crate) small_talk: Option<SmallTalk>,
}

/// A message that is only conversation: the bot replies in kind instead of saying it
/// cannot answer, and offers no person for it.
///
/// Declared in order of precedence: a message that marks several kinds ("ok thanks,
/// bye") is the first of them (`Ord`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum SmallTalk {
    /// "thanks", "thank you so much", "great, that helped".
    Thanks,
    /// "bye", "that's all, goodbye".
    Goodbye,
    /// "hi", "good morning", "hello there".
    Greeting,
    /// "help", "what can you do?", "how does this work".
    Capabilities,
    /// "ok", "yes", "got it".
    Acknowledgement,
}

impl SmallTalk {
    /// The bot's reply in English, as the transcript an agent reads records it (the
    /// widget shows the same words in English, its own translation otherwise).
    pub const fn reply(self) -> &'static str {
        match self {
            SmallTalk::Greeting => "Hi! What can I help you with?",
            SmallTalk::Thanks => "You're welcome! Is there anything else I can help with?",
            SmallTalk::Goodbye => "Thanks for chatting. Goodbye!",
            SmallTalk::Capabilities => {
                "I answer common questions straight away, and a person is one tap away for \
                 anything else. What would you like to know?"
            }
            SmallTalk::Acknowledgement => "Anything else I can help with?",
        }
    }
}

/// Most words a message of small talk has ("thank you so much for your help").
const SMALL_TALK_MAX_WORDS: usize = 8;
/// Words of small talk, each with the kind it marks (`None`: it marks none on its own,
/// like "so" or "you"). A message is small talk when every word is here; its kind is
/// the first, in [`SmallTalk`]'s order, that a word marks.
const SMALL_TALK_WORDS: &[(&str, Option<SmallTalk>)] = &[
    ("hi", Some(SmallTalk::Greeting)),
    ("hii", Some(SmallTalk::Greeting)),
    ("hello", Some(SmallTalk::Greeting)),
    ("hey", Some(SmallTalk::Greeting)),
    ("heya", Some(SmallTalk::Greeting)),
    ("hiya", Some(SmallTalk::Greeting)),
    ("howdy", Some(SmallTalk::Greeting)),
    ("greetings", Some(SmallTalk::Greeting)),
    ("morning", Some(SmallTalk::Greeting)),
    ("afternoon", Some(SmallTalk::Greeting)),
    ("evening", Some(SmallTalk::Greeting)),
    ("bonjour", Some(SmallTalk::Greeting)),
    ("bonsoir", Some(SmallTalk::Greeting)),
    ("salut", Some(SmallTalk::Greeting)),
    ("hola", Some(SmallTalk::Greeting)),
    ("مرحبا", Some(SmallTalk::Greeting)),
    ("thanks", Some(SmallTalk::Thanks)),
    ("thank", Some(SmallTalk::Thanks)),
    ("thankyou", Some(SmallTalk::Thanks)),
    ("thx", Some(SmallTalk::Thanks)),
    ("ty", Some(SmallTalk::Thanks)),
    ("cheers", Some(SmallTalk::Thanks)),
    ("appreciated", Some(SmallTalk::Thanks)),
    ("appreciate", Some(SmallTalk::Thanks)),
    ("helped", Some(SmallTalk::Thanks)),
    ("merci", Some(SmallTalk::Thanks)),
    ("gracias", Some(SmallTalk::Thanks)),
    ("شكرا", Some(SmallTalk::Thanks)),
    ("bye", Some(SmallTalk::Goodbye)),
    ("goodbye", Some(SmallTalk::Goodbye)),
    ("byebye", Some(SmallTalk::Goodbye)),
    ("cya", Some(SmallTalk::Goodbye)),
    ("later", Some(SmallTalk::Goodbye)),
    ("revoir", Some(SmallTalk::Goodbye)),
    ("help", Some(SmallTalk::Capabilities)),
    ("ok", Some(SmallTalk::Acknowledgement)),
    ("okay", Some(SmallTalk::Acknowledgement)),
    ("k", Some(SmallTalk::Acknowledgement)),
    ("alright", Some(SmallTalk::Acknowledgement)),
    ("cool", Some(SmallTalk::Acknowledgement)),
    ("yes", Some(SmallTalk::Acknowledgement)),
    ("yeah", Some(SmallTalk::Acknowledgement)),
    ("yep", Some(SmallTalk::Acknowledgement)),
    ("yup", Some(SmallTalk::Acknowledgement)),
    ("sure", Some(SmallTalk::Acknowledgement)),
    ("understood", Some(SmallTalk::Acknowledgement)),
    ("noted", Some(SmallTalk::Acknowledgement)),
    ("got", Some(SmallTalk::Acknowledgement)),
    ("great", Some(SmallTalk::Acknowledgement)),
    ("perfect", Some(SmallTalk::Acknowledgement)),
    ("awesome", Some(SmallTalk::Acknowledgement)),
    ("brilliant", Some(SmallTalk::Acknowledgement)),
    ("excellent", Some(SmallTalk::Acknowledgement)),
    ("lovely", Some(SmallTalk::Acknowledgement)),
    ("nice", Some(SmallTalk::Acknowledgement)),
    ("fine", Some(SmallTalk::Acknowledgement)),
    ("good", None),
    ("there", None),
    ("you", None),
    ("u", None),
    ("so", None),
    ("much", None),
    ("very", None),
    ("a", None),
    ("lot", None),
    ("lots", None),
    ("again", None),
    ("for", None),
    ("your", None),
    ("the", None),
    ("that", None),
    ("thats", None),
    ("it", None),
    ("this", None),
    ("was", None),
    ("is", None),
    ("all", None),
    ("i", None),
    ("im", None),
    ("am", None),
    ("have", None),
    ("day", None),
    ("see", None),
    ("oh", None),
    ("and", None),
    ("bot", None),
    ("mate", None),
    ("beaucoup", None),
    ("au", None),
    ("need", None),
    ("me", None),
    ("some", None),
    ("please", None),
    ("pls", None),
    ("what", None),
    ("can", None),
    ("do", None),
    ("does", None),
    ("how", None),
    ("who", None),
    ("are", None),
    ("work", None),
];
/// Phrases that ask what the bot can do, though none of their words says so alone.
const CAPABILITY_PHRASES: &[&[&str]] = &[
    &["what", "can", "you", "do"],
    &["what", "do", "you", "do"],
    &["who", "are", "you"],
    &["how", "does", "this", "work"],
    &["how", "does", "it", "work"],
];

/// Words that on their own name a person to talk to.
const PERSON_STRONG: &[&str] = &[
    "human",
    "humans",
    "agent",
    "agents",
    "representative",
    "representatives",
    "operator",
    "advisor",
    "adviser",
    "rep",
    "staff",
    "manager",
    "supervisor",
    "employee",
    "worker",
];
/// Words that name a person only together with a contact verb.
const PERSON_WEAK: &[&str] = &[
    "person", "someone", "somebody", "anyone", "anybody", "people", "support", "service", "team",
    "helpdesk",
];
/// Verbs of making contact.
const CONTACT_VERBS: &[&str] = &[
    "talk", "speak", "chat", "call", "phone", "ring", "contact", "connect", "reach", "escalate",
    "callback",
];
/// Two-word phrases that ask for a person however they are used.
const PERSON_PHRASES: &[(&str, &str)] = &[
    ("real", "person"),
    ("live", "person"),
    ("actual", "person"),
    ("real", "human"),
    ("live", "chat"),
    ("customer", "service"),
    ("customer", "support"),
    ("customer", "care"),
    ("not", "bot"),
    ("call", "me"),
    ("phone", "me"),
    ("ring", "me"),
    ("call", "back"),
    ("put", "through"),
    ("a", "robot"),
];

/// Anger and distress cues with weights.
const FRUSTRATION_WORDS: &[(&str, f32)] = &[
    ("ridiculous", 0.8),
    ("useless", 0.8),
    ("terrible", 0.7),
    ("awful", 0.7),
    ("horrible", 0.7),
    ("worst", 0.8),
    ("unacceptable", 0.8),
    ("disgusting", 0.8),
    ("disgraceful", 0.8),
    ("pathetic", 0.8),
    ("incompetent", 0.8),
    ("joke", 0.5),
    ("scam", 0.6),
    ("furious", 0.9),
    ("angry", 0.8),
    ("annoyed", 0.7),
    ("annoying", 0.7),
    ("frustrated", 0.8),
    ("frustrating", 0.8),
    ("livid", 0.9),
    ("outraged", 0.9),
    ("hate", 0.7),
    ("stupid", 0.7),
    ("idiot", 0.8),
    ("idiots", 0.8),
    ("wtf", 0.8),
    ("damn", 0.6),
    ("dammit", 0.7),
    ("crap", 0.7),
    ("shit", 0.8),
    ("fuck", 0.9),
    ("fucking", 0.9),
    ("bloody", 0.5),
    ("seriously", 0.5),
    ("unbelievable", 0.6),
    ("desperate", 0.7),
    ("panic", 0.6),
    ("panicking", 0.7),
    ("scared", 0.6),
    ("worried", 0.4),
    ("upset", 0.7),
    ("crying", 0.8),
    ("nightmare", 0.7),
    ("disappointed", 0.6),
    ("sick", 0.4),
    ("fed", 0.3),
    ("rubbish", 0.7),
    ("hopeless", 0.7),
    ("pointless", 0.7),
    ("waste", 0.5),
    ("again", 0.2),
    ("still", 0.2),
    ("ages", 0.3),
    ("forever", 0.3),
];

/// Phrases of frustration and sarcasm.
const FRUSTRATION_PHRASES: &[(&str, &str, f32)] = &[
    ("fed", "up", 0.8),
    ("sick", "of", 0.7),
    ("thanks", "for", 0.3),
    ("for", "nothing", 0.6),
    ("yeah", "right", 0.8),
    ("oh", "great", 0.6),
    ("great", "job", 0.4),
    ("so", "helpful", 0.4),
    ("very", "helpful", 0.3),
    ("what", "a", 0.3),
    ("are", "you", 0.2),
    ("you", "kidding", 0.7),
    ("waste", "of", 0.5),
    ("no", "help", 0.6),
    ("right", "now", 0.4),
    ("last", "time", 0.3),
    ("this", "is", 0.1),
];

const POSITIVE_WORDS: &[&str] = &[
    "thanks",
    "thank",
    "great",
    "perfect",
    "awesome",
    "love",
    "excellent",
    "brilliant",
    "helpful",
    "cheers",
    "nice",
    "good",
    "happy",
    "wonderful",
];

/// Words that on their own mark a sensitive topic.
const SENSITIVE_WORDS: &[&str] = &[
    "fraud",
    "fraudulent",
    "fraudster",
    "scam",
    "scammed",
    "scammer",
    "stolen",
    "stole",
    "hacked",
    "hacker",
    "unauthorised",
    "unauthorized",
    "bereavement",
    "died",
    "deceased",
    "funeral",
    "hardship",
    "bankrupt",
    "bankruptcy",
    "debt",
    "debts",
    "complaint",
    "complain",
    "ombudsman",
    "lawyer",
    "solicitor",
    "harassed",
    "abuse",
    "suicide",
];

/// Phrases that mark a sensitive topic.
const SENSITIVE_PHRASES: &[&[&str]] = &[
    &["passed", "away"],
    &["locked", "out"],
    &["cant", "log"],
    &["cant", "afford"],
    &["cant", "pay"],
    &["not", "me"],
    &["wasnt", "me"],
    &["didnt", "make"],
    &["dont", "recognise"],
    &["dont", "recognize"],
    &["do", "not", "recognise"],
    &["do", "not", "recognize"],
    &["someone", "used"],
    &["someone", "else"],
    &["lost", "my", "job"],
    &["identity", "theft"],
];

/// Phrases saying the last answer did not help.
const NOT_HELPED: &[&[&str]] = &[
    &["didnt", "help"],
    &["doesnt", "help"],
    &["not", "help"],
    &["not", "helpful"],
    &["unhelpful"],
    &["no", "help"],
    &["not", "what", "i"],
    &["didnt", "answer"],
    &["doesnt", "answer"],
    &["not", "answer"],
    &["already", "said"],
    &["already", "told"],
    &["same", "answer"],
    &["you", "already"],
    &["that", "didnt"],
    &["wrong", "answer"],
    &["not", "my", "question"],
    &["still", "dont", "understand"],
];

/// Whole messages that only say no.
const BARE_NO: &[&[&str]] = &[
    &["no"],
    &["nope"],
    &["nah"],
    &["not", "really"],
    &["no", "not", "really"],
    &["no", "it", "didnt"],
    &["it", "didnt"],
    &["no", "it", "did", "not"],
];

fn contains_seq(words: &[&str], seq: &[&str]) -> bool {
    !seq.is_empty() && words.windows(seq.len()).any(|w| w == seq)
}

/// Reads the signals of one message.
pub(crate) fn read_signals(raw: &str, normalized: &str) -> Signals {
    let words: Vec<&str> = normalized.split(' ').filter(|w| !w.is_empty()).collect();
    let has = |w: &str| words.contains(&w);
    // A phrase is only looked for when its first word occurs.
    let contains_seq = |words: &[&str], seq: &[&str]| {
        seq.first().is_some_and(|f| has(f)) && contains_seq(words, seq)
    };

    let strong = PERSON_STRONG.iter().any(|w| has(w));
    let weak = PERSON_WEAK.iter().any(|w| has(w));
    let verb = CONTACT_VERBS.iter().any(|w| has(w));
    let phrase = PERSON_PHRASES
        .iter()
        .any(|(a, b)| contains_seq(&words, &[a, b]));
    let anti_bot = (has("bot") && (has("not") || has("no") || has("stop")))
        || contains_seq(&words, &["with", "a", "machine"])
        || contains_seq(&words, &["to", "a", "machine"]);
    let explicit_request = strong || phrase || (weak && verb) || anti_bot;

    let mut frustration = 0f32;
    for &(w, s) in FRUSTRATION_WORDS {
        if has(w) {
            frustration += s;
        }
    }
    for &(a, b, s) in FRUSTRATION_PHRASES {
        if contains_seq(&words, &[a, b]) {
            frustration += s;
        }
    }
    let letters: Vec<char> = raw.chars().filter(|c| c.is_alphabetic()).collect();
    let upper = letters.iter().filter(|c| c.is_uppercase()).count();
    if letters.len() >= 5 && upper * 10 >= letters.len() * 8 {
        frustration += if letters.len() >= 10 { 0.8 } else { 0.5 };
    }
    let bangs = longest_run(raw, &['!']);
    let marks = longest_run(raw, &['?', '!']);
    if bangs >= 2 || marks >= 3 {
        frustration += 0.6;
    }
    let frustration = frustration.min(1.0);

    let positive = POSITIVE_WORDS.iter().filter(|w| has(w)).count() as f32 * 0.4;
    let sentiment = (positive - frustration).clamp(-1.0, 1.0);

    let not_helped = NOT_HELPED.iter().any(|seq| contains_seq(&words, seq));
    let sensitive_topic = SENSITIVE_WORDS.iter().any(|w| has(w))
        || SENSITIVE_PHRASES
            .iter()
            .any(|seq| contains_seq(&words, seq));
    let needs_more_than_a_reply =
        explicit_request || frustration >= 0.5 || not_helped || sensitive_topic;
    Signals {
        explicit_request,
        frustration,
        sentiment,
        not_helped,
        bare_no: BARE_NO.contains(&words.as_slice()),
        sensitive_topic,
        small_talk: if needs_more_than_a_reply {
            None
        } else {
            small_talk(&words)
        },
    }
}

/// What kind of small talk `words` are, if they are nothing else (see
/// [`SMALL_TALK_WORDS`]).
fn small_talk(words: &[&str]) -> Option<SmallTalk> {
    if words.is_empty() || words.len() > SMALL_TALK_MAX_WORDS {
        return None;
    }
    // Every word must be small talk; the words that mark a kind say which.
    let marks: Vec<Option<SmallTalk>> = words
        .iter()
        .map(|word| {
            SMALL_TALK_WORDS
                .iter()
                .find(|(w, _)| w == word)
                .map(|&(_, kind)| kind)
        })
        .collect::<Option<_>>()?;
    let asks_what_the_bot_does = CAPABILITY_PHRASES
        .iter()
        .any(|seq| contains_seq(words, seq));
    marks
        .into_iter()
        .flatten()
        .chain(asks_what_the_bot_does.then_some(SmallTalk::Capabilities))
        .min()
}

fn longest_run(text: &str, set: &[char]) -> usize {
    let mut best = 0;
    let mut run = 0;
    for c in text.chars() {
        if set.contains(&c) {
            run += 1;
            best = best.max(run);
        } else if !c.is_whitespace() {
            run = 0;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::normalize;

    fn sig(t: &str) -> Signals {
        read_signals(t, &normalize(t))
    }

    #[test]
    fn explicit_requests_in_many_phrasings() {
        for t in [
            "can I talk to someone",
            "agent pls",
            "HUMAN!!!",
            "I want a real person, not a bot",
            "let me speak with customer service",
            "please connect me to a representative",
            "can someone call me",
        ] {
            assert!(sig(t).explicit_request, "{t}");
        }
        for t in [
            "my card has not arrived",
            "someone stole my card",
            "what is the exchange rate",
            "how do I top up",
        ] {
            assert!(!sig(t).explicit_request, "{t}");
        }
    }

    #[test]
    fn frustration_cues() {
        for t in [
            "this is ridiculous",
            "WHY IS MY CARD NOT WORKING",
            "where is my money???",
            "thanks for nothing",
            "I am so fed up with this",
        ] {
            assert!(sig(t).frustration >= 0.5, "{t}");
            assert!(sig(t).sentiment < 0.0, "{t}");
        }
        for t in ["where is my card?", "how do I activate my card", "ATM fees"] {
            assert!(sig(t).frustration < 0.5, "{t}");
        }
        assert!(sig("thanks, that was great").sentiment > 0.0);
    }

    #[test]
    fn sensitive_topics() {
        for t in [
            "my husband passed away, what happens to his account",
            "I'm locked out of my account",
            "I can't afford my repayments",
            "I want to make a complaint",
            "there's a payment that wasn't me",
        ] {
            assert!(sig(t).sensitive_topic, "{t}");
        }
        for t in ["how do I top up", "what is the exchange rate"] {
            assert!(!sig(t).sensitive_topic, "{t}");
        }
    }

    #[test]
    fn small_talk_is_recognised_and_never_hides_a_need() {
        for (text, kind) in [
            ("hi", SmallTalk::Greeting),
            ("Hello there!", SmallTalk::Greeting),
            ("good morning", SmallTalk::Greeting),
            ("thanks!", SmallTalk::Thanks),
            ("thank you so much for your help", SmallTalk::Thanks),
            ("great, that helped", SmallTalk::Thanks),
            ("ok thanks, bye", SmallTalk::Thanks),
            ("bye", SmallTalk::Goodbye),
            ("see you later", SmallTalk::Goodbye),
            ("help", SmallTalk::Capabilities),
            ("I need some help please", SmallTalk::Capabilities),
            ("What can you do?", SmallTalk::Capabilities),
            ("how does this work", SmallTalk::Capabilities),
            ("ok", SmallTalk::Acknowledgement),
            ("yes, got it", SmallTalk::Acknowledgement),
            ("merci beaucoup", SmallTalk::Thanks),
        ] {
            assert_eq!(sig(text).small_talk, Some(kind), "{text}");
        }
        for text in [
            // A question, however friendly.
            "hi, my card hasn't arrived",
            "thanks, and how do I top up?",
            "help me activate my card",
            "what can you do about my refund",
            // A need a person is for.
            "hi, can I talk to a human",
            "thanks for nothing",
            "that didn't help, thanks",
            "hello, I think I was scammed",
            "OK THANKS!!!",
            // Not small talk at all.
            "no",
            "",
            "you you you you you you you you you",
        ] {
            assert_eq!(sig(text).small_talk, None, "{text}");
        }
    }

    #[test]
    fn not_helped_phrases() {
        assert!(sig("Nope.").bare_no && sig("not really").bare_no);
        assert!(!sig("no card arrived").bare_no);
        assert!(sig("that didn't help").not_helped);
        assert!(sig("That's not what I asked").not_helped);
        assert!(!sig("help me activate my card").not_helped);
    }
}
