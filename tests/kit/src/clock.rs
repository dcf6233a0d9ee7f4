//! Clock readings: CLOCK_MONOTONIC, the clock `bpf_ktime_get_ns()` stamps with and the probe,
//! the faults and the XDP ring use, and CLOCK_REALTIME, the clock of packet sockets' stamps.

/// Now on CLOCK_MONOTONIC, in nanoseconds.
pub fn monotonic_ns() -> u64 {
    now_ns(libc::CLOCK_MONOTONIC)
}

/// Now on CLOCK_REALTIME, in nanoseconds since the epoch.
pub fn realtime_ns() -> u64 {
    now_ns(libc::CLOCK_REALTIME)
}

fn now_ns(clock: libc::clockid_t) -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: ts is a valid timespec to write to; both clocks always exist.
    let rc = unsafe { libc::clock_gettime(clock, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime({clock})");
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}
