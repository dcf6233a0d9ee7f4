//! `vipd run` with keepalived 2.4's auth_hmac: two nodes on a bridge in network namespaces, and
//! a third node that watches the link and plays the attacker (forged and replayed adverts).
//!
//! Every wait is a generous "eventually" bound; nothing here asserts how fast anything happened.
use socket2::{Domain, Protocol, Socket, Type};
use std::{
    net::{IpAddr, SocketAddr},
    time::{Duration, Instant},
};

use vipd_tests::{
    frames, kernel_tests_enabled, raw_ip,
    topology::Lan,
    vipd::{instance_config, wait_until, with_control_socket, Scratch, Vipd},
};

const VIP: &str = "192.0.2.100";
const EVENTUALLY: Duration = Duration::from_secs(15);
/// The node that is not a router.
const ATTACKER: usize = 3;
/// IPv4 header + VRRPv3 header + one IPv4 address + the auth_hmac trailer.
const SIGNED_PACKET_LEN: usize = 20 + 12 + 28;

fn vip() -> IpAddr {
    VIP.parse().unwrap()
}

/// A VRRPv3 instance on eth0, VRID 51, adverts every 100 ms, keys 1 and 2, signing with
/// `active_key`.
fn config(priority: u8, active_key: u8) -> String {
    let key = |byte: &str| format!("hex:{}", byte.repeat(32));
    let auth = format!(
        "auth_hmac = {{ active_key = {active_key}, keys = [{{ id = 1, key = \"{}\" }}, {{ id = 2, key = \"{}\" }}] }}\n",
        key("11"),
        key("22"),
    );
    instance_config(priority, VIP, &auth)
}

fn assert_holders(lan: &Lan, addr: IpAddr, expected: &[usize], what: &str) {
    lan.assert_holders(addr, expected, EVENTUALLY, what);
}

/// Asserts that `node` dropped no advert for failing authentication.
fn assert_no_auth_drops(node: &Vipd) {
    for reason in [
        "auth_bad_mac",
        "auth_missing_trailer",
        "auth_replay",
        "auth_outside_window",
    ] {
        assert_eq!(node.drops(reason), 0, "{reason}");
    }
}

/// Sends `packet` (IP header included, whatever its source address) from the attacker's eth0.
fn replay(lan: &Lan, packet: &[u8]) {
    lan.node(ATTACKER).run(|| {
        let socket = Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::from(112)))
            .expect("raw VRRP socket");
        socket.bind_device(Some(b"eth0")).expect("SO_BINDTODEVICE");
        socket.set_header_included_v4(true).expect("IP_HDRINCL");
        let to = SocketAddr::new(frames::VRRP_MCAST_V4.into(), 0);
        socket.send_to(packet, &to.into()).expect("replay advert");
    });
}

/// Sends a plain VRRPv3 advert (right checksum, no trailer) from the attacker's own address.
fn forge(lan: &Lan, advert: &frames::Advert) {
    let message = advert.message_v4(Lan::ipv4(ATTACKER), frames::VRRP_MCAST_V4);
    lan.node(ATTACKER).run(|| {
        let socket = Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::from(112)))
            .expect("raw VRRP socket");
        socket.bind_device(Some(b"eth0")).expect("SO_BINDTODEVICE");
        socket.set_multicast_ttl_v4(255).expect("multicast TTL");
        let to = SocketAddr::new(frames::VRRP_MCAST_V4.into(), 0);
        socket.send_to(&message, &to.into()).expect("send advert");
    });
}

/// Runs `act` every `every` for `span`, checking after each that `holders` of the VIP are
/// `expected`.
fn hold_during(
    lan: &Lan,
    expected: &[usize],
    span: Duration,
    every: Duration,
    mut act: impl FnMut(),
) {
    let end = Instant::now() + span;
    while Instant::now() < end {
        act();
        std::thread::sleep(every);
        assert_eq!(lan.holders(vip()), expected, "the VIP moved");
    }
}

#[test]
fn authenticated_nodes_sign_elect_and_fail_over() {
    if !kernel_tests_enabled() {
        return;
    }
    let lan = Lan::new(3);
    let dir = Scratch::new("auth-failover");
    let watch = raw_ip::listener(lan.node(ATTACKER), 112, Lan::ipv4(ATTACKER), false);
    let master = Vipd::start(lan.node(1), dir.path(), "n1", &config(200, 1), &[]);
    let backup = Vipd::start(lan.node(2), dir.path(), "n2", &config(100, 1), &[]);
    assert_holders(&lan, vip(), &[1], "election");
    let advert = raw_ip::capture_from(&watch, Lan::ipv4(1), EVENTUALLY);
    assert_eq!(
        advert.len(),
        SIGNED_PACKET_LEN,
        "the advert carries a trailer"
    );
    assert_eq!(advert[32..34], [1, 1], "HMAC-SHA256/128, key 1");
    assert_no_auth_drops(&backup);

    master.signal(libc::SIGKILL);
    lan.assert_took_over(2, vip(), EVENTUALLY);
}

/// Over IPv6 the checksum covers the trailer: two nodes that get it wrong would refuse each
/// other's adverts and both hold the VIP.
#[test]
fn ipv6_authenticated_nodes_elect_and_fail_over() {
    if !kernel_tests_enabled() {
        return;
    }
    let lan = Lan::new(2);
    let dir = Scratch::new("auth-ipv6");
    let v6 = |p| config(p, 1).replace(&format!("{VIP}/24"), "2001:db8::100/64");
    let vip6: IpAddr = "2001:db8::100".parse().unwrap();
    let master = Vipd::start(lan.node(1), dir.path(), "n1", &v6(200), &[]);
    let backup = Vipd::start(lan.node(2), dir.path(), "n2", &v6(100), &[]);
    assert_holders(&lan, vip6, &[1], "election");
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(lan.holders(vip6), [1], "the election held");
    assert_eq!(backup.drops("bad_checksum"), 0);
    assert_eq!(backup.drops("auth_bad_mac"), 0);

    master.signal(libc::SIGKILL);
    lan.assert_took_over(2, vip6, EVENTUALLY);
}

/// Fast mode (5 ms adverts) signs and verifies every advert on the socket path (the XDP
/// records and the echo are not trusted with auth_hmac): the nodes still elect and fail over.
/// Without the echo a scheduler stall longer than Master_Down_Interval is a takeover, so the
/// VIP is not watched in between (that is the benchmark's business).
#[test]
fn fast_mode_with_auth_elects_and_fails_over() {
    if !kernel_tests_enabled() {
        return;
    }
    let lan = Lan::new(2);
    let dir = Scratch::new("auth-fast");
    let fast = |p| config(p, 1).replace("\"100ms\"", "\"5ms\"");
    let master = Vipd::start(lan.node(1), dir.path(), "n1", &fast(200), &[]);
    let backup = Vipd::start(lan.node(2), dir.path(), "n2", &fast(100), &[]);
    assert_holders(&lan, vip(), &[1], "election");
    // A few hundred adverts verified.
    std::thread::sleep(Duration::from_secs(1));
    let verified = backup.instance_status().adverts_in;
    assert!(
        verified > 100,
        "the backup took only {verified} adverts in a second"
    );
    assert_no_auth_drops(&backup);
    assert!(
        backup
            .log()
            .contains("(auth_hmac or auth_type AH): no liveness echo"),
        "{}",
        backup.log()
    );

    master.signal(libc::SIGKILL);
    lan.assert_took_over(2, vip(), EVENTUALLY);
}

/// A priority-255 advert with a right checksum but no trailer would make the master resign
/// (and an owner's is taken whatever its address list); with auth_hmac it is dropped (at the
/// driver where XDP runs), counted, and moves nothing.
#[test]
fn a_forged_priority_255_advert_moves_nothing() {
    if !kernel_tests_enabled() {
        return;
    }
    let lan = Lan::new(3);
    let dir = Scratch::new("auth-forged");
    let master = Vipd::start(lan.node(1), dir.path(), "n1", &config(200, 1), &[]);
    let backup = Vipd::start(lan.node(2), dir.path(), "n2", &config(100, 1), &[]);
    assert_holders(&lan, vip(), &[1], "election");
    let (before_master, before_backup) = (master.logged_transitions(), backup.logged_transitions());

    let forged = frames::Advert::v3(51, 255, 10);
    hold_during(
        &lan,
        &[1],
        Duration::from_secs(2),
        Duration::from_millis(20),
        || forge(&lan, &forged),
    );
    // Refused by the XDP program where it runs (no room for a trailer), else by the agent.
    for node in [&master, &backup] {
        assert!(node.unsigned_refused() > 0, "{}", node.log());
    }
    assert_eq!(
        master.logged_transitions(),
        before_master,
        "{}",
        master.log()
    );
    assert_eq!(
        backup.logged_transitions(),
        before_backup,
        "{}",
        backup.log()
    );
}

/// The old master's captured advert (priority 200), replayed at the new master (priority 100)
/// after the old one died, would make it step down; with auth_hmac it is a replay.
#[test]
fn a_replayed_valid_advert_moves_nothing() {
    if !kernel_tests_enabled() {
        return;
    }
    let lan = Lan::new(3);
    let dir = Scratch::new("auth-replay");
    let watch = raw_ip::listener(lan.node(ATTACKER), 112, Lan::ipv4(ATTACKER), false);
    let old = Vipd::start(lan.node(1), dir.path(), "n1", &config(200, 1), &[]);
    let new = Vipd::start(lan.node(2), dir.path(), "n2", &config(100, 1), &[]);
    assert_holders(&lan, vip(), &[1], "election");
    let captured = raw_ip::capture_from(&watch, Lan::ipv4(1), EVENTUALLY);
    assert_eq!(captured.len(), SIGNED_PACKET_LEN);

    old.signal(libc::SIGKILL);
    lan.assert_took_over(2, vip(), EVENTUALLY);
    let before = new.logged_transitions();
    // A crashed vipd leaves its VIP behind, so node 1 still holds it too.
    hold_during(
        &lan,
        &[1, 2],
        Duration::from_secs(2),
        Duration::from_millis(50),
        || replay(&lan, &captured),
    );
    assert!(new.drops("auth_replay") > 0, "{}", new.log());
    assert_eq!(new.logged_transitions(), before, "{}", new.log());
}

/// Both nodes know keys 1 and 2; the master moves to key 2, then the backup does: no advert is
/// refused and nothing moves.
#[test]
fn key_rotation_across_two_nodes_loses_no_advert() {
    if !kernel_tests_enabled() {
        return;
    }
    let lan = Lan::new(3);
    let dir = Scratch::new("auth-rotate");
    let watch = raw_ip::listener(lan.node(ATTACKER), 112, Lan::ipv4(ATTACKER), false);
    let master = Vipd::start(lan.node(1), dir.path(), "n1", &config(200, 1), &[]);
    let backup = Vipd::start(lan.node(2), dir.path(), "n2", &config(100, 1), &[]);
    assert_holders(&lan, vip(), &[1], "election");
    let before = (master.logged_transitions(), backup.logged_transitions());

    for (node, priority) in [(&master, 200), (&backup, 100)] {
        std::fs::write(
            &node.config,
            with_control_socket(&config(priority, 2), &node.socket),
        )
        .unwrap();
        let reloads = node.log().matches("configuration reloaded").count();
        node.signal(libc::SIGHUP);
        assert!(
            wait_until(EVENTUALLY, || node
                .log()
                .matches("configuration reloaded")
                .count()
                > reloads),
            "{}",
            node.log()
        );
        hold_during(
            &lan,
            &[1],
            Duration::from_secs(1),
            Duration::from_millis(20),
            || {},
        );
    }
    let advert = raw_ip::capture_from(&watch, Lan::ipv4(1), EVENTUALLY);
    assert_eq!(advert[33], 2, "the master signs with key 2 now");
    for node in [&master, &backup] {
        let auth = node
            .instance_status()
            .auth_hmac
            .expect("auth_hmac in the status");
        assert_eq!((auth.active_key, auth.key_ids), (2, vec![1, 2]));
        // The status as it crosses the control socket.
        let wire = serde_json::to_string(&node.status()).unwrap();
        assert!(!wire.contains("2222"), "no key material: {wire}");
        for reason in ["auth_unknown_key_id", "auth_bad_mac", "auth_replay"] {
            assert_eq!(node.drops(reason), 0, "{reason}: {}", node.log());
        }
    }
    assert_eq!(
        (master.logged_transitions(), backup.logged_transitions()),
        before
    );
}
