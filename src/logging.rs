//! The process's log on standard error: `RUST_LOG`'s filter (or the command's default
//! level), except the storage engine's trace output, which prints stored records —
//! messages, password hashes — byte for byte and so never goes to the log.

use tracing::{Level, Metadata};
use tracing_subscriber::filter::{filter_fn, EnvFilter};
use tracing_subscriber::prelude::*;

/// Installs the global subscriber; `default_level` applies when `RUST_LOG` is not set.
pub fn init(default_level: &str) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_level));
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_filter(filter)
        .with_filter(filter_fn(may_be_logged));
    tracing_subscriber::registry().with(layer).init();
}

/// Whether an event may be written at all, whatever the filter allows.
fn may_be_logged(metadata: &Metadata<'_>) -> bool {
    !(*metadata.level() == Level::TRACE && metadata.target().starts_with("sled"))
}
