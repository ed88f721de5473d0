//! The batch kinds that metrics take. Metrics of one kind can share a
//! [`MetricCollection`](crate::MetricCollection).

use std::marker::PhantomData;

use ndarray::{ArrayView1, ArrayView2, ArrayViewD};

use crate::metric::InputKind;

/// Predicted and true labels of the same samples: `(preds, target)`, the extrinsic clustering
/// input.
#[derive(Debug, Clone, Copy)]
pub struct LabelPairs;

impl InputKind for LabelPairs {
    type Input<'a> = (ArrayView1<'a, i64>, ArrayView1<'a, i64>);
}

/// Feature rows and the cluster label of each row: `(data, labels)`, the intrinsic clustering
/// input. `F` is `f32` or `f64`.
#[derive(Debug, Clone, Copy)]
pub struct DataLabels<F>(PhantomData<F>);

impl<F: 'static> InputKind for DataLabels<F> {
    type Input<'a> = (ArrayView2<'a, F>, ArrayView1<'a, i64>);
}

/// Values of any shape with optional weights of the same shape: `(value, weight)`, the
/// aggregation input.
#[derive(Debug, Clone, Copy)]
pub struct WeightedValues;

impl InputKind for WeightedValues {
    type Input<'a> = (ArrayViewD<'a, f64>, Option<ArrayViewD<'a, f64>>);
}
