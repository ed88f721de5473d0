//! `MetricCollection`: several metrics over the same batches, computed into one flat map.

use std::collections::HashSet;

use crate::dynamic::DynMetric;
use crate::error::{Error, Result};
use crate::metric::{InputKind, MetricInfo};
use crate::value::Value;

/// One member of a collection.
struct Member<K: InputKind> {
    name: String,
    metric: Box<dyn DynMetric<K>>,
    /// Index of the member whose state this member reads, when both states are identical by
    /// construction. `None` if this member owns its state.
    leader: Option<usize>,
}

/// Several metrics that take the same batches, updated together and computed into one flat list
/// of named values, as TorchMetrics' `MetricCollection`.
///
/// Members whose [`Metric::shared_state_key`](crate::Metric::shared_state_key) agree share one
/// state: the first of them is updated and the others compute from its state.
///
/// Dict-valued results are flattened with TorchMetrics' rule: when any two output keys collide,
/// the keys of every dict-valued member get the member's name and `_` as a prefix; without a
/// collision they keep their own keys. The collection's prefix and postfix then apply to every
/// key.
///
/// # Example
///
/// ```
/// use ferrometrics::aggregation::{MaxMetric, MinMetric};
/// use ferrometrics::MetricCollection;
/// use ndarray::array;
///
/// let mut collection = MetricCollection::new().with_prefix("val_");
/// collection.add("max", MaxMetric::default())?;
/// collection.add("min", MinMetric::default())?;
///
/// let values = array![1.0, 5.0, 3.0].into_dyn();
/// collection.update((values.view(), None))?;
/// let result = collection.compute()?;
///
/// assert_eq!(result[0].0, "val_max");
/// assert_eq!(result[0].1.as_scalar(), Some(5.0));
/// assert_eq!(result[1].0, "val_min");
/// assert_eq!(result[1].1.as_scalar(), Some(1.0));
/// # Ok::<(), ferrometrics::Error>(())
/// ```
pub struct MetricCollection<K: InputKind> {
    members: Vec<Member<K>>,
    prefix: String,
    postfix: String,
    compute_groups: bool,
}

// Written out because a derive would require `K: Clone`, which batch kinds need not be.
impl<K: InputKind> Clone for Member<K> {
    fn clone(&self) -> Self {
        Self {
            name: self.name.clone(),
            metric: self.metric.clone_box(),
            leader: self.leader,
        }
    }
}

impl<K: InputKind> Clone for MetricCollection<K> {
    fn clone(&self) -> Self {
        Self {
            members: self.members.clone(),
            prefix: self.prefix.clone(),
            postfix: self.postfix.clone(),
            compute_groups: self.compute_groups,
        }
    }
}

impl<K: InputKind> Default for MetricCollection<K> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: InputKind> MetricCollection<K> {
    /// Creates an empty collection with compute groups enabled.
    pub fn new() -> Self {
        Self {
            members: Vec::new(),
            prefix: String::new(),
            postfix: String::new(),
            compute_groups: true,
        }
    }

    /// Sets a string put before every output key.
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Sets a string put after every output key.
    pub fn with_postfix(mut self, postfix: impl Into<String>) -> Self {
        self.postfix = postfix.into();
        self
    }

    /// Enables or disables sharing one state between members whose states are identical by
    /// construction. Call it before adding members.
    pub fn with_compute_groups(mut self, enabled: bool) -> Self {
        self.compute_groups = enabled;
        self
    }

    /// Adds a metric under `name`.
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidArgument`] if `name` is empty or already taken.
    pub fn add(
        &mut self,
        name: impl Into<String>,
        metric: impl DynMetric<K> + 'static,
    ) -> Result<()> {
        self.add_boxed(name, Box::new(metric))
    }

    /// Adds a boxed metric under `name`.
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidArgument`] if `name` is empty or already taken.
    pub fn add_boxed(
        &mut self,
        name: impl Into<String>,
        metric: Box<dyn DynMetric<K>>,
    ) -> Result<()> {
        let name = name.into();
        if name.is_empty() {
            return Err(Error::invalid_argument(
                "name",
                "member names must not be empty",
            ));
        }
        if self.members.iter().any(|member| member.name == name) {
            return Err(Error::invalid_argument(
                "name",
                format!("the collection already has a member named {name:?}; pick another name"),
            ));
        }

        let leader = match (self.compute_groups, metric.shared_state_key()) {
            (true, Some(key)) => self.members.iter().position(|member| {
                member.leader.is_none() && member.metric.shared_state_key().as_ref() == Some(&key)
            }),
            _ => None,
        };
        self.members.push(Member {
            name,
            metric,
            leader,
        });
        Ok(())
    }

    /// Returns the member names in insertion order.
    pub fn names(&self) -> Vec<&str> {
        self.members
            .iter()
            .map(|member| member.name.as_str())
            .collect()
    }

    /// Returns each member's name and facts, in insertion order.
    pub fn member_infos(&self) -> Vec<(&str, MetricInfo)> {
        self.members
            .iter()
            .map(|member| (member.name.as_str(), member.metric.info()))
            .collect()
    }

    /// Returns the number of members.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Returns `true` if the collection has no members.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// Returns groups of member names that share one state, each group led by the member that is
    /// updated.
    pub fn compute_groups(&self) -> Vec<Vec<&str>> {
        let mut groups: Vec<Vec<&str>> = Vec::new();
        let mut group_of_leader = Vec::with_capacity(self.members.len());
        for member in &self.members {
            match member.leader {
                None => {
                    group_of_leader.push(groups.len());
                    groups.push(vec![member.name.as_str()]);
                }
                Some(leader) => {
                    let group = group_of_leader[leader];
                    group_of_leader.push(group);
                    groups[group].push(member.name.as_str());
                }
            }
        }
        groups
    }

    /// Folds one batch into every member's state.
    ///
    /// # Errors
    ///
    /// Returns the first member's error, and changes no member, if any member rejects the batch.
    pub fn update(&mut self, input: K::Input<'_>) -> Result<()> {
        let batches = self.update_batches(input)?;
        self.merge_batches(&batches)
    }

    /// Computes every member's value on this batch alone and folds the batch into the states.
    ///
    /// # Errors
    ///
    /// Returns an error, and changes nothing, if any member rejects the batch or has no value
    /// for it.
    pub fn forward(&mut self, input: K::Input<'_>) -> Result<Vec<(String, Value)>> {
        let batches = self.update_batches(input)?;
        let values = self.compute_members(|index| batches[index].as_deref())?;
        let flat = self.flatten(values)?;
        self.merge_batches(&batches)?;
        Ok(flat)
    }

    /// Computes every member into one flat list of named values, in member order.
    ///
    /// # Errors
    ///
    /// Returns the first member's error, or [`Error::InvalidArgument`] if two output keys still
    /// collide after the member names were put before them.
    pub fn compute(&self) -> Result<Vec<(String, Value)>> {
        let values = self.compute_members(|index| Some(self.members[index].metric.as_ref()))?;
        self.flatten(values)
    }

    /// Clears every member's state.
    pub fn reset(&mut self) {
        for member in &mut self.members {
            member.metric.reset();
        }
    }

    /// Folds another collection's states into this one.
    ///
    /// # Errors
    ///
    /// Returns [`Error::IncompatibleState`] if the members differ in name, type or configuration.
    pub fn merge(&mut self, other: &Self) -> Result<()> {
        let ours: Vec<&str> = self.names();
        let theirs: Vec<&str> = other.names();
        if ours != theirs {
            return Err(Error::incompatible_state(format!(
                "cannot merge collections with members {ours:?} and {theirs:?}"
            )));
        }

        // Merge into copies first, so that a member rejecting the merge leaves every state as it was.
        let mut merged = Vec::with_capacity(self.members.len());
        for (member, other_member) in self.members.iter().zip(&other.members) {
            let mut metric = member.metric.clone_box();
            if member.leader.is_none() {
                metric.merge_dyn(other_member.metric.as_ref())?;
            }
            merged.push(metric);
        }
        for (member, metric) in self.members.iter_mut().zip(merged) {
            member.metric = metric;
        }
        Ok(())
    }

    /// Serializes the states of the members that own one, as `(name, state)` pairs in member
    /// order. Members that read another member's state get an empty byte string.
    pub(crate) fn member_states(&self) -> Result<Vec<u8>> {
        let mut states = Vec::with_capacity(self.members.len());
        for member in &self.members {
            let bytes = match member.leader {
                None => member.metric.to_bytes()?,
                Some(_) => Vec::new(),
            };
            states.push((member.name.as_str(), bytes));
        }
        postcard::to_stdvec(&(COLLECTION_TAG, states)).map_err(|e| Error::Serialization {
            message: e.to_string(),
        })
    }

    /// Returns a copy of this collection whose members hold the states that
    /// [`MetricCollection::member_states`] serialized, after checking that the member names
    /// agree. Member types and configurations are checked when the copy is merged.
    pub(crate) fn with_member_states(&self, bytes: &[u8]) -> Result<Self> {
        let (tag, states): (String, Vec<(String, Vec<u8>)>) =
            postcard::from_bytes(bytes).map_err(|e| Error::Serialization {
                message: e.to_string(),
            })?;
        if tag != COLLECTION_TAG {
            return Err(Error::incompatible_state(format!(
                "the bytes hold a {tag:?}, not a {COLLECTION_TAG}"
            )));
        }
        let theirs: Vec<&str> = states.iter().map(|(name, _)| name.as_str()).collect();
        if theirs != self.names() {
            return Err(Error::incompatible_state(format!(
                "cannot merge collections with members {:?} and {theirs:?}",
                self.names()
            )));
        }

        let mut copy = self.clone();
        for (member, (_, state)) in copy.members.iter_mut().zip(&states) {
            member.metric.reset();
            if member.leader.is_none() {
                member.metric.load_bytes(state)?;
            }
        }
        Ok(copy)
    }

    /// Updates an empty copy of every state-owning member with the batch. Members that read
    /// another member's state get `None`.
    #[allow(clippy::type_complexity)]
    fn update_batches(&self, input: K::Input<'_>) -> Result<Vec<Option<Box<dyn DynMetric<K>>>>> {
        let mut batches = Vec::with_capacity(self.members.len());
        for member in &self.members {
            if member.leader.is_some() {
                batches.push(None);
                continue;
            }
            let mut batch = member.metric.empty_box();
            batch.update(input.clone())?;
            batches.push(Some(batch));
        }
        Ok(batches)
    }

    fn merge_batches(&mut self, batches: &[Option<Box<dyn DynMetric<K>>>]) -> Result<()> {
        for (member, batch) in self.members.iter_mut().zip(batches) {
            if let Some(batch) = batch {
                member.metric.merge_dyn(batch.as_ref())?;
            }
        }
        Ok(())
    }

    /// Computes each member's value, where `state_owner(i)` returns the metric holding member
    /// `i`'s state if `i` owns one.
    fn compute_members<'s>(
        &'s self,
        state_owner: impl Fn(usize) -> Option<&'s dyn DynMetric<K>>,
    ) -> Result<Vec<(usize, Value)>> {
        let mut values = Vec::with_capacity(self.members.len());
        for (index, member) in self.members.iter().enumerate() {
            let value = match member.leader {
                None => state_owner(index)
                    .map(|owner| owner.compute())
                    .transpose()?,
                Some(leader) => {
                    let owner = state_owner(leader);
                    match owner.and_then(|owner| owner.shared_state()) {
                        Some(state) => Some(member.metric.compute_shared(state)?),
                        None => None,
                    }
                }
            };
            let value = value.ok_or_else(|| {
                Error::incompatible_state(format!(
                    "member {:?} has no state to compute",
                    member.name
                ))
            })?;
            values.push((index, value));
        }
        Ok(values)
    }

    /// Flattens member values into named values with TorchMetrics' duplicate-key rule.
    fn flatten(&self, values: Vec<(usize, Value)>) -> Result<Vec<(String, Value)>> {
        let mut seen = HashSet::new();
        let mut collision = false;
        for (index, value) in &values {
            match value {
                Value::Map(entries) => {
                    for (key, _) in entries {
                        collision |= !seen.insert(key.clone());
                    }
                }
                _ => collision |= !seen.insert(self.members[*index].name.clone()),
            }
        }

        let mut flat = Vec::new();
        for (index, value) in values {
            let name = &self.members[index].name;
            match value {
                Value::Map(entries) => {
                    for (key, entry) in entries {
                        let key = if collision {
                            format!("{name}_{key}")
                        } else {
                            key
                        };
                        flat.push((self.decorate(&key), entry));
                    }
                }
                value => flat.push((self.decorate(name), value)),
            }
        }

        let mut keys = HashSet::new();
        for (key, _) in &flat {
            if !keys.insert(key.as_str()) {
                return Err(Error::invalid_argument(
                    "name",
                    format!(
                        "two members produce the output key {key:?} even with member names \
                         before their keys; rename one member"
                    ),
                ));
            }
        }
        Ok(flat)
    }

    fn decorate(&self, key: &str) -> String {
        format!("{}{key}{}", self.prefix, self.postfix)
    }
}

/// Name at the start of a serialized collection, so that a metric's bytes are not read as one.
const COLLECTION_TAG: &str = "MetricCollection";

#[cfg(test)]
mod tests {
    use std::any::Any;

    use ndarray::{array, ArrayD};
    use serde::{Deserialize, Serialize};

    use super::*;
    use crate::aggregation::{MaxMetric, MinMetric, NanStrategy, SumMetric};
    use crate::inputs::WeightedValues;
    use crate::metric::{Input, Metric, MetricInfo};

    /// Returns its largest and smallest value as a map with keys `max` and `min`.
    #[derive(Debug, Clone, Serialize, Deserialize)]
    struct Extremes {
        max: f64,
        min: f64,
    }

    impl Default for Extremes {
        fn default() -> Self {
            Self {
                max: f64::NEG_INFINITY,
                min: f64::INFINITY,
            }
        }
    }

    impl Metric for Extremes {
        type Kind = WeightedValues;
        type Output = Vec<(String, Value)>;

        fn info(&self) -> MetricInfo {
            MetricInfo {
                name: "Extremes",
                higher_is_better: None,
                is_differentiable: false,
                lower_bound: f64::NEG_INFINITY,
                upper_bound: f64::INFINITY,
            }
        }

        fn update(&mut self, (value, _): Input<'_, Self>) -> Result<()> {
            for &x in &value {
                self.max = self.max.max(x);
                self.min = self.min.min(x);
            }
            Ok(())
        }

        fn compute(&self) -> Result<Self::Output> {
            Ok(vec![
                ("max".to_owned(), Value::Scalar(self.max)),
                ("min".to_owned(), Value::Scalar(self.min)),
            ])
        }

        fn reset(&mut self) {
            *self = Self::default();
        }

        fn merge(&mut self, other: &Self) -> Result<()> {
            self.max = self.max.max(other.max);
            self.min = self.min.min(other.min);
            Ok(())
        }
    }

    /// Counts values and returns the count times `scale`, sharing the count with every other
    /// `ScaledCount` in a collection.
    #[derive(Debug, Clone, Serialize, Deserialize)]
    struct ScaledCount {
        scale: f64,
        count: u64,
    }

    impl ScaledCount {
        fn new(scale: f64) -> Self {
            Self { scale, count: 0 }
        }
    }

    impl Metric for ScaledCount {
        type Kind = WeightedValues;
        type Output = f64;

        fn info(&self) -> MetricInfo {
            MetricInfo {
                name: "ScaledCount",
                higher_is_better: None,
                is_differentiable: false,
                lower_bound: 0.0,
                upper_bound: f64::INFINITY,
            }
        }

        fn update(&mut self, (value, _): Input<'_, Self>) -> Result<()> {
            self.count += value.len() as u64;
            Ok(())
        }

        fn compute(&self) -> Result<f64> {
            Ok(self.count as f64 * self.scale)
        }

        fn reset(&mut self) {
            self.count = 0;
        }

        fn merge(&mut self, other: &Self) -> Result<()> {
            self.count += other.count;
            Ok(())
        }

        fn shared_state_key(&self) -> Option<String> {
            Some("test.count".to_owned())
        }

        fn shared_state(&self) -> Option<&dyn Any> {
            Some(&self.count)
        }

        fn compute_shared(&self, state: &dyn Any) -> Result<f64> {
            let count = state
                .downcast_ref::<u64>()
                .ok_or_else(|| Error::incompatible_state("expected a u64 count"))?;
            Ok(*count as f64 * self.scale)
        }
    }

    fn batch(values: &[f64]) -> ArrayD<f64> {
        ArrayD::from_shape_vec(vec![values.len()], values.to_vec()).unwrap()
    }

    fn keys(result: &[(String, Value)]) -> Vec<&str> {
        result.iter().map(|(key, _)| key.as_str()).collect()
    }

    fn scalar(result: &[(String, Value)], key: &str) -> f64 {
        let (_, value) = result
            .iter()
            .find(|(name, _)| name == key)
            .unwrap_or_else(|| panic!("no key {key:?} in {result:?}"));
        value.as_scalar().unwrap()
    }

    #[test]
    fn add_rejects_duplicate_name() {
        let mut collection = MetricCollection::new();
        collection.add("sum", SumMetric::default()).unwrap();
        let error = collection.add("sum", MaxMetric::default()).unwrap_err();
        assert!(matches!(&error, Error::InvalidArgument { argument, .. } if argument == "name"));
        assert!(error.to_string().contains("\"sum\""));
        assert_eq!(collection.len(), 1);
    }

    #[test]
    fn add_rejects_empty_name() {
        let mut collection = MetricCollection::<WeightedValues>::new();
        let error = collection.add("", SumMetric::default()).unwrap_err();
        assert!(matches!(error, Error::InvalidArgument { argument, .. } if argument == "name"));
        assert!(collection.is_empty());
    }

    #[test]
    fn prefix_and_postfix_decorate_every_key() {
        let mut collection = MetricCollection::new()
            .with_prefix("val_")
            .with_postfix("_epoch");
        collection.add("sum", SumMetric::default()).unwrap();
        collection.add("extremes", Extremes::default()).unwrap();
        collection
            .update((batch(&[1.0, 4.0]).view(), None))
            .unwrap();

        let result = collection.compute().unwrap();
        assert_eq!(
            keys(&result),
            ["val_sum_epoch", "val_max_epoch", "val_min_epoch"]
        );
        assert_eq!(scalar(&result, "val_sum_epoch"), 5.0);
        assert_eq!(scalar(&result, "val_max_epoch"), 4.0);
        assert_eq!(scalar(&result, "val_min_epoch"), 1.0);
    }

    #[test]
    fn map_keys_kept_without_collision() {
        let mut collection = MetricCollection::new();
        collection.add("extremes", Extremes::default()).unwrap();
        collection.add("sum", SumMetric::default()).unwrap();
        collection
            .update((batch(&[2.0, -1.0]).view(), None))
            .unwrap();

        let result = collection.compute().unwrap();
        assert_eq!(keys(&result), ["max", "min", "sum"]);
        assert_eq!(scalar(&result, "max"), 2.0);
        assert_eq!(scalar(&result, "min"), -1.0);
    }

    #[test]
    fn colliding_map_keys_get_member_names() {
        let mut collection = MetricCollection::new();
        collection.add("train", Extremes::default()).unwrap();
        collection.add("sum", SumMetric::default()).unwrap();
        collection.add("test", Extremes::default()).unwrap();
        collection
            .update((batch(&[3.0, 5.0]).view(), None))
            .unwrap();

        let result = collection.compute().unwrap();
        assert_eq!(
            keys(&result),
            ["train_max", "train_min", "sum", "test_max", "test_min"]
        );
        assert_eq!(scalar(&result, "test_max"), 5.0);
    }

    #[test]
    fn map_key_collides_with_name() {
        let mut collection = MetricCollection::new();
        collection.add("extremes", Extremes::default()).unwrap();
        collection.add("max", MaxMetric::default()).unwrap();
        collection.update((batch(&[3.0]).view(), None)).unwrap();

        let result = collection.compute().unwrap();
        assert_eq!(keys(&result), ["extremes_max", "extremes_min", "max"]);
    }

    #[test]
    fn prefixed_key_collision_rejected() {
        let mut collection = MetricCollection::new();
        collection.add("a", Extremes::default()).unwrap();
        collection.add("b", Extremes::default()).unwrap();
        collection.add("a_max", MaxMetric::default()).unwrap();
        collection.update((batch(&[3.0]).view(), None)).unwrap();

        let error = collection.compute().unwrap_err();
        assert!(matches!(&error, Error::InvalidArgument { argument, .. } if argument == "name"));
        assert!(error.to_string().contains("\"a_max\""));
    }

    #[test]
    fn compute_groups_share_one_state() {
        let mut collection = MetricCollection::new();
        collection.add("count", ScaledCount::new(1.0)).unwrap();
        collection.add("sum", SumMetric::default()).unwrap();
        collection.add("double", ScaledCount::new(2.0)).unwrap();
        assert_eq!(
            collection.compute_groups(),
            vec![vec!["count", "double"], vec!["sum"]]
        );

        collection
            .update((batch(&[1.0, 2.0, 3.0]).view(), None))
            .unwrap();
        let result = collection.compute().unwrap();
        assert_eq!(scalar(&result, "count"), 3.0);
        assert_eq!(scalar(&result, "double"), 6.0);
        assert_eq!(scalar(&result, "sum"), 6.0);
    }

    #[test]
    fn compute_groups_disabled_keep_own_states() {
        let mut collection = MetricCollection::new().with_compute_groups(false);
        collection.add("count", ScaledCount::new(1.0)).unwrap();
        collection.add("double", ScaledCount::new(2.0)).unwrap();
        assert_eq!(
            collection.compute_groups(),
            vec![vec!["count"], vec!["double"]]
        );

        collection
            .update((batch(&[1.0, 2.0]).view(), None))
            .unwrap();
        let result = collection.compute().unwrap();
        assert_eq!(scalar(&result, "count"), 2.0);
        assert_eq!(scalar(&result, "double"), 4.0);
    }

    #[test]
    fn forward_reads_shared_batch_state() {
        let mut collection = MetricCollection::new();
        collection.add("count", ScaledCount::new(1.0)).unwrap();
        collection.add("double", ScaledCount::new(2.0)).unwrap();
        collection
            .update((batch(&[1.0, 2.0, 3.0]).view(), None))
            .unwrap();

        let batch_result = collection.forward((batch(&[4.0]).view(), None)).unwrap();
        assert_eq!(scalar(&batch_result, "count"), 1.0);
        assert_eq!(scalar(&batch_result, "double"), 2.0);

        let result = collection.compute().unwrap();
        assert_eq!(scalar(&result, "count"), 4.0);
        assert_eq!(scalar(&result, "double"), 8.0);
    }

    #[test]
    fn rejected_update_changes_nothing() {
        let mut collection = MetricCollection::new();
        collection.add("max", MaxMetric::default()).unwrap();
        collection.add("count", ScaledCount::new(1.0)).unwrap();
        collection
            .add("sum", SumMetric::new(NanStrategy::Error))
            .unwrap();
        collection
            .update((batch(&[1.0, 2.0]).view(), None))
            .unwrap();

        let error = collection
            .update((batch(&[10.0, f64::NAN]).view(), None))
            .unwrap_err();
        assert!(matches!(error, Error::NonFinite { .. }));

        let result = collection.compute().unwrap();
        assert_eq!(scalar(&result, "max"), 2.0);
        assert_eq!(scalar(&result, "count"), 2.0);
        assert_eq!(scalar(&result, "sum"), 3.0);
    }

    #[test]
    fn rejected_forward_changes_nothing() {
        let mut collection = MetricCollection::new();
        collection.add("min", MinMetric::default()).unwrap();
        collection
            .add("sum", SumMetric::new(NanStrategy::Error))
            .unwrap();
        collection.update((batch(&[1.0]).view(), None)).unwrap();

        assert!(collection
            .forward((batch(&[-5.0, f64::NAN]).view(), None))
            .is_err());
        let result = collection.compute().unwrap();
        assert_eq!(scalar(&result, "min"), 1.0);
        assert_eq!(scalar(&result, "sum"), 1.0);
    }

    #[test]
    fn forward_returns_batch_values() {
        let mut collection = MetricCollection::new();
        collection.add("sum", SumMetric::default()).unwrap();
        collection.add("max", MaxMetric::default()).unwrap();
        collection
            .update((batch(&[1.0, 20.0]).view(), None))
            .unwrap();

        let batch_result = collection
            .forward((batch(&[4.0, 5.0]).view(), None))
            .unwrap();
        assert_eq!(keys(&batch_result), ["sum", "max"]);
        assert_eq!(scalar(&batch_result, "sum"), 9.0);
        assert_eq!(scalar(&batch_result, "max"), 5.0);

        let result = collection.compute().unwrap();
        assert_eq!(scalar(&result, "sum"), 30.0);
        assert_eq!(scalar(&result, "max"), 20.0);
    }

    #[test]
    fn reset_clears_every_member() {
        let mut collection = MetricCollection::new();
        collection.add("sum", SumMetric::default()).unwrap();
        collection.add("count", ScaledCount::new(1.0)).unwrap();
        collection
            .update((batch(&[1.0, 2.0]).view(), None))
            .unwrap();
        collection.reset();

        let result = collection.compute().unwrap();
        assert_eq!(scalar(&result, "sum"), 0.0);
        assert_eq!(scalar(&result, "count"), 0.0);
    }

    fn two_member_collection() -> MetricCollection<WeightedValues> {
        let mut collection = MetricCollection::new();
        collection.add("sum", SumMetric::default()).unwrap();
        collection.add("count", ScaledCount::new(1.0)).unwrap();
        collection.add("double", ScaledCount::new(2.0)).unwrap();
        collection
    }

    #[test]
    fn merge_matches_one_collection() {
        let mut left = two_member_collection();
        let mut right = two_member_collection();
        let mut whole = two_member_collection();
        left.update((batch(&[1.0, 2.0]).view(), None)).unwrap();
        right.update((batch(&[3.0]).view(), None)).unwrap();
        whole
            .update((batch(&[1.0, 2.0, 3.0]).view(), None))
            .unwrap();

        left.merge(&right).unwrap();
        assert_eq!(left.compute().unwrap(), whole.compute().unwrap());
        assert_eq!(scalar(&left.compute().unwrap(), "double"), 6.0);
    }

    #[test]
    fn merge_rejects_other_members() {
        let mut ours = two_member_collection();
        let mut theirs = MetricCollection::new();
        theirs.add("sum", SumMetric::default()).unwrap();
        let error = ours.merge(&theirs).unwrap_err();
        assert!(matches!(error, Error::IncompatibleState { .. }));
    }

    #[test]
    fn rejected_merge_changes_nothing() {
        let mut ours = MetricCollection::new();
        ours.add("max", MaxMetric::default()).unwrap();
        ours.add("sum", SumMetric::new(NanStrategy::Warn)).unwrap();
        let mut theirs = MetricCollection::new();
        theirs.add("max", MaxMetric::default()).unwrap();
        theirs
            .add("sum", SumMetric::new(NanStrategy::Ignore))
            .unwrap();
        ours.update((batch(&[1.0]).view(), None)).unwrap();
        theirs.update((batch(&[9.0]).view(), None)).unwrap();

        let error = ours.merge(&theirs).unwrap_err();
        assert!(matches!(error, Error::IncompatibleState { .. }));
        assert_eq!(scalar(&ours.compute().unwrap(), "max"), 1.0);
    }

    #[test]
    fn names_follow_insertion_order() {
        let mut collection = MetricCollection::new();
        collection.add("b", SumMetric::default()).unwrap();
        collection.add("a", Extremes::default()).unwrap();
        assert_eq!(collection.names(), ["b", "a"]);
        let values = array![1.0].into_dyn();
        collection.update((values.view(), None)).unwrap();
        assert_eq!(keys(&collection.compute().unwrap()), ["b", "max", "min"]);
    }
}
