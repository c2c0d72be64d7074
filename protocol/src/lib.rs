//! The wire formats of mailhive, sans I/O: bytes in, commands out; responses in, bytes
//! out. Nothing here reads a socket, knows the store or an async runtime.
//!
//! - [`imap`]: IMAP4rev1 commands and responses, with literals and modified UTF-7.
//! - [`line`]: splitting input into command lines, bounded: an over-long line is
//!   discarded as it arrives and reported once it ends, never buffered.
//! - [`lmtp`]: LMTP commands (RFC 2033), DATA and BDAT input, and replies.
//! - [`pop3`]: POP3 commands (RFC 1939, 2449, 5034) and responses, with dot-stuffing.
//! - [`redacted`]: secrets and literal payloads, which never print.
//! - [`sasl`]: the SASL PLAIN message (RFC 4616), shared by POP3 AUTH and IMAP
//!   AUTHENTICATE.
//! - [`text`]: human-readable response text, always one line of printable ASCII.
//! - [`transfer`]: undoing a MIME part's Content-Transfer-Encoding, piece by piece (BINARY).
//! - [`wire`]: the canonical on-the-wire form of a stored message (CRLF line endings).
#![forbid(unsafe_code)]
#![deny(missing_debug_implementations)]

pub mod imap;
pub mod line;
pub mod lmtp;
pub mod pop3;
pub mod redacted;
pub mod sasl;
pub mod text;
pub mod transfer;
pub mod wire;
