//! The script security rules against a real directory tree, changed with chmod and chown. The
//! tests run as root (as vipd does); the tree lives in a fresh temporary directory that root
//! owns with mode 0700 under the sticky, root-owned /tmp, so the tree starts out safe and each
//! test makes exactly one thing unsafe.

use std::ffi::OsStr;
use std::fs::{self, Permissions};
use std::os::unix::fs::{chown, lchown, symlink, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::health::script_security::{clear, exposure_of, Exposure, Ids, Refusal, Unsafe};
use crate::health::ScriptUser;

struct Tree {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

impl Tree {
    /// `<tmp>/bin/check` (0755) in `<tmp>/bin` (0755), all root's.
    fn new() -> Tree {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_owned();
        let tree = Tree { _dir: dir, root };
        tree.dir("bin", 0o755);
        tree.script("bin/check", 0o755);
        tree
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.root.join(relative)
    }

    fn dir(&self, relative: &str, mode: u32) -> PathBuf {
        let path = self.path(relative);
        fs::create_dir_all(&path).unwrap();
        chmod(&path, mode);
        path
    }

    fn script(&self, relative: &str, mode: u32) -> PathBuf {
        let path = self.path(relative);
        fs::write(&path, "#!/bin/sh\nexit 0\n").unwrap();
        chmod(&path, mode);
        path
    }

    fn check(&self) -> String {
        self.path("bin/check").display().to_string()
    }
}

fn chmod(path: &Path, mode: u32) {
    fs::set_permissions(path, Permissions::from_mode(mode)).unwrap();
}

fn nobody() -> ScriptUser {
    ScriptUser::lookup("nobody", None).unwrap()
}

fn nobody_ids() -> Ids {
    let nobody = nobody();
    Ids {
        uid: nobody.uid,
        gid: nobody.gid,
    }
}

const NO_PATH: &str = "";

fn clear_root(program: &str, enforce: bool) -> Result<Option<Unsafe>, Refusal> {
    clear(program, Ids::ROOT, enforce, OsStr::new(NO_PATH)).map(|c| c.unsafe_path)
}

#[test]
fn a_root_only_path_is_safe() {
    let tree = Tree::new();
    assert_eq!(exposure_of(&tree.path("bin/check")), Ok(None));
    assert_eq!(clear_root(&tree.check(), true), Ok(None));
}

#[test]
fn a_world_writable_directory_is_refused_with_security_on_and_reported_with_it_off() {
    let tree = Tree::new();
    let bin = tree.dir("bin", 0o777);
    let expected = Unsafe {
        component: bin,
        exposure: Exposure::WorldWritable,
    };
    assert_eq!(
        clear_root(&tree.check(), true),
        Err(Refusal::Unsafe(expected.clone()))
    );
    assert_eq!(clear_root(&tree.check(), false), Ok(Some(expected)));
}

#[test]
fn a_root_owned_sticky_directory_is_safe_even_if_world_writable() {
    let tree = Tree::new();
    tree.dir("bin", 0o1777);
    assert_eq!(clear_root(&tree.check(), true), Ok(None));
}

#[test]
fn a_directory_writable_by_a_group_other_than_root_is_unsafe() {
    let tree = Tree::new();
    let bin = tree.dir("bin", 0o775);
    assert_eq!(clear_root(&tree.check(), true), Ok(None), "group root");
    let gid = nobody().gid;
    chown(&bin, None, Some(gid)).unwrap();
    assert_eq!(
        exposure_of(&tree.path("bin/check")),
        Ok(Some(Unsafe {
            component: bin,
            exposure: Exposure::GroupWritable { gid },
        }))
    );
}

#[test]
fn a_script_or_directory_owned_by_another_user_is_unsafe_whatever_its_mode() {
    let tree = Tree::new();
    let uid = nobody().uid;
    let check = tree.path("bin/check");
    chown(&check, Some(uid), None).unwrap();
    assert_eq!(
        clear_root(&tree.check(), true),
        Err(Refusal::Unsafe(Unsafe {
            component: check.clone(),
            exposure: Exposure::NotRootOwned { uid },
        }))
    );
    chown(&check, Some(0), None).unwrap();
    let bin = tree.path("bin");
    chown(&bin, Some(uid), None).unwrap();
    assert_eq!(
        exposure_of(&check),
        Ok(Some(Unsafe {
            component: bin,
            exposure: Exposure::NotRootOwned { uid },
        }))
    );
}

#[test]
fn a_file_in_the_middle_of_a_path_is_refused() {
    let tree = Tree::new();
    assert_eq!(
        exposure_of(&tree.path("bin/check/x")),
        Err(Refusal::NotADirectory {
            component: tree.path("bin/check")
        })
    );
}

#[test]
fn a_world_writable_script_is_unsafe() {
    let tree = Tree::new();
    let check = tree.script("bin/check", 0o757);
    assert_eq!(
        exposure_of(&check),
        Ok(Some(Unsafe {
            component: check,
            exposure: Exposure::WorldWritable,
        }))
    );
}

#[test]
fn a_safe_symlink_to_a_script_in_an_unsafe_directory_is_refused() {
    let tree = Tree::new();
    let open = tree.dir("open", 0o777);
    tree.script("open/real", 0o755);
    let link = tree.path("bin/link");
    symlink(tree.path("open/real"), &link).unwrap();
    assert_eq!(exposure_of(&link), Ok(None), "the link's own path is safe");
    assert_eq!(
        clear_root(&link.display().to_string(), true),
        Err(Refusal::Unsafe(Unsafe {
            component: open,
            exposure: Exposure::WorldWritable,
        })),
        "the real path is walked too"
    );
}

#[test]
fn a_symlink_owned_by_another_user_is_unsafe_and_a_root_one_in_the_path_is_not() {
    let tree = Tree::new();
    let link = tree.path("bin/link");
    symlink(tree.path("bin/check"), &link).unwrap();
    let uid = nobody().uid;
    lchown(&link, Some(uid), None).unwrap();
    assert_eq!(
        exposure_of(&link),
        Ok(Some(Unsafe {
            component: link,
            exposure: Exposure::NotRootOwned { uid },
        }))
    );
    // A directory reached through a root-owned link, as /bin -> usr/bin.
    symlink(tree.path("bin"), tree.path("linked")).unwrap();
    let through = tree.path("linked/check").display().to_string();
    assert_eq!(clear_root(&through, true), Ok(None));
}

#[test]
fn the_written_path_is_checked_without_its_dot_dot() {
    let tree = Tree::new();
    tree.dir("open", 0o777);
    let written = format!("{}/open/../bin/check", tree.root.display());
    assert_eq!(
        clear_root(&written, true),
        Ok(None),
        "open is not on the path"
    );
    let written = format!("{}/bin/../open/x/../../bin/check", tree.root.display());
    tree.dir("open/x", 0o755);
    assert_eq!(clear_root(&written, true), Ok(None));
}

#[test]
fn a_script_run_as_an_unprivileged_user_is_not_path_checked() {
    let tree = Tree::new();
    tree.dir("bin", 0o777);
    let cleared = clear(&tree.check(), nobody_ids(), true, OsStr::new(NO_PATH)).unwrap();
    assert_eq!(cleared.unsafe_path, None);
    // Unless it is set-user-id root: then it runs with root's power whoever starts it.
    tree.script("bin/check", 0o4755);
    assert!(matches!(
        clear(&tree.check(), nobody_ids(), true, OsStr::new(NO_PATH)),
        Err(Refusal::Unsafe(_))
    ));
}

#[test]
fn a_script_run_as_group_root_is_path_checked() {
    let tree = Tree::new();
    tree.dir("bin", 0o777);
    chmod(&tree.path("bin/check"), 0o755);
    let ids = Ids {
        uid: nobody().uid,
        gid: 0,
    };
    assert!(matches!(
        clear(&tree.check(), ids, true, OsStr::new(NO_PATH)),
        Err(Refusal::Unsafe(_))
    ));
}

#[test]
fn a_script_the_user_cannot_execute_or_that_is_missing_is_refused_even_with_security_off() {
    let tree = Tree::new();
    tree.script("bin/check", 0o744);
    assert_eq!(
        clear_root(&tree.check(), false),
        Ok(None),
        "root: any x bit"
    );
    assert!(matches!(
        clear(&tree.check(), nobody_ids(), false, OsStr::new(NO_PATH)),
        Err(Refusal::NotExecutable { .. })
    ));
    // The owner is judged by the owner's bit alone, as the kernel does.
    let nobody = nobody_ids();
    chown(tree.path("bin/check"), Some(nobody.uid), Some(nobody.gid)).unwrap();
    chmod(&tree.path("bin/check"), 0o700);
    assert!(clear(&tree.check(), nobody, false, OsStr::new(NO_PATH)).is_ok());
    chmod(&tree.path("bin/check"), 0o077);
    assert!(matches!(
        clear(&tree.check(), nobody, false, OsStr::new(NO_PATH)),
        Err(Refusal::NotExecutable { .. })
    ));
    tree.script("bin/check", 0o644);
    chown(tree.path("bin/check"), Some(0), Some(0)).unwrap();
    assert!(matches!(
        clear_root(&tree.check(), false),
        Err(Refusal::NotExecutable { .. })
    ));
    assert!(matches!(
        clear_root(&tree.path("bin/missing").display().to_string(), false),
        Err(Refusal::Unreachable { .. })
    ));
    assert!(matches!(
        clear_root(&tree.path("bin").display().to_string(), false),
        Err(Refusal::NotAFile { .. })
    ));
}

#[test]
fn a_bare_name_is_found_in_path_and_runs_by_its_full_path() {
    let tree = Tree::new();
    let empty = tree.dir("empty", 0o755);
    let path_var = std::env::join_paths([empty, tree.path("bin")]).unwrap();
    let cleared = clear("check", Ids::ROOT, true, &path_var).unwrap();
    assert_eq!(cleared.program, tree.check());
    assert!(cleared.found_in_path);
    assert_eq!(
        clear("vipd-no-such-check", Ids::ROOT, true, &path_var),
        Err(Refusal::NotInPath("vipd-no-such-check".into()))
    );
    // Found, but unsafe: the check applies to the file found.
    tree.dir("bin", 0o777);
    assert!(matches!(
        clear("check", Ids::ROOT, true, &path_var),
        Err(Refusal::Unsafe(_))
    ));
}
