//! Per-interface IPv4 settings (`net.ipv4.conf.<if>.*`) sent through
//! rtnetlink rather than /proc/sys, so they go through the same socket, in
//! the same namespace, with the same errors as everything else.
//!
//! netlink-packet-route's `AfSpecInet::DevConfRequest` leaves out every
//! setting whose value is 0, so it cannot turn a setting off (rp_filter=0);
//! this module nests the IFLA_INET_CONF entries itself.

use rtnetlink::packet_core::{DefaultNla, Emitable, NLA_F_NESTED};
use rtnetlink::packet_route::link::{AfSpecInet, AfSpecUnspec, LinkAttribute, LinkMessage};
use rtnetlink::LinkUnspec;

/// IFLA_INET_CONF inside IFLA_AF_SPEC / AF_INET.
const IFLA_INET_CONF: u16 = 1;

/// The IPV4_DEVCONF_* settings vipd changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u16)]
pub(super) enum Ipv4Setting {
    RpFilter = 8,
    ArpIgnore = 19,
    PromoteSecondaries = 20,
}

/// The RTM_NEWLINK change that sets `settings` on interface `ifindex`.
pub(super) fn ipv4_settings_message(ifindex: u32, settings: &[(Ipv4Setting, u32)]) -> LinkMessage {
    let entries: Vec<DefaultNla> = settings
        .iter()
        .map(|&(setting, value)| DefaultNla::new(setting as u16, value.to_ne_bytes().to_vec()))
        .collect();
    let mut nested = vec![0; entries.as_slice().buffer_len()];
    entries.as_slice().emit(&mut nested);
    let conf = AfSpecInet::Other(DefaultNla::new(IFLA_INET_CONF | NLA_F_NESTED, nested));
    LinkUnspec::new_with_index(ifindex)
        .append_extra_attribute(LinkAttribute::AfSpecUnspec(vec![AfSpecUnspec::Inet(vec![
            conf,
        ])]))
        .build()
}
