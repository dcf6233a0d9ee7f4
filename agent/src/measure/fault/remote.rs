//! A fault on another host, carried by the system's ssh, stamped on this host's clock.
//!
//! Starting ssh takes tens of milliseconds (connection, keys, the remote shell), far more than
//! a takeover, so the fault is not stamped around the ssh command. Instead the remote
//! `vipd fault --on-stdin` resolves its target, says [`READY`] and waits; this side stamps the
//! "go" it sends, the remote injects the fault at once and answers with its own record, and
//! this side stamps the answer. The fault happened between the two stamps: its time is their
//! midpoint, give or take half the round trip, which the record keeps
//! ([`FaultRecord::uncertainty_ns`]). No clock of the remote host is needed.
use anyhow::{anyhow, bail, Context, Result};
use std::{
    io::{BufRead, BufReader, Write},
    process::{Command, Stdio},
};

use super::{local::Target, record::FaultRecord, FaultKind};
use crate::measure::{clock, sched};

/// The line the remote side prints once it is ready to inject the fault.
pub const READY: &str = "vipd-fault ready";

/// How to reach the other host.
#[derive(Clone, Debug)]
pub struct Remote {
    /// `USER@HOST`, as ssh takes it.
    pub destination: String,
    /// The ssh program and its options (`ssh -p 2222 -i KEY`).
    pub ssh: Vec<String>,
    /// The vipd command on the remote host (`vipd`, `sudo /usr/local/bin/vipd`).
    pub vipd: Vec<String>,
}

impl Remote {
    /// Runs `vipd fault KIND --on-stdin EXTRA...` on the remote host and returns the fault's
    /// record, stamped on this host's clock.
    pub fn inject(&self, kind: FaultKind, extra: &[String]) -> Result<FaultRecord> {
        let mut words: Vec<&str> = self.vipd.iter().map(String::as_str).collect();
        words.extend(["fault", kind.name(), "--on-stdin"]);
        words.extend(extra.iter().map(String::as_str));
        let remote_command =
            shlex::try_join(words).map_err(|e| anyhow!("quoting the remote command: {e}"))?;
        let (program, options) = self
            .ssh
            .split_first()
            .ok_or_else(|| anyhow!("no ssh command"))?;
        let mut child = Command::new(program)
            .args(options)
            .arg("-T")
            .arg(&self.destination)
            .arg(&remote_command)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .with_context(|| format!("starting {program}"))?;
        let mut stdin = child.stdin.take().expect("piped stdin");
        let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        let mut line = String::new();
        let ready = loop {
            line.clear();
            if stdout.read_line(&mut line)? == 0 {
                break false;
            }
            if line.trim_end() == READY {
                break true;
            }
        };
        if !ready {
            let status = child.wait()?;
            bail!(
                "`{remote_command}` on {} ended before it was ready ({status})",
                self.destination
            );
        }
        // Both ends of the handshake wake at realtime priority: the round trip is then the
        // transport's, not the scheduler's.
        sched::realtime(40);
        let go = clock::realtime_ns();
        stdin.write_all(b"go\n")?;
        stdin.flush()?;
        line.clear();
        stdout.read_line(&mut line)?;
        let done = clock::realtime_ns();
        let status = child.wait()?;
        let remote: FaultRecord = serde_json::from_str(line.trim_end()).map_err(|_| {
            anyhow!(
                "`{remote_command}` on {} did not report a fault ({status}; it said {:?})",
                self.destination,
                line.trim_end()
            )
        })?;
        Ok(bracketed(remote, &self.destination, go, done))
    }
}

/// The remote's record of its fault, timed on this host: between sending "go" at `go` and
/// reading the answer at `done`.
fn bracketed(remote: FaultRecord, destination: &str, go: u64, done: u64) -> FaultRecord {
    let round_trip = done.saturating_sub(go);
    let at_ns = go + round_trip / 2;
    FaultRecord {
        host: destination.to_string(),
        at_ns,
        at: clock::rfc3339(at_ns),
        uncertainty_ns: round_trip / 2,
        ssh_round_trip_ns: Some(round_trip),
        remote_at_ns: Some(remote.at_ns),
        ..remote
    }
}

/// The remote side: with `target` resolved, says [`READY`], waits for a line on stdin, injects
/// `kind` and prints its record as one JSON line.
pub fn serve_on_stdin(target: &Target, kind: FaultKind) -> Result<()> {
    sched::realtime(40);
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{READY}")?;
    stdout.flush()?;
    let mut go = String::new();
    if std::io::stdin().lock().read_line(&mut go)? == 0 {
        bail!("stdin closed before the go: no fault injected");
    }
    let record = target.inject_recorded(kind)?;
    writeln!(stdout, "{}", record.to_line())?;
    stdout.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_remote_fault_is_timed_at_the_midpoint_of_its_round_trip() {
        let remote = FaultRecord {
            kind: FaultKind::Kill9,
            host: "node1".into(),
            target: "vipd pid 7".into(),
            at_ns: 5_000,
            at: String::new(),
            uncertainty_ns: 0,
            ssh_round_trip_ns: None,
            remote_at_ns: None,
        };
        let record = bracketed(remote, "root@node1", 1_000_000, 1_400_000);
        assert_eq!(record.at_ns, 1_200_000);
        assert_eq!(record.uncertainty_ns, 200_000);
        assert_eq!(record.ssh_round_trip_ns, Some(400_000));
        assert_eq!(record.remote_at_ns, Some(5_000));
        assert_eq!(
            (record.host.as_str(), record.target.as_str()),
            ("root@node1", "vipd pid 7")
        );
    }
}
