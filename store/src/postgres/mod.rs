//! The PostgreSQL engine: the mailstore's ordered key space as one table of byte keys
//! and values, its object area as a table of bodies, shared by any number of processes
//! (SPEC §10).
//!
//! What makes several processes correct is the write transaction: a writer's reads and
//! its batch are one database transaction that starts by taking one advisory lock, so
//! writers of all processes run one at a time, as the writers of one process do under
//! the store's mutex, and every read-decide-write (the next UID, a modseq, a counter)
//! sees everything committed before it. A batch is durable when its commit returns
//! (`synchronous_commit` on), so [`Engine::flush`] has nothing to do.
//!
//! Reads outside a write transaction each see what is committed when they run, as with
//! sled. Scans read a page of keys at a time, so a scan of any length holds a bounded
//! number of rows and no connection between pages. Every query is a round trip, which
//! costs more than the work of most of them: callers that know the keys they will
//! read ask for them at once ([`Engine::get_many`], one query per page of keys), and
//! each connection keeps its statements prepared ([`pool`]).

mod migrations;
mod notify;
mod pool;

use crate::engine::{
    Engine, Entry, ForeignChanges, Scan, SharedCounts, WriteBatch, WriteTxn, LEASE_SECONDS,
};
use crate::StoreError;
use pool::{Connection, Pool, Pooled};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::ops::Range;
use std::sync::Mutex;

/// The advisory lock every write transaction holds ("mhwrit").
const WRITE_LOCK: i64 = 0x6d68_7772_6974;
/// Rows a scan reads per query.
const PAGE: i64 = 1024;
/// Objects younger than this are never swept: their writer may not have committed the
/// record that refers to them yet (it writes the object first, then takes the lock).
const OBJECT_SETTLE_SECONDS: f64 = 3600.0;

/// A mailstore in a PostgreSQL database.
#[derive(Debug)]
pub struct PostgresEngine {
    pool: Pool,
    /// Tells this engine's notifications from other processes' (random per opening).
    instance: u64,
}

impl PostgresEngine {
    /// Connects to the database `url` names (`postgresql://user@host:port/db`) and
    /// applies the migrations it lacks.
    pub fn open(url: &str) -> Result<Self, StoreError> {
        let config: postgres::Config = url.parse().map_err(StoreError::engine)?;
        let pool = Pool::new(config);
        migrations::migrate(pool.get()?.connection().client())?;
        Ok(PostgresEngine {
            pool,
            instance: random_u64()? >> 1,
        })
    }

    /// Runs `f` on a pooled connection; a connection that failed is not reused.
    fn with_client<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, postgres::Error>,
    ) -> Result<T, StoreError> {
        let mut conn = self.pool.get()?;
        f(conn.connection()).map_err(|e| {
            conn.discard();
            StoreError::engine(e)
        })
    }
}

/// The first key after every key that starts with `prefix`; `None` if there is none.
fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

/// One page of the entries with `start <= key < end`.
fn page(
    client: &mut Connection,
    start: &[u8],
    end: Option<&[u8]>,
) -> Result<Vec<Entry>, postgres::Error> {
    let rows = match end {
        Some(end) => client.query(
            "SELECT key, value FROM kv WHERE key >= $1 AND key < $2 ORDER BY key LIMIT $3",
            &[&start, &end, &PAGE],
        ),
        None => client.query(
            "SELECT key, value FROM kv WHERE key >= $1 ORDER BY key LIMIT $2",
            &[&start, &PAGE],
        ),
    }?;
    Ok(rows
        .into_iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect())
}

/// The values of `keys`, in their order, [`PAGE`] keys per query.
fn get_many(
    client: &mut Connection,
    keys: &[Vec<u8>],
) -> Result<Vec<Option<Vec<u8>>>, postgres::Error> {
    let mut found: HashMap<Vec<u8>, Vec<u8>> = HashMap::with_capacity(keys.len());
    for part in keys.chunks(PAGE as usize) {
        let rows = client.query("SELECT key, value FROM kv WHERE key = ANY($1)", &[&part])?;
        found.extend(rows.into_iter().map(|row| (row.get(0), row.get(1))));
    }
    Ok(keys.iter().map(|k| found.get(k).cloned()).collect())
}

/// A scan read page by page, each page from `fetch`.
struct PagedScan<F> {
    fetch: F,
    /// Where the next page starts; `None` once the range is exhausted.
    next: Option<Vec<u8>>,
    end: Option<Vec<u8>>,
    page: VecDeque<Entry>,
}

impl<F> PagedScan<F>
where
    F: FnMut(&[u8], Option<&[u8]>) -> Result<Vec<Entry>, StoreError>,
{
    fn new(fetch: F, start: &[u8], end: Option<Vec<u8>>) -> Self {
        PagedScan {
            fetch,
            next: Some(start.to_vec()),
            end,
            page: VecDeque::new(),
        }
    }
}

impl<F> Iterator for PagedScan<F>
where
    F: FnMut(&[u8], Option<&[u8]>) -> Result<Vec<Entry>, StoreError>,
{
    type Item = Result<Entry, StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.page.is_empty() {
            let start = self.next.take()?;
            match (self.fetch)(&start, self.end.as_deref()) {
                Ok(rows) => {
                    if rows.len() as i64 == PAGE {
                        // The smallest key after the last one read.
                        self.next = rows.last().map(|(k, _)| [k.as_slice(), &[0]].concat());
                    }
                    self.page = rows.into();
                }
                Err(e) => return Some(Err(e)),
            }
        }
        self.page.pop_front().map(Ok)
    }
}

impl Engine for PostgresEngine {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.with_client(|c| c.query_opt("SELECT value FROM kv WHERE key = $1", &[&key]))
            .map(|row| row.map(|r| r.get(0)))
    }

    fn get_many(&self, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        self.with_client(|c| get_many(c, keys))
    }

    fn reads_in_batches(&self) -> bool {
        true
    }

    fn scan_prefix(&self, prefix: &[u8]) -> Scan<'_> {
        let end = prefix_end(prefix);
        self.scan_from(prefix, end)
    }

    fn scan_range(&self, start: &[u8], end: &[u8]) -> Scan<'_> {
        self.scan_from(start, Some(end.to_vec()))
    }

    fn apply(&self, batch: WriteBatch) -> Result<(), StoreError> {
        Box::new(self.write_txn()?).commit(batch)
    }

    fn flush(&self) -> Result<(), StoreError> {
        // Every commit was durable when it returned.
        Ok(())
    }

    fn size_on_disk(&self) -> Result<u64, StoreError> {
        self.with_client(|c| {
            c.query_one(
                "SELECT pg_total_relation_size('kv') + pg_total_relation_size('objects')",
                &[],
            )
        })
        .map(|row| u64::try_from(row.get::<_, i64>(0)).unwrap_or(0))
    }

    fn put_object(&self, parts: &[&[u8]]) -> Result<u64, StoreError> {
        let data = parts.concat();
        loop {
            // Ids are non-negative so that they read back as the same u64.
            let id = (random_u64()? >> 1) as i64;
            let inserted = self.with_client(|c| {
                c.execute(
                    "INSERT INTO objects (id, data) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                    &[&id, &data],
                )
            })?;
            if inserted == 1 {
                return Ok(id as u64);
            }
        }
    }

    fn read_object(&self, id: u64, range: Range<u64>) -> Result<Vec<u8>, StoreError> {
        let id = object_id(id)?;
        // substring counts from 1, in int4: a bytea holds at most 1 GiB.
        let from = i32::try_from(range.start)
            .unwrap_or(i32::MAX)
            .saturating_add(1);
        let len = i32::try_from(range.end.saturating_sub(range.start)).unwrap_or(i32::MAX);
        let row = self.with_client(|c| {
            c.query_opt(
                "SELECT substring(data FROM $2 FOR $3) FROM objects WHERE id = $1",
                &[&id, &from, &len],
            )
        })?;
        row.map(|r| r.get(0))
            .ok_or_else(|| StoreError::corrupt(&id.to_be_bytes(), "missing object"))
    }

    fn delete_object(&self, id: u64) -> Result<(), StoreError> {
        let id = object_id(id)?;
        self.with_client(|c| c.execute("DELETE FROM objects WHERE id = $1", &[&id]))
            .map(|_| ())
    }

    fn object_ids(&self) -> Result<Vec<u64>, StoreError> {
        let rows = self.with_client(|c| {
            c.query(
                "SELECT id FROM objects WHERE created < now() - make_interval(secs => $1)",
                &[&OBJECT_SETTLE_SECONDS],
            )
        })?;
        Ok(rows
            .into_iter()
            .map(|r| r.get::<_, i64>(0) as u64)
            .collect())
    }

    fn begin_write(&self) -> Result<Option<Box<dyn WriteTxn + '_>>, StoreError> {
        Ok(Some(Box::new(self.write_txn()?)))
    }

    fn shared_with_other_processes(&self) -> bool {
        true
    }

    fn watch_foreign_changes(&self, on_change: ForeignChanges) -> Result<(), StoreError> {
        notify::spawn_listener(self.pool.config().clone(), self.instance, on_change)
    }

    fn exchange_leases(&self, counts: &SharedCounts) -> Result<SharedCounts, StoreError> {
        // The instance number is below 2^63 (made so at open).
        let process = self.instance as i64;
        let scopes: Vec<&str> = counts.keys().map(String::as_str).collect();
        let values: Vec<i64> = counts
            .values()
            .map(|&n| i64::try_from(n).unwrap_or(i64::MAX))
            .collect();
        let seconds = f64::from(LEASE_SECONDS);
        // A failure on the way discards the connection, which rolls the transaction back.
        let rows = self.with_client(|c| {
            c.batch_execute("BEGIN")?;
            c.execute(
                "DELETE FROM leases WHERE process = $1 OR expires < now()",
                &[&process],
            )?;
            c.execute(
                "INSERT INTO leases (process, scope, count, expires) \
                 SELECT $1, scope, count, now() + make_interval(secs => $4) \
                 FROM unnest($2::text[], $3::bigint[]) AS own(scope, count)",
                &[&process, &scopes, &values, &seconds],
            )?;
            let rows = c.query(
                "SELECT scope, sum(count)::bigint FROM leases WHERE process <> $1 GROUP BY scope",
                &[&process],
            )?;
            c.batch_execute("COMMIT")?;
            Ok(rows)
        })?;
        Ok(rows
            .into_iter()
            .map(|row| (row.get(0), u64::try_from(row.get::<_, i64>(1)).unwrap_or(0)))
            .collect())
    }
}

impl PostgresEngine {
    /// Begins a transaction and waits for [`WRITE_LOCK`].
    fn write_txn(&self) -> Result<PostgresTxn<'_>, StoreError> {
        let mut conn = self.pool.get()?;
        if let Err(e) = conn.connection().batch_execute(&format!(
            "BEGIN; SELECT pg_advisory_xact_lock({WRITE_LOCK})"
        )) {
            conn.discard();
            return Err(StoreError::engine(e));
        }
        Ok(PostgresTxn {
            conn: Mutex::new(conn),
            open: true,
            instance: self.instance,
        })
    }

    fn scan_from(&self, start: &[u8], end: Option<Vec<u8>>) -> Scan<'_> {
        Box::new(PagedScan::new(
            move |from: &[u8], to: Option<&[u8]>| self.with_client(|c| page(c, from, to)),
            start,
            end,
        ))
    }
}

fn random_u64() -> Result<u64, StoreError> {
    let mut random = [0u8; 8];
    getrandom::fill(&mut random)
        .map_err(|e| StoreError::engine(std::io::Error::other(e.to_string())))?;
    Ok(u64::from_le_bytes(random))
}

/// An object id as the database keeps it (ids are made non-negative).
fn object_id(id: u64) -> Result<i64, StoreError> {
    i64::try_from(id).map_err(|_| StoreError::corrupt(&id.to_be_bytes(), "object id out of range"))
}

/// A write transaction: one database transaction holding [`WRITE_LOCK`].
struct PostgresTxn<'p> {
    /// The transaction's connection (behind a mutex so that scans can share it).
    conn: Mutex<Pooled<'p>>,
    /// Not yet committed: dropping rolls back.
    open: bool,
    /// The engine's instance number, which its notifications carry.
    instance: u64,
}

impl PostgresTxn<'_> {
    fn query<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, postgres::Error>,
    ) -> Result<T, StoreError> {
        let mut conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        f(conn.connection()).map_err(StoreError::engine)
    }
}

impl WriteTxn for PostgresTxn<'_> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.query(|c| c.query_opt("SELECT value FROM kv WHERE key = $1", &[&key]))
            .map(|row| row.map(|r| r.get(0)))
    }

    fn get_many(&self, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        self.query(|c| get_many(c, keys))
    }

    fn reads_in_batches(&self) -> bool {
        true
    }

    fn scan_prefix(&self, prefix: &[u8]) -> Scan<'_> {
        Box::new(PagedScan::new(
            move |from: &[u8], to: Option<&[u8]>| self.query(|c| page(c, from, to)),
            prefix,
            prefix_end(prefix),
        ))
    }

    fn commit(mut self: Box<Self>, batch: WriteBatch) -> Result<(), StoreError> {
        // The last write of a key wins, as in the batch's order.
        let writes: BTreeMap<Vec<u8>, Option<Vec<u8>>> = batch.ops.into_iter().collect();
        let notices = notify::notices(self.instance, &writes)?;
        let (mut put_keys, mut put_values, mut deleted) = (Vec::new(), Vec::new(), Vec::new());
        for (key, value) in &writes {
            match value {
                Some(value) => {
                    put_keys.push(key.as_slice());
                    put_values.push(value.as_slice());
                }
                None => deleted.push(key.as_slice()),
            }
        }
        // One statement for the whole batch, then the commit: the write lock is held for
        // round trips, so the batch costs two, whatever it holds.
        self.query(|c| {
            c.execute(
                "WITH removed AS (DELETE FROM kv WHERE key = ANY($1::bytea[])), \
                 stored AS (INSERT INTO kv (key, value) \
                 SELECT * FROM unnest($2::bytea[], $3::bytea[]) \
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value) \
                 SELECT pg_notify($4, payload) FROM unnest($5::text[]) AS n(payload)",
                &[&deleted, &put_keys, &put_values, &notify::CHANNEL, &notices],
            )?;
            c.batch_execute("COMMIT")
        })?;
        self.open = false;
        Ok(())
    }
}

impl Drop for PostgresTxn<'_> {
    fn drop(&mut self) {
        if self.open {
            let conn = self.conn.get_mut().unwrap_or_else(|p| p.into_inner());
            if conn.connection().batch_execute("ROLLBACK").is_err() {
                conn.discard();
            }
        }
    }
}
