//! The mbox reader, given files spelled with mbox's tokens (`From ` lines with and
//! without dates, escaped `>From `, status headers): no file panics it, no message it
//! yields is larger than its limit, and messages come in file order.

use crate::tokens::expand;
use mailhive::mbox::{from_line_date, Format, Item, MboxReader};

const TOKENS: [&[u8]; 16] = [
    b"From a@example.org Thu Jan  1 00:00:00 2024\n",
    b"From b Mon Feb 29 23:59:60 +0100 2024\r\n",
    b"From ",
    b"From x Sun Dec 31 24:61:99 99999999999\n",
    b">From ",
    b">>From ",
    b"\n",
    b"\r\n",
    b"Status: RO\n",
    b"X-Status: AFDT\n",
    b"Subject: x\n",
    b"\n\n",
    b" ",
    b"Thu Jan  1 00:00:00 ",
    b":",
    b"\xff",
];

#[test]
fn mbox() {
    bolero::check!(name = "mbox")
        .with_test_time(crate::SHORT_RUN)
        .for_each(|input: &[u8]| {
            let Some((&choice, program)) = input.split_first() else {
                return;
            };
            let file = &expand(program, &TOKENS)[..];
            let _ = from_line_date(file);
            let format = if choice % 2 == 0 {
                Format::Mboxrd
            } else {
                Format::Mboxo
            };
            let max = usize::from(choice / 2) * 16;
            let Ok(reader) = MboxReader::new(file, format, max) else {
                return;
            };
            let mut offset = None;
            for item in reader {
                let Ok(item) = item else { break };
                let at = match item {
                    Item::Message(message) => {
                        assert!(message.raw.len() <= max, "{} > {max}", message.raw.len());
                        message.offset
                    }
                    Item::Malformed { offset, .. } => offset,
                };
                assert!(
                    offset < Some(at) && at <= file.len() as u64,
                    "{offset:?} {at}"
                );
                offset = Some(at);
            }
        });
}
