//! The input rows of the clustering report as a state that `--shard` gathers on rank 0.

use std::ops::Range;

use ferrometrics::distributed::SyncState;
use ferrometrics::Error;
use ndarray::{concatenate, s, Array1, Array2, Axis};

use crate::input::Features;
use crate::report::{DataLabels, LabelPairs};

/// The label pairs and the feature rows with their labels, either of which may be absent.
///
/// The clustering report needs every row (the silhouette coefficient compares every pair of
/// rows), so the ranks of `--shard` send rank 0 their rows rather than metric states.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Rows {
    pub pairs: Option<LabelPairs>,
    pub data: Option<DataLabels>,
}

impl Rows {
    /// Returns the rows in `range`.
    pub fn select(&self, range: Range<usize>) -> Self {
        let pairs = self.pairs.as_ref().map(|pairs| LabelPairs {
            preds: pairs.preds.slice(s![range.clone()]).to_owned(),
            target: pairs.target.slice(s![range.clone()]).to_owned(),
        });
        let data = self.data.as_ref().map(|data| DataLabels {
            data: match &data.data {
                Features::F32(rows) => Features::F32(rows.slice(s![range.clone(), ..]).to_owned()),
                Features::F64(rows) => Features::F64(rows.slice(s![range.clone(), ..]).to_owned()),
            },
            labels: data.labels.slice(s![range.clone()]).to_owned(),
        });
        Self { pairs, data }
    }

    /// Appends `other`'s rows after these.
    fn append(&mut self, other: Rows) -> ferrometrics::Result<()> {
        let pairs = match (self.pairs.take(), other.pairs) {
            (None, None) => None,
            (Some(ours), Some(theirs)) => Some(LabelPairs {
                preds: join_labels(&ours.preds, &theirs.preds),
                target: join_labels(&ours.target, &theirs.target),
            }),
            _ => return Err(mismatch("one rank has label pairs and another has none")),
        };
        let data = match (self.data.take(), other.data) {
            (None, None) => None,
            (Some(ours), Some(theirs)) => Some(DataLabels {
                data: join_features(ours.data, theirs.data)?,
                labels: join_labels(&ours.labels, &theirs.labels),
            }),
            _ => return Err(mismatch("one rank has feature rows and another has none")),
        };
        *self = Self { pairs, data };
        Ok(())
    }
}

fn join_labels(ours: &Array1<i64>, theirs: &Array1<i64>) -> Array1<i64> {
    let mut joined = ours.to_vec();
    joined.extend(theirs.iter());
    Array1::from(joined)
}

fn join_features(ours: Features, theirs: Features) -> ferrometrics::Result<Features> {
    if ours.ncols() != theirs.ncols() {
        return Err(mismatch(format!(
            "feature rows of {} and {} columns",
            ours.ncols(),
            theirs.ncols()
        )));
    }
    match (ours, theirs) {
        (Features::F32(ours), Features::F32(theirs)) => Ok(Features::F32(stack(ours, theirs))),
        (Features::F64(ours), Features::F64(theirs)) => Ok(Features::F64(stack(ours, theirs))),
        _ => Err(mismatch(
            "float32 feature rows on one rank and float64 on another",
        )),
    }
}

fn stack<F: Clone>(ours: Array2<F>, theirs: Array2<F>) -> Array2<F> {
    // The column counts were checked, so the only error of `concatenate` cannot occur.
    concatenate(Axis(0), &[ours.view(), theirs.view()]).unwrap_or(ours)
}

fn mismatch(message: impl Into<String>) -> Error {
    Error::incompatible_state(format!(
        "cannot join the rows of the ranks: {}; give every rank the same input",
        message.into()
    ))
}

impl SyncState for Rows {
    fn state_bytes(&self) -> ferrometrics::Result<Vec<u8>> {
        postcard::to_stdvec(self).map_err(|e| Error::Serialization {
            message: e.to_string(),
        })
    }

    fn empty_copy(&self) -> Self {
        self.select(0..0)
    }

    fn merge_bytes(&mut self, bytes: &[u8]) -> ferrometrics::Result<()> {
        let other: Rows = postcard::from_bytes(bytes).map_err(|e| Error::Serialization {
            message: e.to_string(),
        })?;
        let mut merged = self.clone();
        merged.append(other)?;
        *self = merged;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use ndarray::array;

    use super::*;

    fn rows() -> Rows {
        Rows {
            pairs: Some(LabelPairs {
                preds: array![0, 1, 1, 2],
                target: array![0, 0, 1, 1],
            }),
            data: Some(DataLabels {
                data: Features::F64(array![[0.0, 1.0], [2.0, 3.0], [4.0, 5.0], [6.0, 7.0]]),
                labels: array![0, 1, 1, 2],
            }),
        }
    }

    #[test]
    fn blocks_merge_to_all_rows() {
        let all = rows();
        let mut merged = all.empty_copy();
        for range in [0..1, 1..1, 1..4] {
            let bytes = all.select(range).state_bytes().unwrap();
            merged.merge_bytes(&bytes).unwrap();
        }
        assert_eq!(merged, all);
    }

    #[test]
    fn other_columns_rejected() {
        let mut ours = rows();
        let theirs = Rows {
            pairs: ours.pairs.clone(),
            data: Some(DataLabels {
                data: Features::F64(array![[0.0, 1.0, 2.0]]),
                labels: array![0],
            }),
        };
        let before = ours.clone();

        let error = ours
            .merge_bytes(&theirs.state_bytes().unwrap())
            .unwrap_err();
        assert!(error.to_string().contains("columns"), "{error}");
        assert_eq!(ours, before);
    }

    #[test]
    fn missing_pairs_rejected() {
        let mut ours = rows();
        let theirs = Rows {
            pairs: None,
            data: ours.data.clone(),
        };
        let error = ours
            .merge_bytes(&theirs.state_bytes().unwrap())
            .unwrap_err();
        assert!(error.to_string().contains("label pairs"), "{error}");
    }
}
