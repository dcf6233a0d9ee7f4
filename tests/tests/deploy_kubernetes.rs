//! deploy/kubernetes/: the manifests against the Kubernetes schemas (offline, with the
//! kubernetes-validate package in a venv under target/), the ConfigMap's and the static pod's
//! vipd.toml through vipd's own configuration check, the capabilities the pods grant against
//! the kernel (vipd's XDP program loads and attaches with exactly those, and not without each),
//! and the host firewall rule for VRRP through `nft --check`.
mod deploy_support;

use std::{
    collections::HashMap,
    net::IpAddr,
    path::Path,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use deploy_support::{check_manifests, repo, vipd_binary};
use vipd::config::{self, model::CheckKind, Config};
use vipd_tests::{
    kernel_tests_enabled,
    netns::{veth, Netns},
};

/// Loads `path` through `vipd check-config`'s own code and returns the model.
fn checked_config(path: &Path) -> Config {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    match config::check_str(path, &text) {
        Ok(checked) => {
            assert!(
                checked.warnings.0.is_empty(),
                "{}: {}",
                path.display(),
                checked.warnings
            );
            checked.config
        }
        Err(errors) => panic!(
            "{} is refused by vipd check-config:\n{errors}",
            path.display()
        ),
    }
}

/// What both configurations must do for the pods around them to work.
fn assert_fits_the_pods(path: &Path, config: &Config, facts: &HashMap<String, String>) {
    let probe_port: u16 = facts["probe_port"].parse().expect("probe_port");
    let metrics = config.global.metrics_listen.unwrap_or_else(|| {
        panic!(
            "{}: metrics_listen is needed for the /healthz probes",
            path.display()
        )
    });
    assert_eq!(
        metrics.port(),
        probe_port,
        "{}: the probes' port",
        path.display()
    );
    assert_eq!(
        metrics.ip(),
        IpAddr::from([127, 0, 0, 1]),
        "{}: the kubelet probes 127.0.0.1",
        path.display()
    );
    assert_eq!(
        config.global.control_socket.parent(),
        Some(Path::new(&facts["run_dir"])),
        "{}: the control socket must be in the directory shared with the host",
        path.display()
    );
    let (check, tls_verify) = config
        .checks
        .iter()
        .find_map(|check| match &check.kind {
            CheckKind::Http {
                url, tls_verify, ..
            } if url.as_str() == "https://127.0.0.1:6443/healthz" => Some((check, *tls_verify)),
            _ => None,
        })
        .unwrap_or_else(|| panic!("{}: no check of the API server", path.display()));
    assert!(
        !tls_verify,
        "{}: the API server's certificate does not name 127.0.0.1",
        path.display()
    );
    assert!(
        check.weight.get() < 0,
        "{}: a failing API server must lower the priority, not FAULT the last node",
        path.display()
    );
}

#[test]
fn manifests_match_the_kubernetes_schemas_and_vipd_accepts_their_configuration() {
    let (facts, extracted) = check_manifests();
    assert_eq!(facts["documents"], "3", "ConfigMap, DaemonSet, static Pod");
    for path in [
        extracted.join("configmap-vipd.toml"),
        repo().join("deploy/kubernetes/static-pod-vipd.toml"),
    ] {
        let config = checked_config(&path);
        assert_fits_the_pods(&path, &config, &facts);
    }
}

/// Runs `vipd watch` (which loads the XDP program with its ring buffer and attaches it) in `ns`
/// as root with only `capabilities`, as the container runtime runs the pod. Returns whether the
/// program got attached to the interface, and what vipd said.
fn watch_attaches(vipd: &Path, ns: &Netns, capabilities: &[&str]) -> (bool, String) {
    let bounding: String = std::iter::once("-all".to_string())
        .chain(capabilities.iter().map(|c| format!("+{c}")))
        .collect::<Vec<_>>()
        .join(",");
    // The previous run's attachment goes when its process does; wait for that.
    let deadline = Instant::now() + Duration::from_secs(30);
    while has_xdp(ns) {
        assert!(Instant::now() < deadline, "XDP still attached to va");
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut child = Command::new("ip")
        .args(["netns", "exec", ns.name(), "setpriv"])
        .arg(format!("--bounding-set={bounding}"))
        .args(["--inh-caps=-all", "--"])
        .arg(vipd)
        .args(["watch", "--interface", "va", "--xdp-mode", "driver"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn vipd watch");
    // It either attaches and waits for adverts, or fails at once: wait for one or the other,
    // generously.
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut attached = false;
    while !attached && Instant::now() < deadline {
        if child.try_wait().expect("try_wait").is_some() {
            break;
        }
        attached = has_xdp(ns);
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let output = child.wait_with_output().expect("vipd watch output");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (attached, said)
}

fn has_xdp(ns: &Netns) -> bool {
    let link = ns.exec(&["ip", "link", "show", "va"]).stdout;
    link.windows(3).any(|w| w == b"xdp")
}

#[test]
fn the_pods_capabilities_load_and_attach_the_xdp_program_and_none_is_spare_for_it() {
    if !kernel_tests_enabled() {
        return;
    }
    let (facts, _) = check_manifests();
    let granted: Vec<String> = facts["capabilities"]
        .split(',')
        .map(str::to_lowercase)
        .collect();
    let granted: Vec<&str> = granted.iter().map(String::as_str).collect();
    let vipd = vipd_binary();
    let ns = Netns::new("caps");
    let peer = Netns::new("capp");
    veth(&ns, "va", &peer, "vb");

    let (attached, said) = watch_attaches(&vipd, &ns, &granted);
    assert!(attached, "with {granted:?}: {said}");
    // NET_RAW is for the advert sockets and ARP, which `vipd watch` does not open.
    for missing in ["net_admin", "bpf", "perfmon"] {
        assert!(granted.contains(&missing), "the pods must grant {missing}");
        let fewer: Vec<&str> = granted.iter().copied().filter(|c| *c != missing).collect();
        let (attached, said) = watch_attaches(&vipd, &ns, &fewer);
        assert!(
            !attached,
            "attached without {missing}, so the pods need not grant it: {said}"
        );
    }
}

#[test]
fn the_vrrp_firewall_rules_pass_nft_check() {
    if !kernel_tests_enabled() {
        return;
    }
    let ns = Netns::new("nft");
    let rules = repo().join("deploy/kubernetes/vrrp-firewall.nft");
    let rules = rules.to_str().expect("path");
    ns.exec(&["nft", "--check", "--file", rules]);
    // And it loads: the table is there with its three rules.
    ns.exec(&["nft", "--file", rules]);
    let listed = ns.exec(&["nft", "list", "chain", "inet", "vipd", "input"]);
    let listed = String::from_utf8_lossy(&listed.stdout);
    assert_eq!(listed.matches("meta l4proto vrrp").count(), 3, "{listed}");
}
