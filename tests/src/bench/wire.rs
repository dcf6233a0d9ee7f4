//! A packet sniffer for the takeover timeline: an AF_PACKET socket on one interface of one
//! namespace that keeps ARP, VRRP and vipd's echo replies, each stamped by the kernel as it
//! passed the interface and converted to CLOCK_MONOTONIC.
//!
//! A classic BPF filter drops everything else in the kernel, so the client's probes (50,000 a
//! second) never wake the sniffer; only the frames a takeover is made of are copied out.
use std::{
    io,
    net::Ipv4Addr,
    os::fd::{AsRawFd, FromRawFd, OwnedFd},
    sync::{
        atomic::{AtomicBool, Ordering},
        Mutex,
    },
};

use super::{collector::Collector, walltime::Offset};
use crate::netns::Netns;

/// What a kept frame was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Frame {
    /// An ARP request or reply (`reply`), with its sender and target protocol addresses.
    Arp {
        reply: bool,
        sender_mac: [u8; 6],
        sender: Ipv4Addr,
        target: Ipv4Addr,
    },
    /// A VRRP advert (IPv4) from `source` with `priority`.
    Advert { source: Ipv4Addr, priority: u8 },
    /// A reflected vipd echo probe.
    EchoReply,
}

/// One kept frame: when it passed the interface (CLOCK_MONOTONIC ns), which way, and what it was.
#[derive(Clone, Copy, Debug)]
pub struct Seen {
    pub at_ns: u64,
    /// Sent out of the interface (rather than received on it).
    pub outgoing: bool,
    pub source_mac: [u8; 6],
    pub frame: Frame,
}

pub struct Sniffer(Collector<Seen>);

impl Sniffer {
    /// Starts sniffing `interface` in `ns`.
    pub fn start(ns: &Netns, interface: &str) -> Result<Self, String> {
        let ifindex = ns.ifindex(interface);
        let socket = ns
            .run(|| open(ifindex))
            .map_err(|e| format!("packet socket on {interface} in {}: {e}", ns.name()))?;
        Ok(Self(Collector::spawn(move |seen, stop| {
            receive_loop(&socket, seen, stop)
        })))
    }

    /// What was kept so far (and forgets it).
    pub fn take(&self) -> Vec<Seen> {
        self.0.take()
    }
}

const ETH_P_ARP: u16 = 0x0806;
const ETH_P_IP: u16 = 0x0800;
const IPPROTO_VRRP: u8 = 112;
/// Bytes kept of each frame: Ethernet, IPv4 and the VRRP header, or a whole ARP packet.
const SNAPLEN: u32 = 96;

/// ARP, IPv4 protocol 112, or a vipd echo whose kind is REPLY; nothing else.
fn filter() -> [libc::sock_filter; 10] {
    let op = |code: u32, jt: u8, jf: u8, k: u32| libc::sock_filter {
        code: code as u16,
        jt,
        jf,
        k,
    };
    let (ld_h, ld_b, jeq, ret) = (
        libc::BPF_LD | libc::BPF_H | libc::BPF_ABS,
        libc::BPF_LD | libc::BPF_B | libc::BPF_ABS,
        libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K,
        libc::BPF_RET | libc::BPF_K,
    );
    [
        op(ld_h, 0, 0, 12),                                   // 0: EtherType
        op(jeq, 6, 0, ETH_P_ARP.into()),                      // 1: -> 8 keep
        op(jeq, 3, 0, agent_common::ETH_P_VIPD_ECHO.into()),  // 2: -> 6 echo
        op(jeq, 0, 5, ETH_P_IP.into()),                       // 3: else -> 9 drop
        op(ld_b, 0, 0, 23),                                   // 4: IPv4 protocol
        op(jeq, 2, 3, IPPROTO_VRRP.into()),                   // 5: -> 8 keep, else 9
        op(ld_b, 0, 0, 18),                                   // 6: echo kind
        op(jeq, 0, 1, agent_common::echo_kind::REPLY.into()), // 7: -> 8 keep, else 9
        op(ret, 0, 0, SNAPLEN),                               // 8: keep
        op(ret, 0, 0, 0),                                     // 9: drop
    ]
}

/// A packet socket with the filter attached before it is bound, so nothing unfiltered queues.
fn open(ifindex: u32) -> io::Result<OwnedFd> {
    // SAFETY: plain socket(2); protocol 0 receives nothing until bound.
    let fd = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fd is a fresh socket we own.
    let socket = unsafe { OwnedFd::from_raw_fd(fd) };
    let program = filter();
    let fprog = libc::sock_fprog {
        len: program.len() as u16,
        filter: program.as_ptr().cast_mut(),
    };
    setsockopt(&socket, libc::SOL_SOCKET, libc::SO_ATTACH_FILTER, &fprog)?;
    setsockopt(&socket, libc::SOL_SOCKET, libc::SO_TIMESTAMPNS, &1i32)?;
    // A second of a busy link's frames, should the reader fall behind.
    setsockopt(&socket, libc::SOL_SOCKET, libc::SO_RCVBUF, &(4i32 << 20))?;
    let timeout = libc::timeval {
        tv_sec: 0,
        tv_usec: 100_000,
    };
    setsockopt(&socket, libc::SOL_SOCKET, libc::SO_RCVTIMEO, &timeout)?;
    // SAFETY: sockaddr_ll is plain data; zeroed is valid.
    let mut addr: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    addr.sll_family = libc::AF_PACKET as u16;
    addr.sll_protocol = (libc::ETH_P_ALL as u16).to_be();
    addr.sll_ifindex = ifindex as i32;
    // SAFETY: addr is a valid sockaddr_ll of the length given.
    let rc = unsafe {
        libc::bind(
            socket.as_raw_fd(),
            (&addr as *const libc::sockaddr_ll).cast(),
            std::mem::size_of::<libc::sockaddr_ll>() as u32,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(socket)
}

fn setsockopt<T>(socket: &OwnedFd, level: i32, name: i32, value: &T) -> io::Result<()> {
    // SAFETY: value points to a T of the length given, as the option expects.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            level,
            name,
            (value as *const T).cast(),
            std::mem::size_of::<T>() as u32,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

fn receive_loop(socket: &OwnedFd, seen: &Mutex<Vec<Seen>>, stop: &AtomicBool) {
    let mut buf = [0u8; SNAPLEN as usize];
    let mut control = [0u64; 16];
    while !stop.load(Ordering::Relaxed) {
        // SAFETY: sockaddr_ll is plain data; zeroed is valid.
        let mut from: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        let mut iov = libc::iovec {
            iov_base: buf.as_mut_ptr().cast(),
            iov_len: buf.len(),
        };
        // SAFETY: msghdr is plain data; zeroed is valid.
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_name = (&mut from as *mut libc::sockaddr_ll).cast();
        msg.msg_namelen = std::mem::size_of::<libc::sockaddr_ll>() as u32;
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = std::mem::size_of_val(&control);
        // SAFETY: msg points to live buffers of the lengths given.
        let len = unsafe { libc::recvmsg(socket.as_raw_fd(), &mut msg, 0) };
        if len <= 0 {
            continue;
        }
        let Some(realtime_ns) = kernel_stamp(&msg) else {
            continue;
        };
        let Some((source_mac, frame)) = parse(&buf[..len as usize]) else {
            continue;
        };
        // Converted at once: the offset of this very moment.
        let at_ns = Offset::sample().monotonic_of(realtime_ns);
        seen.lock().expect("sniffer lock").push(Seen {
            at_ns,
            outgoing: from.sll_pkttype == libc::PACKET_OUTGOING,
            source_mac,
            frame,
        });
    }
}

/// The SCM_TIMESTAMPNS the kernel attached (CLOCK_REALTIME ns).
fn kernel_stamp(msg: &libc::msghdr) -> Option<u64> {
    // SAFETY: msg was filled by recvmsg; the CMSG macros walk its control buffer.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(msg);
        while !cmsg.is_null() {
            if (*cmsg).cmsg_level == libc::SOL_SOCKET && (*cmsg).cmsg_type == libc::SCM_TIMESTAMPNS
            {
                let ts: libc::timespec = std::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast());
                return Some(ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64);
            }
            cmsg = libc::CMSG_NXTHDR(msg, cmsg);
        }
    }
    None
}

/// The Ethernet source and what the frame is; `None` for a frame too short to be one.
fn parse(frame: &[u8]) -> Option<([u8; 6], Frame)> {
    let source_mac: [u8; 6] = frame.get(6..12)?.try_into().ok()?;
    let ether_type = u16::from_be_bytes(frame.get(12..14)?.try_into().ok()?);
    let ipv4 = |at: usize| -> Option<Ipv4Addr> {
        let octets: [u8; 4] = frame.get(at..at + 4)?.try_into().ok()?;
        Some(Ipv4Addr::from(octets))
    };
    let parsed = match ether_type {
        ETH_P_ARP => Frame::Arp {
            reply: u16::from_be_bytes(frame.get(20..22)?.try_into().ok()?) == 2,
            sender_mac: frame.get(22..28)?.try_into().ok()?,
            sender: ipv4(28)?,
            target: ipv4(38)?,
        },
        ETH_P_IP => {
            let header_len = usize::from(frame.get(14)? & 0x0f) * 4;
            Frame::Advert {
                source: ipv4(26)?,
                priority: *frame.get(14 + header_len + 2)?,
            }
        }
        agent_common::ETH_P_VIPD_ECHO => Frame::EchoReply,
        _ => return None,
    };
    Some((source_mac, parsed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_gratuitous_arp_request() {
        let mut frame = vec![0xff; 6];
        frame.extend([2, 0, 0, 0, 0, 2]); // source
        frame.extend([0x08, 0x06, 0, 1, 0x08, 0x00, 6, 4, 0, 1]); // ARP request
        frame.extend([2, 0, 0, 0, 0, 2, 192, 0, 2, 100]); // sender
        frame.extend([0, 0, 0, 0, 0, 0, 192, 0, 2, 100]); // target
        assert_eq!(
            parse(&frame),
            Some((
                [2, 0, 0, 0, 0, 2],
                Frame::Arp {
                    reply: false,
                    sender_mac: [2, 0, 0, 0, 0, 2],
                    sender: Ipv4Addr::new(192, 0, 2, 100),
                    target: Ipv4Addr::new(192, 0, 2, 100),
                }
            ))
        );
        assert_eq!(parse(&frame[..30]), None);
    }

    #[test]
    fn parses_an_advert_priority() {
        let mut frame = vec![1, 0, 0x5e, 0, 0, 0x12, 2, 0, 0, 0, 0, 1, 0x08, 0x00];
        frame.extend([0x45, 0, 0, 32, 0, 0, 0, 0, 255, 112, 0, 0]);
        frame.extend([192, 0, 2, 1, 224, 0, 0, 18]);
        frame.extend([0x31, 51, 200, 1, 0, 20, 0, 0]); // v3, VRID 51, priority 200
        assert_eq!(
            parse(&frame).map(|(_, f)| f),
            Some(Frame::Advert {
                source: Ipv4Addr::new(192, 0, 2, 1),
                priority: 200
            })
        );
    }
}
