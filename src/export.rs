//! `mailhive export-mbox`: one mailbox written as mboxrd (SPEC §11), message by message
//! and piece by piece through [`Admin`] (the store itself, or a running server's admin
//! socket), so neither side ever holds more than one page of message facts and one
//! piece of a body. The file appears only when it is complete and on disk: it is
//! written as `FILE.partial`, synced, renamed over FILE, and the directory synced.

use crate::admin::{Admin, AdminError};
use crate::mboxrd::MessageWriter;
use indicatif::{ProgressBar, ProgressStyle};
use mailhive_store::{
    InternalDate, MailboxId, MailboxName, Refusal, Store, StoreError, SystemFlags, Username,
};
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Messages described per page: bounds a page's frame on the admin socket.
pub const PAGE_MESSAGES: usize = 1000;
/// Body bytes read at a time: one chunk of the store's bodies.
pub const PIECE_BYTES: u32 = 256 * 1024;
/// A Return-Path longer than this is not put on the `From ` line.
const MAX_RETURN_PATH: usize = 256;

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("{path}: cannot write: {source}")]
    Write { path: String, source: io::Error },
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Admin(#[from] AdminError),
}

/// The mailbox an export reads, and how many messages it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExportSource {
    pub mailbox: MailboxId,
    pub messages: u32,
}

/// What the `From ` line and the status fields of one message are written from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportedMessage {
    pub uid: u32,
    pub size: u32,
    pub flags: SystemFlags,
    pub internal_date: InternalDate,
    pub return_path: Option<String>,
}

/// What an export did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ExportSummary {
    pub messages: u64,
    pub bytes: u64,
    pub elapsed: Duration,
}

impl std::fmt::Display for ExportSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let secs = self.elapsed.as_secs_f64();
        write!(
            f,
            "exported {} messages ({} bytes) in {secs:.2} s ({:.1} MB/s)",
            self.messages,
            self.bytes,
            self.bytes as f64 / secs.max(1e-9) / 1e6
        )
    }
}

/// Writes `user`'s `mailbox` to `path` as mboxrd.
pub fn export(
    admin: &dyn Admin,
    user: &Username,
    mailbox: &MailboxName,
    path: &Path,
    progress: &ProgressBar,
) -> Result<ExportSummary, ExportError> {
    let started = Instant::now();
    let source = admin.export_source(user, mailbox)?;
    let output = PartialFile::create(path)?;
    progress.set_length(u64::from(source.messages));
    progress.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} messages {per_sec} eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut out = BufWriter::with_capacity(1 << 16, &output.file);
    let mut summary = ExportSummary::default();
    let mut after = 0;
    loop {
        let page = admin.export_page(source.mailbox, after)?;
        let Some(last) = page.last() else { break };
        after = last.uid;
        for message in &page {
            write_message(admin, source.mailbox, message, &mut out)
                .map_err(|e| output.error(e))??;
            summary.messages += 1;
            summary.bytes += u64::from(message.size);
            progress.inc(1);
        }
    }
    out.flush().map_err(|e| output.error(e))?;
    drop(out);
    output.commit()?;
    progress.finish_and_clear();
    summary.elapsed = started.elapsed();
    Ok(summary)
}

/// Writes one message; the outer error is the file's, the inner the source's.
fn write_message(
    admin: &dyn Admin,
    mailbox: MailboxId,
    message: &ExportedMessage,
    out: &mut impl Write,
) -> io::Result<Result<(), ExportError>> {
    let mut writer = MessageWriter::new(
        out,
        message.return_path.as_deref(),
        message.internal_date,
        message.flags,
    )?;
    let mut offset = 0;
    while offset < message.size {
        let piece = match admin.read_message(mailbox, message.uid, offset) {
            Ok(Some(piece)) if !piece.is_empty() => piece,
            Ok(_) => return Ok(Err(expunged_meanwhile(message.uid))),
            Err(e) => return Ok(Err(e.into())),
        };
        writer.write(&piece)?;
        offset += piece.len() as u32;
    }
    writer.finish()?;
    Ok(Ok(()))
}

/// A message that went while it was read: the file would hold part of it.
fn expunged_meanwhile(uid: u32) -> ExportError {
    ExportError::Refused(format!(
        "message UID {uid} was expunged during the export; nothing was written, run it again"
    ))
}

/// The output while it is written: `FILE.partial`, removed unless committed.
struct PartialFile {
    path: PathBuf,
    partial: PathBuf,
    file: File,
    committed: bool,
}

impl PartialFile {
    fn create(path: &Path) -> Result<Self, ExportError> {
        let label = path.display().to_string();
        let write_error = |source| ExportError::Write {
            path: label.clone(),
            source,
        };
        if path.is_dir() {
            return Err(write_error(io::Error::other("it is a directory")));
        }
        let mut partial = path.as_os_str().to_owned();
        partial.push(".partial");
        let partial = PathBuf::from(partial);
        let file = File::create(&partial).map_err(write_error)?;
        Ok(PartialFile {
            path: path.to_owned(),
            partial,
            file,
            committed: false,
        })
    }

    fn error(&self, source: io::Error) -> ExportError {
        ExportError::Write {
            path: self.path.display().to_string(),
            source,
        }
    }

    /// Syncs the file, renames it over the target and syncs the directory.
    fn commit(mut self) -> Result<(), ExportError> {
        self.file.sync_all().map_err(|e| self.error(e))?;
        std::fs::rename(&self.partial, &self.path).map_err(|e| self.error(e))?;
        self.committed = true;
        let dir = match self.path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| self.error(e))
    }
}

impl Drop for PartialFile {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.partial);
        }
    }
}

/// [`Admin::export_source`] on the store.
pub(crate) fn source_in(
    store: &Store,
    user: &Username,
    mailbox: &MailboxName,
) -> Result<ExportSource, AdminError> {
    if !store.user_exists(user)? {
        return Err(AdminError::Refused(format!(
            "{user}: {}",
            Refusal::NoSuchUser
        )));
    }
    let info = store.mailbox(user, mailbox)?.ok_or_else(|| {
        AdminError::Refused(format!("{user}/{mailbox}: {}", Refusal::NoSuchMailbox))
    })?;
    Ok(ExportSource {
        mailbox: info.id,
        messages: info.messages,
    })
}

/// [`Admin::export_page`] on the store.
pub(crate) fn page_in(
    store: &Store,
    mailbox: MailboxId,
    after: u32,
) -> Result<Vec<ExportedMessage>, StoreError> {
    let Some(first) = after.checked_add(1) else {
        return Ok(Vec::new());
    };
    store
        .messages(mailbox, first..=u32::MAX)
        .take(PAGE_MESSAGES)
        .map(|message| {
            let message = message?;
            let return_path = store
                .summary(message.blob)?
                .header("Return-Path")
                .filter(|path| path.len() <= MAX_RETURN_PATH)
                .map(str::to_owned);
            Ok(ExportedMessage {
                uid: message.uid,
                size: message.size,
                flags: message.flags.system,
                internal_date: message.internal_date,
                return_path,
            })
        })
        .collect()
}

/// [`Admin::read_message`] on the store: `None` once the message is gone.
pub(crate) fn piece_in(
    store: &Store,
    mailbox: MailboxId,
    uid: u32,
    offset: u32,
) -> Result<Option<Vec<u8>>, StoreError> {
    let Some(message) = store.message(mailbox, uid)? else {
        return Ok(None);
    };
    let end = offset.saturating_add(PIECE_BYTES);
    store.read_body_range(message.blob, offset..end).map(Some)
}
