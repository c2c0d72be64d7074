//! Parsing one POP3 command line (already split off by [`crate::line::LineReader`]).
//! Keywords are case-insensitive (RFC 1939 §3); message numbers are 1-based decimals.

use crate::redacted::Secret;

/// A POP3 command; its `Debug` shows no password or SASL response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Capa,
    /// `USER name`
    User(String),
    /// `PASS secret` (the rest of the line: passwords may contain spaces).
    Pass(Secret<String>),
    /// `AUTH mechanism [initial-response]` (RFC 5034).
    Auth {
        mechanism: String,
        initial: Option<Secret<String>>,
    },
    Stls,
    Stat,
    List(Option<u32>),
    Retr(u32),
    Dele(u32),
    Noop,
    Rset,
    Quit,
    /// `TOP msg n`: the header and the first `n` body lines.
    Top {
        message: u32,
        lines: u32,
    },
    Uidl(Option<u32>),
}

/// Why a line is not a command; answered with `-ERR` and the connection goes on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("empty command")]
    Empty,
    #[error("unknown command")]
    Unknown,
    #[error("{0}")]
    Syntax(&'static str),
}

/// Parses a command line (without its CRLF).
pub fn parse(line: &[u8]) -> Result<Command, ParseError> {
    let line =
        std::str::from_utf8(line).map_err(|_| ParseError::Syntax("command is not valid UTF-8"))?;
    if line.contains('\0') {
        return Err(ParseError::Syntax("NUL in command"));
    }
    let (keyword, rest) = match line.split_once(' ') {
        Some((k, r)) => (k, Some(r)),
        None => (line, None),
    };
    if keyword.is_empty() {
        return Err(ParseError::Empty);
    }
    let args: Vec<&str> = rest.map(|r| r.split(' ').collect()).unwrap_or_default();
    let none = |c: Command| {
        if args.is_empty() {
            Ok(c)
        } else {
            Err(ParseError::Syntax("this command takes no argument"))
        }
    };
    match keyword.to_ascii_uppercase().as_str() {
        "CAPA" => none(Command::Capa),
        "STLS" => none(Command::Stls),
        "STAT" => none(Command::Stat),
        "NOOP" => none(Command::Noop),
        "RSET" => none(Command::Rset),
        "QUIT" => none(Command::Quit),
        "USER" => match args.as_slice() {
            [name] if !name.is_empty() => Ok(Command::User((*name).to_owned())),
            _ => Err(ParseError::Syntax("USER takes one name")),
        },
        "PASS" => match rest {
            Some(password) if !password.is_empty() => Ok(Command::Pass(password.into())),
            _ => Err(ParseError::Syntax("PASS takes a password")),
        },
        "AUTH" => match args.as_slice() {
            [] => Err(ParseError::Syntax("AUTH takes a mechanism")),
            [mechanism] => Ok(Command::Auth {
                mechanism: mechanism.to_ascii_uppercase(),
                initial: None,
            }),
            [mechanism, initial] => Ok(Command::Auth {
                mechanism: mechanism.to_ascii_uppercase(),
                initial: Some((*initial).into()),
            }),
            _ => Err(ParseError::Syntax(
                "AUTH takes a mechanism and an optional initial response",
            )),
        },
        "LIST" => optional_number(&args).map(Command::List),
        "UIDL" => optional_number(&args).map(Command::Uidl),
        "RETR" => one_number(&args).map(Command::Retr),
        "DELE" => one_number(&args).map(Command::Dele),
        "TOP" => match args.as_slice() {
            [message, lines] => Ok(Command::Top {
                message: message_number(message)?,
                lines: lines
                    .parse()
                    .map_err(|_| ParseError::Syntax("invalid line count"))?,
            }),
            _ => Err(ParseError::Syntax(
                "TOP takes a message number and a line count",
            )),
        },
        _ => Err(ParseError::Unknown),
    }
}

fn message_number(text: &str) -> Result<u32, ParseError> {
    match text.parse::<u32>() {
        Ok(n) if n > 0 && text.bytes().all(|b| b.is_ascii_digit()) => Ok(n),
        _ => Err(ParseError::Syntax("invalid message number")),
    }
}

fn one_number(args: &[&str]) -> Result<u32, ParseError> {
    match args {
        [n] => message_number(n),
        _ => Err(ParseError::Syntax("this command takes one message number")),
    }
}

fn optional_number(args: &[&str]) -> Result<Option<u32>, ParseError> {
    match args {
        [] => Ok(None),
        [n] => message_number(n).map(Some),
        _ => Err(ParseError::Syntax(
            "this command takes at most one message number",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_parse_case_insensitively() {
        let cases: [(&str, Command); 12] = [
            ("capa", Command::Capa),
            ("USER Karen", Command::User("Karen".into())),
            ("pass two words", Command::Pass("two words".into())),
            (
                "AUTH plain",
                Command::Auth {
                    mechanism: "PLAIN".into(),
                    initial: None,
                },
            ),
            (
                "AUTH PLAIN AGthcmVu",
                Command::Auth {
                    mechanism: "PLAIN".into(),
                    initial: Some("AGthcmVu".into()),
                },
            ),
            ("Stat", Command::Stat),
            ("LIST", Command::List(None)),
            ("LIST 2", Command::List(Some(2))),
            ("RETR 1", Command::Retr(1)),
            ("DELE 3", Command::Dele(3)),
            (
                "TOP 1 0",
                Command::Top {
                    message: 1,
                    lines: 0,
                },
            ),
            ("UIDL 7", Command::Uidl(Some(7))),
        ];
        for (line, want) in cases {
            assert_eq!(parse(line.as_bytes()), Ok(want), "{line}");
        }
    }

    #[test]
    fn bad_lines_are_errors_not_panics() {
        for bad in [
            "",
            " STAT",
            "FOO",
            "RETR",
            "RETR 0",
            "RETR -1",
            "RETR +1",
            "RETR x",
            "RETR 99999999999",
            "LIST 1 2",
            "STAT 1",
            "TOP 1",
            "TOP 1 x",
            "USER",
            "USER a b",
            "PASS",
            "AUTH",
            "DELE 1 2",
            "RETR  1",
            "NO\0OP",
        ] {
            assert!(parse(bad.as_bytes()).is_err(), "{bad:?} should not parse");
        }
        assert_eq!(parse(b"XYZZY"), Err(ParseError::Unknown));
        assert!(parse(&[0xff, 0xfe]).is_err());
    }

    #[test]
    fn debug_output_hides_secrets() {
        assert!(!format!("{:?}", Command::Pass("hunter2".into())).contains("hunter2"));
    }
}
