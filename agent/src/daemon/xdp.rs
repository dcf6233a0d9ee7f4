//! The XDP program as the daemon uses it: loaded once, attached to every VRRP interface it can
//! be attached to. Where it cannot, that interface runs on sockets alone, with a warning.
use anyhow::Result;
use std::{collections::HashMap, time::Duration};
use tracing::{info, warn};

use super::{engine::XdpBinding, setup::Prepared};
use crate::dataplane::{
    packet::EchoSocket,
    xdp::{AdvertRing, AttachMode, WatchedAgent, XdpMaps, XdpProgram},
};
use crate::vrrp::{
    budget::{self, Fault},
    Router,
};

/// The dead-man switch: the program stops answering ARP / NS for VIPs and stops reflecting echo
/// probes when the engine's heartbeat is older than `bound`; the engine stamps it every
/// `every`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deadman {
    pub every: Duration,
    pub bound: Duration,
}

impl Deadman {
    /// With fast-mode instances, a hung vipd's echoes must stop quickly, since they keep its
    /// backups waiting (a killed or SIGSTOPped one is silenced at once by the agent watch, see
    /// [`watch_this_process`]; the bound is for what the kernel does not report, a deadlock or a
    /// cgroup freeze): 10 ms, about seven times the longest wake-up delay of a
    /// SCHED_FIFO thread measured on a loaded 2-core VM (1.4 ms under stress-ng), so a slow
    /// master is not taken for a hung one.
    /// Otherwise 100 ms, which leaves room for an ordinary thread's delays (up to 5 ms).
    pub fn for_config(any_fast_mode: bool) -> Self {
        if any_fast_mode {
            Self {
                every: Duration::from_millis(1),
                bound: Duration::from_millis(10),
            }
        } else {
            Self {
                every: Duration::from_millis(10),
                bound: Duration::from_millis(100),
            }
        }
    }
}

/// Has the kernel silence the program the moment this process exits or takes SIGSTOP, so that
/// a killed or frozen vipd's node stops echoing and answering ARP / NS within microseconds, not
/// after the dead-man bound. Without it (no CAP_PERFMON, say) the bound still holds.
fn watch_this_process(program: &mut XdpProgram, maps: &mut XdpMaps, deadman: Deadman) {
    let watched = WatchedAgent::this_process()
        .map_err(anyhow::Error::from)
        .and_then(|agent| Ok(maps.watch_agent(agent)?))
        .and_then(|()| Ok(program.watch_agent()?));
    match watched {
        Ok(()) => info!("XDP answers stop the moment the kernel reports vipd exited or stopped"),
        Err(error) => warn!(
            error = format!("{error:#}"),
            deadman_bound_ms = deadman.bound.as_millis() as u64,
            "XDP answers of a killed or stopped vipd stop only after the dead-man bound"
        ),
    }
}

pub struct XdpAttachments {
    program: XdpProgram,
    mode: AttachMode,
    /// Interface name -> the mode the program is attached in there.
    attached: HashMap<String, AttachMode>,
    /// What the echo's detection budget depends on, for the log.
    deadman: Deadman,
}

impl XdpAttachments {
    /// Loads the program and takes its advert ring and maps; `None` (with a warning) when this
    /// kernel or these privileges cannot load it.
    pub fn load(mode: AttachMode, deadman: Deadman) -> Result<Option<(Self, AdvertRing, XdpMaps)>> {
        let mut program = match XdpProgram::load() {
            Ok(program) => program,
            Err(error) => {
                warn!(%error, "XDP unavailable; running on sockets only");
                return Ok(None);
            }
        };
        let ring = program.take_adverts()?;
        let mut maps = program.take_maps()?;
        maps.set_deadman_bound(deadman.bound)?;
        watch_this_process(&mut program, &mut maps, deadman);
        Ok(Some((
            Self {
                program,
                mode,
                attached: HashMap::new(),
                deadman,
            },
            ring,
            maps,
        )))
    }

    /// Attaches the program to the VRRP interface of `prepared` unless it already is, and says
    /// how the instance runs on it; `None` (with a warning) when it cannot be attached there.
    pub fn bind(&mut self, prepared: &Prepared) -> Option<XdpBinding> {
        let interface = &prepared.parent_name;
        let mode = match self.attached.get(interface) {
            Some(&mode) => mode,
            None => match self.program.attach(interface, self.mode) {
                Ok(a) => {
                    info!(interface = %a.interface, mode = ?a.mode, "XDP attached");
                    self.attached.insert(interface.clone(), a.mode);
                    a.mode
                }
                Err(error) => {
                    warn!(
                        interface = %interface,
                        %error,
                        "XDP not attached; this interface runs on sockets only"
                    );
                    return None;
                }
            },
        };
        let parts = &prepared.parts;
        let mut echo = None;
        if parts.router.authenticates() {
            // An echo carries no MAC (see docs/auth-hmac.md): the router keeps it off. With
            // auth_type AH the program does not even see the adverts (protocol 51).
            info!(
                instance = %parts.name,
                "authenticated adverts (auth_hmac or auth_type AH): no liveness echo and no XDP advert records; master loss is judged from verified adverts"
            );
        } else if parts.router.config().fast_mode {
            match EchoSocket::open(interface) {
                Ok(socket) => {
                    echo = Some(socket);
                    self.log_budget(&parts.name, &parts.router);
                }
                Err(error) => warn!(
                    instance = %parts.name,
                    %error,
                    "no liveness echo: master loss is judged from adverts alone"
                ),
            }
        }
        Some(XdpBinding {
            ifindex: prepared.parent_ifindex,
            echo,
            dataplane: match mode {
                AttachMode::Generic => "xdp-generic",
                _ => "xdp-driver",
            },
        })
    }

    /// What the liveness echo promises this instance as a backup, before the link's delay.
    fn log_budget(&self, instance: &str, router: &Router) {
        let config = router.config();
        let params = budget::Params {
            advert_interval: config.advert_interval,
            master_down_interval: router.master_down_interval(),
            echo: Some(config.echo),
            deadman_bound: self.deadman.bound,
            heartbeat_every: self.deadman.every,
            delay: Duration::ZERO,
            jitter: Duration::ZERO,
        };
        let us = |d: Option<Duration>| d.map_or(u64::MAX, |d| d.as_micros() as u64);
        let gone = budget::budget(Fault::MasterGone, &params);
        let stall = budget::budget(Fault::MasterAgentStall, &params);
        let link = budget::budget(Fault::LinkStall, &params);
        info!(
            instance,
            echo_interval_us = config.echo.interval.as_micros() as u64,
            echo_timeout_us = config.echo.timeout.as_micros() as u64,
            master_gone_detected_within_us = us(gone.detected_within),
            master_agent_hung_detected_within_us = us(stall.detected_within),
            master_agent_stall_tolerated_us = us(Some(stall.tolerated)),
            link_stall_tolerated_us = us(Some(link.tolerated)),
            "liveness echo on"
        );
    }
}
