//! The POP3 server (RFC 1939, with CAPA and response codes from RFC 2449 and SASL PLAIN
//! from RFC 5034) over the user's INBOX.

pub mod maildrop;
pub mod session;

use crate::auth::Authenticator;
use crate::config::{PlaintextAuth, ProtocolSettings};
use crate::mailbox::Registry;
use std::sync::Arc;

/// What every POP3 session shares.
#[derive(Debug)]
pub struct Pop3Context {
    /// The store, reached through the Mailbox actors for changes.
    pub registry: Arc<Registry>,
    pub auth: Arc<Authenticator>,
    pub settings: ProtocolSettings,
    pub plaintext_auth: PlaintextAuth,
}
