//! The hand-off to a person: consent preview, sending, failure, place in the queue.

use baton_protocol::Author;
use yew::prelude::*;

use crate::i18n::Strings;
use crate::state::{Action, Handoff};

/// Properties of [`HandoffView`].
#[derive(Clone, PartialEq, Properties)]
pub struct HandoffProps {
    /// Where the hand-off stands.
    pub handoff: Handoff,
    /// The interface language's strings.
    pub strings: &'static Strings,
    /// Where buttons send their actions.
    pub on_action: Callback<Action>,
}

/// Shows the hand-off's current step; nothing while the bot handles the chat.
#[function_component(HandoffView)]
pub fn handoff_view(props: &HandoffProps) -> Html {
    let HandoffProps {
        handoff,
        strings,
        on_action,
    } = props;
    let send = |action: fn() -> Action| {
        let on_action = on_action.clone();
        Callback::from(move |_: MouseEvent| on_action.emit(action()))
    };
    match handoff {
        Handoff::None => html! {},
        Handoff::Consent { packet } => html! {
            <section class="handoff consent" aria-labelledby="baton-consent-title">
                <h3 id="baton-consent-title">{ strings.consent_title }</h3>
                <p>{ strings.consent_body }</p>
                <ol class="preview">
                    { for packet.transcript.iter().filter(|e| e.author == Author::Customer).map(|entry| html! {
                        <li>{ entry.text.clone() }</li>
                    }) }
                </ol>
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
        Handoff::Sending { .. } => html! {
            <section class="handoff sending" role="status"><p>{ strings.sending }</p></section>
        },
        Handoff::Failed { .. } => html! {
            <section class="handoff failed" role="alert">
                <p>{ strings.send_failed }</p>
                <button type="button" class="primary" onclick={send(|| Action::Retry)}>{ strings.retry }</button>
            </section>
        },
        Handoff::Queued(accepted) => {
            let minutes = accepted.estimated_wait_seconds.div_ceil(60).max(1);
            html! {
                <section class="handoff queued" role="status" data-conversation={accepted.conversation_id.clone()}>
                    <p class="position">{ strings.queue_position.replace("{position}", &accepted.queue_position.to_string()) }</p>
                    <p>{ strings.queue_wait.replace("{minutes}", &minutes.to_string()) }</p>
                </section>
            }
        }
    }
}
