//! `cargo xtask package`: the static vipd binary and the build context of its image
//! (deploy/Containerfile), with `--image` the OCI image itself, built with buildah into an
//! OCI archive without a registry or a daemon, and with `--deb` the Debian package (`deb`).
use anyhow::{bail, Context, Result};
use std::{
    path::{Path, PathBuf},
    process::Command,
};

use crate::{bootstrap, ebpf, workspace};

mod deb;

/// The host target, named explicitly: with `--target` cargo applies RUSTFLAGS to the binary
/// only, not to build scripts and proc macros (which cannot be linked statically).
const TARGET: &str = "x86_64-unknown-linux-gnu";
/// ELF program header type of the dynamic loader's path; a static binary has none.
const PT_INTERP: u32 = 3;

#[derive(clap::Args)]
pub struct Options {
    /// Also build the image (buildah) into target/package/vipd-VERSION.oci.tar.
    #[arg(long)]
    image: bool,
    /// Also build the Debian package target/package/vipd_VERSION_amd64.deb.
    #[arg(long)]
    deb: bool,
    /// The Debian package's Maintainer, `Name <email>` (default: `$DEBFULLNAME <$DEBEMAIL>` as
    /// dch and dh_make read them, else the project's placeholder, with a warning).
    #[arg(long, requires = "deb")]
    maintainer: Option<String>,
}

fn package_dir() -> PathBuf {
    workspace::root().join("target/package")
}

pub fn run(opts: &Options) -> Result<()> {
    bootstrap::ensure()?;
    ebpf::build(&ebpf::Options { release: false })?;
    let binary = build_static_binary()?;
    let context = package_dir().join("context");
    std::fs::create_dir_all(&context).with_context(|| format!("creating {}", context.display()))?;
    let staged = context.join("vipd");
    copy(&binary, &staged)?;
    // The release profile keeps line tables (debug = 1) for backtraces on the build machine;
    // the image does without them: 6 MB instead of 45. Symbols stay, for readable panics.
    workspace::run(Command::new("strip").arg("--strip-debug").arg(&staged))?;
    copy(
        &workspace::root().join("deploy/Containerfile"),
        &context.join("Containerfile"),
    )?;
    println!("build context: {}", context.display());
    if opts.image {
        let archive = build_image(&context)?;
        println!("image: {}", archive.display());
    }
    if opts.deb {
        let maintainer = deb::maintainer(opts.maintainer.as_deref())?;
        let package = deb::build(&staged, &package_dir(), &maintainer)?;
        println!("Debian package: {}", package.display());
    }
    Ok(())
}

fn build_static_binary() -> Result<PathBuf> {
    workspace::run(
        workspace::cargo()
            .args(["build", "--release", "--target", TARGET])
            .args(["-p", "vipd", "--bin", "vipd"])
            // glibc's static libraries (libc6-dev) instead of the shared ones.
            .env(
                "CARGO_ENCODED_RUSTFLAGS",
                ["-C", "target-feature=+crt-static"].join("\x1f"),
            ),
    )?;
    let binary = workspace::root().join(format!("target/{TARGET}/release/vipd"));
    if has_interpreter(&binary)? {
        bail!(
            "{} asks for a dynamic loader although it was linked with +crt-static; an image \
             without a libc cannot run it",
            binary.display()
        );
    }
    Ok(binary)
}

/// Whether the ELF file at `path` names a dynamic loader (PT_INTERP), i.e. is not static.
fn has_interpreter(path: &Path) -> Result<bool> {
    let elf = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let u16_at = |at: usize| {
        elf.get(at..at + 2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]))
    };
    let u32_at = |at: usize| {
        elf.get(at..at + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    let u64_at = |at: usize| {
        elf.get(at..at + 8)
            .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")))
    };
    // 64-bit little-endian ELF: e_phoff at 0x20, e_phentsize at 0x36, e_phnum at 0x38.
    if elf.get(..6) != Some(b"\x7fELF\x02\x01".as_slice()) {
        bail!("{} is not a 64-bit little-endian ELF file", path.display());
    }
    let malformed = || anyhow::anyhow!("{}: malformed ELF header", path.display());
    let phoff = usize::try_from(u64_at(0x20).ok_or_else(malformed)?)?;
    let phentsize = usize::from(u16_at(0x36).ok_or_else(malformed)?);
    let phnum = usize::from(u16_at(0x38).ok_or_else(malformed)?);
    for i in 0..phnum {
        let p_type = u32_at(phoff + i * phentsize).ok_or_else(malformed)?;
        if p_type == PT_INTERP {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Builds the image from `context` with buildah into an OCI archive. buildah keeps its storage
/// under target/package/ (vfs driver: no overlay mounts), so nothing of the machine's own
/// container storage is touched, and removes the image from it afterwards.
fn build_image(context: &Path) -> Result<PathBuf> {
    let version = env!("CARGO_PKG_VERSION");
    let tag = format!("localhost/vipd:{version}");
    let dir = package_dir();
    let archive = dir.join(format!("vipd-{version}.oci.tar"));
    let buildah = || {
        let mut cmd = Command::new("buildah");
        cmd.arg("--root")
            .arg(dir.join("storage"))
            .arg("--runroot")
            .arg(dir.join("runroot"))
            .args(["--storage-driver", "vfs"]);
        cmd
    };
    if Command::new("buildah").arg("--version").output().is_err() {
        bail!("buildah is needed for --image (Debian package buildah; scripts/bootstrap.sh)");
    }
    workspace::run(
        buildah()
            .args([
                "bud",
                "--format",
                "oci",
                "--layers=false",
                "--timestamp",
                "0",
            ])
            .args(["-f", "Containerfile", "-t", &tag])
            .arg(context)
            .current_dir(context),
    )?;
    let _ = std::fs::remove_file(&archive);
    workspace::run(
        buildah()
            .args(["push", &tag])
            .arg(format!("oci-archive:{}:{tag}", archive.display())),
    )?;
    workspace::run(buildah().args(["rmi", &tag]))?;
    Ok(archive)
}

fn copy(from: &Path, to: &Path) -> Result<()> {
    std::fs::copy(from, to)
        .map(drop)
        .with_context(|| format!("copying {} to {}", from.display(), to.display()))
}
