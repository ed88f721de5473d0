//! `detection --iou-metrics`: the mean IoU, GIoU, DIoU and CIoU of matching boxes, as
//! TorchMetrics' `IntersectionOverUnion` family computes them on per-image boxes.

use std::collections::BTreeMap;
use std::path::Path;

use comfy_table::presets::ASCII_MARKDOWN;
use comfy_table::{CellAlignment, Table};
use ferrometrics::detection::{
    Annotation, BoxFormat, BoxIouConfig, CocoDataset, CompleteIntersectionOverUnion,
    DistanceIntersectionOverUnion, GeneralizedIntersectionOverUnion, ImagePredictions,
    ImageTargets, IntersectionOverUnion,
};
use ferrometrics::{Metric, Value};
use ndarray::{Array1, Array2};

use crate::cli::{DetectionArgs, DetectionFormat};
use crate::error::CliError;

/// The output keys of the four metrics, in report order.
const KEYS: [&str; 4] = ["iou", "giou", "diou", "ciou"];

/// The boxes (`[x, y, width, height]`) and category ids of one image and side.
#[derive(Default)]
struct ImageBoxes {
    boxes: Vec<[f64; 4]>,
    labels: Vec<i64>,
}

/// One image's arrays in the layout the metrics read.
struct ImageArrays {
    boxes: Array2<f64>,
    labels: Array1<i64>,
}

impl ImageArrays {
    fn new(image: &ImageBoxes) -> Self {
        let flat: Vec<f64> = image.boxes.iter().flatten().copied().collect();
        Self {
            boxes: Array2::from_shape_vec((image.boxes.len(), 4), flat)
                .expect("four coordinates per box"),
            labels: Array1::from(image.labels.clone()),
        }
    }
}

/// The values of the four metrics: each metric's entries in TorchMetrics' key order.
pub struct IouReport {
    pub header: String,
    /// `(key, value)` pairs: `iou`, then `iou/cl_{id}` with `--per-class`, then `giou`, ...
    pub entries: Vec<(String, f64)>,
    /// Category ids and names of the per-class entries, present with `--per-class`.
    pub classes: Option<Vec<(i64, String)>>,
}

/// Checks the options that `--iou-metrics` reads or rejects, before any file is read.
pub fn check_options(args: &DetectionArgs) -> Result<(), CliError> {
    if !args.iou_metrics {
        if args.iou_threshold.is_some() {
            return Err(CliError::option(
                "--iou-threshold",
                "applies to --iou-metrics only; add --iou-metrics or use --iou-thresholds for \
                 the COCO summary",
            ));
        }
        if args.no_respect_labels {
            return Err(CliError::option(
                "--no-respect-labels",
                "applies to --iou-metrics only; add --iou-metrics or drop the option",
            ));
        }
        return Ok(());
    }
    if args.iou_type != crate::cli::IouTypeArg::Bbox {
        return Err(CliError::option(
            "--iou-type",
            "--iou-metrics compares boxes, so it needs --iou-type bbox",
        ));
    }
    if args.iou_thresholds.is_some() {
        return Err(CliError::option(
            "--iou-thresholds",
            "sets the COCO summary's thresholds and does not apply to --iou-metrics; use \
             --iou-threshold T to leave out pairs below T",
        ));
    }
    if args.rec_thresholds.is_some() {
        return Err(CliError::option(
            "--rec-thresholds",
            "sets the COCO summary's recall thresholds and does not apply to --iou-metrics; \
             drop the option",
        ));
    }
    if args.average != crate::cli::AverageArg::Macro {
        return Err(CliError::option(
            "--average",
            "sets the COCO summary's averaging and does not apply to --iou-metrics; drop the \
             option",
        ));
    }
    if let Some(threshold) = args.iou_threshold {
        // One threshold applies to all four metrics, so it must fit the narrowest range: IoU's.
        if !(0.0..=1.0).contains(&threshold) {
            return Err(CliError::option(
                "--iou-threshold",
                format!("{threshold} is not a threshold in [0, 1]; pass a number such as 0.5"),
            ));
        }
    }
    Ok(())
}

/// Explains each NaN of the report, which the JSON output writes as `null`.
pub fn nan_warnings(report: &IouReport) -> Vec<String> {
    report
        .entries
        .iter()
        .filter(|(_, value)| value.is_nan())
        .map(|(key, _)| {
            format!(
                "{key} is NaN (null in JSON) because a pair of two zero-area boxes counts and \
                 its union is 0; fix or remove the zero-area boxes"
            )
        })
        .collect()
}

/// Computes the four metrics over every image of the ground truth.
pub fn compute(
    args: &DetectionArgs,
    truth: &CocoDataset,
    results: &CocoDataset,
) -> Result<IouReport, CliError> {
    let truth_boxes = boxes_by_image(&args.gt, truth, "`annotations` ")?;
    let result_boxes = boxes_by_image(&args.dt, results, "")?;

    let empty = ImageBoxes::default();
    let mut preds = Vec::with_capacity(truth.images.len());
    let mut targets = Vec::with_capacity(truth.images.len());
    for image in &truth.images {
        preds.push(ImageArrays::new(
            result_boxes.get(&image.id).unwrap_or(&empty),
        ));
        targets.push(ImageArrays::new(
            truth_boxes.get(&image.id).unwrap_or(&empty),
        ));
    }
    let no_scores = Array1::<f64>::zeros(0);
    let predictions: Vec<ImagePredictions<'_>> = preds
        .iter()
        .map(|image| ImagePredictions {
            boxes: Some(image.boxes.view()),
            scores: no_scores.view(),
            labels: image.labels.view(),
            masks: None,
        })
        .collect();
    let target_views: Vec<ImageTargets<'_>> = targets
        .iter()
        .map(|image| ImageTargets {
            boxes: Some(image.boxes.view()),
            labels: image.labels.view(),
            iscrowd: None,
            area: None,
            masks: None,
        })
        .collect();

    let config = BoxIouConfig {
        box_format: BoxFormat::Xywh,
        iou_threshold: args.iou_threshold,
        class_metrics: args.per_class,
        respect_labels: !args.no_respect_labels,
    };
    let input = (&predictions[..], &target_views[..]);
    let values = [
        run_metric(IntersectionOverUnion::new(config), input),
        run_metric(GeneralizedIntersectionOverUnion::new(config), input),
        run_metric(DistanceIntersectionOverUnion::new(config), input),
        run_metric(CompleteIntersectionOverUnion::new(config), input),
    ];
    let mut entries = Vec::new();
    for value in values {
        let value =
            value.map_err(|error| CliError::option("--iou-threshold", error.to_string()))?;
        entries.extend(scalar_entries(value));
    }

    let classes = args.per_class.then(|| class_names(truth, &entries));
    let header = format!(
        "box IoU family of {} against {}; {} images, {} detections, {} ground-truth boxes, {}",
        args.dt.display(),
        args.gt.display(),
        truth.images.len(),
        results.annotations.len(),
        truth.annotations.len(),
        if args.no_respect_labels {
            "all pairs"
        } else {
            "pairs of the same category"
        },
    );
    Ok(IouReport {
        header,
        entries,
        classes,
    })
}

/// Groups the boxes of `dataset` by image id, in file order.
///
/// Every annotation counts, crowd regions included, because TorchMetrics' IoU metrics read no
/// crowd flags.
fn boxes_by_image(
    path: &Path,
    dataset: &CocoDataset,
    list: &str,
) -> Result<BTreeMap<i64, ImageBoxes>, CliError> {
    let mut images: BTreeMap<i64, ImageBoxes> = BTreeMap::new();
    for (index, annotation) in dataset.annotations.iter().enumerate() {
        let bbox = annotation_box(path, list, index, annotation)?;
        let image = images.entry(annotation.image_id).or_default();
        image.boxes.push(bbox);
        image.labels.push(annotation.category_id);
    }
    Ok(images)
}

fn annotation_box(
    path: &Path,
    list: &str,
    index: usize,
    annotation: &Annotation,
) -> Result<[f64; 4], CliError> {
    annotation.bbox.ok_or_else(|| {
        CliError::file(
            path,
            format!(
                "{list}entry {index}: missing field `bbox`; --iou-metrics compares boxes, so \
                 add a `bbox` [x, y, width, height] to every entry"
            ),
        )
    })
}

fn run_metric<M>(
    metric: ferrometrics::Result<M>,
    input: ferrometrics::Input<'_, M>,
) -> ferrometrics::Result<Value>
where
    M: Metric<Output = Value>,
{
    let mut metric = metric?;
    metric.update(input)?;
    metric.compute()
}

fn scalar_entries(value: Value) -> Vec<(String, f64)> {
    let Value::Map(entries) = value else {
        return Vec::new();
    };
    entries
        .into_iter()
        .filter_map(|(key, value)| value.as_scalar().map(|scalar| (key, scalar)))
        .collect()
}

/// Returns the id and name of every category with a per-class entry, ascending by id.
fn class_names(truth: &CocoDataset, entries: &[(String, f64)]) -> Vec<(i64, String)> {
    let prefix = "iou/cl_";
    entries
        .iter()
        .filter_map(|(key, _)| key.strip_prefix(prefix)?.parse::<i64>().ok())
        .map(|id| {
            let name = truth
                .categories
                .iter()
                .find(|category| category.id == id)
                .map(|category| category.name.clone())
                .unwrap_or_default();
            (id, name)
        })
        .collect()
}

/// Formats the report as a table or as one JSON object.
pub fn render(report: &IouReport, format: DetectionFormat) -> String {
    match format {
        DetectionFormat::Table => render_table(report),
        DetectionFormat::Json => render_json(report),
    }
}

fn value_of(report: &IouReport, key: &str) -> f64 {
    report
        .entries
        .iter()
        .find(|(name, _)| name == key)
        .map_or(f64::NAN, |(_, value)| *value)
}

fn render_table(report: &IouReport) -> String {
    let mut table = Table::new();
    table.load_preset(ASCII_MARKDOWN);
    table.set_header(vec!["metric", "value"]);
    for key in KEYS {
        table.add_row(vec![
            key.to_owned(),
            format!("{:.4}", value_of(report, key)),
        ]);
    }
    if let Some(column) = table.column_mut(1) {
        column.set_cell_alignment(CellAlignment::Right);
    }
    let mut text = format!("{}\n\n{table}\n", report.header);

    if let Some(classes) = &report.classes {
        let mut per_class = Table::new();
        per_class.load_preset(ASCII_MARKDOWN);
        let mut header = vec!["category_id".to_owned(), "name".to_owned()];
        header.extend(KEYS.iter().map(|key| key.to_string()));
        per_class.set_header(header);
        for (id, name) in classes {
            let mut row = vec![id.to_string(), name.replace('|', "\\|")];
            for key in KEYS {
                row.push(format!(
                    "{:.4}",
                    value_of(report, &format!("{key}/cl_{id}"))
                ));
            }
            per_class.add_row(row);
        }
        for column in [0, 2, 3, 4, 5] {
            if let Some(column) = per_class.column_mut(column) {
                column.set_cell_alignment(CellAlignment::Right);
            }
        }
        text.push_str(&format!("\n{per_class}\n"));
    }
    text
}

/// Renders one JSON object with TorchMetrics' keys, the fewest digits that read back as the
/// same f64, and `null` for NaN (a pair of two zero-area boxes).
fn render_json(report: &IouReport) -> String {
    let lines: Vec<String> = report
        .entries
        .iter()
        .map(|(key, value)| {
            let key = serde_json::to_string(key).unwrap_or_else(|_| format!("\"{key}\""));
            let number = serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned());
            format!("  {key}: {number}")
        })
        .collect();
    format!("{{\n{}\n}}\n", lines.join(",\n"))
}
