//! The critical success index (threat score) of thresholded forecasts.

use std::marker::PhantomData;

use ndarray::{ArrayView, Dimension};
use serde::{Deserialize, Serialize};

use super::batch::{check_finite, check_same_shape};
use super::{PredsTarget, Real};
use crate::error::{Error, Result};
use crate::metric::{check_same_config, Input, Metric, MetricInfo};

/// Counts of thresholded events: both forecast and observed (hits), observed only (misses) and
/// forecast only (false alarms).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
struct EventCounts {
    hits: u64,
    misses: u64,
    false_alarms: u64,
}

impl EventCounts {
    fn merge(&mut self, other: &EventCounts) {
        self.hits += other.hits;
        self.misses += other.misses;
        self.false_alarms += other.false_alarms;
    }

    /// Returns `hits / (hits + misses + false_alarms)`, 0 when no event was forecast or observed.
    fn index(&self) -> f64 {
        let events = self.hits + self.misses + self.false_alarms;
        if events == 0 {
            return 0.0;
        }
        self.hits as f64 / events as f64
    }
}

fn check_threshold(threshold: f64) -> Result<()> {
    if threshold.is_nan() {
        return Err(Error::invalid_argument(
            "threshold",
            "threshold is NaN; pass the value at or above which an event occurs",
        ));
    }
    Ok(())
}

fn count_events<F: Real>(
    preds: &ndarray::ArrayViewD<'_, F>,
    target: &ndarray::ArrayViewD<'_, F>,
    threshold: f64,
) -> Result<EventCounts> {
    check_same_shape(preds, target)?;
    check_finite("preds", preds)?;
    check_finite("target", target)?;

    let mut counts = EventCounts::default();
    for (p, t) in preds.iter().zip(target) {
        match (p.to_f64() >= threshold, t.to_f64() >= threshold) {
            (true, true) => counts.hits += 1,
            (false, true) => counts.misses += 1,
            (true, false) => counts.false_alarms += 1,
            (false, false) => {}
        }
    }
    Ok(counts)
}

/// Computes the critical success index `hits / (hits + misses + false_alarms)` over all
/// elements, where an event is a value `>= threshold`, as TorchMetrics'
/// `critical_success_index`.
///
/// It is the Jaccard index of the event class, scikit-learn's `jaccard_score` on the thresholded
/// inputs, and is 0 when neither input has an event.
///
/// # Example
///
/// ```
/// use ferrometrics::regression::critical_success_index;
/// use ndarray::array;
///
/// let preds = array![0.2, 0.7, 0.9, 0.4];
/// let target = array![0.6, 0.8, 0.1, 0.3];
/// let csi = critical_success_index(preds.view(), target.view(), 0.5)?;
/// assert!((csi - 1.0 / 3.0).abs() < 1e-15);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
///
/// # Errors
///
/// Returns [`Error::InvalidArgument`] naming `threshold` if it is NaN, and an error naming the
/// argument if the shapes differ or a value is NaN or infinite.
pub fn critical_success_index<F: Real, D: Dimension>(
    preds: ArrayView<'_, F, D>,
    target: ArrayView<'_, F, D>,
    threshold: f64,
) -> Result<f64> {
    check_threshold(threshold)?;
    Ok(count_events(&preds.into_dyn(), &target.into_dyn(), threshold)?.index())
}

/// Critical success index over every batch seen, as TorchMetrics' `CriticalSuccessIndex`. See
/// [`critical_success_index`]. Inputs of any shape are flattened, and the state is three
/// integer counts, so merging is exact.
///
/// NOTE: TorchMetrics' `keep_sequence_dim` option, one index per position of a sequence axis,
/// is not implemented.
///
/// # Example
///
/// ```
/// use ferrometrics::regression::CriticalSuccessIndex;
/// use ferrometrics::Metric;
/// use ndarray::array;
///
/// let mut metric = CriticalSuccessIndex::<f64>::new(1.0)?;
/// metric.update((array![1.0, 2.0].into_dyn().view(), array![1.5, 0.0].into_dyn().view()))?;
/// assert_eq!(metric.compute()?, 0.5);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct CriticalSuccessIndex<F: Real = f64> {
    threshold: f64,
    counts: EventCounts,
    #[serde(skip)]
    element: PhantomData<F>,
}

impl<F: Real> CriticalSuccessIndex<F> {
    /// Creates an empty metric where an event is a value `>= threshold`.
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::regression::CriticalSuccessIndex;
    ///
    /// assert!(CriticalSuccessIndex::<f32>::new(f64::NAN).is_err());
    /// ```
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidArgument`] naming `threshold` if it is NaN.
    pub fn new(threshold: f64) -> Result<Self> {
        check_threshold(threshold)?;
        Ok(Self {
            threshold,
            counts: EventCounts::default(),
            element: PhantomData,
        })
    }
}

impl<F: Real> Metric for CriticalSuccessIndex<F> {
    type Kind = PredsTarget<F>;
    type Output = f64;

    fn info(&self) -> MetricInfo {
        MetricInfo {
            name: "CriticalSuccessIndex",
            higher_is_better: Some(true),
            is_differentiable: false,
            lower_bound: 0.0,
            upper_bound: 1.0,
        }
    }

    /// Adds the batch's hits, misses and false alarms to the counts.
    ///
    /// # Errors
    ///
    /// Returns an error naming the argument, and changes nothing, if the shapes differ or a
    /// value is NaN or infinite.
    fn update(&mut self, (preds, target): Input<'_, Self>) -> Result<()> {
        let batch = count_events(&preds, &target, self.threshold)?;
        self.counts.merge(&batch);
        Ok(())
    }

    fn compute(&self) -> Result<f64> {
        Ok(self.counts.index())
    }

    fn reset(&mut self) {
        self.counts = EventCounts::default();
    }

    fn merge(&mut self, other: &Self) -> Result<()> {
        check_same_config(
            "CriticalSuccessIndex",
            "threshold",
            &self.threshold,
            &other.threshold,
        )?;
        self.counts.merge(&other.counts);
        Ok(())
    }
}
