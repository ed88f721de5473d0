//! Clustering metrics.
//!
//! Extrinsic metrics compare predicted cluster labels with true labels through a contingency
//! table. Intrinsic metrics judge a clustering of feature rows without true labels.

pub mod extrinsic;
pub mod intrinsic;

pub use extrinsic::*;
pub use intrinsic::*;
