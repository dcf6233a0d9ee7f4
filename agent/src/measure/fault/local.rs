//! A fault on this host: a signal to the local vipd, or its interface's link going down or up.
//! What the fault acts on is resolved first ([`Target::resolve`]), so that finding the pid or
//! the interface never counts as takeover, and the stamp is taken just before the system call.
use anyhow::{anyhow, bail, Context, Result};
use nix::unistd::Pid;
use std::{
    os::{fd::OwnedFd, unix::net::UnixStream},
    path::{Path, PathBuf},
};

use super::{link, record::FaultRecord, FaultKind};
use crate::{control::client::fetch_status, measure::clock};

/// How to find the local vipd and its interface.
#[derive(Clone, Debug)]
pub struct LocalNode {
    /// The daemon's control socket: its pid comes from the socket's peer credentials (which a
    /// frozen daemon's kernel still gives), its interface from its status.
    pub control_socket: PathBuf,
    /// The daemon's `--pid-file`, preferred over the control socket for the pid when given.
    pub pid_file: Option<PathBuf>,
    /// The interface of link faults; by default the one vipd's instances run on.
    pub interface: Option<String>,
}

/// What a fault acts on, found before it is injected.
pub enum Target {
    Daemon { pid: Pid },
    Link { interface: String, socket: OwnedFd },
}

impl Target {
    pub fn resolve(kind: FaultKind, node: &LocalNode) -> Result<Self> {
        if kind.signal().is_some() {
            return Ok(Target::Daemon {
                pid: daemon_pid(node)?,
            });
        }
        let interface = match &node.interface {
            Some(interface) => interface.clone(),
            None => daemon_interface(&node.control_socket)?,
        };
        let socket = link::control_socket().context("a socket for interface ioctls")?;
        Ok(Target::Link { interface, socket })
    }

    /// What the fault acts on, for people and the record.
    pub fn describe(&self) -> String {
        match self {
            Target::Daemon { pid } => format!("vipd pid {pid}"),
            Target::Link { interface, .. } => interface.clone(),
        }
    }

    /// Injects `kind` and returns its time (CLOCK_REALTIME ns, read just before the system call).
    pub fn inject(&self, kind: FaultKind) -> Result<u64> {
        let at = clock::realtime_ns();
        match self {
            Target::Daemon { pid } => {
                let signal = kind.signal().expect("a daemon target takes a signal");
                nix::sys::signal::kill(*pid, signal)
                    .with_context(|| format!("{signal} to vipd (pid {pid})"))?;
            }
            Target::Link { interface, socket } => {
                let up = kind == FaultKind::LinkUp;
                link::set_up(socket, interface, up).with_context(|| {
                    format!("setting {interface} {}", if up { "up" } else { "down" })
                })?;
            }
        }
        Ok(at)
    }

    /// Injects `kind` and says what happened, as the fault log keeps it.
    pub fn inject_recorded(&self, kind: FaultKind) -> Result<FaultRecord> {
        let at_ns = self.inject(kind)?;
        Ok(FaultRecord {
            kind,
            host: host_name(),
            target: self.describe(),
            at_ns,
            at: clock::rfc3339(at_ns),
            uncertainty_ns: 0,
            ssh_round_trip_ns: None,
            remote_at_ns: None,
        })
    }
}

/// This host's name (its UTS namespace's, as /proc/sys/kernel/hostname reads it).
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|name| name.trim().to_string())
        .ok()
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

/// The local vipd's pid, from its pid file or its control socket, checked to be vipd.
fn daemon_pid(node: &LocalNode) -> Result<Pid> {
    let (pid, source) = match &node.pid_file {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading the pid file {}", path.display()))?;
            let pid: i32 = text
                .trim()
                .parse()
                .map_err(|_| anyhow!("the pid file {} holds no pid", path.display()))?;
            (pid, path.display().to_string())
        }
        None => (
            socket_peer_pid(&node.control_socket)?,
            node.control_socket.display().to_string(),
        ),
    };
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
    if comm.trim() != "vipd" {
        bail!("pid {pid} (from {source}) is not a running vipd");
    }
    Ok(Pid::from_raw(pid))
}

/// The pid of the process listening on the control socket at `path`. The kernel records it
/// when the daemon listens, and answers a connect from its backlog, so a frozen daemon is found
/// too (where asking it for its status would hang).
fn socket_peer_pid(path: &Path) -> Result<i32> {
    let stream = UnixStream::connect(path).with_context(|| {
        format!(
            "no vipd is listening on {} (give its --control-socket or --pid-file)",
            path.display()
        )
    })?;
    let credentials =
        nix::sys::socket::getsockopt(&stream, nix::sys::socket::sockopt::PeerCredentials)
            .with_context(|| format!("the peer of {}", path.display()))?;
    Ok(credentials.pid())
}

/// The one interface the daemon's instances run on.
fn daemon_interface(control_socket: &Path) -> Result<String> {
    let status = fetch_status(control_socket)
        .context("asking vipd which interface to take down (or give --interface)")?;
    let mut interfaces: Vec<String> = status.instances.into_iter().map(|i| i.interface).collect();
    interfaces.sort();
    interfaces.dedup();
    match interfaces.as_slice() {
        [one] => Ok(one.clone()),
        [] => bail!("vipd runs no instance: give --interface"),
        many => bail!(
            "vipd runs instances on {}: give --interface",
            many.join(", ")
        ),
    }
}
