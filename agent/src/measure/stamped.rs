//! UDP datagrams with the kernel's receive stamp, for the probe and the echo responder.
//!
//! A thread that reads a socket learns of a datagram only when the scheduler runs it, and on a
//! loaded 2-core machine that can be milliseconds after the datagram arrived. The kernel's stamp
//! (SO_TIMESTAMPNS) is taken as the datagram reaches the socket, so the timeline can tell the
//! network's hops from the instruments' own wake-ups.
use std::{
    io::{self, IoSliceMut},
    net::{SocketAddr, SocketAddrV4, UdpSocket},
    os::fd::AsRawFd,
};

use nix::{
    cmsg_space,
    sys::{
        socket::{recvmsg, setsockopt, sockopt, ControlMessageOwned, MsgFlags, SockaddrIn},
        time::TimeSpec,
    },
};

use super::clock::{monotonic_ns, realtime_ns};

/// One datagram read from a stamped socket.
pub struct Datagram {
    pub len: usize,
    /// The sender (IPv4 only: the probe's addresses are IPv4).
    pub from: Option<SocketAddr>,
    /// When it reached the socket, CLOCK_MONOTONIC ns (the kernel's stamp; the read time if the
    /// kernel gave none).
    pub arrived_ns: u64,
}

/// Asks the kernel to stamp every datagram `socket` receives.
pub fn enable(socket: &UdpSocket) -> io::Result<()> {
    setsockopt(socket, sockopt::ReceiveTimestampns, &true)?;
    Ok(())
}

/// Reads one datagram into `buf` with its arrival time.
pub fn recv(socket: &UdpSocket, buf: &mut [u8]) -> io::Result<Datagram> {
    let mut control = cmsg_space!(TimeSpec);
    let mut iov = [IoSliceMut::new(buf)];
    let message = recvmsg::<SockaddrIn>(
        socket.as_raw_fd(),
        &mut iov,
        Some(&mut control),
        MsgFlags::empty(),
    )?;
    let stamp = message.cmsgs()?.find_map(|cmsg| match cmsg {
        ControlMessageOwned::ScmTimestampns(ts) => {
            Some(ts.tv_sec() as u64 * 1_000_000_000 + ts.tv_nsec() as u64)
        }
        _ => None,
    });
    Ok(Datagram {
        len: message.bytes,
        from: message
            .address
            .map(|a| SocketAddr::V4(SocketAddrV4::new(a.ip(), a.port()))),
        arrived_ns: stamp.map_or_else(monotonic_ns, on_monotonic),
    })
}

/// A CLOCK_REALTIME stamp taken moments ago, on CLOCK_MONOTONIC: now minus its age, which a
/// clock step between the stamp and now cannot move by more than the step.
fn on_monotonic(realtime_stamp_ns: u64) -> u64 {
    let age = realtime_ns().saturating_sub(realtime_stamp_ns);
    monotonic_ns().saturating_sub(age)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_datagram_over_loopback_carries_an_arrival_before_its_read() {
        let receiver = UdpSocket::bind("127.0.0.1:0").unwrap();
        enable(&receiver).unwrap();
        // The kernel turns receive stamping on through a deferred static key, moments after
        // the first socket asks; until then it stamps at the read.
        std::thread::sleep(std::time::Duration::from_millis(200));
        let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
        let sent_ns = monotonic_ns();
        sender
            .send_to(b"hello", receiver.local_addr().unwrap())
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        let mut buf = [0u8; 16];
        let datagram = recv(&receiver, &mut buf).unwrap();
        let read_ns = monotonic_ns();
        assert_eq!(&buf[..datagram.len], b"hello");
        assert_eq!(datagram.from, Some(sender.local_addr().unwrap()));
        // Stamped on arrival, not when read 20 ms later.
        assert!(datagram.arrived_ns >= sent_ns, "arrived before it was sent");
        assert!(
            read_ns - datagram.arrived_ns >= 15_000_000,
            "stamped at the read, not on arrival"
        );
    }
}
