//! The IMAP encoder's choice of atom, quoted string or literal, read back by a reader
//! written from RFC 3501's grammar alone: every string comes back as it was, and a
//! quoted string or atom never holds a byte that could end the line.

use mailhive_protocol::imap::response::{astring, nstring, string};

/// Reads one astring (`atom`, `"quoted"` or `{n}` CRLF literal) that fills `wire`.
fn read(wire: &[u8]) -> Result<Vec<u8>, String> {
    match wire.first() {
        Some(b'"') => {
            let mut out = Vec::new();
            let mut bytes = wire[1..].iter();
            while let Some(&b) = bytes.next() {
                match b {
                    b'"' if bytes.len() == 0 => return Ok(out),
                    b'\\' => match bytes.next() {
                        Some(&e @ (b'"' | b'\\')) => out.push(e),
                        _ => return Err("bad escape".into()),
                    },
                    b'"' | b'\r' | b'\n' | 0 | 0x80.. => {
                        return Err(format!("{b:#04x} in a quoted string"))
                    }
                    _ => out.push(b),
                }
            }
            Err("unterminated quoted string".into())
        }
        Some(b'{') => {
            let end = wire.iter().position(|&b| b == b'}').ok_or("no }")?;
            let size: usize = std::str::from_utf8(&wire[1..end])
                .map_err(|e| e.to_string())?
                .parse()
                .map_err(|e: std::num::ParseIntError| e.to_string())?;
            let payload = wire[end + 1..].strip_prefix(b"\r\n").ok_or("no CRLF")?;
            if payload.len() != size {
                return Err(format!("literal of {} announced as {size}", payload.len()));
            }
            Ok(payload.to_vec())
        }
        _ if !wire.is_empty()
            && !wire.eq_ignore_ascii_case(b"NIL")
            && wire
                .iter()
                .all(|&b| b > 0x20 && b < 0x7f && !b"(){%*\"\\".contains(&b)) =>
        {
            Ok(wire.to_vec())
        }
        _ => Err("not an astring".into()),
    }
}

/// An encoder of response strings.
type Encoder = fn(&mut Vec<u8>, &[u8]);

#[test]
fn imap_quoting() {
    bolero::check!(name = "imap_quoting")
        .with_test_time(crate::SHORT_RUN)
        .for_each(|input: &[u8]| {
            let encoders: [Encoder; 3] = [astring, string, |out, bytes| nstring(out, Some(bytes))];
            for encode in encoders {
                let mut wire = Vec::new();
                encode(&mut wire, input);
                assert_eq!(read(&wire).as_deref(), Ok(input), "{}", wire.escape_ascii());
            }
        });
}
