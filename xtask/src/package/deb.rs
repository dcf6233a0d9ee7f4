//! `cargo xtask package --deb`: the Debian package, staged as the tree it installs plus DEBIAN/
//! and built with `dpkg-deb --build --root-owner-group` (no fakeroot, no debhelper: the package
//! is one static binary and a few text files, which a source package would only wrap).
//!
//! What goes where follows the Debian policy: the binary in /usr/sbin (vipd runs as root), the
//! unit in /usr/lib/systemd/system, the configuration in /etc as a conffile (dpkg keeps an
//! edited one on upgrade), man pages gzipped in section 8, and the completions where bash-
//! completion, zsh and fish look for the ones packages ship.
use anyhow::{bail, Context, Result};
use std::{
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
    process::Command,
};

use crate::workspace;

/// The unit and the docs install vipd under /usr/local (a hand install); the package installs
/// it under /usr. The packaged unit is the repository's with this one prefix changed.
const HAND_PREFIX: &str = "/usr/local/";
const PACKAGE_PREFIX: &str = "/usr/";
const UNIT: &str = "usr/lib/systemd/system/vipd.service";
const CONFIG: &str = "etc/vipd/vipd.toml";
const MAN_DIR: &str = "usr/share/man/man8";
const DOC_DIR: &str = "usr/share/doc/vipd";
/// The shells clap_complete writes for, and where each looks for packaged completions.
const COMPLETIONS: [(&str, &str); 3] = [
    ("bash", "usr/share/bash-completion/completions/vipd"),
    ("zsh", "usr/share/zsh/vendor-completions/_vipd"),
    ("fish", "usr/share/fish/vendor_completions.d/vipd.fish"),
];
/// The static binary links no library. The unit's ExecReload runs /bin/kill, which procps
/// ships; systemd itself is not needed to run vipd, so it is not a dependency.
const DEPENDS: &str = "procps";

/// The Maintainer field when neither `--maintainer` nor DEBFULLNAME and DEBEMAIL name one.
const PLACEHOLDER_MAINTAINER: &str =
    "The vipd developers <maintainers@users.noreply.h-seed-7d6b010e.example>";

/// The Maintainer field: `given`, else `$DEBFULLNAME <$DEBEMAIL>` (the variables Debian's own
/// tools read), else the placeholder, which is not a contact and says so on stderr.
pub fn maintainer(given: Option<&str>) -> Result<String> {
    let from_env = || {
        let name = std::env::var("DEBFULLNAME").ok()?;
        let email = std::env::var("DEBEMAIL").ok()?;
        Some(format!("{} <{}>", name.trim(), email.trim()))
    };
    let Some(maintainer) = given.map(str::to_string).or_else(from_env) else {
        eprintln!(
            "warning: the package's Maintainer is a placeholder; pass --maintainer 'Name \
             <email>' or set DEBFULLNAME and DEBEMAIL"
        );
        return Ok(PLACEHOLDER_MAINTAINER.into());
    };
    if !is_name_and_email(&maintainer) {
        bail!("the Maintainer {maintainer:?} is not `Name <email>`");
    }
    Ok(maintainer)
}

/// `Name <email>` on one line, as Debian policy (5.6.2) has the Maintainer field.
fn is_name_and_email(field: &str) -> bool {
    let one_line = !field.contains('\n');
    one_line
        && field.split_once(" <").is_some_and(|(name, rest)| {
            !name.trim().is_empty() && rest.len() > 1 && rest.ends_with('>')
        })
}

/// Stages the package of `binary` (the stripped static vipd) under `dir`/deb and builds
/// `dir`/vipd_VERSION_amd64.deb from it, with `maintainer` as its Maintainer field.
pub fn build(binary: &Path, dir: &Path, maintainer: &str) -> Result<PathBuf> {
    let version = env!("CARGO_PKG_VERSION");
    let root = dir.join("deb");
    match std::fs::remove_dir_all(&root) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(e).with_context(|| format!("removing {}", root.display()))
        }
        _ => {}
    }
    let repo = workspace::root();
    let read = |path: &str| {
        let path = repo.join(path);
        std::fs::read(&path).with_context(|| format!("reading {}", path.display()))
    };

    put(&root, "usr/sbin/vipd", &std::fs::read(binary)?, 0o755)?;
    put(
        &root,
        UNIT,
        packaged_unit(&read("deploy/systemd/vipd.service")?)?.as_bytes(),
        0o644,
    )?;
    // The reference configuration: every key, explained. It may come to hold authentication
    // keys, so only root reads it.
    put(&root, CONFIG, &read("agent/conf/vipd.toml")?, 0o600)?;

    let man = root.join(MAN_DIR);
    std::fs::create_dir_all(&man).with_context(|| format!("creating {}", man.display()))?;
    workspace::run(Command::new(binary).arg("man").arg(&man))?;
    // -n: no name or time stamp in the archive, so the same page gives the same package.
    workspace::run(
        Command::new("sh")
            .arg("-c")
            .arg("gzip -9n -- *.8")
            .current_dir(&man),
    )?;
    for (shell, path) in COMPLETIONS {
        let output = Command::new(binary)
            .args(["completions", shell])
            .output()
            .with_context(|| format!("running {} completions {shell}", binary.display()))?;
        if !output.status.success() {
            bail!(
                "{} completions {shell} failed: {}",
                binary.display(),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        put(&root, path, &output.stdout, 0o644)?;
    }

    put(
        &root,
        &format!("{DOC_DIR}/copyright"),
        copyright(&read("LICENSE")?)?.as_bytes(),
        0o644,
    )?;
    // Starting points to copy over the reference (two nodes, IPv6, unicast, ...).
    let examples = repo.join("agent/conf/examples");
    for entry in
        std::fs::read_dir(&examples).with_context(|| format!("reading {}", examples.display()))?
    {
        let name = entry?.file_name();
        let name = name.to_str().context("a non-UTF-8 example name")?;
        let text = read(&format!("agent/conf/examples/{name}"))?;
        put(&root, &format!("{DOC_DIR}/examples/{name}"), &text, 0o644)?;
    }
    // The unit's Documentation= names it.
    put(
        &root,
        &format!("{DOC_DIR}/systemd.md"),
        &read("docs/systemd.md")?,
        0o644,
    )?;

    let installed_kib = installed_size_kib(&root)?;
    put(
        &root,
        "DEBIAN/control",
        control(version, installed_kib, maintainer).as_bytes(),
        0o644,
    )?;
    put(
        &root,
        "DEBIAN/conffiles",
        format!("/{CONFIG}\n").as_bytes(),
        0o644,
    )?;
    put(&root, "DEBIAN/postinst", POSTINST.as_bytes(), 0o755)?;
    put(&root, "DEBIAN/prerm", PRERM.as_bytes(), 0o755)?;
    put(&root, "DEBIAN/postrm", POSTRM.as_bytes(), 0o755)?;

    let package = dir.join(format!("vipd_{version}_amd64.deb"));
    workspace::run(
        Command::new("dpkg-deb")
            .args(["--build", "--root-owner-group"])
            .arg(&root)
            .arg(&package),
    )?;
    Ok(package)
}

/// The repository's unit with vipd's paths under /usr; its header comment, which tells how to
/// install it by hand, gives way to one that says where it came from.
fn packaged_unit(unit: &[u8]) -> Result<String> {
    let unit = std::str::from_utf8(unit).context("deploy/systemd/vipd.service is not UTF-8")?;
    let body = unit
        .split_once("\n\n")
        .map(|(_, body)| body)
        .context("deploy/systemd/vipd.service: no blank line after the header comment")?;
    let unit = format!(
        "# vipd as a systemd service, from the vipd Debian package: installed, not enabled\n\
         # (`systemctl enable --now vipd`). Local changes go in a drop-in (`systemctl edit \
         vipd`).\n\n{}",
        body.replace(HAND_PREFIX, PACKAGE_PREFIX)
    );
    if unit.contains(HAND_PREFIX) {
        bail!("the packaged unit still names {HAND_PREFIX}");
    }
    Ok(unit)
}

fn control(version: &str, installed_kib: u64, maintainer: &str) -> String {
    format!(
        "Package: vipd\n\
         Version: {version}\n\
         Architecture: amd64\n\
         Maintainer: {maintainer}\n\
         Installed-Size: {installed_kib}\n\
         Depends: {DEPENDS}\n\
         Section: net\n\
         Priority: optional\n\
         Description: VRRP failover agent with an XDP fast path\n \
         vipd keeps a virtual IP alive across Linux machines, like keepalived, speaking\n \
         VRRP (VRRPv3, RFC 9568, and VRRPv2, RFC 3768) with keepalived and FRR and reading\n \
         keepalived.conf. An XDP program on each VRRP interface stamps every advert at the\n \
         driver and answers ARP and IPv6 neighbour solicitations for the VIPs it holds.\n \
         .\n \
         The service is installed but neither enabled nor started: edit\n \
         /etc/vipd/vipd.toml, then `systemctl enable --now vipd`.\n"
    )
}

/// A machine-readable debian/copyright (DEP-5) carrying the project's MIT licence.
fn copyright(license: &[u8]) -> Result<String> {
    let license = std::str::from_utf8(license).context("LICENSE is not UTF-8")?;
    let holder = license
        .lines()
        .find_map(|line| line.strip_prefix("Copyright (c) "))
        .context("LICENSE has no `Copyright (c)` line")?;
    // In DEP-5 a license text is a continuation: each line indented, empty ones as " .".
    let text: String = license
        .lines()
        .skip_while(|line| !line.starts_with("Permission"))
        .map(|line| {
            if line.is_empty() {
                " .\n".to_owned()
            } else {
                format!(" {line}\n")
            }
        })
        .collect();
    Ok(format!(
        "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\
         Upstream-Name: vipd\n\n\
         Files: *\n\
         Copyright: {holder}\n\
         License: MIT\n{text}"
    ))
}

/// The installed files' size for dpkg's Installed-Size, in KiB, each file rounded up.
fn installed_size_kib(root: &Path) -> Result<u64> {
    let mut kib = 0;
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in
            std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))?
        {
            let entry = entry?;
            let meta = entry.metadata()?;
            if meta.is_dir() {
                dirs.push(entry.path());
            } else {
                kib += meta.len().div_ceil(1024);
            }
        }
    }
    Ok(kib)
}

/// Writes `contents` to `root`/`path` with `mode`, creating its directories as 0755 (the
/// package's directories must not inherit a stricter umask).
fn put(root: &Path, path: &str, contents: &[u8], mode: u32) -> Result<()> {
    let file = root.join(path);
    let mut dir = file.parent().expect("a file under root");
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    while dir.starts_with(root) {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755))
            .with_context(|| format!("chmod {}", dir.display()))?;
        dir = dir.parent().expect("root has a parent");
    }
    std::fs::write(&file, contents).with_context(|| format!("writing {}", file.display()))?;
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode))
        .with_context(|| format!("chmod {}", file.display()))
}

/// After an install or upgrade: systemd learns of the new or changed unit. The service is not
/// enabled or started (a VRRP node must not join a cluster before its vipd.toml is written),
/// nor restarted on upgrade (a restart is a failover; the administrator picks the moment).
const POSTINST: &str = "#!/bin/sh
# vipd's unit is installed but neither enabled nor started here, and not restarted on upgrade:
# a node must not join a VRRP cluster before /etc/vipd/vipd.toml is written, and a restart is a
# failover. Run `systemctl enable --now vipd` (or `systemctl restart vipd`) when ready.
set -e
if [ \"$1\" = configure ] && [ -d /run/systemd/system ]; then
    systemctl daemon-reload || true
fi
";

/// Before a removal (not an upgrade): stop and disable the service, whose binary is about to
/// go; a stop hands the VIPs to a backup at once (priority-0 adverts).
const PRERM: &str = "#!/bin/sh
# On removal, not on upgrade: stop vipd (its VIPs go to a backup at once) and disable it, so no
# enablement link is left pointing at a unit that is gone.
set -e
if [ \"$1\" = remove ] && [ -d /run/systemd/system ]; then
    systemctl disable --now vipd.service || true
fi
";

/// After a removal: systemd forgets the unit that is gone.
const POSTRM: &str = "#!/bin/sh
set -e
if [ \"$1\" = remove ] && [ -d /run/systemd/system ]; then
    systemctl daemon-reload || true
fi
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_maintainer_is_a_name_and_an_email_on_one_line() {
        assert!(is_name_and_email("Jane Doe <jane@example.org>"));
        assert!(is_name_and_email(PLACEHOLDER_MAINTAINER));
        assert!(!is_name_and_email("jane@example.org"));
        assert!(!is_name_and_email(" <jane@example.org>"));
        assert!(!is_name_and_email("Jane <>"));
        assert!(!is_name_and_email("Jane <jane@example.org>\nDepends: evil"));
    }

    #[test]
    fn a_given_maintainer_is_taken_as_it_is_or_refused() {
        assert_eq!(
            maintainer(Some("Jane Doe <jane@example.org>")).unwrap(),
            "Jane Doe <jane@example.org>"
        );
        assert!(maintainer(Some("Jane Doe")).is_err());
    }
}
