//! `mailhive import-mbox`: every file is opened and checked before anything is written,
//! then messages stream from a reader thread in bounded batches to [`Admin::append`],
//! each batch durable before the next is counted. Malformed messages are reported with
//! their file and byte offset and skipped; the rest is imported. The import stops at
//! the message that would take the account past its quota (SPEC §7), naming its byte
//! offset; what came before it stays.

use crate::admin::{Admin, AdminError};
use crate::mbox::{Format, Item, MboxError, MboxMessage, MboxReader};
use indicatif::{ProgressBar, ProgressStyle};
use mailhive_store::{InternalDate, MailboxId, MailboxName, NewMessage, Username};
use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Messages per append batch: one flush covers them all.
const BATCH_MESSAGES: usize = 256;
/// Bytes per append batch (a single larger message makes a batch of its own).
const BATCH_BYTES: usize = 8 << 20;
/// Batches read ahead of the writer; bounds the import's memory.
const BATCHES_AHEAD: usize = 2;

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{path}: cannot read: {source}")]
    Open { path: String, source: io::Error },
    #[error("{path}: {source}")]
    Mbox { path: String, source: MboxError },
    #[error("{path}: message at byte {offset} not imported: {user}'s quota would be exceeded ({imported} messages imported before it)")]
    OverQuota {
        path: String,
        offset: u64,
        user: String,
        imported: u64,
    },
    #[error(transparent)]
    Admin(#[from] AdminError),
}

/// One mbox to import, already checked to start like an mbox.
pub struct MboxSource {
    label: String,
    size: u64,
    reader: MboxReader<Box<dyn BufRead + Send>>,
}

impl std::fmt::Debug for MboxSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MboxSource")
            .field("label", &self.label)
            .finish_non_exhaustive()
    }
}

impl MboxSource {
    pub fn open(path: &Path, format: Format, max_message_size: usize) -> Result<Self, ImportError> {
        let label = path.display().to_string();
        let open_error = |source| ImportError::Open {
            path: label.clone(),
            source,
        };
        let file = File::open(path).map_err(open_error)?;
        let size = file.metadata().map_err(open_error)?.len();
        Self::new(
            label,
            size,
            Box::new(BufReader::with_capacity(1 << 16, file)),
            format,
            max_message_size,
        )
    }

    pub fn from_bytes(
        label: &str,
        bytes: &'static [u8],
        format: Format,
        max_message_size: usize,
    ) -> Result<Self, ImportError> {
        Self::new(
            label.to_owned(),
            bytes.len() as u64,
            Box::new(bytes),
            format,
            max_message_size,
        )
    }

    fn new(
        label: String,
        size: u64,
        input: Box<dyn BufRead + Send>,
        format: Format,
        max_message_size: usize,
    ) -> Result<Self, ImportError> {
        let reader = MboxReader::new(input, format, max_message_size).map_err(|source| {
            ImportError::Mbox {
                path: label.clone(),
                source,
            }
        })?;
        Ok(MboxSource {
            label,
            size,
            reader,
        })
    }
}

/// What an import did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ImportSummary {
    pub messages: u64,
    pub bytes: u64,
    pub skipped: u64,
    pub elapsed: Duration,
}

impl std::fmt::Display for ImportSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let secs = self.elapsed.as_secs_f64();
        write!(
            f,
            "imported {} messages ({} bytes) in {secs:.2} s ({:.1} MB/s), {} malformed skipped",
            self.messages,
            self.bytes,
            self.bytes as f64 / secs.max(1e-9) / 1e6,
            self.skipped
        )
    }
}

/// What the reader thread sends: a batch of messages of one file (its label, and the
/// bytes of the file it covers), or a skipped one.
enum Event {
    Batch(String, Vec<MboxMessage>, u64),
    Skipped(String),
    Failed(ImportError),
}

/// Imports `sources` into `user`'s `mailbox` (created and subscribed if missing).
pub fn import(
    admin: &dyn Admin,
    user: &Username,
    mailbox: &MailboxName,
    sources: Vec<MboxSource>,
    progress: &ProgressBar,
) -> Result<ImportSummary, ImportError> {
    let started = Instant::now();
    let target = admin.import_target(user, mailbox)?;
    progress.set_length(sources.iter().map(|s| s.size).sum());
    progress.set_style(
        ProgressStyle::with_template(
            "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta} {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut summary = ImportSummary::default();
    let (sender, batches) = mpsc::sync_channel(BATCHES_AHEAD);
    std::thread::scope(|scope| {
        scope.spawn(move || read_batches(sources, &sender));
        for event in batches {
            match event {
                Event::Batch(label, batch, consumed) => {
                    let appended = append_batch(admin, target, &batch)
                        .map_err(|e| e.at(&label, user, summary.messages))?;
                    summary.messages += appended.0;
                    summary.bytes += appended.1;
                    progress.inc(consumed);
                    progress.set_message(format!("{} messages", summary.messages));
                }
                Event::Skipped(report) => {
                    summary.skipped += 1;
                    progress.suspend(|| eprintln!("{report}"));
                }
                Event::Failed(e) => return Err(e),
            }
        }
        Ok::<_, ImportError>(())
    })?;
    progress.finish_and_clear();
    summary.elapsed = started.elapsed();
    Ok(summary)
}

/// Why a batch stopped: the account's quota at one of its messages, or a failure.
enum BatchError {
    OverQuota { offset: u64, appended: u64 },
    Admin(AdminError),
}

impl BatchError {
    /// The import's error, for a batch of file `path` after `before` messages.
    fn at(self, path: &str, user: &Username, before: u64) -> ImportError {
        match self {
            BatchError::OverQuota { offset, appended } => ImportError::OverQuota {
                path: path.to_owned(),
                offset,
                user: user.to_string(),
                imported: before + appended,
            },
            BatchError::Admin(e) => ImportError::Admin(e),
        }
    }
}

/// Appends `batch` in one step; when the quota refuses it, appends its messages one at
/// a time up to the one that does not fit. Returns the messages and bytes appended.
fn append_batch(
    admin: &dyn Admin,
    target: MailboxId,
    batch: &[MboxMessage],
) -> Result<(u64, u64), BatchError> {
    let now = InternalDate::now();
    let messages: Vec<NewMessage<'_>> = batch
        .iter()
        .map(|m| NewMessage {
            raw: &m.raw,
            flags: m.flags.clone(),
            internal_date: m.date.unwrap_or(now),
        })
        .collect();
    match admin.append(target, &messages) {
        Ok(n) => return Ok((n as u64, batch.iter().map(|m| m.raw.len() as u64).sum())),
        Err(AdminError::OverQuota(_)) => {}
        Err(e) => return Err(BatchError::Admin(e)),
    }
    let (mut appended, mut bytes) = (0, 0);
    for (message, new) in batch.iter().zip(&messages) {
        match admin.append(target, std::slice::from_ref(new)) {
            Ok(n) => {
                appended += n as u64;
                bytes += message.raw.len() as u64;
            }
            Err(AdminError::OverQuota(_)) => {
                let offset = message.offset;
                return Err(BatchError::OverQuota { offset, appended });
            }
            Err(e) => return Err(BatchError::Admin(e)),
        }
    }
    Ok((appended, bytes))
}

/// Reads every source and sends batches; stops early if the writer has gone.
fn read_batches(sources: Vec<MboxSource>, out: &mpsc::SyncSender<Event>) {
    for mut source in sources {
        let (mut batch, mut batch_bytes, mut reported) = (Vec::new(), 0usize, 0u64);
        loop {
            let item = match source.reader.next() {
                None => break,
                Some(Ok(item)) => item,
                Some(Err(e)) => {
                    let path = source.label.clone();
                    let _ = out.send(Event::Failed(ImportError::Open { path, source: e }));
                    return;
                }
            };
            match item {
                Item::Message(m) => {
                    batch_bytes += m.raw.len();
                    batch.push(m);
                }
                Item::Malformed { offset, reason } => {
                    let report = format!(
                        "{}: message at byte {offset} skipped: {reason}",
                        source.label
                    );
                    if out.send(Event::Skipped(report)).is_err() {
                        return;
                    }
                }
            }
            if batch.len() >= BATCH_MESSAGES || batch_bytes >= BATCH_BYTES {
                let consumed = source.reader.position() - reported;
                reported += consumed;
                let label = source.label.clone();
                if out
                    .send(Event::Batch(label, std::mem::take(&mut batch), consumed))
                    .is_err()
                {
                    return;
                }
                batch_bytes = 0;
            }
        }
        let consumed = source.size.saturating_sub(reported);
        if out
            .send(Event::Batch(source.label.clone(), batch, consumed))
            .is_err()
        {
            return;
        }
    }
}
