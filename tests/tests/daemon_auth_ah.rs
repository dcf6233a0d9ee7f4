//! `vipd run` with `auth_type AH`: two vipd nodes on a bridge elect and fail over, and a third
//! node that watches the link replays a captured AH advert to the new master, which refuses it
//! and does not move (the captured master's priority is higher than its own).
//!
//! Every wait is a generous "eventually" bound; nothing here asserts how fast anything happened.
use std::{
    net::{IpAddr, SocketAddr},
    time::{Duration, Instant},
};

use vipd_tests::{
    frames, kernel_tests_enabled, raw_ip,
    topology::Lan,
    vipd::{wait_until, Scratch, Vipd},
};

const VIP: &str = "192.0.2.100";
const EVENTUALLY: Duration = Duration::from_secs(20);
const ATTACKER: usize = 3;
const IP_PROTOCOL_AH: u8 = 51;
/// IPv4 header + AH header + VRRPv2 header, one address and the auth data.
const AH_PACKET_LEN: usize = 20 + 24 + 20;

fn vip() -> IpAddr {
    VIP.parse().unwrap()
}

/// A VRRPv2 instance on eth0, VRID 51, 1 s adverts, `auth_type AH` keyed with "secret12".
fn config(priority: u8) -> String {
    format!(
        "[[instance]]\nname = \"VI_1\"\ninterface = \"eth0\"\nvrid = 51\npriority = {priority}\n\
         version = 2\nadvert_interval = \"1s\"\nvips = [\"{VIP}/24\"]\n\
         auth_password = \"secret12\"\nauth_type = \"ah\"\n"
    )
}

#[test]
fn ah_nodes_elect_fail_over_and_refuse_a_replayed_advert() {
    if !kernel_tests_enabled() {
        return;
    }
    let lan = Lan::new(3);
    let dir = Scratch::new("auth-ah");
    let watch = raw_ip::listener(
        lan.node(ATTACKER),
        IP_PROTOCOL_AH,
        Lan::ipv4(ATTACKER),
        true,
    );
    let old = Vipd::start(lan.node(1), dir.path(), "n1", &config(200), &[]);
    let new = Vipd::start(lan.node(2), dir.path(), "n2", &config(100), &[]);
    assert!(
        wait_until(EVENTUALLY, || lan.holders(vip()) == [1]),
        "election: the VIP is on {:?}",
        lan.holders(vip())
    );
    let captured = raw_ip::capture_from(&watch, Lan::ipv4(1), EVENTUALLY);
    assert_eq!(captured.len(), AH_PACKET_LEN, "{captured:02x?}");
    assert_eq!(captured[9], 51, "IP protocol AH");
    assert_eq!(captured[20], 112, "AH next header VRRP");
    assert_eq!(captured[24..28], Lan::ipv4(1).octets(), "SPI = source");
    assert_ne!(captured[4..6], [0, 0], "vipd sets the IP identification");
    assert_eq!(new.drops("ah_bad_icv") + new.drops("ah_replay"), 0);

    old.signal(libc::SIGKILL);
    lan.assert_took_over(2, vip(), EVENTUALLY);
    let before = new.logged_transitions();
    let to = SocketAddr::new(frames::VRRP_MCAST_V4.into(), 0).into();
    let end = Instant::now() + Duration::from_secs(3);
    while Instant::now() < end {
        watch.send_to(&captured, &to).expect("replay advert");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(new.drops("ah_replay") > 0, "{}", new.log());
    assert_eq!(new.logged_transitions(), before, "{}", new.log());
    assert!(lan.has_address(2, vip()), "the replay moved the VIP");
}
