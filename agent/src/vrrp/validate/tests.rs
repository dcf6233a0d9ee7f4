//! One test per drop reason, each built from a real encoded advert with one thing wrong.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use super::*;
use crate::vrrp::test_support::{addr, v3_config, wire, VIP};
use crate::vrrp::wire::checksum::{self, PseudoHeader};
use crate::vrrp::wire::{V2Advert, V3Advert, V3Interval, VirtualAddresses};

fn local() -> RouterConfig {
    v3_config(1, 100, Duration::from_secs(1))
}

fn v3_repr(priority: u8, word: u16, vips: Vec<Ipv4Addr>) -> AdvertRepr {
    AdvertRepr::V3(V3Advert {
        vrid: 1,
        priority,
        interval: V3Interval::from_word(word),
        addresses: VirtualAddresses::V4(vips),
    })
}

fn vip4() -> Ipv4Addr {
    match VIP {
        IpAddr::V4(a) => a,
        IpAddr::V6(_) => unreachable!(),
    }
}

fn check(config: &RouterConfig, repr: &AdvertRepr) -> Result<ValidAdvert, DropReason> {
    let (meta, bytes) = wire(config, repr, addr(2));
    validate(config, config.priority, &meta, &bytes)
}

#[test]
fn a_good_advert_passes() {
    let v = check(&local(), &v3_repr(200, 100, vec![vip4()])).unwrap();
    assert_eq!(v.src(), addr(2));
    assert_eq!(v.priority(), 200);
    assert_eq!(v.adver_interval(), Duration::from_secs(1));
    assert_eq!(v.checksum(), ChecksumVariant::Ipv4PseudoHeader);
    assert!(v.address_list_matches());
}

#[test]
fn ip_header_checks() {
    let c = local();
    let (meta, bytes) = wire(&c, &v3_repr(200, 100, vec![vip4()]), addr(2));
    let own = RxMeta {
        src: c.primary_address,
        ..meta
    };
    assert_eq!(
        validate(&c, 100, &own, &bytes),
        Err(DropReason::OwnAdvertLoopedBack)
    );
    let routed = RxMeta { ttl: 254, ..meta };
    assert_eq!(validate(&c, 100, &routed, &bytes), Err(DropReason::BadTtl));
    let v6 = RxMeta {
        src: "fe80::2".parse().unwrap(),
        dst: "ff02::12".parse().unwrap(),
        ttl: 255,
    };
    assert_eq!(
        validate(&c, 100, &v6, &bytes),
        Err(DropReason::FamilyMismatch)
    );
}

#[test]
fn unicast_peers_and_the_ttl_exception() {
    let mut c = local();
    c.unicast_peers = vec![addr(3)];
    let (meta, bytes) = wire(&c, &v3_repr(200, 100, vec![vip4()]), addr(2));
    assert_eq!(
        validate(&c, 100, &meta, &bytes),
        Err(DropReason::NotUnicastPeer)
    );
    let (meta, bytes) = wire(&c, &v3_repr(200, 100, vec![vip4()]), addr(3));
    let routed = RxMeta { ttl: 61, ..meta };
    assert_eq!(validate(&c, 100, &routed, &bytes), Err(DropReason::BadTtl));
    c.unicast_any_ttl = true;
    assert!(validate(&c, 100, &routed, &bytes).is_ok());
    // The exception is for unicast only.
    c.unicast_peers.clear();
    assert_eq!(validate(&c, 100, &routed, &bytes), Err(DropReason::BadTtl));
}

#[test]
fn codec_failures_map_to_their_reasons() {
    let c = local();
    let (meta, mut bytes) = wire(&c, &v3_repr(200, 100, vec![vip4()]), addr(2));
    assert_eq!(
        validate(&c, 100, &meta, &bytes[..4]),
        Err(DropReason::Truncated)
    );
    assert_eq!(
        validate(&c, 100, &meta, &bytes[..9]),
        Err(DropReason::Truncated)
    );
    let mut long = bytes.clone();
    long.extend([0, 0, 0, 0]);
    assert_eq!(
        validate(&c, 100, &meta, &long),
        Err(DropReason::LengthMismatch)
    );
    bytes[2] ^= 1;
    assert_eq!(
        validate(&c, 100, &meta, &bytes),
        Err(DropReason::BadChecksum)
    );
    bytes[2] ^= 1;
    bytes[0] = 0x11;
    assert_eq!(
        validate(&c, 100, &meta, &bytes),
        Err(DropReason::BadVersion)
    );
    bytes[0] = 0x37;
    assert_eq!(validate(&c, 100, &meta, &bytes), Err(DropReason::BadType));
}

#[test]
fn vrid_and_version() {
    let c = local();
    let mut other = v3_repr(200, 100, vec![vip4()]);
    if let AdvertRepr::V3(a) = &mut other {
        a.vrid = 2;
    }
    assert_eq!(check(&c, &other).unwrap_err(), DropReason::UnknownVrid);
    let v2 = AdvertRepr::V2(V2Advert {
        vrid: 1,
        priority: 200,
        adver_int_secs: 1,
        auth: V2Auth::None,
        addresses: vec![vip4()],
    });
    assert_eq!(check(&c, &v2).unwrap_err(), DropReason::VersionMismatch);
}

#[test]
fn zero_interval_is_refused() {
    assert_eq!(
        check(&local(), &v3_repr(200, 0, vec![vip4()])).unwrap_err(),
        DropReason::ZeroMaxAdverInt
    );
    // Zero in fast units too, whoever reads it.
    let mut fast = local();
    fast.fast_mode = true;
    fast.advert_interval = Duration::from_micros(100);
    assert_eq!(
        check(&fast, &v3_repr(200, 0x8000, vec![vip4()])).unwrap_err(),
        DropReason::ZeroMaxAdverInt
    );
}

#[test]
fn learned_interval_is_floored() {
    // Standard mode: 1 cs is the wire minimum and passes as is.
    let v = check(&local(), &v3_repr(200, 1, vec![vip4()])).unwrap();
    assert_eq!(v.adver_interval(), Duration::from_millis(10));
    // A fast advert read by a standard router: centiseconds.
    let v = check(&local(), &v3_repr(200, 0x8005, vec![vip4()])).unwrap();
    assert_eq!(v.adver_interval(), Duration::from_millis(50));
    // A fast router with 100 us reads 50 us as 100 us.
    let mut fast = local();
    fast.fast_mode = true;
    fast.advert_interval = Duration::from_micros(100);
    let v = check(&fast, &v3_repr(200, 0x8005, vec![vip4()])).unwrap();
    assert_eq!(v.adver_interval(), Duration::from_micros(100));
}

#[test]
fn owner_ignores_adverts() {
    let c = local();
    let (meta, bytes) = wire(&c, &v3_repr(200, 100, vec![vip4()]), addr(2));
    assert_eq!(
        validate(&c, 255, &meta, &bytes),
        Err(DropReason::LocalRouterIsOwner)
    );
}

#[test]
fn address_list_mismatch_drops_unless_from_the_owner() {
    let c = local();
    let other = Ipv4Addr::new(192, 0, 2, 200);
    assert_eq!(
        check(&c, &v3_repr(200, 100, vec![other])).unwrap_err(),
        DropReason::AddressListMismatch
    );
    assert_eq!(
        check(&c, &v3_repr(200, 100, vec![vip4(), other])).unwrap_err(),
        DropReason::AddressListMismatch
    );
    let owner = check(&c, &v3_repr(255, 100, vec![other])).unwrap();
    assert!(!owner.address_list_matches());
    // Order does not matter.
    let mut two = local();
    two.virtual_addresses.push(IpAddr::V4(other));
    assert!(check(&two, &v3_repr(200, 100, vec![other, vip4()])).is_ok());
}

fn v2_local(auth: V2Auth) -> RouterConfig {
    let mut c = local();
    c.version = Version::V2;
    c.v2_auth = auth;
    c
}

fn v2_repr(auth: V2Auth, secs: u8) -> AdvertRepr {
    AdvertRepr::V2(V2Advert {
        vrid: 1,
        priority: 200,
        adver_int_secs: secs,
        auth,
        addresses: vec![vip4()],
    })
}

#[test]
fn v2_auth_and_interval() {
    let pass = V2Auth::SimplePassword(*b"secret\0\0");
    let c = v2_local(pass);
    let v = check(&c, &v2_repr(pass, 1)).unwrap();
    assert_eq!(v.checksum(), ChecksumVariant::MessageOnly);
    assert_eq!(
        check(&c, &v2_repr(V2Auth::SimplePassword(*b"guess\0\0\0"), 1)).unwrap_err(),
        DropReason::AuthPasswordMismatch
    );
    assert_eq!(
        check(&c, &v2_repr(V2Auth::None, 1)).unwrap_err(),
        DropReason::AuthTypeMismatch
    );
    assert_eq!(
        check(&v2_local(V2Auth::None), &v2_repr(pass, 1)).unwrap_err(),
        DropReason::AuthTypeMismatch
    );
    assert_eq!(
        check(&c, &v2_repr(pass, 2)).unwrap_err(),
        DropReason::V2IntervalMismatch
    );
    let v3 = v3_repr(200, 100, vec![vip4()]);
    assert_eq!(check(&c, &v3).unwrap_err(), DropReason::VersionMismatch);
}

#[test]
fn v2_ah_message_is_an_auth_type_mismatch_without_ah_configured() {
    let c = v2_local(V2Auth::None);
    let (meta, mut bytes) = wire(&c, &v2_repr(V2Auth::None, 1), addr(2));
    bytes[4] = 2;
    // Fix the checksum so the auth type is what fails.
    bytes[6] = 0;
    bytes[7] = 0;
    let sum = checksum::compute(PseudoHeader::None, &bytes);
    bytes[6..8].copy_from_slice(&sum.to_be_bytes());
    assert_eq!(
        validate(&c, 100, &meta, &bytes),
        Err(DropReason::AuthTypeMismatch)
    );
    bytes[4] = 9;
    bytes[6] = 0;
    bytes[7] = 0;
    let sum = checksum::compute(PseudoHeader::None, &bytes);
    bytes[6..8].copy_from_slice(&sum.to_be_bytes());
    assert_eq!(
        validate(&c, 100, &meta, &bytes),
        Err(DropReason::UnknownAuthType)
    );
}

#[test]
fn counters_index_every_reason() {
    let mut counters = DropCounters::default();
    for (i, r) in DropReason::ALL.iter().enumerate() {
        for _ in 0..=i {
            counters.count(*r);
        }
    }
    for (i, (r, n)) in counters.iter().enumerate() {
        assert_eq!(r, DropReason::ALL[i]);
        assert_eq!(n, i as u64 + 1);
    }
    let names: std::collections::BTreeSet<_> = DropReason::ALL.iter().map(|r| r.name()).collect();
    assert_eq!(names.len(), DropReason::ALL.len());
}
