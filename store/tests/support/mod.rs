//! The engines the store's tests run on: sled in a temporary directory, and PostgreSQL
//! in a database of its own on a private cluster (skipped where PostgreSQL is not
//! installed, never under CI). A test written once as `fn name(backend: &Backend)` is
//! run on each by `on_every_engine!(name, ...)`.

pub mod private_postgres;

use mailhive_store::Store;

/// Where a test's store lives; [`Backend::open`] opens it again as a restart would.
#[derive(Debug)]
pub enum Backend {
    Sled(tempfile::TempDir),
    Postgres(private_postgres::Database),
}

impl Backend {
    pub fn open(&self) -> Store {
        match self {
            Backend::Sled(dir) => Store::open(dir.path()).unwrap(),
            Backend::Postgres(database) => Store::open_postgres(&database.url).unwrap(),
        }
    }
}

/// Runs `test` on a new sled store, then on a new PostgreSQL one.
pub fn on_every_engine(test: fn(&Backend)) {
    test(&Backend::Sled(tempfile::tempdir().unwrap()));
    if let Some(database) = private_postgres::database() {
        test(&Backend::Postgres(database));
    }
}

/// `#[test]`s, in a module `on_every_engine`, that run each named test on every engine.
#[macro_export]
macro_rules! on_every_engine {
    ($($test:ident),* $(,)?) => {
        mod on_every_engine {
            $(
                #[test]
                fn $test() {
                    $crate::support::on_every_engine(super::$test)
                }
            )*
        }
    };
}
