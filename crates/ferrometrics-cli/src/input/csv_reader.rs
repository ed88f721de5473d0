//! Reading label and feature columns from a CSV file with a header row.

use std::fs::File;
use std::io::ErrorKind as IoErrorKind;
use std::path::Path;

use ::csv::{ErrorKind, ReaderBuilder, StringRecord, Trim};
use ndarray::{Array1, Array2};

use super::integral_label;
use crate::error::CliError;
use crate::progress;

/// The feature columns to read.
#[derive(Debug, Clone, Copy)]
pub enum FeatureColumns<'a> {
    /// No features.
    None,
    /// These columns, in this order.
    Named(&'a [String]),
    /// Every column except the label columns, in file order.
    AllExceptLabels,
}

/// The columns read from a CSV file.
#[derive(Debug, Clone, PartialEq)]
pub struct CsvColumns {
    /// One array per requested label column, in request order.
    pub labels: Vec<Array1<i64>>,
    /// The feature matrix, if features were requested.
    pub features: Option<Array2<f64>>,
    /// Names of the feature columns, in matrix column order.
    pub feature_names: Vec<String>,
}

/// Reads the label columns `label_columns` and the feature columns `features` of a CSV file.
///
/// Fields are trimmed. Labels must be integers (`2.0` is read as 2), features finite numbers.
/// Errors name the file, the line (1-based, the header being line 1) and the column.
pub fn read_csv(
    path: &Path,
    delimiter: u8,
    label_columns: &[&str],
    features: FeatureColumns<'_>,
) -> Result<CsvColumns, CliError> {
    let file = open(path)?;
    let file_len = file.metadata().map(|metadata| metadata.len()).unwrap_or(0);
    let bar = progress::file_bar(file_len, &path.display().to_string());
    let mut reader = ReaderBuilder::new()
        .delimiter(delimiter)
        .trim(Trim::All)
        .from_reader(bar.wrap_read(file));

    let headers = reader.headers().map_err(|e| csv_error(path, e))?.clone();
    if headers.is_empty() || (headers.len() == 1 && headers[0].is_empty()) {
        return Err(CliError::file(
            path,
            "the file is empty, expected a header row followed by data rows",
        ));
    }

    let label_indices = label_columns
        .iter()
        .map(|name| column_index(path, &headers, name))
        .collect::<Result<Vec<_>, _>>()?;
    let feature_indices = feature_indices(path, &headers, &label_indices, features)?;

    let mut labels = vec![Vec::new(); label_indices.len()];
    let mut feature_values = Vec::new();
    let mut record = StringRecord::new();
    let mut rows = 0;
    while reader
        .read_record(&mut record)
        .map_err(|e| csv_error(path, e))?
    {
        let line = record
            .position()
            .map_or(rows as u64 + 2, |position| position.line());

        for (values, &column) in labels.iter_mut().zip(&label_indices) {
            values.push(parse_label(path, line, &headers[column], &record[column])?);
        }
        for &column in &feature_indices {
            feature_values.push(parse_feature(
                path,
                line,
                &headers[column],
                &record[column],
            )?);
        }
        rows += 1;
    }
    bar.finish_and_clear();

    if rows == 0 {
        return Err(CliError::file(
            path,
            "no data rows after the header, add at least one row of values",
        ));
    }

    let feature_names = feature_indices
        .iter()
        .map(|&column| headers[column].to_owned())
        .collect();
    let features = if feature_indices.is_empty() {
        None
    } else {
        let shape = (rows, feature_indices.len());
        let matrix = Array2::from_shape_vec(shape, feature_values).map_err(|e| {
            CliError::file(path, format!("failed to build the feature matrix: {e}"))
        })?;
        Some(matrix)
    };
    Ok(CsvColumns {
        labels: labels.into_iter().map(Array1::from).collect(),
        features,
        feature_names,
    })
}

/// Reads the numeric columns `columns` of a CSV file, one array per column in request order.
///
/// Fields are trimmed, and every value must be a finite number. Errors name the file, the line
/// (1-based, the header being line 1) and the column.
pub fn read_value_columns(
    path: &Path,
    delimiter: u8,
    columns: &[&str],
) -> Result<Vec<Array1<f64>>, CliError> {
    let file = open(path)?;
    let file_len = file.metadata().map(|metadata| metadata.len()).unwrap_or(0);
    let bar = progress::file_bar(file_len, &path.display().to_string());
    let mut reader = ReaderBuilder::new()
        .delimiter(delimiter)
        .trim(Trim::All)
        .from_reader(bar.wrap_read(file));

    let headers = reader.headers().map_err(|e| csv_error(path, e))?.clone();
    if headers.is_empty() || (headers.len() == 1 && headers[0].is_empty()) {
        return Err(CliError::file(
            path,
            "the file is empty, expected a header row followed by data rows",
        ));
    }
    let indices = columns
        .iter()
        .map(|name| column_index(path, &headers, name))
        .collect::<Result<Vec<_>, _>>()?;

    let mut values = vec![Vec::new(); indices.len()];
    let mut record = StringRecord::new();
    let mut rows = 0;
    while reader
        .read_record(&mut record)
        .map_err(|e| csv_error(path, e))?
    {
        let line = record
            .position()
            .map_or(rows as u64 + 2, |position| position.line());
        for (column_values, &column) in values.iter_mut().zip(&indices) {
            column_values.push(parse_value(path, line, &headers[column], &record[column])?);
        }
        rows += 1;
    }
    bar.finish_and_clear();

    if rows == 0 {
        return Err(CliError::file(
            path,
            "no data rows after the header, add at least one row of values",
        ));
    }
    Ok(values.into_iter().map(Array1::from).collect())
}

fn parse_value(path: &Path, line: u64, column: &str, field: &str) -> Result<f64, CliError> {
    let location = format!("line {line}, column \"{column}\"");
    if field.is_empty() {
        return Err(CliError::file(
            path,
            format!("{location}: missing value, remove or impute the row"),
        ));
    }

    let value: f64 = field.parse().map_err(|_| {
        CliError::file(
            path,
            format!("{location}: value \"{field}\" is not a number, select a numeric column"),
        )
    })?;
    if !value.is_finite() {
        return Err(CliError::file(
            path,
            format!("{location}: value {field} is not finite, remove or impute the row"),
        ));
    }
    Ok(value)
}

fn open(path: &Path) -> Result<File, CliError> {
    File::open(path).map_err(|e| match e.kind() {
        IoErrorKind::NotFound => CliError::file(path, "file not found, check the path"),
        _ => CliError::file(path, format!("failed to open the file: {e}")),
    })
}

fn column_index(path: &Path, headers: &StringRecord, name: &str) -> Result<usize, CliError> {
    let matches: Vec<usize> = headers
        .iter()
        .enumerate()
        .filter(|(_, header)| *header == name)
        .map(|(index, _)| index)
        .collect();

    match matches.as_slice() {
        [index] => Ok(*index),
        [] => {
            let available: Vec<String> = headers.iter().map(|h| format!("\"{h}\"")).collect();
            Err(CliError::file(
                path,
                format!(
                    "column \"{name}\" not found, use one of the header columns: {}",
                    available.join(", ")
                ),
            ))
        }
        _ => Err(CliError::file(
            path,
            format!(
                "column \"{name}\" appears {} times in the header, give the columns unique names",
                matches.len()
            ),
        )),
    }
}

fn feature_indices(
    path: &Path,
    headers: &StringRecord,
    label_indices: &[usize],
    features: FeatureColumns<'_>,
) -> Result<Vec<usize>, CliError> {
    match features {
        FeatureColumns::None => Ok(Vec::new()),
        FeatureColumns::Named(names) => names
            .iter()
            .map(|name| column_index(path, headers, name))
            .collect(),
        FeatureColumns::AllExceptLabels => {
            let indices: Vec<usize> = (0..headers.len())
                .filter(|index| !label_indices.contains(index))
                .collect();
            if indices.is_empty() {
                return Err(CliError::file(
                    path,
                    "no feature columns besides the label columns, add feature columns or drop \
                     --all-features",
                ));
            }
            Ok(indices)
        }
    }
}

fn parse_label(path: &Path, line: u64, column: &str, field: &str) -> Result<i64, CliError> {
    if field.is_empty() {
        return Err(CliError::file(
            path,
            format!("line {line}, column \"{column}\": missing label, give every row a label"),
        ));
    }

    if let Ok(label) = field.parse::<i64>() {
        return Ok(label);
    }
    let number = field.parse::<f64>().ok();
    if let Some(label) = number.and_then(integral_label) {
        return Ok(label);
    }

    let problem = match number {
        Some(value) if value.is_finite() && value.fract() == 0.0 => {
            "is outside the int64 range, use labels between -2^63 and 2^63 - 1"
        }
        _ => "is not an integer, use integer labels",
    };
    Err(CliError::file(
        path,
        format!("line {line}, column \"{column}\": label \"{field}\" {problem}"),
    ))
}

fn parse_feature(path: &Path, line: u64, column: &str, field: &str) -> Result<f64, CliError> {
    let location = format!("line {line}, column \"{column}\"");
    if field.is_empty() {
        return Err(CliError::file(
            path,
            format!("{location}: missing value, remove or impute the row"),
        ));
    }

    let value: f64 = field.parse().map_err(|_| {
        CliError::file(
            path,
            format!(
                "{location}: value \"{field}\" is not a number, select columns that contain \
                 only numbers"
            ),
        )
    })?;
    if !value.is_finite() {
        return Err(CliError::file(
            path,
            format!("{location}: value {field} is not finite, remove or impute the row"),
        ));
    }
    Ok(value)
}

fn csv_error(path: &Path, error: ::csv::Error) -> CliError {
    let place = match error.position() {
        Some(position) => format!("line {}", position.line()),
        None => "a row".to_owned(),
    };
    let message = match error.kind() {
        ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!(
            "{place} has {len} fields but the header has {expected_len}, give every row the same \
             number of fields"
        ),
        ErrorKind::Utf8 { .. } => format!("{place} is not valid UTF-8, save the file as UTF-8"),
        ErrorKind::Io(e) => format!("failed to read the file: {e}"),
        _ => format!("failed to parse the file as CSV: {error}"),
    };
    CliError::file(path, message)
}
