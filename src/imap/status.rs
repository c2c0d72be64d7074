//! The `* STATUS` answer for one mailbox (RFC 3501 §7.2.4), shared by the STATUS
//! command and LIST's STATUS return option (RFC 5819), so that both count the same
//! way: every figure comes from the mailbox's record (its counters), apart from a
//! shared mailbox's UNSEEN (the user's own \Seen set) and RECENT (counted only when
//! asked for).

use super::namespace::{self, Located};
use mailhive_protocol::imap::command::StatusItem;
use mailhive_protocol::imap::response;
use mailhive_store::{MailboxInfo, Store, StoreError, Username};

/// The counts of a STATUS answer that are not in the mailbox's record as they are.
#[derive(Debug, Default)]
struct Counts {
    /// Messages without \Seen for the user: their own \Seen on a mailbox shared with
    /// them.
    unseen: u32,
    /// Messages no session holds \Recent for yet (counted only when asked for).
    recent: u32,
}

fn counts_for(
    store: &Store,
    mailbox: &Located,
    user: &Username,
    items: &[StatusItem],
) -> Result<Counts, StoreError> {
    let unseen = if mailbox.shared {
        let seen = store.seen_by(mailbox.info.id, user)?.len();
        u64::from(mailbox.info.messages).saturating_sub(seen) as u32
    } else {
        mailbox.info.unseen
    };
    let recent = if items.contains(&StatusItem::Recent) {
        store.unclaimed_recent(mailbox.info.id)?
    } else {
        0
    };
    Ok(Counts { unseen, recent })
}

/// `* STATUS name (...)` for a mailbox the user may read.
pub fn mailbox_status(
    store: &Store,
    user: &Username,
    mailbox: &Located,
    items: &[StatusItem],
) -> Result<Vec<u8>, StoreError> {
    let counts = counts_for(store, mailbox, user, items)?;
    Ok(status_line(&mailbox.display, &mailbox.info, &counts, items))
}

/// `* STATUS name (...)` for a virtual parent shown as an empty mailbox
/// (FakeInaccessibleMailboxes).
pub fn virtual_status(display: &str, user: &Username, items: &[StatusItem]) -> Vec<u8> {
    status_line(
        display,
        &namespace::virtual_info(user),
        &Counts::default(),
        items,
    )
}

/// `* STATUS name (MESSAGES n ...)`
fn status_line(
    display: &str,
    info: &MailboxInfo,
    counts: &Counts,
    items: &[StatusItem],
) -> Vec<u8> {
    let mut out = b"* STATUS ".to_vec();
    response::mailbox(&mut out, display);
    let values: Vec<String> = items
        .iter()
        .map(|item| match item {
            StatusItem::Messages => format!("MESSAGES {}", info.messages),
            StatusItem::Recent => format!("RECENT {}", counts.recent),
            StatusItem::UidNext => format!("UIDNEXT {}", info.uid_next),
            StatusItem::UidValidity => format!("UIDVALIDITY {}", info.uid_validity),
            StatusItem::Unseen => format!("UNSEEN {}", counts.unseen),
            StatusItem::Size => format!("SIZE {}", info.bytes),
            StatusItem::HighestModseq => format!("HIGHESTMODSEQ {}", info.highest_modseq),
        })
        .collect();
    out.extend_from_slice(format!(" ({})\r\n", values.join(" ")).as_bytes());
    out
}
