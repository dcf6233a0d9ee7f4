//! The scale benchmark: `cargo xtask bench scale`.
//!
//! Two nodes on one LAN of plain veths (vipd attaches as it would for a user), each running N
//! VRRP instances (VRIDs 1..=N, one VIP each), the first node master of all of them. Per
//! system, instance count and advert interval it waits until every VIP is on the master, lets
//! the group settle, then measures each daemon's CPU (share of one core, all processes and
//! threads) over a span, its RSS, and the state changes it logged meanwhile (false
//! transitions: nothing fails). vipd runs as the takeover benchmark runs it (realtime engine). keepalived refuses intervals below 10 ms, so it runs at
//! 10 ms, its fastest, beside vipd's intervals. A table goes to stdout and every figure to
//! `target/bench/scale-<stamp>.json`.
use std::{
    fs,
    net::IpAddr,
    path::PathBuf,
    time::{Duration, Instant, SystemTime},
};

use clap::Parser;

use super::{
    procfs::{cpu_ticks, percent_of_core, proc_status},
    stats::Table,
};
use crate::{
    keepalived::Keepalived,
    topology::Lan,
    vipd::{wait_until, Scratch, Vipd},
};

const MASTER: usize = 1;
const BACKUP: usize = 2;
/// keepalived's shortest advert interval.
const KEEPALIVED_INTERVAL: Duration = Duration::from_millis(10);
/// Time for every instance to elect and the start-up work to end before the span.
const SETTLE: Duration = Duration::from_secs(3);
const EVENTUALLY: Duration = Duration::from_secs(30);

#[derive(Parser)]
#[command(
    name = "cargo xtask bench scale",
    about = "vipd's cost per instance count"
)]
pub struct Options {
    /// Instance counts to run.
    #[arg(long, value_delimiter = ',', default_values_t = [1, 10, 100])]
    instances: Vec<u8>,
    /// vipd's advert intervals (keepalived always runs at 10 ms).
    #[arg(long, value_delimiter = ',', value_parser = humantime::parse_duration, default_values = ["1ms", "200us"])]
    advert_interval: Vec<Duration>,
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = [Daemon::Vipd, Daemon::Keepalived])]
    systems: Vec<Daemon>,
    /// How long CPU time is measured once the group has settled.
    #[arg(long, value_parser = humantime::parse_duration, default_value = "10s")]
    span: Duration,
    /// Where the JSON goes.
    #[arg(long, default_value = "target/bench")]
    out: PathBuf,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
enum Daemon {
    Vipd,
    Keepalived,
}

/// One daemon's figures over the span.
#[derive(serde::Serialize)]
struct NodeCost {
    role: &'static str,
    cpu_percent: f64,
    rss_kb: u64,
    /// State changes the daemon logged during the span: false transitions, since nothing
    /// failed.
    transitions: usize,
}

#[derive(serde::Serialize)]
struct Run {
    system: Daemon,
    instances: u8,
    advert_interval_us: u128,
    span_s: f64,
    nodes: Vec<NodeCost>,
    /// Whether every VIP was on the master (alone) before the span.
    elected: bool,
    /// Instances whose VIP was not on the master (alone) at the end of the span.
    vips_off_master: usize,
}

pub fn main(opts: Options) -> Result<(), String> {
    fs::create_dir_all(&opts.out).map_err(|e| format!("{}: {e}", opts.out.display()))?;
    let load = fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let mut runs = Vec::new();
    for &system in &opts.systems {
        let intervals = match system {
            Daemon::Vipd => opts.advert_interval.clone(),
            Daemon::Keepalived => vec![KEEPALIVED_INTERVAL],
        };
        for &count in &opts.instances {
            for &interval in &intervals {
                let run = measure(system, count, interval, opts.span)?;
                eprintln!(
                    "{system:?} {count} instances at {interval:?}: CPU master {:.1} % backup {:.1} %, transitions {} / {}",
                    run.nodes[0].cpu_percent,
                    run.nodes[1].cpu_percent,
                    run.nodes[0].transitions,
                    run.nodes[1].transitions
                );
                runs.push(run);
            }
        }
    }
    let load_after = fs::read_to_string("/proc/loadavg").unwrap_or_default();
    report(&opts, &runs, load.trim(), load_after.trim())
}

/// The processes of one daemon on one node.
enum Node {
    Vipd(Vipd),
    Keepalived(Keepalived),
}

impl Node {
    fn pids(&self) -> Vec<i32> {
        match self {
            Node::Vipd(vipd) => vec![vipd.pid()],
            Node::Keepalived(keepalived) => [keepalived.main_pid(), keepalived.vrrp_pid()]
                .into_iter()
                .flatten()
                .collect(),
        }
    }

    /// State changes logged so far.
    fn transitions(&self) -> usize {
        match self {
            Node::Vipd(vipd) => vipd.logged_transitions(),
            Node::Keepalived(keepalived) => ["MASTER", "BACKUP", "FAULT"]
                .into_iter()
                .map(|state| keepalived.times_entered(state))
                .sum(),
        }
    }
}

fn measure(system: Daemon, count: u8, interval: Duration, span: Duration) -> Result<Run, String> {
    let lan = Lan::new(2);
    let dir = Scratch::new("scale");
    let start = |n: usize, priority: u8| {
        let name = format!("n{n}");
        match system {
            Daemon::Vipd => Node::Vipd(Vipd::start(
                lan.node(n),
                dir.path(),
                &name,
                &vipd_toml(count, priority, interval),
                &[],
            )),
            Daemon::Keepalived => Node::Keepalived(Keepalived::start(
                lan.node(n),
                dir.path(),
                &name,
                &keepalived_conf(count, priority, interval),
            )),
        }
    };
    let nodes = [start(MASTER, 200), start(BACKUP, 100)];
    let all_on_master = || (1..=count).all(|i| lan.holders(vip(i)) == [MASTER]);
    // A group too large for the machine at this interval may never settle: that is a figure
    // too (the VIPs off the master), so the span is measured either way.
    let elected = wait_until(EVENTUALLY, all_on_master);
    std::thread::sleep(SETTLE);
    let ticks = |node: &Node| node.pids().into_iter().map(cpu_ticks).sum::<u64>();
    let before = nodes.each_ref().map(ticks);
    let transitions_before = nodes.each_ref().map(Node::transitions);
    let started = Instant::now();
    std::thread::sleep(span);
    let after = nodes.each_ref().map(ticks);
    let measured = started.elapsed();
    let transitions = [0, 1].map(|i| nodes[i].transitions() - transitions_before[i]);
    let vips_off_master = (1..=count)
        .filter(|&i| lan.holders(vip(i)) != [MASTER])
        .count();
    let costs = [("master", 0), ("backup", 1)].map(|(role, i)| NodeCost {
        role,
        cpu_percent: percent_of_core(after[i].saturating_sub(before[i]), measured),
        rss_kb: nodes[i]
            .pids()
            .into_iter()
            .map(|pid| proc_status(pid).get("VmRSS").copied().unwrap_or(0))
            .sum(),
        transitions: transitions[i],
    });
    Ok(Run {
        system,
        instances: count,
        advert_interval_us: interval.as_micros(),
        span_s: measured.as_secs_f64(),
        nodes: costs.into(),
        elected,
        vips_off_master,
    })
}

fn vip(i: u8) -> IpAddr {
    IpAddr::from([198, 51, 100, i])
}

fn vipd_toml(count: u8, priority: u8, interval: Duration) -> String {
    let instances: String = (1..=count)
        .map(|i| {
            format!(
                "[[instance]]\nname = \"VI_{i}\"\ninterface = \"eth0\"\nvrid = {i}\n\
                 priority = {priority}\nadvert_interval = \"{}us\"\nvips = [\"{}/24\"]\n\n",
                interval.as_micros(),
                vip(i)
            )
        })
        .collect();
    // As the takeover benchmark runs vipd in fast mode: the engine at SCHED_FIFO.
    format!(
        "[global]\nlog_format = \"json\"\nrealtime = {{ enabled = true, priority = 50 }}\n\n{instances}"
    )
}

fn keepalived_conf(count: u8, priority: u8, interval: Duration) -> String {
    let instances: String = (1..=count)
        .map(|i| {
            format!(
                "vrrp_instance VI_{i} {{\n  state BACKUP\n  interface eth0\n  virtual_router_id {i}\n  \
                 priority {priority}\n  advert_int {}\n  virtual_ipaddress {{\n    {}/24\n  }}\n}}\n",
                interval.as_secs_f64(),
                vip(i)
            )
        })
        .collect();
    format!("global_defs {{\n  router_id ka-{priority}\n  vrrp_version 3\n}}\n{instances}")
}

fn report(opts: &Options, runs: &[Run], load: &str, load_after: &str) -> Result<(), String> {
    let mut table = Table::new(&[
        "system",
        "instances",
        "advert interval",
        "CPU master / backup (% of a core)",
        "RSS master / backup (kB)",
        "transitions master / backup",
        "VIPs off the master",
    ]);
    for run in runs {
        table.row(&[
            format!("{:?}", run.system).to_lowercase(),
            run.instances.to_string(),
            humantime::format_duration(Duration::from_micros(run.advert_interval_us as u64))
                .to_string(),
            format!(
                "{:.1} / {:.1}",
                run.nodes[0].cpu_percent, run.nodes[1].cpu_percent
            ),
            format!("{} / {}", run.nodes[0].rss_kb, run.nodes[1].rss_kb),
            format!(
                "{} / {}",
                run.nodes[0].transitions, run.nodes[1].transitions
            ),
            if run.elected {
                run.vips_off_master.to_string()
            } else {
                format!("{} (never all on the master)", run.vips_off_master)
            },
        ]);
    }
    println!("{}", table.render());
    println!(
        "span {:?} per run; load average before: {load}; after: {load_after}",
        opts.span
    );
    let stamp = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let path = opts.out.join(format!("scale-{stamp}.json"));
    let json = serde_json::json!({
        "span_s": opts.span.as_secs_f64(),
        "load_before": load,
        "load_after": load_after,
        "runs": runs,
    });
    fs::write(&path, serde_json::to_string_pretty(&json).expect("JSON"))
        .map_err(|e| format!("{}: {e}", path.display()))?;
    println!("figures: {}", path.display());
    Ok(())
}
