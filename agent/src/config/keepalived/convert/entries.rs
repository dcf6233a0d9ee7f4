//! The value blocks of vrrp_instance: authentication, virtual_ipaddress, unicast_peer and the
//! `NAME [weight N]` lists of track_interface, track_script and track_file. Their entries are
//! lines of words, and several entries may share a line when a block is written on one.

use std::net::IpAddr;

use super::Importer;
use crate::config::keepalived::source::Origin;
use crate::config::keepalived::syntax::{arity_in, Arity, Statement, Word};
use crate::config::keepalived::values;
use crate::config::model::{Auth, Vip, Weight, MAX_PASSWORD_LEN};

/// The keywords of this block and how many values each takes.
pub(super) const AUTHENTICATION_KEYWORDS: &[(&str, Arity)] = &[
    ("auth_type", Arity::Fixed(1)),
    ("auth_pass", Arity::Fixed(1)),
];

fn authentication_arity(keyword: &str) -> Option<Arity> {
    arity_in(AUTHENTICATION_KEYWORDS, keyword)
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

impl Importer<'_> {
    /// `authentication { auth_type PASS|AH auth_pass SECRET }`: the password, truncated to 8
    /// bytes as keepalived does, as a simple password or the key of IPsec-AH.
    pub(super) fn authentication(&mut self, block: &[Statement]) -> Option<(Auth, Origin)> {
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
        let ah = match kind.text.as_str() {
            "PASS" => false,
            "AH" => true,
            other => {
                self.error(
                    kind.origin,
                    format!("`{other}` is not an auth_type: expected PASS or AH"),
                );
                return None;
            }
        };
        let Some(password) = password else {
            self.error(
                kind.origin,
                format!("auth_type {} needs `auth_pass SECRET`", kind.text),
            );
            return None;
        };
        let mut text = password.text.clone();
        if text.len() > MAX_PASSWORD_LEN {
            let mut cut = MAX_PASSWORD_LEN;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut);
            self.warn(
                password.origin,
                format!("auth_pass is longer than {MAX_PASSWORD_LEN} bytes: only `{text}` is used, as keepalived does"),
            );
        }
        if text.is_empty() {
            self.error(password.origin, "auth_pass is empty");
            return None;
        }
        let auth = if ah { Auth::Ah(text) } else { Auth::Pass(text) };
        Some((auth, password.origin))
    }

    /// The entries of virtual_ipaddress: `ADDRESS[/PREFIX] [dev IF] [label LABEL] [brd ADDR]
    /// [scope SCOPE] ...`, several to a line when written on one.
    pub(super) fn vips(&mut self, block: &[Statement]) -> Vec<(Vip, Origin)> {
        let mut vips = Vec::new();
        for line in block {
            self.no_block(line);
            let words: Vec<&Word> = line.words().collect();
            let mut i = 0;
            while i < words.len() {
                let word = words[i];
                i += 1;
                let Some(address) = values::address_with_prefix(&word.text) else {
                    self.error(
                        word.origin,
                        format!(
                            "`{}` is not an address: expected ADDRESS[/PREFIX] [dev IF] [label LABEL] [brd ADDRESS]",
                            word.text,
                        ),
                    );
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
                        self.error(
                            next.origin,
                            format!(
                                "unexpected `{}` (expected dev, label, brd, scope or another address)",
                                next.text,
                            ),
                        );
                        break;
                    }
                }
                vips.push((vip, word.origin));
            }
        }
        vips
    }

    pub(super) fn unicast_peers(&mut self, block: &[Statement]) -> Vec<(IpAddr, Origin)> {
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
                        self.warn(
                            word.origin,
                            format!(
                                "`{}` is ignored: vipd checks TTL 255 unless unicast_ttl_check is off",
                                word.text,
                            ),
                        );
                        i += 1;
                    }
                    text => match text.parse::<IpAddr>() {
                        Ok(peer) => peers.push((peer, word.origin)),
                        Err(_) => {
                            self.error(
                                word.origin,
                                format!("`{text}` is not an IP address: unicast_peer lists peer addresses"),
                            );
                            break;
                        }
                    },
                }
            }
        }
        peers
    }

    /// Entries `NAME [weight N [reverse]]` of track_interface, track_script and track_file.
    pub(super) fn tracked(&mut self, block: &[Statement]) -> Vec<(String, Option<Weight>, Origin)> {
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
