//! The mbox reader: no file panics it, no message it yields is larger than its limit,
//! and messages come in file order.

use mailhive::mbox::{from_line_date, Format, Item, MboxReader};

#[test]
fn mbox() {
    bolero::check!(name = "mbox")
        .with_test_time(crate::SHORT_RUN)
        .for_each(|input: &[u8]| {
            let Some((&choice, file)) = input.split_first() else {
                return;
            };
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
