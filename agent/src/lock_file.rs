//! Lock files: a file held with flock(2) for as long as its holder runs, with the holder's pid
//! inside so that a refused process can say who is in the way.
//!
//! The kernel drops an flock when the last descriptor closes, which includes the process dying
//! by kill -9: a lock file never goes stale, and a restart after a crash is never blocked. The
//! file itself may stay behind; it means nothing unless someone holds it.
//!
//! A holder unlinks its file when it lets go, so that locks do not pile up in /run. That opens a
//! window: a process that opened the path just before the unlink would lock a file nobody else
//! can reach any more, and two processes would both "hold" the path. So every lock, once
//! granted, is kept only if the file is still the one at the path; otherwise it is taken again.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another process holds the lock; `holder` is the pid it wrote, if it has yet.
    #[error("{} holds {path}", holder.map_or("another process".to_string(), |p| format!("pid {p}")))]
    Held { path: PathBuf, holder: Option<u32> },
    #[error("cannot lock {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
}

/// A held lock file. Dropping it lets go (and unlinks the file when no one else holds it).
#[derive(Debug)]
pub struct LockFile {
    file: File,
    path: PathBuf,
}

/// How a lock is shared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// One holder, refused (not waited for) while another holds it.
    Exclusive,
    /// Any number of holders; waits while someone holds it exclusively.
    Shared,
}

impl LockFile {
    /// Takes `path` for this process alone and writes our pid into it, or says who holds it.
    /// The directory is created (mode 0755) if missing.
    pub fn exclusive(path: &Path) -> Result<LockFile, LockError> {
        let Some(mut lock) = Self::take(path, Kind::Exclusive)? else {
            return Err(LockError::Held {
                path: path.to_path_buf(),
                holder: holder(path),
            });
        };
        lock.write_pid().map_err(|source| LockError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(lock)
    }

    /// Takes `path` exclusively if no one else holds it at all; `Ok(None)` if others do.
    pub fn try_alone(path: &Path) -> Result<Option<LockFile>, LockError> {
        Self::take(path, Kind::Exclusive)
    }

    /// Takes a share of `path`, waiting while an exclusive holder has it.
    pub fn shared(path: &Path) -> Result<LockFile, LockError> {
        Self::take(path, Kind::Shared)?.ok_or_else(|| LockError::Io {
            path: path.to_path_buf(),
            source: io::ErrorKind::WouldBlock.into(),
        })
    }

    /// Turns an exclusive lock into a share. Linux converts in place, so no one else can take
    /// the lock exclusively in between.
    pub fn share(self) -> Result<LockFile, LockError> {
        flock(&self.file, libc::LOCK_SH).map_err(|source| LockError::Io {
            path: self.path.clone(),
            source,
        })?;
        Ok(self)
    }

    /// The lock, or `None` when an exclusive one is held elsewhere (shared ones wait).
    fn take(path: &Path, kind: Kind) -> Result<Option<LockFile>, LockError> {
        let io_error = |source| LockError::Io {
            path: path.to_path_buf(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o755)
                .create(dir)
                .map_err(io_error)?;
        }
        loop {
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .mode(0o644)
                // A symlink planted at the path (in a world-writable directory) must not make
                // root truncate what it points to.
                .custom_flags(libc::O_NOFOLLOW)
                .open(path)
                .map_err(io_error)?;
            let operation = match kind {
                Kind::Exclusive => libc::LOCK_EX | libc::LOCK_NB,
                Kind::Shared => libc::LOCK_SH,
            };
            if !flock(&file, operation).map_err(io_error)? {
                return Ok(None);
            }
            if still_at(&file, path).map_err(io_error)? {
                return Ok(Some(LockFile {
                    file,
                    path: path.to_path_buf(),
                }));
            }
            // The holder we waited for unlinked this file as it let go: take the new one.
        }
    }

    fn write_pid(&mut self) -> io::Result<()> {
        self.file.set_len(0)?;
        self.file.rewind()?;
        writeln!(self.file, "{}", std::process::id())
    }
}

impl Drop for LockFile {
    fn drop(&mut self) {
        // Unlink only while holding the file alone: a shared holder asks for exclusivity first,
        // and if others still share it the attempt fails (and drops our share, as we leave anyway).
        let alone = flock(&self.file, libc::LOCK_EX | libc::LOCK_NB).unwrap_or(false);
        if alone && still_at(&self.file, &self.path).unwrap_or(false) {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// flock(2): whether the lock was granted (`false`: LOCK_NB and someone else holds it). Not
/// `File::lock` and friends, which need a newer Rust than vipd supports.
fn flock(file: &File, operation: libc::c_int) -> io::Result<bool> {
    loop {
        // SAFETY: flock only reads the descriptor, which `file` keeps open.
        if unsafe { libc::flock(file.as_raw_fd(), operation) } == 0 {
            return Ok(true);
        }
        let error = io::Error::last_os_error();
        match error.kind() {
            io::ErrorKind::WouldBlock => return Ok(false),
            io::ErrorKind::Interrupted => continue,
            _ => return Err(error),
        }
    }
}

/// Whether `file` is still the file at `path` (not unlinked, not replaced).
fn still_at(file: &File, path: &Path) -> io::Result<bool> {
    let held = file.metadata()?;
    match std::fs::metadata(path) {
        Ok(at_path) => Ok(held.dev() == at_path.dev() && held.ino() == at_path.ino()),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(error) => Err(error),
    }
}

/// How long a refused process waits for the holder to write its pid. A holder writes it right
/// after its lock is granted, so this bounds a gap of microseconds, not a live wait.
const PID_WAIT: Duration = Duration::from_millis(500);

/// The pid of the process holding the lock at `path`. Until the holder has written its own, the
/// file is empty or still names the dead process that held it before; neither is the holder, so
/// the file is read again until it names a live process, for at most [`PID_WAIT`].
fn holder(path: &Path) -> Option<u32> {
    let mut file = File::open(path).ok()?;
    let deadline = Instant::now() + PID_WAIT;
    loop {
        if let Some(pid) = read_pid(&mut file).filter(|&pid| is_alive(pid)) {
            return Some(pid);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn read_pid(file: &mut File) -> Option<u32> {
    let mut text = String::new();
    file.rewind().ok()?;
    file.read_to_string(&mut text).ok()?;
    text.trim().parse().ok()
}

fn is_alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_exclusive_holder_is_refused_with_the_first_ones_pid() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/x.lock");
        let first = LockFile::exclusive(&path).unwrap();
        match LockFile::exclusive(&path) {
            Err(LockError::Held { holder, .. }) => assert_eq!(holder, Some(std::process::id())),
            other => panic!("expected Held, got {other:?}"),
        }
        drop(first);
        assert!(!path.exists(), "the last holder unlinks the file");
        LockFile::exclusive(&path).expect("free again once dropped");
    }

    #[test]
    fn a_stale_file_is_no_lock() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.lock");
        // What a holder killed with -9 leaves: the file with its pid, no lock.
        std::fs::write(&path, "999999999\n").unwrap();
        let lock = LockFile::exclusive(&path).unwrap();
        assert_eq!(
            std::fs::read_to_string(&lock.path).unwrap(),
            format!("{}\n", std::process::id())
        );
    }

    #[test]
    fn a_holder_that_has_not_written_its_pid_yet_is_not_named_by_the_dead_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.lock");
        std::fs::write(&path, "999999999\n").unwrap();
        // Locked, but the new holder's pid not written yet.
        let file = File::open(&path).unwrap();
        assert!(flock(&file, libc::LOCK_EX).unwrap());
        let started = Instant::now();
        match LockFile::exclusive(&path) {
            Err(LockError::Held { holder, .. }) => assert_eq!(holder, None),
            other => panic!("expected Held, got {other:?}"),
        }
        assert!(started.elapsed() >= PID_WAIT);
    }

    #[test]
    fn a_planted_symlink_is_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let precious = dir.path().join("precious");
        std::fs::write(&precious, "keep me").unwrap();
        let path = dir.path().join("x.lock");
        std::os::unix::fs::symlink(&precious, &path).unwrap();
        assert!(matches!(
            LockFile::exclusive(&path),
            Err(LockError::Io { .. })
        ));
        assert_eq!(std::fs::read_to_string(&precious).unwrap(), "keep me");
    }

    #[test]
    fn shares_coexist_and_keep_others_from_being_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.lock");
        let alone = LockFile::try_alone(&path).unwrap().expect("nobody else");
        let first = alone.share().unwrap();
        assert!(LockFile::try_alone(&path).unwrap().is_none());
        let second = LockFile::shared(&path).unwrap();
        drop(first);
        assert!(path.exists(), "a share is still held");
        assert!(LockFile::try_alone(&path).unwrap().is_none());
        drop(second);
        assert!(!path.exists(), "the last share unlinks the file");
    }

    #[test]
    fn a_lock_on_an_unlinked_file_is_taken_again() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.lock");
        let holder = LockFile::exclusive(&path).unwrap();
        // A waiter that opened the file before the holder unlinked it.
        let waiter = std::thread::spawn({
            let path = path.clone();
            move || LockFile::shared(&path).unwrap()
        });
        std::thread::sleep(std::time::Duration::from_millis(50));
        drop(holder);
        let waiter = waiter.join().unwrap();
        assert!(still_at(&waiter.file, &path).unwrap());
        assert!(LockFile::try_alone(&path).unwrap().is_none());
    }
}
