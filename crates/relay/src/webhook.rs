//! Standard Webhooks: signing deliveries to an external helpdesk, and verifying them.
//!
//! A delivery carries three headers (<https://www.standardwebhooks.com/>):
//! `webhook-id` (stable across retries of one message), `webhook-timestamp` (Unix
//! seconds of this attempt) and `webhook-signature` (`v1,<base64 HMAC-SHA256>` of
//! `"{id}.{timestamp}.{body}"`, keyed with the base64-decoded part of a `whsec_` secret).
//! Time is a parameter, so tests control it.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::error::{RelayError, RelayErrorKind};

/// How far a receiver lets a timestamp drift from its clock, in seconds.
pub const TOLERANCE_SECONDS: u64 = 5 * 60;

/// How many signatures of one `webhook-signature` header are tried (a sender rotating
/// secrets lists two or three).
pub const MAX_SIGNATURES: usize = 8;

/// A webhook signing secret, parsed from its `whsec_<base64>` form.
#[derive(Clone)]
pub struct WebhookSecret {
    key: Vec<u8>,
}

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret(..)")
    }
}

impl WebhookSecret {
    /// Parses `whsec_<base64>`; the error never contains the secret.
    pub fn parse(secret: &str) -> Result<WebhookSecret, RelayError> {
        let encoded = secret
            .strip_prefix("whsec_")
            .ok_or_else(|| RelayError::new(RelayErrorKind::BadConfig, "BATON_WEBHOOK_SECRET"))?;
        let key = STANDARD
            .decode(encoded)
            .map_err(|_| RelayError::new(RelayErrorKind::BadConfig, "BATON_WEBHOOK_SECRET"))?;
        if key.len() < 16 {
            return Err(RelayError::new(
                RelayErrorKind::BadConfig,
                "BATON_WEBHOOK_SECRET",
            ));
        }
        Ok(WebhookSecret { key })
    }

    /// A secret from raw key bytes (for tests and key generation).
    pub fn from_key(key: Vec<u8>) -> WebhookSecret {
        WebhookSecret { key }
    }

    /// The `whsec_` form, to hand to a receiver.
    pub fn to_whsec(&self) -> String {
        format!("whsec_{}", STANDARD.encode(&self.key))
    }

    fn mac(&self, id: &str, timestamp: u64, body: &[u8]) -> Hmac<Sha256> {
        // HMAC accepts keys of any length.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        mac
    }

    /// The `webhook-signature` header value for one attempt.
    pub fn sign(&self, id: &str, timestamp: u64, body: &[u8]) -> String {
        let tag = self.mac(id, timestamp, body).finalize().into_bytes();
        format!("v1,{}", STANDARD.encode(tag))
    }

    /// Verifies a delivery as a receiver would, at time `now` (Unix seconds): one of the
    /// first [`MAX_SIGNATURES`] space-separated `v1,` signatures must match.
    pub fn verify(
        &self,
        id: &str,
        timestamp: u64,
        signature_header: &str,
        body: &[u8],
        now: u64,
    ) -> Result<(), WebhookRejection> {
        check_fresh(timestamp, now)?;
        if self.signed_one_of(&signature_tags(signature_header), id, timestamp, body) {
            Ok(())
        } else {
            Err(WebhookRejection::BadSignature)
        }
    }

    /// Whether one of `tags` is this secret's signature. The body is hashed once,
    /// however many tags there are.
    fn signed_one_of(&self, tags: &[Vec<u8>], id: &str, timestamp: u64, body: &[u8]) -> bool {
        let mac = self.mac(id, timestamp, body);
        tags.iter().any(|tag| mac.clone().verify_slice(tag).is_ok())
    }
}

/// A delivery's timestamp must be within [`TOLERANCE_SECONDS`] of `now`.
fn check_fresh(timestamp: u64, now: u64) -> Result<(), WebhookRejection> {
    if timestamp.saturating_add(TOLERANCE_SECONDS) < now
        || timestamp > now.saturating_add(TOLERANCE_SECONDS)
    {
        return Err(WebhookRejection::StaleTimestamp);
    }
    Ok(())
}

/// The decoded tags of a `webhook-signature` header's `v1,` signatures. Only the first
/// [`MAX_SIGNATURES`] are read: a stranger's header cannot buy unbounded work.
fn signature_tags(signature_header: &str) -> Vec<Vec<u8>> {
    signature_header
        .split(' ')
        .take(MAX_SIGNATURES)
        .filter_map(|candidate| candidate.strip_prefix("v1,"))
        .filter_map(|encoded| STANDARD.decode(encoded).ok())
        .collect()
}

/// How many secrets a site may have at once: the one in use and, while a receiver
/// moves to it, the ones it replaces.
pub const MAX_SECRETS_PER_SITE: usize = 3;

/// A site's signing secrets, newest first: one, or a few while they are rotated.
/// Deliveries carry a signature by each, so a receiver that still knows only the old
/// secret and one that already has the new one both verify them; a helpdesk's signed
/// request is accepted with any of them.
#[derive(Clone, Debug)]
pub struct SiteSecrets {
    newest_first: Vec<WebhookSecret>,
}

impl SiteSecrets {
    /// The secrets in this order, newest first; `None` when there are none or more than
    /// [`MAX_SECRETS_PER_SITE`].
    pub fn new(newest_first: Vec<WebhookSecret>) -> Option<SiteSecrets> {
        (1..=MAX_SECRETS_PER_SITE)
            .contains(&newest_first.len())
            .then_some(SiteSecrets { newest_first })
    }

    /// The `webhook-signature` header value for one attempt: one `v1,` signature per
    /// secret, space-separated, newest first.
    pub fn sign(&self, id: &str, timestamp: u64, body: &[u8]) -> String {
        let signatures: Vec<String> = self
            .newest_first
            .iter()
            .map(|secret| secret.sign(id, timestamp, body))
            .collect();
        signatures.join(" ")
    }

    /// Verifies a signed request as [`WebhookSecret::verify`] does, accepting a
    /// signature by any of the secrets; the timestamp is checked and the header read
    /// once for all of them.
    pub fn verify(
        &self,
        id: &str,
        timestamp: u64,
        signature_header: &str,
        body: &[u8],
        now: u64,
    ) -> Result<(), WebhookRejection> {
        check_fresh(timestamp, now)?;
        let tags = signature_tags(signature_header);
        if self
            .newest_first
            .iter()
            .any(|secret| secret.signed_one_of(&tags, id, timestamp, body))
        {
            Ok(())
        } else {
            Err(WebhookRejection::BadSignature)
        }
    }
}

/// Why a receiver refuses a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WebhookRejection {
    /// The timestamp is outside the tolerance window: a replay or a wrong clock.
    #[error("timestamp outside the tolerance window")]
    StaleTimestamp,
    /// No signature matched.
    #[error("no valid signature")]
    BadSignature,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret() -> WebhookSecret {
        // The example secret from the Standard Webhooks specification.
        WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap()
    }

    #[test]
    fn matches_the_specifications_test_vector() {
        let body = br#"{"test": 2432232314}"#;
        let signature = secret().sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body);
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn verifies_its_own_signatures_and_rejects_tampering() {
        let s = secret();
        let header = s.sign("msg_1", 1_000, b"{}");
        assert_eq!(s.verify("msg_1", 1_000, &header, b"{}", 1_010), Ok(()));
        assert_eq!(
            s.verify("msg_1", 1_000, &header, b"{ }", 1_010),
            Err(WebhookRejection::BadSignature)
        );
        assert_eq!(
            s.verify("msg_2", 1_000, &header, b"{}", 1_010),
            Err(WebhookRejection::BadSignature)
        );
        assert_eq!(
            s.verify("msg_1", 1_000, &header, b"{}", 1_000 + 301),
            Err(WebhookRejection::StaleTimestamp)
        );
    }

    #[test]
    fn accepts_any_of_several_signatures_during_key_rotation() {
        let s = secret();
        let header = format!("v1,bm9wZQ== {}", s.sign("m", 5, b"x"));
        assert_eq!(s.verify("m", 5, &header, b"x", 5), Ok(()));
        // Past the first few, a header's signatures are not tried.
        let padded = format!(
            "{}{}",
            "v1,bm9wZQ== ".repeat(MAX_SIGNATURES),
            s.sign("m", 5, b"x")
        );
        assert_eq!(
            s.verify("m", 5, &padded, b"x", 5),
            Err(WebhookRejection::BadSignature)
        );
    }

    #[test]
    fn a_rotating_site_signs_with_every_secret_and_accepts_any() {
        let old = secret();
        let new = WebhookSecret::from_key(vec![9; 32]);
        let rotating = SiteSecrets::new(vec![new.clone(), old.clone()]).unwrap();
        let header = rotating.sign("m", 5, b"x");
        // Receivers on either side of the rotation verify the same delivery.
        assert_eq!(old.verify("m", 5, &header, b"x", 5), Ok(()));
        assert_eq!(new.verify("m", 5, &header, b"x", 5), Ok(()));
        // Helpdesks signing with either secret are accepted; a stranger is not.
        for signer in [&old, &new] {
            let signed = signer.sign("r", 5, b"y");
            assert_eq!(rotating.verify("r", 5, &signed, b"y", 5), Ok(()));
        }
        let stranger = WebhookSecret::from_key(vec![1; 32]).sign("r", 5, b"y");
        assert_eq!(
            rotating.verify("r", 5, &stranger, b"y", 5),
            Err(WebhookRejection::BadSignature)
        );
        let stale = old.sign("r", 5, b"y");
        assert_eq!(
            rotating.verify("r", 5, &stale, b"y", 5 + TOLERANCE_SECONDS + 1),
            Err(WebhookRejection::StaleTimestamp)
        );
        assert!(SiteSecrets::new(Vec::new()).is_none());
        assert!(SiteSecrets::new(vec![old; MAX_SECRETS_PER_SITE + 1]).is_none());
    }

    #[test]
    fn a_timestamp_far_in_the_future_is_stale_not_a_panic() {
        let header = secret().sign("m", u64::MAX, b"x");
        assert_eq!(
            secret().verify("m", u64::MAX, &header, b"x", 1_000),
            Err(WebhookRejection::StaleTimestamp)
        );
    }

    #[test]
    fn refuses_secrets_without_prefix_or_too_short() {
        assert!(WebhookSecret::parse("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").is_err());
        assert!(WebhookSecret::parse("whsec_c2hvcnQ=").is_err());
        let err = WebhookSecret::parse("whsec_!!!").unwrap_err();
        assert!(!err.to_string().contains("!!!"));
    }

    #[test]
    fn debug_output_hides_the_key() {
        assert_eq!(format!("{:?}", secret()), "WebhookSecret(..)");
    }
}
