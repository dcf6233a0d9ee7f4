//! The client's probe: a datagram to the VIP every `interval` (20 us by default) from a realtime
//! thread, and a realtime receiver that stamps each answer with CLOCK_MONOTONIC and the node that
//! sent it. Takeover is read off this record exactly as a user would see it.
use std::{
    net::{SocketAddr, UdpSocket},
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex,
    },
    thread::JoinHandle,
    time::Duration,
};

use super::echo::PORT;
use crate::{clock::monotonic_ns, topology::Lan};

/// One answer: when it arrived (CLOCK_MONOTONIC ns) and which node sent it.
#[derive(Clone, Copy, Debug)]
pub struct Reply {
    pub at_ns: u64,
    pub node: u8,
}

pub struct Probe {
    replies: Arc<Mutex<Vec<Reply>>>,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl Probe {
    /// Starts probing `vip` from node `client` every `interval`.
    pub fn start(lan: &Lan, client: usize, vip: &str, interval: Duration) -> Self {
        let target: SocketAddr = format!("{vip}:{PORT}").parse().expect("VIP address");
        let socket = lan.node(client).run(|| {
            let socket = UdpSocket::bind("0.0.0.0:0").expect("bind probe");
            socket
                .set_read_timeout(Some(Duration::from_millis(100)))
                .expect("timeout");
            socket
        });
        let receiver_socket = socket.try_clone().expect("clone probe socket");
        let replies = Arc::new(Mutex::new(Vec::with_capacity(1 << 20)));
        let stop = Arc::new(AtomicBool::new(false));
        let sender = {
            let stop = stop.clone();
            std::thread::spawn(move || send_loop(&socket, target, interval, &stop))
        };
        let receiver = {
            let stop = stop.clone();
            let replies = replies.clone();
            std::thread::spawn(move || receive_loop(&receiver_socket, &replies, &stop))
        };
        Self {
            replies,
            stop,
            threads: vec![sender, receiver],
        }
    }

    /// The replies received so far (and forgets them).
    pub fn take(&self) -> Vec<Reply> {
        std::mem::take(&mut *self.replies.lock().expect("probe lock"))
    }

    /// Drops what was received so far.
    pub fn clear(&self) {
        self.replies.lock().expect("probe lock").clear();
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

/// SCHED_FIFO for the probe threads, so their own lateness stays out of the figures. Failure
/// (no privilege) only makes the probe noisier.
fn realtime(priority: i32) {
    let param = libc::sched_param {
        sched_priority: priority,
    };
    // SAFETY: param is valid; 0 is the calling thread.
    unsafe { libc::sched_setscheduler(0, libc::SCHED_FIFO, &param) };
}

fn send_loop(socket: &UdpSocket, target: SocketAddr, interval: Duration, stop: &AtomicBool) {
    realtime(40);
    let mut seq: u64 = 0;
    let mut next = monotonic_ns();
    while !stop.load(Ordering::Relaxed) {
        let _ = socket.send_to(&seq.to_be_bytes(), target);
        seq += 1;
        next += interval.as_nanos() as u64;
        sleep_until(next);
    }
}

fn receive_loop(socket: &UdpSocket, replies: &Mutex<Vec<Reply>>, stop: &AtomicBool) {
    realtime(41);
    let mut buf = [0u8; 64];
    while !stop.load(Ordering::Relaxed) {
        if let Ok(len) = socket.recv(&mut buf) {
            let at_ns = monotonic_ns();
            if len >= 9 {
                replies.lock().expect("probe lock").push(Reply {
                    at_ns,
                    node: buf[8],
                });
            }
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
