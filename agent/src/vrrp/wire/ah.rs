//! keepalived's VRRPv2 `auth_type AH` (RFC 2338 auth type 2, IPsec Authentication Header as
//! RFC 2402 lays it out): over IPv4 only, the advert is IP protocol 51 and an AH header sits
//! between the IP header and the VRRP message.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | Next Header   |  Payload Len  |          RESERVED             |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |        Security Parameters Index (the sender's IPv4 address)  |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                    Sequence Number Field                      |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |          Integrity Check Value (HMAC-MD5-96, 12 bytes)        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//! Next header 112 (VRRP), payload len 4 (the header's length in 32-bit words minus 2).
//! The VRRP message behind it carries auth type 2 and zero auth data.
//!
//! The ICV is HMAC-MD5 (RFC 2104) keyed with the 8-byte `auth_pass` (zero padded), truncated to
//! 96 bits, over the whole IP packet with the fields a router may change zeroed: TOS, flags and
//! fragment offset, the header checksum, and in unicast also the TTL; the ICV itself reads as
//! zero. The identification and total length are covered, so the sender must choose the
//! identification itself (with `IP_HDRINCL` the kernel fills a zero one in after the ICV was
//! computed): keepalived counts it from 1 per process and skips 0, and so does vipd.
//!
//! This module owns the bytes only; the sequence rules live in [`crate::vrrp::auth_ah`].

use std::net::Ipv4Addr;

use hmac::{Hmac, Mac};
use md5::Md5;

use super::checksum::{self, PseudoHeader};
use super::packet::V2_AUTH_DATA_LEN;
use super::IP_PROTOCOL_VRRP;

/// IANA protocol number of the IPsec Authentication Header.
pub const IP_PROTOCOL_AH: u8 = 51;
/// Length of the AH header keepalived sends (12 fixed bytes and a 12-byte ICV).
pub const AH_LEN: usize = 24;
/// Length of the truncated HMAC-MD5.
pub const ICV_LEN: usize = 12;
/// The AH payload length field: the header's length in 32-bit words, minus 2 (RFC 2402 §2.2).
const PAYLOAD_LEN: u8 = (AH_LEN / 4 - 2) as u8;
/// Length of an IPv4 header without options, the only kind vipd sends.
pub const IPV4_HEADER_LEN: usize = 20;
/// The key is `auth_pass`, cut or zero padded to the VRRPv2 auth data length.
pub const KEY_LEN: usize = V2_AUTH_DATA_LEN;
/// IP precedence "internetwork control", as on every VRRP advert vipd sends.
const INTERNETWORK_CONTROL: u8 = 0xc0;

type HmacMd5 = Hmac<Md5>;

/// Byte ranges of the fields, in the AH header and in the IPv4 header.
pub mod field {
    use std::ops::Range;

    pub const NEXT_HEADER: usize = 0;
    pub const PAYLOAD_LEN: usize = 1;
    pub const RESERVED: Range<usize> = 2..4;
    pub const SPI: Range<usize> = 4..8;
    pub const SEQUENCE: Range<usize> = 8..12;
    pub const ICV: Range<usize> = 12..24;

    /// IPv4 header fields the ICV needs to see or to zero.
    pub mod ipv4 {
        use std::ops::Range;

        pub const VERSION_IHL: usize = 0;
        pub const TOS: usize = 1;
        pub const TOTAL_LEN: Range<usize> = 2..4;
        pub const ID: Range<usize> = 4..6;
        pub const FLAGS_FRAGMENT: Range<usize> = 6..8;
        pub const TTL: usize = 8;
        pub const PROTOCOL: usize = 9;
        pub const CHECKSUM: Range<usize> = 10..12;
        pub const SRC: Range<usize> = 12..16;
        pub const DST: Range<usize> = 16..20;
    }
}

/// The HMAC key of one instance: `auth_pass`, zero padded to 8 bytes. Never in `Debug` output.
#[derive(Clone, PartialEq, Eq)]
pub struct AhKey([u8; KEY_LEN]);

impl AhKey {
    pub const fn new(bytes: [u8; KEY_LEN]) -> Self {
        AhKey(bytes)
    }
}

impl std::fmt::Debug for AhKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AhKey(..)")
    }
}

/// Which mutable IP fields the ICV zeroes besides TOS, fragment and checksum: keepalived also
/// zeroes the TTL of unicast adverts (a routed peer sees it decremented).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    Multicast,
    Unicast,
}

/// The AH header's fields as sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AhRepr {
    pub spi: Ipv4Addr,
    pub sequence: u32,
    pub icv: [u8; ICV_LEN],
}

/// Why an IPv4 packet is not an AH-wrapped VRRP message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum AhError {
    #[error("not an IPv4 packet with an AH header of keepalived's form")]
    Malformed,
    #[error("AH header for IP protocol {0}, not VRRP (112)")]
    NotVrrp(u8),
    #[error("AH ICV does not verify (a different auth_pass, or a forged advert)")]
    BadIcv,
    #[error("AH SPI is not the sender's address")]
    SpiMismatch,
}

/// A received IPv4 packet split at its AH header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AhPacket<'a> {
    /// The IP header, options included, and the AH header: the part of the ICV's input that
    /// comes before the message.
    headers: &'a [u8],
    pub ah: AhRepr,
    pub source: Ipv4Addr,
    pub ttl: u8,
    /// The VRRP message (up to the IP total length: Ethernet padding is not covered).
    pub message: &'a [u8],
}

impl<'a> AhPacket<'a> {
    /// Split a whole IPv4 packet, as a raw socket for protocol 51 delivers it.
    pub fn split(packet: &'a [u8]) -> Result<Self, AhError> {
        use field::ipv4;
        let first = *packet.first().ok_or(AhError::Malformed)?;
        let header_len = usize::from(first & 0x0f) * 4;
        if first >> 4 != 4 || header_len < IPV4_HEADER_LEN || packet.len() < header_len {
            return Err(AhError::Malformed);
        }
        let total_len = usize::from(u16::from_be_bytes([
            packet[ipv4::TOTAL_LEN.start],
            packet[ipv4::TOTAL_LEN.start + 1],
        ]));
        if packet[ipv4::PROTOCOL] != IP_PROTOCOL_AH
            || total_len > packet.len()
            || total_len < header_len + AH_LEN
        {
            return Err(AhError::Malformed);
        }
        let ah = &packet[header_len..header_len + AH_LEN];
        if ah[field::NEXT_HEADER] != IP_PROTOCOL_VRRP {
            return Err(AhError::NotVrrp(ah[field::NEXT_HEADER]));
        }
        if ah[field::PAYLOAD_LEN] != PAYLOAD_LEN || ah[field::RESERVED] != [0, 0] {
            return Err(AhError::Malformed);
        }
        let mut icv = [0; ICV_LEN];
        icv.copy_from_slice(&ah[field::ICV]);
        Ok(AhPacket {
            headers: &packet[..header_len + AH_LEN],
            ah: AhRepr {
                spi: ipv4_at(ah, field::SPI.start),
                sequence: u32::from_be_bytes(ah[field::SEQUENCE].try_into().expect("4 bytes")),
                icv,
            },
            source: ipv4_at(packet, ipv4::SRC.start),
            ttl: packet[ipv4::TTL],
            message: &packet[header_len + AH_LEN..total_len],
        })
    }

    /// Check the ICV (constant time) and then that the SPI names the sender, in keepalived's
    /// order: nothing in a packet whose ICV fails can be trusted, the SPI included.
    pub fn verify(&self, key: &AhKey, delivery: Delivery) -> Result<(), AhError> {
        let mut headers = [0; 15 * 4 + AH_LEN];
        let headers = &mut headers[..self.headers.len()];
        headers.copy_from_slice(self.headers);
        let ah_start = headers.len() - AH_LEN;
        zero_mutable(&mut headers[..ah_start], delivery);
        headers[ah_start + field::ICV.start..].fill(0);
        let mut mac = keyed(key);
        mac.update(headers);
        mac.update(self.message);
        mac.verify_truncated_left(&self.ah.icv)
            .map_err(|_| AhError::BadIcv)?;
        if self.ah.spi != self.source {
            return Err(AhError::SpiMismatch);
        }
        Ok(())
    }
}

/// What the IPv4 and AH headers of one sent advert say, besides the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AhEmit {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    /// The IP identification: never 0, or the kernel would replace it after the ICV.
    pub id: u16,
    pub ttl: u8,
    pub sequence: u32,
    pub delivery: Delivery,
}

/// Bytes of the whole IPv4 packet that wraps a VRRP message of `message_len` bytes.
pub const fn packet_len(message_len: usize) -> usize {
    IPV4_HEADER_LEN + AH_LEN + message_len
}

/// Write the whole IPv4 packet (header, AH header with its ICV, `message`) into `buf`, which
/// must be [`packet_len`] bytes long. The header checksum is written too, although the kernel
/// rewrites it under `IP_HDRINCL`, so that the bytes are the ones on the wire.
pub fn emit(buf: &mut [u8], key: &AhKey, emit: &AhEmit, message: &[u8]) {
    use field::ipv4;
    assert_eq!(
        buf.len(),
        packet_len(message.len()),
        "AH packet buffer length"
    );
    let total_len = u16::try_from(buf.len()).expect("a VRRPv2 advert fits 64 KiB");
    let (ip, rest) = buf.split_at_mut(IPV4_HEADER_LEN);
    let (ah, body) = rest.split_at_mut(AH_LEN);
    ip[ipv4::VERSION_IHL] = 0x45;
    ip[ipv4::TOS] = INTERNETWORK_CONTROL;
    ip[ipv4::TOTAL_LEN].copy_from_slice(&total_len.to_be_bytes());
    ip[ipv4::ID].copy_from_slice(&emit.id.to_be_bytes());
    ip[ipv4::FLAGS_FRAGMENT].fill(0);
    ip[ipv4::TTL] = emit.ttl;
    ip[ipv4::PROTOCOL] = IP_PROTOCOL_AH;
    ip[ipv4::CHECKSUM].fill(0);
    ip[ipv4::SRC].copy_from_slice(&emit.src.octets());
    ip[ipv4::DST].copy_from_slice(&emit.dst.octets());
    ah[field::NEXT_HEADER] = IP_PROTOCOL_VRRP;
    ah[field::PAYLOAD_LEN] = PAYLOAD_LEN;
    ah[field::RESERVED].fill(0);
    ah[field::SPI].copy_from_slice(&emit.src.octets());
    ah[field::SEQUENCE].copy_from_slice(&emit.sequence.to_be_bytes());
    ah[field::ICV].fill(0);
    body.copy_from_slice(message);

    let mut covered = [0; IPV4_HEADER_LEN];
    covered.copy_from_slice(ip);
    zero_mutable(&mut covered, emit.delivery);
    let mut mac = keyed(key);
    mac.update(&covered);
    mac.update(ah);
    mac.update(body);
    ah[field::ICV].copy_from_slice(&mac.finalize().into_bytes()[..ICV_LEN]);
    let sum = checksum::compute(PseudoHeader::None, ip);
    ip[ipv4::CHECKSUM].copy_from_slice(&sum.to_be_bytes());
}

/// Zero what the ICV does not cover of an IPv4 header (options included, as keepalived does).
fn zero_mutable(ip: &mut [u8], delivery: Delivery) {
    use field::ipv4;
    ip[ipv4::TOS] = 0;
    ip[ipv4::FLAGS_FRAGMENT].fill(0);
    ip[ipv4::CHECKSUM].fill(0);
    if delivery == Delivery::Unicast {
        ip[ipv4::TTL] = 0;
    }
}

fn keyed(key: &AhKey) -> HmacMd5 {
    HmacMd5::new_from_slice(&key.0).expect("HMAC accepts any key length")
}

fn ipv4_at(bytes: &[u8], at: usize) -> Ipv4Addr {
    Ipv4Addr::new(bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3])
}

#[cfg(test)]
mod tests;
