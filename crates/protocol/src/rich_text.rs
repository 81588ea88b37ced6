//! Safe formatting for knowledge-base answers and agent messages.
//!
//! Text is parsed into a typed structure that the widget renders element by element;
//! nothing is ever interpreted as HTML. The markup is deliberately tiny:
//!
//! - paragraphs separated by a blank line,
//! - lines starting with `- ` form a bulleted list,
//! - `**bold**`,
//! - `[label](url)` links, kept only for `https:` and `mailto:` URLs; any other link
//!   stays plain text.
//!
//! ```
//! use baton_protocol::{Block, Inline, RichText};
//!
//! let text = RichText::parse("Hi **there**.\n\n- [Help](https://example.com/help)\n- <b>no</b>");
//! assert_eq!(text.blocks.len(), 2);
//! assert_eq!(
//!     text.blocks[0],
//!     Block::Paragraph(vec![Inline::Text("Hi ".into()), Inline::Bold("there".into()), Inline::Text(".".into())])
//! );
//! let Block::List(items) = &text.blocks[1] else { panic!() };
//! assert_eq!(items[1], vec![Inline::Text("<b>no</b>".into())]);
//! ```

use serde::{Deserialize, Serialize};

/// A parsed message: a list of blocks.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RichText {
    /// Paragraphs and lists, in order.
    pub blocks: Vec<Block>,
}

/// A paragraph or a bulleted list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Block {
    /// Lines of text run together.
    Paragraph(Vec<Inline>),
    /// Bullet items, each a run of inline text.
    List(Vec<Vec<Inline>>),
}

/// A run of text inside a block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Inline {
    /// Plain text, shown as is (never as markup).
    Text(String),
    /// Bold text.
    Bold(String),
    /// A link with an `https:` or `mailto:` target.
    Link {
        /// What the customer sees.
        label: String,
        /// Where it goes; always `https:` or `mailto:`.
        url: String,
    },
}

impl RichText {
    /// Parses the markup. Never fails: anything that is not valid markup is text.
    pub fn parse(source: &str) -> RichText {
        let mut blocks = Vec::new();
        let mut paragraph: Vec<&str> = Vec::new();
        let mut list: Vec<Vec<Inline>> = Vec::new();
        for line in source.lines() {
            let trimmed = line.trim();
            if let Some(item) = trimmed.strip_prefix("- ") {
                flush_paragraph(&mut paragraph, &mut blocks);
                list.push(parse_inline(item.trim()));
            } else if trimmed.is_empty() {
                flush_paragraph(&mut paragraph, &mut blocks);
                flush_list(&mut list, &mut blocks);
            } else {
                flush_list(&mut list, &mut blocks);
                paragraph.push(trimmed);
            }
        }
        flush_paragraph(&mut paragraph, &mut blocks);
        flush_list(&mut list, &mut blocks);
        RichText { blocks }
    }

    /// The text without markup, e.g. for a notification or a transcript.
    pub fn plain_text(&self) -> String {
        let inline_text = |runs: &[Inline]| -> String {
            runs.iter()
                .map(|run| match run {
                    Inline::Text(text) | Inline::Bold(text) => text.as_str(),
                    Inline::Link { label, .. } => label.as_str(),
                })
                .collect()
        };
        self.blocks
            .iter()
            .map(|block| match block {
                Block::Paragraph(runs) => inline_text(runs),
                Block::List(items) => items
                    .iter()
                    .map(|item| format!("• {}", inline_text(item)))
                    .collect::<Vec<_>>()
                    .join("\n"),
            })
            .collect::<Vec<_>>()
            .join("\n\n")
    }
}

/// Whether a link target is allowed: `https:` or `mailto:` only.
pub fn is_safe_url(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    let has_target = |scheme: &str| lower.starts_with(scheme) && url.len() > scheme.len();
    (has_target("https://") || has_target("mailto:"))
        && !url.chars().any(|c| c.is_whitespace() || c.is_control())
}

fn flush_paragraph(lines: &mut Vec<&str>, blocks: &mut Vec<Block>) {
    if !lines.is_empty() {
        blocks.push(Block::Paragraph(parse_inline(&lines.join(" "))));
        lines.clear();
    }
}

fn flush_list(items: &mut Vec<Vec<Inline>>, blocks: &mut Vec<Block>) {
    if !items.is_empty() {
        blocks.push(Block::List(std::mem::take(items)));
    }
}

fn parse_inline(text: &str) -> Vec<Inline> {
    let mut runs = Vec::new();
    let mut plain = String::new();
    let mut rest = text;
    while !rest.is_empty() {
        if let Some((bold, after)) = bold_at(rest) {
            push_text(&mut plain, &mut runs);
            runs.push(Inline::Bold(bold.to_owned()));
            rest = after;
        } else if let Some((label, url, after)) = link_at(rest) {
            push_text(&mut plain, &mut runs);
            runs.push(Inline::Link {
                label: label.to_owned(),
                url: url.to_owned(),
            });
            rest = after;
        } else {
            let mut chars = rest.chars();
            if let Some(c) = chars.next() {
                plain.push(c);
            }
            rest = chars.as_str();
        }
    }
    push_text(&mut plain, &mut runs);
    runs
}

fn push_text(plain: &mut String, runs: &mut Vec<Inline>) {
    if !plain.is_empty() {
        runs.push(Inline::Text(std::mem::take(plain)));
    }
}

fn bold_at(text: &str) -> Option<(&str, &str)> {
    let inner = text.strip_prefix("**")?;
    let end = inner.find("**")?;
    (end > 0).then(|| (&inner[..end], &inner[end + 2..]))
}

fn link_at(text: &str) -> Option<(&str, &str, &str)> {
    let inner = text.strip_prefix('[')?;
    let label_end = inner.find("](")?;
    let label = &inner[..label_end];
    let after_label = &inner[label_end + 2..];
    let url_end = after_label.find(')')?;
    let url = &after_label[..url_end];
    (!label.is_empty() && !label.contains('[') && is_safe_url(url))
        .then(|| (label, url, &after_label[url_end + 1..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn javascript_links_stay_text() {
        let text = RichText::parse("[click](javascript:alert(1))");
        assert_eq!(
            text.blocks,
            vec![Block::Paragraph(vec![Inline::Text(
                "[click](javascript:alert(1))".into()
            )])]
        );
    }

    #[test]
    fn html_is_text() {
        let source = "<img src=x onerror=alert(1)> <script>alert(1)</script>";
        let text = RichText::parse(source);
        assert_eq!(
            text.blocks,
            vec![Block::Paragraph(vec![Inline::Text(source.into())])]
        );
    }

    #[test]
    fn mailto_and_https_links_are_kept() {
        let text = RichText::parse(
            "Write to [us](mailto:help@larkspur.example) or [read](https://larkspur.example/help).",
        );
        let Block::Paragraph(runs) = &text.blocks[0] else {
            unreachable!()
        };
        assert_eq!(
            runs.iter()
                .filter(|r| matches!(r, Inline::Link { .. }))
                .count(),
            2
        );
    }

    #[test]
    fn unclosed_bold_is_text() {
        assert_eq!(
            RichText::parse("**not bold").blocks,
            vec![Block::Paragraph(vec![Inline::Text("**not bold".into())])]
        );
    }

    #[test]
    fn plain_text_drops_markup() {
        let text = RichText::parse("A **b** [c](https://x.example)\n\n- one\n- two");
        assert_eq!(text.plain_text(), "A b c\n\n• one\n• two");
    }

    #[test]
    fn is_safe_url_refuses_other_schemes_and_spaces() {
        assert!(is_safe_url("https://larkspur.example/a"));
        assert!(is_safe_url("mailto:help@larkspur.example"));
        assert!(!is_safe_url("http://larkspur.example"));
        assert!(!is_safe_url("javascript:alert(1)"));
        assert!(!is_safe_url("https://"));
        assert!(!is_safe_url("https://a b"));
        assert!(!is_safe_url("data:text/html,hi"));
    }
}
