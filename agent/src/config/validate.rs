//! Rules that relate several values of a configuration, checked on the model without touching
//! the system (interfaces and users are looked up at run time, not here).
//!
//! Errors make the configuration unusable; warnings point at settings that work but are
//! probably not what the user meant, or that have consequences worth knowing (fast mode).
//!
//! Decision on priority 255: the RFC reserves it for the router that owns the VIPs as real
//! interface addresses. vipd cannot know at check time whether this host does, and a user may
//! want a router that always wins and takes over at once, so 255 is allowed with a warning.

use crate::config::model::BfdSession;
use crate::family::IpFamily;
use std::collections::{HashMap, HashSet};
use std::net::IpAddr;

use super::diagnostic::{Diagnostic, FieldPath, Item, SourceMap};
use super::model::{
    duration_text, Auth, AuthHmac, Config, Instance, Version, FAST_MODE_BELOW,
    MAX_V2_ADVERT_INTERVAL, MAX_V3_ADVERT_INTERVAL, MIN_ADVERT_INTERVAL, MIN_CHECK_INTERVAL,
};

use crate::vrrp::auth_hmac::{KEY_MAX_LEN, KEY_MIN_LEN, WINDOW_MAX_SECS, WINDOW_MIN_SECS};

/// IFNAMSIZ less the terminating NUL.
const MAX_INTERFACE_NAME_LEN: usize = 15;
/// The shortest liveness echo interval or timeout: fast mode's wire unit.
const MIN_ECHO: std::time::Duration = std::time::Duration::from_micros(10);

/// What validation found, each list in file order.
#[derive(Debug, Default)]
pub struct Findings {
    pub errors: Vec<Diagnostic>,
    pub warnings: Vec<Diagnostic>,
}

pub fn validate(config: &Config, sources: &SourceMap) -> Findings {
    let mut v = Validator {
        config,
        sources,
        findings: Findings::default(),
    };
    v.unique_names();
    for (i, instance) in config.instances.iter().enumerate() {
        v.instance(Item::Instance(i), instance);
    }
    v.vrids_unique();
    v.vips_unique();
    v.tracked_checks_defined();
    v.bfd_sessions();
    v.sync_groups();
    v.checks();
    v.global();
    let by_position = |d: &Diagnostic| d.location.position;
    v.findings.errors.sort_by_key(by_position);
    v.findings.warnings.sort_by_key(by_position);
    v.findings
}

struct Validator<'a> {
    config: &'a Config,
    sources: &'a SourceMap,
    findings: Findings,
}

impl Validator<'_> {
    fn error(&mut self, path: FieldPath, message: impl Into<String>) {
        let diagnostic = self.sources.diagnostic(path, message);
        self.findings.errors.push(diagnostic);
    }

    fn warn(&mut self, path: FieldPath, message: impl Into<String>) {
        let diagnostic = self.sources.diagnostic(path, message);
        self.findings.warnings.push(diagnostic);
    }

    /// The rules keepalived 2.4 applies to an `auth_hmac` block, as errors: a key of the
    /// wrong length, an id defined twice, an active key not defined, a window out of range.
    /// Messages name key ids and lengths, never key material.
    fn auth_hmac(&mut self, item: Item, instance: &Instance, auth: &AuthHmac) {
        let at = FieldPath::key(item, "auth_hmac");
        if auth.keys.is_empty() {
            self.error(at, "auth_hmac defines no key: add one to `keys`");
        }
        for (i, key) in auth.keys.iter().enumerate() {
            let len = key.material.len();
            if !(KEY_MIN_LEN..=KEY_MAX_LEN).contains(&len) {
                self.error(
                    at,
                    format!(
                        "auth_hmac key {} is {len} bytes: keys are {KEY_MIN_LEN} to {KEY_MAX_LEN} bytes",
                        key.id
                    ),
                );
            }
            if auth.keys[..i].iter().any(|k| k.id == key.id) {
                self.error(at, format!("auth_hmac key id {} is defined twice", key.id));
            }
        }
        if !auth.keys.iter().any(|k| k.id == auth.active_key) {
            self.error(
                at,
                format!(
                    "auth_hmac active_key {} is not among the keys defined",
                    auth.active_key
                ),
            );
        }
        if let Some(window) = auth.time_window {
            if !(WINDOW_MIN_SECS..=WINDOW_MAX_SECS).contains(&window) {
                self.error(
                    at,
                    format!("auth_hmac time_window {window} s is out of range: {WINDOW_MIN_SECS} to {WINDOW_MAX_SECS} s"),
                );
            }
        }
        if instance.auth != Auth::None {
            self.error(
                at,
                "auth_hmac replaces VRRPv2 authentication: remove `auth_password`",
            );
        }
    }

    fn line_of(&self, path: FieldPath) -> usize {
        self.sources.locate(path).position.line
    }

    fn unique_names(&mut self) {
        let instances = self.config.instances.iter().map(|i| i.name.as_str());
        self.names_unique(instances, Item::Instance, "instance");
        let groups = self.config.sync_groups.iter().map(|g| g.name.as_str());
        self.names_unique(groups, Item::SyncGroup, "sync group");
        let checks = self.config.checks.iter().map(|c| c.name.as_str());
        self.names_unique(checks, Item::Check, "check");
    }

    fn names_unique<'n>(
        &mut self,
        names: impl Iterator<Item = &'n str>,
        item: fn(usize) -> Item,
        what: &str,
    ) {
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (i, name) in names.enumerate() {
            if name.trim().is_empty() {
                self.error(
                    FieldPath::key(item(i), "name"),
                    format!("{what} name is empty: give it a name"),
                );
            } else if let Some(&first) = seen.get(name) {
                let line = self.line_of(FieldPath::key(item(first), "name"));
                self.error(
                    FieldPath::key(item(i), "name"),
                    format!(
                        "{what} name `{name}` is already used on line {line}: names must be unique"
                    ),
                );
            } else {
                seen.insert(name, i);
            }
        }
    }

    fn instance(&mut self, item: Item, instance: &Instance) {
        let name = &instance.name;
        let at = |key| FieldPath::key(item, key);

        self.interface_name(at("interface"), &instance.interface);
        if let Some(vmac) = &instance.vmac_interface {
            self.interface_name(at("vmac_interface"), vmac);
        }
        for (key, vips) in [
            ("vips", &instance.vips),
            ("excluded_vips", &instance.excluded_vips),
        ] {
            for (i, vip) in vips.iter().enumerate() {
                if let Some(device) = &vip.device {
                    self.interface_name(FieldPath::element(item, key, i), device);
                }
            }
        }
        for (i, tracked) in instance.track_interfaces.iter().enumerate() {
            self.interface_name(
                FieldPath::element(item, "track_interfaces", i),
                &tracked.name,
            );
        }

        if instance.vips.is_empty() {
            self.error(
                at("vips"),
                format!("instance `{name}` has no VIPs: list at least one address in `vips`"),
            );
        }
        for (i, vip) in instance.vips.iter().enumerate() {
            if vip.family() != instance.family {
                self.error(
                    FieldPath::element(item, "vips", i),
                    format!(
                        "VIP {} is {} but the instance's first VIP is {}: all `vips` of an instance are one family (put the other family in its own instance, or in `excluded_vips`)",
                        vip.address,
                        vip.family().name(),
                        instance.family.name()
                    ),
                );
            }
        }
        for (key, vips) in [
            ("vips", &instance.vips),
            ("excluded_vips", &instance.excluded_vips),
        ] {
            for (i, vip) in vips.iter().enumerate() {
                if vip.label.is_some() && vip.family() == IpFamily::V6 {
                    self.error(
                        FieldPath::element(item, key, i),
                        format!(
                            "VIP {} is IPv6: Linux labels only IPv4 addresses, remove `label`",
                            vip.address
                        ),
                    );
                }
            }
        }

        self.addresses_of_family(item, instance);
        self.advert_interval(item, instance);
        self.echo(item, instance);

        if instance.version == Version::V2 && instance.family == IpFamily::V6 {
            self.error(
                at("version"),
                "VRRP version 2 is IPv4 only: use version = 3 for IPv6 VIPs",
            );
        }
        if let (Auth::Pass(_) | Auth::Ah(_), Version::V3) = (&instance.auth, instance.version) {
            self.error(
                at("auth_password"),
                "authentication exists only in VRRP version 2 (RFC 9568 removed it): remove `auth_password` or set version = 2",
            );
        }
        if let Some(auth) = &instance.auth_hmac {
            self.auth_hmac(item, instance, auth);
        }
        if instance.vmac_interface.is_some() && !instance.use_vmac {
            self.error(
                at("vmac_interface"),
                "`vmac_interface` names the macvlan of `use_vmac`: set use_vmac = true or remove it",
            );
        }

        if instance.priority.is_owner() {
            self.warn(
                at("priority"),
                format!(
                    "priority 255 makes `{name}` the address owner: it becomes MASTER at once on start and always preempts; use 1..=254 unless this host owns the VIPs"
                ),
            );
            if !instance.preempt {
                self.warn(
                    at("preempt"),
                    "preempt = false has no effect at priority 255: the address owner always preempts",
                );
            }
        }
        if !instance.preempt && !instance.preempt_delay.is_zero() {
            self.warn(
                at("preempt_delay"),
                "preempt_delay has no effect with preempt = false",
            );
        }
    }

    /// Linux's rules for interface names (`dev_valid_name`), so a typo is caught here rather
    /// than when the interface is looked up at run time.
    fn interface_name(&mut self, path: FieldPath, name: &str) {
        let valid = !name.is_empty()
            && name.len() <= MAX_INTERFACE_NAME_LEN
            && name != "."
            && name != ".."
            && !name
                .chars()
                .any(|c| c == '/' || c == ':' || c.is_whitespace());
        if !valid {
            self.error(
                path,
                format!("`{name}` is not a valid interface name: Linux allows 1 to {MAX_INTERFACE_NAME_LEN} bytes without '/', ':' or spaces"),
            );
        }
    }

    fn addresses_of_family(&mut self, item: Item, instance: &Instance) {
        let family = instance.family;
        let wrong = |address: IpAddr| IpFamily::of(address) != family;
        if let Some(source) = instance.unicast_source.filter(|&a| wrong(a)) {
            self.error(
                FieldPath::key(item, "unicast_source"),
                format!(
                    "unicast_source {source} is {} but the instance's VIPs are {}: use an address of the VIPs' family",
                    IpFamily::of(source).name(),
                    family.name()
                ),
            );
        }
        for (i, &peer) in instance.unicast_peers.iter().enumerate() {
            if wrong(peer) {
                self.error(
                    FieldPath::element(item, "unicast_peers", i),
                    format!(
                        "unicast peer {peer} is {} but the instance's VIPs are {}: adverts go to peers of the VIPs' family",
                        IpFamily::of(peer).name(),
                        family.name()
                    ),
                );
            }
        }
    }

    fn advert_interval(&mut self, item: Item, instance: &Instance) {
        let at = FieldPath::key(item, "advert_interval");
        let interval = instance.advert_interval;
        let shown = duration_text(interval);
        if interval < MIN_ADVERT_INTERVAL {
            self.error(
                at,
                format!("advert_interval {shown} is below the minimum of 50us"),
            );
            return;
        }
        match instance.version {
            Version::V2 => {
                if instance.is_fast_mode() {
                    self.error(
                        at,
                        format!("advert_interval {shown} is fast mode (below 10ms), which needs version = 3"),
                    );
                } else if interval.subsec_nanos() != 0 {
                    self.error(
                        at,
                        format!("advert_interval {shown} is not a whole number of seconds, which VRRP version 2 requires: use whole seconds or version = 3"),
                    );
                } else if interval > MAX_V2_ADVERT_INTERVAL {
                    self.error(
                        at,
                        format!(
                            "advert_interval {shown} is above VRRP version 2's maximum of 255s"
                        ),
                    );
                }
            }
            Version::V3 if instance.is_fast_mode() => {
                if !interval.subsec_nanos().is_multiple_of(1_000) {
                    self.error(
                        at,
                        format!("advert_interval {shown} is not a whole number of microseconds"),
                    );
                }
                let name = &instance.name;
                self.warn(
                    at,
                    format!(
                        "advert_interval {shown} selects vipd fast mode for `{name}` (below 10ms): only vipd peers configured alike detect master loss at that speed; a standard VRRP router such as keepalived in VRID {} reads the interval as 1000 times longer and takes over from this node only slowly (see vipd's fast-mode notes)",
                        instance.vrid.get()
                    ),
                );
                if !self.config.global.realtime.enabled {
                    self.warn(
                        at,
                        format!("fast mode without realtime scheduling: ordinary threads can wake milliseconds late on a loaded machine; set enabled = true in [global.realtime] for `{name}`"),
                    );
                }
            }
            Version::V3 => {
                if !interval
                    .as_nanos()
                    .is_multiple_of(FAST_MODE_BELOW.as_nanos())
                {
                    self.error(
                        at,
                        format!("advert_interval {shown} is not a whole number of centiseconds, which VRRP version 3 carries at 10ms and above: use a multiple of 10ms (or below 10ms for fast mode)"),
                    );
                } else if interval > MAX_V3_ADVERT_INTERVAL {
                    self.error(
                        at,
                        format!(
                            "advert_interval {shown} is above VRRP version 3's maximum of 40.95s"
                        ),
                    );
                }
            }
        }
    }

    /// vipd's liveness echo: fast mode only, and no faster than the fast mode's 10us unit.
    fn echo(&mut self, item: Item, instance: &Instance) {
        let name = &instance.name;
        for (key, value) in [
            ("echo_interval", instance.echo_interval),
            ("echo_timeout", instance.echo_timeout),
        ] {
            let Some(value) = value else {
                continue;
            };
            let at = FieldPath::key(item, key);
            let shown = duration_text(value);
            if value < MIN_ECHO {
                self.error(at, format!("{key} {shown} is below the minimum of 10us"));
            } else if !instance.is_fast_mode() {
                self.warn(
                    at,
                    format!("{key} has no effect on `{name}`: the liveness echo runs in fast mode only (advert_interval below 10ms)"),
                );
            }
        }
    }

    /// One VRID per interface and family: two instances there would be one virtual router.
    fn vrids_unique(&mut self) {
        let mut seen = HashMap::new();
        for (i, instance) in self.config.instances.iter().enumerate() {
            let key = (instance.interface.as_str(), instance.family, instance.vrid);
            if let Some(&first) = seen.get(&key) {
                let other: &Instance = &self.config.instances[first];
                let line = self.line_of(FieldPath::key(Item::Instance(first), "vrid"));
                self.error(
                    FieldPath::key(Item::Instance(i), "vrid"),
                    format!(
                        "vrid {} is already used on {} for {} by instance `{}` (line {line}): use another vrid",
                        instance.vrid.get(),
                        instance.interface,
                        instance.family.name(),
                        other.name
                    ),
                );
            } else {
                seen.insert(key, i);
            }
        }
    }

    /// A VIP moves with one instance's state; in two instances the two would fight over it.
    fn vips_unique(&mut self) {
        let mut seen: HashMap<IpAddr, FieldPath> = HashMap::new();
        for (i, instance) in self.config.instances.iter().enumerate() {
            let item = Item::Instance(i);
            let lists = [
                ("vips", &instance.vips),
                ("excluded_vips", &instance.excluded_vips),
            ];
            for (key, vips) in lists {
                for (j, vip) in vips.iter().enumerate() {
                    let path = FieldPath::element(item, key, j);
                    let address = vip.address.addr();
                    if let Some(&first) = seen.get(&address) {
                        let line = self.line_of(first);
                        let owner = match first.item {
                            Item::Instance(k) => self.config.instances[k].name.as_str(),
                            _ => "",
                        };
                        self.error(
                            path,
                            format!("VIP {address} is already in instance `{owner}` (line {line}): an address belongs to one instance"),
                        );
                    } else {
                        seen.insert(address, path);
                    }
                }
            }
        }
    }

    /// BFD sessions: unique names, a source of the neighbour's family, intervals vipd runs,
    /// and every `track_bfd` naming one.
    fn bfd_sessions(&mut self) {
        let mut names = HashSet::new();
        for (i, session) in self.config.bfd.iter().enumerate() {
            if !names.insert(session.name.as_str()) {
                self.error(
                    FieldPath::key(Item::Bfd(i), "name"),
                    format!("BFD session `{}` is defined twice", session.name),
                );
            }
            if let Some(source) = session.source {
                if IpFamily::of(source) != IpFamily::of(session.neighbor) {
                    self.error(
                        FieldPath::key(Item::Bfd(i), "source"),
                        format!(
                            "BFD session `{}`: source {source} and neighbor {} are of different families",
                            session.name, session.neighbor
                        ),
                    );
                }
            }
            for (key, value) in [("min_rx", session.min_rx), ("min_tx", session.min_tx)] {
                if value < BfdSession::MIN_INTERVAL {
                    self.error(
                        FieldPath::key(Item::Bfd(i), key),
                        format!(
                            "BFD session `{}`: {key} is below vipd's shortest interval, 1ms",
                            session.name
                        ),
                    );
                }
            }
        }
        for (i, instance) in self.config.instances.iter().enumerate() {
            for (j, track) in instance.track_bfd.iter().enumerate() {
                if !names.contains(track.name.as_str()) {
                    self.error(
                        FieldPath::element(Item::Instance(i), "track_bfd", j),
                        format!(
                            "BFD session `{}` is not defined: add a [[bfd]] with name = \"{}\"",
                            track.name, track.name
                        ),
                    );
                }
            }
        }
    }

    fn tracked_checks_defined(&mut self) {
        let defined: HashSet<&str> = self.config.checks.iter().map(|c| c.name.as_str()).collect();
        let mut tracked = HashSet::new();
        for (i, instance) in self.config.instances.iter().enumerate() {
            for (j, track) in instance.track_checks.iter().enumerate() {
                tracked.insert(track.check.as_str());
                if !defined.contains(track.check.as_str()) {
                    self.error(
                        FieldPath::element(Item::Instance(i), "track_checks", j),
                        format!(
                            "check `{}` is not defined: add a [[check]] with name = \"{}\"",
                            track.check, track.check
                        ),
                    );
                }
            }
        }
        for (i, check) in self.config.checks.iter().enumerate() {
            if !tracked.contains(check.name.as_str()) {
                self.warn(
                    FieldPath::key(Item::Check(i), "name"),
                    format!("check `{}` is not in any instance's `track_checks`: it runs but changes nothing", check.name),
                );
            }
        }
    }

    fn sync_groups(&mut self) {
        let instances: HashSet<&str> = self
            .config
            .instances
            .iter()
            .map(|i| i.name.as_str())
            .collect();
        let mut member_of: HashMap<&str, usize> = HashMap::new();
        for (g, group) in self.config.sync_groups.iter().enumerate() {
            let item = Item::SyncGroup(g);
            if group.instances.is_empty() {
                self.error(
                    FieldPath::key(item, "instances"),
                    format!("sync group `{}` has no instances", group.name),
                );
            } else if group.instances.len() == 1 {
                self.warn(
                    FieldPath::key(item, "instances"),
                    format!(
                        "sync group `{}` has one instance: it synchronises nothing",
                        group.name
                    ),
                );
            }
            for (j, member) in group.instances.iter().enumerate() {
                let path = FieldPath::element(item, "instances", j);
                if !instances.contains(member.as_str()) {
                    self.error(
                        path,
                        format!("instance `{member}` is not defined: add an [[instance]] with name = \"{member}\""),
                    );
                    continue;
                }
                if let Some(&first) = member_of.get(member.as_str()) {
                    let other = &self.config.sync_groups[first];
                    let verb = if first == g {
                        "is listed twice in"
                    } else {
                        "is already in"
                    };
                    let line = self.line_of(FieldPath::item(Item::SyncGroup(first)));
                    self.error(
                        path,
                        format!("instance `{member}` {verb} sync group `{}` (line {line}): an instance belongs to at most one sync group", other.name),
                    );
                } else {
                    member_of.insert(member, g);
                }
            }
        }
    }

    fn checks(&mut self) {
        for (i, check) in self.config.checks.iter().enumerate() {
            let item = Item::Check(i);
            if check.interval < MIN_CHECK_INTERVAL {
                self.error(
                    FieldPath::key(item, "interval"),
                    format!(
                        "interval {} is below the minimum of 10ms",
                        duration_text(check.interval)
                    ),
                );
            }
            if check.timeout.is_zero() {
                self.error(
                    FieldPath::key(item, "timeout"),
                    "timeout 0s leaves the check no time: give it a positive duration",
                );
            }
        }
    }

    fn global(&mut self) {
        if self.config.instances.is_empty() {
            self.warn(
                FieldPath::item(Item::Global),
                "no [[instance]] is configured: vipd will have nothing to do",
            );
        }
    }
}
