//! The `detection` subcommand: read a COCO ground-truth file and a results file, evaluate them
//! as pycocotools' `COCOeval`, and format the summary.

mod iou_metrics;
mod locate;
mod render;

use std::collections::BTreeSet;
use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::time::Instant;

use ferrometrics::detection::{
    default_iou_thresholds, default_rec_thresholds, evaluate, pairwise_sum, shard_images,
    Accumulation, CocoDataset, Evaluation, IouType, Params, Summary,
};
use ferrometrics::distributed::Distributed;
use ferrometrics::Error;
use indicatif::ProgressBar;

use crate::cli::{AverageArg, DetectionArgs, DetectionFormat};
use crate::clustering::Printout;
use crate::error::CliError;
use crate::progress;
use crate::shard::{agree, sync_error, ShardGroup};

/// AP and AR of one category, over all areas at the largest max detection count.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassResult {
    pub category_id: i64,
    pub name: String,
    pub precision: f64,
    pub recall: f64,
}

/// Everything the report shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub header: String,
    pub summary: Summary,
    /// The sorted max detection counts, which name the `mar_{d}` keys.
    pub max_detections: Vec<usize>,
    /// Per-category results, present with `--per-class`.
    pub classes: Option<Vec<ClassResult>>,
}

/// Runs the subcommand and returns what to print.
pub fn run(args: &DetectionArgs) -> Result<Printout, CliError> {
    let params = params(args)?;
    iou_metrics::check_options(args)?;
    if args.shard {
        if args.iou_metrics {
            return Err(CliError::option(
                "--shard",
                "does not apply with --iou-metrics, which reads both files whole; drop --shard",
            ));
        }
        let group = ShardGroup::join()?;
        return group.finish(run_sharded(args, &params, &group));
    }

    let mut timings = Timings::new(args.timings);
    let (truth, results, results_text) = read_inputs(args, &mut timings)?;
    if args.iou_metrics {
        let report = iou_metrics::compute(args, &truth, &results)?;
        return Ok(Printout {
            stdout: iou_metrics::render(&report, args.format),
            warnings: iou_metrics::nan_warnings(&report),
        });
    }

    let iou_type = IouType::from(args.iou_type);
    let evaluator = |params: &Params| {
        evaluate(&truth, &results, iou_type, params)
            .map(Some)
            .map_err(|error| evaluation_error(args, error))
    };
    let report = compute_report(args, &truth, &results, &params, &evaluator, &mut timings)?;
    timings.print();
    // Freeing a million small allocations one by one takes longer than the process exit that
    // follows, which releases them all at once.
    std::mem::forget((truth, results, results_text));
    Ok(render(args, report))
}

/// Runs the subcommand on one rank of `--shard`: every rank reads both files and evaluates its
/// block of images, and rank 0 merges the blocks in rank order and returns the report. The
/// other ranks return nothing to print.
fn run_sharded(
    args: &DetectionArgs,
    params: &Params,
    group: &ShardGroup,
) -> Result<Printout, CliError> {
    let communicator = group.communicator();
    let mut timings = Timings::new(args.timings);
    let read = read_inputs(args, &mut timings).map(|(truth, results, _)| (truth, results));
    let (truth, results) = agree(communicator, read)?;
    let iou_type = IouType::from(args.iou_type);
    let (rank, size) = (communicator.rank(), communicator.size());

    let evaluator = |params: &Params| {
        let local = shard_images(&truth, &results, rank, size)
            .map_err(sync_error)
            .and_then(|(truth, results)| {
                evaluate(&truth, &results, iou_type, params)
                    .map_err(|error| evaluation_error(args, error))
            });
        let shard = agree(communicator, local)?;
        shard.synced_to_root(communicator).map_err(sync_error)
    };
    let report = compute_report(args, &truth, &results, params, &evaluator, &mut timings)?;
    timings.print();
    match report {
        Some(report) => Ok(render(args, Some(report))),
        None => Ok(Printout {
            stdout: String::new(),
            warnings: Vec::new(),
        }),
    }
}

/// Reads and parses the ground-truth and results files, and returns the results file's text
/// too, so that the caller decides when to free it.
fn read_inputs(
    args: &DetectionArgs,
    timings: &mut Timings,
) -> Result<(CocoDataset, CocoDataset, String), CliError> {
    // The ground truth is read and parsed while the (usually much larger) results file is read.
    let (truth, results_text) = std::thread::scope(|scope| {
        let truth = scope.spawn(|| {
            let truth_text = read_text(&args.gt)?;
            CocoDataset::from_json_str(&truth_text)
                .map_err(|error| file_error(&args.gt, &truth_text, error))
        });
        let results_text = read_text(&args.dt);
        let truth = truth
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (truth, results_text)
    });
    let truth = truth?;
    let results_text = results_text?;
    timings.lap("read files, parse ground truth");
    let results = truth
        .load_results_str(&results_text)
        .map_err(|error| file_error(&args.dt, &results_text, error))?;
    timings.lap("parse results");
    Ok((truth, results, results_text))
}

/// Formats the report, or nothing on the ranks of `--shard` other than rank 0.
fn render(args: &DetectionArgs, report: Option<Report>) -> Printout {
    let stdout = match (report, args.format) {
        (None, _) => String::new(),
        (Some(report), DetectionFormat::Table) => render::table(&report),
        (Some(report), DetectionFormat::Json) => render::json(&report),
    };
    Printout {
        stdout,
        warnings: Vec::new(),
    }
}

/// Wall-clock seconds of the steps of one run, printed to stderr with `--timings`.
struct Timings {
    enabled: bool,
    start: Instant,
    last: Instant,
    steps: Vec<(&'static str, f64)>,
}

impl Timings {
    fn new(enabled: bool) -> Self {
        let now = Instant::now();
        Self {
            enabled,
            start: now,
            last: now,
            steps: Vec::new(),
        }
    }

    /// Records the time since the previous step under `step`.
    fn lap(&mut self, step: &'static str) {
        if self.enabled {
            let now = Instant::now();
            self.steps
                .push((step, now.duration_since(self.last).as_secs_f64()));
            self.last = now;
        }
    }

    fn print(&self) {
        if !self.enabled {
            return;
        }
        for (step, seconds) in &self.steps {
            eprintln!("{step:>20}: {seconds:.4} s");
        }
        let total = self.last.duration_since(self.start).as_secs_f64();
        eprintln!("{:>20}: {total:.4} s", "total");
    }
}

/// Builds and checks the evaluation parameters before any file is read.
fn params(args: &DetectionArgs) -> Result<Params, CliError> {
    if args.max_dets.len() != 3 {
        return Err(CliError::option(
            "--max-dets",
            format!(
                "{} counts given, pass three comma-separated counts such as 1,10,100",
                args.max_dets.len()
            ),
        ));
    }
    let distinct: BTreeSet<usize> = args.max_dets.iter().copied().collect();
    if distinct.len() != 3 {
        return Err(CliError::option(
            "--max-dets",
            format!(
                "{:?} repeats a count, pass three different counts such as 1,10,100",
                args.max_dets
            ),
        ));
    }

    let mut params = Params {
        iou_thresholds: args
            .iou_thresholds
            .clone()
            .unwrap_or_else(default_iou_thresholds),
        rec_thresholds: args
            .rec_thresholds
            .clone()
            .unwrap_or_else(default_rec_thresholds),
        max_detections: args.max_dets.clone(),
        ..Params::default()
    };
    params.validate().map_err(|error| match &error {
        Error::InvalidArgument { argument, message } if argument == "max_detection_thresholds" => {
            CliError::option("--max-dets", message.clone())
        }
        Error::InvalidArgument { argument, message } if argument == "iou_thresholds" => {
            CliError::option("--iou-thresholds", message.clone())
        }
        Error::InvalidArgument { argument, message } if argument == "rec_thresholds" => {
            CliError::option("--rec-thresholds", message.clone())
        }
        _ => CliError::option("--iou-thresholds", error.to_string()),
    })?;
    Ok(params)
}

/// Reads a file as UTF-8 text, with a progress bar for large files.
fn read_text(path: &Path) -> Result<String, CliError> {
    let file =
        File::open(path).map_err(|e| CliError::file(path, format!("cannot open the file: {e}")))?;
    let len = file.metadata().map(|metadata| metadata.len()).unwrap_or(0);
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();

    let bar = progress::file_bar(len, &name);
    let mut text = String::with_capacity(usize::try_from(len).unwrap_or(0));
    let outcome = bar.wrap_read(file).read_to_string(&mut text);
    bar.finish_and_clear();
    outcome
        .map_err(|e| CliError::file(path, format!("cannot read the file as UTF-8 text: {e}")))?;
    Ok(text)
}

/// Converts a loader error into a one-line error about `path`.
///
/// The loaders name the entry of every problem except JSON syntax errors, which serde_json
/// reports by line and column. For those, the entry is found by scanning the text.
fn file_error(path: &Path, text: &str, error: Error) -> CliError {
    let message = match error {
        Error::InvalidInput { message, .. } => message,
        other => other.to_string(),
    };
    if message.starts_with("the file is not valid JSON") {
        if let Err(syntax) = serde_json::from_str::<serde::de::IgnoredAny>(text) {
            return CliError::file(path, locate::describe_syntax_error(text, &syntax));
        }
    }
    CliError::file(path, with_fix(message))
}

/// Appends the fix to the loader messages that state only the problem.
///
/// NOTE: this matches the wording of the library's loader messages. A reworded message loses
/// its fix here but is still shown whole.
fn with_fix(message: String) -> String {
    let fix = if message.ends_with("is not an image of the ground truth")
        || message.ends_with("is not a category of the ground truth")
    {
        ", so use an id that the --gt file lists, or pass the ground truth that the detections \
         were made for"
    } else if message.ends_with("is not in `images`") || message.ends_with("is not in `categories`")
    {
        ", so add the entry to that list or remove the annotation"
    } else if message.ends_with(" repeats") {
        ", so give every entry of the list its own id"
    } else if message.ends_with('`') && message.contains(": missing field `") {
        ", so add the field to the entry"
    } else {
        ""
    };
    format!("{message}{fix}")
}

/// Evaluates the detections and collects the summary and, with `--per-class`, the per-category
/// values. `evaluator` runs one evaluation with the given parameters and returns `None` on the
/// ranks of `--shard` that do not print, where this returns `None` too.
fn compute_report(
    args: &DetectionArgs,
    truth: &CocoDataset,
    results: &CocoDataset,
    params: &Params,
    evaluator: &Evaluator<'_>,
    timings: &mut Timings,
) -> Result<Option<Report>, CliError> {
    let micro = args.average == AverageArg::Micro;
    let iou_type = IouType::from(args.iou_type);
    let bar = progress::metrics_bar(truth.annotations.len() + results.annotations.len());
    bar.set_length(2 + u64::from(micro && args.per_class));
    let evaluated = evaluate_with_progress(args, truth, results, params, evaluator, &bar, timings);
    // Cleared before any error is printed, so that the message starts on a clean line.
    bar.finish_and_clear();
    let Some((summary, classes)) = evaluated? else {
        return Ok(None);
    };

    let mut max_detections = params.max_detections.clone();
    max_detections.sort_unstable();
    let header = format!(
        "{} evaluation of {} against {}; {} images, {} categories, {} detections, {} average",
        iou_type.as_str(),
        args.dt.display(),
        args.gt.display(),
        truth.images.len(),
        truth.categories.len(),
        results.annotations.len(),
        if micro { "micro" } else { "macro" },
    );
    Ok(Some(Report {
        header,
        summary,
        max_detections,
        classes,
    }))
}

/// One COCO evaluation with the given parameters; `None` on the ranks of `--shard` that do not
/// print.
type Evaluator<'a> = dyn Fn(&Params) -> Result<Option<Evaluation>, CliError> + 'a;

/// The summary and, with `--per-class`, the per-category values.
type Evaluated = (Summary, Option<Vec<ClassResult>>);

/// Runs the evaluation steps, advancing `bar` after each. Every rank of `--shard` runs the same
/// steps, because each one is an exchange between the ranks.
fn evaluate_with_progress(
    args: &DetectionArgs,
    truth: &CocoDataset,
    results: &CocoDataset,
    params: &Params,
    evaluator: &Evaluator<'_>,
    bar: &ProgressBar,
    timings: &mut Timings,
) -> Result<Option<Evaluated>, CliError> {
    let micro = args.average == AverageArg::Micro;

    bar.set_message("matches");
    let headline_params = Params {
        use_categories: !micro,
        ..params.clone()
    };
    let evaluation = evaluator(&headline_params)?;
    timings.lap("evaluate");
    bar.inc(1);

    // Per-class values come from per-category matching, also under micro averaging.
    let per_category = if args.per_class && micro {
        bar.set_message("per-class matches");
        let per_category = Params {
            use_categories: true,
            ..params.clone()
        };
        let evaluation = evaluator(&per_category)?;
        bar.inc(1);
        evaluation
    } else {
        None
    };
    let Some(evaluation) = evaluation else {
        return Ok(None);
    };

    bar.set_message("precision and recall");
    let accumulation = evaluation.accumulate();
    timings.lap("accumulate");
    // Left to the process exit, which frees the per-image evaluations faster than dropping them.
    std::mem::forget(evaluation);
    let summary = accumulation.summarize();
    timings.lap("summarize");
    bar.inc(1);

    if !args.per_class {
        return Ok(Some((summary, None)));
    }
    let by_category = match per_category {
        Some(evaluation) => evaluation.accumulate(),
        None => accumulation,
    };
    let classes = class_results(truth, results, &by_category);
    Ok(Some((summary, Some(classes))))
}

/// Converts an evaluation error into a one-line error about the file it concerns.
fn evaluation_error(args: &DetectionArgs, error: Error) -> CliError {
    match error {
        Error::InvalidInput { argument, message } if argument == "ground truth" => {
            CliError::file(&args.gt, message)
        }
        // A results file is a bare list, so its entries need no list name.
        Error::InvalidInput { message, .. } => {
            let message = message.strip_prefix("`annotations` ").unwrap_or(&message);
            CliError::file(&args.dt, message)
        }
        Error::NonFinite { location, .. } => CliError::file(
            &args.dt,
            format!("{location}: the score is NaN; use a finite score"),
        ),
        other => CliError::option("--iou-type", other.to_string()),
    }
}

/// Returns AP and AR of every category that has ground truth or detections, ascending by id,
/// as TorchMetrics' `map_per_class` and `mar_{d}_per_class` with its `classes`.
fn class_results(
    truth: &CocoDataset,
    results: &CocoDataset,
    accumulation: &Accumulation,
) -> Vec<ClassResult> {
    let present: BTreeSet<i64> = truth
        .annotations
        .iter()
        .chain(&results.annotations)
        .map(|annotation| annotation.category_id)
        .collect();

    let mut classes = Vec::with_capacity(present.len());
    for category_id in present {
        // The loaders reject annotations of categories that the ground truth does not list.
        let Ok(k) = accumulation.category_ids.binary_search(&category_id) else {
            continue;
        };
        let name = truth
            .categories
            .iter()
            .find(|category| category.id == category_id)
            .map(|category| category.name.clone())
            .unwrap_or_default();
        classes.push(ClassResult {
            category_id,
            name,
            precision: category_mean(accumulation, k, true),
            recall: category_mean(accumulation, k, false),
        });
    }
    classes
}

/// Returns the mean AP (or AR) of category position `k` over every IoU threshold, at area range
/// "all" and the largest max detection count, or -1 if no value is defined.
///
/// This is pycocotools' `np.mean(s[s > -1])` over the category's slice, summed in numpy's
/// pairwise order, which is what TorchMetrics reports per class.
fn category_mean(accumulation: &Accumulation, k: usize, precision: bool) -> f64 {
    let area = 0;
    let m = accumulation.params.max_detections.len() - 1;
    let thresholds = accumulation.params.iou_thresholds.len();

    // C order of the slice: IoU threshold, then recall threshold.
    let mut values = Vec::new();
    for t in 0..thresholds {
        if precision {
            for r in 0..accumulation.params.rec_thresholds.len() {
                values.push(accumulation.precision[[t, r, k, area, m]]);
            }
        } else {
            values.push(accumulation.recall[[t, k, area, m]]);
        }
    }

    values.retain(|&value| value > -1.0);
    if values.is_empty() {
        return -1.0;
    }
    pairwise_sum(&values) / values.len() as f64
}
