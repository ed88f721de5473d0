//! `BootStrapper` over metrics with per-sample terms: the count-weighted path against the
//! gathering path, reproducibility, tiny batches and thread counts.

use ferrometrics::aggregation::{MeanMetric, NanStrategy, SumMetric};
use ferrometrics::inputs::WeightedValues;
use ferrometrics::numerics::Real;
use ferrometrics::regression::{
    LogCoshError, MeanAbsoluteError, MeanAbsolutePercentageError, MeanSquaredError,
    MeanSquaredLogError, PredsTarget, SymmetricMeanAbsolutePercentageError,
};
use ferrometrics::wrappers::{BootStrapper, BootstrapOptions, SamplingStrategy};
use ferrometrics::{Error, Input, Metric, MetricInfo, Value};
use ndarray::{ArrayD, IxDyn};
use serde::{Deserialize, Serialize};

/// A metric that hides its base metric's per-sample terms, so that `BootStrapper` gathers a
/// resample of every batch for it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(bound = "")]
struct GatherOnly<M: Metric>(M);

impl<M: Metric> Metric for GatherOnly<M> {
    type Kind = M::Kind;
    type Output = M::Output;

    fn info(&self) -> MetricInfo {
        self.0.info()
    }

    fn update(&mut self, input: Input<'_, Self>) -> ferrometrics::Result<()> {
        self.0.update(input)
    }

    fn compute(&self) -> ferrometrics::Result<M::Output> {
        self.0.compute()
    }

    fn reset(&mut self) {
        self.0.reset();
    }

    fn merge(&mut self, other: &Self) -> ferrometrics::Result<()> {
        self.0.merge(&other.0)
    }
}

/// Deterministic values in [0, 1) from a 64-bit linear congruential generator.
fn uniform(seed: u64, n: usize) -> Vec<f64> {
    let mut state = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
    (0..n)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 11) as f64 / (1u64 << 53) as f64
        })
        .collect()
}

fn array<F: Real>(shape: &[usize], seed: u64) -> ArrayD<F> {
    let count = shape.iter().product();
    let data = uniform(seed, count).into_iter().map(F::from_f64).collect();
    ArrayD::from_shape_vec(IxDyn(shape), data).unwrap()
}

fn options(num_bootstraps: usize, seed: u64) -> BootstrapOptions {
    BootstrapOptions {
        num_bootstraps,
        raw: true,
        seed,
        ..Default::default()
    }
}

fn raw(output: &[(String, Value)]) -> Vec<f64> {
    let (_, value) = output
        .iter()
        .find(|(key, _)| key == "raw")
        .expect("a raw entry");
    match value {
        Value::Array(array) => array.iter().copied().collect(),
        other => panic!("raw is {other:?}"),
    }
}

/// Updates a bootstrap of `base` through the count-weighted path and one through the gathering
/// path with the same batches, and checks that both draw the same samples and give the same
/// replicate values within 1e-12 relative.
fn assert_paths_agree<F, M>(base: M, batches: &[(ArrayD<F>, ArrayD<F>)], num_bootstraps: usize)
where
    F: Real,
    M: Metric<Kind = PredsTarget<F>>,
{
    let name = base.info().name;
    let mut counted = BootStrapper::new(base.clone(), options(num_bootstraps, 11)).unwrap();
    let mut gathered = BootStrapper::new(GatherOnly(base), options(num_bootstraps, 11)).unwrap();
    for (preds, target) in batches {
        counted.update((preds.view(), target.view())).unwrap();
        gathered.update((preds.view(), target.view())).unwrap();
    }

    assert_eq!(counted.drawn(), gathered.drawn(), "{name}");
    let counted = raw(&counted.compute().unwrap());
    let gathered = raw(&gathered.compute().unwrap());
    assert_eq!(counted.len(), gathered.len(), "{name}");
    for (ours, theirs) in counted.iter().zip(&gathered) {
        let scale = ours.abs().max(theirs.abs()).max(f64::MIN_POSITIVE);
        assert!(
            (ours - theirs).abs() / scale < 1e-12,
            "{name}: {ours} and {theirs}"
        );
    }
}

fn batches<F: Real>(shape: &[usize], count: u64) -> Vec<(ArrayD<F>, ArrayD<F>)> {
    (0..count)
        .map(|batch| (array(shape, 2 * batch + 1), array(shape, 2 * batch + 2)))
        .collect()
}

#[test]
fn counts_match_gather_one_output() {
    let data = batches::<f64>(&[5_000], 3);
    assert_paths_agree(MeanSquaredError::<f64>::default(), &data, 24);
    assert_paths_agree(MeanSquaredError::<f64>::new(false, 1).unwrap(), &data, 24);
    assert_paths_agree(MeanAbsoluteError::<f64>::default(), &data, 24);
    assert_paths_agree(MeanSquaredLogError::<f64>::new(), &data, 24);
    assert_paths_agree(LogCoshError::<f64>::new(1).unwrap(), &data, 24);
    assert_paths_agree(MeanAbsolutePercentageError::<f64>::new(), &data, 24);
    assert_paths_agree(
        SymmetricMeanAbsolutePercentageError::<f64>::new(),
        &data,
        24,
    );
}

#[test]
fn counts_match_gather_f32() {
    let data = batches::<f32>(&[9_000], 2);
    assert_paths_agree(MeanSquaredError::<f32>::default(), &data, 16);
    assert_paths_agree(MeanAbsoluteError::<f32>::default(), &data, 16);
}

#[test]
fn counts_match_gather_several_outputs() {
    let data = batches::<f64>(&[3_000, 3], 2);
    assert_paths_agree(MeanSquaredError::<f64>::new(true, 3).unwrap(), &data, 12);
    assert_paths_agree(MeanAbsoluteError::<f64>::new(3).unwrap(), &data, 12);
    assert_paths_agree(LogCoshError::<f64>::new(3).unwrap(), &data, 12);
}

#[test]
fn counts_match_gather_flattened_rows() {
    // One output flattens rows of 2 x 2 values, so a drawn row brings four squared errors.
    let data = batches::<f64>(&[700, 2, 2], 2);
    assert_paths_agree(MeanSquaredError::<f64>::default(), &data, 12);
    assert_paths_agree(MeanSquaredLogError::<f64>::new(), &data, 12);
}

#[test]
fn counts_match_gather_tiny_batches() {
    for samples in [1, 2, 3] {
        let data = batches::<f64>(&[samples], 4);
        assert_paths_agree(MeanSquaredError::<f64>::default(), &data, 40);
    }
}

#[test]
fn counts_path_skips_empty_replicates() {
    let mut metric = BootStrapper::new(MeanSquaredError::<f64>::default(), options(50, 3)).unwrap();
    let (preds, target) = (array::<f64>(&[1], 1), array::<f64>(&[1], 2));
    metric.update((preds.view(), target.view())).unwrap();

    let drawn = metric.drawn();
    let empty = drawn.iter().filter(|&&count| count == 0).count();
    // P(K = 0) = 1/e, so about 18 of 50 replicates draw nothing.
    assert!(empty > 5, "{empty} empty replicates");
    assert!(empty < 35, "{empty} empty replicates");
    let values = raw(&metric.compute().unwrap());
    assert_eq!(values.len(), 50 - empty);
    let expected = (preds[[0]] - target[[0]]).powi(2);
    assert!(values.iter().all(|&value| value == expected), "{values:?}");
}

#[test]
fn counts_path_empty_batch_draws_nothing() {
    let mut metric = BootStrapper::new(MeanSquaredError::<f64>::default(), options(5, 3)).unwrap();
    let empty = ArrayD::<f64>::zeros(IxDyn(&[0]));
    metric.update((empty.view(), empty.view())).unwrap();

    assert_eq!(metric.drawn(), &[0; 5]);
    assert_eq!(metric.next_batch(), 1);
    assert!(matches!(
        metric.compute().unwrap_err(),
        Error::NotEnoughData { .. }
    ));
}

#[test]
fn counts_path_same_seed_same_result() {
    let data = batches::<f64>(&[2_000], 2);
    let run = |seed: u64| {
        let base = MeanSquaredError::<f64>::default();
        let mut metric = BootStrapper::new(base, options(20, seed)).unwrap();
        for (preds, target) in &data {
            metric.update((preds.view(), target.view())).unwrap();
        }
        raw(&metric.compute().unwrap())
    };
    assert_eq!(run(5), run(5));
    assert_ne!(run(5), run(6));
}

#[test]
fn counts_path_thread_count_irrelevant() {
    let data = batches::<f64>(&[10_000], 2);
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let base = MeanSquaredError::<f64>::default();
            let mut metric = BootStrapper::new(base, options(33, 7)).unwrap();
            for (preds, target) in &data {
                metric.update((preds.view(), target.view())).unwrap();
            }
            raw(&metric.compute().unwrap())
        })
    };
    let one = run(1);
    assert_eq!(one, run(2));
    assert_eq!(one, run(3));
}

#[test]
fn counts_path_rejected_batch_changes_nothing() {
    let mut metric = BootStrapper::new(MeanSquaredError::<f64>::default(), options(5, 1)).unwrap();
    let (preds, target) = (array::<f64>(&[100], 1), array::<f64>(&[100], 2));
    metric.update((preds.view(), target.view())).unwrap();
    let before = metric.compute().unwrap();

    let mut bad = preds.clone();
    bad[[3]] = f64::NAN;
    let error = metric.update((bad.view(), target.view())).unwrap_err();
    assert!(matches!(error, Error::NonFinite { .. }), "{error}");
    let short = array::<f64>(&[99], 3);
    assert!(metric.update((short.view(), target.view())).is_err());

    assert_eq!(metric.compute().unwrap(), before);
    assert_eq!(metric.next_batch(), 1);
}

#[test]
fn counts_path_scalar_input_rejected() {
    let mut metric = BootStrapper::new(MeanSquaredError::<f64>::default(), options(5, 1)).unwrap();
    let scalar = ArrayD::from_elem(IxDyn(&[]), 1.0);
    let error = metric.update((scalar.view(), scalar.view())).unwrap_err();

    assert!(error.to_string().contains("preds"), "{error}");
    assert_eq!(metric.next_batch(), 0);
}

#[test]
fn counts_path_forward_matches_updates() {
    let data = batches::<f64>(&[1_000], 2);
    let base = MeanSquaredError::<f64>::default();
    let mut forwarded = BootStrapper::new(base.clone(), options(8, 4)).unwrap();
    let mut updated = BootStrapper::new(base, options(8, 4)).unwrap();
    for (preds, target) in &data {
        forwarded.forward((preds.view(), target.view())).unwrap();
        updated.update((preds.view(), target.view())).unwrap();
    }

    assert_eq!(forwarded.compute().unwrap(), updated.compute().unwrap());
}

#[test]
fn multinomial_keeps_gather_path() {
    let data = batches::<f64>(&[500], 1);
    let options = BootstrapOptions {
        sampling_strategy: SamplingStrategy::Multinomial,
        ..options(6, 2)
    };
    let mut metric = BootStrapper::new(MeanSquaredError::<f64>::default(), options).unwrap();
    metric.update((data[0].0.view(), data[0].1.view())).unwrap();

    assert_eq!(metric.drawn(), &[500; 6]);
}

type ValueBatch = (ArrayD<f64>, Option<ArrayD<f64>>);

/// As [`assert_paths_agree`], for the aggregation metrics, and checks that the replicates
/// count the same NaN positions.
fn assert_aggregation_paths_agree<M>(base: M, batches: &[ValueBatch], nan_count: impl Fn(&M) -> u64)
where
    M: Metric<Kind = WeightedValues>,
{
    let mut counted = BootStrapper::new(base.clone(), options(12, 5)).unwrap();
    let mut gathered = BootStrapper::new(GatherOnly(base), options(12, 5)).unwrap();
    for (value, weight) in batches {
        let weight = weight.as_ref().map(|weight| weight.view());
        counted.update((value.view(), weight.clone())).unwrap();
        gathered.update((value.view(), weight)).unwrap();
    }

    assert_eq!(counted.drawn(), gathered.drawn());
    for (ours, theirs) in counted.replicates().iter().zip(gathered.replicates()) {
        assert_eq!(nan_count(ours), nan_count(&theirs.0));
    }
    let counted = raw(&counted.compute().unwrap());
    let gathered = raw(&gathered.compute().unwrap());
    assert_eq!(counted.len(), gathered.len());
    for (ours, theirs) in counted.iter().zip(&gathered) {
        let scale = ours.abs().max(theirs.abs()).max(f64::MIN_POSITIVE);
        assert!((ours - theirs).abs() / scale < 1e-12, "{ours} and {theirs}");
    }
}

fn with_nans(mut values: ArrayD<f64>) -> ArrayD<f64> {
    for (position, value) in values.iter_mut().enumerate() {
        if position % 7 == 3 {
            *value = f64::NAN;
        }
    }
    values
}

#[test]
fn counts_match_gather_mean_metric() {
    let weighted = |weight_shape: &[usize]| -> Vec<ValueBatch> {
        vec![(array(&[600, 3], 1), Some(array(weight_shape, 2)))]
    };
    let metric = || MeanMetric::new(NanStrategy::Ignore);
    let nan_count = |metric: &MeanMetric| metric.nan_count();

    assert_aggregation_paths_agree(metric(), &[(array(&[2_000], 1), None)], nan_count);
    let per_sample = vec![(array(&[2_000], 1), Some(array(&[2_000], 2)))];
    assert_aggregation_paths_agree(metric(), &per_sample, nan_count);
    for weight_shape in [&[600, 3][..], &[1, 3], &[3], &[]] {
        assert_aggregation_paths_agree(metric(), &weighted(weight_shape), nan_count);
    }
    let nans = vec![(
        with_nans(array(&[900, 2], 3)),
        Some(with_nans(array(&[900, 2], 4))),
    )];
    assert_aggregation_paths_agree(metric(), &nans, nan_count);
    let replaced = MeanMetric::new(NanStrategy::Replace(0.5));
    assert_aggregation_paths_agree(replaced, &nans, nan_count);
}

#[test]
fn counts_match_gather_sum_metric() {
    let nan_count = |metric: &SumMetric| metric.nan_count();
    let batches = vec![(array(&[1_500], 1), None), (array(&[400, 2], 2), None)];
    assert_aggregation_paths_agree(SumMetric::default(), &batches, nan_count);
    let nans = vec![(with_nans(array(&[1_000], 3)), None)];
    assert_aggregation_paths_agree(SumMetric::new(NanStrategy::Warn), &nans, nan_count);
}

#[test]
fn aggregation_counts_path_keeps_errors() {
    let mut metric = BootStrapper::new(SumMetric::default(), options(4, 1)).unwrap();
    let value = array::<f64>(&[10], 1);
    let weight = array::<f64>(&[10], 2);
    let error = metric
        .update((value.view(), Some(weight.view())))
        .unwrap_err();
    assert!(error.to_string().contains("weight"), "{error}");

    let mut mean = BootStrapper::new(MeanMetric::new(NanStrategy::Error), options(4, 1)).unwrap();
    let nans = with_nans(array::<f64>(&[10], 1));
    let error = mean.update((nans.view(), None)).unwrap_err();
    assert!(error.to_string().contains("index 3"), "{error}");
    assert_eq!(mean.next_batch(), 0);
}
