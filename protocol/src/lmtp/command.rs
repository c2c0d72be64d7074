//! Parsing one LMTP command line (already split off by [`super::input::Input`]).
//! Verbs and parameter names are case-insensitive (RFC 5321 §2.4); paths are kept as
//! written, without their angle brackets.

/// The longest path accepted in MAIL FROM or RCPT TO (RFC 5321 §4.5.3.1.3).
pub const MAX_PATH: usize = 256;

/// A message body type (RFC 6152).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    SevenBit,
    EightBitMime,
}

/// An LMTP command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `LHLO domain`
    Lhlo(String),
    /// `MAIL FROM:<path> [SIZE=n] [BODY=7BIT|8BITMIME]`; an empty sender is the null
    /// path `<>` of bounces.
    Mail {
        sender: String,
        size: Option<u64>,
        body: Body,
    },
    /// `RCPT TO:<path>`
    Rcpt(String),
    Data,
    /// `BDAT size [LAST]` (RFC 3030): `size` bytes of the message follow the line.
    Bdat {
        size: u64,
        last: bool,
    },
    Rset,
    Noop,
    /// `VRFY string`, answered 252 whatever it names.
    Vrfy,
    Quit,
}

/// Why a line is not a command; the connection goes on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("Command not recognized")]
    Unknown,
    #[error("{0}")]
    Syntax(&'static str),
    #[error("Unsupported parameter")]
    Parameter,
}

/// Parses a command line (without its CRLF).
pub fn parse(line: &[u8]) -> Result<Command, ParseError> {
    let line = std::str::from_utf8(line).map_err(|_| ParseError::Syntax("Not ASCII"))?;
    if !line.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return Err(ParseError::Syntax("Not printable ASCII"));
    }
    let (verb, rest) = line.split_once(' ').unwrap_or((line, ""));
    let no_argument = |command: Command| {
        if rest.is_empty() {
            Ok(command)
        } else {
            Err(ParseError::Syntax("This command takes no argument"))
        }
    };
    match verb.to_ascii_uppercase().as_str() {
        "LHLO" => match rest.split(' ').collect::<Vec<_>>().as_slice() {
            [domain] if !domain.is_empty() => Ok(Command::Lhlo((*domain).to_owned())),
            _ => Err(ParseError::Syntax("LHLO takes a domain")),
        },
        "MAIL" => mail(rest),
        "RCPT" => {
            let (path, parameters) = path_after(rest, "TO:")?;
            if path.is_empty() {
                return Err(ParseError::Syntax("A recipient cannot be empty"));
            }
            match parameters.is_empty() {
                true => Ok(Command::Rcpt(path.to_owned())),
                false => Err(ParseError::Parameter),
            }
        }
        "DATA" => no_argument(Command::Data),
        "BDAT" => bdat(rest),
        "RSET" => no_argument(Command::Rset),
        "NOOP" => Ok(Command::Noop),
        "VRFY" if !rest.is_empty() => Ok(Command::Vrfy),
        "VRFY" => Err(ParseError::Syntax("VRFY takes a string")),
        "QUIT" => no_argument(Command::Quit),
        _ => Err(ParseError::Unknown),
    }
}

/// `MAIL FROM:<path> [mail-parameters]`
fn mail(rest: &str) -> Result<Command, ParseError> {
    let (sender, parameters) = path_after(rest, "FROM:")?;
    let (mut size, mut body) = (None, Body::SevenBit);
    for parameter in parameters.split(' ').filter(|p| !p.is_empty()) {
        let (name, value) = parameter.split_once('=').unwrap_or((parameter, ""));
        match name.to_ascii_uppercase().as_str() {
            "SIZE" if size.is_none() => size = Some(number(value, "Invalid SIZE")?),
            "BODY" if value.eq_ignore_ascii_case("7BIT") => body = Body::SevenBit,
            "BODY" if value.eq_ignore_ascii_case("8BITMIME") => body = Body::EightBitMime,
            _ => return Err(ParseError::Parameter),
        }
    }
    Ok(Command::Mail {
        sender: sender.to_owned(),
        size,
        body,
    })
}

/// `BDAT chunk-size [SP "LAST"]`
fn bdat(rest: &str) -> Result<Command, ParseError> {
    match rest.split(' ').collect::<Vec<_>>().as_slice() {
        [size] => Ok(Command::Bdat {
            size: number(size, "Invalid chunk size")?,
            last: false,
        }),
        [size, last] if last.eq_ignore_ascii_case("LAST") => Ok(Command::Bdat {
            size: number(size, "Invalid chunk size")?,
            last: true,
        }),
        _ => Err(ParseError::Syntax("BDAT takes a size and an optional LAST")),
    }
}

fn number(text: &str, what: &'static str) -> Result<u64, ParseError> {
    match text.bytes().all(|b| b.is_ascii_digit()) && !text.is_empty() && text.len() <= 18 {
        true => text.parse().map_err(|_| ParseError::Syntax(what)),
        false => Err(ParseError::Syntax(what)),
    }
}

/// The path of `FROM:<path> params` (or `TO:`), and the parameters after it. A space
/// after the colon is tolerated, as in most servers.
fn path_after<'a>(rest: &'a str, keyword: &str) -> Result<(&'a str, &'a str), ParseError> {
    let head = rest.get(..keyword.len()).unwrap_or("");
    if !head.eq_ignore_ascii_case(keyword) {
        return Err(ParseError::Syntax("Expected FROM:<path> or TO:<path>"));
    }
    let rest = rest[keyword.len()..].trim_start_matches(' ');
    let inner = rest
        .strip_prefix('<')
        .and_then(|r| r.split_once('>'))
        .ok_or(ParseError::Syntax("A path is written <address>"))?;
    let (path, parameters) = inner;
    if path.len() > MAX_PATH {
        return Err(ParseError::Syntax("Path too long"));
    }
    if path.contains(['<', ' ']) || path.starts_with('@') {
        return Err(ParseError::Syntax("Invalid address"));
    }
    match parameters.strip_prefix(' ') {
        Some(parameters) => Ok((path, parameters)),
        None if parameters.is_empty() => Ok((path, "")),
        None => Err(ParseError::Syntax("A space must follow the path")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_parse_case_insensitively() {
        let mail = |sender: &str, size, body| Command::Mail {
            sender: sender.into(),
            size,
            body,
        };
        let cases = [
            (
                "LHLO mx.example.org",
                Command::Lhlo("mx.example.org".into()),
            ),
            ("mail from:<a@b.c>", mail("a@b.c", None, Body::SevenBit)),
            ("MAIL FROM:<>", mail("", None, Body::SevenBit)),
            (
                "MAIL FROM: <a@b> SIZE=1000 body=8bitmime",
                mail("a@b", Some(1000), Body::EightBitMime),
            ),
            (
                "RCPT TO:<Alice+x@Example.org>",
                Command::Rcpt("Alice+x@Example.org".into()),
            ),
            ("data", Command::Data),
            (
                "BDAT 0 LAST",
                Command::Bdat {
                    size: 0,
                    last: true,
                },
            ),
            (
                "bdat 512",
                Command::Bdat {
                    size: 512,
                    last: false,
                },
            ),
            ("RSET", Command::Rset),
            ("NOOP", Command::Noop),
            ("NOOP anything", Command::Noop),
            ("VRFY alice", Command::Vrfy),
            ("QUIT", Command::Quit),
        ];
        for (line, want) in cases {
            assert_eq!(parse(line.as_bytes()), Ok(want), "{line}");
        }
    }

    #[test]
    fn bad_lines_are_errors_not_panics() {
        for bad in [
            "",
            "LHLO",
            "LHLO a b",
            "MAIL",
            "MAIL TO:<a>",
            "MAIL FROM:a@b",
            "MAIL FROM:<a@b",
            "MAIL FROM:<a@b>x",
            "MAIL FROM:<a@b> SIZE=x",
            "MAIL FROM:<a@b> SIZE=99999999999999999999",
            "RCPT TO:<>",
            "RCPT TO:<a b@c>",
            "RCPT TO:<@relay:a@b>",
            "DATA x",
            "BDAT",
            "BDAT -1",
            "BDAT 1 FIRST",
            "BDAT 1 LAST x",
            "VRFY",
            "QUIT now",
            "RSET\0",
            "M\u{e9}IL",
        ] {
            assert!(parse(bad.as_bytes()).is_err(), "{bad:?} should not parse");
        }
        assert_eq!(parse(b"HELO x"), Err(ParseError::Unknown));
        assert_eq!(parse(b"EHLO x"), Err(ParseError::Unknown));
        assert_eq!(parse(b"MAIL FROM:<a> RET=FULL"), Err(ParseError::Parameter));
        assert_eq!(
            parse(b"RCPT TO:<a> NOTIFY=NEVER"),
            Err(ParseError::Parameter)
        );
        let long = format!("RCPT TO:<{}@b>", "a".repeat(MAX_PATH));
        assert!(parse(long.as_bytes()).is_err());
    }
}
