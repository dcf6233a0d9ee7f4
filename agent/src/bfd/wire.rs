//! The BFD Control packet (RFC 5880 section 4.1), smoltcp style: [`Packet`] is a checked view
//! over the UDP payload, [`ControlRepr`] its decoded form with [`ControlRepr::parse`],
//! [`ControlRepr::emit`] and [`ControlRepr::buffer_len`].
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |Vers |  Diag   |Sta|P|F|C|A|D|M|  Detect Mult  |    Length     |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                       My Discriminator                        |
//! |                      Your Discriminator                       |
//! |                    Desired Min TX Interval                    |
//! |                   Required Min RX Interval                    |
//! |                 Required Min Echo RX Interval                 |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! The packet-level receive checks of RFC 5880 section 6.8.6 are [`ControlRepr::parse`]'s
//! (version, length, Detect Mult, Multipoint, My Discriminator, the A bit: vipd runs no BFD
//! authentication, so a packet asking for it is discarded as the RFC says); the checks that
//! need a session (Your Discriminator, the state it may carry) are
//! [`super::session::Session::handle_control`]'s.

use std::time::Duration;

/// UDP destination port of single-hop BFD Control packets (RFC 5881 section 4).
pub const CONTROL_PORT: u16 = 3784;
/// UDP destination port of multihop BFD Control packets (RFC 5883 section 5).
pub const MULTIHOP_CONTROL_PORT: u16 = 4784;
/// UDP port of BFD Echo packets (RFC 5881 section 4).
pub const ECHO_PORT: u16 = 3785;
/// The source port range of RFC 5881 section 4.
pub const SOURCE_PORTS: std::ops::RangeInclusive<u16> = 49152..=65535;
/// The protocol version this codec speaks.
pub const VERSION: u8 = 1;
/// Length of a Control packet without an authentication section.
pub const HEADER_LEN: usize = 24;

/// Byte ranges of the fixed fields.
pub mod field {
    use std::ops::Range;

    pub const VERS_DIAG: usize = 0;
    pub const STATE_FLAGS: usize = 1;
    pub const DETECT_MULT: usize = 2;
    pub const LENGTH: usize = 3;
    pub const MY_DISCR: Range<usize> = 4..8;
    pub const YOUR_DISCR: Range<usize> = 8..12;
    pub const DESIRED_MIN_TX: Range<usize> = 12..16;
    pub const REQUIRED_MIN_RX: Range<usize> = 16..20;
    pub const REQUIRED_MIN_ECHO_RX: Range<usize> = 20..24;
}

/// The flag bits of the second byte, below the two state bits.
mod flag {
    pub const POLL: u8 = 0x20;
    pub const FINAL: u8 = 0x10;
    pub const CONTROL_PLANE_INDEPENDENT: u8 = 0x08;
    pub const AUTH_PRESENT: u8 = 0x04;
    pub const DEMAND: u8 = 0x02;
    pub const MULTIPOINT: u8 = 0x01;
}

/// The session states of RFC 5880 section 4.1, with their wire values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum State {
    AdminDown = 0,
    Down = 1,
    Init = 2,
    Up = 3,
}

impl State {
    fn from_bits(bits: u8) -> State {
        match bits & 0x3 {
            0 => State::AdminDown,
            1 => State::Down,
            2 => State::Init,
            _ => State::Up,
        }
    }

    /// The name `vipd status` and the metrics use.
    pub fn name(self) -> &'static str {
        match self {
            State::AdminDown => "admin_down",
            State::Down => "down",
            State::Init => "init",
            State::Up => "up",
        }
    }
}

/// The diagnostic codes of RFC 5880 section 4.1. Values 9-31 are reserved; a received one
/// is kept as [`Diag::Reserved`] so decoding then encoding is the identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Diag {
    None,
    ControlDetectionTimeExpired,
    EchoFunctionFailed,
    NeighborSignaledSessionDown,
    ForwardingPlaneReset,
    PathDown,
    ConcatenatedPathDown,
    AdministrativelyDown,
    ReverseConcatenatedPathDown,
    Reserved(u8),
}

impl Diag {
    pub fn from_code(code: u8) -> Diag {
        match code & 0x1f {
            0 => Diag::None,
            1 => Diag::ControlDetectionTimeExpired,
            2 => Diag::EchoFunctionFailed,
            3 => Diag::NeighborSignaledSessionDown,
            4 => Diag::ForwardingPlaneReset,
            5 => Diag::PathDown,
            6 => Diag::ConcatenatedPathDown,
            7 => Diag::AdministrativelyDown,
            8 => Diag::ReverseConcatenatedPathDown,
            other => Diag::Reserved(other),
        }
    }

    pub fn code(self) -> u8 {
        match self {
            Diag::None => 0,
            Diag::ControlDetectionTimeExpired => 1,
            Diag::EchoFunctionFailed => 2,
            Diag::NeighborSignaledSessionDown => 3,
            Diag::ForwardingPlaneReset => 4,
            Diag::PathDown => 5,
            Diag::ConcatenatedPathDown => 6,
            Diag::AdministrativelyDown => 7,
            Diag::ReverseConcatenatedPathDown => 8,
            Diag::Reserved(code) => code & 0x1f,
        }
    }

    /// The name `vipd status` and the metrics use.
    pub fn name(self) -> &'static str {
        match self {
            Diag::None => "none",
            Diag::ControlDetectionTimeExpired => "detection_time_expired",
            Diag::EchoFunctionFailed => "echo_failed",
            Diag::NeighborSignaledSessionDown => "neighbor_signaled_down",
            Diag::ForwardingPlaneReset => "forwarding_plane_reset",
            Diag::PathDown => "path_down",
            Diag::ConcatenatedPathDown => "concatenated_path_down",
            Diag::AdministrativelyDown => "admin_down",
            Diag::ReverseConcatenatedPathDown => "reverse_concatenated_path_down",
            Diag::Reserved(_) => "reserved",
        }
    }
}

/// Why a received packet was discarded by the packet-level checks of RFC 5880 section 6.8.6.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, thiserror::Error)]
pub enum ParseError {
    #[error("shorter than a BFD Control packet, or than its Length field says")]
    Truncated,
    #[error("version is not 1")]
    BadVersion,
    #[error("Length field below the minimum")]
    BadLength,
    #[error("Detect Mult is zero")]
    ZeroDetectMult,
    #[error("Multipoint bit set")]
    Multipoint,
    #[error("My Discriminator is zero")]
    ZeroMyDiscriminator,
    #[error("authentication requested (vipd runs BFD without authentication)")]
    AuthenticationPresent,
}

/// A read (and, over a mutable buffer, write) view of a BFD Control packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wrap a buffer without checking it; accessors may panic on a short buffer.
    pub const fn new_unchecked(buffer: T) -> Self {
        Packet { buffer }
    }

    /// Wrap a buffer of at least [`HEADER_LEN`] bytes, so no fixed-field accessor can panic.
    pub fn new_checked(buffer: T) -> Result<Self, ParseError> {
        if buffer.as_ref().len() < HEADER_LEN {
            return Err(ParseError::Truncated);
        }
        Ok(Packet { buffer })
    }

    fn byte(&self, at: usize) -> u8 {
        self.buffer.as_ref()[at]
    }

    fn word(&self, range: std::ops::Range<usize>) -> u32 {
        let b = &self.buffer.as_ref()[range];
        u32::from_be_bytes([b[0], b[1], b[2], b[3]])
    }

    pub fn version(&self) -> u8 {
        self.byte(field::VERS_DIAG) >> 5
    }

    pub fn diag(&self) -> Diag {
        Diag::from_code(self.byte(field::VERS_DIAG))
    }

    pub fn state(&self) -> State {
        State::from_bits(self.byte(field::STATE_FLAGS) >> 6)
    }

    fn flag(&self, bit: u8) -> bool {
        self.byte(field::STATE_FLAGS) & bit != 0
    }

    pub fn poll(&self) -> bool {
        self.flag(flag::POLL)
    }

    pub fn final_(&self) -> bool {
        self.flag(flag::FINAL)
    }

    pub fn control_plane_independent(&self) -> bool {
        self.flag(flag::CONTROL_PLANE_INDEPENDENT)
    }

    pub fn auth_present(&self) -> bool {
        self.flag(flag::AUTH_PRESENT)
    }

    pub fn demand(&self) -> bool {
        self.flag(flag::DEMAND)
    }

    pub fn multipoint(&self) -> bool {
        self.flag(flag::MULTIPOINT)
    }

    pub fn detect_mult(&self) -> u8 {
        self.byte(field::DETECT_MULT)
    }

    pub fn length(&self) -> u8 {
        self.byte(field::LENGTH)
    }

    pub fn my_discriminator(&self) -> u32 {
        self.word(field::MY_DISCR)
    }

    pub fn your_discriminator(&self) -> u32 {
        self.word(field::YOUR_DISCR)
    }

    /// Microseconds.
    pub fn desired_min_tx(&self) -> u32 {
        self.word(field::DESIRED_MIN_TX)
    }

    /// Microseconds.
    pub fn required_min_rx(&self) -> u32 {
        self.word(field::REQUIRED_MIN_RX)
    }

    /// Microseconds.
    pub fn required_min_echo_rx(&self) -> u32 {
        self.word(field::REQUIRED_MIN_ECHO_RX)
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    fn set_word(&mut self, range: std::ops::Range<usize>, value: u32) {
        self.buffer.as_mut()[range].copy_from_slice(&value.to_be_bytes());
    }

    pub fn set_version_and_diag(&mut self, version: u8, diag: Diag) {
        self.buffer.as_mut()[field::VERS_DIAG] = (version << 5) | diag.code();
    }

    /// The state and the flag byte's bits: P, F, C, A, D, M.
    pub fn set_state_and_flags(&mut self, state: State, flags: u8) {
        self.buffer.as_mut()[field::STATE_FLAGS] = ((state as u8) << 6) | (flags & 0x3f);
    }

    pub fn set_detect_mult(&mut self, mult: u8) {
        self.buffer.as_mut()[field::DETECT_MULT] = mult;
    }

    pub fn set_length(&mut self, length: u8) {
        self.buffer.as_mut()[field::LENGTH] = length;
    }

    pub fn set_my_discriminator(&mut self, value: u32) {
        self.set_word(field::MY_DISCR, value);
    }

    pub fn set_your_discriminator(&mut self, value: u32) {
        self.set_word(field::YOUR_DISCR, value);
    }

    pub fn set_desired_min_tx(&mut self, micros: u32) {
        self.set_word(field::DESIRED_MIN_TX, micros);
    }

    pub fn set_required_min_rx(&mut self, micros: u32) {
        self.set_word(field::REQUIRED_MIN_RX, micros);
    }

    pub fn set_required_min_echo_rx(&mut self, micros: u32) {
        self.set_word(field::REQUIRED_MIN_ECHO_RX, micros);
    }
}

/// A decoded Control packet without an authentication section (vipd sends none and discards
/// packets carrying one). Intervals are whole microseconds, as on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ControlRepr {
    pub diag: Diag,
    pub state: State,
    pub poll: bool,
    pub final_: bool,
    pub control_plane_independent: bool,
    pub demand: bool,
    pub detect_mult: u8,
    pub my_discriminator: u32,
    pub your_discriminator: u32,
    pub desired_min_tx: u32,
    pub required_min_rx: u32,
    pub required_min_echo_rx: u32,
}

impl ControlRepr {
    /// Decode one UDP payload, applying the packet-level checks of RFC 5880 section 6.8.6 in
    /// the RFC's order. Bytes after the Length the packet states are ignored (the RFC discards
    /// only a Length longer than the payload).
    pub fn parse<T: AsRef<[u8]>>(packet: &Packet<T>) -> Result<ControlRepr, ParseError> {
        let payload_len = packet.buffer.as_ref().len();
        if payload_len < HEADER_LEN {
            return Err(ParseError::Truncated);
        }
        if packet.version() != VERSION {
            return Err(ParseError::BadVersion);
        }
        let length = usize::from(packet.length());
        // With the A bit the minimum is 26, but such a packet is refused below anyway.
        if length < HEADER_LEN {
            return Err(ParseError::BadLength);
        }
        if length > payload_len {
            return Err(ParseError::Truncated);
        }
        if packet.detect_mult() == 0 {
            return Err(ParseError::ZeroDetectMult);
        }
        if packet.multipoint() {
            return Err(ParseError::Multipoint);
        }
        if packet.my_discriminator() == 0 {
            return Err(ParseError::ZeroMyDiscriminator);
        }
        if packet.auth_present() {
            return Err(ParseError::AuthenticationPresent);
        }
        Ok(ControlRepr {
            diag: packet.diag(),
            state: packet.state(),
            poll: packet.poll(),
            final_: packet.final_(),
            control_plane_independent: packet.control_plane_independent(),
            demand: packet.demand(),
            detect_mult: packet.detect_mult(),
            my_discriminator: packet.my_discriminator(),
            your_discriminator: packet.your_discriminator(),
            desired_min_tx: packet.desired_min_tx(),
            required_min_rx: packet.required_min_rx(),
            required_min_echo_rx: packet.required_min_echo_rx(),
        })
    }

    /// Bytes [`ControlRepr::emit`] writes.
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Write the packet into `packet`, whose buffer is at least [`HEADER_LEN`] bytes.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Packet<T>) {
        let mut flags = 0;
        for (set, bit) in [
            (self.poll, flag::POLL),
            (self.final_, flag::FINAL),
            (
                self.control_plane_independent,
                flag::CONTROL_PLANE_INDEPENDENT,
            ),
            (self.demand, flag::DEMAND),
        ] {
            if set {
                flags |= bit;
            }
        }
        packet.set_version_and_diag(VERSION, self.diag);
        packet.set_state_and_flags(self.state, flags);
        packet.set_detect_mult(self.detect_mult);
        packet.set_length(HEADER_LEN as u8);
        packet.set_my_discriminator(self.my_discriminator);
        packet.set_your_discriminator(self.your_discriminator);
        packet.set_desired_min_tx(self.desired_min_tx);
        packet.set_required_min_rx(self.required_min_rx);
        packet.set_required_min_echo_rx(self.required_min_echo_rx);
    }

    /// The packet as bytes, for a socket.
    pub fn to_bytes(&self) -> [u8; HEADER_LEN] {
        let mut bytes = [0; HEADER_LEN];
        self.emit(&mut Packet::new_unchecked(&mut bytes[..]));
        bytes
    }
}

/// A wire interval (microseconds) as a duration.
pub fn interval(micros: u32) -> Duration {
    Duration::from_micros(u64::from(micros))
}

/// A duration as a wire interval, saturating at the field's maximum (about 71 minutes).
pub fn micros(interval: Duration) -> u32 {
    u32::try_from(interval.as_micros()).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Up, P set, Detect Mult 3, My 0x11223344, Your 0x55667788, TX 300 ms, RX 10 ms,
    /// echo 0: the bytes written out by hand from the section 4.1 diagram.
    static UP_POLL: [u8; 24] = [
        0x20, 0xe0, 3, 24, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x00, 0x04, 0x93, 0xe0,
        0x00, 0x00, 0x27, 0x10, 0, 0, 0, 0,
    ];

    fn up_poll() -> ControlRepr {
        ControlRepr {
            diag: Diag::None,
            state: State::Up,
            poll: true,
            final_: false,
            control_plane_independent: false,
            demand: false,
            detect_mult: 3,
            my_discriminator: 0x1122_3344,
            your_discriminator: 0x5566_7788,
            desired_min_tx: 300_000,
            required_min_rx: 10_000,
            required_min_echo_rx: 0,
        }
    }

    #[test]
    fn deconstruct() {
        let packet = Packet::new_checked(&UP_POLL[..]).unwrap();
        assert_eq!(packet.version(), 1);
        assert_eq!(packet.state(), State::Up);
        assert!(packet.poll() && !packet.final_() && !packet.auth_present());
        assert_eq!(packet.detect_mult(), 3);
        assert_eq!(packet.length(), 24);
        assert_eq!(packet.my_discriminator(), 0x1122_3344);
        assert_eq!(packet.your_discriminator(), 0x5566_7788);
        assert_eq!(packet.desired_min_tx(), 300_000);
        assert_eq!(packet.required_min_rx(), 10_000);
    }

    #[test]
    fn parse_and_emit_match_the_bytes() {
        let packet = Packet::new_checked(&UP_POLL[..]).unwrap();
        assert_eq!(ControlRepr::parse(&packet), Ok(up_poll()));
        assert_eq!(up_poll().to_bytes(), UP_POLL);
    }

    #[test]
    fn diag_code_sits_below_the_version() {
        let mut repr = up_poll();
        repr.diag = Diag::NeighborSignaledSessionDown;
        repr.state = State::Down;
        repr.poll = false;
        repr.final_ = true;
        let bytes = repr.to_bytes();
        assert_eq!(bytes[0], 0x23);
        assert_eq!(bytes[1], 0x50);
    }

    fn parse(bytes: &[u8]) -> Result<ControlRepr, ParseError> {
        ControlRepr::parse(&Packet::new_checked(bytes)?)
    }

    fn mutated(f: impl FnOnce(&mut [u8])) -> Vec<u8> {
        let mut bytes = UP_POLL.to_vec();
        f(&mut bytes);
        bytes
    }

    /// RFC 5880 section 6.8.6, the checks before any session is looked up, each in turn.
    #[test]
    fn receive_checks_discard_in_the_rfc_order() {
        assert_eq!(parse(&UP_POLL[..23]), Err(ParseError::Truncated));
        assert_eq!(
            parse(&mutated(|b| b[0] = 0x40)),
            Err(ParseError::BadVersion)
        );
        assert_eq!(parse(&mutated(|b| b[3] = 23)), Err(ParseError::BadLength));
        assert_eq!(parse(&mutated(|b| b[3] = 28)), Err(ParseError::Truncated));
        assert_eq!(
            parse(&mutated(|b| b[2] = 0)),
            Err(ParseError::ZeroDetectMult)
        );
        assert_eq!(
            parse(&mutated(|b| b[1] |= 0x01)),
            Err(ParseError::Multipoint)
        );
        assert_eq!(
            parse(&mutated(|b| b[4..8].fill(0))),
            Err(ParseError::ZeroMyDiscriminator)
        );
        let mut with_auth = mutated(|b| {
            b[1] |= 0x04;
            b[3] = 26;
        });
        with_auth.extend_from_slice(&[1, 2]);
        assert_eq!(parse(&with_auth), Err(ParseError::AuthenticationPresent));
    }

    #[test]
    fn trailing_bytes_after_the_length_are_ignored() {
        let mut bytes = UP_POLL.to_vec();
        bytes.extend_from_slice(&[0xde, 0xad]);
        assert_eq!(parse(&bytes), Ok(up_poll()));
    }

    fn any_state() -> impl Strategy<Value = State> {
        prop_oneof![
            Just(State::AdminDown),
            Just(State::Down),
            Just(State::Init),
            Just(State::Up)
        ]
    }

    prop_compose! {
        fn any_repr()(
            diag in 0u8..32,
            state in any_state(),
            poll in any::<bool>(),
            final_ in any::<bool>(),
            control_plane_independent in any::<bool>(),
            demand in any::<bool>(),
            detect_mult in 1u8..,
            my_discriminator in 1u32..,
            your_discriminator in any::<u32>(),
            desired_min_tx in any::<u32>(),
            required_min_rx in any::<u32>(),
            required_min_echo_rx in any::<u32>(),
        ) -> ControlRepr {
            ControlRepr {
                diag: Diag::from_code(diag),
                state, poll, final_, control_plane_independent, demand, detect_mult,
                my_discriminator, your_discriminator, desired_min_tx, required_min_rx,
                required_min_echo_rx,
            }
        }
    }

    proptest! {
        #[test]
        fn emit_then_parse_is_the_identity(repr in any_repr()) {
            prop_assert_eq!(parse(&repr.to_bytes()), Ok(repr));
        }

        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = parse(&bytes);
        }
    }
}
