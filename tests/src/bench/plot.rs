//! The takeover CDF per scenario, one curve per system, as an SVG a person can open.
use plotters::prelude::*;
use std::path::Path;

use super::{fault::Scenario, system::System, trial::Sample};

/// The font the labels are drawn with (Debian's fonts-dejavu-core, which bootstrap installs).
const FONT: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";

/// Writes one SVG with a panel per scenario. Takeover times are on a log scale: the systems
/// differ by orders of magnitude.
pub fn cdf(
    samples: &[Sample],
    scenarios: &[Scenario],
    systems: &[System],
    out: &Path,
) -> Result<(), String> {
    let font = std::fs::read(FONT).map_err(|e| format!("{FONT}: {e}"))?;
    let font: &'static [u8] = Box::leak(font.into_boxed_slice());
    plotters::style::register_font("sans-serif", FontStyle::Normal, font)
        .map_err(|_| "cannot load the plot font".to_string())?;

    let height = 360 * scenarios.len() as u32;
    let root = SVGBackend::new(out, (900, height)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let panels = root.split_evenly((scenarios.len(), 1));
    let colors = [
        RGBColor(0, 114, 178),
        RGBColor(0, 158, 115),
        RGBColor(213, 94, 0),
    ];
    for (panel, scenario) in panels.iter().zip(scenarios) {
        let ours: Vec<&Sample> = samples.iter().filter(|s| s.scenario == *scenario).collect();
        let max_ms = ours
            .iter()
            .map(|s| s.takeover_us / 1e3)
            .fold(1.0_f64, f64::max)
            * 1.5;
        let mut chart = ChartBuilder::on(panel)
            .caption(format!("takeover after {scenario}"), ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d((0.05_f64..max_ms).log_scale(), 0.0_f64..1.0)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc("time from fault to first reply from the new master (ms)")
            .y_desc("fraction of trials")
            .draw()
            .map_err(|e| e.to_string())?;
        for (system, color) in systems.iter().zip(colors) {
            let mut values: Vec<f64> = ours
                .iter()
                .filter(|s| s.system == *system)
                .map(|s| (s.takeover_us / 1e3).max(0.05))
                .collect();
            if values.is_empty() {
                continue;
            }
            values.sort_by(f64::total_cmp);
            let n = values.len() as f64;
            let points: Vec<(f64, f64)> = values
                .iter()
                .enumerate()
                .flat_map(|(i, v)| [(*v, i as f64 / n), (*v, (i + 1) as f64 / n)])
                .collect();
            chart
                .draw_series(LineSeries::new(points, color.stroke_width(2)))
                .map_err(|e| e.to_string())?
                .label(system.to_string())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(|e| e.to_string())?;
    }
    root.present().map_err(|e| e.to_string())
}
