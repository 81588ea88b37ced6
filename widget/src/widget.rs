//! The root component: owns the [`ChatState`], turns DOM events into [`Action`]s, and
//! carries out the [`Effect`]s the reducer asks for.

use std::rc::Rc;

use baton_protocol::{
    token_subprotocol, ConversationUpdate, CsatRating, CustomerClose, CustomerMessage,
    CustomerTyping, EscalationAccepted, LIVE_SUBPROTOCOL,
};
use baton_triage::Engine;
use gloo::timers::callback::Timeout;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{HtmlInputElement, MessageEvent, StorageEvent, WebSocket};
use yew::prelude::*;

use crate::api;
use crate::components::chat_panel::{chat_panel, ChatPanelProps};
use crate::i18n::{strings_for, Strings};
use crate::state::{
    Action, ChatState, Effect, EndOutcome, EngineState, FocusTarget, Handoff, HostEvent, SavedChat,
    SendProblem,
};

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
    /// Calls the loader's `emit(name, detail)`; `strings` word the launcher's label.
    fn emit(&self, event: &HostEvent, strings: &Strings) {
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
            HostEvent::AgentJoined(name) => {
                ("agent_joined", vec![("agentName", JsValue::from_str(name))])
            }
            HostEvent::Resolved => ("resolved", vec![]),
            HostEvent::Unread(count) => {
                let label = if *count == 0 {
                    strings.launcher.to_owned()
                } else {
                    strings
                        .launcher_unread
                        .replace("{count}", &count.to_string())
                };
                (
                    "unread",
                    vec![
                        ("count", JsValue::from(*count)),
                        ("label", JsValue::from_str(&label)),
                    ],
                )
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
    /// Where keyboard focus goes after the next render.
    focus: Option<FocusTarget>,
    /// Whether keyboard focus was in the chat before the last change, so that focus on a
    /// control the change removed ("Try again", say) is not dropped to the page.
    focus_was_inside: bool,
    shown: (usize, bool),
    /// The conversation's scroll height at the last render (0 while the panel is closed).
    log_height: i32,
    live: Option<LiveChannel>,
    /// Gives up waiting for a model that has not arrived ([`MODEL_PATIENCE_MS`]).
    model_patience: Option<Timeout>,
    reconnect: Option<Timeout>,
    reconnect_delay: Backoff,
    retry: Option<Timeout>,
    /// Sends a failed hand-off again.
    handoff_retry: Option<Timeout>,
    handoff_retry_delay: Backoff,
    /// Ends "… is typing" unless a newer notice replaced (and so cancelled) it.
    typing_over: Option<Timeout>,
    /// When the agent was last told the customer is typing (ms since the epoch).
    typing_told_at_ms: f64,
    /// Follows what other tabs of the same site save, so every tab shows the same
    /// conversation and none overwrites it with an older copy.
    _other_tabs: Option<WindowListener>,
    /// Hears the browser come back online.
    _online: Option<WindowListener>,
    /// Hears the page being left or put away for the Back button, which keeps a
    /// socket open in Chromium's back/forward cache.
    _page_hidden: Option<WindowListener>,
}

/// A listener on `window`, removed when dropped.
struct WindowListener {
    window: web_sys::Window,
    event: &'static str,
    listener: Closure<dyn FnMut(web_sys::Event)>,
}

impl WindowListener {
    fn new(event: &'static str, listener: impl FnMut(web_sys::Event) + 'static) -> Option<Self> {
        let window = web_sys::window()?;
        let listener = Closure::<dyn FnMut(web_sys::Event)>::new(listener);
        window
            .add_event_listener_with_callback(event, listener.as_ref().unchecked_ref())
            .ok()?;
        Some(WindowListener {
            window,
            event,
            listener,
        })
    }
}

impl Drop for WindowListener {
    fn drop(&mut self) {
        let _ = self.window.remove_event_listener_with_callback(
            self.event,
            self.listener.as_ref().unchecked_ref(),
        );
    }
}

/// Listens for other tabs saving `site`'s conversation.
fn follow_other_tabs(site: &str, ctx: &Context<Widget>) -> Option<WindowListener> {
    let key = storage_key(site);
    let link = ctx.link().clone();
    WindowListener::new("storage", move |event| {
        let Ok(event) = event.dyn_into::<StorageEvent>() else {
            return;
        };
        // No key: the site's storage was cleared as a whole.
        if event.key().is_some_and(|changed| changed != key) {
            return;
        }
        let saved = match event.new_value() {
            None => None,
            Some(text) => match crate::json::from_text::<SavedChat>(&text) {
                Some(saved) => Some(Box::new(saved)),
                // Another version of the widget: leave this tab as it is.
                None => return,
            },
        };
        link.send_message(Action::Synced(saved));
    })
}

/// The open WebSocket to the conversation and the handlers that keep it alive.
struct LiveChannel {
    conversation_id: String,
    socket: WebSocket,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_open: Closure<dyn FnMut()>,
    _on_close: Closure<dyn FnMut()>,
}

impl LiveChannel {
    /// Tells the agent the customer is typing; nothing happens if the channel is down.
    fn say_typing(&self) {
        if let Some(text) = crate::json::to_text(&CustomerTyping { typing: true }) {
            let _ = self.socket.send_with_str(&text);
        }
    }
}

impl Drop for LiveChannel {
    fn drop(&mut self) {
        // Detach first, so closing on purpose does not schedule a reconnect.
        self.socket.set_onmessage(None);
        self.socket.set_onopen(None);
        self.socket.set_onclose(None);
        let _ = self.socket.close();
    }
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
                        "Baton: the site's model did not load from {model_url}: {problem} (is data-site right?)"
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
        // A conversation with a person picks up where it was: live channel, outbox. On
        // the next turn of the event loop, so that a hand-off sent again carries the
        // identity the page gives as the chat loads (`Baton.identify`).
        let reconnect = {
            let link = ctx.link().clone();
            Timeout::new(0, move || link.send_message(Action::ReconnectLive))
        };
        let model_patience = {
            let link = ctx.link().clone();
            Timeout::new(MODEL_PATIENCE_MS, move || {
                gloo::console::warn!(format!(
                    "Baton: the site's model has not arrived after {} s; customers are offered a person meanwhile",
                    MODEL_PATIENCE_MS / 1000
                ));
                link.send_message(Action::EngineLoaded(EngineState::Failed));
            })
        };
        // The launcher, drawn by the loader in English, gets this language's label, and
        // the count of messages not yet seen on an earlier page.
        ctx.props().host.emit(
            &HostEvent::Unread(state.unread),
            strings_for(&options.language),
        );
        Widget {
            state,
            input: NodeRef::default(),
            log: NodeRef::default(),
            focus: None,
            focus_was_inside: false,
            shown: (0, false),
            log_height: 0,
            live: None,
            model_patience: Some(model_patience),
            reconnect: Some(reconnect),
            reconnect_delay: RECONNECT_DELAY,
            retry: None,
            handoff_retry: None,
            handoff_retry_delay: HANDOFF_RETRY_DELAY,
            typing_over: None,
            typing_told_at_ms: 0.0,
            _other_tabs: follow_other_tabs(&options.site, ctx),
            _online: {
                let link = ctx.link().clone();
                WindowListener::new("online", move |_| link.send_message(Action::BackOnline))
            },
            _page_hidden: {
                let link = ctx.link().clone();
                WindowListener::new("pagehide", move |_| link.send_message(Action::PageHidden))
            },
        }
    }

    fn update(&mut self, ctx: &Context<Self>, action: Action) -> bool {
        // What another tab saved is in storage already; saving it back (with this tab's
        // own panel state) would wake that tab again.
        let from_another_tab = matches!(action, Action::Synced(_));
        if matches!(action, Action::CustomerTyping) {
            // Every keystroke comes here: at most one notice a few seconds, and nothing
            // to draw or save.
            let now = js_sys::Date::now();
            if self.state.tells_agent_typing() && now - self.typing_told_at_ms >= TYPING_NOTICE_MS {
                if let Some(live) = &self.live {
                    live.say_typing();
                    self.typing_told_at_ms = now;
                }
            }
            return false;
        }
        match &action {
            Action::EngineLoaded(_) => self.model_patience = None,
            Action::FlushOutbox => self.retry = None,
            Action::Retry | Action::TryAgain | Action::BackOnline => self.handoff_retry = None,
            Action::Escalated { .. } => self.handoff_retry_delay.reset(),
            Action::ReconnectLive => self.reconnect = None,
            Action::LiveConnection(true) => self.reconnect_delay.reset(),
            Action::LiveConnection(false) => {
                self.live = None;
                self.schedule_reconnect(ctx);
            }
            // Closed on purpose, to be opened again if the page is shown again: the
            // reconnect timer waits while the page is in the back/forward cache.
            Action::PageHidden if self.live.take().is_some() => self.schedule_reconnect(ctx),
            _ => {}
        }
        self.focus_was_inside = self.focus_inside();
        let effects = self.state.apply(action);
        for effect in effects {
            self.carry_out(ctx, effect);
        }
        if !from_another_tab {
            save(&ctx.props().options.site, &self.state);
        }
        true
    }

    fn view(&self, ctx: &Context<Self>) -> Html {
        chat_panel(ChatPanelProps {
            state: &self.state,
            greeting: &ctx.props().options.greeting,
            on_action: &ctx.link().callback(|action| action),
            input: &self.input,
            log: &self.log,
        })
    }

    fn rendered(&mut self, _ctx: &Context<Self>, _first_render: bool) {
        let lost = self.state.open && self.focus_was_inside && !self.focus_inside();
        let target = self.focus.take().or(lost.then_some(FocusTarget::Input));
        let selector = match target {
            None => None,
            Some(FocusTarget::Input) => {
                if let Some(input) = self.input.cast::<HtmlInputElement>() {
                    let _ = input.focus();
                }
                None
            }
            Some(FocusTarget::Consent) => Some(".consent button.primary"),
            Some(FocusTarget::EndQuestion) => Some(".end-question button.primary"),
            Some(FocusTarget::Rating) => Some(".rating, .rated"),
        };
        let element = selector.and_then(|selector| {
            self.log
                .cast::<web_sys::Element>()
                .and_then(|log| log.closest(".panel").ok().flatten())
                .and_then(|panel| panel.query_selector(selector).ok().flatten())
                .and_then(|element| element.dyn_into::<web_sys::HtmlElement>().ok())
        });
        if let Some(element) = element {
            let _ = element.focus();
        }
        self.keep_newest_in_view();
    }
}

/// A pause that doubles each time it is taken, from its first length up to a maximum,
/// until a success resets it.
#[derive(Debug, Clone, Copy)]
struct Backoff {
    first_ms: u32,
    max_ms: u32,
    next_ms: u32,
}

impl Backoff {
    const fn new(first_ms: u32, max_ms: u32) -> Backoff {
        Backoff {
            first_ms,
            max_ms,
            next_ms: first_ms,
        }
    }

    /// The pause to take now; the next one is twice as long.
    fn take(&mut self) -> u32 {
        let pause = self.next_ms;
        self.next_ms = pause.saturating_mul(2).min(self.max_ms);
        pause
    }

    fn reset(&mut self) {
        self.next_ms = self.first_ms;
    }
}

/// Before reconnecting the live channel.
const RECONNECT_DELAY: Backoff = Backoff::new(1_000, 15_000);
/// How long questions wait for the site's model before the customer is offered a
/// person instead (a model that arrives later still answers what comes next).
const MODEL_PATIENCE_MS: u32 = 15_000;
/// Before sending a failed hand-off again.
const HANDOFF_RETRY_DELAY: Backoff = Backoff::new(3_000, 60_000);
/// The pause before sending the outbox again after a failure.
const RETRY_MS: u32 = 3_000;
/// How long "… is typing" shows after the last notice: consoles send one every few
/// seconds while the agent types.
const TYPING_SHOWN_MS: u32 = 6_000;
/// At most one "the customer is typing" notice to the agent this often; the edge shows
/// each to agents for six seconds.
const TYPING_NOTICE_MS: f64 = 3_000.0;

/// How close to the end of the conversation counts as reading the newest message.
const NEAR_BOTTOM_PX: i32 = 24;

impl Widget {
    /// Whether keyboard focus is on something in the open chat.
    fn focus_inside(&self) -> bool {
        self.state.open
            && self
                .input
                .cast::<web_sys::Node>()
                .and_then(|input| input.get_root_node().dyn_into::<web_sys::ShadowRoot>().ok())
                .is_some_and(|root| root.active_element().is_some())
    }

    /// Scrolls the conversation to its end when a message or the hand-off appears, and
    /// when something grows at the end (the queue card filling in, a rating form) while
    /// the customer is reading there; someone scrolled up to read stays where they are
    /// until the next message. Opening the panel shows the newest message.
    fn keep_newest_in_view(&mut self) {
        let Some(log) = self.log.cast::<web_sys::Element>() else {
            self.log_height = 0;
            return;
        };
        let shown = (
            self.state.messages.len(),
            !matches!(self.state.handoff, crate::state::Handoff::None),
        );
        let height = log.scroll_height();
        let was_at_end = log.scroll_top() + log.client_height() >= self.log_height - NEAR_BOTTOM_PX;
        if shown != self.shown || (height > self.log_height && was_at_end) {
            log.set_scroll_top(height);
        }
        self.shown = shown;
        self.log_height = height;
    }

    fn carry_out(&mut self, ctx: &Context<Self>, effect: Effect) {
        let endpoint = ctx.props().options.endpoint.clone();
        let site = ctx.props().options.site.clone();
        let link = ctx.link().clone();
        match effect {
            Effect::SendEscalation(request) => {
                wasm_bindgen_futures::spawn_local(async move {
                    let action = match api::send_escalation(&endpoint, &request).await {
                        Ok(accepted) => Action::Escalated {
                            accepted,
                            idempotency_key: request.idempotency_key,
                        },
                        // The customer's own connection, not the team, is what is down.
                        Err(_) if !is_online() => Action::EscalationFailed("offline".into()),
                        Err(problem) => Action::EscalationFailed(problem),
                    };
                    link.send_message(action);
                });
            }
            Effect::OpenLive { accepted, after } => {
                let already = self
                    .live
                    .as_ref()
                    .is_some_and(|live| live.conversation_id == accepted.conversation_id);
                if !already {
                    let url = api::live_url(&endpoint, &site, &accepted, after);
                    self.live = open_live(&url, &accepted, ctx);
                    if self.live.is_none() {
                        self.schedule_reconnect(ctx);
                    }
                }
            }
            Effect::CloseLive => {
                self.live = None;
                self.reconnect = None;
            }
            Effect::SendMessage { accepted, message } => {
                wasm_bindgen_futures::spawn_local(async move {
                    let body = CustomerMessage {
                        client_id: message.client_id.clone(),
                        text: message.text,
                    };
                    let client_id = message.client_id;
                    let action = match api::send_message(&endpoint, &site, &accepted, &body).await {
                        Ok(()) => Action::MessageDelivered { client_id },
                        Err(problem) => Action::MessageFailed { client_id, problem },
                    };
                    link.send_message(action);
                });
            }
            Effect::EndConversation(ending) => {
                wasm_bindgen_futures::spawn_local(async move {
                    let close = CustomerClose {
                        messages: ending
                            .outbox
                            .into_iter()
                            .map(|message| CustomerMessage {
                                client_id: message.client_id,
                                text: message.text,
                            })
                            .collect(),
                    };
                    let sent = close.messages.iter().map(|m| m.client_id.clone()).collect();
                    let accepted = ending.accepted;
                    let answer = api::end_conversation(&endpoint, &site, &accepted, &close).await;
                    let outcome = match answer {
                        Ok(undelivered) => EndOutcome::Ended { undelivered },
                        Err(problem) if SendProblem::of(&problem).is_final() => {
                            EndOutcome::Refused(problem)
                        }
                        Err(_) => EndOutcome::Retry,
                    };
                    link.send_message(Action::EndAnswered {
                        conversation_id: accepted.conversation_id,
                        sent,
                        outcome,
                    });
                });
            }
            Effect::WithdrawEscalation(withdrawal) => {
                wasm_bindgen_futures::spawn_local(async move {
                    let settled = match api::withdraw_escalation(&endpoint, &withdrawal).await {
                        Ok(()) => true,
                        Err(problem) => SendProblem::of(&problem).is_final(),
                    };
                    link.send_message(Action::WithdrawalAnswered {
                        idempotency_key: withdrawal.idempotency_key,
                        settled,
                    });
                });
            }
            Effect::SendRating {
                accepted,
                rating,
                comment,
            } => {
                wasm_bindgen_futures::spawn_local(async move {
                    let rating = CsatRating { rating, comment };
                    let _ = api::send_rating(&endpoint, &site, &accepted, &rating).await;
                });
            }
            Effect::SendFeedback(helpful) => {
                wasm_bindgen_futures::spawn_local(async move {
                    let _ = api::send_feedback(&endpoint, &site, helpful).await;
                });
            }
            Effect::CheckAvailability => {
                wasm_bindgen_futures::spawn_local(async move {
                    if let Some(availability) = api::availability(&endpoint, &site).await {
                        link.send_message(Action::Availability(availability.agents_online));
                    }
                });
            }
            Effect::RetryLater => {
                if self.retry.is_none() {
                    let link = ctx.link().clone();
                    self.retry = Some(Timeout::new(RETRY_MS, move || {
                        link.send_message(Action::FlushOutbox);
                    }));
                }
            }
            Effect::Emit(event) => {
                let strings = strings_for(&ctx.props().options.language);
                ctx.props().host.emit(&event, strings);
            }
            Effect::TypingOverLater => {
                let link = ctx.link().clone();
                self.typing_over = Some(Timeout::new(TYPING_SHOWN_MS, move || {
                    link.send_message(Action::TypingOver);
                }));
            }
            Effect::Focus(target) => self.focus = Some(target),
            Effect::RetryHandoffLater => {
                let link = ctx.link().clone();
                self.handoff_retry =
                    Some(Timeout::new(self.handoff_retry_delay.take(), move || {
                        link.send_message(Action::Retry);
                    }));
            }
        }
    }

    fn schedule_reconnect(&mut self, ctx: &Context<Self>) {
        if self.reconnect.is_some() || !matches!(self.state.handoff, Handoff::Queued(_)) {
            return;
        }
        let link = ctx.link().clone();
        self.reconnect = Some(Timeout::new(self.reconnect_delay.take(), move || {
            link.send_message(Action::ReconnectLive);
        }));
    }
}

/// Opens the WebSocket and wires its events to actions; `None` if the browser refused
/// the URL (the caller retries later). The customer token goes as a subprotocol.
fn open_live(
    url: &str,
    accepted: &EscalationAccepted,
    ctx: &Context<Widget>,
) -> Option<LiveChannel> {
    let conversation_id = &accepted.conversation_id;
    let protocols = js_sys::Array::of2(
        &LIVE_SUBPROTOCOL.into(),
        &token_subprotocol(&accepted.customer_token).into(),
    );
    let socket = WebSocket::new_with_str_sequence(url, &protocols).ok()?;
    let link = ctx.link().clone();
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        let update = event
            .data()
            .as_string()
            .and_then(|text| crate::json::from_text::<ConversationUpdate>(&text));
        if let Some(update) = update {
            link.send_message(Action::LiveUpdate(update));
        }
    });
    let link = ctx.link().clone();
    let on_open = Closure::<dyn FnMut()>::new(move || {
        link.send_message(Action::LiveConnection(true));
    });
    let link = ctx.link().clone();
    let on_close = Closure::<dyn FnMut()>::new(move || {
        link.send_message(Action::LiveConnection(false));
    });
    socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    socket.set_onopen(Some(on_open.as_ref().unchecked_ref()));
    socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
    Some(LiveChannel {
        conversation_id: conversation_id.to_owned(),
        socket,
        _on_message: on_message,
        _on_open: on_open,
        _on_close: on_close,
    })
}

/// Whether the browser believes it is online (true when it cannot say).
fn is_online() -> bool {
    web_sys::window().is_none_or(|window| window.navigator().on_line())
}

fn storage_key(site: &str) -> String {
    format!("baton.chat.{site}")
}

/// The conversation kept in this browser for `site`, if any.
fn load_saved(site: &str) -> Option<SavedChat> {
    crate::json::load(&storage_key(site))
}

/// Keeps the conversation (redacted text only) so it survives reloads and page changes;
/// an ended chat leaves nothing behind.
fn save(site: &str, state: &ChatState) {
    if state.messages.is_empty()
        && matches!(state.handoff, crate::state::Handoff::None)
        && state.withdrawals.is_empty()
        && state.endings.is_empty()
    {
        crate::json::forget(&storage_key(site));
    } else {
        // Storage full or disabled: the chat still works, it just won't survive a reload.
        crate::json::store(&storage_key(site), &state.save());
    }
}
