//! The root component: owns the [`ChatState`], turns DOM events into [`Action`]s, and
//! carries out the [`Effect`]s the reducer asks for.

use std::rc::Rc;

use baton_triage::Engine;
use wasm_bindgen::JsValue;
use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::api;
use crate::components::chat_panel::ChatPanel;
use crate::state::{Action, ChatState, Effect, EngineState, HostEvent, SavedChat};

/// Settings from the embed tag, read once by the loader.
#[derive(Debug, Clone, PartialEq)]
pub struct WidgetOptions {
    /// `data-site`.
    pub site: String,
    /// The edge's base URL, without a trailing slash.
    pub endpoint: String,
    /// The customer's language.
    pub language: String,
    /// The site's own greeting, or empty for the default.
    pub greeting: String,
    /// Where the site's model file is.
    pub model_url: String,
    /// A random id for this browser.
    pub visitor_id: String,
}

/// The loader's `emit(event, detail)` function, for `Baton.on`.
#[derive(Clone)]
pub struct HostBridge(pub js_sys::Function);

impl PartialEq for HostBridge {
    fn eq(&self, other: &Self) -> bool {
        JsValue::from(&self.0) == JsValue::from(&other.0)
    }
}

impl HostBridge {
    fn emit(&self, event: &HostEvent) {
        let detail = js_sys::Object::new();
        let (name, fields): (&str, Vec<(&str, JsValue)>) = match event {
            HostEvent::Open => ("open", vec![]),
            HostEvent::Close => ("close", vec![("returnFocus", JsValue::TRUE)]),
            HostEvent::Message(author) => (
                "message",
                vec![("author", JsValue::from_str(author_name(*author)))],
            ),
            HostEvent::Escalated(id) => {
                ("escalated", vec![("conversationId", JsValue::from_str(id))])
            }
        };
        for (key, value) in fields {
            let _ = js_sys::Reflect::set(&detail, &JsValue::from_str(key), &value);
        }
        let _ = self
            .0
            .call2(&JsValue::NULL, &JsValue::from_str(name), &detail);
    }
}

fn author_name(author: baton_protocol::Author) -> &'static str {
    match author {
        baton_protocol::Author::Customer => "customer",
        baton_protocol::Author::Bot => "bot",
        baton_protocol::Author::Agent => "agent",
        baton_protocol::Author::System => "system",
    }
}

/// The root component's properties.
#[derive(Clone, PartialEq, Properties)]
pub struct WidgetProps {
    /// Settings from the embed tag.
    pub options: Rc<WidgetOptions>,
    /// Events for the host page.
    pub host: HostBridge,
}

/// The chat widget.
pub struct Widget {
    state: ChatState,
    input: NodeRef,
    log: NodeRef,
    focus_input: bool,
    shown: (usize, bool),
}

impl Component for Widget {
    type Message = Action;
    type Properties = WidgetProps;

    fn create(ctx: &Context<Self>) -> Self {
        let options = &ctx.props().options;
        let model_url = options.model_url.clone();
        let loaded = ctx.link().callback(Action::EngineLoaded);
        wasm_bindgen_futures::spawn_local(async move {
            let engine = match api::fetch_model(&model_url)
                .await
                .map(|bytes| Engine::from_bytes(&bytes))
            {
                Ok(Ok(engine)) => EngineState::Ready(Rc::new(engine)),
                // The customer can still reach a person; the site owner sees why.
                Ok(Err(err)) => {
                    gloo::console::error!(format!("Baton: the site's model is unusable: {err}"));
                    EngineState::Failed
                }
                Err(problem) => {
                    gloo::console::error!(format!(
                        "Baton: the site's model did not load: {problem}"
                    ));
                    EngineState::Failed
                }
            };
            loaded.emit(engine);
        });
        let mut state = ChatState::new(
            options.site.clone(),
            options.language.clone(),
            options.visitor_id.clone(),
        );
        if let Some(saved) = load_saved(&options.site) {
            if saved.open {
                ctx.link().send_message(Action::Reopen);
            }
            state.restore(saved);
        }
        Widget {
            state,
            input: NodeRef::default(),
            log: NodeRef::default(),
            focus_input: false,
            shown: (0, false),
        }
    }

    fn update(&mut self, ctx: &Context<Self>, action: Action) -> bool {
        let effects = self.state.apply(action);
        for effect in effects {
            self.carry_out(ctx, effect);
        }
        save(&ctx.props().options.site, &self.state);
        true
    }

    fn view(&self, ctx: &Context<Self>) -> Html {
        html! {
            <ChatPanel
                state={self.state.clone()}
                greeting={ctx.props().options.greeting.clone()}
                on_action={ctx.link().callback(|action| action)}
                input={self.input.clone()}
                log={self.log.clone()}
            />
        }
    }

    fn rendered(&mut self, _ctx: &Context<Self>, _first_render: bool) {
        if std::mem::take(&mut self.focus_input) {
            if let Some(input) = self.input.cast::<HtmlInputElement>() {
                let _ = input.focus();
            }
        }
        // Keep the newest message in view when something was added.
        let shown = (
            self.state.messages.len(),
            !matches!(self.state.handoff, crate::state::Handoff::None),
        );
        if shown != self.shown {
            self.shown = shown;
            if let Some(log) = self.log.cast::<web_sys::Element>() {
                log.set_scroll_top(log.scroll_height());
            }
        }
    }
}

impl Widget {
    fn carry_out(&mut self, ctx: &Context<Self>, effect: Effect) {
        match effect {
            Effect::SendEscalation(request) => {
                let endpoint = ctx.props().options.endpoint.clone();
                let link = ctx.link().clone();
                wasm_bindgen_futures::spawn_local(async move {
                    let action = match api::send_escalation(&endpoint, &request).await {
                        Ok(accepted) => Action::Escalated(accepted),
                        Err(problem) => Action::EscalationFailed(problem),
                    };
                    link.send_message(action);
                });
            }
            Effect::Emit(event) => ctx.props().host.emit(&event),
            Effect::FocusInput => self.focus_input = true,
        }
    }
}

fn storage_key(site: &str) -> String {
    format!("baton.chat.{site}")
}

/// The conversation kept in this browser for `site`, if any.
fn load_saved(site: &str) -> Option<SavedChat> {
    use gloo::storage::{LocalStorage, Storage};
    LocalStorage::get::<SavedChat>(storage_key(site)).ok()
}

/// Keeps the conversation (redacted text only) so it survives reloads and page changes;
/// an ended chat leaves nothing behind.
fn save(site: &str, state: &ChatState) {
    use gloo::storage::{LocalStorage, Storage};
    if state.messages.is_empty() && matches!(state.handoff, crate::state::Handoff::None) {
        LocalStorage::delete(storage_key(site));
    } else {
        // Storage full or disabled: the chat still works, it just won't survive a reload.
        let _ = LocalStorage::set(storage_key(site), state.save());
    }
}
