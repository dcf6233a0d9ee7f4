//! `vipd status`: asks the running daemon over its control socket and prints a table of every
//! instance, or the raw snapshot as JSON with `--json`.
use anyhow::{Context, Result};
use std::fmt::Write;
use std::path::PathBuf;
use std::time::Duration;

use crate::config::model::Global;
use crate::control::client;
use crate::control::status::{InstanceStatus, Snapshot};

#[derive(clap::Args)]
pub struct Options {
    /// Print the status as JSON (the control protocol's snapshot) instead of a table.
    #[arg(long)]
    json: bool,
    /// The daemon's control socket (its `--control-socket` or `control_socket`).
    #[arg(
        long,
        alias = "socket",
        value_name = "PATH",
        default_value_os_t = Global::default().control_socket
    )]
    control_socket: PathBuf,
}

pub fn run(opts: Options) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    show(&opts, &mut stdout)
}

/// Fetches the status and writes it as `opts` asks.
fn show(opts: &Options, out: &mut impl std::io::Write) -> Result<()> {
    let snapshot = client::fetch_status(&opts.control_socket)?;
    let text = if opts.json {
        let mut json = serde_json::to_string_pretty(&snapshot).context("encoding the status")?;
        json.push('\n');
        json
    } else {
        render(&snapshot)
    };
    out.write_all(text.as_bytes())
        .context("writing the status to stdout")
}

/// The human-readable status: a summary line, a table of instances, then checks and tracked
/// interfaces for the instances that have any.
pub fn render(snapshot: &Snapshot) -> String {
    let d = &snapshot.daemon;
    let mut out = format!(
        "vipd {} (pid {}), router_id {}, dataplane {}, up {} since {}\n",
        d.version,
        d.pid,
        d.router_id,
        d.dataplane,
        age(d.uptime_seconds),
        d.started_at
    );
    if let Some(xdp) = &d.xdp {
        let counters: Vec<String> = xdp
            .iter()
            .map(|(spec, value)| format!("{}={value}", spec.name))
            .collect();
        let _ = writeln!(out, "xdp: {}", counters.join(" "));
    }
    if snapshot.instances.is_empty() {
        out.push_str("no instances configured\n");
        return out;
    }
    out.push('\n');
    let header = [
        "INSTANCE",
        "INTERFACE",
        "VRID",
        "STATE",
        "PRIO BASE/EFF",
        "MASTER",
        "LAST TRANSITION",
        "ADVERTS IN/OUT",
        "DROPS",
    ];
    let rows: Vec<[String; 9]> = snapshot.instances.iter().map(row).collect();
    let mut widths = header.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    push_row(&mut out, &widths, header.iter().copied());
    for row in &rows {
        push_row(&mut out, &widths, row.iter().map(String::as_str));
    }
    for instance in &snapshot.instances {
        if let Some(details) = health(instance) {
            let _ = writeln!(out, "{}: {details}", instance.name);
        }
    }
    out
}

fn row(i: &InstanceStatus) -> [String; 9] {
    let transition = match &i.last_transition {
        Some(t) => format!(
            "{}->{} {} {} ago ({})",
            t.from.name(),
            t.to.name(),
            t.reason.name(),
            age(t.seconds_ago),
            t.at
        ),
        None => "-".to_string(),
    };
    let drops: Vec<String> = i
        .drops
        .iter()
        .chain([(&"socket_overflow".to_string(), &i.socket_overflow)])
        .filter(|(_, n)| **n > 0)
        .map(|(reason, n)| format!("{reason}={n}"))
        .collect();
    [
        i.name.clone(),
        i.interface.clone(),
        format!("{} ({}, v{})", i.vrid, i.family.key(), i.version),
        i.state.name().to_string(),
        format!("{}/{}", i.base_priority, i.effective_priority),
        i.master.map_or_else(|| "-".to_string(), |m| m.to_string()),
        transition,
        format!("{}/{}", i.adverts_in, i.adverts_out),
        if drops.is_empty() {
            "-".to_string()
        } else {
            drops.join(" ")
        },
    ]
}

fn push_row<'a>(out: &mut String, widths: &[usize], cells: impl Iterator<Item = &'a str>) {
    let mut line = String::new();
    for (n, (cell, width)) in cells.zip(widths).enumerate() {
        if n > 0 {
            line.push_str("  ");
        }
        let _ = write!(line, "{cell:<width$}");
    }
    out.push_str(line.trim_end());
    out.push('\n');
}

/// Checks and tracked interfaces in one line, or none if the instance has neither.
fn health(i: &InstanceStatus) -> Option<String> {
    let mut parts: Vec<String> = i
        .checks
        .iter()
        .map(|c| {
            let latency = c
                .last_latency_us
                .map(|us| format!(", last {}", latency(us)))
                .unwrap_or_default();
            format!(
                "check {} {} ({} runs, {} failed{latency})",
                c.name,
                up_down(c.up),
                c.runs,
                c.failures
            )
        })
        .collect();
    parts.extend(
        i.tracked_interfaces
            .iter()
            .map(|t| format!("interface {} {}", t.name, up_down(t.up))),
    );
    if let Some(auth_type) = &i.auth_type {
        parts.push(format!("auth_type {auth_type}"));
    }
    if let Some(auth) = &i.auth_hmac {
        let ids: Vec<String> = auth.key_ids.iter().map(u8::to_string).collect();
        let window = auth
            .time_window_s
            .map(|s| format!(" (window {s} s)"))
            .unwrap_or_default();
        parts.push(format!(
            "auth_hmac {}, signing with key {} of {}, anti_replay {}{window}",
            auth.mode,
            auth.active_key,
            ids.join(","),
            auth.anti_replay
        ));
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

fn up_down(up: bool) -> &'static str {
    if up {
        "up"
    } else {
        "down"
    }
}

/// An age for people: milliseconds below a second, else whole seconds in h/m/s.
fn age(seconds: f64) -> String {
    if seconds < 1.0 {
        format!("{}ms", (seconds * 1000.0) as u64)
    } else {
        humantime::format_duration(Duration::from_secs(seconds as u64)).to_string()
    }
}

fn latency(us: u64) -> String {
    if us < 1_000 {
        format!("{us}us")
    } else {
        format!("{:.1}ms", us as f64 / 1000.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::fixtures::{numbered_value, numbered_xdp_counters, snapshot};

    #[test]
    fn table_golden() {
        let expected = "\
vipd 0.1.0 (pid 4242), router_id node-a, dataplane xdp, up 3h 4m 5s since 2026-11-21T18:00:00.000Z
xdp: adverts_recorded=1217 dropped=0 advert_invariant_failed=0 arp_answered=5 na_answered=0 deadman_suppressed=0 malformed=0 passed=0 ring_full=2 echo_reflected=0 echo_recorded=0 adverts_unsigned=0 adverts_throttled=0 echo_foreign=0 bfd_echo_reflected=0

INSTANCE  INTERFACE  VRID           STATE   PRIO BASE/EFF  MASTER    LAST TRANSITION                                                   ADVERTS IN/OUT  DROPS
vi_db6    bond0.20   7 (ipv6, v3)   BACKUP  100/100        fe80::2   INITIALIZE->BACKUP startup 250ms ago (2026-11-21T18:00:00.000Z)   17/0            -
vi_web    eth0       51 (ipv4, v3)  MASTER  100/90         10.0.0.2  BACKUP->MASTER master_down 12m 5s ago (2026-11-21T20:59:48.250Z)  1200/34000      bad_checksum=1 bad_ttl=3
vi_web: check apiserver up (120 runs, 2 failed, last 1.2ms); interface eth1 down
";
        let actual = render(&snapshot());
        assert_eq!(actual, expected, "actual:\n{actual}");
    }

    /// The summary's `xdp:` line shows every counter of the program's table.
    #[test]
    fn shows_every_xdp_counter() {
        let mut status = snapshot();
        status.daemon.xdp = Some(numbered_xdp_counters());
        let text = render(&status);
        let line = text.lines().find(|l| l.starts_with("xdp: ")).unwrap();
        let shown: Vec<&str> = line["xdp: ".len()..].split(' ').collect();
        let expected: Vec<String> = agent_common::XDP_COUNTERS
            .iter()
            .map(|spec| format!("{}={}", spec.name, numbered_value(spec)))
            .collect();
        assert_eq!(shown, expected);
    }

    /// The command against a real control socket, both output forms.
    #[test]
    fn shows_a_running_daemon() {
        use crate::control::board::{DaemonInfo, InstanceIdentity, StatusBoard};
        use crate::control::server::ControlServer;
        use crate::vrrp::{Router, RouterConfig};

        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("vipd.sock");
        let board = StatusBoard::new(DaemonInfo {
            router_id: "node-a".to_string(),
            dataplane: "socket".to_string(),
        });
        let addr = "192.0.2.1".parse().unwrap();
        let router = Router::new(RouterConfig::v3(51, 100, addr, vec![])).unwrap();
        let identity = InstanceIdentity {
            name: "vi_1".to_string(),
            interface: "eth0".to_string(),
            dataplane: "socket".to_string(),
        };
        let _feed = board.add_instance(identity, &router);
        let server = ControlServer::bind(&socket).unwrap();
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let _serving = runtime.spawn(server.serve(board, std::future::pending()));

        let mut table = Vec::new();
        let opts = Options {
            json: false,
            control_socket: socket.clone(),
        };
        show(&opts, &mut table).unwrap();
        let table = String::from_utf8(table).unwrap();
        assert!(
            table.contains("router_id node-a, dataplane socket"),
            "{table}"
        );
        assert!(
            table
                .lines()
                .any(|l| l.starts_with("vi_1  ") && l.contains("INITIALIZE")),
            "{table}"
        );

        let mut json = Vec::new();
        show(
            &Options {
                json: true,
                control_socket: socket,
            },
            &mut json,
        )
        .unwrap();
        let snapshot: Snapshot = serde_json::from_slice(&json).unwrap();
        assert_eq!(snapshot.instances[0].name, "vi_1");
    }

    #[test]
    fn shows_the_auth_hmac_keys_by_id() {
        use crate::control::status::AuthHmacStatus;
        let mut s = snapshot();
        s.instances[0].auth_hmac = Some(AuthHmacStatus {
            mode: "enforce".into(),
            active_key: 2,
            key_ids: vec![1, 2],
            anti_replay: "time".into(),
            time_window_s: Some(5),
        });
        let text = render(&s);
        let line = format!(
            "{}: auth_hmac enforce, signing with key 2 of 1,2, anti_replay time (window 5 s)",
            s.instances[0].name
        );
        assert!(text.contains(&line), "{text}");
    }

    #[test]
    fn shows_auth_type_and_socket_overflow() {
        let mut s = snapshot();
        s.instances[0].auth_type = Some("AH".into());
        s.instances[0].socket_overflow = 7;
        let text = render(&s);
        let name = &s.instances[0].name;
        assert!(text.contains(&format!("{name}: auth_type AH")), "{text}");
        let row = text.lines().find(|l| l.starts_with(name.as_str())).unwrap();
        assert!(row.ends_with(" socket_overflow=7"), "{text}");
    }

    #[test]
    fn no_instances_says_so() {
        let mut s = snapshot();
        s.instances.clear();
        s.daemon.xdp = None;
        assert!(render(&s).ends_with("\nno instances configured\n"));
    }

    #[test]
    fn json_round_trips() {
        let s = snapshot();
        let json = serde_json::to_string(&s).unwrap();
        let back: Snapshot = serde_json::from_str(&json).unwrap();
        assert_eq!(back, s);
        assert!(json.contains(r#""state":"MASTER""#), "{json}");
        assert!(json.contains(r#""reason":"master_down""#), "{json}");
        assert!(json.contains(r#""master":"fe80::2""#), "{json}");
    }
}
