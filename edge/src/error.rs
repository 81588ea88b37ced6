//! The edge's one error type, and the one place it becomes an HTTP response.

use baton_protocol::{ApiError, ApiErrorBody};
use baton_relay::RelayError;
use thiserror::Error;
use worker::{Headers, Response};

/// Everything that can go wrong while handling a request.
///
/// Messages never include customer text: the client's own mistakes are described by
/// field and position, and internal failures are logged by kind and answered with a
/// generic message.
#[derive(Debug, Error)]
pub enum EdgeError {
    /// The body is not JSON of the expected shape. The message names the line, column
    /// and field, never the value.
    #[error("request body is not valid: {0}")]
    BadRequestBody(String),
    /// A field breaks a rule (size, format, range).
    #[error("field `{}` {}", .0.field, .0.kind)]
    Invalid(#[from] RelayError),
    /// The body is larger than the API accepts.
    #[error("request body is larger than {limit} bytes")]
    PayloadTooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// The body's content type is not JSON.
    #[error("content type must be application/json")]
    UnsupportedMediaType,
    /// The site id is not configured on this edge.
    #[error("site `{0}` is not configured on this Baton edge")]
    UnknownSite(String),
    /// The page's origin is not allowed to use this site.
    #[error("this page's origin may not use site `{0}`")]
    OriginNotAllowed(String),
    /// No conversation with that id on that site.
    #[error("no such conversation on this site")]
    UnknownConversation,
    /// The conversation has ended; it takes no more messages.
    #[error("this conversation has ended")]
    ConversationClosed,
    /// The customer withdrew this escalation (`POST /v1/escalations/withdraw`) before
    /// it arrived.
    #[error(
        "this escalation was withdrawn by the customer; a new one needs a new idempotency_key"
    )]
    EscalationWithdrawn,
    /// The customer already rated this conversation.
    #[error("this conversation has already been rated")]
    AlreadyRated,
    /// The live channel needs a WebSocket upgrade.
    #[error("this endpoint needs a WebSocket upgrade (`Upgrade: websocket`)")]
    UpgradeRequired,
    /// A query parameter is malformed.
    #[error("query parameter `{0}` is not valid")]
    BadQuery(&'static str),
    /// The query parameters are missing or of the wrong type.
    #[error("query parameters are not valid: {0}")]
    BadQueryParameters(&'static str),
    /// Too many requests from this visitor or site.
    #[error("too many requests; retry after {retry_after_seconds} s")]
    RateLimited {
        /// When the client may try again.
        retry_after_seconds: u32,
    },
    /// No agent with that id (a transfer's target) works on the site.
    #[error("no agent with that id works on this site")]
    UnknownAgent,
    /// No webhook delivery with that id on that site.
    #[error("no webhook delivery `{0}` on this site")]
    UnknownDelivery(String),
    /// Only dead letters can be replayed.
    #[error("webhook delivery `{0}` is still pending, not dead-lettered")]
    NotDeadLettered(String),
    /// No agent token, or a wrong one.
    #[error("missing or invalid agent token")]
    Unauthorized,
    /// A helpdesk's signed request whose signature does not match the site's secret.
    #[error("the request's webhook-signature does not match the site's webhook secret")]
    BadSignature,
    /// A helpdesk's signed request whose `webhook-timestamp` is too far from now.
    #[error("the request's webhook-timestamp is more than 5 minutes from now")]
    SignatureExpired,
    /// A helpdesk's signed request whose `webhook-id` was used before.
    #[error("the request's webhook-id was used before")]
    SignatureReplayed,
    /// A helpdesk's signed request acting on another site than the one that signed it.
    #[error("a request signed for site `{0}` may act on that site only")]
    SiteNotAllowed(String),
    /// An agent acting on a site that is not among their `sites`.
    #[error("this agent does not work on site `{0}`")]
    AgentNotOnSite(String),
    /// No such route.
    #[error("no such endpoint")]
    NotFound,
    /// The route exists but not for this method.
    #[error("method not allowed on this endpoint")]
    MethodNotAllowed,
    /// A failure inside the platform; details go to the log, not to the client.
    #[error("internal error")]
    Internal(#[from] worker::Error),
}

impl EdgeError {
    fn status_and_code(&self) -> (u16, &'static str) {
        match self {
            EdgeError::BadRequestBody(_) => (400, "invalid_body"),
            EdgeError::Invalid(err) if err.kind.is_conflict() => (409, err.code()),
            EdgeError::Invalid(err) if err.kind.is_unauthorized() => (401, err.code()),
            // The operator's settings are wrong: not the client's fault.
            EdgeError::Invalid(err) if err.kind.is_operators_fault() => (500, err.code()),
            EdgeError::Invalid(err) => (422, err.code()),
            EdgeError::PayloadTooLarge { .. } => (413, "payload_too_large"),
            EdgeError::UnsupportedMediaType => (415, "unsupported_media_type"),
            EdgeError::UnknownSite(_) => (404, "unknown_site"),
            EdgeError::OriginNotAllowed(_) => (403, "origin_not_allowed"),
            EdgeError::UnknownConversation => (404, "unknown_conversation"),
            EdgeError::ConversationClosed => (409, "conversation_closed"),
            EdgeError::AlreadyRated => (409, "already_rated"),
            EdgeError::EscalationWithdrawn => (409, "escalation_withdrawn"),
            EdgeError::UpgradeRequired => (426, "upgrade_required"),
            EdgeError::BadQuery(_) | EdgeError::BadQueryParameters(_) => (400, "invalid_query"),
            EdgeError::RateLimited { .. } => (429, "rate_limited"),
            EdgeError::UnknownAgent => (404, "unknown_agent"),
            EdgeError::UnknownDelivery(_) => (404, "unknown_delivery"),
            EdgeError::NotDeadLettered(_) => (409, "not_dead_lettered"),
            EdgeError::BadSignature => (401, "bad_signature"),
            EdgeError::SignatureExpired => (401, "signature_expired"),
            EdgeError::SignatureReplayed => (401, "signature_replayed"),
            EdgeError::SiteNotAllowed(_) => (403, "site_not_allowed"),
            EdgeError::AgentNotOnSite(_) => (403, "site_not_allowed"),
            EdgeError::Unauthorized => (401, "unauthorized"),
            EdgeError::NotFound => (404, "not_found"),
            EdgeError::MethodNotAllowed => (405, "method_not_allowed"),
            EdgeError::Internal(_) => (500, "internal"),
        }
    }

    /// The `{"error":{"code","message"}}` response for this error.
    pub fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        if let EdgeError::Internal(inner) = &self {
            // The platform's error text describes our code, not the customer's words.
            worker::console_error!("internal error: {inner}");
        }
        let body = ApiError {
            error: ApiErrorBody {
                code: code.to_owned(),
                message: self.to_string(),
            },
        };
        let json = serde_json::to_vec(&body).unwrap_or_default();
        let headers = Headers::new();
        // Setting a well-formed header on fresh headers cannot fail.
        let _ = headers.set("content-type", "application/json");
        if let EdgeError::RateLimited {
            retry_after_seconds,
        } = &self
        {
            let _ = headers.set("retry-after", &retry_after_seconds.to_string());
        }
        Response::builder()
            .with_status(status)
            .with_headers(headers)
            .fixed(json)
    }
}
