//! The integration tests of the ferrometrics crate, one module per metric family.

#[path = "integration/clustering_extrinsic.rs"]
mod clustering_extrinsic;

#[path = "integration/clustering_intrinsic.rs"]
mod clustering_intrinsic;

#[path = "integration/regression.rs"]
mod regression;
