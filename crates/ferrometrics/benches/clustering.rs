//! Clustering micro-benchmarks, one function per case:
//! `cargo bench -p ferrometrics --bench clustering`.

use divan::{black_box, Bencher};
use ferrometrics::clustering::{
    adjusted_mutual_info_score, adjusted_rand_score, cluster_accuracy, expected_mutual_info,
    fowlkes_mallows_index, normalized_mutual_info_score, v_measure_score, AverageMethod,
    ContingencyTable,
};
use ndarray::Array1;

fn main() {
    divan::main();
}

/// `n` pseudo-random labels in `0..k` from a 64-bit linear congruential generator.
fn labels(n: usize, k: u64, seed: u64) -> Array1<i64> {
    let mut state = seed;
    (0..n)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((state >> 33) % k) as i64
        })
        .collect()
}

#[divan::bench(sample_count = 20)]
fn contingency_table_1e7_samples_10_clusters(bencher: Bencher) {
    let (preds, target) = (labels(10_000_000, 10, 1), labels(10_000_000, 10, 2));
    bencher.bench(|| ContingencyTable::from_labels(black_box(preds.view()), target.view()));
}

#[divan::bench(sample_count = 5)]
fn contingency_table_1e7_samples_wide_labels(bencher: Bencher) {
    let preds = labels(10_000_000, 10, 1).mapv(|x| x * 1_000_000_007);
    let target = labels(10_000_000, 10, 2);
    bencher.bench(|| ContingencyTable::from_labels(black_box(preds.view()), target.view()));
}

#[divan::bench(sample_count = 20)]
fn adjusted_rand_score_1e7_samples(bencher: Bencher) {
    let (preds, target) = (labels(10_000_000, 10, 1), labels(10_000_000, 10, 2));
    bencher.bench(|| adjusted_rand_score(black_box(preds.view()), target.view()));
}

#[divan::bench(sample_count = 20)]
fn normalized_mutual_info_score_1e7_samples(bencher: Bencher) {
    let (preds, target) = (labels(10_000_000, 10, 1), labels(10_000_000, 10, 2));
    bencher.bench(|| {
        normalized_mutual_info_score(
            black_box(preds.view()),
            target.view(),
            AverageMethod::Arithmetic,
        )
    });
}

#[divan::bench(sample_count = 20)]
fn v_measure_score_1e7_samples(bencher: Bencher) {
    let (preds, target) = (labels(10_000_000, 10, 1), labels(10_000_000, 10, 2));
    bencher.bench(|| v_measure_score(black_box(preds.view()), target.view(), 1.0));
}

#[divan::bench(sample_count = 20)]
fn fowlkes_mallows_index_1e7_samples(bencher: Bencher) {
    let (preds, target) = (labels(10_000_000, 10, 1), labels(10_000_000, 10, 2));
    bencher.bench(|| fowlkes_mallows_index(black_box(preds.view()), target.view()));
}

#[divan::bench(sample_count = 20)]
fn cluster_accuracy_1e7_samples(bencher: Bencher) {
    let (preds, target) = (labels(10_000_000, 10, 1), labels(10_000_000, 10, 2));
    bencher.bench(|| cluster_accuracy(black_box(preds.view()), target.view()));
}

#[divan::bench(sample_count = 10)]
fn expected_mutual_info_1e6_samples_1000_clusters(bencher: Bencher) {
    let (preds, target) = (labels(1_000_000, 1000, 3), labels(1_000_000, 1000, 4));
    let table = ContingencyTable::from_labels(preds.view(), target.view()).unwrap();
    bencher.bench(|| expected_mutual_info(black_box(&table)));
}

#[divan::bench(sample_count = 10)]
fn adjusted_mutual_info_score_1e6_samples_1000_clusters(bencher: Bencher) {
    let (preds, target) = (labels(1_000_000, 1000, 3), labels(1_000_000, 1000, 4));
    bencher.bench(|| {
        adjusted_mutual_info_score(
            black_box(preds.view()),
            target.view(),
            AverageMethod::Arithmetic,
        )
    });
}
