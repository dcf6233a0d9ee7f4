//! A vipd master that dies or freezes must not leave its node answering for the VIP: with the
//! node's kernel at its defaults (it answers ARP for any address it holds), a frozen vipd's XDP
//! program drops the requests for its VIPs, and after kill -9 `vipd cleanup` (the systemd unit's
//! ExecStopPost) removes the VIP it left; the next vipd takes over.
use std::{process::Command, time::Duration};

use vipd_tests::{
    kernel_tests_enabled,
    topology::Lan,
    vipd::{binary, instance_config, wait_until, Scratch, Vipd},
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

#[test]
fn a_frozen_master_is_muted_although_its_kernel_holds_the_vip() {
    if !kernel_tests_enabled() {
        return;
    }
    let lan = Lan::new(2);
    let dir = Scratch::new("crash-frozen");
    let node = Vipd::start(lan.node(1), dir.path(), "n1", &config(), &[]);
    assert!(wait_until(EVENTUALLY, || lan.has_address(1, VIP.parse().unwrap())));
    assert!(
        wait_until(EVENTUALLY, || arp_answered(&lan)),
        "{}",
        node.log()
    );

    node.signal(libc::SIGSTOP);
    assert!(lan.has_address(1, VIP.parse().unwrap()), "the VIP stays");
    assert!(
        wait_until(EVENTUALLY, || !arp_answered(&lan)),
        "a frozen vipd's node must not answer for its VIP, from XDP or from its kernel"
    );
    node.signal(libc::SIGCONT);
    assert!(
        wait_until(EVENTUALLY, || arp_answered(&lan)),
        "answers resume when vipd runs again"
    );
}

#[test]
fn after_kill9_cleanup_removes_the_vip_and_the_next_vipd_takes_over() {
    if !kernel_tests_enabled() {
        return;
    }
    let lan = Lan::new(2);
    let dir = Scratch::new("crash-kill");
    let mut node = Vipd::start(lan.node(1), dir.path(), "n1", &config(), &[]);
    let vip = VIP.parse().unwrap();
    assert!(wait_until(EVENTUALLY, || lan.has_address(1, vip)));
    assert!(
        wait_until(EVENTUALLY, || arp_answered(&lan)),
        "{}",
        node.log()
    );

    node.signal(libc::SIGKILL);
    assert_eq!(node.wait_exit(EVENTUALLY), Some(None), "killed by a signal");
    assert!(
        lan.has_address(1, vip),
        "a killed vipd cannot remove its VIP"
    );
    assert!(
        arp_answered(&lan),
        "with the VIP left behind the node's kernel answers for it: the split brain to clean"
    );

    let cleanup = Command::new("ip")
        .args(["netns", "exec", lan.node(1).name()])
        .arg(binary())
        .arg("cleanup")
        .output()
        .expect("run vipd cleanup");
    assert!(
        cleanup.status.success(),
        "{}",
        String::from_utf8_lossy(&cleanup.stderr)
    );
    assert!(!lan.has_address(1, vip), "cleanup removes the VIP");
    assert!(
        lan.has_address(1, Lan::ipv4(1).into()),
        "and nothing that vipd did not add"
    );
    assert!(!arp_answered(&lan), "nothing answers for the VIP any more");

    let again = Vipd::start(lan.node(1), dir.path(), "n1-again", &config(), &[]);
    assert!(
        wait_until(EVENTUALLY, || arp_answered(&lan)),
        "the next vipd takes the VIP back:\n{}",
        again.log()
    );
}

/// As users run it (plain veths, the default attach, no options): the kernel's exit and SIGSTOP
/// watch is attached, so a killed or frozen vipd's node goes silent at once rather than after
/// the dead-man bound (what it silences is tested frame by frame in xdp_echo_test_run.rs).
#[test]
fn the_default_daemon_has_the_kernel_watch_on_its_own_exit() {
    if !kernel_tests_enabled() {
        return;
    }
    let lan = Lan::new(2);
    let dir = Scratch::new("crash-watch");
    let node = Vipd::start(lan.node(1), dir.path(), "n1", &config(), &[]);
    assert!(wait_until(EVENTUALLY, || lan.has_address(1, VIP.parse().unwrap())));
    let log = node.log();
    assert!(
        log.contains("XDP answers stop the moment the kernel reports vipd exited or stopped"),
        "{log}"
    );
    assert!(!log.contains("stop only after the dead-man bound"), "{log}");
}
