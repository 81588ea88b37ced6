//! `WebhookOutbox`: one Durable Object per site that relays events to the site's
//! external human queue (Standard Webhooks), at least once.
//!
//! Each pending [`Delivery`] is a storage key of its own, listed in an index; one alarm
//! is kept at the earliest due time. `alarm()` attempts every due delivery: it stores
//! the started attempt first (so a killed process tries again after a restart), sends
//! the signed request under the timeout, then stores the outcome. The schedule lives in
//! storage, driven by our own alarms: `alarm()` never returns an error, so the
//! platform's alarm retries never run. After the last attempt a delivery is a dead
//! letter, listed and replayable through the agent API.

// `#[durable_object]` generates undocumented glue for the runtime.
#![allow(missing_docs)]

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use baton_protocol::{WebhookDeliveries, WebhookDeliverySummary, WebhookEvent, WebhookReplay};
use baton_relay::{
    dead_letters_over_limit, parse_retry_after, validate_id, Delivery, LastOutcome, Limits,
    SiteSecrets, WebhookSettings,
};
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::wasm_bindgen;
use worker::{
    durable_object, AbortController, Delay, DurableObject, Env, Fetch, Headers, Method, Request,
    RequestInit, RequestRedirect, Response, Result, ScheduledTime, State,
};

use crate::agent::agent_works_on;
use crate::error::EdgeError;
use crate::routes::{
    authorize_agent, internal_request, json_response, site_directory, site_webhook_secrets,
};

/// The binding name of the `WebhookOutbox` namespace in `wrangler.toml`.
const WEBHOOK_OUTBOX_BINDING: &str = "WEBHOOK_OUTBOX";
const INDEX_KEY: &str = "index";
const SITE_KEY: &str = "site";

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = crypto, js_name = randomUUID)]
    fn random_uuid() -> String;
}

/// What the worker hands the outbox for a new event.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct NewDelivery {
    site: String,
    id: String,
    event_type: String,
    conversation_id: String,
    payload: String,
}

impl NewDelivery {
    /// One event of any type for the site's receiver. `data` becomes the `data` of a
    /// `{"type","timestamp","data"}` body; the delivery gets a fresh `webhook-id`, which
    /// stays the same however often the delivery is handed over.
    pub(crate) fn new<T: Serialize>(
        site: &str,
        event_type: &str,
        conversation_id: &str,
        data: &T,
    ) -> Result<NewDelivery, EdgeError> {
        let now_ms = worker::Date::now().as_millis();
        let event = WebhookEvent {
            event_type: event_type.to_owned(),
            timestamp: rfc3339(now_ms),
            data,
        };
        let payload = serde_json::to_string(&event)
            .map_err(|err| worker::Error::RustError(err.to_string()))?;
        Ok(NewDelivery {
            site: site.to_owned(),
            id: format!("msg_{}", random_uuid().replace('-', "")),
            event_type: event_type.to_owned(),
            conversation_id: conversation_id.to_owned(),
            payload,
        })
    }

    /// The same delivery with the `webhook-id` `id`: an event that may be produced
    /// again (a retried request) keeps one id, so the outbox takes it once.
    pub(crate) fn with_id(self, id: String) -> NewDelivery {
        NewDelivery { id, ..self }
    }

    /// The `webhook-id` the receiver will see.
    pub(crate) fn id(&self) -> &str {
        &self.id
    }
}

/// Hands a delivery to the site's outbox, which then owns it until delivered or dead.
pub(crate) async fn hand_over(env: &Env, new: &NewDelivery) -> Result<(), EdgeError> {
    let stub = env
        .durable_object(WEBHOOK_OUTBOX_BINDING)?
        .get_by_name(&new.site)?;
    // A few quick tries: the outbox stores a delivery id once, so a try whose answer was
    // lost cannot queue the event twice.
    const TRIES: u32 = 3;
    let mut attempt = 1;
    loop {
        let outcome = match stub
            .fetch_with_request(internal_request("/enqueue", Method::Post, Some(new))?)
            .await
        {
            Ok(response) if response.status_code() == 201 => return Ok(()),
            Ok(response) => EdgeError::Internal(worker::Error::RustError(format!(
                "outbox answered {} to enqueue",
                response.status_code()
            ))),
            Err(err) => EdgeError::Internal(err),
        };
        if attempt == TRIES {
            return Err(outcome);
        }
        attempt += 1;
        Delay::from(Duration::from_millis(100)).await;
    }
}

/// The agent routes under `/v1/agent/webhooks`.
pub(crate) async fn route(mut request: Request, env: &Env) -> Result<Response, EdgeError> {
    let path = request.path();
    // Like every agent route, nothing is said to a caller without a token, not even
    // which paths exist.
    let agent = authorize_agent(&request, env)?;
    let works_on = |site: &str| agent_works_on(&agent, site);
    match (request.method(), path.as_str()) {
        (Method::Get, "/v1/agent/webhooks") => {
            #[derive(Deserialize)]
            struct ListQuery {
                site: String,
            }
            let query: ListQuery = request
                .query()
                .map_err(|_| EdgeError::BadQueryParameters("`site` is required"))?;
            works_on(&query.site)?;
            let stub = configured_outbox(env, &query.site)?;
            Ok(stub
                .fetch_with_request(internal_request("/list", Method::Get, None::<&()>)?)
                .await?)
        }
        (Method::Post, "/v1/agent/webhooks/replay") => {
            let replay: WebhookReplay = crate::routes::read_json(&mut request).await?;
            validate_id(&replay.id, "id", &Limits::default())?;
            works_on(&replay.site)?;
            let stub = configured_outbox(env, &replay.site)?;
            Ok(stub
                .fetch_with_request(internal_request("/replay", Method::Post, Some(&replay))?)
                .await?)
        }
        (_, "/v1/agent/webhooks" | "/v1/agent/webhooks/replay") => Err(EdgeError::MethodNotAllowed),
        _ => Err(EdgeError::NotFound),
    }
}

fn configured_outbox(env: &Env, site: &str) -> Result<worker::Stub, EdgeError> {
    validate_id(site, "site", &Limits::default())?;
    if site_directory(env)?.get(site).is_none() {
        return Err(EdgeError::UnknownSite(site.to_owned()));
    }
    Ok(env
        .durable_object(WEBHOOK_OUTBOX_BINDING)?
        .get_by_name(site)?)
}

fn rfc3339(ms: u64) -> String {
    // Millisecond timestamps are exact in an f64.
    #[allow(clippy::cast_precision_loss)]
    let date = worker::js_sys::Date::new(&worker::wasm_bindgen::JsValue::from_f64(ms as f64));
    String::from(date.to_iso_string())
}

/// The outbox of one site.
#[durable_object]
pub struct WebhookOutbox {
    state: State,
    env: Env,
}

impl DurableObject for WebhookOutbox {
    fn new(state: State, env: Env) -> Self {
        WebhookOutbox { state, env }
    }

    async fn fetch(&self, request: Request) -> Result<Response> {
        let result = match (request.method(), request.path().as_str()) {
            (Method::Post, "/enqueue") => self.accept(request).await,
            (Method::Get, "/list") => self.list().await,
            (Method::Post, "/replay") => self.replay(request).await,
            _ => Err(EdgeError::NotFound),
        };
        Ok(result.unwrap_or_else(EdgeError::into_response))
    }

    async fn alarm(&self) -> Result<Response> {
        // Never an error: our schedule, not the platform's alarm retries, decides.
        if let Err(err) = self.deliver_due().await {
            worker::console_error!("webhook outbox: {err}");
            let retry_at = worker::Date::now().as_millis() + 5_000;
            if let Err(err) = self.arm(Some(retry_at)).await {
                worker::console_error!("webhook outbox: cannot set alarm: {err}");
            }
        }
        Response::ok("")
    }
}

impl WebhookOutbox {
    async fn accept(&self, mut request: Request) -> Result<Response, EdgeError> {
        let new: NewDelivery = request.json().await?;
        let storage = self.state.storage();
        if storage
            .get::<Delivery>(&delivery_key(&new.id))
            .await?
            .is_some()
        {
            // The same enqueue tried again: it is queued already.
            return json_response(201, &serde_json::json!({ "id": new.id }));
        }
        let settings = self.settings()?;
        storage.put(SITE_KEY, &new.site).await?;
        let delivery = Delivery::new(
            new.id,
            new.event_type,
            new.conversation_id,
            new.payload,
            worker::Date::now().as_millis(),
            &settings.schedule,
        );
        storage.put(&delivery_key(&delivery.id), &delivery).await?;
        let mut index = self.index().await?;
        index.push(delivery.id.clone());
        storage.put(INDEX_KEY, &index).await?;
        self.rearm().await?;
        json_response(201, &serde_json::json!({ "id": delivery.id }))
    }

    async fn list(&self) -> Result<Response, EdgeError> {
        let mut listed = WebhookDeliveries::default();
        for delivery in self.deliveries().await? {
            let summary = WebhookDeliverySummary {
                id: delivery.id.clone(),
                event_type: delivery.event_type.clone(),
                conversation_id: delivery.conversation_id.clone(),
                attempts: delivery.attempts,
                next_due_ms: delivery.next_due_ms,
                last_outcome: delivery.last_outcome.map(LastOutcome::describe),
            };
            if delivery.is_dead_letter() {
                listed.dead_letters.push(summary);
            } else {
                listed.pending.push(summary);
            }
        }
        listed.pending.sort_by_key(|d| d.next_due_ms);
        json_response(200, &listed)
    }

    async fn replay(&self, mut request: Request) -> Result<Response, EdgeError> {
        let replay: WebhookReplay = request.json().await?;
        let storage = self.state.storage();
        let mut delivery = storage
            .get::<Delivery>(&delivery_key(&replay.id))
            .await?
            .ok_or_else(|| EdgeError::UnknownDelivery(replay.id.clone()))?;
        if !delivery.is_dead_letter() {
            return Err(EdgeError::NotDeadLettered(replay.id));
        }
        delivery.replay(worker::Date::now().as_millis());
        storage.put(&delivery_key(&delivery.id), &delivery).await?;
        self.rearm().await?;
        json_response(202, &serde_json::json!({ "id": delivery.id }))
    }

    async fn deliver_due(&self) -> Result<(), EdgeError> {
        let settings = self.settings()?;
        let storage = self.state.storage();
        let site: Option<String> = storage.get(SITE_KEY).await?;
        let target = site.as_deref().and_then(|site| self.target(site));
        let mut dead_lettered = false;
        for id in self.index().await? {
            let key = delivery_key(&id);
            let Some(mut delivery) = storage.get::<Delivery>(&key).await? else {
                continue;
            };
            let now_ms = worker::Date::now().as_millis();
            if !delivery.is_due(now_ms) {
                continue;
            }
            delivery.start_attempt(now_ms, settings.timeout_ms);
            storage.put(&key, &delivery).await?;
            let (outcome, retry_after_ms) = match &target {
                Some((url, secrets)) => attempt(url, secrets, &delivery, settings.timeout_ms).await,
                None => (LastOutcome::NotConfigured, None),
            };
            let done = delivery.finish_attempt(
                outcome,
                retry_after_ms,
                worker::Date::now().as_millis(),
                &settings.schedule,
            );
            worker::console_log!(
                "webhook {} attempt {}: {}",
                delivery.id,
                delivery.attempts,
                outcome.describe()
            );
            if done {
                storage.delete(&key).await?;
                let mut index = self.index().await?;
                index.retain(|other| other != &id);
                storage.put(INDEX_KEY, &index).await?;
            } else {
                dead_lettered |= delivery.is_dead_letter();
                storage.put(&key, &delivery).await?;
            }
        }
        // One read of what is left serves both the limit on dead letters and the alarm
        // (a dead letter is never due, so forgetting one does not move the alarm).
        let deliveries = self.deliveries().await?;
        if dead_lettered {
            self.forget(&dead_letters_over_limit(&deliveries)).await?;
        }
        self.arm(earliest_due(&deliveries)).await
    }

    /// Deletes these deliveries (dead letters beyond
    /// [`MAX_DEAD_LETTERS`](baton_relay::MAX_DEAD_LETTERS)).
    async fn forget(&self, ids: &[&str]) -> Result<(), EdgeError> {
        if ids.is_empty() {
            return Ok(());
        }
        let storage = self.state.storage();
        for id in ids {
            storage.delete(&delivery_key(id)).await?;
        }
        let mut index = self.index().await?;
        index.retain(|id| !ids.contains(&id.as_str()));
        storage.put(INDEX_KEY, &index).await?;
        Ok(())
    }

    /// The site's receiver URL and secrets, if both are configured.
    fn target(&self, site: &str) -> Option<(String, SiteSecrets)> {
        let url = site_directory(&self.env)
            .ok()?
            .get(site)?
            .webhook_url
            .clone()?;
        match site_webhook_secrets(&self.env, site) {
            Ok(secrets) => secrets.map(|secrets| (url, secrets)),
            Err(err) => {
                worker::console_error!("webhook outbox: {err}");
                None
            }
        }
    }

    fn settings(&self) -> Result<WebhookSettings, EdgeError> {
        let schedule = self
            .env
            .var("BATON_WEBHOOK_SCHEDULE")
            .ok()
            .map(|v| v.to_string());
        let timeout = self
            .env
            .var("BATON_WEBHOOK_TIMEOUT_MS")
            .ok()
            .map(|v| v.to_string());
        Ok(WebhookSettings::from_vars(
            schedule.as_deref(),
            timeout.as_deref(),
        )?)
    }

    async fn index(&self) -> Result<Vec<String>, EdgeError> {
        Ok(self
            .state
            .storage()
            .get(INDEX_KEY)
            .await?
            .unwrap_or_default())
    }

    async fn deliveries(&self) -> Result<Vec<Delivery>, EdgeError> {
        let storage = self.state.storage();
        let mut deliveries = Vec::new();
        for id in self.index().await? {
            if let Some(delivery) = storage.get::<Delivery>(&delivery_key(&id)).await? {
                deliveries.push(delivery);
            }
        }
        Ok(deliveries)
    }

    /// Keeps the one alarm at the earliest due delivery.
    async fn rearm(&self) -> Result<(), EdgeError> {
        self.arm(earliest_due(&self.deliveries().await?)).await
    }

    async fn arm(&self, at_ms: Option<u64>) -> Result<(), EdgeError> {
        let storage = self.state.storage();
        match at_ms {
            Some(at_ms) => {
                // An `i64` would be an offset from now; the alarm wants an absolute time.
                #[allow(clippy::cast_precision_loss)]
                let at = worker::js_sys::Date::new(&worker::wasm_bindgen::JsValue::from_f64(
                    at_ms as f64,
                ));
                storage.set_alarm(ScheduledTime::new(at)).await?;
            }
            None => storage.delete_alarm().await?,
        }
        Ok(())
    }
}

/// When the next of `deliveries` is due, if any is.
fn earliest_due(deliveries: &[Delivery]) -> Option<u64> {
    deliveries.iter().filter_map(|d| d.next_due_ms).min()
}

fn delivery_key(id: &str) -> String {
    format!("delivery:{id}")
}

/// One signed attempt under the timeout. Only the status and `Retry-After` are read;
/// the receiver's body is ignored.
async fn attempt(
    url: &str,
    secrets: &SiteSecrets,
    delivery: &Delivery,
    timeout_ms: u64,
) -> (LastOutcome, Option<u64>) {
    let timestamp = worker::Date::now().as_millis() / 1_000;
    let headers = Headers::new();
    let signature = secrets.sign(&delivery.id, timestamp, delivery.payload.as_bytes());
    for (name, value) in [
        ("content-type", "application/json"),
        ("webhook-id", delivery.id.as_str()),
        ("webhook-timestamp", &timestamp.to_string()),
        ("webhook-signature", &signature),
        ("user-agent", "Baton-Webhooks/1"),
    ] {
        if headers.set(name, value).is_err() {
            return (LastOutcome::ConnectError, None);
        }
    }
    let mut init = RequestInit::new();
    // A redirect is the receiver's answer, not a new address: following it could leave
    // https for http, or the site's receiver for anywhere.
    init.with_method(Method::Post)
        .with_redirect(RequestRedirect::Manual)
        .with_headers(headers)
        .with_body(Some(delivery.payload.clone().into()));
    let Ok(request) = Request::new_with_init(url, &init) else {
        return (LastOutcome::ConnectError, None);
    };
    let controller = AbortController::default();
    let signal = controller.signal();
    let timed_out = Rc::new(Cell::new(false));
    let flag = Rc::clone(&timed_out);
    worker::wasm_bindgen_futures::spawn_local(async move {
        Delay::from(Duration::from_millis(timeout_ms)).await;
        flag.set(true);
        controller.abort();
    });
    match Fetch::Request(request).send_with_signal(&signal).await {
        Ok(response) => {
            let retry_after = response
                .headers()
                .get("retry-after")
                .ok()
                .flatten()
                .and_then(|value| parse_retry_after(&value));
            (LastOutcome::Status(response.status_code()), retry_after)
        }
        Err(_) if timed_out.get() => (LastOutcome::Timeout, None),
        Err(_) => (LastOutcome::ConnectError, None),
    }
}
