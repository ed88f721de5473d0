//! Intrinsic clustering metrics: golden values, differential values from scikit-learn 1.9.1 and
//! numpy, edge cases, every validation error, and property tests for merging, permutations,
//! relabelling and serialization.

use ferrometrics::clustering::{
    calinski_harabasz_score, davies_bouldin_score, dunn_index, silhouette_score,
    CalinskiHarabaszScore, DaviesBouldinScore, DunnDefinition, DunnIndex, SilhouetteScore,
};
use ferrometrics::{Error, Metric};
use ndarray::{array, s, Array1, Array2, ArrayView1, ArrayView2, Axis, ShapeBuilder};
use proptest::prelude::*;

/// Asserts `actual` equals `expected` within `tolerance` relative to `max(1, |expected|)`.
fn assert_close(actual: f64, expected: f64, tolerance: f64) {
    let scale = expected.abs().max(1.0);
    assert!(
        (actual - expected).abs() <= tolerance * scale,
        "actual {actual:e} differs from expected {expected:e} by more than {tolerance:e} * {scale}"
    );
}

/// Twelve rows in three clusters with labels -5, 3 and 100, drawn in numpy:
/// `rng = np.random.default_rng(7); np.round(rng.normal(size=(12, 3)) + np.repeat([[0, 0, 0],
/// [2, 1, 0], [0, 3, 1]], 4, axis=0), 3)` with rows 2 and 9 swapping labels.
fn blobs() -> (Array2<f64>, Array1<i64>) {
    let data = array![
        [0.001, 0.299, -0.274],
        [-0.891, -0.455, -0.992],
        [0.06, 1.34, -0.492],
        [-0.62, 0.49, 0.357],
        [2.105, 0.07, -0.029],
        [2.695, -0.344, -0.458],
        [0.099, -0.29, -1.842],
        [1.765, -0.267, 0.271],
        [0.157, 2.813, -1.517],
        [-0.539, 2.951, 1.113],
        [-1.53, 2.522, 0.021],
        [-0.809, 4.061, 0.192],
    ];
    let labels = array![-5, -5, 100, -5, 3, 3, 3, 3, 100, -5, 100, 100];
    (data, labels)
}

/// Nine rows whose cluster 2 is a singleton, drawn after [`blobs`] from the same generator:
/// `np.round(rng.uniform(-2, 2, size=(9, 2)), 2)`.
fn with_singleton() -> (Array2<f64>, Array1<i64>) {
    let data = array![
        [-1.99, 1.32],
        [-1.38, -0.93],
        [1.52, 0.04],
        [1.39, 0.56],
        [0.97, -1.63],
        [0.16, 0.03],
        [1.49, -0.55],
        [0.39, -1.76],
        [-0.45, -0.71],
    ];
    let labels = array![0, 0, 0, 1, 1, 1, 1, 2, 0];
    (data, labels)
}

/// Rows `x[i, j] = sin(0.37 i + 1.3 j) + 0.8 (i mod k) + 0.1 label[i]` with
/// `label[i] = 7 i mod k`, reproduced in numpy for the reference values.
fn formula(n: usize, d: usize, k: usize) -> (Array2<f64>, Array1<i64>) {
    let labels = Array1::from_shape_fn(n, |i| ((7 * i) % k) as i64);
    let data = Array2::from_shape_fn((n, d), |(i, j)| {
        (0.37 * i as f64 + 1.3 * j as f64).sin() + 0.8 * (i % k) as f64 + 0.1 * labels[i] as f64
    });
    (data, labels)
}

/// Updates `metric` once with all rows and computes its value.
fn stateful<M: Metric<Kind = ferrometrics::inputs::DataLabels<f64>, Output = f64>>(
    mut metric: M,
    data: ArrayView2<'_, f64>,
    labels: ArrayView1<'_, i64>,
) -> ferrometrics::Result<f64> {
    metric.update((data, labels))?;
    metric.compute()
}

// Golden values from TorchMetrics' documentation.

#[test]
fn dunn_torchmetrics_docs_example() {
    // torchmetrics.functional.clustering.dunn_index docstring: 2.0.
    let data = array![[0.0, 0.0], [0.5, 0.0], [1.0, 0.0], [0.5, 1.0]];
    let labels = array![0, 0, 0, 1];
    let value = dunn_index(data.view(), labels.view(), 2.0, DunnDefinition::Centroid).unwrap();
    assert_eq!(value, 2.0);
    let metric = DunnIndex::<f64>::default();
    assert_eq!(stateful(metric, data.view(), labels.view()).unwrap(), 2.0);
}

#[test]
fn dunn_pairwise_on_docs_example() {
    // Closest rows of different clusters: (0.5, 0) and (0.5, 1), distance 1. Largest diameter:
    // (0, 0) to (1, 0), distance 1.
    let data = array![[0.0, 0.0], [0.5, 0.0], [1.0, 0.0], [0.5, 1.0]];
    let labels = array![0, 0, 0, 1];
    let value = dunn_index(data.view(), labels.view(), 2.0, DunnDefinition::Pairwise).unwrap();
    assert_eq!(value, 1.0);
}

// Differential values against scikit-learn 1.9.1 and numpy, computed once.

#[test]
fn calinski_harabasz_matches_sklearn() {
    // sklearn.metrics.calinski_harabasz_score(X, y)
    let cases = [
        (blobs(), 5.947047534893943),
        (with_singleton(), 1.5745904088531446),
        (formula(600, 5, 4), 338.8859144077452),
        (formula(20000, 8, 6), 18894.969750394088),
    ];
    for ((data, labels), expected) in cases {
        let value = calinski_harabasz_score(data.view(), labels.view()).unwrap();
        assert_close(value, expected, 1e-9);
        let metric = CalinskiHarabaszScore::new();
        assert_close(
            stateful(metric, data.view(), labels.view()).unwrap(),
            expected,
            1e-9,
        );
    }
}

#[test]
fn calinski_harabasz_huge_values_finite() {
    // sklearn 1.9.1 returns NaN here because its squares overflow. The score is a ratio of sums
    // of squares, so it equals sklearn's 18.31891891891893 on X / 1e300.
    let data = array![
        [1e308, 0.0],
        [1.5e308, 1.0],
        [-1e308, 0.0],
        [-1.7e308, 2.0],
        [1e307, 3.0]
    ];
    let labels = array![0, 0, 1, 1, 2];
    let value = calinski_harabasz_score(data.view(), labels.view()).unwrap();
    assert_close(value, 18.318_918_918_918_93, 1e-12);

    let mut metric = CalinskiHarabaszScore::<f64>::new();
    metric
        .update((data.slice(s![..2, ..]), labels.slice(s![..2])))
        .unwrap();
    metric
        .update((data.slice(s![2.., ..]), labels.slice(s![2..])))
        .unwrap();
    assert_close(metric.compute().unwrap(), value, 1e-12);
}

#[test]
fn calinski_harabasz_subnormal_values() {
    // [1, 2, 5, 7] with labels [0, 0, 1, 1] scores 20.25 * 2 / 2.5 = 16.2, and multiplying by
    // 2^-1060 (subnormal floats) is exact, so the score is 16.2 again.
    let unit = f64::from_bits(1) * f64::powi(2.0, 14);
    let data = array![[unit], [2.0 * unit], [5.0 * unit], [7.0 * unit]];
    let labels = array![0, 0, 1, 1];
    let value = calinski_harabasz_score(data.view(), labels.view()).unwrap();
    assert_close(value, 16.2, 1e-12);
}

#[test]
fn calinski_harabasz_mixed_scales_merge() {
    // Batches of ordinary, huge and subnormal rows, merged in every order, match one pass.
    let tiny = f64::from_bits(1) * f64::powi(2.0, 20);
    let data = array![
        [1.0, 2.0],
        [2.0, 0.5],
        [3e300, 1e299],
        [2.5e300, -1e300],
        [tiny, 0.0],
        [0.0, tiny],
        [4.0, 4.0],
        [1e300, 1.0],
    ];
    let labels = array![0, 1, 1, 2, 0, 2, 1, 0];
    let whole = calinski_harabasz_score(data.view(), labels.view()).unwrap();
    // The formula in exact rational arithmetic (Python's fractions) on these rows.
    assert_close(whole, 0.383_354_911_798_025_55, 1e-12);

    let shard = |range: std::ops::Range<usize>| {
        let mut metric = CalinskiHarabaszScore::<f64>::new();
        let rows = data.slice(s![range.clone(), ..]);
        metric.update((rows, labels.slice(s![range]))).unwrap();
        metric
    };
    let (small, huge, subnormal) = (shard(0..2), shard(2..4), shard(4..6));
    let rest = shard(6..8);
    let orders = [
        [&small, &huge, &subnormal, &rest],
        [&subnormal, &rest, &huge, &small],
        [&huge, &subnormal, &small, &rest],
    ];
    for order in orders {
        let mut merged = CalinskiHarabaszScore::<f64>::new();
        for part in order {
            merged.merge(part).unwrap();
        }
        assert_close(merged.compute().unwrap(), whole, 1e-12);
        let restored = CalinskiHarabaszScore::<f64>::from_bytes(&merged.to_bytes().unwrap());
        assert_close(restored.unwrap().compute().unwrap(), whole, 1e-12);
    }
}

#[test]
fn calinski_harabasz_overflowing_score_rejected() {
    // W = 2^-1031 / 2 and B = 1, so the score 4 * 2^1031 is above the largest float64.
    let tiny = f64::powi(2.0, -515);
    let data = array![[0.0], [tiny], [1.0], [1.0]];
    let labels = array![0, 0, 1, 1];
    let error = calinski_harabasz_score(data.view(), labels.view()).unwrap_err();
    assert!(matches!(error, Error::InvalidInput { .. }), "{error}");
    assert!(
        error.to_string().contains("exceeds the largest float64"),
        "{error}"
    );
}

#[test]
fn calinski_harabasz_more_clusters_than_chunk_rows() {
    // 2000 clusters across chunks of 1024 rows of 64 features, so each chunk groups its rows
    // by cluster instead of keeping one accumulator per cluster.
    // sklearn.metrics.calinski_harabasz_score(X, y) on the numpy version of formula(5000, 64, 2000)
    let (data, labels) = formula(5000, 64, 2000);
    let value = calinski_harabasz_score(data.view(), labels.view()).unwrap();
    assert_close(value, 997565.2392511942, 1e-9);
}

#[test]
fn davies_bouldin_matches_sklearn() {
    // sklearn.metrics.davies_bouldin_score(X, y)
    let cases = [
        (blobs(), 1.2628044986782028),
        (with_singleton(), 1.2496217428222864),
        (formula(600, 5, 4), 1.8359560995202766),
        (formula(20000, 8, 6), 1.5702266270861662),
    ];
    for ((data, labels), expected) in cases {
        let value = davies_bouldin_score(data.view(), labels.view()).unwrap();
        assert_close(value, expected, 1e-9);
        let metric = DaviesBouldinScore::new();
        assert_close(
            stateful(metric, data.view(), labels.view()).unwrap(),
            expected,
            1e-9,
        );
    }
}

#[test]
fn silhouette_matches_sklearn() {
    // sklearn.metrics.silhouette_score(scipy.spatial.distance.cdist(X, X), y,
    // metric="precomputed"), which avoids the rounding of sklearn's dot-product distances.
    let cases = [
        (blobs(), 0.19040618022818953),
        (with_singleton(), -0.09330705078072768),
        (formula(600, 5, 4), 0.2684893406040957),
    ];
    for ((data, labels), expected) in cases {
        let value = silhouette_score(data.view(), labels.view(), None, 0).unwrap();
        assert_close(value, expected, 1e-9);
        let metric = SilhouetteScore::default();
        assert_close(
            stateful(metric, data.view(), labels.view()).unwrap(),
            expected,
            1e-9,
        );
    }
}

#[test]
/// References from numpy, for TorchMetrics' centroid form:
///
/// ```text
/// cents = [X[y == l].mean(0) for l in np.unique(y)]
/// inter = min(np.linalg.norm(a - b, ord=p) for a, b in itertools.combinations(cents, 2))
/// intra = max(np.linalg.norm(X[y == l] - c, ord=p, axis=1).max() for l, c in zip(...))
/// ```
///
/// and in the pairwise form, with `D = scipy.spatial.distance.cdist(X, X, "minkowski", p=p)`
/// (`"chebyshev"` for infinity) and `same = y[:, None] == y[None, :]`:
/// `D[~same].min() / D[same].max()`.
fn dunn_matches_numpy_reference() {
    // (p, centroid, pairwise)
    let blobs_cases = [
        (1.0, 0.7397856144166537, 0.22479959065324923),
        (2.0, 0.8104097896127911, 0.2650172142637101),
        (3.0, 0.8465993457177285, 0.2855923301664933),
        (f64::INFINITY, 0.8746331729076183, 0.2495596007046389),
    ];
    let singleton_cases = [
        (1.0, 0.6791443850267379, 0.1294363256784969),
        (2.0, 0.7120699780297526, 0.14346581755483406),
        (3.0, 0.6694519733949849, 0.14658348902356863),
        (f64::INFINITY, 0.6503579952267303, 0.14814814814814817),
    ];
    let formula_cases = [
        (1.0, 1.0428772676382496, 0.5041615640508647),
        (2.0, 0.9622488605371475, 0.48371731287613307),
        (3.0, 0.9014128400090797, 0.45338649526121694),
        (f64::INFINITY, 0.6971298013331186, 0.3527343934738716),
    ];
    let data_sets = [
        (blobs(), blobs_cases),
        (with_singleton(), singleton_cases),
        (formula(600, 5, 4), formula_cases),
    ];
    for ((data, labels), cases) in data_sets {
        for (p, centroid, pairwise) in cases {
            let value = dunn_index(data.view(), labels.view(), p, DunnDefinition::Centroid);
            assert_close(value.unwrap(), centroid, 1e-9);
            let value = dunn_index(data.view(), labels.view(), p, DunnDefinition::Pairwise);
            assert_close(value.unwrap(), pairwise, 1e-9);
            let metric = DunnIndex::new(p, DunnDefinition::Pairwise).unwrap();
            assert_close(
                stateful(metric, data.view(), labels.view()).unwrap(),
                pairwise,
                1e-9,
            );
        }
    }
}

#[test]
fn dunn_centroid_many_chunks() {
    // The numpy centroid reference on formula(20000, 8, 6) with p = 2.
    let (data, labels) = formula(20000, 8, 6);
    let value = dunn_index(data.view(), labels.view(), 2.0, DunnDefinition::Centroid).unwrap();
    assert_close(value, 1.209105756179328, 1e-9);
}

// Edge cases.

#[test]
fn duplicate_rows_per_cluster() {
    // sklearn: calinski_harabasz 1.0 (zero within-cluster dispersion), davies_bouldin 0.0,
    // silhouette 1.0.
    let data = array![[0.0], [0.0], [1.0], [1.0]];
    let labels = array![0, 0, 1, 1];
    assert_eq!(calinski_harabasz_score(data.view(), labels.view()), Ok(1.0));
    assert_eq!(davies_bouldin_score(data.view(), labels.view()), Ok(0.0));
    assert_eq!(
        silhouette_score(data.view(), labels.view(), None, 0),
        Ok(1.0)
    );
    let dunn = dunn_index(data.view(), labels.view(), 2.0, DunnDefinition::Centroid);
    assert_eq!(dunn, Ok(f64::INFINITY));
    let dunn = dunn_index(data.view(), labels.view(), 2.0, DunnDefinition::Pairwise);
    assert_eq!(dunn, Ok(f64::INFINITY));
}

#[test]
fn all_rows_identical() {
    // sklearn: calinski_harabasz 1.0, davies_bouldin 0.0, silhouette 0.0.
    let data = array![[1.0], [1.0], [1.0], [1.0]];
    let labels = array![0, 0, 1, 1];
    assert_eq!(calinski_harabasz_score(data.view(), labels.view()), Ok(1.0));
    assert_eq!(davies_bouldin_score(data.view(), labels.view()), Ok(0.0));
    assert_eq!(
        silhouette_score(data.view(), labels.view(), None, 0),
        Ok(0.0)
    );
    let dunn = dunn_index(data.view(), labels.view(), 2.0, DunnDefinition::Centroid);
    assert_eq!(dunn, Ok(0.0));
    let dunn = dunn_index(data.view(), labels.view(), 2.0, DunnDefinition::Pairwise);
    assert_eq!(dunn, Ok(0.0));
}

#[test]
fn duplicate_rows_with_singleton() {
    // sklearn: calinski_harabasz 1.0, davies_bouldin 0.0, silhouette 0.8.
    let data = array![[1.0, 2.0], [1.0, 2.0], [3.0, 0.0], [3.0, 0.0], [5.0, 5.0]];
    let labels = array![0, 0, 1, 1, 2];
    assert_eq!(calinski_harabasz_score(data.view(), labels.view()), Ok(1.0));
    assert_eq!(davies_bouldin_score(data.view(), labels.view()), Ok(0.0));
    let silhouette = silhouette_score(data.view(), labels.view(), None, 0).unwrap();
    assert_close(silhouette, 0.8, 1e-15);
}

#[test]
fn single_cluster_rejected() {
    let data = array![[0.0], [1.0], [2.0]];
    let labels = array![4, 4, 4];
    let results = [
        calinski_harabasz_score(data.view(), labels.view()),
        davies_bouldin_score(data.view(), labels.view()),
        silhouette_score(data.view(), labels.view(), None, 0),
        dunn_index(data.view(), labels.view(), 2.0, DunnDefinition::Centroid),
        dunn_index(data.view(), labels.view(), 2.0, DunnDefinition::Pairwise),
    ];
    for result in results {
        let error = result.unwrap_err();
        assert!(matches!(error, Error::InvalidInput { ref argument, .. } if argument == "labels"));
        assert!(error.to_string().contains("1 distinct label"), "{error}");
    }
}

#[test]
fn one_cluster_per_row_rejected_as_sklearn() {
    let data = array![[0.0], [1.0], [2.0]];
    let labels = array![0, 1, 2];
    let results = [
        calinski_harabasz_score(data.view(), labels.view()),
        davies_bouldin_score(data.view(), labels.view()),
        silhouette_score(data.view(), labels.view(), None, 0),
    ];
    for result in results {
        let error = result.unwrap_err();
        assert!(matches!(error, Error::InvalidInput { ref argument, .. } if argument == "labels"));
        assert!(
            error
                .to_string()
                .contains("3 distinct labels for 3 samples"),
            "{error}"
        );
    }
}

#[test]
fn dunn_one_cluster_per_row_is_infinite() {
    let data = array![[0.0], [1.0], [3.0]];
    let labels = array![0, 1, 2];
    for definition in [DunnDefinition::Centroid, DunnDefinition::Pairwise] {
        let value = dunn_index(data.view(), labels.view(), 2.0, definition);
        assert_eq!(value, Ok(f64::INFINITY));
    }
}

#[test]
fn one_row_rejected() {
    let data = array![[0.5, 1.5]];
    let labels = array![0];
    assert!(calinski_harabasz_score(data.view(), labels.view()).is_err());
    assert!(davies_bouldin_score(data.view(), labels.view()).is_err());
    assert!(silhouette_score(data.view(), labels.view(), None, 0).is_err());
    assert!(dunn_index(data.view(), labels.view(), 2.0, DunnDefinition::Centroid).is_err());
}

#[test]
fn empty_input_not_enough_data() {
    let data = Array2::<f64>::zeros((0, 3));
    let labels = Array1::<i64>::zeros(0);
    let results = [
        calinski_harabasz_score(data.view(), labels.view()),
        davies_bouldin_score(data.view(), labels.view()),
        silhouette_score(data.view(), labels.view(), None, 0),
        dunn_index(data.view(), labels.view(), 2.0, DunnDefinition::Centroid),
        CalinskiHarabaszScore::<f64>::new().compute(),
        DaviesBouldinScore::<f64>::new().compute(),
        SilhouetteScore::<f64>::default().compute(),
        DunnIndex::<f64>::default().compute(),
    ];
    for result in results {
        assert!(
            matches!(result, Err(Error::NotEnoughData { .. })),
            "{result:?}"
        );
    }
}

#[test]
fn empty_batch_changes_nothing() {
    let (data, labels) = blobs();
    let mut metric = CalinskiHarabaszScore::<f64>::new();
    metric.update((data.view(), labels.view())).unwrap();
    let before = metric.compute().unwrap();
    let empty = Array2::<f64>::zeros((0, 3));
    metric
        .update((empty.view(), Array1::zeros(0).view()))
        .unwrap();
    assert_eq!(metric.compute().unwrap(), before);
}

#[test]
fn f32_agrees_with_f64() {
    let (data, labels) = formula(600, 5, 4);
    let single = data.mapv(|x| x as f32);
    let widened = single.mapv(f64::from);
    // Every f32 is exactly an f64, and computation is in f64, so the results are identical.
    let pairs = [
        (
            calinski_harabasz_score(single.view(), labels.view()),
            calinski_harabasz_score(widened.view(), labels.view()),
        ),
        (
            davies_bouldin_score(single.view(), labels.view()),
            davies_bouldin_score(widened.view(), labels.view()),
        ),
        (
            silhouette_score(single.view(), labels.view(), None, 0),
            silhouette_score(widened.view(), labels.view(), None, 0),
        ),
        (
            dunn_index(single.view(), labels.view(), 3.0, DunnDefinition::Pairwise),
            dunn_index(widened.view(), labels.view(), 3.0, DunnDefinition::Pairwise),
        ),
    ];
    for (from_f32, from_f64) in pairs {
        assert_eq!(from_f32.unwrap(), from_f64.unwrap());
    }
    // And the f32 rounding of the data moves the value only slightly.
    let value = calinski_harabasz_score(single.view(), labels.view()).unwrap();
    assert_close(value, 338.8859144077452, 1e-5);
}

#[test]
fn stateful_f32_metrics() {
    let (data, labels) = blobs();
    let single = data.mapv(|x| x as f32);
    let mut metric = CalinskiHarabaszScore::<f32>::new();
    metric.update((single.view(), labels.view())).unwrap();
    assert_close(metric.compute().unwrap(), 5.947047534893943, 1e-5);
    let mut metric = DaviesBouldinScore::<f32>::new();
    metric.update((single.view(), labels.view())).unwrap();
    assert_close(metric.compute().unwrap(), 1.2628044986782028, 1e-5);
}

#[test]
fn non_contiguous_views_match() {
    let (data, labels) = blobs();
    let mut column_major = Array2::<f64>::zeros((12, 3).f());
    column_major.assign(&data);
    let mut padded = Array2::<f64>::zeros((24, 3));
    padded.slice_mut(s![..;2, ..]).assign(&data);
    let strided = padded.slice(s![..;2, ..]);

    let expected = calinski_harabasz_score(data.view(), labels.view()).unwrap();
    assert_eq!(
        calinski_harabasz_score(column_major.view(), labels.view()),
        Ok(expected)
    );
    assert_eq!(
        calinski_harabasz_score(strided, labels.view()),
        Ok(expected)
    );
    let expected = silhouette_score(data.view(), labels.view(), None, 0).unwrap();
    assert_eq!(
        silhouette_score(column_major.view(), labels.view(), None, 0),
        Ok(expected)
    );
}

#[test]
fn extreme_labels_are_clusters() {
    let (data, labels) = blobs();
    let sparse = labels.mapv(|label| match label {
        -5 => i64::MIN,
        3 => 0,
        _ => i64::MAX,
    });
    let expected = calinski_harabasz_score(data.view(), labels.view()).unwrap();
    assert_eq!(
        calinski_harabasz_score(data.view(), sparse.view()),
        Ok(expected)
    );
    let expected = davies_bouldin_score(data.view(), labels.view()).unwrap();
    assert_eq!(
        davies_bouldin_score(data.view(), sparse.view()),
        Ok(expected)
    );
}

#[test]
fn silhouette_sample_covering_all_rows_is_exact() {
    let (data, labels) = blobs();
    let exact = silhouette_score(data.view(), labels.view(), None, 0).unwrap();
    let sampled = silhouette_score(data.view(), labels.view(), Some(12), 3).unwrap();
    assert_eq!(sampled, exact);
    let oversized = silhouette_score(data.view(), labels.view(), Some(1000), 3).unwrap();
    assert_eq!(oversized, exact);
}

#[test]
fn silhouette_sample_is_seeded() {
    let (data, labels) = formula(600, 5, 4);
    let first = silhouette_score(data.view(), labels.view(), Some(100), 11).unwrap();
    let again = silhouette_score(data.view(), labels.view(), Some(100), 11).unwrap();
    let other_seed = silhouette_score(data.view(), labels.view(), Some(100), 12).unwrap();
    assert_eq!(first, again);
    assert_ne!(first, other_seed);
    assert!((-1.0..=1.0).contains(&first));
    // A sample of 100 rows out of 600 estimates the exact 0.2685 closely.
    assert!((first - 0.2684893406040957).abs() < 0.1, "{first}");

    let mut metric = SilhouetteScore::<f64>::new(Some(100), 11).unwrap();
    metric.update((data.view(), labels.view())).unwrap();
    assert_eq!(metric.compute().unwrap(), first);
}

#[test]
fn forward_returns_batch_value_and_accumulates() {
    let (data, labels) = formula(600, 5, 4);
    let (head, tail) = (data.slice(s![..300, ..]), data.slice(s![300.., ..]));
    let (head_labels, tail_labels) = (labels.slice(s![..300]), labels.slice(s![300..]));

    let mut metric = CalinskiHarabaszScore::<f64>::new();
    let batch = metric.forward((head, head_labels)).unwrap();
    assert_close(
        batch,
        calinski_harabasz_score(head, head_labels).unwrap(),
        1e-12,
    );
    metric.forward((tail, tail_labels)).unwrap();
    assert_close(metric.compute().unwrap(), 338.8859144077452, 1e-9);
}

#[test]
fn thread_count_does_not_change_values() {
    let (data, labels) = formula(20000, 8, 6);
    let (small, small_labels) = formula(700, 8, 6);
    let compute = || {
        [
            calinski_harabasz_score(data.view(), labels.view()).unwrap(),
            davies_bouldin_score(data.view(), labels.view()).unwrap(),
            dunn_index(data.view(), labels.view(), 2.0, DunnDefinition::Centroid).unwrap(),
            silhouette_score(small.view(), small_labels.view(), None, 0).unwrap(),
            dunn_index(
                small.view(),
                small_labels.view(),
                2.0,
                DunnDefinition::Pairwise,
            )
            .unwrap(),
        ]
    };
    let pool = |threads| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
    };
    let single = pool(1).install(compute);
    let many = pool(5).install(compute);
    assert_eq!(single, many);
}

#[test]
fn metric_facts() {
    let ch = CalinskiHarabaszScore::<f64>::new().info();
    assert_eq!(ch.name, "CalinskiHarabaszScore");
    assert_eq!(ch.higher_is_better, Some(true));
    assert_eq!((ch.lower_bound, ch.upper_bound), (0.0, f64::INFINITY));

    let db = DaviesBouldinScore::<f64>::new().info();
    assert_eq!(db.name, "DaviesBouldinScore");
    assert_eq!(db.higher_is_better, Some(false));
    assert_eq!((db.lower_bound, db.upper_bound), (0.0, f64::INFINITY));

    let dunn = DunnIndex::<f64>::default().info();
    assert_eq!(dunn.name, "DunnIndex");
    assert_eq!(dunn.higher_is_better, Some(true));

    let silhouette = SilhouetteScore::<f64>::default().info();
    assert_eq!(silhouette.name, "SilhouetteScore");
    assert_eq!(silhouette.higher_is_better, Some(true));
    assert_eq!(
        (silhouette.lower_bound, silhouette.upper_bound),
        (-1.0, 1.0)
    );
}

// Validation errors.

#[test]
fn length_mismatch_rejected() {
    let (data, _) = blobs();
    let labels = Array1::<i64>::zeros(11);
    let results = [
        calinski_harabasz_score(data.view(), labels.view()),
        davies_bouldin_score(data.view(), labels.view()),
        silhouette_score(data.view(), labels.view(), None, 0),
        dunn_index(data.view(), labels.view(), 2.0, DunnDefinition::Centroid),
        CalinskiHarabaszScore::new()
            .update((data.view(), labels.view()))
            .map(|_| 0.0),
        DaviesBouldinScore::new()
            .update((data.view(), labels.view()))
            .map(|_| 0.0),
        SilhouetteScore::default()
            .update((data.view(), labels.view()))
            .map(|_| 0.0),
        DunnIndex::default()
            .update((data.view(), labels.view()))
            .map(|_| 0.0),
    ];
    let expected = Error::LengthMismatch {
        left: "data".to_owned(),
        left_len: 12,
        right: "labels".to_owned(),
        right_len: 11,
    };
    for result in results {
        assert_eq!(result, Err(expected.clone()));
    }
}

#[test]
fn zero_columns_rejected() {
    let data = Array2::<f64>::zeros((4, 0));
    let labels = array![0, 0, 1, 1];
    let error = calinski_harabasz_score(data.view(), labels.view()).unwrap_err();
    assert!(matches!(error, Error::InvalidInput { ref argument, .. } if argument == "data"));
    assert!(error.to_string().contains("(4, 0)"), "{error}");
    let error = DaviesBouldinScore::new().update((data.view(), labels.view()));
    assert!(matches!(error, Err(Error::InvalidInput { .. })));
}

#[test]
fn non_finite_names_row_and_column() {
    let (mut data, labels) = blobs();
    data[[7, 2]] = f64::NAN;
    data[[9, 0]] = f64::INFINITY;
    let results = [
        calinski_harabasz_score(data.view(), labels.view()),
        davies_bouldin_score(data.view(), labels.view()),
        silhouette_score(data.view(), labels.view(), Some(5), 0),
        dunn_index(data.view(), labels.view(), 2.0, DunnDefinition::Pairwise),
        dunn_index(data.view(), labels.view(), 2.0, DunnDefinition::Centroid),
        CalinskiHarabaszScore::new()
            .update((data.view(), labels.view()))
            .map(|_| 0.0),
        SilhouetteScore::default()
            .update((data.view(), labels.view()))
            .map(|_| 0.0),
    ];
    for result in results {
        let Err(Error::NonFinite {
            argument,
            location,
            value,
        }) = result
        else {
            panic!("expected a NonFinite error, got {result:?}");
        };
        assert_eq!(argument, "data");
        assert_eq!(location, "row 7, column 2");
        assert!(value.is_nan());
    }
}

#[test]
fn non_finite_f32_infinity() {
    let mut data = Array2::<f32>::zeros((5, 2));
    data[[3, 1]] = f32::NEG_INFINITY;
    let labels = array![0, 0, 1, 1, 1];
    let mut metric = CalinskiHarabaszScore::<f32>::new();
    let error = metric.update((data.view(), labels.view())).unwrap_err();
    let expected = Error::NonFinite {
        argument: "data".to_owned(),
        location: "row 3, column 1".to_owned(),
        value: f64::NEG_INFINITY,
    };
    assert_eq!(error, expected);
    assert!(matches!(metric.compute(), Err(Error::NotEnoughData { .. })));
}

#[test]
fn feature_count_change_rejected_without_state_change() {
    let (data, labels) = blobs();
    let narrow = data.slice(s![.., ..2]);
    let mut ch = CalinskiHarabaszScore::<f64>::new();
    let mut db = DaviesBouldinScore::<f64>::new();
    ch.update((data.view(), labels.view())).unwrap();
    db.update((data.view(), labels.view())).unwrap();
    let (ch_before, db_before) = (ch.compute().unwrap(), db.compute().unwrap());

    for error in [
        ch.update((narrow, labels.view())).unwrap_err(),
        db.update((narrow, labels.view())).unwrap_err(),
    ] {
        assert!(matches!(error, Error::InvalidInput { ref argument, .. } if argument == "data"));
        assert!(
            error.to_string().contains("earlier batches had 3"),
            "{error}"
        );
    }
    assert_eq!(ch.compute().unwrap(), ch_before);
    assert_eq!(db.compute().unwrap(), db_before);
}

#[test]
fn rejected_batch_leaves_stored_rows() {
    let (data, labels) = blobs();
    let mut metric = SilhouetteScore::<f64>::default();
    metric.update((data.view(), labels.view())).unwrap();
    let before = metric.to_bytes().unwrap();
    let mut bad = data.clone();
    bad[[11, 1]] = f64::NAN;
    assert!(metric.update((bad.view(), labels.view())).is_err());
    assert_eq!(metric.to_bytes().unwrap(), before);
}

#[test]
fn invalid_p_rejected() {
    let (data, labels) = blobs();
    for p in [0.0, 0.5, -1.0, f64::NAN, f64::NEG_INFINITY] {
        let error = DunnIndex::<f64>::new(p, DunnDefinition::Centroid).unwrap_err();
        assert!(matches!(error, Error::InvalidArgument { ref argument, .. } if argument == "p"));
        let error = dunn_index(data.view(), labels.view(), p, DunnDefinition::Pairwise);
        assert!(matches!(error, Err(Error::InvalidArgument { .. })));
    }
    assert!(DunnIndex::<f64>::new(f64::INFINITY, DunnDefinition::Centroid).is_ok());
}

#[test]
fn invalid_sample_size_rejected() {
    let (data, labels) = blobs();
    for size in [0, 1, 2] {
        let error = SilhouetteScore::<f64>::new(Some(size), 0).unwrap_err();
        let is_sample_size = matches!(error, Error::InvalidArgument { ref argument, .. } if argument == "sample_size");
        assert!(is_sample_size, "{error}");
        let error = silhouette_score(data.view(), labels.view(), Some(size), 0);
        assert!(matches!(error, Err(Error::InvalidArgument { .. })));
    }
}

#[test]
fn sample_with_one_cluster_rejected() {
    // Rows 0..6 are cluster 0 and rows 6..12 cluster 1. A 3-row sample can fall in one cluster,
    // and some of 50 seeds draw such a sample.
    let data = Array2::from_shape_fn((12, 1), |(i, _)| i as f64);
    let labels = Array1::from_shape_fn(12, |i| (i / 6) as i64);
    let failures = (0..50)
        .map(|seed| silhouette_score(data.view(), labels.view(), Some(3), seed))
        .filter(|result| matches!(result, Err(Error::InvalidInput { .. })))
        .count();
    assert!(failures > 0);
}

#[test]
fn dunn_definition_parse_rejects_unknown() {
    assert_eq!("centroid".parse(), Ok(DunnDefinition::Centroid));
    let error = "medoid".parse::<DunnDefinition>().unwrap_err();
    let is_definition =
        matches!(error, Error::InvalidArgument { ref argument, .. } if argument == "definition");
    assert!(is_definition);
    assert!(error.to_string().contains("\"medoid\""), "{error}");
}

#[test]
fn merge_rejects_other_configuration() {
    let mut dunn = DunnIndex::<f64>::new(2.0, DunnDefinition::Centroid).unwrap();
    let other_p = DunnIndex::<f64>::new(1.0, DunnDefinition::Centroid).unwrap();
    let other_definition = DunnIndex::<f64>::new(2.0, DunnDefinition::Pairwise).unwrap();
    assert!(matches!(
        dunn.merge(&other_p),
        Err(Error::IncompatibleState { .. })
    ));
    assert!(matches!(
        dunn.merge(&other_definition),
        Err(Error::IncompatibleState { .. })
    ));

    let mut silhouette = SilhouetteScore::<f64>::new(Some(10), 1).unwrap();
    let other_size = SilhouetteScore::<f64>::new(Some(11), 1).unwrap();
    let other_seed = SilhouetteScore::<f64>::new(Some(10), 2).unwrap();
    assert!(matches!(
        silhouette.merge(&other_size),
        Err(Error::IncompatibleState { .. })
    ));
    assert!(matches!(
        silhouette.merge(&other_seed),
        Err(Error::IncompatibleState { .. })
    ));
}

#[test]
fn merge_rejects_other_feature_count() {
    let (data, labels) = blobs();
    let narrow = data.slice(s![.., ..2]);
    let mut wide_ch = CalinskiHarabaszScore::<f64>::new();
    let mut narrow_ch = CalinskiHarabaszScore::<f64>::new();
    wide_ch.update((data.view(), labels.view())).unwrap();
    narrow_ch.update((narrow, labels.view())).unwrap();
    assert!(matches!(
        wide_ch.merge(&narrow_ch),
        Err(Error::IncompatibleState { .. })
    ));

    let mut wide_db = DaviesBouldinScore::<f64>::new();
    let mut narrow_db = DaviesBouldinScore::<f64>::new();
    wide_db.update((data.view(), labels.view())).unwrap();
    narrow_db.update((narrow, labels.view())).unwrap();
    assert!(matches!(
        wide_db.merge(&narrow_db),
        Err(Error::IncompatibleState { .. })
    ));
}

#[test]
fn from_bytes_rejects_other_metric() {
    let bytes = CalinskiHarabaszScore::<f64>::new().to_bytes().unwrap();
    let error = DaviesBouldinScore::<f64>::from_bytes(&bytes).unwrap_err();
    assert!(matches!(error, Error::IncompatibleState { .. }), "{error}");
}

// Property tests.

/// Rows with values in multiples of 0.25 in [-12.5, 12.5], 2 to 4 labels, at least 2 of them
/// present and at most n - 1 distinct.
fn clustering() -> impl Strategy<Value = (Array2<f64>, Array1<i64>)> {
    (4usize..40, 1usize..4, 2i64..5).prop_flat_map(|(n, d, k)| {
        let values = prop::collection::vec(-50i32..=50, n * d);
        let labels = prop::collection::vec(0..k, n);
        (values, labels).prop_filter_map(
            "needs 2..=n-1 distinct labels",
            move |(values, labels)| {
                let mut distinct = labels.clone();
                distinct.sort_unstable();
                distinct.dedup();
                if distinct.len() < 2 || distinct.len() >= n {
                    return None;
                }
                let data = Array2::from_shape_vec((n, d), values)
                    .ok()?
                    .mapv(|value| f64::from(value) / 4.0);
                Some((data, Array1::from(labels)))
            },
        )
    })
}

/// Splits rows at `cuts` (fractions of n), updates one metric per batch, and merges the parts
/// in the order `order` picks.
fn split_and_merge<M>(
    empty: &M,
    data: &Array2<f64>,
    labels: &Array1<i64>,
    cuts: &[f64],
    order: &[usize],
) -> M
where
    M: Metric<Kind = ferrometrics::inputs::DataLabels<f64>>,
{
    let n = labels.len();
    let mut bounds: Vec<usize> = cuts.iter().map(|cut| (cut * n as f64) as usize).collect();
    bounds.extend([0, n]);
    bounds.sort_unstable();

    let mut parts: Vec<M> = bounds
        .windows(2)
        .map(|window| {
            let mut part = empty.empty();
            let rows = s![window[0]..window[1], ..];
            let part_labels = labels.slice(s![window[0]..window[1]]);
            part.update((data.slice(rows), part_labels)).unwrap();
            part
        })
        .collect();

    let mut merged = empty.empty();
    while !parts.is_empty() {
        let pick = order.get(parts.len() - 1).copied().unwrap_or(0) % parts.len();
        merged.merge(&parts.remove(pick)).unwrap();
    }
    merged
}

fn all_values(data: ArrayView2<'_, f64>, labels: ArrayView1<'_, i64>) -> [f64; 5] {
    [
        calinski_harabasz_score(data, labels).unwrap(),
        davies_bouldin_score(data, labels).unwrap(),
        silhouette_score(data, labels, None, 0).unwrap(),
        dunn_index(data, labels, 2.0, DunnDefinition::Centroid).unwrap(),
        dunn_index(data, labels, 1.5, DunnDefinition::Pairwise).unwrap(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn split_merge_equals_one_update(
        (data, labels) in clustering(),
        cuts in prop::collection::vec(0.0f64..1.0, 0..4),
        order in prop::collection::vec(0usize..8, 5),
    ) {
        let ch = split_and_merge(&CalinskiHarabaszScore::new(), &data, &labels, &cuts, &order);
        let db = split_and_merge(&DaviesBouldinScore::new(), &data, &labels, &cuts, &order);
        let silhouette =
            split_and_merge(&SilhouetteScore::default(), &data, &labels, &cuts, &order);
        let dunn = split_and_merge(&DunnIndex::default(), &data, &labels, &cuts, &order);
        let pairwise = DunnIndex::new(1.5, DunnDefinition::Pairwise).unwrap();
        let pairwise = split_and_merge(&pairwise, &data, &labels, &cuts, &order);

        let merged = [
            ch.compute().unwrap(),
            db.compute().unwrap(),
            silhouette.compute().unwrap(),
            dunn.compute().unwrap(),
            pairwise.compute().unwrap(),
        ];
        for (value, expected) in merged.into_iter().zip(all_values(data.view(), labels.view())) {
            assert_close(value, expected, 1e-12);
        }
    }

    #[test]
    fn row_permutation_invariant(
        (data, labels) in clustering(),
        keys in prop::collection::vec(any::<u32>(), 40),
    ) {
        let mut order: Vec<usize> = (0..labels.len()).collect();
        order.sort_by_key(|&index| (keys[index], index));
        let permuted_data = data.select(Axis(0), &order);
        let permuted_labels = labels.select(Axis(0), &order);

        let original = all_values(data.view(), labels.view());
        let permuted = all_values(permuted_data.view(), permuted_labels.view());
        for (value, expected) in permuted.into_iter().zip(original) {
            assert_close(value, expected, 1e-12);
        }
    }

    #[test]
    fn relabelling_invariant(
        (data, labels) in clustering(),
        scale in prop::sample::select(vec![-1i64, 3, 1_000_003, i64::MAX / 8]),
        offset in -1000i64..1000,
    ) {
        let relabelled = labels.mapv(|label| label * scale + offset);
        let original = all_values(data.view(), labels.view());
        let renamed = all_values(data.view(), relabelled.view());
        for (value, expected) in renamed.into_iter().zip(original) {
            assert_close(value, expected, 1e-12);
        }
    }

    #[test]
    fn bytes_round_trip((data, labels) in clustering()) {
        let mut ch = CalinskiHarabaszScore::<f64>::new();
        let mut db = DaviesBouldinScore::<f64>::new();
        let mut dunn = DunnIndex::<f64>::new(3.0, DunnDefinition::Pairwise).unwrap();
        let mut silhouette = SilhouetteScore::<f64>::new(Some(5), 9).unwrap();
        ch.update((data.view(), labels.view())).unwrap();
        db.update((data.view(), labels.view())).unwrap();
        dunn.update((data.view(), labels.view())).unwrap();
        silhouette.update((data.view(), labels.view())).unwrap();

        let restored = CalinskiHarabaszScore::<f64>::from_bytes(&ch.to_bytes().unwrap()).unwrap();
        prop_assert_eq!(restored.compute(), ch.compute());
        let restored = DaviesBouldinScore::<f64>::from_bytes(&db.to_bytes().unwrap()).unwrap();
        prop_assert_eq!(restored.compute(), db.compute());
        let restored = DunnIndex::<f64>::from_bytes(&dunn.to_bytes().unwrap()).unwrap();
        prop_assert_eq!(restored.compute(), dunn.compute());
        prop_assert_eq!(restored.definition(), DunnDefinition::Pairwise);
        let bytes = silhouette.to_bytes().unwrap();
        let restored = SilhouetteScore::<f64>::from_bytes(&bytes).unwrap();
        prop_assert_eq!(restored.compute(), silhouette.compute());
        prop_assert_eq!(restored.to_bytes().unwrap(), bytes);
    }
}
