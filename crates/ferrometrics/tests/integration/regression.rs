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
fn pearson_extreme_magnitudes() {
    // scipy.stats.pearsonr([1, 2, 3], [1, 2, 4])[0] == 0.9819805060619655, at any scale of x
    for scale in [1e300, 1e200, 1e155, 1e-160, 1e-170, 1e-300] {
        let preds = d1(&[scale, 2.0 * scale, 3.0 * scale]);
        let target = d1(&[1.0, 2.0, 4.0]);
        let r = scalar(pearson_corrcoef(preds.view(), target.view()).unwrap());
        assert_close(r, 0.981_980_506_061_965_5, 1e-15);
        let mut metric = PearsonCorrCoef::<f64>::default();
        update(&mut metric, &d1(&[1.0]), &d1(&[1.0]));
        update(
            &mut metric,
            &d1(&[2.0 * scale, 3.0 * scale]),
            &d1(&[2.0, 4.0]),
        );
        let one_pass = pearson_corrcoef(
            d1(&[1.0, 2.0 * scale, 3.0 * scale]).view(),
            d1(&[1.0, 2.0, 4.0]).view(),
        );
        let one_pass = scalar(one_pass.unwrap());
        assert!(one_pass.is_finite(), "{scale}: {one_pass}");
        assert_close(scalar(metric.compute().unwrap()), one_pass, 1e-12);
    }
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
    assert_close(r, expected, 1e-13);
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
// WeightedPearsonCorrCoef

fn weighted_pearson(preds: &[f64], target: &[f64], weights: &[f64]) -> ferrometrics::Result<Value> {
    let (p, t, w) = (
        d1(preds),
        d1(target),
        ndarray::Array1::from(weights.to_vec()),
    );
    weighted_pearson_corrcoef(p.view(), t.view(), w.view())
}

#[test]
fn weighted_pearson_matches_numpy() {
    // c = np.cov(X, Y, aweights=W); c[0, 1] / np.sqrt(c[0, 0] * c[1, 1]) with
    // W = np.abs(X) + np.abs(Y), then with W = np.arange(12) % 3 (zero weights included)
    let weights: Vec<f64> = X.iter().zip(&Y).map(|(x, y)| x.abs() + y.abs()).collect();
    let r = scalar(weighted_pearson(&X, &Y, &weights).unwrap());
    assert_close(r, 0.6164097506682902, 1e-14);

    let weights: Vec<f64> = (0..12).map(|i| f64::from(i % 3)).collect();
    let r = scalar(weighted_pearson(&X, &Y, &weights).unwrap());
    assert_close(r, 0.7286583780801092, 1e-14);
}

#[test]
fn weighted_pearson_unit_weights_is_pearson() {
    let r = scalar(weighted_pearson(&X, &Y, &[1.0; 12]).unwrap());
    assert_close(r, 0.5422760727012977, 1e-14);
}

#[test]
fn weighted_pearson_zero_weights_is_nan() {
    let r = scalar(weighted_pearson(&X, &Y, &[0.0; 12]).unwrap());
    assert!(r.is_nan());
}

#[test]
fn weighted_pearson_invalid_weights_rejected() {
    let error = weighted_pearson(&X[..2], &Y[..2], &[1.0, -1.0]).unwrap_err();
    assert!(matches!(&error, Error::InvalidInput { argument, .. } if argument == "weights"));
    let error = weighted_pearson(&X[..2], &Y[..2], &[1.0, f64::NAN]).unwrap_err();
    assert!(matches!(&error, Error::NonFinite { argument, .. } if argument == "weights"));
    let error = weighted_pearson(&X[..2], &Y[..2], &[1.0]).unwrap_err();
    assert!(matches!(error, Error::LengthMismatch { .. }));

    let mut metric = WeightedPearsonCorrCoef::<f64>::default();
    let weights = d2(&[&[1.0], &[1.0]]);
    let error = metric
        .update((d1(&X[..2]).view(), d1(&Y[..2]).view(), weights.view()))
        .unwrap_err();
    assert!(matches!(&error, Error::InvalidInput { argument, .. } if argument == "weights"));
    assert!(matches!(metric.compute(), Err(Error::NotEnoughData { .. })));
}

#[test]
fn weighted_pearson_split_and_bytes() {
    let weights: Vec<f64> = X.iter().zip(&Y).map(|(x, y)| x.abs() + y.abs()).collect();
    let mut whole = WeightedPearsonCorrCoef::<f64>::default();
    whole
        .update((d1(&X).view(), d1(&Y).view(), d1(&weights).view()))
        .unwrap();

    let mut merged = WeightedPearsonCorrCoef::<f64>::default();
    for (start, end) in [(0, 1), (1, 5), (5, 12)] {
        let mut shard = WeightedPearsonCorrCoef::<f64>::default();
        let batch = (
            d1(&X[start..end]),
            d1(&Y[start..end]),
            d1(&weights[start..end]),
        );
        shard
            .update((batch.0.view(), batch.1.view(), batch.2.view()))
            .unwrap();
        let shard = WeightedPearsonCorrCoef::<f64>::from_bytes(&shard.to_bytes().unwrap()).unwrap();
        merged.merge(&shard).unwrap();
    }
    assert_close(
        scalar(merged.compute().unwrap()),
        scalar(whole.compute().unwrap()),
        1e-14,
    );
    assert!(merged
        .merge(&WeightedPearsonCorrCoef::new(2).unwrap())
        .is_err());
    assert_eq!(whole.info().name, "WeightedPearsonCorrCoef");
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
// Shared reference data of the mean errors and scores. With numpy:
// P2 = np.stack([X, Y], 1), T2 = np.stack([Y, 0.5 * X + 0.1], 1), PP = np.exp(X), PT = np.exp(Y).

fn p2() -> ArrayD<f64> {
    let rows: Vec<[f64; 2]> = X.iter().zip(&Y).map(|(x, y)| [*x, *y]).collect();
    Array2::from(rows).into_dyn()
}

fn t2() -> ArrayD<f64> {
    let rows: Vec<[f64; 2]> = X.iter().zip(&Y).map(|(x, y)| [*y, 0.5 * x + 0.1]).collect();
    Array2::from(rows).into_dyn()
}

fn exp_of(values: &[f64]) -> ArrayD<f64> {
    d1(values).mapv(f64::exp)
}

fn assert_all_close(actual: &[f64], expected: &[f64], tolerance: f64) {
    assert_eq!(actual.len(), expected.len());
    for (a, e) in actual.iter().zip(expected) {
        assert_close(*a, *e, tolerance);
    }
}

// ---------------------------------------------------------------------------------------------
// MeanSquaredError, MeanAbsoluteError and the other mean errors

#[test]
fn mse_multioutput_matches_sklearn() {
    // sklearn.metrics.mean_squared_error(T2, P2, multioutput="raw_values")
    let expected = [0.39095215083333335, 0.3622622387499999];
    let mse = array(mean_squared_error(p2().view(), t2().view(), true, 2).unwrap());
    assert_all_close(&mse, &expected, 1e-14);
}

#[test]
fn rmse_matches_sklearn() {
    // sklearn.metrics.root_mean_squared_error(Y, X)
    let rmse = scalar(mean_squared_error(d1(&X).view(), d1(&Y).view(), false, 1).unwrap());
    assert_close(rmse, 0.6252616658914356, 1e-14);
}

#[test]
fn mse_flattens_single_output() {
    let mse = scalar(mean_squared_error(p2().view(), t2().view(), true, 1).unwrap());
    // The mean of the two raw values above, one flattened output.
    assert_close(mse, (0.39095215083333335 + 0.3622622387499999) / 2.0, 1e-14);
}

#[test]
fn mse_merge_rejects_other_squared() {
    let mut squared = MeanSquaredError::<f64>::new(true, 1).unwrap();
    let root = MeanSquaredError::<f64>::new(false, 1).unwrap();
    let error = squared.merge(&root).unwrap_err();
    assert!(matches!(&error, Error::IncompatibleState { message } if message.contains("squared")));
}

#[test]
fn mse_empty_not_enough_data() {
    let metric = MeanSquaredError::<f64>::default();
    assert!(matches!(metric.compute(), Err(Error::NotEnoughData { .. })));
}

#[test]
fn mae_multioutput_matches_sklearn() {
    // sklearn.metrics.mean_absolute_error(T2, P2, multioutput="raw_values")
    let expected = [0.4950583333333334, 0.49081666666666673];
    let mae = array(mean_absolute_error(p2().view(), t2().view(), 2).unwrap());
    assert_all_close(&mae, &expected, 1e-14);
}

#[test]
fn msle_matches_sklearn() {
    // sklearn.metrics.mean_squared_log_error(PT, PP)
    let msle = mean_squared_log_error(exp_of(&X).view(), exp_of(&Y).view()).unwrap();
    assert_close(msle, 0.1003345067531612, 1e-13);
}

#[test]
fn msle_value_at_minus_one_rejected() {
    let mut metric = MeanSquaredLogError::<f64>::new();
    let error = metric
        .update((d1(&[0.5, -1.0]).view(), d1(&[1.0, 1.0]).view()))
        .unwrap_err();
    assert!(matches!(&error, Error::InvalidInput { argument, .. } if argument == "preds"));
    let error = metric
        .update((d1(&[0.5, 1.0]).view(), d1(&[-2.0, 1.0]).view()))
        .unwrap_err();
    assert!(matches!(&error, Error::InvalidInput { argument, .. } if argument == "target"));
    assert!(metric.compute().is_err());
}

#[test]
fn log_cosh_matches_numpy() {
    // np.mean(np.log(np.cosh(X - Y)))
    let error = scalar(log_cosh_error(d1(&X).view(), d1(&Y).view()).unwrap());
    assert_close(error, 0.17338963675487482, 1e-14);
}

#[test]
fn log_cosh_large_error_finite() {
    // ln(cosh(1000)) = 1000 - ln 2 to double precision, where cosh itself overflows.
    let error = scalar(log_cosh_error(d1(&[1000.0]).view(), d1(&[0.0]).view()).unwrap());
    assert_close(error, 1000.0 - std::f64::consts::LN_2, 1e-15);
}

#[test]
fn mape_matches_sklearn() {
    // sklearn.metrics.mean_absolute_percentage_error(Y, X)
    let mape = mean_absolute_percentage_error(d1(&X).view(), d1(&Y).view()).unwrap();
    assert_close(mape, 1.6535352778318124, 1e-14);
}

#[test]
fn mape_zero_target_uses_epsilon_floor() {
    // sklearn.metrics.mean_absolute_percentage_error([0.0], [1.0]) == 1 / np.finfo(float).eps
    let mape = mean_absolute_percentage_error(d1(&[1.0]).view(), d1(&[0.0]).view()).unwrap();
    assert_eq!(mape, 1.0 / f64::EPSILON);
}

#[test]
fn smape_both_zero_is_zero() {
    let smape = symmetric_mean_absolute_percentage_error(d1(&[0.0]).view(), d1(&[0.0]).view());
    assert_eq!(smape.unwrap(), 0.0);
}

#[test]
fn wmape_matches_definition() {
    // np.sum(np.abs(X - Y)) / np.sum(np.abs(Y))
    let expected = X.iter().zip(&Y).map(|(x, y)| (x - y).abs()).sum::<f64>()
        / Y.iter().map(|y| y.abs()).sum::<f64>();
    let wmape = weighted_mean_absolute_percentage_error(d1(&X).view(), d1(&Y).view()).unwrap();
    assert_close(wmape, expected, 1e-14);
}

#[test]
fn minkowski_matches_scipy() {
    // scipy.spatial.distance.minkowski(X, Y, 1.5)
    let distance = minkowski_distance(d1(&X).view(), d1(&Y).view(), 1.5).unwrap();
    assert_close(distance, 2.984418198624354, 1e-14);
}

#[test]
fn minkowski_torchmetrics_example() {
    // TorchMetrics' docs: preds [0, 1, 2, 3], target [0, 2, 3, 1], p=5 give tensor(2.0244),
    // which is 34 ** (1 / 5).
    let preds = d1(&[0.0, 1.0, 2.0, 3.0]);
    let target = d1(&[0.0, 2.0, 3.0, 1.0]);
    let distance = minkowski_distance(preds.view(), target.view(), 5.0).unwrap();
    assert_close(distance, 34.0_f64.powf(0.2), 1e-15);
    assert!((distance - 2.0244).abs() < 5e-5);
}

#[test]
fn minkowski_large_p_stays_finite() {
    // For p = 1000 the distance is within 2^(1/1000) of the largest difference; scipy's
    // distance.minkowski([10, 0], [0, 0], 1000) overflows to inf.
    let distance = minkowski_distance(d1(&[10.0, 0.0]).view(), d1(&[0.0, 0.0]).view(), 1000.0);
    assert_eq!(distance.unwrap(), 10.0);
    // distance.minkowski([0.5, 0.5], [0, 0], 1000) == 0.5 * 2 ** (1 / 1000)
    let distance = minkowski_distance(d1(&[0.5, 0.5]).view(), d1(&[0.0, 0.0]).view(), 1000.0);
    assert_close(distance.unwrap(), 0.5 * 2f64.powf(0.001), 1e-15);
    // Batches of different largest differences merge to the one-pass value.
    let (preds, target) = (d1(&[3.0, 1e-3, 250.0, 7.5]), d1(&[0.0, 0.0, 0.0, 0.0]));
    for p in [1.0, 2.0, 3.5, 1000.0] {
        let one_pass = minkowski_distance(preds.view(), target.view(), p).unwrap();
        let mut metric = MinkowskiDistance::<f64>::new(p).unwrap();
        for i in 0..4 {
            let row = ndarray::s![i..=i];
            let (x, y) = (preds.slice(row).to_owned(), target.slice(row).to_owned());
            update(&mut metric, &x.into_dyn(), &y.into_dyn());
        }
        assert_close(metric.compute().unwrap(), one_pass, 1e-14);
    }
}

#[test]
fn minkowski_invalid_p_rejected() {
    for p in [0.0, 0.99, f64::NAN, f64::INFINITY, -1.0] {
        let error = MinkowskiDistance::<f64>::new(p).unwrap_err();
        assert!(matches!(&error, Error::InvalidArgument { argument, .. } if argument == "p"));
    }
}

#[test]
fn minkowski_merge_rejects_other_p() {
    let mut manhattan = MinkowskiDistance::<f64>::new(1.0).unwrap();
    let euclidean = MinkowskiDistance::<f64>::new(2.0).unwrap();
    assert!(matches!(
        manhattan.merge(&euclidean),
        Err(Error::IncompatibleState { .. })
    ));
}

#[test]
fn mean_error_facts() {
    let infos = [
        MeanSquaredError::<f64>::default().info(),
        MeanAbsoluteError::<f64>::default().info(),
        MeanSquaredLogError::<f64>::default().info(),
        LogCoshError::<f64>::default().info(),
        MeanAbsolutePercentageError::<f64>::default().info(),
        SymmetricMeanAbsolutePercentageError::<f64>::default().info(),
        WeightedMeanAbsolutePercentageError::<f64>::default().info(),
        MinkowskiDistance::<f64>::new(2.0).unwrap().info(),
        TweedieDevianceScore::<f64>::default().info(),
        RelativeSquaredError::<f64>::default().info(),
        ContinuousRankedProbabilityScore::<f64>::default().info(),
    ];
    for info in infos {
        assert_eq!(info.higher_is_better, Some(false), "{}", info.name);
        assert_eq!(info.lower_bound, 0.0, "{}", info.name);
    }
    assert_eq!(
        SymmetricMeanAbsolutePercentageError::<f64>::default()
            .info()
            .upper_bound,
        2.0
    );
}

// ---------------------------------------------------------------------------------------------
// TweedieDevianceScore

#[test]
fn tweedie_matches_sklearn_for_each_power() {
    // sklearn.metrics.mean_tweedie_deviance(PT, PP, power=p)
    let cases = [
        (-1.0, 1.8894924970836549),
        (0.0, 0.7500875820060782),
        (1.0, 0.3927275623477237),
        (1.5, 0.3327838308647965),
        (2.0, 0.3177943874603462),
        (3.0, 0.3955773963943574),
    ];
    for (power, expected) in cases {
        let deviance = tweedie_deviance_score(exp_of(&X).view(), exp_of(&Y).view(), power).unwrap();
        assert_close(deviance, expected, 1e-12);
    }
}

#[test]
fn tweedie_torchmetrics_example() {
    // TorchMetrics' docs: preds [4, 3, 2, 1], targets [1, 2, 3, 4], power=2 give tensor(1.2083);
    // sklearn.metrics.mean_tweedie_deviance([1, 2, 3, 4], [4, 3, 2, 1], power=2) is
    // 1.2083333333333333.
    let preds = d1(&[4.0, 3.0, 2.0, 1.0]);
    let target = d1(&[1.0, 2.0, 3.0, 4.0]);
    let deviance = tweedie_deviance_score(preds.view(), target.view(), 2.0).unwrap();
    assert_close(deviance, 1.2083333333333333, 1e-15);
}

#[test]
fn tweedie_power_between_zero_and_one_rejected() {
    for power in [0.5, f64::NAN] {
        let error = TweedieDevianceScore::<f64>::new(power).unwrap_err();
        assert!(matches!(&error, Error::InvalidArgument { argument, .. } if argument == "power"));
    }
}

#[test]
fn tweedie_domain_violations_rejected() {
    let cases = [
        (1.0, [0.0, 1.0], [1.0, 1.0], "preds"),
        (1.0, [1.0, 1.0], [-1.0, 1.0], "target"),
        (2.0, [1.0, 1.0], [0.0, 1.0], "target"),
        (-1.0, [-1.0, 1.0], [1.0, 1.0], "preds"),
    ];
    for (power, preds, target, argument_name) in cases {
        let mut metric = TweedieDevianceScore::<f64>::new(power).unwrap();
        let error = metric
            .update((d1(&preds).view(), d1(&target).view()))
            .unwrap_err();
        assert!(
            matches!(&error, Error::InvalidInput { argument, .. } if argument == argument_name),
            "power {power}: {error}"
        );
    }
}

#[test]
fn tweedie_poisson_zero_target_allowed() {
    // sklearn.metrics.mean_tweedie_deviance([0.0], [2.0], power=1) == 2 * 2
    let deviance = tweedie_deviance_score(d1(&[2.0]).view(), d1(&[0.0]).view(), 1.0).unwrap();
    assert_close(deviance, 4.0, 1e-15);
}

// ---------------------------------------------------------------------------------------------
// R2Score, ExplainedVariance, RelativeSquaredError, NormalizedRootMeanSquaredError

#[test]
fn r2_matches_sklearn_for_each_multioutput() {
    // sklearn.metrics.r2_score(T2, P2, multioutput=...)
    let raw = array(r2_score(p2().view(), t2().view(), 0, Multioutput::RawValues).unwrap());
    assert_all_close(&raw, &[-0.799433723271175, -2.6027689638439946], 1e-13);
    let uniform =
        scalar(r2_score(p2().view(), t2().view(), 0, Multioutput::UniformAverage).unwrap());
    assert_close(uniform, -1.7011013435575848, 1e-13);
    let weighted =
        scalar(r2_score(p2().view(), t2().view(), 0, Multioutput::VarianceWeighted).unwrap());
    assert_close(weighted, -1.3699770944152094, 1e-13);
}

#[test]
fn r2_torchmetrics_adjusted_example() {
    // r = sklearn.metrics.r2_score([3, -0.5, 2, 7], [2.5, 0, 2, 8]); 1 - (1 - r) * 3 / 2
    let preds = d1(&[2.5, 0.0, 2.0, 8.0]);
    let target = d1(&[3.0, -0.5, 2.0, 7.0]);
    let r2 = scalar(r2_score(preds.view(), target.view(), 1, Multioutput::UniformAverage).unwrap());
    assert_close(r2, 0.9229122055674519, 1e-14);
}

#[test]
fn r2_adjusted_too_many_regressors_rejected() {
    let preds = d1(&[2.5, 0.0, 2.0, 8.0]);
    let target = d1(&[3.0, -0.5, 2.0, 7.0]);
    let error = r2_score(preds.view(), target.view(), 3, Multioutput::UniformAverage).unwrap_err();
    assert!(matches!(error, Error::NotEnoughData { .. }));
}

#[test]
fn r2_constant_target_follows_sklearn() {
    // sklearn.metrics.r2_score([1, 1], [1, 1]) == 1.0 and r2_score([1, 1], [1, 2]) == 0.0
    let ones = d1(&[1.0, 1.0]);
    let exact = scalar(r2_score(ones.view(), ones.view(), 0, Multioutput::UniformAverage).unwrap());
    assert_eq!(exact, 1.0);
    let off = d1(&[1.0, 2.0]);
    let missed = scalar(r2_score(off.view(), ones.view(), 0, Multioutput::UniformAverage).unwrap());
    assert_eq!(missed, 0.0);
}

#[test]
fn r2_small_scale_target_not_rounded_to_constant() {
    // sklearn.metrics.r2_score([0.001, 0.002, 0.004], [0.001, 0.002, 0.003])
    let preds = d1(&[0.001, 0.002, 0.003]);
    let target = d1(&[0.001, 0.002, 0.004]);
    let r2 = r2_score(preds.view(), target.view(), 0, Multioutput::UniformAverage).unwrap();
    assert_close(scalar(r2), 0.7857142857142858, 1e-14);
}

#[test]
fn r2_one_sample_not_enough_data() {
    let error = r2_score(
        d1(&[1.0]).view(),
        d1(&[2.0]).view(),
        0,
        Multioutput::UniformAverage,
    );
    assert!(matches!(error, Err(Error::NotEnoughData { .. })));
}

#[test]
fn relative_squared_error_one_sample_not_enough_data() {
    for squared in [true, false] {
        let error = relative_squared_error(d1(&[1.0]).view(), d1(&[2.0]).view(), squared, 1);
        assert!(
            matches!(error, Err(Error::NotEnoughData { .. })),
            "{error:?}"
        );
    }
    let two = relative_squared_error(d1(&[1.0, 2.0]).view(), d1(&[2.0, 4.0]).view(), true, 1);
    // 1 - sklearn.metrics.r2_score([2, 4], [1, 2]) == 2.5
    assert_close(two.unwrap(), 2.5, 1e-15);
}

#[test]
fn r2_column_count_change_rejected() {
    let mut metric = R2Score::<f64>::default();
    update(&mut metric, &p2(), &t2());
    let before = metric.clone();
    let error = metric.update((d1(&X).view(), d1(&Y).view())).unwrap_err();
    assert!(matches!(&error, Error::InvalidInput { argument, .. } if argument == "preds"));
    assert_eq!(metric, before);

    let cube = ArrayD::from_shape_vec(IxDyn(&[1, 1, 2]), vec![1.0, 2.0]).unwrap();
    let error = metric.update((cube.view(), cube.view())).unwrap_err();
    assert!(matches!(&error, Error::InvalidInput { argument, .. } if argument == "preds"));
}

#[test]
fn r2_merge_rejects_other_config() {
    let mut plain = R2Score::<f64>::default();
    let adjusted = R2Score::<f64>::new(1, Multioutput::UniformAverage);
    assert!(matches!(
        plain.merge(&adjusted),
        Err(Error::IncompatibleState { .. })
    ));
    let raw = R2Score::<f64>::new(0, Multioutput::RawValues);
    assert!(matches!(
        plain.merge(&raw),
        Err(Error::IncompatibleState { .. })
    ));
}

#[test]
fn explained_variance_matches_sklearn() {
    // sklearn.metrics.explained_variance_score(T2, P2, multioutput=...)
    let raw = array(explained_variance(p2().view(), t2().view(), Multioutput::RawValues).unwrap());
    assert_all_close(&raw, &[-0.37558548233100497, -0.5665029302490927], 1e-13);
    let weighted = scalar(
        explained_variance(p2().view(), t2().view(), Multioutput::VarianceWeighted).unwrap(),
    );
    assert_close(weighted, -0.4359883857372522, 1e-13);
}

#[test]
fn explained_variance_torchmetrics_multioutput_example() {
    // TorchMetrics' docs: target [[0.5, 1], [-1, 1], [7, -6]], preds [[0, 2], [-1, 2], [8, -5]],
    // multioutput="raw_values" gives tensor([0.9677, 1.0000]).
    let preds = d2(&[&[0.0, 2.0], &[-1.0, 2.0], &[8.0, -5.0]]);
    let target = d2(&[&[0.5, 1.0], &[-1.0, 1.0], &[7.0, -6.0]]);
    let raw =
        array(explained_variance(preds.view(), target.view(), Multioutput::RawValues).unwrap());
    assert!((raw[0] - 0.9677).abs() < 5e-5);
    assert_close(raw[1], 1.0, 1e-15);
}

#[test]
fn relative_squared_error_matches_numpy() {
    // np.sum((Y - X) ** 2) / np.sum((Y - Y.mean()) ** 2) and its square root
    let rse = relative_squared_error(d1(&X).view(), d1(&Y).view(), true, 1).unwrap();
    assert_close(rse, 1.7994337232711748, 1e-13);
    let root = relative_squared_error(d1(&X).view(), d1(&Y).view(), false, 1).unwrap();
    assert_close(root, 1.3414297310225292, 1e-13);
}

#[test]
fn nrmse_matches_numpy_for_each_normalization() {
    // rmse = np.sqrt(np.mean((Y - X) ** 2)); rmse / Y.mean(), rmse / np.ptp(Y),
    // rmse / Y.std(), rmse / np.linalg.norm(Y)
    let cases = [
        (Normalization::Mean, -1.5572172738719523),
        (Normalization::Range, 0.3992730944389755),
        (Normalization::Std, 1.3414297310225292),
        (Normalization::L2, 0.29339052836803975),
    ];
    for (normalization, expected) in cases {
        let value =
            normalized_root_mean_squared_error(d1(&X).view(), d1(&Y).view(), normalization, 1);
        assert_close(scalar(value.unwrap()), expected, 1e-13);
    }
}

#[test]
fn nrmse_cancelling_mean_split_matches_one_pass() {
    // The target mean, -8e-5, is 5e4 times smaller than the spread, so the "mean" normalization
    // is ill-conditioned and shows any precision lost by the merge.
    let target = [
        -4.353507696939659,
        -3.493408528526964,
        -2.51760544958312,
        -4.2672851852578075,
        0.20342777927708247,
        2.565177568895236,
        4.004590761373571,
        3.863899615964548,
        1.4702472511936846,
        -4.379111838740342,
        0.7430104203774548,
        -1.3894907114163404,
        4.2525136548575535,
        -3.227396995832495,
        -1.8632957088283624,
        2.1814373759501593,
        4.494242010729596,
        0.717618695942943,
        -0.3178915857174495,
        -3.9880322937682995,
        -1.5360580959045076,
        -2.5046778800522533,
        3.6315205646764506,
        2.7421547139713307,
        1.4999375439691143,
        0.36830889064676925,
        0.748552762914119,
        -2.3726625467943236,
        2.6067066787931976,
        1.220095347939742,
        -1.109997039402349,
    ];
    let target = Array2::from_shape_vec((31, 1), target.to_vec()).unwrap();
    let preds = Array2::zeros((31, 1));
    let metric = NormalizedRootMeanSquaredError::<f64>::new(Normalization::Mean, 1).unwrap();
    for cuts in [vec![17], vec![1, 2, 3, 30], (0..31).collect()] {
        let [whole, batched, merged] = one_pass_split_merged(&metric, &preds, &target, &cuts);
        let expected = scalar(whole);
        assert_close(scalar(batched), expected, 1e-14);
        assert_close(scalar(merged), expected, 1e-14);
    }
}

#[test]
fn nrmse_torchmetrics_multioutput_example() {
    // TorchMetrics' docs: normalization="mean", num_outputs=2 gives tensor([0.2981, 0.2222]).
    let preds = d2(&[&[0.0, 1.0], &[2.0, 3.0], &[4.0, 5.0], &[6.0, 7.0]]);
    let target = d2(&[&[0.0, 1.0], &[3.0, 3.0], &[4.0, 5.0], &[8.0, 9.0]]);
    let value =
        normalized_root_mean_squared_error(preds.view(), target.view(), Normalization::Mean, 2);
    let values = array(value.unwrap());
    assert!((values[0] - 0.2981).abs() < 5e-5);
    assert!((values[1] - 0.2222).abs() < 5e-5);
}

#[test]
fn options_parse_and_reject() {
    assert_eq!(
        "variance_weighted".parse::<Multioutput>(),
        Ok(Multioutput::VarianceWeighted)
    );
    assert_eq!("range".parse::<Normalization>(), Ok(Normalization::Range));
    assert_eq!("mean".parse::<Reduction>(), Ok(Reduction::Mean));
    let error = "median".parse::<Multioutput>().unwrap_err();
    assert!(matches!(&error, Error::InvalidArgument { argument, .. } if argument == "multioutput"));
    let error = "max".parse::<Normalization>().unwrap_err();
    assert!(
        matches!(&error, Error::InvalidArgument { argument, .. } if argument == "normalization")
    );
    let error = "avg".parse::<Reduction>().unwrap_err();
    assert!(matches!(&error, Error::InvalidArgument { argument, .. } if argument == "reduction"));
}

#[test]
fn score_facts() {
    let r2 = R2Score::<f64>::default().info();
    assert_eq!(
        (r2.name, r2.higher_is_better, r2.upper_bound),
        ("R2Score", Some(true), 1.0)
    );
    let ev = ExplainedVariance::<f64>::default().info();
    assert_eq!((ev.higher_is_better, ev.upper_bound), (Some(true), 1.0));
    let nrmse = NormalizedRootMeanSquaredError::<f64>::default().info();
    assert_eq!(nrmse.higher_is_better, Some(false));
}

// ---------------------------------------------------------------------------------------------
// CosineSimilarity, KLDivergence, JensenShannonDivergence

// A = np.abs(P2) + 0.01, B = np.abs(T2) + 0.02
fn distribution_a() -> ArrayD<f64> {
    p2().mapv(|x| x.abs() + 0.01)
}

fn distribution_b() -> ArrayD<f64> {
    t2().mapv(|x| x.abs() + 0.02)
}

#[test]
fn cosine_rows_match_scipy() {
    // [1 - scipy.spatial.distance.cosine(P2[i], T2[i]) for i in range(12)]
    let expected = [
        0.8935853053723417,
        -0.9989127337698802,
        0.9305884702471489,
        0.6459814839248527,
        0.550093202176405,
        0.970055341219394,
        -0.20539166277606524,
        0.31692463222063905,
        0.48302801256507955,
        0.9656791483668689,
        -0.9826915077750333,
        0.9946962234185468,
    ];
    let rows = array(cosine_similarity(p2().view(), t2().view(), Reduction::None).unwrap());
    assert_all_close(&rows, &expected, 1e-14);
    let sum = scalar(cosine_similarity(p2().view(), t2().view(), Reduction::Sum).unwrap());
    assert_close(sum, expected.iter().sum(), 1e-13);
    let mean = scalar(cosine_similarity(p2().view(), t2().view(), Reduction::Mean).unwrap());
    assert_close(mean, expected.iter().sum::<f64>() / 12.0, 1e-13);
}

#[test]
fn cosine_torchmetrics_example() {
    // TorchMetrics' docs: reduction="none" gives tensor([1.0000, -1.0000]).
    let target = d2(&[&[1.0, 2.0, 3.0, 4.0], &[1.0, 2.0, 3.0, 4.0]]);
    let preds = d2(&[&[1.0, 2.0, 3.0, 4.0], &[-1.0, -2.0, -3.0, -4.0]]);
    let rows = array(cosine_similarity(preds.view(), target.view(), Reduction::None).unwrap());
    assert_close(rows[0], 1.0, 1e-15);
    assert_close(rows[1], -1.0, 1e-15);
}

#[test]
fn cosine_zero_row_is_nan() {
    let rows = array(
        cosine_similarity(
            d2(&[&[0.0, 0.0]]).view(),
            d2(&[&[1.0, 2.0]]).view(),
            Reduction::None,
        )
        .unwrap(),
    );
    assert!(rows[0].is_nan());
}

#[test]
fn cosine_extreme_magnitudes_finite() {
    let preds = d2(&[&[3e200, 4e200], &[3e-200, 4e-200]]);
    let target = d2(&[&[4e200, 3e200], &[4e-200, 3e-200]]);
    let rows = array(cosine_similarity(preds.view(), target.view(), Reduction::None).unwrap());
    // cos = (12 + 12) / (5 * 5) for both rows, whatever the scale.
    assert_close(rows[0], 0.96, 1e-15);
    assert_close(rows[1], 0.96, 1e-15);
}

#[test]
fn cosine_one_dimensional_input_rejected() {
    let error = cosine_similarity(d1(&X).view(), d1(&Y).view(), Reduction::Sum).unwrap_err();
    assert!(matches!(&error, Error::InvalidInput { argument, .. } if argument == "preds"));
}

#[test]
fn kl_rows_match_scipy() {
    // [scipy.stats.entropy(A[i], B[i]) for i in range(12)]
    let expected = [
        0.12698720184474593,
        0.0009138981499164991,
        0.07857508201812674,
        0.445525108335726,
        0.7738939898522663,
        0.033176439702609584,
        1.5942753865162194,
        1.1723020269837592,
        0.9474190336298391,
        0.03772334871954834,
        0.016934858159034158,
        0.004733367851689499,
    ];
    let rows = array(
        kl_divergence(
            distribution_a().view(),
            distribution_b().view(),
            false,
            Reduction::None,
        )
        .unwrap(),
    );
    assert_all_close(&rows, &expected, 1e-12);
}

#[test]
fn kl_log_prob_matches_probabilities() {
    let normalize = |values: ArrayD<f64>| -> ArrayD<f64> {
        let mut values = values;
        for mut row in values.outer_iter_mut() {
            let total: f64 = row.sum();
            row.mapv_inplace(|x| x / total);
        }
        values
    };
    let p = normalize(distribution_a());
    let q = normalize(distribution_b());
    let direct = scalar(kl_divergence(p.view(), q.view(), false, Reduction::Mean).unwrap());
    let (log_p, log_q) = (p.mapv(f64::ln), q.mapv(f64::ln));
    let logged = scalar(kl_divergence(log_p.view(), log_q.view(), true, Reduction::Mean).unwrap());
    assert_close(logged, direct, 1e-12);
}

#[test]
fn divergences_log_prob_accept_zero_probability() {
    let p = d2(&[&[0.0, 0.25, 0.75]]);
    let q = d2(&[&[0.5, 0.25, 0.25]]);
    let (log_p, log_q) = (p.mapv(f64::ln), q.mapv(f64::ln));
    assert_eq!(log_p[[0, 0]], f64::NEG_INFINITY);

    let direct = scalar(kl_divergence(p.view(), q.view(), false, Reduction::Sum).unwrap());
    let logged = scalar(kl_divergence(log_p.view(), log_q.view(), true, Reduction::Sum).unwrap());
    assert_close(logged, direct, 1e-14);

    let reverse = scalar(kl_divergence(log_q.view(), log_p.view(), true, Reduction::Sum).unwrap());
    assert_eq!(reverse, f64::INFINITY);

    let direct =
        scalar(jensen_shannon_divergence(p.view(), q.view(), false, Reduction::Sum).unwrap());
    let logged = scalar(
        jensen_shannon_divergence(log_p.view(), log_q.view(), true, Reduction::Sum).unwrap(),
    );
    assert_close(logged, direct, 1e-14);
}

#[test]
fn divergences_log_prob_reject_nan_and_positive_infinity() {
    let q = d2(&[&[-1.0, -1.0]]);
    for bad in [f64::NAN, f64::INFINITY] {
        let p = d2(&[&[bad, -1.0]]);
        let error = kl_divergence(p.view(), q.view(), true, Reduction::Sum).unwrap_err();
        assert!(matches!(&error, Error::NonFinite { argument, .. } if argument == "p"));
    }
}

#[test]
fn divergences_log_prob_reject_positive_values() {
    let good = d2(&[&[-1.0, -0.5]]);
    let bad = d2(&[&[-1.0, 0.25]]);
    for (p, q, name) in [(&bad, &good, "p"), (&good, &bad, "q")] {
        let errors = [
            kl_divergence(p.view(), q.view(), true, Reduction::Sum).unwrap_err(),
            jensen_shannon_divergence(p.view(), q.view(), true, Reduction::Sum).unwrap_err(),
        ];
        for error in errors {
            assert!(
                matches!(&error, Error::InvalidInput { argument, message }
                    if argument == name && message.contains("0.25")),
                "{error}"
            );
        }
    }
}

#[test]
fn divergences_shape_mismatch_names_p_and_q() {
    let p = d2(&[&[0.5, 0.5], &[0.2, 0.8]]);
    let q = d2(&[&[0.5, 0.5]]);
    let error = kl_divergence(p.view(), q.view(), false, Reduction::Sum).unwrap_err();
    assert!(
        matches!(&error, Error::LengthMismatch { left, right, .. } if left == "p" && right == "q"),
        "{error}"
    );
    let error = kl_divergence(
        p.view(),
        d2(&[&[1.0], &[1.0]]).view(),
        false,
        Reduction::Sum,
    );
    let error = error.unwrap_err();
    assert!(
        matches!(&error, Error::InvalidInput { argument, message }
            if argument == "q" && message.contains("`p`")),
        "{error}"
    );
}

#[test]
fn kl_zero_in_q_is_infinite() {
    let kl = scalar(
        kl_divergence(
            d2(&[&[0.5, 0.5]]).view(),
            d2(&[&[1.0, 0.0]]).view(),
            false,
            Reduction::Sum,
        )
        .unwrap(),
    );
    assert_eq!(kl, f64::INFINITY);
}

#[test]
fn kl_negative_or_zero_row_rejected() {
    let error = kl_divergence(
        d2(&[&[-0.5, 0.5]]).view(),
        d2(&[&[0.5, 0.5]]).view(),
        false,
        Reduction::Sum,
    )
    .unwrap_err();
    assert!(matches!(&error, Error::InvalidInput { argument, .. } if argument == "p"));
    let error = kl_divergence(
        d2(&[&[0.5, 0.5]]).view(),
        d2(&[&[0.0, 0.0]]).view(),
        false,
        Reduction::Sum,
    )
    .unwrap_err();
    assert!(matches!(&error, Error::InvalidInput { argument, .. } if argument == "q"));
}

#[test]
fn js_rows_match_scipy() {
    // [scipy.spatial.distance.jensenshannon(A[i], B[i]) ** 2 for i in range(12)]
    let expected = [
        0.03435141208433716,
        0.00022831909482280179,
        0.018440104497057533,
        0.11424034288027587,
        0.16236091388285478,
        0.008112921279460023,
        0.3624425785344852,
        0.27616478016003754,
        0.19502627312829812,
        0.009179779179903234,
        0.004249895471012573,
        0.001180632947537754,
    ];
    let rows = array(
        jensen_shannon_divergence(
            distribution_a().view(),
            distribution_b().view(),
            false,
            Reduction::None,
        )
        .unwrap(),
    );
    assert_all_close(&rows, &expected, 1e-12);
}

#[test]
fn js_log_prob_matches_probabilities() {
    let p = d2(&[&[0.36, 0.48, 0.16]]);
    let q = d2(&[&[0.25, 0.25, 0.5]]);
    let direct =
        scalar(jensen_shannon_divergence(p.view(), q.view(), false, Reduction::Mean).unwrap());
    let (log_p, log_q) = (p.mapv(f64::ln), q.mapv(f64::ln));
    let logged = scalar(
        jensen_shannon_divergence(log_p.view(), log_q.view(), true, Reduction::Mean).unwrap(),
    );
    assert_close(logged, direct, 1e-13);
}

#[test]
fn divergence_merge_rejects_other_config() {
    let mut plain = KLDivergence::<f64>::new(false, Reduction::Mean);
    assert!(plain
        .merge(&KLDivergence::new(true, Reduction::Mean))
        .is_err());
    assert!(plain
        .merge(&KLDivergence::new(false, Reduction::Sum))
        .is_err());
    let mut js = JensenShannonDivergence::<f64>::default();
    assert!(js
        .merge(&JensenShannonDivergence::new(true, Reduction::Mean))
        .is_err());
}

#[test]
fn reduction_none_keeps_rows_in_order() {
    let mut metric = CosineSimilarity::<f64>::new(Reduction::None);
    update(&mut metric, &d2(&[&[1.0, 0.0]]), &d2(&[&[1.0, 0.0]]));
    let mut other = CosineSimilarity::<f64>::new(Reduction::None);
    update(&mut other, &d2(&[&[1.0, 0.0]]), &d2(&[&[-1.0, 0.0]]));
    metric.merge(&other).unwrap();
    assert_eq!(array(metric.compute().unwrap()), vec![1.0, -1.0]);
}

// ---------------------------------------------------------------------------------------------
// CriticalSuccessIndex and ContinuousRankedProbabilityScore

#[test]
fn csi_matches_sklearn_jaccard() {
    // sklearn.metrics.jaccard_score(Y >= 0.0, X >= 0.0)
    let csi = critical_success_index(d1(&X).view(), d1(&Y).view(), 0.0, None).unwrap();
    assert_close(scalar(csi), 0.5, 1e-15);
}

#[test]
fn csi_no_events_is_zero() {
    let csi = critical_success_index(d1(&[0.1]).view(), d1(&[0.2]).view(), 1.0, None).unwrap();
    assert_eq!(csi, Value::Scalar(0.0));
}

#[test]
fn csi_nan_threshold_rejected() {
    let error = CriticalSuccessIndex::<f64>::new(f64::NAN, None).unwrap_err();
    assert!(matches!(&error, Error::InvalidArgument { argument, .. } if argument == "threshold"));
}

#[test]
fn csi_split_is_exact() {
    let mut whole = CriticalSuccessIndex::<f64>::new(0.0, None).unwrap();
    update(&mut whole, &d1(&X), &d1(&Y));
    let mut left = CriticalSuccessIndex::<f64>::new(0.0, None).unwrap();
    let mut right = CriticalSuccessIndex::<f64>::new(0.0, None).unwrap();
    update(&mut left, &d1(&X[..5]), &d1(&Y[..5]));
    update(&mut right, &d1(&X[5..]), &d1(&Y[5..]));
    left.merge(&right).unwrap();
    assert_eq!(left.compute().unwrap(), whole.compute().unwrap());
    assert!(left
        .merge(&CriticalSuccessIndex::new(1.0, None).unwrap())
        .is_err());
}

#[test]
fn csi_keep_sequence_dim_per_position() {
    // Position i along axis 1 holds column i of (P2, T2), so each index equals
    // sklearn.metrics.jaccard_score(T2[:, i] >= 0, P2[:, i] >= 0).
    let mut metric = CriticalSuccessIndex::<f64>::new(0.0, Some(1)).unwrap();
    update(&mut metric, &p2(), &t2());
    let per_position = array(metric.compute().unwrap());
    for (column, value) in per_position.iter().enumerate() {
        let p = p2().index_axis(ndarray::Axis(1), column).to_owned();
        let t = t2().index_axis(ndarray::Axis(1), column).to_owned();
        let expected = scalar(critical_success_index(p.view(), t.view(), 0.0, None).unwrap());
        assert_eq!(*value, expected);
    }
    assert_eq!(per_position.len(), 2);
}

#[test]
fn csi_keep_sequence_dim_errors() {
    let error = critical_success_index(d1(&X).view(), d1(&Y).view(), 0.0, Some(1)).unwrap_err();
    assert!(
        matches!(&error, Error::InvalidArgument { argument, .. } if argument == "keep_sequence_dim")
    );

    let mut metric = CriticalSuccessIndex::<f64>::new(0.0, Some(1)).unwrap();
    assert!(matches!(metric.compute(), Err(Error::NotEnoughData { .. })));
    update(&mut metric, &p2(), &t2());
    let before = metric.clone();
    let three_columns = d2(&[&[1.0, 2.0, 3.0]]);
    let error = metric
        .update((three_columns.view(), three_columns.view()))
        .unwrap_err();
    assert!(matches!(&error, Error::InvalidInput { argument, .. } if argument == "preds"));
    assert_eq!(metric, before);

    let mut other = CriticalSuccessIndex::<f64>::new(0.0, Some(1)).unwrap();
    update(&mut other, &three_columns, &three_columns);
    assert!(matches!(
        metric.merge(&other),
        Err(Error::IncompatibleState { .. })
    ));
    let flat = CriticalSuccessIndex::<f64>::new(0.0, None).unwrap();
    assert!(matches!(
        metric.merge(&flat),
        Err(Error::IncompatibleState { .. })
    ));
}

// E = np.stack([X, Y, 0.5 * X - 0.2], 1), obs = 0.3 * X + 0.1
fn ensemble() -> (ArrayD<f64>, ArrayD<f64>) {
    let rows: Vec<[f64; 3]> = X
        .iter()
        .zip(&Y)
        .map(|(x, y)| [*x, *y, 0.5 * x - 0.2])
        .collect();
    let observations: Vec<f64> = X.iter().map(|x| 0.3 * x + 0.1).collect();
    (Array2::from(rows).into_dyn(), d1(&observations))
}

#[test]
fn crps_matches_pairwise_definition() {
    // np.mean([np.mean(np.abs(e - y)) - np.abs(e[:, None] - e[None, :]).sum() / (2 * m * m)
    //          for e, y in zip(E, obs)]) with m = 3
    let (members, observations) = ensemble();
    let members: Array2<f64> = members.into_dimensionality().unwrap();
    let observations: ndarray::Array1<f64> = observations.into_dimensionality().unwrap();
    let crps = continuous_ranked_probability_score(members.view(), observations.view()).unwrap();
    assert_close(crps, 0.2769901851851852, 1e-14);
}

#[test]
fn crps_split_matches_one_pass() {
    let (members, observations) = ensemble();
    let mut whole = ContinuousRankedProbabilityScore::<f64>::new();
    update(&mut whole, &members, &observations);
    let mut merged = ContinuousRankedProbabilityScore::<f64>::new();
    for (start, end) in [(0, 1), (1, 7), (7, 12)] {
        let mut shard = ContinuousRankedProbabilityScore::<f64>::new();
        let rows = members
            .slice(ndarray::s![start..end, ..])
            .to_owned()
            .into_dyn();
        let targets = observations
            .slice(ndarray::s![start..end])
            .to_owned()
            .into_dyn();
        update(&mut shard, &rows, &targets);
        merged.merge(&shard).unwrap();
    }
    assert_close(merged.compute().unwrap(), whole.compute().unwrap(), 1e-14);
}

#[test]
fn crps_invalid_shapes_rejected() {
    let mut metric = ContinuousRankedProbabilityScore::<f64>::new();
    let one_member = d2(&[&[1.0], &[2.0]]);
    let error = metric
        .update((one_member.view(), d1(&[1.0, 2.0]).view()))
        .unwrap_err();
    assert!(matches!(&error, Error::InvalidInput { argument, .. } if argument == "preds"));

    let two_members = d2(&[&[1.0, 2.0], &[2.0, 3.0]]);
    let error = metric
        .update((two_members.view(), two_members.view()))
        .unwrap_err();
    assert!(matches!(&error, Error::InvalidInput { argument, .. } if argument == "target"));
    let error = metric
        .update((two_members.view(), d1(&[1.0]).view()))
        .unwrap_err();
    assert!(matches!(error, Error::LengthMismatch { .. }));
    assert!(metric.compute().is_err());
}

// ---------------------------------------------------------------------------------------------
// SpearmanCorrCoef and KendallRankCorrCoef

// XT = np.round(X * 2) / 2, YT = np.round(Y * 2) / 2: many ties, and -0.0 beside 0.0.
const XT: [f64; 12] = [
    0.0, 0.5, -0.5, -1.0, -0.5, -1.0, 0.0, 1.5, -0.5, -0.5, 0.5, 0.5,
];
const YT: [f64; 12] = [
    0.0, -0.5, -0.0, -0.0, -1.0, -1.0, -1.0, 0.0, -1.0, -0.5, -0.5, 0.5,
];

fn kendall(
    preds: &[f64],
    target: &[f64],
    variant: KendallVariant,
    t_test: bool,
    alternative: Alternative,
) -> Value {
    kendall_rank_corrcoef(
        d1(preds).view(),
        d1(target).view(),
        variant,
        t_test,
        alternative,
    )
    .unwrap()
}

fn tau_and_p_value(value: Value) -> (f64, f64) {
    let entries = value.as_map().expect("a map of tau and p_value");
    assert_eq!(entries[0].0, "tau");
    assert_eq!(entries[1].0, "p_value");
    (
        entries[0].1.as_scalar().unwrap(),
        entries[1].1.as_scalar().unwrap(),
    )
}

#[test]
fn spearman_matches_scipy() {
    // scipy.stats.spearmanr(X, Y).statistic and scipy.stats.spearmanr(XT, YT).statistic
    let rho = scalar(spearman_corrcoef(d1(&X).view(), d1(&Y).view()).unwrap());
    assert_close(rho, 0.49650349650349657, 1e-14);
    let tied = scalar(spearman_corrcoef(d1(&XT).view(), d1(&YT).view()).unwrap());
    assert_close(tied, 0.3553033324010164, 1e-14);
}

#[test]
fn spearman_rounds_as_scipy() {
    // scipy.stats.spearmanr([1, 2, 3, 4], [1.5, 2, 2.5, 5])[0] == 1.0
    let rho = scalar(
        spearman_corrcoef(
            d1(&[1.0, 2.0, 3.0, 4.0]).view(),
            d1(&[1.5, 2.0, 2.5, 5.0]).view(),
        )
        .unwrap(),
    );
    assert_eq!(rho, 1.0);
    // scipy.stats.spearmanr([0, 1, 2, 3, 4], [4, 3, 2, 1, 0])[0] == -0.9999999999999999
    let rho = scalar(
        spearman_corrcoef(
            d1(&[0.0, 1.0, 2.0, 3.0, 4.0]).view(),
            d1(&[4.0, 3.0, 2.0, 1.0, 0.0]).view(),
        )
        .unwrap(),
    );
    assert_eq!(rho, -0.999_999_999_999_999_9);
    // scipy.stats.spearmanr([1, 2, 3, 4], [2, 1, 4, 3])[0] == 0.6000000000000001
    let rho = scalar(
        spearman_corrcoef(
            d1(&[1.0, 2.0, 3.0, 4.0]).view(),
            d1(&[2.0, 1.0, 4.0, 3.0]).view(),
        )
        .unwrap(),
    );
    assert_eq!(rho, 0.600_000_000_000_000_1);
}

#[test]
fn spearman_multioutput_per_column() {
    let rho = array(spearman_corrcoef(p2().view(), t2().view()).unwrap());
    let first = scalar(spearman_corrcoef(d1(&X).view(), d1(&Y).view()).unwrap());
    assert_close(rho[0], first, 1e-15);
    assert_eq!(rho.len(), 2);
}

#[test]
fn spearman_torchmetrics_example() {
    // TorchMetrics' docs: spearman_corrcoef(tensor([2.5, 0.0, 2, 8]), tensor([3, -0.5, 2, 7]))
    // gives tensor(1.0000).
    let rho = scalar(
        spearman_corrcoef(
            d1(&[2.5, 0.0, 2.0, 8.0]).view(),
            d1(&[3.0, -0.5, 2.0, 7.0]).view(),
        )
        .unwrap(),
    );
    assert_close(rho, 1.0, 1e-15);
}

#[test]
fn spearman_constant_input_is_nan() {
    let rho = scalar(spearman_corrcoef(d1(&[1.0, 1.0, 1.0]).view(), d1(&X[..3]).view()).unwrap());
    assert!(rho.is_nan());
}

#[test]
fn spearman_fewer_than_two_samples_rejected() {
    let one = spearman_corrcoef(d1(&[1.0]).view(), d1(&[2.0]).view());
    assert!(matches!(one, Err(Error::NotEnoughData { .. })));
    let none = spearman_corrcoef(d1(&[]).view(), d1(&[]).view());
    assert!(matches!(none, Err(Error::NotEnoughData { .. })));
}

/// Returns `n` widened float32 values with many ties, signed zeros among them.
fn tied_float32_values(n: usize, seed: u64) -> Vec<f32> {
    let mut state = seed;
    (0..n)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let level = (state >> 40) % 2001;
            let value = (level as f32 - 1000.0) / 8.0;
            if value == 0.0 && (state >> 20) % 2 == 1 {
                -0.0
            } else {
                value
            }
        })
        .collect()
}

#[test]
fn spearman_functional_matches_batched_state() {
    // More than 2^16 samples whose keys span more than 19 bits, so the radix sort splits by
    // its top digit and the ranks reuse the sort's spare buffer.
    let preds32 = tied_float32_values(200_003, 1);
    let target32 = tied_float32_values(200_003, 2);
    let preds: Vec<f64> = preds32.iter().map(|&x| f64::from(x)).collect();
    let target: Vec<f64> = target32.iter().map(|&x| f64::from(x)).collect();

    let functional = scalar(spearman_corrcoef(d1(&preds).view(), d1(&target).view()).unwrap());
    let mut metric = SpearmanCorrCoef::<f64>::default();
    for (p, t) in preds.chunks(70_001).zip(target.chunks(70_001)) {
        update(&mut metric, &d1(p), &d1(t));
    }
    let batched = scalar(metric.compute().unwrap());
    let preds32 = ndarray::ArrayView1::from(&preds32[..]);
    let target32 = ndarray::ArrayView1::from(&target32[..]);
    let from_f32 = scalar(spearman_corrcoef(preds32, target32).unwrap());

    assert_eq!(functional, batched);
    assert_eq!(functional, from_f32);
    assert!(
        functional.abs() < 0.02,
        "independent inputs gave {functional}"
    );
}

#[test]
fn kendall_variants_match_scipy() {
    // scipy.stats.kendalltau(x, y, variant=v).statistic for (X, Y) and (XT, YT)
    let cases = [
        (KendallVariant::B, 0.3636363636363636, 0.3021019648197444),
        (KendallVariant::C, 0.36363636363636365, 0.2962962962962963),
    ];
    for (variant, untied, tied) in cases {
        let tau = scalar(kendall(&X, &Y, variant, false, Alternative::TwoSided));
        assert_close(tau, untied, 1e-14);
        let tau = scalar(kendall(&XT, &YT, variant, false, Alternative::TwoSided));
        assert_close(tau, tied, 1e-14);
    }
}

#[test]
fn kendall_tau_a_matches_definition() {
    // sum(sign(x_i - x_j) * sign(y_i - y_j) for i < j) / (n * (n - 1) / 2)
    let tau = scalar(kendall(
        &XT,
        &YT,
        KendallVariant::A,
        false,
        Alternative::TwoSided,
    ));
    assert_close(tau, 0.24242424242424243, 1e-15);
    let tau = scalar(kendall(
        &X,
        &Y,
        KendallVariant::A,
        false,
        Alternative::TwoSided,
    ));
    assert_close(tau, 0.36363636363636365, 1e-15);
}

#[test]
fn kendall_p_values_match_scipy_asymptotic() {
    // scipy.stats.kendalltau(XT, YT, method="asymptotic", alternative=a).pvalue and the same
    // for (X, Y)
    let cases = [
        (
            Alternative::TwoSided,
            0.23299864497289025,
            0.09981706200412165,
        ),
        (Alternative::Less, 0.8835006775135549, 0.9500914689979392),
        (
            Alternative::Greater,
            0.11649932248644512,
            0.04990853100206082,
        ),
    ];
    for (alternative, tied, untied) in cases {
        let (_, p_value) = tau_and_p_value(kendall(&XT, &YT, KendallVariant::B, true, alternative));
        assert_close(p_value, tied, 1e-13);
        let (_, p_value) = tau_and_p_value(kendall(&X, &Y, KendallVariant::B, true, alternative));
        assert_close(p_value, untied, 1e-13);
    }
}

#[test]
fn kendall_torchmetrics_examples() {
    // TorchMetrics' docs: preds [2.5, 0.0, 2, 8], target [3, -0.5, 2, 1] give tensor(0.3333)
    // and with t_test=True the p-value tensor(0.4969).
    let preds = [2.5, 0.0, 2.0, 8.0];
    let target = [3.0, -0.5, 2.0, 1.0];
    let (tau, p_value) = tau_and_p_value(kendall(
        &preds,
        &target,
        KendallVariant::B,
        true,
        Alternative::TwoSided,
    ));
    assert_close(tau, 1.0 / 3.0, 1e-15);
    assert!((p_value - 0.4969).abs() < 5e-5);

    // Two samples of two outputs give tensor([1., 1.]).
    let preds = d2(&[&[2.5, 0.0], &[2.0, 8.0]]);
    let target = d2(&[&[3.0, -0.5], &[2.0, 1.0]]);
    let tau = kendall_rank_corrcoef(
        preds.view(),
        target.view(),
        KendallVariant::B,
        false,
        Alternative::TwoSided,
    )
    .unwrap();
    assert_eq!(array(tau), vec![1.0, 1.0]);
}

#[test]
fn kendall_constant_input_is_nan() {
    let tau = scalar(kendall(
        &[1.0, 1.0, 1.0],
        &X[..3],
        KendallVariant::B,
        false,
        Alternative::TwoSided,
    ));
    assert!(tau.is_nan());
}

#[test]
fn kendall_merge_rejects_other_config() {
    let mut metric = KendallRankCorrCoef::<f64>::default();
    let others = [
        KendallRankCorrCoef::new(KendallVariant::C, false, Alternative::TwoSided, 1).unwrap(),
        KendallRankCorrCoef::new(KendallVariant::B, true, Alternative::TwoSided, 1).unwrap(),
        KendallRankCorrCoef::new(KendallVariant::B, false, Alternative::Less, 1).unwrap(),
        KendallRankCorrCoef::new(KendallVariant::B, false, Alternative::TwoSided, 2).unwrap(),
    ];
    for other in others {
        assert!(matches!(
            metric.merge(&other),
            Err(Error::IncompatibleState { .. })
        ));
    }
}

#[test]
fn rank_options_parse_and_reject() {
    assert_eq!("a".parse::<KendallVariant>(), Ok(KendallVariant::A));
    assert_eq!(
        "two-sided".parse::<Alternative>(),
        Ok(Alternative::TwoSided)
    );
    let error = "d".parse::<KendallVariant>().unwrap_err();
    assert!(matches!(&error, Error::InvalidArgument { argument, .. } if argument == "variant"));
    let error = "both".parse::<Alternative>().unwrap_err();
    assert!(matches!(&error, Error::InvalidArgument { argument, .. } if argument == "alternative"));
}

#[test]
fn rank_one_sample_not_enough_data() {
    let mut spearman = SpearmanCorrCoef::<f64>::default();
    update(&mut spearman, &d1(&[1.0]), &d1(&[2.0]));
    assert!(matches!(
        spearman.compute(),
        Err(Error::NotEnoughData { .. })
    ));
    let kendall = KendallRankCorrCoef::<f64>::default();
    assert!(matches!(
        kendall.compute(),
        Err(Error::NotEnoughData { .. })
    ));
}

#[test]
fn rank_facts() {
    for info in [
        SpearmanCorrCoef::<f64>::default().info(),
        KendallRankCorrCoef::<f64>::default().info(),
    ] {
        assert_eq!(info.higher_is_better, None);
        assert!(!info.is_differentiable);
        assert_eq!((info.lower_bound, info.upper_bound), (-1.0, 1.0));
    }
}

/// Kendall's `C - D` by comparing every pair, the O(n^2) definition.
fn brute_force_tau_a(preds: &[f64], target: &[f64]) -> f64 {
    let n = preds.len();
    let mut score = 0.0;
    for i in 0..n {
        for j in i + 1..n {
            let sign = |d: f64| {
                if d > 0.0 {
                    1.0
                } else if d < 0.0 {
                    -1.0
                } else {
                    0.0
                }
            };
            score += sign(preds[i] - preds[j]) * sign(target[i] - target[j]);
        }
    }
    score / (n * (n - 1) / 2) as f64
}

proptest! {
    #[test]
    fn kendall_merge_sort_matches_pairs(
        pairs in prop::collection::vec((-3_i32..3, -3_i32..3), 2..60),
    ) {
        let preds: Vec<f64> = pairs.iter().map(|p| f64::from(p.0)).collect();
        let target: Vec<f64> = pairs.iter().map(|p| f64::from(p.1)).collect();
        let tau = scalar(kendall(&preds, &target, KendallVariant::A, false, Alternative::TwoSided));
        prop_assert!((tau - brute_force_tau_a(&preds, &target)).abs() < 1e-12);
    }

    #[test]
    fn rank_split_merge_invariant((preds, target, cuts) in rows_strategy()) {
        check_invariance(&SpearmanCorrCoef::<f64>::new(2).unwrap(), &preds, &target, &cuts)?;
        for variant in [KendallVariant::A, KendallVariant::B, KendallVariant::C] {
            let metric =
                KendallRankCorrCoef::<f64>::new(variant, false, Alternative::TwoSided, 2).unwrap();
            check_invariance(&metric, &preds, &target, &cuts)?;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Reference cases from data/gen_regression_reference.py: seeded random data of 100 to 200
// samples, scored by scikit-learn, scipy and numpy.

struct ReferenceCase {
    name: String,
    preds: ArrayD<f64>,
    target: ArrayD<f64>,
    expected: serde_json::Map<String, serde_json::Value>,
}

/// Parses a number that the generator wrote as a string, which Rust rounds correctly.
fn json_number(value: &serde_json::Value) -> f64 {
    value
        .as_str()
        .expect("a number string")
        .parse()
        .expect("a decimal number")
}

fn json_array(value: &serde_json::Value) -> ArrayD<f64> {
    let rows = value.as_array().expect("an array");
    if rows.first().is_some_and(serde_json::Value::is_array) {
        let columns = rows[0].as_array().unwrap().len();
        let flat: Vec<f64> = rows
            .iter()
            .flat_map(|row| row.as_array().unwrap().iter().map(json_number))
            .collect();
        ArrayD::from_shape_vec(IxDyn(&[rows.len(), columns]), flat).unwrap()
    } else {
        d1(&rows.iter().map(json_number).collect::<Vec<_>>())
    }
}

fn reference_cases() -> Vec<ReferenceCase> {
    let text = include_str!("data/regression_reference.json");
    let cases: Vec<serde_json::Map<String, serde_json::Value>> =
        serde_json::from_str(text).expect("valid reference JSON");
    cases
        .into_iter()
        .map(|case| ReferenceCase {
            name: case["name"].as_str().unwrap().to_owned(),
            preds: json_array(&case["preds"]),
            target: json_array(&case["target"]),
            expected: case,
        })
        .collect()
}

fn outputs_of(values: &ArrayD<f64>) -> usize {
    if values.ndim() == 2 {
        values.shape()[1]
    } else {
        1
    }
}

/// Checks `actual` against the case's list under `key` to 1e-12 relative.
fn check_reference(case: &ReferenceCase, key: &str, actual: Value) {
    let expected: Vec<f64> = case.expected[key]
        .as_array()
        .unwrap_or_else(|| panic!("{}: no reference for {key}", case.name))
        .iter()
        .map(json_number)
        .collect();
    let actual = values_of(&actual);
    assert_eq!(actual.len(), expected.len(), "{} {key}", case.name);
    for (a, e) in actual.iter().zip(&expected) {
        assert!(
            (a - e).abs() <= 1e-12 * e.abs() + 1e-14,
            "{} {key}: actual {a:e}, expected {e:e}",
            case.name
        );
    }
}

#[test]
fn reference_cases_match_scipy_and_sklearn() {
    for case in reference_cases() {
        let (p, t) = (&case.preds, &case.target);
        let outputs = outputs_of(&case.preds);
        let check = |key: &str, value: Value| check_reference(&case, key, value);

        check("pearson", pearson_corrcoef(p.view(), t.view()).unwrap());
        check(
            "concordance",
            concordance_corrcoef(p.view(), t.view()).unwrap(),
        );
        check("spearman", spearman_corrcoef(p.view(), t.view()).unwrap());
        let tau_b = kendall_rank_corrcoef(
            p.view(),
            t.view(),
            KendallVariant::B,
            true,
            Alternative::TwoSided,
        );
        let entries = tau_b.unwrap().as_map().unwrap().to_vec();
        check("kendall_b", entries[0].1.clone());
        check("kendall_p_value", entries[1].1.clone());
        let tau_c = kendall_rank_corrcoef(
            p.view(),
            t.view(),
            KendallVariant::C,
            false,
            Alternative::TwoSided,
        );
        check("kendall_c", tau_c.unwrap());

        check(
            "mean_squared_error",
            mean_squared_error(p.view(), t.view(), true, outputs).unwrap(),
        );
        check(
            "mean_absolute_error",
            mean_absolute_error(p.view(), t.view(), outputs).unwrap(),
        );
        check(
            "log_cosh_error",
            log_cosh_error(p.view(), t.view()).unwrap(),
        );
        check(
            "r2_raw_values",
            r2_score(p.view(), t.view(), 0, Multioutput::RawValues).unwrap(),
        );
        check(
            "r2_uniform_average",
            r2_score(p.view(), t.view(), 0, Multioutput::UniformAverage).unwrap(),
        );
        check(
            "r2_variance_weighted",
            r2_score(p.view(), t.view(), 0, Multioutput::VarianceWeighted).unwrap(),
        );
        let ev = explained_variance(p.view(), t.view(), Multioutput::RawValues).unwrap();
        check("explained_variance_raw_values", ev);
        let ev = explained_variance(p.view(), t.view(), Multioutput::VarianceWeighted).unwrap();
        check("explained_variance_variance_weighted", ev);
        let normalizations = [
            ("nrmse_mean", Normalization::Mean),
            ("nrmse_range", Normalization::Range),
            ("nrmse_std", Normalization::Std),
            ("nrmse_l2", Normalization::L2),
        ];
        for (key, normalization) in normalizations {
            let value =
                normalized_root_mean_squared_error(p.view(), t.view(), normalization, outputs)
                    .unwrap();
            check(key, value);
        }

        let minkowski = minkowski_distance(p.view(), t.view(), 3.0).unwrap();
        check("minkowski_3", Value::Scalar(minkowski));
        let mape = mean_absolute_percentage_error(p.view(), t.view()).unwrap();
        check("mean_absolute_percentage_error", Value::Scalar(mape));
        check(
            "critical_success_index_0",
            critical_success_index(p.view(), t.view(), 0.0, None).unwrap(),
        );

        if case.expected.contains_key("mean_squared_log_error") {
            let msle = mean_squared_log_error(p.view(), t.view()).unwrap();
            check("mean_squared_log_error", Value::Scalar(msle));
            for power in [0.0, 1.0, 1.5, 2.0, 3.0] {
                let deviance = tweedie_deviance_score(p.view(), t.view(), power).unwrap();
                check(&format!("tweedie_{power:?}"), Value::Scalar(deviance));
            }
        }
    }
}

#[test]
fn reference_cases_batched_match_one_pass() {
    for case in reference_cases() {
        let outputs = outputs_of(&case.preds);
        let preds = case
            .preds
            .clone()
            .into_shape_with_order((case.preds.shape()[0], outputs));
        let target = case
            .target
            .clone()
            .into_shape_with_order((case.target.shape()[0], outputs));
        let (preds, target) = (preds.unwrap(), target.unwrap());
        let cuts = [1, 17, 18, 64, 99];

        let check = |label: &str, [whole, batched, merged]: [Value; 3]| {
            for (a, e) in values_of(&batched)
                .iter()
                .chain(&values_of(&merged))
                .zip(values_of(&whole).iter().cycle())
            {
                assert!(
                    (a - e).abs() <= 1e-12 * e.abs().max(1e-300),
                    "{} {label}: {a:e} vs {e:e}",
                    case.name
                );
            }
        };
        let pearson = PearsonCorrCoef::<f64>::new(outputs).unwrap();
        check(
            "pearson",
            one_pass_split_merged(&pearson, &preds, &target, &cuts),
        );
        let r2 = R2Score::<f64>::new(0, Multioutput::RawValues);
        check("r2", one_pass_split_merged(&r2, &preds, &target, &cuts));
        let mse = MeanSquaredError::<f64>::new(true, outputs).unwrap();
        check("mse", one_pass_split_merged(&mse, &preds, &target, &cuts));
        let nrmse = NormalizedRootMeanSquaredError::<f64>::new(Normalization::Std, outputs);
        check(
            "nrmse",
            one_pass_split_merged(&nrmse.unwrap(), &preds, &target, &cuts),
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Validation shared by the (preds, target) metrics

#[test]
fn new_zero_outputs_rejected() {
    let error = PearsonCorrCoef::<f64>::new(0).unwrap_err();
    assert!(matches!(&error, Error::InvalidArgument { argument, .. } if argument == "num_outputs"));
}

#[test]
fn new_huge_num_outputs_rejected_before_allocating() {
    let huge = [(1 << 24) + 1, 1_000_000_000, 1 << 62];
    for num_outputs in huge {
        let errors = [
            PearsonCorrCoef::<f64>::new(num_outputs).unwrap_err(),
            SpearmanCorrCoef::<f64>::new(num_outputs).unwrap_err(),
            MeanSquaredError::<f64>::new(true, num_outputs).unwrap_err(),
            MeanAbsoluteError::<f64>::new(num_outputs).unwrap_err(),
            LogCoshError::<f64>::new(num_outputs).unwrap_err(),
        ];
        for error in errors {
            assert!(
                matches!(&error, Error::InvalidArgument { argument, message }
                    if argument == "num_outputs" && message.contains(&num_outputs.to_string())),
                "{error}"
            );
        }
    }
    assert!(PearsonCorrCoef::<f64>::new(1 << 10).is_ok());
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
    let mut single_output = PearsonCorrCoef::<f64>::new(1).unwrap();
    let two_outputs = PearsonCorrCoef::<f64>::new(2).unwrap();
    let error = single_output.merge(&two_outputs).unwrap_err();
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

/// Updates `metric` with a valid batch, then checks that a batch with a NaN in its last target
/// value is rejected with [`Error::NonFinite`] and leaves the state as it was.
fn check_rejected_batch_changes_nothing<M>(mut metric: M, preds: &ArrayD<f64>, target: &ArrayD<f64>)
where
    M: Metric<Kind = PredsTarget<f64>> + PartialEq + std::fmt::Debug,
{
    metric.update((preds.view(), target.view())).unwrap();
    let before = metric.clone();

    let mut bad_target = target.clone();
    *bad_target.iter_mut().last().unwrap() = f64::NAN;
    let error = metric
        .update((preds.view(), bad_target.view()))
        .unwrap_err();
    assert!(
        matches!(
            &error,
            Error::NonFinite { argument, .. } if argument == "target" || argument == "q"
        ),
        "{}: {error}",
        metric.info().name
    );
    assert_eq!(metric, before, "{}", metric.info().name);
}

#[test]
fn rejected_batch_changes_no_metric() {
    let (p, t) = (p2(), t2());
    check_rejected_batch_changes_nothing(PearsonCorrCoef::<f64>::new(2).unwrap(), &p, &t);
    check_rejected_batch_changes_nothing(ConcordanceCorrCoef::<f64>::new(2).unwrap(), &p, &t);
    check_rejected_batch_changes_nothing(MeanSquaredError::<f64>::new(true, 2).unwrap(), &p, &t);
    check_rejected_batch_changes_nothing(MeanAbsoluteError::<f64>::new(2).unwrap(), &p, &t);
    check_rejected_batch_changes_nothing(LogCoshError::<f64>::new(2).unwrap(), &p, &t);
    check_rejected_batch_changes_nothing(R2Score::<f64>::default(), &p, &t);
    check_rejected_batch_changes_nothing(ExplainedVariance::<f64>::default(), &p, &t);
    check_rejected_batch_changes_nothing(
        RelativeSquaredError::<f64>::new(2, true).unwrap(),
        &p,
        &t,
    );
    let nrmse = NormalizedRootMeanSquaredError::<f64>::new(Normalization::Std, 2).unwrap();
    check_rejected_batch_changes_nothing(nrmse, &p, &t);
    check_rejected_batch_changes_nothing(CosineSimilarity::<f64>::new(Reduction::None), &p, &t);
    check_rejected_batch_changes_nothing(SpearmanCorrCoef::<f64>::new(2).unwrap(), &p, &t);
    check_rejected_batch_changes_nothing(
        KendallRankCorrCoef::<f64>::new(KendallVariant::B, true, Alternative::TwoSided, 2).unwrap(),
        &p,
        &t,
    );

    let (x, y) = (d1(&X), d1(&Y));
    check_rejected_batch_changes_nothing(MeanAbsolutePercentageError::<f64>::new(), &x, &y);
    check_rejected_batch_changes_nothing(
        SymmetricMeanAbsolutePercentageError::<f64>::new(),
        &x,
        &y,
    );
    check_rejected_batch_changes_nothing(WeightedMeanAbsolutePercentageError::<f64>::new(), &x, &y);
    check_rejected_batch_changes_nothing(MinkowskiDistance::<f64>::new(1.0).unwrap(), &x, &y);
    check_rejected_batch_changes_nothing(
        CriticalSuccessIndex::<f64>::new(0.0, None).unwrap(),
        &x,
        &y,
    );

    let (px, py) = (exp_of(&X), exp_of(&Y));
    check_rejected_batch_changes_nothing(MeanSquaredLogError::<f64>::new(), &px, &py);
    check_rejected_batch_changes_nothing(TweedieDevianceScore::<f64>::new(1.0).unwrap(), &px, &py);

    let (a, b) = (distribution_a(), distribution_b());
    check_rejected_batch_changes_nothing(KLDivergence::<f64>::default(), &a, &b);
    check_rejected_batch_changes_nothing(JensenShannonDivergence::<f64>::default(), &a, &b);

    let (members, observations) = ensemble();
    check_rejected_batch_changes_nothing(
        ContinuousRankedProbabilityScore::<f64>::new(),
        &members,
        &observations,
    );
}

#[test]
fn forward_returns_batch_value_and_accumulates() {
    let mut metric = PearsonCorrCoef::<f64>::default();
    update(&mut metric, &d1(&X[..6]), &d1(&Y[..6]));

    let batch_value = metric
        .forward((d1(&X[6..]).view(), d1(&Y[6..]).view()))
        .unwrap();
    let expected_batch = scalar(pearson_corrcoef(d1(&X[6..]).view(), d1(&Y[6..]).view()).unwrap());
    assert_close(scalar(batch_value), expected_batch, 1e-15);
    assert_close(scalar(metric.compute().unwrap()), 0.5422760727012977, 1e-13);
}

#[test]
fn f32_inputs_match_f64_inputs() {
    let preds32 = d1(&X).mapv(|x| x as f32);
    let target32 = d1(&Y).mapv(|x| x as f32);
    let (preds64, target64) = (preds32.mapv(f64::from), target32.mapv(f64::from));

    let mse32 = scalar(mean_squared_error(preds32.view(), target32.view(), true, 1).unwrap());
    let mse64 = scalar(mean_squared_error(preds64.view(), target64.view(), true, 1).unwrap());
    assert_eq!(mse32, mse64);

    let mut r2 = R2Score::<f32>::default();
    r2.update((preds32.view(), target32.view())).unwrap();
    let r2_64 = r2_score(
        preds64.view(),
        target64.view(),
        0,
        Multioutput::UniformAverage,
    )
    .unwrap();
    assert_eq!(r2.compute().unwrap(), r2_64);

    let tau32 = kendall_rank_corrcoef(
        preds32.view(),
        target32.view(),
        KendallVariant::B,
        false,
        Alternative::TwoSided,
    )
    .unwrap();
    assert_eq!(
        tau32,
        kendall(&X, &Y, KendallVariant::B, false, Alternative::TwoSided)
    );
}

#[test]
fn f32_non_finite_rejected() {
    let mut metric = MeanAbsoluteError::<f32>::default();
    let preds = d1(&[1.0, 2.0]).mapv(|x| x as f32);
    let target = ArrayD::from_shape_vec(IxDyn(&[2]), vec![1.0_f32, f32::NEG_INFINITY]).unwrap();
    let error = metric.update((preds.view(), target.view())).unwrap_err();
    assert!(matches!(
        &error,
        Error::NonFinite { argument, value, .. }
            if argument == "target" && *value == f64::NEG_INFINITY
    ));
}

#[test]
fn collection_computes_regression_metrics_together() {
    let mut collection = ferrometrics::MetricCollection::<PredsTarget<f64>>::new();
    collection
        .add("mse", MeanSquaredError::<f64>::default())
        .unwrap();
    collection
        .add("pearson", PearsonCorrCoef::<f64>::default())
        .unwrap();
    collection.add("r2", R2Score::<f64>::default()).unwrap();
    collection.update((d1(&X).view(), d1(&Y).view())).unwrap();

    let values = collection.compute().unwrap();
    let names: Vec<&str> = values.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names, ["mse", "pearson", "r2"]);
    assert_close(
        values[0].1.as_scalar().unwrap(),
        0.6252616658914356_f64.powi(2),
        1e-13,
    );
    assert_close(values[1].1.as_scalar().unwrap(), 0.5422760727012977, 1e-13);
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

/// Checks one-pass, batched and merged values of `metric` on the same rows, and that a
/// serialized state restores to an equal metric.
fn check_invariance<M>(
    metric: &M,
    preds: &Array2<f64>,
    target: &Array2<f64>,
    cuts: &[usize],
) -> Result<(), TestCaseError>
where
    M: Metric<Kind = PredsTarget<f64>, Output = Value> + PartialEq + std::fmt::Debug,
{
    let [whole, batched, merged] = one_pass_split_merged(metric, preds, target, cuts);
    assert_same_values(&whole, &batched, 1e-12)?;
    assert_same_values(&whole, &merged, 1e-12)?;
    Ok(())
}

/// As [`check_invariance`], for metrics that return a plain `f64`.
fn check_scalar_invariance<M>(
    metric: &M,
    preds: &Array2<f64>,
    target: &Array2<f64>,
    cuts: &[usize],
) -> Result<(), TestCaseError>
where
    M: Metric<Kind = PredsTarget<f64>, Output = f64>,
{
    let wrapped = ScalarMetric(metric.clone());
    let [whole, batched, merged] = one_pass_split_merged(&wrapped, preds, target, cuts);
    assert_same_values(&whole, &batched, 1e-12)?;
    assert_same_values(&whole, &merged, 1e-12)?;
    Ok(())
}

/// A metric with an `f64` output seen as one with a [`Value`] output.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
#[serde(bound = "")]
struct ScalarMetric<M: Metric>(M);

impl<M: Metric<Output = f64>> Metric for ScalarMetric<M> {
    type Kind = M::Kind;
    type Output = Value;

    fn info(&self) -> ferrometrics::MetricInfo {
        self.0.info()
    }

    fn update(&mut self, input: ferrometrics::Input<'_, Self>) -> ferrometrics::Result<()> {
        self.0.update(input)
    }

    fn compute(&self) -> ferrometrics::Result<Value> {
        self.0.compute().map(Value::Scalar)
    }

    fn reset(&mut self) {
        self.0.reset();
    }

    fn merge(&mut self, other: &Self) -> ferrometrics::Result<()> {
        self.0.merge(&other.0)
    }
}

fn single_column(values: &Array2<f64>, column: usize) -> Array2<f64> {
    values.slice(ndarray::s![.., column..=column]).to_owned()
}

proptest! {
    #[test]
    fn pearson_split_merge_invariant((preds, target, cuts) in rows_strategy()) {
        check_invariance(&PearsonCorrCoef::<f64>::new(2).unwrap(), &preds, &target, &cuts)?;
    }

    #[test]
    fn concordance_split_merge_invariant((preds, target, cuts) in rows_strategy()) {
        check_invariance(&ConcordanceCorrCoef::<f64>::new(2).unwrap(), &preds, &target, &cuts)?;
    }

    #[test]
    fn mean_errors_split_merge_invariant((preds, target, cuts) in rows_strategy()) {
        check_invariance(&MeanSquaredError::<f64>::new(false, 2).unwrap(), &preds, &target, &cuts)?;
        check_invariance(&MeanAbsoluteError::<f64>::new(2).unwrap(), &preds, &target, &cuts)?;
        check_invariance(&LogCoshError::<f64>::new(2).unwrap(), &preds, &target, &cuts)?;

        let (p, t) = (single_column(&preds, 1), single_column(&target, 1));
        check_scalar_invariance(&MeanAbsolutePercentageError::<f64>::new(), &p, &t, &cuts)?;
        let symmetric = SymmetricMeanAbsolutePercentageError::<f64>::new();
        check_scalar_invariance(&symmetric, &p, &t, &cuts)?;
        check_scalar_invariance(&WeightedMeanAbsolutePercentageError::<f64>::new(), &p, &t, &cuts)?;
        check_scalar_invariance(&MinkowskiDistance::<f64>::new(3.0).unwrap(), &p, &t, &cuts)?;
        check_invariance(&CriticalSuccessIndex::<f64>::new(0.5, None).unwrap(), &p, &t, &cuts)?;

        let (p, t) = (p.mapv(|x| (x / 5.0).exp()), t.mapv(|x| (x / 5.0).exp()));
        check_scalar_invariance(&MeanSquaredLogError::<f64>::new(), &p, &t, &cuts)?;
        check_scalar_invariance(&TweedieDevianceScore::<f64>::new(1.5).unwrap(), &p, &t, &cuts)?;
    }

    #[test]
    fn residual_scores_split_merge_invariant((preds, target, cuts) in rows_strategy()) {
        for multioutput in [Multioutput::RawValues, Multioutput::VarianceWeighted] {
            check_invariance(&R2Score::<f64>::new(0, multioutput), &preds, &target, &cuts)?;
            check_invariance(&ExplainedVariance::<f64>::new(multioutput), &preds, &target, &cuts)?;
        }
        let relative = RelativeSquaredError::<f64>::new(2, false).unwrap();
        check_scalar_invariance(&relative, &preds, &target, &cuts)?;
        let normalizations =
            [Normalization::Mean, Normalization::Range, Normalization::Std, Normalization::L2];
        for normalization in normalizations {
            let metric = NormalizedRootMeanSquaredError::<f64>::new(normalization, 2).unwrap();
            check_invariance(&metric, &preds, &target, &cuts)?;
        }
    }

    #[test]
    fn row_scores_split_merge_invariant((preds, target, cuts) in rows_strategy()) {
        let (p, t) = (preds.mapv(|x| x - 1e6 * x.signum()), target.mapv(|x| x - 1e6 * x.signum()));
        // Reduction::None concatenates rows in merge order, which the reversed merge changes.
        for reduction in [Reduction::Sum, Reduction::Mean] {
            check_invariance(&CosineSimilarity::<f64>::new(reduction), &p, &t, &cuts)?;
        }
        let (p, t) = (p.mapv(|x| x.abs() + 0.01), t.mapv(|x| x.abs() + 0.01));
        check_invariance(&KLDivergence::<f64>::new(false, Reduction::Mean), &p, &t, &cuts)?;
        let js = JensenShannonDivergence::<f64>::new(false, Reduction::Sum);
        check_invariance(&js, &p, &t, &cuts)?;
    }

    #[test]
    fn bytes_round_trip_restores_state((preds, target, _cuts) in rows_strategy()) {
        fn round_trip<M>(mut metric: M, preds: &ArrayD<f64>, target: &ArrayD<f64>)
            -> Result<(), TestCaseError>
        where
            M: Metric<Kind = PredsTarget<f64>> + PartialEq + std::fmt::Debug,
        {
            metric.update((preds.view(), target.view())).unwrap();
            let restored = M::from_bytes(&metric.to_bytes().unwrap()).unwrap();
            prop_assert_eq!(restored, metric);
            Ok(())
        }
        let (p, t) = (preds.clone().into_dyn(), target.clone().into_dyn());
        round_trip(PearsonCorrCoef::<f64>::new(2).unwrap(), &p, &t)?;
        round_trip(ConcordanceCorrCoef::<f64>::new(2).unwrap(), &p, &t)?;
        round_trip(MeanSquaredError::<f64>::new(true, 2).unwrap(), &p, &t)?;
        round_trip(MeanAbsoluteError::<f64>::new(2).unwrap(), &p, &t)?;
        round_trip(LogCoshError::<f64>::new(2).unwrap(), &p, &t)?;
        round_trip(R2Score::<f64>::new(1, Multioutput::RawValues), &p, &t)?;
        round_trip(ExplainedVariance::<f64>::default(), &p, &t)?;
        round_trip(RelativeSquaredError::<f64>::new(2, true).unwrap(), &p, &t)?;
        let nrmse = NormalizedRootMeanSquaredError::<f64>::new(Normalization::Range, 2);
        round_trip(nrmse.unwrap(), &p, &t)?;
        round_trip(CosineSimilarity::<f64>::new(Reduction::None), &p, &t)?;
        round_trip(MeanAbsolutePercentageError::<f64>::new(), &p, &t)?;
        round_trip(SymmetricMeanAbsolutePercentageError::<f64>::new(), &p, &t)?;
        round_trip(WeightedMeanAbsolutePercentageError::<f64>::new(), &p, &t)?;
        round_trip(MinkowskiDistance::<f64>::new(2.0).unwrap(), &p, &t)?;
        round_trip(CriticalSuccessIndex::<f64>::new(0.0, None).unwrap(), &p, &t)?;
        let (p, t) = (p.mapv(|x| x.abs() + 0.01), t.mapv(|x| x.abs() + 0.01));
        round_trip(MeanSquaredLogError::<f64>::new(), &p, &t)?;
        round_trip(TweedieDevianceScore::<f64>::new(2.0).unwrap(), &p, &t)?;
        round_trip(KLDivergence::<f64>::default(), &p, &t)?;
        round_trip(JensenShannonDivergence::<f64>::default(), &p, &t)?;
        round_trip(SpearmanCorrCoef::<f64>::new(2).unwrap(), &p, &t)?;
        let kendall =
            KendallRankCorrCoef::<f64>::new(KendallVariant::C, true, Alternative::Less, 2);
        round_trip(kendall.unwrap(), &p, &t)?;
    }
}

/// Decodes `bytes` as metric `M` and, if that succeeds, computes and merges it with itself.
fn decode_and_use<M: Metric>(bytes: &[u8]) {
    if let Ok(metric) = M::from_bytes(bytes) {
        let _ = metric.compute();
        let mut copy = metric.clone();
        let _ = copy.merge(&metric);
    }
}

/// Returns a valid serialized state of `metric` after one batch, with `flip` applied to one byte
/// of its body.
fn corrupted_bytes<M>(
    mut metric: M,
    preds: &ArrayD<f64>,
    target: &ArrayD<f64>,
    flip: (usize, u8),
) -> Vec<u8>
where
    M: Metric<Kind = PredsTarget<f64>>,
{
    metric.update((preds.view(), target.view())).unwrap();
    let mut bytes = metric.to_bytes().unwrap();
    let index = flip.0 % bytes.len();
    bytes[index] ^= flip.1;
    bytes
}

proptest! {
    #[test]
    fn from_bytes_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..96)) {
        decode_and_use::<PearsonCorrCoef>(&bytes);
        decode_and_use::<MeanSquaredError>(&bytes);
        decode_and_use::<MeanSquaredLogError>(&bytes);
        decode_and_use::<R2Score>(&bytes);
        decode_and_use::<NormalizedRootMeanSquaredError>(&bytes);
        decode_and_use::<CosineSimilarity>(&bytes);
        decode_and_use::<CriticalSuccessIndex>(&bytes);
        decode_and_use::<TweedieDevianceScore>(&bytes);
        decode_and_use::<KendallRankCorrCoef>(&bytes);
    }

    #[test]
    fn corrupted_state_never_panics(index in any::<usize>(), mask in 1_u8..=255) {
        let (p, t) = (p2(), t2());
        let bytes = corrupted_bytes(PearsonCorrCoef::new(2).unwrap(), &p, &t, (index, mask));
        decode_and_use::<PearsonCorrCoef>(&bytes);
        let bytes = corrupted_bytes(MeanSquaredError::new(true, 2).unwrap(), &p, &t, (index, mask));
        decode_and_use::<MeanSquaredError>(&bytes);
        let nrmse = NormalizedRootMeanSquaredError::new(Normalization::Range, 2).unwrap();
        let bytes = corrupted_bytes(nrmse, &p, &t, (index, mask));
        decode_and_use::<NormalizedRootMeanSquaredError>(&bytes);
        let bytes = corrupted_bytes(R2Score::default(), &p, &t, (index, mask));
        decode_and_use::<R2Score>(&bytes);
        let csi = CriticalSuccessIndex::new(0.0, Some(1)).unwrap();
        let bytes = corrupted_bytes(csi, &p, &t, (index, mask));
        decode_and_use::<CriticalSuccessIndex>(&bytes);
        let kendall = KendallRankCorrCoef::new(KendallVariant::B, true, Alternative::Less, 2);
        let bytes = corrupted_bytes(kendall.unwrap(), &p, &t, (index, mask));
        decode_and_use::<KendallRankCorrCoef>(&bytes);
        let (x, y) = (d1(&X), d1(&Y));
        let (x, y) = (x.mapv(f64::abs), y.mapv(f64::abs));
        let bytes = corrupted_bytes(MeanSquaredLogError::new(), &x, &y, (index, mask));
        decode_and_use::<MeanSquaredLogError>(&bytes);
    }
}

/// `preds = [1, 2, 5]` and `target = [1, 3, 4]` times `scale`.
fn scaled_pair(scale: f64) -> (ArrayD<f64>, ArrayD<f64>) {
    let preds = d1(&[1.0, 2.0, 5.0]).mapv(|x| x * scale);
    let target = d1(&[1.0, 3.0, 4.0]).mapv(|x| x * scale);
    (preds, target)
}

#[test]
fn extreme_magnitudes_keep_scale_free_values() {
    // The scores are ratios, so scaling the data changes nothing. Multiplying by 2^-1040 gives
    // subnormal floats exactly, whose squares underflow to 0 without rescaling, and 1e300 gives
    // squares that overflow. The expected values are numpy's on the unscaled data:
    // sklearn's root_mean_squared_error divided by the mean, range, population std and norm.
    let cases = [
        (Normalization::Mean, 0.306_186_217_847_897_3),
        (Normalization::Range, 0.272_165_526_975_908_7),
        (Normalization::Std, 0.654_653_670_707_977_2),
        (Normalization::L2, 0.160_128_153_805_087_13),
    ];
    let subnormal = f64::from_bits(1 << 34);
    for scale in [subnormal, 1e-300, 1.0, 1e300] {
        let (preds, target) = scaled_pair(scale);
        let rho = scalar(concordance_corrcoef(preds.view(), target.view()).unwrap());
        assert!((rho - 0.85).abs() < 1e-12, "scale {scale:e}: {rho}");

        for (normalization, expected) in cases {
            let value =
                normalized_root_mean_squared_error(preds.view(), target.view(), normalization, 1)
                    .unwrap();
            let value = scalar(value);
            // A mean of subnormal floats keeps only their 34 significant bits.
            let tolerance = if scale == subnormal { 1e-9 } else { 1e-12 };
            let error = (value - expected).abs() / expected;
            assert!(
                error < tolerance,
                "scale {scale:e}, {normalization:?}: {value}"
            );
        }
    }
}

#[test]
fn smape_near_float_maximum_finite() {
    // Each term is 2 |p - t| / (|p| + |t|): 2 for opposite signs and 0 for equal values, so the
    // mean is 4 / 3, although p - t overflows.
    let preds = d1(&[1e308, -1e308, 1.0]);
    let target = d1(&[-1e308, 1e308, 1.0]);
    let value = symmetric_mean_absolute_percentage_error(preds.view(), target.view()).unwrap();
    assert!((value - 4.0 / 3.0).abs() < 1e-15, "{value}");
}
