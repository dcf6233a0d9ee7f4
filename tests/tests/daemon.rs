//! `vipd run` on real interfaces: two and three nodes on a bridge in network namespaces.
//!
//! Every wait is a generous "eventually" bound; no test asserts how fast anything happened
//! (that is the takeover benchmark's job).
use socket2::{Domain, Protocol, Socket, Type};
use std::{
    net::{IpAddr, SocketAddr},
    time::Duration,
};

use vipd_tests::{
    frames, kernel_tests_enabled,
    topology::Lan,
    vipd::{instance_config, wait_until, with_control_socket, Scratch, Vipd},
};

const VIP: &str = "192.0.2.100";
const EVENTUALLY: Duration = Duration::from_secs(15);

fn vip() -> IpAddr {
    VIP.parse().unwrap()
}

/// A VRRPv3 instance on eth0 with VRID 51 and the VIP, plus `extra` lines.
fn config(priority: u8, extra: &str) -> String {
    instance_config(priority, VIP, &format!("{extra}\n"))
}

fn assert_holders(lan: &Lan, addr: IpAddr, expected: &[usize], what: &str) {
    lan.assert_holders(addr, expected, EVENTUALLY, what);
}

#[test]
fn highest_priority_wins_and_kill9_of_the_master_moves_the_vip() {
    if !kernel_tests_enabled() {
        return;
    }
    let lan = Lan::new(2);
    let dir = Scratch::new("kill9");
    let master = Vipd::start(lan.node(1), dir.path(), "n1", &config(200, ""), &[]);
    let _backup = Vipd::start(lan.node(2), dir.path(), "n2", &config(100, ""), &[]);
    assert_holders(&lan, vip(), &[1], "election");

    master.signal(libc::SIGKILL);
    // A crashed vipd leaves its VIP on its interface, as keepalived's would; the backup takes
    // over when the adverts stop.
    lan.assert_took_over(2, vip(), EVENTUALLY);
}

#[test]
fn sigterm_resigns_with_priority_zero_and_exits_cleanly() {
    if !kernel_tests_enabled() {
        return;
    }
    let lan = Lan::new(2);
    let dir = Scratch::new("sigterm");
    // A long interval makes Master_Down_Interval (3.6 s) far longer than the Skew_Time (0.6 s)
    // that a priority-0 advert leaves the backup.
    let slow = |p| config(p, "").replace("\"100ms\"", "\"1s\"");
    let mut master = Vipd::start(lan.node(1), dir.path(), "n1", &slow(200), &[]);
    let backup = Vipd::start(lan.node(2), dir.path(), "n2", &slow(100), &[]);
    assert_holders(&lan, vip(), &[1], "election");

    master.signal(libc::SIGTERM);
    assert_eq!(
        master.wait_exit(EVENTUALLY),
        Some(Some(0)),
        "vipd must exit 0 on SIGTERM:\n{}",
        master.log()
    );
    assert!(
        !lan.has_address(1, vip()),
        "the VIP must be removed on stop"
    );
    assert_holders(&lan, vip(), &[2], "handoff");
    // The backup's own account: it took over after the resignation's Skew_Time, not after a
    // full Master_Down_Interval, so the priority-0 advert was received and honoured.
    let detection = detection_us(&backup.log()).expect("the backup logs its takeover");
    assert!(
        detection < 3_000_000,
        "takeover {detection} us after the last advert: the priority-0 advert was not used"
    );
}

/// The detection latency the daemon logged with its last takeover.
fn detection_us(log: &str) -> Option<u64> {
    log.lines()
        .rev()
        .find(|l| l.contains("reason=MasterDown"))
        .and_then(|l| l.split("detection_us=").nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}

#[test]
fn a_failing_check_moves_the_vip_and_rise_brings_it_back() {
    if !kernel_tests_enabled() {
        return;
    }
    let lan = Lan::new(2);
    let dir = Scratch::new("check");
    let flag = dir.path().join("healthy");
    std::fs::write(&flag, "").unwrap();
    let check = format!(
        "[[check]]\nname = \"app\"\ntype = \"script\"\ncommand = [\"test\", \"-e\", \"{}\"]\n\
         interval = \"100ms\"\nweight = -150\nrise = 2\nfall = 1\n",
        flag.display()
    );
    let tracked = format!("track_checks = [\"app\"]\n{check}");
    let _n1 = Vipd::start(lan.node(1), dir.path(), "n1", &config(200, &tracked), &[]);
    let _n2 = Vipd::start(lan.node(2), dir.path(), "n2", &config(100, ""), &[]);
    assert_holders(&lan, vip(), &[1], "election");

    std::fs::remove_file(&flag).unwrap();
    assert_holders(
        &lan,
        vip(),
        &[2],
        "after the check failed (priority 200 - 150 = 50)",
    );

    std::fs::write(&flag, "").unwrap();
    assert_holders(&lan, vip(), &[1], "after the check rose again");
}

/// keepalived's `enable_script_security`: a check script in a directory anyone may write, run as
/// root, is disabled and removed from the instance (which then keeps its full priority); with
/// script security off the same failing script runs and costs the instance the VIP.
#[test]
fn script_security_disables_a_check_that_anyone_could_replace() {
    if !kernel_tests_enabled() {
        return;
    }
    let lan = Lan::new(2);
    let dir = Scratch::new("scriptsec");
    let open = dir.path().join("open");
    std::fs::create_dir(&open).unwrap();
    std::fs::set_permissions(&open, std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
    let script = open.join("failing.sh");
    std::fs::write(&script, "#!/bin/sh\nexit 1\n").unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let tracked = |security: bool| {
        format!(
            "track_checks = [\"app\"]\n\
             [global]\nscript_user = \"root\"\nscript_security = {security}\n\
             [[check]]\nname = \"app\"\ntype = \"script\"\ncommand = \"{}\"\n\
             interval = \"100ms\"\nweight = -150\n",
            script.display()
        )
    };
    let mut n1 = Vipd::start(
        lan.node(1),
        dir.path(),
        "n1",
        &config(200, &tracked(true)),
        &[],
    );
    let _n2 = Vipd::start(lan.node(2), dir.path(), "n2", &config(100, ""), &[]);
    assert_holders(&lan, vip(), &[1], "the disabled check does not count");
    let log = n1.log();
    assert!(
        log.contains("disabling check `app`")
            && log.contains(&format!("{} is writable by everyone", open.display())),
        "the refusal names the check and the directory:\n{log}"
    );

    n1.signal(libc::SIGTERM);
    assert_eq!(n1.wait_exit(EVENTUALLY), Some(Some(0)));
    let n1 = Vipd::start(
        lan.node(1),
        dir.path(),
        "n1",
        &config(200, &tracked(false)),
        &[],
    );
    // "vipd running" is logged just before vipd takes over SIGHUP.
    assert!(
        wait_until(EVENTUALLY, || {
            let log = n1.log();
            log.contains("check changed check=app status=Down") && log.contains("vipd running")
        }),
        "with script security off the failing check runs:\n{}",
        n1.log()
    );
    assert_holders(
        &lan,
        vip(),
        &[2],
        "the failed check costs 150 (200 - 150 = 50)",
    );

    // A reload vets the scripts again.
    std::fs::write(
        &n1.config,
        with_control_socket(&config(200, &tracked(true)), &n1.socket),
    )
    .unwrap();
    n1.signal(libc::SIGHUP);
    assert_holders(&lan, vip(), &[1], "after a reload with script security on");
}

#[test]
fn notify_commands_run_with_keepalived_arguments() {
    if !kernel_tests_enabled() {
        return;
    }
    let lan = Lan::new(1);
    let dir = Scratch::new("notify");
    let out = dir.path().join("notified");
    let script = dir.path().join("notify.sh");
    std::fs::write(
        &script,
        format!("#!/bin/sh\necho \"$@\" >> {}\n", out.display()),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let master_flag = dir.path().join("master");
    let extra = format!(
        "notify = \"{}\"\nnotify_master = [\"touch\", \"{}\"]",
        script.display(),
        master_flag.display()
    );
    let mut node = Vipd::start(lan.node(1), dir.path(), "n1", &config(150, &extra), &[]);
    let read = || std::fs::read_to_string(&out).unwrap_or_default();
    assert!(
        wait_until(EVENTUALLY, || read().contains("INSTANCE VI_1 MASTER 150")),
        "notify got: {:?}",
        read()
    );
    assert!(
        read().starts_with("INSTANCE VI_1 BACKUP 150\n"),
        "{:?}",
        read()
    );
    assert!(master_flag.exists(), "notify_master did not run");

    node.signal(libc::SIGTERM);
    assert_eq!(node.wait_exit(EVENTUALLY), Some(Some(0)));
    assert!(
        read().ends_with("INSTANCE VI_1 STOP 150\n"),
        "STOP must be the last notification: {:?}",
        read()
    );
}

#[test]
fn a_bad_configuration_is_refused_with_line_and_column() {
    if !kernel_tests_enabled() {
        return;
    }
    let lan = Lan::new(1);
    let dir = Scratch::new("badconf");
    let mut node = Vipd::start(
        lan.node(1),
        dir.path(),
        "bad",
        &config(100, "priorty = 5"),
        &[],
    );
    assert_eq!(node.wait_exit(EVENTUALLY), Some(Some(1)));
    let log = node.log();
    assert!(
        log.contains("bad.toml:11:1: unknown key `priorty`"),
        "the error must name file, line and column:\n{log}"
    );
}

#[test]
fn a_restarted_vipd_removes_the_vips_a_killed_one_left() {
    if !kernel_tests_enabled() {
        return;
    }
    let lan = Lan::new(1);
    let dir = Scratch::new("stale");
    let first = Vipd::start(lan.node(1), dir.path(), "first", &config(150, ""), &[]);
    assert_holders(&lan, vip(), &[1], "first run");
    first.signal(libc::SIGKILL);
    drop(first);
    assert!(lan.has_address(1, vip()), "kill -9 leaves the VIP behind");
    // An address the administrator added must survive the clean-up.
    lan.node(1)
        .exec(&["ip", "addr", "add", "192.0.2.200/24", "dev", "eth0"]);

    // The new configuration no longer has that VIP.
    let other = config(150, "")
        .replace(VIP, "192.0.2.101")
        .replace("51", "52");
    let _second = Vipd::start(lan.node(1), dir.path(), "second", &other, &[]);
    assert_holders(&lan, vip(), &[], "stale VIP clean-up");
    assert_holders(&lan, "192.0.2.101".parse().unwrap(), &[1], "second run");
    assert!(lan.has_address(1, "192.0.2.200".parse().unwrap()));
}

#[test]
fn unicast_peers_elect_and_fail_over() {
    if !kernel_tests_enabled() {
        return;
    }
    let lan = Lan::new(2);
    let dir = Scratch::new("unicast");
    let unicast = |me: usize, peer: usize| {
        format!(
            "unicast_source = \"{}\"\nunicast_peers = [\"{}\"]",
            Lan::ipv4(me),
            Lan::ipv4(peer)
        )
    };
    let n1 = Vipd::start(
        lan.node(1),
        dir.path(),
        "n1",
        &config(200, &unicast(1, 2)),
        &[],
    );
    let _n2 = Vipd::start(
        lan.node(2),
        dir.path(),
        "n2",
        &config(100, &unicast(2, 1)),
        &[],
    );
    assert_holders(&lan, vip(), &[1], "election");
    n1.signal(libc::SIGTERM);
    assert_holders(&lan, vip(), &[2], "failover");
}

#[test]
fn ipv6_vips_fail_over() {
    if !kernel_tests_enabled() {
        return;
    }
    let lan = Lan::new(2);
    let dir = Scratch::new("ipv6");
    let v6 = |p| config(p, "").replace(&format!("{VIP}/24"), "2001:db8::100/64");
    let vip6: IpAddr = "2001:db8::100".parse().unwrap();
    let n1 = Vipd::start(lan.node(1), dir.path(), "n1", &v6(200), &[]);
    let _n2 = Vipd::start(lan.node(2), dir.path(), "n2", &v6(100), &[]);
    assert_holders(&lan, vip6, &[1], "election");
    n1.signal(libc::SIGKILL);
    assert!(wait_until(EVENTUALLY, || lan.has_address(2, vip6)));
}

#[test]
fn three_nodes_elect_the_highest_and_fail_over_to_the_next() {
    if !kernel_tests_enabled() {
        return;
    }
    let lan = Lan::new(3);
    let dir = Scratch::new("three");
    let n1 = Vipd::start(lan.node(1), dir.path(), "n1", &config(100, ""), &[]);
    let n2 = Vipd::start(lan.node(2), dir.path(), "n2", &config(200, ""), &[]);
    let _n3 = Vipd::start(lan.node(3), dir.path(), "n3", &config(150, ""), &[]);
    assert_holders(&lan, vip(), &[2], "election");
    n2.signal(libc::SIGTERM);
    assert_holders(&lan, vip(), &[3], "failover to the next highest");
    drop(n1);
}

#[test]
fn the_socket_dataplane_elects_and_fails_over_without_xdp() {
    if !kernel_tests_enabled() {
        return;
    }
    let lan = Lan::new(2);
    let dir = Scratch::new("socket");
    let args = ["--dataplane", "socket"];
    let n1 = Vipd::start(lan.node(1), dir.path(), "n1", &config(200, ""), &args);
    let _n2 = Vipd::start(lan.node(2), dir.path(), "n2", &config(100, ""), &args);
    assert_holders(&lan, vip(), &[1], "election");
    let xdp = lan.node(1).exec(&["ip", "link", "show", "eth0"]);
    assert!(
        !String::from_utf8_lossy(&xdp.stdout).contains("xdp"),
        "no XDP program in socket mode"
    );
    n1.signal(libc::SIGKILL);
    assert!(wait_until(EVENTUALLY, || lan.has_address(2, vip())));
}

#[test]
fn sighup_reload_keeps_the_master_and_refuses_a_bad_configuration() {
    if !kernel_tests_enabled() {
        return;
    }
    let lan = Lan::new(2);
    let dir = Scratch::new("reload");
    let n1 = Vipd::start(lan.node(1), dir.path(), "n1", &config(200, ""), &[]);
    let _n2 = Vipd::start(lan.node(2), dir.path(), "n2", &config(100, ""), &[]);
    assert_holders(&lan, vip(), &[1], "election");

    // Same identity (eth0, VRID 51, IPv4), one more VIP.
    let second: IpAddr = "192.0.2.101".parse().unwrap();
    let grown = config(200, "").replace(
        &format!("[\"{VIP}/24\"]"),
        &format!("[\"{VIP}/24\", \"{second}/24\"]"),
    );
    std::fs::write(&n1.config, with_control_socket(&grown, &n1.socket)).unwrap();
    n1.signal(libc::SIGHUP);
    assert_holders(&lan, second, &[1], "the reloaded master adds the new VIP");
    // Watch for a while: the master never lets go.
    for _ in 0..50 {
        assert_eq!(lan.holders(vip()), vec![1], "the master changed on reload");
        std::thread::sleep(Duration::from_millis(20));
    }

    let bad = config(200, "priorty = 1");
    std::fs::write(&n1.config, with_control_socket(&bad, &n1.socket)).unwrap();
    n1.signal(libc::SIGHUP);
    assert!(
        wait_until(EVENTUALLY, || n1.log().contains("reload refused")),
        "{}",
        n1.log()
    );
    // Line 8 of the instance, after the three lines of [global] the kit adds.
    assert!(n1.log().contains("n1.toml:11:1: unknown key `priorty`"));
    assert_eq!(
        lan.holders(vip()),
        vec![1],
        "a refused reload changes nothing"
    );
    assert_eq!(lan.holders(second), vec![1]);
}

/// The MAC address of `interface` in node `n`.
fn mac_of(lan: &Lan, n: usize, interface: &str) -> String {
    let out = lan
        .node(n)
        .exec(&["cat", &format!("/sys/class/net/{interface}/address")]);
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// The client's neighbour entry for `addr`, as `ip neigh` prints its link-layer address.
fn neighbour_mac(lan: &Lan, n: usize, addr: IpAddr) -> Option<String> {
    let out = lan
        .node(n)
        .exec(&["ip", "neigh", "show", &addr.to_string(), "dev", "eth0"]);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    text.split("lladdr ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .map(str::to_string)
}

#[test]
fn gratuitous_arp_repoints_the_clients_after_a_takeover() {
    if !kernel_tests_enabled() {
        return;
    }
    let lan = Lan::new(3);
    let dir = Scratch::new("garp");
    let client = 3;
    let n1 = Vipd::start(lan.node(1), dir.path(), "n1", &config(200, ""), &[]);
    let _n2 = Vipd::start(lan.node(2), dir.path(), "n2", &config(100, ""), &[]);
    assert_holders(&lan, vip(), &[1], "election");
    lan.node(client).exec(&["ping", "-c", "1", "-W", "2", VIP]);
    assert_eq!(
        neighbour_mac(&lan, client, vip()),
        Some(mac_of(&lan, 1, "eth0"))
    );

    n1.signal(libc::SIGKILL);
    let new_master = mac_of(&lan, 2, "eth0");
    assert!(
        wait_until(EVENTUALLY, || neighbour_mac(&lan, client, vip()).as_ref()
            == Some(&new_master)),
        "the client still sends to {:?}, not the new master {new_master}",
        neighbour_mac(&lan, client, vip())
    );
}

/// Sends a VRRPv3 advert from node `n` the way a router would (raw IP socket, TTL 255, to
/// 224.0.0.18 on eth0).
fn send_advert_from(lan: &Lan, n: usize, advert: &frames::Advert) {
    let source = Lan::ipv4(n);
    let message = advert.message_v4(source, frames::VRRP_MCAST_V4);
    lan.node(n).run(|| {
        let socket = Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::from(112)))
            .expect("raw VRRP socket");
        socket.bind_device(Some(b"eth0")).expect("SO_BINDTODEVICE");
        socket.set_multicast_ttl_v4(255).expect("multicast TTL");
        let to = SocketAddr::new(frames::VRRP_MCAST_V4.into(), 0);
        socket.send_to(&message, &to.into()).expect("send advert");
    });
}

/// A false takeover elsewhere (a backup whose adverts from the master were held up) shows the
/// master as a lower-priority advert, and its gratuitous ARPs have pointed the clients at the
/// false master. The master announces the VIP again, so the clients come back to it.
#[test]
fn a_lower_priority_claim_makes_the_master_announce_again() {
    if !kernel_tests_enabled() {
        return;
    }
    let lan = Lan::new(3);
    let dir = Scratch::new("claim");
    let (claimant, client) = (2, 3);
    // No second burst after becoming master: only the claim may re-point the client.
    let master = Vipd::start(
        lan.node(1),
        dir.path(),
        "n1",
        &config(200, "garp_master_delay = \"0s\""),
        &[],
    );
    assert_holders(&lan, vip(), &[1], "election");
    lan.node(client).exec(&["ping", "-c", "1", "-W", "2", VIP]);
    let master_mac = mac_of(&lan, 1, "eth0");
    // Where the false master's gratuitous ARP pointed the client.
    lan.node(client).exec(&[
        "ip",
        "neigh",
        "replace",
        VIP,
        "lladdr",
        "02:00:00:00:00:99",
        "dev",
        "eth0",
        "nud",
        "stale",
    ]);
    assert_eq!(
        neighbour_mac(&lan, client, vip()).as_deref(),
        Some("02:00:00:00:00:99")
    );
    let claim = frames::Advert::v3(51, 50, 10);
    // The kernel ignores a gratuitous ARP within a second (locktime) of the entry's last
    // update, so the claim is repeated, each after more than a Master_Down_Interval of
    // silence: each repetition is a claim of its own.
    let repointed = wait_until(EVENTUALLY, || {
        send_advert_from(&lan, claimant, &claim);
        std::thread::sleep(Duration::from_millis(1200));
        neighbour_mac(&lan, client, vip()).as_ref() == Some(&master_mac)
    });
    assert!(
        repointed,
        "the client still sends to {:?}, not the master {master_mac}",
        neighbour_mac(&lan, client, vip())
    );
    assert_holders(&lan, vip(), &[1], "after the claim");
    let status = std::process::Command::new(vipd_tests::vipd::binary())
        .args(["status", "--json", "--socket"])
        .arg(&master.socket)
        .output()
        .expect("vipd status");
    let json: serde_json::Value = serde_json::from_slice(&status.stdout).expect("status --json");
    let claims = json["instances"][0]["lower_priority_claims"].as_u64();
    assert!(
        claims.is_some_and(|n| n >= 1),
        "the claims are not counted: {json}"
    );
}

#[test]
fn use_vmac_puts_the_vip_on_a_virtual_mac_interface_and_removes_it_on_stop() {
    if !kernel_tests_enabled() {
        return;
    }
    let lan = Lan::new(1);
    let dir = Scratch::new("vmac");
    let mut node = Vipd::start(
        lan.node(1),
        dir.path(),
        "n1",
        &config(150, "use_vmac = true"),
        &["--log-format", "json"],
    );
    assert_holders(&lan, vip(), &[1], "election");
    assert_eq!(mac_of(&lan, 1, "vrrp.51"), "00:00:5e:00:01:33");
    let on_vmac = lan
        .node(1)
        .exec(&["ip", "-o", "addr", "show", "dev", "vrrp.51"]);
    assert!(String::from_utf8_lossy(&on_vmac.stdout).contains(VIP));

    node.signal(libc::SIGTERM);
    assert_eq!(node.wait_exit(EVENTUALLY), Some(Some(0)));
    let links = lan.node(1).exec(&["ip", "-o", "link", "show"]);
    assert!(
        !String::from_utf8_lossy(&links.stdout).contains("vrrp.51"),
        "the virtual MAC interface must be removed on stop"
    );
    let log = node.log();
    assert!(
        log.lines().all(|line| line.starts_with('{')),
        "--log-format json writes JSON lines only:\n{log}"
    );
}

#[test]
fn status_and_metrics_show_the_instance() {
    if !kernel_tests_enabled() {
        return;
    }
    let lan = Lan::new(1);
    let dir = Scratch::new("status");
    let metrics = "[global]\nmetrics_listen = \"127.0.0.1:9816\"\n";
    let node = Vipd::start(
        lan.node(1),
        dir.path(),
        "n1",
        &format!("{metrics}{}", config(150, "")),
        &[],
    );
    assert_holders(&lan, vip(), &[1], "election");
    let status = |json: bool| {
        let mut cmd = std::process::Command::new(vipd_tests::vipd::binary());
        cmd.arg("status").arg("--socket").arg(&node.socket);
        if json {
            cmd.arg("--json");
        }
        let out = cmd.output().expect("vipd status");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    assert!(
        wait_until(EVENTUALLY, || status(false).contains("MASTER")),
        "{}",
        status(false)
    );
    let table = status(false);
    assert!(table.contains("VI_1") && table.contains("eth0"), "{table}");
    let json: serde_json::Value = serde_json::from_str(&status(true)).expect("status --json");
    assert!(json.to_string().contains("\"VI_1\""), "{json}");

    let scrape = |path: &str| {
        lan.node(1).run(|| {
            use std::io::{Read, Write};
            let mut stream = std::net::TcpStream::connect("127.0.0.1:9816").expect("metrics");
            write!(
                stream,
                "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            )
            .unwrap();
            let mut text = String::new();
            stream.read_to_string(&mut text).unwrap();
            text
        })
    };
    let metrics = scrape("/metrics");
    assert!(metrics.contains("vipd_instance_state"), "{metrics}");
    assert!(
        metrics.contains("vipd_detection_latency_seconds"),
        "{metrics}"
    );
    assert!(scrape("/healthz").starts_with("HTTP/1.1 200"), "healthz");
}

#[test]
fn a_sync_group_fails_together_and_notifies_as_a_group() {
    if !kernel_tests_enabled() {
        return;
    }
    let lan = Lan::new(1);
    let node = lan.node(1);
    // A second network: a veth pair inside the node (this kernel has no dummy interfaces).
    node.exec(&[
        "ip", "link", "add", "eth1", "type", "veth", "peer", "name", "eth1p",
    ]);
    node.exec(&["ip", "link", "set", "eth1p", "up"]);
    node.exec(&["ip", "link", "set", "eth1", "up"]);
    node.exec(&["ip", "addr", "add", "198.51.100.1/24", "dev", "eth1"]);
    let dir = Scratch::new("sync");
    let out = dir.path().join("group");
    let outside: IpAddr = "198.51.100.100".parse().unwrap();
    let config = format!(
        "{}\n[[instance]]\nname = \"VI_2\"\ninterface = \"eth1\"\nvrid = 52\npriority = 150\n\
         advert_interval = \"100ms\"\nvips = [\"{outside}/24\"]\n\n\
         [[sync_group]]\nname = \"router\"\ninstances = [\"VI_1\", \"VI_2\"]\n\
         notify = [\"sh\", \"-c\", \"echo \\\"$*\\\" >> {}\", \"notify\"]\n",
        config(150, ""),
        out.display()
    );
    let _vipd = Vipd::start(node, dir.path(), "n1", &config, &[]);
    assert_holders(&lan, vip(), &[1], "inside");
    assert_holders(&lan, outside, &[1], "outside");

    node.exec(&["ip", "link", "set", "eth1", "down"]);
    assert_holders(
        &lan,
        vip(),
        &[],
        "the inside VIP must follow the outside fault",
    );
    let read = || std::fs::read_to_string(&out).unwrap_or_default();
    assert!(
        wait_until(EVENTUALLY, || read().contains("GROUP router FAULT 0")),
        "{:?}",
        read()
    );

    node.exec(&["ip", "link", "set", "eth1", "up"]);
    assert_holders(&lan, vip(), &[1], "back after the fault cleared");
    assert!(
        wait_until(EVENTUALLY, || read().ends_with(
            "GROUP router FAULT 0\nGROUP router BACKUP 0\nGROUP router MASTER 0\n"
        )),
        "{:?}",
        read()
    );
}
