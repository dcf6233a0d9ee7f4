//! `vipd run --openshift-ipfailover` on two nodes, configured only by the environment the
//! ipfailover image takes: the node the image's arithmetic makes master (the slot of its
//! address) holds the VIPs, and the other takes them over when it is killed.
use std::ffi::OsStr;
use std::net::IpAddr;
use std::time::Duration;

use vipd_tests::{
    kernel_tests_enabled,
    topology::Lan,
    vipd::{wait_until, Scratch, Vipd},
};

const VIPS: [&str; 2] = ["192.0.2.100", "192.0.2.101"];
const EVENTUALLY: Duration = Duration::from_secs(20);

/// The deployment's environment, the same on both nodes, as `oc adm ipfailover` sets it.
const ENVIRONMENT: &[(&str, &str)] = &[
    ("OPENSHIFT_HA_CONFIG_NAME", "ipf-test"),
    ("OPENSHIFT_HA_VIRTUAL_IPS", "192.0.2.100-101"),
    ("OPENSHIFT_HA_VIP_GROUPS", "1"),
    ("OPENSHIFT_HA_NETWORK_INTERFACE", "eth0"),
    ("OPENSHIFT_HA_MONITOR_PORT", "0"),
    ("OPENSHIFT_HA_REPLICA_COUNT", "2"),
    ("OPENSHIFT_HA_VRRP_ID_OFFSET", "40"),
    ("OPENSHIFT_HA_PREEMPTION", "preempt_nodelay"),
];

fn start(lan: &Lan, dir: &Scratch, n: usize) -> Vipd {
    let socket = dir.path().join(format!("n{n}.sock"));
    let args = [
        OsStr::new("--openshift-ipfailover"),
        OsStr::new("--control-socket"),
        socket.as_os_str(),
    ];
    let socket = socket.clone();
    let log = dir.path().join(format!("n{n}.log"));
    Vipd::run_with_env(
        lan.node(n),
        &log,
        &args,
        ENVIRONMENT,
        dir.path().join("unused.toml"),
        socket,
    )
}

fn holds_all(lan: &Lan, n: usize) -> bool {
    VIPS.iter()
        .all(|vip| lan.has_address(n, vip.parse::<IpAddr>().unwrap()))
}

#[test]
fn the_slot_master_holds_the_vips_and_the_other_node_takes_over() {
    if !kernel_tests_enabled() {
        return;
    }
    let lan = Lan::new(2);
    let dir = Scratch::new("openshift-ipfailover");
    let backup = start(&lan, &dir, 1);
    let mut master = start(&lan, &dir, 2);
    // 192.0.2.2: slot 2, 2 % 2 + 1 = 1, so the one instance (VIP_GROUPS 1) is node 2's at
    // priority 253; node 1 (slot 1, every 2nd instance) is its backup.
    assert!(
        wait_until(EVENTUALLY, || holds_all(&lan, 2)),
        "node 2 must hold the VIPs:\n{}\n{}",
        master.log(),
        backup.log()
    );
    assert!(!holds_all(&lan, 1), "node 1 stays backup");

    master.signal(libc::SIGKILL);
    assert_eq!(
        master.wait_exit(EVENTUALLY),
        Some(None),
        "killed by a signal"
    );
    assert!(
        wait_until(EVENTUALLY, || holds_all(&lan, 1)),
        "node 1 must take the VIPs over:\n{}",
        backup.log()
    );
}
