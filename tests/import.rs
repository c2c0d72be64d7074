//! `mailhive import-mbox` on every fixture, checked against the original messages.

use crate::harness::{fixture, fixture_messages as originals, Env};
use mailhive_store::{MailboxName, Store, SystemFlags, Username};

/// Every message of `user`'s `mailbox`: its bytes and record.
pub(crate) fn stored(
    store: &Store,
    user: &str,
    mailbox: &str,
) -> Vec<(Vec<u8>, mailhive_store::MessageInfo)> {
    let user = Username::parse(user).unwrap();
    let info = store
        .mailbox(&user, &MailboxName::parse(mailbox).unwrap())
        .unwrap()
        .unwrap();
    store
        .messages(info.id, 1..=u32::MAX)
        .map(|m| {
            let m = m.unwrap();
            (store.read_body(m.blob).unwrap(), m)
        })
        .collect()
}

#[test]
fn the_corpus_imports_byte_exact_with_flags_dates_and_the_broken_entry_reported() {
    let env = Env::new();
    env.add_user("ben", "pw");
    let corpus = fixture("corpus.mbox");
    let out = env.run(
        &[
            "import-mbox",
            "--user",
            "ben",
            "--mailbox",
            "Archive/2026",
            corpus.to_str().unwrap(),
        ],
        "",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stdout.starts_with("imported 10 messages ("), "{stdout}");
    assert!(stdout.contains("1 malformed skipped"), "{stdout}");
    assert!(
        stdout.contains(" s ("),
        "the summary gives the seconds: {stdout}"
    );
    let skipped: Vec<&str> = stderr.lines().filter(|l| l.contains("skipped")).collect();
    assert_eq!(skipped.len(), 1, "{stderr}");
    let broken_offset = std::fs::read(&corpus)
        .unwrap()
        .windows(23)
        .position(|w| w == b"From broken@example.org")
        .unwrap();
    assert!(
        skipped[0].contains(&format!(
            "message at byte {broken_offset} skipped: no header fields"
        )),
        "{}",
        skipped[0]
    );

    let store = env.store();
    let messages = stored(&store, "ben", "Archive/2026");
    let originals = originals();
    assert_eq!(messages.len(), originals.len());
    let start = 1_768_204_800; // 2026-01-12T08:00:00Z
    for (i, ((body, info), (name, original))) in messages.iter().zip(&originals).enumerate() {
        assert!(body == original, "{name} is not byte-exact after import");
        let want = start + i as i64 * 86_400 + i as i64 * 60;
        assert_eq!(
            info.internal_date.unix_seconds, want,
            "{name}: internal date"
        );
        let flags = info.flags.system;
        if name.contains("status_flags") {
            for f in [
                SystemFlags::SEEN,
                SystemFlags::ANSWERED,
                SystemFlags::FLAGGED,
            ] {
                assert!(flags.contains(f), "{name}: {flags:?}");
            }
        } else {
            assert_eq!(flags, SystemFlags::empty(), "{name}");
        }
    }
    // Imported into a new folder: created with its parent and subscribed.
    let subscriptions = store
        .subscriptions(&Username::parse("ben").unwrap())
        .unwrap();
    assert!(subscriptions.contains(&MailboxName::parse("Archive/2026").unwrap()));
    // The broken MIME tree was stored and summarised, not refused.
    let broken = messages
        .iter()
        .find(|(b, _)| b.starts_with(b"Date: Tue, 20 Jan"))
        .unwrap();
    let summary = store.summary(broken.1.blob).unwrap();
    assert_eq!(
        summary.envelope.subject.as_deref(),
        Some("Broken MIME tree")
    );
}

#[test]
fn mboxo_unescapes_only_single_quoted_from_lines() {
    let env = Env::new();
    env.add_user("ben", "pw");
    let file = fixture("corpus.mboxo");
    env.ok(
        &[
            "import-mbox",
            "--user",
            "ben",
            "--format",
            "mboxo",
            file.to_str().unwrap(),
        ],
        "",
    );
    let store = env.store();
    let messages = stored(&store, "ben", "INBOX");
    let (_, original) = originals()
        .into_iter()
        .find(|(n, _)| n.contains("from_escaping"))
        .unwrap();
    let body = &messages
        .iter()
        .find(|(b, _)| {
            b.windows(9).any(|w| w == b"Subject: ")
                && String::from_utf8_lossy(b).contains("Lines that start with From")
        })
        .unwrap()
        .0;
    // mboxo cannot tell an escaped "From " from a quoted ">From ": that line loses its ">".
    let expected = String::from_utf8_lossy(&original).replace("\n>From there", "\nFrom there");
    assert_eq!(String::from_utf8_lossy(body), expected);
    assert_eq!(messages.len(), 10);
}

#[test]
fn demo_fixtures_import_completely() {
    let env = Env::new();
    env.add_user("demo", "pw");
    for (file, count) in [("demo.mbox", 36), ("karen.mbox", 8)] {
        let path = fixture(file);
        let out = env.ok(
            &[
                "import-mbox",
                "--user",
                "demo",
                "--mailbox",
                file,
                path.to_str().unwrap(),
            ],
            "",
        );
        assert!(
            out.starts_with(&format!("imported {count} messages")),
            "{out}"
        );
    }
}

#[test]
fn bad_import_input_fails_with_one_line_and_imports_nothing() {
    let env = Env::new();
    env.add_user("ben", "pw");
    let corpus = fixture("corpus.mbox");
    let corpus = corpus.to_str().unwrap();
    let not_mbox = fixture("mail/0001_plain.eml");
    let cases: [(Vec<&str>, &str); 4] = [
        (vec!["--user", "nobody", corpus], "nobody: no such user"),
        (
            vec!["--user", "ben", corpus, "/nonexistent/file.mbox"],
            "/nonexistent/file.mbox: cannot read",
        ),
        (
            vec!["--user", "ben", not_mbox.to_str().unwrap()],
            "not an mbox file",
        ),
        (
            vec!["--user", "ben", "--mailbox", "a//b", corpus],
            "empty level",
        ),
    ];
    for (args, reason) in cases {
        let line = env.fails(&[&["import-mbox"], &args[..]].concat(), "");
        assert!(line.contains(reason), "{args:?}: {line:?} lacks {reason:?}");
    }
    let store = env.store();
    let inbox = store
        .mailbox(&Username::parse("ben").unwrap(), &MailboxName::inbox())
        .unwrap()
        .unwrap();
    assert_eq!(inbox.messages, 0);
}
