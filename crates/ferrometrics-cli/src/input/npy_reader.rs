//! Reading label vectors and feature matrices from NumPy `.npy` files.

use std::fmt::Display;
use std::fs::File;
use std::io::{BufReader, ErrorKind as IoErrorKind, Read};
use std::path::Path;

use ndarray::{Array1, ArrayD, Ix2, IxDyn, ShapeBuilder};
use ndarray_npy::npy::header::Header;
use ndarray_npy::{ReadNpyExt, ReadableElement};

use super::Features;
use crate::error::CliError;
use crate::progress;

/// The element type of an array, from the `descr` field of an `.npy` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Dtype {
    /// NumPy's kind character: `i` signed integer, `u` unsigned integer, `f` float, `b` bool.
    kind: char,
    /// Size of one element, in bytes.
    size: usize,
}

impl Display for Dtype {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let bits = 8 * self.size;
        match self.kind {
            'i' => write!(f, "int{bits}"),
            'u' => write!(f, "uint{bits}"),
            'f' => write!(f, "float{bits}"),
            'c' => write!(f, "complex{bits}"),
            'b' => write!(f, "bool"),
            // The size of a `U` dtype counts characters of 4 bytes each, as `<U5`.
            'U' => write!(
                f,
                "<U{} (str{}, 4 bytes per character)",
                self.size,
                32 * self.size
            ),
            'S' => write!(f, "|S{} (bytes{})", self.size, bits),
            kind => write!(f, "kind '{kind}' of {} bytes", self.size),
        }
    }
}

/// Reads a vector of labels: any integer dtype, of shape (n,) or (n, 1).
pub fn read_labels(path: &Path) -> Result<Array1<i64>, CliError> {
    let (dtype, shape) = read_header(path)?;
    let shape_ok = shape.len() == 1 || (shape.len() == 2 && shape[1] == 1);
    if !shape_ok {
        return Err(CliError::file(
            path,
            format!(
                "labels have shape {}, expected a 1-D array, save labels.ravel()",
                numpy_shape(&shape)
            ),
        ));
    }

    let labels = match (dtype.kind, dtype.size) {
        ('i', 1) => labels_to_i64(path, read_array::<i8>(path)?)?,
        ('i', 2) => labels_to_i64(path, read_array::<i16>(path)?)?,
        ('i', 4) => labels_to_i64(path, read_array::<i32>(path)?)?,
        ('i', 8) => read_array::<i64>(path)?.into_iter().collect(),
        ('u', 1) => labels_to_i64(path, read_array::<u8>(path)?)?,
        ('u', 2) => labels_to_i64(path, read_array::<u16>(path)?)?,
        ('u', 4) => labels_to_i64(path, read_array::<u32>(path)?)?,
        ('u', 8) => labels_to_i64(path, read_array::<u64>(path)?)?,
        _ => {
            return Err(CliError::file(
                path,
                format!(
                    "labels have dtype {dtype}, expected an integer dtype, save \
                     labels.astype(numpy.int64)"
                ),
            ))
        }
    };

    if labels.is_empty() {
        return Err(CliError::file(
            path,
            "the label array is empty, save at least one label",
        ));
    }
    Ok(labels)
}

/// Reads a float32 or float64 feature matrix of shape (n_samples, n_features) with finite
/// values.
pub fn read_features(path: &Path) -> Result<Features, CliError> {
    let (dtype, shape) = read_header(path)?;
    if shape.len() != 2 {
        return Err(CliError::file(
            path,
            format!(
                "features have shape {}, expected a 2-D array (n_samples, n_features), save \
                 X.reshape(len(X), -1)",
                numpy_shape(&shape)
            ),
        ));
    }
    if shape[0] == 0 || shape[1] == 0 {
        return Err(CliError::file(
            path,
            format!(
                "features have shape {}, expected at least one sample and one feature",
                numpy_shape(&shape)
            ),
        ));
    }

    match (dtype.kind, dtype.size) {
        ('f', 2) => {
            let data = read_f16(path)?;
            check_finite(path, &data)?;
            Ok(Features::F32(into_matrix(path, data)?))
        }
        ('f', 4) => {
            let data = read_array::<f32>(path)?;
            check_finite(path, &data)?;
            Ok(Features::F32(into_matrix(path, data)?))
        }
        ('f', 8) => {
            let data = read_array::<f64>(path)?;
            check_finite(path, &data)?;
            Ok(Features::F64(into_matrix(path, data)?))
        }
        _ => Err(CliError::file(
            path,
            format!(
                "features have dtype {dtype}, expected float16, float32 or float64, save \
                 X.astype(numpy.float64)"
            ),
        )),
    }
}

/// Reads a vector of real values: a float or integer dtype, of shape (n,) or (n, 1), with
/// finite values, as float64.
pub fn read_values(path: &Path) -> Result<Array1<f64>, CliError> {
    let (dtype, shape) = read_header(path)?;
    let shape_ok = shape.len() == 1 || (shape.len() == 2 && shape[1] == 1);
    if !shape_ok {
        return Err(CliError::file(
            path,
            format!(
                "values have shape {}, expected a 1-D array, save values.ravel()",
                numpy_shape(&shape)
            ),
        ));
    }

    let values: Array1<f64> = match (dtype.kind, dtype.size) {
        ('f', 2) => read_f16(path)?.iter().map(|&x| f64::from(x)).collect(),
        ('f', 4) => read_array::<f32>(path)?
            .iter()
            .map(|&x| f64::from(x))
            .collect(),
        ('f', 8) => read_array::<f64>(path)?.into_iter().collect(),
        ('i', 1) => read_array::<i8>(path)?
            .iter()
            .map(|&x| f64::from(x))
            .collect(),
        ('i', 2) => read_array::<i16>(path)?
            .iter()
            .map(|&x| f64::from(x))
            .collect(),
        ('i', 4) => read_array::<i32>(path)?
            .iter()
            .map(|&x| f64::from(x))
            .collect(),
        ('u', 1) => read_array::<u8>(path)?
            .iter()
            .map(|&x| f64::from(x))
            .collect(),
        ('u', 2) => read_array::<u16>(path)?
            .iter()
            .map(|&x| f64::from(x))
            .collect(),
        ('u', 4) => read_array::<u32>(path)?
            .iter()
            .map(|&x| f64::from(x))
            .collect(),
        ('i', 8) => exact_floats(path, read_array::<i64>(path)?)?,
        ('u', 8) => exact_floats(path, read_array::<u64>(path)?)?,
        _ => {
            return Err(CliError::file(
                path,
                format!(
                    "values have dtype {dtype}, expected a float or integer dtype, save \
                     values.astype(numpy.float64)"
                ),
            ))
        }
    };

    if values.is_empty() {
        return Err(CliError::file(
            path,
            "the array is empty, save at least one value",
        ));
    }
    if let Some((index, value)) = values.iter().enumerate().find(|(_, x)| !x.is_finite()) {
        return Err(CliError::file(
            path,
            format!("index {index}: value {value} is not finite, remove or impute the sample"),
        ));
    }
    Ok(values)
}

fn open(path: &Path) -> Result<File, CliError> {
    File::open(path).map_err(|e| match e.kind() {
        IoErrorKind::NotFound => CliError::file(path, "file not found, check the path"),
        _ => CliError::file(path, format!("failed to open the file: {e}")),
    })
}

/// An array of any shape read as integers or as floats, by its dtype.
#[derive(Debug, Clone, PartialEq)]
pub enum NumericArray {
    /// Any integer or bool dtype, widened to int64.
    Int(ArrayD<i64>),
    /// float16, float32 or float64, widened to float64.
    Float(ArrayD<f64>),
}

/// Reads an integer, bool or float array of any shape with at least one element.
pub fn read_numeric(path: &Path) -> Result<NumericArray, CliError> {
    let (dtype, shape) = read_header(path)?;
    if shape.iter().product::<usize>() == 0 {
        return Err(CliError::file(
            path,
            format!(
                "the array has shape {} and no element, save at least one sample",
                numpy_shape(&shape)
            ),
        ));
    }
    let array = match (dtype.kind, dtype.size) {
        ('b', 1) => NumericArray::Int(read_array::<bool>(path)?.mapv(i64::from)),
        ('i', 1) => NumericArray::Int(read_array::<i8>(path)?.mapv(i64::from)),
        ('i', 2) => NumericArray::Int(read_array::<i16>(path)?.mapv(i64::from)),
        ('i', 4) => NumericArray::Int(read_array::<i32>(path)?.mapv(i64::from)),
        ('i', 8) => NumericArray::Int(read_array::<i64>(path)?),
        ('u', 1) => NumericArray::Int(read_array::<u8>(path)?.mapv(i64::from)),
        ('u', 2) => NumericArray::Int(read_array::<u16>(path)?.mapv(i64::from)),
        ('u', 4) => NumericArray::Int(read_array::<u32>(path)?.mapv(i64::from)),
        ('u', 8) => NumericArray::Int(array_to_i64(path, read_array::<u64>(path)?)?),
        ('f', 2) => NumericArray::Float(read_f16(path)?.mapv(f64::from)),
        ('f', 4) => NumericArray::Float(read_array::<f32>(path)?.mapv(f64::from)),
        ('f', 8) => NumericArray::Float(read_array::<f64>(path)?),
        _ => {
            return Err(CliError::file(
                path,
                format!(
                    "the array has dtype {dtype}, expected an integer, bool or float dtype, \
                     save it with .astype(numpy.int64) or .astype(numpy.float64)"
                ),
            ))
        }
    };
    Ok(array)
}

fn array_to_i64(path: &Path, array: ArrayD<u64>) -> Result<ArrayD<i64>, CliError> {
    let shape = array.shape().to_vec();
    let labels = labels_to_i64(path, array)?;
    Ok(labels
        .into_shape_with_order(shape)
        .expect("the element count is unchanged"))
}

fn read_header(path: &Path) -> Result<(Dtype, Vec<usize>), CliError> {
    let mut reader = BufReader::new(open(path)?);
    let header = Header::from_reader(&mut reader).map_err(|e| {
        CliError::file(
            path,
            format!("not a valid .npy file ({e}), write the array with numpy.save"),
        )
    })?;

    let descr = header.type_descriptor.as_string().ok_or_else(|| {
        CliError::file(
            path,
            format!(
                "the array has the structured dtype {}, expected a plain numeric array",
                header.type_descriptor
            ),
        )
    })?;
    let dtype = parse_descr(descr).ok_or_else(|| {
        CliError::file(
            path,
            format!("unsupported dtype '{descr}', expected an integer or float array"),
        )
    })?;
    Ok((dtype, header.shape))
}

/// Parses a dtype string such as `<i8`, `|u1` or `>f4`.
fn parse_descr(descr: &str) -> Option<Dtype> {
    let unprefixed = descr.trim_start_matches(['<', '>', '|', '=']);
    let mut chars = unprefixed.chars();
    let kind = chars.next()?;
    let size = chars.as_str().parse().ok()?;
    Some(Dtype { kind, size })
}

fn read_array<T: ReadableElement>(path: &Path) -> Result<ArrayD<T>, CliError> {
    let file = open(path)?;
    let file_len = file.metadata().map(|metadata| metadata.len()).unwrap_or(0);
    let bar = progress::file_bar(file_len, &path.display().to_string());

    let array = ArrayD::<T>::read_npy(BufReader::new(bar.wrap_read(file)))
        .map_err(|e| CliError::file(path, format!("failed to read the array: {e}")))?;
    bar.finish_and_clear();
    Ok(array)
}

/// Reads a float16 array, widened to f32 exactly. ndarray-npy 0.10 has no float16 element, so
/// the data after the header is decoded here.
fn read_f16(path: &Path) -> Result<ArrayD<f32>, CliError> {
    let mut reader = BufReader::new(open(path)?);
    let header = Header::from_reader(&mut reader).map_err(|e| {
        CliError::file(
            path,
            format!("not a valid .npy file ({e}), write the array with numpy.save"),
        )
    })?;
    let big_endian = header
        .type_descriptor
        .as_string()
        .is_some_and(|descr| descr.starts_with('>'));
    let mut bytes = Vec::new();
    reader
        .read_to_end(&mut bytes)
        .map_err(|e| CliError::file(path, format!("failed to read the array: {e}")))?;

    let count: usize = header.shape.iter().product();
    if bytes.len() != 2 * count {
        return Err(CliError::file(
            path,
            format!(
                "the file holds {} data bytes where shape {} of float16 needs {}, write the \
                 array again with numpy.save",
                bytes.len(),
                numpy_shape(&header.shape),
                2 * count
            ),
        ));
    }
    let values: Vec<f32> = bytes
        .chunks_exact(2)
        .map(|pair| {
            let bits = if big_endian {
                u16::from_be_bytes([pair[0], pair[1]])
            } else {
                u16::from_le_bytes([pair[0], pair[1]])
            };
            f16_to_f32(bits)
        })
        .collect();

    let shape = IxDyn(&header.shape);
    let array = if header.layout.is_fortran() {
        ArrayD::from_shape_vec(shape.f(), values)
    } else {
        ArrayD::from_shape_vec(shape, values)
    };
    array.map_err(|e| CliError::file(path, format!("failed to read the array: {e}")))
}

/// Widens IEEE 754 half-precision bits to the equal f32.
fn f16_to_f32(bits: u16) -> f32 {
    let sign = u32::from(bits >> 15) << 31;
    let exponent = u32::from((bits >> 10) & 0x1f);
    let mantissa = u32::from(bits & 0x3ff);
    match exponent {
        // Zero and subnormals: mantissa * 2^-24, exact in f32.
        0 => {
            let magnitude = mantissa as f32 * (-24.0_f32).exp2();
            if sign == 0 {
                magnitude
            } else {
                -magnitude
            }
        }
        // Infinities and NaN keep their payload.
        0x1f => f32::from_bits(sign | 0x7f80_0000 | (mantissa << 13)),
        // Rebias the exponent from 15 to 127.
        _ => f32::from_bits(sign | ((exponent + 112) << 23) | (mantissa << 13)),
    }
}

/// Converts 64-bit integers to f64, rejecting magnitudes above 2^53, which f64 would round.
fn exact_floats<T>(path: &Path, values: ArrayD<T>) -> Result<Array1<f64>, CliError>
where
    T: Copy + Display + TryInto<i64>,
{
    const EXACT_LIMIT: i64 = 1 << 53;
    values
        .iter()
        .enumerate()
        .map(|(index, &value)| match value.try_into() {
            Ok(integer) if (-EXACT_LIMIT..=EXACT_LIMIT).contains(&integer) => Ok(integer as f64),
            _ => Err(CliError::file(
                path,
                format!(
                    "index {index}: value {value} exceeds 2^53 in magnitude and would be rounded \
                     by the float64 computations, save values.astype(numpy.float64) to accept \
                     the rounding"
                ),
            )),
        })
        .collect()
}

fn labels_to_i64<T>(path: &Path, labels: ArrayD<T>) -> Result<Array1<i64>, CliError>
where
    T: Copy + Display + TryInto<i64>,
{
    labels
        .iter()
        .enumerate()
        .map(|(index, &label)| {
            label.try_into().map_err(|_| {
                CliError::file(
                    path,
                    format!(
                        "index {index}: label {label} does not fit in int64, renumber the labels"
                    ),
                )
            })
        })
        .collect()
}

fn check_finite<T: Copy + Into<f64>>(path: &Path, data: &ArrayD<T>) -> Result<(), CliError> {
    // A 2-D array of shape (n, d) in logical (C) order, whatever its memory layout.
    let columns = data.shape()[1];
    for (flat_index, &value) in data.iter().enumerate() {
        let value: f64 = value.into();
        if !value.is_finite() {
            let (row, column) = (flat_index / columns, flat_index % columns);
            return Err(CliError::file(
                path,
                format!(
                    "row {row}, column {column} (0-based): feature value {value} is not finite, \
                     remove or impute the row"
                ),
            ));
        }
    }
    Ok(())
}

fn into_matrix<T>(path: &Path, data: ArrayD<T>) -> Result<ndarray::Array2<T>, CliError> {
    data.into_dimensionality::<Ix2>()
        .map_err(|e| CliError::file(path, format!("failed to read a 2-D array: {e}")))
}

/// Formats a shape the way NumPy prints it: `(3,)`, `(3, 4)`.
fn numpy_shape(shape: &[usize]) -> String {
    let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
    match dims.len() {
        1 => format!("({},)", dims[0]),
        _ => format!("({})", dims.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f16_widens_exactly() {
        assert_eq!(f16_to_f32(0x3c00), 1.0);
        assert_eq!(f16_to_f32(0xc000), -2.0);
        assert_eq!(f16_to_f32(0x7bff), 65504.0);
        assert_eq!(f16_to_f32(0x0001), 2.0_f32.powi(-24));
        assert_eq!(f16_to_f32(0x8000).to_bits(), (-0.0_f32).to_bits());
        assert_eq!(f16_to_f32(0x7c00), f32::INFINITY);
        assert!(f16_to_f32(0x7e00).is_nan());
    }

    #[test]
    fn text_dtype_names_characters() {
        let dtype = parse_descr("<U1").unwrap();
        assert_eq!(dtype.to_string(), "<U1 (str32, 4 bytes per character)");
    }

    #[test]
    fn parse_descr_reads_byte_order_kind_and_size() {
        assert_eq!(parse_descr("<i8"), Some(Dtype { kind: 'i', size: 8 }));
        assert_eq!(parse_descr("|u1"), Some(Dtype { kind: 'u', size: 1 }));
        assert_eq!(parse_descr(">f4"), Some(Dtype { kind: 'f', size: 4 }));
        assert_eq!(parse_descr("<U5"), Some(Dtype { kind: 'U', size: 5 }));
        assert_eq!(parse_descr("O"), None);
    }

    #[test]
    fn numpy_shape_matches_numpy_repr() {
        assert_eq!(numpy_shape(&[3]), "(3,)");
        assert_eq!(numpy_shape(&[3, 4]), "(3, 4)");
        assert_eq!(numpy_shape(&[]), "()");
    }

    #[test]
    fn dtype_display_uses_numpy_names() {
        assert_eq!(Dtype { kind: 'f', size: 8 }.to_string(), "float64");
        assert_eq!(Dtype { kind: 'u', size: 2 }.to_string(), "uint16");
        assert_eq!(Dtype { kind: 'b', size: 1 }.to_string(), "bool");
    }
}
