//! The stateful box IoU metrics: running sums of the valid pair values, overall and per class.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::kernel::{check_threshold, checked_boxes, IouVariant};
use crate::detection::{BoxFormat, DetectionBatch, ImagePredictions, ImageTargets};
use crate::error::{Error, Result};
use crate::metric::{check_same_setting, InputKind, MetricInfo};
use crate::numerics::CompensatedSum;
use crate::value::Value;

/// The configuration of the box IoU metrics, with TorchMetrics' arguments and defaults.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BoxIouConfig {
    /// The layout of the input boxes.
    pub box_format: BoxFormat,
    /// Pairs whose value is below this threshold are left out of the means. `None` keeps all.
    pub iou_threshold: Option<f64>,
    /// Whether to report one mean per class under `"{key}/cl_{label}"`.
    pub class_metrics: bool,
    /// Whether only pairs of a prediction and a target with the same label count.
    pub respect_labels: bool,
}

impl Default for BoxIouConfig {
    fn default() -> Self {
        Self {
            box_format: BoxFormat::Xyxy,
            iou_threshold: None,
            class_metrics: false,
            respect_labels: true,
        }
    }
}

/// A compensated sum and the number of its terms.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
struct Tally {
    sum: CompensatedSum,
    count: u64,
}

impl Tally {
    fn add(&mut self, x: f64) {
        self.sum.add(x);
        self.count += 1;
    }

    fn merge(&mut self, other: &Tally) {
        self.sum.merge(&other.sum);
        self.count += other.count;
    }

    /// Returns the mean, or 0 when there are no terms, as TorchMetrics does.
    fn mean(&self) -> f64 {
        if self.count == 0 {
            return 0.0;
        }
        self.sum.value() / self.count as f64
    }
}

/// The shared state and logic of the four box IoU metrics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct BoxIouCore {
    variant: IouVariant,
    config: BoxIouConfig,
    total: Tally,
    /// One tally per label seen in predictions or targets. A pair counts for its target's label.
    classes: BTreeMap<i64, Tally>,
}

/// The validated boxes and labels of one image.
struct CheckedImage {
    pred_boxes: Vec<[f64; 4]>,
    pred_labels: Vec<i64>,
    target_boxes: Vec<[f64; 4]>,
    target_labels: Vec<i64>,
}

fn check_image(
    image: usize,
    pred: &ImagePredictions<'_>,
    target: &ImageTargets<'_>,
    format: BoxFormat,
) -> Result<CheckedImage> {
    let pred_boxes = side_boxes("preds", image, pred.boxes, pred.labels.len(), format)?;
    let target_boxes = side_boxes("target", image, target.boxes, target.labels.len(), format)?;
    Ok(CheckedImage {
        pred_boxes,
        pred_labels: pred.labels.to_vec(),
        target_boxes,
        target_labels: target.labels.to_vec(),
    })
}

fn side_boxes(
    side: &str,
    image: usize,
    boxes: Option<ndarray::ArrayView2<'_, f64>>,
    label_count: usize,
    format: BoxFormat,
) -> Result<Vec<[f64; 4]>> {
    let argument = format!("{side}[{image}].boxes");
    let Some(boxes) = boxes else {
        return Err(Error::invalid_input(
            argument,
            "missing; box IoU metrics need one box per label, so pass an (N, 4) array",
        ));
    };
    let checked = checked_boxes(&argument, boxes, format)?;
    crate::check_same_length(
        &format!("{side}[{image}].labels"),
        label_count,
        &argument,
        checked.len(),
    )?;
    Ok(checked)
}

impl BoxIouCore {
    pub(crate) fn new(variant: IouVariant, config: BoxIouConfig) -> Result<Self> {
        check_threshold(variant, config.iou_threshold)?;
        Ok(Self {
            variant,
            config,
            total: Tally::default(),
            classes: BTreeMap::new(),
        })
    }

    pub(crate) fn config(&self) -> &BoxIouConfig {
        &self.config
    }

    pub(crate) fn info(&self, name: &'static str) -> MetricInfo {
        MetricInfo {
            name,
            higher_is_better: Some(true),
            is_differentiable: false,
            lower_bound: self.variant.lower_bound(),
            upper_bound: 1.0,
        }
    }

    pub(crate) fn update(&mut self, input: <DetectionBatch as InputKind>::Input<'_>) -> Result<()> {
        let (preds, targets) = input;
        crate::check_same_length("preds", preds.len(), "target", targets.len())?;
        let images = preds
            .iter()
            .zip(targets)
            .enumerate()
            .map(|(image, (pred, target))| check_image(image, pred, target, self.config.box_format))
            .collect::<Result<Vec<_>>>()?;

        for image in &images {
            self.add_image(image);
        }
        Ok(())
    }

    /// Adds the valid pairs of one image, following TorchMetrics' `IntersectionOverUnion.update`.
    fn add_image(&mut self, image: &CheckedImage) {
        for &label in image.pred_labels.iter().chain(&image.target_labels) {
            self.classes.entry(label).or_default();
        }

        let preds = image.pred_boxes.len();
        let targets = image.target_boxes.len();
        if preds == 0 || targets == 0 {
            self.add_unmatched(image, preds.max(targets), targets > 0);
            return;
        }

        for (i, &pred_box) in image.pred_boxes.iter().enumerate() {
            for (j, &target_box) in image.target_boxes.iter().enumerate() {
                let label = image.target_labels[j];
                if self.config.respect_labels && image.pred_labels[i] != label {
                    continue;
                }
                let value = self.variant.pair(pred_box, target_box);
                if self.config.iou_threshold.is_some_and(|t| value < t) {
                    continue;
                }
                self.total.add(value);
                self.classes.entry(label).or_default().add(value);
            }
        }
    }

    /// Counts an image without predictions or without targets. TorchMetrics gives such an image
    /// a square zero matrix over its non-empty side, and the threshold does not apply to it.
    /// With `respect_labels` only the diagonal counts (one zero per box), and without it all
    /// `count²` zeros count. The zeros of missed targets go to their targets' classes, and those
    /// of unmatched predictions go to no class.
    fn add_unmatched(&mut self, image: &CheckedImage, count: usize, targets_present: bool) {
        let per_box = if self.config.respect_labels { 1 } else { count };
        for index in 0..count {
            for _ in 0..per_box {
                self.total.add(0.0);
                if targets_present {
                    let label = image.target_labels[index];
                    self.classes.entry(label).or_default().add(0.0);
                }
            }
        }
    }

    pub(crate) fn compute(&self) -> Value {
        let key = self.variant.key();
        let mut out = vec![(key.to_owned(), Value::Scalar(self.total.mean()))];
        if self.config.class_metrics {
            for (label, tally) in &self.classes {
                out.push((format!("{key}/cl_{label}"), Value::Scalar(tally.mean())));
            }
        }
        Value::Map(out)
    }

    pub(crate) fn reset(&mut self) {
        self.total = Tally::default();
        self.classes.clear();
    }

    pub(crate) fn merge(&mut self, name: &str, other: &Self) -> Result<()> {
        let (ours, theirs) = (&self.config, &other.config);
        check_same_setting(name, "box_format", &ours.box_format, &theirs.box_format)?;
        let threshold = |config: &BoxIouConfig| {
            config
                .iou_threshold
                .map_or_else(|| "None".to_owned(), |t| t.to_string())
        };
        // Compared as numbers, so that 0.0 and -0.0 merge; the texts only name the values.
        if ours.iou_threshold != theirs.iou_threshold {
            check_same_setting(name, "iou_threshold", &threshold(ours), &threshold(theirs))?;
        }
        check_same_setting(
            name,
            "class_metrics",
            &ours.class_metrics,
            &theirs.class_metrics,
        )?;
        check_same_setting(
            name,
            "respect_labels",
            &ours.respect_labels,
            &theirs.respect_labels,
        )?;
        self.total.merge(&other.total);
        for (label, tally) in &other.classes {
            self.classes.entry(*label).or_default().merge(tally);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tally_merge_adds_counts_and_sums() {
        let mut left = Tally::default();
        left.add(1e16);
        let mut right = Tally::default();
        right.add(1.0);
        right.add(-1e16);
        left.merge(&right);
        assert_eq!(left.count, 3);
        assert_eq!(left.mean(), 1.0 / 3.0);
    }

    #[test]
    fn tally_empty_mean_is_zero() {
        assert_eq!(Tally::default().mean(), 0.0);
    }
}
