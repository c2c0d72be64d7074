//! Validated values that callers hand to the store: names are checked once, here, and
//! the rest of the store trusts them. Mailbox names are names, never paths: the store
//! keys them, so `..` or `/` cannot reach anything outside the owner's own mailboxes.

use serde::{Deserialize, Serialize};
use std::fmt;

/// An account name: lower-case ASCII letters, digits and `. _ - @ +`, starting with a
/// letter or digit, at most 64 bytes. Names are case-insensitive: input is lower-cased.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Username(String);

impl Username {
    pub const MAX_LEN: usize = 64;

    pub fn parse(input: &str) -> Result<Self, &'static str> {
        let name = input.to_ascii_lowercase();
        if name.is_empty() || name.len() > Self::MAX_LEN {
            return Err("a user name has 1 to 64 characters");
        }
        if !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
            return Err("a user name starts with a letter or a digit");
        }
        if !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@' | '+'))
        {
            return Err("a user name has only letters, digits and . _ - @ +");
        }
        Ok(Username(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A mailbox name in the owner's personal namespace, `/`-separated, in UTF-8 (the IMAP
/// layer converts from modified UTF-7). `INBOX` is case-insensitive and kept upper-case,
/// also as the first component of a longer name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct MailboxName(String);

impl MailboxName {
    pub const DELIMITER: char = '/';
    pub const MAX_LEN: usize = 1000;
    /// Deeper hierarchies are refused, as in Dovecot (which allows 16 levels by default).
    pub const MAX_DEPTH: usize = 64;

    pub fn inbox() -> Self {
        MailboxName("INBOX".to_owned())
    }

    pub fn parse(input: &str) -> Result<Self, &'static str> {
        if input.is_empty() {
            return Err("a mailbox name cannot be empty");
        }
        if input.len() > Self::MAX_LEN {
            return Err("a mailbox name has at most 1000 bytes");
        }
        if input.chars().any(|c| c.is_control()) {
            return Err("a mailbox name cannot contain control characters");
        }
        if input.contains(['*', '%']) {
            return Err("a mailbox name cannot contain the wildcards * and %");
        }
        let parts: Vec<&str> = input.split(Self::DELIMITER).collect();
        if parts.len() > Self::MAX_DEPTH {
            return Err("a mailbox name has at most 64 levels");
        }
        if parts.iter().any(|p| p.is_empty()) {
            return Err(
                "a mailbox name cannot have an empty level (leading, trailing or double /)",
            );
        }
        if parts.iter().any(|p| *p == "." || *p == "..") {
            return Err("a mailbox name cannot have . or .. as a level");
        }
        if parts[0].starts_with('#') {
            return Err("a personal mailbox name cannot start with # (namespace prefix)");
        }
        let mut name = String::with_capacity(input.len());
        for (i, part) in parts.iter().enumerate() {
            if i > 0 {
                name.push(Self::DELIMITER);
            }
            if i == 0 && part.eq_ignore_ascii_case("INBOX") {
                name.push_str("INBOX");
            } else {
                name.push_str(part);
            }
        }
        Ok(MailboxName(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_inbox(&self) -> bool {
        self.0 == "INBOX"
    }

    /// The names of every ancestor, outermost first (`a/b/c` → `a`, `a/b`).
    pub fn ancestors(&self) -> Vec<MailboxName> {
        self.0
            .match_indices(Self::DELIMITER)
            .map(|(i, _)| MailboxName(self.0[..i].to_owned()))
            .collect()
    }

    /// True when `self` lies strictly below `parent`.
    pub fn is_below(&self, parent: &MailboxName) -> bool {
        self.0.len() > parent.0.len()
            && self.0.starts_with(&parent.0)
            && self.0[parent.0.len()..].starts_with(Self::DELIMITER)
    }

    /// `self` with its `old` prefix replaced by `new` (for renaming a subtree).
    pub(crate) fn reparent(&self, old: &MailboxName, new: &MailboxName) -> MailboxName {
        MailboxName(format!("{}{}", new.0, &self.0[old.0.len()..]))
    }
}

impl fmt::Display for MailboxName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A mailbox's permanent identity; a renamed mailbox keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct MailboxId(pub u64);

/// The identity of one stored message body, shared by every copy of the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct BlobId(pub u64);

/// The five system flags that persist (RFC 3501 §2.3.2; \Recent is per session).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash, Serialize, Deserialize)]
pub struct SystemFlags(u8);

impl SystemFlags {
    pub const SEEN: SystemFlags = SystemFlags(1);
    pub const ANSWERED: SystemFlags = SystemFlags(2);
    pub const FLAGGED: SystemFlags = SystemFlags(4);
    pub const DELETED: SystemFlags = SystemFlags(8);
    pub const DRAFT: SystemFlags = SystemFlags(16);
    /// Every flag with its IMAP spelling, in the order IMAP lists them.
    pub const ALL: [(SystemFlags, &'static str); 5] = [
        (Self::ANSWERED, "\\Answered"),
        (Self::FLAGGED, "\\Flagged"),
        (Self::DELETED, "\\Deleted"),
        (Self::SEEN, "\\Seen"),
        (Self::DRAFT, "\\Draft"),
    ];

    pub const fn empty() -> Self {
        SystemFlags(0)
    }
    pub const fn contains(self, other: SystemFlags) -> bool {
        self.0 & other.0 == other.0
    }
    pub const fn union(self, other: SystemFlags) -> Self {
        SystemFlags(self.0 | other.0)
    }
    pub const fn difference(self, other: SystemFlags) -> Self {
        SystemFlags(self.0 & !other.0)
    }
    pub fn insert(&mut self, other: SystemFlags) {
        self.0 |= other.0;
    }
    /// The flag named `name` (`\Seen`, case-insensitive), if it is a system flag.
    pub fn from_name(name: &str) -> Option<SystemFlags> {
        Self::ALL
            .iter()
            .find(|(_, n)| n.eq_ignore_ascii_case(name))
            .map(|(f, _)| *f)
    }
}

/// A message's flags: system flags plus keywords (kept sorted, without duplicates).
#[derive(Debug, Clone, PartialEq, Eq, Default, Hash, Serialize, Deserialize)]
pub struct Flags {
    pub system: SystemFlags,
    keywords: Vec<String>,
}

impl Flags {
    pub fn new(system: SystemFlags, keywords: impl IntoIterator<Item = String>) -> Self {
        let mut flags = Flags {
            system,
            keywords: Vec::new(),
        };
        for k in keywords {
            flags.add_keyword(k);
        }
        flags
    }

    pub fn keywords(&self) -> &[String] {
        &self.keywords
    }

    pub fn add_keyword(&mut self, keyword: String) {
        if let Err(at) = self.keywords.binary_search(&keyword) {
            self.keywords.insert(at, keyword);
        }
    }

    pub fn remove_keyword(&mut self, keyword: &str) {
        self.keywords.retain(|k| k != keyword);
    }

    pub fn is_seen(&self) -> bool {
        self.system.contains(SystemFlags::SEEN)
    }

    pub fn is_deleted(&self) -> bool {
        self.system.contains(SystemFlags::DELETED)
    }

    /// These flags with \Seen set or cleared.
    pub fn with_seen(mut self, seen: bool) -> Flags {
        self.system = if seen {
            self.system.union(SystemFlags::SEEN)
        } else {
            self.system.difference(SystemFlags::SEEN)
        };
        self
    }
}

/// The moment a message arrived, to the second, with the zone it was given in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct InternalDate {
    /// Seconds since 1970-01-01T00:00:00Z.
    pub unix_seconds: i64,
    /// The zone's offset east of UTC, in minutes (−720 … +840).
    pub offset_minutes: i16,
}

impl InternalDate {
    pub fn now() -> Self {
        let unix_seconds = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        InternalDate {
            unix_seconds,
            offset_minutes: 0,
        }
    }
}

/// A mailbox's special use (RFC 6154).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SpecialUse {
    All,
    Archive,
    Drafts,
    Flagged,
    Junk,
    Sent,
    Trash,
}

impl SpecialUse {
    /// The attribute as LIST shows it.
    pub fn attribute(self) -> &'static str {
        match self {
            SpecialUse::All => "\\All",
            SpecialUse::Archive => "\\Archive",
            SpecialUse::Drafts => "\\Drafts",
            SpecialUse::Flagged => "\\Flagged",
            SpecialUse::Junk => "\\Junk",
            SpecialUse::Sent => "\\Sent",
            SpecialUse::Trash => "\\Trash",
        }
    }

    /// The special use an attribute names (any case), as CREATE's USE parameter gives it.
    pub fn from_attribute(attribute: &str) -> Option<Self> {
        [
            SpecialUse::All,
            SpecialUse::Archive,
            SpecialUse::Drafts,
            SpecialUse::Flagged,
            SpecialUse::Junk,
            SpecialUse::Sent,
            SpecialUse::Trash,
        ]
        .into_iter()
        .find(|u| u.attribute().eq_ignore_ascii_case(attribute))
    }
}

/// RFC 4314 access rights, as a set of the letters `lrswipkxtea`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Hash, Serialize, Deserialize,
)]
pub struct Rights(u16);

impl Rights {
    pub const LETTERS: &'static str = "lrswipkxtea";

    /// Every right: what an owner has on their own mailboxes.
    pub fn all() -> Self {
        Rights((1 << Self::LETTERS.len()) - 1)
    }

    /// Parses letters such as `lrs`. The obsolete RFC 2086 `c` and `d` are accepted as
    /// RFC 4314 §2.1.1 says (`c` → `k`, `d` → `xte`).
    pub fn parse(letters: &str) -> Result<Self, char> {
        let mut bits = 0u16;
        for c in letters.chars() {
            bits |= match c {
                'c' => Self::bit('k'),
                'd' => Self::bit('x') | Self::bit('t') | Self::bit('e'),
                _ if Self::LETTERS.contains(c) => Self::bit(c),
                _ => return Err(c),
            };
        }
        Ok(Rights(bits))
    }

    fn bit(right: char) -> u16 {
        Self::LETTERS.find(right).map_or(0, |i| 1 << i)
    }

    pub fn contains(self, right: char) -> bool {
        let bit = Self::bit(right);
        bit != 0 && self.0 & bit != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// These rights and `other`'s.
    pub fn with(self, other: Rights) -> Self {
        Rights(self.0 | other.0)
    }

    /// These rights but `other`'s.
    pub fn without(self, other: Rights) -> Self {
        Rights(self.0 & !other.0)
    }

    /// Whether any of the rights named by `letters` is here.
    pub fn any_of(self, letters: &str) -> bool {
        letters.chars().any(|c| self.contains(c))
    }
}

impl fmt::Display for Rights {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in Self::LETTERS.chars().filter(|c| self.contains(*c)) {
            write!(f, "{c}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_lower_cased_and_checked() {
        assert_eq!(Username::parse("Karen").unwrap().as_str(), "karen");
        assert!(Username::parse("").is_err());
        assert!(Username::parse("../etc").is_err());
        assert!(Username::parse("a/b").is_err());
        assert!(Username::parse(&"x".repeat(65)).is_err());
        assert_eq!(
            Username::parse("j.doe+x@ex.org").unwrap().as_str(),
            "j.doe+x@ex.org"
        );
    }

    #[test]
    fn mailbox_names_normalise_inbox_and_refuse_paths() {
        assert_eq!(MailboxName::parse("inbox").unwrap().as_str(), "INBOX");
        assert_eq!(
            MailboxName::parse("iNbOx/Sub").unwrap().as_str(),
            "INBOX/Sub"
        );
        assert_eq!(MailboxName::parse("Inboxes").unwrap().as_str(), "Inboxes");
        for bad in [
            "", "/a", "a/", "a//b", "a/../b", "..", "a\0b", "a*", "%", "#users/x", "a\nb",
        ] {
            assert!(
                MailboxName::parse(bad).is_err(),
                "{bad:?} should be refused"
            );
        }
        assert!(MailboxName::parse("a/".repeat(64).trim_end_matches('/')).is_ok());
        assert!(MailboxName::parse("a/".repeat(65).trim_end_matches('/')).is_err());
    }

    #[test]
    fn mailbox_hierarchy_helpers() {
        let n = MailboxName::parse("a/b/c").unwrap();
        let names: Vec<String> = n.ancestors().iter().map(|a| a.to_string()).collect();
        assert_eq!(names, ["a", "a/b"]);
        assert!(n.is_below(&MailboxName::parse("a").unwrap()));
        assert!(!MailboxName::parse("ab")
            .unwrap()
            .is_below(&MailboxName::parse("a").unwrap()));
    }

    #[test]
    fn rights_parse_and_print_in_canonical_order() {
        assert_eq!(Rights::parse("srl").unwrap().to_string(), "lrs");
        assert_eq!(Rights::parse("cd").unwrap().to_string(), "kxte");
        assert_eq!(Rights::parse("lz"), Err('z'));
        assert_eq!(Rights::all().to_string(), Rights::LETTERS);
    }

    #[test]
    fn keywords_stay_sorted_and_unique() {
        let f = Flags::new(SystemFlags::SEEN, ["b".into(), "a".into(), "b".into()]);
        assert_eq!(f.keywords(), ["a", "b"]);
        assert!(f.is_seen());
    }
}
