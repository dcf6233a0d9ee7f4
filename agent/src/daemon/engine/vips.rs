//! Installing and removing an instance's virtual addresses from the engine thread.
//!
//! Takeover time is the time until the new master answers for the VIP, so an add is one
//! sendmsg(2) on a netlink socket the engine opened at start ([`AddressSocket`]): the kernel
//! has the address when it returns, and the announcement goes out right after. The
//! acknowledgements are read when the engine's poller reports them, after the takeover's work.
//! Everything else (removals, and diagnosing an add the kernel refused) goes through
//! [`Netlink`], on a current-thread tokio runtime the engine thread owns, so that nothing waits
//! on another thread.
use std::os::fd::{AsFd, BorrowedFd};

use tokio::runtime::Runtime;
use tracing::{info, warn};

use crate::{
    clock,
    dataplane::netlink::{
        AddAck, AddOutcome, AddressSocket, Netlink, NetlinkError, RemoveOutcome, Vip,
    },
    vrrp::Instant,
};

/// An add the kernel has carried out but whose acknowledgement has not been read.
struct PendingAdd {
    seq: u32,
    instance: String,
    vip: Vip,
    /// When the request returned: the address was on the interface from then on.
    at: Instant,
}

/// The engine thread's netlink connections.
pub struct VipInstaller {
    runtime: Runtime,
    netlink: Netlink,
    adds: AddressSocket,
    pending: Vec<PendingAdd>,
}

impl VipInstaller {
    /// Opens both connections in the calling thread's network namespace.
    pub fn new() -> Result<Self, NetlinkError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(NetlinkError::Socket)?;
        let netlink = runtime.block_on(async { Netlink::new() })?;
        let adds = AddressSocket::open().map_err(NetlinkError::Socket)?;
        Ok(Self {
            runtime,
            netlink,
            adds,
            pending: Vec::new(),
        })
    }

    /// Adds every address of `vips`; when this returns the kernel holds each one it accepted.
    /// How each went is logged once its acknowledgement is read ([`VipInstaller::acknowledged`]).
    pub fn install(&mut self, instance: &str, vips: &[Vip]) {
        for vip in vips {
            match self.adds.send_add(vip) {
                Ok(seq) => self.pending.push(PendingAdd {
                    seq,
                    instance: instance.to_owned(),
                    vip: vip.clone(),
                    at: clock::now(),
                }),
                Err(_) => self.install_diagnosed(instance, vip),
            }
        }
    }

    /// Reads the acknowledgements of earlier adds: logs each VIP added (a hop of the takeover
    /// timeline, stamped with when the kernel had it), and takes a refused one through the full
    /// path, which tells vipd's own address from the administrator's and words the error.
    pub fn acknowledged(&mut self) {
        let mut acks: Vec<AddAck> = Vec::new();
        if let Err(error) = self.adds.drain_acks(|ack| acks.push(ack)) {
            warn!(%error, "cannot read netlink acknowledgements");
        }
        for ack in acks {
            let Some(at) = self.pending.iter().position(|p| p.seq == ack.seq) else {
                continue;
            };
            let pending = self.pending.swap_remove(at);
            match ack.result {
                Ok(()) => info!(
                    instance = %pending.instance,
                    vip = %pending.vip.addr(),
                    at_mono_ns = pending.at.as_micros() * 1_000,
                    "VIP added"
                ),
                Err(_) => self.install_diagnosed(&pending.instance, &pending.vip),
            }
        }
    }

    /// [`Netlink::add_vip`]: an address the administrator configured is left as it is, with a
    /// warning (this host answers for it whatever vipd decides).
    fn install_diagnosed(&self, instance: &str, vip: &Vip) {
        match self.runtime.block_on(self.netlink.add_vip(vip)) {
            Ok(AddOutcome::Added) => info!(instance, vip = %vip.addr(), "VIP added"),
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

    /// Removes the addresses of `vips` that vipd added.
    pub fn remove(&mut self, instance: &str, vips: &[Vip]) {
        // Earlier adds are reported before their addresses go.
        self.acknowledged();
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

impl AsFd for VipInstaller {
    /// Readable when acknowledgements of adds wait ([`VipInstaller::acknowledged`]).
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.adds.as_fd()
    }
}
