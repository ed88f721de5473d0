//! `MetricTracker`: one copy of a metric or collection per step, such as an epoch, and the best
//! step.

use crate::collection::MetricCollection;
use crate::error::{Error, Result};
use crate::metric::{Input, InputKind, Metric};
use crate::value::Value;

/// An object that [`MetricTracker`] can track: any [`Metric`] and any [`MetricCollection`].
pub trait Tracked: Clone {
    /// The kind of batch that the tracked object takes.
    type Kind: InputKind;

    /// Returns a copy with the same configuration and an empty state.
    fn empty_step(&self) -> Self;

    /// Folds one batch into the state.
    ///
    /// # Errors
    ///
    /// Returns an error, and changes nothing, if the batch is invalid.
    fn update_step(&mut self, input: <Self::Kind as InputKind>::Input<'_>) -> Result<()>;

    /// Returns the batch's own named values and accumulates the batch.
    ///
    /// # Errors
    ///
    /// Returns an error, and changes nothing, if the batch is invalid.
    fn forward_step(
        &mut self,
        input: <Self::Kind as InputKind>::Input<'_>,
    ) -> Result<Vec<(String, Value)>>;

    /// Computes the named values: a metric's value under its class name, or the entries of its
    /// map value; a collection's flat output.
    ///
    /// # Errors
    ///
    /// Returns the metric's error.
    fn compute_step(&self) -> Result<Vec<(String, Value)>>;

    /// Clears the state.
    fn reset_step(&mut self);

    /// Returns whether higher is better, for the metric or for each member of a collection.
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidArgument`] naming `maximize` if a metric has no better direction.
    fn default_maximize(&self) -> Result<Vec<bool>>;
}

fn named<M: Metric>(metric: &M, value: Value) -> Vec<(String, Value)> {
    match value {
        Value::Map(entries) => entries,
        value => vec![(metric.info().name.to_owned(), value)],
    }
}

fn no_direction(name: &str) -> Error {
    Error::invalid_argument(
        "maximize",
        format!(
            "{name} has no better direction (higher_is_better is None); pass maximize=true or \
             false"
        ),
    )
}

impl<M: Metric> Tracked for M {
    type Kind = M::Kind;

    fn empty_step(&self) -> Self {
        self.empty()
    }

    fn update_step(&mut self, input: Input<'_, M>) -> Result<()> {
        self.update(input)
    }

    fn forward_step(&mut self, input: Input<'_, M>) -> Result<Vec<(String, Value)>> {
        let value = self.forward(input)?.into();
        Ok(named(self, value))
    }

    fn compute_step(&self) -> Result<Vec<(String, Value)>> {
        let value = self.compute()?.into();
        Ok(named(self, value))
    }

    fn reset_step(&mut self) {
        self.reset();
    }

    fn default_maximize(&self) -> Result<Vec<bool>> {
        let info = self.info();
        let higher = info
            .higher_is_better
            .ok_or_else(|| no_direction(info.name))?;
        Ok(vec![higher])
    }
}

impl<K: InputKind> Tracked for MetricCollection<K> {
    type Kind = K;

    fn empty_step(&self) -> Self {
        let mut empty = self.clone();
        empty.reset();
        empty
    }

    fn update_step(&mut self, input: K::Input<'_>) -> Result<()> {
        self.update(input)
    }

    fn forward_step(&mut self, input: K::Input<'_>) -> Result<Vec<(String, Value)>> {
        self.forward(input)
    }

    fn compute_step(&self) -> Result<Vec<(String, Value)>> {
        self.compute()
    }

    fn reset_step(&mut self) {
        self.reset();
    }

    fn default_maximize(&self) -> Result<Vec<bool>> {
        self.member_infos()
            .into_iter()
            .map(|(name, info)| info.higher_is_better.ok_or_else(|| no_direction(name)))
            .collect()
    }
}

/// The best value of one output over the tracked steps.
#[derive(Debug, Clone, PartialEq)]
pub struct BestValue {
    /// The output key: the metric's class name, a map entry's key or a collection's key.
    pub key: String,
    /// The largest value if the output is maximized, else the smallest.
    pub value: f64,
    /// The step, counted from 0, that reached `value` first.
    pub step: usize,
}

/// A metric or collection tracked over steps such as epochs, as TorchMetrics' `MetricTracker`.
///
/// [`MetricTracker::increment`] starts a step with an empty copy of the tracked object, and
/// `update`, `forward`, `compute` and `reset` act on the latest step. [`compute_all`] returns
/// every step's values and [`best_metric`] the best step of each output.
///
/// `maximize` gives the direction of each output: one value for all, or one per output key. By
/// default it comes from `higher_is_better` of the metric, or of each member of a collection
/// whose members each return one value.
///
/// [`compute_all`]: MetricTracker::compute_all
/// [`best_metric`]: MetricTracker::best_metric
///
/// # Example
///
/// ```
/// use ferrometrics::aggregation::MeanMetric;
/// use ferrometrics::wrappers::MetricTracker;
/// use ndarray::array;
///
/// let mut tracker = MetricTracker::new(MeanMetric::default(), Some(vec![false]))?;
/// for epoch_loss in [0.5, 0.25, 0.4] {
///     tracker.increment();
///     tracker.update((array![epoch_loss].into_dyn().view(), None))?;
/// }
/// let best = tracker.best_metric()?;
/// assert_eq!((best[0].value, best[0].step), (0.25, 1));
/// # Ok::<(), ferrometrics::Error>(())
/// ```
#[derive(Clone)]
pub struct MetricTracker<T> {
    base: T,
    steps: Vec<T>,
    maximize: Vec<bool>,
}

impl<T: Tracked> MetricTracker<T> {
    /// Tracks empty copies of `metric`.
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidArgument`] if `maximize` is an empty list, or if it is `None` and
    /// a tracked metric has no better direction.
    pub fn new(metric: T, maximize: Option<Vec<bool>>) -> Result<Self> {
        let maximize = match maximize {
            Some(maximize) if maximize.is_empty() => {
                return Err(Error::invalid_argument(
                    "maximize",
                    "got an empty list; pass one bool for all outputs or one per output",
                ))
            }
            Some(maximize) => maximize,
            None => metric.default_maximize()?,
        };
        Ok(Self {
            base: metric.empty_step(),
            steps: Vec::new(),
            maximize,
        })
    }

    /// Starts a new step with an empty copy of the tracked object.
    pub fn increment(&mut self) {
        self.steps.push(self.base.empty_step());
    }

    /// Returns the number of steps started.
    pub fn n_steps(&self) -> usize {
        self.steps.len()
    }

    /// Returns the object of each step.
    pub fn steps(&self) -> &[T] {
        &self.steps
    }

    fn latest_mut(&mut self, action: &str) -> Result<&mut T> {
        self.steps.last_mut().ok_or_else(|| not_started(action))
    }

    /// Folds a batch into the latest step.
    ///
    /// # Errors
    ///
    /// Returns [`Error::NotEnoughData`] before the first [`MetricTracker::increment`], and the
    /// tracked object's error for an invalid batch.
    pub fn update(&mut self, input: <T::Kind as InputKind>::Input<'_>) -> Result<()> {
        self.latest_mut("update")?.update_step(input)
    }

    /// Returns the batch's own values and folds the batch into the latest step.
    ///
    /// # Errors
    ///
    /// Returns the errors of [`MetricTracker::update`].
    pub fn forward(
        &mut self,
        input: <T::Kind as InputKind>::Input<'_>,
    ) -> Result<Vec<(String, Value)>> {
        self.latest_mut("forward")?.forward_step(input)
    }

    /// Computes the latest step's values.
    ///
    /// # Errors
    ///
    /// Returns [`Error::NotEnoughData`] before the first step, and the tracked object's error.
    pub fn compute(&self) -> Result<Vec<(String, Value)>> {
        self.steps
            .last()
            .ok_or_else(|| not_started("compute"))?
            .compute_step()
    }

    /// Clears the latest step's state.
    pub fn reset(&mut self) {
        if let Some(step) = self.steps.last_mut() {
            step.reset_step();
        }
    }

    /// Removes every step.
    pub fn reset_all(&mut self) {
        self.steps.clear();
    }

    /// Computes every step's values, oldest first.
    ///
    /// # Errors
    ///
    /// Returns [`Error::NotEnoughData`] before the first step, and the first step's error.
    pub fn compute_all(&self) -> Result<Vec<Vec<(String, Value)>>> {
        if self.steps.is_empty() {
            return Err(not_started("compute_all"));
        }
        self.steps.iter().map(Tracked::compute_step).collect()
    }

    /// Returns, for each output key, the best value over the steps and the first step that
    /// reached it. NaN values are skipped.
    ///
    /// # Errors
    ///
    /// Returns the errors of [`MetricTracker::compute_all`], [`Error::InvalidInput`] if an
    /// output is not one number or all its values are NaN, and [`Error::InvalidArgument`] if
    /// `maximize` has neither one entry nor one per output key.
    pub fn best_metric(&self) -> Result<Vec<BestValue>> {
        let all = self.compute_all()?;
        let keys: Vec<String> = all[0].iter().map(|(key, _)| key.clone()).collect();
        let maximize = match self.maximize.len() {
            1 => vec![self.maximize[0]; keys.len()],
            n if n == keys.len() => self.maximize.clone(),
            n => {
                return Err(Error::invalid_argument(
                    "maximize",
                    format!(
                        "got {n} directions for the {} outputs {keys:?}; pass one bool for all \
                         outputs or one per output",
                        keys.len()
                    ),
                ))
            }
        };

        let mut best = Vec::with_capacity(keys.len());
        for (position, (key, maximize)) in keys.iter().zip(maximize).enumerate() {
            let mut found: Option<(f64, usize)> = None;
            for (step, values) in all.iter().enumerate() {
                let value = match values.get(position) {
                    Some((entry_key, Value::Scalar(value))) if entry_key == key => *value,
                    _ => {
                        return Err(Error::invalid_input(
                            "metric",
                            format!(
                                "the output {key:?} of step {step} is not one number; \
                                 best_metric needs scalar outputs"
                            ),
                        ))
                    }
                };
                if value.is_nan() {
                    continue;
                }
                let better = match found {
                    None => true,
                    Some((current, _)) if maximize => value > current,
                    Some((current, _)) => value < current,
                };
                if better {
                    found = Some((value, step));
                }
            }
            let (value, step) = found.ok_or_else(|| {
                Error::invalid_input(
                    "metric",
                    format!("every step's value of {key:?} is NaN, so there is no best step"),
                )
            })?;
            best.push(BestValue {
                key: key.clone(),
                value,
                step,
            });
        }
        Ok(best)
    }
}

fn not_started(action: &str) -> Error {
    Error::not_enough_data(
        "MetricTracker",
        format!("no step has started; call increment() before {action}()"),
    )
}
