//! `vrrp_instance` blocks as vipd instances, with keepalived's defaults: VRRP version 2 unless
//! global_defs says otherwise, priority 100 (255 for `state MASTER` without a priority), GARP
//! settings from global_defs, accept mode on unless `vrrp_strict` (or the instance's
//! `strict_mode`).
//!
//! keepalived refuses intervals below 10 ms; vipd runs them as its fast mode (VRRP version 3
//! only), so `advert_int 0.001` gives a keepalived user vipd's fast detection by changing one
//! number. VRRPv2 cannot carry fractions of a second, so keepalived rounds them and so does this.

use crate::family::IpFamily;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::Importer;
use crate::config::diagnostic::{FieldPath, Item};
use crate::config::keepalived::source::Origin;
use crate::config::keepalived::syntax::{arity_in, Arity, Statement, Word};
use crate::config::model::{
    duration_text, Auth, Instance, NotifyCommands, Priority, TrackedCheck, TrackedFile,
    TrackedInterface, Version, Vip, Vrid, Weight, FAST_MODE_BELOW,
};
use crate::vrrp::auth_hmac::Mode;

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
        "skip_check_adv_addr",
        "vipd always compares an advert's addresses with its own, counts a mismatch (owner_address_list_mismatch) and accepts the advert",
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
        "vipd answers a lower-priority claim with an advert at once, as keepalived does by default",
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
        "vipd answers a lower-priority claim with garp_master_repeat GARPs and a second burst after garp_master_delay",
    ),
    (
        "garp_lower_prio_repeat",
        "vipd answers a lower-priority claim with garp_master_repeat GARPs and a second burst after garp_master_delay",
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
    ("virtual_routes", "vipd does not manage routes"),
    ("virtual_rules", "vipd does not manage routing rules"),
];

/// The keywords of this block and how many values each takes.
pub(super) const KEYWORDS: &[(&str, Arity)] = &[
    ("state", Arity::Fixed(1)),
    ("interface", Arity::Fixed(1)),
    ("virtual_router_id", Arity::Fixed(1)),
    ("priority", Arity::Fixed(1)),
    ("advert_int", Arity::Fixed(1)),
    ("version", Arity::Fixed(1)),
    ("preempt_delay", Arity::Fixed(1)),
    ("unicast_src_ip", Arity::Fixed(1)),
    ("mcast_src_ip", Arity::Fixed(1)),
    ("garp_master_delay", Arity::Fixed(1)),
    ("garp_master_repeat", Arity::Fixed(1)),
    ("garp_master_refresh", Arity::Fixed(1)),
    ("garp_master_refresh_repeat", Arity::Fixed(1)),
    ("garp_lower_prio_delay", Arity::Fixed(1)),
    ("garp_lower_prio_repeat", Arity::Fixed(1)),
    ("unicast_ttl", Arity::Fixed(1)),
    ("debug", Arity::Fixed(1)),
    ("kernel_rx_buf_size", Arity::Fixed(1)),
    ("down_timer_adverts", Arity::Fixed(1)),
    ("lvs_sync_daemon_interface", Arity::Fixed(1)),
    ("nopreempt", Arity::Fixed(0)),
    ("preempt", Arity::Fixed(0)),
    ("accept", Arity::Fixed(0)),
    ("no_accept", Arity::Fixed(0)),
    ("dont_track_primary", Arity::Fixed(0)),
    ("vmac_xmit_base", Arity::Fixed(0)),
    ("native_ipv6", Arity::Fixed(0)),
    ("promote_secondaries", Arity::Fixed(0)),
    ("check_unicast_src", Arity::Fixed(0)),
    ("track_src_ip", Arity::Fixed(0)),
    ("use_vmac_addr", Arity::Fixed(0)),
    ("linkbeat_use_polling", Arity::Fixed(0)),
    ("authentication", Arity::Fixed(0)),
    ("auth_hmac", Arity::Fixed(0)),
    ("virtual_ipaddress", Arity::Fixed(0)),
    ("virtual_ipaddress_excluded", Arity::Fixed(0)),
    ("unicast_peer", Arity::Fixed(0)),
    ("track_interface", Arity::Fixed(0)),
    ("track_script", Arity::Fixed(0)),
    ("track_file", Arity::Fixed(0)),
    ("track_process", Arity::Fixed(0)),
    ("track_bfd", Arity::Fixed(0)),
    ("virtual_routes", Arity::Fixed(0)),
    ("virtual_rules", Arity::Fixed(0)),
    ("use_vmac", Arity::Optional),
    ("strict_mode", Arity::Optional),
    ("skip_check_adv_addr", Arity::Optional),
    ("old_unicast_checksum", Arity::Optional),
    ("notify_priority_changes", Arity::Optional),
    ("smtp_alert", Arity::Optional),
    ("lower_prio_no_advert", Arity::Optional),
    ("higher_prio_send_advert", Arity::Optional),
    ("notify", Arity::Rest),
    ("notify_master", Arity::Rest),
    ("notify_backup", Arity::Rest),
    ("notify_fault", Arity::Rest),
    ("notify_stop", Arity::Rest),
    ("notify_deleted", Arity::Rest),
    ("notify_master_rx_lower_pri", Arity::Rest),
    ("use_ipvlan", Arity::Rest),
    ("garp_extra_if", Arity::Rest),
    ("vmac_garp_intvl", Arity::Rest),
];

fn arity(keyword: &str) -> Option<Arity> {
    arity_in(KEYWORDS, keyword)
}

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
    /// `strict_mode`: this instance's own `vrrp_strict`.
    strict: Option<bool>,
    auth: Option<(Auth, Origin)>,
    auth_hmac: Option<Origin>,
}

/// An instance being read: the model so far, what was said, and where each value came from
/// (recorded only if the instance is kept).
struct Draft {
    item: Item,
    instance: Instance,
    said: Said,
    places: Vec<(FieldPath, Origin)>,
}

impl Draft {
    fn at(&mut self, key: &'static str, origin: Origin) {
        self.places.push((FieldPath::key(self.item, key), origin));
    }

    fn element(&mut self, key: &'static str, index: usize, origin: Origin) {
        self.places
            .push((FieldPath::element(self.item, key, index), origin));
    }

    /// Where this instance already has `vip`'s address, by keepalived's rule
    /// (`vip_is_duplicate`, keepalived 2.3.3): a second VIP of an address is a duplicate
    /// whatever its interface, an excluded VIP only on the same interface as the other.
    fn same_vip(&self, vip: &Vip, excluded: bool) -> Option<Origin> {
        let lists = [
            ("vips", &self.instance.vips),
            ("excluded_vips", &self.instance.excluded_vips),
        ];
        lists.into_iter().find_map(|(key, list)| {
            let same_device_needed = excluded || key == "excluded_vips";
            let index = list.iter().position(|other| {
                other.address.addr() == vip.address.addr()
                    && (!same_device_needed || other.device == vip.device)
            })?;
            let path = FieldPath::element(self.item, key, index);
            self.places
                .iter()
                .find(|(p, _)| *p == path)
                .map(|(_, origin)| *origin)
        })
    }
}

/// The keywords whose statements carry a block.
pub(super) const WITH_BLOCK: &[&str] = &[
    "authentication",
    "auth_hmac",
    "virtual_ipaddress",
    "virtual_ipaddress_excluded",
    "unicast_peer",
    "track_interface",
    "track_script",
    "track_file",
    "track_bfd",
];

impl Importer<'_> {
    pub(super) fn vrrp_instance(&mut self, statement: &Statement) {
        let Some((name, block)) = self.named_block(statement) else {
            return;
        };
        let mut draft = Draft {
            item: Item::Instance(self.config.instances.len()),
            instance: self.instance_defaults(&name.text),
            said: Said::default(),
            places: Vec::new(),
        };
        let context = format!("vrrp_instance {}", name.text);
        for s in self.statements(block, arity, &context, true) {
            let keyword = s.name();
            if let Some((_, why)) = IGNORED.iter().find(|(k, _)| *k == keyword) {
                self.warn(s.keyword.origin, format!("`{keyword}` is ignored: {why}"));
            } else if s.block.is_some() && !WITH_BLOCK.contains(&keyword) {
                self.error(s.keyword.origin, format!("`{keyword}` takes no block"));
            } else {
                self.instance_statement(&mut draft, &s);
            }
        }
        let Draft {
            item,
            mut instance,
            said,
            places,
        } = draft;
        if self.complete(&mut instance, said, statement, name) {
            self.item_at(item, statement, name);
            for (path, origin) in places {
                self.record(path, origin);
            }
            self.config.instances.push(instance);
        }
    }

    /// An instance with keepalived's defaults, before its block is read.
    fn instance_defaults(&self, name: &str) -> Instance {
        Instance {
            name: name.to_string(),
            interface: String::new(),
            vrid: Vrid::new(1).expect("1 is a VRID"),
            priority: Priority::DEFAULT,
            advert_interval: Instance::DEFAULT_ADVERT_INTERVAL,
            // keepalived has no liveness echo: vipd's defaults.
            echo_interval: None,
            echo_timeout: None,
            version: Version::V2,
            family: IpFamily::V4,
            vips: Vec::new(),
            excluded_vips: Vec::new(),
            unicast_source: None,
            unicast_peers: Vec::new(),
            unicast_ttl_check: Instance::DEFAULT_UNICAST_TTL_CHECK,
            auth: Auth::None,
            auth_hmac: None,
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
            track_bfd: Vec::new(),
            notify: NotifyCommands::default(),
        }
    }

    fn instance_statement(&mut self, d: &mut Draft, s: &Statement) {
        match s.name() {
            "state" | "interface" | "virtual_router_id" | "priority" | "advert_int" | "version" => {
                self.identity(d, s)
            }
            "nopreempt" | "preempt" | "preempt_delay" | "accept" | "no_accept" | "use_vmac"
            | "unicast_src_ip" | "mcast_src_ip" | "dont_track_primary" => self.behaviour(d, s),
            "garp_master_delay"
            | "garp_master_repeat"
            | "garp_master_refresh"
            | "garp_master_refresh_repeat" => self.instance_garp(d, s),
            "strict_mode" => self.strict_mode(d, s),
            "authentication" => {
                if let Some(block) = self.block_of(s) {
                    d.said.auth = self.authentication(block);
                    if let Some((_, origin)) = d.said.auth {
                        d.at("auth_password", origin);
                    }
                }
            }
            "auth_hmac" => {
                if let Some(block) = self.block_of(s) {
                    d.instance.auth_hmac = Some(self.auth_hmac(block));
                    d.said.auth_hmac = Some(s.keyword.origin);
                    d.at("auth_hmac", s.keyword.origin);
                }
            }
            "virtual_ipaddress" | "virtual_ipaddress_excluded" | "unicast_peer" => {
                self.addresses(d, s)
            }
            "track_interface" | "track_script" | "track_file" => self.tracking(d, s),
            "track_bfd" => {
                let Some(block) = self.block_of(s) else {
                    return;
                };
                d.at("track_bfd", s.keyword.origin);
                for (tracked, name) in self.track_bfd_block(block) {
                    d.element("track_bfd", d.instance.track_bfd.len(), name.origin);
                    d.instance.track_bfd.push(tracked);
                }
            }
            "notify" | "notify_master" | "notify_backup" | "notify_fault" | "notify_stop" => {
                self.instance_notify(d, s)
            }
            _ => unreachable!("arity() lists only the keywords handled here or in IGNORED"),
        }
    }

    /// What the virtual router is: state, interface, VRID, priority, interval, version.
    fn identity(&mut self, d: &mut Draft, s: &Statement) {
        let Some(value) = self.value(s) else {
            return;
        };
        match s.name() {
            "state" => match value.text.as_str() {
                "MASTER" => d.said.master = Some(value.origin),
                "BACKUP" => d.said.master = None,
                other => self.error(
                    value.origin,
                    format!("`{other}` is not a state: expected MASTER or BACKUP"),
                ),
            },
            "interface" => {
                d.at("interface", value.origin);
                d.said.interface = Some(value.text.clone());
            }
            "virtual_router_id" => {
                let vrid = self.integer::<u8>(value, 1..=255, "virtual_router_id");
                if let Some(vrid) = vrid.and_then(Vrid::new) {
                    d.at("vrid", value.origin);
                    d.said.vrid = Some(vrid);
                }
            }
            "priority" => {
                let priority = self.integer::<u8>(value, 1..=255, "priority");
                if let Some(priority) = priority.and_then(Priority::new) {
                    d.at("priority", value.origin);
                    d.said.priority = Some(priority);
                }
            }
            "advert_int" => match self.seconds(value, "advert_int") {
                Some(interval) if interval.is_zero() => self.error(
                    value.origin,
                    "advert_int 0 is not valid: give a positive interval",
                ),
                Some(interval) => {
                    d.at("advert_interval", value.origin);
                    d.said.advert = Some((interval, value.origin));
                }
                None => {}
            },
            _ => {
                if let Some(version) = self.version(value) {
                    d.at("version", value.origin);
                    d.said.version = Some((version, value.origin));
                }
            }
        }
    }

    /// `strict_mode [on|off]`: `vrrp_strict` for this instance alone, either way. As keepalived
    /// does, a value other than true/false, on/off or yes/no is reported and ignored.
    fn strict_mode(&mut self, d: &mut Draft, s: &Statement) {
        let on = match s.args.first().map(|w| w.text.to_ascii_lowercase()) {
            None => true,
            Some(word) => match word.as_str() {
                "true" | "on" | "yes" => true,
                "false" | "off" | "no" => false,
                _ => {
                    self.warn(
                        s.keyword.origin,
                        format!("invalid strict_mode `{word}` (expected on or off): ignored, as keepalived does"),
                    );
                    return;
                }
            },
        };
        d.said.strict = Some(on);
        if on {
            self.warn(
                s.keyword.origin,
                "`strict_mode`: accept mode is turned off as keepalived does (unless the instance says `accept`); keepalived's other strict checks are not applied",
            );
        }
    }

    /// How the virtual router behaves: preemption, accept mode, vmac, advert source.
    fn behaviour(&mut self, d: &mut Draft, s: &Statement) {
        let origin = s.keyword.origin;
        match s.name() {
            "nopreempt" => {
                d.at("preempt", origin);
                d.said.nopreempt = Some(origin);
                d.instance.preempt = false;
            }
            "preempt" => {
                d.at("preempt", origin);
                d.said.nopreempt = None;
                d.instance.preempt = true;
            }
            "preempt_delay" => {
                let Some(value) = self.value(s) else {
                    return;
                };
                if let Some(delay) = self.seconds(value, "preempt_delay") {
                    d.at("preempt_delay", value.origin);
                    d.instance.preempt_delay = delay;
                }
            }
            "accept" | "no_accept" => {
                d.at("accept_mode", origin);
                d.said.accept = Some(s.name() == "accept");
            }
            "use_vmac" => {
                d.at("use_vmac", origin);
                d.instance.use_vmac = true;
                if let Some(vmac) = s.args.first() {
                    d.at("vmac_interface", vmac.origin);
                    d.instance.vmac_interface = Some(vmac.text.clone());
                }
            }
            "dont_track_primary" => self.warn(
                origin,
                "`dont_track_primary` is ignored: vipd always follows the link state of the instance's interface",
            ),
            _ => {
                let Some(value) = self.value(s) else {
                    return;
                };
                match value.text.parse::<IpAddr>() {
                    Ok(address) => {
                        d.at("unicast_source", value.origin);
                        d.instance.unicast_source = Some(address);
                    }
                    Err(_) => self.error(
                        value.origin,
                        format!("`{}` is not an IP address", value.text),
                    ),
                }
            }
        }
    }

    fn instance_garp(&mut self, d: &mut Draft, s: &Statement) {
        let garp = &mut d.instance.garp;
        match s.name() {
            "garp_master_delay" => {
                if let Some(delay) = self.garp_seconds(s) {
                    garp.master_delay = delay;
                }
            }
            "garp_master_repeat" => {
                if let Some(repeat) = self.garp_count(s) {
                    garp.master_repeat = repeat;
                }
            }
            "garp_master_refresh" => {
                if let Some(refresh) = self.garp_seconds(s) {
                    garp.master_refresh = (!refresh.is_zero()).then_some(refresh);
                }
            }
            _ => {
                if let Some(repeat) = self.garp_count(s) {
                    garp.master_refresh_repeat = repeat;
                }
            }
        }
    }

    /// virtual_ipaddress, virtual_ipaddress_excluded and unicast_peer.
    fn addresses(&mut self, d: &mut Draft, s: &Statement) {
        let Some(block) = self.block_of(s) else {
            return;
        };
        let key = match s.name() {
            "virtual_ipaddress" => "vips",
            "virtual_ipaddress_excluded" => "excluded_vips",
            _ => "unicast_peers",
        };
        d.at(key, s.keyword.origin);
        if key == "unicast_peers" {
            for (peer, origin) in self.unicast_peers(block) {
                d.element(key, d.instance.unicast_peers.len(), origin);
                d.instance.unicast_peers.push(peer);
            }
            return;
        }
        let excluded = key == "excluded_vips";
        for (vip, origin) in self.vips(block) {
            if let Some(first) = d.same_vip(&vip, excluded) {
                let at = self.sources.location(first);
                self.warn(
                    origin,
                    format!(
                        "VIP {} is already in this instance ({}:{}): ignored, as keepalived 2.3.3 and later ignore it",
                        vip.address.addr(),
                        at.file.display(),
                        at.position.line
                    ),
                );
                continue;
            }
            let list = if excluded {
                &mut d.instance.excluded_vips
            } else {
                &mut d.instance.vips
            };
            let index = list.len();
            list.push(vip);
            d.element(key, index, origin);
        }
    }

    /// track_interface, track_script and track_file. Names that are not defined are left out
    /// with a warning, as keepalived does; scripts that check nothing are left out quietly
    /// (their definition was warned about).
    fn tracking(&mut self, d: &mut Draft, s: &Statement) {
        let Some(block) = self.block_of(s) else {
            return;
        };
        let entries = self.tracked(block);
        match s.name() {
            "track_interface" => {
                d.at("track_interfaces", s.keyword.origin);
                for (name, weight, origin) in entries {
                    d.element(
                        "track_interfaces",
                        d.instance.track_interfaces.len(),
                        origin,
                    );
                    let weight = weight.unwrap_or(Weight::FAULT);
                    d.instance
                        .track_interfaces
                        .push(TrackedInterface { name, weight });
                }
            }
            "track_script" => {
                d.at("track_checks", s.keyword.origin);
                for (check, weight, origin) in entries {
                    if self.no_op_checks.contains(&check) {
                        continue;
                    }
                    if !self.config.checks.iter().any(|c| c.name == check) {
                        self.warn(
                            origin,
                            format!("track_script `{check}` is not a vrrp_script: ignored, as keepalived does"),
                        );
                        continue;
                    }
                    d.element("track_checks", d.instance.track_checks.len(), origin);
                    d.instance.track_checks.push(TrackedCheck { check, weight });
                }
            }
            _ => {
                d.at("track_files", s.keyword.origin);
                for (file, weight, origin) in entries {
                    let Some(definition) = self.track_files.get(&file) else {
                        self.warn(
                            origin,
                            format!("track_file `{file}` is not a vrrp_track_file: ignored, as keepalived does"),
                        );
                        continue;
                    };
                    let tracked = TrackedFile {
                        path: PathBuf::from(&definition.path),
                        weight: weight.unwrap_or(definition.weight),
                    };
                    d.element("track_files", d.instance.track_files.len(), origin);
                    d.instance.track_files.push(tracked);
                }
            }
        }
    }

    fn instance_notify(&mut self, d: &mut Draft, s: &Statement) {
        let Some(command) = self.notify_command(s) else {
            return;
        };
        let notify = &mut d.instance.notify;
        let (key, slot) = match s.name() {
            "notify" => ("notify", &mut notify.any),
            "notify_master" => ("notify_master", &mut notify.master),
            "notify_backup" => ("notify_backup", &mut notify.backup),
            "notify_fault" => ("notify_fault", &mut notify.fault),
            _ => ("notify_stop", &mut notify.stop),
        };
        *slot = Some(command);
        d.at(key, s.keyword.origin);
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
        instance.family = instance.vips.first().map_or(IpFamily::V4, Vip::family);

        instance.priority = match (said.priority, said.master) {
            (Some(priority), _) => priority,
            (None, Some(origin)) => {
                self.warn(
                    origin,
                    format!("{what}: `state MASTER` without `priority` means priority 255 (the address owner) in keepalived, and so here"),
                );
                Priority::OWNER
            }
            (None, None) => Priority::DEFAULT,
        };
        if let (Some(state), Some(_)) = (said.master, said.nopreempt) {
            self.warn(
                state,
                format!("{what}: keepalived starts an instance with `state MASTER` as MASTER despite `nopreempt`; vipd starts every instance as BACKUP and lets the election decide, so `nopreempt` holds from the start"),
            );
        }

        let explicit_version = said.version.or(self.defaults.version);
        instance.version = explicit_version.map_or(Version::V2, |(v, _)| v);
        if instance.family == IpFamily::V6 && instance.version == Version::V2 {
            if let Some((_, origin)) = explicit_version {
                self.warn(
                    origin,
                    format!("{what}: VRRP version 2 is IPv4 only, so this IPv6 instance runs version 3, as keepalived does"),
                );
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
                self.warn(
                    origin,
                    format!(
                        "{what}: advert_int {} is below keepalived's minimum of 0.01: it selects vipd's fast mode (VRRP version 3, vipd peers only){realtime}",
                        statement_text(interval),
                    ),
                );
            } else if instance.version == Version::V2 && interval.subsec_nanos() != 0 {
                let rounded = Duration::from_secs(interval.as_secs_f64().round().max(1.0) as u64);
                self.warn(
                    origin,
                    format!(
                        "{what}: VRRP version 2 carries whole seconds, so advert_int {} is rounded to {}, as keepalived does (set `version 3` for fractions)",
                        statement_text(interval), duration_text(rounded),
                    ),
                );
                instance.advert_interval = rounded;
            } else if instance.version == Version::V3
                && !interval
                    .as_nanos()
                    .is_multiple_of(FAST_MODE_BELOW.as_nanos())
            {
                let rounded = round_to_centiseconds(interval);
                self.warn(
                    origin,
                    format!(
                        "{what}: VRRP version 3 carries centiseconds, so advert_int {} is rounded to {}, as keepalived does",
                        statement_text(interval), duration_text(rounded),
                    ),
                );
                instance.advert_interval = rounded;
            }
        } else {
            instance.advert_interval = Instance::DEFAULT_ADVERT_INTERVAL;
        }

        if let (Some((_, origin)), Some(_)) = (&said.auth, said.auth_hmac) {
            self.warn(
                *origin,
                format!("{what}: auth_hmac replaces authentication: authentication dropped, as keepalived does"),
            );
        } else if let Some((auth, origin)) = said.auth {
            if instance.version == Version::V3 {
                self.warn(
                    origin,
                    format!("{what}: authentication does not exist in VRRP version 3: ignored, as keepalived does"),
                );
            } else {
                instance.auth = auth;
            }
        }

        let strict = said.strict.unwrap_or(self.defaults.strict);
        if let (Some(auth), Some(origin)) = (&mut instance.auth_hmac, said.auth_hmac) {
            if strict && auth.mode != Mode::Enforce {
                self.warn(
                    origin,
                    format!("{what}: vrrp_strict requires auth_hmac mode enforce: enforce used, as keepalived does"),
                );
                auth.mode = Mode::Enforce;
            }
        }
        instance.accept_mode = said.accept.unwrap_or(!strict);
        true
    }
}

/// keepalived's way of writing an interval: decimal seconds.
fn statement_text(interval: Duration) -> String {
    let text = format!("{:.9}", interval.as_secs_f64());
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The nearest whole number of centiseconds (VRRPv3's unit), at least one.
fn round_to_centiseconds(interval: Duration) -> Duration {
    let unit = FAST_MODE_BELOW.as_nanos();
    let centiseconds = ((interval.as_nanos() + unit / 2) / unit).max(1);
    Duration::from_millis(u64::try_from(centiseconds * 10).unwrap_or(u64::MAX))
}
