//! An external helpdesk answers through the agent API with requests signed by the site's
//! webhook secret (Standard Webhooks headers, no agent token), under real `wrangler dev`:
//! a signed claim and reply reach the customer under the helpdesk agent's name; forged,
//! tampered, expired, replayed and cross-site requests are refused with their own codes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use baton_protocol::{
    ApiError, Author, EscalationAccepted, EscalationReason, EventBody, HandoffPacket,
    TranscriptEntry,
};
use baton_relay::{signed_request_payload, WebhookSecret, AGENT_NAME_HEADER, SITE_HEADER};
use baton_tests::receiver::unix_seconds;
use baton_tests::{escalation, unique_id, unique_text, Baton};
use serde_json::json;

const SITE: &str = "demo";

/// The secret the helpdesk signs with. The test edge is rotating the site's secret
/// (`["whsec_new", "whsec_old"]`), and this helpdesk still has the old one.
fn site_secret() -> WebhookSecret {
    let json = std::env::var("BATON_WEBHOOK_SECRETS").expect("BATON_WEBHOOK_SECRETS is not set");
    let secrets: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&json).unwrap();
    let rotating = secrets[SITE]
        .as_array()
        .expect("the demo site rotates its secret");
    WebhookSecret::parse(rotating.last().unwrap().as_str().unwrap()).unwrap()
}

/// One signed call as a helpdesk makes it.
struct Signed {
    id: String,
    timestamp: u64,
    path: String,
    body: String,
    secret: WebhookSecret,
}

impl Signed {
    fn new(path: &str, body: &serde_json::Value) -> Signed {
        Signed {
            id: unique_id("req"),
            timestamp: unix_seconds(),
            path: path.to_owned(),
            body: body.to_string(),
            secret: site_secret(),
        }
    }

    fn signature(&self) -> String {
        let payload = signed_request_payload("POST", &self.path, self.body.as_bytes());
        self.secret.sign(&self.id, self.timestamp, &payload)
    }

    /// Sends it as signed, with `body` (which may differ from what was signed).
    async fn send_with_body(&self, baton: &Baton, body: &str) -> (u16, String) {
        let response = baton
            .http()
            .post(baton.url(&self.path))
            .header("content-type", "application/json")
            .header("webhook-id", &self.id)
            .header("webhook-timestamp", self.timestamp.to_string())
            .header("webhook-signature", self.signature())
            .header(SITE_HEADER, SITE)
            .header(AGENT_NAME_HEADER, "Robin at Helpdesk")
            .body(body.to_owned())
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        let code = serde_json::from_str::<ApiError>(&text)
            .map(|error| error.error.code)
            .unwrap_or(text);
        (status, code)
    }

    async fn send(&self, baton: &Baton) -> (u16, String) {
        self.send_with_body(baton, &self.body).await
    }
}

async fn new_conversation(baton: &Baton) -> EscalationAccepted {
    let packet = HandoffPacket {
        reasons: vec![EscalationReason::ExplicitRequest],
        summary: "Wants a person".into(),
        transcript: vec![TranscriptEntry {
            author: Author::Customer,
            text: "a person please".into(),
            at_ms: 1,
        }],
        language: "en".into(),
        ..HandoffPacket::default()
    };
    baton.escalate(&escalation(SITE, packet)).await
}

#[tokio::test]
async fn a_helpdesk_answers_with_signed_requests_and_nothing_else_passes() {
    let baton = Baton::from_env();
    let accepted = new_conversation(&baton).await;
    let target = json!({ "site": SITE, "conversation": accepted.conversation_id });

    let claim = Signed::new("/v1/agent/claim", &target);
    assert_eq!(claim.send(&baton).await.0, 200, "signed claim");
    let text = unique_text("helpdesk answer");
    let reply = Signed::new(
        "/v1/agent/reply",
        &json!({
            "site": SITE,
            "conversation": accepted.conversation_id,
            "client_id": unique_id("reply"),
            "text": text,
        }),
    );
    assert_eq!(reply.send(&baton).await.0, 200, "signed reply");
    let events = baton.customer_events(SITE, &accepted, 0).await.events;
    let answered = events.iter().any(|event| {
        matches!(
            &event.event,
            EventBody::Message { author: Author::Agent, text: t, agent_name: Some(name), .. }
                if *t == text && name == "Robin at Helpdesk"
        )
    });
    assert!(
        answered,
        "the customer reads the helpdesk's reply: {events:?}"
    );

    // The same request again: its webhook-id was taken.
    assert_eq!(
        reply.send(&baton).await,
        (401, "signature_replayed".to_owned())
    );

    // A body changed after signing.
    let tampered = Signed::new(
        "/v1/agent/reply",
        &json!({
            "site": SITE,
            "conversation": accepted.conversation_id,
            "client_id": unique_id("reply"),
            "text": "signed text",
        }),
    );
    let changed = tampered.body.replace("signed text", "other text");
    assert_eq!(
        tampered.send_with_body(&baton, &changed).await,
        (401, "bad_signature".to_owned())
    );

    // Signed with another secret.
    let mut forged = Signed::new("/v1/agent/release", &target);
    forged.secret = WebhookSecret::from_key(b"not the site's secret".to_vec());
    assert_eq!(forged.send(&baton).await, (401, "bad_signature".to_owned()));

    // Correctly signed ten minutes ago.
    let mut late = Signed::new("/v1/agent/release", &target);
    late.timestamp -= 600;
    assert_eq!(
        late.send(&baton).await,
        (401, "signature_expired".to_owned())
    );

    // Signed for this site, acting on another.
    let elsewhere = Signed::new(
        "/v1/agent/claim",
        &json!({ "site": "isolated", "conversation": accepted.conversation_id }),
    );
    assert_eq!(
        elsewhere.send(&baton).await,
        (403, "site_not_allowed".to_owned())
    );

    // None of the refused requests changed anything: the helpdesk still holds the
    // conversation and can close it.
    let close = Signed::new(
        "/v1/agent/close",
        &json!({ "site": SITE, "conversation": accepted.conversation_id, "resolution": "Done" }),
    );
    assert_eq!(close.send(&baton).await.0, 200, "signed close");
    let events = baton.customer_events(SITE, &accepted, 0).await.events;
    assert!(events
        .iter()
        .any(|event| matches!(event.event, EventBody::Resolved { .. })));
}

/// A helpdesk's people answer on their own schedule: its claim does not lapse like a
/// console's (15 s in the test edge, `xtask/src/test.rs`), and a close it got no answer
/// to can be sent again.
#[tokio::test]
async fn a_helpdesk_keeps_its_claim_until_it_closes_and_may_close_twice() {
    let baton = Baton::from_env();
    let accepted = new_conversation(&baton).await;
    let conversation = accepted.conversation_id.as_str();
    let target = json!({ "site": SITE, "conversation": conversation });
    let (status, body) = Signed::new("/v1/agent/claim", &target).send(&baton).await;
    assert_eq!(status, 200, "signed claim: {body}");
    let claimed: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(
        claimed["claim"]["lease_until_ms"].is_null(),
        "no lease: {claimed}"
    );

    tokio::time::sleep(std::time::Duration::from_secs(17)).await;
    let reply = |text: &str| {
        Signed::new(
            "/v1/agent/reply",
            &json!({
                "site": SITE,
                "conversation": conversation,
                "client_id": unique_id("reply"),
                "text": text,
            }),
        )
    };
    assert_eq!(
        reply("Still with you.").send(&baton).await.0,
        200,
        "a reply after a console's lease would have lapsed"
    );

    let close = || {
        Signed::new(
            "/v1/agent/close",
            &json!({ "site": SITE, "conversation": conversation }),
        )
    };
    assert_eq!(close().send(&baton).await.0, 200, "close");
    assert_eq!(close().send(&baton).await.0, 200, "the same close again");
    assert_eq!(
        reply("Anything else?").send(&baton).await,
        (409, "conversation_closed".to_owned())
    );
    let events = baton.customer_events(SITE, &accepted, 0).await.events;
    let left = events
        .iter()
        .filter(|e| matches!(e.event, EventBody::AgentLeft { .. }))
        .count();
    let resolved = events
        .iter()
        .filter(|e| matches!(e.event, EventBody::Resolved { .. }))
        .count();
    assert_eq!((left, resolved), (0, 1), "{events:?}");
}
