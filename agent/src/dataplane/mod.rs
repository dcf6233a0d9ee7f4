//! The dataplane owns all I/O with the kernel: raw VRRP sockets, AF_PACKET announcements,
//! rtnetlink and the XDP program's maps. Nothing outside it opens a socket to the kernel's
//! network stack, so the protocol core stays sans-IO and each kernel object has one owner.

pub mod packet;
