//! From the configuration model to what the protocol core, the dataplane and the runners take
//! (checks and notify commands: [`runners`]). Pure functions, so every mapping decision is
//! tested without a kernel.
mod runners;

pub use runners::{check_spec, group_targets, notify_targets};

use std::{net::IpAddr, time::Duration};

use crate::{
    config::model::{self, Auth, Garp, Instance, V3Checksum},
    dataplane::packet::AnnounceSettings,
    vrrp::wire::{VRRP_GROUP_V4, VRRP_GROUP_V6},
    vrrp::{
        auth_hmac::{AuthHmacConfig, Key},
        wire::{ah::AhKey, V2Auth, V3Ipv4Checksum},
        EchoConfig, Preempt, RouterConfig, Version,
    },
};

/// The protocol core's configuration for `instance`, whose adverts go out from `primary` (the
/// unicast source, the interface's primary IPv4 address, or its IPv6 link-local address).
pub fn router_config(instance: &Instance, primary: IpAddr) -> RouterConfig {
    RouterConfig {
        vrid: instance.vrid.get(),
        version: match instance.version {
            model::Version::V2 => Version::V2,
            model::Version::V3 => Version::V3,
        },
        priority: instance.priority.get(),
        primary_address: primary,
        virtual_addresses: instance.vips.iter().map(|v| v.address.addr()).collect(),
        advert_interval: instance.advert_interval,
        fast_mode: instance.is_fast_mode(),
        preempt: preempt(instance.preempt, instance.preempt_delay),
        accept_mode: instance.accept_mode,
        v2_auth: match &instance.auth {
            Auth::None => V2Auth::None,
            Auth::Pass(password) => V2Auth::SimplePassword(auth_data(password)),
            Auth::Ah(_) => V2Auth::IpsecAh,
        },
        ah_key: match &instance.auth {
            Auth::Ah(password) => Some(AhKey::new(auth_data(password))),
            Auth::None | Auth::Pass(_) => None,
        },
        unicast_peers: instance.unicast_peers.clone(),
        unicast_any_ttl: !instance.unicast_peers.is_empty() && !instance.unicast_ttl_check,
        v3_ipv4_checksum: match instance.v3_checksum {
            V3Checksum::WithPseudoHeader => V3Ipv4Checksum::WithPseudoHeader,
            V3Checksum::MessageOnly => V3Ipv4Checksum::MessageOnly,
        },
        echo: EchoConfig {
            interval: instance.resolved_echo_interval(),
            timeout: instance.resolved_echo_timeout(),
        },
        auth_hmac: instance
            .auth_hmac
            .as_ref()
            .map(|a| auth_hmac(a, instance.advert_interval)),
    }
}

/// A VRRPv2 password as the 8 bytes of auth data or AH key: the loader limits passwords to 8
/// bytes; shorter ones are zero padded.
fn auth_data(password: &str) -> [u8; 8] {
    let mut data = [0u8; 8];
    let bytes = password.as_bytes();
    let len = bytes.len().min(data.len());
    data[..len].copy_from_slice(&bytes[..len]);
    data
}

/// The validator has checked the keys, so none is dropped here; if one were, the router would
/// refuse the configuration for its missing active key.
fn auth_hmac(auth: &model::AuthHmac, advert_interval: Duration) -> AuthHmacConfig {
    AuthHmacConfig {
        keys: auth
            .keys
            .iter()
            .filter_map(|k| Key::new(k.id, k.material.clone()).ok())
            .collect(),
        active_key: auth.active_key,
        mode: auth.mode,
        anti_replay: auth.anti_replay,
        time_window_secs: auth
            .time_window
            .unwrap_or_else(|| AuthHmacConfig::default_window_secs(advert_interval)),
    }
}

fn preempt(enabled: bool, delay: Duration) -> Preempt {
    match (enabled, delay.is_zero()) {
        (false, _) => Preempt::Never,
        (true, true) => Preempt::Immediately,
        (true, false) => Preempt::After(delay),
    }
}

/// Where adverts go: the configured unicast peers, or the VRRP multicast group of the family.
pub fn advert_destinations(instance: &Instance, primary: IpAddr) -> Vec<IpAddr> {
    if !instance.unicast_peers.is_empty() {
        return instance.unicast_peers.clone();
    }
    match primary {
        IpAddr::V4(_) => vec![VRRP_GROUP_V4.into()],
        IpAddr::V6(_) => vec![VRRP_GROUP_V6.into()],
    }
}

/// keepalived's gratuitous ARP / NA settings as the announcement planner takes them.
pub fn announce_settings(garp: &Garp) -> AnnounceSettings {
    let non_zero = |d: Duration| (!d.is_zero()).then_some(d);
    AnnounceSettings {
        master_delay: non_zero(garp.master_delay),
        master_repeat: garp.master_repeat,
        lower_prio_delay: non_zero(garp.master_delay),
        lower_prio_repeat: garp.master_repeat,
        master_refresh: garp.master_refresh.and_then(non_zero),
        master_refresh_repeat: garp.master_refresh_repeat,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::daemon::fixtures::{self, ONE_INSTANCE as BASE};

    fn instance(toml: &str) -> Instance {
        fixtures::config(toml).instances.into_iter().next().unwrap()
    }

    #[test]
    fn defaults_map_to_a_multicast_v3_router_with_keepalived_checksum() {
        let i = instance(BASE);
        let primary: IpAddr = "192.0.2.1".parse().unwrap();
        let c = router_config(&i, primary);
        assert_eq!((c.vrid, c.priority, c.version), (51, 150, Version::V3));
        assert_eq!(c.primary_address, primary);
        assert_eq!(
            c.virtual_addresses,
            vec!["192.0.2.100".parse::<IpAddr>().unwrap()]
        );
        assert_eq!(c.advert_interval, Duration::from_secs(1));
        assert_eq!(c.preempt, Preempt::Immediately);
        assert_eq!(c.v3_ipv4_checksum, V3Ipv4Checksum::WithPseudoHeader);
        assert!(!c.fast_mode);
        assert!(c.validate().is_ok());
        assert_eq!(
            advert_destinations(&i, primary),
            vec![IpAddr::from(VRRP_GROUP_V4)]
        );
    }

    #[test]
    fn preempt_delay_and_nopreempt() {
        assert_eq!(preempt(false, Duration::from_secs(3)), Preempt::Never);
        assert_eq!(preempt(true, Duration::ZERO), Preempt::Immediately);
        assert_eq!(
            preempt(true, Duration::from_secs(3)),
            Preempt::After(Duration::from_secs(3))
        );
    }

    #[test]
    fn fast_interval_turns_fast_mode_on() {
        let i = instance(&BASE.replace(
            "priority = 150",
            "priority = 150\nadvert_interval = \"100us\"",
        ));
        let c = router_config(&i, "192.0.2.1".parse().unwrap());
        assert!(c.fast_mode);
        assert_eq!(c.advert_interval, Duration::from_micros(100));
        assert!(c.validate().is_ok());
    }

    #[test]
    fn the_echo_defaults_to_the_advert_interval_and_follows_the_keys() {
        let fast = BASE.replace(
            "priority = 150",
            "priority = 150\nadvert_interval = \"200us\"",
        );
        let c = router_config(&instance(&fast), "192.0.2.1".parse().unwrap());
        assert_eq!(c.echo, EchoConfig::every(Duration::from_micros(200)));
        assert_eq!(c.echo.timeout, Duration::from_micros(400));
        let set = fast.replace(
            "priority = 150",
            "priority = 150\necho_interval = \"100us\"\necho_timeout = \"3ms\"",
        );
        let c = router_config(&instance(&set), "192.0.2.1".parse().unwrap());
        assert_eq!(
            c.echo,
            EchoConfig {
                interval: Duration::from_micros(100),
                timeout: Duration::from_millis(3),
            }
        );
        let only_interval =
            fast.replace("priority = 150", "priority = 150\necho_interval = \"30us\"");
        let c = router_config(&instance(&only_interval), "192.0.2.1".parse().unwrap());
        assert_eq!(c.echo.timeout, Duration::from_micros(100));
    }

    #[test]
    fn v2_password_is_zero_padded_and_unicast_peers_are_destinations() {
        let i = instance(&BASE.replace(
            "priority = 150",
            "priority = 150\nversion = 2\nauth_password = \"abc\"\nunicast_source = \"192.0.2.1\"\nunicast_peers = [\"192.0.2.2\"]\nunicast_ttl_check = false",
        ));
        let primary: IpAddr = "192.0.2.1".parse().unwrap();
        let c = router_config(&i, primary);
        assert_eq!(c.v2_auth, V2Auth::SimplePassword(*b"abc\0\0\0\0\0"));
        assert!(c.unicast_any_ttl);
        assert_eq!(
            advert_destinations(&i, primary),
            vec!["192.0.2.2".parse::<IpAddr>().unwrap()]
        );
    }

    #[test]
    fn garp_zero_durations_mean_off() {
        let garp = Garp {
            master_delay: Duration::ZERO,
            master_repeat: 3,
            master_refresh: Some(Duration::ZERO),
            master_refresh_repeat: 1,
            arp_interval: Duration::ZERO,
            na_interval: Duration::ZERO,
        };
        let s = announce_settings(&garp);
        assert_eq!(s.master_delay, None);
        assert_eq!(s.master_refresh, None);
        assert_eq!(s.master_repeat, 3);
    }
}
