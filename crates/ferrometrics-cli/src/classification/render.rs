//! Formatting the classification report as tables or as JSON.

use comfy_table::presets::ASCII_MARKDOWN;
use comfy_table::{CellAlignment, Table};
use ferrometrics::classification::Task;
use ndarray::{ArrayViewD, Axis};
use serde_json::Value as Json;

use super::ClassificationReport;
use crate::output;
use crate::report::Outcome;

/// Renders the per-class table, the averaged metrics and the confusion matrix.
///
/// Values are printed with the fewest digits that read back as the same f64, and counts as
/// integers. A per-class metric without values shows `undefined` with the reason under the
/// table.
pub fn render_table(report: &ClassificationReport) -> String {
    let mut text = format!("{}\n\nPer class:\n\n", report.header);

    let mut table = Table::new();
    table.load_preset(ASCII_MARKDOWN);
    let mut column_names = vec![class_heading(report.task).to_owned()];
    column_names.extend(report.per_class.iter().map(|column| column.name.to_owned()));
    table.set_header(column_names);
    for (class, name) in report.class_names.iter().enumerate() {
        let mut row = vec![name.clone()];
        for column in &report.per_class {
            row.push(match &column.values {
                Ok(values) if column.name == "support" => format!("{}", values[class]),
                Ok(values) => format!("{:?}", values[class]),
                Err(_) => "undefined".to_owned(),
            });
        }
        table.add_row(row);
    }
    for index in 1..=report.per_class.len() {
        if let Some(column) = table.column_mut(index) {
            column.set_cell_alignment(CellAlignment::Right);
        }
    }
    text.push_str(&format!("{table}\n"));
    for column in &report.per_class {
        if let Err(reason) = &column.values {
            text.push_str(&format!("{} is undefined: {reason}\n", column.name));
        }
    }

    text.push('\n');
    text.push_str(&output::render_table(
        &report.averaged_title,
        &report.averaged,
    ));
    text.push('\n');
    text.push_str(&render_confusion(report));
    text
}

fn class_heading(task: Task) -> &'static str {
    match task {
        Task::Multilabel => "label",
        _ => "class",
    }
}

fn render_confusion(report: &ClassificationReport) -> String {
    let matrix = &report.confusion_matrix;
    let mut table = Table::new();
    table.load_preset(ASCII_MARKDOWN);
    let title = if report.task == Task::Multilabel {
        table.set_header(["label", "tn", "fp", "fn", "tp"]);
        for (label, block) in matrix.axis_iter(Axis(0)).enumerate() {
            let mut row = vec![report.class_names[label].clone()];
            row.extend(block.iter().map(|count| format!("{count}")));
            table.add_row(row);
        }
        "Confusion matrix per label:"
    } else {
        let mut header = vec!["target \\ pred".to_owned()];
        header.extend(report.class_names.iter().cloned());
        table.set_header(header);
        for (class, counts) in matrix.axis_iter(Axis(0)).enumerate() {
            let mut row = vec![report.class_names[class].clone()];
            row.extend(counts.iter().map(|count| format!("{count}")));
            table.add_row(row);
        }
        "Confusion matrix (rows are targets, columns are predictions):"
    };
    for index in 1..table.column_count() {
        if let Some(column) = table.column_mut(index) {
            column.set_cell_alignment(CellAlignment::Right);
        }
    }
    format!("{title}\n\n{table}\n")
}

/// Renders the report as one JSON object: the averaged values keyed by metric name, then
/// `confusion_matrix` as a nested list of counts and `per_class` as an object of lists.
///
/// Undefined and non-finite values are `null`, and [`json_null_reasons`] gives the reasons.
pub fn render_json(report: &ClassificationReport) -> String {
    let mut lines = Vec::new();
    for result in &report.averaged {
        let value = match result.outcome {
            Outcome::Value(value) => number(value),
            _ => Json::Null,
        };
        lines.push(format!("  {}: {value}", Json::from(result.name)));
    }
    lines.push(format!(
        "  \"confusion_matrix\": {}",
        counts(report.confusion_matrix.view())
    ));

    let mut per_class = vec![format!(
        "    \"classes\": {}",
        Json::from(report.class_names.clone())
    )];
    for column in &report.per_class {
        let values = match &column.values {
            Ok(values) if column.name == "support" => values.iter().map(|&v| count(v)).collect(),
            Ok(values) => values.iter().map(|&v| number(v)).collect(),
            Err(_) => Json::Null,
        };
        per_class.push(format!("    {}: {values}", Json::from(column.name)));
    }
    lines.push(format!(
        "  \"per_class\": {{\n{}\n  }}",
        per_class.join(",\n")
    ));
    format!("{{\n{}\n}}\n", lines.join(",\n"))
}

/// Returns one line per `null` in the JSON output, naming the value and the reason.
pub fn json_null_reasons(report: &ClassificationReport) -> Vec<String> {
    let mut reasons = output::json_null_reasons(&report.averaged);
    for column in &report.per_class {
        match &column.values {
            Ok(values) => {
                for (class, value) in values.iter().enumerate() {
                    if !value.is_finite() {
                        reasons.push(format!(
                            "per_class.{}[{class}] is {value}, which JSON cannot represent, so \
                             it is written as null",
                            column.name
                        ));
                    }
                }
            }
            Err(reason) => reasons.push(format!(
                "per_class.{} is null, undefined: {reason}",
                column.name
            )),
        }
    }
    reasons
}

fn number(value: f64) -> Json {
    // serde_json (with float_roundtrip) prints the shortest digits that parse back to the f64.
    serde_json::Number::from_f64(value).map_or(Json::Null, Json::Number)
}

fn count(value: f64) -> Json {
    // Counts are whole numbers far below 2^53, so the conversion is exact.
    Json::from(value as u64)
}

/// Converts an array of counts into nested JSON lists of integers.
fn counts(array: ArrayViewD<'_, f64>) -> Json {
    if array.ndim() == 0 {
        return count(array[[]]);
    }
    Json::Array(array.axis_iter(Axis(0)).map(counts).collect())
}
