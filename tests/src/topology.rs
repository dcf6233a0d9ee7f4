//! A switched LAN in network namespaces: a bridge in its own namespace and nodes attached to it
//! by veth pairs, each node's end called `eth0` with 192.0.2.N/24 and 2001:db8::N/64 (documentation
//! ranges; they never leave the namespaces). The switch port of node N is `pN` in the bridge
//! namespace, so a test can pull a node's cable with `link_down(N)`.
//!
//! [`Lan::new`] gives plain veths, as users have them (containers, labs, pods): vipd's default
//! mode must work there. [`Lan::with_pass_through_ports`] puts a pass-through XDP program (vipd's
//! own, owning nothing) on every switch port, for the benchmark and the tests that run vipd in
//! driver mode: a veth delivers frames that the XDP program on its peer sends back in driver
//! mode (XDP_TX, as vipd's ARP and NA answers are) only when it has an XDP program itself.
use std::{
    net::{IpAddr, Ipv4Addr, Ipv6Addr},
    process::Command,
    time::Duration,
};

use vipd::dataplane::xdp::{AttachMode, XdpProgram};

use crate::{netns::Netns, vipd::wait_until};

pub struct Lan {
    // Field order is drop order: the programs leave before the namespaces go.
    /// The switch ports' pass-through program, when they have one.
    ports_xdp: Option<XdpProgram>,
    switch: Netns,
    nodes: Vec<Netns>,
}

impl Lan {
    /// A bridge with `count` nodes, numbered from 1, on plain veths.
    pub fn new(count: usize) -> Self {
        Self::build(count, None)
    }

    /// As [`Lan::new`], with a pass-through XDP program on every switch port, so that the
    /// nodes' XDP answers get through in driver mode too.
    pub fn with_pass_through_ports(count: usize) -> Self {
        let program = XdpProgram::load().expect("load the pass-through XDP program");
        Self::build(count, Some(program))
    }

    /// Whether the switch ports carry a pass-through program, so vipd may run in driver mode.
    pub fn has_pass_through_ports(&self) -> bool {
        self.ports_xdp.is_some()
    }

    fn build(count: usize, ports_xdp: Option<XdpProgram>) -> Self {
        let switch = Netns::new("sw");
        switch.exec(&["ip", "link", "add", "br0", "type", "bridge"]);
        // No STP forwarding delay: ports forward as soon as they are up.
        switch.exec(&[
            "ip",
            "link",
            "set",
            "br0",
            "type",
            "bridge",
            "forward_delay",
            "0",
        ]);
        switch.exec(&["ip", "link", "set", "br0", "up"]);
        let mut lan = Self {
            ports_xdp,
            switch,
            nodes: Vec::new(),
        };
        for _ in 0..count {
            lan.add_node();
        }
        lan
    }

    /// Adds a node and returns its number.
    pub fn add_node(&mut self) -> usize {
        let n = self.nodes.len() + 1;
        let node = Netns::new(&format!("n{n}"));
        // IPv6 addresses are usable at once: no duplicate address detection in the lab.
        node.exec(&["sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0"]);
        node.exec(&["sysctl", "-qw", "net.ipv6.conf.default.accept_dad=0"]);
        let port = format!("p{n}");
        crate::netns::veth(&node, "eth0", &self.switch, &port);
        self.switch
            .exec(&["ip", "link", "set", &port, "master", "br0"]);
        if let Some(program) = &mut self.ports_xdp {
            self.switch
                .run(|| program.attach(&port, AttachMode::Driver))
                .expect("attach the pass-through XDP program to the switch port");
        }
        node.exec(&[
            "ip",
            "addr",
            "add",
            &format!("{}/24", Self::ipv4(n)),
            "dev",
            "eth0",
        ]);
        node.exec(&[
            "ip",
            "addr",
            "add",
            &format!("{}/64", Self::ipv6(n)),
            "dev",
            "eth0",
            "nodad",
        ]);
        self.nodes.push(node);
        n
    }

    /// The namespace holding the bridge.
    pub fn switch(&self) -> &Netns {
        &self.switch
    }

    pub fn node(&self, n: usize) -> &Netns {
        &self.nodes[n - 1]
    }

    pub fn ipv4(n: usize) -> Ipv4Addr {
        Ipv4Addr::new(192, 0, 2, n as u8)
    }

    pub fn ipv6(n: usize) -> Ipv6Addr {
        Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, n as u16)
    }

    /// Pulls node `n`'s cable: its switch port goes down, the node's own interface stays up.
    pub fn link_down(&self, n: usize) {
        self.switch
            .exec(&["ip", "link", "set", &format!("p{n}"), "down"]);
    }

    pub fn link_up(&self, n: usize) {
        self.switch
            .exec(&["ip", "link", "set", &format!("p{n}"), "up"]);
    }

    /// Whether node `n` has `addr` on any interface.
    pub fn has_address(&self, n: usize, addr: IpAddr) -> bool {
        let out = self.node(n).exec(&["ip", "-o", "addr", "show"]);
        let wanted = format!(" {addr}/");
        String::from_utf8_lossy(&out.stdout).contains(&wanted)
    }

    /// The nodes (numbers) that have `addr`.
    pub fn holders(&self, addr: IpAddr) -> Vec<usize> {
        (1..=self.nodes.len())
            .filter(|&n| self.has_address(n, addr))
            .collect()
    }

    /// Asserts that `addr` comes to be on exactly the nodes `expected` within `within`; `what`
    /// says which step of the test this is.
    pub fn assert_holders(&self, addr: IpAddr, expected: &[usize], within: Duration, what: &str) {
        assert!(
            wait_until(within, || self.holders(addr) == expected),
            "{what}: {addr} is on nodes {:?}, expected {expected:?}",
            self.holders(addr)
        );
    }

    /// Asserts that node `n`, a backup, comes to hold `addr` within `within`.
    pub fn assert_took_over(&self, n: usize, addr: IpAddr, within: Duration) {
        assert!(
            wait_until(within, || self.has_address(n, addr)),
            "the backup never took over"
        );
    }

    /// Whether one ARP request from node `n`'s eth0 for `addr` is answered within a second.
    pub fn arp_answered(&self, n: usize, addr: &str) -> bool {
        Command::new("ip")
            .args(["netns", "exec", self.node(n).name()])
            .args(["arping", "-c", "1", "-w", "1", "-i", "eth0", addr])
            .output()
            .expect("run arping")
            .status
            .success()
    }
}
