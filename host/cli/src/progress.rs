//! Progress bars on stderr for long commands (import, export, signing, planning).
use indicatif::{ProgressBar, ProgressStyle};

/// A spinner that becomes a bar once the total is known; `update(done, total)`.
pub fn bar(message: String) -> ProgressBar {
    ProgressBar::new_spinner().with_message(message)
}

/// Moves `bar` to `done`, switching to a bar with `total` when it becomes known.
pub fn update(bar: &ProgressBar, done: u64, total: Option<u64>) {
    if let Some(total) = total {
        if bar.length() != Some(total) {
            bar.set_length(total);
            bar.set_style(
                ProgressStyle::with_template("{msg} {bar:40} {pos}/{len}, {per_sec}, eta {eta}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
        }
    }
    bar.set_position(done);
}
