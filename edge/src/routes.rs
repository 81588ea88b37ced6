//! The public HTTP API under `/v1`.

use baton_protocol::{AgentProfile, EscalationRequest, EscalationWithdrawal, MAX_BODY_BYTES};
use baton_relay::{
    describe_json_error, validate_escalation, validate_id, validate_withdrawal, verify_identity,
    Limits, RelayError, RelayErrorKind, SiteConfig, SiteDirectory, SiteSecrets,
};
use baton_triage::redact_pii;
use futures_util::StreamExt;
use serde::Serialize;
use wasm_bindgen::prelude::wasm_bindgen;
use worker::{Env, Headers, Method, Request, RequestInit, Response, Stub};

use crate::agent;
use crate::conversation::CONVERSATION_BINDING;
use crate::error::EdgeError;
use crate::site_queue::{NewEscalation, SITE_QUEUE_BINDING};

#[wasm_bindgen]
extern "C" {
    /// `crypto.randomUUID()`: 122 random bits from the platform's CSPRNG.
    #[wasm_bindgen(js_namespace = crypto, js_name = randomUUID)]
    fn random_uuid() -> String;
}

/// Answers one request; never fails, errors become error responses.
pub(crate) async fn handle(request: Request, env: &Env) -> Response {
    let origin = request.headers().get("origin").ok().flatten();
    let path = request.path();
    let is_widget_route = path == "/v1/escalations"
        || path == "/v1/escalations/withdraw"
        || path == "/v1/feedback"
        || path == "/v1/availability"
        || path.starts_with("/v1/conversations/");
    let result = route(request, env, origin.as_deref()).await;
    let response = result.unwrap_or_else(EdgeError::into_response);
    match (is_widget_route, origin) {
        (true, Some(origin)) if response.status_code() != 101 => with_cors(response, &origin),
        _ => response,
    }
}

async fn route(request: Request, env: &Env, origin: Option<&str>) -> Result<Response, EdgeError> {
    let path = request.path();
    match (request.method(), path.as_str()) {
        (Method::Get, "/v1/health") => json_response(200, &serde_json::json!({ "ok": true })),
        (Method::Options, "/v1/escalations" | "/v1/escalations/withdraw" | "/v1/feedback") => {
            Ok(Response::builder().with_status(204).empty())
        }
        (Method::Post, "/v1/escalations") => create_escalation(request, env, origin).await,
        (Method::Post, "/v1/escalations/withdraw") => {
            withdraw_escalation(request, env, origin).await
        }
        (Method::Post, "/v1/feedback") => bot_feedback(request, env, origin).await,
        (Method::Get, "/v1/availability") => availability(&request, env, origin).await,
        (Method::Options, path) if path.starts_with("/v1/conversations/") => {
            Ok(Response::builder().with_status(204).empty())
        }
        (_, path) if path.starts_with("/v1/conversations/") => {
            customer_conversation(request, env, origin).await
        }
        (_, webhooks) if webhooks.starts_with("/v1/agent/webhooks") => {
            crate::webhook::route(request, env).await
        }
        (_, path) if path.starts_with("/v1/agent/") => agent::route(request, env).await,
        (
            _,
            "/v1/health"
            | "/v1/escalations"
            | "/v1/escalations/withdraw"
            | "/v1/feedback"
            | "/v1/availability",
        ) => Err(EdgeError::MethodNotAllowed),
        _ => Err(EdgeError::NotFound),
    }
}

async fn create_escalation(
    mut request: Request,
    env: &Env,
    origin: Option<&str>,
) -> Result<Response, EdgeError> {
    let mut escalation: EscalationRequest = read_json(&mut request).await?;
    validate_escalation(&escalation, &Limits::default())?;
    let sites = site_directory(env)?;
    let site = sites
        .get(&escalation.site)
        .ok_or_else(|| EdgeError::UnknownSite(escalation.site.clone()))?;
    if let Some(origin) = origin {
        if !site.allows_origin(origin) {
            return Err(EdgeError::OriginNotAllowed(escalation.site.clone()));
        }
    }
    check_identity(env, site, &mut escalation)?;
    redact_packet(&mut escalation);
    let new = NewEscalation {
        conversation_id: random_uuid(),
        customer_token: format!("{}{}", random_uuid(), random_uuid()).replace('-', ""),
        now_ms: worker::Date::now().as_millis(),
        request: escalation,
    };
    let stub = env
        .durable_object(SITE_QUEUE_BINDING)?
        .get_by_name(&new.request.site)?;
    Ok(stub
        .fetch_with_request(internal_request("/escalations", Method::Post, Some(&new))?)
        .await?)
}

/// `POST /v1/escalations/withdraw`: the customer ended the chat without knowing whether
/// an escalation arrived. The site's queue ends the conversation it created, or refuses
/// the escalation if it comes later.
async fn withdraw_escalation(
    mut request: Request,
    env: &Env,
    origin: Option<&str>,
) -> Result<Response, EdgeError> {
    let withdrawal: EscalationWithdrawal = read_json(&mut request).await?;
    validate_withdrawal(&withdrawal, &Limits::default())?;
    check_origin(env, &withdrawal.site, origin)?;
    let stub = configured_site_queue(env, &withdrawal.site)?;
    Ok(stub
        .fetch_with_request(internal_request(
            "/escalations/withdraw",
            Method::Post,
            Some(&withdrawal),
        )?)
        .await?)
}

/// The customer's routes on their conversation, `/v1/conversations/{id}/{action}`:
/// checked here for site and origin, then answered by the conversation's own object,
/// which checks the customer token.
async fn customer_conversation(
    request: Request,
    env: &Env,
    origin: Option<&str>,
) -> Result<Response, EdgeError> {
    let path = request.path();
    let mut segments = path.trim_start_matches("/v1/conversations/").split('/');
    let (Some(id), Some(_action), None) = (segments.next(), segments.next(), segments.next())
    else {
        return Err(EdgeError::NotFound);
    };
    validate_id(id, "conversation", &Limits::default())?;
    let site = site_query(&request)?;
    check_origin(env, &site, origin)?;
    let stub = env.durable_object(CONVERSATION_BINDING)?.get_by_name(id)?;
    Ok(stub.fetch_with_request(request).await?)
}

/// `GET /v1/availability?site=…`: how many of the site's people are online, so the
/// widget can say so before the customer sends their conversation to a person.
async fn availability(
    request: &Request,
    env: &Env,
    origin: Option<&str>,
) -> Result<Response, EdgeError> {
    let site = site_query(request)?;
    check_origin(env, &site, origin)?;
    let stub = configured_site_queue(env, &site)?;
    let path = format!("/availability?site={site}");
    Ok(stub
        .fetch_with_request(internal_request(&path, Method::Get, None::<&()>)?)
        .await?)
}

/// The `site` query parameter, validated.
fn site_query(request: &Request) -> Result<String, EdgeError> {
    #[derive(serde::Deserialize)]
    struct SiteQuery {
        site: String,
    }
    let query: SiteQuery = request.query().map_err(|_| EdgeError::BadQuery("site"))?;
    validate_id(&query.site, "site", &Limits::default())?;
    Ok(query.site)
}

/// `POST /v1/feedback`: the customer said whether a knowledge-base answer helped. Only
/// the yes or no is counted; no text, no intent.
async fn bot_feedback(
    mut request: Request,
    env: &Env,
    origin: Option<&str>,
) -> Result<Response, EdgeError> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Feedback {
        site: String,
        helpful: bool,
    }
    let feedback: Feedback = read_json(&mut request).await?;
    validate_id(&feedback.site, "site", &Limits::default())?;
    check_origin(env, &feedback.site, origin)?;
    let stub = configured_site_queue(env, &feedback.site)?;
    let path = format!("/feedback?helpful={}", feedback.helpful);
    Ok(stub
        .fetch_with_request(internal_request(&path, Method::Post, None::<&()>)?)
        .await?)
}

/// A browser request must come from one of the site's allowed origins. Requests with
/// no `Origin` (servers, tests) are judged by their tokens alone.
fn check_origin(env: &Env, site: &str, origin: Option<&str>) -> Result<(), EdgeError> {
    let sites = site_directory(env)?;
    let config = sites
        .get(site)
        .ok_or_else(|| EdgeError::UnknownSite(site.to_owned()))?;
    match origin {
        Some(origin) if !config.allows_origin(origin) => {
            Err(EdgeError::OriginNotAllowed(site.to_owned()))
        }
        _ => Ok(()),
    }
}

/// The queue of a site this edge is configured for.
pub(crate) fn configured_site_queue(env: &Env, site: &str) -> Result<Stub, EdgeError> {
    if site_directory(env)?.get(site).is_none() {
        return Err(EdgeError::UnknownSite(site.to_owned()));
    }
    Ok(env.durable_object(SITE_QUEUE_BINDING)?.get_by_name(site)?)
}

/// Verifies `Baton.identify`'s hash with the site's secret. A site that requires
/// identity refuses escalations without a valid one; elsewhere an identity that
/// cannot be verified (no secret configured) is dropped rather than shown as true.
fn check_identity(
    env: &Env,
    site: &SiteConfig,
    escalation: &mut EscalationRequest,
) -> Result<(), EdgeError> {
    let secret = env
        .secret("BATON_IDENTITY_SECRETS")
        .ok()
        .and_then(|json| {
            serde_json::from_str::<std::collections::BTreeMap<String, String>>(&json.to_string())
                .ok()
        })
        .and_then(|mut secrets| secrets.remove(&escalation.site));
    match (escalation.identity.as_ref(), secret) {
        (Some(identity), Some(secret)) => verify_identity(identity, &secret)?,
        (None, _) if site.require_identity => {
            return Err(RelayError::new(RelayErrorKind::IdentityRequired, "identity").into());
        }
        (Some(_), None) if site.require_identity => {
            return Err(
                RelayError::new(RelayErrorKind::BadConfig, "BATON_IDENTITY_SECRETS").into(),
            );
        }
        (Some(_), None) => escalation.identity = None,
        (None, _) => {}
    }
    Ok(())
}

/// Masks personal data the widget may have missed (or a client that is not our widget
/// never masked) before anything is stored.
fn redact_packet(escalation: &mut EscalationRequest) {
    let packet = &mut escalation.packet;
    for entry in &mut packet.transcript {
        entry.text = redact_pii(&entry.text).text;
    }
    packet.summary = redact_pii(&packet.summary).text;
}

/// The agent a bearer token belongs to, for routes outside `agent.rs`; each checks the
/// site it acts on ([`AgentProfile::works_on`]).
pub(crate) fn authorize_agent(request: &Request, env: &Env) -> Result<AgentProfile, EdgeError> {
    agent::authenticate(request, env)
}

pub(crate) fn site_directory(env: &Env) -> Result<SiteDirectory, EdgeError> {
    let json = env.var("BATON_SITES")?.to_string();
    Ok(SiteDirectory::from_json(&json)?)
}

/// The webhook secrets of `site` from `BATON_WEBHOOK_SECRETS`; `None` when the setting or
/// the site's entry is missing.
pub(crate) fn site_webhook_secrets(
    env: &Env,
    site: &str,
) -> Result<Option<SiteSecrets>, EdgeError> {
    match env.var("BATON_WEBHOOK_SECRETS") {
        Ok(json) => Ok(baton_relay::site_webhook_secrets(&json.to_string(), site)?),
        Err(_) => Ok(None),
    }
}

pub(crate) async fn read_json<T: serde::de::DeserializeOwned>(
    request: &mut Request,
) -> Result<T, EdgeError> {
    let json = is_json(request);
    if !json {
        return Err(EdgeError::UnsupportedMediaType);
    }
    let body = read_body(request).await?;
    parse_json(&body)
}

/// As [`read_json`], where no body at all means `T::default()`.
pub(crate) async fn read_json_or_nothing<T: serde::de::DeserializeOwned + Default>(
    request: &mut Request,
) -> Result<T, EdgeError> {
    let json = is_json(request);
    let body = read_body(request).await?;
    match body.iter().all(u8::is_ascii_whitespace) {
        true => Ok(T::default()),
        false if json => parse_json(&body),
        false => Err(EdgeError::UnsupportedMediaType),
    }
}

fn is_json(request: &Request) -> bool {
    let content_type = request.headers().get("content-type").ok().flatten();
    content_type.is_some_and(|value| value.starts_with("application/json"))
}

fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, EdgeError> {
    serde_json::from_slice(body).map_err(|err| EdgeError::BadRequestBody(describe_json_error(&err)))
}

/// A body over [`MAX_BODY_BYTES`] is still read, up to this much, before it is refused:
/// a server that answers while the client is still sending closes the connection with
/// data unread, and the client may then get a reset instead of the `413` (seen with
/// `wrangler dev`). Larger bodies are refused at once.
const READ_BEFORE_REFUSING_BYTES: usize = 1024 * 1024;

/// The body's bytes, at most [`MAX_BODY_BYTES`] of them.
pub(crate) async fn read_body(request: &mut Request) -> Result<Vec<u8>, EdgeError> {
    let too_large = || EdgeError::PayloadTooLarge {
        limit: MAX_BODY_BYTES,
    };
    let declared = request
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|length| length.parse::<usize>().ok());
    if declared.is_some_and(|length| length > READ_BEFORE_REFUSING_BYTES) {
        return Err(too_large());
    }
    // A request without a body (`null` in JavaScript) has no stream: an empty body.
    let Ok(mut chunks) = request.stream() else {
        return Ok(Vec::new());
    };
    let mut body = Vec::new();
    let mut read = 0usize;
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk?;
        read = read.saturating_add(chunk.len());
        if read > READ_BEFORE_REFUSING_BYTES {
            break;
        }
        if read <= MAX_BODY_BYTES {
            body.extend_from_slice(&chunk);
        }
    }
    if read > MAX_BODY_BYTES {
        return Err(too_large());
    }
    Ok(body)
}

/// A request from this worker to one of its Durable Objects.
pub(crate) fn internal_request<T: Serialize>(
    path: &str,
    method: Method,
    body: Option<&T>,
) -> Result<Request, EdgeError> {
    let mut init = RequestInit::new();
    init.with_method(method);
    if let Some(body) = body {
        let json =
            serde_json::to_string(body).map_err(|err| worker::Error::RustError(err.to_string()))?;
        init.with_body(Some(json.into()));
    }
    Ok(Request::new_with_init(
        &format!("https://baton.internal{path}"),
        &init,
    )?)
}

/// The first value of a query parameter, decoded.
pub(crate) fn query_value(request: &Request, name: &str) -> Option<String> {
    request.url().ok().and_then(|url| {
        url.query_pairs()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned())
    })
}

/// A JSON response with the given status.
pub(crate) fn json_response<T: Serialize>(status: u16, value: &T) -> Result<Response, EdgeError> {
    Ok(Response::from_json(value)?.with_status(status))
}

fn with_cors(response: Response, origin: &str) -> Response {
    let headers = Headers::new();
    for (name, value) in response.headers().entries() {
        let _ = headers.set(&name, &value);
    }
    // The site's allowed origins were checked on the request itself; the browser only
    // needs to be told it may read the answer.
    let _ = headers.set("access-control-allow-origin", origin);
    let _ = headers.set("access-control-allow-methods", "GET, POST, OPTIONS");
    let _ = headers.set(
        "access-control-allow-headers",
        "content-type, authorization",
    );
    let _ = headers.set("access-control-max-age", "600");
    let _ = headers.set("vary", "origin");
    response.with_headers(headers)
}
