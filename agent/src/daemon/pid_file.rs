//! `--pid-file`: the daemon's pid for supervisors and scripts that want one (keepalived's
//! `--pid`). It is written only once the daemon holds its control socket's lock, so two daemons
//! never race over it; a live vipd named by the file is still never displaced, because a second
//! daemon with another control socket could point at the same file.
//!
//! Readers see the old content or the new, never half a line: the pid goes to a temporary file
//! in the same directory, which is then renamed over the path.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum PidFileError {
    #[error(
        "the pid file {path} names a running vipd (pid {pid}): stop it first or give this one \
         another --pid-file"
    )]
    InUse { path: PathBuf, pid: u32 },
    #[error("cannot write the pid file {path}: {source}")]
    Write { path: PathBuf, source: io::Error },
}

/// The pid file this daemon wrote; removed when dropped, unless it no longer holds our pid.
#[derive(Debug)]
pub struct PidFile {
    path: PathBuf,
}

impl PidFile {
    /// Writes our pid to `path`, replacing a stale file (one whose process is gone or is not
    /// vipd).
    pub fn write(path: &Path) -> Result<PidFile, PidFileError> {
        let ours = std::process::id();
        if let Some(pid) = read(path).filter(|&pid| pid != ours && is_vipd(pid)) {
            return Err(PidFileError::InUse {
                path: path.to_path_buf(),
                pid,
            });
        }
        write_atomically(path, &format!("{ours}\n")).map_err(|source| PidFileError::Write {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(PidFile {
            path: path.to_path_buf(),
        })
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        if read(&self.path) == Some(std::process::id()) {
            if let Err(error) = std::fs::remove_file(&self.path) {
                tracing::warn!(path = %self.path.display(), %error, "cannot remove the pid file");
            }
        }
    }
}

/// Writes `text` to a file beside `path` (named after it and our pid, so that concurrent
/// writers never share one), then renames it over `path`.
fn write_atomically(path: &Path, text: &str) -> io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let temporary = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    // Created anew, never opened through whatever is at the name already (a symlink planted
    // there would make root write through it); `rename` replaces `path` itself, even a symlink.
    let _ = std::fs::remove_file(&temporary);
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&temporary)
        .and_then(|mut file| file.write_all(text.as_bytes()))
        .and_then(|()| std::fs::rename(&temporary, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written
}

fn read(path: &Path) -> Option<u32> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// Whether `pid` is a running vipd (by its command name, which the kernel keeps per process).
fn is_vipd(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|comm| comm.trim() == "vipd")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_then_removed_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run/vipd.pid");
        let pid_file = PidFile::write(&path).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            format!("{}\n", std::process::id())
        );
        assert_eq!(
            std::fs::read_dir(path.parent().unwrap()).unwrap().count(),
            1,
            "no temporary file is left"
        );
        drop(pid_file);
        assert!(!path.exists());
    }

    #[test]
    fn a_stale_pid_file_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vipd.pid");
        // The test binary is not called vipd, and pid 1 is not vipd either.
        for stale in ["999999999\n", "1\n", "garbage"] {
            std::fs::write(&path, stale).unwrap();
            drop(PidFile::write(&path).expect("a stale pid file is replaced"));
        }
    }

    #[test]
    fn planted_symlinks_are_not_written_through() {
        let dir = tempfile::tempdir().unwrap();
        let precious = dir.path().join("precious");
        std::fs::write(&precious, "keep me").unwrap();
        let path = dir.path().join("vipd.pid");
        let temporary = dir
            .path()
            .join(format!(".vipd.pid.{}.tmp", std::process::id()));
        std::os::unix::fs::symlink(&precious, &temporary).unwrap();
        std::os::unix::fs::symlink(&precious, &path).unwrap();
        let pid_file = PidFile::write(&path).unwrap();
        assert_eq!(std::fs::read_to_string(&precious).unwrap(), "keep me");
        assert!(!std::fs::symlink_metadata(&path).unwrap().is_symlink());
        drop(pid_file);
    }

    #[test]
    fn a_file_rewritten_by_someone_else_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vipd.pid");
        let pid_file = PidFile::write(&path).unwrap();
        std::fs::write(&path, "12345\n").unwrap();
        drop(pid_file);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "12345\n");
    }
}
