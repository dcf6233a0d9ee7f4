//! The neighbour discovery responder: solicitations for an owned IPv6 VIP are answered at the
//! driver with a neighbour advertisement written over the solicitation and sent back out with
//! XDP_TX.
//!
//! The reply is a fixed 32-byte advertisement (message plus one Target Link-Layer Address
//! option), so the frame is resized to fit with `bpf_xdp_adjust_tail`, and the ICMPv6 checksum is
//! computed here over a copy on the stack. A solicitation from the unspecified address (duplicate
//! address detection) is answered to all-nodes with Solicited clear (RFC 4861 section 7.2.4).
use agent_common::{counter, OwnedV6Key};
use aya_ebpf::{bindings::xdp_action, helpers::bpf_xdp_adjust_tail, programs::XdpContext};

use crate::{
    checksum,
    consts::{
        ALL_NODES_MAC, ALL_NODES_V6, ICMPV6_NEIGHBOR_ADVERT, ICMPV6_NEIGHBOR_SOLICIT,
        IPPROTO_ICMPV6, IPV6_HLEN, NA_FLAG_OVERRIDE, NA_FLAG_SOLICITED, NA_LEN, NDP_HOP_LIMIT,
        NDP_OPT_TARGET_LLADDR, SOLICITED_NODE_PREFIX,
    },
    deadman,
    maps::{count, OWNED_V6},
    parse::{header_at, header_at_mut, L2},
    structs::{EthHdr, Ipv6Hdr, Ipv6NaReply, NeighborSolicit},
};

/// Handles an IPv6 packet whose next header is ICMPv6: `Some(verdict)` for a neighbour
/// solicitation, `None` for any other ICMPv6 message. Validation follows RFC 4861 section 7.1.1
/// as far as fixed offsets go (hop limit, code, length, target not multicast, duplicate address
/// detection only to a solicited-node group); the checksum and the options are not checked: a
/// corrupted solicitation for an owned VIP at worst gets a correct answer.
#[inline(always)]
pub fn handle(ctx: &XdpContext, l2: &L2, ip: &Ipv6Hdr) -> Option<u32> {
    let ns = header_at::<NeighborSolicit>(ctx, l2.l3 + IPV6_HLEN)?;
    // SAFETY: header_at proved the message lies inside the frame.
    let ns = unsafe { &*ns };
    if ns.icmp_type != ICMPV6_NEIGHBOR_SOLICIT {
        return None;
    }
    if ip.hop_limit != NDP_HOP_LIMIT
        || ns.code != 0
        || (u16::from_be_bytes(ip.payload_len) as usize) < size_of::<NeighborSolicit>()
        || ns.target[0] == 0xff
        || (ip.src == [0; 16] && ip.dst[..13] != SOLICITED_NODE_PREFIX)
    {
        count(counter::MALFORMED);
        return Some(xdp_action::XDP_PASS);
    }
    let key = OwnedV6Key {
        ifindex: ctx.ingress_ifindex() as u32,
        addr: ns.target,
    };
    // SAFETY: the value is copied out at once; user space may replace it concurrently.
    let owned = (unsafe { OWNED_V6.get(key) }).copied()?;
    if !deadman::agent_alive() {
        // The agent that owns this VIP is hung or gone: neither this program nor the kernel
        // (which may still hold the address) may answer for it, or two nodes answer for one
        // address once a backup takes over.
        count(counter::DEADMAN_SUPPRESSED);
        return Some(xdp_action::XDP_DROP);
    }
    let Some(eth) = header_at::<EthHdr>(ctx, 0) else {
        return Some(xdp_action::XDP_PASS);
    };
    // Copy everything the reply needs before the frame is resized and overwritten.
    let solicitor_mac = unsafe { (*eth).src };
    let from_unspecified = ip.src == [0; 16];
    let (dst_mac, dst_ip, flags) = if from_unspecified {
        (ALL_NODES_MAC, ALL_NODES_V6, NA_FLAG_OVERRIDE)
    } else {
        (solicitor_mac, ip.src, NA_FLAG_SOLICITED | NA_FLAG_OVERRIDE)
    };
    let vip = ns.target;

    let mut na = [0u8; NA_LEN];
    na[0] = ICMPV6_NEIGHBOR_ADVERT;
    na[4] = flags;
    na[8..24].copy_from_slice(&vip);
    na[24] = NDP_OPT_TARGET_LLADDR;
    na[25] = 1;
    na[26..32].copy_from_slice(&owned.mac);
    let mut sum = checksum::add_words(0, &vip);
    sum = checksum::add_words(sum, &dst_ip);
    sum += NA_LEN as u32 + u32::from(IPPROTO_ICMPV6);
    let csum = checksum::finish(checksum::add_words(sum, &na));

    let reply_len = l2.l3 + IPV6_HLEN + NA_LEN;
    let delta = reply_len as i64 - (ctx.data_end() - ctx.data()) as i64;
    if delta != 0 && unsafe { bpf_xdp_adjust_tail(ctx.ctx, delta as i32) } != 0 {
        return Some(xdp_action::XDP_PASS);
    }
    // Resizing invalidates every pointer into the frame: look both headers up again.
    let (Some(eth), Some(reply)) = (
        header_at_mut::<EthHdr>(ctx, 0),
        header_at_mut::<Ipv6NaReply>(ctx, l2.l3),
    ) else {
        return Some(xdp_action::XDP_PASS);
    };
    // SAFETY: header_at_mut proved both lie inside the resized frame.
    let (eth, reply) = unsafe { (&mut *eth, &mut *reply) };
    eth.dst = dst_mac;
    eth.src = owned.mac;
    reply.ip.version_class_flow = [0x60, 0, 0, 0];
    reply.ip.payload_len = (NA_LEN as u16).to_be_bytes();
    reply.ip.next_hdr = IPPROTO_ICMPV6;
    reply.ip.hop_limit = NDP_HOP_LIMIT;
    reply.ip.src = vip;
    reply.ip.dst = dst_ip;
    reply.icmp_type = ICMPV6_NEIGHBOR_ADVERT;
    reply.code = 0;
    reply.checksum = csum.to_be_bytes();
    reply.flags = flags;
    reply.reserved = [0; 3];
    reply.target = vip;
    reply.opt_type = NDP_OPT_TARGET_LLADDR;
    reply.opt_len = 1;
    reply.opt_lladdr = owned.mac;
    count(counter::NA_ANSWERED);
    Some(xdp_action::XDP_TX)
}
