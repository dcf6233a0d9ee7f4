//! `vrrp_instance` blocks as vipd instances, with keepalived's defaults: VRRP version 2 unless
//! global_defs says otherwise, priority 100 (255 for `state MASTER` without a priority), GARP
//! settings from global_defs, accept mode on unless `vrrp_strict`.
//!
//! keepalived refuses intervals below 10 ms; vipd runs them as its fast mode (VRRP version 3
//! only), so `advert_int 0.001` gives a keepalived user vipd's fast detection by changing one
//! number. VRRPv2 cannot carry fractions of a second, so keepalived rounds them and so does this.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::Importer;
use crate::config::diagnostic::{FieldPath, Item};
use crate::config::keepalived::source::Origin;
use crate::config::keepalived::syntax::{Arity, Statement, Word};
use crate::config::keepalived::values;
use crate::config::model::{
    duration_text, Auth, Family, Instance, NotifyCommands, Priority, TrackedCheck, TrackedFile,
    TrackedInterface, Version, Vip, Vrid, Weight, FAST_MODE_BELOW, MAX_PASSWORD_LEN,
};

/// Keywords keepalived accepts in vrrp_instance that vipd does not act on; each is warned about.
const IGNORED: &[(&str, &str)] = &[
    (
        "vmac_xmit_base",
        "vipd sends adverts from the vmac interface itself",
    ),
    (
        "native_ipv6",
        "vipd chooses the address family from the VIPs",
    ),
    (
        "promote_secondaries",
        "vipd does not change the kernel's promote_secondaries setting",
    ),
    (
        "strict_mode",
        "vipd does not apply keepalived's strict RFC checks",
    ),
    (
        "skip_check_adv_addr",
        "vipd does not compare the addresses in adverts",
    ),
    (
        "check_unicast_src",
        "vipd accepts unicast adverts from the configured peers only",
    ),
    (
        "old_unicast_checksum",
        "vipd accepts both VRRPv3 checksum variants on receipt",
    ),
    (
        "notify_priority_changes",
        "vipd notifies state changes only",
    ),
    ("smtp_alert", "vipd sends no email"),
    (
        "lower_prio_no_advert",
        "vipd answers lower-priority adverts as RFC 9568 says",
    ),
    (
        "higher_prio_send_advert",
        "vipd answers higher-priority adverts as RFC 9568 says",
    ),
    ("debug", "use RUST_LOG for vipd's logs"),
    ("kernel_rx_buf_size", "vipd sizes its own receive buffers"),
    (
        "down_timer_adverts",
        "vipd uses the RFC's Master_Down_Interval",
    ),
    ("lvs_sync_daemon_interface", "vipd does not run LVS"),
    (
        "garp_lower_prio_delay",
        "vipd does not send GARPs on lower-priority adverts",
    ),
    (
        "garp_lower_prio_repeat",
        "vipd does not send GARPs on lower-priority adverts",
    ),
    ("track_src_ip", "vipd does not track the source address"),
    (
        "use_vmac_addr",
        "vipd does not use the vmac address on the base interface",
    ),
    ("use_ipvlan", "vipd supports macvlan vmacs only (use_vmac)"),
    (
        "garp_extra_if",
        "vipd sends GARPs on the instance's interface only",
    ),
    (
        "vmac_garp_intvl",
        "vipd sends GARPs on the instance's interface only",
    ),
    (
        "linkbeat_use_polling",
        "vipd follows link state through netlink",
    ),
    (
        "notify_deleted",
        "vipd runs notify_stop when an instance is removed",
    ),
    (
        "notify_master_rx_lower_pri",
        "vipd has no such notification",
    ),
    ("unicast_ttl", "vipd sends unicast adverts with TTL 255"),
    (
        "track_process",
        "vipd does not track processes (use a check script)",
    ),
    ("track_bfd", "vipd does not run BFD"),
    ("virtual_routes", "vipd does not manage routes"),
    ("virtual_rules", "vipd does not manage routing rules"),
];

fn arity(keyword: &str) -> Option<Arity> {
    Some(match keyword {
        "state"
        | "interface"
        | "virtual_router_id"
        | "priority"
        | "advert_int"
        | "version"
        | "preempt_delay"
        | "unicast_src_ip"
        | "mcast_src_ip"
        | "garp_master_delay"
        | "garp_master_repeat"
        | "garp_master_refresh"
        | "garp_master_refresh_repeat"
        | "garp_lower_prio_delay"
        | "garp_lower_prio_repeat"
        | "unicast_ttl"
        | "debug"
        | "kernel_rx_buf_size"
        | "down_timer_adverts"
        | "lvs_sync_daemon_interface" => Arity::Fixed(1),
        "nopreempt"
        | "preempt"
        | "accept"
        | "no_accept"
        | "dont_track_primary"
        | "vmac_xmit_base"
        | "native_ipv6"
        | "promote_secondaries"
        | "check_unicast_src"
        | "track_src_ip"
        | "use_vmac_addr"
        | "linkbeat_use_polling"
        | "authentication"
        | "virtual_ipaddress"
        | "virtual_ipaddress_excluded"
        | "unicast_peer"
        | "track_interface"
        | "track_script"
        | "track_file"
        | "track_process"
        | "track_bfd"
        | "virtual_routes"
        | "virtual_rules" => Arity::Fixed(0),
        "use_vmac"
        | "strict_mode"
        | "skip_check_adv_addr"
        | "old_unicast_checksum"
        | "notify_priority_changes"
        | "smtp_alert"
        | "lower_prio_no_advert"
        | "higher_prio_send_advert" => Arity::Optional,
        "notify"
        | "notify_master"
        | "notify_backup"
        | "notify_fault"
        | "notify_stop"
        | "notify_deleted"
        | "notify_master_rx_lower_pri"
        | "use_ipvlan"
        | "garp_extra_if"
        | "vmac_garp_intvl" => Arity::Rest,
        _ => return None,
    })
}

fn authentication_arity(keyword: &str) -> Option<Arity> {
    matches!(keyword, "auth_type" | "auth_pass").then_some(Arity::Fixed(1))
}

/// Options that may follow an address in virtual_ipaddress, with whether they take a value.
const VIP_OPTIONS: &[(&str, bool)] = &[
    ("dev", true),
    ("label", true),
    ("brd", true),
    ("broadcast", true),
    ("scope", true),
    ("peer", true),
    ("preferred_lft", true),
    ("valid_lft", true),
    ("track_group", true),
    ("home", false),
    ("-nodad", false),
    ("nodad", false),
    ("mngtmpaddr", false),
    ("noprefixroute", false),
    ("autojoin", false),
    ("no_track", false),
];

/// What an instance block said, before keepalived's defaults are applied.
#[derive(Default)]
struct Said {
    interface: Option<String>,
    vrid: Option<Vrid>,
    priority: Option<Priority>,
    advert: Option<(Duration, Origin)>,
    version: Option<(Version, Origin)>,
    master: Option<Origin>,
    nopreempt: Option<Origin>,
    accept: Option<bool>,
    auth: Option<(String, Origin)>,
}

impl Importer<'_> {
    pub(super) fn vrrp_instance(&mut self, statement: &Statement) {
        let Some((name, block)) = self.named_block(statement) else {
            return;
        };
        let item = Item::Instance(self.config.instances.len());
        let mut places: Vec<(FieldPath, Origin)> = Vec::new();
        let mut at =
            |key: &'static str, origin: Origin| places.push((FieldPath::key(item, key), origin));
        let mut said = Said::default();
        let mut instance = Instance {
            name: name.text.clone(),
            interface: String::new(),
            vrid: Vrid::new(1).expect("1 is a VRID"),
            priority: Priority::DEFAULT,
            advert_interval: Instance::DEFAULT_ADVERT_INTERVAL,
            version: Version::V2,
            family: Family::Ipv4,
            vips: Vec::new(),
            excluded_vips: Vec::new(),
            unicast_source: None,
            unicast_peers: Vec::new(),
            unicast_ttl_check: Instance::DEFAULT_UNICAST_TTL_CHECK,
            auth: Auth::None,
            preempt: true,
            preempt_delay: Duration::ZERO,
            accept_mode: Instance::DEFAULT_ACCEPT_MODE,
            use_vmac: false,
            vmac_interface: None,
            v3_checksum: Instance::DEFAULT_V3_CHECKSUM,
            garp: self.defaults.garp,
            track_interfaces: Vec::new(),
            track_files: Vec::new(),
            track_checks: Vec::new(),
            notify: NotifyCommands::default(),
        };
        let context = format!("vrrp_instance {}", name.text);
        let statements = self.statements(block, arity, &context, true);
        let mut elements: Vec<(FieldPath, Origin)> = Vec::new();
        for s in &statements {
            let keyword = s.name();
            if let Some((_, why)) = IGNORED.iter().find(|(k, _)| *k == keyword) {
                self.warn(s.keyword.origin, format!("`{keyword}` is ignored: {why}"));
                continue;
            }
            if s.block.is_some()
                && !matches!(
                    keyword,
                    "authentication"
                        | "virtual_ipaddress"
                        | "virtual_ipaddress_excluded"
                        | "unicast_peer"
                        | "track_interface"
                        | "track_script"
                        | "track_file"
                )
            {
                self.error(s.keyword.origin, format!("`{keyword}` takes no block"));
                continue;
            }
            match keyword {
                "state" => {
                    let Some(value) = self.value(s) else { continue };
                    match value.text.as_str() {
                        "MASTER" => said.master = Some(value.origin),
                        "BACKUP" => said.master = None,
                        other => self.error(value.origin, format!("`{other}` is not a state: expected MASTER or BACKUP")),
                    }
                }
                "interface" => {
                    let Some(value) = self.value(s) else { continue };
                    at("interface", value.origin);
                    said.interface = Some(value.text.clone());
                }
                "virtual_router_id" => {
                    let Some(value) = self.value(s) else { continue };
                    if let Some(vrid) = self.integer::<u8>(value, 1..=255, "virtual_router_id").and_then(Vrid::new) {
                        at("vrid", value.origin);
                        said.vrid = Some(vrid);
                    }
                }
                "priority" => {
                    let Some(value) = self.value(s) else { continue };
                    if let Some(priority) = self.integer::<u8>(value, 1..=255, "priority").and_then(Priority::new) {
                        at("priority", value.origin);
                        said.priority = Some(priority);
                    }
                }
                "advert_int" => {
                    let Some(value) = self.value(s) else { continue };
                    match self.seconds(value, "advert_int") {
                        Some(interval) if interval.is_zero() => {
                            self.error(value.origin, "advert_int 0 is not valid: give a positive interval");
                        }
                        Some(interval) => {
                            at("advert_interval", value.origin);
                            said.advert = Some((interval, value.origin));
                        }
                        None => {}
                    }
                }
                "version" => {
                    let Some(value) = self.value(s) else { continue };
                    if let Some(version) = self.version(value) {
                        at("version", value.origin);
                        said.version = Some((version, value.origin));
                    }
                }
                "nopreempt" => {
                    at("preempt", s.keyword.origin);
                    said.nopreempt = Some(s.keyword.origin);
                    instance.preempt = false;
                }
                "preempt" => {
                    at("preempt", s.keyword.origin);
                    said.nopreempt = None;
                    instance.preempt = true;
                }
                "preempt_delay" => {
                    let Some(value) = self.value(s) else { continue };
                    if let Some(delay) = self.seconds(value, "preempt_delay") {
                        at("preempt_delay", value.origin);
                        instance.preempt_delay = delay;
                    }
                }
                "unicast_src_ip" | "mcast_src_ip" => {
                    let Some(value) = self.value(s) else { continue };
                    match value.text.parse::<IpAddr>() {
                        Ok(address) => {
                            at("unicast_source", value.origin);
                            instance.unicast_source = Some(address);
                        }
                        Err(_) => self.error(value.origin, format!("`{}` is not an IP address", value.text)),
                    }
                }
                "use_vmac" => {
                    at("use_vmac", s.keyword.origin);
                    instance.use_vmac = true;
                    if let Some(vmac) = s.args.first() {
                        at("vmac_interface", vmac.origin);
                        instance.vmac_interface = Some(vmac.text.clone());
                    }
                }
                "accept" => {
                    at("accept_mode", s.keyword.origin);
                    said.accept = Some(true);
                }
                "no_accept" => {
                    at("accept_mode", s.keyword.origin);
                    said.accept = Some(false);
                }
                "dont_track_primary" => self.warn(
                    s.keyword.origin,
                    "`dont_track_primary` is ignored: vipd always follows the link state of the instance's interface",
                ),
                "garp_master_delay" => {
                    if let Some(delay) = self.garp_seconds(s) {
                        instance.garp.master_delay = delay;
                    }
                }
                "garp_master_repeat" => {
                    if let Some(repeat) = self.garp_count(s) {
                        instance.garp.master_repeat = repeat;
                    }
                }
                "garp_master_refresh" => {
                    if let Some(refresh) = self.garp_seconds(s) {
                        instance.garp.master_refresh = (!refresh.is_zero()).then_some(refresh);
                    }
                }
                "garp_master_refresh_repeat" => {
                    if let Some(repeat) = self.garp_count(s) {
                        instance.garp.master_refresh_repeat = repeat;
                    }
                }
                "authentication" => {
                    let Some(block) = self.block_of(s) else { continue };
                    said.auth = self.authentication(block);
                    if let Some((_, origin)) = &said.auth {
                        at("auth_password", *origin);
                    }
                }
                "virtual_ipaddress" | "virtual_ipaddress_excluded" => {
                    let Some(block) = self.block_of(s) else { continue };
                    let key = if keyword == "virtual_ipaddress" { "vips" } else { "excluded_vips" };
                    at(key, s.keyword.origin);
                    let list = if key == "vips" { &mut instance.vips } else { &mut instance.excluded_vips };
                    let start = list.len();
                    let parsed = self.vips(block);
                    for (offset, (vip, origin)) in parsed.into_iter().enumerate() {
                        elements.push((FieldPath::element(item, key, start + offset), origin));
                        list.push(vip);
                    }
                }
                "unicast_peer" => {
                    let Some(block) = self.block_of(s) else { continue };
                    at("unicast_peers", s.keyword.origin);
                    for (peer, origin) in self.unicast_peers(block) {
                        elements.push((FieldPath::element(item, "unicast_peers", instance.unicast_peers.len()), origin));
                        instance.unicast_peers.push(peer);
                    }
                }
                "track_interface" => {
                    let Some(block) = self.block_of(s) else { continue };
                    at("track_interfaces", s.keyword.origin);
                    for (name, weight, origin) in self.tracked(block) {
                        elements.push((FieldPath::element(item, "track_interfaces", instance.track_interfaces.len()), origin));
                        instance.track_interfaces.push(TrackedInterface { name, weight: weight.unwrap_or(Weight::FAULT) });
                    }
                }
                "track_script" => {
                    let Some(block) = self.block_of(s) else { continue };
                    at("track_checks", s.keyword.origin);
                    for (check, weight, origin) in self.tracked(block) {
                        if self.no_op_checks.contains(&check) {
                            continue;
                        }
                        if !self.config.checks.iter().any(|c| c.name == check) {
                            self.warn(origin, format!("track_script `{check}` is not a vrrp_script: ignored, as keepalived does"));
                            continue;
                        }
                        elements.push((FieldPath::element(item, "track_checks", instance.track_checks.len()), origin));
                        instance.track_checks.push(TrackedCheck { check, weight });
                    }
                }
                "track_file" => {
                    let Some(block) = self.block_of(s) else { continue };
                    at("track_files", s.keyword.origin);
                    for (file, weight, origin) in self.tracked(block) {
                        let Some(definition) = self.track_files.get(&file).cloned() else {
                            self.warn(origin, format!("track_file `{file}` is not a vrrp_track_file: ignored, as keepalived does"));
                            continue;
                        };
                        elements.push((FieldPath::element(item, "track_files", instance.track_files.len()), origin));
                        instance.track_files.push(TrackedFile {
                            path: PathBuf::from(&definition.path),
                            weight: weight.unwrap_or(definition.weight),
                        });
                    }
                }
                "notify" | "notify_master" | "notify_backup" | "notify_fault" | "notify_stop" => {
                    let Some(command) = self.command(s) else { continue };
                    let (key, slot) = match keyword {
                        "notify" => ("notify", &mut instance.notify.any),
                        "notify_master" => ("notify_master", &mut instance.notify.master),
                        "notify_backup" => ("notify_backup", &mut instance.notify.backup),
                        "notify_fault" => ("notify_fault", &mut instance.notify.fault),
                        _ => ("notify_stop", &mut instance.notify.stop),
                    };
                    at(key, s.keyword.origin);
                    *slot = Some(command);
                }
                _ => unreachable!("arity() lists only the keywords handled here or in IGNORED"),
            }
        }
        places.extend(elements);
        if self.complete(&mut instance, said, statement, name) {
            self.item_at(item, statement, name);
            for (path, origin) in places {
                self.record(path, origin);
            }
            self.config.instances.push(instance);
        }
    }

    /// Applies keepalived's defaults and rules between values; false when required values are
    /// missing (an error has been reported).
    fn complete(
        &mut self,
        instance: &mut Instance,
        said: Said,
        statement: &Statement,
        name: &Word,
    ) -> bool {
        let what = format!("vrrp_instance {}", name.text);
        let (Some(interface), Some(vrid)) = (said.interface, said.vrid) else {
            self.error(
                statement.keyword.origin,
                format!("{what} needs `interface` and `virtual_router_id`"),
            );
            return false;
        };
        instance.interface = interface;
        instance.vrid = vrid;
        instance.family = instance.vips.first().map_or(Family::Ipv4, Vip::family);

        instance.priority = match (said.priority, said.master) {
            (Some(priority), _) => priority,
            (None, Some(origin)) => {
                self.warn(origin, format!("{what}: `state MASTER` without `priority` means priority 255 (the address owner) in keepalived, and so here"));
                Priority::OWNER
            }
            (None, None) => Priority::DEFAULT,
        };
        if let (Some(state), Some(_)) = (said.master, said.nopreempt) {
            self.warn(state, format!("{what}: keepalived starts an instance with `state MASTER` as MASTER despite `nopreempt`; vipd starts every instance as BACKUP and lets the election decide, so `nopreempt` holds from the start"));
        }

        let explicit_version = said.version.or(self.defaults.version);
        instance.version = explicit_version.map_or(Version::V2, |(v, _)| v);
        if instance.family == Family::Ipv6 && instance.version == Version::V2 {
            if let Some((_, origin)) = explicit_version {
                self.warn(origin, format!("{what}: VRRP version 2 is IPv4 only, so this IPv6 instance runs version 3, as keepalived does"));
            }
            instance.version = Version::V3;
        }
        if let Some((interval, origin)) = said.advert {
            instance.advert_interval = interval;
            if interval < FAST_MODE_BELOW {
                if instance.version == Version::V2 {
                    instance.version = Version::V3;
                }
                let realtime = if self.config.global.realtime.enabled {
                    ""
                } else {
                    "; `vrrp_rt_priority 50` in global_defs gives it the realtime scheduling it wants"
                };
                self.warn(origin, format!("{what}: advert_int {} is below keepalived's minimum of 0.01: it selects vipd's fast mode (VRRP version 3, vipd peers only){realtime}", statement_text(interval)));
            } else if instance.version == Version::V2 && interval.subsec_nanos() != 0 {
                let rounded = Duration::from_secs(interval.as_secs_f64().round().max(1.0) as u64);
                self.warn(origin, format!("{what}: VRRP version 2 carries whole seconds, so advert_int {} is rounded to {}, as keepalived does (set `version 3` for fractions)", statement_text(interval), duration_text(rounded)));
                instance.advert_interval = rounded;
            }
        } else {
            instance.advert_interval = Instance::DEFAULT_ADVERT_INTERVAL;
        }

        if let Some((password, origin)) = said.auth {
            if instance.version == Version::V3 {
                self.warn(origin, format!("{what}: authentication does not exist in VRRP version 3: ignored, as keepalived does"));
            } else {
                instance.auth = Auth::Pass(password);
            }
        }

        instance.accept_mode = said.accept.unwrap_or(!self.defaults.strict);
        true
    }

    /// `authentication { auth_type PASS auth_pass SECRET }`: the password, truncated to 8 bytes
    /// as keepalived does.
    fn authentication(&mut self, block: &[Statement]) -> Option<(String, Origin)> {
        let mut kind = None;
        let mut password = None;
        for s in self.statements(block, authentication_arity, "authentication", true) {
            let Some(value) = self.value(&s) else {
                continue;
            };
            if s.name() == "auth_type" {
                kind = Some(value.clone());
            } else {
                password = Some(value.clone());
            }
        }
        let kind = kind?;
        match kind.text.as_str() {
            "PASS" => {}
            "AH" => {
                self.error(kind.origin, "auth_type AH is not supported by vipd (RFC 3768 removed it): use PASS, or no authentication");
                return None;
            }
            other => {
                self.error(
                    kind.origin,
                    format!("`{other}` is not an auth_type: expected PASS or AH"),
                );
                return None;
            }
        }
        let Some(password) = password else {
            self.error(kind.origin, "auth_type PASS needs `auth_pass SECRET`");
            return None;
        };
        let mut text = password.text.clone();
        if text.len() > MAX_PASSWORD_LEN {
            let mut cut = MAX_PASSWORD_LEN;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut);
            self.warn(password.origin, format!("auth_pass is longer than {MAX_PASSWORD_LEN} bytes: only `{text}` is used, as keepalived does"));
        }
        if text.is_empty() {
            self.error(password.origin, "auth_pass is empty");
            return None;
        }
        Some((text, password.origin))
    }

    /// The entries of virtual_ipaddress: `ADDRESS[/PREFIX] [dev IF] [label LABEL] [brd ADDR]
    /// [scope SCOPE] ...`, several to a line when written on one.
    fn vips(&mut self, block: &[Statement]) -> Vec<(Vip, Origin)> {
        let mut vips = Vec::new();
        for line in block {
            self.no_block(line);
            let words: Vec<&Word> = line.words().collect();
            let mut i = 0;
            while i < words.len() {
                let word = words[i];
                i += 1;
                let Some(address) = values::address_with_prefix(&word.text) else {
                    self.error(word.origin, format!("`{}` is not an address: expected ADDRESS[/PREFIX] [dev IF] [label LABEL] [brd ADDRESS]", word.text));
                    break;
                };
                let mut vip = Vip {
                    address,
                    device: None,
                    label: None,
                    broadcast: None,
                };
                while let Some(option) = words.get(i) {
                    let Some(&(_, takes_value)) =
                        VIP_OPTIONS.iter().find(|(k, _)| *k == option.text)
                    else {
                        break;
                    };
                    i += 1;
                    let value = if takes_value {
                        let Some(value) = words.get(i) else {
                            self.error(option.origin, format!("`{}` needs a value", option.text));
                            break;
                        };
                        i += 1;
                        Some(*value)
                    } else {
                        None
                    };
                    match (option.text.as_str(), value) {
                        ("dev", Some(v)) => vip.device = Some(v.text.clone()),
                        ("label", Some(v)) => vip.label = Some(v.text.clone()),
                        ("brd" | "broadcast", Some(v)) => match v.text.parse() {
                            Ok(address) => vip.broadcast = Some(address),
                            Err(_) => self.error(
                                v.origin,
                                format!("`{}` is not an IPv4 broadcast address", v.text),
                            ),
                        },
                        ("scope", _) => self.warn(
                            option.origin,
                            "`scope` is ignored: vipd adds VIPs with global scope",
                        ),
                        (other, _) => self.warn(
                            option.origin,
                            format!("`{other}` is ignored: vipd adds VIPs without this option"),
                        ),
                    }
                }
                if let Some(next) = words.get(i) {
                    if values::address_with_prefix(&next.text).is_none() {
                        self.error(next.origin, format!("unexpected `{}` (expected dev, label, brd, scope or another address)", next.text));
                        break;
                    }
                }
                vips.push((vip, word.origin));
            }
        }
        vips
    }

    fn unicast_peers(&mut self, block: &[Statement]) -> Vec<(IpAddr, Origin)> {
        let mut peers = Vec::new();
        for line in block {
            self.no_block(line);
            let words: Vec<&Word> = line.words().collect();
            let mut i = 0;
            while i < words.len() {
                let word = words[i];
                i += 1;
                match word.text.as_str() {
                    "min_ttl" | "max_ttl" => {
                        self.warn(word.origin, format!("`{}` is ignored: vipd checks TTL 255 unless unicast_ttl_check is off", word.text));
                        i += 1;
                    }
                    text => match text.parse::<IpAddr>() {
                        Ok(peer) => peers.push((peer, word.origin)),
                        Err(_) => {
                            self.error(word.origin, format!("`{text}` is not an IP address: unicast_peer lists peer addresses"));
                            break;
                        }
                    },
                }
            }
        }
        peers
    }

    /// Entries `NAME [weight N [reverse]]` of track_interface, track_script and track_file.
    fn tracked(&mut self, block: &[Statement]) -> Vec<(String, Option<Weight>, Origin)> {
        let mut entries = Vec::new();
        for line in block {
            self.no_block(line);
            let words: Vec<Word> = line.words().cloned().collect();
            let mut i = 0;
            while i < words.len() {
                let name = &words[i];
                i += 1;
                let mut weight = None;
                if words.get(i).is_some_and(|w| w.text == "weight") {
                    let keyword = &words[i];
                    let end = (i
                        + 2
                        + usize::from(words.get(i + 2).is_some_and(|w| w.text == "reverse")))
                    .min(words.len());
                    weight = self.weight_with_reverse(keyword, &words[i + 1..end]);
                    i = end;
                }
                entries.push((name.text.clone(), weight, name.origin));
            }
        }
        entries
    }

    fn no_block(&mut self, statement: &Statement) {
        if statement.block.is_some() {
            self.error(
                statement.keyword.origin,
                format!("unexpected block after `{}`", statement.name()),
            );
        }
    }
}

/// keepalived's way of writing an interval: decimal seconds.
fn statement_text(interval: Duration) -> String {
    let text = format!("{:.9}", interval.as_secs_f64());
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}
