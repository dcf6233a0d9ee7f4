//! One trial: with node 1 master and the probe answered by it, inject a fault, measure what the
//! client saw, repair, and wait until node 1 is master again.
use std::time::{Duration, Instant};

use super::{
    fault::{self, Scenario, SwitchPorts},
    probe::{Probe, Reply},
    system::{NodeProcess, System},
};
use crate::{clock::monotonic_ns, topology::Lan};

/// What one trial measured, in microseconds on CLOCK_MONOTONIC.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Sample {
    pub system: System,
    pub scenario: Scenario,
    /// Fault to the first reply from the new master.
    pub takeover_us: f64,
    /// Last reply from the old master to the first from the new one.
    pub outage_us: Option<f64>,
    /// The new master's own account: last advert seen to its master-down decision (vipd only).
    pub detection_us: Option<f64>,
}

/// How long to wait for anything in a trial before calling it failed.
const PATIENCE: Duration = Duration::from_secs(20);
/// The original master must have answered alone for this long before a fault is injected.
const STEADY: Duration = Duration::from_millis(300);

/// Waits until node `n` has answered every probe for `STEADY`.
pub fn wait_steady(probe: &Probe, n: u8) -> Result<(), String> {
    let deadline = Instant::now() + PATIENCE;
    let mut since: Option<Instant> = None;
    while Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
        let replies = probe.take();
        let only_n = !replies.is_empty() && replies.iter().all(|r| r.node == n);
        since = if only_n {
            since.or(Some(Instant::now()))
        } else {
            None
        };
        if since.is_some_and(|s| s.elapsed() >= STEADY) {
            return Ok(());
        }
    }
    Err(format!("node {n} never became the steady master"))
}

pub fn run(
    scenario: Scenario,
    nodes: &mut [NodeProcess],
    probe: &Probe,
    ports: &SwitchPorts,
    lan: &Lan,
) -> Result<Sample, String> {
    wait_steady(probe, 1)?;
    let backup_log_before = nodes[1].log().len();
    probe.clear();
    std::thread::sleep(Duration::from_millis(20));
    let fault_ns = fault::inject(scenario, &nodes[0], ports);

    let deadline = Instant::now() + PATIENCE;
    let mut replies: Vec<Reply> = Vec::new();
    let first_new = loop {
        std::thread::sleep(Duration::from_millis(5));
        replies.extend(probe.take());
        if let Some(first) = replies.iter().find(|r| r.at_ns > fault_ns && r.node != 1) {
            break *first;
        }
        if Instant::now() > deadline {
            fault::repair(scenario, &mut nodes[0], ports, lan);
            return Err(format!(
                "{scenario}: no other node answered within {PATIENCE:?}"
            ));
        }
    };
    let last_old = replies
        .iter()
        .filter(|r| r.node == 1 && r.at_ns < first_new.at_ns)
        .map(|r| r.at_ns)
        .max();
    let detection_us = detection_after(&nodes[1].log()[backup_log_before..]);

    fault::repair(scenario, &mut nodes[0], ports, lan);
    Ok(Sample {
        system: nodes[0].system,
        scenario,
        takeover_us: (first_new.at_ns - fault_ns) as f64 / 1e3,
        outage_us: last_old.map(|old| (first_new.at_ns - old) as f64 / 1e3),
        detection_us,
    })
}

/// The detection latency vipd logged with its takeover, in a slice of its log.
fn detection_after(log: &str) -> Option<f64> {
    log.lines()
        .find(|l| l.contains("reason=MasterDown"))
        .and_then(|l| l.split("detection_us=").nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}

/// CLOCK_MONOTONIC now, for the report's run header.
pub fn now_ns() -> u64 {
    monotonic_ns()
}
