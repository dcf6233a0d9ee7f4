//! `bfd_instance` blocks as vipd's `[[bfd]]` sessions, and `track_bfd` in instances and sync
//! groups, with keepalived 2.4's semantics (keepalived/bfd/bfd_parser.c,
//! keepalived/vrrp/vrrp_track.c): intervals in milliseconds with up to three decimals,
//! defaults min_rx 10, min_tx 10, idle_tx 1000, multiplier 5, ttl 255 (IPv4) or hop limit 64
//! (IPv6), weight 0 (FAULT while down), `weight N reverse`.

use std::net::IpAddr;
use std::time::Duration;

use super::Importer;
use crate::config::diagnostic::{FieldPath, Item};
use crate::config::keepalived::syntax::{arity_in, Arity, Statement, Word};
use crate::config::keepalived::values;
use crate::config::model::{BfdSession, TrackedBfd, Weight};

/// keepalived's default hop limit for IPv6 sessions (`BFD_CONTROL_HOPLIMIT`). It breaks RFC
/// 5881's 255, but a keepalived peer sends it, so an imported session sends and expects it.
const KEEPALIVED_IPV6_HOPLIMIT: u8 = 64;

/// The keywords of this block and how many values each takes.
pub(super) const BFD_KEYWORDS: &[(&str, Arity)] = &[
    ("neighbor_ip", Arity::Fixed(1)),
    ("neighbour_ip", Arity::Fixed(1)),
    ("source_ip", Arity::Fixed(1)),
    ("min_rx", Arity::Fixed(1)),
    ("min_tx", Arity::Fixed(1)),
    ("idle_tx", Arity::Fixed(1)),
    ("multiplier", Arity::Fixed(1)),
    ("passive", Arity::Fixed(0)),
    ("ttl", Arity::Fixed(1)),
    ("hoplimit", Arity::Fixed(1)),
    ("max_hops", Arity::Fixed(1)),
    ("multihop", Arity::Rest),
    ("weight", Arity::Rest),
    ("vrrp", Arity::Fixed(0)),
    ("checker", Arity::Fixed(0)),
];

fn bfd_arity(keyword: &str) -> Option<Arity> {
    arity_in(BFD_KEYWORDS, keyword)
}

impl Importer<'_> {
    pub(super) fn bfd_instance(&mut self, statement: &Statement) {
        let Some((name, block)) = self.named_block(statement) else {
            return;
        };
        let item = Item::Bfd(self.config.bfd.len());
        let context = format!("bfd_instance {}", name.text);
        let mut neighbor = None;
        let mut source = None;
        let mut session = BfdSession {
            name: name.text.clone(),
            neighbor: IpAddr::from([0, 0, 0, 0]),
            source: None,
            interface: None,
            min_rx: BfdSession::DEFAULT_MIN_RX,
            min_tx: BfdSession::DEFAULT_MIN_TX,
            idle_tx: BfdSession::DEFAULT_IDLE_TX,
            multiplier: BfdSession::DEFAULT_MULTIPLIER,
            passive: false,
            ttl: 0,
            max_hops: 0,
            weight: Weight::FAULT,
            reverse: false,
        };
        self.record(FieldPath::item(item), statement.keyword.origin);
        for s in self.statements(block, bfd_arity, &context, true) {
            let key = match s.name() {
                "neighbor_ip" | "neighbour_ip" => {
                    neighbor = self.bfd_address(&s);
                    "neighbor"
                }
                "source_ip" => {
                    source = self.bfd_address(&s);
                    "source"
                }
                "min_rx" | "min_tx" | "idle_tx" => {
                    let low = if s.name() == "idle_tx" { 1000 } else { 1 };
                    let Some(value) = self.bfd_millis(&s, low) else {
                        continue;
                    };
                    match s.name() {
                        "min_rx" => {
                            session.min_rx = value;
                            "min_rx"
                        }
                        "min_tx" => {
                            session.min_tx = value;
                            "min_tx"
                        }
                        _ => {
                            session.idle_tx = value;
                            "idle_tx"
                        }
                    }
                }
                "multiplier" => {
                    let Some(value) = self.value(&s) else {
                        continue;
                    };
                    let Some(n) = self.integer(value, 1..=255, "multiplier") else {
                        continue;
                    };
                    session.multiplier = n;
                    "multiplier"
                }
                "passive" => {
                    session.passive = true;
                    "passive"
                }
                "ttl" | "hoplimit" => {
                    let Some(value) = self.value(&s) else {
                        continue;
                    };
                    let Some(n) = self.integer(value, 1..=255, "ttl") else {
                        continue;
                    };
                    session.ttl = n;
                    "ttl"
                }
                "max_hops" => {
                    let Some(value) = self.value(&s) else {
                        continue;
                    };
                    // keepalived takes -1 as "any"; vipd's widest is the whole TTL.
                    let Some(n) = self.integer::<i16>(value, -1..=255, "max_hops") else {
                        continue;
                    };
                    session.max_hops = if n < 0 { 255 } else { n as u8 };
                    "max_hops"
                }
                "weight" => {
                    let Some((weight, reverse)) = self.bfd_weight(&s.keyword, &s.args) else {
                        continue;
                    };
                    session.weight = weight;
                    session.reverse = reverse.unwrap_or(false);
                    "weight"
                }
                "multihop" => {
                    self.warn(
                        s.keyword.origin,
                        format!("`multihop` in {context} is not run: vipd's BFD is single hop (RFC 5881); the session runs single hop"),
                    );
                    continue;
                }
                // Which keepalived process hears the session: vipd has one.
                _ => continue,
            };
            self.record(FieldPath::key(item, key), s.keyword.origin);
        }
        let Some(neighbor) = neighbor else {
            self.error(
                statement.keyword.origin,
                format!("{context} has no `neighbor_ip`: add `neighbor_ip ADDRESS`"),
            );
            return;
        };
        session.neighbor = neighbor;
        session.source = source;
        if session.ttl == 0 {
            session.ttl = match neighbor {
                IpAddr::V4(_) => BfdSession::DEFAULT_TTL,
                IpAddr::V6(_) => KEEPALIVED_IPV6_HOPLIMIT,
            };
        }
        session.max_hops = session.max_hops.min(session.ttl);
        self.config.bfd.push(session);
    }

    fn bfd_address(&mut self, s: &Statement) -> Option<IpAddr> {
        let value = self.value(s)?;
        match value.text.parse::<IpAddr>() {
            Ok(address) => Some(address),
            Err(_) => {
                self.error(
                    value.origin,
                    format!("`{}` is not an IP address", value.text),
                );
                None
            }
        }
    }

    /// keepalived's BFD intervals: milliseconds, up to three decimals, at least `low`.
    fn bfd_millis(&mut self, s: &Statement, low: u64) -> Option<Duration> {
        let value = self.value(s)?;
        let parsed = values::seconds(&value.text)
            .map(|seconds| seconds / 1000)
            .filter(|d| *d >= Duration::from_millis(low) && *d >= BfdSession::MIN_INTERVAL);
        if parsed.is_none() {
            self.error(
                value.origin,
                format!(
                    "`{}` is not a valid {}: expected milliseconds of at least {low}, such as 10 or 2.5",
                    value.text,
                    s.name()
                ),
            );
        }
        parsed
    }

    /// `weight N [reverse|noreverse]`: the weight, and the reverse flag if said.
    fn bfd_weight(&mut self, keyword: &Word, args: &[Word]) -> Option<(Weight, Option<bool>)> {
        let Some(value) = args.first() else {
            self.error(keyword.origin, "`weight` needs a number from -253 to 253");
            return None;
        };
        let limit = i64::from(Weight::LIMIT);
        let weight = self
            .integer::<i64>(value, -limit..=limit, "weight")
            .and_then(Weight::new)?;
        let reverse = match args.get(1).map(|w| w.text.as_str()) {
            None => None,
            Some("reverse") => Some(true),
            Some("noreverse") => Some(false),
            Some(other) => {
                self.error(
                    args[1].origin,
                    format!("unexpected `{other}` after the weight (expected `reverse`, `noreverse` or nothing)"),
                );
                return None;
            }
        };
        if let Some(extra) = args.get(2) {
            self.error(
                extra.origin,
                format!("unexpected `{}` after the weight", extra.text),
            );
            return None;
        }
        Some((weight, reverse))
    }

    /// `track_bfd { NAME [weight N [reverse]] ... }`: names that are no bfd_instance are
    /// left out with a warning, as keepalived does.
    pub(super) fn track_bfd_block(&mut self, block: &[Statement]) -> Vec<(TrackedBfd, Word)> {
        let mut tracked = Vec::new();
        for line in block {
            let words: Vec<Word> = line.words().cloned().collect();
            let Some((name, rest)) = words.split_first() else {
                continue;
            };
            let (weight, reverse) = match rest.split_first() {
                None => (None, None),
                Some((keyword, args)) if keyword.text == "weight" => {
                    match self.bfd_weight(keyword, args) {
                        Some((weight, reverse)) => (Some(weight), reverse),
                        None => continue,
                    }
                }
                Some((other, _)) => {
                    self.error(
                        other.origin,
                        format!(
                            "unexpected `{}` after track_bfd `{}` (expected `weight N`)",
                            other.text, name.text
                        ),
                    );
                    continue;
                }
            };
            if !self.config.bfd.iter().any(|b| b.name == name.text) {
                self.warn(
                    name.origin,
                    format!(
                        "track_bfd `{}` is not a bfd_instance: ignored, as keepalived does",
                        name.text
                    ),
                );
                continue;
            }
            tracked.push((
                TrackedBfd {
                    name: name.text.clone(),
                    weight,
                    reverse,
                },
                name.clone(),
            ));
        }
        tracked
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::config::keepalived::{load_keepalived_str, ConfigId};
    use crate::config::model::{Config, Weight};
    use crate::config::{check_str, write::to_toml};

    const CONF: &str = r#"
bfd_instance core {
    neighbor_ip 192.0.2.1
    source_ip 192.0.2.10
    min_rx 2.5
    min_tx 3
    idle_tx 2000
    multiplier 3
    passive
    max_hops 2
    weight -40 reverse
    vrrp
}
bfd_instance edge6 {
    neighbour_ip 2001:db8::1
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    priority 150
    virtual_ipaddress { 192.0.2.100/24 }
    track_bfd {
        core weight 20 noreverse
        missing
    }
}
vrrp_instance VI_2 {
    interface eth0
    virtual_router_id 52
    virtual_ipaddress { 192.0.2.101/24 }
}
vrrp_sync_group G {
    group { VI_1 VI_2 }
    track_bfd { edge6 weight -5 }
}
"#;

    fn import(text: &str) -> (Config, String) {
        let checked = load_keepalived_str(Path::new("keepalived.conf"), text, &ConfigId::new("t"))
            .unwrap_or_else(|errors| panic!("{errors}"));
        (checked.config, checked.warnings.to_string())
    }

    #[test]
    fn bfd_instances_import_with_keepalived_units_and_defaults() {
        let (config, _) = import(CONF);
        let core = &config.bfd[0];
        assert_eq!(
            core.neighbor,
            "192.0.2.1".parse::<std::net::IpAddr>().unwrap()
        );
        assert_eq!(core.source, Some("192.0.2.10".parse().unwrap()));
        assert_eq!(core.min_rx.as_micros(), 2_500);
        assert_eq!(core.min_tx.as_millis(), 3);
        assert_eq!(core.idle_tx.as_millis(), 2_000);
        assert_eq!((core.multiplier, core.passive), (3, true));
        assert_eq!((core.ttl, core.max_hops, core.min_ttl()), (255, 2, 253));
        assert_eq!(
            (core.weight, core.reverse),
            (Weight::new(-40).unwrap(), true)
        );
        let edge = &config.bfd[1];
        assert_eq!((edge.min_rx.as_millis(), edge.multiplier), (10, 5));
        // keepalived's IPv6 default hop limit, kept so keepalived peers still talk to it.
        assert_eq!(edge.ttl, 64);
        assert_eq!(edge.weight, Weight::FAULT);
    }

    #[test]
    fn track_bfd_in_instances_and_groups() {
        let (config, warnings) = import(CONF);
        let vi1 = &config.instances[0].track_bfd;
        assert_eq!(vi1[0].name, "core");
        assert_eq!(vi1[0].weight, Some(Weight::new(20).unwrap()));
        assert_eq!(vi1[0].reverse, Some(false));
        assert!(
            warnings.contains("keepalived.conf:24:9") && warnings.contains("`missing`"),
            "{warnings}"
        );
        // The group's track_bfd goes to every member.
        for instance in &config.instances {
            let edge = instance
                .track_bfd
                .iter()
                .find(|t| t.name == "edge6")
                .unwrap();
            assert_eq!(edge.weight, Some(Weight::new(-5).unwrap()));
        }
    }

    #[test]
    fn imported_sessions_survive_the_writer() {
        let (config, _) = import(CONF);
        let written = to_toml(&config);
        let again = check_str(Path::new("t.toml"), &written)
            .unwrap_or_else(|errors| panic!("{written}\n{errors}"));
        assert_eq!(again.config, config, "{written}");
    }

    #[test]
    fn an_unknown_track_bfd_in_vipd_toml_is_an_error() {
        let text = "[[instance]]\nname = \"a\"\ninterface = \"eth0\"\nvrid = 1\n\
                    vips = [\"192.0.2.1/24\"]\ntrack_bfd = [{ name = \"nope\" }]\n";
        let errors = check_str(Path::new("t.toml"), text)
            .unwrap_err()
            .to_string();
        assert!(
            errors.contains("t.toml:6") && errors.contains("`nope` is not defined"),
            "{errors}"
        );
    }
}
