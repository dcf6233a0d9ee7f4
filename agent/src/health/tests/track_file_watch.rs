use std::time::Duration;

use tokio::sync::mpsc;

use super::PATIENCE;
use crate::health::{spawn_track_file, HealthEvent, TrackFileSpec};

#[tokio::test]
async fn file_changes_are_reported_once_stable() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("weight");
    std::fs::write(&path, "5\n").unwrap();
    let (events, mut received) = mpsc::unbounded_channel();
    let spec = TrackFileSpec {
        name: "weight".into(),
        path: path.clone(),
        poll_interval: Duration::from_millis(10),
    };
    let file = spawn_track_file(spec, events);
    assert_eq!(file.value(), 5, "read when the watch starts");

    for (text, expected) in [("-20", -20), ("0x10", 16)] {
        std::fs::write(&path, text).unwrap();
        let event = tokio::time::timeout(PATIENCE, received.recv())
            .await
            .unwrap();
        assert_eq!(
            event,
            Some(HealthEvent::File {
                name: "weight".into(),
                value: expected
            })
        );
        assert_eq!(file.value(), expected);
    }

    std::fs::remove_file(&path).unwrap();
    let event = tokio::time::timeout(PATIENCE, received.recv())
        .await
        .unwrap();
    assert_eq!(
        event,
        Some(HealthEvent::File {
            name: "weight".into(),
            value: 0
        }),
        "a file that disappears reads as 0"
    );
}
