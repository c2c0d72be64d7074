//! The bounded line reader: never holds more than its limit (and a CRLF) of a line,
//! never returns a longer line, and splits the same lines however the input is cut.

use crate::chunks::cut;
use bytes::BytesMut;
use mailhive_protocol::line::{Line, LineReader};

/// The lines `chunks` make, checking the bound after every call.
fn lines(max: usize, chunks: &[&[u8]]) -> Vec<Line> {
    let mut reader = LineReader::new(max);
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    for chunk in chunks {
        buf.extend_from_slice(chunk);
        while let Some(line) = reader.next_line(&mut buf) {
            if let Line::Complete(text) = &line {
                assert!(text.len() <= max, "a line of {} bytes", text.len());
                assert!(!text.contains(&b'\n'));
            }
            out.push(line);
        }
        assert!(buf.len() <= max + 2, "{} bytes kept", buf.len());
    }
    out
}

#[test]
fn line_reader() {
    bolero::check!(name = "line_reader")
        .with_test_time(crate::SHORT_RUN)
        .for_each(|input: &[u8]| {
            let Some((&max, rest)) = input.split_first() else {
                return;
            };
            let max = usize::from(max % 64);
            let (data, pieces) = cut(rest);
            assert_eq!(lines(max, &pieces), lines(max, &[data]));
        });
}
