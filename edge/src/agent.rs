//! The agent API under `/v1/agent/`: the queue, the packet, the live thread, and the
//! actions (claim, release, transfer, reply, close). Every route needs an agent's
//! bearer token, which says who the agent is, or, from an external helpdesk, a request
//! signed with the site's webhook secret (`baton_relay::signed_request_payload`), which
//! may act on that site only.

use baton_protocol::{AgentClose, AgentProfile, AgentReply, AgentTarget, AgentTransfer};
use baton_relay::{
    helpdesk_agent_name, signed_request_payload, validate_id, AgentDirectory, Limits, RelayError,
    RelayErrorKind, WebhookRejection, AGENT_NAME_HEADER, DEFAULT_CUSTOMER_GRACE_MS,
    DEFAULT_LEASE_MS, DEFAULT_PRESENCE_MS, HELPDESK_AGENT_ID, SITE_HEADER,
};
use serde::Deserialize;
use worker::js_sys::Uint8Array;
use worker::{Env, Method, Request, RequestInit, Response};

use crate::conversation::CONVERSATION_BINDING;
use crate::error::EdgeError;
use crate::routes::{
    configured_site_queue, internal_request, json_response, read_body, read_json,
    site_webhook_secrets,
};
use crate::site_queue::{AgentCommand, AgentRequest, SignedRequestSeen};

/// Who calls the agent API: an agent with a token, or a helpdesk signing for one site.
struct Caller {
    agent: AgentProfile,
    /// For a signed request, the only site it may act on.
    only_site: Option<String>,
}

impl Caller {
    fn may_use(&self, site: &str) -> Result<(), EdgeError> {
        match &self.only_site {
            Some(own) if own != site => Err(EdgeError::SiteNotAllowed(own.clone())),
            _ => agent_works_on(&self.agent, site),
        }
    }
}

/// Refuses an agent acting on a site that is not among their `sites`.
pub(crate) fn agent_works_on(agent: &AgentProfile, site: &str) -> Result<(), EdgeError> {
    match agent.works_on(site) {
        true => Ok(()),
        false => Err(EdgeError::AgentNotOnSite(site.to_owned())),
    }
}

/// Answers a request whose path starts with `/v1/agent/`.
pub(crate) async fn route(request: Request, env: &Env) -> Result<Response, EdgeError> {
    let (caller, mut request) = identify_caller(request, env).await?;
    let path = request.path();
    let action = path.trim_start_matches("/v1/agent/");
    let agent = caller.agent.clone();
    match (request.method(), action) {
        (Method::Get, "me") => json_response(200, &agent),
        (Method::Get, "agents") => {
            // The colleagues who share a site with the caller (a helpdesk's: its site).
            let sites = match &caller.only_site {
                Some(site) => std::slice::from_ref(site),
                None => agent.sites.as_slice(),
            };
            let mut profiles = directory(env)?.profiles();
            if !sites.is_empty() {
                profiles.retain(|other| sites.iter().any(|site| other.works_on(site)));
            }
            json_response(200, &profiles)
        }
        (Method::Get, "queue") => {
            let query: QueueQuery = query(&request, "`site` is required")?;
            caller.may_use(&query.site)?;
            // Routing by language and skill: the agent's own first (`route_for_agent`);
            // asking also keeps the agent online for the waiting customers.
            let mut url = worker::Url::parse("https://queue/queue").map_err(worker::Error::from)?;
            url.query_pairs_mut()
                .append_pair("site", &query.site)
                .append_pair("agent", &agent.id)
                .append_pair("languages", &agent.languages.join(","))
                .append_pair("skills", &agent.skills.join(","))
                .append_pair("away", if query.away { "true" } else { "false" });
            let path = format!("/queue?{}", url.query().unwrap_or_default());
            forward(env, &query.site, &path).await
        }
        (Method::Get, "analytics") => {
            let query: SiteQuery = query(&request, "`site` is required")?;
            caller.may_use(&query.site)?;
            forward(env, &query.site, "/analytics").await
        }
        (Method::Get, "packet") => {
            let query: ConversationQuery = conversation_query(&request)?;
            caller.may_use(&query.site)?;
            let path = format!("/packet?conversation={}", query.conversation);
            forward(env, &query.site, &path).await
        }
        (Method::Get, "events") => {
            let query: ConversationQuery = conversation_query(&request)?;
            caller.may_use(&query.site)?;
            configured_site_queue(env, &query.site)?;
            let path = format!(
                "/internal/events?site={}&after={}",
                query.site,
                query.after.unwrap_or(0)
            );
            let stub = env
                .durable_object(CONVERSATION_BINDING)?
                .get_by_name(&query.conversation)?;
            Ok(stub
                .fetch_with_request(internal_request(&path, Method::Get, None::<&()>)?)
                .await?)
        }
        (Method::Post, "claim" | "renew" | "release" | "typing") => {
            let target: AgentTarget = read_json(&mut request).await?;
            caller.may_use(&target.site)?;
            let command = match action {
                "claim" => AgentCommand::Claim,
                "renew" => AgentCommand::Renew,
                "typing" => AgentCommand::Typing,
                _ => AgentCommand::Release,
            };
            act(env, agent, &target.site, target.conversation, command).await
        }
        (Method::Post, "transfer") => {
            let transfer: AgentTransfer = read_json(&mut request).await?;
            caller.may_use(&transfer.site)?;
            let to = directory(env)?
                .by_id(&transfer.to_agent)
                .filter(|to| to.works_on(&transfer.site))
                .ok_or(EdgeError::UnknownAgent)?;
            let command = AgentCommand::Transfer { to };
            act(env, agent, &transfer.site, transfer.conversation, command).await
        }
        (Method::Post, "reply") => {
            let reply: AgentReply = read_json(&mut request).await?;
            caller.may_use(&reply.site)?;
            let command = AgentCommand::Reply {
                client_id: reply.client_id,
                text: reply.text,
            };
            act(env, agent, &reply.site, reply.conversation, command).await
        }
        (Method::Post, "close") => {
            let close: AgentClose = read_json(&mut request).await?;
            caller.may_use(&close.site)?;
            let command = AgentCommand::Close {
                resolution: close.resolution,
            };
            act(env, agent, &close.site, close.conversation, command).await
        }
        (
            _,
            "me" | "agents" | "queue" | "analytics" | "packet" | "events" | "claim" | "renew"
            | "release" | "typing" | "transfer" | "reply" | "close",
        ) => Err(EdgeError::MethodNotAllowed),
        _ => Err(EdgeError::NotFound),
    }
}

#[derive(Deserialize)]
struct SiteQuery {
    site: String,
}

/// `GET /v1/agent/queue`: the site, and whether the agent is away (their console open,
/// nobody at it), so waiting customers are not told someone is online.
#[derive(Deserialize)]
struct QueueQuery {
    site: String,
    #[serde(default)]
    away: bool,
}

#[derive(Deserialize)]
struct ConversationQuery {
    site: String,
    conversation: String,
    after: Option<u64>,
}

fn query<T: serde::de::DeserializeOwned>(
    request: &Request,
    what: &'static str,
) -> Result<T, EdgeError> {
    request
        .query()
        .map_err(|_| EdgeError::BadQueryParameters(what))
}

fn conversation_query(request: &Request) -> Result<ConversationQuery, EdgeError> {
    let query: ConversationQuery = query(
        request,
        "`site` and `conversation` are required, `after` is a number",
    )?;
    validate_id(&query.conversation, "conversation", &Limits::default())?;
    Ok(query)
}

/// Sends a read to the site's queue.
async fn forward(env: &Env, site: &str, path: &str) -> Result<Response, EdgeError> {
    validate_id(site, "site", &Limits::default())?;
    let stub = configured_site_queue(env, site)?;
    Ok(stub
        .fetch_with_request(internal_request(path, Method::Get, None::<&()>)?)
        .await?)
}

/// Sends an action to the site's queue, which checks the claim and records it.
async fn act(
    env: &Env,
    agent: AgentProfile,
    site: &str,
    conversation: String,
    command: AgentCommand,
) -> Result<Response, EdgeError> {
    validate_id(site, "site", &Limits::default())?;
    validate_id(&conversation, "conversation", &Limits::default())?;
    let stub = configured_site_queue(env, site)?;
    let request = AgentRequest {
        agent,
        now_ms: worker::Date::now().as_millis(),
        lease_ms: lease_ms(env),
        conversation,
        command,
    };
    Ok(stub
        .fetch_with_request(internal_request("/agent", Method::Post, Some(&request))?)
        .await?)
}

/// How long a claim lasts unless the console renews it: `BATON_CLAIM_LEASE_MS`, or a
/// minute.
fn lease_ms(env: &Env) -> u64 {
    millis_var(env, "BATON_CLAIM_LEASE_MS", DEFAULT_LEASE_MS)
}

/// How long an agent counts as online after they last showed up: `BATON_PRESENCE_MS`,
/// or two minutes.
pub(crate) fn presence_ms(env: &Env) -> u64 {
    millis_var(env, "BATON_PRESENCE_MS", DEFAULT_PRESENCE_MS)
}

/// How long a customer's chat may be disconnected before agents are told they left:
/// `BATON_CUSTOMER_GRACE_MS`, or half a minute (a page change or a reload takes less).
pub(crate) fn customer_grace_ms(env: &Env) -> u64 {
    millis_var(env, "BATON_CUSTOMER_GRACE_MS", DEFAULT_CUSTOMER_GRACE_MS)
}

/// A duration in milliseconds from a worker variable, or `default` when it is unset or
/// not a number.
fn millis_var(env: &Env, name: &str, default: u64) -> u64 {
    env.var(name)
        .ok()
        .and_then(|value| value.to_string().parse().ok())
        .unwrap_or(default)
}

/// Every agent the edge accepts: `BATON_AGENTS` (a JSON list, one token each) and the
/// shared development token `BATON_AGENT_TOKEN`. Both are worker secrets.
fn directory(env: &Env) -> Result<AgentDirectory, EdgeError> {
    let agents = match env.secret("BATON_AGENTS") {
        Ok(json) => AgentDirectory::from_json(&json.to_string())?,
        Err(_) => AgentDirectory::default(),
    };
    let shared = env
        .secret("BATON_AGENT_TOKEN")
        .map(|token| token.to_string())
        .unwrap_or_default();
    Ok(agents.with_shared_token(&shared)?)
}

/// The caller of an agent route, and the request to go on with: as it came for a bearer
/// token; for a signed request, checked (signature, timestamp, id not used before) and
/// rebuilt around the body that was read to check it.
async fn identify_caller(mut request: Request, env: &Env) -> Result<(Caller, Request), EdgeError> {
    let header = |name: &str| request.headers().get(name).ok().flatten();
    let signature = header("webhook-signature");
    let (Some(signature), None) = (signature, header("authorization")) else {
        let agent = authenticate(&request, env)?;
        let caller = Caller {
            agent,
            only_site: None,
        };
        return Ok((caller, request));
    };
    let site = header(SITE_HEADER).ok_or(EdgeError::Unauthorized)?;
    let id = header("webhook-id")
        .filter(|id| !id.is_empty() && id.len() <= 256)
        .ok_or(EdgeError::Unauthorized)?;
    let timestamp: u64 = header("webhook-timestamp")
        .and_then(|value| value.parse().ok())
        .ok_or(EdgeError::Unauthorized)?;
    let name = helpdesk_agent_name(header(AGENT_NAME_HEADER).as_deref()).ok_or_else(|| {
        EdgeError::Invalid(RelayError::new(RelayErrorKind::TooLong, AGENT_NAME_HEADER))
    })?;
    let secrets = site_webhook_secrets(env, &site)?.ok_or(EdgeError::Unauthorized)?;
    let body = read_body(&mut request).await?;
    let url = request.url()?;
    let path_and_query = match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_owned(),
    };
    let method = request.method();
    let payload = signed_request_payload(method.as_ref(), &path_and_query, &body);
    let now = worker::Date::now().as_millis() / 1000;
    secrets
        .verify(&id, timestamp, &signature, &payload, now)
        .map_err(|rejection| match rejection {
            WebhookRejection::StaleTimestamp => EdgeError::SignatureExpired,
            WebhookRejection::BadSignature => EdgeError::BadSignature,
        })?;
    // Only a valid signature takes its id, so forged requests cannot use ids up.
    let seen = SignedRequestSeen { id, timestamp, now };
    let answer = configured_site_queue(env, &site)?
        .fetch_with_request(internal_request(
            "/signed-request",
            Method::Post,
            Some(&seen),
        )?)
        .await?;
    match answer.status_code() {
        204 => {}
        401 => return Err(EdgeError::SignatureReplayed),
        status => {
            return Err(EdgeError::Internal(worker::Error::RustError(format!(
                "the site queue answered {status} to a signed request"
            ))))
        }
    }
    let mut init = RequestInit::new();
    init.with_method(method)
        .with_headers(request.headers().clone());
    if !body.is_empty() {
        init.with_body(Some(Uint8Array::from(body.as_slice()).into()));
    }
    let caller = Caller {
        agent: AgentProfile {
            id: HELPDESK_AGENT_ID.to_owned(),
            name,
            ..AgentProfile::default()
        },
        only_site: Some(site),
    };
    Ok((caller, Request::new_with_init(url.as_str(), &init)?))
}

/// The agent a request's bearer token belongs to.
pub(crate) fn authenticate(request: &Request, env: &Env) -> Result<AgentProfile, EdgeError> {
    let presented = request
        .headers()
        .get("authorization")
        .ok()
        .flatten()
        .and_then(|value| value.strip_prefix("Bearer ").map(str::to_owned))
        .ok_or(EdgeError::Unauthorized)?;
    directory(env)?
        .authenticate(&presented)
        .ok_or(EdgeError::Unauthorized)
}
