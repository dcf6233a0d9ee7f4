//! `vrrp_script` blocks as vipd checks, and `vrrp_track_file` blocks as the files instances
//! track.
//!
//! OpenShift's ipfailover writes its monitor-port check as `script "</dev/tcp/IP/PORT"`, a bash
//! redirection that only works through a shell. vipd turns it into its native TCP check; port 0
//! (and ipfailover's `script "true"` for port 0) check nothing, so they become no check at all.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use super::Importer;
use crate::config::diagnostic::{FieldPath, Item};
use crate::config::keepalived::source::Origin;
use crate::config::keepalived::syntax::{arity_in, Arity, Statement, Word};
use crate::config::keepalived::values;
use crate::config::model::{Check, CheckKind, TrackedFile, Weight};

/// A `vrrp_track_file` block: instances that track it by name read this file.
#[derive(Debug, Clone)]
pub(in crate::config::keepalived) struct TrackFileDefinition {
    pub path: PathBuf,
    pub weight: Weight,
}

/// Commands that always succeed: tracking them changes nothing.
const ALWAYS_SUCCEEDS: &[&str] = &["true", "/bin/true", "/usr/bin/true"];

/// What a vrrp_script's `script` line amounts to.
enum Script {
    Runs(CheckKind),
    /// Always succeeds: tracking it changes nothing.
    ChecksNothing,
}

/// The settings of a vrrp_script other than what it runs.
struct CheckSettings {
    interval: std::time::Duration,
    weight: Weight,
    rise: u32,
    fall: u32,
    init_fail: bool,
}

/// The keywords of this block and how many values each takes.
pub(super) const SCRIPT_KEYWORDS: &[(&str, Arity)] = &[
    ("interval", Arity::Fixed(1)),
    ("timeout", Arity::Fixed(1)),
    ("rise", Arity::Fixed(1)),
    ("fall", Arity::Fixed(1)),
    ("init_fail", Arity::Fixed(0)),
    ("script", Arity::Rest),
    ("weight", Arity::Rest),
    ("user", Arity::Rest),
];

fn script_arity(keyword: &str) -> Option<Arity> {
    arity_in(SCRIPT_KEYWORDS, keyword)
}

/// The keywords of this block and how many values each takes.
pub(super) const TRACK_FILE_KEYWORDS: &[(&str, Arity)] = &[
    ("file", Arity::Fixed(1)),
    ("weight", Arity::Rest),
    ("init_file", Arity::Rest),
];

fn track_file_arity(keyword: &str) -> Option<Arity> {
    arity_in(TRACK_FILE_KEYWORDS, keyword)
}

impl Importer<'_> {
    pub(super) fn vrrp_script(&mut self, statement: &Statement) {
        let Some((name, block)) = self.named_block(statement) else {
            return;
        };
        let item = Item::Check(self.config.checks.len());
        let mut kind = None;
        let mut no_op = false;
        // The check without its kind, which the `script` line decides.
        let mut check = CheckSettings {
            interval: Check::DEFAULT_INTERVAL,
            weight: Check::DEFAULT_WEIGHT,
            rise: Check::DEFAULT_RISE,
            fall: Check::DEFAULT_FALL,
            init_fail: Check::DEFAULT_INIT_FAIL,
        };
        let mut timeout = None;
        let mut user = None;
        // Recorded only if the check is kept, so that a dropped one leaves no stale places.
        let mut places: Vec<(&'static str, Origin)> = Vec::new();
        let context = format!("vrrp_script {}", name.text);
        for s in self.statements(block, script_arity, &context, true) {
            match s.name() {
                "script" => match self.script_kind(&s) {
                    Some(Script::Runs(found)) => {
                        places.push(("type", s.keyword.origin));
                        kind = Some(found);
                    }
                    Some(Script::ChecksNothing) => no_op = true,
                    None => {}
                },
                "interval" => {
                    if let Some(interval) = self.value(&s).and_then(|v| self.seconds(v, "interval"))
                    {
                        places.push(("interval", s.args[0].origin));
                        check.interval = interval;
                    }
                }
                "timeout" => {
                    // keepalived reads 0 as "the interval", its default.
                    let t = self.value(&s).and_then(|v| self.seconds(v, "timeout"));
                    if let Some(t) = t.filter(|t| !t.is_zero()) {
                        places.push(("timeout", s.args[0].origin));
                        timeout = Some(t);
                    }
                }
                "rise" | "fall" => {
                    let key = if s.name() == "rise" { "rise" } else { "fall" };
                    let Some(value) = self.value(&s) else {
                        continue;
                    };
                    if let Some(n) = self.integer::<u32>(value, 1..=i64::from(u32::MAX), key) {
                        places.push((key, value.origin));
                        if key == "rise" {
                            check.rise = n;
                        } else {
                            check.fall = n;
                        }
                    }
                }
                "weight" => {
                    if let Some(weight) = self.weight_with_reverse(&s.keyword, &s.args) {
                        places.push(("weight", s.keyword.origin));
                        check.weight = weight;
                    }
                }
                "user" => {
                    if let Some(run_as) = self.run_as(&s) {
                        user = Some(run_as);
                    }
                }
                "init_fail" => check.init_fail = true,
                _ => unreachable!("script_arity() lists only the keywords handled here"),
            }
        }
        if no_op {
            self.no_op_checks.push(name.text.clone());
            return;
        }
        let Some(mut kind) = kind else {
            self.error(
                statement.keyword.origin,
                format!(
                    "vrrp_script {} has no `script`: add `script \"/path/to/check\"`",
                    name.text
                ),
            );
            return;
        };
        if let CheckKind::Script {
            user: script_user, ..
        } = &mut kind
        {
            *script_user = user;
        } else if user.is_some() {
            self.warn(
                statement.keyword.origin,
                format!(
                    "vrrp_script {}: `user` is ignored for the built-in TCP check",
                    name.text
                ),
            );
        }
        self.item_at(item, statement, name);
        for (key, origin) in places {
            self.record(FieldPath::key(item, key), origin);
        }
        self.config.checks.push(Check {
            name: name.text.clone(),
            kind,
            interval: check.interval,
            timeout: timeout.unwrap_or(check.interval),
            weight: check.weight,
            rise: check.rise,
            fall: check.fall,
            init_fail: check.init_fail,
        });
    }

    /// What a `script` line runs; `None` after an error.
    fn script_kind(&mut self, statement: &Statement) -> Option<Script> {
        let text = statement
            .args
            .iter()
            .map(|w| w.text.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        let at = statement
            .args
            .first()
            .map_or(statement.keyword.origin, |w| w.origin);
        if let Some((host, port)) = values::dev_tcp_target(&text) {
            let Ok(address) = host.parse::<IpAddr>() else {
                self.error(
                    at,
                    format!("`{text}`: vipd turns this bash redirection into a TCP check, which needs an IP address, not `{host}`"),
                );
                return None;
            };
            let Ok(port) = port.parse::<u16>() else {
                self.error(at, format!("`{text}`: `{port}` is not a port number"));
                return None;
            };
            if port == 0 {
                self.warn(
                    at,
                    format!("`{text}`: monitor port 0 means no check; instances tracking it are not checked"),
                );
                return Some(Script::ChecksNothing);
            }
            self.warn(
                at,
                format!("`{text}` (a bash redirection) runs as vipd's built-in TCP check of {address}:{port}"),
            );
            return Some(Script::Runs(CheckKind::Tcp {
                target: SocketAddr::new(address, port),
            }));
        }
        if ALWAYS_SUCCEEDS.contains(&text.trim()) {
            self.warn(
                at,
                format!(
                    "`{}` always succeeds: no check is run and instances tracking it are not checked",
                    text.trim(),
                ),
            );
            return Some(Script::ChecksNothing);
        }
        let command = self.command(statement)?;
        Some(Script::Runs(CheckKind::Script {
            command,
            user: None,
        }))
    }

    /// `weight N [reverse]`, where `reverse` is warned about and ignored.
    pub(super) fn weight_with_reverse(&mut self, keyword: &Word, args: &[Word]) -> Option<Weight> {
        let Some(value) = args.first() else {
            self.error(keyword.origin, "`weight` needs a number from -253 to 253");
            return None;
        };
        let weight = self
            .integer::<i64>(
                value,
                -i64::from(Weight::LIMIT)..=i64::from(Weight::LIMIT),
                "weight",
            )
            .and_then(Weight::new)?;
        match args.get(1) {
            Some(word) if word.text == "reverse" => self.warn(
                word.origin,
                "`reverse` is not supported: the weight applies as written (negative while down, positive while up)",
            ),
            Some(word) => self.error(
                word.origin,
                format!(
                    "unexpected `{}` after the weight (expected `reverse` or nothing)",
                    word.text,
                ),
            ),
            None => {}
        }
        if let Some(extra) = args.get(2) {
            self.error(
                extra.origin,
                format!("unexpected `{}` after the weight", extra.text),
            );
        }
        Some(weight)
    }

    pub(super) fn vrrp_track_file(&mut self, statement: &Statement) {
        let Some((name, block)) = self.named_block(statement) else {
            return;
        };
        let mut path = None;
        let mut weight = TrackedFile::DEFAULT_WEIGHT;
        let context = format!("{} {}", statement.name(), name.text);
        for s in self.statements(block, track_file_arity, &context, true) {
            match s.name() {
                "file" => path = self.value(&s).map(|v| PathBuf::from(&v.text)),
                "weight" => {
                    if let Some(w) = self.weight_with_reverse(&s.keyword, &s.args) {
                        weight = w;
                    }
                }
                "init_file" => self.warn(
                    s.keyword.origin,
                    "`init_file` is ignored: vipd does not create the tracked file; create it before starting",
                ),
                _ => unreachable!("track_file_arity() lists only the keywords handled here"),
            }
        }
        match path {
            Some(path) => {
                self.track_files
                    .insert(name.text.clone(), TrackFileDefinition { path, weight });
            }
            None => self.error(
                statement.keyword.origin,
                format!("{context} has no `file`: add `file /path/to/file`"),
            ),
        }
    }
}
