//! What a VIP is to the kernel, and how vipd marks the addresses it adds.
//!
//! Every address vipd adds carries `IFA_PROTO = VIPD_ADDRESS_PROTOCOL`. The
//! kernel stores the value with the address and reports it in every dump, so
//! the mark survives vipd: a restarted vipd finds what a dead one left, and an
//! address without the mark (one the admin configured) is never removed.
//!
//! This module is pure: it builds and reads `AddressMessage`s; `Netlink` sends
//! them.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};

use rtnetlink::packet_route::address::{
    AddressAttribute, AddressFlags, AddressHeaderFlags, AddressMessage, AddressProtocol,
};
use rtnetlink::packet_route::AddressFamily;

use super::NetlinkError;

/// The `IFA_PROTO` value marking an address as added by vipd.
///
/// IFA_PROTO (kernel 5.18) is an opaque byte the kernel stores with an
/// address. The kernel itself only ever sets IFAPROT_UNSPEC (0),
/// IFAPROT_KERNEL_LO (1), IFAPROT_KERNEL_RA (2) and IFAPROT_KERNEL_LL (3), so
/// any value above 3 can never be one the kernel assigned. Among the values
/// above 3, 118 (ASCII 'v') is in none of iproute2's protocol tables
/// (rt_addrprotos, rt_protos): it is not keepalived's 18, not VRRP's IP
/// protocol number 112 either, so running keepalived next to vipd during a
/// migration cannot mix up their addresses.
pub const VIPD_ADDRESS_PROTOCOL: u8 = 118;

// IFAPROT_UNSPEC, IFAPROT_KERNEL_LO, _RA and _LL are 0 to 3.
const _: () = assert!(
    VIPD_ADDRESS_PROTOCOL > 3,
    "the mark must not be a kernel value"
);

/// Longest IPv4 address label the kernel accepts (IFNAMSIZ - 1).
const MAX_LABEL_LEN: usize = 15;

/// One virtual address on one interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vip {
    addr: IpAddr,
    prefix_len: u8,
    ifindex: u32,
    label: Option<String>,
    broadcast: Option<Ipv4Addr>,
}

impl Vip {
    /// A VIP `addr/prefix_len` on the interface `ifindex` (the VRRP interface,
    /// or the VIP's own `dev`).
    pub fn new(addr: IpAddr, prefix_len: u8, ifindex: u32) -> Result<Self, NetlinkError> {
        let max = if addr.is_ipv4() { 32 } else { 128 };
        if prefix_len > max {
            return Err(NetlinkError::Invalid(format!(
                "VIP {addr}/{prefix_len}: the prefix length must be at most {max}"
            )));
        }
        if addr.is_unspecified() || addr.is_multicast() {
            return Err(NetlinkError::Invalid(format!(
                "VIP {addr}/{prefix_len}: a VIP must be a unicast address"
            )));
        }
        Ok(Self {
            addr,
            prefix_len,
            ifindex,
            label: None,
            broadcast: None,
        })
    }

    /// An IPv4 label (`eth0:vip`), shown by `ip addr` and by old `ifconfig`.
    pub fn with_label(mut self, label: impl Into<String>) -> Result<Self, NetlinkError> {
        let label = label.into();
        if !self.addr.is_ipv4() {
            return Err(NetlinkError::Invalid(format!(
                "VIP {self}: labels exist only for IPv4 addresses"
            )));
        }
        if label.is_empty() || label.len() > MAX_LABEL_LEN || label.contains('\0') {
            return Err(NetlinkError::Invalid(format!(
                "VIP {self}: label {label:?} must be 1 to {MAX_LABEL_LEN} bytes long"
            )));
        }
        self.label = Some(label);
        Ok(self)
    }

    /// An IPv4 broadcast address (`brd` in keepalived and iproute2). Without
    /// one the address has none, as with `ip addr add` without `brd`.
    pub fn with_broadcast(mut self, broadcast: Ipv4Addr) -> Result<Self, NetlinkError> {
        if !self.addr.is_ipv4() {
            return Err(NetlinkError::Invalid(format!(
                "VIP {self}: a broadcast address exists only for IPv4"
            )));
        }
        self.broadcast = Some(broadcast);
        Ok(self)
    }

    /// The broadcast address of this VIP's subnet (`brd +`), for prefixes
    /// that have one (below /31).
    pub fn subnet_broadcast(&self) -> Option<Ipv4Addr> {
        match self.addr {
            IpAddr::V4(addr) if self.prefix_len < 31 => Some(Ipv4Addr::from(
                u32::from(addr) | (u32::MAX >> self.prefix_len),
            )),
            _ => None,
        }
    }

    pub fn addr(&self) -> IpAddr {
        self.addr
    }

    pub fn prefix_len(&self) -> u8 {
        self.prefix_len
    }

    pub fn ifindex(&self) -> u32 {
        self.ifindex
    }

    pub fn label(&self) -> Option<&str> {
        self.label.as_deref()
    }

    pub fn broadcast(&self) -> Option<Ipv4Addr> {
        self.broadcast
    }

    /// The message that adds this VIP, marked as vipd's.
    ///
    /// IPv6 VIPs carry IFA_F_NODAD: a VIP moves between routers on purpose, so
    /// duplicate address detection would only hold it tentative (unusable,
    /// about a second) on every takeover, and during a brief split brain it
    /// would mark the address "dadfailed" and leave it dead on the new master.
    pub(super) fn add_message(&self) -> AddressMessage {
        let mut message = self.identity_message();
        if let Some(label) = &self.label {
            message
                .attributes
                .push(AddressAttribute::Label(label.clone()));
        }
        if let Some(broadcast) = self.broadcast {
            message
                .attributes
                .push(AddressAttribute::Broadcast(broadcast));
        }
        if self.addr.is_ipv6() {
            message.header.flags = AddressHeaderFlags::Nodad;
            message
                .attributes
                .push(AddressAttribute::Flags(AddressFlags::Nodad));
        }
        message
            .attributes
            .push(AddressAttribute::Protocol(AddressProtocol::Other(
                VIPD_ADDRESS_PROTOCOL,
            )));
        message
    }

    /// The smallest message naming this address: what the kernel matches a
    /// deletion on.
    pub(super) fn identity_message(&self) -> AddressMessage {
        let mut message = AddressMessage::default();
        message.header.family = match self.addr {
            IpAddr::V4(_) => AddressFamily::Inet,
            IpAddr::V6(_) => AddressFamily::Inet6,
        };
        message.header.prefix_len = self.prefix_len;
        message.header.index = self.ifindex;
        message.attributes.push(AddressAttribute::Local(self.addr));
        message
            .attributes
            .push(AddressAttribute::Address(self.addr));
        message
    }

    /// Whether `message` (from a dump) is this VIP's address, marked or not.
    ///
    /// The kernel tells IPv4 addresses apart by address and prefix length
    /// (10.0.0.1/24 and 10.0.0.1/32 can coexist on one interface), IPv6
    /// addresses by address alone.
    pub(super) fn is_same_address(&self, message: &AddressMessage) -> bool {
        message.header.index == self.ifindex
            && local_address(message) == Some(self.addr)
            && (self.addr.is_ipv6() || message.header.prefix_len == self.prefix_len)
    }
}

impl fmt::Display for Vip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix_len)
    }
}

/// Whether the kernel reports `message` as carrying vipd's mark.
pub(super) fn is_marked(message: &AddressMessage) -> bool {
    message.attributes.iter().any(|attribute| {
        matches!(attribute, AddressAttribute::Protocol(protocol)
            if u8::from(*protocol) == VIPD_ADDRESS_PROTOCOL)
    })
}

/// Whether deleting `message` would make the kernel delete other addresses
/// with it. Without `promote_secondaries`, deleting an IPv4 primary address
/// deletes every secondary address of its subnet on the interface, and one
/// of those may be the admin's (added after the VIP, so it became secondary).
pub(super) fn deleting_drops_secondaries(
    message: &AddressMessage,
    on_interface: &[AddressMessage],
) -> bool {
    let Some(IpAddr::V4(primary)) = local_address(message) else {
        return false;
    };
    if message.header.flags.contains(AddressHeaderFlags::Secondary) {
        return false;
    }
    let prefix_len = message.header.prefix_len;
    let subnet = |addr: Ipv4Addr| {
        u32::from(addr)
            .checked_shr(32 - u32::from(prefix_len))
            .unwrap_or(0)
    };
    on_interface.iter().any(|other| {
        other.header.index == message.header.index
            && other.header.prefix_len == prefix_len
            && other.header.flags.contains(AddressHeaderFlags::Secondary)
            && matches!(local_address(other), Some(IpAddr::V4(addr)) if subnet(addr) == subnet(primary))
    })
}

/// The interface's own address in a dumped message. IFA_LOCAL is the address
/// on the interface; IFA_ADDRESS is the peer on point-to-point links, so it
/// only counts when there is no IFA_LOCAL (IPv6 dumps carry just IFA_ADDRESS).
pub(super) fn local_address(message: &AddressMessage) -> Option<IpAddr> {
    let mut address = None;
    for attribute in &message.attributes {
        match attribute {
            AddressAttribute::Local(local) => return Some(*local),
            AddressAttribute::Address(addr) => address = Some(*addr),
            _ => {}
        }
    }
    address
}

/// Reads a dumped, marked address back into a `Vip`. `ifname` is the
/// interface's name: the kernel reports the name as the label of every
/// unlabelled IPv4 address, so only a label that differs from it is one vipd
/// set. Returns `None` for a message without an address.
pub(super) fn vip_from_message(message: &AddressMessage, ifname: &str) -> Option<Vip> {
    let addr = local_address(message)?;
    let mut vip = Vip {
        addr,
        prefix_len: message.header.prefix_len,
        ifindex: message.header.index,
        label: None,
        broadcast: None,
    };
    for attribute in &message.attributes {
        match attribute {
            AddressAttribute::Label(label) if label != ifname => vip.label = Some(label.clone()),
            AddressAttribute::Broadcast(broadcast) => vip.broadcast = Some(*broadcast),
            _ => {}
        }
    }
    Some(vip)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv6Addr;

    fn v4(text: &str, prefix_len: u8) -> Vip {
        Vip::new(text.parse().unwrap(), prefix_len, 7).unwrap()
    }

    #[test]
    fn rejects_prefixes_longer_than_the_family_allows() {
        assert!(Vip::new("192.0.2.1".parse().unwrap(), 33, 1).is_err());
        assert!(Vip::new("2001:db8::1".parse().unwrap(), 129, 1).is_err());
        assert!(Vip::new("2001:db8::1".parse().unwrap(), 128, 1).is_ok());
    }

    #[test]
    fn rejects_addresses_that_cannot_be_a_vip() {
        assert!(Vip::new("0.0.0.0".parse().unwrap(), 24, 1).is_err());
        assert!(Vip::new("224.0.0.18".parse().unwrap(), 24, 1).is_err());
        assert!(Vip::new("ff02::12".parse().unwrap(), 64, 1).is_err());
    }

    #[test]
    fn labels_and_broadcast_are_ipv4_only() {
        let v6 = Vip::new(IpAddr::V6(Ipv6Addr::LOCALHOST), 128, 1).unwrap();
        assert!(v6.clone().with_label("lo:vip").is_err());
        assert!(v6.with_broadcast(Ipv4Addr::BROADCAST).is_err());
        assert!(v4("192.0.2.1", 24).with_label("eth0:vip").is_ok());
    }

    #[test]
    fn labels_longer_than_ifnamsiz_are_refused() {
        assert!(v4("192.0.2.1", 24).with_label("eth0:0123456789a").is_err());
        assert!(v4("192.0.2.1", 24).with_label("").is_err());
    }

    #[test]
    fn subnet_broadcast_follows_the_prefix() {
        assert_eq!(
            v4("192.0.2.10", 24).subnet_broadcast(),
            Some(Ipv4Addr::new(192, 0, 2, 255))
        );
        assert_eq!(
            v4("10.1.2.3", 8).subnet_broadcast(),
            Some(Ipv4Addr::new(10, 255, 255, 255))
        );
        assert_eq!(
            v4("0.0.0.1", 0).subnet_broadcast(),
            Some(Ipv4Addr::BROADCAST)
        );
        assert_eq!(v4("192.0.2.10", 31).subnet_broadcast(), None);
    }

    #[test]
    fn add_message_is_marked_and_ipv6_skips_dad() {
        let message = Vip::new("2001:db8::10".parse().unwrap(), 64, 3)
            .unwrap()
            .add_message();
        assert!(is_marked(&message));
        assert!(message
            .attributes
            .contains(&AddressAttribute::Flags(AddressFlags::Nodad)));
        assert_eq!(message.header.index, 3);
        assert_eq!(message.header.prefix_len, 64);
    }

    #[test]
    fn ipv4_add_message_has_no_broadcast_unless_asked() {
        let plain = v4("192.0.2.10", 24).add_message();
        assert!(!plain
            .attributes
            .iter()
            .any(|a| matches!(a, AddressAttribute::Broadcast(_))));
        let with = v4("192.0.2.10", 24)
            .with_broadcast(Ipv4Addr::new(192, 0, 2, 255))
            .unwrap()
            .add_message();
        assert!(with
            .attributes
            .contains(&AddressAttribute::Broadcast(Ipv4Addr::new(192, 0, 2, 255))));
    }

    #[test]
    fn ipv4_identity_includes_the_prefix_ipv6_does_not() {
        let vip = v4("192.0.2.10", 24);
        let mut other_prefix = vip.identity_message();
        other_prefix.header.prefix_len = 32;
        assert!(vip.is_same_address(&vip.identity_message()));
        assert!(!vip.is_same_address(&other_prefix));

        let vip6 = Vip::new("2001:db8::10".parse().unwrap(), 64, 7).unwrap();
        let mut other_prefix6 = vip6.identity_message();
        other_prefix6.header.prefix_len = 128;
        assert!(vip6.is_same_address(&other_prefix6));
    }

    #[test]
    fn unmarked_messages_are_not_vipds() {
        assert!(!is_marked(&v4("192.0.2.10", 24).identity_message()));
        let mut foreign = v4("192.0.2.10", 24).identity_message();
        foreign
            .attributes
            .push(AddressAttribute::Protocol(AddressProtocol::Other(18)));
        assert!(!is_marked(&foreign));
    }

    #[test]
    fn only_a_primary_with_secondaries_in_its_subnet_takes_them_along() {
        let primary = v4("192.0.2.10", 24).identity_message();
        let mut secondary = v4("192.0.2.20", 24).identity_message();
        secondary.header.flags = AddressHeaderFlags::Secondary;
        let mut elsewhere = v4("198.51.100.20", 24).identity_message();
        elsewhere.header.flags = AddressHeaderFlags::Secondary;

        assert!(deleting_drops_secondaries(
            &primary,
            &[primary.clone(), secondary.clone()]
        ));
        assert!(!deleting_drops_secondaries(
            &primary,
            &[primary.clone(), elsewhere]
        ));
        assert!(!deleting_drops_secondaries(
            &secondary,
            &[primary.clone(), secondary.clone()]
        ));
        let v6 = Vip::new("2001:db8::1".parse().unwrap(), 64, 7).unwrap();
        assert!(!deleting_drops_secondaries(
            &v6.identity_message(),
            &[secondary]
        ));
    }

    #[test]
    fn reading_back_drops_the_default_label() {
        let mut message = v4("192.0.2.10", 24).add_message();
        message
            .attributes
            .push(AddressAttribute::Label("eth0".into()));
        assert_eq!(
            vip_from_message(&message, "eth0").unwrap(),
            v4("192.0.2.10", 24)
        );
        let labelled = v4("192.0.2.10", 24).with_label("eth0:vip").unwrap();
        assert_eq!(
            vip_from_message(&labelled.add_message(), "eth0").unwrap(),
            labelled
        );
    }
}
