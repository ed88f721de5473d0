//! Group fairness of a binary classifier: per-group rates, demographic parity and equal
//! opportunity, as TorchMetrics' `BinaryGroupStatRates` and `BinaryFairness`.

use ndarray::{Array1, ArrayViewD};
use serde::{Deserialize, Serialize};

use super::config::{check_restored, MultidimAverage, Task, TaskConfig};
use super::format::{format_batch, position, Formatted, Preds};
use crate::error::{Error, Result};
use crate::metric::{check_same_config, Input, InputKind, Metric, MetricInfo};
use crate::value::Value;

/// Binary predictions, targets and the group of each sample: `(preds, target, groups)`, the
/// input of the fairness metrics. `groups` has the shape of `target` and values in
/// `[0, num_groups)`.
#[derive(Debug, Clone, Copy)]
pub struct GroupedBatch;

impl InputKind for GroupedBatch {
    type Input<'a> = (Preds<'a>, ArrayViewD<'a, i64>, ArrayViewD<'a, i64>);
}

/// Confusion counts per group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct GroupCounts {
    config: TaskConfig,
    num_groups: usize,
    /// `[tp, fp, tn, fn]` per group.
    counts: Vec<[u64; 4]>,
}

impl GroupCounts {
    fn new(config: TaskConfig, num_groups: usize) -> Result<Self> {
        config.validate()?;
        if config.task() != Task::Binary || config.multidim_average() != MultidimAverage::Global {
            return Err(Error::invalid_argument(
                "task",
                "group fairness is defined for the binary task with global counts; pass \
                 TaskConfig::binary()",
            ));
        }
        if num_groups == 0 {
            return Err(Error::invalid_argument(
                "num_groups",
                "0 groups cannot hold samples; pass 1 or more",
            ));
        }
        Ok(Self {
            config,
            num_groups,
            counts: vec![[0; 4]; num_groups],
        })
    }

    /// Returns an error if the counts do not fit `num_groups`, as in a corrupted state.
    fn check_consistent(&self) -> Result<()> {
        let consistent = self.num_groups > 0 && self.counts.len() == self.num_groups;
        check_restored(&self.config, consistent)
    }

    fn update(
        &mut self,
        input: (Preds<'_>, ArrayViewD<'_, i64>, ArrayViewD<'_, i64>),
    ) -> Result<()> {
        self.check_consistent()?;
        let (preds, target, groups) = input;
        if groups.shape() != target.shape() {
            return Err(Error::invalid_input(
                "groups",
                format!(
                    "shape {:?} differs from the target's shape {:?}; pass one group per target",
                    groups.shape(),
                    target.shape()
                ),
            ));
        }
        let group_of: Vec<usize> = groups
            .iter()
            .enumerate()
            .map(|(flat, &group)| match usize::try_from(group) {
                Ok(g) if g < self.num_groups => Ok(g),
                _ => Err(Error::invalid_input(
                    "groups",
                    format!(
                        "group {group} at index {} is out of range; groups run from 0 to \
                         num_groups - 1 = {}",
                        position(groups.shape(), flat),
                        self.num_groups - 1
                    ),
                )),
            })
            .collect::<Result<_>>()?;
        let Formatted::Binary(batch) = format_batch(&self.config, &preds, &target)? else {
            unreachable!("the binary task formats into binary batches");
        };

        for ((&pred, &target), &group) in batch.preds.iter().zip(&batch.target).zip(&group_of) {
            let Some(target) = target else { continue };
            let cell = match (pred, target) {
                (true, true) => 0,
                (true, false) => 1,
                (false, false) => 2,
                (false, true) => 3,
            };
            self.counts[group][cell] += 1;
        }
        Ok(())
    }

    fn merge(&mut self, metric: &str, other: &Self) -> Result<()> {
        check_same_config(metric, "config", &self.config, &other.config)?;
        check_same_config(metric, "num_groups", &self.num_groups, &other.num_groups)?;
        self.check_consistent()?;
        other.check_consistent()?;
        for (mine, theirs) in self.counts.iter_mut().zip(&other.counts) {
            for (a, b) in mine.iter_mut().zip(theirs) {
                *a += b;
            }
        }
        Ok(())
    }

    fn check_not_empty(&self, metric: &str) -> Result<()> {
        self.check_consistent()?;
        if self.counts.iter().flatten().all(|&c| c == 0) {
            return Err(Error::not_enough_data(
                metric,
                "no samples were seen; call update with at least one sample before compute",
            ));
        }
        Ok(())
    }

    /// Returns the rate `numerator / denominator` of each group, 0 where the group has no
    /// sample in the denominator, as TorchMetrics' safe division.
    fn rates(&self, rate: impl Fn(&[u64; 4]) -> (u64, u64)) -> Vec<f64> {
        self.counts
            .iter()
            .map(|counts| {
                let (numerator, denominator) = rate(counts);
                if denominator == 0 {
                    0.0
                } else {
                    numerator as f64 / denominator as f64
                }
            })
            .collect()
    }
}

/// The share of true positives, false positives, true negatives and false negatives within each
/// group, as TorchMetrics' `BinaryGroupStatRates`: one entry `group_{i}` per group holding
/// `[tp, fp, tn, fn] / n_i`.
///
/// # Example
///
/// ```
/// use ferrometrics::classification::{BinaryGroupStatRates, Preds, TaskConfig};
/// use ferrometrics::{Metric, Value};
/// use ndarray::array;
///
/// let mut metric = BinaryGroupStatRates::new(TaskConfig::binary(), 2)?;
/// let preds = array![1_i64, 0, 1, 1].into_dyn();
/// let target = array![1_i64, 0, 0, 1].into_dyn();
/// let groups = array![0_i64, 0, 1, 1].into_dyn();
/// metric.update((Preds::Labels(preds.view()), target.view(), groups.view()))?;
/// let result = metric.compute()?;
/// let Value::Array(group_1) = &result.as_map().unwrap()[1].1 else { unreachable!() };
/// assert_eq!(group_1.as_slice().unwrap(), &[0.5, 0.5, 0.0, 0.0]);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BinaryGroupStatRates {
    state: GroupCounts,
}

impl BinaryGroupStatRates {
    /// Creates the metric for `num_groups` groups.
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidArgument`] if `config` is invalid or not binary, or
    /// `num_groups` is 0.
    pub fn new(config: TaskConfig, num_groups: usize) -> Result<Self> {
        Ok(Self {
            state: GroupCounts::new(config, num_groups)?,
        })
    }
}

impl Metric for BinaryGroupStatRates {
    type Kind = GroupedBatch;
    type Output = Value;

    fn info(&self) -> MetricInfo {
        MetricInfo {
            name: "BinaryGroupStatRates",
            higher_is_better: None,
            is_differentiable: false,
            lower_bound: 0.0,
            upper_bound: 1.0,
        }
    }

    fn update(&mut self, input: Input<'_, Self>) -> Result<()> {
        self.state.update(input)
    }

    fn compute(&self) -> Result<Value> {
        self.state.check_not_empty("BinaryGroupStatRates")?;
        let entries = self
            .state
            .counts
            .iter()
            .enumerate()
            .map(|(group, counts)| {
                let total: u64 = counts.iter().sum();
                let rates: Array1<f64> = counts
                    .iter()
                    .map(|&c| {
                        if total == 0 {
                            0.0
                        } else {
                            c as f64 / total as f64
                        }
                    })
                    .collect();
                (format!("group_{group}"), Value::from(rates))
            })
            .collect();
        Ok(Value::Map(entries))
    }

    fn reset(&mut self) {
        self.state.counts.fill([0; 4]);
    }

    fn merge(&mut self, other: &Self) -> Result<()> {
        self.state.merge("BinaryGroupStatRates", &other.state)
    }
}

/// The fairness criteria that [`BinaryFairness`] reports, as TorchMetrics' `task`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FairnessTask {
    /// The ratio of the lowest to the highest positive prediction rate over groups.
    DemographicParity,
    /// The ratio of the lowest to the highest true positive rate over groups.
    EqualOpportunity,
    /// Both.
    All,
}

/// Demographic parity and equal opportunity, as TorchMetrics' `BinaryFairness`.
///
/// Demographic parity is `min_g r_g / max_g r_g` with `r_g = (tp + fp) / n_g`, the positive
/// prediction rate, reported as `DP_{argmin}_{argmax}`. Equal opportunity is the same ratio of
/// true positive rates `tp / (tp + fn)`, reported as `EO_{argmin}_{argmax}`. A rate or ratio
/// with a zero denominator is 0, and ties go to the lowest group index, as `torch.argmin`.
///
/// # Example
///
/// ```
/// use ferrometrics::classification::{BinaryFairness, FairnessTask, Preds, TaskConfig};
/// use ferrometrics::Metric;
/// use ndarray::array;
///
/// let mut metric = BinaryFairness::new(TaskConfig::binary(), 2, FairnessTask::DemographicParity)?;
/// let preds = array![1_i64, 0, 1, 1].into_dyn();
/// let target = array![1_i64, 0, 0, 1].into_dyn();
/// let groups = array![0_i64, 0, 1, 1].into_dyn();
/// metric.update((Preds::Labels(preds.view()), target.view(), groups.view()))?;
/// let result = metric.compute()?;
/// let (key, value) = &result.as_map().unwrap()[0];
/// assert_eq!(key, "DP_0_1");
/// assert_eq!(value.as_scalar(), Some(0.5));
/// # Ok::<(), ferrometrics::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BinaryFairness {
    state: GroupCounts,
    task: FairnessTask,
}

impl BinaryFairness {
    /// Creates the metric for `num_groups` groups.
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidArgument`] if `config` is invalid or not binary, or
    /// `num_groups` is 0.
    pub fn new(config: TaskConfig, num_groups: usize, task: FairnessTask) -> Result<Self> {
        Ok(Self {
            state: GroupCounts::new(config, num_groups)?,
            task,
        })
    }
}

/// Returns `(key, min / max)` over the rates, keyed `{prefix}_{argmin}_{argmax}`.
fn rate_ratio(prefix: &str, rates: &[f64]) -> (String, Value) {
    let mut low = 0;
    let mut high = 0;
    for (group, &rate) in rates.iter().enumerate() {
        if rate < rates[low] {
            low = group;
        }
        if rate > rates[high] {
            high = group;
        }
    }
    let ratio = if rates[high] == 0.0 {
        0.0
    } else {
        rates[low] / rates[high]
    };
    (format!("{prefix}_{low}_{high}"), Value::Scalar(ratio))
}

impl Metric for BinaryFairness {
    type Kind = GroupedBatch;
    type Output = Value;

    fn info(&self) -> MetricInfo {
        MetricInfo {
            name: "BinaryFairness",
            higher_is_better: Some(true),
            is_differentiable: false,
            lower_bound: 0.0,
            upper_bound: 1.0,
        }
    }

    fn update(&mut self, input: Input<'_, Self>) -> Result<()> {
        self.state.update(input)
    }

    fn compute(&self) -> Result<Value> {
        self.state.check_not_empty("BinaryFairness")?;
        let mut entries = Vec::new();
        if matches!(
            self.task,
            FairnessTask::DemographicParity | FairnessTask::All
        ) {
            let rates = self.state.rates(|c| (c[0] + c[1], c.iter().sum()));
            entries.push(rate_ratio("DP", &rates));
        }
        if matches!(
            self.task,
            FairnessTask::EqualOpportunity | FairnessTask::All
        ) {
            let rates = self.state.rates(|c| (c[0], c[0] + c[3]));
            entries.push(rate_ratio("EO", &rates));
        }
        Ok(Value::Map(entries))
    }

    fn reset(&mut self) {
        self.state.counts.fill([0; 4]);
    }

    fn merge(&mut self, other: &Self) -> Result<()> {
        check_same_config("BinaryFairness", "task", &self.task, &other.task)?;
        self.state.merge("BinaryFairness", &other.state)
    }
}
