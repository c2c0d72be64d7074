//! `import-mbox` run again (SPEC §11): an import killed with SIGKILL midway and run
//! again leaves every message exactly once, against a stopped server's store and
//! through a running server's admin socket; the summary counts the duplicates skipped,
//! and `--allow-duplicates` imports everything again.

use crate::harness::Env;
use mailhive_store::{MailboxName, Store, Username};
use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::Duration;

/// Messages in the generated mbox: eight import batches of 256 and a part.
const MESSAGES: usize = 2_100;

/// An mbox of [`MESSAGES`] distinct messages, one second apart.
fn write_mbox(env: &Env) -> String {
    let mut mbox = String::new();
    for i in 0..MESSAGES {
        let (hour, minute, second) = (i / 3600, i / 60 % 60, i % 60);
        mbox.push_str(&format!(
            "From sender@example.org Thu Jan  1 {hour:02}:{minute:02}:{second:02} 2026\n\
             Subject: message {i}\nMessage-ID: <{i}@reimport.example>\n\nbody {i}\n\n"
        ));
    }
    let path = env.dir.path().join("many.mbox");
    std::fs::write(&path, mbox).unwrap();
    path.to_str().unwrap().to_owned()
}

/// How many times each subject is in `user`'s INBOX.
fn subjects(store: &Store, user: &str) -> BTreeMap<String, usize> {
    let user = Username::parse(user).unwrap();
    let inbox = store
        .mailbox(&user, &MailboxName::inbox())
        .unwrap()
        .unwrap();
    let mut counts = BTreeMap::new();
    for message in store.messages(inbox.id, 1..=u32::MAX) {
        let summary = store.summary(message.unwrap().blob).unwrap();
        *counts
            .entry(summary.envelope.subject.unwrap_or_default())
            .or_insert(0) += 1;
    }
    counts
}

/// Starts `import-mbox`, paced so that it is midway when killed, and kills it with
/// SIGKILL after `after`; asserts that it had not finished.
fn import_killed(env: &Env, user: &str, file: &str, after: Duration) {
    let mut child = env
        .command(&["import-mbox", "--user", user, file])
        .env("MAILHIVE_TEST_IMPORT_BATCH_DELAY_MS", "150")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(after);
    assert!(
        child.try_wait().unwrap().is_none(),
        "the import finished before it was killed"
    );
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
}

/// The counts of an import summary line: (imported, duplicates skipped).
fn counts(summary: &str) -> (usize, usize) {
    let number_before = |marker: &str| -> usize {
        let at = summary.find(marker).unwrap_or_else(|| panic!("{summary}"));
        summary[..at]
            .rsplit(|c: char| !c.is_ascii_digit())
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{summary}"))
    };
    let imported = summary
        .strip_prefix("imported ")
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{summary}"));
    (imported, number_before(" duplicates skipped"))
}

/// Kills an import midway, runs it again and checks every message is there once.
fn killed_then_run_again(env: &Env, user: &str, file: &str) {
    import_killed(env, user, file, Duration::from_millis(700));
    let summary = env.ok(&["import-mbox", "--user", user, file], "");
    let (imported, duplicates) = counts(&summary);
    assert!(
        duplicates > 0 && imported > 0,
        "the first run stopped midway: {summary}"
    );
    assert_eq!(imported + duplicates, MESSAGES, "{summary}");
    let again = env.ok(&["import-mbox", "--user", user, file], "");
    assert!(
        again.starts_with("imported 0 messages (0 bytes) in ")
            && again.contains(&format!(
                ", {MESSAGES} duplicates skipped, 0 malformed skipped"
            )),
        "{again}"
    );
}

fn assert_each_once(store: &Store, user: &str, times: usize) {
    let found = subjects(store, user);
    assert_eq!(found.len(), MESSAGES, "every message is there");
    assert!(
        found.values().all(|&n| n == times),
        "each message {times} time(s)"
    );
}

#[test]
fn a_killed_import_run_again_stores_each_message_once_with_the_server_stopped() {
    let env = Env::new();
    env.add_user("ann", "pw");
    let file = write_mbox(&env);
    killed_then_run_again(&env, "ann", &file);
    assert_each_once(&env.store(), "ann", 1);

    let summary = env.ok(
        &["import-mbox", "--user", "ann", "--allow-duplicates", &file],
        "",
    );
    assert_eq!(counts(&summary), (MESSAGES, 0), "{summary}");
    assert_each_once(&env.store(), "ann", 2);
}

#[test]
fn a_killed_import_run_again_stores_each_message_once_through_the_server() {
    let env = Env::new();
    let server = env.serve(&[]);
    env.add_user("bob", "pw");
    let file = write_mbox(&env);
    killed_then_run_again(&env, "bob", &file);
    server.stop();
    assert_each_once(&env.store(), "bob", 1);
}
