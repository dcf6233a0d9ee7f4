//! FRR's vrrpd (the Debian package, 8.4) as a peer under test: `zebra` and `vrrpd` started in a
//! node's namespace as an FRR instance of their own (`-N`), configured through `vtysh`, and
//! killed, with their run directory removed, when dropped.
//!
//! vrrpd does not add or remove the VIPs: it expects a macvlan on the VRRP interface with the
//! virtual MAC and the VIPs already on it, and holds that macvlan in `protodown` while it is
//! backup. [`Frr::start`] builds that macvlan, so a test states the group once as a
//! [`Member`] and the FRR node gets the same one as the vipd and keepalived nodes.
//!
//! vrrpd needs zebra (it learns the interfaces and sets `protodown` through it), so both run;
//! a graceful stop is SIGTERM to vrrpd (a master sends a priority-0 advert), a crash is SIGKILL
//! to both, which leaves the VIP up on the macvlan as a dead host would.
use std::{
    fs,
    os::unix::fs::{chown, MetadataExt},
    path::{Path, PathBuf},
    process::Command,
    time::Duration,
};

use crate::{keepalived::Member, netns::Netns, vipd::wait_until};

/// Where FRR puts the pid files and vty sockets of instance `NAME`: `/var/run/frr/NAME/`.
const RUN_DIR: &str = "/var/run/frr";

/// The daemons of one FRR VRRP instance, in start order.
const VRRP_DAEMONS: &[&str] = &["zebra", "vrrpd"];
/// The daemons of one FRR BFD instance, in start order (bfdd learns interfaces from zebra).
const BFD_DAEMONS: &[&str] = &["zebra", "bfdd"];

/// One FRR instance (zebra with vrrpd or bfdd) running daemonized in a namespace.
pub struct Frr {
    /// The namespace's name, which is also the FRR instance name (`-N`): concurrent tests
    /// never share one.
    name: String,
    run_dir: PathBuf,
    /// The daemons it runs, in start order.
    daemons: &'static [&'static str],
    /// Each daemon's log file, in `daemons` order.
    logs: Vec<PathBuf>,
}

impl Frr {
    /// Prepares `ns` for vrrpd as `member` needs it (the macvlan with the virtual MAC and the
    /// VIP, the ARP sysctls), starts zebra and vrrpd there with their logs in `dir`, and
    /// configures `member` as VRID 51 on `eth0`.
    pub fn start(ns: &Netns, dir: &Path, member: &Member) -> Self {
        assert!(
            member.password.is_none() && member.unicast.is_none(),
            "FRR 8.4's vrrpd has no authentication and no unicast"
        );
        prepare_interface(ns, member);
        let frr = Self::start_daemons(ns, dir, VRRP_DAEMONS);
        frr.configure(&member.frr_commands());
        frr
    }

    /// Starts zebra and bfdd in `ns` with their logs in `dir`; the caller configures peers
    /// with [`Frr::vtysh`].
    pub fn start_bfd(ns: &Netns, dir: &Path) -> Self {
        Self::start_daemons(ns, dir, BFD_DAEMONS)
    }

    fn start_daemons(ns: &Netns, dir: &Path, daemons: &'static [&'static str]) -> Self {
        let frr_user = user_ids("frr");
        let run_dir = Path::new(RUN_DIR).join(ns.name());
        // The daemons drop to frr:frr before they write there; /var/run is a tmpfs, so the
        // parent may be gone after a reboot on a machine without FRR's own service.
        for path in [Path::new(RUN_DIR), &run_dir] {
            fs::create_dir_all(path).expect("FRR run directory");
            chown(path, Some(frr_user.0), Some(frr_user.1)).expect("chown the FRR run directory");
        }
        let mut frr = Self {
            name: ns.name().to_string(),
            run_dir,
            daemons,
            logs: Vec::new(),
        };
        for daemon in daemons {
            let log = dir.join(format!("{}-{daemon}.log", frr.name));
            // Written by the daemon after it dropped to frr, so it must exist and be frr's.
            fs::write(&log, "").expect("FRR log file");
            chown(&log, Some(frr_user.0), Some(frr_user.1)).expect("chown the FRR log");
            let conf = dir.join(format!("{}-{daemon}.conf", frr.name));
            fs::write(&conf, format!("log file {} debugging\n", log.display()))
                .expect("FRR configuration");
            frr.logs.push(log);
            // With `-d` the starting process returns only once the daemon has written its pid
            // file and listens on its vty socket, so vtysh can configure it at once; `-A
            // 127.0.0.1 -P 0` keeps it off TCP (vtysh uses the socket).
            let out = Command::new("ip")
                .args(["netns", "exec", ns.name()])
                .arg(format!("/usr/lib/frr/{daemon}"))
                .args(["-d", "-N", &frr.name, "-A", "127.0.0.1", "-P", "0"])
                .args(["-u", "frr", "-g", "frr", "-f"])
                .arg(&conf)
                .output()
                .unwrap_or_else(|e| {
                    panic!("start {daemon} (scripts/bootstrap.sh installs frr): {e}")
                });
            assert!(
                out.status.success(),
                "{daemon} did not start: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        frr
    }

    /// Runs `commands` in vtysh's configuration mode, on `eth0`'s interface node.
    pub fn configure(&self, commands: &[String]) {
        let mut args = vec!["conf t".to_string(), "interface eth0".to_string()];
        args.extend(commands.iter().cloned());
        self.vtysh(&args);
    }

    /// Runs vtysh on this instance with one `-c` per command and returns its output. vtysh
    /// exits non-zero when a command fails, which fails the test.
    pub fn vtysh(&self, commands: &[String]) -> String {
        let mut command = Command::new("ip");
        command
            .args(["netns", "exec", &self.name, "vtysh", "-N", &self.name])
            .env("VTYSH_PAGER", "cat");
        for line in commands {
            command.args(["-c", line]);
        }
        let out = command.output().expect("run vtysh");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "vtysh {commands:?} failed: {stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    }

    /// vrrpd's view of VRID 51 for `family` ("v4" or "v6"), from `show vrrp 51 json`: the
    /// object with `status` ("Initialize", "Backup", "Master"), `primaryAddress` (the source of
    /// its adverts) and `stats`.
    pub fn router(&self, family: &str) -> serde_json::Value {
        let text = self.vtysh(&["show vrrp interface eth0 51 json".to_string()]);
        let json: serde_json::Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("show vrrp json: {e}: {text}"));
        json[0][family].clone()
    }

    /// vrrpd's state for VRID 51 in `family`.
    pub fn state(&self, family: &str) -> String {
        self.router(family)["status"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Waits (generously) until vrrpd is in `state` for `family`; whether it got there.
    pub fn wait_state(&self, family: &str, state: &str) -> bool {
        wait_until(Duration::from_secs(20), || self.state(family) == state)
    }

    /// Graceful stop: SIGTERM to vrrpd, which as master sends a priority-0 advert before it
    /// exits; then zebra.
    pub fn stop(&mut self) {
        self.signal_all(libc::SIGTERM);
    }

    /// A crash: SIGKILL to vrrpd and zebra. The macvlan stays up with the VIP on it.
    pub fn kill_all(&mut self) {
        self.signal_all(libc::SIGKILL);
    }

    /// Sends `signal` to vrrpd, waits for it to exit, then does the same to zebra.
    fn signal_all(&self, signal: i32) {
        for daemon in self.daemons.iter().rev() {
            let Some(pid) = self.pid(daemon) else {
                continue;
            };
            // SAFETY: kill has no memory-safety preconditions.
            unsafe { libc::kill(pid, signal) };
            // A daemonized process is not our child: gone means kill(0) fails.
            // SAFETY: as above; signal 0 only checks for existence.
            let gone = wait_until(
                Duration::from_secs(10),
                || unsafe { libc::kill(pid, 0) } != 0,
            );
            if !gone {
                // SAFETY: as above.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
            let _ = fs::remove_file(self.pid_file(daemon));
        }
    }

    fn pid_file(&self, daemon: &str) -> PathBuf {
        self.run_dir.join(format!("{daemon}.pid"))
    }

    /// The daemon's pid from its pid file, if that process runs in this instance's namespace:
    /// a pid file left by a daemon that died may name an unrelated process by now.
    fn pid(&self, daemon: &str) -> Option<i32> {
        let pid: i32 = fs::read_to_string(self.pid_file(daemon))
            .ok()?
            .trim()
            .parse()
            .ok()?;
        let ours = fs::metadata(format!("/var/run/netns/{}", self.name)).ok()?;
        let its = fs::metadata(format!("/proc/{pid}/ns/net")).ok()?;
        (ours.ino() == its.ino()).then_some(pid)
    }

    /// Both daemons' logs, one after the other.
    pub fn log(&self) -> String {
        self.logs
            .iter()
            .map(|log| {
                format!(
                    "--- {} ---\n{}",
                    log.display(),
                    fs::read_to_string(log).unwrap_or_default()
                )
            })
            .collect()
    }
}

impl Drop for Frr {
    fn drop(&mut self) {
        self.kill_all();
        let _ = fs::remove_dir_all(&self.run_dir);
        if std::thread::panicking() {
            eprintln!("--- FRR {} ---\n{}", self.name, self.log());
        }
    }
}

/// The macvlan vrrpd finds by its MAC (any name will do: it looks for an interface on `eth0`
/// with the virtual MAC), with `member`'s VIP on it, and the sysctls the node needs.
fn prepare_interface(ns: &Netns, member: &Member) {
    let ipv6 = member.vip.contains(':');
    let (name, mac) = if ipv6 {
        ("vrrp6-51", "00:00:5e:00:02:33")
    } else {
        ("vrrp4-51", "00:00:5e:00:01:33")
    };
    // Bridge mode, so that eth0 still receives the adverts of the others while vrrpd holds the
    // macvlan in protodown (in private mode the macvlan would take frames from the virtual MAC).
    ns.exec(&[
        "ip", "link", "add", name, "link", "eth0", "type", "macvlan", "mode", "bridge",
    ]);
    // A link-local not derived from the virtual MAC, or two FRR masters would send adverts
    // from the same address. `addrgenmode` is refused inside `ip link add` on this kernel.
    ns.exec(&[
        "ip",
        "link",
        "set",
        name,
        "address",
        mac,
        "addrgenmode",
        "random",
    ]);
    let mut add = vec!["ip", "addr", "add", &member.vip, "dev", name];
    if ipv6 {
        add.push("nodad");
    }
    ns.exec(&add);
    ns.exec(&["ip", "link", "set", name, "up"]);
    // The VIP stays on the macvlan while vrrpd is backup. Without these eth0 would answer ARP
    // for it (any local address, by default) and announce it as a source in its own requests,
    // and clients would reach the backup.
    for interface in ["all", "eth0"] {
        ns.exec(&[
            "sysctl",
            "-qw",
            &format!("net.ipv4.conf.{interface}.arp_ignore=1"),
        ]);
        ns.exec(&[
            "sysctl",
            "-qw",
            &format!("net.ipv4.conf.{interface}.arp_announce=2"),
        ]);
    }
}

/// The uid and gid of `user`, from the passwd database.
fn user_ids(user: &str) -> (u32, u32) {
    let name = std::ffi::CString::new(user).expect("user name");
    // SAFETY: name is a valid C string; the record is copied out before any other call.
    let entry = unsafe { libc::getpwnam(name.as_ptr()) };
    assert!(
        !entry.is_null(),
        "no user {user} (the frr package creates it: scripts/bootstrap.sh)"
    );
    // SAFETY: entry is non-null and points to a passwd record.
    unsafe { ((*entry).pw_uid, (*entry).pw_gid) }
}

impl Member {
    /// vrrpd's commands (in the `interface eth0` node) for this member as VRID 51.
    pub fn frr_commands(&self) -> Vec<String> {
        let address = self.vip.split('/').next().expect("VIP address");
        let family = if self.vip.contains(':') { "ipv6" } else { "ip" };
        let mut commands = vec![
            format!("vrrp 51 version {}", self.version),
            format!("vrrp 51 priority {}", self.priority),
            format!("vrrp 51 advertisement-interval {}", self.interval_ms),
        ];
        if !self.preempt {
            commands.push("no vrrp 51 preempt".into());
        }
        // Last: the first address starts the router.
        commands.push(format!("vrrp 51 {family} {address}"));
        commands
    }
}
