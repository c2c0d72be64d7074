//! The POP3 server (RFC 1939, with CAPA and response codes from RFC 2449, SASL PLAIN
//! from RFC 5034 and STLS from RFC 2595) over the user's INBOX.
//!
//! - [`session`]: the Session actor — states, commands, login, UPDATE at QUIT.
//! - [`maildrop`]: the INBOX as it was at login, with the deletion marks.
//! - `transfer`: RETR and TOP, streamed from the store.

pub mod maildrop;
pub mod session;
mod transfer;

use crate::config::PlaintextAuth;
use crate::limiter::ConnectionRefusal;
use crate::login::Gate;
use crate::mailbox::Registry;
use crate::net::tls::Tls;
use crate::settings::Live;
use crate::shutdown::ShutdownSignal;
use std::sync::Arc;

/// What every POP3 session shares.
#[derive(Debug)]
pub struct Pop3Context {
    /// The open sessions, as the console lists them.
    pub connections: Arc<crate::connections::Connections>,
    /// The store, reached through the Mailbox actors for changes.
    pub registry: Arc<Registry>,
    /// Logins, and the Limiter behind them.
    pub gate: Gate,
    /// The POP3 settings, as they are now.
    pub settings: Live,
    pub plaintext_auth: PlaintextAuth,
    /// STLS.
    pub tls: Arc<Tls>,
    /// Tells the sessions that the server is shutting down.
    pub shutdown: ShutdownSignal,
}

/// What a refused connection is told before it is closed (SPEC §4).
pub fn refusal(refusal: ConnectionRefusal) -> &'static str {
    match refusal {
        ConnectionRefusal::Server => "-ERR [SYS/TEMP] Too many connections to this server\r\n",
        ConnectionRefusal::Address => "-ERR [SYS/TEMP] Too many connections from this address!\r\n",
    }
}
