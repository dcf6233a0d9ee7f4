//! Byte-array tests (deconstruct, construct, parse, emit) and codec property tests.

use crate::family::IpFamily;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use proptest::prelude::*;

use super::*;

const V4_SRC: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 10));
const V4_GROUP: IpAddr = IpAddr::V4(Ipv4Addr::new(224, 0, 0, 18));
const V6_SRC: IpAddr = IpAddr::V6(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1));
const V6_GROUP: IpAddr = IpAddr::V6(Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12));

// Checksums below were computed independently of this code (a few lines of Python over the
// same bytes and pseudo-headers), so a wrong checksum implementation cannot agree with them.

/// VRRPv3 over IPv4, VRID 1, priority 100, 1 s, one address 192.0.2.1, checksum with the
/// IPv4 pseudo-header (src 192.0.2.10, dst 224.0.0.18).
static V3_V4_PSEUDO: [u8; 12] = [0x31, 0x01, 0x64, 0x01, 0x00, 0x64, 0x05, 0xfe, 192, 0, 2, 1];
/// The same message with the RFC 9568 message-only checksum.
static V3_V4_MESSAGE_ONLY: [u8; 12] =
    [0x31, 0x01, 0x64, 0x01, 0x00, 0x64, 0xa8, 0x97, 192, 0, 2, 1];
/// VRRPv3 over IPv6 (fe80::1 -> ff02::12), VRID 7, priority 255, 1 s, one address 2001:db8::1.
static V3_V6: [u8; 24] = [
    0x31, 0x07, 0xff, 0x01, 0x00, 0x64, 0xa3, 0xb9, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0x01,
];
/// VRRPv2, VRID 51, priority 150, auth PASS "secret", 1 s, 10.0.0.100 and 10.0.0.101.
static V2_PASS: [u8; 24] = [
    0x21, 51, 150, 2, 1, 1, 0xf6, 0xb3, 10, 0, 0, 100, 10, 0, 0, 101, b's', b'e', b'c', b'r', b'e',
    b't', 0, 0,
];

fn v3_v4_repr() -> AdvertRepr {
    AdvertRepr::V3(V3Advert {
        vrid: 1,
        priority: 100,
        interval: V3Interval::centiseconds(100).unwrap(),
        addresses: VirtualAddresses::V4(vec![Ipv4Addr::new(192, 0, 2, 1)]),
    })
}

fn v3_v6_repr() -> AdvertRepr {
    AdvertRepr::V3(V3Advert {
        vrid: 7,
        priority: 255,
        interval: V3Interval::centiseconds(100).unwrap(),
        addresses: VirtualAddresses::V6(vec!["2001:db8::1".parse().unwrap()]),
    })
}

fn v2_pass_repr() -> AdvertRepr {
    AdvertRepr::V2(V2Advert {
        vrid: 51,
        priority: 150,
        adver_int_secs: 1,
        auth: V2Auth::SimplePassword(*b"secret\0\0"),
        addresses: vec![Ipv4Addr::new(10, 0, 0, 100), Ipv4Addr::new(10, 0, 0, 101)],
    })
}

#[test]
fn deconstruct_v3() {
    let p = Packet::new_checked(&V3_V4_PSEUDO[..]).unwrap();
    assert_eq!(p.version(), 3);
    assert_eq!(p.packet_type(), 1);
    assert_eq!(p.vrid(), 1);
    assert_eq!(p.priority(), 100);
    assert_eq!(p.address_count(), 1);
    assert_eq!(p.v3_interval_word(), 100);
    assert_eq!(p.checksum(), 0x05fe);
    assert_eq!(p.check_len(IpFamily::V4), Ok(()));
    assert_eq!(p.addresses(IpFamily::V4), &[192, 0, 2, 1]);
    // The same 12 bytes read as IPv6 are too short for one 16-byte address.
    assert_eq!(p.check_len(IpFamily::V6), Err(ParseError::Truncated));
}

#[test]
fn deconstruct_v2() {
    let p = Packet::new_checked(&V2_PASS[..]).unwrap();
    assert_eq!(p.version(), 2);
    assert_eq!(p.v2_auth_type(), 1);
    assert_eq!(p.v2_adver_int(), 1);
    assert_eq!(p.check_len(IpFamily::V4), Ok(()));
    assert_eq!(&p.v2_auth_data(), b"secret\0\0");
}

#[test]
fn construct_v3_field_by_field() {
    let mut p = Packet::new_unchecked(vec![0u8; 12]);
    p.set_version_and_type(3, TYPE_ADVERTISEMENT);
    p.set_vrid(1);
    p.set_priority(100);
    p.set_address_count(1);
    p.set_v3_interval_word(100);
    p.set_checksum(0x05fe);
    p.addresses_mut(IpFamily::V4)
        .copy_from_slice(&[192, 0, 2, 1]);
    assert_eq!(p.into_inner(), V3_V4_PSEUDO);
}

#[test]
fn parse_reports_checksum_variant() {
    let pseudo = AdvertRepr::parse(
        &Packet::new_checked(&V3_V4_PSEUDO[..]).unwrap(),
        V4_SRC,
        V4_GROUP,
    )
    .unwrap();
    assert_eq!(pseudo.repr, v3_v4_repr());
    assert_eq!(pseudo.checksum, ChecksumVariant::Ipv4PseudoHeader);
    let plain = AdvertRepr::parse(
        &Packet::new_checked(&V3_V4_MESSAGE_ONLY[..]).unwrap(),
        V4_SRC,
        V4_GROUP,
    )
    .unwrap();
    assert_eq!(plain.repr, v3_v4_repr());
    assert_eq!(plain.checksum, ChecksumVariant::MessageOnly);

    let v6 =
        AdvertRepr::parse(&Packet::new_checked(&V3_V6[..]).unwrap(), V6_SRC, V6_GROUP).unwrap();
    assert_eq!(v6.repr, v3_v6_repr());
    assert_eq!(v6.checksum, ChecksumVariant::Ipv6PseudoHeader);

    let v2 = AdvertRepr::parse(
        &Packet::new_checked(&V2_PASS[..]).unwrap(),
        V4_SRC,
        V4_GROUP,
    )
    .unwrap();
    assert_eq!(v2.repr, v2_pass_repr());
    assert_eq!(v2.checksum, ChecksumVariant::MessageOnly);
}

#[test]
fn emit_matches_the_vectors() {
    let emit = |r: &AdvertRepr, s, d, c| r.emit_to_vec(s, d, c).unwrap();
    assert_eq!(
        emit(
            &v3_v4_repr(),
            V4_SRC,
            V4_GROUP,
            V3Ipv4Checksum::WithPseudoHeader
        ),
        V3_V4_PSEUDO
    );
    assert_eq!(
        emit(&v3_v4_repr(), V4_SRC, V4_GROUP, V3Ipv4Checksum::MessageOnly),
        V3_V4_MESSAGE_ONLY
    );
    // The IPv4 checksum choice does not apply to IPv6 or v2.
    assert_eq!(
        emit(&v3_v6_repr(), V6_SRC, V6_GROUP, V3Ipv4Checksum::MessageOnly),
        V3_V6
    );
    assert_eq!(
        emit(
            &v2_pass_repr(),
            V4_SRC,
            V4_GROUP,
            V3Ipv4Checksum::WithPseudoHeader
        ),
        V2_PASS
    );
}

#[test]
fn emit_refuses_what_it_cannot_write() {
    assert_eq!(
        v3_v4_repr().emit_to_vec(V6_SRC, V6_GROUP, V3Ipv4Checksum::default()),
        Err(EmitError::FamilyMismatch)
    );
    assert_eq!(
        v3_v4_repr().emit_to_vec(V4_SRC, V6_GROUP, V3Ipv4Checksum::default()),
        Err(EmitError::FamilyMismatch)
    );
    let mut short = Packet::new_unchecked([0u8; 11]);
    assert_eq!(
        v3_v4_repr().emit(&mut short, V4_SRC, V4_GROUP, V3Ipv4Checksum::default()),
        Err(EmitError::BufferLength {
            expected: 12,
            actual: 11
        })
    );
    let mut too_many = v2_pass_repr();
    if let AdvertRepr::V2(a) = &mut too_many {
        a.addresses = vec![Ipv4Addr::LOCALHOST; 256];
    }
    assert_eq!(
        too_many.emit_to_vec(V4_SRC, V4_GROUP, V3Ipv4Checksum::default()),
        Err(EmitError::TooManyAddresses(256))
    );
}

#[test]
fn parse_errors_are_specific() {
    let parse = |bytes: &[u8], src, dst| {
        AdvertRepr::parse(&Packet::new_unchecked(bytes), src, dst).map(|p| p.repr)
    };
    assert_eq!(
        parse(&V3_V4_PSEUDO[..7], V4_SRC, V4_GROUP),
        Err(ParseError::Truncated)
    );
    assert!(Packet::new_checked(&V3_V4_PSEUDO[..7]).is_err());
    assert_eq!(
        parse(&V3_V4_PSEUDO[..10], V4_SRC, V4_GROUP),
        Err(ParseError::Truncated)
    );
    let mut long = V3_V4_PSEUDO.to_vec();
    long.push(0);
    assert_eq!(
        parse(&long, V4_SRC, V4_GROUP),
        Err(ParseError::LengthMismatch)
    );

    let mut bad = V3_V4_PSEUDO;
    bad[0] = 0x41;
    assert_eq!(
        parse(&bad, V4_SRC, V4_GROUP),
        Err(ParseError::BadVersion(4))
    );
    bad[0] = 0x32;
    assert_eq!(parse(&bad, V4_SRC, V4_GROUP), Err(ParseError::BadType(2)));
    bad = V3_V4_PSEUDO;
    bad[2] = 101;
    assert_eq!(parse(&bad, V4_SRC, V4_GROUP), Err(ParseError::BadChecksum));
    // Right bytes, wrong pseudo-header source: neither variant matches.
    assert_eq!(
        parse(
            &V3_V4_PSEUDO,
            IpAddr::V4(Ipv4Addr::new(192, 0, 2, 11)),
            V4_GROUP
        ),
        Err(ParseError::BadChecksum)
    );
    assert_eq!(
        parse(&V3_V4_PSEUDO, V4_SRC, V6_GROUP),
        Err(ParseError::FamilyMismatch)
    );
    assert_eq!(
        parse(&V2_PASS, V6_SRC, V6_GROUP),
        Err(ParseError::FamilyMismatch)
    );
}

/// Rewrite the v2 vector's auth type and fix its checksum.
fn v2_with_auth_type(auth_type: u8) -> Vec<u8> {
    let mut bytes = V2_PASS.to_vec();
    let mut p = Packet::new_unchecked(&mut bytes[..]);
    p.set_v2_auth_type(auth_type);
    p.set_checksum(0);
    let sum = checksum::compute(checksum::PseudoHeader::None, p.as_bytes());
    p.set_checksum(sum);
    bytes
}

#[test]
fn v2_auth_types() {
    let parse = |bytes: &[u8]| {
        AdvertRepr::parse(&Packet::new_unchecked(bytes), V4_SRC, V4_GROUP).map(|p| p.repr)
    };
    match parse(&v2_with_auth_type(2)).unwrap() {
        AdvertRepr::V2(a) => assert_eq!(a.auth, V2Auth::IpsecAh),
        other => panic!("parsed as {other:?}"),
    }
    assert_eq!(
        parse(&v2_with_auth_type(3)),
        Err(ParseError::UnknownAuthType(3))
    );
    match parse(&v2_with_auth_type(0)).unwrap() {
        AdvertRepr::V2(a) => assert_eq!(a.auth, V2Auth::None),
        other => panic!("parsed as {other:?}"),
    }
    // Auth type 0 is emitted with zeroed auth data.
    let mut none = v2_pass_repr();
    if let AdvertRepr::V2(a) = &mut none {
        a.auth = V2Auth::None;
    }
    let bytes = none
        .emit_to_vec(V4_SRC, V4_GROUP, V3Ipv4Checksum::default())
        .unwrap();
    assert_eq!(&bytes[16..], &[0; 8]);
    assert_eq!(parse(&bytes), Ok(none));
}

#[test]
fn interval_word_keeps_reserved_bits() {
    let i = V3Interval::from_word(0x9abc);
    assert_eq!(i.reserved_bits(), 0x9);
    assert_eq!(i.max_adver_int(), 0xabc);
    assert_eq!(i.word(), 0x9abc);
    assert_eq!(V3Interval::centiseconds(4096), None);
    assert_eq!(
        V3Interval::centiseconds(4095).map(V3Interval::word),
        Some(4095)
    );
}

fn any_ipv4() -> impl Strategy<Value = Ipv4Addr> {
    any::<[u8; 4]>().prop_map(Ipv4Addr::from)
}

fn any_ipv6() -> impl Strategy<Value = Ipv6Addr> {
    any::<[u8; 16]>().prop_map(Ipv6Addr::from)
}

/// An advert and a matching (src, dst) pair.
fn any_advert() -> impl Strategy<Value = (AdvertRepr, IpAddr, IpAddr)> {
    let v2 = (
        any::<u8>(),
        any::<u8>(),
        any::<u8>(),
        prop_oneof![
            Just(V2Auth::None),
            any::<[u8; 8]>().prop_map(V2Auth::SimplePassword)
        ],
        prop::collection::vec(any_ipv4(), 0..20),
        any_ipv4(),
        any_ipv4(),
    )
        .prop_map(|(vrid, priority, adver_int_secs, auth, addresses, s, d)| {
            let repr = AdvertRepr::V2(V2Advert {
                vrid,
                priority,
                adver_int_secs,
                auth,
                addresses,
            });
            (repr, IpAddr::V4(s), IpAddr::V4(d))
        });
    let v3v4 = (
        any::<u8>(),
        any::<u8>(),
        any::<u16>(),
        prop::collection::vec(any_ipv4(), 0..20),
        any_ipv4(),
        any_ipv4(),
    )
        .prop_map(|(vrid, priority, word, list, s, d)| {
            let repr = AdvertRepr::V3(V3Advert {
                vrid,
                priority,
                interval: V3Interval::from_word(word),
                addresses: VirtualAddresses::V4(list),
            });
            (repr, IpAddr::V4(s), IpAddr::V4(d))
        });
    let v3v6 = (
        any::<u8>(),
        any::<u8>(),
        any::<u16>(),
        prop::collection::vec(any_ipv6(), 0..10),
        any_ipv6(),
        any_ipv6(),
    )
        .prop_map(|(vrid, priority, word, list, s, d)| {
            let repr = AdvertRepr::V3(V3Advert {
                vrid,
                priority,
                interval: V3Interval::from_word(word),
                addresses: VirtualAddresses::V6(list),
            });
            (repr, IpAddr::V6(s), IpAddr::V6(d))
        });
    prop_oneof![v2, v3v4, v3v6]
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(
        bytes in prop::collection::vec(any::<u8>(), 0..600),
        v6 in any::<bool>(),
    ) {
        let (src, dst) = if v6 { (V6_SRC, V6_GROUP) } else { (V4_SRC, V4_GROUP) };
        if let Ok(p) = Packet::new_checked(&bytes[..]) {
            let _ = AdvertRepr::parse(&p, src, dst);
        }
    }

    #[test]
    fn emit_then_parse_is_identity(
        (repr, src, dst) in any_advert(),
        choice in prop_oneof![
            Just(V3Ipv4Checksum::WithPseudoHeader),
            Just(V3Ipv4Checksum::MessageOnly),
            Just(V3Ipv4Checksum::PseudoHeaderGroupDestination),
        ],
    ) {
        let bytes = repr.emit_to_vec(src, dst, choice).unwrap();
        prop_assert_eq!(bytes.len(), repr.buffer_len());
        let parsed = AdvertRepr::parse(&Packet::new_checked(&bytes[..]).unwrap(), src, dst).unwrap();
        prop_assert_eq!(&parsed.repr, &repr);
        // And re-emitting what was parsed, the way it was checksummed, gives the same bytes.
        let again = parsed.repr.emit_to_vec(src, dst, V3Ipv4Checksum::from(parsed.checksum));
        prop_assert_eq!(again.unwrap(), bytes);
    }
}

#[test]
fn negative_zero_checksum_is_accepted_and_emitted_as_zero() {
    // Found by the fuzzer: this message's computed checksum is 0x0000, and a sender that
    // writes the equivalent ones-complement 0xffff must be accepted too. We emit 0x0000.
    let received = [
        0x31, 0x01, 0x64, 0x01, 0x64, 0xfe, 0xff, 0xff, 0x00, 0x00, 0x05, 0xff,
    ];
    let src = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 0));
    let parsed =
        AdvertRepr::parse(&Packet::new_checked(&received[..]).unwrap(), src, V4_GROUP).unwrap();
    assert_eq!(parsed.checksum, ChecksumVariant::MessageOnly);
    let ours = parsed
        .repr
        .emit_to_vec(src, V4_GROUP, V3Ipv4Checksum::MessageOnly)
        .unwrap();
    assert_eq!(&ours[6..8], &[0, 0]);
    assert_eq!(&ours[..6], &received[..6]);
    assert_eq!(&ours[8..], &received[8..]);
}

#[test]
fn old_keepalived_unicast_checksum_is_accepted_only_for_unicast() {
    let unicast_dst = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 20));
    let old = v3_v4_repr()
        .emit_to_vec(
            V4_SRC,
            unicast_dst,
            V3Ipv4Checksum::PseudoHeaderGroupDestination,
        )
        .unwrap();
    // Over unicast it is the pseudo-header with the group as destination: the multicast
    // vector's bytes exactly.
    assert_eq!(old, V3_V4_PSEUDO);
    let parsed =
        AdvertRepr::parse(&Packet::new_checked(&old[..]).unwrap(), V4_SRC, unicast_dst).unwrap();
    assert_eq!(
        parsed.checksum,
        ChecksumVariant::Ipv4PseudoHeaderGroupDestination
    );
    // Sent to the group it is simply the pseudo-header checksum.
    let parsed =
        AdvertRepr::parse(&Packet::new_checked(&old[..]).unwrap(), V4_SRC, V4_GROUP).unwrap();
    assert_eq!(parsed.checksum, ChecksumVariant::Ipv4PseudoHeader);
}
