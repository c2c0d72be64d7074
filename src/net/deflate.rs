//! The compressed output of a connection (RFC 4978 COMPRESS=DEFLATE): an `AsyncWrite`
//! that raw-deflates what is written through it onto the stream underneath. It holds at
//! most [`OUT`] compressed bytes that the stream has not taken yet, and takes no more
//! input until the stream has taken them, so the writer task's backpressure reaches
//! through it. A flush ends the deflate block with a sync flush (Z_SYNC_FLUSH) and
//! writes it out, so that the peer can decompress everything written so far; the
//! writer task flushes whenever its queue runs empty, at the end of each batch.

use flate2::{Compress, Compression, FlushCompress};
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use tokio::io::AsyncWrite;

/// Compressed bytes held for the stream underneath.
const OUT: usize = 32 * 1024;

/// The compression level. zlib-rs's level 1 is a quicker algorithm that leaves text
/// half as large again; level 2 costs about the same and makes the benchmark's
/// mail-like text 36 % of its size (`benches/compress.py`; zlib's level 6, 33 %).
const LEVEL: u32 = 2;

/// Raw-deflates what is written through it onto `W`.
#[derive(Debug)]
pub struct Deflate<W> {
    inner: W,
    compress: Compress,
    /// Compressed bytes; `out[written..]` are not yet taken by `inner`.
    out: Vec<u8>,
    written: usize,
    /// Input was taken since the last sync flush.
    unflushed: bool,
}

impl<W: AsyncWrite + Unpin> Deflate<W> {
    pub fn new(inner: W) -> Deflate<W> {
        Deflate {
            inner,
            compress: Compress::new(Compression::new(LEVEL), false),
            out: Vec::with_capacity(OUT),
            written: 0,
            unflushed: false,
        }
    }

    /// Writes the compressed bytes held to `inner`.
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.written < self.out.len() {
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &self.out[self.written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.written += n;
        }
        self.out.clear();
        self.written = 0;
        Poll::Ready(Ok(()))
    }

    /// Compresses `input` into the empty output buffer; how much of it was taken.
    fn deflate(&mut self, input: &[u8], flush: FlushCompress) -> io::Result<usize> {
        let before = self.compress.total_in();
        self.compress
            .compress_vec(input, &mut self.out, flush)
            .map_err(io::Error::other)?;
        Ok((self.compress.total_in() - before) as usize)
    }
}

impl<W: AsyncWrite + Unpin> AsyncWrite for Deflate<W> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        loop {
            ready!(this.poll_drain(cx))?;
            let taken = this.deflate(buf, FlushCompress::None)?;
            if taken > 0 {
                this.unflushed = true;
                return Poll::Ready(Ok(taken));
            }
            if this.out.is_empty() {
                // Neither input taken nor output made: the compressor is broken.
                return Poll::Ready(Err(io::Error::other("the compressor made no progress")));
            }
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            ready!(this.poll_drain(cx))?;
            if !this.unflushed {
                break;
            }
            this.deflate(&[], FlushCompress::Sync)?;
            // The sync flush is complete once it left room in the output (zlib's rule).
            if this.out.len() < this.out.capacity() {
                this.unflushed = false;
            }
        }
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.as_mut().poll_flush(cx))?;
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::{Decompress, FlushDecompress};
    use tokio::io::AsyncWriteExt;

    fn inflate(compressed: &[u8]) -> Vec<u8> {
        let mut plain = Vec::with_capacity(1 << 22);
        Decompress::new(false)
            .decompress_vec(compressed, &mut plain, FlushDecompress::Sync)
            .expect("valid deflate");
        plain
    }

    #[tokio::test]
    async fn each_flush_makes_everything_written_so_far_readable() {
        let mut deflate = Deflate::new(Vec::new());
        deflate.write_all(b"* 1 EXISTS\r\n").await.unwrap();
        deflate.flush().await.unwrap();
        assert_eq!(inflate(&deflate.inner), b"* 1 EXISTS\r\n");
        let text: Vec<u8> = (0..200_000u32)
            .flat_map(|i| i.to_string().into_bytes())
            .collect();
        deflate.write_all(&text).await.unwrap();
        deflate.flush().await.unwrap();
        let length = deflate.inner.len();
        // A second flush without new input adds nothing.
        deflate.flush().await.unwrap();
        assert_eq!(deflate.inner.len(), length);
        let mut expected = b"* 1 EXISTS\r\n".to_vec();
        expected.extend_from_slice(&text);
        assert_eq!(inflate(&deflate.inner), expected);
    }

    #[tokio::test]
    async fn holds_at_most_its_buffer_for_a_stream_that_takes_nothing() {
        let (near, mut far) = tokio::io::duplex(1024);
        let mut deflate = Deflate::new(near);
        // Random bytes do not compress: the duplex and the buffer fill up, then writes wait.
        let mut noise = vec![0u8; 1 << 20];
        getrandom::fill(&mut noise).unwrap();
        let mut taken = 0;
        for piece in noise.chunks(4096) {
            let write = deflate.write(piece);
            match tokio::time::timeout(std::time::Duration::from_millis(50), write).await {
                Ok(n) => taken += n.unwrap(),
                Err(_) => break,
            }
        }
        // The compressor's own window and pending block hold some input too.
        assert!(
            taken < 256 * 1024,
            "took {taken} bytes without the stream reading"
        );
        assert!(deflate.out.capacity() <= OUT);
        far.shutdown().await.unwrap();
    }
}
