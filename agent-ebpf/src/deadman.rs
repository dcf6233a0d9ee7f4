//! The dead-man switch: the responders answer only while the agent's heartbeat is fresh, so a
//! hung or stopped agent never leaves the node answering for a VIP it no longer defends (the idea
//! of Cilium's L2 responder, which stops when its agent's liveness stamp goes stale). Requests
//! for a VIP the stale agent owned are dropped, not passed: the kernel still holds the address
//! and would answer with the node's MAC beside the backup that took over.
//!
//! The bound is how long a hung agent is trusted; a dead or stopped one need not be waited for,
//! since the kernel says so at once (`agent_watch`).
use aya_ebpf::helpers::bpf_ktime_get_ns;

use crate::maps::{config, AGENT, HEARTBEAT};

/// Whether the agent is alive: not reported exited by the kernel, and its last heartbeat at most
/// the configured bound old. A heartbeat of zero (never written, or voided by a SIGSTOP) or a
/// bound of zero (never configured) means not alive: until the agent says otherwise, the node
/// answers nothing. A heartbeat stamped after `now` (another CPU's clock read racing this one)
/// counts as fresh.
#[inline(always)]
pub fn agent_alive() -> bool {
    if AGENT.get(0).is_some_and(|watch| watch.exited != 0) {
        return false;
    }
    let heartbeat = HEARTBEAT.get(0).copied().unwrap_or(0);
    if heartbeat == 0 {
        return false;
    }
    let now = unsafe { bpf_ktime_get_ns() };
    now.saturating_sub(heartbeat) <= config().deadman_bound_ns
}
