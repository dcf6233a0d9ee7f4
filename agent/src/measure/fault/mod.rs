//! The faults `vipd fault` injects into a node, as the lab's benchmark does: into the local
//! vipd (`local`: a signal, through the system call itself, never a spawned command whose
//! start-up would count as takeover) and the local link (`link`), or into another host's over
//! the system's ssh (`remote`). Each fault is stamped on the wall clock just before the system
//! call that causes it and appended to a log (`record`) that `vipd probe --faults` reads, so
//! the probe can say how long after the fault the client was answered again.
pub mod link;
pub mod local;
pub mod record;
pub mod remote;

use std::fmt;

use serde::{Deserialize, Serialize};

/// What `vipd fault` does to the node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, clap::ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FaultKind {
    /// SIGTERM: a graceful stop; the master resigns with a priority-0 advert.
    Stop,
    /// SIGKILL: a crash; its VIP stays on its interface.
    Kill9,
    /// SIGSTOP: the daemon hangs (a stalled VM, a long pause).
    Freeze,
    /// SIGCONT: the frozen daemon runs again (a repair).
    Thaw,
    /// The interface goes down, as when its cable is pulled.
    LinkDown,
    /// The interface comes back up (a repair).
    LinkUp,
}

impl FaultKind {
    /// The benchmark's name for this fault's scenario (`cargo xtask bench takeover
    /// --scenarios`); `None` for the repairs, which the benchmark does not measure.
    pub fn scenario(self) -> Option<&'static str> {
        match self {
            FaultKind::Stop => Some("sigterm"),
            FaultKind::Kill9 => Some("kill9"),
            FaultKind::Freeze => Some("sigstop"),
            FaultKind::LinkDown => Some("cable"),
            FaultKind::Thaw | FaultKind::LinkUp => None,
        }
    }

    /// The signal it sends to vipd, for the faults on the daemon.
    pub fn signal(self) -> Option<nix::sys::signal::Signal> {
        use nix::sys::signal::Signal;
        match self {
            FaultKind::Stop => Some(Signal::SIGTERM),
            FaultKind::Kill9 => Some(Signal::SIGKILL),
            FaultKind::Freeze => Some(Signal::SIGSTOP),
            FaultKind::Thaw => Some(Signal::SIGCONT),
            FaultKind::LinkDown | FaultKind::LinkUp => None,
        }
    }

    /// The word on the command line (`vipd fault link-down`).
    pub fn name(self) -> &'static str {
        match self {
            FaultKind::Stop => "stop",
            FaultKind::Kill9 => "kill9",
            FaultKind::Freeze => "freeze",
            FaultKind::Thaw => "thaw",
            FaultKind::LinkDown => "link-down",
            FaultKind::LinkUp => "link-up",
        }
    }
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::ValueEnum;

    #[test]
    fn the_command_line_the_log_and_the_name_agree() {
        for kind in FaultKind::value_variants() {
            let word = kind.to_possible_value().unwrap().get_name().to_string();
            assert_eq!(word, kind.name());
            assert_eq!(serde_json::to_string(kind).unwrap(), format!("\"{word}\""));
        }
    }
}
