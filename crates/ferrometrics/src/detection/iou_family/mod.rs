//! The box IoU family: IoU, generalized, distance and complete IoU, as functions of two box
//! arrays and as stateful metrics over per-image detections, with TorchMetrics' arguments and
//! output keys.

mod kernel;
mod metric;

use serde::{Deserialize, Serialize};

pub use kernel::{
    complete_intersection_over_union, distance_intersection_over_union,
    generalized_intersection_over_union, intersection_over_union, IouVariant,
};
pub use metric::BoxIouConfig;

use super::DetectionBatch;
use crate::error::Result;
use crate::metric::{Input, Metric, MetricInfo};
use crate::value::Value;
use metric::BoxIouCore;

macro_rules! box_iou_metric {
    (
        $(#[$doc:meta])*
        $name:ident, $variant:expr
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        pub struct $name {
            core: BoxIouCore,
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new(BoxIouConfig::default()).expect("the default configuration is valid")
            }
        }

        impl $name {
            /// Creates the metric.
            ///
            /// # Errors
            ///
            /// Returns [`Error::InvalidArgument`](crate::Error::InvalidArgument) if
            /// `iou_threshold` is NaN or outside the range of the metric's values.
            pub fn new(config: BoxIouConfig) -> Result<Self> {
                Ok(Self {
                    core: BoxIouCore::new($variant, config)?,
                })
            }

            /// Returns the configuration.
            pub fn config(&self) -> &BoxIouConfig {
                self.core.config()
            }
        }

        impl Metric for $name {
            type Kind = DetectionBatch;
            type Output = Value;

            fn info(&self) -> MetricInfo {
                self.core.info(stringify!($name))
            }

            fn update(&mut self, input: Input<'_, Self>) -> Result<()> {
                self.core.update(input)
            }

            fn compute(&self) -> Result<Value> {
                Ok(self.core.compute())
            }

            fn reset(&mut self) {
                self.core.reset();
            }

            fn merge(&mut self, other: &Self) -> Result<()> {
                self.core.merge(stringify!($name), &other.core)
            }
        }
    };
}

box_iou_metric! {
    /// The mean IoU of matching prediction and target boxes, TorchMetrics'
    /// `IntersectionOverUnion`.
    ///
    /// IoU = |A ∩ B| / |A ∪ B| for each counted pair, as torchvision's `box_iou`.
    ///
    /// The metric takes the same [`DetectionBatch`] as
    /// [`MeanAveragePrecision`](crate::detection::MeanAveragePrecision) and reads only `boxes`
    /// and `labels`. For each image it computes the value of every prediction with every
    /// target, drops the pairs whose labels differ (with `respect_labels`) or whose value is
    /// below `iou_threshold`, and reports the mean of the remaining values over all images.
    /// TorchMetrics' rule for images without predictions or without targets is kept: such an
    /// image adds one zero per box on its non-empty side, or the square of that count without
    /// `respect_labels`.
    ///
    /// The output is a [`Value::Map`] with `"iou"`, then with `class_metrics` one
    /// `"iou/cl_{label}"` per label seen in predictions or targets, in ascending order. Each is
    /// the mean over the pairs whose target has that label, or 0 if there are none. Values lie
    /// in [0, 1], and the mean of no pairs is 0. A pair of two zero-area boxes gives NaN, as in
    /// torchvision, which makes the mean NaN.
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::detection::{ImagePredictions, ImageTargets, IntersectionOverUnion};
    /// use ferrometrics::{Metric, Value};
    /// use ndarray::array;
    ///
    /// let pred_boxes = array![[296.55, 93.96, 314.97, 152.79], [298.55, 98.96, 314.97, 151.79]];
    /// let pred_labels = array![4_i64, 5];
    /// let scores = array![0.236, 0.56];
    /// let target_boxes = array![[300.0, 100.0, 315.0, 150.0]];
    /// let target_labels = array![5_i64];
    /// let preds = [ImagePredictions {
    ///     boxes: Some(pred_boxes.view()),
    ///     scores: scores.view(),
    ///     labels: pred_labels.view(),
    ///     masks: None,
    /// }];
    /// let targets = [ImageTargets {
    ///     boxes: Some(target_boxes.view()),
    ///     labels: target_labels.view(),
    ///     iscrowd: None,
    ///     area: None,
    ///     masks: None,
    /// }];
    ///
    /// let mut metric = IntersectionOverUnion::default();
    /// metric.update((&preds, &targets))?;
    /// let result = metric.compute()?;
    /// let (key, value) = &result.as_map().unwrap()[0];
    /// // Only the label-5 pair counts; TorchMetrics prints {'iou': tensor(0.8614)}.
    /// assert_eq!(key, "iou");
    /// assert!((value.as_scalar().unwrap() - 0.8614).abs() < 1e-4);
    /// # Ok::<(), ferrometrics::Error>(())
    /// ```
    IntersectionOverUnion, IouVariant::Iou
}

box_iou_metric! {
    /// The mean generalized IoU of matching prediction and target boxes, TorchMetrics'
    /// `GeneralizedIntersectionOverUnion`.
    ///
    /// GIoU = IoU - (C - U) / C, with `C` the area of the smallest box enclosing both and `U`
    /// the union area (torchvision's `generalized_box_iou`, after arXiv:1902.09630). The
    /// counted pairs and the output are those of [`IntersectionOverUnion`], under the keys
    /// `"giou"` and `"giou/cl_{label}"`, and `iou_threshold` compares GIoU values. Values lie in
    /// (-1, 1].
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::detection::{
    ///     GeneralizedIntersectionOverUnion, ImagePredictions, ImageTargets,
    /// };
    /// use ferrometrics::Metric;
    /// use ndarray::array;
    ///
    /// let pred_boxes = array![[296.55, 93.96, 314.97, 152.79], [298.55, 98.96, 314.97, 151.79]];
    /// let pred_labels = array![4_i64, 5];
    /// let scores = array![0.236, 0.56];
    /// let target_boxes = array![[300.0, 100.0, 315.0, 150.0]];
    /// let target_labels = array![5_i64];
    /// let preds = [ImagePredictions {
    ///     boxes: Some(pred_boxes.view()),
    ///     scores: scores.view(),
    ///     labels: pred_labels.view(),
    ///     masks: None,
    /// }];
    /// let targets = [ImageTargets {
    ///     boxes: Some(target_boxes.view()),
    ///     labels: target_labels.view(),
    ///     iscrowd: None,
    ///     area: None,
    ///     masks: None,
    /// }];
    ///
    /// let mut metric = GeneralizedIntersectionOverUnion::default();
    /// metric.update((&preds, &targets))?;
    /// let result = metric.compute()?;
    /// // TorchMetrics prints {'giou': tensor(0.8613)}.
    /// let giou = result.as_map().unwrap()[0].1.as_scalar().unwrap();
    /// assert!((giou - 0.8613).abs() < 1e-4);
    /// # Ok::<(), ferrometrics::Error>(())
    /// ```
    GeneralizedIntersectionOverUnion, IouVariant::Generalized
}

box_iou_metric! {
    /// The mean distance IoU of matching prediction and target boxes, TorchMetrics'
    /// `DistanceIntersectionOverUnion`.
    ///
    /// DIoU = IoU - ρ² / (c² + 1e-7), with `ρ` the distance between the box centers and `c` the
    /// diagonal of the smallest enclosing box (torchvision's `distance_box_iou`, after
    /// arXiv:1911.08287). The counted pairs and the output are those of
    /// [`IntersectionOverUnion`], under the keys `"diou"` and `"diou/cl_{label}"`, and
    /// `iou_threshold` compares DIoU values. Values lie in (-1, 1].
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::detection::{DistanceIntersectionOverUnion, ImagePredictions, ImageTargets};
    /// use ferrometrics::Metric;
    /// use ndarray::array;
    ///
    /// let pred_boxes = array![[0.0, 0.0, 2.0, 2.0]];
    /// let target_boxes = array![[1.0, 0.0, 3.0, 2.0]];
    /// let labels = array![0_i64];
    /// let scores = array![1.0];
    /// let preds = [ImagePredictions {
    ///     boxes: Some(pred_boxes.view()),
    ///     scores: scores.view(),
    ///     labels: labels.view(),
    ///     masks: None,
    /// }];
    /// let targets = [ImageTargets {
    ///     boxes: Some(target_boxes.view()),
    ///     labels: labels.view(),
    ///     iscrowd: None,
    ///     area: None,
    ///     masks: None,
    /// }];
    ///
    /// let mut metric = DistanceIntersectionOverUnion::default();
    /// metric.update((&preds, &targets))?;
    /// let result = metric.compute()?;
    /// // IoU 2/6; centers 1 apart; enclosing box 3 × 2, so c² = 13.
    /// let diou = result.as_map().unwrap()[0].1.as_scalar().unwrap();
    /// assert!((diou - (2.0 / 6.0 - 1.0 / (13.0 + 1e-7))).abs() < 1e-15);
    /// # Ok::<(), ferrometrics::Error>(())
    /// ```
    DistanceIntersectionOverUnion, IouVariant::Distance
}

box_iou_metric! {
    /// The mean complete IoU of matching prediction and target boxes, TorchMetrics'
    /// `CompleteIntersectionOverUnion`.
    ///
    /// CIoU = DIoU - α v, with v = 4 / π² (atan(w₁ / h₁) - atan(w₂ / h₂))² comparing the aspect
    /// ratios and α = v / (1 - IoU + v + 1e-7) (torchvision's `complete_box_iou`, after
    /// arXiv:2005.03572). The counted pairs and the output are those of
    /// [`IntersectionOverUnion`], under the keys `"ciou"` and `"ciou/cl_{label}"`, and
    /// `iou_threshold` compares CIoU values. Values lie in (-2, 1].
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::detection::{CompleteIntersectionOverUnion, ImagePredictions, ImageTargets};
    /// use ferrometrics::Metric;
    /// use ndarray::array;
    ///
    /// let boxes = array![[10.0, 20.0, 30.0, 60.0]];
    /// let labels = array![3_i64];
    /// let scores = array![0.9];
    /// let preds = [ImagePredictions {
    ///     boxes: Some(boxes.view()),
    ///     scores: scores.view(),
    ///     labels: labels.view(),
    ///     masks: None,
    /// }];
    /// let targets = [ImageTargets {
    ///     boxes: Some(boxes.view()),
    ///     labels: labels.view(),
    ///     iscrowd: None,
    ///     area: None,
    ///     masks: None,
    /// }];
    ///
    /// let mut metric = CompleteIntersectionOverUnion::default();
    /// metric.update((&preds, &targets))?;
    /// // Identical boxes: IoU 1, no center distance, no aspect-ratio gap.
    /// assert_eq!(metric.compute()?.as_map().unwrap()[0].1.as_scalar(), Some(1.0));
    /// # Ok::<(), ferrometrics::Error>(())
    /// ```
    CompleteIntersectionOverUnion, IouVariant::Complete
}
