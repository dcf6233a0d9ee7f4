//! The BFD thread: every configured session ([`crate::bfd::Session`]) with its sockets
//! ([`socket`]), and the session states it publishes for `track_bfd`.
//!
//! Why a thread of its own rather than the engine's or tokio's: BFD timers go down to 1 ms x 3
//! (keepalived's range), which tokio's millisecond wheel cannot keep and which an ordinary
//! thread misses under load (ENVIRONMENT.md: 0.84 ms p99 lateness under stress). The engine
//! thread has the right tools (an `epoll_pwait2` poller, SCHED_FIFO) but its wake-ups are paid
//! every VRRP advert interval and it must never wait on anything else; a session storm or a
//! peer flooding port 3784 should not delay an advert. So BFD runs the engine's poller and
//! realtime setting on a second thread, `vipd-bfd`, and talks to the rest of the daemon only
//! through a `watch` channel of session states that the health supervisor reads: a session's
//! Up or not-Up is a tracked object's status, weighted into VRRP priority like keepalived's
//! `track_bfd`.
mod socket;

use std::collections::BTreeMap;
use std::io;
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use anyhow::{Context, Result};
use tokio::sync::watch;
use tracing::{error, info, warn};

use super::engine::{make_current_thread_realtime, Poller, Waker};
use crate::bfd::{
    wire::{Packet, HEADER_LEN},
    ControlRepr, Event, Session, SessionConfig, State,
};
use crate::config::model::BfdSession;
use crate::control::{board::StatusBoard, status::BfdSessionStatus};
use crate::family::IpFamily;
use crate::{clock, vrrp::Instant};
use socket::{Listener, Sender};

/// Each session's state by name, as the health supervisor reads it.
pub type BfdStates = BTreeMap<String, State>;

/// The running BFD thread. Dropping it takes every session AdminDown (the peers are told at
/// once) and waits for the thread.
pub struct BfdHandle {
    stop: Arc<AtomicBool>,
    waker: Waker,
    thread: Option<JoinHandle<()>>,
}

impl Drop for BfdHandle {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        self.waker.wake();
        if let Some(thread) = self.thread.take() {
            if thread.join().is_err() {
                error!("the BFD thread panicked");
            }
        }
    }
}

/// One configured session at run time.
struct Running {
    name: String,
    neighbor: std::net::IpAddr,
    session: Session,
    sender: Sender,
}

/// The core's configuration of a session.
pub fn session_config(session: &BfdSession) -> SessionConfig {
    SessionConfig {
        desired_min_tx: session.min_tx,
        required_min_rx: session.min_rx,
        idle_tx: session.idle_tx,
        detect_mult: session.multiplier,
        passive: session.passive,
        min_ttl: session.min_ttl(),
    }
}

/// Opens the sockets and starts the thread; `None` when no session is configured.
pub fn spawn(
    sessions: &[BfdSession],
    realtime_priority: Option<u8>,
    board: StatusBoard,
) -> Result<Option<(BfdHandle, watch::Receiver<BfdStates>)>> {
    if sessions.is_empty() {
        return Ok(None);
    }
    let now = clock::now();
    let mut running = Vec::new();
    let mut discriminators = Vec::new();
    for session in sessions {
        let sender = Sender::open(
            session.neighbor,
            session.source,
            session.interface.as_deref(),
            session.ttl,
        )
        .with_context(|| format!("BFD session `{}`: opening its socket", session.name))?;
        let discriminator = loop {
            let candidate = fastrand::u32(1..);
            if !discriminators.contains(&candidate) {
                break candidate;
            }
        };
        discriminators.push(discriminator);
        running.push(Running {
            name: session.name.clone(),
            neighbor: session.neighbor,
            session: Session::new(
                now,
                session_config(session),
                discriminator,
                fastrand::u64(..),
            ),
            sender,
        });
    }
    let mut listeners = Vec::new();
    for family in [IpFamily::V4, IpFamily::V6] {
        if sessions.iter().any(|s| IpFamily::of(s.neighbor) == family) {
            listeners.push(
                Listener::bind(family).with_context(|| {
                    format!("BFD: listening on {} UDP port 3784", family.name())
                })?,
            );
        }
    }
    let poller = Poller::new()?;
    for (token, listener) in listeners.iter().enumerate() {
        poller.register(listener.as_fd(), token as u64)?;
    }
    let initial = running
        .iter()
        .map(|r| (r.name.clone(), r.session.state()))
        .collect();
    let (states, receiver) = watch::channel(initial);
    let stop = Arc::new(AtomicBool::new(false));
    let waker = poller.waker();
    let mut thread = BfdThread {
        sessions: running,
        listeners,
        poller,
        states,
        stop: stop.clone(),
        board,
        next_status: now,
    };
    let thread = std::thread::Builder::new()
        .name("vipd-bfd".into())
        .spawn(move || {
            if let Some(priority) = realtime_priority {
                if let Err(error) = make_current_thread_realtime(priority) {
                    warn!(%error, "cannot make the BFD thread realtime");
                }
            }
            if let Err(error) = thread.run() {
                error!(%error, "the BFD thread failed; tracked BFD sessions count as down");
                thread.states.send_modify(|states| {
                    states.values_mut().for_each(|state| *state = State::Down)
                });
            }
        })?;
    Ok(Some((
        BfdHandle {
            stop,
            waker,
            thread: Some(thread),
        },
        receiver,
    )))
}

struct BfdThread {
    sessions: Vec<Running>,
    listeners: Vec<Listener>,
    poller: Poller,
    states: watch::Sender<BfdStates>,
    stop: Arc<AtomicBool>,
    board: StatusBoard,
    /// When the sessions' status (their counters) is next copied to the board.
    next_status: Instant,
}

/// How often the sessions' counters reach the status board while no state changes.
const STATUS_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// What `vipd status` and the metrics show of one session.
fn status_of(running: &Running) -> BfdSessionStatus {
    let session = &running.session;
    let micros = |d: Option<std::time::Duration>| {
        d.map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
    };
    let stats = session.stats();
    BfdSessionStatus {
        name: running.name.clone(),
        neighbor: running.neighbor,
        state: session.state().name().to_string(),
        remote_state: session.remote_state().name().to_string(),
        local_diag: session.local_diag().name().to_string(),
        remote_diag: session.remote_diag().name().to_string(),
        tx_interval_us: micros(session.tx_interval()),
        detection_time_us: micros(session.detection_time()),
        flaps: stats.flaps,
        packets_out: stats.tx_packets,
        packets_in: stats.rx_packets,
        packets_dropped: stats.drops.values().sum(),
    }
}

impl BfdThread {
    fn run(&mut self) -> io::Result<()> {
        let mut buf = [0u8; 512];
        let mut ready = Vec::new();
        loop {
            if self.stop.load(Ordering::Relaxed) {
                self.shut_down();
                return Ok(());
            }
            for &token in &ready {
                self.drain(token as usize, &mut buf)?;
            }
            let now = clock::now();
            for running in &mut self.sessions {
                running.session.handle_timeout(now);
            }
            self.flush(now);
            if now >= self.next_status {
                self.publish_status();
                self.next_status = now.saturating_add(STATUS_EVERY);
            }
            let deadline = self
                .sessions
                .iter()
                .filter_map(|r| r.session.poll_timeout())
                .chain([self.next_status])
                .min();
            self.poller.wait(deadline, &mut ready)?;
        }
    }

    /// Reads every waiting packet of listener `index` and hands each to its session.
    fn drain(&mut self, index: usize, buf: &mut [u8]) -> io::Result<()> {
        while let Some(received) = self.listeners[index].recv(buf)? {
            let now = clock::now();
            let Ok(packet) = Packet::new_checked(&buf[..received.len])
                .and_then(|packet| ControlRepr::parse(&packet))
            else {
                continue;
            };
            // RFC 5880 section 6.8.6: by Your Discriminator when it is set, else (single hop)
            // by the source address.
            let found = self.sessions.iter_mut().find(|r| {
                if packet.your_discriminator != 0 {
                    r.session.local_discriminator() == packet.your_discriminator
                } else {
                    r.neighbor == received.source
                }
            });
            if let Some(running) = found {
                let _ = running.session.handle_control(now, received.ttl, &packet);
            }
        }
        Ok(())
    }

    /// Sends what is due and publishes state changes.
    fn flush(&mut self, now: Instant) {
        let mut changed = false;
        for running in &mut self.sessions {
            while let Some(packet) = running.session.poll_transmit(now) {
                if let Err(error) = running.sender.send(&packet.to_bytes()[..HEADER_LEN]) {
                    warn!(session = %running.name, %error, "BFD: send failed");
                }
            }
            while let Some(Event::StateChanged { from, to, diag }) = running.session.poll_event() {
                info!(
                    session = %running.name,
                    from = from.name(),
                    to = to.name(),
                    diag = diag.name(),
                    "BFD session changed state"
                );
                changed = true;
            }
        }
        if changed {
            self.states.send_modify(|states| {
                for running in &self.sessions {
                    states.insert(running.name.clone(), running.session.state());
                }
            });
            self.publish_status();
        }
    }

    fn publish_status(&self) {
        self.board
            .set_bfd(self.sessions.iter().map(status_of).collect());
    }

    /// Every session AdminDown, told to the peer at once (RFC 5880 section 6.8.16).
    fn shut_down(&mut self) {
        for running in &mut self.sessions {
            running.session.handle_shutdown();
        }
        self.flush(clock::now());
    }
}
