//! Wrappers over real metrics: bootstrap statistics, tracking, per-class and per-output
//! splitting, running windows, and their behaviour inside a collection.

use ferrometrics::aggregation::{MaxMetric, MeanMetric, NanStrategy, SumMetric};
use ferrometrics::clustering::{AdjustedRandScore, RandScore};
use ferrometrics::regression::MeanSquaredError;
use ferrometrics::wrappers::{
    BootStrapper, BootstrapOptions, ClasswiseWrapper, MetricTracker, MinMaxMetric,
    MultioutputWrapper, MultitaskWrapper, Quantile, Running, SamplingStrategy,
};
use ferrometrics::{Error, Metric, MetricCollection, Value};
use ndarray::{array, Array1, ArrayD};

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

fn values(data: &[f64]) -> ArrayD<f64> {
    Array1::from(data.to_vec()).into_dyn()
}

fn entry<'a>(output: &'a [(String, Value)], key: &str) -> &'a Value {
    &output
        .iter()
        .find(|(name, _)| name == key)
        .unwrap_or_else(|| panic!("no entry {key:?} in {output:?}"))
        .1
}

fn scalar(output: &[(String, Value)], key: &str) -> f64 {
    entry(output, key).as_scalar().expect("a scalar entry")
}

fn raw(output: &[(String, Value)]) -> Vec<f64> {
    match entry(output, "raw") {
        Value::Array(array) => array.iter().copied().collect(),
        other => panic!("raw is {other:?}"),
    }
}

fn options(num_bootstraps: usize, seed: u64) -> BootstrapOptions {
    BootstrapOptions {
        num_bootstraps,
        raw: true,
        seed,
        ..Default::default()
    }
}

fn mean_bootstrap(num_bootstraps: usize, seed: u64) -> BootStrapper<MeanMetric> {
    BootStrapper::new(
        MeanMetric::new(NanStrategy::Error),
        options(num_bootstraps, seed),
    )
    .unwrap()
}

#[test]
fn bootstrap_same_seed_same_result() {
    let data = values(&uniform(1, 500));
    let mut first = mean_bootstrap(20, 42);
    let mut second = mean_bootstrap(20, 42);
    first.update((data.view(), None)).unwrap();
    second.update((data.view(), None)).unwrap();

    assert_eq!(first.compute().unwrap(), second.compute().unwrap());
}

#[test]
fn bootstrap_other_seed_other_result() {
    let data = values(&uniform(1, 500));
    let mut first = mean_bootstrap(20, 42);
    let mut second = mean_bootstrap(20, 43);
    first.update((data.view(), None)).unwrap();
    second.update((data.view(), None)).unwrap();

    assert_ne!(
        raw(&first.compute().unwrap()),
        raw(&second.compute().unwrap())
    );
}

#[test]
fn bootstrap_thread_count_irrelevant() {
    let data = values(&uniform(2, 2_000));
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let mut metric = mean_bootstrap(16, 7);
            metric.update((data.view(), None)).unwrap();
            metric.compute().unwrap()
        })
    };
    assert_eq!(run(1), run(2));
    assert_eq!(run(1), run(4));
}

#[test]
fn bootstrap_mean_converges_to_full_data() {
    let n = 20_000;
    let data: Vec<f64> = uniform(3, n).iter().map(|u| u * u * 10.0).collect();
    let full = data.iter().sum::<f64>() / n as f64;
    let variance = data.iter().map(|x| (x - full).powi(2)).sum::<f64>() / (n - 1) as f64;
    let standard_error = (variance / n as f64).sqrt();

    let bootstraps = 400;
    let mut metric = mean_bootstrap(bootstraps, 11);
    for chunk in data.chunks(3_000) {
        metric.update((values(chunk).view(), None)).unwrap();
    }
    let output = metric.compute().unwrap();

    let mean = scalar(&output, "mean");
    let std = scalar(&output, "std");
    assert!(
        (mean - full).abs()
            < 4.0 * standard_error / (bootstraps as f64).sqrt() + 1e-3 * standard_error,
        "bootstrap mean {mean}, full-data mean {full}"
    );
    assert!(
        (std / standard_error - 1.0).abs() < 0.15,
        "bootstrap std {std}, standard error {standard_error}"
    );
}

#[test]
fn bootstrap_multinomial_mse_converges() {
    let n = 5_000;
    let preds = values(&uniform(4, n));
    let target = values(&uniform(5, n));
    let mut full = MeanSquaredError::<f64>::new(true, 1).unwrap();
    full.update((preds.view(), target.view())).unwrap();
    let full = full.compute().unwrap().as_scalar().unwrap();

    let options = BootstrapOptions {
        num_bootstraps: 200,
        sampling_strategy: SamplingStrategy::Multinomial,
        seed: 9,
        ..Default::default()
    };
    let mut metric =
        BootStrapper::new(MeanSquaredError::<f64>::new(true, 1).unwrap(), options).unwrap();
    metric.update((preds.view(), target.view())).unwrap();
    let output = metric.compute().unwrap();

    let (mean, std) = (scalar(&output, "mean"), scalar(&output, "std"));
    assert!(
        (mean - full).abs() < 4.0 * std / 200f64.sqrt(),
        "{mean} vs {full}"
    );
}

#[test]
fn bootstrap_multinomial_keeps_batch_size() {
    let options = BootstrapOptions {
        num_bootstraps: 8,
        raw: true,
        sampling_strategy: SamplingStrategy::Multinomial,
        ..Default::default()
    };
    let mut metric = BootStrapper::new(SumMetric::default(), options).unwrap();
    metric.update((values(&[1.0; 7]).view(), None)).unwrap();
    metric.update((values(&[1.0; 3]).view(), None)).unwrap();

    let output = metric.compute().unwrap();
    assert_eq!(raw(&output), vec![10.0; 8]);
    assert_eq!(metric.drawn(), &[10; 8]);
}

#[test]
fn bootstrap_single_sample_skips_empty_replicates() {
    let mut metric = BootStrapper::new(SumMetric::default(), options(50, 3)).unwrap();
    metric.update((values(&[2.0]).view(), None)).unwrap();
    let output = metric.compute().unwrap();

    let drawn: Vec<u64> = metric.drawn().to_vec();
    let replicates_with_samples = drawn.iter().filter(|&&count| count > 0).count();
    assert!(
        replicates_with_samples < 50,
        "some replicate should draw nothing"
    );
    let raw = raw(&output);
    assert_eq!(raw.len(), replicates_with_samples);
    assert!(
        raw.iter().all(|&value| value >= 2.0 && value % 2.0 == 0.0),
        "{raw:?}"
    );
}

#[test]
fn bootstrap_tiny_inputs_unbiased() {
    for data in [vec![5.0], vec![5.0, 5.0], vec![5.0, 5.0, 5.0]] {
        let mut metric = mean_bootstrap(30, 1);
        metric.update((values(&data).view(), None)).unwrap();
        let output = metric.compute().unwrap();

        assert_eq!(scalar(&output, "mean"), 5.0, "{data:?}");
        assert_eq!(scalar(&output, "std"), 0.0, "{data:?}");
    }
}

#[test]
fn bootstrap_no_samples_not_enough_data() {
    let mut metric = mean_bootstrap(5, 0);
    metric.update((values(&[]).view(), None)).unwrap();

    let error = metric.compute().unwrap_err();
    assert!(matches!(error, Error::NotEnoughData { .. }), "{error}");
}

#[test]
fn bootstrap_one_replicate_std_nan() {
    let mut metric = mean_bootstrap(1, 0);
    // Seed 0 draws at least one of 100 samples for the one replicate.
    metric
        .update((values(&uniform(8, 100)).view(), None))
        .unwrap();

    assert!(scalar(&metric.compute().unwrap(), "std").is_nan());
}

#[test]
fn bootstrap_std_has_one_delta_degree() {
    let mut metric = mean_bootstrap(12, 5);
    metric
        .update((values(&uniform(6, 50)).view(), None))
        .unwrap();
    let output = metric.compute().unwrap();

    let raw = raw(&output);
    let mean = raw.iter().sum::<f64>() / raw.len() as f64;
    let ddof1 =
        (raw.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (raw.len() - 1) as f64).sqrt();
    assert!((scalar(&output, "std") - ddof1).abs() < 1e-12);
    assert!((scalar(&output, "mean") - mean).abs() < 1e-12);
}

#[test]
fn bootstrap_quantiles_on_raw() {
    let options = BootstrapOptions {
        num_bootstraps: 9,
        raw: true,
        quantile: Some(Quantile::Many(vec![0.0, 0.5, 1.0])),
        seed: 4,
        ..Default::default()
    };
    let mut metric = BootStrapper::new(MeanMetric::default(), options).unwrap();
    metric
        .update((values(&uniform(9, 40)).view(), None))
        .unwrap();
    let output = metric.compute().unwrap();

    let mut sorted = raw(&output);
    sorted.sort_by(f64::total_cmp);
    let Value::Array(quantiles) = entry(&output, "quantile") else {
        panic!("quantile is not an array");
    };
    assert_eq!(quantiles.shape(), &[3]);
    assert_eq!(quantiles[[0]], sorted[0]);
    assert_eq!(quantiles[[1]], sorted[4]);
    assert_eq!(quantiles[[2]], sorted[8]);
}

#[test]
fn bootstrap_single_quantile_is_scalar() {
    let options = BootstrapOptions {
        quantile: Some(Quantile::Single(0.25)),
        mean: false,
        std: false,
        ..Default::default()
    };
    let mut metric = BootStrapper::new(MeanMetric::default(), options).unwrap();
    metric
        .update((values(&uniform(10, 30)).view(), None))
        .unwrap();
    let output = metric.compute().unwrap();

    assert_eq!(output.len(), 1);
    assert!(entry(&output, "quantile").as_scalar().is_some());
}

#[test]
fn bootstrap_array_output_per_element() {
    let preds = array![[0.0, 1.0], [2.0, 3.0], [1.0, 1.0], [4.0, 0.0]].into_dyn();
    let target = array![[0.0, 3.0], [4.0, 3.0], [2.0, 2.0], [4.0, 1.0]].into_dyn();
    let base = MeanSquaredError::<f64>::new(true, 2).unwrap();
    let mut metric = BootStrapper::new(base, options(6, 2)).unwrap();
    metric.update((preds.view(), target.view())).unwrap();
    let output = metric.compute().unwrap();

    let Value::Array(mean) = entry(&output, "mean") else {
        panic!("mean is not an array");
    };
    let Value::Array(raw) = entry(&output, "raw") else {
        panic!("raw is not an array");
    };
    assert_eq!(mean.shape(), &[2]);
    assert_eq!(raw.shape()[1..], [2]);
    let column_mean = raw.index_axis(ndarray::Axis(1), 1).mean().unwrap();
    assert!((mean[[1]] - column_mean).abs() < 1e-12);
}

#[test]
fn bootstrap_shards_merge_to_one_pass() {
    let batches: Vec<ArrayD<f64>> = (0..4).map(|i| values(&uniform(20 + i, 64))).collect();
    let mut one_pass = mean_bootstrap(10, 77);
    for batch in &batches {
        one_pass.update((batch.view(), None)).unwrap();
    }

    let mut first = mean_bootstrap(10, 77);
    let mut second = mean_bootstrap(10, 77).with_first_batch(2);
    for batch in &batches[..2] {
        first.update((batch.view(), None)).unwrap();
    }
    for batch in &batches[2..] {
        second.update((batch.view(), None)).unwrap();
    }
    first.merge(&second).unwrap();

    let merged = raw(&first.compute().unwrap());
    let expected = raw(&one_pass.compute().unwrap());
    for (merged, expected) in merged.iter().zip(&expected) {
        assert!(
            (merged - expected).abs() <= 1e-12 * expected.abs(),
            "{merged} vs {expected}"
        );
    }
    assert_eq!(first.drawn(), one_pass.drawn());
    assert_eq!(first.next_batch(), one_pass.next_batch());
}

#[test]
fn bootstrap_bytes_round_trip() {
    let mut metric = mean_bootstrap(7, 5);
    metric
        .update((values(&uniform(30, 90)).view(), None))
        .unwrap();
    let restored = BootStrapper::<MeanMetric>::from_bytes(&metric.to_bytes().unwrap()).unwrap();

    assert_eq!(restored.compute().unwrap(), metric.compute().unwrap());
    assert_eq!(restored.drawn(), metric.drawn());
    assert_eq!(restored.next_batch(), metric.next_batch());
}

#[test]
fn bootstrap_forward_keeps_history() {
    let (a, b) = (values(&uniform(40, 30)), values(&uniform(41, 30)));
    let mut forwarded = mean_bootstrap(8, 3);
    let mut updated = mean_bootstrap(8, 3);
    let batch_value = forwarded.forward((a.view(), None)).unwrap();
    forwarded.forward((b.view(), None)).unwrap();
    updated.update((a.view(), None)).unwrap();

    let mut alone = mean_bootstrap(8, 3);
    alone.update((a.view(), None)).unwrap();
    assert_eq!(batch_value, alone.compute().unwrap());
    updated.update((b.view(), None)).unwrap();
    assert_eq!(forwarded.compute().unwrap(), updated.compute().unwrap());
}

#[test]
fn bootstrap_reset_restarts_draws() {
    let data = values(&uniform(50, 40));
    let mut metric = mean_bootstrap(6, 8);
    metric.update((data.view(), None)).unwrap();
    let first = metric.compute().unwrap();
    metric.reset();

    assert!(metric.compute().is_err());
    metric.update((data.view(), None)).unwrap();
    assert_eq!(metric.compute().unwrap(), first);
}

#[test]
fn bootstrap_rejected_batch_changes_nothing() {
    let base = RandScore::new();
    let mut metric = BootStrapper::new(base, options(5, 1)).unwrap();
    metric
        .update((array![0, 1, 1].view(), array![0, 1, 0].view()))
        .unwrap();
    let before = metric.compute().unwrap();

    let error = metric
        .update((array![0, 1].view(), array![0, 1, 1].view()))
        .unwrap_err();
    assert!(matches!(error, Error::LengthMismatch { .. }), "{error}");
    assert_eq!(metric.compute().unwrap(), before);
    assert_eq!(metric.next_batch(), 1);
}

#[test]
fn bootstrap_bad_arguments_rejected() {
    let cases = [
        (
            BootstrapOptions {
                num_bootstraps: 0,
                ..Default::default()
            },
            "num_bootstraps",
        ),
        (
            BootstrapOptions {
                quantile: Some(Quantile::Single(1.5)),
                ..Default::default()
            },
            "quantile",
        ),
        (
            BootstrapOptions {
                quantile: Some(Quantile::Single(-0.1)),
                ..Default::default()
            },
            "quantile",
        ),
        (
            BootstrapOptions {
                quantile: Some(Quantile::Single(f64::NAN)),
                ..Default::default()
            },
            "quantile",
        ),
        (
            BootstrapOptions {
                quantile: Some(Quantile::Many(vec![])),
                ..Default::default()
            },
            "quantile",
        ),
    ];
    for (options, argument) in cases {
        let error = BootStrapper::new(SumMetric::default(), options).unwrap_err();
        assert!(
            matches!(&error, Error::InvalidArgument { argument: name, .. } if name == argument),
            "{error}"
        );
    }
    let error = "bayesian".parse::<SamplingStrategy>().unwrap_err();
    assert!(error.to_string().contains("sampling_strategy"));
}

#[test]
fn bootstrap_merge_other_options_rejected() {
    let mut ours = mean_bootstrap(5, 1);
    let theirs = mean_bootstrap(6, 1);
    let error = ours.merge(&theirs).unwrap_err();
    assert!(matches!(error, Error::IncompatibleState { .. }));
}

#[test]
fn bootstrap_merge_other_seed_accepted() {
    let mut ours = mean_bootstrap(5, 1);
    let mut theirs = mean_bootstrap(5, 2);
    ours.update((values(&uniform(80, 50)).view(), None))
        .unwrap();
    theirs
        .update((values(&uniform(81, 50)).view(), None))
        .unwrap();
    let drawn: Vec<u64> = ours
        .drawn()
        .iter()
        .zip(theirs.drawn())
        .map(|(a, b)| a + b)
        .collect();

    ours.merge(&theirs).unwrap();
    assert_eq!(ours.drawn(), drawn.as_slice());
    assert_eq!(ours.options().seed, 1);
}

#[test]
fn bootstrap_clustering_metric() {
    let labels: Vec<i64> = uniform(60, 300).iter().map(|u| (u * 4.0) as i64).collect();
    let noisy: Vec<i64> = labels
        .iter()
        .zip(uniform(61, 300))
        .map(|(&label, u)| if u < 0.2 { (label + 1) % 4 } else { label })
        .collect();
    let (preds, target) = (Array1::from(noisy), Array1::from(labels));
    let mut full = AdjustedRandScore::new();
    full.update((preds.view(), target.view())).unwrap();
    let full = full.compute().unwrap();

    let mut metric = BootStrapper::new(AdjustedRandScore::new(), options(100, 1)).unwrap();
    metric.update((preds.view(), target.view())).unwrap();
    let output = metric.compute().unwrap();
    let (mean, std) = (scalar(&output, "mean"), scalar(&output, "std"));
    assert!(std > 0.0);
    assert!((mean - full).abs() < 3.0 * std, "{mean} vs {full}");
}

fn max_output(metric: &MinMaxMetric<MeanMetric>) -> Vec<(String, Value)> {
    metric.compute().unwrap()
}

#[test]
fn minmax_tracks_computed_values() {
    let mut metric = MinMaxMetric::new(MeanMetric::default());
    metric.update((values(&[2.0]).view(), None)).unwrap();
    let first = max_output(&metric);
    metric.update((values(&[8.0, 8.0]).view(), None)).unwrap();
    let second = max_output(&metric);
    metric.update((values(&[-30.0]).view(), None)).unwrap();
    let third = max_output(&metric);

    assert_eq!(scalar(&first, "raw"), 2.0);
    assert_eq!(scalar(&second, "max"), 6.0);
    assert_eq!(scalar(&second, "min"), 2.0);
    assert_eq!(scalar(&third, "raw"), -3.0);
    assert_eq!(scalar(&third, "max"), 6.0);
    assert_eq!(scalar(&third, "min"), -3.0);
}

#[test]
fn minmax_forward_keeps_history() {
    let mut forwarded = MinMaxMetric::new(SumMetric::default());
    let mut updated = MinMaxMetric::new(SumMetric::default());
    let batch = forwarded
        .forward((values(&[1.0, 2.0]).view(), None))
        .unwrap();
    forwarded.forward((values(&[4.0]).view(), None)).unwrap();
    updated.update((values(&[1.0, 2.0]).view(), None)).unwrap();
    updated.update((values(&[4.0]).view(), None)).unwrap();

    assert_eq!(scalar(&batch, "raw"), 3.0);
    assert_eq!(
        scalar(&forwarded.compute().unwrap(), "raw"),
        scalar(&updated.compute().unwrap(), "raw")
    );
    assert_eq!(forwarded.base_metric().compute().unwrap(), 7.0);
}

#[test]
fn minmax_reset_clears_range() {
    let mut metric = MinMaxMetric::new(SumMetric::default());
    metric.update((values(&[5.0]).view(), None)).unwrap();
    metric.compute().unwrap();
    metric.reset();

    assert_eq!(metric.max(), f64::NEG_INFINITY);
    assert_eq!(metric.min(), f64::INFINITY);
    assert_eq!(scalar(&metric.compute().unwrap(), "max"), 0.0);
}

#[test]
fn minmax_merge_widens_range() {
    let mut left = MinMaxMetric::new(SumMetric::default());
    let mut right = MinMaxMetric::new(SumMetric::default());
    left.update((values(&[1.0]).view(), None)).unwrap();
    left.compute().unwrap();
    right.update((values(&[10.0]).view(), None)).unwrap();
    right.compute().unwrap();
    left.merge(&right).unwrap();

    assert_eq!(left.max(), 10.0);
    assert_eq!(left.min(), 1.0);
    let restored = MinMaxMetric::<SumMetric>::from_bytes(&left.to_bytes().unwrap()).unwrap();
    assert_eq!(restored.max(), 10.0);
    assert_eq!(restored.min(), 1.0);
}

#[test]
fn wrapper_bytes_of_other_base_rejected() {
    let mut minmax = MinMaxMetric::new(SumMetric::default());
    minmax.update((values(&[1.0, 2.0]).view(), None)).unwrap();
    let bytes = minmax.to_bytes().unwrap();
    let error = MinMaxMetric::<MaxMetric>::from_bytes(&bytes).unwrap_err();
    assert!(matches!(error, Error::IncompatibleState { .. }), "{error}");
    let message = error.to_string();
    assert!(message.contains("MinMaxMetric<SumMetric>"), "{message}");
    assert!(message.contains("MinMaxMetric<MaxMetric>"), "{message}");
    assert!(MinMaxMetric::<SumMetric>::from_bytes(&bytes).is_ok());

    let running = Running::new(SumMetric::default(), 3).unwrap();
    let error = Running::<MeanMetric>::from_bytes(&running.to_bytes().unwrap()).unwrap_err();
    assert!(error.to_string().contains("Running<SumMetric>"), "{error}");

    let base = MeanSquaredError::<f64>::new(true, 2).unwrap();
    let classwise = ClasswiseWrapper::new(base, None, None, None);
    let bytes = classwise.to_bytes().unwrap();
    let error = ClasswiseWrapper::<SumMetric>::from_bytes(&bytes).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("ClasswiseWrapper<MeanSquaredError>"),
        "{error}"
    );
}

#[test]
fn minmax_array_base_rejected() {
    let base = MeanSquaredError::<f64>::new(true, 2).unwrap();
    let mut metric = MinMaxMetric::new(base);
    let batch = array![[0.0, 1.0]].into_dyn();
    metric.update((batch.view(), batch.view())).unwrap();

    let error = metric.compute().unwrap_err();
    assert!(error.to_string().contains("base_metric"), "{error}");
}

#[test]
fn collection_two_minmax_members_prefixed() {
    let mut collection = MetricCollection::new();
    collection
        .add("sum", MinMaxMetric::new(SumMetric::default()))
        .unwrap();
    collection
        .add("mean", MinMaxMetric::new(MeanMetric::default()))
        .unwrap();
    collection
        .update((values(&[1.0, 3.0]).view(), None))
        .unwrap();
    let output = collection.compute().unwrap();

    let keys: Vec<&str> = output.iter().map(|(key, _)| key.as_str()).collect();
    assert_eq!(
        keys,
        ["sum_raw", "sum_max", "sum_min", "mean_raw", "mean_max", "mean_min"]
    );
    assert_eq!(scalar(&output, "sum_raw"), 4.0);
    assert_eq!(scalar(&output, "mean_raw"), 2.0);
}

#[test]
fn collection_one_minmax_member_keeps_keys() {
    let mut collection = MetricCollection::new();
    collection
        .add("sum", MinMaxMetric::new(SumMetric::default()))
        .unwrap();
    collection.add("mean", MeanMetric::default()).unwrap();
    collection
        .update((values(&[1.0, 3.0]).view(), None))
        .unwrap();
    let output = collection.compute().unwrap();

    let keys: Vec<&str> = output.iter().map(|(key, _)| key.as_str()).collect();
    assert_eq!(keys, ["raw", "max", "min", "mean"]);
}

#[test]
fn collection_bootstrap_members() {
    let mut collection = MetricCollection::new();
    collection.add("a", mean_bootstrap(4, 1)).unwrap();
    collection.add("b", mean_bootstrap(4, 2)).unwrap();
    collection
        .update((values(&uniform(70, 20)).view(), None))
        .unwrap();
    let output = collection.compute().unwrap();

    let keys: Vec<&str> = output.iter().map(|(key, _)| key.as_str()).collect();
    assert_eq!(
        keys,
        ["a_mean", "a_std", "a_raw", "b_mean", "b_std", "b_raw"]
    );
}

#[test]
fn running_matches_window_of_updates() {
    let mut metric = Running::new(MeanMetric::default(), 3).unwrap();
    let batches = [
        vec![1.0],
        vec![2.0, 4.0],
        vec![6.0],
        vec![8.0],
        vec![10.0, 12.0],
    ];
    let mut forwarded = Vec::new();
    for batch in &batches {
        forwarded.push(metric.forward((values(batch).view(), None)).unwrap());
    }

    assert_eq!(forwarded, [1.0, 3.0, 6.0, 8.0, 11.0]);
    // The last three updates: [6], [8], [10, 12].
    assert_eq!(metric.compute().unwrap(), 9.0);
}

#[test]
fn running_merge_appends_updates() {
    let mut left = Running::new(SumMetric::default(), 2).unwrap();
    let mut right = Running::new(SumMetric::default(), 2).unwrap();
    left.update((values(&[1.0]).view(), None)).unwrap();
    left.update((values(&[2.0]).view(), None)).unwrap();
    right.update((values(&[4.0]).view(), None)).unwrap();
    left.merge(&right).unwrap();

    assert_eq!(left.compute().unwrap(), 6.0);
    let restored = Running::<SumMetric>::from_bytes(&left.to_bytes().unwrap()).unwrap();
    assert_eq!(restored.compute().unwrap(), 6.0);
}

#[test]
fn running_reset_and_bad_window() {
    let mut metric = Running::new(SumMetric::default(), 2).unwrap();
    metric.update((values(&[1.0]).view(), None)).unwrap();
    metric.reset();
    assert_eq!(metric.compute().unwrap(), 0.0);

    let error = Running::new(SumMetric::default(), 0).unwrap_err();
    assert!(matches!(&error, Error::InvalidArgument { argument, .. } if argument == "window"));
    let mut other = Running::new(SumMetric::default(), 3).unwrap();
    assert!(other.merge(&metric).is_err());
}

#[test]
fn running_keeps_base_facts() {
    let metric = Running::new(RandScore::new(), 2).unwrap();
    let info = metric.info();
    assert_eq!(info.name, "Running");
    assert_eq!(
        info.higher_is_better,
        RandScore::new().info().higher_is_better
    );
}

fn per_class() -> ClasswiseWrapper<ferrometrics::aggregation::CatMetric> {
    ClasswiseWrapper::new(
        ferrometrics::aggregation::CatMetric::default(),
        None,
        None,
        None,
    )
}

#[test]
fn classwise_default_keys() {
    let mut metric = per_class();
    metric
        .update((values(&[0.5, 0.25, 1.0]).view(), None))
        .unwrap();
    let output = metric.compute().unwrap();

    let keys: Vec<&str> = output.iter().map(|(key, _)| key.as_str()).collect();
    assert_eq!(keys, ["catmetric_0", "catmetric_1", "catmetric_2"]);
    assert_eq!(scalar(&output, "catmetric_1"), 0.25);
}

#[test]
fn classwise_prefix_postfix_labels() {
    let cases = [
        (Some("acc-"), None, "acc-1"),
        (None, Some("-acc"), "1-acc"),
        (Some("p_"), Some("_q"), "p_1_q"),
        (Some(""), Some(""), "catmetric_1"),
    ];
    for (prefix, postfix, expected) in cases {
        let mut metric = ClasswiseWrapper::new(
            ferrometrics::aggregation::CatMetric::default(),
            None,
            prefix.map(str::to_owned),
            postfix.map(str::to_owned),
        );
        metric.update((values(&[0.0, 1.0]).view(), None)).unwrap();
        let output = metric.compute().unwrap();
        assert_eq!(output[1].0, expected);
    }

    let labels = vec!["horse".to_owned(), "fish".to_owned()];
    let mut metric = ClasswiseWrapper::new(
        ferrometrics::aggregation::CatMetric::default(),
        Some(labels),
        None,
        None,
    );
    metric.update((values(&[0.0, 1.0]).view(), None)).unwrap();
    assert_eq!(metric.compute().unwrap()[1].0, "catmetric_fish");
}

#[test]
fn classwise_label_count_mismatch_rejected() {
    let mut metric = ClasswiseWrapper::new(
        ferrometrics::aggregation::CatMetric::default(),
        Some(vec!["a".to_owned()]),
        None,
        None,
    );
    metric.update((values(&[0.0, 1.0]).view(), None)).unwrap();

    let error = metric.compute().unwrap_err();
    assert!(matches!(&error, Error::InvalidArgument { argument, .. } if argument == "labels"));
}

#[test]
fn classwise_repeated_label_rejected() {
    let mut metric = ClasswiseWrapper::new(
        ferrometrics::aggregation::CatMetric::default(),
        Some(vec!["a".to_owned(), "a".to_owned()]),
        None,
        None,
    );
    metric.update((values(&[0.0, 1.0]).view(), None)).unwrap();

    let error = metric.compute().unwrap_err();
    assert!(
        matches!(&error, Error::InvalidArgument { argument, message }
            if argument == "labels" && message.contains("\"a\"")),
        "{error}"
    );
}

#[test]
fn classwise_scalar_base_rejected() {
    let mut metric = ClasswiseWrapper::new(SumMetric::default(), None, None, None);
    metric.update((values(&[1.0]).view(), None)).unwrap();
    assert!(metric.compute().is_err());
}

#[test]
fn classwise_forward_keeps_history() {
    let mut metric = per_class();
    let batch = metric.forward((values(&[1.0]).view(), None)).unwrap();
    metric.forward((values(&[2.0]).view(), None)).unwrap();

    assert_eq!(batch.len(), 1);
    assert_eq!(metric.compute().unwrap().len(), 2);
    metric.reset();
    assert_eq!(metric.compute().unwrap().len(), 0);
}

#[test]
fn multioutput_removes_nan_rows_per_output() {
    let base = MeanSquaredError::<f64>::new(true, 1).unwrap();
    let mut metric = MultioutputWrapper::new(base, 2, -1, true, true).unwrap();
    let preds = array![[1.0, 0.0], [f64::NAN, 2.0], [3.0, 4.0]].into_dyn();
    let target = array![[0.0, 0.0], [5.0, 0.0], [3.0, f64::NAN]].into_dyn();
    metric.update((preds.view(), target.view())).unwrap();

    // Output 0 keeps rows 0 and 2, output 1 keeps rows 0 and 1.
    assert_eq!(metric.compute().unwrap(), array![0.5, 2.0].into_dyn());
}

#[test]
fn multioutput_output_dim_zero_unsqueezed() {
    let mut metric = MultioutputWrapper::new(SumMetric::default(), 3, 0, false, false).unwrap();
    metric
        .update((
            array![[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]].into_dyn().view(),
            None,
        ))
        .unwrap();
    assert_eq!(metric.compute().unwrap(), array![3.0, 7.0, 11.0].into_dyn());
}

#[test]
fn multioutput_bad_arguments_rejected() {
    let error = MultioutputWrapper::new(SumMetric::default(), 0, -1, true, true).unwrap_err();
    assert!(matches!(&error, Error::InvalidArgument { argument, .. } if argument == "num_outputs"));

    let mut metric = MultioutputWrapper::new(SumMetric::default(), 2, 2, true, true).unwrap();
    let error = metric
        .update((array![[1.0, 2.0]].into_dyn().view(), None))
        .unwrap_err();
    assert!(matches!(&error, Error::InvalidArgument { argument, .. } if argument == "output_dim"));

    let mut metric = MultioutputWrapper::new(SumMetric::default(), 3, -1, true, true).unwrap();
    let error = metric
        .update((array![[1.0, 2.0]].into_dyn().view(), None))
        .unwrap_err();
    assert!(error.to_string().contains("num_outputs"), "{error}");
    assert_eq!(metric.compute().unwrap(), array![0.0, 0.0, 0.0].into_dyn());
}

#[test]
fn multioutput_forward_keeps_history() {
    let mut metric = MultioutputWrapper::new(SumMetric::default(), 2, -1, true, true).unwrap();
    let batch = metric
        .forward((array![[1.0, 2.0]].into_dyn().view(), None))
        .unwrap();
    metric
        .forward((array![[10.0, 20.0]].into_dyn().view(), None))
        .unwrap();

    assert_eq!(batch, array![1.0, 2.0].into_dyn());
    assert_eq!(metric.compute().unwrap(), array![11.0, 22.0].into_dyn());
}

fn two_tasks() -> MultitaskWrapper<SumMetric> {
    let tasks = vec![
        ("a".to_owned(), SumMetric::default()),
        ("b".to_owned(), SumMetric::default()),
    ];
    MultitaskWrapper::new(tasks, None, Some("_total".to_owned())).unwrap()
}

#[test]
fn multitask_dict_in_dict_out() {
    let mut metric = two_tasks();
    let (a, b) = (values(&[1.0, 2.0]), values(&[10.0]));
    let batch = metric
        .forward(vec![("a", (a.view(), None)), ("b", (b.view(), None))])
        .unwrap();
    metric
        .forward(vec![("b", (b.view(), None)), ("a", (a.view(), None))])
        .unwrap();

    assert_eq!(scalar(&batch, "a_total"), 3.0);
    let output = metric.compute().unwrap();
    assert_eq!(scalar(&output, "a_total"), 6.0);
    assert_eq!(scalar(&output, "b_total"), 20.0);
}

#[test]
fn multitask_bad_tasks_rejected() {
    let mut metric = two_tasks();
    let a = values(&[1.0]);
    let missing = metric.update(vec![("a", (a.view(), None))]).unwrap_err();
    assert!(missing.to_string().contains("\"b\""), "{missing}");
    let unknown = metric
        .update(vec![
            ("a", (a.view(), None)),
            ("b", (a.view(), None)),
            ("c", (a.view(), None)),
        ])
        .unwrap_err();
    assert!(unknown.to_string().contains("\"c\""), "{unknown}");
    assert_eq!(scalar(&metric.compute().unwrap(), "a_total"), 0.0);

    let duplicate = vec![
        ("a".to_owned(), SumMetric::default()),
        ("a".to_owned(), SumMetric::default()),
    ];
    assert!(MultitaskWrapper::new(duplicate, None, None).is_err());
    assert!(MultitaskWrapper::<SumMetric>::new(vec![], None, None).is_err());
}

#[test]
fn tracker_best_step_from_higher_is_better() {
    let mut tracker = MetricTracker::new(RandScore::new(), None).unwrap();
    let target = array![0, 0, 1, 1];
    for preds in [array![0, 1, 0, 1], array![0, 0, 1, 1], array![0, 0, 1, 0]] {
        tracker.increment();
        tracker.update((preds.view(), target.view())).unwrap();
    }

    assert_eq!(tracker.n_steps(), 3);
    let best = tracker.best_metric().unwrap();
    assert_eq!(best[0].key, "RandScore");
    assert_eq!(best[0].value, 1.0);
    assert_eq!(best[0].step, 1);
    assert_eq!(tracker.compute_all().unwrap().len(), 3);
}

#[test]
fn tracker_without_direction_rejected() {
    let error = MetricTracker::new(SumMetric::default(), None)
        .err()
        .unwrap();
    assert!(matches!(&error, Error::InvalidArgument { argument, .. } if argument == "maximize"));
    assert!(MetricTracker::new(SumMetric::default(), Some(vec![])).is_err());
}

#[test]
fn tracker_before_increment_rejected() {
    let mut tracker = MetricTracker::new(SumMetric::default(), Some(vec![true])).unwrap();
    let error = tracker.update((values(&[1.0]).view(), None)).unwrap_err();
    assert!(error.to_string().contains("increment"), "{error}");
    assert!(tracker.compute().is_err());
    assert!(tracker.best_metric().is_err());
}

#[test]
fn tracker_collection_per_key() {
    let mut collection = MetricCollection::new();
    collection.add("sum", SumMetric::default()).unwrap();
    collection.add("mean", MeanMetric::default()).unwrap();
    let mut tracker = MetricTracker::new(collection, Some(vec![true, false])).unwrap();
    for batch in [vec![1.0, 5.0], vec![2.0, 2.0, 2.0], vec![9.0]] {
        tracker.increment();
        tracker.forward((values(&batch).view(), None)).unwrap();
    }

    let best = tracker.best_metric().unwrap();
    assert_eq!(
        (best[0].key.as_str(), best[0].value, best[0].step),
        ("sum", 9.0, 2)
    );
    assert_eq!(
        (best[1].key.as_str(), best[1].value, best[1].step),
        ("mean", 2.0, 1)
    );
    tracker.reset();
    assert_eq!(scalar(&tracker.compute().unwrap(), "sum"), 0.0);
}

#[test]
fn tracker_skips_nan_steps() {
    let mut tracker = MetricTracker::new(MeanMetric::default(), Some(vec![false])).unwrap();
    tracker.increment();
    tracker.increment();
    tracker.update((values(&[3.0]).view(), None)).unwrap();

    let best = tracker.best_metric().unwrap();
    assert_eq!((best[0].value, best[0].step), (3.0, 1));
}

#[test]
fn bootstrap_detection_resamples_images() {
    use ferrometrics::detection::{ImagePredictions, ImageTargets, IntersectionOverUnion};

    let boxes = [
        array![[0.0, 0.0, 10.0, 10.0]],
        array![[5.0, 5.0, 20.0, 20.0]],
        array![[1.0, 1.0, 4.0, 4.0]],
    ];
    let shifted: Vec<_> = boxes.iter().map(|boxes| boxes + 1.0).collect();
    let (labels, scores) = (array![0_i64], array![0.9]);
    let preds: Vec<ImagePredictions<'_>> = shifted
        .iter()
        .map(|boxes| ImagePredictions {
            boxes: Some(boxes.view()),
            scores: scores.view(),
            labels: labels.view(),
            masks: None,
        })
        .collect();
    let targets: Vec<ImageTargets<'_>> = boxes
        .iter()
        .map(|boxes| ImageTargets {
            boxes: Some(boxes.view()),
            labels: labels.view(),
            iscrowd: None,
            area: None,
            masks: None,
        })
        .collect();

    let mut metric = BootStrapper::new(IntersectionOverUnion::default(), options(6, 2)).unwrap();
    metric.update((&preds, &targets)).unwrap();

    // Each replicate matched whole images: its image count is its number of draws.
    for (replicate, &drawn) in metric.replicates().iter().zip(metric.drawn()) {
        if drawn > 0 {
            let value = replicate.compute().unwrap();
            let iou = value.as_map().unwrap()[0].1.as_scalar().unwrap();
            assert!(iou > 0.0 && iou < 1.0, "{iou}");
        }
    }
    // The value is a map, which has no mean or std.
    let error = metric.compute().unwrap_err();
    assert!(error.to_string().contains("map"), "{error}");
}
