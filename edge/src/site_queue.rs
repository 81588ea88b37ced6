//! `SiteQueue`: one Durable Object per site, the built-in human queue.
//!
//! It owns the site's [`QueueBook`] (who waits, who holds what, leases), the stored
//! hand-off packets, idempotency keys and content-free analytics. Every change to the
//! book is one `QueueBook` call between a load and a store; the events a change causes
//! (an agent joined, a reply, a new queue position) are appended to the conversation's
//! own [`crate::conversation::Conversation`] object, which pushes them live.

// `#[durable_object]` generates undocumented glue for the runtime.
#![allow(missing_docs)]

use baton_protocol::{
    ActiveEntry, AgentActionResult, AgentProfile, Author, Availability, ConversationPacket,
    CsatRating, EarlierConversation, EscalationAccepted, EscalationCreated, EscalationRequest,
    EscalationWithdrawal, EscalationWithdrawn, EventBody, Outcome, QueueEntry, QueueSnapshot,
    QueueStatus, VerifiedCustomer, ESCALATION_CREATED,
};
use baton_relay::{
    route_for_agent, validate_message, validate_resolution, ClaimChange, CustomerChannel,
    CustomerConversations, KeyedBuckets, QueueBook, RateLimit, SeenRequests, SiteConfig, SiteStats,
    TokenBucket, WaitingConversation,
};
use serde::{Deserialize, Serialize};
use worker::{durable_object, DurableObject, Env, Method, Request, Response, Result, State};

use crate::agent::{customer_grace_ms, presence_ms};
use crate::conversation::{
    AppendEvent, ConversationMeta, CreateConversation, CONVERSATION_BINDING,
};
use crate::error::EdgeError;
use crate::routes::{internal_request, json_response, query_value, site_directory};
use crate::webhook::NewDelivery;

/// The binding name of the `SiteQueue` namespace in `wrangler.toml`.
pub(crate) const SITE_QUEUE_BINDING: &str = "SITE_QUEUE";

const BOOK_KEY: &str = "book";
const STATS_KEY: &str = "stats";
const LIMITS_KEY: &str = "limits";
const SEEN_REQUESTS_KEY: &str = "seen_requests";
/// What an idempotency key maps to when its escalation was withdrawn before it arrived
/// (a conversation id otherwise).
const WITHDRAWN: &str = "withdrawn";

/// The storage key of an escalation's idempotency key: the conversation it created.
fn idempotency_storage_key(visitor_id: &str, idempotency_key: &str) -> String {
    format!("idem:{visitor_id}:{idempotency_key}")
}

/// The site's escalation rate limits: one bucket for the site, one per visitor.
#[derive(Debug, Default, Serialize, Deserialize)]
struct EscalationLimits {
    site: TokenBucket,
    visitors: KeyedBuckets,
}

/// What the worker hands the queue for a new escalation: the validated, redacted
/// request plus the ids and time the worker chose.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct NewEscalation {
    pub(crate) conversation_id: String,
    pub(crate) customer_token: String,
    pub(crate) now_ms: u64,
    pub(crate) request: EscalationRequest,
}

/// An agent's request, after the worker authenticated the agent.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct AgentRequest {
    pub(crate) agent: AgentProfile,
    pub(crate) now_ms: u64,
    /// How long a claim lasts unless renewed.
    pub(crate) lease_ms: u64,
    pub(crate) conversation: String,
    pub(crate) command: AgentCommand,
}

/// What the agent wants done.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum AgentCommand {
    Claim,
    Renew,
    Release,
    Transfer {
        to: AgentProfile,
    },
    Reply {
        client_id: String,
        text: String,
    },
    Close {
        resolution: Option<String>,
    },
    /// The agent is writing a reply: the customer is told, and the claim renewed.
    Typing,
}

/// A conversation as the queue stores it.
#[derive(Debug, Serialize, Deserialize)]
struct StoredConversation {
    conversation_id: String,
    customer_token: String,
    created_at_ms: u64,
    request: EscalationRequest,
    /// How it ended, for the customer's next conversation (stored before there was one:
    /// nothing heard).
    #[serde(default)]
    outcome: Outcome,
    /// The customer ended the chat.
    #[serde(default)]
    ended_by_customer: bool,
}

impl StoredConversation {
    /// Closed by an agent or ended by the customer: no agent acts on it any more.
    fn has_ended(&self) -> bool {
        self.outcome.resolved || self.ended_by_customer
    }
}

/// The built-in human queue of one site.
#[durable_object]
pub struct SiteQueue {
    state: State,
    env: Env,
}

impl DurableObject for SiteQueue {
    fn new(state: State, env: Env) -> Self {
        SiteQueue { state, env }
    }

    async fn fetch(&self, request: Request) -> Result<Response> {
        let path = request.path();
        let result = match (request.method(), path.as_str()) {
            (Method::Post, "/escalations") => self.accept(request).await,
            (Method::Post, "/escalations/withdraw") => self.withdraw_escalation(request).await,
            (Method::Get, "/queue") => self.snapshot(&request).await,
            (Method::Get, "/packet") => self.packet(&request).await,
            (Method::Post, "/agent") => self.agent(request).await,
            (Method::Post, "/signed-request") => self.take_signed_request(request).await,
            (Method::Post, "/withdraw") => self.withdraw(&request).await,
            (Method::Post, "/customer-message") => self.customer_message(&request).await,
            (Method::Post, "/customer-channel") => self.customer_channel(request).await,
            (Method::Post, "/csat") => self.csat(request).await,
            (Method::Post, "/feedback") => self.feedback(&request).await,
            (Method::Get, "/analytics") => self.analytics().await,
            (Method::Get, "/availability") => self.availability(&request).await,
            _ => Err(EdgeError::NotFound),
        };
        Ok(result.unwrap_or_else(EdgeError::into_response))
    }

    async fn alarm(&self) -> Result<Response> {
        let result = self.expire_leases().await;
        Ok(result.unwrap_or_else(EdgeError::into_response))
    }
}

/// A helpdesk's signed request to take once (`/signed-request`).
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct SignedRequestSeen {
    pub(crate) id: String,
    pub(crate) timestamp: u64,
    pub(crate) now: u64,
}

impl SiteQueue {
    /// Takes a signed request's `webhook-id` once: 204, or `signature_replayed`.
    async fn take_signed_request(&self, mut request: Request) -> Result<Response, EdgeError> {
        let seen: SignedRequestSeen = request.json().await?;
        let storage = self.state.storage();
        let mut taken: SeenRequests = storage.get(SEEN_REQUESTS_KEY).await?.unwrap_or_default();
        if !taken.take(&seen.id, seen.timestamp, seen.now) {
            return Err(EdgeError::SignatureReplayed);
        }
        storage.put(SEEN_REQUESTS_KEY, &taken).await?;
        Ok(Response::empty()?.with_status(204))
    }

    async fn accept(&self, mut request: Request) -> Result<Response, EdgeError> {
        let new: NewEscalation = request.json().await?;
        let storage = self.state.storage();
        let idempotency_key =
            idempotency_storage_key(&new.request.visitor_id, &new.request.idempotency_key);
        if let Some(existing_id) = storage.get::<String>(&idempotency_key).await? {
            if existing_id == WITHDRAWN {
                return Err(EdgeError::EscalationWithdrawn);
            }
            if let Some(existing) = self.stored(&existing_id).await? {
                let book = self.book().await?;
                let status = self.status(&book, &existing_id)?;
                // A retry after a failure half-way finishes the job; creating the
                // conversation's object twice is harmless.
                self.create_conversation(&existing, status).await?;
                return json_response(200, &accepted(&existing, status));
            }
        }
        // Retries with a known key were answered above; only new escalations count.
        self.take_escalation_allowance(&new.request.visitor_id, new.now_ms)
            .await?;
        let stored = StoredConversation {
            conversation_id: new.conversation_id,
            customer_token: new.customer_token,
            created_at_ms: new.now_ms,
            request: new.request,
            outcome: Outcome::default(),
            ended_by_customer: false,
        };
        // Load, change and store the book with no outside call in between, so two
        // escalations arriving together cannot lose each other.
        let mut book = self.book().await?;
        book.site.clone_from(&stored.request.site);
        let before = self.statuses(&book)?;
        book.enqueue(WaitingConversation {
            conversation_id: stored.conversation_id.clone(),
            created_at_ms: stored.created_at_ms,
            reasons: stored.request.packet.reasons.clone(),
            ..WaitingConversation::default()
        });
        let status = self.status(&book, &stored.conversation_id)?;
        let mut stats = self.stats().await?;
        stats.record_escalation(&stored.request.packet.reasons);
        storage
            .put(&conversation_key(&stored.conversation_id), &stored)
            .await?;
        storage.put(BOOK_KEY, &book).await?;
        storage
            .put(&idempotency_key, &stored.conversation_id)
            .await?;
        storage.put(STATS_KEY, &stats).await?;
        // Only identities the edge verified are stored.
        if let Some(identity) = &stored.request.identity {
            let key = customer_key(&identity.id);
            let mut customer: CustomerConversations = storage.get(&key).await?.unwrap_or_default();
            customer.record(&stored.conversation_id);
            storage.put(&key, &customer).await?;
        }
        self.create_conversation(&stored, status).await?;
        // The new conversation learnt its place when it was created.
        self.push_positions(&before, &book, Some(&stored.conversation_id))
            .await?;
        json_response(201, &accepted(&stored, status))
    }

    /// Counts a new escalation, or a withdrawal kept for one that has not arrived,
    /// against the site's and the visitor's rate limits.
    async fn take_escalation_allowance(
        &self,
        visitor_id: &str,
        now_ms: u64,
    ) -> Result<(), EdgeError> {
        let storage = self.state.storage();
        let mut limits: EscalationLimits = storage.get(LIMITS_KEY).await?.unwrap_or_default();
        let allowed = limits
            .site
            .take(RateLimit::ESCALATIONS_PER_SITE, now_ms)
            .and_then(|()| {
                limits
                    .visitors
                    .take(visitor_id, RateLimit::ESCALATIONS_PER_VISITOR, now_ms)
            });
        storage.put(LIMITS_KEY, &limits).await?;
        allowed.map_err(|retry_after_seconds| EdgeError::RateLimited {
            retry_after_seconds,
        })
    }

    async fn create_conversation(
        &self,
        stored: &StoredConversation,
        queue: Option<QueueStatus>,
    ) -> Result<(), EdgeError> {
        let meta = ConversationMeta {
            conversation_id: stored.conversation_id.clone(),
            site: stored.request.site.clone(),
            customer_token: stored.customer_token.clone(),
            created_at_ms: stored.created_at_ms,
            queue,
            closed: false,
            csat: None,
            message_bucket: TokenBucket::default(),
            held_by_agent: false,
            ended_by_customer: false,
        };
        let relays = site_directory(&self.env)?
            .get(&stored.request.site)
            .is_some_and(|site| site.webhook_url.is_some());
        let relay = if relays {
            let data = EscalationCreated {
                site: stored.request.site.clone(),
                conversation_id: stored.conversation_id.clone(),
                created_at_ms: stored.created_at_ms,
                packet: stored.request.packet.clone(),
            };
            // One id per conversation, however often this is retried.
            let id = format!("msg_{}", stored.conversation_id.replace('-', ""));
            Some(
                NewDelivery::new(
                    &stored.request.site,
                    ESCALATION_CREATED,
                    &stored.conversation_id,
                    &data,
                )?
                .with_id(id),
            )
        } else {
            None
        };
        let create = CreateConversation { meta, relay };
        self.conversation_call(&stored.conversation_id, "create", &create)
            .await?;
        Ok(())
    }

    async fn snapshot(&self, request: &Request) -> Result<Response, EdgeError> {
        let (mut book, _) = self.expire_leases_now().await?;
        // The agent asking is online: waiting customers hear of it when they were told
        // nobody was.
        let agent_id = query_value(request, "agent").unwrap_or_default();
        if !agent_id.is_empty() {
            let before = self.statuses(&book)?;
            let now_ms = worker::Date::now().as_millis();
            let changed = if query_value(request, "away").as_deref() == Some("true") {
                book.agent_away(&agent_id)
            } else {
                book.agent_seen(&agent_id, now_ms, presence_ms(&self.env))
            };
            if changed {
                self.state.storage().put(BOOK_KEY, &book).await?;
                self.push_positions(&before, &book, None).await?;
                self.schedule_alarm(&book).await?;
            }
        }
        let sites = site_directory(&self.env)?;
        // Whether each customer still has the chat open is said as of now.
        let now = (
            worker::Date::now().as_millis(),
            customer_grace_ms(&self.env),
        );
        let mut waiting = Vec::with_capacity(book.waiting.len());
        let mut site = query_value(request, "site").unwrap_or_default();
        for item in &book.waiting {
            if let Some(stored) = self.stored(&item.conversation_id).await? {
                site.clone_from(&stored.request.site);
                waiting.push(queue_entry(stored, item, sites.get(&site), now));
            }
        }
        let mut active = Vec::with_capacity(book.claimed.len());
        for (id, claim) in &book.claimed {
            if let Some(stored) = self.stored(id).await? {
                site.clone_from(&stored.request.site);
                active.push(ActiveEntry {
                    entry: queue_entry(stored, &claim.conversation, sites.get(&site), now),
                    claim: claim.info(),
                    first_reply_at_ms: claim.first_reply_at_ms,
                    last_customer_message_at_ms: claim.last_customer_message_at_ms,
                });
            }
        }
        active.sort_by_key(|active| active.entry.created_at_ms);
        let list = |name: &str| -> Vec<String> {
            query_value(request, name)
                .unwrap_or_default()
                .split(',')
                .filter(|item| !item.is_empty())
                .map(str::to_owned)
                .collect()
        };
        let agent = AgentProfile {
            languages: list("languages"),
            skills: list("skills"),
            ..AgentProfile::default()
        };
        route_for_agent(&mut waiting, &agent);
        json_response(
            200,
            &QueueSnapshot {
                site,
                waiting,
                active,
            },
        )
    }

    async fn packet(&self, request: &Request) -> Result<Response, EdgeError> {
        let id = query_value(request, "conversation").unwrap_or_default();
        let stored = self
            .stored(&id)
            .await?
            .ok_or(EdgeError::UnknownConversation)?;
        let earlier = match &stored.request.identity {
            Some(identity) => self.earlier(&identity.id, &stored.conversation_id).await?,
            None => Vec::new(),
        };
        json_response(
            200,
            &ConversationPacket {
                conversation_id: stored.conversation_id,
                created_at_ms: stored.created_at_ms,
                packet: stored.request.packet,
                // Only identities the edge verified are stored.
                customer: stored.request.identity.map(|identity| VerifiedCustomer {
                    id: identity.id,
                    name: identity.name,
                    email: identity.email,
                }),
                earlier,
            },
        )
    }

    /// A signed-in customer's conversations before `conversation_id`, newest first.
    async fn earlier(
        &self,
        customer_id: &str,
        conversation_id: &str,
    ) -> Result<Vec<EarlierConversation>, EdgeError> {
        let customer: CustomerConversations = self
            .state
            .storage()
            .get(&customer_key(customer_id))
            .await?
            .unwrap_or_default();
        let mut earlier = Vec::new();
        for id in customer.before(conversation_id) {
            if let Some(stored) = self.stored(id).await? {
                let packet = stored.request.packet;
                earlier.push(EarlierConversation {
                    conversation_id: stored.conversation_id,
                    created_at_ms: stored.created_at_ms,
                    reasons: packet.reasons,
                    intent: packet.intent,
                    summary: packet.summary,
                    outcome: stored.outcome,
                });
            }
        }
        Ok(earlier)
    }

    /// Claim, release, transfer, reply, close: one book change, then the events.
    async fn agent(&self, mut request: Request) -> Result<Response, EdgeError> {
        let AgentRequest {
            agent,
            now_ms,
            lease_ms,
            conversation: id,
            command,
        } = request.json().await?;
        // Leases first: expiring them calls conversations, and other requests run
        // meanwhile, so everything this change reads is read after.
        let (mut book, _) = self.expire_leases_now().await?;
        let mut stored = self
            .stored(&id)
            .await?
            .ok_or(EdgeError::UnknownConversation)?;
        if stored.has_ended() {
            // Closing again is how a caller retries a close it got no answer to.
            return match command {
                AgentCommand::Close { .. } => {
                    let result = AgentActionResult {
                        conversation_id: id,
                        claim: None,
                        closed: true,
                    };
                    json_response(200, &result)
                }
                _ => Err(EdgeError::ConversationClosed),
            };
        }
        let before = self.statuses(&book)?;
        book.agent_seen(&agent.id, now_ms, presence_ms(&self.env));
        let mut stats = self.stats().await?;
        let mut events = Vec::new();
        let mut closed = false;
        let mut typing = false;
        match command {
            AgentCommand::Claim => {
                if book.claim(&id, &agent, now_ms, lease_ms)? == ClaimChange::Joined {
                    events.push(EventBody::AgentJoined {
                        agent_name: agent.name.clone(),
                    });
                }
            }
            AgentCommand::Renew => book.renew(&id, &agent.id, now_ms, lease_ms)?,
            AgentCommand::Typing => {
                book.renew(&id, &agent.id, now_ms, lease_ms)?;
                typing = true;
            }
            AgentCommand::Release => {
                book.release(&id, &agent.id, now_ms)?;
                events.push(EventBody::AgentLeft {
                    agent_name: agent.name.clone(),
                    transferred_to: None,
                });
            }
            AgentCommand::Transfer { to } => {
                book.transfer(&id, &agent.id, &to, now_ms, lease_ms)?;
                events.push(EventBody::AgentLeft {
                    agent_name: agent.name.clone(),
                    transferred_to: Some(to.name.clone()),
                });
                events.push(EventBody::AgentJoined {
                    agent_name: to.name.clone(),
                });
            }
            AgentCommand::Reply { client_id, text } => {
                validate_message(&client_id, &text)?;
                if book.record_reply(&id, &agent.id, now_ms, lease_ms)? {
                    let waited = now_ms.saturating_sub(stored.created_at_ms) / 1000;
                    stats.record_first_reply(waited);
                }
                events.push(EventBody::Message {
                    author: baton_protocol::Author::Agent,
                    text,
                    agent_name: Some(agent.name.clone()),
                    client_id,
                });
            }
            AgentCommand::Close { resolution } => {
                validate_resolution(resolution.as_deref())?;
                book.close(&id, &agent.id, now_ms)?;
                stats.record_resolved();
                closed = true;
                stored.outcome.resolved = true;
                stored.outcome.resolution.clone_from(&resolution);
                events.push(EventBody::Resolved {
                    by: baton_protocol::Author::Agent,
                    resolution,
                });
            }
        }
        let storage = self.state.storage();
        storage.put(BOOK_KEY, &book).await?;
        storage.put(STATS_KEY, &stats).await?;
        if closed {
            storage.put(&conversation_key(&id), &stored).await?;
        }
        let mut last_event = None;
        for event in events {
            let append = AppendEvent { event, now_ms };
            last_event = Some(self.conversation_call(&id, "append", &append).await?);
        }
        if typing {
            self.conversation_call(&id, "typing", &agent.name).await?;
        }
        self.push_positions(&before, &book, None).await?;
        self.schedule_alarm(&book).await?;
        let result = AgentActionResult {
            conversation_id: id.clone(),
            claim: book.claimed.get(&id).map(baton_relay::Claim::info),
            closed,
        };
        let mut response = serde_json::to_value(&result).map_err(internal)?;
        if let (Some(event), Some(object)) = (last_event, response.as_object_mut()) {
            object.insert("event".to_owned(), event);
        }
        json_response(200, &response)
    }

    /// The customer ended the chat: the conversation leaves the queue.
    async fn withdraw(&self, request: &Request) -> Result<Response, EdgeError> {
        let id = query_value(request, "conversation").unwrap_or_default();
        self.withdraw_conversation(&id).await?;
        json_response(200, &serde_json::json!({ "ok": true }))
    }

    async fn withdraw_conversation(&self, id: &str) -> Result<(), EdgeError> {
        let mut book = self.book().await?;
        let before = self.statuses(&book)?;
        book.withdraw(id);
        let storage = self.state.storage();
        storage.put(BOOK_KEY, &book).await?;
        if let Some(mut stored) = self.stored(id).await? {
            stored.ended_by_customer = true;
            storage.put(&conversation_key(id), &stored).await?;
        }
        self.push_positions(&before, &book, None).await
    }

    /// The customer ended the chat without knowing whether this escalation arrived: the
    /// conversation it created ends as the customer's "End chat" ends one, and if it
    /// never arrived, its key is kept so that it is refused when it does.
    async fn withdraw_escalation(&self, mut request: Request) -> Result<Response, EdgeError> {
        let withdrawal: EscalationWithdrawal = request.json().await?;
        let key = idempotency_storage_key(&withdrawal.visitor_id, &withdrawal.idempotency_key);
        let storage = self.state.storage();
        let conversation_id = match storage.get::<String>(&key).await? {
            Some(id) if id == WITHDRAWN => None,
            Some(id) => {
                self.end_for_customer(&id).await?;
                Some(id)
            }
            None => {
                // Kept for good, so it counts like the escalation it stands for.
                self.take_escalation_allowance(
                    &withdrawal.visitor_id,
                    worker::Date::now().as_millis(),
                )
                .await?;
                storage.put(&key, WITHDRAWN).await?;
                None
            }
        };
        json_response(200, &EscalationWithdrawn { conversation_id })
    }

    /// Ends a conversation as the customer's "End chat" does, unless it has ended.
    async fn end_for_customer(&self, id: &str) -> Result<(), EdgeError> {
        let Some(stored) = self.stored(id).await? else {
            return Ok(());
        };
        if stored.has_ended() {
            return Ok(());
        }
        let append = AppendEvent {
            event: EventBody::Resolved {
                by: Author::Customer,
                resolution: None,
            },
            now_ms: worker::Date::now().as_millis(),
        };
        self.conversation_call(id, "append", &append).await?;
        self.withdraw_conversation(id).await
    }

    /// The customer wrote: a held conversation's entry in `active` says when, so the
    /// agent's console can mark it while another is on screen.
    async fn customer_message(&self, request: &Request) -> Result<Response, EdgeError> {
        let id = query_value(request, "conversation").unwrap_or_default();
        let at_ms = query_value(request, "at_ms")
            .and_then(|value| value.parse::<u64>().ok())
            .ok_or(EdgeError::BadQuery("at_ms"))?;
        self.note_in_book(|book| book.record_customer_message(&id, at_ms))
            .await
    }

    /// The customer's chat connected or lost its last connection: the queue keeps it
    /// for the agents' "Customer is here" / "Customer left the chat".
    async fn customer_channel(&self, mut request: Request) -> Result<Response, EdgeError> {
        let id = query_value(&request, "conversation").unwrap_or_default();
        let report: CustomerChannel = request.json().await?;
        self.note_in_book(|book| book.record_customer_channel(&id, report))
            .await
    }

    /// Something the customer did that the book keeps: `note` records it and says
    /// whether the book changed, which is then stored.
    async fn note_in_book(
        &self,
        note: impl FnOnce(&mut QueueBook) -> bool,
    ) -> Result<Response, EdgeError> {
        let mut book = self.book().await?;
        if note(&mut book) {
            self.state.storage().put(BOOK_KEY, &book).await?;
        }
        json_response(200, &serde_json::json!({ "ok": true }))
    }

    /// The customer's rating, validated and masked by the conversation: analytics count
    /// the number; the conversation's outcome keeps it with the comment, for agents.
    async fn csat(&self, mut request: Request) -> Result<Response, EdgeError> {
        let id = query_value(&request, "conversation").unwrap_or_default();
        let rating: CsatRating = request.json().await?;
        let mut stats = self.stats().await?;
        stats.record_csat(rating.rating);
        let storage = self.state.storage();
        storage.put(STATS_KEY, &stats).await?;
        if let Some(mut stored) = self.stored(&id).await? {
            stored.outcome.rating = Some(rating.rating);
            stored.outcome.comment = Some(rating.comment).filter(|comment| !comment.is_empty());
            storage.put(&conversation_key(&id), &stored).await?;
        }
        json_response(200, &serde_json::json!({ "ok": true }))
    }

    /// How many agents are online, as a customer about to ask for one is told it.
    async fn availability(&self, request: &Request) -> Result<Response, EdgeError> {
        let (book, _) = self.expire_leases_now().await?;
        let site = query_value(request, "site").unwrap_or_default();
        let agents_online = book.agents_online_as_told(self.sees_every_agent(&site)?);
        json_response(200, &Availability { agents_online })
    }

    async fn analytics(&self) -> Result<Response, EdgeError> {
        json_response(200, &self.stats().await?.analytics())
    }

    async fn feedback(&self, request: &Request) -> Result<Response, EdgeError> {
        let helpful = match query_value(request, "helpful").as_deref() {
            Some("true") => true,
            Some("false") => false,
            _ => return Err(EdgeError::BadQuery("helpful")),
        };
        let mut stats = self.stats().await?;
        stats.record_bot_feedback(helpful);
        self.state.storage().put(STATS_KEY, &stats).await?;
        json_response(202, &serde_json::json!({ "ok": true }))
    }

    /// The alarm: claims whose agent vanished go back to the queue, and agents who
    /// stopped showing up are no longer online.
    async fn expire_leases(&self) -> Result<Response, EdgeError> {
        let (book, changed) = self.expire_leases_now().await?;
        if !changed {
            // An alarm can fire with nothing due (the claim it was set for was closed or
            // withdrawn since): it is set again for whatever is due next.
            self.schedule_alarm(&book).await?;
        }
        json_response(200, &serde_json::json!({ "ok": true }))
    }

    /// Puts back the claims whose lease ran out and forgets the agents whose presence
    /// did, telling the customers concerned, and sets the alarm for what is due next.
    /// Returns the book as it now is, and whether anything was due.
    async fn expire_leases_now(&self) -> Result<(QueueBook, bool), EdgeError> {
        let mut book = self.book().await?;
        let now_ms = worker::Date::now().as_millis();
        // What most calls (every console's queue poll) find: nothing is due.
        if book.next_deadline_ms().is_none_or(|at_ms| at_ms > now_ms) {
            return Ok((book, false));
        }
        let before = self.statuses(&book)?;
        let lapsed = book.expire_leases(now_ms);
        book.forget_absent(now_ms);
        self.state.storage().put(BOOK_KEY, &book).await?;
        for claim in lapsed {
            let append = AppendEvent {
                event: EventBody::AgentLeft {
                    agent_name: claim.agent.name,
                    transferred_to: None,
                },
                now_ms,
            };
            self.conversation_call(&claim.conversation.conversation_id, "append", &append)
                .await?;
        }
        self.push_positions(&before, &book, None).await?;
        self.schedule_alarm(&book).await?;
        // Other requests ran during those calls and may have changed the book: the
        // caller changes and saves the book as it is now, not this copy.
        Ok((self.book().await?, true))
    }

    /// Wakes the queue when a lease or an agent's presence runs out.
    async fn schedule_alarm(&self, book: &QueueBook) -> Result<(), EdgeError> {
        let storage = self.state.storage();
        match book.next_deadline_ms() {
            Some(at_ms) => {
                // An offset from now; a deadline already past fires at once.
                let now_ms = worker::Date::now().as_millis();
                let offset = i64::try_from(at_ms.saturating_sub(now_ms)).unwrap_or(i64::MAX);
                storage.set_alarm(offset).await?;
            }
            None => storage.delete_alarm().await?,
        }
        Ok(())
    }

    /// Tells every waiting customer whose place changed where they stand now. One that
    /// cannot be told (its conversation object failed, or was never created) is logged
    /// and skipped: the others are still told, and the change that moved the queue has
    /// happened, so the agent or customer who made it must not see it fail.
    async fn push_positions(
        &self,
        before: &[(String, QueueStatus)],
        book: &QueueBook,
        skip: Option<&str>,
    ) -> Result<(), EdgeError> {
        for (id, status) in self.statuses(book)? {
            if skip == Some(id.as_str()) {
                continue;
            }
            let unchanged = before
                .iter()
                .any(|(other, old)| *other == id && *old == status);
            if !unchanged {
                if let Err(err) = self.conversation_call(&id, "queue", &Some(status)).await {
                    worker::console_error!("a waiting customer's place was not told: {err}");
                }
            }
        }
        Ok(())
    }

    /// Calls the conversation's own object; its answer is returned as JSON.
    async fn conversation_call<T: Serialize>(
        &self,
        conversation_id: &str,
        action: &str,
        body: &T,
    ) -> Result<serde_json::Value, EdgeError> {
        let stub = self
            .env
            .durable_object(CONVERSATION_BINDING)?
            .get_by_name(conversation_id)?;
        let path = format!("/internal/{action}");
        let mut response = stub
            .fetch_with_request(internal_request(&path, Method::Post, Some(body))?)
            .await?;
        if response.status_code() >= 400 {
            worker::console_error!(
                "conversation object refused {action}: {}",
                response.status_code()
            );
            return Err(EdgeError::Internal(worker::Error::RustError(format!(
                "conversation object refused {action}"
            ))));
        }
        Ok(response.json().await?)
    }

    async fn stored(&self, id: &str) -> Result<Option<StoredConversation>, EdgeError> {
        Ok(self.state.storage().get(&conversation_key(id)).await?)
    }

    async fn book(&self) -> Result<QueueBook, EdgeError> {
        Ok(self
            .state
            .storage()
            .get(BOOK_KEY)
            .await?
            .unwrap_or_default())
    }

    /// A waiting conversation's place as the customer is told it.
    fn status(&self, book: &QueueBook, id: &str) -> Result<Option<QueueStatus>, EdgeError> {
        Ok(book.status(id, self.sees_every_agent(&book.site)?))
    }

    /// Every waiting conversation's place, to compare before and after a change.
    fn statuses(&self, book: &QueueBook) -> Result<Vec<(String, QueueStatus)>, EdgeError> {
        Ok(book.statuses(self.sees_every_agent(&book.site)?))
    }

    /// Whether every person who may answer the site's customers uses the console: not
    /// when the site relays escalations to a helpdesk, whose people the queue does not
    /// see.
    fn sees_every_agent(&self, site: &str) -> Result<bool, EdgeError> {
        Ok(site_directory(&self.env)?
            .get(site)
            .is_none_or(|site| site.webhook_url.is_none()))
    }

    async fn stats(&self) -> Result<SiteStats, EdgeError> {
        Ok(self
            .state
            .storage()
            .get(STATS_KEY)
            .await?
            .unwrap_or_default())
    }
}

/// How the console lists a stored conversation, with what the queue knows of it;
/// `(now_ms, grace_ms)` say when, and how long a customer's chat may be gone before
/// they count as having left.
fn queue_entry(
    stored: StoredConversation,
    queued: &WaitingConversation,
    site: Option<&SiteConfig>,
    (now_ms, grace_ms): (u64, u64),
) -> QueueEntry {
    let packet = stored.request.packet;
    let skill = site
        .zip(packet.intent.as_ref())
        .and_then(|(site, intent)| site.skill_for(&intent.intent))
        .map(str::to_owned);
    QueueEntry {
        conversation_id: stored.conversation_id,
        created_at_ms: stored.created_at_ms,
        reasons: packet.reasons,
        intent: packet.intent,
        summary: packet.summary,
        language: packet.language,
        skill,
        customer_presence: queued.customer_presence(now_ms, grace_ms),
        previous_holder: queued.previous_holder.clone(),
    }
}

/// Where a signed-in customer's [`CustomerConversations`] are kept.
fn customer_key(customer_id: &str) -> String {
    format!("customer:{customer_id}")
}

fn conversation_key(id: &str) -> String {
    format!("conv:{id}")
}

fn internal(err: serde_json::Error) -> EdgeError {
    EdgeError::Internal(worker::Error::RustError(err.to_string()))
}

fn accepted(stored: &StoredConversation, status: Option<QueueStatus>) -> EscalationAccepted {
    let status = status.unwrap_or(QueueStatus {
        position: 1,
        estimated_wait_seconds: 0,
        agents_online: None,
    });
    EscalationAccepted {
        conversation_id: stored.conversation_id.clone(),
        customer_token: stored.customer_token.clone(),
        queue_position: status.position,
        estimated_wait_seconds: status.estimated_wait_seconds,
        agents_online: status.agents_online,
    }
}
