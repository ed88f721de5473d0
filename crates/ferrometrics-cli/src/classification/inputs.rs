//! Reading the predictions and targets of the `classification` subcommand from a CSV file or
//! from two `.npy` files.

use std::path::{Path, PathBuf};

use ferrometrics::classification::Task;
use ferrometrics::Error;
use ndarray::{Array1, Array2, ArrayD, Axis};

use crate::cli::ClassificationArgs;
use crate::clustering::csv_delimiter;
use crate::error::CliError;
use crate::input::csv_reader::{read_csv, FeatureColumns};
use crate::input::integral_label;
use crate::input::npy_reader::{read_numeric, NumericArray};

/// The predictions read from the input.
pub enum PredsInput {
    /// Integer labels, one per target entry.
    Labels(ArrayD<i64>),
    /// Scores: one per target entry (binary, multilabel) or one per class (multiclass).
    Scores(ArrayD<f64>),
}

/// The files the input was read from.
pub enum Source {
    Csv(PathBuf),
    Npy { preds: PathBuf, target: PathBuf },
}

impl Source {
    /// Names the input in the report header.
    pub fn describe(&self) -> String {
        match self {
            Source::Csv(path) => path.display().to_string(),
            Source::Npy { preds, target } => {
                format!("{} and {}", preds.display(), target.display())
            }
        }
    }

    /// Turns an error of the library about the batch into an error naming the file at fault.
    pub fn batch_error(&self, error: &Error) -> CliError {
        match self {
            Source::Csv(path) => CliError::file(
                path,
                format!("{error} (index i is data row i, on line i + 2 of the file)"),
            ),
            Source::Npy { preds, target } => {
                let path = match error {
                    Error::InvalidInput { argument, .. } if argument == "target" => target,
                    _ => preds,
                };
                CliError::file(path, error.to_string())
            }
        }
    }
}

/// The predictions, the targets, and the names of the classes or labels.
pub struct Inputs {
    pub source: Source,
    pub preds: PredsInput,
    pub target: ArrayD<i64>,
    /// The target column names for a multilabel CSV input, otherwise empty.
    pub label_names: Vec<String>,
}

/// Checks that a CSV input has its columns or reads the `.npy` targets, which are needed before
/// the predictions because a multilabel task takes its label count from them.
pub fn read_target_npy(args: &ClassificationArgs) -> Result<Option<ArrayD<i64>>, CliError> {
    let Some(path) = &args.target_npy else {
        if args.file.is_none() {
            return Err(CliError::option(
                "FILE",
                "missing input, pass a CSV file with --preds and --target, or --preds-npy and \
                 --target-npy",
            ));
        }
        if args.preds.is_empty() || args.target.is_empty() {
            return Err(CliError::option(
                if args.preds.is_empty() {
                    "--preds"
                } else {
                    "--target"
                },
                "missing, a CSV input needs both --preds and --target columns",
            ));
        }
        return Ok(None);
    };
    let target = match read_numeric(path)? {
        NumericArray::Int(target) => target,
        NumericArray::Float(_) => {
            return Err(CliError::file(
                path,
                "the targets have a float dtype, expected integer labels, save them with \
                 .astype(numpy.int64)",
            ))
        }
    };
    Ok(Some(target))
}

/// Number of labels of a multilabel input: the target columns of the CSV file or the second
/// axis of the target array.
pub fn multilabel_count(
    args: &ClassificationArgs,
    target_npy: Option<&ArrayD<i64>>,
) -> Result<usize, CliError> {
    match (target_npy, &args.target_npy) {
        (Some(target), Some(path)) => {
            if target.ndim() < 2 {
                return Err(CliError::file(
                    path,
                    format!(
                        "the targets have shape {:?}, the multilabel task needs (N, L) with one \
                         column per label",
                        target.shape()
                    ),
                ));
            }
            Ok(target.shape()[1])
        }
        _ => Ok(args.target.len()),
    }
}

/// Reads the predictions and the targets.
pub fn read_inputs(
    args: &ClassificationArgs,
    task: Task,
    num_classes: usize,
    target_npy: Option<ArrayD<i64>>,
) -> Result<Inputs, CliError> {
    if let (Some(target), Some(preds_path), Some(target_path)) =
        (target_npy, &args.preds_npy, &args.target_npy)
    {
        let preds = match read_numeric(preds_path)? {
            NumericArray::Int(labels) => PredsInput::Labels(labels),
            NumericArray::Float(scores) => PredsInput::Scores(scores),
        };
        return Ok(Inputs {
            source: Source::Npy {
                preds: preds_path.clone(),
                target: target_path.clone(),
            },
            preds,
            target,
            label_names: Vec::new(),
        });
    }
    let file = args.file.as_ref().expect("checked by read_target_npy");
    check_column_counts(args, task, num_classes)?;
    let delimiter = csv_delimiter(args.delimiter)?;
    let target_columns: Vec<&str> = args.target.iter().map(String::as_str).collect();
    let columns = read_csv(
        file,
        delimiter,
        &target_columns,
        FeatureColumns::Named(&args.preds),
    )?;
    let preds_matrix = columns
        .features
        .ok_or_else(|| CliError::option("--preds", "no prediction column was read"))?;
    let target = stack_targets(&columns.labels, task);
    let preds = csv_preds(file, &args.preds, task, preds_matrix)?;
    let label_names = if task == Task::Multilabel {
        args.target.clone()
    } else {
        Vec::new()
    };
    Ok(Inputs {
        source: Source::Csv(file.clone()),
        preds,
        target,
        label_names,
    })
}

fn check_column_counts(
    args: &ClassificationArgs,
    task: Task,
    num_classes: usize,
) -> Result<(), CliError> {
    let (targets, preds) = (args.target.len(), args.preds.len());
    match task {
        Task::Binary | Task::Multiclass if targets != 1 => Err(CliError::option(
            "--target",
            format!("got {targets} columns, the binary and multiclass tasks take one"),
        )),
        Task::Binary if preds != 1 => Err(CliError::option(
            "--preds",
            format!("got {preds} columns, the binary task takes one column of labels or scores"),
        )),
        Task::Multiclass if preds != 1 && preds != num_classes => Err(CliError::option(
            "--preds",
            format!(
                "got {preds} columns, pass one column of class indices or one score column per \
                 class ({num_classes})"
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

/// Reads the CSV prediction columns: one multiclass column as class indices, everything else as
/// scores (0/1 labels read as scores give the same thresholded labels).
fn csv_preds(
    file: &Path,
    columns: &[String],
    task: Task,
    matrix: Array2<f64>,
) -> Result<PredsInput, CliError> {
    if task == Task::Multiclass && matrix.ncols() == 1 {
        let mut labels = Vec::with_capacity(matrix.nrows());
        for (row, &value) in matrix.column(0).iter().enumerate() {
            let label = integral_label(value).ok_or_else(|| {
                CliError::file(
                    file,
                    format!(
                        "line {}, column \"{}\": {value} is not a class index; one multiclass \
                         prediction column contains integer labels",
                        row + 2,
                        columns[0]
                    ),
                )
            })?;
            labels.push(label);
        }
        return Ok(PredsInput::Labels(Array1::from(labels).into_dyn()));
    }
    if task == Task::Binary {
        return Ok(PredsInput::Scores(matrix.column(0).to_owned().into_dyn()));
    }
    Ok(PredsInput::Scores(matrix.into_dyn()))
}
