//! Allocation of large buffers that are written once, straight after allocation, and a
//! store that keeps one such buffer between calls.

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

/// Buffers above this size are not kept by [`Spare`], so that an idle process holds at most
/// this much per store.
const SPARE_MAX_BYTES: usize = 64 << 20;

/// One large scratch buffer kept between calls, so that a repeated computation writes to pages
/// that are already mapped instead of faulting in fresh ones, which the kernel zeroes first.
/// At 10^7 scores, the zeroing of fresh pages took about a sixth of an exact AUROC.
///
/// Only buffers of 8 MiB to 64 MiB are kept; smaller ones come from the allocator's free lists
/// anyway, and larger ones are returned to the system.
pub(crate) struct Spare<T> {
    kept: Mutex<Vec<T>>,
}

impl<T> Spare<T> {
    pub(crate) const fn new() -> Self {
        Self {
            kept: Mutex::new(Vec::new()),
        }
    }

    /// Returns an empty vector with room for `capacity` items: the kept buffer when it is
    /// large enough, otherwise a new one from [`vec_with_capacity`].
    pub(crate) fn take(&self, capacity: usize) -> Vec<T> {
        if let Ok(mut kept) = self.kept.try_lock() {
            if kept.capacity() >= capacity && capacity > 0 {
                return std::mem::take(&mut *kept);
            }
        }
        vec_with_capacity(capacity)
    }

    /// Keeps `buffer`, emptied, for the next [`Spare::take`] when its size is in the kept range
    /// and it is larger than the buffer kept now.
    pub(crate) fn keep(&self, mut buffer: Vec<T>) {
        let bytes = buffer.capacity().saturating_mul(size_of::<T>());
        if !(HUGE_PAGE_MIN_BYTES..=SPARE_MAX_BYTES).contains(&bytes) {
            return;
        }
        buffer.clear();
        if let Ok(mut kept) = self.kept.try_lock() {
            if kept.capacity() < buffer.capacity() {
                *kept = buffer;
            }
        }
    }
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
    fn spare_returns_the_kept_buffer() {
        let spare: Spare<u32> = Spare::new();
        let count = 4 << 20;
        let mut first = spare.take(count);
        first.extend(0..count as u32);
        let address = first.as_ptr();
        spare.keep(first);

        let second = spare.take(count - 1);
        assert_eq!(second.as_ptr(), address);
        assert!(second.is_empty());
        // Nothing is kept while the buffer is out, so a second taker gets a new one.
        let third = spare.take(count);
        assert_ne!(third.as_ptr(), address);
        assert!(third.capacity() >= count);
        spare.keep(second);
        spare.keep(third);

        // A request larger than the kept buffer allocates.
        assert!(spare.take(2 * count).capacity() >= 2 * count);
    }

    #[test]
    fn spare_keeps_only_buffers_in_range() {
        let spare: Spare<u8> = Spare::new();
        spare.keep(Vec::with_capacity(HUGE_PAGE_MIN_BYTES - 1));
        spare.keep(Vec::with_capacity(SPARE_MAX_BYTES + 1));
        assert_eq!(spare.kept.lock().unwrap().capacity(), 0);
        spare.keep(Vec::with_capacity(HUGE_PAGE_MIN_BYTES));
        assert_eq!(spare.kept.lock().unwrap().capacity(), HUGE_PAGE_MIN_BYTES);
    }
}
