//! `MultioutputWrapper`: one copy of a metric per output column.

use ndarray::{ArrayD, ArrayViewD, Axis, Slice};
use serde::{Deserialize, Serialize};

use super::value_to_array;
use crate::error::{Error, Result};
use crate::inputs::WeightedValues;
use crate::metric::{check_same_config, Input, InputKind, Metric, MetricInfo};
use crate::numerics::Real;
use crate::regression::PredsTarget;

/// A batch kind whose arrays can be split into one batch per output along an output axis.
pub trait SplitOutputs: InputKind {
    /// The batch of one output, owning its arrays.
    type Column;

    /// Returns the length of the output axis `output_dim` (negative counts from the end).
    ///
    /// # Errors
    ///
    /// Returns an error naming the input whose arrays lack the axis or disagree on its length.
    fn num_outputs(input: &Self::Input<'_>, output_dim: isize) -> Result<usize>;

    /// Returns the batch of output `index`: the arrays at that index of the output axis, with
    /// the axis removed if `squeeze`, and without the samples (indices of the first axis) that
    /// hold a NaN in any array if `remove_nans`.
    fn column(
        input: &Self::Input<'_>,
        output_dim: isize,
        index: usize,
        remove_nans: bool,
        squeeze: bool,
    ) -> Self::Column;

    /// Returns a view of an output's batch.
    fn view(column: &Self::Column) -> Self::Input<'_>;
}

/// Returns the non-negative index of axis `output_dim` of an array with `ndim` axes.
fn resolve_axis(name: &str, ndim: usize, output_dim: isize) -> Result<usize> {
    let resolved = if output_dim < 0 {
        ndim as isize + output_dim
    } else {
        output_dim
    };
    if resolved < 0 || resolved as usize >= ndim {
        return Err(Error::invalid_argument(
            "output_dim",
            format!(
                "axis {output_dim} does not exist in `{name}`, which has {ndim} axes; pass an \
                 axis in [-{ndim}, {ndim})"
            ),
        ));
    }
    Ok(resolved as usize)
}

fn extract<T: Clone>(
    array: &ArrayViewD<'_, T>,
    axis: usize,
    index: usize,
    squeeze: bool,
) -> ArrayD<T> {
    if squeeze {
        array.index_axis(Axis(axis), index).to_owned()
    } else {
        array
            .slice_axis(Axis(axis), Slice::from(index..=index))
            .to_owned()
    }
}

/// Returns the indices of the first axis whose entries hold no NaN in any of `arrays`.
fn rows_without_nan(arrays: &[&ArrayD<f64>]) -> Option<Vec<usize>> {
    let rows = arrays
        .first()
        .filter(|array| array.ndim() > 0)?
        .len_of(Axis(0));
    let kept: Vec<usize> = (0..rows)
        .filter(|&row| {
            arrays.iter().all(|array| {
                array.ndim() == 0
                    || array.len_of(Axis(0)) != rows
                    || !array.index_axis(Axis(0), row).iter().any(|x| x.is_nan())
            })
        })
        .collect();
    (kept.len() < rows).then_some(kept)
}

impl<F: Real> SplitOutputs for PredsTarget<F> {
    type Column = (ArrayD<F>, ArrayD<F>);

    fn num_outputs((preds, target): &Self::Input<'_>, output_dim: isize) -> Result<usize> {
        let preds_axis = resolve_axis("preds", preds.ndim(), output_dim)?;
        let target_axis = resolve_axis("target", target.ndim(), output_dim)?;
        let outputs = preds.len_of(Axis(preds_axis));
        crate::check_same_length("preds", outputs, "target", target.len_of(Axis(target_axis)))?;
        Ok(outputs)
    }

    fn column(
        (preds, target): &Self::Input<'_>,
        output_dim: isize,
        index: usize,
        remove_nans: bool,
        squeeze: bool,
    ) -> Self::Column {
        let preds_axis = resolve_axis("preds", preds.ndim(), output_dim).unwrap_or(0);
        let target_axis = resolve_axis("target", target.ndim(), output_dim).unwrap_or(0);
        let preds = extract(preds, preds_axis, index, squeeze);
        let target = extract(target, target_axis, index, squeeze);
        if !remove_nans {
            return (preds, target);
        }
        let wide = [preds.mapv(|x| x.to_f64()), target.mapv(|x| x.to_f64())];
        match rows_without_nan(&[&wide[0], &wide[1]]) {
            Some(kept) => (preds.select(Axis(0), &kept), target.select(Axis(0), &kept)),
            None => (preds, target),
        }
    }

    fn view((preds, target): &Self::Column) -> Self::Input<'_> {
        (preds.view(), target.view())
    }
}

impl SplitOutputs for WeightedValues {
    type Column = (ArrayD<f64>, Option<ArrayD<f64>>);

    /// Splits `value`, and `weight` when it has the shape of `value`. A weight of another shape
    /// is rejected, because its output axis is ambiguous.
    fn num_outputs((value, weight): &Self::Input<'_>, output_dim: isize) -> Result<usize> {
        let axis = resolve_axis("value", value.ndim(), output_dim)?;
        if let Some(weight) = weight {
            if weight.shape() != value.shape() {
                return Err(Error::invalid_input(
                    "weight",
                    format!(
                        "MultioutputWrapper needs a weight of the shape of `value`, {:?}, got \
                         {:?}; pass a weight per value",
                        value.shape(),
                        weight.shape()
                    ),
                ));
            }
        }
        Ok(value.len_of(Axis(axis)))
    }

    fn column(
        (value, weight): &Self::Input<'_>,
        output_dim: isize,
        index: usize,
        remove_nans: bool,
        squeeze: bool,
    ) -> Self::Column {
        let axis = resolve_axis("value", value.ndim(), output_dim).unwrap_or(0);
        let value = extract(value, axis, index, squeeze);
        let weight = weight
            .as_ref()
            .map(|weight| extract(weight, axis, index, squeeze));
        if !remove_nans {
            return (value, weight);
        }
        let mut arrays = vec![&value];
        arrays.extend(weight.as_ref());
        match rows_without_nan(&arrays) {
            Some(kept) => {
                let weight = weight.map(|weight| weight.select(Axis(0), &kept));
                (value.select(Axis(0), &kept), weight)
            }
            None => (value, weight),
        }
    }

    fn view((value, weight): &Self::Column) -> Self::Input<'_> {
        (value.view(), weight.as_ref().map(|weight| weight.view()))
    }
}

/// One copy of a metric per output, each fed its column of the batch, as TorchMetrics'
/// `MultioutputWrapper`.
///
/// The batch's arrays are split along `output_dim` into `num_outputs` batches. With
/// `remove_nans`, each output's batch drops the samples (rows of the first axis) that hold a NaN
/// in any of its arrays. With `squeeze_outputs`, the output axis is removed from each column;
/// otherwise it is kept with length 1. `compute` stacks the outputs' values along a new first
/// axis.
///
/// # Example
///
/// ```
/// use ferrometrics::aggregation::SumMetric;
/// use ferrometrics::wrappers::MultioutputWrapper;
/// use ferrometrics::Metric;
/// use ndarray::array;
///
/// let mut metric = MultioutputWrapper::new(SumMetric::default(), 2, -1, true, true)?;
/// metric.update((array![[1.0, 10.0], [2.0, f64::NAN]].into_dyn().view(), None))?;
/// assert_eq!(metric.compute()?, array![3.0, 10.0].into_dyn());
/// # Ok::<(), ferrometrics::Error>(())
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MultioutputWrapper<M> {
    metrics: Vec<M>,
    output_dim: isize,
    remove_nans: bool,
    squeeze_outputs: bool,
}

impl<M: Metric> MultioutputWrapper<M>
where
    M::Kind: SplitOutputs,
{
    /// Wraps `num_outputs` empty copies of `base_metric`.
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidArgument`] if `num_outputs` is 0.
    pub fn new(
        base_metric: M,
        num_outputs: usize,
        output_dim: isize,
        remove_nans: bool,
        squeeze_outputs: bool,
    ) -> Result<Self> {
        if num_outputs == 0 {
            return Err(Error::invalid_argument(
                "num_outputs",
                "got 0; pass the positive number of outputs",
            ));
        }
        Ok(Self {
            metrics: vec![base_metric.empty(); num_outputs],
            output_dim,
            remove_nans,
            squeeze_outputs,
        })
    }

    /// Returns the per-output metrics.
    pub fn metrics(&self) -> &[M] {
        &self.metrics
    }

    /// Updates an empty copy of each output's metric with its column.
    fn update_columns(&self, input: &Input<'_, M>) -> Result<Vec<M>> {
        let outputs = <M::Kind as SplitOutputs>::num_outputs(input, self.output_dim)?;
        if outputs != self.metrics.len() {
            return Err(Error::invalid_input(
                "preds",
                format!(
                    "axis {} of the batch has {outputs} outputs but the wrapper has {}; pass a \
                     batch with num_outputs entries along output_dim",
                    self.output_dim,
                    self.metrics.len()
                ),
            ));
        }
        let mut parts = Vec::with_capacity(outputs);
        for (index, metric) in self.metrics.iter().enumerate() {
            let column = <M::Kind as SplitOutputs>::column(
                input,
                self.output_dim,
                index,
                self.remove_nans,
                self.squeeze_outputs,
            );
            let mut part = metric.empty();
            part.update(<M::Kind as SplitOutputs>::view(&column))?;
            parts.push(part);
        }
        Ok(parts)
    }

    fn stack(values: Vec<ndarray::ArrayD<f64>>) -> Result<ArrayD<f64>> {
        let views: Vec<_> = values.iter().map(|value| value.view()).collect();
        ndarray::stack(Axis(0), &views).map_err(|_| {
            let shapes: Vec<&[usize]> = values.iter().map(|value| value.shape()).collect();
            Error::invalid_input(
                "base_metric",
                format!("the outputs' values have different shapes {shapes:?}"),
            )
        })
    }
}

impl<M: Metric> Metric for MultioutputWrapper<M>
where
    M::Kind: SplitOutputs,
{
    type Kind = M::Kind;
    type Output = ArrayD<f64>;

    fn info(&self) -> MetricInfo {
        let base = self.metrics.first().map(Metric::info);
        MetricInfo {
            name: "MultioutputWrapper",
            higher_is_better: base.and_then(|info| info.higher_is_better),
            is_differentiable: base.is_some_and(|info| info.is_differentiable),
            lower_bound: base.map_or(f64::NEG_INFINITY, |info| info.lower_bound),
            upper_bound: base.map_or(f64::INFINITY, |info| info.upper_bound),
        }
    }

    fn state_name(&self) -> String {
        super::wrapped_state_name("MultioutputWrapper", self.metrics.first())
    }

    /// Updates each output's metric with its column.
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidArgument`] if `output_dim` is not an axis of the batch,
    /// [`Error::InvalidInput`] if the axis does not have `num_outputs` entries, and the base
    /// metric's error for an invalid column. A rejected batch changes nothing.
    fn update(&mut self, input: Input<'_, Self>) -> Result<()> {
        let parts = self.update_columns(&input)?;
        for (metric, part) in self.metrics.iter_mut().zip(&parts) {
            metric.merge(part)?;
        }
        Ok(())
    }

    /// Stacks the outputs' values along a new first axis.
    ///
    /// # Errors
    ///
    /// Returns the first output's error, and [`Error::InvalidInput`] if the values are maps or
    /// differ in shape.
    fn compute(&self) -> Result<ArrayD<f64>> {
        let mut values = Vec::with_capacity(self.metrics.len());
        for metric in &self.metrics {
            values.push(value_to_array(
                "MultioutputWrapper",
                metric.compute()?.into(),
            )?);
        }
        Self::stack(values)
    }

    fn reset(&mut self) {
        for metric in &mut self.metrics {
            metric.reset();
        }
    }

    /// Merges the outputs' metrics pairwise.
    ///
    /// # Errors
    ///
    /// Returns [`Error::IncompatibleState`] if the configurations differ.
    fn merge(&mut self, other: &Self) -> Result<()> {
        let wrapper = "MultioutputWrapper";
        check_same_config(
            wrapper,
            "num_outputs",
            &self.metrics.len(),
            &other.metrics.len(),
        )?;
        check_same_config(wrapper, "output_dim", &self.output_dim, &other.output_dim)?;
        check_same_config(
            wrapper,
            "remove_nans",
            &self.remove_nans,
            &other.remove_nans,
        )?;
        check_same_config(
            wrapper,
            "squeeze_outputs",
            &self.squeeze_outputs,
            &other.squeeze_outputs,
        )?;
        // The copies share one configuration, so the first merge fails before any state
        // changes if the base metrics differ.
        for (ours, theirs) in self.metrics.iter_mut().zip(&other.metrics) {
            ours.merge(theirs)?;
        }
        Ok(())
    }

    /// Returns the outputs' values on this batch alone and accumulates the batch.
    ///
    /// # Errors
    ///
    /// Returns the errors of `update` and `compute`, and changes nothing on an error.
    fn forward(&mut self, input: Input<'_, Self>) -> Result<ArrayD<f64>> {
        let parts = self.update_columns(&input)?;
        let mut values = Vec::with_capacity(parts.len());
        for part in &parts {
            values.push(value_to_array(
                "MultioutputWrapper",
                part.compute()?.into(),
            )?);
        }
        let value = Self::stack(values)?;

        for (metric, part) in self.metrics.iter_mut().zip(&parts) {
            metric.merge(part)?;
        }
        Ok(value)
    }
}
