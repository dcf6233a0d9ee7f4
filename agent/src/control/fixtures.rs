//! A status snapshot with fixed contents for the rendering tests (`vipd status` table and the
//! metrics exposition), and a live board with one instance for the server tests.

use crate::family::IpFamily;
use std::net::{IpAddr, Ipv4Addr};

use agent_common::{counter, CounterSpec};

use crate::control::board::{DaemonInfo, InstanceFeed, InstanceIdentity, StatusBoard};
use crate::control::histogram::LatencyHistogram;
use crate::control::status::{BfdSessionStatus, InstanceStatus, Snapshot};
use crate::control::status::{
    CheckStatus, DaemonStatus, ReasonName, StateName, TrackedInterfaceStatus, TransitionStatus,
};
use crate::dataplane::xdp::XdpCounters;
use crate::vrrp::{DropReason, Router, RouterConfig};

/// A few non-zero counters, among them one that the status once left out (`ring_full`).
fn xdp_counters() -> XdpCounters {
    let mut values = [0; counter::COUNT as usize];
    values[counter::ADVERTS_RECORDED as usize] = 1_217;
    values[counter::ARP_ANSWERED as usize] = 5;
    values[counter::RING_FULL as usize] = 2;
    XdpCounters::from(values)
}

/// Every counter a different value (100 + its index), so one shown under the wrong name, or not
/// at all, shows.
pub fn numbered_xdp_counters() -> XdpCounters {
    XdpCounters::from(std::array::from_fn(|index| 100 + index as u64))
}

/// The value [`numbered_xdp_counters`] gives `spec`.
pub fn numbered_value(spec: &CounterSpec) -> u64 {
    100 + u64::from(spec.index)
}

/// A board holding one instance (`vi_1` on eth0, VRID 51, in Initialize); the instance stays on
/// the board while the returned feed lives.
pub(crate) fn board_with_one_instance() -> (StatusBoard, InstanceFeed) {
    let board = StatusBoard::new(DaemonInfo {
        router_id: "node-a".to_string(),
        dataplane: "socket".to_string(),
    });
    let addr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
    let vip = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 100));
    let router = Router::new(RouterConfig::v3(51, 100, addr, vec![vip])).unwrap();
    let feed = board.add_instance(
        InstanceIdentity {
            name: "vi_1".to_string(),
            interface: "eth0".to_string(),
            dataplane: "socket".to_string(),
        },
        &router,
    );
    (board, feed)
}

fn instance(name: &str, state: StateName) -> InstanceStatus {
    InstanceStatus {
        name: name.to_string(),
        interface: "eth0".to_string(),
        vrid: 51,
        family: IpFamily::V4,
        version: 3,
        dataplane: "xdp-driver".to_string(),
        state,
        base_priority: 100,
        effective_priority: 100,
        master: None,
        master_adver_interval_us: 1_000_000,
        master_down_interval_us: 3_609_375,
        last_transition: None,
        transitions: 0,
        adverts_in: 0,
        adverts_out: 0,
        priority_zero_in: 0,
        priority_zero_out: 0,
        lower_priority_claims: 0,
        socket_overflow: 0,
        drops: DropReason::ALL
            .iter()
            .map(|r| (r.name().to_string(), 0))
            .collect(),
        auth_type: None,
        auth_hmac: None,
        checks: Vec::new(),
        tracked_interfaces: Vec::new(),
        detection_latency: LatencyHistogram::new().status(),
    }
}

/// Two instances (IPv6 backup, IPv4 master with a check, a tracked interface and drops) on
/// an XDP node; fixed times so renderings are stable.
pub(crate) fn snapshot() -> Snapshot {
    let mut web = instance("vi_web", StateName::Master);
    web.effective_priority = 90;
    web.master = Some("10.0.0.2".parse().unwrap());
    web.last_transition = Some(TransitionStatus {
        from: StateName::Backup,
        to: StateName::Master,
        reason: ReasonName::MasterDown,
        at: "2026-11-21T20:59:48.250Z".to_string(),
        at_monotonic_us: 1_000_000,
        seconds_ago: 725.4,
    });
    web.transitions = 2;
    web.adverts_in = 1_200;
    web.adverts_out = 34_000;
    web.drops.insert("bad_ttl".to_string(), 3);
    web.drops.insert("bad_checksum".to_string(), 1);
    web.checks.push(CheckStatus {
        name: "apiserver".to_string(),
        up: true,
        runs: 120,
        failures: 2,
        last_latency_us: Some(1_250),
    });
    let mut detection = LatencyHistogram::new();
    detection.record(std::time::Duration::from_micros(700));
    detection.record(std::time::Duration::from_micros(1_500));
    web.detection_latency = detection.status();
    web.tracked_interfaces.push(TrackedInterfaceStatus {
        name: "eth1".to_string(),
        up: false,
    });
    let mut db = instance("vi_db6", StateName::Backup);
    db.interface = "bond0.20".to_string();
    db.vrid = 7;
    db.family = IpFamily::V6;
    db.master = Some("fe80::2".parse().unwrap());
    db.last_transition = Some(TransitionStatus {
        from: StateName::Initialize,
        to: StateName::Backup,
        reason: ReasonName::Startup,
        at: "2026-11-21T18:00:00.000Z".to_string(),
        at_monotonic_us: 0,
        seconds_ago: 0.25,
    });
    db.adverts_in = 17;
    Snapshot {
        daemon: DaemonStatus {
            version: "0.1.0".to_string(),
            pid: 4242,
            router_id: "node-a".to_string(),
            dataplane: "xdp".to_string(),
            started_at: "2026-11-21T18:00:00.000Z".to_string(),
            uptime_seconds: 11_045.9,
            xdp: Some(xdp_counters()),
        },
        instances: vec![db, web],
        bfd: vec![BfdSessionStatus {
            name: "core".to_string(),
            neighbor: "10.0.0.1".parse().unwrap(),
            state: "up".to_string(),
            remote_state: "up".to_string(),
            local_diag: "detection_time_expired".to_string(),
            remote_diag: "none".to_string(),
            tx_interval_us: 10_000,
            detection_time_us: 50_000,
            flaps: 1,
            packets_out: 9_000,
            packets_in: 8_990,
            packets_dropped: 4,
        }],
    }
}
