//! The state of the curve metrics: every score (exact curves) or counts per threshold (binned
//! curves).

use std::borrow::Cow;

use ndarray::ArrayViewD;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::config::{check_restored, MultidimAverage, Task, TaskConfig};
use super::format::{
    apply_sigmoid, binary_targets_as, check_same_shape, collect_scores, kept_score_outside,
    multiclass_targets, narrow_binary_batch, shape_text, NarrowBinaryBatch, Preds,
};
use super::sorted_scores::SortedScores;
use crate::error::{Error, Result};
use crate::large_buffer::vec_with_capacity;
use crate::metric::check_same_config;
use crate::radix;

/// The thresholds at which curve metrics evaluate the scores, as TorchMetrics' `thresholds`
/// argument.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Thresholds {
    /// Every distinct score is a threshold. The state keeps every score, so it grows with the
    /// data.
    Exact,
    /// `n` thresholds evenly spaced over [0, 1]. The state keeps counts per threshold.
    Bins(usize),
    /// The given thresholds, each in [0, 1]. The state keeps counts per threshold.
    List(Vec<f64>),
}

/// Largest number of binned counts per statistic (thresholds times classes): 2^26, so that the
/// four arrays of u64 counts of a binned curve take at most 2 GiB.
const MAX_CURVE_CELLS: usize = 1 << 26;

impl Thresholds {
    /// Returns the thresholds of binned curves in increasing order, or `None` for exact curves.
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidArgument`] naming `thresholds` for fewer than 2 bins, an empty
    /// list, or a list entry that is not a finite value in [0, 1].
    pub(crate) fn resolve(&self) -> Result<Option<Vec<f64>>> {
        match self {
            Thresholds::Exact => Ok(None),
            Thresholds::Bins(n) if *n < 2 => Err(Error::invalid_argument(
                "thresholds",
                format!("{n} bins cannot span [0, 1]; pass 2 or more"),
            )),
            Thresholds::Bins(n) if *n > MAX_CURVE_CELLS => Err(Error::invalid_argument(
                "thresholds",
                format!(
                    "{n} bins are more than the {MAX_CURVE_CELLS} supported, because the state \
                     keeps counts per bin; pass fewer bins, or None for exact curves"
                ),
            )),
            Thresholds::Bins(n) => Ok(Some((0..*n).map(|i| i as f64 / (*n - 1) as f64).collect())),
            Thresholds::List(list) => {
                if list.is_empty() {
                    return Err(Error::invalid_argument(
                        "thresholds",
                        "the list is empty; pass at least one threshold",
                    ));
                }
                if let Some(bad) = list.iter().find(|t| !(0.0..=1.0).contains(*t)) {
                    return Err(Error::invalid_argument(
                        "thresholds",
                        format!("{bad} is outside [0, 1]; pass probabilities"),
                    ));
                }
                let mut sorted = list.clone();
                sorted.sort_by(f64::total_cmp);
                Ok(Some(sorted))
            }
        }
    }
}

/// Scores and targets of one class against the rest, sorted by decreasing score and reduced to
/// cumulative counts at each distinct score, as scikit-learn's `_binary_clf_curve`.
#[derive(Debug, Clone, Default)]
pub(crate) struct ClassCurve {
    /// True positives with a score at or above each threshold.
    pub tps: Vec<f64>,
    /// False positives with a score at or above each threshold.
    pub fps: Vec<f64>,
    /// Distinct scores in decreasing order (exact), or the bins in increasing order (binned).
    pub thresholds: Vec<f64>,
    /// False negatives at each threshold, kept for binned curves only.
    pub fns: Vec<f64>,
    /// True negatives at each threshold, kept for binned curves only.
    pub tns: Vec<f64>,
    /// Whether the curve comes from binned counts.
    pub binned: bool,
}

/// The state of the curve metrics.
///
/// Exact curves keep every probability and target, because the curve depends on all scores:
/// memory grows by 8 bytes per score plus 4 per target, or by 5 bytes per position for binary
/// `float32` probabilities. Sorting binary `float32` probabilities takes another 4 bytes per
/// position, and 1 more when the targets are wider than a byte. The sort keeps its buffers of
/// 8 MiB to 64 MiB for the next sort instead of returning them to the system. Binned curves
/// keep, per class and threshold, the number of positive and negative positions whose
/// probability is at or above the threshold, so their state has a fixed size.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CurveState {
    config: TaskConfig,
    thresholds: Option<Vec<f64>>,
    /// Probabilities laid out as `[position][class]` (exact curves), empty while
    /// `narrow_scores` contains them.
    scores: Vec<f64>,
    /// The probabilities of a binary exact-curve state while every batch so far came as
    /// `float32` within [0, 1], kept as `f32` to halve the memory and feed the `f32` sort
    /// without a conversion. Empty while `scores` contains them.
    #[serde(default)]
    narrow_scores: Vec<f32>,
    /// Targets: 0/1 per score (binary, multilabel) or a class index per position (multiclass),
    /// -1 where ignored (exact curves). Empty while `narrow_targets`
    /// contains them.
    targets: Vec<i32>,
    /// The targets of `narrow_scores`, 0/1 or -1 where ignored.
    #[serde(default)]
    narrow_targets: Vec<i8>,
    /// Positives and negatives at or above each threshold, laid out `[class][threshold]`.
    positives_above: Vec<u64>,
    negatives_above: Vec<u64>,
    /// Positives and negatives per class.
    positives: Vec<u64>,
    negatives: Vec<u64>,
    positions: u64,
}

impl CurveState {
    /// Creates an empty state.
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidArgument`] if the configuration is invalid, sets options that
    /// curves do not take (`threshold`, `top_k`, samplewise counting), or `thresholds` is
    /// invalid.
    pub(crate) fn new(config: TaskConfig, thresholds: &Thresholds) -> Result<Self> {
        config.validate()?;
        if config.top_k() != 1 {
            return Err(Error::invalid_argument(
                "top_k",
                format!("{} does not apply to curves; pass 1", config.top_k()),
            ));
        }
        if config.multidim_average() != MultidimAverage::Global {
            return Err(Error::invalid_argument(
                "multidim_average",
                "\"samplewise\" does not apply to curves; pass \"global\"",
            ));
        }
        let thresholds = thresholds.resolve()?;
        let classes = config.num_classes();
        let cells = thresholds
            .as_ref()
            .map_or(0, |t| t.len().saturating_mul(classes));
        if cells > MAX_CURVE_CELLS {
            return Err(Error::invalid_argument(
                "thresholds",
                format!(
                    "{} thresholds for {classes} classes need {cells} counts per statistic, more \
                     than the {MAX_CURVE_CELLS} supported; pass fewer thresholds, or None for \
                     exact curves",
                    cells / classes
                ),
            ));
        }
        Ok(Self {
            config,
            thresholds,
            scores: Vec::new(),
            narrow_scores: Vec::new(),
            targets: Vec::new(),
            narrow_targets: Vec::new(),
            positives_above: vec![0; cells],
            negatives_above: vec![0; cells],
            positives: vec![0; classes],
            negatives: vec![0; classes],
            positions: 0,
        })
    }

    /// Returns the configuration.
    pub fn config(&self) -> &TaskConfig {
        &self.config
    }

    pub(crate) fn classes(&self) -> usize {
        self.config.num_classes()
    }

    /// Returns the number of stored scores.
    fn score_count(&self) -> usize {
        self.scores.len() + self.narrow_scores.len()
    }

    /// Returns the stored scores as `f64`, widening `f32` scores into a copy.
    fn wide_scores(&self) -> Cow<'_, [f64]> {
        if self.narrow_scores.is_empty() {
            Cow::Borrowed(&self.scores)
        } else {
            Cow::Owned(self.narrow_scores.iter().map(|&x| f64::from(x)).collect())
        }
    }

    /// Returns the stored targets as `i32`, widening `i8` targets into a copy.
    fn wide_targets(&self) -> Cow<'_, [i32]> {
        if self.narrow_targets.is_empty() {
            Cow::Borrowed(&self.targets)
        } else {
            Cow::Owned(self.narrow_targets.iter().map(|&x| i32::from(x)).collect())
        }
    }

    /// Moves `f32` scores and their `i8` targets into the wide stores, keeping their order.
    fn widen(&mut self) {
        if !self.narrow_scores.is_empty() {
            self.scores = self.wide_scores().into_owned();
            self.targets = self.wide_targets().into_owned();
            self.narrow_scores = Vec::new();
            self.narrow_targets = Vec::new();
        }
    }

    /// Appends a binary `float32` batch, narrow unless the state already contains wide scores.
    fn append_narrow(&mut self, scores: Vec<f32>, targets: Vec<i8>) {
        if !self.scores.is_empty() {
            self.scores.extend(scores.iter().map(|&x| f64::from(x)));
            self.targets.extend(targets.iter().map(|&x| i32::from(x)));
        } else if self.narrow_scores.is_empty() {
            // The first batch moves in without a copy.
            self.narrow_scores = scores;
            self.narrow_targets = targets;
        } else {
            self.narrow_scores.extend_from_slice(&scores);
            self.narrow_targets.extend_from_slice(&targets);
        }
    }

    /// Appends a batch of `f64` scores to an exact-curve state.
    fn append_wide(&mut self, scores: Vec<f64>, targets: Vec<i32>) {
        self.widen();
        if self.scores.is_empty() {
            // The first batch moves in without a copy.
            self.scores = scores;
            self.targets = targets;
        } else {
            self.scores.extend_from_slice(&scores);
            self.targets.extend_from_slice(&targets);
        }
    }

    /// Returns an error if the arrays do not fit the configuration, as in a corrupted state.
    fn check_consistent(&self) -> Result<()> {
        let classes = self.classes().max(1);
        let cells = self.thresholds.as_ref().map_or(0, |t| t.len() * classes);
        let score_count = self.score_count();
        let targets = if self.config.task() == Task::Multiclass {
            score_count / classes
        } else {
            score_count
        };
        let narrow_fits = self.narrow_scores.len() == self.narrow_targets.len()
            && (self.narrow_scores.is_empty()
                || (self.scores.is_empty()
                    && self.targets.is_empty()
                    && self.config.task() == Task::Binary
                    && self.thresholds.is_none()));
        let consistent = narrow_fits
            && score_count.is_multiple_of(classes)
            && self.targets.len() + self.narrow_targets.len() == targets
            && self.positives_above.len() == cells
            && self.negatives_above.len() == cells
            && self.positives.len() == classes
            && self.negatives.len() == classes;
        check_restored(&self.config, consistent)
    }

    /// Validates a batch and adds it; a rejected batch changes nothing.
    pub(crate) fn update(&mut self, preds: &Preds<'_>, target: &ArrayViewD<'_, i64>) -> Result<()> {
        self.check_consistent()?;
        let (scores, targets) = match self.format(preds, target)? {
            Batch::Narrow(batch) => {
                self.positions += batch.targets.len() as u64;
                self.positives[0] += batch.positives;
                self.negatives[0] += batch.negatives;
                self.append_narrow(batch.scores, batch.targets);
                return Ok(());
            }
            Batch::Wide(scores, targets) => (scores, targets),
        };

        self.positions += targets.len() as u64;
        let classes = self.classes();
        let per_position = if self.config.task() == Task::Multiclass {
            classes
        } else {
            1
        };
        // Count positives and negatives per class.
        if classes == 1 && per_position == 1 {
            // One class needs no per-position class index, and the counts vectorize.
            let (positives, negatives) = targets
                .par_chunks(1 << 16)
                .map(|chunk| {
                    let positives = chunk.iter().filter(|&&label| label == 1).count();
                    let negatives = chunk.iter().filter(|&&label| label == 0).count();
                    (positives as u64, negatives as u64)
                })
                .reduce(|| (0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
            self.positives[0] += positives;
            self.negatives[0] += negatives;
        } else {
            self.count_classes(&targets, per_position);
        }

        match &self.thresholds {
            None => self.append_wide(scores, targets),
            Some(thresholds) => {
                let n_thresholds = thresholds.len();
                for (index, &score) in scores.iter().enumerate() {
                    let (position, class) = (index / classes, index % classes);
                    let label = if per_position == 1 {
                        targets[index]
                    } else {
                        targets[position]
                    };
                    if label < 0 {
                        continue;
                    }
                    let positive = if per_position == 1 {
                        label == 1
                    } else {
                        label as usize == class
                    };
                    // Thresholds are sorted, so those at or below the score form a prefix.
                    let count = thresholds.partition_point(|&t| t <= score);
                    let row = &mut if positive {
                        &mut self.positives_above
                    } else {
                        &mut self.negatives_above
                    }[class * n_thresholds..class * n_thresholds + count];
                    for cell in row.iter_mut() {
                        *cell += 1;
                    }
                }
            }
        }
        Ok(())
    }

    /// Adds the positives and negatives per class of a formatted batch.
    fn count_classes(&mut self, targets: &[i32], per_position: usize) {
        let classes = self.classes();
        for (index, &label) in targets.iter().enumerate() {
            if label < 0 {
                continue;
            }
            for class in 0..per_position {
                let class_index = if per_position == 1 {
                    index % classes
                } else {
                    class
                };
                let positive = if per_position == 1 {
                    label == 1
                } else {
                    label as usize == class
                };
                if positive {
                    self.positives[class_index] += 1;
                } else {
                    self.negatives[class_index] += 1;
                }
            }
        }
    }

    /// Converts a batch into probabilities laid out `[position][class]` and targets (one per
    /// score for binary and multilabel, one per position for multiclass; -1 where ignored).
    ///
    /// Binary `float32` probabilities of an exact-curve state stay `f32`, with `i8` targets.
    fn format(&self, preds: &Preds<'_>, target: &ArrayViewD<'_, i64>) -> Result<Batch> {
        if self.config.task() == Task::Binary && self.thresholds.is_none() {
            if let Preds::F32(view) = preds {
                if target.ndim() > 0 && view.shape() == target.shape() {
                    if let Some(batch) = narrow_binary_batch(&self.config, view, target) {
                        return Ok(Batch::Narrow(batch));
                    }
                }
            }
        }
        let Some(collected) = collect_scores(preds) else {
            return Err(Error::invalid_input(
                "preds",
                "curves need float scores (probabilities or logits), but preds holds integer \
                 labels; pass the scores",
            ));
        };
        let (mut scores, outside_unit_range) = collected?;
        if target.ndim() == 0 {
            return Err(Error::invalid_input(
                "target",
                "a 0-dimensional array has no samples; pass an array of shape (N, ...)",
            ));
        }

        match self.config.task() {
            Task::Binary | Task::Multilabel => {
                check_same_shape(preds.shape(), target.shape())?;
                let classes = self.classes();
                let layout_shape = target.shape();
                if self.config.task() == Task::Multilabel
                    && (layout_shape.len() < 2 || layout_shape[1] != classes)
                {
                    return Err(Error::invalid_input(
                        "target",
                        format!(
                            "shape {} does not have num_labels = {classes} entries along \
                             dimension 1; pass arrays of shape (N, {classes}, ...)",
                            shape_text(layout_shape)
                        ),
                    ));
                }
                let mut targets =
                    binary_targets_as(&self.config, target, |label| label.map_or(-1, i32::from))?;
                // As TorchMetrics: the sigmoid when a score is outside [0, 1], for binary input
                // among the positions whose target is kept.
                let logits = outside_unit_range
                    && (self.config.task() == Task::Multilabel
                        || kept_score_outside(&scores, |index| targets[index] >= 0));
                if logits {
                    apply_sigmoid(&mut scores);
                }
                if self.config.task() == Task::Multilabel && layout_shape.len() > 2 {
                    // (N, L, extra...) becomes [position][label].
                    let extra: usize = layout_shape[2..].iter().product();
                    scores = move_class_axis_last(&scores, layout_shape[0], classes, extra);
                    targets = move_class_axis_last(&targets, layout_shape[0], classes, extra);
                }
                Ok(Batch::Wide(scores, targets))
            }
            Task::Multiclass => {
                let classes = self.classes();
                let target_shape = target.shape();
                let preds_shape = preds.shape();
                let fits = preds_shape.len() == target_shape.len() + 1
                    && preds_shape[0] == target_shape[0]
                    && preds_shape[2..] == target_shape[1..];
                if !fits || preds_shape[1] != classes {
                    return Err(Error::invalid_input(
                        "preds",
                        format!(
                            "scores of shape {} do not fit targets of shape {}; pass scores of \
                             shape (N, num_classes = {classes}, ...) for targets of shape (N, ...)",
                            shape_text(preds_shape),
                            shape_text(target_shape)
                        ),
                    ));
                }
                let labels = multiclass_targets(&self.config, target)?;
                let extra: usize = target_shape[1..].iter().product();
                let mut scores = move_class_axis_last(&scores, target_shape[0], classes, extra);
                let targets: Vec<i32> = labels
                    .iter()
                    .map(|label| label.map_or(-1, |class| class as i32))
                    .collect();
                softmax_unless_probabilities(&mut scores, classes, &targets);
                Ok(Batch::Wide(scores, targets))
            }
        }
    }

    /// Folds another state in after checking that the configurations agree.
    pub(crate) fn merge(&mut self, metric: &str, other: &Self) -> Result<()> {
        check_same_config(metric, "config", &self.config, &other.config)?;
        check_same_config(metric, "thresholds", &self.thresholds, &other.thresholds)?;
        self.check_consistent()?;
        other.check_consistent()?;
        if self.scores.is_empty() && other.scores.is_empty() {
            self.narrow_scores.extend_from_slice(&other.narrow_scores);
            self.narrow_targets.extend_from_slice(&other.narrow_targets);
        } else {
            self.widen();
            self.scores.extend_from_slice(&other.wide_scores());
            self.targets.extend_from_slice(&other.wide_targets());
        }
        for (mine, theirs) in [
            (&mut self.positives_above, &other.positives_above),
            (&mut self.negatives_above, &other.negatives_above),
            (&mut self.positives, &other.positives),
            (&mut self.negatives, &other.negatives),
        ] {
            for (a, b) in mine.iter_mut().zip(theirs) {
                *a += b;
            }
        }
        self.positions += other.positions;
        Ok(())
    }

    pub(crate) fn clear(&mut self) {
        self.scores.clear();
        self.narrow_scores.clear();
        self.targets.clear();
        self.narrow_targets.clear();
        self.positives_above.fill(0);
        self.negatives_above.fill(0);
        self.positives.fill(0);
        self.negatives.fill(0);
        self.positions = 0;
    }

    pub(crate) fn check_not_empty(&self, metric: &str) -> Result<()> {
        self.check_consistent()?;
        if self.positions == 0 {
            return Err(Error::not_enough_data(
                metric,
                "no samples were seen; call update with at least one sample before compute",
            ));
        }
        Ok(())
    }

    pub(crate) fn shared_key(&self) -> String {
        format!(
            "classification.curve {:?} {:?}",
            self.config, self.thresholds
        )
    }

    /// Returns the number of positive positions of `class`.
    pub(crate) fn support(&self, class: usize) -> u64 {
        self.positives[class]
    }

    /// Calls `visit(score, is positive)` for each position of `class` against the rest, or of
    /// every class pooled when `class` is `None` (micro averaging), ignored positions left out.
    fn for_each_pair(&self, class: Option<usize>, mut visit: impl FnMut(f64, bool)) {
        let classes = self.classes();
        let multiclass = self.config.task() == Task::Multiclass;
        let scores = self.wide_scores();
        let targets = self.wide_targets();
        if !multiclass && classes == 1 {
            // Binary: one score per target, read in lockstep.
            for (&score, &label) in scores.iter().zip(targets.iter()) {
                if label >= 0 {
                    visit(score, label == 1);
                }
            }
            return;
        }
        // One class reads every `classes`-th score from its column; pooling reads them all.
        let (start, step) = match class {
            Some(c) => (c, classes),
            None => (0, 1),
        };
        for index in (start..scores.len()).step_by(step) {
            let score = scores[index];
            let (position, column) = (index / classes, index % classes);
            let label = if multiclass {
                targets[position]
            } else {
                targets[index]
            };
            if label < 0 {
                continue;
            }
            let positive = if multiclass {
                label as usize == column
            } else {
                label == 1
            };
            visit(score, positive);
        }
    }

    /// Returns the scores and labels of the binary task with exact thresholds sorted by
    /// decreasing score, or `None` for other tasks, binned curves and scores that are not all
    /// exactly `f32`.
    pub(crate) fn sorted_binary_scores(&self) -> Option<SortedScores> {
        if self.config.task() != Task::Binary || self.thresholds.is_some() {
            return None;
        }
        if self.scores.is_empty() {
            return Some(SortedScores::from_binary(
                &self.narrow_scores,
                &self.narrow_targets,
            ));
        }
        let narrow = self
            .scores
            .par_iter()
            .all(|&score| f64::from(score as f32).to_bits() == score.to_bits());
        if !narrow {
            return None;
        }
        let scores: Vec<f32> = self.scores.par_iter().map(|&score| score as f32).collect();
        Some(SortedScores::from_binary(&scores, &self.targets))
    }

    /// Sorts one binary batch of `float32` probabilities straight from the borrowed arrays,
    /// for a value computed from that batch alone, without storing it.
    ///
    /// Returns `None` for other tasks, binned curves, other dtypes or layouts, an empty batch,
    /// and batches that [`Self::update`] would reject or not store as `float32`, such as scores
    /// outside [0, 1], which take the sigmoid. The caller then takes the updating path.
    pub(crate) fn sorted_binary_batch(
        &self,
        preds: &Preds<'_>,
        target: &ArrayViewD<'_, i64>,
    ) -> Option<SortedScores> {
        if self.config.task() != Task::Binary || self.thresholds.is_some() {
            return None;
        }
        let Preds::F32(view) = preds else {
            return None;
        };
        if target.ndim() == 0 || target.is_empty() || view.shape() != target.shape() {
            return None;
        }
        let (scores, targets) = (view.as_slice()?, target.as_slice()?);
        SortedScores::from_unit_scores(scores, targets, self.config.ignore_index())
    }

    /// Returns the cumulative counts of `class` (or of every class pooled for `None`).
    pub(crate) fn class_curve(&self, class: Option<usize>) -> ClassCurve {
        match &self.thresholds {
            None => self.exact_curve(class),
            Some(thresholds) => self.binned_curve(thresholds, class),
        }
    }

    /// Sorts the pairs of `class` by decreasing score and returns the cumulative counts at each
    /// distinct score, as scikit-learn's `_binary_clf_curve`.
    ///
    /// Binary scores that are all exactly `f32` go through [`SortedScores`], the others
    /// through [`Self::pairs_curve`]. Both give the same points.
    fn exact_curve(&self, class: Option<usize>) -> ClassCurve {
        match self.sorted_binary_scores() {
            Some(sorted) => curve_from_groups(&sorted),
            None => self.pairs_curve(class),
        }
    }

    /// Computes [`Self::exact_curve`] for every task by gathering the (score, label) pairs of
    /// `class` and sorting them.
    ///
    /// The sort is a radix sort on the scores' bit patterns, ordered as [`f64::total_cmp`].
    /// When every score is exactly a `f32` (as for `float32` input), each pair packs into one
    /// `u64` and only the 32 score bits are sorted. Ties share one threshold, so their order
    /// does not matter.
    pub(crate) fn pairs_curve(&self, class: Option<usize>) -> ClassCurve {
        let step = if class.is_some() { self.classes() } else { 1 };
        let capacity = self.score_count() / step;
        let narrow = self
            .wide_scores()
            .iter()
            .all(|&score| f64::from(score as f32).to_bits() == score.to_bits());
        if narrow {
            // High half: the decreasing-order key of the score; low bit: the label.
            let mut packed: Vec<u64> = Vec::with_capacity(capacity);
            self.for_each_pair(class, |score, positive| {
                packed.push(
                    u64::from(!radix::f32_order_key(score as f32)) << 32 | u64::from(positive),
                );
            });
            radix::sort_by_key(&mut packed, 32, |&item| item >> 32);
            cumulative_counts(packed.iter().map(|&item| {
                let score = radix::f32_from_order_key(!((item >> 32) as u32));
                (f64::from(score), item & 1 == 1)
            }))
        } else {
            let mut keyed: Vec<(u64, bool)> = Vec::with_capacity(capacity);
            self.for_each_pair(class, |score, positive| {
                keyed.push((!radix::f64_order_key(score), positive));
            });
            radix::sort_by_key(&mut keyed, 64, |item| item.0);
            cumulative_counts(
                keyed
                    .iter()
                    .map(|&(key, positive)| (radix::f64_from_order_key(!key), positive)),
            )
        }
    }

    fn binned_curve(&self, thresholds: &[f64], class: Option<usize>) -> ClassCurve {
        let n = thresholds.len();
        let classes: Vec<usize> = match class {
            Some(c) => vec![c],
            None => (0..self.classes()).collect(),
        };
        let mut curve = ClassCurve {
            thresholds: thresholds.to_vec(),
            binned: true,
            tps: vec![0.0; n],
            fps: vec![0.0; n],
            fns: vec![0.0; n],
            tns: vec![0.0; n],
        };
        for c in classes {
            for t in 0..n {
                let tp = self.positives_above[c * n + t] as f64;
                let fp = self.negatives_above[c * n + t] as f64;
                curve.tps[t] += tp;
                curve.fps[t] += fp;
                curve.fns[t] += self.positives[c] as f64 - tp;
                curve.tns[t] += self.negatives[c] as f64 - fp;
            }
        }
        curve
    }
}

/// One formatted batch.
enum Batch {
    /// Binary `float32` probabilities of an exact-curve state.
    Narrow(NarrowBinaryBatch),
    /// Probabilities laid out `[position][class]` and targets, -1 where ignored.
    Wide(Vec<f64>, Vec<i32>),
}

/// Reorders `(N, C, extra)` values into `(N, extra, C)`, so each position's classes are
/// contiguous.
fn move_class_axis_last<T: Copy + Default>(
    values: &[T],
    n: usize,
    classes: usize,
    extra: usize,
) -> Vec<T> {
    let mut moved = vec![T::default(); values.len()];
    for sample in 0..n {
        for class in 0..classes {
            for pos in 0..extra {
                moved[(sample * extra + pos) * classes + class] =
                    values[(sample * classes + class) * extra + pos];
            }
        }
    }
    moved
}

/// Applies the softmax over each position's classes unless every score of the positions whose
/// target is kept (not -1) lies in [0, 1], as TorchMetrics does for multiclass curves.
///
/// NOTE: the choice is made per batch, as in TorchMetrics, so a stream that mixes logits and
/// probabilities across batches gives values that depend on the batch split.
fn softmax_unless_probabilities(scores: &mut [f64], classes: usize, targets: &[i32]) {
    if !kept_score_outside(scores, |index| targets[index / classes] >= 0) {
        return;
    }
    for row in scores.chunks_mut(classes) {
        let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let mut total = 0.0;
        for x in row.iter_mut() {
            *x = (*x - max).exp();
            total += *x;
        }
        for x in row.iter_mut() {
            *x /= total;
        }
    }
}

/// Accumulates the tie groups of sorted binary scores into one curve point per distinct score,
/// the points `cumulative_counts` gives for the same pairs, filled bucket by bucket in
/// parallel.
fn curve_from_groups(sorted: &SortedScores) -> ClassCurve {
    let count = sorted.group_count();
    let mut curve = ClassCurve {
        tps: vec_with_capacity(count),
        fps: vec_with_capacity(count),
        thresholds: vec_with_capacity(count),
        ..ClassCurve::default()
    };
    sorted.extend_per_group(
        [&mut curve.tps, &mut curve.fps, &mut curve.thresholds],
        |bucket, rows| {
            let (mut tp, mut fp) = (bucket.positives_before, bucket.negatives_before);
            bucket.for_each(|score, positives, negatives| {
                tp += positives;
                fp += negatives;
                rows.push([tp as f64, fp as f64, f64::from(score)]);
            });
        },
    );
    curve
}

/// Accumulates (score, is positive) pairs in decreasing score order into one curve point per
/// distinct score.
fn cumulative_counts(mut pairs: impl ExactSizeIterator<Item = (f64, bool)>) -> ClassCurve {
    // Reserving the upper bound avoids copies as the curve grows; untouched pages stay unused.
    let n = pairs.len();
    let mut curve = ClassCurve {
        tps: Vec::with_capacity(n),
        fps: Vec::with_capacity(n),
        thresholds: Vec::with_capacity(n),
        ..ClassCurve::default()
    };
    let Some(mut current) = pairs.next() else {
        return curve;
    };
    let (mut tp, mut fp) = (0.0, 0.0);
    loop {
        if current.1 {
            tp += 1.0;
        } else {
            fp += 1.0;
        }
        let next = pairs.next();
        // `!=` treats 0.0 and -0.0 as one threshold, as the comparison-sort version did.
        let last_of_tie = next.is_none_or(|next| next.0 != current.0);
        if last_of_tie {
            curve.tps.push(tp);
            curve.fps.push(fp);
            curve.thresholds.push(current.0);
        }
        match next {
            Some(pair) => current = pair,
            None => return curve,
        }
    }
}

#[cfg(test)]
mod tests {
    use ndarray::ArrayD;

    use super::*;
    use crate::classification::curves::{
        auroc, average_precision, roc_curve, sorted_auroc, sorted_average_precision,
        sorted_roc_curve,
    };

    /// Fills a binary exact-curve state from float32 scores with many ties, signed zeros and
    /// ignored targets, drawn from a fixed linear congruential sequence.
    fn binary_state(n: usize, distinct: u64) -> CurveState {
        let mut state = 987654321u64;
        let mut next = || {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1);
            state >> 33
        };
        let mut scores = Vec::with_capacity(n);
        let mut targets = Vec::with_capacity(n);
        for index in 0..n {
            let value = (next() % distinct) as f32 / (distinct - 1) as f32;
            scores.push(if index % 101 == 0 { -0.0 } else { value });
            targets.push(if index % 13 == 0 {
                -100
            } else {
                (next() % 2) as i64
            });
        }
        let config = TaskConfig::binary().with_ignore_index(-100);
        let mut curve_state = CurveState::new(config, &Thresholds::Exact).unwrap();
        let scores = ArrayD::from_shape_vec(vec![n], scores).unwrap();
        let targets = ArrayD::from_shape_vec(vec![n], targets).unwrap();
        curve_state
            .update(&Preds::F32(scores.view()), &targets.view())
            .unwrap();
        curve_state
    }

    fn bits(values: &[f64]) -> Vec<u64> {
        values.iter().map(|x| x.to_bits()).collect()
    }

    #[test]
    fn sorted_binary_path_matches_pairs_path() {
        for (n, distinct) in [(1, 2), (40, 3), (5000, 50), (300_000, 1 << 20)] {
            let state = binary_state(n, distinct);
            let sorted = state.sorted_binary_scores().expect("float32 binary scores");
            let expected = state.pairs_curve(Some(0));
            let curve = state.exact_curve(Some(0));
            assert_eq!(curve.tps, expected.tps, "tps, n = {n}");
            assert_eq!(curve.fps, expected.fps, "fps, n = {n}");
            assert_eq!(
                bits(&curve.thresholds),
                bits(&expected.thresholds),
                "thresholds, n = {n}"
            );
            assert_eq!(
                sorted_auroc(&sorted).to_bits(),
                auroc(&expected, None).to_bits(),
                "auroc, n = {n}"
            );
            assert_eq!(
                sorted_average_precision(&sorted).to_bits(),
                average_precision(&expected).to_bits(),
                "average precision, n = {n}"
            );
            let roc = sorted_roc_curve(&sorted);
            let expected_roc = roc_curve(&expected);
            assert_eq!(bits(&roc.fpr), bits(&expected_roc.fpr), "fpr, n = {n}");
            assert_eq!(bits(&roc.tpr), bits(&expected_roc.tpr), "tpr, n = {n}");
            assert_eq!(
                bits(&roc.thresholds),
                bits(&expected_roc.thresholds),
                "roc thresholds, n = {n}"
            );
        }
    }

    fn update_f32(state: &mut CurveState, scores: &[f32], targets: &[i64]) {
        let scores = ArrayD::from_shape_vec(vec![scores.len()], scores.to_vec()).unwrap();
        let targets = ArrayD::from_shape_vec(vec![targets.len()], targets.to_vec()).unwrap();
        state
            .update(&Preds::F32(scores.view()), &targets.view())
            .unwrap();
    }

    fn update_f64(state: &mut CurveState, scores: &[f64], targets: &[i64]) {
        let scores = ArrayD::from_shape_vec(vec![scores.len()], scores.to_vec()).unwrap();
        let targets = ArrayD::from_shape_vec(vec![targets.len()], targets.to_vec()).unwrap();
        state
            .update(&Preds::F64(scores.view()), &targets.view())
            .unwrap();
    }

    fn exact_binary_state() -> CurveState {
        let config = TaskConfig::binary().with_ignore_index(-100);
        CurveState::new(config, &Thresholds::Exact).unwrap()
    }

    #[test]
    fn float32_batches_stay_narrow() {
        let mut state = exact_binary_state();
        update_f32(&mut state, &[0.25, 0.75, 0.5], &[0, 1, -100]);
        update_f32(&mut state, &[1.0, 0.0], &[1, 0]);
        assert_eq!(state.narrow_scores, vec![0.25, 0.75, 0.5, 1.0, 0.0]);
        assert_eq!(state.narrow_targets, vec![0, 1, -1, 1, 0]);
        assert!(state.scores.is_empty());
        assert!(state.targets.is_empty());
        assert_eq!((state.positives[0], state.negatives[0]), (2, 2));
    }

    #[test]
    fn wide_batch_widens_narrow_scores_in_order() {
        let mut mixed = exact_binary_state();
        update_f32(&mut mixed, &[0.25, 0.75], &[0, 1]);
        update_f64(&mut mixed, &[0.1, 0.3], &[1, -100]);
        update_f32(&mut mixed, &[0.5], &[0]);
        assert!(mixed.narrow_scores.is_empty());
        assert!(mixed.narrow_targets.is_empty());

        let mut wide = exact_binary_state();
        update_f64(&mut wide, &[0.25, 0.75, 0.1, 0.3, 0.5], &[0, 1, 1, -100, 0]);
        assert_eq!(mixed, wide);
    }

    #[test]
    fn merge_of_narrow_and_wide_states() {
        let mut narrow = exact_binary_state();
        update_f32(&mut narrow, &[0.25, 0.75], &[0, -100]);
        let mut other_narrow = exact_binary_state();
        update_f32(&mut other_narrow, &[0.5], &[1]);
        let mut wide = exact_binary_state();
        update_f64(&mut wide, &[0.1], &[1]);

        let mut both_narrow = narrow.clone();
        both_narrow.merge("BinaryAUROC", &other_narrow).unwrap();
        assert_eq!(both_narrow.narrow_scores, vec![0.25, 0.75, 0.5]);
        assert_eq!(both_narrow.narrow_targets, vec![0, -1, 1]);

        let mut widened = narrow.clone();
        widened.merge("BinaryAUROC", &wide).unwrap();
        let mut expected = exact_binary_state();
        update_f64(&mut expected, &[0.25, 0.75, 0.1], &[0, -100, 1]);
        assert_eq!(widened, expected);

        let mut wide_first = wide.clone();
        wide_first.merge("BinaryAUROC", &narrow).unwrap();
        let mut expected = exact_binary_state();
        update_f64(&mut expected, &[0.1, 0.25, 0.75], &[1, 0, -100]);
        assert_eq!(wide_first, expected);
    }

    #[test]
    fn float32_logits_take_the_sigmoid_path() {
        let mut state = exact_binary_state();
        update_f32(&mut state, &[2.0, -1.0], &[1, 0]);
        assert!(state.narrow_scores.is_empty());
        assert_eq!(state.scores.len(), 2);
        assert!(state.scores[0] > 0.5);
        assert!(state.scores[1] < 0.5);
    }

    #[test]
    fn narrow_state_round_trips_through_json() {
        let mut state = exact_binary_state();
        update_f32(&mut state, &[0.25, -0.0, 0.5], &[0, 1, -100]);
        let json = serde_json::to_string(&state).unwrap();
        let restored: CurveState = serde_json::from_str(&json).unwrap();
        assert_eq!(restored, state);
        restored.check_consistent().unwrap();
    }

    #[test]
    fn invalid_target_rejected_by_narrow_path() {
        let mut state = exact_binary_state();
        let scores = ArrayD::from_shape_vec(vec![3], vec![0.25f32, 0.5, 0.75]).unwrap();
        let targets = ArrayD::from_shape_vec(vec![3], vec![0i64, 2, 1]).unwrap();
        let error = state
            .update(&Preds::F32(scores.view()), &targets.view())
            .unwrap_err();
        assert!(error.to_string().contains('2'), "{error}");
        assert_eq!(state, exact_binary_state());
    }
}
