//! The flood benchmark: `cargo xtask bench flood`.
//!
//! A master and a backup (vipd, XDP in driver mode) and an attacker on one LAN. The attacker
//! floods them with each kind of junk in [`crate::flood`], to the multicast group and to each
//! node's own MAC and address, with auth_hmac off and on. Per flood it measures what was sent
//! and how fast, each daemon's CPU (as a share of one core over the flood) and memory, what its
//! counters say, and whether any state moved: a transition, a VIP added or removed, the master
//! no longer master or the backup no longer backup. A table goes to stdout and every figure to
//! `target/bench/flood-<stamp>.json`.
use std::{
    collections::BTreeMap,
    fs,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use clap::Parser;

use super::{
    procfs::{cpu_ticks, percent_of_core, proc_status},
    stats::Table,
};
use crate::{
    flood::{self, Destination, Kind, PacketSocket, Sent, Target},
    netns::Netns,
    topology::Lan,
    vipd::{wait_until, Scratch, Vipd},
};

const VIP: &str = "192.0.2.100";
const VRID: u8 = 51;
const MASTER: usize = 1;
const BACKUP: usize = 2;
const ATTACKER: usize = 3;
/// Time for the daemons to work off what the flood queued before the "after" figures.
const DRAIN: Duration = Duration::from_millis(500);
/// How long the daemons' idle CPU is measured, before any flood.
const IDLE_SPAN: Duration = Duration::from_secs(3);
const EVENTUALLY: Duration = Duration::from_secs(20);

#[derive(Parser)]
#[command(name = "cargo xtask bench flood", about = "vipd under floods of junk")]
pub struct Options {
    /// Packets per flood (one flood per kind, destination and auth setting).
    #[arg(long, default_value_t = 1_000_000)]
    packets: u64,
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = [Kind::Forged, Kind::ForgedTrailer, Kind::Replayed, Kind::Malformed, Kind::EchoProbe, Kind::EchoReply])]
    kinds: Vec<Kind>,
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = [To::Multicast, To::Master, To::Backup])]
    destinations: Vec<To>,
    /// auth_hmac off, on, or both in turn (a garbage trailer is flooded only with it on).
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = [Auth::Off, Auth::On])]
    auth: Vec<Auth>,
    /// The nodes' advert interval (fast mode, and with it the liveness echo, below 10 ms).
    #[arg(long, value_parser = humantime::parse_duration, default_value = "100ms")]
    advert_interval: Duration,
    /// Where the JSON goes.
    #[arg(long, default_value = "target/bench")]
    out: PathBuf,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
enum To {
    Multicast,
    Master,
    Backup,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
enum Auth {
    Off,
    On,
}

pub fn main(opts: Options) -> Result<(), String> {
    fs::create_dir_all(&opts.out).map_err(|e| format!("{}: {e}", opts.out.display()))?;
    let load = fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let mut groups = Vec::new();
    for &auth in &opts.auth {
        let group = Group::start(auth, opts.advert_interval)?;
        let idle = group.idle_cpu();
        let mut runs = Vec::new();
        for &kind in &opts.kinds {
            if kind == Kind::ForgedTrailer && auth == Auth::Off {
                continue;
            }
            for &to in &opts.destinations {
                let run = group.flood(kind, to, opts.packets)?;
                eprintln!("{}", run.summary());
                runs.push(run);
            }
        }
        groups.push(GroupReport { auth, idle, runs });
    }
    let load_after = fs::read_to_string("/proc/loadavg").unwrap_or_default();
    report(&opts, &groups, load.trim(), load_after.trim())
}

/// The master, the backup and the attacker's socket on a fresh LAN.
struct Group {
    // Field order is drop order: processes and sockets before the namespaces.
    master: Vipd,
    backup: Vipd,
    attacker: PacketSocket,
    target: Target,
    addresses: [(usize, [u8; 6]); 2],
    auth: Auth,
    dir: Scratch,
    lan: Lan,
}

impl Group {
    fn start(auth: Auth, interval: Duration) -> Result<Self, String> {
        let lan = Lan::with_pass_through_ports(3);
        let dir = Scratch::new("flood");
        let args = ["--xdp-mode", "driver"];
        let conf = |priority| config(priority, interval, auth);
        let master = Vipd::start(lan.node(MASTER), dir.path(), "master", &conf(200), &args);
        let backup = Vipd::start(lan.node(BACKUP), dir.path(), "backup", &conf(100), &args);
        let vip = VIP.parse().expect("VIP");
        if !wait_until(EVENTUALLY, || lan.holders(vip) == [MASTER]) {
            return Err(format!(
                "no election: {VIP} on {:?}\n{}",
                lan.holders(vip),
                master.log()
            ));
        }
        let attacker_ns = lan.node(ATTACKER);
        fn io(what: &'static str) -> impl Fn(std::io::Error) -> String {
            move |e| format!("{what}: {e}")
        }
        let listener = PacketSocket::open(attacker_ns, "eth0", crate::frames::ETH_P_IP)
            .map_err(io("capture socket"))?;
        let captured = listener
            .capture_advert(Lan::ipv4(MASTER), EVENTUALLY)
            .map_err(io("capture the master's advert"))?;
        let attacker = PacketSocket::open(attacker_ns, "eth0", 0).map_err(io("flood socket"))?;
        let mac = |n| flood::mac_address(lan.node(n), "eth0");
        let target = Target {
            vrid: VRID,
            vip: VIP.parse().expect("VIP"),
            attacker_mac: mac(ATTACKER),
            attacker_ip: Lan::ipv4(ATTACKER),
            master_mac: mac(MASTER),
            captured,
        };
        let addresses = [(MASTER, mac(MASTER)), (BACKUP, mac(BACKUP))];
        Ok(Self {
            master,
            backup,
            attacker,
            target,
            addresses,
            auth,
            dir,
            lan,
        })
    }

    fn nodes(&self) -> [(&'static str, &Vipd); 2] {
        [("master", &self.master), ("backup", &self.backup)]
    }

    /// Each daemon's CPU at rest, as a percentage of one core.
    fn idle_cpu(&self) -> [f64; 2] {
        let before = self.nodes().map(|(_, d)| cpu_ticks(d.pid()));
        std::thread::sleep(IDLE_SPAN);
        let after = self.nodes().map(|(_, d)| cpu_ticks(d.pid()));
        [0, 1].map(|i| percent_of_core(after[i] - before[i], IDLE_SPAN))
    }

    /// Waits until the master holds the VIP as master and the backup is backup again: a flood
    /// without auth_hmac may rightly have moved them (see [`may_move`]).
    fn settle(&self) -> Result<(), String> {
        let vip = VIP.parse().expect("VIP");
        let settled = || {
            self.lan.holders(vip) == [MASTER]
                && status(&self.master)["instances"][0]["state"] == "MASTER"
                && status(&self.backup)["instances"][0]["state"] == "BACKUP"
        };
        if wait_until(EVENTUALLY, settled) {
            Ok(())
        } else {
            Err(format!(
                "the group did not settle after a flood\n{}",
                self.master.log()
            ))
        }
    }

    fn flood(&self, kind: Kind, to: To, packets: u64) -> Result<Run, String> {
        let destination = match to {
            To::Multicast => Destination::Multicast,
            To::Master | To::Backup => {
                let (n, mac) = self.addresses[usize::from(to == To::Backup)];
                Destination::Unicast {
                    mac,
                    ip: Lan::ipv4(n),
                }
            }
        };
        let frames = flood::build(kind, &self.target, destination);
        self.settle()?;
        let before: Vec<Observation> = self.nodes().map(|(_, d)| Observation::take(d)).into();
        let monitors =
            [MASTER, BACKUP].map(|n| AddressMonitor::start(self.lan.node(n), self.dir.path(), n));
        let start = Instant::now();
        let sent = self
            .attacker
            .flood(&frames, packets)
            .map_err(|e| format!("flood {kind}: {e}"))?;
        std::thread::sleep(DRAIN);
        let span = start.elapsed();
        let after: Vec<Observation> = self.nodes().map(|(_, d)| Observation::take(d)).into();
        let vip_events: Vec<usize> = monitors.into_iter().map(AddressMonitor::stop).collect();
        let holders = self.lan.holders(VIP.parse().expect("VIP"));
        let nodes = self
            .nodes()
            .iter()
            .enumerate()
            .map(|(i, (role, _))| {
                NodeFigures::new(role, &before[i], &after[i], span, vip_events[i])
            })
            .collect::<Vec<_>>();
        let moved = holders != [MASTER] || nodes.iter().any(|n| n.state_moved());
        Ok(Run {
            may_move: may_move(self.auth, kind),
            auth: self.auth,
            kind,
            to,
            sent,
            span_s: span.as_secs_f64(),
            holders,
            moved,
            nodes,
        })
    }
}

/// Whether a flood of `kind` may move state: without auth_hmac a forged priority-255 advert or a
/// replayed valid one is a valid advert, which VRRP obeys. That is the hole auth_hmac closes;
/// every other flood must move nothing.
fn may_move(auth: Auth, kind: Kind) -> bool {
    auth == Auth::Off && matches!(kind, Kind::Forged | Kind::Replayed)
}

fn config(priority: u8, interval: Duration, auth: Auth) -> String {
    let auth_hmac = match auth {
        Auth::Off => String::new(),
        Auth::On => format!(
            "auth_hmac = {{ active_key = 1, keys = [{{ id = 1, key = \"hex:{}\" }}] }}\n",
            "11".repeat(32)
        ),
    };
    format!(
        "[global]\nlog_format = \"json\"\n\n[[instance]]\nname = \"flood\"\ninterface = \"eth0\"\n\
         vrid = {VRID}\npriority = {priority}\nadvert_interval = \"{}us\"\nvips = [\"{VIP}/24\"]\n\
         {auth_hmac}",
        interval.as_micros()
    )
}

/// A daemon's figures at one instant.
struct Observation {
    cpu_ticks: u64,
    rss_kb: u64,
    hwm_kb: u64,
    /// Every counter of `vipd status --json`: the XDP program's (`xdp.NAME`) and the instance's
    /// drops by reason (`drops.REASON`).
    counters: BTreeMap<String, u64>,
    state: String,
    transitions: u64,
    logged_transitions: usize,
}

impl Observation {
    fn take(daemon: &Vipd) -> Self {
        let pid = daemon.pid();
        let json = status(daemon);
        let mut counters = BTreeMap::new();
        let instance = &json["instances"][0];
        for (prefix, map) in [
            ("xdp", &json["daemon"]["xdp"]),
            ("drops", &instance["drops"]),
        ] {
            for (name, value) in map.as_object().into_iter().flatten() {
                counters.insert(format!("{prefix}.{name}"), value.as_u64().unwrap_or(0));
            }
        }
        counters.insert("kernel.raw_socket_drops".into(), raw_socket_drops(pid));
        let memory = proc_status(pid);
        Self {
            cpu_ticks: cpu_ticks(pid),
            rss_kb: memory.get("VmRSS").copied().unwrap_or(0),
            hwm_kb: memory.get("VmHWM").copied().unwrap_or(0),
            counters,
            state: instance["state"].as_str().unwrap_or("?").to_owned(),
            transitions: instance["transitions"].as_u64().unwrap_or(0),
            logged_transitions: daemon.log().matches("state changed").count(),
        }
    }
}

/// What one flood did to one daemon.
#[derive(serde::Serialize)]
struct NodeFigures {
    role: &'static str,
    cpu_percent: f64,
    rss_kb: [u64; 2],
    hwm_kb: [u64; 2],
    /// Counters that moved, by how much.
    counters: BTreeMap<String, u64>,
    /// vipd's drops by reason and XDP verdicts other than a plain pass: how much of the flood
    /// vipd counted.
    counted: u64,
    state: [String; 2],
    transitions: u64,
    logged_transitions: usize,
    vip_events: usize,
}

/// Whether counter `name` is vipd's count of frames it refused or handled at XDP: not the ones
/// that count every frame or every advert, nor the kernel's socket drops.
fn counts_a_refusal(name: &str) -> bool {
    !matches!(name, "xdp.passed" | "xdp.adverts_recorded") && !name.starts_with("kernel.")
}

impl NodeFigures {
    fn new(
        role: &'static str,
        before: &Observation,
        after: &Observation,
        span: Duration,
        vip_events: usize,
    ) -> Self {
        let counters: BTreeMap<String, u64> = after
            .counters
            .iter()
            .map(|(name, &value)| {
                let was = before.counters.get(name).copied().unwrap_or(0);
                (name.clone(), value.saturating_sub(was))
            })
            .filter(|&(_, delta)| delta > 0)
            .collect();
        let counted = counters
            .iter()
            .filter(|(name, _)| counts_a_refusal(name))
            .map(|(_, &delta)| delta)
            .sum();
        Self {
            role,
            cpu_percent: percent_of_core(after.cpu_ticks - before.cpu_ticks, span),
            rss_kb: [before.rss_kb, after.rss_kb],
            hwm_kb: [before.hwm_kb, after.hwm_kb],
            counters,
            counted,
            state: [before.state.clone(), after.state.clone()],
            transitions: after.transitions - before.transitions,
            logged_transitions: after.logged_transitions - before.logged_transitions,
            vip_events,
        }
    }

    fn state_moved(&self) -> bool {
        self.state[0] != self.state[1]
            || self.transitions > 0
            || self.logged_transitions > 0
            || self.vip_events > 0
    }

    fn raw_socket_drops(&self) -> u64 {
        self.counters
            .get("kernel.raw_socket_drops")
            .copied()
            .unwrap_or(0)
    }

    /// The counter that grew most, other than the plain ones.
    fn top_counter(&self) -> String {
        self.counters
            .iter()
            .filter(|(name, _)| counts_a_refusal(name))
            .max_by_key(|(_, &delta)| delta)
            .map_or("-".into(), |(name, &delta)| {
                format!("{name} {}", human(delta))
            })
    }
}

#[derive(serde::Serialize)]
struct Run {
    auth: Auth,
    kind: Kind,
    to: To,
    sent: Sent,
    /// From the first packet to the "after" figures (the flood and [`DRAIN`]).
    span_s: f64,
    holders: Vec<usize>,
    moved: bool,
    /// See [`may_move`].
    may_move: bool,
    nodes: Vec<NodeFigures>,
}

impl Run {
    fn summary(&self) -> String {
        format!(
            "auth {:?}, {} to {:?}: {} sent at {:.0} kpps, CPU master {:.1} % backup {:.1} %, moved: {}",
            self.auth,
            self.kind,
            self.to,
            self.sent.packets,
            self.sent.rate() / 1e3,
            self.nodes[0].cpu_percent,
            self.nodes[1].cpu_percent,
            self.moved
        )
    }
}

#[derive(serde::Serialize)]
struct GroupReport {
    auth: Auth,
    /// Each daemon's CPU at rest (master, backup), percent of a core.
    idle: [f64; 2],
    runs: Vec<Run>,
}

fn report(
    opts: &Options,
    groups: &[GroupReport],
    load_before: &str,
    load_after: &str,
) -> Result<(), String> {
    let mut table = Table::new(&[
        "auth",
        "kind",
        "to",
        "sent",
        "kpps",
        "CPU master / backup",
        "RSS master / backup (kB, after; HWM growth)",
        "counted master / backup",
        "top counter master / backup",
        "raw socket drops master / backup",
        "state moved",
    ]);
    for group in groups {
        for run in &group.runs {
            let [m, b] = [&run.nodes[0], &run.nodes[1]];
            table.row(&[
                format!("{:?}", run.auth).to_lowercase(),
                run.kind.to_string(),
                format!("{:?}", run.to).to_lowercase(),
                human(run.sent.packets),
                format!("{:.0}", run.sent.rate() / 1e3),
                format!("{:.1} % / {:.1} %", m.cpu_percent, b.cpu_percent),
                format!(
                    "{} (+{}) / {} (+{})",
                    m.rss_kb[1],
                    m.hwm_kb[1] - m.hwm_kb[0],
                    b.rss_kb[1],
                    b.hwm_kb[1] - b.hwm_kb[0]
                ),
                format!("{} / {}", human(m.counted), human(b.counted)),
                format!("{} / {}", m.top_counter(), b.top_counter()),
                format!(
                    "{} / {}",
                    human(m.raw_socket_drops()),
                    human(b.raw_socket_drops())
                ),
                match (run.moved, run.may_move) {
                    (false, _) => "no",
                    (true, true) => "yes (no auth_hmac: VRRP obeys)",
                    (true, false) => "YES",
                }
                .into(),
            ]);
        }
    }
    println!("{}", table.render());
    for group in groups {
        println!(
            "idle CPU, auth {:?}: master {:.1} %, backup {:.1} % of a core",
            group.auth, group.idle[0], group.idle[1]
        );
    }
    println!("load average before: {load_before}; after: {load_after}");
    let stamp = super::trial::now_ns();
    let json = opts.out.join(format!("flood-{stamp}.json"));
    let doc = serde_json::json!({
        "packets": opts.packets,
        "advert_interval_us": opts.advert_interval.as_micros() as u64,
        "load_before": load_before,
        "load_after": load_after,
        "groups": groups,
    });
    fs::write(&json, serde_json::to_string_pretty(&doc).expect("json"))
        .map_err(|e| format!("{}: {e}", json.display()))?;
    println!("figures: {}", json.display());
    if groups
        .iter()
        .flat_map(|g| &g.runs)
        .any(|r| r.moved && !r.may_move)
    {
        return Err("a flood moved state (see the table)".into());
    }
    Ok(())
}

/// `vipd status --json` of `daemon`.
fn status(daemon: &Vipd) -> serde_json::Value {
    let out = Command::new(crate::vipd::binary())
        .args(["status", "--json", "--socket"])
        .arg(&daemon.socket)
        .output()
        .expect("vipd status");
    serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null)
}

/// What the kernel dropped because a raw VRRP socket of `pid`'s network namespace was full (the
/// `drops` column of /proc/PID/net/raw for protocol 112): adverts vipd never saw, so never
/// counted by reason.
fn raw_socket_drops(pid: i32) -> u64 {
    let table = fs::read_to_string(format!("/proc/{pid}/net/raw")).unwrap_or_default();
    table
        .lines()
        .skip(1)
        .filter(|line| {
            line.split_whitespace()
                .nth(1)
                .is_some_and(|local| local.ends_with(":0070"))
        })
        .filter_map(|line| line.split_whitespace().last()?.parse::<u64>().ok())
        .sum()
}

/// `ip monitor address` in a node, counting additions and removals of the VIP.
struct AddressMonitor {
    child: Child,
    log: PathBuf,
}

impl AddressMonitor {
    fn start(ns: &Netns, dir: &Path, n: usize) -> Self {
        let log = dir.join(format!("monitor-n{n}.log"));
        let out = fs::File::create(&log).expect("monitor log");
        let child = Command::new("ip")
            .args(["netns", "exec", ns.name(), "ip", "-o", "monitor", "address"])
            .stdout(out)
            .stderr(Stdio::null())
            .spawn()
            .expect("ip monitor");
        // Time to subscribe before the flood starts.
        std::thread::sleep(Duration::from_millis(200));
        Self { child, log }
    }

    /// Stops the monitor and returns how many events named the VIP.
    fn stop(mut self) -> usize {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let wanted = format!(" {VIP}/");
        fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter(|line| line.contains(&wanted))
            .count()
    }
}

/// A count as a short figure (1.0M, 274k).
fn human(n: u64) -> String {
    match n {
        n if n >= 1_000_000 => format!("{:.2}M", n as f64 / 1e6),
        n if n >= 10_000 => format!("{}k", n / 1000),
        n => n.to_string(),
    }
}
