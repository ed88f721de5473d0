//! Distributed sync over MPI, run as `mpirun -n N target/.../mpi_sync` for N = 1, 2, 4 (and by
//! `cargo test` as one process). For one metric of each domain, every rank's synced value must
//! equal the value of one process over all the data, with even shards, uneven shards and one
//! rank without data. Integer and stored states must match exactly, floating-point moments
//! within 1e-12 relative.
//!
//! With `FERROMETRICS_COCO_DATA` set to the folder of the COCO val2014 sample
//! (instances_val2014_100.json and the fakebbox100 and fakesegm100 results), COCO mAP on that
//! data is checked too.
//!
//! Every rank computes the single-process values itself, so each check runs on every rank. A
//! failed check panics, which makes mpirun end the job with a nonzero status.

use std::ops::Range;
use std::path::PathBuf;

use ferrometrics::aggregation::{CatMetric, MeanMetric, SumMetric};
use ferrometrics::clustering::{
    AdjustedRandScore, CalinskiHarabaszScore, MutualInfoScore, RandScore,
};
use ferrometrics::detection::{
    evaluate, shard_images, BoxFormat, CocoDataset, ImagePredictions, ImageTargets, IouType,
    MapConfig, MeanAveragePrecision, Params,
};
use ferrometrics::distributed::{Communicator, Distributed};
use ferrometrics::inputs::LabelPairs;
use ferrometrics::regression::{PearsonCorrCoef, SpearmanCorrCoef};
use ferrometrics::{Error, Metric, MetricCollection, Result, Value};
use ferrometrics_mpi::MpiCommunicator;
use ndarray::{Array1, Array2, ArrayD};

/// SplitMix64, so every rank generates the same data.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1_u64 << 53) as f64
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

/// Contiguous shards of `n` items over `size` ranks: even, growing with the rank, and with one
/// rank left without data.
fn layouts(n: usize, size: usize) -> Vec<(&'static str, Vec<Range<usize>>)> {
    let split = |weights: &[usize]| {
        let total: usize = weights.iter().sum();
        let mut ranges = Vec::with_capacity(weights.len());
        let (mut start, mut cumulative) = (0, 0);
        for &weight in weights {
            cumulative += weight;
            let end = n * cumulative / total;
            ranges.push(start..end);
            start = end;
        }
        ranges
    };

    let uneven: Vec<usize> = (1..=size).map(|rank| rank * rank).collect();
    let mut layouts = vec![("even", split(&vec![1; size])), ("uneven", split(&uneven))];
    if size > 1 {
        let mut with_empty = vec![1; size];
        with_empty[size / 2] = 0;
        layouts.push(("one empty rank", split(&with_empty)));
    }
    layouts
}

fn assert_close(actual: &Value, expected: &Value, tolerance: f64, context: &str) {
    match (actual, expected) {
        (Value::Scalar(a), Value::Scalar(e)) => assert_scalar_close(*a, *e, tolerance, context),
        (Value::Array(a), Value::Array(e)) => {
            assert_eq!(a.shape(), e.shape(), "{context}: shape");
            for (index, (&a, &e)) in a.iter().zip(e).enumerate() {
                assert_scalar_close(a, e, tolerance, &format!("{context}, element {index}"));
            }
        }
        (Value::Map(a), Value::Map(e)) => {
            assert_eq!(a.len(), e.len(), "{context}: entry count");
            for ((key, a), (expected_key, e)) in a.iter().zip(e) {
                assert_eq!(key, expected_key, "{context}: keys");
                assert_close(a, e, tolerance, &format!("{context}, key {key}"));
            }
        }
        _ => panic!("{context}: {actual:?} and {expected:?} are different kinds of value"),
    }
}

fn assert_scalar_close(actual: f64, expected: f64, tolerance: f64, context: &str) {
    if expected.is_nan() {
        assert!(actual.is_nan(), "{context}: {actual} is not NaN");
    } else if tolerance == 0.0 {
        assert_eq!(actual, expected, "{context}");
    } else {
        let error = (actual - expected).abs();
        assert!(
            error <= tolerance * expected.abs(),
            "{context}: {actual} differs from {expected} by {error:e}"
        );
    }
}

/// Checks every layout of `items` over the ranks of `communicator`: the synced value equals
/// one update over all items, and the rank-0-only sync gives the same value on rank 0.
fn check_sharded<M, T>(
    communicator: &dyn Communicator,
    template: &M,
    items: &[T],
    update: impl Fn(&mut M, &[T]) -> Result<()>,
    tolerance: f64,
) where
    M: Metric,
{
    let name = template.info().name;
    let mut single = template.empty();
    update(&mut single, items).unwrap();
    let expected: Value = single.compute().unwrap().into();

    for (layout, ranges) in layouts(items.len(), communicator.size()) {
        let range = ranges[communicator.rank()].clone();
        let middle = (range.start + range.end) / 2;
        let mut local = template.empty();
        for batch in [&items[range.start..middle], &items[middle..range.end]] {
            if !batch.is_empty() {
                update(&mut local, batch).unwrap();
            }
        }

        let context = format!(
            "{name}, {layout}, rank {} of {}",
            communicator.rank(),
            communicator.size()
        );
        let synced: Value = local
            .synced(communicator)
            .unwrap()
            .compute()
            .unwrap()
            .into();
        assert_close(&synced, &expected, tolerance, &context);

        if let Some(root) = local.synced_to_root(communicator).unwrap() {
            let value: Value = root.compute().unwrap().into();
            assert_close(&value, &expected, tolerance, &format!("{context}, to root"));
        }
    }
}

fn values_batch(values: impl Iterator<Item = f64>) -> ArrayD<f64> {
    Array1::from_iter(values).into_dyn()
}

fn random_pairs(seed: u64, n: usize) -> Vec<(f64, f64)> {
    let mut rng = Rng(seed);
    (0..n)
        .map(|_| {
            let target = rng.uniform() * 1e3 + 1e6;
            (0.5 * target + rng.uniform() * 100.0, target)
        })
        .collect()
}

fn random_labels(seed: u64, n: usize) -> Vec<(i64, i64)> {
    let mut rng = Rng(seed);
    (0..n)
        .map(|_| {
            let target = rng.below(5) as i64;
            let pred = if rng.below(3) < 2 {
                target + 10
            } else {
                rng.below(7) as i64
            };
            (pred, target)
        })
        .collect()
}

fn label_arrays(items: &[(i64, i64)]) -> (Array1<i64>, Array1<i64>) {
    let preds = items.iter().map(|&(pred, _)| pred).collect();
    let target = items.iter().map(|&(_, target)| target).collect();
    (preds, target)
}

fn check_aggregation(communicator: &dyn Communicator) {
    let items = random_pairs(1, 203);
    let mean = |metric: &mut MeanMetric, batch: &[(f64, f64)]| {
        let values = values_batch(batch.iter().map(|&(v, _)| v));
        let weights = values_batch(batch.iter().map(|&(_, w)| w / 1e6));
        metric.update((values.view(), Some(weights.view())))
    };
    check_sharded(communicator, &MeanMetric::default(), &items, mean, 1e-12);

    // A state whose size grows with the data and differs between ranks.
    let cat = |metric: &mut CatMetric, batch: &[(f64, f64)]| {
        let values = values_batch(batch.iter().map(|&(v, _)| v));
        metric.update((values.view(), None))
    };
    check_sharded(communicator, &CatMetric::default(), &items, cat, 0.0);
}

fn check_clustering(communicator: &dyn Communicator) {
    let labels = random_labels(2, 311);
    let extrinsic = |metric: &mut AdjustedRandScore, batch: &[(i64, i64)]| {
        let (preds, target) = label_arrays(batch);
        metric.update((preds.view(), target.view()))
    };
    check_sharded(
        communicator,
        &AdjustedRandScore::new(),
        &labels,
        extrinsic,
        0.0,
    );

    let mut rng = Rng(3);
    let rows: Vec<([f64; 3], i64)> = (0..150)
        .map(|_| {
            let label = rng.below(4) as i64;
            let centre = 3.0 * label as f64;
            let row = [
                centre + rng.uniform(),
                -centre + rng.uniform(),
                rng.uniform(),
            ];
            (row, label)
        })
        .collect();
    let intrinsic = |metric: &mut CalinskiHarabaszScore, batch: &[([f64; 3], i64)]| {
        let data = Array2::from_shape_fn((batch.len(), 3), |(i, j)| batch[i].0[j]);
        let labels: Array1<i64> = batch.iter().map(|&(_, label)| label).collect();
        metric.update((data.view(), labels.view()))
    };
    check_sharded(
        communicator,
        &CalinskiHarabaszScore::new(),
        &rows,
        intrinsic,
        1e-12,
    );
}

fn check_regression(communicator: &dyn Communicator) {
    let items = random_pairs(4, 401);
    let pearson = |metric: &mut PearsonCorrCoef, batch: &[(f64, f64)]| {
        let preds = values_batch(batch.iter().map(|&(p, _)| p));
        let target = values_batch(batch.iter().map(|&(_, t)| t));
        metric.update((preds.view(), target.view()))
    };
    check_sharded(
        communicator,
        &PearsonCorrCoef::new(1).unwrap(),
        &items,
        pearson,
        1e-12,
    );

    // Spearman keeps every sample, as exact curves do, so the state size varies by rank.
    let spearman = |metric: &mut SpearmanCorrCoef, batch: &[(f64, f64)]| {
        let preds = values_batch(batch.iter().map(|&(p, _)| p));
        let target = values_batch(batch.iter().map(|&(_, t)| t));
        metric.update((preds.view(), target.view()))
    };
    check_sharded(
        communicator,
        &SpearmanCorrCoef::new(1).unwrap(),
        &items,
        spearman,
        0.0,
    );
}

/// One image of owned arrays, boxes as `[x, y, width, height]`.
struct DetectionImage {
    pred_boxes: Array2<f64>,
    scores: Array1<f64>,
    pred_labels: Array1<i64>,
    target_boxes: Array2<f64>,
    target_labels: Array1<i64>,
    iscrowd: Array1<bool>,
    area: Array1<f64>,
}

fn update_detection(metric: &mut MeanAveragePrecision, batch: &[DetectionImage]) -> Result<()> {
    let preds: Vec<ImagePredictions<'_>> = batch
        .iter()
        .map(|image| ImagePredictions {
            boxes: Some(image.pred_boxes.view()),
            scores: image.scores.view(),
            labels: image.pred_labels.view(),
            masks: None,
        })
        .collect();
    let targets: Vec<ImageTargets<'_>> = batch
        .iter()
        .map(|image| ImageTargets {
            boxes: Some(image.target_boxes.view()),
            labels: image.target_labels.view(),
            iscrowd: Some(image.iscrowd.view()),
            area: Some(image.area.view()),
            masks: None,
        })
        .collect();
    metric.update((&preds, &targets))
}

/// Random images whose scores are multiples of 0.05, so that equal scores on different images
/// test that the sync keeps the image order.
fn random_images(seed: u64, n: usize) -> Vec<DetectionImage> {
    let mut rng = Rng(seed);
    let random_box = |rng: &mut Rng| {
        let side = 8.0 + rng.uniform() * 150.0;
        [rng.uniform() * 400.0, rng.uniform() * 400.0, side, side]
    };
    (0..n)
        .map(|_| {
            let (mut truths, mut truth_labels) = (Vec::new(), Vec::new());
            let (mut preds, mut scores, mut pred_labels) = (Vec::new(), Vec::new(), Vec::new());
            for _ in 0..rng.below(6) {
                let truth = random_box(&mut rng);
                let label = rng.below(3) as i64;
                truths.extend(truth);
                truth_labels.push(label);
                if rng.below(4) > 0 {
                    let shift = rng.uniform() * 12.0;
                    preds.extend([truth[0] + shift, truth[1], truth[2], truth[3]]);
                    scores.push(rng.below(20) as f64 * 0.05);
                    pred_labels.push(label);
                }
            }
            let count = truth_labels.len();
            DetectionImage {
                pred_boxes: Array2::from_shape_vec((scores.len(), 4), preds).unwrap(),
                scores: Array1::from(scores),
                pred_labels: Array1::from(pred_labels),
                target_boxes: Array2::from_shape_vec((count, 4), truths).unwrap(),
                target_labels: Array1::from(truth_labels),
                iscrowd: Array1::from_elem(count, false),
                area: Array1::from_elem(count, 0.0),
            }
        })
        .collect()
}

/// Converts a COCO ground truth and results into one image per ground-truth image id, in
/// ascending id order, the order in which pycocotools breaks score ties.
fn coco_images(truth: &CocoDataset, results: &CocoDataset) -> Vec<DetectionImage> {
    let mut ids: Vec<i64> = truth.images.iter().map(|image| image.id).collect();
    ids.sort_unstable();
    ids.into_iter()
        .map(|id| {
            let objects: Vec<_> = truth
                .annotations
                .iter()
                .filter(|a| a.image_id == id)
                .collect();
            let found: Vec<_> = results
                .annotations
                .iter()
                .filter(|a| a.image_id == id)
                .collect();
            let boxes = |list: &[&ferrometrics::detection::Annotation]| {
                let flat: Vec<f64> = list.iter().flat_map(|a| a.bbox.unwrap()).collect();
                Array2::from_shape_vec((list.len(), 4), flat).unwrap()
            };
            DetectionImage {
                pred_boxes: boxes(&found),
                scores: found.iter().map(|a| a.score).collect(),
                pred_labels: found.iter().map(|a| a.category_id).collect(),
                target_boxes: boxes(&objects),
                target_labels: objects.iter().map(|a| a.category_id).collect(),
                iscrowd: objects.iter().map(|a| a.is_crowd).collect(),
                area: objects.iter().map(|a| a.area).collect(),
            }
        })
        .collect()
}

fn xywh_metric() -> MeanAveragePrecision {
    MeanAveragePrecision::new(MapConfig {
        box_format: BoxFormat::Xywh,
        class_metrics: true,
        ..MapConfig::default()
    })
    .unwrap()
}

fn check_detection(communicator: &dyn Communicator) {
    let images = random_images(5, 60);
    check_sharded(communicator, &xywh_metric(), &images, update_detection, 0.0);

    let Some(folder) = std::env::var_os("FERROMETRICS_COCO_DATA").map(PathBuf::from) else {
        if communicator.rank() == 0 {
            println!("COCO data: skipped, FERROMETRICS_COCO_DATA is not set");
        }
        return;
    };
    let truth = CocoDataset::from_path(folder.join("instances_val2014_100.json")).unwrap();
    for (iou_type, file) in [
        (IouType::Bbox, "instances_val2014_fakebbox100_results.json"),
        (IouType::Segm, "instances_val2014_fakesegm100_results.json"),
    ] {
        let results = truth.load_results_path(folder.join(file)).unwrap();
        if iou_type == IouType::Bbox {
            let images = coco_images(&truth, &results);
            check_sharded(communicator, &xywh_metric(), &images, update_detection, 0.0);
        }
        check_coco_shards(communicator, &truth, &results, iou_type);
    }
}

/// Checks that the evaluations of `shard_images` blocks, synced over the ranks, give the
/// twelve summary numbers of one evaluation of the whole dataset, to the bit.
fn check_coco_shards(
    communicator: &dyn Communicator,
    truth: &CocoDataset,
    results: &CocoDataset,
    iou_type: IouType,
) {
    let params = Params::default();
    let whole = evaluate(truth, results, iou_type, &params).unwrap();
    let expected = whole.accumulate().summarize().stats;

    let (rank, size) = (communicator.rank(), communicator.size());
    let (truth_shard, results_shard) = shard_images(truth, results, rank, size).unwrap();
    let shard = evaluate(&truth_shard, &results_shard, iou_type, &params).unwrap();
    let synced = shard.synced(communicator).unwrap();
    assert_eq!(
        synced, whole,
        "{iou_type:?} evaluation, rank {rank} of {size}"
    );
    assert_eq!(
        synced.accumulate().summarize().stats,
        expected,
        "{iou_type:?} stats, rank {rank} of {size}"
    );
}

fn label_collection() -> MetricCollection<LabelPairs> {
    let mut collection = MetricCollection::new();
    collection.add("rand", RandScore::new()).unwrap();
    collection.add("ari", AdjustedRandScore::new()).unwrap();
    collection.add("mi", MutualInfoScore::new()).unwrap();
    collection
}

fn check_collection(communicator: &dyn Communicator) {
    let items = random_labels(6, 97);
    let mut single = label_collection();
    let (preds, target) = label_arrays(&items);
    single.update((preds.view(), target.view())).unwrap();
    let expected = Value::Map(single.compute().unwrap());

    for (layout, ranges) in layouts(items.len(), communicator.size()) {
        let mut local = label_collection();
        let range = ranges[communicator.rank()].clone();
        if !range.is_empty() {
            let (preds, target) = label_arrays(&items[range]);
            local.update((preds.view(), target.view())).unwrap();
        }
        let synced = Value::Map(local.synced(communicator).unwrap().compute().unwrap());
        let context = format!("collection, {layout}, rank {}", communicator.rank());
        assert_close(&synced, &expected, 0.0, &context);
    }
}

/// The last rank sends bytes that are no state; every other rank must name it. One rank has no
/// other rank to check it, so this check passes trivially there.
fn check_garbage(communicator: &dyn Communicator) {
    let (rank, size) = (communicator.rank(), communicator.size());
    if size == 1 {
        return;
    }
    let bad_rank = size - 1;
    if rank == bad_rank {
        communicator.all_gather(b"\x01not a state").unwrap();
        communicator.gather_to_root(b"\x01not a state").unwrap();
        return;
    }

    let mut metric = SumMetric::default();
    let value = values_batch([1.0].into_iter());
    metric.update((value.view(), None)).unwrap();
    let error = metric.synced(communicator).err().unwrap();
    assert!(
        matches!(&error, Error::RankState { rank, .. } if *rank == bad_rank),
        "rank {rank}: {error}"
    );
    assert!(
        error.to_string().contains(&format!("rank {bad_rank}")),
        "{error}"
    );

    let rooted = metric.synced_to_root(communicator);
    if rank == 0 {
        let error = rooted.err().unwrap();
        assert!(matches!(&error, Error::RankState { rank, .. } if *rank == bad_rank));
    } else {
        assert!(rooted.unwrap().is_none());
    }
}

/// A check that every rank runs.
type Check = fn(&dyn Communicator);

fn main() {
    let universe = mpi::initialize().expect("MPI is initialized once per process");
    let communicator = MpiCommunicator::world(&universe);
    let checks: [(&str, Check); 7] = [
        ("aggregation", check_aggregation),
        ("clustering", check_clustering),
        ("regression", check_regression),
        ("detection", check_detection),
        ("collection", check_collection),
        ("garbage state", check_garbage),
        ("gather of empty states", check_empty_bytes),
    ];
    for (name, check) in checks {
        check(&communicator);
        if communicator.rank() == 0 {
            println!("{name}: ok on {} ranks", communicator.size());
        }
    }
}

/// Gathers empty byte strings from every rank, then from the even ranks only, the edge cases
/// of the count exchange.
fn check_empty_bytes(communicator: &dyn Communicator) {
    let size = communicator.size();
    let gathered = communicator.all_gather(&[]).unwrap();
    assert_eq!(gathered, vec![Vec::<u8>::new(); size]);
    let rooted = communicator.gather_to_root(&[]).unwrap();
    if communicator.rank() == 0 {
        assert_eq!(rooted.unwrap(), vec![Vec::<u8>::new(); size]);
    }

    let bytes_of = |rank: usize| vec![rank as u8; (rank % 2) * (rank + 1)];
    let expected: Vec<Vec<u8>> = (0..size).map(bytes_of).collect();
    let own = bytes_of(communicator.rank());
    assert_eq!(communicator.all_gather(&own).unwrap(), expected);
    let rooted = communicator.gather_to_root(&own).unwrap();
    if communicator.rank() == 0 {
        assert_eq!(rooted.unwrap(), expected);
    }
}
