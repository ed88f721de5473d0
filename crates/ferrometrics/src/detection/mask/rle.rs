//! Run-length encoded binary masks in COCO's layout, and the operations pycocotools' mask API
//! performs on them.
//!
//! A mask of height `h` and width `w` is read in column-major order (down the first column,
//! then the next) and stored as alternating run lengths of zeros and ones, starting with zeros.

use std::borrow::Borrow;

use ndarray::{Array2, ArrayView2};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A run-length encoded binary mask, as COCO stores it.
///
/// # Example
///
/// ```
/// use ferrometrics::detection::mask::Rle;
/// use ndarray::array;
///
/// let mask = array![[false, true], [true, true]];
/// let rle = Rle::encode(mask.view());
/// assert_eq!(rle.counts(), &[1, 3]);
/// assert_eq!(rle.area(), 3);
/// assert_eq!(rle.decode(), mask);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rle {
    height: u32,
    width: u32,
    counts: Vec<u32>,
}

impl Rle {
    /// Creates an RLE from run lengths, alternating zeros and ones and starting with zeros.
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidInput`] if the run lengths do not add up to `height * width`.
    pub fn new(height: u32, width: u32, counts: Vec<u32>) -> Result<Self> {
        let total: u64 = counts.iter().map(|&count| u64::from(count)).sum();
        let pixels = u64::from(height) * u64::from(width);
        if total != pixels {
            return Err(Error::invalid_input(
                "counts",
                format!(
                    "the run lengths add up to {total} pixels but the mask size \
                     [{height}, {width}] has {pixels}"
                ),
            ));
        }
        Ok(Self {
            height,
            width,
            counts,
        })
    }

    /// Creates an RLE without checking that the runs cover the mask, as pycocotools accepts
    /// any run lengths.
    pub(crate) fn from_parts(height: u32, width: u32, counts: Vec<u32>) -> Self {
        Self {
            height,
            width,
            counts,
        }
    }

    /// Encodes a `height x width` boolean mask.
    pub fn encode(mask: ArrayView2<'_, bool>) -> Self {
        let (height, width) = mask.dim();
        let mut counts = Vec::new();
        let mut current = false;
        let mut run = 0u32;
        for x in 0..width {
            for y in 0..height {
                let value = mask[[y, x]];
                if value != current {
                    counts.push(run);
                    run = 0;
                    current = value;
                }
                run += 1;
            }
        }
        counts.push(run);
        Self::from_parts(height as u32, width as u32, counts)
    }

    /// Decodes the mask into a `height x width` boolean array.
    pub fn decode(&self) -> Array2<bool> {
        let (height, width) = (self.height as usize, self.width as usize);
        let mut column_major = Vec::with_capacity(height * width);
        let mut value = false;
        for &count in &self.counts {
            column_major.extend(std::iter::repeat_n(value, count as usize));
            value = !value;
        }
        column_major.resize(height * width, false);

        let transposed = Array2::from_shape_vec((width, height), column_major)
            .expect("the buffer has width * height elements");
        transposed.reversed_axes().as_standard_layout().into_owned()
    }

    /// Returns the mask height.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// Returns the mask width.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Returns the run lengths.
    pub fn counts(&self) -> &[u32] {
        &self.counts
    }

    /// Returns the number of pixels set, the sum of the odd-indexed runs.
    pub fn area(&self) -> u64 {
        self.counts
            .iter()
            .skip(1)
            .step_by(2)
            .map(|&count| u64::from(count))
            .sum()
    }

    /// Returns the tight bounding box `[x, y, width, height]` of the set pixels, `[0, 0, 0, 0]`
    /// for an empty mask.
    ///
    /// As pycocotools' `toBbox`, a run of ones that wraps from one column into the next spans the
    /// full height.
    pub fn to_bbox(&self) -> [f64; 4] {
        let height = u64::from(self.height);
        let runs = self.counts.len() / 2 * 2;
        if runs == 0 || height == 0 {
            return [0.0; 4];
        }

        let (mut x_min, mut y_min) = (u64::from(self.width), height);
        let (mut x_max, mut y_max) = (0u64, 0u64);
        let mut position = 0u64;
        let mut run_start_x = 0u64;
        for (index, &count) in self.counts[..runs].iter().enumerate() {
            position += u64::from(count);
            // Even runs end where a run of ones starts, odd runs end one past its last pixel.
            let pixel = position.wrapping_sub((index % 2) as u64);
            let y = pixel % height;
            let x = (pixel - y) / height;
            if index % 2 == 0 {
                run_start_x = x;
            } else if run_start_x < x {
                y_min = 0;
                y_max = height - 1;
            }
            x_min = x_min.min(x);
            x_max = x_max.max(x);
            y_min = y_min.min(y);
            y_max = y_max.max(y);
        }
        [
            x_min as f64,
            y_min as f64,
            (x_max + 1).wrapping_sub(x_min) as f64,
            (y_max + 1).wrapping_sub(y_min) as f64,
        ]
    }

    /// Encodes the run lengths as COCO's compressed string.
    ///
    /// Each run is written in 5-bit groups, least significant first, one character per group
    /// (`'0' + group`, with bit 5 set while more groups follow). From the fourth run on, the
    /// difference to the run two places earlier is written instead of the run itself.
    pub fn to_compressed(&self) -> String {
        let mut text = String::with_capacity(self.counts.len() * 2);
        for (index, &count) in self.counts.iter().enumerate() {
            let mut value = i64::from(count);
            if index > 2 {
                value -= i64::from(self.counts[index - 2]);
            }
            loop {
                let mut group = (value & 0x1f) as u8;
                value >>= 5;
                let more = if group & 0x10 != 0 {
                    value != -1
                } else {
                    value != 0
                };
                if more {
                    group |= 0x20;
                }
                text.push(char::from(group + 48));
                if !more {
                    break;
                }
            }
        }
        text
    }

    /// Decodes COCO's compressed string for a mask of the given size.
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidInput`] if a character lies outside `'0'..='o'`, the string ends
    /// inside a run, a run is negative or too long, or the runs do not cover the mask.
    pub fn from_compressed(height: u32, width: u32, text: &str) -> Result<Self> {
        let bytes = text.as_bytes();
        let mut counts: Vec<u32> = Vec::with_capacity(bytes.len());
        let mut position = 0;
        while position < bytes.len() {
            let mut value = 0i64;
            let mut shift = 0u32;
            loop {
                let Some(&byte) = bytes.get(position) else {
                    return Err(compressed_error(text, "it ends inside a run"));
                };
                if !(48..48 + 64).contains(&byte) {
                    return Err(compressed_error(
                        text,
                        &format!(
                            "character {:?} at byte {position} is not in '0'..='o'",
                            byte
                        ),
                    ));
                }
                if shift > 30 {
                    return Err(compressed_error(text, "a run needs more than 32 bits"));
                }
                let group = i64::from(byte - 48);
                value |= (group & 0x1f) << shift;
                position += 1;
                shift += 5;
                if group & 0x20 == 0 {
                    if group & 0x10 != 0 {
                        value |= -1i64 << shift;
                    }
                    break;
                }
            }
            if counts.len() > 2 {
                value += i64::from(counts[counts.len() - 2]);
            }
            let count = u32::try_from(value).map_err(|_| {
                compressed_error(text, &format!("run {} decodes to {value}", counts.len()))
            })?;
            counts.push(count);
        }
        Self::new(height, width, counts)
    }
}

fn compressed_error(text: &str, problem: &str) -> Error {
    let prefix: String = text.chars().take(40).collect();
    Error::invalid_input(
        "counts",
        format!("compressed RLE {prefix:?} is invalid because {problem}"),
    )
}

/// Merges masks of one size into their union (`intersect == false`) or intersection, as
/// pycocotools' `merge`.
///
/// # Errors
///
/// Returns [`Error::InvalidInput`] if `masks` is empty or the masks differ in size.
pub fn merge(masks: &[Rle], intersect: bool) -> Result<Rle> {
    let Some(first) = masks.first() else {
        return Err(Error::invalid_input(
            "masks",
            "there is nothing to merge; pass at least one mask",
        ));
    };
    let mut merged = first.clone();
    for other in &masks[1..] {
        if (other.height, other.width) != (merged.height, merged.width) {
            return Err(Error::invalid_input(
                "masks",
                format!(
                    "cannot merge a [{}, {}] mask with a [{}, {}] mask",
                    merged.height, merged.width, other.height, other.width
                ),
            ));
        }
        merged.counts = merge_pair(&merged.counts, &other.counts, intersect);
    }
    Ok(merged)
}

/// Walks both run sequences in step and emits a run each time the combined value changes.
fn merge_pair(left: &[u32], right: &[u32], intersect: bool) -> Vec<u32> {
    let mut counts = Vec::with_capacity(left.len() + right.len());
    let (mut left_run, mut right_run) = (first_run(left), first_run(right));
    let (mut left_value, mut right_value, mut value) = (false, false, false);
    let (mut left_index, mut right_index) = (1, 1);
    let mut run = 0u32;
    loop {
        let step = left_run.min(right_run);
        run += step;

        left_run -= step;
        if left_run == 0 && left_index < left.len() {
            left_run = left[left_index];
            left_index += 1;
            left_value = !left_value;
        }
        right_run -= step;
        if right_run == 0 && right_index < right.len() {
            right_run = right[right_index];
            right_index += 1;
            right_value = !right_value;
        }
        let remaining = u64::from(left_run) + u64::from(right_run);

        let previous = value;
        value = if intersect {
            left_value && right_value
        } else {
            left_value || right_value
        };
        if value != previous || remaining == 0 {
            counts.push(run);
            run = 0;
        }
        if remaining == 0 {
            return counts;
        }
    }
}

fn first_run(counts: &[u32]) -> u32 {
    counts.first().copied().unwrap_or(0)
}

/// Computes the IoU of every detection mask (rows) with every ground-truth mask (columns), as
/// pycocotools' `iou` on RLEs.
///
/// For a crowd ground truth the union is the detection's area alone. Pairs whose bounding boxes
/// do not overlap get 0 without a pixel walk, and pairs of different mask sizes whose boxes
/// overlap get -1, both as pycocotools.
pub fn mask_iou<R: Borrow<Rle>>(
    detections: &[R],
    ground_truths: &[R],
    is_crowd: &[bool],
) -> Array2<f64> {
    let detection_boxes: Vec<[f64; 4]> = detections.iter().map(|m| m.borrow().to_bbox()).collect();
    let truth_boxes: Vec<[f64; 4]> = ground_truths.iter().map(|m| m.borrow().to_bbox()).collect();
    let mut ious = crate::detection::iou::box_iou(&detection_boxes, &truth_boxes, is_crowd);

    for (d, detection) in detections.iter().enumerate() {
        let detection = detection.borrow();
        for (g, truth) in ground_truths.iter().enumerate() {
            let truth = truth.borrow();
            if ious[[d, g]] <= 0.0 {
                continue;
            }
            if (detection.height, detection.width) != (truth.height, truth.width) {
                ious[[d, g]] = -1.0;
                continue;
            }
            let crowd = is_crowd.get(g).copied().unwrap_or(false);
            ious[[d, g]] = pixel_iou(&detection.counts, &truth.counts, crowd);
        }
    }
    ious
}

/// Counts the intersection and union of two masks of one size by walking their runs.
fn pixel_iou(detection: &[u32], truth: &[u32], crowd: bool) -> f64 {
    let (mut detection_run, mut truth_run) = (first_run(detection), first_run(truth));
    let (mut detection_value, mut truth_value) = (false, false);
    let (mut detection_index, mut truth_index) = (1, 1);
    let (mut intersection, mut union) = (0u64, 0u64);
    loop {
        let step = detection_run.min(truth_run);
        if detection_value || truth_value {
            union += u64::from(step);
            if detection_value && truth_value {
                intersection += u64::from(step);
            }
        }

        detection_run -= step;
        if detection_run == 0 && detection_index < detection.len() {
            detection_run = detection[detection_index];
            detection_index += 1;
            detection_value = !detection_value;
        }
        truth_run -= step;
        if truth_run == 0 && truth_index < truth.len() {
            truth_run = truth[truth_index];
            truth_index += 1;
            truth_value = !truth_value;
        }
        if detection_run == 0 && truth_run == 0 {
            break;
        }
    }

    if intersection == 0 {
        return 0.0;
    }
    if crowd {
        union = detection
            .iter()
            .skip(1)
            .step_by(2)
            .map(|&c| u64::from(c))
            .sum();
    }
    intersection as f64 / union as f64
}

#[cfg(test)]
mod tests {
    use ndarray::array;

    use super::*;

    #[test]
    fn encode_is_column_major() {
        let mask = array![[true, false, false], [true, true, false]];
        let rle = Rle::encode(mask.view());
        assert_eq!(rle.counts(), &[0, 2, 1, 1, 2]);
        assert_eq!(rle.decode(), mask);
    }

    #[test]
    fn compressed_round_trip() {
        // .venv/bin/python -c "import pycocotools.mask as m, numpy as np;
        //   a = np.zeros((10, 3), np.uint8, order='F'); a[5:, 0] = 1; a[:2, 1] = 1;
        //   print(m.encode(a))"  -> counts b'57b0'
        let rle = Rle::new(10, 3, vec![5, 7, 18]).unwrap();
        assert_eq!(rle.to_compressed(), "57b0");
        assert_eq!(Rle::from_compressed(10, 3, "57b0").unwrap(), rle);
    }

    #[test]
    fn compressed_negative_delta_round_trip() {
        let rle = Rle::new(100, 100, vec![40, 300, 9000, 10, 650]).unwrap();
        let text = rle.to_compressed();
        assert_eq!(Rle::from_compressed(100, 100, &text).unwrap(), rle);
    }

    #[test]
    fn compressed_rejects_bad_strings() {
        assert!(Rle::from_compressed(2, 2, "4\u{7f}").is_err());
        assert!(Rle::from_compressed(2, 2, "b").is_err());
        assert!(Rle::from_compressed(2, 2, "5").is_err());
        assert!(Rle::from_compressed(2, 2, "oooooooo0").is_err());
    }

    #[test]
    fn to_bbox_wrapping_run_spans_height() {
        // pycocotools' toBbox of the same mask: [0, 0, 2, 10].
        let rle = Rle::new(10, 3, vec![5, 7, 18]).unwrap();
        assert_eq!(rle.to_bbox(), [0.0, 0.0, 2.0, 10.0]);
    }

    #[test]
    fn merge_union_and_intersection() {
        let a = Rle::encode(array![[true, true], [false, false]].view());
        let b = Rle::encode(array![[true, false], [true, false]].view());
        let union = merge(&[a.clone(), b.clone()], false).unwrap();
        let intersection = merge(&[a, b], true).unwrap();
        assert_eq!(union.decode(), array![[true, true], [true, false]]);
        assert_eq!(intersection.decode(), array![[true, false], [false, false]]);
    }

    #[test]
    fn merge_rejects_size_mismatch() {
        let a = Rle::new(2, 2, vec![4]).unwrap();
        let b = Rle::new(2, 3, vec![6]).unwrap();
        assert!(merge(&[a, b], false).is_err());
        assert!(merge(&[], false).is_err());
    }

    #[test]
    fn mask_iou_crowd_uses_detection_area() {
        let detection = Rle::encode(array![[true, true], [false, false]].view());
        let truth = Rle::encode(array![[true, false], [true, false]].view());
        let ious = mask_iou(
            std::slice::from_ref(&detection),
            &[truth.clone(), truth],
            &[false, true],
        );
        assert_eq!(ious[[0, 0]], 1.0 / 3.0);
        assert_eq!(ious[[0, 1]], 0.5);
    }

    #[test]
    fn new_rejects_wrong_total() {
        assert!(Rle::new(2, 2, vec![1, 2]).is_err());
    }
}
