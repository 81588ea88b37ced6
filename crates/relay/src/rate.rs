//! Rate limits: token buckets, kept by the Durable Object that owns what they guard.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// How fast a bucket refills and how much it holds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    /// Requests allowed at once.
    pub burst: f64,
    /// Requests added back per second.
    pub per_second: f64,
}

impl RateLimit {
    /// Escalations from one visitor: three at once, then one every two minutes.
    pub const ESCALATIONS_PER_VISITOR: RateLimit = RateLimit {
        burst: 3.0,
        per_second: 1.0 / 120.0,
    };
    /// Escalations to one site: 600 at once, then 20 a second.
    pub const ESCALATIONS_PER_SITE: RateLimit = RateLimit {
        burst: 600.0,
        per_second: 20.0,
    };
    /// Messages from the customer in one conversation: 20 at once, then one a second.
    pub const CUSTOMER_MESSAGES: RateLimit = RateLimit {
        burst: 20.0,
        per_second: 1.0,
    };
}

/// One token bucket.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct TokenBucket {
    /// Requests already counted against the burst (0 means full).
    used: f64,
    /// When `used` was last brought up to date, ms since the Unix epoch.
    updated_at_ms: u64,
}

impl TokenBucket {
    /// Counts one request at `now_ms`, or says how many seconds until one is allowed.
    pub fn take(&mut self, limit: RateLimit, now_ms: u64) -> Result<(), u32> {
        let elapsed = now_ms.saturating_sub(self.updated_at_ms) as f64 / 1000.0;
        self.used = (self.used - elapsed * limit.per_second).max(0.0);
        self.updated_at_ms = now_ms;
        if self.used + 1.0 <= limit.burst {
            self.used += 1.0;
            Ok(())
        } else {
            let wait = (self.used + 1.0 - limit.burst) / limit.per_second;
            Err(wait.ceil().max(1.0) as u32)
        }
    }

    /// Whether the bucket is full again at `now_ms` (and can be forgotten).
    fn is_idle(&self, limit: RateLimit, now_ms: u64) -> bool {
        let elapsed = now_ms.saturating_sub(self.updated_at_ms) as f64 / 1000.0;
        self.used - elapsed * limit.per_second <= 0.0
    }
}

/// Buckets by key (a visitor id), dropping the ones that have refilled so storage
/// stays small.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct KeyedBuckets {
    buckets: BTreeMap<String, TokenBucket>,
}

impl KeyedBuckets {
    /// Counts one request for `key`, or says how many seconds until one is allowed.
    pub fn take(&mut self, key: &str, limit: RateLimit, now_ms: u64) -> Result<(), u32> {
        self.buckets
            .retain(|other, bucket| other == key || !bucket.is_idle(limit, now_ms));
        self.buckets
            .entry(key.to_owned())
            .or_default()
            .take(limit, now_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: RateLimit = RateLimit {
        burst: 3.0,
        per_second: 0.5,
    };

    #[test]
    fn allows_the_burst_then_says_when_to_retry() {
        let mut bucket = TokenBucket::default();
        for _ in 0..3 {
            assert_eq!(bucket.take(LIMIT, 1_000), Ok(()));
        }
        assert_eq!(bucket.take(LIMIT, 1_000), Err(2));
        // Two seconds later one token is back.
        assert_eq!(bucket.take(LIMIT, 3_000), Ok(()));
        assert!(bucket.take(LIMIT, 3_000).is_err());
    }

    #[test]
    fn visitors_have_separate_buckets_and_idle_ones_are_forgotten() {
        let mut buckets = KeyedBuckets::default();
        for _ in 0..3 {
            buckets.take("a", LIMIT, 0).unwrap();
        }
        assert!(buckets.take("a", LIMIT, 0).is_err());
        assert_eq!(buckets.take("b", LIMIT, 0), Ok(()));
        buckets.take("c", LIMIT, 60_000).unwrap();
        assert_eq!(buckets.buckets.len(), 1, "a and b have refilled");
    }

    #[test]
    fn the_published_limits_let_a_real_customer_through() {
        let mut visitor = TokenBucket::default();
        for minute in 0..3 {
            assert!(visitor
                .take(RateLimit::ESCALATIONS_PER_VISITOR, minute * 60_000)
                .is_ok());
        }
        let mut messages = TokenBucket::default();
        for second in 0..60 {
            assert!(messages
                .take(RateLimit::CUSTOMER_MESSAGES, second * 1_000)
                .is_ok());
        }
    }
}
