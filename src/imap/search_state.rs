//! What the selected mailbox keeps of this session's searches: the result saved for
//! `$` (RFC 5182) and the searches kept up to date (RFC 5267 §4.3). Both live in the
//! [`super::view::View`], so selecting another mailbox (or none) forgets them, as the
//! RFCs ask.
//!
//! Both are kept as UIDs, so an expunge cannot make them name another message: `$`
//! skips what is gone when it is read, and an updating search loses an expunged
//! message with a REMOVEFROM sent before the EXPUNGE (RFC 5267 §4.3.4). Messages that
//! arrive or change flags are noted here while updating searches exist, and tested
//! against them when the session next reports changes ([`super::search_updates`]).

use mailhive_protocol::imap::command::SearchKey;
use mailhive_protocol::imap::esearch::Esearch;
use mailhive_protocol::imap::response::{self, Status};
use std::collections::BTreeSet;
use std::sync::Arc;

/// Updating searches one session may keep (RFC 5267 §4.3.1 asks for at least one;
/// Dovecot keeps ten). Past it a search is answered with `NOUPDATE`.
pub const MAX_UPDATING: usize = 10;

#[derive(Debug, Default)]
pub struct SearchState {
    /// The UIDs `$` stands for, ascending.
    saved: Vec<u32>,
    updating: Vec<Updating>,
    /// Messages that arrived or changed flags since the updating searches were last
    /// brought up to date (noted only while there are some).
    touched: BTreeSet<u32>,
}

/// A search kept up to date.
#[derive(Debug)]
pub struct Updating {
    /// The searching command's tag, which its updates carry.
    pub tag: String,
    /// UID SEARCH: updates name UIDs, else sequence numbers.
    pub uid: bool,
    /// The criteria, needles folded, sequence numbers turned into the UIDs they named
    /// when the search ran (RFC 5267 §4.3), so that expunges do not change them.
    pub key: Arc<SearchKey>,
    /// The UIDs that match now.
    matching: BTreeSet<u32>,
}

/// How an updating search came out of testing the touched messages.
#[derive(Debug)]
pub enum Retested {
    /// The touched messages that match now.
    Matching(BTreeSet<u32>),
    /// It cannot be kept up to date any more; the reason is told with NOUPDATE.
    Dropped(&'static str),
}

impl SearchState {
    /// The UIDs `$` stands for.
    pub fn saved(&self) -> &[u32] {
        &self.saved
    }

    /// Keeps `uids` for `$`; a failed saving search keeps none.
    pub fn save(&mut self, mut uids: Vec<u32>) {
        uids.sort_unstable();
        uids.dedup();
        self.saved = uids;
    }

    pub fn is_updating(&self, tag: &str) -> bool {
        self.updating.iter().any(|u| u.tag == tag)
    }

    /// Keeps a search up to date from its first result, `matching`; the reason it
    /// cannot be, if there is one.
    pub fn start_updating(
        &mut self,
        tag: String,
        uid: bool,
        key: SearchKey,
        matching: impl IntoIterator<Item = u32>,
    ) -> Result<(), &'static str> {
        if self.updating.len() >= MAX_UPDATING {
            return Err("Too many searches are kept up to date already");
        }
        if uses_time(&key) {
            return Err("OLDER and YOUNGER change with time alone; not kept up to date");
        }
        self.updating.push(Updating {
            tag,
            uid,
            key: Arc::new(key),
            matching: matching.into_iter().collect(),
        });
        Ok(())
    }

    /// CANCELUPDATE: stops every search of `tags`, or none if one of them is not kept
    /// up to date (that tag is returned).
    pub fn cancel(&mut self, tags: &[String]) -> Result<(), String> {
        if let Some(unknown) = tags.iter().find(|t| !self.is_updating(t)) {
            return Err(unknown.clone());
        }
        self.updating.retain(|u| !tags.contains(&u.tag));
        if self.updating.is_empty() {
            self.touched.clear();
        }
        Ok(())
    }

    /// Notes that message `uid` arrived or changed flags.
    pub fn touch(&mut self, uid: u32) {
        if !self.updating.is_empty() {
            self.touched.insert(uid);
        }
    }

    /// The touched messages, ascending, and the searches to test them against; nothing
    /// when there is nothing to do.
    pub fn take_touched(&mut self) -> Option<(Vec<u32>, &[Updating])> {
        if self.touched.is_empty() {
            return None;
        }
        let touched = std::mem::take(&mut self.touched).into_iter().collect();
        Some((touched, &self.updating))
    }

    /// Applies what testing `touched` found, in the order of `retested` (one entry per
    /// search, by tag); the ESEARCH lines that tell the client, numbered as `uids`
    /// (the view's messages) say.
    pub fn apply(
        &mut self,
        touched: &[u32],
        retested: Vec<(String, Retested)>,
        uids: &[u32],
    ) -> Vec<u8> {
        let mut out = Vec::new();
        for (tag, outcome) in retested {
            let Some(at) = self.updating.iter().position(|u| u.tag == tag) else {
                continue;
            };
            let matching = match outcome {
                Retested::Matching(matching) => matching,
                Retested::Dropped(reason) => {
                    out.extend(no_update(&self.updating.remove(at).tag, reason));
                    continue;
                }
            };
            let search = &mut self.updating[at];
            let mut added = Vec::new();
            let mut removed = Vec::new();
            for &uid in touched {
                let now = matching.contains(&uid);
                if now && search.matching.insert(uid) {
                    added.push(uid);
                } else if !now && search.matching.remove(&uid) {
                    removed.push(uid);
                }
            }
            if added.is_empty() && removed.is_empty() {
                continue;
            }
            out.extend(
                Esearch::new(&search.tag, search.uid)
                    .update("REMOVEFROM", &numbered(&removed, search.uid, uids))
                    .update("ADDTO", &numbered(&added, search.uid, uids))
                    .finish(),
            );
        }
        if self.updating.is_empty() {
            self.touched.clear();
        }
        out
    }

    /// Takes the messages `gone` (ascending UIDs) out of the updating searches; the
    /// REMOVEFROM lines, numbered as `uids` say before the expunge, which the client
    /// must read before the EXPUNGE lines (RFC 5267 §4.3.4).
    pub fn before_expunge(&mut self, gone: &[u32], uids: &[u32]) -> Vec<u8> {
        let mut out = Vec::new();
        for &uid in gone {
            self.touched.remove(&uid);
        }
        for search in &mut self.updating {
            let removed: Vec<u32> = gone
                .iter()
                .copied()
                .filter(|uid| search.matching.remove(uid))
                .collect();
            if !removed.is_empty() {
                out.extend(
                    Esearch::new(&search.tag, search.uid)
                        .update("REMOVEFROM", &numbered(&removed, search.uid, uids))
                        .finish(),
                );
            }
        }
        out
    }
}

/// `* NO [NOUPDATE "tag"] reason` (RFC 5267 §4.3.1).
pub fn no_update(tag: &str, reason: &str) -> Vec<u8> {
    let mut code = b"NOUPDATE ".to_vec();
    response::string(&mut code, tag.as_bytes());
    response::status(
        None,
        Status::No,
        Some(&String::from_utf8_lossy(&code)),
        reason,
    )
}

/// `found` (ascending UIDs) as UIDs, or as the sequence numbers `uids` gives them.
fn numbered(found: &[u32], uid: bool, uids: &[u32]) -> Vec<u32> {
    if uid {
        return found.to_vec();
    }
    found
        .iter()
        .filter_map(|u| uids.binary_search(u).ok().map(|i| i as u32 + 1))
        .collect()
}

/// Whether `key` holds OLDER or YOUNGER (RFC 5032), whose answer changes with time.
fn uses_time(key: &SearchKey) -> bool {
    match key {
        SearchKey::Older(_) | SearchKey::Younger(_) => true,
        SearchKey::Not(inner) => uses_time(inner),
        SearchKey::Or(a, b) => uses_time(a) || uses_time(b),
        SearchKey::And(keys) => keys.iter().any(uses_time),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state_with(tags: &[(&str, bool)], matching: &[u32]) -> SearchState {
        let mut state = SearchState::default();
        for &(tag, uid) in tags {
            state
                .start_updating(tag.into(), uid, SearchKey::All, matching.iter().copied())
                .unwrap();
        }
        state
    }

    #[test]
    fn expunged_matches_leave_before_the_expunge_numbered_as_before_it() {
        let mut state = state_with(&[("s", false), ("u", true)], &[5, 7, 9]);
        let lines = state.before_expunge(&[7, 9, 11], &[5, 6, 7, 8, 9, 10, 11]);
        assert_eq!(
            String::from_utf8(lines).unwrap(),
            "* ESEARCH (TAG \"s\") REMOVEFROM (0 3,5)\r\n\
             * ESEARCH (TAG \"u\") UID REMOVEFROM (0 7,9)\r\n"
        );
        assert!(state.before_expunge(&[7], &[5, 6]).is_empty());
    }

    #[test]
    fn retests_add_and_remove_only_what_changed() {
        let mut state = state_with(&[("s", false)], &[1, 2]);
        state.touch(2);
        state.touch(3);
        let (touched, searches) = state.take_touched().unwrap();
        assert_eq!((touched.as_slice(), searches.len()), (&[2, 3][..], 1));
        let found = Retested::Matching([3].into());
        let lines = state.apply(&[2, 3], vec![("s".into(), found)], &[1, 2, 3]);
        assert_eq!(
            lines,
            b"* ESEARCH (TAG \"s\") REMOVEFROM (0 2) ADDTO (0 3)\r\n"
        );
        assert!(state.take_touched().is_none());
        let dropped = Retested::Dropped("busy");
        let lines = state.apply(&[1], vec![("s".into(), dropped)], &[1, 2, 3]);
        assert_eq!(lines, b"* NO [NOUPDATE \"s\"] busy\r\n");
        state.touch(1);
        assert!(
            state.take_touched().is_none(),
            "nothing noted without searches"
        );
    }

    #[test]
    fn bounds_the_searches_and_cancels_all_named_or_none() {
        let mut state = state_with(&[("a", false), ("b", true)], &[]);
        assert_eq!(state.cancel(&["a".into(), "zz".into()]), Err("zz".into()));
        assert!(state.is_updating("a"));
        assert_eq!(state.cancel(&["a".into()]), Ok(()));
        assert!(!state.is_updating("a") && state.is_updating("b"));
        for n in 1..MAX_UPDATING {
            assert!(state
                .start_updating(n.to_string(), false, SearchKey::All, [])
                .is_ok());
        }
        assert!(state
            .start_updating("x".into(), false, SearchKey::All, [])
            .is_err());
        let timed = SearchKey::Not(Box::new(SearchKey::Younger(5)));
        state.cancel(&["b".into()]).unwrap();
        assert!(state.start_updating("t".into(), false, timed, []).is_err());
    }
}
