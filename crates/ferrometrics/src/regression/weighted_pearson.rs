//! Pearson's correlation coefficient with sample weights.

use std::marker::PhantomData;

use ndarray::{Array1, ArrayView, ArrayView1, ArrayViewD, Dimension};
use serde::{Deserialize, Serialize};

use super::batch::{check_finite, check_num_outputs, per_output, to_columns, Layout};
use super::correlation::outputs_of_shape;
use super::moments::Comoments;
use super::{Real, WeightedPredsTarget};
use crate::error::{Error, Result};
use crate::metric::{check_same_config, Input, Metric, MetricInfo};
use crate::Value;

/// Validates a weighted batch and returns its per-output moments.
fn weighted_moments<F: Real>(
    preds: &ArrayViewD<'_, F>,
    target: &ArrayViewD<'_, F>,
    weights: &ArrayViewD<'_, F>,
    num_outputs: usize,
) -> Result<Vec<Comoments>> {
    let (preds, target) = to_columns(preds, target, num_outputs, Layout::Outputs)?;
    if weights.ndim() != 1 {
        return Err(Error::invalid_input(
            "weights",
            format!(
                "shape {:?} is not (N,); pass one weight per sample",
                weights.shape()
            ),
        ));
    }
    crate::check_same_length("preds", preds.nrows(), "weights", weights.len())?;
    check_finite("weights", weights)?;
    let weights: Array1<f64> = weights.iter().map(|w| w.to_f64()).collect();
    if let Some((index, weight)) = weights.iter().enumerate().find(|(_, w)| **w < 0.0) {
        return Err(Error::invalid_input(
            "weights",
            format!("weight {weight} at index {index} is negative; weights must be >= 0"),
        ));
    }

    let weights: ArrayView1<'_, f64> = weights.view();
    let moments = preds
        .columns()
        .into_iter()
        .zip(target.columns())
        .map(|(x, y)| Comoments::of_weighted_batch(x, y, Some(weights)))
        .collect();
    Ok(moments)
}

fn weighted_pearson_of(moments: &[Comoments]) -> Result<Value> {
    let count = moments.first().map_or(0, Comoments::count);
    if count < 2 {
        return Err(Error::not_enough_data(
            "WeightedPearsonCorrCoef",
            format!("a correlation needs at least 2 samples, but {count} were seen"),
        ));
    }
    Ok(per_output(moments.iter().map(Comoments::pearson).collect()))
}

/// Computes the weighted Pearson correlation coefficient between `preds` and `target`, per
/// output, with one weight per sample.
///
/// `r = sum(w (x - m_x)(y - m_y)) / sqrt(sum(w (x - m_x)^2) * sum(w (y - m_y)^2))` with the
/// weighted means `m_x = sum(w x) / sum(w)` and `m_y`, the correlation of
/// `numpy.cov(x, y, aweights=w)`. Weights must be `>= 0`. An output whose `preds` or `target` is
/// constant over the samples of positive weight, or whose weights sum to 0, gives NaN.
///
/// # Example
///
/// ```
/// use ferrometrics::regression::weighted_pearson_corrcoef;
/// use ndarray::array;
///
/// let preds = array![2.5, 0.0, 2.0, 8.0];
/// let target = array![3.0, -0.5, 2.0, 7.0];
/// let weights = array![0.2, 0.3, 0.5, 1.0];
/// let r = weighted_pearson_corrcoef(preds.view(), target.view(), weights.view())?;
/// assert!((r.as_scalar().unwrap() - 0.993_315_523_839_640_2).abs() < 1e-14);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
///
/// # Errors
///
/// Returns an error naming the argument if the shapes of `preds` and `target` differ or are not
/// `(N,)` or `(N, d)`, if `weights` is not `(N,)`, or if a value is NaN or infinite. A negative
/// weight is an [`Error::InvalidInput`], and fewer than 2 samples give
/// [`Error::NotEnoughData`].
pub fn weighted_pearson_corrcoef<F: Real, D: Dimension>(
    preds: ArrayView<'_, F, D>,
    target: ArrayView<'_, F, D>,
    weights: ArrayView1<'_, F>,
) -> Result<Value> {
    let (preds, target) = (preds.into_dyn(), target.into_dyn());
    let num_outputs = outputs_of_shape(preds.shape());
    let moments = weighted_moments(&preds, &target, &weights.into_dyn(), num_outputs)?;
    weighted_pearson_of(&moments)
}

/// Weighted Pearson correlation coefficient over every batch seen, as TorchMetrics'
/// `WeightedPearsonCorrCoef`. See [`weighted_pearson_corrcoef`] for the definition.
///
/// The batch is `(preds, target, weights)`. The state is the weighted moments per output, merged
/// with Chan et al.'s formulas with weights in place of counts, so any batch split gives the
/// one-pass value within 1e-12 relative.
///
/// # Example
///
/// ```
/// use ferrometrics::regression::{pearson_corrcoef, WeightedPearsonCorrCoef};
/// use ferrometrics::Metric;
/// use ndarray::array;
///
/// // A weight of 2 counts a sample twice.
/// let mut weighted = WeightedPearsonCorrCoef::<f64>::new(1)?;
/// let (preds, target) = (array![1.0, 2.0, 4.0].into_dyn(), array![1.0, 3.0, 2.0].into_dyn());
/// let weights = array![1.0, 2.0, 1.0].into_dyn();
/// weighted.update((preds.view(), target.view(), weights.view()))?;
///
/// let repeated = array![1.0, 2.0, 2.0, 4.0];
/// let repeated_target = array![1.0, 3.0, 3.0, 2.0];
/// let plain = pearson_corrcoef(repeated.view(), repeated_target.view())?;
/// let difference = weighted.compute()?.as_scalar().unwrap() - plain.as_scalar().unwrap();
/// assert!(difference.abs() < 1e-15);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct WeightedPearsonCorrCoef<F: Real = f64> {
    num_outputs: usize,
    moments: Vec<Comoments>,
    #[serde(skip)]
    element: PhantomData<F>,
}

impl<F: Real> WeightedPearsonCorrCoef<F> {
    /// Creates an empty metric for `num_outputs` outputs.
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::regression::WeightedPearsonCorrCoef;
    ///
    /// assert!(WeightedPearsonCorrCoef::<f64>::new(0).is_err());
    /// ```
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidArgument`] naming `num_outputs` if it is 0 or above 2^24.
    pub fn new(num_outputs: usize) -> Result<Self> {
        check_num_outputs(num_outputs)?;
        Ok(Self {
            num_outputs,
            moments: vec![Comoments::default(); num_outputs],
            element: PhantomData,
        })
    }
}

impl<F: Real> Default for WeightedPearsonCorrCoef<F> {
    fn default() -> Self {
        Self::new(1).expect("one output is valid")
    }
}

impl<F: Real> Metric for WeightedPearsonCorrCoef<F> {
    type Kind = WeightedPredsTarget<F>;
    type Output = Value;

    fn info(&self) -> MetricInfo {
        MetricInfo {
            name: "WeightedPearsonCorrCoef",
            // As PearsonCorrCoef: r = -1 is as strong a linear relation as r = 1.
            higher_is_better: None,
            is_differentiable: true,
            lower_bound: -1.0,
            upper_bound: 1.0,
        }
    }

    /// Folds the batch's weighted moments into the running moments.
    ///
    /// # Errors
    ///
    /// As [`weighted_pearson_corrcoef`], and a rejected batch changes nothing.
    fn update(&mut self, (preds, target, weights): Input<'_, Self>) -> Result<()> {
        let batch = weighted_moments(&preds, &target, &weights, self.num_outputs)?;

        for (moments, batch) in self.moments.iter_mut().zip(&batch) {
            moments.merge(batch);
        }
        Ok(())
    }

    fn compute(&self) -> Result<Value> {
        weighted_pearson_of(&self.moments)
    }

    fn reset(&mut self) {
        self.moments = vec![Comoments::default(); self.num_outputs];
    }

    fn merge(&mut self, other: &Self) -> Result<()> {
        check_same_config(
            "WeightedPearsonCorrCoef",
            "num_outputs",
            &self.num_outputs,
            &other.num_outputs,
        )?;
        for (moments, other) in self.moments.iter_mut().zip(&other.moments) {
            moments.merge(other);
        }
        Ok(())
    }
}
