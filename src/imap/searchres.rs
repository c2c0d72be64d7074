//! `$` (RFC 5182): the result of the last `SEARCH RETURN (SAVE)`, wherever a command
//! takes a sequence set (FETCH, STORE, COPY, MOVE, UID EXPUNGE, SEARCH and their UID
//! forms, SORT and THREAD). Before a command runs, `$` is replaced by the saved messages that are
//! still in the view: by their UIDs in a UID command or a search key, by their
//! sequence numbers otherwise. Commands run strictly in order, so one behind a saving
//! SEARCH sees its result; with nothing saved, `$` names no message.

use super::session::ImapSession;
use mailhive_protocol::imap::command::{Command, SearchKey};
use mailhive_protocol::imap::sequence::SequenceSet;
use std::cell::OnceCell;

impl ImapSession {
    /// `command` with `$` replaced by the messages it stands for.
    pub(super) fn with_saved_result(&self, command: Command) -> Command {
        let Some(view) = self.state.view() else {
            return command;
        };
        // Looked up once, and only for a command that holds `$`.
        let present = OnceCell::new();
        let saved = || view.resolve(&SequenceSet::of(view.searches().saved()), true);
        let as_set = |uid: bool, set: SequenceSet| {
            if !set.is_saved() {
                return set;
            }
            let numbers: Vec<u32> = present
                .get_or_init(saved)
                .iter()
                .map(|&(seq, u)| if uid { u } else { seq })
                .collect();
            SequenceSet::of(&numbers)
        };
        let resolve = |set: &SequenceSet| as_set(true, set.clone());
        let in_criteria = |criteria: Vec<SearchKey>| -> Vec<SearchKey> {
            criteria
                .iter()
                .map(|key| saved_in_key(key, &resolve))
                .collect()
        };
        match command {
            Command::Fetch {
                uid,
                set,
                items,
                changed_since,
                vanished,
            } => Command::Fetch {
                uid,
                set: as_set(uid, set),
                items,
                changed_since,
                vanished,
            },
            Command::Store {
                uid,
                set,
                mode,
                silent,
                flags,
                unchanged_since,
            } => Command::Store {
                uid,
                set: as_set(uid, set),
                mode,
                silent,
                flags,
                unchanged_since,
            },
            Command::Copy { uid, set, mailbox } => Command::Copy {
                uid,
                set: as_set(uid, set),
                mailbox,
            },
            Command::Move { uid, set, mailbox } => Command::Move {
                uid,
                set: as_set(uid, set),
                mailbox,
            },
            Command::Expunge { uids: Some(set) } => Command::Expunge {
                uids: Some(as_set(true, set)),
            },
            Command::Search {
                uid,
                charset,
                criteria,
                returns,
            } => Command::Search {
                uid,
                charset,
                criteria: in_criteria(criteria),
                returns,
            },
            Command::Sort {
                uid,
                program,
                charset,
                criteria,
                returns,
            } => Command::Sort {
                uid,
                program,
                charset,
                criteria: in_criteria(criteria),
                returns,
            },
            Command::Thread {
                uid,
                algorithm,
                charset,
                criteria,
            } => Command::Thread {
                uid,
                algorithm,
                charset,
                criteria: in_criteria(criteria),
            },
            other => other,
        }
    }
}

/// `key` with `$` as a UID set; other sequence sets stay as they are.
fn saved_in_key(key: &SearchKey, resolve: &dyn Fn(&SequenceSet) -> SequenceSet) -> SearchKey {
    match key {
        SearchKey::Uid(set) | SearchKey::Sequence(set) if set.is_saved() => {
            SearchKey::Uid(resolve(set))
        }
        SearchKey::Not(inner) => SearchKey::Not(Box::new(saved_in_key(inner, resolve))),
        SearchKey::Or(a, b) => SearchKey::Or(
            Box::new(saved_in_key(a, resolve)),
            Box::new(saved_in_key(b, resolve)),
        ),
        SearchKey::And(keys) => {
            SearchKey::And(keys.iter().map(|k| saved_in_key(k, resolve)).collect())
        }
        other => other.clone(),
    }
}
