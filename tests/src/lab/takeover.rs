//! The timeline of one fault, as the lab follows it live: the fault, the new master's decision
//! and its VIP added (from its JSON log, read as the benchmark reads it:
//! `bench::timeline::MasterHops`), and the client's first reply from another node (the probe).
//! It fills in tick by tick without blocking the screen.
use std::time::Duration;

use crate::bench::{fault::Scenario, probe::Reply, timeline::MasterHops};

/// How long after a fault the lab waits for another node to answer before saying none did.
pub const ANSWER_PATIENCE: Duration = Duration::from_secs(10);
/// How long after the first reply the lab keeps reading the new master's log for its hops
/// (vipd logs them once the takeover's work is done).
pub const LOG_PATIENCE: Duration = Duration::from_secs(5);

#[derive(Clone, Debug)]
pub struct Takeover {
    pub scenario: Scenario,
    /// The node the fault hit: the one the client reached.
    pub old: u8,
    /// CLOCK_MONOTONIC ns of the fault, just before its system call.
    pub fault_ns: u64,
    /// The old master's last reply to the client before the first reply from another node.
    last_old_ns: Option<u64>,
    pub first_reply: Option<Reply>,
    /// The new master's hops, once its log has them.
    pub hops: MasterHops,
    /// Each node's log length at the fault: the new master's log is read from there on.
    logs_from: Vec<usize>,
    /// No other node answered within [`ANSWER_PATIENCE`].
    pub unanswered: bool,
}

/// What a tick's replies changed about a takeover.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Progress {
    Waiting,
    /// Another node answered for the first time.
    Answered,
    /// [`ANSWER_PATIENCE`] passed without another node answering.
    GaveUp,
}

impl Takeover {
    /// A fault on `old` at `fault_ns`; `last_old_ns` is its last reply seen so far and
    /// `logs_from` every node's log length before the fault.
    pub fn new(
        scenario: Scenario,
        old: u8,
        fault_ns: u64,
        last_old_ns: Option<u64>,
        logs_from: Vec<usize>,
    ) -> Self {
        Self {
            scenario,
            old,
            fault_ns,
            last_old_ns,
            first_reply: None,
            hops: MasterHops::default(),
            logs_from,
            unanswered: false,
        }
    }

    /// Follows the client's replies of one tick, ending at `now_ns`.
    pub fn observe(&mut self, replies: &[Reply], now_ns: u64) -> Progress {
        if self.first_reply.is_some() || self.unanswered {
            return Progress::Waiting;
        }
        for reply in replies {
            if reply.node != self.old && reply.at_ns > self.fault_ns {
                self.first_reply = Some(*reply);
                return Progress::Answered;
            }
            if reply.node == self.old {
                self.last_old_ns = Some(reply.at_ns);
            }
        }
        if now_ns.saturating_sub(self.fault_ns) > ANSWER_PATIENCE.as_nanos() as u64 {
            self.unanswered = true;
            return Progress::GaveUp;
        }
        Progress::Waiting
    }

    /// The node that answered the client after the fault.
    pub fn new_master(&self) -> Option<u8> {
        self.first_reply.map(|r| r.node)
    }

    /// The client's outage: its last reply from the old master to its first from the new one.
    pub fn outage_ns(&self) -> Option<u64> {
        let first = self.first_reply?;
        Some(first.at_ns - self.last_old_ns?)
    }

    /// Whether every point of the timeline is known.
    pub fn complete(&self) -> bool {
        self.first_reply.is_some()
            && self.hops.decision_ns.is_some()
            && self.hops.vip_added_ns.is_some()
    }

    /// The new master and where its log is to be read from, while its hops are still missing
    /// and [`LOG_PATIENCE`] has not passed since its first reply.
    pub fn log_wanted(&self, now_ns: u64) -> Option<(u8, usize)> {
        let first = self.first_reply?;
        let patient = now_ns.saturating_sub(first.at_ns) <= LOG_PATIENCE.as_nanos() as u64;
        (!self.complete() && patient).then(|| {
            let from = self.logs_from.get(usize::from(first.node) - 1).copied();
            (first.node, from.unwrap_or(0))
        })
    }

    /// Reads the new master's hops from `log`, its log since the fault.
    pub fn read_log(&mut self, log: &str) {
        self.hops = MasterHops::from_log(log);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    fn reply(node: u8, at_ns: u64) -> Reply {
        Reply {
            at_ns,
            node,
            ..Reply::default()
        }
    }

    #[test]
    fn the_first_reply_from_another_node_ends_the_outage() {
        let mut takeover = Takeover::new(Scenario::Cable, 1, 100 * MS, Some(99 * MS), vec![7, 9]);
        assert_eq!(
            takeover.observe(&[reply(1, 100 * MS + 10)], 150 * MS),
            Progress::Waiting
        );
        assert_eq!(takeover.log_wanted(150 * MS), None);
        let replies = [
            reply(1, 100 * MS + 20),
            reply(2, 101 * MS),
            reply(2, 102 * MS),
        ];
        assert_eq!(takeover.observe(&replies, 200 * MS), Progress::Answered);
        assert_eq!(takeover.new_master(), Some(2));
        assert_eq!(takeover.outage_ns(), Some(MS - 20));
        assert_eq!(takeover.log_wanted(200 * MS), Some((2, 9)));
        assert!(!takeover.complete());
        assert_eq!(
            takeover.observe(&[reply(1, 103 * MS)], 300 * MS),
            Progress::Waiting,
            "later replies change nothing"
        );
        assert_eq!(takeover.new_master(), Some(2));
    }

    #[test]
    fn a_reply_from_before_the_fault_is_no_takeover() {
        let mut takeover = Takeover::new(Scenario::Kill9, 1, 100 * MS, None, vec![0, 0]);
        assert_eq!(
            takeover.observe(&[reply(2, 99 * MS)], 150 * MS),
            Progress::Waiting
        );
        assert_eq!(takeover.new_master(), None);
    }

    #[test]
    fn gives_up_once_no_one_answered_for_long() {
        let mut takeover = Takeover::new(Scenario::Sigstop, 1, 0, None, vec![0, 0]);
        let late = ANSWER_PATIENCE.as_nanos() as u64 + 1;
        assert_eq!(takeover.observe(&[], late), Progress::GaveUp);
        assert!(takeover.unanswered);
        assert_eq!(takeover.observe(&[reply(2, late)], late), Progress::Waiting);
    }

    #[test]
    fn the_log_completes_the_timeline_and_is_read_no_more() {
        let mut takeover = Takeover::new(Scenario::Cable, 1, 100 * MS, None, vec![0, 0]);
        takeover.observe(&[reply(2, 101 * MS)], 101 * MS);
        takeover.read_log(concat!(
            r#"{"timestamp":"2026-12-06T12:00:00.000000Z","level":"INFO","fields":{"message":"state changed","to":"Master","at_mono_ns":100500000},"target":"vipd"}"#,
            "\n",
            r#"{"timestamp":"2026-12-06T12:00:00.000000Z","level":"INFO","fields":{"message":"VIP added","at_mono_ns":100600000},"target":"vipd"}"#,
            "\n"
        ));
        assert_eq!(takeover.hops.decision_ns, Some(100_500_000));
        assert_eq!(takeover.hops.vip_added_ns, Some(100_600_000));
        assert!(takeover.complete());
        assert_eq!(takeover.log_wanted(102 * MS), None);
    }

    #[test]
    fn stops_reading_the_log_after_a_while() {
        let mut takeover = Takeover::new(Scenario::Cable, 1, 0, None, vec![0, 0]);
        takeover.observe(&[reply(2, MS)], MS);
        assert!(takeover.log_wanted(MS).is_some());
        let late = MS + LOG_PATIENCE.as_nanos() as u64 + 1;
        assert_eq!(takeover.log_wanted(late), None);
    }
}
