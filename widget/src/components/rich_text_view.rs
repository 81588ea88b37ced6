//! Renders [`RichText`] element by element; no string is ever parsed as HTML.

use baton_protocol::{is_safe_url, Block, Inline, RichText};
use yew::prelude::*;

/// Properties of [`RichTextView`].
#[derive(Clone, PartialEq, Properties)]
pub struct RichTextProps {
    /// The parsed text.
    pub text: RichText,
}

/// Paragraphs, lists, bold and safe links.
#[function_component(RichTextView)]
pub fn rich_text_view(props: &RichTextProps) -> Html {
    props
        .text
        .blocks
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
