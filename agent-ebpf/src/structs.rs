//! Wire headers as the program reads and writes them. Every field is a byte array, so every
//! struct has alignment 1 and can sit at any offset of the frame; multi-byte fields are network
//! order and read with `u16::from_be_bytes`.

#[repr(C)]
pub struct EthHdr {
    pub dst: [u8; 6],
    pub src: [u8; 6],
    pub ether_type: [u8; 2],
}

/// The part of an 802.1Q tag after the 0x8100 type: tag control information and the inner type.
#[repr(C)]
pub struct VlanHdr {
    pub tci: [u8; 2],
    pub ether_type: [u8; 2],
}

#[repr(C)]
pub struct Ipv4Hdr {
    pub version_ihl: u8,
    pub tos: u8,
    pub total_len: [u8; 2],
    pub id: [u8; 2],
    pub frag: [u8; 2],
    pub ttl: u8,
    pub proto: u8,
    pub check: [u8; 2],
    pub src: [u8; 4],
    pub dst: [u8; 4],
}

#[repr(C)]
pub struct Ipv6Hdr {
    pub version_class_flow: [u8; 4],
    pub payload_len: [u8; 2],
    pub next_hdr: u8,
    pub hop_limit: u8,
    pub src: [u8; 16],
    pub dst: [u8; 16],
}

#[repr(C)]
pub struct UdpHdr {
    pub src_port: [u8; 2],
    pub dst_port: [u8; 2],
    pub len: [u8; 2],
    pub check: [u8; 2],
}

/// The first eight bytes of a VRRP message, the same in v2 and v3 except for bytes 4-5:
/// v2 carries Auth Type and Adver Int there, v3 the Rsvd nibble and 12-bit Max Adver Int.
#[repr(C)]
pub struct VrrpHead {
    pub version_type: u8,
    pub vrid: u8,
    pub priority: u8,
    pub addr_count: u8,
    pub interval: [u8; 2],
    pub checksum: [u8; 2],
}

/// An ARP packet for Ethernet and IPv4 (RFC 826), the only kind the responder answers.
#[repr(C)]
pub struct ArpEthIpv4 {
    pub htype: [u8; 2],
    pub ptype: [u8; 2],
    pub hlen: u8,
    pub plen: u8,
    pub op: [u8; 2],
    pub sha: [u8; 6],
    pub spa: [u8; 4],
    pub tha: [u8; 6],
    pub tpa: [u8; 4],
}

/// A neighbour solicitation without its options (RFC 4861 section 4.3).
#[repr(C)]
pub struct NeighborSolicit {
    pub icmp_type: u8,
    pub code: u8,
    pub checksum: [u8; 2],
    pub reserved: [u8; 4],
    pub target: [u8; 16],
}

/// The IPv6 header and the neighbour advertisement the responder writes over a solicitation.
#[repr(C)]
pub struct Ipv6NaReply {
    pub ip: Ipv6Hdr,
    pub icmp_type: u8,
    pub code: u8,
    pub checksum: [u8; 2],
    pub flags: u8,
    pub reserved: [u8; 3],
    pub target: [u8; 16],
    pub opt_type: u8,
    pub opt_len: u8,
    pub opt_lladdr: [u8; 6],
}
