//! The responder a node runs beside its VRRP daemon (`vipd echo`): it answers every probe with
//! the node's name, so the client sees which node holds the VIP. It is independent of the
//! daemon, so killing or freezing the daemon never silences it: what the client sees is the
//! network's view of the VIP.
use std::{
    net::UdpSocket,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    thread::JoinHandle,
    time::Duration,
};

use super::wire;

/// Answers probes arriving on `socket` with `name` until `stop` is set (checked at least every
/// 100 ms).
pub fn serve(socket: &UdpSocket, name: &str, stop: &AtomicBool) -> std::io::Result<()> {
    socket.set_read_timeout(Some(Duration::from_millis(100)))?;
    let mut buf = [0u8; 64];
    let mut answer = [0u8; wire::MAX_ANSWER];
    while !stop.load(Ordering::Relaxed) {
        let Ok((len, from)) = socket.recv_from(&mut buf) else {
            continue;
        };
        if let Some(answer_len) = wire::answer(&buf[..len], name, &mut answer) {
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
