//! Checks on what the widget sends, before anything is stored.

use baton_protocol::{EscalationRequest, EscalationWithdrawal};

use crate::error::{RelayError, RelayErrorKind};

/// Size limits for an escalation. The defaults keep a packet well under the edge's
/// body limit while leaving room for a long conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest id (site, visitor, idempotency key), in bytes.
    pub max_id_len: usize,
    /// Most transcript entries.
    pub max_transcript_entries: usize,
    /// Longest single message, in bytes.
    pub max_message_len: usize,
    /// Longest summary, in bytes.
    pub max_summary_len: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_id_len: baton_protocol::MAX_ID_BYTES,
            max_transcript_entries: 200,
            max_message_len: baton_protocol::MAX_MESSAGE_BYTES,
            max_summary_len: 1_000,
        }
    }
}

/// Accepts an escalation request or says which field is wrong and how.
///
/// ```
/// use baton_protocol::{EscalationRequest, HandoffPacket};
/// use baton_relay::{validate_escalation, Limits};
///
/// let request = EscalationRequest {
///     site: "demo".into(),
///     visitor_id: "v-1".into(),
///     idempotency_key: "k-1".into(),
///     packet: HandoffPacket::default(),
///     identity: None,
/// };
/// assert!(validate_escalation(&request, &Limits::default()).is_ok());
/// ```
pub fn validate_escalation(request: &EscalationRequest, limits: &Limits) -> Result<(), RelayError> {
    check_escalation_ids(
        &request.site,
        &request.visitor_id,
        &request.idempotency_key,
        limits,
    )?;
    let packet = &request.packet;
    if packet.transcript.len() > limits.max_transcript_entries {
        return Err(RelayError::new(
            RelayErrorKind::TooMany,
            "packet.transcript",
        ));
    }
    for (index, entry) in packet.transcript.iter().enumerate() {
        if entry.text.len() > limits.max_message_len {
            return Err(RelayError::new(
                RelayErrorKind::TooLong,
                format!("packet.transcript[{index}].text"),
            ));
        }
    }
    if packet.summary.len() > limits.max_summary_len {
        return Err(RelayError::new(RelayErrorKind::TooLong, "packet.summary"));
    }
    if packet.reasons.len() > baton_protocol::EscalationReason::ALL.len() {
        return Err(RelayError::new(RelayErrorKind::TooMany, "packet.reasons"));
    }
    if packet.sentiment.len() > limits.max_transcript_entries {
        return Err(RelayError::new(RelayErrorKind::TooMany, "packet.sentiment"));
    }
    if packet.sentiment.iter().any(|s| !(-1.0..=1.0).contains(s)) {
        return Err(RelayError::new(
            RelayErrorKind::OutOfRange,
            "packet.sentiment",
        ));
    }
    if packet.answers_shown.len() > limits.max_transcript_entries {
        return Err(RelayError::new(
            RelayErrorKind::TooMany,
            "packet.answers_shown",
        ));
    }
    for (index, intent) in packet.answers_shown.iter().enumerate() {
        check_id(intent, &format!("packet.answers_shown[{index}]"), limits)?;
    }
    if let Some(guess) = &packet.intent {
        check_id(&guess.intent, "packet.intent.intent", limits)?;
        if !(0.0..=1.0).contains(&guess.confidence) {
            return Err(RelayError::new(
                RelayErrorKind::OutOfRange,
                "packet.intent.confidence",
            ));
        }
    }
    if packet.language.len() > 35 {
        return Err(RelayError::new(RelayErrorKind::TooLong, "packet.language"));
    }
    Ok(())
}

/// Checks one id from a client (a query parameter, say): non-empty, at most
/// `limits.max_id_len` bytes, only `[A-Za-z0-9_-]`.
pub fn validate_id(value: &str, field: &str, limits: &Limits) -> Result<(), RelayError> {
    check_id(value, field, limits)
}

/// Checks a live message (from the customer or an agent): a well-formed `client_id`
/// and non-empty text within the per-message limit.
pub fn validate_message(client_id: &str, text: &str) -> Result<(), RelayError> {
    let limits = Limits::default();
    check_id(client_id, "client_id", &limits)?;
    if text.trim().is_empty() {
        return Err(RelayError::new(RelayErrorKind::Empty, "text"));
    }
    if text.len() > limits.max_message_len {
        return Err(RelayError::new(RelayErrorKind::TooLong, "text"));
    }
    Ok(())
}

/// Checks an agent's closing note, which the customer sees: within the summary limit.
pub fn validate_resolution(resolution: Option<&str>) -> Result<(), RelayError> {
    match resolution {
        Some(text) if text.len() > Limits::default().max_summary_len => {
            Err(RelayError::new(RelayErrorKind::TooLong, "resolution"))
        }
        _ => Ok(()),
    }
}

/// Checks a CSAT rating: 1 to 5, and a comment within the per-message limit.
pub fn validate_csat(rating: u8, comment: &str) -> Result<(), RelayError> {
    if !(1..=5).contains(&rating) {
        return Err(RelayError::new(RelayErrorKind::OutOfRange, "rating"));
    }
    if comment.len() > Limits::default().max_message_len {
        return Err(RelayError::new(RelayErrorKind::TooLong, "comment"));
    }
    Ok(())
}

/// Accepts a withdrawal (`POST /v1/escalations/withdraw`): the ids of the escalation it
/// names, checked as the escalation's own are.
pub fn validate_withdrawal(
    withdrawal: &EscalationWithdrawal,
    limits: &Limits,
) -> Result<(), RelayError> {
    check_escalation_ids(
        &withdrawal.site,
        &withdrawal.visitor_id,
        &withdrawal.idempotency_key,
        limits,
    )
}

fn check_escalation_ids(
    site: &str,
    visitor_id: &str,
    idempotency_key: &str,
    limits: &Limits,
) -> Result<(), RelayError> {
    check_id(site, "site", limits)?;
    check_id(visitor_id, "visitor_id", limits)?;
    check_id(idempotency_key, "idempotency_key", limits)
}

fn check_id(value: &str, field: &str, limits: &Limits) -> Result<(), RelayError> {
    if value.is_empty() {
        return Err(RelayError::new(RelayErrorKind::Empty, field));
    }
    if value.len() > limits.max_id_len {
        return Err(RelayError::new(RelayErrorKind::TooLong, field));
    }
    if !value.bytes().all(baton_protocol::is_id_byte) {
        return Err(RelayError::new(RelayErrorKind::BadId, field));
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use baton_protocol::{Author, HandoffPacket, IntentGuess, TranscriptEntry};

    fn request() -> EscalationRequest {
        EscalationRequest {
            site: "demo".into(),
            visitor_id: "visitor-1".into(),
            idempotency_key: "key_1".into(),
            packet: HandoffPacket {
                transcript: vec![TranscriptEntry {
                    author: Author::Customer,
                    text: "where is my card".into(),
                    at_ms: 1,
                }],
                ..HandoffPacket::default()
            },
            identity: None,
        }
    }

    #[test]
    fn accepts_a_well_formed_request() {
        assert_eq!(validate_escalation(&request(), &Limits::default()), Ok(()));
    }

    #[test]
    fn names_the_field_of_an_oversized_message() {
        let mut req = request();
        req.packet.transcript[0].text = "x".repeat(4_001);
        let err = validate_escalation(&req, &Limits::default()).unwrap_err();
        assert_eq!(err.field, "packet.transcript[0].text");
        assert_eq!(err.code(), "field_too_long");
    }

    #[test]
    fn refuses_ids_with_odd_characters_without_echoing_them() {
        let mut req = request();
        req.site = "de mo<script>".into();
        let err = validate_escalation(&req, &Limits::default()).unwrap_err();
        assert_eq!(err.code(), "invalid_id");
        assert!(!err.to_string().contains("script"));
    }

    #[test]
    fn refuses_confidence_outside_unit_interval() {
        let mut req = request();
        req.packet.intent = Some(IntentGuess {
            intent: "card_arrival".into(),
            confidence: 1.5,
        });
        let err = validate_escalation(&req, &Limits::default()).unwrap_err();
        assert_eq!(err.field, "packet.intent.confidence");
    }

    #[test]
    fn live_messages_need_an_id_and_bounded_text() {
        assert_eq!(validate_message("m-1", "hello"), Ok(()));
        assert_eq!(
            validate_message("", "hello").unwrap_err().field,
            "client_id"
        );
        assert_eq!(
            validate_message("m-1", "  ").unwrap_err().code(),
            "empty_field"
        );
        let long = "x".repeat(4_001);
        assert_eq!(
            validate_message("m-1", &long).unwrap_err().code(),
            "field_too_long"
        );
    }

    #[test]
    fn csat_is_one_to_five() {
        assert_eq!(validate_csat(1, ""), Ok(()));
        assert_eq!(validate_csat(5, "great"), Ok(()));
        for bad in [0, 6, 255] {
            assert_eq!(validate_csat(bad, "").unwrap_err().field, "rating");
        }
    }

    #[test]
    fn resolution_notes_are_bounded() {
        assert_eq!(validate_resolution(None), Ok(()));
        assert_eq!(validate_resolution(Some("Refund issued")), Ok(()));
        let long = "x".repeat(Limits::default().max_summary_len + 1);
        assert_eq!(
            validate_resolution(Some(&long)).unwrap_err().field,
            "resolution"
        );
    }

    #[test]
    fn refuses_empty_visitor() {
        let mut req = request();
        req.visitor_id.clear();
        assert_eq!(
            validate_escalation(&req, &Limits::default())
                .unwrap_err()
                .code(),
            "empty_field"
        );
    }
}
