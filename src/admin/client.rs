//! The admin socket's client side: a blocking Unix-socket connection that implements
//! [`Admin`] by sending one request and reading one response at a time.

use super::wire::{
    change_to_wire, decode, encode, flags_to_wire, frame_len, settings_from_wire, Request,
    Response, WireMessage,
};
use super::{Admin, AdminError, AppendedBatch};
use crate::config::ProtocolSettings;
use crate::export::{ExportSource, ExportedMessage};
use crate::limiter::Counts;
use crate::settings::Change;
use mailhive_store::{
    Duplicates, MailboxId, MailboxName, NewMessage, Quota, QuotaOverride, Rights, Username,
};
use std::cell::RefCell;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;

#[derive(Debug)]
pub struct AdminClient {
    /// One request at a time: a response always follows its request on this stream.
    stream: RefCell<UnixStream>,
}

impl AdminClient {
    pub fn connect(socket: &Path) -> std::io::Result<Self> {
        Ok(AdminClient {
            stream: RefCell::new(UnixStream::connect(socket)?),
        })
    }

    fn call(&self, request: &Request) -> Result<Response, AdminError> {
        let mut stream = self.stream.borrow_mut();
        stream.write_all(&encode(request)?)?;
        let mut header = [0u8; 4];
        stream.read_exact(&mut header)?;
        let mut body = vec![0u8; frame_len(header)?];
        stream.read_exact(&mut body)?;
        match decode(&body)? {
            Response::Refused(text) => Err(AdminError::Refused(text)),
            Response::UnknownUser(name) => Err(AdminError::UnknownUser(name)),
            Response::OverQuota(subject) => Err(AdminError::OverQuota(subject)),
            Response::Failed(text) => {
                Err(AdminError::Protocol(format!("the server failed: {text}")))
            }
            other => Ok(other),
        }
    }

    fn expect_done(&self, request: &Request) -> Result<(), AdminError> {
        match self.call(request)? {
            Response::Done => Ok(()),
            other => Err(unexpected(other)),
        }
    }
}

fn unexpected(response: Response) -> AdminError {
    // Settings lists are long; say what kind of answer came, not all of it.
    if let Response::Settings(entries) = &response {
        return AdminError::Protocol(format!("unexpected settings list of {}", entries.len()));
    }
    AdminError::Protocol(format!("unexpected answer {response:?}"))
}

impl Admin for AdminClient {
    fn add_account(&self, user: &Username, password: &str, admin: bool) -> Result<(), AdminError> {
        self.expect_done(&Request::AddUser {
            user: user.to_string(),
            password: password.to_owned(),
            admin,
        })
    }

    fn set_admin(&self, user: &Username, admin: bool) -> Result<(), AdminError> {
        self.expect_done(&Request::SetAdmin {
            user: user.to_string(),
            admin,
        })
    }

    fn set_password(&self, user: &Username, password: &str) -> Result<(), AdminError> {
        self.expect_done(&Request::SetPassword {
            user: user.to_string(),
            password: password.to_owned(),
        })
    }

    fn remove_user(&self, user: &Username) -> Result<(), AdminError> {
        self.expect_done(&Request::RemoveUser {
            user: user.to_string(),
        })
    }

    fn users(&self) -> Result<Vec<(Username, bool)>, AdminError> {
        match self.call(&Request::Users)? {
            Response::Users(accounts) => accounts
                .iter()
                .map(|(n, admin)| {
                    let user = Username::parse(n).map_err(|e| AdminError::Protocol(e.into()))?;
                    Ok((user, *admin))
                })
                .collect(),
            other => Err(unexpected(other)),
        }
    }

    fn import_target(
        &self,
        user: &Username,
        mailbox: &MailboxName,
    ) -> Result<MailboxId, AdminError> {
        match self.call(&Request::ImportTarget {
            user: user.to_string(),
            mailbox: mailbox.to_string(),
        })? {
            Response::Mailbox(id) => Ok(MailboxId(id)),
            other => Err(unexpected(other)),
        }
    }

    fn append(
        &self,
        mailbox: MailboxId,
        messages: &[NewMessage<'_>],
        duplicates: Duplicates,
    ) -> Result<AppendedBatch, AdminError> {
        let messages = messages
            .iter()
            .map(|m| WireMessage {
                raw: serde_bytes::ByteBuf::from(m.raw.to_vec()),
                system_flags: flags_to_wire(m.flags.system),
                keywords: m.flags.keywords().to_vec(),
                unix_seconds: m.internal_date.unix_seconds,
                offset_minutes: m.internal_date.offset_minutes,
            })
            .collect();
        match self.call(&Request::Append {
            mailbox: mailbox.0,
            messages,
            skip_duplicates: duplicates == Duplicates::Skip,
        })? {
            Response::Appended { stored, duplicates } => Ok(AppendedBatch {
                stored: stored as usize,
                duplicates: duplicates.into_iter().map(|i| i as usize).collect(),
            }),
            other => Err(unexpected(other)),
        }
    }

    fn set_acl(
        &self,
        owner: &Username,
        mailbox: &MailboxName,
        grantee: &Username,
        rights: Rights,
    ) -> Result<(), AdminError> {
        self.expect_done(&Request::SetAcl {
            owner: owner.to_string(),
            mailbox: mailbox.to_string(),
            grantee: grantee.to_string(),
            rights: rights.to_string(),
        })
    }

    fn settings(&self, local: &ProtocolSettings) -> Result<ProtocolSettings, AdminError> {
        let request = Request::Settings {
            protocol: local.protocol.key().into(),
        };
        self.expect_settings(local, &request)
    }

    fn change_settings(
        &self,
        local: &ProtocolSettings,
        change: &Change,
    ) -> Result<ProtocolSettings, AdminError> {
        let (set, reset) = change_to_wire(change);
        let request = Request::ChangeSettings {
            protocol: local.protocol.key().into(),
            set,
            reset,
        };
        self.expect_settings(local, &request)
    }

    fn acl(
        &self,
        owner: &Username,
        mailbox: &MailboxName,
    ) -> Result<Vec<(String, Rights)>, AdminError> {
        let request = Request::Acl {
            owner: owner.to_string(),
            mailbox: mailbox.to_string(),
        };
        match self.call(&request)? {
            Response::Acl(entries) => entries
                .into_iter()
                .map(|(who, rights)| {
                    let rights = Rights::parse(&rights)
                        .map_err(|c| AdminError::Protocol(format!("{c:?} is not a right")))?;
                    Ok((who, rights))
                })
                .collect(),
            other => Err(unexpected(other)),
        }
    }

    fn reload_tls(&self) -> Result<(), AdminError> {
        self.expect_done(&Request::ReloadTls)
    }

    fn status(&self) -> Result<Counts, AdminError> {
        match self.call(&Request::Status)? {
            Response::Status(counts) => Ok(*counts),
            other => Err(unexpected(other)),
        }
    }

    fn export_source(
        &self,
        user: &Username,
        mailbox: &MailboxName,
    ) -> Result<ExportSource, AdminError> {
        match self.call(&Request::ExportSource {
            user: user.to_string(),
            mailbox: mailbox.to_string(),
        })? {
            Response::ExportSource { mailbox, messages } => Ok(ExportSource {
                mailbox: MailboxId(mailbox),
                messages,
            }),
            other => Err(unexpected(other)),
        }
    }

    fn export_page(
        &self,
        mailbox: MailboxId,
        after: u32,
    ) -> Result<Vec<ExportedMessage>, AdminError> {
        match self.call(&Request::ExportPage {
            mailbox: mailbox.0,
            after,
        })? {
            Response::Page(page) => page
                .into_iter()
                .map(|m| m.into_exported().map_err(AdminError::Protocol))
                .collect(),
            other => Err(unexpected(other)),
        }
    }

    fn read_message(
        &self,
        mailbox: MailboxId,
        uid: u32,
        offset: u32,
    ) -> Result<Option<Vec<u8>>, AdminError> {
        match self.call(&Request::ReadMessage {
            mailbox: mailbox.0,
            uid,
            offset,
        })? {
            Response::Piece(piece) => Ok(piece.map(|p| p.into_vec())),
            other => Err(unexpected(other)),
        }
    }

    fn deliver(
        &self,
        user: &Username,
        mailbox: Option<&MailboxName>,
        sender: &str,
        raw: &[u8],
    ) -> Result<(), AdminError> {
        self.expect_done(&Request::Deliver {
            user: user.to_string(),
            mailbox: mailbox.map(|m| m.to_string()),
            sender: sender.to_owned(),
            raw: serde_bytes::ByteBuf::from(raw.to_vec()),
        })
    }

    fn quota(&self, user: &Username) -> Result<Quota, AdminError> {
        self.expect_quota(&Request::Quota {
            user: user.to_string(),
        })
    }

    fn change_quota(
        &self,
        user: &Username,
        change: QuotaOverride,
        reset: bool,
    ) -> Result<Quota, AdminError> {
        self.expect_quota(&Request::ChangeQuota {
            user: user.to_string(),
            change,
            reset,
        })
    }
}

impl AdminClient {
    fn expect_quota(&self, request: &Request) -> Result<Quota, AdminError> {
        match self.call(request)? {
            Response::Quota(quota) => Ok(quota),
            other => Err(unexpected(other)),
        }
    }

    /// Sends a request answered with the server's settings of `local.protocol`.
    fn expect_settings(
        &self,
        local: &ProtocolSettings,
        request: &Request,
    ) -> Result<ProtocolSettings, AdminError> {
        match self.call(request)? {
            Response::Settings(entries) => {
                settings_from_wire(local.protocol, &entries).map_err(AdminError::Protocol)
            }
            other => Err(unexpected(other)),
        }
    }
}
