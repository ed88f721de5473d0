//! Distributed sync of ferrometrics metrics over MPI.
//!
//! [`MpiCommunicator`] implements ferrometrics' [`Communicator`] over an MPI communicator from
//! the `mpi` crate (rsmpi), so every metric and collection syncs with
//! [`Distributed::synced`](ferrometrics::distributed::Distributed::synced) and its siblings.
//! Ranks send states of different sizes: each exchange first gathers the byte counts, then the
//! bytes with `MPI_Allgatherv` or `MPI_Gatherv`.
//!
//! # Example
//!
//! Run under `mpirun -n 4`; each rank prints the sum over all ranks, 0 + 1 + 2 + 3:
//!
//! ```no_run
//! use ferrometrics::aggregation::SumMetric;
//! use ferrometrics::distributed::{Communicator, Distributed};
//! use ferrometrics::Metric;
//! use ferrometrics_mpi::MpiCommunicator;
//! use ndarray::arr0;
//!
//! let universe = mpi::initialize().expect("MPI is initialized once");
//! let communicator = MpiCommunicator::world(&universe);
//!
//! let mut metric = SumMetric::default();
//! let value = arr0(communicator.rank() as f64).into_dyn();
//! metric.update((value.view(), None))?;
//! println!("{}", metric.synced(&communicator)?.compute()?);
//! # Ok::<(), ferrometrics::Error>(())
//! ```

/// The rsmpi crate, re-exported so that users initialize MPI with the version this crate uses.
pub use mpi;

use ferrometrics::distributed::Communicator;
use ferrometrics::{Error, Result};
use mpi::datatype::PartitionMut;
use mpi::environment::Universe;
use mpi::topology::SimpleCommunicator;
use mpi::traits::{CommunicatorCollectives, Root};
use mpi::Count;

/// One rank of an MPI communicator, as a ferrometrics [`Communicator`].
///
/// NOTE: rsmpi does not return MPI error codes, and Open MPI's default error handler aborts
/// every process of the job when a transfer fails. A failed transfer therefore ends the job
/// instead of returning [`Error::Communication`]. A state that arrives but does not decode is
/// reported as an error naming its rank.
pub struct MpiCommunicator<C = SimpleCommunicator> {
    communicator: C,
}

impl MpiCommunicator<SimpleCommunicator> {
    /// Returns the communicator of every process that `mpirun` started.
    pub fn world(universe: &Universe) -> Self {
        Self::new(universe.world())
    }
}

impl<C: CommunicatorCollectives> MpiCommunicator<C> {
    /// Wraps an MPI communicator, such as the world or a split of it.
    pub fn new(communicator: C) -> Self {
        Self { communicator }
    }

    /// Returns the wrapped MPI communicator.
    pub fn inner(&self) -> &C {
        &self.communicator
    }
}

impl<C: CommunicatorCollectives> Communicator for MpiCommunicator<C> {
    fn rank(&self) -> usize {
        // MPI ranks lie in 0..size, so they are never negative.
        self.communicator.rank() as usize
    }

    fn size(&self) -> usize {
        self.communicator.size() as usize
    }

    fn all_gather(&self, bytes: &[u8]) -> Result<Vec<Vec<u8>>> {
        let length = bytes.len() as u64;
        let mut lengths = vec![0_u64; self.size()];
        self.communicator.all_gather_into(&length, &mut lengths[..]);

        // Every rank has the same lengths, so every rank takes the same branches here.
        let (counts, displacements, total) = layout(&lengths)?;
        if total == 0 {
            // Nothing to exchange, and an empty receive buffer has no valid address to pass.
            return Ok(vec![Vec::new(); self.size()]);
        }
        let mut received = vec![0_u8; total];
        let mut partition = PartitionMut::new(&mut received[..], &counts[..], &displacements[..]);
        let anchor = [0_u8; 1];
        self.communicator
            .all_gather_varcount_into(send_buffer(bytes, &anchor), &mut partition);
        Ok(split(&received, &lengths))
    }

    fn gather_to_root(&self, bytes: &[u8]) -> Result<Option<Vec<Vec<u8>>>> {
        let root = self.communicator.process_at_rank(0);
        let length = bytes.len() as u64;
        if self.rank() != 0 {
            root.gather_into(&length);
            // Only the root receives every length, so it broadcasts to the other ranks whether
            // the byte exchange follows.
            let mut plan = SKIP;
            root.broadcast_into(&mut plan);
            if plan == EXCHANGE {
                let anchor = [0_u8; 1];
                root.gather_varcount_into(send_buffer(bytes, &anchor));
            }
            return Ok(None);
        }

        let mut lengths = vec![0_u64; self.size()];
        root.gather_into_root(&length, &mut lengths[..]);
        let checked = layout(&lengths);
        let mut plan = match &checked {
            Ok((_, _, total)) if *total > 0 => EXCHANGE,
            _ => SKIP,
        };
        root.broadcast_into(&mut plan);
        let (counts, displacements, total) = checked?;
        if total == 0 {
            return Ok(Some(vec![Vec::new(); self.size()]));
        }

        let mut received = vec![0_u8; total];
        let mut partition = PartitionMut::new(&mut received[..], &counts[..], &displacements[..]);
        let anchor = [0_u8; 1];
        root.gather_varcount_into_root(send_buffer(bytes, &anchor), &mut partition);
        Ok(Some(split(&received, &lengths)))
    }
}

/// The root's message that the byte exchange of [`Communicator::gather_to_root`] follows.
const EXCHANGE: u8 = 1;
/// The root's message that no byte exchange follows, because every rank sends nothing or the
/// total is too large.
const SKIP: u8 = 0;

/// Returns `bytes`, or an empty slice of `anchor` if `bytes` is empty.
///
/// The pointer of an empty `Vec<u8>` is the dangling address 1, which is Open MPI's value of
/// `MPI_IN_PLACE`. Open MPI therefore rejects it on the sending ranks of a gather, while an
/// empty slice of a real buffer has a real address.
fn send_buffer<'a>(bytes: &'a [u8], anchor: &'a [u8; 1]) -> &'a [u8] {
    if bytes.is_empty() {
        &anchor[..0]
    } else {
        bytes
    }
}

/// Returns the MPI counts and displacements of the gathered byte strings and their total length.
///
/// # Errors
///
/// Returns [`Error::Communication`] if the total exceeds what an MPI count can address
/// (2^31 - 1 bytes).
fn layout(lengths: &[u64]) -> Result<(Vec<Count>, Vec<Count>, usize)> {
    let total: u64 = lengths.iter().sum();
    if total > Count::MAX as u64 {
        return Err(Error::communication(format!(
            "the ranks' states add up to {total} bytes, more than the {} bytes that one MPI \
             gather can carry; sync smaller states, for example a collection's members one \
             at a time",
            Count::MAX
        )));
    }

    let mut counts = Vec::with_capacity(lengths.len());
    let mut displacements = Vec::with_capacity(lengths.len());
    let mut offset: Count = 0;
    for &length in lengths {
        // Both fit, because they are at most the total.
        counts.push(length as Count);
        displacements.push(offset);
        offset += length as Count;
    }
    Ok((counts, displacements, total as usize))
}

/// Cuts the concatenated bytes into one byte string per rank.
fn split(received: &[u8], lengths: &[u64]) -> Vec<Vec<u8>> {
    let mut parts = Vec::with_capacity(lengths.len());
    let mut offset = 0;
    for &length in lengths {
        let end = offset + length as usize;
        parts.push(received[offset..end].to_vec());
        offset = end;
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_offsets_follow_lengths() {
        let (counts, displacements, total) = layout(&[3, 0, 5]).unwrap();
        assert_eq!(counts, [3, 0, 5]);
        assert_eq!(displacements, [0, 3, 3]);
        assert_eq!(total, 8);
    }

    #[test]
    fn layout_too_large_rejected() {
        let error = layout(&[Count::MAX as u64, 1]).unwrap_err();
        assert!(matches!(error, Error::Communication { .. }));
        assert!(error.to_string().contains("2147483648 bytes"), "{error}");
    }

    #[test]
    fn split_cuts_at_lengths() {
        let parts = split(&[1, 2, 3, 4], &[1, 0, 3]);
        assert_eq!(parts, [vec![1], vec![], vec![2, 3, 4]]);
    }
}
