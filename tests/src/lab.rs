//! The lab: `cargo xtask lab`, vipd's main job on a built-in default.
//!
//! A switch (a bridge) with plain veths (`--driver`: pass-through XDP ports, vipd in driver mode),
//! N nodes running vipd with one VIP, and a client probing the VIP every
//! 20 us, all in network namespaces. It shows live who is master and what the client sees, and
//! injects the faults of the takeover benchmark from the keyboard or from `--scenario`, telling
//! after each how long the client went without an answer. Everything is torn down on exit and
//! on Ctrl-C.
use std::{
    io::BufRead,
    sync::{
        atomic::{AtomicBool, Ordering},
        mpsc, Arc,
    },
    time::{Duration, Instant},
};

use crate::{
    bench::{
        echo::EchoServers,
        fault::{self, Scenario, SwitchPorts},
        probe::{Probe, Reply},
        stats::human_us,
        system::{NodeProcess, System, Timing, VIP},
    },
    clock::monotonic_ns,
    topology::Lan,
    vipd::Scratch,
};

#[derive(clap::Args)]
pub struct Options {
    /// VRRP nodes (the client is one more).
    #[arg(long, default_value_t = 2)]
    nodes: usize,
    /// vipd's advert interval (below 10 ms is vipd's fast mode).
    #[arg(long, value_parser = humantime::parse_duration, default_value = "200us")]
    advert_interval: Duration,
    /// Inject this fault once the group is steady (repeated every few seconds with --repeat).
    #[arg(long, value_enum)]
    scenario: Option<Scenario>,
    /// How often to inject --scenario.
    #[arg(long, default_value_t = 1)]
    repeat: usize,
    /// vipd without XDP.
    #[arg(long)]
    socket: bool,
    /// A pass-through XDP program on every switch port and vipd in driver mode, as the
    /// benchmark runs (default: plain veths and vipd's default mode, as users have them).
    #[arg(long, conflicts_with = "socket")]
    driver: bool,
    /// Stop after this long (default: until `q` or Ctrl-C).
    #[arg(long, value_parser = humantime::parse_duration)]
    duration: Option<Duration>,
}

const HELP: &str = "keys: c = pull the master's cable, k = kill -9 its vipd, s = SIGSTOP it, \
                    t = stop it gracefully, q = quit (each followed by Enter)";

pub fn main(opts: Options) -> Result<(), String> {
    let interrupted = Arc::new(AtomicBool::new(false));
    let flag = interrupted.clone();
    ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst))
        .map_err(|e| format!("Ctrl-C handler: {e}"))?;

    let system = if opts.socket {
        System::VipdSocket
    } else {
        System::VipdXdp
    };
    let timing = Timing {
        vipd_interval: opts.advert_interval,
        echo_timeout: None,
        // The lab runs vipd only.
        keepalived_interval: Duration::from_millis(10),
    };
    println!(
        "lab: a bridge, {} vipd nodes ({system}, adverts every {}), a client probing {VIP} every 20 us",
        opts.nodes,
        human_us(opts.advert_interval.as_micros() as f64)
    );
    let lan = if opts.driver {
        Lan::with_pass_through_ports(opts.nodes + 1)
    } else {
        Lan::new(opts.nodes + 1)
    };
    let dir = Scratch::new("lab");
    let _echo = EchoServers::start(&lan, opts.nodes);
    let ports = SwitchPorts::new(&lan);
    let mut nodes = NodeProcess::start_group(system, &lan, opts.nodes, timing, dir.path());
    let probe = Probe::start(&lan, opts.nodes + 1, VIP, Duration::from_micros(20));
    println!("lab: {HELP}\n");

    let keys = keyboard();
    let started = Instant::now();
    let mut planned = opts.scenario.map(|s| (s, opts.repeat));
    let mut next_auto = Instant::now() + Duration::from_secs(3);
    let mut view = View::default();
    while !interrupted.load(Ordering::SeqCst) && opts.duration.is_none_or(|d| started.elapsed() < d)
    {
        std::thread::sleep(Duration::from_millis(200));
        view.update(&probe.take());
        let key = keys.try_recv().ok();
        let auto = match &mut planned {
            Some((scenario, left))
                if *left > 0 && Instant::now() >= next_auto && view.holder.is_some() =>
            {
                *left -= 1;
                next_auto = Instant::now() + Duration::from_secs(4);
                Some(*scenario)
            }
            _ => None,
        };
        let scenario = match key.as_deref() {
            Some("q") => break,
            Some("c") => Some(Scenario::Cable),
            Some("k") => Some(Scenario::Kill9),
            Some("s") => Some(Scenario::Sigstop),
            Some("t") => Some(Scenario::Sigterm),
            Some(_) => {
                println!("{HELP}");
                None
            }
            None => auto,
        };
        match scenario {
            Some(scenario) => run_fault(scenario, &mut nodes, &probe, &ports, &lan, &mut view),
            None => view.print(),
        }
    }
    println!("\nlab: tearing down");
    Ok(())
}

/// Lines typed on stdin, first word lower-cased, from a background thread.
fn keyboard() -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines().map_while(Result::ok) {
            let key = line.trim().to_lowercase();
            if tx.send(key).is_err() {
                break;
            }
        }
    });
    rx
}

/// What the client saw in the last period.
#[derive(Default)]
struct View {
    holder: Option<u8>,
    replies: usize,
}

impl View {
    fn update(&mut self, replies: &[Reply]) {
        self.replies = replies.len();
        self.holder = replies.last().map(|r| r.node);
    }

    fn print(&self) {
        match self.holder {
            Some(node) => println!(
                "master: node {node}   client: {} answers in the last 200 ms, from node {node}",
                self.replies
            ),
            None => println!("master: ?        client: no answer in the last 200 ms"),
        }
    }
}

/// Injects `scenario` into the node the client currently reaches, reports what the client saw,
/// and repairs the node after a moment.
fn run_fault(
    scenario: Scenario,
    nodes: &mut [NodeProcess],
    probe: &Probe,
    ports: &SwitchPorts,
    lan: &Lan,
    view: &mut View,
) {
    let Some(master) = view.holder else {
        println!("lab: no master to fault yet");
        return;
    };
    let index = usize::from(master) - 1;
    probe.clear();
    println!("lab: {scenario} on node {master}");
    let at = fault::inject(scenario, &nodes[index], ports);
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut seen = Vec::new();
    let first_new = loop {
        std::thread::sleep(Duration::from_millis(5));
        seen.extend(probe.take());
        if let Some(r) = seen.iter().find(|r| r.at_ns > at && r.node != master) {
            break Some(*r);
        }
        if Instant::now() > deadline {
            break None;
        }
    };
    match first_new {
        Some(r) => {
            let last_old = seen
                .iter()
                .filter(|o| o.node == master && o.at_ns < r.at_ns)
                .map(|o| o.at_ns)
                .max();
            println!(
                "lab: node {} answers {} after the fault (client outage {})",
                r.node,
                human_us((r.at_ns - at) as f64 / 1e3),
                last_old.map_or("-".into(), |o| human_us((r.at_ns - o) as f64 / 1e3))
            );
        }
        None => println!("lab: no other node answered within 10 s"),
    }
    std::thread::sleep(Duration::from_secs(1));
    fault::repair(scenario, &mut nodes[index], ports, lan);
    println!(
        "lab: node {master} repaired at {} ms",
        monotonic_ns() / 1_000_000
    );
    view.update(&probe.take());
}
