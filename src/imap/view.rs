//! The selected mailbox as one session knows it: the UIDs behind its sequence numbers,
//! the flags it last reported, and the changes other sessions made that it has not
//! announced yet. Announcing follows RFC 3501 §7: new messages (EXISTS) and flag
//! changes (FETCH) at the end of any command, expunges only when no command that uses
//! sequence numbers is running. Applying a change twice does nothing, so a session's
//! own changes, which it reports directly, come back from the Mailbox actor harmlessly.
//!
//! On a mailbox shared with the user, \Seen is the user's own: the Mailbox actor
//! reports the owner's, so the view keeps its own \Seen when others change flags.

use super::namespace::Located;
use crate::mailbox::{Changes, Snapshot};
use mailhive_protocol::imap::sequence::SequenceSet;
use mailhive_store::{Flags, MailboxId, MailboxInfo, Rights, SystemFlags};
use std::collections::BTreeSet;

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
    /// A Mailbox actor sends this view its changes (false for a virtual parent, opened
    /// empty with FakeInaccessibleMailboxes).
    pub watched: bool,
    uids: Vec<u32>,
    flags: Vec<Flags>,
    /// The modseq of each message's flags as last known.
    modseqs: Vec<u64>,
    keywords: BTreeSet<String>,
    /// Changes not yet applied, oldest first.
    pending: Vec<Changes>,
    /// Expunges held back until announcing them is allowed.
    deferred_expunges: Vec<u32>,
}

impl View {
    /// The view of `mailbox`, whose messages were `snapshot` (with the user's own \Seen).
    pub fn new(mailbox: Located, read_only: bool, snapshot: Snapshot) -> View {
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
            watched: true,
            uids: snapshot.uids,
            flags: snapshot.flags,
            modseqs: snapshot.modseqs,
            keywords,
            pending: Vec::new(),
            deferred_expunges: Vec::new(),
        }
    }

    /// A virtual parent opened as an empty, read-only mailbox.
    pub fn empty(info: MailboxInfo, display: String) -> View {
        let snapshot = Snapshot {
            uids: Vec::new(),
            flags: Vec::new(),
            modseqs: Vec::new(),
        };
        let located = Located {
            info,
            rights: Rights::parse("l").unwrap_or_default(),
            display,
            shared: true,
        };
        View {
            watched: false,
            ..View::new(located, true, snapshot)
        }
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

    /// A fingerprint of what this view holds (its messages and their flag versions):
    /// two views with the same one answer a SEARCH alike.
    pub fn fingerprint(&self) -> u64 {
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
        self.modseqs
            .iter()
            .fold(uids, |hash, &modseq| mix(hash, modseq))
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
            }
        }
    }

    /// Removes a message this session has expunged itself; the `* n EXPUNGE` line.
    pub fn remove(&mut self, uid: u32) -> Option<String> {
        let i = self.uids.binary_search(&uid).ok()?;
        self.uids.remove(i);
        self.flags.remove(i);
        self.modseqs.remove(i);
        Some(format!("* {} EXPUNGE\r\n", i + 1))
    }

    pub fn queue(&mut self, changes: Changes) {
        self.pending.push(changes);
    }

    /// Applies the queued changes and returns the untagged lines that announce them.
    pub fn announce(&mut self, expunges_allowed: bool) -> Vec<u8> {
        let mut out = Vec::new();
        let pending = std::mem::take(&mut self.pending);
        let known_keywords = self.keywords.len();
        let exists_before = self.uids.len();
        for changes in &pending {
            for (uid, flags, modseq) in &changes.appended {
                if self.uids.last().is_none_or(|last| uid > last) {
                    let flags = self.as_seen_here(flags, None);
                    self.keywords.extend(flags.keywords().iter().cloned());
                    self.uids.push(*uid);
                    self.flags.push(flags);
                    self.modseqs.push(*modseq);
                }
            }
        }
        let mut flag_lines = Vec::new();
        for changes in &pending {
            for (uid, flags, modseq) in &changes.flags {
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
                    flag_lines.push(format!(
                        "* {seq} FETCH (UID {uid} FLAGS {})\r\n",
                        render_flags(&flags)
                    ));
                    self.flags[i] = flags;
                }
            }
            self.deferred_expunges.extend(&changes.expunged);
        }
        if self.keywords.len() != known_keywords {
            let list = self.flag_list();
            out.extend_from_slice(format!("* FLAGS {list}\r\n").as_bytes());
            if !self.read_only {
                let permanent = format!("{} \\*)", list.trim_end_matches(')'));
                out.extend_from_slice(
                    format!("* OK [PERMANENTFLAGS {permanent}] Flags permitted\r\n").as_bytes(),
                );
            }
        }
        if self.uids.len() != exists_before {
            out.extend_from_slice(format!("* {} EXISTS\r\n", self.uids.len()).as_bytes());
        }
        for line in flag_lines {
            out.extend_from_slice(line.as_bytes());
        }
        if expunges_allowed {
            let mut expunged = std::mem::take(&mut self.deferred_expunges);
            expunged.sort_unstable();
            expunged.dedup();
            for uid in expunged {
                if let Some(line) = self.remove(uid) {
                    out.extend_from_slice(line.as_bytes());
                }
            }
        }
        out
    }
}

/// `(\Seen $Forwarded)`
pub fn render_flags(flags: &Flags) -> String {
    let mut names: Vec<&str> = SystemFlags::ALL
        .iter()
        .filter(|(f, _)| flags.system.contains(*f))
        .map(|(_, name)| *name)
        .collect();
    names.extend(flags.keywords().iter().map(String::as_str));
    format!("({})", names.join(" "))
}
