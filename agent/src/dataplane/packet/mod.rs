//! Packet I/O without XDP: the raw IP sockets that carry VRRP advertisements (protocol 112) and
//! the AF_PACKET socket that announces a VIP's new owner with gratuitous ARP and unsolicited
//! neighbour advertisements, plus the schedule and the pacing (both per instance) of
//! those announcements.
//!
//! Sockets here move VRRP messages as opaque byte buffers; the codec in `vrrp::wire` gives them
//! meaning. The receive side hands over everything the codec's validation needs from the IP
//! layer (source, destination, TTL or hop limit, ingress interface) and a receive timestamp.

mod announce_frame;
mod announce_pacer;
mod announce_plan;
mod announce_socket;
mod echo_socket;
mod interface;
mod receive;
mod sockopt;
mod vrrp_socket;

#[cfg(test)]
mod announce_fixtures;
#[cfg(test)]
mod kernel_tests;

use crate::family::IpFamily;
use std::io;
use std::net::IpAddr;

pub use announce_frame::{
    gratuitous_arp_frame, unsolicited_na_frame, GARP_FRAME_LEN, NA_FRAME_LEN,
};
pub use announce_pacer::AnnouncePacer;
pub use announce_plan::{AnnouncePlan, AnnounceSettings, Announcement};
pub use announce_socket::AnnounceSocket;
pub use echo_socket::EchoSocket;
pub use interface::InterfaceInfo;
pub use receive::{Received, RecvError, RecvMeta};
pub use sockopt::set_int_option;
pub use vrrp_socket::{AdvertProtocol, AsyncVrrpSocket, VrrpSocket};

/// Why a packet socket could not be opened or configured. Every message names the interface
/// and says what the operator can change.
#[derive(Debug, thiserror::Error)]
pub enum PacketError {
    #[error("interface {interface} not found; check the interface name in the configuration")]
    InterfaceNotFound { interface: String },
    #[error(
        "interface {interface} has no {} to send VRRP adverts from; \
         add one to the interface or configure a unicast source address",
        match family { IpFamily::V4 => "IPv4 address", IpFamily::V6 => "link-local IPv6 address" }
    )]
    NoSourceAddress { interface: String, family: IpFamily },
    #[error(
        "source address {source_address} is not an {family} address, \
         but the socket on interface {interface} is {family}"
    )]
    SourceFamilyMismatch {
        interface: String,
        family: IpFamily,
        source_address: IpAddr,
    },
    #[error(
        "interface {interface}: auth_type AH runs over IPv4 only (VRRP version 2); \
         use no authentication, PASS or auth_hmac for IPv6"
    )]
    AhNeedsIpv4 { interface: String },
    #[error(
        "interface {interface} has no MAC address, so no ARP or neighbour advertisement can \
         announce a VIP on it"
    )]
    NoMacAddress { interface: String },
    #[error(
        "interface {interface}: {action} was refused; vipd needs root or CAP_NET_RAW \
         and CAP_NET_ADMIN"
    )]
    PermissionDenied {
        interface: String,
        action: &'static str,
    },
    #[error("interface {interface}: {action} failed: {source}")]
    Io {
        interface: String,
        action: &'static str,
        #[source]
        source: io::Error,
    },
}

impl PacketError {
    fn io<'a>(
        interface: &'a str,
        action: &'static str,
    ) -> impl FnOnce(io::Error) -> PacketError + 'a {
        move |source| {
            let interface = interface.to_owned();
            if source.kind() == io::ErrorKind::PermissionDenied {
                PacketError::PermissionDenied { interface, action }
            } else {
                PacketError::Io {
                    interface,
                    action,
                    source,
                }
            }
        }
    }
}
