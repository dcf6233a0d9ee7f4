//! The maps this program shares with user space, and the counter helper. Names, keys and values
//! come from `agent-common` so both sides agree on them; user space is the only writer of every
//! map but the ring buffer, the counters, and the agent watch's verdicts (`agent_watch`).
use agent_common::{
    counter, AgentWatch, OwnedV4Key, OwnedV6Key, OwnedVip, VridConfig, VridKey, XdpConfig,
    ADVERTS_RING_BYTES, MAX_OWNED_VIPS, MAX_VRIDS,
};
use aya_ebpf::{
    macros::map,
    maps::{Array, HashMap, PerCpuArray, RingBuf},
};

/// Ring buffer of `agent_common::AdvertRecord`s, one per advert that passed the invariants.
#[map(name = "ADVERTS")]
pub static ADVERTS: RingBuf = RingBuf::with_byte_size(ADVERTS_RING_BYTES, 0);

/// The VRIDs configured per (interface, family); adverts of any other VRID are not recorded.
#[map(name = "VRIDS")]
pub static VRIDS: HashMap<VridKey, VridConfig> = HashMap::with_max_entries(MAX_VRIDS, 0);

/// IPv4 VIPs this node answers ARP for, per interface.
#[map(name = "OWNED_V4")]
pub static OWNED_V4: HashMap<OwnedV4Key, OwnedVip> = HashMap::with_max_entries(MAX_OWNED_VIPS, 0);

/// IPv6 VIPs this node answers neighbour solicitations for, per interface.
#[map(name = "OWNED_V6")]
pub static OWNED_V6: HashMap<OwnedV6Key, OwnedVip> = HashMap::with_max_entries(MAX_OWNED_VIPS, 0);

/// The (interface, VRID, family) this node is master of: echo probes for them are reflected.
#[map(name = "REFLECT")]
pub static REFLECT: HashMap<VridKey, u32> = HashMap::with_max_entries(MAX_VRIDS, 0);

/// Set by user space: the dead-man bound.
#[map(name = "CONFIG")]
pub static CONFIG: Array<XdpConfig> = Array::with_max_entries(1, 0);

/// The agent's last heartbeat, CLOCK_MONOTONIC nanoseconds (0: never).
#[map(name = "HEARTBEAT")]
pub static HEARTBEAT: Array<u64> = Array::with_max_entries(1, 0);

/// Which process is the agent, and whether the kernel has reported it gone (`agent_watch`).
#[map(name = "AGENT")]
pub static AGENT: Array<AgentWatch> = Array::with_max_entries(1, 0);

/// Set by user space: non-zero while BFD echo packets are reflected (`bfd`).
#[map(name = "BFD_ECHO")]
pub static BFD_ECHO: Array<u32> = Array::with_max_entries(1, 0);

/// Event counters, per CPU so counting never contends; indices in `agent_common::counter`.
#[map(name = "COUNTERS")]
pub static COUNTERS: PerCpuArray<u64> = PerCpuArray::with_max_entries(counter::COUNT, 0);

/// Adds one to counter `index`.
#[inline(always)]
pub fn count(index: u32) {
    if let Some(value) = COUNTERS.get_ptr_mut(index) {
        // SAFETY: the pointer is this CPU's slot of the array; XDP programs do not nest on a CPU.
        unsafe { *value += 1 };
    }
}

/// The configuration entry (all zero until user space writes it).
#[inline(always)]
pub fn config() -> XdpConfig {
    CONFIG.get(0).copied().unwrap_or_default()
}
