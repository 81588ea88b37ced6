//! Whether a customer still has their chat open: what agents see on a waiting card and
//! in the open conversation ("Customer is here" / "Customer left the chat").
//!
//! The conversation's object reports each change of its customer's live channel (a
//! WebSocket opened, the last one closed) with the time it happened; the queue keeps the
//! latest report as a [`CustomerChannel`] and turns it into a [`CustomerPresence`] when
//! an agent asks. A page change or a reload on the shop drops the channel for a moment
//! (the new page's chat connects again within seconds, the widget retrying after 1, 2, 4
//! and 8 s if it fails), so a customer counts as gone only after a grace period.

use baton_protocol::CustomerPresence;
use serde::{Deserialize, Serialize};

/// How long a customer's chat may be disconnected before agents are told they left
/// (`BATON_CUSTOMER_GRACE_MS` changes it): longer than a page change or a reload, and
/// than the widget's first few reconnection attempts after a network blip.
pub const DEFAULT_CUSTOMER_GRACE_MS: u64 = 30_000;

/// The customer's live channel, as the conversation last reported it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerChannel {
    /// Whether at least one of the customer's chats (tabs) was connected.
    pub connected: bool,
    /// When that became so, in milliseconds since the Unix epoch.
    pub at_ms: u64,
}

impl CustomerChannel {
    /// Takes a report into `kept`. Reports can arrive out of order (a reload's new
    /// connection and the old page's close race each other): one older than what is
    /// kept is ignored. A second "disconnected" keeps the first one's time, so "left at"
    /// is when the customer's last chat went. Returns whether `kept` changed.
    pub fn record(kept: &mut Option<CustomerChannel>, report: CustomerChannel) -> bool {
        match kept {
            Some(current) if report.at_ms < current.at_ms || *current == report => false,
            Some(current) if !current.connected && !report.connected => false,
            _ => {
                *kept = Some(report);
                true
            }
        }
    }

    /// What agents are told at `now_ms`: here while connected or disconnected for less
    /// than `grace_ms`, else left (at the time the channel went).
    pub fn presence(&self, now_ms: u64, grace_ms: u64) -> CustomerPresence {
        if self.connected || now_ms.saturating_sub(self.at_ms) < grace_ms {
            CustomerPresence::Here
        } else {
            CustomerPresence::Left {
                left_at_ms: self.at_ms,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GRACE: u64 = DEFAULT_CUSTOMER_GRACE_MS;

    fn channel(connected: bool, at_ms: u64) -> CustomerChannel {
        CustomerChannel { connected, at_ms }
    }

    #[test]
    fn a_connected_customer_is_here() {
        assert_eq!(
            channel(true, 0).presence(10 * GRACE, GRACE),
            CustomerPresence::Here
        );
    }

    #[test]
    fn a_reload_gap_is_not_leaving() {
        let gone = channel(false, 100_000);
        assert_eq!(gone.presence(100_000, GRACE), CustomerPresence::Here);
        assert_eq!(
            gone.presence(100_000 + GRACE - 1, GRACE),
            CustomerPresence::Here,
            "still within the grace period"
        );
        assert_eq!(
            gone.presence(100_000 + GRACE, GRACE),
            CustomerPresence::Left {
                left_at_ms: 100_000
            },
            "left when the channel went, not when the grace ran out"
        );
    }

    #[test]
    fn reports_out_of_order_keep_the_latest_state() {
        let mut kept = None;
        assert!(CustomerChannel::record(&mut kept, channel(true, 1_000)));
        // A reload: the old page's close (at 4,000) is reported after the new page's
        // connection (at 5,000).
        assert!(CustomerChannel::record(&mut kept, channel(true, 5_000)));
        assert!(!CustomerChannel::record(&mut kept, channel(false, 4_000)));
        assert!(!CustomerChannel::record(&mut kept, channel(true, 5_000)));
        assert_eq!(kept, Some(channel(true, 5_000)));
        // The tab closes; a second close (another tab) later keeps the first time.
        assert!(CustomerChannel::record(&mut kept, channel(false, 9_000)));
        assert!(!CustomerChannel::record(&mut kept, channel(false, 9_500)));
        assert_eq!(
            kept.map(|c| c.presence(9_000 + GRACE, GRACE)),
            Some(CustomerPresence::Left { left_at_ms: 9_000 })
        );
        // They come back.
        assert!(CustomerChannel::record(&mut kept, channel(true, 60_000)));
        assert_eq!(
            kept.map(|c| c.presence(500_000, GRACE)),
            Some(CustomerPresence::Here)
        );
    }
}
