//! The VRRP wire format: VRRPv3 (RFC 9568) over IPv4 and IPv6, VRRPv2 (RFC 3768) over IPv4.
//!
//! smoltcp style: [`Packet`] is a checked view over the bytes of one message (the IP payload),
//! [`AdvertRepr`] is its parsed, owned form with [`AdvertRepr::parse`], [`AdvertRepr::emit`] and
//! [`AdvertRepr::buffer_len`]. The IP header is the caller's: it passes the IP source and
//! destination (needed for the pseudo-header checksum) and checks the TTL itself through
//! [`crate::vrrp::validate`]. The exception is [`ah`], keepalived's IPsec-AH wrapping of a
//! VRRPv2 message, whose ICV covers the IP header.

pub mod ah;
pub(crate) mod checksum;
mod packet;
mod repr;
pub mod trailer;

use std::net::{Ipv4Addr, Ipv6Addr};

pub use checksum::{ChecksumVariant, V3Ipv4Checksum};

/// IP protocol number of VRRP (RFC 9568 section 5.1.1.4): the IP header's protocol / next
/// header, and the pseudo-header's. The same number the XDP program matches.
pub const IP_PROTOCOL_VRRP: u8 = agent_common::IPPROTO_VRRP;

/// The IPv4 multicast group adverts go to (RFC 9568 section 5.1.1.2); keepalived's old
/// unicast checksum also puts it in the pseudo-header.
pub const VRRP_GROUP_V4: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 18);

/// The IPv6 multicast group adverts go to (RFC 9568 section 5.1.2.2).
pub const VRRP_GROUP_V6: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12);
pub use packet::{field, Packet, HEADER_LEN, TYPE_ADVERTISEMENT, V2_AUTH_DATA_LEN};
pub use repr::{
    AdvertRepr, ParsedAdvert, V2Advert, V2Auth, V3Advert, V3Interval, VirtualAddresses,
};

/// Why a message could not be decoded. Each maps to one drop reason in
/// [`crate::vrrp::validate::DropReason`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum ParseError {
    #[error("message shorter than its header and address count say")]
    Truncated,
    #[error("message longer than its header and address count say")]
    LengthMismatch,
    #[error("VRRP version {0} is not supported (only 2 and 3)")]
    BadVersion(u8),
    #[error("VRRP packet type {0} is not ADVERTISEMENT (1)")]
    BadType(u8),
    #[error("IP source and destination are of different families, or VRRPv2 over IPv6")]
    FamilyMismatch,
    #[error("checksum does not match")]
    BadChecksum,
    #[error("VRRPv2 auth type {0} is unknown (0 none, 1 PASS, 2 AH)")]
    UnknownAuthType(u8),
}

/// Why an advert could not be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum EmitError {
    #[error("the IP source and destination family does not match the advert's addresses")]
    FamilyMismatch,
    #[error("{0} addresses do not fit the 8-bit address count (at most 255)")]
    TooManyAddresses(usize),
    #[error("buffer is {actual} bytes, the advert needs exactly {expected}")]
    BufferLength { expected: usize, actual: usize },
}

#[cfg(test)]
mod tests;
