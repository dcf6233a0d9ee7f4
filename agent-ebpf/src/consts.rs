//! Protocol numbers and fixed sizes the program matches on.

pub const ETH_P_IP: u16 = 0x0800;
pub const ETH_P_ARP: u16 = 0x0806;
pub const ETH_P_IPV6: u16 = 0x86dd;
/// The one VLAN tag type the program looks through.
pub const ETH_P_8021Q: u16 = 0x8100;

pub const ETH_HLEN: usize = 14;
pub const VLAN_HLEN: usize = 4;
pub const IPV4_HLEN_MIN: usize = 20;
pub const IPV6_HLEN: usize = 40;

/// IPv4 "more fragments" flag and fragment offset bits of the flags/offset field.
pub const IPV4_FRAGMENT_MASK: u16 = 0x3fff;

/// VRRP message type of an advertisement, the only type RFC 9568 and RFC 3768 define.
pub const VRRP_TYPE_ADVERT: u8 = 1;

pub const ARPHRD_ETHER: u16 = 1;
pub const ARPOP_REQUEST: u16 = 1;
pub const ARPOP_REPLY: u16 = 2;

pub const IPPROTO_ICMPV6: u8 = 58;
pub const IPPROTO_UDP: u8 = 17;
pub const ICMPV6_NEIGHBOR_SOLICIT: u8 = 135;
pub const ICMPV6_NEIGHBOR_ADVERT: u8 = 136;
/// Hop limit every neighbour discovery message carries (RFC 4861 section 7.1.1).
pub const NDP_HOP_LIMIT: u8 = 255;
/// NA flags byte: Solicited and Override (RFC 4861 section 4.4).
pub const NA_FLAG_SOLICITED: u8 = 0x40;
pub const NA_FLAG_OVERRIDE: u8 = 0x20;
/// NDP option type Target Link-Layer Address, length in units of 8 bytes.
pub const NDP_OPT_TARGET_LLADDR: u8 = 2;
/// Size of the NA the program sends: 24-byte message plus one 8-byte TLLA option.
pub const NA_LEN: usize = 32;

/// ff02::1, where the answer to a NS from the unspecified address goes (RFC 4861 section 7.2.4).
pub const ALL_NODES_V6: [u8; 16] = [0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
/// The first 13 bytes of every solicited-node multicast address, ff02::1:ffXX:XXXX.
pub const SOLICITED_NODE_PREFIX: [u8; 13] = [0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff];
/// The Ethernet address of ff02::1 (RFC 2464 section 7).
pub const ALL_NODES_MAC: [u8; 6] = [0x33, 0x33, 0, 0, 0, 1];
