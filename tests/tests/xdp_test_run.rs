//! The XDP program's advert path fed crafted frames through BPF_PROG_TEST_RUN: verdicts,
//! ring-buffer records and counters, frame by frame.
//!
//! Under BPF_PROG_TEST_RUN the program sees the loopback device of the calling thread's namespace
//! as the ingress interface: ifindex 1, the index the VRID map entries here are keyed with.
use agent_common::{counter, NEWS_BURST};
use std::{
    net::{IpAddr, Ipv4Addr, Ipv6Addr},
    time::Duration,
};
use vipd::family::IpFamily;

use vipd::dataplane::xdp::{
    xdp_action::{XDP_DROP, XDP_PASS},
    Advert, AdvertRing, FollowedMaster, VridPolicy, XdpMaps, XdpProgram, TEST_RUN_IFINDEX,
};
use vipd_tests::{
    clock::monotonic_ns,
    frames::{self, advert_frame_v4, advert_frame_v4_to, advert_frame_v6, vlan_tagged},
    kernel_tests_enabled,
};

/// The kernel will not run an XDP program on less than an Ethernet header.
const ETH_HLEN: usize = 14;

/// Unicast adverts of any TTL count.
fn any_ttl() -> VridPolicy {
    VridPolicy {
        allow_any_ttl: true,
        ..VridPolicy::default()
    }
}

struct Harness {
    program: XdpProgram,
    ring: AdvertRing,
    maps: XdpMaps,
}

/// The program with VRIDs `vrids` configured for both families on the test-run interface.
fn harness(vrids: &[u8]) -> Harness {
    let mut program = XdpProgram::load().expect("load the XDP program");
    let ring = program.take_adverts().expect("advert ring");
    let mut maps = program.take_maps().expect("control maps");
    for &vrid in vrids {
        for family in [IpFamily::V4, IpFamily::V6] {
            maps.set_vrid(TEST_RUN_IFINDEX, vrid, family, VridPolicy::default())
                .expect("set VRID");
        }
    }
    Harness {
        program,
        ring,
        maps,
    }
}

impl Harness {
    /// VRID 4 over IPv4 checked as `policy`, the agent following `master` (priority 150), its
    /// heartbeat fresh.
    fn follow(&mut self, master: Ipv4Addr, policy: VridPolicy) {
        let followed = FollowedMaster {
            address: IpAddr::V4(master),
            priority: 150,
            mac: None,
        };
        self.maps
            .set_vrid_following(TEST_RUN_IFINDEX, 4, IpFamily::V4, policy, Some(followed))
            .unwrap();
        self.maps
            .set_deadman_bound(Duration::from_secs(60))
            .unwrap();
        self.maps.heartbeat(monotonic_ns()).unwrap();
    }

    fn drain(&mut self) -> Vec<Advert> {
        std::iter::from_fn(|| self.ring.try_next()).collect()
    }

    /// Runs `frame` and checks that it passed unchanged; returns the records it made.
    fn passes(&mut self, frame: &[u8]) -> Vec<Advert> {
        let (verdict, out) = self.program.test_run(frame).unwrap();
        assert_eq!(verdict, XDP_PASS);
        assert_eq!(out, frame, "the frame must pass unchanged");
        self.drain()
    }
}

#[test]
fn ipv4_advert_passes_and_is_recorded_with_its_fields() {
    if !kernel_tests_enabled() {
        return;
    }
    let mut h = harness(&[42]);
    let src = Ipv4Addr::new(192, 0, 2, 7);
    let frame = advert_frame_v4(&frames::Advert::v3(42, 150, 100), src, 255);

    let before = monotonic_ns();
    let records = h.passes(&frame);
    let after = monotonic_ns();

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
    assert_eq!(record.ifindex, TEST_RUN_IFINDEX);
    assert_eq!(record.vlan_id, None);
    assert!((before..=after).contains(&record.ktime_ns));
    let counters = h.maps.counters().unwrap();
    assert_eq!(
        (
            counters.get(counter::ADVERTS_RECORDED),
            counters.get(counter::PASSED)
        ),
        (1, 1)
    );
}

#[test]
fn ipv6_advert_is_recorded_with_its_source_and_interval_word() {
    if !kernel_tests_enabled() {
        return;
    }
    let mut h = harness(&[7]);
    let src: Ipv6Addr = "fe80::1234".parse().unwrap();
    let mut advert = frames::Advert::v3(7, 200, 0x8005);
    advert.addresses_v6 = vec!["2001:db8::100".parse().unwrap()];
    let frame = advert_frame_v6(&advert, src, 255);

    let records = h.passes(&frame);

    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0].source, IpAddr::V6(src));
    // The whole Rsvd|Max Adver Int word is kept, including vipd's fast-mode bit.
    assert_eq!(
        (records[0].vrid, records[0].adver_int, records[0].ttl),
        (7, 0x8005, 255)
    );
}

#[test]
fn vrrp_v2_advert_reports_its_interval_in_seconds() {
    if !kernel_tests_enabled() {
        return;
    }
    let mut h = harness(&[9]);
    let mut advert = frames::Advert::v3(9, 100, 1);
    advert.version = 2;
    let records = h.passes(&advert_frame_v4(&advert, Ipv4Addr::new(192, 0, 2, 9), 255));

    assert_eq!(records.len(), 1);
    assert_eq!((records[0].version, records[0].adver_int), (2, 1));
}

#[test]
fn vlan_tagged_adverts_are_recorded_with_their_vlan_id() {
    if !kernel_tests_enabled() {
        return;
    }
    let mut h = harness(&[5]);
    let v4 = advert_frame_v4(
        &frames::Advert::v3(5, 100, 100),
        Ipv4Addr::new(192, 0, 2, 1),
        255,
    );
    let mut advert_v6 = frames::Advert::v3(5, 100, 100);
    advert_v6.addresses_v6 = vec!["2001:db8::100".parse().unwrap()];
    let v6 = advert_frame_v6(&advert_v6, "fe80::1".parse().unwrap(), 255);

    // Priority bits 0xe000 and DEI must not leak into the VLAN id.
    let records = [
        h.passes(&vlan_tagged(&v4, 0xe000 | 100)),
        h.passes(&vlan_tagged(&v6, 0x1000 | 4094)),
    ];

    assert_eq!(records[0].len(), 1);
    assert_eq!(records[0][0].vlan_id, Some(100));
    assert_eq!(records[1].len(), 1);
    assert_eq!(records[1][0].vlan_id, Some(4094));
    assert_eq!(records[1][0].source, "fe80::1".parse::<IpAddr>().unwrap());
}

#[test]
fn adverts_failing_an_invariant_pass_without_a_record() {
    if !kernel_tests_enabled() {
        return;
    }
    let mut h = harness(&[1]);
    let src = Ipv4Addr::new(192, 0, 2, 1);
    let good = advert_frame_v4(&frames::Advert::v3(1, 100, 100), src, 255);
    let unconfigured_vrid = advert_frame_v4(&frames::Advert::v3(2, 100, 100), src, 255);
    let ttl_254 = advert_frame_v4(&frames::Advert::v3(1, 100, 100), src, 254);
    let mut version_4 = good.clone();
    version_4[34] = 0x41;
    let mut type_2 = good.clone();
    type_2[34] = 0x32;
    let mut advert_v6 = frames::Advert::v3(1, 100, 100);
    advert_v6.addresses_v6 = vec!["2001:db8::100".parse().unwrap()];
    let hop_limit_254 = advert_frame_v6(&advert_v6, "fe80::1".parse().unwrap(), 254);
    // VRRPv2 exists only over IPv4.
    advert_v6.version = 2;
    let v2_over_ipv6 = advert_frame_v6(&advert_v6, "fe80::1".parse().unwrap(), 255);

    for frame in [
        &unconfigured_vrid,
        &ttl_254,
        &version_4,
        &type_2,
        &hop_limit_254,
        &v2_over_ipv6,
    ] {
        assert_eq!(h.passes(frame), vec![]);
    }
    assert_eq!(
        h.maps
            .counters()
            .unwrap()
            .get(counter::ADVERT_INVARIANT_FAILED),
        6
    );
    assert_eq!(h.passes(&good).len(), 1, "the control frame is recorded");
}

#[test]
fn a_vrid_configured_for_one_family_does_not_record_the_other() {
    if !kernel_tests_enabled() {
        return;
    }
    let mut h = harness(&[]);
    h.maps
        .set_vrid(TEST_RUN_IFINDEX, 3, IpFamily::V6, VridPolicy::default())
        .unwrap();
    let v4 = advert_frame_v4(
        &frames::Advert::v3(3, 100, 100),
        Ipv4Addr::new(192, 0, 2, 1),
        255,
    );
    assert_eq!(h.passes(&v4), vec![]);

    h.maps
        .set_vrid(TEST_RUN_IFINDEX, 3, IpFamily::V4, VridPolicy::default())
        .unwrap();
    assert_eq!(h.passes(&v4).len(), 1);
    h.maps
        .remove_vrid(TEST_RUN_IFINDEX, 3, IpFamily::V4)
        .unwrap();
    assert_eq!(h.passes(&v4), vec![], "removed VRID still recorded");
    // Removing what is not there is fine.
    h.maps
        .remove_vrid(TEST_RUN_IFINDEX, 3, IpFamily::V4)
        .unwrap();
}

#[test]
fn allow_any_ttl_admits_unicast_adverts_only() {
    if !kernel_tests_enabled() {
        return;
    }
    let mut h = harness(&[]);
    h.maps
        .set_vrid(TEST_RUN_IFINDEX, 8, IpFamily::V4, any_ttl())
        .unwrap();
    let advert = frames::Advert::v3(8, 100, 100);
    let src = Ipv4Addr::new(192, 0, 2, 1);
    let unicast_ttl_64 = advert_frame_v4_to(&advert, src, Ipv4Addr::new(192, 0, 2, 2), 64);
    let multicast_ttl_64 = advert_frame_v4(&advert, src, 64);

    let records = h.passes(&unicast_ttl_64);
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].ttl, 64);
    assert_eq!(h.passes(&multicast_ttl_64), vec![]);
}

/// While the agent follows a master, that master's routine adverts are recorded and dropped;
/// news (the first advert after the agent wrote the entry, a new priority, a new interval,
/// another source) is recorded and passed on for full validation. A stale agent gets every
/// advert passed again.
#[test]
fn a_followed_masters_routine_adverts_are_recorded_and_dropped_news_passes() {
    if !kernel_tests_enabled() {
        return;
    }
    let mut h = harness(&[]);
    let master = Ipv4Addr::new(192, 0, 2, 1);
    h.follow(master, VridPolicy::default());
    let advert = |priority, interval, src| {
        advert_frame_v4(&frames::Advert::v3(4, priority, interval), src, 255)
    };
    let routine = advert(150, 100, master);
    let verdict = |h: &mut Harness, frame: &[u8]| {
        let (verdict, _) = h.program.test_run(frame).unwrap();
        let records = h.drain();
        assert_eq!(records.len(), 1, "every advert is recorded");
        verdict
    };

    assert_eq!(verdict(&mut h, &routine), XDP_PASS, "the first is news");
    assert_eq!(verdict(&mut h, &routine), XDP_DROP);
    assert_eq!(verdict(&mut h, &routine), XDP_DROP);
    assert_eq!(
        verdict(&mut h, &advert(150, 50, master)),
        XDP_PASS,
        "new interval"
    );
    assert_eq!(verdict(&mut h, &advert(150, 50, master)), XDP_DROP);
    assert_eq!(
        verdict(&mut h, &advert(0, 50, master)),
        XDP_PASS,
        "resignation"
    );
    let other = Ipv4Addr::new(192, 0, 2, 9);
    assert_eq!(
        verdict(&mut h, &advert(150, 50, other)),
        XDP_PASS,
        "other source"
    );
    assert_eq!(verdict(&mut h, &advert(150, 50, other)), XDP_PASS);

    h.maps
        .heartbeat(monotonic_ns() - Duration::from_secs(120).as_nanos() as u64)
        .unwrap();
    assert_eq!(
        verdict(&mut h, &advert(150, 50, master)),
        XDP_PASS,
        "stale agent"
    );

    // Not following: everything passes.
    h.maps.heartbeat(monotonic_ns()).unwrap();
    h.maps
        .set_vrid_following(
            TEST_RUN_IFINDEX,
            4,
            IpFamily::V4,
            VridPolicy::default(),
            None,
        )
        .unwrap();
    assert_eq!(verdict(&mut h, &routine), XDP_PASS);
    assert_eq!(verdict(&mut h, &routine), XDP_PASS);
    let counters = h.maps.counters().unwrap();
    assert_eq!(
        (
            counters.get(counter::ADVERTS_RECORDED),
            counters.get(counter::ADVERTS_DROPPED)
        ),
        (11, 3)
    );
}

#[test]
fn arp_and_other_traffic_pass_without_a_record() {
    if !kernel_tests_enabled() {
        return;
    }
    let mut h = harness(&[1]);
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

    for frame in [&arp, &udp] {
        assert_eq!(h.passes(frame), vec![]);
    }
}

#[test]
fn every_truncation_of_an_advert_passes_without_a_record() {
    if !kernel_tests_enabled() {
        return;
    }
    let mut h = harness(&[1]);
    let v4 = advert_frame_v4(
        &frames::Advert::v3(1, 100, 100),
        Ipv4Addr::new(192, 0, 2, 1),
        255,
    );
    let mut advert_v6 = frames::Advert::v3(1, 100, 100);
    advert_v6.addresses_v6 = vec!["2001:db8::100".parse().unwrap()];
    let v6 = advert_frame_v6(&advert_v6, "fe80::1".parse().unwrap(), 255);
    // The program needs the 8-byte VRRP header; anything shorter is not an advert to it.
    let cases = [
        (v4.clone(), 14 + 20 + 8),
        (v6.clone(), 14 + 40 + 8),
        (vlan_tagged(&v4, 7), 18 + 20 + 8),
        (vlan_tagged(&v6, 7), 18 + 40 + 8),
    ];

    for (frame, header_end) in &cases {
        for len in 0..*header_end {
            let result = h.program.test_run(&frame[..len]);
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
        assert_eq!(h.drain(), vec![], "a truncated frame made a record");
        assert_eq!(h.passes(frame).len(), 1, "the whole frame is recorded");
    }
    assert!(h.maps.counters().unwrap().get(counter::MALFORMED) > 0);
}

/// auth_hmac in enforce mode: an advert with no room for the trailer is dropped at the driver
/// (the agent would refuse it); one with room passes to the socket unrecorded, the followed
/// master's included (a record proves nothing before the MAC is checked). A stale agent gets
/// them all passed again.
#[test]
fn an_enforced_auth_vrid_drops_unsigned_adverts_and_records_none() {
    if !kernel_tests_enabled() {
        return;
    }
    let mut h = harness(&[]);
    let master = Ipv4Addr::new(192, 0, 2, 1);
    let policy = VridPolicy {
        authenticated: true,
        trailer_required: true,
        ..VridPolicy::default()
    };
    h.follow(master, policy);
    let unsigned = advert_frame_v4(&frames::Advert::v3(4, 150, 100), master, 255);
    let signed = frames::with_garbage_trailer(unsigned.clone(), 0);

    let (verdict, _) = h.program.test_run(&unsigned).unwrap();
    assert_eq!(verdict, XDP_DROP, "no room for the trailer");
    for _ in 0..3 {
        assert_eq!(
            h.passes(&signed),
            vec![],
            "passed for verification, not recorded"
        );
    }
    // Padding as long as a trailer, which the IP length does not count.
    let mut padded = unsigned.clone();
    padded.resize(signed.len(), 0);
    let (verdict, _) = h.program.test_run(&padded).unwrap();
    assert_eq!(verdict, XDP_DROP, "the IP length, not the frame, decides");

    h.maps
        .heartbeat(monotonic_ns() - Duration::from_secs(120).as_nanos() as u64)
        .unwrap();
    assert_eq!(
        h.passes(&unsigned),
        vec![],
        "stale agent: the kernel's default"
    );

    // Permissive and receive-only modes accept unsigned adverts: nothing is dropped.
    h.maps.heartbeat(monotonic_ns()).unwrap();
    let permissive = VridPolicy {
        trailer_required: false,
        ..policy
    };
    h.maps
        .set_vrid(TEST_RUN_IFINDEX, 4, IpFamily::V4, permissive)
        .unwrap();
    assert_eq!(h.passes(&unsigned), vec![]);
    let counters = h.maps.counters().unwrap();
    assert_eq!(
        (
            counters.get(counter::ADVERTS_UNSIGNED),
            counters.get(counter::ADVERTS_RECORDED)
        ),
        (2, 0)
    );
}

/// Adverts from routers other than the followed master, and adverts failing an invariant,
/// reach the agent at a bounded rate (the news allowance: a burst of `NEWS_BURST`, then one per
/// period), the rest are dropped and counted; the followed master's are never held back.
#[test]
fn the_news_allowance_bounds_other_routers_adverts_but_never_the_masters() {
    if !kernel_tests_enabled() {
        return;
    }
    let mut h = harness(&[]);
    let master = Ipv4Addr::new(192, 0, 2, 1);
    let attacker = Ipv4Addr::new(192, 0, 2, 66);
    // 100 ms adverts: one more from others per millisecond.
    let policy = VridPolicy {
        advert_interval: Some(Duration::from_millis(100)),
        ..VridPolicy::default()
    };
    h.follow(master, policy);
    let forged = advert_frame_v4(&frames::Advert::v3(4, 255, 100), attacker, 255);
    let from_master = advert_frame_v4(&frames::Advert::v3(4, 150, 100), master, 255);

    // Failing an invariant (here the TTL) draws on the same allowance, whoever the source.
    let bad_ttl = advert_frame_v4(&frames::Advert::v3(4, 150, 100), master, 64);
    let mut bad_ttl_passed = 0;
    for _ in 0..2 * NEWS_BURST {
        if h.program.test_run(&bad_ttl).unwrap().0 == XDP_PASS {
            bad_ttl_passed += 1;
        }
    }
    assert!(bad_ttl_passed < 2 * NEWS_BURST, "{bad_ttl_passed} passed");
    assert!(h.drain().is_empty());
    std::thread::sleep(Duration::from_millis(u64::from(NEWS_BURST) + 1));
    let before = h.maps.counters().unwrap().get(counter::ADVERTS_THROTTLED);

    let flood = 4 * NEWS_BURST as usize;
    let started = std::time::Instant::now();
    let mut admitted = 0;
    for _ in 0..flood {
        let (verdict, _) = h.program.test_run(&forged).unwrap();
        if verdict == XDP_PASS {
            admitted += 1;
        }
        // Interleaved with the flood, every one of the master's adverts is recorded.
        h.program.test_run(&from_master).unwrap();
    }
    let refilled = started.elapsed().as_millis() as usize + 1;
    let records = h.drain();
    let throttled = h.maps.counters().unwrap().get(counter::ADVERTS_THROTTLED) - before;
    assert!(
        admitted >= NEWS_BURST as usize && admitted <= NEWS_BURST as usize + refilled,
        "{admitted} of {flood} admitted"
    );
    assert_eq!(throttled as usize, flood - admitted);
    let from = |src: Ipv4Addr| {
        records
            .iter()
            .filter(|r| r.source == IpAddr::V4(src))
            .count()
    };
    assert_eq!(from(master), flood, "the master's adverts are all recorded");
    assert_eq!(from(attacker), admitted, "only admitted news is recorded");
}
