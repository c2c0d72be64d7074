//! Modified UTF-7 mailbox names: decoding never panics, what decodes is the one form
//! the encoder writes, and every string survives encode then decode.

use mailhive_protocol::imap::mutf7::{decode, encode};

#[test]
fn mutf7() {
    bolero::check!(name = "mutf7")
        .with_test_time(crate::SHORT_RUN)
        .for_each(|input: &[u8]| {
            if let Ok(name) = decode(input) {
                assert_eq!(encode(&name).as_bytes(), input, "not canonical");
            }
            let name = String::from_utf8_lossy(input);
            let wire = encode(&name);
            assert!(wire.bytes().all(|b| (0x20..0x7f).contains(&b)), "{wire:?}");
            assert_eq!(decode(wire.as_bytes()).as_deref(), Ok(&*name));
        });
}
