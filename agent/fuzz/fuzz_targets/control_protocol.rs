//! Fuzz the control protocol from both ends: the server's answer to any request line (what
//! `vipd status` and anything else on the socket may send) must be one line that the client
//! reads back as the same kind of answer, a request that decodes must encode to one that
//! decodes the same, and any answer the client may receive must decode or be refused without
//! a panic.
//!
//! Run: `cd agent/fuzz && cargo +nightly fuzz run control_protocol`.
#![no_main]

use std::mem::discriminant;
use std::net::{IpAddr, Ipv4Addr};

use libfuzzer_sys::fuzz_target;
use vipd::control::board::{DaemonInfo, InstanceFeed, InstanceIdentity, StatusBoard};
use vipd::control::protocol::{Request, Response};
use vipd::control::server::respond;
use vipd::vrrp::{Router, RouterConfig};

/// A board with one instance, as a running daemon serves it; the instance stays while its feed
/// lives.
fn board() -> (StatusBoard, InstanceFeed) {
    let board = StatusBoard::new(DaemonInfo {
        router_id: "fuzz".to_string(),
        dataplane: "socket".to_string(),
    });
    let router = Router::new(RouterConfig::v3(
        51,
        100,
        IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
        vec![IpAddr::V4(Ipv4Addr::new(192, 0, 2, 100))],
    ))
    .expect("a valid router configuration");
    let feed = board.add_instance(
        InstanceIdentity {
            name: "vi_1".to_string(),
            interface: "eth0".to_string(),
            dataplane: "socket".to_string(),
        },
        &router,
    );
    (board, feed)
}

thread_local! {
    static BOARD: (StatusBoard, InstanceFeed) = board();
}

fuzz_target!(|data: &[u8]| {
    let response = BOARD.with(|(board, _feed)| respond(data, board));
    let line = response.to_line();
    let (last, body) = line.split_last().expect("an answer is never empty");
    assert_eq!(*last, b'\n', "an answer ends its line");
    assert!(!body.contains(&b'\n'), "an answer is one line");
    let read: Response = serde_json::from_slice(&line).expect("the client reads every answer");
    assert_eq!(discriminant(&read.body), discriminant(&response.body));

    if let Ok(request) = serde_json::from_slice::<Request>(data) {
        let encoded = serde_json::to_vec(&request).expect("a request encodes");
        let again: Request = serde_json::from_slice(&encoded).expect("an encoded request decodes");
        assert_eq!(again, request);
    }

    if let Ok(answer) = serde_json::from_slice::<Response>(data) {
        let line = answer.to_line();
        let again: Response = serde_json::from_slice(&line).expect("a re-encoded answer decodes");
        assert_eq!(discriminant(&again.body), discriminant(&answer.body));
    }
});
