//! Regression metrics: their configurations, parsed from TorchMetrics' keyword arguments, and the
//! functional forms, which run the library's functions over whole inputs.

use ferrometrics::regression::{
    self, Alternative, ConcordanceCorrCoef, ContinuousRankedProbabilityScore, CosineSimilarity,
    CriticalSuccessIndex, ExplainedVariance, JensenShannonDivergence, KLDivergence,
    KendallRankCorrCoef, KendallVariant, LogCoshError, MeanAbsoluteError,
    MeanAbsolutePercentageError, MeanSquaredError, MeanSquaredLogError, MinkowskiDistance,
    Multioutput, Normalization, NormalizedRootMeanSquaredError, PearsonCorrCoef, PredsTarget,
    R2Score, Reduction, RelativeSquaredError, SpearmanCorrCoef,
    SymmetricMeanAbsolutePercentageError, TweedieDevianceScore,
    WeightedMeanAbsolutePercentageError,
};
use ferrometrics::{DynMetric, Metric, Result, Value};
use ndarray::{ArrayViewD, Ix1};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::conversion;
use crate::errors::{to_py_err, value_error};
use crate::factory::Options;

/// A regression metric's class and parsed configuration.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum RegressionConfig {
    PearsonCorrCoef(usize),
    SpearmanCorrCoef(usize),
    KendallRankCorrCoef(KendallVariant, bool, Alternative, usize),
    ConcordanceCorrCoef(usize),
    R2Score(usize, Multioutput),
    ExplainedVariance(Multioutput),
    MeanSquaredError(bool, usize),
    NormalizedRootMeanSquaredError(Normalization, usize),
    MeanAbsoluteError(usize),
    MeanAbsolutePercentageError,
    SymmetricMeanAbsolutePercentageError,
    WeightedMeanAbsolutePercentageError,
    MeanSquaredLogError,
    LogCoshError(usize),
    MinkowskiDistance(f64),
    RelativeSquaredError(usize, bool),
    CosineSimilarity(Reduction),
    TweedieDevianceScore(f64),
    KLDivergence(bool, Reduction),
    JensenShannonDivergence(bool, Reduction),
    CriticalSuccessIndex(f64, Option<usize>),
    ContinuousRankedProbabilityScore,
}

impl RegressionConfig {
    /// Parses the keyword arguments of the regression class `name`, or returns `None` if `name`
    /// is not a regression class.
    ///
    /// `p` of `MinkowskiDistance` and `threshold` of `CriticalSuccessIndex` are required by the
    /// Python classes. The defaults here (2 and 0.5) serve only the metric built without options
    /// to read the class facts.
    pub(crate) fn parse(name: &str, options: &Options<'_, '_>) -> PyResult<Option<Self>> {
        let config = match name {
            "PearsonCorrCoef" => Self::PearsonCorrCoef(options.count("num_outputs", 1)?),
            "SpearmanCorrCoef" => Self::SpearmanCorrCoef(options.count("num_outputs", 1)?),
            "KendallRankCorrCoef" => {
                let variant = parse_option(options.string("variant", "b")?)?;
                let t_test = options.boolean("t_test", false)?;
                // TorchMetrics accepts `alternative=None` without the test, where it is unused.
                let alternative = if !t_test && options.is_explicit_none("alternative")? {
                    options.string_or_default("alternative", "two-sided")?
                } else {
                    options.string("alternative", "two-sided")?
                };
                Self::KendallRankCorrCoef(
                    variant,
                    t_test,
                    parse_option(alternative)?,
                    options.count("num_outputs", 1)?,
                )
            }
            "ConcordanceCorrCoef" => Self::ConcordanceCorrCoef(options.count("num_outputs", 1)?),
            "R2Score" => Self::R2Score(
                options.non_negative("adjusted", 0)?,
                parse_option(options.string("multioutput", "uniform_average")?)?,
            ),
            "ExplainedVariance" => Self::ExplainedVariance(parse_option(
                options.string("multioutput", "uniform_average")?,
            )?),
            "MeanSquaredError" => Self::MeanSquaredError(
                options.boolean("squared", true)?,
                options.count("num_outputs", 1)?,
            ),
            "NormalizedRootMeanSquaredError" => Self::NormalizedRootMeanSquaredError(
                parse_option(options.string("normalization", "mean")?)?,
                options.count("num_outputs", 1)?,
            ),
            "MeanAbsoluteError" => Self::MeanAbsoluteError(options.count("num_outputs", 1)?),
            "MeanAbsolutePercentageError" => Self::MeanAbsolutePercentageError,
            "SymmetricMeanAbsolutePercentageError" => Self::SymmetricMeanAbsolutePercentageError,
            "WeightedMeanAbsolutePercentageError" => Self::WeightedMeanAbsolutePercentageError,
            "MeanSquaredLogError" => Self::MeanSquaredLogError,
            "LogCoshError" => Self::LogCoshError(options.count("num_outputs", 1)?),
            "MinkowskiDistance" => Self::MinkowskiDistance(options.float("p", 2.0)?),
            "RelativeSquaredError" => Self::RelativeSquaredError(
                options.count("num_outputs", 1)?,
                options.boolean("squared", true)?,
            ),
            "CosineSimilarity" => Self::CosineSimilarity(parse_option(options.reduction("sum")?)?),
            "TweedieDevianceScore" => Self::TweedieDevianceScore(options.float("power", 0.0)?),
            "KLDivergence" => Self::KLDivergence(
                options.boolean("log_prob", false)?,
                parse_option(options.reduction("mean")?)?,
            ),
            "JensenShannonDivergence" => Self::JensenShannonDivergence(
                options.boolean("log_prob", false)?,
                parse_option(options.reduction("mean")?)?,
            ),
            "CriticalSuccessIndex" => Self::CriticalSuccessIndex(
                options.float("threshold", 0.5)?,
                options.optional_index("keep_sequence_dim")?,
            ),
            "ContinuousRankedProbabilityScore" => Self::ContinuousRankedProbabilityScore,
            _ => return Ok(None),
        };
        Ok(Some(config))
    }

    /// Returns whether the metric compares distributions `p` and `q` rather than `preds` and `target`.
    pub(crate) fn takes_distributions(&self) -> bool {
        matches!(
            self,
            Self::KLDivergence(..) | Self::JensenShannonDivergence(..)
        )
    }

    /// Builds the stateful metric.
    ///
    /// # Errors
    ///
    /// Returns the library's error for a configuration it rejects, such as a Tweedie power
    /// between 0 and 1.
    pub(crate) fn build(&self) -> Result<Box<dyn DynMetric<PredsTarget<f64>>>> {
        let metric: Box<dyn DynMetric<PredsTarget<f64>>> = match *self {
            Self::PearsonCorrCoef(outputs) => Box::new(PearsonCorrCoef::<f64>::new(outputs)?),
            Self::SpearmanCorrCoef(outputs) => Box::new(SpearmanCorrCoef::<f64>::new(outputs)?),
            Self::KendallRankCorrCoef(variant, t_test, alternative, outputs) => Box::new(
                KendallRankCorrCoef::<f64>::new(variant, t_test, alternative, outputs)?,
            ),
            Self::ConcordanceCorrCoef(outputs) => {
                Box::new(ConcordanceCorrCoef::<f64>::new(outputs)?)
            }
            Self::R2Score(adjusted, multioutput) => {
                Box::new(R2Score::<f64>::new(adjusted, multioutput))
            }
            Self::ExplainedVariance(multioutput) => {
                Box::new(ExplainedVariance::<f64>::new(multioutput))
            }
            Self::MeanSquaredError(squared, outputs) => {
                Box::new(MeanSquaredError::<f64>::new(squared, outputs)?)
            }
            Self::NormalizedRootMeanSquaredError(normalization, outputs) => Box::new(
                NormalizedRootMeanSquaredError::<f64>::new(normalization, outputs)?,
            ),
            Self::MeanAbsoluteError(outputs) => Box::new(MeanAbsoluteError::<f64>::new(outputs)?),
            Self::MeanAbsolutePercentageError => {
                Box::new(MeanAbsolutePercentageError::<f64>::new())
            }
            Self::SymmetricMeanAbsolutePercentageError => {
                Box::new(SymmetricMeanAbsolutePercentageError::<f64>::new())
            }
            Self::WeightedMeanAbsolutePercentageError => {
                Box::new(WeightedMeanAbsolutePercentageError::<f64>::new())
            }
            Self::MeanSquaredLogError => Box::new(MeanSquaredLogError::<f64>::new()),
            Self::LogCoshError(outputs) => Box::new(LogCoshError::<f64>::new(outputs)?),
            Self::MinkowskiDistance(p) => Box::new(MinkowskiDistance::<f64>::new(p)?),
            Self::RelativeSquaredError(outputs, squared) => {
                Box::new(RelativeSquaredError::<f64>::new(outputs, squared)?)
            }
            Self::CosineSimilarity(reduction) => Box::new(CosineSimilarity::<f64>::new(reduction)),
            Self::TweedieDevianceScore(power) => Box::new(TweedieDevianceScore::<f64>::new(power)?),
            Self::KLDivergence(log_prob, reduction) => {
                Box::new(KLDivergence::<f64>::new(log_prob, reduction))
            }
            Self::JensenShannonDivergence(log_prob, reduction) => {
                Box::new(JensenShannonDivergence::<f64>::new(log_prob, reduction))
            }
            Self::CriticalSuccessIndex(threshold, axis) => {
                Box::new(CriticalSuccessIndex::<f64>::new(threshold, axis)?)
            }
            Self::ContinuousRankedProbabilityScore => {
                Box::new(ContinuousRankedProbabilityScore::<f64>::new())
            }
        };
        Ok(metric)
    }

    /// Runs the library's function over whole inputs. The correlations, R2, explained variance
    /// and log-cosh error take the number of outputs from the shape, as TorchMetrics' functions
    /// do, so their `num_outputs` is not read.
    fn compute_function(
        &self,
        preds: ArrayViewD<'_, f64>,
        target: ArrayViewD<'_, f64>,
    ) -> Result<Value> {
        let value = match *self {
            Self::PearsonCorrCoef(_) => regression::pearson_corrcoef(preds, target)?,
            Self::SpearmanCorrCoef(_) => regression::spearman_corrcoef(preds, target)?,
            Self::KendallRankCorrCoef(variant, t_test, alternative, _) => {
                regression::kendall_rank_corrcoef(preds, target, variant, t_test, alternative)?
            }
            Self::ConcordanceCorrCoef(_) => regression::concordance_corrcoef(preds, target)?,
            Self::R2Score(adjusted, multioutput) => {
                regression::r2_score(preds, target, adjusted, multioutput)?
            }
            Self::ExplainedVariance(multioutput) => {
                regression::explained_variance(preds, target, multioutput)?
            }
            Self::MeanSquaredError(squared, outputs) => {
                regression::mean_squared_error(preds, target, squared, outputs)?
            }
            Self::NormalizedRootMeanSquaredError(normalization, outputs) => {
                regression::normalized_root_mean_squared_error(
                    preds,
                    target,
                    normalization,
                    outputs,
                )?
            }
            Self::MeanAbsoluteError(outputs) => {
                regression::mean_absolute_error(preds, target, outputs)?
            }
            Self::MeanAbsolutePercentageError => {
                Value::Scalar(regression::mean_absolute_percentage_error(preds, target)?)
            }
            Self::SymmetricMeanAbsolutePercentageError => Value::Scalar(
                regression::symmetric_mean_absolute_percentage_error(preds, target)?,
            ),
            Self::WeightedMeanAbsolutePercentageError => Value::Scalar(
                regression::weighted_mean_absolute_percentage_error(preds, target)?,
            ),
            Self::MeanSquaredLogError => {
                Value::Scalar(regression::mean_squared_log_error(preds, target)?)
            }
            Self::LogCoshError(_) => regression::log_cosh_error(preds, target)?,
            Self::MinkowskiDistance(p) => {
                Value::Scalar(regression::minkowski_distance(preds, target, p)?)
            }
            Self::RelativeSquaredError(outputs, squared) => Value::Scalar(
                regression::relative_squared_error(preds, target, squared, outputs)?,
            ),
            Self::CosineSimilarity(reduction) => {
                regression::cosine_similarity(preds, target, reduction)?
            }
            Self::TweedieDevianceScore(power) => {
                Value::Scalar(regression::tweedie_deviance_score(preds, target, power)?)
            }
            Self::KLDivergence(log_prob, reduction) => {
                regression::kl_divergence(preds, target, log_prob, reduction)?
            }
            Self::JensenShannonDivergence(log_prob, reduction) => {
                regression::jensen_shannon_divergence(preds, target, log_prob, reduction)?
            }
            Self::CriticalSuccessIndex(threshold, axis) => {
                regression::critical_success_index(preds, target, threshold, axis)?
            }
            Self::ContinuousRankedProbabilityScore => {
                // The library's function takes 2-D and 1-D views, and the metric takes views of
                // any dimension and names the input whose shape is wrong.
                let mut metric = ContinuousRankedProbabilityScore::<f64>::new();
                Metric::update(&mut metric, (preds, target))?;
                Value::Scalar(Metric::compute(&metric)?)
            }
        };
        Ok(value)
    }
}

fn parse_option<T: std::str::FromStr<Err = ferrometrics::Error>>(text: String) -> PyResult<T> {
    text.parse::<T>().map_err(to_py_err)
}

/// Computes the regression metric `name`, a TorchMetrics class name, over whole inputs with the
/// keyword arguments `options` of its functional form, with the GIL released.
///
/// `first` and `second` are `preds` and `target`, or `p` and `q` for the divergences.
#[pyfunction]
#[pyo3(signature = (name, first, second, options = None))]
pub(crate) fn regression_function<'py>(
    py: Python<'py>,
    name: &str,
    first: &Bound<'py, PyAny>,
    second: &Bound<'py, PyAny>,
    options: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyAny>> {
    let parsed = Options::new(options);
    let Some(config) = RegressionConfig::parse(name, &parsed)? else {
        return Err(value_error(
            "name",
            format!("{name:?} is not a regression metric class"),
        ));
    };
    parsed.reject_unused(name)?;

    let (first_name, second_name) = if config.takes_distributions() {
        ("p", "q")
    } else {
        ("preds", "target")
    };
    let first = conversion::reals(first_name, first)?;
    let second = conversion::reals(second_name, second)?;
    let (first, second) = (first.as_array(), second.as_array());
    let value = py
        .detach(|| config.compute_function(first, second))
        .map_err(to_py_err)?;
    conversion::value_to_py(py, value)
}

/// Computes the weighted Pearson correlation coefficient per output over whole inputs, with the
/// GIL released: TorchMetrics' `weighted_pearson_corrcoef(preds, target, weights)`.
#[pyfunction]
pub(crate) fn weighted_pearson_function<'py>(
    py: Python<'py>,
    preds: &Bound<'py, PyAny>,
    target: &Bound<'py, PyAny>,
    weights: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let preds = conversion::reals("preds", preds)?;
    let target = conversion::reals("target", target)?;
    let weights = conversion::reals("weights", weights)?;
    let weights = weights.as_array();
    let shape = weights.shape().to_vec();
    let weights = weights.into_dimensionality::<Ix1>().map_err(|_| {
        value_error(
            "weights",
            format!("shape {shape:?} is not (N,); pass one weight per sample"),
        )
    })?;
    let (preds, target) = (preds.as_array(), target.as_array());
    let value = py
        .detach(|| regression::weighted_pearson_corrcoef(preds, target, weights))
        .map_err(to_py_err)?;
    conversion::value_to_py(py, value)
}
