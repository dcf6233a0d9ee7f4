//! The ARP and NA responders on a real veth between two network namespaces: a client asks for a
//! VIP that the node's XDP program owns but that is configured on none of the node's interfaces,
//! so only the program can answer.
//!
//! On veth in driver (native) mode XDP_TX only delivers when the peer veth has an XDP program
//! too: the client end gets vipd's own program with nothing owned, a pass-through. In generic
//! (skb) mode no peer program is needed.
use agent_common::counter;
use std::{
    net::{IpAddr, Ipv4Addr, Ipv6Addr},
    process::Output,
    time::{Duration, Instant},
};

use vipd::dataplane::xdp::{AttachMode, XdpMaps, XdpProgram};
use vipd_tests::{
    clock::monotonic_ns,
    kernel_tests_enabled,
    netns::{veth, Netns},
};

const CLIENT_IF: &str = "cli0";
const NODE_IF: &str = "node0";
const NODE_MAC: &str = "02:00:00:00:00:02";
const NODE_MAC_BYTES: [u8; 6] = [2, 0, 0, 0, 0, 2];
const VIP4: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 100);
const VIP6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x100);

/// A client and a node on a veth pair, the node's program owning VIP4 and VIP6 with a fresh
/// heartbeat. Field order is drop order: programs (and their links) go before the namespaces.
struct Lab {
    node_maps: XdpMaps,
    node_ifindex: u32,
    _node_program: XdpProgram,
    _client_program: Option<XdpProgram>,
    client: Netns,
    _node: Netns,
}

fn lab(node_mode: AttachMode) -> Lab {
    let client = Netns::new("cli");
    let node = Netns::new("node");
    veth(&client, CLIENT_IF, &node, NODE_IF);
    node.exec(&["ip", "link", "set", NODE_IF, "address", NODE_MAC]);
    client.exec(&["ip", "addr", "add", "192.0.2.1/24", "dev", CLIENT_IF]);
    client.exec(&[
        "ip",
        "addr",
        "add",
        "2001:db8::1/64",
        "dev",
        CLIENT_IF,
        "nodad",
    ]);
    node.exec(&["ip", "addr", "add", "192.0.2.2/24", "dev", NODE_IF]);
    node.exec(&[
        "ip",
        "addr",
        "add",
        "2001:db8::2/64",
        "dev",
        NODE_IF,
        "nodad",
    ]);

    let mut node_program = XdpProgram::load().expect("load the node's program");
    let mut node_maps = node_program.take_maps().expect("node maps");
    let attachment = node
        .run(|| node_program.attach(NODE_IF, node_mode))
        .expect("attach on the node");
    assert_eq!(attachment.mode, node_mode);
    for vip in [IpAddr::V4(VIP4), IpAddr::V6(VIP6)] {
        node_maps
            .own_vip(attachment.ifindex, vip, NODE_MAC_BYTES, 51)
            .expect("own VIP");
    }
    node_maps
        .set_deadman_bound(Duration::from_secs(3600))
        .unwrap();
    node_maps.heartbeat(monotonic_ns()).unwrap();

    let client_program = (node_mode == AttachMode::Driver).then(|| {
        let mut program = XdpProgram::load().expect("load the client's pass-through");
        client
            .run(|| program.attach(CLIENT_IF, AttachMode::Driver))
            .expect("attach the pass-through on the client");
        program
    });
    Lab {
        node_maps,
        node_ifindex: attachment.ifindex,
        _node_program: node_program,
        _client_program: client_program,
        client,
        _node: node,
    }
}

impl Lab {
    /// `arping -c count` for `vip` from the client; returns the MACs that answered, one line each
    /// (empty when nothing answered).
    fn arping(&self, vip: Ipv4Addr, count: u32) -> Vec<String> {
        let out = self.client_command(&[
            "arping",
            "-r",
            "-c",
            &count.to_string(),
            "-W",
            "0.2",
            "-w",
            "5",
            "-i",
            CLIENT_IF,
            &vip.to_string(),
        ]);
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// Runs a command in the client namespace, whatever its exit status.
    fn client_command(&self, argv: &[&str]) -> Output {
        std::process::Command::new("ip")
            .args(["netns", "exec", self.client.name()])
            .args(argv)
            .output()
            .unwrap_or_else(|e| panic!("running {argv:?}: {e}"))
    }

    /// The client's neighbour entry for `vip`, once it has a link-layer address, or the last
    /// entry seen after a generous deadline (this is not a timing test).
    fn resolved_neighbour(&self, vip: Ipv6Addr) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        let vip = vip.to_string();
        loop {
            // Traffic to the VIP makes the kernel solicit it; the echo itself goes unanswered.
            self.client_command(&["ping", "-6", "-c", "1", "-W", "0.3", &vip]);
            let out = self.client_command(&["ip", "-6", "neigh", "show", &vip, "dev", CLIENT_IF]);
            let entry = String::from_utf8_lossy(&out.stdout).trim().to_string();
            if entry.contains("lladdr") || Instant::now() > deadline {
                return entry;
            }
        }
    }
}

fn answers_arp_for_an_unconfigured_vip(mode: AttachMode) {
    let lab = lab(mode);

    let macs = lab.arping(VIP4, 3);

    assert_eq!(macs, vec![NODE_MAC; 3], "arping replies");
    let counters = lab.node_maps.counters().unwrap();
    assert!(
        counters.get(counter::ARP_ANSWERED) >= 3,
        "the program answered: {counters:?}"
    );
}

#[test]
fn arping_gets_the_reply_from_the_xdp_responder_in_driver_mode() {
    if !kernel_tests_enabled() {
        return;
    }
    answers_arp_for_an_unconfigured_vip(AttachMode::Driver);
}

#[test]
fn arping_gets_the_reply_from_the_xdp_responder_in_generic_mode() {
    if !kernel_tests_enabled() {
        return;
    }
    answers_arp_for_an_unconfigured_vip(AttachMode::Generic);
}

#[test]
fn without_the_responder_the_vip_goes_unanswered() {
    if !kernel_tests_enabled() {
        return;
    }
    let mut lab = lab(AttachMode::Driver);
    // The node's own address is answered by the kernel (the path works) ...
    assert_eq!(lab.arping(Ipv4Addr::new(192, 0, 2, 2), 1), vec![NODE_MAC]);
    // ... but the VIP is on no interface: once disowned, nobody answers.
    lab.node_maps
        .disown_vip(lab.node_ifindex, IpAddr::V4(VIP4))
        .unwrap();
    assert_eq!(lab.arping(VIP4, 2), Vec::<String>::new());
}

#[test]
fn a_stale_heartbeat_stops_the_answers() {
    if !kernel_tests_enabled() {
        return;
    }
    let mut lab = lab(AttachMode::Driver);
    assert_eq!(lab.arping(VIP4, 1), vec![NODE_MAC], "answers while fresh");

    lab.node_maps
        .set_deadman_bound(Duration::from_millis(1))
        .unwrap();
    lab.node_maps
        .heartbeat(monotonic_ns() - Duration::from_secs(1).as_nanos() as u64)
        .unwrap();

    assert_eq!(lab.arping(VIP4, 2), Vec::<String>::new());
    let counters = lab.node_maps.counters().unwrap();
    assert!(
        counters.get(counter::DEADMAN_SUPPRESSED) >= 2,
        "{counters:?}"
    );
}

#[test]
fn the_client_learns_the_vip6_neighbour_from_the_xdp_advertisement() {
    if !kernel_tests_enabled() {
        return;
    }
    let lab = lab(AttachMode::Driver);

    let entry = lab.resolved_neighbour(VIP6);

    // The kernel accepts an advertisement only with a valid ICMPv6 checksum and hop limit 255.
    assert!(
        entry.contains(&format!("lladdr {NODE_MAC}")),
        "neighbour entry: {entry:?}"
    );
    assert!(lab.node_maps.counters().unwrap().get(counter::NA_ANSWERED) >= 1);
}
