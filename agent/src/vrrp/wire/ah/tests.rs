//! The AH codec against keepalived 2.2.7's own advert (`agent/tests/fixtures/keepalived/
//! v2-ipv4-auth-ah.hex`, copied here byte for byte so the codec's tests need no file).
use super::*;

/// keepalived 2.2.7, VRID 59, priority 150, `auth_pass secret12`, from 192.0.2.1 to the group,
/// the first advert of its process (IP id 1, sequence 1).
const KEEPALIVED: [u8; 64] = [
    0x45, 0xc0, 0x00, 0x40, 0x00, 0x01, 0x00, 0x00, 0xff, 0x33, 0x18, 0xb6, 192, 0, 2, 1, 224, 0,
    0, 18, // IPv4 header, protocol 51
    0x70, 0x04, 0x00, 0x00, 192, 0, 2, 1, 0x00, 0x00, 0x00, 0x01, // AH: next 112, SPI, seq 1
    0xa2, 0xab, 0x27, 0xe7, 0xe4, 0x7a, 0x16, 0xc1, 0x9f, 0x1e, 0x0c, 0x00, // ICV
    0x21, 0x3b, 0x96, 0x01, 0x02, 0x01, 0x84, 0x5d, 192, 0, 2, 100, 0, 0, 0, 0, 0, 0, 0,
    0, // VRRPv2, auth type 2, zero auth data
];

const SRC: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
const GROUP: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 18);

fn key() -> AhKey {
    AhKey::new(*b"secret12")
}

#[test]
fn keepalived_advert_splits_and_verifies() {
    let packet = AhPacket::split(&KEEPALIVED).unwrap();
    assert_eq!(packet.ah.spi, SRC);
    assert_eq!(packet.source, SRC);
    assert_eq!(packet.ah.sequence, 1);
    assert_eq!(packet.ttl, 255);
    assert_eq!(packet.message, &KEEPALIVED[44..]);
    assert_eq!(packet.verify(&key(), Delivery::Multicast), Ok(()));
}

/// keepalived's captured message emitted as keepalived sent it (multicast, id 1, sequence 1).
fn emit_keepalived_message() -> [u8; 64] {
    let mut buf = [0; 64];
    let emit_args = AhEmit {
        src: SRC,
        dst: GROUP,
        id: 1,
        ttl: 255,
        sequence: 1,
        delivery: Delivery::Multicast,
    };
    emit(&mut buf, &key(), &emit_args, &KEEPALIVED[44..]);
    buf
}

#[test]
fn keepalived_advert_is_what_emit_writes() {
    let buf = emit_keepalived_message();
    assert_eq!(buf, KEEPALIVED);
}

#[test]
fn another_key_or_any_covered_byte_fails_the_icv() {
    let packet = AhPacket::split(&KEEPALIVED).unwrap();
    assert_eq!(
        packet.verify(&AhKey::new(*b"secret13"), Delivery::Multicast),
        Err(AhError::BadIcv)
    );
    // Unicast also covers the TTL as zero: the multicast ICV does not verify.
    assert_eq!(
        packet.verify(&key(), Delivery::Unicast),
        Err(AhError::BadIcv)
    );
    // IP id, addresses, AH fields, the message: all covered.
    for at in [4, 5, 9, 12, 19, 24, 31, 32, 43, 46, 55, 63] {
        let mut bytes = KEEPALIVED;
        bytes[at] ^= 1;
        let result = AhPacket::split(&bytes).and_then(|p| p.verify(&key(), Delivery::Multicast));
        assert!(result.is_err(), "byte {at} flipped: {result:?}");
    }
}

#[test]
fn mutable_fields_are_not_covered() {
    let mut bytes = KEEPALIVED;
    bytes[1] = 0; // TOS
    bytes[6] = 0x40; // DF
    bytes[10] = 0; // header checksum
    bytes[11] = 0;
    let packet = AhPacket::split(&bytes).unwrap();
    assert_eq!(packet.verify(&key(), Delivery::Multicast), Ok(()));
}

#[test]
fn unicast_ignores_the_ttl() {
    let mut buf = [0; 64];
    let mut emit_args = AhEmit {
        src: SRC,
        dst: Ipv4Addr::new(192, 0, 2, 2),
        id: 7,
        ttl: 255,
        sequence: 9,
        delivery: Delivery::Unicast,
    };
    emit(&mut buf, &key(), &emit_args, &KEEPALIVED[44..]);
    buf[8] = 64; // routed on the way
    let packet = AhPacket::split(&buf).unwrap();
    assert_eq!(packet.verify(&key(), Delivery::Unicast), Ok(()));
    emit_args.delivery = Delivery::Multicast;
    emit(&mut buf, &key(), &emit_args, &KEEPALIVED[44..]);
    buf[8] = 64;
    let packet = AhPacket::split(&buf).unwrap();
    assert_eq!(
        packet.verify(&key(), Delivery::Multicast),
        Err(AhError::BadIcv)
    );
}

#[test]
fn spi_must_be_the_source() {
    let buf = emit_keepalived_message();
    // A sender that signs a packet whose source is not its SPI: the ICV holds, the SPI not.
    let mut forged = buf;
    forged[15] = 9;
    forged[10..12].fill(0);
    let mut covered = forged;
    zero_mutable(&mut covered[..IPV4_HEADER_LEN], Delivery::Multicast);
    covered[20 + field::ICV.start..20 + field::ICV.end].fill(0);
    let mut mac = keyed(&key());
    mac.update(&covered);
    forged[32..44].copy_from_slice(&mac.finalize().into_bytes()[..ICV_LEN]);
    let packet = AhPacket::split(&forged).unwrap();
    assert_eq!(
        packet.verify(&key(), Delivery::Multicast),
        Err(AhError::SpiMismatch)
    );
}

#[test]
fn malformed_packets_are_refused_without_panic() {
    let mut not_vrrp = KEEPALIVED;
    not_vrrp[20] = 6;
    assert_eq!(AhPacket::split(&not_vrrp), Err(AhError::NotVrrp(6)));
    let mut bad_len = KEEPALIVED;
    bad_len[21] = 5;
    let mut reserved = KEEPALIVED;
    reserved[23] = 1;
    let mut not_ah = KEEPALIVED;
    not_ah[9] = 112;
    let mut total_too_long = KEEPALIVED;
    total_too_long[3] = 65;
    let mut short_ihl = KEEPALIVED;
    short_ihl[0] = 0x44;
    for bad in [
        &bad_len[..],
        &reserved,
        &not_ah,
        &total_too_long,
        &short_ihl,
        &KEEPALIVED[..43],
        &[],
    ] {
        assert_eq!(AhPacket::split(bad), Err(AhError::Malformed), "{bad:02x?}");
    }
    // Ethernet padding beyond the total length is not part of the message.
    let mut padded = KEEPALIVED.to_vec();
    padded.extend_from_slice(&[0; 6]);
    let packet = AhPacket::split(&padded).unwrap();
    assert_eq!(packet.message.len(), 20);
    assert_eq!(packet.verify(&key(), Delivery::Multicast), Ok(()));
}

#[test]
fn key_material_stays_out_of_debug_output() {
    assert_eq!(format!("{:?}", key()), "AhKey(..)");
}

proptest::proptest! {
    /// Whatever the bytes, splitting and verifying never panics, and no change to a covered
    /// byte of keepalived's advert verifies.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)) {
        if let Ok(packet) = AhPacket::split(&bytes) {
            let _ = packet.verify(&key(), Delivery::Multicast);
            let _ = packet.verify(&key(), Delivery::Unicast);
        }
    }

    #[test]
    fn a_changed_covered_byte_never_verifies(at in 0usize..64, flip in 1u8..=255) {
        // TOS, flags / fragment and the header checksum are not covered.
        proptest::prop_assume!(![1, 6, 7, 10, 11].contains(&at));
        let mut bytes = KEEPALIVED;
        bytes[at] ^= flip;
        let result = AhPacket::split(&bytes).and_then(|p| p.verify(&key(), Delivery::Multicast));
        proptest::prop_assert!(result.is_err());
    }
}
