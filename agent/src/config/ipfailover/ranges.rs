//! `OPENSHIFT_HA_VIRTUAL_IPS`: addresses and ranges, as utils.sh's `expand_ip_ranges` reads
//! them. A range varies the last part only: `10.0.0.5-8` (or `10.0.0.5-10.0.0.8`) is the last
//! octet 5 to 8, and `fd00::1f39-1f3b` the last IPv6 group, in hex, 0x1f39 to 0x1f3b. The script
//! drops what it cannot read without a word; here it is an error.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The VIPs in the order given, ranges expanded.
pub type Vips = Vec<IpAddr>;

/// Expands the variable's value. Whitespace is removed first (the script strips every
/// character that cannot be part of an address, spaces included), then items are split on
/// commas.
pub fn expand(value: &str) -> Result<Vips, String> {
    let compact: String = value.chars().filter(|c| !c.is_whitespace()).collect();
    let mut vips = Vips::new();
    for item in compact.split(',').filter(|item| !item.is_empty()) {
        let (first, last) = match item.split_once('-') {
            Some((first, last)) => (first, Some(last)),
            None => (item, None),
        };
        match (first.parse::<IpAddr>(), last) {
            (Ok(address), None) => vips.push(address),
            (Ok(IpAddr::V4(start)), Some(last)) => vips.extend(v4_range(item, start, last)?),
            (Ok(IpAddr::V6(start)), Some(last)) => vips.extend(v6_range(item, first, start, last)?),
            (Err(_), _) => {
                return Err(format!(
                    "`{item}` is not an address or a range (`10.0.0.5-8`)"
                ))
            }
        }
    }
    Ok(vips)
}

/// The end is the last dot-separated field of what follows the dash.
fn v4_range(item: &str, start: Ipv4Addr, last: &str) -> Result<Vec<IpAddr>, String> {
    let [a, b, c, from] = start.octets();
    let end_text = last.rsplit('.').next().unwrap_or(last);
    let to = end_text
        .parse::<u8>()
        .ok()
        .filter(|to| *to >= from)
        .ok_or_else(|| {
            format!("`{item}`: the range must end at a last octet from {from} to 255")
        })?;
    Ok((from..=to)
        .map(|d| IpAddr::V4(Ipv4Addr::new(a, b, c, d)))
        .collect())
}

/// The end is a hex group replacing the start's last group.
fn v6_range(item: &str, first: &str, start: Ipv6Addr, last: &str) -> Result<Vec<IpAddr>, String> {
    let bad = || {
        format!("`{item}`: an IPv6 range ends at a hex group not below the start's last group, such as `fd00::1f39-1f3b`")
    };
    if first.ends_with(':') {
        return Err(bad());
    }
    let mut segments = start.segments();
    let from = segments[7];
    let to = u16::from_str_radix(last, 16)
        .ok()
        .filter(|to| *to >= from)
        .ok_or_else(bad)?;
    Ok((from..=to)
        .map(|group| {
            segments[7] = group;
            IpAddr::V6(Ipv6Addr::from(segments))
        })
        .collect())
}
