//! Unit tests of the classification module.
