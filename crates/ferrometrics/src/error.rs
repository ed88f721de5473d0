//! The one error type of ferrometrics.

use thiserror::Error as ThisError;

/// A specialized `Result` whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Every way a ferrometrics call can fail.
///
/// Each message names the argument, the offending value and what was expected, so that it can be
/// shown to a user as it is. A call that returns an error leaves the metric's state unchanged.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, ThisError)]
pub enum Error {
    /// A constructor argument or option has a value outside its domain.
    #[error("invalid value for `{argument}`: {message}")]
    InvalidArgument {
        /// Name of the argument, as the public API spells it.
        argument: String,
        /// What was wrong and what is accepted.
        message: String,
    },

    /// An input array has content that the metric cannot use (a label out of range, a float
    /// where an integer is required, a wrong shape).
    #[error("invalid input `{argument}`: {message}")]
    InvalidInput {
        /// Name of the input, as the public API spells it.
        argument: String,
        /// What was wrong and what is accepted.
        message: String,
    },

    /// Two inputs that must have the same length do not.
    #[error(
        "length mismatch: `{left}` has {left_len} elements but `{right}` has {right_len}; \
         pass inputs of equal length"
    )]
    LengthMismatch {
        /// Name of the first input.
        left: String,
        /// Length of the first input.
        left_len: usize,
        /// Name of the second input.
        right: String,
        /// Length of the second input.
        right_len: usize,
    },

    /// A NaN or infinite value where only finite values are allowed.
    #[error(
        "invalid input `{argument}`: non-finite value {value} at {location}; remove or impute it"
    )]
    NonFinite {
        /// Name of the input.
        argument: String,
        /// Where the value sits, for example `index 3` or `row 3`.
        location: String,
        /// The offending value.
        value: f64,
    },

    /// `compute` was called on a metric that has seen no samples, or a computation needs more
    /// samples or clusters than it was given.
    #[error("{metric}: {message}")]
    NotEnoughData {
        /// Name of the metric.
        metric: String,
        /// What is missing and what is required.
        message: String,
    },

    /// Two metric states cannot be merged or restored, because their types or configurations
    /// differ.
    #[error("incompatible state: {message}")]
    IncompatibleState {
        /// What differs.
        message: String,
    },

    /// Encoding or decoding a serialized state failed.
    #[error("state serialization failed: {message}")]
    Serialization {
        /// The underlying codec's message.
        message: String,
    },

    /// Sending or receiving states between the ranks of a distributed group failed.
    #[error("distributed communication failed: {message}")]
    Communication {
        /// The failed transfer, naming the rank involved where one is known.
        message: String,
    },

    /// The state that one rank of a distributed group sent cannot be decoded or merged.
    ///
    /// Every rank that receives the state returns this error, so a bad state never yields a
    /// partial result.
    #[error("state from rank {rank}: {error}")]
    RankState {
        /// The rank that sent the state, counted from 0.
        rank: usize,
        /// The decoding or merge error.
        error: Box<Error>,
    },

    /// One rank of a distributed group failed before it could send its state, and sent its
    /// error message instead.
    #[error("rank {rank} failed: {message}")]
    RankFailed {
        /// The rank that failed, counted from 0.
        rank: usize,
        /// The error message of that rank.
        message: String,
    },
}

impl Error {
    /// Builds an [`Error::InvalidArgument`].
    pub fn invalid_argument(argument: impl Into<String>, message: impl Into<String>) -> Self {
        Error::InvalidArgument {
            argument: argument.into(),
            message: message.into(),
        }
    }

    /// Builds an [`Error::InvalidInput`].
    pub fn invalid_input(argument: impl Into<String>, message: impl Into<String>) -> Self {
        Error::InvalidInput {
            argument: argument.into(),
            message: message.into(),
        }
    }

    /// Builds an [`Error::NotEnoughData`].
    pub fn not_enough_data(metric: impl Into<String>, message: impl Into<String>) -> Self {
        Error::NotEnoughData {
            metric: metric.into(),
            message: message.into(),
        }
    }

    /// Builds an [`Error::Communication`].
    pub fn communication(message: impl Into<String>) -> Self {
        Error::Communication {
            message: message.into(),
        }
    }

    /// Builds an [`Error::IncompatibleState`].
    pub fn incompatible_state(message: impl Into<String>) -> Self {
        Error::IncompatibleState {
            message: message.into(),
        }
    }
}

/// Returns an error unless `left` and `right` have the same length.
pub(crate) fn check_same_length(
    left: &str,
    left_len: usize,
    right: &str,
    right_len: usize,
) -> Result<()> {
    if left_len != right_len {
        return Err(Error::LengthMismatch {
            left: left.to_owned(),
            left_len,
            right: right.to_owned(),
            right_len,
        });
    }
    Ok(())
}
