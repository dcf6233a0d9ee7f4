//! The kit vipd's integration tests share: network namespaces that clean up after themselves,
//! test frames built byte by byte, and the rule for tests that need root.
//!
//! Tests that need the kernel create their own namespaces (named `vipd-t-...`, so
//! `cargo xtask test` can sweep up after a crashed run) and never touch the host's interfaces.
pub mod bench;
pub mod clock;
pub mod flood;
pub mod frames;
pub mod frr;
pub mod keepalived;
pub mod lab;
pub mod netns;
pub mod raw_ip;
pub mod topology;
pub mod vipd;

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
