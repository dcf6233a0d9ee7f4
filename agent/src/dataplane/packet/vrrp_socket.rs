//! The raw IP socket that sends and receives VRRP advertisements on one interface for one IP
//! family, configured as RFC 9568 demands (TTL / hop limit 255, the right source address) and
//! usable both from a dedicated polling thread and from tokio.
//!
//! With keepalived's `auth_type AH` adverts are IP protocol 51 instead ([`AdvertProtocol`]):
//! the socket is opened for that protocol with `IP_HDRINCL`, because the AH ICV covers the IP
//! header, so vipd writes the header itself (identification included: the kernel would fill a
//! zero one in after the ICV was computed). It then moves whole IPv4 packets both ways.

use crate::family::IpFamily;
use std::io::{self, IoSlice};
use std::net::{IpAddr, SocketAddrV4, SocketAddrV6};
use std::ops::Range;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};

use nix::sys::socket::{sendmsg, ControlMessage, MsgFlags, SockaddrIn, SockaddrIn6};
use socket2::{Domain, InterfaceIndexOrAddress, Protocol, Socket, Type};
use tokio::io::unix::AsyncFd;
use tokio::io::Interest;

use super::interface::InterfaceInfo;
use super::receive::{recv_packet, Received, RecvError};
use super::sockopt::set_int_option;
use super::PacketError;
use crate::vrrp::wire::{ah::IP_PROTOCOL_AH, IP_PROTOCOL_VRRP, VRRP_GROUP_V4, VRRP_GROUP_V6};

/// The IP protocol adverts travel as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdvertProtocol {
    /// VRRP itself (112): the socket moves VRRP messages, the kernel writes the IP header.
    Vrrp,
    /// keepalived's `auth_type AH` (IPv4 only): IPsec AH (51) around the VRRP message; the
    /// socket moves whole IPv4 packets.
    IpsecAh,
}

/// VRRP requires TTL / hop limit 255 on send and drops anything else on receive, which proves
/// a packet was not routed.
const VRRP_TTL: u32 = 255;
/// IP precedence "internetwork control", as routers mark their control traffic.
const INTERNETWORK_CONTROL: u32 = 0xc0;

/// A raw socket for IP protocol 112 bound to one interface and one family.
///
/// Multicast mode: [`VrrpSocket::join_group`], then send to [`VRRP_GROUP_V4`] /
/// [`VRRP_GROUP_V6`]. Unicast mode: do not join, send to each configured peer; the socket still
/// receives from any sender, and the caller filters by [`super::RecvMeta::source`].
///
/// The socket is non-blocking. The engine thread polls [`VrrpSocket::as_raw_fd`] (in its epoll
/// set) and calls [`VrrpSocket::recv`] until it reports would-block; tokio code wraps
/// it in [`AsyncVrrpSocket`].
#[derive(Debug)]
pub struct VrrpSocket {
    socket: Socket,
    interface: String,
    ifindex: u32,
    family: IpFamily,
    source: IpAddr,
    configured_source: Option<IpAddr>,
    joined: bool,
    protocol: AdvertProtocol,
}

impl VrrpSocket {
    /// Opens the socket on `interface` for `family`. `source` is the configured unicast source
    /// address; without one, adverts leave from the interface's primary IPv4 address or its
    /// link-local IPv6 address as the RFC requires, read from the interface now.
    pub fn open(
        interface: &str,
        family: IpFamily,
        source: Option<IpAddr>,
        protocol: AdvertProtocol,
    ) -> Result<VrrpSocket, PacketError> {
        let info = InterfaceInfo::lookup(interface)?;
        if protocol == AdvertProtocol::IpsecAh && family != IpFamily::V4 {
            return Err(PacketError::AhNeedsIpv4 {
                interface: interface.to_owned(),
            });
        }
        if let Some(address) = source.filter(|address| IpFamily::of(*address) != family) {
            return Err(PacketError::SourceFamilyMismatch {
                interface: interface.to_owned(),
                family,
                source_address: address,
            });
        }
        let configured_source = source;
        let source = match configured_source {
            Some(address) => address,
            None => interface_source(&info, family)?,
        };
        let socket = open_configured(&info, family, protocol)
            .map_err(PacketError::io(interface, "setting up the VRRP raw socket"))?;
        Ok(VrrpSocket {
            socket,
            interface: info.name,
            ifindex: info.index,
            family,
            source,
            configured_source,
            joined: false,
            protocol,
        })
    }

    /// Re-reads the interface's primary IPv4 or link-local IPv6 address, for when netlink
    /// reports that the interface's addresses changed; a configured source never changes.
    /// Returns the source now in use.
    pub fn refresh_source(&mut self) -> Result<IpAddr, PacketError> {
        if self.configured_source.is_none() {
            let info = InterfaceInfo::lookup(&self.interface)?;
            self.source = interface_source(&info, self.family)?;
        }
        Ok(self.source)
    }

    /// Joins the VRRP multicast group on this socket's interface (multicast mode).
    pub fn join_group(&mut self) -> Result<(), PacketError> {
        if self.joined {
            return Ok(());
        }
        match self.family {
            IpFamily::V4 => self.socket.join_multicast_v4_n(
                &VRRP_GROUP_V4,
                &InterfaceIndexOrAddress::Index(self.ifindex),
            ),
            IpFamily::V6 => self.socket.join_multicast_v6(&VRRP_GROUP_V6, self.ifindex),
        }
        .map_err(PacketError::io(
            &self.interface,
            "joining the VRRP multicast group",
        ))?;
        self.joined = true;
        Ok(())
    }

    /// Leaves the VRRP multicast group; the kernel then stops delivering group adverts here.
    /// Dropping the socket leaves too.
    pub fn leave_group(&mut self) -> Result<(), PacketError> {
        if !self.joined {
            return Ok(());
        }
        match self.family {
            IpFamily::V4 => self.socket.leave_multicast_v4_n(
                &VRRP_GROUP_V4,
                &InterfaceIndexOrAddress::Index(self.ifindex),
            ),
            IpFamily::V6 => self.socket.leave_multicast_v6(&VRRP_GROUP_V6, self.ifindex),
        }
        .map_err(PacketError::io(
            &self.interface,
            "leaving the VRRP multicast group",
        ))?;
        self.joined = false;
        Ok(())
    }

    /// The address adverts leave from; the codec needs it for the VRRPv3 checksum's
    /// pseudo-header and the state machine for the equal-priority tie-break.
    pub fn source(&self) -> IpAddr {
        self.source
    }

    pub fn family(&self) -> IpFamily {
        self.family
    }

    pub fn interface(&self) -> &str {
        &self.interface
    }

    pub fn ifindex(&self) -> u32 {
        self.ifindex
    }

    /// What the socket's adverts travel as.
    pub fn protocol(&self) -> AdvertProtocol {
        self.protocol
    }

    /// Sends one VRRP message (`payload`, everything after the IP header; with
    /// [`AdvertProtocol::IpsecAh`] the whole IPv4 packet) to `destination`: the family's group
    /// in multicast mode, a peer in unicast mode. The source address and the
    /// outgoing interface are pinned per packet with IP_PKTINFO / IPV6_PKTINFO, so neither the
    /// routing table nor another address on the interface can change them. Like every call on
    /// this non-blocking socket it fails with `WouldBlock` rather than wait when the socket's
    /// send buffer is full.
    pub fn send_advert(&self, payload: &[u8], destination: IpAddr) -> io::Result<()> {
        let iov = [IoSlice::new(payload)];
        let sent = match (self.source, destination) {
            (IpAddr::V4(source), IpAddr::V4(destination)) => {
                let info = libc::in_pktinfo {
                    ipi_ifindex: self.ifindex as libc::c_int,
                    ipi_spec_dst: libc::in_addr {
                        s_addr: u32::from(source).to_be(),
                    },
                    ipi_addr: libc::in_addr { s_addr: 0 },
                };
                let to = SockaddrIn::from(SocketAddrV4::new(destination, 0));
                sendmsg(
                    self.as_raw_fd(),
                    &iov,
                    &[ControlMessage::Ipv4PacketInfo(&info)],
                    MsgFlags::empty(),
                    Some(&to),
                )
            }
            (IpAddr::V6(source), IpAddr::V6(destination)) => {
                let info = libc::in6_pktinfo {
                    ipi6_addr: libc::in6_addr {
                        s6_addr: source.octets(),
                    },
                    ipi6_ifindex: self.ifindex,
                };
                // The scope id matters for link-local peers and the group; the kernel ignores it
                // for global destinations.
                let to = SockaddrIn6::from(SocketAddrV6::new(destination, 0, 0, self.ifindex));
                sendmsg(
                    self.as_raw_fd(),
                    &iov,
                    &[ControlMessage::Ipv6PacketInfo(&info)],
                    MsgFlags::empty(),
                    Some(&to),
                )
            }
            _ => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "cannot send a VRRP advert to {destination} from the {} socket on {}",
                        self.family, self.interface
                    ),
                ))
            }
        }?;
        if sent != payload.len() {
            return Err(io::Error::new(
                io::ErrorKind::WriteZero,
                format!("raw socket sent {sent} of {} bytes", payload.len()),
            ));
        }
        Ok(())
    }

    /// Receives one VRRP message into `buf` without blocking. When nothing is queued it returns
    /// an error whose [`RecvError::is_would_block`] is true. A packet larger than `buf` is
    /// dropped and reported as [`RecvError::Truncated`]; VRRP messages fit in 1500 bytes.
    /// With [`AdvertProtocol::IpsecAh`] the payload is the whole IPv4 packet, which the AH
    /// check needs.
    pub fn recv<'buf>(&self, buf: &'buf mut [u8]) -> Result<Received<'buf>, RecvError> {
        let (payload, meta) = recv_packet(self.as_raw_fd(), buf)?;
        Ok(Received {
            payload: &buf[self.protocol.delivered(payload)],
            meta,
        })
    }
}

impl AsRawFd for VrrpSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.socket.as_raw_fd()
    }
}

impl AsFd for VrrpSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.socket.as_fd()
    }
}

impl Drop for VrrpSocket {
    fn drop(&mut self) {
        // Closing the socket would drop the membership too; leaving explicitly sends the MLD /
        // IGMP leave now and keeps the group's life visible in the code.
        if let Err(err) = self.leave_group() {
            tracing::warn!(error = %err, "leaving the VRRP group on close failed");
        }
    }
}

/// The address RFC 9568 sends adverts from when none is configured.
fn interface_source(info: &InterfaceInfo, family: IpFamily) -> Result<IpAddr, PacketError> {
    match family {
        IpFamily::V4 => info.primary_ipv4.map(IpAddr::V4),
        IpFamily::V6 => info.link_local_ipv6.map(IpAddr::V6),
    }
    .ok_or_else(|| PacketError::NoSourceAddress {
        interface: info.name.clone(),
        family,
    })
}

impl AdvertProtocol {
    fn number(self) -> i32 {
        match self {
            AdvertProtocol::Vrrp => i32::from(IP_PROTOCOL_VRRP),
            AdvertProtocol::IpsecAh => i32::from(IP_PROTOCOL_AH),
        }
    }

    /// What of a received IPv4 packet the socket hands over: the payload, or with AH the
    /// packet from its first byte to the end of the payload.
    fn delivered(self, payload: Range<usize>) -> Range<usize> {
        match self {
            AdvertProtocol::Vrrp => payload,
            AdvertProtocol::IpsecAh => 0..payload.end,
        }
    }
}

fn open_configured(
    info: &InterfaceInfo,
    family: IpFamily,
    protocol: AdvertProtocol,
) -> io::Result<Socket> {
    let domain = match family {
        IpFamily::V4 => Domain::IPV4,
        IpFamily::V6 => Domain::IPV6,
    };
    let socket = Socket::new(domain, Type::RAW, Some(Protocol::from(protocol.number())))?;
    if protocol == AdvertProtocol::IpsecAh {
        socket.set_header_included_v4(true)?;
    }
    socket.bind_device(Some(info.name.as_bytes()))?;
    match family {
        IpFamily::V4 => {
            socket.set_ttl(VRRP_TTL)?;
            socket.set_multicast_ttl_v4(VRRP_TTL)?;
            socket.set_multicast_loop_v4(false)?;
            // Only groups this socket joined, not every group any socket on the host joined.
            socket.set_multicast_all_v4(false)?;
            socket.set_tos(INTERNETWORK_CONTROL)?;
            set_int_option(&socket, libc::IPPROTO_IP, libc::IP_PKTINFO, 1)?;
        }
        IpFamily::V6 => {
            socket.set_unicast_hops_v6(VRRP_TTL)?;
            socket.set_multicast_hops_v6(VRRP_TTL)?;
            socket.set_multicast_loop_v6(false)?;
            socket.set_multicast_all_v6(false)?;
            socket.set_multicast_if_v6(info.index)?;
            socket.set_tclass_v6(INTERNETWORK_CONTROL)?;
            set_int_option(&socket, libc::IPPROTO_IPV6, libc::IPV6_RECVPKTINFO, 1)?;
            set_int_option(&socket, libc::IPPROTO_IPV6, libc::IPV6_RECVHOPLIMIT, 1)?;
        }
    }
    set_int_option(&socket, libc::SOL_SOCKET, libc::SO_TIMESTAMPNS, 1)?;
    // A flood that fills the receive queue loses the master's adverts with the junk: the
    // kernel's count of those drops comes with each packet, for the status.
    set_int_option(&socket, libc::SOL_SOCKET, libc::SO_RXQ_OVFL, 1)?;
    socket.set_nonblocking(true)?;
    Ok(socket)
}

/// A [`VrrpSocket`] registered with the tokio reactor, for code that runs on tokio.
#[derive(Debug)]
pub struct AsyncVrrpSocket {
    inner: AsyncFd<VrrpSocket>,
}

impl AsyncVrrpSocket {
    /// Registers `socket` with the current tokio runtime. Panics outside a runtime, like every
    /// tokio I/O constructor.
    pub fn new(socket: VrrpSocket) -> io::Result<AsyncVrrpSocket> {
        // SAFETY: the AsyncFd owns the VrrpSocket, whose fd stays open and unchanged until the
        // AsyncFd is dropped or `into_inner` hands it back (VrrpSocket never replaces its fd).
        let inner = unsafe { AsyncFd::register_with_interest(socket, Interest::READABLE) }
            .map_err(|err| err.into_parts().1)?;
        Ok(AsyncVrrpSocket { inner })
    }

    /// Waits for and receives the next VRRP message; drop reasons come back as errors.
    pub async fn recv<'buf>(&self, buf: &'buf mut [u8]) -> Result<Received<'buf>, RecvError> {
        loop {
            let mut ready = self.inner.readable().await?;
            match recv_packet(self.inner.get_ref().as_raw_fd(), buf) {
                Err(err) if err.is_would_block() => ready.clear_ready(),
                Err(err) => return Err(err),
                Ok((payload, meta)) => {
                    let payload = self.inner.get_ref().protocol.delivered(payload);
                    return Ok(Received {
                        payload: &buf[payload],
                        meta,
                    });
                }
            }
        }
    }

    pub fn get_ref(&self) -> &VrrpSocket {
        self.inner.get_ref()
    }

    pub fn get_mut(&mut self) -> &mut VrrpSocket {
        self.inner.get_mut()
    }

    /// Deregisters from tokio and returns the socket, for example to hand it to the timing thread.
    pub fn into_inner(self) -> VrrpSocket {
        self.inner.into_inner()
    }
}
