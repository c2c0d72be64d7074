//! Administrative operations (accounts, import, sharing, settings, status) behind one
//! trait, [`Admin`],
//! with two ways to reach the store: directly (the store implements it) when no server
//! runs, or through the running server's local admin socket ([`client::AdminClient`]),
//! because sled lets one process at a time open a store. [`connect`] picks the right one.

pub mod client;
pub mod server;
pub(crate) mod wire;

use crate::config::{Config, ProtocolSettings};
use crate::delivery::stored_form;
use crate::export::{ExportSource, ExportedMessage};
use crate::limiter::Counts;
use crate::lmtp::recipient::destination;
use crate::settings::{self, Change};
use mailhive_store::{
    Appended, Duplicates, InternalDate, MailboxId, MailboxName, NewMessage, Quota, QuotaOverride,
    Refusal, Rights, Store, StoreError, Username,
};
use std::io;

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// The request was understood and declined; the text says why.
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("admin socket: {0}")]
    Socket(#[from] io::Error),
    #[error("admin socket: {0}")]
    Protocol(String),
    /// A delivery named an account that does not exist.
    #[error("{0}: no such user")]
    UnknownUser(String),
    /// The change would take the account past its quota (SPEC §7); the text names what.
    #[error("{0}: Quota exceeded")]
    OverQuota(String),
}

/// What an administrator can do to a store.
pub trait Admin {
    /// Creates an account, an administrator (SPEC §9) when `admin` is true.
    fn add_account(&self, user: &Username, password: &str, admin: bool) -> Result<(), AdminError>;
    /// Creates an account that is not an administrator.
    fn add_user(&self, user: &Username, password: &str) -> Result<(), AdminError> {
        self.add_account(user, password, false)
    }
    fn set_password(&self, user: &Username, password: &str) -> Result<(), AdminError>;
    /// Gives an account the admin flag, or takes it away.
    fn set_admin(&self, user: &Username, admin: bool) -> Result<(), AdminError>;
    fn remove_user(&self, user: &Username) -> Result<(), AdminError>;
    /// Every account and whether it is an administrator, sorted by name.
    fn users(&self) -> Result<Vec<(Username, bool)>, AdminError>;
    /// The mailbox an import writes to, created and subscribed if missing.
    fn import_target(
        &self,
        user: &Username,
        mailbox: &MailboxName,
    ) -> Result<MailboxId, AdminError>;
    /// Appends durably, leaving out duplicates with [`Duplicates::Skip`]; says how many
    /// messages were stored and which were left out.
    fn append(
        &self,
        mailbox: MailboxId,
        messages: &[NewMessage<'_>],
        duplicates: Duplicates,
    ) -> Result<AppendedBatch, AdminError>;
    /// Grants `rights` on `owner`'s `mailbox` to `grantee` (empty rights revoke).
    fn set_acl(
        &self,
        owner: &Username,
        mailbox: &MailboxName,
        grantee: &Username,
        rights: Rights,
    ) -> Result<(), AdminError>;
    /// Who holds which rights on `owner`'s `mailbox`, the owner first (every right).
    fn acl(
        &self,
        owner: &Username,
        mailbox: &MailboxName,
    ) -> Result<Vec<(String, Rights)>, AdminError>;
    /// The settings of `local.protocol`: a running server's own, or else `local` (this
    /// process's configuration of the protocol) with the persisted values on top.
    fn settings(&self, local: &ProtocolSettings) -> Result<ProtocolSettings, AdminError>;
    /// Checks and persists `change`, and returns the settings after it; a running
    /// server applies it at once.
    fn change_settings(
        &self,
        local: &ProtocolSettings,
        change: &Change,
    ) -> Result<ProtocolSettings, AdminError>;
    /// What the running server's Limiter counts now.
    fn status(&self) -> Result<Counts, AdminError>;
    /// Makes the running server read its TLS certificate and key again.
    fn reload_tls(&self) -> Result<(), AdminError>;
    /// The mailbox `export-mbox` reads.
    fn export_source(
        &self,
        user: &Username,
        mailbox: &MailboxName,
    ) -> Result<ExportSource, AdminError>;
    /// Up to [`crate::export::PAGE_MESSAGES`] messages of `mailbox` with UIDs above
    /// `after`, in UID order.
    fn export_page(
        &self,
        mailbox: MailboxId,
        after: u32,
    ) -> Result<Vec<ExportedMessage>, AdminError>;
    /// At most [`crate::export::PIECE_BYTES`] of message `uid`'s bytes from `offset`;
    /// `None` once the message is gone.
    fn read_message(
        &self,
        mailbox: MailboxId,
        uid: u32,
        offset: u32,
    ) -> Result<Option<Vec<u8>>, AdminError>;
    /// Delivers `raw` from `sender` to `user`'s `mailbox` (INBOX if it has none such)
    /// as LMTP does ([`crate::delivery`]); returns once it is durable.
    fn deliver(
        &self,
        user: &Username,
        mailbox: Option<&MailboxName>,
        sender: &str,
        raw: &[u8],
    ) -> Result<(), AdminError>;
    /// `user`'s quota usage and the limits in force.
    fn quota(&self, user: &Username) -> Result<Quota, AdminError>;
    /// Gives `user` the limits set in `change` (with `reset`, first drops its own limits,
    /// back to `[quota]`'s); returns the quota after it.
    fn change_quota(
        &self,
        user: &Username,
        change: QuotaOverride,
        reset: bool,
    ) -> Result<Quota, AdminError>;
}

/// What [`Admin::append`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppendedBatch {
    pub stored: usize,
    /// The positions, among the messages given, of the duplicates left out.
    pub duplicates: Vec<usize>,
}

fn refused(subject: impl std::fmt::Display, refusal: Refusal) -> AdminError {
    match refusal {
        Refusal::OverQuota => AdminError::OverQuota(subject.to_string()),
        refusal => AdminError::Refused(format!("{subject}: {refusal}")),
    }
}

/// Appends as the mailbox's owner (an import puts mail in someone's own mailbox).
fn append_as_owner(
    store: &Store,
    mailbox: MailboxId,
    messages: &[NewMessage<'_>],
    duplicates: Duplicates,
) -> Result<Appended, AdminError> {
    let owner = store
        .mailbox_by_id(mailbox)?
        .map(|info| info.owner)
        .ok_or_else(|| refused("append", Refusal::NoSuchMailbox))?;
    store
        .append_with(mailbox, messages, &owner, duplicates)?
        .map_err(|r| refused("append", r))
}

impl Admin for Store {
    fn add_account(&self, user: &Username, password: &str, admin: bool) -> Result<(), AdminError> {
        Store::add_account(self, user, password, admin)?.map_err(|r| refused(user, r))
    }

    fn set_password(&self, user: &Username, password: &str) -> Result<(), AdminError> {
        Store::set_password(self, user, password)?.map_err(|r| refused(user, r))
    }

    fn set_admin(&self, user: &Username, admin: bool) -> Result<(), AdminError> {
        Store::set_admin(self, user, admin)?.map_err(|r| refused(user, r))
    }

    fn remove_user(&self, user: &Username) -> Result<(), AdminError> {
        Store::remove_user(self, user)?.map_err(|r| refused(user, r))
    }

    fn users(&self) -> Result<Vec<(Username, bool)>, AdminError> {
        Ok(Store::accounts(self)?)
    }

    fn import_target(
        &self,
        user: &Username,
        mailbox: &MailboxName,
    ) -> Result<MailboxId, AdminError> {
        self.ensure_mailbox(user, mailbox)?.map_err(|r| match r {
            Refusal::NoSuchUser => refused(user, r),
            other => refused(format!("{user}/{mailbox}"), other),
        })
    }

    fn append(
        &self,
        mailbox: MailboxId,
        messages: &[NewMessage<'_>],
        duplicates: Duplicates,
    ) -> Result<AppendedBatch, AdminError> {
        let appended = append_as_owner(self, mailbox, messages, duplicates)?;
        Ok(AppendedBatch {
            stored: appended.uids.len(),
            duplicates: appended.duplicates,
        })
    }

    fn set_acl(
        &self,
        owner: &Username,
        mailbox: &MailboxName,
        grantee: &Username,
        rights: Rights,
    ) -> Result<(), AdminError> {
        if !self.user_exists(grantee)? {
            return Err(refused(grantee, Refusal::NoSuchUser));
        }
        let info = self
            .mailbox(owner, mailbox)?
            .ok_or_else(|| refused(format!("{owner}/{mailbox}"), Refusal::NoSuchMailbox))?;
        Store::set_acl(self, info.id, grantee.as_str(), rights)?.map_err(|r| refused(mailbox, r))
    }

    fn acl(
        &self,
        owner: &Username,
        mailbox: &MailboxName,
    ) -> Result<Vec<(String, Rights)>, AdminError> {
        let info = self
            .mailbox(owner, mailbox)?
            .ok_or_else(|| refused(format!("{owner}/{mailbox}"), Refusal::NoSuchMailbox))?;
        let mut entries = vec![(owner.to_string(), Rights::all())];
        entries.extend(info.acl);
        Ok(entries)
    }

    fn settings(&self, local: &ProtocolSettings) -> Result<ProtocolSettings, AdminError> {
        Ok(settings::effective(local, self)?)
    }

    fn change_settings(
        &self,
        local: &ProtocolSettings,
        change: &Change,
    ) -> Result<ProtocolSettings, AdminError> {
        settings::persist(self, local.protocol, change)?
            .map_err(|refused| AdminError::Refused(refused.0))?;
        Ok(settings::effective(local, self)?)
    }

    fn status(&self) -> Result<Counts, AdminError> {
        Err(AdminError::Refused("no server is running".into()))
    }

    fn reload_tls(&self) -> Result<(), AdminError> {
        Err(AdminError::Refused(
            "no server is running; it reads the certificate when it starts".into(),
        ))
    }

    fn export_source(
        &self,
        user: &Username,
        mailbox: &MailboxName,
    ) -> Result<ExportSource, AdminError> {
        crate::export::source_in(self, user, mailbox)
    }

    fn export_page(
        &self,
        mailbox: MailboxId,
        after: u32,
    ) -> Result<Vec<ExportedMessage>, AdminError> {
        Ok(crate::export::page_in(self, mailbox, after)?)
    }

    fn read_message(
        &self,
        mailbox: MailboxId,
        uid: u32,
        offset: u32,
    ) -> Result<Option<Vec<u8>>, AdminError> {
        Ok(crate::export::piece_in(self, mailbox, uid, offset)?)
    }

    fn deliver(
        &self,
        user: &Username,
        mailbox: Option<&MailboxName>,
        sender: &str,
        raw: &[u8],
    ) -> Result<(), AdminError> {
        let destination = destination(self, user.clone(), mailbox, user.as_str())?
            .ok_or_else(|| AdminError::UnknownUser(user.to_string()))?;
        let message = NewMessage {
            raw: &stored_form(sender, &destination.address, raw),
            flags: Default::default(),
            internal_date: InternalDate::now(),
        };
        match append_as_owner(self, destination.mailbox, &[message], Duplicates::Store) {
            Ok(_) => Ok(()),
            Err(AdminError::OverQuota(_)) => Err(AdminError::OverQuota(user.to_string())),
            Err(e) => Err(e),
        }
    }

    fn quota(&self, user: &Username) -> Result<Quota, AdminError> {
        Store::quota(self, user)?.map_err(|r| refused(user, r))
    }

    fn change_quota(
        &self,
        user: &Username,
        change: QuotaOverride,
        reset: bool,
    ) -> Result<Quota, AdminError> {
        Store::change_quota(self, user, change, reset)?.map_err(|r| refused(user, r))
    }
}

/// The running server's admin socket if it answers, otherwise the store itself.
pub fn connect(config: &Config) -> Result<Box<dyn Admin>, AdminError> {
    let socket = config.admin_socket();
    if let Ok(client) = client::AdminClient::connect(&socket) {
        return Ok(Box::new(client));
    }
    match crate::engine::open_store(config) {
        Ok(store) => {
            store.set_default_quota(config.quota);
            Ok(Box::new(store))
        }
        Err(e) => Err(AdminError::Refused(format!(
            "cannot open the store at {} ({e}); if a server is running, its admin socket {} does not answer",
            crate::engine::describe(config),
            socket.display()
        ))),
    }
}
