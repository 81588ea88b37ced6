//! The webhook outbox's decisions: its settings, and one delivery's life.
//!
//! A [`Delivery`] is pending until an attempt is answered 2xx (then it is dropped), or
//! until the schedule runs out or the receiver answers 410 Gone (then it is a dead
//! letter, kept until an agent replays it). Before each attempt the caller stores
//! [`Delivery::start_attempt`]'s result, which pushes the due time past the timeout, so
//! a process killed mid-attempt tries again after a restart instead of losing the
//! event. The `id` never changes, so receivers dedupe by `webhook-id`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{RelayError, RelayErrorKind};
use crate::retry::{AttemptOutcome, NextStep, RetrySchedule};
use crate::webhook::{SiteSecrets, WebhookSecret};

/// The default attempt timeout, in milliseconds.
pub const DEFAULT_TIMEOUT_MS: u64 = 15_000;

/// How many dead letters a site's outbox keeps; beyond it the oldest are forgotten, so
/// a receiver that stays down cannot fill the outbox's storage.
pub const MAX_DEAD_LETTERS: usize = 100;

/// The ids of the dead letters to forget so that at most [`MAX_DEAD_LETTERS`] remain:
/// the oldest, given every delivery oldest first.
pub fn dead_letters_over_limit(oldest_first: &[Delivery]) -> Vec<&str> {
    let dead: Vec<&str> = oldest_first
        .iter()
        .filter(|d| d.is_dead_letter())
        .map(|d| d.id.as_str())
        .collect();
    let excess = dead.len().saturating_sub(MAX_DEAD_LETTERS);
    dead[..excess].to_vec()
}

/// How the outbox delivers: the schedule and the per-attempt timeout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookSettings {
    /// Delays before each attempt.
    pub schedule: RetrySchedule,
    /// How long one attempt may take, in milliseconds.
    pub timeout_ms: u64,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        WebhookSettings {
            schedule: RetrySchedule::default(),
            timeout_ms: DEFAULT_TIMEOUT_MS,
        }
    }
}

impl WebhookSettings {
    /// Reads `BATON_WEBHOOK_SCHEDULE` (comma-separated seconds) and
    /// `BATON_WEBHOOK_TIMEOUT_MS`; either may be unset for its default.
    pub fn from_vars(schedule: Option<&str>, timeout_ms: Option<&str>) -> Result<Self, RelayError> {
        let mut settings = WebhookSettings::default();
        if let Some(text) = schedule.filter(|text| !text.trim().is_empty()) {
            let delays_ms = text
                .split(',')
                .map(|part| part.trim().parse::<u64>().ok()?.checked_mul(1_000))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| {
                    RelayError::new(RelayErrorKind::BadConfig, "BATON_WEBHOOK_SCHEDULE")
                })?;
            settings.schedule = RetrySchedule { delays_ms };
        }
        if let Some(text) = timeout_ms.filter(|text| !text.trim().is_empty()) {
            settings.timeout_ms = text
                .trim()
                .parse::<u64>()
                .ok()
                .filter(|ms| *ms > 0)
                .ok_or_else(|| {
                    RelayError::new(RelayErrorKind::BadConfig, "BATON_WEBHOOK_TIMEOUT_MS")
                })?;
        }
        Ok(settings)
    }
}

/// One site's entry in `BATON_WEBHOOK_SECRETS`: a secret, or a few while rotating.
#[derive(Deserialize)]
#[serde(untagged)]
enum SecretEntry {
    One(String),
    NewestFirst(Vec<String>),
}

/// The secrets of `site` in `BATON_WEBHOOK_SECRETS`: `{"<site>": "whsec_..."}`, or
/// `{"<site>": ["whsec_new", "whsec_old"]}` while rotating (newest first, at most
/// [`crate::MAX_SECRETS_PER_SITE`]); `None` when the site has none. Only this site's entry is
/// read, so a mistake in another site's entry does not stop this one. Errors name the
/// setting and the site, never the secret.
pub fn site_webhook_secrets(json: &str, site: &str) -> Result<Option<SiteSecrets>, RelayError> {
    let mut all: BTreeMap<String, serde_json::Value> = serde_json::from_str(json)
        .map_err(|_| RelayError::new(RelayErrorKind::BadConfig, "BATON_WEBHOOK_SECRETS"))?;
    let Some(entry) = all.remove(site) else {
        return Ok(None);
    };
    let bad_entry = || {
        RelayError::new(
            RelayErrorKind::BadConfig,
            format!("BATON_WEBHOOK_SECRETS.{site}"),
        )
    };
    let newest_first = match serde_json::from_value(entry).map_err(|_| bad_entry())? {
        SecretEntry::One(secret) => vec![secret],
        SecretEntry::NewestFirst(secrets) => secrets,
    };
    let parsed = newest_first
        .iter()
        .map(|secret| WebhookSecret::parse(secret).map_err(|_| bad_entry()))
        .collect::<Result<Vec<_>, _>>()?;
    SiteSecrets::new(parsed).map(Some).ok_or_else(bad_entry)
}

/// Checks a receiver URL: `https://`, or `http://` only for a loopback host.
pub fn validate_webhook_url(url: &str, field: &str) -> Result<(), RelayError> {
    let bad = || RelayError::new(RelayErrorKind::BadWebhookUrl, field);
    let (secure, rest) = if let Some(rest) = url.strip_prefix("https://") {
        (true, rest)
    } else if let Some(rest) = url.strip_prefix("http://") {
        (false, rest)
    } else {
        return Err(bad());
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.is_empty() || authority.contains('@') || url.chars().any(char::is_whitespace) {
        return Err(bad());
    }
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next().unwrap_or_default()
    } else {
        authority.split(':').next().unwrap_or_default()
    };
    if host.is_empty() {
        return Err(bad());
    }
    let loopback = host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if secure || loopback {
        Ok(())
    } else {
        Err(bad())
    }
}

/// How an attempt ended, as kept and shown to agents (never the receiver's body).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LastOutcome {
    /// The receiver answered with this HTTP status.
    Status(u16),
    /// No answer within the timeout.
    Timeout,
    /// The connection failed.
    ConnectError,
    /// The site has no webhook URL or secret configured.
    NotConfigured,
}

impl LastOutcome {
    /// The agent API's text: `"500"`, `"timeout"`, `"connect error"`, `"not configured"`.
    pub fn describe(self) -> String {
        match self {
            LastOutcome::Status(code) => code.to_string(),
            LastOutcome::Timeout => "timeout".to_owned(),
            LastOutcome::ConnectError => "connect error".to_owned(),
            LastOutcome::NotConfigured => "not configured".to_owned(),
        }
    }
}

/// One event on its way to a receiver, as the outbox stores it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    /// The `webhook-id`, stable across attempts.
    pub id: String,
    /// The event type.
    pub event_type: String,
    /// The conversation the event is about.
    pub conversation_id: String,
    /// The exact body to send, JSON.
    pub payload: String,
    /// Attempts started so far.
    pub attempts: u32,
    /// When the next attempt is due; `None` once dead-lettered.
    pub next_due_ms: Option<u64>,
    /// How the last attempt ended.
    pub last_outcome: Option<LastOutcome>,
}

impl Delivery {
    /// A new delivery, first due per the schedule.
    pub fn new(
        id: String,
        event_type: String,
        conversation_id: String,
        payload: String,
        now_ms: u64,
        schedule: &RetrySchedule,
    ) -> Delivery {
        Delivery {
            id,
            event_type,
            conversation_id,
            payload,
            attempts: 0,
            next_due_ms: Some(schedule.first_attempt_at(now_ms)),
            last_outcome: None,
        }
    }

    /// Whether an attempt is due at `now_ms`.
    pub fn is_due(&self, now_ms: u64) -> bool {
        self.next_due_ms.is_some_and(|due| due <= now_ms)
    }

    /// Whether it is dead-lettered.
    pub fn is_dead_letter(&self) -> bool {
        self.next_due_ms.is_none()
    }

    /// Marks an attempt as started; store this before sending. Until the attempt ends,
    /// the delivery is due again once the timeout (plus a second) has passed.
    pub fn start_attempt(&mut self, now_ms: u64, timeout_ms: u64) {
        self.attempts = self.attempts.saturating_add(1);
        self.next_due_ms = Some(now_ms + timeout_ms + 1_000);
    }

    /// Records how the attempt ended. Returns `true` when the delivery is done (2xx)
    /// and can be removed.
    pub fn finish_attempt(
        &mut self,
        outcome: LastOutcome,
        retry_after_ms: Option<u64>,
        now_ms: u64,
        schedule: &RetrySchedule,
    ) -> bool {
        self.last_outcome = Some(outcome);
        let decided = match outcome {
            LastOutcome::Status(code) if (200..300).contains(&code) => AttemptOutcome::Delivered,
            LastOutcome::Status(410) => AttemptOutcome::Gone,
            _ => AttemptOutcome::Failed { retry_after_ms },
        };
        let attempt = usize::try_from(self.attempts).unwrap_or(usize::MAX);
        match schedule.next_step(attempt, decided, now_ms) {
            NextStep::Done => true,
            NextStep::RetryAt(at) => {
                self.next_due_ms = Some(at);
                false
            }
            NextStep::DeadLetter => {
                self.next_due_ms = None;
                false
            }
        }
    }

    /// Re-queues a dead letter from attempt 1, due now.
    pub fn replay(&mut self, now_ms: u64) {
        self.attempts = 0;
        self.next_due_ms = Some(now_ms);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::webhook::MAX_SECRETS_PER_SITE;

    #[test]
    fn only_the_newest_dead_letters_are_kept() {
        let schedule = RetrySchedule::parse("0").unwrap();
        let deliveries: Vec<Delivery> = (0..MAX_DEAD_LETTERS + 3)
            .map(|i| {
                let mut delivery = Delivery::new(
                    format!("msg_{i}"),
                    "escalation.created".into(),
                    "c".into(),
                    "{}".into(),
                    0,
                    &schedule,
                );
                // Every third one is still pending; the others failed their one attempt.
                if i % 3 != 1 {
                    delivery.start_attempt(0, 1_000);
                    delivery.finish_attempt(LastOutcome::Status(500), None, 10, &schedule);
                }
                delivery
            })
            .collect();
        let dead = deliveries.iter().filter(|d| d.is_dead_letter()).count();
        assert!(
            dead <= MAX_DEAD_LETTERS,
            "the test needs fewer dead letters"
        );
        assert!(dead_letters_over_limit(&deliveries).is_empty());
        let mut more = deliveries.clone();
        more.extend(deliveries.iter().take(60).cloned().map(|mut d| {
            d.id.push_str("-again");
            d
        }));
        let dropped = dead_letters_over_limit(&more);
        let dead_now = more.iter().filter(|d| d.is_dead_letter()).count();
        assert_eq!(dropped.len(), dead_now - MAX_DEAD_LETTERS);
        assert_eq!(dropped[..3], ["msg_0", "msg_2", "msg_3"], "oldest first");
        assert!(dropped.iter().all(|id| !id.ends_with("-again")));
    }

    #[test]
    fn settings_default_to_the_spec_and_parse_seconds() {
        let default = WebhookSettings::from_vars(None, None).unwrap();
        assert_eq!(default, WebhookSettings::default());
        assert_eq!(default.schedule.attempts(), 10);
        let fast = WebhookSettings::from_vars(Some("0, 1,2"), Some("1500")).unwrap();
        assert_eq!(fast.schedule.delays_ms, vec![0, 1_000, 2_000]);
        assert_eq!(fast.timeout_ms, 1_500);
    }

    #[test]
    fn bad_settings_name_the_variable() {
        let err = WebhookSettings::from_vars(Some("0,x"), None).unwrap_err();
        assert_eq!(err.field, "BATON_WEBHOOK_SCHEDULE");
        let err = WebhookSettings::from_vars(None, Some("0")).unwrap_err();
        assert_eq!(err.field, "BATON_WEBHOOK_TIMEOUT_MS");
    }

    #[test]
    fn secrets_parse_per_site_and_errors_hide_the_secret() {
        let old = WebhookSecret::from_key(vec![7; 24]);
        let new = WebhookSecret::from_key(vec![8; 24]);
        let json = format!(
            r#"{{"demo":"{}","rotating":["{}","{}"],"broken":"whsec_notbase64!!","empty":[]}}"#,
            old.to_whsec(),
            new.to_whsec(),
            old.to_whsec()
        );
        let signed_by = |site: &str| {
            let header = site_webhook_secrets(&json, site)
                .unwrap()
                .unwrap()
                .sign("m", 1, b"x");
            [&old, &new].map(|s| s.verify("m", 1, &header, b"x", 1).is_ok())
        };
        assert_eq!(signed_by("demo"), [true, false]);
        assert_eq!(signed_by("rotating"), [true, true]);
        assert!(site_webhook_secrets(&json, "elsewhere").unwrap().is_none());
        for bad in ["broken", "empty"] {
            let err = site_webhook_secrets(&json, bad).unwrap_err();
            assert_eq!(err.field, format!("BATON_WEBHOOK_SECRETS.{bad}"));
            assert!(!err.to_string().contains("notbase64"));
        }
        let too_many =
            serde_json::json!({ "demo": vec![old.to_whsec(); MAX_SECRETS_PER_SITE + 1] });
        assert!(site_webhook_secrets(&too_many.to_string(), "demo").is_err());
        assert_eq!(
            site_webhook_secrets("nope", "demo").unwrap_err().field,
            "BATON_WEBHOOK_SECRETS"
        );
    }

    #[test]
    fn webhook_urls_must_be_https_or_loopback_http() {
        for ok in [
            "https://helpdesk.example/hooks",
            "http://127.0.0.1:9000/hook",
            "http://localhost/hook",
            "http://[::1]:8080/",
        ] {
            assert!(validate_webhook_url(ok, "f").is_ok(), "{ok}");
        }
        for bad in [
            "http://helpdesk.example/hook",
            "ftp://x",
            "https://",
            "http://127.0.0.1.evil.example/",
            "https://user@host/",
        ] {
            let err = validate_webhook_url(bad, "BATON_SITES.demo.webhook_url");
            assert!(err.is_err(), "{bad}");
        }
    }

    fn delivery(schedule: &RetrySchedule) -> Delivery {
        Delivery::new(
            "msg_1".into(),
            "escalation.created".into(),
            "c1".into(),
            "{}".into(),
            1_000,
            schedule,
        )
    }

    #[test]
    fn a_delivery_retries_on_schedule_then_dead_letters_and_replays() {
        let schedule = RetrySchedule {
            delays_ms: vec![0, 1_000, 2_000],
        };
        let mut d = delivery(&schedule);
        assert!(d.is_due(1_000));
        d.start_attempt(1_000, 500);
        assert_eq!(d.next_due_ms, Some(2_500), "a killed attempt comes back");
        assert!(!d.finish_attempt(LastOutcome::Status(500), None, 1_100, &schedule));
        assert_eq!(d.next_due_ms, Some(2_100));
        d.start_attempt(2_100, 500);
        assert!(!d.finish_attempt(LastOutcome::Timeout, None, 2_600, &schedule));
        assert_eq!(d.next_due_ms, Some(4_600));
        d.start_attempt(4_600, 500);
        assert!(!d.finish_attempt(LastOutcome::ConnectError, None, 4_700, &schedule));
        assert!(d.is_dead_letter());
        assert_eq!(d.attempts, 3);
        d.replay(9_000);
        assert!(d.is_due(9_000));
        d.start_attempt(9_000, 500);
        assert!(d.finish_attempt(LastOutcome::Status(204), None, 9_100, &schedule));
    }

    #[test]
    fn retry_after_is_honoured_and_gone_dead_letters_at_once() {
        let schedule = RetrySchedule {
            delays_ms: vec![0, 1_000, 2_000],
        };
        let mut d = delivery(&schedule);
        d.start_attempt(1_000, 500);
        d.finish_attempt(LastOutcome::Status(429), Some(5_000), 1_100, &schedule);
        assert_eq!(d.next_due_ms, Some(6_100));
        d.start_attempt(6_100, 500);
        d.finish_attempt(LastOutcome::Status(410), None, 6_200, &schedule);
        assert!(d.is_dead_letter());
        assert_eq!(d.attempts, 2);
    }
}
