//! The IP family, IPv4 or IPv6: of a VRRP instance and its VIPs, its sockets, its adverts on
//! the wire and in the XDP program's maps, its vmac, and its status. One type for all of them,
//! derived once from the instance's addresses.
use std::{fmt, net::IpAddr};

use serde::{Deserialize, Serialize};

/// IPv4 or IPv6. In `vipd status --json` and the status table it is `ipv4` / `ipv6`; in
/// messages for people, `IPv4` / `IPv6`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum IpFamily {
    #[serde(rename = "ipv4")]
    V4,
    #[serde(rename = "ipv6")]
    V6,
}

impl IpFamily {
    /// The family `address` belongs to.
    pub fn of(address: IpAddr) -> IpFamily {
        match address {
            IpAddr::V4(_) => IpFamily::V4,
            IpAddr::V6(_) => IpFamily::V6,
        }
    }

    /// Bytes one address of this family takes (in a VRRP address list, say).
    pub const fn address_len(self) -> usize {
        match self {
            IpFamily::V4 => 4,
            IpFamily::V6 => 16,
        }
    }

    /// The family's code in the XDP program's maps and records (`agent_common::family`).
    pub fn code(self) -> u8 {
        match self {
            IpFamily::V4 => agent_common::family::IPV4,
            IpFamily::V6 => agent_common::family::IPV6,
        }
    }

    /// `IPv4` or `IPv6`, for messages.
    pub fn name(self) -> &'static str {
        match self {
            IpFamily::V4 => "IPv4",
            IpFamily::V6 => "IPv6",
        }
    }

    /// `ipv4` or `ipv6`, as the status spells it.
    pub fn key(self) -> &'static str {
        match self {
            IpFamily::V4 => "ipv4",
            IpFamily::V6 => "ipv6",
        }
    }
}

impl fmt::Display for IpFamily {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_spells_it_in_lower_case() {
        assert_eq!(serde_json::to_string(&IpFamily::V6).unwrap(), "\"ipv6\"");
        let back: IpFamily = serde_json::from_str("\"ipv4\"").unwrap();
        assert_eq!(
            (back, back.key(), back.to_string()),
            (IpFamily::V4, "ipv4", "IPv4".into())
        );
    }
}
