//! `vipd probe`, `vipd echo` and `vipd fault` as a user runs them on their own machines, with
//! network namespaces for hosts: a client namespace running `vipd probe` against the VIP, two
//! node namespaces each running `vipd run` (plain veths, default settings) and `vipd echo`, and
//! the fault driver run locally inside the master's namespace. The probe must report the
//! outage with the old master before and the new one after, the takeover after the recorded
//! fault, and write the benchmark's JSON document and plot.
//!
//! Every wait is a generous "eventually" bound; no test asserts how fast anything happened
//! (that is the takeover benchmark's job).
use std::{
    fs,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::Duration,
};

use std::os::unix::fs::PermissionsExt;
use vipd_tests::{
    kernel_tests_enabled,
    netns::Netns,
    topology::Lan,
    vipd::{binary, instance_config, wait_until, Scratch, Vipd},
};

const VIP: &str = "192.0.2.100";
const EVENTUALLY: Duration = Duration::from_secs(15);
/// The client is the third host on the LAN.
const CLIENT: usize = 3;

/// A `vipd SUBCOMMAND` running in a namespace, its output in a file; killed when dropped.
struct Process {
    child: Option<Child>,
    output: PathBuf,
}

impl Process {
    fn start(ns: &Netns, output: PathBuf, args: &[&str]) -> Self {
        let out = fs::File::create(&output).expect("output file");
        let err = out.try_clone().expect("output file");
        let child = Command::new("ip")
            .args(["netns", "exec", ns.name()])
            .arg(binary())
            .args(args)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("start vipd");
        Self {
            child: Some(child),
            output,
        }
    }

    fn output(&self) -> String {
        fs::read_to_string(&self.output).unwrap_or_default()
    }

    /// Waits until the output holds `text`.
    fn wait_for(&self, text: &str) -> bool {
        wait_until(EVENTUALLY, || self.output().contains(text))
    }

    /// Stops the process with SIGINT, as Ctrl-C would, and returns its exit code.
    fn interrupt(&mut self) -> Option<i32> {
        let mut child = self.child.take()?;
        // SAFETY: kill has no memory-safety preconditions; `ip netns exec` execs vipd in place.
        unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
        let exited = wait_until(EVENTUALLY, || child.try_wait().expect("try_wait").is_some());
        assert!(
            exited,
            "the probe did not stop on SIGINT:\n{}",
            self.output()
        );
        child.wait().expect("wait").code()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if std::thread::panicking() {
            eprintln!("--- {} ---\n{}", self.output.display(), self.output());
        }
    }
}

/// Two vipd nodes with their echo responders and a probing client; node 1 is master.
struct Hosts {
    // Field order is drop order: processes before the namespaces.
    probe: Process,
    _echoes: Vec<Process>,
    nodes: Vec<Vipd>,
    dir: Scratch,
    lan: Lan,
}

impl Hosts {
    fn start(tag: &str) -> Self {
        let lan = Lan::new(CLIENT);
        let dir = Scratch::new(tag);
        let nodes: Vec<Vipd> = [150, 100]
            .iter()
            .enumerate()
            .map(|(i, &priority)| {
                let name = format!("n{}", i + 1);
                let config = instance_config(priority, VIP, "");
                Vipd::start(lan.node(i + 1), dir.path(), &name, &config, &[])
            })
            .collect();
        lan.assert_holders(VIP.parse().unwrap(), &[1], EVENTUALLY, "election");
        let echoes = (1..=2)
            .map(|n| {
                let name = format!("node{n}");
                let output = dir.path().join(format!("echo{n}.out"));
                Process::start(lan.node(n), output, &["echo", "--name", &name])
            })
            .collect();
        let paths = Paths::in_dir(dir.path());
        let target = format!("{VIP}:9000");
        let args = [
            "probe",
            &target,
            // Gentler than the default 20 us on a shared machine; the probe is the same.
            "--interval",
            "100us",
            "--advert-interval",
            "100ms",
            "--faults",
            path_str(&paths.faults),
            "--json",
            path_str(&paths.json),
            "--plot",
            path_str(&paths.plot),
        ];
        let probe = Process::start(lan.node(CLIENT), dir.path().join("probe.out"), &args);
        assert!(
            probe.wait_for("first answer, from node1"),
            "the client reaches the master's echo"
        );
        // Some history before the fault.
        std::thread::sleep(Duration::from_millis(300));
        Self {
            probe,
            _echoes: echoes,
            nodes,
            dir,
            lan,
        }
    }

    fn paths(&self) -> Paths {
        Paths::in_dir(self.dir.path())
    }

    /// `vipd fault ARGS --log FAULTS` inside node `n`'s namespace, as a user on that host.
    fn fault(&self, n: usize, args: &[&str]) {
        let socket = &self.nodes[n - 1].socket;
        let faults = self.paths().faults;
        let output = Command::new("ip")
            .args(["netns", "exec", self.lan.node(n).name()])
            .arg(binary())
            .arg("fault")
            .args(args)
            .args(["--control-socket", path_str(socket)])
            .args(["--log", path_str(&faults)])
            .output()
            .expect("run vipd fault");
        assert!(
            output.status.success(),
            "vipd fault {args:?}: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// `vipd fault ARGS --ssh NODE --log FAULTS` from the client's namespace, as a user beside
    /// the probe, with ssh's place taken by `ip netns exec` into node `n`'s namespace (this
    /// machine runs no sshd): the remote `vipd fault --on-stdin`, the handshake over its
    /// stdin and stdout and the timing around it are the real ones. Returns what it printed.
    fn fault_through_ssh(&self, n: usize, args: &[&str]) -> String {
        let transport = self.dir.path().join("netns-ssh");
        // Called as `ssh -T DESTINATION COMMAND`, like ssh runs COMMAND with the remote shell.
        fs::write(
            &transport,
            "#!/bin/sh\n[ \"$1\" = -T ] && shift\nexec ip netns exec \"$1\" sh -c \"$2\"\n",
        )
        .expect("write the transport");
        fs::set_permissions(&transport, fs::Permissions::from_mode(0o755))
            .expect("make the transport executable");
        let socket = &self.nodes[n - 1].socket;
        let faults = self.paths().faults;
        let output = Command::new("ip")
            .args(["netns", "exec", self.lan.node(CLIENT).name()])
            .arg(binary())
            .arg("fault")
            .args(args)
            .args(["--ssh", self.lan.node(n).name()])
            .args(["--ssh-command", path_str(&transport)])
            .args(["--remote-vipd", path_str(&binary())])
            .args(["--control-socket", path_str(socket)])
            .args(["--log", path_str(&faults)])
            .output()
            .expect("run vipd fault");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(output.status.success(), "vipd fault {args:?} --ssh: {text}");
        text
    }

    /// Stops the probe and returns what it printed and the JSON it wrote.
    fn finish(mut self) -> (String, serde_json::Value) {
        assert_eq!(self.probe.interrupt(), Some(0), "{}", self.probe.output());
        let output = self.probe.output();
        let paths = self.paths();
        let json = fs::read_to_string(&paths.json)
            .unwrap_or_else(|e| panic!("{}: {e}\n{output}", paths.json.display()));
        let svg = fs::read_to_string(&paths.plot).expect("the plot is written");
        assert!(svg.contains("<svg"), "an SVG plot");
        let doc = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}:\n{json}"));
        (output, doc)
    }
}

struct Paths {
    faults: PathBuf,
    json: PathBuf,
    plot: PathBuf,
}

impl Paths {
    fn in_dir(dir: &Path) -> Self {
        Self {
            faults: dir.join("faults.jsonl"),
            json: dir.join("takeover.json"),
            plot: dir.join("takeover.svg"),
        }
    }
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("UTF-8 path")
}

/// The benchmark's document (`cargo xtask bench takeover`): its keys, each sample's keys, and
/// the one sample the fault caused, with the old master before and the new one after.
fn assert_bench_document(doc: &serde_json::Value, scenario: &str) {
    let keys = |value: &serde_json::Value| -> Vec<String> {
        let mut keys: Vec<String> = value
            .as_object()
            .unwrap_or_else(|| panic!("an object: {value}"))
            .keys()
            .cloned()
            .collect();
        keys.sort();
        keys
    };
    assert_eq!(
        keys(doc),
        [
            "advert_intervals_us",
            "failures",
            "nodes",
            "probe_interval_us",
            "samples",
            "trials"
        ],
        "{doc:#}"
    );
    assert_eq!(doc["advert_intervals_us"], serde_json::json!([100_000]));
    assert_eq!(doc["probe_interval_us"], 100);
    assert_eq!(doc["nodes"], 2, "two nodes answered");
    assert_eq!(doc["trials"], 1, "one fault (a repair is no trial)");
    assert_eq!(doc["failures"], serde_json::json!([]));
    let samples = doc["samples"].as_array().expect("samples");
    for sample in samples {
        let sample_keys = keys(sample);
        for bench_key in [
            "system",
            "scenario",
            "advert_interval_us",
            "takeover_us",
            "outage_us",
            "detection_us",
            "timeline",
        ] {
            assert!(
                sample_keys.iter().any(|k| k == bench_key),
                "{bench_key} in {sample}"
            );
        }
    }
    let caused: Vec<&serde_json::Value> = samples
        .iter()
        .filter(|s| s["scenario"] == scenario)
        .collect();
    assert_eq!(caused.len(), 1, "one sample for the {scenario}: {doc:#}");
    let sample = caused[0];
    assert_eq!(sample["system"], "vipd");
    assert_eq!(sample["before"], "node1", "{sample}");
    assert_eq!(sample["after"], "node2", "{sample}");
    assert!(
        sample["takeover_us"].as_f64().is_some_and(|t| t > 0.0),
        "{sample}"
    );
    assert!(sample["outage_us"].as_f64().is_some(), "{sample}");
    assert_eq!(sample["timeline"]["first_reply_us"], sample["takeover_us"]);
}

/// The probe's own lines: the outage as it happened and the takeover after the fault.
fn assert_probe_reported(output: &str, fault: &str) {
    assert!(
        output
            .lines()
            .any(|l| l.contains(" outage ") && l.ends_with("node1 -> node2")),
        "the outage, old master before, new after:\n{output}"
    );
    assert!(
        output
            .lines()
            .any(|l| l.contains(&format!("{fault}: first answer from node2"))
                && l.contains("node1 before")),
        "the takeover after the fault:\n{output}"
    );
    assert!(output.contains("outages: "), "the summary:\n{output}");
    assert!(
        output.contains(&format!("| {fault} | 1 |")),
        "the takeover table:\n{output}"
    );
}

#[test]
fn kill9_of_the_master_is_reported_with_the_old_master_before_and_the_new_after() {
    if !kernel_tests_enabled() {
        return;
    }
    let hosts = Hosts::start("measure-kill9");
    hosts.fault(1, &["kill9"]);
    assert!(
        hosts.probe.wait_for("kill9: first answer from node2"),
        "the probe reports the takeover"
    );
    let (output, doc) = hosts.finish();
    assert_probe_reported(&output, "kill9");
    assert_bench_document(&doc, "kill9");
}

#[test]
fn link_down_of_the_master_is_reported_and_link_up_is_recorded_as_a_repair() {
    if !kernel_tests_enabled() {
        return;
    }
    let hosts = Hosts::start("measure-link");
    // No --interface: the one vipd's instance runs on, from its status.
    hosts.fault(1, &["link-down"]);
    assert!(
        hosts.probe.wait_for("link-down: first answer from node2"),
        "the probe reports the takeover"
    );
    hosts.fault(1, &["link-up", "--interface", "eth0"]);
    assert!(
        hosts.probe.wait_for("fault link-up on "),
        "the repair is read"
    );
    let (output, doc) = hosts.finish();
    assert_probe_reported(&output, "link-down");
    assert_bench_document(&doc, "cable");
}

#[test]
fn a_fault_through_the_ssh_driver_is_timed_on_the_probes_host_with_its_round_trip() {
    if !kernel_tests_enabled() {
        return;
    }
    let hosts = Hosts::start("measure-ssh");
    let printed = hosts.fault_through_ssh(1, &["kill9"]);
    assert!(printed.contains("ssh round trip "), "{printed}");
    assert!(
        hosts.probe.wait_for("kill9: first answer from node2"),
        "the probe reports the takeover"
    );
    let record: serde_json::Value = serde_json::from_str(
        fs::read_to_string(hosts.paths().faults)
            .expect("the fault log")
            .trim(),
    )
    .expect("one record");
    let round_trip = record["ssh_round_trip_ns"].as_u64().expect("a round trip");
    assert!(round_trip > 0, "{record}");
    assert_eq!(record["uncertainty_ns"].as_u64(), Some(round_trip / 2));
    assert!(
        record["remote_at_ns"].is_u64(),
        "the remote's own stamp: {record}"
    );
    assert!(
        record["target"]
            .as_str()
            .is_some_and(|t| t.starts_with("vipd pid ")),
        "{record}"
    );
    eprintln!("round trip through the transport: {round_trip} ns");
    let (output, doc) = hosts.finish();
    assert_probe_reported(&output, "kill9");
    assert_bench_document(&doc, "kill9");
    let sample = doc["samples"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["scenario"] == "kill9")
        .unwrap();
    assert_eq!(
        sample["fault_uncertainty_us"].as_f64(),
        Some((round_trip / 2) as f64 / 1e3),
        "{sample}"
    );
}
