//! Micro-benchmarks of the COCO evaluation on synthetic data.
//!
//! Run with `cargo bench -p ferrometrics --bench detection`.

use divan::Bencher;
use ferrometrics::detection::mask::{polygon_to_rle, Rle};
use ferrometrics::detection::{
    evaluate, Annotation, Category, CocoDataset, Image, IouType, Params,
};

fn main() {
    divan::main();
}

/// A small linear congruential generator, so the data is the same on every run.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Images with 7 objects each over 80 categories, and 100 detections per image: jittered
/// copies of 80% of the objects, the rest random boxes.
fn synthetic(images: usize) -> (CocoDataset, CocoDataset) {
    let mut rng = Lcg(7);
    let mut truth = CocoDataset {
        images: (0..images as i64)
            .map(|id| Image {
                id,
                height: Some(480),
                width: Some(640),
            })
            .collect(),
        categories: (1..=80)
            .map(|id| Category {
                id,
                name: String::new(),
            })
            .collect(),
        annotations: Vec::new(),
    };
    let mut results = CocoDataset {
        images: truth.images.clone(),
        categories: truth.categories.clone(),
        annotations: Vec::new(),
    };
    for image in 0..images as i64 {
        let mut detections = 0;
        for _ in 0..7 {
            let side = 6.0 + 300.0 * rng.next() * rng.next();
            let bbox = [rng.next() * 600.0, rng.next() * 440.0, side, side * 0.8];
            let category = 1 + (rng.next() * 80.0) as i64;
            truth.annotations.push(Annotation {
                id: truth.annotations.len() as i64 + 1,
                image_id: image,
                category_id: category,
                bbox: Some(bbox),
                area: bbox[2] * bbox[3],
                is_crowd: false,
                segmentation: None,
                score: 1.0,
            });
            if rng.next() < 0.8 {
                let shift = side * 0.1 * (rng.next() - 0.5);
                let detected = [bbox[0] + shift, bbox[1] - shift, bbox[2], bbox[3]];
                results
                    .annotations
                    .push(detection(&results, image, category, detected, &mut rng));
                detections += 1;
            }
        }
        while detections < 100 {
            let bbox = [rng.next() * 600.0, rng.next() * 440.0, 40.0, 30.0];
            let category = 1 + (rng.next() * 80.0) as i64;
            results
                .annotations
                .push(detection(&results, image, category, bbox, &mut rng));
            detections += 1;
        }
    }
    (truth, results)
}

fn detection(
    results: &CocoDataset,
    image: i64,
    category: i64,
    bbox: [f64; 4],
    rng: &mut Lcg,
) -> Annotation {
    Annotation {
        id: results.annotations.len() as i64 + 1,
        image_id: image,
        category_id: category,
        bbox: Some(bbox),
        area: bbox[2] * bbox[3],
        is_crowd: false,
        segmentation: None,
        score: rng.next(),
    }
}

#[divan::bench(args = [100, 500])]
fn bbox_evaluate_accumulate_summarize(bencher: Bencher, images: usize) {
    let (truth, results) = synthetic(images);
    let params = Params::default();
    bencher.bench(|| {
        evaluate(&truth, &results, IouType::Bbox, &params)
            .unwrap()
            .accumulate()
            .summarize()
    });
}

#[divan::bench(args = [500])]
fn bbox_accumulate_only(bencher: Bencher, images: usize) {
    let (truth, results) = synthetic(images);
    let evaluation = evaluate(&truth, &results, IouType::Bbox, &Params::default()).unwrap();
    bencher.bench(|| evaluation.accumulate());
}

#[divan::bench]
fn polygon_rasterize_16_vertices(bencher: Bencher) {
    let polygon: Vec<f64> = (0..16)
        .flat_map(|i| {
            let angle = f64::from(i) * std::f64::consts::PI / 8.0;
            let radius = if i % 2 == 0 { 150.0 } else { 90.0 };
            [320.0 + radius * angle.cos(), 240.0 + radius * angle.sin()]
        })
        .collect();
    bencher.bench(|| polygon_to_rle(&polygon, 480, 640));
}

#[divan::bench]
fn rle_compressed_round_trip(bencher: Bencher) {
    let polygon = [100.0, 100.0, 100.0, 400.0, 500.0, 380.0, 520.0, 90.0];
    let mask = polygon_to_rle(&polygon, 480, 640);
    let text = mask.to_compressed();
    bencher.bench(|| Rle::from_compressed(480, 640, &text).unwrap());
}
