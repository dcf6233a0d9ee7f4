//! The XDP program as the daemon uses it: loaded once, attached to every VRRP interface it can
//! be attached to. Where it cannot, that interface runs on sockets alone, with a warning.
use anyhow::Result;
use std::{collections::HashMap, time::Duration};
use tracing::{info, warn};

use super::setup::Prepared;
use crate::dataplane::xdp::{AdvertRing, AttachMode, XdpMaps, XdpProgram};

/// The dead-man bound: the program stops answering ARP / NS for VIPs when the engine's
/// heartbeat is older than this. The engine stamps at least every [`HEARTBEAT_EVERY`]; the
/// bound leaves room for a late wake-up (ENVIRONMENT: up to 5 ms for an ordinary thread under
/// load) while still taking a frozen vipd off the wire within a tenth of a second.
pub const DEADMAN_BOUND: Duration = Duration::from_millis(100);
pub const HEARTBEAT_EVERY: Duration = Duration::from_millis(10);

pub struct XdpAttachments {
    program: XdpProgram,
    mode: AttachMode,
    /// Interface name -> the mode the program is attached in there.
    attached: HashMap<String, AttachMode>,
}

impl XdpAttachments {
    /// Loads the program and takes its advert ring and maps; `None` (with a warning) when this
    /// kernel or these privileges cannot load it.
    pub fn load(mode: AttachMode) -> Result<Option<(Self, AdvertRing, XdpMaps)>> {
        let mut program = match XdpProgram::load() {
            Ok(program) => program,
            Err(error) => {
                warn!(%error, "XDP unavailable; running on sockets only");
                return Ok(None);
            }
        };
        let ring = program.take_adverts()?;
        let mut maps = program.take_maps()?;
        maps.set_deadman_bound(DEADMAN_BOUND)?;
        Ok(Some((
            Self {
                program,
                mode,
                attached: HashMap::new(),
            },
            ring,
            maps,
        )))
    }

    /// Attaches to the VRRP interfaces of `prepared` not yet attached, and tells each instance
    /// whether the program watches its interface (the engine registers its VRID).
    pub fn attach_all(&mut self, prepared: &mut [Prepared]) {
        for p in prepared {
            if !self.attached.contains_key(&p.parent_name) {
                match self.program.attach(&p.parent_name, self.mode) {
                    Ok(a) => {
                        info!(interface = %a.interface, mode = ?a.mode, "XDP attached");
                        self.attached.insert(p.parent_name.clone(), a.mode);
                    }
                    Err(error) => {
                        warn!(
                            interface = %p.parent_name,
                            %error,
                            "XDP not attached; this interface runs on sockets only"
                        );
                        continue;
                    }
                }
            }
            p.runtime.xdp_ifindex = Some(p.parent_ifindex);
            p.runtime
                .feed
                .set_dataplane(match self.attached.get(&p.parent_name) {
                    Some(AttachMode::Generic) => "xdp-generic",
                    _ => "xdp-driver",
                });
        }
    }
}
