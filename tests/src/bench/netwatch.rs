//! rtnetlink listeners in a namespace, the `ip monitor neigh` and `ip monitor address` of the
//! benchmark: the client's neighbour entry for the VIP moving to the new master's MAC (the
//! takeover timeline), and every node's VIP additions and removals (the soak).
//!
//! The kernel sends the notification from the code path that made the change, and a realtime
//! thread stamps it on arrival with CLOCK_MONOTONIC, so the stamp trails the change by the
//! thread's wake-up (a few microseconds on an idle machine).
use std::{
    io,
    net::{IpAddr, Ipv4Addr, Ipv6Addr},
    os::fd::{AsRawFd, FromRawFd, OwnedFd},
    sync::{
        atomic::{AtomicBool, Ordering},
        Mutex,
    },
};

use super::collector::Collector;
use crate::{clock::monotonic_ns, netns::Netns};

/// One change the kernel announced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    /// A neighbour entry for `addr` was created or changed (RTM_NEWNEIGH); `mac` is its link
    /// address if it has one, `state` the NUD_* state.
    Neighbour {
        addr: IpAddr,
        mac: Option<[u8; 6]>,
        state: u16,
    },
    /// `addr` was added to (or, `added == false`, removed from) an interface.
    Address { addr: IpAddr, added: bool },
}

#[derive(Clone, Copy, Debug)]
pub struct Noticed {
    pub at_ns: u64,
    pub change: Change,
}

/// Which notifications to listen to.
#[derive(Clone, Copy)]
pub enum Topic {
    Neighbours,
    Addresses,
}

pub struct NetWatch(Collector<Noticed>);

impl NetWatch {
    pub fn start(ns: &Netns, topic: Topic) -> Result<Self, String> {
        let groups = match topic {
            Topic::Neighbours => libc::RTMGRP_NEIGH,
            Topic::Addresses => libc::RTMGRP_IPV4_IFADDR | libc::RTMGRP_IPV6_IFADDR,
        } as u32;
        let socket = ns
            .run(|| open(groups))
            .map_err(|e| format!("rtnetlink listener in {}: {e}", ns.name()))?;
        Ok(Self(Collector::spawn(move |noticed, stop| {
            receive_loop(&socket, noticed, stop)
        })))
    }

    /// What was noticed so far (and forgets it).
    pub fn take(&self) -> Vec<Noticed> {
        self.0.take()
    }
}

fn open(groups: u32) -> io::Result<OwnedFd> {
    // SAFETY: plain socket(2).
    let fd = unsafe {
        libc::socket(
            libc::AF_NETLINK,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC,
            libc::NETLINK_ROUTE,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fd is a fresh socket we own.
    let socket = unsafe { OwnedFd::from_raw_fd(fd) };
    let timeout = libc::timeval {
        tv_sec: 0,
        tv_usec: 100_000,
    };
    // SAFETY: timeout is a timeval, as SO_RCVTIMEO expects.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVTIMEO,
            (&timeout as *const libc::timeval).cast(),
            std::mem::size_of::<libc::timeval>() as u32,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: sockaddr_nl is plain data; zeroed is valid.
    let mut addr: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
    addr.nl_family = libc::AF_NETLINK as u16;
    addr.nl_groups = groups;
    // SAFETY: addr is a valid sockaddr_nl of the length given.
    let rc = unsafe {
        libc::bind(
            socket.as_raw_fd(),
            (&addr as *const libc::sockaddr_nl).cast(),
            std::mem::size_of::<libc::sockaddr_nl>() as u32,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(socket)
}

fn receive_loop(socket: &OwnedFd, noticed: &Mutex<Vec<Noticed>>, stop: &AtomicBool) {
    let param = libc::sched_param { sched_priority: 39 };
    // SAFETY: param is valid; 0 is the calling thread. Without privilege the stamps are noisier.
    unsafe { libc::sched_setscheduler(0, libc::SCHED_FIFO, &param) };
    let mut buf = vec![0u8; 64 * 1024];
    while !stop.load(Ordering::Relaxed) {
        // SAFETY: buf is a live buffer of the length given.
        let len = unsafe { libc::recv(socket.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
        if len <= 0 {
            continue;
        }
        let at_ns = monotonic_ns();
        let changes = parse_messages(&buf[..len as usize]);
        let mut noticed = noticed.lock().expect("netwatch lock");
        noticed.extend(changes.into_iter().map(|change| Noticed { at_ns, change }));
    }
}

const NLMSG_HDRLEN: usize = 16;
const NDMSG_LEN: usize = 12;
const IFADDRMSG_LEN: usize = 8;
const NDA_DST: u16 = 1;
const NDA_LLADDR: u16 = 2;
const IFA_ADDRESS: u16 = 1;
const IFA_LOCAL: u16 = 2;

/// The changes in one datagram of netlink messages; what it cannot read it skips.
fn parse_messages(mut data: &[u8]) -> Vec<Change> {
    let mut changes = Vec::new();
    while data.len() >= NLMSG_HDRLEN {
        let len = u32::from_ne_bytes(data[0..4].try_into().expect("4 bytes")) as usize;
        let kind = u16::from_ne_bytes(data[4..6].try_into().expect("2 bytes"));
        if len < NLMSG_HDRLEN || len > data.len() {
            break;
        }
        let body = &data[NLMSG_HDRLEN..len];
        let change = match kind {
            libc::RTM_NEWNEIGH if body.len() >= NDMSG_LEN => {
                let state = u16::from_ne_bytes(body[8..10].try_into().expect("2 bytes"));
                let attrs = attributes(&body[NDMSG_LEN..]);
                let addr = attrs
                    .iter()
                    .find(|(t, _)| *t == NDA_DST)
                    .and_then(|(_, v)| ip_of(v));
                let mac = attrs
                    .iter()
                    .find(|(t, _)| *t == NDA_LLADDR)
                    .and_then(|(_, v)| <[u8; 6]>::try_from(*v).ok());
                addr.map(|addr| Change::Neighbour { addr, mac, state })
            }
            libc::RTM_NEWADDR | libc::RTM_DELADDR if body.len() >= IFADDRMSG_LEN => {
                let attrs = attributes(&body[IFADDRMSG_LEN..]);
                // IFA_LOCAL is the address itself on point-to-point links; IFA_ADDRESS elsewhere.
                let pick = |want| attrs.iter().find(|(t, _)| *t == want);
                pick(IFA_LOCAL)
                    .or_else(|| pick(IFA_ADDRESS))
                    .and_then(|(_, v)| ip_of(v))
                    .map(|addr| Change::Address {
                        addr,
                        added: kind == libc::RTM_NEWADDR,
                    })
            }
            _ => None,
        };
        changes.extend(change);
        data = &data[align4(len).min(data.len())..];
    }
    changes
}

/// The (type, value) route attributes in `data`.
fn attributes(mut data: &[u8]) -> Vec<(u16, &[u8])> {
    let mut out = Vec::new();
    while data.len() >= 4 {
        let len = u16::from_ne_bytes([data[0], data[1]]) as usize;
        let kind = u16::from_ne_bytes([data[2], data[3]]) & 0x3fff;
        if len < 4 || len > data.len() {
            break;
        }
        out.push((kind, &data[4..len]));
        data = &data[align4(len).min(data.len())..];
    }
    out
}

fn align4(n: usize) -> usize {
    (n + 3) & !3
}

fn ip_of(bytes: &[u8]) -> Option<IpAddr> {
    match bytes.len() {
        4 => Some(Ipv4Addr::from(<[u8; 4]>::try_from(bytes).ok()?).into()),
        16 => Some(Ipv6Addr::from(<[u8; 16]>::try_from(bytes).ok()?).into()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(kind: u16, body: &[u8]) -> Vec<u8> {
        let mut out = ((NLMSG_HDRLEN + body.len()) as u32).to_ne_bytes().to_vec();
        out.extend(kind.to_ne_bytes());
        out.extend([0; 10]);
        out.extend(body);
        while !out.len().is_multiple_of(4) {
            out.push(0);
        }
        out
    }

    fn attribute(kind: u16, value: &[u8]) -> Vec<u8> {
        let mut out = ((4 + value.len()) as u16).to_ne_bytes().to_vec();
        out.extend(kind.to_ne_bytes());
        out.extend(value);
        while !out.len().is_multiple_of(4) {
            out.push(0);
        }
        out
    }

    #[test]
    fn reads_a_neighbour_change_and_an_address_removal() {
        let mut neigh = vec![2, 0, 0, 0, 3, 0, 0, 0];
        neigh.extend(0x04u16.to_ne_bytes()); // NUD_STALE
        neigh.extend([0, 1]);
        neigh.extend(attribute(NDA_DST, &[192, 0, 2, 100]));
        neigh.extend(attribute(NDA_LLADDR, &[2, 0, 0, 0, 0, 2]));
        let mut addr = vec![2, 24, 0, 0, 3, 0, 0, 0];
        addr.extend(attribute(IFA_ADDRESS, &[192, 0, 2, 100]));
        let mut data = message(libc::RTM_NEWNEIGH, &neigh);
        data.extend(message(libc::RTM_DELADDR, &addr));
        data.extend(message(libc::RTM_NEWROUTE, &[0; 12]));
        let vip = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 100));
        assert_eq!(
            parse_messages(&data),
            vec![
                Change::Neighbour {
                    addr: vip,
                    mac: Some([2, 0, 0, 0, 0, 2]),
                    state: 0x04
                },
                Change::Address {
                    addr: vip,
                    added: false
                },
            ]
        );
        assert_eq!(parse_messages(&data[..10]), vec![]);
    }
}
