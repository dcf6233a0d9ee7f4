//! From the TOML tables to the model: defaults applied, numbers checked against the ranges the
//! model's types carry, and the position of every value recorded for validation.

use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::time::Duration;

use toml::Spanned;
use url::Url;

use super::schema::{
    RawCheck, RawCheckKind, RawDataplane, RawGlobal, RawInstance, RawLogFormat, RawSyncGroup,
    RawV3Checksum, RawXdpMode,
};
use super::values::{CommandLine, DurationText, Entry, VipEntry};
use super::RawDocument;
use crate::config::diagnostic::{Diagnostic, FieldPath, Item, LineIndex, Location, SourceMap};
use crate::config::model::{
    Auth, Check, CheckKind, Command, Config, Dataplane, Family, Garp, Global, Instance, LogFormat,
    NotifyCommands, Priority, Realtime, SyncGroup, TrackedCheck, TrackedFile, TrackedInterface,
    V3Checksum, Version, Vip, Vrid, Weight, XdpMode, MAX_PASSWORD_LEN, REALTIME_PRIORITY_RANGE,
};

pub(super) struct Converter<'a> {
    file: &'a Path,
    lines: &'a LineIndex<'a>,
    map: SourceMap,
    errors: Vec<Diagnostic>,
}

impl<'a> Converter<'a> {
    pub fn new(file: &'a Path, lines: &'a LineIndex<'a>) -> Self {
        Converter {
            file,
            lines,
            map: SourceMap::new(file.to_path_buf()),
            errors: Vec::new(),
        }
    }

    pub fn finish(self) -> (SourceMap, Vec<Diagnostic>) {
        (self.map, self.errors)
    }

    pub fn convert(&mut self, raw: RawDocument) -> Config {
        let global = match raw.global {
            Some(global) => self.global(global),
            None => Global::default(),
        };
        let instances = raw
            .instances
            .into_iter()
            .enumerate()
            .filter_map(|(i, raw)| self.instance(Item::Instance(i), raw))
            .collect();
        let sync_groups = raw
            .sync_groups
            .into_iter()
            .enumerate()
            .map(|(i, raw)| self.sync_group(Item::SyncGroup(i), raw))
            .collect();
        let checks = raw
            .checks
            .into_iter()
            .enumerate()
            .filter_map(|(i, raw)| self.check(Item::Check(i), raw))
            .collect();
        Config {
            global,
            instances,
            sync_groups,
            checks,
        }
    }

    fn global(&mut self, raw: Spanned<RawGlobal>) -> Global {
        let item = Item::Global;
        self.record(FieldPath::item(item), raw.span().start);
        let raw = raw.into_inner();
        let defaults = Global::default();
        let realtime = match raw.realtime {
            None => defaults.realtime,
            Some(realtime) => {
                let realtime = self.at(item, "realtime", realtime);
                let range = REALTIME_PRIORITY_RANGE;
                Realtime {
                    enabled: realtime
                        .enabled
                        .map_or(defaults.realtime.enabled, Spanned::into_inner),
                    priority: match realtime.priority {
                        None => defaults.realtime.priority,
                        Some(priority) => self
                            .ranged(
                                &priority,
                                i64::from(*range.start())..=i64::from(*range.end()),
                                "realtime priority",
                                "a SCHED_FIFO priority",
                            )
                            .map_or(defaults.realtime.priority, |p| p as u8),
                    },
                }
            }
        };
        let metrics_listen = raw.metrics_listen.and_then(|text| {
            let start = text.span().start;
            let text = self.at(item, "metrics_listen", text);
            match text.parse() {
                Ok(address) => Some(address),
                Err(_) => {
                    self.error(start, format!("invalid metrics_listen \"{text}\": expected an address and port such as \"127.0.0.1:9816\" or \"[::1]:9816\""));
                    None
                }
            }
        });
        Global {
            router_id: raw.router_id.map(|v| self.at(item, "router_id", v)),
            control_socket: raw.control_socket.map_or(defaults.control_socket, |v| {
                PathBuf::from(self.at(item, "control_socket", v))
            }),
            metrics_listen,
            script_user: raw.script_user.map(|v| self.at(item, "script_user", v)),
            script_security: raw
                .script_security
                .map_or(defaults.script_security, Spanned::into_inner),
            notify_fifo: raw
                .notify_fifo
                .map(|v| PathBuf::from(self.at(item, "notify_fifo", v))),
            realtime,
            dataplane: raw
                .dataplane
                .map_or(defaults.dataplane, |v| match v.into_inner() {
                    RawDataplane::Xdp => Dataplane::Xdp,
                    RawDataplane::Socket => Dataplane::Socket,
                }),
            xdp_mode: raw
                .xdp_mode
                .map_or(defaults.xdp_mode, |v| match v.into_inner() {
                    RawXdpMode::Auto => XdpMode::Auto,
                    RawXdpMode::Driver => XdpMode::Driver,
                    RawXdpMode::Generic => XdpMode::Generic,
                }),
            log_format: raw
                .log_format
                .map_or(defaults.log_format, |v| match v.into_inner() {
                    RawLogFormat::Human => LogFormat::Human,
                    RawLogFormat::Json => LogFormat::Json,
                }),
        }
    }

    /// Returns `None` when a value is unusable (its error is recorded).
    fn instance(&mut self, item: Item, raw: Spanned<RawInstance>) -> Option<Instance> {
        self.record(FieldPath::item(item), raw.span().start);
        let raw = raw.into_inner();
        let errors_before = self.errors.len();
        let garp = self.garp(item, &raw);

        let name = self.at(item, "name", raw.name);
        let interface = self.at(item, "interface", raw.interface);
        self.record(FieldPath::key(item, "vrid"), raw.vrid.span().start);
        let vrid = self
            .ranged(&raw.vrid, 1..=255, "vrid", "a virtual router ID")
            .and_then(|v| Vrid::new(v as u8));
        let priority = match &raw.priority {
            None => Some(Priority::DEFAULT),
            Some(priority) => {
                self.record(FieldPath::key(item, "priority"), priority.span().start);
                self.ranged(
                    priority,
                    1..=255,
                    "priority",
                    "a priority (255 means the address owner)",
                )
                .and_then(|v| Priority::new(v as u8))
            }
        };
        let version = match &raw.version {
            None => Some(Version::V3),
            Some(version) => {
                self.record(FieldPath::key(item, "version"), version.span().start);
                match *version.get_ref() {
                    2 => Some(Version::V2),
                    3 => Some(Version::V3),
                    other => {
                        self.error(
                            version.span().start,
                            format!("unknown VRRP version {other}: expected 2 or 3"),
                        );
                        None
                    }
                }
            }
        };
        let advert_interval = self.duration(
            item,
            "advert_interval",
            raw.advert_interval.as_ref(),
            Instance::DEFAULT_ADVERT_INTERVAL,
        );

        let vips = self.vips(item, "vips", raw.vips);
        let excluded_vips = self.vips(item, "excluded_vips", raw.excluded_vips);
        // Validation reports VIPs of another family (and an empty list) at the VIP itself.
        let family = vips
            .first()
            .map(Vip::family)
            .or_else(|| {
                raw.unicast_source
                    .as_ref()
                    .map(|s| Family::of(s.get_ref().0))
            })
            .unwrap_or(Family::Ipv4);

        let unicast_source = raw
            .unicast_source
            .map(|v| self.at(item, "unicast_source", v).0);
        let unicast_peers = match raw.unicast_peers {
            None => Vec::new(),
            Some(peers) => {
                let peers = self.at(item, "unicast_peers", peers);
                peers
                    .into_iter()
                    .enumerate()
                    .map(|(i, peer)| self.element(item, "unicast_peers", i, peer).0)
                    .collect()
            }
        };

        let auth = match raw.auth_password {
            None => Auth::None,
            Some(password) => {
                let start = password.span().start;
                let password = self.at(item, "auth_password", password);
                if password.is_empty() || password.len() > MAX_PASSWORD_LEN {
                    self.error(
                        start,
                        format!(
                            "auth_password is {} bytes long: expected 1 to {MAX_PASSWORD_LEN} bytes (VRRPv2 carries 8)",
                            password.len()
                        ),
                    );
                }
                Auth::Pass(password)
            }
        };

        let track_interfaces = self.track_interfaces(item, raw.track_interfaces);
        let track_files = self.track_files(item, raw.track_files);
        let track_checks = self.track_checks(item, raw.track_checks);
        let notify = self.notify(
            item,
            [
                raw.notify,
                raw.notify_master,
                raw.notify_backup,
                raw.notify_fault,
                raw.notify_stop,
            ],
        );
        let preempt_delay = self.duration(
            item,
            "preempt_delay",
            raw.preempt_delay.as_ref(),
            Duration::ZERO,
        );

        let instance = Instance {
            name,
            interface,
            vrid: vrid?,
            priority: priority?,
            advert_interval,
            version: version?,
            family,
            vips,
            excluded_vips,
            unicast_source,
            unicast_peers,
            unicast_ttl_check: self.flag(item, "unicast_ttl_check", raw.unicast_ttl_check, true),
            auth,
            preempt: self.flag(item, "preempt", raw.preempt, true),
            preempt_delay,
            accept_mode: self.flag(item, "accept_mode", raw.accept_mode, true),
            use_vmac: self.flag(item, "use_vmac", raw.use_vmac, false),
            vmac_interface: raw
                .vmac_interface
                .map(|v| self.at(item, "vmac_interface", v)),
            v3_checksum: raw.v3_checksum.map_or(V3Checksum::WithPseudoHeader, |v| {
                match self.at(item, "v3_checksum", v) {
                    RawV3Checksum::WithPseudoHeader => V3Checksum::WithPseudoHeader,
                    RawV3Checksum::MessageOnly => V3Checksum::MessageOnly,
                }
            }),
            garp,
            track_interfaces,
            track_files,
            track_checks,
            notify,
        };
        (self.errors.len() == errors_before).then_some(instance)
    }

    fn vips(
        &mut self,
        item: Item,
        key: &'static str,
        raw: Option<Spanned<Vec<Spanned<Entry<VipEntry>>>>>,
    ) -> Vec<Vip> {
        let Some(raw) = raw else {
            return Vec::new();
        };
        let raw = self.at(item, key, raw);
        raw.into_iter()
            .enumerate()
            .map(|(i, vip)| {
                let Entry(vip) = self.element(item, key, i, vip);
                Vip {
                    address: vip.address,
                    device: vip.device,
                    label: vip.label,
                    broadcast: vip.broadcast,
                }
            })
            .collect()
    }

    fn garp(&mut self, item: Item, raw: &RawInstance) -> Garp {
        let defaults = Garp::default();
        let master_refresh = self.duration(
            item,
            "garp_master_refresh",
            raw.garp_master_refresh.as_ref(),
            Duration::ZERO,
        );
        Garp {
            master_delay: self.duration(
                item,
                "garp_master_delay",
                raw.garp_master_delay.as_ref(),
                defaults.master_delay,
            ),
            master_repeat: self.count(
                item,
                "garp_master_repeat",
                raw.garp_master_repeat.as_ref(),
                defaults.master_repeat,
                "messages per burst",
            ),
            // keepalived writes 0 for "no refresh".
            master_refresh: (!master_refresh.is_zero()).then_some(master_refresh),
            master_refresh_repeat: self.count(
                item,
                "garp_master_refresh_repeat",
                raw.garp_master_refresh_repeat.as_ref(),
                defaults.master_refresh_repeat,
                "messages per refresh burst",
            ),
            arp_interval: self.duration(
                item,
                "garp_interval",
                raw.garp_interval.as_ref(),
                defaults.arp_interval,
            ),
            na_interval: self.duration(
                item,
                "gna_interval",
                raw.gna_interval.as_ref(),
                defaults.na_interval,
            ),
        }
    }

    fn track_interfaces(
        &mut self,
        item: Item,
        raw: Option<Vec<Spanned<Entry<super::values::TrackInterfaceEntry>>>>,
    ) -> Vec<TrackedInterface> {
        let mut tracked = Vec::new();
        for (i, entry) in raw.unwrap_or_default().into_iter().enumerate() {
            let start = entry.span().start;
            let Entry(entry) = self.element(item, "track_interfaces", i, entry);
            if let Some(weight) = self.weight_at(start, entry.weight, Weight::FAULT) {
                tracked.push(TrackedInterface {
                    name: entry.name,
                    weight,
                });
            }
        }
        tracked
    }

    fn track_files(
        &mut self,
        item: Item,
        raw: Option<Vec<Spanned<super::schema::RawTrackFile>>>,
    ) -> Vec<TrackedFile> {
        let mut tracked = Vec::new();
        for (i, entry) in raw.unwrap_or_default().into_iter().enumerate() {
            let start = entry.span().start;
            let entry = self.element(item, "track_files", i, entry);
            // keepalived's track_file weight defaults to 1: the file's number is the weight.
            let one = Weight::new(1).expect("1 is within the weight range");
            if let Some(weight) = self.weight_at(start, entry.weight, one) {
                tracked.push(TrackedFile {
                    path: PathBuf::from(entry.path),
                    weight,
                });
            }
        }
        tracked
    }

    fn track_checks(
        &mut self,
        item: Item,
        raw: Option<Vec<Spanned<Entry<super::values::TrackCheckEntry>>>>,
    ) -> Vec<TrackedCheck> {
        let mut tracked = Vec::new();
        for (i, entry) in raw.unwrap_or_default().into_iter().enumerate() {
            let start = entry.span().start;
            let Entry(entry) = self.element(item, "track_checks", i, entry);
            let weight = match entry.weight {
                None => None,
                Some(weight) => match self.weight_at(start, Some(weight), Weight::FAULT) {
                    Some(weight) => Some(weight),
                    None => continue,
                },
            };
            tracked.push(TrackedCheck {
                check: entry.check,
                weight,
            });
        }
        tracked
    }

    fn sync_group(&mut self, item: Item, raw: Spanned<RawSyncGroup>) -> SyncGroup {
        self.record(FieldPath::item(item), raw.span().start);
        let raw = raw.into_inner();
        let name = self.at(item, "name", raw.name);
        let members = self.at(item, "instances", raw.instances);
        let instances = members
            .into_iter()
            .enumerate()
            .map(|(i, member)| self.element(item, "instances", i, member))
            .collect();
        let notify = self.notify(
            item,
            [
                raw.notify,
                raw.notify_master,
                raw.notify_backup,
                raw.notify_fault,
                raw.notify_stop,
            ],
        );
        SyncGroup {
            name,
            instances,
            notify,
        }
    }

    fn check(&mut self, item: Item, raw: Spanned<RawCheck>) -> Option<Check> {
        self.record(FieldPath::item(item), raw.span().start);
        let raw = raw.into_inner();
        let errors_before = self.errors.len();
        let name = self.at(item, "name", raw.name);
        let kind_start = raw.kind.span().start;
        let kind = self.at(item, "type", raw.kind);

        let type_name = kind.name();
        // Keys that only some kinds have: refuse them on the others, naming where they belong.
        let kind_keys: [(&str, Option<usize>, RawCheckKind); 7] = [
            (
                "address",
                raw.address.as_ref().map(|v| v.span().start),
                RawCheckKind::Tcp,
            ),
            (
                "port",
                raw.port.as_ref().map(|v| v.span().start),
                RawCheckKind::Tcp,
            ),
            (
                "url",
                raw.url.as_ref().map(|v| v.span().start),
                RawCheckKind::Http,
            ),
            (
                "expected_status",
                raw.expected_status.as_ref().map(|v| v.span().start),
                RawCheckKind::Http,
            ),
            (
                "tls_verify",
                raw.tls_verify.as_ref().map(|v| v.span().start),
                RawCheckKind::Http,
            ),
            (
                "command",
                raw.command.as_ref().map(|v| v.span().start),
                RawCheckKind::Script,
            ),
            (
                "user",
                raw.user.as_ref().map(|v| v.span().start),
                RawCheckKind::Script,
            ),
        ];
        for (key, start, belongs_to) in kind_keys {
            if let Some(start) = start.filter(|_| belongs_to != kind) {
                let owner = belongs_to.name();
                self.error(
                    start,
                    format!(
                        "key `{key}` belongs to checks of type \"{owner}\", not \"{type_name}\""
                    ),
                );
            }
        }
        let missing = |converter: &mut Self, key: &str| {
            converter.error(
                kind_start,
                format!("a check of type \"{type_name}\" needs the key `{key}`"),
            );
        };

        let check_kind = match kind {
            RawCheckKind::Tcp => {
                let address = match raw.address {
                    None => {
                        missing(self, "address");
                        None
                    }
                    Some(address) => Some(self.at(item, "address", address).0),
                };
                let port = match raw.port {
                    None => {
                        missing(self, "port");
                        None
                    }
                    Some(port) => {
                        self.record(FieldPath::key(item, "port"), port.span().start);
                        self.ranged(&port, 1..=65535, "port", "a TCP port")
                    }
                };
                match (address, port) {
                    (Some(address), Some(port)) => Some(CheckKind::Tcp {
                        target: (address, port as u16).into(),
                    }),
                    _ => None,
                }
            }
            RawCheckKind::Http => {
                let url = match raw.url {
                    None => {
                        missing(self, "url");
                        None
                    }
                    Some(url) => {
                        let start = url.span().start;
                        let text = self.at(item, "url", url);
                        match Url::parse(&text) {
                            Ok(url) if matches!(url.scheme(), "http" | "https") => Some(url),
                            Ok(url) => {
                                self.error(start, format!("url scheme \"{}\" is not supported: expected http:// or https://", url.scheme()));
                                None
                            }
                            Err(error) => {
                                self.error(start, format!("invalid url \"{text}\": {error}; expected e.g. \"https://127.0.0.1:6443/healthz\""));
                                None
                            }
                        }
                    }
                };
                let expected_status = match raw.expected_status {
                    None => Some(Check::DEFAULT_HTTP_STATUS),
                    Some(status) => {
                        self.record(FieldPath::key(item, "expected_status"), status.span().start);
                        self.ranged(&status, 100..=599, "expected_status", "an HTTP status")
                            .map(|s| s as u16)
                    }
                };
                let tls_verify = self.flag(item, "tls_verify", raw.tls_verify, true);
                match (url, expected_status) {
                    (Some(url), Some(expected_status)) => Some(CheckKind::Http {
                        url,
                        expected_status,
                        tls_verify,
                    }),
                    _ => None,
                }
            }
            RawCheckKind::Script => {
                let user = raw.user.map(|v| self.at(item, "user", v));
                match raw.command {
                    None => {
                        missing(self, "command");
                        None
                    }
                    Some(command) => Some(CheckKind::Script {
                        command: Command {
                            argv: self.at(item, "command", command).0,
                        },
                        user,
                    }),
                }
            }
        };

        let interval = self.duration(
            item,
            "interval",
            raw.interval.as_ref(),
            Check::DEFAULT_INTERVAL,
        );
        // keepalived's vrrp_script lets a script run for a whole interval by default.
        let timeout = self.duration(item, "timeout", raw.timeout.as_ref(), interval);
        let weight = match raw.weight {
            None => Some(Weight::FAULT),
            Some(weight) => {
                self.record(FieldPath::key(item, "weight"), weight.span().start);
                self.weight_at(weight.span().start, Some(*weight.get_ref()), Weight::FAULT)
            }
        };
        let check = Check {
            name,
            kind: check_kind?,
            interval,
            timeout,
            weight: weight?,
            rise: self.count(item, "rise", raw.rise.as_ref(), 1, "consecutive successes"),
            fall: self.count(item, "fall", raw.fall.as_ref(), 1, "consecutive failures"),
            init_fail: self.flag(item, "init_fail", raw.init_fail, false),
        };
        (self.errors.len() == errors_before).then_some(check)
    }

    fn notify(&mut self, item: Item, raw: [Option<Spanned<CommandLine>>; 5]) -> NotifyCommands {
        let [any, master, backup, fault, stop] = raw;
        let mut command = |key: &'static str, raw: Option<Spanned<CommandLine>>| {
            raw.map(|v| Command {
                argv: self.at(item, key, v).0,
            })
        };
        NotifyCommands {
            any: command("notify", any),
            master: command("notify_master", master),
            backup: command("notify_backup", backup),
            fault: command("notify_fault", fault),
            stop: command("notify_stop", stop),
        }
    }

    fn duration(
        &mut self,
        item: Item,
        key: &'static str,
        raw: Option<&Spanned<DurationText>>,
        default: Duration,
    ) -> Duration {
        let Some(raw) = raw else {
            return default;
        };
        self.record(FieldPath::key(item, key), raw.span().start);
        raw.get_ref().0
    }

    fn flag(
        &mut self,
        item: Item,
        key: &'static str,
        raw: Option<Spanned<bool>>,
        default: bool,
    ) -> bool {
        raw.map_or(default, |v| self.at(item, key, v))
    }

    fn count(
        &mut self,
        item: Item,
        key: &'static str,
        raw: Option<&Spanned<i64>>,
        default: u32,
        what: &str,
    ) -> u32 {
        let Some(raw) = raw else {
            return default;
        };
        self.record(FieldPath::key(item, key), raw.span().start);
        self.ranged(raw, 1..=i64::from(u32::MAX), key, what)
            .map_or(default, |v| v as u32)
    }

    fn weight_at(&mut self, start: usize, raw: Option<i64>, default: Weight) -> Option<Weight> {
        let Some(value) = raw else {
            return Some(default);
        };
        let weight = Weight::new(value);
        if weight.is_none() {
            let limit = Weight::LIMIT;
            self.error(
                start,
                format!("weight {value} is out of range: expected -{limit}..={limit} (0 puts the instance in FAULT on failure)"),
            );
        }
        weight
    }

    /// The value if it lies in `range`; an error at the value otherwise.
    fn ranged(
        &mut self,
        raw: &Spanned<i64>,
        range: RangeInclusive<i64>,
        key: &str,
        what: &str,
    ) -> Option<i64> {
        let value = *raw.get_ref();
        if range.contains(&value) {
            return Some(value);
        }
        self.error(
            raw.span().start,
            format!(
                "{key} {value} is out of range: expected {what} in {}..={}",
                range.start(),
                range.end()
            ),
        );
        None
    }

    /// Records where a keyed value came from and unwraps it.
    fn at<T>(&mut self, item: Item, key: &'static str, value: Spanned<T>) -> T {
        self.record(FieldPath::key(item, key), value.span().start);
        value.into_inner()
    }

    fn element<T>(&mut self, item: Item, key: &'static str, index: usize, value: Spanned<T>) -> T {
        self.record(FieldPath::element(item, key, index), value.span().start);
        value.into_inner()
    }

    fn record(&mut self, path: FieldPath, offset: usize) {
        self.map.record(path, self.lines.position(offset));
    }

    fn error(&mut self, offset: usize, message: String) {
        self.errors.push(Diagnostic {
            location: Location {
                file: self.file.to_path_buf(),
                position: self.lines.position(offset),
            },
            message,
        });
    }
}
