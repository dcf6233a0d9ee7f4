//! `vipd run`: the daemon. The one place where I/O meets the state machines.
//!
//! Startup: load and check the configuration; take the control socket's lock and the
//! instances' claims against other daemons on the host ([`claims`]) and write the pid file,
//! before anything else, so that a daemon that must not run changes nothing; clean up what a
//! vipd that died left (marked VIPs, virtual MACs); prepare every instance ([`setup`]); attach
//! the XDP program where it can be attached; start the engine thread ([`engine`]), which owns
//! all protocol timing; then run the slow parts on tokio: health checks and tracking
//! ([`health`]), notify commands, SIGHUP.
//!
//! SIGTERM / SIGINT: the engine thread reads them itself ([`engine::stop_signals`]): every
//! instance resigns (priority-0 adverts), VIPs are removed, STOP notifications run, and vipd
//! exits 0. A stop signal that arrives while the daemon starts waits until the engine runs.
//! SIGHUP: the configuration is read again; a bad one is refused with its errors and the
//! running one stays.
mod bfd;
pub(crate) mod claims;
pub(crate) mod convert;
mod engine;
#[cfg(test)]
mod fixtures;
mod health;
mod pid_file;
pub mod scripts;
mod setup;
mod sync_groups;
mod xdp;

use anyhow::{anyhow, Context, Result};
use std::{
    collections::HashMap,
    net::IpAddr,
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};
use tokio::{
    signal::unix::{signal, SignalKind},
    sync::mpsc,
    task::JoinHandle,
};
use tracing::{error, info, warn};

use crate::{
    config::{
        model::{Config, Dataplane, Instance, XdpMode},
        Checked, ConfigFile,
    },
    control::{
        board::{DaemonInfo, StatusBoard},
        metrics::MetricsServer,
        server::ControlServer,
    },
    dataplane::{
        netlink::{Netlink, Vmac},
        xdp::AttachMode,
    },
    lock_file::LockFile,
    notify::{Notifier, NotifierDone, NotifyState, NotifyTarget},
    vrrp::{State, TransitionReason},
};
use claims::{Claims, CLAIMS_DIR};
use engine::{Command, EngineSetup, Event};
use health::supervise_health;
use pid_file::PidFile;
use sync_groups::SyncGroups;
use xdp::{Deadman, XdpAttachments};

/// How `vipd run` was asked to run, beyond the configuration file.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub dataplane: Option<Dataplane>,
    pub xdp_mode: Option<AttachMode>,
    /// The control socket, instead of the configuration's `control_socket`.
    pub control_socket: Option<PathBuf>,
    /// Where to write the daemon's pid (none by default).
    pub pid_file: Option<PathBuf>,
}

/// /healthz reports the engine dead when it has not looped for this long. The engine wakes at
/// least every XDP heartbeat or advert interval; this leaves room for a badly loaded machine.
const ENGINE_SILENCE: Duration = Duration::from_secs(2);
/// How long stopping waits for STOP notify commands.
const STOP_NOTIFY_WAIT: Duration = Duration::from_secs(10);

/// Runs the daemon on `checked` (read from `config_file`, which SIGHUP reads again) until
/// SIGTERM or SIGINT.
pub fn run(config_file: ConfigFile, checked: Checked, overrides: Overrides) -> Result<()> {
    engine::stop_signals::block().context("blocking SIGTERM and SIGINT for the engine")?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .thread_name("vipd-tokio")
        .build()
        .context("starting the event loop")?;
    runtime.block_on(async {
        let (mut daemon, mut events) = Daemon::start(config_file, checked, overrides).await?;
        daemon.serve(&mut events).await?;
        daemon.stop().await;
        Ok(())
    })
}

/// The running daemon's tokio side.
struct Daemon {
    config_file: ConfigFile,
    current: Checked,
    netlink: Arc<Netlink>,
    xdp: Option<XdpAttachments>,
    engine: Arc<engine::EngineHandle>,
    notifier: Notifier,
    notifier_done: NotifierDone,
    /// Notify targets by instance name (kept after a reload removes an instance, so its STOP
    /// notification still finds its commands).
    targets: HashMap<String, Arc<NotifyTarget>>,
    /// Sync groups' notify targets by group name, and which state each group announced.
    group_targets: HashMap<String, Arc<NotifyTarget>>,
    sync_groups: SyncGroups,
    health: JoinHandle<Result<()>>,
    /// The BFD thread, when sessions are configured; dropped last-but-one, it takes its
    /// sessions AdminDown.
    _bfd: Option<bfd::BfdHandle>,
    /// The BFD session states, for each health supervisor.
    bfd_states: Option<tokio::sync::watch::Receiver<bfd::BfdStates>>,
    vmacs: Vec<Vmac>,
    board: StatusBoard,
    /// Tells the control socket and metrics servers to stop.
    stop_servers: tokio::sync::watch::Sender<bool>,
    /// The running instances' claims against other daemons on the host.
    claims: Claims,
    /// This daemon's share of its network namespace, held until exit (see [`claims`]).
    _namespace: LockFile,
    /// Kept so that the pid file is removed when the daemon ends.
    _pid_file: Option<PidFile>,
}

impl Daemon {
    async fn start(
        config_file: ConfigFile,
        mut checked: Checked,
        overrides: Overrides,
    ) -> Result<(Self, mpsc::UnboundedReceiver<Event>)> {
        scripts::vet(&mut checked.config);
        let config = &checked.config;
        let control = ControlServer::bind(
            overrides
                .control_socket
                .as_deref()
                .unwrap_or(&config.global.control_socket),
        )?;
        let mut claims = Claims::new(Path::new(CLAIMS_DIR))?;
        claims.claim(&config.instances)?;
        let pid_file = overrides
            .pid_file
            .as_deref()
            .map(PidFile::write)
            .transpose()?;
        let netlink = Arc::new(Netlink::new().context("opening netlink")?);
        let namespace = remove_what_dead_daemons_left(&netlink, &claims, config).await?;
        let dataplane = overrides.dataplane.unwrap_or(config.global.dataplane);
        let board = StatusBoard::new(DaemonInfo {
            router_id: config.global.router_id.clone().unwrap_or_else(host_name),
            dataplane: match dataplane {
                Dataplane::Xdp => "xdp".into(),
                Dataplane::Socket => "socket".into(),
            },
        });
        let prepared = prepare_all(&netlink, &checked, &board).await?;

        let deadman = Deadman::for_config(config.instances.iter().any(Instance::is_fast_mode));
        let (mut xdp, fast_path) = match dataplane {
            Dataplane::Socket => {
                info!("dataplane: sockets only");
                (None, None)
            }
            Dataplane::Xdp => match XdpAttachments::load(xdp_mode(&overrides, config), deadman)? {
                Some((xdp, adverts, mut maps)) => {
                    // A node that runs BFD sessions is a BFD neighbour: its driver reflects
                    // the neighbours' RFC 9747 echo packets (agent-ebpf/src/bfd.rs).
                    if !config.bfd.is_empty() {
                        maps.set_bfd_echo(true)?;
                        info!("XDP reflects BFD echo packets (RFC 9747)");
                    }
                    (
                        Some(xdp),
                        Some(engine::FastPath {
                            adverts,
                            maps,
                            heartbeat_every: deadman.every,
                        }),
                    )
                }
                None => (None, None),
            },
        };
        let vmacs = prepared.iter().filter_map(|p| p.vmac.clone()).collect();
        let instances: Vec<_> = prepared
            .into_iter()
            .map(|p| p.into_runtime(xdp.as_mut()))
            .collect();

        let targets = convert::notify_targets(config)?;
        let group_targets = convert::group_targets(config)?;
        let sync_groups = SyncGroups::new(config);
        let (notifier, notifier_done) =
            Notifier::start(config.global.notify_fifo.clone()).context("starting notify")?;
        // Built off the tokio runtime: it runs a runtime of its own on the engine thread.
        let vips = std::thread::spawn(engine::VipInstaller::new)
            .join()
            .map_err(|_| anyhow::anyhow!("netlink setup panicked"))??;
        let (events_tx, events) = mpsc::unbounded_channel();
        let engine = Arc::new(
            engine::spawn(
                EngineSetup {
                    instances,
                    fast_path,
                    realtime_priority: config
                        .global
                        .realtime
                        .enabled
                        .then_some(config.global.realtime.priority),
                    vips,
                    board: board.clone(),
                    liveness: Some(board.heartbeat("engine", ENGINE_SILENCE)),
                },
                events_tx,
            )
            .context("starting the engine thread")?,
        );
        let realtime = config
            .global
            .realtime
            .enabled
            .then_some(config.global.realtime.priority);
        let (bfd, bfd_states) = match bfd::spawn(&config.bfd, realtime, board.clone())? {
            Some((handle, states)) => (Some(handle), Some(states)),
            None => (None, None),
        };
        let health = tokio::spawn(supervise_health(
            checked.clone(),
            netlink.clone(),
            engine.clone(),
            bfd_states.clone(),
        ));
        let (stop_servers, servers_stopped) = tokio::sync::watch::channel(false);
        let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
            let _ = rx.wait_for(|stop| *stop).await;
        };
        let control_path = control.path().to_path_buf();
        tokio::spawn(control.serve(board.clone(), stopped(servers_stopped.clone())));
        if let Some(addr) = config.global.metrics_listen {
            let metrics = MetricsServer::bind(addr).await?;
            info!(%addr, "serving metrics and /healthz");
            tokio::spawn(metrics.serve(board.clone(), stopped(servers_stopped)));
        }
        info!(
            instances = config.instances.len(),
            control_socket = %control_path.display(),
            "vipd running"
        );
        Ok((
            Self {
                config_file,
                current: checked,
                netlink,
                xdp,
                engine,
                notifier,
                notifier_done,
                targets,
                group_targets,
                sync_groups,
                health,
                _bfd: bfd,
                bfd_states,
                vmacs,
                board,
                stop_servers,
                claims,
                _namespace: namespace,
                _pid_file: pid_file,
            },
            events,
        ))
    }

    /// Handles engine events and signals until the engine has stopped.
    async fn serve(&mut self, events: &mut mpsc::UnboundedReceiver<Event>) -> Result<()> {
        let mut sighup = signal(SignalKind::hangup())?;
        loop {
            tokio::select! {
                event = events.recv() => match event {
                    Some(Event::Transition(t)) => self.notify(&t),
                    Some(Event::Stopped) | None => return Ok(()),
                },
                _ = sighup.recv() => {
                    if let Err(error) = self.reload().await {
                        error!(
                            "reload refused, the running configuration stays: {}",
                            crate::cli::describe(&error)
                        );
                    }
                }
            }
        }
    }

    fn notify(&mut self, t: &engine::Transition) {
        let Some(state) = notify_state(t.to, t.reason) else {
            return;
        };
        if let Some(target) = self.targets.get(&t.instance) {
            self.notifier.notify(target, state, t.priority);
        }
        for (group, state) in self.sync_groups.record(&t.instance, state) {
            if let Some(target) = self.group_targets.get(&group) {
                // keepalived gives groups priority 0.
                self.notifier.notify(target, state, 0);
            }
        }
    }

    /// SIGHUP: reads the configuration again; a bad one is refused with its errors and the
    /// running one stays. Instances whose identity (interface, VRID, family) is unchanged keep
    /// their state.
    async fn reload(&mut self) -> Result<()> {
        let path = self.config_file.path().display().to_string();
        info!(config = %path, "SIGHUP: reloading the configuration");
        let mut checked = self
            .config_file
            .load()
            .map_err(|errors| anyhow!("{errors}"))?;
        for warning in &checked.warnings.0 {
            warn!("{}: {}", warning.location, warning.message);
        }
        scripts::vet(&mut checked.config);
        self.claims.claim(&checked.config.instances)?;
        let prepared = match prepare_all(&self.netlink, &checked, &self.board).await {
            Ok(prepared) => prepared,
            Err(error) => {
                self.claims.keep_only(&self.current.config.instances);
                return Err(error);
            }
        };
        self.claims.keep_only(&checked.config.instances);
        // Virtual MACs the new configuration uses, removed at exit; existing ones were adopted.
        for vmac in prepared.iter().filter_map(|p| p.vmac.clone()) {
            if !self.vmacs.iter().any(|known| known.name == vmac.name) {
                self.vmacs.push(vmac);
            }
        }
        let identity = |i: &Instance| (i.interface.clone(), i.vrid, i.family);
        let old: Vec<_> = self.current.config.instances.iter().map(identity).collect();
        let slots = checked
            .config
            .instances
            .iter()
            .zip(prepared)
            .map(|(instance, p)| {
                let replaces = old.iter().position(|id| *id == identity(instance));
                (replaces, p.into_runtime(self.xdp.as_mut()))
            })
            .collect();
        self.targets
            .extend(convert::notify_targets(&checked.config)?);
        self.group_targets = convert::group_targets(&checked.config)?;
        self.sync_groups = SyncGroups::new(&checked.config);
        self.engine.send(Command::Reload(slots));
        self.health.abort();
        // The BFD sessions stay those vipd started with (docs/bfd.md); what the new
        // configuration tracks of them follows.
        self.health = tokio::spawn(supervise_health(
            checked.clone(),
            self.netlink.clone(),
            self.engine.clone(),
            self.bfd_states.clone(),
        ));
        self.current = checked;
        info!("configuration reloaded");
        Ok(())
    }

    /// After the engine stopped: STOP notifications, virtual MACs removed.
    async fn stop(self) {
        self.health.abort();
        let _ = self.stop_servers.send(true);
        if let Ok(engine) = Arc::try_unwrap(self.engine) {
            engine.join();
        }
        drop(self.xdp);
        drop(self.notifier);
        if tokio::time::timeout(STOP_NOTIFY_WAIT, self.notifier_done.wait())
            .await
            .is_err()
        {
            warn!("notify commands still running after {STOP_NOTIFY_WAIT:?}; not waiting longer");
        }
        for vmac in &self.vmacs {
            if let Err(error) = self.netlink.remove_vmac(vmac).await {
                warn!(interface = %vmac.name, %error, "cannot remove virtual MAC interface");
            }
        }
        info!("vipd stopped");
    }
}

/// Removes what dead vipd daemons left in this network namespace, and returns this daemon's
/// share of the namespace, kept until exit. A daemon alone in the namespace removes every VIP
/// and virtual MAC interface vipd marked; beside other daemons it removes only the marked VIPs
/// of its own configuration (its claims say no live daemon manages them) and adopts its virtual
/// MACs when it creates them.
async fn remove_what_dead_daemons_left(
    netlink: &Netlink,
    claims: &Claims,
    config: &Config,
) -> Result<LockFile> {
    if let Some(alone) = claims.namespace_alone()? {
        for vip in netlink.remove_stale_vips().await? {
            info!(vip = %vip.addr(), "removed a VIP left by an earlier vipd");
        }
        for name in netlink.remove_stale_vmacs().await? {
            info!(interface = %name, "removed a virtual MAC interface left by an earlier vipd");
        }
        return Ok(alone.share()?);
    }
    // Waits while a daemon that started alone removes everything: briefly, at start only.
    let share = claims.share_namespace()?;
    let ours: Vec<IpAddr> = config
        .instances
        .iter()
        .flat_map(|i| i.vips.iter().chain(&i.excluded_vips))
        .map(|vip| vip.address.addr())
        .collect();
    for vip in netlink.remove_stale_vips_among(&ours).await? {
        info!(vip = %vip.addr(), "removed a VIP left by an earlier vipd");
    }
    info!(
        "other vipd daemons run in this network namespace: only this configuration's VIPs \
         were checked for leftovers"
    );
    Ok(share)
}

async fn prepare_all(
    netlink: &Netlink,
    checked: &Checked,
    board: &StatusBoard,
) -> Result<Vec<setup::Prepared>> {
    let mut prepared = Vec::new();
    for index in 0..checked.config.instances.len() {
        prepared.push(setup::prepare(netlink, checked, index, board).await?);
    }
    Ok(prepared)
}

/// The host name, vipd's router_id unless configured (as keepalived's).
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|name| name.trim().to_string())
        .unwrap_or_else(|_| "vipd".into())
}

fn xdp_mode(overrides: &Overrides, config: &Config) -> AttachMode {
    overrides.xdp_mode.unwrap_or(match config.global.xdp_mode {
        XdpMode::Auto => AttachMode::Auto,
        XdpMode::Driver => AttachMode::Driver,
        XdpMode::Generic => AttachMode::Generic,
    })
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
