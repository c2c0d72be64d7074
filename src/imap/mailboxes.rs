//! Commands on mailboxes: SELECT/EXAMINE, CLOSE/UNSELECT, CREATE, DELETE, RENAME,
//! SUBSCRIBE/UNSUBSCRIBE, LIST/LSUB (answered by [`super::list`]) and STATUS, over the user's own namespace and the mailboxes
//! other users share with them (`#users/…`, see [`super::namespace`]), each checking
//! the rights it needs (RFC 4314 §4).
//!
//! Choices where the RFCs leave room: shared mailboxes are always subscribed (SUBSCRIBE
//! and UNSUBSCRIBE of one succeed and change nothing), cannot be renamed, and are
//! created in only under a parent with the `k` right (the new mailbox gets the parent's
//! rights); virtual parents are `\Noselect`, or with FakeInaccessibleMailboxes empty
//! read-only mailboxes.

use super::condstore;
use super::list::{self, ListRequest};
use super::namespace::{self, find, Found, Name};
use super::session::{ImapSession, Work};
use super::status;
use super::view::View;
use crate::config::Setting;
use crate::mailbox::{blocking, Change, Inbox};
use actix::prelude::*;
use mailhive_protocol::imap::command::{Qresync, StatusItem};
use mailhive_protocol::imap::response::{self, Status};
use mailhive_store::{SpecialUse, Store, StoreError, Username};
use std::sync::Arc;

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

    pub(super) fn create_mailbox(
        &mut self,
        user: Username,
        tag: String,
        text: String,
        special_use: Vec<String>,
    ) -> Work {
        // A trailing delimiter only says the client means to create children later.
        let (owner, name) = match namespace::parse(text.trim_end_matches('/'), &user) {
            Ok(Name::Mailbox { owner, name }) => (owner, name),
            Ok(Name::Shared(_)) => return self.no(&tag, Some("CANNOT"), "Cannot create that"),
            Err(reason) => return self.no(&tag, Some("CANNOT"), reason),
        };
        let special_use = match one_special_use(&special_use) {
            Ok(special_use) => special_use,
            Err(reason) => return self.no(&tag, Some("USEATTR"), reason),
        };
        if owner == user {
            return self.mailbox_change(tag, "CREATE completed", move |store| {
                Ok(store
                    .create_mailbox(&owner, &name, special_use, &user)?
                    .map(|_| ()))
            });
        }
        if special_use.is_some() {
            return self.no(
                &tag,
                Some("USEATTR"),
                "Special uses are for the user's own mailboxes",
            );
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
        if view.watched() {
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
        inbox: Arc<Inbox>,
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
                    .watch(id, watcher, inbox.clone(), user, read_only)
                    .await?;
                let view = View::new(located, read_only, snapshot, watcher, Some(inbox));
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
            if view.watched() {
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
        let names = self.names();
        let store = self.store().clone();
        let answer =
            move || -> Result<Result<Vec<u8>, (&'static str, &'static str)>, StoreError> {
                Ok(match find(&store, &user, name)? {
                    Found::Mailbox(located) if located.rights.contains('r') => Ok(
                        status::mailbox_status(&store, &user, &located, &items, names)?,
                    ),
                    Found::Mailbox(_) => Err(("NOPERM", PERMISSION_DENIED)),
                    Found::Virtual(display) if fake => {
                        Ok(status::virtual_status(&display, &user, &items, names))
                    }
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
        let names = self.names();
        Box::pin(
            blocking(move || list::answer(&store, &user, &request, fake, names))
                .into_actor(self)
                .then(move |result, act, _| match result {
                    Ok((out, done)) => act.ok_with(out, &tag, done),
                    Err(e) => act.failed(&tag, &e),
                }),
        )
    }
}

/// The special use CREATE's USE parameter names (RFC 6154 §3): one a mailbox, as the
/// store keeps it, and none of the virtual ones (`\All`, `\Flagged`: mailhive has no
/// virtual mailboxes).
fn one_special_use(attributes: &[String]) -> Result<Option<SpecialUse>, &'static str> {
    let [attribute] = attributes else {
        return match attributes {
            [] => Ok(None),
            _ => Err("A mailbox takes one special use"),
        };
    };
    match SpecialUse::from_attribute(attribute) {
        Some(SpecialUse::All | SpecialUse::Flagged) | None => Err("Unsupported special use"),
        Some(special_use) => Ok(Some(special_use)),
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
