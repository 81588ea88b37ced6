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
    pub(crate) fn new(kind: RelayErrorKind, field: impl Into<String>) -> Self {
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
    /// A webhook URL is neither `https://` nor `http://` to a loopback host.
    #[error("must be an https:// URL (http:// only for 127.0.0.1, localhost or [::1])")]
    BadWebhookUrl,
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
            RelayErrorKind::BadWebhookUrl => "bad_webhook_url",
        }
    }
}
