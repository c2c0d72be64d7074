//! The write-ahead journal in front of sled. A flush of sled waits on the device about
//! four times (its log written in pieces with `sync_file_range`, the log's `fdatasync`,
//! the blob files and their directory), and an atomic batch of sled's writes its log
//! buffer out twice; a flush of the journal waits once. Every batch is written to the
//! journal, with the next sequence number, before sled applies it key by key (see
//! `crate::engine`); making batches durable is one `fdatasync` of the journal, and sled
//! is flushed only at a checkpoint, when the journal is full, after which the journal is
//! written again from its start.
//!
//! The journal is a file of [`CAPACITY`] bytes written out in full when created, so
//! that syncing a record changes no file metadata. A record is its length, a CRC-32 of
//! the rest, its sequence number and the batch's writes. Opening reads the records from
//! the start while each is whole and numbered one above the one before; the engine
//! applies those above the number sled holds under [`MARK`]. Records left from before
//! the last checkpoint are numbered at most that mark, so they are never applied again,
//! and they cannot continue the chain of newer ones.

use crate::engine::WriteBatch;
use crate::objects::sync_dir;
use crate::StoreError;
use std::fs::{File, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::{Mutex, MutexGuard};

/// The prefix of the keys the engine keeps for itself in sled. They sort after every key
/// of the mailstore (whose keys start with an ASCII letter), and the engine hides them
/// from its readers.
pub(crate) const INTERNAL: &[u8] = b"\xff\xff";
/// The key under which sled keeps the sequence number of the last batch it applied whole.
pub(crate) const MARK: &[u8] = b"\xff\xffjournal-mark";
/// The key under which sled keeps, as a record, what the batch it is applying overwrites.
pub(crate) const UNDO: &[u8] = b"\xff\xffjournal-undo";

/// One write of a batch: `None` removes the key.
pub(crate) type Op = (Vec<u8>, Option<Vec<u8>>);

/// The journal's size; reaching it makes a checkpoint. A record larger than what is left
/// after a checkpoint is still written, and grows the file.
pub(crate) const CAPACITY: u64 = 8 << 20;

/// Length, CRC-32, sequence number.
const HEADER: usize = 4 + 4 + 8;

/// An open journal.
#[derive(Debug)]
pub(crate) struct Journal {
    file: File,
    state: Mutex<Cursor>,
}

/// Where the next record goes and which number it gets.
#[derive(Debug)]
struct Cursor {
    position: u64,
    next_seq: u64,
}

/// A batch the journal holds that sled may lack.
#[derive(Debug, PartialEq)]
pub(crate) struct Record {
    pub seq: u64,
    pub batch: Vec<Op>,
}

/// The journal's lock, held while a batch is written to the journal and to sled, so that
/// both see batches in one order.
pub(crate) struct Writing<'j> {
    journal: &'j Journal,
    cursor: MutexGuard<'j, Cursor>,
    /// The length of the record written and not yet committed.
    written: Option<u64>,
}

impl Journal {
    /// Opens (or creates) the journal at `path` and returns it with the records it
    /// holds, in order. The journal writes after them only once [`Journal::restart`] says
    /// from which number on.
    pub fn open(path: &Path) -> Result<(Journal, Vec<Record>), StoreError> {
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(StoreError::engine)?;
        let mut contents = Vec::new();
        file.read_to_end(&mut contents)
            .map_err(StoreError::engine)?;
        let records = read_records(&contents);
        if (contents.len() as u64) < CAPACITY {
            write_out(&file, contents.len() as u64)?;
            if let Some(dir) = path.parent() {
                sync_dir(dir)?;
            }
        }
        let journal = Journal {
            file,
            state: Mutex::new(Cursor {
                position: 0,
                next_seq: 1,
            }),
        };
        Ok((journal, records))
    }

    /// After a checkpoint that made every batch up to `last_seq` durable in sled: writes
    /// again from the start, numbering from `last_seq + 1`.
    pub fn restart(&self, last_seq: u64) {
        let mut cursor = self.lock();
        cursor.position = 0;
        cursor.next_seq = last_seq + 1;
    }

    fn lock(&self) -> MutexGuard<'_, Cursor> {
        // The cursor is only changed once a record is written whole: still valid.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Takes the journal's lock for one batch.
    pub fn writing(&self) -> Writing<'_> {
        Writing {
            journal: self,
            cursor: self.lock(),
            written: None,
        }
    }

    /// Makes every record written so far durable.
    pub fn sync(&self) -> Result<(), StoreError> {
        self.file.sync_data().map_err(StoreError::engine)
    }

    /// Bytes the journal occupies.
    pub fn size(&self) -> Result<u64, StoreError> {
        Ok(self.file.metadata().map_err(StoreError::engine)?.len())
    }
}

impl Writing<'_> {
    /// Whether `batch` no longer fits before the end of the journal: a checkpoint first.
    pub fn is_full_for(&self, batch: &WriteBatch) -> bool {
        self.cursor.position > 0 && self.cursor.position + encoded_len(&batch.ops) > CAPACITY
    }

    /// Writes `batch`, which has at least one write, as the next record (not yet
    /// durably) and returns its number; the cursor moves on only with
    /// [`Writing::commit`].
    pub fn write(&mut self, batch: &WriteBatch) -> Result<u64, StoreError> {
        let seq = self.cursor.next_seq;
        let record = encode(seq, &batch.ops);
        self.journal
            .file
            .write_all_at(&record, self.cursor.position)
            .map_err(StoreError::engine)?;
        self.written = Some(record.len() as u64);
        Ok(seq)
    }

    /// The record [`Writing::write`] wrote is in sled too: the next one goes after it.
    pub fn commit(&mut self) {
        if let Some(len) = self.written.take() {
            self.cursor.position += len;
            self.cursor.next_seq += 1;
        }
    }

    /// sled did not apply the record [`Writing::write`] wrote: it is made unreadable, so
    /// that opening after a crash does not apply it, and the next record goes in its
    /// place. Should that fail too, a crash before the next record may still apply it,
    /// on the state it was made from: a commit that reported an error may have happened.
    pub fn discard(&mut self) -> Result<(), StoreError> {
        if self.written.take().is_some() {
            self.journal
                .file
                .write_all_at(&[0; HEADER], self.cursor.position)
                .map_err(StoreError::engine)?;
        }
        Ok(())
    }

    /// Starts again from the journal's start (after a checkpoint): what it holds is in
    /// sled, durably. A journal a large record grew goes back to its size.
    pub fn rewind(&mut self) -> Result<(), StoreError> {
        if self.journal.size()? > CAPACITY {
            self.journal
                .file
                .set_len(CAPACITY)
                .map_err(StoreError::engine)?;
        }
        self.cursor.position = 0;
        Ok(())
    }
}

/// Writes zeros from `from` up to [`CAPACITY`] and syncs the file with its length.
fn write_out(file: &File, from: u64) -> Result<(), StoreError> {
    const CHUNK: usize = 1 << 20;
    let zeros = vec![0u8; CHUNK];
    let mut position = from;
    while position < CAPACITY {
        let len = (CAPACITY - position).min(CHUNK as u64) as usize;
        file.write_all_at(&zeros[..len], position)
            .map_err(StoreError::engine)?;
        position += len as u64;
    }
    file.sync_all().map_err(StoreError::engine)
}

fn encoded_len(ops: &[Op]) -> u64 {
    let ops: usize = ops
        .iter()
        .map(|(k, v)| 4 + k.len() + 1 + v.as_ref().map_or(0, |v| 4 + v.len()))
        .sum();
    (HEADER + ops) as u64
}

/// `ops` as the record numbered `seq`.
pub(crate) fn encode(seq: u64, ops: &[Op]) -> Vec<u8> {
    let mut out = Vec::with_capacity(encoded_len(ops) as usize);
    out.extend_from_slice(&[0; 8]);
    out.extend_from_slice(&seq.to_le_bytes());
    for (key, value) in ops {
        put_bytes(&mut out, key);
        match value {
            Some(value) => {
                out.push(1);
                put_bytes(&mut out, value);
            }
            None => out.push(0),
        }
    }
    let len = (out.len() - HEADER) as u32;
    let crc = crc32fast::hash(&out[8..]);
    out[..4].copy_from_slice(&len.to_le_bytes());
    out[4..8].copy_from_slice(&crc.to_le_bytes());
    out
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    // A key or value of 4 GiB or more is refused by sled long before it gets here.
    out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    out.extend_from_slice(bytes);
}

/// The records from the start of `contents`, as long as each is whole and numbered one
/// above the one before.
fn read_records(contents: &[u8]) -> Vec<Record> {
    let mut records: Vec<Record> = Vec::new();
    let mut rest = contents;
    while let Some((record, after)) = read_record(rest) {
        if records
            .last()
            .is_some_and(|last| record.seq != last.seq + 1)
        {
            break;
        }
        records.push(record);
        rest = after;
    }
    records
}

/// The record `bytes` hold, if they hold one whole and nothing else.
pub(crate) fn decode(bytes: &[u8]) -> Option<Record> {
    read_record(bytes).and_then(|(record, rest)| rest.is_empty().then_some(record))
}

fn read_record(bytes: &[u8]) -> Option<(Record, &[u8])> {
    let (header, rest) = bytes.split_at_checked(HEADER)?;
    let len = u32::from_le_bytes(header[..4].try_into().ok()?) as usize;
    let crc = u32::from_le_bytes(header[4..8].try_into().ok()?);
    let (body, after) = rest.split_at_checked(len)?;
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(&header[8..]);
    hasher.update(body);
    if len == 0 || hasher.finalize() != crc {
        return None;
    }
    let seq = u64::from_le_bytes(header[8..].try_into().ok()?);
    let batch = read_ops(body).ok()?;
    Some((Record { seq, batch }, after))
}

fn read_ops(mut body: &[u8]) -> io::Result<Vec<Op>> {
    let mut ops = Vec::new();
    while !body.is_empty() {
        let key = take_bytes(&mut body)?;
        let mut tag = [0u8];
        body.read_exact(&mut tag)?;
        let value = match tag[0] {
            0 => None,
            1 => Some(take_bytes(&mut body)?),
            _ => return Err(io::ErrorKind::InvalidData.into()),
        };
        ops.push((key, value));
    }
    Ok(ops)
}

fn take_bytes(body: &mut &[u8]) -> io::Result<Vec<u8>> {
    let mut len = [0u8; 4];
    body.read_exact(&mut len)?;
    let len = u32::from_le_bytes(len) as usize;
    let (bytes, rest) = body
        .split_at_checked(len)
        .ok_or(io::ErrorKind::UnexpectedEof)?;
    *body = rest;
    Ok(bytes.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(ops: &[(&str, Option<&str>)]) -> WriteBatch {
        WriteBatch {
            ops: ops
                .iter()
                .map(|(k, v)| (k.as_bytes().to_vec(), v.map(|v| v.as_bytes().to_vec())))
                .collect(),
        }
    }

    #[test]
    fn records_read_back_until_the_first_torn_one() {
        let first = batch(&[("a", Some("1")), ("b", None)]);
        let second = batch(&[("c", Some(""))]);
        let mut file = encode(7, &first.ops);
        file.extend(encode(8, &second.ops));
        let third = encode(9, &batch(&[("d", Some("4"))]).ops);
        file.extend(&third[..third.len() - 1]);
        file.extend([0; 64]);
        let records = read_records(&file);
        assert_eq!(
            records,
            [
                Record {
                    seq: 7,
                    batch: first.ops.clone()
                },
                Record {
                    seq: 8,
                    batch: second.ops
                },
            ]
        );
        let mut flipped = encode(1, &batch(&[("k", Some("v"))]).ops);
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert!(read_records(&flipped).is_empty());
        assert!(decode(&flipped).is_none());
        let whole = encode(3, &first.ops);
        assert_eq!(decode(&whole).map(|r| r.seq), Some(3));
        assert!(decode(&file).is_none(), "one record and nothing else");
        assert!(read_records(&[0; 100]).is_empty());
    }

    #[test]
    fn records_left_from_before_a_checkpoint_do_not_continue_newer_ones() {
        // Records 5..=7 were checkpointed; 8 then went to the start, over 5.
        let old = [5, 6, 7].map(|seq| encode(seq, &batch(&[("key", Some("old"))]).ops));
        let mut file: Vec<u8> = old.concat();
        let new = encode(8, &batch(&[("key", Some("new"))]).ops);
        assert_eq!(new.len(), old[0].len());
        file[..new.len()].copy_from_slice(&new);
        let seqs: Vec<u64> = read_records(&file).iter().map(|r| r.seq).collect();
        assert_eq!(seqs, [8]);
    }

    #[test]
    fn a_journal_is_written_out_once_and_writes_from_its_start_after_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal");
        let (journal, records) = Journal::open(&path).unwrap();
        assert!(records.is_empty());
        assert_eq!(journal.size().unwrap(), CAPACITY);
        journal.restart(41);
        let one = batch(&[("x", Some("1"))]);
        let two = batch(&[("y", Some("2"))]);
        for b in [&one, &two] {
            let mut writing = journal.writing();
            assert!(!writing.is_full_for(b));
            writing.write(b).unwrap();
            writing.commit();
        }
        // A record that sled refused is made unreadable, and the next goes in its place.
        let refused = batch(&[("z", Some("refused, and longer"))]);
        let mut writing = journal.writing();
        assert_eq!(writing.write(&refused).unwrap(), 44);
        writing.discard().unwrap();
        drop(writing);
        journal.sync().unwrap();
        let (_, records) = Journal::open(&path).unwrap();
        assert_eq!(records.last().map(|r| r.seq), Some(43));
        let mut writing = journal.writing();
        assert_eq!(writing.write(&one).unwrap(), 44);
        writing.commit();
        drop(writing);
        journal.sync().unwrap();
        drop(journal);

        let (journal, records) = Journal::open(&path).unwrap();
        let seqs: Vec<u64> = records.iter().map(|r| r.seq).collect();
        assert_eq!(seqs, [42, 43, 44]);
        assert_eq!(records[2].batch, one.ops);
        assert_eq!(journal.size().unwrap(), CAPACITY);
        journal.restart(44);
        let mut writing = journal.writing();
        let huge = WriteBatch {
            ops: vec![(b"big".to_vec(), Some(vec![7; CAPACITY as usize]))],
        };
        assert!(
            !writing.is_full_for(&huge),
            "an empty journal takes anything"
        );
        assert_eq!(writing.write(&one).unwrap(), 45);
        writing.commit();
        assert!(writing.is_full_for(&huge));
    }
}
