//! The client's probe: a datagram to the VIP every `interval` (20 us by default) from a realtime
//! thread, and a realtime receiver that records each answer: the node that sent it, when it
//! reached the client's socket (the kernel's stamp) and when the receiver read it, and the
//! server's own stamps (see [`super::echo`]). Takeover is read off this record exactly as a user
//! would see it.
use std::{
    net::{SocketAddr, UdpSocket},
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex,
    },
    thread::JoinHandle,
    time::Duration,
};

use super::{
    echo::{ANSWER_LEN, PORT},
    stamped,
};
use crate::{clock::monotonic_ns, topology::Lan};

/// One answer, its times on CLOCK_MONOTONIC ns.
#[derive(Clone, Copy, Debug, Default)]
pub struct Reply {
    /// When it reached the client's socket (the kernel's stamp).
    pub at_ns: u64,
    /// When the probe's receiver read it.
    pub read_ns: u64,
    /// The node that answered.
    pub node: u8,
    /// When the probe it answers reached that node's echo server (the kernel's stamp).
    pub probe_arrived_ns: u64,
    /// When the echo server sent it.
    pub sent_ns: u64,
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
            stamped::enable(&socket).expect("SO_TIMESTAMPNS on the probe");
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
    let stamp =
        |buf: &[u8], at: usize| u64::from_le_bytes(buf[at..at + 8].try_into().expect("8 bytes"));
    while !stop.load(Ordering::Relaxed) {
        let Ok(answer) = stamped::recv(socket, &mut buf) else {
            continue;
        };
        if answer.len >= ANSWER_LEN {
            replies.lock().expect("probe lock").push(Reply {
                at_ns: answer.arrived_ns,
                read_ns: monotonic_ns(),
                node: buf[8],
                probe_arrived_ns: stamp(&buf, 9),
                sent_ns: stamp(&buf, 17),
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
