//! The `detection` subcommand: read a COCO ground-truth file and a results file, evaluate them
//! as pycocotools' `COCOeval`, and format the summary.

mod locate;
mod render;

use std::collections::BTreeSet;
use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::time::Instant;

use ferrometrics::detection::{
    default_iou_thresholds, evaluate, pairwise_sum, Accumulation, CocoDataset, IouType, Params,
    Summary,
};
use ferrometrics::Error;
use indicatif::ProgressBar;

use crate::cli::{AverageArg, DetectionArgs, DetectionFormat};
use crate::clustering::Printout;
use crate::error::CliError;
use crate::progress;

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
    let iou_type = IouType::from(args.iou_type);

    let mut timings = Timings::new(args.timings);

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

    let report = compute_report(args, &truth, &results, iou_type, &params, &mut timings)?;
    timings.print();
    // Freeing a million small allocations one by one takes longer than the process exit that
    // follows, which releases them all at once.
    std::mem::forget((truth, results, results_text));
    let stdout = match args.format {
        DetectionFormat::Table => render::table(&report),
        DetectionFormat::Json => render::json(&report),
    };
    Ok(Printout {
        stdout,
        warnings: Vec::new(),
    })
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
/// values.
fn compute_report(
    args: &DetectionArgs,
    truth: &CocoDataset,
    results: &CocoDataset,
    iou_type: IouType,
    params: &Params,
    timings: &mut Timings,
) -> Result<Report, CliError> {
    let micro = args.average == AverageArg::Micro;
    let bar = progress::metrics_bar(truth.annotations.len() + results.annotations.len());
    bar.set_length(2 + u64::from(micro && args.per_class));
    let evaluated = evaluate_with_progress(args, truth, results, iou_type, params, &bar, timings);
    // Cleared before any error is printed, so that the message starts on a clean line.
    bar.finish_and_clear();
    let (summary, classes) = evaluated?;

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
    Ok(Report {
        header,
        summary,
        max_detections,
        classes,
    })
}

/// Runs the evaluation steps, advancing `bar` after each.
fn evaluate_with_progress(
    args: &DetectionArgs,
    truth: &CocoDataset,
    results: &CocoDataset,
    iou_type: IouType,
    params: &Params,
    bar: &ProgressBar,
    timings: &mut Timings,
) -> Result<(Summary, Option<Vec<ClassResult>>), CliError> {
    let micro = args.average == AverageArg::Micro;

    bar.set_message("matches");
    let headline_params = Params {
        use_categories: !micro,
        ..params.clone()
    };
    let evaluation = evaluate(truth, results, iou_type, &headline_params)
        .map_err(|error| evaluation_error(args, error))?;
    timings.lap("evaluate");
    bar.inc(1);

    bar.set_message("precision and recall");
    let accumulation = evaluation.accumulate();
    timings.lap("accumulate");
    // Left to the process exit, which frees the per-image evaluations faster than dropping them.
    std::mem::forget(evaluation);
    let summary = accumulation.summarize();
    timings.lap("summarize");
    bar.inc(1);

    if !args.per_class {
        return Ok((summary, None));
    }
    // Per-class values come from per-category matching, also under micro averaging.
    let by_category = if micro {
        bar.set_message("per-class matches");
        let per_category = Params {
            use_categories: true,
            ..params.clone()
        };
        let evaluation = evaluate(truth, results, iou_type, &per_category)
            .map_err(|error| evaluation_error(args, error))?;
        bar.inc(1);
        evaluation.accumulate()
    } else {
        accumulation
    };
    let classes = class_results(truth, results, &by_category);
    Ok((summary, Some(classes)))
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
