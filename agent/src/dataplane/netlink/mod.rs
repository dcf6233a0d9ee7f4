//! vipd's one owner of rtnetlink: interface lookups, VIP addresses, link
//! events and the VRRP virtual MAC interface.
//!
//! The daemon creates two [`Netlink`]s: one at start, shared by the tokio
//! side (setup, the link watch, cleanup), and one owned by the engine thread
//! (`daemon::engine::vips`), whose VIP changes must not wait for tokio.
//! Every request goes through one of them, and these rules hold for both.
//! A socket lives in the network namespace of the thread that created it, so
//! tests create theirs on a thread that entered a test namespace.
//!
//! Ownership rules, kept here so nobody else needs to know them:
//! - every address vipd adds is marked with IFA_PROTO
//!   [`VIPD_ADDRESS_PROTOCOL`]; removal only ever deletes marked addresses,
//!   and [`Netlink::remove_stale_vips`] deletes what a dead vipd left;
//! - an address that exists without the mark (configured by the admin) is
//!   left alone: adding the same VIP reports [`AddOutcome::PresentUnmarked`]
//!   and does not take it over, removing it reports
//!   [`RemoveOutcome::NotOwned`];
//! - every vmac vipd creates carries an interface alias starting with
//!   [`VMAC_ALIAS_PREFIX`]; only such interfaces are ever deleted.

mod address_socket;
mod devconf;
mod error;
mod links;
mod vip;
mod vmac;

#[cfg(test)]
mod kernel_tests;

use std::collections::HashMap;
use std::net::IpAddr;

use futures_util::TryStreamExt;
use rtnetlink::packet_route::address::AddressMessage;
use rtnetlink::packet_route::link::{LinkAttribute, LinkMessage};
use tokio::task::JoinHandle;

pub use address_socket::{AddAck, AddressSocket};
use devconf::Ipv4Setting;
pub use error::NetlinkError;
pub use links::{LinkEvent, LinkState, LinkWatch};
pub use vip::{Vip, VIPD_ADDRESS_PROTOCOL};
pub use vmac::{vmac_address, Vmac, VmacMode, VmacSpec, VMAC_ALIAS_PREFIX};

/// What [`Netlink::add_vip`] found and did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum AddOutcome {
    /// The address was added, marked as vipd's.
    Added,
    /// The address was already there with vipd's mark (vipd added it before,
    /// possibly a vipd that died): nothing to do.
    AlreadyPresent,
    /// The address was already there without vipd's mark: the admin
    /// configured it. vipd leaves it as it is and will never remove it; the
    /// VIP answers traffic anyway because the address is there. Worth a
    /// warning, since on BACKUP this host keeps answering for the VIP.
    PresentUnmarked,
}

/// What [`Netlink::remove_vip`] found and did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum RemoveOutcome {
    /// The marked address was removed.
    Removed,
    /// No such address on the interface: nothing to do.
    NotPresent,
    /// The address is there but vipd did not add it: left alone.
    NotOwned,
}

/// The handle through which all of vipd's rtnetlink requests go.
///
/// Dropping it stops its connection task.
#[derive(Debug)]
pub struct Netlink {
    handle: rtnetlink::Handle,
    connection: JoinHandle<()>,
}

impl Drop for Netlink {
    fn drop(&mut self) {
        self.connection.abort();
    }
}

impl Netlink {
    /// Opens the netlink socket in the calling thread's network namespace and
    /// spawns its connection task on the current tokio runtime.
    ///
    /// Refuses kernels older than 5.18: they silently drop IFA_PROTO, so
    /// vipd's addresses would carry no mark and could never be removed.
    pub fn new() -> Result<Self, NetlinkError> {
        check_kernel_keeps_address_marks()?;
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| NetlinkError::NoRuntime)?;
        let (connection, handle, _unsolicited) =
            rtnetlink::new_connection().map_err(NetlinkError::Socket)?;
        let connection = runtime.spawn(connection);
        Ok(Self { handle, connection })
    }

    /// The index of the interface called `name`.
    pub async fn ifindex(&self, name: &str) -> Result<u32, NetlinkError> {
        Ok(self.link_by_name(name).await?.header.index)
    }

    /// The name of the interface with index `ifindex`.
    pub async fn link_name(&self, ifindex: u32) -> Result<String, NetlinkError> {
        let link = self.link_by_index(ifindex).await?;
        Ok(links::link_name(&link).unwrap_or_default())
    }

    /// The Ethernet address of the interface with index `ifindex`.
    pub async fn link_mac(&self, ifindex: u32) -> Result<[u8; 6], NetlinkError> {
        let link = self.link_by_index(ifindex).await?;
        link.attributes
            .iter()
            .find_map(|attribute| match attribute {
                LinkAttribute::Address(bytes) => <[u8; 6]>::try_from(bytes.as_slice()).ok(),
                _ => None,
            })
            .filter(|mac| *mac != [0; 6])
            .ok_or_else(|| {
                NetlinkError::NoEthernetAddress(
                    links::link_name(&link).unwrap_or_else(|| format!("with index {ifindex}")),
                )
            })
    }

    /// Adds `vip`, marked as vipd's. One round trip when the address is not
    /// there yet (the takeover path); a dump only when the kernel says it
    /// exists, to tell vipd's own address from the admin's.
    pub async fn add_vip(&self, vip: &Vip) -> Result<AddOutcome, NetlinkError> {
        let mut request = self.handle.address().add(vip.ifindex(), vip.addr(), 0);
        *request.message_mut() = vip.add_message();
        match request.execute().await {
            Ok(()) => Ok(AddOutcome::Added),
            Err(error) if is_errno(&error, libc::EEXIST) => {
                match self.find_address(vip).await? {
                    Some(existing) if vip::is_marked(&existing) => Ok(AddOutcome::AlreadyPresent),
                    Some(_) => Ok(AddOutcome::PresentUnmarked),
                    // The kernel saw a clash the dump no longer shows (the
                    // address vanished meanwhile): report what it said.
                    None => Err(self.describe(error, "adding", vip).await),
                }
            }
            Err(error) if vip.addr().is_ipv6() && is_errno(&error, libc::EACCES) => {
                Err(NetlinkError::Ipv6Disabled {
                    vip: vip.to_string(),
                    interface: self.link_name(vip.ifindex()).await?,
                })
            }
            Err(error) => Err(self.describe(error, "adding", vip).await),
        }
    }

    /// Removes `vip` if it carries vipd's mark; never touches an address vipd
    /// did not add.
    pub async fn remove_vip(&self, vip: &Vip) -> Result<RemoveOutcome, NetlinkError> {
        let on_interface = self.dump_addresses(Some(vip.ifindex())).await?;
        let Some(existing) = on_interface.iter().find(|m| vip.is_same_address(m)) else {
            return Ok(RemoveOutcome::NotPresent);
        };
        if !vip::is_marked(existing) {
            return Ok(RemoveOutcome::NotOwned);
        }
        let found = vip::vip_from_message(existing, "").unwrap_or_else(|| vip.clone());
        self.keep_secondaries(existing, &on_interface).await?;
        match self.delete_address(&found).await {
            Ok(()) => Ok(RemoveOutcome::Removed),
            // Gone between the dump and the deletion: the goal holds.
            Err(error) if is_errno(&error, libc::EADDRNOTAVAIL) => Ok(RemoveOutcome::NotPresent),
            Err(error) => Err(self.describe(error, "removing", vip).await),
        }
    }

    /// The vipd-marked addresses on interface `ifindex`.
    pub async fn list_vips(&self, ifindex: u32) -> Result<Vec<Vip>, NetlinkError> {
        let ifname = self.link_name(ifindex).await?;
        let addresses = self.dump_addresses(Some(ifindex)).await?;
        Ok(addresses
            .iter()
            .filter(|message| vip::is_marked(message))
            .filter_map(|message| vip::vip_from_message(message, &ifname))
            .collect())
    }

    /// Removes every vipd-marked address on every interface: what a vipd
    /// that died left behind. Call once at start, before any instance runs.
    /// Returns what was removed, for the log.
    pub async fn remove_stale_vips(&self) -> Result<Vec<Vip>, NetlinkError> {
        self.remove_marked(|_| true).await
    }

    /// Removes the vipd-marked addresses among `addrs`: what a dead vipd
    /// left of them, when other live daemons' VIPs share the namespace.
    pub async fn remove_stale_vips_among(
        &self,
        addrs: &[IpAddr],
    ) -> Result<Vec<Vip>, NetlinkError> {
        self.remove_marked(|vip| addrs.contains(&vip.addr())).await
    }

    async fn remove_marked(&self, which: impl Fn(&Vip) -> bool) -> Result<Vec<Vip>, NetlinkError> {
        let names = self.link_names().await?;
        let addresses = self.dump_addresses(None).await?;
        let mut removed = Vec::new();
        for message in &addresses {
            if !vip::is_marked(message) {
                continue;
            }
            let ifname = names
                .get(&message.header.index)
                .map(String::as_str)
                .unwrap_or_default();
            let Some(stale) = vip::vip_from_message(message, ifname).filter(&which) else {
                continue;
            };
            self.keep_secondaries(message, &addresses).await?;
            match self.delete_address(&stale).await {
                Ok(()) => removed.push(stale),
                Err(error) if is_errno(&error, libc::EADDRNOTAVAIL) => {}
                Err(error) => return Err(self.describe(error, "removing stale", &stale).await),
            }
        }
        Ok(removed)
    }

    /// Watches the interfaces called `names`: the returned [`LinkWatch`]
    /// first yields each one's current state, then every change (up, down,
    /// appearing, vanishing, renamed away).
    pub async fn watch_links<I, S>(&self, names: I) -> Result<LinkWatch, NetlinkError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        LinkWatch::start(names.into_iter().map(Into::into).collect()).await
    }

    /// Creates (or adopts, after a restart) the vmac described by `spec`,
    /// and brings it up.
    pub async fn create_vmac(&self, spec: &VmacSpec) -> Result<Vmac, NetlinkError> {
        vmac::create(self, spec).await
    }

    /// Deletes the vmac `vmac`, if it still is one vipd created.
    pub async fn remove_vmac(&self, vmac: &Vmac) -> Result<RemoveOutcome, NetlinkError> {
        vmac::remove(self, vmac).await
    }

    /// Deletes every vmac interface a previous vipd created. Call once at
    /// start. Returns the names removed, for the log.
    pub async fn remove_stale_vmacs(&self) -> Result<Vec<String>, NetlinkError> {
        vmac::remove_stale(self).await
    }

    async fn find_address(&self, vip: &Vip) -> Result<Option<AddressMessage>, NetlinkError> {
        Ok(self
            .dump_addresses(Some(vip.ifindex()))
            .await?
            .into_iter()
            .find(|message| vip.is_same_address(message)))
    }

    /// Turns on `promote_secondaries` on the interface of `message` when
    /// deleting it would otherwise delete other addresses with it (see
    /// `vip::deleting_drops_secondaries`). This changes one setting of the
    /// admin's interface, as keepalived's `promote_secondaries` does; it is
    /// the only way to remove a VIP that became a primary address without
    /// also removing addresses vipd does not own. Most distributions already
    /// turn it on for all interfaces.
    async fn keep_secondaries(
        &self,
        message: &AddressMessage,
        on_interface: &[AddressMessage],
    ) -> Result<(), NetlinkError> {
        if !vip::deleting_drops_secondaries(message, on_interface) {
            return Ok(());
        }
        let ifindex = message.header.index;
        let ifname = self
            .link_name(ifindex)
            .await
            .unwrap_or_else(|_| format!("with index {ifindex}"));
        tracing::warn!(
            interface = %ifname,
            "a VIP is the primary address of its subnet on {ifname}; enabling \
             promote_secondaries there so that removing it keeps the other addresses"
        );
        let message =
            devconf::ipv4_settings_message(ifindex, &[(Ipv4Setting::PromoteSecondaries, 1)]);
        self.handle
            .link()
            .change(message)
            .execute()
            .await
            .map_err(|error| {
                NetlinkError::from_rtnetlink(
                    error,
                    format!("enabling promote_secondaries on {ifname}"),
                    &ifname,
                )
            })
    }

    async fn delete_address(&self, vip: &Vip) -> Result<(), rtnetlink::Error> {
        self.handle
            .address()
            .del(vip.identity_message())
            .execute()
            .await
    }

    async fn dump_addresses(
        &self,
        ifindex: Option<u32>,
    ) -> Result<Vec<AddressMessage>, NetlinkError> {
        let mut request = self.handle.address().get();
        if let Some(ifindex) = ifindex {
            request = request.set_link_index_filter(ifindex);
        }
        request
            .execute()
            .try_collect()
            .await
            .map_err(|error| NetlinkError::from_rtnetlink(error, "listing addresses", ""))
    }

    async fn link_by_name(&self, name: &str) -> Result<LinkMessage, NetlinkError> {
        let action = format!("looking up interface {name}");
        let mut links = self.handle.link().get().match_name(name).execute();
        match links.try_next().await {
            Ok(Some(link)) => Ok(link),
            Ok(None) => Err(NetlinkError::InterfaceNotFound(name.to_owned())),
            Err(error) => Err(NetlinkError::from_rtnetlink(error, action, name)),
        }
    }

    async fn link_by_index(&self, ifindex: u32) -> Result<LinkMessage, NetlinkError> {
        let described = format!("with index {ifindex}");
        let action = format!("looking up interface {described}");
        let mut links = self.handle.link().get().match_index(ifindex).execute();
        match links.try_next().await {
            Ok(Some(link)) => Ok(link),
            Ok(None) => Err(NetlinkError::InterfaceNotFound(described)),
            Err(error) => Err(NetlinkError::from_rtnetlink(error, action, &described)),
        }
    }

    async fn dump_links(&self) -> Result<Vec<LinkMessage>, NetlinkError> {
        self.handle
            .link()
            .get()
            .execute()
            .try_collect()
            .await
            .map_err(|error| NetlinkError::from_rtnetlink(error, "listing interfaces", ""))
    }

    async fn link_names(&self) -> Result<HashMap<u32, String>, NetlinkError> {
        Ok(self
            .dump_links()
            .await?
            .iter()
            .filter_map(|link| Some((link.header.index, links::link_name(link)?)))
            .collect())
    }

    /// Words a failed VIP request as "adding 192.0.2.10/24 to eth0: ...",
    /// looking the interface's name up only now that it is needed.
    async fn describe(&self, error: rtnetlink::Error, verb: &str, vip: &Vip) -> NetlinkError {
        let ifname = self
            .link_name(vip.ifindex())
            .await
            .unwrap_or_else(|_| format!("with index {}", vip.ifindex()));
        let preposition = if verb == "adding" { "to" } else { "from" };
        NetlinkError::from_rtnetlink(
            error,
            format!("{verb} {vip} {preposition} {ifname}"),
            &ifname,
        )
    }
}

/// The first kernel that stores IFA_PROTO with an address.
const FIRST_KERNEL_WITH_IFA_PROTO: (u32, u32) = (5, 18);

fn check_kernel_keeps_address_marks() -> Result<(), NetlinkError> {
    let release = kernel_release();
    match kernel_version(&release) {
        Some(version) if version < FIRST_KERNEL_WITH_IFA_PROTO => {
            Err(NetlinkError::KernelTooOld { release })
        }
        // An unreadable release string is not worth refusing to start for.
        _ => Ok(()),
    }
}

/// The running kernel's release (`uname -r`), or "" if unreadable.
fn kernel_release() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|release| release.trim().to_owned())
        .unwrap_or_default()
}

/// (major, minor) of a release string like "6.18.0-1-amd64".
fn kernel_version(release: &str) -> Option<(u32, u32)> {
    let mut parts = release.split(['.', '-']);
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

/// Whether the kernel refused `error`'s request with `errno`.
fn is_errno(error: &rtnetlink::Error, errno: i32) -> bool {
    matches!(error, rtnetlink::Error::NetlinkError(message) if message.raw_code().abs() == errno)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_kernel_version_from_the_release() {
        assert_eq!(kernel_version("6.18.0-1-amd64"), Some((6, 18)));
        assert_eq!(kernel_version("5.4.0"), Some((5, 4)));
        assert_eq!(kernel_version("5.17-rc1"), Some((5, 17)));
        assert_eq!(kernel_version("garbage"), None);
        assert!(kernel_version("5.17.3").unwrap() < FIRST_KERNEL_WITH_IFA_PROTO);
        assert!(kernel_version("5.18.0").unwrap() >= FIRST_KERNEL_WITH_IFA_PROTO);
        assert!(kernel_version("6.1.0").unwrap() >= FIRST_KERNEL_WITH_IFA_PROTO);
    }
}
