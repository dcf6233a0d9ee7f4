//! Golden frames for the RFC 9747 BFD echo reflector (agent-ebpf/src/bfd.rs): a BFD echo packet
//! addressed to its sender comes back out of the driver with the Ethernet addresses swapped and
//! the TTL / hop limit one lower (its IPv4 checksum still right), while reflection is on and the
//! agent alive; anything else goes to the stack. Frames and checksums are built here byte by
//! byte, independently of the program.
use agent_common::counter;
use std::time::Duration;

use vipd::dataplane::xdp::{
    xdp_action::{XDP_PASS, XDP_TX},
    XdpMaps, XdpProgram,
};
use vipd_tests::{clock::monotonic_ns, kernel_tests_enabled};

const NODE_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x01];
const PEER_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x02];
const PEER_V4: [u8; 4] = [192, 0, 2, 2];
const OTHER_V4: [u8; 4] = [192, 0, 2, 9];
const PEER_V6: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];

/// RFC 1071 over `bytes`.
fn internet_checksum(bytes: &[u8]) -> u16 {
    let mut sum: u32 = bytes
        .chunks(2)
        .map(|w| u32::from(u16::from_be_bytes([w[0], *w.get(1).unwrap_or(&0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

fn udp(dst_port: u16) -> Vec<u8> {
    let payload = [0xbf, 0xd0, 0, 0, 0, 0, 0, 7];
    let mut udp = Vec::new();
    udp.extend_from_slice(&49152u16.to_be_bytes());
    udp.extend_from_slice(&dst_port.to_be_bytes());
    udp.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
    // UDP checksum 0: none (IPv4); the reflector never reads it.
    udp.extend_from_slice(&[0, 0]);
    udp.extend_from_slice(&payload);
    udp
}

/// An IPv4 BFD echo frame from `src` to `dst` with `ttl`, UDP to `dst_port`.
fn echo_v4(src: [u8; 4], dst: [u8; 4], ttl: u8, dst_port: u16) -> Vec<u8> {
    let udp = udp(dst_port);
    let mut ip = vec![0x45, 0, 0, 0, 0x12, 0x34, 0x40, 0, ttl, 17, 0, 0];
    ip[2..4].copy_from_slice(&((20 + udp.len()) as u16).to_be_bytes());
    ip.extend_from_slice(&src);
    ip.extend_from_slice(&dst);
    let check = internet_checksum(&ip);
    ip[10..12].copy_from_slice(&check.to_be_bytes());
    let mut frame = Vec::new();
    frame.extend_from_slice(&NODE_MAC);
    frame.extend_from_slice(&PEER_MAC);
    frame.extend_from_slice(&[0x08, 0x00]);
    frame.extend_from_slice(&ip);
    frame.extend_from_slice(&udp);
    frame
}

fn echo_v6(hop_limit: u8) -> Vec<u8> {
    let udp = udp(3785);
    let mut frame = Vec::new();
    frame.extend_from_slice(&NODE_MAC);
    frame.extend_from_slice(&PEER_MAC);
    frame.extend_from_slice(&[0x86, 0xdd]);
    frame.extend_from_slice(&[0x60, 0, 0, 0]);
    frame.extend_from_slice(&(udp.len() as u16).to_be_bytes());
    frame.extend_from_slice(&[17, hop_limit]);
    frame.extend_from_slice(&PEER_V6);
    frame.extend_from_slice(&PEER_V6);
    frame.extend_from_slice(&udp);
    frame
}

fn program(reflect: bool) -> (XdpProgram, XdpMaps) {
    let mut program = XdpProgram::load().expect("load");
    let mut maps = program.take_maps().expect("maps");
    maps.set_deadman_bound(Duration::from_secs(60)).unwrap();
    maps.heartbeat(monotonic_ns()).unwrap();
    maps.set_bfd_echo(reflect).unwrap();
    (program, maps)
}

#[test]
fn an_echo_addressed_to_its_sender_is_forwarded_back_at_the_driver() {
    if !kernel_tests_enabled() {
        return;
    }
    let (mut program, maps) = self::program(true);
    let frame = echo_v4(PEER_V4, PEER_V4, 255, 3785);
    let (verdict, out) = program.test_run(&frame).unwrap();
    assert_eq!(verdict, XDP_TX);
    assert_eq!(&out[0..6], &PEER_MAC, "back to the sender");
    assert_eq!(&out[6..12], &NODE_MAC);
    assert_eq!(out[14 + 8], 254, "one hop forwarded");
    assert_eq!(
        internet_checksum(&out[14..34]),
        0,
        "the IPv4 checksum still verifies"
    );
    let mut expected = echo_v4(PEER_V4, PEER_V4, 254, 3785);
    expected[0..6].copy_from_slice(&PEER_MAC);
    expected[6..12].copy_from_slice(&NODE_MAC);
    assert_eq!(out, expected, "nothing else changes");
    assert_eq!(maps.counters().unwrap().get(counter::BFD_ECHO_REFLECTED), 1);

    let (verdict, out) = program.test_run(&echo_v6(64)).unwrap();
    assert_eq!(verdict, XDP_TX);
    assert_eq!(&out[0..6], &PEER_MAC);
    assert_eq!(out[14 + 7], 63);
}

#[test]
fn anything_else_goes_to_the_stack() {
    if !kernel_tests_enabled() {
        return;
    }
    let (mut program, mut maps) = self::program(true);
    for (frame, what) in [
        (
            echo_v4(PEER_V4, OTHER_V4, 255, 3785),
            "addressed to someone else",
        ),
        (echo_v4(PEER_V4, PEER_V4, 255, 3784), "a control packet"),
        (echo_v4(PEER_V4, PEER_V4, 1, 3785), "no hop left"),
    ] {
        let (verdict, out) = program.test_run(&frame).unwrap();
        assert_eq!(verdict, XDP_PASS, "{what}");
        assert_eq!(out, frame, "{what}: untouched");
    }
    maps.heartbeat(0).unwrap();
    let frame = echo_v4(PEER_V4, PEER_V4, 255, 3785);
    assert_eq!(program.test_run(&frame).unwrap().0, XDP_PASS, "agent dead");
    assert_eq!(
        program.test_run(&echo_v6(255)).unwrap().0,
        XDP_PASS,
        "agent dead"
    );
    assert_eq!(maps.counters().unwrap().get(counter::BFD_ECHO_REFLECTED), 0);

    drop(program);
    let (mut off, _maps) = self::program(false);
    assert_eq!(off.test_run(&frame).unwrap().0, XDP_PASS, "reflection off");
}
