//! [`AdvertRepr`]: a decoded ADVERTISEMENT, and its parse / emit / buffer_len.
//!
//! Illegal states are kept unrepresentable where it is cheap: a VRRPv2 advert carries only
//! IPv4 addresses and has an auth field, a VRRPv3 advert has a 16-bit interval word and a
//! single-family address list.

use crate::family::IpFamily;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::checksum::{self, ChecksumVariant, PseudoHeader, V3Ipv4Checksum};
use super::packet::{Packet, HEADER_LEN, TYPE_ADVERTISEMENT, V2_AUTH_DATA_LEN};
use super::VRRP_GROUP_V4;
use super::{EmitError, ParseError};

/// VRRPv2 auth type values (RFC 2338 section 5.3.6; RFC 3768 keeps 0 and marks 1, 2 reserved).
const AUTH_NONE: u8 = 0;
const AUTH_SIMPLE_PASSWORD: u8 = 1;
const AUTH_IPSEC_AH: u8 = 2;

/// A decoded ADVERTISEMENT.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AdvertRepr {
    V2(V2Advert),
    V3(V3Advert),
}

/// A VRRPv2 advert (RFC 3768): IPv4 only, interval in whole seconds.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct V2Advert {
    pub vrid: u8,
    pub priority: u8,
    /// Adver Int, in seconds.
    pub adver_int_secs: u8,
    pub auth: V2Auth,
    pub addresses: Vec<Ipv4Addr>,
}

/// VRRPv2 authentication.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum V2Auth {
    /// Auth type 0. The 8 bytes of auth data are sent as zero and ignored on receipt
    /// (RFC 3768 section 5.3.10).
    None,
    /// Auth type 1 (RFC 2338, keepalived `auth_type PASS`): an 8-byte password, zero padded,
    /// in the clear. It guards against misconfiguration, not against attackers.
    SimplePassword([u8; V2_AUTH_DATA_LEN]),
    /// Auth type 2 (RFC 2338, keepalived `auth_type AH`): the auth data is zero and an IPsec
    /// AH header before the message authenticates it (see [`super::ah`]).
    IpsecAh,
}

/// A VRRPv3 advert (RFC 9568).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct V3Advert {
    pub vrid: u8,
    pub priority: u8,
    pub interval: V3Interval,
    pub addresses: VirtualAddresses,
}

/// The VRRPv3 16-bit word of 4 reserved bits and the 12-bit Max Adver Int, kept whole so that
/// decoding then encoding is the identity. Its meaning in time depends on the receiver:
/// see [`crate::vrrp::fast_mode`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct V3Interval(u16);

impl V3Interval {
    /// Largest value of the 12-bit Max Adver Int.
    pub const MAX_UNITS: u16 = 0x0fff;

    /// A standard interval of `centiseconds` (1..=4095 is meaningful; 0 is what a broken
    /// peer might send). `None` if it does not fit 12 bits.
    pub const fn centiseconds(centiseconds: u16) -> Option<Self> {
        if centiseconds > Self::MAX_UNITS {
            None
        } else {
            Some(V3Interval(centiseconds))
        }
    }

    /// The word exactly as on the wire.
    pub const fn from_word(word: u16) -> Self {
        V3Interval(word)
    }

    /// The word as it goes on the wire.
    pub const fn word(self) -> u16 {
        self.0
    }

    /// The 12-bit Max Adver Int.
    pub const fn max_adver_int(self) -> u16 {
        self.0 & Self::MAX_UNITS
    }

    /// The 4 reserved bits (RFC 9568: zero on send, ignored on receipt; vipd's fast mode
    /// uses the top one).
    pub const fn reserved_bits(self) -> u8 {
        (self.0 >> 12) as u8
    }
}

/// The address list of a VRRPv3 advert, one family.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum VirtualAddresses {
    V4(Vec<Ipv4Addr>),
    V6(Vec<Ipv6Addr>),
}

impl VirtualAddresses {
    pub fn family(&self) -> IpFamily {
        match self {
            VirtualAddresses::V4(_) => IpFamily::V4,
            VirtualAddresses::V6(_) => IpFamily::V6,
        }
    }

    pub fn len(&self) -> usize {
        match self {
            VirtualAddresses::V4(a) => a.len(),
            VirtualAddresses::V6(a) => a.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The addresses as `IpAddr`s.
    pub fn iter(&self) -> impl Iterator<Item = IpAddr> + '_ {
        let (v4, v6) = match self {
            VirtualAddresses::V4(a) => (a.as_slice(), &[][..]),
            VirtualAddresses::V6(a) => (&[][..], a.as_slice()),
        };
        v4.iter()
            .map(|a| IpAddr::V4(*a))
            .chain(v6.iter().map(|a| IpAddr::V6(*a)))
    }
}

/// A parsed advert and the checksum variant it carried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedAdvert {
    pub repr: AdvertRepr,
    pub checksum: ChecksumVariant,
}

/// The IP family shared by `src` and `dst`, or `FamilyMismatch`.
fn family_of_pair(src: IpAddr, dst: IpAddr) -> Result<IpFamily, ParseError> {
    let family = IpFamily::of(src);
    if IpFamily::of(dst) != family {
        return Err(ParseError::FamilyMismatch);
    }
    Ok(family)
}

fn pseudo_header(src: IpAddr, dst: IpAddr) -> PseudoHeader {
    match (src, dst) {
        (IpAddr::V4(src), IpAddr::V4(dst)) => PseudoHeader::V4 { src, dst },
        (IpAddr::V6(src), IpAddr::V6(dst)) => PseudoHeader::V6 { src, dst },
        // Mixed families are refused before a checksum is computed.
        _ => PseudoHeader::None,
    }
}

impl AdvertRepr {
    /// Decode and verify one message received from `src` to `dst`.
    ///
    /// Checks, in order: version, type, families, length against the address count,
    /// checksum (for VRRPv3 over IPv4 every [`ChecksumVariant`] that applies is accepted and
    /// the one that matched is reported), VRRPv2 auth type. Semantic checks against the local configuration (TTL, VRID,
    /// auth data, interval, addresses) are [`crate::vrrp::validate`]'s.
    pub fn parse<T: AsRef<[u8]>>(
        packet: &Packet<T>,
        src: IpAddr,
        dst: IpAddr,
    ) -> Result<ParsedAdvert, ParseError> {
        Self::parse_with_trailer(packet, &[], src, dst)
    }

    /// [`AdvertRepr::parse`] of a message that an auth_hmac trailer followed (see
    /// [`super::trailer`]): over IPv6 the checksum covers the trailer too; over IPv4 it does
    /// not. `trailer` is empty when there was none.
    pub fn parse_with_trailer<T: AsRef<[u8]>>(
        packet: &Packet<T>,
        trailer: &[u8],
        src: IpAddr,
        dst: IpAddr,
    ) -> Result<ParsedAdvert, ParseError> {
        if packet.as_bytes().len() < HEADER_LEN {
            return Err(ParseError::Truncated);
        }
        let version = packet.version();
        if version != 2 && version != 3 {
            return Err(ParseError::BadVersion(version));
        }
        if packet.packet_type() != TYPE_ADVERTISEMENT {
            return Err(ParseError::BadType(packet.packet_type()));
        }
        let family = family_of_pair(src, dst)?;
        if version == 2 && family != IpFamily::V4 {
            return Err(ParseError::FamilyMismatch);
        }
        packet.check_len(family)?;

        let bytes = packet.as_bytes();
        let checksum = if version == 2 {
            verified(PseudoHeader::None, bytes, ChecksumVariant::MessageOnly)?
        } else {
            match family {
                IpFamily::V6 => {
                    if checksum::verify_with_trailer(pseudo_header(src, dst), bytes, trailer) {
                        ChecksumVariant::Ipv6PseudoHeader
                    } else {
                        return Err(ParseError::BadChecksum);
                    }
                }
                IpFamily::V4 => verified(
                    pseudo_header(src, dst),
                    bytes,
                    ChecksumVariant::Ipv4PseudoHeader,
                )
                .or_else(|_| verified(PseudoHeader::None, bytes, ChecksumVariant::MessageOnly))
                .or_else(|e| {
                    if dst == IpAddr::V4(VRRP_GROUP_V4) {
                        return Err(e);
                    }
                    verified(
                        pseudo_header(src, IpAddr::V4(VRRP_GROUP_V4)),
                        bytes,
                        ChecksumVariant::Ipv4PseudoHeaderGroupDestination,
                    )
                })?,
            }
        };

        let repr = if version == 2 {
            let auth = match packet.v2_auth_type() {
                AUTH_NONE => V2Auth::None,
                AUTH_SIMPLE_PASSWORD => V2Auth::SimplePassword(packet.v2_auth_data()),
                AUTH_IPSEC_AH => V2Auth::IpsecAh,
                other => return Err(ParseError::UnknownAuthType(other)),
            };
            AdvertRepr::V2(V2Advert {
                vrid: packet.vrid(),
                priority: packet.priority(),
                adver_int_secs: packet.v2_adver_int(),
                auth,
                addresses: v4_list(packet.addresses(family)),
            })
        } else {
            let list = packet.addresses(family);
            let addresses = match family {
                IpFamily::V4 => VirtualAddresses::V4(v4_list(list)),
                IpFamily::V6 => VirtualAddresses::V6(
                    list.chunks_exact(16)
                        .map(|c| {
                            let mut o = [0u8; 16];
                            o.copy_from_slice(c);
                            Ipv6Addr::from(o)
                        })
                        .collect(),
                ),
            };
            AdvertRepr::V3(V3Advert {
                vrid: packet.vrid(),
                priority: packet.priority(),
                interval: V3Interval::from_word(packet.v3_interval_word()),
                addresses,
            })
        };
        Ok(ParsedAdvert { repr, checksum })
    }

    /// The exact length of the emitted message.
    pub fn buffer_len(&self) -> usize {
        match self {
            AdvertRepr::V2(a) => HEADER_LEN + 4 * a.addresses.len() + V2_AUTH_DATA_LEN,
            AdvertRepr::V3(a) => {
                HEADER_LEN + a.addresses.family().address_len() * a.addresses.len()
            }
        }
    }

    /// The family this advert travels over.
    pub fn family(&self) -> IpFamily {
        match self {
            AdvertRepr::V2(_) => IpFamily::V4,
            AdvertRepr::V3(a) => a.addresses.family(),
        }
    }

    /// The VRRP version, 2 or 3.
    pub fn version(&self) -> u8 {
        match self {
            AdvertRepr::V2(_) => 2,
            AdvertRepr::V3(_) => 3,
        }
    }

    pub fn vrid(&self) -> u8 {
        match self {
            AdvertRepr::V2(a) => a.vrid,
            AdvertRepr::V3(a) => a.vrid,
        }
    }

    pub fn priority(&self) -> u8 {
        match self {
            AdvertRepr::V2(a) => a.priority,
            AdvertRepr::V3(a) => a.priority,
        }
    }

    /// The advertised virtual addresses.
    pub fn addresses(&self) -> Vec<IpAddr> {
        match self {
            AdvertRepr::V2(a) => a.addresses.iter().map(|a| IpAddr::V4(*a)).collect(),
            AdvertRepr::V3(a) => a.addresses.iter().collect(),
        }
    }

    /// Write this advert, sent from `src` to `dst`, into `packet`, whose buffer must be exactly
    /// [`AdvertRepr::buffer_len`] bytes. `v3_ipv4` picks the VRRPv3-over-IPv4 checksum; the
    /// other cases have only one.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(
        &self,
        packet: &mut Packet<T>,
        src: IpAddr,
        dst: IpAddr,
        v3_ipv4: V3Ipv4Checksum,
    ) -> Result<(), EmitError> {
        let family = family_of_pair(src, dst).map_err(|_| EmitError::FamilyMismatch)?;
        if family != self.family() {
            return Err(EmitError::FamilyMismatch);
        }
        let count = match self {
            AdvertRepr::V2(a) => a.addresses.len(),
            AdvertRepr::V3(a) => a.addresses.len(),
        };
        let count = u8::try_from(count).map_err(|_| EmitError::TooManyAddresses(count))?;
        let expected = self.buffer_len();
        let actual = packet.as_bytes().len();
        if actual != expected {
            return Err(EmitError::BufferLength { expected, actual });
        }

        packet.set_vrid(self.vrid());
        packet.set_priority(self.priority());
        packet.set_address_count(count);
        packet.set_checksum(0);
        let pseudo = match self {
            AdvertRepr::V2(a) => {
                packet.set_version_and_type(2, TYPE_ADVERTISEMENT);
                let (auth_type, data) = match a.auth {
                    V2Auth::None => (AUTH_NONE, [0; V2_AUTH_DATA_LEN]),
                    V2Auth::SimplePassword(p) => (AUTH_SIMPLE_PASSWORD, p),
                    V2Auth::IpsecAh => (AUTH_IPSEC_AH, [0; V2_AUTH_DATA_LEN]),
                };
                packet.set_v2_auth_type(auth_type);
                packet.set_v2_adver_int(a.adver_int_secs);
                write_v4_list(packet.addresses_mut(family), &a.addresses);
                packet.set_v2_auth_data(&data);
                PseudoHeader::None
            }
            AdvertRepr::V3(a) => {
                packet.set_version_and_type(3, TYPE_ADVERTISEMENT);
                packet.set_v3_interval_word(a.interval.word());
                match &a.addresses {
                    VirtualAddresses::V4(list) => {
                        write_v4_list(packet.addresses_mut(family), list);
                        match v3_ipv4 {
                            V3Ipv4Checksum::WithPseudoHeader => pseudo_header(src, dst),
                            V3Ipv4Checksum::MessageOnly => PseudoHeader::None,
                            V3Ipv4Checksum::PseudoHeaderGroupDestination => {
                                pseudo_header(src, IpAddr::V4(VRRP_GROUP_V4))
                            }
                        }
                    }
                    VirtualAddresses::V6(list) => {
                        let out = packet.addresses_mut(family);
                        for (slot, addr) in out.chunks_exact_mut(16).zip(list) {
                            slot.copy_from_slice(&addr.octets());
                        }
                        pseudo_header(src, dst)
                    }
                }
            }
        };
        let sum = checksum::compute(pseudo, packet.as_bytes());
        packet.set_checksum(sum);
        Ok(())
    }

    /// [`AdvertRepr::emit`] into a new buffer of the right size.
    pub fn emit_to_vec(
        &self,
        src: IpAddr,
        dst: IpAddr,
        v3_ipv4: V3Ipv4Checksum,
    ) -> Result<Vec<u8>, EmitError> {
        let mut packet = Packet::new_unchecked(vec![0u8; self.buffer_len()]);
        self.emit(&mut packet, src, dst, v3_ipv4)?;
        Ok(packet.into_inner())
    }
}

fn verified(
    pseudo: PseudoHeader,
    bytes: &[u8],
    variant: ChecksumVariant,
) -> Result<ChecksumVariant, ParseError> {
    if checksum::verify(pseudo, bytes) {
        Ok(variant)
    } else {
        Err(ParseError::BadChecksum)
    }
}

fn v4_list(bytes: &[u8]) -> Vec<Ipv4Addr> {
    bytes
        .chunks_exact(4)
        .map(|c| Ipv4Addr::new(c[0], c[1], c[2], c[3]))
        .collect()
}

fn write_v4_list(out: &mut [u8], list: &[Ipv4Addr]) {
    for (slot, addr) in out.chunks_exact_mut(4).zip(list) {
        slot.copy_from_slice(&addr.octets());
    }
}
