//! `mailhive export-mbox` (SPEC §11): every fixture mbox exported and imported again
//! into an empty account gives back the same bytes (apart from the Status and X-Status
//! lines the export writes), flags and internal dates, with the server stopped and
//! running; escaping, a message without a final line break, an empty mailbox, errors.

use crate::harness::{fixture, Env};
use crate::import::stored;
use mailhive_store::{Flags, InternalDate, MailboxName, NewMessage, Store, SystemFlags, Username};

/// The message without the Status and X-Status fields of its header.
fn without_status(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let (mut in_header, mut dropping) = (true, false);
    for line in raw.split_inclusive(|&b| b == b'\n') {
        if in_header && (line == b"\n" || line == b"\r\n") {
            in_header = false;
        } else if in_header && (line.starts_with(b" ") || line.starts_with(b"\t")) {
            if dropping {
                continue;
            }
        } else if in_header {
            let lower = line.to_ascii_lowercase();
            dropping = lower.starts_with(b"status:") || lower.starts_with(b"x-status:");
            if dropping {
                continue;
            }
        }
        out.extend_from_slice(line);
    }
    out
}

fn export_args<'a>(user: &'a str, mailbox: &'a str, file: &'a str) -> Vec<&'a str> {
    vec!["export-mbox", "--user", user, "--mailbox", mailbox, file]
}

fn import_args<'a>(user: &'a str, file: &'a str) -> Vec<&'a str> {
    vec!["import-mbox", "--user", user, file]
}

/// Checks that `to`'s INBOX holds what `from`'s `mailbox` holds.
fn assert_same_messages(store: &Store, from: &str, mailbox: &str, to: &str) {
    let (before, after) = (stored(store, from, mailbox), stored(store, to, "INBOX"));
    assert_eq!(before.len(), after.len(), "{mailbox}: message count");
    for ((raw, info), (back, back_info)) in before.iter().zip(&after) {
        assert!(
            without_status(raw) == without_status(back),
            "{mailbox} UID {}: bytes differ:\n{}\n---\n{}",
            info.uid,
            String::from_utf8_lossy(raw),
            String::from_utf8_lossy(back)
        );
        assert_eq!(info.flags, back_info.flags, "{mailbox} UID {}", info.uid);
        assert_eq!(
            info.internal_date.unix_seconds, back_info.internal_date.unix_seconds,
            "{mailbox} UID {}",
            info.uid
        );
    }
}

#[test]
fn every_fixture_round_trips_with_the_server_stopped_and_running() {
    let env = Env::new();
    let fixtures = [
        ("corpus.mbox", "mboxrd"),
        ("corpus.mboxo", "mboxo"),
        ("demo.mbox", "mboxrd"),
        ("karen.mbox", "mboxrd"),
        ("pop3.mbox", "mboxrd"),
    ];
    env.add_user("ann", "pw");
    for (name, format) in fixtures {
        let path = fixture(name);
        env.ok(
            &[
                "import-mbox",
                "--user",
                "ann",
                "--mailbox",
                name,
                "--format",
                format,
                path.to_str().unwrap(),
            ],
            "",
        );
    }
    for (round, running) in [("stopped", false), ("running", true)] {
        let server = running.then(|| env.serve(&[]));
        for (name, _) in fixtures {
            let file = env.dir.path().join(format!("{round}-{name}"));
            let file = file.to_str().unwrap();
            let out = env.ok(&export_args("ann", name, file), "");
            assert!(out.starts_with("exported "), "{out}");
            assert!(out.contains(&format!("from ann/{name} to {file}")), "{out}");
            let copy = format!("{round}-{}", name.replace('.', "-"));
            env.add_user(&copy, "pw");
            let imported = env.ok(&import_args(&copy, file), "");
            assert!(imported.contains(", 0 malformed skipped"), "{imported}");
            assert!(
                !std::path::Path::new(&format!("{file}.partial")).exists(),
                "no partial file is left"
            );
        }
        if let Some(server) = server {
            server.stop();
        }
        let store = env.store();
        for (name, _) in fixtures {
            let copy = format!("{round}-{}", name.replace('.', "-"));
            assert_same_messages(&store, "ann", name, &copy);
        }
    }
}

#[test]
fn from_lines_missing_line_breaks_and_flags_are_written_as_the_importer_reads_them() {
    let env = Env::new();
    env.add_user("ann", "pw");
    env.add_user("bob", "pw");
    let messages: [(&[u8], SystemFlags, i64); 3] = [
        (
            b"Return-Path: <list@example.org>\nStatus: RO\nSubject: quoting\n\nFrom here\n>From there\n>>From afar\n",
            SystemFlags::FLAGGED,
            1_767_225_600,
        ),
        (
            b"Subject: no final line break\n\nlast line",
            SystemFlags::SEEN.union(SystemFlags::DRAFT),
            1_767_312_000,
        ),
        (
            b"Subject: header only",
            SystemFlags::ANSWERED.union(SystemFlags::DELETED),
            1_767_398_400,
        ),
    ];
    {
        let store = env.store();
        let ann = Username::parse("ann").unwrap();
        let inbox = store.mailbox(&ann, &MailboxName::inbox()).unwrap().unwrap();
        let new: Vec<NewMessage<'_>> = messages
            .iter()
            .map(|(raw, flags, date)| NewMessage {
                raw,
                flags: Flags::new(*flags, []),
                internal_date: InternalDate {
                    unix_seconds: *date,
                    offset_minutes: 0,
                },
            })
            .collect();
        store.append(inbox.id, &new, &ann).unwrap().unwrap();
    }
    let file = env.dir.path().join("ann.mbox");
    let file = file.to_str().unwrap();
    let out = env.ok(&export_args("ann", "INBOX", file), "");
    assert!(out.starts_with("exported 3 messages ("), "{out}");
    let written = String::from_utf8(std::fs::read(file).unwrap()).unwrap();
    assert_eq!(
        written,
        "From list@example.org Thu Jan  1 00:00:00 2026\n\
         Return-Path: <list@example.org>\nSubject: quoting\nStatus: O\nX-Status: F\n\n\
         >From here\n>>From there\n>>>From afar\n\n\
         From MAILER-DAEMON Fri Jan  2 00:00:00 2026\n\
         Subject: no final line break\nStatus: RO\nX-Status: T\n\nlast line\n\n\
         From MAILER-DAEMON Sat Jan  3 00:00:00 2026\n\
         Subject: header only\nStatus: O\nX-Status: AD\n\n"
    );
    env.ok(&import_args("bob", file), "");
    let store = env.store();
    let back = stored(&store, "bob", "INBOX");
    assert_eq!(back.len(), 3);
    for ((raw, flags, date), (body, info)) in messages.iter().zip(&back) {
        // mbox cannot say that a message lacks its final line break: it gets one, which
        // is what IMAP serves for it anyway (RFC822.SIZE counts the wire form).
        let mut want = without_status(raw);
        if !want.ends_with(b"\n") {
            want.push(b'\n');
        }
        assert_eq!(
            String::from_utf8_lossy(&without_status(body)),
            String::from_utf8_lossy(&want)
        );
        assert_eq!(info.flags.system, *flags);
        assert_eq!(info.internal_date.unix_seconds, *date);
    }
}

#[test]
fn an_empty_mailbox_gives_an_empty_file_and_bad_input_one_line() {
    let env = Env::new();
    env.add_user("ann", "pw");
    let file = env.dir.path().join("empty.mbox");
    let file = file.to_str().unwrap();
    let out = env.ok(&export_args("ann", "Drafts", file), "");
    assert!(out.starts_with("exported 0 messages (0 bytes)"), "{out}");
    assert_eq!(std::fs::read(file).unwrap(), b"");

    let cases = [
        (export_args("nobody", "INBOX", file), "nobody: no such user"),
        (
            export_args("ann", "Nope", file),
            "ann/Nope: no such mailbox",
        ),
        (
            export_args("ann", "INBOX", "/nonexistent/dir/out.mbox"),
            "/nonexistent/dir/out.mbox: cannot write",
        ),
        (
            export_args("ann", "INBOX", env.dir.path().to_str().unwrap()),
            "is a directory",
        ),
        (
            export_args("ann", "#users/karen/INBOX", file),
            "export it as its owner (--user \"karen\" --mailbox \"INBOX\")",
        ),
    ];
    for (args, want) in cases {
        let line = env.fails(&args, "");
        assert!(line.contains(want), "{args:?}: {line}");
    }
    assert_eq!(
        std::fs::read(file).unwrap(),
        b"",
        "a failed export leaves FILE"
    );
}
