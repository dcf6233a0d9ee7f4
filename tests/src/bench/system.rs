//! The systems the benchmark compares, each run on every node of the LAN: vipd with its XDP
//! dataplane, vipd on sockets only, and keepalived (the Debian package) at its fastest.
use std::{
    fmt,
    path::{Path, PathBuf},
    time::Duration,
};

use crate::{keepalived::Keepalived, netns::Netns, topology::Lan, vipd::Vipd};

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
    /// vipd's `echo_timeout`, written to its configuration only when given.
    pub echo_timeout: Option<Duration>,
    /// keepalived's `advert_int` (its fastest is 10 ms, in steps of 10 ms).
    pub keepalived_interval: Duration,
}

impl System {
    /// What the system advertises at, for the report.
    pub fn interval(self, timing: Timing) -> Duration {
        match self {
            System::Keepalived => timing.keepalived_interval,
            _ => timing.vipd_interval,
        }
    }
}

/// One system's daemon on one node, run with the test kit's [`Vipd`] and [`Keepalived`].
pub struct NodeProcess {
    pub system: System,
    pub node: usize,
    daemon: Option<Daemon>,
    config: String,
    /// vipd's extra arguments: driver mode where the switch ports let its XDP answers through.
    vipd_args: Vec<&'static str>,
    dir: PathBuf,
}

enum Daemon {
    Vipd(Vipd),
    Keepalived(Keepalived),
}

/// How long a graceful stop may take before the benchmark gives up on it.
const STOP_PATIENCE: Duration = Duration::from_secs(20);

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
        let config = match system {
            System::Keepalived => keepalived_conf(n, priority, timing.keepalived_interval),
            _ => vipd_conf(priority, timing),
        };
        let mut process = Self {
            system,
            node: n,
            daemon: None,
            config,
            vipd_args: if lan.has_pass_through_ports() {
                vec!["--xdp-mode", "driver"]
            } else {
                Vec::new()
            },
            dir: dir.to_path_buf(),
        };
        process.spawn(lan.node(n));
        process
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

    fn spawn(&mut self, ns: &Netns) {
        let name = format!("{:?}-n{}", self.system, self.node);
        self.daemon = Some(match self.system {
            System::Keepalived => {
                Daemon::Keepalived(Keepalived::start(ns, &self.dir, &name, &self.config))
            }
            System::VipdXdp => Daemon::Vipd(Vipd::start(
                ns,
                &self.dir,
                &name,
                &self.config,
                &self.vipd_args,
            )),
            System::VipdSocket => Daemon::Vipd(Vipd::start(
                ns,
                &self.dir,
                &name,
                &self.config,
                &["--dataplane", "socket"],
            )),
        });
    }

    /// Restarts the daemon after a kill or a stop.
    pub fn restart(&mut self, lan: &Lan) {
        self.kill();
        self.spawn(lan.node(self.node));
    }

    /// The pid of the process that runs VRRP: vipd itself, or keepalived's VRRP child.
    pub fn vrrp_pid(&self) -> Option<i32> {
        match self.daemon.as_ref()? {
            Daemon::Vipd(vipd) => Some(vipd.pid()),
            Daemon::Keepalived(keepalived) => keepalived.vrrp_pid(),
        }
    }

    /// The pid of the whole daemon (keepalived's parent, or vipd).
    pub fn main_pid(&self) -> Option<i32> {
        match self.daemon.as_ref()? {
            Daemon::Vipd(vipd) => Some(vipd.pid()),
            Daemon::Keepalived(keepalived) => keepalived.main_pid(),
        }
    }

    /// vipd's control socket (`vipd status`); keepalived has none.
    pub fn control_socket(&self) -> Option<&Path> {
        match self.daemon.as_ref()? {
            Daemon::Vipd(vipd) => Some(&vipd.socket),
            Daemon::Keepalived(_) => None,
        }
    }

    pub fn log(&self) -> String {
        match &self.daemon {
            Some(Daemon::Vipd(vipd)) => vipd.log(),
            Some(Daemon::Keepalived(keepalived)) => keepalived.log(),
            None => String::new(),
        }
    }

    /// Kills the daemon as a crash would (both keepalived processes).
    pub fn kill(&mut self) {
        if let Some(Daemon::Keepalived(mut keepalived)) = self.daemon.take() {
            keepalived.kill_all();
        }
        // A dropped Vipd is killed and reaped.
    }

    /// Waits for the daemon to exit on its own (after SIGTERM).
    pub fn wait(&mut self) {
        match &mut self.daemon {
            Some(Daemon::Vipd(vipd)) => {
                vipd.wait_exit(STOP_PATIENCE);
            }
            Some(Daemon::Keepalived(keepalived)) => keepalived.wait_exit(STOP_PATIENCE),
            None => {}
        }
    }
}

/// vipd's configuration; JSON logs, whose timestamps the takeover timeline reads.
fn vipd_conf(priority: u8, timing: Timing) -> String {
    let interval = format!("{}us", timing.vipd_interval.as_micros());
    let echo_timeout = timing.echo_timeout.map_or(String::new(), |t| {
        format!("echo_timeout = \"{}us\"\n", t.as_micros())
    });
    format!(
        "[global]\nlog_format = \"json\"\nrealtime = {{ enabled = true, priority = 50 }}\n\n\
         [[instance]]\nname = \"bench\"\ninterface = \"eth0\"\nvrid = {VRID}\n\
         priority = {priority}\nadvert_interval = \"{interval}\"\nvips = [\"{VIP}/24\"]\n\
         garp_master_delay = \"0s\"\ngarp_master_repeat = 1\n{echo_timeout}"
    )
}

fn keepalived_conf(n: usize, priority: u8, interval: Duration) -> String {
    let advert_int = interval.as_secs_f64();
    format!(
        "global_defs {{\n  router_id bench-n{n}\n  vrrp_version 3\n  vrrp_garp_master_delay 0\n  \
         vrrp_garp_master_repeat 1\n}}\n\
         vrrp_instance bench {{\n  state BACKUP\n  interface eth0\n  virtual_router_id {VRID}\n  \
         priority {priority}\n  advert_int {advert_int}\n  virtual_ipaddress {{\n    {VIP}/24\n  }}\n}}\n"
    )
}
