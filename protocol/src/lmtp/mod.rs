//! LMTP (RFC 2033) with PIPELINING (RFC 2920), ENHANCEDSTATUSCODES (RFC 2034), 8BITMIME
//! (RFC 6152), SIZE (RFC 1870) and CHUNKING (RFC 3030), sans I/O.
//!
//! - [`command`]: one command line parsed (LHLO, MAIL FROM, RCPT TO, DATA, BDAT, RSET,
//!   NOOP, VRFY, QUIT).
//! - [`data`]: the DATA text, dot-unstuffed as it arrives, up to its `.` line.
//! - [`input`]: the connection's input in its three modes: command lines (bounded),
//!   DATA text and BDAT chunks, the message handed out in pieces as they come.
//! - [`reply`]: the replies, with their enhanced status codes and the texts of SPEC §8.

pub mod command;
pub mod data;
pub mod input;
pub mod reply;
