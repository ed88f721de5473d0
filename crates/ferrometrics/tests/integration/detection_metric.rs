//! `MeanAveragePrecision` against pycocotools, with TorchMetrics' conversion of the inputs.
//!
//! tests/data/detection/metric_batches.json and the expected bit patterns come from
//! `python tests/integration/detection_metric.py tests/data/detection $FERROMETRICS_COCO_DATA`
//! (pycocotools 2.0.11, numpy 2.4). The segmentation test reads instance_segmentation_inputs.json
//! from the folder in `FERROMETRICS_COCO_DATA` and is skipped when it is unset.

use std::path::PathBuf;

use ferrometrics::detection::mask::Rle;
use ferrometrics::detection::{
    Average, BoxFormat, ImagePredictions, ImageTargets, IouType, MapConfig, Masks,
    MeanAveragePrecision,
};
use ferrometrics::{Error, Metric, Value};
use ndarray::{Array1, Array2, Array3};
use serde_json::Value as Json;

/// One image of owned arrays, borrowed into the metric's input types.
struct OwnedImage {
    pred_boxes: Array2<f64>,
    scores: Array1<f64>,
    pred_labels: Array1<i64>,
    pred_masks: Vec<Rle>,
    target_boxes: Array2<f64>,
    target_labels: Array1<i64>,
    iscrowd: Array1<bool>,
    target_masks: Vec<Rle>,
}

impl OwnedImage {
    fn preds(&self, masks: bool) -> ImagePredictions<'_> {
        ImagePredictions {
            boxes: Some(self.pred_boxes.view()),
            scores: self.scores.view(),
            labels: self.pred_labels.view(),
            masks: masks.then_some(Masks::Rle(&self.pred_masks)),
        }
    }

    fn target(&self, masks: bool) -> ImageTargets<'_> {
        ImageTargets {
            boxes: Some(self.target_boxes.view()),
            labels: self.target_labels.view(),
            iscrowd: Some(self.iscrowd.view()),
            area: None,
            masks: masks.then_some(Masks::Rle(&self.target_masks)),
        }
    }
}

fn floats(value: &Json) -> Vec<f64> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect()
}

fn boxes(value: &Json) -> Array2<f64> {
    let rows: Vec<Vec<f64>> = value.as_array().unwrap().iter().map(floats).collect();
    let mut array = Array2::zeros((rows.len(), 4));
    for (i, row) in rows.iter().enumerate() {
        for (j, &x) in row.iter().enumerate() {
            array[[i, j]] = x;
        }
    }
    array
}

fn labels(value: &Json) -> Array1<i64> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect()
}

fn load_batches() -> Vec<OwnedImage> {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/detection/metric_batches.json");
    let images: Json = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    images
        .as_array()
        .unwrap()
        .iter()
        .map(|image| {
            let (pred, target) = (&image["pred"], &image["target"]);
            OwnedImage {
                pred_boxes: boxes(&pred["boxes"]),
                scores: Array1::from(floats(&pred["scores"])),
                pred_labels: labels(&pred["labels"]),
                pred_masks: Vec::new(),
                target_boxes: boxes(&target["boxes"]),
                target_labels: labels(&target["labels"]),
                iscrowd: labels(&target["iscrowd"]).mapv(|c| c != 0),
                target_masks: Vec::new(),
            }
        })
        .collect()
}

fn run(images: &[OwnedImage], config: MapConfig, masks: bool) -> Vec<(String, Value)> {
    let preds: Vec<ImagePredictions<'_>> = images.iter().map(|i| i.preds(masks)).collect();
    let targets: Vec<ImageTargets<'_>> = images.iter().map(|i| i.target(masks)).collect();
    let mut metric = MeanAveragePrecision::new(config).unwrap();
    metric.update((&preds, &targets)).unwrap();
    metric.compute().unwrap().as_map().unwrap().to_vec()
}

fn get<'a>(entries: &'a [(String, Value)], key: &str) -> &'a Value {
    &entries
        .iter()
        .find(|(name, _)| name == key)
        .unwrap_or_else(|| panic!("no key {key}"))
        .1
}

fn check_stats(entries: &[(String, Value)], keys: &[&str; 12], expected: &[u64; 12]) {
    for (key, &bits) in keys.iter().zip(expected) {
        let value = get(entries, key).as_scalar().unwrap();
        assert_eq!(
            value.to_bits(),
            bits,
            "{key}: {value} != {}",
            f64::from_bits(bits)
        );
    }
}

fn check_array(entries: &[(String, Value)], key: &str, expected: &[u64]) {
    let Value::Array(values) = get(entries, key) else {
        panic!("{key} is not an array");
    };
    let bits: Vec<u64> = values.iter().map(|v| v.to_bits()).collect();
    assert_eq!(bits, expected, "{key}");
}

const DEFAULT_KEYS: [&str; 12] = [
    "map",
    "map_50",
    "map_75",
    "map_small",
    "map_medium",
    "map_large",
    "mar_1",
    "mar_10",
    "mar_100",
    "mar_small",
    "mar_medium",
    "mar_large",
];

fn class_config(average: Average) -> MapConfig {
    MapConfig {
        class_metrics: true,
        average,
        ..MapConfig::default()
    }
}

#[test]
fn metric_macro_matches_pycocotools() {
    let entries = run(&load_batches(), class_config(Average::Macro), false);
    check_stats(&entries, &DEFAULT_KEYS, &MACRO_STATS);
    check_array(&entries, "map_per_class", &MACRO_MAP_PER_CLASS);
    check_array(&entries, "mar_100_per_class", &MACRO_MAR_PER_CLASS);
    let classes: Vec<u64> = [0.0_f64, 1.0, 2.0, 3.0, 5.0]
        .iter()
        .map(|c| c.to_bits())
        .collect();
    check_array(&entries, "classes", &classes);
}

#[test]
fn metric_micro_matches_pycocotools() {
    let entries = run(&load_batches(), class_config(Average::Micro), false);
    check_stats(&entries, &DEFAULT_KEYS, &MICRO_STATS);
    check_array(&entries, "map_per_class", &MICRO_MAP_PER_CLASS);
    check_array(&entries, "mar_100_per_class", &MICRO_MAR_PER_CLASS);
}

#[test]
fn metric_micro_differs_from_macro() {
    assert_ne!(MICRO_STATS[0], MACRO_STATS[0]);
}

#[test]
fn metric_max_dets_without_100() {
    let config = MapConfig {
        max_detection_thresholds: Some(vec![50, 1, 5]),
        class_metrics: true,
        ..MapConfig::default()
    };
    let entries = run(&load_batches(), config, false);
    let keys = [
        "map",
        "map_50",
        "map_75",
        "map_small",
        "map_medium",
        "map_large",
        "mar_1",
        "mar_5",
        "mar_50",
        "mar_small",
        "mar_medium",
        "mar_large",
    ];
    check_stats(&entries, &keys, &MAX_DETS_50_STATS);
    check_array(&entries, "mar_50_per_class", &MAX_DETS_50_MAR_PER_CLASS);
    check_array(&entries, "map_per_class", &MAX_DETS_50_MAP_PER_CLASS);
}

#[test]
fn metric_without_class_metrics_reports_minus_one() {
    let entries = run(&load_batches(), MapConfig::default(), false);
    assert_eq!(get(&entries, "map_per_class"), &Value::Scalar(-1.0));
    assert_eq!(get(&entries, "mar_100_per_class"), &Value::Scalar(-1.0));
    let keys: Vec<&str> = entries.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys.len(), 15);
    assert_eq!(keys[14], "classes");
}

#[test]
fn metric_batch_split_and_merge_invariant() {
    let images = load_batches();
    let preds: Vec<ImagePredictions<'_>> = images.iter().map(|i| i.preds(false)).collect();
    let targets: Vec<ImageTargets<'_>> = images.iter().map(|i| i.target(false)).collect();
    let config = class_config(Average::Macro);

    let mut whole = MeanAveragePrecision::new(config.clone()).unwrap();
    whole.update((&preds, &targets)).unwrap();
    let expected = whole.compute().unwrap();

    let mut batched = MeanAveragePrecision::new(config.clone()).unwrap();
    for (p, t) in preds.chunks(5).zip(targets.chunks(5)) {
        batched.update((p, t)).unwrap();
    }
    assert_eq!(batched.compute().unwrap(), expected);

    let mut left = MeanAveragePrecision::new(config.clone()).unwrap();
    let mut right = MeanAveragePrecision::new(config).unwrap();
    left.update((&preds[..9], &targets[..9])).unwrap();
    right.update((&preds[9..], &targets[9..])).unwrap();
    left.merge(&right).unwrap();
    assert_eq!(left.compute().unwrap(), expected);
}

#[test]
fn metric_forward_returns_batch_value() {
    let images = load_batches();
    let preds: Vec<ImagePredictions<'_>> = images.iter().map(|i| i.preds(false)).collect();
    let targets: Vec<ImageTargets<'_>> = images.iter().map(|i| i.target(false)).collect();

    let mut alone = MeanAveragePrecision::default();
    alone.update((&preds[3..6], &targets[3..6])).unwrap();

    let mut metric = MeanAveragePrecision::default();
    metric.update((&preds[..3], &targets[..3])).unwrap();
    let batch = metric.forward((&preds[3..6], &targets[3..6])).unwrap();
    assert_eq!(batch, alone.compute().unwrap());
    assert_eq!(metric.image_count(), 6);
}

#[test]
fn metric_state_round_trips_bytes() {
    let images = load_batches();
    let preds: Vec<ImagePredictions<'_>> = images.iter().map(|i| i.preds(false)).collect();
    let targets: Vec<ImageTargets<'_>> = images.iter().map(|i| i.target(false)).collect();
    let mut metric = MeanAveragePrecision::new(class_config(Average::Micro)).unwrap();
    metric.update((&preds, &targets)).unwrap();

    let restored = MeanAveragePrecision::from_bytes(&metric.to_bytes().unwrap()).unwrap();
    assert_eq!(restored.compute().unwrap(), metric.compute().unwrap());
}

#[test]
fn metric_merge_rejects_other_config() {
    let mut macro_metric = MeanAveragePrecision::default();
    let micro_metric = MeanAveragePrecision::new(class_config(Average::Micro)).unwrap();
    let error = macro_metric.merge(&micro_metric).unwrap_err();
    assert!(matches!(error, Error::IncompatibleState { .. }));
}

#[test]
fn metric_empty_state_is_undefined() {
    let entries = MeanAveragePrecision::default().compute().unwrap();
    let entries = entries.as_map().unwrap();
    assert_eq!(get(entries, "map"), &Value::Scalar(-1.0));
    assert_eq!(get(entries, "mar_100"), &Value::Scalar(-1.0));
}

#[test]
fn metric_box_formats_agree() {
    let images = load_batches();
    let expected = run(&images, MapConfig::default(), false);
    for (format, convert) in [(BoxFormat::Xywh, 0), (BoxFormat::Cxcywh, 1)] {
        let converted: Vec<OwnedImage> = images
            .iter()
            .map(|image| {
                let change = |b: &Array2<f64>| {
                    let mut out = b.clone();
                    for mut row in out.rows_mut() {
                        let (w, h) = (row[2] - row[0], row[3] - row[1]);
                        if convert == 0 {
                            row[2] = w;
                            row[3] = h;
                        } else {
                            row[0] += w / 2.0;
                            row[1] += h / 2.0;
                            row[2] = w;
                            row[3] = h;
                        }
                    }
                    out
                };
                OwnedImage {
                    pred_boxes: change(&image.pred_boxes),
                    target_boxes: change(&image.target_boxes),
                    scores: image.scores.clone(),
                    pred_labels: image.pred_labels.clone(),
                    target_labels: image.target_labels.clone(),
                    iscrowd: image.iscrowd.clone(),
                    pred_masks: Vec::new(),
                    target_masks: Vec::new(),
                }
            })
            .collect();
        let config = MapConfig {
            box_format: format,
            ..MapConfig::default()
        };
        let entries = run(&converted, config, false);
        let map = get(&entries, "map").as_scalar().unwrap();
        let reference = get(&expected, "map").as_scalar().unwrap();
        // Converting the boxes rounds differently, so the values agree only up to rounding.
        assert!(
            (map - reference).abs() < 1e-9,
            "{format}: {map} vs {reference}"
        );
    }
}

// 0.318 is a detection score that happens to be close to 1/pi.
#[allow(clippy::approx_constant)]
fn segm_images() -> Option<Vec<OwnedImage>> {
    let Some(dir) = std::env::var_os("FERROMETRICS_COCO_DATA") else {
        eprintln!("skipped: set FERROMETRICS_COCO_DATA to the folder of the COCO test files");
        return None;
    };
    let path = PathBuf::from(dir).join("instance_segmentation_inputs.json");
    let json: Json = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let rle = |value: &Json| {
        let size = value["size"].as_array().unwrap();
        let (h, w) = (size[0].as_u64().unwrap(), size[1].as_u64().unwrap());
        Rle::from_compressed(h as u32, w as u32, value["counts"].as_str().unwrap()).unwrap()
    };
    let preds: Vec<Rle> = json["preds"].as_array().unwrap().iter().map(rle).collect();
    let targets: Vec<Rle> = json["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(rle)
        .collect();
    let xyxy = |masks: &[Rle]| {
        let mut out = Array2::zeros((masks.len(), 4));
        for (i, mask) in masks.iter().enumerate() {
            let [x, y, w, h] = mask.to_bbox();
            out.row_mut(i).assign(&ndarray::arr1(&[x, y, x + w, y + h]));
        }
        out
    };
    let image = |pred: Vec<Rle>,
                 scores: Vec<f64>,
                 pred_labels: Vec<i64>,
                 target: Vec<Rle>,
                 target_labels: Vec<i64>| OwnedImage {
        pred_boxes: xyxy(&pred),
        scores: Array1::from(scores),
        pred_labels: Array1::from(pred_labels),
        pred_masks: pred,
        target_boxes: xyxy(&target),
        iscrowd: Array1::from_elem(target_labels.len(), false),
        target_labels: Array1::from(target_labels),
        target_masks: target,
    };
    Some(vec![
        image(
            vec![preds[0].clone()],
            vec![0.236],
            vec![4],
            vec![targets[0].clone()],
            vec![4],
        ),
        image(
            vec![preds[1].clone(), preds[2].clone()],
            vec![0.318, 0.726],
            vec![3, 2],
            vec![targets[1].clone(), targets[2].clone()],
            vec![2, 2],
        ),
    ])
}

fn segm_config(iou_types: Vec<IouType>) -> MapConfig {
    MapConfig {
        iou_types,
        class_metrics: true,
        ..MapConfig::default()
    }
}

#[test]
fn metric_segm_rle_masks_match_pycocotools() {
    let Some(images) = segm_images() else {
        return;
    };
    let entries = run(&images, segm_config(vec![IouType::Segm]), true);
    check_stats(&entries, &DEFAULT_KEYS, &SEGM_STATS);
    check_array(&entries, "map_per_class", &SEGM_MAP_PER_CLASS);
    check_array(&entries, "mar_100_per_class", &SEGM_MAR_PER_CLASS);
}

#[test]
fn metric_segm_dense_masks_equal_rle_masks() {
    let Some(images) = segm_images() else {
        return;
    };
    let expected = run(&images, segm_config(vec![IouType::Segm]), true);

    let dense = |masks: &[Rle]| {
        let (h, w) = (masks[0].height() as usize, masks[0].width() as usize);
        let mut out = Array3::from_elem((masks.len(), h, w), false);
        for (i, mask) in masks.iter().enumerate() {
            out.index_axis_mut(ndarray::Axis(0), i)
                .assign(&mask.decode());
        }
        out
    };
    let mut metric = MeanAveragePrecision::new(segm_config(vec![IouType::Segm])).unwrap();
    for image in &images {
        let (pred_masks, target_masks) = (dense(&image.pred_masks), dense(&image.target_masks));
        let preds = [ImagePredictions {
            masks: Some(Masks::Dense(pred_masks.view())),
            ..image.preds(false)
        }];
        let targets = [ImageTargets {
            masks: Some(Masks::Dense(target_masks.view())),
            ..image.target(false)
        }];
        metric.update((&preds, &targets)).unwrap();
    }
    assert_eq!(metric.compute().unwrap(), Value::Map(expected));
}

#[test]
fn metric_two_iou_types_prefix_keys() {
    let Some(images) = segm_images() else {
        return;
    };
    let segm = run(&images, segm_config(vec![IouType::Segm]), true);
    let both = run(
        &images,
        segm_config(vec![IouType::Bbox, IouType::Segm]),
        true,
    );
    assert_eq!(both[0].0, "bbox_map");
    assert_eq!(get(&both, "segm_map"), get(&segm, "map"));
    assert_eq!(
        get(&both, "segm_mar_100_per_class"),
        get(&segm, "mar_100_per_class")
    );
    assert_eq!(both.last().unwrap().0, "classes");
}
const MACRO_STATS: [u64; 12] = [
    0x3fc6bec3d80126a1,
    0x3fd58f0eabee2973,
    0x3fc3ccd2facf5bd9,
    0x3fa4407b491972a9,
    0x3fce0988c398a07f,
    0x3fdba8ced3e5a3bb,
    0x3fd25d0f6a90429e,
    0x3fd79162afc495e3,
    0x3fd79162afc495e3,
    0x3fa5555555555555,
    0x3fde29ee41ccd6fd,
    0x3fdb99999999999a,
];
const MACRO_MAP_PER_CLASS: [u64; 5] = [
    0x3fc922805ea3ae3c,
    0x3fce17189df091c6,
    0x3fc2acca7b8bd728,
    0xbff0000000000000,
    0x3fc114abe7e4835a,
];
const MACRO_MAR_PER_CLASS: [u64; 5] = [
    0x3fd81f81f81f81f8,
    0x3fdb6db6db6db6db,
    0x3fd3851eb851eb86,
    0xbff0000000000000,
    0x3fd7333333333333,
];

const MICRO_STATS: [u64; 12] = [
    0x3fc7542104a78f94,
    0x3fd7aa55dacc91f3,
    0x3fc2f7062395ade1,
    0x3fb761d66e82c9c0,
    0x3fcdb43478877dce,
    0x3fd8d6f048ff7e3a,
    0x3fbbed61bed61bee,
    0x3fd9b7639b7639b6,
    0x3fd9b7639b7639b6,
    0x3fb745d1745d1746,
    0x3fdfa7701623fa76,
    0x3fd9999999999999,
];
const MICRO_MAP_PER_CLASS: [u64; 5] = [
    0x3fc922805ea3ae3c,
    0x3fce17189df091c6,
    0x3fc2acca7b8bd728,
    0xbff0000000000000,
    0x3fc114abe7e4835a,
];
const MICRO_MAR_PER_CLASS: [u64; 5] = [
    0x3fd81f81f81f81f8,
    0x3fdb6db6db6db6db,
    0x3fd3851eb851eb86,
    0xbff0000000000000,
    0x3fd7333333333333,
];

const MAX_DETS_50_STATS: [u64; 12] = [
    0x3fc6bec3d80126a1,
    0x3fd58f0eabee2973,
    0x3fc3ccd2facf5bd9,
    0x3fa4407b491972a9,
    0x3fce0988c398a07f,
    0x3fdba8ced3e5a3bb,
    0x3fd25d0f6a90429e,
    0x3fd79162afc495e3,
    0x3fd79162afc495e3,
    0x3fa5555555555555,
    0x3fde29ee41ccd6fd,
    0x3fdb99999999999a,
];
const MAX_DETS_50_MAP_PER_CLASS: [u64; 5] = [
    0x3fc922805ea3ae3c,
    0x3fce17189df091c6,
    0x3fc2acca7b8bd728,
    0xbff0000000000000,
    0x3fc114abe7e4835a,
];
const MAX_DETS_50_MAR_PER_CLASS: [u64; 5] = [
    0x3fd81f81f81f81f8,
    0x3fdb6db6db6db6db,
    0x3fd3851eb851eb86,
    0xbff0000000000000,
    0x3fd7333333333333,
];

const SEGM_STATS: [u64; 12] = [
    0x3fd686d7f3d56af5,
    0x3fe81446f86562d9,
    0x3fd0288df0cac5b3,
    0xbff0000000000000,
    0xbff0000000000000,
    0x3fd686d7f3d56af5,
    0x3fd6666666666666,
    0x3fd6666666666666,
    0x3fd6666666666666,
    0xbff0000000000000,
    0xbff0000000000000,
    0x3fd6666666666666,
];
const SEGM_MAP_PER_CLASS: [u64; 3] = [0x3fd9da7cb477a2b8, 0xbff0000000000000, 0x3fd3333333333332];
const SEGM_MAR_PER_CLASS: [u64; 3] = [0x3fd999999999999a, 0xbff0000000000000, 0x3fd3333333333333];

fn valid_image() -> OwnedImage {
    let mask = Rle::new(4, 4, vec![5, 2, 9]).unwrap();
    OwnedImage {
        pred_boxes: ndarray::array![[0.0, 0.0, 2.0, 2.0]],
        scores: ndarray::array![0.5],
        pred_labels: ndarray::array![1],
        pred_masks: vec![mask.clone()],
        target_boxes: ndarray::array![[0.0, 0.0, 2.0, 2.0]],
        target_labels: ndarray::array![1],
        iscrowd: ndarray::array![false],
        target_masks: vec![mask],
    }
}

/// Updates a fresh metric with one image changed by `$edit` and returns the error message.
///
/// A macro, not a function, because the views in the batch must live in the caller's scope.
macro_rules! update_error {
    ($image:expr, $iou_types:expr, |$p:pat_param, $t:pat_param| $edit:expr) => {{
        let mut preds = [$image.preds(true)];
        let mut targets = [$image.target(true)];
        {
            let $p = &mut preds[0];
            let $t = &mut targets[0];
            $edit;
        }

        let mut metric = MeanAveragePrecision::new(segm_config($iou_types)).unwrap();
        let error = metric.update((&preds, &targets)).unwrap_err();
        assert_eq!(
            metric.image_count(),
            0,
            "a rejected batch changed the state"
        );
        error.to_string()
    }};
}

#[test]
fn update_rejects_invalid_inputs() {
    let image = valid_image();
    let nan_scores = ndarray::array![f64::NAN];
    let two_scores = ndarray::array![0.1, 0.2];
    let wide_boxes = ndarray::array![[0.0, 0.0, 2.0, 2.0, 1.0]];
    let inverted = ndarray::array![[3.0, 0.0, 2.0, 2.0]];
    let infinite = ndarray::array![[0.0, f64::INFINITY, 2.0, 2.0]];
    let two_boxes = ndarray::array![[0.0, 0.0, 2.0, 2.0], [0.0, 0.0, 1.0, 1.0]];
    let two_crowd = ndarray::array![false, true];
    let areas = ndarray::array![1.0, 2.0];
    let nan_area = ndarray::array![f64::NAN];
    let bad_mask = [
        Rle::new(4, 4, vec![16]).unwrap(),
        Rle::new(4, 4, vec![16]).unwrap(),
    ];

    let cases: Vec<(&str, String)> = vec![
        (
            "preds[0].scores",
            update_error!(image, vec![IouType::Bbox], |p, _| {
                p.scores = two_scores.view()
            }),
        ),
        (
            "non-finite",
            update_error!(image, vec![IouType::Bbox], |p, _| {
                p.scores = nan_scores.view()
            }),
        ),
        (
            "shape",
            update_error!(image, vec![IouType::Bbox], |p, _| {
                p.boxes = Some(wide_boxes.view())
            }),
        ),
        (
            "negative width",
            update_error!(image, vec![IouType::Bbox], |_, t| {
                t.boxes = Some(inverted.view())
            }),
        ),
        (
            "non-finite",
            update_error!(image, vec![IouType::Bbox], |p, _| {
                p.boxes = Some(infinite.view())
            }),
        ),
        (
            "target[0].boxes",
            update_error!(image, vec![IouType::Bbox], |_, t| {
                t.boxes = Some(two_boxes.view())
            }),
        ),
        (
            "preds[0].boxes",
            update_error!(image, vec![IouType::Bbox], |p, _| p.boxes = None),
        ),
        (
            "target[0].boxes",
            update_error!(image, vec![IouType::Bbox], |_, t| t.boxes = None),
        ),
        (
            "target[0].iscrowd",
            update_error!(image, vec![IouType::Bbox], |_, t| {
                t.iscrowd = Some(two_crowd.view())
            }),
        ),
        (
            "target[0].area",
            update_error!(image, vec![IouType::Bbox], |_, t| {
                t.area = Some(areas.view())
            }),
        ),
        (
            "non-finite",
            update_error!(image, vec![IouType::Bbox], |_, t| {
                t.area = Some(nan_area.view())
            }),
        ),
        (
            "preds[0].masks",
            update_error!(image, vec![IouType::Segm], |p, _| p.masks = None),
        ),
        (
            "target[0].masks",
            update_error!(image, vec![IouType::Segm], |_, t| t.masks = None),
        ),
        (
            "target[0].masks",
            update_error!(image, vec![IouType::Segm], |_, t| {
                t.masks = Some(Masks::Rle(&bad_mask))
            }),
        ),
    ];
    for (expected, message) in cases {
        assert!(message.contains(expected), "{message:?} lacks {expected:?}");
    }
}

#[test]
fn update_rejects_rle_with_wrong_total() {
    let image = valid_image();
    let broken: Vec<Rle> =
        serde_json::from_str(r#"[{"height": 4, "width": 4, "counts": [3]}]"#).unwrap();
    let preds = [ImagePredictions {
        masks: Some(Masks::Rle(&broken)),
        ..image.preds(true)
    }];
    let targets = [image.target(true)];
    let mut metric = MeanAveragePrecision::new(segm_config(vec![IouType::Segm])).unwrap();
    let message = metric.update((&preds, &targets)).unwrap_err().to_string();
    assert!(message.contains("covering 3 pixels"), "{message}");
}

#[test]
fn update_rejects_unequal_image_counts() {
    let image = valid_image();
    let preds = [image.preds(false), image.preds(false)];
    let targets = [image.target(false)];
    let error = MeanAveragePrecision::default()
        .update((&preds, &targets))
        .unwrap_err();
    assert!(matches!(error, Error::LengthMismatch { .. }));
}

#[test]
fn new_rejects_invalid_configs() {
    let cases = [
        MapConfig {
            iou_types: vec![],
            ..MapConfig::default()
        },
        MapConfig {
            iou_types: vec![IouType::Segm, IouType::Segm],
            ..MapConfig::default()
        },
        MapConfig {
            max_detection_thresholds: Some(vec![1, 10]),
            ..MapConfig::default()
        },
        MapConfig {
            max_detection_thresholds: Some(vec![0, 10, 100]),
            ..MapConfig::default()
        },
        MapConfig {
            iou_thresholds: Some(vec![0.5, 1.5]),
            ..MapConfig::default()
        },
        MapConfig {
            rec_thresholds: Some(vec![]),
            ..MapConfig::default()
        },
    ];
    for config in cases {
        let error = MeanAveragePrecision::new(config.clone()).unwrap_err();
        assert!(matches!(error, Error::InvalidArgument { .. }), "{config:?}");
    }
}

#[test]
fn option_names_parse() {
    assert_eq!("micro".parse::<Average>().unwrap(), Average::Micro);
    assert!("weighted".parse::<Average>().is_err());
    assert_eq!("segm".parse::<IouType>().unwrap(), IouType::Segm);
    assert!("keypoints".parse::<IouType>().is_err());
    assert!("faster_coco_eval"
        .parse::<ferrometrics::detection::Backend>()
        .is_ok());
    assert!("detectron"
        .parse::<ferrometrics::detection::Backend>()
        .is_err());
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]

    /// Any split of the images into batches, spread over two metrics merged in image order,
    /// gives the output of one update over all images.
    #[test]
    fn metric_split_and_merge_order_invariant(
        cuts in proptest::collection::vec(0usize..=24, 0..6),
        split in 0usize..=24,
    ) {
        let images = load_batches();
        let preds: Vec<ImagePredictions<'_>> = images.iter().map(|i| i.preds(false)).collect();
        let targets: Vec<ImageTargets<'_>> = images.iter().map(|i| i.target(false)).collect();
        let config = class_config(Average::Macro);

        let mut whole = MeanAveragePrecision::new(config.clone()).unwrap();
        whole.update((&preds, &targets)).unwrap();
        let expected = whole.compute().unwrap();

        let mut bounds: Vec<usize> = cuts.into_iter().chain([0, split, 24]).collect();
        bounds.sort_unstable();
        let mut left = MeanAveragePrecision::new(config.clone()).unwrap();
        let mut right = MeanAveragePrecision::new(config).unwrap();
        for window in bounds.windows(2) {
            let (start, end) = (window[0], window[1]);
            let metric = if end <= split { &mut left } else { &mut right };
            metric.update((&preds[start..end], &targets[start..end])).unwrap();
        }
        left.merge(&right).unwrap();
        proptest::prop_assert_eq!(left.compute().unwrap(), expected);
    }
}
