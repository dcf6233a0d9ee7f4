use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use super::eventually;
use crate::health::command::{run, CommandOutcome, CommandSpec, ScriptUser, UserLookupError};

fn sh(script: &str, timeout: Duration) -> CommandSpec {
    CommandSpec {
        argv: vec!["/bin/sh".into(), "-c".into(), script.into(), "sh".into()],
        user: None,
        timeout,
    }
}

/// True while `pid` is a live process; a zombie (killed, not yet reaped by its new parent)
/// counts as dead.
fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => false,
        // The state follows the parenthesised command name: "pid (comm) S ...".
        Ok(stat) => !stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with(['Z', 'X'])),
    }
}

fn read_pid(path: &Path) -> i32 {
    std::fs::read_to_string(path)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn exit_statuses_are_reported() {
    let long = Duration::from_secs(60);
    assert_eq!(
        run(&sh("exit 0", long), &[], "t").await.unwrap(),
        CommandOutcome::Exited(0)
    );
    assert_eq!(
        run(&sh("exit 3", long), &[], "t").await.unwrap(),
        CommandOutcome::Exited(3)
    );
    assert_eq!(
        run(&sh("kill -TERM $$", long), &[], "t").await.unwrap(),
        CommandOutcome::Signaled(libc::SIGTERM)
    );
    assert!(CommandOutcome::Exited(0).success());
    assert!(!CommandOutcome::Exited(1).success());
    assert!(!CommandOutcome::TimedOut.success());
}

#[tokio::test]
async fn extra_arguments_follow_the_configured_ones() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("args");
    let spec = CommandSpec {
        argv: vec![
            "/bin/sh".into(),
            "-c".into(),
            format!("echo \"$*\" > {}", out.display()),
            "sh".into(),
            "configured".into(),
        ],
        user: None,
        timeout: Duration::from_secs(60),
    };
    run(&spec, &["INSTANCE", "VI_1"], "t").await.unwrap();
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        "configured INSTANCE VI_1\n"
    );
}

/// A script that forks a child and sleeps past its timeout: the whole group dies, and the
/// script itself is reaped (no zombie left).
#[tokio::test]
async fn timeout_kills_the_whole_process_group_and_reaps() {
    let dir = tempfile::tempdir().unwrap();
    let child_pid = dir.path().join("child");
    let script_pid = dir.path().join("script");
    let script = format!(
        "echo $$ > {script}; sleep 1000 & echo $! > {child}; sleep 1000",
        script = script_pid.display(),
        child = child_pid.display()
    );
    let outcome = run(&sh(&script, Duration::from_millis(500)), &[], "sleeper")
        .await
        .unwrap();
    assert_eq!(outcome, CommandOutcome::TimedOut);

    let script = read_pid(&script_pid);
    assert!(
        !Path::new(&format!("/proc/{script}")).exists(),
        "the script was reaped, not left as a zombie"
    );
    let child = read_pid(&child_pid);
    eventually("the script's background child is killed", || !alive(child)).await;
}

#[tokio::test]
async fn no_zombie_after_a_normal_exit() {
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("pid");
    let script = format!("echo $$ > {}", pid_file.display());
    run(&sh(&script, Duration::from_secs(60)), &[], "t")
        .await
        .unwrap();
    let pid = read_pid(&pid_file);
    assert!(!Path::new(&format!("/proc/{pid}")).exists());
}

#[tokio::test]
async fn runs_as_the_script_user() {
    let nobody = ScriptUser::lookup("nobody", None).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let out = dir.path().join("id");
    let mut spec = sh(
        &format!("echo $(id -u) $(id -g) $(id -G) > {}", out.display()),
        Duration::from_secs(60),
    );
    spec.user = Some(nobody.clone());
    assert_eq!(
        run(&spec, &[], "t").await.unwrap(),
        CommandOutcome::Exited(0)
    );
    let id = std::fs::read_to_string(&out).unwrap();
    assert_eq!(
        id.trim(),
        format!("{0} {1} {1}", nobody.uid, nobody.gid),
        "uid, gid, and no supplementary groups left over from root"
    );
}

#[test]
fn unknown_users_and_groups_are_named() {
    let error = ScriptUser::lookup("vipd-no-such-user", None).unwrap_err();
    assert!(matches!(error, UserLookupError::NoSuchUser(ref name) if name == "vipd-no-such-user"));
    let error = ScriptUser::lookup("nobody", Some("vipd-no-such-group")).unwrap_err();
    assert!(matches!(error, UserLookupError::NoSuchGroup(_)));
    let root = ScriptUser::lookup("nobody", Some("root")).unwrap();
    assert_eq!(root.gid, 0);
}

#[tokio::test]
async fn a_missing_program_is_a_spawn_error() {
    let spec = CommandSpec {
        argv: vec!["/nonexistent/check".into()],
        user: None,
        timeout: Duration::from_secs(1),
    };
    assert!(run(&spec, &[], "t").await.is_err());
    let empty = CommandSpec {
        argv: vec![],
        ..spec
    };
    assert!(run(&empty, &[], "t").await.is_err());
}
