//! The soak: vipd (XDP) runs for a long time at one advert interval while stress-ng keeps both
//! cores busy, with no fault at all. Every transition is a false one. A sniffer on the client
//! (vipd's own XDP program, in the client's namespace) records each advert's arrival, so the
//! report also shows the advert jitter the backup had to tolerate.
use std::{
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use super::{
    stats,
    system::{self, NodeProcess, System, Timing},
};
use crate::topology::Lan;
use vipd::dataplane::{
    packet::IpFamily,
    xdp::{AttachMode, XdpProgram},
};

pub fn run(duration: Duration, timing: Timing, out: &std::path::Path) -> Result<(), String> {
    let lan = Lan::with_pass_through_ports(3);
    let dir = crate::vipd::Scratch::new("soak");
    let nodes = NodeProcess::start_group(System::VipdXdp, &lan, 2, timing, dir.path());
    // Let the election settle before anything counts.
    std::thread::sleep(Duration::from_secs(2));
    let settled: Vec<usize> = nodes.iter().map(|n| n.log().len()).collect();

    let mut sniffer = XdpProgram::load().map_err(|e| e.to_string())?;
    let mut ring = sniffer.take_adverts().map_err(|e| e.to_string())?;
    let mut maps = sniffer.take_maps().map_err(|e| e.to_string())?;
    let attached = lan
        .node(3)
        .run(|| sniffer.attach("eth0", AttachMode::Auto))
        .map_err(|e| e.to_string())?;
    maps.set_vrid(attached.ifindex, system::VRID, IpFamily::V4, false)
        .map_err(|e| e.to_string())?;

    let mut stress = Command::new("stress-ng")
        .args(["--cpu", "2", "--timeout"])
        .arg(format!("{}s", duration.as_secs().max(1)))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("stress-ng: {e} (scripts/bootstrap.sh installs it)"))?;

    let master = std::net::IpAddr::V4(Lan::ipv4(1));
    let started = Instant::now();
    let mut last: Option<u64> = None;
    let mut gaps_us: Vec<f64> = Vec::new();
    while started.elapsed() < duration {
        match ring.try_next() {
            Some(advert) if advert.source == master => {
                if let Some(prev) = last {
                    gaps_us.push(advert.ktime_ns.saturating_sub(prev) as f64 / 1e3);
                }
                last = Some(advert.ktime_ns);
            }
            Some(_) => {}
            None => std::thread::sleep(Duration::from_micros(200)),
        }
    }
    let _ = stress.kill();
    let _ = stress.wait();

    let false_transitions: Vec<String> = nodes
        .iter()
        .zip(&settled)
        .flat_map(|(node, from)| {
            node.log()[*from..]
                .lines()
                .filter(|l| l.contains("state changed"))
                .map(|l| format!("node {}: {l}", node.node))
                .collect::<Vec<_>>()
        })
        .collect();
    for line in &false_transitions {
        println!("{line}");
    }
    let transitions = false_transitions.len();
    let interval_us = timing.vipd_interval.as_micros() as f64;
    let over = |k: f64| gaps_us.iter().filter(|g| **g > k * interval_us).count();
    let mut sorted = gaps_us.clone();
    sorted.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        sorted
            .get(((p * sorted.len() as f64) as usize).min(sorted.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0.0)
    };
    println!(
        "soak: {:?} at {} under stress-ng --cpu 2\n\
         false transitions: {transitions}\n\
         adverts seen by the client: {}\n\
         advert gap p50 {} p99 {} p99.9 {} p99.99 {} max {}\n\
         gaps over 2x interval: {}, over 3x (Master_Down_Interval without skew): {}",
        duration,
        stats::human_us(interval_us),
        gaps_us.len() + 1,
        stats::human_us(pct(0.5)),
        stats::human_us(pct(0.99)),
        stats::human_us(pct(0.999)),
        stats::human_us(pct(0.9999)),
        stats::human_us(sorted.last().copied().unwrap_or(0.0)),
        over(2.0),
        over(3.0),
    );
    let json = out.join(format!("soak-{}.json", crate::clock::monotonic_ns()));
    let doc = serde_json::json!({
        "duration_s": duration.as_secs_f64(),
        "advert_interval_us": interval_us,
        "false_transitions": transitions,
        "gaps_us": gaps_us,
    });
    std::fs::write(&json, doc.to_string()).map_err(|e| e.to_string())?;
    println!("samples: {}", json.display());
    Ok(())
}
