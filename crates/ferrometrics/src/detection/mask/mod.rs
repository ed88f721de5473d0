//! Binary masks for segmentation evaluation: COCO's run-length encoding, its compressed string
//! form, and polygon rasterization, each bit-exact with pycocotools' mask API.

mod compressed;
mod polygon;
mod rle;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

pub use compressed::CompressedRle;
pub(crate) use compressed::{mask_iou_into, MaskRef, MaskScratch};
pub use polygon::{box_to_rle, polygon_to_rle};
pub use rle::{mask_iou, merge, Rle};

/// A segmentation as COCO annotations store it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Segmentation {
    /// One or more polygons `[x0, y0, x1, y1, ...]`, rasterized at the image's size and merged.
    Polygons(Vec<Vec<f64>>),
    /// A run-length encoded mask given as a list of run lengths.
    Rle(Rle),
    /// A run-length encoded mask given as COCO's compressed string, kept in that form.
    Compressed(CompressedRle),
}

impl Segmentation {
    /// Returns the mask area and tight box `[x, y, width, height]` of [`Segmentation::to_rle`]'s
    /// mask, without decoding a compressed string or copying runs.
    ///
    /// # Errors
    ///
    /// Returns the errors of [`Segmentation::to_rle`].
    pub fn area_and_bbox(&self, height: u32, width: u32) -> Result<(u64, [f64; 4])> {
        match self {
            Segmentation::Rle(rle) => Ok((rle.area(), rle.to_bbox())),
            Segmentation::Compressed(mask) => Ok((mask.area(), mask.to_bbox())),
            Segmentation::Polygons(_) => {
                let rle = self.to_rle(height, width)?;
                Ok((rle.area(), rle.to_bbox()))
            }
        }
    }

    /// Converts the segmentation to one RLE, as pycocotools' `annToRLE`.
    ///
    /// Polygons are rasterized at `height x width` and merged into their union. As pycocotools'
    /// `frPyObjects` intends, a polygon list whose first entry has exactly four numbers is read as
    /// a list of boxes `[x, y, width, height]` (pycocotools 2.0.11 raises a `TypeError` there
    /// instead, because it passes the list where its box rasterizer expects an array).
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidInput`] if the polygon list is empty or its first polygon has
    /// fewer than four numbers, or a box entry does not have four.
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::detection::mask::Segmentation;
    ///
    /// let square = Segmentation::Polygons(vec![vec![0.0, 0.0, 0.0, 2.0, 2.0, 2.0, 2.0, 0.0]]);
    /// assert_eq!(square.to_rle(4, 4)?.area(), 4);
    /// # Ok::<(), ferrometrics::Error>(())
    /// ```
    pub fn to_rle(&self, height: u32, width: u32) -> Result<Rle> {
        let polygons = match self {
            Segmentation::Rle(rle) => return Ok(rle.clone()),
            Segmentation::Compressed(mask) => return mask.to_rle(),
            Segmentation::Polygons(polygons) => polygons,
        };
        let Some(first) = polygons.first() else {
            return Err(Error::invalid_input(
                "segmentation",
                "the polygon list is empty; pass at least one polygon or an RLE",
            ));
        };

        let masks = match first.len() {
            4 => polygons
                .iter()
                .map(|bbox| match <[f64; 4]>::try_from(bbox.as_slice()) {
                    Ok(bbox) => Ok(box_to_rle(bbox, height, width)),
                    Err(_) => Err(Error::invalid_input(
                        "segmentation",
                        format!(
                            "the first entry has 4 numbers, so every entry is read as a box \
                             [x, y, width, height], but one has {}",
                            bbox.len()
                        ),
                    )),
                })
                .collect::<Result<Vec<_>>>()?,
            n if n > 4 => polygons
                .iter()
                .map(|polygon| polygon_to_rle(polygon, height, width))
                .collect(),
            n => {
                return Err(Error::invalid_input(
                    "segmentation",
                    format!(
                        "the first polygon has {n} numbers; a polygon needs at least 3 points \
                         (6 numbers)"
                    ),
                ))
            }
        };
        merge(&masks, false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn to_rle_rejects_bad_polygon_lists() {
        let cases = [
            (Segmentation::Polygons(vec![]), "empty"),
            (
                Segmentation::Polygons(vec![vec![1.0, 2.0]]),
                "at least 3 points",
            ),
            (
                Segmentation::Polygons(vec![vec![0.0, 0.0, 2.0, 2.0], vec![1.0, 1.0, 2.0]]),
                "read as a box",
            ),
        ];
        for (segmentation, expected) in cases {
            let message = segmentation.to_rle(4, 4).unwrap_err().to_string();
            assert!(message.contains(expected), "{message:?} lacks {expected:?}");
        }
    }

    #[test]
    fn to_rle_reads_four_numbers_as_boxes() {
        let boxes = Segmentation::Polygons(vec![vec![0.0, 0.0, 2.0, 2.0]]);
        assert_eq!(
            boxes.to_rle(4, 4).unwrap(),
            box_to_rle([0.0, 0.0, 2.0, 2.0], 4, 4)
        );
    }
}
