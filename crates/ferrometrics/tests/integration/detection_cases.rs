//! Hand-made COCO cases against pycocotools.
//!
//! The case files in tests/data/detection and the expected bit patterns come from
//! `python tests/integration/detection_cases.py tests/data/detection` (pycocotools 2.0.11,
//! numpy 2.4), which writes the files and prints pycocotools' numbers for each case.

use std::path::PathBuf;

use ferrometrics::detection::{
    evaluate, evaluate_accumulated, pairwise_sum, CocoDataset, IouType, Params,
};

struct Expected {
    stats: [u64; 12],
    precision_sum: u64,
    recall_sum: u64,
}

fn case_path(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/detection")
        .join(file)
}

fn check_case(name: &str, params: &Params, expected: &Expected) {
    let truth = CocoDataset::from_path(case_path(&format!("{name}_gt.json"))).unwrap();
    let results = truth
        .load_results_path(case_path(&format!("{name}_dt.json")))
        .unwrap();
    let accumulation = evaluate(&truth, &results, IouType::Bbox, params)
        .unwrap()
        .accumulate();
    let fused = evaluate_accumulated(&truth, &results, IouType::Bbox, params).unwrap();
    assert_eq!(
        fused, accumulation,
        "{name}: evaluate_accumulated differs from accumulate"
    );

    let stats = accumulation.summarize().stats;
    for (index, (&actual, &bits)) in stats.iter().zip(&expected.stats).enumerate() {
        assert_eq!(
            actual.to_bits(),
            bits,
            "{name} stat {index}: {actual} != {}",
            f64::from_bits(bits)
        );
    }
    let precision = pairwise_sum(accumulation.precision.as_slice().unwrap());
    let recall = pairwise_sum(accumulation.recall.as_slice().unwrap());
    assert_eq!(
        precision.to_bits(),
        expected.precision_sum,
        "{name} precision sum"
    );
    assert_eq!(recall.to_bits(), expected.recall_sum, "{name} recall sum");
}

#[test]
fn case_empty_image() {
    check_case(
        "empty_image",
        &Params::default(),
        &Expected {
            stats: [
                0x3fd363dd8759ba0a,
                0x3fd58b67ebb90799,
                0x3fd58b67ebb90799,
                0xbff0000000000000,
                0x3fd363dd8759ba0a,
                0xbff0000000000000,
                0x3fd3333333333333,
                0x3fd3333333333333,
                0x3fd3333333333333,
                0xbff0000000000000,
                0x3fd3333333333333,
                0xbff0000000000000,
            ],
            precision_sum: 0xc0b0800000000000,
            recall_sum: 0xc045000000000000,
        },
    );
}
#[test]
fn case_detections_without_truth() {
    check_case(
        "detections_without_truth",
        &Params::default(),
        &Expected {
            stats: [
                0x3fd3333333333332,
                0x3fd5555555555557,
                0x3fd5555555555557,
                0xbff0000000000000,
                0x3fd3333333333332,
                0xbff0000000000000,
                0x3feccccccccccccd,
                0x3feccccccccccccd,
                0x3feccccccccccccd,
                0xbff0000000000000,
                0x3feccccccccccccd,
                0xbff0000000000000,
            ],
            precision_sum: 0xc0b0920000000000,
            recall_sum: 0xc018000000000000,
        },
    );
}
#[test]
fn case_category_without_truth() {
    check_case(
        "category_without_truth",
        &Params::default(),
        &Expected {
            stats: [
                0x3fee666666666665,
                0x3fefffffffffffff,
                0x3fefffffffffffff,
                0xbff0000000000000,
                0x3fee666666666665,
                0xbff0000000000000,
                0x3fee666666666666,
                0x3fee666666666666,
                0x3fee666666666666,
                0xbff0000000000000,
                0x3fee666666666666,
                0xbff0000000000000,
            ],
            precision_sum: 0xc0c8db0000000000,
            recall_sum: 0xc05f800000000000,
        },
    );
}
#[test]
fn case_crowd() {
    check_case(
        "crowd",
        &Params::default(),
        &Expected {
            stats: [
                0x3fee6a74981446f8,
                0x3ff0000000000000,
                0x3ff0000000000000,
                0x3fee6a74981446f8,
                0xbff0000000000000,
                0xbff0000000000000,
                0x3fe0000000000000,
                0x3fee666666666666,
                0x3fee666666666666,
                0x3fee666666666666,
                0xbff0000000000000,
                0xbff0000000000000,
            ],
            precision_sum: 0xc092c00000000000,
            recall_sum: 0xc028000000000000,
        },
    );
}
#[test]
fn case_tied_scores() {
    check_case(
        "tied_scores",
        &Params::default(),
        &Expected {
            stats: [
                0x3fe49d7c893590cf,
                0x3fe49d7c893590cf,
                0x3fe49d7c893590cf,
                0x3fe0000000000000,
                0x3ff0000000000000,
                0xbff0000000000000,
                0x0000000000000000,
                0x3ff0000000000000,
                0x3ff0000000000000,
                0x3ff0000000000000,
                0x3ff0000000000000,
                0xbff0000000000000,
            ],
            precision_sum: 0x4094555555555554,
            recall_sum: 0x403e000000000000,
        },
    );
}
#[test]
fn case_degenerate_boxes() {
    check_case(
        "degenerate_boxes",
        &Params::default(),
        &Expected {
            stats: [
                0x3fb58b67ebb9079b,
                0x3fb58b67ebb9079b,
                0x3fb58b67ebb9079b,
                0x3fb58b67ebb9079b,
                0xbff0000000000000,
                0xbff0000000000000,
                0x0000000000000000,
                0x3fd5555555555556,
                0x3fd5555555555556,
                0x3fd5555555555556,
                0xbff0000000000000,
                0xbff0000000000000,
            ],
            precision_sum: 0xc0b6580000000000,
            recall_sum: 0xc047555555555556,
        },
    );
}
#[test]
fn case_more_than_max_dets() {
    check_case(
        "more_than_max_dets",
        &Params::default(),
        &Expected {
            stats: [
                0x3fb05cb5dd12c6ed,
                0x3fb742e78fd3213f,
                0x3fb742e78fd3213f,
                0x3fae498e0fdd62c9,
                0x3feffffffffffffe,
                0xbff0000000000000,
                0x3fb2492492492492,
                0x3fb2492492492492,
                0x3fe715f15f15f15e,
                0x3fe6666666666666,
                0x3ff0000000000000,
                0xbff0000000000000,
            ],
            precision_sum: 0xc0b65ac359c6d1db,
            recall_sum: 0xc03cb6db6db6db6c,
        },
    );
}
#[test]
fn case_random_small() {
    check_case(
        "random_small",
        &Params::default(),
        &Expected {
            stats: [
                0x3fbbe37cc71f2abf,
                0x3fcedec7e76cb8b3,
                0x3fb854551cc3db73,
                0x3f73c5322fa6c7bb,
                0x3fc9b476f2f22427,
                0x3fd4d0dafe7aad5f,
                0x3fb0c30c30c30c31,
                0x3fd4888888888889,
                0x3fd4888888888889,
                0x3f95555555555555,
                0x3fd7d27d27d27d27,
                0x3fd4cccccccccccd,
            ],
            precision_sum: 0x407abba428ce2fca,
            recall_sum: 0x403f59e79e79e79e,
        },
    );
}
#[test]
fn case_random_areas() {
    check_case(
        "random_areas",
        &Params::default(),
        &Expected {
            stats: [
                0x3fb980a2cd4908ad,
                0x3fca6ed223d4c943,
                0x3fb8de1cc1a5aed5,
                0x3f7d9e8643a39802,
                0x3fc8d1b6f59f6562,
                0x3fd2e217519da7cb,
                0x3fb1a1da1da1da1e,
                0x3fd091a91a91a91b,
                0x3fd091a91a91a91b,
                0x3fa4cccccccccccd,
                0x3fd76fc78d096127,
                0x3fd360b60b60b60b,
            ],
            precision_sum: 0x409fe72680d51948,
            recall_sum: 0x404a1d472ecd472f,
        },
    );
}
#[test]
fn case_custom_thresholds() {
    check_case(
        "random_areas",
        &Params {
            iou_thresholds: vec![0.1, 0.3, 0.5, 0.7],
            rec_thresholds: vec![0.0, 0.2, 0.4, 0.6, 0.8, 1.0],
            ..Params::default()
        },
        &Expected {
            stats: [
                0x3fd1644bf864c225,
                0x3fcad83537d8d63d,
                0xbff0000000000000,
                0x3fc4f2b9d6480f2b,
                0x3fd9abc6af3b4200,
                0x3fde38e38e38e38e,
                0x3fc38e38e38e38e4,
                0x3fe243983983983a,
                0x3fe243983983983a,
                0x3fd78e38e38e38e4,
                0x3fe6992b74992b75,
                0x3fdf1c71c71c71c7,
            ],
            precision_sum: 0x4069dd7e76537905,
            recall_sum: 0x404ef3d8d423d8d4,
        },
    );
}
#[test]
fn case_max_dets_without_100() {
    // pycocotools reports -1 for the mean AP because 100 is not configured; the
    // expected value is np.mean over precision[:, :, :, 0, -1] where it is > -1.
    check_case(
        "random_areas",
        &Params {
            max_detections: vec![1, 5, 50],
            ..Params::default()
        },
        &Expected {
            stats: [
                0x3fb980a2cd4908ad,
                0x3fca6ed223d4c943,
                0x3fb8de1cc1a5aed5,
                0x3f7d9e8643a39802,
                0x3fc8d1b6f59f6562,
                0x3fd2e217519da7cb,
                0x3fb1a1da1da1da1e,
                0x3fcffa3fa3fa3fa5,
                0x3fd091a91a91a91b,
                0x3fa4cccccccccccd,
                0x3fd76fc78d096127,
                0x3fd360b60b60b60b,
            ],
            precision_sum: 0x409f36ade2daeb74,
            recall_sum: 0x40499f374dcf374e,
        },
    );
}
#[test]
fn case_max_dets_below_detections() {
    // pycocotools reports -1 for the mean AP because 100 is not configured; the
    // expected value is np.mean over precision[:, :, :, 0, -1] where it is > -1.
    check_case(
        "random_areas",
        &Params {
            max_detections: vec![1, 2, 3],
            ..Params::default()
        },
        &Expected {
            stats: [
                0x3fb33bf519947ec4,
                0x3fc3f34676890cdc,
                0x3fb26160e6d1d331,
                0x3f7809527f7f1184,
                0x3fc553750002cf18,
                0x3fc5e1ec0f8bbe70,
                0x3fb1a1da1da1da1e,
                0x3fc0d9ed9ed9ed9e,
                0x3fc98f98f98f98fa,
                0x3fa1f49f49f49f4a,
                0x3fd312ac45df7912,
                0x3fc5b05b05b05b05,
            ],
            precision_sum: 0x407f886cbade4c22,
            recall_sum: 0x40390ca6e88ca6e8,
        },
    );
}
#[test]
fn case_pooled_categories() {
    check_case(
        "random_areas",
        &Params {
            use_categories: false,
            ..Params::default()
        },
        &Expected {
            stats: [
                0x3fb910968ddf1fca,
                0x3fcb16221081e303,
                0x3fb68c0da133afba,
                0x3f74a9d88e53aaee,
                0x3fc7f133899eff07,
                0x3fd8c96ba36691a9,
                0x3f9d70a3d70a3d70,
                0x3fcc28f5c28f5c2a,
                0x3fd31eb851eb851e,
                0x3faddddddddddddd,
                0x3fd999999999999a,
                0x3fda666666666666,
            ],
            precision_sum: 0x4095781d08fde99a,
            recall_sum: 0x4036144444444444,
        },
    );
}

#[test]
fn thread_count_does_not_change_results() {
    let truth = CocoDataset::from_path(case_path("random_areas_gt.json")).unwrap();
    let results = truth
        .load_results_path(case_path("random_areas_dt.json"))
        .unwrap();
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            evaluate(&truth, &results, IouType::Bbox, &Params::default())
                .unwrap()
                .accumulate()
        })
    };

    let run_fused = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            evaluate_accumulated(&truth, &results, IouType::Bbox, &Params::default()).unwrap()
        })
    };

    let single = run(1);
    for threads in [2, 3, 8] {
        let many = run(threads);
        assert_eq!(many.precision, single.precision, "{threads} threads");
        assert_eq!(many.recall, single.recall, "{threads} threads");
        assert_eq!(many.scores, single.scores, "{threads} threads");
    }
    for threads in [1, 2, 8] {
        assert_eq!(
            run_fused(threads),
            single,
            "evaluate_accumulated on {threads} threads"
        );
    }
}

#[test]
fn evaluate_accumulated_rejects_like_evaluate() {
    let truth = CocoDataset::from_path(case_path("random_small_gt.json")).unwrap();
    let results = truth
        .load_results_path(case_path("random_small_dt.json"))
        .unwrap();
    let params = Params {
        max_detections: vec![],
        ..Params::default()
    };

    let fused = evaluate_accumulated(&truth, &results, IouType::Bbox, &params).unwrap_err();
    let separate = evaluate(&truth, &results, IouType::Bbox, &params).unwrap_err();

    assert_eq!(fused.to_string(), separate.to_string());
    assert!(fused.to_string().contains("max_detection_thresholds"));
}
