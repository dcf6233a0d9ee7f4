//! keepalived (the Debian package) as a peer under test: started in a node's namespace in the
//! foreground with its configuration written to a scratch directory and its log kept in a file,
//! and killed (parent and VRRP child) when dropped.
//!
//! keepalived runs two processes: the parent, which only supervises, and the VRRP child, which
//! speaks the protocol. A graceful stop is SIGTERM to the parent (it tells the child, which sends
//! priority-0 adverts and removes its VIPs); a crash is SIGKILL to both at once, which leaves the
//! VIPs on the interface as a dead host would.
use std::{
    fs,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::Duration,
};

use crate::{netns::Netns, vipd::wait_until};

/// A running `keepalived --vrrp` in the foreground.
pub struct Keepalived {
    child: Option<Child>,
    log: PathBuf,
    vrrp_pid_file: PathBuf,
}

impl Keepalived {
    /// Writes `conf` into `dir` as `<name>.conf` and starts keepalived on it inside `ns`.
    pub fn start(ns: &Netns, dir: &Path, name: &str, conf: &str) -> Self {
        Self::start_binary(Path::new("keepalived"), ns, dir, name, conf)
    }

    /// [`Keepalived::start`] with another keepalived build than the packaged one (keepalived
    /// 2.4 for auth_hmac, which Debian does not ship).
    pub fn start_binary(binary: &Path, ns: &Netns, dir: &Path, name: &str, conf: &str) -> Self {
        Self::spawn(binary, ns, dir, name, conf, false)
    }

    /// [`Keepalived::start`] for a file with `bfd_instance`s: keepalived's BFD child gets a
    /// pid file of its own beside the VRRP one's.
    pub fn start_with_bfd(ns: &Netns, dir: &Path, name: &str, conf: &str) -> Self {
        Self::spawn(Path::new("keepalived"), ns, dir, name, conf, true)
    }

    fn spawn(binary: &Path, ns: &Netns, dir: &Path, name: &str, conf: &str, bfd: bool) -> Self {
        let conf_path = dir.join(format!("{name}.conf"));
        fs::write(&conf_path, conf).expect("write keepalived.conf");
        let log = dir.join(format!("{name}.log"));
        let out = fs::File::create(&log).expect("log file");
        let err = out.try_clone().expect("log file");
        let pid_file = dir.join(format!("{name}.pid"));
        let vrrp_pid_file = dir.join(format!("{name}.vrrp.pid"));
        // Pid files a killed keepalived left make a new one refuse to start.
        let _ = fs::remove_file(&pid_file);
        let _ = fs::remove_file(&vrrp_pid_file);
        // `ip netns exec` execs keepalived in place, so the child is keepalived's parent.
        let child = Command::new("ip")
            .args(["netns", "exec", ns.name()])
            .arg(binary)
            .args([
                "--dont-fork",
                "--vrrp",
                "--no-syslog",
                "--log-console",
                "--log-detail",
                "--dont-respawn",
                "--use-file",
            ])
            .arg(&conf_path)
            .arg(format!("--pid={}", pid_file.display()))
            .arg(format!("--vrrp_pid={}", vrrp_pid_file.display()))
            // keepalived 2.2.7 starts its BFD child whenever the file has a bfd_instance,
            // `--vrrp` or not; the child only needs a pid file of its own.
            .args(bfd.then(|| {
                format!(
                    "--bfd_pid={}",
                    dir.join(format!("{name}.bfd.pid")).display()
                )
            }))
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("start keepalived (scripts/bootstrap.sh installs it)");
        Self {
            child: Some(child),
            log,
            vrrp_pid_file,
        }
    }

    /// Graceful stop: SIGTERM to the parent, which stops the VRRP child (priority-0 adverts,
    /// VIPs removed). Waits for the parent to exit.
    pub fn stop(&mut self) {
        if let Some(pid) = self.main_pid() {
            // SAFETY: kill has no memory-safety preconditions.
            unsafe { libc::kill(pid, libc::SIGTERM) };
        }
        self.wait_exit(Duration::from_secs(20));
    }

    /// Waits up to `patience` for the parent to exit (after a SIGTERM), then kills it.
    pub fn wait_exit(&mut self, patience: Duration) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let exited = wait_until(patience, || child.try_wait().ok().flatten().is_some());
        if !exited {
            let _ = child.kill();
        }
        let _ = child.wait();
    }

    /// The parent's pid, while it runs.
    pub fn main_pid(&self) -> Option<i32> {
        self.child.as_ref().map(|child| child.id() as i32)
    }

    /// A crash: SIGKILL to the VRRP child and the parent. The VIPs stay where they are.
    pub fn kill_all(&mut self) {
        // The VRRP child first: keepalived's children stop gracefully (priority 0) when their
        // parent dies, which a crash must not do.
        if let Some(pid) = self.vrrp_pid() {
            // SAFETY: kill has no memory-safety preconditions.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The VRRP child's pid, once keepalived has written it.
    pub fn vrrp_pid(&self) -> Option<i32> {
        let mut pid = None;
        wait_until(Duration::from_secs(10), || {
            pid = fs::read_to_string(&self.vrrp_pid_file)
                .ok()
                .and_then(|text| text.trim().parse().ok());
            pid.is_some()
        });
        pid
    }

    pub fn log(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// How often keepalived has logged entering `state` ("MASTER", "BACKUP", "FAULT"); its
    /// start counts as entering BACKUP.
    pub fn times_entered(&self, state: &str) -> usize {
        self.log()
            .matches(&format!("Entering {state} STATE"))
            .count()
    }
}

impl Drop for Keepalived {
    fn drop(&mut self) {
        if self.child.is_some() {
            self.kill_all();
        }
        if std::thread::panicking() {
            eprintln!(
                "--- keepalived log {} ---\n{}",
                self.log.display(),
                self.log()
            );
        }
    }
}

/// One member of the VRRP group under test, described once and written as keepalived.conf, as
/// vipd.toml or as FRR's vrrpd commands (`frr.rs`), so that a test states the group and every
/// implementation gets the same one: instance `VI_1` on `eth0`, VRID 51, started in BACKUP state
/// (keepalived) as vipd always is.
#[derive(Debug, Clone)]
pub struct Member {
    pub priority: u8,
    /// VRRP version, 2 or 3.
    pub version: u8,
    /// The advert interval in milliseconds: keepalived's `advert_int` in seconds, vipd's
    /// `advert_interval`.
    pub interval_ms: u32,
    /// The VIP with its prefix, IPv4 or IPv6.
    pub vip: String,
    /// false: keepalived's `nopreempt`, vipd's `preempt = false`.
    pub preempt: bool,
    /// VRRPv2 authentication: PASS, or with `ah` IPsec AH keyed with this password.
    pub password: Option<String>,
    /// keepalived's `auth_type AH` (vipd's `auth_type = "ah"`) instead of PASS.
    pub ah: bool,
    /// Unicast mode: this member's source address and its peers.
    pub unicast: Option<(String, Vec<String>)>,
}

impl Member {
    /// A VRRPv3 member with 100 ms adverts and the IPv4 VIP 192.0.2.100/24.
    pub fn v3(priority: u8) -> Self {
        Self {
            priority,
            version: 3,
            interval_ms: 100,
            vip: "192.0.2.100/24".into(),
            preempt: true,
            password: None,
            ah: false,
            unicast: None,
        }
    }

    /// A VRRPv2 member with 1 s adverts (v2's shortest), PASS authentication with `password`.
    pub fn v2_pass(priority: u8, password: &str) -> Self {
        Self {
            version: 2,
            interval_ms: 1000,
            password: Some(password.into()),
            ..Self::v3(priority)
        }
    }

    /// A VRRPv2 member with 1 s adverts and `auth_type AH` keyed with `password`.
    pub fn v2_ah(priority: u8, password: &str) -> Self {
        Self {
            ah: true,
            ..Self::v2_pass(priority, password)
        }
    }

    pub fn vip(mut self, vip: &str) -> Self {
        self.vip = vip.into();
        self
    }

    pub fn nopreempt(mut self) -> Self {
        self.preempt = false;
        self
    }

    pub fn unicast(mut self, source: impl ToString, peers: &[impl ToString]) -> Self {
        let peers = peers.iter().map(ToString::to_string).collect();
        self.unicast = Some((source.to_string(), peers));
        self
    }

    fn is_ipv6(&self) -> bool {
        self.vip.contains(':')
    }

    /// keepalived.conf for this member.
    pub fn keepalived_conf(&self) -> String {
        let mut instance = format!(
            "  state BACKUP\n  interface eth0\n  virtual_router_id 51\n  priority {}\n  \
             advert_int {}\n",
            self.priority,
            f64::from(self.interval_ms) / 1000.0
        );
        if self.is_ipv6() {
            instance.push_str("  native_ipv6\n");
        }
        if !self.preempt {
            instance.push_str("  nopreempt\n");
        }
        if let Some(password) = &self.password {
            let kind = if self.ah { "AH" } else { "PASS" };
            instance.push_str(&format!(
                "  authentication {{\n    auth_type {kind}\n    auth_pass {password}\n  }}\n"
            ));
        }
        if let Some((source, peers)) = &self.unicast {
            instance.push_str(&format!(
                "  unicast_src_ip {source}\n  unicast_peer {{\n    {}\n  }}\n",
                peers.join("\n    ")
            ));
        }
        instance.push_str(&format!("  virtual_ipaddress {{\n    {}\n  }}\n", self.vip));
        format!(
            "global_defs {{\n  router_id ka-{}\n  vrrp_version {}\n}}\n\
             vrrp_instance VI_1 {{\n{instance}}}\n",
            self.priority, self.version
        )
    }

    /// vipd.toml for this member.
    pub fn vipd_toml(&self) -> String {
        let mut toml = format!(
            "[[instance]]\nname = \"VI_1\"\ninterface = \"eth0\"\nvrid = 51\npriority = {}\n\
             version = {}\nadvert_interval = \"{}ms\"\nvips = [\"{}\"]\npreempt = {}\n",
            self.priority, self.version, self.interval_ms, self.vip, self.preempt
        );
        if let Some(password) = &self.password {
            toml.push_str(&format!("auth_password = \"{password}\"\n"));
            if self.ah {
                toml.push_str("auth_type = \"ah\"\n");
            }
        }
        if let Some((source, peers)) = &self.unicast {
            let peers: Vec<String> = peers.iter().map(|p| format!("\"{p}\"")).collect();
            toml.push_str(&format!(
                "unicast_source = \"{source}\"\nunicast_peers = [{}]\n",
                peers.join(", ")
            ));
        }
        toml
    }
}
