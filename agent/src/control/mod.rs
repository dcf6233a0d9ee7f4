//! Operating vipd: the status the daemon publishes, the root-only control socket that serves it
//! (`vipd status`), and the Prometheus metrics and `/healthz` endpoint.
//!
//! The daemon creates one [`board::StatusBoard`], gives each loop its [`board::InstanceFeed`]
//! and [`board::Heartbeat`], and serves the board with [`server::ControlServer`] and
//! [`metrics::MetricsServer`]. Readers never block the loops (see [`board`]).

pub mod board;
pub mod client;
pub mod clock;
#[cfg(test)]
pub(crate) mod fixtures;
pub mod histogram;
pub mod metrics;
pub mod protocol;
pub mod server;
pub mod status;
