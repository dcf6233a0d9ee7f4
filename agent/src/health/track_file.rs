//! Tracked files: a file holding a number that an operator (or another program) writes to
//! move an instance's priority or put it in FAULT (keepalived's `track_file`; the arithmetic
//! lives in [`super::priority`]).
//!
//! Reading follows keepalived's `process_track_file` (keepalived/vrrp/vrrp_track.c): the first
//! 127 bytes are parsed like C `strtol(buf, NULL, 0)` (leading blanks, a sign, decimal, `0x`
//! hex or leading-`0` octal, anything after the number ignored); a missing or unreadable file,
//! or one without a number, reads as 0; the value is limited to -254..=254.
//!
//! Polling instead of inotify, deliberately: keepalived watches the directory with inotify.
//! A short poll (the caller picks the period; 100 ms costs one open and one tiny read) is
//! simpler and also covers the cases inotify makes awkward: a directory that does not exist yet,
//! a file replaced by rename, a file on a filesystem without inotify. The price is latency of
//! up to two periods. A writer doing `echo 5 > file` truncates before it writes, so one read
//! can land in between and see an empty file; a changed value is therefore only accepted once
//! two consecutive reads agree, so a torn write never moves the priority.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc::UnboundedSender;
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

use super::runner::MIN_INTERVAL;
use super::HealthEvent;

/// keepalived limits the value read to this magnitude.
const VALUE_LIMIT: i64 = 254;
/// keepalived reads at most this many bytes.
const READ_LIMIT: u64 = 127;

/// One tracked file as the daemon configures it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackFileSpec {
    /// The name instances track it by (keepalived's `track_file NAME`).
    pub name: String,
    pub path: PathBuf,
    /// How often the file is read (at least [`MIN_INTERVAL`]).
    pub poll_interval: Duration,
}

/// A watched file. Dropping it stops the watching.
pub struct TrackFileHandle {
    name: Arc<str>,
    value: Arc<AtomicI64>,
    task: JoinHandle<()>,
}

impl TrackFileHandle {
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The value currently in force (read once already when the handle was made).
    pub fn value(&self) -> i64 {
        self.value.load(Ordering::Relaxed)
    }
}

impl Drop for TrackFileHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Reads the file now (so [`TrackFileHandle::value`] is right from the start), then keeps
/// reading it on the current tokio runtime and sends [`HealthEvent::File`] on every change.
pub fn spawn_track_file(
    spec: TrackFileSpec,
    events: UnboundedSender<HealthEvent>,
) -> TrackFileHandle {
    let name: Arc<str> = spec.name.as_str().into();
    let value = Arc::new(AtomicI64::new(read_value(&spec.path)));
    let task = tokio::spawn(watch(name.clone(), spec, value.clone(), events));
    TrackFileHandle { name, value, task }
}

async fn watch(
    name: Arc<str>,
    spec: TrackFileSpec,
    value: Arc<AtomicI64>,
    events: UnboundedSender<HealthEvent>,
) {
    let mut ticker = tokio::time::interval(spec.poll_interval.max(MIN_INTERVAL));
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    // The first tick is immediate and would re-read what spawn_track_file just read.
    ticker.tick().await;
    let mut candidate: Option<i64> = None;
    loop {
        ticker.tick().await;
        let path = spec.path.clone();
        let read = match tokio::task::spawn_blocking(move || read_value(&path)).await {
            Ok(read) => read,
            // Only a panic in read_value, which has none; keep the value in force.
            Err(_) => continue,
        };
        if read == value.load(Ordering::Relaxed) {
            candidate = None;
            continue;
        }
        if candidate != Some(read) {
            candidate = Some(read);
            continue;
        }
        candidate = None;
        value.store(read, Ordering::Relaxed);
        tracing::info!(file = %name, path = %spec.path.display(), value = read, "tracked file changed");
        let event = HealthEvent::File {
            name: name.clone(),
            value: read,
        };
        if events.send(event).is_err() {
            return;
        }
    }
}

/// The value of a tracked file with keepalived's rules (see the module documentation).
pub fn read_value(path: &Path) -> i64 {
    let mut text = Vec::new();
    let read =
        std::fs::File::open(path).and_then(|file| file.take(READ_LIMIT).read_to_end(&mut text));
    match read {
        Ok(_) => parse_c_long(&text).clamp(-VALUE_LIMIT, VALUE_LIMIT),
        Err(_) => 0,
    }
}

/// C's `strtol(text, NULL, 0)`, saturating, 0 when there is no number.
fn parse_c_long(text: &[u8]) -> i64 {
    let mut rest = text;
    while let [first, tail @ ..] = rest {
        if first.is_ascii_whitespace() {
            rest = tail;
        } else {
            break;
        }
    }
    let negative = match rest {
        [b'-', tail @ ..] => {
            rest = tail;
            true
        }
        [b'+', tail @ ..] => {
            rest = tail;
            false
        }
        _ => false,
    };
    let radix = match rest {
        [b'0', b'x' | b'X', digit, ..] if digit.is_ascii_hexdigit() => {
            rest = &rest[2..];
            16
        }
        [b'0', ..] => 8,
        _ => 10,
    };
    let mut magnitude: i64 = 0;
    for &byte in rest {
        let Some(digit) = char::from(byte).to_digit(radix) else {
            break;
        };
        magnitude = magnitude
            .saturating_mul(i64::from(radix))
            .saturating_add(i64::from(digit));
    }
    if negative {
        -magnitude
    } else {
        magnitude
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_like_strtol_base_0() {
        assert_eq!(parse_c_long(b"42\n"), 42);
        assert_eq!(parse_c_long(b"  -17 trailing"), -17);
        assert_eq!(parse_c_long(b"+5"), 5);
        assert_eq!(parse_c_long(b"0x1f"), 31);
        assert_eq!(parse_c_long(b"010"), 8);
        assert_eq!(parse_c_long(b"0"), 0);
        assert_eq!(parse_c_long(b"0x"), 0, "strtol reads the 0 and stops at x");
        assert_eq!(parse_c_long(b""), 0);
        assert_eq!(parse_c_long(b"abc"), 0);
        assert_eq!(parse_c_long(b"99999999999999999999999"), i64::MAX);
    }

    #[test]
    fn reads_files_with_keepalived_rules() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("prio");
        assert_eq!(read_value(&path), 0, "a missing file reads as 0");
        std::fs::write(&path, "12\n").unwrap();
        assert_eq!(read_value(&path), 12);
        std::fs::write(&path, "-1000").unwrap();
        assert_eq!(read_value(&path), -254, "limited to -254..=254");
        std::fs::write(&path, "1000").unwrap();
        assert_eq!(read_value(&path), 254);
        std::fs::write(&path, "garbage").unwrap();
        assert_eq!(read_value(&path), 0);
    }
}
