//! The answer to LIST and LSUB: which names match (RFC 3501 §6.3.8–9), what the
//! selection options of LIST-EXTENDED (RFC 5258 §3) and SPECIAL-USE (RFC 6154 §5)
//! keep, the attributes of each name (`\Noselect`, `\NonExistent`, `\HasChildren`,
//! `\Subscribed`, the special uses), RECURSIVEMATCH's CHILDINFO, and the STATUS
//! return option (RFC 5819) answered by [`super::status`] like the STATUS command.
//!
//! The names are the user's mailboxes, the mailboxes shared with them and their
//! virtual parents (see [`super::namespace`]), and with the SUBSCRIBED selection (and
//! LSUB) the subscribed names that have no mailbox. Shared mailboxes and virtual
//! parents count as subscribed. Special uses are shown only on the user's own
//! mailboxes: another user's Sent is not theirs.

use super::namespace::{self, Located};
use super::status;
use mailhive_protocol::imap::command::ListOptions;
use mailhive_protocol::imap::response;
use mailhive_store::{Rights, SpecialUse, Store, StoreError, Username};
use std::collections::BTreeSet;

/// What LIST or LSUB asked for.
#[derive(Debug)]
pub struct ListRequest {
    pub reference: String,
    pub patterns: Vec<String>,
    pub options: ListOptions,
    pub lsub: bool,
}

impl ListRequest {
    /// `LSUB reference pattern`: the subscribed names.
    pub fn lsub(reference: String, pattern: String) -> Self {
        ListRequest {
            reference,
            patterns: vec![pattern],
            options: ListOptions {
                subscribed: true,
                ..ListOptions::default()
            },
            lsub: true,
        }
    }
}

/// One name LIST may answer with.
struct Entry {
    display: String,
    kind: Kind,
    subscribed: bool,
}

/// What a listed name is.
enum Kind {
    Mailbox(Located),
    /// A virtual parent of shared mailboxes.
    VirtualParent,
    /// No such mailbox: a subscribed name whose mailbox is gone (LSUB lists it, and
    /// LIST with the SUBSCRIBED selection as `\NonExistent`), or the parent of one that
    /// RECURSIVEMATCH lists.
    Missing,
    /// LSUB with `%`: the parent of a subscribed name, not subscribed itself, listed
    /// `\Noselect` (RFC 3501 §6.3.9).
    UnsubscribedParent,
}

impl Entry {
    /// The special use of the user's own mailbox.
    fn special_use(&self) -> Option<SpecialUse> {
        match &self.kind {
            Kind::Mailbox(m) if !m.shared => m.info.special_use,
            _ => None,
        }
    }
}

/// The LIST or LSUB lines, and the tagged text.
pub fn answer(
    store: &Store,
    user: &Username,
    request: &ListRequest,
    fake: bool,
) -> Result<(Vec<u8>, &'static str), StoreError> {
    let (word, done) = match request.lsub {
        true => ("LSUB", "LSUB completed"),
        false => ("LIST", "LIST completed"),
    };
    let mut out = Vec::new();
    if request.patterns.len() == 1 && request.patterns[0].is_empty() && !request.lsub {
        // The hierarchy delimiter and root (RFC 3501 §6.3.8).
        out.extend_from_slice(b"* LIST (\\Noselect) \"/\" \"\"\r\n");
        return Ok((out, done));
    }
    let options = &request.options;
    let mut entries = candidates(store, user, options.subscribed)?;
    let patterns: Vec<String> = request
        .patterns
        .iter()
        .map(|p| format!("{}{p}", request.reference))
        .collect();
    let matched = |name: &str| patterns.iter().any(|p| matches(p, name));
    let selected = |entry: &Entry| {
        (!options.subscribed || entry.subscribed)
            && (!options.special_use || entry.special_use().is_some())
    };
    let with_child_info = match options.recursive_match && options.subscribed {
        true => child_info(&entries, &matched, &selected),
        false => BTreeSet::new(),
    };
    // A name with CHILDINFO that is not there at all is listed `\NonExistent`.
    let known: BTreeSet<String> = entries.iter().map(|e| e.display.clone()).collect();
    entries.extend(
        with_child_info
            .iter()
            .filter(|name| !known.contains(*name))
            .map(|name| Entry {
                display: name.clone(),
                kind: Kind::Missing,
                subscribed: false,
            }),
    );
    // What \HasChildren looks at: names that are there.
    let names: BTreeSet<&str> = entries
        .iter()
        .filter(|e| !matches!(e.kind, Kind::Missing))
        .map(|e| e.display.as_str())
        .collect();
    let parents = match request.lsub {
        true => unsubscribed_parents(&entries, &patterns),
        false => Vec::new(),
    };
    let mut listed: Vec<&Entry> = entries
        .iter()
        .filter(|e| with_child_info.contains(&e.display) || (matched(&e.display) && selected(e)))
        .chain(&parents)
        .collect();
    // INBOX first, then by name.
    listed.sort_by_key(|e| (e.display != "INBOX", e.display.clone()));
    for entry in listed {
        let attributes = attributes(entry, &names, request, fake);
        out.extend_from_slice(format!("* {word} ({}) \"/\" ", attributes.join(" ")).as_bytes());
        response::mailbox(&mut out, &entry.display);
        if with_child_info.contains(&entry.display) {
            out.extend_from_slice(b" (\"CHILDINFO\" (\"SUBSCRIBED\"))");
        }
        out.extend_from_slice(b"\r\n");
        if !options.status.is_empty() {
            status_after(store, user, entry, request, fake, &mut out)?;
        }
    }
    Ok((out, done))
}

/// RECURSIVEMATCH: the matched names below which something is selected that no
/// pattern matches (RFC 5258 §3.5; CHILDINFO is defined for SUBSCRIBED only), whether
/// they are there or not.
fn child_info(
    entries: &[Entry],
    matched: &impl Fn(&str) -> bool,
    selected: &impl Fn(&Entry) -> bool,
) -> BTreeSet<String> {
    entries
        .iter()
        .filter(|e| selected(e) && !matched(&e.display))
        .flat_map(|e| ancestors(&e.display))
        .filter(|name| matched(name))
        .map(str::to_owned)
        .collect()
}

/// LIST-STATUS: the STATUS answer after a listed name, when it is a mailbox the user
/// may read (or, with FakeInaccessibleMailboxes, a virtual parent).
fn status_after(
    store: &Store,
    user: &Username,
    entry: &Entry,
    request: &ListRequest,
    fake: bool,
    out: &mut Vec<u8>,
) -> Result<(), StoreError> {
    let items = &request.options.status;
    match &entry.kind {
        Kind::Mailbox(located) if located.rights.contains('r') => {
            out.extend(status::mailbox_status(store, user, located, items)?);
        }
        Kind::VirtualParent if fake => {
            out.extend(status::virtual_status(&entry.display, user, items));
        }
        _ => {}
    }
    Ok(())
}

/// The attributes of a listed name.
fn attributes(
    entry: &Entry,
    names: &BTreeSet<&str>,
    request: &ListRequest,
    fake: bool,
) -> Vec<&'static str> {
    let mut attributes = Vec::new();
    match entry.kind {
        Kind::VirtualParent if !fake => attributes.push("\\Noselect"),
        Kind::UnsubscribedParent => attributes.push("\\Noselect"),
        // `\NonExistent` implies `\Noselect` (RFC 5258 §3.4); LSUB keeps RFC 3501's
        // answer.
        Kind::Missing if !request.lsub => attributes.push("\\NonExistent"),
        _ => {}
    }
    if !matches!(entry.kind, Kind::Missing | Kind::UnsubscribedParent) {
        let prefix = format!("{}/", entry.display);
        let has_children = names
            .range(prefix.as_str()..)
            .next()
            .is_some_and(|n| n.starts_with(&prefix));
        attributes.push(if has_children {
            "\\HasChildren"
        } else {
            "\\HasNoChildren"
        });
    }
    if let Some(special) = entry.special_use() {
        attributes.push(special.attribute());
    }
    if request.options.return_subscribed && !request.lsub && entry.subscribed {
        attributes.push("\\Subscribed");
    }
    attributes
}

/// The names above `name`, nearest last: `a`, `a/b` for `a/b/c`.
fn ancestors(name: &str) -> impl Iterator<Item = &str> {
    name.match_indices('/')
        .map(move |(slash, _)| &name[..slash])
}

/// Every name the user may see: their mailboxes, the shared ones and their virtual
/// parents, and with `missing` the subscribed names that have no mailbox.
fn candidates(store: &Store, user: &Username, missing: bool) -> Result<Vec<Entry>, StoreError> {
    let mut subscribed: BTreeSet<String> = store
        .subscriptions(user)?
        .into_iter()
        .map(|n| n.as_str().to_owned())
        .collect();
    let mut entries = Vec::new();
    for info in store.mailboxes(user)? {
        let display = info.name.to_string();
        entries.push(Entry {
            subscribed: subscribed.remove(&display),
            kind: Kind::Mailbox(Located {
                display: display.clone(),
                rights: Rights::all(),
                shared: false,
                info,
            }),
            display,
        });
    }
    if missing {
        entries.extend(subscribed.into_iter().map(|display| Entry {
            display,
            kind: Kind::Missing,
            subscribed: true,
        }));
    }
    let shared = namespace::shared(store, user)?;
    for parent in namespace::virtual_parents(&shared) {
        entries.push(Entry {
            display: parent,
            kind: Kind::VirtualParent,
            subscribed: true,
        });
    }
    entries.extend(shared.into_iter().map(|located| Entry {
        display: located.display.clone(),
        kind: Kind::Mailbox(located),
        subscribed: true,
    }));
    Ok(entries)
}

/// For LSUB: the parents of subscribed names that a pattern with `%` matches where the
/// name itself is not matched (the `%` stopped at the parent), and that are not
/// subscribed themselves.
fn unsubscribed_parents(entries: &[Entry], patterns: &[String]) -> Vec<Entry> {
    let subscribed: BTreeSet<&str> = entries
        .iter()
        .filter(|e| e.subscribed)
        .map(|e| e.display.as_str())
        .collect();
    let mut parents = BTreeSet::new();
    for name in &subscribed {
        for parent in ancestors(name) {
            let stops_here =
                |p: &String| p.contains('%') && !matches(p, name) && matches(p, parent);
            if !subscribed.contains(parent) && patterns.iter().any(stops_here) {
                parents.insert(parent.to_owned());
            }
        }
    }
    parents
        .into_iter()
        .map(|display| Entry {
            display,
            kind: Kind::UnsubscribedParent,
            subscribed: false,
        })
        .collect()
}

/// LIST pattern matching: `*` matches anything, `%` anything but the delimiter; a
/// leading INBOX matches in any case.
pub fn matches(pattern: &str, name: &str) -> bool {
    let pattern = match pattern.get(..5) {
        Some(head) if head.eq_ignore_ascii_case("INBOX") && name.starts_with("INBOX") => {
            format!("INBOX{}", &pattern[5..])
        }
        _ => pattern.to_owned(),
    };
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    // can[j]: the pattern so far matches the first j characters of the name.
    let mut can = vec![false; n.len() + 1];
    can[0] = true;
    for &c in &p {
        let mut next = vec![false; n.len() + 1];
        match c {
            '*' | '%' => {
                for j in 0..=n.len() {
                    next[j] = can[j] || (j > 0 && next[j - 1] && (c == '*' || n[j - 1] != '/'));
                }
            }
            _ => {
                for j in 1..=n.len() {
                    next[j] = can[j - 1] && n[j - 1] == c;
                }
            }
        }
        can = next;
    }
    can[n.len()]
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn list_wildcards() {
        assert!(matches("*", "a/b/c"));
        assert!(matches("%", "Sent"));
        assert!(!matches("%", "a/b"));
        assert!(matches("a/%", "a/b"));
        assert!(matches("inbox", "INBOX"));
        assert!(matches("%/c", "b/c"));
        assert!(!matches("a*x", "a/b"));
        assert!(matches("*b*", "a/b/c"));
    }
}
