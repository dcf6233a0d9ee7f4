//! The Internet checksum (RFC 1071) over a VRRP message, with or without an IP pseudo-header.
//!
//! Which bytes the checksum covers depends on version and family:
//! - VRRPv2 (RFC 3768 section 5.3.8): the VRRP message only.
//! - VRRPv3 over IPv6 (RFC 9568 section 5.2.8): the IPv6 pseudo-header (RFC 8200 section 8.1)
//!   and the message.
//! - VRRPv3 over IPv4: RFC 9568 says the message only, but keepalived and FRR include the IPv4
//!   pseudo-header by default. See [`V3Ipv4Checksum`].
//! - keepalived before 1.3.6 (and later ones with `old_unicast_checksum`) computed the IPv4
//!   pseudo-header of a *unicast* VRRPv3 advert with the multicast group 224.0.0.18 as its
//!   destination. keepalived accepts that on receipt (its `chksum_compatibility_t` in `vrrp.h`:
//!   "Default setting, will revert to old if receive advert with old") and so does vipd.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::IP_PROTOCOL_VRRP;

/// How a VRRPv3 message over IPv4 is checksummed on emission.
///
/// On receipt both are accepted and the parser reports which one matched
/// ([`ChecksumVariant`]), so an operator can see what each peer does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum V3Ipv4Checksum {
    /// Include the IPv4 pseudo-header: what keepalived and FRR do by default, so a mixed
    /// group works out of the box. vipd's default.
    #[default]
    WithPseudoHeader,
    /// The message only, as RFC 9568 section 5.2.8 reads (keepalived `v3_checksum_as_v2`,
    /// FRR without `checksum-with-ipv4-pseudoheader`).
    MessageOnly,
    /// The IPv4 pseudo-header with destination 224.0.0.18 even for unicast: keepalived's
    /// `old_unicast_checksum`, for peers running keepalived before 1.3.6. For multicast
    /// adverts it is the same as `WithPseudoHeader`.
    PseudoHeaderGroupDestination,
}

/// Which checksum a received message carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChecksumVariant {
    /// Over the message only (VRRPv2, or VRRPv3 over IPv4 per the RFC text).
    MessageOnly,
    /// Over the IPv4 pseudo-header and the message (VRRPv3 over IPv4, keepalived default).
    Ipv4PseudoHeader,
    /// Over an IPv4 pseudo-header whose destination is 224.0.0.18 although the advert was
    /// unicast (keepalived `old_unicast_checksum`).
    Ipv4PseudoHeaderGroupDestination,
    /// Over the IPv6 pseudo-header and the message (VRRPv3 over IPv6, the only option there).
    Ipv6PseudoHeader,
}

impl From<ChecksumVariant> for V3Ipv4Checksum {
    /// The emission choice that reproduces a received variant, e.g. to answer a peer the way
    /// it checksums (keepalived switches to the old unicast checksum when it receives one).
    fn from(v: ChecksumVariant) -> Self {
        match v {
            ChecksumVariant::MessageOnly => V3Ipv4Checksum::MessageOnly,
            ChecksumVariant::Ipv4PseudoHeader | ChecksumVariant::Ipv6PseudoHeader => {
                V3Ipv4Checksum::WithPseudoHeader
            }
            ChecksumVariant::Ipv4PseudoHeaderGroupDestination => {
                V3Ipv4Checksum::PseudoHeaderGroupDestination
            }
        }
    }
}

/// A running ones-complement sum of 16-bit big-endian words.
#[derive(Debug, Clone, Copy, Default)]
struct Sum(u32);

impl Sum {
    fn add_bytes(mut self, bytes: &[u8]) -> Self {
        let mut chunks = bytes.chunks_exact(2);
        for pair in &mut chunks {
            self.0 += u32::from(u16::from_be_bytes([pair[0], pair[1]]));
            self = self.fold_once();
        }
        if let [last] = chunks.remainder() {
            self.0 += u32::from(*last) << 8;
        }
        self.fold_once()
    }

    fn fold_once(self) -> Self {
        Sum((self.0 & 0xffff) + (self.0 >> 16))
    }

    /// The complemented 16-bit result, as written into a checksum field.
    fn finish(self) -> u16 {
        let mut s = self;
        while s.0 > 0xffff {
            s = s.fold_once();
        }
        !(s.0 as u16)
    }
}

/// The pseudo-header a checksum is computed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PseudoHeader {
    None,
    V4 { src: Ipv4Addr, dst: Ipv4Addr },
    V6 { src: Ipv6Addr, dst: Ipv6Addr },
}

impl PseudoHeader {
    fn sum(self, message_len: usize) -> Sum {
        match self {
            PseudoHeader::None => Sum::default(),
            PseudoHeader::V4 { src, dst } => {
                // A VRRP message is at most a few KB, so its length fits the 16-bit field.
                let len = (message_len as u16).to_be_bytes();
                Sum::default()
                    .add_bytes(&src.octets())
                    .add_bytes(&dst.octets())
                    .add_bytes(&[0, IP_PROTOCOL_VRRP])
                    .add_bytes(&len)
            }
            PseudoHeader::V6 { src, dst } => {
                let len = (message_len as u32).to_be_bytes();
                Sum::default()
                    .add_bytes(&src.octets())
                    .add_bytes(&dst.octets())
                    .add_bytes(&len)
                    .add_bytes(&[0, 0, 0, IP_PROTOCOL_VRRP])
            }
        }
    }
}

/// The checksum of `message` (whose checksum field must be zero) with `pseudo`.
pub(crate) fn compute(pseudo: PseudoHeader, message: &[u8]) -> u16 {
    compute_parts(pseudo, &[message])
}

/// The checksum of the concatenation of `parts`, each but the last of even length (a VRRP
/// message always is: 8 bytes, then 4- or 16-byte addresses, then 8 bytes of v2 auth data).
fn compute_parts(pseudo: PseudoHeader, parts: &[&[u8]]) -> u16 {
    let len = parts.iter().map(|p| p.len()).sum();
    parts
        .iter()
        .fold(pseudo.sum(len), |sum, part| sum.add_bytes(part))
        .finish()
}

/// Whether `message` (checksum field as received) sums to zero with `pseudo`.
pub(crate) fn verify(pseudo: PseudoHeader, message: &[u8]) -> bool {
    compute(pseudo, message) == 0
}

/// Whether `message` followed by `trailer` (the auth_hmac trailer, which the IPv6 checksum
/// covers) sums to zero with `pseudo`.
pub(crate) fn verify_with_trailer(pseudo: PseudoHeader, message: &[u8], trailer: &[u8]) -> bool {
    compute_parts(pseudo, &[message, trailer]) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc1071_example_sum() {
        // RFC 1071 section 3: the words 0001 f203 f4f5 f6f7 sum to ddf2 (complement 220d).
        let bytes = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(compute(PseudoHeader::None, &bytes), !0xddf2);
    }

    #[test]
    fn odd_length_pads_with_zero() {
        assert_eq!(
            compute(PseudoHeader::None, &[0x12, 0x34, 0x56]),
            compute(PseudoHeader::None, &[0x12, 0x34, 0x56, 0x00])
        );
    }

    #[test]
    fn a_message_with_its_checksum_verifies() {
        let mut msg = [0x31, 0x01, 0x64, 0x01, 0x00, 0x64, 0, 0, 192, 0, 2, 1];
        let pseudo = PseudoHeader::V4 {
            src: Ipv4Addr::new(192, 0, 2, 10),
            dst: Ipv4Addr::new(224, 0, 0, 18),
        };
        let c = compute(pseudo, &msg);
        msg[6..8].copy_from_slice(&c.to_be_bytes());
        assert!(verify(pseudo, &msg));
        assert!(!verify(PseudoHeader::None, &msg));
    }
}
