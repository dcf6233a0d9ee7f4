//! BFD between vipd nodes on plain veths, default settings (docs/bfd.md): sessions come Up,
//! a pulled cable takes them Down, and `track_bfd` moves the VIP with keepalived's weights.
//!
//! Three nodes on a bridge: n1 (priority 200) and n2 (priority 100) run VRRP for the VIP; n1
//! tracks a BFD session to n3, which runs only that session (and a VRRP instance of its own on
//! another VRID, so its vipd has something to run). Pulling n3's cable leaves VRRP between n1
//! and n2 untouched, so only BFD can move the VIP.
use std::{net::IpAddr, time::Duration};

use vipd_tests::{
    flood::{mac_address, PacketSocket},
    frames::internet_checksum,
    kernel_tests_enabled,
    topology::Lan,
    vipd::{instance_config, wait_until, Scratch, Vipd},
};

const VIP: &str = "192.0.2.100";
const EVENTUALLY: Duration = Duration::from_secs(20);

fn vip() -> IpAddr {
    VIP.parse().unwrap()
}

/// A `[[bfd]]` session named `peer` to `neighbor` on eth0, all else default.
fn session(neighbor: IpAddr) -> String {
    format!("[[bfd]]\nname = \"peer\"\nneighbor = \"{neighbor}\"\ninterface = \"eth0\"\n")
}

/// n3's configuration: a session back to n1, and an instance on VRID 52 that nobody else runs.
fn far_end(n1: IpAddr) -> String {
    let own = instance_config(100, "192.0.2.200", "")
        .replace("vrid = 51", "vrid = 52")
        .replace("VI_1", "VI_far");
    format!("{own}{}", session(n1))
}

/// Whether `vipd`'s log says the session went to `state` at least `times` times.
fn went(vipd: &Vipd, state: &str, times: usize) -> bool {
    let quoted = format!("to=\"{state}\"");
    vipd.log()
        .lines()
        .filter(|l| l.contains("BFD session changed state") && l.contains(&quoted))
        .count()
        >= times
}

fn run(family_of_session: fn(usize) -> IpAddr, track: &str, tag: &str) {
    let lan = Lan::new(3);
    let dir = Scratch::new(tag);
    let n1_config = format!(
        "{}{}",
        instance_config(200, VIP, &format!("track_bfd = [{track}]\n")),
        session(family_of_session(3))
    );
    let n1 = Vipd::start(lan.node(1), dir.path(), "n1", &n1_config, &[]);
    let _n2 = Vipd::start(
        lan.node(2),
        dir.path(),
        "n2",
        &instance_config(100, VIP, ""),
        &[],
    );
    let n3 = Vipd::start(
        lan.node(3),
        dir.path(),
        "n3",
        &far_end(family_of_session(1)),
        &[],
    );
    assert!(
        wait_until(EVENTUALLY, || went(&n1, "up", 1) && went(&n3, "up", 1)),
        "the session must come Up on both ends:\nn1:\n{}\nn3:\n{}",
        n1.log(),
        n3.log()
    );
    lan.assert_holders(vip(), &[1], EVENTUALLY, "n1 with its session Up");
    // The status shows the session with the negotiated timers: n3's default multiplier 5
    // times the agreed 10 ms.
    assert!(
        wait_until(EVENTUALLY, || n1.status().bfd.first().is_some_and(|b| {
            b.name == "peer"
                && b.state == "up"
                && b.remote_state == "up"
                && b.detection_time_us == 50_000
                && b.tx_interval_us == 10_000
        })),
        "vipd status must show the session Up: {:?}",
        n1.status().bfd
    );

    lan.link_down(3);
    assert!(
        wait_until(EVENTUALLY, || went(&n1, "down", 1)),
        "n1's session must go Down when n3's cable is pulled:\n{}",
        n1.log()
    );
    lan.assert_holders(vip(), &[2], EVENTUALLY, "n2 once n1's BFD session is down");
    let after_cut = n1.status().bfd;
    assert_eq!(after_cut[0].state, "down", "{after_cut:?}");
    assert_eq!(
        after_cut[0].local_diag, "detection_time_expired",
        "{after_cut:?}"
    );
    assert_eq!(after_cut[0].flaps, 1, "{after_cut:?}");

    lan.link_up(3);
    assert!(
        wait_until(EVENTUALLY, || went(&n1, "up", 2)),
        "the session must come Up again:\n{}",
        n1.log()
    );
    lan.assert_holders(vip(), &[1], EVENTUALLY, "n1 again with its session Up");
}

/// keepalived's `track_bfd { peer weight -150 }`: down costs 150, so 200 becomes 50 and the
/// backup at 100 preempts; Up again gives n1 the VIP back.
#[test]
fn a_weighted_session_down_hands_the_vip_to_the_backup_ipv4() {
    if !kernel_tests_enabled() {
        return;
    }
    run(
        |n| IpAddr::V4(Lan::ipv4(n)),
        "{ name = \"peer\", weight = -150 }",
        "bfd4",
    );
}

/// The default weight 0: a session that is not Up puts n1 in FAULT, over IPv6.
#[test]
fn an_unweighted_session_down_faults_the_master_ipv6() {
    if !kernel_tests_enabled() {
        return;
    }
    run(|n| IpAddr::V6(Lan::ipv6(n)), "{ name = \"peer\" }", "bfd6");
}

/// An RFC 9747 echo frame from n2 through n1: IPv4 from and to n2's own address, UDP to 3785.
fn echo_through(n1_mac: [u8; 6], n2_mac: [u8; 6]) -> Vec<u8> {
    let n2 = Lan::ipv4(2).octets();
    let udp = [
        0xc0, 0x00, 0x0e, 0xc9, 0, 16, 0, 0, 0xbf, 0xd0, 0, 0, 0, 0, 0, 1,
    ];
    let mut ip = vec![0x45, 0, 0, 36, 0, 1, 0x40, 0, 255, 17, 0, 0];
    ip.extend_from_slice(&n2);
    ip.extend_from_slice(&n2);
    let check = internet_checksum(0, &ip);
    ip[10..12].copy_from_slice(&check.to_be_bytes());
    let mut frame = Vec::new();
    frame.extend_from_slice(&n1_mac);
    frame.extend_from_slice(&n2_mac);
    frame.extend_from_slice(&[0x08, 0x00]);
    frame.extend_from_slice(&ip);
    frame.extend_from_slice(&udp);
    frame
}

/// A node running BFD sessions reflects its neighbours' RFC 9747 echo packets in its XDP
/// program on a plain veth (vipd's default attach there is generic mode): n2 sends an echo
/// addressed to itself to n1's MAC and sees it come back from n1, one hop older.
#[test]
fn a_bfd_node_reflects_unaffiliated_echo_at_its_driver() {
    if !kernel_tests_enabled() {
        return;
    }
    let lan = Lan::new(2);
    let dir = Scratch::new("bfdecho");
    let n1_config = format!(
        "{}{}",
        instance_config(200, VIP, ""),
        session(IpAddr::V4(Lan::ipv4(2)))
    );
    let n1 = Vipd::start(lan.node(1), dir.path(), "n1", &n1_config, &[]);
    lan.assert_holders(vip(), &[1], EVENTUALLY, "n1 running");
    let n1_mac = mac_address(lan.node(1), "eth0");
    let n2_mac = mac_address(lan.node(2), "eth0");
    let filter = format!(
        "ether src {} and udp dst port 3785 and ip[8] = 254",
        n1_mac.map(|b| format!("{b:02x}")).join(":")
    );
    let capture = {
        let ns = lan.node(2).name().to_string();
        std::thread::spawn(move || {
            std::process::Command::new("ip")
                .args([
                    "netns", "exec", &ns, "timeout", "20", "tcpdump", "-c", "1", "-nei",
                ])
                .args(["eth0", &filter])
                .output()
                .expect("tcpdump")
        })
    };
    let sender = PacketSocket::open(lan.node(2), "eth0", 0).expect("AF_PACKET socket");
    let frame = echo_through(n1_mac, n2_mac);
    let reflected = wait_until(EVENTUALLY, || {
        sender.flood(std::slice::from_ref(&frame), 1).expect("send");
        std::thread::sleep(Duration::from_millis(100));
        capture.is_finished()
    });
    let out = capture.join().unwrap();
    assert!(
        reflected && out.status.success(),
        "n2 must see its echo come back from n1: {}{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        n1.log()
    );
    assert!(n1.xdp_counter("bfd_echo_reflected") >= 1);
}
