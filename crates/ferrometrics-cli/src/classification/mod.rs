//! The `classification` subcommand: read predictions and targets from a CSV file or two `.npy`
//! files and report the classification metrics of the task, per class and averaged, with the
//! confusion matrix.

mod inputs;
mod render;

use ferrometrics::classification::{
    Accuracy, Auroc, Average, AveragePrecision, ClassificationBatch, CohenKappa, ConfusionMatrix,
    ExactMatch, F1Score, HammingDistance, JaccardIndex, KappaWeights, MatthewsCorrCoef, Normalize,
    Precision, Preds, Recall, Specificity, StatScores, Task, TaskConfig, Thresholds,
};
use ferrometrics::{DynMetric, Error, Value};
use ndarray::{ArrayD, Axis};

use crate::cli::{ClassAverageArg, ClassificationArgs, Format, TaskArg};
use crate::clustering::Printout;
use crate::error::CliError;
use crate::report::{MetricResult, Outcome};

use inputs::{Inputs, PredsInput};

/// One column of the per-class table: a value per class, or the reason it has none.
pub struct PerClassColumn {
    /// The metric's function name, such as `precision`, or `support`.
    pub name: &'static str,
    pub values: Result<Vec<f64>, String>,
}

/// Everything the report prints.
pub struct ClassificationReport {
    pub header: String,
    /// Names of the per-class rows: class indices, or the target columns of a multilabel CSV.
    pub class_names: Vec<String>,
    pub per_class: Vec<PerClassColumn>,
    pub averaged: Vec<MetricResult>,
    /// Title of the averaged metrics, naming the reduction.
    pub averaged_title: String,
    /// `(C, C)` for binary (C = 2) and multiclass, `(L, 2, 2)` for multilabel, in counts.
    pub confusion_matrix: ArrayD<f64>,
    pub task: Task,
}

/// Runs the subcommand and returns what to print.
pub fn run(args: &ClassificationArgs) -> Result<Printout, CliError> {
    let target_npy = inputs::read_target_npy(args)?;
    let num_labels = if args.task == TaskArg::Multilabel {
        inputs::multilabel_count(args, target_npy.as_ref())?
    } else {
        0
    };
    let config = task_config(args, num_labels)?;
    let average = match args.average {
        ClassAverageArg::Micro => Average::Micro,
        ClassAverageArg::Macro => Average::Macro,
        ClassAverageArg::Weighted => Average::Weighted,
    };
    let inputs = inputs::read_inputs(args, config.task(), config.num_classes(), target_npy)?;
    let report = build_report(args, &config, average, &inputs)?;

    let printout = match args.format {
        Format::Table => Printout {
            stdout: render::render_table(&report),
            warnings: Vec::new(),
        },
        Format::Json => Printout {
            stdout: render::render_json(&report),
            warnings: render::json_null_reasons(&report),
        },
    };
    Ok(printout)
}

fn build_report(
    args: &ClassificationArgs,
    config: &TaskConfig,
    average: Average,
    inputs: &Inputs,
) -> Result<ClassificationReport, CliError> {
    let scores = matches!(inputs.preds, PredsInput::Scores(_));
    let run_metric = |metric: &mut dyn DynMetric<ClassificationBatch>,
                      preds: &PredsInput|
     -> Result<ferrometrics::Result<Value>, CliError> {
        let batch = match preds {
            PredsInput::Labels(labels) => Preds::Labels(labels.view()),
            PredsInput::Scores(scores) => Preds::F64(scores.view()),
        };
        metric
            .update((batch, inputs.target.view()))
            .map_err(|error| inputs.source.batch_error(&error))?;
        Ok(metric.compute())
    };

    // The confusion matrix runs first, so that a bad batch is reported before any other work.
    let mut confusion =
        ConfusionMatrix::new(*config, Normalize::None).map_err(metric_config_error)?;
    let confusion_matrix = match run_metric(&mut confusion, &inputs.preds)? {
        Ok(Value::Array(matrix)) => matrix,
        Ok(other) => unreachable!("a confusion matrix is an array, got {other:?}"),
        Err(error) => return Err(inputs.source.batch_error(&error)),
    };
    let n = inputs.target.shape()[0];

    let mut averaged = Vec::new();
    for (name, mut metric) in
        averaged_metrics(config, average, scores).map_err(metric_config_error)?
    {
        let outcome = match run_metric(metric.as_mut(), &inputs.preds)? {
            Ok(Value::Scalar(value)) => Outcome::Value(value),
            Ok(other) => Outcome::Undefined(format!("the metric returned {other:?}")),
            Err(error) => Outcome::Undefined(error.to_string()),
        };
        averaged.push(MetricResult {
            name,
            higher_is_better: metric.info().higher_is_better,
            outcome,
        });
    }

    // The binary per-class rows are those of a two-class multiclass task on the thresholded
    // labels, as scikit-learn reports classes 0 and 1.
    let (per_class_config, per_class_preds) = match config.task() {
        Task::Binary => {
            let labels = binary_labels(&inputs.preds, config.threshold());
            let two_classes = match config.ignore_index() {
                Some(index) => TaskConfig::multiclass(2).with_ignore_index(index),
                None => TaskConfig::multiclass(2),
            };
            (two_classes, PredsInput::Labels(labels))
        }
        _ => (*config, clone_preds(&inputs.preds)),
    };
    let mut per_class = Vec::new();
    let with_curves = scores && config.task() != Task::Binary;
    for (name, mut metric) in
        per_class_metrics(&per_class_config, with_curves).map_err(metric_config_error)?
    {
        let values = match run_metric(metric.as_mut(), &per_class_preds)? {
            Ok(Value::Array(values)) if name == "support" => {
                // StatScores gives [tp, fp, tn, fn, support] per class.
                Ok(values.index_axis(Axis(1), 4).iter().copied().collect())
            }
            Ok(Value::Array(values)) => Ok(values.iter().copied().collect()),
            Ok(other) => Err(format!("the metric returned {other:?}")),
            Err(error) => Err(error.to_string()),
        };
        per_class.push(PerClassColumn { name, values });
    }

    let classes = per_class_config.num_classes();
    let class_names = if inputs.label_names.len() == classes {
        inputs.label_names.clone()
    } else {
        (0..classes).map(|class| class.to_string()).collect()
    };
    let averaged_title = match config.task() {
        Task::Binary => "Positive class (1):".to_owned(),
        _ => format!(
            "Averaged over classes (--average {}):",
            average_name(args.average)
        ),
    };
    let header = format!(
        "{} classification metrics of {}; n = {n}",
        task_name(args.task),
        inputs.source.describe()
    );
    Ok(ClassificationReport {
        header,
        class_names,
        per_class,
        averaged,
        averaged_title,
        confusion_matrix,
        task: config.task(),
    })
}

fn clone_preds(preds: &PredsInput) -> PredsInput {
    match preds {
        PredsInput::Labels(labels) => PredsInput::Labels(labels.clone()),
        PredsInput::Scores(scores) => PredsInput::Scores(scores.clone()),
    }
}

/// Thresholds binary predictions as the library does: scores pass through the sigmoid when any
/// lies outside [0, 1], and a probability above `threshold` is class 1.
///
/// Labels are returned unchanged, because the confusion matrix has already checked that they
/// are 0 or 1.
fn binary_labels(preds: &PredsInput, threshold: f64) -> ArrayD<i64> {
    match preds {
        PredsInput::Labels(labels) => labels.clone(),
        PredsInput::Scores(scores) => {
            let logits = scores.iter().any(|&x| !(0.0..=1.0).contains(&x));
            scores.mapv(|x| {
                let probability = if logits { sigmoid(x) } else { x };
                i64::from(probability > threshold)
            })
        }
    }
}

fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

fn average_name(average: ClassAverageArg) -> &'static str {
    match average {
        ClassAverageArg::Micro => "micro",
        ClassAverageArg::Macro => "macro",
        ClassAverageArg::Weighted => "weighted",
    }
}

fn task_name(task: TaskArg) -> &'static str {
    match task {
        TaskArg::Binary => "binary",
        TaskArg::Multiclass => "multiclass",
        TaskArg::Multilabel => "multilabel",
    }
}

/// Returns the error for a metric that rejects the configuration, naming `--num-classes` when
/// the number of classes is the cause, as for a confusion matrix too large to allocate.
fn metric_config_error(error: Error) -> CliError {
    match &error {
        Error::InvalidArgument { argument, .. } if argument == "num_classes" => {
            CliError::option("--num-classes", error.to_string())
        }
        _ => CliError::option("--task", error.to_string()),
    }
}

/// Builds and validates the task configuration.
fn task_config(args: &ClassificationArgs, num_labels: usize) -> Result<TaskConfig, CliError> {
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
        TaskArg::Multilabel => TaskConfig::multilabel(num_labels),
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
            if args.target_npy.is_some() {
                "--target-npy"
            } else {
                "--target"
            },
            format!("the multilabel task needs 2 or more labels, got {num_labels}"),
        ),
        _ => CliError::option("--num-classes", error.to_string()),
    })?;
    Ok(config)
}

type NamedMetric = (&'static str, Box<dyn DynMetric<ClassificationBatch>>);

/// Builds the metrics reported as one averaged value each.
fn averaged_metrics(
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
        let curve_config = curve_config(config);
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

/// Builds the metrics reported per class: the stat-score family, the support, and the curve
/// metrics when `with_curves`.
fn per_class_metrics(
    config: &TaskConfig,
    with_curves: bool,
) -> ferrometrics::Result<Vec<NamedMetric>> {
    let none = Average::None;
    let mut metrics: Vec<NamedMetric> = vec![
        ("precision", Box::new(Precision::new(*config, none)?)),
        ("recall", Box::new(Recall::new(*config, none)?)),
        ("f1_score", Box::new(F1Score::new(*config, none)?)),
        ("specificity", Box::new(Specificity::new(*config, none)?)),
        ("jaccard_index", Box::new(JaccardIndex::new(*config, none)?)),
        ("support", Box::new(StatScores::new(*config, none)?)),
    ];
    if with_curves {
        let curve_config = curve_config(config);
        metrics.push((
            "auroc",
            Box::new(Auroc::new(curve_config, Thresholds::Exact, none, None)?),
        ));
        metrics.push((
            "average_precision",
            Box::new(AveragePrecision::new(
                curve_config,
                Thresholds::Exact,
                none,
            )?),
        ));
    }
    Ok(metrics)
}

/// Copies the task and ignore index of `config` for the curve metrics, which take no threshold.
fn curve_config(config: &TaskConfig) -> TaskConfig {
    let curve_config = match config.task() {
        Task::Binary => TaskConfig::binary(),
        Task::Multiclass => TaskConfig::multiclass(config.num_classes()),
        Task::Multilabel => TaskConfig::multilabel(config.num_classes()),
    };
    match config.ignore_index() {
        Some(ignore_index) => curve_config.with_ignore_index(ignore_index),
        None => curve_config,
    }
}
