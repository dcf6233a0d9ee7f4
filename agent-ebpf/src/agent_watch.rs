//! The kernel's word on the agent, for the dead-man switch: the heartbeat bound is how long a
//! late agent is trusted, but an agent that is exiting (kill -9, a crash, the OOM killer) or has
//! taken SIGSTOP is known dead or frozen the moment the kernel acts on it. Waiting out the bound
//! then only keeps the backups waiting while this node echoes for an agent that cannot defend
//! anything.
//!
//! Why a tracepoint rather than the link's lifetime: the XDP link does detach when the last fd of
//! the agent closes, but the exiting process closes its fds in order, and each AF_PACKET socket
//! before the link waits out an RCU grace period (`packet_release`): measured on this kernel, the
//! link went 17-30 ms after SIGKILL, long after the 10 ms bound.
//!
//! Both programs run for every process on the host, so each does one map lookup and returns
//! unless the current task is the watched agent.
use agent_common::AgentWatch;
use aya_ebpf::{
    bindings::bpf_pidns_info, helpers::bpf_get_ns_current_pid_tgid, macros::raw_tracepoint,
    programs::RawTracePointContext,
};

use crate::maps::{AGENT, HEARTBEAT};

/// SIGSTOP, the one stop signal no process can catch or ignore (the same number on every
/// architecture vipd builds for).
const SIGSTOP: u64 = 19;

/// `sched_process_exit(struct task_struct *p)`: fires in `do_exit` of every thread, before its
/// files are closed. The agent's main thread exits only when the whole process does (a Rust
/// program's `main` returning, or a fatal signal), so that one marks the agent gone; its
/// worker threads come and go.
#[raw_tracepoint(tracepoint = "sched_process_exit")]
pub fn vipd_agent_exit(_ctx: RawTracePointContext) -> i32 {
    let Some(watch) = AGENT.get_ptr_mut(0) else {
        return 0;
    };
    // SAFETY: the pointer is the map's one entry; a torn read of the identity only fails the
    // comparison below, and `exited` is written whole.
    let watch = unsafe { &mut *watch };
    if let Some(task) = watched_task(watch) {
        if task.pid == task.tgid {
            watch.exited = 1;
        }
    }
    0
}

/// `signal_deliver(int sig, struct kernel_siginfo *info, struct k_sigaction *ka)`: fires in the
/// thread that dequeues a signal, just before a stop signal stops the whole thread group. A
/// SIGSTOP voids the heartbeat; the engine's first heartbeat after SIGCONT restores it.
#[raw_tracepoint(tracepoint = "signal_deliver")]
pub fn vipd_agent_stop(ctx: RawTracePointContext) -> i32 {
    let signal: u64 = ctx.arg(0);
    if signal & 0xffff_ffff != SIGSTOP {
        return 0;
    }
    let Some(watch) = AGENT.get(0) else {
        return 0;
    };
    if watched_task(watch).is_some() {
        if let Some(heartbeat) = HEARTBEAT.get_ptr_mut(0) {
            // SAFETY: the pointer is the map's one entry; a u64 store is not torn.
            unsafe { *heartbeat = 0 };
        }
    }
    0
}

/// The current task's ids as the agent's pid namespace numbers them, if it belongs to the
/// watched agent (never while no agent is watched).
#[inline(always)]
fn watched_task(watch: &AgentWatch) -> Option<bpf_pidns_info> {
    if watch.tgid == 0 {
        return None;
    }
    let mut task = bpf_pidns_info { pid: 0, tgid: 0 };
    // SAFETY: `task` is a live, writable bpf_pidns_info of the size passed.
    let result = unsafe {
        bpf_get_ns_current_pid_tgid(
            watch.pidns_dev,
            watch.pidns_ino,
            &mut task,
            core::mem::size_of::<bpf_pidns_info>() as u32,
        )
    };
    (result == 0 && task.tgid == watch.tgid).then_some(task)
}
