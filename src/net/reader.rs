//! The read side of a connection: a task that owns the socket's read half and passes
//! what arrives to the session through a small bounded channel, so that the session
//! learns at once when its peer goes — even while a command of its runs (a SEARCH, a
//! FETCH waiting for a slot) and it reads nothing. The task reads at most [`AHEAD`]
//! chunks ahead of the session; a peer that sends more waits, as it would on the socket.
//!
//! [`Incoming::into_reader`] turns the chunks back into an `AsyncRead` for the session's
//! codec; [`Incoming::gone`] is cancelled when the peer closes or the connection fails.
//! When the session drops its [`Incoming`], the task ends and hands the read half back
//! (for STARTTLS): whatever it had read ahead is dropped with the channel.

use bytes::{Bytes, BytesMut};
use futures_util::Stream;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::io::StreamReader;
use tokio_util::sync::CancellationToken;

/// The most bytes read from the socket at once; reads start at [`SMALL_CHUNK`] and grow
/// while they come back full, so that an idle connection waits with a small buffer and
/// a client streaming a large literal is read in large pieces.
const CHUNK: usize = 16 * 1024;
const SMALL_CHUNK: usize = 512;
/// Chunks read but not yet taken by the session.
const AHEAD: usize = 4;

/// What a connection's reader task delivers.
#[derive(Debug)]
pub struct Incoming {
    chunks: mpsc::Receiver<io::Result<Bytes>>,
    gone: CancellationToken,
}

/// Starts the reader task on the current arbiter. It ends when the peer closes or
/// reading fails (cancelling [`Incoming::gone`]), or when the [`Incoming`] (or the
/// reader made of it) is dropped: then it returns the read half.
pub fn spawn_reader<R: AsyncRead + Unpin + 'static>(
    mut read: R,
) -> (Incoming, JoinHandle<Option<R>>) {
    let (sender, chunks) = mpsc::channel(AHEAD);
    let gone = CancellationToken::new();
    let gone_when_done = gone.clone();
    let task = actix_rt::spawn(async move {
        let mut size = SMALL_CHUNK;
        loop {
            let mut buf = BytesMut::with_capacity(size);
            let read_now = tokio::select! {
                read_now = read.read_buf(&mut buf) => read_now,
                () = sender.closed() => return Some(read),
            };
            let chunk = match read_now {
                Ok(0) => break,
                Ok(n) => {
                    size = if n >= size {
                        (size * 2).min(CHUNK)
                    } else {
                        SMALL_CHUNK
                    };
                    Ok(buf.freeze())
                }
                Err(e) => Err(e),
            };
            let failed = chunk.is_err();
            if sender.send(chunk).await.is_err() {
                return Some(read);
            }
            if failed {
                break;
            }
        }
        gone_when_done.cancel();
        None
    });
    (Incoming { chunks, gone }, task)
}

impl Incoming {
    /// Cancelled once the peer has gone (or its connection failed).
    pub fn gone(&self) -> CancellationToken {
        self.gone.clone()
    }

    /// The received chunks as they came, for a session that frames them itself (LMTP,
    /// whose input changes mode between command lines and message data).
    pub fn into_chunks(self) -> Chunks {
        Chunks(self.chunks)
    }

    /// The received bytes as an `AsyncRead`, for a codec.
    pub fn into_reader(self) -> StreamReader<Chunks, Bytes> {
        StreamReader::new(Chunks(self.chunks))
    }
}

/// The chunks as a stream.
#[derive(Debug)]
pub struct Chunks(mpsc::Receiver<io::Result<Bytes>>);

impl Stream for Chunks {
    type Item = io::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.0.poll_recv(cx)
    }
}
