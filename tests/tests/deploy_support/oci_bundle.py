"""Writes an OCI runtime bundle's config.json for deploy_container.rs: vipd's image as the
kubelet would run it from deploy/kubernetes/ (root, only the pod's capabilities, no new
privileges, read-only root filesystem), but in a test network namespace instead of the node's.

Usage: oci_bundle.py BUNDLE NETNS_PATH SECCOMP CAPS ARG...
  SECCOMP  "unconfined" (the manifests' choice) or the path of a docker-format profile (such as
           containers-common's /usr/share/containers/seccomp.json) to apply as the runtime
           applies its default: entries that the container's capabilities select.
  CAPS     comma-separated, without CAP_ (NET_ADMIN,NET_RAW,BPF,PERFMON)
"""
import json
import pathlib
import platform
import sys


def seccomp_from_profile(path, caps):
    """What a runtime makes of a docker-format profile for a container with `caps`."""
    profile = json.loads(pathlib.Path(path).read_text())
    # Profiles name architectures as Go does; the runtime spec as libseccomp does.
    goarch, arch = {"x86_64": ("amd64", "SCMP_ARCH_X86_64"), "aarch64": ("arm64", "SCMP_ARCH_AARCH64")}[
        platform.machine()
    ]
    syscalls = []
    for rule in profile["syscalls"]:
        includes, excludes = rule.get("includes", {}), rule.get("excludes", {})
        if not set(includes.get("caps", [])) <= caps or set(excludes.get("caps", [])) & caps:
            continue
        if includes.get("arches") and goarch not in includes["arches"]:
            continue
        if excludes.get("arches") and goarch in excludes["arches"]:
            continue
        # minKernel entries allow newer system calls; the kernels vipd runs on have them all.
        entry = {"names": rule["names"], "action": rule["action"]}
        for key in ("args", "errnoRet"):
            if rule.get(key):
                entry[key] = rule[key]
        syscalls.append(entry)
    seccomp = {"defaultAction": profile["defaultAction"], "architectures": [arch], "syscalls": syscalls}
    if "defaultErrnoRet" in profile:
        seccomp["defaultErrnoRet"] = profile["defaultErrnoRet"]
    return seccomp


def main():
    bundle, netns, seccomp, caps = sys.argv[1:5]
    args = sys.argv[5:]
    caps = {"CAP_" + c for c in caps.split(",") if c}
    capabilities = sorted(caps)
    process = {
        "terminal": False,
        "user": {"uid": 0, "gid": 0},
        "args": args,
        "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin"],
        "cwd": "/",
        # As the kubelet asks for a root container: the added capabilities in every set but
        # the ambient one; allowPrivilegeEscalation: false is no_new_privs.
        "capabilities": {k: capabilities for k in ("bounding", "effective", "permitted")},
        "noNewPrivileges": True,
    }
    config = {
        "ociVersion": "1.0.2",
        "process": process,
        "root": {"path": "rootfs", "readonly": True},
        "hostname": "vipd-test",
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
             "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
            {"destination": "/sys", "type": "sysfs", "source": "sysfs",
             "options": ["nosuid", "noexec", "nodev", "ro"]},
            {"destination": "/run/vipd", "type": "tmpfs", "source": "tmpfs",
             "options": ["nosuid", "nodev", "mode=750"]},
        ],
        "linux": {
            "namespaces": [
                {"type": "pid"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"},
                {"type": "network", "path": netns},
            ],
            "maskedPaths": ["/proc/kcore", "/proc/keys", "/proc/timer_list"],
            "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"],
        },
    }
    if seccomp != "unconfined":
        config["linux"]["seccomp"] = seccomp_from_profile(seccomp, caps)
    pathlib.Path(bundle, "config.json").write_text(json.dumps(config, indent=1))


if __name__ == "__main__":
    main()
