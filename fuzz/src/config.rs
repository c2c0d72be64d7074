//! The configuration loader, given any file: it loads or explains why not, and never
//! panics.

use std::path::Path;

#[test]
fn config() {
    let dir = tempfile::tempdir().expect("a scratch directory");
    let path = dir.path().join("mailhive.toml");
    bolero::check!(name = "config")
        .with_test_time(crate::SHORT_RUN)
        .for_each(|input: &[u8]| {
            std::fs::write(&path, input).expect("writing the config file");
            let _ = mailhive::config::load(Some(Path::new(&path)));
        });
}
