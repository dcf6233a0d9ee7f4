//! Advert classification: is this frame a VRRP advert, and if so, what does the agent's hot loop
//! need to know about it?
//!
//! Only IPv4 and IPv6 frames whose IP protocol (IPv6: first next header) is 112 qualify; IPv6
//! adverts with extension headers and IPv4 fragments are left to the kernel stack and the agent's
//! raw socket, which see every advert anyway. Full validation (checksum, authentication, address
//! list) stays in user space: here we only stamp and forward.
use agent_common::{family, AdvertRecord, IPPROTO_VRRP};
use aya_ebpf::{helpers::bpf_ktime_get_ns, programs::XdpContext};
use aya_log_ebpf::warn;
use network_types::{
    eth::EthHdr,
    ip::{Ipv4Hdr, Ipv6Hdr},
};

use crate::{maps::ADVERTS, parse::header_at};

const ETH_P_IP: u16 = 0x0800;
const ETH_P_IPV6: u16 = 0x86dd;
/// VRRP message type of an advertisement, the only type RFC 9568 and RFC 3768 define.
const VRRP_TYPE_ADVERT: u8 = 1;
/// IPv4 "more fragments" flag and fragment offset bits of the flags/offset field.
const IPV4_FRAGMENT_MASK: u16 = 0x3fff;

/// The first eight bytes of a VRRP message, the same in v2 and v3 except for bytes 4-5:
/// v2 carries Auth Type and Adver Int there, v3 the Rsvd nibble and 12-bit Max Adver Int.
#[repr(C)]
struct VrrpHead {
    version_type: u8,
    vrid: u8,
    priority: u8,
    addr_count: u8,
    interval: [u8; 2],
    _checksum: [u8; 2],
}

/// What the IP layer tells us about a VRRP candidate.
struct IpInfo {
    family: u8,
    ttl: u8,
    src: [u8; 16],
    vrrp_offset: usize,
}

/// Pushes an [`AdvertRecord`] for the frame if it is a VRRP advert. Never fails the frame: a full
/// ring buffer loses the record (and says so), not the packet.
#[inline(always)]
pub fn record_if_advert(ctx: &XdpContext) {
    let now = unsafe { bpf_ktime_get_ns() };
    let Some(ip) = ip_info(ctx) else { return };
    let Some(head) = header_at::<VrrpHead>(ctx, ip.vrrp_offset) else {
        return;
    };
    // SAFETY: header_at proved the eight bytes lie inside the frame.
    let head = unsafe { &*head };
    let version = head.version_type >> 4;
    if head.version_type & 0x0f != VRRP_TYPE_ADVERT || !(version == 2 || version == 3) {
        return;
    }
    let adver_int = match version {
        // v3: keep the whole Rsvd|Max Adver Int word; user space reads vipd's fast-mode flag
        // from the Rsvd bits.
        3 => u16::from_be_bytes(head.interval),
        _ => head.interval[1] as u16,
    };
    let Some(mut entry) = ADVERTS.reserve::<AdvertRecord>(0) else {
        warn!(ctx, "vipd: advert ring buffer full, record lost");
        return;
    };
    entry.write(AdvertRecord {
        ktime_ns: now,
        ifindex: ctx.ingress_ifindex() as u32,
        family: ip.family,
        version,
        vrid: head.vrid,
        priority: head.priority,
        adver_int,
        ttl: ip.ttl,
        addr_count: head.addr_count,
        src: ip.src,
        _reserved: 0,
    });
    entry.submit(0);
}

/// Parses Ethernet and IPv4/IPv6 far enough to know whether a VRRP message follows, and where.
#[inline(always)]
fn ip_info(ctx: &XdpContext) -> Option<IpInfo> {
    let eth = header_at::<EthHdr>(ctx, 0)?;
    let l3 = EthHdr::LEN;
    match u16::from_be(unsafe { (*eth).ether_type }) {
        ETH_P_IP => {
            let ip = unsafe { &*header_at::<Ipv4Hdr>(ctx, l3)? };
            if ip.proto != IPPROTO_VRRP || u16::from_be_bytes(ip.frags) & IPV4_FRAGMENT_MASK != 0 {
                return None;
            }
            let ihl = ((ip.vihl & 0x0f) as usize) * 4;
            if ihl < Ipv4Hdr::LEN {
                return None;
            }
            let mut src = [0u8; 16];
            src[..4].copy_from_slice(&ip.src_addr);
            Some(IpInfo {
                family: family::IPV4,
                ttl: ip.ttl,
                src,
                vrrp_offset: l3 + ihl,
            })
        }
        ETH_P_IPV6 => {
            let ip = unsafe { &*header_at::<Ipv6Hdr>(ctx, l3)? };
            if ip.next_hdr != IPPROTO_VRRP {
                return None;
            }
            Some(IpInfo {
                family: family::IPV6,
                ttl: ip.hop_limit,
                src: ip.src_addr,
                vrrp_offset: l3 + Ipv6Hdr::LEN,
            })
        }
        _ => None,
    }
}
