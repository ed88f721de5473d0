//! Count-weighted updates of metrics whose state is a sum of per-sample terms, and the fused
//! Poisson bootstrap kernel that computes them for many replicates at once.
//!
//! A replicate's resample of a batch repeats sample `i` `k_i` times. For a metric whose state
//! is a sum of per-sample terms and a sample count, updating with that resample adds
//! `sum_i k_i * term_i` and `sum_i k_i`, so the resample never has to be copied. The sums differ
//! from those of an update with the resample only in summation order.

use rayon::prelude::*;

use super::resample::{
    poisson_one_count, poisson_one_thresholds, splitmix64_mix, SplitMix64, SPLITMIX64_GAMMA,
};
use crate::error::{Error, Result};
use crate::numerics::CompensatedSum;

/// The per-sample additive terms of a validated batch: `columns` terms per sample, which a
/// metric adds to its state once for each time the sample is drawn.
///
/// # Example
///
/// ```
/// use ferrometrics::wrappers::SampleTerms;
///
/// // Two samples with two terms each.
/// let terms = SampleTerms::new(2, 1, vec![1.0, 2.0, 3.0, 4.0])?;
/// let sums = terms.weighted_sums(&[2, 1])?;
/// assert_eq!(sums.sums[0].value(), 5.0);
/// assert_eq!(sums.sums[1].value(), 8.0);
/// assert_eq!(sums.samples, 3);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct SampleTerms {
    columns: usize,
    units_per_sample: u64,
    values: Vec<f64>,
}

impl SampleTerms {
    /// Creates the terms of `values.len() / columns` samples, stored sample after sample.
    /// `units_per_sample` is what one sample adds to the metric's count, for example the
    /// number of elements in a row that the metric flattens.
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidArgument`] naming `columns` if it is 0 or does not divide the
    /// number of values.
    pub fn new(columns: usize, units_per_sample: u64, values: Vec<f64>) -> Result<Self> {
        if columns == 0 || values.len() % columns != 0 {
            return Err(Error::invalid_argument(
                "columns",
                format!(
                    "{columns} columns do not divide {} values; pass the number of terms per \
                     sample",
                    values.len()
                ),
            ));
        }
        Ok(Self {
            columns,
            units_per_sample,
            values,
        })
    }

    /// Returns the number of samples.
    pub fn num_samples(&self) -> usize {
        self.values.len() / self.columns
    }

    /// Returns the number of terms per sample.
    pub fn columns(&self) -> usize {
        self.columns
    }

    /// Returns what one sample adds to the metric's count.
    pub fn units_per_sample(&self) -> u64 {
        self.units_per_sample
    }

    /// Returns the terms, sample after sample.
    pub fn values(&self) -> &[f64] {
        &self.values
    }

    /// Sums each column's terms weighted by `counts`, one count per sample, in sample order
    /// with compensated summation.
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidInput`] naming `counts` if it does not have one count per sample.
    pub fn weighted_sums(&self, counts: &[u32]) -> Result<TermSums> {
        crate::check_same_length("terms", self.num_samples(), "counts", counts.len())?;
        let mut sums = vec![CompensatedSum::new(); self.columns];
        for (row, &count) in self.values.chunks_exact(self.columns).zip(counts) {
            for (sum, &term) in sums.iter_mut().zip(row) {
                sum.add(weighted_term(count, term));
            }
        }
        Ok(TermSums {
            sums,
            samples: counts.iter().map(|&count| u64::from(count)).sum(),
            units_per_sample: self.units_per_sample,
        })
    }
}

/// Per-column sums of `count * term` over a batch, and the number of samples drawn.
#[derive(Debug, Clone, PartialEq)]
pub struct TermSums {
    /// One sum per column of the [`SampleTerms`].
    pub sums: Vec<CompensatedSum>,
    /// The sum of the counts: the number of samples drawn, repeats included.
    pub samples: u64,
    /// The count that one sample adds to the metric's state, as in
    /// [`SampleTerms::units_per_sample`].
    pub units_per_sample: u64,
}

impl TermSums {
    /// Returns what the drawn samples add to the metric's count, `samples * units_per_sample`,
    /// saturating at `u64::MAX`.
    pub fn units(&self) -> u64 {
        self.samples.saturating_mul(self.units_per_sample)
    }
}

/// Number of samples that one replicate processes before the next replicate of the same thread
/// takes over. The terms of a chunk (32 KiB for one column) and its counts stay in the cache
/// while all replicates of the thread read them.
const CHUNK: usize = 4096;

/// Number of independent accumulators of a chunk's weighted sum: eight doubles fill one
/// AVX-512 register.
const LANES: usize = 8;

/// The largest Poisson count found with branch-free comparisons. A draw that reaches it, with
/// probability `P(K >= 6)` = 5.9e-4, is recounted exactly once its chunk is counted.
const UNROLLED_COUNT: usize = 6;

/// Returns, for each of `replicates` replicates, the sums of `terms` weighted by the Poisson(1)
/// counts that [`bootstrap_indices`](super::bootstrap_indices) draws from batch `batch` with
/// seed `seed`: sample `i` counts as many times as it appears in that replicate's indices.
///
/// The batch is processed in chunks of 4096 samples, and the replicates are split between the
/// threads of the rayon pool. Each replicate's chunk sums are added in chunk order, so the
/// result depends only on the terms, the seed and the batch index, not on the number of
/// threads. It equals [`SampleTerms::weighted_sums`] of the counts within floating-point
/// summation order (about 1e-13 relative for terms of one sign).
///
/// # Example
///
/// ```
/// use ferrometrics::wrappers::{bootstrap_indices, poisson_term_sums, SampleTerms};
/// use ferrometrics::wrappers::SamplingStrategy;
///
/// let terms = SampleTerms::new(1, 1, vec![1.0; 100])?;
/// let sums = poisson_term_sums(&terms, 7, 0, 3);
/// for (replicate, sums) in sums.iter().enumerate() {
///     let indices = bootstrap_indices(7, replicate as u64, 0, 100, SamplingStrategy::Poisson);
///     assert_eq!(sums.samples, indices.len() as u64);
///     assert_eq!(sums.sums[0].value(), indices.len() as f64);
/// }
/// # Ok::<(), ferrometrics::Error>(())
/// ```
pub fn poisson_term_sums(
    terms: &SampleTerms,
    seed: u64,
    batch: u64,
    replicates: usize,
) -> Vec<TermSums> {
    let mut states: Vec<ReplicateSums> = (0..replicates)
        .map(|replicate| ReplicateSums {
            stream: SplitMix64::for_stream(seed, replicate as u64, batch).state(),
            sums: vec![CompensatedSum::new(); terms.columns],
            samples: 0,
        })
        .collect();

    // Several groups per thread balance the load when one thread is slowed down. Each group
    // reads the terms once, so the groups stay few.
    let threads = rayon::current_num_threads().max(1);
    let group_len = replicates.div_ceil(4 * threads).max(1);
    states
        .par_chunks_mut(group_len)
        .for_each(|group| accumulate_group(terms, group));

    states
        .into_iter()
        .map(|state| TermSums {
            sums: state.sums,
            samples: state.samples,
            units_per_sample: terms.units_per_sample,
        })
        .collect()
}

/// The running sums of one replicate in [`poisson_term_sums`].
struct ReplicateSums {
    /// The SplitMix64 state of the replicate's stream before its first draw.
    stream: u64,
    sums: Vec<CompensatedSum>,
    samples: u64,
}

/// Adds every chunk of `terms` to the sums of each replicate of `group`, with the widest
/// vector instructions that the CPU supports. Every variant runs the same floating-point
/// operations in the same order, so they give the same bits.
fn accumulate_group(terms: &SampleTerms, group: &mut [ReplicateSums]) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512dq")
            && std::arch::is_x86_feature_detected!("avx512vl")
        {
            // SAFETY: the CPU supports the target features the function is compiled for.
            unsafe { accumulate_group_avx512(terms, group) };
            return;
        }
        if crate::numerics::has_avx2() {
            // SAFETY: as above.
            unsafe { accumulate_group_avx2(terms, group) };
            return;
        }
    }
    accumulate_group_body(terms, group);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx2")]
fn accumulate_group_avx512(terms: &SampleTerms, group: &mut [ReplicateSums]) {
    accumulate_group_body(terms, group);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn accumulate_group_avx2(terms: &SampleTerms, group: &mut [ReplicateSums]) {
    accumulate_group_body(terms, group);
}

#[inline(always)]
fn accumulate_group_body(terms: &SampleTerms, group: &mut [ReplicateSums]) {
    let thresholds = poisson_one_thresholds();
    let unrolled: [u64; UNROLLED_COUNT] = std::array::from_fn(|k| thresholds[k]);
    let columns = terms.columns;
    let mut counts = vec![0u32; CHUNK];
    let mut chunk_sums = vec![0.0; columns];

    for (chunk_index, chunk) in terms.values.chunks(CHUNK * columns).enumerate() {
        let first = chunk_index * CHUNK;
        let counts = &mut counts[..chunk.len() / columns];
        for replicate in group.iter_mut() {
            replicate.samples += poisson_counts(replicate.stream, first, &unrolled, counts);
            if columns == 1 {
                replicate.sums[0].add(weighted_sum(counts, chunk));
            } else {
                weighted_column_sums(counts, chunk, &mut chunk_sums);
                for (sum, &part) in replicate.sums.iter_mut().zip(&chunk_sums) {
                    sum.add(part);
                }
            }
        }
    }
}

/// Writes the Poisson(1) counts of draws `first..first + counts.len()` of the SplitMix64
/// stream whose state is `stream` into `counts`, and returns their sum.
///
/// The counts are those of [`poisson_one_count`]: each draw is compared with the first
/// [`UNROLLED_COUNT`] thresholds without branches, so the loop vectorizes, and the rare draws
/// at or above the last of them are recounted against all thresholds.
#[inline(always)]
fn poisson_counts(
    stream: u64,
    first: usize,
    unrolled: &[u64; UNROLLED_COUNT],
    counts: &mut [u32],
) -> u64 {
    // Draw `i` of the stream is the mix of `stream + (i + 1) * gamma`.
    let start = stream.wrapping_add((first as u64 + 1).wrapping_mul(SPLITMIX64_GAMMA));
    let mut saturated = false;
    for (offset, count) in counts.iter_mut().enumerate() {
        let draw =
            splitmix64_mix(start.wrapping_add((offset as u64).wrapping_mul(SPLITMIX64_GAMMA)));
        let mut k = 0u32;
        for &threshold in unrolled {
            k += u32::from(draw >= threshold);
        }
        saturated |= k == UNROLLED_COUNT as u32;
        *count = k;
    }

    if saturated {
        let thresholds = poisson_one_thresholds();
        for (offset, count) in counts.iter_mut().enumerate() {
            if *count == UNROLLED_COUNT as u32 {
                let draw = splitmix64_mix(
                    start.wrapping_add((offset as u64).wrapping_mul(SPLITMIX64_GAMMA)),
                );
                *count = poisson_one_count(draw, thresholds) as u32;
            }
        }
    }
    counts.iter().map(|&count| u64::from(count)).sum()
}

/// Returns `sum(counts[i] * terms[i])`, accumulated in [`LANES`] lanes that are added in a
/// fixed order.
#[inline(always)]
fn weighted_sum(counts: &[u32], terms: &[f64]) -> f64 {
    let mut lanes = [0.0f64; LANES];
    let count_blocks = counts.chunks_exact(LANES);
    let term_blocks = terms.chunks_exact(LANES);
    let (count_tail, term_tail) = (count_blocks.remainder(), term_blocks.remainder());
    for (counts, terms) in count_blocks.zip(term_blocks) {
        for lane in 0..LANES {
            lanes[lane] += weighted_term(counts[lane], terms[lane]);
        }
    }
    for (lane, (&count, &term)) in count_tail.iter().zip(term_tail).enumerate() {
        lanes[lane] += weighted_term(count, term);
    }
    ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3]))
        + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]))
}

/// Returns `count * term`, and 0 for a count of 0 whatever the term, so that an infinite or NaN
/// term of a sample that was not drawn stays out of the sum, as it stays out of a resample.
/// For finite terms the result is the plain product, so the choice costs no precision.
#[inline(always)]
fn weighted_term(count: u32, term: f64) -> f64 {
    if count == 0 {
        0.0
    } else {
        f64::from(count) * term
    }
}

/// Writes `sum_i counts[i] * terms[i, column]` for each column into `sums`, where `terms`
/// contains one row of `sums.len()` terms per count.
#[inline(always)]
fn weighted_column_sums(counts: &[u32], terms: &[f64], sums: &mut [f64]) {
    sums.fill(0.0);
    for (&count, row) in counts.iter().zip(terms.chunks_exact(sums.len())) {
        for (sum, &term) in sums.iter_mut().zip(row) {
            *sum += weighted_term(count, term);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wrappers::{bootstrap_indices, SamplingStrategy};

    /// Returns the counts per sample of the indices that `bootstrap_indices` draws.
    fn expanded_counts(seed: u64, replicate: u64, batch: u64, samples: usize) -> Vec<u32> {
        let mut counts = vec![0u32; samples];
        for index in bootstrap_indices(seed, replicate, batch, samples, SamplingStrategy::Poisson) {
            counts[index] += 1;
        }
        counts
    }

    fn relative_difference(a: f64, b: f64) -> f64 {
        (a - b).abs() / a.abs().max(b.abs()).max(f64::MIN_POSITIVE)
    }

    #[test]
    fn kernel_matches_expanded_counts() {
        for (samples, columns) in [(0, 1), (1, 1), (7, 1), (4096, 1), (10_001, 1), (5_000, 3)] {
            let values: Vec<f64> = (0..samples * columns)
                .map(|i| ((i * 37 % 101) as f64 - 50.0) / 7.0)
                .collect();
            let terms = SampleTerms::new(columns, 2, values).unwrap();
            let sums = poisson_term_sums(&terms, 5, 3, 4);
            for (replicate, sums) in sums.iter().enumerate() {
                let counts = expanded_counts(5, replicate as u64, 3, samples);
                let expected = terms.weighted_sums(&counts).unwrap();
                assert_eq!(sums.samples, expected.samples, "{samples} samples");
                assert_eq!(sums.units(), 2 * expected.samples);
                for (sum, reference) in sums.sums.iter().zip(&expected.sums) {
                    let difference = relative_difference(sum.value(), reference.value());
                    assert!(difference < 1e-12, "{samples} samples: {difference}");
                }
            }
        }
    }

    #[test]
    fn kernel_independent_of_threads() {
        let values: Vec<f64> = (0..20_000).map(|i| (i as f64).sin()).collect();
        let terms = SampleTerms::new(1, 1, values).unwrap();
        let run = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| poisson_term_sums(&terms, 9, 1, 37))
        };
        let one = run(1);
        assert_eq!(one, run(2));
        assert_eq!(one, run(3));
    }

    /// Returns the SplitMix64 state whose next draw is `draw`, by inverting the output mix.
    fn state_before(draw: u64) -> u64 {
        fn undo_xorshift(value: u64, shift: u32) -> u64 {
            let mut x = value;
            for _ in 0..64 / shift {
                x = value ^ (x >> shift);
            }
            x
        }
        fn inverse(multiplier: u64) -> u64 {
            let mut inverse = multiplier;
            for _ in 0..6 {
                inverse = inverse.wrapping_mul(2u64.wrapping_sub(multiplier.wrapping_mul(inverse)));
            }
            inverse
        }
        let mut z = undo_xorshift(draw, 31);
        z = undo_xorshift(z.wrapping_mul(inverse(0x94D0_49BB_1331_11EB)), 27);
        z = undo_xorshift(z.wrapping_mul(inverse(0xBF58_476D_1CE4_E5B9)), 30);
        z.wrapping_sub(SPLITMIX64_GAMMA)
    }

    #[test]
    fn counts_above_unrolled_are_exact() {
        let thresholds = poisson_one_thresholds();
        let unrolled: [u64; UNROLLED_COUNT] = std::array::from_fn(|k| thresholds[k]);
        for draw in [
            u64::MAX,
            thresholds[UNROLLED_COUNT],
            thresholds[UNROLLED_COUNT - 1],
        ] {
            let stream = state_before(draw);
            assert_eq!(splitmix64_mix(stream.wrapping_add(SPLITMIX64_GAMMA)), draw);

            let mut counts = [0u32; 3];
            let total = poisson_counts(stream, 0, &unrolled, &mut counts);
            let expected = poisson_one_count(draw, thresholds) as u32;
            assert!(expected >= UNROLLED_COUNT as u32);
            assert_eq!(counts[0], expected);
            assert_eq!(total, counts.iter().map(|&k| u64::from(k)).sum::<u64>());
        }
    }

    #[test]
    fn undrawn_infinite_term_stays_out() {
        let mut values = vec![1.0; 20_000];
        values[0] = f64::INFINITY;
        let terms = SampleTerms::new(1, 1, values).unwrap();
        let sums = poisson_term_sums(&terms, 2, 0, 16);
        let mut undrawn = 0;
        for (replicate, sums) in sums.iter().enumerate() {
            let counts = expanded_counts(2, replicate as u64, 0, 20_000);
            let value = sums.sums[0].value();
            if counts[0] == 0 {
                undrawn += 1;
                assert_eq!(value, sums.samples as f64, "replicate {replicate}");
            } else {
                assert_eq!(value, f64::INFINITY, "replicate {replicate}");
            }
        }
        // P(K = 0) = 1/e, so some of the 16 replicates leave the first sample out.
        assert!(undrawn > 0);
    }

    #[test]
    fn sample_terms_rejects_ragged_values() {
        let error = SampleTerms::new(2, 1, vec![1.0; 3]).unwrap_err();
        assert!(error.to_string().contains("columns"), "{error}");
        assert!(SampleTerms::new(0, 1, vec![]).is_err());
    }

    #[test]
    fn weighted_sums_rejects_count_length() {
        let terms = SampleTerms::new(1, 1, vec![1.0; 3]).unwrap();
        let error = terms.weighted_sums(&[1, 2]).unwrap_err();
        assert!(error.to_string().contains("counts"), "{error}");
    }
}
