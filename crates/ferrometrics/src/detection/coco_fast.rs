//! A fast path for loading COCO files: typed deserialization without a JSON tree.
//!
//! Building a `serde_json::Value` tree allocates a map per entry, which dominates the load time
//! of large files. The typed structs below read valid files in one pass. Any file they cannot
//! read, or whose content fails a check, goes to the tree-based loader in `coco.rs`, which
//! reports the entry and the problem. This path therefore changes how fast valid files load and
//! nothing else.

use std::collections::{HashMap, HashSet};

use serde::Deserialize;

use super::coco::{Annotation, Category, CocoDataset, Image};
use super::evaluate::IdPositions;
use super::mask::{CompressedRle, Rle, Segmentation};
use super::results_scan::{self, BoxField, ScannedResult};

#[derive(Deserialize)]
struct RawDataset {
    images: Vec<RawImage>,
    categories: Vec<RawCategory>,
    annotations: Vec<RawTruth>,
}

#[derive(Deserialize)]
struct RawImage {
    id: i64,
    height: Option<u32>,
    width: Option<u32>,
}

#[derive(Deserialize)]
struct RawCategory {
    id: i64,
    name: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawCrowd {
    Flag(bool),
    Number(f64),
}

#[derive(Deserialize)]
struct RawTruth {
    id: i64,
    image_id: i64,
    category_id: i64,
    bbox: Option<Vec<f64>>,
    area: f64,
    iscrowd: Option<RawCrowd>,
    segmentation: Option<RawSegmentation>,
}

#[derive(Deserialize)]
struct RawResult {
    image_id: i64,
    category_id: i64,
    score: f64,
    bbox: Option<Vec<f64>>,
    segmentation: Option<RawSegmentation>,
}

#[derive(Deserialize)]
#[serde(untagged)]
pub(crate) enum RawSegmentation {
    Polygons(Vec<Vec<f64>>),
    Rle { size: [u32; 2], counts: RawCounts },
}

#[derive(Deserialize)]
#[serde(untagged)]
pub(crate) enum RawCounts {
    Text(String),
    Runs(Vec<u32>),
}

impl RawSegmentation {
    pub(crate) fn convert(self) -> Option<Segmentation> {
        match self {
            RawSegmentation::Polygons(polygons) => {
                let finite = polygons.iter().flatten().all(|value| value.is_finite());
                finite.then_some(Segmentation::Polygons(polygons))
            }
            RawSegmentation::Rle { size, counts } => {
                let mask = match counts {
                    RawCounts::Text(text) => {
                        CompressedRle::new(size[0], size[1], &text).map(Segmentation::Compressed)
                    }
                    RawCounts::Runs(runs) => {
                        Rle::new(size[0], size[1], runs).map(Segmentation::Rle)
                    }
                };
                mask.ok()
            }
        }
    }
}

/// Returns a valid box `[x, y, width, height]`, or `None`.
fn valid_box(values: &[f64]) -> Option<[f64; 4]> {
    let bbox: [f64; 4] = values.try_into().ok()?;
    let finite = bbox.iter().all(|value| value.is_finite());
    (finite && bbox[2] >= 0.0 && bbox[3] >= 0.0).then_some(bbox)
}

/// Reads a valid ground-truth file, or returns `None` for the tree-based loader to report.
pub(crate) fn truth(text: &str) -> Option<CocoDataset> {
    let raw: RawDataset = serde_json::from_str(text).ok()?;
    let images = raw
        .images
        .into_iter()
        .map(|image| Image {
            id: image.id,
            height: image.height,
            width: image.width,
        })
        .collect();
    let categories = raw
        .categories
        .into_iter()
        .map(|category| Category {
            id: category.id,
            name: category.name.unwrap_or_default(),
        })
        .collect();
    let annotations = raw
        .annotations
        .into_iter()
        .map(|annotation| {
            let bbox = match annotation.bbox {
                Some(values) => Some(valid_box(&values)?),
                None => None,
            };
            let segmentation = match annotation.segmentation {
                Some(raw) => Some(raw.convert()?),
                None => None,
            };
            if !annotation.area.is_finite() {
                return None;
            }
            let is_crowd = match annotation.iscrowd {
                None => false,
                Some(RawCrowd::Flag(flag)) => flag,
                Some(RawCrowd::Number(value)) => value != 0.0,
            };
            Some(Annotation {
                id: annotation.id,
                image_id: annotation.image_id,
                category_id: annotation.category_id,
                bbox,
                area: annotation.area,
                is_crowd,
                segmentation,
                score: 1.0,
            })
        })
        .collect::<Option<Vec<_>>>()?;

    let dataset = CocoDataset {
        images,
        categories,
        annotations,
    };
    dataset.check_references().ok()?;
    Some(dataset)
}

/// Reads a valid results file against `truth` with the rules of `load_results_str`, or
/// returns `None` for the tree-based loader to report.
pub(crate) fn results(truth: &CocoDataset, text: &str) -> Option<CocoDataset> {
    let annotations = match scanned_results(truth, text) {
        Some(halves) => join_results(halves),
        None => typed_results(truth, text)?,
    };
    Some(CocoDataset {
        images: truth.images.clone(),
        categories: truth.categories.clone(),
        annotations,
    })
}

/// Reads results with `scan_results` and converts them with the rules of `typed_results`.
pub(crate) fn scanned_results(
    truth: &CocoDataset,
    text: &str,
) -> Option<results_scan::Halves<Annotation>> {
    let mut image_ids: Vec<i64> = truth.images.iter().map(|image| image.id).collect();
    image_ids.sort_unstable();
    let image_positions = IdPositions::new(&image_ids);
    let mut image_sizes = vec![(None, None); image_ids.len()];
    for image in &truth.images {
        let position = image_positions.get(image.id)?;
        image_sizes[position] = (image.height, image.width);
    }
    let mut category_ids: Vec<i64> = truth.categories.iter().map(|c| c.id).collect();
    category_ids.sort_unstable();
    let category_positions = IdPositions::new(&category_ids);
    // The first entry decides whether every entry is a box or a mask result. It is known before
    // the scan starts, because entry 0 is read first; a list that does not start with a valid
    // entry fails the scan anyway.
    let boxes = first_entry_has_box(text)?;

    let convert = |index: usize, entry: &ScannedResult<'_>| {
        let (height, width) = image_sizes[image_positions.get(entry.image_id)?];
        category_positions.get(entry.category_id)?;
        let segmentation = entry.segmentation(text).ok()?;
        let (bbox, area) = if boxes {
            let BoxField::Four(values) = entry.bbox else {
                return None;
            };
            let bbox = valid_box(&values)?;
            (bbox, bbox[2] * bbox[3])
        } else {
            let (area, mask_box) = segmentation
                .as_ref()?
                .area_and_bbox(height.unwrap_or(0), width.unwrap_or(0))
                .ok()?;
            let bbox = match entry.bbox {
                BoxField::Absent | BoxField::Null => mask_box,
                BoxField::Four(values) => valid_box(&values)?,
                BoxField::Empty | BoxField::WrongLength => return None,
            };
            (bbox, area as f64)
        };
        Some(Annotation {
            id: index as i64 + 1,
            image_id: entry.image_id,
            category_id: entry.category_id,
            bbox: Some(bbox),
            area,
            is_crowd: false,
            segmentation,
            score: entry.score,
        })
    };
    results_scan::scan_results(text, convert)
}

/// Joins the halves that `scanned_results` returns, numbering the annotations `1, 2, ...`.
pub(crate) fn join_results(halves: results_scan::Halves<Annotation>) -> Vec<Annotation> {
    halves.join(|annotation, before| annotation.id += before as i64)
}

/// Returns whether the first entry of a results list has a non-empty `bbox` (true for an empty
/// list), or `None` if the list does not start with an entry that `scan_results` reads.
fn first_entry_has_box(text: &str) -> Option<bool> {
    let first = results_scan::scan_first(text)?;
    Some(first.is_none_or(|entry| matches!(entry.bbox, BoxField::Four(_) | BoxField::WrongLength)))
}

/// Reads a results file through serde's derived deserializers, or returns `None`.
fn typed_results(truth: &CocoDataset, text: &str) -> Option<Vec<Annotation>> {
    let raw: Vec<RawResult> = serde_json::from_str(text).ok()?;
    let boxes = raw
        .first()
        .is_none_or(|first| first.bbox.as_ref().is_some_and(|bbox| !bbox.is_empty()));
    let image_sizes: HashMap<i64, (Option<u32>, Option<u32>)> = truth
        .images
        .iter()
        .map(|image| (image.id, (image.height, image.width)))
        .collect();
    let categories: HashSet<i64> = truth.categories.iter().map(|c| c.id).collect();

    let annotations = raw
        .into_iter()
        .enumerate()
        .map(|(index, entry)| {
            let &(height, width) = image_sizes.get(&entry.image_id)?;
            if !categories.contains(&entry.category_id) || !entry.score.is_finite() {
                return None;
            }
            let segmentation = match entry.segmentation {
                Some(raw) => Some(raw.convert()?),
                None => None,
            };
            let (bbox, area) = if boxes {
                let bbox = valid_box(entry.bbox.as_deref()?)?;
                (bbox, bbox[2] * bbox[3])
            } else {
                let (area, mask_box) = segmentation
                    .as_ref()?
                    .area_and_bbox(height.unwrap_or(0), width.unwrap_or(0))
                    .ok()?;
                let bbox = match &entry.bbox {
                    Some(values) => valid_box(values)?,
                    None => mask_box,
                };
                (bbox, area as f64)
            };
            Some(Annotation {
                id: index as i64 + 1,
                image_id: entry.image_id,
                category_id: entry.category_id,
                bbox: Some(bbox),
                area,
                is_crowd: false,
                segmentation,
                score: entry.score,
            })
        })
        .collect::<Option<Vec<_>>>()?;

    Some(annotations)
}
