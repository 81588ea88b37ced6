//! Cue-based detectors that do not depend on the site: asking for a person,
//! frustration, sentiment and "that did not help".
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
    /// Words of a topic that always deserves a person: fraud, theft, being locked
    /// out, hardship, bereavement, complaints.
    pub(crate) sensitive_topic: bool,
}

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
    Signals {
        explicit_request,
        frustration,
        sentiment,
        not_helped,
        sensitive_topic,
    }
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
    fn not_helped_phrases() {
        assert!(sig("that didn't help").not_helped);
        assert!(sig("That's not what I asked").not_helped);
        assert!(!sig("help me activate my card").not_helped);
    }
}
