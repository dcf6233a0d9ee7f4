//! Floods at a master and a backup (`vipd run`, default attach, plain veths as users have them):
//! forged adverts and forged echo frames move no state and are counted. Echo frames with
//! auth_hmac on and off; forged priority-255 adverts only with it on, because without it they
//! are valid adverts, which VRRP obeys (the hole auth_hmac closes). A third node is the
//! attacker (see `vipd_tests::flood`).
//!
//! Nothing here asserts how fast anything happened; `cargo xtask bench flood` measures that.
use std::{net::IpAddr, time::Duration};

use vipd::control::status::StateName;

use vipd_tests::{
    flood::{self, Destination, Kind, PacketSocket, Target},
    frames, kernel_tests_enabled,
    topology::Lan,
    vipd::{counter, wait_until, Scratch, Vipd},
};

const VIP: &str = "192.0.2.100";
const PACKETS: u64 = 20_000;
const EVENTUALLY: Duration = Duration::from_secs(20);
const MASTER: usize = 1;
const BACKUP: usize = 2;
const ATTACKER: usize = 3;

fn config(priority: u8, auth: bool) -> String {
    let auth_hmac = if auth {
        format!(
            "auth_hmac = {{ active_key = 1, keys = [{{ id = 1, key = \"hex:{}\" }}] }}\n",
            "11".repeat(32)
        )
    } else {
        String::new()
    };
    format!(
        "[[instance]]\nname = \"VI_1\"\ninterface = \"eth0\"\nvrid = 51\npriority = {priority}\n\
         advert_interval = \"100ms\"\nvips = [\"{VIP}/24\"]\n{auth_hmac}"
    )
}

/// A node's state, transitions, and the sum of the counters named in `counters` (see
/// [`counter`]), from one status.
fn observe(node: &Vipd, counters: &[&str]) -> (StateName, u64, u64) {
    let status = node.status();
    let sum = counters.iter().map(|name| counter(&status, name)).sum();
    let instance = &status.instances[0];
    (instance.state, instance.transitions, sum)
}

/// Floods `kind` at the group and checks that nothing moved and that each node's `counters`
/// grew by at least a tenth of what was sent (the rest may be lost on the way: a veth's backlog
/// or a full socket).
fn flood_moves_nothing(auth: bool, kind: Kind, to_master: &[&str], to_backup: &[&str]) {
    let lan = Lan::new(3);
    assert!(!lan.has_pass_through_ports());
    let dir = Scratch::new("flood");
    let master = Vipd::start(lan.node(MASTER), dir.path(), "n1", &config(200, auth), &[]);
    let backup = Vipd::start(lan.node(BACKUP), dir.path(), "n2", &config(100, auth), &[]);
    let vip: IpAddr = VIP.parse().unwrap();
    assert!(
        wait_until(EVENTUALLY, || lan.holders(vip) == [MASTER]
            && observe(&backup, &[]).0 == StateName::Backup),
        "no election: {:?}\n{}",
        lan.holders(vip),
        master.log()
    );
    let mac = |n| flood::mac_address(lan.node(n), "eth0");
    let attacker = lan.node(ATTACKER);
    let captured = PacketSocket::open(attacker, "eth0", frames::ETH_P_IP)
        .unwrap()
        .capture_advert(Lan::ipv4(MASTER), EVENTUALLY)
        .unwrap();
    let target = Target {
        vrid: 51,
        vip: VIP.parse().unwrap(),
        attacker_mac: mac(ATTACKER),
        attacker_ip: Lan::ipv4(ATTACKER),
        master_mac: mac(MASTER),
        captured,
    };
    let before = [observe(&master, to_master), observe(&backup, to_backup)];
    let logged = [&master, &backup].map(|node| node.log().matches("state changed").count());
    let socket = PacketSocket::open(attacker, "eth0", 0).unwrap();
    let frames = flood::build(kind, &target, Destination::Multicast);
    let sent = socket.flood(&frames, PACKETS).unwrap();
    assert_eq!(sent.packets, PACKETS);
    // Time for the daemons to work off the queues.
    std::thread::sleep(Duration::from_secs(1));

    let after = [observe(&master, to_master), observe(&backup, to_backup)];
    for (i, (role, node)) in [("master", &master), ("backup", &backup)]
        .iter()
        .enumerate()
    {
        assert_eq!(
            (&after[i].0, after[i].1),
            (&before[i].0, before[i].1),
            "{kind} moved the {role}'s state\n{}",
            node.log()
        );
        assert_eq!(
            node.log().matches("state changed").count(),
            logged[i],
            "{}",
            node.log()
        );
        let counted = after[i].2 - before[i].2;
        assert!(
            counted >= PACKETS / 10,
            "{kind}: the {role} counted {counted} of {PACKETS}"
        );
    }
    assert_eq!(lan.holders(vip), [MASTER], "{kind} moved the VIP");
}

/// The XDP program records only echo replies from the followed master's Ethernet address
/// (and only with the echo on, which it is not at these nodes' 100 ms): the rest it drops as
/// foreign; a recorded one proves nothing without an outstanding probe.
const ECHO_REPLY_COUNTERS: [&str; 2] = ["xdp.echo_recorded", "xdp.echo_foreign"];
/// A master without auth_hmac reflects a probe (back to the attacker, one frame for one); what
/// it does not reflect, and every probe at a backup, the program passes to the stack, which
/// has no use for the EtherType.
const ECHO_PROBE_COUNTERS: [&str; 3] =
    ["xdp.echo_reflected", "xdp.deadman_suppressed", "xdp.passed"];

#[test]
fn forged_priority_255_adverts_with_auth_move_nothing() {
    if !kernel_tests_enabled() {
        return;
    }
    // Dropped at the driver: no room for a trailer (the agent counts what reaches it).
    let missing = ["drops.auth_missing_trailer", "xdp.adverts_unsigned"];
    flood_moves_nothing(true, Kind::Forged, &missing, &missing);
}

#[test]
fn forged_trailers_with_auth_move_nothing() {
    if !kernel_tests_enabled() {
        return;
    }
    // Beyond the news allowance dropped at the driver, the rest refused by the agent.
    let refused = [
        "drops.auth_bad_mac",
        "drops.auth_outside_window",
        "drops.auth_replay",
        "xdp.adverts_throttled",
    ];
    flood_moves_nothing(true, Kind::ForgedTrailer, &refused, &refused);
}

#[test]
fn forged_echo_replies_move_nothing_with_or_without_auth() {
    if !kernel_tests_enabled() {
        return;
    }
    for auth in [false, true] {
        flood_moves_nothing(
            auth,
            Kind::EchoReply,
            &ECHO_REPLY_COUNTERS,
            &ECHO_REPLY_COUNTERS,
        );
    }
}

#[test]
fn forged_echo_probes_move_nothing_with_or_without_auth() {
    if !kernel_tests_enabled() {
        return;
    }
    for auth in [false, true] {
        flood_moves_nothing(
            auth,
            Kind::EchoProbe,
            &ECHO_PROBE_COUNTERS,
            &ECHO_PROBE_COUNTERS,
        );
    }
}
