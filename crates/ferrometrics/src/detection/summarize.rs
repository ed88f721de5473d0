//! The twelve COCO summary numbers and pycocotools' printed summary.

use std::fmt;

use ndarray::{ArrayView4, Axis};

use super::accumulate::Accumulation;
use super::params::Params;

/// Sums values as numpy's `add.reduce` does on a contiguous float64 array: pairwise, with an
/// 8-way unrolled base case of at most 128 values.
///
/// numpy's `mean` is this sum divided by the count, so reproducing the summation order is what
/// makes the summary numbers bit-identical to pycocotools'.
///
/// # Example
///
/// ```
/// use ferrometrics::detection::pairwise_sum;
///
/// let values: Vec<f64> = (0..1000).map(|i| 1.0 / f64::from(i + 1)).collect();
/// // numpy: np.sum(np.array([1 / (i + 1) for i in range(1000)])).hex() == '0x1.df11f45f4e61ap+2'
/// assert_eq!(pairwise_sum(&values), f64::from_bits(0x401d_f11f_45f4_e61a));
/// ```
pub fn pairwise_sum(values: &[f64]) -> f64 {
    let n = values.len();
    if n < 8 {
        let mut sum = 0.0;
        for &value in values {
            sum += value;
        }
        return sum;
    }
    if n <= 128 {
        let mut partial = [0.0; 8];
        partial.copy_from_slice(&values[..8]);
        let mut i = 8;
        while i < n - n % 8 {
            for (lane, slot) in partial.iter_mut().enumerate() {
                *slot += values[i + lane];
            }
            i += 8;
        }
        let mut sum = ((partial[0] + partial[1]) + (partial[2] + partial[3]))
            + ((partial[4] + partial[5]) + (partial[6] + partial[7]));
        for &value in &values[i..] {
            sum += value;
        }
        return sum;
    }
    let mut half = n / 2;
    half -= half % 8;
    pairwise_sum(&values[..half]) + pairwise_sum(&values[half..])
}

/// Returns the mean of the values above -1, or -1 if there are none, as pycocotools'
/// `np.mean(s[s > -1])`. `values` must be in the C order of the sliced array.
pub(crate) fn mean_defined(values: impl Iterator<Item = f64>) -> f64 {
    let defined: Vec<f64> = values.filter(|&value| value > -1.0).collect();
    if defined.is_empty() {
        return -1.0;
    }
    // Adding the pairwise sum to numpy's initial 0.0 changes nothing, so it is left out.
    pairwise_sum(&defined) / defined.len() as f64
}

/// One summary line: what is averaged and over which slice.
#[derive(Debug, Clone, PartialEq)]
pub struct SummaryLine {
    /// `true` for average precision, `false` for average recall.
    pub precision: bool,
    /// The IoU threshold, or `None` for the mean over all thresholds.
    pub iou_threshold: Option<f64>,
    /// The area range label.
    pub area: &'static str,
    /// The max detection count.
    pub max_detections: usize,
    /// The value, -1 where undefined.
    pub value: f64,
}

/// The twelve COCO summary numbers with the parameters that produced them.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// map, map_50, map_75, map_small, map_medium, map_large, mar at each of the three max
    /// detections, mar_small, mar_medium, mar_large; -1 where undefined.
    pub stats: [f64; 12],
    /// The lines behind `stats`, in the same order.
    pub lines: Vec<SummaryLine>,
    first_iou: f64,
    last_iou: f64,
}

impl Accumulation {
    /// Computes the twelve summary numbers, as pycocotools' `summarize`.
    ///
    /// The mean AP uses the largest max detection. pycocotools looks for 100 there, so it
    /// reports -1 for the mean AP when 100 is not configured. Here the largest configured count
    /// is used instead, which gives the same value whenever 100 is the largest. The other lines
    /// use the third max detection, as pycocotools does, and the recall lines also the first and
    /// second. With fewer than three counts configured, where pycocotools fails with an
    /// `IndexError`, the largest count is used for the missing ones.
    pub fn summarize(&self) -> Summary {
        let params = &self.params;
        let count = params.max_detections.len();
        let largest = params.max_detections[count - 1];
        let nth = |i: usize| params.max_detections[i.min(count - 1)];

        let specs: [(bool, Option<f64>, &'static str, usize); 12] = [
            (true, None, "all", largest),
            (true, Some(0.5), "all", nth(2)),
            (true, Some(0.75), "all", nth(2)),
            (true, None, "small", nth(2)),
            (true, None, "medium", nth(2)),
            (true, None, "large", nth(2)),
            (false, None, "all", nth(0)),
            (false, None, "all", nth(1)),
            (false, None, "all", nth(2)),
            (false, None, "small", nth(2)),
            (false, None, "medium", nth(2)),
            (false, None, "large", nth(2)),
        ];

        let lines: Vec<SummaryLine> = specs
            .iter()
            .map(
                |&(precision, iou_threshold, area, max_detections)| SummaryLine {
                    precision,
                    iou_threshold,
                    area,
                    max_detections,
                    value: self.mean_at(precision, iou_threshold, area, max_detections),
                },
            )
            .collect();
        let mut stats = [0.0; 12];
        for (stat, line) in stats.iter_mut().zip(&lines) {
            *stat = line.value;
        }
        Summary {
            stats,
            lines,
            first_iou: params.iou_thresholds[0],
            last_iou: params.iou_thresholds[params.iou_thresholds.len() - 1],
        }
    }

    /// Returns the mean of the defined precision (or recall) values at one area range and max
    /// detection count, over every category, or over category position `category` alone.
    pub(crate) fn mean_over(
        &self,
        precision: bool,
        iou_threshold: Option<f64>,
        area: usize,
        max_detections: usize,
        category: Option<usize>,
    ) -> f64 {
        let thresholds = threshold_positions(&self.params, iou_threshold);
        let m = self
            .params
            .max_detections
            .iter()
            .position(|&count| count == max_detections);
        let Some(m) = m else {
            return -1.0;
        };
        let categories: Vec<usize> = match category {
            Some(k) => vec![k],
            // Each array's own category axis, which is `category_ids` unless a caller of
            // pycocotools' API cut the array.
            None if precision => (0..self.precision.shape()[2]).collect(),
            None => (0..self.recall.shape()[1]).collect(),
        };

        // C order of the slice: threshold, then recall threshold, then category.
        let mut values = Vec::new();
        for &t in &thresholds {
            if precision {
                let plane = self.precision.index_axis(Axis(0), t);
                for r in 0..self.params.rec_thresholds.len() {
                    for &k in &categories {
                        values.push(plane[[r, k, area, m]]);
                    }
                }
            } else {
                let recall: ArrayView4<'_, f64> = self.recall.view();
                for &k in &categories {
                    values.push(recall[[t, k, area, m]]);
                }
            }
        }
        mean_defined(values.into_iter())
    }

    fn mean_at(
        &self,
        precision: bool,
        iou_threshold: Option<f64>,
        area: &str,
        max_detections: usize,
    ) -> f64 {
        // pycocotools selects every area range with this label; the labels are unique in
        // practice, and the first one is used here.
        match area_position(&self.params, area) {
            Some(a) => self.mean_over(precision, iou_threshold, a, max_detections, None),
            None => -1.0,
        }
    }
}

fn area_position(params: &Params, label: &str) -> Option<usize> {
    params
        .area_ranges
        .iter()
        .position(|range| range.label == label)
}

/// Returns the positions of the thresholds equal to `iou_threshold`, or all of them.
fn threshold_positions(params: &Params, iou_threshold: Option<f64>) -> Vec<usize> {
    match iou_threshold {
        None => (0..params.iou_thresholds.len()).collect(),
        Some(value) => params
            .iou_thresholds
            .iter()
            .enumerate()
            .filter(|&(_, &threshold)| threshold == value)
            .map(|(t, _)| t)
            .collect(),
    }
}

impl fmt::Display for Summary {
    /// Writes the summary in pycocotools' layout, one line per number.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for line in &self.lines {
            let (title, kind) = if line.precision {
                ("Average Precision", "(AP)")
            } else {
                ("Average Recall", "(AR)")
            };
            let iou = match line.iou_threshold {
                None => format!("{:.2}:{:.2}", self.first_iou, self.last_iou),
                Some(value) => format!("{value:.2}"),
            };
            writeln!(
                f,
                " {title:<18} {kind} @[ IoU={iou:<9} | area={:>6} | maxDets={:>3} ] = {:.3}",
                line.area, line.max_detections, line.value
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairwise_sum_matches_numpy() {
        // .venv/bin/python -c "import numpy as np;
        //   print(np.sum(np.array([1 / (i + 1) for i in range(1000)])).hex())"
        // gives 0x1.df11f45f4e61ap+2; a left-to-right sum gives 0x1.df11f45f4e618p+2.
        let values: Vec<f64> = (0..1000).map(|i| 1.0 / f64::from(i + 1)).collect();
        assert_eq!(pairwise_sum(&values), f64::from_bits(0x401d_f11f_45f4_e61a));
    }

    #[test]
    fn mean_defined_empty_is_minus_one() {
        assert_eq!(mean_defined([-1.0, -1.0].into_iter()), -1.0);
        assert_eq!(mean_defined([-1.0, 0.5, 0.0].into_iter()), 0.25);
    }
}
