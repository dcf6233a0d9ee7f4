//! The takeover benchmark: `cargo xtask bench takeover`.
//!
//! In network namespaces: a switch (bridge), N nodes running one system, and a client that
//! probes the VIP every 20 us; echo servers on every node say which node answered. For each
//! system and scenario it repeats the fault, measures takeover and outage as the client saw
//! them, and writes a table, a breakdown of each takeover's hops (see [`timeline`]), a JSON file
//! with every sample and its timeline, and a CDF plot. `--soak` instead runs vipd and keepalived
//! side by side for a long time under CPU stress and counts false transitions.
pub mod arp;
pub mod bfd;
mod collector;
pub(crate) mod echo;
pub(crate) mod fault;
pub mod flood;
mod netwatch;
mod plot;
pub(crate) mod probe;
mod procfs;
pub mod scale;
mod soak;
pub(crate) mod stats;
mod stress;
pub(crate) mod system;
pub(crate) mod timeline;
mod trial;
mod walltime;
mod wire;

use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use std::{path::PathBuf, time::Duration};

use crate::topology::Lan;
use fault::{Scenario, SwitchPorts};
use system::{NodeProcess, System, Timing, VIP};
use trial::Sample;

#[derive(Parser)]
#[command(
    name = "cargo xtask bench takeover",
    about = "vipd's takeover benchmark"
)]
pub struct Options {
    /// Trials per scenario and system.
    #[arg(long, default_value_t = 20)]
    trials: usize,
    /// VRRP nodes (the client is one more).
    #[arg(long, default_value_t = 2)]
    nodes: usize,
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = [Scenario::Cable, Scenario::Kill9, Scenario::Sigstop, Scenario::Sigterm])]
    scenarios: Vec<Scenario>,
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = [System::VipdXdp, System::VipdSocket, System::Keepalived])]
    systems: Vec<System>,
    /// vipd's advert intervals, each run in turn (fast mode below 10 ms).
    #[arg(long = "advert-interval", value_parser = humantime::parse_duration, value_delimiter = ',', default_value = "200us")]
    advert_intervals: Vec<Duration>,
    /// keepalived's `advert_int` (10 ms, its fastest, by default; VRRPv3 counts it in
    /// centiseconds).
    #[arg(long = "keepalived-advert-interval", value_parser = humantime::parse_duration, default_value = "10ms")]
    keepalived_interval: Duration,
    /// vipd's `echo_timeout` (written to its configuration only when given).
    #[arg(long, value_parser = humantime::parse_duration)]
    echo_timeout: Option<Duration>,
    /// How often the client probes the VIP.
    #[arg(long, value_parser = humantime::parse_duration, default_value = "20us")]
    probe_interval: Duration,
    /// Instead of faults: run vipd (XDP, at each advert interval in turn) and keepalived side by
    /// side for this long under `stress-ng --cpu 2` and count false transitions.
    #[arg(long, value_parser = humantime::parse_duration)]
    soak: Option<Duration>,
    /// With `--soak`: plain veths, as users have them, and vipd's default attach (generic XDP
    /// on a veth), instead of switch ports with a pass-through program and vipd in driver mode.
    #[arg(long, requires = "soak")]
    plain_veths: bool,
    /// Where the JSON and SVG go.
    #[arg(long, default_value = "target/bench")]
    out: PathBuf,
}

pub fn main(opts: Options) -> Result<(), String> {
    std::fs::create_dir_all(&opts.out).map_err(|e| format!("{}: {e}", opts.out.display()))?;
    let timings: Vec<Timing> = opts
        .advert_intervals
        .iter()
        .map(|&vipd_interval| Timing {
            vipd_interval,
            echo_timeout: opts.echo_timeout,
            keepalived_interval: opts.keepalived_interval,
        })
        .collect();
    if let Some(duration) = opts.soak {
        return soak::run(duration, &timings, opts.plain_veths, &opts.out);
    }
    // keepalived runs at its one interval; vipd at each of the list.
    let runs: Vec<(System, Timing)> = opts
        .systems
        .iter()
        .flat_map(|&system| {
            let timings = match system {
                System::Keepalived => &timings[..1],
                _ => &timings[..],
            };
            timings.iter().map(move |&timing| (system, timing))
        })
        .collect();
    let total = (opts.trials * opts.scenarios.len() * runs.len()) as u64;
    let bar = ProgressBar::new(total).with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} trials  {msg}  [{elapsed_precise}]")
            .expect("progress template"),
    );
    // Ctrl-C (or SIGTERM, SIGHUP) stops after the trial in progress, so the namespaces and
    // processes are removed and the samples so far still reported.
    let interrupted = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = interrupted.clone();
    ctrlc::set_handler(move || flag.store(true, std::sync::atomic::Ordering::SeqCst))
        .map_err(|e| format!("Ctrl-C handler: {e}"))?;
    let stop = || interrupted.load(std::sync::atomic::Ordering::SeqCst);
    let mut samples = Vec::new();
    let mut failures = Vec::new();
    for &(system, timing) in &runs {
        if stop() {
            break;
        }
        let mut group = Group::start(system, opts.nodes, timing, opts.probe_interval)?;
        let advert_interval_us = system.interval(timing).as_micros() as u64;
        for &scenario in &opts.scenarios {
            bar.set_message(format!("{system}, {scenario}"));
            for _ in 0..opts.trials {
                if stop() {
                    break;
                }
                let bench = trial::Bench {
                    nodes: &mut group.nodes,
                    probe: &group.probe,
                    recorders: &group.recorders,
                    ports: &group.ports,
                    lan: &group.lan,
                    advert_interval_us,
                };
                match trial::run(scenario, bench) {
                    Ok(sample) => samples.push(sample),
                    Err(error) => failures.push(format!("{system}: {error}")),
                }
                bar.inc(1);
            }
        }
    }
    bar.finish_and_clear();
    report(&opts, &samples, &failures)
}

/// One system running on a fresh LAN, with echo servers and the probe.
struct Group {
    // Field order is drop order: probe and processes before the namespaces.
    probe: probe::Probe,
    recorders: timeline::Recorders,
    nodes: Vec<NodeProcess>,
    _echo: echo::EchoServers,
    _dir: crate::vipd::Scratch,
    ports: SwitchPorts,
    lan: Lan,
}

impl Group {
    fn start(
        system: System,
        count: usize,
        timing: Timing,
        probe_interval: Duration,
    ) -> Result<Self, String> {
        let lan = Lan::with_pass_through_ports(count + 1);
        let dir = crate::vipd::Scratch::new("bench");
        let echo = echo::EchoServers::start(&lan, count);
        let ports = SwitchPorts::new(&lan);
        let nodes = NodeProcess::start_group(system, &lan, count, timing, dir.path());
        let probe = probe::Probe::start(&lan, count + 1, VIP, probe_interval);
        let recorders = timeline::Recorders::start(&lan, count + 1)?;
        trial::wait_steady(&probe, 1).map_err(|e| format!("{system}: {e}"))?;
        Ok(Self {
            probe,
            recorders,
            nodes,
            _echo: echo,
            _dir: dir,
            ports,
            lan,
        })
    }
}

fn report(opts: &Options, samples: &[Sample], failures: &[String]) -> Result<(), String> {
    let mut table = stats::Table::new(&[
        "scenario",
        "system",
        "advert interval",
        "trials",
        "takeover p50",
        "p90",
        "p99",
        "max",
        "network p50",
        "network p99",
        "outage p50",
        "detection p50",
        "p50 vs keepalived (network)",
    ]);
    let mut breakdown = stats::Table::new(&timeline::breakdown_header());
    // One row per system and interval, in the order they ran.
    let mut runs: Vec<(System, u64)> = Vec::new();
    for sample in samples {
        if !runs.contains(&(sample.system, sample.advert_interval_us)) {
            runs.push((sample.system, sample.advert_interval_us));
        }
    }
    for &scenario in &opts.scenarios {
        let keepalived_p50 = |figure: fn(&Sample) -> f64| {
            let values: Vec<f64> = samples
                .iter()
                .filter(|s| s.scenario == scenario && s.system == System::Keepalived)
                .map(figure)
                .collect();
            stats::summary(&values).map(|s| s[0])
        };
        let keepalived = keepalived_p50(|s| s.takeover_us);
        let keepalived_network = keepalived_p50(|s| s.network_takeover_us);
        for &(system, interval_us) in &runs {
            let ours: Vec<&Sample> = samples
                .iter()
                .filter(|s| {
                    s.scenario == scenario
                        && s.system == system
                        && s.advert_interval_us == interval_us
                })
                .collect();
            let takeover: Vec<f64> = ours.iter().map(|s| s.takeover_us).collect();
            let Some([p50, p90, p99, max]) = stats::summary(&takeover) else {
                continue;
            };
            let network: Vec<f64> = ours.iter().map(|s| s.network_takeover_us).collect();
            let network = stats::summary(&network).expect("as many as the takeovers");
            let outage: Vec<f64> = ours.iter().filter_map(|s| s.outage_us).collect();
            let detection: Vec<f64> = ours.iter().filter_map(|s| s.detection_us).collect();
            let p50_text =
                |v: &[f64]| stats::summary(v).map_or("-".into(), |s| stats::human_us(s[0]));
            let ratio = match (keepalived, keepalived_network) {
                (Some(k), Some(kn)) if system != System::Keepalived => {
                    format!("{:.0}x ({:.0}x) faster", k / p50, kn / network[0])
                }
                _ => "-".into(),
            };
            table.row(&[
                scenario.to_string(),
                system.to_string(),
                stats::human_us(interval_us as f64),
                takeover.len().to_string(),
                stats::human_us(p50),
                stats::human_us(p90),
                stats::human_us(p99),
                stats::human_us(max),
                stats::human_us(network[0]),
                stats::human_us(network[2]),
                p50_text(&outage),
                p50_text(&detection),
                ratio,
            ]);
            let timelines: Vec<&timeline::Timeline> = ours.iter().map(|s| &s.timeline).collect();
            let mut row = vec![
                scenario.to_string(),
                format!("{system} {}", stats::human_us(interval_us as f64)),
            ];
            row.extend(timeline::breakdown_row(&timelines));
            breakdown.row(&row);
        }
    }
    println!("{}", table.render());
    println!("takeover hops, p50 / p90 (microseconds on CLOCK_MONOTONIC; JSON has every trial):");
    println!("{}", breakdown.render());
    for failure in failures {
        println!("failed trial: {failure}");
    }

    let stamp = trial::now_ns();
    let json = opts.out.join(format!("takeover-{stamp}.json"));
    let doc = vipd::measure::report::Document {
        advert_intervals_us: opts
            .advert_intervals
            .iter()
            .map(|i| i.as_micros() as u64)
            .collect(),
        probe_interval_us: opts.probe_interval.as_micros() as u64,
        nodes: opts.nodes,
        trials: opts.trials,
        failures: failures.to_vec(),
        samples: samples.to_vec(),
    };
    doc.write(&json)?;
    let svg = opts.out.join(format!("takeover-{stamp}.svg"));
    match plot::cdf(samples, &opts.scenarios, &opts.systems, &svg) {
        Ok(()) => println!("samples: {}\nplot: {}", json.display(), svg.display()),
        Err(error) => println!("samples: {}\nno plot: {error}", json.display()),
    }
    Ok(())
}
