//! The health supervisor: turns check results, tracked files and tracked interfaces into each
//! instance's effective priority (or FAULT, or still INIT) with keepalived's arithmetic, and
//! tells the engine whenever that verdict changes. [`Supervisor`] is the arithmetic, without
//! I/O; [`supervise_health`] is the tokio task that feeds it (checks, files, the link watch)
//! and sends its verdicts and the check counters to the engine.
use anyhow::{Context, Result};
use std::{collections::HashMap, sync::Arc, time::Duration};
use tokio::sync::{mpsc, watch};
use tracing::{error, info};

use super::{
    bfd::BfdStates,
    convert,
    engine::{self, Command},
};
use crate::{
    bfd::State,
    config::{
        model::{Config, Instance},
        Checked,
    },
    control::status::CheckStatus,
    dataplane::netlink::{LinkState, Netlink},
    health::{
        effective_priority, spawn_check, spawn_track_file, CheckHandle, Effective, HealthEvent,
        TrackFileSpec, TrackStatus, Tracked,
    },
};

/// Where a tracked object's state comes from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Source {
    Check(String),
    /// A tracked file, by its path as written in the configuration.
    File(String),
    Link(String),
    /// A BFD session, by name: Up is up, every other state down.
    Bfd(String),
}

/// One instance's tracked objects with the weights this instance gives them.
#[derive(Debug, Clone)]
struct Tracking {
    base: u8,
    items: Vec<(Source, i32)>,
    /// Sources whose status counts reversed (keepalived's `weight N reverse` on track_bfd);
    /// their weight is stored negated, which together is keepalived's arithmetic.
    reversed: Vec<Source>,
}

/// The latest state of every tracked object, and the verdict last sent for each instance.
#[derive(Debug)]
pub struct Supervisor {
    instances: Vec<Tracking>,
    /// For each sync group, the indices of its member instances: a fault of one member is a
    /// fault of all (keepalived's vrrp_sync_group), so a router whose outside link fails also
    /// gives up its inside VIPs.
    groups: Vec<Vec<usize>>,
    statuses: HashMap<Source, TrackStatus>,
    files: HashMap<String, i64>,
    sent: Vec<Option<Effective>>,
}

impl Supervisor {
    /// Every instance tracks its own VRRP interface with weight 0 (down means FAULT, as in
    /// keepalived), plus what its configuration lists.
    pub fn new(config: &Config) -> Self {
        let instances = config
            .instances
            .iter()
            .map(|instance| tracking(config, instance))
            .collect::<Vec<_>>();
        let groups = config
            .sync_groups
            .iter()
            .map(|group| {
                group
                    .instances
                    .iter()
                    .filter_map(|name| config.instances.iter().position(|i| &i.name == name))
                    .collect()
            })
            .collect();
        Self {
            sent: vec![None; instances.len()],
            groups,
            instances,
            statuses: HashMap::new(),
            files: HashMap::new(),
        }
    }

    /// Every tracked interface name, for the link watch.
    pub fn links(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .instances
            .iter()
            .flat_map(|t| &t.items)
            .filter_map(|(source, _)| match source {
                Source::Link(name) => Some(name.clone()),
                _ => None,
            })
            .collect();
        names.sort();
        names.dedup();
        names
    }

    /// How many instances it supervises.
    pub fn len(&self) -> usize {
        self.instances.len()
    }

    /// The tracked objects of instance `index` with their current status (files excluded:
    /// they have a value, not an up/down state).
    pub fn statuses_of(&self, index: usize) -> Vec<(Source, TrackStatus)> {
        self.instances[index]
            .items
            .iter()
            .filter(|(source, _)| !matches!(source, Source::File(_)))
            .map(|(source, _)| {
                let status = self
                    .statuses
                    .get(source)
                    .copied()
                    .unwrap_or(TrackStatus::Init);
                (source.clone(), status)
            })
            .collect()
    }

    pub fn set_status(&mut self, source: Source, status: TrackStatus) {
        self.statuses.insert(source, status);
    }

    pub fn set_file(&mut self, path: String, value: i64) {
        self.files.insert(path, value);
    }

    /// The instances whose verdict changed since the last call, with the new verdict.
    pub fn changes(&mut self) -> Vec<(usize, Effective)> {
        let mut verdicts: Vec<Effective> = (0..self.instances.len())
            .map(|index| self.verdict(index))
            .collect();
        for members in &self.groups {
            if members.iter().any(|&m| verdicts[m] == Effective::Fault) {
                for &m in members {
                    verdicts[m] = Effective::Fault;
                }
            }
        }
        let mut changes = Vec::new();
        for (index, verdict) in verdicts.into_iter().enumerate() {
            if self.sent[index] != Some(verdict) {
                self.sent[index] = Some(verdict);
                changes.push((index, verdict));
            }
        }
        changes
    }

    /// Instance `index`'s own verdict, before sync groups.
    fn verdict(&self, index: usize) -> Effective {
        let tracking = &self.instances[index];
        let tracked = tracking.items.iter().map(|(source, weight)| match source {
            Source::File(path) => Tracked::File {
                weight: *weight,
                value: self.files.get(path).copied().unwrap_or(0),
            },
            other => {
                let status = self
                    .statuses
                    .get(other)
                    .copied()
                    .unwrap_or(TrackStatus::Init);
                let status = match (tracking.reversed.contains(other), status) {
                    (true, TrackStatus::Up) => TrackStatus::Down,
                    (true, TrackStatus::Down) => TrackStatus::Up,
                    (_, status) => status,
                };
                Tracked::Status {
                    weight: *weight,
                    status,
                }
            }
        });
        effective_priority(tracking.base, tracked)
    }
}

fn tracking(config: &Config, instance: &Instance) -> Tracking {
    let mut items = vec![(Source::Link(instance.interface.clone()), 0)];
    for link in &instance.track_interfaces {
        items.push((
            Source::Link(link.name.clone()),
            i32::from(link.weight.get()),
        ));
    }
    for file in &instance.track_files {
        items.push((
            Source::File(file.path.display().to_string()),
            i32::from(file.weight.get()),
        ));
    }
    for tracked in &instance.track_checks {
        let default = config
            .checks
            .iter()
            .find(|c| c.name == tracked.check)
            .map(|c| c.weight);
        // Validation guarantees the check exists.
        let weight = tracked.weight.or(default).map_or(0, |w| w.get());
        items.push((Source::Check(tracked.check.clone()), i32::from(weight)));
    }
    let mut reversed = Vec::new();
    for tracked in &instance.track_bfd {
        // Validation guarantees the session exists.
        let Some(session) = config.bfd.iter().find(|b| b.name == tracked.name) else {
            continue;
        };
        let weight = i32::from(tracked.weight.unwrap_or(session.weight).get());
        let source = Source::Bfd(tracked.name.clone());
        if tracked.reverse.unwrap_or(session.reverse) {
            reversed.push(source.clone());
            items.push((source, -weight));
        } else {
            items.push((source, weight));
        }
    }
    Tracking {
        base: instance.priority.get(),
        items,
        reversed,
    }
}

/// The tracked status of a BFD session's state.
fn bfd_status(state: State) -> TrackStatus {
    if state == State::Up {
        TrackStatus::Up
    } else {
        TrackStatus::Down
    }
}

/// How often check counters are copied to the status while nothing changes.
const TRACKING_REFRESH: Duration = Duration::from_secs(1);
/// How often tracked files are read.
const TRACK_FILE_POLL: Duration = Duration::from_millis(500);

/// Sends each instance's check and interface status to the engine for its status feed.
fn publish_tracking(
    supervisor: &Supervisor,
    checks: &[CheckHandle],
    engine: &engine::EngineHandle,
) {
    for instance in 0..supervisor.len() {
        let mut check_statuses = Vec::new();
        let mut interfaces = Vec::new();
        for (source, status) in supervisor.statuses_of(instance) {
            match source {
                Source::Check(name) => {
                    if let Some(handle) = checks.iter().find(|h| h.name() == name) {
                        let snapshot = handle.snapshot();
                        check_statuses.push(CheckStatus {
                            name,
                            up: snapshot.status == TrackStatus::Up,
                            runs: snapshot.runs,
                            failures: snapshot.failures,
                            last_latency_us: snapshot.last_latency.map(|d| d.as_micros() as u64),
                        });
                    }
                }
                Source::Link(name) => interfaces.push((name, status == TrackStatus::Up)),
                Source::File(_) | Source::Bfd(_) => {}
            }
        }
        engine.send(Command::Tracking {
            instance,
            checks: check_statuses,
            interfaces,
        });
    }
}

/// Runs the checks, tracked files and the link watch, and keeps the engine told of each
/// instance's effective priority.
pub(super) async fn supervise_health(
    checked: Checked,
    netlink: Arc<Netlink>,
    engine: Arc<engine::EngineHandle>,
    mut bfd: Option<watch::Receiver<BfdStates>>,
) -> Result<()> {
    let config = &checked.config;
    let mut supervisor = Supervisor::new(config);
    // keepalived starts a tracked session down (vrrp_track.c): weight 0 means FAULT until Up.
    for session in &config.bfd {
        supervisor.set_status(Source::Bfd(session.name.clone()), TrackStatus::Down);
    }
    if let Some(bfd) = &mut bfd {
        for (name, state) in bfd.borrow_and_update().iter() {
            supervisor.set_status(Source::Bfd(name.clone()), bfd_status(*state));
        }
    }
    let (tx, mut health_events) = mpsc::unbounded_channel();
    let mut handles = Vec::new();
    for check in &config.checks {
        let spec = convert::check_spec(config, check)?;
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
    let mut refresh = tokio::time::interval(TRACKING_REFRESH);
    loop {
        tokio::select! {
            _ = refresh.tick() => publish_tracking(&supervisor, &handles, &engine),
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
            Some(states) = bfd_changed(&mut bfd) => {
                for (name, state) in states {
                    info!(session = %name, state = state.name(), "tracked BFD session");
                    supervisor.set_status(Source::Bfd(name), bfd_status(state));
                }
            }
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

/// The session states after the next change; never resolves without a BFD thread, or once
/// it has gone.
async fn bfd_changed(bfd: &mut Option<watch::Receiver<BfdStates>>) -> Option<BfdStates> {
    let Some(receiver) = bfd else {
        return std::future::pending().await;
    };
    if receiver.changed().await.is_err() {
        *bfd = None;
        return None;
    }
    Some(receiver.borrow_and_update().clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::daemon::fixtures::{self, ONE_INSTANCE, SYNC_GROUP};

    fn supervisor(toml: &str) -> Supervisor {
        Supervisor::new(&fixtures::config(toml))
    }

    /// [`ONE_INSTANCE`] tracking a TCP check and a second interface.
    fn tracked_config() -> String {
        format!(
            r#"
[[check]]
name = "api"
type = "tcp"
address = "127.0.0.1"
port = 6443
weight = -20
{ONE_INSTANCE}track_checks = ["api"]
track_interfaces = [{{ name = "eth1", weight = 10 }}]
"#
        )
    }

    #[test]
    fn a_fault_in_a_sync_group_faults_every_member() {
        let mut s = supervisor(SYNC_GROUP);
        s.set_status(Source::Link("eth0".into()), TrackStatus::Up);
        s.set_status(Source::Link("eth1".into()), TrackStatus::Up);
        assert_eq!(
            s.changes(),
            vec![(0, Effective::Priority(100)), (1, Effective::Priority(100))]
        );
        s.set_status(Source::Link("eth1".into()), TrackStatus::Down);
        assert_eq!(
            s.changes(),
            vec![(0, Effective::Fault), (1, Effective::Fault)]
        );
        s.set_status(Source::Link("eth1".into()), TrackStatus::Up);
        assert_eq!(
            s.changes(),
            vec![(0, Effective::Priority(100)), (1, Effective::Priority(100))]
        );
    }

    #[test]
    fn waits_in_init_until_its_interface_reports_then_follows_weights() {
        let mut s = supervisor(&tracked_config());
        assert_eq!(s.links(), vec!["eth0".to_string(), "eth1".to_string()]);
        assert_eq!(s.changes(), vec![(0, Effective::Init)]);
        s.set_status(Source::Link("eth0".into()), TrackStatus::Up);
        s.set_status(Source::Link("eth1".into()), TrackStatus::Up);
        s.set_status(Source::Check("api".into()), TrackStatus::Up);
        assert_eq!(s.changes(), vec![(0, Effective::Priority(160))]);
        assert_eq!(s.changes(), vec![], "no change, nothing sent");
        s.set_status(Source::Check("api".into()), TrackStatus::Down);
        assert_eq!(s.changes(), vec![(0, Effective::Priority(140))]);
        s.set_status(Source::Link("eth0".into()), TrackStatus::Down);
        assert_eq!(s.changes(), vec![(0, Effective::Fault)]);
    }

    /// keepalived's track_bfd (vrrp_track.c `initialise_track_bfd_state`, vrrp_scheduler.c
    /// `vrrp_handle_bfd_event`), from a session that starts Down: +w while Up for w > 0, -|w|
    /// while Down for w < 0, FAULT while Down for 0; `reverse` swaps Up and Down.
    #[test]
    fn track_bfd_weights_as_keepalived_does() {
        let cases: [(&str, [Effective; 2]); 6] = [
            (
                "weight = 20",
                [Effective::Priority(150), Effective::Priority(170)],
            ),
            (
                "weight = -30",
                [Effective::Priority(120), Effective::Priority(150)],
            ),
            ("", [Effective::Fault, Effective::Priority(150)]),
            (
                "weight = 20, reverse = true",
                [Effective::Priority(150), Effective::Priority(130)],
            ),
            (
                "weight = -30, reverse = true",
                [Effective::Priority(180), Effective::Priority(150)],
            ),
            (
                "reverse = true",
                [Effective::Priority(150), Effective::Fault],
            ),
        ];
        for (weight, [down, up]) in cases {
            let separator = if weight.is_empty() { "" } else { ", " };
            let toml = format!(
                "{ONE_INSTANCE}track_bfd = [{{ name = \"peer\"{separator}{weight} }}]\n\
                 [[bfd]]\nname = \"peer\"\nneighbor = \"192.0.2.1\"\n"
            );
            let mut s = supervisor(&toml);
            s.set_status(Source::Link("eth0".into()), TrackStatus::Up);
            s.set_status(Source::Bfd("peer".into()), bfd_status(State::Down));
            assert_eq!(s.changes(), vec![(0, down)], "{weight}: down");
            s.set_status(Source::Bfd("peer".into()), bfd_status(State::Up));
            assert_eq!(s.changes(), vec![(0, up)], "{weight}: up");
            s.set_status(Source::Bfd("peer".into()), bfd_status(State::Init));
            assert_eq!(
                s.changes(),
                vec![(0, down)],
                "{weight}: init counts as down"
            );
        }
    }
}
