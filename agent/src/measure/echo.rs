//! The responder a node runs beside its VRRP daemon (`vipd echo`): it answers every probe with
//! the node's name, so the client sees which node holds the VIP. It is independent of the
//! daemon, so killing or freezing the daemon never silences it: what the client sees is the
//! network's view of the VIP.
//!
//! Each answer carries when the probe reached the responder's socket (the kernel's stamp) and
//! when the responder answered, so a client can tell a late responder from a late failover: on
//! the 2-core VM, with the benchmark's probe and both vipd engines realtime, the new master's
//! responder (an ordinary thread, as the services behind a VIP are) answered its first probe
//! 0.1-63 ms after it arrived (30 trials, 2026-12-06). Run SCHED_FIFO it starved the kernel's
//! softirq threads and every hop got slower, so the benchmark reports that turnaround as a hop
//! of its own instead.
use std::{
    net::UdpSocket,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    thread::JoinHandle,
    time::Duration,
};

use super::{clock::monotonic_ns, stamped, wire};

/// Answers probes arriving on `socket` with `name` until `stop` is set (checked at least every
/// 100 ms).
pub fn serve(socket: &UdpSocket, name: &str, stop: &AtomicBool) -> std::io::Result<()> {
    socket.set_read_timeout(Some(Duration::from_millis(100)))?;
    stamped::enable(socket)?;
    let mut buf = [0u8; 64];
    let mut answer = [0u8; wire::MAX_ANSWER];
    while !stop.load(Ordering::Relaxed) {
        let Ok(request) = stamped::recv(socket, &mut buf) else {
            continue;
        };
        let Some(from) = request.from else {
            continue;
        };
        let request_bytes = &buf[..request.len];
        if let Some(answer_len) = wire::answer(
            request_bytes,
            request.arrived_ns,
            monotonic_ns(),
            name,
            &mut answer,
        ) {
            // A lost answer is a lost probe: the client counts it.
            let _ = socket.send_to(&answer[..answer_len], from);
        }
    }
    Ok(())
}

/// [`serve`] on a thread of its own, stopped and joined when dropped.
pub struct Echo {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<std::io::Result<()>>>,
}

impl Echo {
    pub fn spawn(socket: UdpSocket, name: String) -> std::io::Result<Self> {
        socket.set_read_timeout(Some(Duration::from_millis(100)))?;
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let stop = stop.clone();
            std::thread::spawn(move || serve(&socket, &name, &stop))
        };
        Ok(Self {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for Echo {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
