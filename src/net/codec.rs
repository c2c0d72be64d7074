//! A tokio-util decoder over the protocol crate's bounded [`LineReader`].

use bytes::BytesMut;
use mailhive_protocol::line::{Line, LineReader};
use tokio_util::codec::Decoder;

#[derive(Debug)]
pub struct LineCodec {
    reader: LineReader,
}

impl LineCodec {
    /// Lines longer than `max` bytes are reported as [`Line::TooLong`], never buffered.
    pub fn new(max: usize) -> Self {
        LineCodec {
            reader: LineReader::new(max),
        }
    }
}

impl Decoder for LineCodec {
    type Item = Line;
    type Error = std::io::Error;

    fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Line>, Self::Error> {
        Ok(self.reader.next_line(buf))
    }
}
