//! `Running`: any metric over the last `window` updates.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::metric::{check_same_config, Input, Metric, MetricInfo};

/// A metric's value over the batches of the last `window` updates, as TorchMetrics' `Running`.
///
/// Each update's batch is kept as its own state of the base metric, and `compute` merges the
/// states in the window and computes the base value from them. `forward` returns the batch's
/// own value. The memory is `window` states of the base metric.
///
/// `merge` treats `other`'s updates as coming after this state's, so merging the states of
/// consecutive runs of updates in their order gives the one-pass result.
///
/// # Example
///
/// ```
/// use ferrometrics::aggregation::SumMetric;
/// use ferrometrics::wrappers::Running;
/// use ferrometrics::Metric;
/// use ndarray::array;
///
/// let mut metric = Running::new(SumMetric::default(), 2)?;
/// for value in [1.0, 2.0, 3.0] {
///     metric.update((array![value].into_dyn().view(), None))?;
/// }
/// assert_eq!(metric.compute()?, 5.0);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Running<M> {
    base: M,
    window: usize,
    /// The state of each update in the window, oldest first.
    states: VecDeque<M>,
}

impl<M: Metric> Running<M> {
    /// Wraps an empty copy of `base_metric` with a window of `window` updates (TorchMetrics'
    /// default is 5).
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidArgument`] if `window` is 0.
    pub fn new(base_metric: M, window: usize) -> Result<Self> {
        if window == 0 {
            return Err(Error::invalid_argument(
                "window",
                "got 0; the window must hold at least one update, pass a positive integer",
            ));
        }
        Ok(Self {
            base: base_metric.empty(),
            window,
            states: VecDeque::with_capacity(window),
        })
    }

    /// Returns the number of updates in the window.
    pub fn window(&self) -> usize {
        self.window
    }

    fn push(&mut self, state: M) {
        self.states.push_back(state);
        while self.states.len() > self.window {
            self.states.pop_front();
        }
    }
}

impl<M: Metric> Metric for Running<M> {
    type Kind = M::Kind;
    type Output = M::Output;

    fn info(&self) -> MetricInfo {
        MetricInfo {
            name: "Running",
            ..self.base.info()
        }
    }

    fn state_name(&self) -> String {
        super::wrapped_state_name("Running", Some(&self.base))
    }

    fn update(&mut self, input: Input<'_, Self>) -> Result<()> {
        let mut state = self.base.empty();
        state.update(input)?;

        self.push(state);
        Ok(())
    }

    /// Computes the base value over the updates in the window.
    ///
    /// # Errors
    ///
    /// Returns the base metric's error, for example for an empty window.
    fn compute(&self) -> Result<M::Output> {
        let mut total = self.base.empty();
        for state in &self.states {
            total.merge(state)?;
        }
        total.compute()
    }

    fn reset(&mut self) {
        self.states.clear();
    }

    /// Appends `other`'s updates after this state's and keeps the last `window` of them.
    ///
    /// # Errors
    ///
    /// Returns [`Error::IncompatibleState`] if the windows or base metrics differ.
    fn merge(&mut self, other: &Self) -> Result<()> {
        check_same_config("Running", "window", &self.window, &other.window)?;
        let mut probe = self.base.empty();
        probe.merge(&other.base)?;

        for state in &other.states {
            self.push(state.clone());
        }
        Ok(())
    }

    /// Returns the base value of this batch alone and pushes the batch into the window.
    ///
    /// # Errors
    ///
    /// Returns the base metric's error, and changes nothing on an error.
    fn forward(&mut self, input: Input<'_, Self>) -> Result<M::Output> {
        let mut state = self.base.empty();
        state.update(input)?;

        let value = state.compute()?;
        self.push(state);
        Ok(value)
    }
}
