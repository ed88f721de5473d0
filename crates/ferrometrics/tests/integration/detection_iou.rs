//! The box IoU family: TorchMetrics' documented examples, hand-computed pairs, the rules for
//! thresholds, labels and empty images, batch invariance, serialization and input validation.

use ferrometrics::detection::{
    complete_intersection_over_union, distance_intersection_over_union,
    generalized_intersection_over_union, intersection_over_union, BoxFormat, BoxIouConfig,
    CompleteIntersectionOverUnion, DistanceIntersectionOverUnion, GeneralizedIntersectionOverUnion,
    ImagePredictions, ImageTargets, IntersectionOverUnion, IouVariant,
};
use ferrometrics::{Error, Metric, Value};
use ndarray::{array, Array1, Array2};
use proptest::prelude::*;

/// One image with owned arrays, so that tests can build batches of borrowed views.
#[derive(Debug, Clone)]
struct Image {
    pred_boxes: Array2<f64>,
    pred_labels: Array1<i64>,
    pred_scores: Array1<f64>,
    target_boxes: Array2<f64>,
    target_labels: Array1<i64>,
}

impl Image {
    fn new(
        pred_boxes: Array2<f64>,
        pred_labels: &[i64],
        target_boxes: Array2<f64>,
        target_labels: &[i64],
    ) -> Self {
        Self {
            pred_scores: Array1::ones(pred_labels.len()),
            pred_boxes,
            pred_labels: Array1::from(pred_labels.to_vec()),
            target_boxes,
            target_labels: Array1::from(target_labels.to_vec()),
        }
    }

    fn preds(&self) -> ImagePredictions<'_> {
        ImagePredictions {
            boxes: Some(self.pred_boxes.view()),
            scores: self.pred_scores.view(),
            labels: self.pred_labels.view(),
            masks: None,
        }
    }

    fn targets(&self) -> ImageTargets<'_> {
        ImageTargets {
            boxes: Some(self.target_boxes.view()),
            labels: self.target_labels.view(),
            iscrowd: None,
            area: None,
            masks: None,
        }
    }
}

fn update<M: Metric<Kind = ferrometrics::detection::DetectionBatch>>(
    metric: &mut M,
    images: &[Image],
) -> Result<(), Error> {
    let preds: Vec<ImagePredictions<'_>> = images.iter().map(Image::preds).collect();
    let targets: Vec<ImageTargets<'_>> = images.iter().map(Image::targets).collect();
    metric.update((&preds, &targets))
}

fn entries<M>(metric: &M) -> Vec<(String, f64)>
where
    M: Metric<Output = Value>,
{
    metric
        .compute()
        .unwrap()
        .as_map()
        .unwrap()
        .iter()
        .map(|(key, value)| (key.clone(), value.as_scalar().unwrap()))
        .collect()
}

fn headline<M: Metric<Output = Value>>(metric: &M) -> f64 {
    entries(metric)[0].1
}

fn scalar(value: Value) -> f64 {
    value.as_scalar().unwrap()
}

fn matrix(value: Value) -> ndarray::ArrayD<f64> {
    match value {
        Value::Array(array) => array,
        other => panic!("expected an array, got {other:?}"),
    }
}

/// Builds the image of TorchMetrics' `IntersectionOverUnion` docstring example.
fn docstring_image() -> Image {
    Image::new(
        array![
            [296.55, 93.96, 314.97, 152.79],
            [298.55, 98.96, 314.97, 151.79]
        ],
        &[4, 5],
        array![[300.0, 100.0, 315.0, 150.0]],
        &[5],
    )
}

/// Returns the three box pairs of TorchMetrics' functional docstring examples.
fn functional_boxes() -> (Array2<f64>, Array2<f64>) {
    let preds = array![
        [296.55, 93.96, 314.97, 152.79],
        [328.94, 97.05, 342.49, 122.98],
        [356.62, 95.47, 372.33, 147.55]
    ];
    let target = array![
        [300.0, 100.0, 315.0, 150.0],
        [330.0, 100.0, 350.0, 125.0],
        [350.0, 100.0, 375.0, 150.0]
    ];
    (preds, target)
}

const VARIANTS: [IouVariant; 4] = [
    IouVariant::Iou,
    IouVariant::Generalized,
    IouVariant::Distance,
    IouVariant::Complete,
];

// TorchMetrics' printed values have four decimals, from float32 arithmetic.
const PRINTED: f64 = 1e-4;

#[test]
fn functional_iou_matches_torchmetrics_examples() {
    let (preds, target) = functional_boxes();
    let mean = intersection_over_union(preds.view(), target.view(), None, 0.0, true).unwrap();
    assert!((scalar(mean) - 0.5879).abs() < PRINTED);

    let full =
        matrix(intersection_over_union(preds.view(), target.view(), None, 0.0, false).unwrap());
    let expected = [[0.6898, 0.0, 0.0], [0.0, 0.5086, 0.0], [0.0, 0.0, 0.5654]];
    assert_eq!(full.shape(), &[3, 3]);
    for i in 0..3 {
        for j in 0..3 {
            assert!(
                (full[[i, j]] - expected[i][j]).abs() < PRINTED,
                "entry ({i}, {j})"
            );
        }
    }
}

#[test]
fn functional_giou_matches_torchmetrics_example() {
    let (preds, target) = functional_boxes();
    let mean =
        generalized_intersection_over_union(preds.view(), target.view(), None, 0.0, true).unwrap();
    assert!((scalar(mean) - 0.5638).abs() < PRINTED);
}

#[test]
fn functional_single_pair_matches_torchmetrics() {
    let preds = array![[100.0, 100.0, 200.0, 200.0]];
    let target = array![[110.0, 110.0, 210.0, 210.0]];
    let (p, t) = (preds.view(), target.view());
    let iou = scalar(intersection_over_union(p, t, None, 0.0, true).unwrap());
    let giou = scalar(generalized_intersection_over_union(p, t, None, 0.0, true).unwrap());
    let diou = scalar(distance_intersection_over_union(p, t, None, 0.0, true).unwrap());
    let ciou = scalar(complete_intersection_over_union(p, t, None, 0.0, true).unwrap());
    assert!((iou - 0.6807).abs() < PRINTED);
    assert!((giou - 0.6641).abs() < PRINTED);
    assert!((diou - 0.6724).abs() < PRINTED);
    assert!((ciou - 0.6724).abs() < PRINTED);
}

#[test]
fn pair_identical_boxes_are_one() {
    let bbox = [3.0, 4.0, 10.0, 20.0];
    for variant in VARIANTS {
        assert_eq!(variant.pair(bbox, bbox), 1.0, "{variant:?}");
    }
}

#[test]
fn pair_disjoint_boxes() {
    // [0, 0, 1, 1] and [2, 0, 3, 1]: no overlap, union 2, enclosing box 3 × 1, centers 2 apart.
    let a = [0.0, 0.0, 1.0, 1.0];
    let b = [2.0, 0.0, 3.0, 1.0];
    assert_eq!(IouVariant::Iou.pair(a, b), 0.0);
    assert!((IouVariant::Generalized.pair(a, b) - (-1.0 / 3.0)).abs() < 1e-15);
    // DIoU = 0 - 4 / (3² + 1² + 1e-7); both boxes are square, so CIoU = DIoU.
    let diou = -4.0 / (10.0 + 1e-7);
    assert!((IouVariant::Distance.pair(a, b) - diou).abs() < 1e-15);
    assert!((IouVariant::Complete.pair(a, b) - diou).abs() < 1e-15);
}

#[test]
fn pair_nested_boxes() {
    // [1, 1, 3, 3] inside [0, 0, 4, 4] has IoU 4/16. The enclosing box is the outer box, the
    // centers coincide and both are square, so all four values are 0.25.
    let outer = [0.0, 0.0, 4.0, 4.0];
    let inner = [1.0, 1.0, 3.0, 3.0];
    for variant in VARIANTS {
        assert_eq!(variant.pair(inner, outer), 0.25, "{variant:?}");
    }
}

#[test]
fn pair_different_aspect_ratios() {
    // pred [0, 0, 2, 2] (2 × 2), target [0, 0, 4, 2] (4 × 2):
    // I = 4, U = 8, IoU = 0.5; the enclosing box is the target, so GIoU = 0.5.
    // Centers (1, 1) and (2, 1): ρ² = 1, c² = 4² + 2² = 20, DIoU = 0.5 - 1/20 = 0.45.
    // v = 4/π² (atan(1) - atan(2))² = 0.0419568, α = v / (0.5 + v) = 0.0774168,
    // CIoU = 0.45 - α v = 0.4467518.
    let pred = [0.0, 0.0, 2.0, 2.0];
    let target = [0.0, 0.0, 4.0, 2.0];
    assert_eq!(IouVariant::Iou.pair(pred, target), 0.5);
    assert_eq!(IouVariant::Generalized.pair(pred, target), 0.5);
    assert!((IouVariant::Distance.pair(pred, target) - 0.45).abs() < 1e-8);
    assert!((IouVariant::Complete.pair(pred, target) - 0.4467518).abs() < 1e-7);
}

#[test]
fn pair_zero_area_boxes_are_nan() {
    // Two degenerate boxes have a union of 0, and torchvision gives 0 / 0.
    let point = [1.0, 1.0, 1.0, 1.0];
    assert!(IouVariant::Iou.pair(point, point).is_nan());
}

#[test]
fn functional_threshold_replaces_low_values() {
    let (preds, target) = functional_boxes();
    let full = matrix(
        intersection_over_union(preds.view(), target.view(), Some(0.55), -7.0, false).unwrap(),
    );
    assert!((full[[0, 0]] - 0.6898).abs() < PRINTED);
    assert_eq!(full[[1, 1]], -7.0);
    assert!((full[[2, 2]] - 0.5654).abs() < PRINTED);
    assert_eq!(full[[0, 1]], -7.0);
}

#[test]
fn functional_empty_side_is_zero() {
    let preds = Array2::<f64>::zeros((0, 4));
    let target = array![[0.0, 0.0, 1.0, 1.0]];
    let mean = intersection_over_union(preds.view(), target.view(), None, 0.0, true).unwrap();
    assert_eq!(mean, Value::Scalar(0.0));
    let full =
        matrix(intersection_over_union(preds.view(), target.view(), None, 0.0, false).unwrap());
    assert_eq!(full.shape(), &[0, 1]);
}

#[test]
fn metric_iou_matches_torchmetrics_example() {
    let mut metric = IntersectionOverUnion::default();
    update(&mut metric, &[docstring_image()]).unwrap();
    let result = entries(&metric);
    assert_eq!(result.len(), 1);
    assert_eq!(result[0].0, "iou");
    assert!((result[0].1 - 0.8614).abs() < PRINTED);
}

#[test]
fn metric_class_metrics_match_torchmetrics_example() {
    let image = Image::new(
        array![
            [296.55, 93.96, 314.97, 152.79],
            [298.55, 98.96, 314.97, 151.79]
        ],
        &[4, 5],
        array![[300.0, 100.0, 315.0, 150.0], [300.0, 100.0, 315.0, 150.0]],
        &[4, 5],
    );
    let config = BoxIouConfig {
        class_metrics: true,
        ..BoxIouConfig::default()
    };
    let mut metric = IntersectionOverUnion::new(config).unwrap();
    update(&mut metric, &[image]).unwrap();

    let result = entries(&metric);
    let keys: Vec<&str> = result.iter().map(|(key, _)| key.as_str()).collect();
    assert_eq!(keys, ["iou", "iou/cl_4", "iou/cl_5"]);
    assert!((result[0].1 - 0.7756).abs() < PRINTED);
    assert!((result[1].1 - 0.6898).abs() < PRINTED);
    assert!((result[2].1 - 0.8614).abs() < PRINTED);
}

#[test]
fn metric_giou_matches_torchmetrics_example() {
    let mut metric = GeneralizedIntersectionOverUnion::default();
    update(&mut metric, &[docstring_image()]).unwrap();
    assert_eq!(entries(&metric)[0].0, "giou");
    assert!((headline(&metric) - 0.8613).abs() < PRINTED);
}

#[test]
fn metric_each_variant_averages_its_pairs() {
    // With respect_labels only the label-5 pair counts, so each metric returns its pair value.
    let image = docstring_image();
    let pred = [298.55, 98.96, 314.97, 151.79];
    let target = [300.0, 100.0, 315.0, 150.0];

    let mut diou = DistanceIntersectionOverUnion::default();
    update(&mut diou, std::slice::from_ref(&image)).unwrap();
    assert_eq!(entries(&diou)[0].0, "diou");
    assert_eq!(headline(&diou), IouVariant::Distance.pair(pred, target));

    let mut ciou = CompleteIntersectionOverUnion::default();
    update(&mut ciou, std::slice::from_ref(&image)).unwrap();
    assert_eq!(entries(&ciou)[0].0, "ciou");
    assert_eq!(headline(&ciou), IouVariant::Complete.pair(pred, target));
}

#[test]
fn metric_without_respect_labels_counts_all_pairs() {
    let image = docstring_image();
    let config = BoxIouConfig {
        respect_labels: false,
        ..BoxIouConfig::default()
    };
    let mut metric = IntersectionOverUnion::new(config).unwrap();
    update(&mut metric, std::slice::from_ref(&image)).unwrap();

    let target = [300.0, 100.0, 315.0, 150.0];
    let first = IouVariant::Iou.pair([296.55, 93.96, 314.97, 152.79], target);
    let second = IouVariant::Iou.pair([298.55, 98.96, 314.97, 151.79], target);
    assert!((headline(&metric) - (first + second) / 2.0).abs() < 1e-15);
}

#[test]
fn metric_threshold_drops_low_pairs() {
    // Two same-label pairs with IoU 1 and 0.25. A threshold of 0.5 keeps only the first.
    let image = Image::new(
        array![[0.0, 0.0, 4.0, 4.0], [1.0, 1.0, 3.0, 3.0]],
        &[0, 0],
        array![[0.0, 0.0, 4.0, 4.0]],
        &[0],
    );
    let mut all = IntersectionOverUnion::default();
    update(&mut all, std::slice::from_ref(&image)).unwrap();
    assert_eq!(headline(&all), 0.625);

    let config = BoxIouConfig {
        iou_threshold: Some(0.5),
        ..BoxIouConfig::default()
    };
    let mut thresholded = IntersectionOverUnion::new(config).unwrap();
    update(&mut thresholded, &[image]).unwrap();
    assert_eq!(headline(&thresholded), 1.0);
}

#[test]
fn metric_threshold_outside_value_range_rejected() {
    let config = |threshold: f64| BoxIouConfig {
        iou_threshold: Some(threshold),
        ..BoxIouConfig::default()
    };
    for threshold in [1.5, -0.1] {
        let error = IntersectionOverUnion::new(config(threshold)).unwrap_err();
        assert!(
            matches!(&error, Error::InvalidArgument { argument, .. } if argument == "iou_threshold"),
            "{error}"
        );
    }
    let error = CompleteIntersectionOverUnion::new(config(-2.5)).unwrap_err();
    assert!(error.to_string().contains("[-2, 1]"), "{error}");

    assert!(IntersectionOverUnion::new(config(0.0)).is_ok());
    assert!(IntersectionOverUnion::new(config(1.0)).is_ok());
    assert!(GeneralizedIntersectionOverUnion::new(config(-1.0)).is_ok());
    assert!(CompleteIntersectionOverUnion::new(config(-2.0)).is_ok());
}

#[test]
fn functional_threshold_outside_value_range_rejected() {
    let boxes = array![[0.0, 0.0, 1.0, 1.0]];
    let error =
        intersection_over_union(boxes.view(), boxes.view(), Some(2.0), 0.0, true).unwrap_err();
    assert!(error.to_string().contains("[0, 1]"), "{error}");
}

#[test]
fn metric_threshold_compares_variant_value() {
    // The label-0 pair is disjoint with GIoU -1/3, below the threshold -0.2, so only the
    // identical label-1 pair counts. An IoU threshold would compare 0, not -1/3.
    let image = Image::new(
        array![[0.0, 0.0, 1.0, 1.0], [0.0, 0.0, 1.0, 1.0]],
        &[0, 1],
        array![[2.0, 0.0, 3.0, 1.0], [0.0, 0.0, 1.0, 1.0]],
        &[0, 1],
    );
    let config = BoxIouConfig {
        iou_threshold: Some(-0.2),
        ..BoxIouConfig::default()
    };
    let mut metric = GeneralizedIntersectionOverUnion::new(config).unwrap();
    update(&mut metric, std::slice::from_ref(&image)).unwrap();
    assert_eq!(headline(&metric), 1.0);

    let mut unthresholded = GeneralizedIntersectionOverUnion::default();
    update(&mut unthresholded, &[image]).unwrap();
    assert!((headline(&unthresholded) - (1.0 - 1.0 / 3.0) / 2.0).abs() < 1e-15);
}

#[test]
fn metric_class_of_prediction_only_label_is_zero() {
    let config = BoxIouConfig {
        class_metrics: true,
        ..BoxIouConfig::default()
    };
    let mut metric = IntersectionOverUnion::new(config).unwrap();
    update(&mut metric, &[docstring_image()]).unwrap();

    let result = entries(&metric);
    let keys: Vec<&str> = result.iter().map(|(key, _)| key.as_str()).collect();
    assert_eq!(keys, ["iou", "iou/cl_4", "iou/cl_5"]);
    assert_eq!(result[1].1, 0.0);
    assert_eq!(result[2].1, result[0].1);
}

#[test]
fn metric_class_keys_keep_negative_labels() {
    let image = Image::new(
        array![[0.0, 0.0, 1.0, 1.0]],
        &[-3],
        array![[0.0, 0.0, 1.0, 1.0]],
        &[-3],
    );
    let config = BoxIouConfig {
        class_metrics: true,
        ..BoxIouConfig::default()
    };
    let mut metric = CompleteIntersectionOverUnion::new(config).unwrap();
    update(&mut metric, &[image]).unwrap();
    assert_eq!(entries(&metric)[1], ("ciou/cl_-3".to_owned(), 1.0));
}

#[test]
fn metric_image_without_predictions_counts_zeros() {
    // One perfect pair, then an image with two targets and no predictions: TorchMetrics adds
    // one zero per missed target with respect_labels, so the mean is 1/3.
    let perfect = Image::new(
        array![[0.0, 0.0, 1.0, 1.0]],
        &[0],
        array![[0.0, 0.0, 1.0, 1.0]],
        &[0],
    );
    let missed = Image::new(
        Array2::zeros((0, 4)),
        &[],
        array![[0.0, 0.0, 1.0, 1.0], [5.0, 5.0, 6.0, 6.0]],
        &[0, 1],
    );
    let config = BoxIouConfig {
        class_metrics: true,
        ..BoxIouConfig::default()
    };
    let mut metric = IntersectionOverUnion::new(config).unwrap();
    update(&mut metric, &[perfect.clone(), missed.clone()]).unwrap();
    let result = entries(&metric);
    assert!((result[0].1 - 1.0 / 3.0).abs() < 1e-15);
    assert_eq!(result[1], ("iou/cl_0".to_owned(), 0.5));
    assert_eq!(result[2], ("iou/cl_1".to_owned(), 0.0));

    // Without respect_labels TorchMetrics counts the whole 2 × 2 zero matrix: 1 / 5.
    let config = BoxIouConfig {
        respect_labels: false,
        ..BoxIouConfig::default()
    };
    let mut metric = IntersectionOverUnion::new(config).unwrap();
    update(&mut metric, &[perfect, missed]).unwrap();
    assert!((headline(&metric) - 0.2).abs() < 1e-15);
}

#[test]
fn metric_threshold_keeps_missed_target_zeros() {
    // TorchMetrics returns the zero matrix of an image without predictions before the
    // threshold applies, so its zero counts even though it is below 0.5.
    let perfect = Image::new(
        array![[0.0, 0.0, 1.0, 1.0]],
        &[0],
        array![[0.0, 0.0, 1.0, 1.0]],
        &[0],
    );
    let missed = Image::new(
        Array2::zeros((0, 4)),
        &[],
        array![[0.0, 0.0, 1.0, 1.0]],
        &[0],
    );
    let config = BoxIouConfig {
        iou_threshold: Some(0.5),
        ..BoxIouConfig::default()
    };
    let mut metric = IntersectionOverUnion::new(config).unwrap();
    update(&mut metric, &[perfect, missed]).unwrap();
    assert_eq!(headline(&metric), 0.5);
}

#[test]
fn metric_image_without_targets_counts_zeros() {
    let perfect = Image::new(
        array![[0.0, 0.0, 1.0, 1.0]],
        &[0],
        array![[0.0, 0.0, 1.0, 1.0]],
        &[0],
    );
    let unmatched = Image::new(
        array![[0.0, 0.0, 1.0, 1.0]],
        &[2],
        Array2::zeros((0, 4)),
        &[],
    );
    let config = BoxIouConfig {
        class_metrics: true,
        ..BoxIouConfig::default()
    };
    let mut metric = IntersectionOverUnion::new(config).unwrap();
    update(&mut metric, &[perfect, unmatched]).unwrap();
    let result = entries(&metric);
    assert_eq!(result[0], ("iou".to_owned(), 0.5));
    assert_eq!(result[1], ("iou/cl_0".to_owned(), 1.0));
    assert_eq!(result[2], ("iou/cl_2".to_owned(), 0.0));
}

#[test]
fn metric_zero_area_pair_is_nan() {
    let image = Image::new(
        array![[1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 1.0, 1.0]],
        &[0, 1],
        array![[1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 1.0, 1.0]],
        &[0, 1],
    );
    let mut metric = IntersectionOverUnion::default();
    update(&mut metric, &[image]).unwrap();
    assert!(headline(&metric).is_nan());
}

#[test]
fn metric_empty_state_is_zero() {
    let metric = GeneralizedIntersectionOverUnion::default();
    assert_eq!(entries(&metric), [("giou".to_owned(), 0.0)]);
}

#[test]
fn metric_box_formats_agree() {
    let xyxy = docstring_image();
    let to_format = |boxes: &Array2<f64>, format: BoxFormat| {
        let mut out = boxes.clone();
        for mut row in out.rows_mut() {
            let (x1, y1, x2, y2) = (row[0], row[1], row[2], row[3]);
            let converted = match format {
                BoxFormat::Xyxy => [x1, y1, x2, y2],
                BoxFormat::Xywh => [x1, y1, x2 - x1, y2 - y1],
                BoxFormat::Cxcywh => [(x1 + x2) / 2.0, (y1 + y2) / 2.0, x2 - x1, y2 - y1],
            };
            row.assign(&Array1::from(converted.to_vec()));
        }
        out
    };
    let mut expected = CompleteIntersectionOverUnion::default();
    update(&mut expected, std::slice::from_ref(&xyxy)).unwrap();

    for format in [BoxFormat::Xywh, BoxFormat::Cxcywh] {
        let mut image = xyxy.clone();
        image.pred_boxes = to_format(&xyxy.pred_boxes, format);
        image.target_boxes = to_format(&xyxy.target_boxes, format);
        let config = BoxIouConfig {
            box_format: format,
            ..BoxIouConfig::default()
        };
        let mut metric = CompleteIntersectionOverUnion::new(config).unwrap();
        update(&mut metric, &[image]).unwrap();
        assert!(
            (headline(&metric) - headline(&expected)).abs() < 1e-12,
            "{format}"
        );
    }
}

#[test]
fn metric_info_facts() {
    let cases = [
        (
            IntersectionOverUnion::default().info(),
            "IntersectionOverUnion",
            0.0,
        ),
        (
            GeneralizedIntersectionOverUnion::default().info(),
            "GeneralizedIntersectionOverUnion",
            -1.0,
        ),
        (
            DistanceIntersectionOverUnion::default().info(),
            "DistanceIntersectionOverUnion",
            -1.0,
        ),
        (
            CompleteIntersectionOverUnion::default().info(),
            "CompleteIntersectionOverUnion",
            -2.0,
        ),
    ];
    for (info, name, lower_bound) in cases {
        assert_eq!(info.name, name);
        assert_eq!(info.higher_is_better, Some(true), "{name}");
        assert!(!info.is_differentiable, "{name}");
        assert_eq!(info.lower_bound, lower_bound, "{name}");
        assert_eq!(info.upper_bound, 1.0, "{name}");
    }
}

#[test]
fn metric_state_round_trips_bytes() {
    let config = BoxIouConfig {
        class_metrics: true,
        iou_threshold: Some(0.1),
        ..BoxIouConfig::default()
    };
    let mut metric = DistanceIntersectionOverUnion::new(config).unwrap();
    update(&mut metric, &[docstring_image()]).unwrap();

    let restored = DistanceIntersectionOverUnion::from_bytes(&metric.to_bytes().unwrap()).unwrap();
    assert_eq!(restored, metric);
    assert_eq!(restored.config(), &config);
    assert_eq!(restored.compute().unwrap(), metric.compute().unwrap());
}

#[test]
fn from_bytes_other_family_member_fails() {
    let bytes = IntersectionOverUnion::default().to_bytes().unwrap();
    let error = GeneralizedIntersectionOverUnion::from_bytes(&bytes).unwrap_err();
    assert!(matches!(error, Error::IncompatibleState { .. }));
}

#[test]
fn merge_rejects_other_config() {
    let mut metric = IntersectionOverUnion::default();
    let other = IntersectionOverUnion::new(BoxIouConfig {
        respect_labels: false,
        ..BoxIouConfig::default()
    })
    .unwrap();
    let error = metric.merge(&other).unwrap_err();
    assert!(matches!(error, Error::IncompatibleState { .. }));
}

#[test]
fn forward_returns_batch_value_only() {
    let perfect = Image::new(
        array![[0.0, 0.0, 1.0, 1.0]],
        &[0],
        array![[0.0, 0.0, 1.0, 1.0]],
        &[0],
    );
    let mut metric = IntersectionOverUnion::default();
    update(&mut metric, &[docstring_image()]).unwrap();
    let before = headline(&metric);

    let preds = [perfect.preds()];
    let targets = [perfect.targets()];
    let batch = metric.forward((&preds, &targets)).unwrap();
    assert_eq!(
        batch,
        Value::Map(vec![("iou".to_owned(), Value::Scalar(1.0))])
    );
    assert!((headline(&metric) - (before + 1.0) / 2.0).abs() < 1e-15);
}

/// Checks that `result` is an `InvalidInput` error naming `argument`.
fn assert_invalid_input(result: Result<(), Error>, argument: &str) {
    match result {
        Err(Error::InvalidInput {
            argument: named, ..
        }) => assert_eq!(named, argument),
        other => panic!("expected an invalid input `{argument}`, got {other:?}"),
    }
}

#[test]
fn update_rejects_wrong_box_columns() {
    let mut image = docstring_image();
    image.target_boxes = array![[300.0, 100.0, 315.0]];
    let mut metric = IntersectionOverUnion::default();
    assert_invalid_input(update(&mut metric, &[image]), "target[0].boxes");
}

#[test]
fn update_rejects_non_finite_box() {
    let mut image = docstring_image();
    image.pred_boxes[[1, 2]] = f64::NAN;
    let mut metric = IntersectionOverUnion::default();
    let error = update(&mut metric, &[docstring_image(), image]).unwrap_err();
    assert!(matches!(
        &error,
        Error::NonFinite { argument, location, .. }
            if argument == "preds[1].boxes" && location == "row 1"
    ));
}

#[test]
fn update_rejects_reversed_corners() {
    let mut image = docstring_image();
    image.pred_boxes[[0, 2]] = 200.0;
    let mut metric = IntersectionOverUnion::default();
    let error = update(&mut metric, &[image]).unwrap_err();
    let message = error.to_string();
    assert!(message.contains("preds[0].boxes"), "{message}");
    assert!(message.contains("row 0"), "{message}");
    assert!(
        message.contains("non-negative width and height"),
        "{message}"
    );
}

#[test]
fn update_rejects_negative_size_after_conversion() {
    let image = Image::new(
        array![[10.0, 10.0, -2.0, 4.0]],
        &[0],
        array![[10.0, 10.0, 2.0, 4.0]],
        &[0],
    );
    let config = BoxIouConfig {
        box_format: BoxFormat::Cxcywh,
        ..BoxIouConfig::default()
    };
    let mut metric = IntersectionOverUnion::new(config).unwrap();
    assert_invalid_input(update(&mut metric, &[image]), "preds[0].boxes");
}

#[test]
fn update_rejects_missing_boxes() {
    let image = docstring_image();
    let preds = [ImagePredictions {
        boxes: None,
        ..image.preds()
    }];
    let targets = [image.targets()];
    let mut metric = IntersectionOverUnion::default();
    assert_invalid_input(metric.update((&preds, &targets)), "preds[0].boxes");
}

#[test]
fn update_rejects_label_count_mismatch() {
    let mut image = docstring_image();
    image.target_labels = array![5, 6];
    let mut metric = IntersectionOverUnion::default();
    let error = update(&mut metric, &[image]).unwrap_err();
    assert!(matches!(
        &error,
        Error::LengthMismatch { left, left_len: 2, right, right_len: 1 }
            if left == "target[0].labels" && right == "target[0].boxes"
    ));
}

#[test]
fn update_rejects_image_count_mismatch() {
    let image = docstring_image();
    let preds = [image.preds(), image.preds()];
    let targets = [image.targets()];
    let mut metric = IntersectionOverUnion::default();
    let error = metric.update((&preds, &targets)).unwrap_err();
    assert!(matches!(error, Error::LengthMismatch { .. }));
}

#[test]
fn rejected_batch_leaves_state_unchanged() {
    let mut metric = IntersectionOverUnion::new(BoxIouConfig {
        class_metrics: true,
        ..BoxIouConfig::default()
    })
    .unwrap();
    update(&mut metric, &[docstring_image()]).unwrap();
    let before = metric.clone();

    let mut bad = docstring_image();
    bad.target_boxes[[0, 0]] = f64::INFINITY;
    assert!(update(&mut metric, &[docstring_image(), bad]).is_err());
    assert_eq!(metric, before);
}

#[test]
fn nan_threshold_is_rejected() {
    let config = BoxIouConfig {
        iou_threshold: Some(f64::NAN),
        ..BoxIouConfig::default()
    };
    let error = CompleteIntersectionOverUnion::new(config).unwrap_err();
    assert!(
        matches!(&error, Error::InvalidArgument { argument, .. } if argument == "iou_threshold")
    );

    let boxes = array![[0.0, 0.0, 1.0, 1.0]];
    let error =
        intersection_over_union(boxes.view(), boxes.view(), Some(f64::NAN), 0.0, true).unwrap_err();
    assert!(
        matches!(&error, Error::InvalidArgument { argument, .. } if argument == "iou_threshold")
    );
}

#[test]
fn functional_rejects_invalid_boxes() {
    let good = array![[0.0, 0.0, 1.0, 1.0]];
    let narrow = array![[0.0, 0.0, 1.0]];
    let error = generalized_intersection_over_union(narrow.view(), good.view(), None, 0.0, true)
        .unwrap_err();
    assert!(matches!(&error, Error::InvalidInput { argument, .. } if argument == "preds"));

    let infinite = array![[0.0, 0.0, f64::INFINITY, 1.0]];
    let error = distance_intersection_over_union(good.view(), infinite.view(), None, 0.0, true)
        .unwrap_err();
    assert!(matches!(&error, Error::NonFinite { argument, .. } if argument == "target"));

    let reversed = array![[0.0, 2.0, 1.0, 1.0]];
    let error = complete_intersection_over_union(good.view(), reversed.view(), None, 0.0, true)
        .unwrap_err();
    assert!(matches!(&error, Error::InvalidInput { argument, .. } if argument == "target"));
}

fn arbitrary_box() -> impl Strategy<Value = [f64; 4]> {
    (0.0..50.0_f64, 0.0..50.0_f64, 0.5..30.0_f64, 0.5..30.0_f64)
        .prop_map(|(x, y, w, h)| [x, y, x + w, y + h])
}

fn arbitrary_image() -> impl Strategy<Value = Image> {
    let side = || prop::collection::vec((arbitrary_box(), 0_i64..3), 0..4);
    (side(), side()).prop_map(|(preds, targets)| {
        let to_array = |boxes: &[([f64; 4], i64)]| {
            Array2::from_shape_fn((boxes.len(), 4), |(i, k)| boxes[i].0[k])
        };
        let labels = |boxes: &[([f64; 4], i64)]| boxes.iter().map(|b| b.1).collect::<Vec<_>>();
        Image::new(
            to_array(&preds),
            &labels(&preds),
            to_array(&targets),
            &labels(&targets),
        )
    })
}

proptest! {
    #[test]
    fn split_and_merge_match_one_update(
        images in prop::collection::vec(arbitrary_image(), 1..8),
        split in 0_usize..8,
        respect_labels in any::<bool>(),
        threshold in prop::option::of(-0.5..0.8_f64),
    ) {
        let config = BoxIouConfig {
            box_format: BoxFormat::Xyxy,
            iou_threshold: threshold,
            class_metrics: true,
            respect_labels,
        };
        let split = split.min(images.len());

        let mut whole = CompleteIntersectionOverUnion::new(config).unwrap();
        update(&mut whole, &images).unwrap();

        let mut left = CompleteIntersectionOverUnion::new(config).unwrap();
        update(&mut left, &images[..split]).unwrap();
        let mut right = CompleteIntersectionOverUnion::new(config).unwrap();
        update(&mut right, &images[split..]).unwrap();
        // Merging in the reverse order must not matter either.
        right.merge(&left).unwrap();

        let expected = entries(&whole);
        let merged = entries(&right);
        prop_assert_eq!(expected.len(), merged.len());
        for ((key, value), (merged_key, merged_value)) in expected.iter().zip(&merged) {
            prop_assert_eq!(key, merged_key);
            prop_assert!((value - merged_value).abs() <= 1e-12 * value.abs().max(1.0));
        }
    }
}
