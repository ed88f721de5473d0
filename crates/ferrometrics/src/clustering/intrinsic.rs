//! Intrinsic clustering metrics over feature rows and their cluster labels.
