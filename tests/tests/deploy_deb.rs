//! `cargo xtask package --deb`: the package's metadata and file list as dpkg-deb reads them, its
//! man pages through groff, its bash completion through `bash -n`, and, unpacked into a scratch
//! directory with `dpkg -x` (never into this machine's root), its unit through
//! `systemd-analyze verify` and its configuration through the packaged vipd's check-config.
mod deploy_support;

use std::{path::Path, process::Command};

use deploy_support::{cargo, run_ok, target_dir, verify_unit};

/// What the package installs besides directories and the subcommands' man pages.
const FILES: [&str; 9] = [
    "./usr/sbin/vipd",
    "./usr/lib/systemd/system/vipd.service",
    "./etc/vipd/vipd.toml",
    "./usr/share/man/man8/vipd.8.gz",
    "./usr/share/bash-completion/completions/vipd",
    "./usr/share/zsh/vendor-completions/_vipd",
    "./usr/share/fish/vendor_completions.d/vipd.fish",
    "./usr/share/doc/vipd/copyright",
    "./usr/share/doc/vipd/systemd.md",
];

fn stdout(command: &mut Command) -> String {
    String::from_utf8_lossy(&run_ok(command).stdout).into_owned()
}

fn dpkg_deb(option: &str, deb: &Path) -> String {
    stdout(Command::new("dpkg-deb").arg(option).arg(deb))
}

#[test]
fn the_debian_package_installs_vipd_its_unit_config_man_pages_and_completions() {
    run_ok(cargo().args(["xtask", "package", "--deb"]));
    let version = env!("CARGO_PKG_VERSION");
    let deb = target_dir().join(format!("package/vipd_{version}_amd64.deb"));

    // --contents lists `mode owner/group size date time path`.
    let contents = dpkg_deb("--contents", &deb);
    let entries: Vec<(&str, &str, &str)> = contents
        .lines()
        .map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            (fields[0], fields[1], *fields.last().expect("a path"))
        })
        .collect();
    for file in FILES {
        assert!(
            entries.iter().any(|(_, _, path)| *path == file),
            "{file} is not in the package:\n{contents}"
        );
    }
    assert!(
        entries.iter().all(|(_, owner, _)| *owner == "root/root"),
        "{contents}"
    );
    let mode = |file: &str| {
        entries
            .iter()
            .find(|(_, _, path)| *path == file)
            .map(|(mode, _, _)| *mode)
    };
    assert_eq!(mode("./usr/sbin/vipd"), Some("-rwxr-xr-x"));
    assert_eq!(mode("./etc/vipd/vipd.toml"), Some("-rw-------"));
    let subcommand_pages: Vec<_> = entries
        .iter()
        .filter(|(_, _, path)| path.starts_with("./usr/share/man/man8/vipd-"))
        .collect();
    assert!(subcommand_pages.len() >= 5, "{contents}");
    assert!(
        !contents.contains("vipd-man.8") && !contents.contains("vipd-completions.8"),
        "the packagers' subcommands have pages:\n{contents}"
    );

    let field = |name: &str| {
        stdout(Command::new("dpkg-deb").arg("-f").arg(&deb).arg(name))
            .trim()
            .to_owned()
    };
    assert_eq!(field("Package"), "vipd");
    assert_eq!(field("Version"), version);
    assert_eq!(field("Architecture"), "amd64");
    // Static: no library; procps for the unit's /bin/kill.
    assert_eq!(field("Depends"), "procps");
    let info = dpkg_deb("--info", &deb);
    for script in ["postinst", "prerm", "postrm", "conffiles", "control"] {
        assert!(info.contains(script), "no {script}:\n{info}");
    }
    let scratch = target_dir().join("deploy-test/deb");
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch).expect("create the test directory");
    let control = scratch.join("DEBIAN");
    run_ok(
        Command::new("dpkg-deb")
            .arg("--control")
            .arg(&deb)
            .arg(&control),
    );
    assert_eq!(
        std::fs::read_to_string(control.join("conffiles")).expect("conffiles"),
        "/etc/vipd/vipd.toml\n"
    );
    // The maintainer scripts reload systemd and never enable or start the service.
    for script in ["postinst", "prerm", "postrm"] {
        let text = std::fs::read_to_string(control.join(script)).expect("script");
        run_ok(Command::new("sh").arg("-n").arg(control.join(script)));
        let commands: Vec<&str> = text
            .lines()
            .filter(|line| !line.trim_start().starts_with('#'))
            .collect();
        for verb in ["enable", "start", "restart", "reload-or-restart"] {
            let call = format!("systemctl {verb}");
            assert!(
                commands.iter().all(|line| !line.contains(&call)),
                "{script} runs {call}:\n{text}"
            );
        }
    }

    let root = scratch.join("root");
    run_ok(Command::new("dpkg").arg("-x").arg(&deb).arg(&root));
    check_man_pages(&root);
    run_ok(
        Command::new("bash")
            .arg("-n")
            .arg(root.join("usr/share/bash-completion/completions/vipd")),
    );
    check_unit(&root);
}

/// groff renders each page without a warning, and vipd(8) has its subcommands.
fn check_man_pages(root: &Path) {
    let dir = root.join("usr/share/man/man8");
    for entry in std::fs::read_dir(&dir).expect("man8") {
        let page = entry.expect("entry").path();
        let roff = stdout(Command::new("gzip").arg("-dc").arg(&page));
        assert!(roff.contains(".TH "), "{}: no .TH header", page.display());
        let output = run_ok(
            Command::new("sh")
                .arg("-c")
                .arg("gzip -dc \"$1\" | groff -man -Tutf8 -ww -b")
                .arg("sh")
                .arg(&page),
        );
        let warnings = String::from_utf8_lossy(&output.stderr);
        assert!(warnings.is_empty(), "{}: {warnings}", page.display());
    }
    let rendered = stdout(
        Command::new("sh")
            .arg("-c")
            .arg("gzip -dc \"$1\" | groff -man -Tutf8")
            .arg("sh")
            .arg(dir.join("vipd.8.gz")),
    );
    for subcommand in ["run", "check-config", "status", "cleanup"] {
        assert!(rendered.contains(subcommand), "vipd(8):\n{rendered}");
    }
}

/// The unpacked unit through systemd-analyze verify. verify insists that every Exec command
/// exists, and vipd is not installed on this machine: a copy of the unit names the unpacked
/// binary instead (as deploy_systemd.rs does with the repository's unit). Nothing else changes.
fn check_unit(root: &Path) {
    let unit = root.join("usr/lib/systemd/system/vipd.service");
    let text = std::fs::read_to_string(&unit).expect("the unit");
    assert!(!text.contains("/usr/local"), "{text}");
    assert!(text.contains("ExecStart=/usr/sbin/vipd run"), "{text}");
    verify_unit(
        &text,
        "/usr/sbin/vipd",
        &root.join("usr/sbin/vipd"),
        &root.parent().expect("scratch").join("vipd.service"),
    );

    // ExecStartPre's check, by the packaged binary, of the packaged configuration.
    run_ok(
        Command::new(root.join("usr/sbin/vipd"))
            .arg("check-config")
            .arg(root.join("etc/vipd/vipd.toml")),
    );
}
