//! Commands that change messages: STORE, EXPUNGE (and UID EXPUNGE), COPY and MOVE
//! (APPEND is [`super::append`]). Each change goes through the Mailbox actor of the
//! mailbox it changes, which answers once the change is on disk; the session then
//! reports it itself, with the UIDPLUS code COPYUID.
//!
//! Rights (RFC 4314 §4): COPY and MOVE need `i` on the target; STORE needs the right
//! of every flag it names (a replacing STORE all three); EXPUNGE needs `e`, and MOVE
//! `t` and `e` on its source. A missing right is answered `NO [NOPERM]`.

use super::mailboxes::PERMISSION_DENIED;
use super::namespace::{self, Found};
use super::session::{ImapSession, Work};
use crate::config::Setting;
use crate::mailbox::Change;
use actix::prelude::*;
use mailhive_protocol::imap::command::{Flag, StoreMode};
use mailhive_protocol::imap::response::{self, Status};
use mailhive_protocol::imap::sequence::{compact, SequenceSet};
use mailhive_store::{FlagChange, Flags, SystemFlags, Username};
use std::collections::HashSet;

/// A STORE or UID STORE as parsed.
#[derive(Debug)]
pub struct StoreRequest {
    pub uid: bool,
    pub set: SequenceSet,
    pub mode: StoreMode,
    pub silent: bool,
    pub flags: Vec<Flag>,
    /// CONDSTORE's UNCHANGEDSINCE (RFC 7162 §3.1.3).
    pub unchanged_since: Option<u64>,
}

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

    /// STORE; with UNCHANGEDSINCE, messages changed after it are left alone and named
    /// in `OK [MODIFIED ...]`, and the changed ones are reported with their MODSEQ even
    /// when silent (RFC 7162 §3.1.3).
    pub(super) fn store_flags(
        &mut self,
        user: Username,
        tag: String,
        request: StoreRequest,
    ) -> Work {
        let StoreRequest {
            uid,
            set,
            mode,
            silent,
            flags,
            unchanged_since,
        } = request;
        if unchanged_since.is_some() {
            self.enable_condstore();
        }
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
                let change = Change::Flags {
                    uids,
                    change,
                    user,
                    unchanged_since,
                };
                registry.apply(mailbox, change).await
            }
            .into_actor(self)
            .then(move |result, act, _| match result {
                Ok(Ok(done)) => {
                    let mut out = Vec::new();
                    let condstore = act.extensions.condstore;
                    let mut modified = Vec::new();
                    if let Some(view) = act.state.view_mut() {
                        let changed: HashSet<u32> = done.flags.iter().map(|m| m.uid).collect();
                        for message in done.flags {
                            view.set_flags(message.uid, message.flags, message.modseq);
                        }
                        out.extend(view.keywords_announcement());
                        let left_alone: HashSet<u32> = done.modified.iter().copied().collect();
                        for &(seq, uid_of) in &named {
                            if left_alone.contains(&uid_of) {
                                modified.push(if uid { uid_of } else { seq });
                                continue;
                            }
                            let mut items = Vec::new();
                            // With CONDSTORE on, every FETCH response has the UID.
                            if uid || condstore {
                                items.push(format!("UID {uid_of}"));
                            }
                            if !silent {
                                let Some(flags) = view.flags_text(seq) else {
                                    continue;
                                };
                                items.push(format!("FLAGS {flags}"));
                            } else if unchanged_since.is_none() || !changed.contains(&uid_of) {
                                continue;
                            }
                            if condstore {
                                if let Some(modseq) = view.modseq(seq) {
                                    items.push(format!("MODSEQ ({modseq})"));
                                }
                            }
                            out.extend_from_slice(
                                format!("* {seq} FETCH ({})\r\n", items.join(" ")).as_bytes(),
                            );
                        }
                    }
                    if modified.is_empty() {
                        return act.ok_with(out, &tag, "STORE completed");
                    }
                    modified.sort_unstable();
                    let code = format!("MODIFIED {}", compact(&modified));
                    act.respond_with(
                        out,
                        &tag,
                        Status::Ok,
                        Some(&code),
                        "Conditional STORE failed",
                    )
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
                        if let Some(view) = act.state.view_mut() {
                            view.reached_modseq(done.changes.highest_modseq);
                        }
                        // With QRESYNC the client learns the modseq its VANISHED
                        // brought it to (RFC 7162 §3.2.10).
                        let highest = act
                            .state
                            .view()
                            .filter(|_| act.extensions.qresync)
                            .map(|view| format!("HIGHESTMODSEQ {}", view.highest_modseq()));
                        act.respond_with(
                            out,
                            &tag,
                            Status::Ok,
                            highest.as_deref(),
                            "EXPUNGE completed",
                        )
                    }
                    Ok(Err(refusal)) => act.refused(&tag, &refusal),
                    Err(e) => act.failed(&tag, &e),
                }),
        )
    }

    /// `* n EXPUNGE` for messages this session removed, in order.
    fn remove_expunged(&mut self, uids: &[u32]) -> Vec<u8> {
        let enabled = self.extensions;
        self.state
            .view_mut()
            .map(|view| view.remove_all(uids, enabled))
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
