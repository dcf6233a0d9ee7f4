//! The dataplane owns all I/O with the kernel: the XDP program and its maps, raw VRRP sockets,
//! AF_PACKET announcements and rtnetlink. Nothing outside it opens a socket to the kernel's
//! network stack, so the protocol core stays sans-IO and each kernel object has one owner.
pub mod host_lookup;
pub mod netlink;
pub mod packet;
pub mod xdp;
