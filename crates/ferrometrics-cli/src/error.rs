//! The error type of the command-line tool and its exit status.

use std::fmt;
use std::path::Path;

use clap::error::{ContextKind, ContextValue, ErrorKind};

/// Exit status for invalid usage and invalid input.
pub const EXIT_USAGE: u8 = 2;

/// An error shown to the user as one line: `<subject>: <message>`.
///
/// The subject is the file or the option at fault, and the message states what is wrong there and
/// how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CliError {
    subject: String,
    message: String,
    /// Whether the error is left unprinted, as on the ranks of `--shard` other than rank 0,
    /// which report the same error.
    quiet: bool,
}

impl CliError {
    /// Builds an error about the content or the reading of a file.
    pub fn file(path: &Path, message: impl Into<String>) -> Self {
        Self::new(path.display().to_string(), message)
    }

    /// Builds an error about the value of a command-line option.
    pub fn option(option: &str, message: impl Into<String>) -> Self {
        Self::new(option.to_owned(), message)
    }

    fn new(subject: String, message: impl Into<String>) -> Self {
        // The error is printed on one line, whatever the underlying message contains.
        let message = message.into().replace(['\n', '\r'], " ");
        Self {
            subject,
            message,
            quiet: false,
        }
    }

    /// Marks the error as one that another process prints.
    pub fn quiet(self) -> Self {
        Self {
            quiet: true,
            ..self
        }
    }

    /// Returns whether the error is left unprinted.
    pub fn is_quiet(&self) -> bool {
        self.quiet
    }
}

/// Prints `error` on stderr in the tool's format, unless it is quiet.
pub fn print_error(error: &CliError) {
    if !error.is_quiet() {
        eprintln!("ferrometrics: error: {error}");
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.subject, self.message)
    }
}

impl std::error::Error for CliError {}

/// Converts a clap error about an option's value into a one-line [`CliError`].
///
/// Returns `None` for the other clap errors (missing or unknown arguments, help, version), which
/// clap prints itself with a usage line.
pub fn option_value_error(error: &clap::Error) -> Option<CliError> {
    if !matches!(
        error.kind(),
        ErrorKind::InvalidValue | ErrorKind::ValueValidation
    ) {
        return None;
    }

    let option = match error.get(ContextKind::InvalidArg) {
        // clap names the option with its value placeholder, as in `--beta <BETA>`.
        Some(ContextValue::String(option)) => option
            .split_whitespace()
            .next()
            .unwrap_or(option)
            .to_owned(),
        _ => return None,
    };
    let value = match error.get(ContextKind::InvalidValue) {
        Some(ContextValue::String(value)) => value.clone(),
        _ => String::new(),
    };

    let message = match error.get(ContextKind::ValidValue) {
        Some(ContextValue::Strings(valid)) => {
            format!("invalid value '{value}', use one of: {}", valid.join(", "))
        }
        _ => {
            let reason = std::error::Error::source(error)
                .map(|source| source.to_string())
                .unwrap_or_else(|| "not accepted".to_owned());
            format!("invalid value '{value}': {reason}, see --help for the accepted values")
        }
    };
    Some(CliError::option(&option, message))
}
