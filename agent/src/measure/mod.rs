//! Takeover as a client sees it, measured on any machine: the probe a client runs against the
//! VIP (`vipd probe`), the responder each node runs (`vipd echo`), the faults a user injects into
//! a node (`vipd fault`), and what turns the probe's record into figures (outages, takeovers,
//! percentiles, the JSON document and the CDF plot).
//!
//! The lab's takeover benchmark (`cargo xtask bench takeover`, `tests/src/bench/`) runs on the
//! same code, so figures from a user's site and from the lab compare (docs/measure-takeover.md).
pub mod clock;
pub mod echo;
pub mod fault;
pub mod outage;
pub mod plot;
pub mod probe;
pub mod report;
pub mod sched;
pub mod session;
pub mod stamped;
pub mod stats;
pub mod takeover;
pub mod wire;
