//! keepalived's own sample configurations (the Debian package's
//! /usr/share/doc/keepalived/samples): every one that `keepalived --config-test` accepts,
//! `vipd import-keepalived` imports, with the same configuration id. A sample whose `@ID` lines
//! name ids is checked for each of them and for this host's default; the ones keepalived refuses
//! are listed as skipped with keepalived's reason.
//!
//! keepalived refuses a file naming an interface this machine does not have, which says nothing
//! about the file: as root, keepalived judges each sample in a namespace holding an interface
//! (a veth) for every name the samples give one.
use std::{
    collections::BTreeSet,
    fs,
    path::{Path, PathBuf},
    process::Command,
};

use vipd_tests::{kernel_tests_enabled, netns::Netns, vipd::Scratch};

const SAMPLES: &str = "/usr/share/doc/keepalived/samples";

/// Whether CI runs the test, which then may not pass by skipping.
fn required() -> bool {
    std::env::var_os("VIPD_REQUIRE_KERNEL_TESTS").is_some()
}

/// Each sample's name and text, `.gz` ones decompressed, in name order.
fn samples() -> Vec<(String, String)> {
    let Ok(entries) = fs::read_dir(SAMPLES) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| Some(e.ok()?.path())).collect();
    paths.sort();
    paths
        .into_iter()
        .filter(|path| path.is_file())
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            match name.strip_suffix(".gz") {
                Some(plain) => {
                    let out = Command::new("gzip")
                        .arg("-dc")
                        .arg(&path)
                        .output()
                        .unwrap_or_else(|e| panic!("gzip -dc {}: {e}", path.display()));
                    assert!(out.status.success(), "gzip -dc {} failed", path.display());
                    (
                        plain.to_string(),
                        String::from_utf8_lossy(&out.stdout).into_owned(),
                    )
                }
                None => (name, fs::read_to_string(&path).unwrap_or_default()),
            }
        })
        .collect()
}

/// The interfaces a configuration names: the word after `interface`, `dev` or any
/// `*_interface` keyword, and the first word of each line of a `track_interface` block.
fn interfaces(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut in_track_block = false;
    for line in text.lines() {
        let line = line.split(['#', '!']).next().unwrap_or("");
        let words: Vec<&str> = line.split_whitespace().collect();
        if in_track_block {
            match words.first() {
                Some(&"}") => in_track_block = false,
                Some(name) => {
                    names.insert(name.to_string());
                }
                None => {}
            }
            continue;
        }
        if words.first() == Some(&"track_interface") && words.last() == Some(&"{") {
            in_track_block = true;
            continue;
        }
        for pair in words.windows(2) {
            if pair[0] == "interface" || pair[0] == "dev" || pair[0].ends_with("_interface") {
                names.insert(pair[1].to_string());
            }
        }
    }
    names.retain(|name| {
        name.len() <= 15 && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.')
    });
    names
}

/// The configuration ids to check a file with: this host's default (`None`) and every id its
/// `@ID` / `@^ID` lines name.
fn config_ids(text: &str) -> Vec<Option<String>> {
    let named: BTreeSet<String> = text
        .lines()
        .filter_map(|line| {
            let rest = line.trim_start().strip_prefix('@')?;
            let rest = rest.strip_prefix('^').unwrap_or(rest);
            let id = rest.split_whitespace().next()?;
            Some(id.to_string())
        })
        .collect();
    std::iter::once(None)
        .chain(named.into_iter().map(Some))
        .collect()
}

/// `-i ID`, or nothing for the default.
fn id_args(id: &Option<String>) -> Vec<String> {
    id.iter()
        .flat_map(|id| ["-i".to_string(), id.clone()])
        .collect()
}

/// keepalived's verdict on `path`: `Err` holds the last line it printed.
fn keepalived_accepts(ns: Option<&Netns>, path: &Path, id: &Option<String>) -> Result<(), String> {
    let mut command = match ns {
        Some(ns) => {
            let mut command = Command::new("ip");
            command.args(["netns", "exec", ns.name(), "keepalived"]);
            command
        }
        None => Command::new("keepalived"),
    };
    let out = command
        .arg("--config-test")
        .args(id_args(id))
        .arg("-f")
        .arg(path)
        .output()
        .unwrap_or_else(|e| panic!("cannot run keepalived: {e}"));
    if out.status.success() {
        return Ok(());
    }
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let last = text
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    Err(format!("{}: {last}", out.status))
}

/// vipd's verdict: `Err` holds what it printed on stderr.
fn vipd_imports(path: &Path, id: &Option<String>) -> Result<(), String> {
    let out = Command::new(vipd_tests::vipd::binary())
        .arg("import-keepalived")
        .args(id_args(id))
        .arg(path)
        .output()
        .unwrap_or_else(|e| panic!("cannot run vipd: {e}"));
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

#[test]
fn every_sample_keepalived_accepts_imports() {
    let samples = samples();
    if samples.is_empty() {
        assert!(
            !required(),
            "no keepalived samples in {SAMPLES}: install keepalived (VIPD_REQUIRE_KERNEL_TESTS is set, so this test may not be skipped)"
        );
        eprintln!("skipping: no keepalived samples in {SAMPLES}");
        return;
    }
    let has_keepalived = Command::new("keepalived").arg("--version").output().is_ok();
    if !has_keepalived {
        assert!(
            !required(),
            "no keepalived binary (VIPD_REQUIRE_KERNEL_TESTS is set, so this test may not be skipped)"
        );
        eprintln!("skipping: no keepalived binary to judge the samples");
        return;
    }
    let ns = kernel_tests_enabled().then(|| Netns::new("samples"));
    if let Some(ns) = &ns {
        let names: BTreeSet<String> = samples
            .iter()
            .flat_map(|(_, text)| interfaces(text))
            .collect();
        for (n, name) in names.iter().enumerate() {
            ns.exec(&[
                "ip",
                "link",
                "add",
                name,
                "type",
                "veth",
                "peer",
                "name",
                &format!("vp{n}"),
            ]);
        }
    }
    let dir = Scratch::new("samples");
    let (mut imported, mut skipped, mut failed) = (Vec::new(), Vec::new(), Vec::new());
    for (name, text) in &samples {
        let path = dir.path().join(name);
        fs::write(&path, text).unwrap();
        for id in config_ids(text) {
            let label = match &id {
                Some(id) => format!("{name} -i {id}"),
                None => name.clone(),
            };
            match keepalived_accepts(ns.as_ref(), &path, &id) {
                Err(why) => skipped.push(format!("{label} (keepalived refuses it, {why})")),
                Ok(()) => match vipd_imports(&path, &id) {
                    Ok(()) => imported.push(label),
                    Err(errors) => failed.push(format!("{label}:\n{errors}")),
                },
            }
        }
    }
    eprintln!("imported ({}):", imported.len());
    for label in &imported {
        eprintln!("  {label}");
    }
    eprintln!("skipped ({}):", skipped.len());
    for label in &skipped {
        eprintln!("  {label}");
    }
    assert!(
        failed.is_empty(),
        "keepalived accepts but vipd refuses {} sample(s):\n{}",
        failed.len(),
        failed.join("\n")
    );
    assert!(
        !imported.is_empty() || !required(),
        "keepalived accepted none of the samples in {SAMPLES}: is it working?"
    );
}

#[test]
fn the_sample_helpers_find_interfaces_and_ids() {
    let text = "@high x\n @^low y\nvrrp_instance A {\n interface eth1 # c\n track_interface {\n  eth2 weight 2\n }\n virtual_ipaddress {\n  10.0.0.1 dev eth3 label eth3:1\n }\n lvs_sync_daemon_interface eth4\n}\n";
    assert_eq!(
        interfaces(text).into_iter().collect::<Vec<_>>(),
        ["eth1", "eth2", "eth3", "eth4"]
    );
    assert_eq!(
        config_ids(text),
        [None, Some("high".to_string()), Some("low".to_string())]
    );
}
