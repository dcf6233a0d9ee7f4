//! The Ethernet frames that tell a link a VIP's new owner: the gratuitous ARP request for IPv4
//! (RFC 5227 §3 "ARP announcement") and the unsolicited neighbour advertisement for IPv6
//! (RFC 4861 §7.2.6), built as bytes for an AF_PACKET socket.

use std::net::{Ipv4Addr, Ipv6Addr};

/// Ethernet header (14) + ARP for IPv4 over Ethernet (28). Network cards pad to 60 on the wire.
pub const GARP_FRAME_LEN: usize = 42;
/// Ethernet header (14) + IPv6 header (40) + neighbour advertisement (24) + target link-layer
/// address option (8).
pub const NA_FRAME_LEN: usize = 86;

const ETHERTYPE_ARP: [u8; 2] = [0x08, 0x06];
const ETHERTYPE_IPV6: [u8; 2] = [0x86, 0xdd];
const BROADCAST_MAC: [u8; 6] = [0xff; 6];
/// ff02::1 mapped to Ethernet (RFC 2464 §7).
const ALL_NODES_MAC: [u8; 6] = [0x33, 0x33, 0, 0, 0, 1];
const ALL_NODES: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);
const ICMPV6: u8 = 58;
const NEIGHBOR_ADVERTISEMENT: u8 = 136;
/// The Override flag: receivers replace the link-layer address they cached for the target.
/// Router and Solicited stay clear: a VIP owner announces an address, not a router, unasked.
const NA_FLAG_OVERRIDE: u8 = 0x20;
const OPTION_TARGET_LINK_LAYER_ADDRESS: u8 = 2;
/// Neighbour discovery packets must arrive with hop limit 255 (RFC 4861 §7.1.2).
const ND_HOP_LIMIT: u8 = 255;

/// A broadcast ARP request with sender and target protocol address both `vip` and sender
/// hardware address `mac` (the interface's or the virtual MAC); the target hardware address is
/// zero, as RFC 5227 asks. Requests rather than replies, because every stack on the link
/// processes a broadcast request and updates a cached entry from it.
pub fn gratuitous_arp_frame(vip: Ipv4Addr, mac: [u8; 6]) -> [u8; GARP_FRAME_LEN] {
    let mut frame = [0u8; GARP_FRAME_LEN];
    frame[0..6].copy_from_slice(&BROADCAST_MAC);
    frame[6..12].copy_from_slice(&mac);
    frame[12..14].copy_from_slice(&ETHERTYPE_ARP);
    let arp = &mut frame[14..];
    arp[0..2].copy_from_slice(&[0x00, 0x01]); // hardware type Ethernet
    arp[2..4].copy_from_slice(&[0x08, 0x00]); // protocol type IPv4
    arp[4] = 6; // hardware address length
    arp[5] = 4; // protocol address length
    arp[6..8].copy_from_slice(&[0x00, 0x01]); // operation: request
    arp[8..14].copy_from_slice(&mac);
    arp[14..18].copy_from_slice(&vip.octets());
    // arp[18..24]: target hardware address, zero.
    arp[24..28].copy_from_slice(&vip.octets());
    frame
}

/// An unsolicited neighbour advertisement for `vip` to all nodes (ff02::1) with the Override
/// flag and a target link-layer address option carrying `mac`, sent from `vip` itself as the
/// kernel's own unsolicited advertisements are.
pub fn unsolicited_na_frame(vip: Ipv6Addr, mac: [u8; 6]) -> [u8; NA_FRAME_LEN] {
    const ICMP_LEN: usize = 32;
    let mut frame = [0u8; NA_FRAME_LEN];
    frame[0..6].copy_from_slice(&ALL_NODES_MAC);
    frame[6..12].copy_from_slice(&mac);
    frame[12..14].copy_from_slice(&ETHERTYPE_IPV6);

    let ip = &mut frame[14..54];
    ip[0] = 0x60; // version 6, traffic class 0, flow label 0
    ip[4..6].copy_from_slice(&(ICMP_LEN as u16).to_be_bytes());
    ip[6] = ICMPV6;
    ip[7] = ND_HOP_LIMIT;
    ip[8..24].copy_from_slice(&vip.octets());
    ip[24..40].copy_from_slice(&ALL_NODES.octets());

    let icmp = &mut frame[54..];
    icmp[0] = NEIGHBOR_ADVERTISEMENT;
    // icmp[1]: code 0; icmp[2..4]: checksum, filled below.
    icmp[4] = NA_FLAG_OVERRIDE;
    icmp[8..24].copy_from_slice(&vip.octets());
    icmp[24] = OPTION_TARGET_LINK_LAYER_ADDRESS;
    icmp[25] = 1; // option length in units of 8 bytes
    icmp[26..32].copy_from_slice(&mac);
    let checksum = icmpv6_checksum(vip, ALL_NODES, icmp);
    icmp[2..4].copy_from_slice(&checksum.to_be_bytes());
    frame
}

/// The Internet checksum over the IPv6 pseudo-header (RFC 8200 §8.1) and `message`, whose
/// checksum field must be zero.
fn icmpv6_checksum(source: Ipv6Addr, destination: Ipv6Addr, message: &[u8]) -> u16 {
    let mut pseudo_header = [0u8; 40];
    pseudo_header[0..16].copy_from_slice(&source.octets());
    pseudo_header[16..32].copy_from_slice(&destination.octets());
    pseudo_header[32..36].copy_from_slice(&(message.len() as u32).to_be_bytes());
    pseudo_header[39] = ICMPV6;
    let sum = ones_complement_sum(&pseudo_header, 0);
    !fold(ones_complement_sum(message, sum))
}

fn ones_complement_sum(bytes: &[u8], mut sum: u32) -> u32 {
    let mut words = bytes.chunks_exact(2);
    for word in &mut words {
        sum += u32::from(u16::from_be_bytes([word[0], word[1]]));
        sum = (sum & 0xffff) + (sum >> 16);
    }
    if let [last] = words.remainder() {
        sum += u32::from(*last) << 8;
    }
    sum
}

fn fold(mut sum: u32) -> u16 {
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum as u16
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAC: [u8; 6] = [0x00, 0x00, 0x5e, 0x00, 0x01, 0x33];

    #[test]
    fn gratuitous_arp_matches_hand_assembled_frame() {
        #[rustfmt::skip]
        let expected: [u8; GARP_FRAME_LEN] = [
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // destination: broadcast
            0x00, 0x00, 0x5e, 0x00, 0x01, 0x33, // source: VRRP virtual MAC of VRID 51
            0x08, 0x06,                         // ARP
            0x00, 0x01, 0x08, 0x00, 6, 4,       // Ethernet / IPv4, lengths 6 and 4
            0x00, 0x01,                         // request
            0x00, 0x00, 0x5e, 0x00, 0x01, 0x33, // sender MAC
            192, 0, 2, 100,                     // sender IP: the VIP
            0, 0, 0, 0, 0, 0,                   // target MAC: zero
            192, 0, 2, 100,                     // target IP: the VIP
        ];
        assert_eq!(
            gratuitous_arp_frame(Ipv4Addr::new(192, 0, 2, 100), MAC),
            expected
        );
    }

    #[test]
    fn unsolicited_na_matches_hand_assembled_frame() {
        // Checksum by hand: the 16-bit words of pseudo-header and message, summed in one's
        // complement. Source 2001:db8::64 and target 2001:db8::64 contribute 2001+0db8+0064
        // each; ff02::1 gives ff02+0001; length 0x20 and next header 0x3a; the message adds
        // 8800 (type 136), 2000 (Override), the MAC 0000+5e00+0133 and option 0201.
        // 2*(2001+0db8+0064) = 0x5c3a; + ff02+0001 = 0x15b3d -> 0x5b3e; + 0020 + 003a = 0x5b98;
        // + 8800 = 0xe398; + 2000 = 0x10398 -> 0x0399; + 5e00 + 0133 = 0x62cc; + 0201 = 0x64cd;
        // checksum = !0x64cd = 0x9b32.
        #[rustfmt::skip]
        let expected: [u8; NA_FRAME_LEN] = [
            0x33, 0x33, 0x00, 0x00, 0x00, 0x01, // destination: all-nodes multicast MAC
            0x00, 0x00, 0x5e, 0x00, 0x01, 0x33, // source MAC
            0x86, 0xdd,                         // IPv6
            0x60, 0x00, 0x00, 0x00,             // version 6
            0x00, 0x20, 58, 255,                // payload 32 bytes, ICMPv6, hop limit 255
            0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x64, // source: VIP
            0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x01,       // ff02::1
            136, 0, 0x9b, 0x32,                 // neighbour advertisement, checksum
            0x20, 0, 0, 0,                      // R=0 S=0 O=1
            0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x64, // target: VIP
            2, 1,                               // target link-layer address, 8 bytes
            0x00, 0x00, 0x5e, 0x00, 0x01, 0x33,
        ];
        let vip: Ipv6Addr = "2001:db8::64".parse().unwrap();
        assert_eq!(unsolicited_na_frame(vip, MAC), expected);
    }

    #[test]
    fn na_checksum_verifies_to_zero_for_other_addresses() {
        let vip: Ipv6Addr = "fd00:ffff:1234:5678:9abc:def0:fedc:ba98".parse().unwrap();
        let frame = unsolicited_na_frame(vip, [0xfe, 0xff, 0xff, 0xff, 0xff, 0xff]);
        // A receiver sums the message including its checksum: the result must be all ones.
        let mut pseudo_header = [0u8; 40];
        pseudo_header[0..16].copy_from_slice(&vip.octets());
        pseudo_header[16..32].copy_from_slice(&ALL_NODES.octets());
        pseudo_header[35] = 32;
        pseudo_header[39] = ICMPV6;
        let sum = ones_complement_sum(&frame[54..], ones_complement_sum(&pseudo_header, 0));
        assert_eq!(fold(sum), 0xffff);
    }

    #[test]
    fn odd_length_checksum_pads_with_zero() {
        assert_eq!(ones_complement_sum(&[0x12, 0x34, 0x56], 0), 0x1234 + 0x5600);
    }
}
