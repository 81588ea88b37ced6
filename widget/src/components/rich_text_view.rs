//! Renders [`RichText`] element by element; no string is ever parsed as HTML.

use baton_protocol::{is_safe_url, Block, Inline, RichText};
use yew::prelude::*;

/// Paragraphs, lists, bold and safe links. A plain view function, not a component:
/// it has no state, and each component type costs the download its own copy of Yew's
/// lifecycle code.
pub fn rich_text_view(text: &RichText) -> Html {
    text.blocks
        .iter()
        .map(|block| match block {
            Block::Paragraph(runs) => html! { <p>{ inline(runs) }</p> },
            Block::List(items) => html! {
                <ul>{ for items.iter().map(|item| html! { <li>{ inline(item) }</li> }) }</ul>
            },
        })
        .collect()
}

fn inline(runs: &[Inline]) -> Html {
    runs.iter()
        .map(|run| match run {
            Inline::Text(text) => html! { { text.clone() } },
            Inline::Bold(text) => html! { <strong>{ text.clone() }</strong> },
            Inline::Link { label, url } if is_safe_url(url) => html! {
                <a href={url.clone()} target="_blank" rel="noopener noreferrer">{ label.clone() }</a>
            },
            Inline::Link { label, .. } => html! { { label.clone() } },
        })
        .collect()
}
