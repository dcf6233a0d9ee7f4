//! The ABI shared by the XDP program (`agent-ebpf`) and the agent (`agent`): map names, map keys
//! and values, ring-buffer records, counter indices and protocol constants.
//!
//! Everything here is `#[repr(C)]` with explicit padding so that the kernel side and user space
//! agree on layout byte for byte (and a map key never hashes an uninitialised byte); the `user`
//! feature adds `aya::Pod` so user space can read and write them in maps and ring buffers.
#![no_std]

/// IP protocol number of VRRP (RFC 9568 section 5.1.1.4, RFC 3768 section 5.2.4).
pub const IPPROTO_VRRP: u8 = 112;

/// UDP port of BFD echo packets (RFC 5881 section 4), which the program reflects (RFC 9747).
pub const BFD_ECHO_PORT: u16 = 3785;

/// TTL / hop limit every VRRP advert must carry (RFC 9568 section 5.1.1.3).
pub const VRRP_TTL: u8 = 255;

/// Names of the maps and the program in the eBPF object, so both sides use one spelling.
pub mod names {
    /// The XDP program attached to each VRRP interface.
    pub const XDP_PROGRAM: &str = "vipd_xdp";
    /// Ring buffer of [`super::AdvertRecord`]s.
    pub const ADVERTS_RING: &str = "ADVERTS";
    /// Hash map [`super::VridKey`] -> [`super::VridConfig`]: the VRIDs whose adverts are recorded.
    pub const VRIDS: &str = "VRIDS";
    /// Hash map [`super::OwnedV4Key`] -> [`super::OwnedVip`]: IPv4 VIPs answered for by ARP.
    pub const OWNED_V4: &str = "OWNED_V4";
    /// Hash map [`super::OwnedV6Key`] -> [`super::OwnedVip`]: IPv6 VIPs answered for by NA.
    pub const OWNED_V6: &str = "OWNED_V6";
    /// Array of one [`super::XdpConfig`].
    pub const CONFIG: &str = "CONFIG";
    /// Array of one `u64`: the agent's last heartbeat, CLOCK_MONOTONIC nanoseconds.
    pub const HEARTBEAT: &str = "HEARTBEAT";
    /// (ifindex, VRID, family) of the instances this node is master of: echo probes for them
    /// are reflected.
    pub const REFLECT: &str = "REFLECT";
    /// Per-CPU array of `u64`, indexed by [`super::counter`].
    pub const COUNTERS: &str = "COUNTERS";
    /// Array of one `u32`: non-zero while RFC 9747 unaffiliated BFD echo packets are reflected.
    pub const BFD_ECHO: &str = "BFD_ECHO";
    /// Array of one [`super::AgentWatch`]: which process the dead-man switch watches, and
    /// whether the kernel has reported it gone.
    pub const AGENT: &str = "AGENT";
    /// The raw tracepoint program on `sched_process_exit` that marks the watched agent gone.
    pub const AGENT_EXIT_PROGRAM: &str = "vipd_agent_exit";
    /// The raw tracepoint program on `signal_deliver` that voids the heartbeat of a watched agent
    /// taking SIGSTOP.
    pub const AGENT_STOP_PROGRAM: &str = "vipd_agent_stop";
}

/// Size of the advert ring buffer in bytes (a power of two and a multiple of the page size).
/// At 48 bytes a record (plus an 8-byte header) it holds about 18,700 records: a second of
/// adverts and echoes at 100 us, so a late reader loses nothing.
pub const ADVERTS_RING_BYTES: u32 = 1024 * 1024;

/// Capacity of [`names::VRIDS`]: every VRID of both families on four interfaces.
pub const MAX_VRIDS: u32 = 2048;
/// Capacity of each owned-VIP map.
pub const MAX_OWNED_VIPS: u32 = 4096;

/// Address family of an advert's IP header, as stored in [`AdvertRecord::family`] and
/// [`VridKey::family`].
pub mod family {
    pub const IPV4: u8 = 4;
    pub const IPV6: u8 = 6;
}

/// One counter of the per-CPU [`names::COUNTERS`] array: where it is, what user space calls it,
/// and what it means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CounterSpec {
    /// Its slot in the array, also its constant in [`counter`].
    pub index: u32,
    /// Its stable external name: the key in `vipd status --json`, the word in `vipd status`, and
    /// `vipd_xdp_<name>_total` in the metrics. Renaming one breaks their readers.
    pub name: &'static str,
    /// One plain sentence for people: the metric's HELP text and the index constant's doc.
    pub help: &'static str,
}

/// Declares the counters once: each line becomes an index constant in [`counter`] (what the
/// program counts with) and a row of [`XDP_COUNTERS`] (what user space reads, reports and
/// exports), so the two cannot disagree.
macro_rules! xdp_counters {
    ($($(#[$extra:meta])* $index:literal $constant:ident $name:literal $help:literal;)*) => {
        /// Indices into the per-CPU [`names::COUNTERS`] array, one per row of [`XDP_COUNTERS`].
        /// Every frame the program sees ends in exactly one of `ADVERTS_DROPPED`,
        /// `ADVERTS_UNSIGNED`, `ADVERTS_THROTTLED`, `ARP_ANSWERED`, `NA_ANSWERED`,
        /// `DEADMAN_SUPPRESSED` or `PASSED` (or an echo counter);
        /// the others count reasons along the way.
        pub mod counter {
            $(
                #[doc = $help]
                $(#[$extra])*
                pub const $constant: u32 = $index;
            )*
            /// Number of counters, the size of the array.
            pub const COUNT: u32 = super::XDP_COUNTERS.len() as u32;
        }

        /// Every counter of the program, in index order.
        pub const XDP_COUNTERS: [CounterSpec; [$($index),*].len()] = [
            $(CounterSpec { index: $index, name: $name, help: $help },)*
        ];
    };
}

xdp_counters! {
    0 ADVERTS_RECORDED "adverts_recorded" "Adverts pushed into the ring buffer for the engine.";
    /// Following is [`super::VRID_FOLLOWING`].
    1 ADVERTS_DROPPED "dropped"
        "Recorded adverts then dropped at XDP: a followed master's routine advert.";
    2 ADVERT_INVARIANT_FAILED "advert_invariant_failed"
        "VRRP frames failing TTL or hop limit, version, type, or with a VRID not configured for \
         the interface and family: passed without a record (a configured VRID's within its \
         allowance).";
    3 ARP_ANSWERED "arp_answered" "ARP requests for an owned VIP answered with XDP_TX.";
    4 NA_ANSWERED "na_answered"
        "Neighbour solicitations for an owned VIP answered with an advertisement through XDP_TX.";
    5 DEADMAN_SUPPRESSED "deadman_suppressed"
        "Requests for an owned VIP dropped (answered neither by XDP nor by the kernel) because \
         the agent's heartbeat is stale.";
    6 MALFORMED "malformed"
        "Frames shorter than the headers their type announces, or with impossible header fields.";
    7 PASSED "passed" "Frames handed to the kernel stack (XDP_PASS).";
    8 RING_FULL "ring_full" "Advert or echo records lost because the ring buffer was full.";
    9 ECHO_REFLECTED "echo_reflected" "Echo probes reflected back to a backup (this node is master).";
    10 ECHO_RECORDED "echo_recorded"
        "Echoes of this node's own probes recorded for the engine (this node is a backup).";
    /// See [`super::VRID_TRAILER_REQUIRED`].
    11 ADVERTS_UNSIGNED "adverts_unsigned"
        "Adverts of an auth_hmac (enforce) VRID with no room for the trailer: dropped at XDP.";
    /// See [`super::VridConfig::news_period_ns`].
    12 ADVERTS_THROTTLED "adverts_throttled"
        "Adverts from routers other than the followed master, or failing an invariant, beyond \
         the VRID's allowance: dropped at XDP, so a flood cannot crowd the master's adverts out \
         of the agent's socket.";
    13 ECHO_FOREIGN "echo_foreign"
        "Echo replies not from the followed master's Ethernet address: dropped unrecorded.";
    14 BFD_ECHO_REFLECTED "bfd_echo_reflected"
        "BFD echo packets (RFC 9747, UDP 3785, addressed to their sender) reflected with XDP_TX.";
}

/// Each row sits at its own index, so `XDP_COUNTERS[i]` is counter `i`.
const _: () = {
    let mut i = 0;
    while i < XDP_COUNTERS.len() {
        assert!(
            XDP_COUNTERS[i].index as usize == i,
            "XDP_COUNTERS rows must be in index order"
        );
        i += 1;
    }
};

/// One VRRP advert seen by the XDP program, pushed to the ring buffer at driver time.
///
/// Only the fields the engine needs to judge master liveness are here; the full packet still
/// reaches the kernel stack (and the agent's raw socket) for complete validation, unless drop
/// mode is on.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AdvertRecord {
    /// `bpf_ktime_get_ns()` when the program saw the frame: CLOCK_MONOTONIC nanoseconds.
    pub ktime_ns: u64,
    /// Ingress interface index.
    pub ifindex: u32,
    /// [`family::IPV4`] or [`family::IPV6`].
    pub family: u8,
    /// VRRP version from the header (2 or 3).
    pub version: u8,
    /// Virtual router identifier.
    pub vrid: u8,
    /// Advertised priority.
    pub priority: u8,
    /// Advert interval field as on the wire: v3 Max Adver Int (12 bits, centiseconds);
    /// v2 Adver Int (seconds).
    pub adver_int: u16,
    /// IP TTL or hop limit of the frame.
    pub ttl: u8,
    /// Count IPvX Addr field.
    pub addr_count: u8,
    /// Source address: IPv4 in the first four bytes (network order), the rest zero; or IPv6.
    pub src: [u8; 16],
    /// The 802.1Q tag control information (host order) when the frame carried one tag, with
    /// [`VLAN_TAGGED`] set; zero for an untagged frame.
    pub vlan_tci: u32,
    /// The frame's Ethernet source: where this node's echo probes for the sender go.
    pub src_mac: [u8; 6],
    /// [`record_kind::ADVERT`], or [`record_kind::ECHO`] for a reflected echo probe (then only
    /// `ktime_ns`, `ifindex`, `family`, `vrid` and `src_mac` mean anything).
    pub kind: u8,
    pub _pad: u8,
}

/// What a ring-buffer record reports.
pub mod record_kind {
    pub const ADVERT: u8 = 0;
    pub const ECHO: u8 = 1;
}

/// EtherType of vipd's liveness echo (IEEE 802 local experimental EtherType 1).
///
/// A backup that follows a vipd master sends it a probe frame every advert interval; the
/// master's XDP program reflects it (XDP_TX) while that node is master and its agent's heartbeat
/// is fresh, and the backup's XDP program records the echo in the ring. The master's scheduler
/// is never on this path, so a master whose advert thread is late but whose kernel lives is not
/// mistaken for a dead one (the idea of BFD's echo function, RFC 5880 section 6.4).
pub const ETH_P_VIPD_ECHO: u16 = 0x88b5;

/// The payload of an echo frame, right after the Ethernet header (and tag, if any).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EchoFrame {
    /// [`ECHO_MAGIC`].
    pub magic: [u8; 4],
    /// [`echo_kind::PROBE`] or [`echo_kind::REPLY`].
    pub kind: u8,
    pub vrid: u8,
    /// [`family::IPV4`] or [`family::IPV6`]: the VRRP instance's family.
    pub family: u8,
    pub _pad: u8,
    /// The prober's sequence number, network order.
    pub seq: [u8; 4],
}

pub const ECHO_MAGIC: [u8; 4] = *b"vipd";

pub mod echo_kind {
    pub const PROBE: u8 = 1;
    pub const REPLY: u8 = 2;
}

/// Set in [`AdvertRecord::vlan_tci`] when the frame was tagged (a TCI of zero is legal).
pub const VLAN_TAGGED: u32 = 1 << 16;

/// Key of [`names::VRIDS`]: a VRID configured on an interface for one family.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VridKey {
    pub ifindex: u32,
    pub vrid: u8,
    /// [`family::IPV4`] or [`family::IPV6`].
    pub family: u8,
    /// Always zero.
    pub _pad: [u8; 2],
}

/// Value of [`names::VRIDS`].
///
/// While the agent follows a master for this VRID ([`VRID_FOLLOWING`]), that master's routine
/// adverts (same source, same priority, same interval field as its previous one) change nothing
/// but the time the master was last heard, which the record carries. The program then records
/// them without waking the agent, and drops them (while the agent is alive) instead of passing
/// a full copy to the agent's socket; the agent drains the ring whenever it wakes, and it always
/// wakes before any deadline the record could move. Everything else (another source, a new
/// priority, a new interval, the first advert after the agent wrote this) is news: recorded
/// with a forced wake-up and passed on for full validation.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VridConfig {
    /// Any of [`VRID_ALLOW_ANY_TTL_UNICAST`], [`VRID_FOLLOWING`], [`VRID_AUTHENTICATED`] and
    /// [`VRID_TRAILER_REQUIRED`].
    pub flags: u32,
    /// With [`VRID_FOLLOWING`]: the followed master's advertised priority.
    pub master_priority: u8,
    /// Always zero.
    pub _pad: u8,
    /// Written by the program: the interval field of the followed master's newest advert, as in
    /// [`AdvertRecord::adver_int`] (the agent writes zero, so its first advert is news).
    pub seen_adver_int: u16,
    /// With [`VRID_FOLLOWING`]: the followed master's source address, laid out as
    /// [`AdvertRecord::src`].
    pub master: [u8; 16],
    /// With [`VRID_FOLLOWING`] and the liveness echo on: the followed master's Ethernet address,
    /// the only source whose echo replies are recorded (all zero: none are).
    pub master_mac: [u8; 6],
    /// Always zero.
    pub _pad_mac: [u8; 2],
    /// Nanoseconds per advert that routers other than the followed master may bring to the
    /// agent (the refill period of the news allowance; zero: no limit). The agent sets it from
    /// the instance's advert interval, see `agent::dataplane::xdp::maps::news_period`.
    pub news_period_ns: u32,
    /// Written by the program: adverts from other routers the allowance still admits (at most
    /// [`NEWS_BURST`]; the agent writes zero, and the first such advert finds it refilled).
    pub news_tokens: u32,
    /// Written by the program: when the allowance was last refilled, `bpf_ktime_get_ns()`.
    pub news_refilled_ns: u64,
}

/// How many adverts from routers other than the followed master the allowance admits at once
/// (see [`VridConfig::news_period_ns`]): an election's burst, not a flood's.
pub const NEWS_BURST: u32 = 64;

/// Accept unicast adverts of this VRID with any TTL / hop limit (keepalived's unicast peers
/// may be routed hops away); multicast adverts still need 255.
pub const VRID_ALLOW_ANY_TTL_UNICAST: u32 = 1;

/// The agent follows the master in [`VridConfig::master`]: its routine adverts, and the echoes
/// of the agent's probes, are recorded without a wake-up (see [`VridConfig`]).
pub const VRID_FOLLOWING: u32 = 2;

/// Adverts of this VRID count only once their MAC is verified (auth_hmac in any mode): a
/// record proves nothing, so the program records none and passes every advert to the agent's
/// socket, never dropping a followed master's as routine.
pub const VRID_AUTHENTICATED: u32 = 4;

/// auth_hmac in enforce mode: an advert whose length leaves no room for the 28-byte trailer
/// after its address list (see [`AUTH_TRAILER_LEN`]) would be refused by the agent, so the
/// program drops it at the driver instead of queueing it on the agent's socket.
pub const VRID_TRAILER_REQUIRED: u32 = 8;

/// Length of keepalived 2.4's auth_hmac trailer (draft-cassen-vrrp-auth-hmac).
pub const AUTH_TRAILER_LEN: usize = 28;

/// Key of [`names::OWNED_V4`].
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OwnedV4Key {
    pub ifindex: u32,
    /// The VIP, network order.
    pub addr: [u8; 4],
}

/// Key of [`names::OWNED_V6`].
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OwnedV6Key {
    pub ifindex: u32,
    pub addr: [u8; 16],
}

/// Value of both owned-VIP maps: what to answer with.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OwnedVip {
    /// The link-layer address to announce: the interface's, or the virtual MAC under use_vmac.
    pub mac: [u8; 6],
    pub vrid: u8,
    /// Always zero.
    pub _pad: u8,
}

/// The single entry of [`names::CONFIG`]. All zero (the map's initial state) means: no dead-man
/// bound, so the responders answer nothing, and adverts are passed on.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct XdpConfig {
    /// The responders answer only while `bpf_ktime_get_ns() - heartbeat <= deadman_bound_ns`.
    pub deadman_bound_ns: u64,
}

/// The single entry of [`names::AGENT`]. User space writes the identity once, before it attaches
/// the watch programs; only the exit program writes `exited`, and nothing ever clears it, so no
/// late heartbeat of a dying process's other threads can revive it. All zero (the map's initial
/// state) watches nothing and leaves the heartbeat alone in charge.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AgentWatch {
    /// Device and inode of the agent's pid namespace (`stat /proc/self/ns/pid`): the tgid is
    /// compared as that namespace numbers it, so a containerised agent is recognised too.
    pub pidns_dev: u64,
    pub pidns_ino: u64,
    /// The agent's process id in that namespace; 0: no agent watched.
    pub tgid: u32,
    /// Non-zero once the agent's main thread has entered `do_exit`.
    pub exited: u32,
}

#[cfg(feature = "user")]
mod pod {
    // SAFETY (all): repr(C), Copy, no implicit padding, and every bit pattern of the fields is
    // valid.
    unsafe impl aya::Pod for super::AdvertRecord {}
    unsafe impl aya::Pod for super::VridKey {}
    unsafe impl aya::Pod for super::VridConfig {}
    unsafe impl aya::Pod for super::OwnedV4Key {}
    unsafe impl aya::Pod for super::OwnedV6Key {}
    unsafe impl aya::Pod for super::OwnedVip {}
    unsafe impl aya::Pod for super::XdpConfig {}
    unsafe impl aya::Pod for super::AgentWatch {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::{align_of, size_of};

    #[test]
    fn layouts_have_no_implicit_padding() {
        // 8 + 4 + 4x1 + 2 + 2x1 + 16 + 4 + 6 + 2x1 = 48, a multiple of the u64 alignment.
        assert_eq!(size_of::<AdvertRecord>(), 48);
        assert_eq!(align_of::<AdvertRecord>(), 8);
        assert_eq!(size_of::<VridKey>(), 8);
        // 4 + 1 + 1 + 2 + 16 + 6 + 2 + 4 + 4 + 8 = 48.
        assert_eq!(size_of::<VridConfig>(), 48);
        assert_eq!(align_of::<VridConfig>(), 8);
        // 8 + 8 + 4 + 4 = 24.
        assert_eq!(size_of::<AgentWatch>(), 24);
        assert_eq!(size_of::<OwnedV4Key>(), 8);
        assert_eq!(size_of::<OwnedV6Key>(), 20);
        assert_eq!(size_of::<OwnedVip>(), 8);
        assert_eq!(size_of::<XdpConfig>(), 8);
        assert_eq!(size_of::<EchoFrame>(), 12);
    }

    /// Names become JSON keys and metric names: distinct, and lower snake case.
    #[test]
    fn counter_names_are_distinct_metric_words() {
        for (i, spec) in XDP_COUNTERS.iter().enumerate() {
            assert!(
                !spec.name.is_empty()
                    && spec
                        .name
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
                "{:?} is not a lower snake_case word",
                spec.name
            );
            assert!(
                XDP_COUNTERS[..i]
                    .iter()
                    .all(|other| other.name != spec.name),
                "two counters are named {:?}",
                spec.name
            );
            // Metric HELP text escapes only these two; none is needed.
            assert!(
                !spec.help.contains(['\n', '\\']),
                "{}: help must be one plain line",
                spec.name
            );
        }
    }
}
