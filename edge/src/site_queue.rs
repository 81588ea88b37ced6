//! `SiteQueue`: one Durable Object per site, the built-in human queue.

// `#[durable_object]` generates undocumented glue for the runtime.
#![allow(missing_docs)]

use baton_protocol::{
    ConversationPacket, EscalationAccepted, EscalationRequest, QueueEntry, QueueSnapshot,
};
use baton_relay::{estimate_wait_seconds, QueueOrder, WaitingConversation};
use serde::{Deserialize, Serialize};
use worker::{durable_object, DurableObject, Env, Method, Request, Response, Result, State};

use crate::error::EdgeError;
use crate::routes::json_response;

/// The binding name of the `SiteQueue` namespace in `wrangler.toml`.
pub(crate) const SITE_QUEUE_BINDING: &str = "SITE_QUEUE";

const WAITING_KEY: &str = "waiting";

/// What the worker hands the queue for a new escalation: the validated, redacted
/// request plus the ids and time the worker chose.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct NewEscalation {
    pub(crate) conversation_id: String,
    pub(crate) customer_token: String,
    pub(crate) now_ms: u64,
    pub(crate) request: EscalationRequest,
}

/// A conversation as the queue stores it.
#[derive(Debug, Serialize, Deserialize)]
struct StoredConversation {
    conversation_id: String,
    customer_token: String,
    created_at_ms: u64,
    request: EscalationRequest,
}

/// The built-in human queue of one site.
#[durable_object]
pub struct SiteQueue {
    state: State,
    #[allow(dead_code)]
    env: Env,
}

impl DurableObject for SiteQueue {
    fn new(state: State, env: Env) -> Self {
        SiteQueue { state, env }
    }

    async fn fetch(&self, request: Request) -> Result<Response> {
        let result = match (request.method(), request.path().as_str()) {
            (Method::Post, "/escalations") => self.accept(request).await,
            (Method::Get, "/queue") => self.snapshot().await,
            (Method::Get, "/packet") => self.packet(&request).await,
            _ => Err(EdgeError::NotFound),
        };
        Ok(result.unwrap_or_else(EdgeError::into_response))
    }
}

impl SiteQueue {
    async fn accept(&self, mut request: Request) -> Result<Response, EdgeError> {
        let new: NewEscalation = request.json().await?;
        let storage = self.state.storage();
        let idempotency_key = format!(
            "idem:{}:{}",
            new.request.visitor_id, new.request.idempotency_key
        );
        let mut waiting = self.waiting().await?;
        if let Some(existing_id) = storage.get::<String>(&idempotency_key).await? {
            if let Some(existing) = storage
                .get::<StoredConversation>(&conversation_key(&existing_id))
                .await?
            {
                return json_response(200, &accepted(&existing, &waiting));
            }
        }
        let stored = StoredConversation {
            conversation_id: new.conversation_id,
            customer_token: new.customer_token,
            created_at_ms: new.now_ms,
            request: new.request,
        };
        waiting.push(WaitingConversation {
            conversation_id: stored.conversation_id.clone(),
            created_at_ms: stored.created_at_ms,
            reasons: stored.request.packet.reasons.clone(),
        });
        QueueOrder::sort(&mut waiting);
        storage
            .put(&conversation_key(&stored.conversation_id), &stored)
            .await?;
        storage.put(WAITING_KEY, &waiting).await?;
        storage
            .put(&idempotency_key, &stored.conversation_id)
            .await?;
        json_response(201, &accepted(&stored, &waiting))
    }

    async fn snapshot(&self) -> Result<Response, EdgeError> {
        let storage = self.state.storage();
        let waiting = self.waiting().await?;
        let mut entries = Vec::with_capacity(waiting.len());
        let mut site = String::new();
        for item in &waiting {
            if let Some(stored) = storage
                .get::<StoredConversation>(&conversation_key(&item.conversation_id))
                .await?
            {
                site.clone_from(&stored.request.site);
                let packet = &stored.request.packet;
                entries.push(QueueEntry {
                    conversation_id: stored.conversation_id,
                    created_at_ms: stored.created_at_ms,
                    reasons: packet.reasons.clone(),
                    intent: packet.intent.clone(),
                    summary: packet.summary.clone(),
                    language: packet.language.clone(),
                });
            }
        }
        json_response(
            200,
            &QueueSnapshot {
                site,
                waiting: entries,
            },
        )
    }

    async fn packet(&self, request: &Request) -> Result<Response, EdgeError> {
        let url = request.url()?;
        let id = url
            .query_pairs()
            .find(|(key, _)| key == "conversation")
            .map(|(_, value)| value.into_owned())
            .unwrap_or_default();
        let stored = self
            .state
            .storage()
            .get::<StoredConversation>(&conversation_key(&id))
            .await?
            .ok_or(EdgeError::UnknownConversation(id))?;
        json_response(
            200,
            &ConversationPacket {
                conversation_id: stored.conversation_id,
                created_at_ms: stored.created_at_ms,
                packet: stored.request.packet,
            },
        )
    }

    async fn waiting(&self) -> Result<Vec<WaitingConversation>, EdgeError> {
        Ok(self
            .state
            .storage()
            .get(WAITING_KEY)
            .await?
            .unwrap_or_default())
    }
}

fn conversation_key(id: &str) -> String {
    format!("conv:{id}")
}

fn accepted(stored: &StoredConversation, waiting: &[WaitingConversation]) -> EscalationAccepted {
    let position = waiting
        .iter()
        .position(|w| w.conversation_id == stored.conversation_id)
        .map_or(1, |index| index + 1);
    let position = u32::try_from(position).unwrap_or(u32::MAX);
    EscalationAccepted {
        conversation_id: stored.conversation_id.clone(),
        customer_token: stored.customer_token.clone(),
        queue_position: position,
        estimated_wait_seconds: estimate_wait_seconds(position, &[], 1),
    }
}
