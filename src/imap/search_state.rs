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
//!
//! An updating SORT (CONTEXT=SORT, RFC 5267 §4.3) also keeps its results in sort
//! order, and its updates name positions in that order: a REMOVEFROM pair is where
//! the message was when the ones before it in the line had left, an ADDTO pair where
//! it stands once the ones before it in the line are in. Sort keys never change, so
//! the messages that stay keep their order; only arrivals need the program run again.

use mailhive_protocol::imap::command::{SearchKey, SortCriterion};
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
    /// For a SORT, its program and the matching UIDs in its order.
    sorted: Option<Sorted>,
}

/// The order an updating SORT keeps.
#[derive(Debug)]
struct Sorted {
    program: Arc<[SortCriterion]>,
    order: Vec<u32>,
}

impl Updating {
    /// The sort program of an updating SORT.
    pub fn program(&self) -> Option<&Arc<[SortCriterion]>> {
        self.sorted.as_ref().map(|s| &s.program)
    }

    /// Whether `uid` matched when the search was last brought up to date.
    pub fn matched(&self, uid: u32) -> bool {
        self.matching.contains(&uid)
    }

    /// The UIDs that match, ascending.
    pub fn matching(&self) -> impl Iterator<Item = u32> + '_ {
        self.matching.iter().copied()
    }

    /// Takes the UIDs of `gone` out of the search; the REMOVEFROM pairs of a SORT
    /// (position, UID), or the numbers of a SEARCH (ascending UIDs).
    fn remove(&mut self, gone: &BTreeSet<u32>) -> Removed {
        let removed: Vec<u32> = gone
            .iter()
            .copied()
            .filter(|uid| self.matching.remove(uid))
            .collect();
        let Some(sorted) = &mut self.sorted else {
            return Removed::Unsorted(removed);
        };
        if removed.is_empty() {
            return Removed::Sorted(Vec::new());
        }
        // One pass: each leaves from where it is once those before it have left.
        let mut pairs = Vec::with_capacity(removed.len());
        let mut kept = Vec::with_capacity(sorted.order.len());
        for (at, &uid) in sorted.order.iter().enumerate() {
            if gone.contains(&uid) {
                pairs.push((at as u32 + 1 - pairs.len() as u32, uid));
            } else {
                kept.push(uid);
            }
        }
        sorted.order = kept;
        Removed::Sorted(pairs)
    }

    /// The line telling the client what left and what came.
    fn update_line(&self, removed: Removed, added: &[u32], uids: &[u32]) -> Vec<u8> {
        let line = Esearch::new(&self.tag, self.uid);
        let line = match removed {
            Removed::Unsorted(removed) => {
                line.update("REMOVEFROM", &numbered(&removed, self.uid, uids))
            }
            Removed::Sorted(pairs) => {
                line.update_at("REMOVEFROM", &self.numbered_pairs(pairs, uids))
            }
        };
        let line = match &self.sorted {
            None => line.update("ADDTO", &numbered(added, self.uid, uids)),
            Some(sorted) => {
                let added: BTreeSet<u32> = added.iter().copied().collect();
                let pairs = sorted
                    .order
                    .iter()
                    .enumerate()
                    .filter(|(_, uid)| added.contains(uid))
                    .map(|(at, &uid)| (at as u32 + 1, uid))
                    .collect();
                line.update_at("ADDTO", &self.numbered_pairs(pairs, uids))
            }
        };
        line.finish()
    }

    /// `pairs` (position, UID) with sequence numbers for UIDs unless UIDs are asked.
    fn numbered_pairs(&self, pairs: Vec<(u32, u32)>, uids: &[u32]) -> Vec<(u32, u32)> {
        if self.uid {
            return pairs;
        }
        pairs
            .into_iter()
            .filter_map(|(at, uid)| Some((at, seq_of(uid, uids)?)))
            .collect()
    }
}

/// What left a search.
enum Removed {
    /// Of a SEARCH: the UIDs, ascending.
    Unsorted(Vec<u32>),
    /// Of a SORT: (position, UID) in the order they leave.
    Sorted(Vec<(u32, u32)>),
}

/// How an updating search came out of testing the touched messages.
#[derive(Debug)]
pub enum Retested {
    /// The touched messages that match now; for a SORT that gained messages, every
    /// matching UID in its order.
    Matching(BTreeSet<u32>, Option<Vec<u32>>),
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

    /// Keeps a search up to date from its first result, the UIDs `found` (in the order
    /// of `program` for a SORT); the reason it cannot be, if there is one.
    pub fn start_updating(
        &mut self,
        tag: String,
        uid: bool,
        key: SearchKey,
        program: Option<Vec<SortCriterion>>,
        found: Vec<u32>,
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
            matching: found.iter().copied().collect(),
            sorted: program.map(|program| Sorted {
                program: program.into(),
                order: found,
            }),
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

    /// The touched messages, ascending, to test against [`Self::updating`]; nothing
    /// when there is nothing to do.
    pub fn take_touched(&mut self) -> Option<Vec<u32>> {
        if self.touched.is_empty() {
            return None;
        }
        Some(std::mem::take(&mut self.touched).into_iter().collect())
    }

    /// The searches kept up to date.
    pub fn updating(&self) -> &[Updating] {
        &self.updating
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
        // Expunged meanwhile, a message stays out.
        let touched: Vec<u32> = touched
            .iter()
            .copied()
            .filter(|uid| seq_of(*uid, uids).is_some())
            .collect();
        for (tag, outcome) in retested {
            let Some(at) = self.updating.iter().position(|u| u.tag == tag) else {
                continue;
            };
            let (matching, order) = match outcome {
                Retested::Matching(matching, order) => (matching, order),
                Retested::Dropped(reason) => {
                    out.extend(no_update(&self.updating.remove(at).tag, reason));
                    continue;
                }
            };
            let search = &mut self.updating[at];
            let left: BTreeSet<u32> = touched
                .iter()
                .copied()
                .filter(|uid| !matching.contains(uid) && search.matching.contains(uid))
                .collect();
            let added: Vec<u32> = touched
                .iter()
                .copied()
                .filter(|&uid| matching.contains(&uid) && search.matching.insert(uid))
                .collect();
            if left.is_empty() && added.is_empty() {
                continue;
            }
            let removed = search.remove(&left);
            if let (Some(sorted), Some(order)) = (&mut search.sorted, order) {
                let matching = &search.matching;
                sorted.order = order.into_iter().filter(|u| matching.contains(u)).collect();
            }
            out.extend(search.update_line(removed, &added, uids));
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
        let gone: BTreeSet<u32> = gone.iter().copied().collect();
        for search in &mut self.updating {
            let removed = search.remove(&gone);
            let empty = match &removed {
                Removed::Unsorted(r) => r.is_empty(),
                Removed::Sorted(r) => r.is_empty(),
            };
            if !empty {
                out.extend(search.update_line(removed, &[], uids));
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
    found.iter().filter_map(|&u| seq_of(u, uids)).collect()
}

/// The sequence number `uids` gives message `uid`.
fn seq_of(uid: u32, uids: &[u32]) -> Option<u32> {
    uids.binary_search(&uid).ok().map(|i| i as u32 + 1)
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
                .start_updating(tag.into(), uid, SearchKey::All, None, matching.to_vec())
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
        let touched = state.take_touched().unwrap();
        assert_eq!(
            (touched.as_slice(), state.updating().len()),
            (&[2, 3][..], 1)
        );
        let found = Retested::Matching([3].into(), None);
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
                .start_updating(n.to_string(), false, SearchKey::All, None, Vec::new())
                .is_ok());
        }
        assert!(state
            .start_updating("x".into(), false, SearchKey::All, None, Vec::new())
            .is_err());
        let timed = SearchKey::Not(Box::new(SearchKey::Younger(5)));
        state.cancel(&["b".into()]).unwrap();
        assert!(state
            .start_updating("t".into(), false, timed, None, Vec::new())
            .is_err());
    }

    #[test]
    fn a_sorted_search_names_positions_in_its_order() {
        let mut state = SearchState::default();
        let program = vec![SortCriterion {
            reverse: true,
            key: mailhive_protocol::imap::command::SortKey::Arrival,
        }];
        // Sorted 9 7 5 3; 3 and 7 change so that they match no more, 6 arrives.
        state
            .start_updating(
                "s".into(),
                true,
                SearchKey::All,
                Some(program),
                vec![9, 7, 5, 3],
            )
            .unwrap();
        let order = Some(vec![9, 6, 5]);
        let found = Retested::Matching([6].into(), order);
        let lines = state.apply(&[3, 6, 7], vec![("s".into(), found)], &[3, 5, 6, 7, 9]);
        assert_eq!(
            String::from_utf8(lines).unwrap(),
            "* ESEARCH (TAG \"s\") UID REMOVEFROM (2 7 3 3) ADDTO (2 6)\r\n"
        );
        // Numbered by sequence, as the view stands before the expunge of 9 and 5.
        state.updating[0].uid = false;
        let lines = state.before_expunge(&[5, 9], &[3, 5, 6, 7, 9]);
        assert_eq!(
            String::from_utf8(lines).unwrap(),
            "* ESEARCH (TAG \"s\") REMOVEFROM (1 5 2 2)\r\n"
        );
    }
}
