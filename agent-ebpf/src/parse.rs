//! Bounds-checked access to the frame, and the link layer (Ethernet plus at most one 802.1Q tag).
//!
//! Every access goes through [`header_at`] / [`header_at_mut`], which prove to the verifier that
//! the whole header lies between `data` and `data_end` before handing out a pointer. Offsets
//! passed in must themselves be bounded (constants, or values from a bounded set) so the verifier
//! can track the range.
use aya_ebpf::programs::XdpContext;
use core::mem;

use crate::{
    consts::{ETH_HLEN, ETH_P_8021Q, VLAN_HLEN},
    structs::{EthHdr, VlanHdr},
};

/// Returns a pointer to a `T` at `offset` bytes into the frame, or `None` when the frame is too
/// short to hold it.
#[inline(always)]
pub fn header_at<T>(ctx: &XdpContext, offset: usize) -> Option<*const T> {
    header_at_mut(ctx, offset).map(|p| p as *const T)
}

/// As [`header_at`], for writing in place.
#[inline(always)]
pub fn header_at_mut<T>(ctx: &XdpContext, offset: usize) -> Option<*mut T> {
    let start = ctx.data();
    let end = ctx.data_end();
    if start + offset + mem::size_of::<T>() > end {
        return None;
    }
    Some((start + offset) as *mut T)
}

/// What the link layer says about a frame.
pub struct L2 {
    /// EtherType of the payload (after the tag, if any), host order.
    pub ether_type: u16,
    /// Offset of the network header: 14, or 18 behind a tag.
    pub l3: usize,
    /// [`agent_common::VLAN_TAGGED`] | TCI for a tagged frame, zero otherwise.
    pub vlan_tci: u32,
    /// The Ethernet source address.
    pub src_mac: [u8; 6],
}

/// Parses Ethernet and one 802.1Q tag; `None` when the frame is too short for them.
#[inline(always)]
pub fn l2(ctx: &XdpContext) -> Option<L2> {
    let eth = unsafe { &*header_at::<EthHdr>(ctx, 0)? };
    let ether_type = u16::from_be_bytes(eth.ether_type);
    if ether_type != ETH_P_8021Q {
        return Some(L2 {
            ether_type,
            l3: ETH_HLEN,
            vlan_tci: 0,
            src_mac: eth.src,
        });
    }
    let vlan = unsafe { &*header_at::<VlanHdr>(ctx, ETH_HLEN)? };
    Some(L2 {
        ether_type: u16::from_be_bytes(vlan.ether_type),
        l3: ETH_HLEN + VLAN_HLEN,
        vlan_tci: agent_common::VLAN_TAGGED | u32::from(u16::from_be_bytes(vlan.tci)),
        src_mac: eth.src,
    })
}
