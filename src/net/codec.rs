//! A tokio-util decoder over the protocol crate's bounded [`LineReader`], with the limit
//! of the current settings (MaxCommandSize).

use crate::config::Setting;
use crate::settings::Live;
use bytes::BytesMut;
use mailhive_protocol::line::{Line, LineReader};
use tokio_util::codec::Decoder;

#[derive(Debug)]
pub struct LineCodec {
    reader: LineReader,
    settings: Live,
}

/// MaxCommandSize now.
fn max_line(settings: &Live) -> usize {
    settings.borrow().get(Setting::MaxCommandSize).unwrap_or(0) as usize
}

impl LineCodec {
    /// Lines longer than MaxCommandSize are reported as [`Line::TooLong`], never buffered.
    pub fn new(mut settings: Live) -> Self {
        settings.mark_unchanged();
        LineCodec {
            reader: LineReader::new(max_line(&settings)),
            settings,
        }
    }
}

impl Decoder for LineCodec {
    type Item = Line;
    type Error = std::io::Error;

    fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Line>, Self::Error> {
        if self.settings.has_changed().unwrap_or(false) {
            self.settings.mark_unchanged();
            self.reader.set_max(max_line(&self.settings));
        }
        Ok(self.reader.next_line(buf))
    }
}
