//! The ABI shared by the XDP program (`agent-ebpf`) and the agent (`agent`): map names, map keys
//! and values, ring-buffer records and protocol constants.
//!
//! Everything here is `#[repr(C)]` with explicit padding so that the kernel side and user space
//! agree on layout byte for byte; the `user` feature adds `aya::Pod` so user space can read them
//! out of maps and ring buffers.
#![no_std]

/// IP protocol number of VRRP (RFC 9568 section 5.1.1.4, RFC 3768 section 5.2.4).
pub const IPPROTO_VRRP: u8 = 112;

/// TTL / hop limit every VRRP advert must carry (RFC 9568 section 5.1.1.3).
pub const VRRP_TTL: u8 = 255;

/// Names of the maps and the program in the eBPF object, so both sides use one spelling.
pub mod names {
    /// The XDP program attached to each VRRP interface.
    pub const XDP_PROGRAM: &str = "vipd_xdp";
    /// Ring buffer of [`super::AdvertRecord`]s.
    pub const ADVERTS_RING: &str = "ADVERTS";
}

/// Size of the advert ring buffer in bytes (a power of two and a multiple of the page size).
/// At 40 bytes a record (plus an 8-byte header) it holds about 5,400 adverts: more than a second
/// of adverts at the fastest interval vipd supports, so a late reader loses nothing.
pub const ADVERTS_RING_BYTES: u32 = 256 * 1024;

/// Address family of an advert's IP header, as stored in [`AdvertRecord::family`].
pub mod family {
    pub const IPV4: u8 = 4;
    pub const IPV6: u8 = 6;
}

/// One VRRP advert seen by the XDP program, pushed to the ring buffer at driver time.
///
/// Only the fields the hot loop needs to judge master liveness are here; the full packet still
/// reaches the kernel stack (and the agent's raw socket) for complete validation.
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
    /// Explicit tail padding, always zero, so the record has no uninitialised bytes.
    pub _reserved: u32,
}

#[cfg(feature = "user")]
// SAFETY: AdvertRecord is repr(C), Copy, and every bit pattern of its fields is valid.
unsafe impl aya::Pod for AdvertRecord {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advert_record_layout_has_no_implicit_padding() {
        // 8 + 4 + 4x1 + 2 + 2x1 + 16 + 4 = 40, a multiple of the u64 alignment.
        assert_eq!(core::mem::size_of::<AdvertRecord>(), 40);
        assert_eq!(core::mem::align_of::<AdvertRecord>(), 8);
    }
}
