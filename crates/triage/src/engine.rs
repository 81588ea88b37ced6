//! The engine: one customer message in, one decision out.

use baton_protocol::{Author, EscalationReason, HandoffPacket, IntentGuess, TranscriptEntry};
use serde::{Deserialize, Serialize};

use crate::error::TriageError;
use crate::features::{extract, normalize, without_courtesies, Features};
use crate::kb::{KbEntry, KbLink};
use crate::language::{primary_language, KbLanguage};
use crate::model::ModelFile;
use crate::redact::{redact_pii, Redacted};
use crate::signals::{only_asks_for_a_person, read_signals, Signals, SmallTalk};

/// What the bot says when it does not know the answer.
pub const DONT_KNOW_REPLY: &str =
    "Sorry, I don't know the answer to that. A person from our team can help you.";

/// What the bot says to a message in a language its knowledge base is not written in,
/// `{language}` replaced by the knowledge base's language.
const OTHER_LANGUAGE_REPLY: &str =
    "I can only answer questions in {language} by myself. A person from our team can help you.";

/// Confidence an intent needs when the same message asks for a person.
const EXPLICIT_REQUEST_MIN_CONFIDENCE: f32 = 0.6;

/// Offer a person when the sensitive intents together are at least this likely, even
/// if the single best intent is not sensitive (recall matters more there).
const SENSITIVE_MASS_THRESHOLD: f32 = 0.25;

/// How many times their share of the intents the sensitive ones must together be
/// likely, in a model without an out-of-scope class (see [`sensitive_mass_bar`]).
const SENSITIVE_MASS_OVER_CHANCE: f32 = 2.0;

/// How likely the sensitive intents must together be to offer a person.
///
/// A model trained with out-of-scope examples gives an off-topic message to that class.
/// One without (a site owner's own small model, say) spreads an off-topic message's
/// probability over its intents, so the sensitive ones get about their share of the
/// intents by chance: with 3 intents, one of them sensitive, a third. There the bar is
/// twice that share, so that "who won the match?" is out of scope, not sensitive.
fn sensitive_mass_bar(model: &ModelFile) -> f32 {
    if model.has_oos_class || model.kb.is_empty() {
        return SENSITIVE_MASS_THRESHOLD;
    }
    let sensitive = model.kb.iter().filter(|e| e.sensitive).count();
    let share = sensitive as f32 / model.kb.len() as f32;
    SENSITIVE_MASS_THRESHOLD.max(SENSITIVE_MASS_OVER_CHANCE * share)
}

/// Below this confidence no answer is shown to a frustrated customer or after a failure.
const UNSURE_WHEN_UPSET: f32 = 0.5;

/// Below this confidence an answer comes with the next likeliest entries as one-tap
/// questions ("Did you mean…"). On the BANKING77 hold-out (seed 7) 161 of 1,005
/// answers were this unsure, 78 of them wrong, and 49 of those had the right entry
/// among the alternatives.
const ALTERNATIVES_BELOW: f32 = 0.7;
/// Least probability an entry needs to be offered as an alternative.
const ALTERNATIVE_MIN: f32 = 0.1;
/// Most alternatives offered beside an answer.
const MAX_ALTERNATIVES: usize = 2;

/// Name of the optional model head that detects requests for a person.
pub(crate) const HANDOFF_HEAD: &str = "handoff";
/// Name of the optional model head that detects frustration.
pub(crate) const FRUSTRATION_HEAD: &str = "frustration";

/// The triage engine: model, knowledge base and thresholds. Immutable once loaded.
#[derive(Debug, Clone)]
pub struct Engine {
    model: ModelFile,
    /// Each knowledge-base entry's title, normalised, in the entries' order: a message
    /// typed as one of them is that entry's question.
    titles: Vec<String>,
    /// The knowledge base's language, to tell the messages it cannot read.
    language: KbLanguage,
    /// How likely the sensitive intents must together be to offer a person.
    sensitive_mass_bar: f32,
}

/// The engine's decision for one customer message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Turn {
    /// The customer's text with personal data masked.
    pub redacted: Redacted,
    /// The best intent guess; `None` when the message is out of scope.
    pub intent: Option<IntentGuess>,
    /// The knowledge-base answer, when the bot answers.
    pub answer: Option<KbAnswer>,
    /// Present when a person should be offered.
    pub escalation: Option<Escalation>,
    /// Present when the message was only small talk ("thanks!", "hi"): the bot
    /// replies in kind, with no answer and no offer of a person.
    pub small_talk: Option<SmallTalk>,
    /// When the answer is unsure, the next likeliest entries, likeliest first: the
    /// widget offers them as one-tap questions ("Did you mean…").
    pub alternatives: Vec<IntentGuess>,
    /// The message is written in another language than the knowledge base
    /// ([`Engine::language`]): the bot does not guess an answer from the words the two
    /// languages share, and says which language it answers in.
    #[serde(default)]
    pub in_other_language: bool,
}

/// A knowledge-base answer to show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KbAnswer {
    /// The intent id.
    pub intent: String,
    /// The canonical question.
    pub title: String,
    /// The answer in KB markup (see the crate docs).
    pub body: String,
    /// Links to show under the answer.
    pub links: Vec<KbLink>,
}

/// Why and how strongly a person should be offered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Escalation {
    /// The reasons, most urgent first (the order of [`EscalationReason::ALL`]).
    pub reasons: Vec<EscalationReason>,
    /// Urgency in `0.0..=1.0`.
    pub score: f32,
}

/// The top intent of one message, without conversation state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    /// The most likely intent and its calibrated confidence, even when out of scope.
    pub best: Option<IntentGuess>,
    /// True when the confidence passes the model's out-of-scope threshold.
    pub in_scope: bool,
    /// When in scope but unsure, the next likeliest intents, likeliest first (what
    /// [`Turn::alternatives`] offers).
    pub alternatives: Vec<IntentGuess>,
}

/// The engine's view of one message, before any conversation state is applied.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Assessment {
    /// Index of the best knowledge-base intent and its calibrated probability.
    pub(crate) best: Option<(usize, f32)>,
    /// The next likeliest intents after `best`, likeliest first, each at least
    /// `ALTERNATIVE_MIN` likely.
    pub(crate) runner_ups: Vec<(usize, f32)>,
    /// The best intent passes the out-of-scope threshold.
    pub(crate) in_scope: bool,
    /// Total probability of the sensitive intents.
    pub(crate) sensitive_mass: f32,
    pub(crate) signals: Signals,
    /// The message is in a language the knowledge base is not written in.
    pub(crate) in_other_language: bool,
}

impl Assessment {
    /// The customer picked (or typed) the entry at `index` itself: certain, nothing else
    /// to read into it.
    fn chosen(index: usize) -> Assessment {
        Assessment {
            best: Some((index, 1.0)),
            runner_ups: Vec::new(),
            in_scope: true,
            sensitive_mass: 0.0,
            signals: Signals::default(),
            in_other_language: false,
        }
    }

    /// A message with no evidence for any intent.
    fn unknown(signals: Signals, in_other_language: bool) -> Assessment {
        Assessment {
            best: None,
            runner_ups: Vec::new(),
            in_scope: false,
            sensitive_mass: 0.0,
            signals,
            in_other_language,
        }
    }
}

impl Engine {
    /// Loads a compiled model file (which carries the knowledge-base answers too).
    pub fn from_bytes(model_file: &[u8]) -> Result<Engine, TriageError> {
        Ok(Engine::from_model(ModelFile::decode(model_file)?))
    }

    /// An engine for a decoded model.
    pub(crate) fn from_model(model: ModelFile) -> Engine {
        let titles = model.kb.iter().map(|e| normalize(&e.title)).collect();
        let language = KbLanguage::of(&model.language);
        let sensitive_mass_bar = sensitive_mass_bar(&model);
        Engine {
            model,
            titles,
            language,
            sensitive_mass_bar,
        }
    }

    /// The classifier's view of one message (redacted first), with no conversation state.
    pub fn predict(&self, customer_text: &str) -> Prediction {
        let redacted = redact_pii(customer_text);
        let a = self.assess(customer_text, &normalize(&redacted.text));
        Prediction {
            best: a.best.and_then(|(i, p)| self.guess(i, p)),
            in_scope: a.in_scope,
            alternatives: self.alternatives(&a),
        }
    }

    fn guess(&self, index: usize, confidence: f32) -> Option<IntentGuess> {
        self.model.kb.get(index).map(|e| IntentGuess {
            intent: e.id.clone(),
            confidence,
        })
    }

    /// The runner-ups worth offering: only beside an answer in scope but unsure.
    fn alternatives(&self, a: &Assessment) -> Vec<IntentGuess> {
        let unsure = a.in_scope && a.best.is_some_and(|(_, p)| p < ALTERNATIVES_BELOW);
        if !unsure {
            return Vec::new();
        }
        a.runner_ups
            .iter()
            .filter_map(|&(i, p)| self.guess(i, p))
            .collect()
    }

    #[cfg(feature = "train")]
    pub(crate) fn model(&self) -> &ModelFile {
        &self.model
    }

    /// The same engine with another out-of-scope confidence threshold (clamped to `0..=1`).
    pub fn with_out_of_scope_threshold(mut self, threshold: f32) -> Engine {
        self.model.oos_threshold = threshold.clamp(0.0, 1.0);
        self
    }

    /// The confidence below which a message is out of scope.
    pub fn out_of_scope_threshold(&self) -> f32 {
        self.model.oos_threshold
    }

    /// The site's display name, e.g. "Larkspur".
    pub fn site_name(&self) -> &str {
        &self.model.site_name
    }

    /// The language the knowledge base is written in, a BCP 47 tag such as `en`; empty
    /// when the model does not say (models before format 4).
    pub fn language(&self) -> &str {
        &self.model.language
    }

    /// The site's id, e.g. `demo`.
    pub fn site_id(&self) -> &str {
        &self.model.site_id
    }

    /// Every knowledge-base entry, in the order of the knowledge base.
    pub fn kb_entries(&self) -> &[KbEntry] {
        &self.model.kb
    }

    /// The knowledge-base entry for an intent id.
    pub fn kb_entry(&self, intent: &str) -> Option<&KbEntry> {
        self.model.kb.iter().find(|e| e.id == intent)
    }

    /// Up to `n` starter questions `(intent id, title)`, non-sensitive ones, in KB order.
    pub fn suggestions(&self, n: usize) -> Vec<(String, String)> {
        self.model
            .kb
            .iter()
            .filter(|e| !e.sensitive)
            .take(n)
            .map(|e| (e.id.clone(), e.title.clone()))
            .collect()
    }

    /// Calibrated probabilities over the classes (intents, then out-of-scope if present),
    /// and how many features the model knows.
    pub(crate) fn probabilities(&self, normalized: &str, features: &Features) -> (Vec<f32>, usize) {
        let (mut z, hits) = self.model.intent_logits(normalized, features);
        let t = self.model.temperature;
        let max = z.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let mut sum = 0.0;
        for v in &mut z {
            *v = ((*v - max) / t).exp();
            sum += *v;
        }
        if sum > 0.0 {
            for v in &mut z {
                *v /= sum;
            }
        }
        (z, hits)
    }

    /// Classifies one already-redacted message, `normalize`d, without touching any
    /// conversation.
    pub(crate) fn assess(&self, raw: &str, normalized: &str) -> Assessment {
        // The cue detectors hear the whole message, greetings and thanks too; the
        // classifiers read what it is about.
        let about = without_courtesies(normalized);
        let features = extract(&self.model.features, about);
        let mut signals = read_signals(raw, normalized);
        for head in &self.model.heads {
            let p = head.linear.probability(&features);
            match head.name.as_str() {
                HANDOFF_HEAD => signals.explicit_request |= p >= head.threshold,
                FRUSTRATION_HEAD if p >= head.threshold => {
                    signals.frustration = signals.frustration.max(p);
                    signals.sentiment = signals.sentiment.min(-p);
                }
                _ => {}
            }
        }
        if self.language.cannot_read(&signals.language) {
            // The words it shares with the knowledge base's language ("PIN", "Apple
            // Pay") are no evidence of what it asks.
            return Assessment::unknown(signals, true);
        }
        let (probs, hits) = self.probabilities(about, &features);
        if hits == 0 {
            // Nothing in the message is known to the model: no evidence for any intent.
            return Assessment::unknown(signals, false);
        }
        let n_kb = self.model.kb.len();
        let mut likeliest = most_likely(&probs[..n_kb.min(probs.len())], 1 + MAX_ALTERNATIVES);
        let best = (!likeliest.is_empty()).then(|| likeliest.remove(0));
        likeliest.retain(|&(_, p)| p >= ALTERNATIVE_MIN);
        let oos_p = if self.model.has_oos_class {
            probs.get(n_kb).copied().unwrap_or(0.0)
        } else {
            0.0
        };
        // A request for a person rarely carries a question: demand more confidence.
        let threshold = if signals.explicit_request {
            self.model
                .oos_threshold
                .max(EXPLICIT_REQUEST_MIN_CONFIDENCE)
        } else {
            self.model.oos_threshold
        };
        let in_scope = best.is_some_and(|(_, p)| p >= threshold && p > oos_p);
        let sensitive_mass = probs
            .iter()
            .zip(&self.model.kb)
            .filter(|(_, e)| e.sensitive)
            .map(|(p, _)| p)
            .sum();
        Assessment {
            best,
            runner_ups: likeliest,
            in_scope,
            sensitive_mass,
            signals,
            in_other_language: false,
        }
    }

    /// Decides how to answer one customer message and records it in `conversation`.
    pub fn respond(
        &self,
        conversation: &mut Conversation,
        customer_text: &str,
        now_ms: u64,
    ) -> Turn {
        let redacted = redact_pii(customer_text);
        let normalized = normalize(&redacted.text);
        // A suggestion typed as it reads gets the answer tapping it gives, not whatever
        // a near-synonym intent scores; how it was typed still counts ("WHERE IS MY
        // ORDER!!!" is angry).
        let a = self.assess(customer_text, &normalized);
        let a = match self.titles.iter().position(|title| *title == normalized) {
            Some(index) => Assessment {
                signals: a.signals,
                ..Assessment::chosen(index)
            },
            None => a,
        };
        self.decide(conversation, redacted, &a, now_ms)
    }

    /// The customer picked one of the bot's own questions (a suggestion showing the
    /// entry's title): answers that entry, as if asked in its title's words, without
    /// classifying the title again (near-synonym intents could answer another one).
    /// A sensitive entry still offers a person, and one already shown counts as a
    /// repeat. `None` when the knowledge base has no such intent.
    pub fn respond_to_choice(
        &self,
        conversation: &mut Conversation,
        intent: &str,
        now_ms: u64,
    ) -> Option<Turn> {
        let index = self.model.kb.iter().position(|e| e.id == intent)?;
        let title = &self.model.kb[index].title;
        Some(self.decide(
            conversation,
            redact_pii(title),
            &Assessment::chosen(index),
            now_ms,
        ))
    }

    /// Answers an assessed message and records it in `conversation`.
    fn decide(
        &self,
        conversation: &mut Conversation,
        redacted: Redacted,
        a: &Assessment,
        now_ms: u64,
    ) -> Turn {
        conversation.push(Author::Customer, redacted.text.clone(), now_ms);
        conversation.sentiment.push(a.signals.sentiment);
        if let Some(language) = a.signals.language.language() {
            conversation.written_in = Some(language.to_string());
        }
        // A bare "no" right after an answer replies to "Did this answer your question?".
        let not_helped =
            a.signals.not_helped || (a.signals.bare_no && conversation.last_turn_answered);
        conversation.last_turn_answered = false;
        if let Some(kind) = a.signals.small_talk {
            // Not a question the bot failed to answer: reply in kind, escalate nothing.
            conversation.push(Author::Bot, kind.reply().to_string(), now_ms);
            return Turn {
                redacted,
                intent: None,
                answer: None,
                escalation: None,
                small_talk: Some(kind),
                alternatives: Vec::new(),
                in_other_language: false,
            };
        }

        let guess = a
            .best
            .filter(|_| a.in_scope)
            .and_then(|(i, p)| self.guess(i, p));
        let entry = guess.as_ref().and_then(|g| self.kb_entry(&g.intent));

        let mut reasons = Vec::new();
        let mut score = 0f32;
        if a.signals.explicit_request {
            reasons.push(EscalationReason::ExplicitRequest);
            score = score.max(1.0);
        }
        if a.signals.frustration >= 0.5 {
            reasons.push(EscalationReason::Frustration);
            score = score.max(0.6 + 0.4 * a.signals.frustration);
        }
        if entry.is_some_and(|e| e.sensitive)
            || a.sensitive_mass >= self.sensitive_mass_bar
            || a.signals.sensitive_topic
        {
            reasons.push(EscalationReason::SensitiveIntent);
            score = score.max(0.9);
        }
        let repeated = not_helped
            || conversation.unhelpful_streak > 0
            || guess
                .as_ref()
                .is_some_and(|g| conversation.answers_shown.contains(&g.intent));
        if repeated {
            reasons.push(EscalationReason::RepeatedFailure);
            score = score.max(0.8);
        }
        // A bare request for a person is not a question the bot failed to answer.
        if guess.is_none() && !a.signals.explicit_request && !not_helped {
            reasons.push(EscalationReason::OutOfScope);
            let conf = a.best.map_or(0.0, |(_, p)| p);
            score = score.max(0.5 + 0.5 * (1.0 - conf));
        }
        let reasons = EscalationReason::most_urgent_first(&reasons);

        // An upset customer or one the bot already failed gets no second unsure guess.
        let hold_back = (a.signals.frustration >= 0.5 || repeated)
            && guess
                .as_ref()
                .is_some_and(|g| g.confidence < UNSURE_WHEN_UPSET);
        let answer = entry.filter(|_| !hold_back).map(|e| KbAnswer {
            intent: e.id.clone(),
            title: e.title.clone(),
            body: e.answer.clone(),
            links: e.links.clone(),
        });
        conversation.last_turn_answered = answer.is_some();
        match &answer {
            Some(ans) => {
                conversation.push(
                    Author::Bot,
                    format!("{}\n\n{}", ans.title, ans.body),
                    now_ms,
                );
                if !conversation.answers_shown.contains(&ans.intent) {
                    conversation.answers_shown.push(ans.intent.clone());
                }
            }
            None if guess.is_none() && !a.signals.explicit_request && !not_helped => {
                let reply = if a.in_other_language {
                    let language = language_name(&self.model.language);
                    OTHER_LANGUAGE_REPLY.replace("{language}", language)
                } else {
                    DONT_KNOW_REPLY.to_string()
                };
                conversation.push(Author::Bot, reply, now_ms);
            }
            None => {}
        }
        // What the customer needs, for the agent: a request for a person leaves out the
        // asking ("I want a person, my lamp arrived broken" -> "my lamp arrived broken"),
        // and a bare request has nothing to tell.
        let need = if a.signals.explicit_request {
            need_beside_request(&redacted.text)
        } else {
            redacted.text.as_str()
        };
        if let Some(g) = &guess {
            conversation.intents_seen.push(g.intent.clone());
            let better = conversation
                .best_intent
                .as_ref()
                .is_none_or(|b| g.confidence >= b.confidence * 0.9);
            if better {
                conversation.best_intent = Some(g.clone());
                if !need.trim().is_empty() {
                    conversation.summary = summarize(need);
                }
            }
        } else if conversation.summary.is_empty() {
            conversation.summary = summarize(need);
        }
        for r in &reasons {
            if !conversation.reasons.contains(r) {
                conversation.reasons.push(*r);
            }
        }
        let escalation = (!reasons.is_empty()).then_some(Escalation {
            reasons,
            score: score.clamp(0.0, 1.0),
        });
        let alternatives = if answer.is_some() {
            self.alternatives(a)
        } else {
            Vec::new()
        };
        Turn {
            redacted,
            intent: guess,
            answer,
            escalation,
            small_talk: None,
            alternatives,
            in_other_language: a.in_other_language,
        }
    }
}

/// A language's name in English, for the transcript an agent reads: the tag itself for
/// a language not named here.
fn language_name(tag: &str) -> &str {
    match primary_language(tag).as_str() {
        "en" => "English",
        "fr" => "French",
        "ar" => "Arabic",
        "de" => "German",
        "es" => "Spanish",
        "it" => "Italian",
        "pt" => "Portuguese",
        "nl" => "Dutch",
        _ => tag,
    }
}

/// The `n` likeliest `(index, probability)`, likeliest first; the lower index first
/// among equals.
fn most_likely(probs: &[f32], n: usize) -> Vec<(usize, f32)> {
    let mut top: Vec<(usize, f32)> = Vec::with_capacity(n + 1);
    for (i, &p) in probs.iter().enumerate() {
        if top.len() == n && top.last().is_some_and(|&(_, last)| last >= p) {
            continue;
        }
        let at = top.iter().position(|&(_, q)| q < p).unwrap_or(top.len());
        top.insert(at, (i, p));
        top.truncate(n);
    }
    top
}

/// The part of a redacted message that says what the customer needs, with the clauses
/// that only ask for a person or make small talk left out from its start and end ("Hi, I
/// want a person. My lamp arrived broken" -> "My lamp arrived broken"); empty when
/// nothing else is left. Always a slice of the redacted text.
fn need_beside_request(redacted: &str) -> &str {
    let is_break = |c: char| {
        matches!(
            c,
            '.' | ',' | '!' | '?' | ';' | ':' | '\n' | '،' | '؟' | '؛'
        )
    };
    let mut clauses = Vec::new();
    let mut start = 0;
    for (at, c) in redacted.char_indices() {
        if is_break(c) {
            clauses.push(start..at);
            start = at + c.len_utf8();
        }
    }
    clauses.push(start..redacted.len());
    let carries_need = |range: &std::ops::Range<usize>| {
        let clause = normalize(&redacted[range.clone()]);
        !clause.is_empty() && !only_asks_for_a_person(&clause)
    };
    let first = clauses.iter().position(carries_need);
    let last = clauses.iter().rposition(carries_need);
    match (first, last) {
        (Some(first), Some(last)) => redacted[clauses[first].start..clauses[last].end].trim(),
        _ => "",
    }
}

fn summarize(redacted: &str) -> String {
    const MAX: usize = 200;
    let trimmed = redacted.trim();
    if trimmed.len() <= MAX {
        return trimmed.to_string();
    }
    let mut end = MAX;
    while !trimmed.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &trimmed[..end])
}

/// One conversation's state as the engine sees it. Serialisable so the widget can keep
/// it across page loads; holds only redacted text.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Conversation {
    transcript: Vec<TranscriptEntry>,
    intents_seen: Vec<String>,
    answers_shown: Vec<String>,
    unhelpful_count: u32,
    unhelpful_streak: u32,
    sentiment: Vec<f32>,
    reasons: Vec<EscalationReason>,
    best_intent: Option<IntentGuess>,
    summary: String,
    /// The bot's last turn showed an answer (so a bare "no" now means it did not help).
    #[serde(default)]
    last_turn_answered: bool,
    /// The language the customer's messages were last recognised in, a BCP 47 tag.
    #[serde(default)]
    written_in: Option<String>,
}

impl Conversation {
    /// An empty conversation.
    pub fn new() -> Self {
        Self::default()
    }

    fn push(&mut self, author: Author, text: String, now_ms: u64) {
        self.transcript.push(TranscriptEntry {
            author,
            text,
            at_ms: now_ms,
        });
    }

    /// Records the customer's answer to "Did this answer your question?".
    pub fn record_feedback(&mut self, intent: &str, helpful: bool, now_ms: u64) {
        let text = if helpful {
            self.unhelpful_streak = 0;
            format!("Feedback: the answer to `{intent}` helped.")
        } else {
            self.unhelpful_count += 1;
            self.unhelpful_streak += 1;
            if !self.reasons.contains(&EscalationReason::RepeatedFailure) {
                self.reasons.push(EscalationReason::RepeatedFailure);
            }
            format!("Feedback: the answer to `{intent}` did not help.")
        };
        let text = redact_pii(&text).text;
        self.push(Author::System, text, now_ms);
    }

    /// Records a line written by an agent or by Baton itself (redacted first).
    pub fn record_agent_or_system(&mut self, author: Author, text: &str, now_ms: u64) {
        self.push(author, redact_pii(text).text, now_ms);
    }

    /// The conversation so far, redacted.
    pub fn transcript(&self) -> &[TranscriptEntry] {
        &self.transcript
    }

    /// Intent ids of the answers shown so far, in order.
    pub fn answers_shown(&self) -> &[String] {
        &self.answers_shown
    }

    /// How many times the customer said an answer did not help.
    pub fn unhelpful_count(&self) -> u32 {
        self.unhelpful_count
    }

    /// Everything an agent needs so the customer never repeats themselves. `language`
    /// is the chat's language, the packet's unless the customer's messages were
    /// recognised in another (an English chat written to in French reaches the agent
    /// as French).
    pub fn handoff_packet(&self, engine: &Engine, language: &str) -> HandoffPacket {
        let reasons = EscalationReason::most_urgent_first(&self.reasons);
        let intent = self
            .best_intent
            .clone()
            .filter(|g| engine.kb_entry(&g.intent).is_some());
        HandoffPacket {
            intent,
            reasons,
            sentiment: self.sentiment.clone(),
            answers_shown: self.answers_shown.clone(),
            summary: self.summary.clone(),
            transcript: self.transcript.clone(),
            language: self.written_in.as_deref().unwrap_or(language).to_string(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::model::tests::tiny_model;
    use crate::model::Linear;

    /// An engine whose classifier keys on the words "arrive" and "lost".
    fn engine() -> Engine {
        let mut m = tiny_model();
        m.features.char_weight = 0.0;
        m.features.bigram_weight = 0.0;
        let cfg = m.features;
        let row = |w: &str| extract(&cfg, w)[0].0;
        let (arrive, lost) = (row("arrive"), row("lost"));
        let mut rows = [(arrive, [127, 0]), (lost, [0, 127])];
        rows.sort();
        m.intents = Linear::new(
            vec![0.0, 0.0],
            vec![0.2, 0.2],
            rows.iter().map(|r| r.0).collect(),
            rows.iter().flat_map(|r| r.1).collect(),
            cfg.buckets_log2,
        );
        m.oos_threshold = 0.6;
        Engine::from_model(m)
    }

    #[test]
    fn answers_in_scope_questions() {
        let e = engine();
        let mut c = Conversation::new();
        let t = e.respond(&mut c, "when will it arrive", 1);
        assert_eq!(t.intent.as_ref().unwrap().intent, "card_arrival");
        assert_eq!(t.answer.as_ref().unwrap().body, "Soon.");
        assert!(t.escalation.is_none(), "{t:?}");
        assert_eq!(c.answers_shown(), ["card_arrival"]);
        assert_eq!(c.transcript().len(), 2);
    }

    #[test]
    fn sensitive_intents_answer_and_offer_a_person() {
        let e = engine();
        let t = e.respond(&mut Conversation::new(), "lost", 1);
        assert!(t.answer.is_some());
        assert_eq!(
            t.escalation.unwrap().reasons,
            [EscalationReason::SensitiveIntent]
        );
    }

    #[test]
    fn out_of_scope_has_no_answer() {
        let e = engine();
        let mut c = Conversation::new();
        let t = e.respond(&mut c, "what's the weather like", 1);
        assert!(t.intent.is_none() && t.answer.is_none());
        assert_eq!(
            t.escalation.unwrap().reasons,
            [EscalationReason::OutOfScope]
        );
        assert_eq!(c.transcript()[1].text, DONT_KNOW_REPLY);
    }

    #[test]
    fn explicit_request_is_not_out_of_scope() {
        let e = engine();
        let t = e.respond(&mut Conversation::new(), "agent pls", 1);
        assert_eq!(
            t.escalation.unwrap().reasons,
            [EscalationReason::ExplicitRequest]
        );
        let t = e.respond(&mut Conversation::new(), "HUMAN!!!", 1);
        let reasons = t.escalation.unwrap().reasons;
        assert!(reasons.contains(&EscalationReason::ExplicitRequest));
        assert!(reasons.contains(&EscalationReason::Frustration));
    }

    /// The test engine, its knowledge base written in `language`.
    fn engine_in(language: &str) -> Engine {
        let mut model = engine().model;
        model.language = language.into();
        Engine::from_model(model)
    }

    #[test]
    fn a_message_in_another_language_is_not_answered_from_shared_words() {
        let e = engine_in("en");
        // "arrive" is what the classifier keys on: in French it proves nothing.
        for text in [
            "ma carte n'est pas encore arrivée, elle arrive quand ?",
            "متى تصل بطاقتي arrive",
        ] {
            let mut c = Conversation::new();
            let t = e.respond(&mut c, text, 1);
            assert!(t.in_other_language && t.answer.is_none(), "{text}: {t:?}");
            assert_eq!(
                t.escalation.unwrap().reasons,
                [EscalationReason::OutOfScope]
            );
            assert_eq!(
                c.transcript()[1].text,
                "I can only answer questions in English by myself. A person from our team can help you."
            );
        }
        // English with French and Arabic words in it is English.
        for text in [
            "the parcel for the café on rue de la Paix, when will it arrive?",
            "when will it arrive? it is for my mother فاطمة",
        ] {
            let t = e.respond(&mut Conversation::new(), text, 1);
            assert!(!t.in_other_language && t.answer.is_some(), "{text}: {t:?}");
        }
        // A model that does not say its language reads every message as its own.
        let t = engine_in("").respond(
            &mut Conversation::new(),
            "ma carte n'est pas encore arrivée, elle arrive quand ?",
            1,
        );
        assert!(!t.in_other_language && t.answer.is_some(), "{t:?}");
    }

    #[test]
    fn a_request_for_a_person_in_another_language_is_a_request() {
        let t = engine_in("en").respond(
            &mut Conversation::new(),
            "je veux parler à un conseiller",
            1,
        );
        assert!(t.in_other_language);
        assert_eq!(
            t.escalation.unwrap().reasons,
            [EscalationReason::ExplicitRequest]
        );
    }

    #[test]
    fn the_agent_learns_the_language_the_customer_writes_in() {
        let e = engine_in("en");
        let mut c = Conversation::new();
        e.respond(&mut c, "hi", 1);
        assert_eq!(
            c.handoff_packet(&e, "en").language,
            "en",
            "nothing to tell from"
        );
        e.respond(&mut c, "bonjour, ma carte n'est toujours pas arrivée", 2);
        assert_eq!(c.handoff_packet(&e, "en").language, "fr");
        e.respond(&mut c, "بطاقتي لم تصل بعد", 3);
        assert_eq!(c.handoff_packet(&e, "fr").language, "ar");
    }

    #[test]
    fn same_intent_again_or_no_feedback_is_repeated_failure() {
        let e = engine();
        let mut c = Conversation::new();
        e.respond(&mut c, "when will it arrive", 1);
        let t = e.respond(&mut c, "it did not arrive yet, when will it arrive", 2);
        assert!(t
            .escalation
            .unwrap()
            .reasons
            .contains(&EscalationReason::RepeatedFailure));

        let mut c = Conversation::new();
        e.respond(&mut c, "when will it arrive", 1);
        c.record_feedback("card_arrival", false, 2);
        let p = c.handoff_packet(&e, "en");
        assert_eq!(p.reasons, [EscalationReason::RepeatedFailure]);
        assert_eq!(c.unhelpful_count(), 1);
    }

    #[test]
    fn no_unsure_answer_after_a_failure() {
        let mut e = engine();
        // An out-of-scope class keeps every guess unsure (about 1/3) but in scope.
        e.model.has_oos_class = true;
        e.model.intents = e
            .model
            .intents
            .with_classes(vec![0.0, 0.0, -0.05], vec![0.001; 3]);
        e.model.oos_threshold = 0.1;
        let e = Engine::from_model(e.model);
        let mut c = Conversation::new();
        let first = e.respond(&mut c, "when will it arrive", 1);
        assert!(first.answer.is_some());
        c.record_feedback("card_arrival", false, 2);
        let t = e.respond(&mut c, "lost", 3);
        assert!(t.intent.is_some() && t.answer.is_none(), "{t:?}");
        assert!(t
            .escalation
            .unwrap()
            .reasons
            .contains(&EscalationReason::RepeatedFailure));
    }

    #[test]
    fn transcript_and_packet_hold_no_pii() {
        let e = engine();
        let mut c = Conversation::new();
        let t = e.respond(
            &mut c,
            "card 4242 4242 4242 4242 lost, mail me at a@b.io",
            5,
        );
        assert_eq!(t.redacted.spans.len(), 2);
        c.record_agent_or_system(Author::Agent, "call +44 20 7946 0958", 6);
        let p = c.handoff_packet(&e, "en");
        let json = serde_json::to_string(&p).unwrap();
        assert!(!json.contains("4242 4242") && !json.contains("a@b.io") && !json.contains("7946"));
        assert_eq!(p.intent.unwrap().intent, "lost_or_stolen_card");
        assert_eq!(p.sentiment.len(), 1);
        assert_eq!(p.language, "en");
        assert!(p.summary.contains("[card •••• 4242]"));
    }

    /// Agent tester A9: every request for a person had an empty summary.
    #[test]
    fn a_request_for_a_person_is_summarised_by_its_need() {
        let e = engine();
        for (text, summary) in [
            (
                "Hi, I want to talk to a person please. The side table from order LK-4471 has a wobbly leg",
                "The side table from order LK-4471 has a wobbly leg",
            ),
            (
                "I want a person, my lamp arrived broken, order LK-4471",
                "my lamp arrived broken, order LK-4471",
            ),
            (
                "my lamp arrived broken, call me on 07700 900123. Thanks!",
                "my lamp arrived broken",
            ),
            (
                "Je voudrais parler à un conseiller. Ma lampe est arrivée cassée",
                "Ma lampe est arrivée cassée",
            ),
            ("أريد التحدث مع موظف، المصباح وصل مكسور", "المصباح وصل مكسور"),
            ("agent please", ""),
            ("Hi! I want to talk to a real person now, please.", ""),
            ("I want a person", ""),
        ] {
            let mut c = Conversation::new();
            let t = e.respond(&mut c, text, 1);
            assert!(
                t.escalation
                    .unwrap()
                    .reasons
                    .contains(&EscalationReason::ExplicitRequest),
                "{text}"
            );
            assert_eq!(c.handoff_packet(&e, "en").summary, summary, "{text}");
        }
        // A bare request first, the need next: the need is the summary.
        let mut c = Conversation::new();
        e.respond(&mut c, "agent pls", 1);
        e.respond(&mut c, "my sofa has a tear", 2);
        assert_eq!(c.handoff_packet(&e, "en").summary, "my sofa has a tear");
        // A later bare request keeps the need already told.
        e.respond(&mut c, "human please", 3);
        assert_eq!(c.handoff_packet(&e, "en").summary, "my sofa has a tear");
    }

    /// Customer tester #22: "I want a person" was out of scope.
    #[test]
    fn wanting_a_person_is_an_explicit_request() {
        let e = engine();
        for text in [
            "I want a person",
            "I need a person",
            "a person please",
            "someone?",
        ] {
            let t = e.respond(&mut Conversation::new(), text, 1);
            assert_eq!(
                t.escalation.unwrap().reasons,
                [EscalationReason::ExplicitRequest],
                "{text}"
            );
        }
    }

    #[test]
    fn conversation_round_trips_through_serde() {
        let e = engine();
        let mut c = Conversation::new();
        e.respond(&mut c, "when will it arrive", 1);
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(serde_json::from_str::<Conversation>(&json).unwrap(), c);
    }

    #[test]
    fn suggestions_skip_sensitive_intents() {
        let e = engine();
        assert_eq!(
            e.suggestions(5),
            [(
                "card_arrival".to_string(),
                "When will my card arrive?".to_string()
            )]
        );
        assert!(e.kb_entry("lost_or_stolen_card").unwrap().sensitive);
        assert_eq!(e.site_name(), "Test Bank");
    }

    #[test]
    fn most_likely_keeps_the_top_in_order_earlier_first_among_equals() {
        let probs = [0.1, 0.4, 0.05, 0.4, 0.3];
        assert_eq!(most_likely(&probs, 3), [(1, 0.4), (3, 0.4), (4, 0.3)]);
        assert_eq!(most_likely(&probs, 1), [(1, 0.4)]);
        assert_eq!(most_likely(&probs[..1], 3), [(0, 0.1)]);
        assert!(most_likely(&[], 3).is_empty());
    }
}
