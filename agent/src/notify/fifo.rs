//! The notify FIFO: one line per state change in keepalived's format, for a consumer that
//! prefers reading a pipe to being forked (keepalived's `notify_fifo` / `vrrp_notify_fifo`).
//!
//! keepalived writes `snprintf("%s \"%s\" %s %d\n", type, name, state, priority)`
//! (keepalived/vrrp/vrrp_notify.c, `notify_fifo`), e.g. `INSTANCE "VI_1" MASTER 100`, and
//! `GROUP "VG_1" BACKUP 0` for sync groups (a group's priority is always 0).
//!
//! vipd must never block on it. The FIFO is created (mode 0600) if missing, and opened for
//! writing with O_NONBLOCK, which fails with ENXIO while no reader has it open. What is dropped
//! (counted for [`super::Notifier::fifo_lines_dropped`], logged at debug):
//! - lines written while no reader is there (the open is retried at the next line);
//! - lines written while the pipe is full because the reader is too slow (EAGAIN);
//! - the line during which the reader went away (EPIPE; the FIFO is reopened at the next line).
//!
//! A line is short and a write of up to PIPE_BUF bytes to a pipe is atomic, so a reader never
//! sees half a line.

use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use nix::sys::stat::Mode;

/// Why the notify FIFO cannot be used at all.
#[derive(Debug, thiserror::Error)]
pub enum NotifyFifoError {
    #[error("notify FIFO {path} exists but is not a FIFO: remove it or configure another path")]
    NotAFifo { path: PathBuf },
    #[error("cannot create notify FIFO {path}: {source} (does its directory exist?)")]
    Create {
        path: PathBuf,
        #[source]
        source: nix::Error,
    },
    #[error("cannot inspect notify FIFO {path}: {source}")]
    Stat {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The writing end of the notify FIFO.
#[derive(Debug)]
pub(crate) struct NotifyFifo {
    path: PathBuf,
    writer: Option<File>,
    /// Shared with the [`super::Notifier`] so metrics can read it.
    dropped: Arc<AtomicU64>,
}

impl NotifyFifo {
    /// Creates the FIFO if it does not exist; refuses a path that is something else.
    pub(crate) fn create(path: &Path) -> Result<Self, NotifyFifoError> {
        match std::fs::symlink_metadata(path) {
            Ok(metadata) if metadata.file_type().is_fifo() => {}
            Ok(_) => {
                return Err(NotifyFifoError::NotAFifo {
                    path: path.to_owned(),
                })
            }
            Err(error) if error.kind() == ErrorKind::NotFound => {
                nix::unistd::mkfifo(path, Mode::S_IRUSR | Mode::S_IWUSR).map_err(|source| {
                    NotifyFifoError::Create {
                        path: path.to_owned(),
                        source,
                    }
                })?;
            }
            Err(source) => {
                return Err(NotifyFifoError::Stat {
                    path: path.to_owned(),
                    source,
                })
            }
        }
        Ok(Self {
            path: path.to_owned(),
            writer: None,
            dropped: Arc::new(AtomicU64::new(0)),
        })
    }

    /// The count of lines dropped so far (no reader, full pipe, reader gone).
    pub(crate) fn dropped(&self) -> Arc<AtomicU64> {
        self.dropped.clone()
    }

    /// Writes one line (the newline is added), without ever blocking.
    pub(crate) fn write_line(&mut self, line: &str) {
        let mut bytes = Vec::with_capacity(line.len() + 1);
        bytes.extend_from_slice(line.as_bytes());
        bytes.push(b'\n');
        if self.writer.is_none() {
            match OpenOptions::new()
                .write(true)
                .custom_flags(libc::O_NONBLOCK)
                .open(&self.path)
            {
                Ok(file) => self.writer = Some(file),
                Err(error) => return self.drop_line(line, &error),
            }
        }
        let Some(writer) = self.writer.as_mut() else {
            return;
        };
        match writer.write(&bytes) {
            Ok(written) if written == bytes.len() => {}
            Ok(_) => {
                // Only possible for a line longer than PIPE_BUF; the rest is lost.
                let error = std::io::Error::new(ErrorKind::WriteZero, "short write");
                self.drop_line(line, &error);
            }
            Err(error) => {
                if error.kind() != ErrorKind::WouldBlock {
                    // EPIPE (the reader left) or worse: reopen at the next line.
                    self.writer = None;
                }
                self.drop_line(line, &error);
            }
        }
    }

    fn drop_line(&mut self, line: &str, error: &std::io::Error) {
        let dropped = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
        tracing::debug!(fifo = %self.path.display(), line, %error, dropped, "notify FIFO line dropped");
    }
}
