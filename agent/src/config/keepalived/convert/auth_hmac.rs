//! keepalived 2.4's `auth_hmac` block of a vrrp_instance:
//! `auth_hmac { key ID VALUE  active_key ID  anti_replay time|monotonic  time_window SECS
//! mode enforce|permissive|receive-only }`, with keepalived's defaults (enforce, time). Key
//! values are those of [`crate::config::auth_key`]; lengths, duplicate ids and the active key
//! are checked by the validator, as for vipd.toml.

use super::Importer;
use crate::config::auth_key;
use crate::config::keepalived::syntax::{arity_in, Arity, Statement};
use crate::config::model::AuthHmac;
use crate::vrrp::auth_hmac::{AntiReplay, Mode, WINDOW_MAX_SECS, WINDOW_MIN_SECS};

const KEYWORDS: &[(&str, Arity)] = &[
    ("key", Arity::Fixed(2)),
    ("active_key", Arity::Fixed(1)),
    ("anti_replay", Arity::Fixed(1)),
    ("time_window", Arity::Fixed(1)),
    ("mode", Arity::Fixed(1)),
];

fn arity(keyword: &str) -> Option<Arity> {
    arity_in(KEYWORDS, keyword)
}

impl Importer<'_> {
    pub(super) fn auth_hmac(&mut self, block: &[Statement]) -> AuthHmac {
        let mut auth = AuthHmac {
            keys: Vec::new(),
            active_key: 0,
            mode: Mode::Enforce,
            anti_replay: AntiReplay::Time,
            time_window: None,
        };
        for s in self.statements(block, arity, "auth_hmac", true) {
            if s.name() == "key" {
                let [id, value] = s.args.as_slice() else {
                    self.error(s.keyword.origin, "`key` needs an id and a value");
                    continue;
                };
                let Some(id) = self.integer::<u8>(id, 1..=255, "auth_hmac key id") else {
                    continue;
                };
                match auth_key::parse(id, &value.text) {
                    Ok(key) => auth.keys.push(key),
                    Err(message) => self.error(value.origin, message),
                }
                continue;
            }
            let Some(value) = self.value(&s) else {
                continue;
            };
            match s.name() {
                "active_key" => {
                    if let Some(id) = self.integer::<u8>(value, 1..=255, "auth_hmac key id") {
                        auth.active_key = id;
                    }
                }
                "time_window" => {
                    let range = i64::from(WINDOW_MIN_SECS)..=i64::from(WINDOW_MAX_SECS);
                    auth.time_window = self.integer::<u32>(value, range, "time_window in seconds");
                }
                "anti_replay" => match value.text.as_str() {
                    "time" => auth.anti_replay = AntiReplay::Time,
                    "monotonic" => auth.anti_replay = AntiReplay::Monotonic,
                    other => self.error(
                        value.origin,
                        format!("auth_hmac anti_replay `{other}`: expected time or monotonic"),
                    ),
                },
                "mode" => match value.text.as_str() {
                    "enforce" => auth.mode = Mode::Enforce,
                    "permissive" => auth.mode = Mode::Permissive,
                    "receive-only" => auth.mode = Mode::ReceiveOnly,
                    other => self.error(
                        value.origin,
                        format!(
                            "auth_hmac mode `{other}`: expected enforce, permissive or receive-only"
                        ),
                    ),
                },
                _ => unreachable!("arity() lists only the keywords handled here"),
            }
        }
        auth
    }
}
