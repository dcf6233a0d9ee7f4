//! One probing session of `vipd probe`: the outages found in the answers, the faults read from
//! the fault log and the takeover each caused, the lines the probe prints as they happen, and
//! the summary, JSON document and plot at the end.
use std::{fmt::Write, time::Duration};

use super::{
    clock::{self, Offset},
    fault::record::FaultRecord,
    outage::{Detector, Outage},
    plot::{Curve, Panel},
    probe::{Reply, Responder},
    report::{Document, FieldSample, FieldTimeline},
    stats::{self, human_us},
    takeover,
};
use crate::control::histogram::LatencyHistogram;

/// How long a fault waits for another node to answer before it counts as a failure.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// How many outages the summary lists one by one.
const LISTED_OUTAGES: usize = 100;

/// What the session records, and how it labels its samples.
pub struct Settings {
    /// What runs on the nodes (`vipd`, `keepalived`, ...), the samples' `system`.
    pub system: String,
    /// The nodes' advert interval, when the user gives it (recorded only).
    pub advert_interval: Option<Duration>,
    pub probe_interval: Duration,
    /// Gaps that lose probes for at least this long are outages.
    pub min_outage: Duration,
}

/// A fault from the log and what came of it.
struct Fault {
    record: FaultRecord,
    /// Its time on this host's CLOCK_MONOTONIC.
    at_ns: u64,
    outcome: Outcome,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// No other node has answered since (yet).
    Pending,
    /// The outage (an index into the session's) in which another node took over.
    TookOver(usize),
    /// Nobody else answered within [`PATIENCE`].
    Unanswered,
    /// A repair (thaw, link-up): recorded, not measured.
    Repair,
}

pub struct Session {
    settings: Settings,
    detector: Detector,
    outages: Vec<Outage>,
    faults: Vec<Fault>,
    names: Vec<String>,
    replies: u64,
}

impl Session {
    pub fn new(settings: Settings) -> Self {
        let threshold = settings.min_outage.as_nanos() as u64;
        Self {
            settings,
            detector: Detector::new(threshold),
            outages: Vec::new(),
            faults: Vec::new(),
            names: Vec::new(),
            replies: 0,
        }
    }

    /// Takes in the answers received since the last call (and the names seen so far); returns
    /// a line per outage they end.
    pub fn feed(&mut self, replies: &[Reply], names: Vec<String>) -> Vec<String> {
        self.names = names;
        let first = self.replies == 0 && !replies.is_empty();
        self.replies += replies.len() as u64;
        let mut lines = Vec::new();
        if first {
            lines.push(format!(
                "{}  first answer, from {}",
                self.wall(replies[0].at_ns),
                self.name(replies[0].responder)
            ));
        }
        for &reply in replies {
            if let Some(outage) = self.detector.feed(reply) {
                self.outages.push(outage);
                lines.push(self.outage_line(&outage));
            }
        }
        lines
    }

    /// Takes in faults read from the log.
    pub fn add_faults(&mut self, records: Vec<FaultRecord>) -> Vec<String> {
        let offset = Offset::sample();
        records
            .into_iter()
            .map(|record| {
                let line = format!(
                    "{}  fault {} on {} ({}){}",
                    record.at,
                    record.kind,
                    record.host,
                    record.target,
                    uncertainty(record.uncertainty_ns)
                );
                let outcome = if record.kind.scenario().is_some() {
                    Outcome::Pending
                } else {
                    Outcome::Repair
                };
                self.faults.push(Fault {
                    at_ns: offset.monotonic_of(record.at_ns),
                    record,
                    outcome,
                });
                line
            })
            .collect()
    }

    /// Settles the faults whose takeover has now been seen, or has waited too long; returns a
    /// line for each.
    pub fn settle_faults(&mut self) -> Vec<String> {
        let now = clock::monotonic_ns();
        let mut lines = Vec::new();
        for i in 0..self.faults.len() {
            let fault = &self.faults[i];
            if fault.outcome != Outcome::Pending {
                continue;
            }
            let outcome = match takeover::after_fault(&self.outages, fault.at_ns) {
                Some(index) => Outcome::TookOver(index),
                None if now.saturating_sub(fault.at_ns) > PATIENCE.as_nanos() as u64 => {
                    Outcome::Unanswered
                }
                None => continue,
            };
            self.faults[i].outcome = outcome;
            lines.push(self.fault_line(&self.faults[i]));
        }
        lines
    }

    /// The report at the end: totals, the outages' histogram and the takeovers per fault.
    pub fn summary(&self, sent: u64) -> String {
        let mut text = String::new();
        let answered = if sent > 0 {
            100.0 * self.replies as f64 / sent as f64
        } else {
            0.0
        };
        let _ = writeln!(
            text,
            "probes: {sent} sent, {} answered ({answered:.2} %), by {}",
            self.replies,
            if self.names.is_empty() {
                "nobody".to_string()
            } else {
                self.names.join(", ")
            }
        );
        if let Some(last) = self.detector.last() {
            let silent = clock::monotonic_ns().saturating_sub(last.at_ns);
            if silent >= self.settings.min_outage.as_nanos() as u64 {
                let _ = writeln!(
                    text,
                    "no answer for the last {} (since {}, from {})",
                    human_us(silent as f64 / 1e3),
                    self.wall(last.at_ns),
                    self.name(last.responder)
                );
            }
        }
        let lengths: Vec<f64> = self
            .outages
            .iter()
            .map(|o| o.length_ns() as f64 / 1e3)
            .collect();
        match stats::summary(&lengths) {
            None => {
                let _ = writeln!(text, "outages: none");
            }
            Some([p50, p90, p99, max]) => {
                let moved = self.outages.iter().filter(|o| o.moved()).count();
                let _ = writeln!(
                    text,
                    "outages: {} ({moved} moved the VIP): p50 {}, p90 {}, p99 {}, max {}",
                    lengths.len(),
                    human_us(p50),
                    human_us(p90),
                    human_us(p99),
                    human_us(max)
                );
                text.push_str(&histogram(&self.outages));
                for outage in self.outages.iter().take(LISTED_OUTAGES) {
                    let _ = writeln!(text, "  {}", self.outage_line(outage));
                }
                if self.outages.len() > LISTED_OUTAGES {
                    let _ = writeln!(
                        text,
                        "  ... and {} more (every one is in --json)",
                        self.outages.len() - LISTED_OUTAGES
                    );
                }
            }
        }
        let mut table = stats::Table::new(&["fault", "count", "takeover p50", "p90", "p99", "max"]);
        let mut any = false;
        for (kind, values) in self.takeovers_by_kind() {
            if let Some([p50, p90, p99, max]) = stats::summary(&values) {
                any = true;
                table.row(&[
                    kind.to_string(),
                    values.len().to_string(),
                    human_us(p50),
                    human_us(p90),
                    human_us(p99),
                    human_us(max),
                ]);
            }
        }
        if any {
            let _ = writeln!(text, "takeover, fault to first answer from another node:");
            text.push_str(table.render());
        }
        for failure in self.failures() {
            let _ = writeln!(text, "failed: {failure}");
        }
        text
    }

    /// The session as the benchmark's JSON document: one sample per outage.
    pub fn document(&self) -> Document<FieldSample> {
        let offset = Offset::sample();
        let samples = self
            .outages
            .iter()
            .enumerate()
            .map(|(index, outage)| {
                let fault = self
                    .faults
                    .iter()
                    .find(|f| f.outcome == Outcome::TookOver(index));
                FieldSample {
                    system: self.settings.system.clone(),
                    scenario: fault.and_then(|f| f.record.kind.scenario()),
                    advert_interval_us: self.advert_interval_us(),
                    takeover_us: fault.map(|f| takeover::takeover_us(outage, f.at_ns)),
                    network_takeover_us: fault
                        .map(|f| takeover::network_takeover_us(outage, f.at_ns)),
                    outage_us: Some(outage.length_ns() as f64 / 1e3),
                    detection_us: None,
                    timeline: fault.map(|f| FieldTimeline {
                        fault_ns: f.at_ns,
                        first_reply_us: takeover::takeover_us(outage, f.at_ns),
                    }),
                    start: clock::rfc3339(offset.realtime_of(outage.start_ns)),
                    before: self.name(outage.before),
                    after: self.name(outage.after),
                    lost: outage.lost,
                    fault_uncertainty_us: fault.map(|f| f.record.uncertainty_ns as f64 / 1e3),
                }
            })
            .collect();
        Document {
            advert_intervals_us: self.advert_interval_us().into_iter().collect(),
            probe_interval_us: self.settings.probe_interval.as_micros() as u64,
            nodes: self.names.len(),
            trials: self
                .faults
                .iter()
                .filter(|f| f.outcome != Outcome::Repair)
                .count(),
            failures: self.failures(),
            samples,
        }
    }

    /// The plot's panels: takeover per kind of fault, then every outage.
    pub fn panels(&self) -> Vec<Panel> {
        let system = &self.settings.system;
        let mut panels: Vec<Panel> = self
            .takeovers_by_kind()
            .into_iter()
            .map(|(kind, values)| Panel {
                title: format!("takeover after {kind}"),
                x_desc: "time from fault to first answer from another node (ms)".into(),
                curves: vec![Curve {
                    label: system.clone(),
                    values_ms: values.iter().map(|us| us / 1e3).collect(),
                }],
            })
            .collect();
        panels.push(Panel {
            title: "outages".into(),
            x_desc: "last answer before the gap to the first after it (ms)".into(),
            curves: vec![Curve {
                label: system.clone(),
                values_ms: self
                    .outages
                    .iter()
                    .map(|o| o.length_ns() as f64 / 1e6)
                    .collect(),
            }],
        });
        panels
    }

    fn takeovers_by_kind(&self) -> Vec<(super::fault::FaultKind, Vec<f64>)> {
        let mut by_kind: Vec<(super::fault::FaultKind, Vec<f64>)> = Vec::new();
        for fault in &self.faults {
            let Outcome::TookOver(index) = fault.outcome else {
                continue;
            };
            let us = takeover::takeover_us(&self.outages[index], fault.at_ns);
            match by_kind.iter_mut().find(|(k, _)| *k == fault.record.kind) {
                Some((_, values)) => values.push(us),
                None => by_kind.push((fault.record.kind, vec![us])),
            }
        }
        by_kind
    }

    fn failures(&self) -> Vec<String> {
        self.faults
            .iter()
            .filter(|f| f.outcome == Outcome::Unanswered)
            .map(|f| {
                format!(
                    "{} at {} on {}: no other node answered within {} s",
                    f.record.kind,
                    f.record.at,
                    f.record.host,
                    PATIENCE.as_secs()
                )
            })
            .collect()
    }

    fn advert_interval_us(&self) -> Option<u64> {
        self.settings.advert_interval.map(|i| i.as_micros() as u64)
    }

    fn outage_line(&self, outage: &Outage) -> String {
        let hands = if outage.moved() {
            format!(
                "{} -> {}",
                self.name(outage.before),
                self.name(outage.after)
            )
        } else {
            format!("{} again", self.name(outage.after))
        };
        format!(
            "{}  outage {} ({} probes lost): {hands}",
            self.wall(outage.start_ns),
            human_us(outage.length_ns() as f64 / 1e3),
            outage.lost
        )
    }

    fn fault_line(&self, fault: &Fault) -> String {
        let kind = fault.record.kind;
        match fault.outcome {
            Outcome::TookOver(index) => {
                let outage = &self.outages[index];
                format!(
                    "{}  {kind}: first answer from {} {} after the fault{} (outage {}, {} before; \
                     its responder took {} of it)",
                    self.wall(outage.end_ns),
                    self.name(outage.after),
                    human_us(takeover::takeover_us(outage, fault.at_ns)),
                    uncertainty(fault.record.uncertainty_ns),
                    human_us(outage.length_ns() as f64 / 1e3),
                    self.name(outage.before),
                    human_us(outage.turnaround_ns as f64 / 1e3),
                )
            }
            _ => format!(
                "{}  {kind}: no other node answered within {} s",
                fault.record.at,
                PATIENCE.as_secs()
            ),
        }
    }

    fn name(&self, responder: Responder) -> String {
        self.names
            .get(usize::from(responder.0))
            .cloned()
            .unwrap_or_else(|| "?".into())
    }

    fn wall(&self, monotonic_ns: u64) -> String {
        clock::rfc3339(Offset::sample().realtime_of(monotonic_ns))
    }
}

/// ` (± 120 us)` for a fault timed through ssh.
fn uncertainty(ns: u64) -> String {
    if ns == 0 {
        String::new()
    } else {
        format!(" (± {})", human_us(ns as f64 / 1e3))
    }
}

/// The outages' lengths in vipd's latency buckets (the status and metrics' histogram), one
/// line per bucket from the first used to the last.
fn histogram(outages: &[Outage]) -> String {
    let mut histogram = LatencyHistogram::new();
    for outage in outages {
        histogram.record(Duration::from_nanos(outage.length_ns()));
    }
    let status = histogram.status();
    let mut rows: Vec<(String, u64)> = Vec::new();
    let mut below = 0;
    for bucket in &status.buckets {
        rows.push((
            format!("<= {}", human_us(bucket.le_us as f64)),
            bucket.count - below,
        ));
        below = bucket.count;
    }
    rows.push(("longer".into(), status.count - below));
    let used = |(_, n): &(String, u64)| *n > 0;
    let (Some(first), Some(last)) = (rows.iter().position(used), rows.iter().rposition(used))
    else {
        return String::new();
    };
    let most = rows.iter().map(|(_, n)| *n).max().unwrap_or(1).max(1);
    let mut text = String::new();
    for (label, n) in &rows[first..=last] {
        let bar = "#".repeat(((n * 40).div_ceil(most)) as usize);
        let _ = writeln!(text, "  {label:>12} {n:>6} {bar}");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::fault::FaultKind;

    fn reply(at_ns: u64, seq: u64, node: u16) -> Reply {
        Reply {
            at_ns,
            seq,
            responder: Responder(node),
            ..Reply::default()
        }
    }

    fn session() -> Session {
        Session::new(Settings {
            system: "vipd".into(),
            advert_interval: Some(Duration::from_millis(100)),
            probe_interval: Duration::from_micros(20),
            min_outage: Duration::from_millis(1),
        })
    }

    #[test]
    fn a_fault_is_matched_to_its_takeover_and_reported_as_the_bench_does() {
        let mut session = session();
        let names = || vec!["node1".to_string(), "node2".to_string()];
        let base = clock::monotonic_ns();
        session.feed(&[reply(base, 0, 0), reply(base + 20_000, 1, 0)], names());
        let fault_real = Offset::sample().realtime_of(base + 30_000);
        session.add_faults(vec![FaultRecord {
            kind: FaultKind::Kill9,
            host: "node1".into(),
            target: "vipd pid 1".into(),
            at_ns: fault_real,
            at: clock::rfc3339(fault_real),
            uncertainty_ns: 0,
            ssh_round_trip_ns: None,
            remote_at_ns: None,
        }]);
        assert!(
            session.settle_faults().is_empty(),
            "nobody else answered yet"
        );
        let lines = session.feed(&[reply(base + 5_020_000, 251, 1)], names());
        assert_eq!(lines.len(), 1);
        assert!(lines[0].contains("node1 -> node2"), "{lines:?}");
        let settled = session.settle_faults();
        assert!(
            settled[0].contains("kill9: first answer from node2"),
            "{settled:?}"
        );

        let doc = session.document();
        assert_eq!((doc.nodes, doc.trials, doc.samples.len()), (2, 1, 1));
        let sample = &doc.samples[0];
        assert_eq!(sample.scenario, Some("kill9"));
        assert_eq!(
            (sample.before.as_str(), sample.after.as_str()),
            ("node1", "node2")
        );
        assert_eq!(sample.outage_us, Some(5_000.0));
        // Converting the fault through the wall clock and back loses at most a few us.
        let takeover = sample.takeover_us.unwrap();
        assert!((takeover - 4_990.0).abs() < 50.0, "{takeover}");
        let summary = session.summary(252);
        assert!(
            summary.contains("outages: 1 (1 moved the VIP)"),
            "{summary}"
        );
        assert!(summary.contains("| kill9 | 1 |"), "{summary}");
        assert_eq!(session.panels().len(), 2);
    }

    #[test]
    fn the_histogram_spans_the_buckets_in_use() {
        let outage = |us: u64| Outage {
            start_ns: 0,
            end_ns: us * 1_000,
            lost: 1,
            before: Responder(0),
            after: Responder(1),
            turnaround_ns: 0,
        };
        let text = histogram(&[outage(1_500), outage(1_800), outage(40_000)]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 5, "2 ms up to 50 ms:\n{text}");
        assert!(
            lines[0].contains("<= 2.00 ms") && lines[0].contains(" 2 "),
            "{text}"
        );
        assert!(
            lines[4].contains("<= 50.00 ms") && lines[4].contains(" 1 "),
            "{text}"
        );
    }
}
