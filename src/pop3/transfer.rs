//! Sending a message for RETR or TOP: read from the store and sent piece by piece in
//! wire form (CRLF line endings, dot-stuffed, cut after the lines TOP asks for), each
//! piece awaited through the connection's bounded writer.

use super::maildrop::MessageRef;
use crate::net::writer::{Outgoing, MAX_FRAME};
use bytes::Bytes;
use mailhive_protocol::pop3::response::{ok, TopCutter, END};
use mailhive_protocol::wire::WireEncoder;
use mailhive_store::{Store, StoreError};
use std::sync::Arc;

/// Raw bytes read from the store per piece of a RETR or TOP answer; encoded (CRLF,
/// dot-stuffing) a piece at most doubles, staying within the writer's frame size.
const PIECE: u32 = (MAX_FRAME / 2) as u32;

/// How sending a message ended.
pub enum Transfer {
    Sent,
    /// Nothing was sent: another session removed the message since login.
    Gone,
    /// Nothing was sent: the message could not be read.
    Unreadable(StoreError),
    /// The answer was cut short (the connection or the store failed mid-way).
    Broken,
}

/// Sends `+OK`, the message in wire form (dot-stuffed, cut for TOP) and the final `.`.
pub async fn stream_message(
    store: Arc<Store>,
    out: Outgoing,
    message: MessageRef,
    lines: Option<u32>,
) -> Transfer {
    let MessageRef {
        mailbox,
        uid,
        blob,
        size,
    } = message;
    let read = |offset: u32| {
        let store = store.clone();
        async move {
            actix_rt::task::spawn_blocking(move || {
                store.read_body_range(blob, offset..offset.saturating_add(PIECE))
            })
            .await
            .map_err(|e| StoreError::Encode(format!("read did not finish: {e}")))?
        }
    };
    // One trip to the blocking pool: is the message still there, and its first piece.
    let first = {
        let store = store.clone();
        actix_rt::task::spawn_blocking(move || match store.message(mailbox, uid)? {
            Some(_) => store.read_body_range(blob, 0..PIECE).map(Some),
            None => Ok(None),
        })
        .await
    };
    let mut piece = match first {
        Ok(Ok(Some(piece))) => piece,
        Ok(Ok(None)) => return Transfer::Gone,
        Ok(Err(e)) => return Transfer::Unreadable(e),
        Err(e) => {
            return Transfer::Unreadable(StoreError::Encode(format!("read did not finish: {e}")))
        }
    };
    let mut frame = match lines {
        None => ok(&format!("{size} octets")),
        Some(_) => ok("top of message follows"),
    };
    let mut encoder = WireEncoder::new(true);
    let mut top = lines.map(TopCutter::new);
    let mut offset = 0u32;
    loop {
        let last = piece.len() < PIECE as usize;
        offset += piece.len() as u32;
        let wanted = match top.as_mut() {
            Some(cutter) => cutter.cut(&piece),
            None => &piece,
        };
        encoder.push(wanted, &mut frame);
        let done = last || top.as_ref().is_some_and(TopCutter::is_done);
        if done {
            encoder.finish(&mut frame);
            frame.extend_from_slice(END);
        }
        if out
            .send(Bytes::from(std::mem::take(&mut frame)))
            .await
            .is_err()
        {
            return Transfer::Broken;
        }
        if done {
            return Transfer::Sent;
        }
        piece = match read(offset).await {
            Ok(piece) => piece,
            Err(e) => {
                tracing::error!(error = %e, "pop3 message read failed mid-answer");
                return Transfer::Broken;
            }
        };
    }
}
