//! Test-only network namespaces: a guard that creates a uniquely named namespace and always
//! deletes it (Drop runs when a test panics too), a way to run a closure inside it on a
//! dedicated thread (network namespace membership is per thread), and `ip` in it.
//!
//! Sockets belong to the namespace they were created in, so a test opens them through
//! [`Netns::run`] (or [`Netns::run_async`] for tokio code such as netlink) and may then use them
//! from any thread.

use std::fs::File;
use std::future::Future;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use nix::sched::{setns, CloneFlags};

static NEXT_ID: AtomicUsize = AtomicUsize::new(0);

/// A network namespace that exists as long as this value does.
#[derive(Debug)]
pub struct Netns {
    name: String,
}

impl Netns {
    /// Creates `vipd-t-<tag>-<pid>-<n>`, unique across parallel tests and test processes.
    pub fn new(tag: &str) -> Netns {
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        let name = format!("vipd-t-{tag}-{}-{id}", std::process::id());
        run_command(Command::new("ip").args(["netns", "add", &name]));
        let netns = Netns { name };
        netns.ip(&["link", "set", "lo", "up"]);
        netns
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Runs `f` on a fresh thread that has entered this namespace; a panic in `f` is re-raised
    /// in the caller.
    pub fn run<T: Send>(&self, f: impl FnOnce() -> T + Send) -> T {
        let path = format!("/var/run/netns/{}", self.name);
        std::thread::scope(|scope| {
            let thread = scope.spawn(|| {
                let file = File::open(&path).unwrap_or_else(|err| panic!("opening {path}: {err}"));
                setns(file, CloneFlags::CLONE_NEWNET)
                    .unwrap_or_else(|err| panic!("entering {path}: {err}"));
                f()
            });
            thread
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        })
    }

    /// Runs the future `test` makes to completion on a single-threaded tokio runtime on a thread
    /// inside this namespace.
    pub fn run_async<F, Fut, T>(&self, test: F) -> T
    where
        F: FnOnce() -> Fut + Send,
        Fut: Future<Output = T>,
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

    /// Runs `ip -n <this namespace> ARGS`, panicking with its stderr if it fails; returns stdout.
    pub fn ip(&self, args: &[&str]) -> String {
        run_command(Command::new("ip").args(["-n", &self.name]).args(args))
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        // Deleting the namespace also deletes every interface inside it (and veth peers).
        let deleted = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
        if !matches!(deleted, Ok(status) if status.success()) {
            eprintln!(
                "warning: could not delete test namespace {}: {deleted:?}",
                self.name
            );
        }
    }
}

fn run_command(command: &mut Command) -> String {
    let output = command
        .output()
        .unwrap_or_else(|err| panic!("running {command:?}: {err}"));
    assert!(
        output.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

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
        let inside = netns.run(|| nix::net::if_::if_nametoindex("vipd-dummy").is_ok());
        assert!(
            inside,
            "the dummy interface is visible from the namespace's thread"
        );
        assert!(
            nix::net::if_::if_nametoindex("vipd-dummy").is_err(),
            "and not on the host"
        );
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
