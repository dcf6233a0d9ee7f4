//! The control socket: a unix stream socket, root only, serving the [`super::protocol`] from the
//! [`StatusBoard`].
//!
//! Binding is careful about what it finds at the path: a live vipd answering there is never
//! displaced (two daemons would fight over the same VIPs), a stale socket left by a vipd that
//! died is removed, anything that is not a socket is left alone. The socket is made mode 0600
//! right after bind; every connection is also checked with SO_PEERCRED, which closes the window
//! between bind and chmod and does not depend on the file's mode at all.

use std::future::Future;
use std::io;
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, MetadataExt, PermissionsExt};
use std::os::unix::net::{UnixListener as StdUnixListener, UnixStream as StdUnixStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};

use super::board::StatusBoard;
use super::protocol::{
    Command, Request, Response, ResponseBody, MAX_REQUEST_LEN, PROTOCOL_VERSION,
};

#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error(
        "another vipd{} is already serving the control socket {path}: stop it first \
         (systemctl stop vipd) or give this one another control_socket",
        pid.map(|p| format!(" (pid {p})")).unwrap_or_default()
    )]
    AlreadyRunning { path: PathBuf, pid: Option<i32> },
    #[error("{path} exists and is not a socket: remove it or set control_socket to another path")]
    NotASocket { path: PathBuf },
    #[error("cannot create the control socket's directory {dir}: {source}")]
    CreateDir { dir: PathBuf, source: io::Error },
    #[error("cannot check or remove the old control socket {path}: {source}")]
    Stale { path: PathBuf, source: io::Error },
    #[error("cannot listen on the control socket {path}: {source}")]
    Bind { path: PathBuf, source: io::Error },
}

/// A bound control socket, not yet serving. Binding needs no async runtime, so the daemon can
/// refuse to start before it touches anything else.
#[derive(Debug)]
pub struct ControlServer {
    listener: StdUnixListener,
    socket_file: SocketFile,
}

impl ControlServer {
    pub fn bind(path: &Path) -> Result<ControlServer, ControlError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            if !dir.exists() {
                std::fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o755)
                    .create(dir)
                    .map_err(|source| ControlError::CreateDir {
                        dir: dir.to_path_buf(),
                        source,
                    })?;
            }
        }
        clear_stale_socket(path)?;
        let bind_error = |source| ControlError::Bind {
            path: path.to_path_buf(),
            source,
        };
        let listener = StdUnixListener::bind(path).map_err(bind_error)?;
        let socket_file = SocketFile::of(path).map_err(bind_error)?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .map_err(bind_error)?;
        listener.set_nonblocking(true).map_err(bind_error)?;
        Ok(ControlServer {
            listener,
            socket_file,
        })
    }

    pub fn path(&self) -> &Path {
        &self.socket_file.path
    }

    /// Answers requests until `shutdown` completes, then removes the socket file. Must run
    /// inside a tokio runtime.
    pub async fn serve(
        self,
        board: StatusBoard,
        shutdown: impl Future<Output = ()>,
    ) -> io::Result<()> {
        let ControlServer {
            listener,
            socket_file,
        } = self;
        let listener = UnixListener::from_std(listener)?;
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                () = &mut shutdown => break,
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) => {
                        tokio::spawn(serve_connection(stream, board.clone()));
                    }
                    Err(error) => {
                        // Out of file descriptors and the like: say so, and do not spin.
                        tracing::warn!(%error, "control socket: accept failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                },
            }
        }
        drop(listener);
        drop(socket_file);
        Ok(())
    }
}

/// Only root may use the control socket.
pub fn authorize(uid: u32) -> Result<(), String> {
    if uid == 0 {
        Ok(())
    } else {
        Err(format!(
            "vipd's control socket is for root only and you are uid {uid}: run it with sudo"
        ))
    }
}

async fn serve_connection(stream: UnixStream, board: StatusBoard) {
    if let Err(error) = converse(stream, board).await {
        tracing::debug!(%error, "control connection ended with an error");
    }
}

async fn converse(stream: UnixStream, board: StatusBoard) -> io::Result<()> {
    let refusal = match stream.peer_cred() {
        Ok(cred) => authorize(cred.uid()).err(),
        Err(error) => Some(format!("cannot tell who is connecting ({error})")),
    };
    let (read, mut write) = stream.into_split();
    if let Some(message) = refusal {
        return write.write_all(&Response::error(message).to_line()).await;
    }
    let mut reader = BufReader::new(read);
    let mut line = Vec::new();
    loop {
        line.clear();
        let limit = u64::try_from(MAX_REQUEST_LEN + 1).unwrap_or(u64::MAX);
        let n = (&mut reader)
            .take(limit)
            .read_until(b'\n', &mut line)
            .await?;
        if n == 0 {
            return Ok(());
        }
        if !line.ends_with(b"\n") && line.len() > MAX_REQUEST_LEN {
            let message = format!("request longer than {MAX_REQUEST_LEN} bytes");
            return write.write_all(&Response::error(message).to_line()).await;
        }
        write.write_all(&respond(&line, &board).to_line()).await?;
    }
}

fn respond(line: &[u8], board: &StatusBoard) -> Response {
    match serde_json::from_slice::<Request>(line) {
        Err(error) => Response::error(format!(
            "unreadable request ({error}); send one JSON object per line, \
             such as {{\"version\":1,\"cmd\":\"status\"}}"
        )),
        Ok(request) if request.version > PROTOCOL_VERSION => Response::error(format!(
            "protocol version {} is newer than this vipd speaks ({PROTOCOL_VERSION}): \
             use the vipd binary that matches the running daemon",
            request.version
        )),
        Ok(request) => match request.command {
            Command::Status => Response {
                version: PROTOCOL_VERSION,
                body: ResponseBody::Status(Box::new(board.snapshot())),
            },
        },
    }
}

/// Makes `path` free to bind: nothing there, or a stale socket (removed). A live server or a
/// file that is not a socket is an error.
fn clear_stale_socket(path: &Path) -> Result<(), ControlError> {
    let stale = |source| ControlError::Stale {
        path: path.to_path_buf(),
        source,
    };
    let meta = match std::fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(stale(e)),
    };
    if !meta.file_type().is_socket() {
        return Err(ControlError::NotASocket {
            path: path.to_path_buf(),
        });
    }
    match StdUnixStream::connect(path) {
        Ok(stream) => {
            let pid =
                nix::sys::socket::getsockopt(&stream, nix::sys::socket::sockopt::PeerCredentials)
                    .ok()
                    .map(|cred| cred.pid());
            Err(ControlError::AlreadyRunning {
                path: path.to_path_buf(),
                pid,
            })
        }
        // Nobody listens: a vipd died without cleaning up.
        Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
            tracing::info!(path = %path.display(), "removing a stale control socket");
            match std::fs::remove_file(path) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(stale(e)),
            }
        }
        Err(e) => Err(stale(e)),
    }
}

/// The socket file this server created; removed when the server ends, unless another process
/// has since put its own socket at the path (then it is theirs to remove).
#[derive(Debug)]
struct SocketFile {
    path: PathBuf,
    dev: u64,
    ino: u64,
}

impl SocketFile {
    fn of(path: &Path) -> io::Result<SocketFile> {
        let meta = std::fs::symlink_metadata(path)?;
        Ok(SocketFile {
            path: path.to_path_buf(),
            dev: meta.dev(),
            ino: meta.ino(),
        })
    }
}

impl Drop for SocketFile {
    fn drop(&mut self) {
        let ours = std::fs::symlink_metadata(&self.path)
            .is_ok_and(|meta| meta.dev() == self.dev && meta.ino() == self.ino);
        if ours {
            if let Err(error) = std::fs::remove_file(&self.path) {
                tracing::warn!(path = %self.path.display(), %error, "cannot remove the control socket");
            }
        }
    }
}
