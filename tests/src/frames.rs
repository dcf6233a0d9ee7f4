//! Test frames built byte by byte, independently of vipd's own codec, so a test can tell a wrong
//! codec from a wrong test.
use std::net::{Ipv4Addr, Ipv6Addr};

pub const ETH_P_IP: u16 = 0x0800;
pub const ETH_P_IPV6: u16 = 0x86dd;
pub const ETH_P_ARP: u16 = 0x0806;
pub const VRRP_MCAST_V4: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 18);
pub const VRRP_MCAST_V6: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12);

/// The RFC 1071 Internet checksum over `data`, seeded with `initial` (a pseudo-header sum).
pub fn internet_checksum(initial: u32, data: &[u8]) -> u16 {
    let mut sum = initial;
    for chunk in data.chunks(2) {
        let word = u16::from_be_bytes([chunk[0], *chunk.get(1).unwrap_or(&0)]);
        sum += u32::from(word);
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

fn sum_words(bytes: &[u8]) -> u32 {
    bytes
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
        .sum()
}

/// What goes into a test advert.
#[derive(Clone, Debug)]
pub struct Advert {
    pub version: u8,
    pub vrid: u8,
    pub priority: u8,
    /// v3: the whole Rsvd|Max Adver Int word; v2: Adver Int in seconds.
    pub interval: u16,
    pub addresses_v4: Vec<Ipv4Addr>,
    pub addresses_v6: Vec<Ipv6Addr>,
}

impl Advert {
    pub fn v3(vrid: u8, priority: u8, interval_cs: u16) -> Self {
        Self {
            version: 3,
            vrid,
            priority,
            interval: interval_cs,
            addresses_v4: vec![Ipv4Addr::new(192, 0, 2, 100)],
            addresses_v6: vec![],
        }
    }

    /// The VRRP message for an IPv4 packet from `src` to `dst`. v3 checksums include the IPv4
    /// pseudo-header (keepalived's default); v2 checksums cover the message only.
    pub fn message_v4(&self, src: Ipv4Addr, dst: Ipv4Addr) -> Vec<u8> {
        let mut msg = self.head(self.addresses_v4.len());
        for a in &self.addresses_v4 {
            msg.extend_from_slice(&a.octets());
        }
        if self.version == 2 {
            msg.extend_from_slice(&[0; 8]); // authentication data, type 0
        }
        let pseudo = if self.version == 3 {
            sum_words(&src.octets()) + sum_words(&dst.octets()) + 112 + msg.len() as u32
        } else {
            0
        };
        let checksum = internet_checksum(pseudo, &msg);
        msg[6..8].copy_from_slice(&checksum.to_be_bytes());
        msg
    }

    /// The VRRPv3 message for an IPv6 packet from `src` to `dst` (IPv6 pseudo-header checksum).
    pub fn message_v6(&self, src: Ipv6Addr, dst: Ipv6Addr) -> Vec<u8> {
        let mut msg = self.head(self.addresses_v6.len());
        for a in &self.addresses_v6 {
            msg.extend_from_slice(&a.octets());
        }
        let pseudo = sum_words(&src.octets()) + sum_words(&dst.octets()) + msg.len() as u32 + 112;
        let checksum = internet_checksum(pseudo, &msg);
        msg[6..8].copy_from_slice(&checksum.to_be_bytes());
        msg
    }

    fn head(&self, count: usize) -> Vec<u8> {
        let [hi, lo] = self.interval.to_be_bytes();
        let (b4, b5) = if self.version == 3 { (hi, lo) } else { (0, lo) };
        vec![
            self.version << 4 | 1,
            self.vrid,
            self.priority,
            count as u8,
            b4,
            b5,
            0,
            0,
        ]
    }
}

fn ethernet(dst: [u8; 6], src: [u8; 6], ether_type: u16) -> Vec<u8> {
    let mut frame = Vec::with_capacity(128);
    frame.extend_from_slice(&dst);
    frame.extend_from_slice(&src);
    frame.extend_from_slice(&ether_type.to_be_bytes());
    frame
}

/// A complete Ethernet + IPv4 frame carrying `advert` to 224.0.0.18 with `ttl`.
pub fn advert_frame_v4(advert: &Advert, src: Ipv4Addr, ttl: u8) -> Vec<u8> {
    advert_frame_v4_to(advert, src, VRRP_MCAST_V4, ttl)
}

/// As [`advert_frame_v4`], to `dst` (a unicast peer, say).
pub fn advert_frame_v4_to(advert: &Advert, src: Ipv4Addr, dst: Ipv4Addr, ttl: u8) -> Vec<u8> {
    let payload = advert.message_v4(src, dst);
    let mut frame = ethernet(
        [0x01, 0x00, 0x5e, 0x00, 0x00, 0x12],
        [0x00, 0x00, 0x5e, 0x00, 0x01, advert.vrid],
        ETH_P_IP,
    );
    let total = (20 + payload.len()) as u16;
    let mut ip = vec![0x45, 0xc0];
    ip.extend_from_slice(&total.to_be_bytes());
    ip.extend_from_slice(&[0, 0, 0, 0, ttl, 112, 0, 0]);
    ip.extend_from_slice(&src.octets());
    ip.extend_from_slice(&dst.octets());
    let checksum = internet_checksum(0, &ip);
    ip[10..12].copy_from_slice(&checksum.to_be_bytes());
    frame.extend_from_slice(&ip);
    frame.extend_from_slice(&payload);
    frame
}

/// A complete Ethernet + IPv6 frame carrying `advert` to ff02::12 with `hop_limit`.
pub fn advert_frame_v6(advert: &Advert, src: Ipv6Addr, hop_limit: u8) -> Vec<u8> {
    let payload = advert.message_v6(src, VRRP_MCAST_V6);
    let mut frame = ethernet(
        [0x33, 0x33, 0x00, 0x00, 0x00, 0x12],
        [0x00, 0x00, 0x5e, 0x00, 0x02, advert.vrid],
        ETH_P_IPV6,
    );
    frame.extend_from_slice(&[0x60, 0, 0, 0]);
    frame.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    frame.extend_from_slice(&[112, hop_limit]);
    frame.extend_from_slice(&src.octets());
    frame.extend_from_slice(&VRRP_MCAST_V6.octets());
    frame.extend_from_slice(&payload);
    frame
}

/// An ARP request from `sender` asking who has `target`, broadcast.
pub fn arp_request(sender_mac: [u8; 6], sender: Ipv4Addr, target: Ipv4Addr) -> Vec<u8> {
    arp(ARP_REQUEST, [0xff; 6], sender_mac, sender, [0; 6], target)
}

/// The ARP reply RFC 826 prescribes to [`arp_request`]: from `owner_mac` for `target`, straight
/// back to the requester.
pub fn arp_reply(
    owner_mac: [u8; 6],
    target: Ipv4Addr,
    requester_mac: [u8; 6],
    requester: Ipv4Addr,
) -> Vec<u8> {
    let mut frame = arp(
        ARP_REPLY,
        requester_mac,
        owner_mac,
        target,
        requester_mac,
        requester,
    );
    frame[..6].copy_from_slice(&requester_mac);
    frame
}

pub const ARP_REQUEST: u16 = 1;
pub const ARP_REPLY: u16 = 2;

/// An Ethernet/IPv4 ARP packet with `op`, sent from `sender_mac` to `eth_dst`.
pub fn arp(
    op: u16,
    eth_dst: [u8; 6],
    sender_mac: [u8; 6],
    sender: Ipv4Addr,
    target_mac: [u8; 6],
    target: Ipv4Addr,
) -> Vec<u8> {
    let mut frame = ethernet(eth_dst, sender_mac, ETH_P_ARP);
    frame.extend_from_slice(&[0, 1, 0x08, 0, 6, 4]);
    frame.extend_from_slice(&op.to_be_bytes());
    frame.extend_from_slice(&sender_mac);
    frame.extend_from_slice(&sender.octets());
    frame.extend_from_slice(&target_mac);
    frame.extend_from_slice(&target.octets());
    frame
}

/// `frame` with one 802.1Q tag (`tci`) inserted after the MAC addresses.
pub fn vlan_tagged(frame: &[u8], tci: u16) -> Vec<u8> {
    let mut tagged = frame[..12].to_vec();
    tagged.extend_from_slice(&0x8100u16.to_be_bytes());
    tagged.extend_from_slice(&tci.to_be_bytes());
    tagged.extend_from_slice(&frame[12..]);
    tagged
}

pub const ETH_HLEN: usize = 14;
pub const ICMPV6_NS: u8 = 135;
pub const ICMPV6_NA: u8 = 136;
pub const ALL_NODES_V6: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);

/// The solicited-node multicast address of `target` (RFC 4291 section 2.7.1).
pub fn solicited_node(target: Ipv6Addr) -> Ipv6Addr {
    let t = target.octets();
    Ipv6Addr::from([
        0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, t[13], t[14], t[15],
    ])
}

/// The Ethernet multicast address of IPv6 multicast `group` (RFC 2464 section 7).
pub fn ipv6_multicast_mac(group: Ipv6Addr) -> [u8; 6] {
    let g = group.octets();
    [0x33, 0x33, g[12], g[13], g[14], g[15]]
}

/// The ICMPv6 checksum of `message` (checksum field zero or not: it is skipped) from `src` to
/// `dst` (RFC 8200 section 8.1 pseudo-header).
pub fn icmpv6_checksum(src: Ipv6Addr, dst: Ipv6Addr, message: &[u8]) -> u16 {
    let mut zeroed = message.to_vec();
    zeroed[2..4].copy_from_slice(&[0, 0]);
    let pseudo = sum_words(&src.octets()) + sum_words(&dst.octets()) + message.len() as u32 + 58;
    internet_checksum(pseudo, &zeroed)
}

/// An Ethernet + IPv6 frame carrying the ICMPv6 `message` (checksum filled in here).
pub fn icmpv6_frame(
    eth_dst: [u8; 6],
    eth_src: [u8; 6],
    src: Ipv6Addr,
    dst: Ipv6Addr,
    hop_limit: u8,
    message: &[u8],
) -> Vec<u8> {
    let mut message = message.to_vec();
    let checksum = icmpv6_checksum(src, dst, &message);
    message[2..4].copy_from_slice(&checksum.to_be_bytes());
    let mut frame = ethernet(eth_dst, eth_src, ETH_P_IPV6);
    frame.extend_from_slice(&[0x60, 0, 0, 0]);
    frame.extend_from_slice(&(message.len() as u16).to_be_bytes());
    frame.extend_from_slice(&[58, hop_limit]);
    frame.extend_from_slice(&src.octets());
    frame.extend_from_slice(&dst.octets());
    frame.extend_from_slice(&message);
    frame
}

/// A neighbour solicitation for `target` from `src` (`::` for duplicate address detection, which
/// carries no source link-layer address option) to the target's solicited-node group.
pub fn neighbor_solicitation(src_mac: [u8; 6], src: Ipv6Addr, target: Ipv6Addr) -> Vec<u8> {
    let group = solicited_node(target);
    let mut message = vec![ICMPV6_NS, 0, 0, 0, 0, 0, 0, 0];
    message.extend_from_slice(&target.octets());
    if !src.is_unspecified() {
        // Source Link-Layer Address option (type 1, length 1 x 8 bytes).
        message.extend_from_slice(&[1, 1]);
        message.extend_from_slice(&src_mac);
    }
    icmpv6_frame(
        ipv6_multicast_mac(group),
        src_mac,
        src,
        group,
        255,
        &message,
    )
}

/// The neighbour advertisement RFC 4861 section 7.2.4 prescribes in answer to a solicitation
/// from `solicitor` (at `solicitor_mac`) for `target`, owned at `owner_mac`: Solicited and
/// Override set, with a Target Link-Layer Address option; to all-nodes with Solicited clear when
/// the solicitor is `::`.
pub fn neighbor_advertisement(
    owner_mac: [u8; 6],
    target: Ipv6Addr,
    solicitor_mac: [u8; 6],
    solicitor: Ipv6Addr,
) -> Vec<u8> {
    let (eth_dst, dst, flags) = if solicitor.is_unspecified() {
        (ipv6_multicast_mac(ALL_NODES_V6), ALL_NODES_V6, 0x20)
    } else {
        (solicitor_mac, solicitor, 0x60)
    };
    let mut message = vec![ICMPV6_NA, 0, 0, 0, flags, 0, 0, 0];
    message.extend_from_slice(&target.octets());
    message.extend_from_slice(&[2, 1]);
    message.extend_from_slice(&owner_mac);
    icmpv6_frame(eth_dst, owner_mac, target, dst, 255, &message)
}

/// `frame` (an IPv4 advert from [`advert_frame_v4_to`]) with an auth_hmac trailer whose MAC is
/// garbage (key id 1); `variant` varies its sequence number. Over IPv4 the VRRP checksum does
/// not cover the trailer, so it stays right.
pub fn with_garbage_trailer(mut frame: Vec<u8>, variant: u8) -> Vec<u8> {
    let mut trailer = [0u8; 28];
    trailer[0] = 1; // HMAC-SHA256/128
    trailer[1] = 1; // key id 1
    trailer[4..8].copy_from_slice(&0x7000_0000u32.to_be_bytes());
    trailer[11] = variant;
    for (i, byte) in trailer[12..].iter_mut().enumerate() {
        *byte = 0xa5 ^ i as u8 ^ variant;
    }
    frame.extend_from_slice(&trailer);
    fix_ipv4_length(&mut frame);
    frame
}

/// Rewrites the IPv4 total length to match the frame and recomputes the header checksum.
fn fix_ipv4_length(frame: &mut [u8]) {
    const IP: usize = ETH_HLEN;
    let total = (frame.len() - IP) as u16;
    frame[IP + 2..IP + 4].copy_from_slice(&total.to_be_bytes());
    frame[IP + 10..IP + 12].copy_from_slice(&[0, 0]);
    let checksum = internet_checksum(0, &frame[IP..IP + 20]);
    frame[IP + 10..IP + 12].copy_from_slice(&checksum.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internet_checksum_matches_rfc1071_example() {
        // RFC 1071 section 3: the one's complement sum of these words is 0xddf2.
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(internet_checksum(0, &data), !0xddf2);
    }

    #[test]
    fn neighbor_solicitation_matches_one_the_kernel_sent() {
        // Captured with tcpdump on Linux 6.18: 2001:db8::1 (02:00:00:00:00:01) resolving
        // 2001:db8::2; the kernel computed the checksum 0x1c27.
        let captured = [
            0x33, 0x33, 0xff, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x86, 0xdd,
            0x60, 0x00, 0x00, 0x00, 0x00, 0x20, 0x3a, 0xff, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00,
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0xff, 0x02, 0x00, 0x00,
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0xff, 0x00, 0x00, 0x02, 0x87, 0x00,
            0x1c, 0x27, 0x00, 0x00, 0x00, 0x00, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00,
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x01, 0x01, 0x02, 0x00, 0x00, 0x00,
            0x00, 0x01,
        ];
        let built = neighbor_solicitation(
            [2, 0, 0, 0, 0, 1],
            "2001:db8::1".parse().unwrap(),
            "2001:db8::2".parse().unwrap(),
        );
        assert_eq!(built, captured);
    }

    #[test]
    fn ipv4_header_checksum_verifies_to_zero() {
        let frame = advert_frame_v4(&Advert::v3(1, 100, 100), Ipv4Addr::new(192, 0, 2, 1), 255);
        assert_eq!(internet_checksum(0, &frame[14..34]), 0);
    }
}
