//! The `classification` subcommand: read predictions and targets from a CSV file and report the
//! classification metrics of the task.

use ferrometrics::classification::{
    Accuracy, Auroc, Average, AveragePrecision, ClassificationBatch, CohenKappa, ExactMatch,
    F1Score, HammingDistance, JaccardIndex, KappaWeights, MatthewsCorrCoef, Precision, Preds,
    Recall, Specificity, Task, TaskConfig, Thresholds,
};
use ferrometrics::{DynMetric, Error, Value};
use ndarray::{Array1, Array2, ArrayD, Axis};

use crate::cli::{ClassAverageArg, ClassificationArgs, Format, TaskArg};
use crate::clustering::{csv_delimiter, Printout};
use crate::error::CliError;
use crate::input::csv_reader::{read_csv, FeatureColumns};
use crate::input::integral_label;
use crate::output;
use crate::report::{MetricResult, Outcome};

/// The predictions read from the file.
enum PredsInput {
    /// Integer labels, one per target entry.
    Labels(ArrayD<i64>),
    /// Scores: one per target entry (binary, multilabel) or one per class (multiclass).
    Scores(ArrayD<f64>),
}

/// Runs the subcommand and returns what to print.
pub fn run(args: &ClassificationArgs) -> Result<Printout, CliError> {
    let config = task_config(args)?;
    let average = match args.average {
        ClassAverageArg::Micro => Average::Micro,
        ClassAverageArg::Macro => Average::Macro,
        ClassAverageArg::Weighted => Average::Weighted,
    };
    check_column_counts(args, &config)?;
    let delimiter = csv_delimiter(args.delimiter)?;

    let target_columns: Vec<&str> = args.target.iter().map(String::as_str).collect();
    let columns = read_csv(
        &args.file,
        delimiter,
        &target_columns,
        FeatureColumns::Named(&args.preds),
    )?;
    let preds_matrix = columns
        .features
        .ok_or_else(|| CliError::option("--preds", "no prediction column was read"))?;
    let n = preds_matrix.nrows();
    let target = stack_targets(&columns.labels, config.task());
    let preds = preds_input(args, &config, preds_matrix)?;

    let metrics = build_metrics(&config, average, matches!(preds, PredsInput::Scores(_)))
        .map_err(|e| CliError::option("--task", e.to_string()))?;
    let mut results = Vec::with_capacity(metrics.len());
    for (name, mut metric) in metrics {
        let batch = match &preds {
            PredsInput::Labels(labels) => Preds::Labels(labels.view()),
            PredsInput::Scores(scores) => Preds::F64(scores.view()),
        };
        metric.update((batch, target.view())).map_err(|e| {
            let message = format!("{e} (index i is data row i, on line i + 2 of the file)");
            CliError::file(&args.file, message)
        })?;
        let outcome = match metric.compute() {
            Ok(Value::Scalar(value)) => Outcome::Value(value),
            Ok(other) => Outcome::Undefined(format!("the metric returned {other:?}")),
            Err(error) => Outcome::Undefined(error.to_string()),
        };
        results.push(MetricResult {
            name,
            higher_is_better: metric.info().higher_is_better,
            outcome,
        });
    }

    let header = format!(
        "{} classification metrics of {}; n = {n}",
        task_name(args.task),
        args.file.display()
    );
    let printout = match args.format {
        Format::Table => Printout {
            stdout: output::render_table(&header, &results),
            warnings: Vec::new(),
        },
        Format::Json => Printout {
            stdout: output::render_json(&results),
            warnings: output::json_null_reasons(&results),
        },
    };
    Ok(printout)
}

fn task_name(task: TaskArg) -> &'static str {
    match task {
        TaskArg::Binary => "binary",
        TaskArg::Multiclass => "multiclass",
        TaskArg::Multilabel => "multilabel",
    }
}

/// Builds and validates the task configuration before any file is read.
fn task_config(args: &ClassificationArgs) -> Result<TaskConfig, CliError> {
    let mut config = match args.task {
        TaskArg::Binary => TaskConfig::binary(),
        TaskArg::Multiclass => {
            let num_classes = args.num_classes.ok_or_else(|| {
                CliError::option(
                    "--num-classes",
                    "missing, the multiclass task needs the number of classes, for example \
                     --num-classes 3",
                )
            })?;
            TaskConfig::multiclass(num_classes)
        }
        TaskArg::Multilabel => TaskConfig::multilabel(args.target.len()),
    };
    if args.num_classes.is_some() && args.task != TaskArg::Multiclass {
        return Err(CliError::option(
            "--num-classes",
            "applies to the multiclass task only, drop it",
        ));
    }
    config = config.with_threshold(args.threshold);
    if let Some(ignore_index) = args.ignore_index {
        config = config.with_ignore_index(ignore_index);
    }
    config.validate().map_err(|error| match &error {
        Error::InvalidArgument { argument, .. } if argument == "threshold" => {
            CliError::option("--threshold", error.to_string())
        }
        Error::InvalidArgument { argument, .. } if argument == "num_labels" => CliError::option(
            "--target",
            "the multilabel task needs 2 or more target columns",
        ),
        _ => CliError::option("--num-classes", error.to_string()),
    })?;
    Ok(config)
}

fn check_column_counts(args: &ClassificationArgs, config: &TaskConfig) -> Result<(), CliError> {
    let (targets, preds) = (args.target.len(), args.preds.len());
    match config.task() {
        Task::Binary | Task::Multiclass if targets != 1 => Err(CliError::option(
            "--target",
            format!("got {targets} columns, the binary and multiclass tasks take one"),
        )),
        Task::Binary if preds != 1 => Err(CliError::option(
            "--preds",
            format!("got {preds} columns, the binary task takes one column of labels or scores"),
        )),
        Task::Multiclass if preds != 1 && preds != config.num_classes() => Err(CliError::option(
            "--preds",
            format!(
                "got {preds} columns, pass one column of class indices or one score column per \
                 class ({})",
                config.num_classes()
            ),
        )),
        Task::Multilabel if preds != targets => Err(CliError::option(
            "--preds",
            format!("got {preds} columns for {targets} target columns, pass one per label"),
        )),
        _ => Ok(()),
    }
}

/// Stacks the target columns into `(N,)` or, for multilabel, `(N, L)`.
fn stack_targets(columns: &[Array1<i64>], task: Task) -> ArrayD<i64> {
    if task != Task::Multilabel {
        return columns[0].clone().into_dyn();
    }
    let views: Vec<_> = columns.iter().map(|column| column.view()).collect();
    ndarray::stack(Axis(1), &views)
        .expect("every column has one entry per row")
        .into_dyn()
}

/// Reads the prediction columns as labels when every entry is an integer and the task takes
/// labels that way (one multiclass column, or 0/1 entries), and as scores otherwise.
fn preds_input(
    args: &ClassificationArgs,
    config: &TaskConfig,
    matrix: Array2<f64>,
) -> Result<PredsInput, CliError> {
    let one_column_multiclass = config.task() == Task::Multiclass && matrix.ncols() == 1;
    if one_column_multiclass {
        let mut labels = Vec::with_capacity(matrix.nrows());
        for (row, &value) in matrix.column(0).iter().enumerate() {
            let label = integral_label(value).ok_or_else(|| {
                CliError::file(
                    &args.file,
                    format!(
                        "line {}, column \"{}\": {value} is not a class index; one multiclass \
                         prediction column contains integer labels",
                        row + 2,
                        args.preds[0]
                    ),
                )
            })?;
            labels.push(label);
        }
        return Ok(PredsInput::Labels(Array1::from(labels).into_dyn()));
    }
    if config.task() == Task::Binary {
        return Ok(PredsInput::Scores(matrix.column(0).to_owned().into_dyn()));
    }
    Ok(PredsInput::Scores(matrix.into_dyn()))
}

type NamedMetric = (&'static str, Box<dyn DynMetric<ClassificationBatch>>);

/// Builds the metrics reported for the task.
fn build_metrics(
    config: &TaskConfig,
    average: Average,
    scores: bool,
) -> ferrometrics::Result<Vec<NamedMetric>> {
    let mut metrics: Vec<NamedMetric> = vec![
        ("accuracy", Box::new(Accuracy::new(*config, average)?)),
        ("precision", Box::new(Precision::new(*config, average)?)),
        ("recall", Box::new(Recall::new(*config, average)?)),
        ("f1_score", Box::new(F1Score::new(*config, average)?)),
        ("specificity", Box::new(Specificity::new(*config, average)?)),
        (
            "jaccard_index",
            Box::new(JaccardIndex::new(*config, average)?),
        ),
        (
            "hamming_distance",
            Box::new(HammingDistance::new(*config, average)?),
        ),
        (
            "matthews_corrcoef",
            Box::new(MatthewsCorrCoef::new(*config)?),
        ),
    ];
    match config.task() {
        Task::Multilabel => {
            metrics.push(("exact_match", Box::new(ExactMatch::new(*config)?)));
        }
        _ => {
            metrics.push((
                "cohen_kappa",
                Box::new(CohenKappa::new(*config, KappaWeights::None)?),
            ));
        }
    }
    if scores {
        let curve_config = match config.task() {
            Task::Binary => TaskConfig::binary(),
            Task::Multiclass => TaskConfig::multiclass(config.num_classes()),
            Task::Multilabel => TaskConfig::multilabel(config.num_classes()),
        };
        let curve_config = match config.ignore_index() {
            Some(ignore_index) => curve_config.with_ignore_index(ignore_index),
            None => curve_config,
        };
        metrics.push((
            "auroc",
            Box::new(Auroc::new(curve_config, Thresholds::Exact, average, None)?),
        ));
        metrics.push((
            "average_precision",
            Box::new(AveragePrecision::new(
                curve_config,
                Thresholds::Exact,
                average,
            )?),
        ));
    }
    Ok(metrics)
}
