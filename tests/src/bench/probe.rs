//! The client's probe: `vipd probe`'s (`vipd::measure::probe`), started in the client's
//! namespace, its answers named by node number as the benchmark's echo servers answer.
use std::{net::SocketAddr, net::UdpSocket, time::Duration};

use super::echo::PORT;
use crate::topology::Lan;

/// One answer, its times on CLOCK_MONOTONIC ns (the nodes' and the client's clocks are one).
#[derive(Clone, Copy, Debug, Default)]
pub struct Reply {
    /// When it reached the client's socket (the kernel's stamp).
    pub at_ns: u64,
    /// When the probe's receiver read it.
    pub read_ns: u64,
    /// The node that answered.
    pub node: u8,
    /// When the probe it answers reached that node's echo server (the kernel's stamp).
    pub probe_arrived_ns: u64,
    /// When the echo server sent it.
    pub sent_ns: u64,
}

pub struct Probe {
    probe: vipd::measure::probe::Probe,
}

impl Probe {
    /// Starts probing `vip` from node `client` every `interval`.
    pub fn start(lan: &Lan, client: usize, vip: &str, interval: Duration) -> Self {
        let target: SocketAddr = format!("{vip}:{PORT}").parse().expect("VIP address");
        let socket = lan
            .node(client)
            .run(|| UdpSocket::bind("0.0.0.0:0").expect("bind probe"));
        let probe =
            vipd::measure::probe::Probe::start(socket, target, interval).expect("start probe");
        Self { probe }
    }

    /// The replies received so far (and forgets them).
    pub fn take(&self) -> Vec<Reply> {
        let replies = self.probe.take();
        let nodes: Vec<u8> = self
            .probe
            .names()
            .iter()
            .map(|name| name.parse().unwrap_or(0))
            .collect();
        replies
            .into_iter()
            .map(|reply| Reply {
                at_ns: reply.at_ns,
                read_ns: reply.read_ns,
                probe_arrived_ns: reply.responder_arrived_ns,
                sent_ns: reply.responder_answered_ns,
                node: nodes
                    .get(usize::from(reply.responder.0))
                    .copied()
                    .unwrap_or(0),
            })
            .collect()
    }

    /// Drops what was received so far.
    pub fn clear(&self) {
        self.probe.clear();
    }
}

#[cfg(test)]
mod kernel_tests {
    use super::*;
    use crate::{bench::echo::EchoServers, kernel_tests_enabled};

    #[test]
    fn the_benchs_probe_numbers_the_node_that_answered() {
        if !kernel_tests_enabled() {
            return;
        }
        let lan = Lan::new(3);
        let _echo = EchoServers::start(&lan, 2);
        let node2 = Lan::ipv4(2).to_string();
        let probe = Probe::start(&lan, 3, &node2, Duration::from_millis(1));
        let mut replies = Vec::new();
        for _ in 0..1000 {
            std::thread::sleep(Duration::from_millis(10));
            replies.extend(probe.take());
            if replies.len() >= 3 {
                break;
            }
        }
        assert!(replies.len() >= 3, "node 2's echo answered: {replies:?}");
        assert!(replies.iter().all(|r| r.node == 2), "{replies:?}");
    }
}
