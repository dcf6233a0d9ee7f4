//! The engine thread's only way to wait: one epoll set holding the VRRP sockets, the XDP advert
//! ring, the netlink socket and an eventfd that the tokio side rings when it has sent a
//! command, waited on with epoll_pwait2(2) until the next protocol deadline. Its timeout has
//! nanosecond resolution (CLOCK_MONOTONIC, an hrtimer), so sub-millisecond deadlines are kept
//! as precisely as the scheduler allows, and a wake-up costs one system call: a timerfd would
//! add a timerfd_settime(2) per deadline and a wake-up chain through the epoll set, paid every
//! advert interval.
use nix::sys::{
    epoll::{Epoll, EpollCreateFlags, EpollEvent, EpollFlags},
    eventfd::{EfdFlags, EventFd},
};
use std::{
    io,
    os::fd::{AsFd, AsRawFd, BorrowedFd},
    sync::Arc,
};

use crate::{clock, vrrp::Instant};

/// Wakes the engine thread from any thread.
#[derive(Clone)]
pub struct Waker(Arc<EventFd>);

impl Waker {
    pub fn wake(&self) {
        // An eventfd write only fails when the counter would overflow, and then a wake-up is
        // already pending.
        let _ = self.0.write(1);
    }
}

/// The wait primitive of the engine.
pub struct Poller {
    epoll: Epoll,
    wake: Arc<EventFd>,
}

/// epoll token of the eventfd; sources registered by the engine use their own.
const TOKEN_WAKE: u64 = u64::MAX;
/// Registered sources use tokens below this.
pub const TOKEN_RESERVED: u64 = u64::MAX;

impl Poller {
    pub fn new() -> io::Result<Self> {
        let epoll = Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC)?;
        let wake = Arc::new(EventFd::from_flags(
            EfdFlags::EFD_NONBLOCK | EfdFlags::EFD_CLOEXEC,
        )?);
        epoll.add(
            wake.as_fd(),
            EpollEvent::new(EpollFlags::EPOLLIN, TOKEN_WAKE),
        )?;
        Ok(Self { epoll, wake })
    }

    pub fn waker(&self) -> Waker {
        Waker(self.wake.clone())
    }

    /// Watches `fd` for readability; it is reported as ready with `token` (below the reserved
    /// range).
    pub fn register(&self, fd: BorrowedFd<'_>, token: u64) -> io::Result<()> {
        debug_assert!(token < TOKEN_RESERVED);
        self.epoll
            .add(fd, EpollEvent::new(EpollFlags::EPOLLIN, token))?;
        Ok(())
    }

    /// Sleeps until a registered fd is readable, a command arrives, or `deadline` passes; puts
    /// the tokens of the registered fds that are readable into `ready` (cleared first), so the
    /// caller reads only the sockets that have something. Level-triggered: what the caller
    /// leaves unread is reported again.
    pub fn wait(&mut self, deadline: Option<Instant>, ready: &mut Vec<u64>) -> io::Result<()> {
        ready.clear();
        let timeout = deadline.map(|at| {
            let left = at.as_micros().saturating_sub(clock::now().as_micros()) * 1_000;
            libc::timespec {
                tv_sec: (left / 1_000_000_000) as libc::time_t,
                tv_nsec: (left % 1_000_000_000) as libc::c_long,
            }
        });
        let mut events = [libc::epoll_event { events: 0, u64: 0 }; 16];
        // SAFETY: `events` is writable for its length, the timeout (or null, for none) lives
        // across the call, and a null sigmask leaves the signal mask alone.
        let count = unsafe {
            libc::epoll_pwait2(
                self.epoll.0.as_raw_fd(),
                events.as_mut_ptr(),
                events.len() as libc::c_int,
                timeout.as_ref().map_or(std::ptr::null(), |t| t as *const _),
                std::ptr::null(),
            )
        };
        if count < 0 {
            let error = io::Error::last_os_error();
            return match error.raw_os_error() {
                Some(libc::EINTR) => Ok(()),
                _ => Err(error),
            };
        }
        for event in &events[..count as usize] {
            match event.u64 {
                TOKEN_WAKE => {
                    let _ = self.wake.read();
                }
                token => ready.push(token),
            }
        }
        Ok(())
    }
}
