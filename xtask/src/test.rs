//! `cargo xtask test`: every check CI runs, in the order that fails fastest: formatting, clippy
//! (host crates and the eBPF crate), then all tests including the kernel ones, then the fuzz
//! targets over their corpora.
use anyhow::{bail, Result};

use crate::{bootstrap, ebpf, fuzz, workspace};

#[derive(clap::Args)]
pub struct Options {
    /// Skip `cargo fmt --check` and clippy.
    #[arg(long)]
    no_lint: bool,
    /// Extra arguments for `cargo test` (after `--`), e.g. a test name filter.
    #[arg(last = true)]
    cargo_test_args: Vec<String>,
}

pub fn run(opts: &Options) -> Result<()> {
    if !nix_is_root() {
        bail!(
            "cargo xtask test needs root: the kernel tests load XDP programs and create network \
             namespaces (run it with sudo, or as root in CI)"
        );
    }
    bootstrap::ensure()?;
    ebpf::build(&ebpf::Options { release: false })?;
    vipd_testkit::remove_leftovers()?;

    if !opts.no_lint {
        lint()?;
    }
    // The integration tests run the vipd binary itself; `cargo test` builds only its test
    // harness.
    workspace::run(workspace::cargo().args(["build", "--package", "vipd", "--bins"]))?;
    let mut test = workspace::cargo();
    test.args(["test", "--workspace", "--all-targets"]);
    if !opts.cargo_test_args.is_empty() {
        test.arg("--").args(&opts.cargo_test_args);
    }
    // The kernel tests refuse to skip themselves when this is set: in CI a test that silently
    // skipped would look like a pass.
    test.env("VIPD_REQUIRE_KERNEL_TESTS", "1");
    workspace::run(&mut test)?;
    fuzz::replay_corpora()
}

fn lint() -> Result<()> {
    let root = workspace::root();
    workspace::run(workspace::cargo().args(["fmt", "--all", "--check"]))?;
    workspace::run(
        workspace::cargo()
            .current_dir(root.join("agent-ebpf"))
            .args(["+nightly", "fmt", "--check"]),
    )?;
    workspace::run(workspace::cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    workspace::run(
        workspace::cargo()
            .current_dir(root.join("agent-ebpf"))
            .args([
                "+nightly",
                "clippy",
                "--target",
                "bpfel-unknown-none",
                "-Z",
                "build-std=core",
                "--target-dir",
            ])
            .arg(root.join("target/ebpf"))
            .args(["--", "-D", "warnings"]),
    )
}

fn nix_is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}
