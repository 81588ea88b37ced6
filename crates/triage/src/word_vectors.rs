//! Word-vector files for training: the word2vec text format, read and quantised into the
//! model's [`WordTable`].
//!
//! A file is one word per line followed by its values, separated by spaces; an optional
//! first line `WORDS DIMS` (word2vec's header) is checked against the rest. Baton's own
//! vectors come from `crates/triage/teacher/static_vectors.py` (distilled from a sentence
//! encoder), but any static vectors in this format work (fastText `.vec`, GloVe `.txt`).
//! Words are matched after the engine's normalisation, so entries that normalisation
//! would change (capitals, punctuation, digits other than 0) can never match a message
//! and are skipped, and counted.

use crate::error::TriageError;
use crate::features::normalize;
use crate::model::WordTable;
use crate::train::quantile_scale;

/// Static word vectors read from a file, in word order.
#[derive(Clone, PartialEq)]
pub struct WordVectors {
    dims: usize,
    /// Sorted by word, distinct.
    entries: Vec<(String, Vec<f32>)>,
    skipped: usize,
}

impl std::fmt::Debug for WordVectors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WordVectors")
            .field("words", &self.entries.len())
            .field("dims", &self.dims)
            .field("skipped", &self.skipped)
            .finish()
    }
}

impl WordVectors {
    /// Values per word.
    pub fn dims(&self) -> usize {
        self.dims
    }

    /// Words with a vector.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no word has a vector (never true for a file that was read).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Entries skipped because normalisation would change the word.
    pub fn skipped(&self) -> usize {
        self.skipped
    }

    /// The table a model stores: each dimension scaled so that the `clip_quantile`
    /// quantile of its magnitudes maps to the largest 4-bit level.
    pub(crate) fn quantize(&self, clip_quantile: f32) -> Result<WordTable, TriageError> {
        let mut scale = vec![1f32; self.dims];
        for (d, s) in scale.iter_mut().enumerate() {
            let mags = self.entries.iter().map(|(_, v)| v[d].abs()).collect();
            if let Some(quantile_scale) = quantile_scale(mags, clip_quantile, WordTable::LEVELS) {
                *s = quantile_scale;
            }
        }
        let mut codes = Vec::with_capacity(self.entries.len() * self.dims.div_ceil(2));
        for (_, values) in &self.entries {
            let code = |d: usize| {
                let q = (values[d] / scale[d])
                    .round()
                    .clamp(-WordTable::LEVELS, WordTable::LEVELS);
                (q as i8 + 8) as u8
            };
            for d in (0..self.dims).step_by(2) {
                let high = if d + 1 < self.dims { code(d + 1) } else { 8 };
                codes.push(code(d) | (high << 4));
            }
        }
        let words: Vec<&str> = self.entries.iter().map(|(w, _)| w.as_str()).collect();
        WordTable::from_text(words.join("\n"), self.dims, scale, codes)
            .map_err(|problem| TriageError::TrainOptions(format!("word vectors: {problem}")))
    }
}

/// Parses a word2vec text file; `file` names it in errors, which give the line and never
/// the word.
pub fn read_word_vectors(file: &str, contents: &str) -> Result<WordVectors, TriageError> {
    let error = |line: usize, problem: String| TriageError::WordVectors {
        file: file.into(),
        line,
        problem,
    };
    let mut lines = contents
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l))
        .peekable();
    let mut declared: Option<(usize, usize)> = None;
    if let Some(&(_, first)) = lines.peek() {
        let parts: Vec<&str> = first.split_whitespace().collect();
        if let [words, dims] = parts[..] {
            if let (Ok(words), Ok(dims)) = (words.parse(), dims.parse()) {
                declared = Some((words, dims));
                lines.next();
            }
        }
    }
    let mut dims = declared.map(|(_, d)| d);
    let dims_problem = |dims: usize| {
        (dims == 0 || dims > 1024).then(|| format!("{dims} dimensions (1 to 1,024 are supported)"))
    };
    if let Some(problem) = declared.and_then(|(_, d)| dims_problem(d)) {
        return Err(error(1, problem));
    }
    let mut entries: Vec<(String, Vec<f32>, usize)> = Vec::new();
    let mut skipped = 0;
    let mut rows = 0;
    for (line, text) in lines {
        if text.trim().is_empty() {
            continue;
        }
        rows += 1;
        let mut parts = text.split_whitespace();
        let word = parts.next().unwrap_or_default();
        let mut values = Vec::with_capacity(dims.unwrap_or(0));
        for (i, part) in parts.enumerate() {
            match part.parse::<f32>() {
                Ok(v) if v.is_finite() => values.push(v),
                _ => {
                    return Err(error(
                        line,
                        format!("value {} is not a finite number", i + 1),
                    ))
                }
            }
        }
        if values.is_empty() {
            return Err(error(line, "no values after the word".into()));
        }
        if dims.is_none() {
            if let Some(problem) = dims_problem(values.len()) {
                return Err(error(line, problem));
            }
        }
        let expected = *dims.get_or_insert(values.len());
        if values.len() != expected {
            return Err(error(
                line,
                format!("{} values, expected {expected}", values.len()),
            ));
        }
        if normalize(word) != word {
            skipped += 1;
            continue;
        }
        entries.push((word.to_owned(), values, line));
    }
    let dims = dims.unwrap_or(0);
    if let Some((words, _)) = declared {
        if words != rows {
            return Err(error(
                1,
                format!("the header says {words} words, the file has {rows}"),
            ));
        }
    }
    if let Some(problem) = dims_problem(dims) {
        // Only an empty file gets here.
        return Err(error(1, problem));
    }
    if entries.is_empty() {
        return Err(error(
            0,
            format!("no usable word ({skipped} skipped: not lowercase letters and digits 0)"),
        ));
    }
    entries.sort_by(|a, b| a.0.cmp(&b.0).then(a.2.cmp(&b.2)));
    if let Some(pair) = entries.windows(2).find(|p| p[0].0 == p[1].0) {
        return Err(error(
            pair[1].2,
            format!("the word of line {} again", pair[0].2),
        ));
    }
    Ok(WordVectors {
        dims,
        entries: entries.into_iter().map(|(w, v, _)| (w, v)).collect(),
        skipped,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn reads_word2vec_text_with_or_without_a_header() {
        let with =
            read_word_vectors("v.vec", "3 2\ncard 0.25 -1\narrived 1 0\nCard 2 2\n").unwrap();
        let without = read_word_vectors("v.vec", "card 0.25 -1\narrived 1 0\nCard 2 2\n").unwrap();
        assert_eq!(with, without);
        assert_eq!((with.len(), with.dims(), with.skipped()), (2, 2, 1));
        let table = with.quantize(1.0).unwrap();
        // "card": 0.25 of a dimension whose largest magnitude is 1 -> 1.75 -> 2 of 7.
        let v = table.mean("card").unwrap();
        let expected = [2.0 / 7.0, -1.0];
        let norm = (expected[0] * expected[0] + 1.0f32).sqrt();
        assert!(
            (v[0] - expected[0] / norm).abs() < 1e-6 && (v[1] + 1.0 / norm).abs() < 1e-6,
            "{v:?} {expected:?}"
        );
    }

    #[test]
    fn errors_name_the_line_and_never_the_word() {
        let wide = format!("\nsecret{}\n", " 1".repeat(1025));
        let cases = [
            ("secret 1 2\nother 1\n", "line 2: 1 values, expected 2"),
            ("secret 1 x\n", "line 1: value 2 is not a finite number"),
            ("secret 1 NaN\n", "line 1: value 2 is not a finite number"),
            (
                "5 2\nsecret 1 2\n",
                "line 1: the header says 5 words, the file has 1",
            ),
            (
                "secret 1 2\nword 1 1\nsecret 3 4\n",
                "line 3: the word of line 1 again",
            ),
            ("Secret 1 2\n", "no usable word (1 skipped"),
            ("", "line 1: 0 dimensions"),
            ("2 2000\nsecret 1\nother 1\n", "line 1: 2000 dimensions"),
            (wide.as_str(), "line 2: 1025 dimensions"),
            ("secret\n", "line 1: no values after the word"),
        ];
        for (contents, expected) in cases {
            let err = read_word_vectors("v.vec", contents)
                .unwrap_err()
                .to_string();
            assert!(err.starts_with("v.vec: "), "{err}");
            assert!(err.contains(expected), "{contents:?}: {err}");
            assert!(!err.to_lowercase().contains("secret"), "{err}");
        }
    }
}
