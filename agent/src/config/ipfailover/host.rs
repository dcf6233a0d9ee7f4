//! What the image's scripts ask the system (utils.sh's `get_network_device` and
//! `get_device_ip_address`), behind a trait: the configuration layer does not touch the
//! system, and tests give the answers. The running system's answers are
//! `dataplane::host_lookup::System`.

use std::net::Ipv4Addr;

use super::EnvError;

/// The interfaces the image tries after `OPENSHIFT_HA_NETWORK_INTERFACE`, in its order (the
/// names of its development VMs).
const FALLBACK_INTERFACES: [&str; 4] = ["enp0s3", "enp0s8", "eth1", "ens3"];

/// The questions, in the caller's network namespace.
pub trait Host {
    fn has_interface(&self, name: &str) -> bool;
    /// The interface's first IPv4 address.
    fn ipv4_address(&self, interface: &str) -> Option<Ipv4Addr>;
    /// The interface a packet to 8.8.8.8 would leave by.
    fn route_interface(&self) -> Option<String>;
}

/// The interface to run on: the configured one if it exists, else the first fallback name that
/// does, else the one the route to 8.8.8.8 uses. A configured interface that does not exist
/// falls through as in the script; [`missing`] words vipd's warning about it.
pub fn interface(host: &dyn Host, configured: Option<&str>) -> Result<String, EnvError> {
    configured
        .into_iter()
        .chain(FALLBACK_INTERFACES)
        .find(|name| host.has_interface(name))
        .map(str::to_string)
        .or_else(|| host.route_interface())
        .ok_or_else(|| EnvError {
            variable: "OPENSHIFT_HA_NETWORK_INTERFACE",
            message: "unset (or no such interface), none of enp0s3, enp0s8, eth1, ens3 exists, and there is no route to 8.8.8.8 to take the interface from".into(),
        })
}

/// The warning for a configured interface the host does not have, if it does not.
pub fn missing(host: &dyn Host, configured: Option<&str>, chosen: &str) -> Option<String> {
    let name = configured.filter(|name| !host.has_interface(name))?;
    Some(format!(
        "OPENSHIFT_HA_NETWORK_INTERFACE: there is no interface {name}; running on {chosen}, found as the image finds one"
    ))
}
