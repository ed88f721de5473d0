//! Polygon and box rasterization against pycocotools' mask API.
//!
//! tests/data/detection/polygons.json comes from
//! `python tests/integration/detection_masks.py tests/data/detection` (pycocotools 2.0.11): for
//! each random polygon set and box it contains pycocotools' compressed RLE, area and `toBbox`.

use std::path::PathBuf;

use ferrometrics::detection::mask::{box_to_rle, Rle, Segmentation};
use serde_json::Value as Json;

fn cases() -> Vec<Json> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/detection/polygons.json");
    let text = std::fs::read_to_string(path).unwrap();
    serde_json::from_str::<Json>(&text)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

fn numbers(value: &Json) -> Vec<f64> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect()
}

fn size(case: &Json) -> (u32, u32) {
    (
        case["height"].as_u64().unwrap() as u32,
        case["width"].as_u64().unwrap() as u32,
    )
}

#[test]
fn polygons_match_pycocotools() {
    for (index, case) in cases().iter().enumerate() {
        let (height, width) = size(case);
        let polygons = case["polygons"]
            .as_array()
            .unwrap()
            .iter()
            .map(numbers)
            .collect();
        let rle = Segmentation::Polygons(polygons)
            .to_rle(height, width)
            .unwrap();

        assert_eq!(
            rle.to_compressed(),
            case["counts"].as_str().unwrap(),
            "case {index}"
        );
        assert_eq!(
            rle.area(),
            case["area"].as_u64().unwrap(),
            "case {index} area"
        );
        assert_eq!(
            rle.to_bbox().to_vec(),
            numbers(&case["bbox"]),
            "case {index} bbox"
        );
    }
}

#[test]
fn compressed_strings_decode_to_same_runs() {
    for (index, case) in cases().iter().enumerate() {
        let (height, width) = size(case);
        let text = case["counts"].as_str().unwrap();
        let decoded = Rle::from_compressed(height, width, text).unwrap();
        assert_eq!(decoded.to_compressed(), text, "case {index}");
    }
}

#[test]
fn boxes_match_pycocotools() {
    for (index, case) in cases().iter().enumerate() {
        let (height, width) = size(case);
        let bbox: [f64; 4] = numbers(&case["box"]).try_into().unwrap();
        let rle = box_to_rle(bbox, height, width);
        assert_eq!(
            rle.to_compressed(),
            case["box_counts"].as_str().unwrap(),
            "case {index}"
        );
    }
}

#[test]
fn dense_round_trip_keeps_mask() {
    for case in cases().iter().take(50) {
        let (height, width) = size(case);
        let rle = Rle::from_compressed(height, width, case["counts"].as_str().unwrap()).unwrap();
        assert_eq!(Rle::encode(rle.decode().view()), rle);
    }
}
