//! The database schema and its migrations, applied when a store opens. `schema_version`
//! holds the number of migrations applied; each migration runs in the transaction that
//! records it, under an advisory lock, so front ends that start at once apply each one
//! exactly once.

use crate::StoreError;
use postgres::Client;

/// Held while migrating (one key of PostgreSQL's advisory lock space, "mhmigr").
const MIGRATION_LOCK: i64 = 0x6d68_6d69_6772;

/// The migrations in order; the n-th brings the schema to version n.
const MIGRATIONS: &[&str] = &[
    // 1: the ordered key space and the object area. Keys compare as bytes, as the
    // mailstore's keyspaces expect. Bodies are compressed already: kept out of line and
    // uncompressed (STORAGE EXTERNAL), so a range read fetches only the chunks it spans.
    "CREATE TABLE kv (key bytea PRIMARY KEY, value bytea NOT NULL);
     CREATE TABLE objects (
         id bigint PRIMARY KEY,
         data bytea NOT NULL,
         created timestamptz NOT NULL DEFAULT now()
     );
     ALTER TABLE objects ALTER COLUMN data SET STORAGE EXTERNAL;",
    // 2: what each process counts of the limits the processes share, until it expires.
    "CREATE TABLE leases (
         process bigint NOT NULL,
         scope text NOT NULL,
         count bigint NOT NULL,
         expires timestamptz NOT NULL,
         PRIMARY KEY (process, scope)
     );",
];

/// Brings the database up to this build's schema. Fails on a database written by a
/// newer build.
pub(super) fn migrate(client: &mut Client) -> Result<(), StoreError> {
    let mut tx = client.transaction().map_err(StoreError::engine)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .map_err(StoreError::engine)?;
    let exists: bool = tx
        .query_one("SELECT to_regclass('schema_version') IS NOT NULL", &[])
        .map_err(StoreError::engine)?
        .get(0);
    if !exists {
        tx.batch_execute(
            "CREATE TABLE schema_version (version integer NOT NULL);
             INSERT INTO schema_version VALUES (0);",
        )
        .map_err(StoreError::engine)?;
    }
    let applied: i32 = tx
        .query_one("SELECT version FROM schema_version", &[])
        .map_err(StoreError::engine)?
        .get(0);
    let applied = usize::try_from(applied).unwrap_or(usize::MAX);
    if applied > MIGRATIONS.len() {
        return Err(StoreError::Corrupt {
            key: "schema_version".into(),
            reason: format!(
                "the database has schema version {applied}; this build knows {}",
                MIGRATIONS.len()
            ),
        });
    }
    for migration in &MIGRATIONS[applied..] {
        tx.batch_execute(migration).map_err(StoreError::engine)?;
    }
    let version = i32::try_from(MIGRATIONS.len()).unwrap_or(i32::MAX);
    tx.execute("UPDATE schema_version SET version = $1", &[&version])
        .map_err(StoreError::engine)?;
    tx.commit().map_err(StoreError::engine)
}
