//! vipd's one clock: CLOCK_MONOTONIC, the clock `bpf_ktime_get_ns()` stamps adverts with, the
//! clock the engine's `epoll_pwait2` deadlines are set on and the status ages are measured on, expressed as the
//! protocol core's [`Instant`].
use nix::time::{clock_gettime, ClockId};
use std::time::Duration;

use crate::vrrp::Instant;

/// Now on CLOCK_MONOTONIC.
pub fn now() -> Instant {
    let ts = clock_gettime(ClockId::CLOCK_MONOTONIC).expect("CLOCK_MONOTONIC is always readable");
    instant_of(Duration::new(ts.tv_sec() as u64, ts.tv_nsec() as u32))
}

/// A receive timestamp (a `Duration` since CLOCK_MONOTONIC's zero, which the socket layer keeps
/// in nanoseconds to translate the kernel's stamps) as an [`Instant`].
pub fn instant_of(since_boot: Duration) -> Instant {
    Instant::from_nanos(since_boot.as_nanos() as u64)
}
