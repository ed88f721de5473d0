//! Polygon and box rasterization into RLE masks, bit-exact with pycocotools' `frPoly` and
//! `frBbox`.
//!
//! The polygon is scaled by 5, traced edge by edge on that finer grid, and each point where the
//! trace crosses from one column to the next is mapped back to the pixel grid. Those crossings
//! are the run boundaries of the column-major mask. The rounding steps below are pycocotools'
//! own (truncation after adding 0.5, the ceil of the y coordinate), so the same pixels are set.

use super::rle::Rle;

const SCALE: f64 = 5.0;

/// Rasterizes one polygon `[x0, y0, x1, y1, ...]` into a `height x width` mask.
///
/// An odd trailing coordinate is ignored, as pycocotools ignores it. The time grows with the
/// perimeter, five steps per pixel, wherever the polygon lies: an edge a million pixels long
/// takes milliseconds even when it is outside the mask.
///
/// # Example
///
/// ```
/// use ferrometrics::detection::mask::polygon_to_rle;
///
/// let square = [0.0, 0.0, 0.0, 2.0, 2.0, 2.0, 2.0, 0.0];
/// let rle = polygon_to_rle(&square, 4, 4);
/// assert_eq!(rle.area(), 4);
/// ```
pub fn polygon_to_rle(xy: &[f64], height: u32, width: u32) -> Rle {
    let corners = xy.len() / 2;
    let scaled = |value: f64| (SCALE * value + 0.5) as i32;
    let mut x: Vec<i32> = (0..corners).map(|j| scaled(xy[2 * j])).collect();
    let mut y: Vec<i32> = (0..corners).map(|j| scaled(xy[2 * j + 1])).collect();
    if let (Some(&x0), Some(&y0)) = (x.first(), y.first()) {
        x.push(x0);
        y.push(y0);
    }

    let mut crossings = ColumnCrossings::new(height, width);
    trace_edges(&x, &y, corners, |u, v| crossings.push(u, v));
    runs_from_boundary(&crossings.points, height, width)
}

/// Walks every edge on the upsampled grid, one point per step along its longer axis, and hands
/// each point `(u, v)` to `emit` in order.
///
/// The arithmetic is in `i64`, so that coordinates far outside any image cannot overflow. On
/// coordinates that fit pycocotools' `int` it gives the same points.
fn trace_edges(x: &[i32], y: &[i32], corners: usize, mut emit: impl FnMut(i64, i64)) {
    for j in 0..corners {
        let (mut xs, mut xe) = (i64::from(x[j]), i64::from(x[j + 1]));
        let (mut ys, mut ye) = (i64::from(y[j]), i64::from(y[j + 1]));
        let dx = (xe - xs).abs();
        let dy = (ys - ye).abs();
        // Each edge is rasterized from its lower end so that both directions round alike.
        let flip = (dx >= dy && xs > xe) || (dx < dy && ys > ye);
        if flip {
            std::mem::swap(&mut xs, &mut xe);
            std::mem::swap(&mut ys, &mut ye);
        }
        if dx >= dy {
            let slope = (ye - ys) as f64 / dx as f64;
            for d in 0..=dx {
                let t = if flip { dx - d } else { d };
                emit(t + xs, (ys as f64 + slope * t as f64 + 0.5) as i64);
            }
        } else {
            let slope = (xe - xs) as f64 / dy as f64;
            for d in 0..=dy {
                let t = if flip { dy - d } else { d };
                emit((xs as f64 + slope * t as f64 + 0.5) as i64, t + ys);
            }
        }
    }
}

/// The points where the traced boundary changes column, mapped back to pixel coordinates and
/// kept when they land on a pixel column inside the mask.
struct ColumnCrossings {
    height: f64,
    last_column: f64,
    previous: Option<(i64, i64)>,
    points: Vec<(i32, i32)>,
}

impl ColumnCrossings {
    fn new(height: u32, width: u32) -> Self {
        Self {
            height: f64::from(height),
            last_column: f64::from(width) - 1.0,
            previous: None,
            points: Vec::new(),
        }
    }

    fn push(&mut self, u: i64, v: i64) {
        let Some((previous_u, previous_v)) = self.previous.replace((u, v)) else {
            return;
        };
        if u == previous_u {
            return;
        }
        let column = if u < previous_u { u } else { u - 1 };
        // `xd` below is `(column - 2) / 5`, an integer only when 5 divides `column - 2`. The
        // float steps round exactly for every `column` that an `i32` coordinate gives, so this
        // integer test drops the same columns, four in five, before any float work.
        if (column - 2) % 5 != 0 {
            return;
        }
        let xd = (column as f64 + 0.5) / SCALE - 0.5;
        // pycocotools skips non-integer, negative and out-of-range columns. The range test
        // comes first here, so that truncation can stand in for `floor` on the rest.
        if xd < 0.0 || xd > self.last_column || (xd as i64) as f64 != xd {
            return;
        }
        let row = v.min(previous_v);
        let mut yd = (row as f64 + 0.5) / SCALE - 0.5;
        if yd < 0.0 {
            yd = 0.0;
        } else if yd > self.height {
            yd = self.height;
        }
        self.points.push((xd as i32, ceil_non_negative(yd)));
    }
}

/// Returns `value.ceil()` for a finite `value >= 0`, without a call into libm.
fn ceil_non_negative(value: f64) -> i32 {
    let truncated = value as i32;
    if f64::from(truncated) < value {
        truncated + 1
    } else {
        truncated
    }
}

/// Turns sorted boundary positions into run lengths. A position that appears twice cancels.
fn runs_from_boundary(points: &[(i32, i32)], height: u32, width: u32) -> Rle {
    let mut positions: Vec<u32> = points
        .iter()
        .map(|&(x, y)| x.wrapping_mul(height as i32).wrapping_add(y) as u32)
        .collect();
    positions.push(height.wrapping_mul(width));
    positions.sort_unstable();

    let mut previous = 0u32;
    for position in &mut positions {
        let current = *position;
        *position = current.wrapping_sub(previous);
        previous = current;
    }

    let mut counts = Vec::with_capacity(positions.len());
    counts.push(positions[0]);
    let mut j = 1;
    while j < positions.len() {
        if positions[j] > 0 {
            counts.push(positions[j]);
            j += 1;
        } else {
            j += 1;
            if j < positions.len() {
                let last = counts.len() - 1;
                counts[last] += positions[j];
                j += 1;
            }
        }
    }
    Rle::from_parts(height, width, counts)
}

/// Rasterizes a box `[x, y, width, height]` as the polygon through its four corners, as
/// pycocotools' `frBbox`.
pub fn box_to_rle(bbox: [f64; 4], height: u32, width: u32) -> Rle {
    let (x0, y0) = (bbox[0], bbox[1]);
    let (x1, y1) = (x0 + bbox[2], y0 + bbox[3]);
    polygon_to_rle(&[x0, y0, x0, y1, x1, y1, x1, y0], height, width)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polygon_square_area() {
        let rle = polygon_to_rle(&[0.0, 0.0, 0.0, 2.0, 2.0, 2.0, 2.0, 0.0], 4, 4);
        assert_eq!(rle.area(), 4);
        assert_eq!(rle.counts().iter().map(|&c| u64::from(c)).sum::<u64>(), 16);
    }

    #[test]
    fn far_outside_polygon_is_empty_mask() {
        let rle = polygon_to_rle(&[-1e6, -1e6, 1e6, -1e6, 1e6, -2e6], 8, 8);
        assert_eq!(rle.counts(), &[64]);
    }

    #[test]
    fn empty_polygon_is_empty_mask() {
        let rle = polygon_to_rle(&[], 3, 3);
        assert_eq!(rle.counts(), &[9]);
    }
}
