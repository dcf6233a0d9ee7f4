//! Echo servers: one per node, answering the client's probes with the node's number, so the
//! client sees which node holds the VIP. They run as threads of the benchmark in each node's
//! namespace, independent of the VRRP daemons, so killing or freezing a daemon never silences
//! them: what the client sees is the network's view of the VIP.
//!
//! Each answer also carries when the probe reached the server's socket (the kernel's stamp) and
//! when the server sent the answer, so the timeline can tell a late server from a late network.
//! The servers are ordinary threads, as the services behind a VIP are: on the 2-core VM, with
//! the probe and both vipd engines realtime, the new master's server answered its first probe
//! 0.1-63 ms after it arrived (30 trials, 2026-12-06). Run SCHED_FIFO they starved the kernel's
//! softirq threads and every hop got slower, so the benchmark reports that turnaround as its
//! own hop instead (see `Sample::network_takeover_us`).
use std::{
    net::UdpSocket,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    thread::JoinHandle,
    time::Duration,
};

use super::stamped;
use crate::{clock::monotonic_ns, topology::Lan};

pub const PORT: u16 = 9000;
/// An answer's length: the probe's sequence number (8 bytes), the node (1), the probe's arrival
/// at the server and the answer's departure (CLOCK_MONOTONIC ns, 8 bytes each, little-endian).
pub const ANSWER_LEN: usize = 25;

pub struct EchoServers {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl EchoServers {
    /// Starts a server on each of nodes `1..=count`.
    pub fn start(lan: &Lan, count: usize) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let mut threads = Vec::new();
        for n in 1..=count {
            let socket = lan.node(n).run(|| {
                let socket = UdpSocket::bind(("0.0.0.0", PORT)).expect("bind echo server");
                socket
                    .set_read_timeout(Some(Duration::from_millis(100)))
                    .expect("timeout");
                stamped::enable(&socket).expect("SO_TIMESTAMPNS on the echo server");
                socket
            });
            let stop = stop.clone();
            threads.push(std::thread::spawn(move || serve(socket, n as u8, &stop)));
        }
        Self { stop, threads }
    }
}

fn serve(socket: UdpSocket, node: u8, stop: &AtomicBool) {
    let mut buf = [0u8; 64];
    while !stop.load(Ordering::Relaxed) {
        let Ok(probe) = stamped::recv(&socket, &mut buf) else {
            continue;
        };
        if let (true, Some(from)) = (probe.len >= 8, probe.from) {
            buf[8] = node;
            buf[9..17].copy_from_slice(&probe.arrived_ns.to_le_bytes());
            buf[17..ANSWER_LEN].copy_from_slice(&monotonic_ns().to_le_bytes());
            let _ = socket.send_to(&buf[..ANSWER_LEN], from);
        }
    }
}

impl Drop for EchoServers {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}
