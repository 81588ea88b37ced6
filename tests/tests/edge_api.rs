//! The edge's HTTP API under real `wrangler dev` (workerd, Durable Objects on SQLite).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use baton_protocol::{
    ApiError, Author, EscalationReason, EscalationRequest, EscalationWithdrawal,
    EscalationWithdrawn, EventBody, HandoffPacket, IntentGuess, QueueSnapshot, TranscriptEntry,
};
use baton_tests::{escalation, identity_hash, unique_id, unique_text, Baton};

fn packet(text: &str) -> HandoffPacket {
    HandoffPacket {
        intent: Some(IntentGuess {
            intent: "card_arrival".into(),
            confidence: 0.42,
        }),
        reasons: vec![EscalationReason::ExplicitRequest],
        sentiment: vec![-0.2],
        answers_shown: vec!["card_arrival".into()],
        summary: "Card has not arrived".into(),
        transcript: vec![TranscriptEntry {
            author: Author::Customer,
            text: text.into(),
            at_ms: 1,
        }],
        language: "en".into(),
    }
}

async fn error_of(response: reqwest::Response) -> (u16, ApiError) {
    let status = response.status().as_u16();
    let body = response.text().await.unwrap();
    let error: ApiError =
        serde_json::from_str(&body).unwrap_or_else(|_| panic!("not an error body: {body}"));
    (status, error)
}

#[tokio::test]
async fn health_answers() {
    let baton = Baton::from_env();
    let response = baton
        .http()
        .get(baton.url("/v1/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn an_escalation_reaches_the_agent_queue_with_its_packet() {
    let baton = Baton::from_env();
    let request = escalation("demo", packet("my card never came"));
    let accepted = baton.escalate(&request).await;
    assert!(!accepted.conversation_id.is_empty());
    assert!(
        accepted.customer_token.len() >= 32,
        "customer token too short to be a secret"
    );
    assert!(accepted.queue_position >= 1);
    assert!(accepted.estimated_wait_seconds > 0);

    let queue = baton.queue("demo").await;
    let entry = queue
        .waiting
        .iter()
        .find(|entry| entry.conversation_id == accepted.conversation_id)
        .expect("the new conversation is in the agent's queue");
    assert_eq!(entry.summary, "Card has not arrived");
    assert_eq!(entry.reasons, vec![EscalationReason::ExplicitRequest]);
    assert_eq!(
        entry.intent.as_ref().map(|i| i.intent.as_str()),
        Some("card_arrival")
    );
}

#[tokio::test]
async fn sensitive_escalations_go_ahead_of_earlier_ordinary_ones() {
    let baton = Baton::from_env();
    let ordinary = baton
        .escalate(&escalation("demo", packet("question")))
        .await;
    let mut urgent_packet = packet("someone used my card");
    urgent_packet.reasons = vec![EscalationReason::SensitiveIntent];
    let urgent = baton.escalate(&escalation("demo", urgent_packet)).await;
    assert!(urgent.queue_position < ordinary.queue_position + 1);
    let queue = baton.queue("demo").await;
    let index = |id: &str| {
        queue
            .waiting
            .iter()
            .position(|e| e.conversation_id == id)
            .unwrap()
    };
    assert!(index(&urgent.conversation_id) < index(&ordinary.conversation_id));
}

#[tokio::test]
async fn a_retried_escalation_creates_nothing_twice() {
    let baton = Baton::from_env();
    let request = escalation("demo", packet("retry me"));
    let first = baton.escalate(&request).await;
    let second = baton.escalate(&request).await;
    assert_eq!(first.conversation_id, second.conversation_id);
    assert_eq!(first.customer_token, second.customer_token);
    let queue = baton.queue("demo").await;
    let copies = queue
        .waiting
        .iter()
        .filter(|e| e.conversation_id == first.conversation_id)
        .count();
    assert_eq!(copies, 1);
}

/// `POST /v1/escalations/withdraw` for `request`'s key.
async fn withdraw(baton: &Baton, request: &EscalationRequest) -> reqwest::Response {
    let withdrawal = EscalationWithdrawal {
        site: request.site.clone(),
        visitor_id: request.visitor_id.clone(),
        idempotency_key: request.idempotency_key.clone(),
    };
    baton
        .http()
        .post(baton.url("/v1/escalations/withdraw"))
        .header("origin", baton.origin())
        .json(&withdrawal)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_withdrawn_escalation_leaves_the_queue_or_never_enters_it() {
    let baton = Baton::from_env();
    let waiting =
        |queue: &QueueSnapshot, id: &str| queue.waiting.iter().any(|e| e.conversation_id == id);

    // It arrived, but the customer never heard (their chat ended meanwhile): it ends as
    // if they had ended it, and the agents' queue no longer offers it.
    let request = escalation("demo", packet("withdraw me after"));
    let accepted = baton.escalate(&request).await;
    assert!(waiting(
        &baton.queue("demo").await,
        &accepted.conversation_id
    ));
    for _ in 0..2 {
        let response = withdraw(&baton, &request).await;
        assert_eq!(response.status(), 200);
        let answer: EscalationWithdrawn = response.json().await.unwrap();
        assert_eq!(
            answer.conversation_id,
            Some(accepted.conversation_id.clone())
        );
    }
    assert!(!waiting(
        &baton.queue("demo").await,
        &accepted.conversation_id
    ));
    let update = baton.customer_events("demo", &accepted, 0).await;
    assert!(
        update.events.iter().any(|e| matches!(
            e.event,
            EventBody::Resolved {
                by: Author::Customer,
                ..
            }
        )),
        "{update:?}"
    );

    // It never arrived (or not yet): when it does, it is refused and creates nothing.
    let mut never_arrived = packet("withdraw me before");
    never_arrived.summary = unique_text("withdrawn before it arrived");
    let request = escalation("demo", never_arrived);
    let response = withdraw(&baton, &request).await;
    assert_eq!(response.status(), 200);
    let answer: EscalationWithdrawn = response.json().await.unwrap();
    assert_eq!(answer.conversation_id, None);
    let (status, error) = error_of(baton.post_escalation(&request).await).await;
    assert_eq!(
        (status, error.error.code.as_str()),
        (409, "escalation_withdrawn")
    );
    let queue = baton.queue("demo").await;
    assert!(!queue
        .waiting
        .iter()
        .any(|e| e.summary == request.packet.summary));

    // A malformed withdrawal names the field.
    let response = baton
        .http()
        .post(baton.url("/v1/escalations/withdraw"))
        .json(&serde_json::json!({ "site": "demo", "visitor_id": "v" }))
        .send()
        .await
        .unwrap();
    let (status, error) = error_of(response).await;
    assert_eq!(status, 400);
    assert!(
        error.error.message.contains("idempotency_key"),
        "{}",
        error.error.message
    );
}

#[tokio::test]
async fn the_edge_redacts_card_numbers_the_widget_missed() {
    let baton = Baton::from_env();
    let mut request = escalation("demo", packet("card 4242 4242 4242 4242 please"));
    // As a banking app copies it: no-break spaces between the groups.
    request.packet.summary = "card 4242\u{a0}4242\u{a0}4242\u{a0}4242".into();
    let accepted = baton.escalate(&request).await;
    let queue = baton.queue("demo").await;
    let entry = queue
        .waiting
        .iter()
        .find(|e| e.conversation_id == accepted.conversation_id)
        .unwrap();
    assert!(
        !entry.summary.contains("4242\u{a0}4242"),
        "summary kept the card number: {}",
        entry.summary
    );
    assert!(
        entry.summary.contains("4242"),
        "the mask keeps the last four digits: {}",
        entry.summary
    );
}

#[tokio::test]
async fn bad_requests_get_clear_errors_and_store_nothing() {
    let baton = Baton::from_env();
    let site = "isolated";
    let before = baton.queue(site).await.waiting.len();
    let post = |body: String, content_type: &'static str| {
        let baton = baton.clone();
        async move {
            baton
                .http()
                .post(baton.url("/v1/escalations"))
                .header("origin", baton.origin())
                .header("content-type", content_type)
                .body(body)
                .send()
                .await
                .unwrap()
        }
    };
    let valid = serde_json::to_value(escalation(site, packet("hello"))).unwrap();

    let (status, error) = error_of(post("{not json".into(), "application/json").await).await;
    assert_eq!((status, error.error.code.as_str()), (400, "invalid_body"));
    assert!(
        error.error.message.contains("line 1"),
        "{}",
        error.error.message
    );

    let mut unknown = valid.clone();
    unknown["surprise"] = serde_json::json!(1);
    let (status, error) = error_of(post(unknown.to_string(), "application/json").await).await;
    assert_eq!(status, 400);
    assert!(
        error.error.message.contains("unknown field `surprise`"),
        "{}",
        error.error.message
    );

    let mut wrong_type = valid.clone();
    wrong_type["visitor_id"] = serde_json::json!(4_111_111_111_111_111_u64);
    let (status, error) = error_of(post(wrong_type.to_string(), "application/json").await).await;
    assert_eq!(status, 400);
    assert!(
        !error.error.message.contains("4111111111111111"),
        "error echoed the value: {}",
        error.error.message
    );

    let mut oversized = valid.clone();
    oversized["packet"]["summary"] = serde_json::json!("x".repeat(70_000));
    let (status, error) = error_of(post(oversized.to_string(), "application/json").await).await;
    assert_eq!(
        (status, error.error.code.as_str()),
        (413, "payload_too_large")
    );

    let mut long_message = valid.clone();
    long_message["packet"]["transcript"][0]["text"] = serde_json::json!("y".repeat(5_000));
    let (status, error) = error_of(post(long_message.to_string(), "application/json").await).await;
    assert_eq!((status, error.error.code.as_str()), (422, "field_too_long"));
    assert!(
        error.error.message.contains("packet.transcript[0].text"),
        "{}",
        error.error.message
    );

    let (status, _) = error_of(post(valid.to_string(), "text/plain").await).await;
    assert_eq!(status, 415);

    let mut unknown_site = valid.clone();
    unknown_site["site"] = serde_json::json!("nope");
    let (status, error) = error_of(post(unknown_site.to_string(), "application/json").await).await;
    assert_eq!((status, error.error.code.as_str()), (404, "unknown_site"));

    let response = baton
        .http()
        .post(baton.url("/v1/escalations"))
        .header("origin", "https://evil.example")
        .json(&valid)
        .send()
        .await
        .unwrap();
    let (status, error) = error_of(response).await;
    assert_eq!(
        (status, error.error.code.as_str()),
        (403, "origin_not_allowed")
    );

    assert_eq!(
        baton.queue(site).await.waiting.len(),
        before,
        "a refused request was stored"
    );
}

#[tokio::test]
async fn the_agent_queue_needs_the_agent_token() {
    let baton = Baton::from_env();
    let url = baton.url("/v1/agent/queue?site=demo");
    let none = baton.http().get(&url).send().await.unwrap();
    assert_eq!(error_of(none).await.0, 401);
    let wrong = baton
        .http()
        .get(&url)
        .bearer_auth("not-the-token")
        .send()
        .await
        .unwrap();
    let (status, error) = error_of(wrong).await;
    assert_eq!((status, error.error.code.as_str()), (401, "unauthorized"));
}

#[tokio::test]
async fn an_agent_works_only_on_their_own_sites() {
    let baton = Baton::from_env();
    let (lee, sam) = (baton.agent("lee"), baton.agent("sam"));
    let accepted = baton
        .escalate(&escalation("demo", packet("where is my parcel")))
        .await;
    let conversation = &accepted.conversation_id;
    let refused = |response: reqwest::Response| async move {
        let (status, error) = error_of(response).await;
        (status, error.error.code)
    };
    for path in [
        "/v1/agent/queue?site=demo".to_owned(),
        "/v1/agent/analytics?site=demo".to_owned(),
        format!("/v1/agent/packet?site=demo&conversation={conversation}"),
        format!("/v1/agent/events?site=demo&conversation={conversation}"),
        "/v1/agent/webhooks?site=demo".to_owned(),
    ] {
        let response = baton
            .http()
            .get(baton.url(&path))
            .bearer_auth(&lee.token)
            .send()
            .await
            .unwrap();
        assert_eq!(
            refused(response).await,
            (403, "site_not_allowed".into()),
            "{path}"
        );
    }
    let target = serde_json::json!({ "site": "demo", "conversation": conversation });
    assert_eq!(
        baton.agent_refusal(&lee.token, "claim", &target).await,
        (403, Some("site_not_allowed".into()))
    );
    // Their own site works; and nobody can pass them a conversation of another.
    baton.queue_as(&lee.token, "elsewhere").await;
    baton.agent_ok(&sam.token, "claim", &target).await;
    let to_lee =
        serde_json::json!({ "site": "demo", "conversation": conversation, "to_agent": "lee" });
    assert_eq!(
        baton.agent_refusal(&sam.token, "transfer", &to_lee).await,
        (404, Some("unknown_agent".into()))
    );
    let me: serde_json::Value = baton.agent_get(&lee.token, "/v1/agent/me").await;
    assert_eq!(me["sites"], serde_json::json!(["elsewhere"]));
}

#[tokio::test]
async fn unknown_routes_and_methods_are_json_errors() {
    let baton = Baton::from_env();
    let missing = baton
        .http()
        .get(baton.url("/v1/nothing-here"))
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(missing).await.1.error.code, "not_found");
    let wrong_method = baton
        .http()
        .delete(baton.url("/v1/escalations"))
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(wrong_method).await.0, 405);
}

#[tokio::test]
async fn the_widget_may_call_from_an_allowed_origin() {
    let baton = Baton::from_env();
    let response = baton
        .http()
        .request(reqwest::Method::OPTIONS, baton.url("/v1/escalations"))
        .header("origin", baton.origin())
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
    assert_eq!(
        response
            .headers()
            .get("access-control-allow-origin")
            .and_then(|v| v.to_str().ok()),
        Some(baton.origin().as_str())
    );
}

#[tokio::test]
async fn an_agent_reads_the_whole_redacted_packet() {
    let baton = Baton::from_env();
    let mut request = escalation(
        "demo",
        packet("my email is jane@example.com, card never came"),
    );
    request.packet.transcript.push(TranscriptEntry {
        author: Author::Bot,
        text: "Cards are posted within 2 working days.".into(),
        at_ms: 2,
    });
    let accepted = baton.escalate(&request).await;
    let url = baton.url(&format!(
        "/v1/agent/packet?site=demo&conversation={}",
        accepted.conversation_id
    ));
    let response = baton
        .http()
        .get(&url)
        .bearer_auth(&baton.agent_token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let view: baton_protocol::ConversationPacket = response.json().await.unwrap();
    assert_eq!(view.conversation_id, accepted.conversation_id);
    assert_eq!(view.packet.transcript.len(), 2);
    assert_eq!(view.packet.answers_shown, vec!["card_arrival".to_owned()]);
    assert!(
        !view.packet.transcript[0].text.contains("jane@example.com"),
        "the edge masks emails: {}",
        view.packet.transcript[0].text
    );

    let unknown = baton
        .http()
        .get(baton.url("/v1/agent/packet?site=demo&conversation=does-not-exist"))
        .bearer_auth(&baton.agent_token)
        .send()
        .await
        .unwrap();
    let (status, error) = error_of(unknown).await;
    assert_eq!(
        (status, error.error.code.as_str()),
        (404, "unknown_conversation")
    );

    let no_token = baton.http().get(&url).send().await.unwrap();
    assert_eq!(error_of(no_token).await.0, 401);
}

fn identity(id: &str, hash: String) -> baton_protocol::CustomerIdentity {
    baton_protocol::CustomerIdentity {
        id: id.into(),
        name: "Ada Lovelace".into(),
        email: "ada@example.com".into(),
        hash,
    }
}

#[tokio::test]
async fn a_verified_identity_reaches_the_agent_and_a_forged_one_is_refused() {
    let baton = Baton::from_env();
    let mut request = escalation("verified", packet("where is my refund"));
    let waiting_before = baton.queue("verified").await.waiting.len();

    let (status, error) = error_of(baton.post_escalation(&request).await).await;
    assert_eq!(
        (status, error.error.code.as_str()),
        (401, "identity_required")
    );

    request.identity = Some(identity("user-7", identity_hash("verified", "user-8")));
    let (status, error) = error_of(baton.post_escalation(&request).await).await;
    assert_eq!(
        (status, error.error.code.as_str()),
        (401, "identity_invalid")
    );
    assert_eq!(
        baton.queue("verified").await.waiting.len(),
        waiting_before,
        "refused escalations store nothing"
    );

    request.identity = Some(identity("user-7", identity_hash("verified", "user-7")));
    let accepted = baton.escalate(&request).await;
    let path = format!(
        "/v1/agent/packet?site=verified&conversation={}",
        accepted.conversation_id
    );
    let packet: baton_protocol::ConversationPacket =
        baton.agent_get(&baton.agent_token, &path).await;
    let customer = packet.customer.expect("the agent sees who the customer is");
    assert_eq!(
        (customer.id.as_str(), customer.name.as_str()),
        ("user-7", "Ada Lovelace")
    );
}

#[tokio::test]
async fn an_agent_sees_what_a_signed_in_customer_needed_before() {
    let baton = Baton::from_env();
    // Each test run has its own customers: the edge keeps its state between runs.
    let customer = unique_id("customer");
    let signed_in = |text: &str, summary: &str, customer: &str| {
        let mut request = escalation("verified", packet(text));
        request.packet.summary = summary.to_owned();
        request.identity = Some(identity(customer, identity_hash("verified", customer)));
        request
    };
    let first = baton
        .escalate(&signed_in(
            "where is my card",
            "Card has not arrived",
            &customer,
        ))
        .await;
    // Sam closes it with a note; the customer rates it, with a comment (masked).
    let sam = baton.agent("sam");
    let target = serde_json::json!({"site": "verified", "conversation": first.conversation_id});
    baton.agent_ok(&sam.token, "claim", &target).await;
    let mut close = target.clone();
    close["resolution"] = "Sent a new card".into();
    baton.agent_ok(&sam.token, "close", &close).await;
    let rated = baton
        .customer_post(
            "verified",
            &first,
            "csat",
            &serde_json::json!({ "rating": 4, "comment": "Quick, thanks. Mail me at ada@example.com" }),
        )
        .await;
    assert_eq!(rated.status(), 201);
    let other = baton
        .escalate(&signed_in(
            "my refund",
            "Refund missing",
            &unique_id("customer"),
        ))
        .await;
    let second = baton
        .escalate(&signed_in("card again", "Card still missing", &customer))
        .await;
    let baton = &baton;
    let packet_of = |id: &str| {
        let path = format!("/v1/agent/packet?site=verified&conversation={id}");
        async move {
            let packet: baton_protocol::ConversationPacket =
                baton.agent_get(&baton.agent_token, &path).await;
            packet
        }
    };

    let latest = packet_of(&second.conversation_id).await;
    let earlier: Vec<(&str, &str)> = latest
        .earlier
        .iter()
        .map(|e| (e.conversation_id.as_str(), e.summary.as_str()))
        .collect();
    assert_eq!(
        earlier,
        [(first.conversation_id.as_str(), "Card has not arrived")],
        "the customer's earlier conversation, and no one else's"
    );
    assert_eq!(
        latest.earlier[0].reasons,
        [EscalationReason::ExplicitRequest]
    );
    assert_eq!(
        latest.earlier[0].outcome,
        baton_protocol::Outcome {
            resolved: true,
            resolution: Some("Sent a new card".into()),
            rating: Some(4),
            comment: Some("Quick, thanks. Mail me at [email]".into()),
        },
        "how the earlier conversation ended"
    );
    // Nothing before a customer's first conversation, nor a later one shown as earlier.
    assert!(packet_of(&first.conversation_id).await.earlier.is_empty());
    assert!(packet_of(&other.conversation_id).await.earlier.is_empty());
    // A customer who is not signed in has no history to show.
    let anonymous = baton.escalate(&escalation("demo", packet("hello"))).await;
    let path = format!(
        "/v1/agent/packet?site=demo&conversation={}",
        anonymous.conversation_id
    );
    let packet: baton_protocol::ConversationPacket =
        baton.agent_get(&baton.agent_token, &path).await;
    assert!(packet.customer.is_none() && packet.earlier.is_empty());
}

#[tokio::test]
async fn one_visitor_cannot_flood_the_queue() {
    let baton = Baton::from_env();
    let first = escalation("demo", packet("hello"));
    for attempt in 0..3 {
        let mut request = first.clone();
        request.idempotency_key = format!("{}-{attempt}", first.idempotency_key);
        baton.escalate(&request).await;
    }
    // A retry of an accepted escalation is not a new one: still answered.
    baton.escalate(&first_retry(&first)).await;
    let mut fourth = first.clone();
    fourth.idempotency_key = format!("{}-3", first.idempotency_key);
    let response = baton.post_escalation(&fourth).await;
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u32>().ok());
    let (status, error) = error_of(response).await;
    assert_eq!((status, error.error.code.as_str()), (429, "rate_limited"));
    assert!(
        retry_after.is_some_and(|seconds| seconds > 0),
        "Retry-After is set"
    );
    // Another visitor is not affected.
    baton.escalate(&escalation("demo", packet("hello"))).await;
}

fn first_retry(request: &baton_protocol::EscalationRequest) -> baton_protocol::EscalationRequest {
    let mut retry = request.clone();
    retry.idempotency_key = format!("{}-0", request.idempotency_key);
    retry
}
