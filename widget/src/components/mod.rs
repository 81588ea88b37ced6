//! The widget's view components, one per file.

pub mod chat_panel;
pub mod handoff_view;
pub mod message_view;
pub mod rich_text_view;

use yew::{Callback, MouseEvent};

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
