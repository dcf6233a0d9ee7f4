//! Tests of notify against real scripts and a real FIFO. No wall-clock assertions: waits are
//! "until it happens", bounded by a generous patience.

use std::fs::OpenOptions;
use std::io::{ErrorKind, Read};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::{Notifier, NotifyCommands, NotifyFifoError, NotifyState, NotifyTarget, Subject};
use crate::health::CommandSpec;

const PATIENCE: Duration = Duration::from_secs(60);

/// A command that appends its arguments (after any configured ones) as one line to `log`,
/// after running `before` (a shell snippet).
fn append_args(log: &Path, before: &str) -> CommandSpec {
    CommandSpec {
        argv: vec![
            "/bin/sh".into(),
            "-c".into(),
            format!("{before} echo \"$*\" >> {}", log.display()),
            "sh".into(),
        ],
        user: None,
        timeout: Duration::from_secs(120),
    }
}

fn with_args(mut spec: CommandSpec, args: &[&str]) -> CommandSpec {
    spec.argv.extend(args.iter().map(|arg| arg.to_string()));
    spec
}

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

async fn wait_for_lines(path: &Path, count: usize) -> Vec<String> {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let found = lines(path);
        if found.len() >= count {
            return found;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} has {found:?}, expected {count} lines",
            path.display()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn target(subject: Subject, name: &str, commands: NotifyCommands) -> Arc<NotifyTarget> {
    Arc::new(NotifyTarget {
        subject,
        name: name.into(),
        commands,
    })
}

/// The state's own command runs first, then the generic one with keepalived's four arguments
/// after its configured ones; groups get priority 0.
#[tokio::test]
async fn commands_get_keepalived_arguments() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    let (notifier, done) = Notifier::start(None).unwrap();
    let instance = target(
        Subject::Instance,
        "VI_1",
        NotifyCommands {
            master: Some(with_args(append_args(&log, ""), &["to-master"])),
            fault: Some(with_args(append_args(&log, ""), &["to-fault"])),
            generic: Some(with_args(append_args(&log, ""), &["generic"])),
            ..NotifyCommands::default()
        },
    );
    notifier.notify(&instance, NotifyState::Master, 150);
    notifier.notify(&instance, NotifyState::Backup, 100);
    notifier.notify(&instance, NotifyState::Fault, 100);
    let group = target(
        Subject::Group,
        "VG_1",
        NotifyCommands {
            generic: Some(append_args(&dir.path().join("group"), "")),
            ..NotifyCommands::default()
        },
    );
    notifier.notify(&group, NotifyState::Stop, 200);
    drop(notifier);
    tokio::time::timeout(PATIENCE, done.wait()).await.unwrap();

    assert_eq!(
        lines(&log),
        [
            "to-master",
            "generic INSTANCE VI_1 MASTER 150",
            "generic INSTANCE VI_1 BACKUP 100",
            "to-fault",
            "generic INSTANCE VI_1 FAULT 100",
        ]
    );
    assert_eq!(lines(&dir.path().join("group")), ["GROUP VG_1 STOP 0"]);
}

/// A slow MASTER script is not overtaken by the BACKUP one queued after it. The events come
/// from a plain thread, as they will from the VRRP timing thread.
#[tokio::test]
async fn one_instance_runs_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    let (notifier, _done) = Notifier::start(None).unwrap();
    let instance = target(
        Subject::Instance,
        "VI_1",
        NotifyCommands {
            master: Some(with_args(append_args(&log, "sleep 1;"), &["master"])),
            backup: Some(with_args(append_args(&log, ""), &["backup"])),
            ..NotifyCommands::default()
        },
    );
    std::thread::spawn(move || {
        notifier.notify(&instance, NotifyState::Master, 100);
        notifier.notify(&instance, NotifyState::Backup, 100);
    })
    .join()
    .unwrap();
    assert_eq!(wait_for_lines(&log, 2).await, ["master", "backup"]);
}

/// Instance A's script waits for a gate that the test opens only after instance B's script
/// has run: B cannot be queued behind A.
#[tokio::test]
async fn instances_proceed_independently() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    let gate = dir.path().join("gate");
    let wait_for_gate = format!("while [ ! -e {} ]; do sleep 0.01; done;", gate.display());
    let (notifier, _done) = Notifier::start(None).unwrap();
    let a = target(
        Subject::Instance,
        "A",
        NotifyCommands {
            master: Some(with_args(append_args(&log, &wait_for_gate), &["A"])),
            ..NotifyCommands::default()
        },
    );
    let b = target(
        Subject::Instance,
        "B",
        NotifyCommands {
            master: Some(with_args(append_args(&log, ""), &["B"])),
            ..NotifyCommands::default()
        },
    );
    notifier.notify(&a, NotifyState::Master, 100);
    notifier.notify(&b, NotifyState::Master, 100);
    assert_eq!(wait_for_lines(&log, 1).await, ["B"]);
    std::fs::write(&gate, "").unwrap();
    assert_eq!(wait_for_lines(&log, 2).await, ["B", "A"]);
}

/// Reads whatever the FIFO holds now, without blocking.
fn read_available(reader: &mut std::fs::File) -> String {
    let mut text = String::new();
    let mut buffer = [0u8; 4096];
    loop {
        match reader.read(&mut buffer) {
            Ok(0) => return text,
            Ok(read) => text.push_str(std::str::from_utf8(&buffer[..read]).unwrap()),
            Err(error) if error.kind() == ErrorKind::WouldBlock => return text,
            Err(error) => panic!("reading the FIFO failed: {error}"),
        }
    }
}

fn open_reader(path: &Path) -> std::fs::File {
    OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .unwrap()
}

/// The FIFO is created, lines are in keepalived's format, and a line sent while no reader is
/// there is dropped without blocking anything.
#[tokio::test]
async fn fifo_lines_reach_a_reader_and_are_dropped_without_one() {
    let dir = tempfile::tempdir().unwrap();
    let fifo: PathBuf = dir.path().join("notify.fifo");
    let marks = dir.path().join("marks");
    let (notifier, done) = Notifier::start(Some(fifo.clone())).unwrap();
    assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());

    // The generic command runs after the FIFO line is written: it tells the test when the
    // dispatcher has dealt with each event.
    let instance = target(
        Subject::Instance,
        "VI_1",
        NotifyCommands {
            generic: Some(append_args(&marks, "")),
            ..NotifyCommands::default()
        },
    );
    notifier.notify(&instance, NotifyState::Backup, 90);
    wait_for_lines(&marks, 1).await;

    let mut reader = open_reader(&fifo);
    notifier.notify(&instance, NotifyState::Master, 100);
    notifier.notify(
        &target(Subject::Group, "VG_1", NotifyCommands::default()),
        NotifyState::Master,
        100,
    );
    notifier.notify(&instance, NotifyState::Stop, 0);
    wait_for_lines(&marks, 3).await;
    assert_eq!(notifier.fifo_lines_dropped(), 1);
    drop(notifier);
    tokio::time::timeout(PATIENCE, done.wait()).await.unwrap();

    assert_eq!(
        read_available(&mut reader),
        "INSTANCE \"VI_1\" MASTER 100\nGROUP \"VG_1\" MASTER 0\nINSTANCE \"VI_1\" STOP 0\n",
        "the BACKUP line was sent before any reader and is dropped"
    );
}

/// After the reader goes away and another one comes, lines flow again.
///
/// When exactly the writer notices the reader is gone is not the test's to know: a command
/// forked by another thread holds a reference to the reader's open file until it execs. So the
/// test keeps notifying until a line is counted as dropped (EPIPE), then checks that a new
/// reader receives the next line.
#[tokio::test]
async fn fifo_survives_a_reader_going_away() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("notify.fifo");
    let marks = dir.path().join("marks");
    let (notifier, _done) = Notifier::start(Some(fifo.clone())).unwrap();
    let instance = target(
        Subject::Instance,
        "VI_1",
        NotifyCommands {
            generic: Some(append_args(&marks, "")),
            ..NotifyCommands::default()
        },
    );
    let mut first = open_reader(&fifo);
    notifier.notify(&instance, NotifyState::Master, 100);
    let mut sent = 1;
    wait_for_lines(&marks, sent).await;
    assert_eq!(read_available(&mut first), "INSTANCE \"VI_1\" MASTER 100\n");
    drop(first);

    let deadline = tokio::time::Instant::now() + PATIENCE;
    while notifier.fifo_lines_dropped() == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the reader's departure was never noticed"
        );
        notifier.notify(&instance, NotifyState::Backup, 100);
        sent += 1;
        wait_for_lines(&marks, sent).await;
    }

    let mut second = open_reader(&fifo);
    notifier.notify(&instance, NotifyState::Fault, 100);
    wait_for_lines(&marks, sent + 1).await;
    let received = read_available(&mut second);
    assert!(
        received.ends_with("INSTANCE \"VI_1\" FAULT 100\n") && !received.contains("MASTER"),
        "{received:?}"
    );
}

#[tokio::test]
async fn a_path_that_is_not_a_fifo_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plain");
    std::fs::write(&file, "").unwrap();
    assert!(matches!(
        Notifier::start(Some(file)).err(),
        Some(NotifyFifoError::NotAFifo { .. })
    ));
    assert!(matches!(
        Notifier::start(Some(dir.path().join("missing/dir/fifo"))).err(),
        Some(NotifyFifoError::Create { .. })
    ));
}
