//! `[[check]]`.

use toml::Spanned;
use url::Url;

use super::Converter;
use crate::config::diagnostic::{FieldPath, Item};
use crate::config::load::schema::{RawCheck, RawCheckKind};
use crate::config::model::{Check, CheckKind, Command, Weight};

impl Converter<'_> {
    /// Returns `None` when a value is unusable (its error is recorded).
    pub(super) fn check(&mut self, item: Item, raw: Spanned<RawCheck>) -> Option<Check> {
        self.record(FieldPath::item(item), raw.span().start);
        let raw = raw.into_inner();
        let errors_before = self.errors.len();
        let name = self.at(item, "name", raw.name);
        let kind_start = raw.kind.span().start;
        let kind = self.at(item, "type", raw.kind);

        let type_name = kind.name();
        // Keys that only some kinds have: refuse them on the others, naming where they belong.
        let kind_keys: [(&str, Option<usize>, RawCheckKind); 8] = [
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
            (
                "group",
                raw.group.as_ref().map(|v| v.span().start),
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
                let tls_verify = self.flag(
                    item,
                    "tls_verify",
                    raw.tls_verify,
                    Check::DEFAULT_TLS_VERIFY,
                );
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
                let user = self.run_as(item, ("user", raw.user), ("group", raw.group));
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
            None => Some(Check::DEFAULT_WEIGHT),
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
            rise: self.count(
                item,
                "rise",
                raw.rise.as_ref(),
                Check::DEFAULT_RISE,
                "consecutive successes",
            ),
            fall: self.count(
                item,
                "fall",
                raw.fall.as_ref(),
                Check::DEFAULT_FALL,
                "consecutive failures",
            ),
            init_fail: self.flag(item, "init_fail", raw.init_fail, Check::DEFAULT_INIT_FAIL),
        };
        (self.errors.len() == errors_before).then_some(check)
    }
}
