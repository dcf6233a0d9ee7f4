//! Realtime scheduling for the measuring threads (the probe's sender and receiver, both ends of
//! the fault driver's handshake), so that their own wake-up lateness stays out of the figures.
//! Failure (no privilege) only makes the figures noisier.

/// SCHED_FIFO at `priority` for the calling thread.
pub fn realtime(priority: i32) {
    let param = libc::sched_param {
        sched_priority: priority,
    };
    // SAFETY: param is valid; 0 is the calling thread.
    unsafe { libc::sched_setscheduler(0, libc::SCHED_FIFO, &param) };
}
