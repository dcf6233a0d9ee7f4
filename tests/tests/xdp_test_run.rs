//! The XDP program fed crafted frames through BPF_PROG_TEST_RUN: verdicts and ring-buffer
//! records, frame by frame.
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use vipd::dataplane::xdp::{Advert, AdvertRing, XdpProgram};
use vipd_tests::{
    frames::{self, advert_frame_v4, advert_frame_v6},
    kernel_tests_enabled,
};

const XDP_PASS: u32 = 2;
/// The kernel will not run an XDP program on less than an Ethernet header.
const ETH_HLEN: usize = 14;

fn program() -> (XdpProgram, AdvertRing) {
    let mut program = XdpProgram::load().expect("load the XDP program");
    let ring = program.take_adverts().expect("advert ring");
    (program, ring)
}

fn drain(ring: &mut AdvertRing) -> Vec<Advert> {
    std::iter::from_fn(|| ring.try_next()).collect()
}

#[test]
fn ipv4_advert_passes_and_is_recorded_with_its_fields() {
    if !kernel_tests_enabled() {
        return;
    }
    let (mut program, mut ring) = program();
    let src = Ipv4Addr::new(192, 0, 2, 7);
    let frame = advert_frame_v4(&frames::Advert::v3(42, 150, 100), src, 255);

    let (verdict, out) = program.test_run(&frame).unwrap();

    assert_eq!(verdict, XDP_PASS);
    assert_eq!(out, frame, "the frame must pass unchanged");
    let records = drain(&mut ring);
    assert_eq!(records.len(), 1, "{records:?}");
    let record = records[0];
    assert_eq!(record.source, IpAddr::V4(src));
    assert_eq!(
        (
            record.version,
            record.vrid,
            record.priority,
            record.adver_int
        ),
        (3, 42, 150, 100)
    );
    assert_eq!((record.ttl, record.addr_count), (255, 1));
    assert_ne!(record.ktime_ns, 0);
}

#[test]
fn ipv6_advert_is_recorded_with_its_source_and_hop_limit() {
    if !kernel_tests_enabled() {
        return;
    }
    let (mut program, mut ring) = program();
    let src: Ipv6Addr = "fe80::1234".parse().unwrap();
    let mut advert = frames::Advert::v3(7, 200, 0x8005);
    advert.addresses_v6 = vec!["2001:db8::100".parse().unwrap()];
    let frame = advert_frame_v6(&advert, src, 254);

    let (verdict, _) = program.test_run(&frame).unwrap();

    assert_eq!(verdict, XDP_PASS);
    let records = drain(&mut ring);
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0].source, IpAddr::V6(src));
    // The whole Rsvd|Max Adver Int word is kept, including vipd's fast-mode bit.
    assert_eq!(
        (records[0].vrid, records[0].adver_int, records[0].ttl),
        (7, 0x8005, 254)
    );
}

#[test]
fn vrrp_v2_advert_reports_its_interval_in_seconds() {
    if !kernel_tests_enabled() {
        return;
    }
    let (mut program, mut ring) = program();
    let mut advert = frames::Advert::v3(9, 100, 1);
    advert.version = 2;
    let frame = advert_frame_v4(&advert, Ipv4Addr::new(192, 0, 2, 9), 255);

    program.test_run(&frame).unwrap();

    let records = drain(&mut ring);
    assert_eq!(records.len(), 1);
    assert_eq!((records[0].version, records[0].adver_int), (2, 1));
}

#[test]
fn arp_and_other_traffic_pass_without_a_record() {
    if !kernel_tests_enabled() {
        return;
    }
    let (mut program, mut ring) = program();
    let arp = frames::arp_request(
        [2, 0, 0, 0, 0, 1],
        Ipv4Addr::new(192, 0, 2, 1),
        Ipv4Addr::new(192, 0, 2, 100),
    );
    // An IPv4 frame that is not VRRP: same advert bytes, protocol changed to UDP.
    let mut udp = advert_frame_v4(
        &frames::Advert::v3(1, 1, 1),
        Ipv4Addr::new(192, 0, 2, 1),
        255,
    );
    udp[14 + 9] = 17;
    // A VRRP frame whose type is not advertisement.
    let mut bad_type = advert_frame_v4(
        &frames::Advert::v3(1, 1, 1),
        Ipv4Addr::new(192, 0, 2, 1),
        255,
    );
    bad_type[34] = 0x32;

    for frame in [&arp, &udp, &bad_type] {
        let (verdict, out) = program.test_run(frame).unwrap();
        assert_eq!(verdict, XDP_PASS);
        assert_eq!(&out, frame);
    }
    assert_eq!(drain(&mut ring), vec![]);
}

#[test]
fn every_truncation_of_an_advert_passes_without_a_record() {
    if !kernel_tests_enabled() {
        return;
    }
    let (mut program, mut ring) = program();
    let v4 = advert_frame_v4(
        &frames::Advert::v3(1, 100, 100),
        Ipv4Addr::new(192, 0, 2, 1),
        255,
    );
    let mut advert_v6 = frames::Advert::v3(1, 100, 100);
    advert_v6.addresses_v6 = vec!["2001:db8::100".parse().unwrap()];
    let v6 = advert_frame_v6(&advert_v6, "fe80::1".parse().unwrap(), 255);
    // The program needs the 8-byte VRRP header; anything shorter is not an advert to it.
    let v4_header_end = 14 + 20 + 8;
    let v6_header_end = 14 + 40 + 8;

    for (frame, header_end) in [(&v4, v4_header_end), (&v6, v6_header_end)] {
        for len in 0..header_end {
            let result = program.test_run(&frame[..len]);
            if len < ETH_HLEN {
                // The kernel refuses to run the program on less than an Ethernet header, so the
                // program never sees such a frame.
                assert!(
                    result.is_err(),
                    "length {len} should be refused by the kernel"
                );
                continue;
            }
            let (verdict, out) = result.unwrap_or_else(|e| panic!("length {len}: {e}"));
            assert_eq!(verdict, XDP_PASS, "length {len}");
            assert_eq!(out, &frame[..len], "length {len}");
        }
        assert_eq!(drain(&mut ring), vec![], "a truncated frame made a record");
    }
}
