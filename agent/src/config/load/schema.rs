//! The TOML file as written: one struct per table, every key optional unless the format
//! requires it, unknown keys refused. Values keep their spans so that the conversion into the
//! model can place its errors and record where each value came from.

use serde::Deserialize;
use toml::Spanned;

use super::values::{
    Address, CommandLine, DurationText, Entry, TrackCheckEntry, TrackInterfaceEntry, VipEntry,
};

/// The tables a file may hold, as written, for messages about unknown top-level keys.
pub const TOP_LEVEL_TABLES: &[&str] = &[
    "[global]",
    "[[instance]]",
    "[[sync_group]]",
    "[[check]]",
    "[[bfd]]",
];

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawGlobal {
    pub router_id: Option<Spanned<String>>,
    pub control_socket: Option<Spanned<String>>,
    pub metrics_listen: Option<Spanned<String>>,
    pub script_user: Option<Spanned<String>>,
    pub script_group: Option<Spanned<String>>,
    pub script_security: Option<Spanned<bool>>,
    pub notify_fifo: Option<Spanned<String>>,
    pub realtime: Option<Spanned<RawRealtime>>,
    pub dataplane: Option<Spanned<RawDataplane>>,
    pub xdp_mode: Option<Spanned<RawXdpMode>>,
    pub log_format: Option<Spanned<RawLogFormat>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRealtime {
    pub enabled: Option<Spanned<bool>>,
    pub priority: Option<Spanned<i64>>,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "snake_case")]
pub enum RawDataplane {
    Xdp,
    Socket,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "snake_case")]
pub enum RawXdpMode {
    Auto,
    Driver,
    Generic,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "snake_case")]
pub enum RawLogFormat {
    Human,
    Json,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "snake_case")]
pub enum RawAuthType {
    Pass,
    Ah,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "snake_case")]
pub enum RawV3Checksum {
    WithPseudoHeader,
    MessageOnly,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawInstance {
    pub name: Spanned<String>,
    pub interface: Spanned<String>,
    pub vrid: Spanned<i64>,
    pub priority: Option<Spanned<i64>>,
    pub advert_interval: Option<Spanned<DurationText>>,
    pub echo_interval: Option<Spanned<DurationText>>,
    pub echo_timeout: Option<Spanned<DurationText>>,
    pub version: Option<Spanned<i64>>,
    pub vips: Option<Spanned<Vec<Spanned<Entry<VipEntry>>>>>,
    pub excluded_vips: Option<Spanned<Vec<Spanned<Entry<VipEntry>>>>>,
    pub unicast_source: Option<Spanned<Address>>,
    pub unicast_peers: Option<Spanned<Vec<Spanned<Address>>>>,
    pub unicast_ttl_check: Option<Spanned<bool>>,
    pub auth_password: Option<Spanned<String>>,
    pub auth_type: Option<Spanned<RawAuthType>>,
    pub auth_hmac: Option<Spanned<RawAuthHmac>>,
    pub preempt: Option<Spanned<bool>>,
    pub preempt_delay: Option<Spanned<DurationText>>,
    pub accept_mode: Option<Spanned<bool>>,
    pub use_vmac: Option<Spanned<bool>>,
    pub vmac_interface: Option<Spanned<String>>,
    pub v3_checksum: Option<Spanned<RawV3Checksum>>,
    pub garp_master_delay: Option<Spanned<DurationText>>,
    pub garp_master_repeat: Option<Spanned<i64>>,
    pub garp_master_refresh: Option<Spanned<DurationText>>,
    pub garp_master_refresh_repeat: Option<Spanned<i64>>,
    pub garp_interval: Option<Spanned<DurationText>>,
    pub gna_interval: Option<Spanned<DurationText>>,
    pub track_interfaces: Option<Vec<Spanned<Entry<TrackInterfaceEntry>>>>,
    pub track_files: Option<Vec<Spanned<RawTrackFile>>>,
    pub track_checks: Option<Vec<Spanned<Entry<TrackCheckEntry>>>>,
    pub track_bfd: Option<Vec<Spanned<RawTrackBfd>>>,
    pub notify: Option<Spanned<CommandLine>>,
    pub notify_master: Option<Spanned<CommandLine>>,
    pub notify_backup: Option<Spanned<CommandLine>>,
    pub notify_fault: Option<Spanned<CommandLine>>,
    pub notify_stop: Option<Spanned<CommandLine>>,
}

/// `[instance.auth_hmac]`, keepalived's `auth_hmac` block.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAuthHmac {
    pub keys: Spanned<Vec<Spanned<RawAuthKey>>>,
    pub active_key: Spanned<i64>,
    pub mode: Option<Spanned<RawAuthMode>>,
    pub anti_replay: Option<Spanned<RawAntiReplay>>,
    /// Seconds.
    pub time_window: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAuthKey {
    pub id: Spanned<i64>,
    /// `hex:...`, `file:/path` or ASCII, as in keepalived.conf.
    pub key: Spanned<String>,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "kebab-case")]
pub enum RawAuthMode {
    Enforce,
    Permissive,
    ReceiveOnly,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "snake_case")]
pub enum RawAntiReplay {
    Time,
    Monotonic,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTrackFile {
    pub path: String,
    pub weight: Option<i64>,
}

/// `track_bfd = [{ name = "peer", weight = -50 }]`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTrackBfd {
    pub name: String,
    pub weight: Option<i64>,
    pub reverse: Option<bool>,
}

/// `[[bfd]]`, keepalived's `bfd_instance`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBfd {
    pub name: Spanned<String>,
    pub neighbor: Spanned<Address>,
    pub source: Option<Spanned<Address>>,
    pub interface: Option<Spanned<String>>,
    pub min_rx: Option<Spanned<DurationText>>,
    pub min_tx: Option<Spanned<DurationText>>,
    pub idle_tx: Option<Spanned<DurationText>>,
    pub multiplier: Option<Spanned<i64>>,
    pub passive: Option<Spanned<bool>>,
    pub ttl: Option<Spanned<i64>>,
    pub max_hops: Option<Spanned<i64>>,
    pub weight: Option<Spanned<i64>>,
    pub reverse: Option<Spanned<bool>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSyncGroup {
    pub name: Spanned<String>,
    pub instances: Spanned<Vec<Spanned<String>>>,
    pub notify: Option<Spanned<CommandLine>>,
    pub notify_master: Option<Spanned<CommandLine>>,
    pub notify_backup: Option<Spanned<CommandLine>>,
    pub notify_fault: Option<Spanned<CommandLine>>,
    pub notify_stop: Option<Spanned<CommandLine>>,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RawCheckKind {
    Tcp,
    Http,
    Script,
}

impl RawCheckKind {
    /// As written in the file.
    pub fn name(self) -> &'static str {
        match self {
            RawCheckKind::Tcp => "tcp",
            RawCheckKind::Http => "http",
            RawCheckKind::Script => "script",
        }
    }
}

/// All kinds' keys in one table: the conversion refuses keys that do not belong to the
/// check's `type`, with a message naming the type they belong to.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCheck {
    pub name: Spanned<String>,
    #[serde(rename = "type")]
    pub kind: Spanned<RawCheckKind>,
    pub address: Option<Spanned<Address>>,
    pub port: Option<Spanned<i64>>,
    pub url: Option<Spanned<String>>,
    pub expected_status: Option<Spanned<i64>>,
    pub tls_verify: Option<Spanned<bool>>,
    pub command: Option<Spanned<CommandLine>>,
    pub user: Option<Spanned<String>>,
    pub group: Option<Spanned<String>>,
    pub interval: Option<Spanned<DurationText>>,
    pub timeout: Option<Spanned<DurationText>>,
    pub weight: Option<Spanned<i64>>,
    pub rise: Option<Spanned<i64>>,
    pub fall: Option<Spanned<i64>>,
    pub init_fail: Option<Spanned<bool>>,
}
