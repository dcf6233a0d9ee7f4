//! vipd's XDP fast path inside the running daemon: the program answers ARP for the VIPs its
//! node holds, stops when vipd is frozen (the dead-man switch), and leaves with the process.
//!
//! The node's kernel is told never to answer ARP itself (`arp_ignore = 8`), so every answer the
//! client gets comes from the XDP program.
use std::{process::Command, time::Duration};

use vipd_tests::{
    kernel_tests_enabled,
    topology::Lan,
    vipd::{instance_config, wait_until, Scratch, Vipd},
};

const VIP: &str = "192.0.2.100";
const EVENTUALLY: Duration = Duration::from_secs(15);

fn config() -> String {
    instance_config(150, VIP, "")
}

/// Whether one ARP request from the client (node 2) for the VIP is answered within a second.
fn arp_answered(lan: &Lan) -> bool {
    lan.arp_answered(2, VIP)
}

/// A LAN of plain veths with the vipd node (1) answering ARP only through XDP, and a client (2).
fn lan() -> Lan {
    let lan = Lan::new(2);
    lan.node(1)
        .exec(&["sysctl", "-qw", "net.ipv4.conf.all.arp_ignore=8"]);
    lan
}

#[test]
fn the_master_answers_arp_from_xdp_and_stops_while_frozen() {
    if !kernel_tests_enabled() {
        return;
    }
    let lan = lan();
    let dir = Scratch::new("xdp-arp");
    let node = Vipd::start(
        lan.node(1),
        dir.path(),
        "n1",
        &config(),
        &["--xdp-mode", "generic"],
    );
    assert!(wait_until(EVENTUALLY, || lan.has_address(1, VIP.parse().unwrap())));
    assert!(
        wait_until(EVENTUALLY, || arp_answered(&lan)),
        "the XDP responder never answered:\n{}",
        node.log()
    );

    node.signal(libc::SIGSTOP);
    // The dead-man bound is 100 ms; arping's own second is far longer.
    assert!(
        wait_until(EVENTUALLY, || !arp_answered(&lan)),
        "a frozen vipd must stop answering"
    );
    node.signal(libc::SIGCONT);
    assert!(
        wait_until(EVENTUALLY, || arp_answered(&lan)),
        "answers resume when vipd runs again"
    );
}

/// Whether the client (node 2) gets an answer to one ping of the VIP within a second.
fn vip_pingable(lan: &Lan) -> bool {
    Command::new("ip")
        .args(["netns", "exec", lan.node(2).name()])
        .args(["ping", "-c", "1", "-W", "1", VIP])
        .output()
        .expect("run ping")
        .status
        .success()
}

/// As users have it: plain veths (no XDP program on the peer) and vipd's default mode. The
/// program must not swallow ARP requests whose XDP_TX answers the veth would drop.
#[test]
fn the_default_mode_on_a_plain_veth_answers_arp_and_the_vip_answers_ping() {
    if !kernel_tests_enabled() {
        return;
    }
    let lan = Lan::new(2);
    let dir = Scratch::new("xdp-plain");
    let node = Vipd::start(lan.node(1), dir.path(), "n1", &config(), &[]);
    assert!(wait_until(EVENTUALLY, || lan.has_address(1, VIP.parse().unwrap())));
    assert!(
        wait_until(EVENTUALLY, || arp_answered(&lan)),
        "nothing answered ARP for the VIP:\n{}",
        node.log()
    );
    assert!(
        wait_until(EVENTUALLY, || vip_pingable(&lan)),
        "the VIP does not answer ping:\n{}",
        node.log()
    );
    assert!(
        node.log().contains("generic (skb) mode"),
        "the log says which mode was chosen and why:\n{}",
        node.log()
    );
}

#[test]
fn kill9_takes_the_program_off_the_interface() {
    if !kernel_tests_enabled() {
        return;
    }
    let lan = lan();
    let dir = Scratch::new("xdp-kill");
    let mut node = Vipd::start(
        lan.node(1),
        dir.path(),
        "n1",
        &config(),
        &["--xdp-mode", "generic"],
    );
    let has_xdp = |lan: &Lan| {
        let out = lan.node(1).exec(&["ip", "link", "show", "eth0"]);
        String::from_utf8_lossy(&out.stdout).contains("xdp")
    };
    assert!(wait_until(EVENTUALLY, || has_xdp(&lan)), "{}", node.log());
    node.signal(libc::SIGKILL);
    assert_eq!(node.wait_exit(EVENTUALLY), Some(None), "killed by a signal");
    assert!(
        wait_until(EVENTUALLY, || !has_xdp(&lan)),
        "the program must leave with the process that owns its link"
    );
    assert!(!arp_answered(&lan), "nothing answers for the VIP any more");
}

/// Two fast-mode nodes with the liveness echo: the backup probes the master, whose XDP program
/// reflects the probes while its vipd lives. Frozen, the master's program stops vouching for
/// it once the dead-man bound has passed, and the backup takes over; thawed, the master (higher
/// priority) takes the VIP back.
#[test]
fn a_frozen_master_is_replaced_once_its_echo_stops() {
    if !kernel_tests_enabled() {
        return;
    }
    let lan = Lan::new(2);
    let dir = Scratch::new("xdp-echo");
    let fast = |priority: u8| {
        format!(
            "[[instance]]\nname = \"VI_1\"\ninterface = \"eth0\"\nvrid = 51\npriority = {priority}\n\
             advert_interval = \"1ms\"\necho_timeout = \"5ms\"\nvips = [\"{VIP}/24\"]\n"
        )
    };
    let generic = ["--xdp-mode", "generic"];
    let master = Vipd::start(lan.node(1), dir.path(), "n1", &fast(200), &generic);
    let backup = Vipd::start(lan.node(2), dir.path(), "n2", &fast(100), &generic);
    let vip = VIP.parse().unwrap();
    assert!(
        wait_until(EVENTUALLY, || lan.has_address(1, vip)
            && !lan.has_address(2, vip)),
        "election:\n{}",
        master.log()
    );
    // The master can win before the backup has even attached: wait for the backup's word.
    assert!(
        wait_until(EVENTUALLY, || backup.log().contains("liveness echo on")),
        "the backup probes:\n{}",
        backup.log()
    );

    master.signal(libc::SIGSTOP);
    assert!(
        wait_until(EVENTUALLY, || lan.has_address(2, vip)),
        "the backup never took over from the frozen master:\n{}",
        backup.log()
    );
    master.signal(libc::SIGCONT);
    assert!(
        wait_until(EVENTUALLY, || !lan.has_address(2, vip)),
        "the thawed master never took the VIP back:\n{}",
        backup.log()
    );
}
