//! Scenario tests on the simulator with 2, 3 and 8 routers.

use std::time::Duration;

use super::*;
use crate::vrrp::config::{Preempt, Version};
use crate::vrrp::timers;

const SEC: Duration = Duration::from_secs(1);
const DELAY: Duration = Duration::from_millis(1);

fn priorities(n: usize) -> Vec<u8> {
    // Distinct, not sorted, so the winner is not simply the first or last node.
    [100, 200, 150, 50, 120, 180, 90, 160][..n].to_vec()
}

fn settled(priorities: &[u8], interval: Duration, seed: u64) -> Sim {
    let mut sim = Sim::new(group(priorities, interval), DELAY, seed);
    sim.start_all();
    sim.run_for(interval * 12);
    sim
}

fn mdi(priority: u8, interval: Duration) -> Duration {
    timers::master_down_interval(Version::V3, priority, interval)
}

/// The one master is `expected`, every live backup agrees, and only it holds the addresses.
fn assert_single_master(sim: &Sim, expected: usize) {
    assert_eq!(sim.current_masters(), vec![expected]);
    for (i, n) in sim.nodes.iter().enumerate() {
        if !n.alive {
            continue;
        }
        assert_eq!(n.holds_vips, i == expected, "node {i} vips");
        if i != expected {
            assert_eq!(n.router.state(), State::Backup, "node {i}");
            assert_eq!(
                n.router.current_master(),
                Some(node_addr(expected)),
                "node {i}"
            );
        }
    }
    assert_eq!(sim.drops, 0);
}

#[test]
fn highest_priority_becomes_master() {
    for n in [2, 3, 8] {
        let p = priorities(n);
        let sim = settled(&p, SEC, 1);
        assert_eq!(sim.expected_master(), Some(1));
        assert_single_master(&sim, 1);
        // Only the winner ever became master: the others' longer skew lets its first
        // advert arrive in time.
        assert!(sim
            .transitions
            .iter()
            .all(|t| t.to != State::Master || t.node == 1));
    }
}

#[test]
fn equal_priorities_elect_the_highest_address() {
    let sim = settled(&[100, 100, 100], SEC, 2);
    assert_single_master(&sim, 2);
}

#[test]
fn after_a_master_crash_the_next_takes_over_within_master_down_interval() {
    for n in [2, 3, 8] {
        let p = priorities(n);
        let mut sim = settled(&p, SEC, 3);
        // Crash between two adverts.
        sim.run_for(Duration::from_millis(370));
        let crash = sim.now;
        sim.crash(1);
        let next = sim.expected_master().unwrap();
        let next_priority = p[next];
        sim.run_for(SEC * 10);
        let took_over = sim.became_master_at(next, crash).expect("takeover");
        let waited = took_over.saturating_duration_since(crash);
        assert!(waited <= mdi(next_priority, SEC) + DELAY, "{n}: {waited:?}");
        // And not before the master could have been missed: its last advert was at most one
        // interval before the crash.
        assert!(waited + SEC >= mdi(next_priority, SEC), "{n}: {waited:?}");
        assert_single_master(&sim, next);
        // Nobody else took over in between.
        let others = sim
            .transitions
            .iter()
            .filter(|t| t.at >= crash && t.to == State::Master && t.node != next)
            .count();
        assert_eq!(others, 0);
    }
}

#[test]
fn priority_zero_handoff_completes_within_skew_time() {
    for n in [2, 3, 8] {
        let p = priorities(n);
        let mut sim = settled(&p, SEC, 4);
        sim.run_for(Duration::from_millis(420));
        let stop = sim.now;
        sim.shutdown(1);
        let next = sim.expected_master().unwrap();
        sim.run_for(SEC * 10);
        let took_over = sim.became_master_at(next, stop).expect("takeover");
        let skew = timers::skew_time(Version::V3, p[next], SEC);
        assert!(
            took_over.saturating_duration_since(stop) <= skew + DELAY,
            "{n}: {:?}",
            took_over.saturating_duration_since(stop)
        );
        assert_single_master(&sim, next);
    }
}

#[test]
fn fault_on_the_master_hands_over_like_a_resignation() {
    let p = priorities(3);
    let mut sim = settled(&p, SEC, 5);
    let at = sim.now;
    sim.set_fault(1, true);
    sim.run_for(SEC * 10);
    let took_over = sim.became_master_at(2, at).expect("takeover");
    assert!(
        took_over.saturating_duration_since(at)
            <= timers::skew_time(Version::V3, p[2], SEC) + DELAY
    );
    assert_eq!(sim.nodes[1].router.state(), State::Fault);
    assert!(!sim.nodes[1].holds_vips);
    // Cleared: it comes back as backup and preempts (highest priority).
    sim.set_fault(1, false);
    sim.run_for(SEC * 10);
    assert_single_master(&sim, 1);
}

#[test]
fn after_a_partition_heals_two_masters_last_at_most_one_master_down_interval() {
    for n in [2, 3, 8] {
        let p = priorities(n);
        let mut sim = settled(&p, SEC, 6);
        // Cut the master (node 1) off from everyone else.
        sim.partition(&[1]);
        sim.run_for(SEC * 10);
        assert_eq!(
            sim.current_masters().len(),
            2,
            "{n}: split brain while partitioned"
        );
        sim.run_for(Duration::from_millis(123));
        let healed = sim.now;
        sim.heal();
        sim.run_for(SEC * 10);
        let end = sim.now;
        let min_mdi = p.iter().map(|p| mdi(*p, SEC)).min().unwrap();
        let overlap = sim.multi_master_time(healed, end);
        assert!(overlap <= min_mdi, "{n}: {overlap:?}");
        // In fact the lower master yields on the first advert it hears.
        assert!(overlap <= SEC + DELAY, "{n}: {overlap:?}");
        assert_single_master(&sim, 1);
    }
}

#[test]
fn nopreempt_keeps_the_incumbent() {
    for preempt in [Preempt::Never, Preempt::Immediately] {
        let mut configs = group(&[50, 200], SEC);
        configs[1].preempt = preempt;
        let mut sim = Sim::new(configs, DELAY, 7);
        sim.start(0);
        sim.run_for(SEC * 10);
        assert_eq!(sim.current_masters(), vec![0]);
        sim.start(1);
        sim.run_for(SEC * 60);
        let expected = if preempt == Preempt::Never { 0 } else { 1 };
        assert_single_master(&sim, expected);
    }
}

#[test]
fn preempt_delay_postpones_the_takeover() {
    let mut configs = group(&[50, 200], SEC);
    configs[1].preempt = Preempt::After(SEC * 20);
    let mut sim = Sim::new(configs, DELAY, 8);
    sim.start(0);
    sim.run_for(SEC * 10);
    let joined = sim.now;
    sim.start(1);
    sim.run_for(SEC * 15);
    assert_eq!(sim.current_masters(), vec![0]);
    sim.run_for(SEC * 15);
    assert_single_master(&sim, 1);
    let took_over = sim.became_master_at(1, joined).unwrap();
    assert!(took_over.saturating_duration_since(joined) >= SEC * 20);
}

#[test]
fn a_flapping_priority_changes_master_at_most_once_per_master_down_interval() {
    let mut sim = settled(&[100, 120, 150], SEC, 9);
    let settled_at = sim.now;
    let mut rng = fastrand::Rng::with_seed(9);
    for _ in 0..200 {
        let p = if rng.bool() { 50 } else { 200 };
        sim.set_priority(2, p);
        sim.run_for(Duration::from_millis(rng.u64(50..3_000)));
    }
    let changes = sim.master_changes(settled_at);
    assert!(
        changes.len() > 10,
        "the flapping must actually move the master"
    );
    let floor = mdi(254, SEC);
    for w in changes.windows(2) {
        let gap = w[1].0.saturating_duration_since(w[0].0);
        assert!(gap >= floor, "master changed after {gap:?}: {w:?}");
    }
}

#[test]
fn fast_mode_detects_a_crash_below_a_millisecond() {
    let interval = Duration::from_micros(200);
    let delay = Duration::from_micros(20);
    let p = priorities(3);
    let mut sim = Sim::new(group(&p, interval), delay, 10);
    sim.start_all();
    sim.run_for(Duration::from_millis(20));
    assert_eq!(sim.current_masters(), vec![1]);
    sim.run_for(Duration::from_micros(77));
    let crash = sim.now;
    sim.crash(1);
    sim.run_for(Duration::from_millis(20));
    let took_over = sim.became_master_at(2, crash).expect("takeover");
    let waited = took_over.saturating_duration_since(crash);
    assert!(waited <= mdi(p[2], interval) + delay, "{waited:?}");
    assert!(waited < Duration::from_millis(1), "{waited:?}");
    assert_single_master(&sim, 2);
}

#[test]
fn a_standard_backup_behind_a_fast_master_is_slow_but_safe() {
    // Node 0 stands in for keepalived: standard mode, reads the fast advert in centiseconds.
    let mut configs = group(&[100, 200], Duration::from_millis(10));
    configs[1].advert_interval = Duration::from_micros(200);
    configs[1].fast_mode = true;
    let mut sim = Sim::new(configs, Duration::from_micros(20), 11);
    sim.start_all();
    sim.run_for(SEC * 5);
    assert_single_master(&sim, 1);
    // 200 us read as 200 ms: 1000x.
    assert_eq!(
        sim.nodes[0].router.master_adver_interval(),
        Duration::from_millis(200)
    );
    assert_eq!(
        sim.master_changes(Instant::ZERO).len(),
        1,
        "no false takeover"
    );
    let crash = sim.now;
    sim.crash(1);
    sim.run_for(SEC * 5);
    let waited = sim
        .became_master_at(0, crash)
        .unwrap()
        .saturating_duration_since(crash);
    let expected = mdi(100, Duration::from_millis(200));
    assert!(waited <= expected + Duration::from_micros(20), "{waited:?}");
    assert!(
        waited >= expected - Duration::from_micros(200),
        "{waited:?}"
    );
}

#[test]
fn a_fast_backup_behind_a_standard_master_uses_standard_timing() {
    let mut configs = group(&[100, 200], Duration::from_millis(10));
    configs[0].advert_interval = Duration::from_micros(200);
    configs[0].fast_mode = true;
    let mut sim = Sim::new(configs, Duration::from_micros(20), 12);
    sim.start_all();
    // The fast node's short Master_Down_Interval makes it master first at startup; the
    // standard master preempts it after its own.
    sim.run_for(SEC);
    assert_single_master(&sim, 1);
    assert_eq!(
        sim.nodes[0].router.master_adver_interval(),
        Duration::from_millis(10)
    );
    let settled_at = sim.now;
    sim.run_for(SEC * 5);
    assert!(
        sim.master_changes(settled_at).is_empty(),
        "no false takeover"
    );
    assert_single_master(&sim, 1);
}

#[test]
fn loss_causes_no_lasting_split_brain() {
    let p = priorities(3);
    let mut sim = settled(&p, SEC, 13);
    sim.set_loss_all(0.6);
    sim.run_for(SEC * 120);
    sim.set_loss_all(0.0);
    sim.run_for(SEC * 12);
    assert_single_master(&sim, 1);
}
