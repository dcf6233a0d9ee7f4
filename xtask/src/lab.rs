//! `cargo xtask lab`: vipd's main job on a built-in default topology.
//!
//! First version: two network namespaces on a veth pair. In `vipd-lab-peer` keepalived (the
//! Debian package) is a VRRPv3 master sending adverts; in `vipd-lab-node` `vipd watch` has the
//! XDP program attached and prints each advert as it arrives through the ring buffer, with its
//! driver timestamp. Everything is torn down on exit and on Ctrl-C; `--clean` removes what a
//! crashed lab left.
use anyhow::{Context, Result};
use std::{
    path::PathBuf,
    process::{Child, Stdio},
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use crate::{
    bootstrap, ebpf,
    netns::{self, Namespace, LAB_PREFIX},
    workspace,
};

#[derive(clap::Args)]
pub struct Options {
    /// Remove whatever a crashed lab left (namespaces, processes, files) and exit.
    #[arg(long)]
    clean: bool,
    /// Stop after this long (e.g. `10s`); by default the lab runs until Ctrl-C.
    #[arg(long, value_parser = humantime::parse_duration)]
    duration: Option<Duration>,
    /// keepalived's `advert_int` on the peer, in seconds (VRRPv3 allows 0.01 to 40.95).
    #[arg(long, default_value = "0.1")]
    advert_interval: String,
}

const PEER_IF: &str = "lab-peer0";
const NODE_IF: &str = "lab-node0";

pub fn run(opts: &Options) -> Result<()> {
    if opts.clean {
        netns::remove_leftovers(LAB_PREFIX)?;
        let _ = std::fs::remove_dir_all(state_dir());
        return Ok(());
    }
    bootstrap::ensure()?;
    ebpf::build(&ebpf::Options { release: true })?;
    workspace::run(workspace::cargo().args(["build", "--release", "--package", "vipd"]))?;
    netns::remove_leftovers(LAB_PREFIX)?;

    let interrupted = Arc::new(AtomicBool::new(false));
    let flag = interrupted.clone();
    ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst))
        .context("installing the Ctrl-C handler")?;

    let lab = Lab::start(opts)?;
    println!(
        "\nlab: keepalived (VRRPv3 master, advert_int {}) in {} -> veth -> vipd's XDP program on \
         {NODE_IF} in {}",
        opts.advert_interval,
        lab.peer.name(),
        lab.node.name()
    );
    println!("lab: each line is one advert from the ring buffer; Ctrl-C stops the lab\n");
    let started = Instant::now();
    let mut lab = lab;
    while !interrupted.load(Ordering::SeqCst)
        && opts.duration.is_none_or(|limit| started.elapsed() < limit)
    {
        if let Some(status) = lab.watcher.try_wait()? {
            anyhow::bail!("vipd watch exited early ({status})");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    println!("\nlab: tearing down");
    Ok(())
}

/// The running lab; dropping it stops the processes and removes the namespaces and files.
struct Lab {
    // Field order is drop order: processes first, then namespaces.
    watcher: ChildGuard,
    _keepalived: ChildGuard,
    peer: Namespace,
    node: Namespace,
    _files: StateDir,
}

impl Lab {
    fn start(opts: &Options) -> Result<Self> {
        let files = StateDir::create()?;
        let peer = Namespace::create(&format!("{LAB_PREFIX}peer"))?;
        let node = Namespace::create(&format!("{LAB_PREFIX}node"))?;
        netns::veth(&peer, PEER_IF, &node, NODE_IF)?;
        peer.exec_ok(&["ip", "addr", "add", "192.0.2.1/24", "dev", PEER_IF])?;
        node.exec_ok(&["ip", "addr", "add", "192.0.2.2/24", "dev", NODE_IF])?;

        let vipd = workspace::root().join("target/release/vipd");
        let watcher = ChildGuard(
            node.command(&vipd.to_string_lossy())
                .args(["watch", "--interface", NODE_IF])
                .spawn()
                .context("starting vipd watch")?,
        );
        // Let the program attach before the first advert, so the first lines are not missed.
        std::thread::sleep(Duration::from_millis(500));

        let conf = files.0.join("keepalived.conf");
        std::fs::write(&conf, keepalived_conf(&opts.advert_interval))?;
        let keepalived = ChildGuard(
            peer.command("keepalived")
                .args([
                    "--dont-fork",
                    "--vrrp",
                    "--log-console",
                    "--no-syslog",
                    "--use-file",
                ])
                .arg(&conf)
                .arg("--pid")
                .arg(files.0.join("keepalived.pid"))
                .arg("--vrrp_pid")
                .arg(files.0.join("vrrp.pid"))
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(files.0.join("keepalived.log"))?)
                .spawn()
                .context("starting keepalived (is the keepalived package installed?)")?,
        );
        Ok(Self {
            watcher,
            _keepalived: keepalived,
            peer,
            node,
            _files: files,
        })
    }
}

fn keepalived_conf(advert_interval: &str) -> String {
    format!(
        "global_defs {{\n  router_id vipd-lab-peer\n  vrrp_version 3\n}}\n\
         vrrp_instance lab {{\n  state MASTER\n  interface {PEER_IF}\n  virtual_router_id 51\n  \
         priority 200\n  advert_int {advert_interval}\n  virtual_ipaddress {{\n    \
         192.0.2.100/24\n  }}\n}}\n"
    )
}

fn state_dir() -> PathBuf {
    std::env::temp_dir().join("vipd-lab")
}

/// The lab's scratch directory (configuration, pid files, logs), removed on drop.
struct StateDir(PathBuf);

impl StateDir {
    fn create() -> Result<Self> {
        let dir = state_dir();
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        Ok(Self(dir))
    }
}

impl Drop for StateDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A child process that is killed and reaped on drop.
struct ChildGuard(Child);

impl ChildGuard {
    fn try_wait(&mut self) -> Result<Option<std::process::ExitStatus>> {
        Ok(self.0.try_wait()?)
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
