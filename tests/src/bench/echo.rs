//! Echo servers: one per node, answering the client's probes with the node's number, so the
//! client sees which node holds the VIP. They run as threads of the benchmark in each node's
//! namespace, independent of the VRRP daemons, so killing or freezing a daemon never silences
//! them: what the client sees is the network's view of the VIP.
use std::{
    net::UdpSocket,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    thread::JoinHandle,
    time::Duration,
};

use crate::topology::Lan;

pub const PORT: u16 = 9000;

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
        if let Ok((len, from)) = socket.recv_from(&mut buf) {
            if len >= 8 {
                buf[8] = node;
                let _ = socket.send_to(&buf[..9], from);
            }
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
