//! The systems the benchmark compares, each run on every node of the LAN: vipd with its XDP
//! dataplane, vipd on sockets only, and keepalived (the Debian package) at its fastest.
use std::{
    fmt, fs,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::Duration,
};

use crate::{netns::Netns, topology::Lan, vipd::binary};

/// The VIP every system defends.
pub const VIP: &str = "192.0.2.100";
pub const VRID: u8 = 51;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum System {
    VipdXdp,
    VipdSocket,
    Keepalived,
}

impl fmt::Display for System {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            System::VipdXdp => "vipd (XDP)",
            System::VipdSocket => "vipd (socket)",
            System::Keepalived => "keepalived",
        })
    }
}

/// How fast the VRRP group runs.
#[derive(Clone, Copy, Debug)]
pub struct Timing {
    /// vipd's advert interval (fast mode below 10 ms).
    pub vipd_interval: Duration,
}

impl System {
    /// What the system advertises at, for the report.
    pub fn interval(self, timing: Timing) -> Duration {
        match self {
            System::Keepalived => Duration::from_millis(10),
            _ => timing.vipd_interval,
        }
    }
}

/// One system's process on one node.
pub struct NodeProcess {
    pub system: System,
    pub node: usize,
    child: Option<Child>,
    log: PathBuf,
    config: PathBuf,
    dir: PathBuf,
}

impl NodeProcess {
    /// Starts `system` on node `n` with `priority`.
    pub fn start(
        system: System,
        lan: &Lan,
        n: usize,
        priority: u8,
        timing: Timing,
        dir: &Path,
    ) -> Self {
        let config = dir.join(format!("{system:?}-n{n}.conf"));
        let log = dir.join(format!("{system:?}-n{n}.log"));
        let text = match system {
            System::Keepalived => keepalived_conf(n, priority),
            _ => crate::vipd::with_control_socket(
                &vipd_conf(priority, timing),
                &dir.join(format!("n{n}.sock")),
            ),
        };
        fs::write(&config, text).expect("write config");
        let mut process = Self {
            system,
            node: n,
            child: None,
            log,
            config,
            dir: dir.to_path_buf(),
        };
        process.spawn(lan.node(n));
        process
    }

    fn spawn(&mut self, ns: &Netns) {
        let out = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("log");
        let err = out.try_clone().expect("log");
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", ns.name()]);
        match self.system {
            System::Keepalived => {
                let stem = self.dir.join(format!("keepalived-n{}", self.node));
                // A leftover pid file from a killed run makes keepalived refuse to start.
                for suffix in ["pid", "vrrp.pid"] {
                    let _ = fs::remove_file(format!("{}.{suffix}", stem.display()));
                }
                // --dont-respawn: a killed VRRP child stays dead, as a crashed keepalived would.
                cmd.arg("keepalived")
                    .args([
                        "--dont-fork",
                        "--vrrp",
                        "--dont-respawn",
                        "--log-console",
                        "--log-detail",
                    ])
                    .args(["--no-syslog", "--use-file"])
                    .arg(&self.config)
                    .arg(format!("--pid={}.pid", stem.display()))
                    .arg(format!("--vrrp_pid={}.vrrp.pid", stem.display()));
            }
            system => {
                cmd.arg(binary())
                    .arg("run")
                    .arg("--config")
                    .arg(&self.config);
                if system == System::VipdSocket {
                    cmd.args(["--dataplane", "socket"]);
                }
            }
        }
        let child = cmd
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("start node process");
        self.child = Some(child);
    }

    /// Starts `system` on nodes `1..=count`, node 1 with the highest priority (200, then 190,
    /// 180, ...), so node 1 is the master whenever it is up.
    pub fn start_group(
        system: System,
        lan: &Lan,
        count: usize,
        timing: Timing,
        dir: &Path,
    ) -> Vec<NodeProcess> {
        (1..=count)
            .map(|n| Self::start(system, lan, n, 200 - 10 * (n as u8 - 1), timing, dir))
            .collect()
    }

    /// Restarts the process after a kill.
    pub fn restart(&mut self, lan: &Lan) {
        self.kill();
        self.spawn(lan.node(self.node));
    }

    /// The pid of the process that runs VRRP: vipd itself, or keepalived's VRRP child.
    pub fn vrrp_pid(&self) -> Option<i32> {
        match self.system {
            System::Keepalived => {
                let stem = self.dir.join(format!("keepalived-n{}.vrrp.pid", self.node));
                fs::read_to_string(stem).ok()?.trim().parse().ok()
            }
            _ => self.child.as_ref().map(|c| c.id() as i32),
        }
    }

    /// The pid of the whole daemon (keepalived's parent, or vipd).
    pub fn main_pid(&self) -> Option<i32> {
        self.child.as_ref().map(|c| c.id() as i32)
    }

    pub fn log(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn kill(&mut self) {
        if self.system == System::Keepalived {
            // The VRRP child first: it resigns gracefully when its parent dies, which a crash
            // must not do.
            if let Some(pid) = self.vrrp_pid() {
                // SAFETY: kill has no memory-safety preconditions.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
        }
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Waits for the process to exit on its own (after SIGTERM).
    pub fn wait(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.wait();
        }
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

fn vipd_conf(priority: u8, timing: Timing) -> String {
    let interval = format!("{}us", timing.vipd_interval.as_micros());
    format!(
        "[global]\nrealtime = {{ enabled = true, priority = 50 }}\n\n\
         [[instance]]\nname = \"bench\"\ninterface = \"eth0\"\nvrid = {VRID}\n\
         priority = {priority}\nadvert_interval = \"{interval}\"\nvips = [\"{VIP}/24\"]\n\
         garp_master_delay = \"0s\"\ngarp_master_repeat = 1\n"
    )
}

fn keepalived_conf(n: usize, priority: u8) -> String {
    format!(
        "global_defs {{\n  router_id bench-n{n}\n  vrrp_version 3\n  vrrp_garp_master_delay 0\n  \
         vrrp_garp_master_repeat 1\n}}\n\
         vrrp_instance bench {{\n  state BACKUP\n  interface eth0\n  virtual_router_id {VRID}\n  \
         priority {priority}\n  advert_int 0.01\n  virtual_ipaddress {{\n    {VIP}/24\n  }}\n}}\n"
    )
}
