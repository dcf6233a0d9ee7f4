//! The runner of one check: a tokio task that runs the check every interval, feeds the results
//! through the rise/fall counter, sends a [`HealthEvent::Check`] when the check goes up or
//! down, and keeps counters for metrics and `vipd status`.
//!
//! keepalived's `vrrp_script` semantics (keepalived.conf(5)): `interval` between runs (the
//! first run is immediate, `vrrp_init_script` queues it as an event), `timeout` after which a
//! run counts as failed, `rise` / `fall` consecutive results to change state, `init_fail` to
//! start failed. The weight is not the check's business: it belongs to each tracking instance
//! (see [`super::priority`]).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::mpsc::UnboundedSender;
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

use super::command::{CommandSpec, ScriptUser};
use super::http::{HttpCheck, HttpProber, HttpSetupError};
use super::priority::TrackStatus;
use super::probe::Prober;
use super::rise_fall::RiseFall;
use super::HealthEvent;

/// The shortest interval a check runs at. tokio's timer has millisecond granularity and the
/// brief of the built-ins is "down to 10 ms"; a shorter (or zero) configured interval is
/// raised to this rather than spinning.
pub const MIN_INTERVAL: Duration = Duration::from_millis(10);

/// One check as the daemon configures it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckSpec {
    /// The name instances track it by (keepalived's `vrrp_script NAME`).
    pub name: String,
    pub kind: CheckKind,
    pub interval: Duration,
    /// A run that takes longer counts as a failure (a script's process group is killed).
    pub timeout: Duration,
    pub rise: u32,
    pub fall: u32,
    pub init_fail: bool,
}

/// What a check does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckKind {
    /// Connect to this address.
    Tcp { addr: SocketAddr },
    /// GET a URL and compare the status.
    Http(HttpCheck),
    /// Run a program (`argv[0]`) with arguments; exit status 0 is success.
    Script {
        argv: Vec<String>,
        user: Option<ScriptUser>,
    },
}

/// Why a check cannot be started.
#[derive(Debug, thiserror::Error)]
pub enum CheckSetupError {
    #[error("check {check:?}: {source}")]
    Http {
        check: String,
        #[source]
        source: HttpSetupError,
    },
    #[error("check {0:?}: the script command is empty")]
    EmptyScript(String),
}

/// What a check has done so far, for metrics and status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckSnapshot {
    pub status: TrackStatus,
    pub runs: u64,
    pub successes: u64,
    pub failures: u64,
    /// How long the last run took (a timed-out run reports the time until it was cut off).
    pub last_latency: Option<Duration>,
    /// Why the last failed run failed.
    pub last_failure: Option<String>,
}

/// A running check. Dropping it stops the check (and kills a script it is running).
pub struct CheckHandle {
    name: Arc<str>,
    snapshot: Arc<Mutex<CheckSnapshot>>,
    task: JoinHandle<()>,
}

impl CheckHandle {
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The current counters and state. The state before the first event is here too:
    /// INIT, or DOWN with `init_fail`.
    pub fn snapshot(&self) -> CheckSnapshot {
        self.snapshot
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl Drop for CheckHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts `spec` on the current tokio runtime. State changes go to `events`; the runner stops
/// when the handle is dropped or when nobody receives events any more.
pub fn spawn_check(
    spec: CheckSpec,
    events: UnboundedSender<HealthEvent>,
) -> Result<CheckHandle, CheckSetupError> {
    let prober = match &spec.kind {
        CheckKind::Tcp { addr } => Prober::Tcp(*addr),
        CheckKind::Http(http) => {
            Prober::Http(
                HttpProber::new(http).map_err(|source| CheckSetupError::Http {
                    check: spec.name.clone(),
                    source,
                })?,
            )
        }
        CheckKind::Script { argv, user } => {
            if argv.is_empty() {
                return Err(CheckSetupError::EmptyScript(spec.name.clone()));
            }
            Prober::Script(CommandSpec {
                argv: argv.clone(),
                user: user.clone(),
                timeout: spec.timeout,
            })
        }
    };
    let counter = RiseFall::new(spec.rise, spec.fall, spec.init_fail);
    let name: Arc<str> = spec.name.as_str().into();
    let snapshot = Arc::new(Mutex::new(CheckSnapshot {
        status: counter.status(),
        runs: 0,
        successes: 0,
        failures: 0,
        last_latency: None,
        last_failure: None,
    }));
    let task = tokio::spawn(run(
        name.clone(),
        spec,
        prober,
        counter,
        snapshot.clone(),
        events,
    ));
    Ok(CheckHandle {
        name,
        snapshot,
        task,
    })
}

async fn run(
    name: Arc<str>,
    spec: CheckSpec,
    prober: Prober,
    mut counter: RiseFall,
    snapshot: Arc<Mutex<CheckSnapshot>>,
    events: UnboundedSender<HealthEvent>,
) {
    let mut ticker = tokio::time::interval(spec.interval.max(MIN_INTERVAL));
    // A run longer than the interval pushes the next one back instead of bursting to catch up.
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let started = Instant::now();
        let result = prober.run(&name, spec.timeout).await;
        let latency = started.elapsed();
        let transition = counter.record(result.is_ok());
        {
            let mut snapshot = snapshot.lock().unwrap_or_else(PoisonError::into_inner);
            snapshot.runs += 1;
            snapshot.last_latency = Some(latency);
            match &result {
                Ok(()) => snapshot.successes += 1,
                Err(failure) => {
                    snapshot.failures += 1;
                    snapshot.last_failure = Some(failure.to_string());
                }
            }
            snapshot.status = counter.status();
        }
        match &result {
            Ok(()) => tracing::trace!(check = %name, ?latency, "check succeeded"),
            Err(failure) => tracing::debug!(check = %name, ?latency, %failure, "check failed"),
        }
        if let Some(status) = transition {
            match &result {
                Err(failure) => {
                    tracing::info!(check = %name, ?status, %failure, "check changed state")
                }
                Ok(()) => tracing::info!(check = %name, ?status, "check changed state"),
            }
            let event = HealthEvent::Check {
                name: name.clone(),
                status,
            };
            if events.send(event).is_err() {
                tracing::debug!(check = %name, "nobody listens to health events; stopping check");
                return;
            }
        }
    }
}
