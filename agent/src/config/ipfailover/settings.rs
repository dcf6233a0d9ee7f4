//! The variables the ipfailover image reads (its `conf/settings.sh`), with its defaults, checked
//! here so that a bad value is refused naming its variable instead of producing a keepalived.conf
//! that keepalived would half-run.

use std::net::IpAddr;
use std::time::Duration;

use super::ranges::{self, Vips};
use super::{EnvError, Environment};

/// How a higher-priority node takes the VIPs back (`OPENSHIFT_HA_PREEMPTION`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preemption {
    /// `nopreempt`: the current master keeps the VIPs; the image then starts no instance as
    /// master.
    Never,
    /// `preempt_nodelay`: not a keepalived keyword, so keepalived ignores the line and
    /// preempts at once, its default.
    Immediately,
    /// `preempt_delay N` (the image's default is 300 s).
    After(Duration),
}

/// Everything the scripts take from the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub config_name: String,
    pub vips: Vips,
    /// How many instances the VIPs are spread over; 0 is one instance per VIP.
    pub vip_groups: usize,
    pub interface: Option<String>,
    /// 0 checks nothing.
    pub monitor_port: u16,
    pub replica_count: u32,
    pub vrid_offset: u32,
    pub excluded_vrids: Vec<u32>,
    pub check_script: Option<String>,
    pub notify_script: Option<String>,
    pub check_interval: u32,
    pub preemption: Preemption,
    pub unicast_peers: Vec<IpAddr>,
    pub unicast_source: Option<IpAddr>,
    pub multicast_source: Option<IpAddr>,
}

impl Settings {
    pub fn read(env: &Environment) -> Result<Self, EnvError> {
        let vips_text = text(env, "OPENSHIFT_HA_VIRTUAL_IPS").unwrap_or_default();
        let vips = ranges::expand(&vips_text).map_err(|message| EnvError {
            variable: "OPENSHIFT_HA_VIRTUAL_IPS",
            message,
        })?;
        if vips.is_empty() {
            return Err(EnvError {
                variable: "OPENSHIFT_HA_VIRTUAL_IPS",
                message: "no virtual IP: give addresses or ranges such as `10.0.0.10,10.0.0.20-24`"
                    .into(),
            });
        }
        Ok(Settings {
            config_name: word(env, "OPENSHIFT_HA_CONFIG_NAME")?
                .unwrap_or_else(|| "OpenShift-IPFailover".into()),
            vips,
            vip_groups: number::<usize>(env, "OPENSHIFT_HA_VIP_GROUPS", 0, None)?.unwrap_or(0),
            interface: text(env, "OPENSHIFT_HA_NETWORK_INTERFACE"),
            monitor_port: number::<u16>(env, "OPENSHIFT_HA_MONITOR_PORT", 0, Some(u16::MAX))?
                .unwrap_or(80),
            // settings.sh: default 1; config-generators.sh treats 0 as 1.
            replica_count: number::<u32>(env, "OPENSHIFT_HA_REPLICA_COUNT", 0, None)?
                .unwrap_or(1)
                .max(1),
            vrid_offset: number::<u32>(env, "OPENSHIFT_HA_VRRP_ID_OFFSET", 0, Some(254))?
                .unwrap_or(10),
            excluded_vrids: excluded_vrids(env)?,
            check_script: quotable(env, "OPENSHIFT_HA_CHECK_SCRIPT")?,
            notify_script: quotable(env, "OPENSHIFT_HA_NOTIFY_SCRIPT")?,
            check_interval: number::<u32>(env, "OPENSHIFT_HA_CHECK_INTERVAL", 1, None)?
                .unwrap_or(2),
            preemption: preemption(env)?,
            unicast_peers: unicast_peers(env)?,
            unicast_source: address(env, "UNICAST_SOURCE_IPADDRESS")?,
            multicast_source: address(env, "MULTICAST_SOURCE_IPADDRESS")?,
        })
    }
}

/// The variable that asks for the image's multicast accept rule, if set: failover-functions.sh
/// tests `OPENSHIFT_HA_NFTABLES_RULE`, else the deprecated `OPENSHIFT_HA_IPTABLES_CHAIN`, for
/// being non-empty.
pub fn firewall_variable(env: &Environment) -> Option<&'static str> {
    ["OPENSHIFT_HA_NFTABLES_RULE", "OPENSHIFT_HA_IPTABLES_CHAIN"]
        .into_iter()
        .find(|name| env.get(*name).is_some_and(|v| !v.is_empty()))
}

/// The value, trimmed; unset and empty are the same, as `${VAR:-default}` makes them.
fn text(env: &Environment, variable: &str) -> Option<String> {
    env.get(variable)
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// A value written unquoted into keepalived.conf (the name is also the `auth_pass` and part of
/// the check's name): one word that cannot end or open a block or start a comment there.
fn word(env: &Environment, variable: &'static str) -> Result<Option<String>, EnvError> {
    let value = text(env, variable);
    match &value {
        Some(v) if v.contains(|c: char| c.is_whitespace() || "\"{}!#".contains(c)) => {
            Err(EnvError {
                variable,
                message: format!("`{v}`: a name without spaces, quotes, braces, `!` or `#`"),
            })
        }
        _ => Ok(value),
    }
}

/// A command written in double quotes into keepalived.conf.
fn quotable(env: &Environment, variable: &'static str) -> Result<Option<String>, EnvError> {
    let value = text(env, variable);
    match &value {
        Some(v) if v.contains('"') => Err(EnvError {
            variable,
            message: format!("`{v}`: a command without double quotes (keepalived.conf quotes it)"),
        }),
        _ => Ok(value),
    }
}

/// A whole number from `min` up to `max` (without one, the type's limit).
fn number<T>(
    env: &Environment,
    variable: &'static str,
    min: T,
    max: Option<T>,
) -> Result<Option<T>, EnvError>
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy,
{
    let Some(value) = text(env, variable) else {
        return Ok(None);
    };
    match value.parse::<T>() {
        Ok(n) if n >= min && max.is_none_or(|max| n <= max) => Ok(Some(n)),
        _ => Err(EnvError {
            variable,
            message: match max {
                Some(max) => format!("`{value}` is not a whole number from {min} to {max}"),
                None => format!("`{value}` is not a whole number of {min} or more"),
            },
        }),
    }
}

fn address(env: &Environment, variable: &'static str) -> Result<Option<IpAddr>, EnvError> {
    text(env, variable)
        .map(|value| {
            value.parse().map_err(|_| EnvError {
                variable,
                message: format!("`{value}` is not an IP address"),
            })
        })
        .transpose()
}

/// `HA_EXCLUDED_VRRP_IDS`: the script splits it on whitespace; commas are taken too, as a
/// comma-separated list would otherwise exclude nothing there.
fn excluded_vrids(env: &Environment) -> Result<Vec<u32>, EnvError> {
    let value = text(env, "HA_EXCLUDED_VRRP_IDS").unwrap_or_default();
    value
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|id| !id.is_empty())
        .map(|id| match id.parse::<u32>() {
            Ok(n) if (1..=255).contains(&n) => Ok(n),
            _ => Err(EnvError {
                variable: "HA_EXCLUDED_VRRP_IDS",
                message: format!("`{id}` is not a VRID from 1 to 255"),
            }),
        })
        .collect()
}

/// The script pastes the value into each instance as a keepalived line; only the lines that
/// mean something to keepalived are taken.
fn preemption(env: &Environment) -> Result<Preemption, EnvError> {
    let value = text(env, "OPENSHIFT_HA_PREEMPTION").unwrap_or_else(|| "preempt_delay 300".into());
    let words: Vec<&str> = value.split_whitespace().collect();
    match words.as_slice() {
        ["nopreempt"] => Ok(Preemption::Never),
        ["preempt_nodelay"] => Ok(Preemption::Immediately),
        ["preempt_delay", seconds] => match seconds.parse::<u64>() {
            Ok(s) if s <= 1000 => Ok(Preemption::After(Duration::from_secs(s))),
            _ => Err(EnvError {
                variable: "OPENSHIFT_HA_PREEMPTION",
                message: format!("`{seconds}`: preempt_delay takes whole seconds from 0 to 1000"),
            }),
        },
        _ => Err(EnvError {
            variable: "OPENSHIFT_HA_PREEMPTION",
            message: format!(
                "`{value}` is not one of `nopreempt`, `preempt_nodelay`, `preempt_delay SECONDS`"
            ),
        }),
    }
}

/// `OPENSHIFT_HA_UNICAST_PEERS`: comma-separated addresses; set, adverts go to them instead of
/// the multicast group.
fn unicast_peers(env: &Environment) -> Result<Vec<IpAddr>, EnvError> {
    let value = text(env, "OPENSHIFT_HA_UNICAST_PEERS").unwrap_or_default();
    value
        .split(',')
        .map(str::trim)
        .filter(|peer| !peer.is_empty())
        .map(|peer| {
            peer.parse().map_err(|_| EnvError {
                variable: "OPENSHIFT_HA_UNICAST_PEERS",
                message: format!("`{peer}` is not an IP address"),
            })
        })
        .collect()
}
