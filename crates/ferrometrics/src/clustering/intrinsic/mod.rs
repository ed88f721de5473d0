//! Intrinsic clustering metrics: they judge a clustering of feature rows by the geometry of the
//! rows alone, without true labels.
//!
//! Each metric takes `(data, labels)`: an (N, d) array of `f32` or `f64` features and one `i64`
//! cluster label per row. Labels can be any integers, and clusters are numbered by increasing
//! label. Every computation accumulates in f64, and parallel work uses fixed chunks reduced in a
//! fixed order, so a result does not depend on the number of threads.
//!
//! | metric | better | state |
//! | --- | --- | --- |
//! | [`CalinskiHarabaszScore`] | higher | per-label count, centroid and sum of squares |
//! | [`DaviesBouldinScore`] | lower | every row |
//! | [`DunnIndex`] | higher | every row |
//! | [`SilhouetteScore`] | higher | every row |

mod calinski_harabasz;
mod davies_bouldin;
mod dunn;
mod geometry;
mod silhouette;
mod stored;
mod validation;

pub use calinski_harabasz::{calinski_harabasz_score, CalinskiHarabaszScore};
pub use davies_bouldin::{davies_bouldin_score, DaviesBouldinScore};
pub use dunn::{dunn_index, DunnDefinition, DunnIndex};
pub use silhouette::{silhouette_score, SilhouetteScore};
