//! vipd and keepalived 2.2.7 (the Debian package, built with VRRP_AUTH) with VRRPv2
//! `auth_type AH` (IPsec AH around each advert, IP protocol 51): each elects the other in both
//! directions and fails over, multicast and unicast, a master that comes back takes over again
//! (which needs both sides to follow keepalived's shared sequence counter), and a wrong
//! `auth_pass` is refused and counted.
//!
//! keepalived runs on node 1 and vipd on node 2. VRRPv2 adverts are 1 s apart, so a
//! Master_Down_Interval is about 3.6 s; every wait is a generous "eventually".
use std::{net::IpAddr, time::Duration};

use vipd::control::status::StateName;
use vipd_tests::{
    keepalived::{Keepalived, Member},
    kernel_tests_enabled,
    topology::Lan,
    vipd::{wait_until, Scratch, Vipd},
};

const EVENTUALLY: Duration = Duration::from_secs(30);
/// Longer than several VRRPv2 Master_Down_Intervals.
const SETTLE: Duration = Duration::from_secs(8);
const PASSWORD: &str = "secret12";

fn vip() -> IpAddr {
    "192.0.2.100".parse().unwrap()
}

fn start_keepalived(lan: &Lan, dir: &Scratch, member: &Member) -> Keepalived {
    Keepalived::start(lan.node(1), dir.path(), "ka1", &member.keepalived_conf())
}

fn start_vipd(lan: &Lan, dir: &Scratch, name: &str, member: &Member) -> Vipd {
    Vipd::start(lan.node(2), dir.path(), name, &member.vipd_toml(), &[])
}

/// The VIP is on `expected` and still is after [`SETTLE`].
fn assert_holders_stay(lan: &Lan, expected: &[usize], what: &str) {
    assert!(
        wait_until(EVENTUALLY, || lan.holders(vip()) == expected),
        "{what}: the VIP is on nodes {:?}, expected {expected:?}",
        lan.holders(vip())
    );
    std::thread::sleep(SETTLE);
    assert_eq!(lan.holders(vip()), expected, "{what}: the VIP moved");
}

fn assert_keepalived_entered(keepalived: &Keepalived, state: &str, before: usize) {
    assert!(
        wait_until(EVENTUALLY, || keepalived.times_entered(state) > before),
        "keepalived did not enter {state}:\n{}",
        keepalived.log()
    );
}

/// keepalived logs every AH advert it refuses; none of vipd's may be among them.
fn assert_keepalived_refused_nothing(keepalived: &Keepalived) {
    let log = keepalived.log();
    assert!(
        !log.contains("IPSEC") && !log.contains("auth type not AH") && !log.contains("No AH"),
        "keepalived refused a vipd advert:\n{log}"
    );
}

#[test]
fn vipd_master_is_followed_by_keepalived_which_takes_over_when_vipd_crashes_and_hands_back() {
    if !kernel_tests_enabled() {
        return;
    }
    let lan = Lan::new(2);
    let dir = Scratch::new("ka-ah-vipd-master");
    let keepalived = start_keepalived(&lan, &dir, &Member::v2_ah(100, PASSWORD));
    let vipd = start_vipd(&lan, &dir, "vipd2", &Member::v2_ah(200, PASSWORD));
    assert_holders_stay(&lan, &[2], "AH: vipd (200) against keepalived (100)");
    assert_keepalived_entered(&keepalived, "BACKUP", 0);
    assert_keepalived_refused_nothing(&keepalived);
    assert_eq!(vipd.instance_status().state, StateName::Master);

    // A crashed vipd leaves the VIP behind, as a dead host would.
    vipd.signal(libc::SIGKILL);
    drop(vipd);
    assert!(
        wait_until(EVENTUALLY, || lan.has_address(1, vip())),
        "AH: keepalived must take over from the crashed vipd:\n{}",
        keepalived.log()
    );

    // A new vipd starts its counter from 0, below keepalived's: it follows keepalived's
    // adverts, takes their numbers, preempts the lower priority above them, and keepalived
    // accepts it.
    let masters = keepalived.times_entered("BACKUP");
    let vipd = start_vipd(&lan, &dir, "vipd2b", &Member::v2_ah(200, PASSWORD));
    assert_keepalived_entered(&keepalived, "BACKUP", masters);
    assert_holders_stay(&lan, &[2], "AH: the restarted vipd (200) takes over again");
    assert_keepalived_refused_nothing(&keepalived);
    assert_eq!(vipd.instance_status().state, StateName::Master);
}

#[test]
fn keepalived_master_is_followed_by_vipd_which_takes_over_when_keepalived_crashes() {
    if !kernel_tests_enabled() {
        return;
    }
    let lan = Lan::new(2);
    let dir = Scratch::new("ka-ah-ka-master");
    let mut keepalived = start_keepalived(&lan, &dir, &Member::v2_ah(200, PASSWORD));
    let vipd = start_vipd(&lan, &dir, "vipd2", &Member::v2_ah(100, PASSWORD));
    assert_holders_stay(&lan, &[1], "AH: keepalived (200) against vipd (100)");
    let s = vipd.instance_status();
    assert_eq!(s.state, StateName::Backup, "{s:?}");
    assert_eq!(s.master, Some(Lan::ipv4(1).into()), "{s:?}");
    assert_eq!(s.drops.values().sum::<u64>(), 0, "{s:?}");

    // A crashed keepalived leaves the VIP behind, as a dead host would.
    keepalived.kill_all();
    assert!(
        wait_until(EVENTUALLY, || lan.has_address(2, vip())),
        "AH: vipd must take over from the crashed keepalived: {:?}",
        vipd.instance_status()
    );
}

#[test]
fn a_wrong_auth_pass_is_refused_on_both_sides_and_counted() {
    if !kernel_tests_enabled() {
        return;
    }
    let lan = Lan::new(2);
    let dir = Scratch::new("ka-ah-wrong-pass");
    // keepalived has the higher priority: vipd must ignore its adverts and stay master.
    let keepalived = start_keepalived(&lan, &dir, &Member::v2_ah(200, PASSWORD));
    let vipd = start_vipd(&lan, &dir, "vipd2", &Member::v2_ah(100, "wrong"));
    assert_holders_stay(&lan, &[1, 2], "AH with different auth_pass");
    assert!(
        vipd.drops("ah_bad_icv") > 0,
        "vipd must have dropped keepalived's adverts for their ICV: {:?}",
        vipd.instance_status().drops
    );
    assert_eq!(vipd.instance_status().state, StateName::Master);
    assert!(
        keepalived.log().contains("invalid IPSEC HMAC-MD5"),
        "keepalived must have refused vipd's adverts:\n{}",
        keepalived.log()
    );
}

/// Unicast: the ICV leaves the TTL out (keepalived zeroes it for unicast peers), and each
/// side elects the other.
#[test]
fn unicast_each_side_follows_the_other_and_takes_over_when_it_crashes() {
    if !kernel_tests_enabled() {
        return;
    }
    let unicast = |priority, own, peer| {
        Member::v2_ah(priority, PASSWORD).unicast(Lan::ipv4(own), &[Lan::ipv4(peer)])
    };
    let lan = Lan::new(2);
    let dir = Scratch::new("ka-ah-unicast");
    let mut keepalived = start_keepalived(&lan, &dir, &unicast(200, 1, 2));
    let vipd = start_vipd(&lan, &dir, "vipd2", &unicast(100, 2, 1));
    assert_holders_stay(
        &lan,
        &[1],
        "AH unicast: keepalived (200) against vipd (100)",
    );
    let s = vipd.instance_status();
    assert_eq!(s.state, StateName::Backup, "{s:?}");
    assert_eq!(s.drops.values().sum::<u64>(), 0, "{s:?}");

    keepalived.kill_all();
    assert!(
        wait_until(EVENTUALLY, || lan.has_address(2, vip())),
        "AH unicast: vipd must take over from the crashed keepalived: {:?}",
        vipd.instance_status()
    );
    drop(keepalived);
    // keepalived restarted with the lower priority follows vipd.
    let keepalived = start_keepalived(&lan, &dir, &unicast(50, 1, 2));
    assert_keepalived_entered(&keepalived, "BACKUP", 0);
    std::thread::sleep(SETTLE);
    assert!(
        keepalived.times_entered("MASTER") == 0,
        "keepalived must follow vipd:\n{}",
        keepalived.log()
    );
    assert_keepalived_refused_nothing(&keepalived);
}
