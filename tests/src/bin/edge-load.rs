//! Load on a running Baton edge: escalations and customer messages, next to a trivial
//! route of the same worker, at a fixed concurrency. Prints a Markdown table and a JSON
//! line. `cargo xtask bench edge` starts `wrangler dev` and runs this.
//!
//! Usage: `edge-load BASE_URL SITES ESCALATIONS MESSAGES_PER_CONVERSATION CONCURRENCY`
//! where SITES is a comma-separated list (escalations are spread over them).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use baton_protocol::{Author, EscalationAccepted, HandoffPacket, TranscriptEntry};
use baton_tests::escalation;
use serde_json::json;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

struct Phase {
    name: &'static str,
    latencies: Vec<Duration>,
    failures: usize,
    wall: Duration,
}

impl Phase {
    fn percentile(&self, p: f64) -> f64 {
        let mut sorted = self.latencies.clone();
        sorted.sort_unstable();
        let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
        sorted
            .get(index)
            .map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0)
    }

    fn throughput(&self) -> f64 {
        self.latencies.len() as f64 / self.wall.as_secs_f64()
    }
}

/// Runs `count` requests made by `request(i)` with at most `concurrency` in flight.
async fn run<F, Fut>(name: &'static str, count: usize, concurrency: usize, request: F) -> Phase
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = bool> + Send + 'static,
{
    let permits = Arc::new(Semaphore::new(concurrency));
    let mut tasks = JoinSet::new();
    let started = Instant::now();
    for i in 0..count {
        let permit = Arc::clone(&permits).acquire_owned().await.unwrap();
        let future = request(i);
        tasks.spawn(async move {
            let sent = Instant::now();
            let ok = future.await;
            drop(permit);
            (sent.elapsed(), ok)
        });
    }
    let mut phase = Phase {
        name,
        latencies: Vec::with_capacity(count),
        failures: 0,
        wall: Duration::ZERO,
    };
    while let Some(result) = tasks.join_next().await {
        let (latency, ok) = result.unwrap();
        phase.latencies.push(latency);
        if !ok {
            phase.failures += 1;
        }
    }
    phase.wall = started.elapsed();
    phase
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [base, sites, escalations, per_conversation, concurrency] = &args[..] else {
        eprintln!(
            "usage: edge-load BASE_URL SITES ESCALATIONS MESSAGES_PER_CONVERSATION CONCURRENCY"
        );
        std::process::exit(2);
    };
    let sites: Vec<String> = sites.split(',').map(str::to_owned).collect();
    let escalations: usize = escalations.parse().unwrap();
    let per_conversation: usize = per_conversation.parse().unwrap();
    let concurrency: usize = concurrency.parse().unwrap();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()
        .unwrap();
    let base = base.trim_end_matches('/').to_owned();

    let health = {
        let (http, url) = (http.clone(), format!("{base}/v1/health"));
        run(
            "GET /v1/health (trivial route)",
            escalations * per_conversation,
            concurrency,
            move |_| {
                let request = http.get(&url).send();
                async move { request.await.is_ok_and(|r| r.status().is_success()) }
            },
        )
        .await
    };

    let accepted: Arc<std::sync::Mutex<Vec<(String, EscalationAccepted)>>> = Arc::default();
    let create = {
        let (http, base, accepted) = (http.clone(), base.clone(), Arc::clone(&accepted));
        run("POST /v1/escalations", escalations, concurrency, move |i| {
            let site = sites[i % sites.len()].clone();
            let packet = HandoffPacket {
                summary: format!("Load test conversation {i}"),
                transcript: vec![TranscriptEntry {
                    author: Author::Customer,
                    text: "I would like to talk to a person about my order".into(),
                    at_ms: 1,
                }],
                language: "en".into(),
                ..HandoffPacket::default()
            };
            let request = http
                .post(format!("{base}/v1/escalations"))
                .json(&escalation(&site, packet))
                .send();
            let accepted = Arc::clone(&accepted);
            async move {
                let Ok(response) = request.await else {
                    return false;
                };
                if !response.status().is_success() {
                    return false;
                }
                let Ok(body) = response.json::<EscalationAccepted>().await else {
                    return false;
                };
                accepted.lock().unwrap().push((site, body));
                true
            }
        })
        .await
    };

    let conversations = accepted.lock().unwrap().clone();
    let messages = {
        let (http, base) = (http.clone(), base.clone());
        let total = conversations.len() * per_conversation;
        run(
            "POST /v1/conversations/{id}/messages",
            total,
            concurrency,
            move |i| {
                let (site, conversation) = &conversations[i % conversations.len()];
                let url = format!(
                    "{base}/v1/conversations/{}/messages?site={site}",
                    conversation.conversation_id
                );
                let request = http
                .post(url)
                .bearer_auth(&conversation.customer_token)
                .json(&json!({ "client_id": format!("load-{i}"), "text": format!("message {i}") }))
                .send();
                async move { request.await.is_ok_and(|r| r.status().is_success()) }
            },
        )
        .await
    };

    println!("| operation | requests | failures | p50 ms | p99 ms | req/s | p50 vs trivial |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    let baseline = health.percentile(0.5);
    let mut json_phases = Vec::new();
    for phase in [&health, &create, &messages] {
        let (p50, p99) = (phase.percentile(0.5), phase.percentile(0.99));
        println!(
            "| {} | {} | {} | {p50:.1} | {p99:.1} | {:.0} | {:.1}× |",
            phase.name,
            phase.latencies.len(),
            phase.failures,
            phase.throughput(),
            p50 / baseline
        );
        json_phases.push(json!({
            "operation": phase.name,
            "requests": phase.latencies.len(),
            "failures": phase.failures,
            "p50_ms": p50,
            "p99_ms": p99,
            "per_second": phase.throughput(),
        }));
    }
    println!(
        "{}",
        json!({ "concurrency": concurrency, "phases": json_phases })
    );
    if create.failures + messages.failures + health.failures > 0 {
        std::process::exit(1);
    }
}
