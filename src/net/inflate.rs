//! The compressed input of a connection (RFC 4978 COMPRESS=DEFLATE), inflated a piece at
//! a time in front of a framer. It decompresses at most [`STEP`] bytes beyond what the
//! framer keeps, and only when the framer needs more, so the framer's own bounds (a
//! command line over MaxCommandSize is discarded as it arrives, a large APPEND literal
//! is handed out in pieces) hold on the decompressed bytes too: a few kilobytes that
//! inflate to gigabytes cost time, never memory.

use bytes::{Buf, BytesMut};
use flate2::{Decompress, FlushDecompress, Status};
use std::io;

/// The most bytes decompressed at once.
const STEP: usize = 16 * 1024;

/// Raw-inflates a connection's input for a framer.
#[derive(Debug)]
pub struct Inflate {
    decompress: Decompress,
    /// Decompressed bytes the framer has not taken.
    plain: BytesMut,
    /// The client ended its deflate stream: nothing may follow.
    ended: bool,
}

impl Default for Inflate {
    fn default() -> Self {
        Inflate {
            decompress: Decompress::new(false),
            plain: BytesMut::new(),
            ended: false,
        }
    }
}

impl Inflate {
    /// The next frame that `framer` finds in the decompressed input, decompressing
    /// more of `compressed` as it needs; `None` once all of `compressed` is taken and
    /// the framer needs more. Input that is not valid deflate is an error
    /// (`InvalidData`).
    pub fn next_frame<T>(
        &mut self,
        compressed: &mut BytesMut,
        mut framer: impl FnMut(&mut BytesMut) -> Option<T>,
    ) -> io::Result<Option<T>> {
        loop {
            if let Some(frame) = framer(&mut self.plain) {
                return Ok(Some(frame));
            }
            if self.inflate(compressed)? == 0 {
                return Ok(None);
            }
        }
    }

    /// Decompresses up to [`STEP`] bytes of `compressed` onto `plain`: how many it made
    /// (0 when it needs more input).
    fn inflate(&mut self, compressed: &mut BytesMut) -> io::Result<usize> {
        loop {
            if self.ended {
                return if compressed.is_empty() {
                    Ok(0)
                } else {
                    Err(invalid("input after the end of the compressed stream"))
                };
            }
            let start = self.plain.len();
            self.plain.resize(start + STEP, 0);
            let (read, written) = (self.decompress.total_in(), self.decompress.total_out());
            let status = self
                .decompress
                .decompress(compressed, &mut self.plain[start..], FlushDecompress::None)
                .map_err(|e| invalid(&e.to_string()))?;
            let taken = (self.decompress.total_in() - read) as usize;
            let made = (self.decompress.total_out() - written) as usize;
            self.plain.truncate(start + made);
            compressed.advance(taken);
            self.ended = status == Status::StreamEnd;
            if made > 0 {
                return Ok(made);
            }
            if taken == 0 {
                return Ok(0);
            }
        }
    }
}

fn invalid(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("compressed input: {what}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::{Compress, Compression, FlushCompress};
    use mailhive_protocol::imap::framer::{CommandFramer, Frame};

    fn deflate(plain: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(plain.len() + 1024);
        Compress::new(Compression::best(), false)
            .compress_vec(plain, &mut out, FlushCompress::Sync)
            .unwrap();
        out
    }

    /// Splits at line ends, as a framer without a limit would.
    fn lines(plain: &mut BytesMut) -> Option<BytesMut> {
        let end = plain.iter().position(|&b| b == b'\n')?;
        Some(plain.split_to(end + 1))
    }

    #[test]
    fn frames_come_out_whole_however_the_input_is_cut() {
        let input = deflate(b"a NOOP\r\nb CAPABILITY\r\nc LOGOUT\r\n");
        for cut in 0..input.len() {
            let mut inflate = Inflate::default();
            let mut got = Vec::new();
            let mut buf = BytesMut::new();
            for piece in [&input[..cut], &input[cut..]] {
                buf.extend_from_slice(piece);
                while let Some(line) = inflate.next_frame(&mut buf, lines).unwrap() {
                    got.push(line);
                }
                assert!(buf.is_empty());
            }
            assert_eq!(got, ["a NOOP\r\n", "b CAPABILITY\r\n", "c LOGOUT\r\n"]);
        }
    }

    #[test]
    fn a_bomb_is_cut_by_the_framers_bounds_as_it_inflates() {
        // 64 MB of one byte without a line end, in about 64 KB.
        let mut buf = BytesMut::from(&deflate(&vec![b'x'; 64 << 20])[..]);
        assert!(buf.len() < 100_000);
        let mut framer = CommandFramer::new(10_240, 1 << 20);
        let mut inflate = Inflate::default();
        let mut frames = Vec::new();
        while let Some(frame) = inflate
            .next_frame(&mut buf, |plain| framer.next_frame(plain))
            .unwrap()
        {
            frames.push(frame);
        }
        assert_eq!(frames, [Frame::TooLong { tag: None }]);
        assert!(buf.is_empty());
        assert!(inflate.plain.capacity() <= 10_240 + 2 * STEP);
        assert_eq!(inflate.decompress.total_out(), 64 << 20);
    }

    #[test]
    fn corrupt_input_and_input_after_the_end_are_errors() {
        let mut buf = BytesMut::from(&b"\xff\xff\xff\xff not deflate"[..]);
        let error = Inflate::default().next_frame(&mut buf, lines).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidData);
        let mut ended = Vec::with_capacity(64);
        Compress::new(Compression::fast(), false)
            .compress_vec(b"a NOOP\r\n", &mut ended, FlushCompress::Finish)
            .unwrap();
        ended.extend_from_slice(b"more");
        let mut buf = BytesMut::from(&ended[..]);
        let mut inflate = Inflate::default();
        assert_eq!(
            inflate.next_frame(&mut buf, lines).unwrap().as_deref(),
            Some(&b"a NOOP\r\n"[..])
        );
        assert!(inflate.next_frame(&mut buf, lines).is_err());
    }
}
