//! Realtime scheduling for the engine thread. ENVIRONMENT measurements on a 2-core VM: an
//! ordinary thread wakes 53 us late at p50 and up to 4.8 ms late under load; SCHED_FIFO brings
//! p50 to 3 us and p99.9 under 0.1 ms. For a fast-mode master whose adverts every 100 us are the
//! backup's only sign of life, that difference is the difference between no false takeovers and
//! many.
use std::io;

/// Makes the calling thread SCHED_FIFO at `priority`, locks the process's memory (a page fault
/// in the engine costs as much as a late wake-up) and sets the timer slack to 1 ns (the
/// default 50 us of slack would be half an advert interval in fast mode).
pub fn make_current_thread_realtime(priority: u8) -> io::Result<()> {
    let param = libc::sched_param {
        sched_priority: i32::from(priority),
    };
    // SAFETY: param is a valid sched_param; 0 means the calling thread.
    if unsafe { libc::sched_setscheduler(0, libc::SCHED_FIFO, &param) } != 0 {
        return Err(io::Error::last_os_error());
    }
    nix::sys::mman::mlockall(
        nix::sys::mman::MlockAllFlags::MCL_CURRENT | nix::sys::mman::MlockAllFlags::MCL_FUTURE,
    )?;
    // SAFETY: PR_SET_TIMERSLACK takes one integer argument.
    if unsafe { libc::prctl(libc::PR_SET_TIMERSLACK, 1 as libc::c_ulong, 0, 0, 0) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
