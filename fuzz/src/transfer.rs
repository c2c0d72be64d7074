//! The Content-Transfer-Encoding decoders of BINARY: no input panics them, they decode
//! the same however the input is cut, they never make more than their input allows
//! (base64 three bytes per four characters, quoted-printable at most one CR per LF),
//! and base64 gives back what was encoded.

use crate::chunks::cut;
use mailhive_protocol::transfer::{encode_base64_lines, Decoder};

fn decode(encoding: &str, pieces: &[&[u8]]) -> Vec<u8> {
    let mut decoder = Decoder::for_encoding(Some(encoding)).expect("a known encoding");
    let mut out = Vec::new();
    for piece in pieces {
        decoder.push(piece, &mut out);
    }
    decoder.finish(&mut out, true);
    out
}

#[test]
fn transfer() {
    bolero::check!(name = "transfer")
        .with_test_time(crate::SHORT_RUN)
        .for_each(|input: &[u8]| {
            let (data, pieces) = cut(input);
            for encoding in ["base64", "quoted-printable", "binary"] {
                let whole = decode(encoding, &[data]);
                assert_eq!(decode(encoding, &pieces), whole, "{encoding}");
                let most = match encoding {
                    "base64" => data.len() / 4 * 3 + 2,
                    _ => 2 * data.len() + 2,
                };
                assert!(
                    whole.len() <= most,
                    "{encoding}: {} from {}",
                    whole.len(),
                    data.len()
                );
            }
            let mut lines = Vec::new();
            encode_base64_lines(data, &mut lines);
            assert_eq!(decode("base64", &[&lines]), data);
        });
}
