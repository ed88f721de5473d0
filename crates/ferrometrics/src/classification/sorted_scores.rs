//! Binary scores that are exactly `f32`, sorted by decreasing score with their labels and read
//! back as tie groups, the input of the exact binary curves.
//!
//! Each score maps to a 32-bit key whose increasing order is the decreasing score order, with
//! -0.0 keyed as +0.0 because the two compare equal. The sort has two levels over the range of
//! keys present, `[min, max]`. One pass puts each position in one of at most 4096 buckets named
//! by the leading bits of `key - min`, storing the remaining low bits and the label in one
//! `u32`. Each bucket is then sorted on those bits by a least significant digit radix sort, the
//! buckets in parallel, each small enough to stay in the cache for scores spread over (0, 1).
//!
//! No tie group spans two buckets, so the buckets are also read in parallel: each receives the
//! counts of the buckets before it and the index of its first group, and writes its own slice
//! of every output. The result does not depend on the thread count: the bucketing pass writes
//! each fixed-size chunk of positions to ranges fixed by the counts of the chunks before it,
//! and every bucket is sorted and read on its own.

use std::mem::MaybeUninit;

use rayon::prelude::*;

use crate::large_buffer::Spare;
use crate::radix::{f32_from_order_key, f32_order_key};

/// The sorted items of the last sort, kept for the next one.
static ITEMS: Spare<u32> = Spare::new(1);
/// The narrowed labels of the last sort, kept for the next one.
static LABELS: Spare<i8> = Spare::new(1);

/// Leading bits of `key - min` that name a bucket: 4096 buckets keep the write positions of the
/// bucketing pass within the L2 cache.
const BUCKET_BITS: u32 = 12;
/// Positions per parallel chunk of the bucketing passes; fixed so that the chunking does not
/// follow the thread count.
const CHUNK: usize = 1 << 18;
/// Buckets up to this length are sorted by comparison, which costs less than clearing and
/// reading radix histograms.
const SMALL_BUCKET: usize = 256;
/// Largest radix digit inside a bucket, so that the histogram of a pass stays in the L1 cache.
const MAX_DIGIT_BITS: u32 = 11;

/// Positions per block of the tie group walk, whose per-group counts stay in the L1 cache.
const GROUP_BLOCK: usize = 1024;

/// The label of a target that is neither 0, 1 nor ignored.
const INVALID_LABEL: i32 = 2;

/// The descending key of +0.0, which -0.0 shares.
const ZERO_KEY: u32 = !(1 << 31);

/// Maps a score to a `u32` whose increasing unsigned order is the decreasing score order, with
/// -0.0 and +0.0 sharing one key.
fn descending_key(score: f32) -> u32 {
    let score = if score == 0.0 { 0.0 } else { score };
    !f32_order_key(score)
}

/// A pointer into an output shared by parallel tasks that write disjoint index ranges of it.
struct SharedOutput<T>(*mut T);

// SAFETY: every user of `SharedOutput` writes disjoint index ranges from its tasks, and nothing
// reads the buffer until every task is done.
unsafe impl<T: Send> Send for SharedOutput<T> {}
unsafe impl<T: Send> Sync for SharedOutput<T> {}

impl<T> SharedOutput<T> {
    /// Writes `value` at `index`.
    ///
    /// # Safety
    ///
    /// `index` must be inside the allocation and written by no other task.
    unsafe fn write(&self, index: usize, value: T) {
        // SAFETY: guaranteed by the caller.
        unsafe { self.0.add(index).write(value) }
    }
}

/// Returns the smallest and largest key of `scores`, or `None` if it is empty.
///
/// The keys follow from the largest and smallest score, which a comparison of floats finds in
/// vector registers. A NaN, which that comparison skips, sends the chunk to a pass over the keys.
fn key_range(scores: &[f32]) -> Option<(u32, u32)> {
    if scores.is_empty() {
        return None;
    }
    let range = scores
        .par_chunks(CHUNK)
        .map(|chunk| match score_range(chunk) {
            Some((lowest, highest)) => (descending_key(highest), descending_key(lowest)),
            None => chunk.iter().fold((u32::MAX, 0), |(min, max), &score| {
                let key = descending_key(score);
                (min.min(key), max.max(key))
            }),
        })
        .reduce(|| (u32::MAX, 0), |a, b| (a.0.min(b.0), a.1.max(b.1)));
    Some(range)
}

/// Returns the smallest and largest of a non-empty `scores`, or `None` if one is NaN.
fn score_range(scores: &[f32]) -> Option<(f32, f32)> {
    const LANES: usize = 16;
    let mut lowest = [f32::INFINITY; LANES];
    let mut highest = [f32::NEG_INFINITY; LANES];
    let mut unordered = [0u32; LANES];
    let mut blocks = scores.chunks_exact(LANES);
    for block in &mut blocks {
        for lane in 0..LANES {
            let score = block[lane];
            lowest[lane] = if score < lowest[lane] {
                score
            } else {
                lowest[lane]
            };
            highest[lane] = if score > highest[lane] {
                score
            } else {
                highest[lane]
            };
            unordered[lane] |= u32::from(score.is_nan());
        }
    }
    for &score in blocks.remainder() {
        lowest[0] = if score < lowest[0] { score } else { lowest[0] };
        highest[0] = if score > highest[0] {
            score
        } else {
            highest[0]
        };
        unordered[0] |= u32::from(score.is_nan());
    }
    if unordered.iter().any(|&flag| flag != 0) {
        return None;
    }
    let lowest = lowest.into_iter().fold(f32::INFINITY, f32::min);
    let highest = highest.into_iter().fold(f32::NEG_INFINITY, f32::max);
    Some((lowest, highest))
}

/// The split of a key into its bucket and the low bits that an item stores.
#[derive(Clone, Copy)]
struct BucketKeys {
    min_key: u32,
    low_bits: u32,
    low_mask: u32,
}

impl BucketKeys {
    /// Adds each kept position of one chunk to `counts[bucket]`, and returns whether a kept
    /// score is -0.0 and whether every label is at most 1.
    fn count(
        self,
        scores: &[f32],
        labels: impl Iterator<Item = i32>,
        counts: &mut [u32],
    ) -> (bool, bool) {
        let mut negative_zero = false;
        let mut valid = true;
        for (&score, label) in scores.iter().zip(labels) {
            let kept = label >= 0;
            valid &= label <= 1;
            let bucket = ((descending_key(score) - self.min_key) >> self.low_bits) as usize;
            counts[bucket] += u32::from(kept);
            negative_zero |= kept & (score.to_bits() == (-0.0f32).to_bits());
        }
        (negative_zero, valid)
    }

    /// Writes the item of each kept position of one chunk at `next[bucket]`, advancing it.
    fn scatter(
        self,
        scores: &[f32],
        labels: impl Iterator<Item = i32>,
        next: &mut [usize],
        output: &SharedOutput<u32>,
    ) {
        for (&score, label) in scores.iter().zip(labels) {
            if label < 0 {
                continue;
            }
            let relative = descending_key(score) - self.min_key;
            let bucket = (relative >> self.low_bits) as usize;
            // SAFETY: `next[bucket]` runs over this chunk's range of the bucket, which the
            // counting pass sized with the same keys and the same labels, so it stays below the
            // item count and no other chunk writes it.
            unsafe { output.write(next[bucket], (relative & self.low_mask) << 1 | label as u32) };
            next[bucket] += 1;
        }
    }
}

/// Labelled binary scores sorted by decreasing score.
#[derive(Debug)]
pub(crate) struct SortedScores {
    /// The smallest key present; items store keys relative to it.
    min_key: u32,
    /// Key bits below the bucket index, stored in each item above the label bit.
    low_bits: u32,
    /// Bucket `b` is `items[bounds[b]..bounds[b + 1]]`, holding the keys with
    /// `(key - min_key) >> low_bits == b`.
    bounds: Vec<usize>,
    /// `(key - min_key) mod 2^low_bits << 1 | label` per position, in increasing order within
    /// each bucket.
    items: Vec<u32>,
    /// Positives in the buckets before bucket `b`, and in all buckets at the end.
    positives_before: Vec<u64>,
    /// Tie groups in the buckets before bucket `b`, and in all buckets at the end.
    groups_before: Vec<usize>,
    /// Whether a kept position scores -0.0, so that the zero group reports -0.0.
    negative_zero: bool,
}

impl Drop for SortedScores {
    fn drop(&mut self) {
        ITEMS.keep(std::mem::take(&mut self.items));
    }
}

/// The tie groups of one bucket, with the counts of every position before them in decreasing
/// score order.
pub(crate) struct BucketGroups<'a> {
    items: &'a [u32],
    /// The smallest key of the bucket's range, to which each item adds its low bits.
    base_key: u32,
    negative_zero: bool,
    /// Positives and negatives with a higher score than any in this bucket.
    pub positives_before: u64,
    pub negatives_before: u64,
}

impl BucketGroups<'_> {
    /// Calls `visit(score, positives, negatives)` once per distinct score of the bucket, in
    /// decreasing score order. The group of +0.0 and -0.0 reports -0.0 when one of its scores
    /// is -0.0.
    ///
    /// Positions are walked in blocks without a branch on the group boundaries, because those
    /// are close to random for scores with few ties. Each position writes its group's running
    /// counts to the group's slot of the block, and a boundary moves on to the next slot.
    /// `visit` then runs over the groups that the block completed.
    pub(crate) fn for_each(&self, mut visit: impl FnMut(f32, u64, u64)) {
        let Some(&last_item) = self.items.last() else {
            return;
        };
        let mut lows = [0u32; GROUP_BLOCK];
        let mut running = [(0u64, 0u64); GROUP_BLOCK];
        let (mut positives, mut negatives) = (0u64, 0u64);
        let mut visited = (0u64, 0u64);
        for (index, block) in self.items.chunks(GROUP_BLOCK).enumerate() {
            // The low bits of `!last_item` differ from those of `last_item`, so the last
            // position ends its group.
            let following = *self
                .items
                .get((index + 1) * GROUP_BLOCK)
                .unwrap_or(&!last_item);
            let mut group = 0;
            for (offset, &item) in block.iter().enumerate() {
                let next = block.get(offset + 1).copied().unwrap_or(following);
                let label = u64::from(item & 1);
                positives += label;
                negatives += 1 - label;
                lows[group] = item >> 1;
                running[group] = (positives, negatives);
                group += usize::from(next >> 1 != item >> 1);
            }
            for (&low, &(group_end_positives, group_end_negatives)) in
                lows.iter().zip(&running).take(group)
            {
                visit(
                    self.score(low),
                    group_end_positives - visited.0,
                    group_end_negatives - visited.1,
                );
                visited = (group_end_positives, group_end_negatives);
            }
        }
    }

    fn score(&self, low: u32) -> f32 {
        let key = self.base_key + low;
        if key == ZERO_KEY && self.negative_zero {
            -0.0
        } else {
            f32_from_order_key(!key)
        }
    }
}

impl SortedScores {
    /// Sorts the pairs `(scores[i], targets[i])`, leaving out positions whose target is
    /// negative (ignored). Targets must be -1, 0 or 1 and the slices of equal length.
    ///
    /// The bucket range spans the keys of every position, the ignored ones included, so that
    /// finding it needs no pass over the targets.
    ///
    /// # Panics
    ///
    /// Panics if a target is above 1.
    pub(crate) fn from_binary<L: Copy + Into<i32> + Sync>(scores: &[f32], targets: &[L]) -> Self {
        Self::sort_labelled(scores, targets, |label| label.into(), false)
            .expect("binary targets are -1, 0 or 1")
    }

    /// Sorts `float32` probabilities with integer targets, as a binary batch that passes
    /// validation would be stored and then sorted by [`Self::from_binary`], but without the
    /// copy of the scores. Positions whose target equals `ignore_index` are left out.
    ///
    /// Returns `None` when the slices differ in length, a score is NaN or outside [0, 1], or a
    /// target is neither 0, 1 nor `ignore_index`. Nothing but scratch counts is written then,
    /// and the caller takes the validating path that reports the error.
    pub(crate) fn from_unit_scores(
        scores: &[f32],
        targets: &[i64],
        ignore_index: Option<i64>,
    ) -> Option<Self> {
        if scores.len() != targets.len() {
            return None;
        }
        let label = |target: i64| {
            if ignore_index == Some(target) {
                -1
            } else if (target as u64) <= 1 {
                target as i32
            } else {
                INVALID_LABEL
            }
        };
        Self::sort_labelled(scores, targets, label, true)
    }

    /// Sorts the pairs whose `label(target)` is 0 or 1, leaving out those where it is negative.
    /// Returns `None` before the scatter pass if a label is above 1, or if `unit_scores` is set
    /// and a score is NaN or outside [0, 1].
    fn sort_labelled<L: Copy + Sync>(
        scores: &[f32],
        targets: &[L],
        label: impl Fn(L) -> i32 + Sync,
        unit_scores: bool,
    ) -> Option<Self> {
        debug_assert_eq!(scores.len(), targets.len());
        let Some((min_key, max_key)) = key_range(scores) else {
            return Some(Self {
                min_key: 0,
                low_bits: 0,
                bounds: vec![0],
                items: Vec::new(),
                positives_before: vec![0],
                groups_before: vec![0],
                negative_zero: false,
            });
        };
        // The smallest key is the largest score in `f32::total_cmp` order. That order puts a
        // NaN with the sign bit clear above +inf and one with the sign bit set below -inf, so
        // the two extremes are within [0, 1] exactly when every score is.
        if unit_scores {
            let (highest, lowest) = (f32_from_order_key(!min_key), f32_from_order_key(!max_key));
            if !(highest <= 1.0 && lowest >= 0.0) {
                return None;
            }
        }
        let span = max_key - min_key;
        let span_bits = u32::BITS - span.leading_zeros();
        let low_bits = span_bits.saturating_sub(BUCKET_BITS);
        let buckets = (span >> low_bits) as usize + 1;
        let low_mask = ((1u64 << low_bits) - 1) as u32;
        let keys = BucketKeys {
            min_key,
            low_bits,
            low_mask,
        };

        // Count each chunk's kept positions per bucket, find a kept -0.0, and check the labels.
        // Targets wider than a byte are also narrowed to `i8` labels, so that the scatter pass
        // reads one byte per position in place of the target.
        let narrow_labels = size_of::<L>() > 1;
        let mut labels: Vec<i8> = if narrow_labels {
            LABELS.take(scores.len())
        } else {
            Vec::new()
        };
        let label_chunks: Vec<&mut [MaybeUninit<i8>]> = if narrow_labels {
            labels.spare_capacity_mut()[..scores.len()]
                .chunks_mut(CHUNK)
                .collect()
        } else {
            scores.chunks(CHUNK).map(|_| Default::default()).collect()
        };
        let chunk_counts: Vec<(Vec<u32>, bool, bool)> = scores
            .par_chunks(CHUNK)
            .zip(targets.par_chunks(CHUNK))
            .zip(label_chunks)
            .map(|((scores, targets), labels)| {
                let mut counts = vec![0u32; buckets];
                let (negative_zero, valid) = if narrow_labels {
                    for (slot, &target) in labels.iter_mut().zip(targets) {
                        slot.write(label(target) as i8);
                    }
                    // SAFETY: the loop above initialized every label of the chunk, whose
                    // slice is as long as its targets.
                    let labels = unsafe { &*(labels as *const [MaybeUninit<i8>] as *const [i8]) };
                    keys.count(
                        scores,
                        labels.iter().map(|&label| i32::from(label)),
                        &mut counts,
                    )
                } else {
                    keys.count(
                        scores,
                        targets.iter().map(|&target| label(target)),
                        &mut counts,
                    )
                };
                (counts, negative_zero, valid)
            })
            .collect();
        if !chunk_counts.iter().all(|chunk| chunk.2) {
            LABELS.keep(labels);
            return None;
        }
        if narrow_labels {
            // SAFETY: each chunk of positions wrote the label of every position in it.
            unsafe { labels.set_len(scores.len()) };
        }
        let negative_zero = chunk_counts.iter().any(|chunk| chunk.1);

        // Each chunk starts writing bucket b after the positions of b in the chunks before it.
        let mut bounds = Vec::with_capacity(buckets + 1);
        let mut running = 0usize;
        for bucket in 0..buckets {
            bounds.push(running);
            running += chunk_counts
                .iter()
                .map(|(counts, ..)| counts[bucket] as usize)
                .sum::<usize>();
        }
        bounds.push(running);
        let len = running;
        let chunk_starts: Vec<Vec<usize>> = {
            let mut next = bounds[..buckets].to_vec();
            chunk_counts
                .iter()
                .map(|(counts, ..)| {
                    let starts = next.clone();
                    for (start, &count) in next.iter_mut().zip(counts) {
                        *start += count as usize;
                    }
                    starts
                })
                .collect()
        };

        let mut items: Vec<u32> = ITEMS.take(len);
        let output = SharedOutput(items.as_mut_ptr());
        let label_chunks: Vec<&[i8]> = if narrow_labels {
            labels.chunks(CHUNK).collect()
        } else {
            scores.chunks(CHUNK).map(|_| Default::default()).collect()
        };
        scores
            .par_chunks(CHUNK)
            .zip(targets.par_chunks(CHUNK))
            .zip(chunk_starts)
            .zip(label_chunks)
            .for_each(|(((scores, targets), mut next), labels)| {
                if narrow_labels {
                    let labels = labels.iter().map(|&label| i32::from(label));
                    keys.scatter(scores, labels, &mut next, &output);
                } else {
                    let labels = targets.iter().map(|&target| label(target));
                    keys.scatter(scores, labels, &mut next, &output);
                }
            });
        // SAFETY: the chunks wrote every index below `len` once (the bucket ranges tile it).
        unsafe { items.set_len(len) };
        LABELS.keep(labels);

        // Sort each bucket and count its positives and tie groups.
        let mut slices = Vec::with_capacity(buckets);
        let mut rest = &mut items[..];
        for range in bounds.windows(2) {
            let (bucket, tail) = rest.split_at_mut(range[1] - range[0]);
            slices.push(bucket);
            rest = tail;
        }
        let item_bits = low_bits + 1;
        let summaries: Vec<(u64, usize)> = slices
            .into_par_iter()
            .map_init(RadixScratch::default, |scratch, bucket| {
                sort_bucket(bucket, scratch, item_bits);
                summarize_bucket(bucket)
            })
            .collect();

        let mut positives_before = Vec::with_capacity(buckets + 1);
        let mut groups_before = Vec::with_capacity(buckets + 1);
        let (mut positives, mut groups) = (0u64, 0usize);
        for &(bucket_positives, bucket_groups) in &summaries {
            positives_before.push(positives);
            groups_before.push(groups);
            positives += bucket_positives;
            groups += bucket_groups;
        }
        positives_before.push(positives);
        groups_before.push(groups);

        Some(Self {
            min_key,
            low_bits,
            bounds,
            items,
            positives_before,
            groups_before,
            negative_zero,
        })
    }

    /// Returns the numbers of positive and negative positions.
    pub(crate) fn totals(&self) -> (u64, u64) {
        let positives = *self.positives_before.last().unwrap_or(&0);
        (positives, self.items.len() as u64 - positives)
    }

    /// Returns the number of distinct scores.
    pub(crate) fn group_count(&self) -> usize {
        *self.groups_before.last().unwrap_or(&0)
    }

    /// Returns the tie groups of each bucket, in decreasing score order of the buckets.
    pub(crate) fn buckets(&self) -> Vec<BucketGroups<'_>> {
        (0..self.bounds.len() - 1)
            .map(|bucket| {
                let start = self.bounds[bucket];
                let positives_before = self.positives_before[bucket];
                BucketGroups {
                    items: &self.items[start..self.bounds[bucket + 1]],
                    base_key: self.min_key + ((bucket as u32) << self.low_bits),
                    negative_zero: self.negative_zero,
                    positives_before,
                    negatives_before: start as u64 - positives_before,
                }
            })
            .collect()
    }

    /// Splits `output`, one entry per tie group, into one slice per bucket, as
    /// [`Self::buckets`] lists them.
    ///
    /// # Panics
    ///
    /// Panics if `output` does not have [`Self::group_count`] entries.
    pub(crate) fn split_by_bucket<'a, T>(&self, output: &'a mut [T]) -> Vec<&'a mut [T]> {
        assert_eq!(output.len(), self.group_count());
        let mut slices = Vec::with_capacity(self.bounds.len() - 1);
        let mut rest = output;
        for counts in self.groups_before.windows(2) {
            let (slice, tail) = rest.split_at_mut(counts[1] - counts[0]);
            slices.push(slice);
            rest = tail;
        }
        slices
    }

    /// Appends one row of `K` values per tie group to `columns`, in decreasing score order.
    /// `fill(bucket, rows)` runs on the buckets in parallel and pushes one row per group of its
    /// bucket into `rows`, which writes straight into the columns' spare capacity.
    ///
    /// # Panics
    ///
    /// Panics if `fill` pushes more or fewer rows than its bucket has groups.
    pub(crate) fn extend_per_group<const K: usize>(
        &self,
        columns: [&mut Vec<f64>; K],
        fill: impl Fn(&BucketGroups<'_>, &mut GroupRows<'_, K>) + Sync,
    ) {
        let mut columns = columns;
        let count = self.group_count();
        let lengths = columns.each_ref().map(|column| column.len());
        for column in columns.iter_mut() {
            column.reserve(count);
        }
        {
            let mut per_column = columns.each_mut().map(|column| {
                self.split_by_bucket(&mut column.spare_capacity_mut()[..count])
                    .into_iter()
            });
            let rows: Vec<GroupRows<'_, K>> = (0..self.bounds.len() - 1)
                .map(|_| GroupRows {
                    slices: std::array::from_fn(|k| {
                        per_column[k].next().expect("one slice per bucket")
                    }),
                    next: 0,
                })
                .collect();
            self.buckets()
                .into_par_iter()
                .zip(rows)
                .for_each(|(bucket, mut rows)| {
                    fill(&bucket, &mut rows);
                    assert_eq!(rows.next, rows.slices[0].len(), "one row per tie group");
                });
        }
        for (column, length) in columns.iter_mut().zip(lengths) {
            // SAFETY: each bucket's rows filled every entry of its slices (checked above), and
            // the slices tile the `count` entries after the column's old length.
            unsafe { column.set_len(length + count) };
        }
    }
}

/// One bucket's share of the columns that [`SortedScores::extend_per_group`] fills.
pub(crate) struct GroupRows<'a, const K: usize> {
    slices: [&'a mut [MaybeUninit<f64>]; K],
    next: usize,
}

impl<const K: usize> GroupRows<'_, K> {
    /// Returns the values pushed so far into column `k`, to transform them in place.
    pub(crate) fn column_mut(&mut self, k: usize) -> &mut [f64] {
        let written = &mut self.slices[k][..self.next];
        // SAFETY: `push` initialized the first `next` entries of every column.
        unsafe { &mut *(written as *mut [MaybeUninit<f64>] as *mut [f64]) }
    }

    /// Writes the values of the bucket's next tie group.
    ///
    /// # Panics
    ///
    /// Panics if every group of the bucket already has its row.
    pub(crate) fn push(&mut self, values: [f64; K]) {
        for (slice, value) in self.slices.iter_mut().zip(values) {
            slice[self.next].write(value);
        }
        self.next += 1;
    }
}

/// Returns the positives and the number of distinct keys of a sorted bucket.
fn summarize_bucket(items: &[u32]) -> (u64, usize) {
    let Some(&first) = items.first() else {
        return (0, 0);
    };
    let mut positives = 0u64;
    let mut groups = 1usize;
    let mut last = first >> 1;
    for &item in items {
        positives += u64::from(item & 1);
        groups += usize::from(item >> 1 != last);
        last = item >> 1;
    }
    (positives, groups)
}

/// The second buffer and the digit counts of the radix sort, reused from bucket to bucket.
#[derive(Default)]
struct RadixScratch {
    items: Vec<u32>,
    counts: Vec<u32>,
}

/// Sorts the `item_bits`-bit items of one bucket.
///
/// Digits are as wide as the bucket's length makes worthwhile: each digit costs a pass over
/// the items and a pass over its `2^bits` counts, so short buckets take narrow digits.
fn sort_bucket(items: &mut [u32], scratch: &mut RadixScratch, item_bits: u32) {
    let len = items.len();
    // The `u32` counts hold any bucket below 2^32 items.
    if len <= SMALL_BUCKET || u32::try_from(len).is_err() {
        items.sort_unstable();
        return;
    }
    // Counts cost about as much as items when 2^bits is near len / 2.
    let widest = (usize::BITS - (len / 2).leading_zeros()).clamp(8, MAX_DIGIT_BITS);
    let digits = item_bits.div_ceil(widest);
    let digit_bits = item_bits.div_ceil(digits);
    let digit_mask = (1u32 << digit_bits) - 1;
    let radix = 1usize << digit_bits;
    let counts = &mut scratch.counts;
    counts.clear();
    counts.resize(radix * digits as usize, 0);
    for &item in items.iter() {
        for digit in 0..digits {
            let value = ((item >> (digit * digit_bits)) & digit_mask) as usize;
            counts[digit as usize * radix + value] += 1;
        }
    }

    // The scratch buffer only grows, because every pass overwrites the part it reads back.
    if scratch.items.len() < len {
        scratch.items.resize(len, 0);
    }
    let buffer = &mut scratch.items[..len];
    let mut in_buffer = false;
    for (digit, offsets) in counts.chunks_mut(radix).enumerate() {
        // Turn the counts into starting offsets; a digit shared by every item leaves the order
        // unchanged and is skipped.
        let mut running = 0u32;
        let mut shared = false;
        for offset in offsets.iter_mut() {
            let count = *offset;
            shared |= count as usize == len;
            *offset = running;
            running += count;
        }
        if shared {
            continue;
        }
        let shift = digit as u32 * digit_bits;
        let (source, target) = if in_buffer {
            (&*buffer, &mut *items)
        } else {
            (&*items, &mut *buffer)
        };
        for &item in source {
            let value = ((item >> shift) & digit_mask) as usize;
            target[offsets[value] as usize] = item;
            offsets[value] += 1;
        }
        in_buffer = !in_buffer;
    }
    if in_buffer {
        items.copy_from_slice(buffer);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Returns the groups of a comparison sort: (score, positives, negatives) per distinct
    /// score in decreasing order, with ±0 merged and reported as -0.0 when the run has one.
    fn reference_groups(scores: &[f32], targets: &[i32]) -> Vec<(f32, u64, u64)> {
        let mut pairs: Vec<(f32, i32)> = scores
            .iter()
            .zip(targets)
            .filter(|pair| *pair.1 >= 0)
            .map(|(&score, &label)| (score, label))
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

    /// Reads the groups bucket by bucket, checking each bucket's counts of the positions
    /// before it against the groups read so far.
    fn groups_of(sorted: &SortedScores) -> Vec<(f32, u64, u64)> {
        let mut groups: Vec<(f32, u64, u64)> = Vec::new();
        for bucket in sorted.buckets() {
            let positives: u64 = groups.iter().map(|group| group.1).sum();
            let negatives: u64 = groups.iter().map(|group| group.2).sum();
            assert_eq!(bucket.positives_before, positives);
            assert_eq!(bucket.negatives_before, negatives);
            bucket.for_each(|score, positives, negatives| {
                groups.push((score, positives, negatives));
            });
        }
        assert_eq!(groups.len(), sorted.group_count());
        groups
    }

    fn bits(groups: &[(f32, u64, u64)]) -> Vec<(u32, u64, u64)> {
        groups
            .iter()
            .map(|&(score, positives, negatives)| (score.to_bits(), positives, negatives))
            .collect()
    }

    fn check_against_reference(scores: &[f32], targets: &[i32]) {
        let sorted = SortedScores::from_binary(scores, targets);
        let expected = reference_groups(scores, targets);
        assert_eq!(bits(&groups_of(&sorted)), bits(&expected));
        let positives = targets.iter().filter(|&&label| label == 1).count() as u64;
        let kept = targets.iter().filter(|&&label| label >= 0).count() as u64;
        assert_eq!(sorted.totals(), (positives, kept - positives));
    }

    /// Returns a fixed linear congruential sequence.
    fn sequence(seed: u64) -> impl FnMut() -> u64 {
        let mut state = seed;
        move || {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1);
            state >> 33
        }
    }

    #[test]
    fn groups_match_comparison_sort() {
        // Few distinct scores in the first half (long ties and radix buckets), many in the
        // second, every 17th target ignored, and a length that is not a multiple of the chunk.
        let mut next = sequence(12345);
        let n = 3 * CHUNK + 777;
        let mut scores = Vec::with_capacity(n);
        let mut targets = Vec::with_capacity(n);
        for index in 0..n {
            let value = if index < n / 2 {
                (next() % 300) as f32 / 299.0
            } else {
                (next() % (1 << 24)) as f32 / (1 << 24) as f32
            };
            scores.push(value);
            targets.push(if index % 17 == 0 {
                -1
            } else {
                (next() % 2) as i32
            });
        }
        check_against_reference(&scores, &targets);
    }

    #[test]
    fn groups_of_wide_key_range() {
        // Negative and positive scores, infinities and subnormals span almost every key, so
        // the buckets hold the most low bits.
        let mut next = sequence(7);
        let specials = [
            f32::NEG_INFINITY,
            f32::INFINITY,
            f32::MIN_POSITIVE,
            -f32::MIN_POSITIVE,
            f32::from_bits(1),
            -f32::from_bits(1),
            f32::from_bits(0x007f_ffff),
            f32::MAX,
            f32::MIN,
        ];
        let n = 50_000;
        let scores: Vec<f32> = (0..n)
            .map(|index| {
                if index % 7 == 0 {
                    specials[index % specials.len()]
                } else {
                    f32::from_bits(next() as u32 & 0xff7f_ffff)
                }
            })
            .collect();
        let targets: Vec<i32> = (0..n).map(|_| (next() % 3) as i32 - 1).collect();
        check_against_reference(&scores, &targets);
    }

    #[test]
    fn subnormal_scores_sort_apart() {
        let scores = [
            f32::from_bits(3),
            f32::from_bits(1),
            0.0,
            f32::from_bits(2),
            f32::from_bits(1),
        ];
        let targets = [1, 0, 1, 1, 1];
        let sorted = SortedScores::from_binary(&scores, &targets);
        let expected = vec![
            (f32::from_bits(3), 1, 0),
            (f32::from_bits(2), 1, 0),
            (f32::from_bits(1), 1, 1),
            (0.0, 1, 0),
        ];
        assert_eq!(bits(&groups_of(&sorted)), bits(&expected));
    }

    #[test]
    fn signed_zeros_form_one_group() {
        let scores = [0.0, -0.0, 0.5, -0.0, -1.5, 0.0];
        let targets = [1, 0, 1, 1, 0, 0];
        let sorted = SortedScores::from_binary(&scores, &targets);
        let groups = groups_of(&sorted);
        assert_eq!(groups, vec![(0.5, 1, 0), (-0.0, 2, 2), (-1.5, 0, 1)]);
        assert!(groups[1].0.is_sign_negative());
    }

    #[test]
    fn positive_zeros_report_positive_zero() {
        // The -0.0 is ignored, so the zero group contains +0.0 only.
        let scores = [0.0, -0.0, 0.25];
        let targets = [1, -1, 0];
        let groups = groups_of(&SortedScores::from_binary(&scores, &targets));
        assert_eq!(groups, vec![(0.25, 0, 1), (0.0, 1, 0)]);
        assert!(groups[1].0.is_sign_positive());
    }

    #[test]
    fn all_scores_equal_form_one_group() {
        let n = 5000;
        let scores = vec![0.375f32; n];
        let targets: Vec<i32> = (0..n).map(|index| (index % 3 == 0) as i32).collect();
        let sorted = SortedScores::from_binary(&scores, &targets);
        let positives = n.div_ceil(3) as u64;
        assert_eq!(
            groups_of(&sorted),
            vec![(0.375, positives, n as u64 - positives)]
        );
    }

    #[test]
    fn buckets_of_one_value() {
        // Two values far apart: each bucket that is not empty contains one value, long enough
        // for the radix sort.
        let n = 4000;
        let scores: Vec<f32> = (0..n)
            .map(|index| if index % 2 == 0 { 1e-30 } else { 0.75 })
            .collect();
        let targets: Vec<i32> = (0..n).map(|index| (index % 5 == 0) as i32).collect();
        check_against_reference(&scores, &targets);
        let sorted = SortedScores::from_binary(&scores, &targets);
        assert_eq!(sorted.group_count(), 2);
    }

    #[test]
    fn single_sample_and_empty_input() {
        let single = SortedScores::from_binary(&[0.5], &[1]);
        assert_eq!(groups_of(&single), vec![(0.5, 1, 0)]);
        assert_eq!(single.totals(), (1, 0));

        let empty = SortedScores::from_binary::<i32>(&[], &[]);
        assert_eq!(empty.group_count(), 0);
        assert!(groups_of(&empty).is_empty());

        let ignored = SortedScores::from_binary(&[0.5, 0.25], &[-1, -1]);
        assert_eq!(ignored.totals(), (0, 0));
        assert!(groups_of(&ignored).is_empty());
    }

    #[test]
    fn unit_scores_match_stored_targets() {
        // Targets of 7 are ignored, and both signed zeros and both ends of [0, 1] occur.
        let mut next = sequence(31);
        let n = CHUNK + 999;
        let scores: Vec<f32> = (0..n)
            .map(|index| match index % 97 {
                0 => -0.0,
                1 => 1.0,
                2 => 0.0,
                _ => (next() % 5000) as f32 / 4999.0,
            })
            .collect();
        let targets: Vec<i64> = (0..n)
            .map(|index| {
                if index % 13 == 0 {
                    7
                } else {
                    (next() % 2) as i64
                }
            })
            .collect();
        let stored: Vec<i8> = targets
            .iter()
            .map(|&target| if target == 7 { -1 } else { target as i8 })
            .collect();
        let direct = SortedScores::from_unit_scores(&scores, &targets, Some(7)).unwrap();
        let sorted = SortedScores::from_binary(&scores, &stored);
        assert_eq!(bits(&groups_of(&direct)), bits(&groups_of(&sorted)));
        assert_eq!(direct.totals(), sorted.totals());
    }

    #[test]
    fn unit_scores_reject_invalid_batches() {
        let scores = [0.5f32, 0.25, 1.0, 0.0];
        let targets = [1i64, 0, 1, 0];
        assert!(SortedScores::from_unit_scores(&scores, &targets, None).is_some());
        let invalid_scores = [
            f32::NAN,
            -f32::NAN,
            1.0 + f32::EPSILON,
            -f32::from_bits(1),
            f32::INFINITY,
            f32::NEG_INFINITY,
        ];
        for bad in invalid_scores {
            let mut with_bad = scores;
            with_bad[2] = bad;
            assert!(
                SortedScores::from_unit_scores(&with_bad, &targets, None).is_none(),
                "score {bad:?} accepted"
            );
        }
        for bad in [-1i64, 2, i64::MIN, i64::MAX] {
            let mut with_bad = targets;
            with_bad[1] = bad;
            assert!(
                SortedScores::from_unit_scores(&scores, &with_bad, None).is_none(),
                "target {bad} accepted"
            );
            let ignored = SortedScores::from_unit_scores(&scores, &with_bad, Some(bad)).unwrap();
            assert_eq!(ignored.totals(), (2, 1));
        }
        assert!(SortedScores::from_unit_scores(&scores, &targets[..3], None).is_none());
    }

    #[test]
    fn extend_per_group_appends_after_existing_rows() {
        let scores = [0.5, 0.25, 0.5, 0.125];
        let targets = [1, 0, 0, 1];
        let sorted = SortedScores::from_binary(&scores, &targets);
        let mut first = vec![-1.0];
        let mut second = Vec::new();
        sorted.extend_per_group([&mut first, &mut second], |bucket, rows| {
            bucket.for_each(|score, positives, negatives| {
                rows.push([f64::from(score), (positives + 10 * negatives) as f64]);
            });
        });
        assert_eq!(first, vec![-1.0, 0.5, 0.25, 0.125]);
        assert_eq!(second, vec![11.0, 10.0, 1.0]);
    }
}
