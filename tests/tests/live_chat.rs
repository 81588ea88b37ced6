//! End-to-end, after the hand-off: a person joins and replies live, hostile markup in
//! a reply stays inert text, the customer rates the conversation, no message is lost
//! while the edge is away, and the whole flow works from the keyboard alone.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use baton_protocol::{Author, EscalationAccepted, EventBody};
use baton_tests::browser::{eventually, Browser, BrowserKind};
use baton_tests::proxy::Proxy;
use baton_tests::{in_both_browsers, unique_id, unique_text, Baton};
use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::Locator;
use serde_json::json;

const SITE: &str = "demo";

fn target(conversation: &str) -> serde_json::Value {
    target_on(SITE, conversation)
}

fn target_on(site: &str, conversation: &str) -> serde_json::Value {
    json!({ "site": site, "conversation": conversation })
}

async fn agent_reply(baton: &Baton, token: &str, conversation: &str, text: &str) {
    agent_reply_on(baton, SITE, token, conversation, text).await;
}

async fn agent_reply_on(baton: &Baton, site: &str, token: &str, conversation: &str, text: &str) {
    let body = json!({
        "site": site,
        "conversation": conversation,
        "client_id": unique_id("reply"),
        "text": text,
    });
    baton.agent_ok(token, "reply", &body).await;
}

/// The customer messages the agent sees in the conversation's log.
async fn customer_messages(baton: &Baton, conversation: &str) -> Vec<String> {
    conversation_events(baton, conversation)
        .await
        .into_iter()
        .filter_map(|event| match event {
            EventBody::Message {
                author: Author::Customer,
                text,
                ..
            } => Some(text),
            _ => None,
        })
        .collect()
}

/// The conversation's log, as agents read it.
async fn conversation_events(baton: &Baton, conversation: &str) -> Vec<EventBody> {
    let url = baton.url(&format!(
        "/v1/agent/events?site={SITE}&conversation={conversation}&after=0"
    ));
    let response = baton
        .http()
        .get(url)
        .bearer_auth(&baton.agent_token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let update: baton_protocol::ConversationUpdate = response.json().await.unwrap();
    update.events.into_iter().map(|e| e.event).collect()
}

async fn a_person_joins_and_replies_live_and_markup_stays_inert(kind: BrowserKind) {
    let baton = Baton::from_env();
    let sam = baton.agent("sam");
    let browser = Browser::start(kind).await;
    browser.client.goto(&baton.url("/")).await.unwrap();
    let conversation = browser
        .escalate_in_widget("I want to change my delivery address")
        .await;

    baton
        .agent_ok(&sam.token, "claim", &target(&conversation))
        .await;
    browser
        .wait_for_text(".message.from-system", "Sam joined the conversation.")
        .await;
    browser
        .wait_for_text(".with-agent", "chatting with Sam")
        .await;
    // The customer starts writing: Sam sees that they type, never what.
    let input = browser.find_in_widget("#baton-input").await;
    input.send_keys("Actually").await.unwrap();
    let sam_view = format!("/v1/agent/events?site={SITE}&conversation={conversation}&after=0");
    eventually("Sam to see the customer typing", || async {
        let update: serde_json::Value = baton.agent_get(&sam.token, &sam_view).await;
        (update["customer_typing"] == json!(true)).then_some(())
    })
    .await;
    input.clear().await.unwrap();

    // Sam's console says Sam is writing: the customer sees it until the reply lands.
    baton
        .agent_ok(&sam.token, "typing", &target(&conversation))
        .await;
    browser.wait_for_text(".typing", "Sam is typing").await;
    agent_reply(
        &baton,
        &sam.token,
        &conversation,
        "Hi, I'm Sam. I can change that for you:\n\n- tell me the **order number**\n- and the new address",
    )
    .await;
    browser
        .wait_for_text(".message.from-agent li", "order number")
        .await;
    let root = browser.widget().await;
    assert!(
        root.find(Locator::Css(".typing")).await.is_err(),
        "the reply replaces \"Sam is typing\""
    );
    browser.screenshot("agent-joined").await;

    let hostile = "**Hello**, I can help. <img src=x onerror=\"window.__pwned=1\"> \
                   <script>window.__pwned=2</script> [our policy](https://example.com/policy) \
                   [click](javascript:window.__pwned=3)";
    agent_reply(&baton, &sam.token, &conversation, hostile).await;
    let bubble = browser
        .wait_for_text(".message.from-agent", "I can help")
        .await;
    let bold = bubble.find(Locator::Css("strong")).await.unwrap();
    assert_eq!(bold.text().await.unwrap(), "Hello");
    let shown = bubble.text().await.unwrap();
    assert!(
        shown.contains("<img src=x"),
        "markup shown as text: {shown}"
    );
    assert!(shown.contains("<script>"), "markup shown as text: {shown}");
    assert!(
        bubble.find(Locator::Css("img")).await.is_err(),
        "an <img> was created"
    );
    assert!(
        bubble.find(Locator::Css("script")).await.is_err(),
        "a <script> was created"
    );
    let links = bubble.find_all(Locator::Css("a")).await.unwrap();
    assert_eq!(links.len(), 1, "only the https link is a link");
    assert_eq!(
        links[0].attr("href").await.unwrap().as_deref(),
        Some("https://example.com/policy")
    );
    let pwned = browser
        .client
        .execute("return window.__pwned === undefined;", vec![])
        .await
        .unwrap();
    assert_eq!(pwned, json!(true), "the agent's markup ran script");

    // The customer answers; the agent reads it.
    browser.ask("Thanks! It's for order 5512").await;
    eventually("the customer's reply reaches the agent", || async {
        let messages = customer_messages(&baton, &conversation).await;
        messages
            .iter()
            .any(|m| m.contains("order 5512"))
            .then_some(())
    })
    .await;

    // The agent closes; the customer is asked for a rating, which reaches the edge.
    let body =
        json!({ "site": SITE, "conversation": conversation, "resolution": "Address updated." });
    baton.agent_ok(&sam.token, "close", &body).await;
    browser
        .wait_for_text(".message.from-system", "Address updated.")
        .await;
    assert_eq!(
        browser.axe_violations().await,
        json!([]),
        "axe-core violations with a person and the rating form"
    );
    // A customer clicks the visible "4" (the radio button itself is visually hidden).
    browser
        .find_in_widget(".rating .star:nth-child(4) span[aria-hidden]")
        .await
        .click()
        .await
        .unwrap();
    browser
        .find_in_widget(".rating button.primary:not([disabled])")
        .await
        .click()
        .await
        .unwrap();
    browser.wait_for_text(".rated", "Thank you").await;
    // The widget thanks the customer at once and sends the rating in the background:
    // wait until its request has completed (a resource timing entry appears then).
    eventually("the widget's rating request to complete", || async {
        let done = browser
            .client
            .execute(
                "return performance.getEntriesByType('resource').some((e) => e.name.includes('/csat'));",
                vec![],
            )
            .await
            .unwrap();
        (done == json!(true)).then_some(())
    })
    .await;
    // The rating reached the edge: a second one with the customer's token is refused.
    let token = browser
        .client
        .execute(
            "return JSON.parse(localStorage.getItem('baton.chat.demo')).handoff.Ended.accepted.customer_token;",
            vec![],
        )
        .await
        .unwrap();
    let accepted = EscalationAccepted {
        conversation_id: conversation.clone(),
        customer_token: token.as_str().unwrap().to_owned(),
        queue_position: 0,
        estimated_wait_seconds: 0,
        agents_online: None,
    };
    let again = baton
        .customer_post(SITE, &accepted, "csat", &json!({ "rating": 1 }))
        .await;
    assert_eq!(again.status(), 409, "the widget's rating was not recorded");
    browser.close().await;
}

/// A browser on a page whose widget reaches the edge through a [`Proxy`] the test
/// controls.
async fn behind_proxy(kind: BrowserKind) -> (Baton, Proxy, Browser) {
    let baton = Baton::from_env();
    let edge_port: u16 = baton.base_url.rsplit(':').next().unwrap().parse().unwrap();
    let proxy = Proxy::start(edge_port).await;
    let browser = Browser::start(kind).await;
    let page = format!(
        "/test/endpoint.html?endpoint=http://127.0.0.1:{}",
        proxy.port
    );
    browser.client.goto(&baton.url(&page)).await.unwrap();
    (baton, proxy, browser)
}

async fn no_message_is_lost_while_the_edge_is_away(kind: BrowserKind) {
    let (baton, proxy, browser) = behind_proxy(kind).await;
    let conversation = browser
        .escalate_in_widget("Can I change the delivery address?")
        .await;

    // The edge goes away: the customer is told at once, with nothing of theirs waiting
    // (news from the agent may be). They write anyway and see it has not gone yet.
    proxy.stop();
    browser
        .wait_for_text(".handoff .offline", "Connection lost")
        .await;
    let text = format!("Still there? ref {}", unique_text("outbox"));
    browser.ask(&text).await;
    browser
        .wait_for_text(".message.from-customer .pending", "Not sent yet")
        .await;
    browser.screenshot("outbox-waiting").await;
    // A reload keeps the unsent message.
    browser.client.refresh().await.unwrap();
    browser.wait_for_text(".message.from-customer", &text).await;
    assert!(
        customer_messages(&baton, &conversation).await.is_empty(),
        "nothing can have arrived while the edge was down"
    );

    // The edge is back: the message is delivered, exactly once.
    proxy.resume().await;
    eventually("the outbox to be delivered", || async {
        let messages = customer_messages(&baton, &conversation).await;
        (!messages.is_empty()).then_some(())
    })
    .await;
    eventually("the widget to see it delivered", || async {
        let root = browser.widget().await;
        root.find(Locator::Css(".message.from-customer .pending"))
            .await
            .is_err()
            .then_some(())
    })
    .await;
    // Give any duplicate send a chance to land before counting.
    tokio::time::sleep(std::time::Duration::from_secs(4)).await;
    let delivered = customer_messages(&baton, &conversation).await;
    assert_eq!(delivered, vec![text.clone()], "delivered exactly once");
    browser.close().await;
}

async fn a_chat_ended_while_the_hand_off_was_in_doubt_leaves_nobody_waiting(kind: BrowserKind) {
    let (baton, proxy, browser) = behind_proxy(kind).await;
    let reference = unique_text("indoubt");
    browser
        .ask_for_a_person(&format!("Where is my parcel? ref {reference}"))
        .await;

    // The hand-off reaches the edge, but its answer is lost on the way back: the
    // customer is told it did not go, and the conversation waits in the queue.
    proxy.lose_answers(true);
    browser.agree_to_send().await;
    browser
        .wait_for_text(".handoff.failed", "couldn't reach our team")
        .await;
    let waiting = |conversation: String| {
        let baton = &baton;
        async move {
            baton
                .queue(SITE)
                .await
                .waiting
                .iter()
                .any(|e| e.conversation_id == conversation)
        }
    };
    let conversation = eventually("the lost hand-off to be in the queue", || async {
        baton
            .queue(SITE)
            .await
            .waiting
            .into_iter()
            .find(|e| e.summary.contains(&reference))
            .map(|e| e.conversation_id)
    })
    .await;

    // The edge goes away altogether, and the customer ends the chat.
    proxy.stop();
    proxy.lose_answers(false);
    browser.forget_chat().await;
    // On the next page the withdrawal is still to send; the edge has not heard of it.
    browser.client.refresh().await.unwrap();
    assert!(waiting(conversation.clone()).await);

    // The edge is back: the conversation ends as if the customer had ended it, and
    // nothing is left in this browser.
    proxy.resume().await;
    eventually("the withdrawn conversation to leave the queue", || async {
        (!waiting(conversation.clone()).await).then_some(())
    })
    .await;
    let events = conversation_events(&baton, &conversation).await;
    assert!(
        events.iter().any(|e| matches!(
            e,
            EventBody::Resolved {
                by: Author::Customer,
                ..
            }
        )),
        "{events:?}"
    );
    eventually("the withdrawal to be settled in the browser", || async {
        let saved = browser
            .client
            .execute("return localStorage.getItem('baton.chat.demo');", vec![])
            .await
            .unwrap();
        saved.is_null().then_some(())
    })
    .await;
    browser.close().await;
}

async fn the_whole_flow_works_from_the_keyboard(kind: BrowserKind) {
    let baton = Baton::from_env();
    let browser = Browser::start(kind).await;
    browser
        .client
        .goto(&baton.url("/test/strict.html"))
        .await
        .unwrap();
    // Tab from the top of the page until the launcher has focus.
    tab_to(&browser, TAB, "launcher").await;
    press(&browser, "\u{e007}").await; // Enter opens the chat
    wait_focus(&browser, "baton-input").await;
    browser.find_in_widget(".suggestions .chip").await;
    press(&browser, "When will my new card arrive?\u{e007}").await;
    browser
        .wait_for_text(".message.from-bot .feedback", "Did this answer")
        .await;
    // Shift+Tab past "No, talk to a person" to "Yes", then Enter: the buttons go, and
    // focus goes on to the message box instead of falling out of the chat.
    press(&browser, &SHIFT_TAB.repeat(2)).await;
    let focused_text = "const h = document.querySelector('baton-chat'); \
                        const a = h && h.shadowRoot.activeElement; \
                        return a ? a.textContent : null;";
    let on_yes = browser.client.execute(focused_text, vec![]).await.unwrap();
    assert_eq!(on_yes.as_str(), Some("Yes"));
    press(&browser, "\u{e007}").await;
    browser
        .wait_for_text(".message.from-bot .feedback", "Glad that helped")
        .await;
    wait_focus(&browser, "baton-input").await;
    // Shift+Tab back to "Talk to a person", then Enter: consent, focused.
    tab_to(&browser, SHIFT_TAB, "person").await;
    press(&browser, "\u{e007}").await;
    wait_focus(&browser, "primary").await;
    press(&browser, "\u{e007}").await; // "Send to a person"
    browser.wait_for_text(".queued", "in line").await;
    // "End chat" asks first, with focus on the answer; confirmed, the conversation ends
    // with its transcript still there and focus on the rating question.
    tab_to(&browser, SHIFT_TAB, "end").await;
    press(&browser, "\u{e007}").await;
    browser
        .wait_for_text(".end-question", "You can't undo this")
        .await;
    wait_focus(&browser, "primary").await;
    press(&browser, "\u{e007}").await;
    wait_focus(&browser, "rating").await;
    browser
        .wait_for_text(".message.from-system", "You ended the chat")
        .await;
    browser
        .wait_for_text(".message.from-customer", "When will my new card arrive?")
        .await;
    // Escape closes the panel and gives focus back to the launcher.
    press(&browser, "\u{e00c}").await;
    wait_focus(&browser, "launcher").await;
    browser.close().await;
}

const TAB: &str = "\u{e004}";
const SHIFT_TAB: &str = "\u{e008}\u{e004}";

/// Presses `keys` (Tab or Shift+Tab) until the widget's focus is on `target` (an id, or
/// the class names of an element without one).
async fn tab_to(browser: &Browser, keys: &str, target: &str) {
    for _ in 0..30 {
        press(browser, keys).await;
        if browser.focus_in_widget().await.as_deref() == Some(target) {
            return;
        }
    }
    panic!("{keys:?} never reached `{target}`");
}

/// Types into whatever has focus, as a keyboard would: each key pressed and released
/// in turn, except that Shift (`\u{e008}`) stays down for the key after it.
async fn press(browser: &Browser, keys: &str) {
    let mut actions = KeyActions::new("keyboard".to_owned());
    let mut shift = false;
    for key in keys.chars() {
        if key == '\u{e008}' {
            shift = true;
            actions = actions.then(KeyAction::Down { value: key });
            continue;
        }
        actions = actions
            .then(KeyAction::Down { value: key })
            .then(KeyAction::Up { value: key });
        if shift {
            actions = actions.then(KeyAction::Up { value: '\u{e008}' });
            shift = false;
        }
    }
    browser.client.perform_actions(actions).await.unwrap();
}

/// Waits until the widget's focus is on an element with the id or class `expected`.
async fn wait_focus(browser: &Browser, expected: &str) {
    eventually(&format!("focus on {expected}"), || async {
        let focused = browser.focus_in_widget().await?;
        focused.split(' ').any(|c| c == expected).then_some(())
    })
    .await;
}

/// After hours: the customer is told nobody is online instead of a made-up wait, and
/// sees the wait as soon as an agent opens the console.
async fn a_customer_is_told_when_nobody_is_online(kind: BrowserKind) {
    let baton = Baton::from_env();
    // A site of this browser's own: no other test's agent is online there.
    let site = format!("after-hours-{}", kind.name());
    let browser = Browser::start(kind).await;
    let page = format!("/test/endpoint.html?site={site}");
    browser.client.goto(&baton.url(&page)).await.unwrap();
    browser
        .ask_for_a_person("I want to change my delivery address")
        .await;
    // Before agreeing to send, the customer knows nobody will read it right away.
    browser
        .wait_for_text(
            ".consent .nobody-online",
            "Nobody from the team is online right now",
        )
        .await;
    browser.send_to_a_person().await;
    browser
        .wait_for_text(".queued .nobody-online", "Nobody from the team is online")
        .await;
    let root = browser.widget().await;
    assert!(
        root.find(Locator::Css(".queued .wait")).await.is_err(),
        "no wait is promised while nobody is online"
    );
    browser.screenshot("nobody-online").await;

    // An agent opens the console for the site, which asks for its queue.
    baton.queue(&site).await;
    browser
        .wait_for_text(".queued .wait", "Estimated wait")
        .await;
    assert!(
        root.find(Locator::Css(".queued .nobody-online"))
            .await
            .is_err(),
        "the notice is gone once someone is online"
    );
    assert_eq!(browser.axe_violations().await, json!([]));
    browser.close().await;
}

/// Two tabs of the shop, the second one's chat running before the conversation began:
/// both show the one conversation, the customer can go on in either, and neither tab
/// overwrites the other's copy.
async fn two_tabs_show_one_conversation(kind: BrowserKind) {
    let baton = Baton::from_env();
    let sam = baton.agent("sam");
    let browser = Browser::start(kind).await;
    let client = &browser.client;
    client.goto(&baton.url("/")).await.unwrap();
    let first_tab = client.window().await.unwrap();
    let second_tab = client.new_window(true).await.unwrap().handle;
    client.switch_to_window(second_tab.clone()).await.unwrap();
    client.goto(&baton.url("/pay.html")).await.unwrap();
    browser.open_chat().await;

    client.switch_to_window(first_tab.clone()).await.unwrap();
    let conversation = browser
        .escalate_in_widget("I want to change my delivery address")
        .await;

    client.switch_to_window(second_tab).await.unwrap();
    let queued = browser.wait_for_text(".queued", "in line").await;
    assert_eq!(
        queued.attr("data-conversation").await.unwrap().as_deref(),
        Some(conversation.as_str())
    );
    baton
        .agent_ok(&sam.token, "claim", &target(&conversation))
        .await;
    agent_reply(&baton, &sam.token, &conversation, "Hi, Sam here.").await;
    browser
        .wait_for_text(".message.from-agent", "Sam here")
        .await;
    let from_second_tab = unique_text("second tab");
    browser.ask(&from_second_tab).await;
    eventually("the second tab's message to reach the agent", || async {
        customer_messages(&baton, &conversation)
            .await
            .contains(&from_second_tab)
            .then_some(())
    })
    .await;

    // The first tab, reloaded, still has the whole conversation (its panel was open,
    // so it opens again).
    client.switch_to_window(first_tab).await.unwrap();
    client.refresh().await.unwrap();
    browser
        .wait_for_text(".message.from-agent", "Sam here")
        .await;
    browser
        .wait_for_text(".message.from-customer", &from_second_tab)
        .await;
    browser.close().await;
}

/// What the launcher shows: its unread badge and its accessible name.
struct LauncherShows {
    badge: String,
    badge_shown: bool,
    label: String,
}

async fn launcher_shows(browser: &Browser) -> Option<LauncherShows> {
    let root = browser.widget().await;
    let launcher = root.find(Locator::Css("button.launcher")).await.ok()?;
    let badge = launcher.find(Locator::Css(".badge")).await.ok()?;
    Some(LauncherShows {
        badge: badge.text().await.ok()?,
        badge_shown: badge.is_displayed().await.ok()?,
        label: launcher.attr("aria-label").await.ok()??,
    })
}

/// The customer closes the chat to go on shopping: the team's news shows on the
/// launcher (a count, and in its accessible name), across a page change, until the chat
/// is opened again.
async fn news_from_the_team_shows_on_the_launcher_while_the_chat_is_closed(kind: BrowserKind) {
    let baton = Baton::from_env();
    let sam = baton.agent("sam");
    let browser = Browser::start(kind).await;
    browser.client.goto(&baton.url("/")).await.unwrap();
    let conversation = browser
        .escalate_in_widget("Can I change my delivery address?")
        .await;
    let launcher = browser.find_in_widget("button.launcher").await;
    assert_eq!(
        launcher.attr("aria-label").await.unwrap().as_deref(),
        Some("Chat with us")
    );
    launcher.click().await.unwrap();

    baton
        .agent_ok(&sam.token, "claim", &target(&conversation))
        .await;
    agent_reply(&baton, &sam.token, &conversation, "Hi, Sam here.").await;
    let unread = |count: &'static str| {
        let browser = &browser;
        async move {
            eventually(&format!("the launcher to show {count} unread"), || async {
                let launcher = launcher_shows(browser).await?;
                (launcher.badge == count && launcher.label.contains(&format!("{count} unread")))
                    .then_some(())
            })
            .await;
        }
    };
    // "Sam joined" and the reply; screen readers hear it from a live region that stays
    // while the panel is closed.
    unread("2").await;
    eventually("the closed chat's live region to say so", || async {
        let said = browser
            .client
            .execute(
                "const s = document.querySelector('baton-chat').shadowRoot \
                   .querySelector('.panel-root [role=status]'); return s && s.textContent;",
                vec![],
            )
            .await
            .ok()?;
        (said.as_str() == Some("New messages in the chat: 2")).then_some(())
    })
    .await;
    browser.screenshot("launcher-unread").await;

    // Another page of the shop: the count is still there.
    browser.client.goto(&baton.url("/pay.html")).await.unwrap();
    unread("2").await;

    browser.click_in_widget("button.launcher").await;
    browser
        .wait_for_text(".message.from-agent", "Sam here")
        .await;
    eventually("the count to go once the chat is open", || async {
        let launcher = launcher_shows(&browser).await?;
        (!launcher.badge_shown && launcher.label == "Chat with us").then_some(())
    })
    .await;
    browser.close().await;
}

/// A shop on its own origin embeds the widget from the edge, as the docs say, under a
/// strict policy that allows the edge's host for scripts and connections: the chat
/// loads (its glue, wasm and model fetched across origins), answers a routine question,
/// and a person's reply arrives over the live channel.
async fn a_shop_on_another_origin_embeds_the_widget_from_the_edge(kind: BrowserKind) {
    let baton = Baton::from_env();
    let sam = baton.agent("sam");
    let browser = Browser::start(kind).await;
    let page = baton
        .url("/test/elsewhere.html")
        .replacen("127.0.0.1", "localhost", 1);
    browser.client.goto(&page).await.unwrap();
    browser.open_chat().await;
    browser.ask("When will my new card arrive?").await;
    browser
        .wait_for_text(".message.from-bot .feedback", "Did this answer")
        .await;
    browser.click_in_widget("button.person").await;
    let conversation = browser.send_to_a_person().await;

    baton
        .agent_ok(&sam.token, "claim", &target_on("elsewhere", &conversation))
        .await;
    let hello = "Hello from Sam, across origins.";
    agent_reply_on(&baton, "elsewhere", &sam.token, &conversation, hello).await;
    browser
        .wait_for_text(".message.from-agent", "across origins")
        .await;
    let reported = browser
        .client
        .execute("return [window.__cspViolations, window.__errors];", vec![])
        .await
        .unwrap();
    assert_eq!(reported, json!([[], []]), "CSP violations and page errors");
    browser.close().await;
}

in_both_browsers!(
    a_shop_on_another_origin_embeds_the_widget_from_the_edge,
    a_person_joins_and_replies_live_and_markup_stays_inert,
    no_message_is_lost_while_the_edge_is_away,
    a_chat_ended_while_the_hand_off_was_in_doubt_leaves_nobody_waiting,
    the_whole_flow_works_from_the_keyboard,
    a_customer_is_told_when_nobody_is_online,
    two_tabs_show_one_conversation,
    news_from_the_team_shows_on_the_launcher_while_the_chat_is_closed,
);
