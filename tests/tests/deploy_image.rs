//! deploy/Containerfile: `cargo xtask package --image` builds the static vipd and the image (with
//! buildah, from scratch, no registry) into an OCI archive; the archive is read back with skopeo
//! and check_image.py, and the image's only file runs in an otherwise empty root, as a
//! container would run it.
mod deploy_support;

use std::process::Command;

use deploy_support::{cargo, repo, run_ok, target_dir};

#[test]
fn the_image_holds_only_a_static_vipd_that_runs_in_an_empty_root() {
    // Building the image needs root (buildah's storage) like the kernel tests.
    if !vipd_tests::kernel_tests_enabled() {
        return;
    }
    run_ok(cargo().args(["xtask", "package", "--image"]));
    let version = env!("CARGO_PKG_VERSION");
    let archive = target_dir().join(format!("package/vipd-{version}.oci.tar"));

    // skopeo reads it as an OCI image: an independent check of the layout.
    let inspected = run_ok(
        Command::new("skopeo")
            .arg("inspect")
            .arg(format!("oci-archive:{}", archive.display())),
    );
    let inspected = String::from_utf8_lossy(&inspected.stdout);
    assert!(
        inspected.contains("\"Architecture\": \"amd64\""),
        "{inspected}"
    );

    let rootfs = target_dir().join("deploy-test/image-rootfs");
    let _ = std::fs::remove_dir_all(&rootfs);
    run_ok(
        Command::new("python3")
            .arg(repo().join("tests/tests/deploy_support/check_image.py"))
            .arg(&archive)
            .arg(&rootfs),
    );

    // In a root holding nothing but the binary and a configuration: no libc, no loader, no
    // /etc/passwd, as in the image.
    let config = rootfs.join("etc/vipd/vipd.toml");
    std::fs::create_dir_all(config.parent().expect("parent")).expect("mkdir etc/vipd");
    std::fs::copy(
        repo().join("deploy/kubernetes/static-pod-vipd.toml"),
        &config,
    )
    .expect("copy the configuration");
    let in_root = |args: &[&str]| {
        let output = run_ok(
            Command::new("/usr/sbin/chroot")
                .arg(&rootfs)
                .arg("/usr/local/sbin/vipd")
                .args(args)
                .env_clear(),
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    assert!(in_root(&["--version"]).contains(version));
    assert!(in_root(&["check-config", "/etc/vipd/vipd.toml"]).contains("configuration OK"));
}
