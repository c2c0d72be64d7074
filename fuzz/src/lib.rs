//! Fuzz targets for every parser that takes bytes from a client or a file, on stable
//! Rust with bolero's test engine: `cargo test` replays each target's corpus
//! (`src/__fuzz__/<target>/corpus/`, every input that once failed) and then runs random
//! inputs for [`SHORT_RUN`]; `BOLERO_RANDOM_TEST_TIME_MS` makes the random part as long
//! as wanted (see the README's Fuzzing section).
//!
//! Every target takes plain bytes, so a corpus file is the input itself. Besides "no
//! panic", each checks what its parser promises: bounds on what is kept, and
//! `parse(encode(x)) == x` where an encoder exists.

use std::time::Duration;

/// How long each target runs random inputs in an ordinary `cargo test`.
pub const SHORT_RUN: Duration = Duration::from_secs(2);

#[cfg(test)]
mod chunks;
#[cfg(test)]
mod config;
#[cfg(test)]
mod imap_framer;
#[cfg(test)]
mod imap_inflate;
#[cfg(test)]
mod imap_parser;
#[cfg(test)]
mod imap_quoting;
#[cfg(test)]
mod imap_url;
#[cfg(test)]
mod line_reader;
#[cfg(test)]
mod lmtp_input;
#[cfg(test)]
mod mbox;
#[cfg(test)]
mod mboxrd;
#[cfg(test)]
mod mime;
#[cfg(test)]
mod mutf7;
#[cfg(test)]
mod pop3_command;
#[cfg(test)]
mod sasl;
#[cfg(test)]
mod sequence;
#[cfg(test)]
mod tokens;
#[cfg(test)]
mod transfer;
