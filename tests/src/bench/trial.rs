//! One trial: with node 1 master and the probe answered by it, inject a fault, measure what the
//! client saw, repair, and wait until node 1 is master again.
use std::time::{Duration, Instant};

use super::{
    fault::{self, Scenario, SwitchPorts},
    probe::{Probe, Reply},
    system::{NodeProcess, System},
    timeline::{self, Recorders, Timeline},
    walltime::Offset,
};
use crate::{clock::monotonic_ns, topology::Lan};

/// What one trial measured, in microseconds on CLOCK_MONOTONIC.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Sample {
    pub system: System,
    pub scenario: Scenario,
    /// The system's advert interval in this trial.
    pub advert_interval_us: u64,
    /// Fault to the first reply from the new master, reaching the client's socket.
    pub takeover_us: f64,
    /// The same without the new master's echo server's own turnaround (its wake-up between the
    /// probe reaching its socket and its answer): what the network and the failover cost, which
    /// is what a client whose server answers at once sees.
    pub network_takeover_us: f64,
    /// Last reply from the old master to the first from the new one.
    pub outage_us: Option<f64>,
    /// The new master's own account: last advert seen to its master-down decision (vipd only).
    pub detection_us: Option<f64>,
    /// Every hop between the fault and the first reply.
    pub timeline: Timeline,
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

/// What a trial runs on: the group's nodes and the instruments watching them.
pub struct Bench<'a> {
    pub nodes: &'a mut [NodeProcess],
    pub probe: &'a Probe,
    pub recorders: &'a Recorders,
    pub ports: &'a SwitchPorts,
    pub lan: &'a Lan,
    pub advert_interval_us: u64,
}

pub fn run(scenario: Scenario, bench: Bench) -> Result<Sample, String> {
    let Bench {
        nodes,
        probe,
        recorders,
        ports,
        lan,
        advert_interval_us,
    } = bench;
    wait_steady(probe, 1)?;
    let logs_before: Vec<usize> = nodes.iter().map(|n| n.log().len()).collect();
    probe.clear();
    recorders.clear();
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
    let new = usize::from(first_new.node);
    let log_since = |n: usize| {
        let log = nodes[n - 1].log();
        log.get(logs_before[n - 1]..)
            .unwrap_or_default()
            .to_string()
    };
    let (old_log, new_log) = (log_since(1), log_since(new));
    let detection_us = detection_after(&new_log);
    let timeline = recorders.timeline(fault_ns, &first_new, new, &old_log, &new_log);

    fault::repair(scenario, &mut nodes[0], ports, lan);
    let takeover_us = (first_new.at_ns - fault_ns) as f64 / 1e3;
    let turnaround_us = first_new.sent_ns.saturating_sub(first_new.probe_arrived_ns) as f64 / 1e3;
    Ok(Sample {
        system: nodes[0].system,
        scenario,
        advert_interval_us,
        takeover_us,
        network_takeover_us: takeover_us - turnaround_us,
        outage_us: last_old.map(|old| (first_new.at_ns - old) as f64 / 1e3),
        detection_us,
        timeline,
    })
}

/// The detection latency vipd logged with a master-down takeover, in a slice of its JSON log.
fn detection_after(log: &str) -> Option<f64> {
    timeline::vipd_events(log, Offset::sample())
        .iter()
        .find(|e| e.message == "state changed" && e.field("reason") == Some("MasterDown"))
        .and_then(|e| e.number("detection_us"))
}

/// CLOCK_MONOTONIC now, for the report's run header.
pub fn now_ns() -> u64 {
    monotonic_ns()
}
