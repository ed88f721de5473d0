//! Unit tests of the regression internals: moments, shapes and validation.
