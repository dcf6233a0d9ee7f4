//! Property tests: random schedules of crashes, restarts, losses, partitions and priority
//! changes, checked against the protocol's invariants.

use std::time::Duration;

use proptest::prelude::*;

use super::*;
use crate::vrrp::config::Version;
use crate::vrrp::timers;

const INTERVAL: Duration = Duration::from_millis(100);
const DELAY: Duration = Duration::from_millis(1);

#[derive(Debug, Clone)]
enum Event {
    Crash(usize),
    Restart(usize),
    Shutdown(usize),
    SetPriority(usize, u8),
    Loss(f64),
    Partition(Vec<bool>),
    Heal,
}

impl Event {
    /// Whether the event disturbs the network (loss or partition) for what follows.
    fn spoils_network(&self) -> bool {
        matches!(self, Event::Loss(p) if *p > 0.0) || matches!(self, Event::Partition(_))
    }
}

fn event(n: usize) -> impl Strategy<Value = Event> {
    prop_oneof![
        3 => (0..n).prop_map(Event::Crash),
        3 => (0..n).prop_map(Event::Restart),
        1 => (0..n).prop_map(Event::Shutdown),
        3 => (0..n, 1u8..=254).prop_map(|(i, p)| Event::SetPriority(i, p)),
        1 => (0.0..0.7f64).prop_map(Event::Loss),
        1 => Just(Event::Loss(0.0)),
        1 => prop::collection::vec(any::<bool>(), n).prop_map(Event::Partition),
        2 => Just(Event::Heal),
    ]
}

/// A group of 2 to 8 routers, and a schedule of (wait, event) steps.
fn scenario() -> impl Strategy<Value = (Vec<u8>, Vec<(u64, Event)>, u64)> {
    (2usize..=8).prop_flat_map(|n| {
        (
            prop::collection::vec(1u8..=254, n),
            prop::collection::vec((0u64..2_000, event(n)), 0..24),
            any::<u64>(),
        )
    })
}

fn apply(sim: &mut Sim, e: &Event) {
    match e {
        Event::Crash(i) => {
            if sim.nodes[*i].alive {
                sim.crash(*i)
            }
        }
        Event::Restart(i) => {
            if !sim.nodes[*i].alive {
                sim.restart(*i)
            }
        }
        Event::Shutdown(i) => {
            if sim.nodes[*i].alive {
                sim.shutdown(*i)
            }
        }
        Event::SetPriority(i, p) => sim.set_priority(*i, *p),
        Event::Loss(p) => sim.set_loss_all(*p),
        Event::Partition(sides) => {
            let side: Vec<usize> = (0..sides.len()).filter(|i| sides[*i]).collect();
            sim.partition(&side);
        }
        Event::Heal => sim.heal(),
    }
}

fn mdi(priority: u8) -> Duration {
    timers::master_down_interval(Version::V3, priority, INTERVAL)
}

proptest! {
    /// Whatever happens, once the network is clean again the group converges to exactly one
    /// master of the best live priority, and everyone agrees; a clean crash of the sole master
    /// is repaired within Master_Down_Interval plus link delay; a heal ends any split brain
    /// within one Master_Down_Interval.
    #[test]
    fn random_schedules_keep_the_invariants((priorities, schedule, seed) in scenario()) {
        let mut sim = Sim::new(group(&priorities, INTERVAL), DELAY, seed);
        sim.start_all();
        sim.run_for(INTERVAL * 12);
        let max_mdi = mdi(1);
        let min_mdi = mdi(254);
        let mut clean = true;
        for (k, (wait_ms, e)) in schedule.iter().enumerate() {
            sim.run_for(Duration::from_millis(*wait_ms));
            let masters_before = sim.current_masters();
            let at = sim.now;
            apply(&mut sim, e);
            let was_clean = clean;
            clean = match e {
                Event::Heal => !sim_has_loss(&schedule[..=k]),
                Event::Loss(p) => *p == 0.0 && !sim_has_partition(&schedule[..=k]),
                other => clean && !other.spoils_network(),
            };
            // The next step's wait: nothing else happens before it.
            let quiet = schedule.get(k + 1).map_or(Duration::MAX, |(w, _)| Duration::from_millis(*w));

            // A clean crash of the sole master: someone takes over in time.
            if let Event::Crash(i) = e {
                if was_clean && masters_before == vec![*i] && quiet > max_mdi + DELAY {
                    if let Some(next) = sim.expected_master() {
                        let bound = mdi(sim.nodes[next].router.effective_priority()) + DELAY;
                        sim.run_for(bound);
                        prop_assert!(
                            !sim.current_masters().is_empty(),
                            "no master {bound:?} after the crash of {i} at {at}"
                        );
                        continue;
                    }
                }
            }
            // A heal into a clean network: the split brain in progress at the heal ends within
            // one Master_Down_Interval. (Overlaps that start later, e.g. equal priorities
            // electing themselves at the same instant, are not the partition's.)
            if matches!(e, Event::Heal) && clean && quiet > min_mdi {
                sim.run_for(min_mdi);
                if let Some(end) = sim.split_brain_end(at) {
                    let lasted = end.map(|end| end.saturating_duration_since(at));
                    prop_assert!(
                        lasted.is_some_and(|d| d <= min_mdi),
                        "split brain at the heal at {at} lasted {lasted:?}"
                    );
                }
            }
        }
        // Clean up the network and let things settle.
        sim.heal();
        sim.set_loss_all(0.0);
        sim.run_for(max_mdi * 3 + INTERVAL * 4);
        prop_assert_eq!(sim.drops, 0);
        match sim.expected_master() {
            None => prop_assert!(sim.current_masters().is_empty()),
            Some(best) => {
                // Equal priorities do not preempt each other (RFC 9568 (420): "greater than
                // or equal"), so any router of the best priority is a correct master.
                let masters = sim.current_masters();
                prop_assert_eq!(masters.len(), 1, "masters {:?}", masters);
                let master = masters[0];
                let priority = |i: usize| sim.nodes[i].router.effective_priority();
                prop_assert_eq!(priority(master), priority(best));
                for (i, n) in sim.nodes.iter().enumerate() {
                    if n.alive && i != master {
                        prop_assert_eq!(n.router.state(), State::Backup);
                        prop_assert_eq!(n.router.current_master(), Some(node_addr(master)));
                        prop_assert!(!n.holds_vips);
                    }
                }
                prop_assert!(sim.nodes[master].holds_vips);
            }
        }
    }

    /// One router's priority flapping at random cannot move the master more often than
    /// once per (shortest possible) Master_Down_Interval.
    #[test]
    fn a_flapping_priority_cannot_outpace_master_down_interval(
        priorities in prop::collection::vec(1u8..=254, 2..=5),
        flaps in prop::collection::vec((0u64..1_000, 1u8..=254), 1..60),
        seed in any::<u64>(),
    ) {
        let mut sim = Sim::new(group(&priorities, INTERVAL), DELAY, seed);
        sim.start_all();
        sim.run_for(INTERVAL * 12);
        let settled_at = sim.now;
        let flapper = priorities.len() - 1;
        for (wait_ms, p) in &flaps {
            sim.set_priority(flapper, *p);
            sim.run_for(Duration::from_millis(*wait_ms));
        }
        let floor = mdi(254);
        let changes = sim.master_changes(settled_at);
        for w in changes.windows(2) {
            let gap = w[1].0.saturating_duration_since(w[0].0);
            prop_assert!(gap >= floor, "master changed after {:?}: {:?}", gap, w);
        }
    }
}

fn sim_has_loss(history: &[(u64, Event)]) -> bool {
    history
        .iter()
        .rev()
        .find_map(|(_, e)| match e {
            Event::Loss(p) => Some(*p > 0.0),
            _ => None,
        })
        .unwrap_or(false)
}

fn sim_has_partition(history: &[(u64, Event)]) -> bool {
    history
        .iter()
        .rev()
        .find_map(|(_, e)| match e {
            Event::Partition(_) => Some(true),
            Event::Heal => Some(false),
            _ => None,
        })
        .unwrap_or(false)
}
