//! A network namespace for one test: created on construction, deleted on
//! drop (also when the test panics), and a way to run async code with
//! sockets opened inside it.
//!
//! Network namespaces are per thread, and a netlink socket belongs to the
//! namespace of the thread that opened it, so [`TestNetns::run`] starts a
//! thread, enters the namespace there, and runs a single-threaded tokio
//! runtime on it: everything the test opens lives in the namespace, and the
//! host's interfaces are never touched.

use std::fs::File;
use std::future::Future;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

use nix::sched::{setns, CloneFlags};

static NEXT: AtomicU32 = AtomicU32::new(0);

pub(super) struct TestNetns {
    name: String,
}

impl TestNetns {
    /// Creates `vipd-t-<tag>-<pid>-<n>`.
    pub(super) fn new(tag: &str) -> Self {
        let name = format!(
            "vipd-t-{tag}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        run_ip(&["netns", "add", &name]);
        Self { name }
    }

    pub(super) fn name(&self) -> &str {
        &self.name
    }

    /// Runs `ip -n <namespace> args...`, panicking with its stderr on failure.
    pub(super) fn ip(&self, args: &[&str]) {
        let mut all = vec!["-n", self.name.as_str()];
        all.extend_from_slice(args);
        run_ip(&all);
    }

    /// Runs `test` to completion on a thread inside the namespace.
    pub(super) fn run<F, Fut, T>(&self, test: F) -> T
    where
        F: FnOnce() -> Fut + Send,
        Fut: Future<Output = T>,
        T: Send,
    {
        let path = format!("/var/run/netns/{}", self.name);
        std::thread::scope(|scope| {
            let thread = scope.spawn(move || {
                let namespace = File::open(&path).expect("open the test namespace");
                setns(namespace, CloneFlags::CLONE_NEWNET).expect("enter the test namespace");
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("build a tokio runtime")
                    .block_on(test())
            });
            match thread.join() {
                Ok(value) => value,
                Err(panic) => std::panic::resume_unwind(panic),
            }
        })
    }
}

impl Drop for TestNetns {
    fn drop(&mut self) {
        // Not run_ip: a panic while already unwinding would abort the test
        // binary and hide the first failure.
        let deleted = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
        if !matches!(deleted, Ok(status) if status.success()) {
            eprintln!("could not delete test namespace {}", self.name);
        }
    }
}

fn run_ip(args: &[&str]) {
    let output = Command::new("ip")
        .args(args)
        .output()
        .expect("run ip (iproute2)");
    assert!(
        output.status.success(),
        "ip {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
}
