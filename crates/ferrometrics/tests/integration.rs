//! Integration tests of ferrometrics, one module per domain under `tests/integration/`.

#[path = "integration/clustering_extrinsic.rs"]
mod clustering_extrinsic;
#[path = "integration/clustering_intrinsic.rs"]
mod clustering_intrinsic;
