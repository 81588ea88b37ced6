//! Personal-data masking with hand-written scanners (no regex engine in the wasm path).
//!
//! The text is first read one character at a time into one byte per character
//! ([`Scan`]): ASCII as it is, digits of other scripts (Arabic-Indic, Eastern
//! Arabic/Persian) and full-width forms as their ASCII counterparts, anything else as a
//! byte that no detector matches. Detectors run over those bytes and propose character
//! spans, which are turned back into byte offsets of the original text, so a number typed
//! in Arabic-Indic digits is masked like the same number in ASCII digits.
//!
//! Eight detectors propose spans:
//! - card numbers: 12-19 digits, single spaces or dashes allowed between digits, Luhn-valid;
//! - IBANs: a country code, two check digits and exactly as many more letters or digits
//!   as that country's IBAN has (single spaces allowed), mod-97 checksum valid;
//! - email addresses: `local@domain.tld`;
//! - card expiry dates (`MM/YY`, `MM/YYYY`, `MM-YY`) after words such as "exp", "valid
//!   thru" or "date d'expiration", or a few words from a card number;
//! - card security codes (3-4 digits) after "cvv", "cvc", "security code",
//!   "cryptogramme"…, or right after a card's expiry date;
//! - PINs (4-6 digits) after "PIN", "PIN code", "code confidentiel", "الرقم السري"…;
//! - passwords: the word after "password", "passcode", "mot de passe", "كلمة المرور"…
//!   (with "is", ":" and the like between), when it looks like one (four characters or
//!   more with a digit, a symbol or a capital inside: "hunter2", not "not working");
//! - phone numbers: 9-15 digits (7-15 after a leading `+`) with spaces, dashes, dots or
//!   parentheses between them, unless the number is plainly something else: after `#`,
//!   glued to a letter prefix by a dash (`LK-2024-558812`), next to a currency sign or
//!   right after "order", "reference", "invoice", "commande", "طلب"…
//!
//! Overlapping proposals are resolved left to right (earliest start wins, then the
//! stronger kind), and each accepted span is replaced by a mask. Masks contain no
//! detectable pattern and end the context words are looked for in, so redaction is
//! idempotent.

use serde::{Deserialize, Serialize};

use crate::signals::fold;

/// The kind of personal data a mask hides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PiiKind {
    /// A payment card number (Luhn-valid).
    CardNumber,
    /// An international bank account number (mod-97 valid, of its country's length).
    Iban,
    /// An email address.
    Email,
    /// A payment card's expiry date.
    CardExpiry,
    /// A payment card's security code (CVV, CVC).
    CardSecurityCode,
    /// A telephone number.
    Phone,
    /// A card's or an account's PIN.
    Pin,
    /// A password or passcode.
    Password,
}

impl PiiKind {
    pub(crate) const ALL: [PiiKind; 8] = [
        PiiKind::CardNumber,
        PiiKind::Iban,
        PiiKind::Email,
        PiiKind::CardExpiry,
        PiiKind::CardSecurityCode,
        PiiKind::Phone,
        PiiKind::Pin,
        PiiKind::Password,
    ];

    /// The word a mask leaves in a normalised message (`card` of `[card •••• 1111]`):
    /// the redactor's, not the customer's. Spelt out rather than cut from [`Self::mask`]
    /// each time, as the language check asks for every word of every message (a test
    /// holds the two together).
    pub(crate) const fn mask_word(self) -> &'static str {
        match self {
            PiiKind::CardNumber => "card",
            PiiKind::Iban => "iban",
            PiiKind::Email => "email",
            PiiKind::CardExpiry => "expiry",
            PiiKind::CardSecurityCode => "cvv",
            PiiKind::Phone => "phone",
            PiiKind::Pin => "pin",
            PiiKind::Password => "password",
        }
    }

    /// The mask's text; a card's goes on with its last four digits and `]`.
    fn mask(self) -> &'static str {
        match self {
            PiiKind::CardNumber => "[card •••• ",
            PiiKind::Iban => "[iban]",
            PiiKind::Email => "[email]",
            PiiKind::CardExpiry => "[expiry]",
            PiiKind::CardSecurityCode => "[cvv]",
            PiiKind::Phone => "[phone]",
            PiiKind::Pin => "[pin]",
            PiiKind::Password => "[password]",
        }
    }
}

/// A piece of redacted text, as [`masked_pieces`] reads it back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaskedPiece<'a> {
    /// The customer's own words.
    Text(&'a str),
    /// A mask: what it hides, and for a card its last four digits.
    Mask {
        /// What the mask hides.
        kind: PiiKind,
        /// A card's last four digits, empty for other kinds.
        last_four: &'a str,
    },
}

/// Splits redacted text (stored, so its spans are gone) back into words and masks, so
/// an interface can show each mask in the customer's language.
///
/// ```
/// use baton_triage::{masked_pieces, MaskedPiece, PiiKind};
/// let pieces = masked_pieces("card [card •••• 4242], mail [email]");
/// assert_eq!(pieces[1], MaskedPiece::Mask { kind: PiiKind::CardNumber, last_four: "4242" });
/// assert_eq!(pieces[3], MaskedPiece::Mask { kind: PiiKind::Email, last_four: "" });
/// ```
pub fn masked_pieces(text: &str) -> Vec<MaskedPiece<'_>> {
    let mut pieces = Vec::new();
    let mut words_from = 0;
    let mut at = 0;
    while let Some(offset) = text.get(at..).and_then(|rest| rest.find('[')) {
        let start = at + offset;
        let rest = text.get(start..).unwrap_or_default();
        let found = PiiKind::ALL.into_iter().find_map(|kind| {
            let after = rest.strip_prefix(kind.mask())?;
            if kind != PiiKind::CardNumber {
                return Some((kind, "", kind.mask().len()));
            }
            let last_four = after
                .get(..4)
                .filter(|d| d.bytes().all(|b| b.is_ascii_digit()))?;
            after[4..]
                .starts_with(']')
                .then_some((kind, last_four, kind.mask().len() + 5))
        });
        match found {
            Some((kind, last_four, length)) => {
                if words_from < start {
                    pieces.push(MaskedPiece::Text(&text[words_from..start]));
                }
                pieces.push(MaskedPiece::Mask { kind, last_four });
                at = start + length;
                words_from = at;
            }
            None => at = start + 1,
        }
    }
    if words_from < text.len() {
        pieces.push(MaskedPiece::Text(&text[words_from..]));
    }
    pieces
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
    /// The text with masks such as `[card •••• 4242]`, `[email]`, `[phone]`, `[iban]`,
    /// `[expiry]`, `[cvv]`.
    pub text: String,
    /// The masks, in order.
    pub spans: Vec<PiiSpan>,
}

/// Masks card numbers with their expiry dates and security codes, IBANs, email
/// addresses and phone numbers in `text`.
///
/// ```
/// let r = baton_triage::redact_pii("card 4242 4242 4242 4242 exp 12/27 cvv 123, mail me at a.b@example.com");
/// assert_eq!(r.text, "card [card •••• 4242] exp [expiry] cvv [cvv], mail me at [email]");
/// assert_eq!(r.spans.len(), 4);
/// // Digits of other scripts are digits: the mask shows the last four in ASCII.
/// assert_eq!(baton_triage::redact_pii("٤٢٤٢ ٤٢٤٢ ٤٢٤٢ ٤٢٤٢").text, "[card •••• 4242]");
/// // An order number is not a phone number.
/// assert_eq!(baton_triage::redact_pii("order #123456789").text, "order #123456789");
/// ```
pub fn redact_pii(text: &str) -> Redacted {
    let mut scan = Scan::new(text);
    let mut found: Vec<Found> = Vec::new();
    find_cards(&scan.folded, &mut found);
    find_ibans(&scan.folded, &mut found);
    find_emails(&scan.folded, &mut found);
    // The rest is read around the card numbers, as it will be once they are masked (a
    // number cut in two by a card is two numbers), so masking twice masks nothing more.
    scan.set_aside(&found, |kind| kind == PiiKind::CardNumber);
    find_phones(&scan, &mut found);
    // Card details are read around everything found so far, masks as well: "cvv
    // 000/0000000004111" has its code alone once the phone number is masked.
    scan.set_aside(&found, |_| true);
    find_card_details(&scan, &mut found);
    find_passwords(&scan, &mut found);
    // Each kind has its own rank, so equal keys are equal findings: an unstable sort
    // serves (and the widget then carries no stable sort's code).
    found.sort_unstable_by_key(|f| (f.start, f.kind.rank(), usize::MAX - f.end));

    let mut out = Redacted {
        text: String::with_capacity(text.len()),
        spans: Vec::new(),
    };
    let mut pos = 0;
    for f in found {
        if f.start < pos {
            continue;
        }
        // Findings are in characters; each character's byte offset is a char boundary.
        let (from, to) = (scan.offsets[pos], scan.offsets[f.start]);
        out.text.push_str(text.get(from..to).unwrap_or_default());
        let start = out.text.len();
        out.text.push_str(f.kind.mask());
        if f.kind == PiiKind::CardNumber {
            out.text.push_str(&f.last4);
            out.text.push(']');
        }
        out.spans.push(PiiSpan {
            kind: f.kind,
            start,
            end: out.text.len(),
        });
        pos = f.end;
    }
    out.text
        .push_str(text.get(scan.offsets[pos]..).unwrap_or_default());
    out
}

impl PiiKind {
    /// Which of two findings that start together wins: the lower rank.
    const fn rank(self) -> u8 {
        match self {
            PiiKind::CardNumber => 0,
            PiiKind::Iban => 1,
            PiiKind::Email => 2,
            PiiKind::CardExpiry => 3,
            PiiKind::CardSecurityCode => 4,
            PiiKind::Phone => 5,
            PiiKind::Pin => 6,
            PiiKind::Password => 7,
        }
    }
}

/// The text read one character at a time, as the detectors see it.
struct Scan {
    /// One byte per character: ASCII as it is, other digits and full-width forms as
    /// ASCII, anything else [`OTHER`].
    folded: Vec<u8>,
    /// Each character as written.
    chars: Vec<char>,
    /// The byte offset of each character in the text, then the text's length.
    offsets: Vec<usize>,
    /// Whether each character is part of a finding set aside (see [`Scan::set_aside`]);
    /// empty before the first.
    masked: Vec<bool>,
}

/// What a character no detector reads becomes: not ASCII, so no detector matches it.
const OTHER: u8 = 0x80;

impl Scan {
    fn new(text: &str) -> Scan {
        // As many characters as bytes at most (as many for ASCII text).
        let mut scan = Scan {
            folded: Vec::with_capacity(text.len()),
            chars: Vec::with_capacity(text.len()),
            offsets: Vec::with_capacity(text.len() + 1),
            masked: Vec::new(),
        };
        for (offset, c) in text.char_indices() {
            scan.folded.push(fold_char(c));
            scan.chars.push(c);
            scan.offsets.push(offset);
        }
        scan.offsets.push(text.len());
        scan
    }

    /// Reads the findings of the kinds `which` picks as the masks they become: no
    /// detector matches them and words are not read across them.
    fn set_aside(&mut self, found: &[Found], which: impl Fn(PiiKind) -> bool) {
        self.masked.resize(self.chars.len(), false);
        for f in found.iter().filter(|f| which(f.kind)) {
            self.folded[f.start..f.end].fill(OTHER);
            self.masked[f.start..f.end].fill(true);
        }
    }

    /// Whether words stop at character `k`: a mask's bracket, a finding set aside or a
    /// line break.
    fn ends_words(&self, k: usize) -> bool {
        matches!(self.chars[k], '[' | ']' | '\n') || self.masked.get(k) == Some(&true)
    }
}

/// The ASCII byte a character reads as.
fn fold_char(c: char) -> u8 {
    let code = u32::from(c);
    let ascii = match c {
        // Spaces that keep a number on one line (no-break, narrow no-break, thin, figure:
        // what banking apps and PDFs put between a card number's groups), and tabs.
        '\t' | '\u{00A0}' | '\u{2000}'..='\u{200A}' | '\u{202F}' | '\u{205F}' | '\u{3000}' => {
            u32::from(b' ')
        }
        _ if c.is_ascii() => code,
        // Arabic-Indic and Eastern Arabic (Persian, Urdu) digits.
        '\u{0660}'..='\u{0669}' => code - 0x0660 + u32::from(b'0'),
        '\u{06F0}'..='\u{06F9}' => code - 0x06F0 + u32::from(b'0'),
        // Full-width forms of ASCII (digits, letters, `+`, `-`, `(`, `@`…) and space.
        '\u{FF01}'..='\u{FF5E}' => code - 0xFF01 + 0x21,
        // Hyphens and dashes.
        '\u{2010}'..='\u{2015}' | '\u{2212}' => u32::from(b'-'),
        _ => return OTHER,
    };
    u8::try_from(ascii).unwrap_or(OTHER)
}

struct Found {
    kind: PiiKind,
    /// First character.
    start: usize,
    /// One past the last character.
    end: usize,
    last4: String,
}

impl Found {
    fn new(kind: PiiKind, start: usize, end: usize) -> Self {
        Found {
            kind,
            start,
            end,
            last4: String::new(),
        }
    }
}

/// A maximal run of digit groups: `groups[i] = (start, end)` ranges of digits. A group
/// that goes on as a date (`12/27`) is not part of the run.
fn digit_groups(bytes: &[u8], mut i: usize, seps: &[u8]) -> (Vec<(usize, usize)>, usize) {
    let mut groups = Vec::new();
    loop {
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        if !groups.is_empty() && starts_date_part(bytes, i) {
            return (groups, start);
        }
        groups.push((start, i));
        // One separator between groups, or a few ("4111  1111", "4111 - 1111").
        let gap = (1..=3).find(|&len| {
            bytes.get(i + len).is_some_and(u8::is_ascii_digit)
                && bytes[i..i + len].iter().all(|b| seps.contains(b))
        });
        match gap {
            Some(len) => i += len,
            None => return (groups, i),
        }
    }
}

/// Whether `bytes[at]` is a `/` with a digit after it (the digits before `at` are a
/// date's first part).
fn starts_date_part(bytes: &[u8], at: usize) -> bool {
    at + 1 < bytes.len() && bytes[at] == b'/' && bytes[at + 1].is_ascii_digit()
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

/// Whether digit groups may be one card number: in any grouping with a single space or
/// dash between them, but with dots or wider gaps only as cards are printed (fours, the
/// last group shorter at most), so that dates ("03.04.2024 - 10.04.2024") and addresses
/// ("192.168.178.106") are not taken for one.
fn card_shaped(bytes: &[u8], groups: &[(usize, usize)]) -> bool {
    let plain = groups
        .windows(2)
        .all(|pair| matches!(&bytes[pair[0].1..pair[1].0], b" " | b"-"));
    let printed = groups.split_last().is_some_and(|(&(start, end), fours)| {
        fours.iter().all(|&(s, t)| t - s == 4) && (1..=4).contains(&(end - start))
    });
    plain || printed
}

fn find_cards(bytes: &[u8], found: &mut Vec<Found>) {
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_digit() || (i > 0 && bytes[i - 1].is_ascii_digit()) {
            i += 1;
            continue;
        }
        let (groups, run_end) = digit_groups(bytes, i, b" -.");
        let mut g = 0;
        while g < groups.len() {
            let mut matched = None;
            for e in (g..groups.len()).rev() {
                let digits: Vec<u8> = groups[g..=e]
                    .iter()
                    .flat_map(|&(s, t)| bytes[s..t].iter().copied())
                    .collect();
                if (12..=19).contains(&digits.len())
                    && card_shaped(bytes, &groups[g..=e])
                    && luhn_valid(&digits)
                {
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

/// Each country's IBAN length (country code, then length), from the IBAN registry (ISO
/// 13616), and from the formats banks in a few more countries use before joining it
/// (mostly in Africa: Morocco, Algeria, Senegal…).
const IBAN_LENGTHS: &str = concat!(
    "AD24 AE23 AL28 AT20 AZ28 BA20 BE16 BG22 BH22 BI27 BR29 BY28 CH21 CR22 CY28 CZ24 \
     DE22 DJ27 DK18 DO28 EE20 EG29 ES24 FI18 FK18 FO18 FR27 GB22 GE22 GI23 GL18 GR27 \
     GT28 HR21 HU28 IE22 IL23 IQ23 IS26 IT27 JO30 KW30 KZ20 LB28 LC32 LI21 LT20 LU20 \
     LV21 LY25 MC27 MD24 ME22 MK19 MN20 MR27 MT31 MU30 NI28 NL18 NO15 OM23 PK24 PL28 \
     PS29 PT25 QA29 RO24 RS22 RU33 SA24 SC31 SD18 SE24 SI19 SK24 SM27 SO23 ST25 SV28 \
     TL23 TN24 TR26 UA29 VA22 VG24 XK20 YE30 ",
    // Not (yet) in the registry, used by banks there.
    "AO25 BF28 BJ28 CF27 CG27 CI28 CM27 CV25 DZ26 GA27 GQ27 GW25 HN28 IR26 KM27 MA28 \
     MG27 ML28 MZ25 NE28 SN28 TD27 TG28",
);

/// The length of an IBAN that starts with `country` (two letters, any case).
fn iban_length(country: [u8; 2]) -> Option<usize> {
    let country = country.map(|b| b.to_ascii_uppercase());
    IBAN_LENGTHS
        .split_ascii_whitespace()
        .find(|entry| entry.as_bytes().starts_with(&country))
        .and_then(|entry| entry.get(2..)?.parse().ok())
}

fn iban_valid(chars: &[u8]) -> bool {
    if chars.len() < 5
        || !chars[0].is_ascii_alphabetic()
        || !chars[1].is_ascii_alphabetic()
        || !chars[2].is_ascii_digit()
        || !chars[3].is_ascii_digit()
        || iban_length([chars[0], chars[1]]) != Some(chars.len())
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
        let starts_like_one = at_word_start
            && bytes[i].is_ascii_alphabetic()
            && bytes[i + 1].is_ascii_alphabetic()
            && bytes[i + 2].is_ascii_digit()
            && bytes[i + 3].is_ascii_digit();
        let length = starts_like_one
            .then(|| iban_length([bytes[i], bytes[i + 1]]))
            .flatten();
        let Some(length) = length else {
            i += 1;
            continue;
        };
        // Collect the country's number of alphanumerics, single spaces allowed between
        // them; the IBAN must end there (before a space or at the end of the run).
        let mut chars = Vec::with_capacity(length);
        let mut j = i;
        while j < n && chars.len() < length {
            if bytes[j].is_ascii_alphanumeric() {
                chars.push(bytes[j]);
                j += 1;
            } else if bytes[j] == b' ' && j + 1 < n && bytes[j + 1].is_ascii_alphanumeric() {
                j += 1;
            } else {
                break;
            }
        }
        let ends_here = j >= n || !bytes[j].is_ascii_alphanumeric();
        if ends_here && iban_valid(&chars) {
            found.push(Found::new(PiiKind::Iban, i, j));
            i = j;
        } else {
            i += 1;
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

fn find_phones(scan: &Scan, found: &mut Vec<Found>) {
    let bytes = &scan.folded;
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
        if (min..=15).contains(&digits)
            && !followed_by_alnum
            && !is_other_number(scan, i, last_digit_end)
        {
            found.push(Found::new(PiiKind::Phone, i, last_digit_end));
            i = last_digit_end;
        } else {
            // Skip the rest of this digit run so a long number is not re-scanned as a phone.
            i = (i + 1).max(last_digit_end);
        }
    }
}

/// Words right before a number that make it an order, reference or invoice number,
/// folded as [`fold`] folds them (the word for "order" in Arabic with or without "the"
/// and "my").
const ORDER_WORDS: &[&str] = &[
    "order",
    "orders",
    "ref",
    "reference",
    "invoice",
    "tracking",
    "receipt",
    "ticket",
    "commande",
    "facture",
    "suivi",
    "طلب",
    "الطلب",
    "طلبي",
    "طلبيه",
    "الطلبيه",
    "طلبيتي",
    "فاتوره",
    "الفاتوره",
    "مرجع",
    "المرجع",
];
/// Words that may stand between such a word and its number ("order number is", "n°").
const ORDER_FILLERS: &[&str] = &[
    "number", "no", "nr", "num", "numero", "n", "id", "is", "est", "de", "du", "code", "رقم", "هو",
];
/// Words right after or before an amount's digits that name its currency.
const CURRENCY_WORDS: &[&str] = &[
    "eur",
    "euro",
    "euros",
    "usd",
    "gbp",
    "dollar",
    "dollars",
    "pound",
    "pounds",
    "mad",
    "dh",
    "dhs",
    "aed",
    "sar",
    "درهم",
    "ريال",
    "جنيه",
    "دينار",
];

/// Whether the digits at `start..end`, which look like a phone number, are plainly
/// something else: an order or reference number, or an amount. Only an explicit cue
/// counts, and never for a number that starts with `+` or `(`.
fn is_other_number(scan: &Scan, start: usize, end: usize) -> bool {
    let bytes = &scan.folded;
    if matches!(bytes[start], b'+' | b'(') {
        return false;
    }
    // `#123456789`, `# 123456789`.
    let before = previous_non_space(scan, start);
    if before.is_some_and(|k| bytes[k] == b'#') {
        return true;
    }
    // `LK-2024-558812`, `REF/558812334`.
    if start >= 2
        && matches!(bytes[start - 1], b'-' | b'/' | b'_')
        && bytes[start - 2].is_ascii_alphabetic()
    {
        return true;
    }
    // `€1 234 567 89`, `1 234 567 89 €`, `EUR 123456789`.
    let after = (end..scan.chars.len()).find(|&k| scan.chars[k] != ' ');
    if before.is_some_and(|k| is_currency_sign(scan.chars[k]))
        || after.is_some_and(|k| is_currency_sign(scan.chars[k]))
    {
        return true;
    }
    let words = words_before(scan, start, 4);
    if words
        .first()
        .is_some_and(|w| CURRENCY_WORDS.contains(&w.as_str()))
        || word_after(scan, end).is_some_and(|w| CURRENCY_WORDS.contains(&w.as_str()))
    {
        return true;
    }
    follows_cue(&words, ORDER_WORDS, ORDER_FILLERS)
}

/// The last character before `at` that is not a space, if it is at most one space away.
fn previous_non_space(scan: &Scan, at: usize) -> Option<usize> {
    let k = at.checked_sub(1)?;
    if scan.chars[k] != ' ' {
        return Some(k);
    }
    k.checked_sub(1).filter(|&k| scan.chars[k] != ' ')
}

fn is_currency_sign(c: char) -> bool {
    matches!(c, '$' | '¢'..='¥' | '\u{20A0}'..='\u{20C0}' | '\u{FDFC}' | '＄' | '￡' | '￥')
}

/// The words before character `at`, nearest first, lowercased and folded, at most
/// `most`. They stop at a number, at a mask (`[`, `]`) and at a line break, so a cue never
/// reaches across them.
fn words_before(scan: &Scan, at: usize, most: usize) -> Vec<String> {
    let chars = &scan.chars;
    let mut words = Vec::new();
    let mut i = at;
    while words.len() < most {
        while i > 0 && !chars[i - 1].is_alphanumeric() {
            if scan.ends_words(i - 1) {
                return words;
            }
            i -= 1;
        }
        let end = i;
        while i > 0 && chars[i - 1].is_alphanumeric() && !scan.ends_words(i - 1) {
            i -= 1;
        }
        if i == end || chars[i..end].iter().all(|c| c.is_numeric()) {
            break;
        }
        words.push(folded_word(&chars[i..end]));
    }
    words
}

/// The word right after character `at` (spaces skipped), lowercased and folded.
fn word_after(scan: &Scan, at: usize) -> Option<String> {
    let chars = &scan.chars;
    let start = (at..chars.len()).find(|&k| chars[k] != ' ')?;
    let end = (start..chars.len())
        .find(|&k| !chars[k].is_alphanumeric() || scan.ends_words(k))
        .unwrap_or(chars.len());
    (end > start).then(|| folded_word(&chars[start..end]))
}

fn folded_word(chars: &[char]) -> String {
    let word: String = chars.iter().flat_map(|c| c.to_lowercase()).collect();
    fold(&word).into_owned()
}

/// Whether `words` (nearest first) hold one of `cues` (phrases of one or more words, in
/// reading order) with only `fillers` between it and the end.
fn follows_cue(words: &[String], cues: &[&str], fillers: &[&str]) -> bool {
    for (j, word) in words.iter().enumerate() {
        let cued = cues.iter().any(|cue| {
            cue.split(' ')
                .rev()
                .enumerate()
                .all(|(m, w)| words.get(j + m).is_some_and(|x| x == w))
        });
        if cued {
            return true;
        }
        if !fillers.contains(&word.as_str()) {
            return false;
        }
    }
    false
}

/// Words before a card's expiry date (folded), and phrases ending in them.
const EXPIRY_CUES: &[&str] = &[
    "exp",
    "expiry",
    "expires",
    "expire",
    "expiring",
    "expiration",
    "expiry date",
    "valid thru",
    "valid through",
    "valid until",
    "good thru",
    "thru",
    "validite",
    "انتهاء",
    "الانتهاء",
    "الصلاحيه",
];
/// Words that may stand between such a cue and the date ("expiry date is", "fin").
const EXPIRY_FILLERS: &[&str] = &[
    "date",
    "is",
    "on",
    "in",
    "at",
    "of",
    "end",
    "le",
    "la",
    "fin",
    "est",
    "au",
    "تاريخ",
    "هو",
];
/// Words before a card's security code (folded), and phrases ending in them.
const SECURITY_CODE_CUES: &[&str] = &[
    "cvv",
    "cvc",
    "cvv2",
    "cvc2",
    "csc",
    "cvn",
    "security code",
    "cryptogramme",
    "code de securite",
    "code securite",
    "رمز الامان",
    "رمز التحقق",
    "الرمز الامني",
];
/// Words that may stand between such a cue and the code ("cvv number is").
const SECURITY_CODE_FILLERS: &[&str] = &[
    "is", "number", "no", "num", "code", "visuel", "est", "de", "du", "هو",
];
/// Words before a PIN (folded), and phrases ending in them.
const PIN_CUES: &[&str] = &[
    "pin",
    "pin code",
    "pincode",
    "code pin",
    "code confidentiel",
    "code secret",
    "الرقم السري",
    "رمز pin",
    "الرمز السري",
];
/// Words that may stand between such a cue and the PIN ("my PIN is", "changed my PIN to").
const PIN_FILLERS: &[&str] = &[
    "is", "was", "number", "no", "code", "to", "now", "new", "old", "est", "etait", "mon", "hm",
    "هو",
];
/// Words before a password (folded), and phrases ending in them.
const PASSWORD_CUES: &[&str] = &[
    "password",
    "passwd",
    "passcode",
    "pwd",
    "mdp",
    "mot de passe",
    "كلمه المرور",
    "كلمه السر",
];
/// Words that may stand between such a cue and the password.
const PASSWORD_FILLERS: &[&str] = &["is", "was", "to", "now", "new", "old", "est", "هي"];

/// Most words between a card number and a date for the date to be its expiry.
const EXPIRY_NEAR_CARD_WORDS: usize = 3;

/// Masks card expiry dates and security codes. Runs after [`find_cards`]: a date a few
/// words from a card number is its expiry date, and a short code right after that its
/// security code.
fn find_card_details(scan: &Scan, found: &mut Vec<Found>) {
    let bytes = &scan.folded;
    let cards: Vec<(usize, usize)> = found
        .iter()
        .filter(|f| f.kind == PiiKind::CardNumber)
        .map(|f| (f.start, f.end))
        .collect();
    let mut details = Vec::new();
    // The end of the last expiry date found next to a card.
    let mut card_expiry_end = None;
    let mut i = 0;
    while i < bytes.len() {
        let starts_number = bytes[i].is_ascii_digit()
            && (i == 0 || !bytes[i - 1].is_ascii_digit())
            && !(i >= 2 && is_number_sep(bytes[i - 1]) && bytes[i - 2].is_ascii_digit());
        if !starts_number {
            i += 1;
            continue;
        }
        let run_end = digits_end(bytes, i);
        if let Some(end) = expiry_date_at(bytes, i, run_end) {
            let near_card = cards
                .iter()
                .any(|&(s, e)| words_between(scan, e, i) || words_between(scan, end, s));
            let cued = !glued_to_letter(bytes, i)
                && follows_cue(&words_before(scan, i, 5), EXPIRY_CUES, EXPIRY_FILLERS);
            if near_card || cued {
                details.push(Found::new(PiiKind::CardExpiry, i, end));
                if near_card {
                    card_expiry_end = Some(end);
                }
            }
            i = end;
            continue;
        }
        let short = (3..=4).contains(&(run_end - i)) && ends_alone(bytes, run_end);
        if short {
            let after_card_expiry = card_expiry_end.is_some_and(|e: usize| {
                e <= i && i - e <= 3 && bytes[e..i].iter().all(|&b| matches!(b, b' ' | b',' | b';'))
            });
            let cued = if glued_to_letter(bytes, i) {
                let word_start = (0..i)
                    .rev()
                    .find(|&k| !bytes[k].is_ascii_alphabetic())
                    .map_or(0, |k| k + 1);
                let word = String::from_utf8_lossy(&bytes[word_start..i]).to_ascii_lowercase();
                matches!(word.as_str(), "cvv" | "cvc" | "csc")
            } else {
                follows_cue(
                    &words_before(scan, i, 5),
                    SECURITY_CODE_CUES,
                    SECURITY_CODE_FILLERS,
                )
            };
            if after_card_expiry || cued {
                details.push(Found::new(PiiKind::CardSecurityCode, i, run_end));
            }
        }
        let pin_like = (4..=6).contains(&(run_end - i))
            && ends_alone(bytes, run_end)
            && !glued_to_letter(bytes, i);
        if pin_like && follows_cue(&words_before(scan, i, 5), PIN_CUES, PIN_FILLERS) {
            details.push(Found::new(PiiKind::Pin, i, run_end));
        }
        i = run_end;
    }
    found.append(&mut details);
}

/// Masks the word after a word for a password when it looks like one: four characters
/// or more with a digit, a symbol (not an apostrophe or a hyphen) or a capital after
/// the first letter ("hunter2", "Tr0ub4dor&3"), so that "my password is not working"
/// and "my passcode doesn't work" keep their words.
fn find_passwords(scan: &Scan, found: &mut Vec<Found>) {
    let chars = &scan.chars;
    let mut start = 0;
    while start < chars.len() {
        if chars[start].is_whitespace() {
            start += 1;
            continue;
        }
        let mut end = (start..chars.len())
            .find(|&k| chars[k].is_whitespace())
            .unwrap_or(chars.len());
        let next = end;
        // Punctuation that ends a sentence is not part of the word.
        while end > start && matches!(chars[end - 1], '.' | ',' | '!' | '?' | ';' | ')') {
            end -= 1;
        }
        let word = &chars[start..end];
        let looks_secret = word.len() >= 4
            && !word.iter().any(|&c| matches!(c, '[' | ']'))
            && word.iter().enumerate().any(|(k, c)| {
                let symbol = !c.is_alphanumeric() && !matches!(c, '\'' | '\u{2019}' | '-');
                c.is_numeric() || symbol || (k > 0 && c.is_uppercase())
            });
        if looks_secret
            && follows_cue(
                &words_before(scan, start, 5),
                PASSWORD_CUES,
                PASSWORD_FILLERS,
            )
        {
            found.push(Found::new(PiiKind::Password, start, end));
        }
        start = next;
    }
}

fn is_number_sep(b: u8) -> bool {
    matches!(b, b'/' | b'-' | b'.' | b',')
}

fn digits_end(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() && bytes[i].is_ascii_digit() {
        i += 1;
    }
    i
}

/// Whether a number ending at `end` stands alone: no letter or digit right after it, and
/// no other number joined to it (`123/45`, `123-456`, `12.50`).
fn ends_alone(bytes: &[u8], end: usize) -> bool {
    let next = bytes.get(end).copied();
    let joined =
        next.is_some_and(is_number_sep) && bytes.get(end + 1).is_some_and(u8::is_ascii_digit);
    !next.is_some_and(|b| b.is_ascii_alphanumeric()) && !joined
}

fn glued_to_letter(bytes: &[u8], at: usize) -> bool {
    at > 0 && bytes[at - 1].is_ascii_alphabetic()
}

/// The end of a date `MM/YY`, `MM/YYYY`, `MM-YY` or `MM-YYYY` whose month is the digits
/// at `start..month_end`, if it is one and stands alone (not `12/03/2024`).
fn expiry_date_at(bytes: &[u8], start: usize, month_end: usize) -> Option<usize> {
    let month = &bytes[start..month_end];
    let month_value = match month {
        [d] => d - b'0',
        [t, d] => (t - b'0') * 10 + (d - b'0'),
        _ => return None,
    };
    if !(1..=12).contains(&month_value) || !matches!(bytes.get(month_end), Some(b'/' | b'-')) {
        return None;
    }
    let year_start = month_end + 1;
    let year_end = digits_end(bytes, year_start);
    let year = &bytes[year_start..year_end];
    let year_ok = match year.len() {
        2 => true,
        4 => year.starts_with(b"20") || year.starts_with(b"19"),
        _ => false,
    };
    (year_ok && ends_alone(bytes, year_end)).then_some(year_end)
}

/// Whether at most [`EXPIRY_NEAR_CARD_WORDS`] words, and no number or mask, stand
/// between characters `from` and `to`.
fn words_between(scan: &Scan, from: usize, to: usize) -> bool {
    if from > to {
        return false;
    }
    let between = &scan.chars[from..to];
    if between.iter().any(|c| c.is_numeric()) || (from..to).any(|k| scan.ends_words(k)) {
        return false;
    }
    let words = between
        .split(|c| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .count();
    words <= EXPIRY_NEAR_CARD_WORDS
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn masked(text: &str) -> String {
        redact_pii(text).text
    }

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
    fn masks_numbers_pasted_with_the_spaces_and_dots_apps_use() {
        for card in [
            "4111\u{00A0}1111\u{00A0}1111\u{00A0}1111",
            "4111\u{202F}1111\u{202F}1111\u{202F}1111",
            "4111\u{2009}1111\u{2009}1111\u{2009}1111",
            "4111.1111.1111.1111",
            "4111  1111  1111  1111",
            "4111 \u{2013} 1111 \u{2013} 1111 \u{2013} 1111",
        ] {
            assert_eq!(
                masked(&format!("card {card} please")),
                "card [card •••• 1111] please",
                "{card:?}"
            );
        }
        let phone = masked("call +33\u{00A0}6\u{00A0}12\u{00A0}34\u{00A0}56\u{00A0}78 today");
        assert_eq!(phone, "call [phone] today");
        // Dots and wide gaps only in a card's printed shape: not dates, not addresses
        // (these digits pass the card checksum).
        for kept in ["flight 03.04.2024 - 10.04.2024", "router 192.168.178.106"] {
            assert!(
                !masked(kept).contains("[card"),
                "{kept} -> {}",
                masked(kept)
            );
        }
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

    /// Customer tester #19: the IBAN mask swallowed the next word.
    #[test]
    fn iban_ends_at_its_countrys_length() {
        assert_eq!(
            masked("my IBAN is FR76 3000 6000 0112 3456 7890 189 please refund there"),
            "my IBAN is [iban] please refund there"
        );
        assert_eq!(
            masked("FR7630006000011234567890189 please"),
            "[iban] please"
        );
        // One character short or long of France's 27 is not an IBAN.
        assert_eq!(
            masked("FR76 3000 6000 0112 3456 7890 18"),
            "FR76 3000 6000 0112 3456 7890 18"
        );
        assert!(!masked("FR763000600001123456789018900").contains("[iban]"));
        assert_eq!(iban_length(*b"fr"), Some(27));
        assert_eq!(iban_length(*b"XX"), None);
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

    /// Agent tester A10: numbers in Arabic-Indic digits reached the agent unmasked.
    #[test]
    fn digits_of_other_scripts_are_digits() {
        let ascii = redact_pii("card 4111 1111 1111 1111 please");
        for text in [
            "card ٤١١١ ١١١١ ١١١١ ١١١١ please",
            "card ۴۱۱۱ ۱۱۱۱ ۱۱۱۱ ۱۱۱۱ please",
            "card ４１１１ １１１１ １１１１ １１１１ please",
            "card 4111 ١١١١ ۱۱۱۱ １１１１ please",
        ] {
            let r = redact_pii(text);
            assert_eq!(r.text, ascii.text, "{text}");
            assert_eq!(r.spans, ascii.spans, "{text}");
        }
        let r = redact_pii("رقم هاتفي ٠٧٧٠٠٩٠٠١٢٣ شكرا");
        assert_eq!(r.text, "رقم هاتفي [phone] شكرا");
        assert_eq!(&r.text[r.spans[0].start..r.spans[0].end], "[phone]");
        assert_eq!(masked("＋４４ ２０ ７９４６ ０９５８"), "[phone]");
        assert_eq!(
            masked("IBAN ＦＲ７６ ３０００ ６０００ ０１１２ ３４５６ ７８９０ １８９"),
            "IBAN [iban]"
        );
        // Arabic text with an ASCII card after it keeps its bytes.
        assert_eq!(
            masked("بطاقتي ٤٢٤٢٤٢٤٢٤٢٤٢٤٢٤٢ سُرقت"),
            "بطاقتي [card •••• 4242] سُرقت"
        );
    }

    /// Customer tester #1 and agent tester A10: expiry dates and security codes were
    /// left beside a masked card.
    #[test]
    fn masks_security_codes_and_expiry_dates() {
        for (text, expected) in [
            (
                "card 4111 1111 1111 1111 exp 12/27 cvv 123",
                "card [card •••• 1111] exp [expiry] cvv [cvv]",
            ),
            (
                "security code 737 expiry 03/26",
                "security code [cvv] expiry [expiry]",
            ),
            ("CVV: 123, expires 09/2027", "CVV: [cvv], expires [expiry]"),
            ("my cvc2 is 4321", "my cvc2 is [cvv]"),
            ("cvv123", "cvv[cvv]"),
            // Found by the idempotence property: the code is alone once the phone
            // number joined to it is masked, so it is masked at once too.
            ("cvv 000/000000000٤١١١", "cvv [cvv]/[phone]"),
            ("the CVV number is 123", "the CVV number is [cvv]"),
            ("valid thru 11-28", "valid thru [expiry]"),
            ("expiry date: 1/29", "expiry date: [expiry]"),
            (
                "4111111111111111 12/27 123",
                "[card •••• 1111] [expiry] [cvv]",
            ),
            (
                "4111111111111111, 12/27, 123",
                "[card •••• 1111], [expiry], [cvv]",
            ),
            ("4111 1111 1111 1111 12/27", "[card •••• 1111] [expiry]"),
            (
                "it expires 03/27 on card 4111111111111111",
                "it expires [expiry] on card [card •••• 1111]",
            ),
            (
                "12/27 on card 4111111111111111",
                "[expiry] on card [card •••• 1111]",
            ),
            // French and Arabic.
            (
                "carte 4111 1111 1111 1111, date d'expiration 08/26, cryptogramme 123",
                "carte [card •••• 1111], date d'expiration [expiry], cryptogramme [cvv]",
            ),
            (
                "le code de sécurité est 456",
                "le code de sécurité est [cvv]",
            ),
            (
                "رمز الأمان ٧٣٧ تاريخ الانتهاء ٠٣/٢٦",
                "رمز الأمان [cvv] تاريخ الانتهاء [expiry]",
            ),
        ] {
            assert_eq!(masked(text), expected, "{text}");
        }
        let r = redact_pii("exp 12/27 cvv 123");
        let kinds: Vec<PiiKind> = r.spans.iter().map(|s| s.kind).collect();
        assert_eq!(kinds, [PiiKind::CardExpiry, PiiKind::CardSecurityCode]);
        for s in &r.spans {
            assert!(r.text[s.start..s.end].starts_with('['));
        }
    }

    /// PINs and passwords are the most dangerous things a customer can type into a chat:
    /// nobody at the shop may ever see them.
    #[test]
    fn masks_pins_and_passwords() {
        for (text, expected) in [
            ("my PIN is 4821", "my PIN is [pin]"),
            (
                "I changed my pin to 0912 yesterday",
                "I changed my pin to [pin] yesterday",
            ),
            ("new PIN code: 123456", "new PIN code: [pin]"),
            (
                "mon code confidentiel est 7391",
                "mon code confidentiel est [pin]",
            ),
            ("الرقم السري ٤٨٢١", "الرقم السري [pin]"),
            ("my password is hunter2", "my password is [password]"),
            ("password: Tr0ub4dor&3.", "password: [password]."),
            ("passcode 928174", "passcode [password]"),
            (
                "mon mot de passe est Azerty123",
                "mon mot de passe est [password]",
            ),
            ("كلمة المرور هي Salam2024", "كلمة المرور هي [password]"),
        ] {
            assert_eq!(masked(text), expected, "{text}");
        }
        for text in [
            "my PIN was blocked after 3 attempts",
            "PIN blocked since 2023",
            "My passcode doesn't work",
            "my password is not working",
            "I forgot my password, can you reset it",
            "pin 12345678",
        ] {
            assert_eq!(masked(text), text);
        }
        assert_eq!(masked(&masked("pin 4821")), "pin [pin]");
    }

    #[test]
    fn ordinary_dates_and_numbers_stay() {
        for text in [
            "order #123456789 placed 12/03/2024",
            "placed 12/03/2024, due 05/06",
            "I ordered 3 on 12/05 and 120 on 01/06",
            "it cost 123 euros",
            "room 404, floor 12",
            "delivered 2024-01-15",
            "card 4242 4242 4242 4242 placed 12/03/2024",
            "security is 12/10, code 123",
        ] {
            let r = masked(text);
            assert!(
                !r.contains("[expiry]") && !r.contains("[cvv]"),
                "{text} -> {r}"
            );
        }
    }

    /// Customer tester #12: order numbers, references and amounts were masked as phones.
    #[test]
    fn order_numbers_references_and_amounts_are_not_phones() {
        for text in [
            "order #123456789 placed 12/03/2024",
            "order # 123456789",
            "my order number is LK-2024-558812",
            "reference 558812334",
            "ref: 558812334",
            "commande 123456789",
            "commande n° 123456789",
            "numéro de commande : 123456789",
            "invoice no. 2024001234",
            "facture 2024001234",
            "tracking number 123456789012",
            "I paid €1 234 567 89 total",
            "I paid € 123456789",
            "that is 1 234 567 89 € in total",
            "EUR 123456789",
            "123456789 dollars",
            "رقم الطلب ١٢٣٤٥٦٧٨٩",
        ] {
            let r = masked(text);
            assert!(!r.contains("[phone]"), "{text} -> {r}");
        }
    }

    #[test]
    fn phones_stay_masked_next_to_orders() {
        for (text, expected) in [
            ("+33 6 12 34 56 78", "[phone]"),
            ("(415) 555-0132", "[phone]"),
            ("07700 900123", "[phone]"),
            ("0770 090 0123", "[phone]"),
            (
                "my order is late, call 07700 900123",
                "my order is late, call [phone]",
            ),
            (
                "call me about my order on 07700900123",
                "call me about my order on [phone]",
            ),
            ("order #123 or +44 20 7946 0958", "order #123 or [phone]"),
            ("order number +447700900123", "order number [phone]"),
            (
                "phone: 0612345678, order 987654321",
                "phone: [phone], order 987654321",
            ),
            ("tel-0612345678", "tel-0612345678"),
        ] {
            // A dash glued to letters reads as an identifier's prefix (`LK-`), so
            // `tel-0612345678` stays: a documented cost of that cue.
            assert_eq!(masked(text), expected, "{text}");
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

    /// `text` with its ASCII digits written in another script.
    fn in_script(text: &str, zero: char) -> String {
        text.chars()
            .map(|c| match c.to_digit(10) {
                Some(d) if c.is_ascii_digit() => char::from_u32(u32::from(zero) + d).unwrap(),
                _ => c,
            })
            .collect()
    }

    /// `text` with every digit of any script written in ASCII.
    fn in_ascii(text: &str) -> String {
        text.chars()
            .map(|c| match fold_char(c) {
                d @ b'0'..=b'9' => char::from(d),
                _ => c,
            })
            .collect()
    }

    /// An IBAN of `country` with `body` (digits), its check digits computed.
    fn iban_of(country: &str, body: &str) -> String {
        let rearranged: String = body
            .chars()
            .chain(country.chars())
            .chain("00".chars())
            .map(|c| {
                if c.is_ascii_digit() {
                    c.to_string()
                } else {
                    (u32::from(c) - u32::from('A') + 10).to_string()
                }
            })
            .collect();
        let rem = rearranged
            .bytes()
            .fold(0u32, |r, d| (r * 10 + u32::from(d - b'0')) % 97);
        format!("{country}{:02}{body}", 98 - rem)
    }

    #[test]
    fn brackets_that_are_not_masks_stay_words() {
        assert_eq!(
            masked_pieces("[note] [card •••• 12ab] [phone"),
            [MaskedPiece::Text("[note] [card •••• 12ab] [phone")]
        );
        assert_eq!(
            masked_pieces("call [phone]"),
            [
                MaskedPiece::Text("call "),
                MaskedPiece::Mask {
                    kind: PiiKind::Phone,
                    last_four: ""
                }
            ]
        );
    }

    const SCRIPTS: [char; 4] = ['0', '\u{0660}', '\u{06F0}', '\u{FF10}'];

    proptest! {
        #[test]
        fn card_digits_never_survive(
            body in proptest::collection::vec(b'0'..=b'9', 11..=18),
            sep in prop_oneof![
                Just(""), Just(" "), Just("-"), Just("."), Just("  "), Just("\t"),
                Just("\u{00A0}"), Just("\u{202F}"), Just("\u{2009}"), Just("\u{2013}"),
            ],
            prefix in "[a-zA-Z ,.:]{0,12}",
            suffix in "[a-zA-Z ,.!?]{0,12}",
            script in 0..SCRIPTS.len(),
        ) {
            let digits = luhn_complete(body);
            let digits = String::from_utf8(digits).unwrap();
            let grouped: Vec<String> = digits.as_bytes().chunks(4)
                .map(|c| String::from_utf8(c.to_vec()).unwrap()).collect();
            let text = in_script(&format!("{prefix}{}{suffix}", grouped.join(sep)), SCRIPTS[script]);
            let r = redact_pii(&text);
            let leftover: String = in_ascii(&r.text).chars().filter(char::is_ascii_digit).collect();
            prop_assert!(!leftover.contains(&digits), "{} -> {}", text, r.text);
            prop_assert!(leftover.len() <= 4, "{} -> {}", text, r.text);
        }

        /// Writing the digits in another script masks the same things.
        #[test]
        fn every_digit_script_is_masked_alike(
            text in "([a-z]{1,8}|[0-9]{1,5}|[ #@.+()/\\-]|€|cvv |exp |order ){0,16}",
            script in 1..SCRIPTS.len(),
        ) {
            let ascii = redact_pii(&text);
            let other = redact_pii(&in_script(&text, SCRIPTS[script]));
            prop_assert_eq!(in_ascii(&other.text), ascii.text.clone());
            let kinds = |r: &Redacted| r.spans.iter().map(|s| s.kind).collect::<Vec<_>>();
            prop_assert_eq!(kinds(&other), kinds(&ascii));
        }

        /// Every mask written is read back, in order, and nothing else is.
        #[test]
        fn masks_read_back_as_written(
            text in "([a-z]{1,8}|[0-9]{1,5}|[ @.+()/\\-]|\\[|cvv |exp |4111 1111 1111 1111 |a.b@example.com |FR76 3000 6000 0112 3456 7890 189 ){0,12}",
        ) {
            let r = redact_pii(&text);
            let pieces = masked_pieces(&r.text);
            let kinds: Vec<PiiKind> = pieces
                .iter()
                .filter_map(|p| match p {
                    MaskedPiece::Mask { kind, .. } => Some(*kind),
                    MaskedPiece::Text(_) => None,
                })
                .collect();
            prop_assert_eq!(kinds, r.spans.iter().map(|s| s.kind).collect::<Vec<_>>());
            let rebuilt: String = pieces
                .iter()
                .map(|p| match p {
                    MaskedPiece::Text(words) => (*words).to_owned(),
                    MaskedPiece::Mask { kind: PiiKind::CardNumber, last_four } => {
                        format!("{}{last_four}]", PiiKind::CardNumber.mask())
                    }
                    MaskedPiece::Mask { kind, .. } => kind.mask().to_owned(),
                })
                .collect();
            prop_assert_eq!(rebuilt, r.text);
        }

        #[test]
        fn redaction_is_idempotent(text in "[a-z0-9 @.+()\\-]{0,60}") {
            let once = redact_pii(&text);
            let twice = redact_pii(&once.text);
            prop_assert_eq!(&once.text, &twice.text);
        }

        /// Cue words, dates and numbers mixed: masking twice changes nothing more.
        #[test]
        fn redaction_with_cues_is_idempotent(
            text in "(cvv |exp |expiry |is |on |order |# |ref |card |[0-9]{1,5}|[0-9]{1,2}/[0-9]{2}|4111 1111 1111 1111 |٤١١١|[ /,\\-]|€|\\[|\\]){0,14}",
        ) {
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

        /// Phone numbers are masked whatever ordinary words come before them.
        #[test]
        fn phones_after_ordinary_words_are_masked(
            words in "([a-z]{2,8} ){0,4}",
            digits in proptest::collection::vec(b'0'..=b'9', 9..=11),
            sep in prop_oneof![Just(" "), Just("-"), Just("."), Just("")],
        ) {
            let ordinary = words.split(' ').all(|w| {
                !ORDER_WORDS.contains(&w) && !ORDER_FILLERS.contains(&w)
                    && !CURRENCY_WORDS.contains(&w) && !SECURITY_CODE_CUES.contains(&w)
                    && !EXPIRY_CUES.contains(&w)
            });
            prop_assume!(ordinary);
            let number: Vec<String> = digits.chunks(3)
                .map(|c| String::from_utf8(c.to_vec()).unwrap()).collect();
            let text = format!("{words}0{}", number.join(sep));
            let r = redact_pii(&text);
            prop_assert!(r.text.ends_with("[phone]") || r.text.contains("[card"), "{} -> {}", text, r.text);
        }

        /// An IBAN of any country in the table is masked, and the word after it kept.
        #[test]
        fn ibans_keep_the_next_word(
            country in 0..IBAN_LENGTHS.split_ascii_whitespace().count(),
            digits in proptest::collection::vec(b'0'..=b'9', 30),
            // Not "cvc123": that would be a security code.
            next in "[a-bd-z][a-z]{0,2}[0-9]{0,4}",
            spaced in any::<bool>(),
        ) {
            let entry = IBAN_LENGTHS.split_ascii_whitespace().nth(country).unwrap();
            let (code, length) = (&entry[..2], entry[2..].parse::<usize>().unwrap());
            let body = String::from_utf8(digits[..length - 4].to_vec()).unwrap();
            let iban = iban_of(code, &body);
            let iban = if spaced {
                iban.as_bytes().chunks(4).map(|c| std::str::from_utf8(c).unwrap())
                    .collect::<Vec<_>>().join(" ")
            } else {
                iban
            };
            let r = redact_pii(&format!("IBAN {iban} {next}"));
            prop_assert_eq!(r.text, format!("IBAN [iban] {next}"));
        }
    }
}
