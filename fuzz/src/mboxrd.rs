//! The mboxrd writer against the mbox reader: any message (a header field first, then
//! bytes spelled with mbox's tokens), written in pieces of any size, reads back as one
//! message with the same bytes apart from its Status and X-Status fields (a final line
//! break added in its own line ending if it lacked one), the flags written and the date
//! of its `From ` line: what `export-mbox` promises `import-mbox`.

use crate::tokens::expand;
use mailhive::mbox::{Format, Item, MboxReader};
use mailhive::mboxrd::MessageWriter;
use mailhive_store::{InternalDate, SystemFlags};

const TOKENS: [&[u8]; 18] = [
    b"From ",
    b">From ",
    b">>From ",
    b"From a@example.org Thu Jan  1 00:00:00 2024\n",
    b"\n",
    b"\r\n",
    b"\r",
    b"\n\n",
    b"Status: RO\n",
    b"X-Status: AFDT\n",
    b"status:",
    b"x-STATUS: F",
    b" folded\n",
    b"\t",
    b"Subject: x\n",
    b">",
    b":",
    b"\xff",
];

/// The header's Status and X-Status fields (with their continuations) left out.
fn without_status(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let (mut in_header, mut dropping) = (true, false);
    for line in raw.split_inclusive(|&b| b == b'\n') {
        if in_header && (line == b"\n" || line == b"\r\n") {
            in_header = false;
        } else if in_header && (line.starts_with(b" ") || line.starts_with(b"\t")) {
            if dropping {
                continue;
            }
        } else if in_header {
            let lower = line.to_ascii_lowercase();
            dropping = lower.starts_with(b"status:") || lower.starts_with(b"x-status:");
            if dropping {
                continue;
            }
        }
        out.extend_from_slice(line);
    }
    out
}

#[test]
fn mboxrd() {
    bolero::check!(name = "mboxrd")
        .with_test_time(crate::SHORT_RUN)
        .for_each(|input: &[u8]| {
            let Some((&choice, program)) = input.split_first() else {
                return;
            };
            let raw = [&b"Subject: fuzz\n"[..], &expand(program, &TOKENS)].concat();
            let flags = SystemFlags::ALL
                .iter()
                .filter(|(f, _)| u8::try_from(raw.len() % 32).unwrap_or(0) & f_bit(*f) != 0)
                .fold(SystemFlags::empty(), |all, (f, _)| all.union(*f));
            let date = InternalDate {
                unix_seconds: 1_704_067_200 + i64::from(choice) * 86_399,
                offset_minutes: 0,
            };
            let piece = usize::from(choice % 16) + 1;
            let mut writer =
                MessageWriter::new(Vec::new(), Some("<a@example.org>"), date, flags).unwrap();
            for part in raw.chunks(piece) {
                writer.write(part).unwrap();
            }
            let mbox = writer.finish().unwrap();
            let items: Vec<Item> = MboxReader::new(&mbox[..], Format::Mboxrd, 1 << 20)
                .unwrap()
                .map(Result::unwrap)
                .collect();
            let [Item::Message(back)] = &items[..] else {
                panic!("not one message: {items:?}");
            };
            let mut want = without_status(&raw);
            if !want.ends_with(b"\n") {
                let crlf = raw
                    .iter()
                    .position(|&b| b == b'\n')
                    .is_some_and(|i| i > 0 && raw[i - 1] == b'\r');
                want.extend_from_slice(if crlf { b"\r\n" } else { b"\n" });
            }
            assert_eq!(
                String::from_utf8_lossy(&without_status(&back.raw)),
                String::from_utf8_lossy(&want)
            );
            assert_eq!(back.flags.system, flags);
            assert_eq!(back.date, Some(date));
        });
}

/// The flag's bit among the first five.
fn f_bit(flag: SystemFlags) -> u8 {
    SystemFlags::ALL
        .iter()
        .position(|(f, _)| *f == flag)
        .map_or(0, |i| 1 << i)
}
