//! vipd's XDP program. On each VRRP interface it
//! - recognises VRRP adverts for the configured VRIDs, stamps them with `bpf_ktime_get_ns()` at
//!   the driver and pushes a compact record into a ring buffer for the agent's engine (then
//!   passes them on, or drops a followed master's routine ones);
//! - answers ARP requests and IPv6 neighbour solicitations for the VIPs the agent owns, with
//!   XDP_TX, while the agent's heartbeat is fresh (the dead-man switch);
//! - reflects the liveness-echo probes of its backups while master, and records the echoes of
//!   its own probes while backup (`echo`);
//! - passes everything else to the kernel untouched.
//!
//! Beside it, two raw tracepoint programs (`agent_watch`) tell the dead-man switch the moment the
//! agent exits or takes SIGSTOP.
//!
//! Split by concern, as Katran's `lib/bpf/` is: `consts` and `structs` describe the wire, `parse`
//! owns bounds-checked access and the link layer, `checksum` the Internet checksum, `maps` the
//! maps shared with user space and the counters, `deadman` the liveness check, and `vrrp`, `arp`
//! and `ndp` one kind of traffic each.
#![no_std]
#![no_main]

mod agent_watch;
mod arp;
mod bfd;
mod checksum;
mod consts;
mod deadman;
mod echo;
mod maps;
mod ndp;
mod parse;
mod structs;
mod vrrp;

use agent_common::{counter, ETH_P_VIPD_ECHO, IPPROTO_VRRP};
use aya_ebpf::{bindings::xdp_action, macros::xdp, programs::XdpContext};

use crate::{
    consts::{ETH_P_ARP, ETH_P_IP, ETH_P_IPV6, IPPROTO_ICMPV6, IPPROTO_UDP},
    maps::count,
    parse::header_at,
    structs::Ipv6Hdr,
};

/// Entry point: dispatches on the EtherType (behind at most one VLAN tag) and counts every
/// frame it passes.
#[xdp]
pub fn vipd_xdp(ctx: XdpContext) -> u32 {
    let verdict = dispatch(&ctx);
    if verdict == xdp_action::XDP_PASS {
        count(counter::PASSED);
    }
    verdict
}

#[inline(always)]
fn dispatch(ctx: &XdpContext) -> u32 {
    let Some(l2) = parse::l2(ctx) else {
        count(counter::MALFORMED);
        return xdp_action::XDP_PASS;
    };
    match l2.ether_type {
        ETH_P_ARP => arp::handle(ctx, &l2),
        ETH_P_VIPD_ECHO => echo::handle(ctx, &l2),
        ETH_P_IP => vrrp::handle_v4(ctx, &l2)
            .or_else(|| bfd::handle_v4(ctx, &l2))
            .unwrap_or(xdp_action::XDP_PASS),
        ETH_P_IPV6 => {
            let Some(ip) = header_at::<Ipv6Hdr>(ctx, l2.l3) else {
                count(counter::MALFORMED);
                return xdp_action::XDP_PASS;
            };
            // SAFETY: header_at proved the header lies inside the frame.
            let ip = unsafe { &*ip };
            match ip.next_hdr {
                IPPROTO_VRRP => vrrp::handle_v6(ctx, &l2, ip),
                IPPROTO_ICMPV6 => ndp::handle(ctx, &l2, ip).unwrap_or(xdp_action::XDP_PASS),
                IPPROTO_UDP => bfd::handle_v6(ctx, &l2),
                _ => xdp_action::XDP_PASS,
            }
        }
        _ => xdp_action::XDP_PASS,
    }
}

#[cfg(not(test))]
#[panic_handler]
fn panic(_info: &core::panic::PanicInfo) -> ! {
    // The verifier rejects any reachable panic path, so this is never executed.
    loop {}
}

#[unsafe(link_section = "license")]
#[unsafe(no_mangle)]
static LICENSE: [u8; 13] = *b"Dual MIT/GPL\0";
