//! The lab: `cargo xtask lab`, vipd's main job on a built-in default.
//!
//! A switch (a bridge) with plain veths (`--driver`: pass-through XDP ports, vipd in driver
//! mode), N nodes running vipd with one VIP, and a client probing the VIP every 20 us, all in
//! network namespaces. On a terminal it is a live full-screen view (`view`): each node's state,
//! priority and adverts per second from its control socket, the client's answers per interval
//! and who gave them, and the timeline of the last fault; keys inject the takeover benchmark's
//! faults and repair them. Piped, or with `--plain`, it prints lines instead (`plain`).
//! Everything is torn down on `q`, on Ctrl-C and on a panic, and the terminal restored.
//!
//! The parts: [`rig`] runs the namespaces and processes, [`status`] asks the control sockets,
//! [`model`] (with [`takeover`] and [`rate`]) holds what is shown, [`view`] and [`screen`] draw it full
//! screen, [`plain`] prints it, [`keys`] reads commands, [`times`] writes times for people.
mod keys;
mod model;
mod plain;
mod rate;
mod rig;
mod screen;
mod status;
mod takeover;
mod times;
mod view;

use std::{
    io::IsTerminal,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use crate::{
    bench::{
        fault::Scenario,
        stats::human_us,
        system::{System, Timing, VIP},
    },
    clock::monotonic_ns,
};
use keys::{Command, Keys};
use model::Model;
use rig::{Rig, RigOptions, PROBE_INTERVAL};
use times::Now;

/// How often the lab takes the client's answers and redraws.
pub const INTERVAL: Duration = Duration::from_millis(200);

#[derive(clap::Args)]
pub struct Options {
    /// VRRP nodes (the client is one more).
    #[arg(long, default_value_t = 2)]
    nodes: usize,
    /// vipd's advert interval (below 10 ms is vipd's fast mode).
    #[arg(long, value_parser = humantime::parse_duration, default_value = "200us")]
    advert_interval: Duration,
    /// Inject this fault once the group is steady, and repair it a second after the takeover
    /// (repeated every few seconds with --repeat).
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
    /// Print lines instead of the full-screen view (the default when stdout is not a
    /// terminal); commands are then lines on stdin.
    #[arg(long)]
    plain: bool,
}

/// How the lab shows itself: full screen, or lines.
enum Front {
    Full(screen::FullScreen),
    Plain(plain::Printer),
}

impl Front {
    fn show(&mut self, model: &Model) -> Result<(), String> {
        let now = Now::sample();
        match self {
            Front::Full(screen) => screen.draw(model, &now),
            Front::Plain(printer) => {
                printer.print(model, &now);
                Ok(())
            }
        }
    }
}

/// The `--scenario` plan: faults the lab injects by itself, each repaired a second after
/// another node answered.
struct Plan {
    scenario: Scenario,
    left: usize,
    next_at: Instant,
    /// The node the plan faulted and has yet to repair.
    repair: Option<u8>,
}

/// After a planned fault's takeover, how long before its repair.
const PLANNED_REPAIR_AFTER: Duration = Duration::from_secs(1);
/// Between planned faults.
const PLANNED_GAP: Duration = Duration::from_secs(4);

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
    let setup = format!(
        "{} nodes, {system}{}, adverts every {}; client probes {VIP} every {}",
        opts.nodes,
        if opts.driver {
            " on driver-mode ports"
        } else {
            ""
        },
        human_us(opts.advert_interval.as_micros() as f64),
        human_us(PROBE_INTERVAL.as_micros() as f64),
    );
    let plain = opts.plain || !std::io::stdout().is_terminal();
    println!("lab: starting {setup}");
    let mut rig = Rig::start(&RigOptions {
        nodes: opts.nodes,
        system,
        timing,
        driver: opts.driver,
    });
    let mut model = Model::new(setup, opts.nodes);
    model.note(
        monotonic_ns(),
        "started: node 1 has the highest priority and becomes master".into(),
    );
    let (mut front, keys) = if plain {
        println!("lab: {} (each followed by Enter)\n", keys::help());
        (Front::Plain(plain::Printer::default()), Keys::lines())
    } else {
        (Front::Full(screen::FullScreen::enter()?), Keys::Terminal)
    };
    let mut plan = opts.scenario.map(|scenario| Plan {
        scenario,
        left: opts.repeat,
        next_at: Instant::now() + Duration::from_secs(3),
        repair: None,
    });

    let started = Instant::now();
    let mut next_tick = started + INTERVAL;
    let result = loop {
        if interrupted.load(Ordering::SeqCst)
            || opts.duration.is_some_and(|d| started.elapsed() >= d)
        {
            break Ok(());
        }
        match keys.next(next_tick) {
            Ok(Some(Command::Quit)) => break Ok(()),
            Ok(Some(command)) => {
                act(command, &mut rig, &mut model);
                if let Err(e) = front.show(&model) {
                    break Err(e);
                }
            }
            Ok(None) => {}
            Err(e) => break Err(e),
        }
        if Instant::now() < next_tick {
            continue;
        }
        // After a slow repair (a daemon restarted) the next interval starts now, rather than
        // a burst of empty ones catching up.
        next_tick = (next_tick + INTERVAL).max(Instant::now());
        tick(&mut rig, &mut model);
        if let Some(plan) = &mut plan {
            follow(plan, &mut rig, &mut model);
        }
        if let Err(e) = front.show(&model) {
            break Err(e);
        }
    };
    drop(front);
    println!("\nlab: tearing down");
    drop(rig);
    result
}

/// One interval: the client's answers, the control sockets' answers, and the new master's log
/// while the last fault's timeline misses its hops.
fn tick(rig: &mut Rig, model: &mut Model) {
    let now_ns = monotonic_ns();
    model.replies(&rig.replies(), now_ns);
    for reading in rig.pollers().take() {
        match reading.status {
            Ok(status) => model.node_answered(reading.node, reading.at_ns, status),
            Err(why) => model.node_silent(reading.node, why),
        }
    }
    let wanted = model.last_fault.as_ref().and_then(|t| t.log_wanted(now_ns));
    if let Some((node, from)) = wanted {
        model.new_master_log(&rig.log_from(node, from), now_ns);
    }
}

fn act(command: Command, rig: &mut Rig, model: &mut Model) {
    let now_ns = monotonic_ns();
    match command {
        Command::Fault(scenario) => {
            fault(scenario, rig, model);
        }
        Command::Repair => {
            let faulted = model.faulted();
            if faulted.is_empty() {
                model.note(now_ns, "nothing to repair".into());
            }
            for node in faulted {
                repair(node, rig, model);
            }
        }
        Command::Unknown => model.note(now_ns, format!("keys: {}", keys::help())),
        Command::Quit => {}
    }
}

/// Puts `scenario` on the node the client reaches; returns that node.
fn fault(scenario: Scenario, rig: &mut Rig, model: &mut Model) -> Option<u8> {
    let now_ns = monotonic_ns();
    let Some(master) = model.holder else {
        model.note(now_ns, "no master to fault yet".into());
        return None;
    };
    if let Some(already) = model.nodes[usize::from(master) - 1].fault {
        model.note(
            now_ns,
            format!("node {master} already has a fault ({already}): r repairs it"),
        );
        return None;
    }
    let logs_from = rig.log_lengths();
    let fault_ns = rig.inject(scenario, master);
    model.fault_injected(scenario, master, fault_ns, logs_from);
    Some(master)
}

fn repair(node: u8, rig: &mut Rig, model: &mut Model) {
    let Some(scenario) = model.nodes[usize::from(node) - 1].fault else {
        return;
    };
    rig.repair(scenario, node);
    model.repaired(node, monotonic_ns());
}

/// Injects the planned fault when the group is steady, and repairs it after its takeover.
fn follow(plan: &mut Plan, rig: &mut Rig, model: &mut Model) {
    if let Some(node) = plan.repair {
        let answered_at =
            model
                .last_fault
                .as_ref()
                .and_then(|t| match (t.first_reply, t.unanswered) {
                    (Some(reply), _) => Some(reply.at_ns),
                    (None, true) => Some(0),
                    (None, false) => None,
                });
        if answered_at.is_some_and(|at| {
            monotonic_ns().saturating_sub(at) >= PLANNED_REPAIR_AFTER.as_nanos() as u64
        }) {
            repair(node, rig, model);
            plan.repair = None;
            plan.next_at = Instant::now() + PLANNED_GAP;
        }
        return;
    }
    if plan.left > 0 && Instant::now() >= plan.next_at && model.holder.is_some() {
        if let Some(node) = fault(plan.scenario, rig, model) {
            plan.left -= 1;
            plan.repair = Some(node);
        }
    }
}
