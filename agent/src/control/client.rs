//! The client side of the control protocol, blocking: `vipd status` asks one question and
//! exits, so it needs no async runtime.

use std::io::{self, BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::protocol::{Request, Response, ResponseBody};
use super::status::Snapshot;

/// How long to wait for the daemon's answer; it answers from memory, so anything near this is
/// a hung daemon.
pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("no vipd is listening on {}: is it running? (systemctl status vipd)", path.display())]
    NotRunning { path: PathBuf },
    #[error("permission denied on {}: the control socket is for root only; run it with sudo", path.display())]
    PermissionDenied { path: PathBuf },
    #[error("vipd on {} did not answer within {} s", path.display(), ANSWER_TIMEOUT.as_secs())]
    NoAnswer { path: PathBuf },
    #[error("talking to vipd on {}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error("vipd on {} answered something this client cannot read ({detail}): are the vipd binary and the running daemon the same version?", path.display())]
    Unreadable { path: PathBuf, detail: String },
    #[error("vipd refused the request: {0}")]
    Refused(String),
}

/// Asks the daemon listening on `path` for its status.
pub fn fetch_status(path: &Path) -> Result<Snapshot, ClientError> {
    match exchange(path, &Request::status())?.body {
        ResponseBody::Status(snapshot) => Ok(*snapshot),
        ResponseBody::Error(message) => Err(ClientError::Refused(message)),
    }
}

fn exchange(path: &Path, request: &Request) -> Result<Response, ClientError> {
    let io_error = |source: io::Error| match source.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => ClientError::NoAnswer {
            path: path.to_path_buf(),
        },
        _ => ClientError::Io {
            path: path.to_path_buf(),
            source,
        },
    };
    let mut stream = UnixStream::connect(path).map_err(|source| match source.kind() {
        io::ErrorKind::NotFound | io::ErrorKind::ConnectionRefused => ClientError::NotRunning {
            path: path.to_path_buf(),
        },
        io::ErrorKind::PermissionDenied => ClientError::PermissionDenied {
            path: path.to_path_buf(),
        },
        _ => io_error(source),
    })?;
    stream
        .set_read_timeout(Some(ANSWER_TIMEOUT))
        .map_err(io_error)?;
    let mut line = serde_json::to_vec(request).map_err(|e| ClientError::Unreadable {
        path: path.to_path_buf(),
        detail: e.to_string(),
    })?;
    line.push(b'\n');
    stream.write_all(&line).map_err(io_error)?;
    let mut answer = String::new();
    BufReader::new(&stream)
        .read_line(&mut answer)
        .map_err(io_error)?;
    if answer.is_empty() {
        return Err(ClientError::Unreadable {
            path: path.to_path_buf(),
            detail: "the connection closed without an answer".to_string(),
        });
    }
    serde_json::from_str(&answer).map_err(|e| ClientError::Unreadable {
        path: path.to_path_buf(),
        detail: e.to_string(),
    })
}
