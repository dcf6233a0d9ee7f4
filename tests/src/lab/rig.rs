//! The lab's running parts: the switch and the namespaces, vipd on each node, the echo servers,
//! the client's probe and the control-socket pollers; faults go in and out through here, with
//! the takeover benchmark's own injection and repair (`bench::fault`). Dropping it tears
//! everything down: the probe first, then the daemons, then the namespaces.
use std::time::Duration;

use super::status::StatusPollers;
use crate::{
    bench::{
        echo::EchoServers,
        fault::{self, Scenario, SwitchPorts},
        probe::{Probe, Reply},
        system::{NodeProcess, System, Timing, VIP},
    },
    topology::Lan,
    vipd::Scratch,
};

/// How often the client probes the VIP.
pub const PROBE_INTERVAL: Duration = Duration::from_micros(20);

/// How the group runs, from the command line.
pub struct RigOptions {
    pub nodes: usize,
    pub system: System,
    pub timing: Timing,
    /// Pass-through XDP programs on the switch ports and vipd in driver mode.
    pub driver: bool,
}

// Field order is drop order.
pub struct Rig {
    probe: Probe,
    pollers: StatusPollers,
    nodes: Vec<NodeProcess>,
    ports: SwitchPorts,
    _echo: EchoServers,
    _dir: Scratch,
    lan: Lan,
}

impl Rig {
    pub fn start(opts: &RigOptions) -> Self {
        let lan = if opts.driver {
            Lan::with_pass_through_ports(opts.nodes + 1)
        } else {
            Lan::new(opts.nodes + 1)
        };
        let dir = Scratch::new("lab");
        let echo = EchoServers::start(&lan, opts.nodes);
        let ports = SwitchPorts::new(&lan);
        let nodes =
            NodeProcess::start_group(opts.system, &lan, opts.nodes, opts.timing, dir.path());
        let sockets = nodes
            .iter()
            .map(|n| {
                n.control_socket()
                    .expect("vipd has a control socket")
                    .to_path_buf()
            })
            .collect();
        let probe = Probe::start(&lan, opts.nodes + 1, VIP, PROBE_INTERVAL);
        Self {
            probe,
            pollers: StatusPollers::start(sockets),
            nodes,
            ports,
            _echo: echo,
            _dir: dir,
            lan,
        }
    }

    /// The client's replies since the last call.
    pub fn replies(&self) -> Vec<Reply> {
        self.probe.take()
    }

    pub fn pollers(&self) -> &StatusPollers {
        &self.pollers
    }

    /// Every node's log length now: where a fault's part of each log begins.
    pub fn log_lengths(&self) -> Vec<usize> {
        self.nodes.iter().map(|n| n.log().len()).collect()
    }

    /// Node `n`'s log from byte `from` on.
    pub fn log_from(&self, n: u8, from: usize) -> String {
        let log = self.nodes[usize::from(n) - 1].log();
        log.get(from..).unwrap_or_default().to_string()
    }

    /// Puts `scenario` on node `n`; returns the CLOCK_MONOTONIC ns of the fault.
    pub fn inject(&self, scenario: Scenario, n: u8) -> u64 {
        fault::inject(scenario, &self.nodes[usize::from(n) - 1], &self.ports)
    }

    /// Undoes `scenario` on node `n` (a killed or stopped daemon is started again).
    pub fn repair(&mut self, scenario: Scenario, n: u8) {
        fault::repair(
            scenario,
            &mut self.nodes[usize::from(n) - 1],
            &self.ports,
            &self.lan,
        );
    }
}
