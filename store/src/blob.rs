//! Message bodies: stored once, in independently compressed chunks, with a reference
//! count that COPY raises and EXPUNGE lowers. Chunking keeps reads of a part or a
//! partial fetch proportional to what is asked for, and bounds the memory of a read.

use crate::mime::MessageSummary;
use crate::schema::{decode_summary, encode_summary, key, BlobRecord};
use crate::tx::Tx;
use crate::types::BlobId;
use crate::{Store, StoreError};
use std::ops::Range;

/// Uncompressed bytes per chunk.
pub(crate) const CHUNK_SIZE: usize = 256 * 1024;
/// zstd's default level: about 3× on mail text at several hundred MB/s per core.
pub(crate) const ZSTD_LEVEL: i32 = 3;

/// A body compressed and parsed ahead of time, outside the writer lock.
#[derive(Debug)]
pub(crate) struct PreparedBlob {
    size: u32,
    chunks: Vec<Vec<u8>>,
    summary: Vec<u8>,
}

impl PreparedBlob {
    pub fn new(raw: &[u8]) -> Result<Self, StoreError> {
        let size = u32::try_from(raw.len())
            .map_err(|_| StoreError::Encode("a message is limited to 4 GiB".into()))?;
        let chunks = raw
            .chunks(CHUNK_SIZE)
            .map(|c| zstd::bulk::compress(c, ZSTD_LEVEL))
            .collect::<Result<_, _>>()?;
        let summary = encode_summary(&MessageSummary::parse(raw))?;
        Ok(PreparedBlob {
            size,
            chunks,
            summary,
        })
    }

    pub fn size(&self) -> u32 {
        self.size
    }

    /// Writes the body under a new id with one reference.
    pub fn insert(self, tx: &mut Tx<'_>) -> Result<BlobId, StoreError> {
        let id = BlobId(tx.next_id("blob")?);
        for (n, chunk) in self.chunks.into_iter().enumerate() {
            tx.put(key::chunk(id, n as u32), chunk);
        }
        tx.put(key::summary(id), self.summary);
        let record = BlobRecord {
            references: 1,
            size: self.size,
            chunk_size: CHUNK_SIZE as u32,
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
    for n in 0..record.chunks() {
        tx.delete(key::chunk(id, n));
    }
    tx.delete(key::summary(id));
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
            let ck = key::chunk(id, n);
            let compressed = self
                .engine()
                .get(&ck)?
                .ok_or_else(|| StoreError::corrupt(&ck, "missing body chunk"))?;
            let plain = zstd::bulk::decompress(&compressed, chunk_size as usize)?;
            let chunk_start = n * chunk_size;
            let from = start.saturating_sub(chunk_start) as usize;
            let to = ((end - chunk_start) as usize).min(plain.len());
            out.extend_from_slice(plain.get(from..to).unwrap_or_default());
        }
        Ok(out)
    }
}
