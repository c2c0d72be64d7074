//! Fuzz bytes turned into input built from a grammar's tokens, so that random bytes
//! reach deep into a parser: a byte below 0x80 stands for itself, a byte from 0x80 on
//! picks a token.

/// The input `program` spells with `tokens`.
pub fn expand(program: &[u8], tokens: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for &b in program {
        match b.checked_sub(0x80) {
            Some(pick) if !tokens.is_empty() => {
                out.extend_from_slice(tokens[usize::from(pick) % tokens.len()])
            }
            _ => out.push(b),
        }
    }
    out
}
