//! The soak: vipd (XDP) and keepalived run side by side, each on its own LAN, for a long time
//! while stress-ng keeps both cores busy, with no fault at all. Every transition is a false one.
//! With several vipd advert intervals, each gets a round of its own (keepalived again beside it).
//!
//! Per system it counts what the daemons logged ("state changed", "Entering ... STATE") and
//! what the nodes' kernels did (VIP additions and removals, from an rtnetlink listener in each
//! node's namespace: `ip monitor address`), and the advert gaps seen on the client (vipd's own
//! XDP program in the client's namespace stamps each advert's arrival; bpf_ktime is
//! CLOCK_MONOTONIC).
use std::{
    net::IpAddr,
    time::{Duration, Instant},
};
use vipd::family::IpFamily;

use super::{
    netwatch::{Change, NetWatch, Topic},
    stats,
    stress::{self, Stress},
    system::{self, NodeProcess, System, Timing},
};
use crate::topology::Lan;
use vipd::dataplane::xdp::{AdvertRing, AttachMode, VridPolicy, XdpProgram};

/// The nodes of each soak LAN (the client is one more).
const NODES: usize = 2;

/// `plain_veths`: the LANs' switch ports are plain veths and vipd attaches as it would by
/// default; otherwise they carry a pass-through program and vipd runs in driver mode.
pub fn run(
    duration: Duration,
    timings: &[Timing],
    plain_veths: bool,
    out: &std::path::Path,
) -> Result<(), String> {
    let mut results = Vec::new();
    for &timing in timings {
        println!(
            "soak: {duration:?}, vipd at {} beside keepalived at {}, under stress-ng --cpu 2, {}",
            stats::human_us(timing.vipd_interval.as_micros() as f64),
            stats::human_us(timing.keepalived_interval.as_micros() as f64),
            if plain_veths {
                "plain veths"
            } else {
                "pass-through switch ports"
            }
        );
        results.extend(round(duration, timing, plain_veths)?);
    }
    let mut table = stats::Table::new(&[
        "system",
        "advert interval",
        "false transitions",
        "VIP added/removed per node",
        "adverts",
        "gap p50",
        "p99",
        "p99.9",
        "p99.99",
        "max",
        "gaps > 3x",
    ]);
    for r in &results {
        let [p50, p99, p999, p9999, max] = r.gap_percentiles();
        let interval_us = r.interval_us as f64;
        table.row(&[
            r.system.to_string(),
            stats::human_us(interval_us),
            r.transitions.len().to_string(),
            r.vip_changes
                .iter()
                .enumerate()
                .map(|(i, (added, removed))| format!("n{}: +{added}/-{removed}", i + 1))
                .collect::<Vec<_>>()
                .join(", "),
            (r.gaps_us.len() + 1).to_string(),
            stats::human_us(p50),
            stats::human_us(p99),
            stats::human_us(p999),
            stats::human_us(p9999),
            stats::human_us(max),
            r.gaps_us
                .iter()
                .filter(|g| **g > 3.0 * interval_us)
                .count()
                .to_string(),
        ]);
    }
    for r in &results {
        for line in &r.transitions {
            println!(
                "{} at {}: {line}",
                r.system,
                stats::human_us(r.interval_us as f64)
            );
        }
    }
    println!("{}", table.render());
    let json = out.join(format!("soak-{}.json", crate::clock::monotonic_ns()));
    let doc = serde_json::json!({
        "duration_s": duration.as_secs_f64(),
        "load": stress::LOAD,
        "plain_veths": plain_veths,
        "results": results,
    });
    std::fs::write(&json, doc.to_string()).map_err(|e| e.to_string())?;
    println!("samples: {}", json.display());
    Ok(())
}

/// What one system did over one round.
#[derive(serde::Serialize)]
struct Soaked {
    system: System,
    interval_us: u64,
    /// The transitions the daemons logged, each as "node N: line".
    transitions: Vec<String>,
    /// (additions, removals) of the VIP on each node, as the kernel announced them.
    vip_changes: Vec<(usize, usize)>,
    /// Gaps between the master's adverts at the client.
    gaps_us: Vec<f64>,
}

impl Soaked {
    /// p50, p99, p99.9, p99.99 and max of the advert gaps.
    fn gap_percentiles(&self) -> [f64; 5] {
        let mut sorted = self.gaps_us.clone();
        sorted.sort_by(f64::total_cmp);
        let pct = |p: f64| {
            sorted
                .get(((p * sorted.len() as f64) as usize).min(sorted.len().saturating_sub(1)))
                .copied()
                .unwrap_or(0.0)
        };
        [
            pct(0.5),
            pct(0.99),
            pct(0.999),
            pct(0.9999),
            sorted.last().copied().unwrap_or(0.0),
        ]
    }
}

/// One system's group on its own LAN, with a listener on every node and a sniffer on the client.
struct Soaking {
    // Field order is drop order: daemons, listeners and the sniffer before the namespaces.
    nodes: Vec<NodeProcess>,
    addresses: Vec<NetWatch>,
    ring: AdvertRing,
    _sniffer: XdpProgram,
    _dir: crate::vipd::Scratch,
    _lan: Lan,
    system: System,
    timing: Timing,
    logs_settled: Vec<usize>,
    last_advert: Option<u64>,
    gaps_us: Vec<f64>,
}

impl Soaking {
    fn start(system: System, timing: Timing, plain_veths: bool) -> Result<Self, String> {
        let lan = if plain_veths {
            Lan::new(NODES + 1)
        } else {
            Lan::with_pass_through_ports(NODES + 1)
        };
        let dir = crate::vipd::Scratch::new("soak");
        let addresses = (1..=NODES)
            .map(|n| NetWatch::start(lan.node(n), Topic::Addresses))
            .collect::<Result<Vec<_>, _>>()?;
        let nodes = NodeProcess::start_group(system, &lan, NODES, timing, dir.path());
        let mut sniffer = XdpProgram::load().map_err(|e| e.to_string())?;
        let ring = sniffer.take_adverts().map_err(|e| e.to_string())?;
        let mut maps = sniffer.take_maps().map_err(|e| e.to_string())?;
        let attached = lan
            .node(NODES + 1)
            .run(|| sniffer.attach("eth0", AttachMode::Auto))
            .map_err(|e| e.to_string())?;
        maps.set_vrid(
            attached.ifindex,
            system::VRID,
            IpFamily::V4,
            VridPolicy::default(),
        )
        .map_err(|e| e.to_string())?;
        Ok(Self {
            nodes,
            addresses,
            ring,
            _sniffer: sniffer,
            _dir: dir,
            _lan: lan,
            system,
            timing,
            logs_settled: Vec::new(),
            last_advert: None,
            gaps_us: Vec::new(),
        })
    }

    /// From now on everything counts.
    fn settled(&mut self) {
        self.logs_settled = self.nodes.iter().map(|n| n.log().len()).collect();
        for watch in &self.addresses {
            watch.take();
        }
        while self.ring.try_next().is_some() {}
    }

    /// Reads the adverts that arrived; whether there were any.
    fn drain(&mut self) -> bool {
        let master = IpAddr::V4(Lan::ipv4(1));
        let mut any = false;
        while let Some(advert) = self.ring.try_next() {
            any = true;
            if advert.source != master {
                continue;
            }
            if let Some(prev) = self.last_advert {
                self.gaps_us
                    .push(advert.ktime_ns.saturating_sub(prev) as f64 / 1e3);
            }
            self.last_advert = Some(advert.ktime_ns);
        }
        any
    }

    fn finish(mut self) -> Soaked {
        self.drain();
        let vip: IpAddr = system::VIP.parse().expect("VIP");
        let vip_changes = self
            .addresses
            .iter()
            .map(|watch| {
                let changes = watch.take();
                let count = |wanted: bool| {
                    changes
                        .iter()
                        .filter(|n| {
                            n.change
                                == Change::Address {
                                    addr: vip,
                                    added: wanted,
                                }
                        })
                        .count()
                };
                (count(true), count(false))
            })
            .collect();
        let transitions = self
            .nodes
            .iter()
            .zip(&self.logs_settled)
            .flat_map(|(node, from)| {
                let log = node.log();
                log.get(*from..)
                    .unwrap_or_default()
                    .lines()
                    .filter(|l| is_transition(l))
                    .map(|l| format!("node {}: {l}", node.node))
                    .collect::<Vec<_>>()
            })
            .collect();
        Soaked {
            system: self.system,
            interval_us: self.system.interval(self.timing).as_micros() as u64,
            transitions,
            vip_changes,
            gaps_us: self.gaps_us,
        }
    }
}

/// A state change in vipd's log or keepalived's.
fn is_transition(line: &str) -> bool {
    line.contains("state changed") || (line.contains("Entering ") && line.contains(" STATE"))
}

fn round(duration: Duration, timing: Timing, plain_veths: bool) -> Result<Vec<Soaked>, String> {
    let mut groups = vec![
        Soaking::start(System::VipdXdp, timing, plain_veths)?,
        Soaking::start(System::Keepalived, timing, plain_veths)?,
    ];
    // Let the elections settle before anything counts.
    std::thread::sleep(Duration::from_secs(2));
    for group in &mut groups {
        group.settled();
    }
    let stress = Stress::start(duration)?;
    let started = Instant::now();
    while started.elapsed() < duration {
        let mut any = false;
        for group in &mut groups {
            any |= group.drain();
        }
        if !any {
            std::thread::sleep(Duration::from_micros(200));
        }
    }
    drop(stress);
    Ok(groups.into_iter().map(Soaking::finish).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transitions_of_both_daemons() {
        assert!(is_transition(
            r#"{"fields":{"message":"state changed","to":"Master"}}"#
        ));
        assert!(is_transition(
            "Tue Dec  1 22:49:05 2026: (bench) Entering MASTER STATE"
        ));
        assert!(!is_transition("(bench) received lower priority advert"));
    }
}
