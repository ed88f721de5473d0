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
        if columns == 0 || !values.len().is_multiple_of(columns) {
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
                sum.add(weighted_term(u64::from(count), term));
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
/// takes over. The terms of a chunk (32 KiB for one column) stay in the L1 or L2 cache while
/// all replicates of the thread read them.
const CHUNK: usize = 4096;

/// Number of independent accumulators of a chunk's weighted sum: eight AVX-512 registers, or
/// sixteen AVX2 registers, of doubles.
const ACCUMULATORS: usize = 64;

/// Number of samples whose counts [`poisson_weighted_sum`] draws before it weights them: 4 KiB
/// of counts. A multiple of [`ACCUMULATORS`], so that every block starts at accumulator 0.
const BLOCK: usize = 512;

/// The largest Poisson count found with branch-free comparisons. A draw that reaches it, with
/// probability `P(K >= 6)` = 5.9e-4, is recounted exactly against all thresholds.
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
    poisson_term_sums_with(terms, seed, batch, replicates, InstructionSet::detect())
}

/// [`poisson_term_sums`] with the instruction set chosen by the caller, so that tests can
/// compare the variants on one machine.
fn poisson_term_sums_with(
    terms: &SampleTerms,
    seed: u64,
    batch: u64,
    replicates: usize,
    instruction_set: InstructionSet,
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
        .for_each(|group| accumulate_group(terms, group, instruction_set));

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

/// The vector instructions that [`accumulate_group`] is compiled for. Every variant runs the
/// same integer and floating-point operations in the same order, so they give the same bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum InstructionSet {
    /// AVX-512 F, DQ and VL: eight 64-bit lanes per register, unsigned 64-bit comparisons and
    /// 64-bit multiplies in one instruction each.
    Avx512,
    /// AVX2: four 64-bit lanes per register.
    Avx2,
    /// The instructions that the compilation target guarantees, SSE2 on x86-64.
    Baseline,
}

impl InstructionSet {
    /// Returns the widest instruction set that the CPU supports.
    fn detect() -> Self {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f")
                && std::arch::is_x86_feature_detected!("avx512dq")
                && std::arch::is_x86_feature_detected!("avx512vl")
            {
                return Self::Avx512;
            }
            if crate::numerics::has_avx2() {
                return Self::Avx2;
            }
        }
        Self::Baseline
    }
}

/// Adds every chunk of `terms` to the sums of each replicate of `group`, with the instructions
/// of `instruction_set`, which the CPU must support (as [`InstructionSet::detect`] checks).
fn accumulate_group(
    terms: &SampleTerms,
    group: &mut [ReplicateSums],
    instruction_set: InstructionSet,
) {
    match instruction_set {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `InstructionSet::detect` found the target features the function is compiled
        // for, and tests pick a variant only after the same check.
        InstructionSet::Avx512 => unsafe { accumulate_group_avx512(terms, group) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: as above.
        InstructionSet::Avx2 => unsafe { accumulate_group_avx2(terms, group) },
        _ => accumulate_group_body(terms, group),
    }
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
    let mut block_counts = [0u64; BLOCK];
    let mut chunk_sums = vec![0.0; columns];

    for (chunk_index, chunk) in terms.values.chunks(CHUNK * columns).enumerate() {
        let first = chunk_index * CHUNK;
        for replicate in group.iter_mut() {
            let start = first_state(replicate.stream, first);
            if columns == 1 {
                let (sum, samples) =
                    poisson_weighted_sum(start, chunk, &unrolled, &mut block_counts);
                replicate.sums[0].add(sum);
                replicate.samples += samples;
            } else {
                let counts = &mut counts[..chunk.len() / columns];
                replicate.samples += poisson_counts(start, &unrolled, counts);
                weighted_column_sums(counts, chunk, &mut chunk_sums);
                for (sum, &part) in replicate.sums.iter_mut().zip(&chunk_sums) {
                    sum.add(part);
                }
            }
        }
    }
}

/// Returns the SplitMix64 state whose next draw is draw `first` of the stream whose state is
/// `stream`: draw `i` of a stream is the mix of `stream + (i + 1) * gamma`.
#[inline(always)]
fn first_state(stream: u64, first: usize) -> u64 {
    stream.wrapping_add((first as u64).wrapping_mul(SPLITMIX64_GAMMA))
}

/// Returns the Poisson(1) count of draw `offset` after the state `start`, counted against the
/// first [`UNROLLED_COUNT`] thresholds only, without branches. A result of `UNROLLED_COUNT`
/// means "at least `UNROLLED_COUNT`" and must be recounted with [`poisson_one_count`].
#[inline(always)]
fn unrolled_count(start: u64, offset: usize, unrolled: &[u64; UNROLLED_COUNT]) -> u64 {
    let draw = splitmix64_mix(
        start
            .wrapping_add(SPLITMIX64_GAMMA)
            .wrapping_add((offset as u64).wrapping_mul(SPLITMIX64_GAMMA)),
    );
    // The thresholds increase, so the count is one more than the index of the last threshold at
    // or below the draw. A select per threshold compiles to a compare and a masked move, where
    // adding the comparisons takes a compare, a mask-to-vector move and a subtraction.
    let mut k = 0;
    for (index, &threshold) in unrolled.iter().enumerate() {
        if draw >= threshold {
            k = index as u64 + 1;
        }
    }
    k
}

/// Returns the exact Poisson(1) count of draw `offset` after the state `start`.
#[cold]
fn exact_count(start: u64, offset: usize) -> u64 {
    let draw = splitmix64_mix(
        start
            .wrapping_add(SPLITMIX64_GAMMA)
            .wrapping_add((offset as u64).wrapping_mul(SPLITMIX64_GAMMA)),
    );
    poisson_one_count(draw, poisson_one_thresholds()) as u64
}

/// Returns `sum_i k_i * terms[i]` and `sum_i k_i`, where `k_i` is the Poisson(1) count of draw
/// `i` after the state `start`.
///
/// The counts are drawn [`BLOCK`] samples at a time into `counts`, which stays in the L1 cache
/// beside the block's terms. Sample `i` is added to accumulator `i % ACCUMULATORS`, and the
/// accumulators are added in a fixed order at the end, so the sum does not depend on the vector
/// width or on `BLOCK`.
#[inline(always)]
fn poisson_weighted_sum(
    start: u64,
    terms: &[f64],
    unrolled: &[u64; UNROLLED_COUNT],
    counts: &mut [u64; BLOCK],
) -> (f64, u64) {
    let mut accumulators = [0.0f64; ACCUMULATORS];
    let mut samples = 0;
    for (block_index, block) in terms.chunks(BLOCK).enumerate() {
        let counts = &mut counts[..block.len()];
        samples += poisson_counts(first_state(start, block_index * BLOCK), unrolled, counts);
        add_weighted_terms(&mut accumulators, counts, block);
    }
    (add_accumulators(&accumulators), samples)
}

/// Adds `counts[i] * terms[i]` to `accumulators[i % ACCUMULATORS]`.
///
/// Each accumulator is a separate element of a plain loop, which the compiler vectorizes at the
/// full register width. It does not vectorize a loop that adds to eight scalar lanes.
#[inline(always)]
fn add_weighted_terms(accumulators: &mut [f64; ACCUMULATORS], counts: &[u64], terms: &[f64]) {
    let count_rows = counts.chunks_exact(ACCUMULATORS);
    let term_rows = terms.chunks_exact(ACCUMULATORS);
    let (count_tail, term_tail) = (count_rows.remainder(), term_rows.remainder());
    for (counts, terms) in count_rows.zip(term_rows) {
        for ((sum, &count), &term) in accumulators.iter_mut().zip(counts).zip(terms) {
            *sum += weighted_term(count, term);
        }
    }
    for ((sum, &count), &term) in accumulators.iter_mut().zip(count_tail).zip(term_tail) {
        *sum += weighted_term(count, term);
    }
}

/// Returns the sum of the accumulators: those of each residue modulo 8 in increasing order,
/// then the eight results in a fixed tree order.
#[inline(always)]
fn add_accumulators(accumulators: &[f64; ACCUMULATORS]) -> f64 {
    let mut lanes = [0.0f64; 8];
    for row in accumulators.chunks_exact(8) {
        for (lane, &sum) in lanes.iter_mut().zip(row) {
            *lane += sum;
        }
    }
    ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3]))
        + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]))
}

/// Writes the Poisson(1) counts of the draws after the state `start` into `counts`, and
/// returns their sum. The counts are those of [`poisson_one_count`]: each draw is compared
/// with the first [`UNROLLED_COUNT`] thresholds without branches, so the loop vectorizes, and
/// the rare draws at or above the last of them are recounted against all thresholds.
#[inline(always)]
fn poisson_counts<C: Count>(start: u64, unrolled: &[u64; UNROLLED_COUNT], counts: &mut [C]) -> u64 {
    let mut saturated = false;
    for (offset, count) in counts.iter_mut().enumerate() {
        let k = unrolled_count(start, offset, unrolled);
        saturated |= k == UNROLLED_COUNT as u64;
        *count = C::from_count(k);
    }

    if saturated {
        // A piece is checked with one vectorized pass before its counts are looked at one by
        // one, because a block holds a saturated count often (26% of 512-sample blocks).
        for (piece_index, piece) in counts.chunks_mut(FIXUP_PIECE).enumerate() {
            let unrolled_max = C::from_count(UNROLLED_COUNT as u64);
            if !piece
                .iter()
                .fold(false, |found, &count| found | (count == unrolled_max))
            {
                continue;
            }
            for (offset, count) in piece.iter_mut().enumerate() {
                if *count == unrolled_max {
                    *count = C::from_count(exact_count(start, piece_index * FIXUP_PIECE + offset));
                }
            }
        }
    }
    counts.iter().map(|count| count.to_count()).sum()
}

/// An unsigned integer type that stores Poisson(1) counts, which stay far below `u32::MAX`
/// (the largest count that 64-bit thresholds give is below 30).
trait Count: Copy + PartialEq {
    fn from_count(count: u64) -> Self;
    fn to_count(self) -> u64;
}

impl Count for u32 {
    #[inline(always)]
    fn from_count(count: u64) -> Self {
        count as u32
    }

    #[inline(always)]
    fn to_count(self) -> u64 {
        u64::from(self)
    }
}

impl Count for u64 {
    #[inline(always)]
    fn from_count(count: u64) -> Self {
        count
    }

    #[inline(always)]
    fn to_count(self) -> u64 {
        self
    }
}

/// Returns `count * term`, and +0 for a count of 0 whatever the term, so that an infinite or
/// NaN term of a sample that was not drawn stays out of the sum, as it stays out of a resample.
/// For finite terms the result is the plain product, so the choice costs no precision.
///
/// The zero is made by masking the product's bits rather than by a branch: a count is 0 for
/// a third of the samples at random, so a branch would be mispredicted about as often.
#[inline(always)]
fn weighted_term(count: u64, term: f64) -> f64 {
    // Exact for counts below 2^52: the count becomes the mantissa of 2^52 + count.
    let count_f64 = f64::from_bits(count | TWO_POW_52_BITS) - TWO_POW_52;
    let keep = 0u64.wrapping_sub(u64::from(count != 0));
    f64::from_bits((count_f64 * term).to_bits() & keep)
}

/// Number of counts that [`poisson_counts`] checks at once for saturated counts.
const FIXUP_PIECE: usize = 32;

/// 2^52, and its bits, whose mantissa is zero.
const TWO_POW_52: f64 = 4_503_599_627_370_496.0;
const TWO_POW_52_BITS: u64 = 0x4330_0000_0000_0000;

/// Writes `sum_i counts[i] * terms[i, column]` for each column into `sums`, where `terms`
/// contains one row of `sums.len()` terms per count.
#[inline(always)]
fn weighted_column_sums(counts: &[u32], terms: &[f64], sums: &mut [f64]) {
    sums.fill(0.0);
    for (&count, row) in counts.iter().zip(terms.chunks_exact(sums.len())) {
        for (sum, &term) in sums.iter_mut().zip(row) {
            *sum += weighted_term(u64::from(count), term);
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
        let cases = [
            (0, 1),
            (1, 1),
            (2, 1),
            (3, 1),
            (7, 1),
            (65, 1),
            (513, 1),
            (4096, 1),
            (4097, 1),
            (10_001, 1),
            (2, 3),
            (5_000, 3),
        ];
        for (samples, columns) in cases {
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

    /// Returns the instruction sets that this CPU can run, the baseline first.
    fn supported_instruction_sets() -> Vec<InstructionSet> {
        let mut sets = vec![InstructionSet::Baseline];
        if crate::numerics::has_avx2() {
            sets.push(InstructionSet::Avx2);
        }
        if InstructionSet::detect() == InstructionSet::Avx512 {
            sets.push(InstructionSet::Avx512);
        }
        sets
    }

    #[test]
    fn kernel_same_bits_on_every_instruction_set() {
        let sets = supported_instruction_sets();
        for (samples, columns) in [
            (1, 1),
            (3, 1),
            (64, 1),
            (77, 1),
            (4_099, 1),
            (9_001, 1),
            (3, 2),
        ] {
            let values: Vec<f64> = (0..samples * columns)
                .map(|i| (i as f64 * 0.7).sin() * 1e3)
                .collect();
            let terms = SampleTerms::new(columns, 1, values).unwrap();
            let baseline = poisson_term_sums_with(&terms, 13, 2, 11, InstructionSet::Baseline);
            for &set in &sets[1..] {
                let sums = poisson_term_sums_with(&terms, 13, 2, 11, set);
                for (replicate, (sums, expected)) in sums.iter().zip(&baseline).enumerate() {
                    assert_eq!(sums.samples, expected.samples, "{set:?}, {samples} samples");
                    for (sum, expected) in sums.sums.iter().zip(&expected.sums) {
                        assert_eq!(
                            sum.value().to_bits(),
                            expected.value().to_bits(),
                            "{set:?}, {samples} samples, replicate {replicate}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn weighted_sum_recounts_saturated_draws() {
        let thresholds = poisson_one_thresholds();
        let unrolled: [u64; UNROLLED_COUNT] = std::array::from_fn(|k| thresholds[k]);
        let terms: Vec<f64> = (0..100).map(|i| 1.0 + i as f64).collect();
        // Draw 37 of the stream is u64::MAX, whose count is the largest count.
        let offset = 37;
        let stream =
            state_before(u64::MAX).wrapping_sub((offset as u64).wrapping_mul(SPLITMIX64_GAMMA));
        let expected_counts: Vec<u64> = (0..terms.len())
            .map(|i| {
                let draw = splitmix64_mix(
                    stream.wrapping_add((i as u64 + 1).wrapping_mul(SPLITMIX64_GAMMA)),
                );
                poisson_one_count(draw, thresholds) as u64
            })
            .collect();
        assert_eq!(expected_counts[offset], thresholds.len() as u64);

        let mut counts = [0u64; BLOCK];
        let (sum, samples) = poisson_weighted_sum(stream, &terms, &unrolled, &mut counts);
        let expected_sum: f64 = expected_counts
            .iter()
            .zip(&terms)
            .map(|(&count, &term)| count as f64 * term)
            .sum();
        assert_eq!(samples, expected_counts.iter().sum::<u64>());
        assert_eq!(counts[offset], thresholds.len() as u64);
        // The terms and counts are small integers, so every order of summation is exact.
        assert_eq!(sum, expected_sum);
    }

    #[test]
    fn weighted_term_is_exact_product() {
        assert_eq!(weighted_term(0, f64::INFINITY).to_bits(), 0.0f64.to_bits());
        assert_eq!(weighted_term(0, f64::NAN).to_bits(), 0.0f64.to_bits());
        assert_eq!(weighted_term(0, -3.0).to_bits(), 0.0f64.to_bits());
        assert_eq!(weighted_term(3, -0.1), 3.0 * -0.1);
        assert_eq!(weighted_term(29, 1e300), 29.0 * 1e300);
        assert!(weighted_term(2, f64::NAN).is_nan());
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
            let total = poisson_counts(stream, &unrolled, &mut counts);
            let expected = poisson_one_count(draw, thresholds) as u32;
            assert!(expected >= UNROLLED_COUNT as u32);
            assert_eq!(counts[0], expected);
            assert_eq!(total, counts.iter().map(|&k| u64::from(k)).sum::<u64>());
        }
    }

    #[test]
    fn unrolled_count_at_thresholds() {
        let thresholds = poisson_one_thresholds();
        let unrolled: [u64; UNROLLED_COUNT] = std::array::from_fn(|k| thresholds[k]);
        for (index, &threshold) in unrolled.iter().enumerate() {
            for draw in [threshold - 1, threshold] {
                let count = unrolled_count(state_before(draw), 0, &unrolled);
                let expected = poisson_one_count(draw, thresholds).min(UNROLLED_COUNT) as u64;
                assert_eq!(count, expected, "threshold {index}, draw {draw}");
            }
        }
        assert_eq!(unrolled_count(state_before(0), 0, &unrolled), 0);
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
