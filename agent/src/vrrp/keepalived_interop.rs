//! Interop with keepalived on the wire: real adverts captured from keepalived 2.2.7 (`agent/tests/fixtures/keepalived`,
//! see its README for how each was captured). Every fixture must decode with the checksum
//! variant the capture says verified, re-encode to the very same bytes, and pass a vipd
//! backup's validation configured like the keepalived instance; and a vipd router configured
//! like that instance must send the very same bytes.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::config::{RouterConfig, Version};
use super::validate::{validate, DropReason, RxMeta};
use super::wire::*;
use super::Router;

const EXPECTED: [&str; 9] = [
    "v2-ipv4-auth-ah",
    "v2-ipv4-auth-pass",
    "v2-ipv4-noauth",
    "v3-ipv4-advert-10ms",
    "v3-ipv4-mcast-2vips",
    "v3-ipv4-priority0",
    "v3-ipv4-unicast",
    "v3-ipv4-unicast-old-checksum",
    "v3-ipv6-mcast",
];

struct Fixture {
    name: String,
    /// `# key: value` comment lines.
    notes: BTreeMap<String, String>,
    /// The whole IP packet.
    ip: Vec<u8>,
}

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/keepalived")
}

fn load(name: &str) -> Fixture {
    let path = dir().join(format!("{name}.hex"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let mut notes = BTreeMap::new();
    let mut hex = String::new();
    for line in text.lines() {
        if let Some(comment) = line.strip_prefix('#') {
            if let Some((k, v)) = comment.trim().split_once(": ") {
                notes.entry(k.to_string()).or_insert_with(|| v.to_string());
            }
        } else {
            hex.push_str(line.trim());
        }
    }
    assert!(
        hex.len().is_multiple_of(2),
        "{name}: odd number of hex digits"
    );
    let ip = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex digit"))
        .collect();
    Fixture {
        name: name.to_string(),
        notes,
        ip,
    }
}

/// Split the IP packet into (src, dst, ttl, VRRP message), checking the header; an AH
/// header (`auth_type AH`) is stepped over.
fn split_ip(f: &Fixture) -> (IpAddr, IpAddr, u8, &[u8]) {
    let ip = &f.ip;
    match ip[0] >> 4 {
        4 if ip[9] == ah::IP_PROTOCOL_AH => {
            let packet = ah::AhPacket::split(ip).unwrap_or_else(|e| panic!("{}: {e}", f.name));
            let dst: [u8; 4] = ip[16..20].try_into().unwrap();
            (packet.source.into(), dst.into(), packet.ttl, packet.message)
        }
        4 => {
            let ihl = usize::from(ip[0] & 0x0f) * 4;
            assert_eq!(ip[9], IP_PROTOCOL_VRRP, "{}", f.name);
            assert_eq!(usize::from(u16::from_be_bytes([ip[2], ip[3]])), ip.len());
            let src: [u8; 4] = ip[12..16].try_into().unwrap();
            let dst: [u8; 4] = ip[16..20].try_into().unwrap();
            (src.into(), dst.into(), ip[8], &ip[ihl..])
        }
        6 => {
            assert_eq!(ip[6], IP_PROTOCOL_VRRP, "{}", f.name);
            assert_eq!(
                usize::from(u16::from_be_bytes([ip[4], ip[5]])),
                ip.len() - 40
            );
            let src: [u8; 16] = ip[8..24].try_into().unwrap();
            let dst: [u8; 16] = ip[24..40].try_into().unwrap();
            (src.into(), dst.into(), ip[7], &ip[40..])
        }
        v => panic!("{}: IP version {v}", f.name),
    }
}

fn expected_variant(f: &Fixture) -> ChecksumVariant {
    let rule = &f.notes["checksum verified"];
    if rule.starts_with("message only") {
        ChecksumVariant::MessageOnly
    } else if rule.starts_with("IPv4 pseudo-header with dst 224.0.0.18") {
        ChecksumVariant::Ipv4PseudoHeaderGroupDestination
    } else if rule.starts_with("IPv4 pseudo-header") {
        ChecksumVariant::Ipv4PseudoHeader
    } else if rule.starts_with("IPv6 pseudo-header") {
        ChecksumVariant::Ipv6PseudoHeader
    } else {
        panic!("{}: unknown checksum rule {rule:?}", f.name)
    }
}

#[test]
fn every_expected_fixture_is_there() {
    let mut found: Vec<String> = std::fs::read_dir(dir())
        .expect("fixture directory")
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            name.strip_suffix(".hex").map(str::to_string)
        })
        .collect();
    found.sort();
    assert_eq!(found, EXPECTED);
}

#[test]
fn keepalived_adverts_round_trip_byte_for_byte() {
    for name in EXPECTED {
        let f = load(name);
        let (src, dst, ttl, message) = split_ip(&f);
        // The capture notes and the IP header agree.
        assert_eq!(f.notes["ip src"].parse::<IpAddr>().unwrap(), src, "{name}");
        assert_eq!(f.notes["ip dst"].parse::<IpAddr>().unwrap(), dst, "{name}");
        assert_eq!(ttl, 255, "{name}");

        let parsed = AdvertRepr::parse(&Packet::new_checked(message).unwrap(), src, dst)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(parsed.checksum, expected_variant(&f), "{name}");
        assert_eq!(parsed.repr.vrid().to_string(), f.notes["vrid"], "{name}");
        assert_eq!(
            parsed.repr.priority().to_string(),
            f.notes["priority"],
            "{name}"
        );
        let again = parsed
            .repr
            .emit_to_vec(src, dst, V3Ipv4Checksum::from(parsed.checksum))
            .unwrap();
        assert_eq!(again, message, "{name}: re-encoding differs");
    }
}

/// A vipd configuration like the keepalived instance that sent `repr`.
fn config_like(repr: &AdvertRepr, priority: u8, primary: IpAddr) -> RouterConfig {
    let mut config = RouterConfig::v3(repr.vrid(), priority, primary, repr.addresses());
    match repr {
        AdvertRepr::V2(a) => {
            config.version = Version::V2;
            config.advert_interval = Duration::from_secs(u64::from(a.adver_int_secs));
            config.v2_auth = a.auth;
            if a.auth == V2Auth::IpsecAh {
                config.ah_key = Some(ah::AhKey::new(*b"secret12"));
            }
        }
        AdvertRepr::V3(a) => {
            config.advert_interval =
                Duration::from_millis(10 * u64::from(a.interval.max_adver_int()));
        }
    }
    config
}

#[test]
fn a_vipd_router_configured_alike_sends_the_same_bytes() {
    for name in EXPECTED {
        let f = load(name);
        let (src, dst, _, message) = split_ip(&f);
        let parsed = AdvertRepr::parse(&Packet::new_checked(message).unwrap(), src, dst).unwrap();
        let priority = parsed.repr.priority();
        // keepalived's priority-0 advert comes from an instance of priority 150.
        let mut config = config_like(&parsed.repr, priority.max(150), src);
        config.v3_ipv4_checksum = V3Ipv4Checksum::from(parsed.checksum);
        let router = Router::new(config).unwrap();
        let ours = router
            .advert(priority)
            .emit_to_vec(src, dst, router.config().v3_ipv4_checksum)
            .unwrap();
        assert_eq!(ours, message, "{name}");
    }
}

#[test]
fn a_vipd_backup_configured_alike_accepts_keepalived_adverts() {
    for name in EXPECTED {
        let f = load(name);
        let (src, dst, ttl, message) = split_ip(&f);
        let repr = AdvertRepr::parse(&Packet::new_checked(message).unwrap(), src, dst)
            .unwrap()
            .repr;
        let primary: IpAddr = match src {
            IpAddr::V4(_) => "192.0.2.2".parse().unwrap(),
            IpAddr::V6(_) => "fe80::ff:fe00:b".parse().unwrap(),
        };
        let mut config = config_like(&repr, 100, primary);
        if let AdvertRepr::V3(a) = &repr {
            assert_eq!(a.interval.reserved_bits(), 0, "{name}");
        }
        if !dst.is_multicast() {
            config.unicast_peers = vec![src];
        }
        config.validate().unwrap();
        let valid = validate(&config, 100, &RxMeta { src, dst, ttl }, message)
            .unwrap_or_else(|r| panic!("{name}: dropped: {r}"));
        assert_eq!(valid.checksum(), expected_variant(&f), "{name}");
    }
}

#[test]
fn keepalived_10ms_is_one_centisecond_and_pass_is_cut_to_8_bytes() {
    let f = load("v3-ipv4-advert-10ms");
    let (src, dst, _, message) = split_ip(&f);
    match AdvertRepr::parse(&Packet::new_checked(message).unwrap(), src, dst)
        .unwrap()
        .repr
    {
        AdvertRepr::V3(a) => assert_eq!(a.interval.word(), 1),
        other => panic!("{other:?}"),
    }
    let f = load("v2-ipv4-auth-pass");
    let (src, dst, _, message) = split_ip(&f);
    match AdvertRepr::parse(&Packet::new_checked(message).unwrap(), src, dst)
        .unwrap()
        .repr
    {
        AdvertRepr::V2(a) => assert_eq!(a.auth, V2Auth::SimplePassword(*b"secret12")),
        other => panic!("{other:?}"),
    }
}

/// keepalived's `auth_type AH` advert verifies under its `auth_pass`, and a vipd router
/// configured like that instance sends the very same IPv4 packet as its first advert (IP
/// identification 1, sequence number 1), so keepalived accepts what vipd sends.
#[test]
fn keepalived_ah_advert_verifies_and_vipd_sends_the_same_packet() {
    let f = load("v2-ipv4-auth-ah");
    let packet = ah::AhPacket::split(&f.ip).unwrap();
    let key = ah::AhKey::new(*b"secret12");
    packet.verify(&key, ah::Delivery::Multicast).unwrap();
    assert_eq!(packet.ah.sequence, 1);
    let (src, dst, _, message) = split_ip(&f);
    let repr = AdvertRepr::parse(&Packet::new_checked(message).unwrap(), src, dst)
        .unwrap()
        .repr;
    let mut router = Router::new(config_like(&repr, 150, src)).unwrap();
    let ours = router
        .advert(150)
        .emit_to_vec(src, dst, V3Ipv4Checksum::default())
        .unwrap();
    let mut sealed = vec![Vec::new()];
    assert!(router.seal_ah_advert(&ours, &[dst], &mut sealed));
    assert_eq!(sealed[0], f.ip);

    // A vipd backup accepts it once, and not again (the sequence number must grow).
    let mut backup = Router::new(config_like(&repr, 100, "192.0.2.2".parse().unwrap())).unwrap();
    let meta = RxMeta { src, dst, ttl: 255 };
    let wall = std::time::SystemTime::UNIX_EPOCH;
    assert!(backup.validate(&meta, &f.ip, wall).is_ok());
    assert_eq!(
        backup.validate(&meta, &f.ip, wall),
        Err(DropReason::AhReplay)
    );
    let mut wrong = config_like(&repr, 100, "192.0.2.2".parse().unwrap());
    wrong.ah_key = Some(ah::AhKey::new(*b"secret13"));
    let mut wrong = Router::new(wrong).unwrap();
    assert_eq!(
        wrong.validate(&meta, &f.ip, wall),
        Err(DropReason::AhBadIcv)
    );
    assert_eq!(wrong.drop_counters().get(DropReason::AhBadIcv), 1);
}
