//! vipd's BFD against FRR's bfdd (Debian's frr 8.4, `/usr/lib/frr/bfdd`), on plain veths:
//! the session comes Up on both ends at 10 ms (FRR 8.4's shortest interval), a pulled cable
//! takes both Down, and it comes Up again; over IPv4 and IPv6.
use std::{net::IpAddr, time::Duration};

use vipd_tests::{
    frr::Frr,
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

/// bfdd's status of its peer `address` ("up", "down", "init"), from `show bfd peers json`.
fn frr_status(frr: &Frr, address: IpAddr) -> String {
    let text = frr.vtysh(&["show bfd peers json".to_string()]);
    let peers: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("show bfd peers json: {e}: {text}"));
    peers
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["peer"].as_str() == Some(&address.to_string()))
        .and_then(|p| p["status"].as_str())
        .unwrap_or_default()
        .to_string()
}

fn run(address_of: fn(usize) -> IpAddr, tag: &str) {
    let lan = Lan::new(2);
    let dir = Scratch::new(tag);
    let vipd_address = address_of(1);
    let frr_address = address_of(2);
    let frr = Frr::start_bfd(lan.node(2), dir.path());
    frr.vtysh(&[
        "conf t".to_string(),
        "bfd".to_string(),
        format!("peer {vipd_address} interface eth0"),
        "receive-interval 10".to_string(),
        "transmit-interval 10".to_string(),
        "detect-multiplier 5".to_string(),
    ]);
    let config = format!(
        "{}[[bfd]]\nname = \"frr\"\nneighbor = \"{frr_address}\"\ninterface = \"eth0\"\n\
         multiplier = 5\n",
        instance_config(
            100,
            "192.0.2.100",
            "track_bfd = [{ name = \"frr\", weight = -10 }]\n"
        )
    );
    let vipd = Vipd::start(lan.node(1), dir.path(), "vipd", &config, &[]);
    assert!(
        wait_until(EVENTUALLY, || vipd_state(&vipd) == "up"
            && frr_status(&frr, vipd_address) == "up"),
        "the session must come Up on both ends (FRR: {}):\n{}",
        frr_status(&frr, vipd_address),
        vipd.log()
    );

    lan.link_down(2);
    assert!(
        wait_until(EVENTUALLY, || vipd_state(&vipd) == "down"
            && frr_status(&frr, vipd_address) == "down"),
        "a pulled cable must take both ends Down (FRR: {}):\n{}",
        frr_status(&frr, vipd_address),
        vipd.log()
    );

    lan.link_up(2);
    assert!(
        wait_until(EVENTUALLY, || vipd_state(&vipd) == "up"
            && frr_status(&frr, vipd_address) == "up"),
        "the session must come Up again (FRR: {}):\n{}",
        frr_status(&frr, vipd_address),
        vipd.log()
    );
}

#[test]
fn bfdd_and_vipd_bring_a_session_up_and_detect_a_pulled_cable_ipv4() {
    if !kernel_tests_enabled() {
        return;
    }
    run(|n| IpAddr::V4(Lan::ipv4(n)), "frrbfd4");
}

#[test]
fn bfdd_and_vipd_bring_a_session_up_and_detect_a_pulled_cable_ipv6() {
    if !kernel_tests_enabled() {
        return;
    }
    run(|n| IpAddr::V6(Lan::ipv6(n)), "frrbfd6");
}
