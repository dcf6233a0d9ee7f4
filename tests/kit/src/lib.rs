//! vipd's test kit, shared by the agent's kernel unit tests (a dev-dependency), the integration
//! tests and benchmarks (`vipd-tests`) and the xtask:
//!
//! - [`Netns`]: a network namespace that is deleted, with every process in it, when the guard
//!   drops (also when the test panics);
//! - [`unique_name`]: the one naming rule for whatever a test run leaves in the system
//!   (namespaces, scratch directories, containers): `vipd-t-<pid>-<n>-<tag>`;
//! - [`remove_leftovers`]: the sweep `cargo xtask test`, `lab` and `bench` run first, which
//!   removes what a crashed run left behind and spares what a live run owns;
//! - [`clock`]: CLOCK_MONOTONIC and CLOCK_REALTIME readings.
pub mod clock;
pub mod netns;
mod sweep;

pub use netns::{veth, Netns};
pub use sweep::remove_leftovers;

use std::{
    process::{Command, Output},
    sync::atomic::{AtomicU32, Ordering},
};

/// Every name [`unique_name`] makes starts with this.
pub const PREFIX: &str = "vipd-t-";

/// `vipd-t-<pid>-<n>-<tag>`: unique across the threads of this process (`n` counts up) and across
/// processes (the pid), and recognisable by the sweep, which reads the pid back to tell a live
/// run's names from a crashed one's.
pub fn unique_name(tag: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("{PREFIX}{}-{n}-{tag}", std::process::id())
}

/// Runs `command`, panicking with its output unless it exits 0.
pub fn run_ok(command: &mut Command) -> Output {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    assert!(
        output.status.success(),
        "{command:?} failed ({}):\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// The pid a name made by [`unique_name`] carries: its first part after the prefix. Names made
/// before the kit by the agent's tests (`vipd-t-<tag>-<pid>-<n>`, still made by checkouts
/// older than it) carry it later: the first part that is a number is read, so that a live run
/// of an older checkout is spared too. `None` for names without one.
fn owner_pid(name: &str) -> Option<u32> {
    name.strip_prefix(PREFIX)?
        .split('-')
        .find_map(|part| part.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_unique_name_carries_the_pid_and_the_tag() {
        let first = unique_name("sw");
        let second = unique_name("sw");
        assert_ne!(first, second);
        assert!(
            first.starts_with(PREFIX) && first.ends_with("-sw"),
            "{first}"
        );
        assert_eq!(owner_pid(&first), Some(std::process::id()));
        assert_eq!(
            owner_pid("vipd-t-sw-12-3"),
            Some(12),
            "the agent's names before the kit"
        );
        assert_eq!(owner_pid("vipd-t-sw"), None);
        assert_eq!(owner_pid("vipd-lab-bench"), None);
    }
}
