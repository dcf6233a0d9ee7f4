//! The control socket: a unix stream socket, root only, serving the [`super::protocol`] from the
//! [`StatusBoard`].
//!
//! Binding first takes the lock file `<socket>.lock` beside the socket ([`LockFile`]), and only
//! its holder looks at the path at all: two daemons started at the same moment can no longer
//! both find the socket "stale", both remove it and both bind. Then binding is careful about
//! what it finds there: a live vipd answering is never displaced (two daemons would fight over
//! the same VIPs), a stale socket left by a vipd that died is removed, anything that is not a
//! socket is left alone. The socket is made mode 0600 right after bind; every connection is also
//! checked with SO_PEERCRED, which closes the window between bind and chmod and does not depend
//! on the file's mode at all.

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
use crate::lock_file::{LockError, LockFile};

#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error(
        "another vipd{} is already serving the control socket {path}: stop it first \
         (systemctl stop vipd) or give this one another socket (--control-socket or \
         control_socket)",
        pid.map(|p| format!(" (pid {p})")).unwrap_or_default()
    )]
    AlreadyRunning { path: PathBuf, pid: Option<i32> },
    #[error("{path} exists and is not a socket: remove it or set control_socket to another path")]
    NotASocket { path: PathBuf },
    #[error("cannot create the control socket's directory {dir}: {source}")]
    CreateDir { dir: PathBuf, source: io::Error },
    #[error("cannot lock the control socket {path}: {source}")]
    Lock { path: PathBuf, source: LockError },
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
    /// Held for as long as the socket file exists; let go after it is removed.
    lock: LockFile,
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
        let lock = lock_socket(path)?;
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
            lock,
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
            lock,
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
        drop(lock);
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

/// The answer to one request line (its `\n` included or not), as a connection from root gets
/// it: public for the control protocol's fuzz target, which needs no socket to ask.
pub fn respond(line: &[u8], board: &StatusBoard) -> Response {
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

/// Takes the lock beside the socket at `path`, or says which vipd holds it.
fn lock_socket(path: &Path) -> Result<LockFile, ControlError> {
    let mut lock_path = path.as_os_str().to_owned();
    lock_path.push(".lock");
    LockFile::exclusive(Path::new(&lock_path)).map_err(|error| match error {
        LockError::Held { holder, .. } => ControlError::AlreadyRunning {
            path: path.to_path_buf(),
            pid: holder.and_then(|pid| i32::try_from(pid).ok()),
        },
        source => ControlError::Lock {
            path: path.to_path_buf(),
            source,
        },
    })
}

/// Makes `path` free to bind (the caller holds its lock): nothing there, or a stale socket
/// (removed). A live server or a file that is not a socket is an error.
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::client::{self, ClientError};
    use crate::control::fixtures::board_with_one_instance;
    use tokio::sync::oneshot;

    /// A server serving `board` on `path` until the returned sender is dropped or fired.
    fn start(
        path: &Path,
        board: StatusBoard,
    ) -> (oneshot::Sender<()>, tokio::task::JoinHandle<io::Result<()>>) {
        let server = ControlServer::bind(path).expect("bind");
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(server.serve(board, async {
            let _ = stopped.await;
        }));
        (stop, task)
    }

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn status_round_trip_and_cleanup() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run/vipd/vipd.sock");
        let (board, _feed) = board_with_one_instance();
        let (stop, task) = start(&path, board);

        assert_eq!(mode(&path), 0o600, "socket mode");
        assert_eq!(
            mode(path.parent().unwrap()),
            0o755,
            "created directory mode"
        );

        let client_path = path.clone();
        let snapshot = tokio::task::spawn_blocking(move || client::fetch_status(&client_path))
            .await
            .unwrap()
            .expect("status");
        assert_eq!(snapshot.daemon.router_id, "node-a");
        assert_eq!(snapshot.daemon.pid, std::process::id());
        assert_eq!(snapshot.instances.len(), 1);
        assert_eq!(snapshot.instances[0].name, "vi_1");

        stop.send(()).unwrap();
        task.await.unwrap().unwrap();
        assert!(!path.exists(), "the socket is removed on shutdown");
        assert!(
            !path.with_extension("sock.lock").exists(),
            "and so is its lock file"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn one_connection_carries_several_requests_and_survives_bad_ones() {
        use tokio::io::AsyncBufReadExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vipd.sock");
        let (board, _feed) = board_with_one_instance();
        let (_stop, _task) = start(&path, board);

        let stream = UnixStream::connect(&path).await.unwrap();
        let (read, mut write) = stream.into_split();
        let mut lines = BufReader::new(read).lines();
        let mut ask = async |request: &str| -> Response {
            write.write_all(request.as_bytes()).await.unwrap();
            write.write_all(b"\n").await.unwrap();
            let line = lines.next_line().await.unwrap().expect("an answer");
            serde_json::from_str(&line).unwrap()
        };
        let error = |r: Response| match r.body {
            ResponseBody::Error(message) => message,
            ResponseBody::Status(_) => panic!("expected an error"),
        };
        assert!(matches!(
            ask(r#"{"cmd":"status"}"#).await.body,
            ResponseBody::Status(_)
        ));
        assert!(error(ask("not json").await).contains("unreadable request"));
        assert!(error(ask(r#"{"version":2,"cmd":"status"}"#).await).contains("newer"));
        assert!(error(ask(r#"{"cmd":"shutdown"}"#).await).contains("unreadable request"));
        assert!(matches!(
            ask(r#"{"version":1,"cmd":"status"}"#).await.body,
            ResponseBody::Status(_)
        ));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_endless_request_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vipd.sock");
        let (board, _feed) = board_with_one_instance();
        let (_stop, _task) = start(&path, board);

        let mut stream = UnixStream::connect(&path).await.unwrap();
        stream
            .write_all(&vec![b' '; MAX_REQUEST_LEN + 10])
            .await
            .unwrap();
        let mut answer = String::new();
        BufReader::new(stream).read_line(&mut answer).await.unwrap();
        let response: Response = serde_json::from_str(&answer).unwrap();
        assert!(matches!(response.body, ResponseBody::Error(m) if m.contains("longer than")));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_live_server_is_never_displaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vipd.sock");
        let (board, _feed) = board_with_one_instance();
        let (_stop, _task) = start(&path, board);

        let error = ControlServer::bind(&path).expect_err("a second server must not start");
        match &error {
            ControlError::AlreadyRunning { pid, .. } => {
                assert_eq!(*pid, Some(std::process::id() as i32))
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(error.to_string().contains("another vipd (pid "), "{error}");
        assert!(path.exists(), "the live server's socket is left alone");
    }

    #[test]
    fn a_stale_socket_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vipd.sock");
        // A vipd that died: its socket file stays, nobody listens.
        drop(StdUnixListener::bind(&path).unwrap());
        assert!(path.exists());
        let server = ControlServer::bind(&path).expect("a stale socket is removed");
        assert!(
            StdUnixStream::connect(&path).is_ok(),
            "the new socket listens"
        );
        drop(server);
        assert!(
            !path.exists(),
            "removed when the unserved server is dropped"
        );
    }

    /// Servers binding at the same moment over a stale socket: one wins, the others are told
    /// who did, and none finds the path taken after it removed the stale socket (the race
    /// that made one of two daemons die with "Address already in use").
    #[test]
    fn servers_binding_at_once_leave_exactly_one_winner() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vipd.sock");
        for _ in 0..50 {
            drop(StdUnixListener::bind(&path).unwrap());
            let start = std::sync::Barrier::new(4);
            let results: Vec<_> = std::thread::scope(|scope| {
                let handles: Vec<_> = (0..4)
                    .map(|_| {
                        scope.spawn(|| {
                            start.wait();
                            ControlServer::bind(&path)
                        })
                    })
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap()).collect()
            });
            let winners = results.iter().filter(|r| r.is_ok()).count();
            assert_eq!(winners, 1, "{results:?}");
            for result in &results {
                if let Err(error) = result {
                    assert!(
                        matches!(error, ControlError::AlreadyRunning { .. }),
                        "{error:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn something_else_at_the_path_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vipd.sock");
        std::fs::write(&path, "precious").unwrap();
        let error = ControlServer::bind(&path).expect_err("not a socket");
        assert!(
            matches!(error, ControlError::NotASocket { .. }),
            "{error:?}"
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "precious");
    }

    #[test]
    fn a_successors_socket_is_not_removed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vipd.sock");
        let server = ControlServer::bind(&path).unwrap();
        // Someone removed ours and put their own there.
        std::fs::remove_file(&path).unwrap();
        let theirs = StdUnixListener::bind(&path).unwrap();
        drop(server);
        assert!(path.exists());
        drop(theirs);
    }

    #[test]
    fn only_root_is_authorized() {
        assert!(authorize(0).is_ok());
        let message = authorize(1000).unwrap_err();
        assert!(
            message.contains("root only") && message.contains("uid 1000"),
            "{message}"
        );
    }

    #[test]
    fn the_client_says_when_no_vipd_is_listening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vipd.sock");
        let error = client::fetch_status(&path).unwrap_err();
        assert!(matches!(error, ClientError::NotRunning { .. }));
        assert_eq!(
            error.to_string(),
            format!(
                "no vipd is listening on {}: is it running? (systemctl status vipd)",
                path.display()
            )
        );
        // A stale socket file reads the same to the user.
        drop(StdUnixListener::bind(&path).unwrap());
        assert!(matches!(
            client::fetch_status(&path),
            Err(ClientError::NotRunning { .. })
        ));
    }

    /// The SO_PEERCRED check itself, with the file modes opened up so that only it stands
    /// between a non-root process and the status: a forked child drops to `nobody` and asks.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_non_root_peer_is_refused() {
        use std::ffi::CString;
        use std::os::unix::ffi::OsStrExt;

        if !nix::unistd::Uid::effective().is_root() {
            panic!("this test needs root (it drops a child to nobody)");
        }
        let dir = tempfile::tempdir().unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let path = dir.path().join("vipd.sock");
        let (board, _feed) = board_with_one_instance();
        let (_stop, _task) = start(&path, board);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666)).unwrap();

        // Everything the child needs is prepared before fork: after it, only system calls.
        let c_path = CString::new(path.as_os_str().as_bytes()).unwrap();
        let mut addr: libc::sockaddr_un = unsafe { std::mem::zeroed() };
        addr.sun_family = libc::AF_UNIX as libc::sa_family_t;
        for (dst, src) in addr.sun_path.iter_mut().zip(c_path.as_bytes_with_nul()) {
            *dst = *src as libc::c_char;
        }
        let request = b"{\"cmd\":\"status\"}\n";
        let expected = b"root only";

        // SAFETY: the child only makes system calls on memory prepared above, then _exits.
        match unsafe { nix::unistd::fork() }.unwrap() {
            nix::unistd::ForkResult::Child => unsafe {
                let code = (|| {
                    if libc::setgid(65534) != 0 || libc::setuid(65534) != 0 {
                        return 2;
                    }
                    let fd = libc::socket(libc::AF_UNIX, libc::SOCK_STREAM, 0);
                    let len = std::mem::size_of::<libc::sockaddr_un>() as libc::socklen_t;
                    if fd < 0
                        || libc::connect(fd, &addr as *const _ as *const libc::sockaddr, len) != 0
                    {
                        return 3;
                    }
                    libc::write(fd, request.as_ptr().cast(), request.len());
                    let mut buf = [0u8; 1024];
                    let mut got = 0usize;
                    loop {
                        let n = libc::read(fd, buf[got..].as_mut_ptr().cast(), buf.len() - got);
                        if n <= 0 {
                            break;
                        }
                        got += n as usize;
                        if got == buf.len() {
                            break;
                        }
                    }
                    let answer = &buf[..got];
                    let refused = answer.windows(expected.len()).any(|w| w == expected);
                    let has_status = answer.windows(8).any(|w| w == b"\"status\"");
                    if refused && !has_status {
                        0
                    } else {
                        4
                    }
                })();
                libc::_exit(code);
            },
            nix::unistd::ForkResult::Parent { child } => {
                let status =
                    tokio::task::spawn_blocking(move || nix::sys::wait::waitpid(child, None))
                        .await
                        .unwrap()
                        .unwrap();
                assert_eq!(
                    status,
                    nix::sys::wait::WaitStatus::Exited(child, 0),
                    "2: setuid failed, 3: connect failed, 4: not refused"
                );
            }
        }
    }
}
