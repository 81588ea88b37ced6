//! The compiled model file: a versioned, checksummed, little-endian binary format.
//!
//! Layout (all integers little-endian, `varint` = unsigned LEB128, `str` = varint
//! length + UTF-8 bytes, `f32` = IEEE-754 bits):
//!
//! ```text
//! header  magic "BTNTRIAG" | u16 version | u16 reserved (0) | u32 body length | u32 checksum of body
//! body    str site id | str site name | str language (version 4: a BCP 47 tag, empty when unknown)
//!         features: u8 log2 buckets | f32 word weight | f32 bigram weight | f32 char weight | u8 char min | u8 char max | u8 signed hashing
//!         f32 temperature | f32 out-of-scope threshold
//!         varint intents, each: str id | str title | str answer | varint links (str label | str url)* | u8 sensitive
//!         u8 has out-of-scope class (the class after the last intent)
//!         weights (the intent classifier)
//!         varint heads, each: str name | f32 threshold | weights with one class
//!         u8 has word vectors (version 3), then if 1:
//!           varint dims | str words, sorted, separated by "\n" | f32 scale * dims
//!           | codes: ceil(dims / 2) bytes a word, two 4-bit codes a byte (low first, code = value + 8)
//!           | weights over the dimensions (bucket = dimension), as many classes as the intents
//! weights varint classes | f32 bias * classes | f32 scale * classes
//!         varint rows | varint bucket delta * rows | i8 weight * rows * classes (row after row)
//! ```
//!
//! Rows are dense (a weight per class, zeros included): the demo model's rows are three
//! quarters nonzero, and dense rows compress better under brotli than class ids beside
//! the weights (50.0 KB against 59.1 KB for version 1's sparse rows). They are also the
//! layout the engine scores with, so loading is a copy.
//! The checksum (version 5) is 64-bit FNV-1a over the body's 8-byte little-endian words
//! (the last one padded with zeros), its two halves xor-ed: a word at a time, so checking a
//! file costs an eighth of the byte-wise FNV-1a of versions 2 to 4, the largest part of
//! loading a model before.
//! Version 2 files (no word vectors), version 3 files (no language) and version 4 files
//! (byte-wise checksum) are still read; the language of versions 2 and 3 is unknown.
//! Decoding validates every count against the bytes left before allocating, every
//! index against its bound and every float for finiteness; it never panics.

use crate::error::TriageError;
use crate::features::{FeatureConfig, Features, FNV_OFFSET, FNV_PRIME};
use crate::kb::{is_allowed_url, KbEntry, KbLink};
use crate::language::is_language_tag;

const MAGIC: &[u8; 8] = b"BTNTRIAG";
/// The format version this build writes.
pub(crate) const VERSION: u16 = 5;
/// The oldest format version this build reads.
pub(crate) const OLDEST_VERSION: u16 = 2;
const HEADER_LEN: usize = 8 + 2 + 2 + 4 + 4;

/// A linear model over hashed features: int8 weights with a scale per class, stored as
/// dense rows (one weight per class) for the buckets that have any weight.
///
/// The file stores exactly these rows, so loading a model is a copy, not a rebuild; the
/// only structure built at load is the table from bucket to row.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Linear {
    bias: Vec<f32>,
    scale: Vec<f32>,
    /// Buckets with rows, increasing.
    buckets: Vec<u32>,
    /// `buckets.len() x classes` weights, row after row.
    weights: Vec<i8>,
    /// Row of each bucket, [`Linear::ABSENT`] when the bucket has no weights. Empty when
    /// the bucket space is too large for a table (then `buckets` is binary-searched).
    row_of: Vec<u32>,
}

impl Linear {
    const ABSENT: u32 = u32::MAX;
    /// Largest bucket space that gets a lookup table (4 bytes a bucket).
    const MAX_TABLE_LOG2: u8 = 20;

    /// A model from its parts. `buckets` are increasing and below `2^buckets_log2`, and
    /// `weights` holds one row of `bias.len()` weights per bucket (checked by the
    /// decoder for files; the trainer builds them so).
    pub(crate) fn new(
        bias: Vec<f32>,
        scale: Vec<f32>,
        buckets: Vec<u32>,
        weights: Vec<i8>,
        buckets_log2: u8,
    ) -> Linear {
        debug_assert_eq!(bias.len(), scale.len());
        debug_assert_eq!(weights.len(), buckets.len() * bias.len());
        let row_of = if buckets_log2 <= Self::MAX_TABLE_LOG2 {
            let mut table = vec![Self::ABSENT; 1usize << buckets_log2];
            for (row, &bucket) in buckets.iter().enumerate() {
                if let Some(slot) = table.get_mut(bucket as usize) {
                    *slot = row as u32;
                }
            }
            table
        } else {
            Vec::new()
        };
        Linear {
            bias,
            scale,
            buckets,
            weights,
            row_of,
        }
    }

    pub(crate) fn n_classes(&self) -> usize {
        self.bias.len()
    }

    /// Number of nonzero weights.
    #[cfg(feature = "train")]
    pub(crate) fn nonzeros(&self) -> usize {
        self.weights.iter().filter(|&&w| w != 0).count()
    }

    /// The same rows with other biases and scales, for as many classes as `bias` has;
    /// added classes get zero weights (tests).
    #[cfg(test)]
    pub(crate) fn with_classes(&self, bias: Vec<f32>, scale: Vec<f32>) -> Linear {
        let (old, new) = (self.n_classes(), bias.len());
        let weights = self
            .weights
            .chunks(old)
            .flat_map(|row| (0..new).map(|c| row.get(c).copied().unwrap_or(0)))
            .collect();
        Linear {
            bias,
            scale,
            weights,
            ..self.clone()
        }
    }

    fn row(&self, bucket: u32) -> Option<&[i8]> {
        let row = if self.row_of.is_empty() {
            self.buckets.binary_search(&bucket).ok()?
        } else {
            match self.row_of.get(bucket as usize) {
                Some(&row) if row != Self::ABSENT => row as usize,
                _ => return None,
            }
        };
        let n = self.n_classes();
        self.weights.get(row * n..(row + 1) * n)
    }

    /// Raw logits, and how many of the features have weights in the model.
    ///
    /// A message's features take only a few distinct values (feature weight x count /
    /// norm), so rows are summed as integers per distinct value and multiplied once:
    /// exact integer sums instead of one float multiply-add per weight.
    pub(crate) fn logits_and_hits(&self, features: &Features) -> (Vec<f32>, usize) {
        const MAX_GROUPS: usize = 16;
        let n_classes = self.n_classes();
        let mut acc = vec![0f32; n_classes];
        let mut hits = 0;
        let mut values: Vec<u32> = Vec::with_capacity(MAX_GROUPS);
        for &(_, value) in features {
            let bits = value.to_bits();
            if !values.contains(&bits) {
                values.push(bits);
            }
        }
        if values.len() <= MAX_GROUPS {
            let mut sums = vec![0i32; n_classes];
            for &bits in &values {
                sums.fill(0);
                for &(bucket, value) in features {
                    if value.to_bits() != bits {
                        continue;
                    }
                    if let Some(weights) = self.row(bucket) {
                        hits += 1;
                        for (sum, &w) in sums.iter_mut().zip(weights) {
                            *sum += i32::from(w);
                        }
                    }
                }
                let value = f32::from_bits(bits);
                for (a, &sum) in acc.iter_mut().zip(&sums) {
                    *a += value * sum as f32;
                }
            }
        } else {
            for &(bucket, value) in features {
                if let Some(weights) = self.row(bucket) {
                    hits += 1;
                    for (a, &w) in acc.iter_mut().zip(weights) {
                        *a += value * f32::from(w);
                    }
                }
            }
        }
        for ((a, b), s) in acc.iter_mut().zip(&self.bias).zip(&self.scale) {
            *a = *a * s + b;
        }
        (acc, hits)
    }

    /// The first class's logit as a probability (for one-class heads).
    pub(crate) fn probability(&self, features: &Features) -> f32 {
        let z = self
            .logits_and_hits(features)
            .0
            .first()
            .copied()
            .unwrap_or(0.0);
        1.0 / (1.0 + (-z).exp())
    }
}

/// Static word vectors: 4-bit codes per known word with a scale per dimension.
///
/// Words are normalised ([`crate::features::normalize`]) and sorted, so a lookup is a
/// binary search over the text the file holds; nothing is built at load but the word
/// boundaries.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct WordTable {
    /// The words, sorted, separated by `\n`.
    text: String,
    /// Byte range of each word in `text`.
    ranges: Vec<(u32, u32)>,
    dims: usize,
    scale: Vec<f32>,
    /// `dims.div_ceil(2)` bytes a word: two codes a byte, low nibble first.
    codes: Vec<u8>,
}

impl WordTable {
    /// Largest magnitude of a quantised value (codes hold value + 8).
    #[cfg(feature = "train")]
    pub(crate) const LEVELS: f32 = 7.0;
    /// Most dimensions a file may declare.
    const MAX_DIMS: usize = 1024;

    /// A table from its words (sorted, distinct, separated by `\n`) and their codes
    /// (value + 8, `dims.div_ceil(2)` bytes a word).
    #[cfg(any(test, feature = "train"))]
    pub(crate) fn from_text(
        text: String,
        dims: usize,
        scale: Vec<f32>,
        codes: Vec<u8>,
    ) -> Result<WordTable, &'static str> {
        let ranges = Self::word_ranges(&text)?;
        if codes.len() != ranges.len() * dims.div_ceil(2) || scale.len() != dims {
            return Err("codes or scales do not match the words and dimensions");
        }
        Ok(WordTable {
            text,
            ranges,
            dims,
            scale,
            codes,
        })
    }

    /// The byte range of each word of `\n`-separated text, or why the list is not a
    /// table's: every word non-empty, without spaces, sorted and distinct.
    fn word_ranges(text: &str) -> Result<Vec<(u32, u32)>, &'static str> {
        let mut ranges: Vec<(u32, u32)> = Vec::new();
        let mut previous: Option<&str> = None;
        let mut start = 0;
        for word in text.split('\n') {
            if word.is_empty() || word.contains(' ') {
                return Err("empty word or word with a space");
            }
            if previous.is_some_and(|p| p >= word) {
                return Err("words are not sorted and distinct");
            }
            ranges.push((start as u32, (start + word.len()) as u32));
            start += word.len() + 1;
            previous = Some(word);
        }
        Ok(ranges)
    }

    #[cfg(feature = "train")]
    pub(crate) fn dims(&self) -> usize {
        self.dims
    }

    /// log2 of the bucket space of a classifier over the dimensions.
    pub(crate) fn buckets_log2(dims: usize) -> u8 {
        (usize::BITS - dims.saturating_sub(1).leading_zeros()) as u8
    }

    /// The index of `word`: a binary search comparing bytes (the order of `str`), with
    /// no character-boundary checks.
    fn find(&self, word: &str) -> Option<usize> {
        let text = self.text.as_bytes();
        self.ranges
            .binary_search_by(|&(start, end)| {
                text.get(start as usize..end as usize)
                    .unwrap_or_default()
                    .cmp(word.as_bytes())
            })
            .ok()
    }

    /// The mean vector of the known words of normalised text, its length the share of
    /// the words that are known (a message the vectors barely know says little); `None`
    /// when no word is known.
    pub(crate) fn mean(&self, normalized: &str) -> Option<Vec<f32>> {
        let per_word = self.dims.div_ceil(2);
        let mut sums = vec![0i32; self.dims];
        let (mut words, mut known) = (0usize, 0usize);
        for word in normalized.split(' ') {
            words += 1;
            let Some(i) = self.find(word) else {
                continue;
            };
            known += 1;
            let codes = &self.codes[i * per_word..(i + 1) * per_word];
            for (pair, &byte) in sums.chunks_mut(2).zip(codes) {
                pair[0] += i32::from(byte & 0x0f) - 8;
                if let Some(second) = pair.get_mut(1) {
                    *second += i32::from(byte >> 4) - 8;
                }
            }
        }
        if known == 0 {
            return None;
        }
        // The mean's length is divided out, so the sum serves.
        let mut v: Vec<f32> = sums
            .iter()
            .zip(&self.scale)
            .map(|(&s, &k)| s as f32 * k)
            .collect();
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        if norm == 0.0 {
            return None;
        }
        let length = known as f32 / words as f32;
        v.iter_mut().for_each(|x| *x *= length / norm);
        Some(v)
    }
}

/// Word vectors and a classifier over a message's mean vector, whose logits are added to
/// the n-gram classifier's: n-grams know the surface of the training messages, the
/// vectors that "arrive" and "delivered" mean much the same.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct WordVectorClassifier {
    pub(crate) table: WordTable,
    /// One row per dimension (bucket = dimension), no bias: the file's layout.
    pub(crate) linear: Linear,
    /// The same weights two classes at a time, a dimension after another: for classes
    /// `2p` and `2p + 1`, `w[2p] + w[2p + 1] * 2^32` (the scoring layout; see `logits`).
    pairs: Vec<i64>,
}

impl WordVectorClassifier {
    /// Fixed-point unit of the mean vector while scoring (its values are within ±1).
    const ONE: f32 = 16_384.0;

    pub(crate) fn new(table: WordTable, linear: Linear) -> WordVectorClassifier {
        let (dims, n) = (table.dims, linear.n_classes());
        let mut pairs = vec![0i64; n.div_ceil(2) * dims];
        if n > 0 {
            for (&dim, row) in linear.buckets.iter().zip(linear.weights.chunks_exact(n)) {
                for (c, &w) in row.iter().enumerate() {
                    let lane = if c % 2 == 0 { 1 } else { 1i64 << 32 };
                    if let Some(slot) = pairs.get_mut((c / 2) * dims + dim as usize) {
                        *slot += i64::from(w) * lane;
                    }
                }
            }
        }
        WordVectorClassifier {
            table,
            linear,
            pairs,
        }
    }

    /// Logits from the mean vector of the message's known words; `None` when no word is
    /// known.
    ///
    /// This product (dimensions x classes) is most of the cost of word vectors, and
    /// browsers without wasm SIMD run it one step at a time, so it is done in integers,
    /// two classes per 64-bit multiply: the mean in fixed point (`ONE`), times weights
    /// packed as `w_a + w_b * 2^32`, summed, gives `sum_a + sum_b * 2^32` exactly, since
    /// each sum stays within ±2^31 (|x| <= 2^14, |w| <= 127, at most 1,024 dimensions).
    pub(crate) fn logits(&self, normalized: &str) -> Option<Vec<f32>> {
        let dims = self.table.dims;
        if dims == 0 {
            return None;
        }
        let mean = self.table.mean(normalized)?;
        let x: Vec<i64> = mean
            .iter()
            .map(|v| (v.clamp(-1.0, 1.0) * Self::ONE).round() as i64)
            .collect();
        let logits = self
            .dots(&x)
            .iter()
            .zip(&self.linear.scale)
            .zip(&self.linear.bias)
            .map(|((&dot, scale), bias)| dot as f32 * (scale / Self::ONE) + bias)
            .collect();
        Some(logits)
    }

    /// Each class's weights times a mean vector in fixed point (`x[d]` within ±`ONE`).
    fn dots(&self, x: &[i64]) -> Vec<i32> {
        if x.is_empty() {
            return Vec::new();
        }
        let mut dots = Vec::with_capacity(self.pairs.len() / x.len() * 2);
        for packed in self.pairs.chunks_exact(x.len()) {
            let sum: i64 = packed.iter().zip(x).map(|(&w, &v)| w * v).sum();
            let first = sum as i32;
            dots.push(first);
            dots.push(((sum - i64::from(first)) >> 32) as i32);
        }
        dots.truncate(self.linear.n_classes());
        dots
    }
}

/// A named binary detector over the same features (e.g. "handoff").
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct BinaryHead {
    pub(crate) name: String,
    pub(crate) threshold: f32,
    pub(crate) linear: Linear,
}

/// Everything in a model file.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ModelFile {
    pub(crate) site_id: String,
    pub(crate) site_name: String,
    /// The language of the knowledge base, a BCP 47 tag; empty when unknown.
    pub(crate) language: String,
    pub(crate) features: FeatureConfig,
    pub(crate) temperature: f32,
    pub(crate) oos_threshold: f32,
    pub(crate) kb: Vec<KbEntry>,
    pub(crate) has_oos_class: bool,
    pub(crate) intents: Linear,
    pub(crate) heads: Vec<BinaryHead>,
    pub(crate) word_vectors: Option<WordVectorClassifier>,
}

impl ModelFile {
    /// Raw intent logits of a message (normalised text and its features): the n-gram
    /// classifier's, plus the word-vector classifier's when the model has one; and how
    /// many of the n-gram features the model knows.
    pub(crate) fn intent_logits(&self, normalized: &str, features: &Features) -> (Vec<f32>, usize) {
        let (mut z, hits) = self.intents.logits_and_hits(features);
        if let Some(dense) = self
            .word_vectors
            .as_ref()
            .and_then(|v| v.logits(normalized))
        {
            for (zc, d) in z.iter_mut().zip(dense) {
                *zc += d;
            }
        }
        (z, hits)
    }
}

/// The checksum of a model body in format `version` (see the module's documentation).
fn checksum(version: u16, body: &[u8]) -> u32 {
    if version < 5 {
        let mut h: u32 = 0x811c_9dc5;
        for &b in body {
            h ^= u32::from(b);
            h = h.wrapping_mul(0x0100_0193);
        }
        return h;
    }
    let mix = |h: u64, word: &[u8]| {
        let mut le = [0u8; 8];
        le[..word.len()].copy_from_slice(word);
        (h ^ u64::from_le_bytes(le)).wrapping_mul(FNV_PRIME)
    };
    let mut words = body.chunks_exact(8);
    let h = (&mut words).fold(FNV_OFFSET, mix);
    let h = match words.remainder() {
        [] => h,
        last => mix(h, last),
    };
    (h ^ (h >> 32)) as u32
}

// ---------------------------------------------------------------- writing

#[cfg(any(test, feature = "train"))]
mod write {
    use super::*;

    pub(super) struct Writer(pub(super) Vec<u8>);

    impl Writer {
        pub(super) fn varint(&mut self, mut v: u64) {
            loop {
                let byte = (v & 0x7f) as u8;
                v >>= 7;
                if v == 0 {
                    self.0.push(byte);
                    return;
                }
                self.0.push(byte | 0x80);
            }
        }
        pub(super) fn u8(&mut self, v: u8) {
            self.0.push(v);
        }
        pub(super) fn f32(&mut self, v: f32) {
            self.0.extend_from_slice(&v.to_le_bytes());
        }
        pub(super) fn str(&mut self, s: &str) {
            self.varint(s.len() as u64);
            self.0.extend_from_slice(s.as_bytes());
        }
        pub(super) fn linear(&mut self, m: &Linear) {
            self.varint(m.bias.len() as u64);
            for &b in &m.bias {
                self.f32(b);
            }
            for &s in &m.scale {
                self.f32(s);
            }
            self.varint(m.buckets.len() as u64);
            let mut prev = 0u32;
            for (i, &b) in m.buckets.iter().enumerate() {
                self.varint(u64::from(if i == 0 { b } else { b - prev }));
                prev = b;
            }
            self.0.extend(m.weights.iter().map(|&w| w as u8));
        }
    }

    impl ModelFile {
        /// Serialises the model; the inverse of [`ModelFile::decode`].
        pub(crate) fn encode(&self) -> Vec<u8> {
            let mut w = Writer(Vec::new());
            w.str(&self.site_id);
            w.str(&self.site_name);
            w.str(&self.language);
            let f = &self.features;
            w.u8(f.buckets_log2);
            w.f32(f.word_weight);
            w.f32(f.bigram_weight);
            w.f32(f.char_weight);
            w.u8(f.char_min);
            w.u8(f.char_max);
            w.u8(u8::from(f.signed));
            w.f32(self.temperature);
            w.f32(self.oos_threshold);
            w.varint(self.kb.len() as u64);
            for e in &self.kb {
                w.str(&e.id);
                w.str(&e.title);
                w.str(&e.answer);
                w.varint(e.links.len() as u64);
                for l in &e.links {
                    w.str(&l.label);
                    w.str(&l.url);
                }
                w.u8(u8::from(e.sensitive));
            }
            w.u8(u8::from(self.has_oos_class));
            w.linear(&self.intents);
            w.varint(self.heads.len() as u64);
            for h in &self.heads {
                w.str(&h.name);
                w.f32(h.threshold);
                w.linear(&h.linear);
            }
            w.u8(u8::from(self.word_vectors.is_some()));
            if let Some(v) = &self.word_vectors {
                w.varint(v.table.dims as u64);
                w.str(&v.table.text);
                for &s in &v.table.scale {
                    w.f32(s);
                }
                w.0.extend_from_slice(&v.table.codes);
                w.linear(&v.linear);
            }
            let body = w.0;
            let mut out = Vec::with_capacity(HEADER_LEN + body.len());
            out.extend_from_slice(MAGIC);
            out.extend_from_slice(&VERSION.to_le_bytes());
            out.extend_from_slice(&0u16.to_le_bytes());
            out.extend_from_slice(&(body.len() as u32).to_le_bytes());
            out.extend_from_slice(&checksum(VERSION, &body).to_le_bytes());
            out.extend_from_slice(&body);
            out
        }
    }
}

// ---------------------------------------------------------------- reading

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

fn corrupt(section: &'static str, detail: impl Into<String>) -> TriageError {
    TriageError::Corrupt {
        section,
        detail: detail.into(),
    }
}

impl<'a> Reader<'a> {
    fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }

    fn take(&mut self, n: usize, section: &'static str) -> Result<&'a [u8], TriageError> {
        if self.remaining() < n {
            return Err(TriageError::Truncated { section });
        }
        let s = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn u8(&mut self, section: &'static str) -> Result<u8, TriageError> {
        Ok(self.take(1, section)?[0])
    }

    fn f32(&mut self, section: &'static str) -> Result<f32, TriageError> {
        let b = self.take(4, section)?;
        let v = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        if v.is_finite() {
            Ok(v)
        } else {
            Err(corrupt(section, "number is not finite"))
        }
    }

    fn varint(&mut self, section: &'static str) -> Result<u64, TriageError> {
        // Most numbers in a model (class and bucket deltas) fit in one byte.
        if let Some(&b) = self.bytes.get(self.pos) {
            if b < 0x80 {
                self.pos += 1;
                return Ok(u64::from(b));
            }
        }
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.u8(section)?;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(corrupt(section, "varint longer than 64 bits"))
    }

    /// A count of items that each take at least `min_bytes` bytes: bounded by what is left.
    fn count(&mut self, section: &'static str, min_bytes: usize) -> Result<usize, TriageError> {
        let n = self.varint(section)?;
        let max = self.remaining() / min_bytes.max(1);
        if n > max as u64 {
            return Err(TriageError::Truncated { section });
        }
        Ok(n as usize)
    }

    fn str(&mut self, section: &'static str) -> Result<String, TriageError> {
        let n = self.count(section, 1)?;
        let b = self.take(n, section)?;
        String::from_utf8(b.to_vec()).map_err(|_| corrupt(section, "text is not UTF-8"))
    }

    fn flag(&mut self, section: &'static str) -> Result<bool, TriageError> {
        match self.u8(section)? {
            0 => Ok(false),
            1 => Ok(true),
            other => Err(corrupt(
                section,
                format!("flag is {other}, expected 0 or 1"),
            )),
        }
    }

    fn linear(&mut self, section: &'static str, buckets_log2: u8) -> Result<Linear, TriageError> {
        let n_classes = self.count(section, 8)?;
        if n_classes == 0 || n_classes > usize::from(u16::MAX) {
            return Err(corrupt(section, format!("{n_classes} classes")));
        }
        let mut bias = Vec::with_capacity(n_classes);
        for _ in 0..n_classes {
            bias.push(self.f32(section)?);
        }
        let mut scale = Vec::with_capacity(n_classes);
        for _ in 0..n_classes {
            scale.push(self.f32(section)?);
        }
        // Each row takes a bucket id and a weight per class.
        let n_rows = self.count(section, 1 + n_classes)?;
        let limit = 1u64 << buckets_log2;
        let mut buckets = Vec::with_capacity(n_rows);
        let mut prev = 0u64;
        for i in 0..n_rows {
            let d = self.varint(section)?;
            if i > 0 && d == 0 {
                return Err(corrupt(section, "bucket ids are not increasing"));
            }
            prev = prev.saturating_add(d);
            if prev >= limit {
                return Err(corrupt(section, "bucket id out of range"));
            }
            buckets.push(prev as u32);
        }
        let weights = self
            .take(n_rows * n_classes, section)?
            .iter()
            .map(|&b| b as i8)
            .collect();
        Ok(Linear::new(bias, scale, buckets, weights, buckets_log2))
    }

    fn word_vectors(&mut self, n_classes: usize) -> Result<WordVectorClassifier, TriageError> {
        const SECTION: &str = "word vectors";
        let dims = self.varint(SECTION)?;
        if dims == 0 || dims > WordTable::MAX_DIMS as u64 {
            return Err(corrupt(SECTION, format!("{dims} dimensions")));
        }
        let dims = dims as usize;
        let text = self.str("word vector words")?;
        let ranges = WordTable::word_ranges(&text).map_err(|e| corrupt("word vector words", e))?;
        let mut scale = Vec::with_capacity(dims);
        for _ in 0..dims {
            scale.push(self.f32("word vector scales")?);
        }
        let codes = self
            .take(ranges.len() * dims.div_ceil(2), "word vector codes")?
            .to_vec();
        let table = WordTable {
            text,
            ranges,
            dims,
            scale,
            codes,
        };
        let linear = self.linear("word vector weights", WordTable::buckets_log2(dims))?;
        if linear.n_classes() != n_classes {
            return Err(corrupt(
                "word vector weights",
                "class count does not match the intent weights",
            ));
        }
        if linear.buckets.last().is_some_and(|&b| b as usize >= dims) {
            return Err(corrupt(
                "word vector weights",
                "row beyond the last dimension",
            ));
        }
        Ok(WordVectorClassifier::new(table, linear))
    }
}

impl ModelFile {
    /// Parses and validates a model file.
    pub(crate) fn decode(bytes: &[u8]) -> Result<ModelFile, TriageError> {
        if bytes.is_empty() {
            return Err(TriageError::EmptyModel);
        }
        if bytes.len() < HEADER_LEN {
            if bytes.len() >= 8 && &bytes[..8] != MAGIC {
                return Err(TriageError::BadMagic);
            }
            return Err(TriageError::Truncated { section: "header" });
        }
        if &bytes[..8] != MAGIC {
            return Err(TriageError::BadMagic);
        }
        let version = u16::from_le_bytes([bytes[8], bytes[9]]);
        if !(OLDEST_VERSION..=VERSION).contains(&version) {
            return Err(TriageError::UnsupportedVersion {
                found: version,
                oldest: OLDEST_VERSION,
                newest: VERSION,
            });
        }
        let body_len = u32::from_le_bytes([bytes[12], bytes[13], bytes[14], bytes[15]]) as usize;
        let expected_checksum = u32::from_le_bytes([bytes[16], bytes[17], bytes[18], bytes[19]]);
        let body = &bytes[HEADER_LEN..];
        if body.len() < body_len {
            return Err(TriageError::Truncated { section: "body" });
        }
        if body.len() > body_len {
            return Err(corrupt("body", "bytes after the end of the model"));
        }
        if checksum(version, body) != expected_checksum {
            return Err(TriageError::ChecksumMismatch);
        }
        let mut r = Reader {
            bytes: body,
            pos: 0,
        };
        let site_id = r.str("site id")?;
        let site_name = r.str("site name")?;
        let language = if version >= 4 {
            r.str("site language")?
        } else {
            String::new()
        };
        if !language.is_empty() && !is_language_tag(&language) {
            return Err(corrupt("site language", "not a BCP 47 language tag"));
        }
        let features = FeatureConfig {
            buckets_log2: r.u8("features")?,
            word_weight: r.f32("features")?,
            bigram_weight: r.f32("features")?,
            char_weight: r.f32("features")?,
            char_min: r.u8("features")?,
            char_max: r.u8("features")?,
            signed: r.flag("features")?,
        };
        if !(1..=30).contains(&features.buckets_log2)
            || features.char_min > features.char_max
            || features.char_max > 16
        {
            return Err(corrupt(
                "features",
                "bucket count or n-gram range out of range",
            ));
        }
        let temperature = r.f32("calibration")?;
        let oos_threshold = r.f32("calibration")?;
        if temperature <= 0.0 || !(0.0..=1.0).contains(&oos_threshold) {
            return Err(corrupt(
                "calibration",
                "temperature or threshold out of range",
            ));
        }
        let n_kb = r.count("knowledge base", 5)?;
        let mut kb = Vec::with_capacity(n_kb);
        for _ in 0..n_kb {
            let id = r.str("knowledge base intent id")?;
            let title = r.str("knowledge base title")?;
            let answer = r.str("knowledge base answer")?;
            let n_links = r.count("knowledge base links", 2)?;
            let mut links = Vec::with_capacity(n_links);
            for _ in 0..n_links {
                let label = r.str("knowledge base link label")?;
                let url = r.str("knowledge base link url")?;
                if !is_allowed_url(&url) {
                    return Err(TriageError::UnsafeLink {
                        file: "model file".into(),
                        intent: id,
                        line: 0,
                    });
                }
                links.push(KbLink { label, url });
            }
            let sensitive = r.flag("knowledge base sensitive flag")?;
            if id.is_empty() || kb.iter().any(|e: &KbEntry| e.id == id) {
                return Err(corrupt("knowledge base", "empty or duplicate intent id"));
            }
            kb.push(KbEntry {
                id,
                title,
                answer,
                links,
                sensitive,
            });
        }
        if kb.is_empty() {
            return Err(corrupt("knowledge base", "no intents"));
        }
        let has_oos_class = r.flag("out-of-scope flag")?;
        let intents = r.linear("intent weights", features.buckets_log2)?;
        if intents.n_classes() != kb.len() + usize::from(has_oos_class) {
            return Err(corrupt(
                "intent weights",
                "class count does not match the knowledge base",
            ));
        }
        let n_heads = r.count("heads", 10)?;
        let mut heads = Vec::with_capacity(n_heads);
        for _ in 0..n_heads {
            let name = r.str("head name")?;
            let threshold = r.f32("head threshold")?;
            let linear = r.linear("head weights", features.buckets_log2)?;
            if linear.n_classes() != 1 {
                return Err(corrupt("head weights", "a head has exactly one class"));
            }
            heads.push(BinaryHead {
                name,
                threshold,
                linear,
            });
        }
        let word_vectors = if version >= 3 && r.flag("word vectors flag")? {
            Some(r.word_vectors(intents.n_classes())?)
        } else {
            None
        };
        if r.remaining() != 0 {
            return Err(corrupt("body", "bytes after the last section"));
        }
        Ok(ModelFile {
            site_id,
            site_name,
            language,
            features,
            temperature,
            oos_threshold,
            kb,
            has_oos_class,
            intents,
            heads,
            word_vectors,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A tiny valid model: two intents, a handful of weights.
    pub(crate) fn tiny_model() -> ModelFile {
        let features = FeatureConfig {
            buckets_log2: 10,
            ..FeatureConfig::default()
        };
        ModelFile {
            site_id: "test".into(),
            site_name: "Test Bank".into(),
            language: String::new(),
            features,
            temperature: 1.0,
            oos_threshold: 0.3,
            kb: vec![
                KbEntry {
                    id: "card_arrival".into(),
                    title: "When will my card arrive?".into(),
                    answer: "Soon.".into(),
                    links: vec![KbLink {
                        label: "Card".into(),
                        url: "https://bank.example/card".into(),
                    }],
                    sensitive: false,
                },
                KbEntry {
                    id: "lost_or_stolen_card".into(),
                    title: "I lost my card".into(),
                    answer: "Freeze it.".into(),
                    links: vec![],
                    sensitive: true,
                },
            ],
            has_oos_class: false,
            intents: Linear::new(
                vec![0.0, 0.0],
                vec![0.1, 0.1],
                vec![3, 700],
                vec![50, -20, 0, 127],
                features.buckets_log2,
            ),
            heads: vec![],
            word_vectors: None,
        }
    }

    /// [`tiny_model`] with word vectors: three words in two dimensions.
    pub(crate) fn tiny_model_with_vectors() -> ModelFile {
        let mut m = tiny_model();
        // "arrived" (7, -7) in codes +8; "card" (1, 0); "stolen" (-7, 7).
        let table = WordTable::from_text(
            "arrived\ncard\nstolen".into(),
            2,
            vec![0.5, 0.25],
            vec![15 | (1 << 4), 9 | (8 << 4), 1 | (15 << 4)],
        )
        .unwrap();
        m.word_vectors = Some(WordVectorClassifier::new(
            table,
            Linear::new(
                vec![0.0, 0.0],
                vec![0.01, 0.02],
                vec![0, 1],
                vec![100, -100, -50, 50],
                1,
            ),
        ));
        m
    }

    #[test]
    fn word_vectors_round_trip_and_score_the_mean() {
        let m = tiny_model_with_vectors();
        assert_eq!(ModelFile::decode(&m.encode()).unwrap(), m);
        let table = &m.word_vectors.as_ref().unwrap().table;
        assert_eq!(table.mean("nothing known here"), None);
        // "arrived" is (3.5, -1.75); with "card" (0.5, 0) the sum is (4.0, -1.75); two of
        // the three words are known, so the unit vector is scaled to 2/3.
        let v = table.mean("my card arrived").unwrap();
        let norm = (4.0f32 * 4.0 + 1.75 * 1.75).sqrt() * 1.5;
        assert!(
            (v[0] - 4.0 / norm).abs() < 1e-6 && (v[1] + 1.75 / norm).abs() < 1e-6,
            "{v:?}"
        );
        // Logits add: the n-gram part has no known feature here, so only the vectors speak.
        let (z, hits) = m.intent_logits("my card arrived", &Vec::new());
        assert_eq!(hits, 0);
        let expected = [
            (v[0] * 100.0 - v[1] * 50.0) * 0.01,
            (-v[0] * 100.0 + v[1] * 50.0) * 0.02,
        ];
        // The mean is scored in fixed point (1/16,384): within a few 1e-4 of the float sum.
        assert!(
            (z[0] - expected[0]).abs() < 1e-3 && (z[1] - expected[1]).abs() < 1e-3,
            "{z:?} vs {expected:?}"
        );
        assert!(z[0] > z[1], "arrived leans to card_arrival");
        assert!(m.intent_logits("stolen", &Vec::new()).0[1] > 0.0);
    }

    #[test]
    fn version_2_files_still_load_without_word_vectors_or_language() {
        let mut bytes = tiny_model().encode();
        // Version 2 ends after the heads: drop the word-vector flag.
        bytes.pop();
        // Nor has it a language after the site id ("test") and name ("Test Bank").
        let language_at = HEADER_LEN + (1 + 4) + (1 + 9);
        assert_eq!(bytes.remove(language_at), 0, "an empty language");
        bytes[8..10].copy_from_slice(&2u16.to_le_bytes());
        let len = (bytes.len() - HEADER_LEN) as u32;
        bytes[12..16].copy_from_slice(&len.to_le_bytes());
        fix_checksum(&mut bytes);
        assert_eq!(ModelFile::decode(&bytes).unwrap(), tiny_model());
    }

    #[test]
    fn version_4_files_with_the_byte_wise_checksum_still_load() {
        let mut bytes = tiny_model_with_vectors().encode();
        bytes[8..10].copy_from_slice(&4u16.to_le_bytes());
        assert_eq!(
            ModelFile::decode(&bytes),
            Err(TriageError::ChecksumMismatch),
            "version 4 files are checked byte by byte"
        );
        fix_checksum(&mut bytes);
        assert_eq!(
            ModelFile::decode(&bytes).unwrap(),
            tiny_model_with_vectors()
        );
    }

    #[test]
    fn any_changed_byte_of_the_body_fails_the_checksum() {
        let bytes = tiny_model_with_vectors().encode();
        assert_ne!((bytes.len() - HEADER_LEN) % 8, 0, "a partial last word");
        for pos in HEADER_LEN..bytes.len() {
            for flip in [0x01, 0x80] {
                let mut changed = bytes.clone();
                changed[pos] ^= flip;
                assert_eq!(
                    ModelFile::decode(&changed),
                    Err(TriageError::ChecksumMismatch),
                    "byte {pos}"
                );
            }
        }
    }

    #[test]
    fn corrupt_word_vectors_are_named() {
        let mut bytes = tiny_model_with_vectors().encode();
        let at = bytes.windows(6).position(|w| w == b"\ncard\n").unwrap();
        bytes[at + 1..at + 5].copy_from_slice(b"aaaa");
        fix_checksum(&mut bytes);
        let err = ModelFile::decode(&bytes).unwrap_err().to_string();
        assert!(
            err.contains("word vector words") && err.contains("sorted"),
            "{err}"
        );
        let mut m = tiny_model_with_vectors();
        m.word_vectors.as_mut().unwrap().linear =
            Linear::new(vec![0.0], vec![1.0], vec![0], vec![1], 1);
        let err = ModelFile::decode(&m.encode()).unwrap_err().to_string();
        assert!(err.contains("class count"), "{err}");
    }

    #[test]
    fn round_trips() {
        let mut m = tiny_model();
        assert_eq!(ModelFile::decode(&m.encode()).unwrap(), m);
        m.language = "pt-BR".into();
        assert_eq!(ModelFile::decode(&m.encode()).unwrap(), m);
    }

    #[test]
    fn a_language_that_is_no_tag_is_named() {
        let mut m = tiny_model();
        m.language = "English".into();
        let err = ModelFile::decode(&m.encode()).unwrap_err().to_string();
        assert!(err.contains("site language"), "{err}");
    }

    #[test]
    fn every_truncation_is_an_error() {
        let bytes = tiny_model_with_vectors().encode();
        for len in 0..bytes.len() {
            assert!(ModelFile::decode(&bytes[..len]).is_err(), "len {len}");
        }
    }

    #[test]
    fn an_empty_file_is_called_empty_not_truncated() {
        let err = ModelFile::decode(&[]).unwrap_err();
        assert_eq!(err, TriageError::EmptyModel);
        assert!(err.to_string().contains("empty (0 bytes)"), "{err}");
    }

    #[test]
    fn rejects_bad_magic_version_and_checksum() {
        let mut bytes = tiny_model().encode();
        bytes[0] = b'X';
        assert_eq!(ModelFile::decode(&bytes), Err(TriageError::BadMagic));
        let mut bytes = tiny_model().encode();
        bytes[8] = 9;
        let err = ModelFile::decode(&bytes).unwrap_err();
        assert!(
            matches!(err, TriageError::UnsupportedVersion { found: 9, .. }),
            "{err}"
        );
        // A model from a newer Baton: retraining with this one is not the only way out.
        assert!(
            err.to_string()
                .contains("made by a newer Baton: update Baton"),
            "{err}"
        );
        // A model from before the dense rows: the error says how to get a working one.
        bytes[8] = 1;
        let err = ModelFile::decode(&bytes).unwrap_err().to_string();
        assert!(
            err.contains("version 1") && err.contains("baton train"),
            "{err}"
        );
        let mut bytes = tiny_model().encode();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        assert_eq!(
            ModelFile::decode(&bytes),
            Err(TriageError::ChecksumMismatch)
        );
    }

    #[test]
    fn rejects_unsafe_links_even_in_a_well_formed_file() {
        let mut m = tiny_model();
        m.kb[0].links[0].url = "javascript:alert(1)".into();
        let err = ModelFile::decode(&m.encode()).unwrap_err();
        assert!(err.to_string().contains("card_arrival"), "{err}");
    }

    #[test]
    fn logits_are_the_weighted_sums_of_the_rows() {
        let m = tiny_model();
        let rows = [(3u32, [50f32, -20.0]), (700, [0.0, 127.0])];
        let few_values: Features = vec![(3, 0.6), (5, 0.2), (700, 0.6)];
        // More distinct values than the scorer groups: the per-weight path.
        let many_values: Features = (0..40).map(|i| (i * 20, 0.01 * i as f32)).collect();
        for features in [few_values, many_values] {
            let mut expected = [0f32; 2];
            let mut expected_hits = 0;
            for &(bucket, value) in &features {
                if let Some((_, w)) = rows.iter().find(|r| r.0 == bucket) {
                    expected_hits += 1;
                    expected[0] += value * w[0];
                    expected[1] += value * w[1];
                }
            }
            let expected = expected.map(|z| z * 0.1);
            // The lookup table, and the binary search used for very large bucket spaces.
            for log2 in [m.features.buckets_log2, 24] {
                let linear = Linear::new(
                    vec![0.0, 0.0],
                    vec![0.1, 0.1],
                    vec![3, 700],
                    vec![50, -20, 0, 127],
                    log2,
                );
                let (logits, hits) = linear.logits_and_hits(&features);
                assert_eq!(hits, expected_hits);
                for (a, b) in logits.iter().zip(&expected) {
                    assert!((a - b).abs() <= 1e-5 * b.abs().max(1.0), "{a} vs {b}");
                }
            }
        }
    }

    /// Rewrites the checksum so corruption reaches the section validators.
    fn fix_checksum(bytes: &mut [u8]) {
        let version = u16::from_le_bytes([bytes[8], bytes[9]]);
        let sum = checksum(version, &bytes[HEADER_LEN..]);
        bytes[16..20].copy_from_slice(&sum.to_le_bytes());
    }

    proptest! {
        #[test]
        fn corrupt_bodies_never_panic(pos in 0usize..10_000, byte in any::<u8>()) {
            let mut bytes = tiny_model_with_vectors().encode();
            let pos = HEADER_LEN + pos % (bytes.len() - HEADER_LEN);
            bytes[pos] = byte;
            fix_checksum(&mut bytes);
            let _ = ModelFile::decode(&bytes);
        }

        #[test]
        fn packed_product_equals_the_plain_sums(
            dims in 1usize..100,
            classes in 1usize..8,
            seed in any::<u64>(),
        ) {
            let mut state = seed;
            let mut next = move || {
                state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                (state >> 33) as i64
            };
            let weights: Vec<i8> = (0..dims * classes).map(|_| (next() % 255 - 127) as i8).collect();
            let x: Vec<i64> = (0..dims).map(|_| next() % 32_769 - 16_384).collect();
            let scale: Vec<f32> = (0..classes).map(|c| 0.5 + c as f32).collect();
            let linear = Linear::new(
                vec![0.0; classes],
                scale,
                (0..dims as u32).collect(),
                weights.clone(),
                WordTable::buckets_log2(dims),
            );
            let table = WordTable { dims, ..WordTable::default() };
            let dots = WordVectorClassifier::new(table, linear).dots(&x);
            let plain: Vec<i32> = (0..classes)
                .map(|c| (0..dims).map(|d| x[d] * i64::from(weights[d * classes + c])).sum::<i64>() as i32)
                .collect();
            prop_assert_eq!(dots, plain);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = ModelFile::decode(&bytes);
        }
    }
}
