//! `Conversation`: one Durable Object per conversation after the hand-off. It keeps the
//! numbered event log in SQLite and the live WebSockets of the customer (hibernating,
//! so an idle conversation costs nothing).
//!
//! Requests reach it two ways, both from this worker only:
//! - the customer's routes under `/v1/conversations/{id}/…`, forwarded as they came
//!   after the worker checked the site and origin; the customer token is checked here;
//! - internal calls from the site's queue (`/internal/…`): create, append an event,
//!   update the queue position.
//!
//! Events for the site's webhook receiver are written to a `relay_pending` table with the
//! event itself, then handed to the site's `WebhookOutbox`; a delivery leaves the table
//! only when the outbox has taken it, and the object's alarm retries what is left. The
//! outbox stores each `webhook-id` once, so handing one over twice is harmless.

// `#[durable_object]` generates undocumented glue for the runtime.
#![allow(missing_docs)]

use std::cell::Cell;
use std::time::Duration;

use baton_protocol::{
    offers_live_subprotocol, token_in_subprotocols, Author, ConversationEvent, ConversationRelayed,
    ConversationUpdate, CsatRating, CustomerClose, CustomerClosed, CustomerMessage, CustomerTyping,
    EventBody, MessageStored, QueueStatus, CONVERSATION_CLOSED, CONVERSATION_MESSAGE,
    LIVE_SUBPROTOCOL,
};
use baton_relay::{
    tokens_match, validate_message, CustomerChannel, RateLimit, RelayError, RelayErrorKind,
    TokenBucket,
};
use baton_triage::redact_pii;
use serde::{Deserialize, Serialize};
use worker::{
    durable_object, DurableObject, Env, Headers, Method, Request, Response, Result, ScheduledTime,
    SqlStorageValue, State, WebSocket, WebSocketIncomingMessage, WebSocketPair,
};

use crate::error::EdgeError;
use crate::routes::{
    internal_request, json_response, query_value, read_json, read_json_or_nothing, site_directory,
};
use crate::site_queue::SITE_QUEUE_BINDING;
use crate::webhook::{hand_over, NewDelivery};

/// The most messages a customer's close may carry (those still on their way when they
/// ended the chat): as many as they may send at once.
const MAX_MESSAGES_WITH_CLOSE: usize = 20;

/// The binding name of the `Conversation` namespace in `wrangler.toml`.
pub(crate) const CONVERSATION_BINDING: &str = "CONVERSATION";

const META_KEY: &str = "meta";

/// Most events one read returns; a client far behind asks again.
const PAGE: i64 = 500;
/// [`PAGE`] as a length.
const PAGE_LEN: usize = PAGE as usize;

/// How long the alarm waits before handing pending deliveries to the outbox again.
const RELAY_RETRY_MS: u64 = 10_000;

/// What the queue tells a new conversation about itself.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ConversationMeta {
    pub(crate) conversation_id: String,
    pub(crate) site: String,
    pub(crate) customer_token: String,
    pub(crate) created_at_ms: u64,
    pub(crate) queue: Option<QueueStatus>,
    #[serde(default)]
    pub(crate) closed: bool,
    #[serde(default)]
    pub(crate) csat: Option<CsatRating>,
    /// The customer's message rate limit.
    #[serde(default)]
    pub(crate) message_bucket: TokenBucket,
    /// Whether an agent has the conversation (joined, and not left it to the queue): a
    /// place in line computed before they joined, arriving late, is not shown.
    #[serde(default)]
    pub(crate) held_by_agent: bool,
    /// Whether the customer ended the conversation (not the agent).
    #[serde(default)]
    pub(crate) ended_by_customer: bool,
}

/// What the queue sends to create a conversation's object (again, on a retried
/// escalation: harmless, and nothing is relayed twice).
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct CreateConversation {
    pub(crate) meta: ConversationMeta,
    /// The site's `escalation.created` delivery, when the site relays.
    pub(crate) relay: Option<NewDelivery>,
}

/// An event the queue asks to add (agent joined, an agent's reply, closed, …).
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct AppendEvent {
    pub(crate) event: EventBody,
    pub(crate) now_ms: u64,
}

/// The row type of `SELECT json FROM events`.
#[derive(Deserialize)]
struct EventRow {
    json: String,
}

#[derive(Deserialize)]
struct SeqRow {
    seq: i64,
}

/// The row type of `SELECT id, delivery FROM relay_pending`.
#[derive(Deserialize)]
struct PendingRow {
    id: String,
    delivery: String,
}

/// One conversation's log and live channel.
#[durable_object]
pub struct Conversation {
    state: State,
    env: Env,
    /// When the customer's chat last said they were typing (ms since the epoch; kept in
    /// memory only: nothing about it is stored).
    customer_typing_at_ms: Cell<u64>,
}

/// How long after the customer's last typing notice agents see them typing.
const CUSTOMER_TYPING_SHOWN_MS: u64 = 6_000;

impl DurableObject for Conversation {
    fn new(state: State, env: Env) -> Self {
        let sql = state.storage().sql();
        // Creating the tables is idempotent; it costs a statement each per wake-up.
        for table in [
            "CREATE TABLE IF NOT EXISTS events (
                seq INTEGER PRIMARY KEY,
                client_id TEXT UNIQUE,
                json TEXT NOT NULL
            )",
            "CREATE TABLE IF NOT EXISTS relay_pending (
                id TEXT PRIMARY KEY,
                delivery TEXT NOT NULL
            )",
        ] {
            if let Err(err) = sql.exec(table, None) {
                worker::console_error!("could not create a conversation table: {err}");
            }
        }
        Conversation {
            state,
            env,
            customer_typing_at_ms: Cell::new(0),
        }
    }

    async fn fetch(&self, request: Request) -> Result<Response> {
        let path = request.path();
        let result = if let Some(internal) = path.strip_prefix("/internal/") {
            self.internal(request, internal).await
        } else {
            self.customer(request, &path).await
        };
        Ok(result.unwrap_or_else(EdgeError::into_response))
    }

    async fn alarm(&self) -> Result<Response> {
        // Never an error: the retry is ours (`RELAY_RETRY_MS`), not the platform's.
        self.flush_relays().await;
        Response::ok("")
    }

    async fn websocket_message(
        &self,
        _socket: WebSocket,
        message: WebSocketIncomingMessage,
    ) -> Result<()> {
        // Customers write with POST so each message has an idempotent `client_id`; here
        // the chat only says the customer is typing. Anything else is ignored.
        if let WebSocketIncomingMessage::String(text) = message {
            if let Ok(CustomerTyping { typing: true }) = serde_json::from_str(&text) {
                self.customer_typing_at_ms.set(now_ms());
            }
        }
        Ok(())
    }

    async fn websocket_close(
        &self,
        socket: WebSocket,
        _code: usize,
        _reason: String,
        _was_clean: bool,
    ) -> Result<()> {
        // The client went away: complete the close handshake, and tell the queue if it
        // was the customer's last chat.
        let _ = socket.close(Some(1000), Some("bye"));
        self.report_customer_channel(Some(&socket)).await;
        Ok(())
    }

    async fn websocket_error(&self, socket: WebSocket, _error: worker::Error) -> Result<()> {
        self.report_customer_channel(Some(&socket)).await;
        Ok(())
    }
}

impl Conversation {
    async fn internal(&self, mut request: Request, path: &str) -> Result<Response, EdgeError> {
        match (request.method(), path) {
            (Method::Post, "create") => {
                let create: CreateConversation = request.json().await?;
                // Only the first creation relays: a retried escalation relays nothing more.
                if self.meta().await?.is_none() {
                    if let Some(delivery) = &create.relay {
                        self.keep_for_relay(delivery)?;
                    }
                    self.state.storage().put(META_KEY, &create.meta).await?;
                    if create.relay.is_some() {
                        self.flush_relays().await;
                    }
                }
                json_response(201, &serde_json::json!({ "ok": true }))
            }
            (Method::Post, "append") => {
                let append: AppendEvent = request.json().await?;
                let event = self.append(append.event, append.now_ms).await?;
                json_response(200, &event)
            }
            (Method::Post, "queue") => {
                let queue: Option<QueueStatus> = request.json().await?;
                let Some(mut meta) = self.meta().await? else {
                    return Err(EdgeError::NotFound);
                };
                // The queue works places out before its calls to conversations, so one
                // can arrive after an agent joined or the conversation ended.
                let late = queue.is_some() && (meta.held_by_agent || meta.closed);
                if !late && meta.queue != queue {
                    meta.queue = queue;
                    self.state.storage().put(META_KEY, &meta).await?;
                    self.broadcast(&ConversationUpdate {
                        events: Vec::new(),
                        queue,
                        ..ConversationUpdate::default()
                    });
                }
                json_response(200, &serde_json::json!({ "ok": true }))
            }
            (Method::Post, "typing") => {
                // Told to whoever is connected now, and kept nowhere.
                let agent_name: String = request.json().await?;
                let queue = self.meta().await?.and_then(|meta| meta.queue);
                self.broadcast(&ConversationUpdate {
                    events: Vec::new(),
                    queue,
                    typing: Some(agent_name),
                    ..ConversationUpdate::default()
                });
                json_response(200, &serde_json::json!({ "ok": true }))
            }
            (Method::Get, "events") => {
                let after = query_u64(&request, "after")?;
                let meta = self
                    .meta()
                    .await?
                    .filter(|meta| belongs_to(&request, meta))
                    .ok_or(EdgeError::UnknownConversation)?;
                // Asked by agents: they also see whether the customer is typing.
                let mut update = self.update_after(after, &meta)?;
                update.customer_typing = !meta.closed
                    && now_ms().saturating_sub(self.customer_typing_at_ms.get())
                        < CUSTOMER_TYPING_SHOWN_MS;
                json_response(200, &update)
            }
            _ => Err(EdgeError::NotFound),
        }
    }

    /// The customer's routes: `events`, `live`, `messages`, `close`, `csat`.
    async fn customer(&self, mut request: Request, path: &str) -> Result<Response, EdgeError> {
        let action = path.rsplit('/').next().unwrap_or_default().to_owned();
        let meta = self.meta().await?;
        let Some(meta) = meta.filter(|meta| belongs_to(&request, meta)) else {
            return Err(EdgeError::UnknownConversation);
        };
        if !presents_token(&request, &meta.customer_token) {
            return Err(EdgeError::Unauthorized);
        }
        match (request.method(), action.as_str()) {
            (Method::Get, "events") => {
                let after = query_u64(&request, "after")?;
                json_response(200, &self.update_after(after, &meta)?)
            }
            (Method::Get, "live") => self.open_live(&request, &meta).await,
            (Method::Post, "messages") => {
                let message: CustomerMessage = read_json(&mut request).await?;
                // Other requests ran while the body arrived (an agent joining or closing
                // the conversation): work on the conversation as it is now, or saving it
                // below would undo them.
                let meta = self.meta().await?.ok_or(EdgeError::UnknownConversation)?;
                validate_message(&message.client_id, &message.text)?;
                // Stored before, its answer lost: it was delivered, even if the
                // conversation has ended since.
                if let Some(existing) = self.customer_message_stored(&message.client_id)? {
                    return json_response(201, &MessageStored { seq: existing.seq });
                }
                if meta.closed {
                    return Err(EdgeError::ConversationClosed);
                }
                let mut meta = meta;
                let now = now_ms();
                let allowed = meta.message_bucket.take(RateLimit::CUSTOMER_MESSAGES, now);
                self.state.storage().put(META_KEY, &meta).await?;
                if let Err(retry_after_seconds) = allowed {
                    return Err(EdgeError::RateLimited {
                        retry_after_seconds,
                    });
                }
                let event = self.append_customer_message(message, now).await?;
                // The message is stored. The queue marks it for the agent who holds the
                // conversation; while it waits (it has a place in line) nobody does, so
                // the queue is not asked. One that does not hear of it only leaves the
                // agent's Active list without its "new message" mark.
                let held = meta.queue.is_none();
                if held {
                    if let Err(err) = self
                        .tell_queue(
                            &format!("/customer-message?at_ms={now}"),
                            &meta,
                            None::<&()>,
                        )
                        .await
                    {
                        worker::console_error!("the site queue did not hear of a message: {err}");
                    }
                }
                json_response(201, &MessageStored { seq: event.seq })
            }
            (Method::Post, "close") => {
                let close: CustomerClose = read_json_or_nothing(&mut request).await?;
                if close.messages.len() > MAX_MESSAGES_WITH_CLOSE {
                    return Err(EdgeError::Invalid(RelayError::new(
                        RelayErrorKind::TooMany,
                        "messages",
                    )));
                }
                for message in &close.messages {
                    validate_message(&message.client_id, &message.text)?;
                }
                let now = now_ms();
                // What was still on its way goes before the end, each message once; after
                // an agent's close nothing more is stored, and the answer says which. The
                // conversation is read again before each: relaying a message lets other
                // requests in (an agent's close, this close sent again from a new page).
                let mut undelivered = Vec::new();
                for message in close.messages {
                    if self.customer_message_stored(&message.client_id)?.is_some() {
                        continue;
                    }
                    let meta = self.meta().await?.ok_or(EdgeError::UnknownConversation)?;
                    if meta.closed {
                        undelivered.push(message.client_id);
                        continue;
                    }
                    self.append_customer_message(message, now).await?;
                }
                let meta = self.meta().await?.ok_or(EdgeError::UnknownConversation)?;
                if !meta.closed {
                    self.append(
                        EventBody::Resolved {
                            by: Author::Customer,
                            resolution: None,
                        },
                        now,
                    )
                    .await?;
                }
                // Also on a retried close: if the queue did not hear the first time, the
                // customer who left would still be waiting in line. Hearing twice is
                // harmless; an agent's close is not the customer's.
                let meta = self.meta().await?.ok_or(EdgeError::UnknownConversation)?;
                if meta.ended_by_customer {
                    self.tell_queue("/withdraw", &meta, None::<&()>).await?;
                }
                let closed = CustomerClosed {
                    closed: true,
                    undelivered,
                };
                json_response(200, &closed)
            }
            (Method::Post, "csat") => {
                let mut rating: CsatRating = read_json(&mut request).await?;
                baton_relay::validate_csat(rating.rating, &rating.comment)?;
                // As for a message: the conversation as it is now, not before the body.
                let mut meta = self.meta().await?.ok_or(EdgeError::UnknownConversation)?;
                if meta.csat.is_some() {
                    return Err(EdgeError::AlreadyRated);
                }
                rating.comment = redact_pii(&rating.comment).text;
                meta.csat = Some(rating);
                self.state.storage().put(META_KEY, &meta).await?;
                self.tell_queue("/csat", &meta, meta.csat.as_ref()).await?;
                json_response(201, &serde_json::json!({ "recorded": true }))
            }
            (_, "events" | "live" | "messages" | "close" | "csat") => {
                Err(EdgeError::MethodNotAllowed)
            }
            _ => Err(EdgeError::NotFound),
        }
    }

    /// Accepts the customer's WebSocket and sends what they missed; the queue hears
    /// that the customer is here.
    async fn open_live(
        &self,
        request: &Request,
        meta: &ConversationMeta,
    ) -> Result<Response, EdgeError> {
        let upgrade = request.headers().get("upgrade").ok().flatten();
        if !upgrade.is_some_and(|value| value.eq_ignore_ascii_case("websocket")) {
            return Err(EdgeError::UpgradeRequired);
        }
        let after = query_u64(request, "after")?;
        let pair = WebSocketPair::new()?;
        self.state.accept_web_socket(&pair.server);
        // Sent after accepting, so an event appended meanwhile may arrive twice; the
        // client drops any `seq` it has already seen. Page after page: the client takes
        // the highest `seq` it sees as where it stands, so a page left out would be a gap
        // it never asks for again.
        let mut after = after;
        loop {
            let backlog = self.update_after(after, meta)?;
            let last = backlog.events.last().map(|event| event.seq);
            let full = backlog.events.len() >= PAGE_LEN;
            let json = serde_json::to_string(&backlog).map_err(internal)?;
            pair.server.send_with_str(json)?;
            match last {
                Some(seq) if full => after = seq,
                _ => break,
            }
        }
        self.report_customer_channel(None).await;
        let response = Response::from_websocket(pair.client)?;
        // A client that offered the live subprotocol (the token beside it) closes a
        // socket whose answer does not choose it.
        let offered = request
            .headers()
            .get("sec-websocket-protocol")
            .ok()
            .flatten();
        if offered.is_some_and(|offered| offers_live_subprotocol(&offered)) {
            let headers = Headers::new();
            headers.set("sec-websocket-protocol", LIVE_SUBPROTOCOL)?;
            return Ok(response.with_headers(headers));
        }
        Ok(response)
    }

    /// Tells the queue whether the customer has a chat connected now, `closing` aside
    /// (the socket being closed, which may still be listed). Only the customer connects
    /// here, so any open socket is theirs. A queue that does not hear of it shows the
    /// last state it heard; nothing else depends on it.
    async fn report_customer_channel(&self, closing: Option<&WebSocket>) {
        let report = CustomerChannel {
            connected: self.state.get_websockets().iter().any(|socket| {
                Some(socket) != closing
                    && socket.as_ref().ready_state() == worker::web_sys::WebSocket::OPEN
            }),
            at_ms: now_ms(),
        };
        let result = match self.meta().await {
            // An ended conversation has left the queue.
            Ok(Some(meta)) if !meta.closed => {
                self.tell_queue("/customer-channel", &meta, Some(&report))
                    .await
            }
            Ok(_) => Ok(()),
            Err(err) => Err(err),
        };
        if let Err(err) = result {
            worker::console_error!("the site queue did not hear of the customer's chat: {err}");
        }
    }

    /// Appends an event (once per `client_id` for messages) and pushes it live.
    async fn append(&self, body: EventBody, now_ms: u64) -> Result<ConversationEvent, EdgeError> {
        let sql = self.state.storage().sql();
        let client_id = match &body {
            EventBody::Message {
                author, client_id, ..
            } => Some(format!("{}:{client_id}", author_key(*author))),
            _ => None,
        };
        if let Some(client_id) = &client_id {
            if let Some(existing) = self.event_by_client_id(client_id)? {
                return Ok(existing);
            }
        }
        let meta = self.meta().await?;
        let last: Vec<SeqRow> = sql
            .exec("SELECT COALESCE(MAX(seq), 0) AS seq FROM events", None)?
            .to_array()?;
        let seq = last.first().map_or(0, |row| row.seq) + 1;
        let event = ConversationEvent {
            seq: u64::try_from(seq).unwrap_or_default(),
            at_ms: now_ms,
            event: body,
        };
        let json = serde_json::to_string(&event).map_err(internal)?;
        let client_value = client_id.map_or(SqlStorageValue::Null, SqlStorageValue::from);
        sql.exec(
            "INSERT INTO events (seq, client_id, json) VALUES (?, ?, ?)",
            vec![SqlStorageValue::from(seq), client_value, json.into()],
        )?;
        // Written with the event, before anything else awaits: stored together.
        let delivery = meta
            .as_ref()
            .and_then(|meta| self.relayed_delivery(&event, meta));
        if let Some(delivery) = &delivery {
            self.keep_for_relay(delivery)?;
        }
        // What the event changes in the conversation's own state.
        let change: Option<fn(&mut ConversationMeta)> = match event.event {
            EventBody::Resolved {
                by: Author::Customer,
                ..
            } => Some(|meta| {
                meta.closed = true;
                meta.queue = None;
                meta.ended_by_customer = true;
            }),
            EventBody::Resolved { .. } => Some(|meta| {
                meta.closed = true;
                meta.queue = None;
            }),
            EventBody::AgentJoined { .. } => Some(|meta| {
                meta.queue = None;
                meta.held_by_agent = true;
            }),
            // Back in line: the queue tells it its place next.
            EventBody::AgentLeft {
                transferred_to: None,
                ..
            } => Some(|meta| meta.held_by_agent = false),
            _ => None,
        };
        if let Some(change) = change {
            if let Some(mut meta) = self.meta().await? {
                change(&mut meta);
                self.state.storage().put(META_KEY, &meta).await?;
            }
        }
        let queue = self.meta().await?.and_then(|meta| meta.queue);
        self.broadcast(&ConversationUpdate {
            events: vec![event.clone()],
            queue,
            ..ConversationUpdate::default()
        });
        if delivery.is_some() {
            self.flush_relays().await;
        }
        Ok(event)
    }

    /// The webhook delivery of an event, when the site relays it: the customer's
    /// messages and the end of the conversation, so a helpdesk can follow what happens
    /// after the escalation. Problems are logged, not returned: the event is stored and
    /// pushed live either way.
    fn relayed_delivery(
        &self,
        event: &ConversationEvent,
        meta: &ConversationMeta,
    ) -> Option<NewDelivery> {
        let event_type = match &event.event {
            EventBody::Message {
                author: Author::Customer,
                ..
            } => CONVERSATION_MESSAGE,
            EventBody::Resolved { .. } => CONVERSATION_CLOSED,
            _ => return None,
        };
        let result = site_directory(&self.env).and_then(|sites| {
            let relays = sites
                .get(&meta.site)
                .is_some_and(|site| site.webhook_url.is_some());
            if !relays {
                return Ok(None);
            }
            let data = ConversationRelayed {
                site: meta.site.clone(),
                conversation_id: meta.conversation_id.clone(),
                event: event.clone(),
            };
            NewDelivery::new(&meta.site, event_type, &meta.conversation_id, &data).map(Some)
        });
        result.unwrap_or_else(|err| {
            worker::console_error!("webhook: cannot relay {event_type}: {err}");
            None
        })
    }

    /// Stores a delivery until the outbox takes it (once per `webhook-id`).
    fn keep_for_relay(&self, delivery: &NewDelivery) -> Result<(), EdgeError> {
        let json = serde_json::to_string(delivery).map_err(internal)?;
        self.state.storage().sql().exec(
            "INSERT OR IGNORE INTO relay_pending (id, delivery) VALUES (?, ?)",
            vec![SqlStorageValue::from(delivery.id()), json.into()],
        )?;
        Ok(())
    }

    /// Hands the pending deliveries to the outbox, oldest first, stopping at the first
    /// the outbox does not take (so the receiver's order stays the events' order); what
    /// is left is retried by the alarm.
    async fn flush_relays(&self) {
        let sql = self.state.storage().sql();
        let pending: Vec<PendingRow> = match sql
            .exec(
                "SELECT id, delivery FROM relay_pending ORDER BY rowid",
                None,
            )
            .and_then(|cursor| cursor.to_array())
        {
            Ok(rows) => rows,
            Err(err) => {
                worker::console_error!("webhook: cannot read pending deliveries: {err}");
                return;
            }
        };
        for row in pending {
            let handed_over = match serde_json::from_str::<NewDelivery>(&row.delivery) {
                Ok(delivery) => hand_over(&self.env, &delivery).await,
                // Unreadable (never written so): dropped, or it would block the rest.
                Err(err) => {
                    worker::console_error!("webhook: dropping an unreadable delivery: {err}");
                    Ok(())
                }
            };
            if let Err(err) = handed_over {
                worker::console_error!("webhook: the outbox did not take a delivery yet: {err}");
                self.retry_relays_later().await;
                return;
            }
            if let Err(err) = sql.exec(
                "DELETE FROM relay_pending WHERE id = ?",
                vec![SqlStorageValue::from(row.id)],
            ) {
                worker::console_error!("webhook: cannot clear a delivery: {err}");
            }
        }
    }

    /// Sets the alarm that retries pending deliveries, unless one is set for later.
    async fn retry_relays_later(&self) {
        let storage = self.state.storage();
        let result = async {
            let now = i64::try_from(now_ms()).unwrap_or(i64::MAX);
            // Inside `alarm()` the alarm that is running may still read as set.
            if storage.get_alarm().await?.is_none_or(|at| at <= now) {
                // An offset from now.
                storage
                    .set_alarm(ScheduledTime::from(Duration::from_millis(RELAY_RETRY_MS)))
                    .await?;
            }
            Ok::<(), worker::Error>(())
        }
        .await;
        if let Err(err) = result {
            worker::console_error!("webhook: cannot set the retry alarm: {err}");
        }
    }

    /// The event the customer's message with this `client_id` added, if it was stored.
    fn customer_message_stored(
        &self,
        client_id: &str,
    ) -> Result<Option<ConversationEvent>, EdgeError> {
        self.event_by_client_id(&format!("{}:{client_id}", author_key(Author::Customer)))
    }

    /// Stores a customer's message (each `client_id` once), masked again here.
    async fn append_customer_message(
        &self,
        message: CustomerMessage,
        now_ms: u64,
    ) -> Result<ConversationEvent, EdgeError> {
        let body = EventBody::Message {
            author: Author::Customer,
            text: redact_pii(&message.text).text,
            agent_name: None,
            client_id: message.client_id,
        };
        self.append(body, now_ms).await
    }

    /// The event a `client_id` (prefixed with its author) already added, if any.
    fn event_by_client_id(&self, client_key: &str) -> Result<Option<ConversationEvent>, EdgeError> {
        let rows: Vec<EventRow> = self
            .state
            .storage()
            .sql()
            .exec(
                "SELECT json FROM events WHERE client_id = ?",
                vec![SqlStorageValue::from(client_key)],
            )?
            .to_array()?;
        rows.first()
            .map(|row| serde_json::from_str(&row.json).map_err(internal))
            .transpose()
    }

    /// Events after `after`, oldest first, and the current queue position.
    fn update_after(
        &self,
        after: u64,
        meta: &ConversationMeta,
    ) -> Result<ConversationUpdate, EdgeError> {
        let after = i64::try_from(after).unwrap_or(i64::MAX);
        let rows: Vec<EventRow> = self
            .state
            .storage()
            .sql()
            .exec(
                "SELECT json FROM events WHERE seq > ? ORDER BY seq LIMIT ?",
                vec![SqlStorageValue::from(after), SqlStorageValue::from(PAGE)],
            )?
            .to_array()?;
        let events = rows
            .iter()
            .map(|row| serde_json::from_str(&row.json))
            .collect::<std::result::Result<Vec<ConversationEvent>, _>>()
            .map_err(internal)?;
        Ok(ConversationUpdate {
            events,
            queue: meta.queue,
            ..ConversationUpdate::default()
        })
    }

    /// Sends an update to every connected client. A socket that fails is closed; its
    /// client reconnects and catches up from its last `seq`.
    fn broadcast(&self, update: &ConversationUpdate) {
        let Ok(json) = serde_json::to_string(update) else {
            return;
        };
        for socket in self.state.get_websockets() {
            if socket.send_with_str(&json).is_err() {
                let _ = socket.close(Some(1011), Some("send failed"));
            }
        }
    }

    /// Tells the site's queue about something the customer did.
    async fn tell_queue<T: Serialize>(
        &self,
        path: &str,
        meta: &ConversationMeta,
        body: Option<&T>,
    ) -> Result<(), EdgeError> {
        let separator = if path.contains('?') { '&' } else { '?' };
        let path = format!("{path}{separator}conversation={}", meta.conversation_id);
        let stub = self
            .env
            .durable_object(SITE_QUEUE_BINDING)?
            .get_by_name(&meta.site)?;
        let response = stub
            .fetch_with_request(internal_request(&path, Method::Post, body)?)
            .await?;
        if response.status_code() >= 400 {
            worker::console_error!("the site queue refused {path}: {}", response.status_code());
        }
        Ok(())
    }

    async fn meta(&self) -> Result<Option<ConversationMeta>, EdgeError> {
        Ok(self.state.storage().get(META_KEY).await?)
    }
}

/// The conversation's site must be the one the request names: a token for one site's
/// conversation is no use on another's.
fn belongs_to(request: &Request, meta: &ConversationMeta) -> bool {
    query_value(request, "site").is_some_and(|site| site == meta.site)
}

/// The customer token, from `Authorization: Bearer` or, for WebSockets (which cannot
/// set headers in a browser), a subprotocol ([`token_subprotocol`]) or the `token`
/// query parameter.
fn presents_token(request: &Request, expected: &str) -> bool {
    let header = |name: &str| request.headers().get(name).ok().flatten();
    let bearer =
        header("authorization").and_then(|value| value.strip_prefix("Bearer ").map(str::to_owned));
    let subprotocol = || {
        header("sec-websocket-protocol")
            .and_then(|offered| token_in_subprotocols(&offered).map(str::to_owned))
    };
    bearer
        .or_else(subprotocol)
        .or_else(|| query_value(request, "token"))
        .is_some_and(|presented| tokens_match(&presented, expected))
}

/// A non-negative integer query parameter; absent means 0.
fn query_u64(request: &Request, name: &'static str) -> Result<u64, EdgeError> {
    match query_value(request, name) {
        None => Ok(0),
        Some(value) => value.parse().map_err(|_| EdgeError::BadQuery(name)),
    }
}

fn author_key(author: Author) -> &'static str {
    match author {
        Author::Customer => "customer",
        Author::Agent => "agent",
        Author::Bot => "bot",
        Author::System => "system",
    }
}

fn internal(err: serde_json::Error) -> EdgeError {
    EdgeError::Internal(worker::Error::RustError(err.to_string()))
}

fn now_ms() -> u64 {
    worker::Date::now().as_millis()
}
