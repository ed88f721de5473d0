//! The integration tests of the ferrometrics crate, one module per metric family.

#[path = "integration/classification.rs"]
mod classification;
#[path = "integration/classification_reference.rs"]
mod classification_reference;

#[path = "integration/clustering_extrinsic.rs"]
mod clustering_extrinsic;

#[path = "integration/clustering_intrinsic.rs"]
mod clustering_intrinsic;

#[path = "integration/detection.rs"]
mod detection;
#[path = "integration/detection_cases.rs"]
mod detection_cases;
#[path = "integration/detection_masks.rs"]
mod detection_masks;
#[path = "integration/detection_metric.rs"]
mod detection_metric;

#[path = "integration/regression.rs"]
mod regression;

#[path = "integration/detection_iou.rs"]
mod detection_iou;

#[path = "integration/distributed.rs"]
mod distributed;

#[path = "integration/wrappers.rs"]
mod wrappers;
#[path = "integration/wrappers_counts.rs"]
mod wrappers_counts;

#[path = "integration/detection_state.rs"]
mod detection_state;
