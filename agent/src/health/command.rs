//! Running an external command the way vipd runs every script (check scripts and notify
//! commands alike): as the configured script user, in a process group of its own, with a
//! timeout that kills the whole group, reaped so that no zombie is left behind, and with its
//! stdout and stderr copied line by line into tracing at debug level.
//!
//! Why a process group: a script commonly forks (`curl | grep`, a shell running a pipeline,
//! a helper left in the background). Killing only the direct child on timeout would leave the
//! grandchildren running and holding the check's pipes. The child calls `setpgid(0, 0)` before
//! exec (`process_group(0)`), so its pid is the group id and `kill(-pgid, SIGKILL)` reaches
//! every descendant that did not deliberately leave the group.
//!
//! keepalived sends SIGTERM on timeout and SIGKILL two seconds later (`vrrp_script_child_thread`
//! and `vrrp_script_child_timeout_thread` in keepalived/vrrp/vrrp_scheduler.c); vipd goes
//! straight to SIGKILL for the group: a check that overran its timeout has already failed, and
//! a grace period would only delay the next run.
//!
//! A command that exits on its own leaves any descendants it started in the background alone
//! (a notify script may legitimately start something); only a timeout or cancellation kills
//! the group.

use std::ffi::OsStr;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use nix::sys::signal::{killpg, Signal};
use nix::unistd::{Group, Pid, User};
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::Command;

/// The identity a script runs as: keepalived's `script_user username [groupname]`.
/// The group defaults to the user's primary group, as in keepalived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptUser {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
}

/// Why a `script_user` could not be resolved.
#[derive(Debug, thiserror::Error)]
pub enum UserLookupError {
    #[error("script user {0:?} does not exist: create it or name another user in script_user")]
    NoSuchUser(String),
    #[error("script group {0:?} does not exist: create it or name another group in script_user")]
    NoSuchGroup(String),
    #[error("looking up script user or group {name:?} failed: {source}")]
    Lookup {
        name: String,
        #[source]
        source: nix::Error,
    },
}

impl ScriptUser {
    /// Resolves a user name (and optionally a group name) through the system's user database.
    pub fn lookup(user: &str, group: Option<&str>) -> Result<Self, UserLookupError> {
        let found = User::from_name(user)
            .map_err(|source| UserLookupError::Lookup {
                name: user.to_owned(),
                source,
            })?
            .ok_or_else(|| UserLookupError::NoSuchUser(user.to_owned()))?;
        let gid = match group {
            None => found.gid.as_raw(),
            Some(group) => Group::from_name(group)
                .map_err(|source| UserLookupError::Lookup {
                    name: group.to_owned(),
                    source,
                })?
                .ok_or_else(|| UserLookupError::NoSuchGroup(group.to_owned()))?
                .gid
                .as_raw(),
        };
        Ok(Self {
            name: user.to_owned(),
            uid: found.uid.as_raw(),
            gid,
        })
    }
}

/// One external command: the program and its arguments (no shell is involved, as in
/// keepalived, which splits the configured string into arguments itself), who runs it and
/// how long it may take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandSpec {
    /// `argv[0]` is the program; must not be empty.
    pub argv: Vec<String>,
    /// `None` runs the command as vipd's own user.
    pub user: Option<ScriptUser>,
    pub timeout: Duration,
}

/// How a command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandOutcome {
    /// It exited on its own with this status.
    Exited(i32),
    /// It was killed by this signal (not by vipd's timeout).
    Signaled(i32),
    /// It overran its timeout; its whole process group was killed.
    TimedOut,
}

impl CommandOutcome {
    /// keepalived counts only exit status 0 as success; a timeout is a failure.
    pub fn success(self) -> bool {
        self == CommandOutcome::Exited(0)
    }
}

/// Why a command could not be run to a known end.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error("empty command: configure the program to run")]
    EmptyCommand,
    #[error("cannot start {program:?}: {source} (check the path, its execute bit, and that the script user may run it)")]
    Spawn {
        program: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "lost track of {program:?} while waiting for it: {source} (its process group was killed)"
    )]
    Wait {
        program: String,
        #[source]
        source: std::io::Error,
    },
}

/// Kills the child's process group if the future running the command is dropped before the
/// child was reaped (a check runner aborted on reload or shutdown), so cancellation cannot
/// leave a script running. Once the child is reaped its pid may be reused, so the guard is
/// disarmed at that point and never signals a stranger's group.
struct GroupGuard {
    pgid: Option<Pid>,
}

impl GroupGuard {
    fn kill(&self) {
        if let Some(pgid) = self.pgid {
            // ESRCH only means the group is already gone.
            let _ = killpg(pgid, Signal::SIGKILL);
        }
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Runs `spec` with `extra_args` appended (the notify arguments), waits for it up to its
/// timeout, and returns how it ended. `label` names the command in the debug log lines that
/// carry its output.
pub async fn run(
    spec: &CommandSpec,
    extra_args: &[&str],
    label: &str,
) -> Result<CommandOutcome, CommandError> {
    let (program, args) = spec.argv.split_first().ok_or(CommandError::EmptyCommand)?;
    let mut command = Command::new(program);
    command
        .args(args)
        .args(extra_args.iter().map(OsStr::new))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        // As keepalived does: a script must not inherit what would change how it is loaded or
        // how its shell splits words, whatever vipd itself was started with.
        .env_remove("IFS")
        .env_remove("LD_PRELOAD")
        .env_remove("LD_LIBRARY_PATH")
        // Belt and braces next to GroupGuard: tokio reaps a dropped child in the background.
        .kill_on_drop(true);
    if let Some(user) = &spec.user {
        // setgid, then setuid, in the child before exec; std drops root's supplementary groups
        // (setgroups(0)) when a uid is set, so the script has the one group it was given, as
        // under keepalived (which sets the list to that group alone).
        command.uid(user.uid).gid(user.gid);
    }
    let mut child = command.spawn().map_err(|source| CommandError::Spawn {
        program: program.clone(),
        source,
    })?;
    let mut guard = GroupGuard {
        pgid: child.id().map(|pid| Pid::from_raw(pid as i32)),
    };
    let pid = child.id().unwrap_or_default();
    if let Some(stdout) = child.stdout.take() {
        tokio::spawn(log_lines(stdout, label.to_owned(), pid, "stdout"));
    }
    if let Some(stderr) = child.stderr.take() {
        tokio::spawn(log_lines(stderr, label.to_owned(), pid, "stderr"));
    }

    let outcome = match tokio::time::timeout(spec.timeout, child.wait()).await {
        Ok(Ok(status)) => outcome_of(status),
        Ok(Err(source)) => {
            // The child is lost to us: make sure nothing of it keeps running.
            guard.kill();
            guard.pgid = None;
            return Err(CommandError::Wait {
                program: program.clone(),
                source,
            });
        }
        Err(_elapsed) => {
            // debug, not warn: a check that keeps timing out would flood the log at its
            // interval; callers log what matters (a check's transition, a notify failure).
            tracing::debug!(command = label, timeout = ?spec.timeout, "command timed out; killing its process group");
            guard.kill();
            // Reap the direct child now; the orphaned descendants were killed too and are
            // reaped by init (or the nearest subreaper).
            if let Err(error) = child.wait().await {
                tracing::warn!(command = label, %error, "reaping killed command failed");
            }
            CommandOutcome::TimedOut
        }
    };
    guard.pgid = None;
    Ok(outcome)
}

fn outcome_of(status: ExitStatus) -> CommandOutcome {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => CommandOutcome::Exited(code),
        (None, Some(signal)) => CommandOutcome::Signaled(signal),
        // Neither code nor signal only happens for stopped/continued, which wait() never reports.
        (None, None) => CommandOutcome::Signaled(0),
    }
}

/// Copies a command's output into tracing. It runs detached from the command's own wait so
/// that a descendant which keeps the pipe open (a daemon started by a notify script) never
/// holds up the caller; the task ends when the last writer closes the pipe.
async fn log_lines(stream: impl AsyncRead + Unpin, label: String, pid: u32, which: &'static str) {
    let mut reader = BufReader::new(stream);
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line).await {
            Ok(0) => break,
            Ok(_) => {
                // Output that is not UTF-8 is still logged rather than cutting the pipe, which
                // would hand the script an EPIPE it did not deserve.
                let text = String::from_utf8_lossy(&line);
                let text = text.trim_end_matches(['\n', '\r']);
                tracing::debug!(command = %label, pid, stream = which, "{text}");
            }
            Err(error) => {
                tracing::debug!(command = %label, pid, stream = which, %error, "stopped reading command output");
                break;
            }
        }
    }
}
