//! APPEND (RFC 3501 §6.3.11) of one message, or of several in one step (MULTIAPPEND,
//! RFC 3502), each one literal or CATENATE's TEXT and URL parts joined in order
//! (RFC 4469, URLs resolved by [`super::catenate`]).
//!
//! All or nothing: every message is put together and checked first, then all of them go
//! to the mailbox actor as one change — one store transaction — answered with one
//! `APPENDUID uidvalidity uid-set`. A refusal of any message (`[BADURL url]`,
//! `[TOOBIG]`, an empty message) stores none. MaxMessageSize bounds each message and
//! all of one APPEND together: that is what the framer counts as the literals arrive,
//! and what is held for the store once the command is complete (spooled literals are
//! read back from their files then, once).
//!
//! Rights (RFC 4314 §4): `i` on the target, and only the flags the user may set are
//! kept (`s` for \Seen, `t` for \Deleted, `w` for the others); a URL needs `r` on its
//! mailbox.

use super::catenate::{self, Resolved};
use super::mailboxes::PERMISSION_DENIED;
use super::messages::store_flags;
use super::namespace::{self, Found};
use super::nul_free::nul_free;
use super::session::spooled::SpoolTrouble;
use super::session::{ImapSession, Work};
use crate::config::Setting;
use crate::mailbox::{blocking, Change, Incoming};
use crate::spool::SpoolFile;
use actix::prelude::*;
use bytes::Bytes;
use mailhive_protocol::imap::command::{AppendMessage, AppendPart, DateTime, Literal};
use mailhive_protocol::imap::response::Status;
use mailhive_protocol::imap::sequence::compact;
use mailhive_protocol::imap::url;
use mailhive_store::{
    Flags, InternalDate, MailboxId, Rights, Store, StoreError, SystemFlags, Username,
};

/// Why the messages of an APPEND were not stored.
#[derive(Debug)]
enum Refused {
    /// A URL part that names nothing the user may read (the URL as sent).
    BadUrl(String),
    /// A message, or all of them together, over MaxMessageSize.
    TooBig,
    Empty,
}

impl ImapSession {
    pub(crate) fn append(
        &mut self,
        user: Username,
        tag: String,
        mailbox: String,
        messages: Vec<AppendMessage>,
    ) -> Work {
        let marked = messages
            .iter()
            .flat_map(|m| &m.parts)
            .filter(|p| matches!(p, AppendPart::Text(Literal::Spooled)))
            .count();
        let files = match self.take_spooling().files(marked) {
            Ok(files) => files,
            Err(SpoolTrouble::Failed(e)) => return self.failed(&tag, &e),
            Err(SpoolTrouble::Mismatch) => return self.bad(&tag, "Malformed APPEND literal"),
        };
        let name = match namespace::parse(&mailbox, &user) {
            Ok(name) => name,
            Err(reason) => return self.no(&tag, Some("CANNOT"), reason),
        };
        let mut dated = Vec::with_capacity(messages.len());
        for message in messages {
            let internal_date = match message.date.as_ref().map(internal_date) {
                None => InternalDate::now(),
                Some(Some(date)) => date,
                Some(None) => return self.bad(&tag, "Invalid date-time"),
            };
            dated.push((message, internal_date));
        }
        let limit = self.setting(Setting::MaxMessageSize);
        self.with_found(&user.clone(), tag, name, move |act, tag, found| {
            let target = match found {
                Found::Mailbox(target) if target.rights.contains('i') => target,
                Found::Mailbox(_) => return act.no(&tag, Some("NOPERM"), PERMISSION_DENIED),
                // What a mailbox that does not exist answers, for one the user may not see too.
                _ => return act.no(&tag, Some("TRYCREATE"), "Mailbox does not exist"),
            };
            let store = act.store().clone();
            let reader = user.clone();
            let rights = target.rights;
            let work = blocking(move || assemble(&store, &reader, dated, files, rights, limit));
            Box::pin(
                work.into_actor(act)
                    .then(move |result, act, _| match result {
                        Ok(Ok(messages)) => act.append_to(user, tag, target.info.id, messages),
                        Ok(Err(Refused::BadUrl(url))) => {
                            let code = format!("BADURL {}", url::echo(&url));
                            act.no(&tag, Some(&code), "The URL names nothing that can be read")
                        }
                        Ok(Err(Refused::TooBig)) => {
                            act.no(&tag, Some("TOOBIG"), "Message too large")
                        }
                        Ok(Err(Refused::Empty)) => {
                            act.no(&tag, Some("CANNOT"), "An empty message cannot be appended")
                        }
                        Err(e) => act.failed(&tag, &e),
                    }),
            )
        })
    }

    /// Appends the messages put together, in one change.
    fn append_to(
        &mut self,
        user: Username,
        tag: String,
        mailbox: MailboxId,
        messages: Vec<Incoming>,
    ) -> Work {
        let change = Change::Append { messages, user };
        let registry = self.context.registry.clone();
        let by = Some(self.id);
        let work = async move { registry.apply_by(mailbox, change, by).await };
        Box::pin(
            work.into_actor(self)
                .then(move |result, act, _| match result {
                    Ok(Ok(done)) => {
                        let code = format!(
                            "APPENDUID {} {}",
                            done.uid_validity,
                            compact(&done.appended)
                        );
                        act.finish(&tag, Status::Ok, Some(&code), "APPEND completed")
                    }
                    Ok(Err(refusal)) => act.refused(&tag, &refusal),
                    Err(e) => act.failed(&tag, &e),
                }),
        )
    }
}

/// Puts every message together (on the blocking pool): literals, spooled literals read
/// back in order, URL parts resolved for `user`.
fn assemble(
    store: &Store,
    user: &Username,
    messages: Vec<(AppendMessage, InternalDate)>,
    files: Vec<SpoolFile>,
    rights: Rights,
    limit: u64,
) -> Result<Result<Vec<Incoming>, Refused>, StoreError> {
    let mut files = files.into_iter();
    let mut total = 0u64;
    let mut out = Vec::with_capacity(messages.len());
    for (message, internal_date) in messages {
        let mut raw = Vec::new();
        for part in message.parts {
            let piece = match part {
                AppendPart::Text(Literal::Inline(bytes)) => bytes.0.to_vec(),
                AppendPart::Text(Literal::Spooled) => files
                    .next()
                    .ok_or_else(|| StoreError::Encode("a spooled literal is missing".into()))?
                    .read_all()
                    .map_err(|e| StoreError::Encode(format!("reading a spooled message: {e}")))?,
                AppendPart::Url(url) => {
                    let room = limit.saturating_sub(total);
                    match catenate::resolve(store, user, &url, room)? {
                        Resolved::Bytes(bytes) => bytes,
                        Resolved::Refused => return Ok(Err(Refused::BadUrl(url))),
                        Resolved::TooBig => return Ok(Err(Refused::TooBig)),
                    }
                }
            };
            total += piece.len() as u64;
            if (raw.len() + piece.len()) as u64 > limit || total > limit {
                return Ok(Err(Refused::TooBig));
            }
            if raw.is_empty() {
                raw = piece;
            } else {
                raw.extend_from_slice(&piece);
            }
        }
        if raw.is_empty() {
            return Ok(Err(Refused::Empty));
        }
        out.push(Incoming {
            raw: nul_free(Bytes::from(raw)),
            flags: allowed_flags(store_flags(&message.flags), rights),
            internal_date,
        });
    }
    Ok(Ok(out))
}

/// `flags` without those `rights` do not allow to set (what APPEND keeps).
fn allowed_flags(flags: Flags, rights: Rights) -> Flags {
    let mut system = flags.system;
    let mut keywords = flags.keywords().to_vec();
    if !rights.contains('s') {
        system = system.difference(SystemFlags::SEEN);
    }
    if !rights.contains('t') {
        system = system.difference(SystemFlags::DELETED);
    }
    if !rights.contains('w') {
        let others = SystemFlags::ANSWERED
            .union(SystemFlags::FLAGGED)
            .union(SystemFlags::DRAFT);
        system = system.difference(others);
        keywords.clear();
    }
    Flags::new(system, keywords)
}

/// An APPEND date-time as the store keeps it.
fn internal_date(date: &DateTime) -> Option<InternalDate> {
    let day = chrono::NaiveDate::from_ymd_opt(
        i32::from(date.date.year),
        u32::from(date.date.month),
        u32::from(date.date.day),
    )?;
    // A leap second is kept as the second before it.
    let local = day.and_hms_opt(
        u32::from(date.hour),
        u32::from(date.minute),
        u32::from(date.second.min(59)),
    )?;
    let unix_seconds = local.and_utc().timestamp() - i64::from(date.zone_minutes) * 60;
    Some(InternalDate {
        unix_seconds,
        offset_minutes: date.zone_minutes,
    })
}
