//! Aggregation metrics: sum, mean, max, min and concatenation of values.
