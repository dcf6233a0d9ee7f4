//! One BFD session's state machine (RFC 5880 section 6, asynchronous mode, no demand mode, no
//! authentication), sans-IO in the quinn-proto shape: [`Session::handle_control`] and
//! [`Session::handle_timeout`] in; [`Session::poll_transmit`], [`Session::poll_timeout`] and
//! [`Session::poll_event`] out. The caller supplies every instant (CLOCK_MONOTONIC in the
//! daemon, virtual time in the tests) and the seed of the jitter generator.
//!
//! Names follow the RFC's state variables (section 6.8.1): `bfd.DesiredMinTxInterval` is
//! [`Session::desired_min_tx`], `bfd.RemoteMinRxInterval` is `remote_min_rx`, and so on.

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use super::wire::{self, ControlRepr, Diag, ParseError, State};
use crate::vrrp::Instant;

/// The slowest a session may send while it is not Up is no faster than this (RFC 5880
/// section 6.8.3: "not less than one second").
pub const SLOW_TX: Duration = Duration::from_secs(1);
/// bfd.RemoteMinRxInterval before anything is heard from the peer (section 6.8.1).
const INITIAL_REMOTE_MIN_RX: Duration = Duration::from_micros(1);

/// What one session is configured with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionConfig {
    /// The Desired Min TX Interval once the session is Up (keepalived's `min_tx`).
    pub desired_min_tx: Duration,
    /// The Required Min RX Interval (keepalived's `min_rx`).
    pub required_min_rx: Duration,
    /// The Desired Min TX Interval while the session is not Up (keepalived's `idle_tx`); at
    /// least [`SLOW_TX`] whatever is configured.
    pub idle_tx: Duration,
    /// bfd.DetectMult.
    pub detect_mult: u8,
    /// Passive role (section 6.1): send nothing until the peer has been heard.
    pub passive: bool,
    /// The lowest TTL / hop limit accepted. Single hop requires 255 (RFC 5881 section 5, the
    /// GTSM check); keepalived lets `max_hops` lower it.
    pub min_ttl: u8,
}

/// Why a received Control packet was discarded. Each is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, thiserror::Error)]
pub enum DropReason {
    #[error("{0}")]
    Malformed(ParseError),
    #[error("TTL / hop limit below the minimum: the packet was routed or forged")]
    BadTtl,
    #[error("Your Discriminator is not this session's")]
    UnknownDiscriminator,
    #[error("Your Discriminator is zero but the state is neither Down nor AdminDown")]
    ZeroYourDiscriminator,
    #[error("the session is AdminDown")]
    SessionAdminDown,
}

/// A change the caller must learn of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    StateChanged { from: State, to: State, diag: Diag },
}

/// Counters of one session.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionStats {
    pub tx_packets: u64,
    pub rx_packets: u64,
    /// How often the session left Up, other than by being shut down.
    pub flaps: u64,
    pub drops: BTreeMap<DropReason, u64>,
}

/// One BFD session.
#[derive(Debug)]
pub struct Session {
    config: SessionConfig,
    state: State,
    remote_state: State,
    local_discr: u32,
    remote_discr: u32,
    local_diag: Diag,
    remote_diag: Diag,
    remote_detect_mult: u8,
    remote_min_rx: Duration,
    remote_desired_min_tx: Duration,
    remote_min_echo_rx: Duration,
    /// bfd.DesiredMinTxInterval, as advertised.
    desired_min_tx: Duration,
    /// The DesiredMinTxInterval the transmit timer uses: an increase while Up waits for the
    /// Poll Sequence to end (section 6.8.3).
    tx_in_effect: Duration,
    /// bfd.RequiredMinRxInterval, as advertised.
    required_min_rx: Duration,
    /// The RequiredMinRxInterval the Detection Time uses: a decrease while Up waits for the
    /// Poll Sequence to end (section 6.8.3).
    rx_for_detection: Duration,
    /// A Poll Sequence is under way: every packet carries P until one with F arrives.
    polling: bool,
    /// A packet with P arrived: answer with F at once (section 6.8.7).
    final_due: bool,
    /// The state changed: tell the peer at once rather than at the next periodic packet.
    send_now: bool,
    last_tx: Option<Instant>,
    next_tx: Option<Instant>,
    last_rx: Option<Instant>,
    rng: fastrand::Rng,
    events: VecDeque<Event>,
    stats: SessionStats,
}

impl Session {
    /// A session in Down with discriminator `local_discr` (non-zero, unique among the
    /// caller's sessions), first sending at `now` unless passive. `seed` seeds the jitter.
    pub fn new(now: Instant, config: SessionConfig, local_discr: u32, seed: u64) -> Session {
        assert_ne!(local_discr, 0, "a local discriminator is never zero");
        let slow = slow_tx(&config);
        Session {
            state: State::Down,
            remote_state: State::Down,
            local_discr,
            remote_discr: 0,
            local_diag: Diag::None,
            remote_diag: Diag::None,
            remote_detect_mult: 0,
            remote_min_rx: INITIAL_REMOTE_MIN_RX,
            remote_desired_min_tx: Duration::ZERO,
            remote_min_echo_rx: Duration::ZERO,
            desired_min_tx: slow,
            tx_in_effect: slow,
            required_min_rx: config.required_min_rx,
            rx_for_detection: config.required_min_rx,
            polling: false,
            final_due: false,
            send_now: false,
            last_tx: None,
            next_tx: Some(now),
            last_rx: None,
            rng: fastrand::Rng::with_seed(seed),
            events: VecDeque::new(),
            stats: SessionStats::default(),
            config,
        }
    }

    pub fn config(&self) -> &SessionConfig {
        &self.config
    }

    pub fn state(&self) -> State {
        self.state
    }

    pub fn remote_state(&self) -> State {
        self.remote_state
    }

    pub fn local_discriminator(&self) -> u32 {
        self.local_discr
    }

    pub fn remote_discriminator(&self) -> u32 {
        self.remote_discr
    }

    /// bfd.LocalDiag: why the session last changed state.
    pub fn local_diag(&self) -> Diag {
        self.local_diag
    }

    /// The diagnostic the peer last sent.
    pub fn remote_diag(&self) -> Diag {
        self.remote_diag
    }

    /// bfd.DesiredMinTxInterval as advertised now.
    pub fn desired_min_tx(&self) -> Duration {
        self.desired_min_tx
    }

    /// The peer's Required Min Echo RX Interval: zero means it reflects no echo packets.
    pub fn remote_min_echo_rx(&self) -> Duration {
        self.remote_min_echo_rx
    }

    pub fn stats(&self) -> &SessionStats {
        &self.stats
    }

    /// The interval periodic packets go at before jitter (section 6.8.7): the larger of our
    /// DesiredMinTxInterval and the peer's RequiredMinRxInterval. `None` while the peer asks
    /// for no packets (RequiredMinRxInterval zero) or while passive and unheard.
    pub fn tx_interval(&self) -> Option<Duration> {
        if self.remote_min_rx.is_zero() || (self.config.passive && self.remote_discr == 0) {
            return None;
        }
        Some(self.tx_in_effect.max(self.remote_min_rx))
    }

    /// The Detection Time (section 6.8.4, asynchronous mode): the peer's Detect Mult times
    /// the larger of our RequiredMinRxInterval and the peer's last DesiredMinTxInterval.
    /// `None` before the peer has been heard.
    pub fn detection_time(&self) -> Option<Duration> {
        if self.remote_detect_mult == 0 {
            return None;
        }
        let agreed = self.rx_for_detection.max(self.remote_desired_min_tx);
        Some(agreed * u32::from(self.remote_detect_mult))
    }

    /// When a packet not heard by then counts as loss of the session.
    fn detect_deadline(&self) -> Option<Instant> {
        let last_rx = self.last_rx?;
        Some(last_rx.saturating_add(self.detection_time()?))
    }

    /// The earliest instant at which [`Session::handle_timeout`] or
    /// [`Session::poll_transmit`] has work; [`Instant::ZERO`] when a packet is due already.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.final_due || self.send_now {
            return Some(Instant::ZERO);
        }
        let tx = self.tx_interval().and(self.next_tx);
        [tx, self.detect_deadline()].into_iter().flatten().min()
    }

    /// The next state change, oldest first.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// A packet to send now, if one is due. Call until `None`.
    pub fn poll_transmit(&mut self, now: Instant) -> Option<ControlRepr> {
        if self.final_due {
            self.final_due = false;
            // A packet never carries P and F together (section 6.5); the poll goes on in the
            // next one.
            return Some(self.transmit(false, true));
        }
        let interval = self.tx_interval()?;
        let due = self.send_now || self.next_tx.is_some_and(|at| at <= now);
        if !due {
            return None;
        }
        self.send_now = false;
        self.last_tx = Some(now);
        self.next_tx = Some(now.saturating_add(self.jittered(interval)));
        Some(self.transmit(self.polling, false))
    }

    fn transmit(&mut self, poll: bool, final_: bool) -> ControlRepr {
        self.stats.tx_packets += 1;
        ControlRepr {
            diag: self.local_diag,
            state: self.state,
            poll,
            final_,
            control_plane_independent: false,
            demand: false,
            detect_mult: self.config.detect_mult,
            my_discriminator: self.local_discr,
            your_discriminator: self.remote_discr,
            desired_min_tx: wire::micros(self.desired_min_tx),
            required_min_rx: wire::micros(self.required_min_rx),
            // vipd's control sessions reflect no echo packets themselves.
            required_min_echo_rx: 0,
        }
    }

    /// `interval` less the random reduction of section 6.8.7: 0-25 %, or 10-25 % when
    /// bfd.DetectMult is 1 (so that one late packet never costs the session).
    fn jittered(&mut self, interval: Duration) -> Duration {
        let micros = crate::vrrp::time::duration_micros(interval);
        let lowest_cut = if self.config.detect_mult == 1 {
            micros / 10
        } else {
            0
        };
        let cut = self.rng.u64(lowest_cut..=micros / 4);
        Duration::from_micros(micros - cut)
    }

    /// Timers: the Detection Time expiring takes an Init or Up session Down (section 6.8.4)
    /// and forgets the peer.
    pub fn handle_timeout(&mut self, now: Instant) {
        let Some(deadline) = self.detect_deadline() else {
            return;
        };
        if now < deadline {
            return;
        }
        if matches!(self.state, State::Init | State::Up) {
            self.change_state(State::Down, Diag::ControlDetectionTimeExpired);
        }
        self.forget_peer();
    }

    /// bfd.RemoteDiscr is reset when nothing is heard for a Detection Time (section 6.8.1),
    /// and with it everything learnt from the peer.
    fn forget_peer(&mut self) {
        self.remote_discr = 0;
        self.remote_state = State::Down;
        self.remote_detect_mult = 0;
        self.remote_min_rx = INITIAL_REMOTE_MIN_RX;
        self.remote_desired_min_tx = Duration::ZERO;
        self.remote_min_echo_rx = Duration::ZERO;
        self.last_rx = None;
    }

    /// A Control packet that passed [`ControlRepr::parse`], received at `now` with IP TTL /
    /// hop limit `ttl`: the rest of section 6.8.6.
    pub fn handle_control(
        &mut self,
        now: Instant,
        ttl: u8,
        packet: &ControlRepr,
    ) -> Result<(), DropReason> {
        if let Err(reason) = self.check(ttl, packet) {
            *self.stats.drops.entry(reason).or_default() += 1;
            return Err(reason);
        }
        self.stats.rx_packets += 1;
        self.remote_discr = packet.my_discriminator;
        self.remote_state = packet.state;
        self.remote_diag = packet.diag;
        self.remote_detect_mult = packet.detect_mult;
        self.remote_min_rx = wire::interval(packet.required_min_rx);
        self.remote_desired_min_tx = wire::interval(packet.desired_min_tx);
        self.remote_min_echo_rx = wire::interval(packet.required_min_echo_rx);
        if packet.final_ && self.polling {
            self.polling = false;
            self.tx_in_effect = self.desired_min_tx;
            self.rx_for_detection = self.required_min_rx;
        }
        self.last_rx = Some(now);
        self.receive_state(packet.state);
        if packet.poll {
            self.final_due = true;
        }
        self.reschedule_tx(now);
        Ok(())
    }

    fn check(&self, ttl: u8, packet: &ControlRepr) -> Result<(), DropReason> {
        if ttl < self.config.min_ttl {
            return Err(DropReason::BadTtl);
        }
        if packet.your_discriminator != 0 && packet.your_discriminator != self.local_discr {
            return Err(DropReason::UnknownDiscriminator);
        }
        if packet.your_discriminator == 0 && !matches!(packet.state, State::Down | State::AdminDown)
        {
            return Err(DropReason::ZeroYourDiscriminator);
        }
        if self.state == State::AdminDown {
            return Err(DropReason::SessionAdminDown);
        }
        Ok(())
    }

    /// The state table of section 6.8.6 (and section 6.2's diagram).
    fn receive_state(&mut self, remote: State) {
        match (self.state, remote) {
            (State::AdminDown, _) => {}
            (State::Down, State::AdminDown) => {}
            (_, State::AdminDown) => {
                self.change_state(State::Down, Diag::NeighborSignaledSessionDown)
            }
            (State::Down, State::Down) => self.change_state(State::Init, Diag::None),
            (State::Down, State::Init) => self.change_state(State::Up, Diag::None),
            (State::Down, State::Up) => {}
            (State::Init, State::Init | State::Up) => self.change_state(State::Up, Diag::None),
            (State::Init, State::Down) => {}
            (State::Up, State::Down) => {
                self.change_state(State::Down, Diag::NeighborSignaledSessionDown)
            }
            (State::Up, State::Init | State::Up) => {}
        }
    }

    fn change_state(&mut self, to: State, diag: Diag) {
        let from = self.state;
        self.state = to;
        self.local_diag = diag;
        self.send_now = true;
        // Shutting down is no failure of the path.
        if from == State::Up && to != State::AdminDown {
            self.stats.flaps += 1;
        }
        // Up sends at the configured rate, anything else at the slow one (section 6.8.3).
        let desired = if to == State::Up {
            self.config.desired_min_tx
        } else {
            slow_tx(&self.config)
        };
        self.set_desired_min_tx(desired);
        self.events
            .push_back(Event::StateChanged { from, to, diag });
    }

    /// Change bfd.DesiredMinTxInterval: a change while Up starts a Poll Sequence, and an
    /// increase while Up waits for its end (section 6.8.3).
    fn set_desired_min_tx(&mut self, desired: Duration) {
        if desired == self.desired_min_tx {
            return;
        }
        self.desired_min_tx = desired;
        if self.state == State::Up {
            self.polling = true;
        }
        if self.state != State::Up || desired < self.tx_in_effect {
            self.tx_in_effect = desired;
        }
    }

    /// Change bfd.RequiredMinRxInterval: a change while Up starts a Poll Sequence, and a
    /// decrease while Up keeps the old value in the Detection Time until its end.
    fn set_required_min_rx(&mut self, required: Duration) {
        if required == self.required_min_rx {
            return;
        }
        self.required_min_rx = required;
        if self.state == State::Up {
            self.polling = true;
        }
        if self.state != State::Up || required > self.rx_for_detection {
            self.rx_for_detection = required;
        }
    }

    /// New intervals and multiplier (a reloaded configuration), applied the way section
    /// 6.8.3 asks, with a Poll Sequence when the session is Up.
    pub fn reconfigure(&mut self, now: Instant, config: SessionConfig) {
        self.config = config;
        let desired = if self.state == State::Up {
            config.desired_min_tx
        } else {
            slow_tx(&config)
        };
        self.set_desired_min_tx(desired);
        self.set_required_min_rx(config.required_min_rx);
        if self.polling {
            self.send_now = true;
        }
        self.reschedule_tx(now);
    }

    /// Take the session AdminDown (the daemon stopping, section 6.8.16): the peer is told at
    /// once and goes Down with diag 3 rather than waiting for its Detection Time.
    pub fn handle_shutdown(&mut self) {
        if self.state != State::AdminDown {
            self.change_state(State::AdminDown, Diag::AdministrativelyDown);
        }
    }

    /// A shorter interval than the one the pending packet was timed with takes effect now
    /// rather than a long (slow-rate) interval later.
    fn reschedule_tx(&mut self, now: Instant) {
        let Some(interval) = self.tx_interval() else {
            return;
        };
        let from = self.last_tx.unwrap_or(now);
        let sooner = from.saturating_add(self.jittered(interval));
        self.next_tx = Some(match self.next_tx {
            Some(at) if at <= sooner => at,
            _ => sooner.max(now),
        });
    }
}

fn slow_tx(config: &SessionConfig) -> Duration {
    config.idle_tx.max(SLOW_TX)
}

#[cfg(test)]
mod tests;
