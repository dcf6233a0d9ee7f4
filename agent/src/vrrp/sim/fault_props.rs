//! Property tests of liveness under the faults a machine produces (the master's scheduler, the
//! backup's, a link's softirq, a cable, a crash; loss and reordering), checked against the
//! detection budget of [`crate::vrrp::budget`]:
//! - a fault shorter than its tolerated length never causes a takeover;
//! - a death is detected within its budget, epsilon (the link's maximum one-way delay)
//!   included;
//! - whatever happened, once the network is quiet there is exactly one master.

use std::time::Duration;

use proptest::prelude::*;

use super::*;
use crate::vrrp::budget::{self, Budget, Fault, Params};
use crate::vrrp::liveness::EchoConfig;

/// The master (node 0) outranks every backup.
const MASTER: usize = 0;
const MASTER_PRIORITY: u8 = 250;
const US: Duration = Duration::from_micros(1);

/// A group and the segment it runs on.
#[derive(Debug, Clone)]
struct Setup {
    backups: Vec<u8>,
    interval: Duration,
    /// `None`: the echo off.
    echo: Option<EchoConfig>,
    deadman: Deadman,
    link: Link,
    seed: u64,
}

fn setup() -> impl Strategy<Value = Setup> {
    let interval = prop_oneof![Just(10u64), Just(20), Just(50), Just(100), 5u64..=400]
        .prop_map(|us| Duration::from_micros(us * 10).min(Duration::from_millis(4)));
    let echo = (
        prop_oneof![Just(0.5f64), Just(1.0), Just(2.0)],
        prop_oneof![2 => Just(None), 1 => (10u64..5_000).prop_map(Some)],
    );
    (
        prop::collection::vec(1u8..=240, 1..=2),
        interval,
        prop::option::weighted(0.8, echo),
        prop_oneof![
            2 => Just(Deadman::FAST_MODE),
            1 => (2u64..=20).prop_map(|ms| Deadman {
                every: Duration::from_millis(1),
                bound: Duration::from_millis(ms),
            }),
        ],
        (5u64..=50, 0u64..=30),
        any::<u64>(),
    )
        .prop_map(
            |(backups, interval, echo, deadman, (delay, jitter), seed)| {
                let echo = echo.map(|(factor, timeout)| {
                    let every =
                        Duration::from_secs_f64(interval.as_secs_f64() * factor).max(US * 10);
                    EchoConfig {
                        interval: every,
                        timeout: timeout
                            .map_or(EchoConfig::default_timeout(every), |t| US * t as u32),
                    }
                });
                Setup {
                    backups,
                    interval,
                    echo,
                    deadman,
                    link: Link {
                        delay: US * delay as u32,
                        jitter: US * jitter as u32,
                    },
                    seed,
                }
            },
        )
}

impl Setup {
    fn sim(&self) -> Sim {
        let priorities: Vec<u8> = std::iter::once(MASTER_PRIORITY)
            .chain(self.backups.iter().copied())
            .collect();
        let mut configs = group(&priorities, self.interval);
        if let Some(echo) = self.echo {
            for c in &mut configs {
                c.echo = echo;
            }
        }
        let echo = self.echo.map(|_| self.deadman);
        let mut sim = Sim::with_echo(configs, self.link, echo, self.seed);
        sim.start_all();
        sim
    }

    /// Node `backup`'s view of the budget, following the master.
    fn params(&self, sim: &Sim, backup: usize) -> Params {
        Params {
            advert_interval: self.interval,
            master_down_interval: sim.nodes[backup].router.master_down_interval(),
            echo: self.echo,
            deadman_bound: self.deadman.bound,
            heartbeat_every: self.deadman.every,
            delay: self.link.delay,
            jitter: self.link.jitter,
        }
    }

    /// The tightest budget among the backups: the shortest tolerance, the earliest detection
    /// (the first backup to act is the one with the shortest wait).
    fn budget(&self, sim: &Sim, fault: Fault) -> Budget {
        let budgets: Vec<Budget> = (1..sim.nodes.len())
            .map(|b| budget::budget(fault, &self.params(sim, b)))
            .collect();
        Budget {
            tolerated: budgets.iter().map(|b| b.tolerated).min().unwrap(),
            detected_within: budgets.iter().filter_map(|b| b.detected_within).min(),
        }
    }

    /// Long enough for anything the budget allows to have happened.
    fn quiet(&self, sim: &Sim) -> Duration {
        let p = self.params(sim, 1);
        let longest = budget::budget(Fault::MasterAgentStall, &p)
            .detected_within
            .unwrap();
        longest * 2 + Duration::from_millis(50)
    }
}

/// Runs `sim` until the master is elected and every backup follows it (and, with the echo
/// on, knows where to probe).
fn settle(sim: &mut Sim, s: &Setup) -> Result<(), TestCaseError> {
    sim.run_for(s.interval * 40 + Duration::from_millis(30));
    prop_assert_eq!(sim.current_masters(), vec![MASTER]);
    for b in 1..sim.nodes.len() {
        prop_assert_eq!(
            sim.nodes[b].router.current_master(),
            Some(node_addr(MASTER))
        );
    }
    Ok(())
}

/// A fault that ends.
#[derive(Debug, Clone, Copy)]
enum Stall {
    MasterAgent,
    /// Backup number k (1-based) stalls.
    BackupAgent(usize),
    /// Node k's link holds its frames.
    Link(usize),
    /// Node k's cable is out.
    Cut(usize),
}

impl Stall {
    fn fault(self) -> Fault {
        match self {
            Stall::MasterAgent => Fault::MasterAgentStall,
            Stall::BackupAgent(_) => Fault::BackupAgentStall,
            Stall::Link(_) => Fault::LinkStall,
            Stall::Cut(_) => Fault::LinkCut,
        }
    }

    fn node(self, n: usize) -> usize {
        match self {
            Stall::MasterAgent => MASTER,
            Stall::BackupAgent(k) => 1 + (k - 1) % (n - 1),
            Stall::Link(k) | Stall::Cut(k) => k % n,
        }
    }

    /// Starts the fault for `d`; a cut is ended by [`Stall::end`].
    fn start(self, sim: &mut Sim, d: Duration) {
        let node = self.node(sim.nodes.len());
        match self {
            Stall::MasterAgent | Stall::BackupAgent(_) => sim.stall_agent(node, Some(d)),
            Stall::Link(_) => sim.stall_link(node, d),
            Stall::Cut(_) => sim.set_cut(node, true),
        }
    }

    fn end(self, sim: &mut Sim) {
        if let Stall::Cut(_) = self {
            let node = self.node(sim.nodes.len());
            sim.set_cut(node, false);
        }
    }
}

fn stall() -> impl Strategy<Value = Stall> {
    prop_oneof![
        Just(Stall::MasterAgent),
        (1usize..=2).prop_map(Stall::BackupAgent),
        (0usize..=2).prop_map(Stall::Link),
        (0usize..=2).prop_map(Stall::Cut),
    ]
}

/// A fault that does not end.
#[derive(Debug, Clone, Copy)]
enum Death {
    /// The master's node crashes.
    Crash,
    /// The master's cable is pulled for good.
    Cable,
    /// The master's agent hangs for good; its kernel lives (a deadlock, a cgroup freeze: what the
    /// kernel does not report; kill -9 and SIGSTOP are reported by the daemon's agent watch and
    /// silence the program at once, which for the echo is a `Crash`).
    Agent,
}

impl Death {
    fn fault(self) -> Fault {
        match self {
            Death::Crash => Fault::MasterGone,
            Death::Cable => Fault::LinkCut,
            Death::Agent => Fault::MasterAgentStall,
        }
    }
}

fn transitions_since(sim: &Sim, since: Instant) -> Vec<Transition> {
    sim.transitions
        .iter()
        .filter(|t| t.at >= since)
        .copied()
        .collect()
}

proptest! {
    // Each case runs a group for a few hundred simulated milliseconds at sub-millisecond
    // intervals; the mutations tried on the router were each found within a few cases.
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// A fault shorter than the budget tolerates never moves the master: the master's
    /// scheduler (its XDP program keeps answering probes until the dead-man bound), the
    /// backup's (it judges by the stamps of what arrived while it slept), a link's softirq
    /// (adverts and echoes held together), a cable out for a moment.
    #[test]
    fn a_stall_within_budget_never_causes_a_takeover(
        s in setup(),
        fault in stall(),
        fraction in 0.0..1.0f64,
        backup_stall_us in 0u64..100_000,
        phase_us in 0u64..4_000,
    ) {
        let mut sim = s.sim();
        settle(&mut sim, &s)?;
        sim.run_for(US * phase_us as u32);
        let budget = s.budget(&sim, fault.fault());
        let length = match budget.tolerated {
            Duration::MAX => US * backup_stall_us as u32,
            tolerated => tolerated.mul_f64(fraction),
        };
        let at = sim.now;
        fault.start(&mut sim, length);
        sim.run_for(length);
        fault.end(&mut sim);
        let quiet = s.quiet(&sim);
        sim.run_for(quiet);
        prop_assert_eq!(
            transitions_since(&sim, at),
            vec![],
            "{:?} of {:?} (tolerated {:?}) at {}",
            fault,
            length,
            budget.tolerated,
            at
        );
    }

    /// A freeze of every node at once, kernels included (a hypervisor pausing the machine
    /// the nodes share), never causes a takeover, however long: when it ends, a backup that
    /// woke late asks again before it judges, and the master, frozen too, advertises at once.
    #[test]
    fn a_freeze_of_every_node_never_causes_a_takeover(
        s in setup(),
        length_us in 0u64..20_000,
        phase_us in 0u64..4_000,
    ) {
        let mut sim = s.sim();
        settle(&mut sim, &s)?;
        sim.run_for(US * phase_us as u32);
        let budget = s.budget(&sim, Fault::Freeze);
        let length = (US * length_us as u32).min(budget.tolerated);
        let at = sim.now;
        sim.freeze_all(length);
        sim.run_for(length + s.quiet(&sim));
        prop_assert_eq!(
            transitions_since(&sim, at),
            vec![],
            "freeze of {:?} (tolerated {:?}) at {}",
            length,
            budget.tolerated,
            at
        );
    }

    /// A death is detected within its budget: a crash and a cable pull within
    /// max(Master_Down_Interval, echo interval + timeout), a hung agent whose kernel still
    /// reflects within that plus the dead-man bound; each plus the link's delay and jitter.
    #[test]
    fn a_death_is_detected_within_budget(
        s in setup(),
        death in prop_oneof![Just(Death::Crash), Just(Death::Cable), Just(Death::Agent)],
        phase_us in 0u64..4_000,
    ) {
        let mut sim = s.sim();
        settle(&mut sim, &s)?;
        sim.run_for(US * phase_us as u32);
        let within = s.budget(&sim, death.fault()).detected_within.unwrap();
        let at = sim.now;
        match death {
            Death::Crash => sim.crash(MASTER),
            Death::Cable => sim.set_cut(MASTER, true),
            Death::Agent => sim.stall_agent(MASTER, None),
        }
        sim.run_for(within);
        let taken = (1..sim.nodes.len()).filter_map(|b| sim.became_master_at(b, at)).min();
        prop_assert!(
            taken.is_some(),
            "{:?} at {} not detected within {:?}",
            death,
            at,
            within
        );
    }

    /// Whatever faults come, in any order and of any length, with loss and reordering: once
    /// the network is quiet again (links whole, nothing stalled, no loss) the group has exactly
    /// one master, of the best priority, and keeps it.
    #[test]
    fn one_master_once_the_network_is_quiet(
        s in setup(),
        faults in prop::collection::vec(
            (stall(), 0u64..30_000, 0u64..10_000, prop::option::weighted(0.2, 0.0..0.5f64)),
            1..8,
        ),
        crash in prop::option::weighted(0.3, (0usize..3, 0u64..20_000)),
    ) {
        let mut sim = s.sim();
        settle(&mut sim, &s)?;
        let mut cuts = Vec::new();
        for (fault, length_us, wait_us, loss) in &faults {
            let length = US * *length_us as u32;
            fault.start(&mut sim, length);
            if let Stall::Cut(_) = fault {
                cuts.push(*fault);
            }
            sim.set_loss_all(loss.unwrap_or(0.0));
            sim.run_for(US * *wait_us as u32);
        }
        if let Some((node, down_us)) = crash {
            let node = node % sim.nodes.len();
            sim.crash(node);
            sim.run_for(US * down_us as u32);
            sim.restart(node);
        }
        // Quiet: every cable back, no loss; the stalls have lengths and end by themselves.
        for fault in cuts {
            fault.end(&mut sim);
        }
        sim.set_loss_all(0.0);
        let longest_stall = faults.iter().map(|(_, l, _, _)| US * *l as u32).max().unwrap();
        let quiet = s.quiet(&sim);
        sim.run_for(longest_stall + quiet);
        let settled = sim.now;
        sim.run_for(quiet);
        prop_assert_eq!(sim.current_masters(), vec![MASTER]);
        prop_assert_eq!(sim.multi_master_time(settled, sim.now), Duration::ZERO);
        for b in 1..sim.nodes.len() {
            prop_assert_eq!(sim.nodes[b].router.state(), State::Backup);
            prop_assert!(!sim.nodes[b].holds_vips);
        }
        prop_assert!(sim.nodes[MASTER].holds_vips);
        prop_assert_eq!(sim.drops, 0);
    }
}
