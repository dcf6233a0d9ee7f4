//! The takeover CDF per scenario, one curve per system, drawn by the vipd library's plot
//! (`vipd::measure::plot`, which `vipd probe --plot` draws with too).
use std::path::Path;

use vipd::measure::plot::{self as cdf_plot, Curve, Panel};

use super::{fault::Scenario, system::System, trial::Sample};

/// Writes one SVG with a panel per scenario.
pub fn cdf(
    samples: &[Sample],
    scenarios: &[Scenario],
    systems: &[System],
    out: &Path,
) -> Result<(), String> {
    let panels: Vec<Panel> = scenarios
        .iter()
        .map(|scenario| Panel {
            title: format!("takeover after {scenario}"),
            x_desc: "time from fault to first reply from the new master (ms)".into(),
            curves: systems
                .iter()
                .map(|system| Curve {
                    label: system.to_string(),
                    values_ms: samples
                        .iter()
                        .filter(|s| s.scenario == *scenario && s.system == *system)
                        .map(|s| s.takeover_us / 1e3)
                        .collect(),
                })
                .collect(),
        })
        .collect();
    cdf_plot::cdf(&panels, out)
}
