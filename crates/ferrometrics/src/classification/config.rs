//! The configuration shared by every classification metric: the task, how predictions become
//! labels, and how per-class values are averaged.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Largest `num_classes` or `num_labels`: 2^24, so that states of a few arrays of counts per
/// class fit in memory.
pub const MAX_CLASSES: usize = 1 << 24;

/// The classification task, as TorchMetrics' `task` argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Task {
    /// One positive class: targets are 0 or 1.
    Binary,
    /// One of `num_classes` classes per position: targets are class indices.
    Multiclass,
    /// `num_labels` independent binary labels per sample.
    Multilabel,
}

/// The reduction of positions beyond the sample and class dimensions, as TorchMetrics'
/// `multidim_average`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MultidimAverage {
    /// Every position of every sample is counted together.
    Global,
    /// Counts are kept per sample, and the metric returns one value per sample.
    Samplewise,
}

/// The reduction of per-class values to one value, as TorchMetrics' `average`.
///
/// Binary metrics ignore it. Under `Macro` and `Weighted`, multiclass metrics average over the
/// classes that occur in the target or the predictions (over the classes that occur in the
/// target when `top_k > 1`), as scikit-learn does when no `labels` are given. A class equal to
/// `ignore_index` is left out of every average.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Average {
    /// Counts are summed over classes before the value is computed.
    Micro,
    /// The unweighted mean of the per-class values.
    Macro,
    /// The mean of the per-class values weighted by support (true positives plus false
    /// negatives).
    Weighted,
    /// One value per class.
    None,
}

impl Average {
    /// Parses TorchMetrics' spelling: `"micro"`, `"macro"`, `"weighted"` or `"none"`.
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidArgument`] naming `average` for any other string.
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::classification::Average;
    ///
    /// assert_eq!(Average::parse("weighted")?, Average::Weighted);
    /// # Ok::<(), ferrometrics::Error>(())
    /// ```
    pub fn parse(text: &str) -> Result<Self> {
        match text {
            "micro" => Ok(Average::Micro),
            "macro" => Ok(Average::Macro),
            "weighted" => Ok(Average::Weighted),
            "none" => Ok(Average::None),
            other => Err(Error::invalid_argument(
                "average",
                format!("{other:?} is not one of \"micro\", \"macro\", \"weighted\", \"none\""),
            )),
        }
    }
}

/// The task and the options that turn a batch into per-class counts: threshold, top_k,
/// ignore_index and multidim_average, with TorchMetrics' defaults (0.5, 1, none, global).
///
/// Two metrics with equal configurations build identical states from the same batches, which
/// lets a [`MetricCollection`](crate::MetricCollection) update that state once.
///
/// # Example
///
/// ```
/// use ferrometrics::classification::{Task, TaskConfig};
///
/// let config = TaskConfig::multiclass(3).with_top_k(2).with_ignore_index(-100);
/// assert_eq!(config.task(), Task::Multiclass);
/// assert_eq!(config.num_classes(), 3);
/// assert!(config.validate().is_ok());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TaskConfig {
    task: Task,
    num_classes: usize,
    threshold: f64,
    top_k: usize,
    ignore_index: Option<i64>,
    multidim_average: MultidimAverage,
}

impl TaskConfig {
    fn with_task(task: Task, num_classes: usize) -> Self {
        Self {
            task,
            num_classes,
            threshold: 0.5,
            top_k: 1,
            ignore_index: None,
            multidim_average: MultidimAverage::Global,
        }
    }

    /// Creates the binary configuration.
    pub fn binary() -> Self {
        Self::with_task(Task::Binary, 1)
    }

    /// Creates the multiclass configuration with `num_classes` classes.
    pub fn multiclass(num_classes: usize) -> Self {
        Self::with_task(Task::Multiclass, num_classes)
    }

    /// Creates the multilabel configuration with `num_labels` labels.
    pub fn multilabel(num_labels: usize) -> Self {
        Self::with_task(Task::Multilabel, num_labels)
    }

    /// Sets the probability above which a binary or multilabel prediction is positive.
    pub fn with_threshold(mut self, threshold: f64) -> Self {
        self.threshold = threshold;
        self
    }

    /// Sets how many of the highest-scoring classes count as predicted (multiclass only).
    pub fn with_top_k(mut self, top_k: usize) -> Self {
        self.top_k = top_k;
        self
    }

    /// Sets a target value whose positions are left out of every count.
    pub fn with_ignore_index(mut self, ignore_index: i64) -> Self {
        self.ignore_index = Some(ignore_index);
        self
    }

    /// Sets whether counts are global or per sample.
    pub fn with_multidim_average(mut self, multidim_average: MultidimAverage) -> Self {
        self.multidim_average = multidim_average;
        self
    }

    /// Returns the task.
    pub fn task(&self) -> Task {
        self.task
    }

    /// Returns the number of classes (multiclass), labels (multilabel), or 1 (binary).
    pub fn num_classes(&self) -> usize {
        self.num_classes
    }

    /// Returns the probability threshold of binary and multilabel predictions.
    pub fn threshold(&self) -> f64 {
        self.threshold
    }

    /// Returns the number of top-scoring classes counted as predicted.
    pub fn top_k(&self) -> usize {
        self.top_k
    }

    /// Returns the target value that marks positions to leave out.
    pub fn ignore_index(&self) -> Option<i64> {
        self.ignore_index
    }

    /// Returns whether counts are global or per sample.
    pub fn multidim_average(&self) -> MultidimAverage {
        self.multidim_average
    }

    /// Returns `ignore_index` if it names one of the classes, so that the class is left out of
    /// averages.
    pub(crate) fn ignored_class(&self) -> Option<usize> {
        if self.task != Task::Multiclass {
            return None;
        }
        let index = usize::try_from(self.ignore_index?).ok()?;
        (index < self.num_classes).then_some(index)
    }

    /// Checks every option against the task.
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidArgument`] naming the option when `num_classes` or `num_labels`
    /// is below 2 or above [`MAX_CLASSES`], `threshold` is outside [0, 1], or `top_k` is 0, above `num_classes`, or
    /// above 1 for a task other than multiclass.
    pub fn validate(&self) -> Result<()> {
        match self.task {
            Task::Binary => {}
            Task::Multiclass | Task::Multilabel if self.num_classes > MAX_CLASSES => {
                let argument = match self.task {
                    Task::Multilabel => "num_labels",
                    _ => "num_classes",
                };
                return Err(Error::invalid_argument(
                    argument,
                    format!(
                        "{} is more than the {MAX_CLASSES} supported, because the state keeps \
                         counts per class; pass the number of classes in the data",
                        self.num_classes
                    ),
                ));
            }
            Task::Multiclass if self.num_classes < 2 => {
                return Err(Error::invalid_argument(
                    "num_classes",
                    format!("{} is too small; pass 2 or more classes", self.num_classes),
                ));
            }
            Task::Multilabel if self.num_classes < 2 => {
                return Err(Error::invalid_argument(
                    "num_labels",
                    format!("{} is too small; pass 2 or more labels", self.num_classes),
                ));
            }
            _ => {}
        }
        if !(0.0..=1.0).contains(&self.threshold) {
            return Err(Error::invalid_argument(
                "threshold",
                format!("{} is outside [0, 1]; pass a probability", self.threshold),
            ));
        }
        if self.top_k == 0 {
            return Err(Error::invalid_argument(
                "top_k",
                "0 selects no class; pass 1 or more",
            ));
        }
        if self.top_k > 1 && self.task != Task::Multiclass {
            return Err(Error::invalid_argument(
                "top_k",
                format!("{} applies only to the multiclass task; pass 1", self.top_k),
            ));
        }
        if self.top_k > self.num_classes && self.task == Task::Multiclass {
            return Err(Error::invalid_argument(
                "top_k",
                format!(
                    "{} is larger than num_classes = {}; pass at most {}",
                    self.top_k, self.num_classes, self.num_classes
                ),
            ));
        }
        Ok(())
    }
}

/// Returns an error unless a deserialized configuration is valid, so that a corrupted state
/// is rejected instead of indexing out of bounds.
pub(crate) fn check_restored(config: &TaskConfig, consistent: bool) -> Result<()> {
    let binary_width = config.task() != Task::Binary || config.num_classes() == 1;
    if config.validate().is_err() || !binary_width || !consistent {
        return Err(Error::incompatible_state(
            "the state's arrays do not match its configuration; restore it from bytes that \
             to_bytes wrote",
        ));
    }
    Ok(())
}

/// Checks a `zero_division` value: 0, 1 or NaN, as scikit-learn accepts.
pub(crate) fn check_zero_division(zero_division: f64) -> Result<()> {
    if zero_division == 0.0 || zero_division == 1.0 || zero_division.is_nan() {
        return Ok(());
    }
    Err(Error::invalid_argument(
        "zero_division",
        format!("{zero_division} is not 0, 1 or NaN; pass one of them"),
    ))
}
