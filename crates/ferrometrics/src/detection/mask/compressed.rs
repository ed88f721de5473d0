//! Masks kept in COCO's compressed string form, and the mask IoU over either form.

use serde::{Deserialize, Serialize};

use super::rle::{check_run_total, decode_compressed, pixel_iou, MaskBounds};
use super::Rle;
use crate::detection::iou::box_iou_into;
use crate::error::Result;

/// A run-length encoded mask stored as COCO's compressed string, with its area and tight box
/// computed when it is created.
///
/// The string takes about one byte per run where decoded runs take four, so the masks of a
/// results file take about a quarter of the memory of decoded runs. The runs are decoded again
/// only where a mask IoU needs pixels, which is where the detection's box overlaps a
/// ground-truth box.
///
/// # Example
///
/// ```
/// use ferrometrics::detection::mask::CompressedRle;
///
/// let mask = CompressedRle::new(10, 3, "57b0")?;
/// assert_eq!(mask.area(), 7);
/// assert_eq!(mask.to_bbox(), [0.0, 0.0, 2.0, 10.0]);
/// assert_eq!(mask.to_rle()?.counts(), &[5, 7, 18]);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "CompressedParts", into = "CompressedParts")]
pub struct CompressedRle {
    height: u32,
    width: u32,
    /// The area (`u64`) and the box (four `f64`), little-endian, then the string's bytes. One
    /// allocation keeps the struct at 24 bytes, so [`Segmentation`](super::Segmentation) and
    /// every annotation stay as small as without this variant.
    data: Box<[u8]>,
}

/// The bytes before the string in [`CompressedRle::data`]: the area and the four box values.
const HEADER_BYTES: usize = 8 + 4 * 8;

/// The serialized form of a [`CompressedRle`], validated again when it is read back.
#[derive(Serialize, Deserialize)]
struct CompressedParts {
    height: u32,
    width: u32,
    counts: String,
}

impl TryFrom<CompressedParts> for CompressedRle {
    type Error = crate::Error;

    fn try_from(parts: CompressedParts) -> Result<Self> {
        Self::new(parts.height, parts.width, &parts.counts)
    }
}

impl From<CompressedRle> for CompressedParts {
    fn from(mask: CompressedRle) -> Self {
        Self {
            height: mask.height,
            width: mask.width,
            counts: mask.as_str().to_owned(),
        }
    }
}

impl CompressedRle {
    /// Checks COCO's compressed string for a `height x width` mask and computes its area and box.
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidInput`](crate::Error::InvalidInput) for the strings that
    /// [`Rle::from_compressed`] rejects, with the same messages.
    pub fn new(height: u32, width: u32, text: &str) -> Result<Self> {
        let mut total = 0u64;
        let mut area = 0u64;
        let mut bounds = MaskBounds::new(height, width);
        let mut zeros: Option<u32> = None;
        decode_compressed(text, |count| {
            total += u64::from(count);
            match zeros.take() {
                None => zeros = Some(count),
                Some(zeros) => {
                    area += u64::from(count);
                    bounds.push_pair(zeros, count);
                }
            }
        })?;
        check_run_total(height, width, total)?;

        let mut data = Vec::with_capacity(HEADER_BYTES + text.len());
        data.extend_from_slice(&area.to_le_bytes());
        for value in bounds.finish() {
            data.extend_from_slice(&value.to_le_bytes());
        }
        data.extend_from_slice(text.as_bytes());
        Ok(Self {
            height,
            width,
            data: data.into_boxed_slice(),
        })
    }

    fn header_value(&self, index: usize) -> [u8; 8] {
        let start = 8 * index;
        let mut bytes = [0; 8];
        bytes.copy_from_slice(&self.data[start..start + 8]);
        bytes
    }

    /// Returns the mask height.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// Returns the mask width.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Returns the compressed string.
    pub fn as_str(&self) -> &str {
        // `new` accepted only characters in '0'..='o', so the bytes are ASCII and the fallback
        // to "" is never taken.
        std::str::from_utf8(&self.data[HEADER_BYTES..]).unwrap_or_default()
    }

    /// Returns the number of pixels set, as [`Rle::area`].
    pub fn area(&self) -> u64 {
        u64::from_le_bytes(self.header_value(0))
    }

    /// Returns the tight bounding box `[x, y, width, height]`, as [`Rle::to_bbox`].
    pub fn to_bbox(&self) -> [f64; 4] {
        [1, 2, 3, 4].map(|index| f64::from_le_bytes(self.header_value(index)))
    }

    /// Decodes the runs into an [`Rle`].
    ///
    /// # Errors
    ///
    /// Never fails for a mask that [`CompressedRle::new`] accepted, because both check the
    /// string in the same way. The `Result` is that of [`Rle::from_compressed`].
    pub fn to_rle(&self) -> Result<Rle> {
        Rle::from_compressed(self.height, self.width, self.as_str())
    }

    /// Decodes the runs into `runs`, replacing its contents.
    fn decode_into(&self, runs: &mut Vec<u32>) {
        runs.clear();
        // `new` checked the string, so decoding cannot fail here.
        let decoded = decode_compressed(self.as_str(), |count| runs.push(count));
        debug_assert!(decoded.is_ok());
    }
}

/// A mask in either stored form, as the mask IoU reads it.
#[derive(Clone, Copy)]
pub(crate) enum MaskRef<'a> {
    Runs(&'a Rle),
    Compressed(&'a CompressedRle),
}

impl MaskRef<'_> {
    fn size(&self) -> (u32, u32) {
        match self {
            MaskRef::Runs(rle) => (rle.height(), rle.width()),
            MaskRef::Compressed(mask) => (mask.height, mask.width),
        }
    }

    fn bbox(&self) -> [f64; 4] {
        match self {
            MaskRef::Runs(rle) => rle.to_bbox(),
            MaskRef::Compressed(mask) => mask.to_bbox(),
        }
    }
}

/// Buffers that [`mask_iou_into`] reuses from one call to the next.
#[derive(Default)]
pub(crate) struct MaskScratch {
    detection_boxes: Vec<[f64; 4]>,
    truth_boxes: Vec<[f64; 4]>,
    detection_runs: Vec<u32>,
    truth_runs: Vec<Vec<u32>>,
    truth_needed: Vec<bool>,
}

/// Writes the IoU of every detection mask (rows) with every ground-truth mask (columns) into
/// `ious`, row-major, with the rules of [`mask_iou`](super::mask_iou).
///
/// A compressed mask is decoded only if its box overlaps a box of the other side with the same
/// mask size, since every other pair gets its value from the boxes alone.
pub(crate) fn mask_iou_into(
    detections: &[MaskRef<'_>],
    truths: &[MaskRef<'_>],
    is_crowd: &[bool],
    scratch: &mut MaskScratch,
    ious: &mut Vec<f64>,
) {
    scratch.detection_boxes.clear();
    scratch
        .detection_boxes
        .extend(detections.iter().map(MaskRef::bbox));
    scratch.truth_boxes.clear();
    scratch.truth_boxes.extend(truths.iter().map(MaskRef::bbox));
    box_iou_into(
        &scratch.detection_boxes,
        &scratch.truth_boxes,
        is_crowd,
        ious,
    );

    // Pairs whose boxes overlap but whose masks differ in size get -1, as pycocotools gives.
    let columns = truths.len();
    scratch.truth_needed.clear();
    scratch.truth_needed.resize(columns, false);
    for (d, detection) in detections.iter().enumerate() {
        for (g, truth) in truths.iter().enumerate() {
            let iou = &mut ious[d * columns + g];
            if *iou <= 0.0 {
                continue;
            }
            if detection.size() != truth.size() {
                *iou = -1.0;
            } else {
                scratch.truth_needed[g] = true;
            }
        }
    }

    if scratch.truth_runs.len() < columns {
        scratch.truth_runs.resize_with(columns, Vec::new);
    }
    for (g, truth) in truths.iter().enumerate() {
        if let (MaskRef::Compressed(mask), true) = (truth, scratch.truth_needed[g]) {
            mask.decode_into(&mut scratch.truth_runs[g]);
        }
    }
    let truth_runs: Vec<&[u32]> = truths
        .iter()
        .zip(&scratch.truth_runs)
        .map(|(truth, decoded)| match truth {
            MaskRef::Runs(rle) => rle.counts(),
            MaskRef::Compressed(_) => decoded.as_slice(),
        })
        .collect();

    for (d, detection) in detections.iter().enumerate() {
        let row = &mut ious[d * columns..(d + 1) * columns];
        if !row.iter().any(|&iou| iou > 0.0) {
            continue;
        }
        let detection_runs = match detection {
            MaskRef::Runs(rle) => rle.counts(),
            MaskRef::Compressed(mask) => {
                mask.decode_into(&mut scratch.detection_runs);
                scratch.detection_runs.as_slice()
            }
        };
        for (g, iou) in row.iter_mut().enumerate() {
            if *iou <= 0.0 {
                continue;
            }
            let crowd = is_crowd.get(g).copied().unwrap_or(false);
            *iou = pixel_iou(detection_runs, truth_runs[g], crowd);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compressed_matches_decoded_rle() {
        let rle = Rle::new(100, 100, vec![40, 300, 9000, 10, 650]).unwrap();
        let mask = CompressedRle::new(100, 100, &rle.to_compressed()).unwrap();
        assert_eq!(mask.area(), rle.area());
        assert_eq!(mask.to_bbox(), rle.to_bbox());
        assert_eq!(mask.to_rle().unwrap(), rle);
    }

    #[test]
    fn compressed_odd_run_count_box_ignores_last_run() {
        // Three runs: the trailing run of zeros has no pair, as in `toBbox`.
        let rle = Rle::new(10, 3, vec![5, 7, 18]).unwrap();
        let mask = CompressedRle::new(10, 3, "57b0").unwrap();
        assert_eq!(mask.to_bbox(), rle.to_bbox());
        assert_eq!(mask.area(), 7);
    }

    #[test]
    fn compressed_rejects_what_rle_rejects() {
        for (height, width, text) in [
            (2, 2, "4\u{7f}"),
            (2, 2, "b"),
            (2, 2, "5"),
            (2, 2, "oooooooo0"),
            (2, 2, "12"),
        ] {
            let expected = Rle::from_compressed(height, width, text)
                .unwrap_err()
                .to_string();
            let actual = CompressedRle::new(height, width, text)
                .unwrap_err()
                .to_string();
            assert_eq!(actual, expected, "{text:?}");
        }
    }

    #[test]
    fn compressed_empty_and_zero_height_masks() {
        let empty = CompressedRle::new(0, 0, "").unwrap();
        assert_eq!(empty.area(), 0);
        assert_eq!(empty.to_bbox(), [0.0; 4]);
        let blank = Rle::new(4, 5, vec![20]).unwrap();
        let mask = CompressedRle::new(4, 5, &blank.to_compressed()).unwrap();
        assert_eq!(mask.to_bbox(), [0.0; 4]);
        assert_eq!(mask.area(), 0);
    }

    #[test]
    fn compressed_variant_keeps_segmentation_size() {
        // Annotations of box results carry the segmentation field too, so a larger variant
        // would grow every annotation.
        assert_eq!(std::mem::size_of::<CompressedRle>(), 24);
        assert!(std::mem::size_of::<CompressedRle>() <= std::mem::size_of::<Rle>());
    }

    #[test]
    fn compressed_serde_round_trip_checks_string() {
        let mask = CompressedRle::new(10, 3, "57b0").unwrap();
        let json = serde_json::to_string(&mask).unwrap();
        assert_eq!(json, r#"{"height":10,"width":3,"counts":"57b0"}"#);
        let back: CompressedRle = serde_json::from_str(&json).unwrap();
        assert_eq!(back, mask);
        let bad = serde_json::from_str::<CompressedRle>(r#"{"height":2,"width":2,"counts":"5"}"#);
        assert!(bad.is_err());
    }

    #[test]
    fn mask_iou_into_mixed_forms_match_runs() {
        // Detections and truths of one size and one of another size, in both forms.
        let runs = [
            Rle::new(6, 5, vec![3, 9, 2, 4, 12]).unwrap(),
            Rle::new(6, 5, vec![0, 5, 13, 7, 5]).unwrap(),
            Rle::new(6, 5, vec![30]).unwrap(),
            Rle::new(5, 6, vec![2, 6, 22]).unwrap(),
        ];
        let compressed: Vec<CompressedRle> = runs
            .iter()
            .map(|rle| CompressedRle::new(rle.height(), rle.width(), &rle.to_compressed()).unwrap())
            .collect();
        let crowd = [false, true, false, false];
        let expected = super::super::mask_iou(&runs, &runs, &crowd);
        for (detections_compressed, truths_compressed) in
            [(false, true), (true, false), (true, true)]
        {
            let view = |compressed_form: bool| -> Vec<MaskRef<'_>> {
                if compressed_form {
                    compressed.iter().map(MaskRef::Compressed).collect()
                } else {
                    runs.iter().map(MaskRef::Runs).collect()
                }
            };
            let mut ious = Vec::new();
            mask_iou_into(
                &view(detections_compressed),
                &view(truths_compressed),
                &crowd,
                &mut MaskScratch::default(),
                &mut ious,
            );
            let expected: Vec<f64> = expected.iter().copied().collect();
            assert_eq!(ious, expected);
        }
        assert_eq!(expected[[0, 3]], -1.0);
        assert!(expected[[0, 1]] > 0.0);
    }
}
