//! IMAP4rev1 (RFC 3501) wire format, sans I/O.
//!
//! - [`framer`]: cutting input into whole commands (lines joined by literals), bounded.
//! - [`parser`]: the command grammar, into [`command`] types.
//! - [`sequence`]: sequence sets.
//! - [`esearch`]: extended SEARCH: return options and the ESEARCH response.
//! - [`mutf7`]: modified UTF-7 mailbox names.
//! - [`response`]: strings, mailbox names, flags and status lines on the way out.
//! - [`url`]: IMAP URLs (RFC 5092) of messages and their parts, for CATENATE.

pub mod command;
pub mod esearch;
pub mod framer;
pub mod mutf7;
pub mod parser;
pub mod response;
pub mod sequence;
pub mod url;
