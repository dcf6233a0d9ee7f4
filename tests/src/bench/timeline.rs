//! The takeover timeline: every hop between the fault and the client's first reply from the new
//! master, per trial, on CLOCK_MONOTONIC.
//!
//! Sources: packet sniffers with kernel stamps on the client's interface (ARP: the new master's
//! gratuitous ARP, its resolution of the client, the client's own requests) and on the expected
//! new master's switch port (what the new master was sent: the old master's adverts and echo
//! replies; what it sent: its first advert); the first answer's own stamps (the probe's arrival
//! at the new master's echo server, the answer's departure and its arrival at the client, see
//! [`super::echo`]); an rtnetlink listener for the client's neighbour entry of the VIP; and
//! vipd's JSON log for what only vipd knows (its decision, the owned-VIP XDP map, the netlink
//! acknowledgement of the VIP).
use std::net::{IpAddr, Ipv4Addr};

use super::{
    netwatch::{Change, NetWatch, Noticed, Topic},
    probe::Reply,
    stats,
    system::VIP,
    walltime::{self, Offset},
    wire::{Frame, Seen, Sniffer},
};
use crate::topology::Lan;

/// One trial's hops, in microseconds after the fault (`None`: not seen).
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Timeline {
    /// The fault, CLOCK_MONOTONIC ns: every other field is relative to it.
    pub fault_ns: u64,
    /// The new master's last advert from the old one, by its own account (vipd: decision minus
    /// its logged detection latency).
    pub last_advert_seen_us: Option<f64>,
    /// The old master's last advert sent out of the new master's switch port.
    pub last_advert_wire_us: Option<f64>,
    /// The old master's last echo reply sent out of the new master's switch port (vipd XDP).
    pub last_echo_reply_wire_us: Option<f64>,
    /// The old master's priority-0 advert (graceful stop) on the new master's port.
    pub resign_advert_us: Option<f64>,
    /// The old master's "VIP removed" (graceful stop, vipd).
    pub old_vip_removed_us: Option<f64>,
    /// The new master's "state changed" to Master (vipd).
    pub decision_us: Option<f64>,
    /// The new master's owned-VIP XDP map written (vipd XDP).
    pub xdp_owned_us: Option<f64>,
    /// The new master's netlink acknowledgement of the VIP ("VIP added", vipd).
    pub vip_added_us: Option<f64>,
    /// The new master's first advert, entering its switch port.
    pub first_advert_us: Option<f64>,
    /// The new master's first gratuitous ARP for the VIP, arriving at the client.
    pub garp_us: Option<f64>,
    /// Whether that gratuitous ARP was a reply (else a request).
    pub garp_reply: Option<bool>,
    /// The client's own ARP request for the VIP (its entry went stale or failed).
    pub client_asked_vip_us: Option<f64>,
    /// An ARP reply for the VIP from the new master to the client (its XDP responder or kernel).
    pub vip_answered_us: Option<f64>,
    /// The new master's ARP request for the client (it had no entry to reply with).
    pub master_asked_client_us: Option<f64>,
    /// The client's answer to that request, leaving the client.
    pub client_answered_us: Option<f64>,
    /// The client's neighbour entry for the VIP moving to the new master's MAC, as its listener
    /// read the change (an upper bound: the kernel moves the entry as the ARP arrives, and the
    /// listener's wake-up comes on top, 0.2-0.3 ms on the 2-core VM).
    pub client_neighbour_us: Option<f64>,
    /// The first probe the new master answered, reaching its echo server's socket.
    pub probe_at_new_master_us: f64,
    /// The new master's echo server sending that answer.
    pub new_master_answered_us: f64,
    /// The client's first reply from the new master, reaching the client's socket.
    pub first_reply_us: f64,
    /// The probe's receiver reading that reply.
    pub first_reply_read_us: f64,
}

/// The sniffers and listeners a group of trials shares, and the nodes' MACs.
pub struct Recorders {
    client: Sniffer,
    new_master_port: Sniffer,
    neighbours: NetWatch,
    macs: Vec<[u8; 6]>,
    client_ip: Ipv4Addr,
}

/// The node the timeline watches the switch port of: the one that takes over from node 1
/// (the next highest priority).
pub const NEW_MASTER: usize = 2;

impl Recorders {
    /// Starts recording on `lan`, whose node `client` is the client.
    pub fn start(lan: &Lan, client: usize) -> Result<Self, String> {
        Ok(Self {
            client: Sniffer::start(lan.node(client), "eth0")?,
            new_master_port: Sniffer::start(lan.switch(), &format!("p{NEW_MASTER}"))?,
            neighbours: NetWatch::start(lan.node(client), Topic::Neighbours)?,
            macs: (1..client).map(|n| mac_of(lan, n)).collect(),
            client_ip: Lan::ipv4(client),
        })
    }

    /// Forgets what was recorded so far (before a fault).
    pub fn clear(&self) {
        self.client.take();
        self.new_master_port.take();
        self.neighbours.take();
    }

    /// The timeline of the takeover from node 1 to `new` after `fault_ns`, whose first reply
    /// was `first_reply`; `old_log` and `new_log` are the two daemons' logs since before the
    /// fault.
    pub fn timeline(
        &self,
        fault_ns: u64,
        first_reply: &Reply,
        new: usize,
        old_log: &str,
        new_log: &str,
    ) -> Timeline {
        let first_reply_ns = first_reply.at_ns;
        let after = |at_ns: u64| (at_ns as f64 - fault_ns as f64) / 1e3;
        let (old_mac, new_mac) = (self.macs[0], self.macs[new - 1]);
        let vip: Ipv4Addr = VIP.parse().expect("VIP");
        let (old_ip, new_ip) = (Lan::ipv4(1), Lan::ipv4(new));
        let port = self.new_master_port.take();
        let client = self.client.take();
        let neighbours = self.neighbours.take();

        let offset = Offset::sample();
        let old_events = vipd_events(old_log, offset);
        let new_events = vipd_events(new_log, offset);
        let hops = MasterHops::of(&new_events);
        let decision_ns = hops.decision_ns;
        // What reached the new master from the old one before it decided (or before the client
        // saw the takeover, for a daemon that logs no decision).
        let horizon = decision_ns.unwrap_or(first_reply_ns);
        let last_from_old = |wanted: &dyn Fn(&Seen) -> bool| {
            port.iter()
                .filter(|s| s.outgoing && s.at_ns <= horizon && wanted(s))
                .map(|s| after(s.at_ns))
                .next_back()
        };
        let since_fault = |s: &&Seen| s.at_ns >= fault_ns;
        let first_at_client = |wanted: &dyn Fn(&Seen) -> bool| {
            client
                .iter()
                .filter(since_fault)
                .find(|s| wanted(s))
                .map(|s| after(s.at_ns))
        };
        let garp = client.iter().filter(since_fault).find(|s| {
            matches!(s.frame, Frame::Arp { sender, target, sender_mac, .. }
                if sender == vip && target == vip && sender_mac == new_mac)
        });

        Timeline {
            fault_ns,
            last_advert_seen_us: decision_ns
                .zip(hops.detection_us)
                .map(|(d, detection_us)| after(d) - detection_us),
            last_advert_wire_us: last_from_old(
                &|s| matches!(s.frame, Frame::Advert { source, priority } if source == old_ip && priority > 0),
            ),
            last_echo_reply_wire_us: last_from_old(&|s| {
                s.frame == Frame::EchoReply && s.source_mac == old_mac
            }),
            resign_advert_us: port
                .iter()
                .filter(since_fault)
                .find(|s| {
                    s.frame
                        == (Frame::Advert {
                            source: old_ip,
                            priority: 0,
                        })
                })
                .map(|s| after(s.at_ns)),
            old_vip_removed_us: old_events
                .iter()
                .find(|e| e.at_ns >= fault_ns && e.message == "VIP removed")
                .map(|e| after(e.at_ns)),
            decision_us: decision_ns.map(after),
            xdp_owned_us: hops.xdp_owned_ns.map(after),
            vip_added_us: hops.vip_added_ns.map(after),
            first_advert_us: port
                .iter()
                .filter(since_fault)
                .find(|s| {
                    !s.outgoing
                        && matches!(s.frame, Frame::Advert { source, .. } if source == new_ip)
                })
                .map(|s| after(s.at_ns)),
            garp_us: garp.map(|s| after(s.at_ns)),
            garp_reply: garp.map(|s| matches!(s.frame, Frame::Arp { reply: true, .. })),
            client_asked_vip_us: first_at_client(&|s| {
                s.outgoing
                    && matches!(s.frame, Frame::Arp { reply: false, target, .. } if target == vip)
            }),
            vip_answered_us: first_at_client(&|s| {
                matches!(s.frame, Frame::Arp { reply: true, sender, target, sender_mac }
                    if sender == vip && target == self.client_ip && sender_mac == new_mac)
            }),
            master_asked_client_us: first_at_client(&|s| {
                matches!(s.frame, Frame::Arp { reply: false, sender, target, .. }
                    if sender == new_ip && target == self.client_ip)
            }),
            client_answered_us: first_at_client(&|s| {
                s.outgoing
                    && matches!(s.frame, Frame::Arp { reply: true, target, .. } if target == new_ip)
            }),
            client_neighbour_us: first_neighbour_move(&neighbours, fault_ns, vip, new_mac)
                .map(after),
            probe_at_new_master_us: after(first_reply.probe_arrived_ns),
            new_master_answered_us: after(first_reply.sent_ns),
            first_reply_us: after(first_reply_ns),
            first_reply_read_us: after(first_reply.read_ns),
        }
    }
}

/// The new master's own hops of a takeover, as its JSON log tells them, on CLOCK_MONOTONIC:
/// what only vipd knows. The benchmark's timeline and the lab's both read them here.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct MasterHops {
    /// Its "state changed" to Master.
    pub decision_ns: Option<u64>,
    /// Its own account of the detection: last advert seen to the decision.
    pub detection_us: Option<f64>,
    /// The owned-VIP XDP map written, after the decision (vipd XDP).
    pub xdp_owned_ns: Option<u64>,
    /// The netlink acknowledgement of the VIP ("VIP added"), after the decision.
    pub vip_added_ns: Option<u64>,
}

impl MasterHops {
    /// The hops in `events`, the new master's log since before the fault.
    pub fn of(events: &[VipdEvent]) -> Self {
        let decision = events
            .iter()
            .find(|e| e.message == "state changed" && e.field("to") == Some("Master"));
        let decision_ns = decision.map(|e| e.at_ns);
        let after_decision = |message: &str| {
            events
                .iter()
                .filter(|e| decision_ns.is_some_and(|d| e.at_ns >= d))
                .find(|e| e.message == message && e.field("own") != Some("false"))
                .map(|e| e.at_ns)
        };
        Self {
            decision_ns,
            detection_us: decision.and_then(|d| d.number("detection_us")),
            xdp_owned_ns: after_decision("XDP owned-VIP map updated"),
            vip_added_ns: after_decision("VIP added"),
        }
    }

    /// The hops in `log`, a slice of the new master's JSON log written since before the fault.
    pub fn from_log(log: &str) -> Self {
        Self::of(&vipd_events(log, Offset::sample()))
    }
}

/// When the client's entry for `vip` first pointed at `mac` after the fault.
fn first_neighbour_move(
    noticed: &[Noticed],
    fault_ns: u64,
    vip: Ipv4Addr,
    mac: [u8; 6],
) -> Option<u64> {
    noticed
        .iter()
        .filter(|n| n.at_ns >= fault_ns)
        .find(|n| {
            matches!(n.change, Change::Neighbour { addr, mac: Some(m), .. }
                if addr == IpAddr::V4(vip) && m == mac)
        })
        .map(|n| n.at_ns)
}

/// A node's `eth0` MAC.
fn mac_of(lan: &Lan, n: usize) -> [u8; 6] {
    let out = lan.node(n).exec(&["ip", "-o", "link", "show", "eth0"]);
    let text = String::from_utf8_lossy(&out.stdout);
    let hex = text
        .split("link/ether ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no MAC for node {n}'s eth0 in {text:?}"));
    let mut mac = [0u8; 6];
    for (byte, part) in mac.iter_mut().zip(hex.split(':')) {
        *byte = u8::from_str_radix(part, 16).expect("MAC hex");
    }
    mac
}

/// One line of vipd's JSON log: its message, fields and time on CLOCK_MONOTONIC.
pub struct VipdEvent {
    pub at_ns: u64,
    pub message: String,
    fields: serde_json::Value,
}

impl VipdEvent {
    /// A field as text (strings unquoted, other values as JSON).
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .get(name)?
            .as_str()
            .or(match self.fields.get(name)? {
                serde_json::Value::Bool(true) => Some("true"),
                serde_json::Value::Bool(false) => Some("false"),
                _ => None,
            })
    }

    pub fn number(&self, name: &str) -> Option<f64> {
        self.fields.get(name)?.as_f64()
    }
}

/// The events of a vipd log written with `log_format = "json"`; other lines are skipped. An
/// event's time is its `at_mono_ns` field where vipd gives one (the hops of a takeover, logged
/// after the takeover's work), else the line's timestamp.
pub fn vipd_events(log: &str, offset: Offset) -> Vec<VipdEvent> {
    log.lines()
        .filter_map(|line| {
            let value: serde_json::Value = serde_json::from_str(line).ok()?;
            let at = walltime::parse_rfc3339_utc(value.get("timestamp")?.as_str()?)?;
            let fields = value.get("fields")?.clone();
            Some(VipdEvent {
                at_ns: fields
                    .get("at_mono_ns")
                    .and_then(serde_json::Value::as_u64)
                    .unwrap_or_else(|| offset.monotonic_of(at)),
                message: fields.get("message")?.as_str()?.to_string(),
                fields,
            })
        })
        .collect()
}

/// The hops of the breakdown table: a name and the two ends (fault = 0).
type Hop = (
    &'static str,
    fn(&Timeline) -> Option<f64>,
    fn(&Timeline) -> Option<f64>,
);

const HOPS: [Hop; 8] = [
    (
        "fault->last advert",
        |_| Some(0.0),
        |t| t.last_advert_seen_us.or(t.last_advert_wire_us),
    ),
    (
        "last advert->decision",
        |t| t.last_advert_seen_us,
        |t| t.decision_us,
    ),
    ("decision->XDP map", |t| t.decision_us, |t| t.xdp_owned_us),
    ("decision->VIP added", |t| t.decision_us, |t| t.vip_added_us),
    (
        "VIP added->GARP at client",
        |t| t.vip_added_us,
        |t| t.garp_us,
    ),
    (
        "GARP->probe at new master",
        |t| t.garp_us,
        |t| Some(t.probe_at_new_master_us),
    ),
    (
        "server's turnaround",
        |t| Some(t.probe_at_new_master_us),
        |t| Some(t.new_master_answered_us),
    ),
    (
        "answer->client",
        |t| Some(t.new_master_answered_us),
        |t| Some(t.first_reply_us),
    ),
];

/// The breakdown table's header.
pub fn breakdown_header() -> Vec<&'static str> {
    let mut header = vec!["scenario", "system", "trials"];
    header.extend(HOPS.iter().map(|(name, _, _)| *name));
    header.extend(["fault->GARP", "fault->first reply", "master ARPed client"]);
    header
}

/// One row of the breakdown: p50 / p90 of each hop over `timelines`.
pub fn breakdown_row(timelines: &[&Timeline]) -> Vec<String> {
    let cell = |values: Vec<f64>| match stats::summary(&values) {
        Some([p50, p90, ..]) => format!("{} / {}", stats::human_us(p50), stats::human_us(p90)),
        None => "-".into(),
    };
    let mut row = vec![timelines.len().to_string()];
    for (_, from, to) in HOPS {
        row.push(cell(
            timelines
                .iter()
                .filter_map(|t| Some(to(t)? - from(t)?))
                .collect(),
        ));
    }
    row.push(cell(timelines.iter().filter_map(|t| t.garp_us).collect()));
    row.push(cell(timelines.iter().map(|t| t.first_reply_us).collect()));
    let asked = timelines
        .iter()
        .filter(|t| t.master_asked_client_us.is_some())
        .count();
    row.push(format!("{asked}/{}", timelines.len()));
    row
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_vipd_json_lines() {
        let log = concat!(
            "not json\n",
            r#"{"timestamp":"2026-12-01T22:49:05.000100Z","level":"INFO","fields":{"message":"state changed","instance":"bench","to":"Master","detection_us":681},"target":"vipd"}"#,
            "\n",
            r#"{"timestamp":"2026-12-01T22:49:05.000200Z","level":"INFO","fields":{"message":"XDP owned-VIP map updated","own":true},"target":"vipd"}"#,
            "\n"
        );
        // A sampled offset would put these 2026 stamps before boot on a machine up for less
        // than their age, where every stamp clamps to 0.
        let offset = Offset::of_ns(1_796_000_000 * 1_000_000_000);
        let events = vipd_events(log, offset);
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].field("to"), Some("Master"));
        assert_eq!(events[0].number("detection_us"), Some(681.0));
        assert_eq!(events[1].field("own"), Some("true"));
        assert_eq!(events[1].at_ns - events[0].at_ns, 100_000);
    }

    #[test]
    fn an_events_own_monotonic_stamp_wins_over_the_lines() {
        let log = concat!(
            r#"{"timestamp":"2026-12-01T22:49:05.000900Z","level":"INFO","fields":{"message":"state changed","at_mono_ns":5000},"target":"vipd"}"#,
            "\n",
        );
        let events = vipd_events(log, Offset::sample());
        assert_eq!(events[0].at_ns, 5000);
    }

    #[test]
    fn master_hops_count_from_the_decision_on() {
        let line = |message: &str, extra: &str, at_ns: u64| {
            format!(
                r#"{{"timestamp":"2026-12-06T12:00:00Z","level":"INFO","fields":{{"message":"{message}"{extra},"at_mono_ns":{at_ns}}},"target":"vipd"}}"#
            )
        };
        let log = [
            line("VIP added", "", 100),
            line("state changed", r#","to":"Backup""#, 200),
            line(
                "state changed",
                r#","to":"Master","detection_us":650"#,
                1_000,
            ),
            line("XDP owned-VIP map updated", r#","own":false"#, 1_050),
            line("XDP owned-VIP map updated", r#","own":true"#, 1_060),
            line("VIP added", "", 1_100),
        ]
        .join("\n");
        let hops = MasterHops::from_log(&log);
        assert_eq!(
            hops,
            MasterHops {
                decision_ns: Some(1_000),
                detection_us: Some(650.0),
                xdp_owned_ns: Some(1_060),
                vip_added_ns: Some(1_100),
            }
        );
        assert_eq!(MasterHops::from_log(""), MasterHops::default());
    }

    #[test]
    fn breakdown_takes_each_hop_between_its_ends() {
        let timeline = Timeline {
            last_advert_seen_us: Some(-50.0),
            decision_us: Some(650.0),
            vip_added_us: Some(700.0),
            garp_us: Some(720.0),
            probe_at_new_master_us: 745.0,
            new_master_answered_us: 1255.0,
            first_reply_us: 1300.0,
            ..Timeline::default()
        };
        let row = breakdown_row(&[&timeline]);
        assert_eq!(row.len(), breakdown_header().len() - 2);
        assert_eq!(row[1], "-50 us / -50 us"); // fault->last advert
        assert_eq!(row[2], "700 us / 700 us"); // last advert->decision
        assert_eq!(row[3], "-"); // no XDP map line
        assert_eq!(row[6], "25 us / 25 us"); // GARP->probe at new master
        assert_eq!(row[7], "510 us / 510 us"); // server's turnaround
        assert_eq!(row[8], "45 us / 45 us"); // answer->client
        assert_eq!(row[11], "0/1");
    }
}
