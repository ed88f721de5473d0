//! COCO datasets: ground-truth files and result files, loaded with pycocotools' rules.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use serde_json::{Map, Value as Json};

use super::mask::{CompressedRle, Rle, Segmentation};
use crate::error::{Error, Result};

/// An image entry of a COCO dataset.
#[derive(Debug, Clone, PartialEq)]
pub struct Image {
    /// The image id.
    pub id: i64,
    /// The image height in pixels, needed to rasterize polygons.
    pub height: Option<u32>,
    /// The image width in pixels, needed to rasterize polygons.
    pub width: Option<u32>,
}

/// A category entry of a COCO dataset.
#[derive(Debug, Clone, PartialEq)]
pub struct Category {
    /// The category id.
    pub id: i64,
    /// The category name (empty when the file has none).
    pub name: String,
}

/// A ground-truth object or a detection.
#[derive(Debug, Clone, PartialEq)]
pub struct Annotation {
    /// The annotation id; results get `1, 2, ...` in file order, as pycocotools' `loadRes`.
    pub id: i64,
    /// The image the annotation belongs to.
    pub image_id: i64,
    /// The annotation's category.
    pub category_id: i64,
    /// The box `[x, y, width, height]`.
    pub bbox: Option<[f64; 4]>,
    /// The area that area ranges test: the file's `area` for ground truth, the box area or mask
    /// area for results.
    pub area: f64,
    /// Whether the ground-truth object is a crowd region; always `false` for results.
    pub is_crowd: bool,
    /// The segmentation, if any.
    pub segmentation: Option<Segmentation>,
    /// The detection score; 1 for ground truth.
    pub score: f64,
}

/// A COCO dataset: images, categories and annotations, in file order.
///
/// # Example
///
/// ```
/// use ferrometrics::detection::CocoDataset;
///
/// let truth = CocoDataset::from_json_str(
///     r#"{"images": [{"id": 1, "height": 10, "width": 10}],
///         "categories": [{"id": 3, "name": "cat"}],
///         "annotations": [{"id": 7, "image_id": 1, "category_id": 3,
///                          "bbox": [0, 0, 4, 5], "area": 20, "iscrowd": 0}]}"#,
/// )?;
/// let results = truth.load_results_str(
///     r#"[{"image_id": 1, "category_id": 3, "bbox": [1, 1, 2, 2], "score": 0.9}]"#,
/// )?;
/// assert_eq!(results.annotations[0].id, 1);
/// assert_eq!(results.annotations[0].area, 4.0);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CocoDataset {
    /// The images.
    pub images: Vec<Image>,
    /// The categories.
    pub categories: Vec<Category>,
    /// The ground-truth objects or detections.
    pub annotations: Vec<Annotation>,
}

const TRUTH: &str = "ground truth";
const RESULTS: &str = "results";

impl CocoDataset {
    /// Parses a ground-truth file: an object with `images`, `categories` and `annotations`.
    ///
    /// Every annotation needs `id`, `image_id`, `category_id` and `area`, and `bbox` or
    /// `segmentation`; `iscrowd` defaults to 0. Segmentations are polygon lists, count-list RLEs
    /// or compressed RLE strings.
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidInput`] naming the file role, the entry and the problem. The
    /// causes are malformed JSON, a missing field or one of the wrong type, a box with a
    /// negative width or height, a number that is not finite, a repeated id, and an annotation
    /// of an image or category that the file does not list.
    pub fn from_json_str(text: &str) -> Result<Self> {
        match super::coco_fast::truth(text) {
            Some(dataset) => Ok(dataset),
            None => Self::from_json_tree(text),
        }
    }

    /// Parses a ground-truth file through a JSON tree, which names the entry of any problem.
    fn from_json_tree(text: &str) -> Result<Self> {
        let root: Json = serde_json::from_str(text)
            .map_err(|e| file_error(TRUTH, format!("the file is not valid JSON: {e}")))?;
        let Json::Object(root) = root else {
            return Err(file_error(
                TRUTH,
                "the top level must be an object with `images`, `categories` and `annotations`",
            ));
        };

        let images = parse_list(&root, "images", parse_image)?;
        let categories = parse_list(&root, "categories", parse_category)?;
        let annotations = parse_list(&root, "annotations", parse_truth_annotation)?;
        let dataset = Self {
            images,
            categories,
            annotations,
        };
        dataset.check_references()?;
        Ok(dataset)
    }

    /// Reads and parses a ground-truth file; see [`CocoDataset::from_json_str`].
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidInput`] if the file cannot be read or does not parse.
    pub fn from_path(path: impl AsRef<Path>) -> Result<Self> {
        let text = read_file(TRUTH, path.as_ref())?;
        Self::from_json_str(&text).map_err(|e| with_path(e, path.as_ref()))
    }

    /// Parses a results file (a list of detections) against this ground truth, with the rules
    /// of pycocotools' `loadRes`.
    ///
    /// The first entry decides the kind of every entry. If it has a non-empty `bbox`, every
    /// entry is a box result whose area is `width * height`. Otherwise every entry needs a
    /// `segmentation`, whose mask area becomes the area and whose tight box becomes the `bbox`
    /// unless one is given. Results get ids `1, 2, ...` in file order and are never crowds.
    /// The images and categories are the ground truth's.
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidInput`] naming the entry. The causes are malformed JSON or a top
    /// level that is not a list, a missing field or one of the wrong type, a score that is not
    /// finite, a box with a negative width or height, and an image or category id that is not
    /// in the ground truth.
    pub fn load_results_str(&self, text: &str) -> Result<Self> {
        match super::coco_fast::results(self, text) {
            Some(results) => Ok(results),
            None => self.load_results_tree(text),
        }
    }

    /// Parses a results file through a JSON tree, which names the entry of any problem.
    fn load_results_tree(&self, text: &str) -> Result<Self> {
        let root: Json = serde_json::from_str(text)
            .map_err(|e| file_error(RESULTS, format!("the file is not valid JSON: {e}")))?;
        let Json::Array(entries) = root else {
            return Err(file_error(
                RESULTS,
                "the top level must be a list of detections",
            ));
        };
        self.load_results(&entries)
    }

    /// Reads and parses a results file; see [`CocoDataset::load_results_str`].
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidInput`] if the file cannot be read or does not parse.
    pub fn load_results_path(&self, path: impl AsRef<Path>) -> Result<Self> {
        let text = read_file(RESULTS, path.as_ref())?;
        if let Some(halves) = super::coco_fast::scanned_results(self, &text) {
            // The text is freed before the halves are joined, which lowers the peak memory.
            drop(text);
            return Ok(Self {
                images: self.images.clone(),
                categories: self.categories.clone(),
                annotations: super::coco_fast::join_results(halves),
            });
        }
        self.load_results_str(&text)
            .map_err(|e| with_path(e, path.as_ref()))
    }

    fn load_results(&self, entries: &[Json]) -> Result<Self> {
        let boxes = match entries.first() {
            Some(Json::Object(first)) => match first.get("bbox") {
                Some(Json::Array(bbox)) => !bbox.is_empty(),
                _ => false,
            },
            _ => true,
        };
        let image_sizes: HashMap<i64, (Option<u32>, Option<u32>)> = self
            .images
            .iter()
            .map(|image| (image.id, (image.height, image.width)))
            .collect();
        let categories: HashSet<i64> = self.categories.iter().map(|c| c.id).collect();

        let mut annotations = Vec::with_capacity(entries.len());
        for (index, entry) in entries.iter().enumerate() {
            let at = Location::new(RESULTS, "", index);
            let fields = as_object(entry, &at)?;
            let image_id = integer_field(fields, "image_id", &at)?;
            let Some(&(height, width)) = image_sizes.get(&image_id) else {
                return Err(at.error(format!(
                    "image_id {image_id} is not an image of the ground truth"
                )));
            };
            let category_id = integer_field(fields, "category_id", &at)?;
            if !categories.contains(&category_id) {
                return Err(at.error(format!(
                    "category_id {category_id} is not a category of the ground truth"
                )));
            }
            let score = number_field(fields, "score", &at)?;
            let segmentation = optional_segmentation(fields, &at)?;

            let (bbox, area) = if boxes {
                let bbox = bbox_field(fields, &at)?;
                (bbox, bbox[2] * bbox[3])
            } else {
                let Some(segmentation) = &segmentation else {
                    return Err(at.error(
                        "missing field `segmentation`; the first entry has no `bbox`, so every \
                         entry needs a segmentation",
                    ));
                };
                let (area, mask_box) = segmentation
                    .area_and_bbox(height.unwrap_or(0), width.unwrap_or(0))
                    .map_err(|e| at.error(e.to_string()))?;
                let bbox = match fields.get("bbox") {
                    None | Some(Json::Null) => mask_box,
                    Some(_) => bbox_field(fields, &at)?,
                };
                (bbox, area as f64)
            };

            annotations.push(Annotation {
                id: index as i64 + 1,
                image_id,
                category_id,
                bbox: Some(bbox),
                area,
                is_crowd: false,
                segmentation,
                score,
            });
        }

        Ok(Self {
            images: self.images.clone(),
            categories: self.categories.clone(),
            annotations,
        })
    }

    /// Rejects repeated ids and annotations of unknown images or categories.
    pub(crate) fn check_references(&self) -> Result<()> {
        let mut images = HashSet::new();
        for (index, image) in self.images.iter().enumerate() {
            if !images.insert(image.id) {
                let at = Location::new(TRUTH, "images", index);
                return Err(at.error(format!("image id {} repeats", image.id)));
            }
        }
        let mut categories = HashSet::new();
        for (index, category) in self.categories.iter().enumerate() {
            if !categories.insert(category.id) {
                let at = Location::new(TRUTH, "categories", index);
                return Err(at.error(format!("category id {} repeats", category.id)));
            }
        }
        let mut ids = HashSet::new();
        for (index, annotation) in self.annotations.iter().enumerate() {
            let at = Location::new(TRUTH, "annotations", index);
            if !ids.insert(annotation.id) {
                return Err(at.error(format!("annotation id {} repeats", annotation.id)));
            }
            if !images.contains(&annotation.image_id) {
                return Err(at.error(format!(
                    "image_id {} is not in `images`",
                    annotation.image_id
                )));
            }
            if !categories.contains(&annotation.category_id) {
                return Err(at.error(format!(
                    "category_id {} is not in `categories`",
                    annotation.category_id
                )));
            }
        }
        Ok(())
    }

    /// Returns the size of an image, if the dataset lists it with both dimensions.
    pub fn image_size(&self, image_id: i64) -> Option<(u32, u32)> {
        self.images
            .iter()
            .find(|image| image.id == image_id)
            .and_then(|image| Some((image.height?, image.width?)))
    }
}

/// The position of an entry, for error messages: the file role, the list and the index.
struct Location<'a> {
    role: &'a str,
    list: &'a str,
    index: usize,
}

impl<'a> Location<'a> {
    fn new(role: &'a str, list: &'a str, index: usize) -> Self {
        Self { role, list, index }
    }

    fn error(&self, problem: impl std::fmt::Display) -> Error {
        if self.list.is_empty() {
            file_error(self.role, format!("entry {}: {problem}", self.index))
        } else {
            file_error(
                self.role,
                format!("`{}` entry {}: {problem}", self.list, self.index),
            )
        }
    }
}

fn file_error(role: &str, message: impl Into<String>) -> Error {
    Error::invalid_input(role, message)
}

fn with_path(error: Error, path: &Path) -> Error {
    match error {
        Error::InvalidInput { argument, message } => Error::InvalidInput {
            argument,
            message: format!("{}: {message}", path.display()),
        },
        other => other,
    }
}

fn read_file(role: &str, path: &Path) -> Result<String> {
    std::fs::read_to_string(path)
        .map_err(|e| file_error(role, format!("cannot read {}: {e}", path.display())))
}

fn parse_list<T>(
    root: &Map<String, Json>,
    list: &'static str,
    parse: impl Fn(&Map<String, Json>, &Location<'_>) -> Result<T>,
) -> Result<Vec<T>> {
    let entries = match root.get(list) {
        Some(Json::Array(entries)) => entries,
        Some(_) => {
            return Err(file_error(
                TRUTH,
                format!("`{list}` must be a list of objects"),
            ))
        }
        None => return Err(file_error(TRUTH, format!("missing field `{list}`"))),
    };
    entries
        .iter()
        .enumerate()
        .map(|(index, entry)| {
            let at = Location::new(TRUTH, list, index);
            parse(as_object(entry, &at)?, &at)
        })
        .collect()
}

fn parse_image(fields: &Map<String, Json>, at: &Location<'_>) -> Result<Image> {
    Ok(Image {
        id: integer_field(fields, "id", at)?,
        height: optional_size(fields, "height", at)?,
        width: optional_size(fields, "width", at)?,
    })
}

fn parse_category(fields: &Map<String, Json>, at: &Location<'_>) -> Result<Category> {
    let name = match fields.get("name") {
        Some(Json::String(name)) => name.clone(),
        _ => String::new(),
    };
    Ok(Category {
        id: integer_field(fields, "id", at)?,
        name,
    })
}

fn parse_truth_annotation(fields: &Map<String, Json>, at: &Location<'_>) -> Result<Annotation> {
    let bbox = match fields.get("bbox") {
        None | Some(Json::Null) => None,
        Some(_) => Some(bbox_field(fields, at)?),
    };
    let is_crowd = match fields.get("iscrowd") {
        None | Some(Json::Null) => false,
        Some(Json::Bool(flag)) => *flag,
        Some(Json::Number(number)) => number.as_f64().is_some_and(|value| value != 0.0),
        Some(other) => {
            return Err(at.error(format!(
                "field `iscrowd` must be 0, 1 or a boolean, not {other}"
            )))
        }
    };
    Ok(Annotation {
        id: integer_field(fields, "id", at)?,
        image_id: integer_field(fields, "image_id", at)?,
        category_id: integer_field(fields, "category_id", at)?,
        bbox,
        area: number_field(fields, "area", at)?,
        is_crowd,
        segmentation: optional_segmentation(fields, at)?,
        score: 1.0,
    })
}

fn as_object<'j>(entry: &'j Json, at: &Location<'_>) -> Result<&'j Map<String, Json>> {
    match entry {
        Json::Object(fields) => Ok(fields),
        other => Err(at.error(format!("expected an object, found {}", kind_of(other)))),
    }
}

fn kind_of(value: &Json) -> &'static str {
    match value {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "a list",
        Json::Object(_) => "an object",
    }
}

fn integer_field(fields: &Map<String, Json>, name: &str, at: &Location<'_>) -> Result<i64> {
    match fields.get(name) {
        Some(Json::Number(number)) => number
            .as_i64()
            .ok_or_else(|| at.error(format!("field `{name}` must be an integer, not {number}"))),
        Some(other) => Err(at.error(format!(
            "field `{name}` must be an integer, not {}",
            kind_of(other)
        ))),
        None => Err(at.error(format!("missing field `{name}`"))),
    }
}

fn number_field(fields: &Map<String, Json>, name: &str, at: &Location<'_>) -> Result<f64> {
    match fields.get(name) {
        Some(value) => number(value, name, at),
        None => Err(at.error(format!("missing field `{name}`"))),
    }
}

fn number(value: &Json, name: &str, at: &Location<'_>) -> Result<f64> {
    let parsed = match value {
        Json::Number(number) => number.as_f64(),
        _ => None,
    };
    match parsed {
        Some(x) if x.is_finite() => Ok(x),
        Some(x) => Err(at.error(format!("field `{name}` is {x}; it must be finite"))),
        None => Err(at.error(format!(
            "field `{name}` must be a number, not {}",
            kind_of(value)
        ))),
    }
}

fn optional_size(fields: &Map<String, Json>, name: &str, at: &Location<'_>) -> Result<Option<u32>> {
    match fields.get(name) {
        None | Some(Json::Null) => Ok(None),
        Some(Json::Number(number)) => match number.as_u64().and_then(|n| u32::try_from(n).ok()) {
            Some(size) => Ok(Some(size)),
            None => Err(at.error(format!(
                "field `{name}` must be a non-negative integer, not {number}"
            ))),
        },
        Some(other) => Err(at.error(format!(
            "field `{name}` must be an integer, not {}",
            kind_of(other)
        ))),
    }
}

fn bbox_field(fields: &Map<String, Json>, at: &Location<'_>) -> Result<[f64; 4]> {
    let values = match fields.get("bbox") {
        Some(Json::Array(values)) if values.len() == 4 => values,
        Some(Json::Array(values)) => {
            return Err(at.error(format!(
                "field `bbox` has {} numbers; it must be [x, y, width, height]",
                values.len()
            )))
        }
        Some(other) => {
            return Err(at.error(format!(
                "field `bbox` must be a list [x, y, width, height], not {}",
                kind_of(other)
            )))
        }
        None => return Err(at.error("missing field `bbox`")),
    };
    let mut bbox = [0.0; 4];
    for (slot, value) in bbox.iter_mut().zip(values) {
        *slot = number(value, "bbox", at)?;
    }
    if bbox[2] < 0.0 || bbox[3] < 0.0 {
        return Err(at.error(format!(
            "field `bbox` {bbox:?} has a negative width or height; boxes are \
             [x, y, width, height] with width, height >= 0"
        )));
    }
    Ok(bbox)
}

fn optional_segmentation(
    fields: &Map<String, Json>,
    at: &Location<'_>,
) -> Result<Option<Segmentation>> {
    match fields.get("segmentation") {
        None | Some(Json::Null) => Ok(None),
        Some(value) => parse_segmentation(value, at).map(Some),
    }
}

fn parse_segmentation(value: &Json, at: &Location<'_>) -> Result<Segmentation> {
    match value {
        Json::Array(polygons) => {
            let mut parsed = Vec::with_capacity(polygons.len());
            for polygon in polygons {
                let Json::Array(coordinates) = polygon else {
                    return Err(at.error(
                        "field `segmentation` must be a list of polygons [[x0, y0, ...], ...]",
                    ));
                };
                let coordinates = coordinates
                    .iter()
                    .map(|c| number(c, "segmentation", at))
                    .collect::<Result<Vec<_>>>()?;
                parsed.push(coordinates);
            }
            Ok(Segmentation::Polygons(parsed))
        }
        Json::Object(rle) => parse_rle(rle, at),
        other => Err(at.error(format!(
            "field `segmentation` must be polygons or an RLE, not {}",
            kind_of(other)
        ))),
    }
}

fn parse_rle(fields: &Map<String, Json>, at: &Location<'_>) -> Result<Segmentation> {
    let size = match fields.get("size") {
        Some(Json::Array(size)) if size.len() == 2 => size
            .iter()
            .map(|s| s.as_u64().and_then(|n| u32::try_from(n).ok()))
            .collect::<Option<Vec<u32>>>(),
        _ => None,
    };
    let Some(size) = size else {
        return Err(at.error(
            "field `segmentation.size` must be [height, width] with non-negative integers",
        ));
    };
    let (height, width) = (size[0], size[1]);
    match fields.get("counts") {
        Some(Json::String(text)) => CompressedRle::new(height, width, text)
            .map(Segmentation::Compressed)
            .map_err(|e| at.error(e.to_string())),
        Some(Json::Array(counts)) => {
            let counts = counts
                .iter()
                .map(|c| c.as_u64().and_then(|n| u32::try_from(n).ok()))
                .collect::<Option<Vec<u32>>>()
                .ok_or_else(|| {
                    at.error("field `segmentation.counts` must hold non-negative integers")
                })?;
            Rle::new(height, width, counts)
                .map(Segmentation::Rle)
                .map_err(|e| at.error(e.to_string()))
        }
        _ => Err(at.error(
            "field `segmentation.counts` must be a compressed string or a list of run lengths",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRUTH_JSON: &str = r#"{
        "images": [{"id": 1, "height": 20, "width": 30}],
        "categories": [{"id": 1, "name": "a"}],
        "annotations": [{"id": 5, "image_id": 1, "category_id": 1, "bbox": [0, 0, 4, 4],
                         "area": 16, "iscrowd": 0,
                         "segmentation": [[0, 0, 0, 4, 4, 4, 4, 0]]}]
    }"#;

    fn truth() -> CocoDataset {
        CocoDataset::from_json_str(TRUTH_JSON).unwrap()
    }

    fn message(error: Error) -> String {
        error.to_string()
    }

    #[test]
    fn truth_parses_fields() {
        let dataset = truth();
        assert_eq!(dataset.images[0].height, Some(20));
        assert_eq!(dataset.annotations[0].area, 16.0);
        assert!(matches!(
            dataset.annotations[0].segmentation,
            Some(Segmentation::Polygons(_))
        ));
    }

    #[test]
    fn truth_errors_name_entry_and_problem() {
        let cases = [
            ("{", "not valid JSON"),
            ("[]", "top level"),
            (
                r#"{"images": [], "categories": []}"#,
                "missing field `annotations`",
            ),
            (
                r#"{"images": [{"id": 1}], "categories": [{"id": 1}], "annotations":
                   [{"id": 1, "image_id": 2, "category_id": 1, "area": 1}]}"#,
                "image_id 2",
            ),
            (
                r#"{"images": [{"id": 1}], "categories": [{"id": 1}], "annotations":
                   [{"id": 1, "image_id": 1, "category_id": 9, "area": 1}]}"#,
                "category_id 9",
            ),
            (
                r#"{"images": [{"id": 1}], "categories": [{"id": 1}], "annotations":
                   [{"id": 1, "image_id": 1, "category_id": 1}]}"#,
                "missing field `area`",
            ),
            (
                r#"{"images": [{"id": 1}], "categories": [{"id": 1}], "annotations":
                   [{"id": 1, "image_id": 1, "category_id": 1, "area": 1,
                     "bbox": [0, 0, -1, 2]}]}"#,
                "negative width",
            ),
            (
                r#"{"images": [{"id": 1}, {"id": 1}], "categories": [], "annotations": []}"#,
                "image id 1 repeats",
            ),
            (
                r#"{"images": [{"id": 1}], "categories": [{"id": 1}], "annotations":
                   [{"id": 1, "image_id": 1, "category_id": 1, "area": 1,
                     "segmentation": {"size": [2, 2], "counts": [1, 2]}}]}"#,
                "add up",
            ),
            (
                r#"{"images": [{"id": "a"}], "categories": [], "annotations": []}"#,
                "must be an integer",
            ),
            (
                r#"{"images": {}, "categories": [], "annotations": []}"#,
                "`images` must be a list",
            ),
            (
                r#"{"images": [3], "categories": [], "annotations": []}"#,
                "`images` entry 0: expected an object",
            ),
            (
                r#"{"images": [{"id": 1, "height": -4}], "categories": [], "annotations": []}"#,
                "non-negative integer",
            ),
            (
                r#"{"images": [], "categories": [{"id": 2}, {"id": 2}], "annotations": []}"#,
                "category id 2 repeats",
            ),
            (
                r#"{"images": [{"id": 1}], "categories": [{"id": 1}], "annotations":
                   [{"id": 4, "image_id": 1, "category_id": 1, "area": 1},
                    {"id": 4, "image_id": 1, "category_id": 1, "area": 1}]}"#,
                "annotation id 4 repeats",
            ),
            (
                r#"{"images": [{"id": 1}], "categories": [{"id": 1}], "annotations":
                   [{"id": 1, "image_id": 1, "category_id": 1, "area": 1,
                     "bbox": [0, 0, 1]}]}"#,
                "has 3 numbers",
            ),
            (
                r#"{"images": [{"id": 1}], "categories": [{"id": 1}], "annotations":
                   [{"id": 1, "image_id": 1, "category_id": 1, "area": 1, "bbox": "0 0 1 1"}]}"#,
                "must be a list [x, y, width, height]",
            ),
            (
                r#"{"images": [{"id": 1}], "categories": [{"id": 1}], "annotations":
                   [{"id": 1, "image_id": 1, "category_id": 1, "area": 1, "iscrowd": "no"}]}"#,
                "`iscrowd` must be 0, 1 or a boolean",
            ),
            (
                r#"{"images": [{"id": 1}], "categories": [{"id": 1}], "annotations":
                   [{"id": 1, "image_id": 1, "category_id": 1, "area": 1,
                     "segmentation": "mask"}]}"#,
                "must be polygons or an RLE",
            ),
            (
                r#"{"images": [{"id": 1}], "categories": [{"id": 1}], "annotations":
                   [{"id": 1, "image_id": 1, "category_id": 1, "area": 1,
                     "segmentation": [1, 2, 3]}]}"#,
                "list of polygons",
            ),
            (
                r#"{"images": [{"id": 1}], "categories": [{"id": 1}], "annotations":
                   [{"id": 1, "image_id": 1, "category_id": 1, "area": 1,
                     "segmentation": {"counts": [4]}}]}"#,
                "`segmentation.size`",
            ),
            (
                r#"{"images": [{"id": 1}], "categories": [{"id": 1}], "annotations":
                   [{"id": 1, "image_id": 1, "category_id": 1, "area": 1,
                     "segmentation": {"size": [2, 2], "counts": [1.5, 2.5]}}]}"#,
                "non-negative integers",
            ),
            (
                r#"{"images": [{"id": 1}], "categories": [{"id": 1}], "annotations":
                   [{"id": 1, "image_id": 1, "category_id": 1, "area": 1,
                     "segmentation": {"size": [2, 2], "counts": 4}}]}"#,
                "compressed string or a list",
            ),
            (
                r#"{"images": [{"id": 1}], "categories": [{"id": 1}], "annotations":
                   [{"id": 1, "image_id": 1, "category_id": 1, "area": 1,
                     "segmentation": {"size": [2, 2], "counts": "~~"}}]}"#,
                "compressed RLE",
            ),
        ];
        for (json, expected) in cases {
            let text = message(CocoDataset::from_json_str(json).unwrap_err());
            assert!(text.contains(expected), "{text:?} lacks {expected:?}");
            assert!(text.contains("ground truth"), "{text:?}");
        }
    }

    #[test]
    fn results_ids_and_box_area() {
        let results = truth()
            .load_results_str(
                r#"[{"image_id": 1, "category_id": 1, "bbox": [1, 1, 2, 3], "score": 0.5},
                    {"image_id": 1, "category_id": 1, "bbox": [1, 1, 1, 1], "score": 0.7}]"#,
            )
            .unwrap();
        assert_eq!(results.annotations[1].id, 2);
        assert_eq!(results.annotations[0].area, 6.0);
        assert!(!results.annotations[0].is_crowd);
    }

    #[test]
    fn results_segmentation_area_and_box_from_mask() {
        let results = truth()
            .load_results_str(
                r#"[{"image_id": 1, "category_id": 1, "score": 0.5,
                     "segmentation": {"size": [20, 30], "counts": [21, 3, 576]}}]"#,
            )
            .unwrap();
        assert_eq!(results.annotations[0].area, 3.0);
        assert_eq!(results.annotations[0].bbox, Some([1.0, 1.0, 1.0, 3.0]));
    }

    #[test]
    fn results_escaped_compressed_rle_scanned() {
        // A first run of 44 encodes as a backslash and "1", so the JSON string needs an escape.
        let rle = Rle::new(20, 30, vec![44, 10, 546]).unwrap();
        let counts = rle.to_compressed();
        assert!(counts.contains('\\'), "{counts:?}");
        let counts_json = serde_json::to_string(&counts).unwrap();
        let text = format!(
            r#"[{{"image_id": 1, "category_id": 1, "score": 0.5,
                  "segmentation": {{"size": [20, 30], "counts": {counts_json}}}}}]"#
        );
        let truth = truth();

        assert!(super::super::coco_fast::scanned_results(&truth, &text).is_some());
        let fast = truth.load_results_str(&text).unwrap();
        let tree = truth.load_results_tree(&text).unwrap();
        assert_eq!(fast, tree);
        let annotation = &fast.annotations[0];
        assert_eq!(annotation.area, rle.area() as f64);
        assert_eq!(annotation.bbox, Some(rle.to_bbox()));
        let Some(Segmentation::Compressed(mask)) = &annotation.segmentation else {
            panic!(
                "expected a compressed mask, found {:?}",
                annotation.segmentation
            );
        };
        assert_eq!(mask.as_str(), counts);
        assert_eq!(mask.to_rle().unwrap(), rle);
    }

    #[test]
    fn results_errors_name_entry_and_problem() {
        let cases = [
            ("{}", "list of detections"),
            ("[1]", "entry 0: expected an object"),
            (
                r#"[{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 1},
                    {"image_id": 4, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 1}]"#,
                "entry 1: image_id 4",
            ),
            (
                r#"[{"image_id": 1, "category_id": 2, "bbox": [0, 0, 1, 1], "score": 1}]"#,
                "entry 0: category_id 2",
            ),
            (
                r#"[{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1]}]"#,
                "missing field `score`",
            ),
            (
                r#"[{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, -1], "score": 1}]"#,
                "negative width",
            ),
            (
                r#"[{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 1},
                    {"image_id": 1, "category_id": 1, "score": 1}]"#,
                "entry 1: missing field `bbox`",
            ),
            (
                r#"[{"image_id": 1, "category_id": 1, "score": 1}]"#,
                "missing field `segmentation`",
            ),
            (
                r#"[{"image_id": 1, "category_id": 1, "score": "high",
                     "bbox": [0, 0, 1, 1]}]"#,
                "must be a number",
            ),
            (
                r#"[{"image_id": 1, "category_id": 1, "score": 1,
                     "segmentation": [[0, 0]]}]"#,
                "needs at least 3 points",
            ),
            ("[", "not valid JSON"),
        ];
        for (json, expected) in cases {
            let text = message(truth().load_results_str(json).unwrap_err());
            assert!(text.contains(expected), "{text:?} lacks {expected:?}");
            assert!(text.contains("results"), "{text:?}");
        }
    }

    #[test]
    fn results_empty_list_has_no_detections() {
        let results = truth().load_results_str("[]").unwrap();
        assert!(results.annotations.is_empty());
    }

    /// Checks that the typed fast path and the tree path load every test file identically.
    #[test]
    fn fast_and_tree_paths_agree() {
        let mut dirs =
            vec![std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/detection")];
        if let Some(dir) = std::env::var_os("FERROMETRICS_COCO_DATA") {
            dirs.push(dir.into());
        }
        let mut pairs = 0;
        for dir in dirs {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                let results_names: Vec<String> = if let Some(stem) = name.strip_suffix("_gt.json") {
                    vec![format!("{stem}_dt.json")]
                } else if let Some(rest) = name.strip_prefix("gt_") {
                    vec![format!("dt_{rest}")]
                } else if name == "instances_val2014_100.json" {
                    vec![
                        "instances_val2014_fakebbox100_results.json".to_owned(),
                        "instances_val2014_fakesegm100_results.json".to_owned(),
                    ]
                } else {
                    continue;
                };
                let truth_text = std::fs::read_to_string(&path).unwrap();
                let fast = super::super::coco_fast::truth(&truth_text).unwrap();
                let tree = CocoDataset::from_json_tree(&truth_text).unwrap();
                assert_eq!(fast, tree, "{name}");

                for results_name in results_names {
                    let results_text = std::fs::read_to_string(dir.join(&results_name)).unwrap();
                    let fast = super::super::coco_fast::results(&tree, &results_text).unwrap();
                    let slow = tree.load_results_tree(&results_text).unwrap();
                    assert_eq!(fast, slow, "{results_name}");
                    pairs += 1;
                }
            }
        }
        assert!(pairs >= 9, "only {pairs} file pairs found");
    }

    #[test]
    fn from_path_names_missing_file() {
        let error = CocoDataset::from_path("/nonexistent/truth.json").unwrap_err();
        assert!(error.to_string().contains("/nonexistent/truth.json"));
    }
}
