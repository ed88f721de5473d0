//! Wrapper micro-benchmarks: `cargo bench -p ferrometrics --bench wrappers`.

use divan::{black_box, Bencher};
use ferrometrics::clustering::AdjustedRandScore;
use ferrometrics::regression::MeanSquaredError;
use ferrometrics::wrappers::{BootStrapper, BootstrapOptions, SamplingStrategy};
use ferrometrics::Metric;
use ndarray::{Array1, ArrayD};

fn main() {
    divan::main();
}

/// `n` pseudo-random values in [0, 1) from a 64-bit linear congruential generator.
fn uniform(n: usize, seed: u64) -> ArrayD<f64> {
    let mut state = seed;
    let values: Array1<f64> = (0..n)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 11) as f64 / (1u64 << 53) as f64
        })
        .collect();
    values.into_dyn()
}

fn bootstrap_mse(bencher: Bencher, sampling_strategy: SamplingStrategy) {
    let (preds, target) = (uniform(1_000_000, 1), uniform(1_000_000, 2));
    let options = BootstrapOptions {
        num_bootstraps: 100,
        sampling_strategy,
        ..Default::default()
    };
    let base = MeanSquaredError::<f64>::new(true, 1).unwrap();
    let metric = BootStrapper::new(base, options).unwrap();
    bencher.bench(|| {
        let mut metric = metric.clone();
        metric
            .update((black_box(preds.view()), target.view()))
            .unwrap();
        metric.compute().unwrap()
    });
}

#[divan::bench(sample_count = 5)]
fn bootstrap_mse_1e6_samples_100_poisson(bencher: Bencher) {
    bootstrap_mse(bencher, SamplingStrategy::Poisson);
}

#[divan::bench(sample_count = 5)]
fn bootstrap_mse_1e6_samples_100_multinomial(bencher: Bencher) {
    bootstrap_mse(bencher, SamplingStrategy::Multinomial);
}

/// `n` pseudo-random labels in `0..k`, from the same generator as [`uniform`].
fn labels(n: usize, k: f64, seed: u64) -> Array1<i64> {
    uniform(n, seed).iter().map(|u| (u * k) as i64).collect()
}

#[divan::bench(sample_count = 5)]
fn bootstrap_ari_1e6_samples_100_poisson(bencher: Bencher) {
    let (preds, target) = (labels(1_000_000, 10.0, 3), labels(1_000_000, 10.0, 4));
    let options = BootstrapOptions {
        num_bootstraps: 100,
        ..Default::default()
    };
    let metric = BootStrapper::new(AdjustedRandScore::new(), options).unwrap();
    bencher.bench(|| {
        let mut metric = metric.clone();
        metric
            .update((black_box(preds.view()), target.view()))
            .unwrap();
        metric.compute().unwrap()
    });
}

#[divan::bench(sample_count = 5)]
fn ari_1e6_samples_single_update(bencher: Bencher) {
    let (preds, target) = (labels(1_000_000, 10.0, 3), labels(1_000_000, 10.0, 4));
    bencher.bench(|| {
        let mut metric = AdjustedRandScore::new();
        metric
            .update((black_box(preds.view()), target.view()))
            .unwrap();
        metric.compute().unwrap()
    });
}

#[divan::bench(sample_count = 5)]
fn mse_1e6_samples_single_update(bencher: Bencher) {
    let (preds, target) = (uniform(1_000_000, 1), uniform(1_000_000, 2));
    bencher.bench(|| {
        let mut metric = MeanSquaredError::<f64>::new(true, 1).unwrap();
        metric
            .update((black_box(preds.view()), target.view()))
            .unwrap();
        metric.compute().unwrap()
    });
}
