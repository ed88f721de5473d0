//! Allocation of large buffers that are written once, straight after allocation.

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
}
