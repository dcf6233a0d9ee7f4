//! Raw IPv4 sockets on a node's `eth0` for tests that watch adverts on the wire, as an attacker
//! or an observer would: what vipd sent, whole (IP header included), to replay or inspect.
use std::{mem::MaybeUninit, net::Ipv4Addr, time::Duration, time::Instant};

use socket2::{Domain, Protocol, Socket, Type};

use crate::{frames, netns::Netns};

/// A raw socket for IP protocol `protocol` (112 for VRRP, 51 for AH) on `ns`'s eth0, joined to
/// 224.0.0.18 through `local` (the node's address), with a 200 ms read timeout. With
/// `header_included`, what it sends carries its own IP header.
pub fn listener(ns: &Netns, protocol: u8, local: Ipv4Addr, header_included: bool) -> Socket {
    ns.run(|| {
        let socket = Socket::new(
            Domain::IPV4,
            Type::RAW,
            Some(Protocol::from(i32::from(protocol))),
        )
        .expect("raw IP socket");
        socket.bind_device(Some(b"eth0")).expect("SO_BINDTODEVICE");
        if header_included {
            socket.set_header_included_v4(true).expect("IP_HDRINCL");
        }
        socket
            .join_multicast_v4(&frames::VRRP_MCAST_V4, &local)
            .expect("join 224.0.0.18");
        socket
            .set_read_timeout(Some(Duration::from_millis(200)))
            .expect("read timeout");
        socket
    })
}

/// The next packet (IP header included) from `from` that `socket` receives within `within`;
/// what it had queued before is discarded. Panics when none comes.
pub fn capture_from(socket: &Socket, from: Ipv4Addr, within: Duration) -> Vec<u8> {
    let deadline = Instant::now() + within;
    let mut buf = [MaybeUninit::<u8>::uninit(); 2048];
    socket.set_nonblocking(true).expect("non-blocking");
    while socket.recv(&mut buf).is_ok() {}
    socket.set_nonblocking(false).expect("blocking");
    while Instant::now() < deadline {
        let Ok(n) = socket.recv(&mut buf) else {
            continue;
        };
        // SAFETY: recv initialised the first n bytes.
        let packet: Vec<u8> = buf[..n]
            .iter()
            .map(|b| unsafe { b.assume_init() })
            .collect();
        if packet.len() >= 20 && packet[12..16] == from.octets() {
            return packet;
        }
    }
    panic!("no packet from {from} seen on the link");
}
