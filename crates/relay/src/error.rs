//! The one error type of this crate.

use thiserror::Error;

/// Something a client sent that the edge refuses, with where it was wrong.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{kind}: {field}")]
pub struct RelayError {
    /// What kind of problem it is.
    pub kind: RelayErrorKind,
    /// Where: a field path such as `packet.transcript[3].text`.
    pub field: String,
}

impl RelayError {
    /// A refusal of `kind` at `field`.
    pub fn new(kind: RelayErrorKind, field: impl Into<String>) -> Self {
        RelayError {
            kind,
            field: field.into(),
        }
    }

    /// The stable error code clients can branch on.
    pub fn code(&self) -> &'static str {
        self.kind.code()
    }
}

/// The kinds of refusal, each with a stable code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum RelayErrorKind {
    /// A required field is empty.
    #[error("must not be empty")]
    Empty,
    /// A field is longer than its limit.
    #[error("is too long")]
    TooLong,
    /// A list has more items than its limit.
    #[error("has too many items")]
    TooMany,
    /// An id holds characters outside `[A-Za-z0-9_-]`.
    #[error("may only contain letters, digits, '-' and '_'")]
    BadId,
    /// A number is outside its range.
    #[error("is out of range")]
    OutOfRange,
    /// The operator's configuration could not be read.
    #[error("is not valid configuration")]
    BadConfig,
    /// Another agent holds the conversation.
    #[error("is held by another agent")]
    AlreadyClaimed,
    /// Nobody holds the conversation; claim it first.
    #[error("is not claimed by you; claim it first")]
    NotClaimed,
    /// The conversation is not waiting (taken, closed, or unknown).
    #[error("is not waiting in the queue")]
    NotInQueue,
    /// The agent already holds as many conversations as their capacity allows.
    #[error("already holds as many conversations as they take at once")]
    AtCapacity,
    /// The identity's hash does not match the site's secret.
    #[error("does not match the site's identity secret")]
    IdentityInvalid,
    /// The site requires a verified identity and none was sent.
    #[error("is required by this site (`Baton.identify` with a hash)")]
    IdentityRequired,
    /// A webhook URL is neither `https://` nor `http://` to a loopback host.
    #[error("must be an https:// URL (http:// only for 127.0.0.1, localhost or [::1])")]
    BadWebhookUrl,
}

impl RelayErrorKind {
    /// Whether this refusal is about the conversation's current state (HTTP 409)
    /// rather than the request's shape.
    pub fn is_conflict(self) -> bool {
        matches!(
            self,
            RelayErrorKind::AlreadyClaimed
                | RelayErrorKind::NotClaimed
                | RelayErrorKind::NotInQueue
                | RelayErrorKind::AtCapacity
        )
    }

    /// Whether this refusal is about the operator's configuration, not the request
    /// (HTTP 500): the caller can do nothing about it.
    pub fn is_operators_fault(self) -> bool {
        matches!(
            self,
            RelayErrorKind::BadConfig | RelayErrorKind::BadWebhookUrl
        )
    }

    /// Whether this refusal is about who the caller is (HTTP 401).
    pub fn is_unauthorized(self) -> bool {
        matches!(
            self,
            RelayErrorKind::IdentityInvalid | RelayErrorKind::IdentityRequired
        )
    }
}

impl RelayErrorKind {
    /// The stable `snake_case` code for the API's error body.
    pub fn code(self) -> &'static str {
        match self {
            RelayErrorKind::Empty => "empty_field",
            RelayErrorKind::TooLong => "field_too_long",
            RelayErrorKind::TooMany => "too_many_items",
            RelayErrorKind::BadId => "invalid_id",
            RelayErrorKind::OutOfRange => "out_of_range",
            RelayErrorKind::BadConfig => "bad_config",
            RelayErrorKind::AlreadyClaimed => "already_claimed",
            RelayErrorKind::NotClaimed => "not_claimed",
            RelayErrorKind::NotInQueue => "not_in_queue",
            RelayErrorKind::AtCapacity => "at_capacity",
            RelayErrorKind::IdentityInvalid => "identity_invalid",
            RelayErrorKind::IdentityRequired => "identity_required",
            RelayErrorKind::BadWebhookUrl => "bad_webhook_url",
        }
    }
}
