//! The state machine of one VRRP instance (interface, VRID, family): RFC 9568 section 6 with
//! keepalived's Fault state, in the quinn-proto style.
//!
//! Inputs are events with the time they happened (`handle_startup`, `validate` +
//! `handle_advert`, `handle_master_seen`, `handle_echo`, `handle_timeout`, `set_priority`,
//! `set_fault`, `handle_shutdown`); outputs are [`Action`]s from [`Router::poll_action`] and
//! the next deadline from [`Router::poll_timeout`]. The router never reads a clock or touches a
//! socket.
//!
//! # Liveness
//!
//! Every signal that can keep a master alive or declare it dead enters here: validated
//! adverts, the XDP program's driver-stamped advert records, and, with the liveness echo on
//! ([`Router::set_echo`], see [`super::liveness`]), echoes of this backup's probes. The
//! master-down decision is taken in [`Router::handle_timeout`] alone, and
//! [`Router::poll_timeout`] is the whole truth about when it can be: Master_Down_Timer must
//! have expired and, with the echo on, a probe must have gone unanswered for the echo timeout.
//! What that costs per fault is [`super::budget`].
//!
//! # Time
//!
//! All `now` values are the caller's monotonic [`Instant`]s. `now` given to
//! [`Router::handle_advert`] is when the advert was *seen* (the daemon passes the XDP driver
//! timestamp), which may be slightly older than the last [`Router::handle_timeout`] time
//! because the daemon drains its ring after waking. The Master_Down deadline restarts from the
//! advert's own time, so a backup judges the master by when its adverts arrived, not by when
//! user space got round to them. Out-of-order times are tolerated without panics and without
//! moving any deadline earlier than the evidence allows:
//! - the router keeps the newest time it has been given (`clock`); timers it arms on its own
//!   account (Adver_Timer) start from that, never from an older advert time;
//! - the master's liveness time (`newest_advert`) only moves forward: an advert stamped older
//!   than one already handled restarts Master_Down from the newer stamp, so a reordered advert
//!   can never shorten the wait;
//! - a timer fires only when `handle_timeout` is given a `now` at or past its deadline; a
//!   deadline already in the past (advert delivered late) fires on the next call.
//!
//! # States
//!
//! Initialize (not running), Backup, Master as in RFC 9568, and Fault as in keepalived: a
//! tracked interface is down or a check with weight 0 failed. A master entering Fault resigns
//! with a priority-0 advert first, as keepalived does (`vrrp_state_leave_fault` in
//! `keepalived/vrrp/vrrp.c` sends `VRRP_PRIO_STOP` when going from MASTER to FAULT), so a backup
//! takes over after Skew_Time; if the interface is really down the send just fails. In Fault the
//! router holds no virtual addresses, sends no adverts and ignores adverts; when the fault
//! clears it starts over as from Initialize (the owner straight to Master, anyone else to
//! Backup).

use crate::family::IpFamily;
use std::collections::VecDeque;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::{Duration, SystemTime};

use super::auth_ah::{AhAuthenticator, AhCheckError};
use super::auth_hmac::{self, Authenticator, Binding};
use super::config::{ConfigError, Preempt, RouterConfig, Version};
use super::fast_mode;
use super::liveness::EchoProber;
use super::time::Instant;
use super::timers;
use super::validate::{self, DropCounters, DropReason, RxMeta, ValidAdvert};
use super::wire::ah::{self, AhPacket, Delivery};
use super::wire::trailer::TRAILER_LEN;
use super::wire::{AdvertRepr, ChecksumVariant, V2Advert, V3Advert, VirtualAddresses};

/// The priority that marks the address owner.
pub const OWNER_PRIORITY: u8 = 255;
/// The priority a master sends when it resigns (shutdown or fault).
pub const RESIGN_PRIORITY: u8 = 0;
/// How many peers' details the router remembers (see [`Router::peers`]). Adverts are
/// link-local (TTL 255) or from configured unicast peers, so a real group is far smaller;
/// the bound only keeps a misbehaving segment from growing memory.
pub const MAX_PEERS: usize = 16;

/// RFC 9568 states plus keepalived's Fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    Initialize,
    Backup,
    Master,
    Fault,
}

/// Why a state changed, for logs, notify scripts and the control socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransitionReason {
    /// Startup (or a cleared fault) as a non-owner: Initialize -> Backup.
    Startup,
    /// Startup (or a cleared fault) as the address owner: Initialize -> Master.
    AddressOwner,
    /// Master_Down_Timer expired: Backup -> Master.
    MasterDown,
    /// An advert with a higher priority, or an equal one from a higher address: Master -> Backup.
    PreferredMasterSeen,
    /// The daemon is stopping this instance.
    Shutdown,
    /// A tracked interface went down or a weight-0 check failed.
    FaultRaised,
    /// The fault cleared.
    FaultCleared,
}

/// Something the daemon must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Send an advert with this priority; [`Router::advert`] builds it (interval and addresses
    /// come from the configuration).
    SendAdvert { priority: u8 },
    /// Install the virtual addresses (and the XDP owned-VIP entries).
    AddVips(Vec<IpAddr>),
    /// Remove the virtual addresses.
    RemoveVips(Vec<IpAddr>),
    /// Announce the virtual addresses: gratuitous ARP (IPv4) or unsolicited NA (IPv6).
    AnnounceVips(Vec<IpAddr>),
    /// Announce the virtual addresses again while master, because a lower-priority router
    /// claimed mastership (keepalived's `garp_lower_prio_repeat`): it took over falsely, after
    /// a stall hid our adverts, and its gratuitous ARPs pointed the clients at it. It stands
    /// down at our next advert and removes the VIPs; this brings the clients back.
    ReannounceVips(Vec<IpAddr>),
    StateChanged {
        from: State,
        to: State,
        reason: TransitionReason,
    },
    /// Send liveness probe `seq` to the master at `master_mac` (the echo socket builds it).
    SendProbe { master_mac: [u8; 6], seq: u32 },
}

/// What the router remembers about one peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerInfo {
    pub address: IpAddr,
    /// The checksum variant its last advert used (VRRPv3 over IPv4 has two).
    pub checksum: ChecksumVariant,
    pub priority: u8,
    pub adver_interval: Duration,
    pub last_seen: Instant,
}

/// Event counters for the control socket and metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RouterStats {
    pub adverts_received: u64,
    pub adverts_sent: u64,
    pub priority_zero_received: u64,
    pub priority_zero_sent: u64,
    pub became_master: u64,
    /// Adverts from the owner whose address list differs from ours: let through (RFC 9568
    /// section 7.1) but worth an operator's look.
    pub owner_address_list_mismatch: u64,
    /// Times a lower-priority router claimed mastership while we were master: each is a false
    /// takeover somewhere in the group (see [`Action::ReannounceVips`]).
    pub lower_priority_claims: u64,
}

/// What a running Master_Down_Timer counts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MasterDown {
    /// Master_Down_Interval after the master was last heard (or after startup).
    Interval { since: Instant },
    /// Skew_Time after the master resigned (priority-0 advert).
    Skew { since: Instant },
}

/// One VRRP instance.
#[derive(Debug, Clone)]
pub struct Router {
    config: RouterConfig,
    state: State,
    effective_priority: u8,
    fault: bool,
    /// Master_Adver_Interval: learned from the master (VRRPv3) or our own interval.
    master_adver_interval: Duration,
    adver_timer: Option<Instant>,
    /// Master_Down_Timer, kept as what it counts from so that its deadline follows the
    /// current priority (Skew_Time depends on it).
    master_down_timer: Option<MasterDown>,
    /// preempt_delay: when a lower-priority master may be preempted.
    preempt_at: Option<Instant>,
    current_master: Option<IpAddr>,
    /// Newest advert time handled (see "Time" in the module docs).
    newest_advert: Option<Instant>,
    /// Newest time given by any call.
    clock: Instant,
    actions: VecDeque<Action>,
    drops: DropCounters,
    stats: RouterStats,
    peers: Vec<PeerInfo>,
    /// Our advert with priority 0; [`Router::advert`] fills in the priority.
    advert_template: AdvertRepr,
    /// The liveness echo, while the dataplane carries it ([`Router::set_echo`]).
    echo: Option<EchoProber>,
    /// With `auth_hmac`: the send sequence and the senders' replay marks.
    auth: Option<Authenticator>,
    /// With `auth_type AH`: the sequence counter and IP identification.
    ah: Option<AhAuthenticator>,
    /// While master: the last lower-priority router heard claiming mastership, and when. One
    /// reaction per claim: at 200 us adverts a reaction per advert would be a GARP storm.
    lower_claimant: Option<(IpAddr, Instant)>,
}

/// Which IP fields the AH ICV leaves out: keepalived zeroes the TTL for unicast peers.
fn ah_delivery(config: &RouterConfig) -> Delivery {
    if config.unicast_peers.is_empty() {
        Delivery::Multicast
    } else {
        Delivery::Unicast
    }
}

/// The advert `config` sends, with priority 0. `config` must be validated.
fn advert_template(config: &RouterConfig) -> AdvertRepr {
    let v4: Vec<Ipv4Addr> = config
        .virtual_addresses
        .iter()
        .filter_map(|a| match a {
            IpAddr::V4(a) => Some(*a),
            IpAddr::V6(_) => None,
        })
        .collect();
    let v6: Vec<Ipv6Addr> = config
        .virtual_addresses
        .iter()
        .filter_map(|a| match a {
            IpAddr::V6(a) => Some(*a),
            IpAddr::V4(_) => None,
        })
        .collect();
    match config.version {
        Version::V2 => AdvertRepr::V2(V2Advert {
            vrid: config.vrid,
            priority: 0,
            // Validated: whole seconds 1..=255.
            adver_int_secs: config.advert_interval.as_secs() as u8,
            auth: config.v2_auth,
            addresses: v4,
        }),
        Version::V3 => AdvertRepr::V3(V3Advert {
            vrid: config.vrid,
            priority: 0,
            interval: fast_mode::encode(config.advert_interval, config.fast_mode)
                .expect("a validated configuration has an encodable interval"),
            // Validated: all of the primary address's family.
            addresses: match config.family() {
                IpFamily::V4 => VirtualAddresses::V4(v4),
                IpFamily::V6 => VirtualAddresses::V6(v6),
            },
        }),
    }
}

impl Router {
    /// A router in Initialize; nothing happens until [`Router::handle_startup`].
    pub fn new(config: RouterConfig) -> Result<Router, ConfigError> {
        config.validate()?;
        let auth = config
            .auth_hmac
            .clone()
            .map(|a| Authenticator::new(a, &config.unicast_peers));
        let ah = config
            .ah_key
            .clone()
            .map(|key| AhAuthenticator::new(key, ah_delivery(&config)));
        Ok(Router {
            ah,
            advert_template: advert_template(&config),
            effective_priority: config.priority,
            master_adver_interval: config.advert_interval,
            config,
            state: State::Initialize,
            fault: false,
            adver_timer: None,
            master_down_timer: None,
            preempt_at: None,
            current_master: None,
            newest_advert: None,
            clock: Instant::ZERO,
            actions: VecDeque::new(),
            drops: DropCounters::default(),
            stats: RouterStats::default(),
            peers: Vec::new(),
            echo: None,
            auth,
            lower_claimant: None,
        })
    }

    // ---- read-only state for the daemon and the control socket ----

    pub fn config(&self) -> &RouterConfig {
        &self.config
    }

    pub fn state(&self) -> State {
        self.state
    }

    /// The priority in adverts and elections: the configured one adjusted by checks.
    pub fn effective_priority(&self) -> u8 {
        self.effective_priority
    }

    /// Whether a fault is being held (the router may still be in Initialize).
    pub fn is_faulted(&self) -> bool {
        self.fault
    }

    /// The master as this router knows it: itself in Master, the last accepted advert's
    /// source in Backup, nobody otherwise.
    pub fn current_master(&self) -> Option<IpAddr> {
        self.current_master
    }

    /// Master_Adver_Interval.
    pub fn master_adver_interval(&self) -> Duration {
        self.master_adver_interval
    }

    /// Skew_Time for the current priority and Master_Adver_Interval.
    pub fn skew_time(&self) -> Duration {
        timers::skew_time(
            self.config.version,
            self.effective_priority,
            self.master_adver_interval,
        )
    }

    /// Master_Down_Interval for the current priority and Master_Adver_Interval.
    pub fn master_down_interval(&self) -> Duration {
        timers::master_down_interval(
            self.config.version,
            self.effective_priority,
            self.master_adver_interval,
        )
    }

    pub fn drop_counters(&self) -> &DropCounters {
        &self.drops
    }

    pub fn stats(&self) -> &RouterStats {
        &self.stats
    }

    /// Peers seen recently (at most [`MAX_PEERS`]), with the checksum variant each uses.
    pub fn peers(&self) -> &[PeerInfo] {
        &self.peers
    }

    /// The advert to send for [`Action::SendAdvert`]; emit it with
    /// [`AdvertRepr::emit`] and the configured [`RouterConfig::v3_ipv4_checksum`]. Interval
    /// and addresses come from the configuration; only the priority varies.
    pub fn advert(&self, priority: u8) -> AdvertRepr {
        let mut advert = self.advert_template.clone();
        match &mut advert {
            AdvertRepr::V2(a) => a.priority = priority,
            AdvertRepr::V3(a) => a.priority = priority,
        }
        advert
    }

    /// When Master_Down_Timer fires, for the current priority and Master_Adver_Interval.
    fn master_down_deadline(&self) -> Option<Instant> {
        match self.master_down_timer? {
            MasterDown::Interval { since } => {
                Some(since.saturating_add(self.master_down_interval()))
            }
            MasterDown::Skew { since } => Some(since.saturating_add(self.skew_time())),
        }
    }

    // ---- outputs ----

    /// The echo prober that has a say now: in Backup, following a master that has not
    /// resigned (a master that resigned is gone however fast its kernel still echoes).
    fn echo_in_force(&self) -> Option<&EchoProber> {
        if self.state != State::Backup || self.master_resigned() {
            return None;
        }
        self.echo.as_ref()
    }

    /// The next deadline at which [`Router::handle_timeout`] must be called: an advert or a
    /// probe due, or the master declared down (Master_Down_Timer expired and, with the echo
    /// on, a probe unanswered for the echo timeout).
    pub fn poll_timeout(&self) -> Option<Instant> {
        let echo = self.echo_in_force();
        let master_down = self.master_down_deadline().map(|deadline| {
            echo.and_then(EchoProber::down_not_before)
                .map_or(deadline, |not_before| deadline.max(not_before))
        });
        let probe = match self.state {
            State::Backup => self.echo.as_ref().and_then(EchoProber::next_probe),
            _ => None,
        };
        [self.adver_timer, master_down, probe]
            .into_iter()
            .flatten()
            .min()
    }

    /// The next action, in the order they must be carried out. A transition's work comes
    /// first (taking over: addresses, announcements, then the advert) and its
    /// [`Action::StateChanged`] last, so notifications see the new state in force.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    // ---- inputs ----

    /// Start the instance (RFC 9568 section 6.4.1).
    pub fn handle_startup(&mut self, now: Instant) {
        let now = self.tick(now);
        if self.state != State::Initialize {
            return;
        }
        if self.fault {
            self.enter_fault(State::Initialize);
        } else {
            self.start(now, State::Initialize, false);
        }
    }

    /// Stop the instance: a master resigns with a priority-0 advert so a backup takes over
    /// after Skew_Time rather than Master_Down_Interval.
    pub fn handle_shutdown(&mut self, now: Instant) {
        self.tick(now);
        let from = self.state;
        match from {
            State::Initialize => return,
            State::Master => self.resign(),
            State::Backup | State::Fault => {}
        }
        self.cancel_timers();
        self.current_master = None;
        self.state = State::Initialize;
        self.changed(from, TransitionReason::Shutdown);
    }

    /// Drive timers: call at or after [`Router::poll_timeout`].
    pub fn handle_timeout(&mut self, now: Instant) {
        let due = self.poll_timeout();
        let now = self.tick(now);
        match self.state {
            State::Master => {
                if self.adver_timer.is_some_and(|t| t <= now) {
                    self.send_advert(self.effective_priority);
                    self.adver_timer = Some(now.saturating_add(self.config.advert_interval));
                }
            }
            State::Backup => {
                // Probe first: a backup that woke late asks before it judges, and waits.
                if let (Some(echo), Some(due)) = (self.echo.as_mut(), due) {
                    echo.woke(due, now);
                }
                if let Some(probe) = self.echo.as_mut().and_then(|e| e.poll_probe(now)) {
                    self.actions.push_back(Action::SendProbe {
                        master_mac: probe.master_mac,
                        seq: probe.seq,
                    });
                }
                let echo_allows = self.echo_in_force().is_none_or(|e| e.allows_down(now));
                if echo_allows && self.master_down_deadline().is_some_and(|t| t <= now) {
                    self.become_master(now, State::Backup, TransitionReason::MasterDown);
                }
            }
            State::Initialize | State::Fault => {}
        }
    }

    /// Check a message received at wall-clock time `wall` (which only `auth_hmac`'s time
    /// window reads); a drop is counted and never changes state. Pass an `Ok` result to
    /// [`Router::handle_advert`]. With `auth_hmac`, the MAC is verified after the checks of
    /// the message's form and before those of its content, so that nothing unauthenticated is
    /// judged and a sender's replay mark moves only on a verified advert.
    pub fn validate(
        &mut self,
        meta: &RxMeta,
        bytes: &[u8],
        wall: SystemTime,
    ) -> Result<ValidAdvert, DropReason> {
        let result = self.check(meta, bytes, wall);
        if let Err(reason) = result {
            self.drops.count(reason);
        }
        result
    }

    fn check(
        &mut self,
        meta: &RxMeta,
        bytes: &[u8],
        wall: SystemTime,
    ) -> Result<ValidAdvert, DropReason> {
        if self.ah.is_some() {
            return self.check_ah(meta, bytes);
        }
        let decoded = validate::decode(&self.config, meta, bytes)?;
        if let Some(auth) = &mut self.auth {
            let binding = Binding {
                src: meta.src,
                version: decoded.advert.repr.version(),
                vrid: self.config.vrid,
            };
            auth.verify(wall, binding, decoded.message, decoded.trailer)?;
        }
        validate::judge(&self.config, self.effective_priority, meta, &decoded.advert)
    }

    /// [`Router::check`] with `auth_type AH`: `packet` is the whole IPv4 packet. The message's
    /// form is checked first, then the ICV, the SPI and the sequence number (which only a
    /// verified advert moves), then its content, as keepalived orders them.
    fn check_ah(&mut self, meta: &RxMeta, packet: &[u8]) -> Result<ValidAdvert, DropReason> {
        let split = AhPacket::split(packet).map_err(AhCheckError::from)?;
        let decoded = validate::decode(&self.config, meta, split.message)?;
        let ah = self.ah.as_mut().expect("check_ah runs with auth_type AH");
        ah.verify(&split)?;
        let valid = validate::judge(&self.config, self.effective_priority, meta, &decoded.advert)?;
        let theirs = (valid.priority(), valid.src());
        if self.state == State::Master
            && valid.priority() != RESIGN_PRIORITY
            && theirs < (self.effective_priority, self.config.primary_address)
        {
            ah.follow_lower(split.ah.sequence);
        }
        Ok(valid)
    }

    /// Wrap our advert `message` for each of `destinations` (IPv4 addresses; the router's
    /// family) into a whole IPv4 packet with its AH header, one sequence number for all, into
    /// `packets` (one buffer per destination). Returns false without `auth_type AH`.
    pub fn seal_ah_advert(
        &mut self,
        message: &[u8],
        destinations: &[IpAddr],
        packets: &mut [Vec<u8>],
    ) -> bool {
        let (Some(sealer), IpAddr::V4(src)) = (self.ah.as_mut(), self.config.primary_address)
        else {
            return false;
        };
        let pair = sealer.next_advert();
        for (buf, destination) in packets.iter_mut().zip(destinations) {
            let IpAddr::V4(dst) = *destination else {
                continue;
            };
            buf.clear();
            buf.resize(ah::packet_len(message.len()), 0);
            sealer.seal(buf, pair, src, dst, message);
        }
        true
    }

    /// Whether this router's adverts travel inside an IPsec AH header (`auth_type AH`).
    pub fn wraps_in_ah(&self) -> bool {
        self.ah.is_some()
    }

    /// The auth_hmac trailer for our advert `message` sent at wall-clock time `wall`, with a
    /// fresh sequence number; `None` without auth_hmac or in receive-only mode. One trailer
    /// serves every destination of one advert.
    pub fn sign_advert(&mut self, wall: SystemTime, message: &[u8]) -> Option<[u8; TRAILER_LEN]> {
        let binding = Binding {
            src: self.config.primary_address,
            version: self.advert_template.version(),
            vrid: self.config.vrid,
        };
        self.auth.as_mut()?.sign(wall, binding, message)
    }

    /// Whether this router's adverts carry an auth_hmac trailer.
    pub fn signs_adverts(&self) -> bool {
        self.auth.as_ref().is_some_and(Authenticator::signs)
    }

    /// Whether an advert without an auth_hmac trailer is refused (auth_hmac in enforce mode),
    /// so the dataplane may drop one before it reaches the socket.
    pub fn requires_trailer(&self) -> bool {
        self.auth
            .as_ref()
            .is_some_and(|auth| auth.config().mode == auth_hmac::Mode::Enforce)
    }

    /// Whether adverts must be authenticated to count (auth_hmac configured, in any mode, or
    /// `auth_type AH`). The XDP program's advert records and the liveness echo carry no MAC,
    /// so they must not keep a master alive for such a router: the daemon does not feed them.
    pub fn authenticates(&self) -> bool {
        self.auth.is_some() || self.ah.is_some()
    }

    /// Handle a validated advert seen at `now` (RFC 9568 sections 6.4.2 and 6.4.3).
    pub fn handle_advert(&mut self, now: Instant, advert: &ValidAdvert) {
        self.tick(now);
        let seen = match self.newest_advert {
            Some(newest) if newest > now => newest,
            _ => now,
        };
        self.newest_advert = Some(seen);
        self.stats.adverts_received += 1;
        if advert.priority() == RESIGN_PRIORITY {
            self.stats.priority_zero_received += 1;
        }
        if !advert.address_list_matches() {
            self.stats.owner_address_list_mismatch += 1;
        }
        self.remember_peer(seen, advert);

        match self.state {
            State::Initialize | State::Fault => {}
            State::Backup => self.backup_receive(seen, advert),
            State::Master => self.master_receive(seen, advert),
        }
    }

    /// Apply a new configuration of the same virtual router (same VRID and address family)
    /// without leaving the current state: a master stays master (SIGHUP reload). The new
    /// configured priority takes effect at once unless the daemon sets an effective one; a
    /// master with a changed address list says so at its next advert, and the daemon installs
    /// the changed addresses itself.
    pub fn reconfigure(&mut self, now: Instant, config: RouterConfig) -> Result<(), ConfigError> {
        config.validate()?;
        self.tick(now);
        if config.priority != self.config.priority {
            self.effective_priority = config.priority;
        }
        if self.state != State::Backup || self.current_master.is_none() {
            self.master_adver_interval = config.advert_interval;
        }
        self.advert_template = advert_template(&config);
        self.auth = match (self.auth.take(), config.auth_hmac.clone()) {
            (Some(mut auth), Some(new)) => {
                auth.reconfigure(new, &config.unicast_peers);
                Some(auth)
            }
            (None, Some(new)) => Some(Authenticator::new(new, &config.unicast_peers)),
            (_, None) => None,
        };
        let delivery = ah_delivery(&config);
        self.ah = match (self.ah.take(), config.ah_key.clone()) {
            (Some(mut ah), Some(key)) => {
                ah.reconfigure(key, delivery);
                Some(ah)
            }
            (None, Some(key)) => Some(AhAuthenticator::new(key, delivery)),
            (_, None) => None,
        };
        if self.authenticates() {
            self.echo = None;
        }
        if let Some(echo) = &mut self.echo {
            echo.reconfigure(config.echo);
        }
        self.config = config;
        Ok(())
    }

    /// Whether the dataplane carries the liveness echo for this instance (fast mode, the XDP
    /// program on the interface, an echo socket). Turning it on keeps a prober already
    /// running; its timing is [`RouterConfig::echo`].
    ///
    /// With auth_hmac the echo stays off: an echo carries no MAC, so a forged or replayed one
    /// could keep a dead master alive (see docs/auth-hmac.md).
    pub fn set_echo(&mut self, carried: bool) {
        match (carried && !self.authenticates(), &self.echo) {
            (true, None) => self.echo = Some(EchoProber::new(self.config.echo)),
            (true, Some(_)) => {}
            (false, _) => self.echo = None,
        }
    }

    /// Whether the liveness echo is on (see [`Router::set_echo`]).
    pub fn echo_carried(&self) -> bool {
        self.echo.is_some()
    }

    /// A liveness signal: the XDP program saw an advert from `src` (Ethernet source `mac`,
    /// where the echo probes go) with `priority` at `now`, stamped at the driver. Its full copy is validated when it reaches the VRRP socket (or
    /// never, when XDP drops handled adverts), so this only does what that advert would surely
    /// do: in Backup, from the master this router already follows, with a non-zero priority it
    /// still accepts, it restarts Master_Down_Timer from `now`. Anything else - a new master, a
    /// resignation, a new interval - waits for the validated advert. Returns whether the signal
    /// counted as the master's.
    pub fn handle_master_seen(
        &mut self,
        now: Instant,
        src: IpAddr,
        priority: u8,
        mac: [u8; 6],
    ) -> bool {
        let counted = self.master_seen(now, src, priority);
        if counted {
            if let Some(echo) = &mut self.echo {
                echo.master_is_at(mac);
            }
        }
        counted
    }

    fn master_seen(&mut self, now: Instant, src: IpAddr, priority: u8) -> bool {
        self.tick(now);
        // An XDP record carries header fields only, no MAC: with auth_hmac only the
        // verified advert from the socket may keep the master alive.
        if self.authenticates()
            || self.state != State::Backup
            || priority == RESIGN_PRIORITY
            || self.current_master != Some(src)
            || !self.accepts_as_master(now, priority)
        {
            return false;
        }
        match self.master_down_timer {
            Some(MasterDown::Interval { since }) => {
                if now > since {
                    self.master_down_timer = Some(MasterDown::Interval { since: now });
                }
                // The dataplane may not pass the full copy on (see `followed_master`).
                if let Some(peer) = self.peers.iter_mut().find(|p| p.address == src) {
                    peer.last_seen = peer.last_seen.max(now);
                }
                true
            }
            _ => false,
        }
    }

    /// The master this backup follows and the priority it last advertised: in Backup, once a
    /// master's advert was accepted and until it resigns. Its driver-stamped adverts with that
    /// priority ([`Router::handle_master_seen`]) then do all that its full adverts would do
    /// (restart Master_Down_Timer, or not, by the same rule), so the dataplane may spare the
    /// daemon the full copies of those.
    ///
    /// With authentication ([`Router::authenticates`]) records prove nothing, so every advert
    /// must still reach the socket to be verified: the dataplane then only spares the followed
    /// master's adverts the allowance that bounds everyone else's.
    pub fn followed_master(&self) -> Option<(IpAddr, u8)> {
        if self.state != State::Backup || self.master_resigned() {
            return None;
        }
        let master = self.current_master?;
        let peer = self.peers.iter().find(|p| p.address == master)?;
        Some((master, peer.priority))
    }

    /// The Ethernet address the echo probes of this backup go to (the followed master's, as
    /// its driver-stamped adverts showed it), once known: the only source of echo replies the
    /// dataplane should record.
    pub fn echo_master_mac(&self) -> Option<[u8; 6]> {
        self.echo.as_ref().and_then(|echo| echo.master_mac())
    }

    /// Whether the master this backup followed has resigned (a priority-0 advert), so that
    /// Master_Down_Timer now counts Skew_Time and nothing but a new advert should hold it back.
    pub fn master_resigned(&self) -> bool {
        matches!(self.master_down_timer, Some(MasterDown::Skew { .. }))
    }

    /// A liveness signal without an advert: the master this router follows echoed one of its
    /// probes at `now` (the master's XDP program reflected it, with no user-space thread of the
    /// master on the path). Treated as [`Router::handle_master_seen`] of an advert from the
    /// current master with the priority it last advertised: a backup that would preempt it
    /// still does, because its lower adverts would not be accepted either, so an echo never
    /// holds back a takeover the protocol wants. When it counts, the probes are answered.
    /// Returns whether the signal counted (see [`Router::handle_master_seen`]).
    pub fn handle_echo(&mut self, now: Instant) -> bool {
        let Some(master) = self.current_master else {
            return false;
        };
        let Some(priority) = self
            .peers
            .iter()
            .find(|p| p.address == master)
            .map(|p| p.priority)
        else {
            return false;
        };
        let counted = self.master_seen(now, master, priority);
        if counted {
            if let Some(echo) = &mut self.echo {
                echo.echoed();
            }
        }
        counted
    }

    /// Set the effective priority (configured priority adjusted by check weights). Clamped to
    /// 1..=254: 0 is reserved for resignation (a weight-0 failure is [`Router::set_fault`])
    /// and 255 for the owner, whose priority never changes.
    ///
    /// A master keeps its role and advertises the new priority; a backup now above the master
    /// takes over when its Master_Down_Timer expires, because it discards the lower adverts.
    /// So a flapping priority cannot move the master faster than once per
    /// Master_Down_Interval. A running Master_Down_Timer follows the new priority's
    /// Skew_Time: it always fires Master_Down_Interval (or Skew_Time after a resignation)
    /// after the master was last heard, as the priority is now.
    pub fn set_priority(&mut self, now: Instant, priority: u8) {
        self.tick(now);
        if self.config.priority == OWNER_PRIORITY {
            return;
        }
        self.effective_priority = priority.clamp(1, OWNER_PRIORITY - 1);
    }

    /// Raise or clear a fault (tracked interface down, weight-0 check failed).
    pub fn set_fault(&mut self, now: Instant, fault: bool) {
        let now = self.tick(now);
        if fault == self.fault {
            return;
        }
        self.fault = fault;
        match (fault, self.state) {
            (_, State::Initialize) => {}
            (true, from) => self.enter_fault(from),
            (false, State::Fault) => self.start(now, State::Fault, true),
            (false, _) => {}
        }
    }

    // ---- the RFC's receive paths ----

    fn backup_receive(&mut self, seen: Instant, advert: &ValidAdvert) {
        if advert.priority() == RESIGN_PRIORITY {
            // (405)-(410): the master resigned; the best backup speaks first.
            self.master_down_timer = Some(MasterDown::Skew { since: seen });
            return;
        }
        if self.accepts_as_master(seen, advert.priority()) {
            // (420)-(440)
            if self.config.version == Version::V3 {
                self.master_adver_interval = advert.adver_interval();
            }
            self.current_master = Some(advert.src());
            self.master_down_timer = Some(MasterDown::Interval { since: seen });
        }
        // (445)-(450): otherwise discard; Master_Down_Timer will expire and we preempt.
    }

    /// RFC 9568 (420): "If Preempt_Mode is False, or if the Priority in the ADVERTISEMENT is
    /// greater than or equal to the local Priority", with preempt_delay counting as False
    /// until it has elapsed.
    fn accepts_as_master(&mut self, seen: Instant, priority: u8) -> bool {
        if priority >= self.effective_priority {
            self.preempt_at = None;
            return true;
        }
        match self.config.preempt {
            Preempt::Immediately => false,
            Preempt::Never => true,
            Preempt::After(delay) => {
                let at = *self.preempt_at.get_or_insert(seen.saturating_add(delay));
                seen < at
            }
        }
    }

    fn master_receive(&mut self, seen: Instant, advert: &ValidAdvert) {
        if advert.priority() == RESIGN_PRIORITY {
            // Another master resigned: make sure the group hears us right away.
            self.send_advert(self.effective_priority);
            self.adver_timer = Some(self.clock.saturating_add(self.config.advert_interval));
            return;
        }
        let theirs = (advert.priority(), advert.src());
        let ours = (self.effective_priority, self.config.primary_address);
        // Same family (validated), so IpAddr order is network byte order.
        if theirs > ours {
            self.adver_timer = None;
            if self.config.version == Version::V3 {
                self.master_adver_interval = advert.adver_interval();
            }
            self.current_master = Some(advert.src());
            // Standing down, Master_Down_Timer counts from the newest time this router knows,
            // not from this advert's stamp: the advert may have waited (the engine reads its
            // socket after the ring; a frozen node delivers late), and the same master's ring
            // records that arrived since did not count while this router was master. From the
            // stamp, the timer could expire at once and take over again in the same wake-up,
            // before the echo knows where to probe (a stressed soak showed it 108 us after the
            // last advert).
            self.master_down_timer = Some(MasterDown::Interval { since: self.clock });
            self.leave_master();
            self.state = State::Backup;
            self.changed(State::Master, TransitionReason::PreferredMasterSeen);
        } else {
            self.lower_claim(seen, advert.src());
        }
    }

    /// A lower-priority router sent an advert while we are master: it believes it is master.
    /// At the start of each such claim (a new claimant, or one silent for a Master_Down_Interval)
    /// send our advert at once, so it stands down now rather than an interval later, and
    /// announce the VIPs again, so clients it pulled over come back (RFC 9568 only discards
    /// the advert; keepalived reacts the same way).
    fn lower_claim(&mut self, seen: Instant, claimant: IpAddr) {
        let new_claim = self.lower_claimant.is_none_or(|(previous, last)| {
            previous != claimant
                || seen.saturating_duration_since(last) > self.master_down_interval()
        });
        self.lower_claimant = Some((claimant, seen));
        if !new_claim {
            return;
        }
        self.stats.lower_priority_claims += 1;
        self.send_advert(self.effective_priority);
        self.adver_timer = Some(self.clock.saturating_add(self.config.advert_interval));
        self.actions.push_back(Action::ReannounceVips(
            self.config.virtual_addresses.clone(),
        ));
    }

    // ---- transitions ----

    /// Initialize (or cleared Fault) -> Master if owner, Backup otherwise.
    fn start(&mut self, now: Instant, from: State, fault_cleared: bool) {
        if self.effective_priority == OWNER_PRIORITY {
            let reason = if fault_cleared {
                TransitionReason::FaultCleared
            } else {
                TransitionReason::AddressOwner
            };
            self.become_master(now, from, reason);
        } else {
            self.master_adver_interval = self.config.advert_interval;
            self.master_down_timer = Some(MasterDown::Interval { since: now });
            self.adver_timer = None;
            self.preempt_at = None;
            self.current_master = None;
            self.state = State::Backup;
            let reason = if fault_cleared {
                TransitionReason::FaultCleared
            } else {
                TransitionReason::Startup
            };
            self.changed(from, reason);
        }
    }

    fn become_master(&mut self, now: Instant, from: State, reason: TransitionReason) {
        self.master_down_timer = None;
        self.preempt_at = None;
        self.lower_claimant = None;
        self.master_adver_interval = self.config.advert_interval;
        self.current_master = Some(self.config.primary_address);
        self.state = State::Master;
        self.stats.became_master += 1;
        if let Some(ah) = &mut self.ah {
            ah.become_master();
        }
        let vips = self.config.virtual_addresses.clone();
        // The clients' path first: the addresses and their announcement, then the advert. RFC
        // 9568 section 6.4.2 lists the advert first, but only the other routers read it, and
        // they are already waiting on a Master_Down_Timer a few microseconds cannot move.
        self.actions.push_back(Action::AddVips(vips.clone()));
        self.actions.push_back(Action::AnnounceVips(vips));
        self.send_advert(self.effective_priority);
        self.adver_timer = Some(now.saturating_add(self.config.advert_interval));
        self.changed(from, reason);
    }

    fn enter_fault(&mut self, from: State) {
        if from == State::Master {
            self.resign();
        }
        self.cancel_timers();
        self.current_master = None;
        self.state = State::Fault;
        self.changed(from, TransitionReason::FaultRaised);
    }

    /// Master resigns: priority-0 advert, then give up the addresses.
    fn resign(&mut self) {
        self.send_advert(RESIGN_PRIORITY);
        self.leave_master();
    }

    fn leave_master(&mut self) {
        self.actions
            .push_back(Action::RemoveVips(self.config.virtual_addresses.clone()));
    }

    fn cancel_timers(&mut self) {
        self.adver_timer = None;
        self.master_down_timer = None;
        self.preempt_at = None;
    }

    fn send_advert(&mut self, priority: u8) {
        self.stats.adverts_sent += 1;
        if priority == RESIGN_PRIORITY {
            self.stats.priority_zero_sent += 1;
        }
        self.actions.push_back(Action::SendAdvert { priority });
    }

    fn changed(&mut self, from: State, reason: TransitionReason) {
        if self.state != State::Backup {
            // Nobody to probe outside Backup.
            if let Some(echo) = &mut self.echo {
                echo.forget();
            }
        }
        self.actions.push_back(Action::StateChanged {
            from,
            to: self.state,
            reason,
        });
    }

    /// Advance the router's clock to `now` if it is newer; returns the router's clock.
    fn tick(&mut self, now: Instant) -> Instant {
        self.clock = self.clock.max(now);
        self.clock
    }

    fn remember_peer(&mut self, seen: Instant, advert: &ValidAdvert) {
        let info = PeerInfo {
            address: advert.src(),
            checksum: advert.checksum(),
            priority: advert.priority(),
            adver_interval: advert.adver_interval(),
            last_seen: seen,
        };
        if let Some(p) = self.peers.iter_mut().find(|p| p.address == info.address) {
            *p = info;
        } else if self.peers.len() < MAX_PEERS {
            self.peers.push(info);
        } else if let Some(oldest) = self.peers.iter_mut().min_by_key(|p| p.last_seen) {
            *oldest = info;
        }
    }
}

#[cfg(test)]
mod tests;
