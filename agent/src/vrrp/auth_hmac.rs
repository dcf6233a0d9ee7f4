//! keepalived 2.4's `auth_hmac`, sans-IO: the keys and modes of one instance
//! ([`AuthHmacConfig`]), and its run-time state ([`Authenticator`]): the send sequence, the
//! MAC, and the replay marks of the senders it has heard.
//!
//! The MAC is HMAC-SHA256 (RFC 2104) truncated to 128 bits over
//! `pseudo || message (checksum read as 0) || trailer[0..12] || 16 zero bytes`, where the
//! 20-byte pseudo header is `family (4 or 6) | VRRP version | VRID | 0 | source address`,
//! zero padded. The IP header is not covered: the pseudo header binds the instance and the
//! claimed sender, so an advert cannot be spliced between instances that share a key.
//!
//! Receive checks run in keepalived's order: the trailer's form, the time window (before the
//! MAC, so a flood of stale captures costs no digest), the key id, the MAC (constant time),
//! and last the sender's replay mark, which only a verified advert moves.
//!
//! Time comes in as an argument ([`SystemTime`] values, UTC), like [`super::Instant`] does for
//! the monotonic clock: nothing here reads a clock.

use crate::family::IpFamily;
use std::fmt;
use std::net::IpAddr;
use std::time::{Duration, SystemTime};

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::wire::field;
use super::wire::trailer::{Sequence, TrailerRepr, MAC_LEN, TRAILER_LEN};

/// Shortest key keepalived accepts (a 128-bit margin under quantum search).
pub const KEY_MIN_LEN: usize = 32;
/// Longest key keepalived accepts (one SHA-256 block).
pub const KEY_MAX_LEN: usize = 64;
/// `time_window` bounds, in seconds.
pub const WINDOW_MIN_SECS: u32 = 1;
pub const WINDOW_MAX_SECS: u32 = 300;
/// The derived window never goes below this many seconds.
pub const WINDOW_FLOOR_SECS: u32 = 5;
/// Multicast senders whose replay marks are kept: several legitimate senders of one VRID exist
/// only during an election, so a few slots suffice (keepalived keeps 4).
pub const MULTICAST_SENDERS: usize = 4;
/// Length of the pseudo header bound into the MAC.
const PSEUDO_LEN: usize = 20;

type HmacSha256 = Hmac<Sha256>;

/// One key, addressed by its id for rotation. Its material never appears in `Debug` output.
#[derive(Clone, PartialEq, Eq)]
pub struct Key {
    id: u8,
    material: Vec<u8>,
}

impl Key {
    /// A key with id 1..=255 and 32..=64 bytes of material.
    pub fn new(id: u8, material: Vec<u8>) -> Result<Self, AuthConfigError> {
        if id == 0 {
            return Err(AuthConfigError::ZeroKeyId);
        }
        if !(KEY_MIN_LEN..=KEY_MAX_LEN).contains(&material.len()) {
            return Err(AuthConfigError::KeyLength {
                id,
                len: material.len(),
            });
        }
        Ok(Key { id, material })
    }

    pub fn id(&self) -> u8 {
        self.id
    }

    fn keyed(&self) -> HmacSha256 {
        // Any key length is valid for HMAC; new_from_slice cannot fail.
        HmacSha256::new_from_slice(&self.material).expect("HMAC accepts any key length")
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Key")
            .field("id", &self.id)
            .field(
                "material",
                &format_args!("<{} bytes redacted>", self.material.len()),
            )
            .finish()
    }
}

/// Who signs and who must.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Mode {
    /// Sign, and drop adverts without a valid trailer.
    #[default]
    Enforce,
    /// Sign, but accept adverts without a trailer (a present one must verify): the middle step
    /// of a migration.
    Permissive,
    /// Verify a present trailer, accept adverts without one, and send none: the first step of a
    /// migration, so a group gains verification before anyone signs.
    ReceiveOnly,
}

impl Mode {
    /// keepalived's keyword.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Enforce => "enforce",
            Mode::Permissive => "permissive",
            Mode::ReceiveOnly => "receive-only",
        }
    }
}

/// What makes a captured advert useless to an attacker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum AntiReplay {
    /// The trailer's UTC seconds must lie within the time window of the receiver's clock, and
    /// grow per sender. Needs synchronised clocks (NTP).
    #[default]
    Time,
    /// The sequence must grow per sender; no clock agreement needed, but a receiver that
    /// restarts accepts one replayed capture per sender until a newer advert arrives.
    Monotonic,
}

/// The `auth_hmac` block of one instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthHmacConfig {
    /// Every key a received advert may be signed with.
    pub keys: Vec<Key>,
    /// The id of the key adverts are signed with.
    pub active_key: u8,
    pub mode: Mode,
    pub anti_replay: AntiReplay,
    /// With [`AntiReplay::Time`]: how far, in seconds, a trailer's time may lie from ours.
    pub time_window_secs: u32,
}

impl AuthHmacConfig {
    /// keepalived's window when none is configured: three advert intervals in whole seconds,
    /// at least [`WINDOW_FLOOR_SECS`], at most [`WINDOW_MAX_SECS`].
    pub fn default_window_secs(advert_interval: Duration) -> u32 {
        let three = 3u64.saturating_mul(advert_interval.as_secs());
        u32::try_from(three)
            .unwrap_or(u32::MAX)
            .clamp(WINDOW_FLOOR_SECS, WINDOW_MAX_SECS)
    }

    /// Check what [`Key::new`] cannot: distinct ids, a defined active key, the window range.
    pub fn validate(&self) -> Result<(), AuthConfigError> {
        for (i, key) in self.keys.iter().enumerate() {
            if self.keys[..i].iter().any(|k| k.id == key.id) {
                return Err(AuthConfigError::DuplicateKeyId(key.id));
            }
        }
        if !self.keys.iter().any(|k| k.id == self.active_key) {
            return Err(AuthConfigError::ActiveKeyUndefined(self.active_key));
        }
        if !(WINDOW_MIN_SECS..=WINDOW_MAX_SECS).contains(&self.time_window_secs) {
            return Err(AuthConfigError::WindowRange(self.time_window_secs));
        }
        Ok(())
    }
}

/// Why an `auth_hmac` block cannot run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthConfigError {
    #[error("auth_hmac key id 0 is reserved: ids are 1 to 255")]
    ZeroKeyId,
    #[error("auth_hmac key {id} is {len} bytes: keys are {KEY_MIN_LEN} to {KEY_MAX_LEN} bytes")]
    KeyLength { id: u8, len: usize },
    #[error("auth_hmac key id {0} is defined twice")]
    DuplicateKeyId(u8),
    #[error("auth_hmac active_key {0} is not among the keys defined")]
    ActiveKeyUndefined(u8),
    #[error(
        "auth_hmac time_window {0} s is out of range: {WINDOW_MIN_SECS} to {WINDOW_MAX_SECS} s"
    )]
    WindowRange(u32),
}

/// Why a received advert failed authentication. Each is one drop reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum AuthError {
    #[error("no authentication trailer")]
    MissingTrailer,
    #[error("malformed authentication trailer")]
    Malformed,
    #[error("authentication trailer's time is outside the time window")]
    OutsideWindow,
    #[error("authentication key id is not configured here")]
    UnknownKeyId,
    #[error("authentication MAC does not verify")]
    BadMac,
    #[error("authentication sequence did not grow: a replayed advert")]
    Replay,
}

/// What the MAC binds of a message besides its bytes: who claims to send it, for which
/// instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Binding {
    /// The IP source of the advert.
    pub src: IpAddr,
    /// VRRP version 2 or 3.
    pub version: u8,
    pub vrid: u8,
}

impl Binding {
    fn pseudo_header(self) -> [u8; PSEUDO_LEN] {
        let mut out = [0; PSEUDO_LEN];
        out[0] = match IpFamily::of(self.src) {
            IpFamily::V4 => 4,
            IpFamily::V6 => 6,
        };
        out[1] = self.version;
        out[2] = self.vrid;
        match self.src {
            IpAddr::V4(a) => out[4..8].copy_from_slice(&a.octets()),
            IpAddr::V6(a) => out[4..20].copy_from_slice(&a.octets()),
        }
        out
    }
}

/// The MAC state of one key, keyed once (the inner and outer pads are hashed at load, so each
/// advert costs two SHA-256 compressions of its own bytes and no key schedule).
#[derive(Clone)]
struct KeyedMac {
    id: u8,
    mac: HmacSha256,
}

impl KeyedMac {
    /// The untruncated HMAC state after the whole input but the trailer's zeroed MAC field.
    fn input(&self, binding: Binding, message: &[u8], signed: &[u8]) -> HmacSha256 {
        let mut mac = self.mac.clone();
        mac.update(&binding.pseudo_header());
        mac.update(&message[..field::CHECKSUM.start]);
        mac.update(&[0, 0]);
        mac.update(&message[field::CHECKSUM.end..]);
        mac.update(signed);
        mac.update(&[0; MAC_LEN]);
        mac
    }
}

/// One sender's replay high-water mark.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct ReplayMark(Option<Sequence>);

impl ReplayMark {
    /// Accept `seq` if it grows past the mark, and raise the mark. With a time window, a mark
    /// outside the window of `now_secs` is forgotten first: it only orders adverts the window
    /// already refuses, and forgetting it lets a sender whose clock was stepped back recover.
    fn accept(&mut self, seq: Sequence, window: Option<(u32, u32)>) -> bool {
        if let (Some(mark), Some((now_secs, window))) = (self.0, window) {
            if !within(now_secs, mark.seconds(), window) {
                self.0 = None;
            }
        }
        if self.0.is_some_and(|mark| !seq.is_after(mark)) {
            return false;
        }
        self.0 = Some(seq);
        true
    }
}

/// Whether `secs` lies within `window` seconds of `now_secs` (32-bit wrapping distance).
fn within(now_secs: u32, secs: u32, window: u32) -> bool {
    let delta = now_secs.wrapping_sub(secs) as i32;
    delta.unsigned_abs() <= window
}

/// The replay marks of multicast senders, least recently used evicted. Only verified adverts
/// reach it, so forged sources cannot churn it.
#[derive(Debug, Clone, Default)]
struct SenderTable {
    slots: [Option<(IpAddr, ReplayMark, u32)>; MULTICAST_SENDERS],
    clock: u32,
}

impl SenderTable {
    fn mark(&mut self, src: IpAddr) -> &mut ReplayMark {
        self.clock = self.clock.wrapping_add(1);
        let rank = self.clock;
        let index = self
            .slots
            .iter()
            .position(|s| s.is_some_and(|(a, _, _)| a == src))
            .unwrap_or_else(|| {
                let victim = self
                    .slots
                    .iter()
                    .enumerate()
                    .min_by_key(|(_, s)| s.map(|(_, _, used)| used.wrapping_sub(rank)))
                    .map_or(0, |(i, _)| i);
                self.slots[victim] = Some((src, ReplayMark::default(), rank));
                victim
            });
        let slot = self.slots[index]
            .as_mut()
            .expect("slot just found or filled");
        slot.2 = rank;
        &mut slot.1
    }
}

/// The sequence of a clock reading: UTC seconds in the high 32 bits, the 1/65536-second
/// fraction in the next 16, the counter zero.
pub fn clock_sequence(now: SystemTime) -> Sequence {
    let since = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    let fraction = (u64::from(since.subsec_nanos()) << 16) / 1_000_000_000;
    Sequence((since.as_secs() as u32 as u64) << 32 | fraction << 16)
}

/// The next send sequence after `last` at clock reading `clock`: the clock if it is ahead,
/// else `last + 1` (the increment carries into the time fields). With a time window, a `last`
/// stranded more than the window ahead of the clock (the clock was stepped back) restarts from
/// the clock, since receivers would refuse it anyway.
pub fn next_sequence(
    clock: Sequence,
    last: Sequence,
    anti_replay: AntiReplay,
    window_secs: u32,
) -> Sequence {
    if clock.is_after(last) {
        return clock;
    }
    let ahead = last.seconds().wrapping_sub(clock.seconds()) as i32;
    if anti_replay == AntiReplay::Time && i64::from(ahead) > i64::from(window_secs) {
        clock
    } else {
        Sequence(last.0.wrapping_add(1))
    }
}

/// One instance's `auth_hmac` at run time.
#[derive(Clone)]
pub struct Authenticator {
    config: AuthHmacConfig,
    keys: Vec<KeyedMac>,
    last_sent: Sequence,
    /// Unicast: one mark per configured peer.
    peers: Vec<(IpAddr, ReplayMark)>,
    multicast: SenderTable,
}

impl fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authenticator")
            .field("config", &self.config)
            .field("last_sent", &self.last_sent)
            .finish_non_exhaustive()
    }
}

impl Authenticator {
    /// State for `config` (already validated), with `unicast_peers` (empty for multicast).
    pub fn new(config: AuthHmacConfig, unicast_peers: &[IpAddr]) -> Self {
        let mut auth = Authenticator {
            keys: Vec::new(),
            config: config.clone(),
            last_sent: Sequence(0),
            peers: Vec::new(),
            multicast: SenderTable::default(),
        };
        auth.reconfigure(config, unicast_peers);
        auth
    }

    /// New keys and modes (a reload): the send sequence and the marks of peers still
    /// configured carry over, so no replay window opens.
    pub fn reconfigure(&mut self, config: AuthHmacConfig, unicast_peers: &[IpAddr]) {
        self.keys = config
            .keys
            .iter()
            .map(|k| KeyedMac {
                id: k.id,
                mac: k.keyed(),
            })
            .collect();
        self.peers = unicast_peers
            .iter()
            .map(|p| {
                let mark = self
                    .peers
                    .iter()
                    .find(|(a, _)| a == p)
                    .map_or(ReplayMark::default(), |(_, m)| *m);
                (*p, mark)
            })
            .collect();
        self.config = config;
    }

    pub fn config(&self) -> &AuthHmacConfig {
        &self.config
    }

    /// Whether adverts carry a trailer (every mode but receive-only).
    pub fn signs(&self) -> bool {
        self.config.mode != Mode::ReceiveOnly
    }

    fn window(&self) -> Option<u32> {
        (self.config.anti_replay == AntiReplay::Time).then_some(self.config.time_window_secs)
    }

    /// The trailer for `message` (a VRRP message whose checksum field is ignored), sent at
    /// `now` as `binding`, with a fresh sequence number. `None` in receive-only mode. One
    /// trailer serves every destination of one advert: the MAC does not cover the destination.
    pub fn sign(
        &mut self,
        now: SystemTime,
        binding: Binding,
        message: &[u8],
    ) -> Option<[u8; TRAILER_LEN]> {
        if !self.signs() {
            return None;
        }
        let key = self.keys.iter().find(|k| k.id == self.config.active_key)?;
        let sequence = next_sequence(
            clock_sequence(now),
            self.last_sent,
            self.config.anti_replay,
            self.config.time_window_secs,
        );
        self.last_sent = sequence;
        let signed = TrailerRepr::signed_part(key.id, sequence);
        let digest = key.input(binding, message, &signed).finalize().into_bytes();
        let mut mac = [0; MAC_LEN];
        mac.copy_from_slice(&digest[..MAC_LEN]);
        Some(
            TrailerRepr {
                key_id: key.id,
                sequence,
                mac,
            }
            .emit(),
        )
    }

    /// Check the trailer (or its absence) of `message` received at `now` as `binding`.
    /// Only a verified advert moves its sender's replay mark.
    pub fn verify(
        &mut self,
        now: SystemTime,
        binding: Binding,
        message: &[u8],
        trailer: Option<&[u8; TRAILER_LEN]>,
    ) -> Result<(), AuthError> {
        let Some(bytes) = trailer else {
            return match self.config.mode {
                Mode::Enforce => Err(AuthError::MissingTrailer),
                Mode::Permissive | Mode::ReceiveOnly => Ok(()),
            };
        };
        let trailer = TrailerRepr::parse(bytes).map_err(|_| AuthError::Malformed)?;
        let now_secs = clock_sequence(now).seconds();
        let window = self.window();
        if let Some(window) = window {
            if !within(now_secs, trailer.sequence.seconds(), window) {
                return Err(AuthError::OutsideWindow);
            }
        }
        let key = self
            .keys
            .iter()
            .find(|k| k.id == trailer.key_id)
            .ok_or(AuthError::UnknownKeyId)?;
        let signed = &bytes[super::wire::trailer::field::SIGNED];
        key.input(binding, message, signed)
            .verify_truncated_left(&trailer.mac)
            .map_err(|_| AuthError::BadMac)?;
        // Unicast senders are configured peers (the router refuses others before this), each
        // with its own mark; multicast senders share the table.
        let mark = match self.peers.iter_mut().find(|(a, _)| *a == binding.src) {
            Some((_, mark)) => mark,
            None => self.multicast.mark(binding.src),
        };
        if mark.accept(trailer.sequence, window.map(|w| (now_secs, w))) {
            Ok(())
        } else {
            Err(AuthError::Replay)
        }
    }
}

#[cfg(test)]
mod tests;
