//! The regression report: which metrics apply to the values, and their values.

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
use ferrometrics::{DynMetric, Error, Value};
use indicatif::ProgressBar;
use ndarray::ArrayView1;

use super::Locator;
use crate::cli::RegressionArgs;
use crate::error::CliError;
use crate::report::{direction, MetricResult, Outcome};

/// Settings of the metrics, validated by the library's constructors.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct RegressionOptions {
    kendall_variant: KendallVariant,
    adjusted: usize,
    normalization: Normalization,
    minkowski_p: f64,
    tweedie_power: f64,
    csi_threshold: Option<f64>,
}

impl RegressionOptions {
    /// Validates the metric settings before any file is read.
    pub(super) fn from_args(args: &RegressionArgs) -> Result<Self, CliError> {
        MinkowskiDistance::<f64>::new(args.minkowski_p)
            .map_err(|e| CliError::option("--minkowski-p", e.to_string()))?;
        TweedieDevianceScore::<f64>::new(args.tweedie_power)
            .map_err(|e| CliError::option("--tweedie-power", e.to_string()))?;
        if let Some(threshold) = args.csi_threshold {
            CriticalSuccessIndex::<f64>::new(threshold, None)
                .map_err(|e| CliError::option("--csi-threshold", e.to_string()))?;
        }

        Ok(Self {
            kendall_variant: args.kendall_variant.into(),
            adjusted: args.adjusted,
            normalization: args.normalization.into(),
            minkowski_p: args.minkowski_p,
            tweedie_power: args.tweedie_power,
            csi_threshold: args.csi_threshold,
        })
    }
}

/// A metric's value as a function of `(preds, target)`, shared by the threads that evaluate the
/// bootstrap replicates.
pub(super) type Kernel = Box<
    dyn Fn(ArrayView1<'_, f64>, ArrayView1<'_, f64>) -> ferrometrics::Result<f64> + Send + Sync,
>;

/// The action of the report on one metric.
pub(super) enum Plan {
    /// Computes the metric with this function, which depends on the inputs only, so that it can
    /// be evaluated again on resampled inputs.
    Compute(Kernel),
    /// Skips the metric, for the reason given.
    Skip(String),
}

/// A metric whose value is a mean of per-sample terms, configured as in the report, from which
/// Poisson bootstrap replicates are computed by weighting the terms instead of copying
/// resamples.
pub(super) type TermsMetric = Box<dyn DynMetric<PredsTarget<f64>>>;

/// One metric of the report.
pub(super) struct RegressionMetric {
    /// The name of the metric's function in the library, such as `r2_score`.
    name: &'static str,
    higher_is_better: Option<bool>,
    plan: Plan,
    /// The same metric with per-sample terms, for the metrics that have them.
    terms_metric: Option<TermsMetric>,
}

impl RegressionMetric {
    fn compute(
        name: &'static str,
        higher_is_better: Option<bool>,
        kernel: impl Fn(ArrayView1<'_, f64>, ArrayView1<'_, f64>) -> ferrometrics::Result<f64>
            + Send
            + Sync
            + 'static,
    ) -> Self {
        Self {
            name,
            higher_is_better,
            plan: Plan::Compute(Box::new(kernel)),
            terms_metric: None,
        }
    }

    fn skip(name: &'static str, higher_is_better: Option<bool>, reason: String) -> Self {
        Self {
            name,
            higher_is_better,
            plan: Plan::Skip(reason),
            terms_metric: None,
        }
    }

    /// Returns the function that computes the metric, or `None` if the metric is skipped.
    pub(super) fn kernel(&self) -> Option<&Kernel> {
        match &self.plan {
            Plan::Compute(kernel) => Some(kernel),
            Plan::Skip(_) => None,
        }
    }

    /// Attaches the library metric that computes this metric from per-sample terms. The
    /// metric must give the kernel's value on the same inputs.
    fn with_terms(mut self, metric: impl DynMetric<PredsTarget<f64>> + 'static) -> Self {
        self.terms_metric = Some(Box::new(metric));
        self
    }

    /// Returns the name of the metric's function in the library.
    pub(super) fn name(&self) -> &'static str {
        self.name
    }

    /// Returns the library metric with per-sample terms, if the metric is computed and has one.
    pub(super) fn terms_metric(&self) -> Option<&TermsMetric> {
        self.kernel().and(self.terms_metric.as_ref())
    }

    /// Computes the metric if the domain check found nothing, and skips it otherwise.
    fn checked(
        name: &'static str,
        higher_is_better: Option<bool>,
        violation: Option<String>,
        kernel: impl Fn(ArrayView1<'_, f64>, ArrayView1<'_, f64>) -> ferrometrics::Result<f64>
            + Send
            + Sync
            + 'static,
    ) -> Self {
        match violation {
            Some(reason) => Self::skip(name, higher_is_better, reason),
            None => Self::compute(name, higher_is_better, kernel),
        }
    }
}

/// Lists every regression metric, in the order of the report, with the plan the values allow.
///
/// Domain checks run here, on the full inputs, so that a skipped metric stays skipped for every
/// resample of them.
pub(super) fn report_metrics(
    preds: ArrayView1<'_, f64>,
    target: ArrayView1<'_, f64>,
    locator: Locator,
    options: &RegressionOptions,
) -> Vec<RegressionMetric> {
    let RegressionOptions {
        kendall_variant,
        adjusted,
        normalization,
        minkowski_p,
        tweedie_power,
        csi_threshold,
    } = *options;
    let uniform = Multioutput::UniformAverage;

    let mut metrics = vec![
        RegressionMetric::compute(
            "pearson_corrcoef",
            direction(PearsonCorrCoef::<f64>::new(1)),
            |preds, target| scalar(regression::pearson_corrcoef(preds, target)),
        ),
        RegressionMetric::compute(
            "spearman_corrcoef",
            direction(SpearmanCorrCoef::<f64>::new(1)),
            |preds, target| scalar(regression::spearman_corrcoef(preds, target)),
        ),
        RegressionMetric::compute(
            "kendall_rank_corrcoef",
            direction(KendallRankCorrCoef::<f64>::new(
                kendall_variant,
                false,
                Alternative::TwoSided,
                1,
            )),
            move |preds, target| {
                let value = regression::kendall_rank_corrcoef(
                    preds,
                    target,
                    kendall_variant,
                    false,
                    Alternative::TwoSided,
                );
                scalar(value)
            },
        ),
        RegressionMetric::compute(
            "concordance_corrcoef",
            direction(ConcordanceCorrCoef::<f64>::new(1)),
            |preds, target| scalar(regression::concordance_corrcoef(preds, target)),
        ),
        RegressionMetric::compute(
            "r2_score",
            direction(Ok(R2Score::<f64>::new(adjusted, uniform))),
            move |preds, target| scalar(regression::r2_score(preds, target, adjusted, uniform)),
        ),
        RegressionMetric::compute(
            "explained_variance",
            direction(Ok(ExplainedVariance::<f64>::new(uniform))),
            move |preds, target| scalar(regression::explained_variance(preds, target, uniform)),
        ),
        RegressionMetric::compute(
            "relative_squared_error",
            direction(RelativeSquaredError::<f64>::new(1, true)),
            |preds, target| regression::relative_squared_error(preds, target, true, 1),
        ),
        RegressionMetric::compute(
            "mean_squared_error",
            direction(MeanSquaredError::<f64>::new(true, 1)),
            |preds, target| scalar(regression::mean_squared_error(preds, target, true, 1)),
        )
        .with_terms(MeanSquaredError::<f64>::default()),
        RegressionMetric::compute(
            "normalized_root_mean_squared_error",
            direction(NormalizedRootMeanSquaredError::<f64>::new(normalization, 1)),
            move |preds, target| {
                let value =
                    regression::normalized_root_mean_squared_error(preds, target, normalization, 1);
                scalar(value)
            },
        ),
        RegressionMetric::compute(
            "mean_absolute_error",
            direction(MeanAbsoluteError::<f64>::new(1)),
            |preds, target| scalar(regression::mean_absolute_error(preds, target, 1)),
        )
        .with_terms(MeanAbsoluteError::<f64>::default()),
        RegressionMetric::compute(
            "mean_absolute_percentage_error",
            direction(Ok(MeanAbsolutePercentageError::<f64>::new())),
            |preds, target| regression::mean_absolute_percentage_error(preds, target),
        )
        .with_terms(MeanAbsolutePercentageError::<f64>::new()),
        RegressionMetric::compute(
            "symmetric_mean_absolute_percentage_error",
            direction(Ok(SymmetricMeanAbsolutePercentageError::<f64>::new())),
            |preds, target| regression::symmetric_mean_absolute_percentage_error(preds, target),
        )
        .with_terms(SymmetricMeanAbsolutePercentageError::<f64>::new()),
        RegressionMetric::compute(
            "weighted_mean_absolute_percentage_error",
            direction(Ok(WeightedMeanAbsolutePercentageError::<f64>::new())),
            |preds, target| regression::weighted_mean_absolute_percentage_error(preds, target),
        ),
        RegressionMetric::checked(
            "mean_squared_log_error",
            direction(Ok(MeanSquaredLogError::<f64>::new())),
            log_domain_violation(preds, target, locator),
            |preds, target| regression::mean_squared_log_error(preds, target),
        )
        .with_terms(MeanSquaredLogError::<f64>::new()),
        RegressionMetric::compute(
            "log_cosh_error",
            direction(LogCoshError::<f64>::new(1)),
            |preds, target| scalar(regression::log_cosh_error(preds, target)),
        )
        .with_terms(LogCoshError::<f64>::default()),
        RegressionMetric::compute(
            "minkowski_distance",
            direction(MinkowskiDistance::<f64>::new(minkowski_p)),
            move |preds, target| regression::minkowski_distance(preds, target, minkowski_p),
        ),
        RegressionMetric::checked(
            "tweedie_deviance_score",
            direction(TweedieDevianceScore::<f64>::new(tweedie_power)),
            tweedie_domain_violation(preds, target, tweedie_power, locator),
            move |preds, target| regression::tweedie_deviance_score(preds, target, tweedie_power),
        ),
    ];

    let single_columns = "and the inputs are single columns";
    let distributions_reason =
        format!("takes rows of probability distributions of shape (N, d), {single_columns}");
    metrics.push(RegressionMetric::skip(
        "cosine_similarity",
        direction(Ok(CosineSimilarity::<f64>::new(Reduction::Sum))),
        format!("takes rows of vectors of shape (N, d), {single_columns}"),
    ));
    metrics.push(RegressionMetric::skip(
        "kl_divergence",
        direction(Ok(KLDivergence::<f64>::new(false, Reduction::Mean))),
        distributions_reason.clone(),
    ));
    metrics.push(RegressionMetric::skip(
        "jensen_shannon_divergence",
        direction(Ok(JensenShannonDivergence::<f64>::new(
            false,
            Reduction::Mean,
        ))),
        distributions_reason,
    ));

    let csi_direction = direction(CriticalSuccessIndex::<f64>::new(0.0, None));
    metrics.push(match csi_threshold {
        Some(threshold) => {
            RegressionMetric::compute("critical_success_index", csi_direction, move |p, t| {
                scalar(regression::critical_success_index(p, t, threshold, None))
            })
        }
        None => RegressionMetric::skip(
            "critical_success_index",
            csi_direction,
            "needs an event threshold, pass --csi-threshold T".to_owned(),
        ),
    });
    metrics.push(RegressionMetric::skip(
        "continuous_ranked_probability_score",
        direction(Ok(ContinuousRankedProbabilityScore::<f64>::new())),
        "takes an ensemble of at least 2 predictions per sample, and --preds gives one".to_owned(),
    ));
    metrics
}

/// Computes every metric of the plan on `(preds, target)`, counting them on `bar`.
pub(super) fn evaluate(
    metrics: &[RegressionMetric],
    preds: ArrayView1<'_, f64>,
    target: ArrayView1<'_, f64>,
    bar: &ProgressBar,
) -> Vec<MetricResult> {
    bar.set_length(metrics.len() as u64);
    let mut results = Vec::with_capacity(metrics.len());
    for metric in metrics {
        bar.set_message(metric.name);
        // The inputs are finite and of one length, and the domain checks ran, so a library error
        // here means that the metric has no value for this input, such as a constant column.
        let outcome = match &metric.plan {
            Plan::Compute(kernel) => match kernel(preds, target) {
                Ok(value) => Outcome::Value(value),
                Err(error) => Outcome::Undefined(error.to_string()),
            },
            Plan::Skip(reason) => Outcome::Skipped(reason.clone()),
        };
        results.push(MetricResult {
            name: metric.name,
            higher_is_better: metric.higher_is_better,
            outcome,
        });
        bar.inc(1);
    }
    bar.finish_and_clear();
    results
}

/// Reads the value of a metric of one output.
fn scalar(value: ferrometrics::Result<Value>) -> ferrometrics::Result<f64> {
    let value = value?;
    value.as_scalar().ok_or_else(|| {
        Error::invalid_input(
            "preds",
            format!("expected one value for one output, got {value:?}"),
        )
    })
}

/// Returns why `log1p` cannot take the values, if a value is at or below -1.
fn log_domain_violation(
    preds: ArrayView1<'_, f64>,
    target: ArrayView1<'_, f64>,
    locator: Locator,
) -> Option<String> {
    let violation = first_outside("preds", preds, |x| x > -1.0)
        .or_else(|| first_outside("target", target, |x| x > -1.0))?;
    let (argument, sample, value) = violation;
    Some(format!(
        "log1p needs values above -1, and {argument} has {value:?} at {}",
        locator.describe(sample)
    ))
}

/// Returns why the Tweedie deviance of `power` cannot take the values, if a value lies outside
/// the domain that scikit-learn's `mean_tweedie_deviance` accepts for that power.
fn tweedie_domain_violation(
    preds: ArrayView1<'_, f64>,
    target: ArrayView1<'_, f64>,
    power: f64,
    locator: Locator,
) -> Option<String> {
    let positive = |x: f64| x > 0.0;
    let non_negative = |x: f64| x >= 0.0;
    let (violation, domain) = if power < 0.0 {
        (first_outside("preds", preds, positive), "positive preds")
    } else if power == 0.0 {
        (None, "")
    } else if power < 2.0 {
        let violation = first_outside("preds", preds, positive)
            .or_else(|| first_outside("target", target, non_negative));
        (violation, "positive preds and non-negative target")
    } else {
        let violation = first_outside("preds", preds, positive)
            .or_else(|| first_outside("target", target, positive));
        (violation, "positive preds and target")
    };

    let (argument, sample, value) = violation?;
    Some(format!(
        "power {power} needs {domain}, and {argument} has {value:?} at {}",
        locator.describe(sample)
    ))
}

/// Returns the argument name, the index and the value of the first element failing `inside`.
fn first_outside(
    argument: &'static str,
    values: ArrayView1<'_, f64>,
    inside: impl Fn(f64) -> bool,
) -> Option<(&'static str, usize, f64)> {
    values
        .iter()
        .position(|&x| !inside(x))
        .map(|index| (argument, index, values[index]))
}

#[cfg(test)]
mod tests {
    use ndarray::array;

    use super::*;

    #[test]
    fn log_domain_names_first_violation() {
        let preds = array![0.0, 1.0];
        let target = array![2.0, -1.0];

        let reason = log_domain_violation(preds.view(), target.view(), Locator::CsvLines);

        assert_eq!(
            reason.as_deref(),
            Some("log1p needs values above -1, and target has -1.0 at line 3")
        );
    }

    #[test]
    fn tweedie_domain_by_power() {
        let preds = array![1.0, 2.0];
        let target = array![0.0, 3.0];
        let check = |power| {
            tweedie_domain_violation(preds.view(), target.view(), power, Locator::NpyIndices)
        };

        assert_eq!(check(0.0), None);
        assert_eq!(check(1.0), None);
        assert_eq!(check(-1.0), None);
        assert_eq!(
            check(2.0).as_deref(),
            Some("power 2 needs positive preds and target, and target has 0.0 at index 0")
        );
    }
}
