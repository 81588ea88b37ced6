//! The training path (feature `train`): knowledge-base TOML, example CSV, deterministic
//! hold-out splits, the trainer and evaluation. Never compiled into the widget.
//!
//! Determinism: every random choice comes from [`SplitMix64`] seeded by the caller,
//! iteration orders are sorted, and the trainer is single-threaded, so the same inputs
//! and options give byte-identical model files on the same platform.

use std::collections::BTreeMap;

use baton_protocol::{is_id_byte, MAX_ID_BYTES};
use serde::Deserialize;

use crate::engine::Engine;
use crate::error::TriageError;
use crate::features::{extract, normalize, FeatureConfig, Features};
use crate::kb::{refused_answer_link, url_problem, KbEntry, KbLink};
use crate::language::is_language_tag;
use crate::model::{BinaryHead, Linear, ModelFile, WordTable, WordVectorClassifier};
use crate::redact::redact_pii;
use crate::signals::recognised_language;
pub use crate::word_vectors::{read_word_vectors, WordVectors};

/// One labelled training or evaluation message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Example {
    /// The customer's message.
    pub text: String,
    /// The intent id.
    pub label: String,
    /// 1-based line of the row in its file, for error messages.
    pub line: usize,
}

/// Longest customer message, in bytes, as the edge takes it. Longer example rows are
/// refused, and `baton classify` and `baton chat` classify only this much of a line.
pub use baton_protocol::MAX_MESSAGE_BYTES;

/// Reads a `text,category` CSV (header required, RFC 4180 quoting, a leading UTF-8
/// byte-order mark ignored). A row's text must be non-empty and at most
/// [`MAX_MESSAGE_BYTES`] long.
pub fn read_examples(file: &str, contents: &str) -> Result<Vec<Example>, TriageError> {
    let mut out = Vec::new();
    for (line, [text, label]) in read_columns(file, contents, ["text", "category"])? {
        let bad = |problem: String| TriageError::Examples {
            file: file.into(),
            line,
            problem,
        };
        let label = label.trim().to_string();
        if label.is_empty() {
            return Err(bad("field `category` is empty".into()));
        }
        if text.trim().is_empty() {
            return Err(bad("field `text` is empty".into()));
        }
        if text.len() > MAX_MESSAGE_BYTES {
            return Err(bad(format!(
                "field `text` is {} bytes long; a customer message is at most {MAX_MESSAGE_BYTES}",
                text.len()
            )));
        }
        out.push(Example { text, label, line });
    }
    Ok(out)
}

/// Reads messages labelled with their language (CSV `text,language`, BCP 47 tags such
/// as `fr` or `pt-BR`), for scoring how the engine tells languages apart; the language
/// is each [`Example`]'s label.
pub fn read_language_rows(file: &str, contents: &str) -> Result<Vec<Example>, TriageError> {
    let mut out = Vec::new();
    for (line, [text, language]) in read_columns(file, contents, ["text", "language"])? {
        if !is_language_tag(language.trim()) {
            return Err(TriageError::Examples {
                file: file.into(),
                line,
                problem: "field `language` is not a language tag such as `en` or `pt-BR`".into(),
            });
        }
        out.push(Example {
            text,
            label: language.trim().to_string(),
            line,
        });
    }
    Ok(out)
}

/// Rows whose text (trimmed, case-insensitive) is also a row of another category, as
/// `(first, other)` positions in `examples`: for each such text, its first row and the
/// first row of each other category, in file order.
pub fn conflicting_labels<'a>(
    examples: impl IntoIterator<Item = &'a Example>,
) -> Vec<(usize, usize)> {
    // Per text, the first row of each category it was seen under.
    let mut rows_of: BTreeMap<String, Vec<(usize, &str)>> = BTreeMap::new();
    let mut out = Vec::new();
    for (i, e) in examples.into_iter().enumerate() {
        let seen = rows_of.entry(e.text.trim().to_lowercase()).or_default();
        if seen.iter().any(|&(_, label)| label == e.label) {
            continue;
        }
        if let Some(&(first, _)) = seen.first() {
            out.push((first, i));
        }
        seen.push((i, &e.label));
    }
    out
}

/// `contents` without a leading UTF-8 byte-order mark (Excel's "CSV UTF-8" writes one).
fn without_bom(contents: &str) -> &str {
    contents.strip_prefix('\u{feff}').unwrap_or(contents)
}

/// At most `max` characters of `text`, with `…` when cut (for echoing a header).
/// Whether `text` can be an intent's id: ASCII letters, digits, `_`, `-`, `.` and `?`.
pub fn is_intent_id(text: &str) -> bool {
    !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '?' | '.'))
}

/// A category as an error message may show it: an intent id in backticks, and
/// anything else (a customer's message in the wrong column, say) not at all, since it
/// may hold personal data.
pub fn category_in_error(category: &str) -> String {
    const LONGEST_SHOWN: usize = 64;
    if is_intent_id(category) && category.len() <= LONGEST_SHOWN {
        format!("`{category}`")
    } else {
        "(not an intent id, so not shown: are the `text` and `category` columns the right way round?)"
            .to_string()
    }
}

/// What a header row that does not name the expected columns looks like, for an error:
/// its fields when they look like column names, and otherwise only that it is not a
/// header (a file without one starts with a message, which may hold personal data).
fn header_in_error(header: &[String]) -> String {
    if header.len() == 1 && header[0].contains(';') {
        return "a row separated by `;` (Baton reads commas: save the file as CSV with commas)"
            .to_string();
    }
    let looks_like_names = header
        .iter()
        .all(|h| h.trim().len() <= 40 && is_intent_id(h.trim()));
    if looks_like_names {
        format!("`{}`", header.join(","))
    } else {
        "a row that is not a header (not shown: the first line must name the columns)".to_string()
    }
}

/// The named columns of every non-blank row of a CSV with a header, with the 1-based
/// line each row starts on.
fn read_columns<const N: usize>(
    file: &str,
    contents: &str,
    names: [&str; N],
) -> Result<Vec<(usize, [String; N])>, TriageError> {
    let wanted = names.join(",");
    let rows = parse_csv(file, without_bom(contents))?;
    let mut rows = rows.into_iter();
    let (header_line, header) = rows.next().ok_or_else(|| TriageError::Examples {
        file: file.into(),
        line: 1,
        problem: format!("the file is empty; expected a `{wanted}` header"),
    })?;
    let mut cols = [0usize; N];
    for (col, name) in cols.iter_mut().zip(names) {
        *col = header
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(name))
            .ok_or_else(|| TriageError::Examples {
                file: file.into(),
                line: header_line,
                problem: format!(
                    "header must name the columns {}; found {}",
                    names.map(|n| format!("`{n}`")).join(" and "),
                    header_in_error(&header)
                ),
            })?;
    }
    let mut out = Vec::new();
    for (line, mut fields) in rows {
        if fields.len() == 1 && fields[0].trim().is_empty() {
            continue;
        }
        if fields.len() != header.len() {
            return Err(TriageError::Examples {
                file: file.into(),
                line,
                problem: format!("expected {} fields, found {}", header.len(), fields.len()),
            });
        }
        out.push((line, cols.map(|c| std::mem::take(&mut fields[c]))));
    }
    Ok(out)
}

/// Soft labels written by an external teacher (`crates/triage/teacher/teacher.py`):
/// for each message, the teacher's most likely intents and their probabilities.
///
/// Training messages found here are distilled towards these probabilities instead of
/// their one-hot label; messages that are not training rows are added as extra
/// training rows labelled by the teacher. Stored sorted by text, so lookups and the
/// order of the extra rows are deterministic.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TeacherTargets {
    rows: Vec<TeacherRow>,
}

/// One message and the teacher's top intents for it, most likely first.
#[derive(Debug, Clone, PartialEq)]
pub struct TeacherRow {
    /// The message.
    pub text: String,
    /// `(intent id, probability)`, most likely first; probabilities sum to at most 1.
    pub top: Vec<(String, f32)>,
    /// 1-based line in the teacher file, for error messages.
    pub line: usize,
}

impl TeacherTargets {
    /// Every row, sorted by text.
    pub fn rows(&self) -> &[TeacherRow] {
        &self.rows
    }

    /// The teacher's row for `text`, if it has one.
    pub fn get(&self, text: &str) -> Option<&TeacherRow> {
        self.rows
            .binary_search_by(|r| r.text.as_str().cmp(text))
            .ok()
            .map(|i| &self.rows[i])
    }

    /// The same targets without the messages for which `drop` is true.
    pub fn without(&self, drop: impl Fn(&str) -> bool) -> TeacherTargets {
        TeacherTargets {
            rows: self
                .rows
                .iter()
                .filter(|r| !drop(&r.text))
                .cloned()
                .collect(),
        }
    }
}

/// Reads a teacher file: CSV with the columns `text` and `soft`, where `soft` lists
/// `intent:probability` pairs separated by spaces, most likely first. A message may
/// appear once.
pub fn read_teacher_targets(file: &str, contents: &str) -> Result<TeacherTargets, TriageError> {
    let bad = |line, problem: String| TriageError::Examples {
        file: file.into(),
        line,
        problem,
    };
    let mut out = Vec::new();
    for (line, [text, soft]) in read_columns(file, contents, ["text", "soft"])? {
        let mut top = Vec::new();
        for pair in soft.split_whitespace() {
            let parsed = pair
                .rsplit_once(':')
                .and_then(|(intent, p)| Some((intent.to_string(), p.parse::<f32>().ok()?)));
            match parsed {
                Some((intent, p)) if !intent.is_empty() && (0.0..=1.0).contains(&p) => {
                    top.push((intent, p));
                }
                _ => return Err(bad(
                    line,
                    "field `soft` must be `intent:probability` pairs with probabilities in [0, 1]"
                        .into(),
                )),
            }
        }
        if top.is_empty() {
            return Err(bad(line, "field `soft` is empty".into()));
        }
        out.push(TeacherRow { text, top, line });
    }
    out.sort_by(|a, b| a.text.cmp(&b.text));
    if let Some(w) = out.windows(2).find(|w| w[0].text == w[1].text) {
        return Err(bad(
            w[1].line.max(w[0].line),
            format!(
                "the same message is also on line {}",
                w[1].line.min(w[0].line)
            ),
        ));
    }
    Ok(TeacherTargets { rows: out })
}

/// Splits CSV text into rows of fields, with the 1-based line each row starts on.
fn parse_csv(file: &str, contents: &str) -> Result<Vec<(usize, Vec<String>)>, TriageError> {
    let mut rows = Vec::new();
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut in_quotes = false;
    let mut line = 1;
    let mut row_line = 1;
    let mut chars = contents.chars().peekable();
    let mut at_field_start = true;
    while let Some(c) = chars.next() {
        if in_quotes {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => in_quotes = false,
                '\n' => {
                    line += 1;
                    field.push(c);
                }
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if at_field_start => {
                in_quotes = true;
                at_field_start = false;
            }
            ',' => {
                fields.push(std::mem::take(&mut field));
                at_field_start = true;
            }
            '\r' => {}
            '\n' => {
                fields.push(std::mem::take(&mut field));
                rows.push((row_line, std::mem::take(&mut fields)));
                line += 1;
                row_line = line;
                at_field_start = true;
            }
            _ => {
                field.push(c);
                at_field_start = false;
            }
        }
    }
    if in_quotes {
        return Err(TriageError::Examples {
            file: file.into(),
            line: row_line,
            problem: "a quoted field is never closed".into(),
        });
    }
    if !field.is_empty() || !fields.is_empty() {
        fields.push(field);
        rows.push((row_line, fields));
    }
    Ok(rows)
}

/// A parsed knowledge base.
#[derive(Debug, Clone, PartialEq)]
pub struct KnowledgeBase {
    /// `[site] id`.
    pub site_id: String,
    /// `[site] name`.
    pub site_name: String,
    /// `[site] language`, a BCP 47 tag, when the file states it.
    pub stated_language: Option<String>,
    /// The `[[intent]]` entries, in file order.
    pub entries: Vec<KbEntry>,
    /// 1-based line of each entry's `id`, for error messages.
    pub lines: Vec<usize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KbFile {
    site: SiteSection,
    #[serde(default)]
    intent: Vec<IntentSection>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SiteSection {
    id: toml::Spanned<String>,
    name: toml::Spanned<String>,
    language: Option<toml::Spanned<String>>,
}

/// Longest `answer`, in bytes (a chat answer is a few short paragraphs).
pub const MAX_ANSWER_BYTES: usize = 8_000;

/// Why the edge would refuse `id` as a site id (1 to [`MAX_ID_BYTES`] bytes of ASCII
/// letters, digits, `-` and `_`), or `None`.
fn site_id_problem(id: &str) -> Option<String> {
    if id.is_empty() {
        Some("is empty".into())
    } else if id.len() > MAX_ID_BYTES {
        Some(format!(
            "is {} bytes long; at most {MAX_ID_BYTES}",
            id.len()
        ))
    } else if !id.bytes().all(is_id_byte) {
        Some("may hold only ASCII letters, digits, `-` and `_` (it is the data-site of the embed tag)".into())
    } else {
        None
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IntentSection {
    id: toml::Spanned<String>,
    title: toml::Spanned<String>,
    answer: toml::Spanned<String>,
    #[serde(default)]
    links: Vec<toml::Spanned<KbLink>>,
    #[serde(default)]
    sensitive: bool,
}

fn line_of(text: &str, byte: usize) -> usize {
    text.as_bytes()[..byte.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// What to do about the commonest slip in a knowledge base's tables, when the text has
/// it: one bracket too few or too many (TOML then speaks of duplicate keys or maps and
/// sequences).
fn kb_table_hint(text: &str) -> &'static str {
    let has_line = |header: &str| text.lines().any(|line| line.trim() == header);
    if has_line("[intent]") {
        "\nhint: each entry starts with `[[intent]]`, in double brackets (`[intent]` is a single table)"
    } else if has_line("[[site]]") {
        "\nhint: `[site]` is written in single brackets: a knowledge base has one site"
    } else {
        ""
    }
}

/// Parses and validates a knowledge-base TOML file (a leading UTF-8 byte-order mark is
/// ignored). `file` names it in errors.
pub fn parse_kb(file: &str, text: &str) -> Result<KnowledgeBase, TriageError> {
    let text = without_bom(text);
    let parsed: KbFile = toml::from_str(text).map_err(|e| TriageError::KbSyntax {
        file: file.into(),
        message: format!("{}{}", e.to_string().trim_end(), kb_table_hint(text)),
    })?;
    let mut entries: Vec<KbEntry> = Vec::new();
    let mut lines = Vec::new();
    let invalid = |line, intent: &str, field, problem: &str| TriageError::KbInvalid {
        file: file.into(),
        line,
        intent: intent.into(),
        field,
        problem: problem.into(),
    };
    let site = |field, value: &toml::Spanned<String>, problem| TriageError::KbSite {
        file: file.into(),
        line: line_of(text, value.span().start),
        field,
        problem,
    };
    if let Some(problem) = site_id_problem(parsed.site.id.get_ref()) {
        return Err(site("id", &parsed.site.id, problem));
    }
    if parsed.site.name.get_ref().trim().is_empty() {
        return Err(site("name", &parsed.site.name, "is empty".into()));
    }
    if let Some(language) = &parsed.site.language {
        if !is_language_tag(language.get_ref()) {
            let problem = "is not a language tag: write it like `en`, `fr` or `pt-BR`".into();
            return Err(site("language", language, problem));
        }
    }
    for section in parsed.intent {
        let id_line = line_of(text, section.id.span().start);
        let id = section.id.into_inner();
        if !is_intent_id(&id) {
            return Err(invalid(
                id_line,
                &id,
                "id",
                "must be non-empty ASCII letters, digits, `_`, `-`, `.` or `?`",
            ));
        }
        if let Some(prev) = entries.iter().position(|e| e.id == id) {
            return Err(invalid(
                id_line,
                &id,
                "id",
                &format!("duplicate: already defined at line {}", lines[prev]),
            ));
        }
        if section.title.get_ref().trim().is_empty() {
            let line = line_of(text, section.title.span().start);
            return Err(invalid(line, &id, "title", "is empty"));
        }
        let answer_line = line_of(text, section.answer.span().start);
        let answer = section.answer.get_ref();
        if answer.trim().is_empty() {
            return Err(invalid(answer_line, &id, "answer", "is empty"));
        }
        if answer.len() > MAX_ANSWER_BYTES {
            let problem = format!("is {} bytes long; at most {MAX_ANSWER_BYTES}", answer.len());
            return Err(invalid(answer_line, &id, "answer", &problem));
        }
        if let Some((url, problem)) = refused_answer_link(answer) {
            // The line of the link: where its url is written inside the answer, if found.
            let span = section.answer.span();
            let line = text
                .get(span.clone())
                .and_then(|source| source.find(&url))
                .filter(|_| !url.is_empty())
                .map_or(answer_line, |at| line_of(text, span.start + at));
            return Err(invalid(line, &id, "answer", problem));
        }
        let mut links = Vec::new();
        for link in section.links {
            let line = line_of(text, link.span().start);
            let link = link.into_inner();
            if let Some(problem) = url_problem(&link.url) {
                return Err(invalid(line, &id, "links", problem));
            }
            if link.label.trim().is_empty() {
                return Err(invalid(line, &id, "links", "a link has an empty label"));
            }
            links.push(link);
        }
        lines.push(id_line);
        entries.push(KbEntry {
            id,
            title: section.title.into_inner().trim().to_string(),
            answer: section.answer.into_inner().trim().to_string(),
            links,
            sensitive: section.sensitive,
        });
    }
    if entries.is_empty() {
        return Err(TriageError::KbInvalid {
            file: file.into(),
            line: line_of(text, text.len()),
            intent: String::new(),
            field: "intent",
            problem: "the knowledge base has no [[intent]] entries".into(),
        });
    }
    Ok(KnowledgeBase {
        site_id: parsed.site.id.into_inner(),
        site_name: parsed.site.name.into_inner(),
        stated_language: parsed.site.language.map(toml::Spanned::into_inner),
        entries,
        lines,
    })
}

impl KnowledgeBase {
    /// The language of the knowledge base: `[site] language` as written, else the one
    /// its titles and answers are recognised in (English, French or Arabic), else empty
    /// (unknown: the engine then reads messages in any language as it would its own).
    pub fn language(&self) -> String {
        if let Some(stated) = &self.stated_language {
            return stated.clone();
        }
        let text: String = self
            .entries
            .iter()
            .flat_map(|e| [e.title.as_str(), e.answer.as_str()])
            .collect::<Vec<_>>()
            .join("\n");
        recognised_language(&normalize(&text))
            .unwrap_or_default()
            .to_string()
    }
}

/// A small deterministic random number generator (SplitMix64).
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator for `seed`.
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A uniform index below `n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// Fisher-Yates shuffle.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}

fn label_seed(seed: u64, label: &str) -> u64 {
    label.bytes().fold(seed ^ 0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Splits examples into (train, held-out), stratified by label: from each label,
/// `round(n * fraction)` rows chosen by `seed` are held out. Both halves keep file order.
/// The same file, fraction and seed always give the same split.
pub fn split_holdout(
    examples: &[Example],
    fraction: f64,
    seed: u64,
) -> Result<(Vec<Example>, Vec<Example>), TriageError> {
    if !(0.0..1.0).contains(&fraction) {
        return Err(TriageError::TrainOptions(format!(
            "hold-out fraction must be in [0, 1), got {fraction}"
        )));
    }
    let mut by_label: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, e) in examples.iter().enumerate() {
        by_label.entry(&e.label).or_default().push(i);
    }
    let mut held = vec![false; examples.len()];
    for (label, mut idx) in by_label {
        let mut rng = SplitMix64::new(label_seed(seed, label));
        rng.shuffle(&mut idx);
        let k = (idx.len() as f64 * fraction).round() as usize;
        for &i in idx.iter().take(k.min(idx.len().saturating_sub(1))) {
            held[i] = true;
        }
    }
    let (mut train, mut heldout) = (Vec::new(), Vec::new());
    for (e, h) in examples.iter().zip(held) {
        if h {
            heldout.push(e.clone());
        } else {
            train.push(e.clone());
        }
    }
    Ok((train, heldout))
}

/// The out-of-scope threshold of a model trained without one given: 0.2 for a model
/// that learnt an out-of-scope class, or knows many intents. A model with few intents
/// and nothing out of scope to learn from gives any message a sizeable share (1/8 each
/// for 8 intents, and easily 30-40 % for the likeliest), so its answer must be likelier
/// than three times that chance, up to 0.5: measured on CLINC150 domains as 8-intent
/// models (BENCHMARKS.md, "A site owner's own model"), 0.2 rejected 4.4 % of
/// out-of-scope questions, 0.375 63.8 %, keeping 96.7 % of in-scope ones.
pub fn default_oos_threshold(intents: usize, has_oos_class: bool) -> f32 {
    const FLOOR: f32 = 0.2;
    if has_oos_class {
        return FLOOR;
    }
    #[allow(clippy::cast_precision_loss)]
    let chance = 1.0 / intents.max(1) as f32;
    (3.0 * chance).clamp(FLOOR, 0.5)
}

/// Options of the trainer. `Default` gives the settings of the shipped demo model.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainOptions {
    /// Seed of every random choice.
    pub seed: u64,
    /// Passes over the training data.
    pub epochs: u32,
    /// AdaGrad learning rate.
    pub learning_rate: f32,
    /// L2 penalty on the weights touched by each example.
    pub l2: f32,
    /// L1 penalty (proximal, per touched weight): larger gives a smaller model.
    pub l1: f32,
    /// Keep only this many weights (largest magnitudes), 0 = keep all.
    pub max_weights: usize,
    /// Passes over the data after pruning to `max_weights`.
    pub finetune_epochs: u32,
    /// Keep only this many buckets (whole weight rows, largest norm first), 0 = all.
    pub max_rows: usize,
    /// Bits per quantised weight (2..=8); fewer bits compress better.
    pub quant_bits: u8,
    /// Row importance = weight norm x (feature mass ^ this); 0 ranks by norm alone.
    pub mass_power: f32,
    /// Quantile of |w| per class that maps to the largest int level (1.0 = the maximum).
    pub clip_quantile: f32,
    /// log2 of the number of hash buckets.
    pub buckets_log2: u8,
    /// Weight of word unigram features.
    pub word_weight: f32,
    /// Weight of word bigram features.
    pub bigram_weight: f32,
    /// Weight of character n-gram features.
    pub char_weight: f32,
    /// Character n-gram range.
    pub char_range: (u8, u8),
    /// Signed feature hashing (collisions cancel on average).
    pub signed_hashing: bool,
    /// When nonzero, first train a teacher with this many hash buckets (log2) and
    /// train the shipped model on its soft targets (knowledge distillation).
    pub distill_from_buckets_log2: u8,
    /// Softmax temperature of the teacher's targets.
    pub distill_temperature: f32,
    /// Weight of the true label against the teacher's targets (1.0 = no teacher).
    pub distill_alpha: f32,
    /// Teachers averaged (each with its own seed and hash space).
    pub distill_teachers: u8,
    /// Temperature applied to an external teacher's probabilities (`p ^ (1 / T)`).
    pub teacher_temperature: f32,
    /// Weight of an external teacher against the built-in n-gram teacher when both
    /// give targets (1.0 = the external teacher alone).
    pub teacher_weight: f32,
    /// Quantised weights with `|q| < min_quantized` are dropped (model size vs accuracy).
    pub min_quantized: u8,
    /// Fraction of the training rows set aside to fit the softmax temperature.
    pub calibration_fraction: f64,
    /// Class weighting: each example's loss is scaled by `(mean class size / its
    /// class size) ^ this` (0 = unweighted, 1 = fully balanced).
    pub class_balance: f32,
    /// Extra copies of each training message with random words dropped (0 = none).
    pub augment_copies: u32,
    /// Probability of dropping each word in an augmented copy.
    pub augment_drop: f32,
    /// Below this calibrated confidence a message is out of scope; `None` chooses it
    /// from the model (see [`default_oos_threshold`]).
    pub oos_threshold: Option<f32>,
    /// Static word vectors: the intent classifier also learns from each message's mean
    /// word vector (stored in the model, 4 bits a value).
    pub word_vectors: Option<std::sync::Arc<WordVectors>>,
    /// Weight of the mean word vector against the n-gram features.
    pub vector_weight: f32,
    /// Bits per quantised weight of the word-vector classifier (2..=8).
    pub vector_quant_bits: u8,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            seed: 7,
            epochs: 20,
            learning_rate: 0.1,
            l2: 1e-5,
            l1: 0.0,
            max_weights: 0,
            finetune_epochs: 4,
            max_rows: 0,
            quant_bits: 3,
            mass_power: 0.0,
            clip_quantile: 0.99,
            buckets_log2: 11,
            word_weight: 1.0,
            bigram_weight: 1.0,
            char_weight: 0.5,
            char_range: (3, 5),
            signed_hashing: false,
            distill_from_buckets_log2: 18,
            distill_temperature: 3.0,
            distill_alpha: 0.3,
            distill_teachers: 1,
            teacher_temperature: 1.0,
            teacher_weight: 0.5,
            min_quantized: 1,
            calibration_fraction: 0.1,
            oos_threshold: None,
            class_balance: 0.0,
            augment_copies: 0,
            augment_drop: 0.15,
            word_vectors: None,
            vector_weight: 2.0,
            vector_quant_bits: 6,
        }
    }
}

impl TrainOptions {
    fn feature_config(&self) -> FeatureConfig {
        FeatureConfig {
            buckets_log2: self.buckets_log2,
            word_weight: self.word_weight,
            bigram_weight: self.bigram_weight,
            char_weight: self.char_weight,
            char_min: self.char_range.0,
            char_max: self.char_range.1,
            signed: self.signed_hashing,
        }
    }
}

/// What the trainer measured.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainReport {
    /// Training rows used for the final model.
    pub examples: usize,
    /// Softmax temperature fitted on the calibration rows.
    pub temperature: f32,
    /// Top-1 accuracy on the calibration rows (model trained without them).
    pub calibration_accuracy: f32,
    /// Rows kept back to fit the temperature (0 when it was not fitted).
    pub calibration_rows: usize,
    /// The confidence below which the model calls a message out of scope.
    pub oos_threshold: f32,
    /// Nonzero int8 weights in the shipped model.
    pub nonzero_weights: usize,
    /// Size of the model file in bytes.
    pub model_bytes: usize,
    /// One report per trained head.
    pub heads: Vec<HeadReport>,
}

/// Labelled messages for a binary head: `handoff` (asks for a person) or
/// `frustration` (angry or distressed). Other names are stored but not used.
#[derive(Debug, Clone, PartialEq)]
pub struct HeadData {
    /// The head's name.
    pub name: String,
    /// Messages and whether they have the property.
    pub examples: Vec<(String, bool)>,
}

/// What training a head measured on its own calibration rows.
#[derive(Debug, Clone, PartialEq)]
pub struct HeadReport {
    /// The head's name.
    pub name: String,
    /// The probability threshold chosen (best F1 on the calibration rows).
    pub threshold: f32,
    /// Precision at that threshold.
    pub precision: f32,
    /// Recall at that threshold.
    pub recall: f32,
}

/// Logistic regression for one head; the threshold maximises F1 on held-out rows.
fn fit_head(
    head: &HeadData,
    options: &TrainOptions,
    config: &FeatureConfig,
) -> Result<(BinaryHead, HeadReport), TriageError> {
    if !head.examples.iter().any(|e| e.1) || head.examples.iter().all(|e| e.1) {
        return Err(TriageError::TrainOptions(format!(
            "head `{}` needs both positive and negative examples",
            head.name
        )));
    }
    let n = 1usize << config.buckets_log2;
    let data: Vec<(Features, bool)> = head
        .examples
        .iter()
        .map(|(t, y)| (featurize(config, t), *y))
        .collect();
    // Every tenth row (by a seeded shuffle) picks the threshold.
    let mut order: Vec<usize> = (0..data.len()).collect();
    let mut rng = SplitMix64::new(options.seed ^ 0x4845_4144);
    rng.shuffle(&mut order);
    let (calib, fit_rows) = order.split_at(data.len() / 10);
    let train_once = |rows: &[usize], rng: &mut SplitMix64| {
        let mut w = vec![0f32; n];
        let mut g2 = vec![1e-6f32; n];
        let (mut b, mut bg2) = (0f32, 1e-6f32);
        let mut rows = rows.to_vec();
        for _ in 0..options.epochs {
            rng.shuffle(&mut rows);
            for &i in &rows {
                let (f, y) = &data[i];
                let z = b + f.iter().map(|&(k, v)| w[k as usize] * v).sum::<f32>();
                let g = 1.0 / (1.0 + (-z).exp()) - if *y { 1.0 } else { 0.0 };
                bg2 += g * g;
                b -= options.learning_rate * g / bg2.sqrt();
                for &(k, v) in f {
                    let k = k as usize;
                    let gk = g * v + options.l2 * w[k];
                    g2[k] += gk * gk;
                    w[k] -= options.learning_rate * gk / g2[k].sqrt();
                }
            }
        }
        (w, b)
    };
    let (w, b) = train_once(fit_rows, &mut rng);
    let linear = quantize_head(&w, b, config.buckets_log2);
    let probe = BinaryHead {
        name: head.name.clone(),
        threshold: 0.5,
        linear,
    };
    let scored: Vec<(f32, bool)> = calib
        .iter()
        .map(|&i| (probe.linear.probability(&data[i].0), data[i].1))
        .collect();
    let mut best = (0f32, 0.5f32, 0f32, 0f32);
    for step in 1..100 {
        let t = step as f32 / 100.0;
        let tp = scored.iter().filter(|(p, y)| *p >= t && *y).count() as f32;
        let fp = scored.iter().filter(|(p, y)| *p >= t && !*y).count() as f32;
        let fn_ = scored.iter().filter(|(p, y)| *p < t && *y).count() as f32;
        let f1 = 2.0 * tp / (2.0 * tp + fp + fn_).max(1.0);
        if f1 > best.0 {
            best = (f1, t, tp / (tp + fp).max(1.0), tp / (tp + fn_).max(1.0));
        }
    }
    // The shipped head learns from every row.
    let all: Vec<usize> = (0..data.len()).collect();
    let (w, b) = train_once(&all, &mut rng);
    Ok((
        BinaryHead {
            name: head.name.clone(),
            threshold: best.1,
            linear: quantize_head(&w, b, config.buckets_log2),
        },
        HeadReport {
            name: head.name.clone(),
            threshold: best.1,
            precision: best.2,
            recall: best.3,
        },
    ))
}

fn quantize_head(w: &[f32], bias: f32, buckets_log2: u8) -> Linear {
    let buckets: Vec<u32> = (0..w.len() as u32).collect();
    quantize(&buckets, w, &[bias], 1, 1, 8, 1.0, buckets_log2)
}

/// The knowledge-base entry of every example, in order; an error names the first
/// example (by `examples_file` and line) whose category has no `[[intent]]` in `kb`.
/// [`train`] checks this itself; a caller combining several example files checks each
/// file first, so that the error names the right one.
pub fn check_categories(
    kb: &KnowledgeBase,
    kb_file: &str,
    examples: &[Example],
    examples_file: &str,
) -> Result<Vec<usize>, TriageError> {
    examples
        .iter()
        .map(|e| {
            kb.entries
                .iter()
                .position(|k| k.id == e.label)
                .ok_or_else(|| TriageError::KbMismatch {
                    file: kb_file.into(),
                    problem: format!(
                        "training category {} ({examples_file} line {}) has no [[intent]] in the knowledge base",
                        category_in_error(&e.label),
                        e.line
                    ),
                })
        })
        .collect()
}

/// Checks that the knowledge base and the examples list exactly the same intents.
fn check_labels(
    kb: &KnowledgeBase,
    kb_file: &str,
    examples: &[Example],
    examples_file: &str,
) -> Result<Vec<usize>, TriageError> {
    let labels = check_categories(kb, kb_file, examples, examples_file)?;
    let mut seen = vec![false; kb.entries.len()];
    for &i in &labels {
        seen[i] = true;
    }
    if let Some(i) = seen.iter().position(|s| !s) {
        return Err(TriageError::KbMismatch {
            file: kb_file.into(),
            problem: format!(
                "line {}: intent `{}` has no examples in {examples_file}",
                kb.lines.get(i).copied().unwrap_or(0),
                kb.entries[i].id
            ),
        });
    }
    Ok(labels)
}

/// Label of the out-of-scope rows inside the trainer (never a valid intent id).
const OUT_OF_SCOPE_LABEL: &str = "\u{0}out_of_scope";

fn class_of(kb: &KnowledgeBase, label: &str) -> Option<usize> {
    if label == OUT_OF_SCOPE_LABEL {
        return Some(kb.entries.len());
    }
    kb.entries.iter().position(|k| k.id == label)
}

fn featurize(config: &FeatureConfig, text: &str) -> Features {
    normalize_and_featurize(config, text).1
}

/// A message as the engine sees it: normalised text and its n-gram features.
fn normalize_and_featurize(config: &FeatureConfig, text: &str) -> (String, Features) {
    let normalized = normalize(&redact_pii(text).text);
    let features = extract(config, &normalized);
    (normalized, features)
}

/// Trains a model for `kb` from `examples` and returns the model file bytes.
///
/// `out_of_scope` holds messages that are not this site's business (e.g. CLINC150's
/// other domains); when non-empty the model gets an extra out-of-scope class.
pub fn train(
    kb: &KnowledgeBase,
    kb_file: &str,
    examples: &[Example],
    examples_file: &str,
    out_of_scope: &[String],
    heads: &[HeadData],
    options: &TrainOptions,
) -> Result<(Vec<u8>, TrainReport), TriageError> {
    train_with_teacher(
        kb,
        kb_file,
        examples,
        examples_file,
        out_of_scope,
        heads,
        None,
        options,
    )
}

/// [`train`] distilled from an external teacher's soft labels as well: training rows
/// the teacher labelled learn its probabilities (averaged with the built-in n-gram
/// teacher's by `teacher_weight` when that one is on, then mixed with the true label by
/// `distill_alpha`), and the teacher's other messages become extra training rows. `teacher.0` names the teacher file in errors. The caller
/// removes held-out messages from the teacher first.
#[allow(clippy::too_many_arguments)]
pub fn train_with_teacher(
    kb: &KnowledgeBase,
    kb_file: &str,
    examples: &[Example],
    examples_file: &str,
    out_of_scope: &[String],
    heads: &[HeadData],
    teacher: Option<(&str, &TeacherTargets)>,
    options: &TrainOptions,
) -> Result<(Vec<u8>, TrainReport), TriageError> {
    if !(8..=24).contains(&options.buckets_log2) {
        return Err(TriageError::TrainOptions(
            "buckets_log2 must be in 8..=24".into(),
        ));
    }
    if options.char_range.0 > options.char_range.1 || options.char_range.1 > 16 {
        return Err(TriageError::TrainOptions(
            "bad character n-gram range".into(),
        ));
    }
    check_labels(kb, kb_file, examples, examples_file)?;
    let config = options.feature_config();
    let has_oos = !out_of_scope.is_empty();
    let mut all: Vec<Example> = examples.to_vec();
    all.extend(out_of_scope.iter().map(|text| Example {
        text: text.clone(),
        label: OUT_OF_SCOPE_LABEL.into(),
        line: 0,
    }));
    let examples = &all[..];
    let (targets, extra) = match teacher {
        Some((file, targets)) => (Some(targets), teacher_rows(kb, file, targets, examples)?),
        None => (None, Vec::new()),
    };

    // 1. Fit the temperature on rows the model did not see (teacher-only rows are
    //    always training rows: they have no true label to calibrate against).
    let (mut fit_rows, calib_rows) = split_holdout(
        examples,
        options.calibration_fraction,
        options.seed.wrapping_add(1),
    )?;
    let calibration_rows = calib_rows.len();
    let (temperature, calibration_accuracy) = if calib_rows.is_empty() {
        (1.0, 0.0)
    } else {
        fit_rows.extend(extra.iter().cloned());
        let model = fit(kb, &fit_rows, has_oos, targets, options, &config, 1.0)?;
        let engine = Engine::from_bytes(&model.encode())?;
        fit_temperature(&engine, kb, &calib_rows, &config)
    };

    // 2. Train the shipped model on every row.
    let mut every_row = examples.to_vec();
    every_row.extend(extra);
    let mut model = fit(
        kb,
        &every_row,
        has_oos,
        targets,
        options,
        &config,
        temperature,
    )?;
    model.temperature = temperature;
    let mut head_reports = Vec::new();
    for head in heads {
        let (binary, report) = fit_head(head, options, &config)?;
        model.heads.push(binary);
        head_reports.push(report);
    }
    let bytes = model.encode();
    let report = TrainReport {
        examples: every_row.len(),
        temperature,
        calibration_accuracy,
        calibration_rows,
        oos_threshold: model.oos_threshold,
        nonzero_weights: model.intents.nonzeros(),
        model_bytes: bytes.len(),
        heads: head_reports,
    };
    Ok((bytes, report))
}

/// Checks that the teacher only names intents of `kb`, and returns its messages that
/// are not among `examples` as extra rows labelled with the teacher's top intent.
fn teacher_rows(
    kb: &KnowledgeBase,
    file: &str,
    teacher: &TeacherTargets,
    examples: &[Example],
) -> Result<Vec<Example>, TriageError> {
    for row in teacher.rows() {
        if let Some((intent, _)) = row.top.iter().find(|(i, _)| class_of(kb, i).is_none()) {
            return Err(TriageError::KbMismatch {
                file: file.into(),
                problem: format!(
                    "line {}: intent `{intent}` is not in the knowledge base",
                    row.line
                ),
            });
        }
    }
    let known: std::collections::BTreeSet<&str> =
        examples.iter().map(|e| e.text.as_str()).collect();
    Ok(teacher
        .rows()
        .iter()
        .filter(|r| !known.contains(r.text.as_str()))
        .map(|r| Example {
            text: r.text.clone(),
            label: r.top[0].0.clone(),
            line: r.line,
        })
        .collect())
}

/// Mixes an external teacher's distribution `p` into a row's `target` with weight `w`.
///
/// The external teacher knows nothing of the out-of-scope class (`oos`): the row keeps
/// the mass its target gives that class, and the teacher shares out the rest. Without
/// this, distilled models learned that nothing is out of scope (CLINC150 out-of-scope
/// rejection fell from 95 % to 55-70 %; see BENCHMARKS.md).
fn mix_teacher(target: &mut [f32], mut p: Vec<f32>, oos: Option<usize>, w: f32) {
    if let Some(oos) = oos {
        let kept = target[oos];
        p.iter_mut().for_each(|v| *v *= 1.0 - kept);
        p[oos] = kept;
    }
    for (acc, p) in target.iter_mut().zip(p) {
        *acc = (1.0 - w) * *acc + w * p;
    }
}

/// The teacher's distribution over the classes for one message, sharpened or softened
/// by `temperature` (`p ^ (1 / T)`, renormalised over the listed intents).
fn teacher_distribution(
    kb: &KnowledgeBase,
    row: &TeacherRow,
    n_classes: usize,
    temperature: f32,
) -> Vec<f32> {
    let mut out = vec![0f32; n_classes];
    let inv = 1.0 / temperature.max(0.05);
    for (intent, p) in &row.top {
        if let Some(c) = class_of(kb, intent) {
            out[c] += p.max(1e-6).powf(inv);
        }
    }
    let sum: f32 = out.iter().sum();
    if sum > 0.0 {
        out.iter_mut().for_each(|v| *v /= sum);
    }
    out
}

/// How much the temperature fit leans towards 1 (the logits as trained), counted in
/// calibration rows: nothing for a thousand rows, but a few rows that are all right
/// would otherwise push the temperature to its floor and make the model sure of
/// everything, off-topic questions included.
const TEMPERATURE_PRIOR_ROWS: f64 = 2.0;

fn fit_temperature(
    engine: &Engine,
    kb: &KnowledgeBase,
    rows: &[Example],
    config: &FeatureConfig,
) -> (f32, f32) {
    let data: Vec<(Vec<f32>, usize)> = rows
        .iter()
        .filter_map(|e| {
            let label = kb.entries.iter().position(|k| k.id == e.label)?;
            let (normalized, features) = normalize_and_featurize(config, &e.text);
            Some((
                engine.model().intent_logits(&normalized, &features).0,
                label,
            ))
        })
        .collect();
    let correct = data.iter().filter(|(z, y)| argmax(z) == *y).count();
    let accuracy = correct as f32 / data.len().max(1) as f32;
    let mut best = (f64::INFINITY, 1.0f32);
    for step in 0..=80 {
        let t = (0.02f64 * (500f64).powf(f64::from(step) / 80.0)) as f32;
        let nll: f64 = data
            .iter()
            .map(|(z, y)| {
                let max = z.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                let sum: f64 = z.iter().map(|&v| f64::from((v - max) / t).exp()).sum();
                sum.ln() - f64::from((z[*y] - max) / t)
            })
            .sum();
        let nll = nll + TEMPERATURE_PRIOR_ROWS * f64::from(t.ln()).powi(2);
        if nll < best.0 {
            best = (nll, t);
        }
    }
    (best.1, accuracy)
}

fn argmax(v: &[f32]) -> usize {
    let mut best = 0;
    for (i, &x) in v.iter().enumerate() {
        if x > v[best] {
            best = i;
        }
    }
    best
}

/// `rows` plus `augment_copies` copies of each with words dropped at random (seeded;
/// a copy keeps at least one word and is skipped when it equals the original).
fn augment(rows: &[Example], options: &TrainOptions) -> Vec<Example> {
    let mut out = rows.to_vec();
    if options.augment_copies == 0 {
        return out;
    }
    let mut rng = SplitMix64::new(options.seed ^ 0x4155_474d);
    let drop = f64::from(options.augment_drop.clamp(0.0, 0.9));
    for e in rows {
        let words: Vec<&str> = e.text.split_whitespace().collect();
        for _ in 0..options.augment_copies {
            let kept: Vec<&str> = words
                .iter()
                .copied()
                .filter(|_| (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64 >= drop)
                .collect();
            if kept.is_empty() || kept.len() == words.len() {
                continue;
            }
            out.push(Example {
                text: kept.join(" "),
                label: e.label.clone(),
                line: e.line,
            });
        }
    }
    out
}

/// Softmax regression with AdaGrad over the buckets that occur in `rows`.
fn fit(
    kb: &KnowledgeBase,
    rows: &[Example],
    has_oos: bool,
    teacher: Option<&TeacherTargets>,
    options: &TrainOptions,
    config: &FeatureConfig,
    temperature: f32,
) -> Result<ModelFile, TriageError> {
    let n_classes = kb.entries.len() + usize::from(has_oos);
    let augmented = augment(rows, options);
    let rows = &augmented[..];
    let table = options
        .word_vectors
        .as_ref()
        .map(|v| v.quantize(options.clip_quantile))
        .transpose()?;
    let mut data: Vec<(Features, usize)> = Vec::with_capacity(rows.len());
    let mut means: Vec<Option<Vec<f32>>> = Vec::with_capacity(rows.len());
    for e in rows {
        if let Some(label) = class_of(kb, &e.label) {
            let (normalized, features) = normalize_and_featurize(config, &e.text);
            means.push(table.as_ref().and_then(|t| t.mean(&normalized)));
            data.push((features, label));
        }
    }
    // Dense ids for the buckets that occur, in bucket order (deterministic).
    let mut used: Vec<u32> = data
        .iter()
        .flat_map(|(f, _)| f.iter().map(|x| x.0))
        .collect();
    used.sort_unstable();
    used.dedup();
    // The word-vector dimensions are rows after the buckets' (`used.len() + d`).
    let n_gram_rows = used.len();
    let vector_dims = table.as_ref().map_or(0, WordTable::dims);
    let dense: Vec<(Vec<(usize, f32)>, usize)> = data
        .iter()
        .zip(&means)
        .map(|((f, y), mean)| {
            let mut idx: Vec<(usize, f32)> = f
                .iter()
                .filter_map(|&(b, v)| used.binary_search(&b).ok().map(|i| (i, v)))
                .collect();
            if let Some(mean) = mean {
                idx.extend(
                    mean.iter()
                        .enumerate()
                        .map(|(d, &v)| (n_gram_rows + d, v * options.vector_weight)),
                );
            }
            (idx, *y)
        })
        .collect();

    let mut class_size = vec![0usize; n_classes];
    for (_, y) in &data {
        class_size[*y] += 1;
    }
    let mean_size = data.len() as f32 / class_size.iter().filter(|&&n| n > 0).count().max(1) as f32;
    let class_weight: Vec<f32> = class_size
        .iter()
        .map(|&n| (mean_size / n.max(1) as f32).powf(options.class_balance))
        .collect();
    let mut state = Sgd {
        n_classes,
        class_weight,
        w: vec![0f32; (n_gram_rows + vector_dims) * n_classes],
        g2: vec![1e-6f32; (n_gram_rows + vector_dims) * n_classes],
        bias: vec![0f32; n_classes],
        bias_g2: vec![1e-6f32; n_classes],
        mask: None,
        soft: None,
    };
    // Soft targets: the built-in n-gram teacher's, an external teacher's, or the mean
    // of both weighted by `teacher_weight`.
    let mut soft: Option<Vec<Vec<f32>>> = None;
    if options.distill_from_buckets_log2 > 0 {
        // Distillation: a large teacher (no pruning, 8-bit) provides soft targets.
        let teacher_options = TrainOptions {
            buckets_log2: options.distill_from_buckets_log2,
            // `rows` are already augmented.
            augment_copies: 0,
            distill_from_buckets_log2: 0,
            quant_bits: 8,
            clip_quantile: 1.0,
            max_rows: 0,
            max_weights: 0,
            ..options.clone()
        };
        let t = options.distill_temperature.max(0.05);
        let labelled: Vec<&Example> = rows
            .iter()
            .filter(|e| class_of(kb, &e.label).is_some())
            .collect();
        let mut targets = vec![vec![0f32; n_classes]; labelled.len()];
        let teachers = options.distill_teachers.max(1);
        // Each teacher differs in seed and hash space; their probabilities are averaged.
        for k in 0..teachers {
            let member = TrainOptions {
                seed: options.seed.wrapping_add(u64::from(k)),
                buckets_log2: teacher_options.buckets_log2.saturating_sub(k).max(8),
                ..teacher_options.clone()
            };
            let config = member.feature_config();
            let teacher = fit(kb, rows, has_oos, None, &member, &config, 1.0)?;
            for (target, e) in targets.iter_mut().zip(&labelled) {
                let (normalized, features) = normalize_and_featurize(&config, &e.text);
                let mut z = teacher.intent_logits(&normalized, &features).0;
                z.iter_mut().for_each(|v| *v /= t);
                softmax_in_place(&mut z);
                for (acc, p) in target.iter_mut().zip(&z) {
                    *acc += p / f32::from(teachers);
                }
            }
        }
        soft = Some(targets);
    }
    if let Some(teacher) = teacher {
        // An external teacher's probabilities; rows it did not label (the out-of-scope
        // class) keep the n-gram teacher's targets, or else their one-hot label.
        let labelled = rows
            .iter()
            .filter_map(|e| Some((e, class_of(kb, &e.label)?)));
        let mut targets = soft.take().unwrap_or_default();
        let mixed = !targets.is_empty();
        for (i, (e, y)) in labelled.enumerate() {
            if !mixed {
                let mut one_hot = vec![0f32; n_classes];
                one_hot[y] = 1.0;
                targets.push(one_hot);
            }
            if let Some(row) = teacher.get(&e.text) {
                let p = teacher_distribution(kb, row, n_classes, options.teacher_temperature);
                let w = if mixed { options.teacher_weight } else { 1.0 };
                mix_teacher(&mut targets[i], p, has_oos.then_some(n_classes - 1), w);
            }
        }
        soft = Some(targets);
    }
    state.soft = soft.map(|s| (s, options.distill_alpha));
    let mut rng = SplitMix64::new(options.seed);
    state.epochs(&dense, options.epochs, &mut rng, options);
    if options.max_rows > 0 && options.max_rows < n_gram_rows {
        // Structured pruning: keep the buckets whose weight rows matter most, retrain.
        // Importance of a bucket: weight-row norm times how much of the data uses it.
        // The word-vector rows are always kept.
        let mut mass = vec![0f32; n_gram_rows];
        for (feats, _) in &dense {
            for &(f, v) in feats.iter().filter(|(f, _)| *f < n_gram_rows) {
                mass[f] += v;
            }
        }
        let mut norms: Vec<(f32, usize)> = state
            .w
            .chunks(n_classes)
            .map(|row| row.iter().map(|v| v * v).sum::<f32>().sqrt())
            .zip(&mass)
            .map(|(n, m)| n * m.powf(options.mass_power))
            .enumerate()
            .map(|(i, n)| (n, i))
            .collect();
        norms.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let mut keep_row = vec![false; n_gram_rows];
        for &(_, i) in norms.iter().take(options.max_rows) {
            keep_row[i] = true;
        }
        keep_row.resize(n_gram_rows + vector_dims, true);
        let mask: Vec<bool> = keep_row
            .iter()
            .flat_map(|&k| std::iter::repeat_n(k, n_classes))
            .collect();
        for (wk, keep) in state.w.iter_mut().zip(&mask) {
            if !keep {
                *wk = 0.0;
            }
        }
        state.mask = Some(mask);
        state.g2.iter_mut().for_each(|g| *g = 1e-6);
        state.epochs(&dense, options.finetune_epochs, &mut rng, options);
    }
    let n_gram_weights = n_gram_rows * n_classes;
    if options.max_weights > 0 && options.max_weights < n_gram_weights {
        // Magnitude pruning of the n-gram weights to the budget, then retrain the survivors.
        let mut magnitudes: Vec<f32> = state.w[..n_gram_weights].iter().map(|v| v.abs()).collect();
        let k = n_gram_weights - options.max_weights;
        magnitudes.select_nth_unstable_by(k, f32::total_cmp);
        let cut = magnitudes[k];
        let mask: Vec<bool> = state
            .w
            .iter()
            .enumerate()
            .map(|(i, v)| i >= n_gram_weights || (v.abs() >= cut && *v != 0.0))
            .collect();
        for (wk, keep) in state.w.iter_mut().zip(&mask) {
            if !keep {
                *wk = 0.0;
            }
        }
        state.mask = Some(mask);
        state.g2.iter_mut().for_each(|g| *g = 1e-6);
        state.epochs(&dense, options.finetune_epochs, &mut rng, options);
    }
    let (w, bias) = (state.w, state.bias);
    let (n_gram_w, vector_w) = w.split_at(n_gram_weights);
    let word_vectors = table.map(|table| {
        // The classifier saw `vector_weight` times the mean; the engine feeds the mean.
        let scaled: Vec<f32> = vector_w.iter().map(|v| v * options.vector_weight).collect();
        let dims: Vec<u32> = (0..vector_dims as u32).collect();
        let linear = quantize(
            &dims,
            &scaled,
            &vec![0.0; n_classes],
            n_classes,
            1,
            options.vector_quant_bits,
            1.0,
            WordTable::buckets_log2(vector_dims),
        );
        WordVectorClassifier::new(table, linear)
    });

    let intents = quantize(
        &used,
        n_gram_w,
        &bias,
        n_classes,
        options.min_quantized,
        options.quant_bits,
        options.clip_quantile,
        config.buckets_log2,
    );
    Ok(ModelFile {
        site_id: kb.site_id.clone(),
        site_name: kb.site_name.clone(),
        language: kb.language(),
        features: *config,
        temperature,
        oos_threshold: options
            .oos_threshold
            .unwrap_or_else(|| default_oos_threshold(kb.entries.len(), has_oos)),
        kb: kb.entries.clone(),
        has_oos_class: has_oos,
        intents,
        heads: Vec::new(),
        word_vectors,
    })
}

/// AdaGrad state of the softmax regression.
struct Sgd {
    n_classes: usize,
    /// Loss weight of each class (class balancing).
    class_weight: Vec<f32>,
    w: Vec<f32>,
    g2: Vec<f32>,
    bias: Vec<f32>,
    bias_g2: Vec<f32>,
    /// When set, only these weights may be nonzero.
    mask: Option<Vec<bool>>,
    /// Per-example teacher probabilities (distillation), mixed with the true label.
    soft: Option<(Vec<Vec<f32>>, f32)>,
}

impl Sgd {
    fn epochs(
        &mut self,
        dense: &[(Vec<(usize, f32)>, usize)],
        epochs: u32,
        rng: &mut SplitMix64,
        options: &TrainOptions,
    ) {
        let n_classes = self.n_classes;
        let mut order: Vec<usize> = (0..dense.len()).collect();
        let mut z = vec![0f32; n_classes];
        let lr = options.learning_rate;
        for _ in 0..epochs {
            rng.shuffle(&mut order);
            for &i in &order {
                let (feats, y) = &dense[i];
                z.copy_from_slice(&self.bias);
                for &(f, v) in feats {
                    let row = &self.w[f * n_classes..(f + 1) * n_classes];
                    for (zc, wc) in z.iter_mut().zip(row) {
                        *zc += v * wc;
                    }
                }
                softmax_in_place(&mut z);
                // Now the gradient of the loss w.r.t. the logits: p - target.
                match &self.soft {
                    Some((soft, alpha)) => {
                        for (zc, t) in z.iter_mut().zip(&soft[i]) {
                            *zc -= (1.0 - alpha) * t;
                        }
                        z[*y] -= alpha;
                    }
                    None => z[*y] -= 1.0,
                }
                let weight = self.class_weight[*y];
                if weight != 1.0 {
                    z.iter_mut().for_each(|g| *g *= weight);
                }
                for (c, &g) in z.iter().enumerate() {
                    self.bias_g2[c] += g * g;
                    self.bias[c] -= lr * g / self.bias_g2[c].sqrt();
                }
                for &(f, v) in feats {
                    let range = f * n_classes..(f + 1) * n_classes;
                    let keep: &[bool] = match &self.mask {
                        Some(m) => &m[range.clone()],
                        None => &[],
                    };
                    for (c, ((wk, gk), &zc)) in self.w[range.clone()]
                        .iter_mut()
                        .zip(&mut self.g2[range])
                        .zip(&z)
                        .enumerate()
                    {
                        if !keep.is_empty() && !keep[c] {
                            continue;
                        }
                        let g = zc * v + options.l2 * *wk;
                        *gk += g * g;
                        let step = lr / gk.sqrt();
                        let moved = *wk - step * g;
                        // Proximal L1 step: small weights become exactly zero.
                        let shrink = step * options.l1;
                        *wk = if moved > shrink {
                            moved - shrink
                        } else if moved < -shrink {
                            moved + shrink
                        } else {
                            0.0
                        };
                    }
                }
            }
        }
    }
}

fn softmax_in_place(z: &mut [f32]) {
    let max = z.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for v in z.iter_mut() {
        *v = (*v - max).exp();
        sum += *v;
    }
    for v in z.iter_mut() {
        *v /= sum;
    }
}

/// The quantisation step that maps the `clip_quantile` quantile of `mags` (magnitudes)
/// to the largest of `levels`; `None` when there is nothing to scale (no magnitudes, or
/// a zero quantile).
pub(crate) fn quantile_scale(mut mags: Vec<f32>, clip_quantile: f32, levels: f32) -> Option<f32> {
    if mags.is_empty() {
        return None;
    }
    let k = ((mags.len() - 1) as f32 * clip_quantile.clamp(0.5, 1.0)) as usize;
    mags.select_nth_unstable_by(k, f32::total_cmp);
    (mags[k] > 0.0).then(|| mags[k] / levels)
}

/// Per-class symmetric int8 quantisation; weights with `|q| < min_q` become zero, and
/// buckets whose weights are all zero get no row.
#[allow(clippy::too_many_arguments)]
fn quantize(
    buckets: &[u32],
    w: &[f32],
    bias: &[f32],
    n_classes: usize,
    min_q: u8,
    bits: u8,
    clip_quantile: f32,
    buckets_log2: u8,
) -> Linear {
    let levels = f32::from((1u8 << (bits.clamp(2, 8) - 1)) - 1);
    // Per-class scale from a high quantile of |w| (not the maximum): the few larger
    // weights are clipped, and the many small ones keep more resolution.
    let mut scale = vec![1f32; n_classes];
    for (c, s) in scale.iter_mut().enumerate() {
        let mags: Vec<f32> = w
            .iter()
            .skip(c)
            .step_by(n_classes)
            .map(|v| v.abs())
            .filter(|&v| v > 0.0)
            .collect();
        if let Some(quantile_scale) = quantile_scale(mags, clip_quantile, levels) {
            *s = quantile_scale;
        }
    }
    let mut kept_buckets = Vec::new();
    let mut weights = Vec::new();
    for (&bucket, row) in buckets.iter().zip(w.chunks(n_classes)) {
        let quantized: Vec<i8> = row
            .iter()
            .zip(&scale)
            .map(|(&v, &s)| {
                let q = (v / s).round().clamp(-levels, levels) as i8;
                if q.unsigned_abs() >= min_q.max(1) {
                    q
                } else {
                    0
                }
            })
            .collect();
        if quantized.iter().any(|&q| q != 0) {
            kept_buckets.push(bucket);
            weights.extend(quantized);
        }
    }
    Linear::new(bias.to_vec(), scale, kept_buckets, weights, buckets_log2)
}

/// Accuracy and macro-F1 of the engine's top intent (ignoring the out-of-scope threshold).
#[derive(Debug, Clone, PartialEq)]
pub struct EvalReport {
    /// Messages evaluated.
    pub n: usize,
    /// Top-1 accuracy.
    pub accuracy: f64,
    /// Unweighted mean of per-intent F1.
    pub macro_f1: f64,
    /// Share of messages the engine kept in scope (confidence above the threshold).
    pub in_scope_rate: f64,
    /// Share of messages answered with the right entry (in scope, top intent right).
    pub answered_right: f64,
    /// Share of messages whose right entry the customer sees: the answer, or one of
    /// the alternatives offered beside an unsure answer.
    pub right_within_one_tap: f64,
    /// Share of messages whose answer came with alternatives.
    pub with_alternatives: f64,
    /// Every intent of the examples, the weakest first (lowest recall, then most
    /// examples): where more or clearer examples would help.
    pub intents: Vec<IntentScore>,
    /// What the examples of one intent were taken for instead, most often first.
    pub confusions: Vec<Confusion>,
}

/// How often one intent's examples got it as the top intent.
#[derive(Debug, Clone, PartialEq)]
pub struct IntentScore {
    /// The intent id.
    pub intent: String,
    /// Its examples.
    pub n: usize,
    /// Those whose top intent was right.
    pub right: usize,
    /// Those judged out of scope (a person offered instead of an answer), right or not.
    pub out_of_scope: usize,
}

/// Examples of `expected` whose top intent was `predicted` instead (`None`: no word
/// of theirs was known to the model).
#[derive(Debug, Clone, PartialEq)]
pub struct Confusion {
    /// The examples' intent.
    pub expected: String,
    /// What they were taken for.
    pub predicted: Option<String>,
    /// How many.
    pub count: usize,
}

/// Evaluates `engine` on labelled examples.
pub fn evaluate(engine: &Engine, examples: &[Example]) -> EvalReport {
    let mut tp: BTreeMap<&str, usize> = BTreeMap::new();
    let mut fp: BTreeMap<&str, usize> = BTreeMap::new();
    let mut fn_: BTreeMap<&str, usize> = BTreeMap::new();
    let mut correct = 0;
    let mut in_scope = 0;
    let (mut answered_right, mut within_one_tap, mut with_alternatives) = (0, 0, 0);
    let mut confused: BTreeMap<(&str, Option<String>), usize> = BTreeMap::new();
    let mut turned_away: BTreeMap<&str, usize> = BTreeMap::new();
    for e in examples {
        let p = engine.predict(&e.text);
        if !p.in_scope {
            *turned_away.entry(&e.label).or_default() += 1;
        }
        let predicted = p.best.as_ref().map_or("", |g| g.intent.as_str());
        let right = predicted == e.label;
        if !right {
            let taken_for = p.best.as_ref().map(|g| g.intent.clone());
            *confused.entry((&e.label, taken_for)).or_default() += 1;
        }
        if p.in_scope {
            in_scope += 1;
            answered_right += usize::from(right);
            within_one_tap +=
                usize::from(right || p.alternatives.iter().any(|g| g.intent == e.label));
            with_alternatives += usize::from(!p.alternatives.is_empty());
        }
        if right {
            correct += 1;
            *tp.entry(&e.label).or_default() += 1;
        } else {
            *fn_.entry(&e.label).or_default() += 1;
            if let Some(g) = &p.best {
                if let Some(k) = engine.kb_entry(&g.intent) {
                    *fp.entry(k.id.as_str()).or_default() += 1;
                }
            }
        }
    }
    let labels: std::collections::BTreeSet<&str> =
        examples.iter().map(|e| e.label.as_str()).collect();
    let f1_sum: f64 = labels
        .iter()
        .map(|l| {
            let tp = *tp.get(l).unwrap_or(&0) as f64;
            let fp = *fp.get(l).unwrap_or(&0) as f64;
            let fn_ = *fn_.get(l).unwrap_or(&0) as f64;
            if tp == 0.0 {
                0.0
            } else {
                2.0 * tp / (2.0 * tp + fp + fn_)
            }
        })
        .sum();
    let mut intents: Vec<IntentScore> = labels
        .iter()
        .map(|&l| {
            let right = *tp.get(l).unwrap_or(&0);
            IntentScore {
                intent: l.to_owned(),
                n: right + *fn_.get(l).unwrap_or(&0),
                right,
                out_of_scope: *turned_away.get(l).unwrap_or(&0),
            }
        })
        .collect();
    // Lowest recall first (compared as right_a / n_a < right_b / n_b, in integers).
    intents.sort_by(|a, b| {
        (a.right * b.n)
            .cmp(&(b.right * a.n))
            .then(b.n.cmp(&a.n))
            .then(a.intent.cmp(&b.intent))
    });
    let mut confusions: Vec<Confusion> = confused
        .into_iter()
        .map(|((expected, predicted), count)| Confusion {
            expected: expected.to_owned(),
            predicted,
            count,
        })
        .collect();
    confusions.sort_by_key(|c| std::cmp::Reverse(c.count));
    let n = examples.len();
    let share = |count: usize| count as f64 / n.max(1) as f64;
    EvalReport {
        n,
        accuracy: share(correct),
        macro_f1: f1_sum / labels.len().max(1) as f64,
        in_scope_rate: share(in_scope),
        answered_right: share(answered_right),
        right_within_one_tap: share(within_one_tap),
        with_alternatives: share(with_alternatives),
        intents,
        confusions,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const KB: &str = include_str!("../tests/fixtures/kb.toml");
    const EXAMPLES: &str = include_str!("../tests/fixtures/examples.csv");

    /// The fixture knowledge base, its examples, and options small enough for tests.
    fn fixture_inputs() -> (KnowledgeBase, Vec<Example>, TrainOptions) {
        let options = TrainOptions {
            buckets_log2: 14,
            ..TrainOptions::default()
        };
        (
            parse_kb("kb.toml", KB).unwrap(),
            read_examples("ex.csv", EXAMPLES).unwrap(),
            options,
        )
    }

    #[test]
    fn csv_handles_quotes_commas_and_newlines() {
        let rows =
            read_examples("x.csv", "text,category\n\"a, \"\"b\"\"\nc\",l1\nplain,l2\n").unwrap();
        assert_eq!(rows[0].text, "a, \"b\"\nc");
        assert_eq!(rows[1].line, 4);
        let err = read_examples("x.csv", "text,category\n\"open,l1\n").unwrap_err();
        assert!(err.to_string().starts_with("x.csv: line 2:"), "{err}");
        let err = read_examples("x.csv", "text,label\n").unwrap_err();
        assert!(err.to_string().contains("`category`"), "{err}");
    }

    #[test]
    fn kb_errors_name_file_line_and_field() {
        let err = parse_kb(
            "kb.toml",
            "[site]\nid='a'\nname='b'\n[[intent]]\nid='x'\ntitle='t'\n",
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("kb.toml") && err.to_string().contains("answer"),
            "{err}"
        );
        let bad_link = "[site]\nid='a'\nname='b'\n[[intent]]\nid='x'\ntitle='t'\nanswer='a'\nlinks=[{label='l', url='http://x'}]\n";
        let err = parse_kb("kb.toml", bad_link).unwrap_err();
        assert!(
            err.to_string().contains("kb.toml") && err.to_string().contains("line 8"),
            "{err}"
        );
        let unknown =
            "[site]\nid='a'\nname='b'\n[[intent]]\nid='x'\ntitle='t'\nanswer='a'\ncolour='red'\n";
        let err = parse_kb("kb.toml", unknown).unwrap_err();
        assert!(
            err.to_string().contains("colour") && err.to_string().contains('8'),
            "{err}"
        );
        let single = "[site]\nid='a'\nname='b'\n[intent]\nid='x'\ntitle='t'\nanswer='a'\n";
        let err = parse_kb("kb.toml", single).unwrap_err().to_string();
        assert!(
            err.contains("hint: each entry starts with `[[intent]]`"),
            "{err}"
        );
        let double_site = "[[site]]\nid='a'\nname='b'\n[[intent]]\nid='x'\ntitle='t'\nanswer='a'\n";
        let err = parse_kb("kb.toml", double_site).unwrap_err().to_string();
        assert!(
            err.contains("hint: `[site]` is written in single brackets"),
            "{err}"
        );
        let empty = "[site]\nid='a'\nname='b'\n[[intent]]\nid='x'\ntitle='t'\nanswer='  '\n";
        let err = parse_kb("kb.toml", empty).unwrap_err();
        assert_eq!(
            err.to_string(),
            "kb.toml: line 7: intent `x` field `answer`: is empty"
        );
    }

    /// A knowledge base of one intent with `site_id` and `answer`.
    fn one_intent_kb(site_id: &str, answer: &str) -> String {
        format!("[site]\nid = {site_id:?}\nname = 'b'\n[[intent]]\nid = 'x'\ntitle = 't'\nanswer = '''\n{answer}'''\n")
    }

    #[test]
    fn links_in_answers_must_be_https_or_mailto() {
        for (answer, line) in [
            // The answer starts on line 8, after `answer = '''`.
            ("Start [here](javascript:alert(1)).", 8),
            ("Fine.\n\n- see [our page](http://shop.example/x)", 10),
        ] {
            let err = parse_kb("kb.toml", &one_intent_kb("a", answer)).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!("kb.toml: line {line}: intent `x` field `answer`: url must start with https:// or mailto:")
            );
        }
        let good = "See [the guide](https://shop.example/g) or [write](mailto:a@shop.example).";
        assert!(parse_kb("kb.toml", &one_intent_kb("a", good)).is_ok());
    }

    #[test]
    fn a_link_url_with_a_space_is_not_told_to_start_with_https() {
        let kb = "[site]\nid='a'\nname='b'\n[[intent]]\nid='x'\ntitle='t'\nanswer='a'\nlinks=[{label='l', url='https://x.example/a b'}]\n";
        let err = parse_kb("kb.toml", kb).unwrap_err().to_string();
        assert!(
            err.starts_with("kb.toml: line 8: intent `x` field `links`: url contains a space"),
            "{err}"
        );
    }

    #[test]
    fn site_id_follows_the_edges_rule() {
        for id in ["", "Spoke Chain!", "caf\u{e9}", &"a".repeat(65)] {
            let err = parse_kb("kb.toml", &one_intent_kb(id, "a")).unwrap_err();
            assert!(
                err.to_string()
                    .starts_with("kb.toml: line 2: [site] field `id`: "),
                "{id:?}: {err}"
            );
        }
        let kb = parse_kb("kb.toml", &one_intent_kb(&"spoke-chain_2".repeat(4), "a")).unwrap();
        assert_eq!(kb.site_id.len(), 52);
    }

    #[test]
    fn the_language_is_stated_or_recognised_from_the_answers() {
        let stated = "[site]\nid = 'a'\nname = 'b'\nlanguage = 'fr-CA'\n[[intent]]\nid = 'x'\ntitle = 't'\nanswer = 'a'\n";
        assert_eq!(parse_kb("kb.toml", stated).unwrap().language(), "fr-CA");
        let wrong = stated.replace("'fr-CA'", "'French'");
        let err = parse_kb("kb.toml", &wrong).unwrap_err().to_string();
        assert!(
            err.starts_with("kb.toml: line 4: [site] field `language`: is not a language tag"),
            "{err}"
        );
        let english = "Your card is posted within two days. If it has not arrived after a week, tell us and we will send another.";
        let french = "Votre carte est envoyée sous deux jours. Si elle n'est pas arrivée après une semaine, dites-le nous.";
        let recognised = |answer| {
            parse_kb("kb.toml", &one_intent_kb("a", answer))
                .unwrap()
                .language()
        };
        assert_eq!(recognised(english), "en");
        assert_eq!(recognised(french), "fr");
        assert_eq!(recognised("ok"), "", "too little to tell");
    }

    #[test]
    fn size_limits_on_examples_and_answers() {
        let row = |n: usize| format!("text,category\nok,l\n{},l\n", "é".repeat(n / 2));
        assert_eq!(
            read_examples("x.csv", &row(MAX_MESSAGE_BYTES))
                .unwrap()
                .len(),
            2
        );
        let err = read_examples("x.csv", &row(MAX_MESSAGE_BYTES + 2)).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("x.csv: line 3: field `text` is 4002 bytes long"),
            "{err}"
        );
        let answer = "a".repeat(MAX_ANSWER_BYTES + 1);
        let err = parse_kb("kb.toml", &one_intent_kb("a", &answer)).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("kb.toml: line 7: intent `x` field `answer`: is 8001 bytes long"),
            "{err}"
        );
    }

    #[test]
    fn empty_text_rows_are_refused_and_conflicts_found() {
        for csv in [
            "text,category\nhi,l\n,opening_hours\n",
            "text,category\nhi,l\n\"  \",l\n",
        ] {
            let err = read_examples("x.csv", csv).unwrap_err();
            assert_eq!(err.to_string(), "x.csv: line 3: field `text` is empty");
        }
        let ex = read_examples(
            "x.csv",
            "text,category\nWhat time do you open,a\nwhere,b\nwhat time do you open ,a\n what TIME do you open,c\n",
        )
        .unwrap();
        assert_eq!(conflicting_labels(&ex), [(0, 3)]);
    }

    #[test]
    fn excel_byte_order_mark_is_ignored_and_a_wrong_header_is_told_without_messages() {
        let ex = read_examples("x.csv", "\u{feff}text,category\r\nhi,l\r\n").unwrap();
        assert_eq!((ex[0].text.as_str(), ex[0].line), ("hi", 2));
        let kb = parse_kb("kb.toml", &format!("\u{feff}{}", one_intent_kb("a", "b"))).unwrap();
        assert_eq!(kb.site_id, "a");
        let ex = read_examples("x.csv", "Text,Category\nhi,l\n").unwrap();
        assert_eq!(ex[0].label, "l");
        let err = read_examples("x.csv", "question,category\nhi,l\n").unwrap_err();
        assert!(
            err.to_string().ends_with("found `question,category`"),
            "{err}"
        );
        let err = read_examples("x.csv", "text;category\nhi;l\n").unwrap_err();
        assert!(err.to_string().contains("separated by `;`"), "{err}");
        // A file without a header starts with a message, which may hold personal data.
        for first_line in [
            "my card 4242 4242 4242 4242 was stolen,lost_card".to_string(),
            "h".repeat(200),
        ] {
            let err = read_examples("x.csv", &format!("{first_line}\nhi,l\n"))
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("not a header") && !err.contains("4242"),
                "{err}"
            );
            assert!(!err.contains("hhhh"), "{err}");
        }
    }

    #[test]
    fn kb_and_examples_must_list_the_same_intents() {
        let kb = parse_kb("kb.toml", KB).unwrap();
        let mut ex = read_examples("ex.csv", EXAMPLES).unwrap();
        ex.push(Example {
            text: "hello".into(),
            label: "greeting".into(),
            line: 99,
        });
        let err = train(
            &kb,
            "kb.toml",
            &ex,
            "ex.csv",
            &[],
            &[],
            &TrainOptions::default(),
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("`greeting` (ex.csv line 99)"),
            "{err}"
        );
        let ex: Vec<Example> = read_examples("ex.csv", EXAMPLES)
            .unwrap()
            .into_iter()
            .filter(|e| e.label != "card_arrival")
            .collect();
        let err = train(
            &kb,
            "kb.toml",
            &ex,
            "ex.csv",
            &[],
            &[],
            &TrainOptions::default(),
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("`card_arrival` has no examples"),
            "{err}"
        );
    }

    #[test]
    fn augmented_copies_drop_words_and_are_deterministic() {
        let ex = read_examples("ex.csv", EXAMPLES).unwrap();
        let options = TrainOptions {
            augment_copies: 2,
            augment_drop: 0.3,
            ..TrainOptions::default()
        };
        let a = augment(&ex, &options);
        assert_eq!(a, augment(&ex, &options));
        assert_eq!(&a[..ex.len()], &ex[..]);
        assert!(a.len() > ex.len());
        for copy in &a[ex.len()..] {
            let original = ex.iter().find(|e| e.line == copy.line).unwrap();
            assert_eq!(copy.label, original.label);
            assert!(copy.text.split(' ').count() < original.text.split_whitespace().count());
        }
        assert_eq!(augment(&ex, &TrainOptions::default()), ex);
    }

    #[test]
    fn teacher_file_is_parsed_sorted_and_checked() {
        let t = read_teacher_targets(
            "t.csv",
            "text,soft\nzebra card,card_arrival:0.9 exchange_rate:0.1\n\"a, b\",exchange_rate:1\n",
        )
        .unwrap();
        assert_eq!(t.rows()[0].text, "a, b");
        let row = t.get("zebra card").unwrap();
        assert_eq!(row.top[0], ("card_arrival".to_string(), 0.9));
        assert_eq!(row.line, 2);
        assert!(t.get("missing").is_none());
        assert_eq!(t.without(|m| m == "a, b").rows().len(), 1);
        for bad in [
            "text,soft\nx,card_arrival\n",
            "text,soft\nx,card_arrival:1.5\n",
            "text,soft\nx,\n",
            "text,soft\nx,card_arrival:1\nx,exchange_rate:1\n",
        ] {
            let err = read_teacher_targets("t.csv", bad).unwrap_err();
            assert!(err.to_string().starts_with("t.csv: line "), "{err}");
        }
        let err = read_teacher_targets("t.csv", "text,label\n").unwrap_err();
        assert!(err.to_string().contains("`soft`"), "{err}");
    }

    #[test]
    fn an_external_teacher_adds_rows_and_is_deterministic() {
        let (kb, ex, opts) = fixture_inputs();
        // The teacher knows a word the examples never use.
        let teacher = read_teacher_targets(
            "t.csv",
            "text,soft\nmy plastic is still in the post,card_arrival:0.95 lost_or_stolen_card:0.05\n\
             the plastic never came,card_arrival:0.9 lost_or_stolen_card:0.1\n\
             When will my card arrive?,card_arrival:0.8 lost_or_stolen_card:0.2\n",
        )
        .unwrap();
        let run = |t| train_with_teacher(&kb, "kb.toml", &ex, "ex.csv", &[], &[], t, &opts);
        let (a, report) = run(Some(("t.csv", &teacher))).unwrap();
        let (b, _) = run(Some(("t.csv", &teacher))).unwrap();
        assert_eq!(a, b);
        assert_eq!(report.examples, ex.len() + 2);
        let engine = Engine::from_bytes(&a).unwrap();
        assert_eq!(
            engine.predict("where is my plastic").best.unwrap().intent,
            "card_arrival"
        );
        assert!(evaluate(&engine, &ex).accuracy > 0.9);

        let unknown = read_teacher_targets("t.csv", "text,soft\nhi,greeting:1\n").unwrap();
        let err = run(Some(("t.csv", &unknown))).unwrap_err();
        assert!(
            err.to_string().contains("t.csv: line 2: intent `greeting`"),
            "{err}"
        );
    }

    #[test]
    fn an_external_teacher_leaves_the_out_of_scope_mass_alone() {
        // Built-in target: 0.6 intent 0, 0.1 intent 1, 0.3 out of scope (class 2).
        let mut target = vec![0.6, 0.1, 0.3];
        mix_teacher(&mut target, vec![0.2, 0.8, 0.0], Some(2), 1.0);
        let expected = [0.14, 0.56, 0.3];
        for (t, e) in target.iter().zip(expected) {
            assert!((t - e).abs() < 1e-6, "{target:?}");
        }
        // Half weight: halfway between; no out-of-scope class: the teacher's as given.
        let mut target = vec![0.6, 0.1, 0.3];
        mix_teacher(&mut target, vec![0.2, 0.8, 0.0], Some(2), 0.5);
        assert!((target[2] - 0.3).abs() < 1e-6 && (target[0] - 0.37).abs() < 1e-6);
        let mut target = vec![1.0, 0.0];
        mix_teacher(&mut target, vec![0.25, 0.75], None, 1.0);
        assert_eq!(target, vec![0.25, 0.75]);
    }

    #[test]
    fn holdout_is_stratified_deterministic_and_disjoint() {
        let ex = read_examples("ex.csv", EXAMPLES).unwrap();
        let (a1, h1) = split_holdout(&ex, 0.25, 7).unwrap();
        let (a2, h2) = split_holdout(&ex, 0.25, 7).unwrap();
        assert_eq!((&a1, &h1), (&a2, &h2));
        assert_eq!(a1.len() + h1.len(), ex.len());
        assert!(h1.iter().all(|h| !a1.contains(h)));
        let (_, h3) = split_holdout(&ex, 0.25, 8).unwrap();
        assert_ne!(h1, h3);
        for label in ["card_arrival", "lost_or_stolen_card", "exchange_rate"] {
            assert!(h1.iter().any(|h| h.label == label));
        }
    }

    #[test]
    fn evaluation_names_the_weakest_intents_and_their_mix_ups() {
        let (kb, ex, opts) = fixture_inputs();
        let (model, _) = train(&kb, "kb.toml", &ex, "ex.csv", &[], &[], &opts).unwrap();
        let engine = Engine::from_bytes(&model).unwrap();
        // Two exchange-rate questions labelled as card arrivals, one clean arrival, and
        // a message with no word the model knows.
        let labelled = |text: &str, label: &str| Example {
            text: text.into(),
            label: label.into(),
            line: 0,
        };
        let report = evaluate(
            &engine,
            &[
                labelled("what exchange rate do you use", "card_arrival"),
                labelled("which exchange rate applies", "card_arrival"),
                labelled("my card hasn't arrived yet", "card_arrival"),
                labelled("zzzz qqqq", "lost_or_stolen_card"),
                labelled("I lost my card", "lost_or_stolen_card"),
                labelled("I lost my card or it was stolen", "lost_or_stolen_card"),
            ],
        );
        let weakest: Vec<(&str, usize, usize)> = report
            .intents
            .iter()
            .map(|s| (s.intent.as_str(), s.right, s.n))
            .collect();
        assert_eq!(
            weakest,
            [("card_arrival", 1, 3), ("lost_or_stolen_card", 2, 3)]
        );
        assert_eq!(
            report.confusions,
            [
                Confusion {
                    expected: "card_arrival".into(),
                    predicted: Some("exchange_rate".into()),
                    count: 2,
                },
                Confusion {
                    expected: "lost_or_stolen_card".into(),
                    predicted: None,
                    count: 1,
                },
            ]
        );
    }

    #[test]
    fn training_is_deterministic_and_learns() {
        let (kb, ex, opts) = fixture_inputs();
        let oos = [
            "what's the weather tomorrow".to_string(),
            "play some jazz".into(),
            "how do I boil an egg".into(),
            "tell me a joke".into(),
        ];
        let heads = [HeadData {
            name: "frustration".into(),
            examples: vec![
                ("this is ridiculous".into(), true),
                ("worst bank ever".into(), true),
                ("when will my card arrive".into(), false),
                ("what rate do you use".into(), false),
            ],
        }];
        let (a, report) = train(&kb, "kb.toml", &ex, "ex.csv", &oos, &heads, &opts).unwrap();
        let (b, _) = train(&kb, "kb.toml", &ex, "ex.csv", &oos, &heads, &opts).unwrap();
        assert_eq!(report.heads.len(), 1);
        assert_eq!(a, b);
        assert_eq!(report.model_bytes, a.len());
        let engine = Engine::from_bytes(&a).unwrap();
        let r = evaluate(&engine, &ex);
        assert!(r.accuracy > 0.9, "{r:?}");
        let p = engine.predict("my card still hasn't arrived");
        assert_eq!(p.best.unwrap().intent, "card_arrival");
        assert!(p.in_scope);
        assert!(!engine.predict("play some jazz").in_scope);
    }
}
