//! The fault log: one JSON object per line per fault, appended by `vipd fault --log FILE` and
//! read, as it grows, by `vipd probe --faults FILE`. The time is the wall clock (CLOCK_REALTIME)
//! of the host that wrote the line: the probe compares it with its own, which is exact on one
//! host and as good as the hosts' synchronisation across two (docs/measure-takeover.md).
use serde::{Deserialize, Serialize};
use std::{
    fs::File,
    io::{self, Read, Seek, SeekFrom, Write},
    path::{Path, PathBuf},
};

use super::FaultKind;

/// One injected fault.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FaultRecord {
    pub kind: FaultKind,
    /// Where it was injected: the host name, or the ssh destination.
    pub host: String,
    /// What it acted on: `vipd pid 1234` or `eth0`.
    pub target: String,
    /// The fault's time, CLOCK_REALTIME ns of the host that wrote this record.
    pub at_ns: u64,
    /// The same as RFC 3339 UTC, for people.
    pub at: String,
    /// How far `at_ns` may be from the moment the fault happened: half the ssh round trip for a
    /// remote fault, 0 for a local one.
    pub uncertainty_ns: u64,
    /// A remote fault: the round trip of the ssh session that carried it, from the "go" sent to
    /// the remote's answer, which brackets the fault.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssh_round_trip_ns: Option<u64>,
    /// A remote fault: the time the remote host's own clock gave it (its offset from ours is
    /// `remote_at_ns - at_ns`, within the uncertainty).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_at_ns: Option<u64>,
}

impl FaultRecord {
    /// The record as one line of the log.
    pub fn to_line(&self) -> String {
        serde_json::to_string(self).expect("a fault record serialises")
    }
}

/// Appends `record` to the log at `path` (created if missing), as one write.
pub fn append(path: &Path, record: &FaultRecord) -> io::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    file.write_all(format!("{}\n", record.to_line()).as_bytes())
}

/// Reads a fault log as it grows.
pub struct FaultLog {
    path: PathBuf,
    /// Bytes read and parsed so far (whole lines only).
    offset: u64,
}

impl FaultLog {
    /// Reads `path` from its start; a log that does not exist yet is read once it does.
    pub fn new(path: PathBuf) -> Self {
        Self { path, offset: 0 }
    }

    /// The records appended since the last call. A line that is no record is skipped with a
    /// warning; a line not yet ended waits for the next call.
    pub fn read_new(&mut self) -> io::Result<Vec<FaultRecord>> {
        let mut file = match File::open(&self.path) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        file.seek(SeekFrom::Start(self.offset))?;
        let mut text = String::new();
        file.read_to_string(&mut text)?;
        let Some(end) = text.rfind('\n') else {
            return Ok(Vec::new());
        };
        self.offset += end as u64 + 1;
        let mut records = Vec::new();
        for line in text[..end].lines().filter(|l| !l.trim().is_empty()) {
            match serde_json::from_str(line) {
                Ok(record) => records.push(record),
                Err(error) => {
                    tracing::warn!(path = %self.path.display(), %error, "not a fault record: {line}")
                }
            }
        }
        Ok(records)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(kind: FaultKind, at_ns: u64) -> FaultRecord {
        FaultRecord {
            kind,
            host: "node1".into(),
            target: "vipd pid 42".into(),
            at_ns,
            at: crate::measure::clock::rfc3339(at_ns),
            uncertainty_ns: 0,
            ssh_round_trip_ns: None,
            remote_at_ns: None,
        }
    }

    #[test]
    fn records_are_read_once_as_the_log_grows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("faults.jsonl");
        let mut log = FaultLog::new(path.clone());
        assert_eq!(log.read_new().unwrap(), [], "no log yet");
        append(&path, &record(FaultKind::Kill9, 1)).unwrap();
        assert_eq!(log.read_new().unwrap(), [record(FaultKind::Kill9, 1)]);
        assert_eq!(log.read_new().unwrap(), []);
        // Half a line waits for its end.
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b"{\"kind\":")
            .unwrap();
        assert_eq!(log.read_new().unwrap(), []);
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        let rest = record(FaultKind::LinkDown, 2).to_line();
        file.write_all(format!("{}\n", &rest["{\"kind\":".len()..]).as_bytes())
            .unwrap();
        assert_eq!(log.read_new().unwrap(), [record(FaultKind::LinkDown, 2)]);
    }
}
