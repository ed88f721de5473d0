//! The mean Tweedie deviance, which covers the squared error (power 0), the Poisson deviance
//! (power 1) and the Gamma deviance (power 2).

use std::marker::PhantomData;

use ndarray::{ArrayView, Dimension};
use serde::{Deserialize, Serialize};

use super::batch::{to_flat, Layout};
use super::mean_error::single;
use super::sums::ErrorSums;
use super::{PredsTarget, Real};
use crate::error::{Error, Result};
use crate::metric::{check_same_config, Input, Metric, MetricInfo};

fn check_power(power: f64) -> Result<()> {
    if !power.is_finite() || (power > 0.0 && power < 1.0) {
        return Err(Error::invalid_argument(
            "power",
            format!(
                "power is {power}, but no Tweedie distribution exists for 0 < power < 1; pass a \
                 finite power <= 0 or >= 1"
            ),
        ));
    }
    Ok(())
}

/// Checks the value domain of the Tweedie deviance of `power`: `preds > 0` unless the power is
/// 0, `target >= 0` for powers in `[1, 2)` and `target > 0` for powers `>= 2`.
fn check_domain<F: Real>(power: f64, preds: &[F], target: &[F]) -> Result<()> {
    let check = |argument: &str, values: &[F], valid: fn(f64) -> bool, rule: &str| match values
        .iter()
        .enumerate()
        .find(|(_, x)| !valid(x.to_f64()))
    {
        Some((index, value)) => Err(Error::invalid_input(
            argument,
            format!(
                "value {value:?} at index {index} is outside the domain of the Tweedie \
                     deviance with power {power}, which needs {argument} {rule}"
            ),
        )),
        None => Ok(()),
    };

    if power != 0.0 {
        check("preds", preds, |x| x > 0.0, "> 0")?;
    }
    if (1.0..2.0).contains(&power) {
        check("target", target, |x| x >= 0.0, ">= 0")?;
    } else if power >= 2.0 {
        check("target", target, |x| x > 0.0, "> 0")?;
    }
    Ok(())
}

/// Returns the unit deviance `d(y, mu)` of the Tweedie distribution with `power`.
fn unit_deviance(power: f64, mu: f64, y: f64) -> f64 {
    if power == 0.0 {
        (y - mu) * (y - mu)
    } else if power == 1.0 {
        // y ln(y / mu) is taken as 0 at y = 0, its limit.
        let y_log = if y == 0.0 { 0.0 } else { y * (y / mu).ln() };
        2.0 * (y_log - y + mu)
    } else if power == 2.0 {
        2.0 * ((mu / y).ln() + y / mu - 1.0)
    } else {
        let one_minus = 1.0 - power;
        let two_minus = 2.0 - power;
        let mu_one_minus = mu.powf(one_minus);
        // One power fewer per sample: mu^(2-p) = mu * mu^(1-p), within a rounding of the direct
        // power, unless mu^(1-p) overflows where mu^(2-p) need not.
        let mu_two_minus = if mu_one_minus.is_finite() {
            mu * mu_one_minus
        } else {
            mu.powf(two_minus)
        };
        2.0 * (y.max(0.0).powf(two_minus) / (one_minus * two_minus) - y * mu_one_minus / one_minus
            + mu_two_minus / two_minus)
    }
}

/// Computes the mean Tweedie deviance `sum(d(target, preds)) / N` over all elements, as
/// scikit-learn's `mean_tweedie_deviance`.
///
/// For power `p` the unit deviance is `(y - mu)^2` at `p = 0`,
/// `2 (y ln(y / mu) - y + mu)` at `p = 1`, `2 (ln(mu / y) + y / mu - 1)` at `p = 2`, and
/// otherwise `2 (max(y, 0)^(2-p) / ((1-p)(2-p)) - y mu^(1-p) / (1-p) + mu^(2-p) / (2-p))`,
/// with `mu = preds` and `y = target`.
///
/// # Example
///
/// ```
/// use ferrometrics::regression::tweedie_deviance_score;
/// use ndarray::array;
///
/// let preds = array![2.0, 0.5, 1.0, 4.0];
/// let target = array![0.5, 1.0, 2.0, 4.0];
/// let deviance = tweedie_deviance_score(preds.view(), target.view(), 2.0)?;
/// assert!((deviance - 0.625).abs() < 1e-15);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
///
/// # Errors
///
/// Returns [`Error::InvalidArgument`] naming `power` for `0 < power < 1` or a non-finite power,
/// [`Error::InvalidInput`] naming `preds` or `target` for a value outside the deviance's
/// domain, and the errors of [`mean_squared_error`](super::mean_squared_error).
pub fn tweedie_deviance_score<F: Real, D: Dimension>(
    preds: ArrayView<'_, F, D>,
    target: ArrayView<'_, F, D>,
    power: f64,
) -> Result<f64> {
    let mut metric = TweedieDevianceScore::<F>::new(power)?;
    metric.update((preds.into_dyn(), target.into_dyn()))?;
    metric.compute()
}

/// Mean Tweedie deviance over every batch seen, as TorchMetrics' `TweedieDevianceScore`. See
/// [`tweedie_deviance_score`]. Inputs of any shape are flattened.
///
/// # Example
///
/// ```
/// use ferrometrics::regression::TweedieDevianceScore;
/// use ferrometrics::Metric;
/// use ndarray::array;
///
/// let mut metric = TweedieDevianceScore::<f64>::new(0.0)?;
/// metric.update((array![1.0, 2.0].into_dyn().view(), array![2.0, 4.0].into_dyn().view()))?;
/// assert_eq!(metric.compute()?, 2.5);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct TweedieDevianceScore<F: Real = f64> {
    power: f64,
    sums: ErrorSums,
    #[serde(skip)]
    element: PhantomData<F>,
}

impl<F: Real> TweedieDevianceScore<F> {
    /// Creates an empty metric for the Tweedie distribution with `power`.
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::regression::TweedieDevianceScore;
    ///
    /// assert!(TweedieDevianceScore::<f64>::new(1.5).is_ok());
    /// assert!(TweedieDevianceScore::<f64>::new(0.5).is_err());
    /// ```
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidArgument`] naming `power` for `0 < power < 1` or a non-finite
    /// power.
    pub fn new(power: f64) -> Result<Self> {
        check_power(power)?;
        Ok(Self {
            power,
            sums: ErrorSums::new(1),
            element: PhantomData,
        })
    }
}

impl<F: Real> Default for TweedieDevianceScore<F> {
    fn default() -> Self {
        Self::new(0.0).expect("power 0 is valid")
    }
}

impl<F: Real> Metric for TweedieDevianceScore<F> {
    type Kind = PredsTarget<F>;
    type Output = f64;

    fn info(&self) -> MetricInfo {
        MetricInfo {
            name: "TweedieDevianceScore",
            higher_is_better: Some(false),
            is_differentiable: true,
            lower_bound: 0.0,
            upper_bound: f64::INFINITY,
        }
    }

    /// Adds the batch's unit deviances to the sum.
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidInput`] naming `preds` or `target` for a value outside the
    /// deviance's domain, and the errors of [`MeanSquaredError`](super::MeanSquaredError)'s
    /// `update`. A rejected batch changes nothing.
    fn update(&mut self, (preds, target): Input<'_, Self>) -> Result<()> {
        let (preds, target) = to_flat(&preds, &target, Layout::Flatten)?;
        check_domain(self.power, &preds, &target)?;

        let power = self.power;
        let batch = ErrorSums::of_flat(&preds, &target, |mu, y| unit_deviance(power, mu, y));
        self.sums.merge("TweedieDevianceScore", &batch)
    }

    fn compute(&self) -> Result<f64> {
        Ok(single(self.sums.means("TweedieDevianceScore")?))
    }

    fn reset(&mut self) {
        self.sums = ErrorSums::new(1);
    }

    fn merge(&mut self, other: &Self) -> Result<()> {
        check_same_config("TweedieDevianceScore", "power", &self.power, &other.power)?;
        self.sums.merge("TweedieDevianceScore", &other.sums)
    }
}
