//! An object-safe view of [`Metric`], so that collections, wrappers and the bindings can hold
//! metrics of different types behind one pointer.

use std::any::Any;

use crate::error::{Error, Result};
use crate::metric::{InputKind, Metric, MetricInfo};
use crate::value::Value;
use crate::wrappers::{SampleTerms, TermSums};

/// A metric of any type that takes batches of kind `K` and returns a [`Value`].
///
/// Every [`Metric`] implements it, so each metric is written once.
pub trait DynMetric<K: InputKind>: Send + Sync {
    /// Returns the metric's facts.
    fn info(&self) -> MetricInfo;

    /// Folds one batch into the state, as [`Metric::update`].
    ///
    /// # Errors
    ///
    /// Returns an error, and changes nothing, if the batch is invalid.
    fn update(&mut self, input: K::Input<'_>) -> Result<()>;

    /// Computes the value, as [`Metric::compute`].
    ///
    /// # Errors
    ///
    /// Returns an error if the state holds too little data for the value to exist.
    fn compute(&self) -> Result<Value>;

    /// Computes the batch's value and accumulates the batch, as [`Metric::forward`].
    ///
    /// # Errors
    ///
    /// Returns an error, and changes nothing, if the batch is invalid.
    fn forward(&mut self, input: K::Input<'_>) -> Result<Value>;

    /// Computes the value of one batch on its own, leaving the state unchanged, as
    /// [`Metric::evaluate`].
    ///
    /// # Errors
    ///
    /// Returns an error if the batch is invalid or its value does not exist.
    fn evaluate(&self, input: K::Input<'_>) -> Result<Value>;

    /// Clears the state.
    fn reset(&mut self);

    /// Folds another metric's state into this one.
    ///
    /// # Errors
    ///
    /// Returns [`Error::IncompatibleState`] if `other` is another type or configuration.
    fn merge_dyn(&mut self, other: &dyn DynMetric<K>) -> Result<()>;

    /// Returns a boxed instance with this configuration and an empty state.
    fn empty_box(&self) -> Box<dyn DynMetric<K>>;

    /// Returns a boxed copy.
    fn clone_box(&self) -> Box<dyn DynMetric<K>>;

    /// Serializes configuration and state, as [`Metric::to_bytes`].
    ///
    /// # Errors
    ///
    /// Returns [`Error::Serialization`] if the codec fails.
    fn to_bytes(&self) -> Result<Vec<u8>>;

    /// Replaces configuration and state with those serialized in `bytes`.
    ///
    /// # Errors
    ///
    /// Returns an error, and changes nothing, if the bytes hold another metric type.
    fn load_bytes(&mut self, bytes: &[u8]) -> Result<()>;

    /// Returns the key of a state shared by construction, as [`Metric::shared_state_key`].
    fn shared_state_key(&self) -> Option<String>;

    /// Returns the shared state, as [`Metric::shared_state`].
    fn shared_state(&self) -> Option<&dyn Any>;

    /// Computes the value from another member's shared state, as [`Metric::compute_shared`].
    ///
    /// # Errors
    ///
    /// Returns [`Error::IncompatibleState`] if the state is of another type.
    fn compute_shared(&self, state: &dyn Any) -> Result<Value>;

    /// Folds another member's shared state into this state, as [`Metric::merge_shared`].
    ///
    /// # Errors
    ///
    /// Returns [`Error::IncompatibleState`] if the state is of another type or configuration.
    fn merge_shared(&mut self, state: &dyn Any) -> Result<()>;

    /// Validates a batch and returns its per-sample additive terms, as [`Metric::sample_terms`].
    fn sample_terms(&self, input: K::Input<'_>) -> Option<Result<SampleTerms>>;

    /// Adds count-weighted term sums to the state, as [`Metric::add_term_sums`].
    ///
    /// # Errors
    ///
    /// Returns [`Error::IncompatibleState`] if the metric has no per-sample terms.
    fn add_term_sums(&mut self, sums: &TermSums) -> Result<()>;

    /// Returns `self` as [`Any`], for downcasting.
    fn as_any(&self) -> &dyn Any;
}

impl<M: Metric> DynMetric<M::Kind> for M {
    fn info(&self) -> MetricInfo {
        Metric::info(self)
    }

    fn update(&mut self, input: <M::Kind as InputKind>::Input<'_>) -> Result<()> {
        Metric::update(self, input)
    }

    fn compute(&self) -> Result<Value> {
        Metric::compute(self).map(Into::into)
    }

    fn forward(&mut self, input: <M::Kind as InputKind>::Input<'_>) -> Result<Value> {
        Metric::forward(self, input).map(Into::into)
    }

    fn evaluate(&self, input: <M::Kind as InputKind>::Input<'_>) -> Result<Value> {
        Metric::evaluate(self, input).map(Into::into)
    }

    fn reset(&mut self) {
        Metric::reset(self)
    }

    fn merge_dyn(&mut self, other: &dyn DynMetric<M::Kind>) -> Result<()> {
        let Some(other) = other.as_any().downcast_ref::<M>() else {
            return Err(Error::incompatible_state(format!(
                "cannot merge the state of {} into the state of {}",
                other.info().name,
                Metric::info(self).name
            )));
        };
        Metric::merge(self, other)
    }

    fn empty_box(&self) -> Box<dyn DynMetric<M::Kind>> {
        Box::new(Metric::empty(self))
    }

    fn clone_box(&self) -> Box<dyn DynMetric<M::Kind>> {
        Box::new(self.clone())
    }

    fn to_bytes(&self) -> Result<Vec<u8>> {
        Metric::to_bytes(self)
    }

    fn load_bytes(&mut self, bytes: &[u8]) -> Result<()> {
        *self = M::from_bytes(bytes)?;
        Ok(())
    }

    fn shared_state_key(&self) -> Option<String> {
        Metric::shared_state_key(self)
    }

    fn shared_state(&self) -> Option<&dyn Any> {
        Metric::shared_state(self)
    }

    fn compute_shared(&self, state: &dyn Any) -> Result<Value> {
        Metric::compute_shared(self, state).map(Into::into)
    }

    fn merge_shared(&mut self, state: &dyn Any) -> Result<()> {
        Metric::merge_shared(self, state)
    }

    fn sample_terms(
        &self,
        input: <M::Kind as InputKind>::Input<'_>,
    ) -> Option<Result<SampleTerms>> {
        Metric::sample_terms(self, input)
    }

    fn add_term_sums(&mut self, sums: &TermSums) -> Result<()> {
        Metric::add_term_sums(self, sums)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl<K: InputKind> Clone for Box<dyn DynMetric<K>> {
    fn clone(&self) -> Self {
        self.clone_box()
    }
}

#[cfg(test)]
mod tests {
    use ndarray::ArrayD;

    use super::*;
    use crate::aggregation::{MaxMetric, NanStrategy, SumMetric};
    use crate::inputs::WeightedValues;

    fn batch(values: &[f64]) -> ArrayD<f64> {
        ArrayD::from_shape_vec(vec![values.len()], values.to_vec()).unwrap()
    }

    fn boxed(
        metric: impl DynMetric<WeightedValues> + 'static,
    ) -> Box<dyn DynMetric<WeightedValues>> {
        Box::new(metric)
    }

    #[test]
    fn merge_dyn_rejects_other_type() {
        let mut sum = boxed(SumMetric::default());
        let mut max = boxed(MaxMetric::default());
        sum.update((batch(&[1.0]).view(), None)).unwrap();
        max.update((batch(&[5.0]).view(), None)).unwrap();

        let error = sum.merge_dyn(max.as_ref()).unwrap_err();
        assert!(matches!(
            &error,
            Error::IncompatibleState { message }
                if message.contains("MaxMetric") && message.contains("SumMetric")
        ));
        assert_eq!(sum.compute().unwrap(), Value::Scalar(1.0));
    }

    #[test]
    fn merge_dyn_rejects_other_config() {
        let mut warn = boxed(SumMetric::new(NanStrategy::Warn));
        let error = warn
            .merge_dyn(&SumMetric::new(NanStrategy::Error))
            .unwrap_err();
        assert!(matches!(error, Error::IncompatibleState { .. }));
    }

    #[test]
    fn merge_dyn_folds_same_type() {
        let mut left = boxed(SumMetric::default());
        let mut right = boxed(SumMetric::default());
        left.update((batch(&[1.0, 2.0]).view(), None)).unwrap();
        right.update((batch(&[4.0]).view(), None)).unwrap();

        left.merge_dyn(right.as_ref()).unwrap();
        assert_eq!(left.compute().unwrap(), Value::Scalar(7.0));
    }

    #[test]
    fn load_bytes_other_type_rejected() {
        let mut sum = boxed(SumMetric::default());
        sum.update((batch(&[3.0]).view(), None)).unwrap();
        let max_bytes = DynMetric::to_bytes(&MaxMetric::default()).unwrap();

        assert!(sum.load_bytes(&max_bytes).is_err());
        assert_eq!(sum.compute().unwrap(), Value::Scalar(3.0));
    }

    #[test]
    fn load_bytes_restores_state() {
        let mut source = boxed(SumMetric::default());
        source.update((batch(&[2.0, 5.0]).view(), None)).unwrap();
        let mut target = boxed(SumMetric::default());

        target.load_bytes(&source.to_bytes().unwrap()).unwrap();
        assert_eq!(target.compute().unwrap(), Value::Scalar(7.0));
    }

    #[test]
    fn empty_box_and_clone_box_keep_type() {
        let mut sum = boxed(SumMetric::default());
        sum.update((batch(&[2.0]).view(), None)).unwrap();

        let empty = sum.empty_box();
        assert_eq!(empty.info().name, "SumMetric");
        assert_eq!(empty.compute().unwrap(), Value::Scalar(0.0));
        assert_eq!(sum.clone_box().compute().unwrap(), Value::Scalar(2.0));
    }

    #[test]
    fn forward_through_dyn_returns_batch_value() {
        let mut max = boxed(MaxMetric::default());
        max.update((batch(&[9.0]).view(), None)).unwrap();

        assert_eq!(
            max.forward((batch(&[1.0]).view(), None)).unwrap(),
            Value::Scalar(1.0)
        );
        assert_eq!(max.compute().unwrap(), Value::Scalar(9.0));
    }
}
