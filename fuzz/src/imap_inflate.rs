//! COMPRESS's inflating input in front of the IMAP command framer: IMAP-ish input
//! deflated (with sync flushes where the fuzzer says) and cut anywhere frames exactly as
//! the plain input does; raw bytes taken as a compressed stream are framed or refused
//! as invalid, never a panic.

use crate::chunks::cut;
use crate::imap_framer::imapish;
use bytes::BytesMut;
use flate2::{Compress, Compression, FlushCompress};
use mailhive::net::inflate::Inflate;
use mailhive_protocol::imap::framer::{CommandFramer, Frame};

fn framer() -> CommandFramer {
    let mut framer = CommandFramer::new(64, 64);
    framer.set_logged_in(true);
    framer
}

/// The frames of `pieces` through an inflater, or `None` once the input is invalid.
fn inflated(pieces: &[&[u8]]) -> Option<Vec<Frame>> {
    let (mut framer, mut inflate) = (framer(), Inflate::default());
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    for piece in pieces {
        buf.extend_from_slice(piece);
        while let Some(frame) = inflate
            .next_frame(&mut buf, |p| framer.next_frame(p))
            .ok()?
        {
            out.push(frame);
        }
        assert!(buf.is_empty(), "{} compressed bytes left", buf.len());
    }
    Some(out)
}

fn plain(data: &[u8]) -> Vec<Frame> {
    let mut framer = framer();
    let mut buf = BytesMut::from(data);
    std::iter::from_fn(|| framer.next_frame(&mut buf)).collect()
}

#[test]
fn imap_inflate() {
    bolero::check!(name = "imap_inflate")
        .with_test_time(crate::SHORT_RUN)
        .for_each(|input: &[u8]| {
            let (data, pieces) = cut(input);
            let _ = inflated(&pieces);
            let wire = imapish(data);
            let mut compress = Compress::new(Compression::fast(), false);
            let mut deflated = vec![input.len() as u8 % 7];
            for block in wire.chunks(usize::from(input.first().copied().unwrap_or(0)).max(1)) {
                deflated.reserve(block.len() * 2 + 64);
                compress
                    .compress_vec(block, &mut deflated, FlushCompress::Sync)
                    .expect("deflate");
            }
            // The first byte says where the compressed stream is cut.
            let (_, cuts) = cut(&deflated);
            assert_eq!(inflated(&cuts), Some(plain(&wire)));
        });
}
