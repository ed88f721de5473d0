//! The clustering report: which metrics apply to the input, and their values.

use ferrometrics::clustering::{
    adjusted_mutual_info_score, adjusted_rand_score, calinski_harabasz_score, cluster_accuracy,
    completeness_score, davies_bouldin_score, dunn_index, fowlkes_mallows_index, homogeneity_score,
    mutual_info_score, normalized_mutual_info_score, rand_score, silhouette_score, v_measure_score,
    AdjustedMutualInfoScore, AdjustedRandScore, AverageMethod, CalinskiHarabaszScore,
    ClusterAccuracy, CompletenessScore, DaviesBouldinScore, DunnDefinition, DunnIndex,
    FowlkesMallowsIndex, HomogeneityScore, MutualInfoScore, NormalizedMutualInfoScore, RandScore,
    SilhouetteScore, VMeasureScore,
};
use ferrometrics::numerics::Real;
use ferrometrics::Metric;
use indicatif::ProgressBar;
use ndarray::{Array1, ArrayView1, ArrayView2};

use crate::input::Features;

/// Predicted and true labels of the same samples.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LabelPairs {
    pub preds: Array1<i64>,
    pub target: Array1<i64>,
}

/// Feature rows and the cluster label of each row.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DataLabels {
    pub data: Features,
    pub labels: Array1<i64>,
}

/// When the silhouette coefficient is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SilhouettePlan {
    /// Exactly, over all rows, when there are at most `max_rows` rows. Skipped above that.
    Exact { max_rows: usize },
    /// On a random sample of `sample_size` rows drawn with the seed.
    Sample { sample_size: usize },
    /// Never.
    Off,
}

/// Settings of the metrics, already validated.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MetricOptions {
    pub average_method: AverageMethod,
    pub beta: f64,
    pub p: f64,
    pub dunn_definition: DunnDefinition,
    pub silhouette: SilhouettePlan,
    pub seed: u64,
}

/// The outcome of computing one metric.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The metric's value.
    Value(f64),
    /// The metric does not exist for this input, for the reason given.
    Undefined(String),
    /// The metric was not computed, for the reason given.
    Skipped(String),
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricResult {
    /// The name of the metric's function in the library, such as `adjusted_rand_score`.
    pub name: &'static str,
    /// `Some(true)` if larger values are better, `Some(false)` if smaller values are better.
    pub higher_is_better: Option<bool>,
    pub outcome: Outcome,
}

/// A metric waiting to be computed.
struct Job<'a> {
    name: &'static str,
    higher_is_better: Option<bool>,
    compute: Box<dyn FnOnce() -> Outcome + 'a>,
}

impl<'a> Job<'a> {
    fn new(
        name: &'static str,
        higher_is_better: Option<bool>,
        compute: impl FnOnce() -> ferrometrics::Result<f64> + 'a,
    ) -> Self {
        // The inputs are validated before any metric runs, so an error here means that the
        // metric has no value for this input (for example a single cluster), not a bad input.
        let compute = Box::new(move || match compute() {
            Ok(value) => Outcome::Value(value),
            Err(error) => Outcome::Undefined(error.to_string()),
        });
        Self {
            name,
            higher_is_better,
            compute,
        }
    }

    fn skipped(name: &'static str, higher_is_better: Option<bool>, reason: String) -> Self {
        Self {
            name,
            higher_is_better,
            compute: Box::new(move || Outcome::Skipped(reason)),
        }
    }
}

/// Computes every metric that the inputs allow: the extrinsic metrics for `label_pairs`, the
/// intrinsic metrics for `data_labels`, in that order.
///
/// `bar` counts the metrics as they finish.
pub fn compute_report(
    label_pairs: Option<&LabelPairs>,
    data_labels: Option<&DataLabels>,
    options: &MetricOptions,
    bar: &ProgressBar,
) -> Vec<MetricResult> {
    let mut jobs = Vec::new();
    if let Some(pairs) = label_pairs {
        jobs.extend(extrinsic_jobs(
            pairs.preds.view(),
            pairs.target.view(),
            options,
        ));
    }
    if let Some(data_labels) = data_labels {
        let labels = data_labels.labels.view();
        match &data_labels.data {
            Features::F32(data) => jobs.extend(intrinsic_jobs(data.view(), labels, options)),
            Features::F64(data) => jobs.extend(intrinsic_jobs(data.view(), labels, options)),
        }
    }

    bar.set_length(jobs.len() as u64);
    let mut results = Vec::with_capacity(jobs.len());
    for job in jobs {
        bar.set_message(job.name);
        results.push(MetricResult {
            name: job.name,
            higher_is_better: job.higher_is_better,
            outcome: (job.compute)(),
        });
        bar.inc(1);
    }
    bar.finish_and_clear();
    results
}

fn extrinsic_jobs<'a>(
    preds: ArrayView1<'a, i64>,
    target: ArrayView1<'a, i64>,
    options: &MetricOptions,
) -> Vec<Job<'a>> {
    let average_method = options.average_method;
    let beta = options.beta;
    vec![
        Job::new(
            "mutual_info_score",
            direction(Ok(MutualInfoScore::new())),
            move || mutual_info_score(preds, target),
        ),
        Job::new(
            "normalized_mutual_info_score",
            direction(Ok(NormalizedMutualInfoScore::new(average_method))),
            move || normalized_mutual_info_score(preds, target, average_method),
        ),
        Job::new(
            "adjusted_mutual_info_score",
            direction(Ok(AdjustedMutualInfoScore::new(average_method))),
            move || adjusted_mutual_info_score(preds, target, average_method),
        ),
        Job::new("rand_score", direction(Ok(RandScore::new())), move || {
            rand_score(preds, target)
        }),
        Job::new(
            "adjusted_rand_score",
            direction(Ok(AdjustedRandScore::new())),
            move || adjusted_rand_score(preds, target),
        ),
        Job::new(
            "fowlkes_mallows_index",
            direction(Ok(FowlkesMallowsIndex::new())),
            move || fowlkes_mallows_index(preds, target),
        ),
        Job::new(
            "homogeneity_score",
            direction(Ok(HomogeneityScore::new())),
            move || homogeneity_score(preds, target),
        ),
        Job::new(
            "completeness_score",
            direction(Ok(CompletenessScore::new())),
            move || completeness_score(preds, target),
        ),
        Job::new(
            "v_measure_score",
            direction(VMeasureScore::new(beta)),
            move || v_measure_score(preds, target, beta),
        ),
        Job::new(
            "cluster_accuracy",
            direction(Ok(ClusterAccuracy::new())),
            move || cluster_accuracy(preds, target),
        ),
    ]
}

fn intrinsic_jobs<'a, F: Real>(
    data: ArrayView2<'a, F>,
    labels: ArrayView1<'a, i64>,
    options: &MetricOptions,
) -> Vec<Job<'a>> {
    let MetricOptions {
        p,
        dunn_definition,
        seed,
        ..
    } = *options;
    let mut jobs = vec![
        Job::new(
            "calinski_harabasz_score",
            direction(Ok(CalinskiHarabaszScore::<F>::new())),
            move || calinski_harabasz_score(data, labels),
        ),
        Job::new(
            "davies_bouldin_score",
            direction(Ok(DaviesBouldinScore::<F>::new())),
            move || davies_bouldin_score(data, labels),
        ),
        Job::new(
            "dunn_index",
            direction(DunnIndex::<F>::new(p, dunn_definition)),
            move || dunn_index(data, labels, p, dunn_definition),
        ),
    ];

    let silhouette_direction = direction(SilhouetteScore::<F>::new(None, seed));
    let rows = data.nrows();
    match options.silhouette {
        SilhouettePlan::Off => {}
        SilhouettePlan::Exact { max_rows } if rows > max_rows => {
            let reason = format!(
                "n = {rows} exceeds --silhouette-max-rows {max_rows} and the exact \
                 value takes time in n^2, pass --silhouette-sample-size N for an estimate or a \
                 larger --silhouette-max-rows"
            );
            jobs.push(Job::skipped(
                "silhouette_score",
                silhouette_direction,
                reason,
            ));
        }
        SilhouettePlan::Exact { .. } => jobs.push(Job::new(
            "silhouette_score",
            silhouette_direction,
            move || silhouette_score(data, labels, None, seed),
        )),
        SilhouettePlan::Sample { sample_size } => jobs.push(Job::new(
            "silhouette_score",
            silhouette_direction,
            move || silhouette_score(data, labels, Some(sample_size), seed),
        )),
    }
    jobs
}

/// Returns whether larger values of the metric are better, from the library's metric facts.
pub(crate) fn direction<M: Metric>(metric: ferrometrics::Result<M>) -> Option<bool> {
    metric
        .ok()
        .and_then(|metric| metric.info().higher_is_better)
}
