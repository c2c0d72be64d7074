//! The selected mailbox as one session knows it: the UIDs behind its sequence numbers,
//! the flags it last reported, and the changes other sessions made that it has not
//! announced yet. Announcing follows RFC 3501 §7: new messages (EXISTS) and flag
//! changes (FETCH) at the end of any command, expunges only when no command that uses
//! sequence numbers is running. The changes come from the Mailbox actor through the
//! view's [`Inbox`], taken whenever the view announces: in the order the actor made
//! them, the session's own among them. Applying a change twice does nothing, so a
//! session's own flag changes and expunges, which it reports directly, come back from
//! the actor harmlessly.
//!
//! On a mailbox shared with the user, \Seen is the user's own: the Mailbox actor
//! reports the owner's, so the view keeps its own \Seen when others change flags.
//!
//! \Recent is the session's own too: the UIDs the Mailbox actor gave this session
//! (`Snapshot::recent`, `Changes::recent`), kept as ranges. A keyword the session has
//! not announced yet is announced (`* FLAGS`, `* OK [PERMANENTFLAGS]`) before the first
//! FETCH that shows it.
//!
//! With CONDSTORE enabled, flag changes are announced with their MODSEQ; with QRESYNC,
//! expunges as `* VANISHED` (RFC 7162 §3.1.4, §3.2.10). The view keeps each message's
//! modseq, so CHANGEDSINCE and a QRESYNC SELECT find what changed without the store.

use super::enabled::Enabled;
use super::namespace::Located;
use super::search_state::SearchState;
use crate::mailbox::{remove_uids, Changes, Inbox, Snapshot};
use mailhive_protocol::imap::sequence::{compact, SequenceSet};
use mailhive_store::{Flags, MailboxId, MailboxInfo, Rights, SystemFlags};
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::sync::Arc;

#[derive(Debug)]
pub struct View {
    pub info: MailboxInfo,
    /// The name the user selected it by.
    pub display: String,
    /// What the user may do in it (RFC 4314).
    pub rights: Rights,
    pub read_only: bool,
    /// \Seen is the user's own, not the one the Mailbox actor reports.
    private_seen: bool,
    /// Where the Mailbox actor puts this view's changes (none for a virtual parent,
    /// opened empty with FakeInaccessibleMailboxes).
    inbox: Option<Arc<Inbox>>,
    uids: Vec<u32>,
    flags: Vec<Flags>,
    /// The modseq of each message's flags as last known.
    modseqs: Vec<u64>,
    /// The mailbox's HIGHESTMODSEQ as far as this view has applied its changes.
    highest_modseq: u64,
    /// `* OK [HIGHESTMODSEQ]` is due with the next announcement.
    highest_modseq_due: bool,
    keywords: BTreeSet<String>,
    /// How many of `keywords` the client has been told of (they only grow).
    announced_keywords: usize,
    /// This session's number among the mailbox's watchers.
    watcher: u64,
    /// UIDs that are \Recent in this session, ascending ranges.
    recent: Vec<Range<u32>>,
    /// The \Recent count the client was last told.
    announced_recent: u32,
    /// Changes not yet applied, merged as they come: however many changes others make
    /// before this session's next command, it holds at most one entry per message.
    pending: Pending,
    /// Expunges held back until announcing them is allowed.
    deferred_expunges: BTreeSet<u32>,
    /// The saved search result and the searches kept up to date.
    searches: SearchState,
}

/// Changes reported by the Mailbox actor and not yet announced, merged.
#[derive(Debug, Default)]
struct Pending {
    /// New messages, ascending UIDs.
    appended: Vec<(u32, Flags, u64)>,
    /// The latest flags reported for each message, with their modseq.
    flags: BTreeMap<u32, (Flags, u64)>,
    expunged: BTreeSet<u32>,
    /// UIDs given to this session as \Recent.
    recent: Vec<Range<u32>>,
    /// The highest HIGHESTMODSEQ reported.
    highest_modseq: u64,
}

impl View {
    /// The view of `mailbox` for `watcher`, whose messages were `snapshot` (with the
    /// user's own \Seen) and whose changes come to `inbox`.
    pub fn new(
        mailbox: Located,
        read_only: bool,
        snapshot: Snapshot,
        watcher: u64,
        inbox: Option<Arc<Inbox>>,
    ) -> View {
        let info = mailbox.info;
        let mut keywords: BTreeSet<String> = info.keywords.iter().cloned().collect();
        for flags in &snapshot.flags {
            keywords.extend(flags.keywords().iter().cloned());
        }
        View {
            info,
            display: mailbox.display,
            rights: mailbox.rights,
            read_only,
            private_seen: mailbox.shared,
            inbox,
            uids: snapshot.uids,
            flags: snapshot.flags,
            modseqs: snapshot.modseqs,
            highest_modseq: snapshot.highest_modseq,
            highest_modseq_due: false,
            announced_keywords: keywords.len(),
            keywords,
            watcher,
            recent: Some(snapshot.recent)
                .filter(|r| !r.is_empty())
                .into_iter()
                .collect(),
            announced_recent: 0,
            pending: Pending::default(),
            deferred_expunges: BTreeSet::new(),
            searches: SearchState::default(),
        }
    }

    /// A virtual parent opened as an empty, read-only mailbox.
    pub fn empty(info: MailboxInfo, display: String) -> View {
        let snapshot = Snapshot {
            uids: Vec::new(),
            flags: Vec::new(),
            modseqs: Vec::new(),
            highest_modseq: 0,
            recent: 0..0,
        };
        let located = Located {
            info,
            rights: Rights::parse("l").unwrap_or_default(),
            display,
            shared: true,
        };
        View::new(located, true, snapshot, 0, None)
    }

    /// A Mailbox actor tells this view of changes (it must be told when the view ends).
    pub fn watched(&self) -> bool {
        self.inbox.is_some()
    }

    /// The Mailbox actor stopped telling this view of changes: it cannot be kept in
    /// step any more.
    pub fn lagged(&self) -> bool {
        self.inbox.as_ref().is_some_and(|inbox| inbox.lagged())
    }

    pub fn id(&self) -> MailboxId {
        self.info.id
    }

    /// What `flags` reported by the Mailbox actor look like here, for message `i`
    /// (`None` for a new one): with this user's own \Seen on a shared mailbox.
    fn as_seen_here(&self, flags: &Flags, i: Option<usize>) -> Flags {
        if !self.private_seen {
            return flags.clone();
        }
        let seen = i
            .and_then(|i| self.flags.get(i))
            .is_some_and(Flags::is_seen);
        flags.clone().with_seen(seen)
    }

    /// A fingerprint of what this view holds (its messages and their flag versions,
    /// and with `recent` which of them are \Recent here): two views with the same one
    /// answer a SEARCH alike.
    pub fn fingerprint(&self, recent: bool) -> u64 {
        // A fast multiplicative fold (not a defence against crafted input: views are
        // the server's own, and a collision only makes two searches of one user in one
        // mailbox share an answer that is then as stale as a late one).
        let mix = |hash: u64, value: u64| {
            (hash.rotate_left(5) ^ value).wrapping_mul(0x517c_c1b7_2722_0a95)
        };
        let uids = self
            .uids
            .iter()
            .fold(0, |hash, &uid| mix(hash, u64::from(uid)));
        let modseqs = self
            .modseqs
            .iter()
            .fold(uids, |hash, &modseq| mix(hash, modseq));
        if !recent {
            return modseqs;
        }
        self.recent.iter().fold(modseqs, |hash, range| {
            mix(mix(hash, u64::from(range.start)), u64::from(range.end))
        })
    }

    pub fn is_recent(&self, uid: u32) -> bool {
        let after = self.recent.partition_point(|r| r.end <= uid);
        self.recent.get(after).is_some_and(|r| r.contains(&uid))
    }

    /// Adds `range` to the UIDs that are \Recent here, keeping the ranges disjoint and
    /// ascending (a late report may repeat what a snapshot already gave).
    fn add_recent(&mut self, range: Range<u32>) {
        if range.is_empty() {
            return;
        }
        let first = self.recent.partition_point(|r| r.end < range.start);
        let last = self.recent.partition_point(|r| r.start <= range.end);
        let merged = match self.recent.get(first..last) {
            Some([]) | None => range,
            Some(overlapping) => {
                let start = overlapping[0].start.min(range.start);
                let end = overlapping[overlapping.len() - 1].end.max(range.end);
                start..end
            }
        };
        self.recent.splice(first..last, [merged]);
    }

    /// How many messages are \Recent in this session.
    pub fn recent_count(&self) -> u32 {
        let count = |range: &Range<u32>| {
            self.uids.partition_point(|&u| u < range.end)
                - self.uids.partition_point(|&u| u < range.start)
        };
        self.recent.iter().map(count).sum::<usize>() as u32
    }

    /// The FLAGS of message `seq` as this session shows them (\Recent included).
    pub fn flags_text(&self, seq: u32) -> Option<String> {
        let flags = self.flags(seq)?;
        let uid = self.uid(seq)?;
        Some(render_flags(flags, self.is_recent(uid)))
    }

    /// The \Recent count, which the client is being told.
    pub fn tell_recent(&mut self) -> u32 {
        self.announced_recent = self.recent_count();
        self.announced_recent
    }

    /// `* n RECENT` if the count changed since the client was last told.
    fn recent_announcement(&mut self) -> Vec<u8> {
        if self.recent_count() == self.announced_recent {
            return Vec::new();
        }
        format!("* {} RECENT\r\n", self.tell_recent()).into_bytes()
    }

    /// `* FLAGS` and `* OK [PERMANENTFLAGS]` if keywords appeared that the client has not
    /// been told of: sent before any FETCH that shows them.
    pub fn keywords_announcement(&mut self) -> Vec<u8> {
        if self.keywords.len() == self.announced_keywords {
            return Vec::new();
        }
        self.announced_keywords = self.keywords.len();
        let list = self.flag_list();
        let mut out = format!("* FLAGS {list}\r\n");
        if !self.read_only {
            let permanent = format!("{} \\*)", list.trim_end_matches(')'));
            out.push_str(&format!(
                "* OK [PERMANENTFLAGS {permanent}] Flags permitted\r\n"
            ));
        }
        out.into_bytes()
    }

    pub fn exists(&self) -> u32 {
        self.uids.len() as u32
    }

    pub fn uid_next(&self) -> u32 {
        let after_last = self.uids.last().map_or(1, |&u| u.saturating_add(1));
        self.info.uid_next.max(after_last)
    }

    /// The sequence number of the first message without \Seen.
    pub fn first_unseen(&self) -> Option<u32> {
        self.flags
            .iter()
            .position(|f| !f.is_seen())
            .map(|i| i as u32 + 1)
    }

    pub fn uid(&self, seq: u32) -> Option<u32> {
        self.uids.get(seq.checked_sub(1)? as usize).copied()
    }

    pub fn seq_of(&self, uid: u32) -> Option<u32> {
        self.uids.binary_search(&uid).ok().map(|i| i as u32 + 1)
    }

    pub fn flags(&self, seq: u32) -> Option<&Flags> {
        self.flags.get(seq.checked_sub(1)? as usize)
    }

    /// The modseq of message `seq` as last known.
    pub fn modseq(&self, seq: u32) -> Option<u64> {
        self.modseqs.get(seq.checked_sub(1)? as usize).copied()
    }

    /// Has the next announcement tell the client HIGHESTMODSEQ (CONDSTORE was just
    /// switched on with the mailbox selected).
    pub fn tell_highest_modseq(&mut self) {
        self.highest_modseq_due = true;
    }

    /// Takes in the HIGHESTMODSEQ after a change this session made and reports itself.
    pub fn reached_modseq(&mut self, modseq: u64) {
        self.highest_modseq = self.highest_modseq.max(modseq);
    }

    /// HIGHESTMODSEQ as this view knows it (0 for a mailbox without modseqs, a virtual
    /// parent).
    pub fn highest_modseq(&self) -> u64 {
        self.highest_modseq
    }

    /// `(\Answered \Flagged \Deleted \Seen \Draft $kw...)`
    pub fn flag_list(&self) -> String {
        let mut list: Vec<&str> = SystemFlags::ALL.iter().map(|(_, name)| *name).collect();
        list.extend(self.keywords.iter().map(String::as_str));
        format!("({})", list.join(" "))
    }

    /// The messages a set names, as (sequence number, UID), ascending. With `uid`
    /// the set holds UIDs (`*` is the highest UID), otherwise sequence numbers.
    pub fn resolve(&self, set: &SequenceSet, uid: bool) -> Vec<(u32, u32)> {
        if !uid {
            return set
                .members(self.exists())
                .into_iter()
                .filter_map(|seq| Some((seq, self.uid(seq)?)))
                .collect();
        }
        let last = self.uids.last().copied().unwrap_or(0);
        let mut ranges: Vec<(u32, u32)> = set.ranges(last).collect();
        ranges.sort_unstable();
        let mut out = Vec::new();
        let mut next_index = 0;
        for (low, high) in ranges {
            let start = self.uids.partition_point(|&u| u < low).max(next_index);
            let end = self.uids.partition_point(|&u| u <= high);
            for i in start..end {
                out.push((i as u32 + 1, self.uids[i]));
            }
            next_index = next_index.max(end);
        }
        out
    }

    /// Records flags this session has just reported itself.
    pub fn set_flags(&mut self, uid: u32, flags: Flags, modseq: u64) {
        if let Some(seq) = self.seq_of(uid) {
            let i = seq as usize - 1;
            if modseq >= self.modseqs[i] {
                self.keywords.extend(flags.keywords().iter().cloned());
                self.flags[i] = flags;
                self.modseqs[i] = modseq;
                self.searches.touch(uid);
            }
        }
        self.reached_modseq(modseq);
    }

    /// The saved search result and the searches kept up to date.
    pub fn searches(&self) -> &SearchState {
        &self.searches
    }

    /// [`View::searches`] to change, with the UIDs of the view's messages (which give
    /// their sequence numbers).
    pub fn searches_mut(&mut self) -> (&mut SearchState, &[u32]) {
        (&mut self.searches, &self.uids)
    }

    /// Removes the messages `uids` names (in any order; UIDs not here are skipped) in
    /// one pass over the view, whatever their number; the `* n EXPUNGE` lines, in
    /// ascending order, each number counted after the removals before it — or with
    /// QRESYNC one `* VANISHED` line.
    pub fn remove_all(&mut self, uids: &[u32], enabled: Enabled) -> Vec<u8> {
        let mut gone = uids.to_vec();
        gone.sort_unstable();
        gone.dedup();
        let mut out = self.searches.before_expunge(&gone, &self.uids);
        let mut vanished = Vec::new();
        let columns = (&mut self.uids, &mut self.flags, &mut self.modseqs);
        remove_uids(columns, &gone, |kept, uid| {
            if enabled.qresync {
                vanished.push(uid);
            } else {
                // Messages before this one that stay: `kept`; it is number kept + 1.
                out.extend_from_slice(format!("* {} EXPUNGE\r\n", kept + 1).as_bytes());
            }
        });
        if !vanished.is_empty() {
            out.extend_from_slice(format!("* VANISHED {}\r\n", compact(&vanished)).as_bytes());
        }
        out
    }

    /// Merges a report of the Mailbox actor into what is pending.
    fn queue(&mut self, changes: Changes) {
        let pending = &mut self.pending;
        if let Some((watcher, range)) = changes.recent {
            if watcher == self.watcher {
                pending.recent.push(range);
            }
        }
        for (uid, flags, modseq) in changes.appended {
            let last = pending
                .appended
                .last()
                .map(|a| a.0)
                .or(self.uids.last().copied());
            if last.is_none_or(|last| uid > last) {
                pending.appended.push((uid, flags, modseq));
            }
        }
        for (uid, flags, modseq) in changes.flags {
            let newer = pending
                .flags
                .get(&uid)
                .is_none_or(|(_, seen)| modseq > *seen);
            if newer {
                pending.flags.insert(uid, (flags, modseq));
            }
        }
        pending.expunged.extend(changes.expunged);
        pending.highest_modseq = pending.highest_modseq.max(changes.highest_modseq);
    }

    /// Takes what came to the inbox into what is pending, merged (at most one entry per
    /// message however many changes came), without announcing it.
    pub fn absorb(&mut self) {
        let arrived = self.inbox.as_ref().map(|inbox| inbox.take());
        for changes in arrived.into_iter().flatten() {
            self.queue(changes);
        }
    }

    /// Applies the changes in the inbox and returns the untagged lines that announce
    /// them.
    pub fn announce(&mut self, expunges_allowed: bool, enabled: Enabled) -> Vec<u8> {
        self.absorb();
        let pending = std::mem::take(&mut self.pending);
        self.highest_modseq = self.highest_modseq.max(pending.highest_modseq);
        let exists_before = self.uids.len();
        for range in pending.recent {
            self.add_recent(range);
        }
        for (uid, flags, modseq) in &pending.appended {
            if self.uids.last().is_none_or(|last| uid > last) {
                let flags = self.as_seen_here(flags, None);
                self.keywords.extend(flags.keywords().iter().cloned());
                self.uids.push(*uid);
                self.flags.push(flags);
                self.modseqs.push(*modseq);
                self.searches.touch(*uid);
            }
        }
        let mut flag_lines = Vec::new();
        for (uid, (flags, modseq)) in &pending.flags {
            let Some(seq) = self.seq_of(*uid) else {
                continue;
            };
            let i = seq as usize - 1;
            if *modseq <= self.modseqs[i] {
                continue;
            }
            self.modseqs[i] = *modseq;
            let flags = self.as_seen_here(flags, Some(i));
            if self.flags[i] != flags {
                self.keywords.extend(flags.keywords().iter().cloned());
                let modseq = match enabled.condstore {
                    true => format!(" MODSEQ ({modseq})"),
                    false => String::new(),
                };
                flag_lines.push(format!(
                    "* {seq} FETCH (UID {uid} FLAGS {}{modseq})\r\n",
                    render_flags(&flags, self.is_recent(*uid))
                ));
                self.flags[i] = flags;
                self.searches.touch(*uid);
            }
        }
        self.deferred_expunges.extend(pending.expunged);
        let mut out = self.keywords_announcement();
        if self.uids.len() != exists_before {
            out.extend_from_slice(format!("* {} EXISTS\r\n", self.uids.len()).as_bytes());
            out.extend(self.recent_announcement());
        }
        for line in flag_lines {
            out.extend_from_slice(line.as_bytes());
        }
        if std::mem::take(&mut self.highest_modseq_due) && self.highest_modseq > 0 {
            let line = format!("* OK [HIGHESTMODSEQ {}] Highest\r\n", self.highest_modseq);
            out.extend_from_slice(line.as_bytes());
        }
        if expunges_allowed {
            let expunged: Vec<u32> = std::mem::take(&mut self.deferred_expunges)
                .into_iter()
                .collect();
            out.extend(self.remove_all(&expunged, enabled));
        }
        out
    }
}

/// `(\Seen \Recent $Forwarded)`
pub fn render_flags(flags: &Flags, recent: bool) -> String {
    let mut names: Vec<&str> = SystemFlags::ALL
        .iter()
        .filter(|(f, _)| flags.system.contains(*f))
        .map(|(_, name)| *name)
        .collect();
    if recent {
        names.push("\\Recent");
    }
    names.extend(flags.keywords().iter().map(String::as_str));
    format!("({})", names.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use mailhive_store::Username;

    fn view() -> View {
        let user = Username::parse("u").expect("a user name");
        let info = super::super::namespace::virtual_info(&user);
        let mut view = View::empty(info, "x".into());
        view.uids = (1..=20).collect();
        view.flags = vec![Flags::default(); 20];
        view.modseqs = vec![1; 20];
        view
    }

    #[test]
    fn expunges_are_removed_in_one_pass_with_the_numbers_rfc_3501_gives() {
        let mut v = view();
        // UIDs 1..=20; remove 2, 3, 10 and 20 (and 99, not there), given in any order.
        let lines = v.remove_all(&[20, 3, 99, 2, 10, 3], Enabled::default());
        assert_eq!(
            String::from_utf8(lines).expect("ASCII"),
            "* 2 EXPUNGE\r\n* 2 EXPUNGE\r\n* 8 EXPUNGE\r\n* 17 EXPUNGE\r\n"
        );
        assert_eq!(v.exists(), 16);
        assert_eq!(
            (v.uid(1), v.uid(2), v.uid(8), v.uid(16)),
            (Some(1), Some(4), Some(11), Some(19))
        );
        assert_eq!(v.flags.len(), 16);
        assert_eq!(v.modseqs.len(), 16);
    }

    #[test]
    fn recent_ranges_stay_disjoint_whatever_the_order_of_reports() {
        let mut v = view();
        v.add_recent(5..8);
        v.add_recent(5..8);
        v.add_recent(1..3);
        v.add_recent(7..11);
        v.add_recent(0..0);
        assert_eq!(v.recent, [1..3, 5..11]);
        assert_eq!(v.recent_count(), 8);
        v.add_recent(3..5);
        assert_eq!(v.recent, vec![Range { start: 1, end: 11 }]);
        assert!(v.is_recent(10) && !v.is_recent(11) && v.is_recent(1));
    }
}
