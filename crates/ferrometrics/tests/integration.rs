//! Integration tests of ferrometrics, one module per domain under `tests/integration/`.

#[path = "integration/regression.rs"]
mod regression;
