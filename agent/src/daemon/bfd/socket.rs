//! The BFD sockets (RFC 5881): one listener per family on UDP port 3784 that reports each
//! packet's TTL / hop limit (IP_RECVTTL, IPV6_RECVHOPLIMIT) for the GTSM check, and one socket
//! per session that sends from a port in 49152-65535 with the session's TTL, bound to its
//! interface.
use std::io;
use std::mem::{self, MaybeUninit};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use crate::bfd::wire::{CONTROL_PORT, SOURCE_PORTS};
use crate::dataplane::packet::set_int_option;
use crate::family::IpFamily;

/// One received datagram's sender and TTL / hop limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Received {
    pub len: usize,
    pub source: IpAddr,
    pub ttl: u8,
}

/// Receives every BFD Control packet of one family on this host (network namespace).
pub struct Listener {
    socket: Socket,
}

impl Listener {
    pub fn bind(family: IpFamily) -> io::Result<Listener> {
        let (domain, address) = match family {
            IpFamily::V4 => (
                Domain::IPV4,
                SocketAddr::from((Ipv4Addr::UNSPECIFIED, CONTROL_PORT)),
            ),
            IpFamily::V6 => (
                Domain::IPV6,
                SocketAddr::from((Ipv6Addr::UNSPECIFIED, CONTROL_PORT)),
            ),
        };
        let socket = Socket::new(
            domain,
            Type::DGRAM.nonblocking().cloexec(),
            Some(Protocol::UDP),
        )?;
        socket.set_reuse_address(true)?;
        match family {
            IpFamily::V4 => set_int_option(&socket, libc::IPPROTO_IP, libc::IP_RECVTTL, 1)?,
            IpFamily::V6 => {
                socket.set_only_v6(true)?;
                set_int_option(&socket, libc::IPPROTO_IPV6, libc::IPV6_RECVHOPLIMIT, 1)?;
            }
        }
        socket.bind(&address.into())?;
        Ok(Listener { socket })
    }

    /// One datagram, or `None` when none is waiting.
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<Option<Received>> {
        let mut name = MaybeUninit::<libc::sockaddr_storage>::zeroed();
        // Room for one IP_TTL or IPV6_HOPLIMIT int, generously aligned.
        let mut control = [0u64; 8];
        let mut iov = libc::iovec {
            iov_base: buf.as_mut_ptr().cast(),
            iov_len: buf.len(),
        };
        // SAFETY: an all-zero msghdr is valid; every pointer set below outlives the call.
        let mut msg: libc::msghdr = unsafe { mem::zeroed() };
        msg.msg_name = name.as_mut_ptr().cast();
        msg.msg_namelen = mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = mem::size_of_val(&control);
        // SAFETY: msg describes writable buffers of the lengths given.
        let received = unsafe { libc::recvmsg(self.socket.as_raw_fd(), &mut msg, 0) };
        if received < 0 {
            let error = io::Error::last_os_error();
            return if error.kind() == io::ErrorKind::WouldBlock {
                Ok(None)
            } else {
                Err(error)
            };
        }
        // SAFETY: the kernel filled `name` (of `msg_namelen` bytes) and the control buffer.
        let (source, ttl) = unsafe {
            let address = SockAddr::new(name.assume_init(), msg.msg_namelen);
            (address.as_socket().map(|a| a.ip()), ttl_of(&msg))
        };
        let (Some(source), Some(ttl)) = (source, ttl) else {
            // No TTL means the GTSM check cannot pass: report the lowest.
            return Ok(source.map(|source| Received {
                len: received as usize,
                source,
                ttl: 0,
            }));
        };
        Ok(Some(Received {
            len: received as usize,
            source: canonical(source),
            ttl,
        }))
    }
}

/// An IPv4-mapped IPv6 address as the IPv4 address it is.
fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
        v4 => v4,
    }
}

/// The IP_TTL or IPV6_HOPLIMIT control message of a received datagram.
///
/// # Safety
/// `msg` must be a msghdr that recvmsg(2) filled.
unsafe fn ttl_of(msg: &libc::msghdr) -> Option<u8> {
    let mut cmsg = libc::CMSG_FIRSTHDR(msg);
    while !cmsg.is_null() {
        let data = libc::CMSG_DATA(cmsg);
        match ((*cmsg).cmsg_level, (*cmsg).cmsg_type) {
            (libc::IPPROTO_IP, libc::IP_TTL) | (libc::IPPROTO_IPV6, libc::IPV6_HOPLIMIT) => {
                let value: libc::c_int = std::ptr::read_unaligned(data.cast());
                return u8::try_from(value).ok();
            }
            _ => {}
        }
        cmsg = libc::CMSG_NXTHDR(msg, cmsg);
    }
    None
}

impl AsFd for Listener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.socket.as_fd()
    }
}

/// Sends one session's Control packets.
pub struct Sender {
    socket: Socket,
    destination: SockAddr,
}

impl Sender {
    /// A socket from `source` (or the kernel's choice) and a free port of 49152-65535, with
    /// TTL / hop limit `ttl`, bound to `interface` if given, aimed at `neighbor`'s port 3784.
    pub fn open(
        neighbor: IpAddr,
        source: Option<IpAddr>,
        interface: Option<&str>,
        ttl: u8,
    ) -> io::Result<Sender> {
        let family = IpFamily::of(neighbor);
        let domain = match family {
            IpFamily::V4 => Domain::IPV4,
            IpFamily::V6 => Domain::IPV6,
        };
        let socket = Socket::new(
            domain,
            Type::DGRAM.nonblocking().cloexec(),
            Some(Protocol::UDP),
        )?;
        let mut scope_id = 0;
        if let Some(interface) = interface {
            socket.bind_device(Some(interface.as_bytes()))?;
            scope_id = nix::net::if_::if_nametoindex(interface).map_err(io::Error::from)?;
        }
        // Free bind: the source address may still be tentative (IPv6 DAD) or not yet added.
        match family {
            IpFamily::V4 => {
                socket.set_ttl(u32::from(ttl))?;
                socket.set_freebind(true)?;
            }
            IpFamily::V6 => {
                socket.set_unicast_hops_v6(u32::from(ttl))?;
                socket.set_freebind_ipv6(true)?;
            }
        }
        let local = source.unwrap_or(match family {
            IpFamily::V4 => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            IpFamily::V6 => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        });
        bind_source_port(&socket, local, scope_id)?;
        let destination = match neighbor {
            IpAddr::V4(v4) => SocketAddr::V4(SocketAddrV4::new(v4, CONTROL_PORT)),
            IpAddr::V6(v6) => {
                let scope = if is_link_local(v6) { scope_id } else { 0 };
                SocketAddr::V6(SocketAddrV6::new(v6, CONTROL_PORT, 0, scope))
            }
        };
        Ok(Sender {
            socket,
            destination: destination.into(),
        })
    }

    pub fn send(&self, packet: &[u8]) -> io::Result<()> {
        self.socket.send_to(packet, &self.destination).map(drop)
    }
}

fn is_link_local(address: Ipv6Addr) -> bool {
    address.segments()[0] & 0xffc0 == 0xfe80
}

/// Binds to a port of RFC 5881's source range, starting at a random one.
fn bind_source_port(socket: &Socket, local: IpAddr, scope_id: u32) -> io::Result<()> {
    let span = u32::from(SOURCE_PORTS.end() - SOURCE_PORTS.start()) + 1;
    let start = fastrand::u32(0..span);
    let mut last_error = None;
    for offset in 0..span {
        let port = SOURCE_PORTS.start() + ((start + offset) % span) as u16;
        let address = match local {
            IpAddr::V4(v4) => SocketAddr::V4(SocketAddrV4::new(v4, port)),
            IpAddr::V6(v6) => {
                let scope = if is_link_local(v6) { scope_id } else { 0 };
                SocketAddr::V6(SocketAddrV6::new(v6, port, 0, scope))
            }
        };
        match socket.bind(&address.into()) {
            Ok(()) => return Ok(()),
            Err(error) if error.kind() == io::ErrorKind::AddrInUse => last_error = Some(error),
            Err(error) => return Err(error),
        }
    }
    Err(last_error.unwrap_or_else(|| io::Error::from(io::ErrorKind::AddrInUse)))
}
