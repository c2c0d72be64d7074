//! The admin socket's server side, run by `mailhive serve`: a Unix socket in the data
//! directory (mode 0600: only the server's own user may administer it). Each request is
//! carried out on a blocking thread against the server's store, through [`Admin`];
//! settings changes are published to the running sessions at once, and `status` asks
//! the Limiter.

use super::wire::{
    change_from_wire, decode, encode, flags_from_wire, frame_len, protocol, settings_to_wire,
    Request, Response, WireExported, WireMessage,
};
use super::{Admin, AdminError};
use crate::auth::Authenticator;
use crate::connections::Connections;
use crate::delivery::DeliveryError;
use crate::limiter::{Limiter, Snapshot};
use crate::mailbox::Registry;
use crate::net::tls::Tls;
use crate::settings::Published;
use actix::Addr;
use mailhive_store::{
    Duplicates, Flags, InternalDate, MailboxId, MailboxName, NewMessage, Refusal, Rights, Username,
};
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{UnixListener, UnixStream};

/// Binds the admin socket, replacing a stale socket file left by a crashed server.
pub fn bind(path: &Path) -> io::Result<UnixListener> {
    if path.exists() {
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            return Err(io::Error::new(
                io::ErrorKind::AddrInUse,
                format!("another server answers on {}", path.display()),
            ));
        }
        std::fs::remove_file(path)?;
    }
    let listener = UnixListener::bind(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    Ok(listener)
}

/// What the admin socket works on.
#[derive(Debug)]
pub struct AdminState {
    pub registry: Arc<Registry>,
    /// The settings the sessions read, changed by `settings set` and `reset`.
    pub published: Arc<Published>,
    pub limiter: Addr<Limiter>,
    /// The certificate `tls reload` reads again.
    pub tls: Arc<Tls>,
    /// Forgets a verified login when its password changes or its account goes.
    pub auth: Arc<Authenticator>,
    /// The open IMAP and POP3 sessions (`connections`, `end-connection`).
    pub connections: Arc<Connections>,
}

/// Serves admin connections until the task is dropped.
pub async fn run(listener: UnixListener, state: Arc<AdminState>) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                actix_rt::spawn(serve_connection(stream, state.clone()));
            }
            Err(e) => tracing::warn!(error = %e, "admin socket accept failed"),
        }
    }
}

async fn serve_connection(mut stream: UnixStream, state: Arc<AdminState>) {
    loop {
        let mut header = [0u8; 4];
        if stream.read_exact(&mut header).await.is_err() {
            return; // the client closed the connection
        }
        let request = match read_body(&mut stream, header).await {
            Ok(request) => request,
            Err(e) => {
                tracing::warn!(error = %e, "bad admin request");
                return;
            }
        };
        let response = answer(&state, request).await;
        let written = match encode(&response) {
            Ok(frame) => stream.write_all(&frame).await,
            Err(e) => Err(e),
        };
        if let Err(e) = written {
            tracing::warn!(error = %e, "admin reply failed");
            return;
        }
    }
}

/// Carries out one request: what the admin socket's clients and the web console ask
/// for goes this one way.
pub async fn answer(state: &Arc<AdminState>, request: Request) -> Response {
    match request {
        Request::Status => match state.limiter.send(Snapshot).await {
            Ok(counts) => Response::Status(Box::new(counts)),
            Err(e) => Response::Failed(format!("the limiter does not answer: {e}")),
        },
        Request::Deliver {
            user,
            mailbox,
            sender,
            raw,
        } => deliver(state, &user, mailbox.as_deref(), &sender, &raw).await,
        request => {
            let state = state.clone();
            actix_rt::task::spawn_blocking(move || execute(&state, request))
                .await
                .unwrap_or_else(|e| Response::Failed(format!("admin task failed: {e}")))
        }
    }
}

async fn read_body(stream: &mut UnixStream, header: [u8; 4]) -> io::Result<Request> {
    let mut body = vec![0u8; frame_len(header)?];
    stream.read_exact(&mut body).await?;
    decode(&body)
}

/// `mailhive deliver` through the running server: the same path as an LMTP delivery,
/// through the mailbox's actor, so sessions watching the mailbox see it at once.
async fn deliver(
    state: &AdminState,
    name: &str,
    mailbox_name: Option<&str>,
    sender: &str,
    raw: &[u8],
) -> Response {
    let (owner, target) =
        match user(name).and_then(|u| Ok((u, mailbox_name.map(mailbox).transpose()?))) {
            Ok(parsed) => parsed,
            Err(e) => return Response::Refused(e.to_string()),
        };
    let store = state.registry.store().clone();
    let address = owner.to_string();
    let found = crate::mailbox::blocking(move || {
        crate::lmtp::recipient::destination(&store, owner, target.as_ref(), &address)
    })
    .await;
    let destination = match found {
        Ok(Some(destination)) => destination,
        Ok(None) => return Response::UnknownUser(name.to_owned()),
        Err(e) => return Response::Failed(e.to_string()),
    };
    match crate::delivery::deliver(&state.registry, &destination, sender, raw).await {
        Ok(()) => Response::Done,
        Err(DeliveryError::Refused(Refusal::OverQuota)) => Response::OverQuota(name.to_owned()),
        Err(e) => {
            tracing::error!(error = %e, "delivery through the admin socket failed");
            Response::Failed(e.to_string())
        }
    }
}

fn user(name: &str) -> Result<Username, AdminError> {
    Username::parse(name).map_err(|e| AdminError::Refused(format!("{name:?}: {e}")))
}

fn mailbox(name: &str) -> Result<MailboxName, AdminError> {
    MailboxName::parse(name).map_err(|e| AdminError::Refused(format!("{name:?}: {e}")))
}

fn new_message(m: &WireMessage) -> Result<NewMessage<'_>, AdminError> {
    let system = flags_from_wire(&m.system_flags).map_err(AdminError::Refused)?;
    Ok(NewMessage {
        raw: &m.raw,
        flags: Flags::new(system, m.keywords.iter().cloned()),
        internal_date: InternalDate {
            unix_seconds: m.unix_seconds,
            offset_minutes: m.offset_minutes,
        },
    })
}

/// Carries out one request on the store; appended messages are announced to the
/// sessions watching their mailbox.
fn execute(state: &AdminState, request: Request) -> Response {
    let registry = &state.registry;
    let store = registry.store().as_ref();
    let result = match request {
        Request::AddUser {
            user: name,
            password,
            admin,
        } => user(&name)
            .and_then(|u| Admin::add_account(store, &u, &password, admin))
            .map(|()| Response::Done),
        Request::SetAdmin { user: name, admin } => user(&name)
            .and_then(|u| Admin::set_admin(store, &u, admin))
            .map(|()| Response::Done),
        Request::SetPassword {
            user: name,
            password,
        } => user(&name).and_then(|u| {
            Admin::set_password(store, &u, &password)?;
            state.auth.forget(&u);
            Ok(Response::Done)
        }),
        Request::RemoveUser { user: name } => user(&name).and_then(|u| {
            Admin::remove_user(store, &u)?;
            state.auth.forget(&u);
            Ok(Response::Done)
        }),
        Request::Users => Admin::users(store).map(|users| {
            Response::Users(
                users
                    .into_iter()
                    .map(|(u, admin)| (u.to_string(), admin))
                    .collect(),
            )
        }),
        Request::ImportTarget {
            user: name,
            mailbox: mb,
        } => user(&name)
            .and_then(|u| Ok((u, mailbox(&mb)?)))
            .and_then(|(u, m)| store.import_target(&u, &m))
            .map(|id| Response::Mailbox(id.0)),
        Request::Append {
            mailbox: id,
            messages,
            skip_duplicates,
        } => messages
            .iter()
            .map(new_message)
            .collect::<Result<Vec<_>, _>>()
            .and_then(|batch| {
                let duplicates = if skip_duplicates {
                    Duplicates::Skip
                } else {
                    Duplicates::Store
                };
                let appended = super::append_as_owner(store, MailboxId(id), &batch, duplicates)?;
                if let Some(&first) = appended.uids.first() {
                    registry.appended_elsewhere(MailboxId(id), first);
                }
                Ok(Response::Appended {
                    stored: appended.uids.len() as u64,
                    duplicates: appended.duplicates.iter().map(|&i| i as u32).collect(),
                })
            }),
        Request::SetAcl {
            owner,
            mailbox: mb,
            grantee,
            rights,
        } => (|| {
            let rights = Rights::parse(&rights)
                .map_err(|c| AdminError::Refused(format!("{c:?} is not an RFC 4314 right")))?;
            Admin::set_acl(
                store,
                &user(&owner)?,
                &mailbox(&mb)?,
                &user(&grantee)?,
                rights,
            )
        })()
        .map(|()| Response::Done),
        Request::Acl { owner, mailbox: mb } => user(&owner)
            .and_then(|owner| Ok((owner, mailbox(&mb)?)))
            .and_then(|(owner, mb)| Admin::acl(store, &owner, &mb))
            .map(|entries| {
                Response::Acl(
                    entries
                        .into_iter()
                        .map(|(who, rights)| (who, rights.to_string()))
                        .collect(),
                )
            }),
        Request::Settings { protocol: name } => protocol(&name)
            .map_err(AdminError::Refused)
            .map(|p| Response::Settings(settings_to_wire(&state.published.current(p)))),
        Request::ChangeSettings {
            protocol: name,
            set,
            reset,
        } => (|| {
            let protocol = protocol(&name).map_err(AdminError::Refused)?;
            let change = change_from_wire(&set, &reset).map_err(AdminError::Refused)?;
            let changed = state
                .published
                .change(store, protocol, &change)?
                .map_err(|refused| AdminError::Refused(refused.0))?;
            Ok(Response::Settings(settings_to_wire(&changed)))
        })(),
        Request::ExportSource {
            user: name,
            mailbox: mb,
        } => user(&name)
            .and_then(|u| Ok((u, mailbox(&mb)?)))
            .and_then(|(u, m)| store.export_source(&u, &m))
            .map(|source| Response::ExportSource {
                mailbox: source.mailbox.0,
                messages: source.messages,
            }),
        Request::ExportPage { mailbox: id, after } => store
            .export_page(MailboxId(id), after)
            .map(|page| Response::Page(page.iter().map(WireExported::new).collect())),
        Request::ReadMessage {
            mailbox: id,
            uid,
            offset,
        } => store
            .read_message(MailboxId(id), uid, offset)
            .map(|piece| Response::Piece(piece.map(serde_bytes::ByteBuf::from))),
        Request::Connections => Ok(Response::Connections(state.connections.list())),
        Request::EndConnection { id } => {
            if state.connections.end(id) {
                Ok(Response::Done)
            } else {
                Err(AdminError::Refused(format!("no connection {id} is open")))
            }
        }
        Request::ReloadTls => state
            .tls
            .reload()
            .map(|()| Response::Done)
            .map_err(|e| AdminError::Refused(format!("TLS certificate not reloaded: {e}"))),
        Request::Quota { user: name } => user(&name)
            .and_then(|u| Admin::quota(store, &u))
            .map(Response::Quota),
        Request::ChangeQuota {
            user: name,
            change,
            reset,
        } => user(&name)
            .and_then(|u| Admin::change_quota(store, &u, change, reset))
            .map(Response::Quota),
        Request::Status | Request::Deliver { .. } => Err(AdminError::Protocol(
            "answered outside the blocking pool".into(),
        )),
    };
    match result {
        Ok(response) => response,
        Err(AdminError::Refused(text)) => Response::Refused(text),
        Err(AdminError::UnknownUser(name)) => Response::UnknownUser(name),
        Err(AdminError::OverQuota(subject)) => Response::OverQuota(subject),
        Err(other) => {
            tracing::error!(error = %other, "admin request failed");
            Response::Failed(other.to_string())
        }
    }
}
