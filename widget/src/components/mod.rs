//! The widget's view components, one per file.

pub mod chat_panel;
pub mod handoff_view;
pub mod message_view;
pub mod rich_text_view;

use yew::{html, Callback, Html, MouseEvent};

use crate::state::Action;

/// A chip that asks one of the bot's own questions (a suggestion or an alternative):
/// the customer's message is its title, and the bot answers `intent` directly.
pub fn ask_chosen(
    on_action: &Callback<Action>,
    intent: String,
    title: String,
) -> Callback<MouseEvent> {
    let on_action = on_action.clone();
    Callback::from(move |_: MouseEvent| {
        on_action.emit(Action::CustomerSent {
            text: title.clone(),
            now_ms: crate::now_ms(),
            client_id: crate::random_id(),
            chosen: Some(intent.clone()),
        })
    })
}

/// An interface sentence with names put in (`{name}` → Sam), each name isolated in a
/// `<bdi>`: an Arabic name in an English sentence keeps the sentence's order.
pub fn with_names(template: &str, names: &[(&str, &str)]) -> Html {
    let mut pieces = Vec::new();
    let mut rest = template;
    while let Some((at, placeholder, name)) = names
        .iter()
        .filter_map(|&(placeholder, name)| rest.find(placeholder).map(|at| (at, placeholder, name)))
        .min_by_key(|&(at, ..)| at)
    {
        pieces.push(html! { { rest[..at].to_owned() } });
        pieces.push(html! { <bdi>{ name.to_owned() }</bdi> });
        rest = &rest[at + placeholder.len()..];
    }
    pieces.push(html! { { rest.to_owned() } });
    pieces.into_iter().collect::<Html>()
}
