//! Construction of native metrics from a class name and the keyword arguments of its Python
//! class, so that each metric is declared once here and served by one generic Python class.

use ferrometrics::aggregation::{
    CatMetric, MaxMetric, MeanMetric, MinMetric, NanStrategy, RunningMean, RunningSum, SumMetric,
};
use ferrometrics::classification::{
    BinaryFairness, BinaryGroupStatRates, ClassificationBatch, FairnessTask, GroupedBatch,
    TaskConfig,
};
use ferrometrics::clustering::{
    AdjustedMutualInfoScore, AdjustedRandScore, AverageMethod, CalinskiHarabaszScore,
    ClusterAccuracy, CompletenessScore, DaviesBouldinScore, DunnDefinition, DunnIndex,
    FowlkesMallowsIndex, HomogeneityScore, MutualInfoScore, NormalizedMutualInfoScore, RandScore,
    SilhouetteScore, VMeasureScore,
};
use ferrometrics::inputs::{DataLabels, LabelPairs, WeightedValues};
use ferrometrics::numerics::Real;
use ferrometrics::regression::{PredsTarget, WeightedPearsonCorrCoef, WeightedPredsTarget};
use ferrometrics::{DynMetric, Result};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyDictMethods, PyFloat, PyString};

use crate::classification::{split_name, ClassificationSpec};
use crate::conversion::Precision;
use crate::errors::{argument_error, argument_type_error, to_py_err};
use crate::regression::RegressionConfig;

/// The kind of batch a metric takes, which decides how `update` reads its arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    LabelPairs,
    DataLabels,
    WeightedValues,
    /// Predicted and true values of a regression metric.
    Regression,
    /// Two distributions, `p` and `q`, of a divergence.
    Distributions,
    /// Predicted and true values with one weight per sample, the third input.
    WeightedRegression,
    Classification,
    Grouped,
}

impl Kind {
    /// Returns the names of the two `update` arguments, as TorchMetrics spells them.
    pub(crate) fn argument_names(self) -> (&'static str, &'static str) {
        match self {
            Kind::LabelPairs => ("preds", "target"),
            Kind::DataLabels => ("data", "labels"),
            Kind::WeightedValues => ("value", "weight"),
            Kind::Regression | Kind::WeightedRegression => ("preds", "target"),
            Kind::Distributions => ("p", "q"),
            Kind::Classification | Kind::Grouped => ("preds", "target"),
        }
    }

    /// Returns the name shown to Python.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Kind::LabelPairs => "label_pairs",
            Kind::DataLabels => "data_labels",
            Kind::WeightedValues => "weighted_values",
            Kind::Regression => "regression",
            Kind::Distributions => "distributions",
            Kind::WeightedRegression => "weighted_regression",
            Kind::Classification => "classification",
            Kind::Grouped => "grouped",
        }
    }
}

/// A native metric behind one of the dynamic pointers, one variant per batch kind.
pub(crate) enum Inner {
    LabelPairs(Box<dyn DynMetric<LabelPairs>>),
    DataF32(Box<dyn DynMetric<DataLabels<f32>>>),
    DataF64(Box<dyn DynMetric<DataLabels<f64>>>),
    WeightedValues(Box<dyn DynMetric<WeightedValues>>),
    Regression(Box<dyn DynMetric<PredsTarget<f64>>>),
    WeightedRegression(Box<dyn DynMetric<WeightedPredsTarget<f64>>>),
    Classification(Box<dyn DynMetric<ClassificationBatch>>),
    Grouped(Box<dyn DynMetric<GroupedBatch>>),
}

/// A metric's class and parsed configuration, enough to build it for either precision.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Config {
    MutualInfoScore,
    NormalizedMutualInfoScore(AverageMethod),
    AdjustedMutualInfoScore(AverageMethod),
    RandScore,
    AdjustedRandScore,
    FowlkesMallowsIndex,
    HomogeneityScore,
    CompletenessScore,
    VMeasureScore(f64),
    ClusterAccuracy,
    CalinskiHarabaszScore,
    DaviesBouldinScore,
    DunnIndex(f64, DunnDefinition),
    SilhouetteScore(Option<usize>, u64),
    SumMetric(NanStrategy),
    MeanMetric(NanStrategy),
    MaxMetric(NanStrategy),
    MinMetric(NanStrategy),
    CatMetric(NanStrategy),
    RunningMean(usize, NanStrategy),
    RunningSum(usize, NanStrategy),
    Regression(RegressionConfig),
    /// `WeightedPearsonCorrCoef` with its number of outputs.
    WeightedPearsonCorrCoef(usize),
    Classification(Box<ClassificationSpec>),
    /// A group fairness metric: `Some(task)` for `BinaryFairness`, `None` for
    /// `BinaryGroupStatRates`, with the number of groups and the task configuration.
    Fairness(Option<FairnessTask>, usize, TaskConfig),
}

impl Config {
    /// Parses the keyword arguments of the Python class `name`.
    ///
    /// # Errors
    ///
    /// Raises `ValueError` for an unknown class, an unknown keyword or a value outside its
    /// domain, and `TypeError` for a value of the wrong type, each naming the argument.
    pub(crate) fn parse(name: &str, options: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        let options = Options::new(options);
        let config = match name {
            "MutualInfoScore" => Config::MutualInfoScore,
            "NormalizedMutualInfoScore" => {
                Config::NormalizedMutualInfoScore(options.average_method()?)
            }
            "AdjustedMutualInfoScore" => Config::AdjustedMutualInfoScore(options.average_method()?),
            "RandScore" => Config::RandScore,
            "AdjustedRandScore" => Config::AdjustedRandScore,
            "FowlkesMallowsIndex" => Config::FowlkesMallowsIndex,
            "HomogeneityScore" => Config::HomogeneityScore,
            "CompletenessScore" => Config::CompletenessScore,
            "VMeasureScore" => Config::VMeasureScore(options.float("beta", 1.0)?),
            "ClusterAccuracy" => Config::ClusterAccuracy,
            "CalinskiHarabaszScore" => Config::CalinskiHarabaszScore,
            "DaviesBouldinScore" => Config::DaviesBouldinScore,
            "DunnIndex" => Config::DunnIndex(options.float("p", 2.0)?, options.dunn_definition()?),
            "SilhouetteScore" => Config::SilhouetteScore(
                options.optional_count("sample_size")?,
                options.seed("seed")?,
            ),
            "SumMetric" => Config::SumMetric(options.nan_strategy()?),
            "MeanMetric" => Config::MeanMetric(options.nan_strategy()?),
            "MaxMetric" => Config::MaxMetric(options.nan_strategy()?),
            "MinMetric" => Config::MinMetric(options.nan_strategy()?),
            "CatMetric" => Config::CatMetric(options.nan_strategy()?),
            "RunningMean" => {
                Config::RunningMean(options.count("window", 5)?, options.nan_strategy()?)
            }
            "RunningSum" => {
                Config::RunningSum(options.count("window", 5)?, options.nan_strategy()?)
            }
            "WeightedPearsonCorrCoef" => {
                Config::WeightedPearsonCorrCoef(options.count("num_outputs", 1)?)
            }
            "BinaryFairness" | "BinaryGroupStatRates" => {
                let task = if name == "BinaryFairness" {
                    Some(match options.string("task", "all")?.as_str() {
                        "all" => FairnessTask::All,
                        "demographic_parity" => FairnessTask::DemographicParity,
                        "equal_opportunity" => FairnessTask::EqualOpportunity,
                        other => {
                            return Err(argument_error(
                                "task",
                                format!(
                                    "{other:?} is not one of \"all\", \"demographic_parity\", \
                                     \"equal_opportunity\""
                                ),
                            ))
                        }
                    })
                } else {
                    None
                };
                let num_groups = options.count("num_groups", 2)?;
                let mut config =
                    TaskConfig::binary().with_threshold(options.float("threshold", 0.5)?);
                if let Some(ignore_index) = options.integer("ignore_index")? {
                    let ignore_index = i64::try_from(ignore_index).map_err(|_| {
                        argument_error("ignore_index", format!("{ignore_index} is outside int64"))
                    })?;
                    config = config.with_ignore_index(ignore_index);
                }
                options.get("validate_args")?;
                Config::Fairness(task, num_groups, config)
            }
            _ => match RegressionConfig::parse(name, &options)? {
                Some(config) => Config::Regression(config),
                None => match split_name(name) {
                    Some((task, family)) => Config::Classification(Box::new(
                        ClassificationSpec::parse(task, family, &options)?,
                    )),
                    None => {
                        return Err(argument_error(
                            "name",
                            format!("{name:?} is not a metric class"),
                        ))
                    }
                },
            },
        };
        options.reject_unused(name)?;
        Ok(config)
    }

    /// Returns the kind of batch the metric takes.
    pub(crate) fn kind(&self) -> Kind {
        match self {
            Config::MutualInfoScore
            | Config::NormalizedMutualInfoScore(_)
            | Config::AdjustedMutualInfoScore(_)
            | Config::RandScore
            | Config::AdjustedRandScore
            | Config::FowlkesMallowsIndex
            | Config::HomogeneityScore
            | Config::CompletenessScore
            | Config::VMeasureScore(_)
            | Config::ClusterAccuracy => Kind::LabelPairs,
            Config::CalinskiHarabaszScore
            | Config::DaviesBouldinScore
            | Config::DunnIndex(..)
            | Config::SilhouetteScore(..) => Kind::DataLabels,
            Config::SumMetric(_)
            | Config::MeanMetric(_)
            | Config::MaxMetric(_)
            | Config::MinMetric(_)
            | Config::CatMetric(_)
            | Config::RunningMean(..)
            | Config::RunningSum(..) => Kind::WeightedValues,
            Config::Regression(config) if config.takes_distributions() => Kind::Distributions,
            Config::Regression(_) => Kind::Regression,
            Config::WeightedPearsonCorrCoef(_) => Kind::WeightedRegression,
            Config::Classification(_) => Kind::Classification,
            Config::Fairness(..) => Kind::Grouped,
        }
    }

    /// Builds the metric. `precision` chooses the float type of intrinsic metrics and is ignored
    /// by the others.
    ///
    /// # Errors
    ///
    /// Returns the library's error for a configuration it rejects.
    pub(crate) fn build(&self, precision: Precision) -> Result<Inner> {
        let inner = match self {
            Config::MutualInfoScore => Inner::LabelPairs(Box::new(MutualInfoScore::new())),
            Config::NormalizedMutualInfoScore(method) => {
                Inner::LabelPairs(Box::new(NormalizedMutualInfoScore::new(*method)))
            }
            Config::AdjustedMutualInfoScore(method) => {
                Inner::LabelPairs(Box::new(AdjustedMutualInfoScore::new(*method)))
            }
            Config::RandScore => Inner::LabelPairs(Box::new(RandScore::new())),
            Config::AdjustedRandScore => Inner::LabelPairs(Box::new(AdjustedRandScore::new())),
            Config::FowlkesMallowsIndex => Inner::LabelPairs(Box::new(FowlkesMallowsIndex::new())),
            Config::HomogeneityScore => Inner::LabelPairs(Box::new(HomogeneityScore::new())),
            Config::CompletenessScore => Inner::LabelPairs(Box::new(CompletenessScore::new())),
            Config::VMeasureScore(beta) => Inner::LabelPairs(Box::new(VMeasureScore::new(*beta)?)),
            Config::ClusterAccuracy => Inner::LabelPairs(Box::new(ClusterAccuracy::new())),
            Config::CalinskiHarabaszScore
            | Config::DaviesBouldinScore
            | Config::DunnIndex(..)
            | Config::SilhouetteScore(..) => match precision {
                Precision::F32 => Inner::DataF32(self.build_intrinsic::<f32>()?),
                Precision::F64 => Inner::DataF64(self.build_intrinsic::<f64>()?),
            },
            Config::SumMetric(strategy) => {
                Inner::WeightedValues(Box::new(SumMetric::new(*strategy)))
            }
            Config::MeanMetric(strategy) => {
                Inner::WeightedValues(Box::new(MeanMetric::new(*strategy)))
            }
            Config::MaxMetric(strategy) => {
                Inner::WeightedValues(Box::new(MaxMetric::new(*strategy)))
            }
            Config::MinMetric(strategy) => {
                Inner::WeightedValues(Box::new(MinMetric::new(*strategy)))
            }
            Config::CatMetric(strategy) => {
                Inner::WeightedValues(Box::new(CatMetric::new(*strategy)))
            }
            Config::RunningMean(window, strategy) => {
                Inner::WeightedValues(Box::new(RunningMean::new(*window, *strategy)?))
            }
            Config::RunningSum(window, strategy) => {
                Inner::WeightedValues(Box::new(RunningSum::new(*window, *strategy)?))
            }
            Config::Regression(config) => Inner::Regression(config.build()?),
            Config::WeightedPearsonCorrCoef(outputs) => {
                Inner::WeightedRegression(Box::new(WeightedPearsonCorrCoef::<f64>::new(*outputs)?))
            }
            Config::Classification(spec) => Inner::Classification(spec.build()?),
            Config::Fairness(Some(task), num_groups, config) => {
                Inner::Grouped(Box::new(BinaryFairness::new(*config, *num_groups, *task)?))
            }
            Config::Fairness(None, num_groups, config) => {
                Inner::Grouped(Box::new(BinaryGroupStatRates::new(*config, *num_groups)?))
            }
        };
        Ok(inner)
    }

    fn build_intrinsic<F: Real>(&self) -> Result<Box<dyn DynMetric<DataLabels<F>>>> {
        let metric: Box<dyn DynMetric<DataLabels<F>>> = match self {
            Config::CalinskiHarabaszScore => Box::new(CalinskiHarabaszScore::<F>::new()),
            Config::DaviesBouldinScore => Box::new(DaviesBouldinScore::<F>::new()),
            Config::DunnIndex(p, definition) => Box::new(DunnIndex::<F>::new(*p, *definition)?),
            Config::SilhouetteScore(sample_size, seed) => {
                Box::new(SilhouetteScore::<F>::new(*sample_size, *seed)?)
            }
            _ => unreachable!("build_intrinsic is called for intrinsic metrics only"),
        };
        Ok(metric)
    }
}

/// Keyword arguments being parsed, remembering which were read so that the rest can be rejected.
pub(crate) struct Options<'a, 'py> {
    dict: Option<&'a Bound<'py, PyDict>>,
    read: std::cell::RefCell<Vec<&'static str>>,
}

impl<'a, 'py> Options<'a, 'py> {
    pub(crate) fn new(dict: Option<&'a Bound<'py, PyDict>>) -> Self {
        Self {
            dict,
            read: std::cell::RefCell::new(Vec::new()),
        }
    }

    /// Returns the value of `name`, or `None` if it is absent or `None`.
    pub(crate) fn get(&self, name: &'static str) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.read.borrow_mut().push(name);
        let Some(dict) = self.dict else {
            return Ok(None);
        };
        Ok(dict.get_item(name)?.filter(|value| !value.is_none()))
    }

    /// Rejects an explicit `None` for an option whose default is a value rather than `None`,
    /// because silently using the default would hide the caller's mistake.
    fn reject_none(&self, name: &'static str, expected: &str) -> PyResult<()> {
        let Some(dict) = self.dict else {
            return Ok(());
        };
        match dict.get_item(name)? {
            Some(value) if value.is_none() => Err(argument_type_error(
                name,
                format!("expected {expected}, got None; omit the argument to use the default"),
            )),
            _ => Ok(()),
        }
    }

    /// Parses a string option. An explicit `None` is rejected rather than read as the default.
    pub(crate) fn string(&self, name: &'static str, default: &str) -> PyResult<String> {
        self.reject_none(name, "a string")?;
        self.string_or_default(name, default)
    }

    /// Parses `reduction`, where an explicit `None` means `"none"` (one value per row), as
    /// TorchMetrics' reducing metrics read it.
    pub(crate) fn reduction(&self, default: &str) -> PyResult<String> {
        if self.is_explicit_none("reduction")? {
            self.read.borrow_mut().push("reduction");
            return Ok("none".to_owned());
        }
        self.string("reduction", default)
    }

    /// Returns whether `name` was passed as `None`.
    pub(crate) fn is_explicit_none(&self, name: &'static str) -> PyResult<bool> {
        let Some(dict) = self.dict else {
            return Ok(false);
        };
        Ok(dict.get_item(name)?.is_some_and(|value| value.is_none()))
    }

    pub(crate) fn string_or_default(&self, name: &'static str, default: &str) -> PyResult<String> {
        match self.get(name)? {
            None => Ok(default.to_owned()),
            Some(value) => match value.cast::<PyString>() {
                Ok(text) => Ok(text.to_cow()?.into_owned()),
                Err(_) => Err(argument_type_error(
                    name,
                    format!("expected a string, got {}", describe(&value)),
                )),
            },
        }
    }

    /// Parses a real number. Strings and bools are rejected although Python can convert them.
    pub(crate) fn float(&self, name: &'static str, default: f64) -> PyResult<f64> {
        self.reject_none(name, "a number")?;
        match self.get(name)? {
            None => Ok(default),
            Some(value)
                if value.is_instance_of::<PyString>()
                    || value.is_instance_of::<pyo3::types::PyBool>() =>
            {
                Err(argument_type_error(
                    name,
                    format!("expected a number, got {}", describe(&value)),
                ))
            }
            Some(value) => value.extract::<f64>().map_err(|_| {
                argument_type_error(name, format!("expected a number, got {}", describe(&value)))
            }),
        }
    }

    pub(crate) fn integer(&self, name: &'static str) -> PyResult<Option<i128>> {
        let Some(value) = self.get(name)? else {
            return Ok(None);
        };
        if value.is_instance_of::<PyFloat>() || value.is_instance_of::<pyo3::types::PyBool>() {
            return Err(argument_type_error(
                name,
                format!("expected an integer, got {}", describe(&value)),
            ));
        }
        value.extract::<i128>().map(Some).map_err(|_| {
            argument_type_error(
                name,
                format!("expected an integer, got {}", describe(&value)),
            )
        })
    }

    pub(crate) fn count(&self, name: &'static str, default: usize) -> PyResult<usize> {
        self.reject_none(name, "a positive integer")?;
        Ok(self.optional_count(name)?.unwrap_or(default))
    }

    pub(crate) fn optional_count(&self, name: &'static str) -> PyResult<Option<usize>> {
        match self.integer(name)? {
            None => Ok(None),
            Some(value) if value > 0 => usize::try_from(value)
                .map(Some)
                .map_err(|_| argument_error(name, format!("{value} is too large"))),
            Some(value) => Err(argument_error(
                name,
                format!("expected a positive integer, got {value}"),
            )),
        }
    }

    /// Parses a non-negative integer, such as the number of regressors of an adjusted R2.
    pub(crate) fn non_negative(&self, name: &'static str, default: usize) -> PyResult<usize> {
        self.reject_none(name, "a non-negative integer")?;
        match self.integer(name)? {
            None => Ok(default),
            Some(value) => usize::try_from(value).map_err(|_| {
                argument_error(
                    name,
                    format!("expected a non-negative integer, got {value}"),
                )
            }),
        }
    }

    /// Parses an optional axis index: `None`, or a non-negative integer.
    pub(crate) fn optional_index(&self, name: &'static str) -> PyResult<Option<usize>> {
        match self.integer(name)? {
            None => Ok(None),
            Some(value) => usize::try_from(value).map(Some).map_err(|_| {
                argument_error(
                    name,
                    format!("expected None or a non-negative axis index, got {value}"),
                )
            }),
        }
    }

    /// Parses a Python or numpy bool. Numbers are rejected although Python can test their
    /// truth, because a number here is more likely a misplaced argument than a flag.
    pub(crate) fn boolean(&self, name: &'static str, default: bool) -> PyResult<bool> {
        self.reject_none(name, "a bool")?;
        let Some(value) = self.get(name)? else {
            return Ok(default);
        };
        if let Ok(flag) = value.cast::<pyo3::types::PyBool>() {
            return Ok(flag.is_true());
        }
        let numpy_bool = value.py().import("numpy")?.getattr("bool_")?;
        if value.is_instance(&numpy_bool)? {
            return value.is_truthy();
        }
        Err(argument_type_error(
            name,
            format!("expected a bool, got {}", describe(&value)),
        ))
    }

    pub(crate) fn seed(&self, name: &'static str) -> PyResult<u64> {
        match self.integer(name)? {
            None => Ok(0),
            Some(value) => u64::try_from(value).map_err(|_| {
                argument_error(
                    name,
                    format!("expected an integer from 0 to 2**64 - 1, got {value}"),
                )
            }),
        }
    }

    pub(crate) fn average_method(&self) -> PyResult<AverageMethod> {
        let text = self.string("average_method", "arithmetic")?;
        text.parse::<AverageMethod>().map_err(to_py_err)
    }

    pub(crate) fn dunn_definition(&self) -> PyResult<DunnDefinition> {
        let text = self.string("definition", "centroid")?;
        text.parse::<DunnDefinition>().map_err(to_py_err)
    }

    /// Parses `nan_strategy`: one of TorchMetrics' strategy names, or a number to replace NaN
    /// values with.
    fn nan_strategy(&self) -> PyResult<NanStrategy> {
        self.reject_none(
            "nan_strategy",
            "'error', 'warn', 'ignore', 'disable' or a number",
        )?;
        let Some(value) = self.get("nan_strategy")? else {
            return Ok(NanStrategy::default());
        };
        if let Ok(text) = value.cast::<PyString>() {
            return text.to_cow()?.parse::<NanStrategy>().map_err(to_py_err);
        }
        if value.is_instance_of::<pyo3::types::PyBool>() {
            return Err(argument_type_error(
                "nan_strategy",
                format!("expected a string or a number, got {}", describe(&value)),
            ));
        }
        match value.extract::<f64>() {
            Ok(replacement) => Ok(NanStrategy::Replace(replacement)),
            Err(_) => Err(argument_type_error(
                "nan_strategy",
                format!("expected a string or a number, got {}", describe(&value)),
            )),
        }
    }

    /// Rejects keywords that no parser read, as TorchMetrics rejects unexpected keywords.
    pub(crate) fn reject_unused(&self, metric: &str) -> PyResult<()> {
        let Some(dict) = self.dict else {
            return Ok(());
        };
        let read = self.read.borrow();
        for key in dict.keys() {
            let key = key.str()?.to_string();
            if !read.contains(&key.as_str()) {
                return Err(argument_error(
                    &key,
                    format!("{metric} takes no argument named {key:?}"),
                ));
            }
        }
        Ok(())
    }
}

fn describe(value: &Bound<'_, PyAny>) -> String {
    let type_name = value
        .get_type()
        .name()
        .map(|name| name.to_string())
        .unwrap_or_else(|_| "object".to_owned());
    match value.repr() {
        Ok(repr) => format!("{repr} of type {type_name}"),
        Err(_) => format!("a {type_name}"),
    }
}

/// Returns the number of NaN values an aggregation metric dropped or replaced.
pub(crate) fn nan_count(metric: &dyn DynMetric<WeightedValues>) -> Option<u64> {
    let any = metric.as_any();
    if let Some(metric) = any.downcast_ref::<SumMetric>() {
        return Some(metric.nan_count());
    }
    if let Some(metric) = any.downcast_ref::<MeanMetric>() {
        return Some(metric.nan_count());
    }
    if let Some(metric) = any.downcast_ref::<MaxMetric>() {
        return Some(metric.nan_count());
    }
    if let Some(metric) = any.downcast_ref::<MinMetric>() {
        return Some(metric.nan_count());
    }
    if let Some(metric) = any.downcast_ref::<CatMetric>() {
        return Some(metric.nan_count());
    }
    if let Some(metric) = any.downcast_ref::<RunningMean>() {
        return Some(metric.nan_count());
    }
    if let Some(metric) = any.downcast_ref::<RunningSum>() {
        return Some(metric.nan_count());
    }
    None
}
