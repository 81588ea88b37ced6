//! Text normalisation and hashed n-gram features, shared by training and inference.
//!
//! Invariant: the trainer and the engine call exactly this code with the
//! [`FeatureConfig`] stored in the model file, so a model always sees the features it
//! was trained on. One step is the engine's alone: it classifies a message without the
//! courtesies around it ([`without_courtesies`]), while the trainer learns from the
//! examples as written (training on them stripped too was measured: the same within
//! noise, see BENCHMARKS.md). Hashing is FNV-1a (64-bit), stable across platforms.

/// Which features to extract and how many hash buckets they fall into.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct FeatureConfig {
    /// log2 of the number of hash buckets.
    pub(crate) buckets_log2: u8,
    /// Weight of word unigrams (0 disables them).
    pub(crate) word_weight: f32,
    /// Weight of word bigrams (0 disables them).
    pub(crate) bigram_weight: f32,
    /// Weight of character n-grams (0 disables them).
    pub(crate) char_weight: f32,
    /// Shortest character n-gram.
    pub(crate) char_min: u8,
    /// Longest character n-gram.
    pub(crate) char_max: u8,
    /// Signed hashing: each feature gets a sign from its hash, so bucket collisions
    /// cancel out on average instead of adding up.
    pub(crate) signed: bool,
}

impl Default for FeatureConfig {
    fn default() -> Self {
        FeatureConfig {
            buckets_log2: 18,
            word_weight: 1.0,
            bigram_weight: 1.0,
            char_weight: 0.5,
            char_min: 3,
            char_max: 5,
            signed: false,
        }
    }
}

/// Lowercases, turns digits into `0`, drops apostrophes and turns everything else
/// that is not a letter or digit into single spaces.
pub(crate) fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for c in text.chars() {
        if c == '\'' || c == '\u{2019}' {
            continue;
        }
        if c.is_alphanumeric() {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            if c.is_numeric() {
                out.push('0');
            } else if c.is_ascii() {
                out.push(c.to_ascii_lowercase());
            } else {
                out.extend(c.to_lowercase());
            }
        } else {
            pending_space = true;
        }
    }
    out
}

/// Greetings that open a message, normalised, longest first where one starts another.
const OPENINGS: &[&str] = &[
    "hi there",
    "hello there",
    "hey there",
    "hi",
    "hello",
    "hey",
    "hiya",
    "good morning",
    "good afternoon",
    "good evening",
    "good day",
    "greetings",
    "dear sir or madam",
    "dear sir",
    "dear madam",
    "bonjour",
    "salut",
    "bonsoir",
];
/// Words that end an opening "dear … team" (at most three words after "dear").
const ADDRESSEES: &[&str] = &["team", "support", "customer service", "all"];
/// Thanks and sign-offs that close a message, normalised, longest first where one ends
/// another.
const CLOSINGS: &[&str] = &[
    "thanks in advance",
    "thank you in advance",
    "thanks a lot",
    "thanks so much",
    "thank you so much",
    "thank you very much",
    "many thanks",
    "thank you",
    "thanks",
    "thx",
    "cheers",
    "kind regards",
    "best regards",
    "warm regards",
    "regards",
    "best wishes",
    "merci davance",
    "merci beaucoup",
    "merci",
    "cordialement",
];

/// The part of a normalised message that says what it is about, without the courtesies
/// around it: greetings and "dear … team" before, thanks and sign-offs after. They say
/// nothing about the intent, and, being rare in the training data, they pulled polite
/// questions out of scope ("good afternoon, … the status of my order … thank you in
/// advance"). A message that is nothing but courtesy is kept whole (small talk).
pub(crate) fn without_courtesies(normalized: &str) -> &str {
    let mut text = normalized;
    loop {
        let before = text.len();
        for opening in OPENINGS {
            text = strip_words_prefix(text, opening);
        }
        text = strip_dear_addressee(text);
        for closing in CLOSINGS {
            text = strip_words_suffix(text, closing);
        }
        if text.len() == before {
            break;
        }
    }
    if text.is_empty() {
        normalized
    } else {
        text
    }
}

/// `text` without `phrase` and the space after it, when `text` starts with it as
/// whole words.
fn strip_words_prefix<'a>(text: &'a str, phrase: &str) -> &'a str {
    match text.strip_prefix(phrase) {
        Some("") => "",
        Some(rest) => rest.strip_prefix(' ').unwrap_or(text),
        None => text,
    }
}

/// `text` without `phrase` and the space before it, when `text` ends with it as whole
/// words.
fn strip_words_suffix<'a>(text: &'a str, phrase: &str) -> &'a str {
    match text.strip_suffix(phrase) {
        Some("") => "",
        Some(rest) => rest.strip_suffix(' ').unwrap_or(text),
        None => text,
    }
}

/// `text` without an opening "dear larkspur team", "dear support" and the like (the
/// addressee ends within four words of "dear").
fn strip_dear_addressee(text: &str) -> &str {
    let Some(rest) = text.strip_prefix("dear ") else {
        return text;
    };
    // The ends of the first four words, as byte offsets into `rest`.
    let word_ends = rest
        .match_indices(' ')
        .map(|(at, _)| at)
        .chain([rest.len()])
        .take(4);
    for end in word_ends {
        let head = &rest[..end];
        let addressed = ADDRESSEES.iter().any(|addressee| {
            head.strip_suffix(addressee)
                .is_some_and(|before| before.is_empty() || before.ends_with(' '))
        });
        if addressed {
            return rest[end..].trim_start_matches(' ');
        }
    }
    text
}

/// 64-bit FNV-1a's offset basis and prime (feature hashing, and the model file's checksum).
pub(crate) const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
pub(crate) const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

fn fnv(mut h: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(FNV_PRIME);
    }
    h
}

/// A word's 32-bit hash, for looking words up (not for features).
pub(crate) fn hash_word(word: &str) -> u32 {
    fnv(FNV_OFFSET, word.as_bytes()) as u32
}

fn bucket(h: u64, mask: u32) -> u32 {
    ((h ^ (h >> 29)) as u32) & mask
}

/// The feature's sign under signed hashing (from a hash bit the bucket does not use).
fn sign(h: u64) -> f32 {
    if h >> 63 == 1 {
        -1.0
    } else {
        1.0
    }
}

/// A sparse, L2-normalised feature vector: sorted unique buckets with values.
pub(crate) type Features = Vec<(u32, f32)>;

/// Extracts hashed features from already-normalised text.
pub(crate) fn extract(config: &FeatureConfig, normalized: &str) -> Features {
    let mask = (1u32 << config.buckets_log2.min(31)) - 1;
    let signed = |h: u64| if config.signed { sign(h) } else { 1.0 };
    // Each feature packed as bucket << 32 | value bits: a plain integer sort orders by
    // bucket, then (for equal buckets) deterministically by value.
    let mut raw: Vec<u64> = Vec::new();
    let pack = |b: u32, v: f32| (u64::from(b) << 32) | u64::from(v.to_bits());
    let words: Vec<&str> = normalized.split(' ').filter(|w| !w.is_empty()).collect();
    if config.word_weight > 0.0 {
        for w in &words {
            let h = fnv(fnv(FNV_OFFSET, b"w"), w.as_bytes());
            raw.push(pack(bucket(h, mask), signed(h) * config.word_weight));
        }
    }
    if config.bigram_weight > 0.0 {
        let padded = std::iter::once("<s>")
            .chain(words.iter().copied())
            .chain(std::iter::once("</s>"));
        let mut prev: Option<&str> = None;
        for w in padded {
            if let Some(p) = prev {
                let h = fnv(
                    fnv(fnv(fnv(FNV_OFFSET, b"b"), p.as_bytes()), b" "),
                    w.as_bytes(),
                );
                raw.push(pack(bucket(h, mask), signed(h) * config.bigram_weight));
            }
            prev = Some(w);
        }
    }
    if config.char_weight > 0.0 && config.char_min > 0 {
        let mut padded = String::with_capacity(normalized.len() + 2);
        padded.push(' ');
        padded.push_str(normalized);
        padded.push(' ');
        let starts: Vec<usize> = padded
            .char_indices()
            .map(|(i, _)| i)
            .chain(std::iter::once(padded.len()))
            .collect();
        let chars = starts.len() - 1;
        for n in usize::from(config.char_min)..=usize::from(config.char_max) {
            if n > chars {
                break;
            }
            let tag = [b'c', n as u8];
            for s in 0..=chars - n {
                let gram = &padded.as_bytes()[starts[s]..starts[s + n]];
                let h = fnv(fnv(FNV_OFFSET, &tag), gram);
                raw.push(pack(bucket(h, mask), signed(h) * config.char_weight));
            }
        }
    }
    raw.sort_unstable();
    let mut out: Features = Vec::with_capacity(raw.len());
    for packed in raw {
        let (b, v) = ((packed >> 32) as u32, f32::from_bits(packed as u32));
        match out.last_mut() {
            Some(last) if last.0 == b => last.1 += v,
            _ => out.push((b, v)),
        }
    }
    out.retain(|&(_, v)| v != 0.0);
    let norm = out.iter().map(|&(_, v)| v * v).sum::<f32>().sqrt();
    if norm > 0.0 {
        for f in &mut out {
            f.1 /= norm;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_folds_case_digits_and_punctuation() {
        assert_eq!(
            normalize("  Where's MY card?? 2 weeks!"),
            "wheres my card 0 weeks"
        );
        assert_eq!(normalize("[card •••• 4242]"), "card 0000");
        assert_eq!(normalize(""), "");
    }

    #[test]
    fn features_are_sorted_unique_and_unit_length() {
        let f = extract(&FeatureConfig::default(), "my card has not arrived");
        assert!(f.windows(2).all(|w| w[0].0 < w[1].0));
        let norm: f32 = f.iter().map(|&(_, v)| v * v).sum();
        assert!((norm - 1.0).abs() < 1e-4);
        assert!(extract(&FeatureConfig::default(), "").is_empty() || norm > 0.0);
    }

    #[test]
    fn courtesies_around_a_question_are_left_out() {
        for (message, about) in [
            (
                "Good afternoon, where is my order? Thank you in advance.",
                "where is my order",
            ),
            (
                "Dear Larkspur team, my card has not arrived. Kind regards",
                "my card has not arrived",
            ),
            (
                "Hi there! Hello, can I pay early? Thanks!",
                "can i pay early",
            ),
            ("Bonjour, ma carte? Merci d'avance", "ma carte"),
            // Only whole words at either end: "this" is not "hi", "hiking" is kept.
            ("this is my card", "this is my card"),
            (
                "hiking gear order, thanksgiving",
                "hiking gear order thanksgiving",
            ),
            (
                "thanks for nothing, where is it",
                "thanks for nothing where is it",
            ),
            // "Dear" not followed by an addressee is the message.
            ("dear me my card is gone", "dear me my card is gone"),
            // Nothing but courtesy: kept, for the small-talk reply.
            ("Hi, thanks!", "hi thanks"),
            ("", ""),
        ] {
            assert_eq!(without_courtesies(&normalize(message)), about, "{message}");
        }
    }

    #[test]
    fn hashing_is_stable() {
        // Pinned: changing hashing silently invalidates every shipped model.
        let f = extract(
            &FeatureConfig {
                buckets_log2: 16,
                word_weight: 1.0,
                bigram_weight: 0.0,
                char_weight: 0.0,
                char_min: 3,
                char_max: 5,
                signed: false,
            },
            "card",
        );
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].0, bucket(fnv(fnv(FNV_OFFSET, b"w"), b"card"), 0xffff));
    }
}
