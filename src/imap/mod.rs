//! The IMAP4rev1 server (RFC 3501) with the extensions clients rely on: IDLE,
//! NAMESPACE, UIDPLUS, MOVE, LITERAL+, ENABLE, ID, UNSELECT, CHILDREN, SPECIAL-USE,
//! APPENDLIMIT, SASL-IR.
//!
//! - [`session`]: the Session actor — input, states, dispatch, login, IDLE, time-outs.
//! - [`view`]: the selected mailbox as the session knows it, and change announcements.
//! - [`mailboxes`]: commands on mailboxes (LIST, CREATE, SELECT, STATUS...).
//! - [`messages`]: commands that change messages (APPEND, STORE, COPY, MOVE, EXPUNGE).
//! - [`fetch`], [`section`], [`structure`]: FETCH, body sections, ENVELOPE and
//!   BODYSTRUCTURE.
//! - [`search`]: the SEARCH command.

pub mod fetch;
pub mod mailboxes;
pub mod messages;
pub mod search;
pub mod section;
pub mod session;
pub mod structure;
pub mod view;

use crate::auth::Authenticator;
use crate::config::{PlaintextAuth, ProtocolSettings};
use crate::mailbox::Registry;
use std::sync::Arc;

/// What every IMAP session shares.
#[derive(Debug)]
pub struct ImapContext {
    pub registry: Arc<Registry>,
    pub auth: Arc<Authenticator>,
    pub settings: ProtocolSettings,
    pub plaintext_auth: PlaintextAuth,
}
