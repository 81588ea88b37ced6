//! The hand-off to a person: consent preview, sending, failure, place in the queue.

use baton_protocol::{Author, EscalationAccepted};
use wasm_bindgen::JsCast;
use yew::prelude::*;

use crate::components::message_view::redacted_text_view;
use crate::components::with_names;
use crate::i18n::Strings;
use crate::state::{Action, Handoff, LiveState, RatingStage, SendProblem};

/// What [`handoff_view`] shows.
pub struct HandoffProps<'a> {
    /// Where the hand-off stands.
    pub handoff: &'a Handoff,
    /// The live conversation with a person.
    pub live: &'a LiveState,
    /// Why the last attempt failed, while the hand-off is tried again.
    pub retrying_after: Option<&'a str>,
    /// The rating picked so far in the rating form, 0 for none.
    pub rating_choice: u8,
    /// The interface language's strings.
    pub strings: &'static Strings,
    /// Where buttons send their actions.
    pub on_action: &'a Callback<Action>,
}

/// Shows the hand-off's current step; nothing while the bot handles the chat. A plain
/// view function, not a component: it has no state of its own, and each component type
/// costs the download its own copy of Yew's lifecycle code.
pub fn handoff_view(props: HandoffProps<'_>) -> Html {
    let HandoffProps {
        handoff,
        live,
        retrying_after,
        rating_choice,
        strings,
        on_action,
    } = props;
    let send = |action: fn() -> Action| {
        let on_action = on_action.clone();
        Callback::from(move |_: MouseEvent| on_action.emit(action()))
    };
    match handoff {
        Handoff::None => html! {},
        Handoff::Consent {
            packet,
            agents_online,
        } => html! {
            <section class="handoff consent" aria-labelledby="baton-consent-title">
                <h3 id="baton-consent-title">{ strings.consent_title }</h3>
                <p>{ strings.consent_body }</p>
                if *agents_online == Some(0) {
                    <p class="nobody-online" role="status">{ strings.consent_nobody_online }</p>
                }
                if packet.transcript.iter().any(|e| e.author == Author::Customer) {
                    <ol class="preview">
                        { for packet.transcript.iter().filter(|e| e.author == Author::Customer).map(|entry| html! {
                            <li dir="auto">{ redacted_text_view(&entry.text, strings) }</li>
                        }) }
                    </ol>
                } else {
                    <p class="preview empty">{ strings.consent_empty }</p>
                }
                <div class="actions">
                    <button type="button" class="primary" onclick={send(|| Action::ConsentGiven { idempotency_key: crate::random_id() })}>
                        { strings.consent_send }
                    </button>
                    <button type="button" class="secondary" onclick={send(|| Action::ConsentDeclined)}>
                        { strings.consent_cancel }
                    </button>
                </div>
            </section>
        },
        Handoff::Sending { .. } => match retrying_after {
            // Tried again by itself: the failure stays said, the same element with the
            // same words, so it is not read out again at every attempt.
            Some(problem) => failed_view(problem, strings, send),
            None => html! {
                <section class="handoff sending" role="status"><p>{ strings.sending }</p></section>
            },
        },
        Handoff::Failed { problem, .. } => failed_view(problem, strings, send),
        // Only the place in line is a status: the agent joining is said once, by the note
        // in the conversation.
        Handoff::Queued(accepted) => html! {
            <section class="handoff queued" data-conversation={accepted.conversation_id.clone()}>
                if let Some(name) = &live.agent_name {
                    <p class="with-agent">{ with_names(strings.with_agent, &[("{name}", name)]) }</p>
                }
                <div role="status">
                    if live.agent_name.is_none() {
                        { queue_view(accepted, live, strings) }
                    }
                    // Lost, or never there with messages waiting: news may not be arriving.
                    if live.dropped || (!live.connected && !live.outbox.is_empty()) {
                        <p class="offline">{ strings.reconnecting }</p>
                    }
                </div>
            </section>
        },
        Handoff::Ended { rating, .. } => html! {
            { rating_view(*rating, rating_choice, strings, on_action) }
        },
    }
}

/// The place in line and the wait (or that nobody is online).
fn queue_view(accepted: &EscalationAccepted, live: &LiveState, strings: &'static Strings) -> Html {
    let (position, wait, online) = live.queue.map_or(
        (
            accepted.queue_position,
            accepted.estimated_wait_seconds,
            accepted.agents_online,
        ),
        |q| (q.position, q.estimated_wait_seconds, q.agents_online),
    );
    let minutes = wait.div_ceil(60).max(1);
    html! {
        <>
            <p class="position">{ strings.queue_position.replace("{position}", &position.to_string()) }</p>
            // No made-up wait when nobody is there to end it.
            if online == Some(0) {
                <p class="nobody-online">{ strings.queue_nobody_online }</p>
            } else {
                <p class="wait">{ strings.queue_wait.replace("{minutes}", &minutes.to_string()) }</p>
            }
        </>
    }
}

/// The hand-off did not get through: why, and Try again (or, for a refusal that trying
/// again cannot fix, Not now).
fn failed_view(
    problem: &str,
    strings: &'static Strings,
    send: impl Fn(fn() -> Action) -> Callback<MouseEvent>,
) -> Html {
    let problem = SendProblem::of(problem);
    html! {
        <section class="handoff failed" role="alert">
            <p>{ match problem {
                SendProblem::Offline => strings.send_offline,
                SendProblem::Unreachable => strings.send_failed,
                SendProblem::Busy => strings.send_busy,
                SendProblem::Refused => strings.send_refused,
            } }</p>
            // Trying again cannot fix a refusal: the customer goes back to the chat.
            if problem == SendProblem::Refused {
                <button type="button" class="secondary" onclick={send(|| Action::ConsentDeclined)}>{ strings.consent_cancel }</button>
            } else {
                <button type="button" class="primary" onclick={send(|| Action::TryAgain)}>{ strings.retry }</button>
            }
        </section>
    }
}

/// "How was your conversation?": five labelled radio buttons, an optional comment,
/// and "Start a new chat". The pick lives in the chat state
/// ([`Action::ChooseRating`]), so this too is a plain view function and no hook
/// machinery ships.
fn rating_view(
    stage: RatingStage,
    chosen: u8,
    strings: &'static Strings,
    on_action: &Callback<Action>,
) -> Html {
    let new_chat = {
        let on_action = on_action.clone();
        Callback::from(move |_: MouseEvent| on_action.emit(Action::NewChat))
    };
    if stage == RatingStage::Sent {
        return html! {
            <section class="handoff rated" role="status" tabindex="-1">
                <p>{ strings.rate_thanks }</p>
                <button type="button" class="secondary" onclick={new_chat}>{ strings.new_chat }</button>
            </section>
        };
    }
    let on_submit = {
        let on_action = on_action.clone();
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            let text = event
                .target()
                .and_then(|form| form.dyn_into::<web_sys::Element>().ok())
                .and_then(|form| form.query_selector("textarea").ok().flatten())
                .and_then(|field| field.dyn_into::<web_sys::HtmlTextAreaElement>().ok())
                .map(|field| field.value())
                .unwrap_or_default();
            if chosen > 0 {
                on_action.emit(Action::Rate {
                    rating: chosen,
                    comment: text,
                });
            }
        })
    };
    html! {
        <section class="handoff rating" aria-labelledby="baton-rate-title" tabindex="-1">
            <form onsubmit={on_submit}>
                <fieldset>
                    <legend id="baton-rate-title">{ strings.rate_title }</legend>
                    <div class="stars">
                        { for (1..=5u8).map(|n| {
                            let on_action = on_action.clone();
                            let label = strings.rate_value.replace("{n}", &n.to_string());
                            html! {
                                <label class="star">
                                    <input type="radio" name="baton-rating" value={n.to_string()}
                                        checked={chosen == n}
                                        onchange={Callback::from(move |_: Event| on_action.emit(Action::ChooseRating(n)))} />
                                    <span aria-hidden="true">{ n }</span>
                                    <span class="visually-hidden">{ label }</span>
                                </label>
                            }
                        }) }
                    </div>
                </fieldset>
                <label for="baton-rate-comment">{ strings.rate_comment }</label>
                <textarea id="baton-rate-comment" rows="2" maxlength="1000" />
                <div class="actions">
                    <button type="submit" class="primary" disabled={chosen == 0}>{ strings.rate_send }</button>
                    <button type="button" class="secondary" onclick={new_chat}>{ strings.new_chat }</button>
                </div>
            </form>
        </section>
    }
}
