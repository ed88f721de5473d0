//! Allocation of large buffers that are written once, straight after allocation, and stores
//! that keep such buffers between calls.

use std::sync::Mutex;

/// Buffers of at least this many bytes ask for transparent huge pages: 8 MiB spans at least
/// three aligned 2 MiB pages.
const HUGE_PAGE_MIN_BYTES: usize = 8 << 20;

/// Creates an empty vector with room for `capacity` items, asking Linux to back large
/// allocations with transparent huge pages.
///
/// The first write to each fresh 4 KiB page costs a page fault, so a buffer of 100 MB filled
/// once can spend much of its time in the kernel. With huge pages (when the system's
/// `transparent_hugepage` setting is `always` or `madvise`) one fault maps 2 MiB. Elsewhere,
/// and when the kernel declines, this is `Vec::with_capacity`.
///
/// NOTE: with the kernel's `defrag` setting `madvise`, a fault on such a buffer may first
/// compact memory. An exact AUROC call at 10^7 scores through the Python API took about 0.30 s
/// of CPU with huge pages and 0.24 s without as the first call of a process, and 0.16 s and
/// 0.22 s later (a loaded 2-core AMD EPYC virtual machine, 2026-12-04).
pub(crate) fn vec_with_capacity<T>(capacity: usize) -> Vec<T> {
    let vec: Vec<T> = Vec::with_capacity(capacity);
    let bytes = capacity.saturating_mul(size_of::<T>());
    if bytes >= HUGE_PAGE_MIN_BYTES {
        advise_huge_pages(vec.as_ptr().cast(), bytes);
    }
    vec
}

/// The largest buffer that a [`Spare`] keeps, which bounds the memory an idle process keeps
/// per store slot.
const SPARE_MAX_BYTES: usize = 64 << 20;

/// Large buffers kept between calls, so that a repeated computation writes to pages that are
/// already mapped instead of faulting in fresh ones, which the kernel zeroes first. In
/// single-thread profiles at 10^7 scores, that zeroing took about an eighth of an exact AUROC
/// and a quarter of an exact ROC curve.
///
/// A store keeps at most `slots` buffers, each of 8 MiB to 64 MiB. Smaller ones usually come
/// from the allocator's free lists anyway, and larger ones are returned to the system.
pub(crate) struct Spare<T> {
    kept: Mutex<Vec<Vec<T>>>,
    slots: usize,
}

impl<T> Spare<T> {
    pub(crate) const fn new(slots: usize) -> Self {
        Self {
            kept: Mutex::new(Vec::new()),
            slots,
        }
    }

    /// Returns an empty vector with room for `capacity` items: the smallest kept buffer that is
    /// large enough, otherwise a new one from [`vec_with_capacity`].
    pub(crate) fn take(&self, capacity: usize) -> Vec<T> {
        if capacity > 0 {
            if let Ok(mut kept) = self.kept.try_lock() {
                let fitting = kept
                    .iter()
                    .enumerate()
                    .filter(|(_, buffer)| buffer.capacity() >= capacity)
                    .min_by_key(|(_, buffer)| buffer.capacity())
                    .map(|(index, _)| index);
                if let Some(index) = fitting {
                    return kept.swap_remove(index);
                }
            }
        }
        vec_with_capacity(capacity)
    }

    /// Keeps `buffer`, emptied, for a later [`Spare::take`] when its size is in the kept range.
    /// When the store is full, the smallest buffer is dropped.
    pub(crate) fn keep(&self, mut buffer: Vec<T>) {
        let bytes = buffer.capacity().saturating_mul(size_of::<T>());
        if !(HUGE_PAGE_MIN_BYTES..=SPARE_MAX_BYTES).contains(&bytes) {
            return;
        }
        buffer.clear();
        if let Ok(mut kept) = self.kept.try_lock() {
            kept.push(buffer);
            if kept.len() > self.slots {
                let smallest = (0..kept.len())
                    .min_by_key(|&index| kept[index].capacity())
                    .expect("the store is not empty");
                kept.swap_remove(smallest);
            }
        }
    }
}

/// The float64 columns of results that callers gave back, for the columns of later curves.
static COLUMNS: Spare<f64> = Spare::new(3);

/// Returns an empty column with room for `capacity` values, in the memory of a column given
/// back by [`reuse_column`] when one is large enough.
pub(crate) fn column_with_capacity(capacity: usize) -> Vec<f64> {
    COLUMNS.take(capacity)
}

/// Gives back a float64 result that is no longer used, such as a column of an exact ROC curve,
/// so that the next exact curve writes its columns into these pages instead of fresh ones.
///
/// Up to three results of 8 MiB to 64 MiB are kept until an exact curve needs them; others
/// are freed at once. The Python package gives back its large result arrays when Python
/// frees them.
///
/// # Example
///
/// ```
/// ferrometrics::reuse_column(vec![0.0; 1 << 20]);
/// ```
pub fn reuse_column(column: Vec<f64>) {
    COLUMNS.keep(column);
}

#[cfg(target_os = "linux")]
fn advise_huge_pages(start: *const u8, bytes: usize) {
    const PAGE: usize = 4096;
    let first = (start as usize).next_multiple_of(PAGE);
    let end = (start as usize + bytes) / PAGE * PAGE;
    if end <= first {
        return;
    }
    // SAFETY: the range lies inside the allocation just made by `vec_with_capacity`,
    // and MADV_HUGEPAGE only changes how the kernel backs it, never its contents. A failure
    // (a kernel without transparent huge pages) leaves the allocation as it was.
    unsafe {
        libc::madvise(first as *mut libc::c_void, end - first, libc::MADV_HUGEPAGE);
    }
}

#[cfg(not(target_os = "linux"))]
fn advise_huge_pages(_start: *const u8, _bytes: usize) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_buffer_has_requested_capacity() {
        let mut small: Vec<u32> = vec_with_capacity(10);
        assert!(small.capacity() >= 10);
        small.extend(0..10);
        assert_eq!(small.iter().sum::<u32>(), 45);

        let count = 3 << 20;
        let mut large: Vec<f64> = vec_with_capacity(count);
        assert!(large.capacity() >= count);
        large.resize(count, 1.5);
        assert_eq!(large[count - 1], 1.5);
    }

    #[test]
    fn spare_takes_smallest_fitting_buffer() {
        let spare: Spare<u32> = Spare::new(2);
        let count = 4 << 20;
        let mut first = spare.take(count);
        first.extend(0..count as u32);
        let first_address = first.as_ptr();
        let second: Vec<u32> = spare.take(2 * count);
        let second_address = second.as_ptr();
        spare.keep(second);
        spare.keep(first);

        let taken = spare.take(count - 1);
        assert_eq!(taken.as_ptr(), first_address);
        assert!(taken.is_empty());
        let larger = spare.take(count + 1);
        assert_eq!(larger.as_ptr(), second_address);
        // Nothing is kept while both buffers are out, so a third taker gets a new one.
        let third = spare.take(count);
        assert!(third.capacity() >= count);
        assert_ne!(third.as_ptr(), first_address);
        assert_ne!(third.as_ptr(), second_address);
        // A full store drops its smallest buffer.
        spare.keep(taken);
        spare.keep(larger);
        spare.keep(third);
        let kept = spare.kept.lock().unwrap();
        assert_eq!(kept.len(), 2);
        assert!(kept.iter().any(|buffer| buffer.as_ptr() == second_address));
    }

    #[test]
    fn spare_keeps_buffers_in_range() {
        let spare: Spare<u8> = Spare::new(4);
        spare.keep(Vec::with_capacity(HUGE_PAGE_MIN_BYTES - 1));
        spare.keep(Vec::with_capacity(SPARE_MAX_BYTES + 1));
        assert!(spare.kept.lock().unwrap().is_empty());
        spare.keep(Vec::with_capacity(HUGE_PAGE_MIN_BYTES));
        assert_eq!(spare.kept.lock().unwrap().len(), 1);
        assert_eq!(spare.take(0).capacity(), 0);
    }
}
