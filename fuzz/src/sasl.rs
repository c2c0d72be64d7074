//! SASL PLAIN: decoding any response never panics, and credentials survive encode then
//! decode.

use mailhive_protocol::sasl::{decode_plain, encode_plain};

#[test]
fn sasl() {
    bolero::check!(name = "sasl")
        .with_test_time(crate::SHORT_RUN)
        .for_each(|input: &[u8]| {
            let _ = decode_plain(input);
            let text = String::from_utf8_lossy(input).replace('\0', "");
            let (user, password) = text.split_once(':').unwrap_or((&text, ""));
            if user.is_empty() {
                return;
            }
            let decoded = decode_plain(encode_plain(user, password).as_bytes());
            let credentials = decoded.unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(credentials.authorize_as, "");
            assert_eq!(credentials.user, user);
            assert_eq!(credentials.password, password);
        });
}
