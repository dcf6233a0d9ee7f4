//! Whether vipd may run a script, decided once per configuration load as keepalived decides it
//! at start-up (`check_script_secure` in keepalived's lib/notify.c). This module owns the file
//! system side: finding the program, whether the script user may execute it, and whether a
//! non-root user could change what runs. Who the script user is, and what happens to a refused
//! script, belong to the daemon (`daemon::scripts`).
//!
//! The rules, in keepalived's order:
//! 1. A bare program name (no `/`) is looked up in `PATH`; it resolves to the first regular file
//!    there that the script user may execute, and that full path is what runs.
//! 2. The file (after symlinks) must exist, and the script user must be able to execute it by
//!    its mode bits (uid 0: any execute bit; the owner: the user bit; the file's group: the
//!    group bit; anyone else: the other bit). Scripts run with no supplementary groups, so
//!    only the one group counts.
//! 3. Only a script that runs with root's power needs its path checked: one run as uid 0 or
//!    gid 0, or a set-user-id-root or set-group-id-root executable. A script run as an
//!    unprivileged user can do no more harm than that user could anyway.
//! 4. Such a script is unsafe when any component of its path, as written and after symlinks,
//!    is owned by a user other than root, or is a regular file or a directory without the
//!    sticky bit that is writable by its group (unless that group is root's, gid 0) or by
//!    everyone. A root-owned sticky directory such as `/tmp` is safe: nobody but root can
//!    replace root's files in it. A symlink itself has no permissions that matter, only its
//!    owner.
//!
//! With script security on, an unsafe script is refused; with it off, it runs and is reported.
//! A missing, unreachable or non-executable script is refused either way, since it could never
//! run.
//!
//! Where vipd differs from keepalived 2.4.3, on purpose: keepalived requires every directory
//! in the path as written to be a real directory, so `/bin/check` on a system where `/bin` is
//! a symlink to `usr/bin` would be refused; vipd accepts a root-owned symlink there, because
//! the walk of the real path checks what it points to. keepalived also resolves the path as the
//! script user (it changes its effective ids for a moment); vipd resolves it as itself, so a
//! path the script user cannot traverse is found at exec time instead, as a failed start.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};

/// The uid and gid a script will run with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ids {
    pub uid: u32,
    pub gid: u32,
}

impl Ids {
    pub const ROOT: Ids = Ids { uid: 0, gid: 0 };

    fn is_privileged(self) -> bool {
        self.uid == 0 || self.gid == 0
    }
}

/// Why a path component makes a script unsafe to run with root's power.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exposure {
    /// Owned by a user other than root, who could rewrite or replace it.
    NotRootOwned { uid: u32 },
    /// Writable by a group other than root's.
    GroupWritable { gid: u32 },
    /// Writable by everyone (a directory without the sticky bit, or a file).
    WorldWritable,
}

impl fmt::Display for Exposure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Exposure::NotRootOwned { uid } => write!(f, "is owned by uid {uid}, not root"),
            Exposure::GroupWritable { gid } => write!(f, "is writable by group {gid}"),
            Exposure::WorldWritable => write!(f, "is writable by everyone"),
        }
    }
}

/// A path component a non-root user could use to change what a script runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsafe {
    pub component: PathBuf,
    pub exposure: Exposure,
}

impl fmt::Display for Unsafe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.component.display(), self.exposure)
    }
}

/// Why a script will not be run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("`{0}` is not in PATH as an executable file for the script user: give its full path")]
    NotInPath(String),
    #[error("{}: {reason}", path.display())]
    Unreachable { path: PathBuf, reason: String },
    #[error("{} is not executable for uid {} gid {} (check its mode)", path.display(), ids.uid, ids.gid)]
    NotExecutable { path: PathBuf, ids: Ids },
    #[error("{} in its path is not a directory or a symlink", component.display())]
    NotADirectory { component: PathBuf },
    #[error("{} is not a regular file", path.display())]
    NotAFile { path: PathBuf },
    #[error(
        "it would run as root but {0}: make the path writable by root only, or run the script as \
         an unprivileged script user"
    )]
    Unsafe(Unsafe),
}

/// A script that may run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cleared {
    /// What to execute: the configured program, or its full path if it was found in `PATH`.
    pub program: String,
    /// Set when the program was a bare name found in `PATH` (worth a warning: give the path).
    pub found_in_path: bool,
    /// An unsafe path that runs anyway because script security is off (worth a warning).
    pub unsafe_path: Option<Unsafe>,
}

/// Decides whether `program` (a script's `argv[0]`) may run as `ids`; `enforce` is script
/// security. `path_var` is the `PATH` to search for a bare name.
pub fn clear(program: &str, ids: Ids, enforce: bool, path_var: &OsStr) -> Result<Cleared, Refusal> {
    let (written, found_in_path) = if program.contains('/') {
        (PathBuf::from(program), false)
    } else {
        let found = search_path(program, ids, path_var)
            .ok_or_else(|| Refusal::NotInPath(program.to_owned()))?;
        (found, true)
    };
    let unreachable = |path: &Path, error: std::io::Error| Refusal::Unreachable {
        path: path.to_owned(),
        reason: error.to_string(),
    };
    let real = std::fs::canonicalize(&written).map_err(|e| unreachable(&written, e))?;
    let file = std::fs::metadata(&real).map_err(|e| unreachable(&real, e))?;
    if !file.is_file() {
        return Err(Refusal::NotAFile { path: real });
    }
    if !executable_by(&file, ids) {
        return Err(Refusal::NotExecutable { path: real, ids });
    }
    let mut unsafe_path = None;
    if ids.is_privileged() || raises_to_root(&file) {
        let written = std::path::absolute(&written).map_err(|e| unreachable(&written, e))?;
        unsafe_path = exposure_of(&lexically_clean(&written))?;
        if unsafe_path.is_none() {
            unsafe_path = exposure_of(&real)?;
        }
    }
    match unsafe_path {
        Some(found) if enforce => Err(Refusal::Unsafe(found)),
        unsafe_path => Ok(Cleared {
            program: if found_in_path {
                written.to_string_lossy().into_owned()
            } else {
                program.to_owned()
            },
            found_in_path,
            unsafe_path,
        }),
    }
}

/// The first regular file named `name` in `path_var` that `ids` may execute.
fn search_path(name: &str, ids: Ids, path_var: &OsStr) -> Option<PathBuf> {
    std::env::split_paths(path_var)
        // An empty entry means the current directory to a shell; a daemon has none worth
        // searching.
        .filter(|dir| dir.is_absolute())
        .map(|dir| dir.join(name))
        .find(|candidate| {
            std::fs::metadata(candidate).is_ok_and(|m| m.is_file() && executable_by(&m, ids))
        })
}

/// Whether `ids` may execute a file with this mode and ownership, judged from the mode bits
/// alone the way the kernel judges a process with no supplementary groups.
fn executable_by(file: &std::fs::Metadata, ids: Ids) -> bool {
    let mode = file.mode();
    if ids.uid == 0 {
        mode & 0o111 != 0
    } else if ids.uid == file.uid() {
        mode & 0o100 != 0
    } else if ids.gid == file.gid() {
        mode & 0o010 != 0
    } else {
        mode & 0o001 != 0
    }
}

/// A set-user-id-root or set-group-id-root executable runs with root's power whoever starts it.
fn raises_to_root(file: &std::fs::Metadata) -> bool {
    let mode = file.mode();
    (file.uid() == 0 && mode & 0o4100 == 0o4100) || (file.gid() == 0 && mode & 0o2010 == 0o2010)
}

/// `path` without `.`, `..` and repeated slashes, without following anything: the path the way
/// it was written, whose every component (links included) is checked.
fn lexically_clean(path: &Path) -> PathBuf {
    let mut clean = PathBuf::new();
    for component in path.components() {
        match component {
            Component::ParentDir => {
                clean.pop();
            }
            Component::CurDir => {}
            other => clean.push(other),
        }
    }
    clean
}

/// Walks `path` (absolute) from `/` down, not following symlinks, and returns the first
/// component a non-root user could use to change what runs. Every component but the last must
/// be a directory or a symlink; the last a regular file or a symlink.
pub fn exposure_of(path: &Path) -> Result<Option<Unsafe>, Refusal> {
    let mut prefix = PathBuf::new();
    let mut components = path.components().peekable();
    while let Some(component) = components.next() {
        prefix.push(component);
        let last = components.peek().is_none();
        let meta = std::fs::symlink_metadata(&prefix).map_err(|e| Refusal::Unreachable {
            path: prefix.clone(),
            reason: e.to_string(),
        })?;
        let kind = meta.file_type();
        let expected = if last { kind.is_file() } else { kind.is_dir() };
        if !(expected || kind.is_symlink()) {
            return Err(if last {
                Refusal::NotAFile { path: prefix }
            } else {
                Refusal::NotADirectory { component: prefix }
            });
        }
        if let Some(exposure) = exposure(&meta) {
            return Ok(Some(Unsafe {
                component: prefix,
                exposure,
            }));
        }
    }
    Ok(None)
}

/// Why one component (its own metadata, not its target's) is unsafe, if it is.
fn exposure(meta: &std::fs::Metadata) -> Option<Exposure> {
    const STICKY: u32 = 0o1000;
    let mode = meta.permissions().mode();
    let kind = meta.file_type();
    let guarded = kind.is_dir() && mode & STICKY != 0;
    if meta.uid() != 0 {
        Some(Exposure::NotRootOwned { uid: meta.uid() })
    } else if kind.is_symlink() || guarded {
        None
    } else if meta.gid() != 0 && mode & 0o020 != 0 {
        Some(Exposure::GroupWritable { gid: meta.gid() })
    } else if mode & 0o002 != 0 {
        Some(Exposure::WorldWritable)
    } else {
        None
    }
}

/// The PATH a bare script name is searched in: vipd's own, or the system default when it has
/// none (a daemon started with an empty environment).
pub fn search_path_var() -> OsString {
    std::env::var_os("PATH")
        .unwrap_or_else(|| "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into())
}
