//! Co-moments of paired values with one read of the input from memory.
//!
//! The input is cut at fixed positions into leaves of [`LEAF_LEN`] pairs. Each leaf is read
//! from memory once for its sums, which also catch NaN and infinite values, and again from the
//! cache for its ranges and for the sums of deviations from the leaf's means. The leaf moments are
//! merged pairwise with [`Comoments::merge`] in a fixed tree, and large halves of the tree run
//! on two rayon tasks. The leaf boundaries and the merge order do not depend on the number of
//! threads, so neither does the result.

use super::moments::{scale_exponent, Comoments};
use crate::numerics::{has_avx2, LaneSum, LANES};

/// Pairs per leaf. Two `f64` inputs of this length take 32 KiB, so the later passes over a
/// leaf read them from the L1 or L2 cache. A leaf's plain sums have at most `LEAF_LEN / LANES`
/// terms per lane, so the worst-case rounding error of its sums of squares is about 6e-14
/// relative.
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

/// Updates the minimum and maximum of one lane with comparisons that compile to vector min and
/// max instructions. The sums have already rejected NaN, so its handling here does not matter.
#[inline(always)]
fn update_range(range: &mut [[f64; LANES]; 2], lane: usize, value: f64) {
    if value < range[0][lane] {
        range[0][lane] = value;
    }
    if value > range[1][lane] {
        range[1][lane] = value;
    }
}

fn fold_range(range: &[[f64; LANES]; 2]) -> [f64; 2] {
    let min = range[0].iter().fold(f64::INFINITY, |a, &b| a.min(b));
    let max = range[1].iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b));
    [min, max]
}

/// Computes the moments of one leaf, in a copy compiled for AVX2 when the CPU has it.
fn leaf_moments<A, B, M>(a: &[A], b: &[B], map: &M) -> Option<Comoments>
where
    A: Copy,
    B: Copy,
    M: Fn(A, B) -> (f64, f64),
{
    if has_avx2() {
        // SAFETY: the CPU supports AVX2, as checked on the line above.
        unsafe { leaf_moments_avx2(a, b, map) }
    } else {
        leaf_moments_portable(a, b, map)
    }
}

/// [`leaf_moments_portable`] compiled for AVX2.
///
/// # Safety
///
/// The CPU must support AVX2.
#[cfg_attr(target_arch = "x86_64", target_feature(enable = "avx2"))]
unsafe fn leaf_moments_avx2<A, B, M>(a: &[A], b: &[B], map: &M) -> Option<Comoments>
where
    A: Copy,
    B: Copy,
    M: Fn(A, B) -> (f64, f64),
{
    leaf_moments_portable(a, b, map)
}

/// Computes the moments of one leaf with three passes over data that stays in the cache: the
/// compensated sums, the ranges, and the sums of deviations from the leaf's means. Separate
/// passes keep each loop's accumulators in vector registers.
#[inline(always)]
fn leaf_moments_portable<A, B, M>(a: &[A], b: &[B], map: &M) -> Option<Comoments>
where
    A: Copy,
    B: Copy,
    M: Fn(A, B) -> (f64, f64),
{
    let count = a.len();
    let a_chunks = a.chunks_exact(LANES);
    let b_chunks = b.chunks_exact(LANES);
    let chunks = || a_chunks.clone().zip(b_chunks.clone());
    let tail = || a_chunks.remainder().iter().zip(b_chunks.remainder());
    // Mapped values as one array of `x` and one of `y`, so that each is one vector register.
    let mapped = |a: &[A], b: &[B]| -> [[f64; LANES]; 2] {
        let x = std::array::from_fn(|lane| map(a[lane], b[lane]).0);
        let y = std::array::from_fn(|lane| map(a[lane], b[lane]).1);
        [x, y]
    };

    // The sums of `x` and `y` are compensated, so that a mean that nearly cancels keeps its
    // relative precision.
    let (mut sum_x, mut sum_y) = (LaneSum::default(), LaneSum::default());
    for (a, b) in chunks() {
        let [x, y] = mapped(a, b);
        sum_x.add(x);
        sum_y.add(y);
    }
    let (mut sum_x, mut sum_y) = (sum_x.total(), sum_y.total());
    for (a, b) in tail() {
        let (x, y) = map(*a, *b);
        sum_x.add(x);
        sum_y.add(y);
    }
    let (total_x, total_y) = (sum_x.value(), sum_y.value());
    // A NaN or infinite value makes its sum NaN or infinite, and so does an overflow.
    if !(total_x.is_finite() && total_y.is_finite()) {
        return None;
    }

    let mut range_x = [[f64::INFINITY; LANES], [f64::NEG_INFINITY; LANES]];
    let mut range_y = range_x;
    for (a, b) in chunks() {
        let [x, y] = mapped(a, b);
        for lane in 0..LANES {
            update_range(&mut range_x, lane, x[lane]);
            update_range(&mut range_y, lane, y[lane]);
        }
    }
    for (a, b) in tail() {
        let (x, y) = map(*a, *b);
        update_range(&mut range_x, 0, x);
        update_range(&mut range_y, 0, y);
    }
    let (range_x, range_y) = (fold_range(&range_x), fold_range(&range_y));
    if scale_exponent(range_x[0], range_x[1]) != 0 || scale_exponent(range_y[0], range_y[1]) != 0 {
        return None;
    }

    let weight = count as f64;
    let (shift_x, shift_y) = (total_x / weight, total_y / weight);
    // Sums of dx, dy, dx^2, dy^2 and dx * dy per lane.
    let mut sums = [[0.0; LANES]; 5];
    let mut add = |lane: usize, (x, y): (f64, f64)| {
        let (dx, dy) = (x - shift_x, y - shift_y);
        sums[0][lane] += dx;
        sums[1][lane] += dy;
        sums[2][lane] += dx * dx;
        sums[3][lane] += dy * dy;
        sums[4][lane] += dx * dy;
    };
    for (a, b) in chunks() {
        let [x, y] = mapped(a, b);
        for lane in 0..LANES {
            add(lane, (x[lane], y[lane]));
        }
    }
    for (a, b) in tail() {
        add(0, map(*a, *b));
    }
    let totals = sums.map(|lanes| lanes.iter().sum::<f64>());
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
