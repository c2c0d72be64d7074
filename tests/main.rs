//! Integration tests: the real `mailhive` binary, real files, a real store on disk.

mod harness;

mod admin_socket;
mod cli;
mod hostile_input;
mod imap;
mod imap_conformance;
mod imaptest;
mod import;
mod limits;
mod pop3;
mod sharing;
mod tls;
mod transcripts;
