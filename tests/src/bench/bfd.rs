//! The BFD soak: `cargo xtask bench bfd`.
//!
//! Two pairs of nodes, each pair on a LAN of its own (plain veths, as users have them): one
//! runs a vipd BFD session between its two nodes, the other a keepalived one, both at
//! min_rx = min_tx = 1 ms with multiplier 3 (3 ms detection) by default, side by side under
//! `stress-ng --cpu 2` for `--duration`. Nothing fails, so every Up -> Down is a false one: a
//! flap. Each node also runs a VRRP instance that tracks its session, as a user's would.
//!
//! vipd runs as a user would run it for millisecond BFD: `[global.realtime]` on, which puts its
//! BFD thread on SCHED_FIFO (as the takeover bench runs its engine). keepalived gets the
//! equivalent, `bfd_rt_priority`, unless `--keepalived-rt-priority 0`.
//!
//! vipd's flaps come from its status (`flaps`, the times the session left Up) and the reasons
//! from its log; keepalived's from its log ("(NAME) Entering Down state (Local diagnostic -
//! ...)"). A table goes to stdout and every figure to `target/bench/bfd-<stamp>.json`.
use std::{
    collections::BTreeMap,
    fmt::Write as _,
    net::IpAddr,
    path::PathBuf,
    time::{Duration, Instant},
};

use clap::Parser;

use super::{
    stats::Table,
    stress::{self, Stress},
};
use crate::{
    keepalived::{Keepalived, Member},
    topology::Lan,
    vipd::{instance_config, wait_until, Scratch, Vipd},
};

/// The session's name on every node.
const SESSION: &str = "peer";
/// How long both pairs get to bring their sessions Up before anything counts.
const EVENTUALLY: Duration = Duration::from_secs(30);
/// How often the load average is sampled during the soak.
const LOAD_EVERY: Duration = Duration::from_secs(5);

#[derive(Parser)]
#[command(
    name = "cargo xtask bench bfd",
    about = "vipd's and keepalived's BFD side by side under CPU stress, counting flaps"
)]
pub struct Options {
    /// How long the soak runs under stress-ng.
    #[arg(long, value_parser = humantime::parse_duration, default_value = "10m")]
    duration: Duration,
    /// min_rx and min_tx of every session (keepalived counts them in milliseconds).
    #[arg(long, value_parser = humantime::parse_duration, default_value = "1ms")]
    interval: Duration,
    /// Detect Mult of every session.
    #[arg(long, default_value_t = 3)]
    multiplier: u8,
    /// vipd's `[global.realtime]` priority (0: realtime off).
    #[arg(long, default_value_t = 50)]
    vipd_rt_priority: u8,
    /// keepalived's `bfd_rt_priority` (0: left out, keepalived's default).
    #[arg(long, default_value_t = 50)]
    keepalived_rt_priority: u8,
    /// Where the JSON goes.
    #[arg(long, default_value = "target/bench")]
    out: PathBuf,
}

/// Which implementation a pair runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
enum Implementation {
    Vipd,
    Keepalived,
}

/// One node's session over the soak.
#[derive(serde::Serialize)]
struct NodeResult {
    node: usize,
    /// Times the session left Up during the soak.
    flaps: u64,
    /// The diagnostic of each flap, in order (why this node took its session Down).
    diagnostics: Vec<String>,
    /// Control packets sent and received during the soak (vipd's status; keepalived does not
    /// count them).
    packets: Option<(u64, u64)>,
    /// The session's state at the end.
    final_state: String,
}

#[derive(serde::Serialize)]
struct PairResult {
    implementation: Implementation,
    nodes: Vec<NodeResult>,
}

pub fn main(opts: Options) -> Result<(), String> {
    std::fs::create_dir_all(&opts.out).map_err(|e| format!("{}: {e}", opts.out.display()))?;
    println!(
        "bfd soak: {:?}, vipd and keepalived at {:?} x {}, side by side under {}",
        opts.duration,
        opts.interval,
        opts.multiplier,
        stress::LOAD
    );
    let dir = Scratch::new("bfdsoak");
    let vipd = VipdPair::start(&opts, &dir)?;
    let keepalived = KeepalivedPair::start(&opts, &dir)?;
    let up = wait_until(EVENTUALLY, || vipd.all_up() && keepalived.all_up());
    if !up {
        return Err(format!(
            "the sessions did not come Up: vipd {:?}, keepalived {:?}\n{}",
            vipd.states(),
            keepalived.states(),
            keepalived.logs()
        ));
    }
    let vipd_from = vipd.snapshot();
    let keepalived_from = keepalived.log_lengths();

    let load_before = stress::load_average();
    let stress = Stress::start(opts.duration)?;
    let started = Instant::now();
    let mut loads = Vec::new();
    while started.elapsed() < opts.duration {
        std::thread::sleep(LOAD_EVERY.min(opts.duration.saturating_sub(started.elapsed())));
        loads.extend(stress::load_average());
    }
    drop(stress);

    let results = vec![vipd.finish(&vipd_from), keepalived.finish(&keepalived_from)];
    report(&opts, &results, load_before, &loads)
}

/// What one node's status said of its session at some moment.
#[derive(Clone)]
struct SessionCounters {
    flaps: u64,
    packets_out: u64,
    packets_in: u64,
    /// How long its log was: the flaps after this point are the soak's.
    log_len: usize,
}

struct VipdPair {
    // Field order is drop order: the daemons before the namespaces.
    nodes: Vec<Vipd>,
    _lan: Lan,
}

impl VipdPair {
    fn start(opts: &Options, dir: &Scratch) -> Result<Self, String> {
        let lan = Lan::new(2);
        let nodes = (1..=2)
            .map(|n| {
                let config = vipd_config(opts, n);
                Vipd::start(lan.node(n), dir.path(), &format!("vipd-n{n}"), &config, &[])
            })
            .collect();
        Ok(Self { nodes, _lan: lan })
    }

    fn states(&self) -> Vec<String> {
        self.nodes
            .iter()
            .map(|v| {
                v.status()
                    .bfd
                    .first()
                    .map(|b| b.state.clone())
                    .unwrap_or_default()
            })
            .collect()
    }

    fn all_up(&self) -> bool {
        self.states().iter().all(|s| s == "up")
    }

    fn snapshot(&self) -> Vec<SessionCounters> {
        self.nodes
            .iter()
            .map(|v| {
                // The log before the status: a flap in between is in neither baseline.
                let log_len = v.log().len();
                let status = v.status();
                let session = status.bfd.first();
                SessionCounters {
                    flaps: session.map_or(0, |b| b.flaps),
                    packets_out: session.map_or(0, |b| b.packets_out),
                    packets_in: session.map_or(0, |b| b.packets_in),
                    log_len,
                }
            })
            .collect()
    }

    fn finish(&self, from: &[SessionCounters]) -> PairResult {
        let to = self.snapshot();
        let nodes = self
            .nodes
            .iter()
            .zip(from.iter().zip(&to))
            .enumerate()
            .map(|(i, (vipd, (from, to)))| {
                // Read after the status: every flap the status counted is in it.
                let log = vipd.log();
                NodeResult {
                    node: i + 1,
                    flaps: to.flaps - from.flaps,
                    diagnostics: flaps_since(&log, from.log_len, vipd_entered),
                    packets: Some((
                        to.packets_out - from.packets_out,
                        to.packets_in - from.packets_in,
                    )),
                    final_state: vipd
                        .status()
                        .bfd
                        .first()
                        .map(|b| b.state.clone())
                        .unwrap_or_default(),
                }
            })
            .collect();
        PairResult {
            implementation: Implementation::Vipd,
            nodes,
        }
    }
}

struct KeepalivedPair {
    nodes: Vec<Keepalived>,
    _lan: Lan,
}

impl KeepalivedPair {
    fn start(opts: &Options, dir: &Scratch) -> Result<Self, String> {
        let lan = Lan::new(2);
        let nodes = (1..=2)
            .map(|n| {
                Keepalived::start_with_bfd(
                    lan.node(n),
                    dir.path(),
                    &format!("keepalived-n{n}"),
                    &keepalived_config(opts, n),
                )
            })
            .collect();
        Ok(Self { nodes, _lan: lan })
    }

    /// Each node's session state as it last logged it.
    fn states(&self) -> Vec<String> {
        self.nodes.iter().map(|k| last_state(&k.log())).collect()
    }

    fn all_up(&self) -> bool {
        self.states().iter().all(|s| s == "up")
    }

    /// Both nodes' logs, for a start that failed.
    fn logs(&self) -> String {
        self.nodes
            .iter()
            .enumerate()
            .map(|(i, k)| format!("--- keepalived node {} ---\n{}", i + 1, k.log()))
            .collect()
    }

    fn log_lengths(&self) -> Vec<usize> {
        self.nodes.iter().map(|k| k.log().len()).collect()
    }

    fn finish(&self, from: &[usize]) -> PairResult {
        let nodes = self
            .nodes
            .iter()
            .zip(from)
            .enumerate()
            .map(|(i, (keepalived, &from))| {
                let log = keepalived.log();
                let diagnostics = flaps_since(&log, from, keepalived_entered);
                NodeResult {
                    node: i + 1,
                    flaps: diagnostics.len() as u64,
                    diagnostics,
                    packets: None,
                    final_state: last_state(&log),
                }
            })
            .collect();
        PairResult {
            implementation: Implementation::Keepalived,
            nodes,
        }
    }
}

/// The other node of a pair.
fn peer_of(n: usize) -> IpAddr {
    IpAddr::V4(Lan::ipv4(3 - n))
}

/// vipd.toml of node `n`: realtime on, the session to the other node, and a VRRP instance that
/// tracks it (node 1 the master).
fn vipd_config(opts: &Options, n: usize) -> String {
    let realtime = match opts.vipd_rt_priority {
        0 => String::new(),
        priority => format!("realtime = {{ enabled = true, priority = {priority} }}\n"),
    };
    let interval = format!("{}us", opts.interval.as_micros());
    format!(
        "[global]\nlog_format = \"json\"\n{realtime}\n{}\
         [[bfd]]\nname = \"{SESSION}\"\nneighbor = \"{}\"\ninterface = \"eth0\"\n\
         min_rx = \"{interval}\"\nmin_tx = \"{interval}\"\nmultiplier = {}\n",
        instance_config(
            if n == 1 { 200 } else { 100 },
            "192.0.2.100",
            &format!("track_bfd = [{{ name = \"{SESSION}\", weight = -150 }}]\n")
        ),
        peer_of(n),
        opts.multiplier,
    )
}

/// keepalived.conf of node `n`: the same session and instance as [`vipd_config`]'s, the
/// `bfd_instance` first (keepalived reads the file in order).
fn keepalived_config(opts: &Options, n: usize) -> String {
    let millis = opts.interval.as_secs_f64() * 1e3;
    let rt = match opts.keepalived_rt_priority {
        0 => String::new(),
        priority => format!("  bfd_rt_priority {priority}\n"),
    };
    let member = Member::v3(if n == 1 { 200 } else { 100 });
    let conf = member
        .keepalived_conf()
        .replace("global_defs {\n", &format!("global_defs {{\n{rt}"))
        .replace(
            "  virtual_ipaddress {",
            &format!("  track_bfd {{\n    {SESSION} weight -150\n  }}\n  virtual_ipaddress {{"),
        );
    let session = format!(
        "bfd_instance {SESSION} {{\n  neighbor_ip {}\n  min_rx {millis:.3}\n  \
         min_tx {millis:.3}\n  multiplier {}\n}}\n",
        peer_of(n),
        opts.multiplier,
    );
    conf.replace("vrrp_instance", &format!("{session}vrrp_instance"))
}

/// A session entering a state, as a daemon logged it: the state (lower case, "up", "down",
/// "init", "admin_down") and the diagnostic given.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entered {
    state: String,
    diag: String,
}

/// vipd's JSON log line of a state change of the session, if `line` is one.
fn vipd_entered(line: &str) -> Option<Entered> {
    let value: serde_json::Value = serde_json::from_str(line).ok()?;
    let fields = value.get("fields")?;
    if fields.get("message")?.as_str()? != "BFD session changed state"
        || fields.get("session")?.as_str()? != SESSION
    {
        return None;
    }
    Some(Entered {
        state: fields.get("to")?.as_str()?.to_string(),
        diag: fields.get("diag")?.as_str()?.to_string(),
    })
}

/// keepalived's log line of a state change of the session, if `line` is one: `(peer) Entering
/// Down state (Local diagnostic - Control Detection Time Expired, Remote diagnostic - No
/// Diagnostic)`, or `(peer) Entering Up state` with no diagnostic (2.2.7; newer releases write
/// `BFD_Instance(peer)`). It logs Down only when leaving Up, and Init not at all.
fn keepalived_entered(line: &str) -> Option<Entered> {
    let marker = format!("({SESSION}) Entering ");
    let rest = &line[line.find(&marker)? + marker.len()..];
    let (state, rest) = rest.split_once(" state")?;
    let diag = rest
        .split_once("Local diagnostic - ")
        .and_then(|(_, d)| d.split(',').next())
        .unwrap_or_default();
    Some(Entered {
        state: state.to_lowercase().replace(' ', "_"),
        diag: diag.to_string(),
    })
}

/// The flaps in a sequence of state changes: each Up -> Down, as the diagnostic of the Down.
fn flaps(entered: impl IntoIterator<Item = Entered>) -> Vec<String> {
    let mut was_up = false;
    let mut found = Vec::new();
    for e in entered {
        if was_up && e.state == "down" {
            found.push(e.diag.clone());
        }
        was_up = e.state == "up";
    }
    found
}

/// The state keepalived's `log` last said the session entered ("" before any).
fn last_state(log: &str) -> String {
    log.lines()
        .filter_map(keepalived_entered)
        .next_back()
        .map(|e| e.state)
        .unwrap_or_default()
}

/// The flaps in `log` after its first `from` bytes, with `parse` reading its state changes. The
/// last change before `from` (the state the soak started in) comes first, so that a first Down
/// counts.
fn flaps_since(log: &str, from: usize, parse: fn(&str) -> Option<Entered>) -> Vec<String> {
    let before = log.get(..from).unwrap_or_default();
    let soaked = log.get(from..).unwrap_or_default();
    let start = before.lines().filter_map(parse).next_back();
    flaps(start.into_iter().chain(soaked.lines().filter_map(parse)))
}

/// "3 x detection_time_expired, 1 x neighbor_signaled_down", or "-".
fn tally(diagnostics: &[String]) -> String {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for d in diagnostics {
        *counts.entry(d).or_default() += 1;
    }
    if counts.is_empty() {
        return "-".into();
    }
    let mut text = String::new();
    for (i, (diag, count)) in counts.iter().enumerate() {
        let _ = write!(text, "{}{count} x {diag}", if i > 0 { ", " } else { "" });
    }
    text
}

fn report(
    opts: &Options,
    results: &[PairResult],
    load_before: Option<f64>,
    loads: &[f64],
) -> Result<(), String> {
    let mut table = Table::new(&[
        "system",
        "node",
        "flaps",
        "why (this node's diagnostic)",
        "packets out / in",
        "state at end",
    ]);
    for pair in results {
        for node in &pair.nodes {
            table.row(&[
                format!("{:?}", pair.implementation).to_lowercase(),
                node.node.to_string(),
                node.flaps.to_string(),
                tally(&node.diagnostics),
                node.packets
                    .map_or("-".into(), |(out, inp)| format!("{out} / {inp}")),
                node.final_state.clone(),
            ]);
        }
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    let max = loads.iter().copied().fold(0.0, f64::max);
    println!("{}", table.render());
    println!(
        "load average (1 min) during the soak: mean {:.2}, max {max:.2} ({} samples; {:.2} before)",
        mean(loads),
        loads.len(),
        load_before.unwrap_or(0.0)
    );
    let json = opts
        .out
        .join(format!("bfd-{}.json", crate::clock::monotonic_ns()));
    let doc = serde_json::json!({
        "duration_s": opts.duration.as_secs_f64(),
        "interval_us": opts.interval.as_micros() as u64,
        "multiplier": opts.multiplier,
        "vipd_rt_priority": opts.vipd_rt_priority,
        "keepalived_rt_priority": opts.keepalived_rt_priority,
        "load": stress::LOAD,
        "load_average_before": load_before,
        "load_average_samples": loads,
        "results": results,
    });
    std::fs::write(&json, doc.to_string()).map_err(|e| e.to_string())?;
    println!("figures: {}", json.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entered(state: &str, diag: &str) -> Entered {
        Entered {
            state: state.into(),
            diag: diag.into(),
        }
    }

    #[test]
    fn keepalived_lines_parse_to_state_and_diagnostic() {
        assert_eq!(
            keepalived_entered(
                "Sun Dec  6 22:21:32 2026: (peer) Entering Down state (Local diagnostic - \
                 Control Detection Time Expired, Remote diagnostic - No Diagnostic)"
            ),
            Some(entered("down", "Control Detection Time Expired"))
        );
        assert_eq!(
            keepalived_entered("Sun Dec  6 22:21:03 2026: BFD_Instance(peer) Entering Up state"),
            Some(entered("up", ""))
        );
        assert_eq!(
            keepalived_entered("BFD_Instance(other) Entering Down state (Local diagnostic - x)"),
            None
        );
        assert_eq!(keepalived_entered("(VI_1) Entering MASTER STATE"), None);
    }

    #[test]
    fn vipd_lines_parse_to_state_and_diagnostic() {
        let line = r#"{"timestamp":"t","level":"INFO","fields":{"message":"BFD session changed state","session":"peer","from":"up","to":"down","diag":"detection_time_expired"}}"#;
        assert_eq!(
            vipd_entered(line),
            Some(entered("down", "detection_time_expired"))
        );
        assert_eq!(vipd_entered(&line.replace("\"peer\"", "\"other\"")), None);
        assert_eq!(
            vipd_entered(r#"{"fields":{"message":"state changed","to":"Master"}}"#),
            None
        );
        assert_eq!(vipd_entered("not json"), None);
    }

    #[test]
    fn a_flap_is_up_then_down() {
        let sequence = [
            entered("init", ""),
            entered("down", "x"),
            entered("up", ""),
            entered("down", "detection_time_expired"),
            entered("init", ""),
            entered("up", ""),
            entered("admin_down", "administratively_down"),
            entered("down", "after admin down"),
            entered("up", ""),
            entered("down", "neighbor_signaled_down"),
        ];
        assert_eq!(
            flaps(sequence),
            vec![
                "detection_time_expired".to_string(),
                "neighbor_signaled_down".to_string()
            ]
        );
        assert!(flaps([entered("up", "")]).is_empty());
    }

    #[test]
    fn a_soak_counts_from_the_state_it_started_in() {
        let log = "(peer) Entering Up state\n(peer) Entering Down state (Local diagnostic - \
                   a, Remote)\n(peer) Entering Up state\n";
        let from = log.find("(peer) Entering Down").unwrap();
        let down = "(peer) Entering Down state (Local diagnostic - b, Remote)\n";
        let log = format!("{log}{down}");
        assert_eq!(
            flaps_since(&log, from, keepalived_entered),
            vec!["a".to_string(), "b".to_string()]
        );
        assert_eq!(
            flaps_since(&log, log.len(), keepalived_entered),
            Vec::<String>::new()
        );
    }

    #[test]
    fn diagnostics_tally_by_kind() {
        let d = ["b", "a", "b"].map(String::from);
        assert_eq!(tally(&d), "1 x a, 2 x b");
        assert_eq!(tally(&[]), "-");
    }
}
