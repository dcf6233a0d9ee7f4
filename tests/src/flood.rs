//! The attacker's side of a flood: junk VRRP adverts and liveness-echo frames (see
//! `agent_common::ETH_P_VIPD_ECHO`), built once and cycled through an AF_PACKET socket as fast
//! as it takes them. Shared by `cargo xtask bench flood` and the flood tests.
//!
//! The frames are built here byte by byte (with [`crate::frames`]), independently of vipd's
//! codec: the point is to send what vipd must refuse.
use std::{
    io,
    net::Ipv4Addr,
    os::fd::{AsRawFd, FromRawFd, OwnedFd},
    time::{Duration, Instant},
};

use agent_common::{echo_kind, family, ECHO_MAGIC, ETH_P_VIPD_ECHO};

use crate::{
    frames::{self, Advert},
    netns::Netns,
};

/// What a flood sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// Priority-255 adverts with a right checksum and no auth_hmac trailer.
    Forged,
    /// As `forged`, with a 28-byte trailer of garbage (key id 1, a wrong MAC).
    ForgedTrailer,
    /// A valid advert captured from the master, sent again unchanged.
    Replayed,
    /// Adverts with a bad checksum, a bad version, or an address count their length belies.
    Malformed,
    /// Echo probes, as a backup would send its master.
    EchoProbe,
    /// Echo replies, as a master's XDP program would reflect them.
    EchoReply,
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use clap::ValueEnum;
        f.write_str(
            self.to_possible_value()
                .expect("no skipped kinds")
                .get_name(),
        )
    }
}

/// Where the frames go: VRRP's multicast group (every node hears it; echo frames are broadcast
/// then), or one node's MAC and address.
#[derive(Clone, Copy, Debug)]
pub enum Destination {
    Multicast,
    Unicast { mac: [u8; 6], ip: Ipv4Addr },
}

/// The VRRP group under attack, as the attacker knows it from the wire.
#[derive(Clone, Debug)]
pub struct Target {
    pub vrid: u8,
    /// The group's VIP, put in forged adverts' address lists.
    pub vip: Ipv4Addr,
    /// The attacker's own MAC and address, the source of what it forges.
    pub attacker_mac: [u8; 6],
    pub attacker_ip: Ipv4Addr,
    /// The master's MAC: the source of forged echo replies.
    pub master_mac: [u8; 6],
    /// A valid advert the master sent (a whole Ethernet frame), for [`Kind::Replayed`].
    pub captured: Vec<u8>,
}

/// How many distinct frames each kind cycles through: enough to differ (sources, sequence
/// numbers), few enough to stay in cache.
const VARIANTS: u8 = 4;

/// Ethernet's minimum frame without its checksum.
const ETH_MIN_FRAME: usize = 60;

/// The frames of one flood, to cycle through.
pub fn build(kind: Kind, target: &Target, to: Destination) -> Vec<Vec<u8>> {
    let forged = |variant: u8| {
        let mut advert = Advert::v3(target.vrid, 255, 100);
        advert.addresses_v4 = vec![target.vip];
        // Sources the attacker makes up, beside its own address.
        let octets = target.attacker_ip.octets();
        let src = Ipv4Addr::new(
            octets[0],
            octets[1],
            octets[2],
            octets[3].wrapping_add(variant),
        );
        (advert, src)
    };
    let mut out: Vec<Vec<u8>> = match kind {
        Kind::Forged => (0..VARIANTS)
            .map(|v| {
                let (advert, src) = forged(v);
                advert_frame(&advert, src, to)
            })
            .collect(),
        Kind::ForgedTrailer => (0..VARIANTS)
            .map(|v| {
                let (advert, src) = forged(v);
                frames::with_garbage_trailer(advert_frame(&advert, src, to), v)
            })
            .collect(),
        Kind::Replayed => vec![target.captured.clone()],
        Kind::Malformed => malformed(target, to),
        Kind::EchoProbe => (0..u32::from(VARIANTS))
            .map(|seq| echo(echo_kind::PROBE, target.attacker_mac, target, seq))
            .collect(),
        Kind::EchoReply => (0..u32::from(VARIANTS))
            .map(|seq| echo(echo_kind::REPLY, target.master_mac, target, seq))
            .collect(),
    };
    for frame in &mut out {
        frame[..6].copy_from_slice(&ethernet_destination(kind, to));
        if kind != Kind::Replayed && kind != Kind::EchoReply {
            frame[6..12].copy_from_slice(&target.attacker_mac);
        }
    }
    out
}

fn ethernet_destination(kind: Kind, to: Destination) -> [u8; 6] {
    match (to, kind) {
        (Destination::Unicast { mac, .. }, _) => mac,
        (Destination::Multicast, Kind::EchoProbe | Kind::EchoReply) => [0xff; 6],
        (Destination::Multicast, _) => [0x01, 0x00, 0x5e, 0x00, 0x00, 0x12],
    }
}

fn advert_frame(advert: &Advert, src: Ipv4Addr, to: Destination) -> Vec<u8> {
    let dst = match to {
        Destination::Multicast => frames::VRRP_MCAST_V4,
        Destination::Unicast { ip, .. } => ip,
    };
    frames::advert_frame_v4_to(advert, src, dst, 255)
}

/// IPv4 header starts after the Ethernet header; its total length is at 2..4, its checksum at
/// 10..12.
const IP: usize = frames::ETH_HLEN;

/// One advert each with a bad checksum, a bad version (4, its checksum right) and an address
/// count of 3 in a message carrying one (its checksum right).
fn malformed(target: &Target, to: Destination) -> Vec<Vec<u8>> {
    let advert = {
        let mut advert = Advert::v3(target.vrid, 255, 100);
        advert.addresses_v4 = vec![target.vip];
        advert
    };
    let vrrp = IP + 20;
    let dst = match to {
        Destination::Multicast => frames::VRRP_MCAST_V4,
        Destination::Unicast { ip, .. } => ip,
    };
    let good = advert_frame(&advert, target.attacker_ip, to);
    let mut bad_checksum = good.clone();
    bad_checksum[vrrp + 6] ^= 0xff;
    let mut bad_version = good.clone();
    bad_version[vrrp] = 4 << 4 | 1;
    let mut bad_length = good;
    bad_length[vrrp + 3] = 3;
    // The checksum covers version and count: recompute it so that each is the only fault.
    for frame in [&mut bad_version, &mut bad_length] {
        frame[vrrp + 6..vrrp + 8].copy_from_slice(&[0, 0]);
        let message = &frame[vrrp..];
        let pseudo = words(&target.attacker_ip.octets()) + words(&dst.octets()) + 112;
        let checksum = frames::internet_checksum(pseudo + message.len() as u32, message);
        frame[vrrp + 6..vrrp + 8].copy_from_slice(&checksum.to_be_bytes());
    }
    vec![bad_checksum, bad_version, bad_length]
}

fn words(bytes: &[u8]) -> u32 {
    bytes
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], c[1]])))
        .sum()
}

/// An echo frame (the `agent_common::EchoFrame` layout) of `kind` from `src_mac`; [`build`]
/// sets its destination.
fn echo(kind: u8, src_mac: [u8; 6], target: &Target, seq: u32) -> Vec<u8> {
    let mut frame = vec![0u8; ETH_MIN_FRAME];
    frame[6..12].copy_from_slice(&src_mac);
    frame[12..14].copy_from_slice(&ETH_P_VIPD_ECHO.to_be_bytes());
    frame[14..18].copy_from_slice(&ECHO_MAGIC);
    frame[18] = kind;
    frame[19] = target.vrid;
    frame[20] = family::IPV4;
    frame[22..26].copy_from_slice(&seq.to_be_bytes());
    frame
}

/// An AF_PACKET socket bound to one interface of a namespace.
pub struct PacketSocket {
    fd: OwnedFd,
}

/// What one flood put on the wire.
#[derive(Clone, Copy, Debug, serde::Serialize)]
pub struct Sent {
    pub packets: u64,
    pub seconds: f64,
}

impl Sent {
    pub fn rate(&self) -> f64 {
        self.packets as f64 / self.seconds
    }
}

impl PacketSocket {
    /// A socket on `interface` in `ns` that receives frames of `protocol` (an EtherType, 0 for
    /// none: send only).
    pub fn open(ns: &Netns, interface: &str, protocol: u16) -> io::Result<Self> {
        let ifindex = ns.ifindex(interface);
        ns.run(|| {
            let proto = i32::from(protocol.to_be());
            // SAFETY: plain system calls; the fd is owned at once.
            let raw = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW, proto) };
            if raw < 0 {
                return Err(io::Error::last_os_error());
            }
            // SAFETY: raw is an open fd nobody else owns.
            let fd = unsafe { OwnedFd::from_raw_fd(raw) };
            // SAFETY: sockaddr_ll is plain data; all zero is a valid start.
            let mut addr: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
            addr.sll_family = libc::AF_PACKET as u16;
            addr.sll_protocol = protocol.to_be();
            addr.sll_ifindex = ifindex as i32;
            // SAFETY: addr is a valid sockaddr_ll of the size given.
            let rc = unsafe {
                libc::bind(
                    fd.as_raw_fd(),
                    (&addr as *const libc::sockaddr_ll).cast(),
                    std::mem::size_of::<libc::sockaddr_ll>() as u32,
                )
            };
            if rc != 0 {
                return Err(io::Error::last_os_error());
            }
            // Past the qdisc: the flood measures the receivers, not the sender's queueing.
            let one: i32 = 1;
            // SAFETY: one is an int of the size given.
            unsafe {
                libc::setsockopt(
                    fd.as_raw_fd(),
                    libc::SOL_PACKET,
                    libc::PACKET_QDISC_BYPASS,
                    (&one as *const i32).cast(),
                    4,
                )
            };
            Ok(Self { fd })
        })
    }

    /// Sends `count` frames, cycling through `frames`, as fast as the socket takes them; a full
    /// queue (ENOBUFS) is waited out, not counted.
    pub fn flood(&self, frames: &[Vec<u8>], count: u64) -> io::Result<Sent> {
        let start = Instant::now();
        let mut sent = 0u64;
        let mut next = frames.iter().cycle();
        while sent < count {
            let frame = next.next().expect("at least one frame");
            // SAFETY: frame is a live buffer of the length given.
            let rc =
                unsafe { libc::send(self.fd.as_raw_fd(), frame.as_ptr().cast(), frame.len(), 0) };
            if rc >= 0 {
                sent += 1;
                continue;
            }
            let error = io::Error::last_os_error();
            match error.raw_os_error() {
                Some(libc::ENOBUFS) | Some(libc::EAGAIN) | Some(libc::EINTR) => {
                    std::thread::yield_now()
                }
                _ => return Err(error),
            }
        }
        Ok(Sent {
            packets: sent,
            seconds: start.elapsed().as_secs_f64(),
        })
    }

    /// The next IPv4 VRRP frame from `src` seen within `patience` (a whole Ethernet frame).
    pub fn capture_advert(&self, src: Ipv4Addr, patience: Duration) -> io::Result<Vec<u8>> {
        let deadline = Instant::now() + patience;
        let timeout = libc::timeval {
            tv_sec: 0,
            tv_usec: 200_000,
        };
        // SAFETY: timeout is a timeval of the size given.
        unsafe {
            libc::setsockopt(
                self.fd.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_RCVTIMEO,
                (&timeout as *const libc::timeval).cast(),
                std::mem::size_of::<libc::timeval>() as u32,
            )
        };
        let mut buf = vec![0u8; 2048];
        while Instant::now() < deadline {
            // SAFETY: buf is a live buffer of the length given.
            let n =
                unsafe { libc::recv(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
            if n <= 0 {
                continue;
            }
            let frame = &buf[..n as usize];
            if frame.len() > IP + 20
                && frame[IP + 9] == 112
                && frame[IP + 12..IP + 16] == src.octets()
            {
                return Ok(frame.to_vec());
            }
        }
        Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!("no advert from {src} within {patience:?}"),
        ))
    }
}

/// The MAC address of `interface` in `ns`.
pub fn mac_address(ns: &Netns, interface: &str) -> [u8; 6] {
    let out = ns.exec(&["cat", &format!("/sys/class/net/{interface}/address")]);
    let text = String::from_utf8_lossy(&out.stdout);
    let mut mac = [0u8; 6];
    for (byte, part) in mac.iter_mut().zip(text.trim().split(':')) {
        *byte = u8::from_str_radix(part, 16).expect("MAC address");
    }
    mac
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> Target {
        Target {
            vrid: 51,
            vip: Ipv4Addr::new(192, 0, 2, 100),
            attacker_mac: [2, 0, 0, 0, 0, 3],
            attacker_ip: Ipv4Addr::new(192, 0, 2, 3),
            master_mac: [2, 0, 0, 0, 0, 1],
            captured: vec![0; 60],
        }
    }

    #[test]
    fn forged_adverts_carry_right_checksums_and_the_trailer_is_outside_them() {
        let to = Destination::Unicast {
            mac: [2, 0, 0, 0, 0, 1],
            ip: Ipv4Addr::new(192, 0, 2, 1),
        };
        for kind in [Kind::Forged, Kind::ForgedTrailer] {
            for frame in build(kind, &target(), to) {
                assert_eq!(frame[..6], [2, 0, 0, 0, 0, 1]);
                assert_eq!(frames::internet_checksum(0, &frame[IP..IP + 20]), 0);
                let total = u16::from_be_bytes([frame[IP + 2], frame[IP + 3]]) as usize;
                assert_eq!(total, frame.len() - IP);
                let message = &frame[IP + 20..IP + 32];
                let src = Ipv4Addr::new(frame[26], frame[27], frame[28], frame[29]);
                let pseudo = words(&src.octets()) + words(&[192, 0, 2, 1]) + 112 + 12;
                assert_eq!(frames::internet_checksum(pseudo, message), 0, "{kind}");
                assert_eq!(message[2], 255, "priority");
            }
        }
    }

    #[test]
    fn malformed_adverts_each_have_one_fault() {
        let frames = build(Kind::Malformed, &target(), Destination::Multicast);
        let pseudo = words(&[192, 0, 2, 3]) + words(&[224, 0, 0, 18]) + 112 + 12;
        let sums: Vec<u16> = frames
            .iter()
            .map(|f| frames::internet_checksum(pseudo, &f[IP + 20..]))
            .collect();
        assert_ne!(sums[0], 0, "bad checksum");
        assert_eq!((frames[1][IP + 20] >> 4, sums[1]), (4, 0), "bad version");
        assert_eq!((frames[2][IP + 23], sums[2]), (3, 0), "bad length");
    }
}
