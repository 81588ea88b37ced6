//! End-to-end: the agent console (`www/agent`) in real headless Chromium and Firefox,
//! served by real `wrangler dev`. An agent signs in, sees a conversation waiting,
//! claims it, reads the packet, inserts the knowledge-base suggestion, replies, reads
//! the customer's answer live and closes; a second agent's claim shows as a conflict,
//! naming that agent; transfer and release work from the console; the console renews its
//! leases and tells the customer while its agent types. Agents see whether the customer
//! still has the chat open, who had a conversation back in the queue, and what a
//! customer wrote with their rating.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use baton_protocol::{
    Author, ConversationUpdate, EscalationAccepted, EscalationReason, EventBody, HandoffPacket,
    IntentGuess, TranscriptEntry, MAX_MESSAGE_BYTES,
};
use baton_tests::browser::{click_inside, eventually, Browser, BrowserKind};
use baton_tests::{escalation, identity_hash, in_both_browsers, unique_id, unique_text, Baton};
use fantoccini::elements::Element;
use fantoccini::Locator;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

const SITE: &str = "demo";

/// The demo knowledge base's full answer for `card_arrival`.
fn card_arrival_answer() -> String {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../crates/triage/data/demo/kb.toml"
    );
    let kb: toml::Value = toml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    kb["intent"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"].as_str() == Some("card_arrival"))
        .and_then(|i| i["answer"].as_str())
        .unwrap()
        .to_owned()
}

/// A new conversation in the demo queue whose summary is unique to this test.
async fn escalate(baton: &Baton, customer_text: &str) -> (EscalationAccepted, String) {
    let summary = unique_text("Console test: customer asks");
    let packet = HandoffPacket {
        reasons: vec![EscalationReason::ExplicitRequest],
        summary: summary.clone(),
        intent: Some(IntentGuess {
            intent: "card_arrival".into(),
            confidence: 0.93,
        }),
        answers_shown: vec!["card_arrival".into()],
        transcript: vec![TranscriptEntry {
            author: Author::Customer,
            text: customer_text.into(),
            at_ms: 1,
        }],
        language: "en".into(),
        ..HandoffPacket::default()
    };
    (baton.escalate(&escalation(SITE, packet)).await, summary)
}

/// Opens the console signed in with `token` (fragment link) and waits for "Signed in as".
async fn sign_in(browser: &Browser, baton: &Baton, token: &str, name: &str) {
    browser
        .client
        .goto(&baton.url(&format!("/agent/#token={token}")))
        .await
        .unwrap();
    wait_text(browser, "#me", &format!("Signed in as {name}")).await;
    // The token left the address bar.
    let url = browser.client.current_url().await.unwrap();
    assert!(!url.as_str().contains(token), "token still in {url}");
}

/// The customer writes `text` in their conversation on the demo site, through the API.
async fn customer_writes(baton: &Baton, accepted: &EscalationAccepted, text: &str) {
    let message = json!({"client_id": unique_id("c"), "text": text});
    let response = baton
        .customer_post(SITE, accepted, "messages", &message)
        .await;
    assert!(response.status().is_success(), "{}", response.status());
}

/// The Waiting list's entry for conversation `id`.
fn waiting_entry(id: &str) -> String {
    format!("#waiting li.entry[data-conversation='{id}']")
}

/// The body an agent action on conversation `id` of the demo site takes.
fn on_conversation(id: &str) -> Value {
    json!({"site": SITE, "conversation": id})
}

/// A customer on the shop who asked for a person in the widget: their browser, and the
/// conversation's id.
async fn customer_waiting(baton: &Baton, kind: BrowserKind) -> (Browser, String) {
    let customer = Browser::start(kind).await;
    customer.client.goto(&baton.url("/")).await.unwrap();
    let id = customer
        .escalate_in_widget("I want to change my delivery address")
        .await;
    (customer, id)
}

/// Opens the console and signs in to `site` with `token` through the form.
async fn sign_in_on(browser: &Browser, baton: &Baton, site: &str, token: &str) {
    browser.client.goto(&baton.url("/agent/")).await.unwrap();
    let site_input = wait_shown(browser, "#site").await;
    site_input.clear().await.unwrap();
    site_input.send_keys(site).await.unwrap();
    wait_shown(browser, "#token")
        .await
        .send_keys(&format!("{token}\u{e007}"))
        .await
        .unwrap();
}

/// Waits until the queue entry matching `css` shows `text`, and opens its packet.
async fn open_from(browser: &Browser, css: &str, text: &str) {
    press_in_entry(browser, css, text, "button.open").await;
}

/// Waits until the queue entry matching `css` shows `text`, and presses its `button`.
/// The lists are rebuilt every 2 s: an entry found just before is pressed again, fresh.
async fn press_in_entry(browser: &Browser, css: &str, text: &str, button: &str) {
    let what = format!(
        "`{css}` showing {text:?} to press {button} ({})",
        browser.kind.name()
    );
    eventually(&what, || async {
        for entry in browser.client.find_all(Locator::Css(css)).await.ok()? {
            if entry.text().await.ok()?.contains(text) {
                let inner = entry.find(Locator::Css(button)).await.ok()?;
                return inner.click().await.ok();
            }
        }
        None
    })
    .await
}

/// Claims the conversation from its waiting card (matching `css`, showing `text`) and
/// puts it back in the queue from the console.
async fn claim_then_release(browser: &Browser, css: &str, text: &str) {
    press_in_entry(browser, css, text, "button.claim").await;
    wait_text(browser, "#holder", "You have this conversation").await;
    wait_shown(browser, "#release").await.click().await.unwrap();
    wait_text(browser, "#status", "Put back in the queue").await;
}

/// Waits until a displayed element matching `css` contains `text`.
async fn wait_text(browser: &Browser, css: &str, text: &str) -> Element {
    browser.wait_for_page_text(css, text).await
}

/// Waits until the element matching `css` (shown or not, such as a screen reader's live
/// region) says `text`.
async fn wait_said(browser: &Browser, css: &str, text: &str) {
    let what = format!("`{css}` to say {text:?} ({})", browser.kind.name());
    eventually(&what, || async {
        let element = browser.client.find(Locator::Css(css)).await.ok()?;
        let said = element.prop("textContent").await.ok()??;
        said.contains(text).then_some(())
    })
    .await
}

/// Waits until a displayed element matches `css`.
async fn wait_shown(browser: &Browser, css: &str) -> Element {
    wait_text(browser, css, "").await
}

/// Waits until nothing matches `css`.
async fn wait_gone(browser: &Browser, css: &str) {
    let what = format!("`{css}` to go away ({})", browser.kind.name());
    eventually(&what, || async {
        let found = browser.client.find_all(Locator::Css(css)).await.ok()?;
        found.is_empty().then_some(())
    })
    .await
}

async fn count(browser: &Browser, css: &str) -> usize {
    browser
        .client
        .find_all(Locator::Css(css))
        .await
        .unwrap()
        .len()
}

/// Focuses the button matching `css`, waits for two queue refreshes and checks that the
/// same button (rebuilt by the refresh) has focus again.
async fn focus_survives_refreshes(browser: &Browser, css: &str) {
    let focused = browser
        .client
        .execute(
            "const b = document.querySelector(arguments[0]); b.focus(); \
             return document.activeElement === b;",
            vec![json!(css)],
        )
        .await
        .unwrap();
    assert_eq!(focused, json!(true), "{css} takes focus");
    for _ in 0..2 {
        let before = live_text(browser).await;
        eventually("the queue to refresh", || async {
            (live_text(browser).await != before).then_some(())
        })
        .await;
    }
    let still = browser
        .client
        .execute(
            "const b = document.querySelector(arguments[0]); \
             return b !== null && document.activeElement === b;",
            vec![json!(css)],
        )
        .await
        .unwrap();
    assert_eq!(still, json!(true), "focus stays on {css} across refreshes");
}

/// The "Live · updated …" line, which changes at every queue refresh.
async fn live_text(browser: &Browser) -> String {
    browser
        .client
        .find(Locator::Css("#live"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// `n` with thousands separators, as the console writes numbers ("4,100").
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// Waits until the tab's title contains `text`.
async fn wait_title(browser: &Browser, text: &str) {
    let what = format!(
        "the title to say {text:?} (now {:?})",
        browser.client.title().await.unwrap_or_default()
    );
    eventually(&what, || async {
        let title = browser.client.title().await.ok()?;
        title.contains(text).then_some(())
    })
    .await;
}

async fn lease_until(baton: &Baton, conversation: &str) -> Option<(String, u64)> {
    let queue: serde_json::Value = baton
        .agent_get(&baton.agent_token, &format!("/v1/agent/queue?site={SITE}"))
        .await;
    queue["active"]
        .as_array()?
        .iter()
        .find(|e| e["conversation_id"] == conversation)
        .map(|e| {
            (
                e["claim"]["agent_id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                e["claim"]["lease_until_ms"].as_u64().unwrap_or(0),
            )
        })
}

async fn an_agent_claims_replies_and_closes_in_the_console(kind: BrowserKind) {
    let baton = Baton::from_env();
    let sam = baton.agent("sam");
    let (accepted, summary) = escalate(&baton, "where is my card? it still hasn't arrived").await;
    let id = accepted.conversation_id.clone();
    let browser = Browser::start(kind).await;
    sign_in(&browser, &baton, &sam.token, "Sam").await;

    // The tab's title counts who waits (seen from other tabs), and a new arrival is
    // announced to screen readers.
    eventually("the title to count the waiting conversations", || async {
        let title = browser.client.title().await.ok()?;
        let waiting = browser
            .client
            .find(Locator::Css("#count"))
            .await
            .ok()?
            .text()
            .await
            .ok()?;
        // (Sam works in the other browser at the same time: what needs them there, such
        // as a new message, may follow the count.)
        (title.starts_with(&format!("({waiting} waiting"))
            && title.ends_with(") Baton · Agent console"))
        .then_some(())
    })
    .await;
    escalate(&baton, "another customer, arriving while Sam watches").await;
    wait_said(&browser, "#arrivals", "new conversation").await;

    // Waiting: the summary, the reason in plain words, a live SLA timer.
    let entry_css = waiting_entry(&id);
    let entry = wait_text(&browser, &entry_css, &summary).await;
    let text = entry.text().await.unwrap();
    assert!(text.contains("Asked for a person"), "reason shown: {text}");
    // The intent as the customer saw it: the knowledge base's title, from the site's model.
    let intent_css = format!("{entry_css} .intent");
    wait_text(&browser, &intent_css, "When will my card arrive? (93%)").await;
    wait_text(&browser, &format!("{entry_css} .sla"), "waiting 0:").await;
    // The analytics strip is there.
    wait_shown(&browser, "#analytics #stat-escalated").await;

    // Claim: the packet opens, summary first, then reasons, then the transcript.
    press_in_entry(&browser, &entry_css, &summary, "button.claim").await;
    let packet_css = format!("#packet[data-conversation='{id}']");
    wait_text(&browser, &format!("{packet_css} .packet-summary"), &summary).await;
    wait_text(
        &browser,
        &format!("{packet_css} .transcript"),
        "where is my card?",
    )
    .await;
    let meta = format!("{packet_css} .packet-meta");
    wait_text(
        &browser,
        &meta,
        "Answers already shown: When will my card arrive?",
    )
    .await;
    let order = browser
        .client
        .execute(
            "const s = document.querySelector('#packet .packet-summary');
             const r = document.querySelector('#packet .packet-reasons');
             const t = document.querySelector('#packet .transcript');
             const before = (a, b) => Boolean(a.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING);
             return before(s, r) && before(r, t);",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(order, json!(true), "summary, then reasons, then transcript");
    let reply = wait_shown(&browser, "#reply").await;
    wait_text(
        &browser,
        &format!("#active li[data-conversation='{id}']"),
        "With you",
    )
    .await;
    wait_gone(&browser, &entry_css).await;

    // A keyboard user on the Active entry's Open button stays there while the list
    // refreshes (every 2 s).
    focus_survives_refreshes(
        &browser,
        &format!("#active li[data-conversation='{id}'] button.open"),
    )
    .await;

    // The customer's chat, live: it hears that Sam is typing.
    let (mut live, _) = tokio_tungstenite::connect_async(baton.live_url(SITE, &accepted, 0))
        .await
        .unwrap();

    // The knowledge base suggests the card-arrival answer; Insert fills the reply box.
    let suggestion = wait_text(
        &browser,
        "#suggestion",
        "Suggested from the knowledge base:",
    )
    .await;
    assert_eq!(
        suggestion.attr("data-intent").await.unwrap().as_deref(),
        Some("card_arrival")
    );
    // The bot showed the customer that answer before the hand-off (tester report B5):
    // the console says so before the agent sends it again.
    wait_text(
        &browser,
        "#suggestion .suggestion-shown",
        "Already shown to the customer by the bot.",
    )
    .await;
    // Insert adds the answer after what Sam already wrote, instead of replacing it.
    let own_words = "I have re-sent the card; reference FR-7.";
    reply.send_keys(own_words).await.unwrap();
    browser.click_on_page("#insert").await;
    let drafted = reply.prop("value").await.unwrap().unwrap_or_default();
    assert!(
        drafted.starts_with(own_words)
            && drafted.trim_end().ends_with(card_arrival_answer().trim()),
        "own words kept, then the answer: {drafted:?}"
    );
    reply.clear().await.unwrap();

    // Ctrl+Enter sends; the customer receives the reply, told first that Sam is typing.
    let greeting = unique_text("Hello from Sam");
    let first_reply = format!("**{greeting}**");
    reply
        .send_keys(&format!("{first_reply}\u{e009}\u{e007}\u{e000}"))
        .await
        .unwrap();
    let typing = tokio::time::timeout(std::time::Duration::from_secs(20), async {
        loop {
            let frame = live.next().await.unwrap().unwrap();
            if let Message::Text(text) = frame {
                let update: ConversationUpdate = serde_json::from_str(&text).unwrap();
                if let Some(name) = update.typing {
                    return name;
                }
            }
        }
    })
    .await
    .expect("the customer to hear that Sam is typing");
    assert_eq!(typing, "Sam");
    // The customer's chat says they are typing: the console shows it under the thread.
    live.send(Message::text(r#"{"typing":true}"#))
        .await
        .unwrap();
    wait_text(&browser, "#customer-typing", "The customer is typing").await;
    drop(live);
    eventually("the customer to receive the agent's reply", || async {
        let update = baton.customer_events(SITE, &accepted, 0).await;
        update.events.iter().find_map(|e| match &e.event {
            EventBody::Message {
                author: Author::Agent,
                text,
                agent_name,
                ..
            } if *text == first_reply => {
                assert_eq!(agent_name.as_deref(), Some("Sam"));
                Some(())
            }
            _ => None,
        })
    })
    .await;
    // The console shows it as the customer does: bold, without the asterisks.
    wait_text(&browser, "#thread li.from-agent .rich strong", &greeting).await;

    // The customer answers through the API; it appears in the console's thread.
    let customer_text = unique_text("Thanks, and my PIN?");
    customer_writes(&baton, &accepted, &customer_text).await;
    let line = wait_text(&browser, "#thread li.from-customer", &customer_text).await;
    wait_text(&browser, "#announce", &customer_text).await;
    // When it was written: relative, with the exact time in `datetime` and `title`.
    let time = line.find(Locator::Css("time")).await.unwrap();
    assert_eq!(time.text().await.unwrap(), "just now");
    assert!(time
        .attr("datetime")
        .await
        .unwrap()
        .is_some_and(|t| t.ends_with('Z')));
    assert!(time
        .attr("title")
        .await
        .unwrap()
        .is_some_and(|t| !t.is_empty()));

    // Arabic reads right to left, the order number in its place.
    let arabic = "مرحبا، طلبي LK-9090 لم يصل.";
    customer_writes(&baton, &accepted, arabic).await;
    let line = wait_text(&browser, "#thread li.from-customer", "LK-9090").await;
    let direction = browser
        .client
        .execute(
            "return getComputedStyle(arguments[0].querySelector('.text')).direction;",
            vec![serde_json::to_value(&line).unwrap()],
        )
        .await
        .unwrap();
    assert_eq!(
        direction,
        json!("rtl"),
        "an Arabic line is laid out right to left"
    );

    // A reply over the edge's limit is stopped in the console, in words, with a count.
    let too_long = "a".repeat(MAX_MESSAGE_BYTES + 100);
    browser
        .client
        .execute(
            "const box = document.querySelector('#reply'); box.value = arguments[0]; \
             box.dispatchEvent(new Event('input', { bubbles: true }));",
            vec![json!(too_long)],
        )
        .await
        .unwrap();
    let limit = thousands(MAX_MESSAGE_BYTES);
    let length = thousands(MAX_MESSAGE_BYTES + 100);
    wait_text(
        &browser,
        "#reply-count",
        &format!("{length} of {limit} characters"),
    )
    .await;
    browser
        .click_on_page("#reply-form button[type=submit]")
        .await;
    let alert = wait_text(
        &browser,
        "#alert",
        &format!("Your reply is {length} characters; the limit is {limit}."),
    )
    .await;
    // The alert says which conversation it is about.
    assert!(
        alert
            .text()
            .await
            .unwrap()
            .starts_with("Reply not sent (“Console test: customer asks"),
        "{}",
        alert.text().await.unwrap()
    );
    reply.clear().await.unwrap();

    // A second reply with the Send button; nothing in the thread is duplicated.
    let second_reply = unique_text("Your PIN comes by post");
    reply.send_keys(&second_reply).await.unwrap();
    browser
        .click_on_page("#reply-form button[type=submit]")
        .await;
    wait_text(&browser, "#thread li.from-agent", &second_reply).await;
    let thread = browser
        .client
        .find(Locator::Css("#thread"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for text in [&greeting, &customer_text, &second_reply] {
        assert_eq!(
            thread.matches(text.as_str()).count(),
            1,
            "{text} in {thread}"
        );
    }
    assert_eq!(reply.prop("value").await.unwrap().as_deref(), Some(""));
    // The error went with the success.
    wait_gone(&browser, "#alert:not(:empty)").await;

    // The console renews its claim (leases are 15 s under test).
    let (holder, first_lease) = lease_until(&baton, &id).await.unwrap();
    assert_eq!(holder, "sam");
    eventually("the console to renew its lease", || async {
        let (holder, lease) = lease_until(&baton, &id).await?;
        (holder == "sam" && lease > first_lease).then_some(())
    })
    .await;

    // A second conversation Sam holds, not on screen: its customer writes, and its
    // Active entry and the tab's title say so.
    let (other, _) = escalate(&baton, "one more question about my card").await;
    let other_id = other.conversation_id.clone();
    let other_target = on_conversation(&other_id);
    wait_shown(&browser, &waiting_entry(&other_id)).await;
    baton.agent_ok(&sam.token, "claim", &other_target).await;
    let other_css = format!("#active li[data-conversation='{other_id}']");
    wait_text(&browser, &other_css, "With you").await;
    let draft = unique_text("Draft for the first customer");
    reply.send_keys(&draft).await.unwrap();
    customer_writes(&baton, &other, "Hello? Anyone there?").await;
    wait_text(&browser, &other_css, "New message from the customer").await;
    // (Sam works in the other browser too: count at least this one.)
    wait_title(&browser, " new message").await;
    // The one on screen is not marked.
    assert!(
        !wait_shown(&browser, &format!("#active li[data-conversation='{id}']"))
            .await
            .text()
            .await
            .unwrap()
            .contains("New message")
    );

    // Opening it clears the mark; each conversation keeps its own draft.
    open_from(&browser, &other_css, "With you").await;
    wait_text(
        &browser,
        &format!("#packet[data-conversation='{other_id}'] .transcript"),
        "one more question",
    )
    .await;
    wait_gone(&browser, &format!("{other_css}.unread")).await;
    let reply = wait_shown(&browser, "#reply").await;
    assert_eq!(reply.prop("value").await.unwrap().as_deref(), Some(""));
    open_from(
        &browser,
        &format!("#active li[data-conversation='{id}']"),
        "With you",
    )
    .await;
    wait_shown(&browser, &format!("#packet[data-conversation='{id}']")).await;
    assert_eq!(
        reply.prop("value").await.unwrap().as_deref(),
        Some(draft.as_str())
    );
    // A reload reopens that conversation, draft and all.
    browser.client.refresh().await.unwrap();
    wait_text(
        &browser,
        &format!("#packet[data-conversation='{id}'] .holder"),
        "You have",
    )
    .await;
    let reply = wait_shown(&browser, "#reply").await;
    assert_eq!(
        reply.prop("value").await.unwrap().as_deref(),
        Some(draft.as_str())
    );
    // The thread, shown before the formatter loaded, is formatted once it has.
    wait_text(&browser, "#thread li.from-agent .rich strong", &greeting).await;
    baton.agent_ok(&sam.token, "close", &other_target).await;

    // The Waiting heading says in what order the queue comes.
    wait_text(
        &browser,
        "#queue-order",
        "customers in your languages first",
    )
    .await;

    // No accessibility violations with a conversation open.
    let violations = browser.axe_violations().await;
    assert_eq!(violations, json!([]), "axe-core violations");
    browser.screenshot("agent-console-conversation").await;

    // Close with a note, which the console says the customer reads: it leaves Active;
    // the customer sees it resolved.
    wait_text(
        &browser,
        "#close-form label[for='resolution']",
        "Closing message to the customer (optional)",
    )
    .await;
    wait_text(&browser, "#resolution-hint", "The customer sees it").await;
    browser
        .client
        .find(Locator::Css("#resolution"))
        .await
        .unwrap()
        .send_keys("Card re-sent")
        .await
        .unwrap();
    browser
        .click_on_page("#close-form button[type=submit]")
        .await;
    wait_text(&browser, "#status", "closed").await;
    wait_gone(&browser, &format!("#active li[data-conversation='{id}']")).await;
    assert_eq!(count(&browser, &entry_css).await, 0);
    let update = baton.customer_events(SITE, &accepted, 0).await;
    assert!(
        update.events.iter().any(|e| matches!(
            &e.event,
            EventBody::Resolved { resolution: Some(note), .. } if note == "Card re-sent"
        )),
        "the customer sees the conversation resolved"
    );

    // Away and back: the button says which, and the console says what customers see.
    let away = wait_shown(&browser, "#away").await;
    away.click().await.unwrap();
    wait_text(&browser, "#status", "You are away").await;
    assert_eq!(
        away.attr("aria-pressed").await.unwrap().as_deref(),
        Some("true")
    );
    away.click().await.unwrap();
    wait_text(&browser, "#status", "You are back online").await;
    assert_eq!(
        away.attr("aria-pressed").await.unwrap().as_deref(),
        Some("false")
    );
    browser.close().await;
}

async fn conflicts_transfer_and_release_show_in_the_console(kind: BrowserKind) {
    let baton = Baton::from_env();
    let sam = baton.agent("sam");
    let noor = baton.agent("noor");
    let (accepted, summary) = escalate(&baton, "I need to talk about my account").await;
    let id = accepted.conversation_id.clone();
    let target = on_conversation(&id);
    let browser = Browser::start(kind).await;
    sign_in(&browser, &baton, &sam.token, "Sam").await;

    // Sam opens the packet; Noor claims first; Sam's claim is refused, in words.
    let entry_css = waiting_entry(&id);
    open_from(&browser, &entry_css, &summary).await;
    let claim = wait_shown(&browser, "#claim-open").await;
    baton.agent_ok(&noor.token, "claim", &target).await;
    claim.click().await.unwrap();
    wait_text(&browser, "#alert", "): Noor has this conversation.").await;
    let active_css = format!("#active li[data-conversation='{id}']");
    wait_text(&browser, &active_css, "With Noor").await;
    assert!(!browser
        .client
        .find(Locator::Css("#reply"))
        .await
        .unwrap()
        .is_displayed()
        .await
        .unwrap());
    // The open packet says whose it is, and offers no claim that would fail.
    wait_text(&browser, "#holder", "With Noor.").await;
    wait_gone(&browser, "#claim-open:not([hidden])").await;

    // Noor transfers to Sam: Sam is told who passed it, the entry and the title show it,
    // and Sam can work on it.
    baton
        .agent_ok(
            &noor.token,
            "transfer",
            &json!({"site": SITE, "conversation": id, "to_agent": "sam"}),
        )
        .await;
    wait_text(
        &browser,
        "#news",
        "Noor transferred a conversation to you: “Console test: customer asks",
    )
    .await;
    wait_text(&browser, &active_css, "Transferred to you by Noor").await;
    wait_title(&browser, " transferred to you").await;
    open_from(&browser, &active_css, "With you").await;
    wait_shown(&browser, "#reply").await;
    wait_gone(&browser, &format!("{active_css}.transferred")).await;

    // Sam transfers back to Noor from the console.
    let options = browser
        .client
        .execute(
            "return Array.from(document.querySelectorAll('#transfer-to option'), (o) => o.value);",
            vec![],
        )
        .await
        .unwrap();
    let options = options.as_array().unwrap();
    assert!(
        options.contains(&json!("noor")),
        "Noor is a target: {options:?}"
    );
    assert!(
        !options.contains(&json!("lee")),
        "Lee works on another site only: {options:?}"
    );
    assert!(
        !options.contains(&json!("sam")),
        "targets exclude me: {options:?}"
    );
    browser
        .click_on_page("#transfer-to option[value='noor']")
        .await;
    browser
        .click_on_page("#transfer-form button[type=submit]")
        .await;
    wait_text(&browser, "#status", "Transferred to Noor").await;
    wait_text(&browser, &active_css, "With Noor").await;
    // The failed claim's alert went with this success.
    wait_gone(&browser, "#alert:not(:empty)").await;

    // Noor releases it; Sam claims it from Waiting and releases it from the console.
    baton.agent_ok(&noor.token, "release", &target).await;
    claim_then_release(&browser, &entry_css, &summary).await;
    wait_text(&browser, &entry_css, &summary).await;
    assert!(lease_until(&baton, &id).await.is_none(), "still claimed");

    // Sam claims it again and starts a reply; the customer ends the chat. The console
    // says so, offers no claim, and keeps the draft to copy, read-only.
    press_in_entry(&browser, &entry_css, &summary, "button.claim").await;
    let reply = wait_shown(&browser, "#reply").await;
    wait_text(&browser, "#holder", "You have this conversation").await;
    let draft = "I am checking your account now and will";
    reply.send_keys(draft).await.unwrap();
    let response = baton
        .customer_post(SITE, &accepted, "close", &json!({}))
        .await;
    assert!(response.status().is_success(), "{}", response.status());
    wait_text(&browser, "#holder", "Ended by the customer.").await;
    wait_text(&browser, "#news", "The customer ended the chat").await;
    let reply = wait_shown(&browser, "#reply").await;
    assert_eq!(reply.prop("value").await.unwrap().as_deref(), Some(draft));
    assert_eq!(
        reply.prop("readOnly").await.unwrap().as_deref(),
        Some("true")
    );
    assert_eq!(count(&browser, "#claim-open:not([hidden])").await, 0);
    assert!(!browser
        .client
        .find(Locator::Css("#send"))
        .await
        .unwrap()
        .is_displayed()
        .await
        .unwrap());
    browser.close().await;
}

/// A signed-in customer's second conversation: the console says who they are (as the
/// site verified) and lists what they needed before, how it ended and what they wrote
/// with their rating, which opens with one click.
async fn a_signed_in_customers_earlier_conversations_show_in_the_console(kind: BrowserKind) {
    let baton = Baton::from_env();
    let site = "verified";
    let customer = unique_id("customer");
    let signed_in = |summary: &str| {
        let mut request = escalation(
            site,
            HandoffPacket {
                reasons: vec![EscalationReason::ExplicitRequest],
                summary: summary.to_owned(),
                language: "en".into(),
                ..HandoffPacket::default()
            },
        );
        request.identity = Some(baton_protocol::CustomerIdentity {
            id: customer.clone(),
            name: "Grace Hopper".into(),
            email: "grace@example.com".into(),
            hash: identity_hash(site, &customer),
        });
        request
    };
    let before = unique_text("Console test: card never came");
    let now = unique_text("Console test: card still missing");
    let first = baton.escalate(&signed_in(&before)).await;
    let target = json!({"site": site, "conversation": first.conversation_id});
    let noor = baton.agent("noor");
    baton.agent_ok(&noor.token, "claim", &target).await;
    let mut close = target.clone();
    close["resolution"] = "New card sent".into();
    baton.agent_ok(&noor.token, "close", &close).await;
    // The customer rates it, with a comment that an agent reads as the customer's words,
    // markup and all as text.
    let comment = "Why was I put back in the queue? <b>Twice</b>";
    let rated = baton
        .customer_post(
            site,
            &first,
            "csat",
            &json!({"rating": 2, "comment": comment}),
        )
        .await;
    assert_eq!(rated.status(), 201);
    let second = baton.escalate(&signed_in(&now)).await;

    let browser = Browser::start(kind).await;
    sign_in_on(&browser, &baton, site, &baton.agent("sam").token).await;
    let entry_css = format!(
        "#waiting li.entry[data-conversation='{}']",
        second.conversation_id
    );
    open_from(&browser, &entry_css, &now).await;
    wait_text(&browser, "#customer .customer-who", "Grace Hopper").await;
    let earlier = wait_text(&browser, "#customer .earlier li", &before).await;
    wait_text(&browser, "#customer .earlier li", "Resolved: New card sent").await;
    wait_text(
        &browser,
        "#customer .earlier li",
        "Rated 2/5, the customer wrote:",
    )
    .await;
    let quoted = wait_shown(&browser, "#customer .earlier li q.comment").await;
    assert_eq!(quoted.text().await.unwrap(), comment);
    assert_eq!(
        count(&browser, "#customer .earlier b").await,
        0,
        "markup ran"
    );
    assert!(
        !browser
            .client
            .find(Locator::Id("earlier-empty"))
            .await
            .unwrap()
            .is_displayed()
            .await
            .unwrap(),
        "no 'first conversation' note beside an earlier one"
    );
    // One click opens the earlier conversation's packet, whose customer had none before.
    click_inside(&earlier, "button").await;
    wait_text(
        &browser,
        "#packet-title",
        &format!("Conversation {}", &first.conversation_id[..8]),
    )
    .await;
    wait_text(&browser, ".packet-summary", &before).await;
    wait_shown(&browser, "#earlier-empty").await;
    browser.close().await;
}

/// The customer's chat is open: the waiting card and the open conversation say the
/// customer is here. They close the shop's tab: after the grace period (3 s under test)
/// both say they left, and a screen reader hears it. Back on the shop, the customer is
/// here again.
async fn an_agent_sees_whether_the_customer_is_still_in_the_chat(kind: BrowserKind) {
    let baton = Baton::from_env();
    let (customer, id) = customer_waiting(&baton, kind).await;

    let browser = Browser::start(kind).await;
    sign_in(&browser, &baton, &baton.agent("sam").token, "Sam").await;
    let entry_css = waiting_entry(&id);
    let presence_css = format!("{entry_css} .presence");
    wait_text(&browser, &presence_css, "Customer is here").await;
    open_from(&browser, &entry_css, "Customer is here").await;
    wait_text(&browser, "#customer-presence", "Customer is here").await;

    // The customer goes to another site: the page may be kept for the Back button
    // (Chromium's back/forward cache kept its socket open), but the chat lets go of it.
    let client = &customer.client;
    client.goto("about:blank").await.unwrap();
    wait_text(
        &browser,
        &format!("{presence_css}.left"),
        "Customer left the chat",
    )
    .await;
    client.goto(&baton.url("/")).await.unwrap();
    wait_text(&browser, &presence_css, "Customer is here").await;

    // The customer closes the shop's tab (another tab stays open, with nothing of the
    // shop).
    let elsewhere = client.new_window(true).await.unwrap().handle;
    client.close_window().await.unwrap();
    client.switch_to_window(elsewhere).await.unwrap();
    wait_text(
        &browser,
        &format!("{presence_css}.left"),
        "Customer left the chat just now",
    )
    .await;
    wait_text(&browser, "#customer-presence", "Customer left the chat").await;
    wait_said(&browser, "#announce", "The customer left the chat.").await;

    // Back on the shop, their chat connects again.
    client.goto(&baton.url("/")).await.unwrap();
    wait_text(&browser, &presence_css, "Customer is here").await;
    wait_text(&browser, "#customer-presence", "Customer is here").await;
    wait_said(&browser, "#announce", "The customer is back in the chat.").await;
    customer.close().await;
    browser.close().await;
}

/// A conversation that comes back to the queue says who had it: Noor released it, then
/// Noor's claim ran out (her console gone; 15 s under test), then Sam released it
/// himself. Sam reads each on its waiting card.
async fn a_conversation_back_in_the_queue_says_who_had_it(kind: BrowserKind) {
    let baton = Baton::from_env();
    let noor = baton.agent("noor");
    let (accepted, summary) = escalate(&baton, "my parcel never came").await;
    let target = on_conversation(&accepted.conversation_id);
    let browser = Browser::start(kind).await;
    sign_in(&browser, &baton, &baton.agent("sam").token, "Sam").await;
    let entry_css = waiting_entry(&accepted.conversation_id);
    wait_text(&browser, &entry_css, &summary).await;
    assert_eq!(
        count(&browser, &format!("{entry_css} .previous:not(:empty)")).await,
        0,
        "nobody had it yet"
    );

    baton.agent_ok(&noor.token, "claim", &target).await;
    baton.agent_ok(&noor.token, "release", &target).await;
    let previous_css = format!("{entry_css} .previous");
    wait_text(&browser, &previous_css, "Was with Noor, released just now").await;

    // Nobody renews Noor's next claim: it runs out, and the card says so.
    baton.agent_ok(&noor.token, "claim", &target).await;
    wait_text(
        &browser,
        &previous_css,
        "Noor's reservation ran out just now",
    )
    .await;

    claim_then_release(&browser, &entry_css, &summary).await;
    wait_text(&browser, &previous_css, "Was with you, released just now").await;
    browser.close().await;
}

/// A new conversation waiting on `site` with `summary`.
async fn escalate_to(baton: &Baton, site: &str, summary: &str) -> EscalationAccepted {
    let packet = HandoffPacket {
        summary: summary.to_owned(),
        ..HandoffPacket::default()
    };
    baton.escalate(&escalation(site, packet)).await
}

/// The hand-off packet comes from the customer's browser, which could claim anything: a
/// "bot" line with a link to a fake sign-in page shows the link's address, and no link.
async fn a_link_in_a_packet_from_the_browser_is_shown_not_followed(kind: BrowserKind) {
    let baton = Baton::from_env();
    let summary = unique_text("Console test: a forged bot line");
    let packet = HandoffPacket {
        summary: summary.clone(),
        transcript: vec![TranscriptEntry {
            author: Author::Bot,
            text: "Refund needs approval: [Approve in admin](https://evil.example/sso)".into(),
            at_ms: 1,
        }],
        ..HandoffPacket::default()
    };
    let accepted = baton.escalate(&escalation(SITE, packet)).await;
    let browser = Browser::start(kind).await;
    sign_in(&browser, &baton, &baton.agent("sam").token, "Sam").await;
    let entry_css = waiting_entry(&accepted.conversation_id);
    press_in_entry(&browser, &entry_css, &summary, "button.claim").await;
    let transcript = format!(
        "#packet[data-conversation='{}'] .transcript",
        accepted.conversation_id
    );
    // (Formatted: the markup is gone, the address shown.)
    wait_text(
        &browser,
        &transcript,
        "Approve in admin (https://evil.example/sso)",
    )
    .await;
    let links = browser
        .client
        .execute(
            "return document.querySelectorAll(arguments[0] + ' a').length;",
            vec![json!(transcript)],
        )
        .await
        .unwrap();
    assert_eq!(links, json!(0));
    browser.close().await;
}

async fn an_agent_at_capacity_sees_it_in_the_console(kind: BrowserKind) {
    // Kim takes one conversation at a time, on a site of this browser's own.
    let baton = Baton::from_env();
    let kim = baton.agent("kim");
    let site = format!("capacity-{}", kind.name());
    let first_summary = unique_text("Capacity test: first");
    let second_summary = unique_text("Capacity test: second");
    let first = escalate_to(&baton, &site, &first_summary).await;
    let second = escalate_to(&baton, &site, &second_summary).await;

    let browser = Browser::start(kind).await;
    sign_in_on(&browser, &baton, &site, &kim.token).await;
    wait_text(&browser, "#me", "Signed in as Kim · 0 of 1 conversations").await;

    let entry_css = waiting_entry;
    press_in_entry(
        &browser,
        &entry_css(&first.conversation_id),
        &first_summary,
        "button.claim",
    )
    .await;
    wait_text(&browser, "#me", "1 of 1 conversations").await;
    press_in_entry(
        &browser,
        &entry_css(&second.conversation_id),
        &second_summary,
        "button.claim",
    )
    .await;
    // The alert names the conversation it is about.
    wait_text(
        &browser,
        "#alert",
        "): you already have as many conversations as you take at once.",
    )
    .await;
    wait_text(
        &browser,
        "#alert",
        &format!("Could not claim (“{}", &second_summary[..30]),
    )
    .await;
    // The second still waits for someone else.
    wait_text(
        &browser,
        &entry_css(&second.conversation_id),
        &second_summary,
    )
    .await;
    browser.close().await;

    // Sam's transfer list shows Kim full, and Kim cannot be picked.
    let sam = baton.agent("sam");
    let browser = Browser::start(kind).await;
    sign_in_on(&browser, &baton, &site, &sam.token).await;
    wait_text(&browser, "#me", "Signed in as Sam").await;
    // A customer who wrote in French: Sam, who reads English only, is warned before
    // claiming.
    let french = baton
        .escalate(&escalation(
            &site,
            HandoffPacket {
                summary: unique_text("Capacity test: French"),
                language: "fr".to_owned(),
                ..HandoffPacket::default()
            },
        ))
        .await;
    wait_text(
        &browser,
        &entry_css(&french.conversation_id),
        "French, not one of your languages",
    )
    .await;
    eventually("no warning where the language is unknown", || async {
        let entry = browser
            .client
            .find(Locator::Css(&entry_css(&second.conversation_id)))
            .await
            .ok()?;
        let shown = entry.text().await.ok()?;
        (shown.contains("language unknown") && !shown.contains("not one of your")).then_some(())
    })
    .await;
    eventually("Kim shown full in the transfer list", || async {
        let option = browser
            .client
            .execute(
                "const o = document.querySelector('#transfer-to option[value=kim]'); \
                 return o && [o.textContent, o.disabled];",
                vec![],
            )
            .await
            .ok()?;
        (option[0].as_str()?.ends_with(" · 1 of 1, full") && option[1] == json!(true)).then_some(())
    })
    .await;
    browser.close().await;
}

/// Tester report B9: an agent's reply of two lines reaches the customer's chat as two
/// lines (and the console shows it so), and a link the chat would show as text
/// (`http:`) is named before it is sent: the first Send stops to say so.
async fn an_agents_lines_stay_lines_and_a_link_that_would_be_text_is_warned_about(
    kind: BrowserKind,
) {
    let baton = Baton::from_env();
    let (customer, id) = customer_waiting(&baton, kind).await;
    let sam = baton.agent("sam");
    let target = on_conversation(&id);
    baton.agent_ok(&sam.token, "claim", &target).await;

    let browser = Browser::start(kind).await;
    sign_in(&browser, &baton, &sam.token, "Sam").await;
    let active_css = format!("#active li[data-conversation='{id}']");
    open_from(&browser, &active_css, "With you").await;
    let reply = wait_shown(&browser, "#reply").await;
    let first = unique_text("I have changed it for you now.");
    // Enter starts a new line, as in any text box.
    reply
        .send_keys(&format!("{first}\u{e007}Next steps: check your email."))
        .await
        .unwrap();
    browser
        .click_on_page("#reply-form button[type=submit]")
        .await;

    let bubble = customer.wait_for_text(".from-agent", &first).await;
    let lines = customer
        .client
        .execute(
            "const p = arguments[0].querySelector('p:not(.author)');
             return [p.querySelectorAll('br').length, p.innerText];",
            vec![serde_json::to_value(&bubble).unwrap()],
        )
        .await
        .unwrap();
    assert_eq!(
        lines,
        json!([1, format!("{first}\nNext steps: check your email.")]),
        "two lines in the customer's chat"
    );
    let line = wait_text(&browser, "#thread li.from-agent", &first).await;
    assert_eq!(
        line.find_all(Locator::Css(".rich p br"))
            .await
            .unwrap()
            .len(),
        1,
        "two lines in the console's thread"
    );

    // A link the chat would show as plain text: warned while writing and at Send.
    let link = "[Track it](http://larkspur.example/track)";
    reply.send_keys(link).await.unwrap();
    wait_text(
        &browser,
        "#reply-warning",
        "This link reaches the customer as plain text, not a link: “http://larkspur.example/track”. Only https:// and mailto: links work.",
    )
    .await;
    browser
        .click_on_page("#reply-form button[type=submit]")
        .await;
    wait_text(&browser, "#alert", "Press Send again to send it as it is.").await;
    assert_eq!(
        reply.prop("value").await.unwrap().as_deref(),
        Some(link),
        "not sent yet"
    );
    browser
        .click_on_page("#reply-form button[type=submit]")
        .await;
    let bubble = customer.wait_for_text(".from-agent", link).await;
    assert!(bubble.find(Locator::Css("a")).await.is_err(), "a link ran");
    wait_gone(&browser, "#reply-warning:not([hidden])").await;
    baton.agent_ok(&sam.token, "close", &target).await;
    customer.close().await;
    browser.close().await;
}

/// Tester report B3, B4, B10 and B11, on a laptop screen (1280×720): Sam's own
/// conversations come before the queue; a long conversation scrolls in its own
/// (focusable, labelled) region, following the newest line, while the reply box stays
/// in view; the reservation reads in words; Sign out brings back the sign-in form.
async fn a_long_conversation_scrolls_in_its_pane_with_the_reply_box_in_view(kind: BrowserKind) {
    let baton = Baton::from_env();
    let sam = baton.agent("sam");
    let (accepted, _) = escalate(&baton, "my order LK-1 is late").await;
    let id = accepted.conversation_id.clone();
    let target = on_conversation(&id);
    baton.agent_ok(&sam.token, "claim", &target).await;
    for n in 0..8 {
        customer_writes(
            &baton,
            &accepted,
            &format!("Message {n} from the customer,\nwritten on two lines"),
        )
        .await;
        let reply = json!({
            "site": SITE, "conversation": id, "client_id": unique_id("r"),
            "text": format!("Reply {n}:\n- one\n- two\n- three"),
        });
        baton.agent_ok(&sam.token, "reply", &reply).await;
    }

    let browser = Browser::start(kind).await;
    browser.client.set_window_size(1280, 720).await.unwrap();
    let inner = browser.number("return window.innerHeight;").await as u32;
    browser
        .client
        .set_window_size(1280, 720 + 720u32.saturating_sub(inner))
        .await
        .unwrap();
    sign_in(&browser, &baton, &sam.token, "Sam").await;
    // Signed in, the header has no sign-in form.
    wait_gone(&browser, "#connect:not([hidden])").await;
    let active_css = format!("#active li[data-conversation='{id}']");
    wait_text(&browser, &active_css, "reserved for you for 0:").await;
    let active_first = browser
        .client
        .execute(
            "const a = document.querySelector('#active-title'), w = document.querySelector('#queue-title');
             return a.getBoundingClientRect().top < w.getBoundingClientRect().top;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(active_first, json!(true), "Active comes before Waiting");

    open_from(&browser, &active_css, "With you").await;
    wait_text(&browser, "#thread", "Reply 7:").await;
    let in_view = "const box = document.querySelector('#reply').getBoundingClientRect();
        const region = document.querySelector('#packet-scroll');
        const last = document.querySelector('#thread > li:last-child').getBoundingClientRect();
        const shown = region.getBoundingClientRect();
        return {
          reply: box.top >= 0 && box.bottom <= window.innerHeight,
          scrolls: region.scrollHeight > region.clientHeight,
          newest: last.bottom <= shown.bottom + 1 && last.top >= shown.top - 1,
          focusable: region.tabIndex === 0 && region.getAttribute('aria-label') !== '',
        };";
    let expected = json!({"reply": true, "scrolls": true, "newest": true, "focusable": true});
    eventually("the reply box in view, the newest line too", || async {
        let seen = browser.client.execute(in_view, vec![]).await.ok()?;
        (seen == expected).then_some(())
    })
    .await;
    // A new message is announced, and shown at the end, still above the reply box.
    let newest = unique_text("Are you still there?");
    customer_writes(&baton, &accepted, &newest).await;
    wait_said(&browser, "#announce", &newest).await;
    eventually("the new line in view, the reply box too", || async {
        let last = browser
            .client
            .find(Locator::Css("#thread > li:last-child"))
            .await
            .ok()?;
        let seen = browser.client.execute(in_view, vec![]).await.ok()?;
        (last.text().await.ok()?.contains(&newest) && seen == expected).then_some(())
    })
    .await;
    let violations = browser.axe_violations().await;
    assert_eq!(violations, json!([]), "axe-core violations");
    browser.screenshot("agent-console-long-conversation").await;

    // Sign out: the sign-in form is back, and the console says what becomes of Sam's
    // conversations. (Sam's consoles in other tests keep theirs, as another tab would.)
    browser.click_on_page("#sign-out").await;
    wait_text(&browser, "#status", "Signed out. Your ").await;
    wait_text(&browser, "#status", " back to the queue within a minute").await;
    wait_shown(&browser, "#connect #token").await;
    wait_gone(&browser, "#sign-out:not([hidden])").await;
    baton.agent_ok(&sam.token, "close", &target).await;
    browser.close().await;
}

in_both_browsers!(
    a_link_in_a_packet_from_the_browser_is_shown_not_followed,
    an_agents_lines_stay_lines_and_a_link_that_would_be_text_is_warned_about,
    a_long_conversation_scrolls_in_its_pane_with_the_reply_box_in_view,
    an_agent_sees_whether_the_customer_is_still_in_the_chat,
    a_conversation_back_in_the_queue_says_who_had_it,
    an_agent_at_capacity_sees_it_in_the_console,
    an_agent_claims_replies_and_closes_in_the_console,
    conflicts_transfer_and_release_show_in_the_console,
    a_signed_in_customers_earlier_conversations_show_in_the_console,
);
