//! deploy/grafana/vipd.json against the metrics vipd serves (agent/src/control/metrics/
//! golden.prom, which the exposition's own test keeps equal to what the renderer writes): every
//! metric a query names exists, and every metric family is on the dashboard.
mod deploy_support;

use std::collections::BTreeSet;

use deploy_support::repo;

/// The suffixes of a histogram's series, which Prometheus queries name instead of the family.
const HISTOGRAM_SERIES: [&str; 3] = ["_bucket", "_sum", "_count"];

/// Every PromQL expression of the dashboard: the panels' queries and the variables' queries.
fn expressions(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, value) in map {
                match (key.as_str(), value) {
                    ("expr" | "definition", serde_json::Value::String(expr)) => {
                        out.push(expr.clone())
                    }
                    _ => expressions(value, out),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|item| expressions(item, out)),
        _ => {}
    }
}

/// The `vipd_...` names an expression uses (vipd's metrics all start so; PromQL's functions,
/// labels and variables do not).
fn metric_names(expr: &str) -> impl Iterator<Item = &str> {
    expr.match_indices("vipd_").map(move |(at, _)| {
        let rest = &expr[at..];
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        &rest[..end]
    })
}

#[test]
fn the_dashboard_queries_only_metrics_vipd_serves_and_shows_them_all() {
    let golden = std::fs::read_to_string(repo().join("agent/src/control/metrics/golden.prom"))
        .expect("golden.prom");
    // Families from `# TYPE name kind`; series are the sample lines' names.
    let families: BTreeSet<&str> = golden
        .lines()
        .filter_map(|line| line.strip_prefix("# TYPE "))
        .filter_map(|rest| rest.split_whitespace().next())
        .collect();
    let series: BTreeSet<&str> = golden
        .lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| line.split(['{', ' ']).next())
        .collect();
    assert!(families.len() > 30, "golden.prom: {families:?}");

    let dashboard: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("deploy/grafana/vipd.json"))
            .expect("deploy/grafana/vipd.json"),
    )
    .expect("the dashboard is JSON");
    let mut exprs = Vec::new();
    expressions(&dashboard, &mut exprs);
    assert!(!exprs.is_empty());

    let mut shown = BTreeSet::new();
    for expr in &exprs {
        for name in metric_names(expr) {
            assert!(
                series.contains(name),
                "the dashboard queries {name}, which vipd does not serve: {expr}"
            );
            let family = HISTOGRAM_SERIES
                .iter()
                .find_map(|suffix| name.strip_suffix(suffix))
                .filter(|family| families.contains(family))
                .unwrap_or(name);
            shown.insert(family);
        }
    }
    let missing: Vec<_> = families.difference(&shown).collect();
    assert!(missing.is_empty(), "not on the dashboard: {missing:?}");
}

#[test]
fn every_instance_panel_is_repeated_per_vrrp_instance() {
    // Instance-level queries select `vrrp_instance="$vrrp_instance"`, which only means one
    // instance inside a row that repeats over the variable.
    let dashboard: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("deploy/grafana/vipd.json")).expect("dashboard"),
    )
    .expect("JSON");
    let mut repeated = false;
    for panel in dashboard["panels"].as_array().expect("panels") {
        if panel["type"] == "row" {
            repeated = panel["repeat"] == "vrrp_instance";
            continue;
        }
        let mut exprs = Vec::new();
        expressions(panel, &mut exprs);
        if exprs.iter().any(|e| e.contains("$vrrp_instance")) {
            assert!(
                repeated,
                "panel {} is outside the repeated row",
                panel["title"]
            );
        }
    }
}
