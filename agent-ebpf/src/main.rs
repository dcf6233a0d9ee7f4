//! vipd's XDP program. On each VRRP interface it recognises VRRP adverts, stamps them with
//! `bpf_ktime_get_ns()` at the driver and pushes a compact record into a ring buffer for the
//! agent's hot loop; every frame then continues to the kernel stack untouched.
//!
//! Split by concern, as Katran's `lib/bpf/` is: `parse` owns bounds-checked header access,
//! `vrrp` classifies adverts, `maps` declares the maps shared with user space.
#![no_std]
#![no_main]

mod maps;
mod parse;
mod vrrp;

use aya_ebpf::{bindings::xdp_action, macros::xdp, programs::XdpContext};

/// Entry point: never drops or rewrites a frame (yet), so whatever the classification says the
/// verdict is XDP_PASS. Adverts are additionally recorded.
#[xdp]
pub fn vipd_xdp(ctx: XdpContext) -> u32 {
    vrrp::record_if_advert(&ctx);
    xdp_action::XDP_PASS
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
