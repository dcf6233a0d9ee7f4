//! Percentiles and the summary table: the vipd library's (`vipd::measure::stats`), which
//! `vipd probe` reports with too.
pub use vipd::measure::stats::{human_us, summary, Table};
