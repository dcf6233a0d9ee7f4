//! A fault and the outage it caused: the takeover as the client saw it, from the fault to the
//! first answer from another node (as `cargo xtask bench takeover` measures it).
use super::outage::Outage;

/// The outage in which the VIP left the node that answered at `fault_ns` (CLOCK_MONOTONIC):
/// the index of the first change of hands after it. `outages` are in order and hold every
/// change of hands, so the node answering at any moment is the `before` of the first outage
/// ending after it. `None`: no other node has answered since the fault (yet).
pub fn after_fault(outages: &[Outage], fault_ns: u64) -> Option<usize> {
    let first = outages.iter().position(|o| o.end_ns > fault_ns)?;
    let holder = outages[first].before;
    let moved = outages[first..].iter().position(|o| o.after != holder)?;
    Some(first + moved)
}

/// Fault to first answer from the new node, in microseconds.
pub fn takeover_us(outage: &Outage, fault_ns: u64) -> f64 {
    (outage.end_ns as f64 - fault_ns as f64) / 1e3
}

/// The same without the new node's responder's own turnaround: what the network and the
/// failover cost.
pub fn network_takeover_us(outage: &Outage, fault_ns: u64) -> f64 {
    takeover_us(outage, fault_ns) - outage.turnaround_ns as f64 / 1e3
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::probe::Responder;

    fn outage(start_ms: u64, end_ms: u64, before: u16, after: u16) -> Outage {
        Outage {
            start_ns: start_ms * 1_000_000,
            end_ns: end_ms * 1_000_000,
            lost: 1,
            before: Responder(before),
            after: Responder(after),
            turnaround_ns: 0,
        }
    }

    #[test]
    fn the_first_change_of_hands_after_the_fault_is_its_takeover() {
        let outages = [
            outage(10, 11, 0, 1),
            outage(20, 25, 1, 0),
            // The fault at 100 ms; node 0 first loses probes but answers again, then node 1.
            outage(101, 103, 0, 0),
            outage(104, 110, 0, 1),
            outage(200, 201, 1, 0),
        ];
        let found = after_fault(&outages, 100_000_000).unwrap();
        assert_eq!(found, 3);
        assert_eq!(takeover_us(&outages[found], 100_000_000), 10_000.0);
    }

    #[test]
    fn a_fault_inside_a_gap_belongs_to_that_gap() {
        let outages = [outage(10, 20, 0, 1)];
        assert_eq!(after_fault(&outages, 15_000_000), Some(0));
        assert_eq!(
            after_fault(&outages, 20_000_000),
            None,
            "nothing moved since"
        );
    }
}
