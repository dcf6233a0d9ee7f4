//! The authentication trailer of keepalived 2.4's `auth_hmac` (draft-cassen-vrrp-auth-hmac):
//! 28 bytes after the VRRP message (after the address list, and for VRRPv2 after the 8 bytes of
//! auth data), found purely by length.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |   Ext Type    |    Key ID     |         Reserved (0)          |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                 Seconds (UTC, since the Unix epoch)           |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |   Subseconds (1/65536 s)      |           Counter             |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |            HMAC-SHA256 truncated to 128 bits (16 bytes)       |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//! Seconds, subseconds and counter together are one 64-bit sequence number
//! (see [`Sequence`]). Which checksum covers the trailer differs by family: over IPv4 the VRRP
//! checksum covers the message only, over IPv6 it covers the whole IP payload, trailer included
//! (keepalived lets the kernel checksum the payload with `IPV6_CHECKSUM`), see
//! [`seal_ipv6_checksum`] and [`super::AdvertRepr::parse_with_trailer`].

use crate::family::IpFamily;
use std::net::Ipv6Addr;

use super::checksum::{self, PseudoHeader};
use super::packet::field::CHECKSUM;
use super::Packet;

/// Length of the trailer.
pub const TRAILER_LEN: usize = 28;
/// Length of the truncated HMAC at the end of the trailer.
pub const MAC_LEN: usize = 16;
/// The only extension type defined: HMAC-SHA256 truncated to 128 bits.
pub const EXT_TYPE_HMAC_SHA256_128: u8 = 1;

/// Byte ranges of the trailer's fields.
pub mod field {
    use std::ops::Range;

    pub const EXT_TYPE: usize = 0;
    pub const KEY_ID: usize = 1;
    pub const RESERVED: Range<usize> = 2..4;
    pub const SECONDS: Range<usize> = 4..8;
    pub const SUBSECONDS: Range<usize> = 8..10;
    pub const COUNTER: Range<usize> = 10..12;
    /// Everything before the MAC: what the MAC covers of the trailer itself.
    pub const SIGNED: Range<usize> = 0..12;
    pub const MAC: Range<usize> = 12..28;
}

/// The trailer's 64-bit sequence number: UTC seconds in the high 32 bits, a 1/65536-second
/// fraction in the next 16, a counter in the low 16. Ordered by RFC 1982 serial arithmetic so
/// that it survives the wrap of the seconds field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Sequence(pub u64);

impl Sequence {
    /// The seconds field.
    pub const fn seconds(self) -> u32 {
        (self.0 >> 32) as u32
    }

    /// Whether `self` comes strictly after `other` (serial number arithmetic).
    pub const fn is_after(self, other: Sequence) -> bool {
        (self.0.wrapping_sub(other.0) as i64) > 0
    }
}

/// A trailer that is well formed: extension type 1, reserved field zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TrailerRepr {
    pub key_id: u8,
    pub sequence: Sequence,
    pub mac: [u8; MAC_LEN],
}

/// The trailer's extension type is not HMAC-SHA256/128 or its reserved field is not zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[error("malformed authentication trailer (unknown extension type or reserved bits set)")]
pub struct MalformedTrailer;

impl TrailerRepr {
    /// Decode a trailer.
    pub fn parse(bytes: &[u8; TRAILER_LEN]) -> Result<Self, MalformedTrailer> {
        if bytes[field::EXT_TYPE] != EXT_TYPE_HMAC_SHA256_128 || bytes[field::RESERVED] != [0, 0] {
            return Err(MalformedTrailer);
        }
        let be16 = |r: std::ops::Range<usize>| {
            u64::from(u16::from_be_bytes([bytes[r.start], bytes[r.start + 1]]))
        };
        let seconds = u64::from(u32::from_be_bytes([
            bytes[field::SECONDS.start],
            bytes[field::SECONDS.start + 1],
            bytes[field::SECONDS.start + 2],
            bytes[field::SECONDS.start + 3],
        ]));
        let mut mac = [0; MAC_LEN];
        mac.copy_from_slice(&bytes[field::MAC]);
        Ok(TrailerRepr {
            key_id: bytes[field::KEY_ID],
            sequence: Sequence(
                seconds << 32 | be16(field::SUBSECONDS) << 16 | be16(field::COUNTER),
            ),
            mac,
        })
    }

    /// The 12 bytes before the MAC, as they go on the wire.
    pub fn signed_part(key_id: u8, sequence: Sequence) -> [u8; field::SIGNED.end] {
        let mut out = [0; field::SIGNED.end];
        out[field::EXT_TYPE] = EXT_TYPE_HMAC_SHA256_128;
        out[field::KEY_ID] = key_id;
        out[field::SECONDS].copy_from_slice(&sequence.seconds().to_be_bytes());
        out[field::SUBSECONDS].copy_from_slice(&((sequence.0 >> 16) as u16).to_be_bytes());
        out[field::COUNTER].copy_from_slice(&(sequence.0 as u16).to_be_bytes());
        out
    }

    /// Encode the trailer.
    pub fn emit(&self) -> [u8; TRAILER_LEN] {
        let mut out = [0; TRAILER_LEN];
        out[field::SIGNED].copy_from_slice(&Self::signed_part(self.key_id, self.sequence));
        out[field::MAC].copy_from_slice(&self.mac);
        out
    }
}

/// Split a received IP payload into the VRRP message and, when the payload is exactly one
/// trailer longer than the header's version and address count say, the trailer (keepalived
/// detects it the same way: Ethernet padding never reaches 28 bytes).
pub fn split_trailer(payload: &[u8], family: IpFamily) -> (&[u8], Option<&[u8; TRAILER_LEN]>) {
    let Ok(packet) = Packet::new_checked(payload) else {
        return (payload, None);
    };
    let message_len = packet.total_len(family);
    if payload.len() != message_len + TRAILER_LEN {
        return (payload, None);
    }
    let (message, trailer) = payload.split_at(message_len);
    (message, trailer.try_into().ok())
}

/// Rewrite the VRRP checksum of `payload` (a VRRPv3 message followed by its trailer, sent over
/// IPv6 from `src` to `dst`) to cover the whole payload, as the kernel's `IPV6_CHECKSUM` does
/// for keepalived. Call it after the trailer is written; the MAC reads the checksum as zero, so
/// it does not depend on this.
pub fn seal_ipv6_checksum(payload: &mut [u8], src: Ipv6Addr, dst: Ipv6Addr) {
    payload[CHECKSUM].copy_from_slice(&[0, 0]);
    let sum = checksum::compute(PseudoHeader::V6 { src, dst }, payload);
    payload[CHECKSUM].copy_from_slice(&sum.to_be_bytes());
}
