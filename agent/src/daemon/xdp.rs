//! The XDP program as the daemon uses it: loaded once, attached to every VRRP interface it can
//! be attached to. Where it cannot, that interface runs on sockets alone, with a warning.
use anyhow::Result;
use std::collections::HashMap;
use tracing::{info, warn};

use super::setup::Prepared;
use crate::dataplane::xdp::{AdvertRing, AttachMode, XdpProgram};

pub struct XdpAttachments {
    program: XdpProgram,
    mode: AttachMode,
    /// Interface name -> ifindex of every interface the program is attached to.
    attached: HashMap<String, u32>,
}

impl XdpAttachments {
    /// Loads the program and takes its advert ring; `None` (with a warning) when this kernel
    /// or these privileges cannot load it.
    pub fn load(mode: AttachMode) -> Result<Option<(Self, AdvertRing)>> {
        let mut program = match XdpProgram::load() {
            Ok(program) => program,
            Err(error) => {
                warn!(%error, "XDP unavailable; running on sockets only");
                return Ok(None);
            }
        };
        program.forward_logs()?;
        let ring = program.take_adverts()?;
        Ok(Some((
            Self {
                program,
                mode,
                attached: HashMap::new(),
            },
            ring,
        )))
    }

    /// Attaches to the VRRP interfaces of `prepared` not yet attached, and tells each instance
    /// whether the ring reports its adverts.
    pub fn attach_all(&mut self, prepared: &mut [Prepared]) {
        for p in prepared {
            if !self.attached.contains_key(&p.parent_name) {
                match self.program.attach(&p.parent_name, self.mode) {
                    Ok(a) => {
                        info!(interface = %a.interface, mode = ?a.mode, "XDP attached");
                        self.attached
                            .insert(p.parent_name.clone(), p.parent_ifindex);
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
        }
    }
}
