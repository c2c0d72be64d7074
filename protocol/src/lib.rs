//! The IMAP and POP3 wire formats of mailhive, sans I/O: incremental command parsers
//! (partial input in, commands out, every buffer bounded) and response encoders.
//!
//! This crate is empty today: the IMAP side arrives with the IMAP server, the POP3 side
//! with the POP3 server. It depends on neither the store nor any async runtime, and
//! never will (see the README's architecture section).
#![forbid(unsafe_code)]
#![deny(missing_debug_implementations)]
