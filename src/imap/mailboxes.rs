//! Commands on mailboxes: SELECT/EXAMINE, CLOSE/UNSELECT, CREATE, DELETE, RENAME,
//! SUBSCRIBE/UNSUBSCRIBE, LIST/LSUB (with the SPECIAL-USE and CHILDREN attributes and
//! LIST-STATUS returns) and STATUS, over the user's personal namespace.

use super::session::{ImapSession, Work};
use super::view::View;
use crate::mailbox::{blocking, Change, Changes};
use actix::prelude::*;
use mailhive_protocol::imap::command::StatusItem;
use mailhive_protocol::imap::response::{self, Status};
use mailhive_store::{MailboxInfo, MailboxName, Outcome, Store, StoreError, Username};
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

impl ImapSession {
    /// Runs a mailbox-level store operation on the blocking pool and answers OK, or NO
    /// with the refusal.
    fn mailbox_change(
        &mut self,
        tag: String,
        done: &'static str,
        operation: impl FnOnce(&Store, &Username) -> Outcome<()> + Send + 'static,
    ) -> Work {
        let store = self.store().clone();
        let user = self.user();
        Box::pin(
            blocking(move || operation(&store, &user))
                .into_actor(self)
                .then(move |result, act, _| match result {
                    Ok(Ok(())) => act.ok(&tag, done),
                    Ok(Err(refusal)) => act.refused(&tag, &refusal),
                    Err(e) => act.failed(&tag, &e),
                }),
        )
    }

    pub(super) fn create_mailbox(&mut self, tag: String, name: String) -> Work {
        // A trailing delimiter only says the client means to create children later.
        let name = match MailboxName::parse(name.trim_end_matches('/')) {
            Ok(name) => name,
            Err(reason) => return self.no(&tag, Some("CANNOT"), reason),
        };
        self.mailbox_change(tag, "CREATE completed", move |store, user| {
            Ok(store.create_mailbox(user, &name, None)?.map(|_| ()))
        })
    }

    pub(super) fn delete_mailbox(&mut self, tag: String, name: String) -> Work {
        let name = match MailboxName::parse(&name) {
            Ok(name) => name,
            Err(reason) => return self.no(&tag, Some("NONEXISTENT"), reason),
        };
        if self.selected.as_ref().is_some_and(|v| v.info.name == name) {
            return self.no(
                &tag,
                Some("INUSE"),
                "Cannot delete the selected mailbox; close it first",
            );
        }
        self.mailbox_change(tag, "DELETE completed", move |store, user| {
            store.delete_mailbox(user, &name)
        })
    }

    pub(super) fn rename_mailbox(&mut self, tag: String, from: String, to: String) -> Work {
        let (from, to) = match (MailboxName::parse(&from), MailboxName::parse(&to)) {
            (Ok(from), Ok(to)) => (from, to),
            (Err(reason), _) => return self.no(&tag, Some("NONEXISTENT"), reason),
            (_, Err(reason)) => return self.no(&tag, Some("CANNOT"), reason),
        };
        self.mailbox_change(tag, "RENAME completed", move |store, user| {
            store.rename_mailbox(user, &from, &to)
        })
    }

    pub(super) fn subscribe(&mut self, tag: String, name: String, subscribe: bool) -> Work {
        let name = match MailboxName::parse(&name) {
            Ok(name) => name,
            Err(reason) => return self.no(&tag, Some("CANNOT"), reason),
        };
        if subscribe {
            self.mailbox_change(tag, "SUBSCRIBE completed", move |store, user| {
                store.subscribe(user, &name)
            })
        } else {
            self.mailbox_change(tag, "UNSUBSCRIBE completed", move |store, user| {
                store.unsubscribe(user, &name)
            })
        }
    }

    pub(super) fn select(
        &mut self,
        tag: String,
        name: String,
        read_only: bool,
        recipient: Recipient<Changes>,
    ) -> Work {
        if let Some(view) = self.selected.take() {
            self.context.registry.unwatch(view.id(), self.id);
        }
        let name = match MailboxName::parse(&name) {
            Ok(name) => name,
            Err(reason) => return self.no(&tag, Some("NONEXISTENT"), reason),
        };
        let store = self.store().clone();
        let user = self.user();
        let registry = self.context.registry.clone();
        let watcher = self.id;
        let open = async move {
            let Some(info) = blocking(move || store.mailbox(&user, &name)).await? else {
                return Ok(None);
            };
            let snapshot = registry.watch(info.id, watcher, recipient).await?;
            Ok::<_, crate::mailbox::MailboxError>(Some(View::new(info, read_only, snapshot)))
        };
        Box::pin(
            open.into_actor(self)
                .then(move |result, act, _| match result {
                    Ok(Some(view)) => {
                        let out = selected_lines(&view);
                        let code = if view.read_only {
                            "READ-ONLY"
                        } else {
                            "READ-WRITE"
                        };
                        act.selected = Some(view);
                        let mut answer = out;
                        answer.extend(response::status(
                            Some(&tag),
                            Status::Ok,
                            Some(code),
                            if read_only {
                                "EXAMINE completed"
                            } else {
                                "SELECT completed"
                            },
                        ));
                        act.send(answer)
                    }
                    Ok(None) => act.no(&tag, Some("NONEXISTENT"), "No such mailbox"),
                    Err(e) => act.failed(&tag, &e),
                }),
        )
    }

    /// CLOSE (`expunge` true: removes \Deleted messages first, silently) or UNSELECT.
    pub(super) fn close_mailbox(&mut self, tag: String, expunge: bool) -> Work {
        let Some(view) = self.selected.take() else {
            return self.bad(&tag, "No mailbox selected");
        };
        self.context.registry.unwatch(view.id(), self.id);
        if !expunge || view.read_only {
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

    pub(super) fn status(&mut self, tag: String, name: String, items: Vec<StatusItem>) -> Work {
        let name = match MailboxName::parse(&name) {
            Ok(name) => name,
            Err(reason) => return self.no(&tag, Some("NONEXISTENT"), reason),
        };
        let store = self.store().clone();
        let user = self.user();
        Box::pin(
            blocking(move || store.mailbox(&user, &name))
                .into_actor(self)
                .then(move |result, act, _| match result {
                    Ok(Some(info)) => {
                        let out = status_line(&info, &items);
                        act.ok_with(out, &tag, "STATUS completed")
                    }
                    Ok(None) => act.no(&tag, Some("NONEXISTENT"), "No such mailbox"),
                    Err(e) => act.failed(&tag, &e),
                }),
        )
    }

    pub(super) fn list(&mut self, tag: String, request: ListRequest) -> Work {
        let store = self.store().clone();
        let user = self.user();
        Box::pin(
            blocking(move || list_lines(&store, &user, &request))
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
fn status_line(info: &MailboxInfo, items: &[StatusItem]) -> Vec<u8> {
    let mut out = b"* STATUS ".to_vec();
    response::mailbox(&mut out, info.name.as_str());
    let values: Vec<String> = items
        .iter()
        .map(|item| match item {
            StatusItem::Messages => format!("MESSAGES {}", info.messages),
            // \Recent is not kept (IMAP4rev2 dropped it): no message is recent.
            StatusItem::Recent => "RECENT 0".to_owned(),
            StatusItem::UidNext => format!("UIDNEXT {}", info.uid_next),
            StatusItem::UidValidity => format!("UIDVALIDITY {}", info.uid_validity),
            StatusItem::Unseen => format!("UNSEEN {}", info.unseen),
            StatusItem::Size => format!("SIZE {}", info.bytes),
        })
        .collect();
    out.extend_from_slice(format!(" ({})\r\n", values.join(" ")).as_bytes());
    out
}

/// The LIST or LSUB lines, and the tagged text.
fn list_lines(
    store: &Arc<Store>,
    user: &Username,
    request: &ListRequest,
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
    let mailboxes = store.mailboxes(user)?;
    let subscribed: BTreeSet<String> = store
        .subscriptions(user)?
        .into_iter()
        .map(|n| n.as_str().to_owned())
        .collect();
    let names: BTreeSet<&str> = mailboxes.iter().map(|m| m.name.as_str()).collect();
    let mut listed: Vec<&MailboxInfo> = Vec::new();
    for info in &mailboxes {
        let name = info.name.as_str();
        let matched = request
            .patterns
            .iter()
            .any(|p| matches(&format!("{}{p}", request.reference), name));
        if !matched
            || (request.subscribed_only && !subscribed.contains(name))
            || (request.special_use_only && info.special_use.is_none())
        {
            continue;
        }
        listed.push(info);
    }
    // INBOX first, then by name.
    listed.sort_by_key(|m| (!m.name.is_inbox(), m.name.as_str().to_owned()));
    for info in listed {
        let name = info.name.as_str();
        let prefix = format!("{name}/");
        let has_children = names
            .range(prefix.as_str()..)
            .next()
            .is_some_and(|n| n.starts_with(&prefix));
        let mut attributes = vec![if has_children {
            "\\HasChildren"
        } else {
            "\\HasNoChildren"
        }];
        if let Some(special) = info.special_use {
            attributes.push(special.attribute());
        }
        if request.subscribed_only && !request.lsub {
            attributes.push("\\Subscribed");
        }
        out.extend_from_slice(format!("* {word} ({}) \"/\" ", attributes.join(" ")).as_bytes());
        response::mailbox(&mut out, name);
        out.extend_from_slice(b"\r\n");
        if !request.status.is_empty() {
            out.extend(status_line(info, &request.status));
        }
    }
    Ok((out, done))
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
