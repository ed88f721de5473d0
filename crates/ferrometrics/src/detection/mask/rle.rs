//! Run-length encoded binary masks in COCO's layout, and the operations pycocotools' mask API
//! performs on them.
//!
//! A mask of height `h` and width `w` is read in column-major order (down the first column,
//! then the next) and stored as alternating run lengths of zeros and ones, starting with zeros.

use std::borrow::Borrow;

use ndarray::{Array2, ArrayView2};
use serde::{Deserialize, Serialize};

use super::compressed::{mask_iou_into, MaskRef, MaskScratch};
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
        check_run_total(height, width, total)?;
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
        let mut bounds = MaskBounds::new(self.height, self.width);
        for pair in self.counts.chunks_exact(2) {
            bounds.push_pair(pair[0], pair[1]);
        }
        bounds.finish()
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
        // Most runs take one or two characters, so the buffer is trimmed once the runs are known.
        let mut counts: Vec<u32> = Vec::with_capacity(text.len());
        decode_compressed(text, |count| counts.push(count))?;
        counts.shrink_to_fit();
        Self::new(height, width, counts)
    }
}

/// Checks that runs adding up to `total` pixels cover a `height x width` mask exactly.
pub(crate) fn check_run_total(height: u32, width: u32, total: u64) -> Result<()> {
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
    Ok(())
}

/// Decodes COCO's compressed string and passes each run length to `visit`, in order.
///
/// # Errors
///
/// Returns [`Error::InvalidInput`] if a character lies outside `'0'..='o'`, the string ends
/// inside a run, or a run is negative or needs more than 32 bits.
pub(crate) fn decode_compressed(text: &str, mut visit: impl FnMut(u32)) -> Result<()> {
    let bytes = text.as_bytes();
    // From the fourth run on, a run is stored as the difference to the run two places earlier.
    let (mut two_back, mut one_back) = (0u32, 0u32);
    let mut index = 0usize;
    let mut position = 0;
    while position < bytes.len() {
        let first = bytes[position];
        let value = if (48..80).contains(&first) {
            // A character in '0'..'P' has bit 5 clear, so it is a whole run of one 5-bit group,
            // the case of most runs.
            position += 1;
            let group = i64::from(first - 48);
            if group & 0x10 != 0 {
                group | (-1i64 << 5)
            } else {
                group
            }
        } else {
            decode_long_run(text, &mut position)?
        };
        let value = if index > 2 {
            value + i64::from(two_back)
        } else {
            value
        };
        let count = u32::try_from(value)
            .map_err(|_| compressed_error(text, &format!("run {index} decodes to {value}")))?;
        visit(count);
        two_back = one_back;
        one_back = count;
        index += 1;
    }
    Ok(())
}

/// Decodes one run of several 5-bit groups starting at `position`, and moves `position` past it.
fn decode_long_run(text: &str, position: &mut usize) -> Result<i64> {
    let bytes = text.as_bytes();
    let mut value = 0i64;
    let mut shift = 0u32;
    loop {
        let Some(&byte) = bytes.get(*position) else {
            return Err(compressed_error(text, "it ends inside a run"));
        };
        if !(48..48 + 64).contains(&byte) {
            // Every byte before `position` is ASCII, so `position` starts a character.
            let character = text[*position..].chars().next().unwrap_or('\u{fffd}');
            return Err(compressed_error(
                text,
                &format!(
                    "character {character:?} (U+{:04X}) at byte {} is not in '0'..='o'",
                    u32::from(character),
                    *position
                ),
            ));
        }
        if shift > 30 {
            return Err(compressed_error(text, "a run needs more than 32 bits"));
        }
        let group = i64::from(byte - 48);
        value |= (group & 0x1f) << shift;
        *position += 1;
        shift += 5;
        if group & 0x20 == 0 {
            if group & 0x10 != 0 {
                value |= -1i64 << shift;
            }
            return Ok(value);
        }
    }
}

/// The tight box of a mask, built from its runs in pairs (a run of zeros, then a run of ones),
/// with the rules of pycocotools' `toBbox`.
///
/// A trailing run of zeros without its pair is never pushed, as `toBbox` reads only whole pairs.
pub(crate) struct MaskBounds {
    height: u64,
    x_min: u64,
    y_min: u64,
    x_max: u64,
    y_max: u64,
    /// The pixel position reached so far, as column `x` and row `y`.
    x: u64,
    y: u64,
    pairs: u64,
}

impl MaskBounds {
    pub(crate) fn new(height: u32, width: u32) -> Self {
        let height = u64::from(height);
        Self {
            height,
            x_min: u64::from(width),
            y_min: height,
            x_max: 0,
            y_max: 0,
            x: 0,
            y: 0,
            pairs: 0,
        }
    }

    /// Adds a run of zeros followed by a run of ones.
    pub(crate) fn push_pair(&mut self, zeros: u32, ones: u32) {
        self.pairs += 1;
        let height = self.height;
        if height == 0 {
            return;
        }

        // The run of zeros ends at the first pixel of the run of ones.
        self.advance(zeros);
        let (start_x, start_y) = (self.x, self.y);
        self.include(start_x, start_y);

        // The run of ones ends one pixel before the position after it.
        self.advance(ones);
        let (end_x, end_y) = if self.y > 0 {
            (self.x, self.y - 1)
        } else if self.x > 0 {
            (self.x - 1, height - 1)
        } else {
            // Position 0, where `toBbox`'s unsigned arithmetic wraps around.
            let pixel = u64::MAX;
            ((pixel - pixel % height) / height, pixel % height)
        };
        if start_x < end_x {
            // A run of ones that wraps into the next column spans the full height.
            self.y_min = 0;
            self.y_max = height - 1;
        }
        self.include(end_x, end_y);
    }

    /// Moves the position forward by `count` pixels, dividing only when it leaves the column.
    fn advance(&mut self, count: u32) {
        self.y += u64::from(count);
        if self.y >= self.height {
            self.x += self.y / self.height;
            self.y %= self.height;
        }
    }

    fn include(&mut self, x: u64, y: u64) {
        self.x_min = self.x_min.min(x);
        self.x_max = self.x_max.max(x);
        self.y_min = self.y_min.min(y);
        self.y_max = self.y_max.max(y);
    }

    /// Returns `[x, y, width, height]`, or `[0, 0, 0, 0]` for a mask without pairs or of
    /// height 0.
    pub(crate) fn finish(&self) -> [f64; 4] {
        if self.pairs == 0 || self.height == 0 {
            return [0.0; 4];
        }
        [
            self.x_min as f64,
            self.y_min as f64,
            (self.x_max + 1).wrapping_sub(self.x_min) as f64,
            (self.y_max + 1).wrapping_sub(self.y_min) as f64,
        ]
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
    let detection_masks: Vec<MaskRef<'_>> = detections
        .iter()
        .map(|m| MaskRef::Runs(m.borrow()))
        .collect();
    let truth_masks: Vec<MaskRef<'_>> = ground_truths
        .iter()
        .map(|m| MaskRef::Runs(m.borrow()))
        .collect();
    let mut ious = Vec::new();
    mask_iou_into(
        &detection_masks,
        &truth_masks,
        is_crowd,
        &mut MaskScratch::default(),
        &mut ious,
    );
    Array2::from_shape_vec((detections.len(), ground_truths.len()), ious)
        .expect("one IoU per detection and ground-truth pair")
}

/// Counts the intersection and union of two masks of one size by walking their runs.
pub(crate) fn pixel_iou(detection: &[u32], truth: &[u32], crowd: bool) -> f64 {
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
    fn compressed_error_names_non_ascii_character() {
        let error = Rle::from_compressed(2, 2, "4\u{e9}")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("character '\u{e9}' (U+00E9) at byte 1"),
            "{error}"
        );
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
