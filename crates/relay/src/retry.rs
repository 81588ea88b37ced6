//! At-least-once delivery: when to try a webhook again, and when to give up.
//!
//! The default schedule follows Standard Webhooks: immediately, then after 5 s, 5 min,
//! 30 min, 2 h, 5 h, 10 h, 14 h, 20 h and 24 h. After the last attempt the delivery is
//! dead-lettered (kept, visible and replayable; the conversation stays in the built-in
//! queue). The schedule is data, so tests compress it.

use serde::{Deserialize, Serialize};

/// Seconds to wait before each attempt; the first entry is the first attempt's delay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetrySchedule {
    /// Delays before attempt 1, 2, ... in milliseconds.
    pub delays_ms: Vec<u64>,
}

impl Default for RetrySchedule {
    fn default() -> Self {
        const SECOND: u64 = 1_000;
        const MINUTE: u64 = 60 * SECOND;
        const HOUR: u64 = 60 * MINUTE;
        RetrySchedule {
            delays_ms: vec![
                0,
                5 * SECOND,
                5 * MINUTE,
                30 * MINUTE,
                2 * HOUR,
                5 * HOUR,
                10 * HOUR,
                14 * HOUR,
                20 * HOUR,
                24 * HOUR,
            ],
        }
    }
}

/// What one attempt came back with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// A 2xx answer.
    Delivered,
    /// 410 Gone: the receiver wants no more deliveries; stop at once.
    Gone,
    /// Any other answer, a timeout or a network error; `retry_after_ms` from a
    /// `Retry-After` header (429, 503), if any.
    Failed {
        /// The receiver's requested wait, in milliseconds.
        retry_after_ms: Option<u64>,
    },
}

/// What to do after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextStep {
    /// Delivered: nothing more to do.
    Done,
    /// Try again at this time (milliseconds since the Unix epoch).
    RetryAt(u64),
    /// No attempts left, or the receiver said Gone: keep it as dead-lettered.
    DeadLetter,
}

impl RetrySchedule {
    /// A schedule from comma-separated milliseconds, e.g. `"0,100,200"` (for tests).
    pub fn parse(text: &str) -> Option<RetrySchedule> {
        let delays_ms = text
            .split(',')
            .map(|part| part.trim().parse::<u64>().ok())
            .collect::<Option<Vec<_>>>()?;
        (!delays_ms.is_empty()).then_some(RetrySchedule { delays_ms })
    }

    /// How many attempts the schedule allows.
    pub fn attempts(&self) -> usize {
        self.delays_ms.len()
    }

    /// When the first attempt is due for an escalation created at `created_ms`.
    pub fn first_attempt_at(&self, created_ms: u64) -> u64 {
        created_ms + self.delays_ms.first().copied().unwrap_or(0)
    }

    /// Decides after attempt number `attempt` (1-based) ended with `outcome` at `now_ms`.
    /// A `Retry-After` longer than the schedule's next delay wins.
    pub fn next_step(&self, attempt: usize, outcome: AttemptOutcome, now_ms: u64) -> NextStep {
        match outcome {
            AttemptOutcome::Delivered => NextStep::Done,
            AttemptOutcome::Gone => NextStep::DeadLetter,
            AttemptOutcome::Failed { retry_after_ms } => match self.delays_ms.get(attempt) {
                None => NextStep::DeadLetter,
                Some(&delay) => NextStep::RetryAt(now_ms + delay.max(retry_after_ms.unwrap_or(0))),
            },
        }
    }
}

/// Reads a `Retry-After` header given in seconds; HTTP dates and nonsense give `None`.
pub fn parse_retry_after(value: &str) -> Option<u64> {
    let seconds: u64 = value.trim().parse().ok()?;
    // A receiver asking for more than a day is capped by the schedule's own horizon.
    Some(seconds.min(24 * 60 * 60) * 1_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_schedule_is_the_standard_one() {
        let schedule = RetrySchedule::default();
        assert_eq!(schedule.attempts(), 10);
        assert_eq!(
            schedule.next_step(
                1,
                AttemptOutcome::Failed {
                    retry_after_ms: None
                },
                0
            ),
            NextStep::RetryAt(5_000)
        );
        assert_eq!(
            schedule.next_step(
                2,
                AttemptOutcome::Failed {
                    retry_after_ms: None
                },
                0
            ),
            NextStep::RetryAt(300_000)
        );
        assert_eq!(
            schedule.next_step(
                10,
                AttemptOutcome::Failed {
                    retry_after_ms: None
                },
                0
            ),
            NextStep::DeadLetter
        );
    }

    #[test]
    fn retry_after_wins_when_longer_and_gone_stops_at_once() {
        let schedule = RetrySchedule::default();
        let failed = |ms| AttemptOutcome::Failed {
            retry_after_ms: Some(ms),
        };
        assert_eq!(
            schedule.next_step(1, failed(60_000), 1_000),
            NextStep::RetryAt(61_000)
        );
        assert_eq!(
            schedule.next_step(1, failed(1_000), 1_000),
            NextStep::RetryAt(6_000)
        );
        assert_eq!(
            schedule.next_step(1, AttemptOutcome::Gone, 0),
            NextStep::DeadLetter
        );
        assert_eq!(
            schedule.next_step(3, AttemptOutcome::Delivered, 0),
            NextStep::Done
        );
    }

    #[test]
    fn compressed_schedules_parse_for_tests() {
        let schedule = RetrySchedule::parse("0, 100,250").unwrap();
        assert_eq!(schedule.delays_ms, vec![0, 100, 250]);
        assert!(RetrySchedule::parse("").is_none());
        assert!(RetrySchedule::parse("1,x").is_none());
    }

    #[test]
    fn retry_after_reads_seconds_only() {
        assert_eq!(parse_retry_after(" 120 "), Some(120_000));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        assert_eq!(parse_retry_after("999999999"), Some(86_400_000));
    }
}
