//! The batch types of [`MeanAveragePrecision`](super::MeanAveragePrecision): per-image
//! predictions and targets, as TorchMetrics takes them.

use std::fmt;
use std::str::FromStr;

use ndarray::{ArrayView1, ArrayView2, ArrayView3, Axis};
use serde::{Deserialize, Serialize};

use super::mask::Rle;
use crate::error::{Error, Result};
use crate::metric::InputKind;

/// The layout of the boxes passed to the metric.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum BoxFormat {
    /// Corners `[x1, y1, x2, y2]`.
    #[default]
    Xyxy,
    /// Top-left corner and size `[x, y, width, height]`, COCO's layout.
    Xywh,
    /// Center and size `[cx, cy, width, height]`.
    Cxcywh,
}

impl BoxFormat {
    /// Converts a box to COCO's `[x, y, width, height]` with torchvision's `box_convert`
    /// arithmetic: center boxes go through corners first.
    pub fn to_xywh(self, bbox: [f64; 4]) -> [f64; 4] {
        match self {
            BoxFormat::Xywh => bbox,
            BoxFormat::Xyxy => [bbox[0], bbox[1], bbox[2] - bbox[0], bbox[3] - bbox[1]],
            BoxFormat::Cxcywh => {
                let x1 = bbox[0] - 0.5 * bbox[2];
                let y1 = bbox[1] - 0.5 * bbox[3];
                let x2 = bbox[0] + 0.5 * bbox[2];
                let y2 = bbox[1] + 0.5 * bbox[3];
                [x1, y1, x2 - x1, y2 - y1]
            }
        }
    }
}

impl FromStr for BoxFormat {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        match text {
            "xyxy" => Ok(BoxFormat::Xyxy),
            "xywh" => Ok(BoxFormat::Xywh),
            "cxcywh" => Ok(BoxFormat::Cxcywh),
            other => Err(Error::invalid_argument(
                "box_format",
                format!("{other:?} is not a box format; use \"xyxy\", \"xywh\" or \"cxcywh\""),
            )),
        }
    }
}

impl fmt::Display for BoxFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BoxFormat::Xyxy => "xyxy",
            BoxFormat::Xywh => "xywh",
            BoxFormat::Cxcywh => "cxcywh",
        })
    }
}

/// Instance masks of one image: a boolean array `(N, H, W)` or one RLE per instance.
#[derive(Debug, Clone)]
pub enum Masks<'a> {
    /// Dense boolean masks, shape `(N, height, width)`.
    Dense(ArrayView3<'a, bool>),
    /// Run-length encoded masks, one per instance.
    Rle(&'a [Rle]),
}

impl Masks<'_> {
    fn len(&self) -> usize {
        match self {
            Masks::Dense(masks) => masks.len_of(Axis(0)),
            Masks::Rle(masks) => masks.len(),
        }
    }

    pub(crate) fn to_rles(&self) -> Vec<Rle> {
        match self {
            Masks::Dense(masks) => masks.outer_iter().map(Rle::encode).collect(),
            Masks::Rle(masks) => masks.to_vec(),
        }
    }
}

/// The detections of one image.
#[derive(Debug, Clone)]
pub struct ImagePredictions<'a> {
    /// Boxes `(N, 4)` in the metric's box format; needed for bbox evaluation.
    pub boxes: Option<ArrayView2<'a, f64>>,
    /// Confidence scores, one per detection.
    pub scores: ArrayView1<'a, f64>,
    /// Class labels, one per detection.
    pub labels: ArrayView1<'a, i64>,
    /// Masks, one per detection; needed for segm evaluation.
    pub masks: Option<Masks<'a>>,
}

/// The ground truth of one image.
#[derive(Debug, Clone)]
pub struct ImageTargets<'a> {
    /// Boxes `(N, 4)` in the metric's box format; needed for bbox evaluation.
    pub boxes: Option<ArrayView2<'a, f64>>,
    /// Class labels, one per object.
    pub labels: ArrayView1<'a, i64>,
    /// Crowd flags, one per object; all `false` when absent.
    pub iscrowd: Option<ArrayView1<'a, bool>>,
    /// Object areas used for the area ranges; a missing or non-positive area is replaced by the
    /// mask area (segm) or the box area.
    pub area: Option<ArrayView1<'a, f64>>,
    /// Masks, one per object; needed for segm evaluation.
    pub masks: Option<Masks<'a>>,
}

/// A batch of images for object detection metrics: `(predictions, targets)`, one entry per
/// image in each.
#[derive(Debug, Clone, Copy)]
pub struct DetectionBatch;

impl InputKind for DetectionBatch {
    type Input<'a> = (&'a [ImagePredictions<'a>], &'a [ImageTargets<'a>]);
}

/// The objects of one image after validation: boxes in `[x, y, width, height]`, areas, masks.
pub(crate) struct ImageObjects {
    pub boxes: Vec<[f64; 4]>,
    pub labels: Vec<i64>,
    pub scores: Vec<f64>,
    pub crowd: Vec<bool>,
    pub areas: Vec<f64>,
    pub masks: Vec<Rle>,
}

/// The parts of the input that the configuration needs.
#[derive(Clone, Copy)]
pub(crate) struct Needs {
    pub boxes: bool,
    pub masks: bool,
    pub box_format: BoxFormat,
}

fn location(side: &str, image: usize, field: &str) -> String {
    format!("{side}[{image}].{field}")
}

fn check_length(
    side: &str,
    image: usize,
    field: &str,
    actual: usize,
    expected: usize,
) -> Result<()> {
    crate::check_same_length(
        &location(side, image, "labels"),
        expected,
        &location(side, image, field),
        actual,
    )
}

fn check_boxes(
    side: &str,
    image: usize,
    boxes: ArrayView2<'_, f64>,
    format: BoxFormat,
) -> Result<()> {
    if boxes.ncols() != 4 {
        return Err(Error::invalid_input(
            location(side, image, "boxes"),
            format!("shape {:?}; boxes must have shape (N, 4)", boxes.dim()),
        ));
    }
    for (row, bbox) in boxes.outer_iter().enumerate() {
        for &value in bbox {
            if !value.is_finite() {
                return Err(Error::NonFinite {
                    argument: location(side, image, "boxes"),
                    location: format!("row {row}"),
                    value,
                });
            }
        }
        let xywh = format.to_xywh([bbox[0], bbox[1], bbox[2], bbox[3]]);
        if xywh[2] < 0.0 || xywh[3] < 0.0 {
            return Err(Error::invalid_input(
                location(side, image, "boxes"),
                format!(
                    "row {row} is {:?}, which has a negative width or height in {format} format",
                    bbox.to_vec()
                ),
            ));
        }
    }
    Ok(())
}

fn check_masks(side: &str, image: usize, masks: &Option<Masks<'_>>, count: usize) -> Result<()> {
    let Some(masks) = masks else {
        return Err(Error::invalid_input(
            location(side, image, "masks"),
            "missing; segm evaluation needs one mask per instance",
        ));
    };
    check_length(side, image, "masks", masks.len(), count)?;
    if let Masks::Rle(rles) = masks {
        for (index, rle) in rles.iter().enumerate() {
            let pixels = u64::from(rle.height()) * u64::from(rle.width());
            let covered: u64 = rle.counts().iter().map(|&c| u64::from(c)).sum();
            if pixels != covered {
                return Err(Error::invalid_input(
                    location(side, image, "masks"),
                    format!(
                        "mask {index} has runs covering {covered} pixels but size \
                         [{}, {}]",
                        rle.height(),
                        rle.width()
                    ),
                ));
            }
        }
    }
    Ok(())
}

impl ImagePredictions<'_> {
    pub(crate) fn validate(&self, image: usize, needs: Needs) -> Result<()> {
        let count = self.labels.len();
        check_length("preds", image, "scores", self.scores.len(), count)?;
        for (index, &score) in self.scores.iter().enumerate() {
            if !score.is_finite() {
                return Err(Error::NonFinite {
                    argument: location("preds", image, "scores"),
                    location: format!("index {index}"),
                    value: score,
                });
            }
        }
        if needs.boxes {
            let Some(boxes) = self.boxes else {
                return Err(Error::invalid_input(
                    location("preds", image, "boxes"),
                    "missing; bbox evaluation needs one box per detection",
                ));
            };
            check_boxes("preds", image, boxes, needs.box_format)?;
            check_length("preds", image, "boxes", boxes.nrows(), count)?;
        }
        if needs.masks {
            check_masks("preds", image, &self.masks, count)?;
        }
        Ok(())
    }

    pub(crate) fn objects(&self, needs: Needs) -> ImageObjects {
        let count = self.labels.len();
        let (boxes, masks) = shapes(self.boxes, &self.masks, needs, count);
        let areas = default_areas(&boxes, &masks, needs, None);
        ImageObjects {
            boxes,
            labels: self.labels.to_vec(),
            scores: self.scores.to_vec(),
            crowd: vec![false; count],
            areas,
            masks,
        }
    }
}

impl ImageTargets<'_> {
    pub(crate) fn validate(&self, image: usize, needs: Needs) -> Result<()> {
        let count = self.labels.len();
        if let Some(iscrowd) = self.iscrowd {
            check_length("target", image, "iscrowd", iscrowd.len(), count)?;
        }
        if let Some(area) = self.area {
            check_length("target", image, "area", area.len(), count)?;
            for (index, &value) in area.iter().enumerate() {
                if !value.is_finite() {
                    return Err(Error::NonFinite {
                        argument: location("target", image, "area"),
                        location: format!("index {index}"),
                        value,
                    });
                }
            }
        }
        if needs.boxes {
            let Some(boxes) = self.boxes else {
                return Err(Error::invalid_input(
                    location("target", image, "boxes"),
                    "missing; bbox evaluation needs one box per object",
                ));
            };
            check_boxes("target", image, boxes, needs.box_format)?;
            check_length("target", image, "boxes", boxes.nrows(), count)?;
        }
        if needs.masks {
            check_masks("target", image, &self.masks, count)?;
        }
        Ok(())
    }

    pub(crate) fn objects(&self, needs: Needs) -> ImageObjects {
        let count = self.labels.len();
        let (boxes, masks) = shapes(self.boxes, &self.masks, needs, count);
        let areas = default_areas(&boxes, &masks, needs, self.area);
        ImageObjects {
            boxes,
            labels: self.labels.to_vec(),
            scores: vec![1.0; count],
            crowd: match self.iscrowd {
                Some(iscrowd) => iscrowd.to_vec(),
                None => vec![false; count],
            },
            areas,
            masks,
        }
    }
}

fn shapes(
    boxes: Option<ArrayView2<'_, f64>>,
    masks: &Option<Masks<'_>>,
    needs: Needs,
    count: usize,
) -> (Vec<[f64; 4]>, Vec<Rle>) {
    let boxes = match boxes {
        Some(boxes) if needs.boxes => boxes
            .outer_iter()
            .map(|b| needs.box_format.to_xywh([b[0], b[1], b[2], b[3]]))
            .collect(),
        _ => vec![[0.0; 4]; count],
    };
    let masks = match masks {
        Some(masks) if needs.masks => masks.to_rles(),
        _ => Vec::new(),
    };
    (boxes, masks)
}

/// Areas as TorchMetrics computes them: the given area where positive, else the mask area when
/// masks are evaluated, else the box area.
fn default_areas(
    boxes: &[[f64; 4]],
    masks: &[Rle],
    needs: Needs,
    given_areas: Option<ArrayView1<'_, f64>>,
) -> Vec<f64> {
    (0..boxes.len())
        .map(|i| match given_areas {
            Some(area) if area[i] > 0.0 => area[i],
            _ if needs.masks => masks[i].area() as f64,
            _ => boxes[i][2] * boxes[i][3],
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn box_format_conversions() {
        assert_eq!(
            BoxFormat::Xyxy.to_xywh([1.0, 2.0, 4.0, 6.0]),
            [1.0, 2.0, 3.0, 4.0]
        );
        assert_eq!(
            BoxFormat::Xywh.to_xywh([1.0, 2.0, 3.0, 4.0]),
            [1.0, 2.0, 3.0, 4.0]
        );
        assert_eq!(
            BoxFormat::Cxcywh.to_xywh([2.5, 4.0, 3.0, 4.0]),
            [1.0, 2.0, 3.0, 4.0]
        );
    }

    #[test]
    fn box_format_parses_names() {
        assert_eq!("cxcywh".parse::<BoxFormat>().unwrap(), BoxFormat::Cxcywh);
        assert!("yxyx".parse::<BoxFormat>().is_err());
        assert_eq!(BoxFormat::Xywh.to_string(), "xywh");
    }
}
