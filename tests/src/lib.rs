//! What vipd's integration tests share: network namespaces that clean up after themselves and
//! the clocks (both from the kit, `vipd_testkit`, re-exported here), test frames built byte by
//! byte, vipd and keepalived as processes, and the rule for tests that need root.
//!
//! Tests that need the kernel create their own namespaces (named `vipd-t-<pid>-...`, so
//! `cargo xtask test` can sweep up after a crashed run) and never touch the host's interfaces.
pub mod bench;
pub mod flood;
pub mod frames;
pub mod frr;
pub mod keepalived;
pub mod lab;
pub mod raw_ip;
pub mod topology;
pub mod vipd;

pub use vipd_testkit::{clock, netns};

/// Whether kernel tests can run. As root: yes. Otherwise the test is skipped with a message,
/// unless `VIPD_REQUIRE_KERNEL_TESTS` is set (as `cargo xtask test` does), in which case the test
/// fails: a silently skipped test must never look like a pass in CI.
pub fn kernel_tests_enabled() -> bool {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        return true;
    }
    assert!(
        std::env::var_os("VIPD_REQUIRE_KERNEL_TESTS").is_none(),
        "kernel tests need root (VIPD_REQUIRE_KERNEL_TESTS is set, so they may not be skipped)"
    );
    eprintln!("skipping: kernel tests need root");
    false
}
