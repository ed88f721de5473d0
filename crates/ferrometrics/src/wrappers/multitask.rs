//! `MultitaskWrapper`: one metric per named task, fed and computed as maps.

use std::marker::PhantomData;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::metric::{check_same_config, Input, InputKind, Metric, MetricInfo};
use crate::value::Value;

/// Batches of several named tasks: one `(task name, batch)` pair per task, the input of
/// [`MultitaskWrapper`].
#[derive(Debug, Clone, Copy)]
pub struct Tasks<K>(PhantomData<K>);

impl<K: InputKind> InputKind for Tasks<K> {
    type Input<'a> = Vec<(&'a str, K::Input<'a>)>;
}

/// One metric per named task, updated with each task's batch and computed into a map keyed
/// `{prefix}{task}{postfix}`, as TorchMetrics' `MultitaskWrapper`.
///
/// `update` rejects a batch that misses a task, names an unknown task or names a task twice.
/// The tasks share one metric type, which may be a wrapper, so tasks of different types belong
/// in separate wrappers.
///
/// # Example
///
/// ```
/// use ferrometrics::aggregation::SumMetric;
/// use ferrometrics::wrappers::MultitaskWrapper;
/// use ferrometrics::{Metric, Value};
/// use ndarray::array;
///
/// let tasks = vec![("a".to_owned(), SumMetric::default()), ("b".to_owned(), SumMetric::default())];
/// let mut metric = MultitaskWrapper::new(tasks, Some("val_".to_owned()), None)?;
/// let (a, b) = (array![1.0, 2.0].into_dyn(), array![5.0].into_dyn());
/// metric.update(vec![("b", (b.view(), None)), ("a", (a.view(), None))])?;
///
/// let output = metric.compute()?;
/// assert_eq!(output[0], ("val_a".to_owned(), Value::Scalar(3.0)));
/// assert_eq!(output[1], ("val_b".to_owned(), Value::Scalar(5.0)));
/// # Ok::<(), ferrometrics::Error>(())
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MultitaskWrapper<M> {
    tasks: Vec<(String, M)>,
    prefix: Option<String>,
    postfix: Option<String>,
}

impl<M: Metric> MultitaskWrapper<M> {
    /// Wraps one metric per task, keeping their states, in the given order.
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidArgument`] if there is no task or two tasks share a name.
    pub fn new(
        task_metrics: Vec<(String, M)>,
        prefix: Option<String>,
        postfix: Option<String>,
    ) -> Result<Self> {
        if task_metrics.is_empty() {
            return Err(Error::invalid_argument(
                "task_metrics",
                "got no task; pass at least one (name, metric) pair",
            ));
        }
        for (index, (name, _)) in task_metrics.iter().enumerate() {
            if task_metrics[..index].iter().any(|(other, _)| other == name) {
                return Err(Error::invalid_argument(
                    "task_metrics",
                    format!("the task name {name:?} appears twice; give each task its own name"),
                ));
            }
        }
        Ok(Self {
            tasks: task_metrics,
            prefix,
            postfix,
        })
    }

    /// Returns the tasks and their metrics.
    pub fn task_metrics(&self) -> &[(String, M)] {
        &self.tasks
    }

    fn key(&self, task: &str) -> String {
        format!(
            "{}{task}{}",
            self.prefix.as_deref().unwrap_or_default(),
            self.postfix.as_deref().unwrap_or_default()
        )
    }

    /// Updates an empty copy of each task's metric with the task's batch.
    fn update_tasks(&self, input: Input<'_, Self>) -> Result<Vec<M>> {
        let names: Vec<&str> = self.tasks.iter().map(|(name, _)| name.as_str()).collect();
        for (index, (name, _)) in input.iter().enumerate() {
            if !names.contains(name) {
                return Err(Error::invalid_input(
                    "task_preds",
                    format!("unknown task {name:?}; the tasks are {names:?}"),
                ));
            }
            if input[..index].iter().any(|(other, _)| other == name) {
                return Err(Error::invalid_input(
                    "task_preds",
                    format!("the task {name:?} appears twice in the batch; pass it once"),
                ));
            }
        }

        let mut parts = Vec::with_capacity(self.tasks.len());
        for (name, metric) in &self.tasks {
            let Some((_, batch)) = input.iter().find(|(task, _)| task == name) else {
                return Err(Error::invalid_input(
                    "task_preds",
                    format!("the batch has no entry for the task {name:?}; pass every task"),
                ));
            };
            let mut part = metric.empty();
            part.update(batch.clone())?;
            parts.push(part);
        }
        Ok(parts)
    }
}

impl<M: Metric> Metric for MultitaskWrapper<M> {
    type Kind = Tasks<M::Kind>;
    type Output = Vec<(String, Value)>;

    fn info(&self) -> MetricInfo {
        MetricInfo {
            name: "MultitaskWrapper",
            higher_is_better: None,
            is_differentiable: false,
            lower_bound: f64::NEG_INFINITY,
            upper_bound: f64::INFINITY,
        }
    }

    fn state_name(&self) -> String {
        super::wrapped_state_name(
            "MultitaskWrapper",
            self.tasks.first().map(|(_, metric)| metric),
        )
    }

    /// Updates each task's metric with the task's batch.
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidInput`] for a missing, unknown or repeated task, and the task
    /// metric's error for an invalid batch. A rejected batch changes no task.
    fn update(&mut self, input: Input<'_, Self>) -> Result<()> {
        let parts = self.update_tasks(input)?;
        for ((_, metric), part) in self.tasks.iter_mut().zip(&parts) {
            metric.merge(part)?;
        }
        Ok(())
    }

    /// Computes each task's value, keyed `{prefix}{task}{postfix}`.
    ///
    /// # Errors
    ///
    /// Returns the first task's error.
    fn compute(&self) -> Result<Vec<(String, Value)>> {
        let mut output = Vec::with_capacity(self.tasks.len());
        for (name, metric) in &self.tasks {
            output.push((self.key(name), metric.compute()?.into()));
        }
        Ok(output)
    }

    fn reset(&mut self) {
        for (_, metric) in &mut self.tasks {
            metric.reset();
        }
    }

    /// Merges the task metrics pairwise.
    ///
    /// # Errors
    ///
    /// Returns [`Error::IncompatibleState`] if the tasks or configurations differ.
    fn merge(&mut self, other: &Self) -> Result<()> {
        let ours: Vec<&String> = self.tasks.iter().map(|(name, _)| name).collect();
        let theirs: Vec<&String> = other.tasks.iter().map(|(name, _)| name).collect();
        check_same_config("MultitaskWrapper", "task_metrics", &ours, &theirs)?;
        check_same_config("MultitaskWrapper", "prefix", &self.prefix, &other.prefix)?;
        check_same_config("MultitaskWrapper", "postfix", &self.postfix, &other.postfix)?;

        // Merge into copies, so that a task rejecting the merge leaves every task as it was.
        let mut merged = Vec::with_capacity(self.tasks.len());
        for ((_, ours), (_, theirs)) in self.tasks.iter().zip(&other.tasks) {
            let mut metric = ours.clone();
            metric.merge(theirs)?;
            merged.push(metric);
        }
        for ((_, metric), merged) in self.tasks.iter_mut().zip(merged) {
            *metric = merged;
        }
        Ok(())
    }

    /// Returns each task's value on this batch alone and accumulates the batch.
    ///
    /// # Errors
    ///
    /// Returns the errors of `update` and `compute`, and changes nothing on an error.
    fn forward(&mut self, input: Input<'_, Self>) -> Result<Vec<(String, Value)>> {
        let parts = self.update_tasks(input)?;
        let mut output = Vec::with_capacity(parts.len());
        for ((name, _), part) in self.tasks.iter().zip(&parts) {
            output.push((self.key(name), part.compute()?.into()));
        }

        for ((_, metric), part) in self.tasks.iter_mut().zip(&parts) {
            metric.merge(part)?;
        }
        Ok(output)
    }
}
