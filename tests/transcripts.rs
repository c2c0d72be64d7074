//! Transcript tests: every file under `fixtures/transcripts/pop3/` and
//! `fixtures/transcripts/imap/` is a conversation replayed against a real server over a
//! socket, on the listener of its directory's protocol.
//!
//! Format: a header of `user: NAME PASSWORD`, `mail: USER FIXTURE` and
//! `acl: OWNER MAILBOX USER RIGHTS` lines (accounts, imports and grants made before the
//! server starts), `quota: USER FLAGS` lines (`mailhive quota set --user USER FLAGS`)
//! and `imap-setting: key = value` lines
//! (added to the `[imap]` configuration), then `C: line` (sent with CRLF;
//! consecutive `C:` lines go out in one write, which exercises pipelining), `S: line`
//! (one expected line; a token `abc$name` matches `abc` followed by anything — `$name]`
//! anything followed by `]`; a name is letters, digits and `_` — and the
//! capture must be the same wherever `$name` appears again; a later `C:` line may send
//! it back as `${name}`), `closed` (the server
//! hangs up) and `reconnect` (a new connection). `#` starts a comment.

use crate::harness::Env;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

#[derive(Clone, Copy)]
enum Protocol {
    Pop3,
    Imap,
}

#[test]
fn pop3_transcripts() {
    replay_directory("pop3", Protocol::Pop3, 7);
}

#[test]
fn imap_transcripts() {
    replay_directory("imap", Protocol::Imap, 7);
}

fn replay_directory(name: &str, protocol: Protocol, at_least: usize) {
    let dir = crate::harness::fixture(&format!("transcripts/{name}"));
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(
        files.len() >= at_least,
        "transcripts missing from {}",
        dir.display()
    );
    let failures: Vec<String> = files
        .iter()
        .filter_map(|f| replay(f, protocol).err())
        .collect();
    assert!(
        failures.is_empty(),
        "{} transcript(s) failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

struct Conversation {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    pending: Vec<u8>,
}

impl Conversation {
    fn open(addr: std::net::SocketAddr) -> std::io::Result<Self> {
        let stream = TcpStream::connect(addr)?;
        stream.set_read_timeout(Some(Duration::from_secs(5)))?;
        Ok(Conversation {
            reader: BufReader::new(stream.try_clone()?),
            writer: stream,
            pending: Vec::new(),
        })
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if !self.pending.is_empty() {
            self.writer.write_all(&std::mem::take(&mut self.pending))?;
        }
        Ok(())
    }

    fn read_line(&mut self) -> std::io::Result<Option<String>> {
        self.flush()?;
        let mut line = Vec::new();
        if self.reader.read_until(b'\n', &mut line)? == 0 {
            return Ok(None);
        }
        Ok(Some(String::from_utf8_lossy(&line).into_owned()))
    }
}

/// Compares one server line with its expectation, capturing `$name` tokens.
fn matches(expected: &str, actual: &str, captures: &mut HashMap<String, String>) -> bool {
    let (want, got): (Vec<&str>, Vec<&str>) =
        (expected.split(' ').collect(), actual.split(' ').collect());
    want.len() == got.len()
        && want.iter().zip(&got).all(|(w, g)| match w.split_once('$') {
            None => w == g,
            Some((prefix, rest)) => {
                // The name is letters, digits and `_`; what follows must match as is.
                let end = rest
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(rest.len());
                let (name, suffix) = rest.split_at(end);
                let Some(value) = g.strip_prefix(prefix).and_then(|v| v.strip_suffix(suffix))
                else {
                    return false;
                };
                captures
                    .entry(name.to_owned())
                    .or_insert_with(|| value.to_owned())
                    == value
            }
        })
}

/// A client line with each `${name}` replaced by what `$name` captured.
fn substitute(line: &str, captures: &HashMap<String, String>) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = line;
    while let Some((before, after)) = rest.split_once("${") {
        let (name, tail) = after
            .split_once('}')
            .ok_or_else(|| format!("unclosed ${{ in {line:?}"))?;
        let value = captures
            .get(name)
            .ok_or_else(|| format!("nothing captured as ${name} yet"))?;
        out.push_str(before);
        out.push_str(value);
        rest = tail;
    }
    out.push_str(rest);
    Ok(out)
}

fn replay(path: &Path, protocol: Protocol) -> Result<(), String> {
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let text = std::fs::read_to_string(path).map_err(|e| format!("{name}: {e}"))?;
    let settings: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("imap-setting: "))
        .collect();
    let env = Env::with_imap_settings(&settings.join("\n"));
    let mut script = Vec::new();
    for line in text.lines() {
        if line.starts_with("imap-setting: ") {
            continue;
        }
        if let Some(user) = line.strip_prefix("user: ") {
            let (user, password) = user
                .split_once(' ')
                .ok_or(format!("{name}: bad user line"))?;
            env.add_user(user, password);
        } else if let Some(acl) = line.strip_prefix("acl: ") {
            let words: Vec<&str> = acl.split(' ').collect();
            let [owner, mailbox, user, rights] = words[..] else {
                return Err(format!("{name}: an acl line is OWNER MAILBOX USER RIGHTS"));
            };
            env.grant(owner, mailbox, user, rights);
        } else if let Some(quota) = line.strip_prefix("quota: ") {
            let words: Vec<&str> = quota.split(' ').collect();
            let (user, flags) = words
                .split_first()
                .ok_or(format!("{name}: a quota line is USER FLAGS"))?;
            env.ok(&[&["quota", "set", "--user", user], flags].concat(), "");
        } else if let Some(mail) = line.strip_prefix("mail: ") {
            let (user, fixture) = mail
                .split_once(' ')
                .ok_or(format!("{name}: bad mail line"))?;
            env.import(user, fixture);
        } else if !line.starts_with('#') && !line.is_empty() {
            script.push(line);
        }
    }
    let server = env.serve(&[]);
    let address = match protocol {
        Protocol::Pop3 => server.pop3,
        Protocol::Imap => server.imap,
    };
    let mut conversation =
        Conversation::open(address).map_err(|e| format!("{name}: connect: {e}"))?;
    let mut captures = HashMap::new();
    for (step, line) in script.iter().enumerate() {
        let fail = |what: String| format!("{name}, step {} ({line:?}): {what}", step + 1);
        if let Some(client) = line.strip_prefix("C: ") {
            let client = substitute(client, &captures).map_err(fail)?;
            conversation.pending.extend_from_slice(client.as_bytes());
            conversation.pending.extend_from_slice(b"\r\n");
        } else if let Some(expected) = line.strip_prefix("S:") {
            let expected = expected.strip_prefix(' ').unwrap_or(expected);
            let got = conversation.read_line().map_err(|e| fail(e.to_string()))?;
            let got = got.ok_or_else(|| fail("the server closed the connection".into()))?;
            let Some(got) = got.strip_suffix("\r\n") else {
                return Err(fail(format!("line not ended by CRLF: {got:?}")));
            };
            if !matches(expected, got, &mut captures) {
                return Err(fail(format!("expected {expected:?}\n     got {got:?}")));
            }
        } else if *line == "closed" {
            match conversation.read_line() {
                Ok(None) => {}
                Ok(Some(more)) => return Err(fail(format!("expected the end, got {more:?}"))),
                Err(e) => return Err(fail(format!("expected the end, got {e}"))),
            }
        } else if *line == "reconnect" {
            conversation = Conversation::open(address).map_err(|e| fail(e.to_string()))?;
        } else {
            return Err(fail("not a transcript line".into()));
        }
    }
    server.stop();
    Ok(())
}
