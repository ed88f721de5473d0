//! Resampling of batches along their sample axis, and the seeded random draws that pick the
//! samples, for [`BootStrapper`](super::BootStrapper).

use ndarray::{Array, Array1, Array2, ArrayD, ArrayView, ArrayViewD, Axis, RemoveAxis};

use crate::detection::{DetectionBatch, ImagePredictions, ImageTargets, Masks};
use crate::error::{Error, Result};
use crate::inputs::{DataLabels, LabelPairs, WeightedValues};
use crate::metric::InputKind;
use crate::numerics::Real;
use crate::regression::{PredsTarget, WeightedPredsTarget};

/// A batch kind whose batches can be resampled along their first axis, the sample axis.
///
/// The wrappers that resample hand the same batch to several threads, so the batch is first
/// turned into a [`Resample::Source`], which is `Sync`.
pub trait Resample: InputKind {
    /// The borrowed batch, shareable between threads.
    type Source<'a>: Sync;
    /// A batch made of selected samples, owning the arrays it had to copy.
    type Resampled<'a>: Send;

    /// Wraps a batch for resampling.
    fn source(input: Self::Input<'_>) -> Self::Source<'_>;

    /// Returns the number of samples in the batch.
    ///
    /// # Errors
    ///
    /// Returns an error naming the inputs if they do not agree on the number of samples.
    fn num_samples(source: &Self::Source<'_>) -> Result<usize>;

    /// Returns the batch made of the samples at `indices`, in that order and with repeats.
    fn select<'a>(source: &Self::Source<'a>, indices: &[usize]) -> Self::Resampled<'a>;

    /// Calls `f` with a view of a resampled batch and returns its result.
    fn with_view<R>(resampled: &Self::Resampled<'_>, f: impl FnOnce(Self::Input<'_>) -> R) -> R;
}

/// Returns the rows (indices of the first axis) of `array` at `indices`, as `select` does, but
/// with one slice copy per row for arrays in standard layout.
fn take_rows<T: Clone, D: RemoveAxis>(
    array: &ArrayView<'_, T, D>,
    indices: &[usize],
) -> Array<T, D> {
    let rows = array.len_of(Axis(0));
    let Some(data) = array.as_slice().filter(|_| rows > 0) else {
        return array.select(Axis(0), indices);
    };
    let row_len = data.len() / rows;
    let mut taken = Vec::with_capacity(indices.len() * row_len);
    for &index in indices {
        taken.extend_from_slice(&data[index * row_len..(index + 1) * row_len]);
    }
    let mut shape = array.raw_dim();
    shape[0] = indices.len();
    Array::from_shape_vec(shape, taken).expect("the rows fill the shape")
}

fn check_samples(left: &str, left_len: usize, right: &str, right_len: usize) -> Result<usize> {
    crate::check_same_length(left, left_len, right, right_len)?;
    Ok(left_len)
}

fn first_axis_len<T>(name: &str, array: &ArrayViewD<'_, T>) -> Result<usize> {
    if array.ndim() == 0 {
        return Err(Error::invalid_input(
            name,
            "a 0-d array has no sample axis to resample; pass an array of shape (N, ...)",
        ));
    }
    Ok(array.len_of(Axis(0)))
}

impl Resample for LabelPairs {
    type Source<'a> = Self::Input<'a>;
    type Resampled<'a> = (Array1<i64>, Array1<i64>);

    fn source(input: Self::Input<'_>) -> Self::Source<'_> {
        input
    }

    fn num_samples((preds, target): &Self::Source<'_>) -> Result<usize> {
        check_samples("preds", preds.len(), "target", target.len())
    }

    fn select<'a>((preds, target): &Self::Source<'a>, indices: &[usize]) -> Self::Resampled<'a> {
        (
            take_rows(&preds.view(), indices),
            take_rows(&target.view(), indices),
        )
    }

    fn with_view<R>(
        (preds, target): &Self::Resampled<'_>,
        f: impl FnOnce(Self::Input<'_>) -> R,
    ) -> R {
        f((preds.view(), target.view()))
    }
}

impl<F: Real> Resample for DataLabels<F> {
    type Source<'a> = Self::Input<'a>;
    type Resampled<'a> = (Array2<F>, Array1<i64>);

    fn source(input: Self::Input<'_>) -> Self::Source<'_> {
        input
    }

    fn num_samples((data, labels): &Self::Source<'_>) -> Result<usize> {
        check_samples("data", data.nrows(), "labels", labels.len())
    }

    fn select<'a>((data, labels): &Self::Source<'a>, indices: &[usize]) -> Self::Resampled<'a> {
        (
            take_rows(&data.view(), indices),
            take_rows(&labels.view(), indices),
        )
    }

    fn with_view<R>(
        (data, labels): &Self::Resampled<'_>,
        f: impl FnOnce(Self::Input<'_>) -> R,
    ) -> R {
        f((data.view(), labels.view()))
    }
}

impl Resample for WeightedValues {
    type Source<'a> = Self::Input<'a>;
    type Resampled<'a> = (ArrayD<f64>, Option<ArrayD<f64>>);

    fn source(input: Self::Input<'_>) -> Self::Source<'_> {
        input
    }

    /// Returns the length of the first axis of `value`. A `weight` whose first axis has that
    /// length is resampled with `value`, and a weight that broadcasts along the first axis is
    /// kept as it is.
    fn num_samples((value, weight): &Self::Source<'_>) -> Result<usize> {
        let samples = first_axis_len("value", value)?;
        if let Some(weight) = weight {
            if weight.ndim() == value.ndim() && weight.len_of(Axis(0)) != 1 {
                return check_samples("value", samples, "weight", weight.len_of(Axis(0)));
            }
        }
        Ok(samples)
    }

    fn select<'a>((value, weight): &Self::Source<'a>, indices: &[usize]) -> Self::Resampled<'a> {
        let weight = weight.as_ref().map(|weight| {
            if weight.ndim() == value.ndim() && weight.len_of(Axis(0)) != 1 {
                take_rows(&weight.view(), indices)
            } else {
                weight.to_owned()
            }
        });
        (take_rows(&value.view(), indices), weight)
    }

    fn with_view<R>(
        (value, weight): &Self::Resampled<'_>,
        f: impl FnOnce(Self::Input<'_>) -> R,
    ) -> R {
        f((value.view(), weight.as_ref().map(|weight| weight.view())))
    }
}

impl<F: Real> Resample for PredsTarget<F> {
    type Source<'a> = Self::Input<'a>;
    type Resampled<'a> = (ArrayD<F>, ArrayD<F>);

    fn source(input: Self::Input<'_>) -> Self::Source<'_> {
        input
    }

    fn num_samples((preds, target): &Self::Source<'_>) -> Result<usize> {
        let preds_len = first_axis_len("preds", preds)?;
        let target_len = first_axis_len("target", target)?;
        check_samples("preds", preds_len, "target", target_len)
    }

    fn select<'a>((preds, target): &Self::Source<'a>, indices: &[usize]) -> Self::Resampled<'a> {
        (
            take_rows(&preds.view(), indices),
            take_rows(&target.view(), indices),
        )
    }

    fn with_view<R>(
        (preds, target): &Self::Resampled<'_>,
        f: impl FnOnce(Self::Input<'_>) -> R,
    ) -> R {
        f((preds.view(), target.view()))
    }
}

impl<F: Real> Resample for WeightedPredsTarget<F> {
    type Source<'a> = Self::Input<'a>;
    type Resampled<'a> = (ArrayD<F>, ArrayD<F>, ArrayD<F>);

    fn source(input: Self::Input<'_>) -> Self::Source<'_> {
        input
    }

    fn num_samples((preds, target, weights): &Self::Source<'_>) -> Result<usize> {
        let preds_len = first_axis_len("preds", preds)?;
        let target_len = first_axis_len("target", target)?;
        let weights_len = first_axis_len("weights", weights)?;
        check_samples("preds", preds_len, "target", target_len)?;
        check_samples("preds", preds_len, "weights", weights_len)
    }

    fn select<'a>(
        (preds, target, weights): &Self::Source<'a>,
        indices: &[usize],
    ) -> Self::Resampled<'a> {
        (
            take_rows(&preds.view(), indices),
            take_rows(&target.view(), indices),
            take_rows(&weights.view(), indices),
        )
    }

    fn with_view<R>(
        (preds, target, weights): &Self::Resampled<'_>,
        f: impl FnOnce(Self::Input<'_>) -> R,
    ) -> R {
        f((preds.view(), target.view(), weights.view()))
    }
}

/// Detection batches are resampled by image: a drawn image brings all its predictions and
/// ground truth objects, which is how COCO-style evaluations are bootstrapped.
impl Resample for DetectionBatch {
    type Source<'a> = Self::Input<'a>;
    type Resampled<'a> = (Vec<ImagePredictions<'a>>, Vec<ImageTargets<'a>>);

    fn source(input: Self::Input<'_>) -> Self::Source<'_> {
        input
    }

    fn num_samples((preds, target): &Self::Source<'_>) -> Result<usize> {
        check_samples("preds", preds.len(), "target", target.len())
    }

    fn select<'a>((preds, target): &Self::Source<'a>, indices: &[usize]) -> Self::Resampled<'a> {
        let preds = indices.iter().map(|&i| preds[i].clone()).collect();
        let target = indices.iter().map(|&i| target[i].clone()).collect();
        (preds, target)
    }

    fn with_view<R>(
        (preds, target): &Self::Resampled<'_>,
        f: impl FnOnce(Self::Input<'_>) -> R,
    ) -> R {
        // `ImagePredictions` is invariant in its lifetime, so each image is reborrowed for the
        // view. The copies are views and share the arrays.
        let preds: Vec<ImagePredictions<'_>> = preds.iter().map(reborrow_predictions).collect();
        let target: Vec<ImageTargets<'_>> = target.iter().map(reborrow_targets).collect();
        f((&preds, &target))
    }
}

fn reborrow_masks<'b>(masks: &'b Masks<'_>) -> Masks<'b> {
    match masks {
        Masks::Dense(dense) => Masks::Dense(dense.view()),
        Masks::Rle(rle) => Masks::Rle(rle),
    }
}

fn reborrow_predictions<'b>(image: &'b ImagePredictions<'_>) -> ImagePredictions<'b> {
    ImagePredictions {
        boxes: image.boxes.as_ref().map(|boxes| boxes.view()),
        scores: image.scores.view(),
        labels: image.labels.view(),
        masks: image.masks.as_ref().map(reborrow_masks),
    }
}

fn reborrow_targets<'b>(image: &'b ImageTargets<'_>) -> ImageTargets<'b> {
    ImageTargets {
        boxes: image.boxes.as_ref().map(|boxes| boxes.view()),
        labels: image.labels.view(),
        iscrowd: image.iscrowd.as_ref().map(|iscrowd| iscrowd.view()),
        area: image.area.as_ref().map(|area| area.view()),
        masks: image.masks.as_ref().map(reborrow_masks),
    }
}

/// SplitMix64, a small 64-bit generator, written out here so that a seed gives the same draws
/// in every version of the library.
#[derive(Debug, Clone)]
pub(crate) struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// Creates the generator of one stream, keyed by a seed and two stream indices.
    pub(crate) fn for_stream(seed: u64, first: u64, second: u64) -> Self {
        let mut key = Self { state: seed };
        let mixed = key.next_u64() ^ first.wrapping_mul(0xD1B5_4A32_D192_ED03);
        let mut key = Self { state: mixed };
        let mixed = key.next_u64() ^ second.wrapping_mul(0xAEF1_7502_108E_F2D9);
        Self { state: mixed }
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(SPLITMIX64_GAMMA);
        splitmix64_mix(self.state)
    }

    /// Returns the internal state. Draw `i` (from 0) of the stream is
    /// `splitmix64_mix(state + (i + 1) * SPLITMIX64_GAMMA)`, so any draw can be computed
    /// directly from its index, which lets a kernel compute many draws of a stream at once.
    pub(crate) fn state(&self) -> u64 {
        self.state
    }

    /// Returns an index uniform on `0..n`: the high 64 bits of a 64-bit draw times `n`. The
    /// bias is below `n / 2^64`, far under what a bootstrap can resolve.
    pub(crate) fn next_index(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    /// Returns a draw of the Poisson distribution with mean 1, by inversion of its cumulative
    /// distribution function, given as [`poisson_one_thresholds`].
    #[cfg(test)]
    pub(crate) fn next_poisson_one(&mut self, thresholds: &[u64]) -> usize {
        poisson_one_count(self.next_u64(), thresholds)
    }
}

/// The increment of the SplitMix64 state per draw.
pub(crate) const SPLITMIX64_GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// The SplitMix64 output function, a bijection of 64-bit words.
#[inline(always)]
pub(crate) fn splitmix64_mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Returns the Poisson(1) count of a uniform 64-bit `draw`: the number of `thresholds` (from
/// [`poisson_one_thresholds`]) at or below it.
pub(crate) fn poisson_one_count(draw: u64, thresholds: &[u64]) -> usize {
    thresholds
        .iter()
        .take_while(|&&threshold| draw >= threshold)
        .count()
}

/// Returns `P(K <= k) * 2^64` for `K ~ Poisson(1)` and `k = 0, 1, ...`, until it rounds to
/// `2^64`: a uniform 64-bit draw `u` gives `k` = the number of thresholds at or below `u`.
pub(crate) fn poisson_one_thresholds() -> &'static [u64] {
    &POISSON_ONE_THRESHOLDS
}

static POISSON_ONE_THRESHOLDS: std::sync::LazyLock<Vec<u64>> = std::sync::LazyLock::new(|| {
    let scale = 2f64.powi(64);
    let mut thresholds = Vec::new();
    let mut probability = (-1f64).exp();
    let mut cumulative = 0.0;
    let mut k = 0.0;
    loop {
        cumulative += probability;
        let threshold = cumulative * scale;
        if threshold >= scale {
            break;
        }
        thresholds.push(threshold as u64);
        k += 1.0;
        probability /= k;
    }
    thresholds
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn take_rows_matches_select() {
        let array = ndarray::Array::from_shape_fn((4, 3), |(i, j)| (i * 10 + j) as f64);
        let indices = [3, 0, 0, 2];
        let expected = array.select(Axis(0), &indices);

        assert_eq!(take_rows(&array.view(), &indices), expected);
        let transposed = array.t();
        assert_eq!(
            take_rows(&transposed, &[2, 2]),
            transposed.select(Axis(0), &[2, 2])
        );
        assert_eq!(take_rows(&array.view(), &[]).shape(), &[0, 3]);
    }

    #[test]
    fn poisson_one_moments() {
        let mut rng = SplitMix64::for_stream(7, 0, 0);
        let draws: Vec<f64> = (0..200_000)
            .map(|_| rng.next_poisson_one(poisson_one_thresholds()) as f64)
            .collect();
        let mean = draws.iter().sum::<f64>() / draws.len() as f64;
        let variance =
            draws.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (draws.len() - 1) as f64;
        assert!((mean - 1.0).abs() < 0.01, "mean {mean}");
        assert!((variance - 1.0).abs() < 0.02, "variance {variance}");
    }

    #[test]
    fn poisson_one_zero_frequency() {
        let mut rng = SplitMix64::for_stream(11, 3, 4);
        let zeros = (0..200_000)
            .filter(|_| rng.next_poisson_one(poisson_one_thresholds()) == 0)
            .count();
        let frequency = zeros as f64 / 200_000.0;
        assert!((frequency - (-1f64).exp()).abs() < 0.005, "{frequency}");
    }

    #[test]
    fn index_draws_cover_range() {
        let mut rng = SplitMix64::for_stream(1, 2, 3);
        let mut seen = [0usize; 5];
        for _ in 0..10_000 {
            seen[rng.next_index(5)] += 1;
        }
        assert!(seen.iter().all(|&count| count > 1_800), "{seen:?}");
    }

    #[test]
    fn streams_differ() {
        let a = SplitMix64::for_stream(1, 0, 0).next_u64();
        let b = SplitMix64::for_stream(1, 1, 0).next_u64();
        let c = SplitMix64::for_stream(1, 0, 1).next_u64();
        assert_ne!(a, b);
        assert_ne!(a, c);
        assert_ne!(b, c);
    }
}
