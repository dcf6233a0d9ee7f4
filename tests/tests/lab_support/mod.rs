//! What the lab's tests share: the harness binary that runs the lab, the namespaces a run left
//! behind, and how a time reads on the lab's output.
#![allow(dead_code)] // Each lab test uses its own part of this.

use std::{path::PathBuf, process::Command};

/// `vipd-harness`, which runs the lab (`cargo xtask lab` runs the release build of it), after
/// checking that the vipd binary it starts is there.
pub fn harness() -> PathBuf {
    vipd_tests::vipd::binary();
    PathBuf::from(env!("CARGO_BIN_EXE_vipd-harness"))
}

/// The network namespaces that the process `pid` created and that still exist (the kit names
/// every namespace after the process that makes it: `vipd-t-<pid>-<n>-<tag>`).
pub fn namespaces_of(pid: u32) -> Vec<String> {
    let out = Command::new("ip")
        .args(["netns", "list"])
        .output()
        .expect("ip netns list");
    let prefix = format!("{}{pid}-", vipd_testkit::PREFIX);
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| name.starts_with(&prefix))
        .map(str::to_string)
        .collect()
}

/// Whether `text` holds a duration as the lab writes one (`stats::human_us`: "682 us",
/// "1.30 ms", "3.30 s").
pub fn has_duration(text: &str) -> bool {
    let words: Vec<&str> = text.split_whitespace().collect();
    words.windows(2).any(|pair| {
        pair[0].parse::<f64>().is_ok()
            && matches!(
                pair[1].trim_end_matches([',', ')', ';', ':']),
                "us" | "ms" | "s"
            )
    })
}

/// Whether `text` holds a wall-clock time, HH:MM:SS.
pub fn has_clock_time(text: &str) -> bool {
    text.split_whitespace().any(|word| {
        let parts: Vec<&str> = word.split(':').collect();
        parts.len() == 3
            && parts
                .iter()
                .all(|p| p.len() == 2 && p.bytes().all(|b| b.is_ascii_digit()))
    })
}
