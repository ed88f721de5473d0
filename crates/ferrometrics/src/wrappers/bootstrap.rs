//! `BootStrapper`: confidence intervals of any metric by resampling every batch.

use std::str::FromStr;

use ndarray::{ArrayD, Axis, IxDyn};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::resample::{poisson_one_count, poisson_one_thresholds, Resample, SplitMix64};
use super::value_to_array;
use super::weighted::{poisson_term_sums, SampleTerms};
use crate::error::{Error, Result};
use crate::metric::{check_same_config, Input, Metric, MetricInfo};
use crate::numerics::compensated_sum;
use crate::value::Value;

/// The sampling scheme by which [`BootStrapper`] draws each replicate's samples from a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum SamplingStrategy {
    /// Each sample enters each replicate `k ~ Poisson(1)` times, independently of the other
    /// samples and batches. Over many samples this approaches the bootstrap of the whole data
    /// set, whatever the batch sizes.
    #[default]
    Poisson,
    /// Each batch of `n` samples is resampled to `n` samples drawn uniformly with replacement,
    /// as TorchMetrics does. This is the exact bootstrap of each batch, so the replicate of the
    /// whole data set is stratified by batch: every batch keeps its size.
    Multinomial,
}

impl FromStr for SamplingStrategy {
    type Err = Error;

    /// Parses TorchMetrics' names, `"poisson"` and `"multinomial"`.
    fn from_str(name: &str) -> Result<Self> {
        match name {
            "poisson" => Ok(Self::Poisson),
            "multinomial" => Ok(Self::Multinomial),
            _ => Err(Error::invalid_argument(
                "sampling_strategy",
                format!("unknown strategy {name:?}; pass \"poisson\" or \"multinomial\""),
            )),
        }
    }
}

/// The quantile levels that [`BootStrapper`] reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Quantile {
    /// One level: the `quantile` entry has the shape of the base metric's value.
    Single(f64),
    /// Several levels: the `quantile` entry has one more leading axis, one entry per level.
    Many(Vec<f64>),
}

impl Quantile {
    fn levels(&self) -> &[f64] {
        match self {
            Quantile::Single(level) => std::slice::from_ref(level),
            Quantile::Many(levels) => levels,
        }
    }
}

/// The configuration of a [`BootStrapper`], with TorchMetrics' argument names and defaults and
/// a seed of 0.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BootstrapOptions {
    /// Number of replicates of the base metric.
    pub num_bootstraps: usize,
    /// Whether the output has the `mean` of the replicate values.
    pub mean: bool,
    /// Whether the output has the `std` of the replicate values, with one delta degree of
    /// freedom as `torch.std`.
    pub std: bool,
    /// Quantile levels in `[0, 1]` of the replicate values, reported as `quantile`, with
    /// numpy's default linear interpolation.
    pub quantile: Option<Quantile>,
    /// Whether the output has the `raw` replicate values, one per replicate along the first axis.
    pub raw: bool,
    /// The strategy by which each replicate draws samples from a batch.
    pub sampling_strategy: SamplingStrategy,
    /// Seed of the draws. The same seed, batches and batch order give the same result on any
    /// number of threads.
    pub seed: u64,
}

impl Default for BootstrapOptions {
    fn default() -> Self {
        Self {
            num_bootstraps: 10,
            mean: true,
            std: true,
            quantile: None,
            raw: false,
            sampling_strategy: SamplingStrategy::Poisson,
            seed: 0,
        }
    }
}

/// Largest `num_bootstraps`: 2^20 replicates.
pub const MAX_BOOTSTRAPS: usize = 1 << 20;

impl BootstrapOptions {
    fn validate(&self) -> Result<()> {
        if self.num_bootstraps == 0 {
            return Err(Error::invalid_argument(
                "num_bootstraps",
                "got 0; pass a positive number of replicates",
            ));
        }
        if self.num_bootstraps > MAX_BOOTSTRAPS {
            return Err(Error::invalid_argument(
                "num_bootstraps",
                format!(
                    "got {}, more than the {MAX_BOOTSTRAPS} supported, because every replicate \
                     keeps a copy of the base metric; pass fewer replicates",
                    self.num_bootstraps
                ),
            ));
        }
        if let Some(quantile) = &self.quantile {
            if quantile.levels().is_empty() {
                return Err(Error::invalid_argument(
                    "quantile",
                    "got no levels; pass at least one level in [0, 1] or no quantile",
                ));
            }
            for &level in quantile.levels() {
                if !(0.0..=1.0).contains(&level) {
                    return Err(Error::invalid_argument(
                        "quantile",
                        format!("level {level} is outside [0, 1]; pass levels in [0, 1]"),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// Bootstrap estimates of a metric: `num_bootstraps` replicates of the base metric, each
/// updated with a resample of every batch, as TorchMetrics' `BootStrapper`.
///
/// `compute` returns a map with the entries the options enable, in this order: `mean`, `std`
/// (one delta degree of freedom), `quantile` and `raw`. A replicate that has drawn no sample
/// yet, which happens under Poisson sampling of tiny data, is left out of every entry instead
/// of counting as a value. A base value that is an array gives entries computed element by
/// element along the replicate axis.
///
/// Replicate `r` draws batch `b` with its own random stream, keyed by the seed, `r` and `b`,
/// so results do not depend on the number of threads, and the replicates run in parallel.
/// Every batch is validated once with the base metric before any replicate is updated, so a
/// rejected batch changes nothing.
///
/// Under Poisson sampling, a base metric with per-sample terms ([`Metric::sample_terms`], such
/// as [`MeanSquaredError`](crate::regression::MeanSquaredError)) is updated without copying
/// resamples: each replicate adds the terms weighted by how often it draws each sample, with
/// the draws of the copying path, so the two agree up to summation order (within 1e-12
/// relative). Other base metrics, and multinomial sampling, copy one resample per replicate.
///
/// `merge` merges the replicates pairwise and accepts states drawn with other seeds. Shards of
/// one data set with one seed and disjoint batch indices ([`BootStrapper::with_first_batch`])
/// merge to the result of one pass over the batches in index order. Shards that share a seed
/// and batch indices reuse the same draws for different data, which correlates them, so give
/// each such shard its own seed.
///
/// # Example
///
/// ```
/// use ferrometrics::aggregation::SumMetric;
/// use ferrometrics::wrappers::{BootStrapper, BootstrapOptions};
/// use ferrometrics::Metric;
/// use ndarray::array;
///
/// let options = BootstrapOptions { num_bootstraps: 4, raw: true, ..Default::default() };
/// let mut bootstrap = BootStrapper::new(SumMetric::default(), options)?;
/// bootstrap.update((array![1.0, 1.0, 1.0].into_dyn().view(), None))?;
///
/// let output = bootstrap.compute()?;
/// let keys: Vec<&str> = output.iter().map(|(key, _)| key.as_str()).collect();
/// assert_eq!(keys, ["mean", "std", "raw"]);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BootStrapper<M> {
    options: BootstrapOptions,
    replicates: Vec<M>,
    /// Samples drawn by each replicate since the last reset.
    drawn: Vec<u64>,
    first_batch: u64,
    next_batch: u64,
}

impl<M: Metric> BootStrapper<M>
where
    M::Kind: Resample,
{
    /// Creates `options.num_bootstraps` empty replicates of `base_metric`.
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidArgument`] if `num_bootstraps` is 0 or a quantile level is
    /// outside `[0, 1]`.
    pub fn new(base_metric: M, options: BootstrapOptions) -> Result<Self> {
        options.validate()?;
        let base = base_metric.empty();
        Ok(Self {
            replicates: vec![base; options.num_bootstraps],
            drawn: vec![0; options.num_bootstraps],
            options,
            first_batch: 0,
            next_batch: 0,
        })
    }

    /// Numbers this instance's batches from `index` on, and clears its state. Give shards of
    /// one data set disjoint ranges of indices so that their merge equals one pass.
    pub fn with_first_batch(mut self, index: u64) -> Self {
        self.first_batch = index;
        self.reset();
        self
    }

    /// Returns the configuration.
    pub fn options(&self) -> &BootstrapOptions {
        &self.options
    }

    /// Returns the replicates, whose values `raw` reports.
    pub fn replicates(&self) -> &[M] {
        &self.replicates
    }

    /// Returns how many samples each replicate drew since the last reset.
    pub fn drawn(&self) -> &[u64] {
        &self.drawn
    }

    /// Returns the index that the next batch gets.
    pub fn next_batch(&self) -> u64 {
        self.next_batch
    }

    fn draw(&self, replicate: usize, batch: u64, n: usize) -> Vec<usize> {
        bootstrap_indices(
            self.options.seed,
            replicate as u64,
            batch,
            n,
            self.options.sampling_strategy,
        )
    }

    /// Updates each replicate with the batch's per-sample terms weighted by the replicate's
    /// Poisson counts, the counts of the indices that the gathering path draws, so no resample
    /// is copied. The terms come from a validated batch.
    fn update_with_terms(&mut self, terms: SampleTerms, input: Input<'_, M>) -> Result<()> {
        let source = <M::Kind as Resample>::source(input);
        let samples = <M::Kind as Resample>::num_samples(&source)?;
        if samples != terms.num_samples() {
            return Err(Error::invalid_input(
                "base_metric",
                format!(
                    "{} returned terms for {} samples of a batch of {samples}; its sample_terms \
                     must return one row per sample",
                    self.replicates[0].info().name,
                    terms.num_samples()
                ),
            ));
        }

        let sums = poisson_term_sums(
            &terms,
            self.options.seed,
            self.next_batch,
            self.replicates.len(),
        );
        // The replicates are updated in a copy, so an error leaves the state unchanged.
        let mut updated = self.replicates.clone();
        for (metric, sums) in updated.iter_mut().zip(&sums) {
            if sums.samples > 0 {
                metric.add_term_sums(sums)?;
            }
        }
        self.replicates = updated;
        for (drawn, sums) in self.drawn.iter_mut().zip(&sums) {
            *drawn += sums.samples;
        }
        self.next_batch += 1;
        Ok(())
    }

    fn check_same_config(&self, other: &Self) -> Result<()> {
        // The seed is left out, so that shards drawn with their own seeds merge.
        let theirs = BootstrapOptions {
            seed: self.options.seed,
            ..other.options.clone()
        };
        check_same_config("BootStrapper", "options", &self.options, &theirs)?;
        if let (Some(ours), Some(theirs)) = (self.replicates.first(), other.replicates.first()) {
            check_same_config(
                "BootStrapper",
                "base_metric",
                &ours.info().name,
                &theirs.info().name,
            )?;
        }
        Ok(())
    }
}

impl<M: Metric> Metric for BootStrapper<M>
where
    M::Kind: Resample,
{
    type Kind = M::Kind;
    type Output = Vec<(String, Value)>;

    fn info(&self) -> MetricInfo {
        MetricInfo {
            name: "BootStrapper",
            higher_is_better: None,
            is_differentiable: false,
            lower_bound: f64::NEG_INFINITY,
            upper_bound: f64::INFINITY,
        }
    }

    fn state_name(&self) -> String {
        super::wrapped_state_name("BootStrapper", self.replicates.first())
    }

    /// Validates the batch with the base metric, then updates each replicate with its resample,
    /// or with the per-sample terms weighted by its Poisson counts where the base metric has
    /// them.
    ///
    /// # Errors
    ///
    /// Returns the base metric's error for an invalid batch, and an error naming the inputs if
    /// they disagree on the number of samples.
    fn update(&mut self, input: Input<'_, Self>) -> Result<()> {
        let Some(first) = self.replicates.first() else {
            return Err(Error::incompatible_state(
                "the BootStrapper state has no replicates; build it with BootStrapper::new",
            ));
        };
        if self.options.sampling_strategy == SamplingStrategy::Poisson {
            if let Some(terms) = first.sample_terms(input.clone()) {
                return self.update_with_terms(terms?, input);
            }
        }
        let mut probe = first.empty();
        probe.update(input.clone())?;
        let source = <M::Kind as Resample>::source(input);
        let samples = <M::Kind as Resample>::num_samples(&source)?;

        let batch = self.next_batch;
        let parts = self
            .replicates
            .par_iter()
            .enumerate()
            .map(|(replicate, metric)| {
                let indices = self.draw(replicate, batch, samples);
                if indices.is_empty() {
                    return Ok(None);
                }
                let resampled = <M::Kind as Resample>::select(&source, &indices);
                let mut part = metric.empty();
                <M::Kind as Resample>::with_view(&resampled, |view| part.update(view))?;
                Ok(Some((part, indices.len() as u64)))
            })
            .collect::<Result<Vec<_>>>()?;

        // Each part is an empty copy of its replicate, so the configurations agree and the
        // merges succeed.
        for ((metric, drawn), part) in self.replicates.iter_mut().zip(&mut self.drawn).zip(parts) {
            if let Some((part, count)) = part {
                metric.merge(&part)?;
                *drawn += count;
            }
        }
        self.next_batch += 1;
        Ok(())
    }

    /// Computes the enabled entries over the replicates that drew at least one sample.
    ///
    /// # Errors
    ///
    /// Returns [`Error::NotEnoughData`] if no replicate drew a sample, the base metric's error
    /// if a replicate has no value, and [`Error::InvalidInput`] if the base metric's value is a
    /// map or the replicates' values differ in shape.
    fn compute(&self) -> Result<Vec<(String, Value)>> {
        let mut values = Vec::with_capacity(self.replicates.len());
        for (metric, &drawn) in self.replicates.iter().zip(&self.drawn) {
            if drawn > 0 {
                values.push(value_to_array("BootStrapper", metric.compute()?.into())?);
            }
        }
        let Some(first) = values.first() else {
            return Err(Error::not_enough_data(
                "BootStrapper",
                "no replicate has drawn a sample; update with at least one sample first",
            ));
        };
        let shape = first.shape().to_vec();
        if let Some(other) = values.iter().find(|value| value.shape() != shape) {
            return Err(Error::invalid_input(
                "base_metric",
                format!(
                    "replicate values have shapes {shape:?} and {:?}; the base metric must \
                     return values of one shape",
                    other.shape()
                ),
            ));
        }
        let views: Vec<_> = values.iter().map(|value| value.view()).collect();
        let raw = ndarray::stack(Axis(0), &views).map_err(|e| {
            Error::invalid_input("base_metric", format!("cannot stack replicate values: {e}"))
        })?;

        let mut output = Vec::new();
        if self.options.mean {
            output.push(("mean".to_owned(), per_element(&raw, mean_of)));
        }
        if self.options.std {
            output.push(("std".to_owned(), per_element(&raw, std_of)));
        }
        if let Some(quantile) = &self.options.quantile {
            let value = match quantile {
                Quantile::Single(level) => per_element(&raw, |column| quantile_of(column, *level)),
                Quantile::Many(levels) => {
                    let entries: Vec<ArrayD<f64>> = levels
                        .iter()
                        .map(|&level| {
                            array_of(per_element(&raw, |column| quantile_of(column, level)))
                        })
                        .collect();
                    let views: Vec<_> = entries.iter().map(|entry| entry.view()).collect();
                    Value::Array(ndarray::stack(Axis(0), &views).expect("entries share a shape"))
                }
            };
            output.push(("quantile".to_owned(), value));
        }
        if self.options.raw {
            output.push(("raw".to_owned(), Value::Array(raw)));
        }
        Ok(output)
    }

    fn reset(&mut self) {
        for metric in &mut self.replicates {
            metric.reset();
        }
        self.drawn.iter_mut().for_each(|drawn| *drawn = 0);
        self.next_batch = self.first_batch;
    }

    /// Merges the replicates pairwise. The next batch index becomes the larger of the two.
    ///
    /// # Errors
    ///
    /// Returns [`Error::IncompatibleState`] if the options or base metrics differ.
    fn merge(&mut self, other: &Self) -> Result<()> {
        self.check_same_config(other)?;

        // The replicates share one configuration, so the first merge fails before any state
        // changes if the base metrics are configured differently.
        for (ours, theirs) in self.replicates.iter_mut().zip(&other.replicates) {
            ours.merge(theirs)?;
        }
        for (ours, theirs) in self.drawn.iter_mut().zip(&other.drawn) {
            *ours += theirs;
        }
        self.next_batch = self.next_batch.max(other.next_batch);
        Ok(())
    }

    /// Computes the bootstrap of this batch alone and accumulates the batch with the same
    /// draws as [`BootStrapper::update`], so two forwards then `compute` equal two updates then
    /// `compute`.
    ///
    /// # Errors
    ///
    /// Returns the errors of `update` and `compute`, and changes nothing on an error.
    fn forward(&mut self, input: Input<'_, Self>) -> Result<Vec<(String, Value)>> {
        let mut batch = self.empty();
        batch.next_batch = self.next_batch;
        batch.update(input)?;

        let value = batch.compute()?;
        self.merge(&batch)?;
        Ok(value)
    }
}

/// Returns the indices of the samples, in `0..samples`, that replicate `replicate` draws from
/// batch `batch` under `strategy`: each index `k ~ Poisson(1)` times in increasing order, or
/// `samples` uniform draws with replacement.
///
/// The draws come from a SplitMix64 stream keyed by `(seed, replicate, batch)`, the stream that
/// [`BootStrapper`] uses, so a caller that resamples its own batches gets the same replicates.
///
/// # Example
///
/// ```
/// use ferrometrics::wrappers::{bootstrap_indices, SamplingStrategy};
///
/// let indices = bootstrap_indices(7, 0, 0, 5, SamplingStrategy::Multinomial);
/// assert_eq!(indices.len(), 5);
/// assert!(indices.iter().all(|&index| index < 5));
/// assert_eq!(indices, bootstrap_indices(7, 0, 0, 5, SamplingStrategy::Multinomial));
/// ```
pub fn bootstrap_indices(
    seed: u64,
    replicate: u64,
    batch: u64,
    samples: usize,
    strategy: SamplingStrategy,
) -> Vec<usize> {
    let mut rng = SplitMix64::for_stream(seed, replicate, batch);
    match strategy {
        SamplingStrategy::Poisson => poisson_indices(&mut rng, samples),
        SamplingStrategy::Multinomial => (0..samples).map(|_| rng.next_index(samples)).collect(),
    }
}

/// Returns each index of `0..samples` repeated `k ~ Poisson(1)` times, in increasing order.
///
/// Counts up to [`UNROLLED_COUNT`] are found with branch-free comparisons and written with a
/// fixed number of stores past the end of the used part of the buffer. A branch per count would
/// mispredict often, because the counts 0, 1 and 2 are about equally likely. Larger counts, with
/// probability below 1e-3, take a loop.
fn poisson_indices(rng: &mut SplitMix64, samples: usize) -> Vec<usize> {
    let thresholds = poisson_one_thresholds();
    let unrolled: [u64; UNROLLED_COUNT] = std::array::from_fn(|k| thresholds[k]);

    // Poisson(1) counts sum to `samples` on average, with a standard deviation of sqrt(samples).
    let mut buffer = vec![0usize; samples + samples / 8 + 2 * UNROLLED_COUNT];
    let mut used = 0;
    for sample in 0..samples {
        if used + 2 * UNROLLED_COUNT > buffer.len() {
            buffer.resize(buffer.len() * 2, 0);
        }
        let draw = rng.next_u64();
        let mut count = 0;
        for threshold in unrolled {
            count += usize::from(draw >= threshold);
        }
        buffer[used..used + UNROLLED_COUNT].fill(sample);
        if count == UNROLLED_COUNT {
            count = poisson_one_count(draw, thresholds);
            buffer.resize(buffer.len().max(used + count + 2 * UNROLLED_COUNT), 0);
            buffer[used..used + count].fill(sample);
        }
        used += count;
    }
    buffer.truncate(used);
    buffer
}

/// The largest Poisson count that [`poisson_indices`] handles without a loop.
const UNROLLED_COUNT: usize = 6;

/// The statistics of one metric's replicate values that [`BootStrapper`] reports.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplicateSummary {
    /// Mean of the values.
    pub mean: f64,
    /// Standard deviation with one delta degree of freedom, NaN for one value.
    pub std: f64,
    /// One quantile per requested level, in the order of the levels.
    pub quantiles: Vec<f64>,
}

/// Computes the `mean`, `std` and quantiles at `levels` of replicate values exactly as
/// [`BootStrapper::compute`] does, for callers that evaluate their own replicates on the draws
/// of [`bootstrap_indices`].
///
/// Quantiles use numpy's default linear interpolation, and a NaN value makes every quantile
/// NaN. No values give NaN everywhere. The levels are not validated: pass levels in `[0, 1]`.
///
/// # Example
///
/// ```
/// use ferrometrics::wrappers::summarize_replicates;
///
/// // numpy.quantile([3, 1, 4, 1, 5], [0.25, 0.5, 1]) is [1, 3, 5].
/// let summary = summarize_replicates(&[3.0, 1.0, 4.0, 1.0, 5.0], &[0.25, 0.5, 1.0]);
/// assert_eq!(summary.mean, 2.8);
/// assert_eq!(summary.quantiles, [1.0, 3.0, 5.0]);
/// ```
pub fn summarize_replicates(values: &[f64], levels: &[f64]) -> ReplicateSummary {
    if values.is_empty() {
        return ReplicateSummary {
            mean: f64::NAN,
            std: f64::NAN,
            quantiles: vec![f64::NAN; levels.len()],
        };
    }
    ReplicateSummary {
        mean: mean_of(values),
        std: std_of(values),
        quantiles: levels
            .iter()
            .map(|&level| quantile_of(values, level))
            .collect(),
    }
}

/// Applies `statistic` to each element's column of replicate values along the first axis of
/// `raw`, returning a scalar for 0-d base values.
fn per_element(raw: &ArrayD<f64>, statistic: impl Fn(&[f64]) -> f64) -> Value {
    let element_shape = IxDyn(&raw.shape()[1..]);
    let mut result = ArrayD::zeros(element_shape);
    for (index, slot) in result.indexed_iter_mut() {
        let column: Vec<f64> = raw
            .axis_iter(Axis(0))
            .map(|replicate| replicate[&index])
            .collect();
        *slot = statistic(&column);
    }
    if result.ndim() == 0 {
        Value::Scalar(result[[]])
    } else {
        Value::Array(result)
    }
}

fn array_of(value: Value) -> ArrayD<f64> {
    match value {
        Value::Scalar(x) => ndarray::arr0(x).into_dyn(),
        Value::Array(array) => array,
        Value::Map(_) => unreachable!("per_element returns a scalar or an array"),
    }
}

fn mean_of(column: &[f64]) -> f64 {
    compensated_sum(column.iter().copied()) / column.len() as f64
}

/// Sample standard deviation with one delta degree of freedom, NaN for one value as `torch.std`.
fn std_of(column: &[f64]) -> f64 {
    if column.len() < 2 {
        return f64::NAN;
    }
    let mean = mean_of(column);
    let squares = compensated_sum(column.iter().map(|x| (x - mean) * (x - mean)));
    (squares / (column.len() - 1) as f64).sqrt()
}

/// Quantile with numpy's default `linear` method: the value at position `level * (n - 1)` of
/// the sorted values, interpolated as numpy's `_lerp` does. Any NaN gives NaN.
fn quantile_of(column: &[f64], level: f64) -> f64 {
    if column.iter().any(|x| x.is_nan()) {
        return f64::NAN;
    }
    let mut sorted = column.to_vec();
    sorted.sort_by(f64::total_cmp);

    let position = level * (sorted.len() - 1) as f64;
    let below = position.floor() as usize;
    let above = (below + 1).min(sorted.len() - 1);
    let fraction = position - below as f64;
    let (low, high) = (sorted[below], sorted[above]);
    let difference = high - low;
    if fraction >= 0.5 {
        high - difference * (1.0 - fraction)
    } else {
        low + difference * fraction
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantile_matches_numpy_linear() {
        // numpy.quantile([3, 1, 4, 1, 5], q) for q = 0, 0.3, 0.5, 0.9, 1.
        let values = [3.0, 1.0, 4.0, 1.0, 5.0];
        let expected = [(0.0, 1.0), (0.3, 1.4), (0.5, 3.0), (0.9, 4.6), (1.0, 5.0)];
        for (level, value) in expected {
            assert!(
                (quantile_of(&values, level) - value).abs() < 1e-12,
                "{level}"
            );
        }
    }

    #[test]
    fn quantile_single_value() {
        assert_eq!(quantile_of(&[2.5], 0.7), 2.5);
    }

    #[test]
    fn quantile_nan_propagates() {
        assert!(quantile_of(&[1.0, f64::NAN], 0.5).is_nan());
    }

    #[test]
    fn poisson_indices_match_simple_expansion() {
        let thresholds = poisson_one_thresholds();
        for samples in [0, 1, 5, 10_000] {
            let mut simple_rng = SplitMix64::for_stream(3, 1, 2);
            let mut expected = Vec::new();
            for sample in 0..samples {
                for _ in 0..simple_rng.next_poisson_one(thresholds) {
                    expected.push(sample);
                }
            }
            let mut rng = SplitMix64::for_stream(3, 1, 2);
            assert_eq!(
                poisson_indices(&mut rng, samples),
                expected,
                "{samples} samples"
            );
        }
    }

    #[test]
    fn std_one_value_is_nan() {
        assert!(std_of(&[3.0]).is_nan());
    }

    #[test]
    fn std_uses_one_delta_degree() {
        // numpy.std([1, 2, 3, 4], ddof=1)
        assert!((std_of(&[1.0, 2.0, 3.0, 4.0]) - 1.290_994_448_735_805_6).abs() < 1e-15);
    }

    #[test]
    fn sampling_strategy_parse() {
        assert_eq!(
            "poisson".parse::<SamplingStrategy>().unwrap(),
            SamplingStrategy::Poisson
        );
        assert_eq!(
            "multinomial".parse::<SamplingStrategy>().unwrap(),
            SamplingStrategy::Multinomial
        );
        let error = "uniform".parse::<SamplingStrategy>().unwrap_err();
        assert!(error.to_string().contains("sampling_strategy"));
        assert!(error.to_string().contains("uniform"));
    }
}
