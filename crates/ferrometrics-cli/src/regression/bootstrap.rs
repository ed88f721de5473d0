//! Bootstrap confidence intervals of the regression metrics: `--bootstrap N`.
//!
//! Replicate `r` takes the samples that `ferrometrics::wrappers::bootstrap_indices(seed, r, 0,
//! n, strategy)` draws, which are the draws of a `BootStrapper` (Rust or Python) with the same
//! seed and strategy updated once with all the samples, and the statistics are those of
//! `BootStrapper::compute`.

use ferrometrics::wrappers::{
    bootstrap_indices, poisson_term_sums, summarize_replicates, SampleTerms, SamplingStrategy,
    TermSums, MAX_BOOTSTRAPS,
};
use indicatif::ProgressBar;
use ndarray::ArrayView1;
use rayon::prelude::*;

use super::metrics::{Kernel, RegressionMetric};
use crate::cli::RegressionArgs;
use crate::error::CliError;
use crate::report::{MetricResult, Outcome};

/// Quantile levels of the bootstrap values without `--quantiles`: a 95% interval.
pub(crate) const DEFAULT_LEVELS: [f64; 2] = [0.025, 0.975];

/// Seed of the bootstrap draws without `--seed`, the default of the library's
/// `BootstrapOptions`.
pub(crate) const DEFAULT_SEED: u64 = 0;

/// The validated bootstrap options.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct BootstrapPlan {
    pub(super) replicates: usize,
    pub(super) levels: Vec<f64>,
    pub(super) seed: u64,
    pub(super) strategy: SamplingStrategy,
}

impl BootstrapPlan {
    /// Validates the bootstrap options before any file is read. Returns `None` without
    /// `--bootstrap`.
    pub(super) fn from_args(args: &RegressionArgs) -> Result<Option<Self>, CliError> {
        let Some(replicates) = args.bootstrap else {
            let dependent = [
                ("--quantiles", args.quantiles.is_some()),
                ("--seed", args.seed.is_some()),
                ("--sampling-strategy", args.sampling_strategy.is_some()),
            ];
            if let Some((option, _)) = dependent.iter().find(|(_, given)| *given) {
                return Err(CliError::option(
                    option,
                    format!(
                        "applies only to bootstrap intervals, pass --bootstrap N (such as \
                         --bootstrap 1000) or remove {option}"
                    ),
                ));
            }
            return Ok(None);
        };

        if replicates == 0 {
            return Err(CliError::option(
                "--bootstrap",
                "invalid value '0', pass a positive number of replicates, such as 1000",
            ));
        }
        // Each replicate keeps a value per metric, so an unbounded count exhausts memory; the
        // library's BootStrapper has the same limit.
        if replicates > MAX_BOOTSTRAPS {
            return Err(CliError::option(
                "--bootstrap",
                format!(
                    "invalid value '{replicates}', more than the {MAX_BOOTSTRAPS} replicates \
                     supported; pass fewer, such as 1000"
                ),
            ));
        }
        let levels = match &args.quantiles {
            Some(levels) => {
                check_levels(levels)?;
                levels.clone()
            }
            None => DEFAULT_LEVELS.to_vec(),
        };

        Ok(Some(Self {
            replicates,
            levels,
            seed: args.seed.unwrap_or(DEFAULT_SEED),
            strategy: args
                .sampling_strategy
                .map_or(SamplingStrategy::Poisson, Into::into),
        }))
    }

    /// Describes the plan for the report's header line.
    pub(super) fn describe(&self, empty_replicates: usize) -> String {
        let strategy = match self.strategy {
            SamplingStrategy::Poisson => "poisson",
            SamplingStrategy::Multinomial => "multinomial",
        };
        let mut text = format!(
            "bootstrap: {} replicates, {strategy} sampling, seed {}",
            self.replicates, self.seed
        );
        match empty_replicates {
            0 => {}
            1 => text.push_str(", 1 drew no sample and is left out"),
            _ => text.push_str(&format!(
                ", {empty_replicates} drew no sample and are left out"
            )),
        }
        text
    }
}

fn check_levels(levels: &[f64]) -> Result<(), CliError> {
    if levels.is_empty() {
        return Err(CliError::option(
            "--quantiles",
            "got no levels, pass levels in [0, 1] such as 0.025,0.975",
        ));
    }
    for &level in levels {
        if !level.is_finite() {
            return Err(CliError::option(
                "--quantiles",
                format!("level {level} is not a finite number, pass levels in [0, 1]"),
            ));
        }
        if !(0.0..=1.0).contains(&level) {
            return Err(CliError::option(
                "--quantiles",
                format!("level {level} is outside [0, 1], pass levels such as 0.025,0.975"),
            ));
        }
    }
    Ok(())
}

/// The bootstrap result of one metric.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum BootstrapOutcome {
    /// The statistics of the values of the replicates that drew at least one sample.
    Summary {
        /// Number of replicates whose values enter the statistics.
        replicates: usize,
        mean: f64,
        /// Standard deviation with one delta degree of freedom, NaN for one replicate.
        std: f64,
        /// One quantile per level, in the order of the levels.
        quantiles: Vec<f64>,
    },
    /// The metric has no interval, for the reason given, such as `bootstrap replicate 3 has no
    /// value: ...`.
    Undefined(String),
}

/// The bootstrap part of the report.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct BootstrapReport {
    /// Quantile levels, in the order of each summary's quantiles.
    pub(crate) levels: Vec<f64>,
    /// One entry per metric of the report, `None` for a metric without a value.
    pub(crate) outcomes: Vec<Option<BootstrapOutcome>>,
    /// Number of replicates that drew no sample and are left out.
    pub(crate) empty_replicates: usize,
}

/// Evaluates every metric that has a value in `results` on each replicate of the plan, and
/// summarizes the values.
///
/// Replicates run in parallel, each on its own draw, and the statistics are computed in
/// replicate order afterwards, so the report does not depend on the number of threads. A
/// metric without a value on some replicate (a correlation of a resample with one distinct
/// value) gets no interval, as `BootStrapper::compute` returns an error in that case. Leaving
/// such replicates out would bias the interval.
pub(super) fn bootstrap(
    metrics: &[RegressionMetric],
    results: &[MetricResult],
    preds: ArrayView1<'_, f64>,
    target: ArrayView1<'_, f64>,
    plan: &BootstrapPlan,
    bar: &ProgressBar,
) -> BootstrapReport {
    // Metrics that are skipped or undefined on all the data stay so.
    let columns: Vec<&RegressionMetric> = metrics
        .iter()
        .zip(results)
        .filter(|(metric, result)| {
            matches!(result.outcome, Outcome::Value(_)) && metric.kernel().is_some()
        })
        .map(|(metric, _)| metric)
        .collect();

    // Under Poisson sampling, the means of per-sample terms come from weighted terms. The
    // other metrics are computed on a copy of each resample.
    let weighted = match plan.strategy {
        SamplingStrategy::Poisson => weighted_values(&columns, preds, target, plan),
        SamplingStrategy::Multinomial => Vec::new(),
    };
    let gathered: Vec<&Kernel> = columns
        .iter()
        .filter(|metric| !weighted.iter().any(|(name, _)| *name == metric.name()))
        .filter_map(|metric| metric.kernel())
        .collect();

    bar.set_length(plan.replicates as u64);
    bar.set_message("bootstrap replicates");
    let samples = preds.len();
    let gathered_rows: Vec<Option<Vec<ferrometrics::Result<f64>>>> = (0..plan.replicates)
        .into_par_iter()
        .map_init(
            || (Vec::new(), Vec::new()),
            |(preds_buffer, target_buffer), replicate| {
                let row = if gathered.is_empty() {
                    Some(Vec::new())
                } else {
                    let indices =
                        bootstrap_indices(plan.seed, replicate as u64, 0, samples, plan.strategy);
                    (!indices.is_empty()).then(|| {
                        evaluate_replicate(
                            &gathered,
                            (preds, target),
                            &indices,
                            (preds_buffer, target_buffer),
                        )
                    })
                };
                bar.inc(1);
                row
            },
        )
        .collect();
    bar.finish_and_clear();
    let rows = merge_rows(&columns, gathered_rows, weighted);

    let drawn: Vec<(usize, &Vec<ferrometrics::Result<f64>>)> = rows
        .iter()
        .enumerate()
        .filter_map(|(replicate, row)| row.as_ref().map(|row| (replicate, row)))
        .collect();
    let mut summaries = (0..columns.len()).map(|column| summarize(&drawn, column, plan));
    let outcomes = metrics
        .iter()
        .zip(results)
        .map(|(metric, result)| match result.outcome {
            Outcome::Value(_) if metric.kernel().is_some() => summaries.next(),
            _ => None,
        })
        .collect();

    BootstrapReport {
        levels: plan.levels.clone(),
        outcomes,
        empty_replicates: rows.len() - drawn.len(),
    }
}

/// The values of one metric on every replicate, `None` for a replicate that drew no sample.
type ReplicateValues = Vec<Option<ferrometrics::Result<f64>>>;

/// Computes the metrics of `columns` that have per-sample terms on every Poisson replicate,
/// weighting the terms by the replicate's counts, with the draws of `bootstrap_indices`. The
/// counts are drawn once for all these metrics. Returns each metric's name and values.
fn weighted_values(
    columns: &[&RegressionMetric],
    preds: ArrayView1<'_, f64>,
    target: ArrayView1<'_, f64>,
    plan: &BootstrapPlan,
) -> Vec<(&'static str, ReplicateValues)> {
    let input = (preds.into_dyn(), target.into_dyn());
    let mut names = Vec::new();
    let mut templates = Vec::new();
    let mut per_metric_terms = Vec::new();
    for metric in columns {
        let Some(template) = metric.terms_metric() else {
            continue;
        };
        // The inputs passed the checks of every computed metric, so an error here leaves
        // the metric to the copying path, which reports it per replicate.
        let Some(Ok(terms)) = template.sample_terms(input.clone()) else {
            continue;
        };
        if terms.columns() != 1 || terms.units_per_sample() != 1 {
            continue;
        }
        names.push(metric.name());
        templates.push(template);
        per_metric_terms.push(terms);
    }
    if names.is_empty() {
        return Vec::new();
    }

    // One row per sample, one column per metric.
    let mut values = Vec::with_capacity(preds.len() * names.len());
    for sample in 0..preds.len() {
        values.extend(per_metric_terms.iter().map(|terms| terms.values()[sample]));
    }
    let terms = SampleTerms::new(names.len(), 1, values).expect("one column per metric");
    let sums = poisson_term_sums(&terms, plan.seed, 0, plan.replicates);

    names
        .into_iter()
        .zip(templates)
        .enumerate()
        .map(|(column, (name, template))| {
            let values = sums
                .par_iter()
                .map(|sums| {
                    if sums.samples == 0 {
                        return None;
                    }
                    let column_sums = TermSums {
                        sums: vec![sums.sums[column]],
                        samples: sums.samples,
                        units_per_sample: sums.units_per_sample,
                    };
                    let mut replicate = template.empty_box();
                    let value = replicate
                        .add_term_sums(&column_sums)
                        .and_then(|()| replicate.compute())
                        .map(|value| value.as_scalar().unwrap_or(f64::NAN));
                    Some(value)
                })
                .collect();
            (name, values)
        })
        .collect()
}

/// Combines the rows of the copied resamples, whose entries follow the columns without
/// weighted values, with the weighted values into one row per replicate in column order.
fn merge_rows(
    columns: &[&RegressionMetric],
    gathered_rows: Vec<Option<Vec<ferrometrics::Result<f64>>>>,
    mut weighted: Vec<(&'static str, ReplicateValues)>,
) -> Vec<Option<Vec<ferrometrics::Result<f64>>>> {
    gathered_rows
        .into_iter()
        .enumerate()
        .map(|(replicate, gathered_row)| {
            let mut gathered_row = gathered_row?.into_iter();
            let mut row = Vec::with_capacity(columns.len());
            for metric in columns {
                let entry = weighted
                    .iter_mut()
                    .find(|(name, _)| *name == metric.name())
                    .map(|(_, values)| values[replicate].take());
                match entry {
                    // Both paths use the same draws, so a replicate that drew nothing has no
                    // weighted value either.
                    Some(value) => row.push(value?),
                    None => row.push(gathered_row.next()?),
                }
            }
            Some(row)
        })
        .collect()
}

/// Computes every kernel on the samples at `indices`, copied into the buffers.
fn evaluate_replicate(
    kernels: &[&Kernel],
    (preds, target): (ArrayView1<'_, f64>, ArrayView1<'_, f64>),
    indices: &[usize],
    (preds_buffer, target_buffer): (&mut Vec<f64>, &mut Vec<f64>),
) -> Vec<ferrometrics::Result<f64>> {
    preds_buffer.clear();
    preds_buffer.extend(indices.iter().map(|&index| preds[index]));
    target_buffer.clear();
    target_buffer.extend(indices.iter().map(|&index| target[index]));

    let preds = ArrayView1::from(preds_buffer.as_slice());
    let target = ArrayView1::from(target_buffer.as_slice());
    kernels.iter().map(|kernel| kernel(preds, target)).collect()
}

/// Summarizes column `column` of the replicate rows, or names the first replicate without a
/// value.
fn summarize(
    drawn: &[(usize, &Vec<ferrometrics::Result<f64>>)],
    column: usize,
    plan: &BootstrapPlan,
) -> BootstrapOutcome {
    if drawn.is_empty() {
        return BootstrapOutcome::Undefined(format!(
            "none of the {} bootstrap replicates drew a sample, pass a larger --bootstrap or \
             --sampling-strategy multinomial",
            plan.replicates
        ));
    }

    let mut values = Vec::with_capacity(drawn.len());
    for (replicate, row) in drawn {
        match &row[column] {
            Ok(value) => values.push(*value),
            Err(error) => {
                return BootstrapOutcome::Undefined(format!(
                    "bootstrap replicate {replicate} has no value: {error}"
                ))
            }
        }
    }
    let summary = summarize_replicates(&values, &plan.levels);
    BootstrapOutcome::Summary {
        replicates: values.len(),
        mean: summary.mean,
        std: summary.std,
        quantiles: summary.quantiles,
    }
}
