//! Distributed sync: every rank serializes its state, the ranks exchange the bytes, and each
//! rank merges all states in rank order into an empty copy of its own metric.
//!
//! Any engine that can gather bytes from every rank implements [`Communicator`]: MPI (the
//! `ferrometrics-mpi` crate), threads in one process ([`LocalGroup`]), or a test double. Every
//! [`Metric`], every [`MetricCollection`] and the COCO
//! [`Evaluation`](crate::detection::Evaluation) implement [`SyncState`], and through it the
//! [`Distributed`] methods, so a metric needs no code of its own to sync.
//!
//! Merging in rank order, rank 0 first, into an empty copy gives every rank the same state, and
//! that state equals one update over the ranks' data in rank order. Metrics whose value depends
//! on the order of the data, such as [`CatMetric`](crate::aggregation::CatMetric) or the image
//! order of [`MeanAveragePrecision`](crate::detection::MeanAveragePrecision), therefore match a
//! single process when rank `r` has the `r`-th contiguous shard of the data.
//!
//! # Example
//!
//! ```
//! use ferrometrics::aggregation::SumMetric;
//! use ferrometrics::distributed::{Communicator, Distributed, LocalGroup};
//! use ferrometrics::Metric;
//! use ndarray::array;
//!
//! let totals = LocalGroup::run(3, |communicator| {
//!     let mut metric = SumMetric::default();
//!     let shard = array![1.0, 2.0].into_dyn() * (communicator.rank() + 1) as f64;
//!     metric.update((shard.view(), None))?;
//!     metric.synced(communicator)?.compute()
//! })?;
//! // 3 + 6 + 9 on every rank.
//! assert_eq!(totals, [Ok(18.0), Ok(18.0), Ok(18.0)]);
//! # Ok::<(), ferrometrics::Error>(())
//! ```

mod local;

use std::fmt::Display;
use std::ops::{Deref, DerefMut};

use crate::collection::MetricCollection;
use crate::detection::Evaluation;
use crate::error::{Error, Result};
use crate::metric::{InputKind, Metric};

pub use local::{LocalCommunicator, LocalGroup};

/// A group of ranks that can exchange byte strings, each rank holding one communicator.
///
/// Every rank must call the same collective operations in the same order, as with MPI.
/// Implementations return [`Error::Communication`] when a transfer fails, and must not return
/// on one rank what the other ranks did not send.
pub trait Communicator {
    /// Returns this rank's index, from 0 to `size() - 1`.
    fn rank(&self) -> usize;

    /// Returns the number of ranks in the group, at least 1.
    fn size(&self) -> usize;

    /// Sends `bytes` to every rank and returns the bytes of every rank, indexed by rank.
    ///
    /// Ranks may send byte strings of different lengths, including empty ones.
    ///
    /// # Errors
    ///
    /// Returns [`Error::Communication`] if a transfer fails.
    fn all_gather(&self, bytes: &[u8]) -> Result<Vec<Vec<u8>>>;

    /// Sends `bytes` to rank 0, which returns the bytes of every rank, indexed by rank. The
    /// other ranks return `None`.
    ///
    /// # Errors
    ///
    /// Returns [`Error::Communication`] if a transfer fails.
    fn gather_to_root(&self, bytes: &[u8]) -> Result<Option<Vec<Vec<u8>>>>;
}

/// A state that can be serialized, restored and merged into an empty copy: the part of a
/// metric that distributed sync uses.
///
/// Every [`Metric`] implements it through [`Metric::to_bytes`], [`Metric::from_bytes`] and
/// [`Metric::merge`], and so does [`MetricCollection`].
pub trait SyncState: Sized {
    /// Serializes configuration and state.
    ///
    /// # Errors
    ///
    /// Returns [`Error::Serialization`] if the codec fails.
    fn state_bytes(&self) -> Result<Vec<u8>>;

    /// Returns a copy with this configuration and an empty state.
    fn empty_copy(&self) -> Self;

    /// Decodes a state that [`SyncState::state_bytes`] serialized and folds it into this one.
    ///
    /// # Errors
    ///
    /// Returns [`Error::Serialization`] if the bytes do not decode, and
    /// [`Error::IncompatibleState`] if they hold another metric type or configuration. The
    /// state is unchanged on error.
    fn merge_bytes(&mut self, bytes: &[u8]) -> Result<()>;
}

impl<M: Metric> SyncState for M {
    fn state_bytes(&self) -> Result<Vec<u8>> {
        self.to_bytes()
    }

    fn empty_copy(&self) -> Self {
        self.empty()
    }

    fn merge_bytes(&mut self, bytes: &[u8]) -> Result<()> {
        let other = M::from_bytes(bytes)?;
        self.merge(&other)
    }
}

impl<K: InputKind> SyncState for MetricCollection<K> {
    fn state_bytes(&self) -> Result<Vec<u8>> {
        self.member_states()
    }

    fn empty_copy(&self) -> Self {
        let mut empty = self.clone();
        empty.reset();
        empty
    }

    fn merge_bytes(&mut self, bytes: &[u8]) -> Result<()> {
        let other = self.with_member_states(bytes)?;
        self.merge(&other)
    }
}

/// A COCO evaluation of a block of images, as [`shard_images`](crate::detection::shard_images)
/// selects them. The blocks must be in rank order for the merged evaluation to equal that of
/// the whole dataset.
impl SyncState for Evaluation {
    fn state_bytes(&self) -> Result<Vec<u8>> {
        postcard::to_stdvec(&(EVALUATION_TAG, self)).map_err(|e| Error::Serialization {
            message: e.to_string(),
        })
    }

    fn empty_copy(&self) -> Self {
        self.empty()
    }

    fn merge_bytes(&mut self, bytes: &[u8]) -> Result<()> {
        let (tag, other): (String, Evaluation) =
            postcard::from_bytes(bytes).map_err(|e| Error::Serialization {
                message: e.to_string(),
            })?;
        if tag != EVALUATION_TAG {
            return Err(Error::incompatible_state(format!(
                "the bytes hold a {tag:?}, not an {EVALUATION_TAG}"
            )));
        }
        other.validate()?;
        self.merge_owned(other)
    }
}

/// Name at the start of a serialized [`Evaluation`].
const EVALUATION_TAG: &str = "Evaluation";

/// Distributed sync, provided for every [`SyncState`]: every [`Metric`], every
/// [`MetricCollection`] and the COCO [`Evaluation`].
pub trait Distributed: SyncState {
    /// Returns a copy holding the merged states of every rank, in rank order; `self` is
    /// unchanged. Every rank must call it, and every rank gets the same state.
    ///
    /// # Errors
    ///
    /// Returns [`Error::RankState`] naming the first rank, in rank order, whose state does not
    /// decode or has another type or configuration than this rank's metric,
    /// [`Error::RankFailed`] naming a rank that sent an error in place of its state, and
    /// [`Error::Communication`] if the exchange fails. Every rank that received the bad state
    /// returns the same error.
    fn synced(&self, communicator: &dyn Communicator) -> Result<Self> {
        let message = encode_message(self);
        let gathered = communicator.all_gather(&message)?;
        merge_gathered(self, communicator, &gathered)
    }

    /// Returns, on rank 0, a copy holding the merged states of every rank, in rank order, and
    /// `None` on the other ranks. Only rank 0 receives the states, so only rank 0 reports a bad
    /// state.
    ///
    /// # Errors
    ///
    /// As [`Distributed::synced`], on rank 0. The other ranks return an error only if their
    /// own send fails.
    fn synced_to_root(&self, communicator: &dyn Communicator) -> Result<Option<Self>> {
        let message = encode_message(self);
        match communicator.gather_to_root(&message)? {
            Some(gathered) => merge_gathered(self, communicator, &gathered).map(Some),
            None => Ok(None),
        }
    }

    /// Replaces the state with the merged states of every rank until the returned guard is
    /// dropped or [`SyncGuard::unsync`] is called, which restore the local state.
    /// [`SyncGuard::keep`] keeps the merged state instead.
    ///
    /// # Errors
    ///
    /// As [`Distributed::synced`]; the state is unchanged on error.
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::aggregation::MaxMetric;
    /// use ferrometrics::distributed::{Communicator, Distributed, LocalGroup};
    /// use ferrometrics::Metric;
    /// use ndarray::arr0;
    ///
    /// let values = LocalGroup::run(2, |communicator| -> ferrometrics::Result<(f64, f64)> {
    ///     let mut metric = MaxMetric::default();
    ///     let value = arr0(10.0 * communicator.rank() as f64).into_dyn();
    ///     metric.update((value.view(), None))?;
    ///
    ///     let guard = metric.sync(communicator)?;
    ///     let global = guard.compute()?;
    ///     guard.unsync();
    ///     Ok((global, metric.compute()?))
    /// })?;
    /// assert_eq!(values, [Ok((10.0, 0.0)), Ok((10.0, 10.0))]);
    /// # Ok::<(), ferrometrics::Error>(())
    /// ```
    fn sync(&mut self, communicator: &dyn Communicator) -> Result<SyncGuard<'_, Self>> {
        let synced = self.synced(communicator)?;
        let local = std::mem::replace(self, synced);
        Ok(SyncGuard {
            target: self,
            local: Some(local),
        })
    }
}

impl<T: SyncState> Distributed for T {}

/// A metric whose state is the merged state of every rank, restored to the local state when the
/// guard is dropped or [`SyncGuard::unsync`] is called. It dereferences to the metric.
#[must_use = "dropping the guard restores the local state at once"]
pub struct SyncGuard<'a, T> {
    target: &'a mut T,
    /// The state before the sync; `None` once [`SyncGuard::keep`] has taken it.
    local: Option<T>,
}

impl<T> SyncGuard<'_, T> {
    /// Restores the local state.
    pub fn unsync(self) {
        drop(self);
    }

    /// Keeps the merged state and discards the local one.
    pub fn keep(mut self) {
        self.local = None;
    }
}

impl<T> Deref for SyncGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        self.target
    }
}

impl<T> DerefMut for SyncGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        self.target
    }
}

impl<T> Drop for SyncGuard<'_, T> {
    fn drop(&mut self) {
        if let Some(local) = self.local.take() {
            *self.target = local;
        }
    }
}

/// First byte of a message that carries a serialized state.
const TAG_STATE: u8 = 1;
/// First byte of a message from a rank that failed to produce or serialize its state, followed
/// by the error message in UTF-8.
const TAG_FAILED: u8 = 0;

/// Frames this rank's state for the exchange. A rank whose state does not serialize still takes
/// part, so that the other ranks report its failure instead of waiting for it.
fn encode_message<T: SyncState>(state: &T) -> Vec<u8> {
    match state.state_bytes() {
        Ok(bytes) => {
            let mut message = Vec::with_capacity(bytes.len() + 1);
            message.push(TAG_STATE);
            message.extend_from_slice(&bytes);
            message
        }
        Err(error) => failure_message(&error),
    }
}

/// Takes part in a [`Distributed::synced`] without a state, because this rank failed to
/// produce one. The other ranks then return an [`Error::RankFailed`] that names this rank and
/// contains `error`'s message, instead of waiting for its state.
///
/// # Errors
///
/// Returns [`Error::Communication`] if the exchange fails.
pub fn send_failure(communicator: &dyn Communicator, error: &Error) -> Result<()> {
    communicator.all_gather(&failure_message(error))?;
    Ok(())
}

/// Takes part in a [`Distributed::synced_to_root`] without a state, as [`send_failure`] does
/// for [`Distributed::synced`]. Rank 0 then returns an [`Error::RankFailed`] naming this rank.
///
/// # Errors
///
/// Returns [`Error::Communication`] if the exchange fails.
pub fn send_failure_to_root(communicator: &dyn Communicator, error: &Error) -> Result<()> {
    communicator.gather_to_root(&failure_message(error))?;
    Ok(())
}

/// Returns `outcome` on every rank if every rank's outcome is `Ok`, and otherwise the same
/// [`Error::RankFailed`] on every rank, naming the first failed rank and containing its message.
///
/// Call it before an exchange that a failed rank would not reach. Then the failed rank and the
/// other ranks all stop at the same point, instead of waiting for each other.
///
/// # Errors
///
/// Returns the [`Error::RankFailed`] described above, or [`Error::Communication`] if the
/// exchange fails.
///
/// # Example
///
/// ```
/// use ferrometrics::distributed::{all_succeeded, Communicator, LocalGroup};
/// use ferrometrics::Error;
///
/// let outcomes = LocalGroup::run(3, |communicator| {
///     let local = match communicator.rank() {
///         1 => Err(Error::invalid_input("preds", "label -1 is negative")),
///         rank => Ok(rank),
///     };
///     all_succeeded(communicator, local)
/// })?;
/// for outcome in outcomes {
///     let message = outcome.unwrap_err().to_string();
///     assert_eq!(message, "rank 1 failed: invalid input `preds`: label -1 is negative");
/// }
/// # Ok::<(), ferrometrics::Error>(())
/// ```
pub fn all_succeeded<T, E: Display>(
    communicator: &dyn Communicator,
    outcome: std::result::Result<T, E>,
) -> Result<T> {
    let message = match &outcome {
        Ok(_) => Vec::new(),
        Err(error) => failure_message(error),
    };
    let gathered = communicator.all_gather(&message)?;
    for (rank, message) in gathered.iter().enumerate() {
        if message.is_empty() {
            continue;
        }
        let text = message.strip_prefix(&[TAG_FAILED]).unwrap_or(message);
        return Err(Error::RankFailed {
            rank,
            message: String::from_utf8_lossy(text).into_owned(),
        });
    }
    // Every message was empty, so this rank's outcome is `Ok` too.
    outcome.map_err(|error| Error::RankFailed {
        rank: communicator.rank(),
        message: error.to_string(),
    })
}

fn failure_message(error: &impl Display) -> Vec<u8> {
    let mut message = vec![TAG_FAILED];
    message.extend_from_slice(error.to_string().as_bytes());
    message
}

/// Merges the gathered messages, in rank order, into an empty copy of `local`.
fn merge_gathered<T: SyncState>(
    local: &T,
    communicator: &dyn Communicator,
    gathered: &[Vec<u8>],
) -> Result<T> {
    if gathered.len() != communicator.size() {
        return Err(Error::communication(format!(
            "received {} states from a group of {} ranks",
            gathered.len(),
            communicator.size()
        )));
    }

    let mut merged = local.empty_copy();
    for (rank, message) in gathered.iter().enumerate() {
        let rejected = |error: Error| Error::RankState {
            rank,
            error: Box::new(error),
        };
        match message.split_first() {
            Some((&TAG_STATE, bytes)) => merged.merge_bytes(bytes).map_err(rejected)?,
            Some((&TAG_FAILED, text)) => {
                return Err(Error::RankFailed {
                    rank,
                    message: String::from_utf8_lossy(text).into_owned(),
                })
            }
            Some((&tag, _)) => {
                return Err(rejected(Error::Serialization {
                    message: format!("the message starts with {tag:#04x}, not a state tag"),
                }))
            }
            None => {
                return Err(rejected(Error::Serialization {
                    message: "the message is empty".to_owned(),
                }))
            }
        }
    }
    Ok(merged)
}
