//! Extrinsic clustering metrics, which compare predicted cluster labels with true labels.
//!
//! Every metric reads one [`ContingencyTable`] of (target, preds) label pairs. The functional
//! forms build the table of their whole input and the stateful forms accumulate it over batches.
//! Both call the same kernel on the table, so they agree to the last bit. Labels are any `i64`
//! values: they name clusters and are never used as indices.
//!
//! Values match scikit-learn 1.x, including its conventions for degenerate inputs (one cluster,
//! all singletons, a single sample). The places where TorchMetrics returns something else are
//! listed in `docs/differences-from-torchmetrics.md`.

mod cluster_accuracy;
mod contingency;
mod fowlkes_mallows;
mod homogeneity;
mod mutual_info;
mod rand;

pub use cluster_accuracy::{cluster_accuracy, ClusterAccuracy};
pub use contingency::{contingency_matrix, Cell, ContingencyTable};
pub use fowlkes_mallows::{fowlkes_mallows_index, FowlkesMallowsIndex};
pub use homogeneity::{
    completeness_score, homogeneity_score, v_measure_score, CompletenessScore, HomogeneityScore,
    VMeasureScore,
};
pub use mutual_info::{
    adjusted_mutual_info_score, expected_mutual_info, mutual_info_score,
    normalized_mutual_info_score, AdjustedMutualInfoScore, AverageMethod, MutualInfoScore,
    NormalizedMutualInfoScore,
};
pub use rand::{
    adjusted_rand_score, pair_confusion_matrix, rand_score, AdjustedRandScore, RandScore,
};

/// The key under which every extrinsic clustering metric shares its contingency table in a
/// [`MetricCollection`](crate::MetricCollection).
///
/// # Example
///
/// ```
/// use ferrometrics::clustering::{RandScore, SHARED_STATE_KEY};
/// use ferrometrics::Metric;
///
/// assert_eq!(RandScore::new().shared_state_key().as_deref(), Some(SHARED_STATE_KEY));
/// ```
pub const SHARED_STATE_KEY: &str = "clustering.contingency";

/// Implements [`Metric`](crate::Metric) for a struct with a `table: ContingencyTable` field.
///
/// The struct provides `const INFO: MetricInfo`, `fn check_config(&self, other: &Self) ->
/// Result<()>` and `fn compute_table(&self, table: &ContingencyTable) -> Result<f64>`, which
/// receives a non-empty table.
macro_rules! impl_table_metric {
    ($metric:ty) => {
        impl $crate::Metric for $metric {
            type Kind = $crate::inputs::LabelPairs;
            type Output = f64;

            fn info(&self) -> $crate::MetricInfo {
                <$metric>::INFO
            }

            fn update(&mut self, input: $crate::Input<'_, Self>) -> $crate::Result<()> {
                let (preds, target) = input;
                self.table.update(preds, target)
            }

            fn compute(&self) -> $crate::Result<f64> {
                self.compute_shared(&self.table)
            }

            fn reset(&mut self) {
                self.table.clear();
            }

            fn merge(&mut self, other: &Self) -> $crate::Result<()> {
                self.check_config(other)?;
                self.table.merge(&other.table);
                Ok(())
            }

            fn shared_state_key(&self) -> Option<String> {
                Some($crate::clustering::extrinsic::SHARED_STATE_KEY.to_owned())
            }

            fn shared_state(&self) -> Option<&dyn std::any::Any> {
                Some(&self.table)
            }

            fn compute_shared(&self, state: &dyn std::any::Any) -> $crate::Result<f64> {
                let name = <$metric>::INFO.name;
                let Some(table) =
                    state.downcast_ref::<$crate::clustering::extrinsic::ContingencyTable>()
                else {
                    return Err($crate::Error::incompatible_state(format!(
                        "{name} reads a ContingencyTable, but the shared state is another type"
                    )));
                };
                $crate::clustering::extrinsic::contingency::check_not_empty(name, table)?;
                self.compute_table(table)
            }

            fn merge_shared(&mut self, state: &dyn std::any::Any) -> $crate::Result<()> {
                let name = <$metric>::INFO.name;
                let Some(table) =
                    state.downcast_ref::<$crate::clustering::extrinsic::ContingencyTable>()
                else {
                    return Err($crate::Error::incompatible_state(format!(
                        "{name} merges a ContingencyTable, but the shared state is another type"
                    )));
                };
                self.table.merge(table);
                Ok(())
            }
        }
    };
}

pub(crate) use impl_table_metric;
