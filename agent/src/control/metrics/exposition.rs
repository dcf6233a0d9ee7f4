//! Renders a [`Snapshot`] in the Prometheus text exposition format (version 0.0.4).
//!
//! Rendered by hand rather than through prometheus-client: that crate is built around live
//! metric objects updated in place, while vipd's numbers already exist as a snapshot the hot
//! loops publish (see [`crate::control::board`]). Adapting it would mean a custom collector
//! re-describing every family, no shorter than this renderer, and the format itself is a few
//! line shapes plus label escaping.
//!
//! Per-instance series carry one label, `vrrp_instance` (not `instance`, which Prometheus sets
//! on every scraped series); the instance's interface, VRID, family and version are on
//! `vipd_instance_info` for joins. Durations are in seconds, Prometheus' base unit.

use std::fmt::Write;

use crate::control::histogram::HistogramStatus;
use crate::control::status::{BfdSessionStatus, InstanceStatus, Snapshot, StateName};

/// The Content-Type of the rendered text.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

pub fn render(snapshot: &Snapshot) -> String {
    let mut out = Exposition::default();
    let daemon = &snapshot.daemon;
    let instances = &snapshot.instances;

    out.family(
        "vipd_info",
        "gauge",
        "Always 1; labels describe the running vipd.",
        [(
            labels(&[
                ("version", &daemon.version),
                ("router_id", &daemon.router_id),
                ("dataplane", &daemon.dataplane),
            ]),
            "1".to_string(),
        )],
    );
    out.family(
        "vipd_uptime_seconds",
        "gauge",
        "Seconds since vipd started.",
        [(String::new(), daemon.uptime_seconds.to_string())],
    );
    if let Some(xdp) = &daemon.xdp {
        for (spec, value) in xdp.iter() {
            out.family(
                &format!("vipd_xdp_{}_total", spec.name),
                "counter",
                &format!("{} Summed over CPUs.", spec.help),
                [(String::new(), value.to_string())],
            );
        }
    }

    out.family(
        "vipd_instance_info",
        "gauge",
        "Always 1; labels describe the VRRP instance.",
        instances.iter().map(|i| {
            let vrid = i.vrid.to_string();
            let version = i.version.to_string();
            let l = labels(&[
                ("vrrp_instance", &i.name),
                ("interface", &i.interface),
                ("vrid", &vrid),
                ("family", i.family.key()),
                ("version", &version),
                ("dataplane", &i.dataplane),
            ]);
            (l, "1".to_string())
        }),
    );
    out.family(
        "vipd_instance_state",
        "gauge",
        "1 for the state the instance is in, 0 for the others.",
        instances.iter().flat_map(|i| {
            StateName::ALL.iter().map(move |state| {
                let l = labels(&[("vrrp_instance", &i.name), ("state", state.name())]);
                (l, u8::from(i.state == *state).to_string())
            })
        }),
    );
    per_instance(
        &mut out,
        instances,
        "vipd_instance_base_priority",
        "gauge",
        "Configured priority.",
        |i| i.base_priority.to_string(),
    );
    per_instance(
        &mut out,
        instances,
        "vipd_instance_effective_priority",
        "gauge",
        "Priority in adverts and elections, after checks and tracked objects.",
        |i| i.effective_priority.to_string(),
    );
    per_instance(
        &mut out,
        instances,
        "vipd_instance_master_adver_interval_seconds",
        "gauge",
        "Master_Adver_Interval: the master's advert interval.",
        |i| seconds(i.master_adver_interval_us),
    );
    per_instance(
        &mut out,
        instances,
        "vipd_instance_master_down_interval_seconds",
        "gauge",
        "Master_Down_Interval: silence after which a backup takes over.",
        |i| seconds(i.master_down_interval_us),
    );
    per_instance(
        &mut out,
        instances,
        "vipd_instance_transitions_total",
        "counter",
        "State changes.",
        |i| i.transitions.to_string(),
    );
    per_instance(
        &mut out,
        instances,
        "vipd_instance_adverts_received_total",
        "counter",
        "Valid adverts received.",
        |i| i.adverts_in.to_string(),
    );
    per_instance(
        &mut out,
        instances,
        "vipd_instance_adverts_sent_total",
        "counter",
        "Adverts sent.",
        |i| i.adverts_out.to_string(),
    );
    per_instance(
        &mut out,
        instances,
        "vipd_instance_priority_zero_received_total",
        "counter",
        "Priority-0 adverts (a master resigning) received.",
        |i| i.priority_zero_in.to_string(),
    );
    per_instance(
        &mut out,
        instances,
        "vipd_instance_priority_zero_sent_total",
        "counter",
        "Priority-0 adverts sent.",
        |i| i.priority_zero_out.to_string(),
    );
    per_instance(
        &mut out,
        instances,
        "vipd_instance_lower_priority_claims_total",
        "counter",
        "Lower-priority routers claiming mastership while this one was master (false takeovers \
         elsewhere, answered by re-announcing the VIPs).",
        |i| i.lower_priority_claims.to_string(),
    );
    per_instance(
        &mut out,
        instances,
        "vipd_instance_socket_overflow_total",
        "counter",
        "Packets the kernel dropped because the VRRP socket's receive queue was full (adverts \
         lost unseen, in no drop reason).",
        |i| i.socket_overflow.to_string(),
    );
    out.family(
        "vipd_instance_adverts_dropped_total",
        "counter",
        "Received adverts dropped, by reason.",
        instances.iter().flat_map(|i| {
            i.drops.iter().map(move |(reason, n)| {
                let l = labels(&[("vrrp_instance", &i.name), ("reason", reason)]);
                (l, n.to_string())
            })
        }),
    );

    let checks = || {
        instances
            .iter()
            .flat_map(|i| i.checks.iter().map(move |c| (i, c)))
    };
    let check_labels =
        |i: &InstanceStatus, name: &str| labels(&[("vrrp_instance", &i.name), ("check", name)]);
    out.family(
        "vipd_check_up",
        "gauge",
        "1 while the check passes.",
        checks().map(|(i, c)| (check_labels(i, &c.name), u8::from(c.up).to_string())),
    );
    out.family(
        "vipd_check_runs_total",
        "counter",
        "Check runs.",
        checks().map(|(i, c)| (check_labels(i, &c.name), c.runs.to_string())),
    );
    out.family(
        "vipd_check_failures_total",
        "counter",
        "Check runs that failed.",
        checks().map(|(i, c)| (check_labels(i, &c.name), c.failures.to_string())),
    );
    out.family(
        "vipd_check_last_latency_seconds",
        "gauge",
        "How long the check's last run took.",
        checks().filter_map(|(i, c)| {
            c.last_latency_us
                .map(|us| (check_labels(i, &c.name), seconds(us)))
        }),
    );
    out.family(
        "vipd_tracked_interface_up",
        "gauge",
        "1 while the tracked interface is up.",
        instances.iter().flat_map(|i| {
            i.tracked_interfaces.iter().map(move |t| {
                let l = labels(&[("vrrp_instance", &i.name), ("tracked_interface", &t.name)]);
                (l, u8::from(t.up).to_string())
            })
        }),
    );
    out.histogram(
        "vipd_detection_latency_seconds",
        "From the last advert seen to the master-down decision, per takeover.",
        instances.iter().map(|i| (&i.name, &i.detection_latency)),
    );
    bfd(&mut out, &snapshot.bfd);
    out.text
}

/// The BFD sessions' families, labelled `bfd_session`.
fn bfd(out: &mut Exposition, sessions: &[BfdSessionStatus]) {
    out.family(
        "vipd_bfd_session_info",
        "gauge",
        "Always 1; labels describe the BFD session and its current states and diagnostics.",
        sessions.iter().map(|s| {
            let neighbor = s.neighbor.to_string();
            (
                labels(&[
                    ("bfd_session", &s.name),
                    ("neighbor", &neighbor),
                    ("state", &s.state),
                    ("remote_state", &s.remote_state),
                    ("local_diag", &s.local_diag),
                    ("remote_diag", &s.remote_diag),
                ]),
                "1".to_string(),
            )
        }),
    );
    let per_session = |out: &mut Exposition,
                       name: &str,
                       kind: &str,
                       help: &str,
                       value: &dyn Fn(&BfdSessionStatus) -> String| {
        out.family(
            name,
            kind,
            help,
            sessions
                .iter()
                .map(|s| (labels(&[("bfd_session", &s.name)]), value(s))),
        );
    };
    per_session(
        out,
        "vipd_bfd_session_up",
        "gauge",
        "1 while the BFD session is Up, 0 otherwise.",
        &|s| u8::from(s.state == "up").to_string(),
    );
    per_session(
        out,
        "vipd_bfd_session_flaps_total",
        "counter",
        "Times the BFD session left Up.",
        &|s| s.flaps.to_string(),
    );
    per_session(
        out,
        "vipd_bfd_session_tx_interval_seconds",
        "gauge",
        "The negotiated transmit interval before jitter; 0 while no packets go.",
        &|s| seconds(s.tx_interval_us),
    );
    per_session(
        out,
        "vipd_bfd_session_detection_time_seconds",
        "gauge",
        "The Detection Time; 0 before the neighbour is heard.",
        &|s| seconds(s.detection_time_us),
    );
    per_session(
        out,
        "vipd_bfd_packets_out_total",
        "counter",
        "BFD Control packets sent.",
        &|s| s.packets_out.to_string(),
    );
    per_session(
        out,
        "vipd_bfd_packets_in_total",
        "counter",
        "BFD Control packets accepted.",
        &|s| s.packets_in.to_string(),
    );
    per_session(
        out,
        "vipd_bfd_packets_dropped_total",
        "counter",
        "BFD Control packets the session discarded (TTL, discriminator, state).",
        &|s| s.packets_dropped.to_string(),
    );
}

#[derive(Default)]
struct Exposition {
    text: String,
}

impl Exposition {
    /// A metric family; one with no samples is left out entirely.
    fn family(
        &mut self,
        name: &str,
        kind: &str,
        help: &str,
        samples: impl IntoIterator<Item = (String, String)>,
    ) {
        let mut samples = samples.into_iter().peekable();
        if samples.peek().is_none() {
            return;
        }
        self.header(name, kind, help);
        for (labels, value) in samples {
            // Writing to a String cannot fail.
            let _ = writeln!(self.text, "{name}{labels} {value}");
        }
    }

    fn histogram<'a>(
        &mut self,
        name: &str,
        help: &str,
        histograms: impl IntoIterator<Item = (&'a String, &'a HistogramStatus)>,
    ) {
        let mut histograms = histograms.into_iter().peekable();
        if histograms.peek().is_none() {
            return;
        }
        self.header(name, "histogram", help);
        for (instance, h) in histograms {
            for bucket in &h.buckets {
                let le = seconds(bucket.le_us);
                let l = labels(&[("vrrp_instance", instance), ("le", &le)]);
                let _ = writeln!(self.text, "{name}_bucket{l} {}", bucket.count);
            }
            let inf = labels(&[("vrrp_instance", instance), ("le", "+Inf")]);
            let _ = writeln!(self.text, "{name}_bucket{inf} {}", h.count);
            let l = labels(&[("vrrp_instance", instance)]);
            let _ = writeln!(self.text, "{name}_sum{l} {}", seconds(h.sum_us));
            let _ = writeln!(self.text, "{name}_count{l} {}", h.count);
        }
    }

    fn header(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.text, "# HELP {name} {help}");
        let _ = writeln!(self.text, "# TYPE {name} {kind}");
    }
}

fn per_instance(
    out: &mut Exposition,
    instances: &[InstanceStatus],
    name: &str,
    kind: &str,
    help: &str,
    value: impl Fn(&InstanceStatus) -> String,
) {
    out.family(
        name,
        kind,
        help,
        instances
            .iter()
            .map(|i| (labels(&[("vrrp_instance", &i.name)]), value(i))),
    );
}

/// `{a="x",b="y"}`, values escaped as the format requires.
fn labels(pairs: &[(&str, &str)]) -> String {
    let mut text = String::from("{");
    for (n, (name, value)) in pairs.iter().enumerate() {
        if n > 0 {
            text.push(',');
        }
        text.push_str(name);
        text.push_str("=\"");
        for c in value.chars() {
            match c {
                '\\' => text.push_str("\\\\"),
                '"' => text.push_str("\\\""),
                '\n' => text.push_str("\\n"),
                c => text.push(c),
            }
        }
        text.push('"');
    }
    text.push('}');
    text
}

fn seconds(us: u64) -> String {
    // f64 holds every microsecond count below 2^53 (285 years) exactly.
    (us as f64 / 1e6).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(
            labels(&[("a", "x\"y\\z\nw"), ("b", "")]),
            r#"{a="x\"y\\z\nw",b=""}"#
        );
    }

    #[test]
    fn seconds_print_without_exponents() {
        assert_eq!(seconds(10), "0.00001");
        assert_eq!(seconds(1_500), "0.0015");
        assert_eq!(seconds(10_000_000), "10");
    }
}

#[cfg(test)]
mod golden {
    use super::*;
    use crate::control::fixtures::{numbered_value, numbered_xdp_counters, snapshot};

    /// The whole exposition for the fixture, checked line by line against a reviewed file.
    #[test]
    fn exposition_golden() {
        let actual = render(&snapshot());
        let expected = include_str!("golden.prom");
        if actual != expected {
            let first_difference = actual
                .lines()
                .zip(expected.lines())
                .position(|(a, e)| a != e);
            panic!("exposition differs from golden.prom (first differing line {first_difference:?}):\n{actual}");
        }
    }

    /// Every counter of the program's table is a metric family with its help text and value.
    #[test]
    fn every_xdp_counter_is_exported() {
        let mut status = snapshot();
        status.daemon.xdp = Some(numbered_xdp_counters());
        let text = render(&status);
        for spec in &agent_common::XDP_COUNTERS {
            let family = format!("vipd_xdp_{}_total", spec.name);
            let help = format!("# HELP {family} {}", spec.help);
            let sample = format!("\n{family} {}\n", numbered_value(spec));
            assert!(text.contains(&help), "no {help:?} in\n{text}");
            assert!(text.contains(&sample), "no {sample:?} in\n{text}");
        }
    }

    #[test]
    fn every_family_has_help_and_type_before_its_samples() {
        let text = render(&snapshot());
        let mut typed = std::collections::BTreeSet::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                let name = rest.split(' ').next().unwrap();
                assert!(typed.insert(name.to_string()), "{name} typed twice");
            } else if !line.starts_with('#') {
                let name = line.split(['{', ' ']).next().unwrap();
                let family = ["_bucket", "_sum", "_count"]
                    .iter()
                    .find_map(|s| name.strip_suffix(s).filter(|f| typed.contains(*f)))
                    .unwrap_or(name);
                assert!(typed.contains(family), "{name} has no TYPE before it");
            }
        }
    }
}
