//! `vipd run`: the daemon. The one place where I/O meets the state machines.
//!
//! Startup: load and check the configuration; clean up what a vipd that died left (marked VIPs,
//! virtual MACs); prepare every instance ([`setup`]); attach the XDP program where it can be
//! attached; start the engine thread ([`engine`]), which owns all protocol timing; then run the
//! slow parts on tokio: health checks and tracking ([`health`]), notify commands, signals.
//!
//! SIGTERM / SIGINT: every instance resigns (priority-0 adverts), VIPs are removed, STOP
//! notifications run, and vipd exits 0.
mod clock;
mod convert;
mod engine;
mod health;
mod scripts;
mod setup;

use anyhow::{Context, Result};
use std::{sync::Arc, time::Duration};
use tokio::{
    signal::unix::{signal, SignalKind},
    sync::mpsc,
};
use tracing::{error, info, warn};

use crate::{
    config::{model::Dataplane, Checked},
    dataplane::{
        netlink::{LinkState, Netlink},
        xdp::{AttachMode, XdpProgram},
    },
    health::{spawn_check, spawn_track_file, HealthEvent, TrackFileSpec, TrackStatus},
    notify::{Notifier, NotifyState, NotifyTarget},
    vrrp::{State, TransitionReason},
};
use engine::{Command, EngineSetup, Event};
use health::{Source, Supervisor};

/// How `vipd run` was asked to run, beyond the configuration file.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub dataplane: Option<Dataplane>,
    pub xdp_mode: Option<AttachMode>,
}

/// How often tracked files are read.
const TRACK_FILE_POLL: Duration = Duration::from_millis(500);
/// How long stopping waits for STOP notify commands.
const STOP_NOTIFY_WAIT: Duration = Duration::from_secs(10);

/// Runs the daemon until SIGTERM or SIGINT.
pub fn run(checked: Checked, overrides: Overrides) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .thread_name("vipd-tokio")
        .build()
        .context("starting the event loop")?;
    runtime.block_on(daemon(checked, overrides))
}

async fn daemon(checked: Checked, overrides: Overrides) -> Result<()> {
    let config = &checked.config;
    let netlink = Arc::new(Netlink::new().context("opening netlink")?);
    for vip in netlink.remove_stale_vips().await? {
        info!(vip = %vip.addr(), "removed a VIP left by an earlier vipd");
    }
    for name in netlink.remove_stale_vmacs().await? {
        info!(interface = %name, "removed a virtual MAC interface left by an earlier vipd");
    }

    let mut prepared = Vec::new();
    for index in 0..config.instances.len() {
        prepared.push(setup::prepare(&netlink, &checked, index).await?);
    }

    let dataplane = overrides.dataplane.unwrap_or(config.global.dataplane);
    let xdp_mode = overrides.xdp_mode.unwrap_or(match config.global.xdp_mode {
        crate::config::model::XdpMode::Auto => AttachMode::Auto,
        crate::config::model::XdpMode::Driver => AttachMode::Driver,
        crate::config::model::XdpMode::Generic => AttachMode::Generic,
    });
    let (xdp, adverts) = match dataplane {
        Dataplane::Socket => {
            info!("dataplane: sockets only (--dataplane socket)");
            (None, None)
        }
        Dataplane::Xdp => attach_xdp(&mut prepared, xdp_mode)?,
    };

    let targets: Vec<Arc<NotifyTarget>> = config
        .instances
        .iter()
        .map(|instance| scripts::notify_target(config, instance))
        .collect::<Result<_>>()?;
    let (notifier, notifier_done) =
        Notifier::start(config.global.notify_fifo.clone()).context("starting notify")?;

    let vmacs: Vec<_> = prepared.iter().filter_map(|p| p.vmac.clone()).collect();
    // Built off the tokio runtime: it runs a runtime of its own on the engine thread.
    let vips = std::thread::spawn(engine::VipInstaller::new)
        .join()
        .map_err(|_| anyhow::anyhow!("netlink setup panicked"))??;
    let (events_tx, mut events) = mpsc::unbounded_channel();
    let engine = engine::spawn(
        EngineSetup {
            instances: prepared.into_iter().map(|p| p.runtime).collect(),
            adverts,
            realtime_priority: config
                .global
                .realtime
                .enabled
                .then_some(config.global.realtime.priority),
            vips,
        },
        events_tx,
    )
    .context("starting the engine thread")?;
    let engine = Arc::new(engine);

    let health = tokio::spawn(supervise_health(
        checked.clone(),
        netlink.clone(),
        engine.clone(),
    ));

    let mut sigterm = signal(SignalKind::terminate())?;
    let mut sigint = signal(SignalKind::interrupt())?;
    let mut sighup = signal(SignalKind::hangup())?;
    info!(instances = config.instances.len(), "vipd running");
    loop {
        tokio::select! {
            event = events.recv() => match event {
                Some(Event::Transition(t)) => {
                    if let Some(state) = notify_state(t.to, t.reason) {
                        notifier.notify(&targets[t.instance], state, t.priority);
                    }
                }
                Some(Event::Stopped) | None => break,
            },
            _ = sigterm.recv() => engine.send(Command::Shutdown),
            _ = sigint.recv() => engine.send(Command::Shutdown),
            _ = sighup.recv() => warn!("SIGHUP: configuration reload is not implemented yet; \
                                       restart vipd to apply a new configuration"),
        }
    }
    health.abort();
    // The engine has stopped; its thread ends right after saying so.
    if let Ok(engine) = Arc::try_unwrap(engine) {
        engine.join();
    }
    drop(xdp);
    drop(notifier);
    if tokio::time::timeout(STOP_NOTIFY_WAIT, notifier_done.wait())
        .await
        .is_err()
    {
        warn!("notify commands still running after {STOP_NOTIFY_WAIT:?}; not waiting longer");
    }
    for vmac in &vmacs {
        if let Err(error) = netlink.remove_vmac(vmac).await {
            warn!(interface = %vmac.name, %error, "cannot remove virtual MAC interface");
        }
    }
    info!("vipd stopped");
    Ok(())
}

/// The notification for a transition: keepalived's MASTER / BACKUP / FAULT, and STOP when the
/// instance leaves because vipd stops.
fn notify_state(to: State, reason: TransitionReason) -> Option<NotifyState> {
    match (to, reason) {
        (_, TransitionReason::Shutdown) => Some(NotifyState::Stop),
        (State::Master, _) => Some(NotifyState::Master),
        (State::Backup, _) => Some(NotifyState::Backup),
        (State::Fault, _) => Some(NotifyState::Fault),
        (State::Initialize, _) => None,
    }
}

/// Attaches the XDP program to every VRRP interface it can; where it cannot, that interface
/// runs on sockets alone, with a warning.
fn attach_xdp(
    prepared: &mut [setup::Prepared],
    mode: AttachMode,
) -> Result<(
    Option<XdpProgram>,
    Option<crate::dataplane::xdp::AdvertRing>,
)> {
    let mut program = match XdpProgram::load() {
        Ok(program) => program,
        Err(error) => {
            warn!(%error, "XDP unavailable; running on sockets only");
            return Ok((None, None));
        }
    };
    program.forward_logs()?;
    let ring = program.take_adverts()?;
    let mut attached: Vec<(String, u32)> = Vec::new();
    for p in prepared.iter_mut() {
        if !attached.iter().any(|(name, _)| name == &p.parent_name) {
            match program.attach(&p.parent_name, mode) {
                Ok(a) => {
                    info!(interface = %a.interface, mode = ?a.mode, "XDP attached");
                    attached.push((p.parent_name.clone(), p.parent_ifindex));
                }
                Err(error) => {
                    warn!(interface = %p.parent_name, %error, "XDP not attached; this interface runs on sockets only");
                    continue;
                }
            }
        }
        p.runtime.xdp_ifindex = Some(p.parent_ifindex);
    }
    Ok((Some(program), Some(ring)))
}

/// Runs the checks, tracked files and the link watch, and keeps the engine told of each
/// instance's effective priority.
async fn supervise_health(
    checked: Checked,
    netlink: Arc<Netlink>,
    engine: Arc<engine::EngineHandle>,
) -> Result<()> {
    let config = &checked.config;
    let mut supervisor = Supervisor::new(config);
    let (tx, mut health_events) = mpsc::unbounded_channel();
    let mut handles = Vec::new();
    for check in &config.checks {
        let spec = scripts::check_spec(config, check)?;
        handles.push(
            spawn_check(spec, tx.clone()).with_context(|| format!("check `{}`", check.name))?,
        );
    }
    let mut files = Vec::new();
    for instance in &config.instances {
        for file in &instance.track_files {
            let name = file.path.display().to_string();
            files.push(spawn_track_file(
                TrackFileSpec {
                    name: name.clone(),
                    path: file.path.clone(),
                    poll_interval: TRACK_FILE_POLL,
                },
                tx.clone(),
            ));
            supervisor.set_file(name, files.last().map_or(0, |f| f.value()));
        }
    }
    let mut links = netlink.watch_links(supervisor.links()).await?;
    let send = |supervisor: &mut Supervisor| {
        for (instance, effective) in supervisor.changes() {
            engine.send(Command::Health {
                instance,
                effective,
            });
        }
    };
    send(&mut supervisor);
    loop {
        tokio::select! {
            Some(event) = health_events.recv() => match event {
                HealthEvent::Check { name, status } => {
                    info!(check = %name, ?status, "check changed");
                    supervisor.set_status(Source::Check(name.to_string()), status);
                }
                HealthEvent::File { name, value } => {
                    info!(file = %name, value, "tracked file changed");
                    supervisor.set_file(name.to_string(), value);
                }
            },
            link = links.next() => match link {
                Some(event) => {
                    let status = match event.state {
                        LinkState::Up => TrackStatus::Up,
                        _ => TrackStatus::Down,
                    };
                    info!(interface = %event.name, state = %event.state, "tracked interface");
                    supervisor.set_status(Source::Link(event.name), status);
                }
                None => {
                    error!("the link watch failed; tracked interfaces are no longer followed");
                    return Ok(());
                }
            },
        }
        send(&mut supervisor);
    }
}
