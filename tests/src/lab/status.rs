//! Each node's status from its own control socket, as `vipd status` asks for it
//! (`vipd::control::client::fetch_status`), on a thread per node: a SIGSTOPped vipd accepts the
//! connection and never answers, and the screen must not freeze with it.
use std::{
    path::PathBuf,
    sync::{
        atomic::{AtomicBool, Ordering},
        mpsc, Arc,
    },
    time::Duration,
};

use agent_common::counter::ADVERTS_RECORDED;
use vipd::control::{client::fetch_status, status::Snapshot};

use super::model::NodeStatus;
use crate::clock::monotonic_ns;

/// How often each node is asked: often, so that the counters' steps are seen close to when
/// they happen (see `rate`).
const PERIOD: Duration = Duration::from_millis(100);

/// One answer, or why there was none.
pub struct Reading {
    pub node: u8,
    /// CLOCK_MONOTONIC ns of the answer.
    pub at_ns: u64,
    pub status: Result<NodeStatus, String>,
}

/// The threads asking every node; they stop when this is dropped (one still waiting on a
/// frozen daemon ends when the daemon is killed, with the lab).
pub struct StatusPollers {
    readings: mpsc::Receiver<Reading>,
    stop: Arc<AtomicBool>,
}

impl StatusPollers {
    /// Asks node `n` (1-based) at `sockets[n - 1]`.
    pub fn start(sockets: Vec<PathBuf>) -> Self {
        let (tx, readings) = mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        for (node, socket) in (1u8..).zip(sockets) {
            let (tx, stop) = (tx.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let status =
                        fetch_status(&socket)
                            .map_err(|e| e.to_string())
                            .and_then(|snapshot| {
                                node_status(&snapshot).ok_or_else(|| "no instance".to_string())
                            });
                    let reading = Reading {
                        node,
                        at_ns: monotonic_ns(),
                        status,
                    };
                    if tx.send(reading).is_err() {
                        break;
                    }
                    std::thread::sleep(PERIOD);
                }
            });
        }
        Self { readings, stop }
    }

    /// The answers that came since the last call.
    pub fn take(&self) -> Vec<Reading> {
        self.readings.try_iter().collect()
    }
}

/// The node's status: its first (in the lab, only) instance. With XDP, a backup's program
/// drops the followed master's routine adverts after recording them, so they never reach the
/// socket that counts `adverts_in`: what reached the node is then the program's count of the
/// adverts it recorded.
fn node_status(snapshot: &Snapshot) -> Option<NodeStatus> {
    let instance = snapshot.instances.first()?;
    let adverts_in = snapshot
        .daemon
        .xdp
        .as_ref()
        .map_or(instance.adverts_in, |counters| {
            counters.get(ADVERTS_RECORDED)
        });
    Some(NodeStatus {
        state: instance.state,
        priority: instance.effective_priority,
        base_priority: instance.base_priority,
        adverts_in,
        adverts_out: instance.adverts_out,
    })
}

impl Drop for StatusPollers {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}
