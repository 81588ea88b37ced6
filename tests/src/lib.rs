//! Shared fixtures for Baton's integration and end-to-end tests.
//!
//! The tests drive a real Baton: `cargo xtask test` builds everything, starts
//! `wrangler dev` on a free loopback port, and runs these tests with
//! `BATON_BASE_URL` and `BATON_AGENT_TOKEN` set. Browsers are real too: each browser
//! test starts its own chromedriver or geckodriver on a free port.
#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod browser;
pub mod proxy;
pub mod receiver;
pub mod spec;
pub mod wrangler;

use baton_protocol::{
    ConversationUpdate, EscalationAccepted, EscalationRequest, HandoffPacket, QueueSnapshot,
};
use serde::Serialize;

/// The running Baton under test.
#[derive(Debug, Clone)]
pub struct Baton {
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
    /// The agent token it was started with.
    pub agent_token: String,
    http: reqwest::Client,
}

impl Baton {
    /// Reads the environment `cargo xtask test` sets; panics with instructions if unset.
    pub fn from_env() -> Baton {
        let base_url = std::env::var("BATON_BASE_URL").expect(
            "BATON_BASE_URL is not set: these tests need a running Baton; run them with `cargo xtask test`",
        );
        let agent_token = std::env::var("BATON_AGENT_TOKEN").expect("BATON_AGENT_TOKEN is not set");
        Baton {
            base_url,
            agent_token,
            http: http_client(),
        }
    }

    /// The HTTP client.
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// `base_url` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// The page origin the test server allows for site `demo`.
    pub fn origin(&self) -> String {
        self.base_url.clone()
    }

    /// POSTs an escalation as the widget would (JSON, from the allowed origin).
    pub async fn post_escalation(&self, request: &EscalationRequest) -> reqwest::Response {
        self.http
            .post(self.url("/v1/escalations"))
            .header("origin", self.origin())
            .json(request)
            .send()
            .await
            .unwrap()
    }

    /// POSTs and expects success.
    pub async fn escalate(&self, request: &EscalationRequest) -> EscalationAccepted {
        let response = self.post_escalation(request).await;
        let status = response.status();
        let body = response.text().await.unwrap();
        assert!(status.is_success(), "escalation refused: {status} {body}");
        serde_json::from_str(&body).unwrap()
    }

    /// GETs an agent route (`path` with its query) with `token`; it must answer 200.
    pub async fn agent_get<T: serde::de::DeserializeOwned>(&self, token: &str, path: &str) -> T {
        let response = self
            .http
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        assert_eq!(status, 200, "GET {path}: {body}");
        serde_json::from_str(&body).unwrap()
    }

    /// The shared agent's view of a site's queue.
    pub async fn queue(&self, site: &str) -> QueueSnapshot {
        self.queue_as(&self.agent_token, site).await
    }

    /// One agent's view of a site's queue, in the order routed for them.
    pub async fn queue_as(&self, token: &str, site: &str) -> QueueSnapshot {
        self.agent_get(token, &format!("/v1/agent/queue?site={site}"))
            .await
    }
}

/// An HTTP client that opens a connection per request: `wrangler dev` closes idle
/// keep-alive connections, and a request sent on one it is closing fails with
/// `IncompleteMessage` (seen after a test waited for a lease, and, with connections kept
/// for up to a second, once on a loaded machine). On loopback a new connection is cheap.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .expect("an HTTP client with default TLS settings")
}

/// Runs each browser scenario `async fn name(kind: BrowserKind)` as two tests,
/// `name::chromium` and `name::firefox`.
#[macro_export]
macro_rules! in_both_browsers {
    ($($scenario:ident),* $(,)?) => {
        $(mod $scenario {
            #[tokio::test]
            async fn chromium() {
                super::$scenario($crate::browser::BrowserKind::Chromium).await;
            }

            #[tokio::test]
            async fn firefox() {
                super::$scenario($crate::browser::BrowserKind::Firefox).await;
            }
        })*
    };
}

/// A named agent the test server was started with (`BATON_AGENTS`).
#[derive(Debug, Clone, serde::Deserialize)]
pub struct TestAgent {
    /// Stable id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Bearer token.
    pub token: String,
}

impl Baton {
    /// The named agents (`sam`, `noor`) from `BATON_AGENTS`.
    pub fn agent(&self, id: &str) -> TestAgent {
        let json = std::env::var("BATON_AGENTS").expect("BATON_AGENTS is not set");
        let agents: Vec<TestAgent> = serde_json::from_str(&json).unwrap();
        agents.into_iter().find(|a| a.id == id).unwrap()
    }

    /// POSTs JSON to an agent route with `token`; returns status and body.
    pub async fn agent_post<T: Serialize>(
        &self,
        token: &str,
        action: &str,
        body: &T,
    ) -> (u16, serde_json::Value) {
        let response = self
            .http
            .post(self.url(&format!("/v1/agent/{action}")))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or_default())
    }

    /// What an agent action expected to be refused answers: its status and error code.
    pub async fn agent_refusal<T: Serialize>(
        &self,
        token: &str,
        action: &str,
        body: &T,
    ) -> (u16, Option<String>) {
        let (status, body) = self.agent_post(token, action, body).await;
        let code = body["error"]["code"].as_str().map(str::to_owned);
        (status, code)
    }

    /// An agent action that must succeed.
    pub async fn agent_ok<T: Serialize>(
        &self,
        token: &str,
        action: &str,
        body: &T,
    ) -> serde_json::Value {
        let (status, body) = self.agent_post(token, action, body).await;
        assert_eq!(status, 200, "{action} refused: {body}");
        body
    }

    /// The conversation's events after `after`, as the customer reads them.
    pub async fn customer_events(
        &self,
        site: &str,
        accepted: &EscalationAccepted,
        after: u64,
    ) -> ConversationUpdate {
        let url = self.url(&format!(
            "/v1/conversations/{}/events?site={site}&after={after}",
            accepted.conversation_id
        ));
        let response = self
            .http
            .get(url)
            .bearer_auth(&accepted.customer_token)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let body = response.text().await.unwrap();
        assert_eq!(status, 200, "events: {body}");
        serde_json::from_str(&body).unwrap()
    }

    /// POSTs to one of the customer's conversation routes with their token.
    pub async fn customer_post<T: Serialize>(
        &self,
        site: &str,
        accepted: &EscalationAccepted,
        action: &str,
        body: &T,
    ) -> reqwest::Response {
        let url = self.url(&format!(
            "/v1/conversations/{}/{action}?site={site}",
            accepted.conversation_id
        ));
        self.http
            .post(url)
            .header("origin", self.origin())
            .bearer_auth(&accepted.customer_token)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// The live channel's WebSocket URL for a conversation.
    pub fn live_url(&self, site: &str, accepted: &EscalationAccepted, after: u64) -> String {
        format!(
            "{}/v1/conversations/{}/live?site={site}&token={}&after={after}",
            self.base_url.replace("http://", "ws://"),
            accepted.conversation_id,
            accepted.customer_token
        )
    }
}

/// Unique text a customer or agent might write: like [`unique_id`] with letters for
/// digits, because the edge masks digit runs that look like phone numbers.
pub fn unique_text(prefix: &str) -> String {
    unique_id(prefix)
        .chars()
        .map(|c| match c.to_digit(10) {
            Some(digit) => char::from(b'a' + digit as u8),
            None => c,
        })
        .collect()
}

/// `hex(HMAC-SHA256(secret, id))` under `site`'s identity secret (`BATON_IDENTITY_SECRETS`),
/// as a site's server computes it for `Baton.identify`.
pub fn identity_hash(site: &str, id: &str) -> String {
    use hmac::{Hmac, Mac};
    let secrets: std::collections::BTreeMap<String, String> = serde_json::from_str(
        &std::env::var("BATON_IDENTITY_SECRETS").expect("BATON_IDENTITY_SECRETS is not set"),
    )
    .unwrap();
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secrets[site].as_bytes()).unwrap();
    mac.update(id.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// A fresh random-ish id for test data (unique per call within a run).
pub fn unique_id(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{prefix}-{nanos:x}-{}",
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// A minimal valid escalation for `site`.
pub fn escalation(site: &str, packet: HandoffPacket) -> EscalationRequest {
    EscalationRequest {
        site: site.to_owned(),
        visitor_id: unique_id("visitor"),
        idempotency_key: unique_id("key"),
        packet,
        identity: None,
    }
}
