//! Formatting the regression report with bootstrap statistics as a table or as JSON.

use comfy_table::presets::ASCII_MARKDOWN;
use comfy_table::{CellAlignment, Table};

use super::bootstrap::{BootstrapOutcome, BootstrapReport};
use crate::output::{direction_text, json_number, json_string};
use crate::report::{MetricResult, Outcome};

/// Renders the report as a header line, then a Markdown table of metric, value, bootstrap mean,
/// standard deviation, one column per quantile level (named `q` and the level), and direction.
///
/// Numbers are printed with the fewest digits that read back as the same f64. The bootstrap
/// cells of a skipped or undefined metric are empty. A metric without an interval has
/// `undefined` in them. The reasons go in a last `reason` column, present only when some
/// metric has a reason.
pub(super) fn render_table(
    header: &str,
    results: &[MetricResult],
    bootstrap: &BootstrapReport,
) -> String {
    let has_reasons = results
        .iter()
        .zip(&bootstrap.outcomes)
        .any(|(result, outcome)| {
            !matches!(result.outcome, Outcome::Value(_))
                || matches!(outcome, Some(BootstrapOutcome::Undefined(_)))
        });

    let mut column_names = vec!["metric".to_owned(), "value".to_owned()];
    column_names.extend(["mean".to_owned(), "std".to_owned()]);
    column_names.extend(bootstrap.levels.iter().map(|level| format!("q{level}")));
    column_names.push("direction".to_owned());
    if has_reasons {
        column_names.push("reason".to_owned());
    }
    let mut table = Table::new();
    table.load_preset(ASCII_MARKDOWN);
    table.set_header(column_names);

    let statistics = 2 + bootstrap.levels.len();
    for (result, outcome) in results.iter().zip(&bootstrap.outcomes) {
        let (value, mut reason) = match &result.outcome {
            Outcome::Value(value) => (format!("{value:?}"), String::new()),
            Outcome::Undefined(reason) => ("undefined".to_owned(), reason.clone()),
            Outcome::Skipped(reason) => ("skipped".to_owned(), reason.clone()),
        };
        let cells: Vec<String> = match outcome {
            Some(BootstrapOutcome::Summary {
                mean,
                std,
                quantiles,
                ..
            }) => [*mean, *std]
                .iter()
                .chain(quantiles)
                .map(|statistic| format!("{statistic:?}"))
                .collect(),
            Some(BootstrapOutcome::Undefined(why)) => {
                reason = format!("no interval, because {why}");
                vec!["undefined".to_owned(); statistics]
            }
            None => vec![String::new(); statistics],
        };

        let mut row = vec![result.name.to_owned(), value];
        row.extend(cells);
        row.push(direction_text(result.higher_is_better).to_owned());
        if has_reasons {
            // A `|` would end the Markdown cell early.
            row.push(reason.replace('|', "\\|"));
        }
        table.add_row(row);
    }
    for index in 1..=1 + statistics {
        if let Some(column) = table.column_mut(index) {
            column.set_cell_alignment(CellAlignment::Right);
        }
    }

    format!("{header}\n\n{table}\n")
}

/// Renders the report as one JSON object keyed by metric function name, whose values are
/// objects `{"value", "mean", "std", "quantiles", "replicates"}`: `quantiles` is a list in the
/// order of the levels, and `replicates` is the number of replicates in the statistics.
///
/// A skipped or undefined metric is `null`, as without bootstrap. A metric without an interval
/// has `null` mean, std, quantiles and replicates. Non-finite numbers are `null`.
/// [`json_null_reasons`] gives the reasons of the nulls that the bootstrap adds.
pub(super) fn render_json(results: &[MetricResult], bootstrap: &BootstrapReport) -> String {
    let mut lines = Vec::with_capacity(results.len());
    for (result, outcome) in results.iter().zip(&bootstrap.outcomes) {
        let entry = match (&result.outcome, outcome) {
            (Outcome::Value(value), Some(outcome)) => json_entry(*value, outcome),
            _ => "null".to_owned(),
        };
        lines.push(format!("  {}: {entry}", json_string(result.name)));
    }

    if lines.is_empty() {
        return "{}\n".to_owned();
    }
    format!("{{\n{}\n}}\n", lines.join(",\n"))
}

fn json_entry(value: f64, outcome: &BootstrapOutcome) -> String {
    let (mean, std, quantiles, replicates) = match outcome {
        BootstrapOutcome::Summary {
            replicates,
            mean,
            std,
            quantiles,
        } => {
            let quantiles: Vec<String> = quantiles.iter().map(|&q| finite_or_null(q)).collect();
            (
                finite_or_null(*mean),
                finite_or_null(*std),
                format!("[{}]", quantiles.join(", ")),
                replicates.to_string(),
            )
        }
        BootstrapOutcome::Undefined(_) => {
            let null = "null".to_owned();
            (null.clone(), null.clone(), null.clone(), null)
        }
    };
    format!(
        "{{\"value\": {}, \"mean\": {mean}, \"std\": {std}, \"quantiles\": {quantiles}, \
         \"replicates\": {replicates}}}",
        finite_or_null(value)
    )
}

fn finite_or_null(value: f64) -> String {
    if value.is_finite() {
        json_number(value)
    } else {
        "null".to_owned()
    }
}

/// Returns one line per `null` that the bootstrap adds to the JSON output, naming the metric,
/// the statistic and the reason.
pub(super) fn json_null_reasons(
    results: &[MetricResult],
    bootstrap: &BootstrapReport,
) -> Vec<String> {
    let mut reasons = Vec::new();
    for (result, outcome) in results.iter().zip(&bootstrap.outcomes) {
        let name = result.name;
        match outcome {
            Some(BootstrapOutcome::Undefined(reason)) => reasons.push(format!(
                "{name} has null mean, std, quantiles and replicates, because {reason}"
            )),
            Some(BootstrapOutcome::Summary {
                mean,
                std,
                quantiles,
                ..
            }) => {
                let levels = bootstrap
                    .levels
                    .iter()
                    .map(|level| format!("quantile {level}"));
                let statistics = [("mean".to_owned(), *mean), ("std".to_owned(), *std)]
                    .into_iter()
                    .chain(levels.zip(quantiles.iter().copied()));
                for (statistic, value) in statistics {
                    if !value.is_finite() {
                        reasons.push(format!(
                            "{name} bootstrap {statistic} is {value}, which JSON cannot \
                             represent, so it is written as null"
                        ));
                    }
                }
            }
            None => {}
        }
    }
    reasons
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(name: &'static str, outcome: Outcome) -> MetricResult {
        MetricResult {
            name,
            higher_is_better: Some(false),
            outcome,
        }
    }

    fn summary(mean: f64, std: f64, quantiles: Vec<f64>) -> Option<BootstrapOutcome> {
        Some(BootstrapOutcome::Summary {
            replicates: 3,
            mean,
            std,
            quantiles,
        })
    }

    fn report(outcomes: Vec<Option<BootstrapOutcome>>) -> BootstrapReport {
        BootstrapReport {
            levels: vec![0.025, 0.975],
            outcomes,
            empty_replicates: 0,
        }
    }

    #[test]
    fn json_entry_has_every_statistic() {
        let results = [result("mean_squared_error", Outcome::Value(0.5))];
        let bootstrap = report(vec![summary(0.25, 0.125, vec![0.1, 0.75])]);

        let json = render_json(&results, &bootstrap);
        let parsed: serde_json::Value = serde_json::from_str(&json).unwrap();
        let entry = &parsed["mean_squared_error"];

        assert_eq!(entry["value"].as_f64(), Some(0.5));
        assert_eq!(entry["mean"].as_f64(), Some(0.25));
        assert_eq!(entry["std"].as_f64(), Some(0.125));
        assert_eq!(entry["quantiles"], serde_json::json!([0.1, 0.75]));
        assert_eq!(entry["replicates"].as_u64(), Some(3));
    }

    #[test]
    fn json_skipped_metric_stays_null() {
        let results = [result("kl_divergence", Outcome::Skipped("shape".into()))];
        let bootstrap = report(vec![None]);

        let json = render_json(&results, &bootstrap);
        let parsed: serde_json::Value = serde_json::from_str(&json).unwrap();

        assert!(parsed["kl_divergence"].is_null());
        assert!(json_null_reasons(&results, &bootstrap).is_empty());
    }

    #[test]
    fn json_non_finite_statistics_are_null() {
        let results = [result("pearson_corrcoef", Outcome::Value(0.9))];
        let bootstrap = report(vec![summary(0.9, f64::NAN, vec![0.9, f64::INFINITY])]);

        let json = render_json(&results, &bootstrap);
        let parsed: serde_json::Value = serde_json::from_str(&json).unwrap();
        let reasons = json_null_reasons(&results, &bootstrap);

        assert!(parsed["pearson_corrcoef"]["std"].is_null());
        assert!(parsed["pearson_corrcoef"]["quantiles"][1].is_null());
        assert_eq!(reasons.len(), 2);
        assert!(reasons[0].contains("std is NaN"));
        assert!(reasons[1].contains("quantile 0.975 is inf"));
    }

    #[test]
    fn json_undefined_interval() {
        let results = [result("pearson_corrcoef", Outcome::Value(0.9))];
        let bootstrap = report(vec![Some(BootstrapOutcome::Undefined(
            "replicate 2 has no value".into(),
        ))]);

        let json = render_json(&results, &bootstrap);
        let parsed: serde_json::Value = serde_json::from_str(&json).unwrap();
        let reasons = json_null_reasons(&results, &bootstrap);

        assert_eq!(parsed["pearson_corrcoef"]["value"].as_f64(), Some(0.9));
        assert!(parsed["pearson_corrcoef"]["quantiles"].is_null());
        assert!(reasons[0].contains("replicate 2 has no value"));
    }

    #[test]
    fn table_has_one_column_per_level() {
        let results = [
            result("mean_squared_error", Outcome::Value(0.5)),
            result("kl_divergence", Outcome::Skipped("shape".into())),
        ];
        let bootstrap = report(vec![summary(0.25, 0.125, vec![0.1, 0.75]), None]);

        let table = render_table("input", &results, &bootstrap);
        let header = table.lines().nth(2).unwrap();
        let row = table
            .lines()
            .find(|line| line.contains("mean_squared_error"))
            .unwrap();
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();

        assert!(header.contains("q0.025"), "{header}");
        assert!(header.contains("q0.975"), "{header}");
        assert_eq!(
            cells[1..8],
            [
                "mean_squared_error",
                "0.5",
                "0.25",
                "0.125",
                "0.1",
                "0.75",
                "lower is better"
            ]
        );
    }

    #[test]
    fn table_undefined_interval_gives_reason() {
        let results = [result("pearson_corrcoef", Outcome::Value(0.9))];
        let bootstrap = report(vec![Some(BootstrapOutcome::Undefined(
            "replicate 2 has no value".into(),
        ))]);

        let table = render_table("input", &results, &bootstrap);
        let row = table
            .lines()
            .find(|line| line.contains("pearson_corrcoef"))
            .unwrap();

        assert!(row.contains("undefined"));
        assert!(row.contains("replicate 2 has no value"));
    }
}
