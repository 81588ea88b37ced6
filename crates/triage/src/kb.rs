//! Knowledge-base entries as the engine carries them (parsed from TOML only when training).

use serde::{Deserialize, Serialize};

/// A link shown under an answer. The url is `https:` or `mailto:`, checked at load.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KbLink {
    /// The text the customer sees.
    pub label: String,
    /// Where it goes: `https:` or `mailto:` only.
    pub url: String,
}

/// One intent of the site's knowledge base: the question and the answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KbEntry {
    /// The intent id, e.g. `card_arrival`.
    pub id: String,
    /// The short canonical question, e.g. "When will my card arrive?".
    pub title: String,
    /// The answer in KB markup: blank-line paragraphs, `- ` items, `**bold**`, `[label](https://..)`.
    pub answer: String,
    /// Links shown under the answer.
    pub links: Vec<KbLink>,
    /// True when a person should always be offered for this intent (fraud, lost card, ...).
    pub sensitive: bool,
}

/// True when `url` may be shown as a link: `https:` or `mailto:` with a target.
pub(crate) fn is_allowed_url(url: &str) -> bool {
    baton_protocol::is_safe_url(url)
}

/// Why `url` may not be shown as a link, in words for the site owner; `None` when it may.
#[cfg(feature = "train")]
pub(crate) fn url_problem(url: &str) -> Option<&'static str> {
    if is_allowed_url(url) {
        return None;
    }
    let lower = url.to_ascii_lowercase();
    let scheme_ok = lower.starts_with("https://") || lower.starts_with("mailto:");
    Some(if !scheme_ok && lower.starts_with("https:") {
        "url is not a valid URL: write `https://` and then the address"
    } else if !scheme_ok {
        "url must start with https:// or mailto:"
    } else if url.chars().any(char::is_whitespace) {
        "url contains a space, so it is not a valid URL (write a space as %20)"
    } else if url.chars().any(char::is_control) {
        "url contains a control character, so it is not a valid URL"
    } else {
        "url has no address after https:// or mailto:"
    })
}

/// The first thing in an answer written like a link, `[label](url)`, that the widget
/// would show as plain text instead (its url is not `https:`/`mailto:`, or its label is
/// empty): the url as written, to find it in the file, and what is wrong.
///
/// Links are read by the renderer's own parser ([`baton_protocol::RichText`]): whatever
/// still looks like a link in its text runs is one it refused.
#[cfg(feature = "train")]
pub(crate) fn refused_answer_link(answer: &str) -> Option<(String, &'static str)> {
    let parsed = baton_protocol::RichText::parse(answer);
    let link = parsed.refused_links().into_iter().next()?;
    let problem = match url_problem(link.url) {
        Some(problem) => problem,
        None if link.label.trim().is_empty() => "a link has an empty label",
        // Only bold stops the parser from reading a good link.
        None => "a link inside **bold** is shown as plain text: put it outside the bold",
    };
    Some((link.url.to_string(), problem))
}

#[cfg(all(test, feature = "train"))]
mod tests {
    use super::*;

    #[test]
    fn links_the_renderer_would_show_as_text_are_found() {
        for (answer, problem) in [
            (
                "Go [here](javascript:alert(1)) now",
                "must start with https:// or mailto:",
            ),
            (
                "- an item [here](http://a.example)",
                "must start with https:// or mailto:",
            ),
            (
                "**[bold](data:text/html,x)**",
                "must start with https:// or mailto:",
            ),
            (
                "[a [b](http://a.example)",
                "must start with https:// or mailto:",
            ),
            ("[x](https://a.example/a b)", "contains a space"),
            ("[](https://a.example)", "empty label"),
            ("**[in bold](https://a.example)**", "outside the bold"),
        ] {
            let found = refused_answer_link(answer).map(|(_, p)| p);
            assert!(
                found.is_some_and(|p| p.contains(problem)),
                "{answer}: {found:?}"
            );
        }
        for answer in [
            "See [our guide](https://a.example/help) or [write](mailto:help@a.example).",
            "Brackets [like this] and (like this) are text.",
            "[unclosed](https://a.example",
        ] {
            assert_eq!(refused_answer_link(answer), None, "{answer}");
        }
    }
}
