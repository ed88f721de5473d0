//! Integration tests of ferrometrics, one module per domain under `tests/integration/`.

#[path = "integration/clustering_intrinsic.rs"]
mod clustering_intrinsic;
