//! The pairwise box IoU family in torchvision's arithmetic, and TorchMetrics' functional forms.

use ndarray::{Array2, ArrayView2};
use serde::{Deserialize, Serialize};

use crate::detection::BoxFormat;
use crate::error::{Error, Result};
use crate::value::Value;

/// The term added to the squared diagonal of the enclosing box in DIoU and CIoU, and to the
/// denominator of CIoU's `alpha`: torchvision's default `eps` of `distance_box_iou` and
/// `complete_box_iou`.
const EPS: f64 = 1e-7;

/// A member of the box IoU family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum IouVariant {
    /// Intersection over union, torchvision's `box_iou`.
    Iou,
    /// Generalized IoU, torchvision's `generalized_box_iou`.
    Generalized,
    /// Distance IoU, torchvision's `distance_box_iou`.
    Distance,
    /// Complete IoU, torchvision's `complete_box_iou`.
    Complete,
}

impl IouVariant {
    /// Returns the output key TorchMetrics uses: `"iou"`, `"giou"`, `"diou"` or `"ciou"`.
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::detection::IouVariant;
    ///
    /// assert_eq!(IouVariant::Complete.key(), "ciou");
    /// ```
    pub fn key(self) -> &'static str {
        match self {
            IouVariant::Iou => "iou",
            IouVariant::Generalized => "giou",
            IouVariant::Distance => "diou",
            IouVariant::Complete => "ciou",
        }
    }

    /// Computes the value of one pair of `[x1, y1, x2, y2]` boxes.
    ///
    /// With `I` the intersection area, `U` the union area, `C` the area of the smallest
    /// enclosing box, `c²` its squared diagonal plus 1e-7, `ρ²` the squared distance between the
    /// box centers and `w`, `h` the box sizes:
    ///
    /// - IoU = I / U
    /// - GIoU = IoU - (C - U) / C
    /// - DIoU = IoU - ρ² / c²
    /// - CIoU = DIoU - α v, with v = 4 / π² (atan(w₁ / h₁) - atan(w₂ / h₂))² and
    ///   α = v / (1 - IoU + v + 1e-7)
    ///
    /// These are torchvision's formulas (`torchvision.ops.boxes`, 0.13 and later). A pair with
    /// `U = 0` (two boxes of zero area) gives NaN, as in torchvision, and so does GIoU when
    /// `C = 0` or CIoU for a box of zero height.
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::detection::IouVariant;
    ///
    /// let value = IouVariant::Iou.pair([0.0, 0.0, 2.0, 2.0], [1.0, 0.0, 3.0, 2.0]);
    /// assert_eq!(value, 2.0 / 6.0);
    /// ```
    pub fn pair(self, pred: [f64; 4], target: [f64; 4]) -> f64 {
        let pred_area = (pred[2] - pred[0]) * (pred[3] - pred[1]);
        let target_area = (target[2] - target[0]) * (target[3] - target[1]);
        let overlap_width = (pred[2].min(target[2]) - pred[0].max(target[0])).max(0.0);
        let overlap_height = (pred[3].min(target[3]) - pred[1].max(target[1])).max(0.0);
        let intersection = overlap_width * overlap_height;
        let union = pred_area + target_area - intersection;
        let iou = intersection / union;
        if self == IouVariant::Iou {
            return iou;
        }

        let enclosing_width = (pred[2].max(target[2]) - pred[0].min(target[0])).max(0.0);
        let enclosing_height = (pred[3].max(target[3]) - pred[1].min(target[1])).max(0.0);
        if self == IouVariant::Generalized {
            let enclosing_area = enclosing_width * enclosing_height;
            return iou - (enclosing_area - union) / enclosing_area;
        }

        let diagonal_squared =
            enclosing_width * enclosing_width + enclosing_height * enclosing_height + EPS;
        let center_dx = (pred[0] + pred[2]) / 2.0 - (target[0] + target[2]) / 2.0;
        let center_dy = (pred[1] + pred[3]) / 2.0 - (target[1] + target[3]) / 2.0;
        let diou = iou - (center_dx * center_dx + center_dy * center_dy) / diagonal_squared;
        if self == IouVariant::Distance {
            return diou;
        }

        let pred_angle = ((pred[2] - pred[0]) / (pred[3] - pred[1])).atan();
        let target_angle = ((target[2] - target[0]) / (target[3] - target[1])).atan();
        let angle_gap = pred_angle - target_angle;
        let v = 4.0 / (std::f64::consts::PI * std::f64::consts::PI) * angle_gap * angle_gap;
        let alpha = v / (1.0 - iou + v + EPS);
        diou - alpha * v
    }

    /// Computes the value of every prediction (rows) with every target (columns).
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::detection::IouVariant;
    ///
    /// let values = IouVariant::Iou.pairwise(&[[0.0, 0.0, 1.0, 1.0]], &[[0.0, 0.0, 1.0, 1.0]]);
    /// assert_eq!(values[[0, 0]], 1.0);
    /// ```
    pub fn pairwise(self, preds: &[[f64; 4]], target: &[[f64; 4]]) -> Array2<f64> {
        Array2::from_shape_fn((preds.len(), target.len()), |(i, j)| {
            self.pair(preds[i], target[j])
        })
    }
}

/// Converts a box to `[x1, y1, x2, y2]` as torchvision's `box_convert` does.
pub(crate) fn to_xyxy(format: BoxFormat, bbox: [f64; 4]) -> [f64; 4] {
    match format {
        BoxFormat::Xyxy => bbox,
        BoxFormat::Xywh => [bbox[0], bbox[1], bbox[0] + bbox[2], bbox[1] + bbox[3]],
        BoxFormat::Cxcywh => [
            bbox[0] - 0.5 * bbox[2],
            bbox[1] - 0.5 * bbox[3],
            bbox[0] + 0.5 * bbox[2],
            bbox[1] + 0.5 * bbox[3],
        ],
    }
}

/// Checks that `boxes` has shape `(N, 4)`, finite values and corners in order after conversion
/// from `format`, and returns the boxes as `[x1, y1, x2, y2]`.
pub(crate) fn checked_boxes(
    argument: &str,
    boxes: ArrayView2<'_, f64>,
    format: BoxFormat,
) -> Result<Vec<[f64; 4]>> {
    if boxes.ncols() != 4 {
        return Err(Error::invalid_input(
            argument,
            format!(
                "shape {:?}; pass boxes of shape (N, 4), one row per box",
                boxes.dim()
            ),
        ));
    }

    let mut converted = Vec::with_capacity(boxes.nrows());
    for (row, bbox) in boxes.outer_iter().enumerate() {
        for &value in bbox {
            if !value.is_finite() {
                return Err(Error::NonFinite {
                    argument: argument.to_owned(),
                    location: format!("row {row}"),
                    value,
                });
            }
        }
        let corners = to_xyxy(format, [bbox[0], bbox[1], bbox[2], bbox[3]]);
        if corners[2] < corners[0] || corners[3] < corners[1] {
            return Err(Error::invalid_input(
                argument,
                format!(
                    "row {row} is {:?} in {format} format, which gives corners {corners:?} with \
                     x2 < x1 or y2 < y1; pass boxes with a non-negative width and height",
                    bbox.to_vec()
                ),
            ));
        }
        converted.push(corners);
    }
    Ok(converted)
}

impl IouVariant {
    /// Returns the lower bound of the variant's values; the upper bound is 1 for all.
    pub(crate) fn lower_bound(self) -> f64 {
        match self {
            IouVariant::Iou => 0.0,
            IouVariant::Generalized | IouVariant::Distance => -1.0,
            // DIoU > -1 and alpha v <= v < 1 give -2. The exact minimum is not established,
            // and TorchMetrics uses -2 as its marker of a dropped pair for the same reason.
            IouVariant::Complete => -2.0,
        }
    }
}

/// Rejects a NaN threshold and one outside the variant's range of values, where it would drop
/// every pair or none. TorchMetrics 1.x accepts any float here.
pub(crate) fn check_threshold(variant: IouVariant, iou_threshold: Option<f64>) -> Result<()> {
    let Some(threshold) = iou_threshold else {
        return Ok(());
    };
    if threshold.is_nan() {
        return Err(Error::invalid_argument(
            "iou_threshold",
            "NaN is not a threshold; pass a number or None",
        ));
    }
    let lower = variant.lower_bound();
    if !(lower..=1.0).contains(&threshold) {
        return Err(Error::invalid_argument(
            "iou_threshold",
            format!(
                "{threshold} lies outside [{lower}, 1], the range of {} values; pass a \
                 threshold in that range or None",
                variant.key()
            ),
        ));
    }
    Ok(())
}

/// Computes one member of the family for the functional forms.
fn functional(
    variant: IouVariant,
    preds: ArrayView2<'_, f64>,
    target: ArrayView2<'_, f64>,
    iou_threshold: Option<f64>,
    replacement_val: f64,
    aggregate: bool,
) -> Result<Value> {
    check_threshold(variant, iou_threshold)?;
    let preds = checked_boxes("preds", preds, BoxFormat::Xyxy)?;
    let target = checked_boxes("target", target, BoxFormat::Xyxy)?;

    let mut values = variant.pairwise(&preds, &target);
    if let Some(threshold) = iou_threshold {
        values.mapv_inplace(|value| {
            if value < threshold {
                replacement_val
            } else {
                value
            }
        });
    }

    if !aggregate {
        return Ok(Value::Array(values.into_dyn()));
    }
    if values.is_empty() {
        return Ok(Value::Scalar(0.0));
    }
    let diagonal = values.diag();
    Ok(Value::Scalar(diagonal.sum() / diagonal.len() as f64))
}

/// Computes the IoU of every `preds` box with every `target` box, TorchMetrics'
/// `intersection_over_union`.
///
/// Boxes are `[x1, y1, x2, y2]`, shape `(N, 4)` and `(M, 4)`. IoU = |A ∩ B| / |A ∪ B|, as
/// torchvision's `box_iou`. Values below `iou_threshold` are replaced by `replacement_val`.
/// With `aggregate`, the result is the mean of the diagonal of the `(N, M)` matrix (the IoU of
/// `preds[i]` with `target[i]` for `i < min(N, M)`), or 0 if either side is empty. Without it,
/// the result is the whole matrix as a [`Value::Array`].
///
/// # Example
///
/// ```
/// use ferrometrics::detection::intersection_over_union;
/// use ndarray::array;
///
/// let preds = array![[100.0, 100.0, 200.0, 200.0]];
/// let target = array![[110.0, 110.0, 210.0, 210.0]];
/// let iou = intersection_over_union(preds.view(), target.view(), None, 0.0, true)?;
/// // 90 × 90 / (2 × 100² - 90²) = 8100 / 11900; TorchMetrics prints tensor(0.6807).
/// assert_eq!(iou.as_scalar(), Some(8100.0 / 11900.0));
/// # Ok::<(), ferrometrics::Error>(())
/// ```
///
/// # Errors
///
/// Returns [`Error::InvalidInput`] if a box array does not have 4 columns or a box has
/// `x2 < x1` or `y2 < y1`, [`Error::NonFinite`] for a NaN or infinite coordinate, and
/// [`Error::InvalidArgument`] if `iou_threshold` is NaN or outside [0, 1].
pub fn intersection_over_union(
    preds: ArrayView2<'_, f64>,
    target: ArrayView2<'_, f64>,
    iou_threshold: Option<f64>,
    replacement_val: f64,
    aggregate: bool,
) -> Result<Value> {
    functional(
        IouVariant::Iou,
        preds,
        target,
        iou_threshold,
        replacement_val,
        aggregate,
    )
}

/// Computes the generalized IoU of every `preds` box with every `target` box, TorchMetrics'
/// `generalized_intersection_over_union`.
///
/// GIoU = IoU - (C - U) / C, with `C` the area of the smallest box enclosing both and `U` the
/// union area (torchvision's `generalized_box_iou`, after arXiv:1902.09630). It lies in
/// (-1, 1]. `iou_threshold`, `replacement_val` and `aggregate` act as in
/// [`intersection_over_union`], the threshold comparing GIoU values.
///
/// # Example
///
/// ```
/// use ferrometrics::detection::generalized_intersection_over_union;
/// use ndarray::array;
///
/// let preds = array![[100.0, 100.0, 200.0, 200.0]];
/// let target = array![[110.0, 110.0, 210.0, 210.0]];
/// let giou = generalized_intersection_over_union(preds.view(), target.view(), None, 0.0, true)?;
/// // 8100 / 11900 - (110² - 11900) / 110²; TorchMetrics prints tensor(0.6641).
/// let expected = 8100.0 / 11900.0 - 200.0 / 12100.0;
/// assert!((giou.as_scalar().unwrap() - expected).abs() < 1e-15);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
///
/// # Errors
///
/// As [`intersection_over_union`].
pub fn generalized_intersection_over_union(
    preds: ArrayView2<'_, f64>,
    target: ArrayView2<'_, f64>,
    iou_threshold: Option<f64>,
    replacement_val: f64,
    aggregate: bool,
) -> Result<Value> {
    functional(
        IouVariant::Generalized,
        preds,
        target,
        iou_threshold,
        replacement_val,
        aggregate,
    )
}

/// Computes the distance IoU of every `preds` box with every `target` box, TorchMetrics'
/// `distance_intersection_over_union`.
///
/// DIoU = IoU - ρ² / (c² + 1e-7), with `ρ` the distance between the box centers and `c` the
/// diagonal of the smallest enclosing box (torchvision's `distance_box_iou`, after
/// arXiv:1911.08287). It lies in (-1, 1]. `iou_threshold`, `replacement_val` and `aggregate` act as
/// in [`intersection_over_union`], the threshold comparing DIoU values.
///
/// # Example
///
/// ```
/// use ferrometrics::detection::distance_intersection_over_union;
/// use ndarray::array;
///
/// let preds = array![[100.0, 100.0, 200.0, 200.0]];
/// let target = array![[110.0, 110.0, 210.0, 210.0]];
/// let diou = distance_intersection_over_union(preds.view(), target.view(), None, 0.0, true)?;
/// // Centers 10 apart on each axis, enclosing box 110 × 110: 8100 / 11900 - 200 / 24200.
/// let expected = 8100.0 / 11900.0 - 200.0 / (24200.0 + 1e-7);
/// assert!((diou.as_scalar().unwrap() - expected).abs() < 1e-15);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
///
/// # Errors
///
/// As [`intersection_over_union`].
pub fn distance_intersection_over_union(
    preds: ArrayView2<'_, f64>,
    target: ArrayView2<'_, f64>,
    iou_threshold: Option<f64>,
    replacement_val: f64,
    aggregate: bool,
) -> Result<Value> {
    functional(
        IouVariant::Distance,
        preds,
        target,
        iou_threshold,
        replacement_val,
        aggregate,
    )
}

/// Computes the complete IoU of every `preds` box with every `target` box, TorchMetrics'
/// `complete_intersection_over_union`.
///
/// CIoU = DIoU - α v, with v = 4 / π² (atan(w₁ / h₁) - atan(w₂ / h₂))² comparing the aspect
/// ratios and α = v / (1 - IoU + v + 1e-7) (torchvision's `complete_box_iou`, after
/// arXiv:2005.03572). It lies in (-2, 1], because DIoU > -1 and α v ≤ v < 1. `iou_threshold`,
/// `replacement_val` and `aggregate` act as in [`intersection_over_union`], the threshold
/// comparing CIoU values.
///
/// # Example
///
/// ```
/// use ferrometrics::detection::complete_intersection_over_union;
/// use ndarray::array;
///
/// let preds = array![[100.0, 100.0, 200.0, 200.0]];
/// let target = array![[110.0, 110.0, 210.0, 210.0]];
/// let ciou = complete_intersection_over_union(preds.view(), target.view(), None, 0.0, true)?;
/// // Both boxes are square, so v = 0 and CIoU equals DIoU; TorchMetrics prints tensor(0.6724).
/// assert!((ciou.as_scalar().unwrap() - 0.672408).abs() < 1e-6);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
///
/// # Errors
///
/// As [`intersection_over_union`].
pub fn complete_intersection_over_union(
    preds: ArrayView2<'_, f64>,
    target: ArrayView2<'_, f64>,
    iou_threshold: Option<f64>,
    replacement_val: f64,
    aggregate: bool,
) -> Result<Value> {
    functional(
        IouVariant::Complete,
        preds,
        target,
        iou_threshold,
        replacement_val,
        aggregate,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pair_identical_boxes_are_one() {
        let bbox = [1.0, 2.0, 4.0, 8.0];
        for variant in [
            IouVariant::Iou,
            IouVariant::Generalized,
            IouVariant::Distance,
            IouVariant::Complete,
        ] {
            assert_eq!(variant.pair(bbox, bbox), 1.0, "{variant:?}");
        }
    }

    #[test]
    fn to_xyxy_converts_each_format() {
        assert_eq!(
            to_xyxy(BoxFormat::Xywh, [1.0, 2.0, 3.0, 4.0]),
            [1.0, 2.0, 4.0, 6.0]
        );
        assert_eq!(
            to_xyxy(BoxFormat::Cxcywh, [2.5, 4.0, 3.0, 4.0]),
            [1.0, 2.0, 4.0, 6.0]
        );
    }

    #[test]
    fn aggregate_uses_shorter_diagonal() {
        let preds = ndarray::array![[0.0, 0.0, 1.0, 1.0], [0.0, 0.0, 2.0, 1.0]];
        let target = ndarray::array![[0.0, 0.0, 1.0, 1.0]];
        let value = intersection_over_union(preds.view(), target.view(), None, 0.0, true).unwrap();
        assert_eq!(value, Value::Scalar(1.0));
    }
}
