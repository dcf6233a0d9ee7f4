//! The lab piped, as a script or a log sees it: with stdout not a terminal it prints lines (no
//! full-screen view), runs `--scenario cable` by itself, tells the takeover in human times
//! stamped with the wall clock, and tears everything down at the end of `--duration`.
mod lab_support;

use std::process::{Command, Stdio};

use lab_support::{harness, has_clock_time, has_duration, namespaces_of};
use vipd_tests::kernel_tests_enabled;

#[test]
fn piped_it_prints_the_takeover_in_human_times_and_tears_down() {
    if !kernel_tests_enabled() {
        return;
    }
    // A generous run: the planned fault comes once node 1 answers, a few seconds in, and is
    // repaired a second after the takeover.
    let child = Command::new(harness())
        .args(["lab", "--duration", "20s", "--scenario", "cable"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the lab");
    let pid = child.id();
    let out = child.wait_with_output().expect("the lab's output");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        !stdout.contains("\x1b["),
        "no terminal control sequences in a pipe:\n{stdout}"
    );

    let line = |text: &str| {
        stdout
            .lines()
            .find(|l| l.contains(text))
            .unwrap_or_else(|| panic!("no line with {text:?} in\n{stdout}"))
    };
    assert!(has_clock_time(line("lab: cable pull on node 1")));
    let answered = line("lab: node 2 answers");
    assert!(
        has_clock_time(answered) && has_duration(answered) && answered.contains("client outage"),
        "{answered}"
    );
    let hops = line("logged its decision");
    assert!(has_duration(hops) && hops.contains("VIP added"), "{hops}");
    assert!(has_clock_time(line("lab: node 1 repaired")));
    let status = stdout
        .lines()
        .find(|l| l.contains("master: node 1   client:") && l.contains("nodes: 1 MASTER, 2 BACKUP"))
        .unwrap_or_else(|| panic!("no status line of a steady group in\n{stdout}"));
    assert!(has_clock_time(status), "{status}");
    line("lab: tearing down");
    assert_eq!(
        namespaces_of(pid),
        Vec::<String>::new(),
        "the lab left namespaces"
    );
}
