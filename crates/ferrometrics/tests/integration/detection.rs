//! COCO evaluation against pycocotools.
//!
//! The real-data tests read the COCO files from the folder in the `FERROMETRICS_COCO_DATA`
//! environment variable and are skipped, with a message, when it is unset. Expected values are
//! IEEE-754 bit patterns printed by pycocotools 2.0.11 with numpy 2.4 through
//! `python tests/integration/detection_reference.py $FERROMETRICS_COCO_DATA`.

use std::path::PathBuf;

use ferrometrics::detection::{
    evaluate, evaluate_accumulated, evaluation_details, pairwise_sum, Accumulation, CocoDataset,
    ImagePredictions, ImageTargets, IouType, MapConfig, MeanAveragePrecision, Params,
};
use ferrometrics::Metric;

fn data_dir() -> Option<PathBuf> {
    match std::env::var_os("FERROMETRICS_COCO_DATA") {
        Some(dir) => Some(PathBuf::from(dir)),
        None => {
            eprintln!("skipped: set FERROMETRICS_COCO_DATA to the folder of the COCO test files");
            None
        }
    }
}

fn run_files(
    truth: &str,
    results: &str,
    iou_type: IouType,
    params: &Params,
) -> Option<Accumulation> {
    let dir = data_dir()?;
    let truth = CocoDataset::from_path(dir.join(truth)).unwrap();
    let results = truth.load_results_path(dir.join(results)).unwrap();
    let accumulation = evaluate(&truth, &results, iou_type, params)
        .unwrap()
        .accumulate();
    let fused = evaluate_accumulated(&truth, &results, iou_type, params).unwrap();
    assert_eq!(
        fused, accumulation,
        "evaluate_accumulated differs from accumulate"
    );
    Some(accumulation)
}

struct Expected {
    stats: [u64; 12],
    precision_sum: u64,
    recall_sum: u64,
    recall_first: u64,
}

fn check(accumulation: &Accumulation, expected: &Expected) {
    let stats = accumulation.summarize().stats;
    for (index, (&actual, &bits)) in stats.iter().zip(&expected.stats).enumerate() {
        assert_eq!(
            actual.to_bits(),
            bits,
            "stat {index}: {actual} != {}",
            f64::from_bits(bits)
        );
    }
    let precision = accumulation.precision.as_slice().unwrap();
    let recall = accumulation.recall.as_slice().unwrap();
    assert_eq!(pairwise_sum(precision).to_bits(), expected.precision_sum);
    assert_eq!(pairwise_sum(recall).to_bits(), expected.recall_sum);
    let last = accumulation.recall.dim().3 - 1;
    assert_eq!(
        accumulation.recall[[0, 0, 0, last]].to_bits(),
        expected.recall_first
    );
}

const BIG: &str = "instances_val2014_100.json";
const FAKE_BBOX: &str = "instances_val2014_fakebbox100_results.json";
const FAKE_SEGM: &str = "instances_val2014_fakesegm100_results.json";

#[test]
fn coco_val2014_bbox_bit_exact() {
    let Some(accumulation) = run_files(BIG, FAKE_BBOX, IouType::Bbox, &Params::default()) else {
        return;
    };
    check(
        &accumulation,
        &Expected {
            stats: [
                0x3fe025866be6edee,
                0x3fe64d99be5d69ea,
                0x3fe255dda61dd05c,
                0x3fe2bd7226e46c32,
                0x3fe09eec1bd77e2c,
                0x3fe00b739b1d6b65,
                0x3fd8c18a6390390c,
                0x3fe2ff6c4f8e336d,
                0x3fe30d21b2e121c0,
                0x3fe47954d7013750,
                0x3fe2201e16f84845,
                0x3fe20eab28232609,
            ],
            precision_sum: 0xc0e2361ccae7f8c0,
            recall_sum: 0xc0175d9152e9b780,
            recall_first: 0x3fe978d4fdf3b646,
        },
    );
}

#[test]
fn coco_val2014_bbox_custom_thresholds() {
    let params = Params {
        iou_thresholds: vec![0.25, 0.5, 0.75],
        rec_thresholds: vec![0.25, 0.5, 0.75],
        ..Params::default()
    };
    let Some(accumulation) = run_files(BIG, FAKE_BBOX, IouType::Bbox, &params) else {
        return;
    };
    check(
        &accumulation,
        &Expected {
            stats: [
                0x3fe711f54aa29547,
                0x3fe878f4709148ad,
                0x3fe41e9e0b6050b6,
                0x3fea291b72fc83ac,
                0x3fe75e58925a6bb6,
                0x3fe5adb37628b4c0,
                0x3fdec198473a5915,
                0x3fe793739cef1b16,
                0x3fe7a5baba8d548b,
                0x3fe9bfcc2ac52b90,
                0x3fe6e1c3588c3c06,
                0x3fe65aceeb82a168,
            ],
            precision_sum: 0x4084987cb9d60d3d,
            recall_sum: 0x406eb7c73a158a4d,
            recall_first: 0x3fe978d4fdf3b646,
        },
    );
    assert_eq!(
        accumulation.precision[[0, 2, 0, 0, 2]].to_bits(),
        0x3fefae7cd0e028c2
    );
}

#[test]
fn coco_val2014_segm_bit_exact() {
    let Some(accumulation) = run_files(BIG, FAKE_SEGM, IouType::Segm, &Params::default()) else {
        return;
    };
    check(
        &accumulation,
        &Expected {
            stats: [
                0x3fd4736e07599793,
                0x3fe1fe443ca3c91b,
                0x3fd3219cc1fd2b19,
                0x3fd8cabc73429b82,
                0x3fd3da08a3e09206,
                0x3fd4ec7c31bcd039,
                0x3fd12aacff908748,
                0x3fda96b610ace65e,
                0x3fdaad7f9435256f,
                0x3fde0b776f656ae2,
                0x3fd81cd2bb3eaee1,
                0x3fd86a077aebbc62,
            ],
            precision_sum: 0xc1018064ffc20cd0,
            recall_sum: 0xc08fbb7b4fe857d7,
            recall_first: 0x3fe604189374bc6a,
        },
    );
}

#[test]
fn coco_val2014_box_results_as_masks() {
    // Box results in a segm evaluation are rasterized from their boxes, as loadRes does.
    let Some(accumulation) = run_files(BIG, FAKE_BBOX, IouType::Segm, &Params::default()) else {
        return;
    };
    check(
        &accumulation,
        &Expected {
            stats: [
                0x3fc0eae78f11fb17,
                0x3fd65362b122b241,
                0x3fb312cb8d3fda8f,
                0x3fc570628c0a4718,
                0x3fbc7b7f4cdade39,
                0x3fc5a7fc9885bcc8,
                0x3fc002da06f75478,
                0x3fc71029fabd5d1f,
                0x3fc732b55abf23e3,
                0x3fc90a53704ed63f,
                0x3fc1077a34daf4a4,
                0x3fcbf8e1b03d25f5,
            ],
            precision_sum: 0xc10e9aed882674d6,
            recall_sum: 0xc0a1ccecfdadc8ec,
            recall_first: 0x3fdb645a1cac0831,
        },
    );
}

const SMALL_STATS: [u64; 12] = [
    0x3fe63b24547d0afb,
    0x3fe63b24547d0afb,
    0x3fe63b24547d0afb,
    0xbff0000000000000,
    0x3fe958b67ebb907a,
    0x0000000000000000,
    0x3fe5555555555555,
    0x3fe8000000000000,
    0x3fe8000000000000,
    0xbff0000000000000,
    0x3fe9555555555555,
    0x0000000000000000,
];

#[test]
fn coco_dataset_pair_bbox_and_segm() {
    for iou_type in [IouType::Bbox, IouType::Segm] {
        let params = Params::default();
        let Some(accumulation) = run_files("gt_dataset.json", "dt_dataset.json", iou_type, &params)
        else {
            return;
        };
        check(
            &accumulation,
            &Expected {
                stats: SMALL_STATS,
                precision_sum: 0xc0ada95555555558,
                recall_sum: 0xc03faaaaaaaaaaac,
                recall_first: 0x3fe5555555555555,
            },
        );
    }
}

#[test]
fn coco_cat_dog_bbox() {
    let params = Params::default();
    let Some(accumulation) =
        run_files("gt_cat_dog.json", "dt_cat_dog.json", IouType::Bbox, &params)
    else {
        return;
    };
    check(
        &accumulation,
        &Expected {
            stats: [
                0x3fd93844f14c8bea,
                0x3fea9d260511be19,
                0x3fd8d18806c252cc,
                0xbff0000000000000,
                0xbff0000000000000,
                0x3fd93844f14c8bea,
                0x3fddddddddddddde,
                0x3fddddddddddddde,
                0x3fddddddddddddde,
                0xbff0000000000000,
                0xbff0000000000000,
                0x3fddddddddddddde,
            ],
            precision_sum: 0xc0bcb00000000000,
            recall_sum: 0xc050000000000000,
            recall_first: 0x3fe5555555555555,
        },
    );
}

#[test]
fn coco_cat_dog_segm() {
    let params = Params::default();
    let Some(accumulation) =
        run_files("gt_cat_dog.json", "dt_cat_dog.json", IouType::Segm, &params)
    else {
        return;
    };
    check(
        &accumulation,
        &Expected {
            stats: [
                0x3fe6625834b885d4,
                0x3fea9d260511be19,
                0x3fea9d260511be19,
                0xbff0000000000000,
                0xbff0000000000000,
                0x3fe6625834b885d4,
                0x3fe6eeeeeeeeeef0,
                0x3fe6eeeeeeeeeef0,
                0x3fe6eeeeeeeeeef0,
                0xbff0000000000000,
                0xbff0000000000000,
                0x3fe6eeeeeeeeeef0,
            ],
            precision_sum: 0xc0ac740000000000,
            recall_sum: 0xc041000000000001,
            recall_first: 0x3fe5555555555555,
        },
    );
}

/// Returns the twelve summary lines that val2014_fake_eval_res.txt (cocoapi's own printout)
/// contains for `iou_type`.
fn printed_summary(dir: &std::path::Path, iou_type: &str) -> String {
    let text = std::fs::read_to_string(dir.join("val2014_fake_eval_res.txt")).unwrap();
    let section = text.split(&format!("type={iou_type}\n")).nth(1).unwrap();
    let lines: Vec<&str> = section
        .lines()
        .filter(|line| line.starts_with(" Average"))
        .take(12)
        .collect();
    lines.join("\n") + "\n"
}

/// pycocotools 2.0.11's `summarize()` printout for gt_cat_dog.json / dt_cat_dog.json, bbox.
const CAT_DOG_PRINTOUT: &str = concat!(
    " Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 0.394\n",
    " Average Precision  (AP) @[ IoU=0.50      | area=   all | maxDets=100 ] = 0.832\n",
    " Average Precision  (AP) @[ IoU=0.75      | area=   all | maxDets=100 ] = 0.388\n",
    " Average Precision  (AP) @[ IoU=0.50:0.95 | area= small | maxDets=100 ] = -1.000\n",
    " Average Precision  (AP) @[ IoU=0.50:0.95 | area=medium | maxDets=100 ] = -1.000\n",
    " Average Precision  (AP) @[ IoU=0.50:0.95 | area= large | maxDets=100 ] = 0.394\n",
    " Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets=  1 ] = 0.467\n",
    " Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets= 10 ] = 0.467\n",
    " Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 0.467\n",
    " Average Recall     (AR) @[ IoU=0.50:0.95 | area= small | maxDets=100 ] = -1.000\n",
    " Average Recall     (AR) @[ IoU=0.50:0.95 | area=medium | maxDets=100 ] = -1.000\n",
    " Average Recall     (AR) @[ IoU=0.50:0.95 | area= large | maxDets=100 ] = 0.467\n",
);

#[test]
fn summary_display_matches_pycocotools_layout() {
    let params = Params::default();
    let Some(accumulation) =
        run_files("gt_cat_dog.json", "dt_cat_dog.json", IouType::Bbox, &params)
    else {
        return;
    };
    assert_eq!(accumulation.summarize().to_string(), CAT_DOG_PRINTOUT);
}

/// Collapses runs of spaces: the printout of the 2015 cocoapi pads the titles one space less
/// than pycocotools 2.0.11 does.
fn squeeze(text: &str) -> Vec<String> {
    text.lines()
        .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect()
}

#[test]
fn summary_values_match_cocoapi_printout() {
    let Some(dir) = data_dir() else {
        return;
    };
    for (iou_type, results) in [(IouType::Bbox, FAKE_BBOX), (IouType::Segm, FAKE_SEGM)] {
        let accumulation = run_files(BIG, results, iou_type, &Params::default()).unwrap();
        let printed = accumulation.summarize().to_string();
        let expected = printed_summary(&dir, iou_type.as_str());
        assert_eq!(squeeze(&printed), squeeze(&expected), "{iou_type:?}");
    }
}

/// Builds one image with a 20x20 object of category 1, a crowd region and two detections.
fn details_datasets() -> (CocoDataset, CocoDataset) {
    let truth = CocoDataset::from_json_str(
        r#"{"images": [{"id": 1}], "categories": [{"id": 1}],
            "annotations": [
              {"id": 5, "image_id": 1, "category_id": 1, "bbox": [10, 10, 20, 20], "area": 400},
              {"id": 6, "image_id": 1, "category_id": 1, "bbox": [50, 50, 40, 40],
               "area": 1600, "iscrowd": 1}]}"#,
    )
    .unwrap();
    let results = truth
        .load_results_str(
            r#"[{"image_id": 1, "category_id": 1, "bbox": [60, 60, 10, 10], "score": 0.8},
                {"image_id": 1, "category_id": 1, "bbox": [12, 10, 20, 20], "score": 0.9}]"#,
        )
        .unwrap();
    (truth, results)
}

#[test]
fn details_ious_rows_in_score_order() {
    let (truth, results) = details_datasets();
    let details = evaluation_details(&truth, &results, IouType::Bbox, &Params::default()).unwrap();

    assert_eq!(details.ious.len(), 1);
    assert_eq!(details.ious[0].0, (1, 1));
    // Result ids follow file order, so the higher-scored detection (row 0) has id 2.
    assert_eq!(
        details.ious[0].1,
        ndarray::array![[360.0 / 440.0, 0.0], [0.0, 1.0]]
    );
}

#[test]
fn details_crowd_match_is_ignored() {
    let (truth, results) = details_datasets();
    let details = evaluation_details(&truth, &results, IouType::Bbox, &Params::default()).unwrap();
    // Four area ranges of one image and category.
    assert_eq!(details.images.len(), 4);
    let all = details.images[0].as_ref().unwrap();

    assert_eq!(all.detection_ids, vec![2, 1]);
    assert_eq!(all.truth_ids, vec![5, 6]);
    assert_eq!(all.truth_ignore, vec![false, true]);
    assert!(all.detection_matches.column(1).iter().all(|&id| id == 6));
    assert!(all
        .detection_ignore
        .column(1)
        .iter()
        .all(|&ignored| ignored));
    assert_eq!(all.truth_matches[[0, 0]], 2);
    assert_eq!(all.truth_matches[[9, 0]], 0);
}

#[test]
fn details_small_range_ignore_flags() {
    let (truth, results) = details_datasets();
    let details = evaluation_details(&truth, &results, IouType::Bbox, &Params::default()).unwrap();
    let small = details.images[1].as_ref().unwrap();

    // Object 5 (area 400) is small; the crowd (1600) is medium and ignored anyway.
    assert_eq!(small.truth_ignore, vec![false, true]);
    // Detection 1 (area 100) is small and matches the crowd, so it stays ignored.
    assert!(small
        .detection_ignore
        .column(1)
        .iter()
        .all(|&ignored| ignored));
}

#[test]
fn map_extended_ious_need_extended_summary() {
    let metric = MeanAveragePrecision::default();

    let error = metric.extended_ious(0).unwrap_err();

    assert!(error.to_string().contains("extended_summary"), "{error}");
}

#[test]
fn map_extended_ious_keyed_by_image_and_class() {
    let config = MapConfig {
        extended_summary: true,
        ..MapConfig::default()
    };
    let mut metric = MeanAveragePrecision::new(config).unwrap();
    let pred_boxes = ndarray::array![[12.0, 10.0, 32.0, 30.0]];
    let target_boxes = ndarray::array![[10.0, 10.0, 30.0, 30.0], [0.0, 0.0, 5.0, 5.0]];
    let scores = ndarray::array![0.9];
    let pred_labels = ndarray::array![1_i64];
    let target_labels = ndarray::array![1_i64, 2];
    let preds = [ImagePredictions {
        boxes: Some(pred_boxes.view()),
        scores: scores.view(),
        labels: pred_labels.view(),
        masks: None,
    }];
    let targets = [ImageTargets {
        boxes: Some(target_boxes.view()),
        labels: target_labels.view(),
        iscrowd: None,
        area: None,
        masks: None,
    }];
    metric.update((&preds, &targets)).unwrap();

    let ious = metric.extended_ious(0).unwrap();

    assert_eq!(ious.len(), 2);
    assert_eq!(ious[0].0, (0, 1));
    assert_eq!(ious[0].1, ndarray::array![[360.0 / 440.0]]);
    assert_eq!(ious[1].0, (0, 2));
    // Class 2 has one object and no detections.
    assert_eq!(ious[1].1.dim(), (0, 1));
    assert!(metric.extended_ious(1).is_err());
}

#[test]
fn details_truth_id_zero_counts_as_match() {
    // The object's file area puts it in the large range, while the detection's box area (400)
    // lies outside it. pycocotools reads the match id 0 as no match and ignores the detection.
    let truth = CocoDataset::from_json_str(
        r#"{"images": [{"id": 1}], "categories": [{"id": 1}],
            "annotations": [{"id": 0, "image_id": 1, "category_id": 1,
                             "bbox": [10, 10, 20, 20], "area": 10000}]}"#,
    )
    .unwrap();
    let results = truth
        .load_results_str(
            r#"[{"image_id": 1, "category_id": 1, "bbox": [10, 10, 20, 20], "score": 0.9}]"#,
        )
        .unwrap();
    let details = evaluation_details(&truth, &results, IouType::Bbox, &Params::default()).unwrap();
    let large = details.images[3].as_ref().unwrap();

    assert_eq!(large.detection_matches[[0, 0]], 0);
    assert_eq!(large.truth_matches[[0, 0]], 1);
    assert!(!large.detection_ignore[[0, 0]]);
}
