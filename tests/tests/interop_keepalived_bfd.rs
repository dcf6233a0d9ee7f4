//! vipd's BFD against keepalived 2.2.7's (Debian's build has BFD: `keepalived --version` lists
//! it), on plain veths: keepalived's `bfd_instance` and vipd's `[[bfd]]` bring a session Up (at
//! 50 ms x 5: neither side runs realtime here, and 10 ms x 3 flapped on this loaded machine,
//! keepalived's side as often as vipd's), a pulled cable takes both Down (keepalived's unweighted `track_bfd` puts its VRRP
//! instance in FAULT), and it comes Up again; over IPv4 and IPv6.
use std::{net::IpAddr, time::Duration};

use vipd_tests::{
    keepalived::{Keepalived, Member},
    kernel_tests_enabled,
    topology::Lan,
    vipd::{instance_config, wait_until, Scratch, Vipd},
};

const EVENTUALLY: Duration = Duration::from_secs(30);

/// vipd's session state, from its status.
fn vipd_state(vipd: &Vipd) -> String {
    vipd.status()
        .bfd
        .first()
        .map(|b| b.state.clone())
        .unwrap_or_default()
}

/// keepalived's session state as it last logged it ("Up", "Down", "Init").
fn keepalived_state(keepalived: &Keepalived) -> String {
    let log = keepalived.log();
    log.rsplit("(vipd) Entering ")
        .next()
        .filter(|_| log.contains("(vipd) Entering "))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_default()
        .to_string()
}

/// `vipd_ttl` is what vipd sends and requires: keepalived sends IPv6 BFD with hop limit 64
/// unless told otherwise, which is what vipd's importer keeps for such sessions.
fn run(address_of: fn(usize) -> IpAddr, vipd_ttl: u8, tag: &str) {
    let lan = Lan::new(2);
    let dir = Scratch::new(tag);
    let member = Member::v3(200).vip(&format!("192.0.2.{}/24", 100));
    // keepalived reads the file in order: the bfd_instance comes before what tracks it.
    let keepalived_conf = format!(
        "bfd_instance vipd {{\n  neighbor_ip {}\n  min_rx 50\n  min_tx 50\n  multiplier 5\n}}\n{}",
        address_of(1),
        member.keepalived_conf().replace(
            "  virtual_ipaddress {",
            "  track_bfd {\n    vipd\n  }\n  virtual_ipaddress {"
        ),
    );
    let keepalived = Keepalived::start_with_bfd(lan.node(2), dir.path(), "ka", &keepalived_conf);
    let vipd_conf = format!(
        "{}[[bfd]]\nname = \"keepalived\"\nneighbor = \"{}\"\ninterface = \"eth0\"\n\
         min_rx = \"50ms\"\nmin_tx = \"50ms\"\nttl = {vipd_ttl}\n",
        instance_config(
            100,
            "192.0.2.100",
            "track_bfd = [{ name = \"keepalived\", weight = -10 }]\n"
        ),
        address_of(2)
    );
    let vipd = Vipd::start(lan.node(1), dir.path(), "vipd", &vipd_conf, &[]);
    assert!(
        wait_until(EVENTUALLY, || vipd_state(&vipd) == "up"
            && keepalived_state(&keepalived) == "Up"),
        "the session must come Up on both ends:\nvipd:\n{}\nkeepalived:\n{}",
        vipd.log(),
        keepalived.log()
    );

    lan.link_down(2);
    assert!(
        wait_until(EVENTUALLY, || vipd_state(&vipd) == "down"
            && keepalived_state(&keepalived) == "Down"
            && keepalived.times_entered("FAULT") >= 1),
        "a pulled cable must take both ends Down and keepalived's instance to FAULT:\nvipd:\n{}\nkeepalived:\n{}",
        vipd.log(),
        keepalived.log()
    );

    lan.link_up(2);
    assert!(
        wait_until(EVENTUALLY, || vipd_state(&vipd) == "up"
            && keepalived_state(&keepalived) == "Up"),
        "the session must come Up again:\nvipd:\n{}\nkeepalived:\n{}",
        vipd.log(),
        keepalived.log()
    );
}

#[test]
fn keepalived_and_vipd_bring_a_session_up_and_detect_a_pulled_cable_ipv4() {
    if !kernel_tests_enabled() {
        return;
    }
    run(|n| IpAddr::V4(Lan::ipv4(n)), 255, "kabfd4");
}

#[test]
fn keepalived_and_vipd_bring_a_session_up_and_detect_a_pulled_cable_ipv6() {
    if !kernel_tests_enabled() {
        return;
    }
    run(|n| IpAddr::V6(Lan::ipv6(n)), 64, "kabfd6");
}
