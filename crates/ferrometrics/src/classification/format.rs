//! Validation of a batch and its conversion into predicted and true labels, as TorchMetrics'
//! `_*_format` and `_*_tensor_validation` functions.

use ndarray::ArrayViewD;
use rayon::prelude::*;

use super::config::{MultidimAverage, Task, TaskConfig};
use crate::error::{Error, Result};
use crate::large_buffer::vec_with_capacity;

/// Predictions of a classification batch: integer labels, or scores (probabilities or logits).
#[derive(Debug, Clone)]
pub enum Preds<'a> {
    /// Predicted labels: 0 or 1 (binary, multilabel), class indices (multiclass).
    Labels(ArrayViewD<'a, i64>),
    /// Scores in `f32`.
    F32(ArrayViewD<'a, f32>),
    /// Scores in `f64`.
    F64(ArrayViewD<'a, f64>),
}

impl<'a> Preds<'a> {
    /// Returns the shape of the predictions.
    pub fn shape(&self) -> &[usize] {
        match self {
            Preds::Labels(view) => view.shape(),
            Preds::F32(view) => view.shape(),
            Preds::F64(view) => view.shape(),
        }
    }

    /// Returns the scores in `f64`, in standard (row-major) order, or `None` for labels.
    pub(crate) fn scores(&self) -> Option<Vec<f64>> {
        match self {
            Preds::Labels(_) => None,
            Preds::F32(view) => Some(view.iter().map(|&x| f64::from(x)).collect()),
            Preds::F64(view) => Some(view.iter().copied().collect()),
        }
    }
}

impl<'a> From<ArrayViewD<'a, i64>> for Preds<'a> {
    fn from(view: ArrayViewD<'a, i64>) -> Self {
        Preds::Labels(view)
    }
}

impl<'a> From<ArrayViewD<'a, f32>> for Preds<'a> {
    fn from(view: ArrayViewD<'a, f32>) -> Self {
        Preds::F32(view)
    }
}

impl<'a> From<ArrayViewD<'a, f64>> for Preds<'a> {
    fn from(view: ArrayViewD<'a, f64>) -> Self {
        Preds::F64(view)
    }
}

/// Formats a flat standard-order index of `shape` as `[i, j, ...]`.
pub(crate) fn position(shape: &[usize], mut flat: usize) -> String {
    let mut index = vec![0; shape.len()];
    for (axis, &length) in shape.iter().enumerate().rev() {
        if length > 0 {
            index[axis] = flat % length;
            flat /= length;
        }
    }
    let parts: Vec<String> = index.iter().map(ToString::to_string).collect();
    format!("[{}]", parts.join(", "))
}

/// Returns an error naming the first NaN score.
pub(crate) fn check_no_nan(scores: &[f64], shape: &[usize]) -> Result<()> {
    if let Some(flat) = scores.iter().position(|x| x.is_nan()) {
        return Err(Error::NonFinite {
            argument: "preds".to_owned(),
            location: format!("index {}", position(shape, flat)),
            value: f64::NAN,
        });
    }
    Ok(())
}

fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// Positions per task of the parallel conversions; large enough that a task costs more than
/// its scheduling.
const PARALLEL_CHUNK: usize = 1 << 16;

/// Converts contiguous scores to `f64` on every thread and returns whether any lies outside
/// [0, 1] (NaN included).
fn widen_scores<T: Copy + Into<f64> + Sync>(values: &[T]) -> (Vec<f64>, bool) {
    let mut scores = vec![0.0; values.len()];
    let outside = scores
        .par_chunks_mut(PARALLEL_CHUNK)
        .zip(values.par_chunks(PARALLEL_CHUNK))
        .map(|(scores, values)| {
            let mut outside = false;
            for (score, &value) in scores.iter_mut().zip(values) {
                let x: f64 = value.into();
                outside |= !(0.0..=1.0).contains(&x);
                *score = x;
            }
            outside
        })
        .reduce(|| false, |a, b| a | b);
    (scores, outside)
}

/// A binary batch of `float32` probabilities, with targets coded 1, 0, or -1 where ignored.
pub(crate) struct NarrowBinaryBatch {
    pub scores: Vec<f32>,
    pub targets: Vec<i8>,
    pub positives: u64,
    pub negatives: u64,
}

/// Copies contiguous `float32` scores and binary targets of one shape in one parallel pass,
/// counting positives and negatives on the way.
///
/// Returns `None` unless every score lies in [0, 1] (which rules out NaN) and every target is
/// 0, 1 or `ignore_index`, so that the caller takes the general path, which applies the
/// sigmoid or reports the invalid value.
pub(crate) fn narrow_binary_batch(
    config: &TaskConfig,
    preds: &ArrayViewD<'_, f32>,
    target: &ArrayViewD<'_, i64>,
) -> Option<NarrowBinaryBatch> {
    let (values, labels) = (preds.as_slice()?, target.as_slice()?);
    if values.len() != labels.len() {
        return None;
    }
    let n = values.len();
    let ignore = config.ignore_index();
    let mut scores: Vec<f32> = vec_with_capacity(n);
    let mut targets: Vec<i8> = vec_with_capacity(n);
    let (valid, positives, negatives) = scores.spare_capacity_mut()[..n]
        .par_chunks_mut(PARALLEL_CHUNK)
        .zip(targets.spare_capacity_mut()[..n].par_chunks_mut(PARALLEL_CHUNK))
        .zip(values.par_chunks(PARALLEL_CHUNK))
        .zip(labels.par_chunks(PARALLEL_CHUNK))
        .map(|(((score_out, target_out), values), labels)| {
            // Folds without early exit vectorize.
            let mut valid = true;
            for (out, &x) in score_out.iter_mut().zip(values) {
                out.write(x);
                valid &= (0.0..=1.0).contains(&x);
            }
            let (mut positives, mut negatives) = (0u64, 0u64);
            for (out, &label) in target_out.iter_mut().zip(labels) {
                let ignored = ignore == Some(label);
                let binary = (label as u64) <= 1;
                valid &= ignored | binary;
                let kept = !ignored & binary;
                positives += u64::from(kept & (label == 1));
                negatives += u64::from(kept & (label == 0));
                out.write(if ignored { -1 } else { label as i8 });
            }
            (valid, positives, negatives)
        })
        .reduce(|| (true, 0, 0), |a, b| (a.0 & b.0, a.1 + b.1, a.2 + b.2));
    // SAFETY: the chunks of the first `n` entries tile them, every chunk runs (the reduction
    // does not stop early), and each writes every entry of its chunk.
    unsafe {
        scores.set_len(n);
        targets.set_len(n);
    }
    valid.then_some(NarrowBinaryBatch {
        scores,
        targets,
        positives,
        negatives,
    })
}

/// Collects float scores as `f64` in one pass, rejecting NaN, and returns whether any score
/// lies outside [0, 1]; `None` for integer labels.
pub(crate) fn collect_scores(preds: &Preds<'_>) -> Option<Result<(Vec<f64>, bool)>> {
    fn collect<T: Copy + Into<f64>>(
        values: impl ExactSizeIterator<Item = T>,
        shape: &[usize],
    ) -> Result<(Vec<f64>, bool)> {
        let mut scores = Vec::with_capacity(values.len());
        let mut outside = false;
        for value in values {
            let x: f64 = value.into();
            outside |= !(0.0..=1.0).contains(&x);
            scores.push(x);
        }
        // NaN is outside [0, 1], so only batches that have such a score need the search.
        if outside {
            check_no_nan(&scores, shape)?;
        }
        Ok((scores, outside))
    }
    fn check_widened(
        (scores, outside): (Vec<f64>, bool),
        shape: &[usize],
    ) -> Result<(Vec<f64>, bool)> {
        if outside {
            check_no_nan(&scores, shape)?;
        }
        Ok((scores, outside))
    }
    let shape = preds.shape();
    Some(match preds {
        Preds::Labels(_) => return None,
        Preds::F32(view) => match view.as_slice() {
            Some(values) => check_widened(widen_scores(values), shape),
            None => collect(view.iter().copied(), shape),
        },
        Preds::F64(view) => match view.as_slice() {
            Some(values) => check_widened(widen_scores(values), shape),
            None => collect(view.iter().copied(), shape),
        },
    })
}

/// Applies the sigmoid to every score.
pub(crate) fn apply_sigmoid(scores: &mut [f64]) {
    for x in scores.iter_mut() {
        *x = sigmoid(*x);
    }
}

/// Maps scores to probabilities as TorchMetrics does for binary and multilabel input: the
/// sigmoid when any score of the batch lies outside [0, 1], the scores themselves otherwise.
///
/// NOTE: the choice is made per batch, as in TorchMetrics, so a stream that mixes logits and
/// probabilities across batches gives values that depend on the batch split.
pub(crate) fn to_probabilities(scores: &mut [f64]) {
    if scores.iter().any(|&x| !(0.0..=1.0).contains(&x)) {
        apply_sigmoid(scores);
    }
}

/// Whether ignored positions take part in the choice between probabilities and logits.
///
/// TorchMetrics decides on every position for the binary stat scores and the multilabel task.
/// For the curves, the calibration error and the binary confusion matrix it drops ignored
/// positions first, so there a padded row with a score outside [0, 1] leaves the others as
/// probabilities.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LogitRule {
    EveryPosition,
    KeptPositions,
}

/// Returns whether a score outside [0, 1] sits at a position `i` for which `kept(i)` is true.
pub(crate) fn kept_score_outside(scores: &[f64], kept: impl Fn(usize) -> bool) -> bool {
    scores
        .iter()
        .enumerate()
        .any(|(index, x)| kept(index) && !(0.0..=1.0).contains(x))
}

/// A batch as per-position binary outcomes, for the binary and multilabel tasks.
///
/// Entries are laid out as `[sample][label][position]`.
#[derive(Debug, Clone)]
pub(crate) struct BinaryBatch {
    pub n_samples: usize,
    pub n_labels: usize,
    pub n_positions: usize,
    pub preds: Vec<bool>,
    /// `None` where the target equals `ignore_index`.
    pub target: Vec<Option<bool>>,
}

/// A batch as predicted classes and true classes, for the multiclass task.
#[derive(Debug, Clone)]
pub(crate) struct MulticlassBatch {
    pub n_samples: usize,
    pub n_positions: usize,
    pub top_k: usize,
    /// `top_k` predicted classes per position, best first, laid out as `[sample][position]`.
    pub preds: Vec<u32>,
    /// `None` where the target equals `ignore_index`.
    pub target: Vec<Option<u32>>,
}

/// A validated batch in the form every counting state reads.
#[derive(Debug, Clone)]
pub(crate) enum Formatted {
    Binary(BinaryBatch),
    Multiclass(MulticlassBatch),
}

/// Validates a batch against `config` and converts it into labels.
///
/// # Errors
///
/// Returns [`Error::InvalidInput`] naming `preds` or `target` when the shapes do not fit the
/// task, a label lies outside its range, or (for `Samplewise`) the input has no dimension beyond
/// the samples; [`Error::NonFinite`] for a NaN score.
pub(crate) fn format_batch(
    config: &TaskConfig,
    preds: &Preds<'_>,
    target: &ArrayViewD<'_, i64>,
) -> Result<Formatted> {
    format_batch_with(config, preds, target, LogitRule::EveryPosition)
}

/// As [`format_batch`], with binary scores taken as logits only when a score of a kept
/// position lies outside [0, 1], as TorchMetrics' binary confusion matrix does.
pub(crate) fn format_batch_kept_scores(
    config: &TaskConfig,
    preds: &Preds<'_>,
    target: &ArrayViewD<'_, i64>,
) -> Result<Formatted> {
    format_batch_with(config, preds, target, LogitRule::KeptPositions)
}

fn format_batch_with(
    config: &TaskConfig,
    preds: &Preds<'_>,
    target: &ArrayViewD<'_, i64>,
    rule: LogitRule,
) -> Result<Formatted> {
    if target.ndim() == 0 {
        return Err(Error::invalid_input(
            "target",
            "a 0-dimensional array has no samples; pass an array of shape (N, ...)",
        ));
    }
    match config.task() {
        Task::Binary => format_binary(config, preds, target, rule).map(Formatted::Binary),
        Task::Multilabel => format_multilabel(config, preds, target).map(Formatted::Binary),
        Task::Multiclass => format_multiclass(config, preds, target).map(Formatted::Multiclass),
    }
}

pub(crate) fn shape_text(shape: &[usize]) -> String {
    let parts: Vec<String> = shape.iter().map(ToString::to_string).collect();
    format!("({})", parts.join(", "))
}

fn check_samplewise_rank(
    config: &TaskConfig,
    target: &ArrayViewD<'_, i64>,
    min: usize,
) -> Result<()> {
    if config.multidim_average() == MultidimAverage::Samplewise && target.ndim() < min {
        return Err(Error::invalid_input(
            "target",
            format!(
                "multidim_average=\"samplewise\" needs at least {min} dimensions, got shape {}; \
                 pass (N, ..., extra) or use \"global\"",
                shape_text(target.shape())
            ),
        ));
    }
    Ok(())
}

/// Converts binary or multilabel targets, rejecting values other than 0, 1 and `ignore_index`.
pub(crate) fn binary_targets(
    config: &TaskConfig,
    target: &ArrayViewD<'_, i64>,
) -> Result<Vec<Option<bool>>> {
    binary_targets_as(config, target, |label| label)
}

/// Converts binary targets as [`binary_targets`] does, storing `code(label)` for each.
pub(crate) fn binary_targets_as<T: Send>(
    config: &TaskConfig,
    target: &ArrayViewD<'_, i64>,
    code: impl Fn(Option<bool>) -> T + Sync,
) -> Result<Vec<T>> {
    match target.as_slice() {
        Some(values) if all_binary(values, config.ignore_index()) => {
            // Valid labels convert without the per-label error handling, which vectorizes.
            let ignore = config.ignore_index().unwrap_or(0);
            let has_ignore = config.ignore_index().is_some();
            Ok(values
                .par_iter()
                .with_min_len(PARALLEL_CHUNK)
                .map(|&value| {
                    if has_ignore && value == ignore {
                        code(None)
                    } else {
                        code(Some(value == 1))
                    }
                })
                .collect())
        }
        Some(values) => convert_binary_targets(config, target.shape(), values.iter(), code),
        None => convert_binary_targets(config, target.shape(), target.iter(), code),
    }
}

/// Returns whether every label is 0, 1 or `ignore_index`, checking without a branch per label.
fn all_binary(values: &[i64], ignore_index: Option<i64>) -> bool {
    let ignore = ignore_index.unwrap_or(0);
    values.par_chunks(4096).all(|chunk| {
        let invalid = chunk.iter().fold(0u64, |invalid, &value| {
            let kept = ignore_index.is_none() || value != ignore;
            invalid | (u64::from(kept).wrapping_neg() & value as u64 & !1)
        });
        invalid == 0
    })
}

fn convert_binary_targets<'a, T>(
    config: &TaskConfig,
    shape: &[usize],
    values: impl ExactSizeIterator<Item = &'a i64>,
    code: impl Fn(Option<bool>) -> T,
) -> Result<Vec<T>> {
    let ignore_index = config.ignore_index();
    let mut converted = Vec::with_capacity(values.len());
    for (flat, &value) in values.enumerate() {
        let label = match value {
            _ if Some(value) == ignore_index => None,
            0 => Some(false),
            1 => Some(true),
            _ => {
                let allowed = match ignore_index {
                    Some(ignore) => format!("0, 1 or ignore_index = {ignore}"),
                    None => "0 or 1".to_owned(),
                };
                return Err(Error::invalid_input(
                    "target",
                    format!(
                        "value {value} at index {} is not a binary label; expected {allowed}",
                        position(shape, flat)
                    ),
                ));
            }
        };
        converted.push(code(label));
    }
    Ok(converted)
}

/// Converts binary or multilabel predictions: thresholded probabilities or 0/1 labels. With
/// `kept` targets, only positions whose target is kept decide whether the scores are logits.
fn binary_preds(
    config: &TaskConfig,
    preds: &Preds<'_>,
    kept: Option<&[Option<bool>]>,
) -> Result<Vec<bool>> {
    let threshold = config.threshold();
    match preds {
        Preds::Labels(labels) => {
            let mut converted = Vec::with_capacity(labels.len());
            for (flat, &value) in labels.iter().enumerate() {
                if value != 0 && value != 1 {
                    return Err(Error::invalid_input(
                        "preds",
                        format!(
                            "label {value} at index {} is not 0 or 1; pass 0/1 labels or \
                             float scores",
                            position(labels.shape(), flat)
                        ),
                    ));
                }
                converted.push(value == 1);
            }
            Ok(converted)
        }
        _ => {
            let mut scores = preds.scores().unwrap_or_default();
            check_no_nan(&scores, preds.shape())?;
            let counts = |index: usize| kept.is_none_or(|targets| targets[index].is_some());
            if kept_score_outside(&scores, counts) {
                apply_sigmoid(&mut scores);
            }
            Ok(scores.iter().map(|&p| p > threshold).collect())
        }
    }
}

pub(crate) fn check_same_shape(preds: &[usize], target: &[usize]) -> Result<()> {
    if preds != target {
        return Err(Error::invalid_input(
            "preds",
            format!(
                "shape {} differs from the target's shape {}; pass arrays of equal shape",
                shape_text(preds),
                shape_text(target)
            ),
        ));
    }
    Ok(())
}

fn format_binary(
    config: &TaskConfig,
    preds: &Preds<'_>,
    target: &ArrayViewD<'_, i64>,
    rule: LogitRule,
) -> Result<BinaryBatch> {
    check_same_shape(preds.shape(), target.shape())?;
    check_samplewise_rank(config, target, 2)?;

    let target_labels = binary_targets(config, target)?;
    let kept = match rule {
        LogitRule::EveryPosition => None,
        LogitRule::KeptPositions => Some(target_labels.as_slice()),
    };
    let pred_labels = binary_preds(config, preds, kept)?;
    let n_samples = target.shape()[0];
    Ok(BinaryBatch {
        n_samples,
        n_labels: 1,
        n_positions: target.shape()[1..].iter().product(),
        preds: pred_labels,
        target: target_labels,
    })
}

fn format_multilabel(
    config: &TaskConfig,
    preds: &Preds<'_>,
    target: &ArrayViewD<'_, i64>,
) -> Result<BinaryBatch> {
    check_same_shape(preds.shape(), target.shape())?;
    let shape = target.shape();
    if shape.len() < 2 || shape[1] != config.num_classes() {
        return Err(Error::invalid_input(
            "target",
            format!(
                "shape {} does not have num_labels = {} entries along dimension 1; pass \
                 arrays of shape (N, {}, ...)",
                shape_text(shape),
                config.num_classes(),
                config.num_classes()
            ),
        ));
    }
    check_samplewise_rank(config, target, 3)?;

    let target_labels = binary_targets(config, target)?;
    let pred_labels = binary_preds(config, preds, None)?;
    Ok(BinaryBatch {
        n_samples: shape[0],
        n_labels: shape[1],
        n_positions: shape[2..].iter().product(),
        preds: pred_labels,
        target: target_labels,
    })
}

/// Converts multiclass targets, rejecting indices outside `[0, num_classes)` that are not
/// `ignore_index`.
pub(crate) fn multiclass_targets(
    config: &TaskConfig,
    target: &ArrayViewD<'_, i64>,
) -> Result<Vec<Option<u32>>> {
    let num_classes = config.num_classes();
    let ignore_index = config.ignore_index();
    let mut converted = Vec::with_capacity(target.len());
    for (flat, &value) in target.iter().enumerate() {
        if Some(value) == ignore_index {
            converted.push(None);
            continue;
        }
        match usize::try_from(value) {
            Ok(class) if class < num_classes => converted.push(Some(class as u32)),
            _ => {
                let ignore = match ignore_index {
                    Some(ignore) => format!(" or equal ignore_index = {ignore}"),
                    None => String::new(),
                };
                return Err(Error::invalid_input(
                    "target",
                    format!(
                        "class index {value} at index {} is out of range; class indices run \
                         from 0 to num_classes - 1 = {}{ignore}",
                        position(target.shape(), flat),
                        num_classes - 1
                    ),
                ));
            }
        }
    }
    Ok(converted)
}

/// Returns the `top_k` highest-scoring classes of each position, best first.
///
/// For `top_k = 1` the lowest index among equal maxima wins, as `argmax` in numpy and torch.
/// For `top_k > 1` the higher index ranks first among equal scores, as scikit-learn's
/// `top_k_accuracy_score` (a stable ascending sort, reversed).
fn select_top_k(
    scores: &[f64],
    n_samples: usize,
    num_classes: usize,
    n_positions: usize,
    top_k: usize,
) -> Vec<u32> {
    let mut selected = Vec::with_capacity(n_samples * n_positions * top_k);
    let mut order: Vec<u32> = Vec::with_capacity(num_classes);
    for sample in 0..n_samples {
        let base = sample * num_classes * n_positions;
        for pos in 0..n_positions {
            let score = |class: u32| scores[base + class as usize * n_positions + pos];
            if top_k == 1 {
                let mut best = 0_u32;
                for class in 1..num_classes as u32 {
                    if score(class) > score(best) {
                        best = class;
                    }
                }
                selected.push(best);
                continue;
            }
            order.clear();
            order.extend(0..num_classes as u32);
            order.sort_by(|&a, &b| score(b).total_cmp(&score(a)).then(b.cmp(&a)));
            selected.extend_from_slice(&order[..top_k]);
        }
    }
    selected
}

fn format_multiclass(
    config: &TaskConfig,
    preds: &Preds<'_>,
    target: &ArrayViewD<'_, i64>,
) -> Result<MulticlassBatch> {
    let num_classes = config.num_classes();
    let target_shape = target.shape();
    let preds_shape = preds.shape();
    check_samplewise_rank(config, target, 2)?;
    let n_samples = target_shape[0];
    let n_positions: usize = target_shape[1..].iter().product();
    let target_labels = multiclass_targets(config, target)?;

    let pred_labels = match preds {
        Preds::Labels(labels) => {
            check_same_shape(preds_shape, target_shape)?;
            if config.top_k() > 1 {
                return Err(Error::invalid_input(
                    "preds",
                    format!(
                        "top_k = {} needs scores of shape (N, C, ...), but preds holds \
                         labels; pass float scores or use top_k = 1",
                        config.top_k()
                    ),
                ));
            }
            let mut converted = Vec::with_capacity(labels.len());
            for (flat, &value) in labels.iter().enumerate() {
                match usize::try_from(value) {
                    Ok(class) if class < num_classes => converted.push(class as u32),
                    _ => {
                        return Err(Error::invalid_input(
                            "preds",
                            format!(
                                "class index {value} at index {} is out of range; class \
                                 indices run from 0 to num_classes - 1 = {}",
                                position(labels.shape(), flat),
                                num_classes - 1
                            ),
                        ))
                    }
                }
            }
            converted
        }
        _ => {
            let fits = preds_shape.len() == target_shape.len() + 1
                && preds_shape[0] == target_shape[0]
                && preds_shape[2..] == target_shape[1..];
            if !fits {
                return Err(Error::invalid_input(
                    "preds",
                    format!(
                        "scores of shape {} do not fit targets of shape {}; pass scores of \
                         shape (N, num_classes, ...) for targets of shape (N, ...)",
                        shape_text(preds_shape),
                        shape_text(target_shape)
                    ),
                ));
            }
            if preds_shape[1] != num_classes {
                return Err(Error::invalid_input(
                    "preds",
                    format!(
                        "score vectors have {} entries along dimension 1, but num_classes is \
                         {num_classes}; pass scores of shape (N, {num_classes}, ...)",
                        preds_shape[1]
                    ),
                ));
            }
            let scores = preds.scores().unwrap_or_default();
            check_no_nan(&scores, preds_shape)?;
            select_top_k(&scores, n_samples, num_classes, n_positions, config.top_k())
        }
    };

    Ok(MulticlassBatch {
        n_samples,
        n_positions,
        top_k: config.top_k(),
        preds: pred_labels,
        target: target_labels,
    })
}

#[cfg(test)]
mod tests {
    use ndarray::{array, ArrayD, IxDyn};

    use super::*;

    fn dyn_i64(values: &[i64], shape: &[usize]) -> ArrayD<i64> {
        ArrayD::from_shape_vec(IxDyn(shape), values.to_vec()).unwrap()
    }

    #[test]
    fn position_unravels_row_major() {
        assert_eq!(position(&[2, 3], 5), "[1, 2]");
        assert_eq!(position(&[4], 3), "[3]");
    }

    #[test]
    fn binary_logits_pass_through_sigmoid() {
        let config = TaskConfig::binary();
        let preds = array![-1.0, 0.2, 3.0].into_dyn();
        let target = dyn_i64(&[0, 1, 1], &[3]);
        let Formatted::Binary(batch) =
            format_batch(&config, &Preds::F64(preds.view()), &target.view()).unwrap()
        else {
            panic!("binary batch expected");
        };
        // sigmoid(0.2) = 0.5498 > 0.5, so the middle prediction becomes positive.
        assert_eq!(batch.preds, vec![false, true, true]);
    }

    #[test]
    fn binary_probabilities_threshold_strictly() {
        let config = TaskConfig::binary().with_threshold(0.5);
        let preds = array![0.5_f32, 0.51, 0.0].into_dyn();
        let target = dyn_i64(&[0, 1, 0], &[3]);
        let Formatted::Binary(batch) =
            format_batch(&config, &Preds::F32(preds.view()), &target.view()).unwrap()
        else {
            panic!("binary batch expected");
        };
        assert_eq!(batch.preds, vec![false, true, false]);
    }

    #[test]
    fn multiclass_top_k_breaks_ties_by_index() {
        let config = TaskConfig::multiclass(4).with_top_k(2);
        let preds = array![[0.1, 0.3, 0.3, 0.3]].into_dyn();
        let target = dyn_i64(&[0], &[1]);
        let Formatted::Multiclass(batch) =
            format_batch(&config, &Preds::F64(preds.view()), &target.view()).unwrap()
        else {
            panic!("multiclass batch expected");
        };
        assert_eq!(batch.preds, vec![3, 2]);
    }

    #[test]
    fn multiclass_scores_extra_dims() {
        // preds (1, 2, 3): class scores per position along the last axis.
        let config = TaskConfig::multiclass(2);
        let preds = array![[[0.9, 0.2, 0.5], [0.1, 0.8, 0.5]]].into_dyn();
        let target = dyn_i64(&[0, 1, 1], &[1, 3]);
        let Formatted::Multiclass(batch) =
            format_batch(&config, &Preds::F64(preds.view()), &target.view()).unwrap()
        else {
            panic!("multiclass batch expected");
        };
        assert_eq!(batch.preds, vec![0, 1, 0]);
        assert_eq!(batch.n_positions, 3);
    }

    #[test]
    fn multiclass_target_out_of_range_names_index() {
        let config = TaskConfig::multiclass(3);
        let preds = dyn_i64(&[0, 1, 2], &[3]);
        let target = dyn_i64(&[0, 3, 1], &[3]);
        let error = format_batch(&config, &Preds::Labels(preds.view()), &target.view())
            .unwrap_err()
            .to_string();
        assert!(error.contains("`target`"), "{error}");
        assert!(error.contains("class index 3 at index [1]"), "{error}");
        assert!(error.contains("num_classes - 1 = 2"), "{error}");
    }

    #[test]
    fn multiclass_wrong_width_names_num_classes() {
        let config = TaskConfig::multiclass(3);
        let preds = array![[0.1, 0.2, 0.3, 0.4]].into_dyn();
        let target = dyn_i64(&[0], &[1]);
        let error = format_batch(&config, &Preds::F64(preds.view()), &target.view())
            .unwrap_err()
            .to_string();
        assert!(error.contains("4 entries along dimension 1"), "{error}");
        assert!(error.contains("num_classes is 3"), "{error}");
    }

    #[test]
    fn binary_target_outside_labels_rejected() {
        let config = TaskConfig::binary().with_ignore_index(-1);
        let preds = dyn_i64(&[0, 1], &[2]);
        let target = dyn_i64(&[2, -1], &[2]);
        let error = format_batch(&config, &Preds::Labels(preds.view()), &target.view())
            .unwrap_err()
            .to_string();
        assert!(error.contains("value 2 at index [0]"), "{error}");
        assert!(error.contains("ignore_index = -1"), "{error}");
    }

    #[test]
    fn nan_score_names_index() {
        let config = TaskConfig::multilabel(2);
        let preds = array![[0.1, 0.2], [f64::NAN, 0.3]].into_dyn();
        let target = dyn_i64(&[0, 1, 1, 0], &[2, 2]);
        let error = format_batch(&config, &Preds::F64(preds.view()), &target.view()).unwrap_err();
        assert!(
            matches!(&error, Error::NonFinite { argument, location, .. }
                if argument == "preds" && location == "index [1, 0]"),
            "{error}"
        );
    }

    #[test]
    fn samplewise_needs_extra_dimension() {
        let config = TaskConfig::binary().with_multidim_average(MultidimAverage::Samplewise);
        let preds = dyn_i64(&[0, 1], &[2]);
        let target = dyn_i64(&[0, 1], &[2]);
        let error = format_batch(&config, &Preds::Labels(preds.view()), &target.view())
            .unwrap_err()
            .to_string();
        assert!(error.contains("samplewise"), "{error}");
    }
}
