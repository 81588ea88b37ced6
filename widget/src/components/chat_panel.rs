//! The chat panel: header with the always-visible "Talk to a person", the conversation,
//! and the message box.

use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlElement, HtmlInputElement};
use yew::prelude::*;

use crate::components::handoff_view::{handoff_view, HandoffProps};
use crate::components::message_view::{message_view, MessageProps};
use crate::components::{ask_chosen, with_names};
use crate::i18n::strings_for;
use crate::state::{Action, ChatState, EndQuestion, EngineState, Handoff};

/// What [`chat_panel`] shows.
pub struct ChatPanelProps<'a> {
    /// The whole chat state.
    pub state: &'a ChatState,
    /// The site's greeting, or empty for the default one.
    pub greeting: &'a str,
    /// Where every control sends its action.
    pub on_action: &'a Callback<Action>,
    /// The message box, so the root can focus it.
    pub input: &'a NodeRef,
    /// The scrolling conversation, so the root can keep the newest message in view.
    pub log: &'a NodeRef,
}

/// The longest message the box takes, in characters (the edge takes 4,000 bytes: even
/// in a script of 4-byte characters this fits).
const MAX_MESSAGE_CHARS: usize = 1000;

/// When the panel fills the screen (the media query of `styles.css` that makes it so).
const FULL_SCREEN: &str = "(max-width: 640px), (max-height: 500px)";

/// Whether the panel fills the screen now.
fn fills_screen() -> bool {
    web_sys::window()
        .and_then(|window| window.match_media(FULL_SCREEN).ok().flatten())
        .is_some_and(|query| query.matches())
}

/// A panel that fills the screen covers the page: Tab goes round inside it, from Send to
/// the close button and back, instead of on into links nobody can see.
fn keep_focus_in_full_screen_panel(event: &KeyboardEvent) {
    let Some(from) = event
        .target()
        .and_then(|target| target.dyn_into::<Element>().ok())
        .filter(|_| fills_screen())
    else {
        return;
    };
    let (last, first) = if event.shift_key() {
        (".close", ".send")
    } else {
        (".send", ".close")
    };
    if !from.matches(last).unwrap_or(false) {
        return;
    }
    let next = from
        .closest(".panel")
        .ok()
        .flatten()
        .and_then(|panel| panel.query_selector(first).ok().flatten())
        .and_then(|element| element.dyn_into::<HtmlElement>().ok());
    if let Some(next) = next {
        event.prevent_default();
        let _ = next.focus();
    }
}

/// The panel; while closed, only a live region saying that news came. A plain view function, not a component: it
/// has no state of its own, and each component type costs the download its own copy of
/// Yew's lifecycle code.
pub fn chat_panel(props: ChatPanelProps<'_>) -> Html {
    let ChatPanelProps {
        state,
        greeting,
        on_action,
        input,
        log,
    } = props;
    let strings = strings_for(&state.language);
    if !state.open {
        // Screen readers hear what the launcher's badge shows: present before the news,
        // so the change is announced.
        return html! {
            <p class="visually-hidden" role="status" lang={strings.lang}>
                if state.unread > 0 {
                    { strings.news_while_closed.replace("{count}", &state.unread.to_string()) }
                }
            </p>
        };
    }
    let emit = |action: Action| {
        let on_action = on_action.clone();
        Callback::from(move |_: MouseEvent| on_action.emit(action.clone()))
    };
    let on_typing = {
        let on_action = on_action.clone();
        let input = input.clone();
        let was_full = state.input_full;
        Callback::from(move |_: InputEvent| {
            let full = input
                .cast::<HtmlInputElement>()
                .is_some_and(|field| field.value().chars().count() >= MAX_MESSAGE_CHARS);
            if full != was_full {
                on_action.emit(Action::InputFull(full));
            }
            on_action.emit(Action::CustomerTyping);
        })
    };
    let on_submit = {
        let on_action = on_action.clone();
        let input = input.clone();
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            if let Some(field) = input.cast::<HtmlInputElement>() {
                let text = field.value();
                if !text.trim().is_empty() {
                    field.set_value("");
                    on_action.emit(Action::CustomerSent {
                        text,
                        now_ms: crate::now_ms(),
                        client_id: crate::random_id(),
                        chosen: None,
                    });
                }
            }
        })
    };
    let on_keydown = {
        let on_action = on_action.clone();
        Callback::from(move |event: KeyboardEvent| match event.key().as_str() {
            "Escape" => on_action.emit(Action::Close),
            "Tab" => keep_focus_in_full_screen_panel(&event),
            _ => {}
        })
    };
    let can_request_person = matches!(state.handoff, Handoff::None | Handoff::Ended { .. });
    let latest_customer_message = state
        .messages
        .iter()
        .rposition(|m| m.author == baton_protocol::Author::Customer);
    let greeting = if greeting.is_empty() {
        strings.greeting.to_owned()
    } else {
        greeting.to_owned()
    };
    let suggestions: Vec<(String, String)> = match &state.engine {
        EngineState::Ready(engine) if state.messages.is_empty() => engine.suggestions(4),
        _ => Vec::new(),
    };
    // The knowledge base's own words (answers, suggested questions) carry its language
    // where the interface speaks another, so that screen readers pronounce them right.
    let kb_lang: Option<AttrValue> = match &state.engine {
        EngineState::Ready(engine) => {
            let language = engine.language();
            let primary = baton_triage::primary_language(language);
            (!primary.is_empty() && primary != strings.lang)
                .then(|| AttrValue::from(language.to_owned()))
        }
        _ => None,
    };
    // Said at once, so that nobody asks in their own language first to be told.
    let answers_in = kb_lang
        .as_ref()
        .and_then(|language| strings.answers_in(language));
    html! {
        <section class="panel" lang={strings.lang} dir={strings.dir} role="dialog" aria-modal={if fills_screen() { "true" } else { "false" }} aria-labelledby="baton-title" onkeydown={on_keydown}>
            <div class="header">
                <div class="titles">
                    <h2 id="baton-title">{ strings.title }</h2>
                    <p>{ strings.subtitle }</p>
                </div>
                <button type="button" class="close" aria-label={strings.close} onclick={emit(Action::Close)}>
                    <svg viewBox="0 0 24 24" aria-hidden="true"><path d="M6 6l12 12M18 6L6 18"/></svg>
                </button>
            </div>
            if let Some(question) = state.end_question_asked() {
                <div class="person-bar end-question" role="group" aria-labelledby="baton-end-question">
                    <p id="baton-end-question">{ match question {
                        EndQuestion::WithPerson => strings.end_question_person,
                        EndQuestion::Forget => strings.end_question,
                    } }</p>
                    <div class="actions">
                        <button type="button" class="primary" onclick={emit(Action::ConfirmEnd(true))}>{ strings.end_confirm }</button>
                        <button type="button" class="secondary" onclick={emit(Action::ConfirmEnd(false))}>{ strings.end_keep }</button>
                    </div>
                </div>
            } else {
                <div class="person-bar">
                    // A hand-off asked for before writing anything can be ended too.
                    if !state.messages.is_empty() || !matches!(state.handoff, Handoff::None) {
                        // Not while the hand-off is on its way: the conversation may be
                        // being created at this moment, and nobody could end it.
                        <button type="button" class="end" disabled={matches!(state.handoff, Handoff::Sending { .. })} onclick={emit(Action::EndChat)}>{ strings.end_chat }</button>
                    }
                    <button type="button" class="person" disabled={!can_request_person} onclick={emit(Action::RequestPerson)}>
                        { match (state.with_person(), &state.live.agent_name) {
                            (true, Some(_)) => strings.with_a_person,
                            (true, None) => strings.person_on_the_way,
                            (false, _) => strings.talk_to_person,
                        } }
                    </button>
                </div>
            }
            // Only the messages are the live log: the typing notice, the suggestions and
            // the hand-off (its own status regions) beside it would be read out with
            // every change, the consent preview's copy of each message among them.
            <div class="log" ref={log.clone()}>
                <div role="log" aria-live="polite" aria-relevant="additions">
                    <ul class="messages">
                        // Keyed like the messages beside it: in a list of keyed and unkeyed
                        // children Yew diffs by position and rebuilt every bubble on each new
                        // message (focus lost, the live region read again).
                        // A site's own greeting may be in another language than the
                        // interface: its own direction.
                        <li key="greeting" class="message from-bot greeting" dir="auto">
                            <p>{ greeting }</p>
                            if let Some(note) = &answers_in {
                                <p lang={strings.lang} dir={strings.dir}>{ note.clone() }</p>
                            }
                        </li>
                        { for state.messages.iter().map(|message| message_view(MessageProps {
                            message,
                            strings,
                            on_action,
                            can_request_person,
                            pending: message.author == baton_protocol::Author::Customer && state.is_pending(message.id),
                            undelivered: state.not_delivered(message.id),
                            current: latest_customer_message.is_none_or(|latest| message.id > latest),
                            kb_lang: kb_lang.clone(),
                        })) }
                    </ul>
                </div>
                if let Some(name) = &state.agent_typing {
                    <p class="typing">{ with_names(strings.agent_typing, &[("{name}", name)]) }</p>
                }
                if !suggestions.is_empty() {
                    <nav class="suggestions" aria-label={strings.suggestions}>
                        { for suggestions.into_iter().map(|(intent, title)| html! {
                            <button type="button" class="chip" dir="auto" lang={kb_lang.clone()} onclick={ask_chosen(on_action, intent, title.clone())}>{ title }</button>
                        }) }
                    </nav>
                }
                if matches!(state.engine, EngineState::Loading) {
                    <p class="status">{ strings.loading }</p>
                }
                { handoff_view(HandoffProps {
                    handoff: &state.handoff,
                    live: &state.live,
                    retrying_after: state.handoff_problem.as_deref(),
                    rating_choice: state.rating_choice,
                    strings,
                    on_action,
                }) }
            </div>
            // Always there, filled when the box is full: a status region created with its
            // text is not announced.
            <p class="input-full" id="baton-input-full" role="status">{ if state.input_full { strings.input_full } else { "" } }</p>
            <form class="composer" onsubmit={on_submit}>
                <label class="visually-hidden" for="baton-input">{ strings.message_label }</label>
                <input id="baton-input" ref={input.clone()} type="text" autocomplete="off" enterkeyhint="send"
                    oninput={on_typing}
                    maxlength={MAX_MESSAGE_CHARS.to_string()}
                    aria-describedby={state.input_full.then_some("baton-input-full")}
                    placeholder={if state.with_person() { strings.placeholder_person } else { strings.placeholder }} />
                <button type="submit" class="send">{ strings.send }</button>
            </form>
        </section>
    }
}
