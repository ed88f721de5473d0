//! The integration tests of the ferrometrics crate, one module per metric family.

#[path = "integration/detection.rs"]
mod detection;
#[path = "integration/detection_cases.rs"]
mod detection_cases;
#[path = "integration/detection_masks.rs"]
mod detection_masks;
#[path = "integration/detection_metric.rs"]
mod detection_metric;
