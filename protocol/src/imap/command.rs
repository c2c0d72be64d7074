//! IMAP commands as the parser delivers them (RFC 3501 and the extensions mailhive
//! implements). Mailbox names are already decoded from modified UTF-7; literal payloads
//! are slices of the command's input, not copies. Passwords, SASL responses and
//! literal payloads are [`crate::redacted`]: a command's `Debug` shows none of them.

use super::esearch::SearchReturn;
use super::sequence::SequenceSet;
use crate::redacted::{Payload, Secret};

/// A tagged command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub tag: String,
    pub command: Command,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Capability,
    Noop,
    Logout,
    StartTls,
    Authenticate {
        mechanism: String,
        /// SASL-IR initial response, still base64 (`=` for an empty one).
        initial: Option<Secret<Vec<u8>>>,
    },
    Login {
        user: String,
        password: Secret<String>,
    },
    Select {
        mailbox: String,
        read_only: bool,
        /// `(CONDSTORE)` among the select parameters (RFC 7162 §3.1.8).
        condstore: bool,
        /// `(QRESYNC (...))` (RFC 7162 §3.2.5).
        qresync: Option<Qresync>,
    },
    /// CREATE, with the special uses of RFC 6154 §3 (`(USE (\Drafts))`) as written
    /// (`\Drafts`).
    Create {
        mailbox: String,
        special_use: Vec<String>,
    },
    Delete(String),
    Rename {
        from: String,
        to: String,
    },
    Subscribe(String),
    Unsubscribe(String),
    List {
        reference: String,
        patterns: Vec<String>,
        options: ListOptions,
    },
    Lsub {
        reference: String,
        pattern: String,
    },
    Status {
        mailbox: String,
        items: Vec<StatusItem>,
    },
    /// APPEND of one message, or of several in one step (MULTIAPPEND, RFC 3502).
    Append {
        mailbox: String,
        messages: Vec<AppendMessage>,
    },
    Check,
    Close,
    Unselect,
    Expunge {
        /// UID EXPUNGE (RFC 4315): only these UIDs.
        uids: Option<SequenceSet>,
    },
    Search {
        uid: bool,
        charset: Option<String>,
        criteria: Vec<SearchKey>,
        /// `RETURN (...)` (RFC 4731): answered with ESEARCH; `None` for a plain SEARCH.
        returns: Option<SearchReturn>,
    },
    /// RFC 5267 §4.3.5: the tags of the updating searches to stop.
    CancelUpdate(Vec<String>),
    /// RFC 5256 §4: the messages that match `criteria`, in threads.
    Thread {
        uid: bool,
        algorithm: ThreadAlgorithm,
        charset: String,
        criteria: Vec<SearchKey>,
    },
    /// RFC 5256: the messages that match `criteria`, in the order of `program`.
    Sort {
        uid: bool,
        program: Vec<SortCriterion>,
        charset: String,
        criteria: Vec<SearchKey>,
        /// `RETURN (...)` (ESORT, RFC 5267 §3): answered with ESEARCH.
        returns: Option<SearchReturn>,
    },
    Fetch {
        uid: bool,
        set: SequenceSet,
        items: Vec<FetchItem>,
        /// `(CHANGEDSINCE m)`: only messages whose modseq is above `m` (RFC 7162 §3.1.4).
        changed_since: Option<u64>,
        /// `(... VANISHED)` with UID FETCH: also the UIDs expunged since (RFC 7162 §3.2.6).
        vanished: bool,
    },
    Store {
        uid: bool,
        set: SequenceSet,
        mode: StoreMode,
        silent: bool,
        flags: Vec<Flag>,
        /// `(UNCHANGEDSINCE m)` (RFC 7162 §3.1.3).
        unchanged_since: Option<u64>,
    },
    Copy {
        uid: bool,
        set: SequenceSet,
        mailbox: String,
    },
    Move {
        uid: bool,
        set: SequenceSet,
        mailbox: String,
    },
    Idle,
    Namespace,
    Enable(Vec<String>),
    /// RFC 2971: the client's parameters, `None` for NIL.
    Id(Option<Vec<(String, Option<String>)>>),
    /// RFC 4314 §3.1: `SETACL mailbox identifier rights`, rights replaced, or added
    /// (`+`) or removed (`-`).
    SetAcl {
        mailbox: String,
        identifier: String,
        rights: RightsChange,
    },
    /// RFC 4314 §3.2.
    DeleteAcl {
        mailbox: String,
        identifier: String,
    },
    /// RFC 4314 §3.3.
    GetAcl(String),
    /// RFC 4314 §3.4.
    ListRights {
        mailbox: String,
        identifier: String,
    },
    /// RFC 4314 §3.5.
    MyRights(String),
    /// RFC 4978: `COMPRESS mechanism`, the mechanism upper-cased.
    Compress(String),
    /// RFC 9208 §4.1.1: a quota root's usage and limits.
    GetQuota(String),
    /// RFC 9208 §4.1.2: a mailbox's quota roots (the mailbox as given, decoded).
    GetQuotaRoot(String),
    /// RFC 9208 §4.1.3: resource names (upper-cased) and their new limits.
    SetQuota {
        root: String,
        limits: Vec<(String, u64)>,
    },
}

/// The selection and return options of LIST-EXTENDED (RFC 5258 §3), SPECIAL-USE
/// (RFC 6154 §5) and LIST-STATUS (RFC 5819).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ListOptions {
    /// Selection `SUBSCRIBED`: subscribed names only, existing or not.
    pub subscribed: bool,
    /// Selection `SPECIAL-USE`: mailboxes with a special use only.
    pub special_use: bool,
    /// Selection `RECURSIVEMATCH`: a matched name whose descendant satisfies the
    /// selection without being matched is listed with CHILDINFO.
    pub recursive_match: bool,
    /// Return `SUBSCRIBED` (implied by the selection): the `\Subscribed` attribute.
    pub return_subscribed: bool,
    /// Return `STATUS (...)`: a STATUS answer after each selectable mailbox.
    pub status: Vec<StatusItem>,
}

/// One message of an APPEND: its flags, date and content, one literal or CATENATE's
/// parts (RFC 4469) joined in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendMessage {
    pub flags: Vec<Flag>,
    pub date: Option<DateTime>,
    pub parts: Vec<AppendPart>,
}

/// A piece of an appended message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppendPart {
    /// A literal (CATENATE's `TEXT`).
    Text(Literal),
    /// CATENATE's `URL`: a message or section the user may read, as written.
    Url(String),
}

/// An APPEND literal: in the command, or spooled by the framer (see
/// [`super::framer::SPOOLED_LITERAL`]), its bytes kept by the caller in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Literal {
    Inline(Payload),
    Spooled,
}

/// The rights argument of SETACL: letters, possibly after `+` or `-`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RightsChange {
    Replace(String),
    Add(String),
    Remove(String),
}

/// A flag as written by the client: `\Seen` or a keyword.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Flag {
    Seen,
    Answered,
    Flagged,
    Deleted,
    Draft,
    /// `\Recent` may be named in SEARCH but never set.
    Recent,
    Keyword(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreMode {
    Add,
    Remove,
    Replace,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusItem {
    Messages,
    Recent,
    UidNext,
    UidValidity,
    Unseen,
    Size,
    HighestModseq,
}

/// The QRESYNC select parameter: what the client knew of the mailbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Qresync {
    pub uid_validity: u32,
    pub modseq: u64,
    /// The UIDs the client knows (`None`: all up to UIDNEXT).
    pub known_uids: Option<SequenceSet>,
    /// Sequence numbers and the UIDs the client has for them, to narrow VANISHED.
    pub seq_match: Option<(SequenceSet, SequenceSet)>,
}

/// An APPEND date-time: `"17-Jul-1996 02:44:25 -0700"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateTime {
    pub date: Date,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
    /// Offset from UTC in minutes.
    pub zone_minutes: i16,
}

/// A calendar date as SEARCH and APPEND write it (`1-Feb-1994`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date {
    pub year: u16,
    pub month: u8,
    pub day: u8,
}

/// What FETCH asks for; the macros ALL, FAST and FULL arrive expanded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchItem {
    Envelope,
    Flags,
    InternalDate,
    Rfc822,
    Rfc822Header,
    Rfc822Text,
    Rfc822Size,
    /// `BODY` without a section: the structure without extension data.
    Body,
    BodyStructure,
    Uid,
    /// `MODSEQ` (RFC 7162 §3.1.4).
    Modseq,
    Section {
        peek: bool,
        section: Section,
        /// `<offset.length>`
        partial: Option<(u32, u32)>,
    },
    /// `BINARY[1.2]<offset.length>` and `BINARY.PEEK` (RFC 3516): a part with its
    /// Content-Transfer-Encoding undone; no part is the whole message.
    Binary {
        peek: bool,
        part: Vec<u32>,
        partial: Option<(u32, u32)>,
    },
    /// `BINARY.SIZE[1.2]`: the size of what BINARY gives.
    BinarySize {
        part: Vec<u32>,
    },
}

impl FetchItem {
    /// Whether fetching this marks the message \Seen (RFC 3501 §6.4.5).
    pub fn sets_seen(&self) -> bool {
        matches!(
            self,
            FetchItem::Rfc822
                | FetchItem::Rfc822Text
                | FetchItem::Section { peek: false, .. }
                | FetchItem::Binary { peek: false, .. }
        )
    }
}

/// `BODY[1.2.HEADER.FIELDS (From To)]`: a part path and what of it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Section {
    pub part: Vec<u32>,
    pub text: Option<SectionText>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SectionText {
    Header,
    HeaderFields { not: bool, fields: Vec<String> },
    Text,
    Mime,
}

/// How THREAD groups messages (RFC 5256 §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThreadAlgorithm {
    /// By base subject, each thread in sent-date order under its first message.
    OrderedSubject,
    /// By References and In-Reply-To, then by base subject.
    References,
}

/// One key of a SORT program (RFC 5256 §3), possibly reversed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SortCriterion {
    pub reverse: bool,
    pub key: SortKey,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    Arrival,
    Cc,
    Date,
    From,
    /// RFC 5957: the display name of the first From address, else its address.
    DisplayFrom,
    /// RFC 5957: likewise of the first To address.
    DisplayTo,
    Size,
    Subject,
    To,
}

/// A SEARCH key (RFC 3501 §6.4.4); a list of keys means all of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SearchKey {
    All,
    Flag(Flag),
    NotFlag(Flag),
    New,
    Old,
    Header(String, String),
    Body(String),
    Text(String),
    Before(Date),
    On(Date),
    Since(Date),
    SentBefore(Date),
    SentOn(Date),
    SentSince(Date),
    Larger(u32),
    Smaller(u32),
    /// RFC 5032: an internal date at least this many seconds ago.
    Older(u32),
    /// RFC 5032: an internal date less than this many seconds ago.
    Younger(u32),
    Uid(SequenceSet),
    Sequence(SequenceSet),
    /// `MODSEQ [entry type] n`: modseq at least `n` (RFC 7162 §3.1.5).
    Modseq(u64),
    Not(Box<SearchKey>),
    Or(Box<SearchKey>, Box<SearchKey>),
    And(Vec<SearchKey>),
}
