//! What CONDSTORE and QRESYNC (RFC 7162) add to answers: HIGHESTMODSEQ at SELECT, and
//! what a resynchronisation answers — the UIDs expunged since the client's modseq
//! (`* VANISHED (EARLIER)`, from the store's expunge log) and the messages changed
//! since it (from the view's modseqs, without reading the store).

use super::view::{render_flags, View};
use mailhive_protocol::imap::command::Qresync;
use mailhive_protocol::imap::sequence::{compact, SequenceSet};
use mailhive_store::Vanished;

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
