//! Issue 5: relaying escalations to an external human queue with Standard Webhooks.
//!
//! Runs its own `wrangler dev` (so it can kill and restart it mid-delivery) with a
//! compressed schedule (`0,1,2,3` s, 1 s timeout) and real receivers on loopback, one
//! per site, each scripted to fail in its own way.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use baton_protocol::{
    Author, EscalationCreated, EscalationReason, HandoffPacket, TranscriptEntry, WebhookDeliveries,
    WebhookEvent, CONVERSATION_CLOSED, CONVERSATION_MESSAGE, ESCALATION_CREATED,
};
use baton_relay::WebhookSecret;
use baton_tests::browser::{click_inside, Browser, BrowserKind};
use baton_tests::receiver::{unix_seconds, Answer, Received, Receiver};
use baton_tests::spec::{spec, validate};
use baton_tests::wrangler::{workspace_root, Wrangler};
use baton_tests::{escalation, unique_id, Baton};
use fantoccini::Locator;

const TOKEN: &str = "webhook-test-token";
const PATIENCE: Duration = Duration::from_secs(60);

fn packet() -> HandoffPacket {
    HandoffPacket {
        intent: None,
        reasons: vec![EscalationReason::ExplicitRequest],
        sentiment: vec![],
        answers_shown: vec![],
        summary: "Wants a person".into(),
        transcript: vec![TranscriptEntry {
            author: Author::Customer,
            text: "my email is jane@example.com, please call".into(),
            at_ms: 1,
        }],
        language: "en".into(),
    }
}

/// Every delivery signed, one escalation event per id, all attempts of an id identical.
fn assert_well_formed(received: &[Received]) {
    assert!(!received.is_empty());
    for delivery in received {
        assert!(delivery.signature_valid, "bad signature on {}", delivery.id);
        assert_fits_the_spec(delivery);
        let event: WebhookEvent<EscalationCreated> = serde_json::from_str(&delivery.body).unwrap();
        assert_eq!(event.event_type, ESCALATION_CREATED);
        assert!(
            !delivery.body.contains("jane@example.com"),
            "the relayed packet is redacted"
        );
        for other in received {
            if other.id == delivery.id {
                assert_eq!(other.body, delivery.body, "a retry changed the body");
            }
        }
    }
}

/// The delivery's body fits the schema the spec documents for its event type (the
/// webhook in `www/docs/openapi.json` whose example has the same `type`).
fn assert_fits_the_spec(received: &Received) {
    let spec = spec();
    let body: serde_json::Value = serde_json::from_str(&received.body).unwrap();
    let documented = spec["webhooks"]
        .as_object()
        .unwrap()
        .values()
        .map(|hook| &hook["post"]["requestBody"]["content"]["application/json"])
        .find(|content| content["example"]["type"] == body["type"])
        .unwrap_or_else(|| panic!("{} is not documented", body["type"]));
    let mut problems = Vec::new();
    validate(
        &spec,
        &documented["schema"],
        &body,
        "delivery",
        &mut problems,
    );
    assert!(problems.is_empty(), "{problems:#?}");
}

fn conversation_of(received: &Received) -> String {
    let event: WebhookEvent<EscalationCreated> = serde_json::from_str(&received.body).unwrap();
    event.data.conversation_id
}

async fn deliveries(baton: &Baton, site: &str) -> WebhookDeliveries {
    let response = baton
        .http()
        .get(baton.url(&format!("/v1/agent/webhooks?site={site}")))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn wait_for_deliveries(
    baton: &Baton,
    site: &str,
    what: &str,
    check: impl Fn(&WebhookDeliveries) -> bool,
) -> WebhookDeliveries {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let listed = deliveries(baton, site).await;
        if check(&listed) {
            return listed;
        }
        assert!(
            Instant::now() < deadline,
            "site {site}: timed out waiting for {what}: {listed:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The secret the `rotating` site moves to; its receiver still has the old one.
fn rotated_secret() -> WebhookSecret {
    WebhookSecret::from_key(vec![42; 32])
}

struct Sites {
    receivers: Vec<(String, Receiver)>,
    /// Each site's entry in `BATON_WEBHOOK_SECRETS`: its receiver's secret unless set.
    secrets: serde_json::Map<String, serde_json::Value>,
}

impl Sites {
    async fn new(names: &[&str]) -> Sites {
        let mut receivers = Vec::new();
        let mut secrets = serde_json::Map::new();
        for name in names {
            let receiver = Receiver::start().await;
            secrets.insert((*name).to_owned(), receiver.whsec().into());
            receivers.push(((*name).to_owned(), receiver));
        }
        Sites { receivers, secrets }
    }

    fn set_secret(&mut self, site: &str, entry: serde_json::Value) {
        self.secrets.insert(site.to_owned(), entry);
    }

    fn vars(&self) -> Vec<(String, String)> {
        let sites: serde_json::Map<String, serde_json::Value> = self
            .receivers
            .iter()
            .map(|(site, receiver)| {
                (
                    site.clone(),
                    serde_json::json!({ "allowed_origins": ["*"], "webhook_url": receiver.url() }),
                )
            })
            .collect();
        vec![
            ("BATON_AGENT_TOKEN".into(), TOKEN.into()),
            (
                "BATON_SITES".into(),
                serde_json::Value::from(sites).to_string(),
            ),
            (
                "BATON_WEBHOOK_SECRETS".into(),
                serde_json::Value::from(self.secrets.clone()).to_string(),
            ),
            ("BATON_WEBHOOK_SCHEDULE".into(), "0,1,2,3".into()),
            ("BATON_WEBHOOK_TIMEOUT_MS".into(), "1000".into()),
        ]
    }

    fn get(&mut self, site: &str) -> &mut Receiver {
        &mut self
            .receivers
            .iter_mut()
            .find(|(name, _)| name == site)
            .unwrap()
            .1
    }
}

/// An agent opens the console on `site`, sees the dead letter of the conversation whose
/// id starts with `conversation`, and replays it with its button.
async fn replay_in_the_console(baton: &Baton, site: &str, conversation: &str) {
    let browser = Browser::start(BrowserKind::Chromium).await;
    browser.client.goto(&baton.url("/agent/")).await.unwrap();
    let field = |css: &'static str| browser.client.find(Locator::Css(css));
    field("#site").await.unwrap().clear().await.unwrap();
    field("#site").await.unwrap().send_keys(site).await.unwrap();
    field("#token")
        .await
        .unwrap()
        .send_keys(TOKEN)
        .await
        .unwrap();
    field("#connect button")
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let letter = browser
        .wait_for_page_text(".dead-letter", &format!("conversation {conversation}"))
        .await;
    assert!(letter.text().await.unwrap().contains("4 attempts"));
    let violations = browser.axe_violations().await;
    assert_eq!(violations, serde_json::json!([]), "axe-core violations");
    browser.screenshot("console-dead-letter").await;
    click_inside(&letter, "button.replay").await;
    browser
        .wait_for_page_text("#status", "Sent to the helpdesk again")
        .await;
    browser.close().await;
}

fn baton(wrangler: &Wrangler) -> Baton {
    std::env::set_var("BATON_BASE_URL", wrangler.base_url());
    std::env::set_var("BATON_AGENT_TOKEN", TOKEN);
    Baton::from_env()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_5_every_escalation_is_relayed_at_least_once() {
    let mut sites = Sites::new(&[
        "flaky",
        "patient",
        "gone",
        "dead",
        "down",
        "killed",
        "chatty",
        "late",
        "moved",
        "rotating",
        "misconfigured",
    ])
    .await;
    // `rotating` is changing its secret: the new one first, then the one its receiver
    // still has. `misconfigured` has a secret that does not parse.
    let rotating = serde_json::json!([rotated_secret().to_whsec(), sites.get("rotating").whsec()]);
    sites.set_secret("rotating", rotating);
    sites.set_secret("misconfigured", serde_json::json!("whsec_not base64"));
    let elsewhere = Receiver::start().await;
    let state = workspace_root().join(format!("target/test-state/{}", unique_id("webhooks")));
    let mut wrangler = Wrangler::start(&state, sites.vars()).await;
    let baton = baton(&wrangler);

    // 500, a hang past the timeout, 500 again: delivered on the fourth and last attempt.
    sites
        .get("flaky")
        .script([Answer::Status(500), Answer::Hang, Answer::Status(500)]);
    // 429 asking for 3 s although the schedule says 1 s.
    sites
        .get("patient")
        .script([Answer::TooManyRequests { retry_after_s: 3 }]);
    // 410: stop at once.
    sites.get("gone").script([Answer::Status(410)]);
    // Fails every scheduled attempt: dead letter, then a replay is delivered.
    sites.get("dead").script([Answer::Status(500); 4]);
    // A redirect is a failed attempt, never followed to another address.
    sites.get("moved").script(
        [Answer::RedirectTo {
            port: elsewhere.port,
        }; 4],
    );

    let mut accepted = Vec::new();
    for site in ["flaky", "patient", "gone", "dead", "moved", "rotating"] {
        let conversation = baton.escalate(&escalation(site, packet())).await;
        // The helpdesk's people are invisible to the queue: nobody in the console does
        // not mean nobody at all, so the customer is not told that.
        assert_eq!(conversation.agents_online, None, "{site}");
        accepted.push((site, conversation.conversation_id));
    }

    // Accepted into the built-in queue, but its secret is wrong, so it is relayed nowhere
    // (checked below) and is not among those every receiver must get.
    let unrelayed = baton.escalate(&escalation("misconfigured", packet())).await;

    // The idempotent replay of an escalation (200) relays nothing more.
    let again = escalation("flaky", packet());
    let first = baton.escalate(&again).await;
    let replayed = baton.escalate(&again).await;
    assert_eq!(first.conversation_id, replayed.conversation_id);
    accepted.push(("flaky", first.conversation_id));

    let flaky = sites
        .get("flaky")
        .wait_until("both flaky escalations delivered", PATIENCE, |r| {
            r.iter().filter(|d| d.answer == Answer::Status(204)).count() == 2
        })
        .await;
    assert_well_formed(&flaky);
    let ids: std::collections::BTreeSet<_> = flaky.iter().map(|d| d.id.clone()).collect();
    assert_eq!(
        ids.len(),
        2,
        "one webhook-id per escalation, reused on retries"
    );
    assert!(
        flaky.len() >= 5,
        "the first needed four attempts: {flaky:?}"
    );

    let patient = sites
        .get("patient")
        .wait_until("a delivery after Retry-After", PATIENCE, |r| {
            r.iter().any(|d| d.answer == Answer::Status(204))
        })
        .await;
    assert_well_formed(&patient);
    let waited = patient[1].at.duration_since(patient[0].at);
    assert!(
        waited >= Duration::from_millis(2_900),
        "Retry-After: 3 was not honoured; retried after {waited:?}"
    );

    let dead_letter = wait_for_deliveries(&baton, "gone", "410 to dead-letter", |d| {
        d.dead_letters.len() == 1
    })
    .await;
    assert_eq!(dead_letter.dead_letters[0].attempts, 1, "410 stops retries");
    assert_eq!(
        dead_letter.dead_letters[0].last_outcome.as_deref(),
        Some("410")
    );
    assert!(dead_letter.pending.is_empty());

    let dead = wait_for_deliveries(&baton, "dead", "a dead letter after 4 attempts", |d| {
        d.dead_letters.len() == 1
    })
    .await;
    let letter = &dead.dead_letters[0];
    assert_eq!(letter.attempts, 4);
    assert_eq!(letter.last_outcome.as_deref(), Some("500"));
    assert_eq!(letter.next_due_ms, None);
    assert_eq!(sites.get("dead").received().len(), 4);
    let dead_conversation = &accepted.iter().find(|(s, _)| *s == "dead").unwrap().1;
    assert_eq!(&letter.conversation_id, dead_conversation);
    let queue = baton.queue("dead").await;
    assert!(
        queue
            .waiting
            .iter()
            .any(|w| &w.conversation_id == dead_conversation),
        "a dead-lettered escalation is still in the built-in queue"
    );
    let moved = wait_for_deliveries(&baton, "moved", "redirects to dead-letter", |d| {
        d.dead_letters.len() == 1
    })
    .await;
    assert_eq!(moved.dead_letters[0].attempts, 4);
    assert_eq!(moved.dead_letters[0].last_outcome.as_deref(), Some("307"));
    assert_eq!(sites.get("moved").received().len(), 4);
    assert!(
        elsewhere.received().is_empty(),
        "a redirect was followed to another address"
    );
    // While a site's secret is rotated, every delivery is signed with the new secret
    // and with the old one, so receivers on either side of the change accept it.
    let rotating = sites
        .get("rotating")
        .wait_until("a delivery during a rotation", PATIENCE, |r| !r.is_empty())
        .await;
    assert_well_formed(&rotating);
    let now = unix_seconds();
    for delivery in &rotating {
        let by_new = rotated_secret().verify(
            &delivery.id,
            delivery.timestamp,
            &delivery.signature,
            delivery.body.as_bytes(),
            now,
        );
        assert_eq!(by_new, Ok(()), "not signed with the new secret");
    }
    // A mistake in one site's secret stops that site's deliveries only (every other
    // site here was delivered): a dead letter the operator can replay once it is fixed.
    let misconfigured = wait_for_deliveries(
        &baton,
        "misconfigured",
        "a dead letter for a bad secret",
        |d| d.dead_letters.len() == 1,
    )
    .await;
    let letter_of_misconfigured = &misconfigured.dead_letters[0];
    assert_eq!(
        letter_of_misconfigured.last_outcome.as_deref(),
        Some("not configured")
    );
    assert_eq!(
        letter_of_misconfigured.conversation_id,
        unrelayed.conversation_id
    );
    assert!(sites.get("misconfigured").received().is_empty());
    replay_in_the_console(&baton, "dead", &dead_conversation[..8]).await;
    let dead_received = sites
        .get("dead")
        .wait_until("the replayed dead letter", PATIENCE, |r| {
            r.iter().any(|d| d.answer == Answer::Status(204))
        })
        .await;
    assert_well_formed(&dead_received);
    assert!(dead_received.iter().all(|d| d.id == letter.id));
    wait_for_deliveries(&baton, "dead", "the replay to finish", |d| {
        d.dead_letters.is_empty() && d.pending.is_empty()
    })
    .await;

    // Down for a while: connection errors, then delivered once it listens again.
    sites.get("down").go_down();
    let down_conversation = baton.escalate(&escalation("down", packet())).await;
    accepted.push(("down", down_conversation.conversation_id));
    wait_for_deliveries(&baton, "down", "connection errors while down", |d| {
        d.pending
            .first()
            .is_some_and(|p| p.attempts >= 2 && p.last_outcome.as_deref() == Some("connect error"))
    })
    .await;
    sites.get("down").come_up().await;
    let down = sites
        .get("down")
        .wait_until("delivery once back up", PATIENCE, |r| !r.is_empty())
        .await;
    assert_well_formed(&down);

    // Killed mid-delivery: the receiver holds the first attempt open, wrangler dies,
    // and after a restart on the same state the event is delivered with the same id.
    sites.get("killed").script([Answer::Hang]);
    let killed = baton.escalate(&escalation("killed", packet())).await;
    sites
        .get("killed")
        .wait_until("the first attempt to arrive", PATIENCE, |r| !r.is_empty())
        .await;
    wrangler.kill();
    wrangler.restart().await;
    let killed_received = sites
        .get("killed")
        .wait_until("delivery after the restart", PATIENCE, |r| {
            r.iter().any(|d| d.answer == Answer::Status(204))
        })
        .await;
    assert_well_formed(&killed_received);
    assert!(killed_received
        .iter()
        .all(|d| d.id == killed_received[0].id));
    assert_eq!(conversation_of(&killed_received[0]), killed.conversation_id);

    // After the escalation the helpdesk follows the conversation: the customer's
    // messages (redacted) and its end, each its own signed delivery.
    let chatty = baton.escalate(&escalation("chatty", packet())).await;
    let message = serde_json::json!({
        "client_id": unique_id("message"),
        "text": "my card is 4111 1111 1111 1111",
    });
    let sent = baton
        .customer_post("chatty", &chatty, "messages", &message)
        .await;
    assert_eq!(sent.status(), 201);
    let closed = baton
        .customer_post("chatty", &chatty, "close", &serde_json::json!({}))
        .await;
    assert_eq!(closed.status(), 200);
    let followed = sites
        .get("chatty")
        .wait_until("the escalation, the message and the end", PATIENCE, |r| {
            r.len() >= 3
        })
        .await;
    let mut seen: Vec<(String, Option<u64>)> = Vec::new();
    for delivery in &followed {
        assert!(delivery.signature_valid, "bad signature on {}", delivery.id);
        assert!(
            !delivery.body.contains("4111"),
            "relayed messages are redacted"
        );
        assert_fits_the_spec(delivery);
        let event: WebhookEvent<serde_json::Value> = serde_json::from_str(&delivery.body).unwrap();
        assert_eq!(
            event.data["conversation_id"],
            chatty.conversation_id.as_str()
        );
        seen.push((event.event_type, event.data["event"]["seq"].as_u64()));
    }
    seen.sort_by_key(|(_, seq)| *seq);
    let types: Vec<&str> = seen.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(
        types,
        [
            ESCALATION_CREATED,
            CONVERSATION_MESSAGE,
            CONVERSATION_CLOSED
        ],
        "{seen:?}"
    );

    // A deploy with broken outbox settings: the outbox takes no event. The escalation
    // and the customer's message still succeed, their conversation keeps both events,
    // and its alarm hands them over, in order, once a fixed deploy is running.
    let broken: Vec<(String, String)> = sites
        .vars()
        .into_iter()
        .map(|(name, value)| match name.as_str() {
            "BATON_WEBHOOK_SCHEDULE" => (name, "soon".to_owned()),
            _ => (name, value),
        })
        .collect();
    wrangler.restart_with(broken).await;
    let late = baton.escalate(&escalation("late", packet())).await;
    let message = serde_json::json!({ "client_id": unique_id("message"), "text": "still there?" });
    let sent = baton
        .customer_post("late", &late, "messages", &message)
        .await;
    assert_eq!(sent.status(), 201);
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(sites.get("late").received().is_empty());
    wrangler.restart_with(sites.vars()).await;
    let late_received = sites
        .get("late")
        .wait_until("the kept escalation and message", PATIENCE, |r| {
            r.len() >= 2
        })
        .await;
    let mut kept: Vec<(Option<u64>, String)> = late_received
        .iter()
        .map(|delivery| {
            assert!(delivery.signature_valid, "bad signature on {}", delivery.id);
            assert_fits_the_spec(delivery);
            let event: WebhookEvent<serde_json::Value> =
                serde_json::from_str(&delivery.body).unwrap();
            assert_eq!(event.data["conversation_id"], late.conversation_id.as_str());
            (event.data["event"]["seq"].as_u64(), event.event_type)
        })
        .collect();
    kept.sort();
    let types: Vec<&str> = kept.iter().map(|(_, t)| t.as_str()).collect();
    assert_eq!(
        types,
        [ESCALATION_CREATED, CONVERSATION_MESSAGE],
        "{kept:?}"
    );

    // Every escalation delivered exactly once per id at most with duplicates sharing it;
    // 410 got exactly one attempt.
    assert_eq!(sites.get("gone").received().len(), 1);
    for (site, conversation) in &accepted {
        let received = sites.get(site).received();
        assert!(
            received.iter().any(|d| &conversation_of(d) == conversation),
            "site {site}: conversation {conversation} never reached the receiver"
        );
    }
}
