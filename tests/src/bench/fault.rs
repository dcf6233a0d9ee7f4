//! The faults the benchmark injects into the master, from inside the harness (a system call,
//! never a spawned command whose start-up time would count as takeover), and their repair.
use std::{
    fmt,
    os::fd::{AsRawFd, OwnedFd},
};

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
            let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::DGRAM, None)
                .expect("control socket in the switch namespace");
            OwnedFd::from(socket)
        });
        Self { socket }
    }

    /// Brings node `n`'s switch port up or down.
    pub fn set(&self, n: usize, up: bool) {
        // SAFETY: ifreq is plain data; zeroed is a valid value.
        let mut ifr: libc::ifreq = unsafe { std::mem::zeroed() };
        let name = format!("p{n}");
        for (dst, src) in ifr.ifr_name.iter_mut().zip(name.bytes()) {
            *dst = src as libc::c_char;
        }
        let fd = self.socket.as_raw_fd();
        // SAFETY: fd is a socket and ifr a valid ifreq for these requests.
        unsafe {
            assert_eq!(
                libc::ioctl(fd, libc::SIOCGIFFLAGS, &mut ifr),
                0,
                "SIOCGIFFLAGS {name}"
            );
            let flags = &mut ifr.ifr_ifru.ifru_flags;
            if up {
                *flags |= libc::IFF_UP as libc::c_short;
            } else {
                *flags &= !(libc::IFF_UP as libc::c_short);
            }
            assert_eq!(
                libc::ioctl(fd, libc::SIOCSIFFLAGS, &ifr),
                0,
                "SIOCSIFFLAGS {name}"
            );
        }
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
