//! Formatting the report as a table or as JSON.

use comfy_table::presets::ASCII_MARKDOWN;
use comfy_table::{CellAlignment, Table};

use crate::report::{MetricResult, Outcome};

/// Renders the report as a header line, then a Markdown table of metric, value and direction.
///
/// Values are printed with the fewest digits that read back as the same f64. An undefined or
/// skipped metric has `undefined` or `skipped` as its value and the reason in a last `reason`
/// column, which is present only when some metric has a reason.
pub fn render_table(header: &str, results: &[MetricResult]) -> String {
    let has_reasons = results
        .iter()
        .any(|result| !matches!(result.outcome, Outcome::Value(_)));

    let mut table = Table::new();
    table.load_preset(ASCII_MARKDOWN);
    let mut column_names = vec!["metric", "value", "direction"];
    if has_reasons {
        column_names.push("reason");
    }
    table.set_header(column_names);

    for result in results {
        let (value, reason) = match &result.outcome {
            Outcome::Value(value) => (format!("{value:?}"), String::new()),
            Outcome::Undefined(reason) => ("undefined".to_owned(), reason.clone()),
            Outcome::Skipped(reason) => ("skipped".to_owned(), reason.clone()),
        };
        let mut row = vec![
            result.name.to_owned(),
            value,
            direction_text(result.higher_is_better).to_owned(),
        ];
        if has_reasons {
            // A `|` would end the Markdown cell early.
            row.push(reason.replace('|', "\\|"));
        }
        table.add_row(row);
    }
    if let Some(column) = table.column_mut(1) {
        column.set_cell_alignment(CellAlignment::Right);
    }

    format!("{header}\n\n{table}\n")
}

/// Renders the report as one JSON object keyed by metric function name.
///
/// Undefined, skipped and non-finite values are `null`, and [`json_null_reasons`] gives the
/// reasons. Finite values are printed with the fewest digits that read back as the same f64.
pub fn render_json(results: &[MetricResult]) -> String {
    let mut lines = Vec::with_capacity(results.len());
    for result in results {
        let value = match result.outcome {
            Outcome::Value(value) if value.is_finite() => json_number(value),
            _ => "null".to_owned(),
        };
        lines.push(format!("  {}: {value}", json_string(result.name)));
    }

    if lines.is_empty() {
        return "{}\n".to_owned();
    }
    format!("{{\n{}\n}}\n", lines.join(",\n"))
}

/// Returns one line per `null` in the JSON output, naming the metric and the reason.
pub fn json_null_reasons(results: &[MetricResult]) -> Vec<String> {
    results
        .iter()
        .filter_map(|result| match &result.outcome {
            Outcome::Value(value) if value.is_finite() => None,
            Outcome::Value(value) => Some(format!(
                "{} is {value}, which JSON cannot represent, so it is written as null",
                result.name
            )),
            Outcome::Undefined(reason) => {
                Some(format!("{} is null, undefined: {reason}", result.name))
            }
            Outcome::Skipped(reason) => Some(format!("{} is null, skipped: {reason}", result.name)),
        })
        .collect()
}

pub(crate) fn direction_text(higher_is_better: Option<bool>) -> &'static str {
    match higher_is_better {
        Some(true) => "higher is better",
        Some(false) => "lower is better",
        None => "no direction",
    }
}

pub(crate) fn json_number(value: f64) -> String {
    // serde_json prints a finite f64 with the shortest digits that parse back to it.
    serde_json::to_string(&value).unwrap_or_else(|_| "null".to_owned())
}

pub(crate) fn json_string(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| format!("\"{text}\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(name: &'static str, outcome: Outcome) -> MetricResult {
        MetricResult {
            name,
            higher_is_better: Some(true),
            outcome,
        }
    }

    #[test]
    fn json_round_trips_values() {
        let value = 0.1 + 0.2;
        let json = render_json(&[result("rand_score", Outcome::Value(value))]);

        let parsed: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(parsed["rand_score"].as_f64(), Some(value));
    }

    #[test]
    fn json_writes_undefined_as_null() {
        let results = [
            result("silhouette_score", Outcome::Undefined("one cluster".into())),
            result("dunn_index", Outcome::Value(f64::INFINITY)),
        ];
        let json = render_json(&results);

        let parsed: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert!(parsed["silhouette_score"].is_null());
        assert!(parsed["dunn_index"].is_null());
        assert_eq!(json_null_reasons(&results).len(), 2);
    }

    #[test]
    fn table_shows_reason_of_undefined() {
        let results = [result(
            "silhouette_score",
            Outcome::Undefined("one cluster".into()),
        )];
        let table = render_table("input", &results);
        let row = table
            .lines()
            .find(|line| line.contains("silhouette_score"))
            .unwrap();

        assert!(table.lines().nth(2).unwrap().contains("reason"));
        assert!(row.contains("undefined"));
        assert!(row.contains("one cluster"));
    }

    #[test]
    fn table_without_reasons_has_no_reason_column() {
        let table = render_table("input", &[result("rand_score", Outcome::Value(0.5))]);

        assert!(!table.contains("reason"));
    }

    #[test]
    fn table_value_round_trips() {
        let value = 2.0_f64.sqrt();
        let table = render_table("input", &[result("rand_score", Outcome::Value(value))]);

        assert!(table.contains(&format!("{value:?}")));
        assert!(format!("{value:?}").parse::<f64>().unwrap() == value);
    }
}
