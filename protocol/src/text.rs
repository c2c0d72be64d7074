//! Human-readable response text (after `OK`, `NO`, `+OK`, `-ERR`…), made one line of
//! printable ASCII whatever it holds. Such text cannot carry a literal, so this is how
//! text that quotes client input stays a single well-formed line in both protocols.

/// `text` with line breaks as spaces and other control bytes and 8-bit bytes as `?`.
pub fn one_line(text: &str) -> impl Iterator<Item = u8> + '_ {
    text.bytes().map(|b| match b {
        b'\r' | b'\n' => b' ',
        0x20..=0x7e => b,
        _ => b'?',
    })
}
