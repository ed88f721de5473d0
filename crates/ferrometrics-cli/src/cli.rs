//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use ferrometrics::clustering::{AverageMethod, DunnDefinition};
use ferrometrics::detection::{Average, IouType};

/// Largest number of rows for which the silhouette coefficient is computed exactly by default.
///
/// The exact silhouette compares every pair of rows, so its time grows with n^2 (10^8 distance
/// evaluations at this size).
pub const DEFAULT_SILHOUETTE_MAX_ROWS: usize = 10_000;

const CLUSTERING_AFTER_HELP: &str = "\
Inputs:
  Extrinsic metrics compare predicted cluster labels with true labels. Give them as two columns
  of FILE (--target, --preds) or as two .npy files (--target-npy, --preds-npy).
  Intrinsic metrics score the predicted clustering of the feature rows. Give the features as
  columns of FILE (--features or --all-features) or as an .npy file (--data), and the labels as
  --labels. Without --labels, the predicted labels are used. When both sets are given, both are
  reported, and they must have the same number of samples.
  Labels must be integers. A CSV label such as 2.0 is read as 2, and 2.5 is rejected.
  .npy labels may have any integer dtype, features must be float32 or float64.

Undefined values:
  A metric that is undefined for the input (for example the silhouette coefficient of a single
  cluster) is shown as `undefined` in the table, with the reason in a reason column, and as null
  in JSON, with the reason on stderr. The silhouette coefficient is skipped in the same way when
  n exceeds --silhouette-max-rows and no --silhouette-sample-size is given. An infinite value,
  such as a Dunn index whose clusters all have zero spread, is shown in the table and is null
  in JSON.
  With --no-silhouette, the silhouette coefficient is left out of both outputs.

Exit status:
  0 on success, 2 on invalid usage or invalid input, with a one-line message on stderr, and 1
  when stdout cannot be written.

Examples:
  ferrometrics clustering wine.csv --target target --preds preds --all-features
  ferrometrics clustering --target-npy y.npy --preds-npy pred.npy --format json
  ferrometrics clustering --data X.npy --labels pred.npy --p 1";

/// Evaluation metrics with the values of the field's reference implementations.
#[derive(Debug, Parser)]
#[command(name = "ferrometrics", version, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Score a clustering against true labels and on its own feature rows.
    #[command(after_help = CLUSTERING_AFTER_HELP)]
    Clustering(ClusteringArgs),

    /// Score object detections or instance masks against COCO ground truth, as pycocotools.
    #[command(after_help = DETECTION_AFTER_HELP)]
    Detection(DetectionArgs),

    /// Score binary, multiclass or multilabel predictions against true labels.
    #[command(after_help = CLASSIFICATION_AFTER_HELP)]
    Classification(ClassificationArgs),
}

const CLASSIFICATION_AFTER_HELP: &str = "\
Inputs:
  Give either a CSV file FILE with --preds and --target, or two .npy files with --preds-npy
  and --target-npy. FILE is a CSV file with a header row. --target names the columns of true labels: one column
  of 0/1 labels (binary), one column of class indices (multiclass), or one 0/1 column per label
  (multilabel). --preds names the prediction columns: for binary, one column of 0/1 labels or
  scores; for multiclass, one column of class indices or one score column per class; for
  multilabel, one column per label, in the order of the target columns. Scores outside [0, 1]
  are logits and pass through the sigmoid (binary, multilabel) or the softmax (multiclass).
  The .npy arrays follow the same rules: --target-npy has shape (N,), or (N, L) for
  multilabel, and --preds-npy has an integer dtype for labels or a float dtype for scores.

Report:
  A per-class table (precision, recall, f1_score, specificity, jaccard_index and support, the
  true count of the class, and auroc and average_precision for multiclass and multilabel
  scores), the metrics averaged with --average, and the confusion matrix (rows are targets,
  columns are predictions; one tn, fp, fn, tp row per label for multilabel). Binary rows are
  classes 0 and 1, after thresholding. JSON has the averaged values keyed by metric name,
  `confusion_matrix` as a nested list and `per_class` as an object of lists.

Metrics:
  accuracy, precision, recall, f1_score, specificity, jaccard_index, hamming_distance, and
  matthews_corrcoef; cohen_kappa for binary and multiclass; exact_match for multilabel; auroc
  and average_precision when the predictions are scores. Multiclass and multilabel values are
  averaged with --average. An undefined value (such as AUROC without positives) is shown as
  NaN in the table and null in JSON.

Exit status:
  0 on success, 2 on invalid usage or invalid input, with a one-line message on stderr, and 1
  when stdout cannot be written.

Examples:
  ferrometrics classification scores.csv --task binary --preds prob --target label
  ferrometrics classification iris.csv --task multiclass --num-classes 3 \\
      --preds p0,p1,p2 --target species --format json
  ferrometrics classification --task multilabel --preds-npy scores.npy --target-npy y.npy";

/// Options of the `classification` subcommand.
#[derive(Debug, Args)]
pub struct ClassificationArgs {
    /// CSV file with a header row. Columns are selected by their header names.
    #[arg(value_name = "FILE.csv", conflicts_with_all = ["preds_npy", "target_npy"])]
    pub file: Option<PathBuf>,

    /// The classification task.
    #[arg(long, value_enum)]
    pub task: TaskArg,

    /// Comma-separated prediction columns of FILE: labels or scores.
    #[arg(long, value_name = "COL,...", value_delimiter = ',', requires = "file")]
    pub preds: Vec<String>,

    /// Comma-separated target columns of FILE: integer labels.
    #[arg(long, value_name = "COL,...", value_delimiter = ',', requires = "file")]
    pub target: Vec<String>,

    /// .npy file with the predictions: integer labels or float scores, of shape (N,) or, for
    /// multiclass scores and multilabel, (N, C).
    #[arg(long, value_name = "FILE.npy", requires = "target_npy")]
    pub preds_npy: Option<PathBuf>,

    /// .npy file with the integer targets, of shape (N,) or, for multilabel, (N, L).
    #[arg(long, value_name = "FILE.npy", requires = "preds_npy")]
    pub target_npy: Option<PathBuf>,

    /// Number of classes of the multiclass task (2 or more).
    #[arg(long, value_name = "N")]
    pub num_classes: Option<usize>,

    /// Probability above which a binary or multilabel prediction is positive, in [0, 1].
    #[arg(
        long,
        value_name = "T",
        default_value_t = 0.5,
        allow_negative_numbers = true
    )]
    pub threshold: f64,

    /// Reduction of per-class values for the multiclass and multilabel tasks.
    #[arg(long, value_enum, default_value_t = ClassAverageArg::Macro)]
    pub average: ClassAverageArg,

    /// Target value whose rows (or labels) are left out of every metric.
    #[arg(long, value_name = "I", allow_negative_numbers = true)]
    pub ignore_index: Option<i64>,

    /// Field delimiter of FILE, one ASCII character.
    #[arg(long, value_name = "CHAR", default_value_t = ',')]
    pub delimiter: char,

    /// Output format: a table for reading, or one JSON object keyed by metric name.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// The classification task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TaskArg {
    /// One positive class: 0/1 targets.
    Binary,
    /// One of --num-classes classes per row.
    Multiclass,
    /// Several independent 0/1 labels per row.
    Multilabel,
}

/// The reduction of per-class values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ClassAverageArg {
    /// Sum the counts over classes, then compute.
    Micro,
    /// The unweighted mean over classes.
    Macro,
    /// The mean over classes weighted by their number of true samples.
    Weighted,
}

/// Options of the `clustering` subcommand.
#[derive(Debug, Args)]
pub struct ClusteringArgs {
    /// CSV file with a header row. Columns are selected by their header names.
    #[arg(value_name = "FILE.csv")]
    pub file: Option<PathBuf>,

    /// Column of FILE with the true labels (integers).
    #[arg(long, value_name = "COL", requires_all = ["file", "preds"])]
    pub target: Option<String>,

    /// Column of FILE with the predicted cluster labels (integers).
    #[arg(long, value_name = "COL", requires_all = ["file", "target"])]
    pub preds: Option<String>,

    /// .npy file with the true labels, a 1-D integer array.
    #[arg(
        long,
        value_name = "FILE.npy",
        requires = "preds_npy",
        conflicts_with = "target"
    )]
    pub target_npy: Option<PathBuf>,

    /// .npy file with the predicted cluster labels, a 1-D integer array.
    #[arg(
        long,
        value_name = "FILE.npy",
        requires = "target_npy",
        conflicts_with = "preds"
    )]
    pub preds_npy: Option<PathBuf>,

    /// Comma-separated columns of FILE with the features, for the intrinsic metrics.
    #[arg(long, value_name = "COL,...", value_delimiter = ',', requires = "file")]
    pub features: Vec<String>,

    /// Use every column of FILE except the label columns as a feature.
    #[arg(long, requires = "file", conflicts_with_all = ["features", "data"])]
    pub all_features: bool,

    /// .npy file with the features, a float32 or float64 array of shape (n_samples, n_features).
    #[arg(long, value_name = "FILE.npy", conflicts_with = "features")]
    pub data: Option<PathBuf>,

    /// Cluster labels of the feature rows: a column of FILE with --features or --all-features,
    /// an .npy file with --data. Defaults to the predicted labels.
    #[arg(long, value_name = "COL|FILE.npy")]
    pub labels: Option<String>,

    /// Mean of the two entropies that normalizes NMI and AMI.
    #[arg(long, value_enum, default_value_t = AverageMethodArg::Arithmetic)]
    pub average_method: AverageMethodArg,

    /// Weight of completeness relative to homogeneity in the V-measure (a positive number).
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
    pub beta: f64,

    /// Order of the Minkowski distance in the Dunn index (1 or more, or inf).
    #[arg(long, default_value_t = 2.0, allow_negative_numbers = true)]
    pub p: f64,

    /// Distances of the Dunn index: between centroids and from rows to their centroid
    /// (TorchMetrics), or between rows (Dunn's original definition).
    #[arg(long, value_enum, default_value_t = DunnDefinitionArg::Centroid)]
    pub dunn_definition: DunnDefinitionArg,

    /// Compute the silhouette coefficient on this many rows (at least 3), drawn without
    /// replacement with --seed, or on every row if there are not more. The value is an estimate,
    /// and the sample differs from the one scikit-learn draws for the same seed.
    #[arg(long, value_name = "N")]
    pub silhouette_sample_size: Option<usize>,

    /// Largest number of rows for which the silhouette coefficient is computed exactly when no
    /// --silhouette-sample-size is given. Above it, the silhouette coefficient is skipped.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_SILHOUETTE_MAX_ROWS)]
    pub silhouette_max_rows: usize,

    /// Do not compute the silhouette coefficient.
    #[arg(long, conflicts_with = "silhouette_sample_size")]
    pub no_silhouette: bool,

    /// Seed of the random sample drawn for --silhouette-sample-size.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,

    /// Field delimiter of FILE, one ASCII character.
    #[arg(long, value_name = "CHAR", default_value_t = ',')]
    pub delimiter: char,

    /// Output format: a table for reading, or one JSON object keyed by metric function name.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// The mean of the true and predicted label entropies that normalizes NMI and AMI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AverageMethodArg {
    /// min(H(target), H(preds))
    Min,
    /// sqrt(H(target) * H(preds))
    Geometric,
    /// (H(target) + H(preds)) / 2
    Arithmetic,
    /// max(H(target), H(preds))
    Max,
}

impl From<AverageMethodArg> for AverageMethod {
    fn from(method: AverageMethodArg) -> Self {
        match method {
            AverageMethodArg::Min => AverageMethod::Min,
            AverageMethodArg::Geometric => AverageMethod::Geometric,
            AverageMethodArg::Arithmetic => AverageMethod::Arithmetic,
            AverageMethodArg::Max => AverageMethod::Max,
        }
    }
}

/// The distances that the Dunn index compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DunnDefinitionArg {
    /// Minimum centroid distance over maximum row-to-own-centroid distance.
    Centroid,
    /// Minimum distance between rows of different clusters over maximum cluster diameter.
    Pairwise,
}

impl From<DunnDefinitionArg> for DunnDefinition {
    fn from(definition: DunnDefinitionArg) -> Self {
        match definition {
            DunnDefinitionArg::Centroid => DunnDefinition::Centroid,
            DunnDefinitionArg::Pairwise => DunnDefinition::Pairwise,
        }
    }
}

/// Output format of the report on stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A header line naming the input and n, then a table of metric, value and direction.
    Table,
    /// One JSON object whose keys are the metric function names; undefined values are null.
    Json,
}

const DETECTION_AFTER_HELP: &str = "\
Inputs:
  GT.json is a COCO ground-truth file: an object with `images`, `categories` and
  `annotations`. RESULTS.json is a COCO results file: a list of detections, each with
  `image_id`, `category_id`, `score` and a `bbox` [x, y, width, height] or a `segmentation`
  (polygons or RLE). The files are read with the rules of pycocotools' COCO and loadRes.

Outputs:
  The table format prints the twelve summary lines of pycocotools' COCOeval.summarize, values
  rounded to three decimals, and with --per-class a table of AP and AR per category.
  The JSON format prints one object with TorchMetrics' MeanAveragePrecision keys and full
  precision values. A value of -1 marks a metric that is undefined, such as an area range
  without ground truth.
  The mean AP is read at the largest --max-dets count, where pycocotools reads it at 100 and
  prints -1 when 100 is not among the counts.
  --per-class covers the categories that have ground truth or detections, as TorchMetrics'
  `classes`, and evaluates each one on its own, also with --average micro. A category with
  detections but no ground truth has AP and AR -1.

Exit status:
  0 on success, 2 on invalid usage or invalid input, with a one-line message on stderr, and 1
  when stdout cannot be written.

Examples:
  ferrometrics detection --gt instances_val2014.json --dt results.json
  ferrometrics detection --gt instances_val2014.json --dt results.json --iou-type segm \\
      --per-class --format json";

/// Options of the `detection` subcommand.
#[derive(Debug, Args)]
pub struct DetectionArgs {
    /// COCO ground-truth file.
    #[arg(long, value_name = "GT.json")]
    pub gt: PathBuf,

    /// COCO results file, the detections to score.
    #[arg(long, value_name = "RESULTS.json")]
    pub dt: PathBuf,

    /// Geometry on which IoU is computed: boxes or segmentation masks.
    #[arg(long, value_enum, default_value_t = IouTypeArg::Bbox)]
    pub iou_type: IouTypeArg,

    /// Averaging of categories: macro evaluates each category on its own and averages, micro
    /// pools all categories into one (pycocotools' useCats = 0).
    #[arg(long, value_enum, default_value_t = AverageArg::Macro)]
    pub average: AverageArg,

    /// Also report AP and AR per category, over all areas at the largest --max-dets count.
    #[arg(long)]
    pub per_class: bool,

    /// Comma-separated IoU thresholds in [0, 1] [default: 0.50, 0.55, ..., 0.95, as
    /// np.linspace(0.5, 0.95, 10)].
    #[arg(long, value_name = "T,...", value_delimiter = ',')]
    pub iou_thresholds: Option<Vec<f64>>,

    /// Three comma-separated max detection counts per image and category.
    #[arg(
        long,
        value_name = "N,N,N",
        value_delimiter = ',',
        default_values_t = [1_usize, 10, 100]
    )]
    pub max_dets: Vec<usize>,

    /// Output format of the report on stdout.
    #[arg(long, value_enum, default_value_t = DetectionFormat::Table)]
    pub format: DetectionFormat,
}

/// Output format of the `detection` report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DetectionFormat {
    /// A header line, pycocotools' twelve summary lines, and with --per-class a table.
    Table,
    /// One JSON object with TorchMetrics' MeanAveragePrecision keys and full precision values.
    Json,
}

/// The geometry on which IoU is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum IouTypeArg {
    /// Boxes `bbox`.
    Bbox,
    /// Segmentation masks `segmentation`.
    Segm,
}

impl From<IouTypeArg> for IouType {
    fn from(iou_type: IouTypeArg) -> Self {
        match iou_type {
            IouTypeArg::Bbox => IouType::Bbox,
            IouTypeArg::Segm => IouType::Segm,
        }
    }
}

/// The averaging of categories into the summary values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AverageArg {
    /// Mean over categories of the per-category values, as COCO.
    Macro,
    /// One evaluation in which detections match objects of any category.
    Micro,
}

impl From<AverageArg> for Average {
    fn from(average: AverageArg) -> Self {
        match average {
            AverageArg::Macro => Average::Macro,
            AverageArg::Micro => Average::Micro,
        }
    }
}
