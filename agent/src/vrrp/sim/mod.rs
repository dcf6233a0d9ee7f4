//! A deterministic in-process simulator of N VRRP routers on one segment (test code).
//!
//! Each node is an agent (the daemon's engine: the router, run by a scheduler that can stall)
//! plus a kernel part (its XDP program, which runs whatever the agent does): the kernel stamps
//! adverts and echoes at arrival and queues them for the agent, and, with the liveness echo on,
//! reflects probes while its node is master and its agent's dead-man heartbeat is fresh. A
//! running agent handles what is queued at once; a stalled one handles nothing, and when it
//! resumes it handles the queued records with their original stamps before any timer, as the
//! engine drains its ring and sockets before deciding.
//!
//! Faults: per-link delay, jitter (reordering) and loss, partitions, a node's cable pulled
//! (everything to and from it lost, in flight too), its link's softirq stalled (everything to
//! and from it held, then delivered and stamped together), its agent stalled (or dead: a stall
//! that never ends, the kernel still up), every node frozen at once (kernels too, as a
//! hypervisor pauses a VM), crash (the node vanishes: no resignation, no
//! reflection, addresses gone) and restart, graceful shutdown. Adverts travel as real bytes
//! through the codec and each receiver's validation, exactly as the daemon feeds them.
//! Everything random comes from one seeded RNG, so a failing seed replays exactly.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::net::IpAddr;
use std::time::{Duration, UNIX_EPOCH};

use super::budget::FREEZE_RELEASE;
use super::config::RouterConfig;
use super::router::{Action, Router, State};
use super::test_support::{addr, GROUP_V4};
use super::time::Instant;
use super::validate::RxMeta;

/// "Never", for a stall that does not end.
const NEVER: Instant = Instant::from_micros(u64::MAX);

/// One router of the simulation.
pub struct Node {
    pub config: RouterConfig,
    pub router: Router,
    pub alive: bool,
    /// Whether the node holds the virtual addresses (AddVips minus RemoveVips); its XDP program
    /// reflects probes exactly while it does, as the daemon's reflect map follows the VIPs.
    pub holds_vips: bool,
    /// The agent runs nothing before this (a scheduler stall); `None` while it runs.
    stalled_until: Option<Instant>,
    /// Records the kernel stamped at arrival, waiting for the agent.
    queue: VecDeque<Record>,
    /// The agent's last dead-man heartbeat stamp, and when it stamps the next.
    heartbeat: Option<Instant>,
    next_heartbeat: Instant,
}

impl Node {
    fn fresh(config: RouterConfig, echo: bool) -> Node {
        let mut router = Router::new(config.clone()).expect("valid sim config");
        router.set_echo(echo);
        Node {
            router,
            config,
            alive: false,
            holds_vips: false,
            stalled_until: None,
            queue: VecDeque::new(),
            heartbeat: None,
            next_heartbeat: Instant::ZERO,
        }
    }

    fn agent_runs(&self) -> bool {
        self.alive && self.stalled_until.is_none()
    }
}

/// What a node's kernel hands its agent, stamped at arrival.
#[derive(Debug)]
enum Record {
    Advert {
        at: Instant,
        from: usize,
        bytes: Vec<u8>,
    },
    Echo {
        at: Instant,
    },
}

/// A recorded change of role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    pub at: Instant,
    pub node: usize,
    pub from: State,
    pub to: State,
}

/// What travels on the segment.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Frame {
    Advert(Vec<u8>),
    Probe,
    Echo,
}

#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Delivery {
    at: Instant,
    /// Tie-breaker keeping same-time deliveries in send order (determinism).
    seq: u64,
    to: usize,
    from: usize,
    frame: Frame,
}

/// The segment's timing: every frame takes `delay` plus a uniform extra of up to `jitter`
/// (so frames can overtake each other).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Link {
    pub delay: Duration,
    pub jitter: Duration,
}

/// The liveness echo in the simulation: routers probe, and a master's kernel reflects while its
/// agent's heartbeat (stamped every `every`) is at most `bound` old.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadman {
    pub every: Duration,
    pub bound: Duration,
}

impl Deadman {
    /// The daemon's in fast mode (`daemon::xdp::Deadman::for_config`).
    pub const FAST_MODE: Deadman = Deadman {
        every: Duration::from_millis(1),
        bound: Duration::from_millis(10),
    };
}

pub struct Sim {
    pub now: Instant,
    pub nodes: Vec<Node>,
    link: Link,
    /// The echo's dead-man switch; `None`: the echo is off.
    echo: Option<Deadman>,
    /// Probability that a message from i to j is lost.
    loss: Vec<Vec<f64>>,
    /// `reach[i][j]`: whether i's messages reach j at all (partitions).
    reach: Vec<Vec<bool>>,
    /// Nodes whose cable is pulled.
    cut: Vec<bool>,
    /// Per node, a window during which its link's softirq holds every frame.
    link_stall: Vec<Option<(Instant, Instant)>>,
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
    /// helpers), all links with `delay` and no loss, no echo. Nothing is started.
    pub fn new(configs: Vec<RouterConfig>, delay: Duration, seed: u64) -> Sim {
        let link = Link {
            delay,
            jitter: Duration::ZERO,
        };
        Sim::with_echo(configs, link, None, seed)
    }

    /// As [`Sim::new`], on `link`, with the liveness echo on when `echo` is given.
    pub fn with_echo(
        configs: Vec<RouterConfig>,
        link: Link,
        echo: Option<Deadman>,
        seed: u64,
    ) -> Sim {
        let n = configs.len();
        let nodes = configs
            .into_iter()
            .map(|config| Node::fresh(config, echo.is_some()))
            .collect();
        Sim {
            now: Instant::ZERO,
            nodes,
            link,
            echo,
            loss: vec![vec![0.0; n]; n],
            reach: vec![vec![true; n]; n],
            cut: vec![false; n],
            link_stall: vec![None; n],
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

    /// Pulls (`true`) or plugs back node's cable: while pulled, every frame to or from it is
    /// lost, those in flight included.
    pub fn set_cut(&mut self, node: usize, cut: bool) {
        self.cut[node] = cut;
    }

    /// Node's link holds every frame to or from it for `d` from now (its softirq stalled);
    /// they arrive, and are stamped, when it ends.
    pub fn stall_link(&mut self, node: usize, d: Duration) {
        self.link_stall[node] = Some((self.now, self.now.saturating_add(d)));
    }

    /// Every node freezes for `d`, kernels included: what a hypervisor's pause of the one
    /// machine they share does (the benchmark's nodes are namespaces of one VM), or of each
    /// node's own. Nothing runs and nothing is stamped. When it ends, the overdue timers wake
    /// the agents before the kernels deliver what the freeze held (a frame waiting in a frozen
    /// CPU's softirq comes out after the woken realtime thread ran), so the held frames arrive
    /// [`FREEZE_RELEASE`] after the agents resumed.
    pub fn freeze_all(&mut self, d: Duration) {
        let end = self.now.saturating_add(d);
        for node in 0..self.nodes.len() {
            self.stall_agent(node, Some(d));
            self.link_stall[node] = Some((self.now, end.saturating_add(FREEZE_RELEASE)));
        }
    }

    /// Node's agent runs nothing for `d` (`None`: ever again, its kernel still up).
    pub fn stall_agent(&mut self, node: usize, d: Option<Duration>) {
        let until = d.map_or(NEVER, |d| self.now.saturating_add(d));
        if self.nodes[node].alive {
            self.nodes[node].stalled_until = Some(until);
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

    /// The node dies: no resignation, its addresses vanish with it, messages to it are lost.
    pub fn crash(&mut self, node: usize) {
        let config = self.nodes[node].config.clone();
        self.nodes[node] = Node::fresh(config, self.echo.is_some());
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
        self.nodes[node].stalled_until = None;
        self.nodes[node].queue.clear();
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
        let agents = self
            .nodes
            .iter()
            .filter(|n| n.alive)
            .filter_map(|n| match n.stalled_until {
                Some(until) => (until < NEVER).then_some(until),
                None => {
                    let heartbeat = self.echo.map(|_| n.next_heartbeat);
                    [n.router.poll_timeout(), heartbeat]
                        .into_iter()
                        .flatten()
                        .min()
                }
            });
        delivery.into_iter().chain(agents).min()
    }

    /// Deliver everything due to the kernels, then let every running agent handle what its
    /// kernel queued and fire its due timers.
    fn step(&mut self) {
        let now = self.now;
        while self.in_flight.peek().is_some_and(|Reverse(d)| d.at <= now) {
            let Reverse(d) = self.in_flight.pop().expect("peeked");
            self.arrive(d);
        }
        for i in 0..self.nodes.len() {
            let node = &mut self.nodes[i];
            if node.stalled_until.is_some_and(|until| until <= now) {
                node.stalled_until = None;
            }
            if !node.agent_runs() {
                continue;
            }
            if let Some(deadman) = self.echo {
                if now >= node.next_heartbeat {
                    node.heartbeat = Some(now);
                    node.next_heartbeat = now.saturating_add(deadman.every);
                }
            }
            while let Some(record) = self.nodes[i].queue.pop_front() {
                self.handle(i, record);
            }
            let due = self.nodes[i]
                .router
                .poll_timeout()
                .is_some_and(|t| t <= now);
            if due {
                self.nodes[i].router.handle_timeout(now);
                self.drain(i);
            }
        }
    }

    /// A frame reaches node `d.to`'s kernel.
    fn arrive(&mut self, d: Delivery) {
        let node = &mut self.nodes[d.to];
        if !node.alive || self.cut[d.to] || self.cut[d.from] {
            return;
        }
        match d.frame {
            Frame::Advert(bytes) => node.queue.push_back(Record::Advert {
                at: d.at,
                from: d.from,
                bytes,
            }),
            Frame::Echo => node.queue.push_back(Record::Echo { at: d.at }),
            Frame::Probe => {
                let fresh = |bound| {
                    node.heartbeat
                        .is_some_and(|h| d.at.saturating_duration_since(h) <= bound)
                };
                if node.holds_vips && self.echo.is_some_and(|e| fresh(e.bound)) {
                    self.send(d.to, d.from, Frame::Echo);
                }
            }
        }
    }

    /// Node's agent handles one record, as the engine does: an advert's driver-stamped record
    /// first (where the master's MAC comes from), then its validated copy.
    fn handle(&mut self, node: usize, record: Record) {
        match record {
            Record::Advert { at, from, bytes } => {
                let meta = RxMeta {
                    src: addr_of(&self.nodes[from]),
                    dst: GROUP_V4,
                    ttl: 255,
                };
                let router = &mut self.nodes[node].router;
                match router.validate(&meta, &bytes, UNIX_EPOCH) {
                    Ok(advert) => {
                        router.handle_master_seen(at, advert.src(), advert.priority(), mac(from));
                        router.handle_advert(at, &advert);
                    }
                    Err(_) => self.drops += 1,
                }
            }
            Record::Echo { at } => {
                self.nodes[node].router.handle_echo(at);
            }
        }
        self.drain(node);
    }

    /// Carry out a node's actions.
    fn drain(&mut self, node: usize) {
        while let Some(action) = self.nodes[node].router.poll_action() {
            match action {
                Action::SendAdvert { priority } => self.multicast(node, priority),
                Action::AddVips(_) => self.nodes[node].holds_vips = true,
                Action::RemoveVips(_) => self.nodes[node].holds_vips = false,
                Action::AnnounceVips(_) | Action::ReannounceVips(_) => {}
                Action::SendProbe { master_mac, .. } => {
                    if let Some(to) = (0..self.nodes.len()).find(|i| mac(*i) == master_mac) {
                        self.send(node, to, Frame::Probe);
                    }
                }
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
            if to != from {
                self.send(from, to, Frame::Advert(bytes.clone()));
            }
        }
    }

    /// Puts a frame on the segment: lost, or arriving after the link's delay and jitter, or
    /// when a stalled link on its way lets it go.
    fn send(&mut self, from: usize, to: usize, frame: Frame) {
        if !self.reach[from][to] || self.cut[from] || self.cut[to] {
            return;
        }
        let loss = self.loss[from][to];
        if loss > 0.0 && self.rng.f64() < loss {
            return;
        }
        let jitter = match self.link.jitter.as_micros() as u64 {
            0 => 0,
            max => self.rng.u64(0..=max),
        };
        let mut at = self
            .now
            .saturating_add(self.link.delay + Duration::from_micros(jitter));
        for (start, end) in [self.link_stall[from], self.link_stall[to]]
            .into_iter()
            .flatten()
        {
            if start <= at && self.now < end {
                at = at.max(end);
            }
        }
        self.seq += 1;
        self.in_flight.push(Reverse(Delivery {
            at,
            seq: self.seq,
            to,
            from,
            frame,
        }));
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

/// Node `i`'s Ethernet address.
fn mac(i: usize) -> [u8; 6] {
    [2, 0, 0, 0, 0, i as u8 + 1]
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

mod fault_props;
mod props;
mod tests;
