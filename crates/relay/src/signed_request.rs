//! Calls to the agent API signed by an external helpdesk with the site's webhook secret:
//! the Standard Webhooks scheme turned around, so a helpdesk that verifies Baton's
//! deliveries signs its answers with the same `whsec_` secret and needs no agent token.
//!
//! The signed bytes are the request's method, its path with the query, a newline and
//! the body, so a signature is good for one call only; the `webhook-timestamp` must be
//! within [`TOLERANCE_SECONDS`] of the edge's clock, and each `webhook-id` is taken once
//! ([`SeenRequests`]), so a captured request cannot be replayed.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::webhook::TOLERANCE_SECONDS;

/// The header naming the site whose webhook secret signed the request.
pub const SITE_HEADER: &str = "baton-site";
/// The optional header with the name the customer sees for the helpdesk's agent.
pub const AGENT_NAME_HEADER: &str = "baton-agent-name";
/// The agent id every signed request acts as.
pub const HELPDESK_AGENT_ID: &str = "helpdesk";
/// The name the customer sees when the request names none.
pub const DEFAULT_HELPDESK_AGENT_NAME: &str = "Support team";
/// The longest agent name a request may give, in characters.
pub const MAX_AGENT_NAME_CHARS: usize = 80;

/// The bytes a helpdesk signs for one call: `METHOD path?query`, a newline, the body.
pub fn signed_request_payload(method: &str, path_and_query: &str, body: &[u8]) -> Vec<u8> {
    let mut payload = Vec::with_capacity(method.len() + path_and_query.len() + 2 + body.len());
    payload.extend_from_slice(method.as_bytes());
    payload.push(b' ');
    payload.extend_from_slice(path_and_query.as_bytes());
    payload.push(b'\n');
    payload.extend_from_slice(body);
    payload
}

/// The name the customer sees for a signed request's agent: the header's value, trimmed,
/// or the default; `None` when it is too long or holds control characters.
pub fn helpdesk_agent_name(header: Option<&str>) -> Option<String> {
    let name = header.map(str::trim).filter(|name| !name.is_empty());
    match name {
        None => Some(DEFAULT_HELPDESK_AGENT_NAME.to_owned()),
        Some(name)
            if name.chars().count() <= MAX_AGENT_NAME_CHARS
                && !name.chars().any(char::is_control) =>
        {
            Some(name.to_owned())
        }
        Some(_) => None,
    }
}

/// The `webhook-id`s of signed requests already taken, with their timestamps, for as
/// long as their timestamps could still pass the tolerance check.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeenRequests {
    seen: BTreeMap<String, u64>,
}

impl SeenRequests {
    /// Takes `id`, signed at `timestamp`, at `now` (Unix seconds): `false` when it was
    /// taken before. Ids whose timestamps have left the tolerance window are forgotten:
    /// a request carrying one is refused as expired anyway.
    pub fn take(&mut self, id: &str, timestamp: u64, now: u64) -> bool {
        self.seen
            .retain(|_, &mut at| at.saturating_add(TOLERANCE_SECONDS) >= now);
        if self.seen.contains_key(id) {
            return false;
        }
        self.seen.insert(id.to_owned(), timestamp);
        true
    }

    /// How many ids are remembered.
    pub fn len(&self) -> usize {
        self.seen.len()
    }

    /// Whether no id is remembered.
    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::webhook::{WebhookRejection, WebhookSecret};

    #[test]
    fn a_signature_covers_method_path_query_and_body() {
        let secret = WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = br#"{"site":"shop","conversation":"c1","text":"hi"}"#;
        let payload = signed_request_payload("POST", "/v1/agent/reply", body);
        assert_eq!(
            payload,
            b"POST /v1/agent/reply\n{\"site\":\"shop\",\"conversation\":\"c1\",\"text\":\"hi\"}"
        );
        let signature = secret.sign("req_1", 1_000, &payload);
        assert_eq!(
            secret.verify("req_1", 1_000, &signature, &payload, 1_001),
            Ok(())
        );
        for other in [
            signed_request_payload("POST", "/v1/agent/close", body),
            signed_request_payload("GET", "/v1/agent/reply", body),
            signed_request_payload("POST", "/v1/agent/reply?site=x", body),
            signed_request_payload("POST", "/v1/agent/reply", b"{}"),
        ] {
            assert_eq!(
                secret.verify("req_1", 1_000, &signature, &other, 1_001),
                Err(WebhookRejection::BadSignature)
            );
        }
    }

    #[test]
    fn an_id_is_taken_once_within_the_window() {
        let mut seen = SeenRequests::default();
        assert!(seen.take("req_1", 1_000, 1_000));
        assert!(!seen.take("req_1", 1_000, 1_100));
        assert!(seen.take("req_2", 1_050, 1_100));
        assert_eq!(seen.len(), 2);
        // Once req_1's timestamp is out of the window it is forgotten (and would be
        // refused as expired), so the memory stays small.
        assert!(seen.take("req_3", 1_400, 1_000 + TOLERANCE_SECONDS + 1));
        assert_eq!(seen.len(), 2);
    }

    #[test]
    fn agent_names_are_short_printable_text() {
        assert_eq!(
            helpdesk_agent_name(None).as_deref(),
            Some(DEFAULT_HELPDESK_AGENT_NAME)
        );
        assert_eq!(
            helpdesk_agent_name(Some("  ")).as_deref(),
            Some(DEFAULT_HELPDESK_AGENT_NAME)
        );
        assert_eq!(
            helpdesk_agent_name(Some(" Robin ")).as_deref(),
            Some("Robin")
        );
        assert_eq!(helpdesk_agent_name(Some("Rob\u{7}in")), None);
        assert_eq!(helpdesk_agent_name(Some(&"x".repeat(81))), None);
    }
}
