//! `mailhive deliver --user NAME [--mailbox M]`: one message from standard input, stored
//! as an LMTP delivery stores it (SPEC §8), through the admin socket when the server
//! runs. It is made to be an MTA's `mailbox_command`, so it answers in exit statuses
//! (sysexits.h), which MTAs read: 67 for an account that does not exist (the MTA
//! bounces), 73 for an account over its quota (bounced too: Postfix reports EX_CANTCREAT
//! as 5.2.0, the mailbox-status class of LMTP's `552 5.2.2 Mailbox full`), 75 for a
//! failure worth trying again (the MTA defers), 65 for a message that is empty or over
//! MaxMessageSize.
//!
//! The sender for `Return-Path:` is `$SENDER` (Postfix sets it for `mailbox_command`),
//! or empty. An mbox `From ` line the MTA put first is not part of the message.

use crate::admin::{self, AdminError};
use crate::config::Config;
use mailhive_store::{MailboxName, Username};
use std::io::Read;

pub const EX_USAGE: i32 = 64;
pub const EX_DATAERR: i32 = 65;
pub const EX_NOUSER: i32 = 67;
pub const EX_CANTCREAT: i32 = 73;
pub const EX_TEMPFAIL: i32 = 75;

/// A failure with its exit status.
#[derive(Debug, thiserror::Error)]
#[error("{reason}")]
pub struct Sysexit {
    pub code: i32,
    pub reason: String,
}

fn fail(code: i32, reason: impl std::fmt::Display) -> anyhow::Error {
    Sysexit {
        code,
        reason: reason.to_string(),
    }
    .into()
}

pub fn run(config: &Config, user: &str, mailbox: Option<&str>) -> anyhow::Result<()> {
    let owner = Username::parse(user).map_err(|e| fail(EX_NOUSER, format!("{user:?}: {e}")))?;
    let mailbox = mailbox
        .map(MailboxName::parse)
        .transpose()
        .map_err(|e| fail(EX_USAGE, format!("--mailbox: {e}")))?;
    let max = super::max_message_size(config);
    let mut raw = Vec::new();
    std::io::stdin()
        .lock()
        .take(max as u64 + 1)
        .read_to_end(&mut raw)
        .map_err(|e| fail(EX_TEMPFAIL, format!("cannot read the message: {e}")))?;
    if raw.len() > max {
        return Err(fail(
            EX_DATAERR,
            format!("message too big: MaxMessageSize is {max} bytes"),
        ));
    }
    let body = without_envelope_line(&raw);
    if body.is_empty() {
        return Err(fail(EX_DATAERR, "the message is empty"));
    }
    let sender = std::env::var("SENDER").unwrap_or_default();
    let admin = admin::connect(config).map_err(|e| fail(EX_TEMPFAIL, e))?;
    match admin.deliver(&owner, mailbox.as_ref(), &sender, body) {
        Ok(()) => Ok(()),
        Err(e @ AdminError::UnknownUser(_)) => Err(fail(EX_NOUSER, e)),
        Err(e @ AdminError::OverQuota(_)) => Err(fail(EX_CANTCREAT, e)),
        Err(e) => Err(fail(EX_TEMPFAIL, e)),
    }
}

/// `raw` without a leading mbox `From ` line.
fn without_envelope_line(raw: &[u8]) -> &[u8] {
    if !raw.starts_with(b"From ") {
        return raw;
    }
    match raw.iter().position(|&b| b == b'\n') {
        Some(end) => &raw[end + 1..],
        None => &[],
    }
}
