//! A session's connection: the reader and writer tasks over one [`Stream`], taking the
//! stream back from them to start TLS on it (STARTTLS, STLS), and taking the write half
//! back to compress it (COMPRESS).

use super::deflate::Deflate;
use super::reader::{spawn_reader, Incoming};
use super::stream::Stream;
use super::tls::Tls;
use super::writer::{spawn_writer, Outgoing};
use bytes::Bytes;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{ReadHalf, WriteHalf};
use tokio::task::JoinHandle;

/// The tasks that own a connection's halves, to take them back.
#[derive(Debug)]
pub struct Handover {
    reader: JoinHandle<Option<ReadHalf<Stream>>>,
    writer: JoinHandle<Option<WriteHalf<Stream>>>,
    /// Tells the writer to hand its half back instead of closing the connection.
    keep_open: Arc<AtomicBool>,
    /// Whether the stream is TLS already.
    pub tls: bool,
}

/// Starts the reader and writer tasks of `stream` on the current arbiter. A peer that
/// takes no output for `stall` is disconnected.
pub fn open(stream: Stream, stall: Duration) -> (Outgoing, Incoming, Handover) {
    let tls = stream.is_tls();
    let (read, write) = tokio::io::split(stream);
    let keep_open = Arc::new(AtomicBool::new(false));
    let (out, writer) = spawn_writer(write, stall, keep_open.clone());
    let (incoming, reader) = spawn_reader(read);
    let handover = Handover {
        reader,
        writer,
        keep_open,
        tls,
    };
    (out, incoming, handover)
}

impl Handover {
    /// The stream back, once its output is written: `out` must be the last sender of
    /// this connection, and the session must have dropped its [`Incoming`] already.
    /// Bytes the reader had read ahead are dropped. `None` when the connection broke.
    pub async fn take_back(self, out: Outgoing) -> Option<Stream> {
        self.keep_open.store(true, Ordering::Release);
        drop(out);
        let write = self.writer.await.ok()??;
        let read = self.reader.await.ok()??;
        Some(read.unsplit(write))
    }

    /// COMPRESS: once `out`, the connection's last sender, has written what is queued
    /// (the go-ahead), takes the write half back and starts a writer that deflates it;
    /// its sender, or `None` when the connection broke. The reader goes on as it is:
    /// the session's input decompresses what it reads from now on. The connection
    /// cannot be handed over again.
    pub async fn compress(self, out: Outgoing, stall: Duration) -> Option<Outgoing> {
        self.keep_open.store(true, Ordering::Release);
        drop(out);
        let write = self.writer.await.ok()??;
        let keep_open = Arc::new(AtomicBool::new(false));
        let (out, _writer) = spawn_writer(Deflate::new(write), stall, keep_open);
        Some(out)
    }

    /// STARTTLS and STLS: sends `answer` (the go-ahead) on `out`, the connection's last
    /// sender, takes the stream back and makes the TLS handshake on it, within
    /// `timeout`. `None` when the connection broke or the handshake failed.
    pub async fn start_tls(
        self,
        out: Outgoing,
        answer: Bytes,
        tls: &Tls,
        timeout: Duration,
    ) -> Option<Stream> {
        out.send(answer).await.ok()?;
        let tcp = self.take_back(out).await?.into_plain()?;
        match tls.accept(tcp, timeout).await {
            Ok(stream) => Some(Stream::Tls(Box::new(stream))),
            Err(e) => {
                tracing::debug!(error = %e, "TLS handshake failed");
                None
            }
        }
    }
}
