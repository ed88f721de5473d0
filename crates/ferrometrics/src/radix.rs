//! A stable LSD radix sort on unsigned keys, used to order the scores of exact curves and the
//! values ranked by Spearman's correlation in O(n).

use crate::large_buffer::vec_with_capacity;

/// Bits per digit. 11 bits sort a 32-bit key in 3 scatter passes, and the 2048 write positions
/// of a pass still fit in the L1 and L2 caches.
const DIGIT_BITS: u32 = 11;
const BUCKETS: usize = 1 << DIGIT_BITS;

/// Maps `x` to a `u64` whose unsigned order is the order of [`f64::total_cmp`].
pub(crate) fn f64_order_key(x: f64) -> u64 {
    let bits = x.to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | 1 << 63
    }
}

/// Inverts [`f64_order_key`].
pub(crate) fn f64_from_order_key(key: u64) -> f64 {
    if key >> 63 == 1 {
        f64::from_bits(key & !(1 << 63))
    } else {
        f64::from_bits(!key)
    }
}

/// Maps `x` to a `u32` whose unsigned order is the order of [`f32::total_cmp`].
pub(crate) fn f32_order_key(x: f32) -> u32 {
    let bits = x.to_bits();
    if bits >> 31 == 1 {
        !bits
    } else {
        bits | 1 << 31
    }
}

/// Inverts [`f32_order_key`].
pub(crate) fn f32_from_order_key(key: u32) -> f32 {
    if key >> 31 == 1 {
        f32::from_bits(key & !(1 << 31))
    } else {
        f32::from_bits(!key)
    }
}

/// Inputs of at least this many items are first split by their top digit, so that the
/// remaining digits are sorted bucket by bucket in the cache. Below it, every pass fits in the
/// cache anyway.
const SPLIT_MIN_LEN: usize = 1 << 16;

/// Bits per digit inside a bucket of at most [`BUCKET_CACHE_LEN`] items: 256 counters suit
/// buckets of a few thousand items better than 2048.
const BUCKET_DIGIT_BITS: u32 = 8;

/// The largest bucket sorted with [`BUCKET_DIGIT_BITS`]-bit digits. Larger buckets, from keys
/// that share their top digit, keep 11-bit digits and so fewer passes over memory.
const BUCKET_CACHE_LEN: usize = 1 << 15;

/// Sorts `items` by increasing `key(item)`, keeping items with equal keys in their input order.
/// Keys must be below `2^key_bits`.
///
/// Long inputs with keys of more than 19 bits are first scattered by their top 11-bit digit,
/// one pass over memory, and each bucket is then sorted by the lower bits while it sits in the
/// cache. Every LSD sort counts all its digits in one pass, then runs one scatter pass per
/// digit, skipping digits that are the same in every key (the zero low bits of widened `f32`
/// scores, the shared exponent bits of probabilities). Every step is stable, and the result
/// does not depend on the thread count because the sort runs on one thread.
pub(crate) fn sort_by_key<T: Copy + Default>(
    items: &mut Vec<T>,
    key_bits: u32,
    key: impl Fn(&T) -> u64,
) {
    sort_by_key_with_spare(items, &mut Vec::new(), key_bits, key);
}

/// As [`sort_by_key`], with `spare` as the second full-length buffer of the split by the top
/// digit. When that split runs, `spare` ends with the length of `items` and unspecified
/// contents, so the caller can reuse its memory instead of faulting in a fresh buffer.
/// Otherwise `spare` is left as it was.
pub(crate) fn sort_by_key_with_spare<T: Copy + Default>(
    items: &mut Vec<T>,
    spare: &mut Vec<T>,
    key_bits: u32,
    key: impl Fn(&T) -> u64,
) {
    let n = items.len();
    if n < 2 {
        return;
    }
    debug_assert!(key_bits <= u64::BITS);
    let mut scratch = Vec::new();
    if n < SPLIT_MIN_LEN || key_bits <= DIGIT_BITS + BUCKET_DIGIT_BITS {
        lsd_sort(items, &mut scratch, key_bits, DIGIT_BITS, &key);
        return;
    }

    let low_bits = key_bits - DIGIT_BITS;
    let top_digit = |item: &T| ((key(item) >> low_bits) as usize) & (BUCKETS - 1);
    let mut counts = vec![0usize; BUCKETS];
    for item in items.iter() {
        counts[top_digit(item)] += 1;
    }
    // With one top digit for all keys the split gains nothing.
    if counts.contains(&n) {
        lsd_sort(items, &mut scratch, low_bits, DIGIT_BITS, &key);
        return;
    }
    let mut offsets = vec![0usize; BUCKETS];
    let mut running = 0;
    for (offset, &count) in offsets.iter_mut().zip(&counts) {
        *offset = running;
        running += count;
    }
    spare.clear();
    spare.resize(n, T::default());
    for item in items.iter() {
        let bucket = top_digit(item);
        spare[offsets[bucket]] = *item;
        offsets[bucket] += 1;
    }
    std::mem::swap(items, spare);

    let mut start = 0;
    for count in counts {
        let digit_bits = if count <= BUCKET_CACHE_LEN {
            BUCKET_DIGIT_BITS
        } else {
            DIGIT_BITS
        };
        lsd_sort(
            &mut items[start..start + count],
            &mut scratch,
            low_bits,
            digit_bits,
            &key,
        );
        start += count;
    }
}

/// Returns the items `item_at(0), ..., item_at(len - 1)` sorted stably by increasing
/// `key(item)`. Keys must be below `2^key_bits`, and `item_at` must return the same item each
/// time it is called with the same index.
///
/// Long inputs are split by their top 11-bit digit straight from `item_at`, so no buffer in
/// input order is ever written, and each bucket is then sorted in the cache as in
/// [`sort_by_key`]. The output requests huge pages (see [`vec_with_capacity`]) and is written
/// once without a zero fill, so where the kernel grants huge pages it costs one page fault
/// per 2 MiB.
pub(crate) fn sorted_by_key_from<T: Copy + Default>(
    len: usize,
    item_at: impl Fn(usize) -> T,
    key_bits: u32,
    key: impl Fn(&T) -> u64,
) -> Vec<T> {
    debug_assert!(key_bits <= u64::BITS);
    let mut sorted: Vec<T> = vec_with_capacity(len);
    if len < SPLIT_MIN_LEN || key_bits <= DIGIT_BITS + BUCKET_DIGIT_BITS {
        sorted.extend((0..len).map(item_at));
        sort_by_key(&mut sorted, key_bits, key);
        return sorted;
    }

    let low_bits = key_bits - DIGIT_BITS;
    let top_digit = |item: &T| ((key(item) >> low_bits) as usize) & (BUCKETS - 1);
    let mut counts = vec![0usize; BUCKETS];
    for index in 0..len {
        counts[top_digit(&item_at(index))] += 1;
    }
    let mut offsets = vec![0usize; BUCKETS];
    let mut running = 0;
    for (offset, &count) in offsets.iter_mut().zip(&counts) {
        *offset = running;
        running += count;
    }
    let slots = &mut sorted.spare_capacity_mut()[..len];
    for index in 0..len {
        let item = item_at(index);
        let bucket = top_digit(&item);
        slots[offsets[bucket]].write(item);
        offsets[bucket] += 1;
    }
    // Each bucket's offset has moved from its start to the next bucket's start exactly when
    // every slot of `0..len` was written once.
    let mut bucket_end = 0;
    for (&offset, &count) in offsets.iter().zip(&counts) {
        bucket_end += count;
        assert_eq!(
            offset, bucket_end,
            "item_at returned different items for one index"
        );
    }
    // SAFETY: the check above shows that all `len` slots are initialized.
    unsafe { sorted.set_len(len) };

    let mut scratch = Vec::new();
    let mut start = 0;
    for count in counts {
        msd_sort(
            &mut sorted[start..start + count],
            &mut scratch,
            low_bits,
            &key,
        );
        start += count;
    }
    sorted
}

/// Sorts `items` stably by the low `key_bits` bits of `key(item)`, using `scratch` as the
/// second buffer. Bits above `key_bits` are the same in every item.
///
/// A part longer than [`BUCKET_CACHE_LEN`] is split by its top 11-bit digit, scattered to
/// `scratch` and copied back, and each bucket is split again until it fits in the cache, where
/// an LSD sort finishes it. Keys that crowd into a few top digits, as floats of a narrow
/// exponent range do, so still reach the cache after one or two more splits.
fn msd_sort<T: Copy + Default>(
    items: &mut [T],
    scratch: &mut Vec<T>,
    key_bits: u32,
    key: &impl Fn(&T) -> u64,
) {
    let n = items.len();
    if n < 2 || key_bits == 0 {
        return;
    }
    if n <= BUCKET_CACHE_LEN || key_bits <= DIGIT_BITS + BUCKET_DIGIT_BITS {
        let digit_bits = if n <= BUCKET_CACHE_LEN {
            BUCKET_DIGIT_BITS
        } else {
            DIGIT_BITS
        };
        lsd_sort(items, scratch, key_bits, digit_bits, key);
        return;
    }

    let low_bits = key_bits - DIGIT_BITS;
    let top_digit = |item: &T| ((key(item) >> low_bits) as usize) & (BUCKETS - 1);
    let mut counts = vec![0usize; BUCKETS];
    for item in items.iter() {
        counts[top_digit(item)] += 1;
    }
    if !counts.contains(&n) {
        let mut offsets = vec![0usize; BUCKETS];
        let mut running = 0;
        for (offset, &count) in offsets.iter_mut().zip(&counts) {
            *offset = running;
            running += count;
        }
        if scratch.len() < n {
            scratch.resize(n, T::default());
        }
        let target = &mut scratch[..n];
        for item in items.iter() {
            let bucket = top_digit(item);
            target[offsets[bucket]] = *item;
            offsets[bucket] += 1;
        }
        items.copy_from_slice(target);
    }

    let mut start = 0;
    for count in counts {
        msd_sort(&mut items[start..start + count], scratch, low_bits, key);
        start += count;
    }
}

/// Sorts `items` stably by the low `key_bits` bits of `key(item)` with `digit_bits`-bit
/// digits, using `scratch` as the second buffer. Bits above `key_bits` are either 0 or the
/// same in every item.
fn lsd_sort<T: Copy + Default>(
    items: &mut [T],
    scratch: &mut Vec<T>,
    key_bits: u32,
    digit_bits: u32,
    key: &impl Fn(&T) -> u64,
) {
    let n = items.len();
    if n < 2 {
        return;
    }
    let buckets = 1usize << digit_bits;
    let digit_of = |item: &T, shift: u32| ((key(item) >> shift) as usize) & (buckets - 1);
    let digits = key_bits.div_ceil(digit_bits);
    let mut counts = vec![0usize; buckets * digits as usize];
    for item in items.iter() {
        for digit in 0..digits {
            let bucket = digit_of(item, digit * digit_bits);
            counts[digit as usize * buckets + bucket] += 1;
        }
    }

    // Every pass writes all of `scratch[..n]` before reading it, so old contents are harmless
    // and only growth needs filling.
    if scratch.len() < n {
        scratch.resize(n, T::default());
    }
    let scratch = &mut scratch[..n];
    let mut sorted_in_scratch = false;
    let mut offsets = vec![0usize; buckets];
    for digit in 0..digits {
        let count = &counts[digit as usize * buckets..(digit as usize + 1) * buckets];
        // A digit shared by every key leaves the order unchanged.
        if count.contains(&n) {
            continue;
        }
        let mut running = 0;
        for (offset, &c) in offsets.iter_mut().zip(count) {
            *offset = running;
            running += c;
        }
        let shift = digit * digit_bits;
        let (source, target) = if sorted_in_scratch {
            (&scratch[..], &mut *items)
        } else {
            (&*items, &mut scratch[..])
        };
        for item in source {
            let bucket = digit_of(item, shift);
            target[offsets[bucket]] = *item;
            offsets[bucket] += 1;
        }
        sorted_in_scratch = !sorted_in_scratch;
    }
    if sorted_in_scratch {
        items.copy_from_slice(scratch);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_keys_follow_total_cmp() {
        let values = [
            f64::NEG_INFINITY,
            -2.5,
            -1e-300,
            -0.0,
            0.0,
            1e-300,
            0.5,
            1.0,
            f64::INFINITY,
        ];
        for pair in values.windows(2) {
            assert!(f64_order_key(pair[0]) < f64_order_key(pair[1]), "{pair:?}");
            let (a, b) = (pair[0] as f32, pair[1] as f32);
            assert!(f32_order_key(a) <= f32_order_key(b), "{pair:?}");
        }
        for &x in &values {
            assert_eq!(f64_from_order_key(f64_order_key(x)).to_bits(), x.to_bits());
            let narrow = x as f32;
            assert_eq!(
                f32_from_order_key(f32_order_key(narrow)).to_bits(),
                narrow.to_bits()
            );
        }
    }

    #[test]
    fn sort_matches_stable_comparison_sort() {
        // A fixed linear congruential sequence with many repeated keys.
        let mut state = 12345u64;
        let mut items: Vec<(u64, u32)> = (0..5000)
            .map(|index| {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1);
                ((state >> 33) % 700 * 0x0101_0000_0001, index)
            })
            .collect();
        let mut expected = items.clone();
        expected.sort_by_key(|item| item.0);
        sort_by_key(&mut items, 64, |item| item.0);
        assert_eq!(items, expected);
    }

    #[test]
    fn sort_splits_long_input_by_top_digit() {
        // Long enough for the split by top digit, with 35-bit and 64-bit keys, repeated keys,
        // and one bucket larger than the in-cache limit.
        let mut state = 99u64;
        let mut next = || {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1);
            state
        };
        for (key_bits, modulus) in [(35, 1u64 << 35), (64, u64::MAX), (35, 3000)] {
            let mut items: Vec<(u64, u32)> = (0..200_000)
                .map(|index| {
                    let key = if index % 4 == 0 { 5 } else { next() % modulus };
                    (key << (64 - key_bits) >> (64 - key_bits), index)
                })
                .collect();
            let mut expected = items.clone();
            expected.sort_by_key(|item| item.0);
            sort_by_key(&mut items, key_bits, |item| item.0);
            assert_eq!(items, expected, "{key_bits}-bit keys below {modulus}");
        }
    }

    #[test]
    fn sorted_from_items_splits_crowded_digits() {
        // 35-bit keys whose top digit takes 3 values, so buckets of about 100_000 items are
        // split again before the in-cache sort, plus a short input and one with a shared top
        // digit.
        let mut state = 7u64;
        let mut next = || {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1);
            state >> 20
        };
        let crowded: Vec<(u64, u32)> = (0..300_000)
            .map(|index| (((next() % 3) << 32) | (next() % (1 << 24)), index))
            .collect();
        let shared_top: Vec<(u64, u32)> = (0..100_000)
            .map(|index| ((1 << 34) | (next() % 5000), index))
            .collect();
        let short: Vec<(u64, u32)> = (0..1000).map(|index| (next() % 50, index)).collect();
        for (name, items) in [
            ("crowded", crowded),
            ("shared_top", shared_top),
            ("short", short),
        ] {
            let mut expected = items.clone();
            expected.sort_by_key(|item| item.0);
            let sorted = sorted_by_key_from(items.len(), |index| items[index], 35, |item| item.0);
            assert_eq!(sorted, expected, "{name}");
        }
    }

    #[test]
    fn sort_handles_short_and_constant_input() {
        let mut empty: Vec<u64> = Vec::new();
        sort_by_key(&mut empty, 64, |&x| x);
        assert!(empty.is_empty());
        let mut same = vec![(7u64, 2u8), (7, 1), (7, 0)];
        sort_by_key(&mut same, 3, |item| item.0);
        assert_eq!(same, vec![(7, 2), (7, 1), (7, 0)]);
    }
}
