//! CONDSTORE and QRESYNC (RFC 7162) in the session: which of them (and UTF8=ACCEPT,
//! RFC 6855) this connection has enabled, ENABLE, and what a resynchronisation answers — the UIDs expunged since the
//! client's modseq (`* VANISHED (EARLIER)`, from the store's expunge log) and the
//! messages changed since it (from the view's modseqs, without reading the store).

use super::session::{ImapSession, Work};
use super::view::{render_flags, View};
use mailhive_protocol::imap::command::Qresync;
use mailhive_protocol::imap::mutf7::MailboxEncoding;
use mailhive_protocol::imap::sequence::{compact, SequenceSet};
use mailhive_store::Vanished;

/// The extensions this connection has enabled (RFC 5161, RFC 7162 §3.1, §3.2.3).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Enabled {
    /// FETCH responses with FLAGS carry MODSEQ.
    pub condstore: bool,
    /// Expunges are announced as VANISHED; QRESYNC select parameters are allowed.
    pub qresync: bool,
    /// UTF8=ACCEPT (RFC 6855): mailbox names in UTF-8 both ways.
    pub utf8: bool,
}

impl Enabled {
    /// How mailbox names are written on this connection.
    pub fn names(self) -> MailboxEncoding {
        match self.utf8 {
            true => MailboxEncoding::Utf8,
            false => MailboxEncoding::ModifiedUtf7,
        }
    }
}

impl ImapSession {
    /// A CONDSTORE-enabling command (FETCH MODSEQ, CHANGEDSINCE, UNCHANGEDSINCE, SEARCH
    /// MODSEQ) switches CONDSTORE on; with a mailbox selected the client is then told
    /// its HIGHESTMODSEQ, which it did not hear at SELECT (RFC 7162 §3.1).
    pub(super) fn enable_condstore(&mut self) {
        if self.extensions.condstore {
            return;
        }
        self.extensions.condstore = true;
        if let Some(view) = self.state.view_mut() {
            view.tell_highest_modseq();
        }
    }

    /// How mailbox names are written on this connection.
    pub(super) fn names(&self) -> MailboxEncoding {
        self.extensions.names()
    }

    /// ENABLE: `* ENABLED` with the extensions this command switched on.
    pub(super) fn enable(&mut self, tag: &str, capabilities: &[String]) -> Work {
        let mut switched_on = Vec::new();
        for capability in capabilities {
            match capability.as_str() {
                "CONDSTORE" if !self.extensions.condstore => {
                    self.extensions.condstore = true;
                    switched_on.push("CONDSTORE");
                }
                "QRESYNC" if !self.extensions.qresync => {
                    // QRESYNC implies CONDSTORE (RFC 7162 §3.2.3).
                    self.extensions.qresync = true;
                    self.extensions.condstore = true;
                    switched_on.push("QRESYNC");
                }
                "UTF8=ACCEPT" if !self.extensions.utf8 => {
                    self.extensions.utf8 = true;
                    switched_on.push("UTF8=ACCEPT");
                }
                _ => {}
            }
        }
        let mut line = String::from("* ENABLED");
        for name in switched_on {
            line.push(' ');
            line.push_str(name);
        }
        line.push_str("\r\n");
        self.ok_with(line.into_bytes(), tag, "ENABLE completed")
    }
}

/// The `* OK [HIGHESTMODSEQ n]` of SELECT and EXAMINE, or `[NOMODSEQ]` for a mailbox
/// without modseqs (a virtual parent).
pub fn highest_modseq_line(view: &View) -> String {
    match view.highest_modseq() {
        0 => "* OK [NOMODSEQ] No persistent modsequences\r\n".into(),
        n => format!("* OK [HIGHESTMODSEQ {n}] Highest\r\n"),
    }
}

/// The UIDs the client may still hold that are gone: what the expunge log says went
/// after its modseq, or — when the log has forgotten that far back — every UID below
/// UIDNEXT that the mailbox no longer has; within `within` (UIDs, `*` the highest).
pub fn vanished_uids(view: &View, vanished: Vanished, within: Option<&SequenceSet>) -> Vec<u32> {
    let last = view.uid_next().saturating_sub(1);
    let wanted = |uid: u32| within.is_none_or(|set| set.contains(uid, last));
    if vanished.complete {
        return vanished.uids.into_iter().filter(|&u| wanted(u)).collect();
    }
    let mut held = (1..=view.exists())
        .filter_map(|seq| view.uid(seq))
        .peekable();
    let mut gone = Vec::new();
    let candidates: Vec<u32> = match within {
        Some(set) => set.members(last),
        None => (1..=last).collect(),
    };
    for uid in candidates {
        while held.next_if(|&h| h < uid).is_some() {}
        if held.peek() != Some(&uid) {
            gone.push(uid);
        }
    }
    gone
}

/// `* VANISHED (EARLIER) uids`, or nothing for none.
pub fn vanished_earlier_line(uids: &[u32]) -> Vec<u8> {
    if uids.is_empty() {
        return Vec::new();
    }
    format!("* VANISHED (EARLIER) {}\r\n", compact(uids)).into_bytes()
}

/// What a QRESYNC SELECT adds to its answer when the client's UIDVALIDITY still holds:
/// the UIDs expunged since its modseq, then a FETCH of every message changed since,
/// both within its known UIDs (RFC 7162 §3.2.5.1).
pub fn resync_lines(view: &View, known: &Qresync, vanished: Vanished) -> Vec<u8> {
    let within = known.known_uids.as_ref();
    let mut out = vanished_earlier_line(&vanished_uids(view, vanished, within));
    let last = view.uid_next().saturating_sub(1);
    for seq in 1..=view.exists() {
        let (Some(uid), Some(modseq)) = (view.uid(seq), view.modseq(seq)) else {
            continue;
        };
        if modseq <= known.modseq || within.is_some_and(|set| !set.contains(uid, last)) {
            continue;
        }
        let Some(flags) = view.flags(seq) else {
            continue;
        };
        out.extend_from_slice(
            format!(
                "* {seq} FETCH (UID {uid} FLAGS {} MODSEQ ({modseq}))\r\n",
                render_flags(flags, view.is_recent(uid))
            )
            .as_bytes(),
        );
    }
    out
}
