//! A deterministic in-process simulator of N VRRP routers on one segment (test code).
//!
//! Virtual clock, per-link delay and loss, partitions, crash (the process vanishes: no
//! resignation, addresses gone) and restart, graceful shutdown. Adverts travel as real bytes
//! through the codec and each receiver's validation, exactly as the daemon will feed them.
//! Everything random comes from one seeded RNG, so a failing seed replays exactly.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::net::IpAddr;
use std::time::Duration;

use super::config::RouterConfig;
use super::router::{Action, Router, State};
use super::test_support::{addr, GROUP_V4};
use super::time::Instant;
use super::validate::RxMeta;

/// One router of the simulation.
pub struct Node {
    pub config: RouterConfig,
    pub router: Router,
    pub alive: bool,
    /// Whether the node holds the virtual addresses (AddVips minus RemoveVips).
    pub holds_vips: bool,
}

/// A recorded change of role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    pub at: Instant,
    pub node: usize,
    pub from: State,
    pub to: State,
}

#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Delivery {
    at: Instant,
    /// Tie-breaker keeping same-time deliveries in send order (determinism).
    seq: u64,
    to: usize,
    from: usize,
    bytes: Vec<u8>,
}

pub struct Sim {
    pub now: Instant,
    pub nodes: Vec<Node>,
    /// One-way delay of every link.
    delay: Duration,
    /// Probability that a message from i to j is lost.
    loss: Vec<Vec<f64>>,
    /// `reach[i][j]`: whether i's messages reach j at all (partitions).
    reach: Vec<Vec<bool>>,
    in_flight: BinaryHeap<Reverse<Delivery>>,
    seq: u64,
    rng: fastrand::Rng,
    pub transitions: Vec<Transition>,
    /// Time-ordered record of the set of nodes in Master, each time it changed.
    pub masters: Vec<(Instant, Vec<usize>)>,
    /// Adverts a node's validation dropped (should stay zero on a healthy segment).
    pub drops: u64,
}

impl Sim {
    /// Routers built from `configs` (node i has primary address `addr(i + 1)` in the
    /// helpers), all links with `delay` and no loss. Nothing is started.
    pub fn new(configs: Vec<RouterConfig>, delay: Duration, seed: u64) -> Sim {
        let n = configs.len();
        let nodes = configs
            .into_iter()
            .map(|config| Node {
                router: Router::new(config.clone()).expect("valid sim config"),
                config,
                alive: false,
                holds_vips: false,
            })
            .collect();
        Sim {
            now: Instant::ZERO,
            nodes,
            delay,
            loss: vec![vec![0.0; n]; n],
            reach: vec![vec![true; n]; n],
            in_flight: BinaryHeap::new(),
            seq: 0,
            rng: fastrand::Rng::with_seed(seed),
            transitions: Vec::new(),
            masters: vec![(Instant::ZERO, Vec::new())],
            drops: 0,
        }
    }

    /// Loss probability on every link.
    pub fn set_loss_all(&mut self, p: f64) {
        for row in &mut self.loss {
            row.fill(p);
        }
    }

    /// Split the segment: nodes in `side` reach each other, the rest reach each other, and
    /// nothing crosses.
    pub fn partition(&mut self, side: &[usize]) {
        let n = self.nodes.len();
        for i in 0..n {
            for j in 0..n {
                self.reach[i][j] = side.contains(&i) == side.contains(&j);
            }
        }
    }

    pub fn heal(&mut self) {
        for row in &mut self.reach {
            row.fill(true);
        }
    }

    pub fn start(&mut self, node: usize) {
        let now = self.now;
        self.nodes[node].alive = true;
        self.nodes[node].router.handle_startup(now);
        self.drain(node);
    }

    pub fn start_all(&mut self) {
        for i in 0..self.nodes.len() {
            self.start(i);
        }
    }

    /// The process dies: no resignation, its addresses vanish with it, messages to it are lost.
    pub fn crash(&mut self, node: usize) {
        let n = &mut self.nodes[node];
        n.alive = false;
        n.holds_vips = false;
        n.router = Router::new(n.config.clone()).expect("valid sim config");
        self.record_masters();
    }

    /// A crashed node comes back with fresh state.
    pub fn restart(&mut self, node: usize) {
        assert!(!self.nodes[node].alive, "restart of a live node");
        self.start(node);
    }

    pub fn shutdown(&mut self, node: usize) {
        let now = self.now;
        self.nodes[node].router.handle_shutdown(now);
        self.drain(node);
        self.nodes[node].alive = false;
    }

    pub fn set_priority(&mut self, node: usize, priority: u8) {
        let now = self.now;
        self.nodes[node].router.set_priority(now, priority);
        self.drain(node);
    }

    pub fn set_fault(&mut self, node: usize, fault: bool) {
        let now = self.now;
        self.nodes[node].router.set_fault(now, fault);
        self.drain(node);
    }

    /// Run every event up to and including `until`, then leave the clock there.
    pub fn run_until(&mut self, until: Instant) {
        while let Some(at) = self.next_event().filter(|t| *t <= until) {
            self.now = self.now.max(at);
            self.step();
        }
        self.now = self.now.max(until);
    }

    pub fn run_for(&mut self, d: Duration) {
        let until = self.now.saturating_add(d);
        self.run_until(until);
    }

    /// Nodes in Master now.
    pub fn current_masters(&self) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|i| self.nodes[*i].alive && self.nodes[*i].router.state() == State::Master)
            .collect()
    }

    /// The node that should be master: highest effective priority, ties to the higher
    /// address, among live nodes that are not in fault.
    pub fn expected_master(&self) -> Option<usize> {
        (0..self.nodes.len())
            .filter(|i| self.nodes[*i].alive && self.nodes[*i].router.state() != State::Fault)
            .max_by_key(|i| {
                let r = &self.nodes[*i].router;
                (r.effective_priority(), r.config().primary_address)
            })
    }

    /// First time at or after `since` when `node` entered Master.
    pub fn became_master_at(&self, node: usize, since: Instant) -> Option<Instant> {
        self.transitions
            .iter()
            .find(|t| t.node == node && t.to == State::Master && t.at >= since)
            .map(|t| t.at)
    }

    /// Total time within [from, to] during which two or more nodes were Master.
    pub fn multi_master_time(&self, from: Instant, to: Instant) -> Duration {
        self.time_where(from, to, |m| m.len() >= 2)
    }

    /// If two or more nodes were Master at `t`: `Some(when that ended)`, `Some(None)` if it has
    /// not ended yet. `None` if there was no split brain at `t`.
    pub fn split_brain_end(&self, t: Instant) -> Option<Option<Instant>> {
        let k = self.masters.iter().rposition(|(at, _)| *at <= t)?;
        if self.masters[k].1.len() < 2 {
            return None;
        }
        Some(
            self.masters[k + 1..]
                .iter()
                .find(|(_, m)| m.len() < 2)
                .map(|(at, _)| *at),
        )
    }

    /// The times at or after `since` at which a single node became the sole master,
    /// differing from the previous sole master: the group's changes of master, with transient
    /// overlaps collapsed.
    pub fn master_changes(&self, since: Instant) -> Vec<(Instant, usize)> {
        let mut out: Vec<(Instant, usize)> = Vec::new();
        for (t, m) in self.masters.iter().filter(|(t, _)| *t >= since) {
            if let [only] = m.as_slice() {
                if out.last().map(|(_, n)| n) != Some(only) {
                    out.push((*t, *only));
                }
            }
        }
        out
    }

    fn time_where(&self, from: Instant, to: Instant, pred: impl Fn(&[usize]) -> bool) -> Duration {
        let mut total = Duration::ZERO;
        for (k, (start, set)) in self.masters.iter().enumerate() {
            let end = self.masters.get(k + 1).map_or(to, |(t, _)| *t);
            let (s, e) = ((*start).max(from), end.min(to));
            if e > s && pred(set) {
                total += e.saturating_duration_since(s);
            }
        }
        total
    }

    fn next_event(&self) -> Option<Instant> {
        let delivery = self.in_flight.peek().map(|Reverse(d)| d.at);
        let timer = self
            .nodes
            .iter()
            .filter(|n| n.alive)
            .filter_map(|n| n.router.poll_timeout())
            .min();
        match (delivery, timer) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Deliver everything due, then fire every due timer.
    fn step(&mut self) {
        let now = self.now;
        while self.in_flight.peek().is_some_and(|Reverse(d)| d.at <= now) {
            let Reverse(d) = self.in_flight.pop().expect("peeked");
            if !self.nodes[d.to].alive {
                continue;
            }
            let meta = RxMeta {
                src: addr_of(&self.nodes[d.from]),
                dst: GROUP_V4,
                ttl: 255,
            };
            let router = &mut self.nodes[d.to].router;
            match router.validate(&meta, &d.bytes) {
                Ok(advert) => router.handle_advert(d.at, &advert),
                Err(_) => self.drops += 1,
            }
            self.drain(d.to);
        }
        for i in 0..self.nodes.len() {
            let due = self.nodes[i].alive
                && self.nodes[i]
                    .router
                    .poll_timeout()
                    .is_some_and(|t| t <= now);
            if due {
                self.nodes[i].router.handle_timeout(now);
                self.drain(i);
            }
        }
    }

    /// Carry out a node's actions.
    fn drain(&mut self, node: usize) {
        while let Some(action) = self.nodes[node].router.poll_action() {
            match action {
                Action::SendAdvert { priority } => self.multicast(node, priority),
                Action::AddVips(_) => self.nodes[node].holds_vips = true,
                Action::RemoveVips(_) => self.nodes[node].holds_vips = false,
                Action::AnnounceVips(_) => {}
                Action::StateChanged { from, to, .. } => {
                    self.transitions.push(Transition {
                        at: self.now,
                        node,
                        from,
                        to,
                    });
                    self.record_masters();
                }
            }
        }
    }

    fn multicast(&mut self, from: usize, priority: u8) {
        let n = &self.nodes[from];
        let src = addr_of(n);
        let bytes = n
            .router
            .advert(priority)
            .emit_to_vec(src, GROUP_V4, n.config.v3_ipv4_checksum)
            .expect("sim advert emits");
        for to in 0..self.nodes.len() {
            if to == from || !self.reach[from][to] {
                continue;
            }
            let loss = self.loss[from][to];
            if loss > 0.0 && self.rng.f64() < loss {
                continue;
            }
            self.seq += 1;
            self.in_flight.push(Reverse(Delivery {
                at: self.now.saturating_add(self.delay),
                seq: self.seq,
                to,
                from,
                bytes: bytes.clone(),
            }));
        }
    }

    fn record_masters(&mut self) {
        let now = self.now;
        let masters = self.current_masters();
        match self.masters.last_mut() {
            Some((_, last)) if *last == masters => {}
            // Several changes at one instant (simultaneous timeouts): keep the outcome.
            Some((at, last)) if *at == now => *last = masters,
            _ => self.masters.push((now, masters)),
        }
    }
}

fn addr_of(node: &Node) -> IpAddr {
    node.config.primary_address
}

/// Configurations for `priorities.len()` routers, node i at address `i + 1`.
pub fn group(priorities: &[u8], interval: Duration) -> Vec<RouterConfig> {
    priorities
        .iter()
        .enumerate()
        .map(|(i, p)| super::test_support::v3_config(i as u8 + 1, *p, interval))
        .collect()
}

/// Address of node `i` (for assertions).
pub fn node_addr(i: usize) -> IpAddr {
    addr(i as u8 + 1)
}

mod props;
mod tests;
