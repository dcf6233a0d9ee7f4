//! The sweep: what a crashed test run, lab or benchmark left behind.
use std::{io, process::Command};

use crate::{netns::remove, owner_pid, PREFIX};

/// Removes every namespace named by [`unique_name`](crate::unique_name) whose owner is gone,
/// killing the processes in it first, and the scratch directories in the temp dir named the same
/// way. Names carrying the pid of a live process belong to a run in progress and are left alone.
pub fn remove_leftovers() -> io::Result<()> {
    let out = Command::new("ip")
        .args(["netns", "list"])
        .output()
        .map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("cannot run `ip netns list` (is iproute2 installed?): {e}"),
            )
        })?;
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        // Lines look like "name" or "name (id: 3)".
        let name = line.split_whitespace().next().unwrap_or_default();
        if is_leftover(name) {
            eprintln!("removing leftover namespace {name}");
            remove(name);
        }
    }
    if let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) {
        for entry in entries.flatten() {
            if is_leftover(&entry.file_name().to_string_lossy()) {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
    Ok(())
}

/// A name with the kit's prefix whose owner is not a live process, or that carries no pid at all
/// (nothing makes such names).
fn is_leftover(name: &str) -> bool {
    name.starts_with(PREFIX)
        && owner_pid(name).is_none_or(|pid| !std::path::Path::new(&format!("/proc/{pid}")).exists())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_names_of_dead_owners_are_leftovers() {
        assert!(!is_leftover(&crate::unique_name("live")));
        // Pids stop well below this (pid_max is at most 2^22).
        assert!(is_leftover("vipd-t-4294967294-0-dead"));
        assert!(is_leftover("vipd-t-sw-4294967294-0"));
        let old_order_live = format!("vipd-t-pa-{}-0", std::process::id());
        assert!(!is_leftover(&old_order_live), "a live older checkout's");
        assert!(is_leftover("vipd-t-sw"));
        assert!(!is_leftover("other-4294967294-0-x"));
    }
}
