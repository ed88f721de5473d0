//! Box IoU as pycocotools' `bbIou` computes it.

use ndarray::Array2;

/// Computes the IoU of every detection box (rows) with every ground-truth box (columns); boxes
/// are `[x, y, width, height]`.
///
/// The arithmetic is pycocotools' own, in the same order, so the values match to the bit. The
/// overlap is `min(x + w) - max(x)` per axis, and a pair that does not overlap on either axis gets
/// 0. The union is `area_d + area_g - intersection`, or the detection's area alone for a crowd
/// ground truth (`is_crowd[g]`).
///
/// # Example
///
/// ```
/// use ferrometrics::detection::box_iou;
///
/// let detections = [[0.0, 0.0, 2.0, 2.0]];
/// let truths = [[1.0, 0.0, 2.0, 2.0], [1.0, 0.0, 2.0, 2.0]];
/// let ious = box_iou(&detections, &truths, &[false, true]);
/// assert_eq!(ious[[0, 0]], 2.0 / 6.0);
/// assert_eq!(ious[[0, 1]], 0.5);
/// ```
pub fn box_iou(detections: &[[f64; 4]], truths: &[[f64; 4]], is_crowd: &[bool]) -> Array2<f64> {
    let mut ious = Vec::new();
    box_iou_into(detections, truths, is_crowd, &mut ious);
    Array2::from_shape_vec((detections.len(), truths.len()), ious)
        .expect("one IoU per detection and ground-truth pair")
}

/// Writes the IoUs of [`box_iou`] into `ious`, row-major, replacing its contents.
pub(crate) fn box_iou_into(
    detections: &[[f64; 4]],
    truths: &[[f64; 4]],
    is_crowd: &[bool],
    ious: &mut Vec<f64>,
) {
    let columns = truths.len();
    ious.clear();
    ious.resize(detections.len() * columns, 0.0);
    for (g, truth) in truths.iter().enumerate() {
        let truth_area = truth[2] * truth[3];
        let crowd = is_crowd.get(g).copied().unwrap_or(false);
        for (d, detection) in detections.iter().enumerate() {
            let detection_area = detection[2] * detection[3];
            let width =
                (detection[2] + detection[0]).min(truth[2] + truth[0]) - detection[0].max(truth[0]);
            if width <= 0.0 {
                continue;
            }
            let height =
                (detection[3] + detection[1]).min(truth[3] + truth[1]) - detection[1].max(truth[1]);
            if height <= 0.0 {
                continue;
            }
            let intersection = width * height;
            let union = if crowd {
                detection_area
            } else {
                detection_area + truth_area - intersection
            };
            ious[d * columns + g] = intersection / union;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn box_iou_disjoint_and_touching_are_zero() {
        let ious = box_iou(
            &[[0.0, 0.0, 1.0, 1.0]],
            &[[1.0, 0.0, 1.0, 1.0], [5.0, 5.0, 1.0, 1.0]],
            &[false, false],
        );
        assert_eq!(ious[[0, 0]], 0.0);
        assert_eq!(ious[[0, 1]], 0.0);
    }

    #[test]
    fn box_iou_zero_width_detection_is_zero() {
        // A zero-width detection never overlaps (width <= 0), so the value stays 0.
        let ious = box_iou(&[[1.0, 1.0, 0.0, 3.0]], &[[0.0, 0.0, 5.0, 5.0]], &[true]);
        assert_eq!(ious[[0, 0]], 0.0);
    }
}
