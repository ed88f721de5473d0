//! Decoding corrupted `MeanAveragePrecision` states: every decoded state either fails with
//! `Error::IncompatibleState` or `Error::Serialization`, or computes without panicking.

use ferrometrics::detection::{
    Average, ImagePredictions, ImageTargets, MapConfig, MeanAveragePrecision,
};
use ferrometrics::{Error, Metric};
use ndarray::{array, Array1, Array2};
use proptest::prelude::*;

/// Two images with two labels each, one detection of each label per image.
fn updated(config: MapConfig) -> MeanAveragePrecision {
    let pred_boxes: Array2<f64> = array![[10.0, 10.0, 30.0, 30.0], [50.0, 50.0, 60.0, 60.0]];
    let target_boxes: Array2<f64> = array![[12.0, 12.0, 32.0, 32.0], [50.0, 50.0, 61.0, 60.0]];
    let scores: Array1<f64> = array![0.9, 0.8];
    let labels: Array1<i64> = array![1, 2];
    let preds = vec![
        ImagePredictions {
            boxes: Some(pred_boxes.view()),
            scores: scores.view(),
            labels: labels.view(),
            masks: None,
        };
        2
    ];
    let targets = vec![
        ImageTargets {
            boxes: Some(target_boxes.view()),
            labels: labels.view(),
            iscrowd: None,
            area: None,
            masks: None,
        };
        2
    ];
    let mut metric = MeanAveragePrecision::new(config).unwrap();
    metric.update((&preds, &targets)).unwrap();
    metric
}

fn configs() -> Vec<MapConfig> {
    vec![
        MapConfig::default(),
        MapConfig {
            class_metrics: true,
            extended_summary: true,
            ..MapConfig::default()
        },
        MapConfig {
            average: Average::Micro,
            extended_summary: true,
            iou_thresholds: Some(vec![0.5, 0.75]),
            max_detection_thresholds: Some(vec![1, 2, 5]),
            ..MapConfig::default()
        },
    ]
}

/// Decodes `bytes` and computes; panics only if the metric does.
fn decode_and_compute(bytes: &[u8]) {
    match MeanAveragePrecision::from_bytes(bytes) {
        Ok(metric) => {
            let _ = metric.compute();
            let _ = metric.extended_ious(0);
        }
        Err(Error::IncompatibleState { .. } | Error::Serialization { .. }) => {}
        Err(other) => panic!("decoding failed with an unexpected error kind: {other}"),
    }
}

#[test]
fn map_state_every_byte_zeroed_or_set() {
    for config in configs() {
        let bytes = updated(config).to_bytes().unwrap();
        for position in 0..bytes.len() {
            for value in [0_u8, 1, 0x7f, 0xff] {
                let mut corrupted = bytes.clone();
                corrupted[position] = value;
                decode_and_compute(&corrupted);
            }
        }
    }
}

#[test]
fn map_state_wrong_outcome_count_rejected() {
    let bytes = updated(MapConfig::default()).to_bytes().unwrap();
    // Cutting the IoU thresholds to one keeps the bytes decodable but leaves every image
    // evaluation sized for ten thresholds.
    let single = MeanAveragePrecision::new(MapConfig {
        iou_thresholds: Some(vec![0.5]),
        ..MapConfig::default()
    })
    .unwrap();
    let mut spliced = single.to_bytes().unwrap();
    let empty_tail = MeanAveragePrecision::default().to_bytes().unwrap().len();
    let images = &bytes[empty_tail - 1..];
    spliced.pop();
    spliced.extend_from_slice(images);

    let error = MeanAveragePrecision::from_bytes(&spliced).unwrap_err();
    assert!(
        matches!(&error, Error::IncompatibleState { message } if message.contains("outcomes")),
        "{error}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn map_state_random_edits_never_panic(
        config_index in 0_usize..3,
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
    ) {
        let mut bytes = updated(configs()[config_index].clone()).to_bytes().unwrap();
        for (position, value) in edits {
            let position = position.index(bytes.len());
            bytes[position] = value;
        }
        decode_and_compute(&bytes);
    }
}
