//! The LMTP server (RFC 2033, SPEC §8): how an MTA hands mail to mailhive, on TCP
//! (`[lmtp] listen`) and on a Unix socket (`[lmtp] socket`, mode 0660).
//!
//! - [`session`]: the Session actor — the SMTP transaction, one reply per recipient.
//! - [`recipient`]: which account and mailbox an address delivers to.
//! - [`received`]: the message as it arrives, spooled past a small size.
//! - [`listener`]: accepting connections on both kinds of socket, admitted by the
//!   Limiter under `[lmtp] max_connections`.
//!
//! Storing is [`crate::delivery`]'s, through the Mailbox actors.

pub mod listener;
pub mod received;
pub mod recipient;
pub mod session;

use crate::config::LmtpConfig;
use crate::limiter::Limiter;
use crate::mailbox::Registry;
use crate::settings::Live;
use crate::shutdown::ShutdownSignal;
use crate::spool::Spool;
use actix::Addr;
use std::sync::Arc;

/// What every LMTP session shares.
#[derive(Debug)]
pub struct LmtpContext {
    /// The store, reached through the Mailbox actors for deliveries.
    pub registry: Arc<Registry>,
    /// Where messages past [`received::SPOOL_FROM`] wait while they arrive.
    pub spool: Arc<Spool>,
    /// The IMAP settings, for MaxMessageSize (LMTP's SIZE).
    pub imap_settings: Live,
    pub config: LmtpConfig,
    /// The name the server greets with.
    pub host: String,
    /// Tells the sessions that the server is shutting down.
    pub shutdown: ShutdownSignal,
    /// Counts the open connections under `[lmtp] max_connections`.
    pub limiter: Addr<Limiter>,
}
