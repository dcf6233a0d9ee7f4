//! All I/O with the kernel: the XDP program and its maps, raw sockets, AF_PACKET and rtnetlink.
//! Nothing outside this module opens a socket or makes a system call for the data path.
pub mod xdp;
