//! vipd and keepalived 2.4 with auth_hmac in one VRRP group, each as master and as backup, over
//! IPv4 and IPv6, in enforce mode on both sides and with a keepalived that migrates
//! (receive-only, permissive) beside an enforcing or permissive vipd.
//!
//! Debian ships no keepalived with auth_hmac (2.2.7 has none), so these tests are ignored by
//! default (CI reports them as ignored, never as passed): run them with a keepalived 2.4 build
//! (ENVIRONMENT.md says how to build one) as
//! `VIPD_KEEPALIVED_24=/opt/ka24/sbin/keepalived cargo test -p vipd-tests --test
//! interop_keepalived_auth_hmac -- --ignored`. keepalived runs on node 1, vipd on node 2.
use std::{
    net::IpAddr,
    path::{Path, PathBuf},
    time::Duration,
};

use vipd_tests::{
    keepalived::{Keepalived, Member},
    kernel_tests_enabled,
    topology::Lan,
    vipd::{wait_until, Scratch, Vipd},
};

const EVENTUALLY: Duration = Duration::from_secs(20);
/// Many Master_Down_Intervals of 100 ms adverts: a router that would take over has done so.
const SETTLE: Duration = Duration::from_secs(2);
const KEY: &str = "hex:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
/// What keepalived 2.4 logs when it refuses an advert's trailer, or its absence.
const KEEPALIVED_AUTH_ERRORS: &[&str] = &[
    "missing authentication trailer",
    "malformed authentication trailer",
    "unknown authentication key id",
    "invalid authentication HMAC",
    "stale authentication trailer",
    "replayed authentication trailer",
];

/// The keepalived 2.4 build to run against: asked for by name, so a run without it fails.
fn keepalived_24() -> PathBuf {
    std::env::var_os("VIPD_KEEPALIVED_24")
        .map(PathBuf::from)
        .expect("set VIPD_KEEPALIVED_24 to a keepalived 2.4 binary to run these tests")
}

fn keepalived_conf(member: &Member, mode: &str) -> String {
    member.keepalived_conf().replace(
        "  virtual_ipaddress {",
        &format!("  auth_hmac {{\n    key 1 {KEY}\n    active_key 1\n    mode {mode}\n  }}\n  virtual_ipaddress {{"),
    )
}

fn vipd_toml(member: &Member, mode: &str) -> String {
    format!(
        "{}auth_hmac = {{ active_key = 1, mode = \"{mode}\", keys = [{{ id = 1, key = \"{KEY}\" }}] }}\n",
        member.vipd_toml()
    )
}

/// vipd's drop counters of its instance whose reason starts with `auth_`, and the adverts its
/// XDP program dropped as unsigned, summed.
fn vipd_auth_drops(vipd: &Vipd) -> u64 {
    let agent: u64 = vipd
        .instance_status()
        .drops
        .iter()
        .filter(|(reason, _)| reason.starts_with("auth_"))
        .map(|(_, count)| count)
        .sum();
    agent + vipd.xdp_counter("adverts_unsigned")
}

fn keepalived_auth_errors(keepalived: &Keepalived) -> Vec<String> {
    keepalived
        .log()
        .lines()
        .filter(|l| KEEPALIVED_AUTH_ERRORS.iter().any(|e| l.contains(e)))
        .map(str::to_string)
        .collect()
}

fn holders_stay(lan: &Lan, vip: IpAddr, expected: &[usize], what: &str) {
    assert!(
        wait_until(EVENTUALLY, || lan.holders(vip) == expected),
        "{what}: {vip} is on {:?}, expected {expected:?}",
        lan.holders(vip)
    );
    std::thread::sleep(SETTLE);
    assert_eq!(lan.holders(vip), expected, "{what}: the VIP moved");
}

/// keepalived (1) with `ka_priority` in `ka_mode`, vipd (2) with `vipd_priority` in `vipd_mode`:
/// the higher one holds the VIP, neither side refuses an advert, and when the master is killed
/// the other takes over.
fn group(binary: &Path, tag: &str, vip: &str, ka: (u8, &str), vipd: (u8, &str)) {
    let members = (Member::v3(ka.0).vip(vip), Member::v3(vipd.0).vip(vip));
    group_of(binary, tag, members, ka.1, vipd.1);
}

/// [`group`] of any two members: keepalived's first.
fn group_of(binary: &Path, tag: &str, members: (Member, Member), ka_mode: &str, vipd_mode: &str) {
    let address: IpAddr = members.0.vip.split('/').next().unwrap().parse().unwrap();
    let ka = (members.0.priority, ka_mode);
    let vipd = (members.1.priority, vipd_mode);
    let lan = Lan::new(2);
    let dir = Scratch::new(tag);
    let mut keepalived = Keepalived::start_binary(
        binary,
        lan.node(1),
        dir.path(),
        "ka1",
        &keepalived_conf(&members.0, ka.1),
    );
    let node = Vipd::start(
        lan.node(2),
        dir.path(),
        "vipd2",
        &vipd_toml(&members.1, vipd.1),
        &[],
    );
    let master = if ka.0 > vipd.0 { 1 } else { 2 };
    holders_stay(&lan, address, &[master], tag);
    assert_eq!(
        vipd_auth_drops(&node),
        0,
        "{tag}: vipd refused keepalived's adverts"
    );
    assert_eq!(
        keepalived_auth_errors(&keepalived),
        Vec::<String>::new(),
        "{tag}"
    );
    if master == 1 {
        keepalived.kill_all();
        assert!(
            wait_until(EVENTUALLY, || lan.has_address(2, address)),
            "{tag}: vipd never took over"
        );
    } else {
        node.signal(libc::SIGKILL);
        assert!(
            wait_until(EVENTUALLY, || lan.has_address(1, address)),
            "{tag}: keepalived never took over:\n{}",
            keepalived.log()
        );
    }
}

#[test]
#[ignore = "needs a keepalived 2.4 build named by VIPD_KEEPALIVED_24"]
fn enforce_ipv4_vipd_master_and_keepalived_master() {
    if !kernel_tests_enabled() {
        return;
    }
    let binary = keepalived_24();
    group(
        &binary,
        "ka24-v4-vipd",
        "192.0.2.100/24",
        (100, "enforce"),
        (200, "enforce"),
    );
    group(
        &binary,
        "ka24-v4-ka",
        "192.0.2.100/24",
        (200, "enforce"),
        (100, "enforce"),
    );
}

#[test]
#[ignore = "needs a keepalived 2.4 build named by VIPD_KEEPALIVED_24"]
fn enforce_ipv6_vipd_master_and_keepalived_master() {
    if !kernel_tests_enabled() {
        return;
    }
    let binary = keepalived_24();
    group(
        &binary,
        "ka24-v6-vipd",
        "2001:db8::100/64",
        (100, "enforce"),
        (200, "enforce"),
    );
    group(
        &binary,
        "ka24-v6-ka",
        "2001:db8::100/64",
        (200, "enforce"),
        (100, "enforce"),
    );
}

#[test]
#[ignore = "needs a keepalived 2.4 build named by VIPD_KEEPALIVED_24"]
fn enforce_vrrpv2_and_unicast() {
    if !kernel_tests_enabled() {
        return;
    }
    let binary = keepalived_24();
    let v2 = |priority| Member {
        version: 2,
        interval_ms: 1000,
        ..Member::v3(priority)
    };
    group_of(
        &binary,
        "ka24-v2-vipd",
        (v2(100), v2(200)),
        "enforce",
        "enforce",
    );
    group_of(
        &binary,
        "ka24-v2-ka",
        (v2(200), v2(100)),
        "enforce",
        "enforce",
    );
    let (a, b) = (Lan::ipv4(1), Lan::ipv4(2));
    let unicast = |priority, me, peer| Member::v3(priority).unicast(me, &[peer]);
    group_of(
        &binary,
        "ka24-uc-vipd",
        (unicast(100, a, b), unicast(200, b, a)),
        "enforce",
        "enforce",
    );
    group_of(
        &binary,
        "ka24-uc-ka",
        (unicast(200, a, b), unicast(100, b, a)),
        "enforce",
        "enforce",
    );
}

/// A migration: keepalived verifies but does not sign (receive-only), then signs but still
/// accepts unsigned adverts (permissive), beside a vipd that is permissive, then enforces.
#[test]
#[ignore = "needs a keepalived 2.4 build named by VIPD_KEEPALIVED_24"]
fn migration_modes_interoperate() {
    if !kernel_tests_enabled() {
        return;
    }
    let binary = keepalived_24();
    group(
        &binary,
        "ka24-ro-perm",
        "192.0.2.100/24",
        (200, "receive-only"),
        (100, "permissive"),
    );
    group(
        &binary,
        "ka24-perm-enf",
        "192.0.2.100/24",
        (100, "permissive"),
        (200, "enforce"),
    );
}

/// keepalived sending unsigned adverts (receive-only) to an enforcing vipd: vipd refuses every
/// one as missing its trailer, so both claim the VIP. The mode is what makes the difference.
#[test]
#[ignore = "needs a keepalived 2.4 build named by VIPD_KEEPALIVED_24"]
fn an_enforcing_vipd_refuses_keepalived_receive_only_adverts() {
    if !kernel_tests_enabled() {
        return;
    }
    let binary = keepalived_24();
    let lan = Lan::new(2);
    let dir = Scratch::new("ka24-ro-enf");
    let _keepalived = Keepalived::start_binary(
        &binary,
        lan.node(1),
        dir.path(),
        "ka1",
        &keepalived_conf(&Member::v3(200), "receive-only"),
    );
    let node = Vipd::start(
        lan.node(2),
        dir.path(),
        "vipd2",
        &vipd_toml(&Member::v3(100), "enforce"),
        &[],
    );
    let vip: IpAddr = "192.0.2.100".parse().unwrap();
    assert!(
        wait_until(EVENTUALLY, || lan.holders(vip) == [1, 2]),
        "{:?}",
        lan.holders(vip)
    );
    // Refused at the driver (no room for a trailer) where XDP runs, else by the agent; the
    // status reads the XDP counters every few hundred milliseconds.
    assert!(
        wait_until(EVENTUALLY, || node.unsigned_refused() > 0),
        "{}",
        node.log()
    );
}
