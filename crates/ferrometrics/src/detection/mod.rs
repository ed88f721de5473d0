//! Object detection: COCO mean average precision and recall, bit-identical to pycocotools.
//!
//! The evaluation runs in the three steps of pycocotools' `COCOeval`. [`evaluate`] matches the
//! detections of each image and category to its ground truth. [`Evaluation::accumulate`] builds
//! precision and recall curves over all images. [`Accumulation::summarize`] reduces them to the
//! twelve summary numbers. Every floating-point
//! operation happens in pycocotools' (and numpy's) order, so the numbers agree to the bit.
//!
//! [`MeanAveragePrecision`] is the stateful metric with TorchMetrics' arguments and outputs.
//!
//! # Example
//!
//! ```
//! use ferrometrics::detection::{evaluate, CocoDataset, IouType, Params};
//!
//! let truth = CocoDataset::from_json_str(
//!     r#"{"images": [{"id": 1}], "categories": [{"id": 1}],
//!         "annotations": [{"id": 1, "image_id": 1, "category_id": 1,
//!                          "bbox": [10, 10, 20, 20], "area": 400}]}"#,
//! )?;
//! let results = truth.load_results_str(
//!     r#"[{"image_id": 1, "category_id": 1, "bbox": [12, 10, 20, 20], "score": 0.9}]"#,
//! )?;
//! let summary = evaluate(&truth, &results, IouType::Bbox, &Params::default())?
//!     .accumulate()
//!     .summarize();
//! // IoU 360/440 = 0.818 passes 7 of the 10 thresholds; pycocotools gives the same bits.
//! assert_eq!(summary.stats[0], 0.6999999999999998);
//! # Ok::<(), ferrometrics::Error>(())
//! ```

mod accumulate;
mod coco;
mod coco_fast;
mod details;
mod evaluate;
mod input;
mod iou;
mod iou_family;
pub mod mask;
mod metric;
mod params;
mod results_scan;
mod shard;
mod summarize;

pub use accumulate::{evaluate_accumulated, Accumulation};
pub use coco::{Annotation, Category, CocoDataset, Image};
pub use details::{evaluation_details, EvaluationDetails, ImageDetails};
pub use evaluate::{evaluate, Evaluation, ImageEvaluation, IouType, Outcome};
pub use input::{BoxFormat, DetectionBatch, ImagePredictions, ImageTargets, Masks};
pub use iou::box_iou;
pub use iou_family::{
    complete_intersection_over_union, distance_intersection_over_union,
    generalized_intersection_over_union, intersection_over_union, BoxIouConfig,
    CompleteIntersectionOverUnion, DistanceIntersectionOverUnion, GeneralizedIntersectionOverUnion,
    IntersectionOverUnion, IouVariant,
};
pub use metric::{Average, Backend, ImageClassIous, MapConfig, MeanAveragePrecision};
pub use params::{
    default_area_ranges, default_iou_thresholds, default_rec_thresholds, linspace, AreaRange,
    Params,
};
pub use shard::shard_images;
pub use summarize::{pairwise_sum, Summary, SummaryLine};
