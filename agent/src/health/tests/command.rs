use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use super::{alive, eventually};
use crate::health::command::{run, CommandOutcome, CommandSpec, ScriptUser, UserLookupError};

fn sh(script: &str, timeout: Duration) -> CommandSpec {
    CommandSpec {
        argv: vec!["/bin/sh".into(), "-c".into(), script.into(), "sh".into()],
        user: None,
        timeout,
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

/// A writer that collects everything tracing prints, for asserting on log lines.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// stdout and stderr end up in the log at debug level, each line tagged with the command.
#[tokio::test]
async fn output_is_logged_at_debug() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    // A current-thread runtime: the log-copying tasks run on this thread, under this default.
    let _default = tracing::subscriber::set_default(subscriber);
    let spec = sh(
        "echo hello-from-stdout; echo hello-from-stderr >&2; printf 'no newline'",
        Duration::from_secs(60),
    );
    run(&spec, &[], "chatty").await.unwrap();
    eventually("both streams are logged", || {
        let text = captured.text();
        ["hello-from-stdout", "hello-from-stderr", "no newline"]
            .iter()
            .all(|line| text.contains(line))
    })
    .await;
    let text = captured.text();
    let stdout_line = text
        .lines()
        .find(|line| line.contains("hello-from-stdout"))
        .unwrap();
    assert!(
        stdout_line.contains("DEBUG") && stdout_line.contains("chatty"),
        "{stdout_line}"
    );
    assert!(stdout_line.contains("stdout"));
}
