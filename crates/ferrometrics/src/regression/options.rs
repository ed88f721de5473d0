//! String-valued options of the regression metrics, parsed from TorchMetrics' spellings.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The rule by which [`R2Score`](super::R2Score) and
/// [`ExplainedVariance`](super::ExplainedVariance) combine the scores of several outputs, as
/// scikit-learn's and TorchMetrics' `multioutput` argument.
///
/// # Example
///
/// ```
/// use ferrometrics::regression::Multioutput;
///
/// assert_eq!("raw_values".parse::<Multioutput>()?, Multioutput::RawValues);
/// assert_eq!(Multioutput::default().to_string(), "uniform_average");
/// # Ok::<(), ferrometrics::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Multioutput {
    /// One score per output (`"raw_values"`).
    RawValues,
    /// The mean of the output scores (`"uniform_average"`).
    #[default]
    UniformAverage,
    /// The mean of the output scores weighted by the variance of each output's target
    /// (`"variance_weighted"`).
    VarianceWeighted,
}

impl FromStr for Multioutput {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        match text {
            "raw_values" => Ok(Multioutput::RawValues),
            "uniform_average" => Ok(Multioutput::UniformAverage),
            "variance_weighted" => Ok(Multioutput::VarianceWeighted),
            other => Err(Error::invalid_argument(
                "multioutput",
                format!(
                    "{other:?} is not a multioutput mode; pass \"raw_values\", \
                     \"uniform_average\" or \"variance_weighted\""
                ),
            )),
        }
    }
}

impl fmt::Display for Multioutput {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self {
            Multioutput::RawValues => "raw_values",
            Multioutput::UniformAverage => "uniform_average",
            Multioutput::VarianceWeighted => "variance_weighted",
        })
    }
}

/// The target statistic that
/// [`NormalizedRootMeanSquaredError`](super::NormalizedRootMeanSquaredError) divides the RMSE
/// by, as TorchMetrics' `normalization` argument.
///
/// # Example
///
/// ```
/// use ferrometrics::regression::Normalization;
///
/// assert_eq!("std".parse::<Normalization>()?, Normalization::Std);
/// assert_eq!(Normalization::L2.to_string(), "l2");
/// # Ok::<(), ferrometrics::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Normalization {
    /// The mean of the target (`"mean"`).
    #[default]
    Mean,
    /// The maximum minus the minimum of the target (`"range"`).
    Range,
    /// The population standard deviation of the target (`"std"`).
    Std,
    /// The Euclidean norm of the target (`"l2"`).
    L2,
}

impl FromStr for Normalization {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        match text {
            "mean" => Ok(Normalization::Mean),
            "range" => Ok(Normalization::Range),
            "std" => Ok(Normalization::Std),
            "l2" => Ok(Normalization::L2),
            other => Err(Error::invalid_argument(
                "normalization",
                format!(
                    "{other:?} is not a normalization; pass \"mean\", \"range\", \"std\" or \"l2\""
                ),
            )),
        }
    }
}

impl fmt::Display for Normalization {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self {
            Normalization::Mean => "mean",
            Normalization::Range => "range",
            Normalization::Std => "std",
            Normalization::L2 => "l2",
        })
    }
}

/// The reduction of the per-row scores of [`CosineSimilarity`](super::CosineSimilarity),
/// [`KLDivergence`](super::KLDivergence) and
/// [`JensenShannonDivergence`](super::JensenShannonDivergence), as
/// TorchMetrics' `reduction` argument.
///
/// # Example
///
/// ```
/// use ferrometrics::regression::Reduction;
///
/// assert_eq!("none".parse::<Reduction>()?, Reduction::None);
/// assert_eq!(Reduction::Sum.to_string(), "sum");
/// # Ok::<(), ferrometrics::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Reduction {
    /// The mean over rows (`"mean"`).
    Mean,
    /// The sum over rows (`"sum"`).
    Sum,
    /// One score per row, in the order the rows were seen (`"none"`).
    None,
}

impl FromStr for Reduction {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        match text {
            "mean" => Ok(Reduction::Mean),
            "sum" => Ok(Reduction::Sum),
            "none" => Ok(Reduction::None),
            other => Err(Error::invalid_argument(
                "reduction",
                format!("{other:?} is not a reduction; pass \"mean\", \"sum\" or \"none\""),
            )),
        }
    }
}

impl fmt::Display for Reduction {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self {
            Reduction::Mean => "mean",
            Reduction::Sum => "sum",
            Reduction::None => "none",
        })
    }
}
