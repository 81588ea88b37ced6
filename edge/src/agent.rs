//! The agent API under `/v1/agent/`: the queue, the packet, the live thread, and the
//! actions (claim, release, transfer, reply, close). Every route needs an agent's
//! bearer token; the token says who the agent is.

use baton_protocol::{AgentClose, AgentProfile, AgentReply, AgentTarget, AgentTransfer};
use baton_relay::{validate_id, AgentDirectory, Limits, DEFAULT_LEASE_MS};
use serde::Deserialize;
use worker::{Env, Method, Request, Response};

use crate::conversation::CONVERSATION_BINDING;
use crate::error::EdgeError;
use crate::routes::{configured_site_queue, internal_request, json_response, read_json};
use crate::site_queue::{AgentCommand, AgentRequest};

/// Answers a request whose path starts with `/v1/agent/`.
pub(crate) async fn route(mut request: Request, env: &Env) -> Result<Response, EdgeError> {
    let agent = authenticate(&request, env)?;
    let path = request.path();
    let action = path.trim_start_matches("/v1/agent/");
    match (request.method(), action) {
        (Method::Get, "me") => json_response(200, &agent),
        (Method::Get, "agents") => json_response(200, &directory(env)?.profiles()),
        (Method::Get, "queue") => {
            let query: SiteQuery = query(&request, "`site` is required")?;
            // Routing by language and skill: the agent's own first (`route_for_agent`).
            let path = format!(
                "/queue?site={}&languages={}&skills={}",
                query.site,
                agent.languages.join(","),
                agent.skills.join(",")
            );
            forward(env, &query.site, &path).await
        }
        (Method::Get, "analytics") => {
            let query: SiteQuery = query(&request, "`site` is required")?;
            forward(env, &query.site, "/analytics").await
        }
        (Method::Get, "packet") => {
            let query: ConversationQuery = conversation_query(&request)?;
            let path = format!("/packet?conversation={}", query.conversation);
            forward(env, &query.site, &path).await
        }
        (Method::Get, "events") => {
            let query: ConversationQuery = conversation_query(&request)?;
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
        (Method::Post, "claim" | "renew" | "release") => {
            let target: AgentTarget = read_json(&mut request).await?;
            let command = match action {
                "claim" => AgentCommand::Claim,
                "renew" => AgentCommand::Renew,
                _ => AgentCommand::Release,
            };
            act(env, agent, &target.site, target.conversation, command).await
        }
        (Method::Post, "transfer") => {
            let transfer: AgentTransfer = read_json(&mut request).await?;
            let to = directory(env)?
                .by_id(&transfer.to_agent)
                .ok_or(EdgeError::UnknownAgent)?;
            let command = AgentCommand::Transfer { to };
            act(env, agent, &transfer.site, transfer.conversation, command).await
        }
        (Method::Post, "reply") => {
            let reply: AgentReply = read_json(&mut request).await?;
            let command = AgentCommand::Reply {
                client_id: reply.client_id,
                text: reply.text,
            };
            act(env, agent, &reply.site, reply.conversation, command).await
        }
        (Method::Post, "close") => {
            let close: AgentClose = read_json(&mut request).await?;
            let command = AgentCommand::Close {
                resolution: close.resolution,
            };
            act(env, agent, &close.site, close.conversation, command).await
        }
        (
            _,
            "me" | "agents" | "queue" | "analytics" | "packet" | "events" | "claim" | "renew"
            | "release" | "transfer" | "reply" | "close",
        ) => Err(EdgeError::MethodNotAllowed),
        _ => Err(EdgeError::NotFound),
    }
}

#[derive(Deserialize)]
struct SiteQuery {
    site: String,
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
    env.var("BATON_CLAIM_LEASE_MS")
        .ok()
        .and_then(|value| value.to_string().parse().ok())
        .unwrap_or(DEFAULT_LEASE_MS)
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
    Ok(agents.with_shared_token(&shared))
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
