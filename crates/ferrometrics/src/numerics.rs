//! Shared numerics: the floating-point input trait, compensated and pairwise summation, safe
//! division and entropy from counts.

use std::fmt::{Debug, Display};

use serde::{Deserialize, Serialize};

/// A floating-point input type, `f32` or `f64`. Metrics accumulate in `f64` whatever the input.
///
/// # Example
///
/// ```
/// use ferrometrics::numerics::Real;
///
/// assert_eq!(0.5_f32.to_f64(), 0.5);
/// assert!(!f64::NAN.is_finite_value());
/// ```
pub trait Real: Copy + Send + Sync + PartialOrd + Debug + Display + Default + 'static {
    /// Converts the value to `f64` without loss.
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::numerics::Real;
    ///
    /// assert_eq!(1.5_f32.to_f64(), 1.5);
    /// ```
    fn to_f64(self) -> f64;

    /// Converts an `f64` to this type, rounding to nearest.
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::numerics::Real;
    ///
    /// assert_eq!(<f32 as Real>::from_f64(0.25), 0.25_f32);
    /// ```
    fn from_f64(value: f64) -> Self;

    /// Returns `true` if the value is neither NaN nor infinite.
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::numerics::Real;
    ///
    /// assert!(1.0_f64.is_finite_value());
    /// assert!(!f32::INFINITY.is_finite_value());
    /// ```
    fn is_finite_value(self) -> bool;
}

impl Real for f32 {
    fn to_f64(self) -> f64 {
        f64::from(self)
    }

    fn from_f64(value: f64) -> Self {
        value as f32
    }

    fn is_finite_value(self) -> bool {
        self.is_finite()
    }
}

impl Real for f64 {
    fn to_f64(self) -> f64 {
        self
    }

    fn from_f64(value: f64) -> Self {
        value
    }

    fn is_finite_value(self) -> bool {
        self.is_finite()
    }
}

/// A running sum with Neumaier's compensation, whose error does not grow with the number of
/// terms (about one rounding of the result, unless the terms cancel heavily).
///
/// # Example
///
/// ```
/// use ferrometrics::numerics::CompensatedSum;
///
/// let mut sum = CompensatedSum::new();
/// for x in [1e16, 1.0, -1e16] {
///     sum.add(x);
/// }
/// assert_eq!(sum.value(), 1.0);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct CompensatedSum {
    sum: f64,
    compensation: f64,
}

impl CompensatedSum {
    /// Creates a sum of zero.
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::numerics::CompensatedSum;
    ///
    /// assert_eq!(CompensatedSum::new().value(), 0.0);
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one term.
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::numerics::CompensatedSum;
    ///
    /// let mut sum = CompensatedSum::new();
    /// sum.add(0.5);
    /// assert_eq!(sum.value(), 0.5);
    /// ```
    pub fn add(&mut self, x: f64) {
        let t = self.sum + x;
        // The low-order bits lost in `t` are recovered from whichever operand is larger.
        if self.sum.abs() >= x.abs() {
            self.compensation += (self.sum - t) + x;
        } else {
            self.compensation += (x - t) + self.sum;
        }
        self.sum = t;
    }

    /// Adds another compensated sum, keeping both compensations.
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::numerics::CompensatedSum;
    ///
    /// let mut left = CompensatedSum::new();
    /// left.add(1e16);
    /// let mut right = CompensatedSum::new();
    /// right.add(1.0);
    /// right.add(-1e16);
    /// left.merge(&right);
    /// assert_eq!(left.value(), 1.0);
    /// ```
    pub fn merge(&mut self, other: &CompensatedSum) {
        self.add(other.sum);
        self.compensation += other.compensation;
    }

    /// Returns the compensated total, or the plain IEEE sum once an infinite or NaN term entered
    /// it, because the compensation term is meaningless from then on.
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::numerics::CompensatedSum;
    ///
    /// let mut sum = CompensatedSum::new();
    /// sum.add(2.0);
    /// sum.add(3.0);
    /// assert_eq!(sum.value(), 5.0);
    /// sum.add(f64::INFINITY);
    /// assert_eq!(sum.value(), f64::INFINITY);
    /// ```
    pub fn value(&self) -> f64 {
        if self.sum.is_finite() {
            self.sum + self.compensation
        } else {
            self.sum
        }
    }

    /// Returns the total as an unevaluated sum `high + low` with `|low| <= ulp(high) / 2`, which
    /// carries about twice the precision of [`CompensatedSum::value`].
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::numerics::CompensatedSum;
    ///
    /// let sum: CompensatedSum = [1.0, 1e-20].into_iter().collect();
    /// assert_eq!(sum.parts(), (1.0, 1e-20));
    /// ```
    pub fn parts(&self) -> (f64, f64) {
        if !self.sum.is_finite() {
            return (self.sum, 0.0);
        }
        let high = self.sum + self.compensation;
        // Exact because |sum| >= |compensation| or the sum is 0 (Fast2Sum, Dekker 1971).
        let low = self.compensation - (high - self.sum);
        (high, low)
    }
}

impl FromIterator<f64> for CompensatedSum {
    fn from_iter<I: IntoIterator<Item = f64>>(terms: I) -> Self {
        let mut sum = CompensatedSum::default();
        for term in terms {
            sum.add(term);
        }
        sum
    }
}

/// Reports whether the CPU supports AVX2, so that the hot loops can run in a copy compiled for
/// 256-bit vectors. Only the vector width changes: Rust never fuses a multiply and an add on
/// its own, so both copies give bit-identical results. On other architectures it returns
/// `false`, and the `_avx2` copies compile as plain functions that are never called.
#[inline]
pub(crate) fn has_avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Divides every value by `divisor` in place, in the widest vector registers the CPU has.
/// Division is correctly rounded at every width, so the result is the same on every machine.
pub(crate) fn divide_all(values: &mut [f64], divisor: f64) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU supports AVX-512F, as checked on the line above.
            return unsafe { divide_all_avx512(values, divisor) };
        }
        if has_avx2() {
            // SAFETY: the CPU supports AVX2, as checked on the line above.
            return unsafe { divide_all_avx2(values, divisor) };
        }
    }
    divide_all_portable(values, divisor);
}

#[inline(always)]
fn divide_all_portable(values: &mut [f64], divisor: f64) {
    for value in values {
        *value /= divisor;
    }
}

/// [`divide_all_portable`] compiled for AVX-512.
///
/// # Safety
///
/// The CPU must support AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn divide_all_avx512(values: &mut [f64], divisor: f64) {
    divide_all_portable(values, divisor);
}

/// [`divide_all_portable`] compiled for AVX2.
///
/// # Safety
///
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn divide_all_avx2(values: &mut [f64], divisor: f64) {
    divide_all_portable(values, divisor);
}

/// Number of independent accumulators in [`LaneSum`]: four doubles fill one AVX register or two
/// SSE2 registers.
pub(crate) const LANES: usize = 4;

/// A compensated sum kept in [`LANES`] independent lanes. Each lane adds with Knuth's branch-free
/// TwoSum, which recovers the exact rounding error of every addition, so the compiler can keep
/// the lanes in vector registers where [`CompensatedSum::add`] branches per term.
///
/// The accuracy is that of [`CompensatedSum`]. [`LaneSum::total`] folds the lanes in a fixed
/// order, so the result depends only on the terms and their order, not on the machine.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct LaneSum {
    sum: [f64; LANES],
    compensation: [f64; LANES],
}

impl LaneSum {
    /// Adds one term to each lane.
    #[inline(always)]
    pub(crate) fn add(&mut self, terms: [f64; LANES]) {
        for (lane, term) in terms.into_iter().enumerate() {
            let sum = self.sum[lane];
            let total = sum + term;
            let term_part = total - sum;
            self.compensation[lane] += (sum - (total - term_part)) + (term - term_part);
            self.sum[lane] = total;
        }
    }

    /// Returns the sum of all lanes, folded from the first lane to the last.
    pub(crate) fn total(&self) -> CompensatedSum {
        let mut total = CompensatedSum::new();
        for lane in 0..LANES {
            total.merge(&CompensatedSum {
                sum: self.sum[lane],
                compensation: self.compensation[lane],
            });
        }
        total
    }
}

/// Sums `term(a[i], b[i])` over paired slices of equal length with compensation, [`LANES`]
/// terms at a time, and the tail of fewer than [`LANES`] terms after them.
pub(crate) fn sum_paired<A: Copy, B: Copy>(
    a: &[A],
    b: &[B],
    term: impl Fn(A, B) -> f64,
) -> CompensatedSum {
    debug_assert_eq!(a.len(), b.len());
    let a_chunks = a.chunks_exact(LANES);
    let b_chunks = b.chunks_exact(LANES);
    let (a_tail, b_tail) = (a_chunks.remainder(), b_chunks.remainder());

    let mut lanes = LaneSum::default();
    for (a, b) in a_chunks.zip(b_chunks) {
        lanes.add(std::array::from_fn(|lane| term(a[lane], b[lane])));
    }
    let mut total = lanes.total();
    for (a, b) in a_tail.iter().zip(b_tail) {
        total.add(term(*a, *b));
    }
    total
}

/// Length of the blocks that [`sum_paired_checked`] sums on separate threads. The blocks start
/// at fixed positions, so the result does not depend on the number of threads.
const PAIRED_BLOCK: usize = 1 << 16;

/// As [`sum_paired`] over `term(a[i].to_f64(), b[i].to_f64())`, and also returns whether every
/// value of `a` and `b` is finite. The check is a sum of `a[i] * 0 + b[i] * 0` in the same
/// pass, which is NaN exactly when a value is NaN or infinite, so it costs no second read.
///
/// Inputs longer than four blocks of [`PAIRED_BLOCK`] pairs are summed block by block in
/// parallel, and the blocks' compensated sums are merged in block order.
pub(crate) fn sum_paired_checked<F: Real>(
    a: &[F],
    b: &[F],
    term: impl Fn(f64, f64) -> f64 + Sync,
) -> (CompensatedSum, bool) {
    use rayon::prelude::*;

    debug_assert_eq!(a.len(), b.len());
    if a.len() <= 4 * PAIRED_BLOCK {
        return sum_paired_checked_serial(a, b, &term);
    }
    let blocks: Vec<(CompensatedSum, bool)> = a
        .par_chunks(PAIRED_BLOCK)
        .zip(b.par_chunks(PAIRED_BLOCK))
        .map(|(a, b)| sum_paired_checked_serial(a, b, &term))
        .collect();
    let mut total = CompensatedSum::new();
    let mut finite = true;
    for (sum, block_finite) in &blocks {
        total.merge(sum);
        finite &= block_finite;
    }
    (total, finite)
}

fn sum_paired_checked_serial<F: Real>(
    a: &[F],
    b: &[F],
    term: impl Fn(f64, f64) -> f64,
) -> (CompensatedSum, bool) {
    if has_avx2() {
        // SAFETY: the CPU supports AVX2, as checked on the line above.
        unsafe { sum_paired_checked_avx2(a, b, term) }
    } else {
        sum_paired_checked_portable(a, b, term)
    }
}

/// [`sum_paired_checked_portable`] compiled for AVX2.
///
/// # Safety
///
/// The CPU must support AVX2.
#[cfg_attr(target_arch = "x86_64", target_feature(enable = "avx2"))]
unsafe fn sum_paired_checked_avx2<F: Real>(
    a: &[F],
    b: &[F],
    term: impl Fn(f64, f64) -> f64,
) -> (CompensatedSum, bool) {
    sum_paired_checked_portable(a, b, term)
}

#[inline(always)]
fn sum_paired_checked_portable<F: Real>(
    a: &[F],
    b: &[F],
    term: impl Fn(f64, f64) -> f64,
) -> (CompensatedSum, bool) {
    debug_assert_eq!(a.len(), b.len());
    let a_chunks = a.chunks_exact(LANES);
    let b_chunks = b.chunks_exact(LANES);
    let (a_tail, b_tail) = (a_chunks.remainder(), b_chunks.remainder());

    let mut lanes = LaneSum::default();
    let mut check = [0.0; LANES];
    for (a, b) in a_chunks.zip(b_chunks) {
        let pairs: [(f64, f64); LANES] =
            std::array::from_fn(|lane| (a[lane].to_f64(), b[lane].to_f64()));
        for (lane, (x, y)) in pairs.into_iter().enumerate() {
            check[lane] += x * 0.0 + y * 0.0;
        }
        lanes.add(pairs.map(|(x, y)| term(x, y)));
    }
    let mut total = lanes.total();
    for (a, b) in a_tail.iter().zip(b_tail) {
        let (x, y) = (a.to_f64(), b.to_f64());
        check[0] += x * 0.0 + y * 0.0;
        total.add(term(x, y));
    }
    let finite = check.iter().all(|c| *c == 0.0);
    (total, finite)
}

/// Sums values with Neumaier's compensated summation.
///
/// # Example
///
/// ```
/// use ferrometrics::numerics::compensated_sum;
///
/// assert_eq!(compensated_sum([0.1; 10]), 1.0);
/// ```
pub fn compensated_sum(values: impl IntoIterator<Item = f64>) -> f64 {
    let mut sum = CompensatedSum::new();
    for x in values {
        sum.add(x);
    }
    sum.value()
}

/// Returns `numerator / denominator` rounded to the nearest `f64`, ties to even, for a ratio in
/// [0, 1] of integers below 2^127: the one rounding of the exact quotient.
///
/// # Panics
///
/// Panics if `denominator` is 0 or at least 2^127, or if `numerator` exceeds it.
pub(crate) fn exact_ratio(numerator: u128, denominator: u128) -> f64 {
    assert!(
        denominator > 0 && denominator < 1 << 127 && numerator <= denominator,
        "exact_ratio needs 0 <= {numerator} <= {denominator} < 2^127"
    );
    if numerator == 0 {
        return 0.0;
    }

    // Scale the numerator to [denominator, 2 * denominator), so the quotient is in [1, 2) times
    // 2^-shift, then take 53 bits of it by long division and one more to round.
    let mut shift = numerator.leading_zeros() - denominator.leading_zeros();
    let mut remainder = numerator << shift;
    if remainder < denominator {
        remainder <<= 1;
        shift += 1;
    }

    let mut bits = 0u64;
    for _ in 0..54 {
        bits <<= 1;
        if remainder >= denominator {
            bits |= 1;
            remainder -= denominator;
        }
        remainder <<= 1;
    }

    let round_bit = bits & 1;
    let mut significand = bits >> 1;
    if round_bit == 1 && (remainder != 0 || significand & 1 == 1) {
        significand += 1;
    }
    // The significand is at most 2^53, so it converts exactly, and the scale is a power of two
    // far from the subnormal range, so the product is exact too.
    significand as f64 * 2f64.powi(-52 - shift as i32)
}

/// Sums a slice by recursive halving (pairwise summation, as NumPy's `sum`), so the rounding
/// error grows like `log2(n)` and not like `n`.
///
/// # Example
///
/// ```
/// use ferrometrics::numerics::pairwise_sum;
///
/// assert_eq!(pairwise_sum(&[1.0, 2.0, 3.0, 4.0]), 10.0);
/// ```
pub fn pairwise_sum(values: &[f64]) -> f64 {
    const BLOCK: usize = 128;
    if values.len() <= BLOCK {
        return values.iter().sum();
    }
    let middle = values.len() / 2;
    pairwise_sum(&values[..middle]) + pairwise_sum(&values[middle..])
}

/// Divides `numerator` by `denominator`, returning `zero_division` when the denominator is zero.
///
/// # Example
///
/// ```
/// use ferrometrics::numerics::safe_div;
///
/// assert_eq!(safe_div(1.0, 4.0, 0.0), 0.25);
/// assert_eq!(safe_div(1.0, 0.0, 0.0), 0.0);
/// ```
pub fn safe_div(numerator: f64, denominator: f64, zero_division: f64) -> f64 {
    if denominator == 0.0 {
        zero_division
    } else {
        numerator / denominator
    }
}

/// Computes the Shannon entropy, in nats, of the distribution given by `counts`:
/// `H = -sum_i (c_i / n) (ln c_i - ln n)` with `n = sum_i c_i`, as scikit-learn's
/// `sklearn.metrics.cluster.entropy`.
///
/// Zero counts are skipped. Following scikit-learn, a distribution with one non-zero count has
/// entropy 0 and an empty one has entropy 1.
///
/// # Example
///
/// ```
/// use ferrometrics::numerics::entropy_from_counts;
///
/// let h = entropy_from_counts([2, 2]);
/// assert!((h - std::f64::consts::LN_2).abs() < 1e-15);
/// ```
pub fn entropy_from_counts(counts: impl IntoIterator<Item = u64> + Clone) -> f64 {
    let mut total: u64 = 0;
    let mut nonzero = 0usize;
    for count in counts.clone() {
        if count > 0 {
            total += count;
            nonzero += 1;
        }
    }
    if nonzero == 0 {
        return 1.0;
    }
    if nonzero == 1 {
        return 0.0;
    }

    let total_f = total as f64;
    let log_total = total_f.ln();
    let mut sum = CompensatedSum::new();
    for count in counts {
        if count > 0 {
            let c = count as f64;
            sum.add((c / total_f) * (c.ln() - log_total));
        }
    }
    -sum.value()
}

#[cfg(test)]
mod tests {

    #[test]
    fn paired_sum_ignores_thread_count() {
        let n = 5 * PAIRED_BLOCK + 123;
        let a: Vec<f64> = (0..n).map(|i| 1e6 + 1e-3 * (i % 977) as f64).collect();
        let b: Vec<f64> = (0..n).map(|i| 1e6 - 1e-3 * (i % 613) as f64).collect();
        let squared = |x: f64, y: f64| (x - y) * (x - y);
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| sum_paired_checked(&a, &b, squared))
        };
        let (one, finite) = run(1);
        assert!(finite);
        for threads in [2, 3] {
            let (many, _) = run(threads);
            assert_eq!(many.value().to_bits(), one.value().to_bits());
        }
        let serial: CompensatedSum = a.iter().zip(&b).map(|(&x, &y)| squared(x, y)).collect();
        assert!((one.value() - serial.value()).abs() <= 1e-14 * serial.value());

        let mut with_nan = a.clone();
        with_nan[3 * PAIRED_BLOCK + 7] = f64::NAN;
        assert!(!sum_paired_checked(&with_nan, &b, squared).1);
    }

    #[test]
    fn compensated_sum_merge_matches_one_pass() {
        let terms: Vec<f64> = (0..1000).map(|i| 0.1 * f64::from(i) - 3.3e7).collect();
        let whole: CompensatedSum = terms.iter().copied().collect();
        let mut left: CompensatedSum = terms[..377].iter().copied().collect();
        let right: CompensatedSum = terms[377..].iter().copied().collect();
        left.merge(&right);
        assert!((left.value() - whole.value()).abs() <= 1e-15 * whole.value().abs());
    }

    #[test]
    fn divide_all_rounds_as_scalar_division() {
        let values: Vec<f64> = (0..1000).map(|i| f64::from(i) * 0.37 - 12.0).collect();
        for divisor in [3.0, 7.1, -0.3, 0.0] {
            let mut divided = values.clone();
            divide_all(&mut divided, divisor);
            for (&value, &quotient) in values.iter().zip(&divided) {
                assert_eq!(quotient.to_bits(), (value / divisor).to_bits());
            }
        }
    }

    #[test]
    fn exact_ratio_rounds_once() {
        assert_eq!(exact_ratio(0, 7), 0.0);
        assert_eq!(exact_ratio(7, 7), 1.0);
        assert_eq!(exact_ratio(3, 4), 0.75);
        for (numerator, denominator) in [(1u128, 3u128), (2, 3), (1, 10), (7, 9), (999, 1000)] {
            assert_eq!(
                exact_ratio(numerator, denominator),
                numerator as f64 / denominator as f64
            );
        }
        // 2^53 + 1 over 2^54 lies halfway between two doubles: ties go to the even one.
        let half_way = (1u128 << 53) + 1;
        assert_eq!(exact_ratio(half_way, 1 << 54), 0.5);
        assert_eq!(
            exact_ratio(half_way + 2, 1 << 54),
            (0.5f64).next_up().next_up()
        );
        // Just above the tie, the quotient rounds up.
        assert_eq!(exact_ratio(half_way << 10 | 1, 1 << 64), (0.5f64).next_up());
        // Operands beyond 2^53, where converting both to f64 first would round twice.
        let denominator = (1u128 << 100) + 12345;
        let numerator = denominator / 3;
        let quotient = exact_ratio(numerator, denominator);
        assert!((quotient - 1.0 / 3.0).abs() <= f64::EPSILON / 4.0);
        assert_eq!(exact_ratio(denominator - 1, denominator), 1.0);
    }

    #[test]
    fn compensated_sum_opposite_infinities_give_nan() {
        let sum: CompensatedSum = [f64::INFINITY, f64::NEG_INFINITY].into_iter().collect();
        assert!(sum.value().is_nan());
    }
    use super::*;

    #[test]
    fn compensated_sum_recovers_small_terms() {
        let mut values = vec![1.0];
        values.extend(std::iter::repeat_n(1e-16, 1000));
        let sum = compensated_sum(values);
        assert!((sum - (1.0 + 1e-13)).abs() < 1e-28 + 1e-16);
    }

    #[test]
    fn sum_paired_matches_sequential_compensated_sum() {
        let a: Vec<f64> = (0..1003).map(|i| 1e6 + 1e-3 * f64::from(i)).collect();
        let b: Vec<f64> = (0..1003).map(|i| 1e6 - 7e-4 * f64::from(i)).collect();
        let sequential: CompensatedSum = a.iter().zip(&b).map(|(x, y)| x * y).collect();

        let laned = sum_paired(&a, &b, |x, y| x * y);

        let relative = (laned.value() - sequential.value()).abs() / sequential.value();
        assert!(relative <= 1e-16, "relative difference {relative}");
    }

    #[test]
    fn sum_paired_recovers_cancelled_terms() {
        let terms = [1e16, 1.0, -1e16, 1.0, 1e16, 1.0, -1e16, 1.0, 0.5];
        let ones = [1.0; 9];

        let total = sum_paired(&terms, &ones, |x, w| x * w);

        assert_eq!(total.value(), 4.5);
    }

    #[test]
    fn sum_paired_keeps_infinity() {
        let terms = [1.0, f64::INFINITY, 2.0, 3.0, 4.0];

        let total = sum_paired(&terms, &terms, |x, _| x);

        assert_eq!(total.value(), f64::INFINITY);
    }

    #[test]
    fn pairwise_sum_long_input() {
        let values = vec![0.5; 1001];
        assert_eq!(pairwise_sum(&values), 500.5);
    }

    #[test]
    fn entropy_single_and_empty() {
        assert_eq!(entropy_from_counts([5]), 0.0);
        assert_eq!(entropy_from_counts([0, 5, 0]), 0.0);
        assert_eq!(entropy_from_counts(Vec::<u64>::new()), 1.0);
    }

    #[test]
    fn entropy_uniform_four() {
        let h = entropy_from_counts([1, 1, 1, 1]);
        assert!((h - 4f64.ln()).abs() < 1e-15);
    }
}
