//! Percentiles, human-readable durations and Markdown tables, for the probe's report and the
//! benchmarks'.
use std::fmt::Write;

/// p50, p90, p99 and max of `values` (nearest-rank); `None` when empty.
pub fn summary(values: &[f64]) -> Option<[f64; 4]> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = |p: f64| {
        let i = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
        sorted[i - 1]
    };
    Some([rank(0.50), rank(0.90), rank(0.99), sorted[sorted.len() - 1]])
}

/// Microseconds as a short human figure.
pub fn human_us(us: f64) -> String {
    if us >= 1_000_000.0 {
        format!("{:.2} s", us / 1e6)
    } else if us >= 1_000.0 {
        format!("{:.2} ms", us / 1e3)
    } else {
        format!("{us:.0} us")
    }
}

/// A Markdown table: one row per (scenario, system).
pub struct Table {
    text: String,
}

impl Table {
    pub fn new(header: &[&str]) -> Self {
        let mut text = String::new();
        let _ = writeln!(text, "| {} |", header.join(" | "));
        let _ = writeln!(text, "|{}", "---|".repeat(header.len()));
        Self { text }
    }

    pub fn row(&mut self, cells: &[String]) {
        let _ = writeln!(self.text, "| {} |", cells.join(" | "));
    }

    pub fn render(&self) -> &str {
        &self.text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let values: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(summary(&values), Some([50.0, 90.0, 99.0, 100.0]));
        assert_eq!(summary(&[7.0]), Some([7.0; 4]));
        assert_eq!(summary(&[]), None);
    }

    #[test]
    fn human_units() {
        assert_eq!(human_us(512.4), "512 us");
        assert_eq!(human_us(1_530.0), "1.53 ms");
        assert_eq!(human_us(3_300_000.0), "3.30 s");
    }
}
