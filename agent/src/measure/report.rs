//! The JSON document takeover measurements are written as, by the lab's benchmark and by
//! `vipd probe --json` alike, so that figures from different sites and from the lab are read by
//! the same tools: a run header and one sample per measured takeover or outage.
use serde::Serialize;
use std::path::Path;

/// The document: what was run, what failed, and every sample.
#[derive(Debug, Serialize)]
pub struct Document<S> {
    /// The advert intervals of the run (empty when the probe was not told).
    pub advert_intervals_us: Vec<u64>,
    pub probe_interval_us: u64,
    /// VRRP nodes: configured in the lab, seen answering by the probe.
    pub nodes: usize,
    /// Trials per scenario and system in the lab; faults injected, for the probe.
    pub trials: usize,
    pub failures: Vec<String>,
    pub samples: Vec<S>,
}

impl<S: Serialize> Document<S> {
    /// Writes the document, pretty-printed, to `path`.
    pub fn write(&self, path: &Path) -> Result<(), String> {
        let text = serde_json::to_string_pretty(self).map_err(|e| e.to_string())?;
        std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
    }
}

/// One outage the probe saw, with the lab sample's fields (those only the lab can know are
/// null) and the probe's own.
#[derive(Clone, Debug, Serialize)]
pub struct FieldSample {
    /// What ran on the nodes (`vipd probe --system`).
    pub system: String,
    /// The fault that caused it, as the benchmark names its scenarios (`cable`, `kill9`,
    /// `sigstop`, `sigterm`); null for an outage no recorded fault explains.
    pub scenario: Option<&'static str>,
    pub advert_interval_us: Option<u64>,
    /// Fault to the first answer from the new node (null without a fault).
    pub takeover_us: Option<f64>,
    /// The same without the new node's responder's own turnaround (its wake-up).
    pub network_takeover_us: Option<f64>,
    /// Last answer before the gap to the first after it.
    pub outage_us: Option<f64>,
    /// The new master's own detection latency: only its log knows, so always null here.
    pub detection_us: Option<f64>,
    /// The lab's per-hop timeline, reduced to what a client sees (null without a fault).
    pub timeline: Option<FieldTimeline>,
    /// The outage's start (its last answer), wall clock, RFC 3339 UTC.
    pub start: String,
    /// Who answered before and after.
    pub before: String,
    pub after: String,
    /// Probes never answered.
    pub lost: u64,
    /// How far the fault's time may be off (half the ssh round trip; 0 for a local fault,
    /// whose clock is then the caveat).
    pub fault_uncertainty_us: Option<f64>,
}

/// The part of the lab's timeline a client can measure.
#[derive(Clone, Debug, Serialize)]
pub struct FieldTimeline {
    /// The fault, CLOCK_MONOTONIC ns of the probe's host.
    pub fault_ns: u64,
    /// The first answer from the new node, microseconds after the fault.
    pub first_reply_us: f64,
}
