//! The critical success index (threat score) of thresholded forecasts.

use std::marker::PhantomData;

use ndarray::{Array1, ArrayView, ArrayViewD, Axis, Dimension};
use serde::{Deserialize, Serialize};

use super::batch::{check_finite, check_same_shape};
use super::{PredsTarget, Real};
use crate::error::{Error, Result};
use crate::metric::{check_same_config, Input, Metric, MetricInfo};
use crate::Value;

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
        self.hits = self.hits.saturating_add(other.hits);
        self.misses = self.misses.saturating_add(other.misses);
        self.false_alarms = self.false_alarms.saturating_add(other.false_alarms);
    }

    /// Returns `hits / (hits + misses + false_alarms)`, 0 when no event was forecast or observed.
    fn index(&self) -> f64 {
        let events = self
            .hits
            .saturating_add(self.misses)
            .saturating_add(self.false_alarms);
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

fn count_into(
    counts: &mut EventCounts,
    preds: ArrayViewD<'_, f64>,
    target: ArrayViewD<'_, f64>,
    threshold: f64,
) {
    for (p, t) in preds.iter().zip(&target) {
        match (*p >= threshold, *t >= threshold) {
            (true, true) => counts.hits += 1,
            (false, true) => counts.misses += 1,
            (true, false) => counts.false_alarms += 1,
            (false, false) => {}
        }
    }
}

/// Validates a batch and counts its events, over all elements or, with `keep_sequence_dim`, per
/// index along that axis.
fn count_events<F: Real>(
    preds: &ArrayViewD<'_, F>,
    target: &ArrayViewD<'_, F>,
    threshold: f64,
    keep_sequence_dim: Option<usize>,
) -> Result<Vec<EventCounts>> {
    check_same_shape(preds, target)?;
    check_finite("preds", preds)?;
    check_finite("target", target)?;
    let preds = preds.mapv(|x| x.to_f64());
    let target = target.mapv(|x| x.to_f64());

    let Some(axis) = keep_sequence_dim else {
        let mut counts = EventCounts::default();
        count_into(&mut counts, preds.view(), target.view(), threshold);
        return Ok(vec![counts]);
    };
    if axis >= preds.ndim() {
        return Err(Error::invalid_argument(
            "keep_sequence_dim",
            format!(
                "axis {axis} does not exist in inputs of shape {:?}; pass an axis below {}",
                preds.shape(),
                preds.ndim()
            ),
        ));
    }

    let counts = (0..preds.len_of(Axis(axis)))
        .map(|index| {
            let mut counts = EventCounts::default();
            let (p, t) = (
                preds.index_axis(Axis(axis), index),
                target.index_axis(Axis(axis), index),
            );
            count_into(&mut counts, p, t, threshold);
            counts
        })
        .collect();
    Ok(counts)
}

/// Returns the index of each count, a scalar without a sequence axis and an array with one.
fn indices_of(counts: &[EventCounts], keep_sequence_dim: Option<usize>) -> Value {
    let indices: Vec<f64> = counts.iter().map(EventCounts::index).collect();
    match keep_sequence_dim {
        None => Value::Scalar(indices.first().copied().unwrap_or(f64::NAN)),
        Some(_) => Value::Array(Array1::from(indices).into_dyn()),
    }
}

/// Computes the critical success index `hits / (hits + misses + false_alarms)` over all
/// elements, where an event is a value `>= threshold`, as TorchMetrics'
/// `critical_success_index`.
///
/// It is the Jaccard index of the event class, scikit-learn's `jaccard_score` on the thresholded
/// inputs, and is 0 when neither input has an event. With `keep_sequence_dim = Some(axis)`, the
/// index is computed separately for each position along `axis` and the value is an array of
/// them. Without it the value is a scalar.
///
/// # Example
///
/// ```
/// use ferrometrics::regression::critical_success_index;
/// use ndarray::array;
///
/// let preds = array![0.2, 0.7, 0.9, 0.4];
/// let target = array![0.6, 0.8, 0.1, 0.3];
/// let csi = critical_success_index(preds.view(), target.view(), 0.5, None)?;
/// assert!((csi.as_scalar().unwrap() - 1.0 / 3.0).abs() < 1e-15);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
///
/// # Errors
///
/// Returns [`Error::InvalidArgument`] naming `threshold` if it is NaN or `keep_sequence_dim` if
/// the inputs have no such axis, and an error naming the argument if the shapes differ or a value
/// is NaN or infinite.
pub fn critical_success_index<F: Real, D: Dimension>(
    preds: ArrayView<'_, F, D>,
    target: ArrayView<'_, F, D>,
    threshold: f64,
    keep_sequence_dim: Option<usize>,
) -> Result<Value> {
    check_threshold(threshold)?;
    let counts = count_events(
        &preds.into_dyn(),
        &target.into_dyn(),
        threshold,
        keep_sequence_dim,
    )?;
    Ok(indices_of(&counts, keep_sequence_dim))
}

/// Critical success index over every batch seen, as TorchMetrics' `CriticalSuccessIndex`. See
/// [`critical_success_index`]. The state is three integer counts, or three per position of the
/// sequence axis, so merging is exact. With `keep_sequence_dim`, the first batch fixes the length
/// of the sequence axis and later batches must match it.
///
/// # Example
///
/// ```
/// use ferrometrics::regression::CriticalSuccessIndex;
/// use ferrometrics::Metric;
/// use ndarray::array;
///
/// let mut metric = CriticalSuccessIndex::<f64>::new(1.0, None)?;
/// metric.update((array![1.0, 2.0].into_dyn().view(), array![1.5, 0.0].into_dyn().view()))?;
/// assert_eq!(metric.compute()?.as_scalar(), Some(0.5));
///
/// // TorchMetrics' documented sequence example: two identical images along axis 0.
/// let mut per_image = CriticalSuccessIndex::<f64>::new(0.5, Some(0))?;
/// let preds = array![[[0.2, 0.7], [0.9, 0.3]], [[0.2, 0.7], [0.9, 0.3]]].into_dyn();
/// let target = array![[[0.4, 0.2], [0.8, 0.6]], [[0.4, 0.2], [0.8, 0.6]]].into_dyn();
/// per_image.update((preds.view(), target.view()))?;
/// let ferrometrics::Value::Array(csi) = per_image.compute()? else { unreachable!() };
/// assert_eq!(csi.len(), 2);
/// assert!((csi[1] - 1.0 / 3.0).abs() < 1e-15);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct CriticalSuccessIndex<F: Real = f64> {
    threshold: f64,
    keep_sequence_dim: Option<usize>,
    /// One entry without a sequence axis, one per position with one (empty before the first
    /// batch).
    counts: Vec<EventCounts>,
    #[serde(skip)]
    element: PhantomData<F>,
}

impl<F: Real> CriticalSuccessIndex<F> {
    /// Creates an empty metric where an event is a value `>= threshold`, with one index per
    /// position along `keep_sequence_dim` if it is given.
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::regression::CriticalSuccessIndex;
    ///
    /// assert!(CriticalSuccessIndex::<f32>::new(f64::NAN, None).is_err());
    /// ```
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidArgument`] naming `threshold` if it is NaN.
    pub fn new(threshold: f64, keep_sequence_dim: Option<usize>) -> Result<Self> {
        check_threshold(threshold)?;
        Ok(Self {
            threshold,
            keep_sequence_dim,
            counts: Self::empty_counts(keep_sequence_dim),
            element: PhantomData,
        })
    }

    fn empty_counts(keep_sequence_dim: Option<usize>) -> Vec<EventCounts> {
        match keep_sequence_dim {
            None => vec![EventCounts::default()],
            Some(_) => Vec::new(),
        }
    }

    /// Adds `other` position by position, taking it whole if this state has no positions yet.
    fn add_counts(&mut self, other: &[EventCounts]) -> Result<()> {
        if self.counts.is_empty() {
            self.counts = other.to_vec();
            return Ok(());
        }
        if !other.is_empty() && other.len() != self.counts.len() {
            return Err(Error::invalid_input(
                "preds",
                format!(
                    "the sequence axis has length {}, but earlier batches had length {}; pass \
                     batches with sequences of one length",
                    other.len(),
                    self.counts.len()
                ),
            ));
        }
        for (counts, other) in self.counts.iter_mut().zip(other) {
            counts.merge(other);
        }
        Ok(())
    }
}

impl<F: Real> Metric for CriticalSuccessIndex<F> {
    type Kind = PredsTarget<F>;
    type Output = Value;

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
    /// Returns an error naming the argument, and changes nothing, if the shapes differ, a value
    /// is NaN or infinite, the inputs have no axis `keep_sequence_dim`, or the sequence length
    /// differs from earlier batches.
    fn update(&mut self, (preds, target): Input<'_, Self>) -> Result<()> {
        let batch = count_events(&preds, &target, self.threshold, self.keep_sequence_dim)?;
        self.add_counts(&batch)
    }

    fn compute(&self) -> Result<Value> {
        if self.counts.is_empty() {
            return Err(Error::not_enough_data(
                "CriticalSuccessIndex",
                "no batch was seen, so the length of the sequence axis is unknown",
            ));
        }
        Ok(indices_of(&self.counts, self.keep_sequence_dim))
    }

    fn reset(&mut self) {
        self.counts = Self::empty_counts(self.keep_sequence_dim);
    }

    fn merge(&mut self, other: &Self) -> Result<()> {
        check_same_config(
            "CriticalSuccessIndex",
            "threshold",
            &self.threshold,
            &other.threshold,
        )?;
        check_same_config(
            "CriticalSuccessIndex",
            "keep_sequence_dim",
            &self.keep_sequence_dim,
            &other.keep_sequence_dim,
        )?;
        self.add_counts(&other.counts).map_err(|_| {
            Error::incompatible_state(format!(
                "cannot merge CriticalSuccessIndex states with sequences of length {} and {}",
                self.counts.len(),
                other.counts.len()
            ))
        })
    }
}
