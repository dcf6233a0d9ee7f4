//! The receive path of a VRRP socket: one recvmsg(2), its control messages, the IPv4 header
//! raw sockets deliver, and the receive timestamp.
//!
//! Timestamps: the kernel stamps a packet on arrival only in CLOCK_REALTIME (SO_TIMESTAMPNS, and
//! SO_TIMESTAMPING's RX_SOFTWARE stamp is the same `skb->tstamp`, also realtime); Linux has no
//! socket option for a CLOCK_MONOTONIC receive stamp. The protocol core and the XDP program's
//! `bpf_ktime_get_ns` count in CLOCK_MONOTONIC, so [`RecvMeta::kernel_rx`] translates: right
//! after recvmsg returns it reads both clocks and subtracts the packet's age (realtime now minus
//! the realtime stamp) from monotonic now. That costs two vDSO clock reads per packet and keeps
//! the time the packet sat in the socket queue (the scheduler's delay, the very thing sub-ms
//! detection must see). Its errors: the gap between the two clock reads (tens of ns; the
//! reads are ordered so that it can only make the stamp later, see `recv_packet`) and a
//! realtime clock step (settimeofday, an NTP step) between arrival and recvmsg, which shifts
//! the stamp by the step (NTP slewing adjusts both clocks alike and costs nothing);
//! a stamp that would fall after `recv_at` is clamped to it. A caller that distrusts the
//! translation falls back to [`RecvMeta::recv_at`], the monotonic time recvmsg returned, which
//! never lies about order but includes the queueing delay. Measured on a veth pair in this
//! machine: a receiver that woke 2 ms late still got stamps a few µs after the send, and none of
//! 8000 stamps fell before its send. Until the kernel has switched arrival stamping on (a
//! deferred static key, moments after the first socket asks), packets are stamped at recvmsg.

use std::io;
use std::mem::{self, MaybeUninit};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::ops::Range;
use std::os::fd::RawFd;
use std::time::Duration;

use nix::time::{clock_gettime, ClockId};

/// What the IP layer said about one received VRRP message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecvMeta {
    /// The sender's address from the IP header.
    pub source: IpAddr,
    /// The IP header's destination: the VRRP group, or this host's address in unicast mode.
    pub destination: IpAddr,
    /// The interface the packet arrived on.
    pub ifindex: u32,
    /// IPv4 TTL or IPv6 hop limit as received; VRRP drops anything but 255 (RFC 9568 §7.1).
    pub ttl: u8,
    /// CLOCK_MONOTONIC time of the kernel's arrival stamp, translated from CLOCK_REALTIME as
    /// the module documentation explains; `None` if the kernel attached no stamp.
    pub kernel_rx: Option<Duration>,
    /// CLOCK_MONOTONIC time when recvmsg returned this packet.
    pub recv_at: Duration,
    /// How many packets the socket had dropped for a full receive queue when this one was
    /// queued (SO_RXQ_OVFL, counted since the socket opened); `None` until the first drop.
    pub queue_drops: Option<u32>,
}

/// One received VRRP message: the bytes after the IP header, and their metadata.
#[derive(Debug, PartialEq, Eq)]
pub struct Received<'buf> {
    pub payload: &'buf [u8],
    pub meta: RecvMeta,
}

/// Why [`super::VrrpSocket::recv`] returned no message. Everything except `Io` describes a
/// packet that was consumed and should be counted as a drop.
#[derive(Debug, thiserror::Error)]
pub enum RecvError {
    #[error("receiving a VRRP packet failed: {0}")]
    Io(#[from] io::Error),
    #[error("VRRP packet of {len} bytes did not fit the receive buffer and was dropped")]
    Truncated { len: usize },
    #[error("packet with a malformed IPv4 header dropped")]
    BadIpv4Header,
    #[error("packet without the kernel's address or hop-limit information dropped")]
    MissingControl,
}

impl RecvError {
    /// True when the socket simply had nothing to read: the poll loop goes back to waiting.
    pub fn is_would_block(&self) -> bool {
        matches!(self, RecvError::Io(err) if err.kind() == io::ErrorKind::WouldBlock)
    }
}

/// Room for every control message a VRRP socket asks for (pktinfo, hop limit, timestamp,
/// queue drops), aligned for `cmsghdr`.
#[repr(C, align(8))]
struct ControlBuffer([u8; 256]);

/// Receives one packet from the non-blocking raw socket `fd` into `buf`.
/// Returns where the VRRP message sits in `buf`, and its metadata.
pub(super) fn recv_packet(
    fd: RawFd,
    buf: &mut [u8],
) -> Result<(Range<usize>, RecvMeta), RecvError> {
    let mut name = MaybeUninit::<libc::sockaddr_storage>::zeroed();
    let mut control = ControlBuffer([0; 256]);
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    // SAFETY: msghdr is plain data; all-zero is a valid empty value before the fields are set.
    let mut msg: libc::msghdr = unsafe { mem::zeroed() };
    msg.msg_name = name.as_mut_ptr().cast();
    msg.msg_namelen = mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.0.as_mut_ptr().cast();
    msg.msg_controllen = control.0.len() as _;
    // SAFETY: every pointer in msg refers to a live local or to `buf`, with its true length.
    // MSG_TRUNC makes the return value the packet's real length, so truncation is detected.
    let received = unsafe { libc::recvmsg(fd, &mut msg, libc::MSG_TRUNC) };
    if received < 0 {
        return Err(io::Error::last_os_error().into());
    }
    // Realtime first, then monotonic: whatever passes between the two reads makes the
    // translated stamp later than the truth, never earlier, so a delay can only shorten how
    // long the master seems silent (the safe side for master-down detection).
    let realtime_now = clock(ClockId::CLOCK_REALTIME);
    let recv_at = clock(ClockId::CLOCK_MONOTONIC);
    let len = received as usize;
    if len > buf.len() || msg.msg_flags & libc::MSG_TRUNC != 0 {
        return Err(RecvError::Truncated { len });
    }
    if msg.msg_flags & libc::MSG_CTRUNC != 0 {
        return Err(RecvError::MissingControl);
    }
    // SAFETY: the kernel filled `name` (msg_namelen bytes) and `control` (msg_controllen bytes).
    let source = unsafe { source_address(name.as_ptr(), msg.msg_namelen) };
    let control = unsafe { parse_control(&msg) };
    let kernel_rx = control
        .realtime_stamp
        .map(|stamp| to_monotonic(stamp, realtime_now, recv_at));

    let (Some(source), Some((destination, ifindex))) = (source, control.pktinfo) else {
        return Err(RecvError::MissingControl);
    };
    let packet = &buf[..len];
    let (ttl, payload) = match (source, destination) {
        (IpAddr::V4(_), IpAddr::V4(_)) => {
            split_ipv4_header(packet).ok_or(RecvError::BadIpv4Header)?
        }
        (IpAddr::V6(_), IpAddr::V6(_)) => {
            let hop_limit = control.hop_limit.ok_or(RecvError::MissingControl)?;
            (hop_limit, 0..len)
        }
        _ => return Err(RecvError::MissingControl),
    };
    Ok((
        payload,
        RecvMeta {
            source,
            destination,
            ifindex,
            ttl,
            kernel_rx,
            recv_at,
            queue_drops: control.queue_drops,
        },
    ))
}

/// Splits a whole IPv4 packet, as IPv4 raw sockets deliver it, into its TTL and the range of
/// its payload. `None` for anything that is not a well-formed IPv4 header with a consistent
/// total length.
fn split_ipv4_header(packet: &[u8]) -> Option<(u8, Range<usize>)> {
    let first = *packet.first()?;
    let header_len = usize::from(first & 0x0f) * 4;
    if first >> 4 != 4 || header_len < 20 || packet.len() < header_len {
        return None;
    }
    let total_len = usize::from(u16::from_be_bytes([packet[2], packet[3]]));
    if total_len < header_len || total_len > packet.len() {
        return None;
    }
    Some((packet[8], header_len..total_len))
}

/// Control messages a VRRP socket asks the kernel for.
#[derive(Default)]
struct Control {
    /// Header destination and ingress ifindex (IP_PKTINFO / IPV6_PKTINFO).
    pktinfo: Option<(IpAddr, u32)>,
    /// IPV6_HOPLIMIT; IPv4's TTL is read from the header instead.
    hop_limit: Option<u8>,
    /// SCM_TIMESTAMPNS, CLOCK_REALTIME.
    realtime_stamp: Option<Duration>,
    /// SO_RXQ_OVFL: the socket's receive-queue drops so far (sent only once there was one).
    queue_drops: Option<u32>,
}

/// # Safety
/// `msg` must be a msghdr that recvmsg filled, with its control buffer still alive.
unsafe fn parse_control(msg: &libc::msghdr) -> Control {
    let mut control = Control::default();
    // SAFETY: CMSG_FIRSTHDR/CMSG_NXTHDR walk the buffer within msg_controllen, and each payload
    // is read unaligned with the type the (level, type) pair promises.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(msg);
        while !cmsg.is_null() {
            let data = libc::CMSG_DATA(cmsg);
            match ((*cmsg).cmsg_level, (*cmsg).cmsg_type) {
                (libc::IPPROTO_IP, libc::IP_PKTINFO) => {
                    let info: libc::in_pktinfo = std::ptr::read_unaligned(data.cast());
                    let dst = Ipv4Addr::from(u32::from_be(info.ipi_addr.s_addr));
                    control.pktinfo = Some((IpAddr::V4(dst), info.ipi_ifindex as u32));
                }
                (libc::IPPROTO_IPV6, libc::IPV6_PKTINFO) => {
                    let info: libc::in6_pktinfo = std::ptr::read_unaligned(data.cast());
                    let dst = Ipv6Addr::from(info.ipi6_addr.s6_addr);
                    control.pktinfo = Some((IpAddr::V6(dst), info.ipi6_ifindex));
                }
                (libc::IPPROTO_IPV6, libc::IPV6_HOPLIMIT) => {
                    let limit: libc::c_int = std::ptr::read_unaligned(data.cast());
                    control.hop_limit = u8::try_from(limit).ok();
                }
                (libc::SOL_SOCKET, libc::SCM_TIMESTAMPNS) => {
                    let ts: libc::timespec = std::ptr::read_unaligned(data.cast());
                    control.realtime_stamp = timespec_to_duration(ts);
                }
                (libc::SOL_SOCKET, libc::SO_RXQ_OVFL) => {
                    control.queue_drops = Some(std::ptr::read_unaligned(data.cast::<u32>()));
                }
                _ => {}
            }
            cmsg = libc::CMSG_NXTHDR(msg, cmsg);
        }
    }
    control
}

/// # Safety
/// `name` must point to `len` bytes of a socket address the kernel wrote.
unsafe fn source_address(
    name: *const libc::sockaddr_storage,
    len: libc::socklen_t,
) -> Option<IpAddr> {
    let len = len as usize;
    // SAFETY: the family field is at the same offset in every sockaddr, and the address is only
    // read as the type its family and length announce.
    unsafe {
        match i32::from((*name).ss_family) {
            libc::AF_INET if len >= mem::size_of::<libc::sockaddr_in>() => {
                let sin = &*name.cast::<libc::sockaddr_in>();
                Some(IpAddr::V4(Ipv4Addr::from(u32::from_be(
                    sin.sin_addr.s_addr,
                ))))
            }
            libc::AF_INET6 if len >= mem::size_of::<libc::sockaddr_in6>() => {
                let sin6 = &*name.cast::<libc::sockaddr_in6>();
                Some(IpAddr::V6(Ipv6Addr::from(sin6.sin6_addr.s6_addr)))
            }
            _ => None,
        }
    }
}

/// Translates a realtime arrival stamp into CLOCK_MONOTONIC, given both clocks read "now".
fn to_monotonic(
    stamp_realtime: Duration,
    realtime_now: Duration,
    monotonic_now: Duration,
) -> Duration {
    let age = realtime_now.saturating_sub(stamp_realtime);
    monotonic_now.saturating_sub(age)
}

fn clock(id: ClockId) -> Duration {
    // Both clocks always exist on Linux; clock_gettime can only fail for an invalid clock id.
    clock_gettime(id)
        .map(Duration::from)
        .expect("CLOCK_MONOTONIC and CLOCK_REALTIME exist on Linux")
}

fn timespec_to_duration(ts: libc::timespec) -> Option<Duration> {
    let secs = u64::try_from(ts.tv_sec).ok()?;
    let nanos = u32::try_from(ts.tv_nsec)
        .ok()
        .filter(|n| *n < 1_000_000_000)?;
    Some(Duration::new(secs, nanos))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A VRRP packet from 192.0.2.1 to 224.0.0.18 as an IPv4 raw socket delivers it: 20-byte
    /// header (TTL 255, protocol 112), then a 4-byte payload.
    const IPV4_PACKET: [u8; 24] = [
        0x45, 0xc0, 0x00, 0x18, // version 4, IHL 5, DSCP CS6, total length 24
        0x00, 0x00, 0x40, 0x00, // id 0, DF
        0xff, 0x70, 0x00, 0x00, // TTL 255, protocol 112, checksum (not checked here)
        192, 0, 2, 1, // source
        224, 0, 0, 18, // destination
        0x31, 0x2a, 0x64, 0x01, // payload
    ];

    #[test]
    fn ipv4_header_is_split_at_its_length() {
        let (ttl, payload) = split_ipv4_header(&IPV4_PACKET).unwrap();
        assert_eq!(ttl, 255);
        assert_eq!(IPV4_PACKET[payload], [0x31, 0x2a, 0x64, 0x01]);
    }

    #[test]
    fn ipv4_options_are_skipped() {
        let mut packet = IPV4_PACKET[..20].to_vec();
        packet[0] = 0x46; // IHL 6: one option word
        packet[3] = 28;
        packet.extend_from_slice(&[0x94, 0x04, 0x00, 0x00]); // router alert
        packet.extend_from_slice(&[1, 2, 3, 4]);
        assert_eq!(split_ipv4_header(&packet), Some((255, 24..28)));
    }

    #[test]
    fn trailing_bytes_beyond_total_length_are_not_payload() {
        let mut packet = IPV4_PACKET.to_vec();
        packet.extend_from_slice(&[0, 0]); // Ethernet padding
        assert_eq!(split_ipv4_header(&packet).unwrap().1, 20..24);
    }

    #[test]
    fn malformed_ipv4_headers_are_rejected() {
        let mut short_ihl = IPV4_PACKET;
        short_ihl[0] = 0x44;
        let mut not_v4 = IPV4_PACKET;
        not_v4[0] = 0x65;
        let mut total_too_long = IPV4_PACKET;
        total_too_long[3] = 25;
        let mut total_inside_header = IPV4_PACKET;
        total_inside_header[3] = 19;
        for bad in [
            &short_ihl[..],
            &not_v4,
            &total_too_long,
            &total_inside_header,
            &IPV4_PACKET[..19],
            &[],
        ] {
            assert_eq!(split_ipv4_header(bad), None, "{bad:02x?}");
        }
    }

    #[test]
    fn realtime_stamp_becomes_monotonic_by_its_age() {
        let mono = to_monotonic(
            Duration::from_millis(1_000_000_500),
            Duration::from_millis(1_000_000_750),
            Duration::from_millis(9_000),
        );
        assert_eq!(mono, Duration::from_millis(8_750));
    }

    #[test]
    fn stamp_from_the_future_after_a_clock_step_is_not_later_than_now() {
        let mono = to_monotonic(
            Duration::from_secs(200),
            Duration::from_secs(100),
            Duration::from_secs(9),
        );
        assert_eq!(mono, Duration::from_secs(9));
    }

    #[test]
    fn invalid_timespecs_are_no_stamp() {
        let ts = |tv_sec, tv_nsec| libc::timespec { tv_sec, tv_nsec };
        assert_eq!(timespec_to_duration(ts(3, 5)), Some(Duration::new(3, 5)));
        assert_eq!(timespec_to_duration(ts(-1, 5)), None);
        assert_eq!(timespec_to_duration(ts(1, 1_000_000_000)), None);
    }

    #[test]
    fn would_block_is_recognised() {
        assert!(RecvError::from(io::Error::from(io::ErrorKind::WouldBlock)).is_would_block());
        assert!(!RecvError::BadIpv4Header.is_would_block());
    }
}
