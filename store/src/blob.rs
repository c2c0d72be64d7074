//! Message bodies: stored once, as independently compressed chunks, with a reference
//! count that COPY raises and EXPUNGE lowers. Chunking keeps reads of a part or a
//! partial fetch proportional to what is asked for and bounds the memory of a read.
//!
//! A body that compresses to at most [`INLINE_LIMIT`] lives in the ordered map (one
//! value per chunk); a larger one is one engine object, written before the transaction
//! that refers to it, and removed only after the transaction that drops its last
//! reference is durable.

use crate::engine::Engine;
use crate::mime::MessageSummary;
use crate::schema::{decode, decode_summary, encode_summary, key, BlobRecord, BodyStorage};
use crate::sortkey::encode_keys;
use crate::tx::Tx;
use crate::types::BlobId;
use crate::{Store, StoreError};
use std::collections::HashSet;
use std::ops::Range;

/// The counter that gives the next blob id.
pub(crate) const BLOB_COUNTER: &str = "blob";

/// Uncompressed bytes per chunk.
pub(crate) const CHUNK_SIZE: usize = 256 * 1024;
/// Compressed bodies up to this size stay in the ordered map: as files they would each
/// occupy a whole filesystem block and an inode.
pub(crate) const INLINE_LIMIT: usize = 8 * 1024;

/// A body compressed, parsed and (if large) written out ahead of time, outside the
/// writer lock.
#[derive(Debug)]
pub(crate) struct PreparedBlob {
    size: u32,
    wire_size: u32,
    /// Compressed chunks of an inline body; empty for an object.
    chunks: Vec<Vec<u8>>,
    storage: BodyStorage,
    summary: Vec<u8>,
    /// The encoded sort keys, stored beside the summary.
    sort_keys: Vec<u8>,
}

impl PreparedBlob {
    pub fn new(raw: &[u8], engine: &dyn Engine) -> Result<Self, StoreError> {
        let too_big = |_| StoreError::Encode("a message is limited to 4 GiB".into());
        let size = u32::try_from(raw.len()).map_err(too_big)?;
        let wire_size = u32::try_from(crate::mime::wire_size(raw)).map_err(too_big)?;
        let chunks: Vec<Vec<u8>> = raw
            .chunks(CHUNK_SIZE)
            .map(crate::codec::compress)
            .collect::<Result<_, _>>()?;
        let parsed = MessageSummary::parse(raw);
        let (summary, sort_keys) = (encode_summary(&parsed)?, encode_keys(&parsed)?);
        let compressed: usize = chunks.iter().map(Vec::len).sum();
        if compressed <= INLINE_LIMIT {
            return Ok(PreparedBlob {
                size,
                wire_size,
                chunks,
                storage: BodyStorage::Inline,
                summary,
                sort_keys,
            });
        }
        let parts: Vec<&[u8]> = chunks.iter().map(Vec::as_slice).collect();
        let id = engine.put_object(&parts)?;
        let chunk_ends = chunks
            .iter()
            .scan(0u64, |end, c| {
                *end += c.len() as u64;
                Some(*end)
            })
            .collect();
        Ok(PreparedBlob {
            size,
            wire_size,
            chunks: Vec::new(),
            storage: BodyStorage::Object { id, chunk_ends },
            summary,
            sort_keys,
        })
    }

    pub fn size(&self) -> u32 {
        self.size
    }

    pub fn wire_size(&self) -> u32 {
        self.wire_size
    }

    /// The engine object written for this body, if any (to remove it if the append fails).
    pub fn object(&self) -> Option<u64> {
        match self.storage {
            BodyStorage::Object { id, .. } => Some(id),
            BodyStorage::Inline => None,
        }
    }

    /// Records the body under a new id with one reference.
    pub fn insert(self, tx: &mut Tx<'_>) -> Result<BlobId, StoreError> {
        let id = BlobId(tx.next_id(BLOB_COUNTER)?);
        for (n, chunk) in self.chunks.into_iter().enumerate() {
            tx.put(key::chunk(id, n as u32), chunk);
        }
        tx.put(key::summary(id), self.summary);
        tx.put(key::sort_keys(id), self.sort_keys);
        let record = BlobRecord {
            references: 1,
            size: self.size,
            chunk_size: CHUNK_SIZE as u32,
            storage: self.storage,
        };
        tx.put_record(key::blob(id), &record)?;
        Ok(id)
    }
}

fn blob_record(tx: &Tx<'_>, id: BlobId) -> Result<BlobRecord, StoreError> {
    let k = key::blob(id);
    tx.record(&k)?
        .ok_or_else(|| StoreError::corrupt(&k, "a message refers to a missing body"))
}

/// Adds a reference (a copy of the message in another place).
pub(crate) fn add_reference(tx: &mut Tx<'_>, id: BlobId) -> Result<(), StoreError> {
    let mut record = blob_record(tx, id)?;
    record.references += 1;
    tx.put_record(key::blob(id), &record)
}

/// Drops a reference; the last one removes the body.
pub(crate) fn drop_reference(tx: &mut Tx<'_>, id: BlobId) -> Result<(), StoreError> {
    let mut record = blob_record(tx, id)?;
    record.references = record.references.saturating_sub(1);
    if record.references > 0 {
        return tx.put_record(key::blob(id), &record);
    }
    match record.storage {
        BodyStorage::Inline => {
            for n in 0..record.chunks() {
                tx.delete(key::chunk(id, n));
            }
        }
        BodyStorage::Object { id: object, .. } => tx.delete_object_after_commit(object),
    }
    tx.delete(key::summary(id));
    tx.delete(key::sort_keys(id));
    tx.delete(key::blob(id));
    Ok(())
}

impl Store {
    /// The parsed facts of a stored body.
    pub fn summary(&self, id: BlobId) -> Result<MessageSummary, StoreError> {
        let k = key::summary(id);
        let bytes = self
            .engine()
            .get(&k)?
            .ok_or_else(|| StoreError::corrupt(&k, "missing message summary"))?;
        decode_summary(&k, &bytes)
    }

    /// The summaries of `ids`, in their order, read at once.
    pub fn summaries_of(&self, ids: &[BlobId]) -> Result<Vec<MessageSummary>, StoreError> {
        let keys: Vec<Vec<u8>> = ids.iter().map(|&id| key::summary(id)).collect();
        let values = self.engine().get_many(&keys)?;
        keys.iter()
            .zip(values)
            .map(|(k, value)| {
                let bytes =
                    value.ok_or_else(|| StoreError::corrupt(k, "missing message summary"))?;
                decode_summary(k, &bytes)
            })
            .collect()
    }

    /// The decoded text of the body's text parts, for SEARCH BODY and TEXT.
    pub fn body_text(&self, id: BlobId) -> Result<Vec<String>, StoreError> {
        Ok(crate::mime::text_parts(&self.read_body(id)?))
    }

    /// The whole body.
    pub fn read_body(&self, id: BlobId) -> Result<Vec<u8>, StoreError> {
        self.read_body_range(id, 0..u32::MAX)
    }

    /// The bytes of `range` (clamped to the body), decompressing only the chunks it spans.
    pub fn read_body_range(&self, id: BlobId, range: Range<u32>) -> Result<Vec<u8>, StoreError> {
        let k = key::blob(id);
        let record: BlobRecord = self
            .read(&k)?
            .ok_or_else(|| StoreError::corrupt(&k, "missing message body"))?;
        let (start, end) = (range.start.min(record.size), range.end.min(record.size));
        let mut out = Vec::with_capacity((end - start) as usize);
        if start >= end {
            return Ok(out);
        }
        let chunk_size = record.chunk_size.max(1);
        for n in start / chunk_size..=(end - 1) / chunk_size {
            let compressed = self.compressed_chunk(id, &record.storage, n)?;
            let plain = crate::codec::decompress(&compressed, chunk_size as usize)?;
            let chunk_start = n * chunk_size;
            let from = start.saturating_sub(chunk_start) as usize;
            let to = ((end - chunk_start) as usize).min(plain.len());
            out.extend_from_slice(plain.get(from..to).unwrap_or_default());
        }
        Ok(out)
    }

    fn compressed_chunk(
        &self,
        id: BlobId,
        storage: &BodyStorage,
        n: u32,
    ) -> Result<Vec<u8>, StoreError> {
        match storage {
            BodyStorage::Inline => {
                let ck = key::chunk(id, n);
                self.engine()
                    .get(&ck)?
                    .ok_or_else(|| StoreError::corrupt(&ck, "missing body chunk"))
            }
            BodyStorage::Object {
                id: object,
                chunk_ends,
            } => {
                let n = n as usize;
                let end = *chunk_ends.get(n).ok_or_else(|| {
                    StoreError::corrupt(&key::blob(id), "chunk beyond the object")
                })?;
                let start = if n == 0 { 0 } else { chunk_ends[n - 1] };
                self.engine().read_object(*object, start..end)
            }
        }
    }

    /// Removes the objects no body record refers to: what a crash between writing an
    /// object and committing its record leaves behind.
    pub(crate) fn sweep_orphan_objects(&self) -> Result<usize, StoreError> {
        let mut referenced = HashSet::new();
        for entry in self.engine().scan_prefix(&[key::BLOB]) {
            let (k, v) = entry?;
            if let BodyStorage::Object { id, .. } = decode::<BlobRecord>(&k, &v)?.storage {
                referenced.insert(id);
            }
        }
        let mut removed = 0;
        for object in self.engine().object_ids()? {
            if !referenced.contains(&object) {
                self.engine().delete_object(object)?;
                removed += 1;
            }
        }
        if removed > 0 {
            tracing::info!(removed, "removed objects left unreferenced by a crash");
        }
        Ok(removed)
    }
}
