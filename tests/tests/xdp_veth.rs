//! The XDP program on a real veth in a network namespace: adverts sent from a raw socket in the
//! peer namespace arrive through the ring buffer, stamped at the driver.
use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use std::{
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    time::{Duration, Instant},
};
use vipd::family::IpFamily;

use vipd::dataplane::xdp::{Advert, AttachMode, VridPolicy, XdpProgram};
use vipd_tests::{
    clock::monotonic_ns,
    frames::{self, VRRP_MCAST_V4, VRRP_MCAST_V6},
    kernel_tests_enabled,
    netns::{veth, Netns},
};

const SENDER_IF: &str = "snd0";
const RECEIVER_IF: &str = "rcv0";
const SENDER_V4: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
const SENDER_V6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1);

fn vrrp_socket(domain: Domain) -> Socket {
    let socket = Socket::new(domain, Type::RAW, Some(Protocol::from(112))).expect("raw socket");
    socket
        .bind_device(Some(SENDER_IF.as_bytes()))
        .expect("SO_BINDTODEVICE");
    socket
}

/// Waits for `count` records, failing after a generous deadline (this is not a timing test).
fn collect(ring: &mut vipd::dataplane::xdp::AdvertRing, count: usize) -> Vec<Advert> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut records = Vec::new();
    while records.len() < count && Instant::now() < deadline {
        match ring.try_next() {
            Some(advert) => records.push(advert),
            None => std::thread::sleep(Duration::from_millis(1)),
        }
    }
    records
}

#[test]
fn adverts_from_the_peer_namespace_arrive_stamped_at_the_driver() {
    if !kernel_tests_enabled() {
        return;
    }
    let sender = Netns::new("snd");
    let receiver = Netns::new("rcv");
    veth(&sender, SENDER_IF, &receiver, RECEIVER_IF);
    sender.exec(&["ip", "addr", "add", "192.0.2.1/24", "dev", SENDER_IF]);
    sender.exec(&[
        "ip",
        "addr",
        "add",
        "2001:db8::1/64",
        "dev",
        SENDER_IF,
        "nodad",
    ]);

    let mut program = XdpProgram::load().expect("load");
    let mut ring = program.take_adverts().expect("ring");
    let mut maps = program.take_maps().expect("maps");
    let attachment = receiver
        .run(|| program.attach(RECEIVER_IF, AttachMode::Driver))
        .expect("attach");
    // veth supports native XDP, and receiving needs no program on the peer.
    assert_eq!(attachment.mode, AttachMode::Driver);
    let receiver_ifindex = receiver.ifindex(RECEIVER_IF);
    assert_eq!(attachment.ifindex, receiver_ifindex);
    maps.set_vrid(receiver_ifindex, 51, IpFamily::V4, VridPolicy::default())
        .unwrap();
    maps.set_vrid(receiver_ifindex, 52, IpFamily::V6, VridPolicy::default())
        .unwrap();

    let sent = 5u8;
    let (before, after_send) = sender.run(|| {
        let v4 = vrrp_socket(Domain::IPV4);
        v4.set_multicast_ttl_v4(255).unwrap();
        let v6 = vrrp_socket(Domain::IPV6);
        v6.set_multicast_hops_v6(255).unwrap();
        let before = monotonic_ns();
        for priority in 1..=sent {
            let msg = frames::Advert::v3(51, priority, 100).message_v4(SENDER_V4, VRRP_MCAST_V4);
            let dst = SockAddr::from(SocketAddr::new(VRRP_MCAST_V4.into(), 0));
            v4.send_to(&msg, &dst).expect("send IPv4 advert");
        }
        let mut advert = frames::Advert::v3(52, 100, 100);
        advert.addresses_v6 = vec!["2001:db8::100".parse().unwrap()];
        let msg = advert.message_v6(SENDER_V6, VRRP_MCAST_V6);
        let dst = SockAddr::from(SocketAddr::new(VRRP_MCAST_V6.into(), 0));
        v6.send_to(&msg, &dst).expect("send IPv6 advert");
        (before, monotonic_ns())
    });

    let records = collect(&mut ring, usize::from(sent) + 1);
    let after = monotonic_ns();
    assert_eq!(records.len(), usize::from(sent) + 1, "{records:?}");
    for record in &records {
        assert!(
            (before..=after).contains(&record.ktime_ns),
            "driver stamp {} outside [{before}, {after}] (send done at {after_send})",
            record.ktime_ns
        );
        assert_eq!(record.ifindex, receiver_ifindex);
        assert_eq!(record.ttl, 255);
    }
    let v4: Vec<_> = records.iter().filter(|r| r.vrid == 51).collect();
    assert_eq!(
        v4.iter().map(|r| r.priority).collect::<Vec<_>>(),
        (1..=sent).collect::<Vec<_>>(),
        "IPv4 adverts arrive in order"
    );
    assert!(v4.iter().all(|r| r.source == IpAddr::V4(SENDER_V4)));
    assert!(v4.windows(2).all(|w| w[0].ktime_ns <= w[1].ktime_ns));
    let v6: Vec<_> = records.iter().filter(|r| r.vrid == 52).collect();
    assert_eq!(v6.len(), 1);
    assert_eq!(v6[0].source, IpAddr::V6(SENDER_V6));
}
