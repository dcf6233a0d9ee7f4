//! What vipd's XDP program may do with a frame, written from the protocols and the maps'
//! contents, independently of the program: its verdict, the frame it leaves, and the record it
//! puts in the ring. The `xdp_program` target checks every run against it.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use agent_common::{
    echo_kind, family, AUTH_TRAILER_LEN, ECHO_MAGIC, ETH_P_VIPD_ECHO, IPPROTO_VRRP, VRRP_TTL,
};
use vipd::dataplane::xdp::xdp_action::{XDP_DROP, XDP_PASS, XDP_TX};

pub const ETH_HLEN: usize = 14;
const ETH_P_8021Q: u16 = 0x8100;
const ETH_P_ARP: u16 = 0x0806;
const ETH_P_IP: u16 = 0x0800;
const ETH_P_IPV6: u16 = 0x86dd;
const IPPROTO_ICMPV6: u8 = 58;
const ICMPV6_NS: u8 = 135;
const ICMPV6_NA: u8 = 136;
/// An advertisement with one Target Link-Layer Address option (RFC 4861 section 4.4).
const NA_LEN: usize = 32;
/// A solicitation without options (RFC 4861 section 4.3).
const NS_LEN: usize = 24;

/// The most the program may grow a frame: a solicitation without options becomes an
/// advertisement with one.
pub const MAX_GROWTH: usize = NA_LEN - NS_LEN;

/// The VRID the maps are set up with: recorded for both families, reflected for IPv4.
pub const VRID: u8 = 51;
pub const VIP4: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 100);
pub const VIP6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x100);
/// Owned on another interface than the one test runs arrive on: never answered here.
pub const OTHER_INTERFACE_VIP4: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 101);
pub const OWNER_MAC: [u8; 6] = [0x00, 0x00, 0x5e, 0x00, 0x01, VRID];
/// With [`Switches::following`]: the master followed for VRID 51 over IPv4, the priority it
/// advertises, and its Ethernet address (the only source of echo replies recorded).
pub const FOLLOWED_MASTER4: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
pub const FOLLOWED_PRIORITY: u8 = 200;
pub const FOLLOWED_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x01];

/// The switches one run is made under (the rest of the maps stay as set up).
#[derive(Debug, Clone, Copy)]
pub struct Switches {
    /// The agent's heartbeat is fresh.
    pub alive: bool,
    /// Unicast adverts of VRID 51 count whatever their TTL.
    pub allow_any_ttl: bool,
    /// The agent follows [`FOLLOWED_MASTER4`] (IPv4) at [`FOLLOWED_MAC`]; the entry is written
    /// afresh before the run, so no interval has been seen yet (zero).
    pub following: bool,
    /// VRID 51's adverts are authenticated (auth_hmac): none is recorded.
    pub authenticated: bool,
    /// auth_hmac in enforce mode: adverts with no room for the trailer are dropped.
    pub trailer_required: bool,
}

impl Switches {
    pub fn from_byte(byte: u8) -> Switches {
        Switches {
            alive: byte & 1 != 0,
            // Bit 1 (value 2) was drop mode, since removed; corpus inputs may still set it.
            allow_any_ttl: byte & 4 != 0,
            following: byte & 8 != 0,
            authenticated: byte & 16 != 0,
            trailer_required: byte & 32 != 0,
        }
    }
}

/// What the ring should hold after the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Record {
    /// An advert, with the fields the program reads from it.
    Advert {
        source: IpAddr,
        version: u8,
        vrid: u8,
        priority: u8,
        adver_int: u16,
        ttl: u8,
        addr_count: u8,
        vlan_id: Option<u16>,
        src_mac: [u8; 6],
    },
    /// An echo of this node's probe.
    Echo { vrid: u8, src_mac: [u8; 6] },
}

/// The one outcome the program may have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub verdict: u32,
    /// The frame as the program must leave it: unchanged unless it answers (XDP_TX).
    pub frame: Vec<u8>,
    pub record: Option<Record>,
}

impl Outcome {
    fn pass(frame: &[u8]) -> Outcome {
        Outcome {
            verdict: XDP_PASS,
            frame: frame.to_vec(),
            record: None,
        }
    }

    fn drop(frame: &[u8]) -> Outcome {
        Outcome {
            verdict: XDP_DROP,
            ..Outcome::pass(frame)
        }
    }

    fn tx(frame: Vec<u8>) -> Outcome {
        Outcome {
            verdict: XDP_TX,
            frame,
            record: None,
        }
    }
}

/// The outcome for `frame` (at least an Ethernet header) arriving on the test-run interface.
pub fn expected(frame: &[u8], switches: Switches) -> Outcome {
    let ether_type = be16(frame, 12);
    let (ether_type, l3, vlan_id) = if ether_type == ETH_P_8021Q {
        if frame.len() < ETH_HLEN + 4 {
            return Outcome::pass(frame);
        }
        (
            be16(frame, 16),
            ETH_HLEN + 4,
            Some(be16(frame, 14) & 0x0fff),
        )
    } else {
        (ether_type, ETH_HLEN, None)
    };
    let l2 = L2 { l3, vlan_id };
    match ether_type {
        ETH_P_ARP => arp(frame, &l2, switches),
        ETH_P_VIPD_ECHO => echo(frame, &l2, switches),
        ETH_P_IP => ipv4(frame, &l2, switches),
        ETH_P_IPV6 => ipv6(frame, &l2, switches),
        _ => Outcome::pass(frame),
    }
}

struct L2 {
    l3: usize,
    vlan_id: Option<u16>,
}

fn be16(frame: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([frame[at], frame[at + 1]])
}

fn mac_at(frame: &[u8], at: usize) -> [u8; 6] {
    frame[at..at + 6].try_into().unwrap()
}

/// RFC 826: a request for an owned VIP is answered in place, to the requester, from the VIP's
/// MAC; a stale agent's node answers nothing, and the kernel must not either.
fn arp(frame: &[u8], l2: &L2, switches: Switches) -> Outcome {
    let a = l2.l3;
    if frame.len() < a + 28 {
        return Outcome::pass(frame);
    }
    let well_formed = be16(frame, a) == 1
        && be16(frame, a + 2) == ETH_P_IP
        && frame[a + 4] == 6
        && frame[a + 5] == 4;
    let spa = &frame[a + 14..a + 18];
    let tpa = &frame[a + 24..a + 28];
    let gratuitous = spa == tpa;
    if !well_formed || be16(frame, a + 6) != 1 || gratuitous || tpa != VIP4.octets() {
        return Outcome::pass(frame);
    }
    if !switches.alive {
        return Outcome::drop(frame);
    }
    let requester_mac = mac_at(frame, a + 8);
    let requester_ip: [u8; 4] = spa.try_into().unwrap();
    let mut reply = frame.to_vec();
    reply[..6].copy_from_slice(&requester_mac);
    reply[6..12].copy_from_slice(&OWNER_MAC);
    reply[a + 6..a + 8].copy_from_slice(&2u16.to_be_bytes());
    reply[a + 8..a + 14].copy_from_slice(&OWNER_MAC);
    reply[a + 14..a + 18].copy_from_slice(&VIP4.octets());
    reply[a + 18..a + 24].copy_from_slice(&requester_mac);
    reply[a + 24..a + 28].copy_from_slice(&requester_ip);
    Outcome::tx(reply)
}

/// The liveness echo: a probe for the VRID this node is master of is sent back with the
/// addresses swapped while the agent lives; a reply for a configured VRID is dropped, and
/// recorded only when it comes from the followed master's Ethernet address.
fn echo(frame: &[u8], l2: &L2, switches: Switches) -> Outcome {
    let e = l2.l3;
    if frame.len() < e + 12 || frame[e..e + 4] != ECHO_MAGIC {
        return Outcome::pass(frame);
    }
    let (kind, vrid, fam) = (frame[e + 4], frame[e + 5], frame[e + 6]);
    match kind {
        echo_kind::PROBE if vrid == VRID && fam == family::IPV4 && switches.alive => {
            let mut reply = frame.to_vec();
            reply[..6].copy_from_slice(&frame[6..12]);
            reply[6..12].copy_from_slice(&frame[..6]);
            reply[e + 4] = echo_kind::REPLY;
            Outcome::tx(reply)
        }
        echo_kind::REPLY if vrid == VRID && (fam == family::IPV4 || fam == family::IPV6) => {
            let src_mac = mac_at(frame, 6);
            // Only the IPv4 entry follows a master.
            let from_followed =
                switches.following && fam == family::IPV4 && src_mac == FOLLOWED_MAC;
            Outcome {
                record: from_followed.then_some(Record::Echo { vrid, src_mac }),
                ..Outcome::drop(frame)
            }
        }
        _ => Outcome::pass(frame),
    }
}

fn ipv4(frame: &[u8], l2: &L2, switches: Switches) -> Outcome {
    let ip = l2.l3;
    if frame.len() < ip + 20 {
        return Outcome::pass(frame);
    }
    let fragment = be16(frame, ip + 6) & 0x3fff != 0;
    let ihl = usize::from(frame[ip] & 0x0f) * 4;
    if frame[ip + 9] != IPPROTO_VRRP || fragment || ihl < 20 {
        return Outcome::pass(frame);
    }
    let src: [u8; 4] = frame[ip + 12..ip + 16].try_into().unwrap();
    let advert = Candidate {
        family: family::IPV4,
        source: IpAddr::V4(src.into()),
        ttl: frame[ip + 8],
        unicast: frame[ip + 16] < 224,
        at: ip + ihl,
        len: usize::from(be16(frame, ip + 2)).saturating_sub(ihl),
    };
    vrrp(frame, l2, &advert, switches)
}

fn ipv6(frame: &[u8], l2: &L2, switches: Switches) -> Outcome {
    let ip = l2.l3;
    if frame.len() < ip + 40 {
        return Outcome::pass(frame);
    }
    let src: [u8; 16] = frame[ip + 8..ip + 24].try_into().unwrap();
    match frame[ip + 6] {
        IPPROTO_VRRP => {
            let advert = Candidate {
                family: family::IPV6,
                source: IpAddr::V6(src.into()),
                ttl: frame[ip + 7],
                unicast: frame[ip + 24] != 0xff,
                at: ip + 40,
                len: usize::from(be16(frame, ip + 4)),
            };
            vrrp(frame, l2, &advert, switches)
        }
        IPPROTO_ICMPV6 => neighbour_solicitation(frame, l2, switches),
        _ => Outcome::pass(frame),
    }
}

/// A packet that may be a VRRP advert.
struct Candidate {
    family: u8,
    source: IpAddr,
    ttl: u8,
    unicast: bool,
    /// Where its VRRP header starts.
    at: usize,
    /// The length of the VRRP message and what follows, as the IP header says.
    len: usize,
}

/// RFC 9568 section 7.1's cheap invariants (TTL, version, type) and the VRIDs configured; then,
/// while the agent lives, an enforced auth VRID's advert with no room for the trailer is
/// dropped. An authenticated VRID's advert passes unrecorded; any other is recorded, and
/// dropped while the agent lives when it is the followed master's routine one.
/// (The news allowance starts full on every run, so it admits the one frame.)
fn vrrp(frame: &[u8], l2: &L2, advert: &Candidate, switches: Switches) -> Outcome {
    let v = advert.at;
    if frame.len() < v + 8 {
        return Outcome::pass(frame);
    }
    let version = frame[v] >> 4;
    let version_ok = version == 3 || (version == 2 && advert.family == family::IPV4);
    let ttl_ok = advert.ttl == VRRP_TTL || (advert.unicast && switches.allow_any_ttl);
    if frame[v] & 0x0f != 1 || !version_ok || frame[v + 1] != VRID || !ttl_ok {
        return Outcome::pass(frame);
    }
    let addr_count = frame[v + 3];
    let address_len = if advert.family == family::IPV4 { 4 } else { 16 };
    let v2_auth_data = if version == 2 { 8 } else { 0 };
    let signed_len = 8 + usize::from(addr_count) * address_len + v2_auth_data + AUTH_TRAILER_LEN;
    if switches.trailer_required && switches.alive && advert.len != signed_len {
        return Outcome::drop(frame);
    }
    if switches.authenticated {
        return Outcome::pass(frame);
    }
    let adver_int = if version == 3 {
        be16(frame, v + 4)
    } else {
        u16::from(frame[v + 5])
    };
    let priority = frame[v + 2];
    let routine = switches.following
        && advert.source == IpAddr::V4(FOLLOWED_MASTER4)
        && priority == FOLLOWED_PRIORITY
        && adver_int == 0;
    let record = Some(Record::Advert {
        source: advert.source,
        version,
        vrid: VRID,
        priority,
        adver_int,
        ttl: advert.ttl,
        addr_count,
        vlan_id: l2.vlan_id,
        src_mac: mac_at(frame, 6),
    });
    let verdict = if routine && switches.alive {
        XDP_DROP
    } else {
        XDP_PASS
    };
    Outcome {
        verdict,
        frame: frame.to_vec(),
        record,
    }
}

/// RFC 4861 sections 7.1.1 and 7.2.4: a valid solicitation for the owned VIP is answered with
/// an advertisement (Solicited and Override, a Target Link-Layer Address option) in place of
/// it, to the solicitor, or to all-nodes without Solicited for duplicate address detection.
fn neighbour_solicitation(frame: &[u8], l2: &L2, switches: Switches) -> Outcome {
    let ip = l2.l3;
    let ns = ip + 40;
    if frame.len() < ns + NS_LEN || frame[ns] != ICMPV6_NS {
        return Outcome::pass(frame);
    }
    let src: [u8; 16] = frame[ip + 8..ip + 24].try_into().unwrap();
    let dst = &frame[ip + 24..ip + 40];
    let target: [u8; 16] = frame[ns + 8..ns + 24].try_into().unwrap();
    let unspecified = src == [0; 16];
    let solicited_node_prefix = [0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff];
    let valid = frame[ip + 7] == 255
        && frame[ns + 1] == 0
        && usize::from(be16(frame, ip + 4)) >= NS_LEN
        && target[0] != 0xff
        && (!unspecified || dst[..13] == solicited_node_prefix);
    if !valid || target != VIP6.octets() {
        return Outcome::pass(frame);
    }
    if !switches.alive {
        return Outcome::drop(frame);
    }
    let all_nodes = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);
    let (dst_mac, dst_ip, flags) = if unspecified {
        ([0x33, 0x33, 0, 0, 0, 1], all_nodes.octets(), 0x20)
    } else {
        (mac_at(frame, 6), src, 0x60)
    };
    let mut message = vec![ICMPV6_NA, 0, 0, 0, flags, 0, 0, 0];
    message.extend_from_slice(&target);
    message.extend_from_slice(&[2, 1]);
    message.extend_from_slice(&OWNER_MAC);
    let checksum = icmpv6_checksum(&target, &dst_ip, &message);
    message[2..4].copy_from_slice(&checksum.to_be_bytes());

    let mut reply = frame[..ip].to_vec();
    reply[..6].copy_from_slice(&dst_mac);
    reply[6..12].copy_from_slice(&OWNER_MAC);
    reply.extend_from_slice(&[0x60, 0, 0, 0]);
    reply.extend_from_slice(&(NA_LEN as u16).to_be_bytes());
    reply.extend_from_slice(&[IPPROTO_ICMPV6, 255]);
    reply.extend_from_slice(&target);
    reply.extend_from_slice(&dst_ip);
    reply.extend_from_slice(&message);
    Outcome::tx(reply)
}

/// The ICMPv6 checksum (RFC 8200 section 8.1 pseudo-header, RFC 1071 sum) of `message`, whose
/// checksum field is zero.
fn icmpv6_checksum(src: &[u8; 16], dst: &[u8; 16], message: &[u8]) -> u16 {
    let words = |bytes: &[u8]| -> u32 {
        bytes
            .chunks(2)
            .map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
            .sum()
    };
    let mut sum = words(src) + words(dst) + message.len() as u32 + u32::from(IPPROTO_ICMPV6);
    sum += words(message);
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}
