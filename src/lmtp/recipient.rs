//! Which account and mailbox an RCPT TO address delivers to (SPEC §8): the whole
//! address if an account has that name, else the local part without its detail when
//! the domain is accepted; the detail names a mailbox of the account when one exists,
//! else the message goes to INBOX.

use crate::config::LmtpConfig;
use mailhive_store::{MailboxId, MailboxName, Store, StoreError, Username};

/// Where one recipient's copy goes.
#[derive(Debug, Clone)]
pub struct Destination {
    /// The address as given in RCPT TO, without brackets (for Delivered-To and replies).
    pub address: String,
    pub owner: Username,
    pub mailbox: MailboxId,
}

/// The destination of `address`, or `None` when no account takes it.
pub fn resolve(
    store: &Store,
    config: &LmtpConfig,
    address: &str,
) -> Result<Option<Destination>, StoreError> {
    if let Some(owner) = account(store, address)? {
        return destination(store, owner, None, address);
    }
    let (local, domain) = match address.rsplit_once('@') {
        Some((local, domain)) => (local, Some(domain)),
        None => (address, None),
    };
    let accepted = match domain {
        Some(domain) => {
            config.domains.is_empty()
                || config
                    .domains
                    .iter()
                    .any(|d| d.eq_ignore_ascii_case(domain))
        }
        None => true,
    };
    if !accepted {
        return Ok(None);
    }
    let (name, detail) = match config.detail_separator.and_then(|c| local.split_once(c)) {
        Some((name, detail)) => (name, Some(detail)),
        None => (local, None),
    };
    let detail = detail.and_then(|d| MailboxName::parse(d).ok());
    match account(store, name)? {
        Some(owner) => destination(store, owner, detail.as_ref(), address),
        None => Ok(None),
    }
}

/// Where a message for `owner` goes: `mailbox` if the account has it, else INBOX;
/// `address` is what Delivered-To will say. `None` when the account went meanwhile.
pub fn destination(
    store: &Store,
    owner: Username,
    mailbox: Option<&MailboxName>,
    address: &str,
) -> Result<Option<Destination>, StoreError> {
    let Some(mailbox) = existing_or_inbox(store, &owner, mailbox)? else {
        return Ok(None);
    };
    Ok(Some(Destination {
        address: address.to_owned(),
        owner,
        mailbox,
    }))
}

/// The account named `name`, if it exists.
fn account(store: &Store, name: &str) -> Result<Option<Username>, StoreError> {
    let Ok(user) = Username::parse(name) else {
        return Ok(None);
    };
    Ok(store.user_exists(&user)?.then_some(user))
}

/// `mailbox` if `owner` has it, else INBOX (made again if it was renamed away and not
/// yet recreated); `None` only when the account went meanwhile.
fn existing_or_inbox(
    store: &Store,
    owner: &Username,
    mailbox: Option<&MailboxName>,
) -> Result<Option<MailboxId>, StoreError> {
    if let Some(name) = mailbox {
        if let Some(info) = store.mailbox(owner, name)? {
            return Ok(Some(info.id));
        }
    }
    if let Some(info) = store.mailbox(owner, &MailboxName::inbox())? {
        return Ok(Some(info.id));
    }
    Ok(store.ensure_mailbox(owner, &MailboxName::inbox())?.ok())
}
