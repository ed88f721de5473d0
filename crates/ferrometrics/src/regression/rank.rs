//! Rank correlations: Spearman's rho and Kendall's tau, with ties handled as
//! `scipy.stats.spearmanr` and `scipy.stats.kendalltau`.
//!
//! Ranks depend on every sample, so these metrics keep all the data they are given: memory grows
//! with the number of samples, and merging appends the other state's samples.

use std::fmt;
use std::marker::PhantomData;
use std::str::FromStr;

use ndarray::{ArrayView, ArrayViewD, Dimension};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::batch::{check_num_outputs, per_output, to_columns, to_flat, Layout};
use super::correlation::outputs_of_shape;
use super::normal::normal_cdf;
use super::{PredsTarget, Real};
use crate::error::{Error, Result};
use crate::large_buffer::vec_with_capacity;
use crate::metric::{check_same_config, check_same_setting, Input, Metric, MetricInfo};
use crate::radix;
use crate::Value;

/// An integer type for doubled ranks, which lie in `2..=2 n` for `n` samples.
trait DoubledRank: Copy + Default + Send + Sync {
    /// Converts a doubled rank that the caller knows to fit in this type.
    fn from_doubled(rank: usize) -> Self;
    fn to_i64(self) -> i64;
}

/// Doubled ranks of fewer than 2^31 samples fit in 4 bytes, which halves the memory that the
/// random writes of the ranks and the final sums touch.
impl DoubledRank for u32 {
    fn from_doubled(rank: usize) -> Self {
        debug_assert!(rank <= u32::MAX as usize);
        rank as u32
    }

    fn to_i64(self) -> i64 {
        i64::from(self)
    }
}

impl DoubledRank for i64 {
    fn from_doubled(rank: usize) -> Self {
        rank as i64
    }

    fn to_i64(self) -> i64 {
        self
    }
}

/// The largest sample count whose doubled ranks, at most `2 n`, fit in a `u32`.
const MAX_LEN_FOR_U32_RANKS: usize = (u32::MAX / 2) as usize;

/// Returns twice the 1-based ranks of `values`, tied values getting the mean of their ranks, as
/// `2 * scipy.stats.rankdata(values, method="average")`. A mean rank is a multiple of 1/2, so
/// the doubled ranks are integers. `values` must not contain NaN, and `R` must hold `2 n`.
///
/// The values are ordered by a radix sort of their bit patterns, mapped so that unsigned order
/// is numeric order. Adding 0.0 first turns -0.0 into 0.0, so values equal under `==` get equal
/// keys. Low bits that are 0 in every value are dropped, such as the 29 low bits of `float32`
/// data widened to `float64`, and the keys are taken relative to the smallest one. When the
/// remaining key and the index fit in 64 bits together, they are sorted as one `u64`, which
/// halves the memory traffic.
fn doubled_average_ranks<F: Real, R: DoubledRank>(values: &[F]) -> Vec<R> {
    let n = values.len();
    if n == 0 {
        return Vec::new();
    }
    // One pass finds the low bits that are 0 in every value's bit pattern and the range of
    // keys. Those low bits are dropped from the keys: distinct values differ above them, so the
    // order is kept, and the shifted extremes are the extremes of the shifted keys.
    let (set_bits, min_key, max_key) =
        values
            .iter()
            .fold((0, u64::MAX, 0), |(bits, min, max), &value| {
                let value = value.to_f64() + 0.0;
                let key = radix::f64_order_key(value);
                (bits | value.to_bits(), min.min(key), max.max(key))
            });
    let common_zeros = set_bits.trailing_zeros().min(63);
    let key_of = |value: F| radix::f64_order_key(value.to_f64() + 0.0) >> common_zeros;
    let (min, max) = (min_key >> common_zeros, max_key >> common_zeros);
    let key_bits = u64::BITS - (max - min).leading_zeros();
    let compact_key = |value: F| key_of(value) - min;
    let index_bits = u64::BITS - (n as u64 - 1).leading_zeros();

    // Huge pages make the first writes to the ranks cheaper.
    let mut ranks: Vec<R> = vec_with_capacity(n);
    ranks.resize(n, R::default());
    if key_bits + index_bits <= u64::BITS {
        let index_mask = (1u64 << index_bits) - 1;
        let packed = radix::sorted_by_key_from(
            n,
            |index| compact_key(values[index]) << index_bits | index as u64,
            key_bits,
            |&item| item >> index_bits,
        );
        assign_average_ranks(
            &packed,
            |&item| item >> index_bits,
            |&item| (item & index_mask) as usize,
            &mut ranks,
        );
    } else {
        let keyed = radix::sorted_by_key_from(
            n,
            |index| (compact_key(values[index]), index),
            key_bits,
            |item| item.0,
        );
        assign_average_ranks(&keyed, |item| item.0, |item| item.1, &mut ranks);
    }
    ranks
}

/// Writes the doubled average rank of each item of `sorted`, ordered by `key`, to
/// `ranks[index(item)]`.
fn assign_average_ranks<T, R: DoubledRank>(
    sorted: &[T],
    key: impl Fn(&T) -> u64,
    index: impl Fn(&T) -> usize,
    ranks: &mut [R],
) {
    let mut start = 0;
    while start < sorted.len() {
        let run_key = key(&sorted[start]);
        let mut end = start + 1;
        while end < sorted.len() && key(&sorted[end]) == run_key {
            end += 1;
        }
        // Positions start..end hold ranks start + 1 ..= end, whose mean is half this.
        let rank = R::from_doubled(start + end + 1);
        for item in &sorted[start..end] {
            ranks[index(item)] = rank;
        }
        start = end;
    }
}

/// Samples of every output, one column of `preds` and one of `target` per output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Samples {
    num_outputs: usize,
    preds: Vec<Vec<f64>>,
    target: Vec<Vec<f64>>,
}

impl Samples {
    fn new(num_outputs: usize) -> Self {
        Self {
            num_outputs,
            preds: vec![Vec::new(); num_outputs],
            target: vec![Vec::new(); num_outputs],
        }
    }

    fn of_batch<F: Real>(
        preds: &ArrayViewD<'_, F>,
        target: &ArrayViewD<'_, F>,
        num_outputs: usize,
    ) -> Result<Self> {
        if num_outputs == 1 {
            // One copy into the state, where the multi-output path below copies twice.
            let (preds, target) = to_flat(preds, target, Layout::Outputs)?;
            let widen = |values: &[F]| values.iter().map(|x| x.to_f64()).collect();
            return Ok(Self {
                num_outputs,
                preds: vec![widen(&preds)],
                target: vec![widen(&target)],
            });
        }
        let (preds, target) = to_columns(preds, target, num_outputs, Layout::Outputs)?;
        Ok(Self {
            num_outputs,
            preds: preds.columns().into_iter().map(|c| c.to_vec()).collect(),
            target: target.columns().into_iter().map(|c| c.to_vec()).collect(),
        })
    }

    fn merge(&mut self, metric: &str, other: &Samples) -> Result<()> {
        check_same_config(metric, "num_outputs", &self.num_outputs, &other.num_outputs)?;
        for (column, other) in self.preds.iter_mut().zip(&other.preds) {
            column.extend_from_slice(other);
        }
        for (column, other) in self.target.iter_mut().zip(&other.target) {
            column.extend_from_slice(other);
        }
        Ok(())
    }

    /// Returns the number of samples, checking that there are at least 2.
    fn check_two_samples(&self, metric: &str) -> Result<usize> {
        check_two_samples(metric, self.preds.first().map_or(0, Vec::len))
    }

    fn outputs(&self) -> impl Iterator<Item = (&[f64], &[f64])> {
        self.preds
            .iter()
            .zip(&self.target)
            .map(|(p, t)| (p.as_slice(), t.as_slice()))
    }
}

/// Returns `count`, checking that it is at least 2.
fn check_two_samples(metric: &str, count: usize) -> Result<usize> {
    if count < 2 {
        return Err(Error::not_enough_data(
            metric,
            format!("a rank correlation needs at least 2 samples, but {count} were seen"),
        ));
    }
    Ok(count)
}

/// The largest sample count whose doubled rank deviations, at most `n` in size, have products
/// below `2^62` and can be multiplied in `i64`.
const MAX_LEN_FOR_I64_PRODUCTS: usize = 1 << 31;

/// Samples per parallel task of the rank deviation sums.
const DEVIATION_CHUNK: usize = 1 << 16;

/// Computes the sums of `da * da`, `db * db` and `da * db` over the deviations of the doubled
/// ranks `a` and `b` from `doubled_mean`, the doubled mean rank `n + 1` of all `n` samples.
fn deviation_sums<R: DoubledRank>(a: &[R], b: &[R], doubled_mean: i64) -> [i128; 3] {
    let (mut sum_aa, mut sum_bb, mut sum_ab) = (0i128, 0i128, 0i128);
    // The deviations are at most n = doubled_mean - 1 in size.
    if doubled_mean as usize - 1 <= MAX_LEN_FOR_I64_PRODUCTS {
        for (&ai, &bi) in a.iter().zip(b) {
            let (da, db) = (ai.to_i64() - doubled_mean, bi.to_i64() - doubled_mean);
            sum_aa += i128::from(da * da);
            sum_bb += i128::from(db * db);
            sum_ab += i128::from(da * db);
        }
    } else {
        for (&ai, &bi) in a.iter().zip(b) {
            let da = i128::from(ai.to_i64() - doubled_mean);
            let db = i128::from(bi.to_i64() - doubled_mean);
            sum_aa += da * da;
            sum_bb += db * db;
            sum_ab += da * db;
        }
    }
    [sum_aa, sum_bb, sum_ab]
}

/// Ranks `preds` and `target`, one on each of two threads when available, and returns the
/// [`deviation_sums`] of their doubled ranks.
fn doubled_rank_sums<F: Real, R: DoubledRank>(preds: &[F], target: &[F]) -> [i128; 3] {
    let (a, b) = rayon::join(
        || doubled_average_ranks::<F, R>(preds),
        || doubled_average_ranks::<F, R>(target),
    );
    let doubled_mean = a.len() as i64 + 1;
    // Integer sums are exact in any order, so the chunks may be added on any thread.
    a.par_chunks(DEVIATION_CHUNK)
        .zip(b.par_chunks(DEVIATION_CHUNK))
        .map(|(a, b)| deviation_sums(a, b, doubled_mean))
        .reduce(|| [0; 3], |x, y| [x[0] + y[0], x[1] + y[1], x[2] + y[2]])
}

/// Returns Spearman's rho of one output: Pearson's r of the average ranks, rounded as scipy's.
///
/// The ranks of `n` samples sum to `n * (n + 1) / 2` whatever the ties, so their mean is exactly
/// `(n + 1) / 2` and each deviation from it is a multiple of 1/2. With doubled ranks the
/// deviations are integers and the sums of their products are exact in 128 bits. scipy's
/// `spearmanr` computes these sums exactly too (the products of half-integers add without
/// rounding while below 2^53), then `np.corrcoef` multiplies them by `1 / (n - 1)` and divides
/// the co-moment by the target's and then by the prediction's standard deviation. The same
/// steps here give the same double, 1 ulp included.
fn spearman<F: Real>(preds: &[F], target: &[F]) -> f64 {
    let n = preds.len();
    let [sum_aa, sum_bb, sum_ab] = if n <= MAX_LEN_FOR_U32_RANKS {
        doubled_rank_sums::<F, u32>(preds, target)
    } else {
        doubled_rank_sums::<F, i64>(preds, target)
    };
    if sum_aa == 0 || sum_bb == 0 {
        return f64::NAN;
    }
    // The doubled deviations make each sum 4 times the true one; dividing by 4 is exact.
    let scale = 1.0 / (n - 1) as f64;
    let std_a = (sum_aa as f64 / 4.0 * scale).sqrt();
    let std_b = (sum_bb as f64 / 4.0 * scale).sqrt();
    let r = sum_ab as f64 / 4.0 * scale / std_b / std_a;
    r.clamp(-1.0, 1.0)
}

fn spearman_of(samples: &Samples) -> Result<Value> {
    samples.check_two_samples("SpearmanCorrCoef")?;
    Ok(per_output(
        samples.outputs().map(|(p, t)| spearman(p, t)).collect(),
    ))
}

/// Computes Spearman's rank correlation coefficient per output: Pearson's r of the ranks of
/// `preds` and `target`, tied values sharing the mean of their ranks, as
/// `scipy.stats.spearmanr`.
///
/// An output whose `preds` or `target` is constant has constant ranks, so rho is NaN, as scipy
/// returns. Inputs of shape `(N,)` give a scalar, `(N, d)` one coefficient per column.
///
/// # Example
///
/// TorchMetrics' documented example, 1.0:
///
/// ```
/// use ferrometrics::regression::spearman_corrcoef;
/// use ndarray::array;
///
/// let preds = array![2.5, 0.0, 2.0, 8.0];
/// let target = array![3.0, -0.5, 2.0, 7.0];
/// let rho = spearman_corrcoef(preds.view(), target.view())?.as_scalar().unwrap();
/// assert!((rho - 1.0).abs() < 1e-15);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
///
/// # Errors
///
/// Returns an error naming the argument if the shapes differ or are not `(N,)` or `(N, d)`, or if
/// a value is NaN or infinite, and [`Error::NotEnoughData`] for fewer than 2 samples.
pub fn spearman_corrcoef<F: Real, D: Dimension>(
    preds: ArrayView<'_, F, D>,
    target: ArrayView<'_, F, D>,
) -> Result<Value> {
    let (preds, target) = (preds.into_dyn(), target.into_dyn());
    let num_outputs = outputs_of_shape(preds.shape());
    if num_outputs == 1 {
        // The ranks are taken from the input itself: a copy into a state would cost two more
        // passes over memory and the page faults of fresh buffers.
        let (preds, target) = to_flat(&preds, &target, Layout::Outputs)?;
        check_two_samples("SpearmanCorrCoef", preds.len())?;
        return Ok(Value::Scalar(spearman(&preds, &target)));
    }
    spearman_of(&Samples::of_batch(&preds, &target, num_outputs)?)
}

/// Spearman's rank correlation coefficient over every batch seen, as TorchMetrics'
/// `SpearmanCorrCoef`. See [`spearman_corrcoef`] for the definition.
///
/// The state keeps every sample, because ranks depend on all the data, so memory grows with the
/// number of samples. Merging appends the other state's samples, and the value does not depend on
/// their order.
///
/// # Example
///
/// ```
/// use ferrometrics::regression::SpearmanCorrCoef;
/// use ferrometrics::Metric;
/// use ndarray::array;
///
/// let mut metric = SpearmanCorrCoef::<f64>::new(1)?;
/// metric.update((array![1.0, 2.0].into_dyn().view(), array![10.0, 30.0].into_dyn().view()))?;
/// metric.update((array![3.0].into_dyn().view(), array![20.0].into_dyn().view()))?;
/// assert!((metric.compute()?.as_scalar().unwrap() - 0.5).abs() < 1e-15);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct SpearmanCorrCoef<F: Real = f64> {
    samples: Samples,
    #[serde(skip)]
    element: PhantomData<F>,
}

impl<F: Real> SpearmanCorrCoef<F> {
    /// Creates an empty metric for `num_outputs` outputs.
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::regression::SpearmanCorrCoef;
    ///
    /// assert!(SpearmanCorrCoef::<f64>::new(0).is_err());
    /// ```
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidArgument`] naming `num_outputs` if it is 0 or above 2^24.
    pub fn new(num_outputs: usize) -> Result<Self> {
        check_num_outputs(num_outputs)?;
        Ok(Self {
            samples: Samples::new(num_outputs),
            element: PhantomData,
        })
    }
}

impl<F: Real> Default for SpearmanCorrCoef<F> {
    fn default() -> Self {
        Self::new(1).expect("one output is valid")
    }
}

impl<F: Real> Metric for SpearmanCorrCoef<F> {
    type Kind = PredsTarget<F>;
    type Output = Value;

    fn info(&self) -> MetricInfo {
        MetricInfo {
            name: "SpearmanCorrCoef",
            higher_is_better: None,
            is_differentiable: false,
            lower_bound: -1.0,
            upper_bound: 1.0,
        }
    }

    /// Appends the batch's samples.
    ///
    /// # Errors
    ///
    /// Returns an error naming the argument, and changes nothing, if the shapes differ or do not
    /// match `num_outputs`, or if a value is NaN or infinite.
    fn update(&mut self, (preds, target): Input<'_, Self>) -> Result<()> {
        let batch = Samples::of_batch(&preds, &target, self.samples.num_outputs)?;
        self.samples.merge("SpearmanCorrCoef", &batch)
    }

    fn compute(&self) -> Result<Value> {
        spearman_of(&self.samples)
    }

    fn reset(&mut self) {
        self.samples = Samples::new(self.samples.num_outputs);
    }

    fn merge(&mut self, other: &Self) -> Result<()> {
        self.samples.merge("SpearmanCorrCoef", &other.samples)
    }
}

/// The variant of Kendall's tau, as TorchMetrics' `variant` argument.
///
/// # Example
///
/// ```
/// use ferrometrics::regression::KendallVariant;
///
/// assert_eq!("c".parse::<KendallVariant>()?, KendallVariant::C);
/// assert_eq!(KendallVariant::default().to_string(), "b");
/// # Ok::<(), ferrometrics::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum KendallVariant {
    /// Tau-a, `(C - D) / (n (n - 1) / 2)`, which ignores ties (`"a"`).
    A,
    /// Tau-b, `(C - D) / sqrt((n0 - n1) (n0 - n2))`, corrected for ties on either side (`"b"`).
    #[default]
    B,
    /// Tau-c (Stuart's), `2 (C - D) / (n^2 (m - 1) / m)` with `m` the smaller number of distinct
    /// values, for rectangular tables (`"c"`).
    C,
}

impl FromStr for KendallVariant {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        match text {
            "a" => Ok(KendallVariant::A),
            "b" => Ok(KendallVariant::B),
            "c" => Ok(KendallVariant::C),
            other => Err(Error::invalid_argument(
                "variant",
                format!("{other:?} is not a variant of Kendall's tau; pass \"a\", \"b\" or \"c\""),
            )),
        }
    }
}

impl fmt::Display for KendallVariant {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self {
            KendallVariant::A => "a",
            KendallVariant::B => "b",
            KendallVariant::C => "c",
        })
    }
}

/// The alternative hypothesis of a test of Kendall's tau, as TorchMetrics' `alternative`
/// argument.
///
/// # Example
///
/// ```
/// use ferrometrics::regression::Alternative;
///
/// assert_eq!("greater".parse::<Alternative>()?, Alternative::Greater);
/// assert_eq!(Alternative::default().to_string(), "two-sided");
/// # Ok::<(), ferrometrics::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Alternative {
    /// The correlation is nonzero (`"two-sided"`).
    #[default]
    TwoSided,
    /// The correlation is negative (`"less"`).
    Less,
    /// The correlation is positive (`"greater"`).
    Greater,
}

impl FromStr for Alternative {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        match text {
            "two-sided" => Ok(Alternative::TwoSided),
            "less" => Ok(Alternative::Less),
            "greater" => Ok(Alternative::Greater),
            other => Err(Error::invalid_argument(
                "alternative",
                format!(
                    "{other:?} is not an alternative hypothesis; pass \"two-sided\", \"less\" or \
                     \"greater\""
                ),
            )),
        }
    }
}

impl fmt::Display for Alternative {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self {
            Alternative::TwoSided => "two-sided",
            Alternative::Less => "less",
            Alternative::Greater => "greater",
        })
    }
}

/// Tie statistics of one variable: `sum t (t - 1) / 2`, `sum t (t - 1) (t - 2)` and
/// `sum t (t - 1) (2t + 5)` over groups of `t` tied values, and the number of distinct values.
#[derive(Debug, Default)]
struct Ties {
    pairs: f64,
    cubic: f64,
    variance_term: f64,
    distinct: usize,
}

/// Returns the tie statistics of sorted `values`.
fn ties_of_sorted(values: &[f64]) -> Ties {
    let mut ties = Ties::default();
    let mut start = 0;
    while start < values.len() {
        let mut end = start + 1;
        while end < values.len() && values[end] == values[start] {
            end += 1;
        }
        let t = (end - start) as f64;
        ties.pairs += t * (t - 1.0) / 2.0;
        ties.cubic += t * (t - 1.0) * (t - 2.0);
        ties.variance_term += t * (t - 1.0) * (2.0 * t + 5.0);
        ties.distinct += 1;
        start = end;
    }
    ties
}

/// Sorts `values` and returns the number of inversions, pairs `i < j` with
/// `values[i] > values[j]`, by a bottom-up merge sort in O(n log n) with one scratch buffer.
fn sort_counting_inversions(values: &mut Vec<f64>) -> u64 {
    let length = values.len();
    let mut scratch = vec![0.0; length];
    let mut inversions = 0;
    let mut width = 1;
    while width < length {
        for start in (0..length).step_by(2 * width) {
            let middle = (start + width).min(length);
            let end = (start + 2 * width).min(length);
            let (mut left, mut right) = (start, middle);
            for slot in &mut scratch[start..end] {
                if right < end && (left == middle || values[right] < values[left]) {
                    // Every remaining element of the left run is greater than this right one.
                    inversions += (middle - left) as u64;
                    *slot = values[right];
                    right += 1;
                } else {
                    *slot = values[left];
                    left += 1;
                }
            }
        }
        std::mem::swap(values, &mut scratch);
        width *= 2;
    }
    inversions
}

/// Kendall statistics of one output: `C - D` and the tie statistics of both variables.
struct KendallCounts {
    n: f64,
    concordant_minus_discordant: f64,
    preds_ties: Ties,
    target_ties: Ties,
}

/// Counts `C - D` in O(n log n) with Knight's method: sort by `(preds, target)`, count the
/// inversions of `target` that a merge sort removes, and correct for ties.
fn kendall_counts(preds: &[f64], target: &[f64]) -> KendallCounts {
    // Adding 0.0 turns -0.0 into 0.0, so that values equal under `==` also sort together.
    let mut pairs: Vec<(f64, f64)> = preds
        .iter()
        .zip(target)
        .map(|(p, t)| (p + 0.0, t + 0.0))
        .collect();
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));

    let sorted_preds: Vec<f64> = pairs.iter().map(|pair| pair.0).collect();
    let preds_ties = ties_of_sorted(&sorted_preds);
    let mut joint_ties = 0.0;
    let mut start = 0;
    while start < pairs.len() {
        let mut end = start + 1;
        while end < pairs.len() && pairs[end] == pairs[start] {
            end += 1;
        }
        let t = (end - start) as f64;
        joint_ties += t * (t - 1.0) / 2.0;
        start = end;
    }

    // Within a run of tied preds the targets are sorted, so only discordant pairs are inverted.
    let mut targets: Vec<f64> = pairs.iter().map(|pair| pair.1).collect();
    let discordant = sort_counting_inversions(&mut targets) as f64;
    let target_ties = ties_of_sorted(&targets);

    let n = preds.len() as f64;
    let total_pairs = n * (n - 1.0) / 2.0;
    KendallCounts {
        n,
        concordant_minus_discordant: total_pairs - preds_ties.pairs - target_ties.pairs
            + joint_ties
            - 2.0 * discordant,
        preds_ties,
        target_ties,
    }
}

impl KendallCounts {
    fn tau(&self, variant: KendallVariant) -> f64 {
        let n = self.n;
        let total_pairs = n * (n - 1.0) / 2.0;
        let s = self.concordant_minus_discordant;
        let tau = match variant {
            KendallVariant::A => s / total_pairs,
            KendallVariant::B => {
                let preds_pairs = total_pairs - self.preds_ties.pairs;
                let target_pairs = total_pairs - self.target_ties.pairs;
                if preds_pairs == 0.0 || target_pairs == 0.0 {
                    return f64::NAN;
                }
                s / preds_pairs.sqrt() / target_pairs.sqrt()
            }
            KendallVariant::C => {
                let m = self.preds_ties.distinct.min(self.target_ties.distinct) as f64;
                if m < 2.0 {
                    return f64::NAN;
                }
                2.0 * s / (n * n * (m - 1.0) / m)
            }
        };
        tau.clamp(-1.0, 1.0)
    }

    /// Returns the asymptotic p-value of `C - D` under independence, with the tie-corrected
    /// variance of `scipy.stats.kendalltau(method="asymptotic")` for variants b and c and the
    /// tie-free variance `n (n - 1) (2n + 5) / 18` for variant a.
    fn p_value(&self, variant: KendallVariant, alternative: Alternative) -> f64 {
        let n = self.n;
        let m = n * (n - 1.0);
        let variance = match variant {
            KendallVariant::A => m * (2.0 * n + 5.0) / 18.0,
            KendallVariant::B | KendallVariant::C => {
                let (x, y) = (&self.preds_ties, &self.target_ties);
                let cubic = if n > 2.0 {
                    x.cubic * y.cubic / (9.0 * m * (n - 2.0))
                } else {
                    0.0
                };
                (m * (2.0 * n + 5.0) - x.variance_term - y.variance_term) / 18.0
                    + 2.0 * x.pairs * y.pairs / m
                    + cubic
            }
        };
        let z = self.concordant_minus_discordant / variance.sqrt();
        match alternative {
            Alternative::TwoSided => 2.0 * normal_cdf(-z.abs()),
            Alternative::Less => normal_cdf(z),
            Alternative::Greater => normal_cdf(-z),
        }
    }
}

fn kendall_of(
    samples: &Samples,
    variant: KendallVariant,
    test: Option<Alternative>,
) -> Result<Value> {
    samples.check_two_samples("KendallRankCorrCoef")?;
    let counts: Vec<KendallCounts> = samples
        .outputs()
        .map(|(p, t)| kendall_counts(p, t))
        .collect();
    let tau = per_output(counts.iter().map(|c| c.tau(variant)).collect());
    let Some(alternative) = test else {
        return Ok(tau);
    };

    let p_value = per_output(
        counts
            .iter()
            .map(|c| c.p_value(variant, alternative))
            .collect(),
    );
    Ok(Value::Map(vec![
        ("tau".to_owned(), tau),
        ("p_value".to_owned(), p_value),
    ]))
}

/// Computes Kendall's rank correlation coefficient per output, in O(n log n) by Knight's merge
/// sort method, with ties handled as `scipy.stats.kendalltau`.
///
/// `C` and `D` count concordant and discordant pairs, `n0 = n (n - 1) / 2`, and `n1`, `n2` count
/// pairs tied in `preds` and in `target`. [`KendallVariant`] gives each variant's formula. Tau-a
/// follows Kendall's definition, `(C - D) / n0`. An output with constant `preds` or `target`
/// gives NaN for tau-b and tau-c, as scipy.
///
/// With `t_test`, the value is a map with entries `"tau"` and `"p_value"`, the p-value of
/// `alternative` from the normal approximation of `C - D` with scipy's tie-corrected variance, as
/// `scipy.stats.kendalltau(method="asymptotic")` and TorchMetrics. Without it the value is tau.
///
/// # Example
///
/// TorchMetrics' documented example, 0.3333 with p-value 0.4969:
///
/// ```
/// use ferrometrics::regression::{kendall_rank_corrcoef, Alternative, KendallVariant};
/// use ndarray::array;
///
/// let preds = array![2.5, 0.0, 2.0, 8.0];
/// let target = array![3.0, -0.5, 2.0, 1.0];
/// let value = kendall_rank_corrcoef(
///     preds.view(), target.view(), KendallVariant::B, true, Alternative::TwoSided,
/// )?;
/// let entries = value.as_map().unwrap();
/// assert!((entries[0].1.as_scalar().unwrap() - 1.0 / 3.0).abs() < 1e-15);
/// assert!((entries[1].1.as_scalar().unwrap() - 0.496_905_847_564_767_97).abs() < 1e-14);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
///
/// # Errors
///
/// As [`spearman_corrcoef`].
pub fn kendall_rank_corrcoef<F: Real, D: Dimension>(
    preds: ArrayView<'_, F, D>,
    target: ArrayView<'_, F, D>,
    variant: KendallVariant,
    t_test: bool,
    alternative: Alternative,
) -> Result<Value> {
    let (preds, target) = (preds.into_dyn(), target.into_dyn());
    let num_outputs = outputs_of_shape(preds.shape());
    let samples = Samples::of_batch(&preds, &target, num_outputs)?;
    kendall_of(&samples, variant, t_test.then_some(alternative))
}

/// Kendall's rank correlation coefficient over every batch seen, as TorchMetrics'
/// `KendallRankCorrCoef`. See [`kendall_rank_corrcoef`] for the definition and the test.
///
/// The state keeps every sample, because concordance depends on all pairs, so memory grows with
/// the number of samples. Merging appends the other state's samples, and the value does not
/// depend on their order.
///
/// # Example
///
/// ```
/// use ferrometrics::regression::{Alternative, KendallRankCorrCoef, KendallVariant};
/// use ferrometrics::Metric;
/// use ndarray::array;
///
/// let mut metric =
///     KendallRankCorrCoef::<f64>::new(KendallVariant::A, false, Alternative::TwoSided, 1)?;
/// metric.update((array![1.0, 2.0].into_dyn().view(), array![1.0, 3.0].into_dyn().view()))?;
/// metric.update((array![3.0].into_dyn().view(), array![2.0].into_dyn().view()))?;
/// // Pairs (1, 2) and (1, 3) are concordant, (2, 3) is discordant.
/// assert!((metric.compute()?.as_scalar().unwrap() - 1.0 / 3.0).abs() < 1e-15);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct KendallRankCorrCoef<F: Real = f64> {
    variant: KendallVariant,
    t_test: bool,
    alternative: Alternative,
    samples: Samples,
    #[serde(skip)]
    element: PhantomData<F>,
}

impl<F: Real> KendallRankCorrCoef<F> {
    /// Creates an empty metric of `variant` for `num_outputs` outputs that also returns the
    /// p-value of `alternative` if `t_test`.
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::regression::{Alternative, KendallRankCorrCoef, KendallVariant};
    ///
    /// let metric = KendallRankCorrCoef::<f32>::new(KendallVariant::B, true, Alternative::Less, 2);
    /// assert!(metric.is_ok());
    /// ```
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidArgument`] naming `num_outputs` if it is 0 or above 2^24.
    pub fn new(
        variant: KendallVariant,
        t_test: bool,
        alternative: Alternative,
        num_outputs: usize,
    ) -> Result<Self> {
        check_num_outputs(num_outputs)?;
        Ok(Self {
            variant,
            t_test,
            alternative,
            samples: Samples::new(num_outputs),
            element: PhantomData,
        })
    }
}

impl<F: Real> Default for KendallRankCorrCoef<F> {
    fn default() -> Self {
        Self::new(KendallVariant::B, false, Alternative::TwoSided, 1).expect("one output is valid")
    }
}

impl<F: Real> Metric for KendallRankCorrCoef<F> {
    type Kind = PredsTarget<F>;
    type Output = Value;

    fn info(&self) -> MetricInfo {
        MetricInfo {
            name: "KendallRankCorrCoef",
            higher_is_better: None,
            is_differentiable: false,
            lower_bound: -1.0,
            upper_bound: 1.0,
        }
    }

    /// Appends the batch's samples.
    ///
    /// # Errors
    ///
    /// As [`SpearmanCorrCoef`]'s `update`.
    fn update(&mut self, (preds, target): Input<'_, Self>) -> Result<()> {
        let batch = Samples::of_batch(&preds, &target, self.samples.num_outputs)?;
        self.samples.merge("KendallRankCorrCoef", &batch)
    }

    fn compute(&self) -> Result<Value> {
        let test = self.t_test.then_some(self.alternative);
        kendall_of(&self.samples, self.variant, test)
    }

    fn reset(&mut self) {
        self.samples = Samples::new(self.samples.num_outputs);
    }

    fn merge(&mut self, other: &Self) -> Result<()> {
        let name = "KendallRankCorrCoef";
        check_same_setting(name, "variant", &self.variant, &other.variant)?;
        check_same_setting(name, "t_test", &self.t_test, &other.t_test)?;
        check_same_setting(name, "alternative", &self.alternative, &other.alternative)?;
        self.samples.merge(name, &other.samples)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Returns the doubled average ranks by a comparison sort, as a reference.
    fn reference_ranks(values: &[f64]) -> Vec<i64> {
        values
            .iter()
            .map(|&value| {
                let below = values.iter().filter(|&&other| other < value).count();
                let equal = values.iter().filter(|&&other| other == value).count();
                (2 * below + equal + 1) as i64
            })
            .collect()
    }

    fn pseudo_random(n: usize, seed: u64) -> Vec<f64> {
        let mut state = seed;
        (0..n)
            .map(|_| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
            })
            .collect()
    }

    #[test]
    fn ranks_of_widened_f32_with_ties() {
        // Widened float32 values drop to short keys, so key and index are packed into a u64.
        let values: Vec<f64> = pseudo_random(3000, 1)
            .into_iter()
            .map(|x| f64::from((x * 200.0).round() as f32 / 7.0))
            .collect();

        assert_eq!(
            doubled_average_ranks::<f64, i64>(&values),
            reference_ranks(&values)
        );
    }

    #[test]
    fn ranks_of_full_precision_f64() {
        // 64-bit keys leave no room for the index, so (key, index) pairs are sorted.
        let mut values = pseudo_random(3000, 2);
        values[10] = values[20];
        values[30] = -1e300;
        values[40] = 1e-300;

        assert_eq!(
            doubled_average_ranks::<f64, i64>(&values),
            reference_ranks(&values)
        );
    }

    /// Returns the doubled average ranks by a comparison sort, for inputs too long for
    /// [`reference_ranks`].
    fn sorted_reference_ranks(values: &[f64]) -> Vec<i64> {
        let mut order: Vec<usize> = (0..values.len()).collect();
        order.sort_by(|&i, &j| values[i].total_cmp(&values[j]));
        let mut ranks = vec![0; values.len()];
        let mut start = 0;
        while start < order.len() {
            let mut end = start + 1;
            while end < order.len() && values[order[end]] == values[order[start]] {
                end += 1;
            }
            for &index in &order[start..end] {
                ranks[index] = (start + end + 1) as i64;
            }
            start = end;
        }
        ranks
    }

    #[test]
    fn ranks_of_long_inputs_as_u32_and_i64() {
        // Long enough for the radix sort's split by top digit: the widened float32 cubes crowd
        // into a few exponents, and full float64 values use the unpacked path.
        let widened: Vec<f64> = pseudo_random(200_000, 3)
            .into_iter()
            .map(|x| f64::from((x * x * x * 1e4) as f32))
            .collect();
        let mut full = pseudo_random(200_000, 4);
        full[5] = full[6];
        full[7] = -0.0;
        full[8] = 0.0;
        for (name, values) in [("widened", widened), ("full", full)] {
            let expected = sorted_reference_ranks(&values);
            let as_u32: Vec<i64> = doubled_average_ranks::<f64, u32>(&values)
                .into_iter()
                .map(i64::from)
                .collect();
            assert_eq!(as_u32, expected, "{name} as u32");
            assert_eq!(
                doubled_average_ranks::<f64, i64>(&values),
                expected,
                "{name} as i64"
            );
        }
    }

    #[test]
    fn spearman_same_for_both_rank_types() {
        let preds = pseudo_random(100_000, 5);
        let target: Vec<f64> = preds
            .iter()
            .zip(pseudo_random(100_000, 6))
            .map(|(p, noise)| f64::from((p + noise) as f32))
            .collect();

        let narrow = doubled_rank_sums::<f64, u32>(&preds, &target);
        let wide = doubled_rank_sums::<f64, i64>(&preds, &target);

        assert_eq!(narrow, wide);
        assert!(narrow[2] > 0);
    }

    #[test]
    fn ranks_tie_signed_zeros() {
        let values = [0.0, -0.0, 1.0, -1.0, 0.0];

        assert_eq!(
            doubled_average_ranks::<f64, u32>(&values),
            vec![6, 6, 10, 2, 6]
        );
    }

    #[test]
    fn ranks_of_constant_and_single_values() {
        assert_eq!(doubled_average_ranks::<f64, u32>(&[2.5; 4]), vec![5; 4]);
        assert_eq!(doubled_average_ranks::<f64, i64>(&[-3.0]), vec![2]);
        assert!(doubled_average_ranks::<f64, u32>(&[]).is_empty());
    }
}
