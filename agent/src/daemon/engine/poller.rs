//! The engine thread's only way to wait: one epoll set holding the VRRP sockets, the XDP advert
//! ring, a timerfd armed at the next protocol deadline (absolute, CLOCK_MONOTONIC, so sub-
//! millisecond deadlines are kept as precisely as the scheduler allows) and an eventfd that
//! the tokio side rings when it has sent a command.
use nix::sys::{
    epoll::{Epoll, EpollCreateFlags, EpollEvent, EpollFlags, EpollTimeout},
    eventfd::{EfdFlags, EventFd},
    time::TimeSpec,
    timerfd::{ClockId, Expiration, TimerFd, TimerFlags, TimerSetTimeFlags},
};
use std::{
    io,
    os::fd::{AsFd, AsRawFd, BorrowedFd},
    sync::Arc,
};

use crate::vrrp::Instant;

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
    timer: TimerFd,
    wake: Arc<EventFd>,
    armed: Option<Instant>,
}

/// epoll tokens for the fixed members; sources registered by the engine use their own.
const TOKEN_TIMER: u64 = u64::MAX;
const TOKEN_WAKE: u64 = u64::MAX - 1;

impl Poller {
    pub fn new() -> io::Result<Self> {
        let epoll = Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC)?;
        let timer = TimerFd::new(
            ClockId::CLOCK_MONOTONIC,
            TimerFlags::TFD_NONBLOCK | TimerFlags::TFD_CLOEXEC,
        )?;
        let wake = Arc::new(EventFd::from_flags(
            EfdFlags::EFD_NONBLOCK | EfdFlags::EFD_CLOEXEC,
        )?);
        epoll.add(&timer, EpollEvent::new(EpollFlags::EPOLLIN, TOKEN_TIMER))?;
        epoll.add(
            wake.as_fd(),
            EpollEvent::new(EpollFlags::EPOLLIN, TOKEN_WAKE),
        )?;
        Ok(Self {
            epoll,
            timer,
            wake,
            armed: None,
        })
    }

    pub fn waker(&self) -> Waker {
        Waker(self.wake.clone())
    }

    /// Watches `fd` for readability; it is reported as ready with `token` (below the reserved
    /// range).
    pub fn register(&self, fd: BorrowedFd<'_>, token: u64) -> io::Result<()> {
        debug_assert!(token < TOKEN_WAKE);
        self.epoll
            .add(fd, EpollEvent::new(EpollFlags::EPOLLIN, token))?;
        Ok(())
    }

    /// Sleeps until a registered fd is readable, a command arrives, or `deadline` passes. The
    /// caller drains every source after each wake-up (level-triggered), so the ready list is
    /// not returned.
    pub fn wait(&mut self, deadline: Option<Instant>) -> io::Result<()> {
        if deadline != self.armed {
            let expiration = match deadline {
                // A zero it_value disarms a timerfd, so deadlines at time zero become 1 ns.
                Some(at) => Expiration::OneShot(TimeSpec::from_duration(
                    std::time::Duration::from_micros(at.as_micros().max(1)),
                )),
                None => {
                    self.timer.unset()?;
                    self.armed = None;
                    return self.wait_events();
                }
            };
            self.timer
                .set(expiration, TimerSetTimeFlags::TFD_TIMER_ABSTIME)?;
            self.armed = deadline;
        }
        self.wait_events()
    }

    fn wait_events(&mut self) -> io::Result<()> {
        let mut events = [EpollEvent::empty(); 16];
        let ready = match self.epoll.wait(&mut events, EpollTimeout::NONE) {
            Ok(n) => n,
            Err(nix::errno::Errno::EINTR) => 0,
            Err(e) => return Err(e.into()),
        };
        for event in &events[..ready] {
            match event.data() {
                TOKEN_TIMER => {
                    // Reading clears the expiry count; the deadline is re-armed by the caller.
                    let mut buf = [0u8; 8];
                    let _ = nix::unistd::read(self.timer.as_fd().as_raw_fd(), &mut buf);
                    self.armed = None;
                }
                TOKEN_WAKE => {
                    let _ = self.wake.read();
                }
                _ => {}
            }
        }
        Ok(())
    }
}
