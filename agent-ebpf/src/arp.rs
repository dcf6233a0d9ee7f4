//! The ARP responder: requests for an owned IPv4 VIP are answered at the driver by rewriting the
//! request into the reply in place and sending it back out with XDP_TX.
//!
//! As Cilium's `bpf/lib/arp.h`: validate the request (Ethernet/IPv4 sizes, op request, not
//! gratuitous), copy the requester's addresses before overwriting anything, then rewrite fixed
//! offsets. Everything else passes to the kernel untouched.
use agent_common::{counter, OwnedV4Key};
use aya_ebpf::{bindings::xdp_action, programs::XdpContext};

use crate::{
    consts::{ARPHRD_ETHER, ARPOP_REPLY, ARPOP_REQUEST, ETH_P_IP},
    deadman,
    maps::{count, OWNED_V4},
    parse::{header_at_mut, L2},
    structs::{ArpEthIpv4, EthHdr},
};

#[inline(always)]
pub fn handle(ctx: &XdpContext, l2: &L2) -> u32 {
    let (Some(eth), Some(arp)) = (
        header_at_mut::<EthHdr>(ctx, 0),
        header_at_mut::<ArpEthIpv4>(ctx, l2.l3),
    ) else {
        count(counter::MALFORMED);
        return xdp_action::XDP_PASS;
    };
    // SAFETY: header_at_mut proved both headers lie inside the frame; nothing else aliases it.
    let (eth, arp) = unsafe { (&mut *eth, &mut *arp) };
    if u16::from_be_bytes(arp.htype) != ARPHRD_ETHER
        || u16::from_be_bytes(arp.ptype) != ETH_P_IP
        || arp.hlen != 6
        || arp.plen != 4
    {
        count(counter::MALFORMED);
        return xdp_action::XDP_PASS;
    }
    // Replies, and gratuitous requests (announcements of the sender's own address), are news for
    // the kernel's neighbour table, not questions for us.
    if u16::from_be_bytes(arp.op) != ARPOP_REQUEST || arp.spa == arp.tpa {
        return xdp_action::XDP_PASS;
    }
    let key = OwnedV4Key {
        ifindex: ctx.ingress_ifindex() as u32,
        addr: arp.tpa,
    };
    // SAFETY: the value is copied out at once; user space may replace it concurrently.
    let Some(owned) = (unsafe { OWNED_V4.get(key) }).copied() else {
        return xdp_action::XDP_PASS;
    };
    if !deadman::agent_alive() {
        // The agent that owns this VIP is hung or gone: neither this program nor the kernel
        // (which may still hold the address) may answer for it, or two nodes answer for one
        // address once a backup takes over.
        count(counter::DEADMAN_SUPPRESSED);
        return xdp_action::XDP_DROP;
    }
    let requester_mac = arp.sha;
    let requester_ip = arp.spa;
    let vip = arp.tpa;

    eth.dst = requester_mac;
    eth.src = owned.mac;
    arp.op = ARPOP_REPLY.to_be_bytes();
    arp.sha = owned.mac;
    arp.spa = vip;
    arp.tha = requester_mac;
    arp.tpa = requester_ip;
    count(counter::ARP_ANSWERED);
    xdp_action::XDP_TX
}
