//! The configuration the daemon consumes: typed values with their defaults applied.
//!
//! Ranges that a type can carry are carried by the type (a [`Vrid`] is never 0, a [`Weight`] is
//! never 300), so a `Config` in hand has no out-of-range numbers. Rules that relate several
//! values (duplicate VRIDs, wrong families, fast mode with VRRPv2, ...) are checked by
//! [`super::validate`]. Nothing here knows TOML: the keepalived.conf importer builds the same
//! types. Nothing here knows the protocol core either; the daemon maps this model onto it.

use crate::family::IpFamily;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use ipnet::IpNet;

use crate::vrrp::auth_hmac::{AntiReplay, Mode};
use crate::vrrp::EchoConfig;
use url::Url;

/// Advert intervals below this are vipd's fast mode (below the 10 ms the VRRPv3 wire field can
/// express in centiseconds); only vipd peers configured alike understand them.
pub const FAST_MODE_BELOW: Duration = Duration::from_millis(10);
/// The shortest advert interval vipd runs.
pub const MIN_ADVERT_INTERVAL: Duration = Duration::from_micros(50);
/// The longest VRRPv3 interval: 12 bits of centiseconds.
pub const MAX_V3_ADVERT_INTERVAL: Duration = Duration::from_millis(4095 * 10);
/// The longest VRRPv2 interval: 8 bits of seconds.
pub const MAX_V2_ADVERT_INTERVAL: Duration = Duration::from_secs(255);
/// Built-in checks (TCP, HTTP) run no more often than this.
pub const MIN_CHECK_INTERVAL: Duration = Duration::from_millis(10);
/// A VRRPv2 simple-text password is at most this many bytes on the wire.
pub const MAX_PASSWORD_LEN: usize = 8;

/// A duration as vipd.toml writes it, in the largest unit that shows it exactly ("1s",
/// "1500ms", "100us").
pub fn duration_text(duration: Duration) -> String {
    let nanos = duration.as_nanos();
    if nanos.is_multiple_of(1_000_000_000) {
        format!("{}s", nanos / 1_000_000_000)
    } else if nanos.is_multiple_of(1_000_000) {
        format!("{}ms", nanos / 1_000_000)
    } else if nanos.is_multiple_of(1_000) {
        format!("{}us", nanos / 1_000)
    } else {
        format!("{nanos}ns")
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub global: Global,
    pub instances: Vec<Instance>,
    pub sync_groups: Vec<SyncGroup>,
    pub checks: Vec<Check>,
    /// BFD sessions (keepalived's `bfd_instance`), tracked by instances' `track_bfd`.
    pub bfd: Vec<BfdSession>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Global {
    /// Names this node in logs and notifications; `None` means the host name.
    pub router_id: Option<String>,
    pub control_socket: PathBuf,
    /// Prometheus exposition; off unless set.
    pub metrics_listen: Option<SocketAddr>,
    /// Who scripts (checks, notify commands) run as unless a check names its own; `None`
    /// means keepalived's default: the user `keepalived_script` if it exists, else vipd's own
    /// user (see `daemon::scripts`).
    pub script_user: Option<RunAs>,
    /// Refuse to run a script as root that a non-root user could modify or replace, and never
    /// fall back to vipd's own user for scripts (keepalived's `enable_script_security`).
    pub script_security: bool,
    /// Where state changes are written in keepalived's notify FIFO line format.
    pub notify_fifo: Option<PathBuf>,
    pub realtime: Realtime,
    pub dataplane: Dataplane,
    pub xdp_mode: XdpMode,
    pub log_format: LogFormat,
}

impl Default for Global {
    fn default() -> Self {
        Global {
            router_id: None,
            control_socket: PathBuf::from("/run/vipd/vipd.sock"),
            metrics_listen: None,
            script_user: None,
            script_security: false,
            notify_fifo: None,
            realtime: Realtime::default(),
            dataplane: Dataplane::Xdp,
            xdp_mode: XdpMode::Auto,
            log_format: LogFormat::Human,
        }
    }
}

/// Who a script runs as, by name: keepalived's `username [groupname]`. Names are resolved when
/// the scripts are prepared, not when the file is read, so a file can be checked on a machine
/// without those users.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunAs {
    pub user: String,
    /// `None` is the user's primary group.
    pub group: Option<String>,
}

/// SCHED_FIFO for the threads that send adverts and run VRRP timers: on a loaded machine an
/// ordinary thread wakes milliseconds late, which fast mode cannot tolerate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Realtime {
    pub enabled: bool,
    /// SCHED_FIFO priority, 1..=99.
    pub priority: u8,
}

impl Default for Realtime {
    fn default() -> Self {
        Realtime {
            enabled: false,
            priority: 50,
        }
    }
}

pub const REALTIME_PRIORITY_RANGE: std::ops::RangeInclusive<u8> = 1..=99;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dataplane {
    /// The XDP program classifies adverts and answers ARP/ND for owned VIPs.
    Xdp,
    /// Raw sockets and AF_PACKET only (for kernels or NICs without XDP, and to measure XDP).
    Socket,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XdpMode {
    /// Native mode where the driver supports it and its XDP_TX answers reach the wire; generic
    /// mode otherwise (a veth, whose native XDP_TX reaches the peer only when the peer has an
    /// XDP program too). `dataplane::xdp::driver` decides and the log says which and why.
    Auto,
    Driver,
    Generic,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Human,
    Json,
}

/// A VRRP virtual router ID, 1..=255.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Vrid(u8);

impl Vrid {
    pub fn new(value: u8) -> Option<Self> {
        (value != 0).then_some(Vrid(value))
    }

    pub fn get(self) -> u8 {
        self.0
    }
}

/// A configured VRRP priority, 1..=255. 0 exists only on the wire (a master resigning).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Priority(u8);

impl Priority {
    /// The address owner's priority: it takes over at once and always preempts.
    pub const OWNER: Priority = Priority(255);
    /// keepalived's default.
    pub const DEFAULT: Priority = Priority(100);

    pub fn new(value: u8) -> Option<Self> {
        (value != 0).then_some(Priority(value))
    }

    pub fn get(self) -> u8 {
        self.0
    }

    pub fn is_owner(self) -> bool {
        self == Self::OWNER
    }
}

/// How much a tracked object or check moves an instance's priority, -253..=253. Positive
/// weights are added while the object is up, negative ones while it is down (keepalived's
/// semantics); 0 puts the instance in FAULT while the object is down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Weight(i16);

impl Weight {
    pub const LIMIT: i16 = 253;
    pub const FAULT: Weight = Weight(0);

    pub fn new(value: i64) -> Option<Self> {
        let value = i16::try_from(value).ok()?;
        (-Self::LIMIT..=Self::LIMIT)
            .contains(&value)
            .then_some(Weight(value))
    }

    pub fn get(self) -> i16 {
        self.0
    }

    pub fn faults_on_failure(self) -> bool {
        self.0 == 0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// RFC 3768: IPv4 only, whole seconds, optional simple-text authentication.
    V2,
    /// RFC 9568: IPv4 and IPv6, centiseconds (and vipd's fast mode below 10 ms).
    V3,
}

/// How VRRPv3 over IPv4 computes its checksum. RFC 9568 (section 5.2.8) says over the message
/// only, the pseudo-header being for IPv6, while keepalived includes the IPv4 pseudo-header by
/// default and FRR before 8.5 always does (and drops adverts without it); vipd emits the
/// configured one and accepts either.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum V3Checksum {
    /// keepalived's default, so a mixed group works out of the box.
    WithPseudoHeader,
    /// RFC 9568 as written (keepalived's `v3_checksum_as_v2`).
    MessageOnly,
}

/// An address vipd adds to an interface while MASTER.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vip {
    /// Address and prefix length (/32 or /128 when none was given).
    pub address: IpNet,
    /// Interface to add it to; the instance's interface when `None`.
    pub device: Option<String>,
    /// IPv4 address label (`eth0:vip`), as keepalived's `label`.
    pub label: Option<String>,
    /// IPv4 broadcast address, as keepalived's `brd`.
    pub broadcast: Option<Ipv4Addr>,
}

impl Vip {
    pub fn family(&self) -> IpFamily {
        IpFamily::of(self.address.addr())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    None,
    /// VRRPv2 simple-text password, at most [`MAX_PASSWORD_LEN`] bytes.
    Pass(String),
    /// keepalived's `auth_type AH`: the password, at most [`MAX_PASSWORD_LEN`] bytes, is the
    /// HMAC-MD5 key of an IPsec AH header around each advert (never sent).
    Ah(String),
}

/// keepalived 2.4's `auth_hmac`: HMAC-SHA256 signed adverts (see docs/auth-hmac.md).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthHmac {
    pub keys: Vec<AuthKey>,
    /// The id of the key adverts are signed with.
    pub active_key: u8,
    pub mode: Mode,
    pub anti_replay: AntiReplay,
    /// Seconds; three advert intervals (5 to 300 s) when `None`, as keepalived derives it.
    pub time_window: Option<u32>,
}

/// One `auth_hmac` key. Its material never appears in `Debug` output, logs or status.
#[derive(Clone, PartialEq, Eq)]
pub struct AuthKey {
    pub id: u8,
    pub material: Vec<u8>,
    /// The file the material was read from, if it was not given inline: the configuration is
    /// written back with the file, not the material.
    pub file: Option<PathBuf>,
}

impl std::fmt::Debug for AuthKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthKey")
            .field("id", &self.id)
            .field(
                "material",
                &format_args!("<{} bytes redacted>", self.material.len()),
            )
            .field("file", &self.file)
            .finish()
    }
}

/// Gratuitous ARP (IPv4) and unsolicited neighbour advertisement (IPv6) after becoming MASTER,
/// with keepalived's knobs and defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Garp {
    /// Second burst this long after becoming MASTER (keepalived `garp_master_delay`); zero
    /// means no second burst.
    pub master_delay: Duration,
    /// Messages per burst (`garp_master_repeat`).
    pub master_repeat: u32,
    /// Repeat bursts this often while MASTER (`garp_master_refresh`); `None` means never.
    pub master_refresh: Option<Duration>,
    /// Messages per refresh burst (`garp_master_refresh_repeat`).
    pub master_refresh_repeat: u32,
    /// Gap between gratuitous ARPs of a burst (`garp_interval`).
    pub arp_interval: Duration,
    /// Gap between unsolicited NAs of a burst (`gna_interval`).
    pub na_interval: Duration,
}

impl Default for Garp {
    fn default() -> Self {
        Garp {
            master_delay: Duration::from_secs(5),
            master_repeat: 5,
            master_refresh: None,
            master_refresh_repeat: 1,
            arp_interval: Duration::ZERO,
            na_interval: Duration::ZERO,
        }
    }
}

/// A program with its arguments, run without a shell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// Never empty: the program is `argv[0]`.
    pub argv: Vec<String>,
}

/// Commands run on state changes, as keepalived runs them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NotifyCommands {
    /// Run on every state change with keepalived's arguments appended: `$1` GROUP|INSTANCE,
    /// `$2` name, `$3` MASTER|BACKUP|FAULT|STOP, `$4` priority.
    pub any: Option<Command>,
    /// The per-state commands run as written, without added arguments.
    pub master: Option<Command>,
    pub backup: Option<Command>,
    pub fault: Option<Command>,
    pub stop: Option<Command>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackedInterface {
    pub name: String,
    /// While the interface is down: added if negative, FAULT if zero; while up: added if
    /// positive.
    pub weight: Weight,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackedFile {
    pub path: PathBuf,
    /// The number in the file is multiplied by this; with weight 0 any non-zero number means
    /// FAULT (keepalived's `track_file`).
    pub weight: Weight,
}

impl TrackedFile {
    /// keepalived's: the number in the file is the weight.
    pub const DEFAULT_WEIGHT: Weight = Weight(1);
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackedCheck {
    /// Name of a [`Check`].
    pub check: String,
    /// Overrides the check's own weight for this instance.
    pub weight: Option<Weight>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    pub name: String,
    pub interface: String,
    pub vrid: Vrid,
    pub priority: Priority,
    pub advert_interval: Duration,
    /// How often a backup probes its master with vipd's liveness echo (fast mode with the
    /// XDP dataplane); the advert interval when `None`.
    pub echo_interval: Option<Duration>,
    /// How long a probe may go unanswered before the master may be declared down;
    /// `max(2 x echo interval, 100us)` when `None`.
    pub echo_timeout: Option<Duration>,
    pub version: Version,
    /// The family of the VIPs (and so of the adverts).
    pub family: IpFamily,
    pub vips: Vec<Vip>,
    /// Added and removed with the VIPs but not listed in adverts (keepalived's
    /// `virtual_ipaddress_excluded`); may be of either family.
    pub excluded_vips: Vec<Vip>,
    /// Source address of adverts; the interface's primary address when `None`.
    pub unicast_source: Option<IpAddr>,
    /// Unicast mode when not empty: adverts go to these and only these are accepted.
    pub unicast_peers: Vec<IpAddr>,
    /// Require TTL / hop limit 255 on unicast adverts too; off for peers behind routers.
    pub unicast_ttl_check: bool,
    pub auth: Auth,
    pub auth_hmac: Option<AuthHmac>,
    pub preempt: bool,
    /// A BACKUP that could preempt waits this long first.
    pub preempt_delay: Duration,
    /// Accept packets for the VIPs while MASTER even when not the address owner.
    pub accept_mode: bool,
    /// Run on a macvlan with the VRRP virtual MAC (00:00:5e:00:01:VRID, 00:00:5e:00:02:VRID).
    pub use_vmac: bool,
    /// Name of that macvlan; vipd picks one when `None`.
    pub vmac_interface: Option<String>,
    pub v3_checksum: V3Checksum,
    pub garp: Garp,
    pub track_interfaces: Vec<TrackedInterface>,
    pub track_files: Vec<TrackedFile>,
    pub track_checks: Vec<TrackedCheck>,
    pub track_bfd: Vec<TrackedBfd>,
    pub notify: NotifyCommands,
}

/// Defaults of the keys an instance may leave out; the reference vipd.toml states the same.
impl Instance {
    pub const DEFAULT_ADVERT_INTERVAL: Duration = Duration::from_secs(1);
    pub const DEFAULT_VERSION: Version = Version::V3;
    pub const DEFAULT_PREEMPT: bool = true;
    /// On, like keepalived without `vrrp_strict`: services such as the Kubernetes API server
    /// listen on the VIP, which RFC 9568's default (off) would make unreachable.
    pub const DEFAULT_ACCEPT_MODE: bool = true;
    /// Off, like keepalived: unicast peers are configured by address (and adverts from anyone
    /// else are dropped), they may sit behind routers, and keepalived 2.2.7 itself sends IPv6
    /// unicast adverts with hop limit 64.
    pub const DEFAULT_UNICAST_TTL_CHECK: bool = false;
    pub const DEFAULT_USE_VMAC: bool = false;
    pub const DEFAULT_V3_CHECKSUM: V3Checksum = V3Checksum::WithPseudoHeader;

    pub fn is_fast_mode(&self) -> bool {
        self.advert_interval < FAST_MODE_BELOW
    }

    /// `echo_interval`, defaults applied.
    pub fn resolved_echo_interval(&self) -> Duration {
        self.echo_interval.unwrap_or(self.advert_interval)
    }

    /// `echo_timeout`, defaults applied.
    pub fn resolved_echo_timeout(&self) -> Duration {
        self.echo_timeout
            .unwrap_or_else(|| EchoConfig::default_timeout(self.resolved_echo_interval()))
    }
}

/// One BFD session to a neighbour (RFC 5880 asynchronous mode, single hop per RFC 5881),
/// keepalived's `bfd_instance`. Defaults are keepalived's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BfdSession {
    pub name: String,
    pub neighbor: IpAddr,
    /// Source address of the session's packets; the kernel's choice when `None`.
    pub source: Option<IpAddr>,
    /// The interface the session's packets leave by (SO_BINDTODEVICE); the route's when `None`.
    pub interface: Option<String>,
    /// Required Min RX Interval.
    pub min_rx: Duration,
    /// Desired Min TX Interval once Up.
    pub min_tx: Duration,
    /// Desired Min TX Interval while not Up (never below 1 s, RFC 5880 section 6.8.3).
    pub idle_tx: Duration,
    /// Detect Mult.
    pub multiplier: u8,
    /// Wait for the neighbour to speak first.
    pub passive: bool,
    /// TTL / hop limit sent.
    pub ttl: u8,
    /// How far below `ttl` a received TTL may be (0: exactly `ttl`, the GTSM check).
    pub max_hops: u8,
    /// The weight `track_bfd` uses when it names none.
    pub weight: Weight,
    /// Reverse: the weight applies to the opposite state (keepalived's `weight N reverse`).
    pub reverse: bool,
}

impl BfdSession {
    pub const DEFAULT_MIN_RX: Duration = Duration::from_millis(10);
    pub const DEFAULT_MIN_TX: Duration = Duration::from_millis(10);
    pub const DEFAULT_IDLE_TX: Duration = Duration::from_secs(1);
    pub const DEFAULT_MULTIPLIER: u8 = 5;
    pub const DEFAULT_TTL: u8 = 255;
    /// The shortest interval vipd runs (keepalived's: 1 ms).
    pub const MIN_INTERVAL: Duration = Duration::from_millis(1);

    /// The lowest TTL / hop limit accepted on receipt.
    pub fn min_ttl(&self) -> u8 {
        self.ttl.saturating_sub(self.max_hops)
    }
}

/// An instance's `track_bfd` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackedBfd {
    /// Name of a [`BfdSession`].
    pub name: String,
    /// Overrides the session's weight for this instance.
    pub weight: Option<Weight>,
    /// Overrides the session's `reverse`.
    pub reverse: Option<bool>,
}

/// Instances that change state together: when one leaves MASTER, all do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncGroup {
    pub name: String,
    pub instances: Vec<String>,
    pub notify: NotifyCommands,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckKind {
    /// Succeeds when a TCP connection is established.
    Tcp { target: SocketAddr },
    /// Succeeds when a GET answers with `expected_status`.
    Http {
        url: Url,
        expected_status: u16,
        /// Verify the server's certificate (off for the self-signed API server on localhost).
        tls_verify: bool,
    },
    /// Succeeds when the command exits 0 within the timeout; its process group is killed
    /// otherwise.
    Script {
        command: Command,
        /// Overrides the global `script_user`.
        user: Option<RunAs>,
    },
}

/// A health check with keepalived's `vrrp_script` semantics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub name: String,
    pub kind: CheckKind,
    pub interval: Duration,
    pub timeout: Duration,
    pub weight: Weight,
    /// Consecutive successes to become up.
    pub rise: u32,
    /// Consecutive failures to become down.
    pub fall: u32,
    /// Start down rather than up.
    pub init_fail: bool,
}

/// Defaults of the keys a check may leave out (keepalived's for vrrp_script); the timeout
/// defaults to the interval.
impl Check {
    pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(1);
    pub const DEFAULT_HTTP_STATUS: u16 = 200;
    pub const DEFAULT_TLS_VERIFY: bool = true;
    pub const DEFAULT_WEIGHT: Weight = Weight::FAULT;
    pub const DEFAULT_RISE: u32 = 1;
    pub const DEFAULT_FALL: u32 = 1;
    pub const DEFAULT_INIT_FAIL: bool = false;
}
