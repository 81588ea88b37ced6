//! A conversation after the hand-off, under real `wrangler dev`: claims and leases,
//! agents' replies, the customer's live channel, exactly-once messages, close, CSAT and
//! analytics.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use baton_protocol::{
    token_subprotocol, ApiError, Author, Availability, ConversationEvent, ConversationUpdate,
    EscalationAccepted, EscalationReason, EventBody, HandoffPacket, QueueStatus, SiteAnalytics,
    TranscriptEntry, LIVE_SUBPROTOCOL,
};
use baton_tests::browser::eventually;
use baton_tests::{escalation, unique_id, Baton, TestAgent};
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

const SITE: &str = "demo";

fn packet(reasons: &[EscalationReason]) -> HandoffPacket {
    HandoffPacket {
        reasons: reasons.to_vec(),
        summary: "Wants to change the delivery address".into(),
        transcript: vec![TranscriptEntry {
            author: Author::Customer,
            text: "can I change my delivery address".into(),
            at_ms: 1,
        }],
        language: "en".into(),
        ..HandoffPacket::default()
    }
}

async fn new_conversation(baton: &Baton) -> EscalationAccepted {
    baton
        .escalate(&escalation(
            SITE,
            packet(&[EscalationReason::ExplicitRequest]),
        ))
        .await
}

/// A new conversation that `agent` has claimed.
async fn claimed_by(baton: &Baton, agent: &TestAgent) -> EscalationAccepted {
    let accepted = new_conversation(baton).await;
    baton
        .agent_ok(&agent.token, "claim", &target(&accepted))
        .await;
    accepted
}

fn target(accepted: &EscalationAccepted) -> serde_json::Value {
    json!({ "site": SITE, "conversation": accepted.conversation_id })
}

fn reply(accepted: &EscalationAccepted, text: &str) -> serde_json::Value {
    json!({
        "site": SITE,
        "conversation": accepted.conversation_id,
        "client_id": unique_id("reply"),
        "text": text,
    })
}

fn kinds(events: &[ConversationEvent]) -> Vec<&'static str> {
    events
        .iter()
        .map(|e| match &e.event {
            EventBody::Message {
                author: Author::Customer,
                ..
            } => "customer",
            EventBody::Message { .. } => "agent",
            EventBody::AgentJoined { .. } => "joined",
            EventBody::AgentLeft { .. } => "left",
            EventBody::Resolved { .. } => "resolved",
        })
        .collect()
}

async fn error_code(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let body: ApiError = response.json().await.unwrap();
    (status, body.error.code)
}

#[tokio::test]
async fn an_agent_claims_replies_and_closes_and_the_customer_reads_it_all() {
    let baton = Baton::from_env();
    let sam = baton.agent("sam");
    let accepted = new_conversation(&baton).await;

    let before = baton.customer_events(SITE, &accepted, 0).await;
    assert!(before.events.is_empty());
    assert!(
        before.queue.is_some(),
        "a waiting customer sees their place"
    );

    let claimed = baton
        .agent_ok(&sam.token, "claim", &target(&accepted))
        .await;
    assert_eq!(claimed["claim"]["agent_name"], "Sam");
    baton
        .agent_ok(
            &sam.token,
            "reply",
            &reply(&accepted, "Hello, I'm **Sam**."),
        )
        .await;
    let stored = json!({ "client_id": unique_id("m"), "text": "thanks, it is for order 1234" });
    let response = baton
        .customer_post(SITE, &accepted, "messages", &stored)
        .await;
    assert_eq!(response.status(), 201);
    baton
        .agent_ok(
            &sam.token,
            "close",
            &json!({ "site": SITE, "conversation": accepted.conversation_id, "resolution": "Address changed" }),
        )
        .await;

    let update = baton.customer_events(SITE, &accepted, 0).await;
    assert_eq!(
        kinds(&update.events),
        ["joined", "agent", "customer", "resolved"]
    );
    let seqs: Vec<u64> = update.events.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, [1, 2, 3, 4], "the log is numbered without gaps");
    assert!(
        update.queue.is_none(),
        "nobody waits in a closed conversation"
    );
    match &update.events[1].event {
        EventBody::Message {
            text, agent_name, ..
        } => {
            assert_eq!(text, "Hello, I'm **Sam**.");
            assert_eq!(agent_name.as_deref(), Some("Sam"));
        }
        other => panic!("expected the agent's message, got {other:?}"),
    }
    let resumed = baton.customer_events(SITE, &accepted, 2).await;
    assert_eq!(kinds(&resumed.events), ["customer", "resolved"]);

    let closed = baton
        .customer_post(
            SITE,
            &accepted,
            "messages",
            &json!({ "client_id": unique_id("m"), "text": "one more thing" }),
        )
        .await;
    assert_eq!(
        error_code(closed).await,
        (409, "conversation_closed".into())
    );
    // Sent again after the end (its answer lost on the way): it was delivered, and is
    // not stored twice.
    let again = baton
        .customer_post(SITE, &accepted, "messages", &stored)
        .await;
    assert_eq!(again.status(), 201);
    assert_eq!(
        baton.customer_events(SITE, &accepted, 0).await.events.len(),
        4
    );
}

/// "End chat" with messages still on their way: one request stores them, then ends the
/// conversation; after an agent's close they are not stored, and the answer says which.
#[tokio::test]
async fn the_customers_end_takes_the_messages_still_on_their_way() {
    let baton = Baton::from_env();
    let accepted = new_conversation(&baton).await;
    // As many as may be sent at once, no more: refused whole, nothing ended.
    let too_many: Vec<_> = (0..21)
        .map(|n| json!({ "client_id": unique_id("m"), "text": format!("line {n}") }))
        .collect();
    let refused = baton
        .customer_post(SITE, &accepted, "close", &json!({ "messages": too_many }))
        .await;
    assert_eq!(error_code(refused).await, (422, "too_many_items".into()));
    let pending = unique_id("m");
    let close =
        json!({ "messages": [{ "client_id": pending, "text": "my card 4111 1111 1111 1111" }] });
    let response = baton.customer_post(SITE, &accepted, "close", &close).await;
    assert_eq!(response.status(), 200);
    let closed: serde_json::Value = response.json().await.unwrap();
    assert_eq!(closed, json!({ "closed": true }), "all stored");
    let events = baton.customer_events(SITE, &accepted, 0).await.events;
    assert_eq!(
        kinds(&events),
        ["customer", "resolved"],
        "the message first"
    );
    let EventBody::Message { text, .. } = &events[0].event else {
        panic!("{events:?}");
    };
    assert!(!text.contains("4111 1111"), "redacted at the edge: {text}");
    assert!(
        !baton
            .queue(SITE)
            .await
            .waiting
            .iter()
            .any(|e| e.conversation_id == accepted.conversation_id),
        "out of the queue"
    );

    // Ended again (the answer was lost): nothing twice; a message the conversation
    // never had is refused by name.
    let late = unique_id("m");
    let again = json!({ "messages": [
        { "client_id": pending, "text": "my card 4111 1111 1111 1111" },
        { "client_id": late, "text": "one more thing" },
    ] });
    let response = baton.customer_post(SITE, &accepted, "close", &again).await;
    let closed: serde_json::Value = response.json().await.unwrap();
    assert_eq!(closed, json!({ "closed": true, "undelivered": [late] }));
    assert_eq!(
        baton.customer_events(SITE, &accepted, 0).await.events.len(),
        2
    );
}

#[tokio::test]
async fn an_agent_takes_no_more_conversations_than_their_capacity() {
    let baton = Baton::from_env();
    let (kim, sam) = (baton.agent("kim"), baton.agent("sam"));
    let me: serde_json::Value = baton.agent_get(&kim.token, "/v1/agent/me").await;
    assert_eq!(me["capacity"], 1, "{me}");
    let (first, second) = (
        new_conversation(&baton).await,
        new_conversation(&baton).await,
    );
    baton.agent_ok(&kim.token, "claim", &target(&first)).await;
    assert_eq!(
        baton
            .agent_refusal(&kim.token, "claim", &target(&second))
            .await,
        (409, Some("at_capacity".to_owned()))
    );
    // Nor can Sam hand Kim a second one: Sam keeps it.
    baton.agent_ok(&sam.token, "claim", &target(&second)).await;
    let to_kim = json!({ "site": SITE, "conversation": second.conversation_id, "to_agent": "kim" });
    assert_eq!(
        baton.agent_refusal(&sam.token, "transfer", &to_kim).await,
        (409, Some("at_capacity".to_owned()))
    );
    baton
        .agent_ok(&sam.token, "reply", &reply(&second, "still with Sam"))
        .await;
    // Once Kim's first is closed, Kim takes the second.
    baton.agent_ok(&kim.token, "close", &target(&first)).await;
    let moved = baton.agent_ok(&sam.token, "transfer", &to_kim).await;
    assert_eq!(moved["claim"]["agent_id"], "kim");
    baton.agent_ok(&kim.token, "close", &target(&second)).await;
}

#[tokio::test]
async fn one_agent_holds_a_conversation_and_others_are_refused() {
    let baton = Baton::from_env();
    let (sam, noor) = (baton.agent("sam"), baton.agent("noor"));
    let accepted = claimed_by(&baton, &sam).await;

    assert_eq!(
        baton
            .agent_refusal(&noor.token, "claim", &target(&accepted))
            .await,
        (409, Some("already_claimed".to_owned()))
    );
    assert_eq!(
        baton
            .agent_refusal(&noor.token, "reply", &reply(&accepted, "hi"))
            .await,
        (409, Some("already_claimed".to_owned()))
    );

    // Sam hands it to Noor; now only Noor may reply.
    let transfer =
        json!({ "site": SITE, "conversation": accepted.conversation_id, "to_agent": "noor" });
    let moved = baton.agent_ok(&sam.token, "transfer", &transfer).await;
    assert_eq!(moved["claim"]["agent_id"], "noor");
    // Noor's console hears who passed it, however quickly it happened.
    let queue = baton.queue(SITE).await;
    let held = queue
        .active
        .iter()
        .find(|a| a.entry.conversation_id == accepted.conversation_id)
        .expect("held");
    assert_eq!(held.claim.transferred_by.as_deref(), Some("Sam"));
    let (status, _) = baton
        .agent_post(&sam.token, "reply", &reply(&accepted, "still me?"))
        .await;
    assert_eq!(status, 409);
    baton
        .agent_ok(&noor.token, "reply", &reply(&accepted, "Noor here"))
        .await;

    // Noor lets go: the customer is back in the queue and told so.
    baton
        .agent_ok(&noor.token, "release", &target(&accepted))
        .await;
    let update = baton.customer_events(SITE, &accepted, 0).await;
    assert_eq!(
        kinds(&update.events),
        ["joined", "left", "joined", "agent", "left"]
    );
    // The customer hears that Sam passed them to Noor, and that Noor just left.
    let passed_on: Vec<Option<&str>> = update
        .events
        .iter()
        .filter_map(|e| match &e.event {
            EventBody::AgentLeft { transferred_to, .. } => Some(transferred_to.as_deref()),
            _ => None,
        })
        .collect();
    assert_eq!(passed_on, [Some("Noor"), None]);
    assert!(update.queue.is_some(), "released conversations wait again");
    let queue = baton.queue(SITE).await;
    assert!(queue
        .waiting
        .iter()
        .any(|w| w.conversation_id == accepted.conversation_id));
}

#[tokio::test]
async fn renewing_keeps_a_claim_but_never_takes_one_back() {
    let baton = Baton::from_env();
    let sam = baton.agent("sam");
    let accepted = new_conversation(&baton).await;
    assert_eq!(
        baton
            .agent_refusal(&sam.token, "renew", &target(&accepted))
            .await,
        (409, Some("not_claimed".to_owned())),
        "a waiting conversation is not renewed into a claim"
    );
    let claimed = baton
        .agent_ok(&sam.token, "claim", &target(&accepted))
        .await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    let renewed = baton
        .agent_ok(&sam.token, "renew", &target(&accepted))
        .await;
    assert!(
        renewed["claim"]["lease_until_ms"].as_u64() > claimed["claim"]["lease_until_ms"].as_u64(),
        "{renewed} after {claimed}"
    );
    baton
        .agent_ok(&sam.token, "release", &target(&accepted))
        .await;
    // A console whose renewal timer fires after the release gets a refusal, and the
    // customer stays in the queue.
    assert_eq!(
        baton
            .agent_refusal(&sam.token, "renew", &target(&accepted))
            .await,
        (409, Some("not_claimed".to_owned()))
    );
    let update = baton.customer_events(SITE, &accepted, 0).await;
    assert_eq!(
        kinds(&update.events),
        ["joined", "left"],
        "renewals say nothing"
    );
    assert!(baton
        .queue(SITE)
        .await
        .waiting
        .iter()
        .any(|w| w.conversation_id == accepted.conversation_id));
}

#[tokio::test]
async fn the_console_sees_who_holds_what() {
    let baton = Baton::from_env();
    let sam = baton.agent("sam");
    let accepted = claimed_by(&baton, &sam).await;
    let queue = baton.queue(SITE).await;
    let active = queue
        .active
        .iter()
        .find(|a| a.entry.conversation_id == accepted.conversation_id)
        .expect("claimed conversation listed as active");
    assert_eq!(active.claim.agent_id, "sam");
    assert!(active.claim.lease_until_ms.unwrap() > active.entry.created_at_ms);
    assert!(!queue
        .waiting
        .iter()
        .any(|w| w.conversation_id == accepted.conversation_id));
}

#[tokio::test]
async fn a_message_sent_twice_with_one_client_id_is_stored_once() {
    let baton = Baton::from_env();
    let accepted = new_conversation(&baton).await;
    let message = json!({ "client_id": unique_id("outbox"), "text": "are you there?" });
    let first = baton
        .customer_post(SITE, &accepted, "messages", &message)
        .await;
    let second = baton
        .customer_post(SITE, &accepted, "messages", &message)
        .await;
    assert_eq!(first.status(), 201);
    assert_eq!(second.status(), 201);
    let (a, b): (serde_json::Value, serde_json::Value) =
        (first.json().await.unwrap(), second.json().await.unwrap());
    assert_eq!(a["seq"], b["seq"]);
    let update = baton.customer_events(SITE, &accepted, 0).await;
    assert_eq!(kinds(&update.events), ["customer"]);
}

#[tokio::test]
async fn the_edge_redacts_customer_messages_again() {
    let baton = Baton::from_env();
    let accepted = new_conversation(&baton).await;
    let message = json!({ "client_id": unique_id("m"), "text": "card 4111 1111 1111 1111 please, my PIN is 4821 and my password is hunter2" });
    let response = baton
        .customer_post(SITE, &accepted, "messages", &message)
        .await;
    assert_eq!(response.status(), 201);
    let update = baton.customer_events(SITE, &accepted, 0).await;
    let EventBody::Message { text, .. } = &update.events[0].event else {
        panic!("expected a message");
    };
    assert!(!text.contains("4111 1111"), "card number stored: {text}");
    assert!(
        text.ends_with("my PIN is [pin] and my password is [password]"),
        "PIN or password stored: {text}"
    );
}

#[tokio::test]
async fn the_customer_token_guards_the_conversation() {
    let baton = Baton::from_env();
    let accepted = new_conversation(&baton).await;
    let other = new_conversation(&baton).await;
    let stolen = EscalationAccepted {
        customer_token: other.customer_token.clone(),
        ..accepted.clone()
    };
    let message = json!({ "client_id": unique_id("m"), "text": "hi" });
    let refused = baton
        .customer_post(SITE, &stolen, "messages", &message)
        .await;
    assert_eq!(error_code(refused).await, (401, "unauthorized".into()));
    let wrong_site = baton
        .customer_post("isolated", &accepted, "messages", &message)
        .await;
    assert_eq!(
        error_code(wrong_site).await,
        (404, "unknown_conversation".into())
    );
    let unknown_field = baton
        .customer_post(
            SITE,
            &accepted,
            "messages",
            &json!({ "client_id": "x", "text": "hi", "author": "agent" }),
        )
        .await;
    assert_eq!(error_code(unknown_field).await.0, 400);
    let update = baton.customer_events(SITE, &accepted, 0).await;
    assert!(update.events.is_empty(), "refused requests stored nothing");
}

/// Browsers cannot set headers on a WebSocket: the widget offers the token as a
/// subprotocol, which keeps it out of the URL (and so out of request logs), and the edge
/// must choose the live subprotocol or the browser drops the socket.
#[tokio::test]
async fn the_live_channel_takes_the_token_as_a_subprotocol() {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let baton = Baton::from_env();
    let accepted = new_conversation(&baton).await;
    let url = format!(
        "{}/v1/conversations/{}/live?site={SITE}&after=0",
        baton.base_url.replace("http://", "ws://"),
        accepted.conversation_id
    );
    let mut request = url.as_str().into_client_request().unwrap();
    let offered = format!(
        "{LIVE_SUBPROTOCOL}, {}",
        token_subprotocol(&accepted.customer_token)
    );
    request
        .headers_mut()
        .insert("sec-websocket-protocol", offered.parse().unwrap());
    let (mut socket, response) = tokio_tungstenite::connect_async(request).await.unwrap();
    assert_eq!(
        response.headers()["sec-websocket-protocol"],
        LIVE_SUBPROTOCOL
    );
    assert!(
        next_update(&mut socket).await.queue.is_some(),
        "the backlog"
    );

    // A wrong token, or none, is refused before the upgrade.
    let mut wrong = url.as_str().into_client_request().unwrap();
    let other = format!("{LIVE_SUBPROTOCOL}, {}", token_subprotocol("not-the-token"));
    wrong
        .headers_mut()
        .insert("sec-websocket-protocol", other.parse().unwrap());
    for request in [wrong, url.as_str().into_client_request().unwrap()] {
        let refused = tokio_tungstenite::connect_async(request).await.unwrap_err();
        let tokio_tungstenite::tungstenite::Error::Http(response) = refused else {
            panic!("{refused:?}");
        };
        assert_eq!(response.status(), 401);
    }
}

#[tokio::test]
async fn the_live_channel_pushes_agent_messages_and_resumes_without_loss() {
    let baton = Baton::from_env();
    let sam = baton.agent("sam");
    let accepted = new_conversation(&baton).await;
    let (mut socket, _) = tokio_tungstenite::connect_async(baton.live_url(SITE, &accepted, 0))
        .await
        .unwrap();
    let first = next_update(&mut socket).await;
    assert!(first.events.is_empty() && first.queue.is_some());

    baton
        .agent_ok(&sam.token, "claim", &target(&accepted))
        .await;
    baton
        .agent_ok(&sam.token, "reply", &reply(&accepted, "first"))
        .await;
    let mut seen = Vec::new();
    while seen.len() < 2 {
        seen.extend(next_update(&mut socket).await.events);
    }
    assert_eq!(kinds(&seen), ["joined", "agent"]);
    drop(socket);

    // Sent while the customer was away; a reconnect from seq 2 gets exactly it.
    baton
        .agent_ok(&sam.token, "reply", &reply(&accepted, "second"))
        .await;
    let (mut socket, _) = tokio_tungstenite::connect_async(baton.live_url(SITE, &accepted, 2))
        .await
        .unwrap();
    let resumed = next_update(&mut socket).await;
    assert_eq!(kinds(&resumed.events), ["agent"]);
    assert_eq!(resumed.events[0].seq, 3);
}

/// A customer who comes back more than a page of events behind (the edge reads 500 at a
/// time) gets every one of them: the widget takes the highest `seq` it sees as where it
/// stands, so a page left out would be lost for good.
#[tokio::test]
async fn a_customer_far_behind_gets_every_missed_event_on_reconnect() {
    let baton = Baton::from_env();
    let sam = baton.agent("sam");
    let accepted = claimed_by(&baton, &sam).await;
    const REPLIES: u64 = 520;
    for n in 0..REPLIES {
        baton
            .agent_ok(&sam.token, "reply", &reply(&accepted, &format!("line {n}")))
            .await;
    }
    let last = REPLIES + 1; // after "joined"
    let (mut socket, _) = tokio_tungstenite::connect_async(baton.live_url(SITE, &accepted, 0))
        .await
        .unwrap();
    let mut seqs = Vec::new();
    while seqs.last() != Some(&last) {
        seqs.extend(next_update(&mut socket).await.events.iter().map(|e| e.seq));
    }
    assert_eq!(
        seqs,
        (1..=last).collect::<Vec<_>>(),
        "every event, in order, once"
    );
}

/// The agent writing a reply is told to the connected customer, once per notice, and
/// kept nowhere; only the agent holding the conversation can say so.
#[tokio::test]
async fn the_customer_hears_the_agent_typing_and_nothing_is_stored() {
    let baton = Baton::from_env();
    let (sam, noor) = (baton.agent("sam"), baton.agent("noor"));
    let accepted = new_conversation(&baton).await;
    assert_eq!(
        baton
            .agent_refusal(&sam.token, "typing", &target(&accepted))
            .await,
        (409, Some("not_claimed".to_owned())),
        "nobody holds it yet"
    );
    baton
        .agent_ok(&sam.token, "claim", &target(&accepted))
        .await;
    let (mut socket, _) = tokio_tungstenite::connect_async(baton.live_url(SITE, &accepted, 1))
        .await
        .unwrap();
    let caught_up = next_update(&mut socket).await;
    assert_eq!(caught_up.typing, None);

    baton
        .agent_ok(&sam.token, "typing", &target(&accepted))
        .await;
    let typing = next_update(&mut socket).await;
    assert_eq!(typing.typing.as_deref(), Some("Sam"));
    assert!(typing.events.is_empty(), "a notice, not an event");
    assert_eq!(
        baton
            .agent_refusal(&noor.token, "typing", &target(&accepted))
            .await,
        (409, Some("already_claimed".to_owned())),
        "another agent cannot type into Sam's conversation"
    );

    baton
        .agent_ok(&sam.token, "reply", &reply(&accepted, "Here you go"))
        .await;
    let replied = next_update(&mut socket).await;
    assert_eq!(kinds(&replied.events), ["agent"]);
    assert_eq!(replied.typing, None);
    let stored = baton.customer_events(SITE, &accepted, 0).await;
    assert_eq!(kinds(&stored.events), ["joined", "agent"]);
    assert_eq!(stored.typing, None, "never stored, never replayed");
}

/// The customer's chat says on its live channel that they are typing: agents see that,
/// never what, for a few seconds; the customer's own view never carries it, and anything
/// else sent on the channel is ignored.
#[tokio::test]
async fn the_agent_sees_the_customer_typing_but_not_what() {
    let baton = Baton::from_env();
    let sam = baton.agent("sam");
    let accepted = claimed_by(&baton, &sam).await;
    let agent_view = format!(
        "/v1/agent/events?site={SITE}&conversation={}&after=0",
        accepted.conversation_id
    );
    let typing_seen = || async {
        baton
            .agent_get::<ConversationUpdate>(&sam.token, &agent_view)
            .await
            .customer_typing
    };
    assert!(!typing_seen().await, "nobody has typed yet");

    let (mut socket, _) = tokio_tungstenite::connect_async(baton.live_url(SITE, &accepted, 0))
        .await
        .unwrap();
    next_update(&mut socket).await;
    socket
        .send(Message::text("my card number is 4242 4242 4242 4242"))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        !typing_seen().await,
        "anything but a typing notice is ignored"
    );

    socket
        .send(Message::text(r#"{"typing":true}"#))
        .await
        .unwrap();
    eventually("the agent to see the customer typing", || async {
        typing_seen().await.then_some(())
    })
    .await;
    let own = baton.customer_events(SITE, &accepted, 0).await;
    assert!(
        !own.customer_typing,
        "the customer's own view never says it"
    );
    // Six seconds after the last notice it is over.
    tokio::time::sleep(Duration::from_millis(6_500)).await;
    assert!(!typing_seen().await, "the notice lasts a few seconds");
}

#[tokio::test]
async fn the_live_channel_refuses_a_wrong_token() {
    let baton = Baton::from_env();
    let accepted = new_conversation(&baton).await;
    let forged = EscalationAccepted {
        customer_token: "0".repeat(64),
        ..accepted
    };
    let refused = tokio_tungstenite::connect_async(baton.live_url(SITE, &forged, 0)).await;
    assert!(refused.is_err(), "a forged token opened the live channel");
}

#[tokio::test]
async fn waiting_customers_learn_their_new_place_live() {
    let baton = Baton::from_env();
    let sam = baton.agent("sam");
    // Both sensitive, so they queue ahead of everything other tests leave behind.
    let sensitive = packet(&[EscalationReason::SensitiveIntent]);
    let ahead = baton.escalate(&escalation(SITE, sensitive.clone())).await;
    let behind = baton.escalate(&escalation(SITE, sensitive)).await;
    let (mut socket, _) = tokio_tungstenite::connect_async(baton.live_url(SITE, &behind, 0))
        .await
        .unwrap();
    let start = next_update(&mut socket).await.queue.unwrap().position;
    baton.agent_ok(&sam.token, "claim", &target(&ahead)).await;
    let moved = loop {
        if let Some(queue) = next_update(&mut socket).await.queue {
            if queue.position != start {
                break queue.position;
            }
        }
    };
    assert!(moved < start, "position went from {start} to {moved}");
}

#[tokio::test]
async fn csat_and_bot_feedback_feed_analytics_without_content() {
    let baton = Baton::from_env();
    let sam = baton.agent("sam");
    let accepted = claimed_by(&baton, &sam).await;
    baton
        .agent_ok(&sam.token, "reply", &reply(&accepted, "done"))
        .await;
    baton
        .agent_ok(&sam.token, "close", &target(&accepted))
        .await;
    let before = analytics(&baton).await;

    let bad = baton
        .customer_post(SITE, &accepted, "csat", &json!({ "rating": 9 }))
        .await;
    assert_eq!(error_code(bad).await, (422, "out_of_range".into()));
    let rated = baton
        .customer_post(
            SITE,
            &accepted,
            "csat",
            &json!({ "rating": 4, "comment": "quick" }),
        )
        .await;
    assert_eq!(rated.status(), 201);
    let again = baton
        .customer_post(SITE, &accepted, "csat", &json!({ "rating": 1 }))
        .await;
    assert_eq!(error_code(again).await, (409, "already_rated".into()));
    let feedback = baton
        .http()
        .post(baton.url("/v1/feedback"))
        .header("origin", baton.origin())
        .json(&json!({ "site": SITE, "helpful": true }))
        .send()
        .await
        .unwrap();
    assert_eq!(feedback.status(), 202);

    let after = analytics(&baton).await;
    assert!(after.csat_count > before.csat_count);
    assert!(after.bot_answers_helpful > before.bot_answers_helpful);
    assert!(after.resolved >= 1 && after.escalated >= 1);
    assert!(after.median_first_reply_seconds.is_some());
    let text = serde_json::to_string(&after).unwrap();
    assert!(!text.contains("quick"), "analytics hold no customer text");
}

async fn analytics(baton: &Baton) -> SiteAnalytics {
    let response = baton
        .http()
        .get(baton.url(&format!("/v1/agent/analytics?site={SITE}")))
        .bearer_auth(&baton.agent_token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn next_update<S>(socket: &mut S) -> ConversationUpdate
where
    S: futures_util::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    next_update_within(socket, Duration::from_secs(10)).await
}

/// A site whose queue only this test opens, so who is online there is its to say.
const AFTER_HOURS: &str = "after-hours";

#[tokio::test]
async fn waiting_customers_hear_live_whether_anyone_is_online() {
    let baton = Baton::from_env();
    let sam = baton.agent("sam");
    let availability = || async {
        let url = baton.url(&format!("/v1/availability?site={AFTER_HOURS}"));
        let response = baton.http().get(url).send().await.unwrap();
        assert_eq!(response.status(), 200);
        response.json::<Availability>().await.unwrap().agents_online
    };
    assert_eq!(availability().await, Some(0), "asked before escalating");
    let accepted = baton
        .escalate(&escalation(
            AFTER_HOURS,
            packet(&[EscalationReason::ExplicitRequest]),
        ))
        .await;
    assert_eq!(
        accepted.agents_online,
        Some(0),
        "nobody has the site's queue open"
    );
    let (mut socket, _) =
        tokio_tungstenite::connect_async(baton.live_url(AFTER_HOURS, &accepted, 0))
            .await
            .unwrap();
    let waiting = next_update(&mut socket).await.queue.unwrap();
    assert_eq!(waiting.agents_online, Some(0));

    // Sam opens the console, which asks for the queue: the customer hears at once.
    baton.queue_as(&sam.token, AFTER_HOURS).await;
    let online = next_queue_change(&mut socket, &waiting, Duration::from_secs(10)).await;
    assert_eq!(online.agents_online, Some(1));
    assert_eq!(online.position, waiting.position);
    assert_eq!(availability().await, Some(1));

    // Sam steps away with the console still open: the customer hears at once, and
    // again when Sam is back.
    let away_path = format!("/v1/agent/queue?site={AFTER_HOURS}&away=true");
    baton
        .agent_get::<serde_json::Value>(&sam.token, &away_path)
        .await;
    assert_eq!(
        availability().await,
        Some(0),
        "away at once, not when Sam's presence would have run out"
    );
    let away = next_queue_change(&mut socket, &online, Duration::from_secs(10)).await;
    assert_eq!(away.agents_online, Some(0));
    baton.queue_as(&sam.token, AFTER_HOURS).await;
    let online = next_queue_change(&mut socket, &away, Duration::from_secs(10)).await;
    assert_eq!(online.agents_online, Some(1));

    // Sam closes the console. When the presence runs out (`BATON_PRESENCE_MS`, 8 s in
    // the tests) the queue's alarm tells the customer, without anyone asking.
    let gone = next_queue_change(&mut socket, &online, Duration::from_secs(60)).await;
    assert_eq!(gone.agents_online, Some(0));
}

/// The next queue status on the live channel that differs from `from`.
async fn next_queue_change<S>(socket: &mut S, from: &QueueStatus, limit: Duration) -> QueueStatus
where
    S: futures_util::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        if let Some(queue) = next_update_within(socket, left).await.queue {
            if queue != *from {
                return queue;
            }
        }
    }
}

#[tokio::test]
async fn a_vanished_agents_claim_lapses_and_the_customer_waits_again() {
    let baton = Baton::from_env();
    let sam = baton.agent("sam");
    let accepted = new_conversation(&baton).await;
    let claimed = baton
        .agent_ok(&sam.token, "claim", &target(&accepted))
        .await;
    let lease_until = claimed["claim"]["lease_until_ms"].as_u64().unwrap();
    let (mut socket, _) = tokio_tungstenite::connect_async(baton.live_url(SITE, &accepted, 1))
        .await
        .unwrap();
    // Sam's console stops renewing. The queue's alarm puts the conversation back
    // and tells the customer, without anyone polling.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    let left = loop {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the lease (until {lease_until}) never lapsed"
        );
        let update = next_update_within(&mut socket, Duration::from_secs(90)).await;
        if let Some(event) = update.events.first() {
            break event.clone();
        }
    };
    assert!(
        matches!(left.event, EventBody::AgentLeft { ref agent_name, transferred_to: None } if agent_name == "Sam")
    );
    let update = baton.customer_events(SITE, &accepted, 0).await;
    assert!(update.queue.is_some(), "back in the queue");
}

async fn next_update_within<S>(socket: &mut S, limit: Duration) -> ConversationUpdate
where
    S: futures_util::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    loop {
        let message = tokio::time::timeout(limit, socket.next())
            .await
            .expect("no live update in time")
            .expect("live channel closed")
            .expect("live channel failed");
        if let Message::Text(text) = message {
            return serde_json::from_str(&text).unwrap();
        }
    }
}

#[tokio::test]
async fn a_customer_cannot_flood_a_conversation() {
    let baton = Baton::from_env();
    let accepted = new_conversation(&baton).await;
    let mut statuses = Vec::new();
    for n in 0..25 {
        let message = json!({ "client_id": unique_id("flood"), "text": format!("message {n}") });
        let response = baton
            .customer_post(SITE, &accepted, "messages", &message)
            .await;
        statuses.push(response.status().as_u16());
    }
    let stored = statuses.iter().filter(|&&s| s == 201).count();
    let limited = statuses.iter().filter(|&&s| s == 429).count();
    assert!((20..25).contains(&stored), "{statuses:?}");
    assert_eq!(stored + limited, 25, "{statuses:?}");
    let update = baton.customer_events(SITE, &accepted, 0).await;
    assert_eq!(
        update.events.len(),
        stored,
        "refused messages are not stored"
    );
}

#[tokio::test]
async fn agents_see_conversations_in_their_languages_first() {
    let baton = Baton::from_env();
    // Noor speaks Arabic (and English), Sam English; nobody here speaks French.
    let mut french = packet(&[EscalationReason::ExplicitRequest]);
    french.language = "fr".into();
    let mut arabic = packet(&[EscalationReason::ExplicitRequest]);
    arabic.language = "ar".into();
    let older = baton.escalate(&escalation(SITE, french)).await;
    let newer = baton.escalate(&escalation(SITE, arabic)).await;
    let position = |queue: &baton_protocol::QueueSnapshot, id: &str| {
        queue
            .waiting
            .iter()
            .position(|w| w.conversation_id == id)
            .unwrap()
    };
    for (agent, arabic_first) in [("noor", true), ("sam", false)] {
        let queue = baton.queue_as(&baton.agent(agent).token, SITE).await;
        let (fr, ar) = (
            position(&queue, &older.conversation_id),
            position(&queue, &newer.conversation_id),
        );
        assert_eq!(ar < fr, arabic_first, "{agent}: fr at {fr}, ar at {ar}");
    }
}

#[tokio::test]
async fn agents_with_a_skill_see_the_conversations_needing_it_first() {
    // On the `skilled` site, card questions need the `cards` skill, which Noor has.
    const SKILLED: &str = "skilled";
    let baton = Baton::from_env();
    let about = |intent: &str| {
        let mut packet = packet(&[EscalationReason::ExplicitRequest]);
        packet.intent = Some(baton_protocol::IntentGuess {
            intent: intent.into(),
            confidence: 0.9,
        });
        packet
    };
    let older = baton
        .escalate(&escalation(SKILLED, about("exchange_rate")))
        .await;
    let newer = baton
        .escalate(&escalation(SKILLED, about("card_arrival")))
        .await;
    for (agent, cards_first) in [("noor", true), ("sam", false)] {
        let queue = baton.queue_as(&baton.agent(agent).token, SKILLED).await;
        assert_eq!(queue.site, SKILLED);
        let entry = |id: &str| {
            queue
                .waiting
                .iter()
                .position(|w| w.conversation_id == id)
                .map(|at| (at, queue.waiting[at].skill.clone()))
                .unwrap()
        };
        let (plain_at, plain_skill) = entry(&older.conversation_id);
        let (cards_at, cards_skill) = entry(&newer.conversation_id);
        assert_eq!(plain_skill, None);
        assert_eq!(cards_skill.as_deref(), Some("cards"));
        assert_eq!(
            cards_at < plain_at,
            cards_first,
            "{agent}: card question at {cards_at}, the other at {plain_at}"
        );
    }
}
