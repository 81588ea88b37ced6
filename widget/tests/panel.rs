//! The widget's components in real browsers (`wasm-pack test --headless --chrome --firefox`).
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use baton_widget::{mount, WidgetHandle};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlElement, HtmlInputElement, ShadowRoot, ShadowRootInit, ShadowRootMode};

wasm_bindgen_test_configure!(run_in_browser);

const DEMO_MODEL: &[u8] = include_bytes!("../../crates/triage/data/demo/model.bin");

struct Mounted {
    root: ShadowRoot,
    handle: WidgetHandle,
    events: js_sys::Array,
}

/// Mounts the widget the way the loader does, with the demo model served from a blob:
/// URL so the real fetch path runs.
/// Each test uses its own site id, so a conversation one test keeps in local storage
/// never shows up in another.
fn mount_widget(site: &str) -> Mounted {
    mount_widget_in(site, "en")
}

/// The same, with the interface in `lang`.
fn mount_widget_in(site: &str, lang: &str) -> Mounted {
    let document = web_sys::window().unwrap().document().unwrap();
    let host = document.create_element("baton-chat").unwrap();
    document.body().unwrap().append_child(&host).unwrap();
    let root = host
        .attach_shadow(&ShadowRootInit::new(ShadowRootMode::Open))
        .unwrap();
    let panel_root = document.create_element("div").unwrap();
    root.append_child(&panel_root).unwrap();

    let bytes = js_sys::Uint8Array::from(DEMO_MODEL);
    let parts = js_sys::Array::of1(&bytes);
    let blob = web_sys::Blob::new_with_u8_array_sequence(&parts).unwrap();
    let model_url = web_sys::Url::create_object_url_with_blob(&blob).unwrap();

    let options = js_sys::Object::new();
    for (key, value) in [
        ("site", site),
        ("endpoint", "http://127.0.0.1:9"),
        ("lang", lang),
        ("modelUrl", model_url.as_str()),
    ] {
        js_sys::Reflect::set(&options, &key.into(), &value.into()).unwrap();
    }
    let events = js_sys::Array::new();
    let sink = events.clone();
    let emit = Closure::<dyn Fn(JsValue, JsValue)>::new(move |name: JsValue, _detail: JsValue| {
        sink.push(&name);
    });
    let handle = mount(
        root.clone(),
        panel_root,
        options.into(),
        emit.as_ref().unchecked_ref::<js_sys::Function>().clone(),
    );
    emit.forget();
    Mounted {
        root,
        handle,
        events,
    }
}

async fn settle() {
    gloo_timers::future::sleep(Duration::from_millis(30)).await;
}

async fn wait_for(root: &ShadowRoot, css: &str) -> Element {
    for _ in 0..200 {
        if let Some(element) = root.query_selector(css).unwrap() {
            return element;
        }
        settle().await;
    }
    panic!("`{css}` never appeared");
}

fn texts(root: &ShadowRoot, css: &str) -> Vec<String> {
    let list = root.query_selector_all(css).unwrap();
    (0..list.length())
        .filter_map(|i| list.item(i))
        .filter_map(|n| n.text_content())
        .collect()
}

async fn ask(root: &ShadowRoot, text: &str) {
    let input: HtmlInputElement = wait_for(root, "#baton-input").await.dyn_into().unwrap();
    input.set_value(text);
    let send: HtmlElement = wait_for(root, "button.send").await.dyn_into().unwrap();
    send.click();
    settle().await;
}

#[wasm_bindgen_test]
async fn opening_shows_the_panel_focuses_the_input_and_tells_the_host() {
    let widget = mount_widget("opening_shows_the_panel_focuses_the_input_and_tells_the_host");
    assert!(
        widget.root.query_selector(".panel").unwrap().is_none(),
        "closed at first"
    );
    widget.handle.open();
    wait_for(&widget.root, ".panel").await;
    settle().await;
    let active = widget.root.active_element().map(|e| e.id());
    assert_eq!(active.as_deref(), Some("baton-input"));
    // First, at mount, the launcher's label in the chat's language ("unread", 0).
    assert_eq!(widget.events.get(0).as_string().as_deref(), Some("unread"));
    assert_eq!(widget.events.get(1).as_string().as_deref(), Some("open"));
}

#[wasm_bindgen_test]
async fn a_routine_question_is_answered_without_the_network() {
    let widget = mount_widget("a_routine_question_is_answered_without_the_network");
    widget.handle.open();
    wait_for(&widget.root, ".suggestions").await; // the model has loaded
    ask(&widget.root, "When will my new card arrive?").await;
    wait_for(&widget.root, ".message.from-bot .feedback").await;
    let bot = texts(&widget.root, ".message.from-bot");
    assert!(
        bot.iter()
            .any(|t| t.contains("Did this answer your question?")),
        "{bot:?}"
    );
    // The person button is still there after an answer.
    assert!(widget
        .root
        .query_selector("button.person:not([disabled])")
        .unwrap()
        .is_some());
}

#[wasm_bindgen_test]
async fn an_arabic_interface_on_an_english_shop_says_so_and_keeps_its_own_direction() {
    let widget = mount_widget_in("an_arabic_interface_on_an_english_shop", "ar");
    widget.handle.open();
    // Before anyone asks in Arabic to be told.
    let note = wait_for(&widget.root, ".greeting p[dir=rtl]").await;
    assert!(note.text_content().unwrap().contains("الإنجليزية"));
    ask(&widget.root, "When will my new card arrive?").await;
    let answer = wait_for(&widget.root, ".message.from-bot[dir=auto] .feedback").await;
    assert_eq!(
        answer.get_attribute("dir").as_deref(),
        Some("rtl"),
        "read right to left"
    );
    assert_eq!(answer.get_attribute("lang").as_deref(), Some("ar"));
}

#[wasm_bindgen_test]
async fn personal_data_is_masked_in_the_customers_own_bubble() {
    let widget = mount_widget("personal_data_is_masked_in_the_customers_own_bubble");
    widget.handle.open();
    wait_for(&widget.root, ".suggestions").await;
    ask(
        &widget.root,
        "my email is jane.doe@example.com and card 4242 4242 4242 4242",
    )
    .await;
    let mine = texts(&widget.root, ".message.from-customer");
    assert_eq!(mine.len(), 1);
    assert!(!mine[0].contains("jane.doe@example.com"), "{}", mine[0]);
    assert!(!mine[0].contains("4242 4242 4242 4242"), "{}", mine[0]);
    // The customer sees what was masked, in words.
    let masks = texts(&widget.root, ".message.from-customer .mask");
    assert_eq!(masks.len(), 2, "{masks:?}");
    assert!(masks[0].starts_with("email address"), "{masks:?}");
    assert!(masks[1].starts_with("card ending 4242"), "{masks:?}");
}

/// Opens the chat, asks `question` once the model has loaded, then presses "Talk to a
/// person": the consent question's preview.
async fn ask_for_a_person(widget: &Mounted, question: &str) -> Element {
    widget.handle.open();
    wait_for(&widget.root, ".suggestions").await;
    ask(&widget.root, question).await;
    let person: HtmlElement = wait_for(&widget.root, "button.person")
        .await
        .dyn_into()
        .unwrap();
    person.click();
    wait_for(&widget.root, ".consent .preview").await
}

#[wasm_bindgen_test]
async fn talk_to_a_person_shows_a_preview_before_sending_anything() {
    let widget = mount_widget("talk_to_a_person_shows_a_preview_before_sending_anything");
    let preview = ask_for_a_person(&widget, "where is my refund").await;
    assert!(preview
        .text_content()
        .unwrap()
        .contains("where is my refund"));
    assert!(
        !widget.events.includes(&"escalated".into(), 0),
        "nothing sent before consent"
    );
    // Only the messages are the live log: the preview's copy of the customer's words is
    // not read out again as news.
    let bubble = wait_for(&widget.root, ".message.from-customer").await;
    assert!(bubble.closest("[role=log]").unwrap().is_some());
    assert!(preview.closest("[aria-live]").unwrap().is_none());
}

/// "Try again" goes away when pressed (the hand-off is on its way again): keyboard focus
/// stays in the chat instead of falling to the page.
#[wasm_bindgen_test]
async fn focus_on_a_control_that_goes_away_stays_in_the_chat() {
    let widget = mount_widget("focus_on_a_control_that_goes_away_stays_in_the_chat");
    ask_for_a_person(&widget, "where is my refund").await;
    let send: HtmlElement = wait_for(&widget.root, ".consent button.primary")
        .await
        .dyn_into()
        .unwrap();
    send.click();
    // Nothing listens on port 9: the hand-off fails and offers to try again.
    let retry: HtmlElement = wait_for(&widget.root, ".handoff.failed button.primary")
        .await
        .dyn_into()
        .unwrap();
    retry.focus().unwrap();
    retry.click();
    settle().await;
    let active = widget.root.active_element().map(|e| e.id());
    assert_eq!(active.as_deref(), Some("baton-input"));
}

#[wasm_bindgen_test]
async fn the_conversation_is_kept_in_local_storage() {
    use gloo::storage::{LocalStorage, Storage};
    let widget = mount_widget("the_conversation_is_kept_in_local_storage");
    widget.handle.open();
    wait_for(&widget.root, ".suggestions").await;
    ask(&widget.root, "When will my new card arrive?").await;
    wait_for(&widget.root, ".message.from-bot .feedback").await;
    let saved = LocalStorage::get::<baton_widget::state::SavedChat>(
        "baton.chat.the_conversation_is_kept_in_local_storage",
    );
    let saved = saved.map_err(|err| err.to_string()).unwrap();
    assert_eq!(saved.messages.len(), 2);
}
