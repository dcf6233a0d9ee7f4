//! Tests per RFC 5880 clause, on virtual time: single sessions fed hand-made packets, and pairs
//! of sessions wired back to back by [`Link`].

use super::*;

const MS: Duration = Duration::from_millis(1);

fn config(tx_ms: u64, rx_ms: u64, mult: u8) -> SessionConfig {
    SessionConfig {
        desired_min_tx: Duration::from_millis(tx_ms),
        required_min_rx: Duration::from_millis(rx_ms),
        idle_tx: SLOW_TX,
        detect_mult: mult,
        passive: false,
        min_ttl: 255,
    }
}

fn at(ms: u64) -> Instant {
    Instant::from_micros(ms * 1_000)
}

fn peer_packet(state: State, your: u32) -> ControlRepr {
    ControlRepr {
        diag: Diag::None,
        state,
        poll: false,
        final_: false,
        control_plane_independent: false,
        demand: false,
        detect_mult: 3,
        my_discriminator: 0xbeef,
        your_discriminator: your,
        desired_min_tx: 1_000_000,
        required_min_rx: 10_000,
        required_min_echo_rx: 0,
    }
}

fn states(session: &mut Session) -> Vec<State> {
    std::iter::from_fn(|| session.poll_event())
        .map(|Event::StateChanged { to, .. }| to)
        .collect()
}

/// Two sessions and a wire between them with a fixed one-way delay; `cut` drops everything.
struct Link {
    a: Session,
    b: Session,
    now: Instant,
    delay: Duration,
    cut: bool,
    in_flight: Vec<(Instant, bool, ControlRepr)>,
    /// Everything A sent.
    sent_by_a: Vec<ControlRepr>,
}

impl Link {
    fn new(a: SessionConfig, b: SessionConfig) -> Link {
        Link {
            a: Session::new(Instant::ZERO, a, 1, 7),
            b: Session::new(Instant::ZERO, b, 2, 8),
            now: Instant::ZERO,
            delay: Duration::from_micros(100),
            cut: false,
            in_flight: Vec::new(),
            sent_by_a: Vec::new(),
        }
    }

    /// Run until `until`, one event (delivery or timer) at a time.
    fn run_until(&mut self, until: Instant) {
        loop {
            self.flush();
            let next = [
                self.a.poll_timeout(),
                self.b.poll_timeout(),
                self.in_flight.iter().map(|(t, ..)| *t).min(),
            ]
            .into_iter()
            .flatten()
            .min();
            let Some(next) = next.filter(|&t| t <= until) else {
                self.now = until;
                return;
            };
            self.now = self.now.max(next);
            let now = self.now;
            let (arrived, waiting): (Vec<_>, Vec<_>) =
                self.in_flight.drain(..).partition(|(t, ..)| *t <= now);
            self.in_flight = waiting;
            for (_, to_b, packet) in arrived {
                let to = if to_b { &mut self.b } else { &mut self.a };
                to.handle_control(now, 255, &packet).unwrap();
            }
            self.a.handle_timeout(now);
            self.b.handle_timeout(now);
        }
    }

    fn flush(&mut self) {
        let now = self.now;
        while let Some(packet) = self.a.poll_transmit(now) {
            self.sent_by_a.push(packet);
            if !self.cut {
                self.in_flight
                    .push((now.saturating_add(self.delay), true, packet));
            }
        }
        while let Some(packet) = self.b.poll_transmit(now) {
            if !self.cut {
                self.in_flight
                    .push((now.saturating_add(self.delay), false, packet));
            }
        }
    }
}

/// Section 6.2: Down -> Init -> Up on both sides, the three-way handshake.
#[test]
fn three_way_handshake_brings_both_up() {
    let mut link = Link::new(config(10, 10, 3), config(10, 10, 3));
    link.run_until(at(50));
    assert_eq!(link.a.state(), State::Up);
    assert_eq!(link.b.state(), State::Up);
    assert_eq!(link.a.remote_discriminator(), 2);
    assert_eq!(link.b.remote_discriminator(), 1);
    let a_states = states(&mut link.a);
    let b_states = states(&mut link.b);
    // One side sees the other's Down and goes Init; the other sees Init and goes straight Up.
    assert!(a_states == [State::Init, State::Up] || a_states == [State::Up]);
    assert!(b_states == [State::Init, State::Up] || b_states == [State::Up]);
}

/// Section 6.8.4: with the link cut, Up goes Down with diag 1 exactly one Detection Time
/// (the peer's Detect Mult x the agreed interval) after the last packet arrived.
#[test]
fn detection_time_is_remote_mult_times_agreed_interval() {
    let mut link = Link::new(config(10, 20, 3), config(30, 10, 5));
    link.run_until(at(2_000));
    assert_eq!(link.a.state(), State::Up);
    // A hears B's mult 5 x max(A's rx 20, B's tx 30) = 150 ms; B hears 3 x max(10, 10).
    assert_eq!(link.a.detection_time(), Some(150 * MS));
    assert_eq!(link.b.detection_time(), Some(30 * MS));
    link.in_flight.clear();
    link.cut = true;
    let last_a_rx = link.a.last_rx.unwrap();
    link.run_until(last_a_rx.saturating_add(150 * MS - Duration::from_micros(1)));
    assert_eq!(link.a.state(), State::Up);
    link.run_until(last_a_rx.saturating_add(150 * MS));
    assert_eq!(link.a.state(), State::Down);
    assert_eq!(link.a.local_diag(), Diag::ControlDetectionTimeExpired);
    assert_eq!(link.a.remote_discriminator(), 0);
    assert_eq!(link.a.stats().flaps, 1);
}

/// Section 6.8.3: while not Up, packets go no faster than once a second (less jitter).
#[test]
fn down_session_sends_at_the_slow_rate() {
    let mut session = Session::new(Instant::ZERO, config(1, 1, 3), 1, 3);
    let mut sent = Vec::new();
    for ms in 0..10_000 {
        if session.poll_transmit(at(ms)).is_some() {
            sent.push(ms);
        }
    }
    assert!(sent.len() >= 10 && sent.len() <= 14, "{sent:?}");
    for gap in sent.windows(2).map(|w| w[1] - w[0]) {
        assert!((750..=1_000).contains(&gap), "gap {gap} ms");
    }
    let packet = Session::new(Instant::ZERO, config(1, 1, 3), 1, 3)
        .poll_transmit(Instant::ZERO)
        .unwrap();
    assert_eq!(packet.desired_min_tx, 1_000_000);
    assert_eq!(packet.required_min_rx, 1_000);
    assert_eq!(packet.state, State::Down);
    assert_eq!(packet.your_discriminator, 0);
}

/// Section 6.8.7: intervals fall in 75-100 % of the negotiated interval, 75-90 % with a
/// multiplier of 1, and are not all the same.
#[test]
fn jitter_stays_within_the_rfc_bounds() {
    for (mult, low, high) in [(3u8, 75_000u64, 100_000u64), (1, 75_000, 90_000)] {
        let mut session = Session::new(Instant::ZERO, config(100, 100, mult), 1, 11);
        let gaps: Vec<u64> = (0..2_000)
            .map(|_| crate::vrrp::time::duration_micros(session.jittered(100 * MS)))
            .collect();
        assert!(gaps.iter().all(|g| (low..=high).contains(g)), "mult {mult}");
        assert!(gaps.iter().any(|&g| g < low + 5_000));
        assert!(gaps.iter().any(|&g| g > high - 5_000));
    }
}

/// Section 6.8.3: going Up changes DesiredMinTxInterval, so a Poll Sequence runs; the peer
/// answers the first P with an F (without P, section 6.5), which ends it.
#[test]
fn going_up_polls_and_the_final_ends_it() {
    let mut link = Link::new(config(10, 10, 3), config(10, 10, 3));
    link.run_until(at(50));
    let first_up = link
        .sent_by_a
        .iter()
        .position(|p| p.state == State::Up)
        .unwrap();
    let after_up = &link.sent_by_a[first_up..];
    assert!(after_up[0].poll, "the first Up packet polls");
    assert!(after_up.iter().any(|p| !p.poll), "the poll ends");
    assert!(after_up.iter().all(|p| !(p.poll && p.final_)));
    assert!(!link.a.polling && !link.b.polling);
    assert_eq!(link.a.tx_interval(), Some(10 * MS));
    assert_eq!(link.a.desired_min_tx(), 10 * MS);
}

/// Section 6.8.7: a packet with P is answered at once with F set and P clear.
#[test]
fn poll_is_answered_with_final_at_once() {
    let mut session = Session::new(Instant::ZERO, config(10, 10, 3), 1, 1);
    let _ = session.poll_transmit(Instant::ZERO);
    let mut packet = peer_packet(State::Down, 0);
    packet.poll = true;
    session.handle_control(at(1), 255, &packet).unwrap();
    assert_eq!(session.poll_timeout(), Some(Instant::ZERO));
    let answer = session.poll_transmit(at(1)).unwrap();
    assert!(answer.final_ && !answer.poll);
    assert_eq!(answer.your_discriminator, 0xbeef);
}

/// Section 6.8.3: an increase of DesiredMinTxInterval while Up does not slow the transmit
/// timer until the Final arrives; a decrease of RequiredMinRxInterval keeps the old value in
/// the Detection Time until then.
#[test]
fn timer_changes_while_up_wait_for_the_final() {
    let mut session = Session::new(Instant::ZERO, config(10, 50, 3), 1, 1);
    session
        .handle_control(at(1), 255, &peer_packet(State::Init, 1))
        .unwrap();
    assert_eq!(session.state(), State::Up);
    let mut fin = peer_packet(State::Up, 1);
    fin.final_ = true;
    fin.desired_min_tx = 10_000;
    session.handle_control(at(2), 255, &fin).unwrap();
    assert!(!session.polling);

    session.reconfigure(at(3), config(40, 20, 3));
    assert!(session.polling);
    assert_eq!(session.desired_min_tx(), 40 * MS);
    assert_eq!(session.tx_interval(), Some(10 * MS), "increase waits");
    assert_eq!(session.detection_time(), Some(150 * MS), "decrease waits");
    let sent = session.poll_transmit(at(3)).unwrap();
    assert!(sent.poll);
    assert_eq!(sent.desired_min_tx, 40_000);
    assert_eq!(sent.required_min_rx, 20_000);

    session.handle_control(at(4), 255, &fin).unwrap();
    assert!(!session.polling);
    assert_eq!(session.tx_interval(), Some(40 * MS));
    assert_eq!(session.detection_time(), Some(60 * MS));
    assert!(!session.poll_transmit(at(200)).unwrap().poll);
}

/// Section 6.8.6: AdminDown from the peer takes a session Down with diag 3; so does Down
/// from the peer while Up.
#[test]
fn neighbor_signalled_down() {
    for remote in [State::AdminDown, State::Down] {
        let mut session = Session::new(Instant::ZERO, config(10, 10, 3), 1, 1);
        session
            .handle_control(at(1), 255, &peer_packet(State::Init, 1))
            .unwrap();
        assert_eq!(session.state(), State::Up);
        session
            .handle_control(at(2), 255, &peer_packet(remote, 1))
            .unwrap();
        assert_eq!(session.state(), State::Down, "{remote:?}");
        assert_eq!(session.local_diag(), Diag::NeighborSignaledSessionDown);
        assert_eq!(states(&mut session), [State::Up, State::Down], "{remote:?}");
    }
}

/// Section 6.8.6: Down + Down -> Init; Init + Up -> Up; Down + Up stays Down.
#[test]
fn state_table() {
    let mut session = Session::new(Instant::ZERO, config(10, 10, 3), 1, 1);
    session
        .handle_control(at(1), 255, &peer_packet(State::Up, 1))
        .unwrap();
    assert_eq!(session.state(), State::Down);
    session
        .handle_control(at(2), 255, &peer_packet(State::Down, 0))
        .unwrap();
    assert_eq!(session.state(), State::Init);
    session
        .handle_control(at(3), 255, &peer_packet(State::Up, 1))
        .unwrap();
    assert_eq!(session.state(), State::Up);
}

/// Section 6.8.6 and RFC 5881 section 5: the session-level discards, each counted.
#[test]
fn session_level_receive_checks() {
    let mut session = Session::new(Instant::ZERO, config(10, 10, 3), 1, 1);
    assert_eq!(
        session.handle_control(at(1), 254, &peer_packet(State::Down, 0)),
        Err(DropReason::BadTtl)
    );
    assert_eq!(
        session.handle_control(at(1), 255, &peer_packet(State::Down, 9)),
        Err(DropReason::UnknownDiscriminator)
    );
    assert_eq!(
        session.handle_control(at(1), 255, &peer_packet(State::Init, 0)),
        Err(DropReason::ZeroYourDiscriminator)
    );
    assert_eq!(session.state(), State::Down);
    assert_eq!(session.remote_discriminator(), 0);
    assert_eq!(session.stats().drops.values().sum::<u64>(), 3);
    session.handle_shutdown();
    assert_eq!(
        session.handle_control(at(1), 255, &peer_packet(State::Down, 1)),
        Err(DropReason::SessionAdminDown)
    );
}

/// keepalived's max_hops lowers the TTL accepted.
#[test]
fn a_lower_min_ttl_accepts_fewer_hops() {
    let mut relaxed = config(10, 10, 3);
    relaxed.min_ttl = 64;
    let mut session = Session::new(Instant::ZERO, relaxed, 1, 1);
    assert_eq!(
        session.handle_control(at(1), 64, &peer_packet(State::Down, 0)),
        Ok(())
    );
}

/// Section 6.8.7: a passive session sends nothing until the peer has been heard.
#[test]
fn passive_waits_for_the_peer() {
    let mut passive = config(10, 10, 3);
    passive.passive = true;
    let mut session = Session::new(Instant::ZERO, passive, 1, 1);
    assert_eq!(session.poll_transmit(at(5_000)), None);
    assert_eq!(session.poll_timeout(), None);
    session
        .handle_control(at(5_001), 255, &peer_packet(State::Down, 0))
        .unwrap();
    assert_eq!(session.state(), State::Init);
    assert!(session.poll_transmit(at(5_001)).is_some());
}

/// Section 6.8.7: a peer asking for a RequiredMinRxInterval of zero gets no periodic packets.
#[test]
fn zero_remote_min_rx_stops_periodic_packets() {
    let mut session = Session::new(Instant::ZERO, config(10, 10, 3), 1, 1);
    let mut packet = peer_packet(State::Down, 0);
    packet.required_min_rx = 0;
    session.handle_control(at(1), 255, &packet).unwrap();
    assert_eq!(session.tx_interval(), None);
    assert_eq!(session.poll_transmit(at(10_000)), None);
}

/// Section 6.8.16: shutting down tells the peer AdminDown with diag 7.
#[test]
fn shutdown_sends_admin_down() {
    let mut session = Session::new(Instant::ZERO, config(10, 10, 3), 1, 1);
    let _ = session.poll_transmit(Instant::ZERO);
    session.handle_shutdown();
    let packet = session.poll_transmit(at(1)).unwrap();
    assert_eq!(packet.state, State::AdminDown);
    assert_eq!(packet.diag, Diag::AdministrativelyDown);
}

/// Once Up, packets go at the negotiated rate: the larger of our TX and the peer's RX.
#[test]
fn up_sends_at_the_negotiated_interval() {
    let mut link = Link::new(config(5, 20, 3), config(5, 20, 3));
    link.run_until(at(3_000));
    assert_eq!(link.a.tx_interval(), Some(20 * MS));
    let before = link.a.stats().tx_packets;
    link.run_until(at(4_000));
    let sent = link.a.stats().tx_packets - before;
    // 1 s at 15-20 ms: 50 to 67 packets.
    assert!((50..=67).contains(&sent), "{sent}");
    assert_eq!(link.a.state(), State::Up);
    assert_eq!(link.a.stats().flaps, 0);
}
