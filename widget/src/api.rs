//! Calls from the widget to the edge.

use baton_protocol::{
    ApiError, CsatRating, CustomerMessage, EscalationAccepted, EscalationRequest,
};
use gloo::net::http::{Request, RequestBuilder};
use serde::Serialize;

/// POSTs an escalation; the error is a short sentence for the customer's screen.
pub async fn send_escalation(
    endpoint: &str,
    request: &EscalationRequest,
) -> Result<EscalationAccepted, String> {
    let url = format!("{endpoint}/v1/escalations");
    let response = post_json(Request::post(&url), request).await?;
    response
        .json::<EscalationAccepted>()
        .await
        .map_err(|_| "unexpected answer".to_owned())
}

/// POSTs a customer message; the edge stores each `client_id` once, so sending it
/// again after a failure is safe.
pub async fn send_message(
    endpoint: &str,
    site: &str,
    accepted: &EscalationAccepted,
    message: &CustomerMessage,
) -> Result<(), String> {
    let url = conversation_url(endpoint, site, accepted, "messages");
    post_json(authorized(Request::post(&url), accepted), message)
        .await
        .map(drop)
}

/// Tells the edge the customer ended the conversation.
pub async fn end_conversation(
    endpoint: &str,
    site: &str,
    accepted: &EscalationAccepted,
) -> Result<(), String> {
    let url = conversation_url(endpoint, site, accepted, "close");
    post_json(
        authorized(Request::post(&url), accepted),
        &serde_json::json!({}),
    )
    .await
    .map(drop)
}

/// Sends the customer's rating.
pub async fn send_rating(
    endpoint: &str,
    site: &str,
    accepted: &EscalationAccepted,
    rating: &CsatRating,
) -> Result<(), String> {
    let url = conversation_url(endpoint, site, accepted, "csat");
    post_json(authorized(Request::post(&url), accepted), rating)
        .await
        .map(drop)
}

/// Counts a "did this help?" answer: only the site and yes or no are sent.
pub async fn send_feedback(endpoint: &str, site: &str, helpful: bool) -> Result<(), String> {
    let url = format!("{endpoint}/v1/feedback");
    let body = serde_json::json!({ "site": site, "helpful": helpful });
    post_json(Request::post(&url), &body).await.map(drop)
}

/// The live channel's WebSocket URL. Browsers cannot set headers on a WebSocket, so
/// the customer token goes in the query.
pub fn live_url(endpoint: &str, site: &str, accepted: &EscalationAccepted, after: u64) -> String {
    let base = endpoint
        .replacen("https://", "wss://", 1)
        .replacen("http://", "ws://", 1);
    format!(
        "{}&token={}&after={after}",
        conversation_url(&base, site, accepted, "live"),
        accepted.customer_token
    )
}

fn conversation_url(
    endpoint: &str,
    site: &str,
    accepted: &EscalationAccepted,
    action: &str,
) -> String {
    format!(
        "{endpoint}/v1/conversations/{}/{action}?site={site}",
        accepted.conversation_id
    )
}

fn authorized(request: RequestBuilder, accepted: &EscalationAccepted) -> RequestBuilder {
    request.header(
        "authorization",
        &format!("Bearer {}", accepted.customer_token),
    )
}

/// Sends JSON; any answer but 2xx becomes the API's error code, or `HTTP n`.
async fn post_json<T: Serialize>(
    request: RequestBuilder,
    body: &T,
) -> Result<gloo::net::http::Response, String> {
    let response = request
        .json(body)
        .map_err(|_| "could not prepare the request".to_owned())?
        .send()
        .await
        .map_err(|_| "network unreachable".to_owned())?;
    if response.ok() {
        return Ok(response);
    }
    let code = response
        .json::<ApiError>()
        .await
        .map(|e| e.error.code)
        .unwrap_or_else(|_| format!("HTTP {}", response.status()));
    Err(code)
}

/// Downloads the site's model file.
pub async fn fetch_model(url: &str) -> Result<Vec<u8>, String> {
    let response = Request::get(url)
        .send()
        .await
        .map_err(|_| "network unreachable".to_owned())?;
    if !response.ok() {
        return Err(format!("HTTP {}", response.status()));
    }
    response
        .binary()
        .await
        .map_err(|_| "could not read the model".to_owned())
}
