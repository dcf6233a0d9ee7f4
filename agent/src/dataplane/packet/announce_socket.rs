//! The AF_PACKET socket that puts gratuitous ARP and unsolicited neighbour advertisement frames
//! on one interface. It is send-only: opened with protocol 0, the kernel queues nothing to it.

use std::io;
use std::mem;
use std::net::{Ipv4Addr, Ipv6Addr};

use socket2::{Domain, SockAddr, Socket, Type};

use super::announce_frame::{gratuitous_arp_frame, unsolicited_na_frame};
use super::announce_plan::Announcement;
use super::interface::InterfaceInfo;
use super::PacketError;

const ETH_P_ARP: u16 = 0x0806;
const ETH_P_IPV6: u16 = 0x86dd;

/// Sends VIP announcements on one interface.
#[derive(Debug)]
pub struct AnnounceSocket {
    socket: Socket,
    interface: String,
    ifindex: u32,
    sender_mac: [u8; 6],
}

impl AnnounceSocket {
    /// Opens the socket on `interface`. Announcements carry `sender_mac` (the VRRP virtual MAC
    /// when the VIP answers on one without a macvlan of its own) or, without it, the
    /// interface's own MAC, which is the virtual MAC when `interface` is a use_vmac macvlan.
    pub fn open(
        interface: &str,
        sender_mac: Option<[u8; 6]>,
    ) -> Result<AnnounceSocket, PacketError> {
        let info = InterfaceInfo::lookup(interface)?;
        let sender_mac = sender_mac
            .or(info.mac)
            .ok_or_else(|| PacketError::NoMacAddress {
                interface: interface.to_owned(),
            })?;
        let socket = send_only_link_socket(info.index).map_err(PacketError::io(
            interface,
            "opening an AF_PACKET socket for ARP/NA",
        ))?;
        Ok(AnnounceSocket {
            socket,
            interface: info.name,
            ifindex: info.index,
            sender_mac,
        })
    }

    pub fn interface(&self) -> &str {
        &self.interface
    }

    /// The MAC address the announcements claim for the VIPs.
    pub fn sender_mac(&self) -> [u8; 6] {
        self.sender_mac
    }

    /// Broadcasts one gratuitous ARP request for `vip`.
    pub fn send_gratuitous_arp(&self, vip: Ipv4Addr) -> io::Result<()> {
        let frame = gratuitous_arp_frame(vip, self.sender_mac);
        self.send_frame(&frame, ETH_P_ARP)
    }

    /// Sends one unsolicited neighbour advertisement for `vip` to all nodes.
    pub fn send_unsolicited_na(&self, vip: Ipv6Addr) -> io::Result<()> {
        let frame = unsolicited_na_frame(vip, self.sender_mac);
        self.send_frame(&frame, ETH_P_IPV6)
    }

    /// Sends what an [`super::AnnouncePlan`] asked for.
    pub fn send(&self, announcement: Announcement) -> io::Result<()> {
        match announcement {
            Announcement::GratuitousArp(vip) => self.send_gratuitous_arp(vip),
            Announcement::UnsolicitedNa(vip) => self.send_unsolicited_na(vip),
        }
    }

    fn send_frame(&self, frame: &[u8], ethertype: u16) -> io::Result<()> {
        let mut destination = [0u8; 6];
        destination.copy_from_slice(&frame[..6]);
        let sent = self
            .socket
            .send_to(frame, &link_address(self.ifindex, ethertype, destination))?;
        if sent != frame.len() {
            return Err(io::Error::new(
                io::ErrorKind::WriteZero,
                format!("AF_PACKET socket sent {sent} of {} bytes", frame.len()),
            ));
        }
        Ok(())
    }
}

/// A `sockaddr_ll` naming `ifindex`, the frame's ethertype and destination MAC.
/// A non-blocking AF_PACKET socket bound to interface `ifindex` with protocol 0, so the kernel
/// queues nothing to it: for sending whole frames.
pub(super) fn send_only_link_socket(ifindex: u32) -> io::Result<Socket> {
    let socket = Socket::new(Domain::PACKET, Type::RAW, None)?;
    socket.bind(&link_address(ifindex, 0, [0; 6]))?;
    socket.set_nonblocking(true)?;
    Ok(socket)
}

pub(super) fn link_address(ifindex: u32, ethertype: u16, destination: [u8; 6]) -> SockAddr {
    // SAFETY: sockaddr_storage is plain data, larger than and aligned for sockaddr_ll, so the
    // zeroed storage may be viewed as one; the family and length given match that type.
    unsafe {
        let mut storage: libc::sockaddr_storage = mem::zeroed();
        let ll = &mut *(&mut storage as *mut libc::sockaddr_storage).cast::<libc::sockaddr_ll>();
        ll.sll_family = libc::AF_PACKET as libc::sa_family_t;
        ll.sll_protocol = ethertype.to_be();
        ll.sll_ifindex = ifindex as libc::c_int;
        ll.sll_halen = 6;
        ll.sll_addr[..6].copy_from_slice(&destination);
        SockAddr::new(
            storage,
            mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
        )
    }
}
