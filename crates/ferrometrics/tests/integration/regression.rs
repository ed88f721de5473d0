//! Regression metrics against scipy and scikit-learn values, TorchMetrics' documented examples,
//! batch-split and merge invariance, serialization and every validation path.
//!
//! Reference values come from /work/main/.venv/bin/python with numpy 2.4, scipy 1.17 and
//! scikit-learn 1.9; the Python expression is in the comment above each value.

use ferrometrics::regression::*;
use ferrometrics::{Error, Metric, Value};
use ndarray::{Array2, ArrayD, IxDyn};
use proptest::prelude::*;

fn d1(values: &[f64]) -> ArrayD<f64> {
    ArrayD::from_shape_vec(IxDyn(&[values.len()]), values.to_vec()).unwrap()
}

fn d2(rows: &[&[f64]]) -> ArrayD<f64> {
    let columns = rows.first().map_or(0, |row| row.len());
    let flat: Vec<f64> = rows.iter().flat_map(|row| row.iter().copied()).collect();
    ArrayD::from_shape_vec(IxDyn(&[rows.len(), columns]), flat).unwrap()
}

fn scalar(value: Value) -> f64 {
    value.as_scalar().expect("a scalar value")
}

fn array(value: Value) -> Vec<f64> {
    match value {
        Value::Array(values) => values.iter().copied().collect(),
        other => panic!("expected an array, got {other:?}"),
    }
}

/// Asserts `|actual - expected| <= tolerance * max(|expected|, 1)`.
fn assert_close(actual: f64, expected: f64, tolerance: f64) {
    let scale = expected.abs().max(1.0);
    assert!(
        (actual - expected).abs() <= tolerance * scale,
        "actual {actual:e}, expected {expected:e}, difference {:e}",
        (actual - expected).abs()
    );
}

fn update<M>(metric: &mut M, preds: &ArrayD<f64>, target: &ArrayD<f64>)
where
    M: Metric<Kind = PredsTarget<f64>>,
{
    metric.update((preds.view(), target.view())).unwrap();
}

// x = np.round(rng.normal(size=12), 4) with rng = np.random.default_rng(7), and
// y = np.round(0.6 * x + rng.normal(size=12) * 0.5, 4).
const X: [f64; 12] = [
    0.0012, 0.2987, -0.2741, -0.8906, -0.4547, -0.9916, 0.0601, 1.3402, -0.4922, -0.6205, 0.4898,
    0.3569,
];
const Y: [f64; 12] = [
    0.0534, -0.286, -0.1791, -0.1867, -0.9449, -0.8238, -0.9146, 0.1594, -1.2162, -0.4898, -0.3398,
    0.3498,
];

// Values near +-1e6 that differ by about 1e-3.
const OFFSET_X: [f64; 10] = [
    1000000.000157,
    999999.999813,
    999999.997483,
    999999.999461,
    999999.999951,
    1000000.000113,
    999999.99847,
    999999.999522,
    999999.999021,
    999999.999191,
];
const OFFSET_Y: [f64; 10] = [
    -999999.998939,
    -1000000.000808,
    -1000000.000033,
    -999999.999116,
    -1000000.000584,
    -1000000.000112,
    -999999.99989,
    -999999.999936,
    -1000000.001225,
    -999999.999924,
];

// ---------------------------------------------------------------------------------------------
// PearsonCorrCoef

#[test]
fn pearson_matches_scipy() {
    // scipy.stats.pearsonr(X, Y).statistic
    let expected = 0.5422760727012977;
    let r = scalar(pearson_corrcoef(d1(&X).view(), d1(&Y).view()).unwrap());
    assert_close(r, expected, 1e-13);
}

#[test]
fn pearson_torchmetrics_example() {
    // TorchMetrics' docs: pearson_corrcoef(tensor([2.5, 0.0, 2, 8]), tensor([3, -0.5, 2, 7]))
    // gives tensor(0.9849).
    let r = scalar(
        pearson_corrcoef(
            d1(&[2.5, 0.0, 2.0, 8.0]).view(),
            d1(&[3.0, -0.5, 2.0, 7.0]).view(),
        )
        .unwrap(),
    );
    assert!((r - 0.9849).abs() < 5e-5);
}

#[test]
fn pearson_torchmetrics_multioutput_example() {
    // TorchMetrics' docs: two samples of two outputs give tensor([1., 1.]).
    let preds = d2(&[&[2.5, 0.0], &[2.0, 8.0]]);
    let target = d2(&[&[3.0, -0.5], &[2.0, 1.0]]);
    let mut metric = PearsonCorrCoef::<f64>::new(2).unwrap();
    update(&mut metric, &preds, &target);
    let r = array(metric.compute().unwrap());
    assert_close(r[0], 1.0, 1e-15);
    assert_close(r[1], 1.0, 1e-15);
}

#[test]
fn pearson_large_offset_matches_scipy() {
    // scipy.stats.pearsonr(OFFSET_X, OFFSET_Y).statistic
    let expected = 0.09398523035061754;
    let r = scalar(pearson_corrcoef(d1(&OFFSET_X).view(), d1(&OFFSET_Y).view()).unwrap());
    assert_close(r, expected, 1e-9);
}

#[test]
fn pearson_large_offset_split_matches_one_pass() {
    let mut whole = PearsonCorrCoef::<f64>::default();
    update(&mut whole, &d1(&OFFSET_X), &d1(&OFFSET_Y));
    let expected = scalar(whole.compute().unwrap());

    let mut single_rows = PearsonCorrCoef::<f64>::default();
    for (x, y) in OFFSET_X.iter().zip(&OFFSET_Y) {
        update(&mut single_rows, &d1(&[*x]), &d1(&[*y]));
    }
    assert_close(scalar(single_rows.compute().unwrap()), expected, 1e-12);

    let mut left = PearsonCorrCoef::<f64>::default();
    let mut right = PearsonCorrCoef::<f64>::default();
    update(&mut left, &d1(&OFFSET_X[..3]), &d1(&OFFSET_Y[..3]));
    update(&mut right, &d1(&OFFSET_X[3..]), &d1(&OFFSET_Y[3..]));
    right.merge(&left).unwrap();
    assert_close(scalar(right.compute().unwrap()), expected, 1e-12);
    assert_eq!(right.compute().unwrap(), right.compute().unwrap());
}

#[test]
fn pearson_f32_input_accumulates_in_f64() {
    let preds: ArrayD<f32> = d1(&[1.0, 2.0, 3.0, 5.0]).mapv(|x| x as f32);
    let target: ArrayD<f32> = d1(&[2.0, 4.0, 7.0, 9.0]).mapv(|x| x as f32);
    let mut metric = PearsonCorrCoef::<f32>::default();
    metric.update((preds.view(), target.view())).unwrap();
    // scipy.stats.pearsonr([1, 2, 3, 5], [2, 4, 7, 9]).statistic
    assert_close(scalar(metric.compute().unwrap()), 0.973035471890234, 1e-13);
}

#[test]
fn pearson_constant_input_is_nan() {
    let r =
        scalar(pearson_corrcoef(d1(&[1.0, 1.0, 1.0]).view(), d1(&[1.0, 2.0, 3.0]).view()).unwrap());
    assert!(r.is_nan());
}

#[test]
fn pearson_constant_output_nan_other_defined() {
    let preds = d2(&[&[1.0, 1.0], &[1.0, 2.0], &[1.0, 4.0]]);
    let target = d2(&[&[0.0, 1.0], &[1.0, 2.0], &[2.0, 3.0]]);
    let r = array(pearson_corrcoef(preds.view(), target.view()).unwrap());
    assert!(r[0].is_nan());
    // scipy.stats.pearsonr([1, 2, 4], [1, 2, 3]).statistic
    assert_close(r[1], 0.9819805060619655, 1e-13);
}

#[test]
fn pearson_one_sample_not_enough_data() {
    let mut metric = PearsonCorrCoef::<f64>::default();
    assert!(matches!(metric.compute(), Err(Error::NotEnoughData { .. })));
    update(&mut metric, &d1(&[1.0]), &d1(&[2.0]));
    assert!(matches!(metric.compute(), Err(Error::NotEnoughData { .. })));
}

#[test]
fn pearson_facts() {
    let info = PearsonCorrCoef::<f64>::default().info();
    assert_eq!(info.name, "PearsonCorrCoef");
    assert_eq!(info.higher_is_better, None);
    assert_eq!((info.lower_bound, info.upper_bound), (-1.0, 1.0));
}

// ---------------------------------------------------------------------------------------------
// ConcordanceCorrCoef

#[test]
fn concordance_matches_lin_formula() {
    // p, t = np.array(X), np.array(Y)
    // 2 * np.cov(p, t, ddof=0)[0, 1] / (p.var() + t.var() + (p.mean() - t.mean()) ** 2)
    let expected = 0.4505666519339528;
    let rho = scalar(concordance_corrcoef(d1(&X).view(), d1(&Y).view()).unwrap());
    assert_close(rho, expected, 1e-13);
}

#[test]
fn concordance_identical_inputs_is_one() {
    let rho = scalar(concordance_corrcoef(d1(&X).view(), d1(&X).view()).unwrap());
    assert_close(rho, 1.0, 1e-15);
}

#[test]
fn concordance_facts() {
    let info = ConcordanceCorrCoef::<f64>::default().info();
    assert_eq!(info.name, "ConcordanceCorrCoef");
    assert_eq!(info.higher_is_better, Some(true));
    assert_eq!((info.lower_bound, info.upper_bound), (-1.0, 1.0));
}

// ---------------------------------------------------------------------------------------------
// Validation shared by the (preds, target) metrics

#[test]
fn new_zero_outputs_rejected() {
    let error = PearsonCorrCoef::<f64>::new(0).unwrap_err();
    assert!(matches!(&error, Error::InvalidArgument { argument, .. } if argument == "num_outputs"));
}

#[test]
fn update_length_mismatch_rejected() {
    let mut metric = PearsonCorrCoef::<f64>::default();
    let error = metric
        .update((d1(&[1.0, 2.0]).view(), d1(&[1.0]).view()))
        .unwrap_err();
    assert!(matches!(
        error,
        Error::LengthMismatch {
            left_len: 2,
            right_len: 1,
            ..
        }
    ));
}

#[test]
fn update_shape_mismatch_names_target() {
    let mut metric = PearsonCorrCoef::<f64>::new(2).unwrap();
    let preds = d2(&[&[1.0, 2.0], &[3.0, 4.0]]);
    let target = d2(&[&[1.0], &[3.0]]);
    let error = metric.update((preds.view(), target.view())).unwrap_err();
    assert!(matches!(&error, Error::InvalidInput { argument, .. } if argument == "target"));
}

#[test]
fn update_num_outputs_disagreeing_rejected() {
    let mut metric = PearsonCorrCoef::<f64>::new(3).unwrap();
    let preds = d2(&[&[1.0, 2.0], &[3.0, 4.0]]);
    let error = metric.update((preds.view(), preds.view())).unwrap_err();
    assert!(matches!(&error, Error::InvalidArgument { argument, .. } if argument == "num_outputs"));

    let mut single = PearsonCorrCoef::<f64>::default();
    let error = single.update((preds.view(), preds.view())).unwrap_err();
    assert!(matches!(&error, Error::InvalidArgument { argument, .. } if argument == "num_outputs"));
}

#[test]
fn update_non_finite_names_argument_and_index() {
    let mut metric = PearsonCorrCoef::<f64>::default();
    update(&mut metric, &d1(&[1.0, 2.0]), &d1(&[1.0, 3.0]));
    let before = metric.clone();

    let error = metric
        .update((d1(&[1.0, f64::NAN]).view(), d1(&[1.0, 2.0]).view()))
        .unwrap_err();
    assert!(matches!(
        &error,
        Error::NonFinite { argument, location, .. } if argument == "preds" && location == "index 1"
    ));
    let error = metric
        .update((d1(&[1.0, 2.0]).view(), d1(&[f64::INFINITY, 2.0]).view()))
        .unwrap_err();
    assert!(matches!(&error, Error::NonFinite { argument, .. } if argument == "target"));
    assert_eq!(metric, before);
}

#[test]
fn merge_different_num_outputs_rejected() {
    let mut one = PearsonCorrCoef::<f64>::new(1).unwrap();
    let two = PearsonCorrCoef::<f64>::new(2).unwrap();
    let error = one.merge(&two).unwrap_err();
    assert!(
        matches!(&error, Error::IncompatibleState { message } if message.contains("num_outputs"))
    );
}

#[test]
fn bytes_round_trip_keeps_pearson() {
    let mut metric = PearsonCorrCoef::<f32>::new(1).unwrap();
    let preds = d1(&X).mapv(|x| x as f32);
    let target = d1(&Y).mapv(|x| x as f32);
    metric.update((preds.view(), target.view())).unwrap();

    let restored = PearsonCorrCoef::<f32>::from_bytes(&metric.to_bytes().unwrap()).unwrap();
    assert_eq!(restored, metric);
    assert!(ConcordanceCorrCoef::<f32>::from_bytes(&metric.to_bytes().unwrap()).is_err());
}

// ---------------------------------------------------------------------------------------------
// Batch-split and merge invariance

/// Splits `values` at the sorted, deduplicated `cuts`.
fn split_points(len: usize, cuts: &[usize]) -> Vec<(usize, usize)> {
    let mut points: Vec<usize> = cuts.iter().map(|cut| cut % (len + 1)).collect();
    points.push(0);
    points.push(len);
    points.sort_unstable();
    points.dedup();
    points.windows(2).map(|pair| (pair[0], pair[1])).collect()
}

/// Returns the metric's value over all rows at once, batch by batch, and merged from shards in
/// reverse order.
fn one_pass_split_merged<M>(
    metric: &M,
    preds: &Array2<f64>,
    target: &Array2<f64>,
    cuts: &[usize],
) -> [Value; 3]
where
    M: Metric<Kind = PredsTarget<f64>, Output = Value>,
{
    let squeeze = |rows: Array2<f64>| -> ArrayD<f64> {
        if rows.ncols() == 1 {
            rows.column(0).to_owned().into_dyn()
        } else {
            rows.into_dyn()
        }
    };
    let mut whole = metric.empty();
    update(
        &mut whole,
        &squeeze(preds.clone()),
        &squeeze(target.clone()),
    );

    let mut batched = metric.empty();
    let mut merged = metric.empty();
    for (start, end) in split_points(preds.nrows(), cuts).into_iter().rev() {
        let p = squeeze(preds.slice(ndarray::s![start..end, ..]).to_owned());
        let t = squeeze(target.slice(ndarray::s![start..end, ..]).to_owned());
        update(&mut batched, &p, &t);
        let mut shard = metric.empty();
        update(&mut shard, &p, &t);
        let shard = M::from_bytes(&shard.to_bytes().unwrap()).unwrap();
        merged.merge(&shard).unwrap();
    }
    [
        whole.compute().unwrap(),
        batched.compute().unwrap(),
        merged.compute().unwrap(),
    ]
}

fn values_of(value: &Value) -> Vec<f64> {
    match value {
        Value::Scalar(x) => vec![*x],
        Value::Array(values) => values.iter().copied().collect(),
        Value::Map(_) => panic!("unexpected map"),
    }
}

fn assert_same_values(
    expected: &Value,
    actual: &Value,
    tolerance: f64,
) -> Result<(), TestCaseError> {
    for (e, a) in values_of(expected).iter().zip(values_of(actual)) {
        if e.is_nan() {
            prop_assert!(a.is_nan(), "expected NaN, got {a}");
        } else {
            prop_assert!(
                (e - a).abs() <= tolerance * e.abs().max(1.0),
                "{e:e} vs {a:e}"
            );
        }
    }
    Ok(())
}

/// Rows of two outputs with a large offset on the first output.
fn rows_strategy() -> impl Strategy<Value = (Array2<f64>, Array2<f64>, Vec<usize>)> {
    (2_usize..40).prop_flat_map(|n| {
        (
            prop::collection::vec(
                (-1.0..1.0_f64, -1.0..1.0_f64, -5.0..5.0_f64, -5.0..5.0_f64),
                n,
            ),
            prop::collection::vec(0_usize..64, 0..6),
        )
            .prop_map(|(rows, cuts)| {
                let preds = Array2::from_shape_fn((rows.len(), 2), |(i, j)| {
                    if j == 0 {
                        1e6 + 1e-3 * rows[i].0
                    } else {
                        rows[i].2
                    }
                });
                let target = Array2::from_shape_fn((rows.len(), 2), |(i, j)| {
                    if j == 0 {
                        1e6 + 1e-3 * (rows[i].0 + rows[i].1)
                    } else {
                        rows[i].3
                    }
                });
                (preds, target, cuts)
            })
    })
}

proptest! {
    #[test]
    fn pearson_split_merge_invariant((preds, target, cuts) in rows_strategy()) {
        let [whole, batched, merged] =
            one_pass_split_merged(&PearsonCorrCoef::<f64>::new(2).unwrap(), &preds, &target, &cuts);
        assert_same_values(&whole, &batched, 1e-12)?;
        assert_same_values(&whole, &merged, 1e-12)?;
    }

    #[test]
    fn concordance_split_merge_invariant((preds, target, cuts) in rows_strategy()) {
        let [whole, batched, merged] = one_pass_split_merged(
            &ConcordanceCorrCoef::<f64>::new(2).unwrap(), &preds, &target, &cuts);
        assert_same_values(&whole, &batched, 1e-12)?;
        assert_same_values(&whole, &merged, 1e-12)?;
    }
}
