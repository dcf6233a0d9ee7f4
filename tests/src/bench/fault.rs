//! The faults the benchmark injects into the master, from inside the harness (a system call,
//! never a spawned command whose start-up time would count as takeover), and their repair.
use std::{fmt, os::fd::OwnedFd};

use super::system::NodeProcess;
use crate::{clock::monotonic_ns, topology::Lan};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scenario {
    /// The master's switch port goes down (its cable is pulled).
    Cable,
    /// kill -9 of the master's daemon; its VIP stays on its interface, as after a crash.
    Kill9,
    /// SIGSTOP: the master's daemon freezes (a hung process, a long GC pause, a stalled VM).
    Sigstop,
    /// SIGTERM: a graceful stop, the master resigns with a priority-0 advert.
    Sigterm,
}

impl fmt::Display for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Scenario::Cable => "cable pull",
            Scenario::Kill9 => "kill -9",
            Scenario::Sigstop => "SIGSTOP",
            Scenario::Sigterm => "graceful stop",
        })
    }
}

/// Flips switch ports with SIOCSIFFLAGS on a socket that lives in the switch's namespace.
pub struct SwitchPorts {
    socket: OwnedFd,
}

impl SwitchPorts {
    pub fn new(lan: &Lan) -> Self {
        let socket = lan.switch().run(|| {
            vipd::measure::fault::link::control_socket()
                .expect("control socket in the switch namespace")
        });
        Self { socket }
    }

    /// Brings node `n`'s switch port up or down (with `vipd fault link-down`'s system call).
    pub fn set(&self, n: usize, up: bool) {
        let name = format!("p{n}");
        vipd::measure::fault::link::set_up(&self.socket, &name, up)
            .unwrap_or_else(|e| panic!("setting {name} up={up}: {e}"));
    }
}

/// Injects `scenario` into `master` and returns the CLOCK_MONOTONIC time of the fault, in ns:
/// the instant just before the system call that causes it.
pub fn inject(scenario: Scenario, master: &NodeProcess, ports: &SwitchPorts) -> u64 {
    let signal = |pid: Option<i32>, signal| {
        let pid = pid.expect("the master's daemon is running");
        let at = monotonic_ns();
        // SAFETY: kill has no memory-safety preconditions.
        unsafe { libc::kill(pid, signal) };
        at
    };
    match scenario {
        Scenario::Cable => {
            let at = monotonic_ns();
            ports.set(master.node, false);
            at
        }
        Scenario::Kill9 => signal(master.vrrp_pid(), libc::SIGKILL),
        Scenario::Sigstop => signal(master.vrrp_pid(), libc::SIGSTOP),
        Scenario::Sigterm => signal(master.main_pid(), libc::SIGTERM),
    }
}

/// Undoes the fault so the original master can take its place again.
pub fn repair(scenario: Scenario, master: &mut NodeProcess, ports: &SwitchPorts, lan: &Lan) {
    match scenario {
        Scenario::Cable => ports.set(master.node, true),
        Scenario::Sigstop => {
            if let Some(pid) = master.vrrp_pid() {
                // SAFETY: kill has no memory-safety preconditions.
                unsafe { libc::kill(pid, libc::SIGCONT) };
            }
        }
        Scenario::Kill9 => master.restart(lan),
        Scenario::Sigterm => {
            master.wait();
            master.restart(lan);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::ValueEnum;

    /// What `vipd fault` calls each scenario's fault.
    fn fault_kind(scenario: Scenario) -> vipd::measure::fault::FaultKind {
        use vipd::measure::fault::FaultKind;
        match scenario {
            Scenario::Cable => FaultKind::LinkDown,
            Scenario::Kill9 => FaultKind::Kill9,
            Scenario::Sigstop => FaultKind::Freeze,
            Scenario::Sigterm => FaultKind::Stop,
        }
    }

    /// A site's figures (`vipd probe --json`) and the lab's share one name per scenario.
    #[test]
    fn vipd_fault_names_each_scenario_as_the_benchmark_does() {
        for scenario in Scenario::value_variants() {
            let ours = serde_json::to_value(scenario).unwrap();
            assert_eq!(
                fault_kind(*scenario).scenario(),
                ours.as_str(),
                "{scenario}"
            );
        }
    }
}
