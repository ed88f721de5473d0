//! Distributed sync over an in-process group. For one metric of each domain and for a
//! collection, the value after syncing 1, 2 or 4 ranks equals one process's value over all the
//! data, with even shards, uneven shards and a rank without data. Integer and stored states
//! match exactly, floating-point moments within 1e-12 relative.

use std::ops::Range;

use ferrometrics::aggregation::{CatMetric, MaxMetric, MeanMetric, NanStrategy, SumMetric};
use ferrometrics::clustering::{
    AdjustedRandScore, CalinskiHarabaszScore, FowlkesMallowsIndex, MutualInfoScore,
    NormalizedMutualInfoScore, RandScore, SilhouetteScore,
};
use ferrometrics::detection::{ImagePredictions, ImageTargets, MeanAveragePrecision};
use ferrometrics::distributed::{
    send_failure, send_failure_to_root, Communicator, Distributed, LocalGroup, SyncState,
};
use ferrometrics::inputs::LabelPairs;
use ferrometrics::regression::{PearsonCorrCoef, SpearmanCorrCoef};
use ferrometrics::{Error, Metric, MetricCollection, Result, Value};
use ndarray::{arr0, Array1, Array2, ArrayD};

const RANK_COUNTS: [usize; 3] = [1, 2, 4];

/// SplitMix64, so the data is the same on every run and platform.
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
        let mut start = 0;
        let mut cumulative = 0;
        for &weight in weights {
            cumulative += weight;
            let end = n * cumulative / total;
            ranges.push(start..end);
            start = end;
        }
        ranges
    };

    let even = vec![1; size];
    let uneven: Vec<usize> = (1..=size).map(|rank| rank * rank).collect();
    let mut layouts = vec![("even", split(&even)), ("uneven", split(&uneven))];
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
            let a_keys: Vec<&str> = a.iter().map(|(key, _)| key.as_str()).collect();
            let e_keys: Vec<&str> = e.iter().map(|(key, _)| key.as_str()).collect();
            assert_eq!(a_keys, e_keys, "{context}: keys");
            for ((key, a), (_, e)) in a.iter().zip(e) {
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

/// Checks that every rank's synced value equals one process's value over `items`, for every
/// rank count and layout. Each rank folds its shard in two batches and skips empty batches, so
/// a rank without data was never updated.
fn check_sharded<M, T, F>(template: &M, items: &[T], update: F, tolerance: f64)
where
    M: Metric,
    T: Sync,
    F: Fn(&mut M, &[T]) -> Result<()> + Sync,
{
    let mut single = template.empty();
    update(&mut single, items).unwrap();
    let expected: Value = single.compute().unwrap().into();

    for size in RANK_COUNTS {
        for (layout, ranges) in layouts(items.len(), size) {
            let values = LocalGroup::run(size, |communicator| {
                let range = ranges[communicator.rank()].clone();
                let middle = (range.start + range.end) / 2;
                let mut local = template.empty();
                for batch in [&items[range.start..middle], &items[middle..range.end]] {
                    if !batch.is_empty() {
                        update(&mut local, batch)?;
                    }
                }
                local.synced(communicator)?.compute().map(Into::into)
            })
            .unwrap();

            for (rank, value) in values.into_iter().enumerate() {
                let context = format!(
                    "{} on {size} ranks, {layout}, rank {rank}",
                    template.info().name
                );
                assert_close(&value.unwrap(), &expected, tolerance, &context);
            }
        }
    }
}

fn values_batch(values: &[f64]) -> ArrayD<f64> {
    Array1::from(values.to_vec()).into_dyn()
}

fn random_values(seed: u64, n: usize) -> Vec<(f64, f64)> {
    let mut rng = Rng(seed);
    (0..n)
        .map(|_| (rng.uniform() * 200.0 - 50.0, 0.1 + rng.uniform()))
        .collect()
}

fn random_label_pairs(seed: u64, n: usize) -> Vec<(i64, i64)> {
    let mut rng = Rng(seed);
    (0..n)
        .map(|_| {
            let target = rng.below(5) as i64;
            // Predictions agree with the target two times out of three.
            let pred = if rng.below(3) < 2 {
                target + 10
            } else {
                rng.below(7) as i64
            };
            (pred, target)
        })
        .collect()
}

fn update_label_pairs<M: Metric<Kind = LabelPairs>>(
    metric: &mut M,
    items: &[(i64, i64)],
) -> Result<()> {
    let preds: Array1<i64> = items.iter().map(|&(pred, _)| pred).collect();
    let target: Array1<i64> = items.iter().map(|&(_, target)| target).collect();
    metric.update((preds.view(), target.view()))
}

#[test]
fn mean_metric_weighted_any_sharding() {
    let items = random_values(1, 203);
    let update = |metric: &mut MeanMetric, batch: &[(f64, f64)]| {
        let values = values_batch(&batch.iter().map(|&(v, _)| v).collect::<Vec<_>>());
        let weights = values_batch(&batch.iter().map(|&(_, w)| w).collect::<Vec<_>>());
        metric.update((values.view(), Some(weights.view())))
    };
    check_sharded(&MeanMetric::default(), &items, update, 1e-12);
}

#[test]
fn cat_metric_keeps_rank_order() {
    let items: Vec<f64> = random_values(2, 57).into_iter().map(|(v, _)| v).collect();
    let update =
        |metric: &mut CatMetric, batch: &[f64]| metric.update((values_batch(batch).view(), None));
    check_sharded(&CatMetric::default(), &items, update, 0.0);
}

#[test]
fn extrinsic_clustering_exact_any_sharding() {
    let items = random_label_pairs(3, 311);
    check_sharded(&AdjustedRandScore::new(), &items, update_label_pairs, 0.0);
    check_sharded(
        &NormalizedMutualInfoScore::default(),
        &items,
        update_label_pairs,
        0.0,
    );
}

fn random_rows(seed: u64, n: usize) -> Vec<([f64; 3], i64)> {
    let mut rng = Rng(seed);
    (0..n)
        .map(|_| {
            let label = rng.below(4) as i64;
            let centre = 3.0 * label as f64;
            let row = [
                centre + rng.uniform(),
                -centre + rng.uniform(),
                rng.uniform() * 2.0,
            ];
            (row, label)
        })
        .collect()
}

fn rows_batch(batch: &[([f64; 3], i64)]) -> (Array2<f64>, Array1<i64>) {
    let mut data = Array2::zeros((batch.len(), 3));
    for (i, (row, _)) in batch.iter().enumerate() {
        for (j, &x) in row.iter().enumerate() {
            data[[i, j]] = x;
        }
    }
    let labels = batch.iter().map(|&(_, label)| label).collect();
    (data, labels)
}

#[test]
fn intrinsic_clustering_any_sharding() {
    let items = random_rows(4, 150);
    let update = |metric: &mut CalinskiHarabaszScore, batch: &[([f64; 3], i64)]| {
        let (data, labels) = rows_batch(batch);
        metric.update((data.view(), labels.view()))
    };
    check_sharded(&CalinskiHarabaszScore::new(), &items, update, 1e-12);

    // The silhouette keeps every row, so its synced value is exact.
    let update = |metric: &mut SilhouetteScore, batch: &[([f64; 3], i64)]| {
        let (data, labels) = rows_batch(batch);
        metric.update((data.view(), labels.view()))
    };
    let silhouette = SilhouetteScore::new(None, 0).unwrap();
    check_sharded(&silhouette, &items, update, 0.0);
}

#[test]
fn pearson_and_spearman_any_sharding() {
    let mut rng = Rng(5);
    let items: Vec<(f64, f64)> = (0..401)
        .map(|_| {
            let target = rng.uniform() * 1e3 + 1e6;
            (0.5 * target + rng.uniform() * 100.0, target)
        })
        .collect();
    let pearson = |metric: &mut PearsonCorrCoef, batch: &[(f64, f64)]| {
        let preds = values_batch(&batch.iter().map(|&(p, _)| p).collect::<Vec<_>>());
        let target = values_batch(&batch.iter().map(|&(_, t)| t).collect::<Vec<_>>());
        metric.update((preds.view(), target.view()))
    };
    check_sharded(&PearsonCorrCoef::new(1).unwrap(), &items, pearson, 1e-12);

    let spearman = |metric: &mut SpearmanCorrCoef, batch: &[(f64, f64)]| {
        let preds = values_batch(&batch.iter().map(|&(p, _)| p).collect::<Vec<_>>());
        let target = values_batch(&batch.iter().map(|&(_, t)| t).collect::<Vec<_>>());
        metric.update((preds.view(), target.view()))
    };
    check_sharded(&SpearmanCorrCoef::new(1).unwrap(), &items, spearman, 0.0);
}

/// One image of owned arrays.
struct DetectionImage {
    pred_boxes: Array2<f64>,
    scores: Array1<f64>,
    pred_labels: Array1<i64>,
    target_boxes: Array2<f64>,
    target_labels: Array1<i64>,
}

fn random_box(rng: &mut Rng) -> [f64; 4] {
    let x = rng.uniform() * 400.0;
    let y = rng.uniform() * 400.0;
    let side = 8.0 + rng.uniform() * 150.0;
    [x, y, x + side, y + side * (0.5 + rng.uniform())]
}

/// Images whose detections jitter the ground truth or are false positives. Scores are
/// multiples of 0.05, so equal scores on different images test that the image order survives
/// the sync.
fn random_images(seed: u64, n: usize) -> Vec<DetectionImage> {
    let mut rng = Rng(seed);
    let mut images = Vec::with_capacity(n);
    for _ in 0..n {
        let mut target_boxes = Vec::new();
        let mut target_labels = Vec::new();
        let mut pred_boxes = Vec::new();
        let mut scores = Vec::new();
        let mut pred_labels = Vec::new();
        for _ in 0..rng.below(6) {
            let truth = random_box(&mut rng);
            let label = rng.below(3) as i64;
            target_boxes.extend(truth);
            target_labels.push(label);
            if rng.below(4) > 0 {
                let shift = rng.uniform() * 12.0;
                pred_boxes.extend(truth.map(|x| x + shift));
                scores.push(rng.below(20) as f64 * 0.05);
                pred_labels.push(label);
            }
        }
        for _ in 0..rng.below(3) {
            pred_boxes.extend(random_box(&mut rng));
            scores.push(rng.below(20) as f64 * 0.05);
            pred_labels.push(rng.below(3) as i64);
        }
        images.push(DetectionImage {
            pred_boxes: Array2::from_shape_vec((scores.len(), 4), pred_boxes).unwrap(),
            scores: Array1::from(scores),
            pred_labels: Array1::from(pred_labels),
            target_boxes: Array2::from_shape_vec((target_labels.len(), 4), target_boxes).unwrap(),
            target_labels: Array1::from(target_labels),
        });
    }
    images
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
            iscrowd: None,
            area: None,
            masks: None,
        })
        .collect();
    metric.update((&preds, &targets))
}

#[test]
fn mean_average_precision_exact_any_sharding() {
    let images = random_images(6, 60);
    check_sharded(
        &MeanAveragePrecision::default(),
        &images,
        update_detection,
        0.0,
    );
}

fn label_collection() -> MetricCollection<LabelPairs> {
    let mut collection = MetricCollection::new().with_prefix("val_");
    collection.add("rand", RandScore::new()).unwrap();
    collection.add("ari", AdjustedRandScore::new()).unwrap();
    collection.add("mi", MutualInfoScore::new()).unwrap();
    collection.add("fmi", FowlkesMallowsIndex::new()).unwrap();
    collection
        .add("pairs", CatMetricOfPreds::default())
        .unwrap();
    collection
}

/// A member without a shared state: every prediction seen, as floats.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
struct CatMetricOfPreds(Vec<f64>);

impl Metric for CatMetricOfPreds {
    type Kind = LabelPairs;
    type Output = Array1<f64>;

    fn info(&self) -> ferrometrics::MetricInfo {
        ferrometrics::MetricInfo {
            name: "CatMetricOfPreds",
            higher_is_better: None,
            is_differentiable: false,
            lower_bound: f64::NEG_INFINITY,
            upper_bound: f64::INFINITY,
        }
    }

    fn update(&mut self, (preds, _): ferrometrics::Input<'_, Self>) -> Result<()> {
        self.0.extend(preds.iter().map(|&pred| pred as f64));
        Ok(())
    }

    fn compute(&self) -> Result<Array1<f64>> {
        Ok(Array1::from(self.0.clone()))
    }

    fn reset(&mut self) {
        self.0.clear();
    }

    fn merge(&mut self, other: &Self) -> Result<()> {
        self.0.extend_from_slice(&other.0);
        Ok(())
    }
}

fn update_collection(
    collection: &mut MetricCollection<LabelPairs>,
    items: &[(i64, i64)],
) -> Result<()> {
    let preds: Array1<i64> = items.iter().map(|&(pred, _)| pred).collect();
    let target: Array1<i64> = items.iter().map(|&(_, target)| target).collect();
    collection.update((preds.view(), target.view()))
}

#[test]
fn collection_exact_any_sharding() {
    let items = random_label_pairs(7, 97);
    let mut single = label_collection();
    update_collection(&mut single, &items).unwrap();
    let expected = Value::Map(single.compute().unwrap());

    for size in RANK_COUNTS {
        for (layout, ranges) in layouts(items.len(), size) {
            let values = LocalGroup::run(size, |communicator| {
                let mut local = label_collection();
                let range = ranges[communicator.rank()].clone();
                if !range.is_empty() {
                    update_collection(&mut local, &items[range])?;
                }
                local.synced(communicator)?.compute()
            })
            .unwrap();
            for (rank, value) in values.into_iter().enumerate() {
                let context = format!("collection on {size} ranks, {layout}, rank {rank}");
                assert_close(&Value::Map(value.unwrap()), &expected, 0.0, &context);
            }
        }
    }
}

#[test]
fn collection_other_members_rejected() {
    let results = LocalGroup::run(2, |communicator| {
        let mut collection = label_collection();
        if communicator.rank() == 1 {
            collection.add("extra", RandScore::new()).unwrap();
        }
        collection.synced(communicator).map(|_| ())
    })
    .unwrap();
    for result in results {
        let error = result.unwrap_err();
        let Error::RankState { rank, error } = &error else {
            panic!("{error} is not a rank state error");
        };
        // Each rank rejects the other's member list first, since its own list decodes.
        assert!(
            matches!(**error, Error::IncompatibleState { .. }),
            "{error}"
        );
        assert!(*rank <= 1);
    }
}

fn sum_of(values: &[f64]) -> SumMetric {
    let mut metric = SumMetric::default();
    metric.update((values_batch(values).view(), None)).unwrap();
    metric
}

#[test]
fn garbage_from_rank_named() {
    let results = LocalGroup::run(4, |communicator| {
        if communicator.rank() == 2 {
            communicator.all_gather(b"\x01garbage")?;
            return Ok(None);
        }
        sum_of(&[1.0]).synced(communicator).map(Some)
    })
    .unwrap();

    for (rank, result) in results.into_iter().enumerate() {
        if rank == 2 {
            continue;
        }
        let error = result.unwrap_err();
        assert!(
            matches!(&error, Error::RankState { rank: 2, .. }),
            "rank {rank}: {error}"
        );
        assert!(error.to_string().contains("rank 2"), "{error}");
    }
}

#[test]
fn malformed_messages_named() {
    let messages: [&[u8]; 2] = [b"", b"\x07state"];
    for message in messages {
        let results = LocalGroup::run(2, |communicator| {
            if communicator.rank() == 1 {
                communicator.all_gather(message)?;
                return Ok(None);
            }
            sum_of(&[1.0]).synced(communicator).map(Some)
        })
        .unwrap();
        let error = results[0].clone().unwrap_err();
        assert!(
            matches!(&error, Error::RankState { rank: 1, .. }),
            "{message:?}: {error}"
        );
    }
}

#[test]
fn failure_message_named() {
    let results = LocalGroup::run(2, |communicator| {
        if communicator.rank() == 1 {
            communicator.all_gather(b"\x00the codec failed")?;
            return Ok(None);
        }
        sum_of(&[1.0]).synced(communicator).map(Some)
    })
    .unwrap();
    let error = results[0].clone().unwrap_err();
    assert_eq!(
        error,
        Error::RankFailed {
            rank: 1,
            message: "the codec failed".to_owned()
        }
    );
}

#[test]
fn other_metric_type_rejected() {
    let results = LocalGroup::run(3, |communicator| {
        let values = values_batch(&[1.0]);
        if communicator.rank() == 1 {
            let mut max = MaxMetric::default();
            max.update((values.view(), None))?;
            return max.synced(communicator).map(|_| ());
        }
        sum_of(&[1.0]).synced(communicator).map(|_| ())
    })
    .unwrap();

    for (rank, result) in results.into_iter().enumerate() {
        let expected_rank = if rank == 1 { 0 } else { 1 };
        let error = result.unwrap_err();
        let Error::RankState { rank: bad, error } = &error else {
            panic!("rank {rank}: {error} is not a rank state error");
        };
        assert_eq!(*bad, expected_rank, "rank {rank}");
        assert!(
            matches!(**error, Error::IncompatibleState { .. }),
            "{error}"
        );
    }
}

#[test]
fn other_configuration_rejected() {
    let results = LocalGroup::run(2, |communicator| {
        let strategy = if communicator.rank() == 0 {
            NanStrategy::Warn
        } else {
            NanStrategy::Ignore
        };
        SumMetric::new(strategy).synced(communicator).map(|_| ())
    })
    .unwrap();
    let error = results[0].clone().unwrap_err();
    let Error::RankState { rank, error } = &error else {
        panic!("{error} is not a rank state error");
    };
    assert_eq!(*rank, 1);
    assert!(
        error.to_string().contains("nan_strategy"),
        "{error} does not name the field"
    );
}

#[test]
fn synced_to_root_only_root_gets_state() {
    let results = LocalGroup::run(3, |communicator| {
        let rank = communicator.rank() as f64;
        sum_of(&[rank, 10.0]).synced_to_root(communicator)
    })
    .unwrap();
    let root = results[0].clone().unwrap().unwrap();
    assert_eq!(root.compute().unwrap(), 33.0);
    assert!(results[1].clone().unwrap().is_none());
    assert!(results[2].clone().unwrap().is_none());
}

#[test]
fn synced_to_root_garbage_named_on_root() {
    let results = LocalGroup::run(2, |communicator| {
        if communicator.rank() == 1 {
            communicator.gather_to_root(b"\x01\xff\xff")?;
            return Ok(None);
        }
        sum_of(&[1.0]).synced_to_root(communicator)
    })
    .unwrap();
    let error = results[0].clone().unwrap_err();
    assert!(matches!(error, Error::RankState { rank: 1, .. }), "{error}");
}

#[test]
fn sync_guard_unsync_restores_local() {
    let results = LocalGroup::run(2, |communicator| {
        let mut metric = sum_of(&[1.0 + communicator.rank() as f64]);
        let guard = metric.sync(communicator)?;
        let global = guard.compute()?;
        guard.unsync();
        Ok::<_, Error>((global, metric.compute()?))
    })
    .unwrap();
    assert_eq!(results[0], Ok((3.0, 1.0)));
    assert_eq!(results[1], Ok((3.0, 2.0)));
}

#[test]
fn sync_guard_keep_keeps_global() {
    let results = LocalGroup::run(2, |communicator| {
        let mut metric = sum_of(&[1.0 + communicator.rank() as f64]);
        metric.sync(communicator)?.keep();
        metric.compute()
    })
    .unwrap();
    assert_eq!(results, [Ok(3.0), Ok(3.0)]);
}

#[test]
fn sync_error_leaves_state_unchanged() {
    let results = LocalGroup::run(2, |communicator| {
        if communicator.rank() == 1 {
            communicator.all_gather(b"\x01bad")?;
            return Ok(None);
        }
        let mut metric = sum_of(&[5.0]);
        let error = metric.sync(communicator).err();
        Ok::<_, Error>(Some((error, metric.compute()?)))
    })
    .unwrap();
    let (error, value) = results[0].clone().unwrap().unwrap();
    assert!(matches!(error, Some(Error::RankState { rank: 1, .. })));
    assert_eq!(value, 5.0);
}

#[test]
fn guard_dereferences_to_metric() {
    let results = LocalGroup::run(1, |communicator| {
        let mut metric = CatMetric::default();
        metric.update((arr0(4.0).into_dyn().view(), None))?;
        let mut guard = metric.sync(communicator)?;
        guard.update((arr0(5.0).into_dyn().view(), None))?;
        let during = guard.compute()?;
        drop(guard);
        Ok::<_, Error>((during.to_vec(), metric.compute()?.to_vec()))
    })
    .unwrap();
    assert_eq!(results[0], Ok((vec![4.0, 5.0], vec![4.0])));
}

#[test]
fn empty_copy_and_merge_bytes_round_trip() {
    let metric = sum_of(&[2.0, 3.0]);
    let mut copy = metric.empty_copy();
    assert_eq!(copy.compute().unwrap(), 0.0);

    copy.merge_bytes(&metric.state_bytes().unwrap()).unwrap();
    assert_eq!(copy.compute().unwrap(), 5.0);
}

#[test]
fn collection_bytes_not_metric_bytes() {
    let mut collection = label_collection();
    let error = collection
        .merge_bytes(&sum_of(&[1.0]).state_bytes().unwrap())
        .unwrap_err();
    assert!(matches!(
        error,
        Error::Serialization { .. } | Error::IncompatibleState { .. }
    ));
}

#[test]
fn failed_rank_reported_by_others() {
    let failure = Error::invalid_input("preds", "label -1 is negative");
    let results = LocalGroup::run(3, |communicator| {
        if communicator.rank() == 1 {
            send_failure(communicator, &failure)?;
            send_failure_to_root(communicator, &failure)?;
            return Ok((None, None));
        }
        let all = sum_of(&[1.0]).synced(communicator).err();
        let root = sum_of(&[1.0]).synced_to_root(communicator).err();
        Ok::<_, Error>((all, root))
    })
    .unwrap();

    for rank in [0, 2] {
        let (all, root) = results[rank].clone().unwrap();
        let error = all.unwrap();
        assert!(
            matches!(error, Error::RankFailed { rank: 1, .. }),
            "{error}"
        );
        assert!(
            error.to_string().contains("label -1 is negative"),
            "{error}"
        );
        assert_eq!(root.is_some(), rank == 0, "rank {rank}");
    }
}
