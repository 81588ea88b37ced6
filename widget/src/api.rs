//! Calls from the widget to the edge, with the browser's `fetch`.

use baton_protocol::{
    ApiError, Availability, CsatRating, CustomerClose, CustomerClosed, CustomerMessage,
    EscalationAccepted, EscalationRequest, EscalationWithdrawal,
};
use serde::Serialize;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, RequestInit, Response};

use crate::json;

/// POSTs an escalation; the error is a short sentence for the customer's screen.
pub async fn send_escalation(
    endpoint: &str,
    request: &EscalationRequest,
) -> Result<EscalationAccepted, String> {
    let url = format!("{endpoint}/v1/escalations");
    let response = post_json(&url, None, json::to_text(request), Keepalive::No).await?;
    read_json(&response)
        .await
        .ok_or_else(|| "unexpected answer".to_owned())
}

/// Withdraws an escalation whose answer never came; sent even if the page is being
/// left.
pub async fn withdraw_escalation(
    endpoint: &str,
    withdrawal: &EscalationWithdrawal,
) -> Result<(), String> {
    let url = format!("{endpoint}/v1/escalations/withdraw");
    post_json(&url, None, json::to_text(withdrawal), Keepalive::Yes)
        .await
        .map(drop)
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
    let token = Some(accepted.customer_token.as_str());
    post_json(&url, token, json::to_text(message), Keepalive::No)
        .await
        .map(drop)
}

/// Tells the edge the customer ended the conversation, with the messages still on their
/// way (stored first); sent even if the page is being left. The answer lists the
/// messages not stored (an agent had closed the conversation first).
pub async fn end_conversation(
    endpoint: &str,
    site: &str,
    accepted: &EscalationAccepted,
    close: &CustomerClose,
) -> Result<Vec<String>, String> {
    let url = conversation_url(endpoint, site, accepted, "close");
    let token = Some(accepted.customer_token.as_str());
    let body = json::to_text(close);
    // Browsers refuse a request that outlives its page when its body is over 64 KiB.
    let keepalive = match &body {
        Some(body) if body.len() < KEEPALIVE_MAX_BYTES => Keepalive::Yes,
        _ => Keepalive::No,
    };
    let response = post_json(&url, token, body, keepalive).await?;
    let closed: Option<CustomerClosed> = read_json(&response).await;
    Ok(closed.map(|closed| closed.undelivered).unwrap_or_default())
}

/// The largest body sent with `keepalive` (the browsers' limit is 64 KiB for all such
/// requests in flight together).
const KEEPALIVE_MAX_BYTES: usize = 60 * 1024;

/// Sends the customer's rating.
pub async fn send_rating(
    endpoint: &str,
    site: &str,
    accepted: &EscalationAccepted,
    rating: &CsatRating,
) -> Result<(), String> {
    let url = conversation_url(endpoint, site, accepted, "csat");
    let token = Some(accepted.customer_token.as_str());
    post_json(&url, token, json::to_text(rating), Keepalive::Yes)
        .await
        .map(drop)
}

/// Counts a "did this help?" answer: only the site and yes or no are sent.
pub async fn send_feedback(endpoint: &str, site: &str, helpful: bool) -> Result<(), String> {
    #[derive(Serialize)]
    struct Feedback<'a> {
        site: &'a str,
        helpful: bool,
    }
    let url = format!("{endpoint}/v1/feedback");
    let body = json::to_text(&Feedback { site, helpful });
    post_json(&url, None, body, Keepalive::Yes).await.map(drop)
}

/// How many of the site's people are online; `None` when the edge could not say.
pub async fn availability(endpoint: &str, site: &str) -> Option<Availability> {
    let url = format!("{endpoint}/v1/availability?site={site}");
    let response = fetch(&url, &RequestInit::new()).await.ok()?;
    if !response.ok() {
        refusal(&response).await;
        return None;
    }
    read_json(&response).await
}

/// The live channel's WebSocket URL, without the customer token: browsers cannot set
/// headers on a WebSocket, so it goes as a subprotocol (`open_live`), not in the URL,
/// which proxies and request logs keep.
pub fn live_url(endpoint: &str, site: &str, accepted: &EscalationAccepted, after: u64) -> String {
    let base = endpoint
        .replacen("https://", "wss://", 1)
        .replacen("http://", "ws://", 1);
    format!(
        "{}&after={after}",
        conversation_url(&base, site, accepted, "live")
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

/// Whether a request outlives the page that sends it (`fetch`'s `keepalive`: for small
/// bodies only, as browsers cap what all such requests in flight may carry).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Keepalive {
    Yes,
    No,
}

/// POSTs JSON text (`None`: the value had no JSON form), with the customer's bearer
/// token if given; any answer but 2xx becomes the API's error code, or `HTTP n`.
async fn post_json(
    url: &str,
    token: Option<&str>,
    body: Option<String>,
    keepalive: Keepalive,
) -> Result<Response, String> {
    let init = body
        .and_then(|body| {
            let headers = Headers::new().ok()?;
            headers.set("content-type", "application/json").ok()?;
            if let Some(token) = token {
                let bearer = format!("Bearer {token}");
                headers.set("authorization", &bearer).ok()?;
            }
            let init = RequestInit::new();
            init.set_method("POST");
            init.set_headers(&headers);
            init.set_body(&JsValue::from_str(&body));
            if keepalive == Keepalive::Yes {
                // Not in web-sys's `RequestInit` (from Firefox's WebIDL); every browser
                // the widget supports has it.
                js_sys::Reflect::set(&init, &"keepalive".into(), &JsValue::TRUE).ok()?;
            }
            Some(init)
        })
        .ok_or_else(|| "could not prepare the request".to_owned())?;
    let response = fetch(url, &init).await?;
    if response.ok() {
        return Ok(response);
    }
    Err(refusal(&response).await)
}

/// A refused request's reason: the API's error code, or `HTTP n` when the answer was
/// not the API's. The edge's message says what to fix (an origin not allowed, a wrong
/// identity hash, an unknown site) and never holds customer text: the site's developer
/// reads it in the console.
async fn refusal(response: &Response) -> String {
    let Some(ApiError { error }) = read_json::<ApiError>(response).await else {
        return format!("HTTP {}", response.status());
    };
    gloo::console::error!(format!(
        "Baton: the edge refused the request ({} {}): {}",
        response.status(),
        error.code,
        error.message
    ));
    error.code
}

/// The response, whatever its status; an error only if the network failed.
async fn fetch(url: &str, init: &RequestInit) -> Result<Response, String> {
    let response = match web_sys::window() {
        Some(window) => JsFuture::from(window.fetch_with_str_and_init(url, init))
            .await
            .ok(),
        None => None,
    };
    response
        .and_then(|response| response.dyn_into::<Response>().ok())
        .ok_or_else(|| "network unreachable".to_owned())
}

/// The body parsed by the browser as JSON, then read as `T`.
async fn read_json<T: serde::de::DeserializeOwned>(response: &Response) -> Option<T> {
    let body = JsFuture::from(response.json().ok()?).await.ok()?;
    json::from_js(body)
}

/// Downloads the site's model file.
pub async fn fetch_model(url: &str) -> Result<Vec<u8>, String> {
    let response = fetch(url, &RequestInit::new()).await?;
    if !response.ok() {
        return Err(format!("HTTP {}", response.status()));
    }
    let body = match response.array_buffer() {
        Ok(promise) => JsFuture::from(promise).await.ok(),
        Err(_) => None,
    };
    body.map(|buffer| js_sys::Uint8Array::new(&buffer).to_vec())
        .ok_or_else(|| "could not read the model".to_owned())
}
