//! RFC 9747 unaffiliated BFD echo, reflected at the driver: a neighbour sends a BFD echo packet
//! (UDP port 3785) addressed to itself through this node, and this node's forwarding plane
//! sends it back. Doing that here, with XDP_TX, means no user-space thread and not even the
//! kernel stack is on the echo's path, so the echo vouches for exactly what it should: that
//! this node's driver forwards.
//!
//! What is reflected: IPv4 or IPv6 (no fragments, no extension headers) UDP to port 3785 whose
//! source and destination address are the same (the unaffiliated form: a packet for anyone
//! else is not ours to bounce), while user space has switched reflection on ([`BFD_ECHO`]) and
//! its agent is alive (the dead-man switch, as for the liveness echo). The TTL or hop limit is
//! decremented, as forwarding would; a packet that would reach zero goes to the stack. The
//! Ethernet addresses are swapped; the IP header's addresses stay.
use agent_common::{counter, BFD_ECHO_PORT};
use aya_ebpf::{bindings::xdp_action, programs::XdpContext};

use crate::{
    consts::{IPPROTO_UDP, IPV4_FRAGMENT_MASK, IPV4_HLEN_MIN, IPV6_HLEN},
    deadman,
    maps::{count, BFD_ECHO},
    parse::{header_at, header_at_mut, L2},
    structs::{EthHdr, Ipv4Hdr, Ipv6Hdr, UdpHdr},
};

/// An IPv4 packet: `Some(verdict)` for a BFD echo packet, `None` for anything else.
#[inline(always)]
pub fn handle_v4(ctx: &XdpContext, l2: &L2) -> Option<u32> {
    let ip = header_at_mut::<Ipv4Hdr>(ctx, l2.l3)?;
    // SAFETY: header_at_mut proved the header lies inside the frame; nothing else aliases it.
    let ip = unsafe { &mut *ip };
    if ip.proto != IPPROTO_UDP || u16::from_be_bytes(ip.frag) & IPV4_FRAGMENT_MASK != 0 {
        return None;
    }
    let ihl = ((ip.version_ihl & 0x0f) as usize) * 4;
    if ihl < IPV4_HLEN_MIN || !is_echo(ctx, l2.l3 + ihl) || ip.src != ip.dst {
        return None;
    }
    if !may_reflect(ip.ttl) {
        return Some(xdp_action::XDP_PASS);
    }
    // RFC 1624 eqn. 3, HC' = ~(~HC + ~m + m'): the TTL is the high byte of the word m it
    // shares with the protocol, so m' = m - 0x0100 and ~m + m' = 0xffff - 0x0100.
    let sum = u32::from(!u16::from_be_bytes(ip.check)) + 0xfeff;
    let sum = (sum & 0xffff) + (sum >> 16);
    let sum = (sum & 0xffff) + (sum >> 16);
    ip.check = (!(sum as u16)).to_be_bytes();
    ip.ttl -= 1;
    Some(reflect(ctx))
}

/// An IPv6 packet whose next header is UDP.
#[inline(always)]
pub fn handle_v6(ctx: &XdpContext, l2: &L2) -> u32 {
    let Some(ip) = header_at_mut::<Ipv6Hdr>(ctx, l2.l3) else {
        return xdp_action::XDP_PASS;
    };
    // SAFETY: as in handle_v4.
    let ip = unsafe { &mut *ip };
    if !is_echo(ctx, l2.l3 + IPV6_HLEN) || ip.src != ip.dst {
        return xdp_action::XDP_PASS;
    }
    if !may_reflect(ip.hop_limit) {
        return xdp_action::XDP_PASS;
    }
    // The hop limit is in no checksum.
    ip.hop_limit -= 1;
    reflect(ctx)
}

/// Whether the UDP header at `offset` is addressed to the BFD echo port.
#[inline(always)]
fn is_echo(ctx: &XdpContext, offset: usize) -> bool {
    let Some(udp) = header_at::<UdpHdr>(ctx, offset) else {
        return false;
    };
    // SAFETY: header_at proved the header lies inside the frame.
    u16::from_be_bytes(unsafe { (*udp).dst_port }) == BFD_ECHO_PORT
}

/// Reflection is on, the agent alive, and the packet has a hop left.
#[inline(always)]
fn may_reflect(ttl: u8) -> bool {
    if BFD_ECHO.get(0).copied().unwrap_or(0) == 0 || ttl <= 1 {
        return false;
    }
    if !deadman::agent_alive() {
        count(counter::DEADMAN_SUPPRESSED);
        return false;
    }
    true
}

#[inline(always)]
fn reflect(ctx: &XdpContext) -> u32 {
    let Some(eth) = header_at_mut::<EthHdr>(ctx, 0) else {
        return xdp_action::XDP_PASS;
    };
    // SAFETY: header_at_mut proved the header lies inside the frame.
    let eth = unsafe { &mut *eth };
    core::mem::swap(&mut eth.src, &mut eth.dst);
    count(counter::BFD_ECHO_REFLECTED);
    xdp_action::XDP_TX
}
