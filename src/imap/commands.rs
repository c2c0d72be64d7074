//! What each IMAP command needs, described once (as Dovecot's command table does):
//! the state it runs in, whether it names messages by sequence number (while one runs,
//! no untagged EXPUNGE may be sent, RFC 3501 §7.4.1), and which Limiter slot it holds.
//! The session's dispatch checks the state and takes the slot from here; handlers
//! receive what their state guarantees.

use crate::limiter::SlotKind;
use mailhive_protocol::imap::command::Command;

/// The state a command runs in (RFC 3501 §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    /// Any state (§6.1).
    Any,
    /// Only before login (§6.2).
    NotAuthenticated,
    /// After login, selected or not (§6.3).
    Authenticated,
    /// With a mailbox selected (§6.4).
    Selected,
}

/// How a command waits for a Limiter slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    None,
    /// Dispatch waits for the slot and holds it while the command runs.
    Held(SlotKind),
    /// The command's shared run waits for the slot (identical SEARCHes share one).
    Shared(SlotKind),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spec {
    pub needs: Needs,
    pub uses_sequence_numbers: bool,
    pub slot: Slot,
}

const fn spec(needs: Needs) -> Spec {
    Spec {
        needs,
        uses_sequence_numbers: false,
        slot: Slot::None,
    }
}

/// A command of the selected state that names messages by sequence number unless it
/// is the UID form.
const fn on_messages(uid: bool, slot: Slot) -> Spec {
    Spec {
        needs: Needs::Selected,
        uses_sequence_numbers: !uid,
        slot,
    }
}

/// The table.
pub fn spec_of(command: &Command) -> Spec {
    use Needs::*;
    match command {
        Command::Capability | Command::Noop | Command::Logout | Command::Id(_) => spec(Any),
        Command::StartTls | Command::Login { .. } | Command::Authenticate { .. } => {
            spec(NotAuthenticated)
        }
        Command::Namespace
        | Command::Enable(_)
        | Command::Idle
        | Command::Select { .. }
        | Command::Create { .. }
        | Command::Delete(_)
        | Command::Rename { .. }
        | Command::Subscribe(_)
        | Command::Unsubscribe(_)
        | Command::List { .. }
        | Command::Lsub { .. }
        | Command::Status { .. }
        | Command::SetAcl { .. }
        | Command::DeleteAcl { .. }
        | Command::GetAcl(_)
        | Command::ListRights { .. }
        | Command::MyRights(_)
        | Command::Append { .. }
        | Command::Compress(_)
        | Command::GetQuota(_)
        | Command::GetQuotaRoot(_)
        | Command::SetQuota { .. } => spec(Authenticated),
        Command::Check
        | Command::Close
        | Command::Unselect
        | Command::Expunge { .. }
        | Command::CancelUpdate(_) => spec(Selected),
        Command::Fetch { uid, .. } => on_messages(*uid, Slot::Held(SlotKind::Fetch)),
        Command::Search { uid, .. } | Command::Sort { uid, .. } | Command::Thread { uid, .. } => {
            on_messages(*uid, Slot::Shared(SlotKind::Search))
        }
        Command::Store { uid, .. } | Command::Copy { uid, .. } | Command::Move { uid, .. } => {
            on_messages(*uid, Slot::None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mailhive_protocol::imap::parser::parse;

    fn of(line: &str) -> Spec {
        let input = bytes::Bytes::from(format!("a {line}\r\n"));
        let request = parse(&input).expect("parses");
        spec_of(&request.command)
    }

    #[test]
    fn states_sequence_numbers_and_slots() {
        assert_eq!(of("NOOP").needs, Needs::Any);
        assert_eq!(of("LOGIN a b").needs, Needs::NotAuthenticated);
        assert_eq!(of("LIST \"\" *").needs, Needs::Authenticated);
        assert_eq!(of("CLOSE").needs, Needs::Selected);
        assert!(of("FETCH 1 FLAGS").uses_sequence_numbers);
        assert!(!of("UID FETCH 1 FLAGS").uses_sequence_numbers);
        assert!(of("SEARCH ALL").uses_sequence_numbers);
        assert!(!of("UID MOVE 1 x").uses_sequence_numbers);
        assert_eq!(of("FETCH 1 FLAGS").slot, Slot::Held(SlotKind::Fetch));
        assert_eq!(of("UID SEARCH ALL").slot, Slot::Shared(SlotKind::Search));
        assert_eq!(of("STORE 1 +FLAGS (\\Seen)").slot, Slot::None);
    }
}
