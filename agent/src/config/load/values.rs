//! How single TOML values become typed values: durations, addresses, VIPs, commands, and the
//! entries that may be written as a plain string or as a table. Each deserializer says what it
//! expected, and toml places the message at the offending value.

use std::fmt;
use std::marker::PhantomData;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use ipnet::IpNet;
use serde::de::{self, value::MapAccessDeserializer, value::SeqAccessDeserializer, Visitor};
use serde::{Deserialize, Deserializer};

const DURATION_EXPECTED: &str = "a duration string such as \"1s\", \"10ms\" or \"100us\"";

/// A duration written as a string with a unit: "1s", "1.5s", "10ms", "100us", "2m".
#[derive(Debug, Clone, Copy)]
pub struct DurationText(pub Duration);

impl<'de> Deserialize<'de> for DurationText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DurationVisitor;
        impl Visitor<'_> for DurationVisitor {
            type Value = DurationText;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(DURATION_EXPECTED)
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<DurationText, E> {
                parse_duration(text).map(DurationText).map_err(E::custom)
            }
        }
        deserializer.deserialize_str(DurationVisitor)
    }
}

/// Parses "<number><unit>", where the number may have a fraction ("1.5s", keepalived writes
/// advert_int 0.5), and falls back to humantime for compound forms ("1m 30s").
fn parse_duration(text: &str) -> Result<Duration, String> {
    let trimmed = text.trim();
    let split = trimmed
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(split);
    if number.contains('.') {
        let nanos_per_unit: f64 = match unit.trim() {
            "s" => 1e9,
            "ms" => 1e6,
            "us" | "µs" => 1e3,
            _ => {
                return Err(invalid_duration(
                    text,
                    "a fraction needs the unit s, ms or us",
                ))
            }
        };
        let value: f64 = number
            .parse()
            .map_err(|_| invalid_duration(text, "expected a number and a unit"))?;
        return Ok(Duration::from_nanos((value * nanos_per_unit).round() as u64));
    }
    if unit.is_empty() {
        return Err(invalid_duration(
            text,
            "the unit is missing; expected a number and a unit",
        ));
    }
    humantime::parse_duration(trimmed)
        .map_err(|_| invalid_duration(text, "expected a number and a unit (us, ms, s, m, h)"))
}

fn invalid_duration(text: &str, why: &str) -> String {
    format!("invalid duration \"{text}\": {why}, such as \"1s\", \"10ms\" or \"100us\"")
}

/// An IP address without prefix.
#[derive(Debug, Clone, Copy)]
pub struct Address(pub IpAddr);

impl<'de> Deserialize<'de> for Address {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct AddressVisitor;
        impl Visitor<'_> for AddressVisitor {
            type Value = Address;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an IP address such as \"192.0.2.1\" or \"2001:db8::1\"")
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<Address, E> {
                parse_address(text).map(Address).map_err(E::custom)
            }
        }
        deserializer.deserialize_str(AddressVisitor)
    }
}

fn parse_address(text: &str) -> Result<IpAddr, String> {
    text.parse().map_err(|_| {
        format!("invalid IP address \"{text}\": expected an address such as \"192.0.2.1\" or \"2001:db8::1\", without a prefix length")
    })
}

/// A VIP: `"192.0.2.10/24"` or `{ address = "192.0.2.10/24", device = "eth1", label = "eth1:vip",
/// broadcast = "192.0.2.255" }`. Without a prefix length the address is a /32 or /128.
#[derive(Debug, Clone)]
pub struct VipEntry {
    pub address: IpNet,
    pub device: Option<String>,
    pub label: Option<String>,
    pub broadcast: Option<Ipv4Addr>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VipTable {
    address: String,
    device: Option<String>,
    label: Option<String>,
    broadcast: Option<String>,
}

fn parse_prefix(text: &str) -> Result<IpNet, String> {
    if text.contains('/') {
        text.parse().map_err(|_| {
            format!("invalid address/prefix \"{text}\": expected an address with an optional prefix length such as \"192.0.2.10/24\" or \"2001:db8::10/64\"")
        })
    } else {
        parse_address(text).map(IpNet::from)
    }
}

impl StringOrTable for VipEntry {
    type Table = VipTable;
    const EXPECTING: &'static str =
        "a VIP: \"192.0.2.10/24\" or { address = \"192.0.2.10/24\", device = \"eth1\", label = \"eth1:vip\" }";

    fn from_string(text: &str) -> Result<Self, String> {
        Ok(VipEntry {
            address: parse_prefix(text)?,
            device: None,
            label: None,
            broadcast: None,
        })
    }

    fn from_table(table: VipTable) -> Result<Self, String> {
        let broadcast = match table.broadcast {
            None => None,
            Some(text) => match parse_address(&text)? {
                IpAddr::V4(address) => Some(address),
                IpAddr::V6(_) => {
                    return Err(format!(
                        "broadcast \"{text}\" is IPv6: only IPv4 VIPs have a broadcast address"
                    ))
                }
            },
        };
        Ok(VipEntry {
            address: parse_prefix(&table.address)?,
            device: table.device,
            label: table.label,
            broadcast,
        })
    }
}

/// A command: `"/usr/local/bin/notify.sh master"` (split like a shell would, without running
/// one) or `["/usr/local/bin/notify.sh", "master"]`.
#[derive(Debug, Clone)]
pub struct CommandLine(pub Vec<String>);

impl<'de> Deserialize<'de> for CommandLine {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct CommandVisitor;
        impl<'de> Visitor<'de> for CommandVisitor {
            type Value = CommandLine;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a command: a string such as \"/usr/local/bin/check.sh --fast\" or an array of program and arguments")
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<CommandLine, E> {
                let argv = shlex::split(text).ok_or_else(|| {
                    E::custom(format!(
                        "cannot split command \"{text}\": unbalanced quotes or a trailing backslash"
                    ))
                })?;
                nonempty(argv)
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<CommandLine, A::Error> {
                nonempty(Vec::<String>::deserialize(SeqAccessDeserializer::new(seq))?)
            }
        }
        deserializer.deserialize_any(CommandVisitor)
    }
}

fn nonempty<E: de::Error>(argv: Vec<String>) -> Result<CommandLine, E> {
    if argv.first().is_none_or(|program| program.is_empty()) {
        return Err(E::custom("the command is empty: expected a program to run"));
    }
    Ok(CommandLine(argv))
}

/// `"eth1"` or `{ name = "eth1", weight = -10 }`.
#[derive(Debug, Clone)]
pub struct TrackInterfaceEntry {
    pub name: String,
    pub weight: Option<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrackInterfaceTable {
    name: String,
    weight: Option<i64>,
}

impl StringOrTable for TrackInterfaceEntry {
    type Table = TrackInterfaceTable;
    const EXPECTING: &'static str =
        "an interface name such as \"eth1\" or { name = \"eth1\", weight = -10 }";

    fn from_string(text: &str) -> Result<Self, String> {
        Ok(TrackInterfaceEntry {
            name: text.to_owned(),
            weight: None,
        })
    }

    fn from_table(table: TrackInterfaceTable) -> Result<Self, String> {
        Ok(TrackInterfaceEntry {
            name: table.name,
            weight: table.weight,
        })
    }
}

/// `"apiserver"` or `{ check = "apiserver", weight = -2 }`.
#[derive(Debug, Clone)]
pub struct TrackCheckEntry {
    pub check: String,
    pub weight: Option<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrackCheckTable {
    check: String,
    weight: Option<i64>,
}

impl StringOrTable for TrackCheckEntry {
    type Table = TrackCheckTable;
    const EXPECTING: &'static str =
        "a check name such as \"apiserver\" or { check = \"apiserver\", weight = -2 }";

    fn from_string(text: &str) -> Result<Self, String> {
        Ok(TrackCheckEntry {
            check: text.to_owned(),
            weight: None,
        })
    }

    fn from_table(table: TrackCheckTable) -> Result<Self, String> {
        Ok(TrackCheckEntry {
            check: table.check,
            weight: table.weight,
        })
    }
}

/// An entry written either as a string shorthand or as a table with more keys. serde's
/// untagged enums would hide why neither form matched; this keeps each form's own message.
pub trait StringOrTable: Sized {
    type Table: for<'de> Deserialize<'de>;
    const EXPECTING: &'static str;
    fn from_string(text: &str) -> Result<Self, String>;
    fn from_table(table: Self::Table) -> Result<Self, String>;
}

/// Deserializes any [`StringOrTable`] entry.
#[derive(Debug, Clone)]
pub struct Entry<T>(pub T);

impl<'de, T: StringOrTable> Deserialize<'de> for Entry<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EntryVisitor<T>(PhantomData<T>);
        impl<'de, T: StringOrTable> Visitor<'de> for EntryVisitor<T> {
            type Value = Entry<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(T::EXPECTING)
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<Entry<T>, E> {
                T::from_string(text).map(Entry).map_err(E::custom)
            }
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<Entry<T>, A::Error> {
                let table = T::Table::deserialize(MapAccessDeserializer::new(map))?;
                T::from_table(table).map(Entry).map_err(de::Error::custom)
            }
        }
        deserializer.deserialize_any(EntryVisitor(PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_with_units_and_fractions() {
        let ok = |text: &str| parse_duration(text).unwrap();
        assert_eq!(ok("1s"), Duration::from_secs(1));
        assert_eq!(ok("10ms"), Duration::from_millis(10));
        assert_eq!(ok("100us"), Duration::from_micros(100));
        assert_eq!(ok("0.5s"), Duration::from_millis(500));
        assert_eq!(ok("0.05ms"), Duration::from_micros(50));
        assert_eq!(ok("1m 30s"), Duration::from_secs(90));
    }

    #[test]
    fn durations_without_unit_or_with_unknown_unit_are_refused() {
        let err = parse_duration("1").unwrap_err();
        assert!(err.contains("the unit is missing"), "{err}");
        let err = parse_duration("3 fortnights").unwrap_err();
        assert!(
            err.starts_with("invalid duration \"3 fortnights\""),
            "{err}"
        );
        let err = parse_duration("1.5h").unwrap_err();
        assert!(err.contains("s, ms or us"), "{err}");
    }

    #[test]
    fn vip_without_prefix_is_a_host_route() {
        let vip = VipEntry::from_string("2001:db8::10").unwrap();
        assert_eq!(vip.address, "2001:db8::10/128".parse::<IpNet>().unwrap());
        assert!(VipEntry::from_string("192.0.2.10/33").is_err());
    }
}
