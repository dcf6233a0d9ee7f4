//! `Netlink` against the real kernel, inside a network namespace each test
//! creates and removes (root needed).

use std::future::Future;
use std::net::IpAddr;
use std::process::Command;
use std::time::Duration;

use super::*;
use crate::family::IpFamily;
use vipd_testkit::Netns;

/// Generous: only "it eventually happens", never how fast.
const EVENTUALLY: Duration = Duration::from_secs(30);

/// A namespace holding the veth pair `va` <-> `vb`, both up.
fn namespace_with_veth(tag: &str) -> Netns {
    let ns = Netns::new(tag);
    ns.ip(&["link", "add", "va", "type", "veth", "peer", "name", "vb"]);
    ns.ip(&["link", "set", "va", "up"]);
    ns.ip(&["link", "set", "vb", "up"]);
    ns
}

fn vip(text: &str, prefix_len: u8, ifindex: u32) -> Vip {
    Vip::new(text.parse::<IpAddr>().unwrap(), prefix_len, ifindex).unwrap()
}

async fn eventually<T>(what: &str, future: impl Future<Output = T>) -> T {
    tokio::time::timeout(EVENTUALLY, future)
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
}

#[test]
fn adds_and_removes_marked_ipv4_and_ipv6_vips() {
    let ns = namespace_with_veth("vips");
    ns.run_async(|| async {
        let netlink = Netlink::new().unwrap();
        let va = netlink.ifindex("va").await.unwrap();
        let v4 = vip("192.0.2.10", 24, va)
            .with_label("va:vip")
            .unwrap()
            .with_broadcast("192.0.2.255".parse().unwrap())
            .unwrap();
        let v6 = vip("2001:db8::10", 64, va);

        assert_eq!(netlink.add_vip(&v4).await.unwrap(), AddOutcome::Added);
        assert_eq!(netlink.add_vip(&v6).await.unwrap(), AddOutcome::Added);
        let mut listed = netlink.list_vips(va).await.unwrap();
        listed.sort_by_key(|vip| vip.addr());
        assert_eq!(listed, vec![v4.clone(), v6.clone()]);

        // IFA_F_NODAD: usable at once, never tentative.
        let shown = ns.ip(&["-6", "addr", "show", "dev", "va"]);
        let line = shown
            .lines()
            .find(|line| line.contains("2001:db8::10/64"))
            .expect("the IPv6 VIP is on va");
        assert!(line.contains("nodad"), "{line}");
        assert!(!line.contains("tentative"), "{line}");
        let shown4 = ns.ip(&["-4", "addr", "show", "dev", "va"]);
        assert!(shown4.contains("192.0.2.10/24 brd 192.0.2.255"), "{shown4}");
        assert!(shown4.contains("va:vip"), "{shown4}");

        assert_eq!(
            netlink.add_vip(&v4).await.unwrap(),
            AddOutcome::AlreadyPresent
        );
        assert_eq!(
            netlink.remove_vip(&v4).await.unwrap(),
            RemoveOutcome::Removed
        );
        assert_eq!(
            netlink.remove_vip(&v6).await.unwrap(),
            RemoveOutcome::Removed
        );
        assert_eq!(
            netlink.remove_vip(&v4).await.unwrap(),
            RemoveOutcome::NotPresent
        );
        assert!(netlink.list_vips(va).await.unwrap().is_empty());
    });
}

#[test]
fn never_takes_over_or_removes_an_admin_address() {
    let ns = namespace_with_veth("admin");
    ns.ip(&["addr", "add", "192.0.2.20/24", "dev", "va"]);
    ns.ip(&["addr", "add", "2001:db8::20/64", "dev", "va", "nodad"]);
    ns.run_async(|| async {
        let netlink = Netlink::new().unwrap();
        let va = netlink.ifindex("va").await.unwrap();
        let admin4 = vip("192.0.2.20", 24, va);
        // IPv6 addresses are one per address, whatever the prefix length.
        let admin6 = vip("2001:db8::20", 128, va);

        assert_eq!(
            netlink.add_vip(&admin4).await.unwrap(),
            AddOutcome::PresentUnmarked
        );
        assert_eq!(
            netlink.add_vip(&admin6).await.unwrap(),
            AddOutcome::PresentUnmarked
        );
        assert_eq!(
            netlink.remove_vip(&admin4).await.unwrap(),
            RemoveOutcome::NotOwned
        );
        assert_eq!(
            netlink.remove_vip(&admin6).await.unwrap(),
            RemoveOutcome::NotOwned
        );
        assert!(netlink.remove_stale_vips().await.unwrap().is_empty());

        // The same IPv4 address with another prefix is another address to
        // the kernel: vipd's /32 comes and goes, the admin's /24 stays.
        let host_route = vip("192.0.2.20", 32, va);
        assert_eq!(
            netlink.add_vip(&host_route).await.unwrap(),
            AddOutcome::Added
        );
        assert_eq!(
            netlink.remove_vip(&host_route).await.unwrap(),
            RemoveOutcome::Removed
        );
        assert!(netlink.list_vips(va).await.unwrap().is_empty());
    });
    let shown = ns.ip(&["addr", "show", "dev", "va"]);
    assert!(shown.contains("192.0.2.20/24"), "{shown}");
    assert!(!shown.contains("192.0.2.20/32"), "{shown}");
    assert!(shown.contains("2001:db8::20/64"), "{shown}");
}

#[test]
fn removing_a_vip_that_became_primary_keeps_the_admin_secondary() {
    let ns = namespace_with_veth("primary");
    // The kernel default, set explicitly since a namespace may inherit the
    // host's setting.
    for interface in ["all", "default", "va"] {
        let key = format!("net.ipv4.conf.{interface}.promote_secondaries=0");
        let status = Command::new("ip")
            .args(["netns", "exec", ns.name(), "sysctl", "-qw", &key])
            .status()
            .expect("run sysctl in the namespace");
        assert!(status.success(), "{key}");
    }
    let vips = ns.run_async(|| async {
        let netlink = Netlink::new().unwrap();
        let va = netlink.ifindex("va").await.unwrap();
        let first = vip("203.0.113.10", 24, va);
        let second = vip("203.0.113.11", 24, va);
        assert_eq!(netlink.add_vip(&first).await.unwrap(), AddOutcome::Added);
        assert_eq!(netlink.add_vip(&second).await.unwrap(), AddOutcome::Added);
        (first, second)
    });
    // Added after the VIPs, the admin's address is a secondary of the VIP.
    ns.ip(&["addr", "add", "203.0.113.20/24", "dev", "va"]);
    ns.run_async(|| async {
        let netlink = Netlink::new().unwrap();
        assert_eq!(
            netlink.remove_vip(&vips.0).await.unwrap(),
            RemoveOutcome::Removed
        );
        // vipd's other VIP of the subnet survived too.
        assert_eq!(
            netlink.list_vips(vips.1.ifindex()).await.unwrap(),
            vec![vips.1.clone()]
        );
        assert_eq!(
            netlink.remove_stale_vips().await.unwrap(),
            vec![vips.1.clone()]
        );
    });
    let shown = ns.ip(&["-4", "addr", "show", "dev", "va"]);
    assert!(shown.contains("203.0.113.20/24"), "{shown}");
    assert!(!shown.contains("203.0.113.1"), "{shown}");
}

/// Beside a live daemon, a starting one removes only what a dead one left of its own VIPs.
#[test]
fn removing_stale_vips_among_some_addresses_leaves_the_others() {
    let ns = namespace_with_veth("among");
    ns.run_async(|| async {
        let netlink = Netlink::new().unwrap();
        let va = netlink.ifindex("va").await.unwrap();
        let ours = vip("192.0.2.41", 24, va);
        let theirs = vip("192.0.2.42", 24, va);
        for vip in [&ours, &theirs] {
            assert_eq!(netlink.add_vip(vip).await.unwrap(), AddOutcome::Added);
        }
        assert_eq!(
            netlink
                .remove_stale_vips_among(&[ours.addr()])
                .await
                .unwrap(),
            vec![ours.clone()]
        );
        assert_eq!(netlink.list_vips(va).await.unwrap(), vec![theirs.clone()]);
    });
}

#[test]
fn a_new_handle_removes_what_a_dead_one_left_and_only_that() {
    let ns = namespace_with_veth("stale");
    ns.ip(&["link", "add", "d0", "type", "veth", "peer", "name", "d1"]);
    ns.ip(&["addr", "add", "192.0.2.30/24", "dev", "va"]);
    ns.ip(&["addr", "add", "198.51.100.30/24", "dev", "d0"]);

    // The first vipd adds its VIPs and dies without removing them: its
    // handle, runtime and thread are gone when `run` returns.
    let left = ns.run_async(|| async {
        let netlink = Netlink::new().unwrap();
        let va = netlink.ifindex("va").await.unwrap();
        let d0 = netlink.ifindex("d0").await.unwrap();
        let vips = vec![
            vip("192.0.2.31", 24, va),
            vip("2001:db8::31", 64, va),
            vip("198.51.100.31", 32, d0).with_label("d0:vip").unwrap(),
        ];
        for vip in &vips {
            assert_eq!(netlink.add_vip(vip).await.unwrap(), AddOutcome::Added);
        }
        vips
    });

    ns.run_async(|| async {
        let netlink = Netlink::new().unwrap();
        let mut removed = netlink.remove_stale_vips().await.unwrap();
        removed.sort_by_key(|vip| vip.addr());
        let mut expected = left.clone();
        expected.sort_by_key(|vip| vip.addr());
        assert_eq!(removed, expected);
        assert!(netlink.remove_stale_vips().await.unwrap().is_empty());
    });

    let shown = ns.ip(&["addr", "show"]);
    assert!(shown.contains("192.0.2.30/24"), "{shown}");
    assert!(shown.contains("198.51.100.30/24"), "{shown}");
    for gone in ["192.0.2.31", "2001:db8::31", "198.51.100.31"] {
        assert!(!shown.contains(gone), "{gone} left behind: {shown}");
    }
}

#[test]
fn errors_name_the_interface() {
    let ns = Netns::new("errors");
    ns.run_async(|| async {
        let netlink = Netlink::new().unwrap();
        let error = netlink.ifindex("eth9").await.unwrap_err();
        assert!(matches!(error, NetlinkError::InterfaceNotFound(_)));
        assert_eq!(error.to_string(), "interface eth9 not found");

        let lo = netlink.ifindex("lo").await.unwrap();
        assert!(matches!(
            netlink.link_mac(lo).await,
            Err(NetlinkError::NoEthernetAddress(name)) if name == "lo"
        ));

        let error = netlink
            .add_vip(&vip("192.0.2.10", 24, 4242))
            .await
            .unwrap_err();
        assert_eq!(error.to_string(), "interface with index 4242 not found");
    });
}

#[test]
fn an_ipv6_vip_on_an_interface_without_ipv6_says_so() {
    let ns = namespace_with_veth("noipv6");
    let status = Command::new("ip")
        .args(["netns", "exec", ns.name(), "sysctl", "-qw"])
        .arg("net.ipv6.conf.va.disable_ipv6=1")
        .status()
        .expect("run sysctl in the namespace");
    assert!(status.success());
    ns.run_async(|| async {
        let netlink = Netlink::new().unwrap();
        let va = netlink.ifindex("va").await.unwrap();
        let error = netlink
            .add_vip(&vip("2001:db8::10", 64, va))
            .await
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "adding 2001:db8::10/64 to va: IPv6 is disabled on va \
             (sysctl net.ipv6.conf.va.disable_ipv6=1)"
        );
    });
}

#[test]
fn without_cap_net_admin_the_error_says_so() {
    let ns = namespace_with_veth("perm");
    ns.run_async(|| async {
        // The kernel checks the capabilities the socket was opened with, so
        // drop CAP_NET_ADMIN on this (test-only) thread first.
        drop_cap_net_admin_on_this_thread();
        let netlink = Netlink::new().unwrap();
        let va = netlink.ifindex("va").await.unwrap();
        let error = netlink
            .add_vip(&vip("192.0.2.10", 24, va))
            .await
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "adding 192.0.2.10/24 to va: permission denied (vipd needs CAP_NET_ADMIN)"
        );
    });
}

/// Clears CAP_NET_ADMIN from the calling thread's effective set
/// (capabilities are per thread in Linux).
fn drop_cap_net_admin_on_this_thread() {
    #[repr(C)]
    struct Header {
        version: u32,
        pid: i32,
    }
    #[repr(C)]
    #[derive(Clone, Copy, Default)]
    struct Data {
        effective: u32,
        permitted: u32,
        inheritable: u32,
    }
    const LINUX_CAPABILITY_VERSION_3: u32 = 0x2008_0522;
    const CAP_NET_ADMIN: u32 = 12;
    let mut header = Header {
        version: LINUX_CAPABILITY_VERSION_3,
        pid: 0,
    };
    let mut data = [Data::default(); 2];
    // SAFETY: capget/capset read and write exactly a v3 header and two data
    // structs, which is what is passed.
    unsafe {
        assert_eq!(
            libc::syscall(libc::SYS_capget, &mut header, data.as_mut_ptr()),
            0
        );
        data[0].effective &= !(1 << CAP_NET_ADMIN);
        assert_eq!(
            libc::syscall(libc::SYS_capset, &mut header, data.as_ptr()),
            0
        );
    }
}

#[test]
fn link_events_follow_a_veth_down_up_and_interfaces_coming_and_going() {
    let ns = namespace_with_veth("links");
    ns.run_async(|| async {
        let netlink = Netlink::new().unwrap();
        let va = netlink.ifindex("va").await.unwrap();
        let mut watch = netlink.watch_links(["va", "ghost"]).await.unwrap();

        // First the current state of every tracked name. The kernel sets a
        // new link's operational state a moment after it goes up, so va may
        // still be on its way up.
        let mut initial = [watch.next().await.unwrap(), watch.next().await.unwrap()];
        initial.sort_by(|a, b| a.name.cmp(&b.name));
        assert_eq!(
            initial[0],
            LinkEvent {
                name: "ghost".into(),
                ifindex: None,
                state: LinkState::Absent
            }
        );
        assert_eq!(
            (initial[1].name.as_str(), initial[1].ifindex),
            ("va", Some(va))
        );
        assert!(matches!(
            initial[1].state,
            LinkState::Up | LinkState::Down { admin_up: true, .. }
        ));
        if !initial[1].state.is_up() {
            wait_for(&mut watch, "va", LinkState::is_up).await;
        }

        ns.ip(&["link", "set", "va", "down"]);
        wait_for(&mut watch, "va", |state| {
            state
                == LinkState::Down {
                    admin_up: false,
                    carrier: false,
                }
        })
        .await;
        ns.ip(&["link", "set", "va", "up"]);
        wait_for(&mut watch, "va", LinkState::is_up).await;

        // The peer going down takes the carrier away.
        ns.ip(&["link", "set", "vb", "down"]);
        wait_for(&mut watch, "va", |state| {
            state
                == LinkState::Down {
                    admin_up: true,
                    carrier: false,
                }
        })
        .await;
        ns.ip(&["link", "set", "vb", "up"]);
        wait_for(&mut watch, "va", LinkState::is_up).await;

        // Leaving a bridge is reported by the bridge as an AF_BRIDGE
        // RTM_DELLINK: va must not look absent.
        ns.ip(&["link", "add", "br0", "type", "bridge"]);
        ns.ip(&["link", "set", "va", "master", "br0"]);
        ns.ip(&["link", "set", "va", "nomaster"]);
        ns.ip(&["link", "set", "va", "down"]);
        let event = wait_for(&mut watch, "va", |state| !state.is_up()).await;
        assert_eq!(
            event.state,
            LinkState::Down {
                admin_up: false,
                carrier: false
            }
        );

        ns.ip(&[
            "link", "add", "ghost", "type", "veth", "peer", "name", "ghostp",
        ]);
        ns.ip(&["link", "set", "ghostp", "up"]);
        ns.ip(&["link", "set", "ghost", "up"]);
        let appeared = wait_for(&mut watch, "ghost", LinkState::is_up).await;
        let ghost = appeared.ifindex.expect("a present link has an index");
        ns.ip(&["link", "del", "ghost"]);
        let vanished = wait_for(&mut watch, "ghost", |state| state == LinkState::Absent).await;
        assert_eq!(vanished.ifindex, Some(ghost));
    });
}

#[test]
fn link_state_is_right_after_more_notifications_than_the_socket_buffer_holds() {
    let ns = namespace_with_veth("flood");
    ns.run_async(|| async {
        let netlink = Netlink::new().unwrap();
        let mut watch = netlink.watch_links(["va"]).await.unwrap();
        if !watch.next().await.unwrap().state.is_up() {
            wait_for(&mut watch, "va", LinkState::is_up).await;
        }
        // Nobody reads while the kernel sends thousands of notifications:
        // the socket buffer overflows and the watch must re-read the links.
        let mut batch = String::new();
        for _ in 0..2000 {
            batch.push_str("link set va down\nlink set va up\n");
        }
        // The last change gives va a state the flapping never shows.
        batch.push_str("link set vb down\n");
        let mut ip = Command::new("ip")
            .args(["-n", ns.name(), "-batch", "-"])
            .stdin(std::process::Stdio::piped())
            .spawn()
            .expect("run ip -batch");
        std::io::Write::write_all(&mut ip.stdin.take().unwrap(), batch.as_bytes()).unwrap();
        assert!(ip.wait().unwrap().success());
        let no_carrier = LinkState::Down {
            admin_up: true,
            carrier: false,
        };
        wait_for(&mut watch, "va", |state| state == no_carrier).await;
    });
}

/// Reads events until `name` reaches a state `wanted` accepts; events of
/// `name` on the way must not say it is absent unless that is what is awaited.
async fn wait_for(
    watch: &mut LinkWatch,
    name: &str,
    wanted: impl Fn(LinkState) -> bool,
) -> LinkEvent {
    eventually(name, async {
        loop {
            let event = watch.next().await.expect("the watch stays open");
            if event.name != name {
                continue;
            }
            if wanted(event.state) {
                return event;
            }
            assert_ne!(event.state, LinkState::Absent, "{name} vanished");
        }
    })
    .await
}

#[test]
fn vmac_has_the_virtual_router_mac_and_a_stale_one_is_removed() {
    let ns = namespace_with_veth("vmac");
    ns.ip(&["link", "add", "vrrp.7", "type", "bridge"]);
    let created = ns.run_async(|| async {
        let netlink = Netlink::new().unwrap();
        let va = netlink.ifindex("va").await.unwrap();

        let v4 = netlink
            .create_vmac(&VmacSpec::new(va, 51, IpFamily::V4))
            .await
            .unwrap();
        assert_eq!(v4.name, "vrrp.51");
        assert_eq!(
            netlink.link_mac(v4.ifindex).await.unwrap(),
            [0x00, 0x00, 0x5e, 0x00, 0x01, 51]
        );

        let spec6 = VmacSpec {
            name: "vrrp6.51".into(),
            mode: VmacMode::Bridge,
            ..VmacSpec::new(va, 51, IpFamily::V6)
        };
        let v6 = netlink.create_vmac(&spec6).await.unwrap();
        assert_eq!(
            netlink.link_mac(v6.ifindex).await.unwrap(),
            [0x00, 0x00, 0x5e, 0x00, 0x02, 51]
        );

        // A restarted vipd adopts its own vmac as it is.
        let again = netlink.create_vmac(&spec6).await.unwrap();
        assert_eq!(again, v6);

        // An interface vipd did not create is never taken.
        let taken = netlink
            .create_vmac(&VmacSpec::new(va, 7, IpFamily::V4))
            .await
            .unwrap_err();
        assert!(matches!(taken, NetlinkError::VmacNameTaken { .. }));
        (v4, v6)
    });
    let (v4, v6) = created;

    let details = ns.ip(&["-d", "link", "show", "vrrp.51"]);
    assert!(details.contains("macvlan mode private"), "{details}");
    assert!(details.contains("alias vipd vmac"), "{details}");
    // Administratively up (its operational state follows a moment later).
    let flags = details.split(['<', '>']).nth(1).unwrap_or_default();
    assert!(flags.split(',').any(|flag| flag == "UP"), "{details}");
    for (setting, wanted) in [("arp_ignore", "1"), ("rp_filter", "0")] {
        let path = format!("/proc/sys/net/ipv4/conf/vrrp.51/{setting}");
        let output = Command::new("ip")
            .args(["netns", "exec", ns.name(), "cat", &path])
            .output()
            .expect("read a sysctl in the namespace");
        assert_eq!(
            String::from_utf8_lossy(&output.stdout).trim(),
            wanted,
            "{setting}"
        );
    }
    let details6 = ns.ip(&["-d", "link", "show", "vrrp6.51"]);
    assert!(details6.contains("macvlan mode bridge"), "{details6}");
    // No link-local made from the shared virtual MAC.
    let addresses6 = ns.ip(&["-6", "addr", "show", "dev", "vrrp6.51"]);
    assert!(!addresses6.contains("fe80::"), "{addresses6}");

    // The vipd that created them is gone; the next one cleans up.
    ns.run_async(|| async {
        let netlink = Netlink::new().unwrap();
        let mut removed = netlink.remove_stale_vmacs().await.unwrap();
        removed.sort();
        assert_eq!(removed, vec![v4.name.clone(), v6.name.clone()]);
        assert_eq!(
            netlink.remove_vmac(&v4).await.unwrap(),
            RemoveOutcome::NotPresent
        );
        let bridge = netlink.ifindex("vrrp.7").await.unwrap();
        let not_ours = Vmac {
            name: "vrrp.7".into(),
            ifindex: bridge,
            mac: [0; 6],
        };
        assert_eq!(
            netlink.remove_vmac(&not_ours).await.unwrap(),
            RemoveOutcome::NotOwned
        );
    });
    let links = ns.ip(&["link", "show"]);
    assert!(links.contains("va@vb"), "{links}");
    assert!(links.contains("vrrp.7"), "{links}");
    assert!(
        !links.contains("vrrp.51") && !links.contains("vrrp6.51"),
        "{links}"
    );
}

#[test]
fn vmac_is_deleted_on_stop() {
    let ns = namespace_with_veth("vmacstop");
    ns.run_async(|| async {
        let netlink = Netlink::new().unwrap();
        let va = netlink.ifindex("va").await.unwrap();
        let vmac = netlink
            .create_vmac(&VmacSpec::new(va, 9, IpFamily::V4))
            .await
            .unwrap();
        assert_eq!(
            netlink.remove_vmac(&vmac).await.unwrap(),
            RemoveOutcome::Removed
        );
        assert!(matches!(
            netlink.ifindex("vrrp.9").await,
            Err(NetlinkError::InterfaceNotFound(_))
        ));
    });
}
