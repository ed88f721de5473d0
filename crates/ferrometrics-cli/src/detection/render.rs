//! Formatting the detection report as pycocotools' summary or as TorchMetrics' JSON keys.

use comfy_table::presets::ASCII_MARKDOWN;
use comfy_table::{CellAlignment, Table};

use super::Report;

/// Renders a header line, pycocotools' twelve summary lines and, with per-class results, a
/// Markdown table of AP and AR per category.
///
/// The summary lines use pycocotools' layout and its `%0.3f` rounding of the values.
pub fn table(report: &Report) -> String {
    let mut text = format!("{}\n\n{}", report.header, report.summary);

    if let Some(classes) = &report.classes {
        let largest = report.max_detections[report.max_detections.len() - 1];
        let mut table = Table::new();
        table.load_preset(ASCII_MARKDOWN);
        table.set_header(vec![
            "category_id".to_owned(),
            "name".to_owned(),
            "AP".to_owned(),
            format!("AR@{largest}"),
        ]);
        for class in classes {
            table.add_row(vec![
                class.category_id.to_string(),
                // A `|` would end the Markdown cell early.
                class.name.replace('|', "\\|"),
                format!("{:.3}", class.precision),
                format!("{:.3}", class.recall),
            ]);
        }
        for column in [0, 2, 3] {
            if let Some(column) = table.column_mut(column) {
                column.set_cell_alignment(CellAlignment::Right);
            }
        }
        text.push_str(&format!("\n{table}\n"));
    }
    text
}

/// Renders one JSON object with TorchMetrics' `MeanAveragePrecision` keys, in its order.
///
/// Values are printed with the fewest digits that read back as the same f64. The `mar_{d}` keys
/// are named after the max detection counts, and the per-class keys after the largest one.
pub fn json(report: &Report) -> String {
    let counts = &report.max_detections;
    let names = [
        "map".to_owned(),
        "map_50".to_owned(),
        "map_75".to_owned(),
        "map_small".to_owned(),
        "map_medium".to_owned(),
        "map_large".to_owned(),
        format!("mar_{}", counts[0]),
        format!("mar_{}", counts[1]),
        format!("mar_{}", counts[2]),
        "mar_small".to_owned(),
        "mar_medium".to_owned(),
        "mar_large".to_owned(),
    ];

    let mut lines: Vec<String> = names
        .iter()
        .zip(report.summary.stats)
        .map(|(name, value)| format!("  {}: {}", json_string(name), json_number(value)))
        .collect();

    if let Some(classes) = &report.classes {
        let largest = counts[counts.len() - 1];
        let precisions: Vec<String> = classes.iter().map(|c| json_number(c.precision)).collect();
        let recalls: Vec<String> = classes.iter().map(|c| json_number(c.recall)).collect();
        let ids: Vec<String> = classes.iter().map(|c| c.category_id.to_string()).collect();
        lines.push(format!("  \"map_per_class\": [{}]", precisions.join(", ")));
        lines.push(format!(
            "  {}: [{}]",
            json_string(&format!("mar_{largest}_per_class")),
            recalls.join(", ")
        ));
        lines.push(format!("  \"classes\": [{}]", ids.join(", ")));
    }

    format!("{{\n{}\n}}\n", lines.join(",\n"))
}

fn json_number(value: f64) -> String {
    // serde_json prints a finite f64 with the shortest digits that parse back to it. The values
    // are means of numbers in [0, 1], or -1, so they are always finite.
    serde_json::to_string(&value).unwrap_or_else(|_| "null".to_owned())
}

fn json_string(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| format!("\"{text}\""))
}

#[cfg(test)]
mod tests {
    /// pycocotools formats with Python's `'%0.3f'`, which rounds the exact binary value half to
    /// even; Rust's `{:.3}` must agree on exact ties.
    #[test]
    fn three_decimals_round_ties_like_python() {
        // python3 -c "print('%0.3f %0.3f %0.3f %0.3f %0.3f' %
        //   (0.0625, 0.1875, 0.4375, 0.3125, 0.0005))"
        // prints 0.062 0.188 0.438 0.312 0.001
        let cases = [
            (0.0625, "0.062"),
            (0.1875, "0.188"),
            (0.4375, "0.438"),
            (0.3125, "0.312"),
            (0.0005, "0.001"),
            (-1.0, "-1.000"),
        ];
        for (value, expected) in cases {
            assert_eq!(format!("{value:.3}"), expected, "{value}");
        }
    }
}
