//! Outages in the probe's record. An outage is the gap between two consecutive answers that
//! either changed hands (another node answered: the VIP moved, however short the gap) or lost
//! probes for at least the threshold. Gaps with no probe lost are the client's own lateness
//! (its sender or receiver woke late), not the VIP's, and are not outages.
use super::probe::{Reply, Responder};

/// One outage, on CLOCK_MONOTONIC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outage {
    /// The last answer before the gap.
    pub start_ns: u64,
    /// The first answer after it.
    pub end_ns: u64,
    /// Probes sent between the two that were never answered.
    pub lost: u64,
    /// Who answered before, and after.
    pub before: Responder,
    pub after: Responder,
    /// How long the responder took over the first answer after the gap (its own wake-up, not
    /// the network's or the failover's; see [`super::echo`]).
    pub turnaround_ns: u64,
}

impl Outage {
    pub fn length_ns(&self) -> u64 {
        self.end_ns - self.start_ns
    }

    /// Whether the VIP moved to another node.
    pub fn moved(&self) -> bool {
        self.before != self.after
    }
}

/// Finds outages in answers fed in the order they arrived.
pub struct Detector {
    threshold_ns: u64,
    last: Option<Reply>,
}

impl Detector {
    /// Reports gaps that lost probes for at least `threshold_ns`, and every change of hands.
    pub fn new(threshold_ns: u64) -> Self {
        Self {
            threshold_ns,
            last: None,
        }
    }

    /// The outage that ended with `reply`, if any.
    pub fn feed(&mut self, reply: Reply) -> Option<Outage> {
        let Some(last) = self.last else {
            self.last = Some(reply);
            return None;
        };
        if reply.seq <= last.seq {
            // A late or duplicated answer to a probe already answered: it says nothing new.
            return None;
        }
        self.last = Some(reply);
        let outage = Outage {
            start_ns: last.at_ns,
            end_ns: reply.at_ns.max(last.at_ns),
            lost: reply.seq - last.seq - 1,
            before: last.responder,
            after: reply.responder,
            turnaround_ns: reply.turnaround_ns(),
        };
        let lost_long = outage.lost > 0 && outage.length_ns() >= self.threshold_ns;
        (lost_long || outage.moved()).then_some(outage)
    }

    /// The last answer so far (an outage still going on started there).
    pub fn last(&self) -> Option<Reply> {
        self.last
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(at_us: u64, seq: u64, node: u16) -> Reply {
        Reply {
            at_ns: at_us * 1_000,
            seq,
            responder: Responder(node),
            ..Reply::default()
        }
    }

    #[test]
    fn a_long_loss_is_an_outage_and_a_late_client_is_not() {
        let mut detector = Detector::new(1_000_000);
        assert_eq!(detector.feed(reply(0, 0, 0)), None);
        assert_eq!(detector.feed(reply(20, 1, 0)), None);
        // 5 ms without an answer, but no probe lost: the client itself was late.
        assert_eq!(detector.feed(reply(5_020, 2, 0)), None);
        // 500 us lost: below the threshold.
        assert_eq!(detector.feed(reply(5_540, 28, 0)), None);
        let outage = detector.feed(reply(8_540, 178, 0)).expect("3 ms lost");
        assert_eq!(outage.length_ns(), 3_000_000);
        assert_eq!(outage.lost, 149);
        assert!(!outage.moved());
    }

    #[test]
    fn a_change_of_hands_is_an_outage_however_short() {
        let mut detector = Detector::new(1_000_000);
        detector.feed(reply(0, 0, 0));
        let outage = detector.feed(reply(20, 1, 1)).expect("the VIP moved");
        assert_eq!(
            (outage.before, outage.after, outage.lost),
            (Responder(0), Responder(1), 0)
        );
        assert_eq!(outage.length_ns(), 20_000);
    }

    #[test]
    fn late_answers_to_old_probes_are_ignored() {
        let mut detector = Detector::new(1_000_000);
        detector.feed(reply(0, 10, 0));
        assert_eq!(detector.feed(reply(30, 9, 1)), None);
        assert_eq!(detector.last().map(|r| r.seq), Some(10));
    }
}
