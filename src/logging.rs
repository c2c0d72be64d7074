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
    // The level filter goes outermost: its level is the hint that lets disabled events —
    // also the storage engine's `log` records, which arrive through the log bridge — be
    // dropped where they are made, before any of their arguments is formatted.
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_filter(filter_fn(may_be_logged))
        .with_filter(filter);
    tracing_subscriber::registry().with(layer).init();
}

/// Whether an event may be written at all, whatever the filter allows.
fn may_be_logged(metadata: &Metadata<'_>) -> bool {
    !(*metadata.level() == Level::TRACE && metadata.target().starts_with("sled"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing::level_filters::LevelFilter;

    #[test]
    fn events_below_the_level_are_not_even_built() {
        if std::env::var_os("RUST_LOG").is_some() {
            return; // the level is the environment's, not the one asked for
        }
        init("info");
        assert_eq!(LevelFilter::current(), LevelFilter::INFO);
    }
}
