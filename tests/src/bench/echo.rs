//! Echo servers: one per node, answering the client's probes with the node's number as its
//! name, so the client sees which node holds the VIP. They are `vipd echo`'s responder
//! (`vipd::measure::echo`) run as threads of the benchmark in each node's namespace,
//! independent of the VRRP daemons, so killing or freezing a daemon never silences them: what
//! the client sees is the network's view of the VIP.
use std::net::UdpSocket;

use vipd::measure::echo::Echo;

use crate::topology::Lan;

pub use vipd::measure::wire::DEFAULT_PORT as PORT;

pub struct EchoServers {
    _servers: Vec<Echo>,
}

impl EchoServers {
    /// Starts a server on each of nodes `1..=count`, answering with the node's number.
    pub fn start(lan: &Lan, count: usize) -> Self {
        let servers = (1..=count)
            .map(|n| {
                let socket = lan
                    .node(n)
                    .run(|| UdpSocket::bind(("0.0.0.0", PORT)).expect("bind echo server"));
                Echo::spawn(socket, n.to_string()).expect("start echo server")
            })
            .collect();
        Self { _servers: servers }
    }
}
