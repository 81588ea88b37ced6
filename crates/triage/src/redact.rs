//! Personal-data masking with hand-written scanners (no regex engine in the wasm path).
//!
//! Four detectors run over the original text and propose byte spans:
//! - card numbers: 12-19 digits, single spaces or dashes allowed between digits, Luhn-valid;
//! - IBANs: two letters, two check digits, 11-30 more letters or digits (single spaces
//!   allowed), mod-97 checksum valid;
//! - email addresses: `local@domain.tld`;
//! - phone numbers: 9-15 digits (7-15 after a leading `+`) with spaces, dashes, dots or
//!   parentheses between them.
//!
//! Overlapping proposals are resolved left to right (earliest start wins, then the
//! stronger kind), and each accepted span is replaced by a mask. Masks contain no
//! detectable pattern, so redaction is idempotent.

use serde::{Deserialize, Serialize};

/// The kind of personal data a mask hides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PiiKind {
    /// A payment card number (Luhn-valid).
    CardNumber,
    /// An international bank account number (mod-97 valid).
    Iban,
    /// An email address.
    Email,
    /// A telephone number.
    Phone,
}

/// Where a mask sits in the redacted text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PiiSpan {
    /// What the mask hides.
    pub kind: PiiKind,
    /// Byte offset of the mask's first byte in [`Redacted::text`].
    pub start: usize,
    /// Byte offset one past the mask's last byte in [`Redacted::text`].
    pub end: usize,
}

/// Text with personal data masked, plus where the masks are.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Redacted {
    /// The text with masks such as `[card •••• 4242]`, `[email]`, `[phone]`, `[iban]`.
    pub text: String,
    /// The masks, in order.
    pub spans: Vec<PiiSpan>,
}

/// Masks card numbers, IBANs, email addresses and phone numbers in `text`.
///
/// ```
/// let r = baton_triage::redact_pii("card 4242 4242 4242 4242, mail me at a.b@example.com");
/// assert_eq!(r.text, "card [card •••• 4242], mail me at [email]");
/// assert_eq!(r.spans.len(), 2);
/// ```
pub fn redact_pii(text: &str) -> Redacted {
    let bytes = text.as_bytes();
    let mut found: Vec<Found> = Vec::new();
    find_cards(bytes, &mut found);
    find_ibans(bytes, &mut found);
    find_emails(bytes, &mut found);
    find_phones(bytes, &mut found);
    // Each kind has its own rank, so equal keys are equal findings: an unstable sort
    // serves (and the widget then carries no stable sort's code).
    found.sort_unstable_by_key(|f| (f.start, f.rank, usize::MAX - f.end));

    let mut out = Redacted {
        text: String::with_capacity(text.len()),
        spans: Vec::new(),
    };
    let mut pos = 0;
    for f in found {
        if f.start < pos {
            continue;
        }
        // All detectors match ASCII only, so span edges are char boundaries.
        out.text
            .push_str(text.get(pos..f.start).unwrap_or_default());
        let start = out.text.len();
        match f.kind {
            PiiKind::CardNumber => {
                out.text.push_str("[card •••• ");
                out.text.push_str(&f.last4);
                out.text.push(']');
            }
            PiiKind::Iban => out.text.push_str("[iban]"),
            PiiKind::Email => out.text.push_str("[email]"),
            PiiKind::Phone => out.text.push_str("[phone]"),
        }
        out.spans.push(PiiSpan {
            kind: f.kind,
            start,
            end: out.text.len(),
        });
        pos = f.end;
    }
    out.text.push_str(text.get(pos..).unwrap_or_default());
    out
}

struct Found {
    kind: PiiKind,
    rank: u8,
    start: usize,
    end: usize,
    last4: String,
}

impl Found {
    fn new(kind: PiiKind, start: usize, end: usize) -> Self {
        let rank = match kind {
            PiiKind::CardNumber => 0,
            PiiKind::Iban => 1,
            PiiKind::Email => 2,
            PiiKind::Phone => 3,
        };
        Found {
            kind,
            rank,
            start,
            end,
            last4: String::new(),
        }
    }
}

/// A maximal run of digit groups: `groups[i] = (start, end)` byte ranges of digits.
fn digit_groups(bytes: &[u8], mut i: usize, seps: &[u8]) -> (Vec<(usize, usize)>, usize) {
    let mut groups = Vec::new();
    loop {
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        groups.push((start, i));
        if i + 1 < bytes.len() && seps.contains(&bytes[i]) && bytes[i + 1].is_ascii_digit() {
            i += 1;
        } else {
            return (groups, i);
        }
    }
}

fn luhn_valid(digits: &[u8]) -> bool {
    let mut sum = 0u32;
    for (i, d) in digits.iter().rev().enumerate() {
        let mut v = u32::from(d - b'0');
        if i % 2 == 1 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    sum.is_multiple_of(10)
}

fn find_cards(bytes: &[u8], found: &mut Vec<Found>) {
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_digit() || (i > 0 && bytes[i - 1].is_ascii_digit()) {
            i += 1;
            continue;
        }
        let (groups, run_end) = digit_groups(bytes, i, b" -");
        let mut g = 0;
        while g < groups.len() {
            let mut matched = None;
            for e in (g..groups.len()).rev() {
                let digits: Vec<u8> = groups[g..=e]
                    .iter()
                    .flat_map(|&(s, t)| bytes[s..t].iter().copied())
                    .collect();
                if (12..=19).contains(&digits.len()) && luhn_valid(&digits) {
                    matched = Some((e, digits));
                    break;
                }
            }
            match matched {
                Some((e, digits)) => {
                    let mut f = Found::new(PiiKind::CardNumber, groups[g].0, groups[e].1);
                    f.last4 = digits[digits.len() - 4..]
                        .iter()
                        .map(|&b| char::from(b))
                        .collect();
                    found.push(f);
                    g = e + 1;
                }
                None => g += 1,
            }
        }
        i = run_end.max(i + 1);
    }
}

fn iban_valid(chars: &[u8]) -> bool {
    if !(15..=34).contains(&chars.len())
        || !chars[0].is_ascii_alphabetic()
        || !chars[1].is_ascii_alphabetic()
        || !chars[2].is_ascii_digit()
        || !chars[3].is_ascii_digit()
    {
        return false;
    }
    let mut rem = 0u32;
    for &c in chars[4..].iter().chain(&chars[..4]) {
        let c = c.to_ascii_uppercase();
        if c.is_ascii_digit() {
            rem = (rem * 10 + u32::from(c - b'0')) % 97;
        } else {
            let v = u32::from(c - b'A') + 10;
            rem = (rem * 100 + v) % 97;
        }
    }
    rem == 1
}

fn find_ibans(bytes: &[u8], found: &mut Vec<Found>) {
    let n = bytes.len();
    let mut i = 0;
    while i + 4 <= n {
        let at_word_start = i == 0 || !bytes[i - 1].is_ascii_alphanumeric();
        if !(at_word_start
            && bytes[i].is_ascii_alphabetic()
            && bytes[i + 1].is_ascii_alphabetic()
            && bytes[i + 2].is_ascii_digit()
            && bytes[i + 3].is_ascii_digit())
        {
            i += 1;
            continue;
        }
        // Collect alphanumerics with single spaces between them; remember where a
        // candidate may end (before a space or at the end of the run).
        let mut chars = Vec::new();
        let mut ends = Vec::new(); // (char count, byte end)
        let mut j = i;
        while j < n && chars.len() < 34 {
            if bytes[j].is_ascii_alphanumeric() {
                chars.push(bytes[j]);
                j += 1;
            } else if bytes[j] == b' ' && j + 1 < n && bytes[j + 1].is_ascii_alphanumeric() {
                ends.push((chars.len(), j));
                j += 1;
            } else {
                break;
            }
        }
        if j >= n || !bytes[j].is_ascii_alphanumeric() {
            ends.push((chars.len(), j));
        }
        let best = ends
            .iter()
            .rev()
            .find(|&&(count, _)| iban_valid(&chars[..count]));
        match best {
            Some(&(_, end)) => {
                found.push(Found::new(PiiKind::Iban, i, end));
                i = end;
            }
            None => i += 1,
        }
    }
}

fn is_local_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'%' | b'+' | b'-')
}

fn is_domain_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-')
}

fn find_emails(bytes: &[u8], found: &mut Vec<Found>) {
    for (at, _) in bytes.iter().enumerate().filter(|&(_, &b)| b == b'@') {
        let mut start = at;
        while start > 0 && is_local_char(bytes[start - 1]) {
            start -= 1;
        }
        while start < at && bytes[start] == b'.' {
            start += 1;
        }
        if start == at {
            continue;
        }
        let mut end = at + 1;
        while end < bytes.len() && is_domain_char(bytes[end]) {
            end += 1;
        }
        while end > at + 1 && matches!(bytes[end - 1], b'.' | b'-') {
            end -= 1;
        }
        let domain = &bytes[at + 1..end];
        let mut labels = domain.split(|&b| b == b'.');
        let label_count = domain.iter().filter(|&&b| b == b'.').count() + 1;
        let tld_ok = domain
            .rsplit(|&b| b == b'.')
            .next()
            .is_some_and(|tld| tld.len() >= 2 && tld.iter().all(u8::is_ascii_alphabetic));
        if label_count >= 2 && tld_ok && labels.all(|l| !l.is_empty()) {
            found.push(Found::new(PiiKind::Email, start, end));
        }
    }
}

fn find_phones(bytes: &[u8], found: &mut Vec<Found>) {
    let n = bytes.len();
    let mut i = 0;
    while i < n {
        let b = bytes[i];
        let starts = (b == b'+' || b == b'(' || b.is_ascii_digit())
            && (i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'+'));
        if !starts {
            i += 1;
            continue;
        }
        let plus = b == b'+';
        let mut j = i + usize::from(plus);
        let mut digits = 0;
        let mut last_digit_end = i;
        let mut run_of_seps = 0;
        while j < n {
            let c = bytes[j];
            if c.is_ascii_digit() {
                digits += 1;
                last_digit_end = j + 1;
                run_of_seps = 0;
            } else if matches!(c, b' ' | b'-' | b'.' | b'(' | b')') && run_of_seps < 2 {
                run_of_seps += 1;
            } else {
                break;
            }
            j += 1;
        }
        let min = if plus { 7 } else { 9 };
        let followed_by_alnum = last_digit_end < n && bytes[last_digit_end].is_ascii_alphanumeric();
        if (min..=15).contains(&digits) && !followed_by_alnum {
            found.push(Found::new(PiiKind::Phone, i, last_digit_end));
            i = last_digit_end;
        } else {
            // Skip the rest of this digit run so a long number is not re-scanned as a phone.
            i = (i + 1).max(last_digit_end);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn masks_card_numbers_with_separators() {
        let r = redact_pii("my card 4111-1111-1111-1111 was declined");
        assert_eq!(r.text, "my card [card •••• 1111] was declined");
        assert_eq!(r.spans[0].kind, PiiKind::CardNumber);
        assert_eq!(
            &r.text[r.spans[0].start..r.spans[0].end],
            "[card •••• 1111]"
        );
    }

    #[test]
    fn leaves_luhn_invalid_numbers_that_are_not_phones() {
        let r = redact_pii("order 4111 1111 1111 1112 1234 5678");
        assert!(!r.text.contains("[card"), "{}", r.text);
    }

    #[test]
    fn finds_card_followed_by_year() {
        let r = redact_pii("4242 4242 4242 4242 2027");
        assert_eq!(r.text, "[card •••• 4242] 2027");
    }

    #[test]
    fn masks_iban_with_spaces_and_lowercase() {
        let r = redact_pii("send it to GB82 WEST 1234 5698 7654 32 please");
        assert_eq!(r.text, "send it to [iban] please");
        let r = redact_pii("de89370400440532013000");
        assert_eq!(r.text, "[iban]");
        let r = redact_pii("GB82 WEST 1234 5698 7654 33");
        assert!(!r.text.contains("[iban]"), "{}", r.text);
    }

    #[test]
    fn masks_emails() {
        let r = redact_pii("write to jane.doe+bank@mail.example.co.uk.");
        assert_eq!(r.text, "write to [email].");
        assert_eq!(redact_pii("a@b is not one").text, "a@b is not one");
        assert_eq!(redact_pii("@home").text, "@home");
    }

    #[test]
    fn masks_phones() {
        assert_eq!(
            redact_pii("call +44 20 7946 0958 now").text,
            "call [phone] now"
        );
        assert_eq!(redact_pii("(555) 123-4567").text, "[phone]");
        assert_eq!(
            redact_pii("I paid 250 on 2024-01-15").text,
            "I paid 250 on 2024-01-15"
        );
    }

    #[test]
    fn spans_point_at_masks_after_multibyte_text() {
        let r = redact_pii("€€ ✓ a@b.io and 0207 946 0958");
        assert_eq!(r.spans.len(), 2);
        for s in &r.spans {
            assert!(r.text[s.start..s.end].starts_with('['));
            assert!(r.text[s.start..s.end].ends_with(']'));
        }
    }

    fn luhn_complete(mut body: Vec<u8>) -> Vec<u8> {
        body.push(b'0');
        for check in b'0'..=b'9' {
            *body.last_mut().unwrap() = check;
            if luhn_valid(&body) {
                break;
            }
        }
        body
    }

    proptest! {
        #[test]
        fn card_digits_never_survive(
            body in proptest::collection::vec(b'0'..=b'9', 11..=18),
            sep in prop_oneof![Just(""), Just(" "), Just("-")],
            prefix in "[a-zA-Z ,.:]{0,12}",
            suffix in "[a-zA-Z ,.!?]{0,12}",
        ) {
            let digits = luhn_complete(body);
            let digits = String::from_utf8(digits).unwrap();
            let grouped: Vec<String> = digits.as_bytes().chunks(4)
                .map(|c| String::from_utf8(c.to_vec()).unwrap()).collect();
            let text = format!("{prefix}{}{suffix}", grouped.join(sep));
            let r = redact_pii(&text);
            let leftover: String = r.text.chars().filter(char::is_ascii_digit).collect();
            prop_assert!(!leftover.contains(&digits), "{} -> {}", text, r.text);
            prop_assert!(leftover.len() <= 4, "{} -> {}", text, r.text);
        }

        #[test]
        fn redaction_is_idempotent(text in "[a-z0-9 @.+()\\-]{0,60}") {
            let once = redact_pii(&text);
            let twice = redact_pii(&once.text);
            prop_assert_eq!(&once.text, &twice.text);
        }

        #[test]
        fn text_without_pii_is_unchanged(text in "[a-zA-Z ,.!?'éü€]{0,80}") {
            let r = redact_pii(&text);
            prop_assert_eq!(r.text, text);
            prop_assert!(r.spans.is_empty());
        }

        #[test]
        fn never_panics_and_spans_are_in_bounds(text in "\\PC{0,80}") {
            let r = redact_pii(&text);
            for s in r.spans {
                prop_assert!(s.start < s.end && s.end <= r.text.len());
                prop_assert!(r.text.is_char_boundary(s.start) && r.text.is_char_boundary(s.end));
            }
        }
    }
}
