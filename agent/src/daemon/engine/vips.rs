//! Installing and removing an instance's virtual addresses from the engine thread.
//!
//! Takeover time is the time until the new master answers for the VIP, so the netlink request
//! is made from the engine thread itself, on a current-thread tokio runtime the thread owns:
//! the request and its acknowledgement are driven right there, without waking another thread.
use tokio::runtime::Runtime;
use tracing::{info, warn};

use crate::dataplane::netlink::{AddOutcome, Netlink, NetlinkError, RemoveOutcome, Vip};

/// The engine thread's own netlink connection.
pub struct VipInstaller {
    runtime: Runtime,
    netlink: Netlink,
}

impl VipInstaller {
    /// Opens a netlink connection on a runtime private to the calling thread.
    pub fn new() -> Result<Self, NetlinkError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(NetlinkError::Socket)?;
        let netlink = runtime.block_on(async { Netlink::new() })?;
        Ok(Self { runtime, netlink })
    }

    /// Adds every address of `vips`; an address the administrator configured is left as it is,
    /// with a warning (this host answers for it whatever vipd decides).
    pub fn install(&self, instance: &str, vips: &[Vip]) {
        for vip in vips {
            match self.runtime.block_on(self.netlink.add_vip(vip)) {
                Ok(AddOutcome::Added) => {
                    info!(instance, vip = %vip.addr(), "VIP added")
                }
                Ok(AddOutcome::AlreadyPresent) => {}
                Ok(AddOutcome::PresentUnmarked) => warn!(
                    instance,
                    vip = %vip.addr(),
                    "VIP is already configured by someone else; vipd leaves it alone, so this \
                     host keeps answering for it even as BACKUP"
                ),
                Err(error) => warn!(instance, vip = %vip.addr(), %error, "cannot add VIP"),
            }
        }
    }

    /// Removes the addresses of `vips` that vipd added.
    pub fn remove(&self, instance: &str, vips: &[Vip]) {
        for vip in vips {
            match self.runtime.block_on(self.netlink.remove_vip(vip)) {
                Ok(RemoveOutcome::Removed) => {
                    info!(instance, vip = %vip.addr(), "VIP removed")
                }
                Ok(RemoveOutcome::NotPresent | RemoveOutcome::NotOwned) => {}
                Err(error) => warn!(instance, vip = %vip.addr(), %error, "cannot remove VIP"),
            }
        }
    }
}
