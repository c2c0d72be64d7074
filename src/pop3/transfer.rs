//! Sending a message for RETR or TOP: read from the store and sent piece by piece in
//! wire form (CRLF line endings, dot-stuffed, cut after the lines TOP asks for), each
//! piece awaited through the connection's bounded writer.

use super::maildrop::MessageRef;
use crate::net::writer::{Outgoing, MAX_FRAME};
use bytes::Bytes;
use mailhive_protocol::pop3::response::{ok, TopCutter, END};
use mailhive_protocol::wire::WireEncoder;
use mailhive_store::{BlobId, Store, StoreError};
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

/// Where a transfer is: what the encoder and TOP's cutter know, and the next offset.
struct Encoding {
    encoder: WireEncoder,
    top: Option<TopCutter>,
    offset: u32,
}

impl Encoding {
    /// Reads the next piece of `blob` and appends its wire form to `frame`, with the final
    /// `.` line after the last; says whether that was the last.
    fn next(
        &mut self,
        store: &Store,
        blob: BlobId,
        frame: &mut Vec<u8>,
    ) -> Result<bool, StoreError> {
        let piece = store.read_body_range(blob, self.offset..self.offset.saturating_add(PIECE))?;
        let last = piece.len() < PIECE as usize;
        self.offset += piece.len() as u32;
        let wanted = match self.top.as_mut() {
            Some(cutter) => cutter.cut(&piece),
            None => &piece,
        };
        self.encoder.push(wanted, frame);
        let done = last || self.top.as_ref().is_some_and(TopCutter::is_done);
        if done {
            self.encoder.finish(frame);
            frame.extend_from_slice(END);
        }
        Ok(done)
    }
}

/// What one trip to the blocking pool brought back.
type Step = Result<Option<(Encoding, Vec<u8>, bool)>, StoreError>;

/// Sends `+OK`, the message in wire form (dot-stuffed, cut for TOP) and the final `.`.
/// Reading and encoding run on the blocking pool, a piece per trip, so the sessions'
/// thread only hands the frames to the writer.
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
    let step = |encoding: Encoding, frame: Vec<u8>, check_present: bool| {
        let store = store.clone();
        async move {
            let trip = actix_rt::task::spawn_blocking(move || -> Step {
                if check_present && store.message(mailbox, uid)?.is_none() {
                    return Ok(None);
                }
                let (mut encoding, mut frame) = (encoding, frame);
                let done = encoding.next(&store, blob, &mut frame)?;
                Ok(Some((encoding, frame, done)))
            });
            trip.await
                .map_err(|e| StoreError::Encode(format!("read did not finish: {e}")))?
        }
    };
    let first_line = match lines {
        None => ok(&format!("{size} octets")),
        Some(_) => ok("top of message follows"),
    };
    let encoding = Encoding {
        encoder: WireEncoder::new(true),
        top: lines.map(TopCutter::new),
        offset: 0,
    };
    // The first trip also checks that the message is still there.
    let (mut encoding, mut frame, mut done) = match step(encoding, first_line, true).await {
        Ok(Some(first)) => first,
        Ok(None) => return Transfer::Gone,
        Err(e) => return Transfer::Unreadable(e),
    };
    loop {
        if out.send(Bytes::from(frame)).await.is_err() {
            return Transfer::Broken;
        }
        if done {
            return Transfer::Sent;
        }
        (encoding, frame, done) = match step(encoding, Vec::new(), false).await {
            Ok(Some(next)) => next,
            // (`None` only answers the first trip's check.)
            outcome => {
                if let Err(e) = outcome {
                    tracing::error!(error = %e, "pop3 message read failed mid-answer");
                }
                return Transfer::Broken;
            }
        };
    }
}
