use std::time::Duration;

use tokio::sync::mpsc;

use super::{alive, eventually, next_check_event};
use crate::health::{spawn_check, CheckKind, CheckSpec, TrackStatus};

/// A script check whose exit status the test flips through a file.
#[tokio::test]
async fn script_check_follows_the_exit_status() {
    let dir = tempfile::tempdir().unwrap();
    let status_file = dir.path().join("status");
    std::fs::write(&status_file, "0").unwrap();
    let (events, mut received) = mpsc::unbounded_channel();
    let spec = CheckSpec {
        name: "script".into(),
        kind: CheckKind::Script {
            argv: vec![
                "/bin/sh".into(),
                "-c".into(),
                format!("exit $(cat {})", status_file.display()),
            ],
            user: None,
        },
        interval: Duration::from_millis(10),
        timeout: Duration::from_secs(30),
        rise: 2,
        fall: 2,
        init_fail: false,
    };
    let check = spawn_check(spec, events).unwrap();
    assert_eq!(check.snapshot().status, TrackStatus::Init);
    assert_eq!(next_check_event(&mut received).await.1, TrackStatus::Up);

    std::fs::write(&status_file, "1").unwrap();
    assert_eq!(next_check_event(&mut received).await.1, TrackStatus::Down);
    assert!(check.snapshot().last_failure.unwrap().contains("Exited(1)"));
}

#[tokio::test]
async fn a_script_overrunning_its_timeout_fails() {
    let (events, mut received) = mpsc::unbounded_channel();
    let spec = CheckSpec {
        name: "slow".into(),
        kind: CheckKind::Script {
            argv: vec!["/bin/sleep".into(), "1000".into()],
            user: None,
        },
        interval: Duration::from_millis(10),
        timeout: Duration::from_millis(200),
        rise: 1,
        fall: 1,
        init_fail: false,
    };
    let check = spawn_check(spec, events).unwrap();
    assert_eq!(next_check_event(&mut received).await.1, TrackStatus::Down);
    assert!(check.snapshot().last_failure.unwrap().contains("timed out"));
}

/// Dropping a check's handle (reload, shutdown) kills the script it is running, with its
/// children.
#[tokio::test]
async fn dropping_a_check_kills_its_running_script() {
    let dir = tempfile::tempdir().unwrap();
    let pids = dir.path().join("pids");
    let (events, _received) = mpsc::unbounded_channel();
    let spec = CheckSpec {
        name: "long".into(),
        kind: CheckKind::Script {
            argv: vec![
                "/bin/sh".into(),
                "-c".into(),
                format!("sleep 1000 & echo $$ $! > {}; wait", pids.display()),
            ],
            user: None,
        },
        interval: Duration::from_secs(1000),
        timeout: Duration::from_secs(1000),
        rise: 1,
        fall: 1,
        init_fail: false,
    };
    let check = spawn_check(spec, events).unwrap();
    eventually("the script started", || {
        std::fs::read_to_string(&pids).is_ok_and(|text| text.split_whitespace().count() == 2)
    })
    .await;
    drop(check);
    let text = std::fs::read_to_string(&pids).unwrap();
    for pid in text.split_whitespace() {
        let pid: i32 = pid.parse().unwrap();
        eventually("the script and its child are killed", || !alive(pid)).await;
    }
}
