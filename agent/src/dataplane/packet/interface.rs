//! What the packet sockets need to know about one interface: its index, its MAC address and the
//! addresses VRRP sends from, read once through getifaddrs(3) in the caller's network namespace.

use std::net::{Ipv4Addr, Ipv6Addr};

use nix::ifaddrs::getifaddrs;

use super::PacketError;

/// A snapshot of one interface, taken when a socket is opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterfaceInfo {
    pub name: String,
    pub index: u32,
    /// The interface's own hardware address; `None` on interfaces without one (loopback, tun).
    pub mac: Option<[u8; 6]>,
    /// The first IPv4 address the kernel lists on the interface. The kernel lists an interface's
    /// primary addresses before its secondaries, so this is the primary address RFC 9568 §5.1.1.1
    /// asks VRRPv2/v3 over IPv4 to send from.
    pub primary_ipv4: Option<Ipv4Addr>,
    /// The first link-local IPv6 address on the interface: RFC 9568 §5.1.2.1 makes it the
    /// source of every IPv6 advertisement.
    pub link_local_ipv6: Option<Ipv6Addr>,
}

impl InterfaceInfo {
    /// Reads the interface named `name` as the kernel sees it now.
    pub fn lookup(name: &str) -> Result<InterfaceInfo, PacketError> {
        let not_found = || PacketError::InterfaceNotFound {
            interface: name.to_owned(),
        };
        let index = nix::net::if_::if_nametoindex(name).map_err(|_| not_found())?;
        let addresses = getifaddrs().map_err(|errno| PacketError::Io {
            interface: name.to_owned(),
            action: "listing interface addresses (getifaddrs)",
            source: errno.into(),
        })?;
        let mut info = InterfaceInfo {
            name: name.to_owned(),
            index,
            mac: None,
            primary_ipv4: None,
            link_local_ipv6: None,
        };
        for entry in addresses.filter(|entry| entry.interface_name == name) {
            let Some(address) = entry.address else {
                continue;
            };
            if let Some(link) = address.as_link_addr() {
                info.mac = info.mac.or(link.addr().filter(|mac| *mac != [0; 6]));
            } else if let Some(v4) = address.as_sockaddr_in() {
                info.primary_ipv4 = info.primary_ipv4.or(Some(v4.ip()));
            } else if let Some(v6) = address.as_sockaddr_in6() {
                if v6.ip().is_unicast_link_local() {
                    info.link_local_ipv6 = info.link_local_ipv6.or(Some(v6.ip()));
                }
            }
        }
        Ok(info)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_has_an_index_and_no_mac() {
        let lo = InterfaceInfo::lookup("lo").expect("every namespace has lo");
        assert!(lo.index > 0);
        assert_eq!(lo.mac, None);
        assert_eq!(lo.link_local_ipv6, None);
    }

    #[test]
    fn unknown_interface_is_named_in_the_error() {
        let err = InterfaceInfo::lookup("vipd-nonexist").unwrap_err();
        assert!(err.to_string().contains("vipd-nonexist"), "{err}");
    }
}
