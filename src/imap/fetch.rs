//! FETCH (run holding a FETCH slot, see [`super::slots`]), streamed with bounded memory: the blocking pool renders a batch of messages
//! at a time (at most [`BATCH_BYTES`] of answer, or one message's start), and a body
//! section larger than [`INLINE_SECTION`] is sent piece by piece from the store, each
//! piece awaited through the bounded writer. A FETCH 1:* over 100,000 messages holds a
//! batch, not the answer. Non-PEEK body fetches set \Seen first (through the Mailbox
//! actor) and report the new flags. BINARY and BINARY.SIZE (see [`super::binary`]) go
//! through the same path with a decoder in place of the wire encoder.
//!
//! CONDSTORE (RFC 7162 §3.1.4): `MODSEQ` comes from the view, CHANGEDSINCE keeps the
//! messages whose modseq in the view is above it (no store read for the others), and
//! with QRESYNC the VANISHED modifier first names the UIDs of the set expunged since.

use super::binary::{self, part_name};
use super::condstore::{vanished_earlier_line, vanished_uids};
use super::section::{filter_fields, locate, section_name, Located};
use super::session::{send_all, ImapSession, Work};
use super::structure;
use super::view::render_flags;
use crate::mailbox::{blocking, Change, MailboxError};
use crate::net::writer::Outgoing;
use actix::prelude::*;
use mailhive_protocol::imap::command::{FetchItem, Section};
use mailhive_protocol::imap::response;
use mailhive_protocol::imap::sequence::SequenceSet;
use mailhive_protocol::transfer::Decoder;
use mailhive_protocol::wire::WireEncoder;
use mailhive_store::{
    crlf_len, BlobId, FlagChange, Flags, InternalDate, MailboxId, MessageInfo, MessageSummary,
    Store, StoreError, SystemFlags, Username,
};
use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// Answer bytes rendered per trip to the blocking pool.
const BATCH_BYTES: usize = 256 * 1024;
/// Messages whose records a batch reads at once from a store that reads in batches.
const READ_AHEAD: usize = 64;
/// Sections up to this many stored bytes are read whole; larger ones are streamed.
const INLINE_SECTION: u32 = 256 * 1024;
/// Stored bytes read per piece of a streamed section.
const PIECE: u32 = 128 * 1024;

/// FETCH's modifiers (RFC 7162 §3.1.4, §3.2.6).
#[derive(Debug, Clone, Copy, Default)]
pub struct FetchModifiers {
    pub changed_since: Option<u64>,
    /// UID FETCH (CHANGEDSINCE m VANISHED): also `* VANISHED (EARLIER)`.
    pub vanished: bool,
}

/// One message to answer for.
#[derive(Debug)]
struct Target {
    seq: u32,
    uid: u32,
    flags: Flags,
    modseq: u64,
    /// \Recent in this session.
    recent: bool,
    /// \Seen was just set by this FETCH: FLAGS goes into the answer.
    flags_changed: bool,
}

#[derive(Debug)]
struct Job {
    store: Arc<Store>,
    mailbox: MailboxId,
    items: Vec<FetchItem>,
    targets: Vec<Target>,
}

/// A piece of the answer: bytes, or a section to stream from the store.
#[derive(Debug)]
enum Piece {
    Bytes(Vec<u8>),
    Stream(Stream),
    /// The next message has a part BINARY cannot decode: the answer ends here.
    UnknownCte,
}

/// `take` bytes of `range` as `decoder` gives them (the wire form, or a part's body
/// decoded), after skipping `skip`.
#[derive(Debug)]
struct Stream {
    blob: BlobId,
    range: Range<u32>,
    /// The range reaches the end of the message: its wire form ends with a line break.
    to_end: bool,
    decoder: Decoder,
    skip: u64,
    take: u64,
}

/// How a FETCH answer ended.
#[derive(Debug, PartialEq, Eq)]
enum Answered {
    Whole,
    /// Up to a message with a part of an unknown Content-Transfer-Encoding.
    UnknownCte,
}

/// Why a FETCH answer stopped half-way; the connection cannot go on.
#[derive(Debug, thiserror::Error)]
enum Broken {
    #[error("the client is gone")]
    Disconnected,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ImapSession {
    pub(super) fn fetch(
        &mut self,
        user: Username,
        tag: String,
        uid: bool,
        set: SequenceSet,
        mut items: Vec<FetchItem>,
        modifiers: FetchModifiers,
    ) -> Work {
        let mut named = match self.messages_named(&tag, uid, &set) {
            Ok(named) => named,
            Err(work) => return work,
        };
        if modifiers.changed_since.is_some() || items.contains(&FetchItem::Modseq) {
            self.enable_condstore();
        }
        let Some(view) = self.state.view() else {
            return self.bad(&tag, "No mailbox selected");
        };
        // With CONDSTORE on every FETCH response carries the UID (RFC 7162 §3.1, §3.2.4).
        if (uid || self.extensions.condstore) && !items.contains(&FetchItem::Uid) {
            items.insert(0, FetchItem::Uid);
        }
        let reports_flags =
            items.contains(&FetchItem::Flags) || items.iter().any(FetchItem::sets_seen);
        let wants_modseq =
            modifiers.changed_since.is_some() || (self.extensions.condstore && reports_flags);
        if wants_modseq && !items.contains(&FetchItem::Modseq) {
            items.push(FetchItem::Modseq);
        }
        if let Some(since) = modifiers.changed_since {
            named.retain(|&(seq, _)| view.modseq(seq).is_some_and(|m| m > since));
        }
        // The UIDs of the set expunged since, read from the store's expunge log.
        let vanished = match modifiers.changed_since.filter(|_| modifiers.vanished) {
            Some(since) => {
                let store = self.store().clone();
                let mailbox = view.id();
                Some((since, set.clone(), store, mailbox))
            }
            None => None,
        };
        let mailbox = view.id();
        // Without the `s` right \Seen is not kept (RFC 4314 §4): the fetch only reads.
        let may_mark = !view.read_only && view.rights.contains('s');
        let to_mark: Vec<u32> = if may_mark && items.iter().any(FetchItem::sets_seen) {
            named
                .iter()
                .filter(|&&(seq, _)| view.flags(seq).is_some_and(|f| !f.is_seen()))
                .map(|&(_, uid)| uid)
                .collect()
        } else {
            Vec::new()
        };
        let registry = self.context.registry.clone();
        let earlier = async move {
            let Some((since, set, store, mailbox)) = vanished else {
                return Ok(None);
            };
            blocking(move || store.vanished_since(mailbox, since))
                .await
                .map(|gone| Some((gone, set)))
        };
        let mark = async move {
            if to_mark.is_empty() {
                return Ok(Ok(Vec::new()));
            }
            let seen = FlagChange::Add(Flags::new(SystemFlags::SEEN, []));
            let change = Change::Flags {
                uids: to_mark,
                change: seen,
                user,
                unchanged_since: None,
            };
            Ok::<_, MailboxError>(
                registry
                    .apply(mailbox, change)
                    .await?
                    .map(|done| done.flags),
            )
        };
        let before = async move { (earlier.await, mark.await) };
        Box::pin(
            before
                .into_actor(self)
                .then(move |(earlier, marked), act, _| {
                    let changed: Vec<MessageInfo> = match marked {
                        Ok(Ok(changed)) => changed,
                        Ok(Err(refusal)) => return act.refused(&tag, &refusal),
                        Err(e) => return act.failed(&tag, &e),
                    };
                    let earlier = match earlier {
                        Ok(earlier) => earlier,
                        Err(e) => return act.failed(&tag, &e),
                    };
                    let Some(view) = act.state.view_mut() else {
                        return act.bad(&tag, "No mailbox selected");
                    };
                    let vanished_line = earlier.map(|(gone, set)| {
                        vanished_earlier_line(&vanished_uids(view, gone, Some(&set)))
                    });
                    let mut changed_uids = HashSet::new();
                    for message in changed {
                        changed_uids.insert(message.uid);
                        view.set_flags(message.uid, message.flags, message.modseq);
                    }
                    let targets = named
                        .iter()
                        .filter_map(|&(seq, uid)| {
                            Some(Target {
                                seq,
                                uid,
                                flags: view.flags(seq)?.clone(),
                                modseq: view.modseq(seq)?,
                                recent: view.is_recent(uid),
                                flags_changed: changed_uids.contains(&uid),
                            })
                        })
                        .collect();
                    let job = Arc::new(Job {
                        store: act.store().clone(),
                        mailbox,
                        items,
                        targets,
                    });
                    let out = act.outgoing();
                    let gone = act.gone.clone();
                    let answer = async move {
                        if let Some(line) = vanished_line.filter(|l| !l.is_empty()) {
                            if !send_all(out.clone(), line).await {
                                return Err(Broken::Disconnected);
                            }
                        }
                        stream_answer(job, out, gone).await
                    };
                    Box::pin(
                        answer
                            .into_actor(act)
                            .then(move |result, act, ctx| match result {
                                Ok(Answered::Whole) => act.ok(&tag, "FETCH completed"),
                                Ok(Answered::UnknownCte) => act.no(
                                    &tag,
                                    Some("UNKNOWN-CTE"),
                                    "A part has a Content-Transfer-Encoding that cannot be decoded",
                                ),
                                Err(e) => {
                                    tracing::warn!(error = %e, "fetch answer broken off; closing");
                                    ctx.stop();
                                    Box::pin(actix::fut::ready(())) as Work
                                }
                            }),
                    ) as Work
                }),
        )
    }
}

/// Sends the answer batch by batch; stops when the client has gone.
async fn stream_answer(
    job: Arc<Job>,
    out: Outgoing,
    gone: CancellationToken,
) -> Result<Answered, Broken> {
    if let Some(delay) = crate::testing::work_delay() {
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            () = gone.cancelled() => return Err(Broken::Disconnected),
        }
    }
    let mut cursor = Cursor::default();
    while cursor.target < job.targets.len() {
        if gone.is_cancelled() {
            return Err(Broken::Disconnected);
        }
        let batch_job = job.clone();
        let (pieces, after) = blocking(move || render_batch(&batch_job, cursor)).await?;
        for piece in pieces {
            match piece {
                Piece::Bytes(bytes) => {
                    if !send_all(out.clone(), bytes).await {
                        return Err(Broken::Disconnected);
                    }
                }
                Piece::Stream(stream) => send_stream(&job.store, &out, stream).await?,
                Piece::UnknownCte => return Ok(Answered::UnknownCte),
            }
        }
        cursor = after;
    }
    Ok(Answered::Whole)
}

/// Where rendering stopped: the message, its next item, and what was read of the
/// message for the items before (kept, so that a message expunged meanwhile is still
/// answered whole).
#[derive(Debug, Default)]
struct Cursor {
    target: usize,
    item: usize,
    loaded: Option<Loaded>,
}

/// What the items of one message need from the store.
#[derive(Debug)]
struct Loaded {
    record: Option<MessageInfo>,
    summary: Option<MessageSummary>,
}

/// Renders items from `cursor` on until about [`BATCH_BYTES`] of answer are ready
/// (bytes, or sections to stream), stopping between items — also inside one message,
/// so that no number of items or of large sections makes the answer grow beyond
/// that; returns the pieces and where to go on.
fn render_batch(job: &Job, mut cursor: Cursor) -> Result<(Vec<Piece>, Cursor), StoreError> {
    let mut pieces = Vec::new();
    let mut current = Vec::new();
    let mut budget = 0u64;
    let mut ahead = read_ahead(job, &cursor)?;
    while cursor.target < job.targets.len() && budget < BATCH_BYTES as u64 {
        let target = &job.targets[cursor.target];
        if cursor.item == 0 {
            let loaded = match ahead.remove(&target.uid) {
                Some(loaded) => loaded,
                None => load(job, target)?,
            };
            match loaded {
                Some(loaded) if !loaded.decodable(&job.items) => {
                    // Before anything of this message is said: its FETCH is never cut.
                    if !current.is_empty() {
                        pieces.push(Piece::Bytes(current));
                    }
                    pieces.push(Piece::UnknownCte);
                    return Ok((pieces, cursor));
                }
                Some(loaded) => cursor.loaded = Some(loaded),
                // Expunged by another session since this one last heard: nothing to say.
                None => {
                    cursor.target += 1;
                    continue;
                }
            }
            current.extend_from_slice(format!("* {} FETCH (", target.seq).as_bytes());
        }
        let Some(loaded) = &cursor.loaded else {
            return Err(StoreError::Encode(
                "fetch resumed without its message".into(),
            ));
        };
        if let Some(item) = job.items.get(cursor.item) {
            if cursor.item > 0 {
                current.push(b' ');
            }
            let before = current.len() as u64;
            let moved = render_item(job, target, item, loaded, &mut current, &mut pieces)?;
            // What was in `current` may have moved into `pieces` ahead of a stream.
            budget += (current.len() as u64 + moved).saturating_sub(before);
            cursor.item += 1;
            continue;
        }
        if target.flags_changed && !job.items.contains(&FetchItem::Flags) {
            current.extend_from_slice(
                format!(" FLAGS {}", render_flags(&target.flags, target.recent)).as_bytes(),
            );
        }
        current.extend_from_slice(b")\r\n");
        budget += 3;
        cursor = Cursor {
            target: cursor.target + 1,
            ..Cursor::default()
        };
    }
    if !current.is_empty() {
        pieces.push(Piece::Bytes(current));
    }
    Ok((pieces, cursor))
}

/// What the items need of the next [`READ_AHEAD`] messages from `cursor` on, read at
/// once, by UID (`None` for one expunged); nothing unless the store reads in batches.
fn read_ahead(job: &Job, cursor: &Cursor) -> Result<HashMap<u32, Option<Loaded>>, StoreError> {
    if !job.store.reads_in_batches() || !job.items.iter().any(needs_record) {
        return Ok(HashMap::new());
    }
    let first = cursor.target + usize::from(cursor.item > 0);
    let uids: Vec<u32> = job
        .targets
        .iter()
        .skip(first)
        .take(READ_AHEAD)
        .map(|t| t.uid)
        .collect();
    let records = job.store.messages_of(job.mailbox, &uids)?;
    // In the order of the records found, one for each (none if the items need none).
    let mut summaries = if job.items.iter().any(needs_summary) {
        let blobs: Vec<BlobId> = records.iter().flatten().map(|r| r.blob).collect();
        job.store.summaries_of(&blobs)?.into_iter()
    } else {
        Vec::new().into_iter()
    };
    Ok(uids
        .into_iter()
        .zip(records)
        .map(|(uid, record)| {
            let loaded = record.map(|record| Loaded {
                summary: summaries.next(),
                record: Some(record),
            });
            (uid, loaded)
        })
        .collect())
}

/// The record and summary `target`'s items need; `None` if it was expunged.
fn load(job: &Job, target: &Target) -> Result<Option<Loaded>, StoreError> {
    let record = if job.items.iter().any(needs_record) {
        match job.store.message(job.mailbox, target.uid)? {
            Some(record) => Some(record),
            None => return Ok(None),
        }
    } else {
        None
    };
    let summary = match &record {
        Some(r) if job.items.iter().any(needs_summary) => Some(job.store.summary(r.blob)?),
        _ => None,
    };
    Ok(Some(Loaded { record, summary }))
}

impl Loaded {
    /// Whether every BINARY item can be decoded for this message.
    fn decodable(&self, items: &[FetchItem]) -> bool {
        let size = self.record.as_ref().map_or(0, |r| r.size);
        binary::decodable(items, self.summary.as_ref(), size)
    }
}

fn needs_record(item: &FetchItem) -> bool {
    !matches!(item, FetchItem::Uid | FetchItem::Flags | FetchItem::Modseq)
}

fn needs_summary(item: &FetchItem) -> bool {
    match item {
        FetchItem::Envelope
        | FetchItem::Body
        | FetchItem::BodyStructure
        | FetchItem::Rfc822Header
        | FetchItem::Rfc822Text => true,
        FetchItem::Section { section, .. } => *section != Section::default(),
        FetchItem::Binary { part, .. } | FetchItem::BinarySize { part } => !part.is_empty(),
        _ => false,
    }
}

/// Renders one item of `target`'s answer into `current`, or its literal header there and
/// a section to stream into `pieces`; returns how many bytes it added to `pieces` (what
/// `current` held before a stream moves there with it).
fn render_item(
    job: &Job,
    target: &Target,
    item: &FetchItem,
    loaded: &Loaded,
    current: &mut Vec<u8>,
    pieces: &mut Vec<Piece>,
) -> Result<u64, StoreError> {
    let streams_before = pieces.len();
    match (item, &loaded.record, &loaded.summary) {
        (FetchItem::Uid, ..) => current.extend_from_slice(format!("UID {}", target.uid).as_bytes()),
        (FetchItem::Modseq, ..) => {
            current.extend_from_slice(format!("MODSEQ ({})", target.modseq).as_bytes())
        }
        (FetchItem::Flags, ..) => {
            current.extend_from_slice(
                format!("FLAGS {}", render_flags(&target.flags, target.recent)).as_bytes(),
            );
        }
        (FetchItem::InternalDate, Some(r), _) => {
            current.extend_from_slice(
                format!("INTERNALDATE \"{}\"", format_internal_date(r.internal_date)).as_bytes(),
            );
        }
        (FetchItem::Rfc822Size, Some(r), _) => {
            current.extend_from_slice(format!("RFC822.SIZE {}", r.wire_size).as_bytes());
        }
        (FetchItem::Envelope, _, Some(s)) => {
            current.extend_from_slice(b"ENVELOPE ");
            structure::envelope(current, &s.envelope);
        }
        (FetchItem::Body | FetchItem::BodyStructure, Some(r), Some(s)) => {
            let extended = matches!(item, FetchItem::BodyStructure);
            current.extend_from_slice(if extended {
                b"BODYSTRUCTURE "
            } else {
                b"BODY "
            });
            // Sizes are of the wire form; only a message with bare LFs needs its
            // bytes to count them.
            let raw = if r.wire_size != r.size {
                Some(job.store.read_body(r.blob)?)
            } else {
                None
            };
            let wire_len = |start: u32, end: u32| match &raw {
                Some(raw) => crlf_len(raw.get(start as usize..end as usize).unwrap_or_default()),
                None => u64::from(end.saturating_sub(start)),
            };
            structure::body(current, &s.body, extended, &wire_len);
        }
        (FetchItem::Rfc822, Some(r), _) => {
            current.extend_from_slice(b"RFC822 ");
            let whole = Located {
                range: 0..r.size,
                fields: None,
            };
            section_literal(
                &job.store,
                r,
                Some((whole, wire())),
                None,
                false,
                current,
                pieces,
            )?;
        }
        (FetchItem::Rfc822Header | FetchItem::Rfc822Text, Some(r), Some(s)) => {
            let (name, range) = if matches!(item, FetchItem::Rfc822Header) {
                ("RFC822.HEADER ", 0..s.body.body_start)
            } else {
                ("RFC822.TEXT ", s.body.body_start..r.size)
            };
            current.extend_from_slice(name.as_bytes());
            let located = Located {
                range,
                fields: None,
            };
            section_literal(
                &job.store,
                r,
                Some((located, wire())),
                None,
                false,
                current,
                pieces,
            )?;
        }
        (
            FetchItem::Section {
                section, partial, ..
            },
            Some(r),
            summary,
        ) => {
            current.extend_from_slice(format!("BODY[{}]", section_name(section)).as_bytes());
            if let Some((offset, _)) = partial {
                current.extend_from_slice(format!("<{offset}>").as_bytes());
            }
            current.push(b' ');
            let located = match summary {
                Some(s) => locate(s, section, r.size),
                None => Some(Located {
                    range: 0..r.size,
                    fields: None,
                }),
            };
            let located = located.map(|l| (l, wire()));
            section_literal(&job.store, r, located, *partial, false, current, pieces)?;
        }
        (FetchItem::Binary { part, partial, .. }, Some(r), summary) => {
            current.extend_from_slice(format!("BINARY[{}]", part_name(part)).as_bytes());
            if let Some((offset, _)) = partial {
                current.extend_from_slice(format!("<{offset}>").as_bytes());
            }
            current.push(b' ');
            // Checked for the message before its answer began.
            let target = binary::target(summary.as_ref(), part, r.size).unwrap_or(None);
            section_literal(&job.store, r, target, *partial, true, current, pieces)?;
        }
        (FetchItem::BinarySize { part }, Some(r), summary) => {
            let size = match binary::target(summary.as_ref(), part, r.size) {
                Ok(Some((located, decoder))) => {
                    decoded_size(&job.store, r, located.range, decoder)?
                }
                _ => 0,
            };
            current
                .extend_from_slice(format!("BINARY.SIZE[{}] {size}", part_name(part)).as_bytes());
        }
        // Every item above has what it needs: record and summary are loaded when
        // any item asks for them.
        _ => current.extend_from_slice(b"NIL"),
    }
    let streamed = pieces[streams_before..]
        .iter()
        .map(|piece| match piece {
            Piece::Stream(stream) => stream.take,
            Piece::Bytes(bytes) => bytes.len() as u64,
            Piece::UnknownCte => 0,
        })
        .sum();
    Ok(streamed)
}

/// `17-Jul-1996 02:44:25 -0700`
pub fn format_internal_date(date: InternalDate) -> String {
    let offset = chrono::FixedOffset::east_opt(i32::from(date.offset_minutes) * 60)
        .unwrap_or_else(|| chrono::FixedOffset::east_opt(0).expect("zero offset is valid"));
    match chrono::DateTime::from_timestamp(date.unix_seconds, 0) {
        Some(utc) => utc
            .with_timezone(&offset)
            .format("%d-%b-%Y %H:%M:%S %z")
            .to_string(),
        None => "01-Jan-1970 00:00:00 +0000".to_owned(),
    }
}

/// The (skip, take) window of a `<offset.length>` partial over `total` bytes.
fn window(total: u64, partial: Option<(u32, u32)>) -> (u64, u64) {
    match partial {
        None => (0, total),
        Some((offset, length)) => {
            let skip = u64::from(offset).min(total);
            (skip, u64::from(length).min(total - skip))
        }
    }
}

/// The decoder of BODY sections: the wire form.
pub(super) fn wire() -> Decoder {
    Decoder::Identity(WireEncoder::new(false))
}

/// The bytes of a section as `decoder` gives them (the wire form, or a part decoded),
/// `partial` applied, read whole: for sections FETCH answers inline and for CATENATE's
/// URLs.
pub(super) fn section_bytes(
    store: &Store,
    record: &MessageInfo,
    located: Located,
    mut decoder: Decoder,
    partial: Option<(u32, u32)>,
) -> Result<Vec<u8>, StoreError> {
    let Located { range, fields } = located;
    let range = range.start.min(record.size)..range.end.min(record.size);
    let to_end = range.end == record.size;
    let raw = store.read_body_range(record.blob, range)?;
    let mut bytes = match fields {
        Some((not, names)) => filter_fields(&raw, not, &names),
        None => {
            let mut bytes = Vec::with_capacity(raw.len() + 2);
            decoder.push(&raw, &mut bytes);
            decoder.finish(&mut bytes, to_end);
            bytes
        }
    };
    let (skip, take) = window(bytes.len() as u64, partial);
    bytes.truncate((skip + take) as usize);
    bytes.drain(..skip as usize);
    Ok(bytes)
}

/// Writes a section as a literal (or NIL when the message has no such part), its bytes
/// as its decoder gives them: inline when small, otherwise its literal header now and a
/// [`Stream`] for the bytes. With `literal8` (BINARY) a section that holds NUL bytes is
/// sent as a literal8, `~{n}` (RFC 3516 §4.2).
fn section_literal(
    store: &Store,
    record: &MessageInfo,
    target: Option<(Located, Decoder)>,
    partial: Option<(u32, u32)>,
    literal8: bool,
    current: &mut Vec<u8>,
    pieces: &mut Vec<Piece>,
) -> Result<(), StoreError> {
    let Some((Located { range, fields }, decoder)) = target else {
        current.extend_from_slice(b"NIL");
        return Ok(());
    };
    let range = range.start.min(record.size)..range.end.min(record.size);
    let to_end = range.end == record.size;
    if range.len() as u32 <= INLINE_SECTION || fields.is_some() {
        let located = Located { range, fields };
        let bytes = section_bytes(store, record, located, decoder, partial)?;
        if literal8 && bytes.contains(&0) {
            current.push(b'~');
        }
        response::literal_header(current, bytes.len());
        current.extend_from_slice(&bytes);
        return Ok(());
    }
    let (total, nul) = if literal8 {
        let (offset, length): (u64, u64) =
            partial.map_or((0, u64::MAX), |(o, l)| (o.into(), l.into()));
        let looked_at = offset..offset.saturating_add(length);
        measure(
            store,
            record.blob,
            &range,
            to_end,
            decoder.clone(),
            Some(looked_at),
        )?
    } else {
        (
            decoded_size(store, record, range.clone(), decoder.clone())?,
            false,
        )
    };
    let (skip, take) = window(total, partial);
    if nul {
        current.push(b'~');
    }
    response::literal_header(current, take as usize);
    pieces.push(Piece::Bytes(std::mem::take(current)));
    pieces.push(Piece::Stream(Stream {
        blob: record.blob,
        range,
        to_end,
        decoder,
        skip,
        take,
    }));
    Ok(())
}

/// The length of `range` as `decoder` gives it (BINARY.SIZE, and the literal size of a
/// streamed section). The wire form's is known without reading when the message has
/// no bare LF or the range is the whole message; otherwise the range is read once.
fn decoded_size(
    store: &Store,
    record: &MessageInfo,
    range: Range<u32>,
    decoder: Decoder,
) -> Result<u64, StoreError> {
    let whole = range == (0..record.size);
    match decoder {
        Decoder::Identity(_) if record.wire_size == record.size => Ok(range.len() as u64),
        Decoder::Identity(_) if whole => Ok(u64::from(record.wire_size)),
        _ => {
            let to_end = range.end == record.size;
            Ok(measure(store, record.blob, &range, to_end, decoder, None)?.0)
        }
    }
}

/// The exact length of `range` through `decoder` (the same that streams it), read in
/// pieces; and whether a NUL byte falls within `nuls_in` (decoded positions), if given.
fn measure(
    store: &Store,
    blob: BlobId,
    range: &Range<u32>,
    to_end: bool,
    mut decoder: Decoder,
    nuls_in: Option<Range<u64>>,
) -> Result<(u64, bool), StoreError> {
    let mut total = 0u64;
    let mut nul = false;
    let mut offset = range.start;
    let mut scratch = Vec::new();
    loop {
        let end = offset.saturating_add(PIECE).min(range.end);
        scratch.clear();
        if offset < end {
            decoder.push(&store.read_body_range(blob, offset..end)?, &mut scratch);
        }
        if end == range.end {
            decoder.finish(&mut scratch, to_end);
        }
        if let Some(looked_at) = nuls_in.as_ref().filter(|_| !nul) {
            nul = scratch
                .iter()
                .enumerate()
                .any(|(i, &b)| b == 0 && looked_at.contains(&(total + i as u64)));
        }
        total += scratch.len() as u64;
        if end == range.end {
            return Ok((total, nul));
        }
        offset = end;
    }
}

async fn send_stream(store: &Arc<Store>, out: &Outgoing, stream: Stream) -> Result<(), Broken> {
    let mut decoder = stream.decoder;
    let mut offset = stream.range.start;
    let mut position = 0u64;
    let mut sent = 0u64;
    while sent < stream.take {
        if offset >= stream.range.end {
            return Err(Broken::Store(StoreError::Encode(
                "message shorter than its recorded size".into(),
            )));
        }
        let end = offset.saturating_add(PIECE).min(stream.range.end);
        let (reader, blob) = (store.clone(), stream.blob);
        let raw = blocking(move || reader.read_body_range(blob, offset..end)).await?;
        let mut wire = Vec::with_capacity(raw.len() + raw.len() / 16);
        decoder.push(&raw, &mut wire);
        if end == stream.range.end {
            decoder.finish(&mut wire, stream.to_end);
        }
        offset = end;
        let from = stream.skip.saturating_sub(position).min(wire.len() as u64) as usize;
        position += wire.len() as u64;
        let wanted = ((wire.len() - from) as u64).min(stream.take - sent) as usize;
        if wanted == 0 {
            continue;
        }
        sent += wanted as u64;
        wire.truncate(from + wanted);
        wire.drain(..from);
        if !send_all(out.clone(), wire).await {
            return Err(Broken::Disconnected);
        }
    }
    Ok(())
}
