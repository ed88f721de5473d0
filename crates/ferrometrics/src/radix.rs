//! A stable LSD radix sort on unsigned keys, used to order the scores of exact curves and the
//! values ranked by Spearman's correlation in O(n).

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

/// Sorts `items` by increasing `key(item)`, keeping items with equal keys in their input order.
/// Keys must be below `2^key_bits`.
///
/// One pass counts every digit of every key, then one scatter pass runs per 11-bit digit,
/// skipping digits that are the same in every key (the zero low bits of widened `f32` scores,
/// the shared exponent bits of probabilities). The result does not depend on the thread count
/// because the sort runs on one thread.
pub(crate) fn sort_by_key<T: Copy + Default>(
    items: &mut Vec<T>,
    key_bits: u32,
    key: impl Fn(&T) -> u64,
) {
    let n = items.len();
    if n < 2 {
        return;
    }
    debug_assert!(key_bits <= u64::BITS);
    let digits = key_bits.div_ceil(DIGIT_BITS) as usize;
    let mut counts = vec![[0usize; BUCKETS]; digits];
    for item in items.iter() {
        let k = key(item);
        for (digit, count) in counts.iter_mut().enumerate() {
            count[((k >> (digit as u32 * DIGIT_BITS)) as usize) & (BUCKETS - 1)] += 1;
        }
    }

    let mut buffer = vec![T::default(); n];
    for (digit, count) in counts.iter().enumerate() {
        // A digit shared by every key leaves the order unchanged.
        if count.contains(&n) {
            continue;
        }
        let mut offsets = [0usize; BUCKETS];
        let mut running = 0;
        for (offset, &c) in offsets.iter_mut().zip(count.iter()) {
            *offset = running;
            running += c;
        }
        let shift = digit as u32 * DIGIT_BITS;
        for item in items.iter() {
            let bucket = ((key(item) >> shift) as usize) & (BUCKETS - 1);
            buffer[offsets[bucket]] = *item;
            offsets[bucket] += 1;
        }
        std::mem::swap(items, &mut buffer);
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
    fn sort_handles_short_and_constant_input() {
        let mut empty: Vec<u64> = Vec::new();
        sort_by_key(&mut empty, 64, |&x| x);
        assert!(empty.is_empty());
        let mut same = vec![(7u64, 2u8), (7, 1), (7, 0)];
        sort_by_key(&mut same, 3, |item| item.0);
        assert_eq!(same, vec![(7, 2), (7, 1), (7, 0)]);
    }
}
