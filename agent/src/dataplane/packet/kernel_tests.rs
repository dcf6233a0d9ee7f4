//! The packet sockets against a real kernel: two network namespaces joined by a veth pair,
//! a socket in each, traffic only between them.

use std::io::Read;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, Socket, Type};

use super::announce_socket::link_address;
use super::*;
use crate::vrrp::wire::{VRRP_GROUP_V4, VRRP_GROUP_V6};
use vipd_testkit::Netns;

const IF_A: &str = "vpa";
const IF_B: &str = "vpb";
const MAC_A: [u8; 6] = [0x02, 0, 0, 0, 0, 0x0a];
const MAC_A_TEXT: &str = "02:00:00:00:00:0a";
const VMAC: [u8; 6] = [0x00, 0x00, 0x5e, 0x00, 0x01, 0x33];
const VMAC_TEXT: &str = "00:00:5e:00:01:33";
const STALE_MAC_TEXT: &str = "02:00:00:00:00:99";

const A_V4: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
const A_V4_SECONDARY: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 11);
const B_V4: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 2);
const A_LINK_LOCAL: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0xa);
const B_V6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2);
const VIP_V4: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 100);
const VIP_V6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x64);

/// Arbitrary bytes: the sockets do not interpret what they carry.
const PAYLOAD: [u8; 12] = [
    0x31, 0x2a, 0x64, 0x01, 0x00, 0x01, 0xde, 0xad, 0xc0, 0x00, 0x02, 0x64,
];
/// Generous: only "it eventually happens" is asserted, never how fast.
const PATIENCE: Duration = Duration::from_secs(10);

/// Namespaces `a` and `b`, `vpa` in a and `vpb` in b, with 192.0.2.{1,2}/24,
/// 2001:db8::{1,2}/64 and link-locals fe80::{a,b}, all usable at once (no DAD).
struct Link {
    a: Netns,
    b: Netns,
}

fn link() -> Link {
    let link = Link {
        a: Netns::new("pa"),
        b: Netns::new("pb"),
    };
    link.a.ip(&[
        "link",
        "add",
        IF_A,
        "type",
        "veth",
        "peer",
        "name",
        IF_B,
        "netns",
        link.b.name(),
    ]);
    for (netns, interface, mac, v4, v6, link_local) in [
        (
            &link.a,
            IF_A,
            MAC_A_TEXT,
            "192.0.2.1/24",
            "2001:db8::1/64",
            "fe80::a/64",
        ),
        (
            &link.b,
            IF_B,
            "02:00:00:00:00:0b",
            "192.0.2.2/24",
            "2001:db8::2/64",
            "fe80::b/64",
        ),
    ] {
        netns.ip(&[
            "link",
            "set",
            "dev",
            interface,
            "address",
            mac,
            "addrgenmode",
            "none",
        ]);
        netns.ip(&["addr", "add", v4, "dev", interface]);
        netns.ip(&["addr", "add", v6, "dev", interface, "nodad"]);
        netns.ip(&["addr", "add", link_local, "dev", interface, "nodad"]);
        netns.ip(&["link", "set", "dev", interface, "up"]);
    }
    // IPv6 configures a veth only once the kernel's link watcher has seen the carrier come up,
    // asynchronously; until then the multicast route is missing and group traffic is refused.
    for (netns, interface) in [(&link.a, IF_A), (&link.b, IF_B)] {
        let deadline = Instant::now() + PATIENCE;
        while netns
            .ip(&[
                "-6", "route", "show", "table", "local", "ff00::/8", "dev", interface,
            ])
            .is_empty()
        {
            assert!(
                Instant::now() < deadline,
                "IPv6 never came up on {interface}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    link
}

fn group(family: IpFamily) -> IpAddr {
    match family {
        IpFamily::V4 => IpAddr::V4(VRRP_GROUP_V4),
        IpFamily::V6 => IpAddr::V6(VRRP_GROUP_V6),
    }
}

fn b_unicast(family: IpFamily) -> IpAddr {
    match family {
        IpFamily::V4 => IpAddr::V4(B_V4),
        IpFamily::V6 => IpAddr::V6(B_V6),
    }
}

/// The socket pair of a test: `a` sends, `b` receives (joined to the group when `join`).
fn sockets(
    link: &Link,
    family: IpFamily,
    a_source: Option<IpAddr>,
    join: bool,
) -> (VrrpSocket, VrrpSocket) {
    let a = link
        .a
        .run(|| VrrpSocket::open(IF_A, family, a_source, AdvertProtocol::Vrrp).expect("open in a"));
    let b = link.b.run(|| {
        let mut b = VrrpSocket::open(IF_B, family, None, AdvertProtocol::Vrrp).expect("open in b");
        if join {
            b.join_group().expect("join in b");
        }
        b
    });
    (a, b)
}

/// Waits (patiently) for the next VRRP message on `socket`.
fn recv_one(socket: &VrrpSocket) -> (Vec<u8>, RecvMeta) {
    let deadline = Instant::now() + PATIENCE;
    let mut buf = [0u8; 1500];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(
            !left.is_zero(),
            "no VRRP packet arrived on {}",
            socket.interface()
        );
        let mut pollfd = libc::pollfd {
            fd: socket.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd, for a socket that outlives the call.
        let ready = unsafe { libc::poll(&mut pollfd, 1, left.as_millis() as libc::c_int) };
        assert!(ready >= 0, "poll: {}", std::io::Error::last_os_error());
        match socket.recv(&mut buf) {
            Ok(received) => return (received.payload.to_vec(), received.meta),
            Err(err) if err.is_would_block() => continue,
            Err(err) => panic!("recv: {err}"),
        }
    }
}

fn assert_vrrp_metadata(
    meta: &RecvMeta,
    receiver: &VrrpSocket,
    source: IpAddr,
    destination: IpAddr,
) {
    assert_eq!(meta.source, source);
    assert_eq!(meta.destination, destination);
    assert_eq!(meta.ttl, 255, "TTL / hop limit must arrive as 255");
    assert_eq!(meta.ifindex, receiver.ifindex());
    let kernel_rx = meta.kernel_rx.expect("the kernel stamps received packets");
    assert!(
        kernel_rx <= meta.recv_at,
        "{kernel_rx:?} after {:?}",
        meta.recv_at
    );
}

fn multicast_advert_crosses_the_link(family: IpFamily) {
    let link = link();
    let (a, b) = sockets(&link, family, None, true);
    a.send_advert(&PAYLOAD, group(family)).expect("send");
    let (payload, meta) = recv_one(&b);
    assert_eq!(payload, PAYLOAD);
    assert_vrrp_metadata(&meta, &b, a.source(), group(family));
}

#[test]
fn ipv4_multicast_advert_arrives_from_the_primary_address_with_ttl_255() {
    multicast_advert_crosses_the_link(IpFamily::V4);
}

#[test]
fn ipv6_multicast_advert_arrives_from_the_link_local_address_with_hop_limit_255() {
    multicast_advert_crosses_the_link(IpFamily::V6);
}

#[test]
fn default_sources_are_the_primary_ipv4_and_the_link_local_ipv6_address() {
    let link = link();
    link.a.ip(&["addr", "add", "192.0.2.11/24", "dev", IF_A]);
    let (v4, _) = sockets(&link, IpFamily::V4, None, false);
    let (v6, _) = sockets(&link, IpFamily::V6, None, false);
    assert_eq!(v4.source(), IpAddr::V4(A_V4));
    assert_eq!(v6.source(), IpAddr::V6(A_LINK_LOCAL));
}

#[test]
fn refresh_source_follows_the_interface_but_not_a_configured_source() {
    let link = link();
    let (mut derived, _) = sockets(&link, IpFamily::V4, None, false);
    let (mut configured, _) = sockets(&link, IpFamily::V4, Some(IpAddr::V4(A_V4)), false);
    // The interface's primary address changes from .1 to .11.
    link.a.ip(&["addr", "del", "192.0.2.1/24", "dev", IF_A]);
    link.a.ip(&["addr", "add", "192.0.2.11/24", "dev", IF_A]);
    let refreshed = link.a.run(|| derived.refresh_source().expect("refresh"));
    assert_eq!(refreshed, IpAddr::V4(A_V4_SECONDARY));
    assert_eq!(derived.source(), IpAddr::V4(A_V4_SECONDARY));
    let kept = link.a.run(|| configured.refresh_source().expect("refresh"));
    assert_eq!(kept, IpAddr::V4(A_V4));
}

#[test]
fn ipv4_unicast_advert_leaves_from_the_configured_source() {
    let link = link();
    link.a.ip(&["addr", "add", "192.0.2.11/24", "dev", IF_A]);
    let (a, b) = sockets(&link, IpFamily::V4, Some(IpAddr::V4(A_V4_SECONDARY)), false);
    a.send_advert(&PAYLOAD, b_unicast(IpFamily::V4))
        .expect("send");
    let (payload, meta) = recv_one(&b);
    assert_eq!(payload, PAYLOAD);
    assert_vrrp_metadata(
        &meta,
        &b,
        IpAddr::V4(A_V4_SECONDARY),
        b_unicast(IpFamily::V4),
    );
}

#[test]
fn ipv6_unicast_advert_reaches_a_peer_that_joined_no_group() {
    let link = link();
    let (a, b) = sockets(&link, IpFamily::V6, None, false);
    a.send_advert(&PAYLOAD, b_unicast(IpFamily::V6))
        .expect("send");
    let (payload, meta) = recv_one(&b);
    assert_eq!(payload, PAYLOAD);
    assert_vrrp_metadata(&meta, &b, IpAddr::V6(A_LINK_LOCAL), b_unicast(IpFamily::V6));
}

fn leaving_the_group_stops_multicast_reception(family: IpFamily) {
    let link = link();
    let (a, mut b) = sockets(&link, family, None, true);
    a.send_advert(&PAYLOAD, group(family))
        .expect("send while joined");
    assert_eq!(recv_one(&b).1.destination, group(family));

    b.leave_group().expect("leave");
    a.send_advert(&PAYLOAD, group(family))
        .expect("send after leaving");
    // The link keeps order: the unicast marker sent after the group advert arrives first only
    // if the group advert was not delivered.
    let marker = [0xaa; 4];
    a.send_advert(&marker, b_unicast(family))
        .expect("send marker");
    let (payload, meta) = recv_one(&b);
    assert_eq!(
        (payload.as_slice(), meta.destination),
        (&marker[..], b_unicast(family))
    );
}

#[test]
fn ipv4_leaving_the_group_stops_multicast_reception() {
    leaving_the_group_stops_multicast_reception(IpFamily::V4);
}

#[test]
fn ipv6_leaving_the_group_stops_multicast_reception() {
    leaving_the_group_stops_multicast_reception(IpFamily::V6);
}

#[test]
fn async_socket_receives_on_tokio() {
    let link = link();
    let (a, b) = sockets(&link, IpFamily::V4, None, true);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
        .expect("tokio runtime");
    runtime.block_on(async {
        let b = AsyncVrrpSocket::new(b).expect("register with tokio");
        let mut buf = [0u8; 1500];
        a.send_advert(&PAYLOAD, group(IpFamily::V4)).expect("send");
        let received = tokio::time::timeout(PATIENCE, b.recv(&mut buf))
            .await
            .expect("an advert arrives")
            .expect("recv");
        assert_eq!(received.payload, PAYLOAD);
        assert_vrrp_metadata(&received.meta, b.get_ref(), a.source(), group(IpFamily::V4));
    });
}

#[test]
fn opening_without_a_source_address_names_the_interface() {
    let netns = Netns::new("pn");
    netns.ip(&[
        "link",
        "add",
        "vipd-bare",
        "type",
        "veth",
        "peer",
        "name",
        "vipd-bare-peer",
    ]);
    netns.ip(&[
        "link",
        "set",
        "dev",
        "vipd-bare",
        "addrgenmode",
        "none",
        "up",
    ]);
    for family in [IpFamily::V4, IpFamily::V6] {
        let err = netns
            .run(|| VrrpSocket::open("vipd-bare", family, None, AdvertProtocol::Vrrp))
            .unwrap_err();
        assert!(
            matches!(err, PacketError::NoSourceAddress { family: f, .. } if f == family),
            "{err}"
        );
        assert!(err.to_string().contains("vipd-bare"), "{err}");
    }
}

/// An AF_PACKET socket that sees every frame arriving on one interface.
struct Capture(Socket);

impl Capture {
    const ETH_P_ALL: u16 = 0x0003;

    fn open(interface: &str) -> Capture {
        let index = InterfaceInfo::lookup(interface)
            .expect("capture interface")
            .index;
        let protocol = Protocol::from(i32::from(Self::ETH_P_ALL.to_be()));
        let socket = Socket::new(Domain::PACKET, Type::RAW, Some(protocol)).expect("AF_PACKET");
        socket
            .bind(&link_address(index, Self::ETH_P_ALL, [0; 6]))
            .expect("bind capture");
        socket
            .set_read_timeout(Some(Duration::from_millis(200)))
            .expect("timeout");
        Capture(socket)
    }

    fn next_matching(&self, wanted: impl Fn(&[u8]) -> bool) -> Vec<u8> {
        let deadline = Instant::now() + PATIENCE;
        let mut frame = [0u8; 2048];
        while Instant::now() < deadline {
            match (&self.0).read(&mut frame) {
                Ok(len) if wanted(&frame[..len]) => return frame[..len].to_vec(),
                Ok(_) => {}
                Err(err)
                    if matches!(
                        err.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(err) => panic!("capture: {err}"),
            }
        }
        panic!("the expected frame never arrived");
    }
}

/// Polls `ip neigh` in `netns` until the entry for `address` carries `mac`.
fn wait_for_neighbour(netns: &Netns, address: &str, mac: &str) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let entry = netns.ip(&["neigh", "show", address, "dev", IF_B]);
        if entry.contains(mac) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "neighbour entry never learned {mac}: {entry:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn gratuitous_arp_arrives_byte_exact_and_updates_the_peer_arp_cache() {
    let link = link();
    // Linux refreshes an existing entry from a gratuitous ARP but (arp_accept=0) creates none:
    // the entry that matters is the one a client cached for the VIP's previous owner.
    link.b.ip(&[
        "neigh",
        "replace",
        "192.0.2.100",
        "lladdr",
        STALE_MAC_TEXT,
        "dev",
        IF_B,
        "nud",
        "stale",
    ]);
    let capture = link.b.run(|| Capture::open(IF_B));
    let announcer = link
        .a
        .run(|| AnnounceSocket::open(IF_A, Some(VMAC)).expect("open"));
    assert_eq!(announcer.sender_mac(), VMAC);

    announcer
        .send(Announcement::GratuitousArp(VIP_V4))
        .expect("send GARP");
    let frame = capture.next_matching(|frame| frame.len() >= 14 && frame[12..14] == [0x08, 0x06]);
    assert_eq!(frame, gratuitous_arp_frame(VIP_V4, VMAC));
    wait_for_neighbour(&link.b, "192.0.2.100", VMAC_TEXT);
}

#[test]
fn unsolicited_na_arrives_byte_exact_and_updates_the_peer_neighbour_cache() {
    let link = link();
    link.b.ip(&[
        "-6",
        "neigh",
        "replace",
        "2001:db8::64",
        "lladdr",
        STALE_MAC_TEXT,
        "dev",
        IF_B,
        "nud",
        "stale",
    ]);
    let capture = link.b.run(|| Capture::open(IF_B));
    let announcer = link
        .a
        .run(|| AnnounceSocket::open(IF_A, None).expect("open"));
    assert_eq!(
        announcer.sender_mac(),
        MAC_A,
        "defaults to the interface's MAC"
    );

    announcer
        .send(Announcement::UnsolicitedNa(VIP_V6))
        .expect("send NA");
    let is_na = |frame: &[u8]| {
        frame.len() > 54 && frame[12..14] == [0x86, 0xdd] && frame[20] == 58 && frame[54] == 136
    };
    let frame = capture.next_matching(is_na);
    assert_eq!(frame, unsolicited_na_frame(VIP_V6, MAC_A));
    wait_for_neighbour(&link.b, "2001:db8::64", MAC_A_TEXT);
}

#[test]
fn kernel_stamp_is_the_arrival_time_not_the_late_read() {
    let monotonic = || Duration::from_nanos(vipd_testkit::clock::monotonic_ns());
    let link = link();
    let (a, b) = sockets(&link, IpFamily::V4, None, true);
    let late = Duration::from_millis(20);
    let deadline = Instant::now() + PATIENCE;
    // Over veth the receiving kernel stamps the packet before send_advert returns; the first
    // packets after the socket asked for stamps may still be stamped at read time, hence a loop.
    loop {
        let before_send = monotonic();
        a.send_advert(&PAYLOAD, group(IpFamily::V4)).expect("send");
        let after_send = monotonic();
        std::thread::sleep(late);
        let (_, meta) = recv_one(&b);
        let kernel_rx = meta.kernel_rx.expect("stamped");
        assert!(
            kernel_rx >= before_send,
            "translated stamp {kernel_rx:?} precedes the send at {before_send:?}"
        );
        if kernel_rx <= after_send && meta.recv_at >= after_send + late {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the stamp never showed the arrival time: {meta:?}, sent by {after_send:?}"
        );
    }
}

/// A receiver that does not read while adverts keep coming loses some to a full queue, and the
/// packets queued after that say how many (SO_RXQ_OVFL): what `socket_overflow` in the status
/// shows.
#[test]
fn a_full_receive_queue_reports_its_drops_with_the_next_packet() {
    let link = link();
    let (a, b) = sockets(&link, IpFamily::V4, None, true);
    assert_eq!(
        recv_one_after(&a, &b).1.queue_drops,
        None,
        "nothing dropped yet"
    );
    // The default receive buffer holds a few hundred small packets.
    for _ in 0..20_000 {
        a.send_advert(&PAYLOAD, group(IpFamily::V4)).expect("send");
    }
    // What was queued before the first drop carries no count: the kernel stamps each packet
    // with the drops so far as it queues it. Read those, then one queued after.
    let mut buf = [0u8; 1500];
    while b.recv(&mut buf).is_ok() {}
    let (_, meta) = recv_one_after(&a, &b);
    assert!(meta.queue_drops.is_some_and(|drops| drops > 0), "{meta:?}");
}

/// Sends one advert from `a` and reads it on `b`.
fn recv_one_after(a: &VrrpSocket, b: &VrrpSocket) -> (Vec<u8>, RecvMeta) {
    a.send_advert(&PAYLOAD, group(IpFamily::V4)).expect("send");
    recv_one(b)
}
