//! An in-process group: ranks are threads, and every ordered pair of ranks has its own channel.

use std::sync::mpsc::{channel, Receiver, Sender};
use std::thread;

use super::Communicator;
use crate::error::{Error, Result};

/// A group of ranks inside one process, for tests and for merging the work of threads.
///
/// Each ordered pair of ranks has its own unbounded channel, so sends never block and messages
/// from one rank arrive in the order it sent them. A rank whose communicator is dropped, for
/// example because its thread ended, makes the other ranks' next receive from it fail with
/// [`Error::Communication`] instead of waiting.
///
/// NOTE: a rank that stays alive but skips a collective call makes the other ranks wait for it,
/// as MPI does.
pub struct LocalGroup {
    communicators: Vec<LocalCommunicator>,
}

impl LocalGroup {
    /// Creates a group of `size` ranks.
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidArgument`] if `size` is 0.
    pub fn new(size: usize) -> Result<Self> {
        if size == 0 {
            return Err(Error::invalid_argument(
                "size",
                "a group needs at least one rank; pass 1 or more",
            ));
        }

        let mut senders: Vec<Vec<Sender<Vec<u8>>>> = (0..size).map(|_| Vec::new()).collect();
        let mut receivers: Vec<Vec<Receiver<Vec<u8>>>> = (0..size).map(|_| Vec::new()).collect();
        for from_senders in senders.iter_mut() {
            for to_receivers in receivers.iter_mut() {
                let (sender, receiver) = channel();
                from_senders.push(sender);
                to_receivers.push(receiver);
            }
        }

        let communicators = senders
            .into_iter()
            .zip(receivers)
            .enumerate()
            .map(|(rank, (senders, receivers))| LocalCommunicator {
                rank,
                senders,
                receivers,
            })
            .collect();
        Ok(Self { communicators })
    }

    /// Returns the communicators, indexed by rank.
    pub fn into_communicators(self) -> Vec<LocalCommunicator> {
        self.communicators
    }

    /// Runs `work` on `size` threads, one per rank, and returns each rank's result, indexed by
    /// rank.
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidArgument`] if `size` is 0, and [`Error::Communication`] naming
    /// the rank if a thread panics.
    pub fn run<T: Send>(
        size: usize,
        work: impl Fn(&LocalCommunicator) -> T + Sync,
    ) -> Result<Vec<T>> {
        let communicators = Self::new(size)?.into_communicators();
        let work = &work;
        thread::scope(|scope| {
            let handles: Vec<_> = communicators
                .into_iter()
                .map(|communicator| scope.spawn(move || work(&communicator)))
                .collect();
            handles
                .into_iter()
                .enumerate()
                .map(|(rank, handle)| {
                    handle
                        .join()
                        .map_err(|_| Error::communication(format!("rank {rank} panicked")))
                })
                .collect()
        })
    }
}

/// One rank of a [`LocalGroup`].
pub struct LocalCommunicator {
    rank: usize,
    /// Channels to every rank, indexed by the receiving rank.
    senders: Vec<Sender<Vec<u8>>>,
    /// Channels from every rank, indexed by the sending rank.
    receivers: Vec<Receiver<Vec<u8>>>,
}

impl LocalCommunicator {
    fn send(&self, to: usize, bytes: &[u8]) -> Result<()> {
        self.senders[to].send(bytes.to_vec()).map_err(|_| {
            Error::communication(format!(
                "rank {} cannot send to rank {to}, which has left the group",
                self.rank
            ))
        })
    }

    fn receive(&self, from: usize) -> Result<Vec<u8>> {
        self.receivers[from].recv().map_err(|_| {
            Error::communication(format!(
                "rank {} cannot receive from rank {from}, which left the group without sending",
                self.rank
            ))
        })
    }

    fn receive_all(&self, own: &[u8]) -> Result<Vec<Vec<u8>>> {
        let mut gathered = Vec::with_capacity(self.size());
        for from in 0..self.size() {
            if from == self.rank {
                gathered.push(own.to_vec());
            } else {
                gathered.push(self.receive(from)?);
            }
        }
        Ok(gathered)
    }
}

impl Communicator for LocalCommunicator {
    fn rank(&self) -> usize {
        self.rank
    }

    fn size(&self) -> usize {
        self.senders.len()
    }

    fn all_gather(&self, bytes: &[u8]) -> Result<Vec<Vec<u8>>> {
        for to in (0..self.size()).filter(|&to| to != self.rank) {
            self.send(to, bytes)?;
        }
        self.receive_all(bytes)
    }

    fn gather_to_root(&self, bytes: &[u8]) -> Result<Option<Vec<Vec<u8>>>> {
        if self.rank != 0 {
            self.send(0, bytes)?;
            return Ok(None);
        }
        self.receive_all(bytes).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_zero_size_rejected() {
        let error = LocalGroup::new(0).err().unwrap();
        assert!(matches!(error, Error::InvalidArgument { argument, .. } if argument == "size"));
    }

    #[test]
    fn all_gather_unequal_lengths() {
        let gathered = LocalGroup::run(3, |communicator| {
            let bytes = vec![communicator.rank() as u8; communicator.rank()];
            communicator.all_gather(&bytes)
        })
        .unwrap();
        for result in gathered {
            assert_eq!(result.unwrap(), [vec![], vec![1], vec![2, 2]]);
        }
    }

    #[test]
    fn gather_to_root_only_root_receives() {
        let gathered = LocalGroup::run(3, |communicator| {
            communicator.gather_to_root(&[communicator.rank() as u8])
        })
        .unwrap();
        assert_eq!(gathered[0], Ok(Some(vec![vec![0], vec![1], vec![2]])));
        assert_eq!(gathered[1], Ok(None));
        assert_eq!(gathered[2], Ok(None));
    }

    #[test]
    fn repeated_collectives_stay_in_order() {
        let gathered = LocalGroup::run(2, |communicator| {
            let first = communicator.all_gather(&[1, communicator.rank() as u8])?;
            let second = communicator.all_gather(&[2, communicator.rank() as u8])?;
            Ok::<_, Error>((first, second))
        })
        .unwrap();
        for result in gathered {
            let (first, second) = result.unwrap();
            assert_eq!(first, [vec![1, 0], vec![1, 1]]);
            assert_eq!(second, [vec![2, 0], vec![2, 1]]);
        }
    }

    #[test]
    fn departed_rank_fails_receive() {
        let mut communicators = LocalGroup::new(2).unwrap().into_communicators();
        drop(communicators.pop());

        let error = communicators[0].all_gather(&[0]).unwrap_err();
        assert!(error.to_string().contains("rank 1"), "{error}");
    }

    #[test]
    fn panicking_rank_reported() {
        let error = LocalGroup::run(2, |communicator| {
            assert_ne!(communicator.rank(), 1, "rank 1 fails on purpose");
        })
        .unwrap_err();
        assert_eq!(error, Error::communication("rank 1 panicked"));
    }
}
