//! `vipd echo`: the responder a node runs for `vipd probe`, answering with the node's name.
use anyhow::{Context, Result};
use std::{net::SocketAddr, sync::atomic::AtomicBool};

use crate::measure::{echo, fault::local::host_name, wire};

#[derive(clap::Args)]
pub struct Options {
    /// The name answers carry (at most 64 bytes); by default this host's name.
    #[arg(long)]
    name: Option<String>,
    /// The address and UDP port to answer on (`[::]:9000` for IPv6 too).
    #[arg(long, default_value_t = SocketAddr::from(([0, 0, 0, 0], wire::DEFAULT_PORT)))]
    listen: SocketAddr,
}

pub fn run(opts: Options) -> Result<()> {
    let name = opts.name.unwrap_or_else(host_name);
    let socket = std::net::UdpSocket::bind(opts.listen)
        .with_context(|| format!("cannot listen on {}", opts.listen))?;
    eprintln!(
        "vipd echo: answering probes on {} as {:?}",
        opts.listen,
        wire::truncated(&name)
    );
    // Runs until the process is stopped.
    echo::serve(&socket, &name, &AtomicBool::new(false)).context("answering probes")
}
