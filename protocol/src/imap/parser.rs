//! The IMAP command grammar (RFC 3501 §9 and the extensions' additions), parsed from one
//! complete command as the [`super::framer`] delivers it. Hand-written recursive
//! descent over a cursor: every rule takes bytes off the front or fails with a reason
//! that the server sends back in its BAD answer. Nesting (SEARCH parentheses, NOT, OR)
//! is bounded so that no input can exhaust the stack.

mod esearch;
mod quota;
mod sort;

use super::command::*;
pub use super::mutf7::MailboxEncoding;
use super::sequence::SequenceSet;
use crate::redacted::Secret;
use bytes::Bytes;

mod append;
mod list;
pub use append::{parse_section, MAX_APPEND_MESSAGES, MAX_CATENATE_PARTS};
pub use list::MAX_LIST_PATTERNS;
pub use quota::MAX_SETQUOTA_RESOURCES;

/// A command that cannot be carried out as sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct ParseError {
    /// The tag, when one could be read (the answer is tagged with it).
    pub tag: Option<String>,
    pub reason: String,
    pub kind: ErrorKind,
}

/// Why a command was not parsed, which decides its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// It does not follow the grammar: BAD.
    Syntax,
    /// It follows the grammar, but names a mailbox in a form that is not valid
    /// modified UTF-7 (RFC 3501 §5.1.3): NO, as for a name that cannot exist.
    InvalidMailboxName,
}

/// How deep SEARCH keys may nest.
const MAX_NESTING: usize = 64;

type Parsed<T> = Result<T, String>;

/// One SELECT / EXAMINE parameter.
enum SelectParameter {
    Condstore,
    Qresync(Qresync),
}

/// Parses one complete command (terminator included), mailbox names in modified
/// UTF-7.
pub fn parse(input: &Bytes) -> Result<Request, ParseError> {
    parse_with(input, MailboxEncoding::ModifiedUtf7)
}

/// Parses one complete command with mailbox names in `names` (UTF-8 once the client
/// has enabled UTF8=ACCEPT, RFC 6855 §3).
pub fn parse_with(input: &Bytes, names: MailboxEncoding) -> Result<Request, ParseError> {
    let mut cursor = Cursor {
        input,
        pos: 0,
        invalid_name: None,
        names,
    };
    let tag = cursor.tag().map_err(|reason| ParseError {
        tag: None,
        reason,
        kind: ErrorKind::Syntax,
    })?;
    let command = cursor
        .sp()
        .and_then(|()| cursor.command())
        .and_then(|command| cursor.end().map(|()| command))
        .map_err(|reason| ParseError {
            tag: Some(tag.clone()),
            reason,
            kind: ErrorKind::Syntax,
        })?;
    if let Some(reason) = cursor.invalid_name {
        return Err(ParseError {
            tag: Some(tag),
            reason,
            kind: ErrorKind::InvalidMailboxName,
        });
    }
    Ok(Request { tag, command })
}

/// Whether `b` may appear in a tag (an ASTRING-CHAR other than `+`).
pub fn is_tag_char(b: u8) -> bool {
    is_astring_char(b) && b != b'+'
}

fn is_atom_char(b: u8) -> bool {
    b > 0x20 && b < 0x7f && !b"(){%*\"\\]".contains(&b)
}

fn is_astring_char(b: u8) -> bool {
    is_atom_char(b) || b == b']'
}

fn is_list_char(b: u8) -> bool {
    is_astring_char(b) || b == b'%' || b == b'*'
}

struct Cursor<'a> {
    input: &'a Bytes,
    pos: usize,
    /// A mailbox name that is not valid modified UTF-7 was read (the command is
    /// parsed to its end, then refused with this reason).
    invalid_name: Option<String>,
    /// How mailbox names and LIST patterns are written.
    names: MailboxEncoding,
}

impl Cursor<'_> {
    fn rest(&self) -> &[u8] {
        &self.input[self.pos..]
    }

    fn peek(&self) -> Option<u8> {
        self.input.get(self.pos).copied()
    }

    fn eat(&mut self, b: u8) -> bool {
        let found = self.peek() == Some(b);
        if found {
            self.pos += 1;
        }
        found
    }

    fn expect(&mut self, b: u8) -> Parsed<()> {
        if self.eat(b) {
            Ok(())
        } else {
            Err(format!("expected '{}'", b as char))
        }
    }

    fn sp(&mut self) -> Parsed<()> {
        if self.eat(b' ') {
            Ok(())
        } else if self.at_end() {
            Err("missing arguments".into())
        } else {
            Err("expected a single space".into())
        }
    }

    fn at_end(&self) -> bool {
        matches!(self.rest(), b"\r\n" | b"\n")
    }

    fn end(&mut self) -> Parsed<()> {
        if self.at_end() {
            self.pos = self.input.len();
            Ok(())
        } else if self.peek() == Some(0) || self.rest().contains(&0) {
            Err("NUL byte in command".into())
        } else {
            Err("unexpected characters at the end of the command".into())
        }
    }

    fn take_while(&mut self, keep: impl Fn(u8) -> bool) -> &[u8] {
        let start = self.pos;
        while self.peek().is_some_and(&keep) {
            self.pos += 1;
        }
        &self.input[start..self.pos]
    }

    fn tag(&mut self) -> Parsed<String> {
        let tag = self.take_while(is_tag_char);
        if tag.is_empty() {
            return Err("missing or invalid tag".into());
        }
        Ok(String::from_utf8_lossy(tag).into_owned())
    }

    /// An atom, upper-cased (command names, keywords of the grammar).
    fn word(&mut self) -> Parsed<String> {
        let word = self.take_while(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
        if word.is_empty() {
            return Err("expected a keyword".into());
        }
        Ok(String::from_utf8_lossy(word).to_ascii_uppercase())
    }

    fn atom(&mut self) -> Parsed<String> {
        let atom = self.take_while(is_atom_char);
        if atom.is_empty() {
            return Err("expected an atom".into());
        }
        Ok(String::from_utf8_lossy(atom).into_owned())
    }

    fn number(&mut self) -> Parsed<u32> {
        let digits = self.take_while(|b| b.is_ascii_digit());
        if digits.is_empty() || digits.len() > 10 {
            return Err("expected a number".into());
        }
        std::str::from_utf8(digits)
            .ok()
            .and_then(|d| d.parse().ok())
            .ok_or_else(|| "number out of range".into())
    }

    fn nz_number(&mut self) -> Parsed<u32> {
        match self.number()? {
            0 => Err("expected a non-zero number".into()),
            n => Ok(n),
        }
    }

    fn quoted(&mut self) -> Parsed<Vec<u8>> {
        self.expect(b'"')?;
        let mut out = Vec::new();
        loop {
            match self.peek() {
                None | Some(b'\r' | b'\n') => return Err("unterminated quoted string".into()),
                Some(0) => return Err("NUL byte in quoted string".into()),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.pos += 1;
                    match self.peek() {
                        Some(c @ (b'"' | b'\\')) => out.push(c),
                        _ => return Err("invalid escape in quoted string".into()),
                    }
                    self.pos += 1;
                }
                Some(c) => {
                    out.push(c);
                    self.pos += 1;
                }
            }
        }
    }

    /// `{n}` or `{n+}`, CRLF, then n bytes (the framer has checked they are all here).
    fn literal(&mut self, allow_nul: bool) -> Parsed<Bytes> {
        self.expect(b'{')?;
        let size = self.number()? as usize;
        self.eat(b'+');
        self.expect(b'}')?;
        self.eat(b'\r');
        self.expect(b'\n')?;
        let end = self.pos + size;
        if end > self.input.len() {
            return Err("literal shorter than announced".into());
        }
        let bytes = self.input.slice(self.pos..end);
        if !allow_nul && bytes.contains(&0) {
            return Err("NUL byte in literal".into());
        }
        self.pos = end;
        Ok(bytes)
    }

    fn string(&mut self) -> Parsed<Bytes> {
        match self.peek() {
            Some(b'"') => self.quoted().map(Bytes::from),
            Some(b'{') => self.literal(false),
            _ => Err("expected a string".into()),
        }
    }

    fn astring(&mut self) -> Parsed<Bytes> {
        match self.peek() {
            Some(b'"' | b'{') => self.string(),
            _ => {
                let start = self.pos;
                if self.take_while(is_astring_char).is_empty() {
                    return Err("expected a string or atom".into());
                }
                Ok(self.input.slice(start..self.pos))
            }
        }
    }

    fn text(&mut self) -> Parsed<String> {
        let bytes = self.astring()?;
        String::from_utf8(bytes.to_vec()).map_err(|_| "string is not valid UTF-8".into())
    }

    fn nstring(&mut self) -> Parsed<Option<String>> {
        if self.rest().len() >= 3 && self.rest()[..3].eq_ignore_ascii_case(b"NIL") {
            self.pos += 3;
            return Ok(None);
        }
        let bytes = self.string()?;
        String::from_utf8(bytes.to_vec())
            .map(Some)
            .map_err(|_| "string is not valid UTF-8".into())
    }

    fn mailbox(&mut self) -> Parsed<String> {
        let raw = self.astring()?;
        Ok(self.names.decode(&raw).unwrap_or_else(|e| {
            self.invalid_name
                .get_or_insert_with(|| format!("Invalid mailbox name: {e}"));
            String::from_utf8_lossy(&raw).into_owned()
        }))
    }

    fn list_pattern(&mut self) -> Parsed<String> {
        let raw = match self.peek() {
            Some(b'"' | b'{') => self.string()?,
            _ => {
                let start = self.pos;
                if self.take_while(is_list_char).is_empty() {
                    return Err("expected a mailbox pattern".into());
                }
                self.input.slice(start..self.pos)
            }
        };
        // A pattern that is not valid in the names' encoding is matched as it is: it
        // names nothing, so LIST answers nothing for it.
        Ok(self
            .names
            .decode(&raw)
            .unwrap_or_else(|_| String::from_utf8_lossy(&raw).into_owned()))
    }

    /// A mod-sequence value (RFC 7162 §7): 1 to 2^63 - 1, or 0 where `zero` allows it.
    fn modseq(&mut self, zero: bool) -> Parsed<u64> {
        let digits = self.take_while(|b| b.is_ascii_digit());
        let value = std::str::from_utf8(digits)
            .ok()
            .filter(|d| !d.is_empty() && d.len() <= 19)
            .and_then(|d| d.parse::<u64>().ok())
            .filter(|&v| v < 1 << 63)
            .ok_or("expected a mod-sequence value")?;
        if value == 0 && !zero {
            return Err("expected a non-zero mod-sequence value".into());
        }
        Ok(value)
    }

    /// `CONDSTORE` or `QRESYNC (uidvalidity modseq [known-uids [(seqs uids)]])`.
    fn select_parameter(&mut self) -> Parsed<SelectParameter> {
        match self.word()?.as_str() {
            "CONDSTORE" => Ok(SelectParameter::Condstore),
            "QRESYNC" => {
                self.sp()?;
                self.expect(b'(')?;
                let uid_validity = self.nz_number()?;
                self.sp()?;
                let modseq = self.modseq(false)?;
                let (mut known_uids, mut seq_match) = (None, None);
                if self.eat(b' ') {
                    if self.peek() != Some(b'(') {
                        known_uids = Some(self.sequence_set()?);
                    }
                    if known_uids.is_none() || self.eat(b' ') {
                        self.expect(b'(')?;
                        let seqs = self.sequence_set()?;
                        self.sp()?;
                        let uids = self.sequence_set()?;
                        self.expect(b')')?;
                        seq_match = Some((seqs, uids));
                    }
                }
                self.expect(b')')?;
                Ok(SelectParameter::Qresync(Qresync {
                    uid_validity,
                    modseq,
                    known_uids,
                    seq_match,
                }))
            }
            other => Err(format!("unknown SELECT parameter {other}")),
        }
    }

    fn sequence_set(&mut self) -> Parsed<SequenceSet> {
        if self.eat(b'$') {
            return Ok(SequenceSet::SAVED);
        }
        let text = self.take_while(|b| b.is_ascii_digit() || b == b':' || b == b',' || b == b'*');
        SequenceSet::parse(text).ok_or_else(|| "invalid sequence set".into())
    }

    /// `(a b c)` of items read by `item`, possibly empty when `allow_empty`.
    fn list<T>(
        &mut self,
        allow_empty: bool,
        mut item: impl FnMut(&mut Self) -> Parsed<T>,
    ) -> Parsed<Vec<T>> {
        self.expect(b'(')?;
        let mut out = Vec::new();
        if self.eat(b')') {
            return if allow_empty {
                Ok(out)
            } else {
                Err("empty list".into())
            };
        }
        loop {
            out.push(item(self)?);
            if self.eat(b')') {
                return Ok(out);
            }
            if !self.eat(b' ') {
                return Err("expected ' ' or ')' in list".into());
            }
        }
    }

    fn flag(&mut self) -> Parsed<Flag> {
        if self.eat(b'\\') {
            let name = self.atom()?;
            return match name.to_ascii_uppercase().as_str() {
                "SEEN" => Ok(Flag::Seen),
                "ANSWERED" => Ok(Flag::Answered),
                "FLAGGED" => Ok(Flag::Flagged),
                "DELETED" => Ok(Flag::Deleted),
                "DRAFT" => Ok(Flag::Draft),
                "RECENT" => Ok(Flag::Recent),
                _ => Err(format!("unknown system flag \\{name}")),
            };
        }
        self.atom().map(Flag::Keyword)
    }

    fn date(&mut self) -> Parsed<Date> {
        let quoted = self.eat(b'"');
        let day = self.number()?;
        self.expect(b'-')?;
        let month = self.month()?;
        self.expect(b'-')?;
        let year = self.number()?;
        if quoted {
            self.expect(b'"')?;
        }
        make_date(year, month, day)
    }

    fn month(&mut self) -> Parsed<u8> {
        const MONTHS: [&[u8]; 12] = [
            b"JAN", b"FEB", b"MAR", b"APR", b"MAY", b"JUN", b"JUL", b"AUG", b"SEP", b"OCT", b"NOV",
            b"DEC",
        ];
        let name = self.rest().get(..3).ok_or("expected a month")?;
        let month = MONTHS
            .iter()
            .position(|m| m.eq_ignore_ascii_case(name))
            .ok_or("expected a month name")?;
        self.pos += 3;
        Ok(month as u8 + 1)
    }

    fn date_time(&mut self) -> Parsed<DateTime> {
        self.expect(b'"')?;
        self.eat(b' ');
        let day = self.number()?;
        self.expect(b'-')?;
        let month = self.month()?;
        self.expect(b'-')?;
        let year = self.number()?;
        let date = make_date(year, month, day)?;
        self.expect(b' ')?;
        let two_digits = |cursor: &mut Self, max: u32| -> Parsed<u8> {
            let digits = cursor.take_while(|b| b.is_ascii_digit());
            let value = match digits {
                [a, b] => u32::from(a - b'0') * 10 + u32::from(b - b'0'),
                _ => return Err("expected two digits in the time".to_string()),
            };
            if value > max {
                return Err("time out of range".into());
            }
            Ok(value as u8)
        };
        let hour = two_digits(self, 23)?;
        self.expect(b':')?;
        let minute = two_digits(self, 59)?;
        self.expect(b':')?;
        let second = two_digits(self, 60)?;
        self.expect(b' ')?;
        let sign = match self.peek() {
            Some(b'+') => 1,
            Some(b'-') => -1,
            _ => return Err("expected a time zone".into()),
        };
        self.pos += 1;
        let zone = self.take_while(|b| b.is_ascii_digit());
        let [h1, h2, m1, m2] = zone else {
            return Err("expected a four-digit time zone".into());
        };
        let hours = i16::from((h1 - b'0') * 10 + (h2 - b'0'));
        let minutes = i16::from((m1 - b'0') * 10 + (m2 - b'0'));
        if minutes > 59 {
            return Err("time zone out of range".into());
        }
        self.expect(b'"')?;
        Ok(DateTime {
            date,
            hour,
            minute,
            second,
            zone_minutes: sign * (hours * 60 + minutes),
        })
    }

    fn command(&mut self) -> Parsed<Command> {
        let name = self.word()?;
        let command = match name.as_str() {
            "CAPABILITY" => Command::Capability,
            "NOOP" => Command::Noop,
            "LOGOUT" => Command::Logout,
            "STARTTLS" => Command::StartTls,
            "CHECK" => Command::Check,
            "CLOSE" => Command::Close,
            "UNSELECT" => Command::Unselect,
            "EXPUNGE" => Command::Expunge { uids: None },
            "IDLE" => Command::Idle,
            "NAMESPACE" => Command::Namespace,
            "AUTHENTICATE" => {
                self.sp()?;
                let mechanism = self.atom()?.to_ascii_uppercase();
                let initial = if self.eat(b' ') {
                    let response = self.take_while(|b| {
                        b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'='
                    });
                    if response.is_empty() {
                        return Err("invalid initial response".into());
                    }
                    Some(Secret(response.to_vec()))
                } else {
                    None
                };
                Command::Authenticate { mechanism, initial }
            }
            "LOGIN" => {
                self.sp()?;
                let user = self.text()?;
                self.sp()?;
                let password = Secret(self.text()?);
                Command::Login { user, password }
            }
            "SELECT" | "EXAMINE" => {
                self.sp()?;
                let mailbox = self.mailbox()?;
                let (mut condstore, mut qresync) = (false, None);
                if self.eat(b' ') {
                    for parameter in self.list(false, Self::select_parameter)? {
                        match parameter {
                            SelectParameter::Condstore => condstore = true,
                            SelectParameter::Qresync(q) if qresync.is_none() => qresync = Some(q),
                            SelectParameter::Qresync(_) => return Err("QRESYNC given twice".into()),
                        }
                    }
                }
                Command::Select {
                    mailbox,
                    read_only: name == "EXAMINE",
                    condstore,
                    qresync,
                }
            }
            "CREATE" => self.create_command()?,
            "DELETE" => {
                self.sp()?;
                Command::Delete(self.mailbox()?)
            }
            "SUBSCRIBE" => {
                self.sp()?;
                Command::Subscribe(self.mailbox()?)
            }
            "UNSUBSCRIBE" => {
                self.sp()?;
                Command::Unsubscribe(self.mailbox()?)
            }
            "RENAME" => {
                self.sp()?;
                let from = self.mailbox()?;
                self.sp()?;
                let to = self.mailbox()?;
                Command::Rename { from, to }
            }
            "LIST" => self.list_command()?,
            "LSUB" => {
                self.sp()?;
                let reference = self.mailbox()?;
                self.sp()?;
                let pattern = self.list_pattern()?;
                Command::Lsub { reference, pattern }
            }
            "STATUS" => {
                self.sp()?;
                let mailbox = self.mailbox()?;
                self.sp()?;
                let items = self.list(false, Self::status_item)?;
                Command::Status { mailbox, items }
            }
            "APPEND" => self.append()?,
            "ENABLE" => {
                let mut capabilities = Vec::new();
                while self.eat(b' ') {
                    capabilities.push(self.atom()?.to_ascii_uppercase());
                }
                if capabilities.is_empty() {
                    return Err("ENABLE needs a capability".into());
                }
                Command::Enable(capabilities)
            }
            "ID" => {
                self.sp()?;
                if self.peek() == Some(b'(') {
                    let pairs = self.list(true, |c| {
                        let key = c.string()?;
                        c.sp()?;
                        let value = c.nstring()?;
                        Ok((String::from_utf8_lossy(&key).into_owned(), value))
                    })?;
                    Command::Id(Some(pairs))
                } else if self.nstring()?.is_none() {
                    Command::Id(None)
                } else {
                    return Err("ID expects a list or NIL".into());
                }
            }
            "SETACL" => {
                self.sp()?;
                let mailbox = self.mailbox()?;
                self.sp()?;
                let identifier = self.text()?;
                self.sp()?;
                let rights = self.text()?;
                let rights = if let Some(added) = rights.strip_prefix('+') {
                    RightsChange::Add(added.to_owned())
                } else if let Some(removed) = rights.strip_prefix('-') {
                    RightsChange::Remove(removed.to_owned())
                } else {
                    RightsChange::Replace(rights)
                };
                Command::SetAcl {
                    mailbox,
                    identifier,
                    rights,
                }
            }
            "DELETEACL" | "LISTRIGHTS" => {
                self.sp()?;
                let mailbox = self.mailbox()?;
                self.sp()?;
                let identifier = self.text()?;
                if name == "DELETEACL" {
                    Command::DeleteAcl {
                        mailbox,
                        identifier,
                    }
                } else {
                    Command::ListRights {
                        mailbox,
                        identifier,
                    }
                }
            }
            "GETACL" => {
                self.sp()?;
                Command::GetAcl(self.mailbox()?)
            }
            "MYRIGHTS" => {
                self.sp()?;
                Command::MyRights(self.mailbox()?)
            }
            "COMPRESS" => {
                self.sp()?;
                Command::Compress(self.atom()?.to_ascii_uppercase())
            }
            "CANCELUPDATE" => Command::CancelUpdate(self.cancel_update()?),
            "GETQUOTA" => self.get_quota()?,
            "GETQUOTAROOT" => self.get_quota_root()?,
            "SETQUOTA" => self.set_quota()?,
            "UID" => {
                self.sp()?;
                let name = self.word()?;
                self.message_command(&name, true)?
            }
            _ => self.message_command(&name, false)?,
        };
        Ok(command)
    }

    /// FETCH, STORE, SEARCH, COPY, MOVE and (with UID) EXPUNGE.
    fn message_command(&mut self, name: &str, uid: bool) -> Parsed<Command> {
        Ok(match name {
            "FETCH" => {
                self.sp()?;
                let set = self.sequence_set()?;
                self.sp()?;
                let items = self.fetch_items()?;
                let (mut changed_since, mut vanished) = (None, false);
                if self.eat(b' ') {
                    // Each modifier: `CHANGEDSINCE m` (Some) or `VANISHED` (None).
                    let modifiers = self.list(false, |c| match c.word()?.as_str() {
                        "CHANGEDSINCE" => {
                            c.sp()?;
                            Ok(Some(c.modseq(true)?))
                        }
                        "VANISHED" if uid => Ok(None),
                        other => Err(format!("unknown FETCH modifier {other}")),
                    })?;
                    for modifier in modifiers {
                        match modifier {
                            Some(m) if changed_since.is_none() => changed_since = Some(m),
                            None if !vanished => vanished = true,
                            _ => return Err("a FETCH modifier given twice".into()),
                        }
                    }
                    if vanished && changed_since.is_none() {
                        return Err("VANISHED needs CHANGEDSINCE".into());
                    }
                }
                Command::Fetch {
                    uid,
                    set,
                    items,
                    changed_since,
                    vanished,
                }
            }
            "STORE" => {
                self.sp()?;
                let set = self.sequence_set()?;
                self.sp()?;
                let unchanged_since = if self.peek() == Some(b'(') {
                    self.expect(b'(')?;
                    if !self.word()?.eq("UNCHANGEDSINCE") {
                        return Err("unknown STORE modifier".into());
                    }
                    self.sp()?;
                    let modseq = self.modseq(true)?;
                    self.expect(b')')?;
                    self.sp()?;
                    Some(modseq)
                } else {
                    None
                };
                let mode = if self.eat(b'+') {
                    StoreMode::Add
                } else if self.eat(b'-') {
                    StoreMode::Remove
                } else {
                    StoreMode::Replace
                };
                let silent = match self.word()?.as_str() {
                    "FLAGS" => false,
                    "FLAGS.SILENT" => true,
                    other => return Err(format!("unknown STORE item {other}")),
                };
                self.sp()?;
                let flags = if self.peek() == Some(b'(') {
                    self.list(true, Self::flag)?
                } else {
                    let mut flags = vec![self.flag()?];
                    while self.eat(b' ') {
                        flags.push(self.flag()?);
                    }
                    flags
                };
                if flags.contains(&Flag::Recent) {
                    return Err("\\Recent cannot be stored".into());
                }
                Command::Store {
                    uid,
                    set,
                    mode,
                    silent,
                    flags,
                    unchanged_since,
                }
            }
            "SEARCH" => {
                self.sp()?;
                let returns = self.search_return()?;
                let mut charset = None;
                if self.rest().len() >= 8 && self.rest()[..8].eq_ignore_ascii_case(b"CHARSET ") {
                    self.pos += 8;
                    charset = Some(self.text()?.to_ascii_uppercase());
                    self.sp()?;
                }
                let criteria = self.search_program()?;
                Command::Search {
                    uid,
                    charset,
                    criteria,
                    returns,
                }
            }
            "SORT" => self.sort(uid)?,
            "THREAD" => self.thread(uid)?,
            "COPY" | "MOVE" => {
                self.sp()?;
                let set = self.sequence_set()?;
                self.sp()?;
                let mailbox = self.mailbox()?;
                if name == "COPY" {
                    Command::Copy { uid, set, mailbox }
                } else {
                    Command::Move { uid, set, mailbox }
                }
            }
            "EXPUNGE" if uid => {
                self.sp()?;
                Command::Expunge {
                    uids: Some(self.sequence_set()?),
                }
            }
            _ if uid => return Err(format!("unknown UID command {name}")),
            _ => return Err(format!("unknown command {name}")),
        })
    }

    fn status_item(&mut self) -> Parsed<StatusItem> {
        Ok(match self.word()?.as_str() {
            "MESSAGES" => StatusItem::Messages,
            "RECENT" => StatusItem::Recent,
            "UIDNEXT" => StatusItem::UidNext,
            "UIDVALIDITY" => StatusItem::UidValidity,
            "UNSEEN" => StatusItem::Unseen,
            "SIZE" => StatusItem::Size,
            "HIGHESTMODSEQ" => StatusItem::HighestModseq,
            other => return Err(format!("unknown STATUS item {other}")),
        })
    }

    fn fetch_items(&mut self) -> Parsed<Vec<FetchItem>> {
        if self.peek() == Some(b'(') {
            return self.list(false, Self::fetch_item);
        }
        let start = self.pos;
        let name = self.word()?;
        let macro_items = match name.as_str() {
            "ALL" => vec![
                FetchItem::Flags,
                FetchItem::InternalDate,
                FetchItem::Rfc822Size,
                FetchItem::Envelope,
            ],
            "FAST" => vec![
                FetchItem::Flags,
                FetchItem::InternalDate,
                FetchItem::Rfc822Size,
            ],
            "FULL" => vec![
                FetchItem::Flags,
                FetchItem::InternalDate,
                FetchItem::Rfc822Size,
                FetchItem::Envelope,
                FetchItem::Body,
            ],
            _ => {
                self.pos = start;
                return Ok(vec![self.fetch_item()?]);
            }
        };
        Ok(macro_items)
    }

    fn fetch_item(&mut self) -> Parsed<FetchItem> {
        let name = self.word()?;
        Ok(match name.as_str() {
            "ENVELOPE" => FetchItem::Envelope,
            "FLAGS" => FetchItem::Flags,
            "INTERNALDATE" => FetchItem::InternalDate,
            "RFC822" => FetchItem::Rfc822,
            "RFC822.HEADER" => FetchItem::Rfc822Header,
            "RFC822.TEXT" => FetchItem::Rfc822Text,
            "RFC822.SIZE" => FetchItem::Rfc822Size,
            "BODYSTRUCTURE" => FetchItem::BodyStructure,
            "UID" => FetchItem::Uid,
            "MODSEQ" => FetchItem::Modseq,
            "BODY" if self.peek() != Some(b'[') => FetchItem::Body,
            "BODY" | "BODY.PEEK" => FetchItem::Section {
                peek: name == "BODY.PEEK",
                section: self.section()?,
                partial: self.partial()?,
            },
            "BINARY" | "BINARY.PEEK" => FetchItem::Binary {
                peek: name == "BINARY.PEEK",
                part: self.section_binary()?,
                partial: self.partial()?,
            },
            "BINARY.SIZE" => FetchItem::BinarySize {
                part: self.section_binary()?,
            },
            other => return Err(format!("unknown FETCH item {other}")),
        })
    }

    /// `<offset.length>`, if there.
    fn partial(&mut self) -> Parsed<Option<(u32, u32)>> {
        if !self.eat(b'<') {
            return Ok(None);
        }
        let offset = self.number()?;
        self.expect(b'.')?;
        let length = self.nz_number()?;
        self.expect(b'>')?;
        Ok(Some((offset, length)))
    }

    /// `section-binary = "[" [section-part] "]"` (RFC 3516).
    fn section_binary(&mut self) -> Parsed<Vec<u32>> {
        self.expect(b'[')?;
        let mut part = Vec::new();
        if !self.eat(b']') {
            part.push(self.nz_number()?);
            while self.eat(b'.') {
                part.push(self.nz_number()?);
            }
            self.expect(b']')?;
        }
        Ok(part)
    }

    fn section(&mut self) -> Parsed<Section> {
        self.expect(b'[')?;
        let mut section = Section::default();
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            section.part.push(self.nz_number()?);
            if !self.eat(b'.') {
                break;
            }
            if !self.peek().is_some_and(|b| b.is_ascii_digit()) {
                section.text = Some(self.section_text(true)?);
                break;
            }
        }
        if section.part.is_empty() && self.peek() != Some(b']') {
            section.text = Some(self.section_text(false)?);
        }
        self.expect(b']')?;
        Ok(section)
    }

    fn section_text(&mut self, in_part: bool) -> Parsed<SectionText> {
        let name = self.word()?;
        Ok(match name.as_str() {
            "HEADER" => SectionText::Header,
            "TEXT" => SectionText::Text,
            "MIME" if in_part => SectionText::Mime,
            "HEADER.FIELDS" | "HEADER.FIELDS.NOT" => {
                self.sp()?;
                let fields = self.list(false, |c| {
                    let name = c.astring()?;
                    Ok(String::from_utf8_lossy(&name).into_owned())
                })?;
                SectionText::HeaderFields {
                    not: name.ends_with(".NOT"),
                    fields,
                }
            }
            other => return Err(format!("unknown section {other}")),
        })
    }

    /// `search-key *(SP search-key)`: all of them.
    fn search_program(&mut self) -> Parsed<Vec<SearchKey>> {
        let mut criteria = vec![self.search_key(0)?];
        while self.eat(b' ') {
            criteria.push(self.search_key(0)?);
        }
        Ok(criteria)
    }

    fn search_key(&mut self, depth: usize) -> Parsed<SearchKey> {
        if depth > MAX_NESTING {
            return Err("search criteria nested too deeply".into());
        }
        match self.peek() {
            Some(b'(') => {
                let keys = self.list(false, |c| c.search_key(depth + 1))?;
                return Ok(SearchKey::And(keys));
            }
            Some(b'0'..=b'9' | b'*' | b'$') => {
                return Ok(SearchKey::Sequence(self.sequence_set()?))
            }
            _ => {}
        }
        let name = self.word()?;
        let header = |c: &mut Self, field: &str| -> Parsed<SearchKey> {
            c.sp()?;
            Ok(SearchKey::Header(field.into(), c.text()?))
        };
        let date = |c: &mut Self| -> Parsed<Date> {
            c.sp()?;
            c.date()
        };
        Ok(match name.as_str() {
            "ALL" => SearchKey::All,
            "ANSWERED" => SearchKey::Flag(Flag::Answered),
            "DELETED" => SearchKey::Flag(Flag::Deleted),
            "DRAFT" => SearchKey::Flag(Flag::Draft),
            "FLAGGED" => SearchKey::Flag(Flag::Flagged),
            "RECENT" => SearchKey::Flag(Flag::Recent),
            "SEEN" => SearchKey::Flag(Flag::Seen),
            "UNANSWERED" => SearchKey::NotFlag(Flag::Answered),
            "UNDELETED" => SearchKey::NotFlag(Flag::Deleted),
            "UNDRAFT" => SearchKey::NotFlag(Flag::Draft),
            "UNFLAGGED" => SearchKey::NotFlag(Flag::Flagged),
            "UNSEEN" => SearchKey::NotFlag(Flag::Seen),
            "NEW" => SearchKey::New,
            "OLD" => SearchKey::Old,
            "KEYWORD" | "UNKEYWORD" => {
                self.sp()?;
                let flag = Flag::Keyword(self.atom()?);
                if name == "KEYWORD" {
                    SearchKey::Flag(flag)
                } else {
                    SearchKey::NotFlag(flag)
                }
            }
            "BCC" => header(self, "Bcc")?,
            "CC" => header(self, "Cc")?,
            "FROM" => header(self, "From")?,
            "SUBJECT" => header(self, "Subject")?,
            "TO" => header(self, "To")?,
            "HEADER" => {
                self.sp()?;
                let field = self.text()?;
                header(self, &field)?
            }
            "BODY" => {
                self.sp()?;
                SearchKey::Body(self.text()?)
            }
            "TEXT" => {
                self.sp()?;
                SearchKey::Text(self.text()?)
            }
            "BEFORE" => SearchKey::Before(date(self)?),
            "ON" => SearchKey::On(date(self)?),
            "SINCE" => SearchKey::Since(date(self)?),
            "SENTBEFORE" => SearchKey::SentBefore(date(self)?),
            "SENTON" => SearchKey::SentOn(date(self)?),
            "SENTSINCE" => SearchKey::SentSince(date(self)?),
            "LARGER" | "SMALLER" => {
                self.sp()?;
                let n = self.number()?;
                if name == "LARGER" {
                    SearchKey::Larger(n)
                } else {
                    SearchKey::Smaller(n)
                }
            }
            "UID" => {
                self.sp()?;
                SearchKey::Uid(self.sequence_set()?)
            }
            "MODSEQ" => {
                self.sp()?;
                if self.peek() == Some(b'"') {
                    // An entry name and type (RFC 7162 §3.1.5): one modseq per message
                    // here, so both only need to be well formed.
                    self.quoted()?;
                    self.sp()?;
                    let kind = self.word()?;
                    if !matches!(kind.as_str(), "PRIV" | "SHARED" | "ALL") {
                        return Err(format!("unknown MODSEQ entry type {kind}"));
                    }
                    self.sp()?;
                }
                SearchKey::Modseq(self.modseq(true)?)
            }
            "OLDER" => {
                self.sp()?;
                SearchKey::Older(self.nz_number()?)
            }
            "YOUNGER" => {
                self.sp()?;
                SearchKey::Younger(self.nz_number()?)
            }
            "NOT" => {
                self.sp()?;
                SearchKey::Not(Box::new(self.search_key(depth + 1)?))
            }
            "OR" => {
                self.sp()?;
                let a = self.search_key(depth + 1)?;
                self.sp()?;
                let b = self.search_key(depth + 1)?;
                SearchKey::Or(Box::new(a), Box::new(b))
            }
            other => return Err(format!("unknown search key {other}")),
        })
    }
}

fn make_date(year: u32, month: u8, day: u32) -> Parsed<Date> {
    let leap = year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400));
    let days = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    if !(1..=9999).contains(&year) || day == 0 || day > days {
        return Err("invalid date".into());
    }
    Ok(Date {
        year: year as u16,
        month,
        day: day as u8,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::imap::sequence::Bound;
    use crate::redacted::Payload;

    fn parsed(input: &str) -> Command {
        match parse(&Bytes::copy_from_slice(input.as_bytes())) {
            Ok(request) => request.command,
            Err(e) => panic!("{input:?}: {e}"),
        }
    }

    #[test]
    fn parses_the_forms_clients_send() {
        assert_eq!(
            parsed("a1 login {4+}\r\nj\"oe \"p\\\\w\"\r\n"),
            Command::Login {
                user: "j\"oe".into(),
                password: "p\\w".into()
            }
        );
        assert_eq!(
            parsed("a UID fetch 1:* (FLAGS BODY.PEEK[1.2.HEADER.FIELDS (From \"To\")]<0.100>)\r\n"),
            Command::Fetch {
                uid: true,
                set: SequenceSet(vec![(Bound::Number(1), Bound::Last)]),
                items: vec![
                    FetchItem::Flags,
                    FetchItem::Section {
                        peek: true,
                        section: Section {
                            part: vec![1, 2],
                            text: Some(SectionText::HeaderFields {
                                not: false,
                                fields: vec!["From".into(), "To".into()]
                            })
                        },
                        partial: Some((0, 100))
                    }
                ],
                changed_since: None,
                vanished: false,
            }
        );
        assert_eq!(
            parsed("a STORE 2 -FLAGS.SILENT (\\Deleted $Junk)\n"),
            Command::Store {
                uid: false,
                set: SequenceSet(vec![(Bound::Number(2), Bound::Number(2))]),
                mode: StoreMode::Remove,
                silent: true,
                flags: vec![Flag::Deleted, Flag::Keyword("$Junk".into())],
                unchanged_since: None,
            }
        );
        assert_eq!(
            parsed("s SEARCH CHARSET UTF-8 OR (FROM bob) NOT SEEN TEXT {5}\r\nkäse\r\n"),
            Command::Search {
                uid: false,
                charset: Some("UTF-8".into()),
                criteria: vec![
                    SearchKey::Or(
                        Box::new(SearchKey::And(vec![SearchKey::Header(
                            "From".into(),
                            "bob".into()
                        )])),
                        Box::new(SearchKey::Not(Box::new(SearchKey::Flag(Flag::Seen))))
                    ),
                    SearchKey::Text("käse".into())
                ],
                returns: None
            }
        );
        assert_eq!(
            parsed("c CREATE \"Entw&APw-rfe\"\r\n"),
            Command::Create {
                mailbox: "Entwürfe".into(),
                special_use: Vec::new()
            }
        );
        let Command::Append { messages, .. } =
            parsed("x APPEND Sent (\\Seen) \" 7-Feb-2024 13:05:09 -0130\" {3}\r\nhi!\r\n")
        else {
            panic!("not an APPEND")
        };
        let [AppendMessage { flags, date, parts }] = &messages[..] else {
            panic!("not one message: {messages:?}")
        };
        assert_eq!(flags, &vec![Flag::Seen]);
        assert_eq!(
            parts,
            &vec![AppendPart::Text(Literal::Inline(Payload(
                Bytes::from_static(b"hi!")
            )))]
        );
        let date = date.unwrap();
        assert_eq!((date.date.day, date.hour, date.zone_minutes), (7, 13, -90));
    }

    #[test]
    fn parses_the_condstore_and_qresync_forms() {
        let set = |text: &str| SequenceSet::parse(text.as_bytes()).unwrap();
        assert_eq!(
            parsed("a SELECT INBOX (CONDSTORE QRESYNC (67890007 20050715194045000 41,43:211,214:541 (1,3,5 41,43,45)))\r\n"),
            Command::Select {
                mailbox: "INBOX".into(),
                read_only: false,
                condstore: true,
                qresync: Some(Qresync {
                    uid_validity: 67890007,
                    modseq: 20050715194045000,
                    known_uids: Some(set("41,43:211,214:541")),
                    seq_match: Some((set("1,3,5"), set("41,43,45"))),
                }),
            }
        );
        assert_eq!(
            parsed("a EXAMINE INBOX (QRESYNC (1 2 (1 5)))\r\n"),
            Command::Select {
                mailbox: "INBOX".into(),
                read_only: true,
                condstore: false,
                qresync: Some(Qresync {
                    uid_validity: 1,
                    modseq: 2,
                    known_uids: None,
                    seq_match: Some((set("1"), set("5"))),
                }),
            }
        );
        assert_eq!(
            parsed("a UID FETCH 300:500 (FLAGS) (CHANGEDSINCE 12345 VANISHED)\r\n"),
            Command::Fetch {
                uid: true,
                set: set("300:500"),
                items: vec![FetchItem::Flags],
                changed_since: Some(12345),
                vanished: true,
            }
        );
        assert_eq!(
            parsed("a STORE 1:* (UNCHANGEDSINCE 0) +FLAGS.SILENT \\Seen\r\n"),
            Command::Store {
                uid: false,
                set: set("1:*"),
                mode: StoreMode::Add,
                silent: true,
                flags: vec![Flag::Seen],
                unchanged_since: Some(0),
            }
        );
        assert_eq!(
            parsed("a SEARCH MODSEQ \"/flags/\\\\draft\" all 620162338\r\n"),
            Command::Search {
                uid: false,
                charset: None,
                criteria: vec![SearchKey::Modseq(620162338)],
                returns: None,
            }
        );
        for bad in [
            "a FETCH 1 FLAGS (VANISHED CHANGEDSINCE 1)\r\n",
            "a UID FETCH 1 FLAGS (VANISHED)\r\n",
            "a FETCH 1 FLAGS (CHANGEDSINCE 9223372036854775808)\r\n",
            "a FETCH 1 FLAGS (CHANGEDSINCE 1 CHANGEDSINCE 2)\r\n",
            "a SELECT INBOX (QRESYNC (1 0))\r\n",
            "a SELECT INBOX (FOO)\r\n",
            "a SELECT INBOX ()\r\n",
            "a STORE 1 (UNCHANGEDSINCE x) FLAGS \\Seen\r\n",
            "a SEARCH MODSEQ \"/flags/x\" nosuch 5\r\n",
        ] {
            assert!(parse(&Bytes::from(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn parses_the_acl_commands() {
        assert_eq!(
            parsed("a SETACL \"#users/karen/INBOX\" alice +lrs\r\n"),
            Command::SetAcl {
                mailbox: "#users/karen/INBOX".into(),
                identifier: "alice".into(),
                rights: RightsChange::Add("lrs".into())
            }
        );
        assert_eq!(
            parsed("a setacl INBOX bob \"\"\r\n"),
            Command::SetAcl {
                mailbox: "INBOX".into(),
                identifier: "bob".into(),
                rights: RightsChange::Replace(String::new())
            }
        );
        assert_eq!(
            parsed("a DELETEACL Work bob\r\n"),
            Command::DeleteAcl {
                mailbox: "Work".into(),
                identifier: "bob".into()
            }
        );
        assert_eq!(
            parsed("a GETACL INBOX\r\n"),
            Command::GetAcl("INBOX".into())
        );
        assert_eq!(
            parsed("a LISTRIGHTS INBOX bob\r\n"),
            Command::ListRights {
                mailbox: "INBOX".into(),
                identifier: "bob".into()
            }
        );
        assert_eq!(
            parsed("a MYRIGHTS INBOX\r\n"),
            Command::MyRights("INBOX".into())
        );
        assert!(parse(&Bytes::from_static(b"a SETACL INBOX\r\n")).is_err());
    }

    #[test]
    fn parses_binary() {
        assert_eq!(
            parsed("a FETCH 1 (BINARY.PEEK[1.2]<0.10> BINARY[] BINARY.SIZE[3])\r\n"),
            Command::Fetch {
                uid: false,
                set: SequenceSet(vec![(Bound::Number(1), Bound::Number(1))]),
                items: vec![
                    FetchItem::Binary {
                        peek: true,
                        part: vec![1, 2],
                        partial: Some((0, 10))
                    },
                    FetchItem::Binary {
                        peek: false,
                        part: vec![],
                        partial: None
                    },
                    FetchItem::BinarySize { part: vec![3] },
                ],
                changed_since: None,
                vanished: false,
            }
        );
        for bad in [
            "BINARY[1.TEXT]",
            "BINARY[0]",
            "BINARY.SIZE[1]<0.1>",
            "BINARY[1",
        ] {
            assert!(
                parse(&Bytes::from(format!("a FETCH 1 {bad}\r\n"))).is_err(),
                "{bad}"
            );
        }
        let Command::Append { messages, .. } = parsed("a APPEND INBOX ~{3}\r\na\0b\r\n") else {
            panic!("not an APPEND")
        };
        assert_eq!(
            messages[0].parts,
            vec![AppendPart::Text(Literal::Inline(Payload(
                Bytes::from_static(b"a\0b")
            )))]
        );
    }

    #[test]
    fn parses_compress() {
        assert_eq!(
            parsed("a compress deflate\r\n"),
            Command::Compress("DEFLATE".into())
        );
        assert!(parse(&Bytes::from_static(b"a COMPRESS\r\n")).is_err());
        assert!(parse(&Bytes::from_static(b"a COMPRESS DEFLATE x\r\n")).is_err());
    }

    #[test]
    fn reports_the_tag_of_a_malformed_command() {
        let err = parse(&Bytes::from_static(b"t9 FETCH 1:x FLAGS\r\n")).unwrap_err();
        assert_eq!(err.tag.as_deref(), Some("t9"));
        let err = parse(&Bytes::from_static(b"+x NOOP\r\n")).unwrap_err();
        assert_eq!(err.tag, None);
        let deep = format!("a SEARCH {}ALL{}\r\n", "(".repeat(100), ")".repeat(100));
        assert!(parse(&Bytes::from(deep)).is_err());
    }
}
