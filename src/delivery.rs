//! Storing a delivered message (SPEC §8), the one path every delivery takes: the copy
//! for one recipient is `Return-Path: <sender>` and `Delivered-To: address` before the
//! bytes received, appended through the mailbox's actor (so sessions that have the
//! mailbox selected, and IDLE, see it at once) with the arrival time as internal date.
//! The append's answer comes once it is durable.

use crate::lmtp::recipient::Destination;
use crate::mailbox::{Change, Incoming, MailboxError, Registry};
use mailhive_store::{Flags, InternalDate, Refusal};

/// Why a recipient's copy was not stored.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    #[error(transparent)]
    Mailbox(#[from] MailboxError),
    #[error("refused: {0}")]
    Refused(Refusal),
}

/// The message as stored for `address`: the two trace fields, then `body`. The fields
/// end their lines as the body's first line does (a message piped by an MTA has bare
/// LFs), so the header stays in one style.
pub fn stored_form(sender: &str, address: &str, body: &[u8]) -> Vec<u8> {
    let first_end = body.iter().position(|&b| b == b'\n');
    let eol = match first_end {
        Some(i) if i == 0 || body[i - 1] != b'\r' => "\n",
        _ => "\r\n",
    };
    let fields = format!("Return-Path: <{sender}>{eol}Delivered-To: {address}{eol}");
    let mut raw = Vec::with_capacity(fields.len() + body.len());
    raw.extend_from_slice(fields.as_bytes());
    raw.extend_from_slice(body);
    raw
}

/// Stores `body` from `sender` for one recipient; returns once it is durable.
pub async fn deliver(
    registry: &Registry,
    destination: &Destination,
    sender: &str,
    body: &[u8],
) -> Result<(), DeliveryError> {
    let message = Incoming {
        raw: stored_form(sender, &destination.address, body).into(),
        flags: Flags::default(),
        internal_date: InternalDate::now(),
    };
    let change = Change::Append {
        messages: vec![message],
        user: destination.owner.clone(),
    };
    match registry.apply(destination.mailbox, change).await? {
        Ok(_) => Ok(()),
        Err(refusal) => Err(DeliveryError::Refused(refusal)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_trace_fields_come_first() {
        assert_eq!(
            stored_form("a@b", "c+d@e", b"Subject: x\r\n\r\nhi\r\n"),
            b"Return-Path: <a@b>\r\nDelivered-To: c+d@e\r\nSubject: x\r\n\r\nhi\r\n"
        );
        assert_eq!(
            stored_form("", "c@e", b""),
            b"Return-Path: <>\r\nDelivered-To: c@e\r\n"
        );
    }
}
