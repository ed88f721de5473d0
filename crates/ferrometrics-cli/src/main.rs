//! `ferrometrics`: evaluation metrics from the command line.

mod classification;
mod cli;
mod clustering;
mod detection;
mod error;
mod input;
mod output;
mod progress;
mod regression;
mod report;
mod shard;

use std::io::{ErrorKind, Write};
use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};
use crate::error::{option_value_error, print_error, CliError, EXIT_USAGE};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => match option_value_error(&error) {
            Some(error) => return fail(&error),
            // Help, version and usage errors, printed by clap with its own exit status.
            None => error.exit(),
        },
    };

    let printout = match &cli.command {
        Command::Clustering(args) => clustering::run(args),
        Command::Detection(args) => detection::run(args),
        Command::Regression(args) => regression::run(args),
        Command::Classification(args) => classification::run(args),
    };
    match printout {
        Ok(printout) => {
            for warning in &printout.warnings {
                eprintln!("ferrometrics: warning: {warning}");
            }
            print_stdout(&printout.stdout)
        }
        Err(error) => fail(&error),
    }
}

fn fail(error: &CliError) -> ExitCode {
    print_error(error);
    ExitCode::from(EXIT_USAGE)
}

fn print_stdout(text: &str) -> ExitCode {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => ExitCode::SUCCESS,
        // A reader that stops early, such as `head`, is not an error of this program.
        Err(error) if error.kind() == ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("ferrometrics: error: cannot write to stdout: {error}");
            ExitCode::FAILURE
        }
    }
}
