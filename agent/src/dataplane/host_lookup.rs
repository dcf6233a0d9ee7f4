//! The running system's answers to what OpenShift's ipfailover scripts ask about the host
//! ([`Host`]): whether an interface exists, its first IPv4 address, and the interface of the
//! route to 8.8.8.8.

use std::net::{IpAddr, Ipv4Addr, UdpSocket};

use nix::ifaddrs::getifaddrs;

use super::packet::InterfaceInfo;
use crate::config::ipfailover::Host;

/// This network namespace, read when asked.
pub struct System;

impl Host for System {
    fn has_interface(&self, name: &str) -> bool {
        nix::net::if_::if_nametoindex(name).is_ok()
    }

    fn ipv4_address(&self, interface: &str) -> Option<Ipv4Addr> {
        InterfaceInfo::lookup(interface).ok()?.primary_ipv4
    }

    /// The kernel's route choice, read without netlink: a connected UDP socket (nothing is
    /// sent) has the route's source address, and the interface holding that address is the
    /// route's (as `ip route get 8.8.8.8` would say, but for a source on another interface).
    fn route_interface(&self) -> Option<String> {
        let socket = UdpSocket::bind("0.0.0.0:0").ok()?;
        socket.connect("8.8.8.8:53").ok()?;
        let IpAddr::V4(source) = socket.local_addr().ok()?.ip() else {
            return None;
        };
        getifaddrs().ok()?.find_map(|entry| {
            let v4 = entry.address?.as_sockaddr_in()?.ip();
            (v4 == source).then_some(entry.interface_name)
        })
    }
}
