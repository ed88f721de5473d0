//! The `clustering` subcommand: resolve where each input comes from, read and check the inputs,
//! compute the report and format it.

mod rows;
mod sources;

use ferrometrics::clustering::{DunnIndex, SilhouetteScore, VMeasureScore};

use ferrometrics::distributed::Distributed;

use self::rows::Rows;
use self::sources::Sources;
use crate::cli::{ClusteringArgs, Format};
use crate::error::CliError;
use crate::output;
use crate::progress;
use crate::report::{compute_report, MetricOptions, SilhouettePlan};
use crate::shard::{agree, sync_error, ShardGroup};

/// Output of the subcommand: the report for stdout, and warnings for stderr.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Printout {
    pub stdout: String,
    pub warnings: Vec<String>,
}

/// Runs the subcommand and returns what to print.
pub fn run(args: &ClusteringArgs) -> Result<Printout, CliError> {
    let options = metric_options(args)?;
    let delimiter = csv_delimiter(args.delimiter)?;
    let sources = Sources::from_args(args)?;
    let group = match args.shard {
        true => Some(ShardGroup::join()?),
        false => None,
    };

    let printout = run_with(args, &options, delimiter, &sources, group.as_ref());
    match &group {
        Some(group) => group.finish(printout),
        None => printout,
    }
}

/// Reads the inputs, computes the report and formats it.
///
/// With `--shard`, every rank reads the inputs and sends its block of rows to rank 0, which
/// joins the blocks in rank order and computes the report of all rows. The other ranks return
/// nothing to print.
fn run_with(
    args: &ClusteringArgs,
    options: &MetricOptions,
    delimiter: u8,
    sources: &Sources,
    group: Option<&ShardGroup>,
) -> Result<Printout, CliError> {
    let read = || {
        let inputs = sources.read(args.file.as_deref(), delimiter)?;
        let n = inputs.check_lengths()?;
        Ok((inputs, n))
    };
    let (inputs, n) = match group {
        Some(group) => agree(group.communicator(), read())?,
        None => read()?,
    };

    let mut header = format!("clustering metrics of {}; n = {n}", inputs.describe());
    if let SilhouettePlan::Sample { sample_size } = options.silhouette {
        if inputs.has_data() && sample_size < n {
            let seed = options.seed;
            header.push_str(&format!(
                "; silhouette_score on a random sample of {sample_size} rows, seed {seed}"
            ));
        }
    }
    let (label_pairs, data_labels) = inputs.into_metric_inputs();
    let rows = Rows {
        pairs: label_pairs,
        data: data_labels,
    };
    let rows = match group {
        Some(group) => {
            let local = rows.select(group.rows(n));
            match local
                .synced_to_root(group.communicator())
                .map_err(sync_error)?
            {
                Some(all) => all,
                None => {
                    return Ok(Printout {
                        stdout: String::new(),
                        warnings: Vec::new(),
                    })
                }
            }
        }
        None => rows,
    };

    let bar = progress::metrics_bar(n);
    let results = compute_report(rows.pairs.as_ref(), rows.data.as_ref(), options, &bar);

    let printout = match args.format {
        Format::Table => Printout {
            stdout: output::render_table(&header, &results),
            warnings: Vec::new(),
        },
        Format::Json => Printout {
            stdout: output::render_json(&results),
            warnings: output::json_null_reasons(&results),
        },
    };
    Ok(printout)
}

/// Validates the metric settings with the library's own constructors, before any file is read.
fn metric_options(args: &ClusteringArgs) -> Result<MetricOptions, CliError> {
    VMeasureScore::new(args.beta).map_err(|e| CliError::option("--beta", e.to_string()))?;
    DunnIndex::<f64>::new(args.p, args.dunn_definition.into())
        .map_err(|e| CliError::option("--p", e.to_string()))?;

    let silhouette = if args.no_silhouette {
        SilhouettePlan::Off
    } else if let Some(sample_size) = args.silhouette_sample_size {
        SilhouetteScore::<f64>::new(Some(sample_size), args.seed).map_err(|_| {
            // The library's message speaks of `None`, which has no spelling on the command line.
            CliError::option(
                "--silhouette-sample-size",
                format!(
                    "invalid value {sample_size}, pass at least 3 rows, or leave the option out \
                     for the exact value"
                ),
            )
        })?;
        SilhouettePlan::Sample { sample_size }
    } else {
        SilhouettePlan::Exact {
            max_rows: args.silhouette_max_rows,
        }
    };

    Ok(MetricOptions {
        average_method: args.average_method.into(),
        beta: args.beta,
        p: args.p,
        dunn_definition: args.dunn_definition.into(),
        silhouette,
        seed: args.seed,
    })
}

pub(crate) fn csv_delimiter(delimiter: char) -> Result<u8, CliError> {
    u8::try_from(delimiter)
        .ok()
        .filter(u8::is_ascii)
        .ok_or_else(|| {
            CliError::option(
                "--delimiter",
                format!("invalid value '{delimiter}', use one ASCII character such as ',' or ';'"),
            )
        })
}
