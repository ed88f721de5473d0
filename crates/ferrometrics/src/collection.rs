//! `MetricCollection`: several metrics over the same batches, computed into one flat map.

use std::collections::HashSet;

use crate::dynamic::DynMetric;
use crate::error::{Error, Result};
use crate::metric::InputKind;
use crate::value::Value;

/// One member of a collection.
#[derive(Clone)]
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
#[derive(Clone)]
pub struct MetricCollection<K: InputKind> {
    members: Vec<Member<K>>,
    prefix: String,
    postfix: String,
    compute_groups: bool,
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
