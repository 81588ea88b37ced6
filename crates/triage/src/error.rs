//! The one error type of the triage crate.
//!
//! Messages name the file, section, field or line that is wrong. They never contain
//! customer text: model and knowledge-base content is written by the site owner, and
//! training examples are only ever referred to by line number.

/// Everything that can go wrong loading a model or training one.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum TriageError {
    /// The model file does not start with the Baton model magic bytes.
    #[error("model file: not a Baton triage model (bad magic bytes)")]
    BadMagic,
    /// The model file was written by a newer or older, incompatible format version.
    #[error("model file: format version {found} is not supported (this build reads versions {oldest} to {newest}); {}", version_advice(.found, .newest))]
    UnsupportedVersion {
        /// The version in the file.
        found: u16,
        /// The oldest version this build reads.
        oldest: u16,
        /// The version this build writes.
        newest: u16,
    },
    /// The model file has no bytes at all (a failed download or copy, say).
    #[error("model file: empty (0 bytes): the file was not written or copied completely")]
    EmptyModel,
    /// The model file ends before a section is complete.
    #[error("model file: truncated while reading {section}")]
    Truncated {
        /// The section or field being read.
        section: &'static str,
    },
    /// The model file's checksum does not match its content.
    #[error("model file: checksum mismatch (file is corrupt)")]
    ChecksumMismatch,
    /// A section of the model file holds an impossible value.
    #[error("model file: corrupt {section}: {detail}")]
    Corrupt {
        /// The section or field that is wrong.
        section: &'static str,
        /// What is wrong with it.
        detail: String,
    },
    /// A knowledge-base link is not `https:` or `mailto:`.
    #[error("{file}: intent `{intent}` field `links`: url must start with https: or mailto: (line {line})")]
    UnsafeLink {
        /// The knowledge-base file, or `model file` when found at load time.
        file: String,
        /// The intent whose link is wrong.
        intent: String,
        /// 1-based line in the file, 0 when unknown.
        line: usize,
    },
    /// The knowledge base is not valid TOML or does not match the schema.
    #[error("{file}: {message}")]
    KbSyntax {
        /// The knowledge-base file.
        file: String,
        /// The parser's message, naming the line and field.
        message: String,
    },
    /// A knowledge-base entry breaks a rule (empty answer, duplicate id, ...).
    #[error("{file}: line {line}: intent `{intent}` field `{field}`: {problem}")]
    KbInvalid {
        /// The knowledge-base file.
        file: String,
        /// 1-based line of the entry or field.
        line: usize,
        /// The intent id (site-owner text, not customer text).
        intent: String,
        /// The field that is wrong.
        field: &'static str,
        /// What is wrong.
        problem: String,
    },
    /// The knowledge base's `[site]` table breaks a rule (an id the edge would refuse, ...).
    #[error("{file}: line {line}: [site] field `{field}`: {problem}")]
    KbSite {
        /// The knowledge-base file.
        file: String,
        /// 1-based line of the field.
        line: usize,
        /// The field that is wrong.
        field: &'static str,
        /// What is wrong (never the value itself).
        problem: String,
    },
    /// The knowledge base and the training examples do not list the same intents.
    #[error("{file}: {problem}")]
    KbMismatch {
        /// The file that should change (the knowledge base or the examples).
        file: String,
        /// Which intents are missing where.
        problem: String,
    },
    /// The training examples file is malformed.
    #[error("{file}: line {line}: {problem}")]
    Examples {
        /// The examples file.
        file: String,
        /// 1-based line.
        line: usize,
        /// What is wrong (never the example text itself).
        problem: String,
    },
    /// A word-vector file (word2vec text format) is malformed.
    #[error("{file}: line {line}: {problem}")]
    WordVectors {
        /// The word-vector file.
        file: String,
        /// 1-based line, 0 for the file as a whole.
        line: usize,
        /// What is wrong (never the word itself).
        problem: String,
    },
    /// Training options are impossible (for example a hold-out fraction of 1.0).
    #[error("training options: {0}")]
    TrainOptions(String),
}

/// What to do about a model file of an unsupported format version `found`.
fn version_advice(found: &u16, newest: &u16) -> &'static str {
    if found > newest {
        "it was made by a newer Baton: update Baton, or train it again with this one (`baton train`)"
    } else {
        "train it again with `baton train`"
    }
}
