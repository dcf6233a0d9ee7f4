//! Golden frames for the ARP and NA responders, Katran style: an input frame through
//! BPF_PROG_TEST_RUN, the expected verdict and the exact output frame. Expected replies come from
//! `vipd_tests::frames`, built from the RFCs independently of the program.
//!
//! Under BPF_PROG_TEST_RUN the ingress interface is the loopback of the calling thread's
//! namespace, ifindex 1, which the owned-VIP entries here are keyed with.
use agent_common::counter;
use std::{
    net::{IpAddr, Ipv4Addr, Ipv6Addr},
    time::Duration,
};

use vipd::dataplane::xdp::{
    xdp_action::{XDP_DROP, XDP_PASS, XDP_TX},
    XdpMaps, XdpProgram, TEST_RUN_IFINDEX,
};
use vipd_tests::{
    clock::monotonic_ns,
    frames::{self, arp, arp_reply, arp_request, neighbor_advertisement, neighbor_solicitation},
    frames::{icmpv6_checksum, icmpv6_frame, vlan_tagged, ARP_REPLY, ARP_REQUEST, ETH_HLEN},
    kernel_tests_enabled,
};

const VIP4: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 100);
const VIP6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x100);
const OWNER_MAC: [u8; 6] = [0x00, 0x00, 0x5e, 0x00, 0x01, 0x33];
const CLIENT_MAC: [u8; 6] = [0x02, 0xc1, 0x1e, 0x47, 0x00, 0x01];
const CLIENT4: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
const CLIENT6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1);

struct Responder {
    program: XdpProgram,
    maps: XdpMaps,
}

/// The program owning VIP4 and VIP6 on the test-run interface with a fresh heartbeat.
fn responder() -> Responder {
    let mut program = XdpProgram::load().expect("load the XDP program");
    let mut maps = program.take_maps().expect("control maps");
    for vip in [IpAddr::V4(VIP4), IpAddr::V6(VIP6)] {
        maps.own_vip(TEST_RUN_IFINDEX, vip, OWNER_MAC, 51)
            .expect("own VIP");
    }
    maps.set_deadman_bound(Duration::from_secs(60)).unwrap();
    maps.heartbeat(monotonic_ns()).unwrap();
    Responder { program, maps }
}

impl Responder {
    fn answers(&mut self, frame: &[u8], expected: &[u8]) {
        let (verdict, out) = self.program.test_run(frame).unwrap();
        assert_eq!(verdict, XDP_TX, "expected an answer to {frame:02x?}");
        assert_eq!(out, expected);
    }

    fn passes(&mut self, frame: &[u8]) {
        let (verdict, out) = self.program.test_run(frame).unwrap();
        assert_eq!(verdict, XDP_PASS, "expected a pass of {frame:02x?}");
        assert_eq!(out, frame, "a passed frame must be untouched");
    }

    fn drops(&mut self, frame: &[u8]) {
        let (verdict, _) = self.program.test_run(frame).unwrap();
        assert_eq!(verdict, XDP_DROP, "expected a drop of {frame:02x?}");
    }
}

#[test]
fn arp_request_for_an_owned_vip_gets_the_exact_reply() {
    if !kernel_tests_enabled() {
        return;
    }
    let mut r = responder();
    let request = arp_request(CLIENT_MAC, CLIENT4, VIP4);
    let reply = arp_reply(OWNER_MAC, VIP4, CLIENT_MAC, CLIENT4);

    r.answers(&request, &reply);
    // On the wire the request is padded to 60 bytes; the padding rides along unchanged.
    let mut padded = request.clone();
    padded.resize(60, 0);
    let mut padded_reply = reply.clone();
    padded_reply.resize(60, 0);
    r.answers(&padded, &padded_reply);
    // An ARP probe (RFC 5227, sender 0.0.0.0) for the VIP is defended the same way.
    let unspecified = Ipv4Addr::UNSPECIFIED;
    r.answers(
        &arp_request(CLIENT_MAC, unspecified, VIP4),
        &arp_reply(OWNER_MAC, VIP4, CLIENT_MAC, unspecified),
    );

    let counters = r.maps.counters().unwrap();
    assert_eq!(
        (
            counters.get(counter::ARP_ANSWERED),
            counters.get(counter::PASSED)
        ),
        (3, 0)
    );
}

#[test]
fn vlan_tagged_arp_request_gets_a_reply_on_the_same_vlan() {
    if !kernel_tests_enabled() {
        return;
    }
    let mut r = responder();
    let tci = 0x2000 | 42;
    r.answers(
        &vlan_tagged(&arp_request(CLIENT_MAC, CLIENT4, VIP4), tci),
        &vlan_tagged(&arp_reply(OWNER_MAC, VIP4, CLIENT_MAC, CLIENT4), tci),
    );
}

#[test]
fn arp_that_is_not_a_request_for_an_owned_vip_passes() {
    if !kernel_tests_enabled() {
        return;
    }
    let mut r = responder();
    let not_owned = arp_request(CLIENT_MAC, CLIENT4, Ipv4Addr::new(192, 0, 2, 101));
    let reply = arp(ARP_REPLY, OWNER_MAC, CLIENT_MAC, CLIENT4, OWNER_MAC, VIP4);
    let gratuitous = arp(ARP_REQUEST, [0xff; 6], CLIENT_MAC, VIP4, [0; 6], VIP4);
    let request = arp_request(CLIENT_MAC, CLIENT4, VIP4);
    let malformed = [
        (15, 6),    // htype 6 (IEEE 802) instead of 1 (Ethernet)
        (17, 0xdd), // ptype 0x08dd instead of 0x0800 (IPv4)
        (18, 8),    // hlen 8 instead of 6
        (19, 16),   // plen 16 instead of 4
    ]
    .map(|(at, byte)| {
        let mut frame = request.clone();
        frame[at] = byte;
        frame
    });

    for frame in [&not_owned, &reply, &gratuitous] {
        r.passes(frame);
    }
    for frame in &malformed {
        r.passes(frame);
    }
    let counters = r.maps.counters().unwrap();
    assert_eq!(counters.get(counter::MALFORMED), 4);
    assert_eq!(counters.get(counter::ARP_ANSWERED), 0);
}

#[test]
fn arp_request_on_another_interface_passes() {
    if !kernel_tests_enabled() {
        return;
    }
    let mut r = responder();
    r.maps
        .disown_vip(TEST_RUN_IFINDEX, IpAddr::V4(VIP4))
        .unwrap();
    r.maps
        .own_vip(TEST_RUN_IFINDEX + 1, IpAddr::V4(VIP4), OWNER_MAC, 51)
        .unwrap();
    r.passes(&arp_request(CLIENT_MAC, CLIENT4, VIP4));
    // Disowning twice is fine.
    r.maps
        .disown_vip(TEST_RUN_IFINDEX, IpAddr::V4(VIP4))
        .unwrap();
}

#[test]
fn every_truncation_of_a_request_passes_untouched() {
    if !kernel_tests_enabled() {
        return;
    }
    let mut r = responder();
    let arp = arp_request(CLIENT_MAC, CLIENT4, VIP4);
    let ns = neighbor_solicitation(CLIENT_MAC, CLIENT6, VIP6);
    // What the program needs to answer: the whole ARP packet; of a solicitation the IPv6 header
    // and the 24-byte message, not the options.
    let requests = [
        (arp.clone(), 14 + 28),
        (vlan_tagged(&arp, 3), 18 + 28),
        (ns.clone(), 14 + 40 + 24),
        (vlan_tagged(&ns, 3), 18 + 40 + 24),
    ];
    for (request, needed) in &requests {
        for len in ETH_HLEN..*needed {
            r.passes(&request[..len]);
        }
    }
    let counters = r.maps.counters().unwrap();
    assert_eq!(
        counters.get(counter::ARP_ANSWERED) + counters.get(counter::NA_ANSWERED),
        0
    );
}

#[test]
fn neighbor_solicitation_for_an_owned_vip_gets_the_exact_advertisement() {
    if !kernel_tests_enabled() {
        return;
    }
    let mut r = responder();
    let solicitation = neighbor_solicitation(CLIENT_MAC, CLIENT6, VIP6);
    let advertisement = neighbor_advertisement(OWNER_MAC, VIP6, CLIENT_MAC, CLIENT6);

    let (verdict, out) = r.program.test_run(&solicitation).unwrap();

    assert_eq!(verdict, XDP_TX);
    assert_eq!(out, advertisement);
    // The program's checksum, checked against the independent computation on its own output.
    let message = &out[ETH_HLEN + 40..];
    let in_frame = u16::from_be_bytes([message[2], message[3]]);
    assert_eq!(in_frame, icmpv6_checksum(VIP6, CLIENT6, message));
    assert_eq!(message[4], 0x60, "Solicited and Override");
    assert_eq!(r.maps.counters().unwrap().get(counter::NA_ANSWERED), 1);
}

#[test]
fn duplicate_address_detection_is_answered_to_all_nodes_without_solicited() {
    if !kernel_tests_enabled() {
        return;
    }
    let mut r = responder();
    // From :: there is no source link-layer option: the frame grows by 8 bytes for the answer.
    let probe = neighbor_solicitation(CLIENT_MAC, Ipv6Addr::UNSPECIFIED, VIP6);
    let expected = neighbor_advertisement(OWNER_MAC, VIP6, CLIENT_MAC, Ipv6Addr::UNSPECIFIED);
    assert_eq!(probe.len() + 8, expected.len());
    r.answers(&probe, &expected);
    assert_eq!(expected[ETH_HLEN + 40 + 4], 0x20, "Override only");
}

#[test]
fn a_longer_solicitation_is_trimmed_to_the_advertisement() {
    if !kernel_tests_enabled() {
        return;
    }
    let mut r = responder();
    // A solicitation with a nonce option (RFC 3971 type 14) after the link-layer address.
    let mut message = vec![frames::ICMPV6_NS, 0, 0, 0, 0, 0, 0, 0];
    message.extend_from_slice(&VIP6.octets());
    message.extend_from_slice(&[1, 1]);
    message.extend_from_slice(&CLIENT_MAC);
    message.extend_from_slice(&[14, 1, 1, 2, 3, 4, 5, 6]);
    let group = frames::solicited_node(VIP6);
    let solicitation = icmpv6_frame(
        frames::ipv6_multicast_mac(group),
        CLIENT_MAC,
        CLIENT6,
        group,
        255,
        &message,
    );
    r.answers(
        &solicitation,
        &neighbor_advertisement(OWNER_MAC, VIP6, CLIENT_MAC, CLIENT6),
    );
}

#[test]
fn vlan_tagged_solicitation_gets_a_tagged_advertisement() {
    if !kernel_tests_enabled() {
        return;
    }
    let mut r = responder();
    r.answers(
        &vlan_tagged(&neighbor_solicitation(CLIENT_MAC, CLIENT6, VIP6), 42),
        &vlan_tagged(
            &neighbor_advertisement(OWNER_MAC, VIP6, CLIENT_MAC, CLIENT6),
            42,
        ),
    );
}

#[test]
fn solicitations_that_are_not_for_an_owned_vip_or_not_valid_pass() {
    if !kernel_tests_enabled() {
        return;
    }
    let mut r = responder();
    let not_owned = neighbor_solicitation(
        CLIENT_MAC,
        CLIENT6,
        "2001:db8::101".parse::<Ipv6Addr>().unwrap(),
    );
    let mut hop_limit_254 = neighbor_solicitation(CLIENT_MAC, CLIENT6, VIP6);
    hop_limit_254[ETH_HLEN + 7] = 254;
    let mut code_1 = neighbor_solicitation(CLIENT_MAC, CLIENT6, VIP6);
    code_1[ETH_HLEN + 41] = 1;
    // Duplicate address detection must go to the solicited-node group (RFC 4861 7.1.1).
    let mut message = vec![frames::ICMPV6_NS, 0, 0, 0, 0, 0, 0, 0];
    message.extend_from_slice(&VIP6.octets());
    let dad_to_unicast = icmpv6_frame(
        OWNER_MAC,
        CLIENT_MAC,
        Ipv6Addr::UNSPECIFIED,
        VIP6,
        255,
        &message,
    );
    // An advertisement for the VIP from someone else is news for the kernel, not a question.
    let foreign_na = neighbor_advertisement(CLIENT_MAC, VIP6, OWNER_MAC, CLIENT6);

    for frame in [
        &not_owned,
        &hop_limit_254,
        &code_1,
        &dad_to_unicast,
        &foreign_na,
    ] {
        r.passes(frame);
    }
    let counters = r.maps.counters().unwrap();
    assert_eq!(
        (
            counters.get(counter::MALFORMED),
            counters.get(counter::NA_ANSWERED)
        ),
        (3, 0)
    );
}

/// A hung agent's node must answer for its VIPs neither from XDP nor from the kernel (which still
/// holds the addresses): the requests are dropped, not passed.
#[test]
fn a_stale_or_missing_heartbeat_mutes_the_owned_vips() {
    if !kernel_tests_enabled() {
        return;
    }
    let mut r = responder();
    let arp = arp_request(CLIENT_MAC, CLIENT4, VIP4);
    let ns = neighbor_solicitation(CLIENT_MAC, CLIENT6, VIP6);
    r.maps.set_deadman_bound(Duration::from_secs(1)).unwrap();

    r.maps
        .heartbeat(monotonic_ns() - Duration::from_secs(5).as_nanos() as u64)
        .unwrap();
    r.drops(&arp);
    r.drops(&ns);
    r.passes(&arp_request(
        CLIENT_MAC,
        CLIENT4,
        Ipv4Addr::new(192, 0, 2, 7),
    ));

    r.maps.heartbeat(0).unwrap();
    r.drops(&arp);

    r.maps.heartbeat(monotonic_ns()).unwrap();
    let (verdict, _) = r.program.test_run(&arp).unwrap();
    assert_eq!(verdict, XDP_TX, "a fresh heartbeat brings the answers back");

    let counters = r.maps.counters().unwrap();
    assert_eq!(
        (
            counters.get(counter::DEADMAN_SUPPRESSED),
            counters.get(counter::ARP_ANSWERED)
        ),
        (3, 1)
    );
}

#[test]
fn nothing_is_answered_before_the_agent_sets_the_deadman_bound() {
    if !kernel_tests_enabled() {
        return;
    }
    let mut program = XdpProgram::load().unwrap();
    let mut maps = program.take_maps().unwrap();
    maps.own_vip(TEST_RUN_IFINDEX, IpAddr::V4(VIP4), OWNER_MAC, 1)
        .unwrap();
    maps.heartbeat(monotonic_ns()).unwrap();
    let request = arp_request(CLIENT_MAC, CLIENT4, VIP4);
    let (verdict, _) = program.test_run(&request).unwrap();
    assert_eq!(verdict, XDP_DROP);
}
