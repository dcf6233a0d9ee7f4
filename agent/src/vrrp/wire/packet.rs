//! A checked view over the bytes of one VRRP message (the IP payload, not the IP header).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |Version| Type  | Virtual Rtr ID|   Priority    |Count IPvX Addr|
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |  v3: (rsvd)   |  Max Adver Int (12 bits)  |    Checksum       |
//! |  v2: Auth Type|  Adver Int    |                               |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |   Count x IPv4 (4 bytes) or IPv6 (16 bytes) address           |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |   v2 only: Authentication Data (8 bytes)                      |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//! (RFC 9568 section 5.1, RFC 3768 section 5.1.)

use super::ParseError;
use crate::family::IpFamily;

/// Byte ranges of the fixed fields.
pub mod field {
    use std::ops::Range;

    pub const VER_TYPE: usize = 0;
    pub const VRID: usize = 1;
    pub const PRIORITY: usize = 2;
    pub const COUNT: usize = 3;
    /// VRRPv3: 4 reserved bits, then the 12-bit Max Adver Int.
    pub const V3_INTERVAL: Range<usize> = 4..6;
    /// VRRPv2: Auth Type.
    pub const V2_AUTH_TYPE: usize = 4;
    /// VRRPv2: Adver Int in seconds.
    pub const V2_ADVER_INT: usize = 5;
    pub const CHECKSUM: Range<usize> = 6..8;
    /// Start of the address list.
    pub const ADDRESSES: usize = 8;
}

/// Length of the fixed header before the address list.
pub const HEADER_LEN: usize = field::ADDRESSES;
/// Length of the VRRPv2 authentication data after the address list.
pub const V2_AUTH_DATA_LEN: usize = 8;
/// The only packet type defined: ADVERTISEMENT.
pub const TYPE_ADVERTISEMENT: u8 = 1;

/// A read (and, over a mutable buffer, write) view of a VRRP message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wrap a buffer without checking it; accessors may panic on a short buffer. Use
    /// [`Packet::new_checked`] for anything from the network.
    pub const fn new_unchecked(buffer: T) -> Self {
        Packet { buffer }
    }

    /// Wrap a buffer, checking that the fixed header is present so the fixed-field accessors
    /// cannot panic. The full length depends on the version and address family:
    /// [`Packet::check_len`] checks it.
    pub fn new_checked(buffer: T) -> Result<Self, ParseError> {
        let packet = Packet::new_unchecked(buffer);
        if packet.buffer.as_ref().len() < HEADER_LEN {
            return Err(ParseError::Truncated);
        }
        Ok(packet)
    }

    /// Check that the buffer is exactly as long as the header's address count says, for a
    /// message carried over `family`: the address-list and (v2) auth-data accessors cannot
    /// panic after this.
    pub fn check_len(&self, family: IpFamily) -> Result<(), ParseError> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN {
            return Err(ParseError::Truncated);
        }
        let expected = self.total_len(family);
        if len < expected {
            Err(ParseError::Truncated)
        } else if len > expected {
            Err(ParseError::LengthMismatch)
        } else {
            Ok(())
        }
    }

    /// The length the header's version and address count imply.
    pub fn total_len(&self, family: IpFamily) -> usize {
        let auth = if self.version() == 2 {
            V2_AUTH_DATA_LEN
        } else {
            0
        };
        HEADER_LEN + usize::from(self.address_count()) * family.address_len() + auth
    }

    /// The underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[field::VER_TYPE] >> 4
    }

    pub fn packet_type(&self) -> u8 {
        self.buffer.as_ref()[field::VER_TYPE] & 0x0f
    }

    /// The Virtual Router ID: what the daemon demultiplexes on.
    pub fn vrid(&self) -> u8 {
        self.buffer.as_ref()[field::VRID]
    }

    pub fn priority(&self) -> u8 {
        self.buffer.as_ref()[field::PRIORITY]
    }

    pub fn address_count(&self) -> u8 {
        self.buffer.as_ref()[field::COUNT]
    }

    /// VRRPv3: the whole 16-bit word holding the 4 reserved bits and the 12-bit Max Adver Int.
    pub fn v3_interval_word(&self) -> u16 {
        let b = &self.buffer.as_ref()[field::V3_INTERVAL];
        u16::from_be_bytes([b[0], b[1]])
    }

    /// VRRPv2: the Auth Type byte.
    pub fn v2_auth_type(&self) -> u8 {
        self.buffer.as_ref()[field::V2_AUTH_TYPE]
    }

    /// VRRPv2: Adver Int in seconds.
    pub fn v2_adver_int(&self) -> u8 {
        self.buffer.as_ref()[field::V2_ADVER_INT]
    }

    pub fn checksum(&self) -> u16 {
        let b = &self.buffer.as_ref()[field::CHECKSUM];
        u16::from_be_bytes([b[0], b[1]])
    }

    /// The address list bytes (after [`Packet::check_len`]).
    pub fn addresses(&self, family: IpFamily) -> &[u8] {
        let end = HEADER_LEN + usize::from(self.address_count()) * family.address_len();
        &self.buffer.as_ref()[HEADER_LEN..end]
    }

    /// VRRPv2: the 8 bytes of authentication data (after [`Packet::check_len`]).
    pub fn v2_auth_data(&self) -> [u8; V2_AUTH_DATA_LEN] {
        let b = self.buffer.as_ref();
        let mut out = [0; V2_AUTH_DATA_LEN];
        out.copy_from_slice(&b[b.len() - V2_AUTH_DATA_LEN..]);
        out
    }

    /// The whole message.
    pub fn as_bytes(&self) -> &[u8] {
        self.buffer.as_ref()
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    pub fn set_version_and_type(&mut self, version: u8, packet_type: u8) {
        self.buffer.as_mut()[field::VER_TYPE] = (version << 4) | (packet_type & 0x0f);
    }

    pub fn set_vrid(&mut self, vrid: u8) {
        self.buffer.as_mut()[field::VRID] = vrid;
    }

    pub fn set_priority(&mut self, priority: u8) {
        self.buffer.as_mut()[field::PRIORITY] = priority;
    }

    pub fn set_address_count(&mut self, count: u8) {
        self.buffer.as_mut()[field::COUNT] = count;
    }

    pub fn set_v3_interval_word(&mut self, word: u16) {
        self.buffer.as_mut()[field::V3_INTERVAL].copy_from_slice(&word.to_be_bytes());
    }

    pub fn set_v2_auth_type(&mut self, auth_type: u8) {
        self.buffer.as_mut()[field::V2_AUTH_TYPE] = auth_type;
    }

    pub fn set_v2_adver_int(&mut self, seconds: u8) {
        self.buffer.as_mut()[field::V2_ADVER_INT] = seconds;
    }

    pub fn set_checksum(&mut self, checksum: u16) {
        self.buffer.as_mut()[field::CHECKSUM].copy_from_slice(&checksum.to_be_bytes());
    }

    /// The address list bytes, sized by the address count already written.
    pub fn addresses_mut(&mut self, family: IpFamily) -> &mut [u8] {
        let end = HEADER_LEN + usize::from(self.address_count()) * family.address_len();
        &mut self.buffer.as_mut()[HEADER_LEN..end]
    }

    /// VRRPv2: the authentication data at the end of the buffer.
    pub fn set_v2_auth_data(&mut self, data: &[u8; V2_AUTH_DATA_LEN]) {
        let b = self.buffer.as_mut();
        let len = b.len();
        b[len - V2_AUTH_DATA_LEN..].copy_from_slice(data);
    }

    /// The whole message, mutably (for computing the checksum in place).
    pub fn as_bytes_mut(&mut self) -> &mut [u8] {
        self.buffer.as_mut()
    }
}
