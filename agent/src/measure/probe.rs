//! The client's probe: a datagram to the VIP every `interval` (20 us by default) from a realtime
//! thread, and a realtime receiver that stamps each answer with CLOCK_MONOTONIC and the node that
//! sent it. Takeover is read off this record exactly as a user would see it.
use std::{
    net::{SocketAddr, UdpSocket},
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc, Mutex,
    },
    thread::JoinHandle,
    time::Duration,
};

use super::{clock::monotonic_ns, sched::realtime, stamped, wire};

/// Which node answered: an index into the names the probe has seen ([`Probe::name`]), so that a
/// reply stays a few plain words however long the names are.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Responder(pub u16);

/// One answer: when it arrived, to which probe, from which node, and how long the node took.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Reply {
    /// When it reached the probe's socket (the kernel's stamp), CLOCK_MONOTONIC ns.
    pub at_ns: u64,
    /// When the probe's receiver read it, CLOCK_MONOTONIC ns.
    pub read_ns: u64,
    pub seq: u64,
    pub responder: Responder,
    /// When the probe reached the responder's socket, on the responder's CLOCK_MONOTONIC (the
    /// probe's own clock only when both run on one host, as in the benchmark).
    pub responder_arrived_ns: u64,
    /// When the responder answered, on its clock.
    pub responder_answered_ns: u64,
}

impl Reply {
    /// How long the responder itself took to answer (its wake-up), on any clocks.
    pub fn turnaround_ns(&self) -> u64 {
        self.responder_answered_ns
            .saturating_sub(self.responder_arrived_ns)
    }
}

/// What the receiver collected since the last [`Probe::take`], and every name it has seen.
#[derive(Default)]
struct Received {
    replies: Vec<Reply>,
    names: Vec<String>,
}

impl Received {
    fn responder(&mut self, name: &[u8]) -> Responder {
        let name = String::from_utf8_lossy(name);
        let index = match self.names.iter().position(|n| *n == name) {
            Some(index) => index,
            None => {
                self.names.push(name.into_owned());
                self.names.len() - 1
            }
        };
        Responder(u16::try_from(index).unwrap_or(u16::MAX))
    }
}

pub struct Probe {
    received: Arc<Mutex<Received>>,
    sent: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl Probe {
    /// Starts probing `target` from `socket` (bound, in the namespace or host of the client)
    /// every `interval`.
    pub fn start(
        socket: UdpSocket,
        target: SocketAddr,
        interval: Duration,
    ) -> std::io::Result<Self> {
        // The receiver wakes this often to notice a stop.
        socket.set_read_timeout(Some(Duration::from_millis(100)))?;
        stamped::enable(&socket)?;
        let receiver_socket = socket.try_clone()?;
        let received = Arc::new(Mutex::new(Received {
            replies: Vec::with_capacity(1 << 16),
            names: Vec::new(),
        }));
        let sent = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let sender = {
            let (stop, sent) = (stop.clone(), sent.clone());
            std::thread::spawn(move || send_loop(&socket, target, interval, &sent, &stop))
        };
        let receiver = {
            let (stop, received) = (stop.clone(), received.clone());
            std::thread::spawn(move || receive_loop(&receiver_socket, &received, &stop))
        };
        Ok(Self {
            received,
            sent,
            stop,
            threads: vec![sender, receiver],
        })
    }

    /// The replies received so far (and forgets them).
    pub fn take(&self) -> Vec<Reply> {
        std::mem::take(&mut self.lock().replies)
    }

    /// Drops what was received so far.
    pub fn clear(&self) {
        self.lock().replies.clear();
    }

    /// The name `responder` answered with.
    pub fn name(&self, responder: Responder) -> String {
        self.lock()
            .names
            .get(usize::from(responder.0))
            .cloned()
            .unwrap_or_else(|| "?".into())
    }

    /// Every name answers came with, indexed by [`Responder`].
    pub fn names(&self) -> Vec<String> {
        self.lock().names.clone()
    }

    /// How many probes went out.
    pub fn sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Received> {
        self.received.lock().expect("probe lock")
    }
}

impl Drop for Probe {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

fn send_loop(
    socket: &UdpSocket,
    target: SocketAddr,
    interval: Duration,
    sent: &AtomicU64,
    stop: &AtomicBool,
) {
    realtime(40);
    let mut seq: u64 = 0;
    let mut next = monotonic_ns();
    while !stop.load(Ordering::Relaxed) {
        // A failed send (no route while a link is down) is a lost probe like any other.
        let _ = socket.send_to(&wire::request(seq), target);
        seq += 1;
        sent.store(seq, Ordering::Relaxed);
        next += interval.as_nanos() as u64;
        sleep_until(next);
    }
}

fn receive_loop(socket: &UdpSocket, received: &Mutex<Received>, stop: &AtomicBool) {
    realtime(41);
    let mut buf = [0u8; wire::MAX_ANSWER];
    while !stop.load(Ordering::Relaxed) {
        let Ok(datagram) = stamped::recv(socket, &mut buf) else {
            continue;
        };
        let read_ns = monotonic_ns();
        if let Some(answer) = wire::parse_answer(&buf[..datagram.len]) {
            let mut received = received.lock().expect("probe lock");
            let responder = received.responder(answer.name);
            received.replies.push(Reply {
                at_ns: datagram.arrived_ns,
                read_ns,
                seq: answer.seq,
                responder,
                responder_arrived_ns: answer.arrived_ns,
                responder_answered_ns: answer.answered_ns,
            });
        }
    }
}

/// clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME) until `deadline_ns`.
fn sleep_until(deadline_ns: u64) {
    let ts = libc::timespec {
        tv_sec: (deadline_ns / 1_000_000_000) as libc::time_t,
        tv_nsec: (deadline_ns % 1_000_000_000) as libc::c_long,
    };
    // SAFETY: ts is a valid timespec; a null remainder is allowed with TIMER_ABSTIME.
    unsafe {
        libc::clock_nanosleep(
            libc::CLOCK_MONOTONIC,
            libc::TIMER_ABSTIME,
            &ts,
            std::ptr::null_mut(),
        )
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::echo::Echo;

    #[test]
    fn replies_name_the_echo_that_answered() {
        let echo_socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        let target = echo_socket.local_addr().unwrap();
        let _echo = Echo::spawn(echo_socket, "alpha".into()).unwrap();
        let probe = Probe::start(
            UdpSocket::bind("127.0.0.1:0").unwrap(),
            target,
            Duration::from_millis(1),
        )
        .unwrap();
        let mut replies = Vec::new();
        for _ in 0..500 {
            std::thread::sleep(Duration::from_millis(10));
            replies.extend(probe.take());
            if replies.len() >= 3 {
                break;
            }
        }
        assert!(replies.len() >= 3, "the echo answered: {replies:?}");
        assert!(replies.windows(2).all(|w| w[0].seq < w[1].seq));
        assert_eq!(probe.names(), ["alpha"]);
        assert_eq!(probe.name(replies[0].responder), "alpha");
        assert!(probe.sent() >= replies.len() as u64);
    }
}
