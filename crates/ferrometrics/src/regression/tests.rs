//! Unit tests of the regression internals: compensated sums, moments and batch shapes.

use ndarray::{array, ArrayD, IxDyn};

use super::batch::{to_columns, Layout};
use super::moments::Comoments;
use super::sums::CompensatedSum;
use crate::Error;

#[test]
fn compensated_sum_keeps_small_terms() {
    let sum: CompensatedSum = [1.0, 1e100, 1.0, -1e100].into_iter().collect();
    assert_eq!(sum.value(), 2.0);
}

#[test]
fn compensated_sum_propagates_infinity() {
    let sum: CompensatedSum = [1.0, f64::INFINITY].into_iter().collect();
    assert_eq!(sum.value(), f64::INFINITY);
}

#[test]
fn comoments_merge_with_empty_is_identity() {
    let x = array![1.0, 2.0, 4.0];
    let y = array![3.0, 1.0, 0.0];
    let batch = Comoments::of_batch(x.view(), y.view());

    let mut left = Comoments::default();
    left.merge(&batch);
    assert_eq!(left, batch);

    let mut right = batch;
    right.merge(&Comoments::default());
    assert_eq!(right, batch);
}

#[test]
fn comoments_match_two_pass_definition() {
    let x = array![1.0, 2.0, 4.0, 7.0];
    let y = array![3.0, 1.0, 0.0, -2.0];
    let mut merged = Comoments::of_batch(x.slice(ndarray::s![..1]), y.slice(ndarray::s![..1]));
    merged.merge(&Comoments::of_batch(
        x.slice(ndarray::s![1..]),
        y.slice(ndarray::s![1..]),
    ));

    // mean(x) = 3.5 and mean(y) = 0.5.
    assert_eq!(merged.count(), 4);
    assert!((merged.m2_x() - 21.0).abs() < 1e-12);
    assert!((merged.m2_y() - 13.0).abs() < 1e-12);
    assert!((merged.c_xy() - -16.0).abs() < 1e-12);
    assert!((merged.mean_difference() - 3.0).abs() < 1e-15);
}

#[test]
fn comoments_zero_variance_pearson_is_nan() {
    let x = array![2.0, 2.0, 2.0];
    let y = array![1.0, 2.0, 3.0];
    assert!(Comoments::of_batch(x.view(), y.view()).pearson().is_nan());
}

#[test]
fn flatten_layout_accepts_any_shape_for_one_output() {
    let values =
        ArrayD::from_shape_vec(IxDyn(&[2, 2, 2]), (0..8).map(f64::from).collect()).unwrap();
    let (preds, _) = to_columns(&values.view(), &values.view(), 1, Layout::Flatten).unwrap();
    assert_eq!(preds.shape(), &[8, 1]);

    let error = to_columns(&values.view(), &values.view(), 1, Layout::Outputs).unwrap_err();
    assert!(matches!(&error, Error::InvalidArgument { argument, .. } if argument == "num_outputs"));
}

#[test]
fn scalar_input_is_one_sample() {
    let value = ndarray::arr0(3.0).into_dyn();
    let (preds, _) = to_columns(&value.view(), &value.view(), 1, Layout::Flatten).unwrap();
    assert_eq!(preds.shape(), &[1, 1]);
}

#[test]
fn comoments_constant_inexact_value_has_zero_variance() {
    let x = ndarray::Array1::from(vec![0.1; 7]);
    let y = ndarray::Array1::from((0..7).map(f64::from).collect::<Vec<_>>());
    let mut merged = Comoments::of_batch(x.slice(ndarray::s![..3]), y.slice(ndarray::s![..3]));
    merged.merge(&Comoments::of_batch(
        x.slice(ndarray::s![3..]),
        y.slice(ndarray::s![3..]),
    ));

    assert_eq!(merged.m2_x(), 0.0);
    assert_eq!(merged.c_xy(), 0.0);
    assert!(merged.pearson().is_nan());
    assert_eq!(Comoments::of_batch(x.view(), y.view()).m2_x(), 0.0);
}

#[test]
fn comoments_cancelling_mean_keeps_precision() {
    // Values of both signs whose mean, about 1.4e-7, is far smaller than their spread. The sum of
    // the doubles is exactly 3.000001 - 3.0, a difference that Sterbenz's lemma makes exact.
    let x = ndarray::Array1::from(vec![-3.0, 3.000_001, -1.5, 1.5, 0.1, -0.1, 0.0]);
    let y = x.clone();
    let mut merged = Comoments::default();
    for i in 0..x.len() {
        merged.merge(&Comoments::of_batch(
            x.slice(ndarray::s![i..=i]),
            y.slice(ndarray::s![i..=i]),
        ));
    }
    let exact = (3.000_001_f64 - 3.0) / 7.0;
    assert!((merged.mean_x() - exact).abs() <= 1e-15 * exact);
}
