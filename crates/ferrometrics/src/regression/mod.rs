//! Regression metrics, as TorchMetrics' `torchmetrics.regression`: errors between predicted and
//! true values, correlation coefficients, and scores of predicted distributions.
//!
//! Every stateful metric here takes [`PredsTarget<F>`] batches, `(preds, target)` with `F` equal
//! to `f32` or `f64`, and accumulates in `f64`. Inputs of shape `(N,)` are one output. Inputs of
//! shape `(N, num_outputs)` are `num_outputs` independent outputs, and the metrics that take a
//! `num_outputs` argument return one value per output. A metric with one output returns
//! [`Value::Scalar`](crate::Value::Scalar), one with several returns
//! [`Value::Array`](crate::Value::Array), as TorchMetrics returns a 0-d or a 1-d tensor.
//!
//! States are running sums kept with compensated summation, or running moments merged with the
//! pairwise update formulas of Chan, Golub and LeVeque (1979). Any split of the data into batches
//! and any merge order therefore give the one-pass value within 1e-12 relative. The rank
//! correlations ([`SpearmanCorrCoef`], [`KendallRankCorrCoef`]) keep every sample, because ranks
//! depend on all the data.
//!
//! Each metric also has a function over whole inputs with TorchMetrics' functional name, such as
//! [`pearson_corrcoef`] for [`PearsonCorrCoef`].
//!
//! | metric | reference | state |
//! | --- | --- | --- |
//! | [`PearsonCorrCoef`] | scipy `pearsonr` | moments |
//! | [`ConcordanceCorrCoef`] | Lin (1989) | moments |
//! | [`SpearmanCorrCoef`] | scipy `spearmanr` | all samples |
//! | [`KendallRankCorrCoef`] | scipy `kendalltau` | all samples |
//! | [`WeightedPearsonCorrCoef`] | numpy `cov` with `aweights` | weighted moments |
//! | [`MeanSquaredError`] | scikit-learn `mean_squared_error` | sums |
//! | [`MeanAbsoluteError`] | scikit-learn `mean_absolute_error` | sums |
//! | [`MeanSquaredLogError`] | scikit-learn `mean_squared_log_error` | sums |
//! | [`LogCoshError`] | definition | sums |
//! | [`MeanAbsolutePercentageError`] | scikit-learn `mean_absolute_percentage_error` | sums |
//! | [`SymmetricMeanAbsolutePercentageError`] | TorchMetrics | sums |
//! | [`WeightedMeanAbsolutePercentageError`] | TorchMetrics | sums |
//! | [`MinkowskiDistance`] | scipy `minkowski` | sums |
//! | [`TweedieDevianceScore`] | scikit-learn `mean_tweedie_deviance` | sums |
//! | [`R2Score`] | scikit-learn `r2_score` | moments |
//! | [`ExplainedVariance`] | scikit-learn `explained_variance_score` | moments |
//! | [`RelativeSquaredError`] | `1 - r2_score` | moments |
//! | [`NormalizedRootMeanSquaredError`] | TorchMetrics | moments, min, max |
//! | [`CosineSimilarity`] | scipy `cosine` | row sums (rows for `none`) |
//! | [`KLDivergence`] | scipy `entropy` | row sums (rows for `none`) |
//! | [`JensenShannonDivergence`] | scipy `jensenshannon` squared | row sums (rows for `none`) |
//! | [`CriticalSuccessIndex`] | scikit-learn `jaccard_score` | integer counts |
//! | [`ContinuousRankedProbabilityScore`] | Gneiting and Raftery (2007) | sums |
//!
//! # Example
//!
//! ```
//! use ferrometrics::regression::PearsonCorrCoef;
//! use ferrometrics::Metric;
//! use ndarray::array;
//!
//! let mut metric = PearsonCorrCoef::<f64>::new(1)?;
//! let (preds, target) = (array![2.5, 0.0, 2.0, 8.0], array![3.0, -0.5, 2.0, 7.0]);
//! metric.update((preds.view().into_dyn(), target.view().into_dyn()))?;
//! let r = metric.compute()?.as_scalar().unwrap();
//! assert!((r - 0.984_869_618_448_27).abs() < 1e-12);
//! # Ok::<(), ferrometrics::Error>(())
//! ```

mod batch;
mod correlation;
mod cosine;
mod crps;
mod csi;
mod divergence;
mod fused_moments;
mod mean_error;
mod moments;
mod normal;
mod options;
mod r2;
mod rank;
mod row_scores;
mod sums;
mod tweedie;
mod weighted_pearson;

use std::marker::PhantomData;

use ndarray::ArrayViewD;

use crate::metric::InputKind;
use crate::numerics::Real;

pub use correlation::{
    concordance_corrcoef, pearson_corrcoef, ConcordanceCorrCoef, PearsonCorrCoef,
};
pub use cosine::{cosine_similarity, CosineSimilarity};
pub use crps::{continuous_ranked_probability_score, ContinuousRankedProbabilityScore};
pub use csi::{critical_success_index, CriticalSuccessIndex};
pub use divergence::{
    jensen_shannon_divergence, kl_divergence, JensenShannonDivergence, KLDivergence,
};
pub use mean_error::{
    log_cosh_error, mean_absolute_error, mean_absolute_percentage_error, mean_squared_error,
    mean_squared_log_error, minkowski_distance, symmetric_mean_absolute_percentage_error,
    weighted_mean_absolute_percentage_error, LogCoshError, MeanAbsoluteError,
    MeanAbsolutePercentageError, MeanSquaredError, MeanSquaredLogError, MinkowskiDistance,
    SymmetricMeanAbsolutePercentageError, WeightedMeanAbsolutePercentageError,
};
pub use options::{Multioutput, Normalization, Reduction};
pub use r2::{
    explained_variance, normalized_root_mean_squared_error, r2_score, relative_squared_error,
    ExplainedVariance, NormalizedRootMeanSquaredError, R2Score, RelativeSquaredError,
};
pub use rank::{
    kendall_rank_corrcoef, spearman_corrcoef, Alternative, KendallRankCorrCoef, KendallVariant,
    SpearmanCorrCoef,
};
pub use tweedie::{tweedie_deviance_score, TweedieDevianceScore};
pub use weighted_pearson::{weighted_pearson_corrcoef, WeightedPearsonCorrCoef};

/// Predicted and true values of the same samples: `(preds, target)`, the regression input.
///
/// The arrays are views of any dimension, so that each metric can accept the shapes TorchMetrics
/// accepts, and each metric's documentation states them. Most take two arrays of the same shape,
/// `(N,)` for one output or `(N, num_outputs)`, and some flatten any shape into one output. The
/// distribution metrics take `(N, d)` rows, and [`ContinuousRankedProbabilityScore`] takes
/// ensembles of shape `(N, m)` with targets of shape `(N,)`. `F` is `f32` or `f64`.
#[derive(Debug, Clone, Copy)]
pub struct PredsTarget<F>(PhantomData<F>);

impl<F: Real> InputKind for PredsTarget<F> {
    type Input<'a> = (ArrayViewD<'a, F>, ArrayViewD<'a, F>);
}

/// Predicted and true values with a weight per sample: `(preds, target, weights)`, the input of
/// [`WeightedPearsonCorrCoef`].
///
/// `preds` and `target` have the same shape, `(N,)` or `(N, num_outputs)`, and `weights` has
/// shape `(N,)`. `F` is `f32` or `f64`.
#[derive(Debug, Clone, Copy)]
pub struct WeightedPredsTarget<F>(PhantomData<F>);

impl<F: Real> InputKind for WeightedPredsTarget<F> {
    type Input<'a> = (ArrayViewD<'a, F>, ArrayViewD<'a, F>, ArrayViewD<'a, F>);
}

#[cfg(test)]
mod tests;
