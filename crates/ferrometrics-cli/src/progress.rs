//! Progress bars on stderr, drawn only for long work and only when stderr is a terminal.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Files smaller than this are read without a progress bar, in bytes.
const MIN_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// Inputs with fewer samples than this are scored without a progress bar.
const MIN_SAMPLES: usize = 5_000;

/// Returns a byte-count bar for reading a file of `len` bytes, hidden for small files.
pub fn file_bar(len: u64, name: &str) -> ProgressBar {
    if len < MIN_FILE_BYTES || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }

    let style = ProgressStyle::with_template("{msg} {wide_bar} {bytes}/{total_bytes} {eta}")
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    let bar =
        ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr()).with_style(style);
    bar.set_message(format!("reading {name}"));
    bar
}

/// Returns a bar that counts computed metrics, hidden for inputs of few samples.
///
/// The caller sets the length. The bar ticks on its own, so that it shows elapsed time during one
/// long metric such as the silhouette coefficient.
pub fn metrics_bar(samples: usize) -> ProgressBar {
    if samples < MIN_SAMPLES || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }

    let style = ProgressStyle::with_template("{spinner} computing {msg} [{pos}/{len}] {elapsed}")
        .unwrap_or_else(|_| ProgressStyle::default_spinner());
    let bar =
        ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr()).with_style(style);
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}
