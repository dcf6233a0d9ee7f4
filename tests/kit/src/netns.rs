//! Network namespaces for tests: created with a [`unique_name`](crate::unique_name), deleted
//! (with every process in them) when the guard drops, which also happens when the test panics.
//!
//! Network namespace membership is per thread: [`Netns::run`] runs a closure on a thread that
//! has entered the namespace ([`Netns::run_async`] for tokio code such as netlink, with the
//! `tokio` feature). Sockets belong to the namespace they were created in, so a test opens them
//! there and may then use them from any thread. Commands run inside with [`Netns::exec`] or
//! [`Netns::ip`].
use std::{
    fs::File,
    os::fd::AsRawFd,
    process::{Command, Output},
};

use crate::run_ok;
pub use crate::PREFIX;

/// A network namespace that exists as long as this value does.
#[derive(Debug)]
pub struct Netns {
    name: String,
}

impl Netns {
    /// Creates `vipd-t-<pid>-<n>-<tag>` with its loopback up.
    pub fn new(tag: &str) -> Self {
        let name = crate::unique_name(tag);
        run_ok(Command::new("ip").args(["netns", "add", &name]));
        let ns = Self { name };
        ns.ip(&["link", "set", "lo", "up"]);
        ns
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Runs a command inside the namespace and panics with its output if it fails.
    pub fn exec(&self, argv: &[&str]) -> Output {
        run_ok(
            Command::new("ip")
                .args(["netns", "exec", &self.name])
                .args(argv),
        )
    }

    /// Runs `ip -n <this namespace> ARGS`, panicking with its output if it fails; returns stdout.
    pub fn ip(&self, args: &[&str]) -> String {
        let out = run_ok(Command::new("ip").args(["-n", &self.name]).args(args));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs `f` on a new thread that has entered this namespace, and returns its result; a panic
    /// in `f` is re-raised in the caller. Sockets, interface lookups and XDP attachments made in
    /// `f` belong to the namespace.
    pub fn run<T: Send>(&self, f: impl FnOnce() -> T + Send) -> T {
        let path = format!("/var/run/netns/{}", self.name);
        std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    let ns = File::open(&path).unwrap_or_else(|e| panic!("open {path}: {e}"));
                    // SAFETY: ns is an open namespace fd; setns only affects this thread.
                    let rc = unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) };
                    assert_eq!(
                        rc,
                        0,
                        "setns into {}: {}",
                        self.name,
                        std::io::Error::last_os_error()
                    );
                    f()
                })
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        })
    }

    /// Runs the future `test` makes to completion on a single-threaded tokio runtime on a thread
    /// inside this namespace.
    #[cfg(feature = "tokio")]
    pub fn run_async<F, Fut, T>(&self, test: F) -> T
    where
        F: FnOnce() -> Fut + Send,
        Fut: std::future::Future<Output = T>,
        T: Send,
    {
        self.run(|| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("build a tokio runtime")
                .block_on(test())
        })
    }

    /// The interface index of `interface` inside this namespace.
    pub fn ifindex(&self, interface: &str) -> u32 {
        let index = self.run(|| if_nametoindex(interface));
        assert_ne!(index, 0, "no interface {interface} in {}", self.name);
        index
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        // Deleting the namespace also deletes every interface inside it (and veth peers).
        if !remove(&self.name) {
            eprintln!("warning: could not delete test namespace {}", self.name);
        }
    }
}

/// Joins two namespaces with a veth pair (`a_if` in `a`, `b_if` in `b`) and brings both ends up.
/// Neither end ever exists in the host's namespace.
pub fn veth(a: &Netns, a_if: &str, b: &Netns, b_if: &str) {
    run_ok(Command::new("ip").args([
        "link", "add", a_if, "netns", &a.name, "type", "veth", "peer", "name", b_if, "netns",
        &b.name,
    ]));
    a.ip(&["link", "set", a_if, "up"]);
    b.ip(&["link", "set", b_if, "up"]);
}

/// Kills every process in the namespace `name` and deletes it; whether it is gone.
pub(crate) fn remove(name: &str) -> bool {
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
    !std::path::Path::new("/var/run/netns").join(name).exists()
}

/// The index of `interface` in the calling thread's namespace; 0 when there is none.
fn if_nametoindex(interface: &str) -> u32 {
    let name = std::ffi::CString::new(interface).expect("interface name");
    // SAFETY: name is a valid C string.
    unsafe { libc::if_nametoindex(name.as_ptr()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespace_is_created_entered_and_removed() {
        let netns = Netns::new("self");
        let path = format!("/var/run/netns/{}", netns.name());
        assert!(std::path::Path::new(&path).exists());
        netns.ip(&[
            "link",
            "add",
            "vipd-dummy",
            "type",
            "veth",
            "peer",
            "name",
            "vipd-dummy-p",
        ]);
        let inside = netns.run(|| if_nametoindex("vipd-dummy") != 0);
        assert!(
            inside,
            "the dummy interface is visible from the namespace's thread"
        );
        assert_eq!(if_nametoindex("vipd-dummy"), 0, "and not on the host");
        drop(netns);
        assert!(!std::path::Path::new(&path).exists());
    }

    #[test]
    fn a_panic_inside_the_namespace_reaches_the_caller_and_the_namespace_is_removed() {
        let netns = Netns::new("panic");
        let path = format!("/var/run/netns/{}", netns.name());
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            netns.run(|| panic!("inside"));
        }));
        assert!(outcome.is_err());
        drop(netns);
        assert!(!std::path::Path::new(&path).exists());
    }
}
