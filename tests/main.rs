//! Integration tests: the real `mailhive` binary, real files, a real store on disk.

mod harness;

mod admin_socket;
mod binary;
mod cli;
mod compress;
mod condstore;
mod deliver;
mod esearch;
mod hardening;
mod hostile_input;
mod imap;
mod imap_conformance;
mod imaptest;
mod import;
mod injection;
mod limits;
mod list_extended;
mod lmtp;
mod malformed;
mod multiappend;
mod pop3;
mod postfix;
mod sasl;
mod secrets;
mod sharing;
mod shutdown;
mod sort;
mod sort_oracles;
mod tls;
mod transcripts;
