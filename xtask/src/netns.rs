//! Network namespaces for the lab, made and removed with iproute2, and the sweep that removes
//! whatever a crashed run left behind.
use anyhow::{Context, Result};
use std::process::Command;

/// Names of the namespaces the test suite creates start with this.
pub const TEST_PREFIX: &str = "vipd-t-";
/// Names of the namespaces the lab creates start with this.
pub const LAB_PREFIX: &str = "vipd-lab-";

/// A network namespace that is deleted, with every process still in it, when dropped.
pub struct Namespace {
    name: String,
}

impl Namespace {
    pub fn create(name: &str) -> Result<Self> {
        // A leftover of the same name would make `ip netns add` fail: remove it first.
        remove(name);
        ip(&["netns", "add", name])?;
        let ns = Self { name: name.into() };
        ns.exec_ok(&["ip", "link", "set", "lo", "up"])?;
        Ok(ns)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// A command that runs inside this namespace.
    pub fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.name, program]);
        cmd
    }

    /// Runs `argv` inside the namespace and fails if it does.
    pub fn exec_ok(&self, argv: &[&str]) -> Result<()> {
        let mut cmd = self.command(argv[0]);
        cmd.args(&argv[1..]);
        crate::workspace::run(&mut cmd)
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        remove(&self.name);
    }
}

/// Creates a veth pair with one end in each namespace; both ends are brought up.
pub fn veth(a: &Namespace, a_if: &str, b: &Namespace, b_if: &str) -> Result<()> {
    ip(&[
        "link",
        "add",
        a_if,
        "netns",
        a.name(),
        "type",
        "veth",
        "peer",
        "name",
        b_if,
        "netns",
        b.name(),
    ])?;
    a.exec_ok(&["ip", "link", "set", a_if, "up"])?;
    b.exec_ok(&["ip", "link", "set", b_if, "up"])
}

/// Removes every namespace whose name starts with `prefix`, killing the processes in it first.
///
/// Test namespaces carry the pid of the test process that made them (`vipd-t-<pid>-...`): those
/// naming a live process belong to a test run in progress and are left alone. Scratch
/// directories in the temp dir named the same way go too.
pub fn remove_leftovers(prefix: &str) -> Result<()> {
    let out = Command::new("ip")
        .args(["netns", "list"])
        .output()
        .context("cannot run `ip netns list` (is iproute2 installed?)")?;
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        // Lines look like "name" or "name (id: 3)".
        let name = line.split_whitespace().next().unwrap_or_default();
        if name.starts_with(prefix) && !owner_alive(&name[prefix.len()..]) {
            eprintln!("removing leftover namespace {name}");
            remove(name);
        }
    }
    // Scratch directories of test runs and the harness carry the same names.
    if let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with(prefix) && !owner_alive(&name[prefix.len()..]) {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
    Ok(())
}

/// Whether the first numeric `-`-separated part of the name (the pid, in `vipd-t-<pid>-<n>-<tag>`
/// and `vipd-t-<tag>-<pid>-<n>` alike) is the pid of a live process.
fn owner_alive(rest: &str) -> bool {
    rest.split('-')
        .find_map(|part| part.parse::<u32>().ok())
        .is_some_and(|pid| std::path::Path::new(&format!("/proc/{pid}")).exists())
}

/// Kills every process in the namespace and deletes it; quiet when it does not exist.
fn remove(name: &str) {
    if let Ok(out) = Command::new("ip").args(["netns", "pids", name]).output() {
        for pid in String::from_utf8_lossy(&out.stdout).split_whitespace() {
            if let Ok(pid) = pid.parse::<i32>() {
                // SAFETY: kill has no memory-safety preconditions.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
        }
    }
    let _ = Command::new("ip")
        .args(["netns", "del", name])
        .stderr(std::process::Stdio::null())
        .status();
}

fn ip(args: &[&str]) -> Result<()> {
    crate::workspace::run(Command::new("ip").args(args))
}
