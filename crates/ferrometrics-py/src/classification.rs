//! Parsing of the classification classes' keyword arguments and construction of the native
//! classification metrics.

use ferrometrics::classification::{
    Accuracy, Auroc, Average, AveragePrecision, CalibrationError, CalibrationNorm,
    ClassificationBatch, CohenKappa, ConfusionMatrix, CoverageError, Eer, ExactMatch, F1Score,
    FBetaScore, HammingDistance, HingeLoss, JaccardIndex, KappaWeights, LogAuc, MatthewsCorrCoef,
    MulticlassMode, MultidimAverage, NegativePredictiveValue, Normalize, Precision,
    PrecisionAtFixedRecall, PrecisionRecallCurve, RankingAveragePrecision, RankingLoss, Recall,
    RecallAtFixedPrecision, Roc, SensitivityAtSpecificity, Specificity, SpecificityAtSensitivity,
    StatScores, Task, TaskConfig, Thresholds,
};
use ferrometrics::{DynMetric, Result};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyFloat, PyString};

use crate::errors::{argument_error, argument_type_error, to_py_err};
use crate::factory::Options;

/// A classification class and its parsed options, enough to rebuild the native metric.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ClassificationSpec {
    family: &'static str,
    config: TaskConfig,
    average: Average,
    zero_division: f64,
    beta: f64,
    normalize: Normalize,
    weights: KappaWeights,
    thresholds: Thresholds,
    max_fpr: Option<f64>,
    minimum: f64,
    n_bins: usize,
    norm: CalibrationNorm,
    squared: bool,
    mode: MulticlassMode,
    fpr_range: (f64, f64),
}

/// The class families, each served for the task prefixes `Binary`, `Multiclass` and
/// `Multilabel` that it supports.
const FAMILIES: &[&str] = &[
    "StatScores",
    "Accuracy",
    "Precision",
    "Recall",
    "F1Score",
    "FBetaScore",
    "Specificity",
    "NegativePredictiveValue",
    "HammingDistance",
    "JaccardIndex",
    "ExactMatch",
    "ConfusionMatrix",
    "CohenKappa",
    "MatthewsCorrCoef",
    "AUROC",
    "AveragePrecision",
    "PrecisionRecallCurve",
    "ROC",
    "RecallAtFixedPrecision",
    "PrecisionAtFixedRecall",
    "SensitivityAtSpecificity",
    "SpecificityAtSensitivity",
    "CalibrationError",
    "HingeLoss",
    "LogAUC",
    "EER",
    "CoverageError",
    "RankingAveragePrecision",
    "RankingLoss",
];

/// Splits `MulticlassAccuracy` into its task and family, or returns `None` for other names.
pub(crate) fn split_name(name: &str) -> Option<(Task, &'static str)> {
    let (task, rest) = if let Some(rest) = name.strip_prefix("Binary") {
        (Task::Binary, rest)
    } else if let Some(rest) = name.strip_prefix("Multiclass") {
        (Task::Multiclass, rest)
    } else if let Some(rest) = name.strip_prefix("Multilabel") {
        (Task::Multilabel, rest)
    } else {
        return None;
    };
    let family = FAMILIES.iter().find(|family| **family == rest)?;
    Some((task, family))
}

fn is_stat_family(family: &str) -> bool {
    matches!(
        family,
        "StatScores"
            | "Accuracy"
            | "Precision"
            | "Recall"
            | "F1Score"
            | "FBetaScore"
            | "Specificity"
            | "NegativePredictiveValue"
            | "HammingDistance"
    )
}

fn is_curve_family(family: &str) -> bool {
    matches!(
        family,
        "AUROC"
            | "AveragePrecision"
            | "PrecisionRecallCurve"
            | "ROC"
            | "RecallAtFixedPrecision"
            | "PrecisionAtFixedRecall"
            | "SensitivityAtSpecificity"
            | "SpecificityAtSensitivity"
            | "LogAUC"
            | "EER"
    )
}

impl ClassificationSpec {
    /// Parses the keyword arguments of the class `family` of `task`.
    pub(crate) fn parse(
        task: Task,
        family: &'static str,
        options: &Options<'_, '_>,
    ) -> PyResult<Self> {
        let mut config = match task {
            Task::Binary => TaskConfig::binary(),
            Task::Multiclass => TaskConfig::multiclass(required_count(options, "num_classes")?),
            Task::Multilabel => TaskConfig::multilabel(required_count(options, "num_labels")?),
        };
        // Accepted for TorchMetrics' signature; ferrometrics always validates.
        options.get("validate_args")?;

        let thresholded = task != Task::Multiclass
            && !is_curve_family(family)
            && !matches!(family, "CalibrationError" | "HingeLoss" | "CoverageError")
            && !family.starts_with("Ranking");
        if thresholded {
            config = config.with_threshold(options.float("threshold", 0.5)?);
        }
        if let Some(ignore_index) = options.integer("ignore_index")? {
            let ignore_index = i64::try_from(ignore_index).map_err(|_| {
                argument_error(
                    "ignore_index",
                    format!("{ignore_index} is outside the int64 range"),
                )
            })?;
            config = config.with_ignore_index(ignore_index);
        }
        if task == Task::Multiclass && is_stat_family(family) {
            config = config.with_top_k(options.count("top_k", 1)?);
        }
        if is_stat_family(family) || family == "ExactMatch" {
            config = config.with_multidim_average(multidim_average(options)?);
        }

        let averaged = task != Task::Binary
            && (is_stat_family(family)
                || matches!(
                    family,
                    "JaccardIndex" | "AUROC" | "AveragePrecision" | "LogAUC"
                ));
        let average = if averaged {
            average(options)?
        } else {
            Average::Macro
        };
        let zero_division = if matches!(
            family,
            "Precision"
                | "Recall"
                | "F1Score"
                | "FBetaScore"
                | "Specificity"
                | "NegativePredictiveValue"
                | "JaccardIndex"
        ) {
            options.float("zero_division", 0.0)?
        } else {
            0.0
        };
        let beta = if family == "FBetaScore" {
            required_float(options, "beta")?
        } else {
            1.0
        };
        let normalize = if family == "ConfusionMatrix" {
            match options.get("normalize")? {
                None => Normalize::None,
                Some(_) => {
                    Normalize::parse(&options.string("normalize", "none")?).map_err(to_py_err)?
                }
            }
        } else {
            Normalize::None
        };
        let weights = if family == "CohenKappa" {
            match options.get("weights")? {
                None => KappaWeights::None,
                Some(_) => match options.string("weights", "none")?.as_str() {
                    "none" => KappaWeights::None,
                    "linear" => KappaWeights::Linear,
                    "quadratic" => KappaWeights::Quadratic,
                    other => {
                        return Err(argument_error(
                            "weights",
                            format!("{other:?} is not one of None, \"linear\", \"quadratic\""),
                        ))
                    }
                },
            }
        } else {
            KappaWeights::None
        };
        let thresholds = if is_curve_family(family) {
            thresholds(options)?
        } else {
            Thresholds::Exact
        };
        let max_fpr = if family == "AUROC" && task == Task::Binary {
            match options.get("max_fpr")? {
                None => None,
                Some(_) => Some(options.float("max_fpr", 1.0)?),
            }
        } else {
            None
        };
        let minimum_name = match family {
            "RecallAtFixedPrecision" => Some("min_precision"),
            "PrecisionAtFixedRecall" => Some("min_recall"),
            "SensitivityAtSpecificity" => Some("min_specificity"),
            "SpecificityAtSensitivity" => Some("min_sensitivity"),
            _ => None,
        };
        let minimum = match minimum_name {
            Some(name) => required_float(options, name)?,
            None => 0.0,
        };
        let (n_bins, norm) = if family == "CalibrationError" {
            let norm = match options.string("norm", "l1")?.as_str() {
                "l1" => CalibrationNorm::L1,
                "l2" => CalibrationNorm::L2,
                "max" => CalibrationNorm::Max,
                other => {
                    return Err(argument_error(
                        "norm",
                        format!("{other:?} is not one of \"l1\", \"l2\", \"max\""),
                    ))
                }
            };
            (options.count("n_bins", 15)?, norm)
        } else {
            (15, CalibrationNorm::L1)
        };
        let (squared, mode) = if family == "HingeLoss" {
            let squared = boolean(options, "squared", false)?;
            let mode = if task == Task::Multiclass {
                match options
                    .string("multiclass_mode", "crammer-singer")?
                    .as_str()
                {
                    "crammer-singer" => MulticlassMode::CrammerSinger,
                    "one-vs-all" => MulticlassMode::OneVsAll,
                    other => {
                        return Err(argument_error(
                            "multiclass_mode",
                            format!("{other:?} is not one of \"crammer-singer\", \"one-vs-all\""),
                        ))
                    }
                }
            } else {
                MulticlassMode::CrammerSinger
            };
            (squared, mode)
        } else {
            (false, MulticlassMode::CrammerSinger)
        };
        let fpr_range = if family == "LogAUC" {
            match options.get("fpr_range")? {
                None => (0.001, 0.1),
                Some(value) => value.extract::<(f64, f64)>().map_err(|_| {
                    argument_type_error("fpr_range", "expected a pair of numbers (low, high)")
                })?,
            }
        } else {
            (0.001, 0.1)
        };

        Ok(Self {
            family,
            config,
            average,
            zero_division,
            beta,
            normalize,
            weights,
            thresholds,
            max_fpr,
            minimum,
            n_bins,
            norm,
            squared,
            mode,
            fpr_range,
        })
    }

    /// Builds the native metric.
    pub(crate) fn build(&self) -> Result<Box<dyn DynMetric<ClassificationBatch>>> {
        let (config, average, zero) = (self.config, self.average, self.zero_division);
        let thresholds = self.thresholds.clone();
        let metric: Box<dyn DynMetric<ClassificationBatch>> = match self.family {
            "StatScores" => Box::new(StatScores::new(config, average)?),
            "Accuracy" => Box::new(Accuracy::new(config, average)?),
            "Precision" => Box::new(Precision::new(config, average)?.with_zero_division(zero)?),
            "Recall" => Box::new(Recall::new(config, average)?.with_zero_division(zero)?),
            "F1Score" => Box::new(F1Score::new(config, average)?.with_zero_division(zero)?),
            "FBetaScore" => {
                Box::new(FBetaScore::new(config, self.beta, average)?.with_zero_division(zero)?)
            }
            "Specificity" => Box::new(Specificity::new(config, average)?.with_zero_division(zero)?),
            "NegativePredictiveValue" => {
                Box::new(NegativePredictiveValue::new(config, average)?.with_zero_division(zero)?)
            }
            "HammingDistance" => Box::new(HammingDistance::new(config, average)?),
            "JaccardIndex" => {
                Box::new(JaccardIndex::new(config, average)?.with_zero_division(zero)?)
            }
            "ExactMatch" => Box::new(ExactMatch::new(config)?),
            "ConfusionMatrix" => Box::new(ConfusionMatrix::new(config, self.normalize)?),
            "CohenKappa" => Box::new(CohenKappa::new(config, self.weights)?),
            "MatthewsCorrCoef" => Box::new(MatthewsCorrCoef::new(config)?),
            "AUROC" => Box::new(Auroc::new(config, thresholds, average, self.max_fpr)?),
            "AveragePrecision" => Box::new(AveragePrecision::new(config, thresholds, average)?),
            "PrecisionRecallCurve" => Box::new(PrecisionRecallCurve::new(config, thresholds)?),
            "ROC" => Box::new(Roc::new(config, thresholds)?),
            "RecallAtFixedPrecision" => Box::new(RecallAtFixedPrecision::new(
                config,
                thresholds,
                self.minimum,
            )?),
            "PrecisionAtFixedRecall" => Box::new(PrecisionAtFixedRecall::new(
                config,
                thresholds,
                self.minimum,
            )?),
            "SensitivityAtSpecificity" => Box::new(SensitivityAtSpecificity::new(
                config,
                thresholds,
                self.minimum,
            )?),
            "SpecificityAtSensitivity" => Box::new(SpecificityAtSensitivity::new(
                config,
                thresholds,
                self.minimum,
            )?),
            "CalibrationError" => Box::new(CalibrationError::new(config, self.n_bins, self.norm)?),
            "HingeLoss" => Box::new(HingeLoss::new(config, self.squared, self.mode)?),
            "LogAUC" => Box::new(LogAuc::new(config, thresholds, self.fpr_range, average)?),
            "EER" => Box::new(Eer::new(config, thresholds, Average::Macro)?),
            "CoverageError" => Box::new(CoverageError::new(config)?),
            "RankingAveragePrecision" => Box::new(RankingAveragePrecision::new(config)?),
            "RankingLoss" => Box::new(RankingLoss::new(config)?),
            other => unreachable!("{other} is listed in FAMILIES"),
        };
        Ok(metric)
    }
}

fn required_count(options: &Options<'_, '_>, name: &'static str) -> PyResult<usize> {
    options
        .optional_count(name)?
        .ok_or_else(|| argument_error(name, "is required; pass a positive integer"))
}

fn required_float(options: &Options<'_, '_>, name: &'static str) -> PyResult<f64> {
    if options.get(name)?.is_none() {
        return Err(argument_error(name, "is required; pass a number"));
    }
    options.float(name, 0.0)
}

fn boolean(options: &Options<'_, '_>, name: &'static str, default: bool) -> PyResult<bool> {
    match options.get(name)? {
        None => Ok(default),
        Some(value) if value.is_instance_of::<PyBool>() => value.extract::<bool>(),
        Some(_) => Err(argument_type_error(name, "expected True or False")),
    }
}

fn average(options: &Options<'_, '_>) -> PyResult<Average> {
    // Python passes average=None as "none", so an absent average takes the class default.
    match options.get("average")? {
        None => Ok(Average::Macro),
        Some(_) => Average::parse(&options.string("average", "macro")?).map_err(to_py_err),
    }
}

fn multidim_average(options: &Options<'_, '_>) -> PyResult<MultidimAverage> {
    match options.string("multidim_average", "global")?.as_str() {
        "global" => Ok(MultidimAverage::Global),
        "samplewise" => Ok(MultidimAverage::Samplewise),
        other => Err(argument_error(
            "multidim_average",
            format!("{other:?} is not one of \"global\", \"samplewise\""),
        )),
    }
}

/// Parses `thresholds`: None (exact), an integer number of bins, or a sequence of thresholds.
fn thresholds(options: &Options<'_, '_>) -> PyResult<Thresholds> {
    let Some(value) = options.get("thresholds")? else {
        return Ok(Thresholds::Exact);
    };
    if value.is_instance_of::<PyBool>() || value.is_instance_of::<PyString>() {
        return Err(argument_type_error(
            "thresholds",
            "expected None, an integer or a sequence of numbers",
        ));
    }
    if value.is_instance_of::<PyFloat>() {
        return Err(argument_type_error(
            "thresholds",
            "expected None, an integer or a sequence of numbers, got a float",
        ));
    }
    if let Ok(bins) = value.extract::<i64>() {
        return usize::try_from(bins)
            .map(Thresholds::Bins)
            .map_err(|_| argument_error("thresholds", format!("{bins} bins is negative")));
    }
    let list = value
        .call_method0("tolist")
        .unwrap_or(value)
        .extract::<Vec<f64>>()
        .map_err(|_| {
            argument_type_error(
                "thresholds",
                "expected None, an integer or a sequence of numbers",
            )
        })?;
    Ok(Thresholds::List(list))
}
