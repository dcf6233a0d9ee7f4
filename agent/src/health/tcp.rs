//! The built-in TCP check: a connect to an address, done in-process (keepalived's
//! `TCP_CHECK`, without forking `</dev/tcp/...` scripts). Success is a completed three-way
//! handshake; the connection is closed straight away.

use std::net::SocketAddr;

use tokio::net::TcpStream;

use super::failure::ProbeFailure;

/// Connects to `addr` once. The caller bounds it with the check's timeout.
pub async fn probe(addr: SocketAddr) -> Result<(), ProbeFailure> {
    TcpStream::connect(addr)
        .await
        .map(drop)
        .map_err(ProbeFailure::Connect)
}
