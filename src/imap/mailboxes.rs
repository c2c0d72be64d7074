//! Commands on mailboxes: SELECT/EXAMINE, CLOSE/UNSELECT, CREATE, DELETE, RENAME,
//! SUBSCRIBE/UNSUBSCRIBE, LIST/LSUB (with the SPECIAL-USE and CHILDREN attributes and
//! LIST-STATUS returns) and STATUS, over the user's own namespace and the mailboxes
//! other users share with them (`#users/…`, see [`super::namespace`]), each checking
//! the rights it needs (RFC 4314 §4).
//!
//! Choices where the RFCs leave room: shared mailboxes are always subscribed (SUBSCRIBE
//! and UNSUBSCRIBE of one succeed and change nothing), cannot be renamed, and are
//! created in only under a parent with the `k` right (the new mailbox gets the parent's
//! rights); virtual parents are `\Noselect`, or with FakeInaccessibleMailboxes empty
//! read-only mailboxes.

use super::condstore;
use super::namespace::{self, find, Found, Located, Name};
use super::session::{ImapSession, Work};
use super::view::View;
use crate::config::Setting;
use crate::mailbox::{blocking, Change, Changes};
use actix::prelude::*;
use mailhive_protocol::imap::command::{Qresync, StatusItem};
use mailhive_protocol::imap::response::{self, Status};
use mailhive_store::{MailboxInfo, Store, StoreError, Username};
use std::collections::BTreeSet;
use std::sync::Arc;

/// What LIST or LSUB asked for.
#[derive(Debug)]
pub struct ListRequest {
    pub reference: String,
    pub patterns: Vec<String>,
    pub subscribed_only: bool,
    pub special_use_only: bool,
    pub status: Vec<StatusItem>,
    pub lsub: bool,
}

/// The counts of a STATUS answer that are not in the mailbox's record as they are.
#[derive(Debug, Default)]
struct Counts {
    /// Messages without \Seen for the user: their own \Seen on a mailbox shared with
    /// them.
    unseen: u32,
    /// Messages no session holds \Recent for yet (counted only when asked for).
    recent: u32,
}

fn counts_for(
    store: &Store,
    mailbox: &Located,
    user: &Username,
    items: &[StatusItem],
) -> Result<Counts, StoreError> {
    let unseen = if mailbox.shared {
        let seen = store.seen_by(mailbox.info.id, user)?.len();
        u64::from(mailbox.info.messages).saturating_sub(seen) as u32
    } else {
        mailbox.info.unseen
    };
    let recent = if items.contains(&StatusItem::Recent) {
        store.unclaimed_recent(mailbox.info.id)?
    } else {
        0
    };
    Ok(Counts { unseen, recent })
}

const NO_SUCH_MAILBOX: &str = "No such mailbox";
const NOT_SELECTABLE: &str = "Not a selectable mailbox";
pub(super) const PERMISSION_DENIED: &str = "Permission denied";

impl ImapSession {
    /// Runs a store operation on the blocking pool and answers OK, or NO with the
    /// refusal.
    fn mailbox_change(
        &mut self,
        tag: String,
        done: &'static str,
        operation: impl FnOnce(&Store) -> mailhive_store::Outcome<()> + Send + 'static,
    ) -> Work {
        let store = self.store().clone();
        Box::pin(blocking(move || operation(&store)).into_actor(self).then(
            move |result, act, _| match result {
                Ok(Ok(())) => act.ok(&tag, done),
                Ok(Err(refusal)) => act.refused(&tag, &refusal),
                Err(e) => act.failed(&tag, &e),
            },
        ))
    }

    pub(super) fn create_mailbox(&mut self, user: Username, tag: String, text: String) -> Work {
        // A trailing delimiter only says the client means to create children later.
        let (owner, name) = match namespace::parse(text.trim_end_matches('/'), &user) {
            Ok(Name::Mailbox { owner, name }) => (owner, name),
            Ok(Name::Shared(_)) => return self.no(&tag, Some("CANNOT"), "Cannot create that"),
            Err(reason) => return self.no(&tag, Some("CANNOT"), reason),
        };
        if owner == user {
            return self.mailbox_change(tag, "CREATE completed", move |store| {
                Ok(store
                    .create_mailbox(&owner, &name, None, &user)?
                    .map(|_| ()))
            });
        }
        // In a shared mailbox: the parent's `k` right; the store gives the new mailbox
        // the parent's rights in the same step.
        let Some(parent) = name.ancestors().pop() else {
            return self.no(&tag, Some("NOPERM"), PERMISSION_DENIED);
        };
        let parent = Name::Mailbox {
            owner: owner.clone(),
            name: parent,
        };
        let creator = user.clone();
        self.with_found(&user, tag, parent, move |act, tag, found| match found {
            Found::Mailbox(parent) if parent.rights.contains('k') => {
                act.mailbox_change(tag, "CREATE completed", move |store| {
                    Ok(store
                        .create_mailbox(&owner, &name, None, &creator)?
                        .map(|_| ()))
                })
            }
            Found::Mailbox(_) => act.no(&tag, Some("NOPERM"), PERMISSION_DENIED),
            _ => act.no(&tag, Some("NONEXISTENT"), NO_SUCH_MAILBOX),
        })
    }

    pub(super) fn delete_mailbox(&mut self, user: Username, tag: String, text: String) -> Work {
        let name = match namespace::parse(&text, &user) {
            Ok(name) => name,
            Err(reason) => return self.no(&tag, Some("NONEXISTENT"), reason),
        };
        self.with_found(&user, tag, name, |act, tag, found| {
            let located = match found {
                Found::Mailbox(located) => located,
                Found::Virtual(_) => return act.no(&tag, Some("CANNOT"), NOT_SELECTABLE),
                Found::Nothing => return act.no(&tag, Some("NONEXISTENT"), NO_SUCH_MAILBOX),
            };
            if !located.rights.contains('x') {
                return act.no(&tag, Some("NOPERM"), PERMISSION_DENIED);
            }
            if act.state.view().is_some_and(|v| v.id() == located.info.id) {
                return act.no(
                    &tag,
                    Some("INUSE"),
                    "Cannot delete the selected mailbox; close it first",
                );
            }
            let (owner, name) = (located.info.owner, located.info.name);
            act.mailbox_change(tag, "DELETE completed", move |store| {
                store.delete_mailbox(&owner, &name)
            })
        })
    }

    pub(super) fn rename_mailbox(
        &mut self,
        user: Username,
        tag: String,
        from: String,
        to: String,
    ) -> Work {
        let own = |name| match name {
            Ok(Name::Mailbox { owner, name }) if owner == user => Ok(Some(name)),
            Ok(_) => Ok(None),
            Err(reason) => Err(reason),
        };
        let (from, to) = match (
            own(namespace::parse(&from, &user)),
            own(namespace::parse(&to, &user)),
        ) {
            (Ok(Some(from)), Ok(Some(to))) => (from, to),
            (Err(reason), _) => return self.no(&tag, Some("NONEXISTENT"), reason),
            (_, Err(reason)) => return self.no(&tag, Some("CANNOT"), reason),
            _ => return self.no(&tag, Some("CANNOT"), "Shared mailboxes cannot be renamed"),
        };
        self.mailbox_change(tag, "RENAME completed", move |store| {
            store.rename_mailbox(&user, &from, &to)
        })
    }

    pub(super) fn subscribe(
        &mut self,
        user: Username,
        tag: String,
        text: String,
        subscribe: bool,
    ) -> Work {
        let done = if subscribe {
            "SUBSCRIBE completed"
        } else {
            "UNSUBSCRIBE completed"
        };
        match namespace::parse(&text, &user) {
            Ok(Name::Mailbox { owner, name }) if owner == user => {
                self.mailbox_change(tag, done, move |store| {
                    if subscribe {
                        store.subscribe(&user, &name)
                    } else {
                        store.unsubscribe(&user, &name)
                    }
                })
            }
            // Shared mailboxes are always subscribed.
            Ok(name) => self.with_found(&user, tag, name, move |act, tag, found| match found {
                Found::Nothing => act.no(&tag, Some("NONEXISTENT"), NO_SUCH_MAILBOX),
                _ => act.ok(&tag, done),
            }),
            Err(reason) => self.no(&tag, Some("CANNOT"), reason),
        }
    }

    /// Stops watching the selected mailbox.
    pub(super) fn deselect(&mut self) -> Option<View> {
        let view = self.state.deselect()?;
        if view.watched {
            self.context.registry.unwatch(view.id(), self.id);
        }
        Some(view)
    }

    pub(super) fn select(
        &mut self,
        user: Username,
        tag: String,
        text: String,
        examine: bool,
        qresync: Option<Qresync>,
        recipient: Recipient<Changes>,
    ) -> Work {
        // With QRESYNC the client is told the previous mailbox is closed (RFC 7162
        // §3.2.11), before anything of the new one.
        let closed = self.deselect().is_some() && self.extensions.qresync;
        let name = match namespace::parse(&text, &user) {
            Ok(name) => name,
            Err(reason) => return self.no(&tag, Some("NONEXISTENT"), reason),
        };
        self.with_found(&user.clone(), tag, name, move |act, tag, found| {
            let located = match found {
                Found::Mailbox(located) if located.rights.contains('r') => located,
                Found::Mailbox(_) => return act.no(&tag, Some("NOPERM"), PERMISSION_DENIED),
                Found::Virtual(display) if act.enabled(Setting::FakeInaccessibleMailboxes) => {
                    let view = View::empty(namespace::virtual_info(&user), display);
                    return act.selected_answer(tag, view, examine, closed, Vec::new());
                }
                Found::Virtual(_) => return act.no(&tag, Some("CANNOT"), NOT_SELECTABLE),
                Found::Nothing => return act.no(&tag, Some("NONEXISTENT"), NO_SUCH_MAILBOX),
            };
            // Read-write only for a user who may change something in it.
            let read_only = examine || !located.rights.any_of("swte");
            let registry = act.context.registry.clone();
            let store = act.store().clone();
            let watcher = act.id;
            let open = async move {
                let id = located.info.id;
                let validity = located.info.uid_validity;
                let snapshot = registry
                    .watch(id, watcher, recipient, user, read_only)
                    .await?;
                let view = View::new(located, read_only, snapshot, watcher);
                // What the client missed, if its UIDs are still valid (RFC 7162 §3.2.5).
                let resync = match qresync.filter(|q| q.uid_validity == validity) {
                    Some(known) => {
                        let since = known.modseq;
                        let gone = blocking(move || store.vanished_since(id, since)).await?;
                        condstore::resync_lines(&view, &known, gone)
                    }
                    None => Vec::new(),
                };
                Ok::<_, crate::mailbox::MailboxError>((view, resync))
            };
            Box::pin(
                open.into_actor(act)
                    .then(move |opened, act, _| match opened {
                        Ok((view, resync)) => {
                            act.selected_answer(tag, view, examine, closed, resync)
                        }
                        Err(e) => act.failed(&tag, &e),
                    }),
            )
        })
    }

    /// Makes `view` the selected mailbox and answers SELECT or EXAMINE, with QRESYNC's
    /// additions: `[CLOSED]` first when a mailbox was selected before, and the
    /// resynchronisation (`resync`) after the usual lines.
    fn selected_answer(
        &mut self,
        tag: String,
        mut view: View,
        examine: bool,
        closed: bool,
        resync: Vec<u8>,
    ) -> Work {
        let mut answer = Vec::new();
        if closed {
            answer.extend_from_slice(b"* OK [CLOSED] Previous mailbox closed\r\n");
        }
        answer.extend(selected_lines(&mut view));
        answer.extend(condstore::highest_modseq_line(&view).into_bytes());
        answer.extend(resync);
        let code = if view.read_only {
            "READ-ONLY"
        } else {
            "READ-WRITE"
        };
        if let Err(view) = self.state.select(view) {
            if view.watched {
                self.context.registry.unwatch(view.id(), self.id);
            }
            return self.bad(&tag, "Log in first");
        }
        let done = if examine {
            "EXAMINE completed"
        } else {
            "SELECT completed"
        };
        answer.extend(response::status(Some(&tag), Status::Ok, Some(code), done));
        self.send(answer)
    }

    /// CLOSE (`expunge` true: removes \Deleted messages first, silently, where the user
    /// may expunge) or UNSELECT.
    pub(super) fn close_mailbox(&mut self, tag: String, expunge: bool) -> Work {
        let Some(view) = self.deselect() else {
            return self.bad(&tag, "No mailbox selected");
        };
        if !expunge || view.read_only || !view.rights.contains('e') {
            let text = if expunge {
                "CLOSE completed"
            } else {
                "UNSELECT completed"
            };
            return self.ok(&tag, text);
        }
        let registry = self.context.registry.clone();
        let change = Change::Expunge {
            uids: None,
            only_deleted: true,
        };
        Box::pin(
            async move { registry.apply(view.id(), change).await }
                .into_actor(self)
                .then(move |result, act, _| match result {
                    Ok(Ok(_)) => act.ok(&tag, "CLOSE completed"),
                    Ok(Err(refusal)) => act.refused(&tag, &refusal),
                    Err(e) => act.failed(&tag, &e),
                }),
        )
    }

    pub(super) fn status(
        &mut self,
        user: Username,
        tag: String,
        text: String,
        items: Vec<StatusItem>,
    ) -> Work {
        let name = match namespace::parse(&text, &user) {
            Ok(name) => name,
            Err(reason) => return self.no(&tag, Some("NONEXISTENT"), reason),
        };
        let fake = self.enabled(Setting::FakeInaccessibleMailboxes);
        let store = self.store().clone();
        let answer =
            move || -> Result<Result<Vec<u8>, (&'static str, &'static str)>, StoreError> {
                Ok(match find(&store, &user, name)? {
                    Found::Mailbox(located) if located.rights.contains('r') => {
                        let counts = counts_for(&store, &located, &user, &items)?;
                        Ok(status_line(
                            &located.display,
                            &located.info,
                            &counts,
                            &items,
                        ))
                    }
                    Found::Mailbox(_) => Err(("NOPERM", PERMISSION_DENIED)),
                    Found::Virtual(display) if fake => Ok(status_line(
                        &display,
                        &namespace::virtual_info(&user),
                        &Counts::default(),
                        &items,
                    )),
                    Found::Virtual(_) => Err(("CANNOT", NOT_SELECTABLE)),
                    Found::Nothing => Err(("NONEXISTENT", NO_SUCH_MAILBOX)),
                })
            };
        Box::pin(
            blocking(answer)
                .into_actor(self)
                .then(move |result, act, _| match result {
                    Ok(Ok(line)) => act.ok_with(line, &tag, "STATUS completed"),
                    Ok(Err((code, text))) => act.no(&tag, Some(code), text),
                    Err(e) => act.failed(&tag, &e),
                }),
        )
    }

    pub(super) fn list(&mut self, user: Username, tag: String, request: ListRequest) -> Work {
        let store = self.store().clone();
        let fake = self.enabled(Setting::FakeInaccessibleMailboxes);
        Box::pin(
            blocking(move || list_lines(&store, &user, &request, fake))
                .into_actor(self)
                .then(move |result, act, _| match result {
                    Ok((out, done)) => act.ok_with(out, &tag, done),
                    Err(e) => act.failed(&tag, &e),
                }),
        )
    }
}

/// The untagged part of the SELECT answer.
fn selected_lines(view: &mut View) -> Vec<u8> {
    let flags = view.flag_list();
    let mut out = format!("* FLAGS {flags}\r\n");
    let permanent = if view.read_only {
        "()".to_owned()
    } else {
        format!("{} \\*)", flags.trim_end_matches(')'))
    };
    out.push_str(&format!(
        "* OK [PERMANENTFLAGS {permanent}] Flags permitted\r\n"
    ));
    out.push_str(&format!(
        "* {} EXISTS\r\n* {} RECENT\r\n",
        view.exists(),
        view.tell_recent()
    ));
    if let Some(seq) = view.first_unseen() {
        out.push_str(&format!("* OK [UNSEEN {seq}] First unseen\r\n"));
    }
    out.push_str(&format!(
        "* OK [UIDVALIDITY {}] UIDs valid\r\n* OK [UIDNEXT {}] Predicted next UID\r\n",
        view.info.uid_validity,
        view.uid_next()
    ));
    out.into_bytes()
}

/// `* STATUS name (MESSAGES n ...)`
fn status_line(
    display: &str,
    info: &MailboxInfo,
    counts: &Counts,
    items: &[StatusItem],
) -> Vec<u8> {
    let mut out = b"* STATUS ".to_vec();
    response::mailbox(&mut out, display);
    let values: Vec<String> = items
        .iter()
        .map(|item| match item {
            StatusItem::Messages => format!("MESSAGES {}", info.messages),
            StatusItem::Recent => format!("RECENT {}", counts.recent),
            StatusItem::UidNext => format!("UIDNEXT {}", info.uid_next),
            StatusItem::UidValidity => format!("UIDVALIDITY {}", info.uid_validity),
            StatusItem::Unseen => format!("UNSEEN {}", counts.unseen),
            StatusItem::Size => format!("SIZE {}", info.bytes),
            StatusItem::HighestModseq => format!("HIGHESTMODSEQ {}", info.highest_modseq),
        })
        .collect();
    out.extend_from_slice(format!(" ({})\r\n", values.join(" ")).as_bytes());
    out
}

/// One name LIST may answer with.
struct Entry {
    display: String,
    kind: Kind,
    subscribed: bool,
}

/// What a listed name is.
enum Kind {
    Mailbox(Located),
    /// A virtual parent of shared mailboxes.
    VirtualParent,
    /// Subscribed, but no such mailbox (any more): LSUB still lists it.
    Missing,
    /// LSUB with `%`: the parent of a subscribed name, not subscribed itself, listed
    /// `\Noselect` (RFC 3501 §6.3.9).
    UnsubscribedParent,
}

/// The LIST or LSUB lines, and the tagged text.
fn list_lines(
    store: &Arc<Store>,
    user: &Username,
    request: &ListRequest,
    fake: bool,
) -> Result<(Vec<u8>, &'static str), StoreError> {
    let done = if request.lsub {
        "LSUB completed"
    } else {
        "LIST completed"
    };
    let word = if request.lsub { "LSUB" } else { "LIST" };
    let mut out = Vec::new();
    if request.patterns.len() == 1 && request.patterns[0].is_empty() && !request.lsub {
        // The hierarchy delimiter and root (RFC 3501 §6.3.8).
        out.extend_from_slice(b"* LIST (\\Noselect) \"/\" \"\"\r\n");
        return Ok((out, done));
    }
    let entries = candidates(store, user, request.lsub)?;
    let names: BTreeSet<&str> = entries.iter().map(|e| e.display.as_str()).collect();
    let patterns: Vec<String> = request
        .patterns
        .iter()
        .map(|p| format!("{}{p}", request.reference))
        .collect();
    let wanted = |entry: &Entry| {
        (!request.subscribed_only || entry.subscribed)
            && (!request.special_use_only || entry.special_use().is_some())
    };
    let parents = match request.lsub {
        true => unsubscribed_parents(&entries, &patterns),
        false => Vec::new(),
    };
    let mut listed: Vec<&Entry> = entries
        .iter()
        .filter(|entry| patterns.iter().any(|p| matches(p, &entry.display)) && wanted(entry))
        .chain(&parents)
        .collect();
    // INBOX first, then by name.
    listed.sort_by_key(|e| (e.display != "INBOX", e.display.clone()));
    for entry in listed {
        let prefix = format!("{}/", entry.display);
        let has_children = names
            .range(prefix.as_str()..)
            .next()
            .is_some_and(|n| n.starts_with(&prefix));
        let mut attributes = Vec::new();
        let noselect = match entry.kind {
            Kind::VirtualParent => !fake,
            Kind::UnsubscribedParent => true,
            Kind::Mailbox(_) | Kind::Missing => false,
        };
        if noselect {
            attributes.push("\\Noselect");
        }
        if !matches!(entry.kind, Kind::Missing | Kind::UnsubscribedParent) {
            attributes.push(if has_children {
                "\\HasChildren"
            } else {
                "\\HasNoChildren"
            });
        }
        if let Some(special) = entry.special_use() {
            attributes.push(special.attribute());
        }
        if request.subscribed_only && !request.lsub {
            attributes.push("\\Subscribed");
        }
        out.extend_from_slice(format!("* {word} ({}) \"/\" ", attributes.join(" ")).as_bytes());
        response::mailbox(&mut out, &entry.display);
        out.extend_from_slice(b"\r\n");
        if request.status.is_empty() {
            continue;
        }
        match &entry.kind {
            Kind::Mailbox(located) if located.rights.contains('r') => {
                let counts = counts_for(store, located, user, &request.status)?;
                out.extend(status_line(
                    &entry.display,
                    &located.info,
                    &counts,
                    &request.status,
                ));
            }
            Kind::VirtualParent if fake => {
                out.extend(status_line(
                    &entry.display,
                    &namespace::virtual_info(user),
                    &Counts::default(),
                    &request.status,
                ));
            }
            _ => {}
        }
    }
    Ok((out, done))
}

/// Every name the user may see: their mailboxes, the shared ones and their virtual
/// parents, and for LSUB the subscribed names that have no mailbox.
fn candidates(store: &Store, user: &Username, lsub: bool) -> Result<Vec<Entry>, StoreError> {
    let mut subscribed: BTreeSet<String> = store
        .subscriptions(user)?
        .into_iter()
        .map(|n| n.as_str().to_owned())
        .collect();
    let mut entries = Vec::new();
    for info in store.mailboxes(user)? {
        let display = info.name.to_string();
        entries.push(Entry {
            subscribed: subscribed.remove(&display),
            kind: Kind::Mailbox(Located {
                display: display.clone(),
                rights: mailhive_store::Rights::all(),
                shared: false,
                info,
            }),
            display,
        });
    }
    if lsub {
        entries.extend(subscribed.into_iter().map(|display| Entry {
            display,
            kind: Kind::Missing,
            subscribed: true,
        }));
    }
    let shared = namespace::shared(store, user)?;
    for parent in namespace::virtual_parents(&shared) {
        entries.push(Entry {
            display: parent,
            kind: Kind::VirtualParent,
            subscribed: true,
        });
    }
    entries.extend(shared.into_iter().map(|located| Entry {
        display: located.display.clone(),
        kind: Kind::Mailbox(located),
        subscribed: true,
    }));
    Ok(entries)
}

/// For LSUB: the parents of subscribed names that a pattern with `%` matches where the
/// name itself is not matched (the `%` stopped at the parent), and that are not
/// subscribed themselves.
fn unsubscribed_parents(entries: &[Entry], patterns: &[String]) -> Vec<Entry> {
    let subscribed: BTreeSet<&str> = entries
        .iter()
        .filter(|e| e.subscribed)
        .map(|e| e.display.as_str())
        .collect();
    let mut parents = BTreeSet::new();
    for name in &subscribed {
        for (slash, _) in name.match_indices('/') {
            let parent = &name[..slash];
            let stops_here =
                |p: &String| p.contains('%') && !matches(p, name) && matches(p, parent);
            if !subscribed.contains(parent) && patterns.iter().any(stops_here) {
                parents.insert(parent.to_owned());
            }
        }
    }
    parents
        .into_iter()
        .map(|display| Entry {
            display,
            kind: Kind::UnsubscribedParent,
            subscribed: false,
        })
        .collect()
}

impl Entry {
    /// The special use of the user's own mailbox (not shown for shared ones: another
    /// user's Sent is not the user's).
    fn special_use(&self) -> Option<mailhive_store::SpecialUse> {
        match &self.kind {
            Kind::Mailbox(m) if !m.shared => m.info.special_use,
            _ => None,
        }
    }
}

/// LIST pattern matching: `*` matches anything, `%` anything but the delimiter; a
/// leading INBOX matches in any case.
pub fn matches(pattern: &str, name: &str) -> bool {
    let pattern = match pattern.get(..5) {
        Some(head) if head.eq_ignore_ascii_case("INBOX") && name.starts_with("INBOX") => {
            format!("INBOX{}", &pattern[5..])
        }
        _ => pattern.to_owned(),
    };
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    // can[j]: the pattern so far matches the first j characters of the name.
    let mut can = vec![false; n.len() + 1];
    can[0] = true;
    for &c in &p {
        let mut next = vec![false; n.len() + 1];
        match c {
            '*' | '%' => {
                for j in 0..=n.len() {
                    next[j] = can[j] || (j > 0 && next[j - 1] && (c == '*' || n[j - 1] != '/'));
                }
            }
            _ => {
                for j in 1..=n.len() {
                    next[j] = can[j - 1] && n[j - 1] == c;
                }
            }
        }
        can = next;
    }
    can[n.len()]
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn list_wildcards() {
        assert!(matches("*", "a/b/c"));
        assert!(matches("%", "Sent"));
        assert!(!matches("%", "a/b"));
        assert!(matches("a/%", "a/b"));
        assert!(matches("inbox", "INBOX"));
        assert!(matches("%/c", "b/c"));
        assert!(!matches("a*x", "a/b"));
        assert!(matches("*b*", "a/b/c"));
    }
}
