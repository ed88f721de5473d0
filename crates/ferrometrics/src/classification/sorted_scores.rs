//! Binary scores that are exactly `f32`, sorted by decreasing score with their labels and read
//! back as tie groups, the input of the exact binary curves.
//!
//! The sort has two levels. One pass puts each position in a bucket named by the 11 leading
//! bits of the score's 32-bit order key, storing the 21 low key bits and the label in one
//! `u32`. Each bucket is then sorted on those 22 bits by a least significant digit radix sort
//! with 11-bit digits, the buckets in parallel. Both levels move 4-byte items, half the bytes
//! of a packed `(score, label)` `u64`. The result does not depend on the thread count: the
//! bucketing pass writes each chunk of positions to ranges fixed by the counts of the chunks
//! before it, and every bucket is sorted on its own.

use rayon::prelude::*;

use crate::radix::{f32_from_order_key, f32_order_key};

/// Key bits sorted inside each bucket of the first level.
const LOW_BITS: u32 = 21;
const LOW_MASK: u32 = (1 << LOW_BITS) - 1;
const LEADING_BUCKETS: usize = 1 << (u32::BITS - LOW_BITS);
const DIGIT_BITS: u32 = 11;
const DIGIT_MASK: u32 = (1 << DIGIT_BITS) - 1;
const DIGIT_BUCKETS: usize = 1 << DIGIT_BITS;
/// Positions per parallel chunk of the bucketing passes; fixed so that the chunking does not
/// follow the thread count.
const CHUNK: usize = 1 << 18;
/// Buckets up to this length are sorted by comparison, which costs less than clearing and
/// reading two radix histograms of 2048 entries.
const SMALL_BUCKET: usize = 1024;

/// The descending keys of +0.0 and -0.0. They are adjacent, and the two zeros form one tie
/// group because they compare equal.
const POSITIVE_ZERO_KEY: u32 = !(1 << 31);
const NEGATIVE_ZERO_KEY: u32 = 1 << 31;

/// Maps a score to a `u32` whose increasing unsigned order is the decreasing score order.
fn descending_key(score: f32) -> u32 {
    !f32_order_key(score)
}

/// A pointer into the output of the bucketing pass, shared by the chunks that write disjoint
/// ranges of it.
struct SharedOutput(*mut u32);

// SAFETY: the chunks of `SortedScores::from_binary` write disjoint index ranges, and nothing
// reads the buffer until every chunk is done.
unsafe impl Send for SharedOutput {}
unsafe impl Sync for SharedOutput {}

impl SharedOutput {
    /// Writes `value` at `index`.
    ///
    /// # Safety
    ///
    /// `index` must be inside the allocation and written by no other chunk.
    unsafe fn write(&self, index: usize, value: u32) {
        // SAFETY: guaranteed by the caller.
        unsafe { self.0.add(index).write(value) }
    }
}

/// Labelled binary scores sorted by decreasing score.
#[derive(Debug)]
pub(crate) struct SortedScores {
    /// Bucket `b` is `items[bounds[b]..bounds[b + 1]]`, holding the keys whose 11 leading bits
    /// are `b`.
    bounds: Vec<usize>,
    /// `(low 21 key bits) << 1 | label` per position, in increasing order within each bucket.
    items: Vec<u32>,
    positives: u64,
}

impl SortedScores {
    /// Sorts the pairs `(scores[i], targets[i])`, leaving out positions whose target is
    /// negative (ignored). Targets must be -1, 0 or 1 and the slices of equal length.
    ///
    /// Returns `None` if a score is not exactly an `f32` (or the lengths differ), so the
    /// caller sorts the `f64` keys instead.
    pub(crate) fn from_binary(scores: &[f64], targets: &[i32]) -> Option<Self> {
        if scores.len() != targets.len() {
            return None;
        }

        // Count each chunk's positions per bucket, checking that every score is an f32.
        let chunk_counts: Vec<Option<(Vec<usize>, u64)>> = scores
            .par_chunks(CHUNK)
            .zip(targets.par_chunks(CHUNK))
            .map(|(scores, targets)| {
                let mut counts = vec![0usize; LEADING_BUCKETS];
                let mut wide = false;
                let mut positives = 0u64;
                for (&score, &label) in scores.iter().zip(targets) {
                    let narrow = score as f32;
                    wide |= f64::from(narrow).to_bits() != score.to_bits();
                    let kept = label >= 0;
                    counts[(descending_key(narrow) >> LOW_BITS) as usize] += usize::from(kept);
                    positives += u64::from(label == 1);
                }
                (!wide).then_some((counts, positives))
            })
            .collect();

        // Each chunk starts writing bucket b after the positions of b in the chunks before it.
        let mut totals = vec![0usize; LEADING_BUCKETS];
        let mut positives = 0;
        let mut chunk_starts = Vec::with_capacity(chunk_counts.len());
        for counts in &chunk_counts {
            let (counts, chunk_positives) = counts.as_ref()?;
            chunk_starts.push(totals.clone());
            for (total, &count) in totals.iter_mut().zip(counts) {
                *total += count;
            }
            positives += chunk_positives;
        }
        let mut bounds = Vec::with_capacity(LEADING_BUCKETS + 1);
        let mut running = 0;
        for &total in &totals {
            bounds.push(running);
            running += total;
        }
        bounds.push(running);
        let len = running;
        for starts in &mut chunk_starts {
            for (start, &bound) in starts.iter_mut().zip(&bounds) {
                *start += bound;
            }
        }

        let mut items: Vec<u32> = Vec::with_capacity(len);
        let output = SharedOutput(items.as_mut_ptr());
        scores
            .par_chunks(CHUNK)
            .zip(targets.par_chunks(CHUNK))
            .zip(chunk_starts)
            .for_each(|((scores, targets), mut next)| {
                for (&score, &label) in scores.iter().zip(targets) {
                    if label < 0 {
                        continue;
                    }
                    let key = descending_key(score as f32);
                    let bucket = (key >> LOW_BITS) as usize;
                    // SAFETY: `next[bucket]` runs over this chunk's range of the bucket, which
                    // the counting pass sized with the same keys and the same filter, so it
                    // stays below `len` and no other chunk writes it.
                    unsafe { output.write(next[bucket], (key & LOW_MASK) << 1 | label as u32) };
                    next[bucket] += 1;
                }
            });
        // SAFETY: the chunks wrote every index below `len` once (the bucket ranges tile it).
        unsafe { items.set_len(len) };

        let mut scratch = vec![0u32; len];
        let mut buckets = Vec::new();
        let (mut items_rest, mut scratch_rest) = (&mut items[..], &mut scratch[..]);
        for range in bounds.windows(2) {
            let (bucket, rest) = items_rest.split_at_mut(range[1] - range[0]);
            let (bucket_scratch, rest_scratch) = scratch_rest.split_at_mut(bucket.len());
            if bucket.len() > 1 {
                buckets.push((bucket, bucket_scratch));
            }
            (items_rest, scratch_rest) = (rest, rest_scratch);
        }
        buckets
            .into_par_iter()
            .for_each(|(bucket, scratch)| sort_bucket(bucket, scratch));

        Some(Self {
            bounds,
            items,
            positives,
        })
    }

    /// Returns the numbers of positive and negative positions.
    pub(crate) fn totals(&self) -> (u64, u64) {
        (self.positives, self.items.len() as u64 - self.positives)
    }

    /// Returns the number of positions.
    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }

    /// Calls `visit(score, positives, negatives)` once per distinct score, in decreasing
    /// score order. A group of +0.0 and -0.0 reports -0.0, the last of the group in that order.
    pub(crate) fn for_each_group(&self, visit: impl FnMut(f32, u64, u64)) {
        let mut groups = TieGroups::new(visit);
        for (bucket, range) in self.bounds.windows(2).enumerate() {
            let high = (bucket as u32) << LOW_BITS;
            for &item in &self.items[range[0]..range[1]] {
                groups.push(high | item >> 1, item & 1);
            }
        }
        groups.finish();
    }

    /// Calls `visit(positives, negatives)` once per distinct score, in increasing score order.
    pub(crate) fn for_each_group_ascending(&self, mut visit: impl FnMut(u64, u64)) {
        let mut groups = TieGroups::new(|_, positives, negatives| visit(positives, negatives));
        for (bucket, range) in self.bounds.windows(2).enumerate().rev() {
            let high = (bucket as u32) << LOW_BITS;
            for &item in self.items[range[0]..range[1]].iter().rev() {
                groups.push(high | item >> 1, item & 1);
            }
        }
        groups.finish();
    }
}

/// Folds runs of equal scores, pushed as descending keys with their labels, into one
/// `visit(score of the run's last key, positives, negatives)` call each.
struct TieGroups<V: FnMut(f32, u64, u64)> {
    visit: V,
    /// The last key pushed, `None` before the first.
    last_key: Option<u32>,
    positives: u64,
    negatives: u64,
}

impl<V: FnMut(f32, u64, u64)> TieGroups<V> {
    fn new(visit: V) -> Self {
        Self {
            visit,
            last_key: None,
            positives: 0,
            negatives: 0,
        }
    }

    fn push(&mut self, key: u32, label: u32) {
        if let Some(last_key) = self.last_key {
            // The two zeros are the only distinct keys of equal scores, and they are adjacent.
            let zeros = key ^ last_key == u32::MAX
                && (key == POSITIVE_ZERO_KEY || key == NEGATIVE_ZERO_KEY);
            if key != last_key && !zeros {
                (self.visit)(
                    f32_from_order_key(!last_key),
                    self.positives,
                    self.negatives,
                );
                (self.positives, self.negatives) = (0, 0);
            }
        }
        self.last_key = Some(key);
        self.positives += u64::from(label);
        self.negatives += u64::from(1 - label);
    }

    fn finish(mut self) {
        if let Some(last_key) = self.last_key {
            (self.visit)(
                f32_from_order_key(!last_key),
                self.positives,
                self.negatives,
            );
        }
    }
}

/// Sorts the 22-bit items of one bucket, using `scratch` (of the same length) as the second
/// buffer of the radix sort.
fn sort_bucket(items: &mut [u32], scratch: &mut [u32]) {
    let len = items.len();
    if len <= SMALL_BUCKET {
        items.sort_unstable();
        return;
    }
    let mut counts = [[0usize; DIGIT_BUCKETS]; 2];
    for &item in items.iter() {
        counts[0][(item & DIGIT_MASK) as usize] += 1;
        counts[1][(item >> DIGIT_BITS) as usize] += 1;
    }

    let mut in_scratch = false;
    for (digit, count) in counts.iter().enumerate() {
        // A digit shared by every item leaves the order unchanged.
        if count.contains(&len) {
            continue;
        }
        let mut offsets = [0usize; DIGIT_BUCKETS];
        let mut running = 0;
        for (offset, &c) in offsets.iter_mut().zip(count.iter()) {
            *offset = running;
            running += c;
        }
        let shift = digit as u32 * DIGIT_BITS;
        if in_scratch {
            scatter(scratch, items, shift, &mut offsets);
        } else {
            scatter(items, scratch, shift, &mut offsets);
        }
        in_scratch = !in_scratch;
    }
    if in_scratch {
        items.copy_from_slice(scratch);
    }
}

/// Moves each item of `source` to the next free slot of its digit's range in `target`.
fn scatter(source: &[u32], target: &mut [u32], shift: u32, offsets: &mut [usize; DIGIT_BUCKETS]) {
    for &item in source {
        let digit = ((item >> shift) & DIGIT_MASK) as usize;
        target[offsets[digit]] = item;
        offsets[digit] += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Returns the groups of a comparison sort: (score, positives, negatives) per distinct
    /// score in decreasing order, ±0 merged and reported as the last of the run.
    fn reference_groups(scores: &[f64], targets: &[i32]) -> Vec<(f32, u64, u64)> {
        let mut pairs: Vec<(f32, i32)> = scores
            .iter()
            .zip(targets)
            .filter(|pair| *pair.1 >= 0)
            .map(|(&score, &label)| (score as f32, label))
            .collect();
        pairs.sort_by(|a, b| b.0.total_cmp(&a.0));
        let mut groups: Vec<(f32, u64, u64)> = Vec::new();
        for (score, label) in pairs {
            let positive = u64::from(label == 1);
            match groups.last_mut() {
                Some(last) if last.0 == score => {
                    *last = (score, last.1 + positive, last.2 + 1 - positive);
                }
                _ => groups.push((score, positive, 1 - positive)),
            }
        }
        groups
    }

    fn groups_of(sorted: &SortedScores) -> Vec<(f32, u64, u64)> {
        let mut groups = Vec::new();
        sorted.for_each_group(|score, positives, negatives| {
            groups.push((score, positives, negatives));
        });
        groups
    }

    #[test]
    fn groups_match_comparison_sort() {
        // A fixed linear congruential sequence: few distinct scores in the first half (long
        // ties and radix buckets), many in the second, and every 17th target ignored.
        let mut state = 12345u64;
        let mut next = || {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1);
            state >> 33
        };
        let n = 3 * CHUNK + 777;
        let mut scores = Vec::with_capacity(n);
        let mut targets = Vec::with_capacity(n);
        for index in 0..n {
            let value = if index < n / 2 {
                (next() % 300) as f32 / 299.0
            } else {
                (next() % (1 << 24)) as f32 / (1 << 24) as f32
            };
            scores.push(f64::from(value));
            targets.push(if index % 17 == 0 {
                -1
            } else {
                (next() % 2) as i32
            });
        }
        let sorted = SortedScores::from_binary(&scores, &targets).unwrap();
        let expected = reference_groups(&scores, &targets);
        assert_eq!(groups_of(&sorted), expected);

        let mut ascending = Vec::new();
        sorted.for_each_group_ascending(|positives, negatives| {
            ascending.push((positives, negatives));
        });
        let mut expected_counts: Vec<(u64, u64)> = expected.iter().map(|g| (g.1, g.2)).collect();
        expected_counts.reverse();
        assert_eq!(ascending, expected_counts);

        let positives = targets.iter().filter(|&&label| label == 1).count() as u64;
        let kept = targets.iter().filter(|&&label| label >= 0).count() as u64;
        assert_eq!(sorted.totals(), (positives, kept - positives));
    }

    #[test]
    fn signed_zeros_form_one_group() {
        let scores = [0.0, -0.0, 0.5, -0.0, -1.5, 0.0];
        let targets = [1, 0, 1, 1, 0, 0];
        let sorted = SortedScores::from_binary(&scores, &targets).unwrap();
        assert_eq!(
            groups_of(&sorted),
            vec![(0.5, 1, 0), (-0.0, 2, 2), (-1.5, 0, 1)]
        );
        let zero = groups_of(&sorted)[1].0;
        assert!(zero.is_sign_negative());
    }

    #[test]
    fn wide_scores_and_empty_input() {
        assert!(SortedScores::from_binary(&[0.1, 0.5], &[0, 1]).is_none());
        assert!(SortedScores::from_binary(&[0.5], &[0, 1]).is_none());
        let empty = SortedScores::from_binary(&[], &[]).unwrap();
        assert_eq!(empty.len(), 0);
        assert!(groups_of(&empty).is_empty());
        let ignored = SortedScores::from_binary(&[0.5, 0.25], &[-1, -1]).unwrap();
        assert_eq!(ignored.totals(), (0, 0));
        assert!(groups_of(&ignored).is_empty());
    }
}
