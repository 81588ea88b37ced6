//! Shared fixtures for Baton's integration and end-to-end tests.
//!
//! The tests drive a real Baton: `cargo xtask test` builds everything, starts
//! `wrangler dev` on a free loopback port, and runs these tests with
//! `BATON_BASE_URL` and `BATON_AGENT_TOKEN` set. Browsers are real too: each browser
//! test starts its own chromedriver or geckodriver on a free port.
#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod browser;
pub mod receiver;
pub mod wrangler;

use baton_protocol::{EscalationAccepted, EscalationRequest, HandoffPacket, QueueSnapshot};

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
            http: reqwest::Client::new(),
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

    /// The agent's view of a site's queue.
    pub async fn queue(&self, site: &str) -> QueueSnapshot {
        let response = self
            .http
            .get(self.url(&format!("/v1/agent/queue?site={site}")))
            .bearer_auth(&self.agent_token)
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            200,
            "queue: {}",
            response.text().await.unwrap_or_default()
        );
        response.json().await.unwrap()
    }
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
    }
}
