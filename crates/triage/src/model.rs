//! The compiled model file: a versioned, checksummed, little-endian binary format.
//!
//! Layout (all integers little-endian, `varint` = unsigned LEB128, `str` = varint
//! length + UTF-8 bytes, `f32` = IEEE-754 bits):
//!
//! ```text
//! header  magic "BTNTRIAG" | u16 version | u16 reserved (0) | u32 body length | u32 FNV-1a checksum of body
//! body    str site id | str site name
//!         features: u8 log2 buckets | f32 word weight | f32 bigram weight | f32 char weight | u8 char min | u8 char max | u8 signed hashing
//!         f32 temperature | f32 out-of-scope threshold
//!         varint intents, each: str id | str title | str answer | varint links (str label | str url)* | u8 sensitive
//!         u8 has out-of-scope class (the class after the last intent)
//!         weights (the intent classifier)
//!         varint heads, each: str name | f32 threshold | weights with one class
//! weights varint classes | f32 bias * classes | f32 scale * classes
//!         varint rows | varint bucket delta * rows | i8 weight * rows * classes (row after row)
//! ```
//!
//! Rows are dense (a weight per class, zeros included): the demo model's rows are three
//! quarters nonzero, and dense rows compress better under brotli than class ids beside
//! the weights (50.0 KB against 59.1 KB for version 1's sparse rows). They are also the
//! layout the engine scores with, so loading is a copy.
//! Decoding validates every count against the bytes left before allocating, every
//! index against its bound and every float for finiteness; it never panics.

use crate::error::TriageError;
use crate::features::{FeatureConfig, Features};
use crate::kb::{is_allowed_url, KbEntry, KbLink};

const MAGIC: &[u8; 8] = b"BTNTRIAG";
/// The format version this build reads and writes.
pub(crate) const VERSION: u16 = 2;
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

    /// Raw logits.
    #[cfg(feature = "train")]
    pub(crate) fn logits(&self, features: &Features) -> Vec<f32> {
        self.logits_and_hits(features).0
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
    pub(crate) features: FeatureConfig,
    pub(crate) temperature: f32,
    pub(crate) oos_threshold: f32,
    pub(crate) kb: Vec<KbEntry>,
    pub(crate) has_oos_class: bool,
    pub(crate) intents: Linear,
    pub(crate) heads: Vec<BinaryHead>,
}

fn fnv32(bytes: &[u8]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for &b in bytes {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
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
            let body = w.0;
            let mut out = Vec::with_capacity(HEADER_LEN + body.len());
            out.extend_from_slice(MAGIC);
            out.extend_from_slice(&VERSION.to_le_bytes());
            out.extend_from_slice(&0u16.to_le_bytes());
            out.extend_from_slice(&(body.len() as u32).to_le_bytes());
            out.extend_from_slice(&fnv32(&body).to_le_bytes());
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
}

impl ModelFile {
    /// Parses and validates a model file.
    pub(crate) fn decode(bytes: &[u8]) -> Result<ModelFile, TriageError> {
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
        if version != VERSION {
            return Err(TriageError::UnsupportedVersion {
                found: version,
                supported: VERSION,
            });
        }
        let body_len = u32::from_le_bytes([bytes[12], bytes[13], bytes[14], bytes[15]]) as usize;
        let checksum = u32::from_le_bytes([bytes[16], bytes[17], bytes[18], bytes[19]]);
        let body = &bytes[HEADER_LEN..];
        if body.len() < body_len {
            return Err(TriageError::Truncated { section: "body" });
        }
        if body.len() > body_len {
            return Err(corrupt("body", "bytes after the end of the model"));
        }
        if fnv32(body) != checksum {
            return Err(TriageError::ChecksumMismatch);
        }
        let mut r = Reader {
            bytes: body,
            pos: 0,
        };
        let site_id = r.str("site id")?;
        let site_name = r.str("site name")?;
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
        if r.remaining() != 0 {
            return Err(corrupt("body", "bytes after the last section"));
        }
        Ok(ModelFile {
            site_id,
            site_name,
            features,
            temperature,
            oos_threshold,
            kb,
            has_oos_class,
            intents,
            heads,
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
        }
    }

    #[test]
    fn round_trips() {
        let m = tiny_model();
        assert_eq!(ModelFile::decode(&m.encode()).unwrap(), m);
    }

    #[test]
    fn every_truncation_is_an_error() {
        let bytes = tiny_model().encode();
        for len in 0..bytes.len() {
            assert!(ModelFile::decode(&bytes[..len]).is_err(), "len {len}");
        }
    }

    #[test]
    fn rejects_bad_magic_version_and_checksum() {
        let mut bytes = tiny_model().encode();
        bytes[0] = b'X';
        assert_eq!(ModelFile::decode(&bytes), Err(TriageError::BadMagic));
        let mut bytes = tiny_model().encode();
        bytes[8] = 9;
        assert!(matches!(
            ModelFile::decode(&bytes),
            Err(TriageError::UnsupportedVersion { found: 9, .. })
        ));
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
        let sum = fnv32(&bytes[HEADER_LEN..]);
        bytes[16..20].copy_from_slice(&sum.to_le_bytes());
    }

    proptest! {
        #[test]
        fn corrupt_bodies_never_panic(pos in 0usize..10_000, byte in any::<u8>()) {
            let mut bytes = tiny_model().encode();
            let pos = HEADER_LEN + pos % (bytes.len() - HEADER_LEN);
            bytes[pos] = byte;
            fix_checksum(&mut bytes);
            let _ = ModelFile::decode(&bytes);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = ModelFile::decode(&bytes);
        }
    }
}
