//! Vectors computed independently of this code by `scripts/auth_hmac_vectors.py` (Python's
//! hmac module from the draft's layout); the first two are also the draft appendix images in
//! keepalived 2.4.3's `test/auth_hmac_test.c`.
use std::net::IpAddr;
use std::time::{Duration, SystemTime};

use super::*;
use crate::vrrp::wire::trailer::{seal_ipv6_checksum, split_trailer};
use crate::vrrp::wire::{AdvertRepr, Packet};

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// Key 00 01 .. 1f, the draft's.
fn draft_key() -> Vec<u8> {
    (0..32).collect()
}

const DRAFT_SEQ: u64 = 0x6800_0000_8000_0000;
/// 1_800_000_000 s, subseconds 0x1234, counter 5.
const OWN_SEQ: u64 = (1_800_000_000 << 32) | (0x1234 << 16) | 5;

struct Vector {
    name: &'static str,
    key_id: u8,
    key: Vec<u8>,
    binding: Binding,
    /// The message as on the wire, checksum included.
    message: &'static str,
    trailer: &'static str,
    seq: u64,
    /// IPv6 only: the destination the checksum was computed for.
    ipv6_dst: Option<&'static str>,
}

fn vectors() -> Vec<Vector> {
    vec![
        Vector {
            name: "IPv4 VRRPv3, draft appendix",
            key_id: 1,
            key: draft_key(),
            binding: Binding {
                src: ip("198.51.100.10"),
                version: 3,
                vrid: 51,
            },
            message: "3133c80100644402c0000264",
            trailer: "010100006800000080000000\
                      1b84bc4e8e43892dc6d98448f8ee2265",
            seq: DRAFT_SEQ,
            ipv6_dst: None,
        },
        Vector {
            name: "IPv6 VRRPv3, draft appendix",
            key_id: 1,
            key: draft_key(),
            binding: Binding {
                src: ip("fe80::10"),
                version: 3,
                vrid: 51,
            },
            message: "3133c8010064a2e9fe800000000000000000000000000100",
            trailer: "010100006800000080000000\
                      c8c56146ebfd66ee10ec4d8186461b78",
            seq: DRAFT_SEQ,
            ipv6_dst: Some("fe80::20"),
        },
        Vector {
            name: "IPv4 VRRPv3 with the pseudo-header checksum, key 7 of 64 bytes",
            key_id: 7,
            key: b"vipd-auth-hmac-test-key-0123456789abcdefghijklmnopqrstuvwxyz!!!!".to_vec(),
            binding: Binding {
                src: ip("192.0.2.1"),
                version: 3,
                vrid: 7,
            },
            message: "3107640200644333c0000264c0000265",
            trailer: "010700006b49d20012340005\
                      63c58406eae55513ee5f671432eb5613",
            seq: OWN_SEQ,
            ipv6_dst: None,
        },
        Vector {
            name: "IPv4 VRRPv2",
            key_id: 1,
            key: draft_key(),
            binding: Binding {
                src: ip("10.0.0.2"),
                version: 2,
                vrid: 9,
            },
            message: "2109960100013e900a0000640000000000000000",
            trailer: "010100006b49d20012340005\
                      baa1b4435693c5799c86cc3af4ff37d9",
            seq: OWN_SEQ,
            ipv6_dst: None,
        },
        Vector {
            name: "IPv6 VRRPv3 to ff02::12, key 2 of 48 bytes",
            key_id: 2,
            key: vec![0xa5; 48],
            binding: Binding {
                src: ip("2001:db8::1"),
                version: 3,
                vrid: 42,
            },
            message: "312afe0100056a0320010db8000000000000000000000100",
            trailer: "010200006b49d20012340005\
                      e819a434ff1db6cc28398b2808c9bbb5",
            seq: OWN_SEQ,
            ipv6_dst: Some("ff02::12"),
        },
    ]
}

fn config(keys: Vec<Key>, active_key: u8) -> AuthHmacConfig {
    AuthHmacConfig {
        keys,
        active_key,
        mode: Mode::Enforce,
        anti_replay: AntiReplay::Time,
        time_window_secs: 5,
    }
}

fn authenticator(v: &Vector, anti_replay: AntiReplay) -> Authenticator {
    let mut c = config(vec![Key::new(v.key_id, v.key.clone()).unwrap()], v.key_id);
    c.anti_replay = anti_replay;
    Authenticator::new(c, &[])
}

/// The wall-clock time whose seconds are those of `seq`.
fn time_of(seq: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(seq >> 32)
}

#[test]
fn signing_reproduces_every_vector() {
    for v in vectors() {
        let mut auth = authenticator(&v, AntiReplay::Monotonic);
        // The clock is behind, so the next sequence is the mark plus one: the vector's.
        auth.last_sent = Sequence(v.seq - 1);
        let message = hex(v.message);
        let trailer = auth
            .sign(SystemTime::UNIX_EPOCH, v.binding, &message)
            .expect("enforce mode signs");
        assert_eq!(trailer.to_vec(), hex(v.trailer), "{}", v.name);
    }
}

#[test]
fn every_vector_verifies_in_time_mode_at_its_own_time() {
    for v in vectors() {
        let mut auth = authenticator(&v, AntiReplay::Time);
        let message = hex(v.message);
        let trailer: [u8; TRAILER_LEN] = hex(v.trailer).try_into().unwrap();
        assert_eq!(
            auth.verify(time_of(v.seq), v.binding, &message, Some(&trailer)),
            Ok(()),
            "{}",
            v.name
        );
    }
}

#[test]
fn the_wire_images_checksum_as_keepalived_does() {
    for v in vectors() {
        let message = hex(v.message);
        let mut payload = [message.clone(), hex(v.trailer)].concat();
        let family = IpFamily::of(v.binding.src);
        let (m, t) = split_trailer(&payload, family);
        assert_eq!(
            (m, t.map(|t| t.to_vec())),
            (&message[..], Some(hex(v.trailer))),
            "{}",
            v.name
        );
        let dst = v.ipv6_dst.map_or(ip("224.0.0.18"), ip);
        let parsed = AdvertRepr::parse_with_trailer(
            &Packet::new_checked(&message[..]).unwrap(),
            &payload[message.len()..],
            v.binding.src,
            dst,
        );
        assert!(parsed.is_ok(), "{}: {parsed:?}", v.name);
        if let (IpAddr::V6(src), IpAddr::V6(d)) = (v.binding.src, dst) {
            // Over IPv6 the checksum covers the trailer: without it the message fails.
            let alone = AdvertRepr::parse(
                &Packet::new_checked(&message[..]).unwrap(),
                v.binding.src,
                dst,
            );
            assert!(alone.is_err(), "{}", v.name);
            let wire = payload.clone();
            payload[6..8].fill(0);
            seal_ipv6_checksum(&mut payload, src, d);
            assert_eq!(
                payload, wire,
                "{}: the sealed checksum is the vector's",
                v.name
            );
        }
    }
}

#[test]
fn tampering_is_caught_by_the_check_keepalived_names() {
    let v = &vectors()[1];
    let message = hex(v.message);
    let trailer = hex(v.trailer);
    let image = [message.clone(), trailer].concat();
    let m = message.len();
    let cases = [
        ("priority", 2, Err(AuthError::BadMac)),
        ("advert interval", 5, Err(AuthError::BadMac)),
        ("checksum (not covered)", 6, Ok(())),
        ("address", 8 + 15, Err(AuthError::BadMac)),
        ("extension type", m, Err(AuthError::Malformed)),
        ("key id", m + 1, Err(AuthError::UnknownKeyId)),
        ("reserved", m + 2, Err(AuthError::Malformed)),
        ("seconds", m + 7, Err(AuthError::BadMac)),
        ("counter", m + 11, Err(AuthError::BadMac)),
        ("mac", m + 12, Err(AuthError::BadMac)),
    ];
    for (what, offset, expected) in cases {
        let mut bytes = image.clone();
        bytes[offset] ^= 1;
        let mut auth = authenticator(v, AntiReplay::Monotonic);
        let trailer: [u8; TRAILER_LEN] = bytes[m..].try_into().unwrap();
        assert_eq!(
            auth.verify(time_of(v.seq), v.binding, &bytes[..m], Some(&trailer)),
            expected,
            "tampered {what}"
        );
    }
    let trailer: [u8; TRAILER_LEN] = image[m..].try_into().unwrap();
    let mut auth = authenticator(v, AntiReplay::Monotonic);
    let wrong_src = Binding {
        src: ip("fe80::20"),
        ..v.binding
    };
    assert_eq!(
        auth.verify(time_of(v.seq), wrong_src, &message, Some(&trailer)),
        Err(AuthError::BadMac)
    );
    let wrong_vrid = Binding {
        vrid: 52,
        ..v.binding
    };
    assert_eq!(
        auth.verify(time_of(v.seq), wrong_vrid, &message, Some(&trailer)),
        Err(AuthError::BadMac)
    );
    let wrong_version = Binding {
        version: 2,
        ..v.binding
    };
    assert_eq!(
        auth.verify(time_of(v.seq), wrong_version, &message, Some(&trailer)),
        Err(AuthError::BadMac)
    );
}

#[test]
fn a_replay_is_refused_per_sender_and_a_second_receiver_still_accepts() {
    let v = &vectors()[0];
    let message = hex(v.message);
    let trailer: [u8; TRAILER_LEN] = hex(v.trailer).try_into().unwrap();
    let now = time_of(v.seq);
    let mut first = authenticator(v, AntiReplay::Time);
    let mut second = authenticator(v, AntiReplay::Time);
    assert_eq!(
        first.verify(now, v.binding, &message, Some(&trailer)),
        Ok(())
    );
    assert_eq!(
        first.verify(now, v.binding, &message, Some(&trailer)),
        Err(AuthError::Replay)
    );
    assert_eq!(
        second.verify(now, v.binding, &message, Some(&trailer)),
        Ok(())
    );
}

#[test]
fn a_forged_advert_moves_no_replay_mark() {
    let v = &vectors()[0];
    let message = hex(v.message);
    let good: [u8; TRAILER_LEN] = hex(v.trailer).try_into().unwrap();
    let mut forged = good;
    // A later sequence with a wrong MAC must not raise the mark past the genuine advert.
    forged[field_counter_low()] ^= 0x40;
    let now = time_of(v.seq);
    let mut auth = authenticator(v, AntiReplay::Time);
    assert_eq!(
        auth.verify(now, v.binding, &message, Some(&forged)),
        Err(AuthError::BadMac)
    );
    assert_eq!(auth.verify(now, v.binding, &message, Some(&good)), Ok(()));
}

fn field_counter_low() -> usize {
    crate::vrrp::wire::trailer::field::COUNTER.end - 1
}

#[test]
fn the_time_window_is_checked_before_the_mac() {
    let v = &vectors()[0];
    let message = hex(v.message);
    let mut trailer: [u8; TRAILER_LEN] = hex(v.trailer).try_into().unwrap();
    let mut auth = authenticator(v, AntiReplay::Time);
    let at = |offset: i64| {
        SystemTime::UNIX_EPOCH + Duration::from_secs(((v.seq >> 32) as i64 + offset) as u64)
    };
    assert_eq!(
        auth.verify(at(6), v.binding, &message, Some(&trailer)),
        Err(AuthError::OutsideWindow)
    );
    assert_eq!(
        auth.verify(at(-6), v.binding, &message, Some(&trailer)),
        Err(AuthError::OutsideWindow)
    );
    // A bad MAC outside the window costs no digest: the window refuses it first.
    trailer[20] ^= 1;
    assert_eq!(
        auth.verify(at(100), v.binding, &message, Some(&trailer)),
        Err(AuthError::OutsideWindow)
    );
    assert_eq!(
        auth.verify(at(5), v.binding, &message, Some(&trailer)),
        Err(AuthError::BadMac)
    );
}

#[test]
fn a_missing_trailer_is_refused_only_in_enforce_mode() {
    let v = &vectors()[0];
    let message = hex(v.message);
    for (mode, expected) in [
        (Mode::Enforce, Err(AuthError::MissingTrailer)),
        (Mode::Permissive, Ok(())),
        (Mode::ReceiveOnly, Ok(())),
    ] {
        let mut auth = authenticator(v, AntiReplay::Time);
        auth.config.mode = mode;
        assert_eq!(
            auth.verify(time_of(v.seq), v.binding, &message, None),
            expected,
            "{mode:?}"
        );
    }
}

#[test]
fn receive_only_signs_nothing_but_verifies_a_present_trailer() {
    let v = &vectors()[0];
    let message = hex(v.message);
    let mut auth = authenticator(v, AntiReplay::Time);
    auth.config.mode = Mode::ReceiveOnly;
    assert_eq!(auth.sign(time_of(v.seq), v.binding, &message), None);
    let mut trailer: [u8; TRAILER_LEN] = hex(v.trailer).try_into().unwrap();
    trailer[27] ^= 1;
    assert_eq!(
        auth.verify(time_of(v.seq), v.binding, &message, Some(&trailer)),
        Err(AuthError::BadMac)
    );
}

#[test]
fn each_signed_advert_has_a_fresh_sequence_that_verifies() {
    let v = &vectors()[3];
    let message = hex(v.message);
    let mut sender = authenticator(v, AntiReplay::Time);
    let mut receiver = authenticator(v, AntiReplay::Time);
    let now = time_of(OWN_SEQ);
    let mut last = None;
    for _ in 0..3 {
        // The same clock reading three times: the counter breaks the tie.
        let trailer = sender.sign(now, v.binding, &message).unwrap();
        let seq = TrailerRepr::parse(&trailer).unwrap().sequence;
        assert!(last.is_none_or(|l: Sequence| seq.is_after(l)));
        last = Some(seq);
        assert_eq!(
            receiver.verify(now, v.binding, &message, Some(&trailer)),
            Ok(())
        );
    }
}

#[test]
fn the_clock_sequence_packs_seconds_and_a_binary_fraction() {
    let t = SystemTime::UNIX_EPOCH + Duration::new(0x6800_0000, 500_000_000);
    assert_eq!(clock_sequence(t), Sequence(DRAFT_SEQ));
}

#[test]
fn the_send_sequence_follows_the_clock_and_recovers_from_a_step_back() {
    let clock = Sequence(1_000 << 32);
    assert_eq!(
        next_sequence(clock, Sequence(999 << 32), AntiReplay::Time, 5),
        clock
    );
    let same = Sequence(1_000 << 32);
    assert_eq!(
        next_sequence(clock, same, AntiReplay::Time, 5),
        Sequence((1_000 << 32) + 1)
    );
    // Stranded an hour ahead: time mode restarts from the clock, monotonic keeps growing.
    let ahead = Sequence(4_600 << 32);
    assert_eq!(next_sequence(clock, ahead, AntiReplay::Time, 5), clock);
    assert_eq!(
        next_sequence(clock, ahead, AntiReplay::Monotonic, 5),
        Sequence((4_600 << 32) + 1)
    );
    // Within the window ahead: still strictly growing.
    let near = Sequence(1_005 << 32);
    assert_eq!(
        next_sequence(clock, near, AntiReplay::Time, 5),
        Sequence((1_005 << 32) + 1)
    );
}

#[test]
fn a_mark_stranded_outside_the_window_expires_in_time_mode_only() {
    let now = 10_000u32;
    let stranded = Sequence(u64::from(now + 3_600) << 32);
    let fresh = Sequence(u64::from(now) << 32);
    let mut mark = ReplayMark(Some(stranded));
    assert!(mark.accept(fresh, Some((now, 5))));
    assert!(
        !mark.accept(fresh, Some((now, 5))),
        "and then a replay is one"
    );
    let mut mark = ReplayMark(Some(stranded));
    assert!(!mark.accept(fresh, None), "monotonic keeps its mark");
}

#[test]
fn the_multicast_table_evicts_the_least_recently_used_sender() {
    let mut table = SenderTable::default();
    let senders: Vec<IpAddr> = (1..=5).map(|i| ip(&format!("192.0.2.{i}"))).collect();
    for (i, s) in senders[..4].iter().enumerate() {
        assert!(table.mark(*s).accept(Sequence(10 + i as u64), None));
    }
    // Sender 1 is used again, so sender 2 is the oldest when sender 5 arrives.
    assert!(
        !table.mark(senders[0]).accept(Sequence(10), None),
        "sender 1 is remembered"
    );
    assert!(table.mark(senders[4]).accept(Sequence(1), None));
    assert!(
        !table.mark(senders[0]).accept(Sequence(10), None),
        "sender 1 kept"
    );
    assert!(
        table.mark(senders[1]).accept(Sequence(11), None),
        "sender 2 was evicted"
    );
}

#[test]
fn unicast_marks_are_per_peer_and_survive_a_reload() {
    let v = &vectors()[0];
    let message = hex(v.message);
    let trailer: [u8; TRAILER_LEN] = hex(v.trailer).try_into().unwrap();
    let now = time_of(v.seq);
    let peers = [v.binding.src, ip("198.51.100.11")];
    let c = config(vec![Key::new(1, draft_key()).unwrap()], 1);
    let mut auth = Authenticator::new(c.clone(), &peers);
    assert_eq!(
        auth.verify(now, v.binding, &message, Some(&trailer)),
        Ok(())
    );
    auth.reconfigure(c, &peers);
    assert_eq!(
        auth.verify(now, v.binding, &message, Some(&trailer)),
        Err(AuthError::Replay)
    );
}

#[test]
fn key_material_never_shows_in_debug_output() {
    let material = b"a-very-secret-key-of-thirty-two-bytes!!".to_vec();
    let key = Key::new(3, material.clone()).unwrap();
    let c = config(vec![key], 3);
    let auth = Authenticator::new(c.clone(), &[]);
    for text in [format!("{c:?}"), format!("{c:#?}"), format!("{auth:?}")] {
        assert!(!text.contains("a-very-secret"), "{text}");
        assert!(!text.contains(&format!("{:?}", &material[..4])), "{text}");
        assert!(text.contains("redacted"), "{text}");
    }
}

#[test]
fn configuration_errors_name_what_to_fix() {
    assert_eq!(Key::new(0, vec![0; 32]), Err(AuthConfigError::ZeroKeyId));
    assert_eq!(
        Key::new(1, vec![0; 31]),
        Err(AuthConfigError::KeyLength { id: 1, len: 31 })
    );
    assert_eq!(
        Key::new(1, vec![0; 65]),
        Err(AuthConfigError::KeyLength { id: 1, len: 65 })
    );
    let k = |id| Key::new(id, vec![id; 32]).unwrap();
    assert_eq!(
        config(vec![k(1), k(1)], 1).validate(),
        Err(AuthConfigError::DuplicateKeyId(1))
    );
    assert_eq!(
        config(vec![k(1)], 2).validate(),
        Err(AuthConfigError::ActiveKeyUndefined(2))
    );
    let mut c = config(vec![k(1)], 1);
    c.time_window_secs = 301;
    assert_eq!(c.validate(), Err(AuthConfigError::WindowRange(301)));
    c.time_window_secs = 300;
    assert_eq!(c.validate(), Ok(()));
}

#[test]
fn the_default_window_is_three_intervals_between_5_and_300_seconds() {
    assert_eq!(
        AuthHmacConfig::default_window_secs(Duration::from_millis(200)),
        5
    );
    assert_eq!(
        AuthHmacConfig::default_window_secs(Duration::from_secs(1)),
        5
    );
    assert_eq!(
        AuthHmacConfig::default_window_secs(Duration::from_secs(10)),
        30
    );
    assert_eq!(
        AuthHmacConfig::default_window_secs(Duration::from_secs(200)),
        300
    );
}
