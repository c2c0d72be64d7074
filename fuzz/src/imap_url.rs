//! IMAP URLs of CATENATE: no input panics the parser, and what a refused URL is echoed
//! as in `[BADURL url]` is printable ASCII that cannot end the response code.

use mailhive_protocol::imap::url::{echo, parse};

#[test]
fn imap_url() {
    bolero::check!(name = "imap_url")
        .with_test_time(crate::SHORT_RUN)
        .for_each(|input: &[u8]| {
            let text = String::from_utf8_lossy(input);
            let _ = parse(&text);
            let echoed = echo(&text);
            assert!(
                echoed
                    .bytes()
                    .all(|b| b.is_ascii_graphic() && !b"[]\"\\".contains(&b)),
                "{echoed:?}"
            );
        });
}
