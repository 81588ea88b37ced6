//! Baton's chat widget: a Yew app compiled to WebAssembly.
//!
//! The loader (`widget/loader/widget.js`) draws the launcher, creates the Shadow DOM
//! and calls [`mount`] once the customer reaches for the chat. Everything the customer
//! types is answered here, in the browser, by `baton-triage`; only an escalation the
//! customer consents to leaves the page, already redacted.
//!
//! Layout: [`state`] is the pure reducer (tested natively), [`widget`] the root
//! component that runs its effects, `components/` one view component per file,
//! [`api`] the calls to the edge, [`i18n`] the strings.

pub mod api;
pub mod components;
pub mod i18n;
pub mod json;
pub mod state;
pub mod widget;

use std::rc::Rc;

use wasm_bindgen::prelude::*;
use web_sys::{Element, ShadowRoot};

use crate::state::Action;
use crate::widget::{HostBridge, Widget, WidgetOptions, WidgetProps};

/// The panel's styles, attached to the Shadow DOM as a constructable stylesheet
/// (allowed under a strict CSP, unlike `<style>` or `style=""`).
const STYLES: &str = include_str!("styles.css");

const VISITOR_KEY: &str = "baton.visitor";

/// What the loader holds to drive the mounted app.
#[wasm_bindgen]
pub struct WidgetHandle {
    app: yew::AppHandle<Widget>,
}

#[wasm_bindgen]
impl WidgetHandle {
    /// Opens the panel.
    pub fn open(&self) {
        self.app.send_message(Action::Open);
    }

    /// Closes the panel.
    pub fn close(&self) {
        self.app.send_message(Action::Close);
    }

    /// Opens the panel if closed, closes it if open.
    pub fn toggle(&self) {
        self.app.send_message(Action::Toggle);
    }

    /// Forgets everything this browser holds of the chat (for a shared computer, on
    /// sign-out): a conversation with a person ends, the transcript and the identity go.
    pub fn reset(&self) {
        self.app.send_message(Action::Reset);
    }

    /// Records who the customer is: `{id, name, email, hash}` from the site, where
    /// `hash` is the hex HMAC-SHA256 of `id` under the site's identity secret. It goes
    /// with the next escalation, and the edge verifies it. A number is taken as the text
    /// JavaScript writes for it; an identity without an id (`Baton.identify(null)`, on
    /// sign-out) forgets the one given before.
    pub fn identify(&self, identity: JsValue) {
        let text = |key: &str| {
            let value = js_sys::Reflect::get(&identity, &JsValue::from_str(key))
                .unwrap_or(JsValue::UNDEFINED);
            if value.as_f64().is_some() {
                // As JavaScript writes it: 8412, not 8412.0.
                let written = js_sys::Number::from(value).to_string_with_radix(10);
                return written.map(String::from).unwrap_or_default();
            }
            value.as_string().unwrap_or_default()
        };
        let identity = baton_protocol::CustomerIdentity {
            id: text("id"),
            name: text("name"),
            email: text("email"),
            hash: text("hash"),
        };
        let identity = (!identity.id.is_empty()).then_some(identity);
        self.app.send_message(Action::Identify(identity));
    }
}

/// The same triage engine for the agent console: it suggests the knowledge-base
/// answer for a customer's message, so agents reply consistently with the bot.
#[wasm_bindgen]
pub struct ReplySuggester {
    engine: baton_triage::Engine,
}

#[wasm_bindgen]
impl ReplySuggester {
    /// Loads a site's model file; the error names what is wrong with it.
    #[wasm_bindgen(constructor)]
    pub fn new(model: &[u8]) -> Result<ReplySuggester, JsError> {
        baton_triage::Engine::from_bytes(model)
            .map(|engine| ReplySuggester { engine })
            .map_err(|err| JsError::new(&err.to_string()))
    }

    /// `{"intent","title","answer","confidence"}` for the message's most likely
    /// intent, or `undefined` when the engine has no confident answer.
    pub fn suggest(&self, customer_text: &str) -> Option<String> {
        let prediction = self.engine.predict(customer_text);
        let best = prediction.best.filter(|_| prediction.in_scope)?;
        let entry = self.engine.kb_entry(&best.intent)?;
        #[derive(serde::Serialize)]
        struct Suggestion<'a> {
            intent: &'a str,
            title: &'a str,
            answer: &'a str,
            confidence: f32,
        }
        json::to_text(&Suggestion {
            intent: &best.intent,
            title: &entry.title,
            answer: &entry.answer,
            confidence: best.confidence,
        })
    }

    /// The knowledge-base title of `intent` ("When will my card arrive?"), so the console
    /// names an intent as the customer saw it; `undefined` for an intent the model lacks.
    pub fn title(&self, intent: &str) -> Option<String> {
        self.engine
            .kb_entry(intent)
            .map(|entry| entry.title.clone())
    }
}

/// The safe formatting of a knowledge-base answer or an agent's message as JSON
/// (`{"blocks": [...]}`, see [`baton_protocol::RichText`]), so the agent console shows
/// what the customer sees, built from the same typed structure. A `\n` in a text run is
/// a line break in an agent's message and a space in a knowledge-base answer.
#[wasm_bindgen]
pub fn rich_text(text: &str) -> Option<String> {
    json::to_text(&baton_protocol::RichText::parse(text))
}

/// The urls of what `text` writes as a link but the customer will see as plain text
/// (not `https:` or `mailto:`), as a JSON array, so the console warns before it is sent.
#[wasm_bindgen]
pub fn refused_links(text: &str) -> Option<String> {
    let parsed = baton_protocol::RichText::parse(text);
    let urls: Vec<&str> = parsed.refused_links().iter().map(|link| link.url).collect();
    json::to_text(&urls)
}

/// Mounts the chat into `panel_root` inside the loader's shadow root.
#[wasm_bindgen]
pub fn mount(
    shadow_root: ShadowRoot,
    panel_root: Element,
    options: JsValue,
    emit: js_sys::Function,
) -> WidgetHandle {
    adopt_styles(&shadow_root);
    let text = |key: &str| {
        js_sys::Reflect::get(&options, &JsValue::from_str(key))
            .ok()
            .and_then(|value| value.as_string())
            .unwrap_or_default()
    };
    let options = WidgetOptions {
        site: text("site"),
        endpoint: text("endpoint"),
        language: text("lang"),
        greeting: text("greeting"),
        model_url: text("modelUrl"),
        visitor_id: visitor_id(),
    };
    let props = WidgetProps {
        options: Rc::new(options),
        host: HostBridge(emit),
    };
    let app = yew::Renderer::<Widget>::with_root_and_props(panel_root, props).render();
    WidgetHandle { app }
}

fn adopt_styles(shadow_root: &ShadowRoot) {
    let Ok(sheet) = web_sys::CssStyleSheet::new() else {
        return;
    };
    let _ = sheet.replace_sync(STYLES);
    let sheets = shadow_root.adopted_style_sheets();
    sheets.push(&sheet);
    shadow_root.set_adopted_style_sheets(&sheets);
}

/// This browser's random visitor id, kept in local storage.
fn visitor_id() -> String {
    if let Some(id) = json::load::<String>(VISITOR_KEY) {
        return id;
    }
    let id = random_id();
    json::store(VISITOR_KEY, &id);
    id
}

/// 128 random bits from the browser's CSPRNG, as 32 hex digits.
pub fn random_id() -> String {
    let mut bytes = [0u8; 16];
    let filled = web_sys::window()
        .and_then(|window| window.crypto().ok())
        .and_then(|crypto| crypto.get_random_values_with_u8_array(&mut bytes).ok());
    if filled.is_none() {
        // No Web Crypto: fall back to Math.random; ids stay unique, just guessable.
        for byte in &mut bytes {
            *byte = (js_sys::Math::random() * 256.0) as u8;
        }
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}
