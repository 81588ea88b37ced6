//! Describing a client's malformed JSON without repeating what it contained.

/// Describes a JSON parse failure by position and field name only: serde's messages for
/// wrong types quote the offending value, which may be customer text.
pub fn describe_json_error(err: &serde_json::Error) -> String {
    let text = err.to_string();
    let field_message = ["unknown field `", "missing field `", "duplicate field `"]
        .iter()
        .find_map(|prefix| {
            let start = text.find(prefix)?;
            let rest = &text[start + prefix.len()..];
            let end = rest.find('`')?;
            let field = &rest[..end];
            let safe = field.len() <= 64
                && field
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_');
            let what = prefix.trim_end_matches(" `").trim_end_matches('`');
            safe.then(|| format!("{what} `{field}`"))
        });
    let what = field_message.unwrap_or_else(|| match err.classify() {
        serde_json::error::Category::Syntax => "malformed JSON".to_owned(),
        serde_json::error::Category::Eof => "JSON ends too early".to_owned(),
        serde_json::error::Category::Data => "a value has the wrong type or shape".to_owned(),
        serde_json::error::Category::Io => "the body could not be read".to_owned(),
    });
    format!("{what} at line {} column {}", err.line(), err.column())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use baton_protocol::EscalationRequest;

    #[test]
    fn wrong_type_message_does_not_echo_the_value() {
        let err = serde_json::from_str::<EscalationRequest>(
            r#"{"site": 4242424242424242, "visitor_id":"v","idempotency_key":"k","packet":{}}"#,
        )
        .unwrap_err();
        let message = describe_json_error(&err);
        assert!(!message.contains("4242"), "{message}");
        assert!(message.contains("line 1"), "{message}");
    }

    #[test]
    fn unknown_field_is_named() {
        let err = serde_json::from_str::<EscalationRequest>(
            r#"{"site":"demo","visitor_id":"v","idempotency_key":"k","packet":{},"pwned":true}"#,
        )
        .unwrap_err();
        assert!(describe_json_error(&err).starts_with("unknown field `pwned`"));
    }
}
