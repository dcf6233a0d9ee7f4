//! vipd and FRR 8.4's vrrpd (the Debian package) in one VRRP group, each as master and as
//! backup, in three flavours: VRRPv3 over IPv4 at 100 ms, VRRPv2 at 1 s (FRR's VRRPv2 has no
//! authentication), VRRPv3 over IPv6. For each: election by priority with a priority-0 handoff
//! when the master stops gracefully, preemption, and takeover from a master killed with
//! SIGKILL, in both directions, with a client on the LAN reaching the VIP at the master after
//! every change. Then VRRPv3 at 10 ms, FRR 8.4 refusing vipd's `message_only` checksum, and
//! FRR staying master, silent, through a carrier loss.
//!
//! FRR always runs on node 1, vipd on node 2, the client on node 3, on plain veths (vipd in its
//! default XDP mode). vrrpd keeps the VIP on its macvlan in every state (it only holds the
//! macvlan in protodown as backup), so its state comes from `show vrrp json`, vipd's from its
//! status, and the client proves who answers by the MAC it resolved the VIP to: FRR's virtual
//! MAC or vipd's eth0. Every wait is a generous "eventually"; no test asserts how fast anything
//! happened.
use std::{net::IpAddr, process::Command, time::Duration};

use vipd::control::status::{InstanceStatus, StateName};
use vipd_tests::{
    frr::Frr,
    keepalived::Member,
    kernel_tests_enabled,
    netns::Netns,
    topology::Lan,
    vipd::{wait_until, Scratch, Vipd},
};

const EVENTUALLY: Duration = Duration::from_secs(20);

const FRR: usize = 1;
const VIPD: usize = 2;
const CLIENT: usize = 3;

/// One way of running the group.
#[derive(Debug, Clone, Copy)]
enum Flavour {
    /// VRRPv3, IPv4, 100 ms adverts.
    V3,
    /// VRRPv2, 1 s adverts (v2's shortest), no authentication (FRR has none).
    V2,
    /// VRRPv3, IPv6, 100 ms adverts.
    V3Ipv6,
}

impl Flavour {
    fn member(self, priority: u8) -> Member {
        match self {
            Self::V3 => Member::v3(priority),
            Self::V2 => Member {
                version: 2,
                interval_ms: 1000,
                ..Member::v3(priority)
            },
            Self::V3Ipv6 => Member::v3(priority).vip("2001:db8::100/64"),
        }
    }

    /// The key of vrrpd's router for this family in `show vrrp json`.
    fn family(self) -> &'static str {
        match self {
            Self::V3 | Self::V2 => "v4",
            Self::V3Ipv6 => "v6",
        }
    }

    fn vip(self) -> IpAddr {
        match self {
            Self::V3 | Self::V2 => "192.0.2.100".parse().unwrap(),
            Self::V3Ipv6 => "2001:db8::100".parse().unwrap(),
        }
    }
}

/// FRR (node 1), vipd (node 2) and a client (node 3) on one LAN, for one flavour.
struct Group {
    flavour: Flavour,
    // Field order is drop order: the daemons go before the namespaces.
    frr: Option<Frr>,
    vipd: Option<Vipd>,
    dir: Scratch,
    lan: Lan,
}

impl Group {
    fn new(flavour: Flavour, tag: &str) -> Self {
        Self {
            flavour,
            frr: None,
            vipd: None,
            dir: Scratch::new(tag),
            lan: Lan::new(3),
        }
    }

    fn start_frr(&mut self, priority: u8) {
        self.start_frr_as(&self.flavour.member(priority));
    }

    fn start_frr_as(&mut self, member: &Member) {
        self.frr = Some(Frr::start(self.lan.node(FRR), self.dir.path(), member));
    }

    fn start_vipd(&mut self, priority: u8) {
        self.start_vipd_with(&self.flavour.member(priority).vipd_toml());
    }

    fn start_vipd_with(&mut self, config: &str) {
        let vipd = Vipd::start(self.lan.node(VIPD), self.dir.path(), "vipd", config, &[]);
        self.vipd = Some(vipd);
    }

    fn frr(&self) -> &Frr {
        self.frr.as_ref().expect("FRR runs")
    }

    fn vipd(&self) -> &Vipd {
        self.vipd.as_ref().expect("vipd runs")
    }

    fn vipd_status(&self) -> InstanceStatus {
        self.vipd().instance_status()
    }

    /// Waits until vrrpd is in `state` ("Master", "Backup").
    fn assert_frr(&self, state: &str, what: &str) {
        let family = self.flavour.family();
        assert!(
            self.frr().wait_state(family, state),
            "{what}: FRR must be {state}: {}",
            self.frr().router(family)
        );
    }

    /// Waits until vipd is master with the VIP on its interface.
    fn assert_vipd_master(&self, what: &str) {
        let vip = self.flavour.vip();
        assert!(
            wait_until(EVENTUALLY, || {
                self.vipd_status().state == StateName::Master && self.lan.has_address(VIPD, vip)
            }),
            "{what}: vipd must be MASTER with {vip}: {:?}",
            self.vipd_status()
        );
    }

    /// Waits until vipd is backup following vrrpd, without the VIP.
    fn assert_vipd_follows_frr(&self, what: &str) {
        let source = self.frr_source();
        let vip = self.flavour.vip();
        assert!(
            wait_until(EVENTUALLY, || {
                let status = self.vipd_status();
                status.state == StateName::Backup
                    && status.master == Some(source)
                    && !self.lan.has_address(VIPD, vip)
            }),
            "{what}: vipd must be BACKUP following FRR at {source}: {:?}",
            self.vipd_status()
        );
    }

    /// The source of vrrpd's adverts: eth0's IPv4 address, or the macvlan's link-local (FRR
    /// 8.4's `show vrrp json` gives "::" as the IPv6 router's primary address even as master).
    fn frr_source(&self) -> IpAddr {
        match self.flavour {
            Flavour::V3 | Flavour::V2 => Lan::ipv4(FRR).into(),
            Flavour::V3Ipv6 => {
                let router = self.frr().router("v6");
                let macvlan = router["interface"].as_str().expect("vrrpd's macvlan");
                link_local(self.lan.node(FRR), macvlan)
            }
        }
    }

    /// vipd master, vrrpd backup, the client at vipd.
    fn assert_vipd_leads(&self, what: &str) {
        self.assert_vipd_master(what);
        self.assert_frr("Backup", what);
        self.assert_client_reaches(VIPD, what);
    }

    /// vrrpd master, vipd backup, the client at vrrpd.
    fn assert_frr_leads(&self, what: &str) {
        self.assert_frr("Master", what);
        self.assert_vipd_follows_frr(what);
        self.assert_client_reaches(FRR, what);
    }

    /// Waits until the client pings the VIP and has resolved it to node `n`'s MAC for it:
    /// vrrpd's virtual MAC, vipd's eth0.
    fn assert_client_reaches(&self, n: usize, what: &str) {
        let vip = self.flavour.vip();
        let expected = if n == FRR {
            let router = self.frr().router(self.flavour.family());
            router["vmac"].as_str().expect("vrrpd's vmac").to_string()
        } else {
            mac(self.lan.node(n), "eth0")
        };
        let client = self.lan.node(CLIENT);
        assert!(
            wait_until(EVENTUALLY, || {
                pings(client, vip) && resolved(client, vip).as_deref() == Some(expected.as_str())
            }),
            "{what}: the client must reach {vip} at node {n} ({expected}), it resolves it to {:?}",
            resolved(client, vip)
        );
    }
}

/// One ping of `addr` from `ns`, answered within a second.
fn pings(ns: &Netns, addr: IpAddr) -> bool {
    Command::new("ip")
        .args(["netns", "exec", ns.name(), "ping", "-c1", "-W1"])
        .arg(addr.to_string())
        .output()
        .is_ok_and(|out| out.status.success())
}

/// The MAC `ns` has in its neighbour table for `addr`.
fn resolved(ns: &Netns, addr: IpAddr) -> Option<String> {
    let out = ns.exec(&["ip", "neigh", "show", &addr.to_string(), "dev", "eth0"]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut words = text.split_whitespace();
    words.find(|&word| word == "lladdr")?;
    words.next().map(str::to_string)
}

fn mac(ns: &Netns, interface: &str) -> String {
    let out = ns.exec(&["cat", &format!("/sys/class/net/{interface}/address")]);
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// The IPv6 link-local address of `interface` in `ns`.
fn link_local(ns: &Netns, interface: &str) -> IpAddr {
    let out = ns.exec(&[
        "ip", "-o", "-6", "addr", "show", "dev", interface, "scope", "link",
    ]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut words = text.split_whitespace();
    words.find(|&word| word == "inet6");
    words
        .next()
        .and_then(|with_prefix| with_prefix.split('/').next())
        .and_then(|address| address.parse().ok())
        .unwrap_or_else(|| panic!("no link-local on {interface}: {text}"))
}

// The four scenarios, each run in every flavour.

/// vrrpd (100) and vipd (200): vipd wins; its SIGTERM's priority-0 advert hands over to vrrpd.
fn vipd_wins_and_its_sigterm_hands_over_to_frr(flavour: Flavour, tag: &str) {
    let mut group = Group::new(flavour, tag);
    group.start_frr(100);
    group.start_vipd(200);
    group.assert_vipd_leads("vipd (200), FRR (100)");

    group.vipd().signal(libc::SIGTERM);
    assert!(
        group.vipd.as_mut().unwrap().wait_exit(EVENTUALLY).is_some(),
        "vipd must exit on SIGTERM"
    );
    group.assert_frr("Master", "after vipd's SIGTERM");
    group.assert_client_reaches(FRR, "after vipd's SIGTERM");
}

/// vrrpd (200) and vipd (100): vrrpd wins; its SIGTERM's priority-0 advert hands over to vipd.
fn frr_wins_and_its_sigterm_hands_over_to_vipd(flavour: Flavour, tag: &str) {
    let mut group = Group::new(flavour, tag);
    group.start_frr(200);
    group.start_vipd(100);
    group.assert_frr_leads("FRR (200), vipd (100)");

    group.frr.as_mut().unwrap().stop();
    group.assert_vipd_master("after FRR's SIGTERM");
    assert!(
        group.vipd_status().priority_zero_in >= 1,
        "vipd must have taken over on vrrpd's priority-0 advert: {:?}",
        group.vipd_status()
    );
    group.assert_client_reaches(VIPD, "after FRR's SIGTERM");
}

/// vrrpd (100) alone is master; vipd (200) joins and preempts it; vipd is killed and vrrpd
/// takes over.
fn vipd_preempts_frr_and_frr_takes_over_when_vipd_is_killed(flavour: Flavour, tag: &str) {
    let mut group = Group::new(flavour, tag);
    group.start_frr(100);
    group.assert_frr("Master", "FRR alone");
    group.assert_client_reaches(FRR, "FRR alone");

    group.start_vipd(200);
    group.assert_vipd_leads("vipd (200) joined FRR (100)");

    group.vipd().signal(libc::SIGKILL);
    group.assert_frr("Master", "after vipd's SIGKILL");
    group.assert_client_reaches(FRR, "after vipd's SIGKILL");
}

/// vipd (100) alone is master; vrrpd (200) joins and preempts it; vrrpd is killed and vipd
/// takes over.
fn frr_preempts_vipd_and_vipd_takes_over_when_frr_is_killed(flavour: Flavour, tag: &str) {
    let mut group = Group::new(flavour, tag);
    group.start_vipd(100);
    group.assert_vipd_master("vipd alone");
    group.assert_client_reaches(VIPD, "vipd alone");

    group.start_frr(200);
    group.assert_frr_leads("FRR (200) joined vipd (100)");

    group.frr.as_mut().unwrap().kill_all();
    group.assert_vipd_master("after FRR's SIGKILL");
    assert_eq!(
        group.vipd_status().priority_zero_in,
        0,
        "a crash sends nothing"
    );
    group.assert_client_reaches(VIPD, "after FRR's SIGKILL");
}

macro_rules! flavoured {
    ($flavour:expr, $prefix:literal, $($scenario:ident => $test:ident),* $(,)?) => {
        $(
            #[test]
            fn $test() {
                if !kernel_tests_enabled() {
                    return;
                }
                $scenario($flavour, concat!($prefix, stringify!($scenario)));
            }
        )*
    };
}

flavoured!(
    Flavour::V3,
    "frr-v3-",
    vipd_wins_and_its_sigterm_hands_over_to_frr => v3_vipd_wins_and_its_sigterm_hands_over_to_frr,
    frr_wins_and_its_sigterm_hands_over_to_vipd => v3_frr_wins_and_its_sigterm_hands_over_to_vipd,
    vipd_preempts_frr_and_frr_takes_over_when_vipd_is_killed =>
        v3_vipd_preempts_frr_and_frr_takes_over_when_vipd_is_killed,
    frr_preempts_vipd_and_vipd_takes_over_when_frr_is_killed =>
        v3_frr_preempts_vipd_and_vipd_takes_over_when_frr_is_killed,
);

flavoured!(
    Flavour::V2,
    "frr-v2-",
    vipd_wins_and_its_sigterm_hands_over_to_frr => v2_vipd_wins_and_its_sigterm_hands_over_to_frr,
    frr_wins_and_its_sigterm_hands_over_to_vipd => v2_frr_wins_and_its_sigterm_hands_over_to_vipd,
    vipd_preempts_frr_and_frr_takes_over_when_vipd_is_killed =>
        v2_vipd_preempts_frr_and_frr_takes_over_when_vipd_is_killed,
    frr_preempts_vipd_and_vipd_takes_over_when_frr_is_killed =>
        v2_frr_preempts_vipd_and_vipd_takes_over_when_frr_is_killed,
);

flavoured!(
    Flavour::V3Ipv6,
    "frr-v6-",
    vipd_wins_and_its_sigterm_hands_over_to_frr => ipv6_vipd_wins_and_its_sigterm_hands_over_to_frr,
    frr_wins_and_its_sigterm_hands_over_to_vipd => ipv6_frr_wins_and_its_sigterm_hands_over_to_vipd,
    vipd_preempts_frr_and_frr_takes_over_when_vipd_is_killed =>
        ipv6_vipd_preempts_frr_and_frr_takes_over_when_vipd_is_killed,
    frr_preempts_vipd_and_vipd_takes_over_when_frr_is_killed =>
        ipv6_frr_preempts_vipd_and_vipd_takes_over_when_frr_is_killed,
);

/// Many Master_Down_Intervals of 100 ms adverts (about 360 ms each): a router that was going to
/// change state has done so by then.
const SETTLE: Duration = Duration::from_secs(3);

// VRRPv3 at 10 ms, FRR's shortest interval (advertisement-interval 10). Its Master_Down_Interval
// is then 30 ms (the skew time, kept in whole centiseconds, rounds down to 0), vipd's 36 ms: on a
// loaded machine a backup on either side may take over for a moment and step back (seen here
// with the whole file running beside a benchmark), so these tests wait for the states and do not
// assert that the backup never moved.

fn fast(priority: u8) -> Member {
    Member {
        interval_ms: 10,
        ..Member::v3(priority)
    }
}

#[test]
fn at_10ms_vipd_follows_frr_and_takes_over_when_it_is_killed() {
    if !kernel_tests_enabled() {
        return;
    }
    let mut group = Group::new(Flavour::V3, "frr-10ms-frr-master");
    group.start_frr_as(&fast(200));
    group.start_vipd_with(&fast(100).vipd_toml());
    group.assert_frr_leads("FRR (200), vipd (100), 10 ms");
    assert_eq!(group.vipd_status().master_adver_interval_us, 10_000);

    group.frr.as_mut().unwrap().kill_all();
    group.assert_vipd_master("after FRR's SIGKILL, 10 ms");
    group.assert_client_reaches(VIPD, "after FRR's SIGKILL, 10 ms");
}

#[test]
fn at_10ms_frr_follows_vipd_and_takes_over_when_it_is_killed() {
    if !kernel_tests_enabled() {
        return;
    }
    let mut group = Group::new(Flavour::V3, "frr-10ms-vipd-master");
    group.start_frr_as(&fast(100));
    group.start_vipd_with(&fast(200).vipd_toml());
    group.assert_vipd_leads("vipd (200), FRR (100), 10 ms");
    assert_eq!(group.frr().router("v4")["masterAdverInterval"], 10);

    group.vipd().signal(libc::SIGKILL);
    group.assert_frr("Master", "after vipd's SIGKILL, 10 ms");
    group.assert_client_reaches(FRR, "after vipd's SIGKILL, 10 ms");
}

// The IPv4 VRRPv3 checksum. FRR 8.4 always sums the pseudo-header (its
// `checksum-with-ipv4-pseudoheader` switch arrived in 8.5) and drops any other checksum
// before it counts the advert.

/// vipd (200) with `v3_checksum = "message_only"` and vrrpd (100): vrrpd drops every advert of
/// vipd's and becomes master too, while vipd, accepting either checksum, stays master over the
/// lower priority: both hold the VIP.
#[test]
fn frr_8_4_drops_message_only_checksums_so_both_become_master() {
    if !kernel_tests_enabled() {
        return;
    }
    let mut group = Group::new(Flavour::V3, "frr-message-only");
    group.start_frr(100);
    let config = format!(
        "{}v3_checksum = \"message_only\"\n",
        Flavour::V3.member(200).vipd_toml()
    );
    group.start_vipd_with(&config);
    group.assert_vipd_master("vipd (200, message_only), FRR (100)");
    group.assert_frr("Master", "vipd (200, message_only), FRR (100)");
    std::thread::sleep(SETTLE);
    let router = group.frr().router("v4");
    assert_eq!(router["status"], "Master", "{router}");
    assert_eq!(
        router["stats"]["adverRx"], 0,
        "FRR must have accepted none of vipd's adverts: {router}"
    );
    let status = group.vipd_status();
    assert_eq!(status.state, StateName::Master, "{status:?}");
    assert!(status.adverts_in > 0, "vipd hears FRR: {status:?}");
    assert_eq!(status.drops["bad_checksum"], 0, "{status:?}");
}

// Carrier loss. vrrpd 8.4 ignores its interface going down: a master stays master with its
// timers running, so when the carrier returns it has no transition to make and sends no
// gratuitous ARP. The vipd backup that took over meanwhile yields to its higher priority, but
// the client's neighbour entry still names vipd's MAC, where the VIP no longer is: the client
// is cut off until that entry goes stale and is resolved again (the kernel's reachable time,
// 15 to 45 s, then its probes).

/// vrrpd (200) loses its cable while master; vipd (100) takes over; the cable comes back.
#[test]
fn after_its_carrier_returns_frr_stays_master_without_a_gratuitous_arp() {
    if !kernel_tests_enabled() {
        return;
    }
    let mut group = Group::new(Flavour::V3, "frr-carrier");
    group.start_frr(200);
    group.start_vipd(100);
    group.assert_frr_leads("FRR (200), vipd (100)");
    let before = group.frr().router("v4")["stats"].clone();

    group.lan.link_down(FRR);
    group.assert_vipd_master("FRR's cable pulled");
    group.assert_client_reaches(VIPD, "FRR's cable pulled");
    assert_eq!(
        group.frr().state("v4"),
        "Master",
        "FRR stays master without its carrier"
    );

    group.lan.link_up(FRR);
    group.assert_vipd_follows_frr("FRR's cable back");
    std::thread::sleep(SETTLE);
    let after = group.frr().router("v4")["stats"].clone();
    assert_eq!(
        (&after["transitions"], &after["garpTx"]),
        (&before["transitions"], &before["garpTx"]),
        "FRR must have made no transition and sent no gratuitous ARP: {before} then {after}"
    );
    let client = group.lan.node(CLIENT);
    let vip = Flavour::V3.vip();
    assert_eq!(
        resolved(client, vip),
        Some(mac(group.lan.node(VIPD), "eth0")),
        "the client must still resolve the VIP to vipd, the master it last heard of"
    );
    assert!(
        !pings(client, vip),
        "the client must be cut off: the VIP is gone from vipd's node"
    );
    // Once the client resolves the VIP again, it reaches FRR.
    client.exec(&["ip", "neigh", "flush", "dev", "eth0"]);
    group.assert_client_reaches(FRR, "after the client resolved the VIP again");
}
