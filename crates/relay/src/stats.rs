//! Content-free counters for a site's analytics.

use baton_protocol::{EscalationReason, SiteAnalytics};
use serde::{Deserialize, Serialize};

/// How many first-reply times are kept for the median.
const FIRST_REPLY_HISTORY: usize = 500;

/// A site's running totals. Holds numbers only, never text.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SiteStats {
    analytics: SiteAnalytics,
    first_reply_seconds: Vec<u64>,
    csat_sum: u64,
}

impl SiteStats {
    /// A conversation was handed to a person.
    pub fn record_escalation(&mut self, reasons: &[EscalationReason]) {
        self.analytics.escalated += 1;
        for reason in reasons {
            *self
                .analytics
                .escalated_by_reason
                .entry(*reason)
                .or_default() += 1;
        }
    }

    /// A person replied for the first time, `seconds` after the escalation.
    pub fn record_first_reply(&mut self, seconds: u64) {
        self.first_reply_seconds.push(seconds);
        let excess = self
            .first_reply_seconds
            .len()
            .saturating_sub(FIRST_REPLY_HISTORY);
        self.first_reply_seconds.drain(..excess);
    }

    /// An agent closed a conversation.
    pub fn record_resolved(&mut self) {
        self.analytics.resolved += 1;
    }

    /// A customer rated a conversation 1 to 5.
    pub fn record_csat(&mut self, rating: u8) {
        self.analytics.csat_count += 1;
        self.csat_sum += u64::from(rating);
    }

    /// A customer said whether a knowledge-base answer helped.
    pub fn record_bot_feedback(&mut self, helpful: bool) {
        if helpful {
            self.analytics.bot_answers_helpful += 1;
        } else {
            self.analytics.bot_answers_unhelpful += 1;
        }
    }

    /// The numbers as the API reports them.
    pub fn analytics(&self) -> SiteAnalytics {
        let mut analytics = self.analytics.clone();
        let mut times = self.first_reply_seconds.clone();
        times.sort_unstable();
        analytics.median_first_reply_seconds = times.get(times.len() / 2).copied();
        analytics.csat_average =
            (analytics.csat_count > 0).then(|| self.csat_sum as f32 / analytics.csat_count as f32);
        analytics
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_reasons_medians_and_averages() {
        let mut stats = SiteStats::default();
        stats.record_escalation(&[EscalationReason::SensitiveIntent]);
        stats.record_escalation(&[
            EscalationReason::SensitiveIntent,
            EscalationReason::Frustration,
        ]);
        for seconds in [30, 10, 600] {
            stats.record_first_reply(seconds);
        }
        stats.record_csat(5);
        stats.record_csat(2);
        stats.record_bot_feedback(true);
        stats.record_bot_feedback(false);
        stats.record_bot_feedback(true);
        let analytics = stats.analytics();
        assert_eq!(analytics.escalated, 2);
        assert_eq!(
            analytics.escalated_by_reason[&EscalationReason::SensitiveIntent],
            2
        );
        assert_eq!(
            analytics.escalated_by_reason[&EscalationReason::Frustration],
            1
        );
        assert_eq!(analytics.median_first_reply_seconds, Some(30));
        assert_eq!(analytics.csat_average, Some(3.5));
        assert_eq!(
            (
                analytics.bot_answers_helpful,
                analytics.bot_answers_unhelpful
            ),
            (2, 1)
        );
    }

    #[test]
    fn empty_stats_have_no_median_or_average() {
        let analytics = SiteStats::default().analytics();
        assert_eq!(analytics.median_first_reply_seconds, None);
        assert_eq!(analytics.csat_average, None);
    }
}
