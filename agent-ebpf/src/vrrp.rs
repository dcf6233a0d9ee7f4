//! Adverts: is this IP packet a VRRP advert for a VRID configured here, and if so, record what the
//! agent's engine needs to know about it.
//!
//! Only packets whose IP protocol (IPv6: first next header) is 112 qualify; IPv6 adverts with
//! extension headers and IPv4 fragments are left to the kernel stack and the agent's raw socket.
//! The checks are the cheap invariants (TTL / hop limit, version, type, VRID configured for the
//! interface and family, room for auth_hmac's trailer where it is enforced) and the news
//! allowance, which keeps a flood of adverts from other sources from crowding the followed
//! master's out of the agent's socket; full validation (checksum, authentication, address
//! list) stays in user space: here we only filter, stamp and forward.
use agent_common::{
    counter, family, record_kind, AdvertRecord, VridConfig, VridKey, AUTH_TRAILER_LEN,
    IPPROTO_VRRP, NEWS_BURST, VRID_ALLOW_ANY_TTL_UNICAST, VRID_AUTHENTICATED, VRID_FOLLOWING,
    VRID_TRAILER_REQUIRED, VRRP_TTL,
};
use aya_ebpf::{
    bindings::{xdp_action, BPF_RB_FORCE_WAKEUP, BPF_RB_NO_WAKEUP},
    helpers::bpf_ktime_get_ns,
    programs::XdpContext,
};

use crate::{
    consts::{IPV4_FRAGMENT_MASK, IPV4_HLEN_MIN, IPV6_HLEN, VRRP_TYPE_ADVERT},
    deadman,
    maps::{count, ADVERTS, VRIDS},
    parse::{header_at, L2},
    structs::{Ipv4Hdr, Ipv6Hdr, VrrpHead},
};

/// What the IP layer tells us about a VRRP candidate.
struct IpInfo {
    family: u8,
    ttl: u8,
    /// Whether the destination is a unicast address (unicast peers, keepalived's `unicast_peer`).
    unicast: bool,
    src: [u8; 16],
    vrrp_offset: usize,
    /// Length of the VRRP message and anything after it, from the IP header (not the frame,
    /// which Ethernet may have padded).
    vrrp_len: usize,
}

/// Handles an IPv4 packet: `Some(verdict)` when it was VRRP, `None` when it is someone else's.
#[inline(always)]
pub fn handle_v4(ctx: &XdpContext, l2: &L2) -> Option<u32> {
    let Some(ip) = header_at::<Ipv4Hdr>(ctx, l2.l3) else {
        count(counter::MALFORMED);
        return Some(xdp_action::XDP_PASS);
    };
    // SAFETY: header_at proved the header lies inside the frame.
    let ip = unsafe { &*ip };
    if ip.proto != IPPROTO_VRRP || u16::from_be_bytes(ip.frag) & IPV4_FRAGMENT_MASK != 0 {
        return None;
    }
    let ihl = ((ip.version_ihl & 0x0f) as usize) * 4;
    if ihl < IPV4_HLEN_MIN {
        count(counter::MALFORMED);
        return Some(xdp_action::XDP_PASS);
    }
    let mut src = [0u8; 16];
    src[..4].copy_from_slice(&ip.src);
    let info = IpInfo {
        family: family::IPV4,
        ttl: ip.ttl,
        unicast: ip.dst[0] < 224,
        src,
        vrrp_offset: l2.l3 + ihl,
        vrrp_len: (u16::from_be_bytes(ip.total_len) as usize).saturating_sub(ihl),
    };
    Some(handle(ctx, l2, &info))
}

/// Handles an IPv6 packet whose next header is VRRP.
#[inline(always)]
pub fn handle_v6(ctx: &XdpContext, l2: &L2, ip: &Ipv6Hdr) -> u32 {
    let info = IpInfo {
        family: family::IPV6,
        ttl: ip.hop_limit,
        unicast: ip.dst[0] != 0xff,
        src: ip.src,
        vrrp_offset: l2.l3 + IPV6_HLEN,
        vrrp_len: u16::from_be_bytes(ip.payload_len) as usize,
    };
    handle(ctx, l2, &info)
}

#[inline(always)]
fn handle(ctx: &XdpContext, l2: &L2, ip: &IpInfo) -> u32 {
    let now = unsafe { bpf_ktime_get_ns() };
    let Some(head) = header_at::<VrrpHead>(ctx, ip.vrrp_offset) else {
        count(counter::MALFORMED);
        return xdp_action::XDP_PASS;
    };
    // SAFETY: header_at proved the eight bytes lie inside the frame.
    let head = unsafe { &*head };
    let version = head.version_type >> 4;
    let key = VridKey {
        ifindex: ctx.ingress_ifindex() as u32,
        vrid: head.vrid,
        family: ip.family,
        _pad: [0; 2],
    };
    let Some(vrid_ptr) = VRIDS.get_ptr_mut(key) else {
        // Another router's VRID (perhaps another daemon's on this host): not ours to judge.
        count(counter::ADVERT_INVARIANT_FAILED);
        return xdp_action::XDP_PASS;
    };
    // SAFETY: the pointer is the map's value; it is copied out at once (user space may replace
    // it concurrently, which only makes one advert news or routine a moment early).
    let vrid = unsafe { *vrid_ptr };
    // VRRPv2 exists only over IPv4 (RFC 3768); v3 over both (RFC 9568).
    let version_ok = version == 3 || (version == 2 && ip.family == family::IPV4);
    let any_ttl = ip.unicast && vrid.flags & VRID_ALLOW_ANY_TTL_UNICAST != 0;
    let ttl_ok = ip.ttl == VRRP_TTL || any_ttl;
    if head.version_type & 0x0f != VRRP_TYPE_ADVERT || !version_ok || !ttl_ok {
        count(counter::ADVERT_INVARIANT_FAILED);
        // The agent refuses it too (and says why, at a bounded rate): what the news allowance
        // does not admit never reaches its socket.
        // SAFETY: as above; racing writers (other CPUs) can only make the allowance a little
        // looser or tighter for a moment.
        if !news_admitted(unsafe { &mut *vrid_ptr }, now) && deadman::agent_alive() {
            count(counter::ADVERTS_THROTTLED);
            return xdp_action::XDP_DROP;
        }
        return xdp_action::XDP_PASS;
    }
    if vrid.flags & VRID_TRAILER_REQUIRED != 0
        && ip.vrrp_len != signed_len(ip.family, version, head.addr_count)
        && deadman::agent_alive()
    {
        count(counter::ADVERTS_UNSIGNED);
        return xdp_action::XDP_DROP;
    }
    let from_followed = vrid.flags & VRID_FOLLOWING != 0 && ip.src == vrid.master;
    // SAFETY: as above.
    if !from_followed && !news_admitted(unsafe { &mut *vrid_ptr }, now) && deadman::agent_alive() {
        count(counter::ADVERTS_THROTTLED);
        return xdp_action::XDP_DROP;
    }
    if vrid.flags & VRID_AUTHENTICATED != 0 {
        return xdp_action::XDP_PASS;
    }
    let adver_int = match version {
        // v3: keep the whole Rsvd|Max Adver Int word; user space reads vipd's fast-mode flag
        // from the Rsvd bits.
        3 => u16::from_be_bytes(head.interval),
        _ => head.interval[1] as u16,
    };
    // See `agent_common::VridConfig`: a followed master's routine advert only says it lives.
    let routine =
        from_followed && head.priority == vrid.master_priority && adver_int == vrid.seen_adver_int;
    if from_followed && !routine {
        // SAFETY: as above; a racing writer's value wins either way.
        unsafe { (*vrid_ptr).seen_adver_int = adver_int };
    }
    let Some(mut entry) = ADVERTS.reserve::<AdvertRecord>(0) else {
        // The record is lost, not the advert: the kernel stack and the raw socket still get it.
        count(counter::RING_FULL);
        return xdp_action::XDP_PASS;
    };
    entry.write(AdvertRecord {
        ktime_ns: now,
        ifindex: key.ifindex,
        family: ip.family,
        version,
        vrid: head.vrid,
        priority: head.priority,
        adver_int,
        ttl: ip.ttl,
        addr_count: head.addr_count,
        src: ip.src,
        vlan_tci: l2.vlan_tci,
        src_mac: l2.src_mac,
        kind: record_kind::ADVERT,
        _pad: 0,
    });
    let wakeup = match (vrid.flags & VRID_FOLLOWING != 0, routine) {
        // The agent drains the ring before every deadline a routine advert could move.
        (_, true) => BPF_RB_NO_WAKEUP,
        // News, while quiet records may be waiting unread: the default (wake only when the
        // consumer has caught up) would not wake it.
        (true, false) => BPF_RB_FORCE_WAKEUP,
        (false, false) => 0,
    };
    entry.submit(u64::from(wakeup));
    count(counter::ADVERTS_RECORDED);
    // A stale agent gets the kernel's default behaviour back: adverts reach the stack again.
    if routine && deadman::agent_alive() {
        count(counter::ADVERTS_DROPPED);
        return xdp_action::XDP_DROP;
    }
    xdp_action::XDP_PASS
}

/// The length of a signed advert (see `agent_common::VRID_TRAILER_REQUIRED`): the eight-byte
/// header, the address list, VRRPv2's eight bytes of authentication data, then the trailer.
#[inline(always)]
fn signed_len(family: u8, version: u8, addr_count: u8) -> usize {
    let address_len = if family == family::IPV4 { 4 } else { 16 };
    let v2_auth_data = if version == 2 { 8 } else { 0 };
    8 + addr_count as usize * address_len + v2_auth_data + AUTH_TRAILER_LEN
}

/// Whether the news allowance of `vrid` (see `agent_common::VridConfig::news_period_ns`)
/// admits one more advert from a router other than the followed master at `now`, taking it.
#[inline(always)]
fn news_admitted(vrid: &mut VridConfig, now: u64) -> bool {
    let period = u64::from(vrid.news_period_ns);
    if period == 0 {
        return true;
    }
    let earned = now.saturating_sub(vrid.news_refilled_ns) / period;
    if earned > 0 {
        let tokens = u64::from(vrid.news_tokens) + earned;
        if tokens >= u64::from(NEWS_BURST) {
            vrid.news_tokens = NEWS_BURST;
            vrid.news_refilled_ns = now;
        } else {
            vrid.news_tokens = tokens as u32;
            vrid.news_refilled_ns += earned * period;
        }
    }
    if vrid.news_tokens == 0 {
        return false;
    }
    vrid.news_tokens -= 1;
    true
}
