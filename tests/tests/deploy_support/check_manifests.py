"""Checks deploy/kubernetes/*.yaml for deploy_kubernetes.rs (which runs it in a venv that has
kubernetes-validate): every document against the Kubernetes JSON schemas of the oldest and the
newest release the package ships, strictly (unknown fields are errors); then what the schemas
cannot know: that the DaemonSet and the static pod agree with each other, with vipd and with the
systemd unit.

Usage: check_manifests.py MANIFEST_DIR SYSTEMD_UNIT OUT_DIR
Writes OUT_DIR/configmap-vipd.toml (the ConfigMap's vipd.toml, for `vipd::config::check_str`)
and prints `key=value` facts for the Rust side. Exits 1 with every problem on stderr.
"""
import pathlib
import sys

import kubernetes_validate
import yaml

EXPECTED_CAPABILITIES = ["NET_ADMIN", "NET_RAW", "BPF", "PERFMON"]
CONFIG_PATH = "/etc/vipd/vipd.toml"
RUN_DIR = "/run/vipd"

problems = []


def problem(where, message):
    problems.append(f"{where}: {message}")


def load(manifest_dir):
    documents = []
    for path in sorted(manifest_dir.glob("*.yaml")):
        with open(path) as f:
            for doc in yaml.safe_load_all(f):
                if doc is not None:
                    documents.append((path.name, doc))
    return documents


def validate_schemas(documents):
    versions = kubernetes_validate.utils.all_versions()
    for version in (versions[0], versions[-1]):
        for name, doc in documents:
            where = f"{name} {doc.get('kind')}/{doc.get('metadata', {}).get('name')} (Kubernetes {version})"
            try:
                kubernetes_validate.validate(doc, version, strict=True)
            except kubernetes_validate.ValidationError as error:
                path = ".".join(str(p) for p in error.path)
                problem(where, f"{path}: {error.message}")
            except kubernetes_validate.SchemaNotFoundError as error:
                problem(where, str(error))


def volumes_by_mount(pod, container):
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    return {m["mountPath"]: volumes.get(m["name"], {}) for m in container.get("volumeMounts", [])}


def check_pod(where, pod):
    """What both workloads must have; returns the probe port."""
    if pod.get("hostNetwork") is not True:
        problem(where, "hostNetwork must be true: VRRP and the VIP live in the node's namespace")
    containers = pod.get("containers", [])
    if len(containers) != 1:
        problem(where, f"expected one container, found {len(containers)}")
        return None
    container = containers[0]
    args = container.get("args", [])
    if args[:1] != ["run"] or args[1:3] != ["--config", CONFIG_PATH]:
        problem(where, f"args must be run --config {CONFIG_PATH}, found {args}")
    security = container.get("securityContext", {})
    if security.get("privileged", False):
        problem(where, "must not be privileged")
    caps = security.get("capabilities", {})
    if caps.get("drop") != ["ALL"]:
        problem(where, "capabilities must drop ALL")
    if sorted(caps.get("add", [])) != sorted(EXPECTED_CAPABILITIES):
        problem(where, f"capabilities must add exactly {EXPECTED_CAPABILITIES}, found {caps.get('add')}")
    ports = set()
    for probe_name in ("livenessProbe", "readinessProbe"):
        probe = container.get(probe_name, {}).get("httpGet")
        if probe is None:
            problem(where, f"{probe_name} must be an httpGet on vipd's /healthz")
            continue
        if probe.get("path") != "/healthz" or probe.get("host") != "127.0.0.1":
            problem(where, f"{probe_name} must GET 127.0.0.1 /healthz, found {probe}")
        ports.add(probe.get("port"))
    if len(ports) != 1:
        problem(where, f"the probes must use one port, found {sorted(map(str, ports))}")
    resources = container.get("resources", {})
    if "requests" not in resources or "memory" not in resources.get("limits", {}):
        problem(where, "resources must have requests and a memory limit")
    if "cpu" in resources.get("limits", {}):
        problem(where, "no CPU limit: CFS throttling stalls the VRRP timers")
    mounts = volumes_by_mount(pod, container)
    run = mounts.get(RUN_DIR, {}).get("hostPath", {}).get("path")
    if run != RUN_DIR:
        problem(where, f"{RUN_DIR} must be the host's {RUN_DIR} (control socket), found {run}")
    return (container, mounts, ports.pop() if len(ports) == 1 else None)


def check_workloads(documents):
    by_kind = {}
    for name, doc in documents:
        by_kind.setdefault(doc["kind"], []).append((name, doc))
    facts = {}

    daemonsets = by_kind.get("DaemonSet", [])
    configmaps = {doc["metadata"]["name"]: doc for _, doc in by_kind.get("ConfigMap", [])}
    pods = by_kind.get("Pod", [])
    if len(daemonsets) != 1 or len(pods) != 1:
        problem("manifests", f"expected one DaemonSet and one static Pod, found {len(daemonsets)} and {len(pods)}")
        return facts

    name, ds = daemonsets[0]
    where = f"{name} DaemonSet"
    pod = ds["spec"]["template"]["spec"]
    if "node-role.kubernetes.io/control-plane" not in pod.get("nodeSelector", {}):
        problem(where, "must select control-plane nodes")
    tolerated = {t.get("key") for t in pod.get("tolerations", [])}
    if "node-role.kubernetes.io/control-plane" not in tolerated:
        problem(where, "must tolerate the control-plane taint")
    checked = check_pod(where, pod)
    if checked:
        _, mounts, ds_port = checked
        cm_name = mounts.get("/etc/vipd", {}).get("configMap", {}).get("name")
        configmap = configmaps.get(cm_name)
        if configmap is None or "vipd.toml" not in configmap.get("data", {}):
            problem(where, f"/etc/vipd must mount a ConfigMap with vipd.toml (found {cm_name})")
        else:
            facts["configmap_toml"] = configmap["data"]["vipd.toml"]
        facts["probe_port"] = ds_port

    name, static = pods[0]
    where = f"{name} static Pod"
    if static["metadata"].get("namespace") != "kube-system":
        problem(where, "kubeadm's static pods live in kube-system")
    checked = check_pod(where, static["spec"])
    if checked:
        _, mounts, pod_port = checked
        host = mounts.get(CONFIG_PATH, {}).get("hostPath", {})
        if host.get("path") != CONFIG_PATH or host.get("type") != "File":
            problem(where, f"{CONFIG_PATH} must be the host's file {CONFIG_PATH}, found {host}")
        if pod_port != facts.get("probe_port"):
            problem(where, f"probe port {pod_port} differs from the DaemonSet's {facts.get('probe_port')}")
    return facts


def check_systemd_unit(unit):
    bounding = None
    ambient = None
    for line in unit.read_text().splitlines():
        if line.startswith("CapabilityBoundingSet="):
            bounding = line.split("=", 1)[1].split()
        if line.startswith("AmbientCapabilities="):
            ambient = line.split("=", 1)[1].split()
    expected = sorted("CAP_" + c for c in EXPECTED_CAPABILITIES)
    for key, value in (("CapabilityBoundingSet", bounding), ("AmbientCapabilities", ambient)):
        if value is None or sorted(value) != expected:
            problem(unit.name, f"{key} must be the pods' capabilities {expected}, found {value}")


def main():
    manifest_dir, unit, out_dir = (pathlib.Path(a) for a in sys.argv[1:4])
    documents = load(manifest_dir)
    validate_schemas(documents)
    facts = check_workloads(documents)
    check_systemd_unit(unit)
    if problems:
        print("\n".join(problems), file=sys.stderr)
        sys.exit(1)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "configmap-vipd.toml").write_text(facts["configmap_toml"])
    versions = kubernetes_validate.utils.all_versions()
    print(f"documents={len(documents)}")
    print(f"schemas={versions[0]},{versions[-1]}")
    print(f"probe_port={facts['probe_port']}")
    print(f"run_dir={RUN_DIR}")
    print(f"capabilities={','.join(EXPECTED_CAPABILITIES)}")


if __name__ == "__main__":
    main()
