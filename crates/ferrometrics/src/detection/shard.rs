//! COCO evaluation split by images: each worker evaluates a contiguous block of image ids, and
//! the evaluations merge in block order into the evaluation of the whole dataset.

use std::collections::HashSet;

use super::coco::CocoDataset;
use super::evaluate::Evaluation;
use crate::error::{Error, Result};
use crate::metric::check_same_config;

/// Returns the part of `truth` and `results` that shard `rank` of `size` evaluates: the
/// `rank`-th of `size` contiguous blocks of the ground truth's image ids, sorted ascending, with
/// their annotations and detections. Every category is kept.
///
/// Blocks differ in size by at most one image, and a shard may have no images when there are
/// fewer images than shards. [`Evaluation::merge`] of the shards' evaluations in rank order
/// gives the evaluation of the whole dataset, to the bit.
///
/// # Errors
///
/// Returns [`Error::InvalidArgument`](crate::Error::InvalidArgument) if `size` is 0 or `rank`
/// is not below `size`.
///
/// # Example
///
/// ```
/// use ferrometrics::detection::{evaluate, shard_images, CocoDataset, IouType, Params};
///
/// let truth = CocoDataset::from_json_str(
///     r#"{"images": [{"id": 1}, {"id": 2}], "categories": [{"id": 1}],
///         "annotations": [
///             {"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 10], "area": 100},
///             {"id": 2, "image_id": 2, "category_id": 1, "bbox": [0, 0, 10, 10], "area": 100}]}"#,
/// )?;
/// let results = truth.load_results_str(
///     r#"[{"image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 10], "score": 0.9},
///         {"image_id": 2, "category_id": 1, "bbox": [50, 50, 10, 10], "score": 0.8}]"#,
/// )?;
/// let params = Params::default();
///
/// let (truth_0, results_0) = shard_images(&truth, &results, 0, 2)?;
/// let (truth_1, results_1) = shard_images(&truth, &results, 1, 2)?;
/// let mut merged = evaluate(&truth_0, &results_0, IouType::Bbox, &params)?;
/// merged.merge(&evaluate(&truth_1, &results_1, IouType::Bbox, &params)?)?;
///
/// let whole = evaluate(&truth, &results, IouType::Bbox, &params)?;
/// assert_eq!(merged, whole);
/// // One of the two objects is found, so precision is 1 at 51 of the 101 recall thresholds.
/// assert_eq!(merged.accumulate().summarize().stats[0], 0.5049504950495048);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
pub fn shard_images(
    truth: &CocoDataset,
    results: &CocoDataset,
    rank: usize,
    size: usize,
) -> Result<(CocoDataset, CocoDataset)> {
    if size == 0 || rank >= size {
        return Err(crate::Error::invalid_argument(
            "rank",
            format!("rank {rank} is not a shard of {size}; pass a rank from 0 to size - 1"),
        ));
    }

    let mut image_ids: Vec<i64> = truth.images.iter().map(|image| image.id).collect();
    image_ids.sort_unstable();
    image_ids.dedup();
    let start = image_ids.len() * rank / size;
    let end = image_ids.len() * (rank + 1) / size;
    let kept: HashSet<i64> = image_ids[start..end].iter().copied().collect();

    let select = |dataset: &CocoDataset| CocoDataset {
        images: dataset
            .images
            .iter()
            .filter(|image| kept.contains(&image.id))
            .cloned()
            .collect(),
        categories: dataset.categories.clone(),
        annotations: dataset
            .annotations
            .iter()
            .filter(|annotation| kept.contains(&annotation.image_id))
            .cloned()
            .collect(),
    };
    Ok((select(truth), select(results)))
}

impl Evaluation {
    /// Returns an evaluation with these parameters and categories and no images.
    pub fn empty(&self) -> Self {
        Self {
            params: self.params.clone(),
            category_ids: self.category_ids.clone(),
            images: vec![Vec::new(); self.images.len()],
        }
    }

    /// Appends the per-image evaluations of `other`, category by category.
    ///
    /// The image order decides the order of equal scores on different images, as image ids do
    /// in pycocotools. Merging the evaluations of [`shard_images`] blocks in rank order
    /// therefore reproduces the evaluation of the whole dataset. Another order can change
    /// values where scores tie across images.
    ///
    /// # Errors
    ///
    /// Returns [`Error::IncompatibleState`](crate::Error::IncompatibleState), and changes
    /// nothing, if the parameters or the category ids differ.
    pub fn merge(&mut self, other: &Evaluation) -> Result<()> {
        self.check_mergeable(other)?;
        for (images, other_images) in self.images.iter_mut().zip(&other.images) {
            images.extend(other_images.iter().cloned());
        }
        Ok(())
    }

    /// Appends the per-image evaluations of `other` as [`Evaluation::merge`] does, but moves
    /// them instead of copying them.
    pub(crate) fn merge_owned(&mut self, other: Evaluation) -> Result<()> {
        self.check_mergeable(&other)?;
        for (images, other_images) in self.images.iter_mut().zip(other.images) {
            images.extend(other_images);
        }
        Ok(())
    }

    /// Checks a decoded evaluation: one image list per category id and every image evaluation
    /// sized for the parameters.
    ///
    /// # Errors
    ///
    /// Returns [`Error::IncompatibleState`](crate::Error::IncompatibleState) naming the first
    /// broken invariant.
    pub fn validate(&self) -> Result<()> {
        let mut params = self.params.clone();
        params
            .validate()
            .map_err(|e| Error::incompatible_state(format!("the evaluation's parameters: {e}")))?;
        if params != self.params {
            return Err(Error::incompatible_state(
                "the evaluation's max detection counts are not sorted; the state is corrupted",
            ));
        }
        if self.images.len() != self.category_ids.len() {
            return Err(Error::incompatible_state(format!(
                "the evaluation holds {} image lists for {} category ids; the state is corrupted",
                self.images.len(),
                self.category_ids.len()
            )));
        }
        for evaluation in self.images.iter().flatten() {
            evaluation.validate(&self.params)?;
        }
        Ok(())
    }

    fn check_mergeable(&self, other: &Evaluation) -> Result<()> {
        check_same_config("Evaluation", "params", &self.params, &other.params)?;
        check_same_config(
            "Evaluation",
            "category_ids",
            &self.category_ids,
            &other.category_ids,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detection::{evaluate, IouType, Params};
    use crate::Error;

    fn datasets() -> (CocoDataset, CocoDataset) {
        let mut images = Vec::new();
        let mut annotations = Vec::new();
        let mut detections = Vec::new();
        for id in 1..=7 {
            images.push(format!(r#"{{"id": {id}}}"#));
            annotations.push(format!(
                r#"{{"id": {id}, "image_id": {id}, "category_id": {}, "bbox": [0, 0, 10, 10],
                    "area": 100}}"#,
                id % 2 + 1
            ));
            // Equal scores on every image, so the merge order decides the ranking.
            detections.push(format!(
                r#"{{"image_id": {id}, "category_id": 1, "bbox": [{}, 0, 10, 10], "score": 0.5}}"#,
                id
            ));
        }
        let truth = CocoDataset::from_json_str(&format!(
            r#"{{"images": [{}], "categories": [{{"id": 1}}, {{"id": 2}}], "annotations": [{}]}}"#,
            images.join(","),
            annotations.join(",")
        ))
        .unwrap();
        let results = truth
            .load_results_str(&format!("[{}]", detections.join(",")))
            .unwrap();
        (truth, results)
    }

    #[test]
    fn decoded_evaluation_with_short_outcomes_rejected() {
        use crate::distributed::SyncState;

        let (truth, results) = datasets();
        let whole = evaluate(&truth, &results, IouType::Bbox, &Params::default()).unwrap();
        assert_eq!(whole.validate(), Ok(()));

        let mut corrupted = whole.clone();
        corrupted.images[0][0].outcomes.pop();
        let bytes = corrupted.state_bytes().unwrap();
        let mut target = whole.empty();
        let error = target.merge_bytes(&bytes).unwrap_err();
        assert!(
            matches!(&error, Error::IncompatibleState { message } if message.contains("outcomes")),
            "{error}"
        );
        assert_eq!(target, whole.empty());
    }

    #[test]
    fn shards_merge_to_whole_evaluation() {
        let (truth, results) = datasets();
        let params = Params::default();
        let whole = evaluate(&truth, &results, IouType::Bbox, &params).unwrap();

        for size in 1..=9 {
            let mut merged = whole.empty();
            for rank in 0..size {
                let (truth, results) = shard_images(&truth, &results, rank, size).unwrap();
                let shard = evaluate(&truth, &results, IouType::Bbox, &params).unwrap();
                merged.merge(&shard).unwrap();
            }
            assert_eq!(merged, whole, "{size} shards");
        }
    }

    #[test]
    fn shards_sync_to_whole_evaluation() {
        use crate::distributed::{Communicator, Distributed, LocalGroup};

        let (truth, results) = datasets();
        let params = Params::default();
        let whole = evaluate(&truth, &results, IouType::Bbox, &params).unwrap();
        let synced = LocalGroup::run(3, |communicator| {
            let (rank, size) = (communicator.rank(), communicator.size());
            let (truth, results) = shard_images(&truth, &results, rank, size)?;
            evaluate(&truth, &results, IouType::Bbox, &params)?.synced(communicator)
        })
        .unwrap();
        for (rank, evaluation) in synced.into_iter().enumerate() {
            assert_eq!(evaluation.unwrap(), whole, "rank {rank}");
        }
    }

    #[test]
    fn shards_cover_images_once() {
        let (truth, results) = datasets();
        let mut seen = Vec::new();
        for rank in 0..3 {
            let (truth, _) = shard_images(&truth, &results, rank, 3).unwrap();
            seen.extend(truth.images.iter().map(|image| image.id));
        }
        assert_eq!(seen, [1, 2, 3, 4, 5, 6, 7]);
    }

    #[test]
    fn shard_rank_out_of_range_rejected() {
        let (truth, results) = datasets();
        for (rank, size) in [(0, 0), (3, 3)] {
            let error = shard_images(&truth, &results, rank, size).unwrap_err();
            assert!(
                matches!(&error, Error::InvalidArgument { argument, .. } if argument == "rank"),
                "{error}"
            );
        }
    }

    #[test]
    fn merge_other_params_rejected() {
        let (truth, results) = datasets();
        let mut bbox = evaluate(&truth, &results, IouType::Bbox, &Params::default()).unwrap();
        let pooled = Params {
            use_categories: false,
            ..Params::default()
        };
        let other = evaluate(&truth, &results, IouType::Bbox, &pooled).unwrap();
        let before = bbox.clone();

        let error = bbox.merge(&other).unwrap_err();
        assert!(matches!(error, Error::IncompatibleState { .. }));
        assert_eq!(bbox, before);
    }
}
