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

use super::namespace::{self, find, Found, Located, Name};
use super::session::{ImapSession, Work};
use super::view::View;
use crate::config::Setting;
use crate::mailbox::{blocking, Change, Changes};
use actix::prelude::*;
use mailhive_protocol::imap::command::StatusItem;
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

/// The \Seen count `user` has in `mailbox`: their own on a mailbox shared with them.
fn unseen_for(store: &Store, mailbox: &Located, user: &Username) -> Result<u32, StoreError> {
    if !mailbox.shared {
        return Ok(mailbox.info.unseen);
    }
    let seen = store.seen_by(mailbox.info.id, user)?.len();
    Ok(u64::from(mailbox.info.messages).saturating_sub(seen) as u32)
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
                Ok(store.create_mailbox(&owner, &name, None)?.map(|_| ()))
            });
        }
        // In a shared mailbox: the parent's `k` right, and the parent's rights for the
        // new mailbox.
        let Some(parent) = name.ancestors().pop() else {
            return self.no(&tag, Some("NOPERM"), PERMISSION_DENIED);
        };
        let parent = Name::Mailbox {
            owner: owner.clone(),
            name: parent,
        };
        self.with_found(&user, tag, parent, move |act, tag, found| match found {
            Found::Mailbox(parent) if parent.rights.contains('k') => {
                act.mailbox_change(tag, "CREATE completed", move |store| {
                    let id = match store.create_mailbox(&owner, &name, None)? {
                        Ok(id) => id,
                        Err(refusal) => return Ok(Err(refusal)),
                    };
                    for (grantee, rights) in &parent.info.acl {
                        if let Err(refusal) = store.set_acl(id, grantee, *rights)? {
                            return Ok(Err(refusal));
                        }
                    }
                    Ok(Ok(()))
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
        recipient: Recipient<Changes>,
    ) -> Work {
        self.deselect();
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
                    return act.selected_answer(tag, view, examine);
                }
                Found::Virtual(_) => return act.no(&tag, Some("CANNOT"), NOT_SELECTABLE),
                Found::Nothing => return act.no(&tag, Some("NONEXISTENT"), NO_SUCH_MAILBOX),
            };
            // Read-write only for a user who may change something in it.
            let read_only = examine || !located.rights.any_of("swte");
            let registry = act.context.registry.clone();
            let watcher = act.id;
            let open = async move {
                let snapshot = registry
                    .watch(located.info.id, watcher, recipient, user)
                    .await?;
                Ok::<_, crate::mailbox::MailboxError>(View::new(located, read_only, snapshot))
            };
            Box::pin(open.into_actor(act).then(move |view, act, _| match view {
                Ok(view) => act.selected_answer(tag, view, examine),
                Err(e) => act.failed(&tag, &e),
            }))
        })
    }

    /// Makes `view` the selected mailbox and answers SELECT or EXAMINE.
    fn selected_answer(&mut self, tag: String, view: View, examine: bool) -> Work {
        let mut answer = selected_lines(&view);
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
                        let unseen = unseen_for(&store, &located, &user)?;
                        Ok(status_line(&located.display, &located.info, unseen, &items))
                    }
                    Found::Mailbox(_) => Err(("NOPERM", PERMISSION_DENIED)),
                    Found::Virtual(display) if fake => Ok(status_line(
                        &display,
                        &namespace::virtual_info(&user),
                        0,
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
fn selected_lines(view: &View) -> Vec<u8> {
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
    out.push_str(&format!("* {} EXISTS\r\n* 0 RECENT\r\n", view.exists()));
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
fn status_line(display: &str, info: &MailboxInfo, unseen: u32, items: &[StatusItem]) -> Vec<u8> {
    let mut out = b"* STATUS ".to_vec();
    response::mailbox(&mut out, display);
    let values: Vec<String> = items
        .iter()
        .map(|item| match item {
            StatusItem::Messages => format!("MESSAGES {}", info.messages),
            // \Recent is not kept (IMAP4rev2 dropped it): no message is recent.
            StatusItem::Recent => "RECENT 0".to_owned(),
            StatusItem::UidNext => format!("UIDNEXT {}", info.uid_next),
            StatusItem::UidValidity => format!("UIDVALIDITY {}", info.uid_validity),
            StatusItem::Unseen => format!("UNSEEN {unseen}"),
            StatusItem::Size => format!("SIZE {}", info.bytes),
        })
        .collect();
    out.extend_from_slice(format!(" ({})\r\n", values.join(" ")).as_bytes());
    out
}

/// One name LIST may answer with.
struct Entry {
    display: String,
    /// `None` for a virtual parent.
    mailbox: Option<Located>,
    subscribed: bool,
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
    let subscribed: BTreeSet<String> = store
        .subscriptions(user)?
        .into_iter()
        .map(|n| n.as_str().to_owned())
        .collect();
    let mut entries: Vec<Entry> = store
        .mailboxes(user)?
        .into_iter()
        .map(|info| Entry {
            display: info.name.to_string(),
            subscribed: subscribed.contains(info.name.as_str()),
            mailbox: Some(Located {
                display: info.name.to_string(),
                rights: mailhive_store::Rights::all(),
                shared: false,
                info,
            }),
        })
        .collect();
    let shared = namespace::shared(store, user)?;
    for parent in namespace::virtual_parents(&shared) {
        entries.push(Entry {
            display: parent,
            mailbox: None,
            subscribed: true,
        });
    }
    entries.extend(shared.into_iter().map(|located| Entry {
        display: located.display.clone(),
        mailbox: Some(located),
        subscribed: true,
    }));
    let names: BTreeSet<&str> = entries.iter().map(|e| e.display.as_str()).collect();
    let mut listed: Vec<&Entry> = entries
        .iter()
        .filter(|entry| {
            request
                .patterns
                .iter()
                .any(|p| matches(&format!("{}{p}", request.reference), &entry.display))
                && (!request.subscribed_only || entry.subscribed)
                && (!request.special_use_only || entry.special_use().is_some())
        })
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
        if entry.mailbox.is_none() && !fake {
            attributes.push("\\Noselect");
        }
        attributes.push(if has_children {
            "\\HasChildren"
        } else {
            "\\HasNoChildren"
        });
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
        match &entry.mailbox {
            Some(located) if located.rights.contains('r') => {
                let unseen = unseen_for(store, located, user)?;
                out.extend(status_line(
                    &entry.display,
                    &located.info,
                    unseen,
                    &request.status,
                ));
            }
            Some(_) => {}
            None if fake => {
                out.extend(status_line(
                    &entry.display,
                    &namespace::virtual_info(user),
                    0,
                    &request.status,
                ));
            }
            None => {}
        }
    }
    Ok((out, done))
}

impl Entry {
    /// The special use of the user's own mailbox (not shown for shared ones: another
    /// user's Sent is not the user's).
    fn special_use(&self) -> Option<mailhive_store::SpecialUse> {
        self.mailbox
            .as_ref()
            .filter(|m| !m.shared)
            .and_then(|m| m.info.special_use)
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
