//! Baton's triage engine: decides, in the customer's browser, whether the bot can
//! answer a message from the site's knowledge base now or a person is needed.
//!
//! # Design
//!
//! - **Pure and small.** No web dependencies, no regex engine, no TOML parser in the
//!   default build: the crate compiles natively and for `wasm32-unknown-unknown`, and
//!   the widget ships it with one model file.
//! - **Redact first.** [`redact_pii`] masks card numbers (Luhn) with their expiry dates
//!   and security codes, PINs and passwords after the words that name them, IBANs (mod
//!   97, of their country's length), email addresses and phone numbers with hand-written
//!   scanners, reading digits of any script the widget
//!   meets (ASCII, Arabic-Indic, Persian, full-width) alike; order and reference numbers
//!   and amounts are not phone numbers. The engine classifies the redacted text and a
//!   [`Conversation`] only ever stores redacted text.
//! - **Intent model.** Hashed word unigrams and bigrams plus character 3-5 grams,
//!   L2-normalised, feed a multinomial logistic regression trained deterministically
//!   (fixed seed, AdaGrad), quantised to int8 with one scale per class and stored
//!   sparsely. Confidence is a softmax with a temperature fitted on held-out rows.
//!   An optional extra class, trained on other domains' questions (CLINC150), and a
//!   confidence threshold mark messages that are not this site's business.
//! - **Escalation.** Cue detectors (asking for a person, frustration, "that did not
//!   help", sensitive topics such as fraud, bereavement or hardship) and optional
//!   binary model heads (`frustration`, `handoff`) over the same features add
//!   [`baton_protocol::EscalationReason`]s. Sensitive intents always offer a person even
//!   when the bot answers, and so does a message whose sensitive intents together are
//!   likely enough, even if its single best intent is not sensitive.
//! - **Alternatives.** An answer below 70 % confidence comes with the next likeliest
//!   entries ([`Turn::alternatives`]); a customer who picks one, like one who taps a
//!   suggested question, gets that entry's answer directly
//!   ([`Engine::respond_to_choice`]), with no second classification.
//! - **Languages.** A message written in another language than the knowledge base's
//!   (another script, or French words to an English model and the other way round)
//!   is not answered from the words the two share: it is out of scope, and
//!   [`Turn::in_other_language`] lets the widget say which language the bot answers in.
//!   The handoff packet carries the language the customer wrote in.
//! - **Small talk.** A message that is only a greeting, thanks, a goodbye, "ok" or
//!   "what can you do" ([`SmallTalk`]) is answered in kind and escalates nothing,
//!   unless it also asks for a person, is upset, says an answer did not help or names a
//!   sensitive topic.
//! - **Model file.** One versioned, checksummed binary file carries the site name, the
//!   knowledge-base answers, feature settings, calibration, the int8 weights and the
//!   heads (layout in the `model` module docs). The shipped demo model is
//!   `data/demo/model.bin`; `baton train` rebuilds it byte for byte.
//!
//! # Invariants
//!
//! - [`Engine::from_bytes`] validates the whole model file (magic, version, checksum,
//!   every count and index, `https:`/`mailto:` links) and never panics on bad input.
//! - A [`Turn`] with `intent: None` never has an `answer`; such a turn escalates with
//!   `OutOfScope` unless the customer asked for a person, said the bot did not help, or
//!   made small talk.
//! - A message none of whose features the model knows is out of scope (no evidence).
//! - Time is a parameter (`now_ms`); nothing reads a clock or a random source.
//! - Errors ([`TriageError`]) name the file, field or line that is wrong and never
//!   contain customer text.
//!
//! # Knowledge base format
//!
//! Site owners write a TOML file; `baton train` (feature `train`) compiles it, with
//! labelled examples, into the model file. Unknown fields are errors.
//!
//! ```toml
//! [site]
//! id = "demo"                              # the site id of the embed tag
//! name = "Larkspur"                        # shown in the widget
//! language = "en"                          # optional BCP 47 tag; recognised from the answers if absent
//!
//! [[intent]]
//! id = "card_arrival"                      # must match a category of the training CSV
//! title = "When will my card arrive?"      # short canonical question
//! answer = """Cards are posted within **2 working days**.
//!
//! - item one
//! - item two
//!
//! See [your card page](https://larkspur.example/account/card)."""
//! links = [{ label = "Track your card", url = "https://larkspur.example/account/card" }]
//! sensitive = false                        # true: always offer a person (fraud, lost card, ...)
//! ```
//!
//! Answer markup, rendered by the widget: paragraphs separated by blank lines, `- `
//! list items, `**bold**` and `[label](https://...)` links. Link urls must be `https:`
//! or `mailto:`. Every `[[intent]]` needs a non-empty `title` and `answer`; every
//! intent needs training examples and every training category needs an intent.
//!
//! # Example
//!
//! ```no_run
//! use baton_triage::{Conversation, Engine};
//! # fn run(model_bytes: &[u8]) -> Result<(), baton_triage::TriageError> {
//! let engine = Engine::from_bytes(model_bytes)?;
//! let mut conversation = Conversation::new();
//! let turn = engine.respond(&mut conversation, "my card hasn't arrived", 0);
//! if let Some(answer) = &turn.answer {
//!     println!("{}\n{}", answer.title, answer.body);
//! }
//! if turn.escalation.is_some() {
//!     let packet = conversation.handoff_packet(&engine, "en");
//!     println!("{} reasons", packet.reasons.len());
//! }
//! # Ok(()) }
//! ```

mod engine;
mod error;
mod features;
mod kb;
mod language;
mod model;
mod redact;
mod signals;
#[cfg(feature = "train")]
pub mod train;
#[cfg(feature = "train")]
mod word_vectors;

pub use engine::{Conversation, Engine, Escalation, KbAnswer, Prediction, Turn, DONT_KNOW_REPLY};
pub use error::TriageError;
pub use kb::{KbEntry, KbLink};
pub use language::primary_language;
pub use redact::{masked_pieces, redact_pii, MaskedPiece, PiiKind, PiiSpan, Redacted};
pub use signals::SmallTalk;
