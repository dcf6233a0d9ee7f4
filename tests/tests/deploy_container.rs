//! The image under a real OCI runtime (runc) with the pods' security settings from
//! deploy/kubernetes/: root, only NET_ADMIN, NET_RAW, BPF and PERFMON, no new privileges, a
//! read-only root filesystem, in a test network namespace instead of the node's. vipd's XDP
//! program loads and attaches there; under the container runtimes' default seccomp profile (as
//! Debian's containers-common ships it) it does not, which is why the manifests say
//! `seccompProfile: Unconfined`.
mod deploy_support;

use std::{
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use deploy_support::{cargo, check_manifests, repo, run_ok, target_dir};
use vipd_tests::{
    kernel_tests_enabled,
    netns::{veth, Netns},
};

/// The default seccomp profile of CRI-O and podman, from Debian's containers-common.
const RUNTIME_DEFAULT_PROFILE: &str = "/usr/share/containers/seccomp.json";

/// A runc container, deleted (killed first if need be) when dropped, also when the test panics.
struct Container {
    id: String,
    log: PathBuf,
}

impl Container {
    /// Starts the container `bundle` describes (oci_bundle.py has just written its
    /// config.json), detached, its output going to a log file in the bundle.
    fn start(bundle: &Path) -> Self {
        let id = vipd_testkit::unique_name("ctr");
        let log = bundle.join(format!("{id}.log"));
        let out = std::fs::File::create(&log).expect("container log");
        let status = Command::new("runc")
            .args(["run", "--detach", "--bundle"])
            .arg(bundle)
            .arg(&id)
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("dup"))
            .stderr(out)
            .status()
            .expect("runc is needed (Debian package runc)");
        assert!(status.success(), "runc run {id}: {status}");
        Self { id, log }
    }

    fn stopped(&self) -> bool {
        let state = Command::new("runc")
            .args(["state", &self.id])
            .output()
            .expect("runc state");
        String::from_utf8_lossy(&state.stdout).contains("\"status\": \"stopped\"")
    }

    fn said(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        let _ = Command::new("runc")
            .args(["delete", "--force", &self.id])
            .status();
    }
}

fn has_xdp(ns: &Netns) -> bool {
    let link = ns.exec(&["ip", "link", "show", "va"]).stdout;
    link.windows(3).any(|w| w == b"xdp")
}

/// The image's root filesystem, unpacked from the archive `cargo xtask package --image` made.
fn image_rootfs(bundle: &Path) -> PathBuf {
    run_ok(cargo().args(["xtask", "package", "--image"]));
    let archive = target_dir().join(format!(
        "package/vipd-{}.oci.tar",
        env!("CARGO_PKG_VERSION")
    ));
    let rootfs = bundle.join("rootfs");
    run_ok(
        Command::new("python3")
            .arg(repo().join("tests/tests/deploy_support/check_image.py"))
            .arg(&archive)
            .arg(&rootfs),
    );
    rootfs
}

/// Runs `vipd watch` on `va` in a container with `seccomp` ("unconfined" or a profile) and
/// `capabilities`; returns whether the XDP program got attached, and what vipd said.
fn watch_in_container(
    bundle: &Path,
    ns: &Netns,
    seccomp: &str,
    capabilities: &str,
) -> (bool, String) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while has_xdp(ns) {
        assert!(Instant::now() < deadline, "XDP still attached to va");
        std::thread::sleep(Duration::from_millis(50));
    }
    let args = ["vipd", "watch", "--interface", "va", "--xdp-mode", "driver"];
    run_ok(
        Command::new("python3")
            .arg(repo().join("tests/tests/deploy_support/oci_bundle.py"))
            .arg(bundle)
            .arg(format!("/var/run/netns/{}", ns.name()))
            .arg(seccomp)
            .arg(capabilities)
            .args(args),
    );
    let container = Container::start(bundle);
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut attached = false;
    while !attached && !container.stopped() && Instant::now() < deadline {
        attached = has_xdp(ns);
        std::thread::sleep(Duration::from_millis(50));
    }
    let said = container.said();
    (attached, said)
}

#[test]
fn the_image_attaches_xdp_under_runc_with_the_pods_settings_but_not_under_the_default_seccomp_profile(
) {
    if !kernel_tests_enabled() {
        return;
    }
    let bundle = target_dir().join(format!("deploy-test/container-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&bundle);
    std::fs::create_dir_all(&bundle).expect("bundle directory");
    let (facts, _) = check_manifests();
    let granted = &facts["capabilities"];
    image_rootfs(&bundle);
    let ns = Netns::new("ctr");
    let peer = Netns::new("ctrp");
    veth(&ns, "va", &peer, "vb");

    let (attached, said) = watch_in_container(&bundle, &ns, "unconfined", granted);
    assert!(attached, "with the pods' settings: {said}");

    let (attached, said) = watch_in_container(&bundle, &ns, RUNTIME_DEFAULT_PROFILE, granted);
    assert!(
        !attached && said.contains("Operation not permitted"),
        "{RUNTIME_DEFAULT_PROFILE} now lets bpf(2) through with CAP_BPF: the manifests' \
         seccompProfile comment (Unconfined) needs revisiting. vipd said: {said}"
    );
    let _ = std::fs::remove_dir_all(&bundle);
}
