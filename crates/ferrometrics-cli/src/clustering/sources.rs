//! Input sources of the subcommand, resolved from the options, and the reading and checking of
//! the inputs.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use ndarray::Array1;

use crate::cli::ClusteringArgs;
use crate::error::CliError;
use crate::input::csv_reader::{read_csv, FeatureColumns};
use crate::input::{npy_reader, Features};
use crate::report::{DataLabels, LabelPairs};

/// Origin of one label vector: a column of the CSV file or an `.npy` file.
#[derive(Debug, Clone, PartialEq, Eq)]
enum LabelSource {
    Column(String),
    Npy(PathBuf),
}

/// Origin of the feature matrix: columns of the CSV file or an `.npy` file.
#[derive(Debug, Clone, PartialEq, Eq)]
enum FeatureSource {
    Columns(Vec<String>),
    AllColumns,
    Npy(PathBuf),
}

/// The sources of every input that the options ask for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Sources {
    /// `(target, preds)`, for the extrinsic metrics.
    pairs: Option<(LabelSource, LabelSource)>,
    /// `(data, labels)`, for the intrinsic metrics.
    data_labels: Option<(FeatureSource, LabelSource)>,
}

impl Sources {
    pub(super) fn from_args(args: &ClusteringArgs) -> Result<Self, CliError> {
        let pairs = match (&args.target, &args.preds, &args.target_npy, &args.preds_npy) {
            (Some(target), Some(preds), _, _) => Some((
                LabelSource::Column(target.clone()),
                LabelSource::Column(preds.clone()),
            )),
            (_, _, Some(target), Some(preds)) => Some((
                LabelSource::Npy(target.clone()),
                LabelSource::Npy(preds.clone()),
            )),
            _ => None,
        };

        let features = if let Some(data) = &args.data {
            Some(FeatureSource::Npy(data.clone()))
        } else if args.all_features {
            Some(FeatureSource::AllColumns)
        } else if !args.features.is_empty() {
            Some(FeatureSource::Columns(args.features.clone()))
        } else {
            None
        };

        let labels = match (&args.labels, &features) {
            (Some(_), None) => {
                return Err(CliError::option(
                    "--labels",
                    "given without features, pass --data, --features or --all-features as well",
                ))
            }
            (Some(labels), Some(FeatureSource::Npy(_))) => {
                Some(LabelSource::Npy(PathBuf::from(labels)))
            }
            (Some(labels), Some(_)) => Some(LabelSource::Column(labels.clone())),
            (None, _) => pairs.as_ref().map(|(_, preds)| preds.clone()),
        };

        let data_labels = match (features, labels) {
            (Some(features), Some(labels)) => Some((features, labels)),
            (Some(_), None) => {
                return Err(CliError::option(
                    "--labels",
                    "missing, pass the cluster labels of the feature rows with --labels, or \
                     predicted labels with --preds or --preds-npy",
                ))
            }
            _ => None,
        };

        if pairs.is_none() && data_labels.is_none() {
            let message = "no input selected, pass --target and --preds (columns of FILE.csv), \
                           --target-npy and --preds-npy, or features with --labels";
            return Err(match &args.file {
                Some(file) => CliError::file(file, message),
                None => CliError::option("clustering", message),
            });
        }
        Ok(Self { pairs, data_labels })
    }

    /// Names of the CSV columns read as labels, in a fixed order.
    fn label_columns(&self) -> Vec<&str> {
        let mut columns = Vec::new();
        let label_sources = self
            .pairs
            .iter()
            .flat_map(|(target, preds)| [target, preds])
            .chain(self.data_labels.iter().map(|(_, labels)| labels));
        for source in label_sources {
            if let LabelSource::Column(name) = source {
                if !columns.contains(&name.as_str()) {
                    columns.push(name.as_str());
                }
            }
        }
        columns
    }

    pub(super) fn read(&self, file: Option<&Path>, delimiter: u8) -> Result<Inputs, CliError> {
        let label_columns = self.label_columns();
        let feature_columns = match self.data_labels.as_ref().map(|(features, _)| features) {
            Some(FeatureSource::Columns(names)) => FeatureColumns::Named(names),
            Some(FeatureSource::AllColumns) => FeatureColumns::AllExceptLabels,
            _ => FeatureColumns::None,
        };
        let reads_csv =
            !label_columns.is_empty() || !matches!(feature_columns, FeatureColumns::None);

        let mut csv = CsvData::default();
        if let (Some(path), true) = (file, reads_csv) {
            let columns = read_csv(path, delimiter, &label_columns, feature_columns)?;
            csv.path = path.to_path_buf();
            csv.labels = label_columns
                .iter()
                .map(|name| name.to_string())
                .zip(columns.labels)
                .collect();
            csv.features = columns
                .features
                .map(|matrix| (matrix, columns.feature_names));
        } else if let Some(path) = file {
            return Err(CliError::file(
                path,
                "no column selected, pass --target and --preds, or --features and --labels",
            ));
        }

        let pairs = match &self.pairs {
            Some((target, preds)) => Some((csv.labels(target)?, csv.labels(preds)?)),
            None => None,
        };
        let data_labels = match &self.data_labels {
            Some((features, labels)) => Some((csv.features(features)?, csv.labels(labels)?)),
            None => None,
        };
        Ok(Inputs { pairs, data_labels })
    }
}

/// The columns read from the CSV file, handed out by source.
#[derive(Debug, Default)]
struct CsvData {
    path: PathBuf,
    labels: HashMap<String, Array1<i64>>,
    features: Option<(ndarray::Array2<f64>, Vec<String>)>,
}

impl CsvData {
    fn labels(&self, source: &LabelSource) -> Result<NamedLabels, CliError> {
        match source {
            LabelSource::Column(name) => {
                let labels = self.labels.get(name).cloned().unwrap_or_default();
                Ok(Named {
                    value: labels,
                    origin: Origin::column(&self.path, name),
                })
            }
            LabelSource::Npy(path) => Ok(Named {
                value: npy_reader::read_labels(path)?,
                origin: Origin::file(path),
            }),
        }
    }

    /// Returns the features of `source`, moving the CSV feature matrix out, because exactly one
    /// feature source is ever read.
    fn features(&mut self, source: &FeatureSource) -> Result<Named<Features>, CliError> {
        match source {
            FeatureSource::Npy(path) => Ok(Named {
                value: npy_reader::read_features(path)?,
                origin: Origin::file(path),
            }),
            FeatureSource::Columns(_) | FeatureSource::AllColumns => {
                let (matrix, names) = self.features.take().unwrap_or_default();
                Ok(Named {
                    value: Features::F64(matrix),
                    origin: Origin::columns(&self.path, names),
                })
            }
        }
    }
}

/// A value with the name of the file, and of the CSV columns, that it was read from.
struct Named<T> {
    value: T,
    origin: Origin,
}

type NamedLabels = Named<Array1<i64>>;

/// The file, and the CSV columns if any, that an input was read from.
#[derive(Debug, Clone)]
struct Origin {
    path: PathBuf,
    columns: Vec<String>,
}

impl Origin {
    fn file(path: &Path) -> Self {
        Self {
            path: path.to_path_buf(),
            columns: Vec::new(),
        }
    }

    fn column(path: &Path, column: &str) -> Self {
        Self::columns(path, vec![column.to_owned()])
    }

    fn columns(path: &Path, columns: Vec<String>) -> Self {
        Self {
            path: path.to_path_buf(),
            columns,
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.path.display();
        match self.columns.as_slice() {
            [] => write!(f, "{path}"),
            [column] => write!(f, "{path}[\"{column}\"]"),
            columns if columns.len() <= MAX_LISTED_COLUMNS => {
                write!(f, "{path}[{}]", columns.join(", "))
            }
            columns => write!(f, "{path}[{} columns]", columns.len()),
        }
    }
}

/// Feature columns beyond this count are described by their number, not their names.
const MAX_LISTED_COLUMNS: usize = 4;

/// Every input, read, with its origin.
pub(super) struct Inputs {
    pairs: Option<(NamedLabels, NamedLabels)>,
    data_labels: Option<(Named<Features>, NamedLabels)>,
}

impl Inputs {
    /// Returns the number of samples, after checking that every input has that many.
    pub(super) fn check_lengths(&self) -> Result<usize, CliError> {
        let mut samples = None;
        if let Some((target, preds)) = &self.pairs {
            if preds.value.len() != target.value.len() {
                return Err(CliError::file(
                    &preds.origin.path,
                    format!(
                        "length mismatch: preds {} has {} labels but target {} has {}, pass one \
                         label per sample in both",
                        preds.origin,
                        preds.value.len(),
                        target.origin,
                        target.value.len()
                    ),
                ));
            }
            samples = Some((preds.value.len(), &preds.origin));
        }

        if let Some((data, labels)) = &self.data_labels {
            let rows = data.value.nrows();
            if labels.value.len() != rows {
                return Err(CliError::file(
                    &labels.origin.path,
                    format!(
                        "length mismatch: labels {} has {} labels but data {} has {rows} rows, \
                         pass one label per row",
                        labels.origin,
                        labels.value.len(),
                        data.origin,
                    ),
                ));
            }
            if let Some((n, preds_origin)) = samples {
                if n != rows {
                    return Err(CliError::file(
                        &data.origin.path,
                        format!(
                            "length mismatch: data {} has {rows} rows but preds {preds_origin} \
                             has {n} labels, pass the same samples to both",
                            data.origin,
                        ),
                    ));
                }
            }
            samples = Some((rows, &data.origin));
        }

        let (n, origin) = samples.ok_or_else(|| {
            CliError::option("clustering", "no input selected, see --help for the inputs")
        })?;
        if n == 0 {
            return Err(CliError::file(
                &origin.path,
                "the input has no samples, pass at least one",
            ));
        }
        Ok(n)
    }

    /// Returns whether features were read, for the intrinsic metrics.
    pub(super) fn has_data(&self) -> bool {
        self.data_labels.is_some()
    }

    /// Describes the inputs for the report's header line.
    pub(super) fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some((target, preds)) = &self.pairs {
            parts.push(format!("target {}", target.origin));
            parts.push(format!("preds {}", preds.origin));
        }
        if let Some((data, labels)) = &self.data_labels {
            let precision = match data.value {
                Features::F32(_) => "float32",
                Features::F64(_) => "float64",
            };
            if data.origin.columns.is_empty() {
                let features = data.value.ncols();
                parts.push(format!(
                    "data {} ({precision}, {features} features)",
                    data.origin
                ));
            } else {
                parts.push(format!("data {}", data.origin));
            }
            parts.push(format!("labels {}", labels.origin));
        }
        parts.join(", ")
    }

    pub(super) fn into_metric_inputs(self) -> (Option<LabelPairs>, Option<DataLabels>) {
        let label_pairs = self.pairs.map(|(target, preds)| LabelPairs {
            preds: preds.value,
            target: target.value,
        });
        let data_labels = self.data_labels.map(|(data, labels)| DataLabels {
            data: data.value,
            labels: labels.value,
        });
        (label_pairs, data_labels)
    }
}
