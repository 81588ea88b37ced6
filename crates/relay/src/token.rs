//! Comparing secrets without leaking how much of them matched.

/// Whether a presented token equals the expected one, in time that depends only on
/// their lengths.
pub fn tokens_match(presented: &str, expected: &str) -> bool {
    let (a, b) = (presented.as_bytes(), expected.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_tokens_match_and_others_do_not() {
        assert!(tokens_match("secret-token", "secret-token"));
        assert!(!tokens_match("secret-tokem", "secret-token"));
        assert!(!tokens_match("secret", "secret-token"));
        assert!(!tokens_match("", "secret-token"));
    }
}
