//! End-to-end: the demo site in real headless Chromium and Firefox, served by real
//! `wrangler dev`; the customer opens the widget, gets an instant answer, and reaches
//! a person whom the agent API then sees.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use baton_tests::browser::{eventually, Browser, BrowserKind};
use baton_tests::{in_both_browsers, Baton};
use fantoccini::Locator;

/// The demo shop's knowledge base.
const DEMO_KB: &str = "crates/triage/data/demo/kb.toml";

/// The answer to `intent` in the knowledge base at `path` (from the repository root), as
/// written, markup and all.
fn answer_in(path: &str, intent: &str) -> String {
    let path = format!("{}/../{path}", env!("CARGO_MANIFEST_DIR"));
    let kb: toml::Value = toml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let intents = kb["intent"].as_array().unwrap();
    let entry = intents
        .iter()
        .find(|i| i["id"].as_str() == Some(intent))
        .unwrap();
    entry["answer"].as_str().unwrap().to_owned()
}

/// The demo knowledge base's answer to "when will my card arrive", first sentence.
fn answer_start(intent: &str) -> String {
    let answer = answer_in(DEMO_KB, intent);
    // The widget renders markup, so compare with plain words before any markup.
    answer
        .split(['*', '[', '\n'])
        .next()
        .unwrap()
        .trim()
        .to_owned()
}

/// Asks the demo shop when the new card arrives, and waits for its answer.
async fn ask_when_the_card_arrives(browser: &Browser) {
    browser.ask("When will my new card arrive?").await;
    browser
        .wait_for_text(".message.from-bot", &answer_start("card_arrival"))
        .await;
}

async fn customer_gets_an_answer_and_reaches_a_person(kind: BrowserKind) {
    let baton = Baton::from_env();
    let browser = Browser::start(kind).await;
    browser.client.goto(&baton.url("/")).await.unwrap();

    // The launcher is drawn by the loader straight away.
    let launcher = browser.find_in_widget("button.launcher").await;
    browser.screenshot("widget-closed").await;
    assert_eq!(
        launcher.attr("aria-expanded").await.unwrap().as_deref(),
        Some("false")
    );
    launcher.click().await.unwrap();
    let input = browser.find_in_widget("#baton-input").await;
    assert_eq!(
        launcher.attr("aria-expanded").await.unwrap().as_deref(),
        Some("true")
    );

    // A routine question is answered from the knowledge base, in the browser.
    browser.find_in_widget(".suggestions .chip").await; // the model has loaded
    input
        .send_keys("When will my new card arrive?\u{e007}")
        .await
        .unwrap();
    let expected = answer_start("card_arrival");
    browser.wait_for_text(".message.from-bot", &expected).await;
    browser
        .wait_for_text(
            ".message.from-bot .feedback",
            "Did this answer your question?",
        )
        .await;
    browser.screenshot("widget-answer").await;

    // "Talk to a person" is always there; consent shows what will be sent.
    browser
        .find_in_widget("button.person")
        .await
        .click()
        .await
        .unwrap();
    browser
        .wait_for_text(".consent .preview", "When will my new card arrive?")
        .await;
    browser.agree_to_send().await;
    let queued = browser.wait_for_text(".queued", "in line").await;
    let conversation_id = queued
        .attr("data-conversation")
        .await
        .unwrap()
        .expect("queued shows its conversation id");
    // The queue card, the newest thing, is in view without scrolling.
    browser.wait_until_in_view(".queued").await;
    browser.screenshot("widget-escalated").await;

    // The agent sees it in the queue.
    let queue = baton.queue("demo").await;
    assert!(
        queue
            .waiting
            .iter()
            .any(|entry| entry.conversation_id == conversation_id),
        "the escalated conversation is not in the agent queue"
    );

    // Escape closes the panel and focus returns to the launcher.
    let root = browser.widget().await;
    root.find(Locator::Css("#baton-input"))
        .await
        .unwrap()
        .send_keys("\u{e00c}")
        .await
        .unwrap();
    assert_eq!(browser.focus_in_widget().await.as_deref(), Some("launcher"));

    // An agent opening the console sees the conversation, with its summary.
    browser
        .client
        .goto(&baton.url(&format!("/agent/#token={}", baton.agent_token)))
        .await
        .unwrap();
    let entry_css = format!("li.entry[data-conversation='{conversation_id}']");
    // The agent sees the intent as the customer saw it: the knowledge base's title.
    let intent_css = format!("{entry_css} .intent");
    browser
        .wait_for_page_text(&intent_css, "When will my card arrive?")
        .await;
    browser
        .click_on_page(&format!("{entry_css} button.open"))
        .await;
    let transcript = browser
        .client
        .wait()
        .at_most(std::time::Duration::from_secs(20))
        .for_element(Locator::Css(&format!(
            "#packet[data-conversation='{conversation_id}'] .transcript"
        )))
        .await
        .expect("the packet opens");
    let lines = transcript.text().await.unwrap();
    assert!(
        lines.contains("When will my new card arrive?"),
        "the agent reads the customer's words: {lines}"
    );
    browser.screenshot("agent-console").await;
    browser.close().await;
}

async fn the_demo_page_embeds_the_widget_with_one_tag(kind: BrowserKind) {
    let baton = Baton::from_env();
    let browser = Browser::start(kind).await;
    browser.client.goto(&baton.url("/")).await.unwrap();
    let tags = browser
        .client
        .find_all(Locator::Css("script[src$='widget.js'][data-site='demo']"))
        .await
        .unwrap();
    assert_eq!(tags.len(), 1);
    browser
        .find_in_widget("button.launcher")
        .await
        .click()
        .await
        .unwrap();
    browser.find_in_widget(".panel").await;
    let suggestion = browser.find_in_widget(".suggestions .chip").await;
    browser.screenshot("demo-widget-open").await;

    // The shop's own questions come first, and a suggestion answers its own question
    // (classifying its words could pick a near-synonym).
    assert_eq!(suggestion.text().await.unwrap(), "Where is my order?");
    suggestion.click().await.unwrap();
    browser
        .wait_for_text(".message.from-bot", &answer_start("order_status"))
        .await;

    // An unsure answer offers alternatives; tapping one asks it, and the offer is gone.
    browser.ask("top up").await;
    let alternative = browser.find_in_widget(".alternatives .chip").await;
    let title = alternative.text().await.unwrap();
    browser.screenshot("alternatives").await;
    alternative.click().await.unwrap();
    browser
        .wait_for_text(".message.from-customer", &title)
        .await;
    eventually("the alternatives withdrawn once one was picked", || async {
        let root = browser.widget().await;
        let offers = root.find_all(Locator::Css(".alternatives")).await.ok()?;
        offers.is_empty().then_some(())
    })
    .await;
    browser.close().await;
}

/// The names of the widget's wasm files the page has fetched.
async fn wasm_fetched(browser: &Browser) -> Vec<String> {
    let names = browser
        .client
        .execute(
            "return performance.getEntriesByType('resource').map(e => new URL(e.name).pathname)\
               .filter(p => p.endsWith('.wasm'));",
            vec![],
        )
        .await
        .unwrap();
    serde_json::from_value(names).unwrap()
}

/// Nearly every browser gets the build with WebAssembly SIMD (faster triage); one
/// without SIMD gets the scalar build, which answers the same.
async fn the_chat_loads_with_or_without_wasm_simd(kind: BrowserKind) {
    let baton = Baton::from_env();
    let browser = Browser::start(kind).await;
    browser.client.goto(&baton.url("/")).await.unwrap();
    browser.open_chat().await;
    ask_when_the_card_arrives(&browser).await;
    assert_eq!(wasm_fetched(&browser).await, ["/widget/baton_simd_bg.wasm"]);

    // A fresh chat on the next page (whose panel comes back open), so that the answer
    // waited for is a new one.
    browser.forget_chat().await;
    browser
        .client
        .goto(&baton.url("/test/no-simd.html"))
        .await
        .unwrap();
    browser
        .client
        .execute("return Baton.open();", vec![])
        .await
        .unwrap();
    browser.find_in_widget(".suggestions .chip").await; // the model has loaded
    ask_when_the_card_arrives(&browser).await;
    assert_eq!(wasm_fetched(&browser).await, ["/widget/baton_bg.wasm"]);
    browser.close().await;
}

/// On a slow connection: two impatient clicks on the button before the chat has
/// loaded open it (they used to open and close it again), and the customer can write
/// before the site's model has arrived: the question waits, with the panel saying it is
/// getting ready, and is answered when the model comes (it used to be turned away with
/// an offer of a person).
async fn on_a_slow_connection_the_chat_opens_and_answers_what_was_asked_early(kind: BrowserKind) {
    let (browser, launcher) = on_a_slow_connection(kind).await;
    launcher.click().await.unwrap();
    launcher.click().await.unwrap();
    browser
        .client
        .execute("release('chat');", vec![])
        .await
        .unwrap();
    browser.wait_for_text(".status", "Getting ready").await;
    assert_eq!(
        launcher.attr("aria-expanded").await.unwrap().as_deref(),
        Some("true"),
        "two clicks while it loaded leave the chat open"
    );
    browser.ask("When will my new card arrive?").await;
    browser
        .wait_for_text(".message.from-customer", "When will my new card arrive?")
        .await;
    let root = browser.widget().await;
    let bot_bubbles = root.find_all(Locator::Css(".message.from-bot:not(.greeting)"));
    assert!(
        bot_bubbles.await.unwrap().is_empty(),
        "no verdict before the model is there"
    );

    browser
        .client
        .execute("release('model');", vec![])
        .await
        .unwrap();
    browser
        .wait_for_text(".message.from-bot", &answer_start("card_arrival"))
        .await;
    let root = browser.widget().await;
    let offers = root.find_all(Locator::Css(".message.from-bot .reasons"));
    assert!(
        offers.await.unwrap().is_empty(),
        "answered, not turned away"
    );
    browser.close().await;
}

/// The demo shop on `/test/slow-connection.html`, where the chat's wasm and the model
/// wait for the test (`release`, `fail`), and its chat button.
async fn on_a_slow_connection(kind: BrowserKind) -> (Browser, fantoccini::elements::Element) {
    let baton = Baton::from_env();
    let browser = Browser::start(kind).await;
    browser
        .client
        .goto(&baton.url("/test/slow-connection.html"))
        .await
        .unwrap();
    let launcher = browser.find_in_widget("button.launcher").await;
    (browser, launcher)
}

/// The connection drops while the chat loads: the button says so instead of doing
/// nothing, and pressing it again tries again.
async fn when_the_chat_cannot_load_the_button_says_so_and_tries_again(kind: BrowserKind) {
    let (browser, launcher) = on_a_slow_connection(kind).await;
    launcher.click().await.unwrap();
    let run = |script: &'static str| browser.client.execute(script, vec![]);
    run("fail('chat');").await.unwrap();
    browser
        .wait_for_text(".notice[role=status]", "The chat could not load")
        .await;
    assert_eq!(
        launcher.attr("aria-busy").await.unwrap(),
        None,
        "no longer busy"
    );

    run("release('chat'); release('model');").await.unwrap();
    launcher.click().await.unwrap();
    browser.find_in_widget("#baton-input").await;
    let notice = browser.find_in_widget(".notice").await;
    assert_eq!(notice.text().await.unwrap(), "", "the notice is gone");
    browser.close().await;
}

async fn works_on_a_strict_csp_page_with_hostile_css(kind: BrowserKind) {
    let baton = Baton::from_env();
    let browser = Browser::start(kind).await;
    browser
        .client
        .goto(&baton.url("/test/strict.html"))
        .await
        .unwrap();
    let input = browser.open_chat().await;
    ask_when_the_card_arrives(&browser).await;

    // The page's `* { font: 30px … !important }` does not reach into the widget.
    let font_size = input.css_value("font-size").await.unwrap();
    assert_eq!(font_size, "16px");
    // The panel is where it belongs: fixed at the bottom right, inside the viewport.
    let panel = browser.find_in_widget(".panel").await;
    let (x, y, width, height) = panel.rectangle().await.unwrap();
    assert!(
        x > 600.0 && width > 300.0 && y + height <= 900.0,
        "panel at {x},{y} {width}x{height}"
    );
    let violations = browser
        .client
        .execute("return window.__cspViolations;", vec![])
        .await
        .unwrap();
    assert_eq!(violations, serde_json::json!([]), "CSP violations");
    browser.screenshot("strict-csp").await;
    browser.close().await;
}

/// Runs axe-core (from npm, installed by xtask) on the demo page with the widget open
/// and an answer shown.
async fn has_no_accessibility_violations(kind: BrowserKind) {
    let baton = Baton::from_env();
    let browser = Browser::start(kind).await;
    browser.client.goto(&baton.url("/")).await.unwrap();
    browser.open_chat().await;
    browser.ask("When will my new card arrive?").await;
    browser
        .wait_for_text(".message.from-bot .feedback", "Did this answer")
        .await;

    let violations = browser.axe_violations().await;
    assert_eq!(violations, serde_json::json!([]), "axe-core violations");
    browser.close().await;
}

async fn a_reload_keeps_the_conversation_and_end_chat_clears_it(kind: BrowserKind) {
    let baton = Baton::from_env();
    let browser = Browser::start(kind).await;
    browser.client.goto(&baton.url("/")).await.unwrap();
    browser.open_chat().await;
    ask_when_the_card_arrives(&browser).await;
    let expected = answer_start("card_arrival");

    // Another page of the same site: the panel comes back open, with the conversation.
    browser
        .client
        .goto(&baton.url("/test/strict.html"))
        .await
        .unwrap();
    browser
        .wait_for_text(".message.from-customer", "When will my new card arrive?")
        .await;
    browser.wait_for_text(".message.from-bot", &expected).await;
    let launcher = browser.find_in_widget("button.launcher").await;
    assert_eq!(
        launcher.attr("aria-expanded").await.unwrap().as_deref(),
        Some("true")
    );

    // "End chat" asks first; taking it back keeps the conversation, confirming forgets
    // it, also after a reload.
    browser.click_in_widget("button.end").await;
    browser
        .wait_for_text(".end-question", "cleared from this browser")
        .await;
    browser
        .click_in_widget(".end-question button.secondary")
        .await;
    browser
        .wait_for_text(".message.from-customer", "When will my new card arrive?")
        .await;
    browser.forget_chat().await;
    browser.client.refresh().await.unwrap();
    browser
        .find_in_widget("button.launcher")
        .await
        .click()
        .await
        .unwrap();
    browser.find_in_widget(".suggestions .chip").await;
    let root = browser.widget().await;
    let customer_messages = root
        .find_all(Locator::Css(".message.from-customer"))
        .await
        .unwrap();
    assert!(customer_messages.is_empty(), "the ended chat came back");
    browser.close().await;
}

#[tokio::test]
async fn chromium_speaks_arabic_right_to_left_when_the_page_asks() {
    let baton = Baton::from_env();
    let browser = Browser::start(BrowserKind::Chromium).await;
    browser
        .client
        .goto(&baton.url("/test/rtl.html"))
        .await
        .unwrap();
    browser.click_in_widget("button.launcher").await;
    let panel = browser.find_in_widget(".panel").await;
    assert_eq!(panel.attr("dir").await.unwrap().as_deref(), Some("rtl"));
    assert_eq!(panel.attr("lang").await.unwrap().as_deref(), Some("ar"));
    browser
        .wait_for_text("button.person", "التحدث إلى موظف")
        .await;
    // The site's greeting in the chat's language (`data-greeting-ar`), not its English one.
    browser
        .wait_for_text(".greeting", "هل لديك سؤال عن طلبك")
        .await;
    let suggestion = browser.find_in_widget(".suggestions .chip").await;
    assert_eq!(
        suggestion.attr("lang").await.unwrap().as_deref(),
        Some("en"),
        "the English knowledge base's questions are marked English for screen readers"
    );
    let launcher = browser.find_in_widget("button.launcher").await;
    assert_eq!(
        launcher.attr("aria-label").await.unwrap().as_deref(),
        Some("تحدث معنا"),
        "the launcher is named in the chat's language once it has loaded"
    );
    browser.screenshot("rtl").await;
    // An English question gets the English answer, marked English inside the Arabic
    // chat; an Arabic question gets no English guess: the bot says it answers only in
    // English by itself, and offers a person.
    browser.ask("When will my new card arrive?").await;
    let question = browser
        .find_in_widget(".message.from-bot[lang='en'] .feedback")
        .await;
    assert_eq!(
        question.attr("lang").await.unwrap().as_deref(),
        Some("ar"),
        "the question under the answer is the chat's own"
    );
    browser.ask("متى ستصل بطاقتي الجديدة؟").await;
    browser
        .wait_for_text(".reasons", "لا أستطيع الإجابة وحدي إلا باللغة الإنجليزية")
        .await;
    let root = browser.widget().await;
    let answers = root.find_all(Locator::Css(".feedback")).await.unwrap();
    assert_eq!(answers.len(), 1, "an English answer to an Arabic question");
    // Written in Arabic (the demo model knows English only), a request for a person is
    // heard as one, and the customer reads why in Arabic.
    browser.ask("أريد التحدث مع موظف من فضلك").await;
    browser
        .wait_for_text(".reasons", "طلبت التحدث إلى موظف.")
        .await;
    browser.close().await;
}

#[tokio::test]
async fn chromium_phone_gets_a_full_screen_panel() {
    let baton = Baton::from_env();
    let browser = Browser::start(BrowserKind::Chromium).await;
    browser.client.set_window_size(390, 844).await.unwrap();
    browser.client.goto(&baton.url("/")).await.unwrap();
    browser
        .find_in_widget("button.launcher")
        .await
        .click()
        .await
        .unwrap();
    browser.find_in_widget(".suggestions .chip").await;
    // The width the page shows, without its scrollbar (where there is one, the panel
    // must not reach under it: its send button would be hidden).
    let viewport_width = browser
        .number("return document.documentElement.clientWidth;")
        .await;
    let horizontal = |css: &'static str| async {
        let (x, _, width, _) = browser.find_in_widget(css).await.rectangle().await.unwrap();
        (x, width)
    };
    let (x, width) = horizontal(".panel").await;
    assert_eq!(x, 0.0);
    assert!(
        (width - viewport_width).abs() < 1.0,
        "panel {width} px wide in a {viewport_width} px viewport"
    );
    // The message box and its send button stay reachable at the bottom of the screen.
    let input = browser.find_in_widget("#baton-input").await;
    assert!(input.is_displayed().await.unwrap());
    let (send_x, send_width) = horizontal("button.send").await;
    assert!(
        send_x + send_width <= viewport_width + 0.5,
        "the send button ends at {} px in a {viewport_width} px viewport",
        send_x + send_width
    );
    // Under the full-screen panel the launcher is out of sight, and out of the tab order.
    let launcher = browser.find_in_widget("button.launcher").await;
    assert!(!launcher.is_displayed().await.unwrap());
    // The panel covers the page, so Tab goes round inside it: from Send to the close
    // button, not on into the page's links under the panel.
    let send = browser.find_in_widget("button.send").await;
    send.send_keys("\u{e004}").await.unwrap();
    eventually("Tab to go round to the close button", || async {
        (browser.focus_in_widget().await.as_deref() == Some("close")).then_some(())
    })
    .await;
    browser.screenshot("phone").await;

    // A laptop at 200 % zoom (683 × 384 CSS pixels) gets the full-screen panel too, so
    // the conversation is not a sliver between the header and the message box.
    let chrome = browser
        .number("return window.outerHeight - window.innerHeight;")
        .await;
    browser
        .client
        .set_window_size(683, 384 + chrome as u32)
        .await
        .unwrap();
    let viewport_height = browser
        .number("return document.documentElement.clientHeight;")
        .await;
    eventually("the panel to fill a short screen", || async {
        let (_, y, _, height) = browser
            .find_in_widget(".panel")
            .await
            .rectangle()
            .await
            .ok()?;
        (y == 0.0 && (height - viewport_height).abs() < 1.0).then_some(())
    })
    .await;
    let (_, _, _, log_height) = browser
        .find_in_widget(".log")
        .await
        .rectangle()
        .await
        .unwrap();
    assert!(
        log_height >= 150.0,
        "{log_height} px left for the conversation in a {viewport_height} px viewport"
    );
    browser.close().await;
}

/// On a phone the on-screen keyboard covers the bottom of the screen without changing
/// the layout viewport (most browsers shrink only the visual viewport, and iOS scrolls
/// it); the panel follows the visual viewport, so the message box stays above the
/// keyboard. Headless browsers have no keyboard: `/test/keyboard.js` stands in for it
/// with a visual viewport the test shrinks and scrolls.
async fn a_phone_keyboard_never_hides_the_message_box(kind: BrowserKind) {
    let baton = Baton::from_env();
    let browser = Browser::start(kind).await;
    browser.client.set_window_size(500, 800).await.unwrap();
    browser
        .client
        .goto(&baton.url("/test/keyboard.html"))
        .await
        .unwrap();
    browser.open_chat().await;
    let page_height = browser.number("return window.innerHeight;").await;
    let rect = |css: &'static str| async {
        let (_, y, _, height) = browser.find_in_widget(css).await.rectangle().await.unwrap();
        (y, height)
    };
    let keyboard = |height: u32, scrolled: u32| {
        browser.client.execute(
            "window.__showKeyboard(arguments[0], arguments[1]);",
            vec![height.into(), scrolled.into()],
        )
    };
    // (Eventually: the panel rises into place as it opens.)
    eventually("without a keyboard the panel fills the screen", || async {
        let (top, height) = rect(".panel").await;
        (top == 0.0 && (height - page_height).abs() < 1.0).then_some(())
    })
    .await;

    // A 320 px keyboard: the panel ends where it starts, the message box just above it.
    keyboard(320, 0).await.unwrap();
    let visible = page_height - 320.0;
    eventually("the panel fits above the keyboard", || async {
        let (top, height) = rect(".panel").await;
        (top == 0.0 && (height - visible).abs() < 1.0).then_some(())
    })
    .await;
    let (input_top, input_height) = rect("#baton-input").await;
    assert!(
        input_top > visible / 2.0 && input_top + input_height <= visible,
        "the message box at {input_top}+{input_height} px, the keyboard from {visible} px"
    );

    // iOS scrolls the page 150 px up under the keyboard: the panel moves with what is
    // visible, header and message box both in view.
    keyboard(320, 150).await.unwrap();
    eventually("the panel follows the scrolled viewport", || async {
        let (top, _) = rect(".panel").await;
        (top == 150.0).then_some(())
    })
    .await;
    let (close_top, _) = rect("button.close").await;
    let (input_top, input_height) = rect("#baton-input").await;
    assert!(
        close_top >= 150.0 && input_top + input_height <= 150.0 + visible,
        "close button at {close_top} px, message box ends at {} px, visible 150-{} px",
        input_top + input_height,
        150.0 + visible
    );

    // The keyboard closes: the whole screen again.
    keyboard(0, 0).await.unwrap();
    eventually("the panel fills the screen again", || async {
        let (top, height) = rect(".panel").await;
        (top == 0.0 && (height - page_height).abs() < 1.0).then_some(())
    })
    .await;
    browser.close().await;
}

/// On a phone the chat fills the screen, so it acts as a page of its own: the page behind
/// it does not scroll while it is open, and the Back button closes the chat instead of
/// leaving the shop, also after a reload.
async fn on_a_phone_back_closes_the_chat_and_the_page_behind_stays_put(kind: BrowserKind) {
    let baton = Baton::from_env();
    let browser = Browser::start(kind).await;
    browser.client.set_window_size(500, 800).await.unwrap();
    browser.client.goto(&baton.url("/")).await.unwrap();
    let shop = browser.client.current_url().await.unwrap();
    let page_overflow = || async {
        browser
            .client
            .execute(
                "return getComputedStyle(document.documentElement).overflowY;",
                vec![],
            )
            .await
            .unwrap()
            .as_str()
            .unwrap()
            .to_owned()
    };
    let expanded = || async {
        let launcher = browser.find_in_widget("button.launcher").await;
        launcher.attr("aria-expanded").await.unwrap().as_deref() == Some("true")
    };
    let scrolls = page_overflow().await;
    assert_ne!(scrolls, "hidden");

    let back_closes_the_chat = || async {
        browser.client.back().await.unwrap();
        eventually("Back to close the chat", || async {
            (!expanded().await).then_some(())
        })
        .await;
        let url = browser.client.current_url().await.unwrap();
        assert_eq!(url, shop, "left the page");
    };

    browser.open_chat().await;
    assert_eq!(page_overflow().await, "hidden", "the page behind scrolls");
    back_closes_the_chat().await;
    assert_eq!(page_overflow().await, scrolls, "the page scrolls again");

    // Closed with its own button, the chat takes its history entry back: Back then
    // leaves the page as it would have without the chat.
    browser.open_chat().await;
    browser.click_in_widget("button.close").await;
    eventually("the history entry taken back", || async {
        let ours = browser
            .client
            .execute(
                "return !!(history.state && history.state.batonChat);",
                vec![],
            )
            .await
            .ok()?;
        (ours == serde_json::json!(false) && !expanded().await).then_some(())
    })
    .await;
    assert_eq!(page_overflow().await, scrolls);

    // A conversation open across a reload: one Back still closes it.
    browser.open_chat().await;
    ask_when_the_card_arrives(&browser).await;
    browser.client.refresh().await.unwrap();
    eventually("the chat to reopen after the reload", || async {
        expanded().await.then_some(())
    })
    .await;
    back_closes_the_chat().await;
    browser.close().await;
}

/// A site owner's own model, trained with `baton train` from their own knowledge base and
/// published by the build (`cargo xtask test` does both for the site `test` from the test
/// fixtures), answers their customers in their own words, not the demo shop's.
async fn a_site_owners_own_model_answers_their_customers(kind: BrowserKind) {
    let baton = Baton::from_env();
    let browser = Browser::start(kind).await;
    browser
        .client
        .goto(&baton.url("/test/endpoint.html?site=test"))
        .await
        .unwrap();
    browser.open_chat().await;
    browser.find_in_widget(".suggestions .chip").await; // the model has loaded
    browser.ask("What exchange rate do you use?").await;
    let own = answer_in("crates/triage/tests/fixtures/kb.toml", "exchange_rate");
    let demo = answer_in(DEMO_KB, "exchange_rate").replace("**", "");
    assert!(!demo.contains(&own), "the demo shop answers in other words");
    browser.wait_for_text(".message.from-bot", &own).await;
    browser.close().await;
}

/// A page's script that runs before the async widget tag sets itself up on
/// `baton:ready`, as the docs say, and hears the chat's events; misspelt options are
/// named in the console; the chat hangs from `<html>`, where a page that swaps its body
/// cannot remove it.
async fn a_page_script_talks_to_the_chat_and_hears_of_its_mistakes(kind: BrowserKind) {
    let baton = Baton::from_env();
    let browser = Browser::start(kind).await;
    browser
        .client
        .goto(&baton.url("/test/api.html"))
        .await
        .unwrap();
    browser.open_chat().await;
    ask_when_the_card_arrives(&browser).await;
    let heard = "return window.__events;";
    eventually("the page to hear open and the messages", || async {
        let events = browser.client.execute(heard, vec![]).await.ok()?;
        let events: Vec<String> = serde_json::from_value(events).ok()?;
        (events.first().map(String::as_str) == Some("open")
            && events.iter().filter(|e| *e == "message").count() >= 2)
            .then_some(())
    })
    .await;
    let warnings = browser
        .client
        .execute("return window.__warnings.join(' | ');", vec![])
        .await
        .unwrap();
    let warnings = warnings.as_str().unwrap();
    for option in [r#"data-color="purpel""#, r#"data-position="lefft""#] {
        assert!(
            warnings.contains(option),
            "{option} not named in: {warnings}"
        );
    }
    // A framework replacing the body (Turbo, pjax) leaves the chat and its conversation.
    let survives = "document.body.replaceWith(document.createElement('body')); \
                    return document.querySelector('baton-chat').parentNode === document.documentElement;";
    let survived = browser.client.execute(survives, vec![]).await.unwrap();
    assert_eq!(survived, serde_json::json!(true));
    browser
        .wait_for_text(".message.from-bot", &answer_start("card_arrival"))
        .await;
    // A message box filled to its limit (a long paste) says so, instead of cutting the
    // rest silently; sending empties it, and the note goes.
    browser
        .client
        .execute(
            "const i = document.querySelector('baton-chat').shadowRoot.querySelector('#baton-input'); \
             i.value = 'x'.repeat(Number(i.maxLength)); \
             i.dispatchEvent(new InputEvent('input', { bubbles: true, composed: true })); return true;",
            vec![],
        )
        .await
        .unwrap();
    browser
        .wait_for_text(".input-full", "as long as one message can be")
        .await;
    browser.click_in_widget("button.send").await;
    eventually("the note to go once the message is sent", || async {
        let root = browser.widget().await;
        let note = root.find(Locator::Css(".input-full")).await.ok()?;
        note.text().await.ok()?.is_empty().then_some(())
    })
    .await;
    // Sign-out on a shared computer: Baton.reset() leaves nothing for the next person.
    browser
        .client
        .execute("Baton.reset(); return true;", vec![])
        .await
        .unwrap();
    eventually("the conversation to be forgotten", || async {
        let stored = browser
            .client
            .execute("return localStorage.getItem('baton.chat.demo');", vec![])
            .await
            .ok()?;
        let root = browser.widget().await;
        let shown = root
            .find_all(Locator::Css(".message.from-customer"))
            .await
            .ok()?;
        (stored.is_null() && shown.is_empty()).then_some(())
    })
    .await;
    browser.close().await;
}

in_both_browsers!(
    a_page_script_talks_to_the_chat_and_hears_of_its_mistakes,
    a_site_owners_own_model_answers_their_customers,
    customer_gets_an_answer_and_reaches_a_person,
    the_demo_page_embeds_the_widget_with_one_tag,
    the_chat_loads_with_or_without_wasm_simd,
    on_a_slow_connection_the_chat_opens_and_answers_what_was_asked_early,
    works_on_a_strict_csp_page_with_hostile_css,
    has_no_accessibility_violations,
    a_reload_keeps_the_conversation_and_end_chat_clears_it,
    a_phone_keyboard_never_hides_the_message_box,
    on_a_phone_back_closes_the_chat_and_the_page_behind_stays_put,
    when_the_chat_cannot_load_the_button_says_so_and_tries_again,
);
