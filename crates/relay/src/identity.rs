//! Identity verification: a site proves who its signed-in customer is.
//!
//! The site's server computes `hex(HMAC-SHA256(identity_secret, user_id))` and puts it
//! in the page (`Baton.identify({id, name, email, hash})`). The edge recomputes it; a
//! customer cannot claim someone else's id without the site's secret.

use baton_protocol::CustomerIdentity;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::error::{RelayError, RelayErrorKind};

/// Longest user id, name or email accepted, in bytes.
const MAX_IDENTITY_FIELD: usize = 254;

/// Checks the identity's shape, then its hash against the site's secret.
pub fn verify_identity(identity: &CustomerIdentity, secret: &str) -> Result<(), RelayError> {
    for (value, field) in [
        (&identity.id, "identity.id"),
        (&identity.name, "identity.name"),
        (&identity.email, "identity.email"),
    ] {
        if value.len() > MAX_IDENTITY_FIELD {
            return Err(RelayError::new(RelayErrorKind::TooLong, field));
        }
    }
    if identity.id.is_empty() {
        return Err(RelayError::new(RelayErrorKind::Empty, "identity.id"));
    }
    let presented = hex::decode(&identity.hash)
        .map_err(|_| RelayError::new(RelayErrorKind::IdentityInvalid, "identity.hash"))?;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
        .map_err(|_| RelayError::new(RelayErrorKind::BadConfig, "BATON_IDENTITY_SECRETS"))?;
    mac.update(identity.id.as_bytes());
    // `verify_slice` compares in constant time.
    mac.verify_slice(&presented)
        .map_err(|_| RelayError::new(RelayErrorKind::IdentityInvalid, "identity.hash"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "demo-identity-secret-0123456789";

    fn identity(hash: &str) -> CustomerIdentity {
        CustomerIdentity {
            id: "user-42".into(),
            name: "Ada".into(),
            email: "ada@example.com".into(),
            hash: hash.into(),
        }
    }

    #[test]
    fn accepts_the_hash_the_site_computed() {
        // python3: hmac.new(SECRET, b"user-42", sha256).hexdigest()
        let hash = "3fb4a1a2214e90d782b59abac549ba4e0a8f787e27ea51d9b1331e1b31b6abbd";
        assert_eq!(verify_identity(&identity(hash), SECRET), Ok(()));
    }

    #[test]
    fn refuses_a_forged_or_malformed_hash() {
        let forged = "3fb4a1a2214e90d782b59abac549ba4e0a8f787e27ea51d9b1331e1b31b6abbe";
        for hash in [forged, "", "zz", &"0".repeat(64)] {
            let err = verify_identity(&identity(hash), SECRET).unwrap_err();
            assert_eq!(err.code(), "identity_invalid");
            assert_eq!(err.field, "identity.hash");
        }
        let mut other_user =
            identity("3fb4a1a2214e90d782b59abac549ba4e0a8f787e27ea51d9b1331e1b31b6abbd");
        other_user.id = "user-43".into();
        assert!(verify_identity(&other_user, SECRET).is_err());
    }
}
