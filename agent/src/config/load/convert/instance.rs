//! `[[instance]]` and `[[sync_group]]`.

use crate::family::IpFamily;
use std::path::PathBuf;
use std::time::Duration;

use toml::Spanned;

use super::Converter;
use crate::config::auth_key;
use crate::config::diagnostic::{FieldPath, Item};
use crate::config::load::schema::{
    RawAntiReplay, RawAuthHmac, RawAuthMode, RawAuthType, RawInstance, RawSyncGroup, RawTrackBfd,
    RawTrackFile, RawV3Checksum,
};
use crate::config::load::values::{Entry, TrackCheckEntry, TrackInterfaceEntry, VipEntry};
use crate::config::model::{
    Auth, AuthHmac, Garp, Instance, Priority, SyncGroup, TrackedBfd, TrackedCheck, TrackedFile,
    TrackedInterface, V3Checksum, Version, Vip, Vrid, Weight, MAX_PASSWORD_LEN,
};
use crate::vrrp::auth_hmac::{AntiReplay, Mode};

impl Converter<'_> {
    /// Returns `None` when a value is unusable (its error is recorded).
    pub(super) fn instance(&mut self, item: Item, raw: Spanned<RawInstance>) -> Option<Instance> {
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
            None => Some(Instance::DEFAULT_VERSION),
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
        let echo_interval = raw
            .echo_interval
            .as_ref()
            .map(|raw| self.duration(item, "echo_interval", Some(raw), Duration::ZERO));
        let echo_timeout = raw
            .echo_timeout
            .as_ref()
            .map(|raw| self.duration(item, "echo_timeout", Some(raw), Duration::ZERO));

        let vips = self.vips(item, "vips", raw.vips);
        let excluded_vips = self.vips(item, "excluded_vips", raw.excluded_vips);
        // Validation reports VIPs of another family (and an empty list) at the VIP itself.
        let family = vips
            .first()
            .map(Vip::family)
            .or_else(|| {
                raw.unicast_source
                    .as_ref()
                    .map(|s| IpFamily::of(s.get_ref().0))
            })
            .unwrap_or(IpFamily::V4);

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

        let auth_type = raw.auth_type.map(|t| {
            let start = t.span().start;
            (start, self.at(item, "auth_type", t))
        });
        let auth = match raw.auth_password {
            None => {
                if let Some((start, _)) = auth_type {
                    self.error(
                        start,
                        "auth_type needs `auth_password`: set the password, or remove auth_type"
                            .to_string(),
                    );
                }
                Auth::None
            }
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
                match auth_type {
                    Some((_, RawAuthType::Ah)) => Auth::Ah(password),
                    Some((_, RawAuthType::Pass)) | None => Auth::Pass(password),
                }
            }
        };

        let auth_hmac = raw.auth_hmac.map(|block| self.auth_hmac(item, block));

        let track_interfaces = self.track_interfaces(item, raw.track_interfaces);
        let track_files = self.track_files(item, raw.track_files);
        let track_checks = self.track_checks(item, raw.track_checks);
        let track_bfd = self.track_bfd(item, raw.track_bfd);
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
            echo_interval,
            echo_timeout,
            version: version?,
            family,
            vips,
            excluded_vips,
            unicast_source,
            unicast_peers,
            unicast_ttl_check: self.flag(
                item,
                "unicast_ttl_check",
                raw.unicast_ttl_check,
                Instance::DEFAULT_UNICAST_TTL_CHECK,
            ),
            auth,
            auth_hmac,
            preempt: self.flag(item, "preempt", raw.preempt, Instance::DEFAULT_PREEMPT),
            preempt_delay,
            accept_mode: self.flag(
                item,
                "accept_mode",
                raw.accept_mode,
                Instance::DEFAULT_ACCEPT_MODE,
            ),
            use_vmac: self.flag(item, "use_vmac", raw.use_vmac, Instance::DEFAULT_USE_VMAC),
            vmac_interface: raw
                .vmac_interface
                .map(|v| self.at(item, "vmac_interface", v)),
            v3_checksum: raw.v3_checksum.map_or(Instance::DEFAULT_V3_CHECKSUM, |v| {
                match self.at(item, "v3_checksum", v) {
                    RawV3Checksum::WithPseudoHeader => V3Checksum::WithPseudoHeader,
                    RawV3Checksum::MessageOnly => V3Checksum::MessageOnly,
                }
            }),
            garp,
            track_interfaces,
            track_files,
            track_checks,
            track_bfd,
            notify,
        };
        (self.errors.len() == errors_before).then_some(instance)
    }

    /// `[instance.auth_hmac]`. Ids are range-checked here; lengths, duplicates, the active
    /// key and the window are the validator's, as for an imported keepalived.conf.
    fn auth_hmac(&mut self, item: Item, raw: Spanned<RawAuthHmac>) -> AuthHmac {
        let raw = self.at(item, "auth_hmac", raw);
        let mut keys = Vec::new();
        for entry in raw.keys.into_inner() {
            let entry = entry.into_inner();
            let Some(id) = self.ranged(&entry.id, 1..=255, "auth_hmac key id", "a key id") else {
                continue;
            };
            let start = entry.key.span().start;
            match auth_key::parse(id as u8, entry.key.get_ref()) {
                Ok(key) => keys.push(key),
                Err(message) => self.error(start, message),
            }
        }
        let active_key = self
            .ranged(&raw.active_key, 1..=255, "auth_hmac active_key", "a key id")
            .unwrap_or(0) as u8;
        let time_window = raw.time_window.and_then(|w| {
            self.ranged(&w, 1..=300, "auth_hmac time_window", "seconds")
                .map(|w| w as u32)
        });
        AuthHmac {
            keys,
            active_key,
            mode: match raw.mode.map(Spanned::into_inner) {
                None | Some(RawAuthMode::Enforce) => Mode::Enforce,
                Some(RawAuthMode::Permissive) => Mode::Permissive,
                Some(RawAuthMode::ReceiveOnly) => Mode::ReceiveOnly,
            },
            anti_replay: match raw.anti_replay.map(Spanned::into_inner) {
                None | Some(RawAntiReplay::Time) => AntiReplay::Time,
                Some(RawAntiReplay::Monotonic) => AntiReplay::Monotonic,
            },
            time_window,
        }
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
        raw: Option<Vec<Spanned<Entry<TrackInterfaceEntry>>>>,
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
        raw: Option<Vec<Spanned<RawTrackFile>>>,
    ) -> Vec<TrackedFile> {
        let mut tracked = Vec::new();
        for (i, entry) in raw.unwrap_or_default().into_iter().enumerate() {
            let start = entry.span().start;
            let entry = self.element(item, "track_files", i, entry);
            if let Some(weight) = self.weight_at(start, entry.weight, TrackedFile::DEFAULT_WEIGHT) {
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
        raw: Option<Vec<Spanned<Entry<TrackCheckEntry>>>>,
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

    fn track_bfd(&mut self, item: Item, raw: Option<Vec<Spanned<RawTrackBfd>>>) -> Vec<TrackedBfd> {
        let mut tracked = Vec::new();
        for (i, entry) in raw.unwrap_or_default().into_iter().enumerate() {
            let start = entry.span().start;
            let entry = self.element(item, "track_bfd", i, entry);
            let weight = match entry.weight {
                None => None,
                Some(weight) => match self.weight_at(start, Some(weight), Weight::FAULT) {
                    Some(weight) => Some(weight),
                    None => continue,
                },
            };
            tracked.push(TrackedBfd {
                name: entry.name,
                weight,
                reverse: entry.reverse,
            });
        }
        tracked
    }

    pub(super) fn sync_group(&mut self, item: Item, raw: Spanned<RawSyncGroup>) -> SyncGroup {
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
}
