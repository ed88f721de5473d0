//! Evaluation parameters: IoU thresholds, recall thresholds, max detections and area ranges.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Returns `num` evenly spaced values from `start` to `stop` inclusive, computed as numpy's
/// `np.linspace(start, stop, num)` computes them in float64.
///
/// numpy computes `step = (stop - start) / (num - 1)`, then `i * step + start`, and sets the last
/// value to `stop` exactly. Thresholds built any other way differ from pycocotools' in the last
/// bit, which changes which IoU values pass them.
///
/// # Example
///
/// ```
/// use ferrometrics::detection::linspace;
///
/// let thresholds = linspace(0.5, 0.95, 10);
/// assert_eq!(thresholds[8], 0.8999999999999999);
/// assert_eq!(thresholds[9], 0.95);
/// ```
pub fn linspace(start: f64, stop: f64, num: usize) -> Vec<f64> {
    if num == 0 {
        return Vec::new();
    }
    if num == 1 {
        return vec![start];
    }

    let step = (stop - start) / (num - 1) as f64;
    let mut values: Vec<f64> = (0..num).map(|i| i as f64 * step + start).collect();
    values[num - 1] = stop;
    values
}

/// An area range `[min, max]` (in pixels, inclusive at both ends) with its label.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AreaRange {
    /// The label used in outputs, such as `"small"`.
    pub label: String,
    /// The smallest area inside the range.
    pub min: f64,
    /// The largest area inside the range.
    pub max: f64,
}

impl AreaRange {
    /// Creates an area range.
    pub fn new(label: impl Into<String>, min: f64, max: f64) -> Self {
        Self {
            label: label.into(),
            min,
            max,
        }
    }

    /// Returns `true` if `area` lies outside the range, the test pycocotools applies.
    pub(crate) fn excludes(&self, area: f64) -> bool {
        area < self.min || area > self.max
    }
}

/// The parameters of a COCO evaluation, with pycocotools' defaults.
///
/// # Example
///
/// ```
/// use ferrometrics::detection::Params;
///
/// let params = Params::default();
/// assert_eq!(params.iou_thresholds.len(), 10);
/// assert_eq!(params.rec_thresholds.len(), 101);
/// assert_eq!(params.max_detections, vec![1, 10, 100]);
/// assert_eq!(params.area_ranges[1].label, "small");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Params {
    /// IoU thresholds at which a detection matches a ground-truth object.
    pub iou_thresholds: Vec<f64>,
    /// Recall thresholds at which precision is sampled.
    pub rec_thresholds: Vec<f64>,
    /// Max detections per image and category, sorted ascending.
    pub max_detections: Vec<usize>,
    /// Area ranges; the first one is the range over which the headline values are reported.
    pub area_ranges: Vec<AreaRange>,
    /// Whether detections only match ground truth of their own category. When `false`, every
    /// category of an image is pooled into one.
    pub use_categories: bool,
}

impl Default for Params {
    fn default() -> Self {
        Self {
            iou_thresholds: default_iou_thresholds(),
            rec_thresholds: default_rec_thresholds(),
            max_detections: vec![1, 10, 100],
            area_ranges: default_area_ranges(),
            use_categories: true,
        }
    }
}

/// Returns pycocotools' IoU thresholds 0.50, 0.55, ..., 0.95 (`np.linspace(.5, 0.95, 10)`).
pub fn default_iou_thresholds() -> Vec<f64> {
    linspace(0.5, 0.95, 10)
}

/// Returns pycocotools' recall thresholds 0.00, 0.01, ..., 1.00 (`np.linspace(0, 1, 101)`).
pub fn default_rec_thresholds() -> Vec<f64> {
    linspace(0.0, 1.0, 101)
}

/// Returns pycocotools' area ranges: all, small (below 32²), medium (32² to 96²) and large.
pub fn default_area_ranges() -> Vec<AreaRange> {
    vec![
        AreaRange::new("all", 0.0, 1e10),
        AreaRange::new("small", 0.0, 32.0 * 32.0),
        AreaRange::new("medium", 32.0 * 32.0, 96.0 * 96.0),
        AreaRange::new("large", 96.0 * 96.0, 1e10),
    ]
}

impl Params {
    /// Checks the parameters and sorts the max detections ascending, as pycocotools does before
    /// it evaluates.
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidArgument`] if a list is empty, a threshold is not finite or lies
    /// outside `[0, 1]`, a max detection is zero, or an area range has `min > max` or a NaN.
    pub fn validate(&mut self) -> Result<()> {
        check_thresholds("iou_thresholds", &self.iou_thresholds)?;
        check_thresholds("rec_thresholds", &self.rec_thresholds)?;

        if self.max_detections.is_empty() {
            return Err(Error::invalid_argument(
                "max_detection_thresholds",
                "the list is empty; pass at least one positive count such as [1, 10, 100]",
            ));
        }
        if self.max_detections.contains(&0) {
            return Err(Error::invalid_argument(
                "max_detection_thresholds",
                format!(
                    "{:?} contains 0; every max detection count must be positive",
                    self.max_detections
                ),
            ));
        }
        self.max_detections.sort_unstable();

        if self.area_ranges.is_empty() {
            return Err(Error::invalid_argument(
                "area_ranges",
                "the list is empty; pass at least the range over all areas",
            ));
        }
        for range in &self.area_ranges {
            if range.min.is_nan() || range.max.is_nan() || range.min > range.max {
                return Err(Error::invalid_argument(
                    "area_ranges",
                    format!(
                        "range {:?} is [{}, {}]; bounds must be numbers with min <= max",
                        range.label, range.min, range.max
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Returns the largest max detection count.
    pub fn max_detection(&self) -> usize {
        self.max_detections.iter().copied().max().unwrap_or(0)
    }
}

fn check_thresholds(argument: &str, thresholds: &[f64]) -> Result<()> {
    if thresholds.is_empty() {
        return Err(Error::invalid_argument(
            argument,
            "the list is empty; pass at least one threshold in [0, 1]",
        ));
    }
    for (index, &threshold) in thresholds.iter().enumerate() {
        if !(0.0..=1.0).contains(&threshold) {
            return Err(Error::invalid_argument(
                argument,
                format!("value {threshold} at index {index} is outside [0, 1]"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linspace_matches_numpy_bits() {
        // .venv/bin/python -c "import numpy as np; print(np.linspace(.5, .95, 10).tolist())"
        let expected = [
            0.5,
            0.55,
            0.6,
            0.65,
            0.7,
            0.75,
            0.8,
            0.85,
            0.8999999999999999,
            0.95,
        ];
        assert_eq!(linspace(0.5, 0.95, 10), expected);
    }

    #[test]
    fn linspace_short_lengths() {
        assert!(linspace(0.0, 1.0, 0).is_empty());
        assert_eq!(linspace(0.3, 1.0, 1), vec![0.3]);
    }

    #[test]
    fn validate_sorts_max_detections() {
        let mut params = Params {
            max_detections: vec![100, 1, 10],
            ..Params::default()
        };
        params.validate().unwrap();
        assert_eq!(params.max_detections, vec![1, 10, 100]);
    }

    #[test]
    fn validate_rejects_bad_lists() {
        let cases = [
            Params {
                iou_thresholds: vec![],
                ..Params::default()
            },
            Params {
                rec_thresholds: vec![0.5, 1.5],
                ..Params::default()
            },
            Params {
                iou_thresholds: vec![f64::NAN],
                ..Params::default()
            },
            Params {
                max_detections: vec![],
                ..Params::default()
            },
            Params {
                max_detections: vec![0, 10],
                ..Params::default()
            },
            Params {
                area_ranges: vec![],
                ..Params::default()
            },
            Params {
                area_ranges: vec![AreaRange::new("bad", 10.0, 1.0)],
                ..Params::default()
            },
        ];
        for mut params in cases {
            let error = params.clone().validate().unwrap_err();
            assert!(matches!(error, Error::InvalidArgument { .. }), "{params:?}");
            assert!(params.validate().is_err());
        }
    }
}
