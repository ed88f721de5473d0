//! The calibration error: the gap between confidence and accuracy over confidence bins.

use ndarray::ArrayViewD;
use serde::{Deserialize, Serialize};

use super::config::{check_restored, MultidimAverage, Task, TaskConfig};
use super::format::{
    binary_targets, check_no_nan, check_same_shape, kept_score_outside, multiclass_targets,
    shape_text, to_probabilities, Preds,
};
use super::ClassificationBatch;
use crate::error::{Error, Result};
use crate::metric::{check_same_config, Input, Metric, MetricInfo};
use crate::numerics::CompensatedSum;
use crate::value::Value;

/// Largest `n_bins`: 2^24, so that the per-bin counts and sums fit in memory.
const MAX_BINS: usize = 1 << 24;

/// The norm over bins of the calibration error, as TorchMetrics' `norm`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CalibrationNorm {
    /// The expected calibration error: the gaps weighted by the share of samples in each bin.
    L1,
    /// The root of the share-weighted squared gaps.
    L2,
    /// The maximum calibration error: the largest gap of any bin.
    Max,
}

/// The calibration error, as TorchMetrics' `CalibrationError`: predictions are grouped into
/// `n_bins` equal-width confidence bins, and the gap `|accuracy - mean confidence|` of each bin
/// is reduced by `norm`.
///
/// Binary confidences are the probabilities of the positive class and accuracies the targets.
/// Multiclass confidences are the highest probability (after the softmax when a score lies
/// outside [0, 1]) and accuracies whether its class is the target. A confidence of exactly 1
/// falls in a bin of its own, as `torch.bucketize(..., right=True)` puts it.
///
/// The state keeps, per bin, the count and compensated sums of confidences and accuracies, so
/// its size does not grow with the data.
///
/// # Example
///
/// ```
/// use ferrometrics::classification::{CalibrationError, CalibrationNorm, Preds, TaskConfig};
/// use ferrometrics::Metric;
/// use ndarray::array;
///
/// let mut metric = CalibrationError::new(TaskConfig::binary(), 2, CalibrationNorm::L1)?;
/// let (preds, target) = (array![0.2, 0.3, 0.8, 0.9].into_dyn(), array![0_i64, 1, 1, 1].into_dyn());
/// metric.update((Preds::F64(preds.view()), target.view()))?;
/// // Bin [0, 0.5): confidence 0.25, accuracy 0.5. Bin [0.5, 1): confidence 0.85, accuracy 1.
/// let expected = 0.5 * 0.25 + 0.5 * 0.15;
/// assert!((metric.compute()?.as_scalar().unwrap() - expected).abs() < 1e-12);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalibrationError {
    config: TaskConfig,
    n_bins: usize,
    norm: CalibrationNorm,
    counts: Vec<u64>,
    confidence_sums: Vec<CompensatedSum>,
    accuracy_sums: Vec<CompensatedSum>,
}

impl CalibrationError {
    /// Creates the metric for the binary or multiclass task.
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidArgument`] if `config` is invalid, multilabel, sets `top_k` or
    /// samplewise counting, or `n_bins` is 0.
    pub fn new(config: TaskConfig, n_bins: usize, norm: CalibrationNorm) -> Result<Self> {
        config.validate()?;
        if config.task() == Task::Multilabel {
            return Err(Error::invalid_argument(
                "task",
                "the calibration error is defined for the binary and multiclass tasks; pass one \
                 of them",
            ));
        }
        if config.top_k() != 1 {
            return Err(Error::invalid_argument(
                "top_k",
                format!(
                    "{} does not apply to the calibration error; pass 1",
                    config.top_k()
                ),
            ));
        }
        if config.multidim_average() != MultidimAverage::Global {
            return Err(Error::invalid_argument(
                "multidim_average",
                "\"samplewise\" does not apply to the calibration error; pass \"global\"",
            ));
        }
        if n_bins == 0 {
            return Err(Error::invalid_argument(
                "n_bins",
                "0 bins cannot hold predictions; pass 1 or more",
            ));
        }
        if n_bins > MAX_BINS {
            return Err(Error::invalid_argument(
                "n_bins",
                format!(
                    "{n_bins} bins are more than the {MAX_BINS} supported, because the state \
                     keeps sums per bin; pass fewer bins"
                ),
            ));
        }
        // One extra bin contains confidences of exactly 1.
        let bins = n_bins + 1;
        Ok(Self {
            config,
            n_bins,
            norm,
            counts: vec![0; bins],
            confidence_sums: vec![CompensatedSum::new(); bins],
            accuracy_sums: vec![CompensatedSum::new(); bins],
        })
    }

    fn name(&self) -> &'static str {
        match self.config.task() {
            Task::Binary => "BinaryCalibrationError",
            _ => "MulticlassCalibrationError",
        }
    }

    /// Returns (confidence, accuracy) pairs of the non-ignored positions.
    fn confidences(
        &self,
        preds: &Preds<'_>,
        target: &ArrayViewD<'_, i64>,
    ) -> Result<Vec<(f64, f64)>> {
        let Some(mut scores) = preds.scores() else {
            return Err(Error::invalid_input(
                "preds",
                "the calibration error needs float scores, but preds holds integer labels; \
                 pass probabilities or logits",
            ));
        };
        check_no_nan(&scores, preds.shape())?;
        if target.ndim() == 0 {
            return Err(Error::invalid_input(
                "target",
                "a 0-dimensional array has no samples; pass an array of shape (N, ...)",
            ));
        }

        if self.config.task() == Task::Binary {
            check_same_shape(preds.shape(), target.shape())?;
            let labels = binary_targets(&self.config, target)?;
            // Ignored positions are dropped before the choice between probabilities and
            // logits, as in TorchMetrics.
            let (mut kept_scores, outcomes): (Vec<f64>, Vec<f64>) = scores
                .iter()
                .zip(&labels)
                .filter_map(|(&p, label)| label.map(|t| (p, f64::from(u8::from(t)))))
                .unzip();
            to_probabilities(&mut kept_scores);
            return Ok(kept_scores.into_iter().zip(outcomes).collect());
        }

        let classes = self.config.num_classes();
        let (preds_shape, target_shape) = (preds.shape(), target.shape());
        if preds_shape.len() != 2
            || target_shape.len() != 1
            || preds_shape[0] != target_shape[0]
            || preds_shape[1] != classes
        {
            return Err(Error::invalid_input(
                "preds",
                format!(
                    "scores of shape {} do not fit targets of shape {}; pass scores of shape \
                     (N, {classes}) for targets of shape (N,)",
                    shape_text(preds_shape),
                    shape_text(target_shape)
                ),
            ));
        }
        let labels = multiclass_targets(&self.config, target)?;
        let softmax = kept_score_outside(&scores, |index| labels[index / classes].is_some());
        let mut pairs = Vec::with_capacity(labels.len());
        for (row, label) in scores.chunks_mut(classes).zip(&labels) {
            if softmax {
                let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let total: f64 = row.iter().map(|x| (x - max).exp()).sum();
                row.iter_mut().for_each(|x| *x = (*x - max).exp() / total);
            }
            let Some(label) = label else { continue };
            let mut best = 0;
            for class in 1..classes {
                if row[class] > row[best] {
                    best = class;
                }
            }
            pairs.push((row[best], f64::from(u8::from(best == *label as usize))));
        }
        Ok(pairs)
    }

    /// Returns the number of boundaries `i / n_bins` at or below the confidence, minus one.
    ///
    /// NOTE: the boundaries are correctly rounded quotients, while TorchMetrics takes them from
    /// `torch.linspace`, whose float32 values can differ in the last bit. A confidence equal to
    /// a boundary may therefore land one bin apart from TorchMetrics.
    /// Returns an error if the bins do not fit `n_bins`, as in a corrupted state.
    fn check_consistent(&self) -> Result<()> {
        let bins = self.n_bins + 1;
        let consistent = self.n_bins > 0
            && self.counts.len() == bins
            && self.confidence_sums.len() == bins
            && self.accuracy_sums.len() == bins;
        check_restored(&self.config, consistent)
    }

    fn bin_of(&self, confidence: f64) -> usize {
        let n = self.n_bins;
        let mut bin = ((confidence * n as f64).floor() as usize).min(n);
        while bin > 0 && (bin as f64 / n as f64) > confidence {
            bin -= 1;
        }
        while bin < n && ((bin + 1) as f64 / n as f64) <= confidence {
            bin += 1;
        }
        bin
    }
}

impl Metric for CalibrationError {
    type Kind = ClassificationBatch;
    type Output = Value;

    fn info(&self) -> MetricInfo {
        MetricInfo {
            name: self.name(),
            higher_is_better: Some(false),
            is_differentiable: false,
            lower_bound: 0.0,
            upper_bound: 1.0,
        }
    }

    fn update(&mut self, input: Input<'_, Self>) -> Result<()> {
        let (preds, target) = input;
        self.check_consistent()?;
        let pairs = self.confidences(&preds, &target)?;

        for (confidence, accuracy) in pairs {
            let bin = self.bin_of(confidence);
            self.counts[bin] += 1;
            self.confidence_sums[bin].add(confidence);
            self.accuracy_sums[bin].add(accuracy);
        }
        Ok(())
    }

    fn compute(&self) -> Result<Value> {
        self.check_consistent()?;
        let total: u64 = self.counts.iter().sum();
        if total == 0 {
            return Err(Error::not_enough_data(
                self.name(),
                "no samples were seen; call update with at least one sample before compute",
            ));
        }
        let mut weighted = 0.0;
        let mut largest: f64 = 0.0;
        for bin in 0..self.counts.len() {
            let count = self.counts[bin];
            if count == 0 {
                continue;
            }
            let gap = (self.accuracy_sums[bin].value() - self.confidence_sums[bin].value()).abs()
                / count as f64;
            let share = count as f64 / total as f64;
            largest = largest.max(gap);
            weighted += match self.norm {
                CalibrationNorm::L2 => gap * gap * share,
                _ => gap * share,
            };
        }
        Ok(Value::Scalar(match self.norm {
            CalibrationNorm::L1 => weighted,
            CalibrationNorm::L2 => weighted.sqrt(),
            CalibrationNorm::Max => largest,
        }))
    }

    fn reset(&mut self) {
        self.counts.fill(0);
        self.confidence_sums.fill(CompensatedSum::new());
        self.accuracy_sums.fill(CompensatedSum::new());
    }

    fn merge(&mut self, other: &Self) -> Result<()> {
        check_same_config(self.name(), "config", &self.config, &other.config)?;
        check_same_config(self.name(), "n_bins", &self.n_bins, &other.n_bins)?;
        check_same_config(self.name(), "norm", &self.norm, &other.norm)?;
        self.check_consistent()?;
        other.check_consistent()?;
        for bin in 0..self.counts.len() {
            self.counts[bin] += other.counts[bin];
            self.confidence_sums[bin].merge(&other.confidence_sums[bin]);
            self.accuracy_sums[bin].merge(&other.accuracy_sums[bin]);
        }
        Ok(())
    }
}
