//! The status snapshot: what `vipd status` prints and the metrics expose, in plain serialisable
//! types (strings, numbers, addresses) so that the control protocol is simple JSON and old
//! clients can read new daemons (unknown fields are ignored on reading).
//!
//! Times come in two forms: the wall clock (RFC 3339, UTC) for people and logs, and seconds ago
//! on the monotonic clock, which stays right when the wall clock jumps. Ages are computed when
//! the snapshot is taken for a reader ([`super::board::StatusBoard::snapshot`]), not when the
//! engine published it.

use crate::family::IpFamily;
use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use super::histogram::HistogramStatus;
use crate::dataplane::xdp::XdpCounters;
use crate::vrrp;

/// Everything the daemon reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub daemon: DaemonStatus,
    /// Sorted by instance name.
    pub instances: Vec<InstanceStatus>,
    /// BFD sessions, in configuration order; empty without `[[bfd]]` (and from daemons that
    /// predate BFD).
    #[serde(default)]
    pub bfd: Vec<BfdSessionStatus>,
}

/// One BFD session (docs/bfd.md). States and diagnostics are spelt as
/// [`crate::bfd::State::name`] and [`crate::bfd::Diag::name`] spell them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BfdSessionStatus {
    pub name: String,
    pub neighbor: IpAddr,
    pub state: String,
    /// The state the neighbour last reported.
    pub remote_state: String,
    /// Why the session last changed state.
    pub local_diag: String,
    /// The diagnostic the neighbour last sent.
    pub remote_diag: String,
    /// The interval periodic packets go at before jitter, in microseconds; 0 while none go.
    pub tx_interval_us: u64,
    /// The Detection Time, in microseconds; 0 before the neighbour is heard.
    pub detection_time_us: u64,
    /// Times the session left Up.
    pub flaps: u64,
    pub packets_out: u64,
    pub packets_in: u64,
    /// Received packets the session discarded (bad TTL, wrong discriminator, ...).
    pub packets_dropped: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DaemonStatus {
    /// vipd's version.
    pub version: String,
    pub pid: u32,
    pub router_id: String,
    /// "xdp" or "socket".
    pub dataplane: String,
    /// RFC 3339.
    pub started_at: String,
    pub uptime_seconds: f64,
    /// The XDP program's counters, every one by name; absent with the socket dataplane.
    pub xdp: Option<XdpCounters>,
}

/// One VRRP instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstanceStatus {
    pub name: String,
    pub interface: String,
    pub vrid: u8,
    pub family: IpFamily,
    /// VRRP version, 2 or 3.
    pub version: u8,
    /// How adverts are received: "xdp-driver", "xdp-generic" or "socket".
    pub dataplane: String,
    pub state: StateName,
    pub base_priority: u8,
    pub effective_priority: u8,
    /// This router when master, the master it hears when backup, none otherwise.
    pub master: Option<IpAddr>,
    /// Master_Adver_Interval (learned from the master in VRRPv3), in microseconds.
    pub master_adver_interval_us: u64,
    /// Master_Down_Interval for the current priority, in microseconds.
    pub master_down_interval_us: u64,
    pub last_transition: Option<TransitionStatus>,
    /// State changes since the instance started.
    pub transitions: u64,
    pub adverts_in: u64,
    pub adverts_out: u64,
    pub priority_zero_in: u64,
    pub priority_zero_out: u64,
    /// Times a lower-priority router claimed mastership while this one was master (a false
    /// takeover elsewhere in the group, answered by re-announcing the VIPs).
    #[serde(default)]
    pub lower_priority_claims: u64,
    /// Packets the kernel dropped before vipd could read them because the VRRP socket's
    /// receive queue was full (a flood, or an engine that fell behind): adverts lost unseen,
    /// counted in no `drops` reason.
    #[serde(default)]
    pub socket_overflow: u64,
    /// Dropped adverts by reason ([`vrrp::DropReason::name`]), every reason present.
    pub drops: BTreeMap<String, u64>,
    /// VRRPv2 authentication (keepalived's `auth_type`): "PASS" or "AH", never the secret;
    /// none without.
    #[serde(default)]
    pub auth_type: Option<String>,
    /// keepalived 2.4's auth_hmac, when configured: modes and key ids, never key material.
    #[serde(default)]
    pub auth_hmac: Option<AuthHmacStatus>,
    pub checks: Vec<CheckStatus>,
    pub tracked_interfaces: Vec<TrackedInterfaceStatus>,
    /// From the last advert seen to the master-down decision, per takeover.
    pub detection_latency: HistogramStatus,
}

/// An instance's auth_hmac settings as the operator checks them: which key it signs with,
/// which it accepts. Key material is not part of the status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthHmacStatus {
    /// "enforce", "permissive" or "receive-only".
    pub mode: String,
    pub active_key: u8,
    /// Every key id a received advert may be signed with.
    pub key_ids: Vec<u8>,
    /// "time" or "monotonic".
    pub anti_replay: String,
    /// With time anti-replay: the window, in seconds.
    pub time_window_s: Option<u32>,
}

impl From<&vrrp::auth_hmac::AuthHmacConfig> for AuthHmacStatus {
    fn from(c: &vrrp::auth_hmac::AuthHmacConfig) -> Self {
        let time = c.anti_replay == vrrp::auth_hmac::AntiReplay::Time;
        AuthHmacStatus {
            mode: c.mode.name().to_string(),
            active_key: c.active_key,
            key_ids: c.keys.iter().map(|k| k.id()).collect(),
            anti_replay: if time { "time" } else { "monotonic" }.to_string(),
            time_window_s: time.then_some(c.time_window_secs),
        }
    }
}

/// A VRRP state as keepalived's notify scripts and logs spell it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum StateName {
    Initialize,
    Backup,
    Master,
    Fault,
}

impl StateName {
    pub const ALL: [StateName; 4] = [
        StateName::Initialize,
        StateName::Backup,
        StateName::Master,
        StateName::Fault,
    ];

    pub fn name(self) -> &'static str {
        match self {
            StateName::Initialize => "INITIALIZE",
            StateName::Backup => "BACKUP",
            StateName::Master => "MASTER",
            StateName::Fault => "FAULT",
        }
    }
}

impl From<vrrp::State> for StateName {
    fn from(state: vrrp::State) -> Self {
        match state {
            vrrp::State::Initialize => StateName::Initialize,
            vrrp::State::Backup => StateName::Backup,
            vrrp::State::Master => StateName::Master,
            vrrp::State::Fault => StateName::Fault,
        }
    }
}

/// Why a state changed ([`vrrp::TransitionReason`] in snake_case).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReasonName {
    Startup,
    AddressOwner,
    MasterDown,
    PreferredMasterSeen,
    Shutdown,
    FaultRaised,
    FaultCleared,
}

impl ReasonName {
    pub fn name(self) -> &'static str {
        match self {
            ReasonName::Startup => "startup",
            ReasonName::AddressOwner => "address_owner",
            ReasonName::MasterDown => "master_down",
            ReasonName::PreferredMasterSeen => "preferred_master_seen",
            ReasonName::Shutdown => "shutdown",
            ReasonName::FaultRaised => "fault_raised",
            ReasonName::FaultCleared => "fault_cleared",
        }
    }
}

impl From<vrrp::TransitionReason> for ReasonName {
    fn from(reason: vrrp::TransitionReason) -> Self {
        use vrrp::TransitionReason as R;
        match reason {
            R::Startup => ReasonName::Startup,
            R::AddressOwner => ReasonName::AddressOwner,
            R::MasterDown => ReasonName::MasterDown,
            R::PreferredMasterSeen => ReasonName::PreferredMasterSeen,
            R::Shutdown => ReasonName::Shutdown,
            R::FaultRaised => ReasonName::FaultRaised,
            R::FaultCleared => ReasonName::FaultCleared,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TransitionStatus {
    pub from: StateName,
    pub to: StateName,
    pub reason: ReasonName,
    /// Wall clock, RFC 3339 UTC.
    pub at: String,
    /// CLOCK_MONOTONIC, microseconds: what `seconds_ago` is computed from.
    pub at_monotonic_us: u64,
    pub seconds_ago: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckStatus {
    pub name: String,
    pub up: bool,
    pub runs: u64,
    pub failures: u64,
    /// How long the last run took, in microseconds; none before the first run ends.
    pub last_latency_us: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackedInterfaceStatus {
    pub name: String,
    pub up: bool,
}

#[cfg(test)]
mod tests {
    use crate::control::fixtures::{numbered_value, numbered_xdp_counters, snapshot};
    use agent_common::XDP_COUNTERS;

    /// `vipd status --json` carries every counter of the program's table, under its name.
    #[test]
    fn json_carries_every_xdp_counter_by_name() {
        let mut status = snapshot();
        status.daemon.xdp = Some(numbered_xdp_counters());
        let json = serde_json::to_value(&status).unwrap();
        let xdp = json["daemon"]["xdp"].as_object().unwrap();
        assert_eq!(xdp.len(), XDP_COUNTERS.len(), "{xdp:?}");
        for spec in &XDP_COUNTERS {
            assert_eq!(
                xdp.get(spec.name),
                Some(&numbered_value(spec).into()),
                "{}",
                spec.name
            );
        }
    }
}
