//! The public HTTP API under `/v1`.

use baton_protocol::{EscalationRequest, MAX_BODY_BYTES};
use baton_relay::{
    describe_json_error, tokens_match, validate_escalation, validate_id, Limits, SiteDirectory,
};
use baton_triage::redact_pii;
use serde::Serialize;
use wasm_bindgen::prelude::wasm_bindgen;
use worker::{Env, Headers, Method, Request, RequestInit, Response, Stub};

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
    let is_widget_route = path == "/v1/escalations";
    let result = route(request, env, origin.as_deref()).await;
    let response = result.unwrap_or_else(EdgeError::into_response);
    match (is_widget_route, origin) {
        (true, Some(origin)) => with_cors(response, &origin),
        _ => response,
    }
}

async fn route(request: Request, env: &Env, origin: Option<&str>) -> Result<Response, EdgeError> {
    let path = request.path();
    match (request.method(), path.as_str()) {
        (Method::Get, "/v1/health") => json_response(200, &serde_json::json!({ "ok": true })),
        (Method::Options, "/v1/escalations") => Ok(Response::builder().with_status(204).empty()),
        (Method::Post, "/v1/escalations") => create_escalation(request, env, origin).await,
        (Method::Get, "/v1/agent/queue") => agent_queue(request, env).await,
        (Method::Get, "/v1/agent/packet") => agent_packet(request, env).await,
        (_, webhooks) if webhooks.starts_with("/v1/agent/webhooks") => {
            crate::webhook::route(request, env).await
        }
        (_, "/v1/health" | "/v1/escalations" | "/v1/agent/queue" | "/v1/agent/packet") => {
            Err(EdgeError::MethodNotAllowed)
        }
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
    let mut response = stub
        .fetch_with_request(internal_request("/escalations", Method::Post, Some(&new))?)
        .await?;
    crate::webhook::relay_escalation_created(env, site, &new, &mut response).await;
    Ok(response)
}

async fn agent_queue(request: Request, env: &Env) -> Result<Response, EdgeError> {
    authorize_agent(&request, env)?;
    #[derive(serde::Deserialize)]
    struct QueueQuery {
        site: String,
    }
    let query: QueueQuery = request
        .query()
        .map_err(|_| EdgeError::BadRequestBody("query parameter `site` is required".to_owned()))?;
    let stub = configured_site_queue(env, &query.site)?;
    let response = stub
        .fetch_with_request(internal_request("/queue", Method::Get, None::<&()>)?)
        .await?;
    Ok(response)
}

/// The full handoff packet of one conversation, for the agent who takes it.
async fn agent_packet(request: Request, env: &Env) -> Result<Response, EdgeError> {
    authorize_agent(&request, env)?;
    #[derive(serde::Deserialize)]
    struct PacketQuery {
        site: String,
        conversation: String,
    }
    let query: PacketQuery = request.query().map_err(|_| {
        EdgeError::BadRequestBody(
            "query parameters `site` and `conversation` are required".to_owned(),
        )
    })?;
    validate_id(&query.site, "site", &Limits::default())?;
    validate_id(&query.conversation, "conversation", &Limits::default())?;
    let stub = configured_site_queue(env, &query.site)?;
    let path = format!("/packet?conversation={}", query.conversation);
    let response = stub
        .fetch_with_request(internal_request(&path, Method::Get, None::<&()>)?)
        .await?;
    Ok(response)
}

/// The queue of a site this edge is configured for.
fn configured_site_queue(env: &Env, site: &str) -> Result<Stub, EdgeError> {
    if site_directory(env)?.get(site).is_none() {
        return Err(EdgeError::UnknownSite(site.to_owned()));
    }
    Ok(env.durable_object(SITE_QUEUE_BINDING)?.get_by_name(site)?)
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

pub(crate) fn authorize_agent(request: &Request, env: &Env) -> Result<(), EdgeError> {
    let expected = env
        .secret("BATON_AGENT_TOKEN")
        .map_err(|_| EdgeError::Unauthorized)?
        .to_string();
    let presented = request
        .headers()
        .get("authorization")
        .ok()
        .flatten()
        .and_then(|value| value.strip_prefix("Bearer ").map(str::to_owned))
        .ok_or(EdgeError::Unauthorized)?;
    if expected.is_empty() || !tokens_match(&presented, &expected) {
        return Err(EdgeError::Unauthorized);
    }
    Ok(())
}

pub(crate) fn site_directory(env: &Env) -> Result<SiteDirectory, EdgeError> {
    let json = env.var("BATON_SITES")?.to_string();
    Ok(SiteDirectory::from_json(&json)?)
}

pub(crate) async fn read_json<T: serde::de::DeserializeOwned>(
    request: &mut Request,
) -> Result<T, EdgeError> {
    let content_type = request
        .headers()
        .get("content-type")
        .ok()
        .flatten()
        .unwrap_or_default();
    if !content_type.starts_with("application/json") {
        return Err(EdgeError::UnsupportedMediaType);
    }
    let declared = request
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|length| length.parse::<usize>().ok());
    if declared.is_some_and(|length| length > MAX_BODY_BYTES) {
        return Err(EdgeError::PayloadTooLarge {
            limit: MAX_BODY_BYTES,
        });
    }
    let body = request.bytes().await?;
    if body.len() > MAX_BODY_BYTES {
        return Err(EdgeError::PayloadTooLarge {
            limit: MAX_BODY_BYTES,
        });
    }
    serde_json::from_slice(&body)
        .map_err(|err| EdgeError::BadRequestBody(describe_json_error(&err)))
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
    let _ = headers.set("access-control-allow-methods", "POST, OPTIONS");
    let _ = headers.set("access-control-allow-headers", "content-type");
    let _ = headers.set("access-control-max-age", "600");
    let _ = headers.set("vary", "origin");
    response.with_headers(headers)
}
