//! What the benchmarks read of a daemon from /proc: its CPU time and its memory.
use std::{collections::BTreeMap, fs, time::Duration};

/// utime + stime of every thread of `pid`, in clock ticks (zero once it is gone).
pub fn cpu_ticks(pid: i32) -> u64 {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The fields after the command name, which may hold spaces, start at field 3 (state).
    let rest = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |n: usize| {
        fields
            .get(n - 3)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    field(14) + field(15)
}

/// `ticks` of CPU time over `span` as a percentage of one core.
pub fn percent_of_core(ticks: u64, span: Duration) -> f64 {
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    100.0 * ticks as f64 / hz / span.as_secs_f64()
}

/// The `kB` lines of /proc/PID/status (VmRSS, VmHWM, ...).
pub fn proc_status(pid: i32) -> BTreeMap<String, u64> {
    let text = fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    text.lines()
        .filter_map(|line| {
            let (key, value) = line.split_once(':')?;
            let kb = value.trim().strip_suffix(" kB")?.parse().ok()?;
            Some((key.to_owned(), kb))
        })
        .collect()
}
