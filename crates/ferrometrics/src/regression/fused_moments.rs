//! Co-moments of paired values with one read of the input from memory.
//!
//! The input is cut at fixed positions into leaves of [`LEAF_LEN`] pairs. Each leaf is read
//! from memory once for its compensated sums and ranges, which also catch NaN and infinite values,
//! and again from the cache for the sums of deviations from the leaf's means. The leaf moments
//! are merged pairwise with [`Comoments::merge`] in a fixed tree, and large halves of the tree
//! run on two rayon tasks. The leaf boundaries and the merge order do not depend on the number
//! of threads, so neither does the result.

use super::moments::{scale_exponent, Comoments};
use crate::numerics::CompensatedSum;

/// Pairs per leaf. Two `f64` inputs of this length take 32 KiB, so the later passes over a
/// leaf read them from the L1 or L2 cache. A leaf's sums of squares are plain sums of at most
/// `LEAF_LEN / WIDTH` terms per lane, with three more additions to fold the lanes, so their
/// worst-case rounding error is about 3e-14 relative.
const LEAF_LEN: usize = 2048;

/// Ranges of at least this many pairs split their two halves over rayon tasks. Shorter ranges
/// run on the calling thread, where a task would cost more than it saves.
const PARALLEL_LEN: usize = 1 << 17;

/// Computes the unweighted moments of the pairs `map(a[i], b[i])` over slices of equal length.
///
/// Returns `None` when a mapped value is NaN or infinite, when a sum overflows, or when a leaf
/// contains values of extreme magnitude (beyond `2^±256`) that need the scaled two-pass sums of
/// [`Comoments::of_mapped`]. The caller then checks the input and takes that path.
pub(crate) fn fused_moments<A, B, M>(a: &[A], b: &[B], map: &M) -> Option<Comoments>
where
    A: Copy + Sync,
    B: Copy + Sync,
    M: Fn(A, B) -> (f64, f64) + Sync,
{
    debug_assert_eq!(a.len(), b.len());
    if a.is_empty() {
        return Some(Comoments::default());
    }
    if a.len() <= LEAF_LEN {
        return leaf_moments(a, b, map);
    }
    // Splitting at a multiple of LEAF_LEN keeps every leaf boundary at a multiple of it.
    let middle = a.len().div_ceil(LEAF_LEN) / 2 * LEAF_LEN;
    let (a_left, a_right) = a.split_at(middle);
    let (b_left, b_right) = b.split_at(middle);
    let (left, right) = if a.len() >= PARALLEL_LEN {
        rayon::join(
            || fused_moments(a_left, b_left, map),
            || fused_moments(a_right, b_right, map),
        )
    } else {
        (
            fused_moments(a_left, b_left, map),
            fused_moments(a_right, b_right, map),
        )
    };
    let mut moments = left?;
    moments.merge(&right?);
    Some(moments)
}

/// Independent accumulators per quantity in the leaf passes: one AVX-512 register or two AVX2
/// registers of doubles. Eight chains hide the latency of the vector additions.
const WIDTH: usize = 8;

/// Updates the minimum and maximum of one lane with comparisons that compile to vector min and
/// max instructions. The sums reject NaN, so its handling here does not matter.
#[inline(always)]
fn update_range(range: &mut [[f64; WIDTH]; 2], lane: usize, value: f64) {
    range[0][lane] = if value < range[0][lane] {
        value
    } else {
        range[0][lane]
    };
    range[1][lane] = if value > range[1][lane] {
        value
    } else {
        range[1][lane]
    };
}

fn fold_range(range: &[[f64; WIDTH]; 2]) -> [f64; 2] {
    let min = range[0].iter().fold(f64::INFINITY, |a, &b| a.min(b));
    let max = range[1].iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b));
    [min, max]
}

/// Returns the sum of the lanes, added in a fixed order so that the result does not depend on
/// the vector width of the machine.
fn fold_sum(lanes: &[f64; WIDTH]) -> f64 {
    let [a, b, c, d, e, f, g, h] = *lanes;
    ((a + b) + (c + d)) + ((e + f) + (g + h))
}

/// A compensated sum in [`WIDTH`] lanes, each added with Knuth's branch-free TwoSum, so that
/// the lanes stay in vector registers. A mean that nearly cancels (values of both signs) keeps
/// its relative precision, which the normalized RMSE divides by.
#[derive(Default)]
struct WideSum {
    sum: [f64; WIDTH],
    compensation: [f64; WIDTH],
}

impl WideSum {
    #[inline(always)]
    fn add(&mut self, lane: usize, term: f64) {
        let sum = self.sum[lane];
        let total = sum + term;
        let term_part = total - sum;
        self.compensation[lane] += (sum - (total - term_part)) + (term - term_part);
        self.sum[lane] = total;
    }

    /// Returns the sum of all lanes, folded from the first lane to the last.
    fn total(&self) -> CompensatedSum {
        let mut total = CompensatedSum::new();
        for lane in 0..WIDTH {
            total.add(self.sum[lane]);
            total.add(self.compensation[lane]);
        }
        total
    }
}

/// Splits `values` into arrays of [`WIDTH`] items and a tail of fewer. Arrays, unlike slices,
/// let the compiler drop the bounds checks and keep each lane in a vector register.
#[inline(always)]
fn split_chunks<T>(values: &[T]) -> (impl Iterator<Item = &[T; WIDTH]> + Clone, &[T]) {
    let chunks = values.chunks_exact(WIDTH);
    let tail = chunks.remainder();
    let arrays = chunks.map(|chunk| <&[T; WIDTH]>::try_from(chunk).expect("chunks of WIDTH"));
    (arrays, tail)
}

/// Computes the moments of one leaf, in a copy compiled for the widest vector instructions
/// that the CPU supports. Every copy runs the same operations in the same order (Rust fuses no
/// multiply and add on its own), so all give the same bits.
fn leaf_moments<A, B, M>(a: &[A], b: &[B], map: &M) -> Option<Comoments>
where
    A: Copy,
    B: Copy,
    M: Fn(A, B) -> (f64, f64),
{
    #[cfg(target_arch = "x86_64")]
    {
        if has_avx512() {
            // SAFETY: the CPU supports AVX-512F and AVX2, as checked on the line above.
            return unsafe { leaf_moments_avx512(a, b, map) };
        }
        if crate::numerics::has_avx2() {
            // SAFETY: the CPU supports AVX2, as checked on the line above.
            return unsafe { leaf_moments_avx2(a, b, map) };
        }
    }
    leaf_moments_portable(a, b, map)
}

/// Reports whether the CPU supports AVX-512F and AVX2. The standard library caches the detection.
#[cfg(target_arch = "x86_64")]
#[inline]
fn has_avx512() -> bool {
    std::arch::is_x86_feature_detected!("avx512f") && crate::numerics::has_avx2()
}

/// [`leaf_moments_portable`] compiled for AVX-512.
///
/// # Safety
///
/// The CPU must support AVX-512F and AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2")]
unsafe fn leaf_moments_avx512<A, B, M>(a: &[A], b: &[B], map: &M) -> Option<Comoments>
where
    A: Copy,
    B: Copy,
    M: Fn(A, B) -> (f64, f64),
{
    leaf_moments_portable(a, b, map)
}

/// [`leaf_moments_portable`] compiled for AVX2.
///
/// # Safety
///
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn leaf_moments_avx2<A, B, M>(a: &[A], b: &[B], map: &M) -> Option<Comoments>
where
    A: Copy,
    B: Copy,
    M: Fn(A, B) -> (f64, f64),
{
    leaf_moments_portable(a, b, map)
}

/// Computes the moments of one leaf with two passes. The first reads the leaf from memory for
/// the compensated sums and the ranges of `x` and `y`. The second reads it from the cache for
/// the plain sums of `dx`, `dy`, `dx^2`, `dy^2` and `dx * dy`, the deviations from the first
/// pass's means. Those means are within an ulp of the exact ones, so
/// `sum(dx^2) - sum(dx)^2 / count` loses almost nothing to cancellation: values near 1e6 that
/// differ by 1e-3 lose no digits to their offset.
#[inline(always)]
fn leaf_moments_portable<A, B, M>(a: &[A], b: &[B], map: &M) -> Option<Comoments>
where
    A: Copy,
    B: Copy,
    M: Fn(A, B) -> (f64, f64),
{
    let count = a.len();
    let (a_chunks, a_tail) = split_chunks(a);
    let (b_chunks, b_tail) = split_chunks(b);

    let (mut sum_x, mut sum_y) = (WideSum::default(), WideSum::default());
    let mut range_x = [[f64::INFINITY; WIDTH], [f64::NEG_INFINITY; WIDTH]];
    let mut range_y = range_x;
    for (a, b) in a_chunks.clone().zip(b_chunks.clone()) {
        for lane in 0..WIDTH {
            let (x, y) = map(a[lane], b[lane]);
            sum_x.add(lane, x);
            sum_y.add(lane, y);
            update_range(&mut range_x, lane, x);
            update_range(&mut range_y, lane, y);
        }
    }
    for (a, b) in a_tail.iter().zip(b_tail) {
        let (x, y) = map(*a, *b);
        sum_x.add(0, x);
        sum_y.add(0, y);
        update_range(&mut range_x, 0, x);
        update_range(&mut range_y, 0, y);
    }
    let (sum_x, sum_y) = (sum_x.total(), sum_y.total());
    let (total_x, total_y) = (sum_x.value(), sum_y.value());
    // A NaN or infinite value makes its sum NaN or infinite, and so does an overflow.
    if !(total_x.is_finite() && total_y.is_finite()) {
        return None;
    }
    let (range_x, range_y) = (fold_range(&range_x), fold_range(&range_y));
    if scale_exponent(range_x[0], range_x[1]) != 0 || scale_exponent(range_y[0], range_y[1]) != 0 {
        return None;
    }

    let weight = count as f64;
    let (shift_x, shift_y) = (total_x / weight, total_y / weight);
    // Sums of dx, dy, dx^2, dy^2 and dx * dy per lane.
    let mut sums = [[0.0; WIDTH]; 5];
    let mut add = |lane: usize, (x, y): (f64, f64)| {
        let (dx, dy) = (x - shift_x, y - shift_y);
        sums[0][lane] += dx;
        sums[1][lane] += dy;
        sums[2][lane] += dx * dx;
        sums[3][lane] += dy * dy;
        sums[4][lane] += dx * dy;
    };
    for (a, b) in a_chunks.clone().zip(b_chunks.clone()) {
        for lane in 0..WIDTH {
            add(lane, map(a[lane], b[lane]));
        }
    }
    for (a, b) in a_tail.iter().zip(b_tail) {
        add(0, map(*a, *b));
    }
    let totals = sums.map(|lanes| fold_sum(&lanes));
    Some(Comoments::of_shifted_sums(
        count,
        (sum_x, sum_y),
        totals,
        (range_x, range_y),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Returns `n` values `offset + spread * u` for a fixed pseudo-random `u` in `[0, 1)`.
    fn values(n: usize, seed: u64, offset: f64, spread: f64) -> Vec<f64> {
        let mut state = seed;
        (0..n)
            .map(|_| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                offset + spread * (state >> 11) as f64 / (1u64 << 53) as f64
            })
            .collect()
    }

    fn pair(x: f64, y: f64) -> (f64, f64) {
        (x, y)
    }

    fn assert_close(actual: f64, expected: f64, what: &str) {
        let relative = (actual - expected).abs() / expected.abs();
        assert!(
            relative <= 1e-12,
            "{what}: {actual} vs {expected}, relative {relative}"
        );
    }

    #[test]
    fn fused_matches_two_pass_with_large_offset() {
        // Values near 1e6 that differ by about 1e-3, over many leaves and a partial last leaf.
        let n = 300_001;
        let x = values(n, 1, 1e6, 1e-3);
        let noise = values(n, 2, 0.0, 1e-3);
        let y: Vec<f64> = x.iter().zip(&noise).map(|(x, e)| 0.5 * x + e).collect();

        let fused = fused_moments(&x, &y, &pair).unwrap();
        let two_pass = Comoments::of_mapped(&x, &y, pair);

        assert_eq!(fused.count(), n as u64);
        assert_close(fused.pearson(), two_pass.pearson(), "pearson");
        assert_close(fused.m2_x(), two_pass.m2_x(), "m2_x");
        assert_close(fused.m2_y(), two_pass.m2_y(), "m2_y");
        assert_close(fused.c_xy(), two_pass.c_xy(), "c_xy");
        assert_close(fused.mean_x(), two_pass.mean_x(), "mean_x");
        assert_close(fused.mean_y(), two_pass.mean_y(), "mean_y");
    }

    #[test]
    fn fused_matches_two_pass_on_sorted_input() {
        // Sorted values put each leaf's mean far from the global one.
        let n = 100_000;
        let mut x = values(n, 3, -50.0, 100.0);
        x.sort_by(f64::total_cmp);
        let y = values(n, 4, 1e3, 1.0);

        let fused = fused_moments(&x, &y, &pair).unwrap();
        let two_pass = Comoments::of_mapped(&x, &y, pair);

        assert_close(fused.m2_x(), two_pass.m2_x(), "m2_x");
        assert_close(fused.pearson(), two_pass.pearson(), "pearson");
    }

    #[test]
    fn fused_matches_two_pass_on_partial_lanes() {
        // Lengths below, at and around the lane width and the leaf length, so that every tail
        // of fewer than WIDTH pairs and every partial last leaf is exercised.
        let lengths = [2, 3, 5, 7, 8, 9, 15, 17, 2047, 2048, 2049, 4095, 6151];
        for n in lengths {
            let x = values(n, 13, 1e6, 1e-3);
            let y = values(n, 14, -2.0, 4.0);

            let fused = fused_moments(&x, &y, &pair).unwrap();
            let two_pass = Comoments::of_mapped(&x, &y, pair);

            assert_eq!(fused.count(), n as u64, "count for n = {n}");
            assert_close(fused.m2_x(), two_pass.m2_x(), &format!("m2_x for n = {n}"));
            assert_close(fused.m2_y(), two_pass.m2_y(), &format!("m2_y for n = {n}"));
            assert_close(fused.c_xy(), two_pass.c_xy(), &format!("c_xy for n = {n}"));
            assert_close(
                fused.mean_x(),
                two_pass.mean_x(),
                &format!("mean_x for n = {n}"),
            );
            assert_close(
                fused.mean_y(),
                two_pass.mean_y(),
                &format!("mean_y for n = {n}"),
            );
        }
    }

    #[test]
    fn fused_single_pair_has_zero_moments() {
        let moments = fused_moments(&[3.5], &[-1.25], &pair).unwrap();

        assert_eq!(moments.count(), 1);
        assert_eq!(moments.mean_x(), 3.5);
        assert_eq!(moments.mean_y(), -1.25);
        assert_eq!(moments.m2_x(), 0.0);
        assert_eq!(moments.c_xy(), 0.0);
    }

    #[test]
    fn fused_outlier_first_in_leaf_keeps_precision() {
        // A leaf whose first value is far from the others, where a shift by the first value
        // would lose digits to cancellation.
        let mut x = values(4_000, 15, 0.0, 1.0);
        x[0] = 1e6;
        x[2048] = -1e6;
        let y = values(4_000, 16, 5.0, 1.0);

        let fused = fused_moments(&x, &y, &pair).unwrap();
        let two_pass = Comoments::of_mapped(&x, &y, pair);

        assert_close(fused.m2_x(), two_pass.m2_x(), "m2_x");
        assert_close(fused.c_xy(), two_pass.c_xy(), "c_xy");
        assert_close(fused.mean_x(), two_pass.mean_x(), "mean_x");
    }

    #[test]
    fn fused_maps_residuals_as_two_pass() {
        // R2's map, whose `x` is the residual `target - preds`.
        let preds = values(10_001, 17, 1e3, 1.0);
        let target = values(10_001, 18, 1e3, 1.0);
        let residual = |p: f64, t: f64| (t - p, t);

        let fused = fused_moments(&preds, &target, &residual).unwrap();
        let two_pass = Comoments::of_mapped(&preds, &target, residual);

        assert_close(fused.m2_x(), two_pass.m2_x(), "m2_x");
        assert_close(fused.m2_y(), two_pass.m2_y(), "m2_y");
        assert_close(fused.mean_x(), two_pass.mean_x(), "mean_x");
    }

    #[test]
    fn fused_result_ignores_thread_count() {
        let x = values(500_000, 5, 3.0, 2.0);
        let y = values(500_000, 6, -1.0, 5.0);
        let one_thread = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();

        let serial = one_thread.install(|| fused_moments(&x, &y, &pair).unwrap());
        let parallel = fused_moments(&x, &y, &pair).unwrap();

        assert_eq!(serial, parallel);
    }

    #[test]
    fn fused_rejects_nan_and_infinity() {
        let mut x = values(10_000, 7, 0.0, 1.0);
        let y = values(10_000, 8, 0.0, 1.0);
        x[9_000] = f64::NAN;
        assert!(fused_moments(&x, &y, &pair).is_none());
        x[9_000] = f64::NEG_INFINITY;
        assert!(fused_moments(&y, &x, &pair).is_none());
    }

    #[test]
    fn fused_leaves_extreme_magnitudes_to_two_pass() {
        let x = values(5_000, 9, 1e200, 1e199);
        let tiny = values(5_000, 10, 1e-200, 1e-201);
        let y = values(5_000, 11, 0.0, 1.0);

        assert!(fused_moments(&x, &y, &pair).is_none());
        assert!(fused_moments(&y, &tiny, &pair).is_none());
    }

    #[test]
    fn fused_zeroes_constant_variance() {
        let x = vec![0.1; 7_000];
        let y = values(7_000, 12, 0.0, 1.0);

        let moments = fused_moments(&x, &y, &pair).unwrap();

        assert_eq!(moments.m2_x(), 0.0);
        assert!(moments.pearson().is_nan());
    }
}
