//! A background thread that gathers what it receives into a list until dropped: the shape of the
//! benchmark's listeners (the packet sniffer in [`super::wire`], the rtnetlink watch in
//! [`super::netwatch`]).
use std::{
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex,
    },
    thread::JoinHandle,
};

pub struct Collector<T> {
    gathered: Arc<Mutex<Vec<T>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl<T: Send + 'static> Collector<T> {
    /// Runs `receive` on a thread of its own: it pushes what it receives to the list it is given
    /// and returns once the flag it is given is set, which dropping the collector does.
    pub fn spawn(receive: impl FnOnce(&Mutex<Vec<T>>, &AtomicBool) + Send + 'static) -> Self {
        let gathered = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (gathered, stop) = (gathered.clone(), stop.clone());
            std::thread::spawn(move || receive(&gathered, &stop))
        };
        Self {
            gathered,
            stop,
            thread: Some(thread),
        }
    }

    /// What was gathered so far (and forgets it).
    pub fn take(&self) -> Vec<T> {
        std::mem::take(&mut *self.gathered.lock().expect("collector lock"))
    }
}

impl<T> Drop for Collector<T> {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
