//! Cumulative distributions as an SVG a person can open: one panel per question (takeover after
//! a kind of fault, outages), one curve per system. Times are on a log scale: systems differ by
//! orders of magnitude.
use plotters::prelude::*;
use std::{path::Path, sync::OnceLock};

/// The font the labels are drawn with (Debian's fonts-dejavu-core).
const FONT: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";

/// Values below this (ms) are drawn at it: the log axis starts there.
const FLOOR_MS: f64 = 0.05;

/// One panel of the plot.
pub struct Panel {
    pub title: String,
    /// What the x axis measures, in milliseconds.
    pub x_desc: String,
    pub curves: Vec<Curve>,
}

/// One curve: a system's values, in milliseconds.
pub struct Curve {
    pub label: String,
    pub values_ms: Vec<f64>,
}

/// Loads the font once per process (plotters keeps it for good).
fn register_font() -> Result<(), String> {
    static FONT_LOADED: OnceLock<Result<(), String>> = OnceLock::new();
    FONT_LOADED
        .get_or_init(|| {
            let font = std::fs::read(FONT)
                .map_err(|e| format!("{FONT}: {e} (install fonts-dejavu-core for plots)"))?;
            let font: &'static [u8] = Box::leak(font.into_boxed_slice());
            plotters::style::register_font("sans-serif", FontStyle::Normal, font)
                .map_err(|_| format!("{FONT}: not a font plotters can load"))
        })
        .clone()
}

/// Writes `panels`, stacked, to the SVG file `out`.
pub fn cdf(panels: &[Panel], out: &Path) -> Result<(), String> {
    register_font()?;
    let height = 360 * panels.len().max(1) as u32;
    let root = SVGBackend::new(out, (900, height)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let areas = root.split_evenly((panels.len().max(1), 1));
    let colors = [
        RGBColor(0, 114, 178),
        RGBColor(0, 158, 115),
        RGBColor(213, 94, 0),
        RGBColor(204, 121, 167),
    ];
    for (area, panel) in areas.iter().zip(panels) {
        let max_ms = panel
            .curves
            .iter()
            .flat_map(|c| c.values_ms.iter().copied())
            .fold(1.0_f64, f64::max)
            * 1.5;
        let mut chart = ChartBuilder::on(area)
            .caption(&panel.title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d((FLOOR_MS..max_ms).log_scale(), 0.0_f64..1.0)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc(&panel.x_desc)
            .y_desc("fraction")
            .draw()
            .map_err(|e| e.to_string())?;
        for (curve, color) in panel.curves.iter().zip(colors.iter().cycle()) {
            if curve.values_ms.is_empty() {
                continue;
            }
            let mut values: Vec<f64> = curve.values_ms.iter().map(|v| v.max(FLOOR_MS)).collect();
            values.sort_by(f64::total_cmp);
            let n = values.len() as f64;
            let points: Vec<(f64, f64)> = values
                .iter()
                .enumerate()
                .flat_map(|(i, v)| [(*v, i as f64 / n), (*v, (i + 1) as f64 / n)])
                .collect();
            let color = *color;
            chart
                .draw_series(LineSeries::new(points, color.stroke_width(2)))
                .map_err(|e| e.to_string())?
                .label(curve.label.clone())
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
