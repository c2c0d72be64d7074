//! The IMAP4rev1 server (RFC 3501) with the extensions clients rely on: IDLE,
//! NAMESPACE, ACL, UIDPLUS, MOVE, LITERAL+, ENABLE, ID, UNSELECT, CHILDREN, SPECIAL-USE,
//! APPENDLIMIT, SASL-IR, STARTTLS, CONDSTORE, QRESYNC, COMPRESS=DEFLATE, BINARY.
//!
//! - [`session`]: the Session actor — input, dispatch, login, IDLE, time-outs.
//! - [`state`]: the connection states and what each holds; [`commands`]: the table of
//!   what each command needs.
//! - [`view`]: the selected mailbox as the session knows it, and change announcements.
//! - [`namespace`]: the user's own and the shared (`#users/…`) namespaces.
//! - [`mailboxes`]: commands on mailboxes (LIST, CREATE, SELECT, STATUS...);
//!   [`list`]: the LIST and LSUB answer (LIST-EXTENDED); [`status`]: one mailbox's
//!   STATUS answer, for STATUS and LIST-STATUS.
//! - [`acl`]: the ACL commands of RFC 4314; [`quota`]: the QUOTA commands of RFC 9208.
//! - [`messages`]: commands that change messages (STORE, COPY, MOVE, EXPUNGE);
//!   [`append`]: APPEND, MULTIAPPEND and CATENATE, whose URLs [`catenate`] resolves.
//! - [`fetch`], [`section`], [`structure`]: FETCH, body sections, ENVELOPE and
//!   BODYSTRUCTURE; [`address`]: address fields split as Dovecot splits them;
//!   [`binary`]: BINARY's decoded parts; [`nul_free`]: APPEND's parts with NUL bytes.
//! - [`enabled`]: what ENABLE (or use) switched on; [`condstore`]: what CONDSTORE and
//!   QRESYNC add to answers, resynchronisation.
//! - [`search`]: the SEARCH command; [`shared_search`]: identical searches run once;
//!   [`esearch`]: the ESEARCH answer, SAVE and UPDATE; [`search_state`]: the saved
//!   result and the searches kept up to date; `search_updates`: keeping them so;
//!   `searchres`: `$` in commands.
//! - [`slots`]: FETCH and SEARCH wait for a slot of the Limiter.
//! - `sort`: SORT, SORT=DISPLAY and THREAD, arranging what a search
//!   found.

pub mod acl;
use mailhive_store::address;
pub mod append;
mod binary;
pub mod catenate;
pub mod commands;
pub mod condstore;
pub mod enabled;
pub mod esearch;
pub mod fetch;
pub mod list;
pub mod mailboxes;
pub mod messages;
pub mod namespace;
mod nul_free;
pub mod quota;
pub mod search;
pub mod search_state;
mod search_updates;
mod searchres;
pub mod section;
pub mod session;
pub mod shared_search;
mod slots;
mod sort;
pub mod state;
pub mod status;
pub mod structure;
pub mod view;

use crate::config::PlaintextAuth;
use crate::limiter::ConnectionRefusal;
use crate::login::Gate;
use crate::mailbox::Registry;
use crate::net::tls::Tls;
use crate::settings::Live;
use crate::shutdown::ShutdownSignal;
use shared_search::SharedSearches;
use std::sync::Arc;

/// What every IMAP session shares.
#[derive(Debug)]
pub struct ImapContext {
    pub registry: Arc<Registry>,
    /// Where large APPEND literals wait while they arrive.
    pub spool: Arc<crate::spool::Spool>,
    /// Logins, and the Limiter behind them.
    pub gate: Gate,
    /// The IMAP settings, as they are now.
    pub settings: Live,
    pub plaintext_auth: PlaintextAuth,
    /// STARTTLS.
    pub tls: Arc<Tls>,
    pub searches: Arc<SharedSearches>,
    /// Tells the sessions that the server is shutting down.
    pub shutdown: ShutdownSignal,
    /// The open sessions, as the console lists them.
    pub connections: Arc<crate::connections::Connections>,
}

/// What a refused connection is told before it is closed (SPEC §4).
pub fn refusal(refusal: ConnectionRefusal) -> &'static str {
    match refusal {
        ConnectionRefusal::Server => "* BYE [UNAVAILABLE] Too many connections to this server\r\n",
        ConnectionRefusal::Address => {
            "* BYE [UNAVAILABLE] Too many connections from this address!\r\n"
        }
    }
}
