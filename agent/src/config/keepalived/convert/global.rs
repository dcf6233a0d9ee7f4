//! `global_defs`: the router id, the script user and security, the default VRRP version and
//! GARP settings that instances inherit, the notify FIFO and realtime priority. Email and the
//! many settings of keepalived's other subsystems are warned about and ignored; keepalived's
//! list of global keywords is long and grows, so an unknown one is a warning here, not an error.

use std::path::PathBuf;

use super::Importer;
use crate::config::keepalived::syntax::{arity_in, Arity, Statement};
use crate::config::model::{Version, REALTIME_PRIORITY_RANGE};

const EMAIL: &[&str] = &[
    "notification_email",
    "notification_email_from",
    "smtp_server",
    "smtp_helo_name",
    "smtp_connect_timeout",
    "smtp_alert",
    "smtp_alert_vrrp",
    "smtp_alert_checker",
    "email_faults",
];

pub(super) const SNMP: &[&str] = &[
    "enable_snmp_vrrp",
    "enable_snmp_keepalived",
    "enable_snmp_checker",
    "enable_snmp_rfc",
    "enable_snmp_rfcv2",
    "enable_snmp_rfcv3",
    "enable_traps",
    "snmp_socket",
];

/// Global settings that vipd does not have, with what it does instead.
pub(super) const DIFFERENT: &[(&str, &str)] = &[
    (
        "vrrp_mcast_group4",
        "vipd sends IPv4 adverts to the standard group 224.0.0.18; peers on another group will not hear it",
    ),
    (
        "vrrp_mcast_group6",
        "vipd sends IPv6 adverts to the standard group ff02::12; peers on another group will not hear it",
    ),
    ("vrrp_iptables", "vipd installs no firewall rules"),
    ("vrrp_ipsets", "vipd installs no firewall rules"),
    ("vrrp_nftables", "vipd installs no firewall rules"),
    ("vrrp_check_unicast_src", "vipd accepts unicast adverts from the configured peers only"),
    ("vrrp_skip_check_adv_addr", "vipd does not compare the addresses in adverts"),
    ("vrrp_garp_lower_prio_delay", "vipd answers a lower-priority claim with garp_master_repeat GARPs and a second burst after garp_master_delay"),
    ("vrrp_garp_lower_prio_repeat", "vipd answers a lower-priority claim with garp_master_repeat GARPs and a second burst after garp_master_delay"),
    ("vrrp_lower_prio_no_advert", "vipd answers a lower-priority claim with an advert at once, as keepalived does by default"),
    ("vrrp_higher_prio_send_advert", "vipd answers higher-priority adverts as RFC 9568 says"),
    ("vrrp_priority", "vipd's timing threads take vrrp_rt_priority (SCHED_FIFO), not a nice level"),
];

/// The keywords of this block and how many values each takes.
pub(super) const KEYWORDS: &[(&str, Arity)] = &[
    ("router_id", Arity::Fixed(1)),
    ("vrrp_version", Arity::Fixed(1)),
    ("vrrp_garp_master_delay", Arity::Fixed(1)),
    ("vrrp_garp_master_repeat", Arity::Fixed(1)),
    ("vrrp_garp_master_refresh", Arity::Fixed(1)),
    ("vrrp_garp_master_refresh_repeat", Arity::Fixed(1)),
    ("vrrp_garp_interval", Arity::Fixed(1)),
    ("vrrp_gna_interval", Arity::Fixed(1)),
    ("vrrp_rt_priority", Arity::Fixed(1)),
    ("notification_email_from", Arity::Fixed(1)),
    ("smtp_connect_timeout", Arity::Fixed(1)),
    ("smtp_helo_name", Arity::Fixed(1)),
    ("enable_script_security", Arity::Fixed(0)),
    ("vrrp_strict", Arity::Fixed(0)),
    ("notification_email", Arity::Fixed(0)),
    ("script_user", Arity::Rest),
    ("notify_fifo", Arity::Rest),
    ("vrrp_notify_fifo", Arity::Rest),
    ("smtp_server", Arity::Rest),
    ("smtp_alert", Arity::Optional),
    ("smtp_alert_vrrp", Arity::Optional),
    ("smtp_alert_checker", Arity::Optional),
    ("email_faults", Arity::Optional),
];

fn arity(keyword: &str) -> Option<Arity> {
    if SNMP.contains(&keyword) || DIFFERENT.iter().any(|(k, _)| *k == keyword) {
        return Some(Arity::Rest);
    }
    arity_in(KEYWORDS, keyword)
}

impl Importer<'_> {
    pub(super) fn global_defs(&mut self, block: &[Statement]) {
        for statement in self.statements(block, arity, "global_defs", false) {
            let name = statement.name();
            if EMAIL.contains(&name) {
                self.warn(
                    statement.keyword.origin,
                    format!("`{name}` is ignored: vipd sends no email; use notify commands or the notify FIFO"),
                );
                continue;
            }
            if let Some((_, why)) = DIFFERENT.iter().find(|(k, _)| *k == name) {
                self.warn(
                    statement.keyword.origin,
                    format!("`{name}` is ignored: {why}"),
                );
                continue;
            }
            if SNMP.contains(&name) {
                self.warn(
                    statement.keyword.origin,
                    format!("`{name}` is ignored: vipd has no SNMP agent; its state and counters are in `vipd status` and the Prometheus metrics"),
                );
                continue;
            }
            match name {
                "router_id" => {
                    let Some(value) = self.value(&statement) else {
                        continue;
                    };
                    self.config.global.router_id = Some(value.text.clone());
                }
                "script_user" => self.script_user(&statement),
                "enable_script_security" => self.config.global.script_security = true,
                "vrrp_version" => {
                    let Some(value) = self.value(&statement) else {
                        continue;
                    };
                    if let Some(version) = self.version(value) {
                        self.defaults.version = Some((version, value.origin));
                    }
                }
                "vrrp_garp_master_delay" => {
                    if let Some(delay) = self.garp_seconds(&statement) {
                        self.defaults.garp.master_delay = delay;
                    }
                }
                "vrrp_garp_master_repeat" => {
                    if let Some(repeat) = self.garp_count(&statement) {
                        self.defaults.garp.master_repeat = repeat;
                    }
                }
                "vrrp_garp_master_refresh" => {
                    if let Some(refresh) = self.garp_seconds(&statement) {
                        self.defaults.garp.master_refresh = (!refresh.is_zero()).then_some(refresh);
                    }
                }
                "vrrp_garp_master_refresh_repeat" => {
                    if let Some(repeat) = self.garp_count(&statement) {
                        self.defaults.garp.master_refresh_repeat = repeat;
                    }
                }
                "vrrp_garp_interval" => {
                    if let Some(interval) = self.garp_seconds(&statement) {
                        self.defaults.garp.arp_interval = interval;
                    }
                }
                "vrrp_gna_interval" => {
                    if let Some(interval) = self.garp_seconds(&statement) {
                        self.defaults.garp.na_interval = interval;
                    }
                }
                "vrrp_strict" => {
                    self.defaults.strict = true;
                    self.warn(
                        statement.keyword.origin,
                        "`vrrp_strict`: accept mode is turned off as keepalived does (instances with `accept` keep it); keepalived's other strict checks are not applied",
                    );
                }
                "notify_fifo" | "vrrp_notify_fifo" => {
                    let Some(path) = statement.args.first() else {
                        self.error(
                            statement.keyword.origin,
                            format!("`{name}` needs a file name"),
                        );
                        continue;
                    };
                    self.config.global.notify_fifo = Some(PathBuf::from(&path.text));
                    if let Some(extra) = statement.args.get(1) {
                        self.warn(
                            extra.origin,
                            "the FIFO's script (and its user) is not run: read the FIFO with a service of your own",
                        );
                    }
                }
                "vrrp_rt_priority" => {
                    let Some(value) = self.value(&statement) else {
                        continue;
                    };
                    let range = i64::from(*REALTIME_PRIORITY_RANGE.start())
                        ..=i64::from(*REALTIME_PRIORITY_RANGE.end());
                    if let Some(priority) = self.integer::<u8>(value, range, "realtime priority") {
                        self.config.global.realtime.enabled = true;
                        self.config.global.realtime.priority = priority;
                    }
                }
                _ => unreachable!("arity() lists only the keywords handled here"),
            }
        }
    }

    fn script_user(&mut self, statement: &Statement) {
        if let Some(run_as) = self.run_as(statement) {
            self.config.global.script_user = Some(run_as);
        }
    }

    pub(super) fn version(
        &mut self,
        word: &crate::config::keepalived::syntax::Word,
    ) -> Option<Version> {
        match word.text.as_str() {
            "2" => Some(Version::V2),
            "3" => Some(Version::V3),
            other => {
                self.error(
                    word.origin,
                    format!("`{other}` is not a VRRP version: expected 2 or 3"),
                );
                None
            }
        }
    }

    pub(super) fn garp_seconds(&mut self, statement: &Statement) -> Option<std::time::Duration> {
        let value = self.value(statement)?;
        self.seconds(value, statement.name())
    }

    pub(super) fn garp_count(&mut self, statement: &Statement) -> Option<u32> {
        let value = self.value(statement)?;
        self.integer(value, 0..=i64::from(u32::MAX), statement.name())
    }
}
