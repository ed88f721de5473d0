//! Micro-benchmarks of the intrinsic clustering metrics on synthetic f32 data.
//!
//! Run with `cargo bench -p ferrometrics --bench clustering_intrinsic`.

use divan::Bencher;
use ferrometrics::clustering::{
    calinski_harabasz_score, davies_bouldin_score, dunn_index, silhouette_score, DunnDefinition,
};
use ndarray::{Array1, Array2};

fn main() {
    divan::main();
}

/// Number of feature columns of every benchmark.
const FEATURES: usize = 64;

/// Number of clusters of every benchmark.
const CLUSTERS: i64 = 10;

/// Returns `n` rows of `FEATURES` values in [0, 1) from a xorshift generator, shifted by their
/// cluster so that clusters are separated, and the cluster labels.
fn blobs(n: usize) -> (Array2<f32>, Array1<i64>) {
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 40) as f32 / (1u64 << 24) as f32
    };
    let labels = Array1::from_shape_fn(n, |i| (i as i64 * 7) % CLUSTERS);
    let data = Array2::from_shape_fn((n, FEATURES), |(i, _)| next() + labels[i] as f32 * 0.5);
    (data, labels)
}

#[divan::bench(args = [10_000, 100_000], sample_count = 20)]
fn calinski_harabasz(bencher: Bencher, n: usize) {
    let (data, labels) = blobs(n);
    bencher.bench(|| calinski_harabasz_score(data.view(), labels.view()).unwrap());
}

#[divan::bench(args = [10_000, 100_000], sample_count = 20)]
fn davies_bouldin(bencher: Bencher, n: usize) {
    let (data, labels) = blobs(n);
    bencher.bench(|| davies_bouldin_score(data.view(), labels.view()).unwrap());
}

#[divan::bench(args = [10_000, 100_000], sample_count = 20)]
fn dunn_centroid(bencher: Bencher, n: usize) {
    let (data, labels) = blobs(n);
    bencher
        .bench(|| dunn_index(data.view(), labels.view(), 2.0, DunnDefinition::Centroid).unwrap());
}

#[divan::bench(args = [1_000, 4_000], sample_count = 5)]
fn dunn_pairwise(bencher: Bencher, n: usize) {
    let (data, labels) = blobs(n);
    bencher
        .bench(|| dunn_index(data.view(), labels.view(), 2.0, DunnDefinition::Pairwise).unwrap());
}

#[divan::bench(args = [1_000, 4_000], sample_count = 5)]
fn silhouette_exact(bencher: Bencher, n: usize) {
    let (data, labels) = blobs(n);
    bencher.bench(|| silhouette_score(data.view(), labels.view(), None, 0).unwrap());
}
