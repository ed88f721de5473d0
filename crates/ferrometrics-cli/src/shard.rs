//! `--shard`: the processes that `mpirun` started, each working on one contiguous block of the
//! input. Rank 0 prints the result of the whole input.

use std::ops::Range;

use ferrometrics::distributed::{all_succeeded, Communicator};

use crate::error::{print_error, CliError};

/// The MPI processes of this run, joined by `--shard`.
#[cfg(feature = "mpi")]
pub struct ShardGroup {
    communicator: ferrometrics_mpi::MpiCommunicator,
    // Declared last so that it is dropped last: dropping it finalizes MPI.
    _universe: ferrometrics_mpi::mpi::environment::Universe,
}

/// The MPI processes of this run, joined by `--shard`. This build has no MPI support, so no
/// group can exist.
#[cfg(not(feature = "mpi"))]
pub enum ShardGroup {}

impl ShardGroup {
    /// Initializes MPI and joins the processes that `mpirun` started; a program started
    /// without `mpirun` is a group of one.
    ///
    /// # Errors
    ///
    /// Returns an error about `--shard` if MPI cannot be initialized.
    #[cfg(feature = "mpi")]
    pub fn join() -> Result<Self, CliError> {
        let universe = ferrometrics_mpi::mpi::initialize().ok_or_else(|| {
            CliError::option("--shard", "MPI was already initialized in this process")
        })?;
        let communicator = ferrometrics_mpi::MpiCommunicator::world(&universe);
        Ok(Self {
            communicator,
            _universe: universe,
        })
    }

    /// Returns the error that `--shard` gives in a build without MPI support.
    ///
    /// # Errors
    ///
    /// Always, with the command that builds the tool with MPI support.
    #[cfg(not(feature = "mpi"))]
    pub fn join() -> Result<Self, CliError> {
        Err(CliError::option(
            "--shard",
            "this ferrometrics was built without MPI support; rebuild it with `cargo build \
             --release -p ferrometrics-cli --features mpi` (which needs Open MPI and libclang, \
             Debian packages libopenmpi-dev and libclang-dev) and run it under mpirun",
        ))
    }

    /// Returns this process's communicator.
    pub fn communicator(&self) -> &dyn Communicator {
        #[cfg(feature = "mpi")]
        {
            &self.communicator
        }
        #[cfg(not(feature = "mpi"))]
        match *self {}
    }

    /// Returns whether this process prints the result: rank 0.
    pub fn is_root(&self) -> bool {
        self.communicator().rank() == 0
    }

    /// Ends this rank's part of a run: rank 0 prints its error, if any, and then every rank
    /// waits for all the others before it returns. Without the wait, a rank that exits first
    /// with a failure makes `mpirun` stop the job, sometimes before rank 0 has printed the
    /// message. The errors of the other ranks come back quiet, because rank 0 reports them.
    pub fn finish<T>(&self, outcome: Result<T, CliError>) -> Result<T, CliError> {
        let outcome = outcome.map_err(|error| {
            if self.is_root() {
                print_error(&error);
            }
            error.quiet()
        });
        // A failed wait changes nothing: every rank already has its outcome.
        let _ = self.communicator().all_gather(&[]);
        outcome
    }

    /// Returns the rows of `n` that this rank evaluates: the rank-th of `size` contiguous blocks,
    /// which differ in length by at most one row.
    pub fn rows(&self, n: usize) -> Range<usize> {
        block(n, self.communicator().rank(), self.communicator().size())
    }
}

/// Returns the `rank`-th of `size` contiguous blocks of `0..n`.
fn block(n: usize, rank: usize, size: usize) -> Range<usize> {
    n * rank / size..n * (rank + 1) / size
}

/// Converts a library error of the sync into an error about `--shard`. Every rank gets the
/// same error, so that every rank stops at the same step.
pub fn sync_error(error: ferrometrics::Error) -> CliError {
    CliError::option("--shard", error.to_string())
}

/// Returns `local` if every rank of the group succeeded. Otherwise every rank returns an error:
/// its own if it failed, else the error of the first rank that failed.
pub fn agree<T>(
    communicator: &dyn Communicator,
    local: Result<T, CliError>,
) -> Result<T, CliError> {
    let own_error = local.as_ref().err().cloned();
    all_succeeded(communicator, local)
        .map_err(|error| own_error.unwrap_or_else(|| sync_error(error)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_cover_rows_once() {
        for size in 1..=5 {
            let mut next = 0;
            for rank in 0..size {
                let rows = block(7, rank, size);
                assert_eq!(rows.start, next, "{size} ranks, rank {rank}");
                assert!(rows.len() <= 7 / size + 1);
                next = rows.end;
            }
            assert_eq!(next, 7, "{size} ranks");
        }
    }

    #[cfg(not(feature = "mpi"))]
    #[test]
    fn join_without_mpi_names_feature() {
        // The group type has no values in this build, so `join` can only fail.
        let Err(error) = ShardGroup::join();
        let message = error.to_string();
        assert!(message.starts_with("--shard: "), "{message}");
        assert!(message.contains("--features mpi"), "{message}");
    }
}
