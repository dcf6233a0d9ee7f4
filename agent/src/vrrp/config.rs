//! What one VRRP instance (interface, VRID, family) needs to know, and the checks that make a
//! [`RouterConfig`] safe to run. The daemon's configuration layer (TOML, keepalived.conf)
//! builds these; the router refuses anything the protocol cannot do.

use crate::family::IpFamily;
use std::net::IpAddr;
use std::time::Duration;

use super::auth_hmac::{AuthConfigError, AuthHmacConfig};
use super::fast_mode;
use super::liveness::EchoConfig;
use super::wire::{ah::AhKey, V2Auth, V3Ipv4Checksum};

/// The VRRP version an instance speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Version {
    /// RFC 3768: IPv4 only, interval in whole seconds, optional simple password.
    V2,
    /// RFC 9568: IPv4 or IPv6, interval in centiseconds (or vipd fast mode).
    V3,
}

/// Whether a backup with a higher priority takes over from a working master.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Preempt {
    /// Take over as soon as the master's adverts show a lower priority (RFC Preempt_Mode True).
    #[default]
    Immediately,
    /// Never take over from a working master (keepalived `nopreempt`).
    Never,
    /// Take over only once a lower-priority master has been seen for this long
    /// (keepalived `preempt_delay`): until then lower-priority adverts are accepted as if
    /// preemption were off.
    After(Duration),
}

/// The configuration of one VRRP instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouterConfig {
    /// Virtual Router ID, 1..=255.
    pub vrid: u8,
    pub version: Version,
    /// Configured priority, 1..=255; 255 means this router owns the virtual addresses.
    pub priority: u8,
    /// The address adverts are sent from: the tie-breaker between equal priorities and how
    /// our own looped-back adverts are recognised. Its family is the instance's family.
    pub primary_address: IpAddr,
    /// The virtual addresses, all of the instance's family.
    pub virtual_addresses: Vec<IpAddr>,
    /// Advertisement_Interval. VRRPv2: whole seconds 1..=255. VRRPv3: whole centiseconds
    /// 10 ms..=40.95 s, or in fast mode whole 10 us units 50 us..=40.95 ms.
    pub advert_interval: Duration,
    /// vipd fast mode (VRRPv3 only), see [`crate::vrrp::fast_mode`].
    pub fast_mode: bool,
    pub preempt: Preempt,
    /// RFC 9568 Accept_Mode: whether a master (not owner) accepts packets addressed to the
    /// virtual addresses. The protocol does not depend on it; the daemon applies it.
    pub accept_mode: bool,
    /// VRRPv2 authentication (must be `V2Auth::None` for VRRPv3).
    pub v2_auth: V2Auth,
    /// Unicast peers; empty means multicast. With peers, adverts from any other source are
    /// dropped.
    pub unicast_peers: Vec<IpAddr>,
    /// With unicast peers, accept adverts whatever their TTL / hop limit (the peers may be
    /// routed hops away); keepalived behaves this way for unicast. Multicast always requires 255.
    pub unicast_any_ttl: bool,
    /// How VRRPv3 over IPv4 checksums are emitted (both are accepted).
    pub v3_ipv4_checksum: V3Ipv4Checksum,
    /// The liveness echo's timing, used while the dataplane carries the echo
    /// ([`crate::vrrp::Router::set_echo`]); see [`crate::vrrp::liveness`].
    pub echo: EchoConfig,
    /// keepalived 2.4's `auth_hmac`: signed adverts, verified before they reach the router.
    pub auth_hmac: Option<AuthHmacConfig>,
    /// keepalived's `auth_type AH`: the key of the IPsec-AH ICV. Set exactly when `v2_auth` is
    /// [`V2Auth::IpsecAh`].
    pub ah_key: Option<AhKey>,
}

impl RouterConfig {
    /// A VRRPv3 multicast instance with RFC defaults: 1 s interval, preempt, no accept mode.
    pub fn v3(
        vrid: u8,
        priority: u8,
        primary_address: IpAddr,
        virtual_addresses: Vec<IpAddr>,
    ) -> Self {
        RouterConfig {
            vrid,
            version: Version::V3,
            priority,
            primary_address,
            virtual_addresses,
            advert_interval: Duration::from_secs(1),
            fast_mode: false,
            preempt: Preempt::Immediately,
            accept_mode: false,
            v2_auth: V2Auth::None,
            unicast_peers: Vec::new(),
            unicast_any_ttl: false,
            v3_ipv4_checksum: V3Ipv4Checksum::default(),
            echo: EchoConfig::every(Duration::from_secs(1)),
            auth_hmac: None,
            ah_key: None,
        }
    }

    /// The instance's address family.
    pub fn family(&self) -> IpFamily {
        IpFamily::of(self.primary_address)
    }

    /// Check everything the router relies on.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let vrid = self.vrid;
        if vrid == 0 {
            return Err(ConfigError::ZeroVrid);
        }
        if self.priority == 0 {
            return Err(ConfigError::ZeroPriority { vrid });
        }
        let family = self.family();
        if self.version == Version::V2 && family != IpFamily::V4 {
            return Err(ConfigError::V2NeedsIpv4 { vrid });
        }
        if let Some(a) = self
            .virtual_addresses
            .iter()
            .chain(&self.unicast_peers)
            .find(|a| IpFamily::of(**a) != family)
        {
            return Err(ConfigError::MixedFamilies { vrid, address: *a });
        }
        if self.virtual_addresses.len() > 255 {
            return Err(ConfigError::TooManyVirtualAddresses {
                vrid,
                count: self.virtual_addresses.len(),
            });
        }
        if self.version == Version::V3 && self.v2_auth != V2Auth::None {
            return Err(ConfigError::AuthNeedsV2 { vrid });
        }
        let interval = self.advert_interval;
        let (ok, expected) = match (self.version, self.fast_mode) {
            (Version::V2, true) => return Err(ConfigError::FastModeNeedsV3 { vrid }),
            (Version::V2, false) => (
                interval.subsec_nanos() == 0 && (1..=255).contains(&interval.as_secs()),
                "whole seconds from 1 s to 255 s (VRRPv2)",
            ),
            (Version::V3, false) => (
                interval >= fast_mode::STANDARD_MIN && fast_mode::encode(interval, false).is_some(),
                "whole centiseconds from 10 ms to 40.95 s (VRRPv3); for less, enable fast mode",
            ),
            (Version::V3, true) => (
                interval >= fast_mode::FAST_MIN && fast_mode::encode(interval, true).is_some(),
                "multiples of 10 us from 50 us to 40.95 ms (fast mode)",
            ),
        };
        if !ok {
            return Err(ConfigError::BadInterval {
                vrid,
                interval,
                expected,
            });
        }
        // The router's clock counts microseconds: less would make a probe, or a probe's
        // verdict, due forever.
        if self.echo.interval < Duration::from_micros(1)
            || self.echo.timeout < Duration::from_micros(1)
        {
            return Err(ConfigError::EchoTooShort { vrid });
        }
        if (self.v2_auth == V2Auth::IpsecAh) != self.ah_key.is_some() {
            return Err(ConfigError::AhKeyWithoutAh { vrid });
        }
        if let Some(auth) = &self.auth_hmac {
            if self.v2_auth != V2Auth::None {
                return Err(ConfigError::AuthHmacWithV2Auth { vrid });
            }
            auth.validate()
                .map_err(|error| ConfigError::AuthHmac { vrid, error })?;
        }
        Ok(())
    }
}

/// A configuration the router cannot run, with what to change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("VRID 0 is invalid: use 1 to 255")]
    ZeroVrid,
    #[error("VRID {vrid}: priority 0 is reserved for a master's resignation: use 1 to 255")]
    ZeroPriority { vrid: u8 },
    #[error("VRID {vrid}: VRRPv2 runs over IPv4 only: use VRRPv3 for IPv6")]
    V2NeedsIpv4 { vrid: u8 },
    #[error("VRID {vrid}: address {address} is not of the primary address's family; an instance is IPv4 or IPv6, not both")]
    MixedFamilies { vrid: u8, address: IpAddr },
    #[error("VRID {vrid}: {count} virtual addresses do not fit one advert (at most 255)")]
    TooManyVirtualAddresses { vrid: u8, count: usize },
    #[error("VRID {vrid}: authentication exists only in VRRPv2: remove it or use version 2")]
    AuthNeedsV2 { vrid: u8 },
    #[error("VRID {vrid}: fast mode needs VRRPv3")]
    FastModeNeedsV3 { vrid: u8 },
    #[error("VRID {vrid}: the liveness echo's interval and timeout must be at least 1us")]
    EchoTooShort { vrid: u8 },
    #[error("VRID {vrid}: an AH key goes with auth type AH, and auth type AH needs a key")]
    AhKeyWithoutAh { vrid: u8 },
    #[error("VRID {vrid}: auth_hmac replaces VRRPv2 authentication: remove authentication")]
    AuthHmacWithV2Auth { vrid: u8 },
    #[error("VRID {vrid}: {error}")]
    AuthHmac { vrid: u8, error: AuthConfigError },
    #[error("VRID {vrid}: advertisement interval {interval:?} is not allowed: use {expected}")]
    BadInterval {
        vrid: u8,
        interval: Duration,
        expected: &'static str,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn base() -> RouterConfig {
        RouterConfig::v3(
            1,
            100,
            IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
            vec![IpAddr::V4(Ipv4Addr::new(192, 0, 2, 100))],
        )
    }

    #[test]
    fn defaults_are_valid() {
        assert_eq!(base().validate(), Ok(()));
    }

    #[test]
    fn refuses_what_the_protocol_cannot_do() {
        let check = |f: fn(&mut RouterConfig)| {
            let mut c = base();
            f(&mut c);
            c.validate().unwrap_err()
        };
        assert_eq!(check(|c| c.vrid = 0), ConfigError::ZeroVrid);
        assert_eq!(
            check(|c| c.priority = 0),
            ConfigError::ZeroPriority { vrid: 1 }
        );
        assert!(matches!(
            check(|c| c.virtual_addresses.push("2001:db8::1".parse().unwrap())),
            ConfigError::MixedFamilies { .. }
        ));
        assert!(matches!(
            check(|c| c.unicast_peers.push("2001:db8::2".parse().unwrap())),
            ConfigError::MixedFamilies { .. }
        ));
        assert_eq!(
            check(|c| c.v2_auth = V2Auth::SimplePassword(*b"12345678")),
            ConfigError::AuthNeedsV2 { vrid: 1 }
        );
        assert!(matches!(
            check(|c| c.advert_interval = Duration::from_millis(5)),
            ConfigError::BadInterval { .. }
        ));
        assert!(matches!(
            check(|c| c.advert_interval = Duration::from_millis(15)),
            ConfigError::BadInterval { .. }
        ));
        assert!(matches!(
            check(|c| {
                c.fast_mode = true;
                c.advert_interval = Duration::from_micros(40);
            }),
            ConfigError::BadInterval { .. }
        ));
        assert!(matches!(
            check(|c| {
                c.fast_mode = true;
                c.advert_interval = Duration::from_millis(50);
            }),
            ConfigError::BadInterval { .. }
        ));
        assert_eq!(
            check(|c| c.echo.timeout = Duration::ZERO),
            ConfigError::EchoTooShort { vrid: 1 }
        );
        assert_eq!(
            check(|c| c.echo.interval = Duration::from_nanos(999)),
            ConfigError::EchoTooShort { vrid: 1 }
        );
        assert_eq!(
            check(|c| {
                c.version = Version::V2;
                c.fast_mode = true;
            }),
            ConfigError::FastModeNeedsV3 { vrid: 1 }
        );
        assert!(matches!(
            check(|c| {
                c.version = Version::V2;
                c.advert_interval = Duration::from_millis(1500);
            }),
            ConfigError::BadInterval { .. }
        ));
        assert_eq!(
            check(|c| {
                c.version = Version::V2;
                c.primary_address = "fe80::1".parse().unwrap();
                c.virtual_addresses = vec!["2001:db8::1".parse().unwrap()];
            }),
            ConfigError::V2NeedsIpv4 { vrid: 1 }
        );
    }

    #[test]
    fn accepts_the_edges() {
        let mut c = base();
        c.fast_mode = true;
        c.advert_interval = fast_mode::FAST_MIN;
        assert_eq!(c.validate(), Ok(()));
        c.advert_interval = fast_mode::FAST_MAX;
        assert_eq!(c.validate(), Ok(()));
        c.fast_mode = false;
        c.advert_interval = fast_mode::STANDARD_MAX;
        assert_eq!(c.validate(), Ok(()));
        c.version = Version::V2;
        c.advert_interval = Duration::from_secs(255);
        c.v2_auth = V2Auth::SimplePassword(*b"secret\0\0");
        assert_eq!(c.validate(), Ok(()));
    }
}
