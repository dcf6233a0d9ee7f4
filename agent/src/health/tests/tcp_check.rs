use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::mpsc;

use super::next_check_event;
use crate::health::{spawn_check, CheckKind, CheckSpec, TrackStatus};

/// Up after `rise` successes against an open listener, down after `fall` failures once it is
/// closed, and the counters say so.
#[tokio::test]
async fn tcp_check_follows_a_listener() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (events, mut received) = mpsc::unbounded_channel();
    let spec = CheckSpec {
        name: "tcp".into(),
        kind: CheckKind::Tcp { addr },
        interval: Duration::from_millis(10),
        timeout: Duration::from_secs(5),
        rise: 3,
        fall: 2,
        init_fail: true,
    };
    let check = spawn_check(spec, events).unwrap();
    assert_eq!(
        check.snapshot().status,
        TrackStatus::Down,
        "init_fail starts down"
    );

    let (name, status) = next_check_event(&mut received).await;
    assert_eq!((&*name, status), ("tcp", TrackStatus::Up));
    let up = check.snapshot();
    assert!(up.successes >= 3, "up only after rise successes: {up:?}");
    assert_eq!(up.failures, 0);
    assert!(up.last_latency.is_some());

    // Closing the listener makes the port refuse connections.
    drop(listener);
    let (_, status) = next_check_event(&mut received).await;
    assert_eq!(status, TrackStatus::Down);
    let down = check.snapshot();
    assert!(
        down.failures >= 2,
        "down only after fall failures: {down:?}"
    );
    assert!(down
        .last_failure
        .as_deref()
        .unwrap_or("")
        .contains("connect failed"));
}
