//! The namespaces of SPEC §5: a user's own mailboxes under `""`, and other users'
//! mailboxes shared with them under `#users/Owner/…` (RFC 2342's "other users"), with
//! virtual parents — `#users`, `#users/Owner`, and any level between an owner and what
//! they share — that exist only because something below them is visible.
//!
//! Visibility is the `l` right (RFC 4314): a mailbox without it is answered exactly like
//! one that does not exist, so that probing names tells nothing. Names are names, never
//! paths: an owner is an account name and the rest a [`MailboxName`], which refuses
//! `..`, wildcards and control characters, so no name reaches another user's data.

use super::session::{ImapSession, Work};
use crate::mailbox::blocking;
use actix::prelude::*;
use mailhive_store::{MailboxId, MailboxInfo, MailboxName, Rights, Store, StoreError, Username};
use std::collections::BTreeSet;

/// The prefix of other users' namespace, without its delimiter.
pub const SHARED_ROOT: &str = "#users";

/// What a mailbox name from a client stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Name {
    /// A mailbox of `owner` (the user's own when the owner is the user).
    Mailbox { owner: Username, name: MailboxName },
    /// A name at or above an owner in the shared namespace (`#users`, `#users/karen`,
    /// `#users/karen/Projects` when only `Projects/2026` is shared): only ever a
    /// virtual parent.
    Shared(String),
}

/// Reads a name given by `user`.
pub fn parse(text: &str, user: &Username) -> Result<Name, &'static str> {
    let Some(rest) = text.strip_prefix(SHARED_ROOT) else {
        return Ok(Name::Mailbox {
            owner: user.clone(),
            name: MailboxName::parse(text)?,
        });
    };
    let rest = match rest {
        "" | "/" => return Ok(Name::Shared(SHARED_ROOT.to_owned())),
        _ => rest.strip_prefix('/').ok_or("no such mailbox")?,
    };
    let (owner, path) = rest.split_once('/').unwrap_or((rest, ""));
    let owner = Username::parse(owner).map_err(|_| "no such mailbox")?;
    if path.is_empty() {
        return Ok(Name::Shared(format!("{SHARED_ROOT}/{owner}")));
    }
    let name = MailboxName::parse(path)?;
    Ok(Name::Mailbox { owner, name })
}

/// Where `owner`'s mailbox `name` appears to `user`.
pub fn display(owner: &Username, name: &MailboxName, user: &Username) -> String {
    if owner == user {
        name.to_string()
    } else {
        format!("{SHARED_ROOT}/{owner}/{name}")
    }
}

/// The rights `user` holds on `info`: every right on their own mailboxes.
pub fn rights_of(info: &MailboxInfo, user: &Username) -> Rights {
    if &info.owner == user {
        return Rights::all();
    }
    info.acl
        .iter()
        .find(|(who, _)| who == user.as_str())
        .map(|&(_, rights)| rights)
        .unwrap_or_default()
}

/// A mailbox as one user reaches it.
#[derive(Debug, Clone)]
pub struct Located {
    pub info: MailboxInfo,
    pub rights: Rights,
    /// The name the user knows it by.
    pub display: String,
    /// The user reaches it as someone it is shared with: their \Seen is their own
    /// (see `mailhive_store::seen`).
    pub shared: bool,
}

/// `owner`'s mailbox `name` as `user` sees it; `None` when it does not exist or the user
/// may not see it.
pub fn locate(
    store: &Store,
    user: &Username,
    owner: &Username,
    name: &MailboxName,
) -> Result<Option<Located>, StoreError> {
    let Some(info) = store.mailbox(owner, name)? else {
        return Ok(None);
    };
    let rights = rights_of(&info, user);
    if !rights.contains('l') {
        return Ok(None);
    }
    Ok(Some(Located {
        display: display(owner, name, user),
        shared: owner != user,
        info,
        rights,
    }))
}

/// A virtual parent as a mailbox: no messages, no id of a real one.
pub fn virtual_info(owner: &Username) -> MailboxInfo {
    MailboxInfo {
        id: MailboxId(0),
        owner: owner.clone(),
        name: MailboxName::inbox(),
        uid_validity: 1,
        uid_next: 1,
        highest_modseq: 1,
        messages: 0,
        unseen: 0,
        bytes: 0,
        special_use: None,
        keywords: Vec::new(),
        acl: Vec::new(),
    }
}

/// The mailboxes other users share with `user` that the user may see.
pub fn shared(store: &Store, user: &Username) -> Result<Vec<Located>, StoreError> {
    Ok(store
        .shared_with(user.as_str())?
        .into_iter()
        .filter(|(info, rights)| rights.contains('l') && &info.owner != user)
        .map(|(info, rights)| Located {
            display: display(&info.owner, &info.name, user),
            shared: true,
            info,
            rights,
        })
        .collect())
}

/// The virtual parents of `shared` mailboxes: every level above each of them, from
/// `#users` down, that is not itself a visible mailbox.
pub fn virtual_parents(shared: &[Located]) -> BTreeSet<String> {
    let visible: BTreeSet<&str> = shared.iter().map(|m| m.display.as_str()).collect();
    let mut parents = BTreeSet::new();
    for mailbox in shared {
        let mut end = 0;
        while let Some(slash) = mailbox.display[end..].find('/') {
            end += slash;
            let parent = &mailbox.display[..end];
            if !visible.contains(parent) {
                parents.insert(parent.to_owned());
            }
            end += 1;
        }
    }
    parents
}

/// What a mailbox name stands for, for the user who gave it.
#[derive(Debug)]
pub enum Found {
    Mailbox(Located),
    /// A virtual parent the user may see (its name).
    Virtual(String),
    /// Nothing the user may see: answered as a mailbox that does not exist.
    Nothing,
}

/// Finds what `name` stands for `user` (on the blocking pool).
pub fn find(store: &Store, user: &Username, name: Name) -> Result<Found, StoreError> {
    let wanted = match name {
        Name::Mailbox { owner, name } => {
            if let Some(located) = locate(store, user, &owner, &name)? {
                return Ok(Found::Mailbox(located));
            }
            if &owner == user {
                return Ok(Found::Nothing);
            }
            display(&owner, &name, user)
        }
        Name::Shared(wanted) => wanted,
    };
    let visible = shared(store, user)?;
    Ok(if virtual_parents(&visible).contains(&wanted) {
        Found::Virtual(wanted)
    } else {
        Found::Nothing
    })
}

impl ImapSession {
    /// Finds what `name` stands for, then continues with `then` on the session.
    pub(super) fn with_found(
        &mut self,
        user: &Username,
        tag: String,
        name: Name,
        then: impl FnOnce(&mut Self, String, Found) -> Work + 'static,
    ) -> Work {
        let store = self.store().clone();
        let user = user.clone();
        Box::pin(
            blocking(move || find(&store, &user, name))
                .into_actor(self)
                .then(move |found, act, _| match found {
                    Ok(found) => then(act, tag, found),
                    Err(e) => act.failed(&tag, &e),
                }),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(name: &str) -> Username {
        Username::parse(name).unwrap()
    }

    #[test]
    fn names_in_both_namespaces() {
        let alice = user("alice");
        assert_eq!(
            parse("Work/2026", &alice),
            Ok(Name::Mailbox {
                owner: alice.clone(),
                name: MailboxName::parse("Work/2026").unwrap()
            })
        );
        assert_eq!(
            parse("#users/Karen/inbox", &alice),
            Ok(Name::Mailbox {
                owner: user("karen"),
                name: MailboxName::parse("INBOX").unwrap()
            })
        );
        assert_eq!(parse("#users", &alice), Ok(Name::Shared("#users".into())));
        assert_eq!(
            parse("#users/karen", &alice),
            Ok(Name::Shared("#users/karen".into()))
        );
        for hostile in [
            "#users/karen/../bob/INBOX",
            "#users/../x",
            "#users/ka*en/INBOX",
            "#usersx",
            "#users/karen/a\u{0}b",
            "../INBOX",
        ] {
            assert!(parse(hostile, &alice).is_err(), "{hostile:?} accepted");
        }
    }

    #[test]
    fn virtual_parents_are_every_level_above_what_is_shared() {
        let alice = user("alice");
        let shared = |owner: &str, name: &str| Located {
            info: MailboxInfo {
                name: MailboxName::parse(name).unwrap(),
                ..virtual_info(&user(owner))
            },
            rights: Rights::parse("lr").unwrap(),
            display: display(&user(owner), &MailboxName::parse(name).unwrap(), &alice),
            shared: true,
        };
        let parents = virtual_parents(&[
            shared("karen", "INBOX"),
            shared("karen", "Projects/2026"),
            shared("bob", "Lists"),
        ]);
        let parents: Vec<&str> = parents.iter().map(String::as_str).collect();
        assert_eq!(
            parents,
            [
                "#users",
                "#users/bob",
                "#users/karen",
                "#users/karen/Projects"
            ]
        );
    }
}
