//! The dataplane owns all I/O with the kernel: rtnetlink (addresses, links,
//! the VRRP virtual MAC), and the sockets and XDP objects that carry VRRP
//! traffic. Nothing outside this module talks to the kernel's network stack.

pub mod netlink;
