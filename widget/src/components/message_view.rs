//! One bubble of the chat.

use baton_protocol::{is_safe_url, Author, EscalationReason};
use baton_triage::MaskedPiece;
use yew::prelude::*;

use crate::components::rich_text_view::{rich_text_view, LineBreaks};
use crate::components::{ask_chosen, with_names};
use crate::i18n::Strings;
use crate::state::{Action, ChatMessage, MessageBody, NotDelivered, Note};

/// What [`message_view`] shows.
pub struct MessageProps<'a> {
    /// The message.
    pub message: &'a ChatMessage,
    /// The interface language's strings.
    pub strings: &'static Strings,
    /// Where the buttons inside a message send their actions.
    pub on_action: &'a Callback<Action>,
    /// Whether offers of a person can still be acted on.
    pub can_request_person: bool,
    /// Whether this customer message still waits in the outbox.
    pub pending: bool,
    /// Why this customer message never reached the person, if it did not.
    pub undelivered: Option<NotDelivered>,
    /// Whether the message answers the customer's latest message (its alternatives
    /// are only offered until the customer writes again).
    pub current: bool,
    /// The knowledge base's language, when the interface speaks another: an answer's
    /// words are in it.
    pub kb_lang: Option<AttrValue>,
}

/// Redacted text with each mask shown as what it hides, in the customer's language
/// ("card ending 4242 · masked"), rather than as the redactor's token.
pub fn redacted_text_view(text: &str, strings: &Strings) -> Html {
    html! {
        <>
            { for baton_triage::masked_pieces(text).into_iter().map(|piece| match piece {
                MaskedPiece::Text(words) => html! { { words } },
                MaskedPiece::Mask { kind, last_four } => html! {
                    <span class="mask" lang={strings.lang}>
                        { strings.mask(kind, last_four) }
                        <span class="mask-note">{ strings.masked_note }</span>
                    </span>
                },
            }) }
        </>
    }
}

/// A customer, bot or agent bubble, keyed by its id. A plain view function, not a
/// component: it has no state of its own, and each component type costs the download
/// its own copy of Yew's lifecycle code.
pub fn message_view(props: MessageProps<'_>) -> Html {
    let MessageProps {
        message,
        strings,
        on_action,
        can_request_person,
        pending,
        undelivered,
        current,
        kb_lang,
    } = props;
    let lang = kb_lang.filter(|_| matches!(message.body, MessageBody::Answer { .. }));
    let class = match (message.author, &message.body) {
        (_, MessageBody::Note(Note::NewChat)) => "message from-system new-chat",
        (Author::Customer, _) => "message from-customer",
        (Author::Bot, _) => "message from-bot",
        (Author::Agent, _) => "message from-agent",
        (Author::System, _) => "message from-system",
    };
    // Colour and side say who wrote a bubble; screen readers hear it (agents' bubbles
    // carry their name already).
    let said_by = match message.author {
        Author::Customer => strings.you_said,
        Author::Bot => strings.bot_said,
        Author::Agent | Author::System => "",
    };
    let body = match &message.body {
        MessageBody::Text(text) => html! {
            <>
                <p>{ redacted_text_view(text, strings) }</p>
                if let Some(why) = undelivered {
                    <p class="pending undelivered">{ match why {
                        NotDelivered::Ended => strings.not_delivered,
                        NotDelivered::NoPerson => strings.not_sent_no_person,
                        NotDelivered::Refused => strings.not_delivered_refused,
                    } }</p>
                } else if pending {
                    <p class="pending">{ strings.not_sent_yet }</p>
                }
            </>
        },
        MessageBody::Agent { name, body } => html! {
            <>
                // Its own direction: the bubble's comes from the reply, not the name.
                <p class="author" dir="auto">{ name.clone() }</p>
                { rich_text_view(body, LineBreaks::Kept) }
            </>
        },
        MessageBody::Note(note) => {
            let text = match note {
                Note::AgentJoined(name) => with_names(strings.agent_joined, &[("{name}", name)]),
                Note::AgentLeft(name) => with_names(strings.agent_left, &[("{name}", name)]),
                Note::PassedOn { from, to } => {
                    with_names(strings.agent_passed_on, &[("{from}", from), ("{to}", to)])
                }
                Note::Resolved(None) => html! { strings.resolved },
                // The agent's closing words: their own direction.
                Note::Resolved(Some(resolution)) => html! {
                    <>{ strings.resolved }{ " " }<bdi>{ resolution.clone() }</bdi></>
                },
                Note::CustomerEnded => html! { strings.you_ended },
                Note::NewChat => html! { strings.new_conversation },
            };
            html! { <p>{ text }</p> }
        }
        MessageBody::DontKnow => html! { <p>{ strings.dont_know }</p> },
        MessageBody::SmallTalk(kind) => html! { <p>{ strings.small_talk_reply(*kind) }</p> },
        MessageBody::Answer {
            body,
            links,
            helpful,
            alternatives,
            ..
        } => {
            let offer_alternatives =
                current && can_request_person && helpful.is_none() && !alternatives.is_empty();
            let message_id = message.id;
            let answer = |helpful: bool| {
                let on_action = on_action.clone();
                Callback::from(move |_: MouseEvent| {
                    on_action.emit(Action::Feedback {
                        message_id,
                        helpful,
                        now_ms: crate::now_ms(),
                    })
                })
            };
            html! {
                <>
                    { rich_text_view(body, LineBreaks::Joined) }
                    if !links.is_empty() {
                        <ul class="links">
                            { for links.iter().filter(|l| is_safe_url(&l.url)).map(|link| html! {
                                <li><a href={link.url.clone()} target="_blank" rel="noopener noreferrer">{ link.label.clone() }</a></li>
                            }) }
                        </ul>
                    }
                    if offer_alternatives {
                        <div class="alternatives" role="group" aria-label={strings.did_you_mean} dir={strings.dir}>
                            <span lang={strings.lang}>{ strings.did_you_mean }</span>
                            { for alternatives.iter().map(|alternative| html! {
                                <button type="button" class="chip" dir="auto" onclick={ask_chosen(on_action, alternative.intent.clone(), alternative.title.clone())}>{ alternative.title.clone() }</button>
                            }) }
                        </div>
                    }
                    // In the interface's language and direction, inside an answer that may
                    // be in another.
                    <div class="feedback" role="group" aria-label={strings.did_this_help} lang={strings.lang} dir={strings.dir}>
                        { match helpful {
                            // Once a person has the conversation, or the customer has
                            // moved on, the question is moot.
                            None if !can_request_person || !current => html! {},
                            None => html! {
                                <>
                                    <span>{ strings.did_this_help }</span>
                                    <button type="button" class="chip" onclick={answer(true)}>{ strings.yes }</button>
                                    <button type="button" class="chip" onclick={answer(false)}>{ strings.no_person }</button>
                                </>
                            },
                            Some(true) => html! { <span>{ strings.glad }</span> },
                            Some(false) => html! {},
                        } }
                    </div>
                </>
            }
        }
        MessageBody::OfferPerson {
            reasons,
            only_answers_in,
        } => {
            let request = {
                let on_action = on_action.clone();
                Callback::from(move |_: MouseEvent| on_action.emit(Action::RequestPerson))
            };
            html! {
                <>
                    <p>{ strings.offer_person }</p>
                    <ul class="reasons">
                        { for reasons.iter().map(|&reason| match only_answers_in {
                            Some(language) if reason == EscalationReason::OutOfScope => {
                                html! { <li>{ strings.only_answers_in(language) }</li> }
                            }
                            _ => html! { <li>{ strings.reason(reason) }</li> },
                        }) }
                    </ul>
                    if can_request_person {
                        <button type="button" class="primary" onclick={request}>{ strings.talk_to_person }</button>
                    }
                </>
            }
        }
    };
    // What the customer, an agent or the knowledge base wrote takes its own direction;
    // the interface's own words (notes, the bot's replies) take the interface's.
    let dir = match message.body {
        MessageBody::Text(_) | MessageBody::Agent { .. } | MessageBody::Answer { .. } => "auto",
        _ => strings.dir,
    };
    html! {
        <li key={message.id} class={class} dir={dir} lang={lang}>
            if !said_by.is_empty() {
                // Its own direction, so that the bubble's `dir="auto"` reads the message,
                // not this label, to set the bubble's.
                <span class="visually-hidden" lang={strings.lang} dir={strings.dir}>{ said_by }</span>
            }
            { body }
        </li>
    }
}
