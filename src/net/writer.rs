//! The write side of a connection: a task that owns the socket's write half and takes
//! frames from a bounded channel. A session awaits each send, so a client that reads
//! slowly slows its session down instead of making the server buffer (actix's
//! `FramedWrite` would queue without bound). A peer that takes no bytes for
//! `stall_timeout` is disconnected.

use bytes::Bytes;
use std::time::Duration;
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;

/// Frames queued per connection. Sessions send frames of at most [`MAX_FRAME`] bytes,
/// so a connection holds at most about 8 × 64 KiB of unsent output.
const QUEUE: usize = 8;
/// The largest frame a session sends at once.
pub const MAX_FRAME: usize = 64 * 1024;

/// The sending end of a connection's output.
pub type Outgoing = mpsc::Sender<Bytes>;

/// Starts the writer task on the current arbiter. When every [`Outgoing`] is dropped,
/// the task writes what is queued and shuts the connection down.
pub fn spawn_writer(
    mut write: impl AsyncWrite + Unpin + 'static,
    stall_timeout: Duration,
) -> Outgoing {
    let (sender, mut frames) = mpsc::channel::<Bytes>(QUEUE);
    actix_rt::spawn(async move {
        while let Some(frame) = frames.recv().await {
            match tokio::time::timeout(stall_timeout, write.write_all(&frame)).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    tracing::debug!(error = %e, "write failed");
                    break;
                }
                Err(_) => {
                    tracing::debug!("peer stopped reading; closing");
                    break;
                }
            }
        }
        let _ = write.shutdown().await;
    });
    sender
}
