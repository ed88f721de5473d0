//! True and false positives and negatives per class, the state of the stat-score family.

use ndarray::{Array1, Array2, Array3};
use serde::{Deserialize, Serialize};

use super::config::{check_restored, Average, MultidimAverage, Task, TaskConfig};
use super::format::{format_batch, Formatted, Preds};
use super::stat_kernels;
use crate::error::{Error, Result};
use crate::metric::check_same_config;
use crate::value::Value;
use ndarray::ArrayViewD;

/// Counts of true positives, false positives, true negatives and false negatives per class, one
/// row for `Global` counting or one row per sample for `Samplewise`.
///
/// Every metric of the stat-score family (accuracy, precision, recall, F-scores, specificity,
/// negative predictive value, Hamming distance, Jaccard index) reads this state, so metrics with
/// equal [`TaskConfig`]s share it in a [`MetricCollection`](crate::MetricCollection). The
/// global state has a fixed size. The samplewise state grows by one row per sample.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatCounts {
    config: TaskConfig,
    rows: usize,
    tp: Vec<u64>,
    fp: Vec<u64>,
    tn: Vec<u64>,
    fn_: Vec<u64>,
    /// Positions seen, ignored ones included, which separates an empty state from a state whose
    /// positions were all ignored.
    positions: u64,
}

/// The four counts of one class, as `f64`.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ClassCounts {
    pub tp: f64,
    pub fp: f64,
    pub tn: f64,
    pub fn_: f64,
}

impl StatCounts {
    /// Creates an empty state for a validated configuration.
    pub(crate) fn new(config: TaskConfig) -> Self {
        let rows = match config.multidim_average() {
            MultidimAverage::Global => 1,
            MultidimAverage::Samplewise => 0,
        };
        let cells = rows * config.num_classes();
        Self {
            config,
            rows,
            tp: vec![0; cells],
            fp: vec![0; cells],
            tn: vec![0; cells],
            fn_: vec![0; cells],
            positions: 0,
        }
    }

    /// Returns the configuration the counts were built with.
    pub fn config(&self) -> &TaskConfig {
        &self.config
    }

    /// Returns `true` if no position has been counted yet.
    pub fn is_empty(&self) -> bool {
        self.positions == 0
    }

    pub(crate) fn rows(&self) -> usize {
        self.rows
    }

    pub(crate) fn classes(&self) -> usize {
        self.config.num_classes()
    }

    pub(crate) fn class(&self, row: usize, class: usize) -> ClassCounts {
        let cell = row * self.classes() + class;
        ClassCounts {
            tp: self.tp[cell] as f64,
            fp: self.fp[cell] as f64,
            tn: self.tn[cell] as f64,
            fn_: self.fn_[cell] as f64,
        }
    }

    /// Returns an error if the arrays do not fit the configuration, as in a corrupted state.
    fn check_consistent(&self) -> Result<()> {
        let cells = self.rows * self.config.num_classes();
        let global_rows =
            self.config.multidim_average() == MultidimAverage::Samplewise || self.rows == 1;
        let consistent = global_rows
            && [&self.tp, &self.fp, &self.tn, &self.fn_]
                .iter()
                .all(|column| column.len() == cells);
        check_restored(&self.config, consistent)
    }

    /// Validates a batch and adds its counts; a rejected batch changes nothing.
    pub(crate) fn update(&mut self, preds: Preds<'_>, target: ArrayViewD<'_, i64>) -> Result<()> {
        self.check_consistent()?;
        if let Some(batch) = self.count_fast(&preds, &target) {
            self.merge_counts(&batch);
            return Ok(());
        }
        let formatted = format_batch(&self.config, &preds, &target)?;
        let batch = Self::from_batch(self.config, &formatted);
        self.merge_counts(&batch);
        Ok(())
    }

    /// Counts a batch with a single-pass kernel when the input suits one: global counts over
    /// contiguous binary input, or contiguous multiclass labels with `top_k = 1`. Returns
    /// `None` otherwise, and for invalid input, which the general path then reports.
    fn count_fast(&self, preds: &Preds<'_>, target: &ArrayViewD<'_, i64>) -> Option<Self> {
        let config = &self.config;
        if config.multidim_average() != MultidimAverage::Global
            || target.ndim() == 0
            || preds.shape() != target.shape()
        {
            return None;
        }
        let target_values = target.as_slice()?;
        let mut counts = Self::new(self.config);
        counts.positions = target_values.len() as u64;
        match config.task() {
            Task::Binary => {
                let [tp, fp, tn, fn_] = stat_kernels::count_binary(
                    preds,
                    target_values,
                    config.threshold(),
                    config.ignore_index(),
                )?;
                (counts.tp[0], counts.fp[0], counts.tn[0], counts.fn_[0]) = (tp, fp, tn, fn_);
            }
            Task::Multiclass if config.top_k() == 1 => {
                let Preds::Labels(labels) = preds else {
                    return None;
                };
                let classes = config.num_classes();
                let totals = stat_kernels::count_multiclass(
                    labels.as_slice()?,
                    target_values,
                    classes,
                    config.ignore_index(),
                )?;
                for class in 0..classes {
                    let tp = totals.tp[class];
                    counts.tp[class] = tp;
                    counts.fp[class] = totals.predicted[class] - tp;
                    counts.fn_[class] = totals.actual[class] - tp;
                    counts.tn[class] = totals.kept - tp - counts.fp[class] - counts.fn_[class];
                }
            }
            _ => return None,
        }
        Some(counts)
    }

    /// Counts one formatted batch.
    fn from_batch(config: TaskConfig, formatted: &Formatted) -> Self {
        let classes = config.num_classes();
        let samplewise = config.multidim_average() == MultidimAverage::Samplewise;
        let mut counts = Self::new(config);
        let (n_samples, positions) = match formatted {
            Formatted::Binary(batch) => (batch.n_samples, batch.target.len()),
            Formatted::Multiclass(batch) => (batch.n_samples, batch.target.len()),
        };
        if samplewise {
            counts.rows = n_samples;
            for column in [
                &mut counts.tp,
                &mut counts.fp,
                &mut counts.tn,
                &mut counts.fn_,
            ] {
                *column = vec![0; n_samples * classes];
            }
        }
        counts.positions = positions as u64;
        let row_of = |sample: usize| if samplewise { sample } else { 0 };

        match formatted {
            Formatted::Binary(batch) => {
                let per_sample = batch.n_labels * batch.n_positions;
                for (index, (&pred, &target)) in batch.preds.iter().zip(&batch.target).enumerate() {
                    let Some(target) = target else { continue };
                    let sample = index / per_sample.max(1);
                    let label = (index % per_sample.max(1)) / batch.n_positions.max(1);
                    let cell = row_of(sample) * classes + label;
                    match (pred, target) {
                        (true, true) => counts.tp[cell] += 1,
                        (true, false) => counts.fp[cell] += 1,
                        (false, false) => counts.tn[cell] += 1,
                        (false, true) => counts.fn_[cell] += 1,
                    }
                }
            }
            Formatted::Multiclass(batch) => {
                // Each counted position adds one to tp, fp, tn or fn of every class, so tn is
                // what remains after the other three.
                let mut counted = vec![0_u64; counts.rows];
                for (index, &target) in batch.target.iter().enumerate() {
                    let Some(target) = target else { continue };
                    let row = row_of(index / batch.n_positions.max(1));
                    let base = row * classes;
                    let predicted = &batch.preds[index * batch.top_k..(index + 1) * batch.top_k];
                    counted[row] += 1;
                    if predicted.contains(&target) {
                        counts.tp[base + target as usize] += 1;
                    } else {
                        counts.fn_[base + target as usize] += 1;
                    }
                    for &class in predicted {
                        if class != target {
                            counts.fp[base + class as usize] += 1;
                        }
                    }
                }
                for (row, &total) in counted.iter().enumerate() {
                    for class in 0..classes {
                        let cell = row * classes + class;
                        counts.tn[cell] =
                            total - counts.tp[cell] - counts.fp[cell] - counts.fn_[cell];
                    }
                }
            }
        }
        counts
    }

    /// Adds another state's counts: cell by cell for global counts, appended rows for
    /// samplewise counts.
    fn merge_counts(&mut self, other: &Self) {
        match self.config.multidim_average() {
            MultidimAverage::Global => {
                for (mine, theirs) in [
                    (&mut self.tp, &other.tp),
                    (&mut self.fp, &other.fp),
                    (&mut self.tn, &other.tn),
                    (&mut self.fn_, &other.fn_),
                ] {
                    for (a, b) in mine.iter_mut().zip(theirs) {
                        *a += b;
                    }
                }
            }
            MultidimAverage::Samplewise => {
                self.tp.extend_from_slice(&other.tp);
                self.fp.extend_from_slice(&other.fp);
                self.tn.extend_from_slice(&other.tn);
                self.fn_.extend_from_slice(&other.fn_);
                self.rows += other.rows;
            }
        }
        self.positions += other.positions;
    }

    /// Folds another state in after checking that the configurations agree.
    pub(crate) fn merge(&mut self, metric: &str, other: &Self) -> Result<()> {
        check_same_config(metric, "config", &self.config, &other.config)?;
        self.check_consistent()?;
        other.check_consistent()?;
        self.merge_counts(other);
        Ok(())
    }

    pub(crate) fn clear(&mut self) {
        *self = Self::new(self.config);
    }

    /// Returns an error for a state that has counted nothing.
    pub(crate) fn check_not_empty(&self, metric: &str) -> Result<()> {
        self.check_consistent()?;
        if self.is_empty() {
            return Err(Error::not_enough_data(
                metric,
                "no samples were seen; call update with at least one sample before compute",
            ));
        }
        Ok(())
    }

    /// Returns the shared state key of a stat-score metric with this configuration.
    pub(crate) fn shared_key(&self) -> String {
        format!("classification.stat_scores {:?}", self.config)
    }

    /// Returns whether class `class` of row `row` enters a macro or weighted average.
    ///
    /// Every multilabel label does. A multiclass class does when it occurs in the target or
    /// the predictions (in the target alone for `top_k > 1`), unless it is the ignored class.
    fn is_averaged(&self, row: usize, class: usize) -> bool {
        if self.config.task() != Task::Multiclass {
            return true;
        }
        if self.config.ignored_class() == Some(class) {
            return false;
        }
        let counts = self.class(row, class);
        if self.config.top_k() > 1 {
            counts.tp + counts.fn_ > 0.0
        } else {
            counts.tp + counts.fp + counts.fn_ > 0.0
        }
    }
}

/// Reduces the counts to a value with `score` and `average`: a scalar for global counts, one
/// value per sample for samplewise counts, with a trailing class axis under `Average::None`.
///
/// A 0/0 score takes `zero_division`. Under `Macro` and `Weighted`, NaN scores are left out of
/// the mean, as scikit-learn does for `zero_division=np.nan`, and an average over no class is
/// `empty_average`.
pub(crate) fn reduce(
    counts: &StatCounts,
    average: Average,
    zero_division: f64,
    empty_average: f64,
    score: &dyn Fn(Task, ClassCounts) -> (f64, f64),
) -> Value {
    let task = counts.config.task();
    let classes = counts.classes();
    let rows = counts.rows();
    let fraction = |c: ClassCounts| {
        let (numerator, denominator) = score(task, c);
        if denominator == 0.0 {
            zero_division
        } else {
            numerator / denominator
        }
    };
    let samplewise = counts.config.multidim_average() == MultidimAverage::Samplewise;

    if average == Average::None && task != Task::Binary {
        let mut table = Array2::zeros((rows, classes));
        for row in 0..rows {
            for class in 0..classes {
                table[[row, class]] = fraction(counts.class(row, class));
            }
        }
        return if samplewise {
            Value::from(table)
        } else {
            Value::from(table.row(0).to_owned())
        };
    }

    let mut values = Array1::zeros(rows);
    for row in 0..rows {
        values[row] = if task == Task::Binary {
            fraction(counts.class(row, 0))
        } else {
            reduce_row(counts, row, average, empty_average, &fraction)
        };
    }
    if samplewise {
        Value::from(values)
    } else {
        Value::Scalar(values[0])
    }
}

fn reduce_row(
    counts: &StatCounts,
    row: usize,
    average: Average,
    empty_average: f64,
    fraction: &dyn Fn(ClassCounts) -> f64,
) -> f64 {
    let ignored = counts.config.ignored_class();
    if average == Average::Micro {
        let mut total = ClassCounts::default();
        for class in (0..counts.classes()).filter(|&c| Some(c) != ignored) {
            let c = counts.class(row, class);
            total.tp += c.tp;
            total.fp += c.fp;
            total.tn += c.tn;
            total.fn_ += c.fn_;
        }
        return fraction(total);
    }

    let mut weighted_sum = 0.0;
    let mut weight_sum = 0.0;
    for class in 0..counts.classes() {
        if !counts.is_averaged(row, class) {
            continue;
        }
        let c = counts.class(row, class);
        let weight = match average {
            Average::Weighted => c.tp + c.fn_,
            _ => 1.0,
        };
        let value = fraction(c);
        if weight == 0.0 || value.is_nan() {
            continue;
        }
        weighted_sum += weight * value;
        weight_sum += weight;
    }
    if weight_sum == 0.0 {
        empty_average
    } else {
        weighted_sum / weight_sum
    }
}

/// The counts as TorchMetrics' `StatScores` returns them: `[tp, fp, tn, fn, support]` with
/// `support = tp + fn`, summed over classes under `Micro` and for the binary task.
pub(crate) fn stat_scores_value(counts: &StatCounts, average: Average) -> Value {
    let classes = counts.classes();
    let rows = counts.rows();
    let per_class = counts.config.task() != Task::Binary && average != Average::Micro;
    let samplewise = counts.config.multidim_average() == MultidimAverage::Samplewise;
    let ignored = counts.config.ignored_class();

    let entry = |c: ClassCounts| [c.tp, c.fp, c.tn, c.fn_, c.tp + c.fn_];
    if per_class {
        let mut table = Array3::zeros((rows, classes, 5));
        for row in 0..rows {
            for class in 0..classes {
                for (k, x) in entry(counts.class(row, class)).into_iter().enumerate() {
                    table[[row, class, k]] = x;
                }
            }
        }
        let table = table.into_dyn();
        return if samplewise {
            Value::Array(table)
        } else {
            Value::Array(table.index_axis(ndarray::Axis(0), 0).to_owned())
        };
    }

    let mut table = Array2::zeros((rows, 5));
    for row in 0..rows {
        let mut total = ClassCounts::default();
        for class in (0..classes).filter(|&c| Some(c) != ignored) {
            let c = counts.class(row, class);
            total.tp += c.tp;
            total.fp += c.fp;
            total.tn += c.tn;
            total.fn_ += c.fn_;
        }
        for (k, x) in entry(total).into_iter().enumerate() {
            table[[row, k]] = x;
        }
    }
    if samplewise {
        Value::from(table)
    } else {
        Value::from(table.row(0).to_owned())
    }
}

#[cfg(test)]
mod kernel_tests {
    use ndarray::{ArrayD, IxDyn};

    use super::*;

    /// Counts a batch with the general path only.
    fn general_counts(config: TaskConfig, preds: &Preds<'_>, target: &ArrayD<i64>) -> StatCounts {
        let formatted = format_batch(&config, preds, &target.view()).unwrap();
        StatCounts::from_batch(config, &formatted)
    }

    fn sequence(n: usize, modulus: u64, seed: u64) -> Vec<u64> {
        let mut state = seed;
        (0..n)
            .map(|_| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (state >> 33) % modulus
            })
            .collect()
    }

    #[test]
    fn binary_kernel_matches_general_path() {
        // Spans several parallel chunks, with -1 as an ignored target.
        let n = 200_003;
        let target: Vec<i64> = sequence(n, 3, 1).iter().map(|&v| v as i64 - 1).collect();
        let target = ArrayD::from_shape_vec(IxDyn(&[n]), target).unwrap();
        let labels: Vec<i64> = sequence(n, 2, 2).iter().map(|&v| v as i64).collect();
        let labels = ArrayD::from_shape_vec(IxDyn(&[n]), labels).unwrap();
        let scores: Vec<f32> = sequence(n, 1001, 3)
            .iter()
            .map(|&v| v as f32 / 1000.0)
            .collect();
        let scores = ArrayD::from_shape_vec(IxDyn(&[n]), scores).unwrap();
        let config = TaskConfig::binary().with_ignore_index(-1);
        for preds in [Preds::Labels(labels.view()), Preds::F32(scores.view())] {
            let mut fast = StatCounts::new(config);
            fast.update(preds.clone(), target.view()).unwrap();
            assert_eq!(fast, general_counts(config, &preds, &target));
        }
    }

    #[test]
    fn multiclass_kernel_matches_general_path() {
        let n = 150_001;
        let target: Vec<i64> = sequence(n, 8, 4).iter().map(|&v| v as i64).collect();
        let target = ArrayD::from_shape_vec(IxDyn(&[n]), target).unwrap();
        let preds: Vec<i64> = sequence(n, 7, 5).iter().map(|&v| v as i64).collect();
        let preds = ArrayD::from_shape_vec(IxDyn(&[n]), preds).unwrap();
        // Class 7 is ignored in the target, and never predicted.
        let config = TaskConfig::multiclass(7).with_ignore_index(7);
        let mut fast = StatCounts::new(config);
        fast.update(Preds::Labels(preds.view()), target.view())
            .unwrap();
        let expected = general_counts(config, &Preds::Labels(preds.view()), &target);
        assert_eq!(fast, expected);
    }

    #[test]
    fn kernel_rejects_invalid_values_unchanged() {
        let target = ArrayD::from_shape_vec(IxDyn(&[3]), vec![0_i64, 1, 2]).unwrap();
        let preds = ArrayD::from_shape_vec(IxDyn(&[3]), vec![0_i64, 1, 1]).unwrap();
        let mut counts = StatCounts::new(TaskConfig::binary());
        let error = counts
            .update(Preds::Labels(preds.view()), target.view())
            .unwrap_err();
        assert!(
            error.to_string().contains("value 2 at index [2]"),
            "{error}"
        );
        assert!(counts.is_empty());

        let preds = ArrayD::from_shape_vec(IxDyn(&[3]), vec![0_i64, 3, 1]).unwrap();
        let target = ArrayD::from_shape_vec(IxDyn(&[3]), vec![0_i64, 1, 2]).unwrap();
        let mut counts = StatCounts::new(TaskConfig::multiclass(3));
        let error = counts
            .update(Preds::Labels(preds.view()), target.view())
            .unwrap_err();
        assert!(
            error.to_string().contains("class index 3 at index [1]"),
            "{error}"
        );
        assert!(counts.is_empty());
    }
}
