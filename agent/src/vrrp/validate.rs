//! Receive-side checks (RFC 9568 section 7.1, RFC 3768 section 7.1): a received message either
//! becomes a [`ValidAdvert`] for the state machine or is dropped for one [`DropReason`], which
//! is counted. Validation never changes protocol state and never panics, whatever the bytes.

use crate::family::IpFamily;
use std::collections::BTreeSet;
use std::net::IpAddr;
use std::time::Duration;

use super::auth_ah::AhCheckError;
use super::auth_hmac::AuthError;
use super::config::{RouterConfig, Version};
use super::fast_mode;
use super::router::OWNER_PRIORITY;
use super::wire::ah::AhError;
use super::wire::trailer::{split_trailer, TRAILER_LEN};
use super::wire::{AdvertRepr, ChecksumVariant, Packet, ParseError, ParsedAdvert, V2Auth};

/// What the socket or XDP program reported about a received message's IP header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RxMeta {
    pub src: IpAddr,
    pub dst: IpAddr,
    /// IPv4 TTL or IPv6 hop limit.
    pub ttl: u8,
}

/// Why a received message was dropped. Each reason is distinct so that counters and logs tell
/// an operator what to fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, thiserror::Error)]
pub enum DropReason {
    #[error("our own advert looped back")]
    OwnAdvertLoopedBack,
    #[error("source is not among the configured unicast peers")]
    NotUnicastPeer,
    #[error("TTL / hop limit is not 255: the advert was routed or forged")]
    BadTtl,
    #[error("message truncated")]
    Truncated,
    #[error("message longer than its address count says")]
    LengthMismatch,
    #[error("VRRP version is neither 2 nor 3")]
    BadVersion,
    #[error("VRRP version differs from this instance's")]
    VersionMismatch,
    #[error("packet type is not ADVERTISEMENT")]
    BadType,
    #[error("address family differs from this instance's")]
    FamilyMismatch,
    #[error("checksum does not match")]
    BadChecksum,
    #[error("VRID is not configured here")]
    UnknownVrid,
    #[error("auth_hmac: no authentication trailer (enforce mode)")]
    AuthMissingTrailer,
    #[error("auth_hmac: malformed authentication trailer")]
    AuthMalformed,
    #[error("auth_hmac: trailer time outside the time window (clocks apart, or a stale capture)")]
    AuthOutsideWindow,
    #[error("auth_hmac: key id not configured here")]
    AuthUnknownKeyId,
    #[error("auth_hmac: MAC does not verify (forged, or a different key)")]
    AuthBadMac,
    #[error("auth_hmac: sequence did not grow (a replayed advert)")]
    AuthReplay,
    #[error("auth_type AH: not an AH header of keepalived's form, or not around VRRP")]
    AhMalformed,
    #[error("auth_type AH: ICV does not verify (a different auth_pass, or forged)")]
    AhBadIcv,
    #[error("auth_type AH: SPI is not the sender's address")]
    AhSpiMismatch,
    #[error("auth_type AH: sequence number did not grow (a replayed advert)")]
    AhReplay,
    #[error("VRRPv2 auth type unknown")]
    UnknownAuthType,
    #[error("VRRPv2 auth type differs from ours")]
    AuthTypeMismatch,
    #[error("VRRPv2 password differs from ours")]
    AuthPasswordMismatch,
    #[error("VRRPv2 advertisement interval differs from ours")]
    V2IntervalMismatch,
    #[error("VRRPv3 Max Adver Int is 0")]
    ZeroMaxAdverInt,
    #[error("we own the virtual addresses (priority 255), so others' adverts are ignored")]
    LocalRouterIsOwner,
    #[error("virtual address list differs from ours and the sender is not the owner")]
    AddressListMismatch,
}

impl DropReason {
    /// Every reason, in counter order.
    pub const ALL: [DropReason; 28] = [
        DropReason::OwnAdvertLoopedBack,
        DropReason::NotUnicastPeer,
        DropReason::BadTtl,
        DropReason::Truncated,
        DropReason::LengthMismatch,
        DropReason::BadVersion,
        DropReason::VersionMismatch,
        DropReason::BadType,
        DropReason::FamilyMismatch,
        DropReason::BadChecksum,
        DropReason::UnknownVrid,
        DropReason::AuthMissingTrailer,
        DropReason::AuthMalformed,
        DropReason::AuthOutsideWindow,
        DropReason::AuthUnknownKeyId,
        DropReason::AuthBadMac,
        DropReason::AuthReplay,
        DropReason::AhMalformed,
        DropReason::AhBadIcv,
        DropReason::AhSpiMismatch,
        DropReason::AhReplay,
        DropReason::UnknownAuthType,
        DropReason::AuthTypeMismatch,
        DropReason::AuthPasswordMismatch,
        DropReason::V2IntervalMismatch,
        DropReason::ZeroMaxAdverInt,
        DropReason::LocalRouterIsOwner,
        DropReason::AddressListMismatch,
    ];

    /// A stable snake_case name, for metric labels and the control socket.
    pub fn name(self) -> &'static str {
        match self {
            DropReason::OwnAdvertLoopedBack => "own_advert_looped_back",
            DropReason::NotUnicastPeer => "not_unicast_peer",
            DropReason::BadTtl => "bad_ttl",
            DropReason::Truncated => "truncated",
            DropReason::LengthMismatch => "length_mismatch",
            DropReason::BadVersion => "bad_version",
            DropReason::VersionMismatch => "version_mismatch",
            DropReason::BadType => "bad_type",
            DropReason::FamilyMismatch => "family_mismatch",
            DropReason::BadChecksum => "bad_checksum",
            DropReason::UnknownVrid => "unknown_vrid",
            DropReason::AuthMissingTrailer => "auth_missing_trailer",
            DropReason::AuthMalformed => "auth_malformed",
            DropReason::AuthOutsideWindow => "auth_outside_window",
            DropReason::AuthUnknownKeyId => "auth_unknown_key_id",
            DropReason::AuthBadMac => "auth_bad_mac",
            DropReason::AuthReplay => "auth_replay",
            DropReason::AhMalformed => "ah_malformed",
            DropReason::AhBadIcv => "ah_bad_icv",
            DropReason::AhSpiMismatch => "ah_spi_mismatch",
            DropReason::AhReplay => "ah_replay",
            DropReason::UnknownAuthType => "unknown_auth_type",
            DropReason::AuthTypeMismatch => "auth_type_mismatch",
            DropReason::AuthPasswordMismatch => "auth_password_mismatch",
            DropReason::V2IntervalMismatch => "v2_interval_mismatch",
            DropReason::ZeroMaxAdverInt => "zero_max_adver_int",
            DropReason::LocalRouterIsOwner => "local_router_is_owner",
            DropReason::AddressListMismatch => "address_list_mismatch",
        }
    }

    fn index(self) -> usize {
        // ALL is in declaration order, so the discriminant is the index.
        self as usize
    }
}

impl From<ParseError> for DropReason {
    fn from(e: ParseError) -> Self {
        match e {
            ParseError::Truncated => DropReason::Truncated,
            ParseError::LengthMismatch => DropReason::LengthMismatch,
            ParseError::BadVersion(_) => DropReason::BadVersion,
            ParseError::BadType(_) => DropReason::BadType,
            ParseError::FamilyMismatch => DropReason::FamilyMismatch,
            ParseError::BadChecksum => DropReason::BadChecksum,
            ParseError::UnknownAuthType(_) => DropReason::UnknownAuthType,
        }
    }
}

impl From<AhCheckError> for DropReason {
    fn from(e: AhCheckError) -> Self {
        match e {
            AhCheckError::Wire(AhError::Malformed | AhError::NotVrrp(_)) => DropReason::AhMalformed,
            AhCheckError::Wire(AhError::BadIcv) => DropReason::AhBadIcv,
            AhCheckError::Wire(AhError::SpiMismatch) => DropReason::AhSpiMismatch,
            AhCheckError::Replay => DropReason::AhReplay,
        }
    }
}

impl From<AuthError> for DropReason {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::MissingTrailer => DropReason::AuthMissingTrailer,
            AuthError::Malformed => DropReason::AuthMalformed,
            AuthError::OutsideWindow => DropReason::AuthOutsideWindow,
            AuthError::UnknownKeyId => DropReason::AuthUnknownKeyId,
            AuthError::BadMac => DropReason::AuthBadMac,
            AuthError::Replay => DropReason::AuthReplay,
        }
    }
}

/// Dropped-message counters, one per [`DropReason`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DropCounters([u64; DropReason::ALL.len()]);

impl DropCounters {
    pub fn count(&mut self, reason: DropReason) {
        let c = &mut self.0[reason.index()];
        *c = c.saturating_add(1);
    }

    pub fn get(&self, reason: DropReason) -> u64 {
        self.0[reason.index()]
    }

    pub fn total(&self) -> u64 {
        self.0.iter().fold(0u64, |a, b| a.saturating_add(*b))
    }

    /// Every reason with its count, zeros included.
    pub fn iter(&self) -> impl Iterator<Item = (DropReason, u64)> + '_ {
        DropReason::ALL.iter().map(|r| (*r, self.get(*r)))
    }
}

/// An advert that passed every check; only [`validate`] makes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidAdvert {
    src: IpAddr,
    priority: u8,
    adver_interval: Duration,
    checksum: ChecksumVariant,
    address_list_matches: bool,
}

impl ValidAdvert {
    /// The sender's primary address.
    pub fn src(&self) -> IpAddr {
        self.src
    }

    pub fn priority(&self) -> u8 {
        self.priority
    }

    /// The sender's advertisement interval as this router must take it: fast units only in
    /// fast mode, clamped below by [`fast_mode::learned_interval_floor`]. For VRRPv2, the
    /// configured interval (which the advert had to match).
    pub fn adver_interval(&self) -> Duration {
        self.adver_interval
    }

    pub fn checksum(&self) -> ChecksumVariant {
        self.checksum
    }

    /// False when the address list differs from ours but the sender is the owner
    /// (priority 255), the one case the RFC lets through; the router counts it.
    pub fn address_list_matches(&self) -> bool {
        self.address_list_matches
    }
}

/// Check one received message against `config`, for a router whose effective priority is
/// `local_priority`. Check order follows RFC 9568 section 7.1, with the cheapest checks on
/// the IP header first. With `auth_hmac` configured this does not verify the MAC: the router
/// does, between [`decode`] and [`judge`], since it holds the replay state.
pub fn validate(
    config: &RouterConfig,
    local_priority: u8,
    meta: &RxMeta,
    bytes: &[u8],
) -> Result<ValidAdvert, DropReason> {
    let decoded = decode(config, meta, bytes)?;
    judge(config, local_priority, meta, &decoded.advert)
}

/// A message that passed the checks of its form (IP header, wire format, checksum, VRID).
pub struct Decoded<'a> {
    pub advert: ParsedAdvert,
    /// The VRRP message without the auth_hmac trailer.
    pub message: &'a [u8],
    /// The auth_hmac trailer, when `config` has auth_hmac and the message carries one.
    pub trailer: Option<&'a [u8; TRAILER_LEN]>,
}

/// The first half of [`validate`]: the checks of the message's form, up to its VRID. With
/// `auth_hmac` configured, a trailer is split off by length and (over IPv6) checksummed with
/// the message.
pub fn decode<'a>(
    config: &RouterConfig,
    meta: &RxMeta,
    bytes: &'a [u8],
) -> Result<Decoded<'a>, DropReason> {
    if meta.src == config.primary_address {
        return Err(DropReason::OwnAdvertLoopedBack);
    }
    let unicast = !config.unicast_peers.is_empty();
    if unicast && !config.unicast_peers.contains(&meta.src) {
        return Err(DropReason::NotUnicastPeer);
    }
    if meta.ttl != 255 && !(unicast && config.unicast_any_ttl) {
        return Err(DropReason::BadTtl);
    }
    if IpFamily::of(meta.src) != config.family() {
        return Err(DropReason::FamilyMismatch);
    }
    let (message, trailer) = match config.auth_hmac {
        Some(_) => split_trailer(bytes, config.family()),
        None => (bytes, None),
    };
    let packet = Packet::new_checked(message)?;
    let covered = trailer.map_or(&[][..], |t| &t[..]);
    let advert = AdvertRepr::parse_with_trailer(&packet, covered, meta.src, meta.dst)?;
    if advert.repr.vrid() != config.vrid {
        return Err(DropReason::UnknownVrid);
    }
    Ok(Decoded {
        advert,
        message,
        trailer,
    })
}

/// The second half of [`validate`]: what the advert says against what this router is.
pub fn judge(
    config: &RouterConfig,
    local_priority: u8,
    meta: &RxMeta,
    parsed: &ParsedAdvert,
) -> Result<ValidAdvert, DropReason> {
    let adver_interval = match (&parsed.repr, config.version) {
        (AdvertRepr::V2(a), Version::V2) => {
            match (a.auth, config.v2_auth) {
                (V2Auth::None, V2Auth::None) | (V2Auth::IpsecAh, V2Auth::IpsecAh) => {}
                (V2Auth::SimplePassword(theirs), V2Auth::SimplePassword(ours)) => {
                    if theirs != ours {
                        return Err(DropReason::AuthPasswordMismatch);
                    }
                }
                _ => return Err(DropReason::AuthTypeMismatch),
            }
            if Duration::from_secs(u64::from(a.adver_int_secs)) != config.advert_interval {
                return Err(DropReason::V2IntervalMismatch);
            }
            config.advert_interval
        }
        (AdvertRepr::V3(a), Version::V3) => {
            let raw = fast_mode::decode(a.interval, config.fast_mode);
            if raw.is_zero() {
                return Err(DropReason::ZeroMaxAdverInt);
            }
            raw.max(fast_mode::learned_interval_floor(
                config.fast_mode,
                config.advert_interval,
            ))
        }
        _ => return Err(DropReason::VersionMismatch),
    };
    if local_priority == OWNER_PRIORITY {
        return Err(DropReason::LocalRouterIsOwner);
    }
    let theirs: BTreeSet<IpAddr> = parsed.repr.addresses().into_iter().collect();
    let ours: BTreeSet<IpAddr> = config.virtual_addresses.iter().copied().collect();
    let address_list_matches = theirs == ours;
    if !address_list_matches && parsed.repr.priority() != 255 {
        return Err(DropReason::AddressListMismatch);
    }
    Ok(ValidAdvert {
        src: meta.src,
        priority: parsed.repr.priority(),
        adver_interval,
        checksum: parsed.checksum,
        address_list_matches,
    })
}

#[cfg(test)]
mod tests;
