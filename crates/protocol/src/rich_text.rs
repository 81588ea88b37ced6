//! Safe formatting for knowledge-base answers and agent messages.
//!
//! Text is parsed into a typed structure that the widget renders element by element;
//! nothing is ever interpreted as HTML. The markup is deliberately tiny:
//!
//! - paragraphs separated by a blank line,
//! - lines starting with `- ` form a bulleted list,
//! - `**bold**`,
//! - `[label](url)` links, kept only for `https:` and `mailto:` URLs; any other link
//!   stays plain text ([`RichText::refused_links`] names them, so a writer can be told).
//!
//! Line breaks: the lines of a paragraph are kept apart by a `\n` in the text of its
//! runs (the only place a `\n` appears). What a break means depends on who wrote the text,
//! and the renderer decides:
//!
//! - an agent's message is typed in a box where Enter starts a new line, so each line
//!   stays a line ("…for you now.⏎Next steps:" shows as two lines);
//! - a knowledge-base answer is written in a TOML file that site owners may hard-wrap at
//!   80 columns, so its lines run together as before (a `\n` reads as a space), and a
//!   new line there takes a blank line (a new paragraph) or a `- ` list.
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
    /// Lines of text, kept apart by a `\n` in the runs (see the module docs for how each
    /// kind of text shows it).
    Paragraph(Vec<Inline>),
    /// Bullet items, each a run of inline text.
    List(Vec<Vec<Inline>>),
}

/// A run of text inside a block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Inline {
    /// Plain text, shown as is (never as markup). May hold a `\n` where the writer
    /// started a new line of the paragraph; never two in a row, nor at either end of a
    /// paragraph.
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

    /// What was written as a link, `[label](url)`, but stays plain text: a url that is
    /// not `https:` or `mailto:` (`http://…`, `javascript:…`), a link with an empty
    /// label, or one inside `**bold**`. In the order written; the agent console warns
    /// with them, and `baton train` refuses a knowledge base that has one.
    ///
    /// ```
    /// use baton_protocol::{RefusedLink, RichText};
    ///
    /// let text = RichText::parse("[Track it](http://larkspur.example/t) or [mail us](mailto:help@larkspur.example)");
    /// assert_eq!(
    ///     text.refused_links(),
    ///     vec![RefusedLink { label: "Track it", url: "http://larkspur.example/t" }]
    /// );
    /// ```
    pub fn refused_links(&self) -> Vec<RefusedLink<'_>> {
        let mut refused = Vec::new();
        for runs in self.runs() {
            for run in runs {
                let (Inline::Text(text) | Inline::Bold(text)) = run else {
                    continue;
                };
                // Whatever still reads as a link in a text run is one the parser refused.
                let mut rest = text.as_str();
                while let Some(start) = rest.find('[') {
                    match link_parts(&rest[start..]) {
                        Some((label, url, after)) => {
                            refused.push(RefusedLink { label, url });
                            rest = after;
                        }
                        None => rest = &rest[start + 1..],
                    }
                }
            }
        }
        refused
    }

    /// Every run of inline text: each paragraph's, then each list item's, in order.
    fn runs(&self) -> impl Iterator<Item = &Vec<Inline>> {
        self.blocks.iter().flat_map(|block| match block {
            Block::Paragraph(runs) => std::slice::from_ref(runs),
            Block::List(items) => items.as_slice(),
        })
    }

    /// The text without markup, e.g. for a notification or a transcript. A paragraph's
    /// lines stay on their own lines.
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
    let has_target = |scheme: &str| {
        url.len() > scheme.len()
            && url.as_bytes()[..scheme.len()].eq_ignore_ascii_case(scheme.as_bytes())
    };
    (has_target("https://") || has_target("mailto:"))
        && !url.chars().any(|c| c.is_whitespace() || c.is_control())
}

fn flush_paragraph(lines: &mut Vec<&str>, blocks: &mut Vec<Block>) {
    if !lines.is_empty() {
        blocks.push(Block::Paragraph(parse_inline(&lines.join("\n"))));
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

/// A link at the start of `text` that becomes one: a label and a safe url.
fn link_at(text: &str) -> Option<(&str, &str, &str)> {
    link_parts(text).filter(|(label, url, _)| !label.is_empty() && is_safe_url(url))
}

/// Something written as a link that stays plain text (see [`RichText::refused_links`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefusedLink<'a> {
    /// The label, as written between the brackets.
    pub label: &'a str,
    /// The url, as written between the parentheses.
    pub url: &'a str,
}

/// What is written like a link at the start of `text`, `[label](url)` with no `[` in the
/// label, whether or not it becomes one: label, url and the text after it.
fn link_parts(text: &str) -> Option<(&str, &str, &str)> {
    let inner = text.strip_prefix('[')?;
    let label_end = inner.find("](")?;
    let label = &inner[..label_end];
    let after_label = &inner[label_end + 2..];
    let url_end = after_label.find(')')?;
    let url = &after_label[..url_end];
    (!label.contains('[')).then(|| (label, url, &after_label[url_end + 1..]))
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

    /// Tester report B9: "…for you now.⏎Next steps:" became one paragraph, one line.
    #[test]
    fn a_single_newline_keeps_the_lines_of_a_paragraph_apart() {
        let text =
            RichText::parse("I have re-sent it for you now.\nNext steps:\n**Check** your email");
        assert_eq!(
            text.blocks,
            vec![Block::Paragraph(vec![
                Inline::Text("I have re-sent it for you now.\nNext steps:\n".into()),
                Inline::Bold("Check".into()),
                Inline::Text(" your email".into()),
            ])]
        );
        assert_eq!(
            text.plain_text(),
            "I have re-sent it for you now.\nNext steps:\nCheck your email"
        );
    }

    #[test]
    fn windows_line_ends_and_indents_leave_no_trace() {
        let text = RichText::parse("  one \r\n  two\r\n\r\nthree");
        assert_eq!(
            text.blocks,
            vec![
                Block::Paragraph(vec![Inline::Text("one\ntwo".into())]),
                Block::Paragraph(vec![Inline::Text("three".into())]),
            ]
        );
    }

    /// Tester report B9: `[x](http://…)` was sent as raw brackets with no warning.
    #[test]
    fn refused_links_name_what_stays_text() {
        let text = RichText::parse(
            "[ok](https://a.example) [x](http://b.example)\n- [js](javascript:alert(1))\n- **[](https://c.example)** [a [b](ftp://d)",
        );
        let urls: Vec<&str> = text.refused_links().iter().map(|l| l.url).collect();
        assert_eq!(
            urls,
            vec![
                "http://b.example",
                "javascript:alert(1",
                "https://c.example",
                "ftp://d"
            ]
        );
        assert!(
            RichText::parse("[Help](https://a.example) and [a] (b) and [c](")
                .refused_links()
                .is_empty()
        );
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

    mod properties {
        use super::*;
        use proptest::prelude::*;

        /// Lines of words and markup characters, some blank, some list items.
        fn source() -> impl Strategy<Value = String> {
            let line = prop_oneof![
                Just(String::new()),
                "[a-z \\[\\]()*:/.-]{1,30}",
                "- [a-z *]{1,12}",
                "\\[[a-z]{1,5}\\]\\((https|http|mailto|javascript):[a-z/.]{0,8}\\)",
            ];
            proptest::collection::vec(line, 0..8).prop_map(|lines| lines.join("\n"))
        }

        proptest! {
            #[test]
            fn every_link_is_safe_and_every_refused_one_is_named(text in source()) {
                let parsed = RichText::parse(&text);
                for runs in parsed.runs() {
                    for run in runs {
                        if let Inline::Link { label, url } = run {
                            prop_assert!(is_safe_url(url), "{url}");
                            prop_assert!(!label.is_empty());
                        }
                    }
                }
                let written = text.matches("](").count();
                let links = parsed.runs().flatten().filter(|r| matches!(r, Inline::Link { .. })).count();
                prop_assert!(links + parsed.refused_links().len() <= written);
                for link in parsed.refused_links() {
                    // As written, but for the spaces the parser trims at the ends of lines.
                    let squeezed = |s: &str| s.split_whitespace().collect::<String>();
                    let written_as = squeezed(&format!("[{}]({})", link.label, link.url));
                    prop_assert!(squeezed(&text).contains(&written_as), "{}", written_as);
                }
            }

            #[test]
            fn line_breaks_sit_only_between_the_lines_of_a_paragraph(text in source()) {
                for block in RichText::parse(&text).blocks {
                    let Block::Paragraph(runs) = block else { continue };
                    let joined: String = runs.iter().map(|run| match run {
                        Inline::Text(t) | Inline::Bold(t) => t.as_str(),
                        Inline::Link { label, .. } => label.as_str(),
                    }).collect();
                    prop_assert!(!joined.starts_with('\n') && !joined.ends_with('\n'), "{joined:?}");
                    prop_assert!(!joined.contains("\n\n"), "{joined:?}");
                }
            }

            #[test]
            fn plain_lines_come_through_one_for_one(lines in proptest::collection::vec("[a-z][a-z .,]{0,20}[a-z.]", 1..6)) {
                // Lines with no markup form one paragraph and keep their breaks.
                let text = lines.join("\n");
                let parsed = RichText::parse(&text);
                prop_assert_eq!(parsed.plain_text(), lines.iter().map(|l| l.trim()).collect::<Vec<_>>().join("\n"));
                prop_assert_eq!(parsed.blocks.len(), 1);
            }
        }
    }
}
