//! Tests of the aggregation metrics: NaN strategies, weights, empty states, windows, merging in
//! any order, and serialization.

use ndarray::{arr0, array, ArrayD};
use proptest::prelude::*;

use super::*;
use crate::{Error, Metric};

fn dyn1(values: &[f64]) -> ArrayD<f64> {
    ArrayD::from_shape_vec(vec![values.len()], values.to_vec()).unwrap()
}

fn update<M: Metric<Kind = crate::inputs::WeightedValues>>(metric: &mut M, values: &[f64]) {
    metric.update((dyn1(values).view(), None)).unwrap();
}

#[test]
fn nan_strategy_parses_torchmetrics_spellings() {
    assert_eq!("error".parse::<NanStrategy>(), Ok(NanStrategy::Error));
    assert_eq!("warn".parse::<NanStrategy>(), Ok(NanStrategy::Warn));
    assert_eq!("ignore".parse::<NanStrategy>(), Ok(NanStrategy::Ignore));
    assert_eq!("disable".parse::<NanStrategy>(), Ok(NanStrategy::Disable));
    assert_eq!(
        "-1.5".parse::<NanStrategy>(),
        Ok(NanStrategy::Replace(-1.5))
    );
}

#[test]
fn nan_strategy_rejects_unknown_string() {
    let error = "skip".parse::<NanStrategy>().unwrap_err();
    assert!(
        matches!(&error, Error::InvalidArgument { argument, .. } if argument == "nan_strategy")
    );
    assert!(error.to_string().contains("\"skip\""));
}

#[test]
fn nan_strategy_display_parses_back() {
    let strategies = [
        NanStrategy::Error,
        NanStrategy::Warn,
        NanStrategy::Ignore,
        NanStrategy::Disable,
        NanStrategy::Replace(0.25),
        NanStrategy::Replace(-3.0),
        NanStrategy::Replace(f64::NAN),
    ];
    for strategy in strategies {
        assert_eq!(strategy.to_string().parse::<NanStrategy>(), Ok(strategy));
    }
}

#[test]
fn nan_strategy_replace_nan_equals_itself() {
    assert_eq!(
        NanStrategy::Replace(f64::NAN),
        NanStrategy::Replace(f64::NAN)
    );
    assert_ne!(NanStrategy::Replace(1.0), NanStrategy::Replace(2.0));
    assert_ne!(NanStrategy::Warn, NanStrategy::Ignore);
}

#[test]
fn error_strategy_names_value_and_index() {
    let mut metric = SumMetric::new(NanStrategy::Error);
    let error = metric
        .update((dyn1(&[1.0, f64::NAN]).view(), None))
        .unwrap_err();
    match error {
        Error::NonFinite {
            argument, location, ..
        } => {
            assert_eq!(argument, "value");
            assert_eq!(location, "index 1");
        }
        other => panic!("expected NonFinite, got {other:?}"),
    }
}

#[test]
fn error_strategy_names_multi_dimensional_index() {
    let mut metric = MaxMetric::new(NanStrategy::Error);
    let values = array![[1.0, 2.0], [f64::NAN, 4.0]].into_dyn();
    let error = metric.update((values.view(), None)).unwrap_err();
    assert!(matches!(error, Error::NonFinite { location, .. } if location == "index [1, 0]"));
}

#[test]
fn error_strategy_names_scalar_and_3d_index() {
    let mut metric = SumMetric::new(NanStrategy::Error);
    let error = metric
        .update((arr0(f64::NAN).into_dyn().view(), None))
        .unwrap_err();
    assert!(matches!(error, Error::NonFinite { location, .. } if location == "the scalar"));

    let mut values = ArrayD::<f64>::zeros(vec![2, 3, 4]);
    values[[1, 2, 3]] = f64::NAN;
    let error = metric.update((values.view(), None)).unwrap_err();
    assert!(matches!(error, Error::NonFinite { location, .. } if location == "index [1, 2, 3]"));
}

#[test]
fn error_strategy_names_weight() {
    let mut metric = MeanMetric::new(NanStrategy::Error);
    let weight = dyn1(&[1.0, 1.0, f64::NAN]);
    let error = metric
        .update((dyn1(&[1.0, 2.0, 3.0]).view(), Some(weight.view())))
        .unwrap_err();
    assert!(matches!(
        error,
        Error::NonFinite { argument, location, .. } if argument == "weight" && location == "index 2"
    ));
}

#[test]
fn rejected_batch_leaves_state_unchanged() {
    let mut metric = MeanMetric::new(NanStrategy::Error);
    update(&mut metric, &[1.0, 3.0]);
    let before = metric.clone();
    assert!(metric
        .update((dyn1(&[5.0, f64::NAN]).view(), None))
        .is_err());
    assert_eq!(metric, before);
    assert_eq!(metric.compute().unwrap(), 2.0);
}

#[test]
fn weight_rejected_by_unweighted_metrics() {
    let values = dyn1(&[1.0]);
    let weight = dyn1(&[1.0]);
    let batch = || (values.view(), Some(weight.view()));
    let errors = [
        SumMetric::default().update(batch()).unwrap_err(),
        MaxMetric::default().update(batch()).unwrap_err(),
        MinMetric::default().update(batch()).unwrap_err(),
        CatMetric::default().update(batch()).unwrap_err(),
        RunningSum::default().update(batch()).unwrap_err(),
    ];
    for error in errors {
        assert!(matches!(&error, Error::InvalidInput { argument, .. } if argument == "weight"));
        assert!(error.to_string().contains("MeanMetric"));
    }
}

#[test]
fn mean_broadcasts_scalar_weight() {
    let mut metric = MeanMetric::default();
    let weight = arr0(2.0).into_dyn();
    metric
        .update((dyn1(&[1.0, 2.0, 6.0]).view(), Some(weight.view())))
        .unwrap();
    assert_eq!(metric.compute().unwrap(), 3.0);
}

#[test]
fn mean_broadcasts_row_weight() {
    let mut metric = MeanMetric::default();
    let values = array![[1.0, 2.0], [3.0, 4.0]].into_dyn();
    let weight = dyn1(&[1.0, 3.0]);
    metric.update((values.view(), Some(weight.view()))).unwrap();
    // (1 + 6 + 3 + 12) / (1 + 3 + 1 + 3)
    assert_eq!(metric.compute().unwrap(), 22.0 / 8.0);
}

#[test]
fn mean_rejects_unbroadcastable_weight() {
    let mut metric = MeanMetric::default();
    let weight = dyn1(&[1.0, 2.0]);
    let error = metric
        .update((dyn1(&[1.0, 2.0, 3.0]).view(), Some(weight.view())))
        .unwrap_err();
    assert!(matches!(&error, Error::InvalidInput { argument, .. } if argument == "weight"));
    assert!(error.to_string().contains("[2]"));
    assert!(error.to_string().contains("[3]"));
}

#[test]
fn mean_ignore_drops_value_with_nan_weight() {
    let mut metric = MeanMetric::new(NanStrategy::Ignore);
    let weight = dyn1(&[1.0, f64::NAN, 3.0]);
    metric
        .update((dyn1(&[2.0, 100.0, f64::NAN]).view(), Some(weight.view())))
        .unwrap();
    assert_eq!(metric.compute().unwrap(), 2.0);
    assert_eq!(metric.nan_count(), 2);
}

#[test]
fn mean_replace_sets_value_and_unit_weight() {
    // TorchMetrics replaces the value wherever the value or the weight is NaN, with weight 1.
    let mut metric = MeanMetric::new(NanStrategy::Replace(0.0));
    let weight = dyn1(&[3.0, f64::NAN, 5.0]);
    metric
        .update((dyn1(&[1.0, 9.0, f64::NAN]).view(), Some(weight.view())))
        .unwrap();
    // (3 * 1 + 1 * 0 + 1 * 0) / (3 + 1 + 1)
    assert_eq!(metric.compute().unwrap(), 3.0 / 5.0);
    assert_eq!(metric.nan_count(), 2);
}

#[test]
fn mean_zero_weight_sum_is_nan() {
    let mut metric = MeanMetric::default();
    let weight = dyn1(&[1.0, -1.0]);
    metric
        .update((dyn1(&[1.0, 1.0]).view(), Some(weight.view())))
        .unwrap();
    assert!(metric.compute().unwrap().is_nan());
}

#[test]
fn empty_metrics_compute_torchmetrics_defaults() {
    assert_eq!(SumMetric::default().compute().unwrap(), 0.0);
    assert!(MeanMetric::default().compute().unwrap().is_nan());
    assert_eq!(MaxMetric::default().compute().unwrap(), f64::NEG_INFINITY);
    assert_eq!(MinMetric::default().compute().unwrap(), f64::INFINITY);
    assert_eq!(CatMetric::default().compute().unwrap().len(), 0);
    assert_eq!(RunningSum::default().compute().unwrap(), 0.0);
    assert!(RunningMean::default().compute().unwrap().is_nan());
}

#[test]
fn all_nan_batch_leaves_empty_result() {
    let mut max = MaxMetric::default();
    update(&mut max, &[f64::NAN, f64::NAN]);
    assert_eq!(max.compute().unwrap(), f64::NEG_INFINITY);
    assert_eq!(max.nan_count(), 2);

    let mut mean = MeanMetric::default();
    assert!(mean
        .forward((dyn1(&[f64::NAN]).view(), None))
        .unwrap()
        .is_nan());
    assert_eq!(mean.nan_count(), 1);
}

#[test]
fn infinite_values_pass_through() {
    let mut sum = SumMetric::new(NanStrategy::Error);
    update(&mut sum, &[1.0, f64::INFINITY]);
    assert_eq!(sum.compute().unwrap(), f64::INFINITY);
    update(&mut sum, &[f64::NEG_INFINITY]);
    assert!(sum.compute().unwrap().is_nan());

    let mut min = MinMetric::new(NanStrategy::Error);
    update(&mut min, &[f64::NEG_INFINITY, 0.0]);
    assert_eq!(min.compute().unwrap(), f64::NEG_INFINITY);

    let mut mean = MeanMetric::new(NanStrategy::Error);
    update(&mut mean, &[f64::INFINITY, 0.0]);
    assert_eq!(mean.compute().unwrap(), f64::INFINITY);
}

#[test]
fn disable_lets_nan_propagate() {
    let mut sum = SumMetric::new(NanStrategy::Disable);
    update(&mut sum, &[1.0, f64::NAN]);
    assert!(sum.compute().unwrap().is_nan());
    assert_eq!(sum.nan_count(), 0);

    let mut max = MaxMetric::new(NanStrategy::Disable);
    update(&mut max, &[f64::NAN, 1.0]);
    assert!(max.compute().unwrap().is_nan());

    let mut min = MinMetric::new(NanStrategy::Disable);
    update(&mut min, &[1.0, f64::NAN]);
    assert!(min.compute().unwrap().is_nan());
}

#[test]
fn nan_count_merges_and_resets() {
    let mut left = SumMetric::new(NanStrategy::Ignore);
    let mut right = SumMetric::new(NanStrategy::Ignore);
    update(&mut left, &[f64::NAN, 1.0]);
    update(&mut right, &[f64::NAN, f64::NAN]);
    left.merge(&right).unwrap();
    assert_eq!(left.nan_count(), 3);
    assert_eq!(left.compute().unwrap(), 1.0);

    left.reset();
    assert_eq!(left.nan_count(), 0);
    assert_eq!(left.nan_strategy(), NanStrategy::Ignore);
}

#[test]
fn merge_rejects_other_nan_strategy() {
    let mut warn = MeanMetric::new(NanStrategy::Warn);
    let error = warn
        .merge(&MeanMetric::new(NanStrategy::Ignore))
        .unwrap_err();
    assert!(
        matches!(&error, Error::IncompatibleState { message } if message.contains("nan_strategy"))
    );

    let mut window3 = RunningSum::new(3, NanStrategy::Warn).unwrap();
    let window4 = RunningSum::new(4, NanStrategy::Warn).unwrap();
    let error = window3.merge(&window4).unwrap_err();
    assert!(matches!(&error, Error::IncompatibleState { message } if message.contains("window")));
    assert!(window3.merge_aligned(&window4).is_err());
}

#[test]
fn forward_returns_batch_value_and_accumulates() {
    let mut sum = SumMetric::default();
    update(&mut sum, &[10.0]);
    assert_eq!(sum.forward((dyn1(&[1.0, 2.0]).view(), None)).unwrap(), 3.0);
    assert_eq!(sum.compute().unwrap(), 13.0);

    let mut cat = CatMetric::default();
    update(&mut cat, &[1.0]);
    let batch = cat.forward((dyn1(&[2.0, 3.0]).view(), None)).unwrap();
    assert_eq!(batch, array![2.0, 3.0]);
    assert_eq!(cat.compute().unwrap(), array![1.0, 2.0, 3.0]);
}

#[test]
fn cat_flattens_in_row_major_order() {
    let mut cat = CatMetric::default();
    let values = array![[1.0, 2.0], [3.0, 4.0]].into_dyn();
    cat.update((values.t(), None)).unwrap();
    // The transposed view is [[1, 3], [2, 4]] in logical order.
    assert_eq!(cat.compute().unwrap(), array![1.0, 3.0, 2.0, 4.0]);
}

#[test]
fn running_sum_all_nan_update_takes_a_slot() {
    let mut metric = RunningSum::new(2, NanStrategy::Ignore).unwrap();
    update(&mut metric, &[5.0]);
    update(&mut metric, &[1.0]);
    update(&mut metric, &[f64::NAN]);
    assert_eq!(metric.compute().unwrap(), 1.0);
    update(&mut metric, &[2.0]);
    assert_eq!(metric.compute().unwrap(), 2.0);
    assert_eq!(metric.nan_count(), 1);
}

#[test]
fn running_mean_takes_weights() {
    let mut metric = RunningMean::new(2, NanStrategy::Warn).unwrap();
    let weight = arr0(4.0).into_dyn();
    metric.update((dyn1(&[100.0]).view(), None)).unwrap();
    metric
        .update((dyn1(&[1.0]).view(), Some(weight.view())))
        .unwrap();
    metric.update((dyn1(&[6.0]).view(), None)).unwrap();
    // The window contains 1 with weight 4 and 6 with weight 1.
    assert_eq!(metric.compute().unwrap(), 2.0);
}

#[test]
fn running_merge_appends_later_updates() {
    let mut sequential = RunningSum::new(3, NanStrategy::Warn).unwrap();
    let mut first = sequential.clone();
    let mut second = sequential.clone();
    for i in 0..4 {
        update(&mut sequential, &[f64::from(i)]);
        update(&mut first, &[f64::from(i)]);
    }
    for i in 4..6 {
        update(&mut sequential, &[f64::from(i)]);
        update(&mut second, &[f64::from(i)]);
    }
    first.merge(&second).unwrap();
    assert_eq!(first, sequential);
    assert_eq!(first.compute().unwrap(), 3.0 + 4.0 + 5.0);
}

#[test]
fn running_merge_aligned_pads_shorter_window() {
    let mut short = RunningSum::new(3, NanStrategy::Warn).unwrap();
    let mut long = short.clone();
    update(&mut short, &[100.0]);
    for i in 1..=4 {
        update(&mut long, &[f64::from(i)]);
    }
    short.merge_aligned(&long).unwrap();
    // Long keeps 2, 3, 4; the 100 of short adds to the most recent slot.
    assert_eq!(short.compute().unwrap(), 109.0);

    let mut long_first = long.clone();
    let mut short_again = RunningSum::new(3, NanStrategy::Warn).unwrap();
    update(&mut short_again, &[100.0]);
    long_first.merge_aligned(&short_again).unwrap();
    assert_eq!(long_first.compute().unwrap(), 109.0);
}

#[test]
fn running_reset_keeps_window() {
    let mut metric = RunningMean::new(2, NanStrategy::Warn).unwrap();
    update(&mut metric, &[1.0, f64::NAN]);
    metric.reset();
    assert!(metric.compute().unwrap().is_nan());
    assert_eq!(metric.nan_count(), 0);
    assert_eq!(metric.window(), 2);
}

#[test]
fn running_rejects_zero_window() {
    let error = RunningMean::new(0, NanStrategy::Warn).unwrap_err();
    assert!(matches!(error, Error::InvalidArgument { argument, .. } if argument == "window"));
}

#[test]
fn info_names_are_torchmetrics_classes() {
    assert_eq!(SumMetric::default().info().name, "SumMetric");
    assert_eq!(MeanMetric::default().info().name, "MeanMetric");
    assert_eq!(MaxMetric::default().info().name, "MaxMetric");
    assert_eq!(MinMetric::default().info().name, "MinMetric");
    assert_eq!(CatMetric::default().info().name, "CatMetric");
    assert_eq!(RunningSum::default().info().name, "RunningSum");
    assert_eq!(RunningMean::default().info().name, "RunningMean");
    assert_eq!(MaxMetric::default().info().higher_is_better, None);
}

/// Returns whether two sums agree within 1e-12 relative, with an absolute allowance of
/// `1e-18 * magnitude` for values that cancel almost exactly.
fn close(a: f64, b: f64, magnitude: f64) -> bool {
    (a - b).abs() <= 1e-12 * a.abs().max(b.abs()) + 1e-18 * magnitude
}

/// Batches of values and an order in which to merge their states.
fn batches_and_order() -> impl Strategy<Value = (Vec<Vec<f64>>, Vec<usize>)> {
    let batch = prop::collection::vec(-1e6..1e6f64, 0..20);
    prop::collection::vec(batch, 1..8).prop_flat_map(|batches| {
        let order: Vec<usize> = (0..batches.len()).collect();
        (Just(batches), Just(order).prop_shuffle())
    })
}

/// Updates one metric with all values at once and one metric per batch, then merges the batch
/// metrics in `order`. Returns both.
fn one_pass_and_merged<M>(template: &M, batches: &[Vec<f64>], order: &[usize]) -> (M, M)
where
    M: Metric<Kind = crate::inputs::WeightedValues>,
{
    let all: Vec<f64> = batches.concat();
    let mut one_pass = template.empty();
    update(&mut one_pass, &all);

    let mut merged = template.empty();
    for &index in order {
        let mut part = template.empty();
        update(&mut part, &batches[index]);
        merged.merge(&part).unwrap();
    }
    (one_pass, merged)
}

proptest! {
    #[test]
    fn sum_merge_any_order((batches, order) in batches_and_order()) {
        let (one_pass, merged) = one_pass_and_merged(&SumMetric::default(), &batches, &order);
        let magnitude: f64 = batches.concat().iter().map(|x| x.abs()).sum();
        let (expected, actual) = (one_pass.compute().unwrap(), merged.compute().unwrap());
        prop_assert!(close(expected, actual, magnitude), "{expected} != {actual}");
    }

    #[test]
    fn mean_merge_any_order((batches, order) in batches_and_order()) {
        let (one_pass, merged) = one_pass_and_merged(&MeanMetric::default(), &batches, &order);
        let magnitude: f64 = batches.concat().iter().map(|x| x.abs()).sum();
        let (expected, actual) = (one_pass.compute().unwrap(), merged.compute().unwrap());
        prop_assert_eq!(expected.is_nan(), actual.is_nan());
        if !expected.is_nan() {
            prop_assert!(close(expected, actual, magnitude), "{expected} != {actual}");
        }
    }

    #[test]
    fn weighted_mean_merge_split(
        pairs in prop::collection::vec((-1e3..1e3f64, 0.1..10.0f64), 1..60),
        split in 0usize..60,
    ) {
        let split = split.min(pairs.len());
        let (values, weights): (Vec<f64>, Vec<f64>) = pairs.iter().copied().unzip();
        let batch = |range: std::ops::Range<usize>| (dyn1(&values[range.clone()]), dyn1(&weights[range]));

        let mut one_pass = MeanMetric::default();
        let (all_values, all_weights) = batch(0..pairs.len());
        one_pass.update((all_values.view(), Some(all_weights.view()))).unwrap();

        let mut merged = MeanMetric::default();
        let mut head = MeanMetric::default();
        let (tail_values, tail_weights) = batch(split..pairs.len());
        merged.update((tail_values.view(), Some(tail_weights.view()))).unwrap();
        let (head_values, head_weights) = batch(0..split);
        head.update((head_values.view(), Some(head_weights.view()))).unwrap();
        merged.merge(&head).unwrap();

        let magnitude: f64 = values.iter().zip(&weights).map(|(x, w)| (x * w).abs()).sum();
        let (expected, actual) = (one_pass.compute().unwrap(), merged.compute().unwrap());
        prop_assert!(close(expected, actual, magnitude), "{expected} != {actual}");
    }

    #[test]
    fn extremes_merge_any_order((batches, order) in batches_and_order()) {
        let (one_pass, merged) = one_pass_and_merged(&MaxMetric::default(), &batches, &order);
        prop_assert_eq!(one_pass.compute().unwrap(), merged.compute().unwrap());
        let (one_pass, merged) = one_pass_and_merged(&MinMetric::default(), &batches, &order);
        prop_assert_eq!(one_pass.compute().unwrap(), merged.compute().unwrap());
    }

    #[test]
    fn cat_merge_update_order((batches, order) in batches_and_order()) {
        let in_order: Vec<usize> = (0..batches.len()).collect();
        let (one_pass, merged) = one_pass_and_merged(&CatMetric::default(), &batches, &in_order);
        prop_assert_eq!(one_pass.compute().unwrap(), merged.compute().unwrap());

        // Another merge order gives the same values in another order.
        let (one_pass, shuffled) = one_pass_and_merged(&CatMetric::default(), &batches, &order);
        let mut expected = one_pass.compute().unwrap().to_vec();
        let mut actual = shuffled.compute().unwrap().to_vec();
        expected.sort_by(f64::total_cmp);
        actual.sort_by(f64::total_cmp);
        prop_assert_eq!(expected, actual);
    }

    #[test]
    fn running_merge_consecutive_runs(
        (batches, _) in batches_and_order(),
        window in 1usize..6,
        split in 0usize..8,
    ) {
        let split = split.min(batches.len());
        let template = RunningMean::new(window, NanStrategy::Warn).unwrap();
        let mut sequential = template.clone();
        let mut head = template.clone();
        let mut tail = template.clone();
        for (index, batch) in batches.iter().enumerate() {
            update(&mut sequential, batch);
            update(if index < split { &mut head } else { &mut tail }, batch);
        }
        head.merge(&tail).unwrap();
        prop_assert_eq!(head, sequential);
    }

    #[test]
    fn states_bytes_round_trip(
        values in prop::collection::vec(prop_oneof![-1e6..1e6f64, Just(f64::NAN)], 0..30),
    ) {
        fn round_trip<M: Metric + PartialEq + std::fmt::Debug>(metric: M) -> Result<(), TestCaseError> {
            let restored = M::from_bytes(&metric.to_bytes().unwrap()).unwrap();
            prop_assert_eq!(restored, metric);
            Ok(())
        }
        let batch = dyn1(&values);
        let mut sum = SumMetric::default();
        let mut mean = MeanMetric::new(NanStrategy::Replace(0.5));
        let mut max = MaxMetric::default();
        let mut min = MinMetric::new(NanStrategy::Ignore);
        let mut cat = CatMetric::default();
        let mut running_sum = RunningSum::new(2, NanStrategy::Warn).unwrap();
        let mut running_mean = RunningMean::default();
        sum.update((batch.view(), None)).unwrap();
        mean.update((batch.view(), None)).unwrap();
        max.update((batch.view(), None)).unwrap();
        min.update((batch.view(), None)).unwrap();
        cat.update((batch.view(), None)).unwrap();
        running_sum.update((batch.view(), None)).unwrap();
        running_mean.update((batch.view(), None)).unwrap();
        round_trip(sum)?;
        round_trip(mean)?;
        round_trip(max)?;
        round_trip(min)?;
        round_trip(cat)?;
        round_trip(running_sum)?;
        round_trip(running_mean)?;
    }
}
