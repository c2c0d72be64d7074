//! mailhive: a self-hosted IMAP and POP3 mail backend. This crate is the server and the
//! command line; the mailstore is `mailhive-store`, the wire formats `mailhive-protocol`.
//!
//! # Layout
//! - [`config`]: the layered, validated configuration and the settings table.
//! - [`settings`]: the settings a running server works with, changed without restart.
//! - [`cli`]: the commands of SPEC §2.
//! - [`admin`]: administrative operations, on the store or through the admin socket.
//! - [`mbox`] and [`import`]: reading mbox files and importing them.
//! - [`demo`]: the demo users and mail of `serve --demo`.
//! - [`net`]: listeners, the bounded line codec and the backpressured writer.
//! - [`auth`]: password checks and the verified-login cache.
//! - [`limiter`]: the Limiter actor — connection counts, FETCH/SEARCH slots, failed logins.
//! - [`login`]: logging in, the same for both protocols.
//! - [`logging`]: the process's log, which never holds stored mail.
//! - [`mailbox`]: the Mailbox actors that serialise changes and push them to sessions.
//! - [`imap`]: the IMAP server.
//! - [`pop3`]: the POP3 server.
//! - [`lmtp`]: the LMTP server; [`delivery`]: storing a delivered message.
//! - [`serve`]: the server process; [`shutdown`]: the message that ends sessions when it stops.
//! - [`spool`]: large APPEND literals kept on disk while they arrive.
//! - [`quota`]: the `[quota]` section and how `quota show` reads.
//! - [`testing`]: hooks for the integration tests, in debug builds only.
#![forbid(unsafe_code)]
#![deny(missing_debug_implementations)]

pub mod admin;
pub mod auth;
pub mod cli;
pub mod config;
pub mod connections;
pub mod delivery;
pub mod demo;
pub mod engine;
pub mod export;
pub mod imap;
pub mod import;
pub mod limiter;
pub mod lmtp;
pub mod logging;
pub mod login;
pub mod mailbox;
pub mod mbox;
pub mod mboxrd;
pub mod metrics;
pub mod net;
pub mod pop3;
pub mod quota;
pub mod serve;
pub mod settings;
pub mod shutdown;
pub mod span;
pub mod spool;
pub mod testing;
pub mod web;
