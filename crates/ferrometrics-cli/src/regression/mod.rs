//! The `regression` subcommand: read the predicted and true values, compute every applicable
//! regression metric and format the report.

mod bootstrap;
mod bootstrap_output;
mod metrics;

use std::path::Path;

use ndarray::Array1;

use self::bootstrap::{bootstrap, BootstrapPlan};
use self::metrics::{evaluate, report_metrics, RegressionOptions};
use crate::cli::{Format, RegressionArgs};
use crate::clustering::{csv_delimiter, Printout};
use crate::error::CliError;
use crate::input::{csv_reader, npy_reader};
use crate::output;
use crate::progress;
use crate::report::MetricResult;

/// The position of sample `i` in the input files, named in the reasons of skipped metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Locator {
    /// Sample `i` is on line `i + 2` of a CSV file, after the header.
    CsvLines,
    /// Sample `i` is at index `i` of an `.npy` array.
    NpyIndices,
}

impl Locator {
    pub(crate) fn describe(self, sample: usize) -> String {
        match self {
            Locator::CsvLines => format!("line {}", sample + 2),
            Locator::NpyIndices => format!("index {sample}"),
        }
    }
}

/// The predicted and true values, read and checked.
struct Inputs {
    preds: Array1<f64>,
    target: Array1<f64>,
    /// The files and columns, for the report's header line.
    origin: String,
    locator: Locator,
}

/// Runs the subcommand and returns what to print.
pub fn run(args: &RegressionArgs) -> Result<Printout, CliError> {
    let options = RegressionOptions::from_args(args)?;
    let bootstrap_plan = BootstrapPlan::from_args(args)?;
    let delimiter = csv_delimiter(args.delimiter)?;
    let inputs = read_inputs(args, delimiter)?;
    let n = inputs.preds.len();
    let mut header = format!("regression metrics of {}; n = {n}", inputs.origin);

    let (preds, target) = (inputs.preds.view(), inputs.target.view());
    let metrics = report_metrics(preds, target, inputs.locator, &options);
    let bar = progress::metrics_bar(n);
    let results = evaluate(&metrics, preds, target, &bar);

    let Some(plan) = bootstrap_plan else {
        return Ok(printout(args.format, &header, &results));
    };
    let bar = progress::metrics_bar(n.saturating_mul(plan.replicates));
    let report = bootstrap(&metrics, &results, preds, target, &plan, &bar);
    header.push_str(&format!("; {}", plan.describe(report.empty_replicates)));
    let printout = match args.format {
        Format::Table => Printout {
            stdout: bootstrap_output::render_table(&header, &results, &report),
            warnings: Vec::new(),
        },
        Format::Json => {
            let mut warnings = output::json_null_reasons(&results);
            warnings.extend(bootstrap_output::json_null_reasons(&results, &report));
            Printout {
                stdout: bootstrap_output::render_json(&results, &report),
                warnings,
            }
        }
    };
    Ok(printout)
}

fn printout(format: Format, header: &str, results: &[MetricResult]) -> Printout {
    match format {
        Format::Table => Printout {
            stdout: output::render_table(header, results),
            warnings: Vec::new(),
        },
        Format::Json => Printout {
            stdout: output::render_json(results),
            warnings: output::json_null_reasons(results),
        },
    }
}

fn read_inputs(args: &RegressionArgs, delimiter: u8) -> Result<Inputs, CliError> {
    match (
        &args.file,
        &args.preds,
        &args.target,
        &args.preds_npy,
        &args.target_npy,
    ) {
        (Some(file), Some(preds), Some(target), _, _) => {
            let columns = csv_reader::read_value_columns(file, delimiter, &[preds, target])?;
            let [preds_values, target_values]: [Array1<f64>; 2] = columns
                .try_into()
                .map_err(|_| CliError::file(file, "failed to read the two requested columns"))?;
            Ok(Inputs {
                preds: preds_values,
                target: target_values,
                origin: format!(
                    "{} (preds: \"{preds}\", target: \"{target}\")",
                    file.display()
                ),
                locator: Locator::CsvLines,
            })
        }
        (_, _, _, Some(preds_path), Some(target_path)) => {
            let preds = npy_reader::read_values(preds_path)?;
            let target = npy_reader::read_values(target_path)?;
            check_same_length(preds_path, &preds, target_path, &target)?;
            Ok(Inputs {
                preds,
                target,
                origin: format!(
                    "preds {}, target {}",
                    preds_path.display(),
                    target_path.display()
                ),
                locator: Locator::NpyIndices,
            })
        }
        _ => Err(CliError::option(
            "regression",
            "missing inputs, pass FILE.csv with --preds COL and --target COL, or --preds-npy and \
             --target-npy",
        )),
    }
}

fn check_same_length(
    preds_path: &Path,
    preds: &Array1<f64>,
    target_path: &Path,
    target: &Array1<f64>,
) -> Result<(), CliError> {
    if preds.len() == target.len() {
        return Ok(());
    }
    Err(CliError::file(
        target_path,
        format!(
            "length mismatch: target has {} values but preds {} has {}, pass one value per \
             sample in both",
            target.len(),
            preds_path.display(),
            preds.len()
        ),
    ))
}
