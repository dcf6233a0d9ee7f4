//! `vipd cleanup`: removes what a vipd that did not stop cleanly (kill -9, a crash, the OOM
//! killer) left on this node: its VIPs (addresses tagged with vipd's IFA_PROTO) and its virtual
//! MAC interfaces.
//!
//! Those addresses keep the node's kernel answering ARP and neighbour solicitations for the VIPs
//! with its own MAC while a backup has taken over: two nodes answering for one address, a split
//! brain at layer 2. The systemd unit runs this in `ExecStopPost`, so the node stops answering
//! as soon as systemd sees vipd die; `vipd run` does the same at start.
//!
//! The marks do not say which daemon added an address, so while another vipd runs in the same
//! network namespace nothing is removed: its VIPs would go with the dead one's. The namespace is
//! held alone meanwhile, so no daemon starts halfway through.
use anyhow::{Context, Result};
use std::path::Path;
use tracing::{info, warn};

use crate::daemon::claims::{Claims, CLAIMS_DIR};
use crate::dataplane::netlink::Netlink;

#[derive(clap::Args)]
pub struct Options {}

pub fn run(_opts: Options) -> Result<()> {
    let claims = Claims::new(Path::new(CLAIMS_DIR))?;
    let Some(_alone) = claims.namespace_alone()? else {
        warn!(
            "another vipd runs in this network namespace, and its VIPs carry the same mark: \
             nothing removed (a restarted vipd removes what it left of its own VIPs)"
        );
        return Ok(());
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the event loop")?;
    runtime.block_on(async {
        let netlink = Netlink::new().context("opening netlink")?;
        let vips = netlink.remove_stale_vips().await?;
        for vip in &vips {
            info!(vip = %vip.addr(), "removed a VIP left by a vipd that did not stop cleanly");
        }
        let vmacs = netlink.remove_stale_vmacs().await?;
        for name in &vmacs {
            info!(interface = %name, "removed a virtual MAC interface left by a vipd");
        }
        info!(
            vips = vips.len(),
            virtual_macs = vmacs.len(),
            "vipd cleanup done"
        );
        Ok(())
    })
}
