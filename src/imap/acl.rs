//! The ACL commands of RFC 4314: SETACL, DELETEACL, GETACL, LISTRIGHTS and MYRIGHTS.
//! Identifiers are account names (`anyone` is not offered); the owner always holds
//! every right, which cannot be changed. Every command but MYRIGHTS needs the `a` right;
//! a mailbox the user may not see is answered as one that does not exist.

use super::mailboxes::PERMISSION_DENIED;
use super::namespace::{self, Found};
use super::session::{ImapSession, Work};
use crate::mailbox::blocking;
use actix::prelude::*;
use mailhive_protocol::imap::command::RightsChange;
use mailhive_protocol::imap::mutf7::MailboxEncoding;
use mailhive_protocol::imap::response;
use mailhive_store::{Refusal, Rights, Username};

/// What an ACL command does once the mailbox is found and the user may administer it.
#[derive(Debug)]
pub enum AclCommand {
    Set {
        identifier: String,
        rights: RightsChange,
    },
    Delete {
        identifier: String,
    },
    Get,
    ListRights {
        identifier: String,
    },
    MyRights,
}

/// The rights a SETACL leaves `current` with.
fn changed(current: Rights, change: &RightsChange) -> Result<Rights, char> {
    Ok(match change {
        RightsChange::Replace(letters) => Rights::parse(letters)?,
        RightsChange::Add(letters) => current.with(Rights::parse(letters)?),
        RightsChange::Remove(letters) => current.without(Rights::parse(letters)?),
    })
}

/// `* NAME mailbox word word…`: the mailbox in the session's encoding, each word
/// (identifiers, rights) an astring, so that client input never goes out raw.
fn untagged(name: &str, (mailbox, names): (&str, MailboxEncoding), words: &[&str]) -> Vec<u8> {
    let mut line = format!("* {name} ").into_bytes();
    response::mailbox(&mut line, mailbox, names);
    for word in words {
        line.push(b' ');
        response::astring(&mut line, word.as_bytes());
    }
    line.extend_from_slice(b"\r\n");
    line
}

impl ImapSession {
    pub(super) fn acl(
        &mut self,
        user: Username,
        tag: String,
        mailbox: String,
        command: AclCommand,
    ) -> Work {
        let name = match namespace::parse(&mailbox, &user) {
            Ok(name) => name,
            Err(reason) => return self.no(&tag, Some("NONEXISTENT"), reason),
        };
        self.with_found(&user, tag, name, move |act, tag, found| {
            let Found::Mailbox(located) = found else {
                return act.no(&tag, Some("NONEXISTENT"), "No such mailbox");
            };
            let display = located.display.clone();
            let display = (display.as_str(), act.names());
            let owner = located.info.owner.clone();
            if !matches!(command, AclCommand::MyRights) && !located.rights.contains('a') {
                return act.no(&tag, Some("NOPERM"), PERMISSION_DENIED);
            }
            let granted = |who: &str| {
                located
                    .info
                    .acl
                    .iter()
                    .find(|(grantee, _)| grantee == who)
                    .map(|&(_, rights)| rights)
                    .unwrap_or_default()
            };
            let (identifier, rights) = match command {
                AclCommand::MyRights => {
                    let line = untagged("MYRIGHTS", display, &[&located.rights.to_string()]);
                    return act.ok_with(line, &tag, "MYRIGHTS completed");
                }
                AclCommand::Get => {
                    let mut words = vec![owner.to_string(), Rights::all().to_string()];
                    for (grantee, rights) in &located.info.acl {
                        words.extend([grantee.to_string(), rights.to_string()]);
                    }
                    let words: Vec<&str> = words.iter().map(String::as_str).collect();
                    let line = untagged("ACL", display, &words);
                    return act.ok_with(line, &tag, "GETACL completed");
                }
                AclCommand::ListRights { identifier } => {
                    let line = if identifier.eq_ignore_ascii_case(owner.as_str()) {
                        let all = Rights::all().to_string();
                        untagged("LISTRIGHTS", display, &[&identifier, &all])
                    } else {
                        let each: Vec<String> = Rights::LETTERS.chars().map(String::from).collect();
                        let mut words = vec![identifier.as_str(), ""];
                        words.extend(each.iter().map(String::as_str));
                        untagged("LISTRIGHTS", display, &words)
                    };
                    return act.ok_with(line, &tag, "LISTRIGHTS completed");
                }
                AclCommand::Delete { identifier } => (identifier, Ok(Rights::default())),
                AclCommand::Set { identifier, rights } => {
                    let current = granted(&identifier.to_ascii_lowercase());
                    (identifier, changed(current, &rights))
                }
            };
            let rights = match rights {
                Ok(rights) => rights,
                Err(letter) => return act.bad(&tag, &format!("{letter:?} is not a right")),
            };
            let grantee = match Username::parse(&identifier) {
                Ok(grantee) if grantee == owner => {
                    return act.no(&tag, Some("CANNOT"), "The owner's rights cannot be changed")
                }
                Ok(grantee) => grantee,
                Err(_) => return act.no(&tag, Some("CANNOT"), "No such user"),
            };
            let store = act.store().clone();
            let id = located.info.id;
            let change = move || {
                if !store.user_exists(&grantee)? {
                    return Ok(Err(Refusal::NoSuchUser));
                }
                store.set_acl(id, grantee.as_str(), rights)
            };
            Box::pin(
                blocking(change)
                    .into_actor(act)
                    .then(move |result, act, _| match result {
                        Ok(Ok(())) => act.ok(&tag, "ACL changed"),
                        Ok(Err(refusal)) => act.refused(&tag, &refusal),
                        Err(e) => act.failed(&tag, &e),
                    }),
            )
        })
    }
}
