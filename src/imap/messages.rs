//! Commands that change messages: APPEND, STORE, EXPUNGE (and UID EXPUNGE), COPY and
//! MOVE. Each change goes through the Mailbox actor of the mailbox it changes, which
//! answers once the change is on disk; the session then reports it itself, with the
//! UIDPLUS codes (APPENDUID, COPYUID).
//!
//! Rights (RFC 4314 §4): APPEND, COPY and MOVE need `i` on the target, and APPEND keeps
//! only the flags the user may set (`s` for \Seen, `t` for \Deleted, `w` for the
//! others); STORE needs the right of every flag it names (a replacing STORE all three);
//! EXPUNGE needs `e`, and MOVE `t` and `e` on its source. A missing right is answered
//! `NO [NOPERM]`.

use super::mailboxes::PERMISSION_DENIED;
use super::namespace::{self, Found};
use super::nul_free::nul_free;
use super::session::{ImapSession, Work};
use crate::config::Setting;
use crate::mailbox::{blocking, Change, Incoming};
use actix::prelude::*;
use bytes::Bytes;
use mailhive_protocol::imap::command::{DateTime, Flag, StoreMode};
use mailhive_protocol::imap::response::{self, Status};
use mailhive_protocol::imap::sequence::{compact, SequenceSet};
use mailhive_store::{FlagChange, Flags, InternalDate, Rights, SystemFlags, Username};

/// The store's form of flags a client named.
pub fn store_flags(flags: &[Flag]) -> Flags {
    let mut out = Flags::default();
    for flag in flags {
        match flag {
            Flag::Seen => out.system.insert(SystemFlags::SEEN),
            Flag::Answered => out.system.insert(SystemFlags::ANSWERED),
            Flag::Flagged => out.system.insert(SystemFlags::FLAGGED),
            Flag::Deleted => out.system.insert(SystemFlags::DELETED),
            Flag::Draft => out.system.insert(SystemFlags::DRAFT),
            Flag::Recent => {}
            Flag::Keyword(k) => out.add_keyword(k.clone()),
        }
    }
    out
}

/// The rights STORE needs to change `flags`: `s` for \Seen, `t` for \Deleted, `w` for
/// the others; a replacing STORE changes every kind.
fn rights_needed(flags: &Flags, replace: bool) -> String {
    let mut needed = String::new();
    if replace || flags.is_seen() {
        needed.push('s');
    }
    if replace || flags.system.contains(SystemFlags::DELETED) {
        needed.push('t');
    }
    let others = flags
        .system
        .difference(SystemFlags::SEEN.union(SystemFlags::DELETED));
    if replace || others != SystemFlags::empty() || !flags.keywords().is_empty() {
        needed.push('w');
    }
    needed
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

impl ImapSession {
    /// The selected messages a set names, or a BAD answer for sequence numbers that do
    /// not exist (UIDs that do not exist are simply not there).
    pub(super) fn messages_named(
        &mut self,
        tag: &str,
        uid: bool,
        set: &SequenceSet,
    ) -> Result<Vec<(u32, u32)>, Work> {
        let Some(view) = self.state.view() else {
            return Err(self.bad(tag, "No mailbox selected"));
        };
        let exists = view.exists();
        if !uid && set.ranges(exists).any(|(_, high)| high > exists) {
            return Err(self.bad(tag, "Invalid message sequence number"));
        }
        Ok(view.resolve(set, uid))
    }

    /// The selected mailbox, if it is open read-write and the user holds `rights`.
    fn writable(&mut self, tag: &str, rights: &str) -> Result<mailhive_store::MailboxId, Work> {
        match self.state.view() {
            Some(view) if view.read_only => {
                Err(self.no(tag, Some("READ-ONLY"), "The mailbox is open read-only"))
            }
            Some(view) if rights.chars().all(|r| view.rights.contains(r)) => Ok(view.id()),
            Some(_) => Err(self.no(tag, Some("NOPERM"), PERMISSION_DENIED)),
            None => Err(self.bad(tag, "No mailbox selected")),
        }
    }

    pub(super) fn append(
        &mut self,
        user: Username,
        tag: String,
        mailbox: String,
        flags: Vec<Flag>,
        date: Option<DateTime>,
        message: Bytes,
    ) -> Work {
        let name = match namespace::parse(&mailbox, &user) {
            Ok(name) => name,
            Err(reason) => return self.no(&tag, Some("CANNOT"), reason),
        };
        if message.len() as u64 > self.setting(Setting::MaxMessageSize) {
            return self.no(&tag, Some("TOOBIG"), "Message too large");
        }
        if message.is_empty() {
            return self.no(&tag, Some("CANNOT"), "An empty message cannot be appended");
        }
        let internal_date = match date.as_ref().map(internal_date) {
            None => InternalDate::now(),
            Some(Some(date)) => date,
            Some(None) => return self.bad(&tag, "Invalid date-time"),
        };
        let flags = store_flags(&flags);
        self.with_found(&user.clone(), tag, name, move |act, tag, found| {
            let target = match found {
                Found::Mailbox(target) if target.rights.contains('i') => target,
                Found::Mailbox(_) => return act.no(&tag, Some("NOPERM"), PERMISSION_DENIED),
                // What a mailbox that does not exist answers, for one the user may not see too.
                _ => return act.no(&tag, Some("TRYCREATE"), "Mailbox does not exist"),
            };
            let flags = allowed_flags(flags, target.rights);
            let registry = act.context.registry.clone();
            let by = Some(act.id);
            let work = async move {
                // Only a message that holds a NUL byte is rewritten (see `nul_free`).
                let raw = if message.contains(&0) {
                    blocking(move || Ok(nul_free(message))).await?
                } else {
                    message
                };
                let incoming = Incoming {
                    raw,
                    flags,
                    internal_date,
                };
                let change = Change::Append {
                    messages: vec![incoming],
                    user,
                };
                registry.apply_by(target.info.id, change, by).await
            };
            Box::pin(
                work.into_actor(act)
                    .then(move |result, act, _| match result {
                        Ok(Ok(done)) => {
                            act.learn(done.changes);
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
        })
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn store_flags(
        &mut self,
        user: Username,
        tag: String,
        uid: bool,
        set: SequenceSet,
        mode: StoreMode,
        silent: bool,
        flags: Vec<Flag>,
    ) -> Work {
        let flags = store_flags(&flags);
        let needed = rights_needed(&flags, mode == StoreMode::Replace);
        let mailbox = match self.writable(&tag, &needed) {
            Ok(id) => id,
            Err(work) => return work,
        };
        let named = match self.messages_named(&tag, uid, &set) {
            Ok(named) => named,
            Err(work) => return work,
        };
        let change = match mode {
            StoreMode::Add => FlagChange::Add(flags),
            StoreMode::Remove => FlagChange::Remove(flags),
            StoreMode::Replace => FlagChange::Replace(flags),
        };
        let uids: Vec<u32> = named.iter().map(|&(_, u)| u).collect();
        let registry = self.context.registry.clone();
        Box::pin(
            async move {
                registry
                    .apply(mailbox, Change::Flags { uids, change, user })
                    .await
            }
            .into_actor(self)
            .then(move |result, act, _| match result {
                Ok(Ok(done)) => {
                    let mut out = Vec::new();
                    if let Some(view) = act.state.view_mut() {
                        for message in done.flags {
                            view.set_flags(message.uid, message.flags, message.modseq);
                        }
                        out.extend(view.keywords_announcement());
                        if !silent {
                            for &(seq, uid_of) in &named {
                                let Some(flags) = view.flags_text(seq) else {
                                    continue;
                                };
                                let uid_item = if uid {
                                    format!(" UID {uid_of}")
                                } else {
                                    String::new()
                                };
                                out.extend_from_slice(
                                    format!("* {seq} FETCH (FLAGS {flags}{uid_item})\r\n")
                                        .as_bytes(),
                                );
                            }
                        }
                    }
                    act.ok_with(out, &tag, "STORE completed")
                }
                Ok(Err(refusal)) => act.refused(&tag, &refusal),
                Err(e) => act.failed(&tag, &e),
            }),
        )
    }

    pub(super) fn expunge(&mut self, tag: String, uids: Option<SequenceSet>) -> Work {
        let mailbox = match self.writable(&tag, "e") {
            Ok(id) => id,
            Err(work) => return work,
        };
        let only = match &uids {
            Some(set) => match self.messages_named(&tag, true, set) {
                Ok(named) => Some(named.into_iter().map(|(_, u)| u).collect()),
                Err(work) => return work,
            },
            None => None,
        };
        let registry = self.context.registry.clone();
        let change = Change::Expunge {
            uids: only,
            only_deleted: true,
        };
        Box::pin(
            async move { registry.apply(mailbox, change).await }
                .into_actor(self)
                .then(move |result, act, _| match result {
                    Ok(Ok(done)) => {
                        let out = act.remove_expunged(&done.expunged);
                        act.ok_with(out, &tag, "EXPUNGE completed")
                    }
                    Ok(Err(refusal)) => act.refused(&tag, &refusal),
                    Err(e) => act.failed(&tag, &e),
                }),
        )
    }

    /// Queues changes this session made to the mailbox it has selected (if it is that
    /// one), so that they are announced with its own answer.
    fn learn(&mut self, changes: crate::mailbox::Changes) {
        if let Some(view) = self.state.view_mut().filter(|v| v.id() == changes.mailbox) {
            view.queue(changes);
        }
    }

    /// `* n EXPUNGE` for messages this session removed, in order.
    fn remove_expunged(&mut self, uids: &[u32]) -> Vec<u8> {
        self.state
            .view_mut()
            .map(|view| view.remove_all(uids))
            .unwrap_or_default()
    }

    /// COPY or MOVE (and their UID forms).
    pub(super) fn transfer(
        &mut self,
        user: Username,
        tag: String,
        uid: bool,
        set: SequenceSet,
        mailbox: String,
        remove_source: bool,
    ) -> Work {
        let from = if remove_source {
            match self.writable(&tag, "te") {
                Ok(id) => id,
                Err(work) => return work,
            }
        } else {
            match self.state.view() {
                Some(view) => view.id(),
                None => return self.bad(&tag, "No mailbox selected"),
            }
        };
        let named = match self.messages_named(&tag, uid, &set) {
            Ok(named) => named,
            Err(work) => return work,
        };
        let name = match namespace::parse(&mailbox, &user) {
            Ok(name) => name,
            Err(reason) => return self.no(&tag, Some("TRYCREATE"), reason),
        };
        let verb = if remove_source { "MOVE" } else { "COPY" };
        let uids: Vec<u32> = named.iter().map(|&(_, u)| u).collect();
        let keep_metadata = self.enabled(Setting::CopyKeepsMetadata);
        self.with_found(&user.clone(), tag, name, move |act, tag, found| {
            let target = match found {
                Found::Mailbox(target) if target.rights.contains('i') => target.info.id,
                Found::Mailbox(_) => return act.no(&tag, Some("NOPERM"), PERMISSION_DENIED),
                _ => {
                    let text = format!("{verb} target does not exist");
                    return act.no(&tag, Some("TRYCREATE"), &text);
                }
            };
            let change = Change::Transfer {
                from,
                uids,
                keep_metadata,
                remove_source,
                user,
            };
            let registry = act.context.registry.clone();
            let by = Some(act.id);
            let work = async move { registry.apply_by(target, change, by).await };
            Box::pin(
                work.into_actor(act)
                    .then(move |result, act, _| match result {
                        Ok(Ok(done)) => {
                            act.learn(done.changes);
                            let mut pairs = done.pairs;
                            pairs.sort_unstable();
                            let code = (!pairs.is_empty()).then(|| {
                                let sources: Vec<u32> = pairs.iter().map(|p| p.0).collect();
                                let targets: Vec<u32> = pairs.iter().map(|p| p.1).collect();
                                format!(
                                    "COPYUID {} {} {}",
                                    done.uid_validity,
                                    compact(&sources),
                                    compact(&targets)
                                )
                            });
                            if !remove_source {
                                return act.finish(
                                    &tag,
                                    Status::Ok,
                                    code.as_deref(),
                                    "COPY completed",
                                );
                            }
                            let mut out = Vec::new();
                            if let Some(code) = &code {
                                out.extend(response::status(None, Status::Ok, Some(code), "Moved"));
                            }
                            let moved: Vec<u32> = pairs.iter().map(|p| p.0).collect();
                            out.extend(act.remove_expunged(&moved));
                            act.ok_with(out, &tag, "MOVE completed")
                        }
                        Ok(Err(refusal)) => act.refused(&tag, &refusal),
                        Err(e) => act.failed(&tag, &e),
                    }),
            )
        })
    }
}
