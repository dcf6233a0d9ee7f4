//! The load the soaks run under: `stress-ng --cpu 2` (both cores of the test machine busy), and
//! the load average it leaves, sampled while it runs.
use std::{
    process::{Child, Command, Stdio},
    time::Duration,
};

/// The load as the reports name it.
pub const LOAD: &str = "stress-ng --cpu 2";

/// A running stress-ng, killed when dropped.
pub struct Stress(Child);

impl Stress {
    /// Starts `stress-ng --cpu 2` for `duration` (it stops by itself then, should the bench die).
    pub fn start(duration: Duration) -> Result<Self, String> {
        Command::new("stress-ng")
            .args(["--cpu", "2", "--timeout"])
            .arg(format!("{}s", duration.as_secs().max(1)))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map(Self)
            .map_err(|e| format!("stress-ng: {e} (scripts/bootstrap.sh installs it)"))
    }
}

impl Drop for Stress {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The 1-minute load average now (`/proc/loadavg`), if readable.
pub fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}
