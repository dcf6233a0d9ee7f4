//! The process the program's agent watch (`agent-ebpf/src/agent_watch.rs`) treats as the agent:
//! when its main thread exits, or any of its threads takes SIGSTOP, the responders stop at once
//! instead of after the dead-man bound. vipd watches itself; tests watch a child they kill.
use agent_common::AgentWatch;
use std::{fs, io, os::unix::fs::MetadataExt};

/// A process as the kernel's helper `bpf_get_ns_current_pid_tgid` identifies it: its pid
/// namespace (device and inode of its `ns/pid` file) and its process id in that namespace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WatchedAgent {
    pidns_dev: u64,
    pidns_ino: u64,
    tgid: u32,
}

impl WatchedAgent {
    /// The calling process.
    pub fn this_process() -> io::Result<Self> {
        Self::process(std::process::id())
    }

    /// Process `pid` of the caller's pid namespace (a child, say).
    pub fn process(pid: u32) -> io::Result<Self> {
        // The namespace is the caller's: `pid` is a number in it, and /proc/self/ns/pid names
        // it even when /proc/PID is not visible.
        let namespace = fs::metadata("/proc/self/ns/pid")?;
        Ok(Self {
            pidns_dev: namespace.dev(),
            pidns_ino: namespace.ino(),
            tgid: pid,
        })
    }

    pub(super) fn entry(self) -> AgentWatch {
        AgentWatch {
            pidns_dev: self.pidns_dev,
            pidns_ino: self.pidns_ino,
            tgid: self.tgid,
            exited: 0,
        }
    }
}
