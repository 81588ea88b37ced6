//! Renders [`RichText`] element by element; no string is ever parsed as HTML.

use baton_protocol::{is_safe_url, Block, Inline, RichText};
use yew::prelude::*;

/// What a new line inside a paragraph is (see [`baton_protocol::RichText`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineBreaks {
    /// A line break: an agent pressed Enter in their reply.
    Kept,
    /// A space: a knowledge-base answer, which its site owner may have hard-wrapped.
    Joined,
}

/// Paragraphs, lists, bold and safe links. A plain view function, not a component:
/// it has no state, and each component type costs the download its own copy of Yew's
/// lifecycle code.
pub fn rich_text_view(text: &RichText, breaks: LineBreaks) -> Html {
    text.blocks
        .iter()
        .map(|block| match block {
            Block::Paragraph(runs) => html! { <p>{ inline(runs, breaks) }</p> },
            Block::List(items) => html! {
                <ul>{ for items.iter().map(|item| html! { <li>{ inline(item, breaks) }</li> }) }</ul>
            },
        })
        .collect()
}

fn inline(runs: &[Inline], breaks: LineBreaks) -> Html {
    runs.iter()
        .map(|run| match run {
            Inline::Text(text) => lines(text, breaks),
            Inline::Bold(text) => html! { <strong>{ lines(text, breaks) }</strong> },
            Inline::Link { label, url } if is_safe_url(url) => html! {
                <a href={url.clone()} target="_blank" rel="noopener noreferrer">{ lines(label, breaks) }</a>
            },
            Inline::Link { label, .. } => lines(label, breaks),
        })
        .collect()
}

/// Text with each `\n` as a `<br>` or as a space: still only text nodes and elements.
fn lines(text: &str, breaks: LineBreaks) -> Html {
    match breaks {
        LineBreaks::Joined => html! { { text.replace('\n', " ") } },
        LineBreaks::Kept => text
            .split('\n')
            .enumerate()
            .map(|(i, line)| {
                html! { <>if i > 0 { <br/> }{ line.to_owned() }</> }
            })
            .collect(),
    }
}
