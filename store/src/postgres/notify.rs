//! Changes reaching every process: a write transaction that changes mailbox records or
//! settings sends `NOTIFY mailhive` with what changed before it commits (PostgreSQL
//! delivers it with the commit, or not at all), and each process listens on a
//! connection of its own and hands what others committed to the store's caller.
//!
//! A payload is the sending engine's instance number, then one `m<id>:<modseq>` per
//! mailbox record written (modseq 0 when removed), one `a<name>` per account written or
//! removed (names hold no spaces), and `s` when a setting changed; a process skips its
//! own. A broken listening connection is opened again, and the caller
//! told that anything may have changed meanwhile.

use crate::engine::{ForeignChange, ForeignChanges};
use crate::schema::{decode, key, MailboxRecord};
use crate::types::{MailboxId, Username};
use crate::StoreError;
use postgres::fallible_iterator::FallibleIterator;
use postgres::{Client, NoTls};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

pub(super) const CHANNEL: &str = "mailhive";
/// Entries per notification: PostgreSQL takes payloads under 8,000 bytes.
const ENTRIES_PER_NOTICE: usize = 200;
/// How long the listener waits for a notification before it checks its connection.
const LIVENESS: Duration = Duration::from_secs(10);
/// How long it waits before connecting again after its connection broke.
const RECONNECT: Duration = Duration::from_secs(1);

/// The payloads announcing what `writes` change, if anything.
pub(super) fn notices(
    instance: u64,
    writes: &BTreeMap<Vec<u8>, Option<Vec<u8>>>,
) -> Result<Vec<String>, StoreError> {
    let mut entries = Vec::new();
    let mut settings = false;
    for (k, value) in writes {
        match k.first() {
            Some(&key::MAILBOX) => {
                let Some(id) = k.get(1..9).and_then(|b| b.try_into().ok()) else {
                    continue;
                };
                let modseq = match value {
                    Some(v) => decode::<MailboxRecord>(k, v)?.highest_modseq,
                    None => 0,
                };
                entries.push(format!("m{}:{modseq}", u64::from_be_bytes(id)));
            }
            Some(&key::ACCOUNT) => {
                if let Ok(name) = std::str::from_utf8(&k[1..]) {
                    entries.push(format!("a{name}"));
                }
            }
            Some(&key::SETTING) => settings = true,
            _ => {}
        }
    }
    if settings {
        entries.push("s".into());
    }
    Ok(entries
        .chunks(ENTRIES_PER_NOTICE)
        .map(|chunk| {
            let mut payload = instance.to_string();
            for entry in chunk {
                let _ = write!(payload, " {entry}");
            }
            payload
        })
        .collect())
}

/// The changes a payload reports, unless it is `instance`'s own.
fn parse(instance: u64, payload: &str) -> Vec<ForeignChange> {
    let mut words = payload.split(' ');
    if words.next().and_then(|w| w.parse().ok()) == Some(instance) {
        return Vec::new();
    }
    words
        .filter_map(|word| match word {
            "s" => Some(ForeignChange::Settings),
            _ if word.starts_with('a') => Some(ForeignChange::Account {
                user: Username::parse(&word[1..]).ok()?,
            }),
            _ => {
                let (id, modseq) = word.strip_prefix('m')?.split_once(':')?;
                Some(ForeignChange::Mailbox {
                    id: MailboxId(id.parse().ok()?),
                    highest_modseq: modseq.parse().ok()?,
                })
            }
        })
        .collect()
}

fn listening(config: &postgres::Config) -> Result<Client, postgres::Error> {
    let mut client = config.connect(NoTls)?;
    client.batch_execute(&format!("LISTEN {CHANNEL}"))?;
    Ok(client)
}

/// Starts the thread that hears other processes' changes, and returns once it listens
/// (or could not: a database that cannot be listened to fails the caller). The thread
/// makes its connection itself: the caller may be on an async runtime's thread, where
/// the synchronous client cannot run.
pub(super) fn spawn_listener(
    config: postgres::Config,
    instance: u64,
    on_change: ForeignChanges,
) -> Result<(), StoreError> {
    let (started, first) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("mailhive-listen".into())
        .spawn(move || {
            let mut client = match listening(&config) {
                Ok(client) => {
                    let _ = started.send(Ok(()));
                    client
                }
                Err(e) => {
                    let _ = started.send(Err(StoreError::engine(e)));
                    return;
                }
            };
            loop {
                if let Err(e) = hear(&mut client, instance, &on_change) {
                    tracing::warn!(error = %e, "lost the connection that hears other servers' changes");
                    client = loop {
                        std::thread::sleep(RECONNECT);
                        match listening(&config) {
                            Ok(client) => break client,
                            Err(e) => tracing::warn!(error = %e, "cannot listen for changes yet"),
                        }
                    };
                    on_change(ForeignChange::Unknown);
                }
            }
        })
        .map_err(StoreError::engine)?;
    first
        .recv()
        .map_err(|_| StoreError::engine(std::io::Error::other("the listening thread ended")))?
}

/// Hands over notifications until the connection fails.
fn hear(
    client: &mut Client,
    instance: u64,
    on_change: &ForeignChanges,
) -> Result<(), postgres::Error> {
    loop {
        {
            let mut notifications = client.notifications();
            let mut heard = notifications.timeout_iter(LIVENESS);
            while let Some(notification) = heard.next()? {
                for change in parse(instance, notification.payload()) {
                    on_change(change);
                }
            }
        }
        // Quiet for a while: make sure the connection still answers.
        client.simple_query("SELECT 1")?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_process_hears_the_others_changes_and_not_its_own() {
        let payload = "7 m3:12 m4:0 abob s";
        assert_eq!(parse(7, payload), vec![]);
        assert_eq!(
            parse(8, payload),
            vec![
                ForeignChange::Mailbox {
                    id: MailboxId(3),
                    highest_modseq: 12
                },
                ForeignChange::Mailbox {
                    id: MailboxId(4),
                    highest_modseq: 0
                },
                ForeignChange::Account {
                    user: Username::parse("bob").unwrap()
                },
                ForeignChange::Settings,
            ]
        );
        assert_eq!(
            parse(8, "8x m1:2 junk mz:1"),
            vec![ForeignChange::Mailbox {
                id: MailboxId(1),
                highest_modseq: 2
            }]
        );
    }
}
