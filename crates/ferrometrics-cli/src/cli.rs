//! Command-line arguments.

use std::path::PathBuf;

use clap::{ArgGroup, Args, Parser, Subcommand, ValueEnum};
use ferrometrics::clustering::{AverageMethod, DunnDefinition};
use ferrometrics::detection::{Average, IouType};
use ferrometrics::regression::{KendallVariant, Normalization};
use ferrometrics::wrappers::SamplingStrategy;

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

Several processes:
  With --shard, under mpirun, every rank reads the inputs and sends its contiguous block of rows
  to rank 0, which computes and prints the report of all rows. Only rank 0 prints, results and
  errors alike; an error on another rank stops every rank, and rank 0 prints it.

Exit status:
  0 on success, 2 on invalid usage or invalid input, with a one-line message on stderr, and 1
  when stdout cannot be written.

Examples:
  ferrometrics clustering wine.csv --target target --preds preds --all-features
  ferrometrics clustering --target-npy y.npy --preds-npy pred.npy --format json
  ferrometrics clustering --data X.npy --labels pred.npy --p 1
  mpirun -n 4 ferrometrics clustering wine.csv --target target --preds preds --shard";

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

    /// Score predicted values against true values with every applicable regression metric.
    #[command(after_help = REGRESSION_AFTER_HELP)]
    Regression(RegressionArgs),

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
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub silhouette_sample_size: Option<usize>,

    /// Largest number of rows for which the silhouette coefficient is computed exactly when no
    /// --silhouette-sample-size is given. Above it, the silhouette coefficient is skipped.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_SILHOUETTE_MAX_ROWS, allow_negative_numbers = true)]
    pub silhouette_max_rows: usize,

    /// Do not compute the silhouette coefficient.
    #[arg(long, conflicts_with = "silhouette_sample_size")]
    pub no_silhouette: bool,

    /// Seed of the random sample drawn for --silhouette-sample-size.
    #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
    pub seed: u64,

    /// Field delimiter of FILE, one ASCII character.
    #[arg(long, value_name = "CHAR", default_value_t = ',')]
    pub delimiter: char,

    /// Output format: a table for reading, or one JSON object keyed by metric function name.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,

    /// Split the rows over the processes of `mpirun`, in contiguous blocks, gather them on rank
    /// 0 and print the result of all rows once, from rank 0. Needs a build with
    /// `--features mpi`.
    #[arg(long)]
    pub shard: bool,
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

  --iou-metrics prints the mean IoU, GIoU, DIoU and CIoU of TorchMetrics' box IoU metrics
  instead: for each image of GT.json, every detection is paired with every ground-truth box of
  the same category (of any category with --no-respect-labels), crowd regions included, and
  the mean runs over all pairs of all images. An image with ground truth but no detections, or
  the reverse, adds one zero per box. With --per-class each category's mean counts the pairs
  whose ground-truth box has that category. --format json prints the keys iou, giou, diou and
  ciou, and iou/cl_{category_id} and so on with --per-class.

Exit status:
  0 on success, 2 on invalid usage or invalid input, with a one-line message on stderr, and 1
  when stdout cannot be written.

Several processes:
  With --shard, under mpirun, each rank evaluates one contiguous block of the image ids and
  rank 0 merges the per-image matches in rank order, which gives the numbers of one process to
  the bit. Every rank reads both files. Only rank 0 prints, results and errors alike; an error
  on another rank stops every rank, and rank 0 prints it.

Examples:
  ferrometrics detection --gt instances_val2014.json --dt results.json
  ferrometrics detection --gt instances_val2014.json --dt results.json --iou-metrics \\
      --iou-threshold 0.5 --per-class
  mpirun -n 4 ferrometrics detection --gt instances_val2014.json --dt results.json --shard
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

    /// Also report AP and AR per category, over all areas at the largest --max-dets count, or
    /// with --iou-metrics the four means per category.
    #[arg(long)]
    pub per_class: bool,

    /// Comma-separated IoU thresholds in [0, 1] [default: 0.50, 0.55, ..., 0.95, as
    /// np.linspace(0.5, 0.95, 10)].
    #[arg(
        long,
        value_name = "T,...",
        value_delimiter = ',',
        allow_negative_numbers = true
    )]
    pub iou_thresholds: Option<Vec<f64>>,

    /// Comma-separated recall thresholds in [0, 1] at which precision is sampled [default: 0.00,
    /// 0.01, ..., 1.00, as np.linspace(0, 1, 101)].
    #[arg(
        long,
        value_name = "R,...",
        value_delimiter = ',',
        allow_negative_numbers = true
    )]
    pub rec_thresholds: Option<Vec<f64>>,

    /// Three comma-separated max detection counts per image and category.
    #[arg(
        long,
        value_name = "N,N,N",
        value_delimiter = ',',
        default_values_t = [1_usize, 10, 100],
        allow_negative_numbers = true
    )]
    pub max_dets: Vec<usize>,

    /// Report the mean IoU, GIoU, DIoU and CIoU of matching boxes (TorchMetrics'
    /// IntersectionOverUnion family) in place of the COCO summary.
    #[arg(long)]
    pub iou_metrics: bool,

    /// With --iou-metrics, leave out the pairs whose value is below this threshold [default:
    /// keep every pair].
    #[arg(long, value_name = "T", allow_negative_numbers = true)]
    pub iou_threshold: Option<f64>,

    /// With --iou-metrics, pair every detection with every ground-truth box of its image,
    /// whatever their categories (TorchMetrics' respect_labels=False).
    #[arg(long)]
    pub no_respect_labels: bool,

    /// Output format of the report on stdout.
    #[arg(long, value_enum, default_value_t = DetectionFormat::Table)]
    pub format: DetectionFormat,

    /// Split the images over the processes of `mpirun`, in contiguous blocks of image ids, and
    /// print the result of all images once, from rank 0. Needs a build with `--features mpi`.
    #[arg(long)]
    pub shard: bool,

    /// Print the wall-clock seconds of each step (read, parse, evaluate, accumulate,
    /// summarize) to stderr.
    #[arg(long)]
    pub timings: bool,
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

const REGRESSION_AFTER_HELP: &str = "\
Inputs:
  Give the predicted and true values as two columns of FILE (--preds, --target) or as two .npy
  files (--preds-npy, --target-npy) of shape (n,) with a float or integer dtype. Every value
  must be a finite number.

Outputs:
  Every regression metric whose input the data allows, keyed by its function name in JSON.
  A metric whose domain the data violates (mean_squared_log_error with a value at or below -1,
  a Tweedie deviance with values outside its power's domain) is shown as `skipped` in the
  table, with the reason in a reason column, and as null in JSON, with the reason on stderr.
  So are the metrics that need inputs of another shape: cosine_similarity, kl_divergence and
  jensen_shannon_divergence take rows of vectors, and continuous_ranked_probability_score an
  ensemble of predictions per sample. critical_success_index is computed only with
  --csi-threshold. A metric without a value for the data (a correlation of one sample, an
  adjusted R2 with as many regressors as samples) is shown as `undefined`. A NaN value (a
  correlation of a constant column) or an infinite one is shown in the table and is null in
  JSON, with the reason on stderr.

Bootstrap intervals:
  With --bootstrap N, every metric with a value is computed again on N resamples of the
  samples, and the report adds the mean, the standard deviation (one delta degree of freedom)
  and the quantiles (numpy's linear method) of those N values. The table gains the columns
  mean, std and one column per level, named q and the level (q0.025, q0.975 by default). In
  JSON each metric becomes {\"value\", \"mean\", \"std\", \"quantiles\", \"replicates\"}, where
  quantiles is a list in the order of --quantiles and replicates the number of resamples in the
  statistics. Skipped and undefined metrics stay so.
  Replicate r draws with the seed (0 by default), r and the sampling strategy exactly as a
  BootStrapper from ferrometrics.wrappers (Rust or Python) with the same seed, strategy and
  num_bootstraps that is updated once with all the samples, so the two report the same
  statistics up to rounding. Under poisson sampling a replicate can draw no sample, which happens only for a
  handful of samples: it is left out, and the header line says how many were. A metric that
  has no value on some replicate (a correlation of a resample whose values are all equal) gets
  no interval, with the reason. Replicates run in parallel, and the result does not depend on
  the number of threads.

Exit status:
  0 on success, 2 on invalid usage or invalid input, with a one-line message on stderr, and 1
  when stdout cannot be written.

Examples:
  ferrometrics regression predictions.csv --preds predicted --target observed
  ferrometrics regression --preds-npy yhat.npy --target-npy y.npy --format json
  ferrometrics regression predictions.csv --preds yhat --target y --tweedie-power 2
  ferrometrics regression predictions.csv --preds yhat --target y --bootstrap 1000
  ferrometrics regression predictions.csv --preds yhat --target y --bootstrap 1000 \\
    --quantiles 0.05,0.5,0.95 --seed 7 --sampling-strategy multinomial --format json";

/// Options of the `regression` subcommand.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("inputs").required(true).args(["file", "preds_npy"])))]
pub struct RegressionArgs {
    /// CSV file with a header row. Columns are selected by their header names.
    #[arg(value_name = "FILE.csv", requires_all = ["preds", "target"])]
    pub file: Option<PathBuf>,

    /// Column of FILE with the predicted values.
    #[arg(long, value_name = "COL", requires_all = ["file", "target"])]
    pub preds: Option<String>,

    /// Column of FILE with the true values.
    #[arg(long, value_name = "COL", requires_all = ["file", "preds"])]
    pub target: Option<String>,

    /// .npy file with the predicted values, a 1-D array.
    #[arg(
        long,
        value_name = "FILE.npy",
        requires = "target_npy",
        conflicts_with_all = ["file", "preds"]
    )]
    pub preds_npy: Option<PathBuf>,

    /// .npy file with the true values, a 1-D array.
    #[arg(
        long,
        value_name = "FILE.npy",
        requires = "preds_npy",
        conflicts_with_all = ["file", "target"]
    )]
    pub target_npy: Option<PathBuf>,

    /// Variant of Kendall's tau: a (no tie correction), b (ties corrected on either side, as
    /// scipy's default) or c (Stuart's, for tables that are not square).
    #[arg(long, value_enum, default_value_t = KendallVariantArg::B)]
    pub kendall_variant: KendallVariantArg,

    /// Number of regressors of the model, for the adjusted R2 (0 for the plain R2).
    #[arg(
        long,
        value_name = "K",
        default_value_t = 0,
        allow_negative_numbers = true
    )]
    pub adjusted: usize,

    /// Target statistic that divides the RMSE in normalized_root_mean_squared_error.
    #[arg(long, value_enum, default_value_t = NormalizationArg::Mean)]
    pub normalization: NormalizationArg,

    /// Order of the Minkowski distance (1 or more).
    #[arg(
        long,
        value_name = "P",
        default_value_t = 2.0,
        allow_negative_numbers = true
    )]
    pub minkowski_p: f64,

    /// Power of the Tweedie deviance: 0 (normal), 1 (Poisson), 2 (gamma), or any power outside
    /// (0, 1).
    #[arg(
        long,
        value_name = "P",
        default_value_t = 0.0,
        allow_negative_numbers = true
    )]
    pub tweedie_power: f64,

    /// Event threshold of the critical success index: a value is an event when it is at least
    /// this. Without it the index is skipped.
    #[arg(long, value_name = "T", allow_negative_numbers = true)]
    pub csi_threshold: Option<f64>,

    /// Field delimiter of FILE, one ASCII character.
    #[arg(long, value_name = "CHAR", default_value_t = ',')]
    pub delimiter: char,

    /// Output format: a table for reading, or one JSON object keyed by metric function name.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,

    /// Number of bootstrap replicates (1 to 2^20) from which each metric gets its mean,
    /// standard deviation and quantiles.
    #[arg(
        long,
        value_name = "N",
        allow_negative_numbers = true,
        value_parser = parse_replicates
    )]
    pub bootstrap: Option<usize>,

    /// Comma-separated quantile levels in [0, 1] of the bootstrap values. Needs --bootstrap.
    /// [default: 0.025,0.975, a 95% interval]
    #[arg(
        long,
        value_name = "Q,...",
        value_delimiter = ',',
        allow_hyphen_values = true
    )]
    pub quantiles: Option<Vec<f64>>,

    /// Seed of the bootstrap draws, an integer in [0, 2^64). Needs --bootstrap. [default: 0]
    #[arg(
        long,
        value_name = "S",
        allow_negative_numbers = true,
        value_parser = parse_seed
    )]
    pub seed: Option<u64>,

    /// How each bootstrap replicate draws its samples: each sample k ~ Poisson(1) times, or n
    /// draws with replacement. Needs --bootstrap. [default: poisson]
    #[arg(long, value_enum, value_name = "STRATEGY")]
    pub sampling_strategy: Option<SamplingStrategyArg>,
}

/// Parses `--bootstrap`. Zero parses, so that the regression options reject it with their own
/// message.
fn parse_replicates(text: &str) -> Result<usize, String> {
    text.parse()
        .map_err(|_| "expected a positive integer number of replicates, such as 1000".to_owned())
}

fn parse_seed(text: &str) -> Result<u64, String> {
    text.parse()
        .map_err(|_| "expected an integer in [0, 2^64)".to_owned())
}

/// The sampling strategy of the bootstrap replicates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SamplingStrategyArg {
    /// Each sample enters each replicate k ~ Poisson(1) times, so replicate sizes vary.
    Poisson,
    /// Each replicate draws n samples uniformly with replacement.
    Multinomial,
}

impl From<SamplingStrategyArg> for SamplingStrategy {
    fn from(strategy: SamplingStrategyArg) -> Self {
        match strategy {
            SamplingStrategyArg::Poisson => SamplingStrategy::Poisson,
            SamplingStrategyArg::Multinomial => SamplingStrategy::Multinomial,
        }
    }
}

/// The variant of Kendall's tau.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KendallVariantArg {
    /// (C - D) / (n (n - 1) / 2)
    A,
    /// (C - D) / sqrt((n0 - n1) (n0 - n2))
    B,
    /// 2 (C - D) / (n^2 (m - 1) / m)
    C,
}

impl From<KendallVariantArg> for KendallVariant {
    fn from(variant: KendallVariantArg) -> Self {
        match variant {
            KendallVariantArg::A => KendallVariant::A,
            KendallVariantArg::B => KendallVariant::B,
            KendallVariantArg::C => KendallVariant::C,
        }
    }
}

/// The target statistic of the normalized RMSE.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum NormalizationArg {
    /// Mean of the target.
    Mean,
    /// Maximum minus minimum of the target.
    Range,
    /// Population standard deviation of the target.
    Std,
    /// Euclidean norm of the target.
    L2,
}

impl From<NormalizationArg> for Normalization {
    fn from(normalization: NormalizationArg) -> Self {
        match normalization {
            NormalizationArg::Mean => Normalization::Mean,
            NormalizationArg::Range => Normalization::Range,
            NormalizationArg::Std => Normalization::Std,
            NormalizationArg::L2 => Normalization::L2,
        }
    }
}
