//! Builds the XDP program (`agent-ebpf`) and puts the object where the agent embeds it from.
use anyhow::{Context, Result};
use std::path::PathBuf;

use crate::workspace;

const TARGET: &str = "bpfel-unknown-none";
const BINARY: &str = "vipd-xdp";

#[derive(clap::Args)]
pub struct Options {
    /// Build with the release profile (LTO); the default dev profile is optimised too, because
    /// the verifier rejects unoptimised BPF code.
    #[arg(long)]
    pub release: bool,
}

/// Where the agent's build script looks for the object (see agent/build.rs).
pub fn object_path() -> PathBuf {
    workspace::root().join("target/ebpf/vipd-xdp.o")
}

pub fn build(opts: &Options) -> Result<()> {
    let root = workspace::root();
    let target_dir = root.join("target/ebpf");
    let mut cmd = workspace::cargo();
    cmd.current_dir(root.join("agent-ebpf"))
        .args([
            "+nightly",
            "build",
            "--target",
            TARGET,
            "-Z",
            "build-std=core",
        ])
        .arg("--target-dir")
        .arg(&target_dir)
        // BTF makes the object's maps and types self-describing; debuginfo is what BTF is made
        // from. The unit separator is how cargo encodes several flags in one variable.
        .env(
            "CARGO_ENCODED_RUSTFLAGS",
            ["-C", "debuginfo=2", "-C", "link-arg=--btf"].join("\x1f"),
        );
    if opts.release {
        cmd.arg("--release");
    }
    workspace::run(&mut cmd)?;

    let profile = if opts.release { "release" } else { "debug" };
    let built = target_dir.join(TARGET).join(profile).join(BINARY);
    let dest = object_path();
    let object = std::fs::read(&built).with_context(|| format!("reading {}", built.display()))?;
    // Rewriting an unchanged object would make cargo rebuild the agent that embeds it.
    if std::fs::read(&dest).ok().as_deref() != Some(object.as_slice()) {
        std::fs::write(&dest, object).with_context(|| format!("writing {}", dest.display()))?;
    }
    Ok(())
}
