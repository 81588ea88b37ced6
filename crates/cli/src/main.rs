//! `baton`: train, evaluate and try Baton's triage engine from a terminal.
//!
//! - `baton train` compiles a knowledge base and labelled examples into a model file;
//!   the same inputs and options always give the same bytes.
//! - `baton classify` reads one message per line and prints one JSON object per line
//!   (also for a blank line or one that is not UTF-8, so output line N answers input
//!   line N); it classifies at most the first 4,000 bytes of a line, as the widget sends.
//! - `baton eval` prints accuracy and macro-F1; its last line is JSON.
//! - `baton chat` is a terminal conversation with the engine.
//! - `baton split` writes a hold-out split as JSON, for benchmarks of other classifiers.
//!
//! - `baton eval-handoff`, `eval-oos`, `eval-escalation`, `eval-frustration` score the
//!   escalation detectors on NLU++, CLINC150, BANKING77 and GoEmotions;
//!   `eval-language` scores how messages in other languages than the knowledge base's
//!   are told apart.
//!
//! Hold-out splits are computed, not stored: `train --holdout-fraction F --seed S`
//! leaves out exactly the rows that `eval --holdout-fraction F --seed S` scores.
//!
//! The shipped demo model is rebuilt (byte for byte) with, from the workspace root and
//! `D=/path/to/data`:
//!
//! ```text
//! baton train --examples $D/banking77/train.csv crates/triage/data/demo/shop-examples.csv \
//!   --kb crates/triage/data/demo/kb.toml --out crates/triage/data/demo/model.bin \
//!   --holdout-fraction 0.1 --seed 7 \
//!   --oos-clinc $D/clinc150/train_val.json --clinc-domains $D/clinc150/domains.json \
//!   --oos-per-intent 10 --frustration-goemotions $D/goemotions/train.tsv
//! baton eval --data $D/banking77/train.csv --holdout-fraction 0.1 --seed 7
//! ```

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use baton_protocol::{Author, EscalationReason};
use baton_triage::train::{self, Example, TrainOptions};
use baton_triage::{primary_language, Conversation, Engine};
use clap::{Parser, Subcommand};

/// `println!` for a command whose output may be piped into another program: when that
/// program has stopped reading (`baton classify < messages.txt | head`), the command
/// stops quietly instead of panicking, as a pipeline expects.
macro_rules! say {
    ($($arg:tt)*) => { write_line(format_args!($($arg)*)) };
}

/// Writes one line to standard output (see `say!`).
fn write_line(line: std::fmt::Arguments) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_fmt(line).and_then(|()| out.write_all(b"\n")) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: stdout: {e}");
        std::process::exit(1);
    }
}

/// The shipped demo model, relative to this crate.
const DEFAULT_MODEL: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../triage/data/demo/model.bin");

#[derive(Parser)]
#[command(
    name = "baton",
    version,
    about = "Baton's triage engine from the command line"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Compile a knowledge base and labelled examples into a model file.
    Train(Box<TrainArgs>),
    /// Classify messages from stdin, one per line; print one JSON object per line.
    ///
    /// Output line N answers input line N: `{"intent", "confidence", "escalate",
    /// "reasons", "redacted"}`. A blank line gives `"intent": null`, confidence 0 and no
    /// escalation. Only the first 4,000 bytes of a line are classified (the most the
    /// widget sends; cut at a character boundary, with a note on stderr). A line that is
    /// not UTF-8 gives `{"line": N, "error": "not valid UTF-8"}` and a message on stderr,
    /// and the lines after it are classified as usual.
    Classify {
        /// The model file.
        #[arg(long, default_value = DEFAULT_MODEL)]
        model: PathBuf,
    },
    /// Score a model on labelled examples.
    Eval {
        /// Labelled examples, CSV with `text,category` columns.
        #[arg(long)]
        data: PathBuf,
        /// The model file.
        #[arg(long, default_value = DEFAULT_MODEL)]
        model: PathBuf,
        /// How many of the weakest intents and of the commonest mix-ups to list
        /// (intent ids and counts only; 0 lists none).
        #[arg(long, default_value_t = 5)]
        worst: usize,
        #[command(flatten)]
        split: SplitArgs,
    },
    /// Score requests for a person on NLU++ files (label `handoff`); last line is JSON.
    EvalHandoff {
        /// NLU++ JSON files, e.g. `nlupp/banking_fold5.json`.
        #[arg(long, required = true, num_args = 1..)]
        nlupp: Vec<PathBuf>,
        /// The model file.
        #[arg(long, default_value = DEFAULT_MODEL)]
        model: PathBuf,
    },
    /// Score telling messages in other languages than the knowledge base's apart, on a
    /// CSV `text,language` (BCP 47 tags); last line is JSON.
    EvalLanguage {
        /// The messages, CSV with `text,language` columns (or any second column with
        /// `--all-in`).
        #[arg(long)]
        data: PathBuf,
        /// Every message is in this language (e.g. `en` for BANKING77's `train.csv`);
        /// the second column is then ignored.
        #[arg(long)]
        all_in: Option<String>,
        /// The model file.
        #[arg(long, default_value = DEFAULT_MODEL)]
        model: PathBuf,
    },
    /// Score out-of-scope rejection on CLINC150 (`train_val.json`); last line is JSON.
    EvalOos {
        /// CLINC150 `train_val.json` (with `val`, `oos_train`, `oos_val`).
        #[arg(long)]
        clinc: PathBuf,
        /// CLINC150 `domains.json`; intents of its `banking` and `credit_cards`
        /// domains, and intents named like one of ours, are not counted as off-topic.
        #[arg(long)]
        domains: PathBuf,
        /// The model file.
        #[arg(long, default_value = DEFAULT_MODEL)]
        model: PathBuf,
    },
    /// Score "needs a person" on labelled examples (positive: a sensitive intent in the
    /// model's knowledge base) plus NLU++ `handoff` messages; last line is JSON.
    EvalEscalation {
        /// Labelled examples, CSV with `text,category` columns.
        #[arg(long)]
        data: PathBuf,
        /// NLU++ JSON files whose `handoff` messages are added as positives.
        #[arg(long, num_args = 0..)]
        nlupp: Vec<PathBuf>,
        /// The model file.
        #[arg(long, default_value = DEFAULT_MODEL)]
        model: PathBuf,
        #[command(flatten)]
        split: SplitArgs,
    },
    /// Score frustration on GoEmotions (`text<TAB>label ids<TAB>id`); positives are
    /// anger, annoyance, disgust and disappointment. Last line is JSON.
    EvalFrustration {
        /// GoEmotions TSV, e.g. `goemotions/dev.tsv`.
        #[arg(long)]
        goemotions: PathBuf,
        /// The model file.
        #[arg(long, default_value = DEFAULT_MODEL)]
        model: PathBuf,
    },
    /// Write the two halves of a hold-out split as JSON arrays of `{"text", "label"}`,
    /// so that other tools (benchmarks, other classifiers) use exactly the rows that
    /// `train` and `eval` use with the same `--holdout-fraction` and `--seed`.
    Split {
        /// Labelled examples, CSV with `text,category` columns; several files are split
        /// one by one, as `train` splits them.
        #[arg(long, num_args = 1.., required = true)]
        data: Vec<PathBuf>,
        /// Where to write the training rows (JSON).
        #[arg(long)]
        train_out: PathBuf,
        /// Where to write the held-out rows (JSON).
        #[arg(long)]
        heldout_out: PathBuf,
        #[command(flatten)]
        split: SplitArgs,
    },
    /// Talk to the engine in the terminal (`/no`, `/yes`, `/handoff`, `/quit`).
    ///
    /// Only the first 4,000 bytes of a message are classified (the most the widget
    /// sends). A line that is not UTF-8 is skipped with a message on stderr.
    Chat {
        /// The model file.
        #[arg(long, default_value = DEFAULT_MODEL)]
        model: PathBuf,
    },
}

#[derive(clap::Args)]
struct TrainArgs {
    /// Labelled examples, CSV with `text,category` columns; several files are read
    /// as one set (a public corpus and the site's own examples, say).
    #[arg(long, num_args = 1.., required = true)]
    examples: Vec<PathBuf>,
    /// The knowledge base (TOML).
    #[arg(long)]
    kb: PathBuf,
    /// Where to write the model file.
    #[arg(long)]
    out: PathBuf,
    /// CLINC150 `train_val.json`: its `train` queries outside banking become an
    /// out-of-scope class (needs `--clinc-domains`).
    #[arg(long, requires = "clinc_domains")]
    oos_clinc: Option<PathBuf>,
    /// CLINC150 `domains.json`.
    #[arg(long)]
    clinc_domains: Option<PathBuf>,
    /// Out-of-scope queries taken per CLINC150 intent.
    #[arg(long, default_value_t = 30)]
    oos_per_intent: usize,
    /// GoEmotions TSV: trains the `frustration` head (anger, annoyance,
    /// disappointment, disgust), with the training examples as calm negatives.
    #[arg(long)]
    frustration_goemotions: Option<PathBuf>,
    /// NLU++ JSON files: train the `handoff` head (label `handoff`), with the
    /// training examples as negatives.
    #[arg(long, num_args = 1..)]
    handoff_nlupp: Vec<PathBuf>,
    /// Bitext customer-support CSV: `contact_human_agent` and
    /// `contact_customer_service` rows are handoff positives, the rest negatives.
    #[arg(long)]
    handoff_bitext: Option<PathBuf>,
    /// Soft labels of an external teacher (CSV `text,soft`, written by
    /// `crates/triage/teacher/teacher.py`): the model is distilled from them (mixed
    /// with the built-in n-gram teacher by `--teacher-weight`), and their other
    /// messages become extra training rows.
    /// Messages of the hold-out split are ignored.
    #[arg(long)]
    teacher_targets: Option<PathBuf>,
    /// Static word vectors (word2vec text format, e.g. written by
    /// `crates/triage/teacher/static_vectors.py`): the intent classifier also learns
    /// from each message's mean word vector, and the model stores the vectors.
    #[arg(long)]
    word_vectors: Option<PathBuf>,
    #[command(flatten)]
    split: SplitArgs,
    #[command(flatten)]
    tuning: TuningArgs,
}

#[derive(clap::Args)]
struct SplitArgs {
    /// Stratified share of the examples held out (train skips them, eval scores only them).
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true, value_parser = parse_share)]
    holdout_fraction: f64,
    /// Seed of the hold-out split.
    #[arg(long, default_value_t = 7)]
    seed: u64,
}

#[derive(clap::Args)]
struct TuningArgs {
    /// Passes over the training data.
    #[arg(long)]
    epochs: Option<u32>,
    /// log2 of the number of hash buckets.
    #[arg(long)]
    buckets_log2: Option<u8>,
    /// Drop int8 weights smaller than this in magnitude.
    #[arg(long)]
    min_quantized: Option<u8>,
    /// Confidence below which a message is out of scope, from 0 to 1 [default: 0.2; for
    /// a model of few intents trained without out-of-scope examples, 3 / intents, at
    /// most 0.5]
    #[arg(long, allow_negative_numbers = true, value_parser = parse_confidence)]
    oos_threshold: Option<f32>,
    /// AdaGrad learning rate.
    #[arg(long)]
    learning_rate: Option<f32>,
    /// L2 penalty.
    #[arg(long)]
    l2: Option<f32>,
    /// L1 penalty (sparsity, so model size).
    #[arg(long)]
    l1: Option<f32>,
    /// Keep only this many weights (largest first), then retrain them.
    #[arg(long)]
    max_weights: Option<usize>,
    /// Passes over the data after pruning.
    #[arg(long)]
    finetune_epochs: Option<u32>,
    /// Keep only this many buckets (whole weight rows), then retrain them.
    #[arg(long)]
    max_rows: Option<usize>,
    /// Bits per quantised weight (2..=8).
    #[arg(long, value_parser = clap::value_parser!(u8).range(2..=8))]
    quant_bits: Option<u8>,
    /// Share of the training rows used to fit the softmax temperature, at least 0 and
    /// below 1 (0 skips it).
    #[arg(long, allow_negative_numbers = true, value_parser = parse_share)]
    calibration_fraction: Option<f64>,
    /// Row importance = weight norm x (feature mass ^ this) when pruning rows.
    #[arg(long)]
    mass_power: Option<f32>,
    /// Quantile of |w| per class mapped to the largest int level (1.0 = maximum).
    #[arg(long)]
    clip_quantile: Option<f32>,
    /// Distil from a teacher with 2^N hash buckets (0 = no teacher).
    #[arg(long)]
    distill_from_buckets_log2: Option<u8>,
    /// Temperature of the built-in teacher's soft targets.
    #[arg(long)]
    distill_temperature: Option<f32>,
    /// Weight of the true label against the teacher (1.0 = no teacher).
    #[arg(long)]
    distill_alpha: Option<f32>,
    /// Number of teachers averaged.
    #[arg(long)]
    distill_teachers: Option<u8>,
    /// Temperature applied to `--teacher-targets` probabilities.
    #[arg(long)]
    teacher_temperature: Option<f32>,
    /// Weight of `--teacher-targets` against the built-in teacher (1 = it alone;
    /// `--distill-from-buckets-log2 0` also leaves it alone).
    #[arg(long)]
    teacher_weight: Option<f32>,
    /// Signed feature hashing: `true` or `false`.
    #[arg(long)]
    signed_hashing: Option<bool>,
    /// Character n-gram range, e.g. `3-5`.
    #[arg(long, value_parser = parse_range)]
    char_range: Option<(u8, u8)>,
    /// Weight of character n-grams (0 disables them).
    #[arg(long)]
    char_weight: Option<f32>,
    /// Weight of word bigrams (0 disables them).
    #[arg(long)]
    bigram_weight: Option<f32>,
    /// Class weighting power: 0 unweighted, 1 fully balanced.
    #[arg(long)]
    class_balance: Option<f32>,
    /// Extra copies of each training message with random words dropped.
    #[arg(long)]
    augment_copies: Option<u32>,
    /// Probability of dropping a word in an augmented copy.
    #[arg(long)]
    augment_drop: Option<f32>,
    /// Weight of the mean word vector against the n-gram features.
    #[arg(long)]
    vector_weight: Option<f32>,
    /// Bits per quantised weight of the word-vector classifier (2..=8).
    #[arg(long, value_parser = clap::value_parser!(u8).range(2..=8))]
    vector_quant_bits: Option<u8>,
}

/// A confidence: a number from 0 to 1.
fn parse_confidence(s: &str) -> Result<f32, String> {
    match s.parse::<f32>() {
        Ok(value) if (0.0..=1.0).contains(&value) => Ok(value),
        _ => Err("expected a number from 0 to 1, e.g. 0.3".into()),
    }
}

/// A share of the rows: at least 0 and below 1.
fn parse_share(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(value) if (0.0..1.0).contains(&value) => Ok(value),
        _ => Err("expected a number at least 0 and below 1, e.g. 0.1".into()),
    }
}

fn parse_range(s: &str) -> Result<(u8, u8), String> {
    let (a, b) = s.split_once('-').ok_or("expected MIN-MAX, e.g. 3-5")?;
    let a = a.parse().map_err(|_| "MIN is not a number")?;
    let b = b.parse().map_err(|_| "MAX is not a number")?;
    Ok((a, b))
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The file at `path` as text; an error names the file and the line of the first byte
/// that is not UTF-8.
fn read_text(path: &Path) -> Result<String, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
        let excel = if path
            .extension()
            .is_some_and(|x| x.eq_ignore_ascii_case("csv"))
        {
            " (in Excel: Save As, \"CSV UTF-8\")"
        } else {
            ""
        };
        format!(
            "{}: line {line}: not valid UTF-8 text; the file must be saved as UTF-8{excel}",
            path.display()
        )
    })
}

/// One line of standard input as `baton classify` and `baton chat` read it.
enum InputLine {
    /// The line's text, at most `MAX_MESSAGE_BYTES` long (cut at a character boundary),
    /// and the length of the whole line in bytes.
    Text(String, usize),
    /// The line is not UTF-8.
    NotUtf8,
}

/// Reads the next line (without its line end), keeping at most
/// `train::MAX_MESSAGE_BYTES` of it in memory however long it is; `None` at the end.
fn read_input_line(reader: &mut impl BufRead) -> Result<Option<InputLine>, String> {
    let cap = train::MAX_MESSAGE_BYTES;
    let mut kept = Vec::new();
    let mut total = 0;
    let mut any = false;
    loop {
        let chunk = match reader.fill_buf() {
            Ok(chunk) => chunk,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(format!("stdin: {e}")),
        };
        if chunk.is_empty() {
            if !any {
                return Ok(None);
            }
            break;
        }
        any = true;
        let end = chunk.iter().position(|&b| b == b'\n');
        let part = &chunk[..end.unwrap_or(chunk.len())];
        let room = cap.saturating_sub(kept.len());
        kept.extend_from_slice(&part[..part.len().min(room)]);
        total += part.len();
        let used = end.map_or(chunk.len(), |i| i + 1);
        reader.consume(used);
        if end.is_some() {
            break;
        }
    }
    if total == kept.len() && kept.last() == Some(&b'\r') {
        kept.pop();
        total -= 1;
    }
    let cut = total > kept.len();
    let text = match String::from_utf8(kept) {
        Ok(text) => text,
        // Cut inside a character: keep the characters before it.
        Err(e) if cut && e.utf8_error().error_len().is_none() => {
            let valid = e.utf8_error().valid_up_to();
            let mut bytes = e.into_bytes();
            bytes.truncate(valid);
            String::from_utf8(bytes).map_err(|_| "stdin: UTF-8 cut".to_string())?
        }
        Err(_) => return Ok(Some(InputLine::NotUtf8)),
    };
    Ok(Some(InputLine::Text(text, total)))
}

/// Tells the user, on stderr, that only part of a long input line was classified.
fn note_if_cut(what: &str, text: &str, total: usize) {
    if total > text.len() {
        eprintln!(
            "note: {what} is {total} bytes long; only its first {} bytes were classified (a customer message is at most {})",
            text.len(),
            train::MAX_MESSAGE_BYTES
        );
    }
}

/// The JSON line `baton classify` prints for one message.
fn classify_json(engine: &Engine, line: &str) -> serde_json::Value {
    if line.trim().is_empty() {
        // Nothing to classify: no intent, and nothing for a person to do.
        return serde_json::json!({
            "intent": null,
            "confidence": 0.0,
            "escalate": false,
            "reasons": [],
            "redacted": line,
        });
    }
    let turn = engine.respond(&mut Conversation::new(), line, 0);
    let confidence = turn
        .intent
        .as_ref()
        .map(|g| g.confidence)
        .or_else(|| engine.predict(line).best.map(|g| g.confidence))
        .unwrap_or(0.0);
    let reasons = turn
        .escalation
        .as_ref()
        .map(|e| e.reasons.clone())
        .unwrap_or_default();
    serde_json::json!({
        "intent": turn.intent.as_ref().map(|g| g.intent.clone()),
        "confidence": confidence,
        "escalate": turn.escalation.is_some(),
        "reasons": reasons,
        "redacted": turn.redacted.text,
    })
}

/// Refuses an evaluation set the model cannot score: no rows, or a category that is
/// not one of the model's intents (named with its line, beside a few the model knows).
fn check_eval_rows(engine: &Engine, rows: &[Example], data: &Path) -> Result<(), String> {
    let name = data.display();
    if rows.is_empty() {
        return Err(format!(
            "{name}: no examples to score (the file has no rows under its `text,category` header)"
        ));
    }
    let Some(unknown) = rows.iter().find(|e| engine.kb_entry(&e.label).is_none()) else {
        return Ok(());
    };
    let known: Vec<String> = engine
        .kb_entries()
        .iter()
        .take(5)
        .map(|k| format!("`{}`", k.id))
        .collect();
    let more = engine.kb_entries().len().saturating_sub(known.len());
    let more = if more > 0 {
        format!(" and {more} more")
    } else {
        String::new()
    };
    let lower = unknown.label.to_ascii_lowercase();
    let off_topic = if lower.contains("oos") || lower.contains("scope") {
        "; eval scores the model's intents only (off-topic messages: see `baton eval-oos`)"
    } else {
        ""
    };
    Err(format!(
        "{name}: line {}: category {} is not an intent of the model (it knows {}{more}){off_topic}",
        unknown.line,
        train::category_in_error(&unknown.label),
        known.join(", ")
    ))
}

fn load_engine(path: &Path) -> Result<Engine, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let engine = Engine::from_bytes(&bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    // For threshold studies: BATON_OOS_THRESHOLD overrides the model's threshold.
    match std::env::var("BATON_OOS_THRESHOLD")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        Some(t) => Ok(engine.with_out_of_scope_threshold(t)),
        None => Ok(engine),
    }
}

fn load_word_vectors(path: &Path) -> Result<std::sync::Arc<train::WordVectors>, String> {
    let name = path.display().to_string();
    let vectors = train::read_word_vectors(&name, &read_text(path)?).map_err(|e| e.to_string())?;
    eprintln!(
        "word vectors: {} words of {} dimensions ({} skipped: normalisation would change them)",
        vectors.len(),
        vectors.dims(),
        vectors.skipped()
    );
    Ok(std::sync::Arc::new(vectors))
}

fn read_example_file(path: &Path) -> Result<Vec<Example>, String> {
    let name = path.display().to_string();
    train::read_examples(&name, &read_text(path)?).map_err(|e| e.to_string())
}

fn split_examples(
    all: &[Example],
    split: &SplitArgs,
) -> Result<(Vec<Example>, Vec<Example>), String> {
    train::split_holdout(all, split.holdout_fraction, split.seed).map_err(|e| e.to_string())
}

fn load_examples(path: &Path, split: &SplitArgs) -> Result<(Vec<Example>, Vec<Example>), String> {
    split_examples(&read_example_file(path)?, split)
}

/// Refuses a model destination that is one of the input files (the model would replace
/// it) or whose folder does not exist (found before training, not after).
fn check_model_destination<'a>(
    out: &Path,
    inputs: impl IntoIterator<Item = (&'static str, &'a PathBuf)>,
) -> Result<(), String> {
    if let Ok(out_file) = out.canonicalize() {
        for (role, input) in inputs {
            if input.canonicalize().is_ok_and(|input| input == out_file) {
                return Err(format!(
                    "--out {}: that is {role}; the model would replace it (choose another file, e.g. model.bin)",
                    out.display()
                ));
            }
        }
    }
    let folder = out.parent().filter(|p| !p.as_os_str().is_empty());
    if let Some(folder) = folder.filter(|f| !f.is_dir()) {
        return Err(format!(
            "--out {}: the folder {} does not exist",
            out.display(),
            folder.display()
        ));
    }
    Ok(())
}

/// Refuses an examples file given twice: its rows would count double, and the rows
/// kept back to calibrate the model would be copies of rows it trained on.
fn check_read_once(files: &[PathBuf]) -> Result<(), String> {
    let mut seen = Vec::new();
    for file in files {
        let canonical = file.canonicalize().unwrap_or_else(|_| file.clone());
        if seen.contains(&canonical) {
            return Err(format!(
                "--examples {}: the file is given twice",
                file.display()
            ));
        }
        seen.push(canonical);
    }
    Ok(())
}

/// Writes `bytes` to a file beside `path`, then renames it over `path`: an interrupted
/// write never leaves half a model where the widget would load it.
fn write_whole(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    std::fs::write(&partial, bytes)
        .and_then(|()| std::fs::rename(&partial, path))
        .map_err(|e| {
            let _ = std::fs::remove_file(&partial);
            format!("{}: {e}", path.display())
        })
}

/// Warns, on stderr, when the model would take many of its own training examples for
/// messages in another language than its knowledge base's, which it does not answer
/// (examples in French for a knowledge base in English, say).
fn warn_about_examples_in_other_languages(
    model: &[u8],
    rows: &[Example],
    out: &Path,
) -> Result<(), String> {
    const SHARE_WORTH_A_WARNING: usize = 10; // per cent
    let engine = Engine::from_bytes(model).map_err(|e| format!("{}: {e}", out.display()))?;
    let other = rows
        .iter()
        .filter(|row| {
            engine
                .respond(&mut Conversation::new(), &row.text, 0)
                .in_other_language
        })
        .count();
    if other * 100 >= rows.len() * SHARE_WORTH_A_WARNING && other > 0 {
        eprintln!(
            "warning: {other} of {} training examples read as another language than the knowledge base's (`{}`), \
             and the chat does not answer messages in another language: write the examples in the \
             knowledge base's language, or set `language` under [site] to theirs",
            rows.len(),
            engine.language()
        );
    }
    Ok(())
}

/// Warns, on stderr, about example sets a model cannot learn well: intents with few
/// examples, very uneven counts, and too few intents to tell off-topic questions apart.
fn warn_about_thin_examples(rows: &[Example], has_out_of_scope_examples: bool) {
    const FEW: usize = 10;
    const UNEVEN: usize = 20;
    let mut by_intent = std::collections::BTreeMap::<&str, usize>::new();
    for row in rows {
        *by_intent.entry(&row.label).or_default() += 1;
    }
    let mut counts: Vec<(&str, usize)> = by_intent.into_iter().collect();
    counts.sort_by_key(|&(label, n)| (n, label));
    let few: Vec<String> = counts
        .iter()
        .take_while(|&&(_, n)| n < FEW)
        .map(|(label, n)| format!("`{label}` {n}"))
        .collect();
    if !few.is_empty() {
        let shown = few.iter().take(5).cloned().collect::<Vec<_>>().join(", ");
        let more = few.len().saturating_sub(5);
        let more = if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        };
        let intents = match few.len() {
            1 => "1 intent has".to_string(),
            n => format!("{n} intents have"),
        };
        eprintln!(
            "warning: {intents} fewer than {FEW} training examples ({shown}{more}): \
             the model will rarely recognise them; write 15 or more for each, in the customers' words"
        );
    }
    if let (Some(&(least, fewest)), Some(&(most, most_rows))) = (counts.first(), counts.last()) {
        if fewest > 0 && most_rows >= UNEVEN * fewest {
            eprintln!(
                "warning: `{most}` has {most_rows} training examples and `{least}` {fewest}: \
                 the model will lean towards the intents with many; even the counts out"
            );
        }
    }
    if counts.len() <= 2 && !has_out_of_scope_examples {
        eprintln!(
            "warning: with {} intents and no out-of-scope examples, the model cannot tell an \
             off-topic question from its intents (it will answer them); add intents, or \
             out-of-scope examples with --oos-clinc",
            counts.len()
        );
    }
}

/// Warns, on stderr, about messages written under two categories (by file and line,
/// never the text): the model cannot learn both, and one of them is likely a mistake.
fn warn_about_conflicts(files: &[(String, Vec<Example>)]) {
    let every: Vec<(&str, &Example)> = files
        .iter()
        .flat_map(|(name, rows)| rows.iter().map(move |row| (name.as_str(), row)))
        .collect();
    let conflicts = train::conflicting_labels(every.iter().map(|&(_, row)| row));
    const SHOWN: usize = 10;
    for &(a, b) in conflicts.iter().take(SHOWN) {
        let ((a_file, a_row), (b_file, b_row)) = (every[a], every[b]);
        let b_file = if a_file == b_file {
            String::new()
        } else {
            format!(" of {b_file}")
        };
        eprintln!(
            "warning: {a_file}: line {} (`{}`) and line {}{b_file} (`{}`) are the same message under two categories",
            a_row.line, a_row.label, b_row.line, b_row.label
        );
    }
    if conflicts.len() > SHOWN {
        eprintln!(
            "warning: {} more messages are under two categories",
            conflicts.len() - SHOWN
        );
    }
}

fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Train(args) => {
            let TrainArgs {
                examples,
                kb,
                out,
                oos_clinc,
                clinc_domains,
                oos_per_intent,
                frustration_goemotions,
                handoff_nlupp,
                handoff_bitext,
                teacher_targets,
                word_vectors,
                split,
                tuning,
            } = *args;
            let inputs = examples
                .iter()
                .map(|file| ("an examples file", file))
                .chain([("the knowledge base", &kb)])
                .chain(teacher_targets.iter().map(|f| ("the teacher's file", f)))
                .chain(word_vectors.iter().map(|f| ("the word vectors", f)));
            check_model_destination(&out, inputs)?;
            check_read_once(&examples)?;
            let kb_name = kb.display().to_string();
            let knowledge =
                train::parse_kb(&kb_name, &read_text(&kb)?).map_err(|e| e.to_string())?;
            match (&knowledge.stated_language, knowledge.language()) {
                (Some(stated), _) => eprintln!("knowledge base language: {stated}"),
                (None, recognised) if !recognised.is_empty() => eprintln!(
                    "knowledge base language: {recognised}, recognised from its answers (state it with `language` under [site])"
                ),
                (None, _) => eprintln!(
                    "warning: {kb_name}: the knowledge base's language is not stated and not recognised; \
                     state it with `language` under [site] so that the bot does not answer messages in other languages"
                ),
            }
            let (mut rows, mut held, mut read) = (Vec::new(), Vec::new(), Vec::new());
            for file in &examples {
                let all = read_example_file(file)?;
                let (file_rows, file_held) = split_examples(&all, &split)?;
                // Checked file by file, so that an unknown category is reported in the
                // file it is in (training checks the rows again, as one set).
                let name = file.display().to_string();
                train::check_categories(&knowledge, &kb_name, &file_rows, &name)
                    .map_err(|e| e.to_string())?;
                rows.extend(file_rows);
                held.extend(file_held);
                read.push((name, all));
            }
            warn_about_conflicts(&read);
            drop(read);
            warn_about_thin_examples(&rows, oos_clinc.is_some());
            let examples_name = examples
                .iter()
                .map(|f| f.display().to_string())
                .collect::<Vec<_>>()
                .join(" + ");
            let d = TrainOptions::default();
            let options = TrainOptions {
                seed: split.seed,
                epochs: tuning.epochs.unwrap_or(d.epochs),
                buckets_log2: tuning.buckets_log2.unwrap_or(d.buckets_log2),
                min_quantized: tuning.min_quantized.unwrap_or(d.min_quantized),
                oos_threshold: tuning.oos_threshold.or(d.oos_threshold),
                learning_rate: tuning.learning_rate.unwrap_or(d.learning_rate),
                l2: tuning.l2.unwrap_or(d.l2),
                l1: tuning.l1.unwrap_or(d.l1),
                max_weights: tuning.max_weights.unwrap_or(d.max_weights),
                finetune_epochs: tuning.finetune_epochs.unwrap_or(d.finetune_epochs),
                max_rows: tuning.max_rows.unwrap_or(d.max_rows),
                quant_bits: tuning.quant_bits.unwrap_or(d.quant_bits),
                calibration_fraction: tuning
                    .calibration_fraction
                    .unwrap_or(d.calibration_fraction),
                char_range: tuning.char_range.unwrap_or(d.char_range),
                signed_hashing: tuning.signed_hashing.unwrap_or(d.signed_hashing),
                distill_from_buckets_log2: tuning
                    .distill_from_buckets_log2
                    .unwrap_or(d.distill_from_buckets_log2),
                distill_temperature: tuning.distill_temperature.unwrap_or(d.distill_temperature),
                teacher_temperature: tuning.teacher_temperature.unwrap_or(d.teacher_temperature),
                teacher_weight: tuning.teacher_weight.unwrap_or(d.teacher_weight),
                distill_alpha: tuning.distill_alpha.unwrap_or(d.distill_alpha),
                distill_teachers: tuning.distill_teachers.unwrap_or(d.distill_teachers),
                mass_power: tuning.mass_power.unwrap_or(d.mass_power),
                clip_quantile: tuning.clip_quantile.unwrap_or(d.clip_quantile),
                char_weight: tuning.char_weight.unwrap_or(d.char_weight),
                bigram_weight: tuning.bigram_weight.unwrap_or(d.bigram_weight),
                class_balance: tuning.class_balance.unwrap_or(d.class_balance),
                augment_copies: tuning.augment_copies.unwrap_or(d.augment_copies),
                augment_drop: tuning.augment_drop.unwrap_or(d.augment_drop),
                vector_weight: tuning.vector_weight.unwrap_or(d.vector_weight),
                vector_quant_bits: tuning.vector_quant_bits.unwrap_or(d.vector_quant_bits),
                word_vectors: word_vectors.as_deref().map(load_word_vectors).transpose()?,
                ..d
            };
            let out_of_scope = match (&oos_clinc, &clinc_domains) {
                (Some(clinc), Some(domains)) => {
                    clinc_off_topic(clinc, domains, &knowledge, oos_per_intent)?
                }
                _ => Vec::new(),
            };
            let calm: Vec<(String, bool)> = rows.iter().map(|e| (e.text.clone(), false)).collect();
            let mut heads = Vec::new();
            if let Some(path) = &frustration_goemotions {
                let mut examples = goemotions_frustration(path)?;
                examples.extend(calm.iter().cloned());
                heads.push(train::HeadData {
                    name: "frustration".into(),
                    examples,
                });
            }
            if !handoff_nlupp.is_empty() || handoff_bitext.is_some() {
                let mut examples = calm.clone();
                for file in &handoff_nlupp {
                    let rows: Vec<NluppRow> = read_json(file)?;
                    examples.extend(rows.into_iter().map(|r| {
                        let handoff = r.intents.iter().any(|i| i == "handoff");
                        (r.text, handoff)
                    }));
                }
                if let Some(path) = &handoff_bitext {
                    examples.extend(bitext_handoff(path)?);
                }
                heads.push(train::HeadData {
                    name: "handoff".into(),
                    examples,
                });
            }
            let teacher = match &teacher_targets {
                Some(path) => {
                    let name = path.display().to_string();
                    let all = train::read_teacher_targets(&name, &read_text(path)?)
                        .map_err(|e| e.to_string())?;
                    let held_out: std::collections::BTreeSet<&str> =
                        held.iter().map(|e| e.text.as_str()).collect();
                    let kept = all.without(|text| held_out.contains(text));
                    eprintln!(
                        "teacher: {} messages ({} held-out messages ignored)",
                        kept.rows().len(),
                        all.rows().len() - kept.rows().len()
                    );
                    Some((name, kept))
                }
                None => None,
            };
            let started = Instant::now();
            let (bytes, report) = train::train_with_teacher(
                &knowledge,
                &kb_name,
                &rows,
                &examples_name,
                &out_of_scope,
                &heads,
                teacher.as_ref().map(|(name, t)| (name.as_str(), t)),
                &options,
            )
            .map_err(|e| e.to_string())?;
            write_whole(&out, &bytes)?;
            warn_about_examples_in_other_languages(&bytes, &rows, &out)?;
            eprintln!(
                "trained on {} rows ({} held out) in {:.1}s: {} bytes, {} nonzero weights",
                report.examples,
                held.len(),
                started.elapsed().as_secs_f64(),
                report.model_bytes,
                report.nonzero_weights,
            );
            if report.calibration_rows == 0 {
                eprintln!(
                    "out of scope below {:.2} confidence; confidence not calibrated (no rows kept back from training for it)",
                    report.oos_threshold
                );
            } else {
                eprintln!(
                    "out of scope below {:.2} confidence; confidence scaled by temperature {:.3}, fitted on {} rows kept back from training, {:.1} % of them classified right",
                    report.oos_threshold,
                    report.temperature,
                    report.calibration_rows,
                    100.0 * report.calibration_accuracy,
                );
            }
            const FEW_CALIBRATION_ROWS: usize = 100;
            if report.calibration_rows > 0
                && report.calibration_rows < FEW_CALIBRATION_ROWS
                && report.calibration_accuracy >= 1.0
            {
                eprintln!(
                    "warning: the confidence scale was fitted on only {} rows, all classified right, so the model may be \
                     sure of questions it knows nothing about; add examples (15 or more per intent), \
                     then check off-topic questions with `baton classify --model {}`",
                    report.calibration_rows,
                    out.display()
                );
            }
            for h in &report.heads {
                eprintln!(
                    "head {}: threshold {:.2}, calibration precision {:.3} recall {:.3}",
                    h.name, h.threshold, h.precision, h.recall
                );
            }
            Ok(())
        }
        Command::Classify { model } => {
            let engine = load_engine(&model)?;
            let mut stdin = std::io::stdin().lock();
            let mut number = 0;
            while let Some(line) = read_input_line(&mut stdin)? {
                number += 1;
                let json = match line {
                    InputLine::Text(text, total) => {
                        note_if_cut(&format!("stdin line {number}"), &text, total);
                        classify_json(&engine, &text)
                    }
                    InputLine::NotUtf8 => {
                        eprintln!("error: stdin line {number}: not valid UTF-8 text; skipped");
                        serde_json::json!({"line": number, "error": "not valid UTF-8"})
                    }
                };
                say!("{json}");
            }
            Ok(())
        }
        Command::Eval {
            data,
            model,
            worst,
            split,
        } => {
            let engine = load_engine(&model)?;
            let every = read_example_file(&data)?;
            check_eval_rows(&engine, &every, &data).map_err(|problem| {
                if model == Path::new(DEFAULT_MODEL) {
                    format!("{problem}; that is the demo model: pass --model with yours")
                } else {
                    problem
                }
            })?;
            let (all, held) = split_examples(&every, &split)?;
            let rows = if split.holdout_fraction > 0.0 {
                held
            } else {
                all
            };
            if rows.is_empty() {
                return Err(format!(
                    "{}: the hold-out split (--holdout-fraction {} --seed {}) leaves no rows to score",
                    data.display(),
                    split.holdout_fraction,
                    split.seed
                ));
            }
            let started = Instant::now();
            let report = train::evaluate(&engine, &rows);
            let per_message_us = started.elapsed().as_secs_f64() * 1e6 / report.n.max(1) as f64;
            say!("messages     {}", report.n);
            say!("accuracy     {:.4}", report.accuracy);
            say!("macro-F1     {:.4}", report.macro_f1);
            say!("in scope     {:.4}", report.in_scope_rate);
            say!(
                "answered     {:.4} right; {:.4} right within one tap (the answer or an alternative, offered beside {:.4} of answers)",
                report.answered_right, report.right_within_one_tap, report.with_alternatives
            );
            say!("per message  {per_message_us:.1} µs");
            print_weakest(&report, worst);
            say!(
                "{}",
                serde_json::json!({
                    "accuracy": report.accuracy,
                    "macro_f1": report.macro_f1,
                    "n": report.n,
                    "in_scope_rate": report.in_scope_rate,
                    "answered_right": report.answered_right,
                    "right_within_one_tap": report.right_within_one_tap,
                    "with_alternatives": report.with_alternatives,
                    "per_message_us": per_message_us,
                })
            );
            Ok(())
        }
        Command::Split {
            data,
            train_out,
            heldout_out,
            split,
        } => {
            let (mut rows, mut held) = (Vec::new(), Vec::new());
            for file in &data {
                let (file_rows, file_held) = load_examples(file, &split)?;
                rows.extend(file_rows);
                held.extend(file_held);
            }
            for (path, rows) in [(&train_out, &rows), (&heldout_out, &held)] {
                let json: Vec<serde_json::Value> = rows
                    .iter()
                    .map(|e| serde_json::json!({ "text": e.text, "label": e.label }))
                    .collect();
                let text = serde_json::to_string(&json).map_err(|e| e.to_string())?;
                std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))?;
            }
            eprintln!("{} training rows, {} held out", rows.len(), held.len());
            Ok(())
        }
        Command::Chat { model } => chat(&load_engine(&model)?),
        Command::EvalEscalation {
            data,
            nlupp,
            model,
            split,
        } => {
            let engine = load_engine(&model)?;
            let (all, held) = load_examples(&data, &split)?;
            let rows = if split.holdout_fraction > 0.0 {
                held
            } else {
                all
            };
            let mut labelled: Vec<(String, bool)> = rows
                .into_iter()
                .map(|e| {
                    let sensitive = engine.kb_entry(&e.label).is_some_and(|k| k.sensitive);
                    (e.text, sensitive)
                })
                .collect();
            for file in &nlupp {
                let rows: Vec<NluppRow> = read_json(file)?;
                labelled.extend(
                    rows.into_iter()
                        .filter(|r| r.intents.iter().any(|i| i == "handoff"))
                        .map(|r| (r.text, true)),
                );
            }
            eval_escalation(&engine, &labelled)
        }
        Command::EvalFrustration { goemotions, model } => {
            let engine = load_engine(&model)?;
            let text = read_text(&goemotions)?;
            let (mut tp, mut fp, mut fn_, mut n) = (0usize, 0usize, 0usize, 0usize);
            for line in text.lines() {
                let mut cols = line.split('\t');
                let (Some(message), Some(labels)) = (cols.next(), cols.next()) else {
                    continue;
                };
                n += 1;
                let truth = labels
                    .split(',')
                    .any(|l| FRUSTRATED_EMOTIONS.contains(&l.trim()));
                let predicted = escalates_for(&engine, message, EscalationReason::Frustration);
                match (truth, predicted) {
                    (true, true) => tp += 1,
                    (false, true) => fp += 1,
                    (true, false) => fn_ += 1,
                    (false, false) => {}
                }
            }
            let precision = tp as f64 / (tp + fp).max(1) as f64;
            let recall = tp as f64 / (tp + fn_).max(1) as f64;
            let f1 = if tp == 0 {
                0.0
            } else {
                2.0 * precision * recall / (precision + recall)
            };
            say!("messages {n} ({} frustrated)", tp + fn_);
            say!("precision {precision:.4} recall {recall:.4} F1 {f1:.4}");
            say!(
                "{}",
                serde_json::json!({"precision": precision, "recall": recall, "f1": f1, "n": n})
            );
            Ok(())
        }
        Command::EvalHandoff { nlupp, model } => eval_handoff(&load_engine(&model)?, &nlupp),
        Command::EvalLanguage {
            data,
            all_in,
            model,
        } => {
            let name = data.display().to_string();
            let text = read_text(&data)?;
            let rows = match all_in {
                Some(_) => train::read_examples(&name, &text),
                None => train::read_language_rows(&name, &text),
            }
            .map_err(|e| e.to_string())?;
            eval_language(&load_engine(&model)?, &rows, all_in)
        }
        Command::EvalOos {
            clinc,
            domains,
            model,
        } => eval_oos(&load_engine(&model)?, &clinc, &domains),
    }
}

#[derive(serde::Deserialize)]
struct NluppRow {
    text: String,
    #[serde(default)]
    intents: Vec<String>,
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, String> {
    serde_json::from_str(&read_text(path)?).map_err(|e| format!("{}: {e}", path.display()))
}

fn escalates_for(engine: &Engine, text: &str, reason: EscalationReason) -> bool {
    engine
        .respond(&mut Conversation::new(), text, 0)
        .escalation
        .is_some_and(|e| e.reasons.contains(&reason))
}

/// Per language: how many messages, how many the engine took for another language
/// than its knowledge base's, and how many it answered from the knowledge base.
fn eval_language(engine: &Engine, rows: &[Example], all_in: Option<String>) -> Result<(), String> {
    let own = primary_language(engine.language());
    if own.is_empty() {
        return Err("the model does not say its knowledge base's language (train it again with `language` under [site])".into());
    }
    // language -> (messages, taken for another language, answered)
    let mut by_language: std::collections::BTreeMap<String, (usize, usize, usize)> =
        Default::default();
    // Lines of the messages told wrong, to look them up in the file.
    let mut wrong = Vec::new();
    for row in rows {
        let language = primary_language(all_in.as_deref().unwrap_or(&row.label));
        let turn = engine.respond(&mut Conversation::new(), &row.text, 0);
        if turn.in_other_language != (language != own) {
            wrong.push(row.line.to_string());
        }
        let counts = by_language.entry(language).or_default();
        counts.0 += 1;
        counts.1 += usize::from(turn.in_other_language);
        counts.2 += usize::from(turn.answer.is_some());
    }
    say!("knowledge base in `{own}`");
    say!(
        "{:<9} {:>8} {:>22} {:>9}",
        "language",
        "messages",
        "taken for another one",
        "answered"
    );
    let (mut own_n, mut own_other, mut other_n, mut other_caught, mut other_answered) =
        (0, 0, 0, 0, 0);
    for (language, &(n, other, answered)) in &by_language {
        say!("{language:<9} {n:>8} {other:>22} {answered:>9}");
        if *language == own {
            (own_n, own_other) = (own_n + n, own_other + other);
        } else {
            other_n += n;
            other_caught += other;
            other_answered += answered;
        }
    }
    const LISTED: usize = 60;
    if !wrong.is_empty() {
        let more = wrong.len().saturating_sub(LISTED);
        let more = if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        };
        wrong.truncate(LISTED);
        say!("told wrong: lines {}{more}", wrong.join(", "));
    }
    let rate = |part: usize, whole: usize| part as f64 / whole.max(1) as f64;
    say!(
        "{}",
        serde_json::json!({
            "own_taken_for_other": rate(own_other, own_n),
            "other_recognised": rate(other_caught, other_n),
            "other_answered": rate(other_answered, other_n),
            "own_n": own_n,
            "other_n": other_n,
        })
    );
    Ok(())
}

fn eval_handoff(engine: &Engine, files: &[PathBuf]) -> Result<(), String> {
    let (mut tp, mut fp, mut fn_, mut n) = (0usize, 0usize, 0usize, 0usize);
    for file in files {
        let rows: Vec<NluppRow> = read_json(file)?;
        for row in rows {
            n += 1;
            let truth = row.intents.iter().any(|i| i == "handoff");
            let predicted = escalates_for(engine, &row.text, EscalationReason::ExplicitRequest);
            match (truth, predicted) {
                (true, true) => tp += 1,
                (false, true) => fp += 1,
                (true, false) => fn_ += 1,
                (false, false) => {}
            }
        }
    }
    let precision = tp as f64 / (tp + fp).max(1) as f64;
    let recall = tp as f64 / (tp + fn_).max(1) as f64;
    let f1 = if tp == 0 {
        0.0
    } else {
        2.0 * precision * recall / (precision + recall)
    };
    say!("messages   {n} ({} ask for a person)", tp + fn_);
    say!("precision  {precision:.4}");
    say!("recall     {recall:.4}");
    say!("F1         {f1:.4}");
    say!(
        "{}",
        serde_json::json!({"precision": precision, "recall": recall, "f1": f1, "n": n, "positives": tp + fn_})
    );
    Ok(())
}

/// GoEmotions ids of anger, annoyance, disappointment and disgust.
const FRUSTRATED_EMOTIONS: [&str; 4] = ["2", "3", "9", "11"];

fn goemotions_frustration(path: &Path) -> Result<Vec<(String, bool)>, String> {
    Ok(read_text(path)?
        .lines()
        .filter_map(|line| {
            let mut cols = line.split('\t');
            let (text, labels) = (cols.next()?, cols.next()?);
            let frustrated = labels
                .split(',')
                .any(|l| FRUSTRATED_EMOTIONS.contains(&l.trim()));
            Some((text.to_string(), frustrated))
        })
        .collect())
}

fn bitext_handoff(path: &Path) -> Result<Vec<(String, bool)>, String> {
    let name = path.display().to_string();
    let text = read_text(path)?;
    // Reuse the examples reader by renaming the columns it needs.
    let mut lines = text.splitn(2, '\n');
    let header = lines.next().unwrap_or_default();
    let body = lines.next().unwrap_or_default();
    let header = header
        .split(',')
        .map(|h| match h.trim() {
            "instruction" => "text",
            "intent" => "category",
            "category" => "bitext_category",
            other => other,
        })
        .collect::<Vec<_>>()
        .join(",");
    let rows =
        train::read_examples(&name, &format!("{header}\n{body}")).map_err(|e| e.to_string())?;
    Ok(rows
        .into_iter()
        .map(|e| {
            let person = matches!(
                e.label.as_str(),
                "contact_human_agent" | "contact_customer_service"
            );
            (e.text, person)
        })
        .collect())
}

fn eval_escalation(engine: &Engine, labelled: &[(String, bool)]) -> Result<(), String> {
    let (mut tp, mut fp, mut fn_) = (0usize, 0usize, 0usize);
    let (mut tp_strict, mut fp_strict) = (0usize, 0usize);
    for (text, truth) in labelled {
        let turn = engine.respond(&mut Conversation::new(), text, 0);
        let any = turn.escalation.is_some();
        let strict = turn
            .escalation
            .is_some_and(|e| e.reasons.iter().any(|r| *r != EscalationReason::OutOfScope));
        match (truth, any) {
            (true, true) => tp += 1,
            (false, true) => fp += 1,
            (true, false) => fn_ += 1,
            (false, false) => {}
        }
        match (truth, strict) {
            (true, true) => tp_strict += 1,
            (false, true) => fp_strict += 1,
            _ => {}
        }
    }
    let positives = tp + fn_;
    let recall = tp as f64 / positives.max(1) as f64;
    let precision = tp as f64 / (tp + fp).max(1) as f64;
    let recall_strict = tp_strict as f64 / positives.max(1) as f64;
    let precision_strict = tp_strict as f64 / (tp_strict + fp_strict).max(1) as f64;
    say!("messages {} ({positives} need a person)", labelled.len());
    say!("any escalation:            recall {recall:.4} precision {precision:.4}");
    say!("excluding out-of-scope:    recall {recall_strict:.4} precision {precision_strict:.4}");
    say!(
        "{}",
        serde_json::json!({"recall": recall, "precision": precision, "recall_excluding_oos": recall_strict, "precision_excluding_oos": precision_strict, "n": labelled.len(), "positives": positives})
    );
    Ok(())
}

#[derive(serde::Deserialize)]
struct Clinc {
    train: Vec<(String, String)>,
    val: Vec<(String, String)>,
    oos_train: Vec<(String, String)>,
    oos_val: Vec<(String, String)>,
}

/// The `worst` intents with the lowest share of right top intents, and the `worst`
/// commonest mix-ups: where a site owner's examples need work. Ids and counts only.
fn print_weakest(report: &train::EvalReport, worst: usize) {
    let weak: Vec<&train::IntentScore> = report
        .intents
        .iter()
        .filter(|s| s.right < s.n)
        .take(worst)
        .collect();
    if !weak.is_empty() {
        say!("weakest intents (top intent right / examples; judged out of scope):");
        for s in weak {
            say!(
                "  {:<40} {:>4}/{:<4} {} out of scope",
                s.intent,
                s.right,
                s.n,
                s.out_of_scope
            );
        }
    }
    if worst > 0 && !report.confusions.is_empty() {
        say!("most often taken for another intent (examples of -> taken for):");
        for c in report.confusions.iter().take(worst) {
            let taken_for = c.predicted.as_deref().unwrap_or("(no word known)");
            say!("  {:<40} -> {:<40} {:>4}", c.expected, taken_for, c.count);
        }
    }
}

/// Intents of CLINC150 that are this site's business: its banking and credit-card
/// domains, and intents named like one of the knowledge base's.
fn clinc_ours(
    domains: &std::collections::BTreeMap<String, Vec<String>>,
    is_kb_intent: impl Fn(&str) -> bool,
) -> impl Fn(&str) -> bool {
    let ours: Vec<String> = ["banking", "credit_cards"]
        .iter()
        .filter_map(|d| domains.get(*d))
        .flatten()
        .cloned()
        .collect();
    move |intent| ours.iter().any(|o| o == intent) || is_kb_intent(intent)
}

/// The first `per_intent` CLINC150 `train` queries of every off-topic intent.
fn clinc_off_topic(
    clinc: &Path,
    domains: &Path,
    kb: &train::KnowledgeBase,
    per_intent: usize,
) -> Result<Vec<String>, String> {
    let data: Clinc = read_json(clinc)?;
    let domains = read_json(domains)?;
    let ours = clinc_ours(&domains, |i| kb.entries.iter().any(|e| e.id == i));
    let mut taken: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    let mut out = Vec::new();
    for (text, intent) in &data.train {
        if ours(intent) {
            continue;
        }
        let n = taken.entry(intent).or_default();
        if *n < per_intent {
            *n += 1;
            out.push(text.clone());
        }
    }
    Ok(out)
}

fn eval_oos(engine: &Engine, clinc: &Path, domains: &Path) -> Result<(), String> {
    let data: Clinc = read_json(clinc)?;
    let domains = read_json(domains)?;
    let ours = clinc_ours(&domains, |i| engine.kb_entry(i).is_some());
    let rejected = |text: &str| !engine.predict(text).in_scope;
    let oos: Vec<&(String, String)> = data.oos_train.iter().chain(&data.oos_val).collect();
    let oos_rejected = oos.iter().filter(|(t, _)| rejected(t)).count();
    let other: Vec<&(String, String)> = data
        .val
        .iter()
        .filter(|(_, intent)| !ours(intent))
        .collect();
    let other_rejected = other.iter().filter(|(t, _)| rejected(t)).count();
    let oos_rate = oos_rejected as f64 / oos.len().max(1) as f64;
    let other_rate = other_rejected as f64 / other.len().max(1) as f64;
    say!(
        "CLINC150 out-of-scope rejected      {oos_rate:.4} of {}",
        oos.len()
    );
    say!(
        "CLINC150 other-domain val rejected  {other_rate:.4} of {}",
        other.len()
    );
    say!(
        "{}",
        serde_json::json!({"oos_reject_rate": oos_rate, "oos_n": oos.len(), "other_domain_reject_rate": other_rate, "other_domain_n": other.len()})
    );
    Ok(())
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// The commands of `baton chat`.
const CHAT_COMMANDS: &str = "/yes, /no, /handoff, /quit";

/// Whether a chat line is meant as a command: `/` and then a letter (`/foo`), not a
/// message that happens to start with a slash (`/ 2 tickets`).
fn is_command(line: &str) -> bool {
    line.strip_prefix('/')
        .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_alphabetic()))
}

fn chat(engine: &Engine) -> Result<(), String> {
    let mut conversation = Conversation::new();
    let mut last_intent: Option<String> = None;
    say!("{} assistant. Ask a question; /yes or /no rate the last answer, /handoff shows what an agent would get, /quit ends.", engine.site_name());
    // As many as the widget shows.
    for (id, title) in engine.suggestions(4) {
        say!("  try: {title}  ({id})");
    }
    let mut stdin = std::io::stdin().lock();
    loop {
        print!("> ");
        std::io::stdout()
            .flush()
            .map_err(|e| format!("stdout: {e}"))?;
        let line = match read_input_line(&mut stdin)? {
            None => return Ok(()),
            Some(InputLine::NotUtf8) => {
                eprintln!("error: that line is not valid UTF-8 text; skipped");
                continue;
            }
            Some(InputLine::Text(text, total)) => {
                note_if_cut("that message", &text, total);
                text
            }
        };
        let line = line.trim();
        match line {
            "" => continue,
            "/quit" => return Ok(()),
            "/yes" | "/no" => {
                // Only the last turn's answer can be rated, as in the widget.
                match last_intent.take() {
                    Some(intent) => {
                        conversation.record_feedback(&intent, line == "/yes", now_ms());
                        say!(
                            "{}",
                            if line == "/yes" {
                                "(noted: the answer helped)"
                            } else {
                                "bot: Sorry about that. Would you like to talk to a person?"
                            }
                        );
                    }
                    None => say!("(no answer to rate: /yes and /no rate the bot's last answer)"),
                }
                continue;
            }
            "/handoff" => {
                let packet = conversation.handoff_packet(engine, "en");
                let json = serde_json::to_string_pretty(&packet).map_err(|e| e.to_string())?;
                say!("{json}");
                conversation.record_agent_or_system(
                    Author::System,
                    "Handed to a person.",
                    now_ms(),
                );
                continue;
            }
            _ if is_command(line) => {
                say!("bot: Unknown command. Commands: {CHAT_COMMANDS}.");
                continue;
            }
            _ => {}
        }
        let turn = engine.respond(&mut conversation, line, now_ms());
        last_intent = None;
        if !turn.redacted.spans.is_empty() {
            say!("(masked: {})", turn.redacted.text);
        }
        match &turn.answer {
            Some(a) => {
                let confidence = turn.intent.as_ref().map_or(0.0, |g| g.confidence);
                say!(
                    "bot: {}  [{} {:.2}]\n{}",
                    a.title,
                    a.intent,
                    confidence,
                    a.body
                );
                for link in &a.links {
                    say!("  -> {} <{}>", link.label, link.url);
                }
                for guess in &turn.alternatives {
                    if let Some(entry) = engine.kb_entry(&guess.intent) {
                        say!(
                            "  or did you mean: {}  [{} {:.2}]",
                            entry.title,
                            entry.id,
                            guess.confidence
                        );
                    }
                }
                last_intent = Some(a.intent.clone());
            }
            None if turn.escalation.as_ref().is_some_and(|e| {
                e.reasons
                    .contains(&baton_protocol::EscalationReason::OutOfScope)
            }) =>
            {
                // What the engine said: it does not know, or it answers only in its
                // knowledge base's language.
                let said = conversation
                    .transcript()
                    .last()
                    .map(|entry| entry.text.as_str());
                say!("bot: {}", said.unwrap_or(baton_triage::DONT_KNOW_REPLY));
            }
            None => {
                if let Some(kind) = turn.small_talk {
                    say!("bot: {}", kind.reply());
                }
            }
        }
        if let Some(e) = &turn.escalation {
            let reasons: Vec<&str> = e.reasons.iter().map(|r| r.as_str()).collect();
            say!(
                "bot: Would you like to talk to a person? [{} score {:.2}]",
                reasons.join(", "),
                e.score
            );
        }
    }
}
