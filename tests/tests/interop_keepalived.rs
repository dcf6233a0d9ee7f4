//! vipd and keepalived (the Debian package) in one VRRP group, and vipd running a
//! keepalived.conf: what users switching over rely on.
use std::{
    net::IpAddr,
    path::Path,
    process::{Child, Command, Stdio},
    time::Duration,
};

use vipd_tests::{
    kernel_tests_enabled,
    netns::Netns,
    topology::Lan,
    vipd::{wait_until, Scratch, Vipd},
};

const VIP: &str = "192.0.2.100";
const EVENTUALLY: Duration = Duration::from_secs(20);

fn vip() -> IpAddr {
    VIP.parse().unwrap()
}

/// keepalived.conf for a VRRPv3 instance on eth0, VRID 51, 100 ms adverts.
fn keepalived_conf(priority: u8) -> String {
    format!(
        "global_defs {{\n  router_id n{priority}\n  vrrp_version 3\n}}\n\
         vrrp_instance VI_1 {{\n  state BACKUP\n  interface eth0\n  virtual_router_id 51\n  \
         priority {priority}\n  advert_int 0.1\n  virtual_ipaddress {{\n    {VIP}/24\n  }}\n}}\n"
    )
}

/// keepalived running in `ns`, killed on drop.
struct Keepalived(Child);

impl Keepalived {
    fn start(ns: &Netns, dir: &Path, priority: u8) -> Self {
        let conf = dir.join(format!("keepalived-{priority}.conf"));
        std::fs::write(&conf, keepalived_conf(priority)).unwrap();
        let stem = dir.join(format!("keepalived-{priority}"));
        let child = Command::new("ip")
            .args(["netns", "exec", ns.name(), "keepalived"])
            .args([
                "--dont-fork",
                "--vrrp",
                "--no-syslog",
                "--dont-respawn",
                "--use-file",
            ])
            .arg(&conf)
            .arg(format!("--pid={}.pid", stem.display()))
            .arg(format!("--vrrp_pid={}.vrrp.pid", stem.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start keepalived (scripts/bootstrap.sh installs it)");
        Self(child)
    }
}

impl Drop for Keepalived {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn vipd_conf(priority: u8) -> String {
    format!(
        "[[instance]]\nname = \"VI_1\"\ninterface = \"eth0\"\nvrid = 51\npriority = {priority}\n\
         advert_interval = \"100ms\"\nvips = [\"{VIP}/24\"]\n"
    )
}

fn holders_are(lan: &Lan, expected: &[usize]) -> bool {
    wait_until(EVENTUALLY, || lan.holders(vip()) == expected)
}

#[test]
fn vipd_master_hands_over_to_a_keepalived_backup() {
    if !kernel_tests_enabled() {
        return;
    }
    let lan = Lan::new(2);
    let dir = Scratch::new("ka-backup");
    let _keepalived = Keepalived::start(lan.node(1), dir.path(), 100);
    let vipd = Vipd::start(lan.node(2), dir.path(), "vipd", &vipd_conf(200), &[]);
    assert!(
        holders_are(&lan, &[2]),
        "vipd (200) must win: {:?}",
        lan.holders(vip())
    );

    vipd.signal(libc::SIGTERM);
    assert!(
        holders_are(&lan, &[1]),
        "keepalived must take over after vipd's priority-0 advert: {:?}",
        lan.holders(vip())
    );
}

#[test]
fn vipd_backup_takes_over_from_a_killed_keepalived_master() {
    if !kernel_tests_enabled() {
        return;
    }
    let lan = Lan::new(2);
    let dir = Scratch::new("ka-master");
    let keepalived = Keepalived::start(lan.node(1), dir.path(), 200);
    let vipd = Vipd::start(lan.node(2), dir.path(), "vipd", &vipd_conf(100), &[]);
    assert!(
        holders_are(&lan, &[1]),
        "keepalived (200) must win: {:?}",
        lan.holders(vip())
    );
    // vipd follows keepalived's adverts: it stays backup.
    std::thread::sleep(Duration::from_millis(500));
    assert!(!lan.has_address(2, vip()), "{}", vipd.log());

    // A crash: keepalived's parent and its VRRP child die at once.
    drop(keepalived);
    let out = lan
        .node(1)
        .exec(&["ip", "netns", "pids", lan.node(1).name()]);
    for pid in String::from_utf8_lossy(&out.stdout).split_whitespace() {
        if let Ok(pid) = pid.parse::<i32>() {
            // SAFETY: kill has no memory-safety preconditions.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    }
    assert!(
        wait_until(EVENTUALLY, || lan.has_address(2, vip())),
        "vipd must take over: {}",
        vipd.log()
    );
}

#[test]
fn vipd_runs_a_keepalived_conf() {
    if !kernel_tests_enabled() {
        return;
    }
    let lan = Lan::new(1);
    let dir = Scratch::new("ka-conf");
    let conf = dir.path().join("keepalived.conf");
    std::fs::write(&conf, keepalived_conf(150)).unwrap();
    let log = dir.path().join("vipd.log");
    let out = std::fs::File::create(&log).unwrap();
    // keepalived.conf has no control socket setting: give the test its own through a
    // namespace-private /run, so concurrent tests do not meet at /run/vipd/vipd.sock.
    let mut child = Command::new("ip")
        .args(["netns", "exec", lan.node(1).name()])
        .args(["unshare", "--mount", "sh", "-c"])
        .arg(format!(
            "mount -t tmpfs tmpfs /run && exec {} run --keepalived-conf {}",
            vipd_tests::vipd::binary().display(),
            conf.display()
        ))
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .unwrap();
    let held = wait_until(EVENTUALLY, || lan.has_address(1, vip()));
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        held,
        "{}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
}
