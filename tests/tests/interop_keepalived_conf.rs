//! `vipd run --keepalived-conf` on real keepalived.conf files: a generated one, a templated one
//! run with `--config-id`, and each fixture of agent/tests/fixtures/keepalived-conf (what
//! keepalived users publish and copy) adapted to a namespace's interface and addresses, brings
//! up its VIPs; two fixtures run beside the real keepalived they replace (one over
//! `auth_type AH`); OpenShift ipfailover's monitor-port check moves its VIPs.
use std::{
    fs,
    net::{IpAddr, TcpListener},
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
    process::{Child, Command},
    time::Duration,
};

use vipd_tests::{
    keepalived::{Keepalived, Member},
    kernel_tests_enabled,
    netns::Netns,
    topology::Lan,
    vipd::{wait_until, Scratch},
};

const EVENTUALLY: Duration = Duration::from_secs(30);

fn addr(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../agent/tests/fixtures/keepalived-conf")
}

/// Copies fixture `name` (a file, or a directory for the include fixture) into `dir` with every
/// `(from, to)` replacement applied to each file, and returns the copy's path.
fn adapted(dir: &Path, name: &str, replacements: &[(&str, &str)]) -> PathBuf {
    fn copy(from: &Path, to: &Path, replacements: &[(&str, &str)]) {
        if from.is_dir() {
            fs::create_dir_all(to).unwrap();
            for entry in fs::read_dir(from).unwrap() {
                let entry = entry.unwrap();
                copy(&entry.path(), &to.join(entry.file_name()), replacements);
            }
        } else {
            let mut text = fs::read_to_string(from).unwrap();
            for (old, new) in replacements {
                text = text.replace(old, new);
            }
            fs::write(to, text).unwrap();
        }
    }
    let to = dir.join(name);
    copy(&fixture_dir().join(name), &to, replacements);
    to
}

/// `vipd run --keepalived-conf FILE` in a namespace, killed on drop. keepalived.conf has no
/// control socket setting: it gets its own through a private /run, so concurrent tests do not
/// meet at /run/vipd/vipd.sock.
struct VipdOnKeepalivedConf {
    child: Child,
    log: PathBuf,
}

impl VipdOnKeepalivedConf {
    fn start(ns: &Netns, conf: &Path) -> Self {
        Self::start_with(ns, conf, "")
    }

    /// [`VipdOnKeepalivedConf::start`] with more options for `vipd run` (shell words).
    fn start_with(ns: &Netns, conf: &Path, options: &str) -> Self {
        let log = conf.with_extension("vipd.log");
        let out = fs::File::create(&log).unwrap();
        let child = Command::new("ip")
            .args(["netns", "exec", ns.name()])
            .args(["unshare", "--mount", "sh", "-c"])
            .arg(format!(
                "mount -t tmpfs tmpfs /run && exec {} run --keepalived-conf {} {options}",
                vipd_tests::vipd::binary().display(),
                conf.display()
            ))
            .env("RUST_LOG", "info")
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap();
        Self { child, log }
    }

    fn log(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for VipdOnKeepalivedConf {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("--- vipd log {} ---\n{}", self.log.display(), self.log());
        }
    }
}

/// Asserts that node `n` eventually has every address in `addrs`.
fn assert_brings_up(lan: &Lan, n: usize, vipd: &VipdOnKeepalivedConf, addrs: &[&str]) {
    for wanted in addrs {
        assert!(
            wait_until(EVENTUALLY, || lan.has_address(n, addr(wanted))),
            "{wanted} never came up on node {n}:\n{}",
            vipd.log()
        );
    }
}

#[test]
fn vipd_runs_a_generated_keepalived_conf() {
    if !kernel_tests_enabled() {
        return;
    }
    let lan = Lan::new(1);
    let dir = Scratch::new("kaconf-generated");
    let conf = dir.path().join("keepalived.conf");
    fs::write(&conf, Member::v3(150).keepalived_conf()).unwrap();
    let vipd = VipdOnKeepalivedConf::start(lan.node(1), &conf);
    assert_brings_up(&lan, 1, &vipd, &["192.0.2.100"]);
}

/// One keepalived.conf for two hosts (`@ID` lines, a multi-line definition, a `~SEQ`), run with
/// `--config-id lb1`: the node brings up the VIPs lb1's lines give it and not lb2's.
#[test]
fn a_templated_conf_runs_what_its_config_id_selects() {
    if !kernel_tests_enabled() {
        return;
    }
    let lan = Lan::new(1);
    let dir = Scratch::new("kaconf-template");
    let conf = dir.path().join("keepalived.conf");
    let text = "\
@lb1 $NET=192.0.2
@lb2 $NET=198.51.100
$VIPS= \\
virtual_ipaddress { \\
    ~SEQ(HOST, 101, 102) ${NET}.${HOST}/24 \\
}

vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    @lb1 priority 150
    @^lb1 priority 50
    version 3
    advert_int 0.1
    $VIPS
}
";
    fs::write(&conf, text).unwrap();
    let vipd = VipdOnKeepalivedConf::start_with(lan.node(1), &conf, "--config-id lb1");
    assert_brings_up(&lan, 1, &vipd, &["192.0.2.101", "192.0.2.102"]);
    assert!(
        !lan.has_address(1, addr("198.51.100.101")),
        "lb2's VIP came up on lb1:\n{}",
        vipd.log()
    );
}

#[test]
fn minimal_master_conf_under_vipd_wins_over_minimal_backup_conf_under_keepalived() {
    if !kernel_tests_enabled() {
        return;
    }
    let lan = Lan::new(2);
    let dir = Scratch::new("kaconf-minimal");
    let to_lab = [("192.168.1.250", "192.0.2.250")];
    let master = adapted(dir.path(), "minimal-master.conf", &to_lab);
    let backup = adapted(dir.path(), "minimal-backup.conf", &to_lab);
    let keepalived = Keepalived::start(
        lan.node(2),
        dir.path(),
        "ka-backup",
        &fs::read_to_string(backup).unwrap(),
    );
    let vipd = VipdOnKeepalivedConf::start(lan.node(1), &master);
    let vip = addr("192.0.2.250");
    assert!(
        wait_until(EVENTUALLY, || lan.holders(vip) == [1]
            && keepalived.log().contains("Entering BACKUP STATE")),
        "vipd (minimal-master.conf, 150) must hold the VIP with keepalived (minimal-backup.conf) \
         as backup: holders {:?}\n{}",
        lan.holders(vip),
        vipd.log()
    );

    drop(vipd);
    assert!(
        wait_until(EVENTUALLY, || lan.has_address(2, vip)),
        "keepalived (minimal-backup.conf) must take over"
    );
}

#[test]
fn minimal_backup_conf_alone_becomes_master() {
    if !kernel_tests_enabled() {
        return;
    }
    let lan = Lan::new(1);
    let dir = Scratch::new("kaconf-backup");
    let conf = adapted(
        dir.path(),
        "minimal-backup.conf",
        &[("192.168.1.250", "192.0.2.250")],
    );
    let vipd = VipdOnKeepalivedConf::start(lan.node(1), &conf);
    assert_brings_up(&lan, 1, &vipd, &["192.0.2.250"]);
}

#[test]
fn kubeadm_apiserver_conf_brings_up_its_vip_with_a_passing_check_script() {
    if !kernel_tests_enabled() {
        return;
    }
    let lan = Lan::new(1);
    let dir = Scratch::new("kaconf-kubeadm");
    // The check records who ran it, in a file its user may write.
    let ran = dir.path().join("ran-as");
    fs::write(&ran, "").unwrap();
    fs::set_permissions(&ran, fs::Permissions::from_mode(0o666)).unwrap();
    let script = dir.path().join("check_apiserver.sh");
    fs::write(
        &script,
        format!("#!/bin/sh\nid -un >> {}\nexit 0\n", ran.display()),
    )
    .unwrap();
    fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
    let conf = adapted(
        dir.path(),
        "kubeadm-apiserver.conf",
        &[
            (
                "/etc/keepalived/check_apiserver.sh",
                script.to_str().unwrap(),
            ),
            // The guide's script user does not exist here.
            ("script_user keepalived_script", "script_user nobody"),
        ],
    );
    let vipd = VipdOnKeepalivedConf::start(lan.node(1), &conf);
    assert_brings_up(&lan, 1, &vipd, &["192.0.2.100"]);
    assert!(
        wait_until(EVENTUALLY, || fs::read_to_string(&ran)
            .unwrap_or_default()
            .starts_with("nobody\n")),
        "the check script must run as the script_user: {:?}\n{}",
        fs::read_to_string(&ran),
        vipd.log()
    );
}

#[test]
fn unicast_cloud_conf_brings_up_its_labelled_vip() {
    if !kernel_tests_enabled() {
        return;
    }
    let lan = Lan::new(1);
    let dir = Scratch::new("kaconf-unicast");
    let conf = adapted(
        dir.path(),
        "unicast-cloud.conf",
        &[
            ("ens5", "eth0"),
            ("10.20.1.11", "192.0.2.1"),
            ("10.20.1.12", "192.0.2.2"),
            ("10.20.1.13", "192.0.2.3"),
            ("10.20.1.100", "192.0.2.100"),
            ("10.20.1.255", "192.0.2.255"),
        ],
    );
    let vipd = VipdOnKeepalivedConf::start(lan.node(1), &conf);
    assert_brings_up(&lan, 1, &vipd, &["192.0.2.100"]);
    let out = lan
        .node(1)
        .exec(&["ip", "-o", "addr", "show", "label", "eth0:vip"]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("192.0.2.100/24 brd 192.0.2.255"),
        "the VIP must carry its label and broadcast: {}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn included_conf_brings_up_both_instances_of_its_sync_group() {
    if !kernel_tests_enabled() {
        return;
    }
    let lan = Lan::new(1);
    let dir = Scratch::new("kaconf-include");
    let maintenance = dir.path().join("maintenance");
    fs::write(&maintenance, "0\n").unwrap();
    let tree = adapted(
        dir.path(),
        "include",
        &[
            ("eth1", "eth0"),
            ("/run/keepalived/maintenance", maintenance.to_str().unwrap()),
        ],
    );
    let vipd = VipdOnKeepalivedConf::start(lan.node(1), &tree.join("keepalived.conf"));
    assert_brings_up(
        &lan,
        1,
        &vipd,
        &["203.0.113.21", "203.0.113.22", "2001:db8::22"],
    );
    let out = lan
        .node(1)
        .exec(&["ip", "-o", "addr", "show", "dev", "vrrp.22"]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("203.0.113.22/24"),
        "db's VIP belongs on its use_vmac interface vrrp.22: {}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn unsupported_sections_are_skipped_and_the_vrrp_part_runs() {
    if !kernel_tests_enabled() {
        return;
    }
    let lan = Lan::new(1);
    let dir = Scratch::new("kaconf-unsupported");
    let conf = adapted(dir.path(), "unsupported-sections.conf", &[]);
    let vipd = VipdOnKeepalivedConf::start(lan.node(1), &conf);
    assert_brings_up(&lan, 1, &vipd, &["192.0.2.70"]);
    assert!(
        !lan.has_address(1, addr("10.9.9.9")),
        "static_ipaddress is not vipd's to run"
    );
}

/// keepalived's SSL_GET sample shape: `auth_type AH` and an LVS virtual server. The whole file
/// runs under vipd (the virtual server skipped), and keepalived running the same file with a
/// lower priority follows it over AH, then takes over.
#[test]
fn lvs_ssl_get_ah_conf_runs_its_ah_instance_beside_keepalived() {
    if !kernel_tests_enabled() {
        return;
    }
    let lan = Lan::new(2);
    let dir = Scratch::new("kaconf-ssl-get-ah");
    let conf = adapted(dir.path(), "lvs-ssl-get-ah.conf", &[]);
    let lower = fs::read_to_string(&conf)
        .unwrap()
        .replace("state MASTER", "state BACKUP")
        .replace("priority 100", "priority 50")
        .replace("lvs-ssl-1", "lvs-ssl-2");
    let keepalived = Keepalived::start(lan.node(2), dir.path(), "ka-ssl", &lower);
    let vipd = VipdOnKeepalivedConf::start(lan.node(1), &conf);
    let vip = addr("192.0.2.61");
    assert!(
        wait_until(EVENTUALLY, || lan.holders(vip) == [1]
            && keepalived.log().contains("Entering BACKUP STATE")),
        "vipd (lvs-ssl-get-ah.conf, 100) must hold the VIP with keepalived (50) as backup: \
         holders {:?}\n{}\n{}",
        lan.holders(vip),
        vipd.log(),
        keepalived.log()
    );
    assert!(
        !keepalived.log().contains("IPSEC"),
        "keepalived refused a vipd advert:\n{}",
        keepalived.log()
    );

    drop(vipd);
    assert!(
        wait_until(EVENTUALLY, || lan.has_address(2, vip)),
        "keepalived must take over:\n{}",
        keepalived.log()
    );
}

/// OpenShift ipfailover: the monitor-port check (`script "</dev/tcp/IP/PORT"`) runs as a TCP
/// check; with weight 0 a refused port puts the instance in FAULT, which removes the VIPs.
#[test]
fn openshift_ipfailover_conf_follows_its_monitor_port() {
    if !kernel_tests_enabled() {
        return;
    }
    let lan = Lan::new(1);
    let dir = Scratch::new("kaconf-openshift");
    let node = lan.node(1);
    // The monitored router, here a listener on the node's own address.
    let listen =
        || node.run(|| TcpListener::bind("192.0.2.1:1936").expect("bind the monitored port"));
    let router = listen();
    let conf = adapted(
        dir.path(),
        "openshift-ipfailover.conf",
        &[("198.51.100.7", "192.0.2.1")],
    );
    let vipd = VipdOnKeepalivedConf::start(node, &conf);
    let vips = ["198.51.100.200", "198.51.100.201"];
    assert_brings_up(&lan, 1, &vipd, &vips);

    drop(router);
    assert!(
        wait_until(EVENTUALLY, || vips
            .iter()
            .all(|v| !lan.has_address(1, addr(v)))),
        "with the monitor port closed the VIPs must go:\n{}",
        vipd.log()
    );

    let _router = listen();
    assert_brings_up(&lan, 1, &vipd, &vips);
}

/// ipfailover's monitor port 0 means "no check": the VIPs come up and stay with nothing
/// listening anywhere.
#[test]
fn openshift_ipfailover_conf_with_monitor_port_zero_checks_nothing() {
    if !kernel_tests_enabled() {
        return;
    }
    let lan = Lan::new(1);
    let dir = Scratch::new("kaconf-openshift-0");
    let conf = adapted(
        dir.path(),
        "openshift-ipfailover.conf",
        &[("198.51.100.7/1936", "192.0.2.1/0")],
    );
    let vipd = VipdOnKeepalivedConf::start(lan.node(1), &conf);
    let vips = ["198.51.100.200", "198.51.100.201"];
    assert_brings_up(&lan, 1, &vipd, &vips);
    // Longer than a failing check of this file (interval 2 s, fall 3) needs to drop them.
    std::thread::sleep(Duration::from_secs(10));
    assert!(
        vips.iter().all(|v| lan.has_address(1, addr(v))),
        "no check means nothing may take the VIPs away:\n{}",
        vipd.log()
    );
}
