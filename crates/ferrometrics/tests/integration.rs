//! The integration tests of the ferrometrics crate, one module per metric family.

#[path = "integration/detection.rs"]
mod detection;
#[path = "integration/detection_cases.rs"]
mod detection_cases;
