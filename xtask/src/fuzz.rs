//! The fuzz targets (`agent/fuzz`, its own workspace) kept from rotting: `cargo xtask test`
//! checks that their Cargo.lock agrees with the workspace's, builds every target with
//! cargo-fuzz and replays each one's committed corpus once (`-runs=0`), which takes seconds
//! once the targets are built. The long runs are by hand: `cd agent/fuzz && cargo +nightly fuzz
//! run TARGET`.
use anyhow::{bail, Context, Result};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::workspace;

/// How to bring the fuzz crate's lock back in line.
const REFRESH_LOCK: &str = "agent/fuzz/Cargo.lock is out of date: start it from the \
    workspace's, `cp Cargo.lock agent/fuzz/ && (cd agent/fuzz && cargo +nightly fuzz build)`, \
    and commit it";

/// Where the fuzz crate lives.
fn fuzz_dir() -> PathBuf {
    workspace::root().join("agent/fuzz")
}

fn cargo_fuzz() -> Command {
    let mut cmd = workspace::cargo();
    cmd.current_dir(fuzz_dir()).args(["+nightly", "fuzz"]);
    cmd
}

/// Builds every target and runs each over its corpus.
pub fn replay_corpora() -> Result<()> {
    lock_agrees_with_workspace()?;
    // cargo-fuzz cannot pass `--locked` on; resolving the metadata with it fails the same way
    // when a dependency of the agent changed and the fuzz crate's lock did not follow.
    let mut metadata = workspace::cargo();
    metadata
        .current_dir(fuzz_dir())
        .args(["+nightly", "metadata", "--locked", "--format-version", "1"])
        .stdout(std::process::Stdio::null());
    workspace::run(&mut metadata).context(REFRESH_LOCK)?;
    workspace::run(cargo_fuzz().arg("build"))?;
    for target in targets()? {
        let corpus = fuzz_dir().join("corpus").join(&target);
        if !corpus.is_dir() {
            bail!(
                "fuzz target {target} has no committed corpus: run it and commit \
                 agent/fuzz/corpus/{target} (minimised with `cargo +nightly fuzz cmin {target}`)"
            );
        }
        workspace::run(
            cargo_fuzz()
                .args(["run", &target])
                .arg(&corpus)
                .args(["--", "-runs=0"]),
        )?;
    }
    Ok(())
}

/// The targets `cargo fuzz list` names.
fn targets() -> Result<Vec<String>> {
    let output = cargo_fuzz()
        .arg("list")
        .output()
        .context("cannot run `cargo +nightly fuzz list`")?;
    if !output.status.success() {
        bail!(
            "`cargo +nightly fuzz list` failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(String::from_utf8(output.stdout)?
        .lines()
        .map(str::to_string)
        .collect())
}

/// Every crate version the fuzz crate resolves, of a crate the workspace also uses, is one the
/// workspace resolves too: the targets test the code the daemon is built from.
fn lock_agrees_with_workspace() -> Result<()> {
    let workspace_lock = locked_versions(&workspace::root().join("Cargo.lock"))?;
    let fuzz_lock = locked_versions(&fuzz_dir().join("Cargo.lock"))?;
    let mut differ = Vec::new();
    for (name, versions) in &fuzz_lock {
        let Some(ours) = workspace_lock.get(name) else {
            continue;
        };
        for version in versions.difference(ours) {
            let ours: Vec<&str> = ours.iter().map(String::as_str).collect();
            differ.push(format!("{name} {version} (workspace: {})", ours.join(", ")));
        }
    }
    if !differ.is_empty() {
        bail!(
            "agent/fuzz/Cargo.lock resolves other versions than the workspace: {}; {REFRESH_LOCK}",
            differ.join("; ")
        );
    }
    Ok(())
}

/// The `name` -> versions of the packages in a Cargo.lock.
fn locked_versions(lock: &Path) -> Result<BTreeMap<String, BTreeSet<String>>> {
    let text =
        std::fs::read_to_string(lock).with_context(|| format!("reading {}", lock.display()))?;
    let mut versions: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for package in text.split("[[package]]").skip(1) {
        let field = |key: &str| {
            package.lines().find_map(|line| {
                line.strip_prefix(key)
                    .and_then(|rest| rest.strip_prefix(" = \""))
                    .and_then(|rest| rest.strip_suffix('"'))
            })
        };
        if let (Some(name), Some(version)) = (field("name"), field("version")) {
            versions
                .entry(name.to_string())
                .or_default()
                .insert(version.to_string());
        }
    }
    Ok(versions)
}
