//! `mailhive store copy --to OTHER.toml` (SPEC §10): the configured store, whole, into
//! the empty store OTHER.toml names — from one machine's sled to a PostgreSQL database
//! several servers share, or back. Both stores are opened directly, so a sled store must
//! not be in use by a server; with PostgreSQL, stop the servers for a copy of one moment.

use crate::config::{self, Config};
use crate::engine::{describe, open_store};
use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use std::path::Path;
use std::time::Instant;

pub fn run(config: &Config, to: &Path) -> anyhow::Result<()> {
    let target_config = config::load(Some(to))?;
    let source = open_store(config).with_context(|| {
        format!(
            "cannot open the store at {} (is a server using it?)",
            describe(config)
        )
    })?;
    let target = open_store(&target_config).with_context(|| {
        format!(
            "cannot open the target store at {}",
            describe(&target_config)
        )
    })?;
    let started = Instant::now();
    let progress = ProgressBar::new(source.key_count()?);
    progress.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} records, eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let copied = source
        .copy_into(&target, |copied| progress.set_position(copied))
        .with_context(|| format!("cannot copy into {}", describe(&target_config)))?;
    progress.finish_and_clear();
    println!(
        "copied {copied} records from {} to {} in {:.1} s",
        describe(config),
        describe(&target_config),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
