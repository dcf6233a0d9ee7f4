//! SIGTERM and SIGINT, read by the engine thread itself.
//!
//! A graceful stop is a takeover: the master's priority-0 advert tells its backup to take over
//! at once, so the time between the signal and that advert is outage. Through tokio, the
//! signal's handler wrote to a pipe, a tokio worker woke and read it and then rang the engine:
//! two wake-ups of ordinary threads, 0.3-1.3 ms on the loaded 2-core VM (`cargo xtask bench
//! takeover --scenarios sigterm`, 2026-12-06). Instead `vipd run` blocks both signals before it
//! starts any thread, so every thread inherits the mask and the signals stay pending, and the
//! engine waits on a signalfd beside its sockets: the signal wakes the realtime engine thread
//! directly. Child processes (checks, notify scripts) start with an empty signal mask (std's
//! `Command` clears it before exec), so they still see SIGTERM.
use std::{io, os::fd::AsFd};

use nix::sys::{
    signal::{SigSet, Signal},
    signalfd::{SfdFlags, SignalFd},
};

/// The signals that stop the daemon.
fn stop_set() -> SigSet {
    let mut set = SigSet::empty();
    set.add(Signal::SIGTERM);
    set.add(Signal::SIGINT);
    set
}

/// Blocks SIGTERM and SIGINT in the calling thread and so in every thread it starts later. Call
/// it before any other thread exists: a thread started earlier keeps them unblocked, and a
/// signal delivered to it would run the default action (the process ends without resigning).
pub fn block() -> io::Result<()> {
    stop_set().thread_block()?;
    Ok(())
}

/// A signalfd that becomes readable when SIGTERM or SIGINT is pending (see [`block`]).
pub struct StopSignals(SignalFd);

impl StopSignals {
    pub fn open() -> io::Result<Self> {
        let fd = SignalFd::with_flags(&stop_set(), SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC)?;
        Ok(Self(fd))
    }

    /// The stop signal that arrived, if one is pending (taking it).
    pub fn take(&self) -> Option<Signal> {
        let info = self.0.read_signal().ok()??;
        Signal::try_from(info.ssi_signo as i32).ok()
    }
}

impl AsFd for StopSignals {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.0.as_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `f` on a thread of its own, so blocking signals never touches the test harness's.
    fn on_own_thread<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
        std::thread::spawn(f).join().expect("test thread")
    }

    #[test]
    fn a_blocked_sigterm_is_read_from_the_signalfd() {
        let taken = on_own_thread(|| {
            block().unwrap();
            let signals = StopSignals::open().unwrap();
            assert_eq!(signals.take(), None, "nothing pending yet");
            // Directed at this thread, so no other thread of the test process can take it.
            // SAFETY: pthread_self is this live thread; SIGTERM is blocked on it.
            assert_eq!(
                unsafe { libc::pthread_kill(libc::pthread_self(), libc::SIGTERM) },
                0
            );
            (signals.take(), signals.take())
        });
        assert_eq!(taken, (Some(Signal::SIGTERM), None));
    }

    #[test]
    fn children_start_with_the_stop_signals_unblocked() {
        let blocked = on_own_thread(|| {
            block().unwrap();
            let out = std::process::Command::new("sh")
                .args(["-c", "grep SigBlk /proc/self/status"])
                .output()
                .unwrap();
            String::from_utf8(out.stdout).unwrap()
        });
        let mask = blocked.trim().trim_start_matches("SigBlk:").trim();
        assert!(
            mask.chars().all(|c| c == '0'),
            "child's blocked mask: {blocked}"
        );
    }
}
